#!/bin/sh
# Run each libFuzzer target for a bounded time (called by `make fuzz`).
#   tests/fuzz/run.sh BUILD SECONDS TARGET...
# Each target starts from its kept corpus (tests/fuzz/corpus/<t>/) plus the
# regression inputs (tests/fuzz/regressions/<t>/), works in
# BUILD/fuzz-work/<t>/ (the tree's corpus is not touched unless
# FUZZ_MERGE=1, which merges new coverage back, minimised), and any crash,
# leak, timeout or OOM input is copied to tests/fuzz/regressions/<t>/ so that
# `make check` (tests/unit/test_fuzz_regressions.c) replays it from then on.
# Prints one line per target: executions and findings; exits 1 on a finding.
set -u
BUILD=$1 SECS=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
export SG_TOP=$top
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
total=0 bad=0 summary=""
for t in "$@"; do
	bin=$BUILD/fuzz/fuzz_$t work=$BUILD/fuzz-work/$t
	rm -rf "$work" && mkdir -p "$work/corpus" "$work/findings"
	for d in "$top/tests/fuzz/corpus/$t" "$top/tests/fuzz/regressions/$t"; do
		[ -d "$d" ] && cp "$d"/* "$work/corpus/" 2>/dev/null
	done
	echo "fuzz $t: ${SECS}s from $(ls "$work/corpus" | wc -l) inputs"
	"$bin" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2560 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$work/findings/" "$work/corpus" >"$work/log" 2>&1
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
	[ -n "$execs" ] || execs=$(grep -o '#[0-9]*' "$work/log" | tail -1 | tr -d '#')
	n=0
	for f in "$work/findings"/*; do
		[ -f "$f" ] || continue
		mkdir -p "$top/tests/fuzz/regressions/$t"
		cp "$f" "$top/tests/fuzz/regressions/$t/"
		echo "  finding: tests/fuzz/regressions/$t/$(basename "$f")"
		n=$((n + 1))
	done
	if [ "$st" -ne 0 ] && [ "$n" -eq 0 ]; then n=1; echo "  fuzzer exited $st without an artifact; see $work/log"; fi
	[ "$n" -gt 0 ] && { bad=$((bad + n)); grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*invariant broken)' "$work/log" | head -5 | sed 's/^/  /'; }
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		mkdir -p "$top/tests/fuzz/corpus/$t"
		"$bin" -merge=1 -max_len=65536 "$top/tests/fuzz/corpus/$t" "$work/corpus" >>"$work/log" 2>&1
	fi
	line="fuzz $t: ${execs:-?} executions in ${SECS}s, $n findings"
	echo "$line"
	summary="$summary$line
"
	total=$((total + ${execs:-0}))
done
printf '%s' "$summary"
echo "fuzz: $# targets, $total executions, $bad findings"
[ "$bad" -eq 0 ]
