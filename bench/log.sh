#!/bin/sh
# bench/log.sh BUILD: 100,000 attested signing events in
# refs/notes/signatures (bench/log-batches.sh: 200 real `signgate sign`
# batches of 500 files, each on a commit of its own, one notes commit and
# one DSSE envelope each; cached under BUILD/bench-cache; SG_BENCH_EVENTS,
# SG_BENCH_BATCHES), plus one batch on top. Side by side, min of
# SG_BENCH_RUNS (default 5) wall times:
#   signgate --json log           with the attestation verdict cache warm (a
#                                 run before it judged every envelope):
#                                 goal <= 2 x git log --notes=signatures --format=%N,
#                                 peak RSS <= 64 MiB (/usr/bin/time -f %M)
#   the same with a cold cache    (removed before each run: every envelope
#                                 judged, the cache written), and --no-cache
#                                 (judged, nothing read or written): no goal
#   signgate log --artifact SHA   goal <= 0.1 s
#   signgate verify FILE          goal <= 0.1 s
# Also shown (no goal): the first log after a clone (the events index
# built from scratch) and the first lookup after one more batch (the index
# brought up to date from the notes that changed); and each command's CPU
# time (user + sys, min of the runs), which the other work on a shared
# machine does not inflate as it does wall time.
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
SIGNGATE=${SIGNGATE:-$BUILD/signgate}
N=${SG_BENCH_EVENTS:-100000}
runs=${SG_BENCH_RUNS:-5}
. "$top/bench/lib.sh"
[ -x "$SIGNGATE" ] || { echo "bench/log.sh: no $SIGNGATE; run make first" >&2; exit 1; }
BENCH_TMP=$(mktemp -d /tmp/sgbl.XXXXXX)
[ -n "${SG_BENCH_KEEP:-}" ] || trap 'rm -rf "$BENCH_TMP"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$BENCH_TMP LC_ALL=C TZ=UTC
git config --global user.email bench@example.com; git config --global user.name Bench

# The history: real attested batches (bench/log-batches.sh), generated
# once and cached by the generator's content and the sizes.
B=${SG_BENCH_BATCHES:-200}
S=$((N / B))
stamp=$(cat "$top/bench/log-batches.sh" | sha256sum | cut -c1-16)-$B-$S
cache=$BUILD/bench-cache/log-batches-$stamp
if [ ! -f "$cache/done" ]; then
	echo "generating $B batches of $S attested events into $cache (once; minutes)..."
	rm -rf "$cache" && sh "$top/bench/log-batches.sh" "$SIGNGATE" "$cache" "$B" "$S" && touch "$cache/done" ||
		{ echo "bench/log.sh: generating failed" >&2; exit 1; }
fi
N=$((B * S))
repo=$BENCH_TMP/repo
git clone -q "$cache/repo" "$repo" && git -C "$repo" fetch -q origin refs/notes/signatures:refs/notes/signatures ||
	{ echo "bench/log.sh: clone failed" >&2; exit 1; }
cp "$cache/policy" "$BENCH_TMP/policy"
sg() { "$SIGNGATE" -C "$repo" -q --policy "$BENCH_TMP/policy" --profile bench "$@"; }
# One more batch, so that verify has a signature to check.
mkdir -p "$repo/dist" && printf 'bench artifact\n' >"$repo/dist/app.tar.gz"
sg sign dist/app.tar.gz >/dev/null 2>&1 || { echo "bench/log.sh: sign failed" >&2; exit 1; }
sg verify dist/app.tar.gz >/dev/null 2>&1 || { echo "bench/log.sh: verify failed" >&2; exit 1; }
events=$(sg --json log 2>/dev/null | grep -c '^  {"type": "event"')
attested=$(sg --json log 2>/dev/null | grep -c '"attested": true')
if [ "$events" != $((N + 1)) ] || [ "$attested" != $((N + 1)) ]; then
	echo "bench/log.sh: signgate log --json listed $events events, $attested attested, expected $((N + 1));" \
		"remove $cache if the note format changed" >&2
	exit 1
fi
art=$(git -C "$repo" notes --ref=signatures show "v1.$((B / 2))" | sed -n 's/^Artifact-Sha256: //p' | sed -n "$((S / 2))p")
[ -n "$art" ] && [ "$(sg --json log --artifact "$art" 2>/dev/null | grep -c '"type": "event"')" = 1 ] ||
	{ echo "bench/log.sh: log --artifact did not find $art once" >&2; exit 1; }

# the first log of a clone: the index is built from every note
rm -rf "$repo/.git/signgate/notes-index"
s=$(now); sg --json log >/dev/null 2>&1; e=$(now)
t_cold=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')
rm -rf "$repo/.git/signgate/notes-index"
rss_cold=$(peak_rss_mib "$SIGNGATE" -C "$repo" -q --policy "$BENCH_TMP/policy" --profile bench --json log)

