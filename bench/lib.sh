# Shared benchmark helpers (sourced). Timings are wall-clock, best of N,
# with commands run side by side on the same inputs.
now() { date +%s.%N; }
# best_of N CMD...: print the best wall time in seconds
best_of() {
	_n=$1; shift; _best=""
	for _i in $(seq "$_n"); do
		_s=$(now); "$@" >/dev/null 2>&1 || { echo "bench: command failed: $*" >&2; echo 0; return 1; }; _e=$(now)
		_best=$(awk -v a="$_best" -v s="$_s" -v e="$_e" 'BEGIN { t = e - s; if (a == "" || t < a) a = t; printf "%.3f", a }')
	done
	echo "$_best"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
# peak_rss_mib CMD...: maximum resident set of the command, in MiB
peak_rss_mib() {
	/usr/bin/time -f '%M' -o "$BENCH_TMP/rss" "$@" >/dev/null 2>&1
	awk '{ printf "%.1f", $1 / 1024 }' "$BENCH_TMP/rss"
}
row() { printf '%-46s %10s %10s %8s  %s\n' "$@"; }
# verdict VALUE le|ge GOAL: "met" or "MISSED" (VALUE may end in x)
verdict() { awk -v v="${1%x}" -v op="$2" -v g="$3" 'BEGIN {
	ok = (op == "le") ? (v + 0 <= g + 0) : (v + 0 >= g + 0); print ok ? "met" : "MISSED" }'; }
