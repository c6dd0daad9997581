#!/bin/sh
# bench/log.sh BUILD: 100,000 signing events in refs/notes/signatures
# (bench/log-events.py: ~1,000 batches of 1..199 events, one notes commit
# each, on every fifth of ~5,000 commits; cached under BUILD/bench-cache),
# plus one real `signgate sign` batch on top. Side by side, min of
# SG_BENCH_RUNS (default 5) wall times:
#   signgate --json log           goal <= 2 x git log --notes=signatures --format=%N,
#                                 peak RSS <= 64 MiB (/usr/bin/time -f %M)
#   signgate log --artifact SHA   goal <= 0.1 s
#   signgate verify FILE          goal <= 0.1 s
# Also shown (no goal): the first log after a clone (the events index
# built from scratch) and the first lookup after one more batch (the index
# brought up to date from the notes that changed).
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

# The generated history, cached by the generator's content and N.
stamp=$(cat "$top/bench/log-events.py" | sha256sum | cut -c1-16)-$N
cache=$BUILD/bench-cache/log-events-$stamp
if [ ! -d "$cache/repo.git" ]; then
	echo "generating $N events into $cache (once)..."
	rm -rf "$cache" && mkdir -p "$cache" && git init -q --bare -b main "$cache/tmp.git" &&
		python3 "$top/bench/log-events.py" "$N" | git -C "$cache/tmp.git" fast-import --quiet &&
		mv "$cache/tmp.git" "$cache/repo.git" || { echo "bench/log.sh: generating failed" >&2; exit 1; }
fi
repo=$BENCH_TMP/repo
git clone -q "$cache/repo.git" "$repo" && git -C "$repo" fetch -q origin refs/notes/signatures:refs/notes/signatures ||
	{ echo "bench/log.sh: clone failed" >&2; exit 1; }

# One real batch on top, so that verify has a signature to check.
. "$top/tests/lib/pki.sh"
sg_pki_make "$BENCH_TMP/pki" >/dev/null || exit 1
pki=$BENCH_TMP/pki
cat >"$BENCH_TMP/policy" <<P
[profile "bench"]
	key = file:$pki/codesign.key
	cert = $pki/codesign.pem
	chain = $pki/chain.pem
	trustAnchor = $pki/ca.pem
	test = true
[scan]
	required = false
P
sg() { "$SIGNGATE" -C "$repo" -q --policy "$BENCH_TMP/policy" --profile bench "$@"; }
mkdir -p "$repo/dist" && printf 'bench artifact\n' >"$repo/dist/app.tar.gz"
sg sign dist/app.tar.gz >/dev/null 2>&1 || { echo "bench/log.sh: sign failed" >&2; exit 1; }
sg verify dist/app.tar.gz >/dev/null 2>&1 || { echo "bench/log.sh: verify failed" >&2; exit 1; }
events=$(sg --json log 2>/dev/null | grep -c '^  {"type": "event"')
if [ "$events" != $((N + 1)) ]; then
	echo "bench/log.sh: signgate log --json listed $events events, expected $((N + 1))" >&2
	exit 1
fi
art=$(git -C "$repo" notes --ref=signatures show HEAD~2500 | sed -n 's/^Artifact-Sha256: //p' | head -1)
[ -n "$art" ] && [ "$(sg --json log --artifact "$art" 2>/dev/null | grep -c '"type": "event"')" = 1 ] ||
	{ echo "bench/log.sh: log --artifact did not find $art once" >&2; exit 1; }

# the first log of a clone: the index is built from every note
rm -rf "$repo/.git/signgate/notes-index"
s=$(now); sg --json log >/dev/null 2>&1; e=$(now)
t_cold=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')
rm -rf "$repo/.git/signgate/notes-index"
rss_cold=$(peak_rss_mib "$SIGNGATE" -C "$repo" -q --policy "$BENCH_TMP/policy" --profile bench --json log)

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

r=$(ratio "$t_sg" "$t_git")
goal() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g) ? "met" : "MISSED" }'; }
echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), min of $runs; $((N + 1)) events in $(git -C "$repo" rev-list --count refs/notes/signatures) notes commits"
row "what" "seconds" "x git" "goal" ""
row "git log --notes=signatures --format=%N" "$t_git" "1.00" "" ""
row "signgate --json log" "$t_sg" "$r" "<= 2.00" "$(goal "$r" 2.0)"
row "signgate log (people)" "$t_people" "$(ratio "$t_people" "$t_git")" "" ""
row "signgate log --artifact SHA" "$t_art" "" "<= 0.10" "$(goal "$t_art" 0.1)"
row "signgate verify FILE" "$t_verify" "" "<= 0.10" "$(goal "$t_verify" 0.1)"
row "first log of a clone (index built)" "$t_cold" "$(ratio "$t_cold" "$t_git")" "" ""
row "first lookup after one more batch" "$t_incr" "" "" ""
row "peak RSS (MiB)" "" "" "" ""
row "  git log --notes=signatures" "$rss_git" "" "" ""
row "  signgate --json log" "$rss_sg" "" "<= 64" "$(goal "$rss_sg" 64)"
row "  signgate --json log, index built" "$rss_cold" "" "" ""
