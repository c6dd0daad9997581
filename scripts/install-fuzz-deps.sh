#!/bin/sh
# The extra Debian packages `make fuzz` needs (not `make check`): clang and
# its libFuzzer/sanitizer runtime (a Recommends of clang, which
# install-deps.sh does not pull in). Installs only what is missing.
set -eu
pkgs="clang libclang-rt-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "signgate: make fuzz needs:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "signgate: installing for make fuzz:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
