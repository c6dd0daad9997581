#!/bin/sh
# bench/scan-large.sh [BUILD] (part 2 of bench/scan.sh; issue 13): a
# ClamAV-size database (6.15M signatures: 4M sha256 .hsb, 2M md5 .hdb, 150k
# body patterns .ndb; build/tools/clamdbgen, cached in BUILD/bench-clamdb),
# a clamd started on it, and side by side in one run (min of N runs,
# interleaved; peak RSS from /usr/bin/time):
#   1. 1 MiB via clamd: `signgate sign` (whole run: start-up, gate, scan,
#      signature, note) <= 0.2 s and <= 3 x `clamdscan --fdpass`
#   2. 1 GiB via clamd: `signgate sign` <= 1.05 x clamd scanning alone
#      (bench/instream.py: the same INSTREAM, same chunks, no hashing;
#      `clamdscan --fdpass`, where clamd reads the file, shown too)
#   3. 1 MiB in-process (engine = clamav): `signgate sign` <= 1.0 x `clamscan`, RSS of both
#   SG_BENCH_RUNS=N (default 3; the 1 GiB cases: SG_BENCH_BIG_RUNS, default 2)
#   SG_BENCH_FILE=F (the 1 GiB file, default /tmp/sg-bench-1g)
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
SIGNGATE=$BUILD/signgate
runs=${SG_BENCH_RUNS:-3}
bruns=${SG_BENCH_BIG_RUNS:-2}
big=${SG_BENCH_FILE:-/tmp/sg-bench-1g}
size=1073741824
db=$BUILD/bench-clamdb
gen=$BUILD/tools/clamdbgen
. "$top/bench/lib.sh"
[ -x "$SIGNGATE" ] && [ -x "$gen" ] || { echo "bench/scan-large.sh: run make first ($gen)" >&2; exit 1; }
for t in clamd clamdscan clamscan; do
	command -v $t >/dev/null || [ -x /usr/sbin/$t ] ||
		{ echo "bench/scan-large.sh: $t missing (scripts/install-deps.sh)" >&2; exit 1; }
done
# under BUILD, not /tmp: clamd's folder must live as long as the bench
# (its watchdog stops clamd when the folder goes)
BENCH_TMP=$(mktemp -d "$BUILD/bench-large.XXXXXX")
sg_at_exit() { :; }
. "$top/tests/lib/clamd.sh"
trap 'sg_clamd_stop; rm -rf "$BENCH_TMP"' EXIT
export HOME=$BENCH_TMP GIT_CONFIG_NOSYSTEM=1 LC_ALL=C

# the database, generated once (deterministic) and reused
if [ "$(cat "$db/.complete" 2>/dev/null)" != "clamdbgen 2" ]; then
	echo "generating a ClamAV-size database in $db (once; reused by later runs)..."
	rm -rf "$db" && mkdir -p "$db" && "$gen" "$db" && echo "clamdbgen 2" >"$db/.complete" || exit 1
fi
if [ ! -f "$big" ] || [ "$(wc -c <"$big" | tr -d ' ')" != $size ]; then
	echo "making $big (1 GiB of random bytes)..."
	head -c $size /dev/urandom >"$big.tmp" && mv "$big.tmp" "$big" || exit 1
fi

# a repository and a test profile (file key, no TSA), as bench/sign.sh
. "$top/tests/lib/pki.sh"
pki=$BENCH_TMP/pki
sg_pki_make "$pki" >/dev/null || exit 1
repo=$BENCH_TMP/repo
git config --global user.email bench@example.com; git config --global user.name Bench
git init -q -b main "$repo" && git -C "$repo" commit -q --allow-empty -m root || exit 1
policy() { # SCAN-SECTION-LINES...
	{ cat <<P
[profile "bench"]
	key = file:$pki/codesign.key
	cert = $pki/codesign.pem
	chain = $pki/chain.pem
	trustAnchor = $pki/ca.pem
	test = true
[scan]
P
	for l in "$@"; do printf '\t%s\n' "$l"; done; } >"$BENCH_TMP/policy"
}
one=$repo/one.bin
head -c 1048576 /dev/urandom >"$one"
ln "$big" "$repo/big.bin" 2>/dev/null || cp "$big" "$repo/big.bin"
cat "$one" "$repo/big.bin" >/dev/null
# sg FILE: the whole `signgate sign` (a script, so /usr/bin/time can run it)
printf '#!/bin/sh\nexec "%s" -C "%s" -q --policy "%s" sign "$@"\n' "$SIGNGATE" "$repo" "$BENCH_TMP/policy" >"$BENCH_TMP/sg"
chmod +x "$BENCH_TMP/sg"
sg=$BENCH_TMP/sg

