#!/bin/sh
# bench/log.sh BUILD: `signgate log --json` over 10,000 recorded signing
# events against `git log --notes=signatures --format=%N` on the same
# repository (one event per commit, written with git fast-import).
# Goal: signgate <= 2 x git. Best of 3.
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
SIGNGATE=${SIGNGATE:-$BUILD/signgate}
N=${SG_BENCH_EVENTS:-10000}
. "$top/bench/lib.sh"
BENCH_TMP=$(mktemp -d /tmp/sgbl.XXXXXX)
[ -n "${SG_BENCH_KEEP:-}" ] || trap 'rm -rf "$BENCH_TMP"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$BENCH_TMP LC_ALL=C TZ=UTC
repo=$BENCH_TMP/repo
git init -q "$repo"

# N commits on main, then one notes commit carrying one event per commit.
python3 - "$N" >"$BENCH_TMP/stream" <<'EOF'
import sys
n = int(sys.argv[1])
out = sys.stdout
w = out.write
ts = 1790000000
for i in range(1, n + 1):
    data = "release %d\n" % i
    w("commit refs/heads/main\nmark :%d\n" % i)
    w("author Dev <dev@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\n" % (ts + i, ts + i))
    msg = "release %d\n\nReviewed-by: Rev <rev@example.com>\n" % i
    w("data %d\n%s" % (len(msg), msg))
    if i > 1:
        w("from :%d\n" % (i - 1))
    w("M 100644 inline VERSION\ndata %d\n%s\n" % (len(data), data))
w("commit refs/notes/signatures\nmark :%d\n" % (n + 1))
w("committer Dev <dev@example.com> %d +0000\ndata 15\nsignatures bulk\n" % (ts + n + 1))
for i in range(1, n + 1):
    t = ts + i
    stamp = "2026-%02d-%02dT%02d:%02d:%02dZ" % (1 + (i // 2419200) % 12, 1 + (i // 86400) % 28, (i // 3600) % 24, (i // 60) % 60, i % 60)
    note = "\n".join([
        "Signgate-Event: sign",
        f"Artifact: dist/app-{i}.tar.gz",
        f"Artifact-Sha256: {i * 7919:064x}",
        f"Artifact-Size: {10240 + i}",
        f"Signature: dist/app-{i}.tar.gz.p7s",
        "Signature-Format: cms",
        f"Signature-Sha256: {i * 104729:064x}",
        f"Signer-Cert-Sha256: {1 + i % 3:064x}",
        "Signer-Subject: CN=Example Release Signing",
        "Key-Storage: hardware",
        "Profile: release",
        f"Timestamp: {stamp} (http://127.0.0.1:8318/)",
        "Scan: clamav 1.4.6, 3 signatures, clean",
        "Gate: allowed; refs/heads/main first-parent; 2/2 reviews via trailers: a@example.com, b@example.com",
        "Policy: blob 0123456789abcdef0123456789abcdef01234567 at refs/heads/main",
        "Signed-By: Alice <alice@example.com>",
        f"Signed-At: {stamp}",
        f"Tag: v1.{i}",
        "Tool: signgate 0.1.0",
    ])
    w("N inline :%d\ndata %d\n%s" % (i, len(note), note))
    w("\n")
EOF
git -C "$repo" fast-import --quiet <"$BENCH_TMP/stream" || { echo "bench/log.sh: fast-import failed" >&2; exit 1; }
git -C "$repo" checkout -q main

events=$("$SIGNGATE" -C "$repo" --json log 2>/dev/null | jq '[.[] | select(.type == "event")] | length')
if [ "$events" != "$N" ]; then
	echo "bench/log.sh: signgate log --json listed $events events, expected $N" >&2
	exit 1
fi
t_git=$(best_of 3 git -C "$repo" log --notes=signatures --format=%N)
t_sg=$(best_of 3 "$SIGNGATE" -C "$repo" --json log)
t_sg_people=$(best_of 3 "$SIGNGATE" -C "$repo" log)
r=$(ratio "$t_sg" "$t_git")
row "what ($N events)" "seconds" "x git" "goal" ""
row "git log --notes=signatures --format=%N" "$t_git" "1.00" "" ""
row "signgate log --json" "$t_sg" "$r" "<= 2.00" "$(awk -v r="$r" 'BEGIN { print (r <= 2.0) ? "met" : "MISSED" }')"
row "signgate log (people)" "$t_sg_people" "$(ratio "$t_sg_people" "$t_git")" "" ""
row "peak RSS signgate log --json (MiB)" "$(peak_rss_mib "$SIGNGATE" -C "$repo" --json log)" "" "" ""