# the attestation verdict cache: cold (removed first), then warm
vcache=$repo/.git/signgate/attest-cache
cold_log() { rm -rf "$vcache" && sg --json log; }
t_sg_cold=$(best_of "$runs" cold_log)
t_sg_nocache=$(best_of "$runs" sg --json log --no-cache)
rm -rf "$vcache"
rss_vcold=$(peak_rss_mib "$SIGNGATE" -C "$repo" -q --policy "$BENCH_TMP/policy" --profile bench --json log)
sg --json log >/dev/null 2>&1
[ -s "$vcache/verdicts" ] || { echo "bench/log.sh: log wrote no verdict cache" >&2; exit 1; }
t_git=$(best_of "$runs" git -C "$repo" log --notes=signatures --format=%N)
t_sg=$(best_of "$runs" sg --json log)
t_people=$(best_of "$runs" sg log)
rss_git=$(peak_rss_mib git -C "$repo" log --notes=signatures --format=%N)
rss_sg=$(peak_rss_mib "$SIGNGATE" -C "$repo" -q --policy "$BENCH_TMP/policy" --profile bench --json log)
t_art=$(best_of "$runs" sg --json log --artifact "$art")
t_verify=$(best_of "$runs" sg verify dist/app.tar.gz)
# one more batch: the first lookup after it brings the index up to date
printf 'bench artifact 2\n' >"$repo/dist/app2.tar.gz"
sg sign dist/app2.tar.gz >/dev/null 2>&1 || { echo "bench/log.sh: second sign failed" >&2; exit 1; }
s=$(now); sg --json log --artifact "$art" >/dev/null 2>&1; e=$(now)
t_incr=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')

# cpu_of N CMD...: the least user+sys seconds of N runs
cpu_of() {
	_n=$1; shift; _best=""
	for _i in $(seq "$_n"); do
		/usr/bin/time -f '%U %S' -o "$BENCH_TMP/cpu" "$@" >/dev/null 2>&1
		_best=$(awk -v a="$_best" '{ t = $1 + $2; if (a == "" || t < a) a = t; printf "%.3f", a }' "$BENCH_TMP/cpu")
	done
	echo "$_best"
}
c_git=$(cpu_of "$runs" git -C "$repo" log --notes=signatures --format=%N)
c_sg=$(cpu_of "$runs" "$SIGNGATE" -C "$repo" -q --policy "$BENCH_TMP/policy" --profile bench --json log)
c_sg_nocache=$(cpu_of "$runs" "$SIGNGATE" -C "$repo" -q --policy "$BENCH_TMP/policy" --profile bench --json log --no-cache)
c_art=$(cpu_of "$runs" "$SIGNGATE" -C "$repo" -q --policy "$BENCH_TMP/policy" --profile bench --json log --artifact "$art")
c_verify=$(cpu_of "$runs" "$SIGNGATE" -C "$repo" -q --policy "$BENCH_TMP/policy" --profile bench verify dist/app.tar.gz)
r=$(ratio "$t_sg" "$t_git")
goal() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g) ? "met" : "MISSED" }'; }
echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), min of $runs; $((N + 1)) events in $(git -C "$repo" rev-list --count refs/notes/signatures) notes commits"
row "what (wall seconds, then CPU seconds)" "seconds" "x git" "goal" ""
row "git log --notes=signatures --format=%N" "$t_git" "1.00" "" ""
row "signgate --json log, warm verdict cache" "$t_sg" "$r" "<= 2.00" "$(goal "$r" 2.0)"
row "signgate --json log, cold cache (1st run)" "$t_sg_cold" "$(ratio "$t_sg_cold" "$t_git")" "" ""
row "signgate --json log --no-cache" "$t_sg_nocache" "$(ratio "$t_sg_nocache" "$t_git")" "" ""
row "signgate log (people)" "$t_people" "$(ratio "$t_people" "$t_git")" "" ""
row "signgate log --artifact SHA" "$t_art" "" "<= 0.10" "$(goal "$t_art" 0.1)"
row "signgate verify FILE" "$t_verify" "" "<= 0.10" "$(goal "$t_verify" 0.1)"
row "first log of a clone (index built)" "$t_cold" "$(ratio "$t_cold" "$t_git")" "" ""
row "first lookup after one more batch" "$t_incr" "" "" ""
row "CPU: git log --notes=signatures" "$c_git" "1.00" "" ""
row "CPU: signgate --json log, warm cache" "$c_sg" "$(ratio "$c_sg" "$c_git")" "" ""
row "CPU: signgate --json log --no-cache" "$c_sg_nocache" "$(ratio "$c_sg_nocache" "$c_git")" "" ""
row "CPU: signgate log --artifact SHA" "$c_art" "" "" ""
row "CPU: signgate verify FILE" "$c_verify" "" "" ""
row "peak RSS (MiB)" "" "" "" ""
row "  git log --notes=signatures" "$rss_git" "" "" ""
row "  signgate --json log, warm cache" "$rss_sg" "" "<= 64" "$(goal "$rss_sg" 64)"
row "  signgate --json log, index built" "$rss_cold" "" "" ""
row "  signgate --json log, cold verdict cache" "$rss_vcold" "" "" ""
