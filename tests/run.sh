#!/bin/sh
# Run the unit tests (cmocka) and the end-to-end tests (tests/e2e/t*.sh)
# against the build in $1; print one closing line "N passed, N failed".
# SG_ONLY=unit|e2e restricts; SG_TESTS='t00*' picks e2e scripts by glob.
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
export SIGNGATE_BUILD=$BUILD SIGNGATE=$BUILD/signgate SG_TOP=$top
pass=0 fail=0 failed=""
log=$(mktemp -d /tmp/sgrun.XXXXXX)
if [ "${SG_ONLY:-}" != e2e ]; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		n=$(basename "$t")
		if "$t" >"$log/$n.out" 2>&1; then
			pass=$((pass + 1)); echo "ok   unit/$n"
		else
			fail=$((fail + 1)); failed="$failed unit/$n"; echo "FAIL unit/$n"; sed 's/^/    /' "$log/$n.out" | tail -40
		fi
	done
fi
if [ "${SG_ONLY:-}" != unit ]; then
	for t in "$top"/tests/e2e/${SG_TESTS:-t*}.sh; do
		[ -f "$t" ] || continue
		n=$(basename "$t" .sh)
		if sh "$t" >"$log/$n.out" 2>&1; then
			pass=$((pass + 1)); echo "ok   e2e/$n ($(grep -c '^ok ' "$log/$n.out") checks)"
		else
			fail=$((fail + 1)); failed="$failed e2e/$n"; echo "FAIL e2e/$n"; sed 's/^/    /' "$log/$n.out" | tail -40
		fi
	done
fi
rm -rf "$log"
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