# measure NAME CMD...: one run; appends "seconds maxrss_kib" to BENCH_TMP/NAME
measure() {
	_m=$1; shift
	_s=$(now)
	/usr/bin/time -f '%M' -o "$BENCH_TMP/rss.$_m" "$@" >"$BENCH_TMP/err.$_m" 2>&1 ||
		{ echo "bench: failed: $*" >&2; sed 's/^/  /' "$BENCH_TMP/err.$_m" >&2; return 1; }
	_e=$(now)
	echo "$(awk -v s="$_s" -v e="$_e" 'BEGIN { printf "%.3f", e - s }') $(tail -n1 "$BENCH_TMP/rss.$_m")" >>"$BENCH_TMP/$_m"
}
best() { sort -n "$BENCH_TMP/$1" | head -n1 | cut -d' ' -f1; }
rss_mib() { sort -k2 -n "$BENCH_TMP/$1" | tail -n1 | awk '{ printf "%.0f", $2 / 1024 }'; }
# verdict VALUE OP LIMIT: "met" or "NOT met"
verdict() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = (op == "<=") ? v <= l : v >= l; print ok ? "met" : "NOT met" }'; }
fail=0
report() { # WHAT SIGNGATE REFERENCE RATIO GOAL VERDICT
	row "$1" "$2" "$3" "$4" "$5 $6"
	[ "$6" = met ] || [ -z "$6" ] || fail=1
}

echo "database $db: $(wc -l "$db"/bench.hsb "$db"/bench.hdb "$db"/bench.ndb | tail -n1 | awk '{ print $1 }') signatures"
echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), min of $runs runs ($bruns for 1 GiB)"

# ---- clamd ----
s=$(now)
SG_CLAMD_WAIT=900 sg_clamd_start "$BENCH_TMP/clamd" "$db" StreamMaxLength 2000M MaxFileSize 2000M \
	MaxScanSize 4000M MaxScanTime 0 ReadTimeout 600 CommandReadTimeout 600 || exit 1
e=$(now)
conf=$BENCH_TMP/clamd/clamd.conf
echo "clamd loaded the database in $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }') s, RSS $(awk '/VmRSS/ { printf "%.0f MiB", $2 / 1024 }' /proc/"$SG_CLAMD_PID"/status)"
row "case" "signgate" "reference" "ratio" "goal"
i=0
while [ $i -lt "$runs" ]; do
	measure cds1 clamdscan -c "$conf" --fdpass --no-summary "$one" || exit 1
	policy "engine = clamd" "clamd = unix:$SG_CLAMD_SOCK"
	measure sgd1 "$sg" "$one" || exit 1
	policy "required = false" "database = $BENCH_TMP/nodb"
	measure off1 "$sg" "$one" || exit 1
	i=$((i + 1))
done
t_sg=$(best sgd1) t_cd=$(best cds1) t_off=$(best off1)
r=$(ratio "$t_sg" "$t_cd")
report "1 MiB via clamd: sign vs clamdscan --fdpass" "$t_sg" "$t_cd" "$r" "<= 3.00" "$(verdict "$r" "<=" 3)"
report "  sign's wall time" "$t_sg" "" "" "<= 0.2 s" "$(verdict "$t_sg" "<=" 0.2)"
report "  (sign with scanning off, for scale)" "$t_off" "$t_cd" "$(ratio "$t_off" "$t_cd")" "" ""
i=0
while [ $i -lt "$bruns" ]; do
	measure cdsbig python3 "$top/bench/instream.py" "$SG_CLAMD_SOCK" "$repo/big.bin" || exit 1
	policy "engine = clamd" "clamd = unix:$SG_CLAMD_SOCK"
	measure sgdbig "$sg" "$repo/big.bin" || exit 1
	i=$((i + 1))
done
measure cdfbig clamdscan -c "$conf" --fdpass --no-summary "$repo/big.bin" || exit 1
t_sg=$(best sgdbig) t_cd=$(best cdsbig)
r=$(ratio "$t_sg" "$t_cd")
report "1 GiB via clamd: sign vs INSTREAM alone" "$t_sg" "$t_cd" "$r" "<= 1.05" "$(verdict "$r" "<=" 1.05)"
report "  (clamdscan --fdpass: clamd reads the file)" "" "$(best cdfbig)" "$(ratio "$t_sg" "$(best cdfbig)")" "" ""
report "  peak RSS MiB of sign via clamd (1 GiB)" "$(rss_mib sgdbig)" "" "" "" ""
sg_clamd_stop

# ---- the in-process engine on the same database ----
i=0
while [ $i -lt "$runs" ]; do
	measure clamscan clamscan --no-summary -d "$db" "$one" || exit 1
	policy "engine = clamav" "database = $db"
	measure sgin "$sg" "$one" || exit 1
	i=$((i + 1))
done
t_sg=$(best sgin) t_cs=$(best clamscan)
r=$(ratio "$t_sg" "$t_cs")
report "1 MiB in-process: sign vs clamscan" "$t_sg" "$t_cs" "$r" "<= 1.00" "$(verdict "$r" "<=" 1.0)"
report "  peak RSS MiB (sign / clamscan)" "$(rss_mib sgin)" "$(rss_mib clamscan)" "$(ratio "$(rss_mib sgin)" "$(rss_mib clamscan)")" "reported" ""
exit $fail
