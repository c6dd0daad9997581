#!/bin/sh
# Attestation verdicts: each attestation paragraph is judged on its own
# bytes and certificates (a forged copy of a genuine envelope with a bogus
# certificate, read first, must not make the genuine events unattested:
# only attested events block re-signing a file for another commit).
# The local verdict cache of `log` (docs/signgate-notes.md): the same
# answers as judging afresh; a damaged file or entry is judged again; a
# changed trust anchor misses; a cache its local user rewrote can fool
# `log` (documented: it is trusted as .git/config is), never `verify`.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }
events_of() { # JSON-LOG REF ATTESTED: how many events of REF have that verdict
	jq --arg r "$2" --argjson a "$3" '[.[] | select(.type == "event" and .notes_ref == $r and .attested == $a)] | length' "$1"
}

# The release profile records under its own notes ref, so the default ref
# (read first) is where a forged copy can stand.
sg_policy_text | sed 's|^\tartifacts = dist/\*$|&\n\tnotesRef = refs/notes/release|' | sg_commit_policy
sg_reviewed_commit src/a.c 'int a;'
y=$(git -C "$REPO" rev-parse HEAD)
printf 'release artifact\n' >"$REPO/dist/app.tar.gz"
expect 0 "a release batch on Y, recorded in refs/notes/release" -- sg sign dist/app.tar.gz
git -C "$REPO" notes --ref release show "$y" >"$TRASH/genuine.note"
check "its note holds an attestation paragraph with the signer's certificate" \
	grep -q '^Attestation-Cert: ' "$TRASH/genuine.note"

# ---- the forgery: the genuine note copied, its certificate swapped ----
bogus=$(openssl x509 -in "$PKI/other.pem" -outform DER | base64 -w0)
sed "s|^Attestation-Cert: .*|Attestation-Cert: $bogus|" "$TRASH/genuine.note" >"$TRASH/forged.note"
check "the forged copy carries the genuine envelope bytes" sh -c \
	"test \"\$(grep '^Attestation: ' '$TRASH/forged.note')\" = \"\$(grep '^Attestation: ' '$TRASH/genuine.note')\""
git -C "$REPO" notes --ref signatures add -F "$TRASH/forged.note" "$y"
expect 0 "log --json with the forged copy in the ref read first" -- sg --json log
cp "$TRASH/out" "$TRASH/log.json"
check "the forged copy's event is unattested" test "$(events_of "$TRASH/log.json" refs/notes/signatures false)" = 1
check "the genuine event stays attested" test "$(events_of "$TRASH/log.json" refs/notes/release true)" = 1
expect 0 "verify still trusts the genuine event" -- sg verify dist/app.tar.gz

sg_reviewed_commit src/b.c 'int b;'
mkdir -p "$REPO/out"
expect 3 "the file is not signed again for another commit (the forged copy is read first)" -- \
	sg sign --out out dist/app.tar.gz
