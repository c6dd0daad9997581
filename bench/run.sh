#!/bin/sh
# make bench: every benchmark, side by side with the reference tools.
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
export SIGNGATE_BUILD=$BUILD SIGNGATE=$BUILD/signgate SG_TOP=$top
status=0
for b in check scan sign log; do
	[ -f "$top/bench/$b.sh" ] || continue
	echo "== bench/$b.sh"
	sh "$top/bench/$b.sh" "$BUILD" || status=1
done
exit $status
