#!/bin/sh
# SIGKILL at each step of `sign`, held there without test hooks in the
# binary: the slow TSA (sign), a held notes-ref lock (between write and
# record), a held audit-log lock (between record and publish), then a sweep
# of kills at spread delays. Afterwards: no signature file without its
# recorded event, no partial file under a final name; the hidden temp files
# a kill leaves are removed by the next sign once they are 10 minutes old.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
D=$REPO/dist
printf 'artifact\n' >"$D/a.txt"
good_url=$SG_TSA_URL
events() { git -C "$REPO" notes --ref signatures list 2>/dev/null | while read -r n c; do
	git -C "$REPO" notes --ref signatures show "$c"; done; }
# invariant WHAT: every published .p7s verifies and has an event with its digest
invariant() {
	bad=0
	for f in "$D"/*.p7s; do
		[ -e "$f" ] || continue
		a=${f%.p7s}
		cms_verify "$a" || { echo "# $f does not verify"; bad=1; }
		events | grep -q "^Signature-Sha256: $(sha256sum <"$f" | cut -d' ' -f1)\$" ||
			{ echo "# $f has no recorded event"; bad=1; }
	done
	check "$1: every signature file is whole and has its event" test "$bad" = 0
}
temps() { ls -a "$D" | grep -c '^\.a\.txt\.p7s\.tmp-......$'; }
# start_sign: sign dist/a.txt in the background ($pid)
start_sign() { (cd "$REPO" && exec "$SIGNGATE" "$@" sign dist/a.txt) >"$TRASH/bg.out" 2>&1 & pid=$!; }
# wait_for CMD...: until CMD succeeds, 20 s at most (ASan and a loaded CI machine are slow)
wait_for() { i=0; while [ $i -lt 400 ]; do "$@" && return 0; sleep 0.05; i=$((i + 1)); done; return 1; }

# 1. killed while waiting for the TSA (step sign): nothing at all. The kill
#    comes once the TSA has the request (its --log), not after a fixed delay
#    that a slow machine could spend inside SoftHSM's C_Login.
sg_tsa_start "$TSAPKI" slow --slow-seconds 40 --log "$TRASH/tsa-requests" >/dev/null
sg_policy_text | sed "s|tsa = $good_url|tsa = $SG_TSA_URL\n\ttsaTimeout = 50|" >"$TRASH/slow"
start_sign --policy "$TRASH/slow"
check "the TSA has the request" wait_for test -s "$TRASH/tsa-requests"
kill -9 "$pid"; wait "$pid" 2>/dev/null
check "killed during the TSA request: no signature" test ! -e "$D/a.txt.p7s"
check "no temp file (nothing written yet)" test "$(temps)" = 0
check "no event" test -z "$(events)"
sg_tsa_stop "$SG_TSA_PID"

# 2. killed between write and record: the notes ref is locked by "another
#    writer" (signgate retries), the temp signature exists, kill
mkdir -p "$REPO/.git/refs/notes" && : >"$REPO/.git/refs/notes/signatures.lock"
start_sign
check "held before record: the temp file is written" wait_for sh -c "[ \$(ls -a '$D' | grep -c '^\.a\.txt\.p7s\.tmp-') -ge 1 ]"
kill -9 "$pid"; wait "$pid" 2>/dev/null
rm -f "$REPO/.git/refs/notes/signatures.lock"
check "killed before record: no signature under its final name" test ! -e "$D/a.txt.p7s"
check "no event" test -z "$(events)"
check "one hidden temp file left" test "$(temps)" = 1
invariant "after a kill before record"

# 3. killed between record and publish: the audit log is locked
expect 0 "a normal sign (creates the audit log)" -- sh -c "cd '$REPO' && '$SIGNGATE' sign dist/a.txt"
rm "$D/a.txt.p7s"
n_before=$(events | grep -c '^Signgate-Event: sign')
flock "$REPO/.git/signgate/audit.log" sleep 30 &
lockpid=$!
sleep 0.3
start_sign
check "held after record: the event is recorded" wait_for sh -c "[ \$(git -C '$REPO' notes --ref signatures show HEAD | grep -c '^Signgate-Event: sign') -gt $n_before ]"
kill -9 "$pid"; wait "$pid" 2>/dev/null
kill "$lockpid"; wait "$lockpid" 2>/dev/null
check "killed after record: the signature is not published" test ! -e "$D/a.txt.p7s"
check "two hidden temp files left" test "$(temps)" = 2
invariant "after a kill between record and publish"

# 4. a sweep: kills at spread delays during whole runs. SoftHSM2 rewrites
#    its token.object in place at every C_Login (the PIN-count flags), so a
#    kill that lands inside that write breaks the software token itself (a
#    hardware token keeps its state); the token store is put back after
#    each kill, and the sweep is about what signgate leaves behind.
cp -a "$TRASH/hsm/tokens" "$TRASH/tokens.saved"
for delay in 0.02 0.05 0.1 0.15 0.2 0.3 0.4 0.5 0.7 0.9 1.2; do
	start_sign
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	rm -rf "$TRASH/hsm/tokens" && cp -a "$TRASH/tokens.saved" "$TRASH/hsm/tokens"
	# a kill inside the ref update leaves its lock, as with git: removed as
	# the error message says (t0710 checks that message)
	[ -e "$REPO/.git/refs/notes/signatures.lock" ] && echo "# kill after ${delay}s left the notes lock" &&
		rm "$REPO/.git/refs/notes/signatures.lock"
	invariant "killed after ${delay}s"
	for f in "$D"/a.txt.p7s; do [ -e "$f" ] && rm "$f"; done
done
check "no stray file under a final name" sh -c "! ls -a '$D' | grep -v '^\.\.\?$' | grep -v '^a\.txt$' | grep -v '^\.a\.txt\.p7s\.tmp-......$' | grep -v '^\.\?[0-9a-f]\{40\}\.intoto\.jsonl\(\.tmp-......\)\?$' | grep -q ."
# the batch's .intoto.jsonl: whole lines only (temp + rename), each one envelope
check "every published .intoto.jsonl line is a whole envelope" sh -c \
	"for f in '$D'/*.intoto.jsonl; do [ -e \"\$f\" ] || continue; jq -e -s 'all(.payloadType == \"application/vnd.in-toto+json\")' \"\$f\" >/dev/null || exit 1; done"

# 5. stale temp files: removed by the next sign when old; recent, foreign
#    or differently named ones stay
for f in $(ls -a "$D" | grep '^\.a\.txt\.p7s\.tmp-'); do touch -d '-20 minutes' "$D/$f"; done
old=$(temps)
: >"$D/.a.txt.p7s.tmp-RECENT"
: >"$D/.a.txt.p7s.tmp-TOOLONG7"; touch -d '-20 minutes' "$D/.a.txt.p7s.tmp-TOOLONG7"
: >"$D/.b.txt.p7s.tmp-OTHER1"; touch -d '-20 minutes' "$D/.b.txt.p7s.tmp-OTHER1"
expect 0 "the next sign succeeds" -- sh -c "cd '$REPO' && '$SIGNGATE' sign dist/a.txt"
grep_out "interrupted signgate run" "it says it removed stale temp files"
check "the $old old temp files are gone, the recent one stays" test "$(temps)" = 1
check "the recent one is the one kept" test -e "$D/.a.txt.p7s.tmp-RECENT"
check "a name that is not signgate's pattern stays" test -e "$D/.a.txt.p7s.tmp-TOOLONG7"
check "another artifact's temp file stays" test -e "$D/.b.txt.p7s.tmp-OTHER1"
invariant "at the end"
done_testing
