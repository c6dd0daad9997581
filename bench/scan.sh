#!/bin/sh
# bench/scan.sh [BUILD]
# Part 1: scan+hash against scanning alone, and hashing against
# `openssl dgst -sha256`, on one 1 GiB file in the page cache.
#   SG_BENCH_RUNS=N   runs per mode, interleaved (default 3); best and median shown
#   SG_BENCH_DB=DIR   ClamAV database (default: the test database of tests/lib/clamdb.sh)
#   SG_BENCH_FILE=F   the 1 GiB file (default /tmp/sg-bench-1g, made once from /dev/urandom)
# Goals (issue 3): scan+hash <= 1.05 x scan-only; peak RSS <= 64 MiB.
# Where the difference goes (measured, issue 13): SHA-256 of 1 GiB is
# ~0.8 s of CPU (SHA-NI) against ~13-16 s of CPU for the scan; on an idle
# second core it costs no wall time, on a machine whose cores are all busy
# it cannot hide (hence the CPU ratio beside the wall one). The rest was
# page faults: dropping the whole mapping 50 times a second made the
# scanner fault its window in again (3.2 x the page faults, +0.35 s of
# system time per GiB); drops now follow the resident set's growth.
# libclamav's clean-file cache (an MD5 pass over the whole file) is off
# in src/scan and in the baseline alike.
# Part 2 (bench/scan-large.sh, issue 13): a ClamAV-size database, clamd and
# the in-process engine side by side with clamdscan and clamscan.
#   SG_BENCH_SCAN=small|large|all   which parts (default all)
set -u
case ${SG_BENCH_SCAN:-all} in
small|all) ;;
large) exec sh "$(dirname "$0")/scan-large.sh" "$@" ;;
*) echo "bench/scan.sh: SG_BENCH_SCAN is small, large or all" >&2; exit 2 ;;
esac
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
tool=$BUILD/tools/scanbench
[ -x "$tool" ] || { echo "bench/scan.sh: build $tool first (make $BUILD/tools/scanbench)" >&2; exit 1; }
runs=${SG_BENCH_RUNS:-3}
file=${SG_BENCH_FILE:-/tmp/sg-bench-1g}
size=1073741824
if [ ! -f "$file" ] || [ "$(wc -c <"$file" | tr -d ' ')" != $size ]; then
	echo "making $file (1 GiB of random bytes)..."
	head -c $size /dev/urandom >"$file.tmp" && mv "$file.tmp" "$file" || exit 1
fi
work=$(mktemp -d /tmp/sgbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -n "${SG_BENCH_DB:-}" ]; then
	db=$SG_BENCH_DB
else
	. "$top/tests/lib/clamdb.sh"
	sg_make_clamdb "$work/db" || exit 1
	db=$work/db
fi
cat "$file" >/dev/null   # into the page cache
now() { date +%s.%N; }
echo "file $file, database $db, $runs runs per mode, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ $i -lt "$runs" ]; do
	for m in scan-only scan+hash hash-only; do
		"$tool" "$m" "$db" "$file" >>"$work/$m.out" || exit 1
	done
	t0=$(now); openssl dgst -sha256 "$file" >/dev/null; t1=$(now)
	echo "openssl seconds=$(echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}')" >>"$work/openssl.out"
	i=$((i + 1))
done
# stats MODE -> "best median maxrss bestcpu"
stats() {
	sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$work/$1.out" | sort -n |
	awk '{v[NR]=$1} END {m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%.3f %.3f", v[1], m}'
	rss=$(sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p' "$work/$1.out" | sort -n | tail -1)
	cpu=$(sed -n 's/.* cpu=\([0-9.]*\).*/\1/p' "$work/$1.out" | sort -n | head -1)
	echo " ${rss:-0} ${cpu:--}"
}
printf '%-10s %8s %8s %8s %10s\n' mode best median cpu peakRSS
for m in scan-only scan+hash hash-only openssl; do
	set -- $(stats $m)
	eval "best_$(echo $m | tr -c 'a-z\n' _)=$1"
	eval "cpu_$(echo $m | tr -c 'a-z\n' _)=$4"
	if [ "$m" = openssl ]; then rss=-; else rss="$(($3 / 1024)) MiB"; fi
	printf '%-10s %7ss %7ss %7ss %10s\n' "$m" "$1" "$2" "$4" "$rss"
done
echo "$best_scan_only $best_scan_hash $best_hash_only $best_openssl $cpu_scan_only $cpu_scan_hash" | awk '{
	r = $2 / $1
	printf "scan+hash / scan-only = %.3f (goal <= 1.05: %s)\n", r, r <= 1.05 ? "met" : "NOT met"
	printf "  CPU (user+sys, both threads): %.3f -- the hash'"'"'s own work, which a loaded machine cannot run beside the scan\n", $6 / $5
	printf "hash-only / openssl dgst = %.3f\n", $3 / $4 }'
grep -h 'sha256=' "$work/scan+hash.out" "$work/hash-only.out" | sed 's/.*sha256=//' | sort -u | {
	read -r a; if read -r b; then echo "DIGESTS DIFFER: $a $b"; exit 1; fi
	want=$(openssl dgst -sha256 -r "$file" | cut -d' ' -f1)
	[ "$a" = "$want" ] && echo "digest matches openssl: $a" || { echo "DIGEST MISMATCH: $a vs $want"; exit 1; }
}
status=$?
if [ "${SG_BENCH_SCAN:-all}" = all ]; then
	rm -rf "$work"; trap - EXIT
	sh "$top/bench/scan-large.sh" "$BUILD" || status=1
fi
exit $status
