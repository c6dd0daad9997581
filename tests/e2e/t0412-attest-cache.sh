#!/bin/sh
# Attestation verdicts: each attestation paragraph is judged on its own
# bytes and certificates (a forged copy of a genuine envelope with a bogus
# certificate, read first, must not make the genuine events unattested:
# only attested events block re-signing a file for another commit).
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

done_testing