grep_out "already signed for ${y%"${y#????????????}"}" "the denial names the genuine event's commit"
check "nothing was written" test ! -e "$REPO/out/app.tar.gz.p7s"
printf 'another artifact\n' >"$REPO/dist/other.tar.gz"
expect 0 "twin: a new file is signed on that commit" -- sg sign --out out dist/other.tar.gz

# ---- the verdict cache of log ----
vc=$REPO/.git/signgate/attest-cache
edit() { /usr/bin/python3 "$SG_LIB/vcache-edit.py" "$vc/verdicts" "$@"; }
printf 'test artifact\n' >"$REPO/test/t.txt"
expect 0 "a test-profile batch" -- sg sign test/t.txt
sg_reviewed_commit src/c.c 'int c;'
git -C "$REPO" notes --ref signatures add -m "Signgate-Event: sign
Artifact: dist/hand.tar.gz" HEAD
rm -rf "$vc"
expect 0 "log --json --no-cache judges every attestation afresh" -- sg --json log --no-cache
cp "$TRASH/out" "$TRASH/fresh.json"
check "--no-cache writes no cache" test ! -e "$vc"
check "the listing holds attested, forged, hand-written and test-profile events" sh -c \
	"jq -e '([.[] | select(.type == \"event\" and .attested)] | length) == 3 and
	([.[] | select(.type == \"event\" and (.attested | not))] | length) == 2 and
	([.[] | select(.profile == \"test\" and .attested)] | length) == 1' '$TRASH/fresh.json' >/dev/null"
expect 0 "log -v --json, cold cache" -- sg -v --json log
grep_out "attestations: 4 judged, 0 from the verdict cache" "every attestation paragraph is judged"
check "the same answers as judged afresh" cmp -s "$TRASH/out" "$TRASH/fresh.json"
check "the cache is a 0600 file in a 0700 folder" sh -c \
	"test \"\$(stat -c %a '$vc')\" = 700 && test \"\$(stat -c %a '$vc/verdicts')\" = 600"
check "one entry per attestation paragraph: the genuine envelope and its copy with another certificate are two" \
	test "$(edit count)" = 4
expect 0 "log -v --json, warm cache" -- sg -v --json log
grep_out "attestations: 0 judged, 4 from the verdict cache" "every verdict comes from the cache"
check "the same answers as judged afresh" cmp -s "$TRASH/out" "$TRASH/fresh.json"
expect 0 "log (text), warm cache" -- sg log
grep_out "UNATTESTED: *attestation [0-9a-f]*: the attestation paragraph has no certificate" \
	"the forged copy is still unattested, for its own reason"

edit flip
expect 0 "log -v --json with one entry damaged (checksum)" -- sg -v --json log
grep_out "attestations: 1 judged, 3 from the verdict cache" "the damaged entry is judged again, never trusted"
check "the same answers as judged afresh" cmp -s "$TRASH/out" "$TRASH/fresh.json"
printf 'not a cache' >"$vc/verdicts"
expect 0 "log -v --json with a cache file that is not one" -- sg -v --json log
grep_out "attestations: 4 judged, 0 from the verdict cache" "it is ignored"
check "the same answers as judged afresh" cmp -s "$TRASH/out" "$TRASH/fresh.json"
check "and written again" test "$(edit count)" = 4

# the trust anchor's contents, not its path, are part of the key
cp "$PKI/ca.pem" "$TRASH/ca.pem.orig"
cp "$PKI/other-ca.pem" "$PKI/ca.pem"
expect 0 "log -v --json after the trust anchor file changed under the same path" -- sg -v --json log
grep_out "attestations: 4 judged, 0 from the verdict cache" "the cache misses"
check "the release events are no longer attested" test "$(events_of "$TRASH/out" refs/notes/release false)" = 2
cp "$TRASH/ca.pem.orig" "$PKI/ca.pem"
expect 0 "twin: the anchor restored, log -v --json" -- sg -v --json log
check "the release events are attested again" test "$(events_of "$TRASH/out" refs/notes/release true)" = 2
check "the same answers as judged afresh" cmp -s "$TRASH/out" "$TRASH/fresh.json"

# a cache rewritten by its local user fools log, not verify
git -C "$REPO" notes --ref release remove "$y" 2>/dev/null
expect 5 "without the genuine note, verify refuses the forged copy" -- sg verify dist/app.tar.gz
grep_out "unattested" "it is unattested"
expect 0 "log --json (the cache now holds the forged copy's refusal)" -- sg --json log
check "log lists it unattested" test "$(events_of "$TRASH/out" refs/notes/signatures false)" = 2
edit set-ok
expect 0 "log --json with a cache rewritten to say every signature verified" -- sg --json log
check "log believes its own user's cache (documented)" test "$(events_of "$TRASH/out" refs/notes/signatures false)" = 1
expect 0 "log --json --no-cache" -- sg --json log --no-cache
check "twin: --no-cache is not fooled" test "$(events_of "$TRASH/out" refs/notes/signatures false)" = 2
sg doctor --no-tsa >"$TRASH/doctor.out" 2>&1
check "doctor judges the cached verdicts again and reports the one that disagrees" \
	grep -q "verdict cache.*1 of 3 cached verdicts disagree with a fresh judgement" "$TRASH/doctor.out"
expect 0 "log --json after doctor" -- sg --json log
check "doctor replaced the lying entry: log is right again" \
	test "$(events_of "$TRASH/out" refs/notes/signatures false)" = 2
sg doctor --no-tsa >"$TRASH/doctor.out" 2>&1
check "twin: doctor finds every cached verdict agrees now" \
	grep -q "verdict cache.*3 cached verdicts judged again, all agree" "$TRASH/doctor.out"
edit set-ok
expect 5 "verify is not fooled by the cache" -- sg verify dist/app.tar.gz
grep_out "unattested" "it still says unattested"
mkdir -p "$REPO/out2"
expect 0 "nor is the provenance check: the forged copy blocks nothing" -- sg sign --out out2 dist/app.tar.gz

done_testing
