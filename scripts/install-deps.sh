#!/bin/sh
# Install the Debian packages that building and testing signgate need,
# only those that are missing. Runs as root on a fresh Debian 12 machine.
# With arguments: install those packages instead (scripts/install-fuzz-deps.sh).
set -eu
default_pkgs="build-essential pkg-config git libgit2-dev libgpgme-dev libssl-dev openssl
libcurl4-openssl-dev libclamav-dev clamav-daemon clamdscan clamav libp11-dev libcmocka-dev libjansson-dev
softhsm2 opensc gnupg gpg-agent gpgsm jq python3 python3-yaml python3-securesystemslib cmake clang time valgrind strace curl"
pkgs=${*:-$default_pkgs}
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "signgate: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "signgate: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
