#!/bin/sh
# Attested events (DESIGN.md 4a): every batch makes one DSSE envelope over
# an in-toto statement, stored once in the note and in <tag|commit>.intoto.jsonl;
# Debian's in-toto reference implementation (securesystemslib) verifies it
# with the signer's public key alone, and one changed byte fails that check.
# Readers trust only attested events: a forged or copied paragraph is
# "unattested" (verify exit 5, log marks it).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }
dsse_verify() { /usr/bin/python3 "$SG_LIB/dsse-verify.py" "$@"; }
head_sha=$(git -C "$REPO" rev-parse HEAD)

# ---- PKCS#11 (SoftHSM) batch of two artifacts ----
git -C "$REPO" archive --prefix=hello-1.0/ -o dist/hello-1.0.tar.gz HEAD
printf 'second artifact\n' >"$REPO/dist/notes.txt"
expect 0 "a PKCS#11 batch of two artifacts" -- sg sign dist/hello-1.0.tar.gz dist/notes.txt
jsonl=$REPO/dist/$head_sha.intoto.jsonl
check "one .intoto.jsonl for the batch, named after the commit" test -s "$jsonl"
check "it holds one envelope line" test "$(wc -l <"$jsonl")" = 1
openssl x509 -in "$PKI/codesign.pem" -pubkey -noout >"$TRASH/release.pub"
openssl x509 -in "$PKI/other.pem" -pubkey -noout >"$TRASH/other.pub"
expect 0 "securesystemslib verifies the PKCS#11 envelope with the public key alone" -- \
	dsse_verify "$jsonl" --pubkey "$TRASH/release.pub"
grep_out "$(sha256sum "$REPO/dist/notes.txt" | cut -d' ' -f1)  dist/notes.txt" "its statement names notes.txt with its sha256"
grep_out "  dist/hello-1.0.tar.gz" "and hello-1.0.tar.gz"
expect 1 "twin: another key does not verify it" -- dsse_verify "$jsonl" --pubkey "$TRASH/other.pub"
grep_out "no signature of the envelope verifies" "the reason is the signature"
# one byte of the payload changed (a subject digest), the envelope re-encoded
/usr/bin/python3 "$SG_LIB/dsse-tamper.py" "$jsonl" "$TRASH/tampered.jsonl"
expect 1 "twin: one byte changed in the payload fails the same check" -- \
	dsse_verify "$TRASH/tampered.jsonl" --pubkey "$TRASH/release.pub"
grep_out "no signature of the envelope verifies" "the reason is the signature"

note=$(git -C "$REPO" notes --ref signatures show HEAD)
check "the note holds one attestation paragraph for the batch" \
	test "$(printf '%s\n' "$note" | grep -c '^Signgate-Attestation: dsse')" = 1
envsha=$(head -n1 "$jsonl" | tr -d '\n' | sha256sum | cut -d' ' -f1)
check "every event names it by Attestation-Sha256" \
	test "$(printf '%s\n' "$note" | grep -c "^Attestation-Sha256: $envsha")" = 3
head -n1 "$jsonl" | tr -d '\n' >"$TRASH/line"
check "the note's Attestation is the .intoto.jsonl line" sh -c \
	"printf '%s\n' \"\$1\" | sed -n 's/^Attestation: //p' | base64 -d | cmp -s - '$TRASH/line'" _ "$note"
expect 0 "verify trusts the attested event" -- sg verify dist/notes.txt

# the hand check of signgate-notes(5), "Checking an attestation by hand":
# the page's own block (tests/lib/doc-run.py extracts it), run as a reader
# would, on tag v1.0 of this batch, with ca.pem the CA given
python3 "$SG_LIB/doc-run.py" block "$SG_TOP/docs/signgate-notes.md" hand-check >"$TRASH/hand-check.sh" ||
	not_ok "the page has one block with id=hand-check"
git -C "$REPO" tag v1.0 HEAD
hand_check() { # GIT_DIR CA
	rm -rf "$TRASH/hand" && mkdir "$TRASH/hand" && cp "$2" "$TRASH/hand/ca.pem" &&
		(cd "$TRASH/hand" && GIT_DIR=$1 && export GIT_DIR && set -e && . "$TRASH/hand-check.sh")
}
expect 0 "the hand check of signgate-notes(5) runs" -- hand_check "$REPO/.git" "$PKI/ca.pem"
grep_out "^envelope.json: OK" "1. sha256sum: the attestation's bytes hash to the event's Attestation-Sha256"
grep_out "^signer.pem: OK" "2. openssl verify: the signer certificate chains to the trust anchor"
grep_out "^signer.der: OK" "2. its digest is the event's Signer-Cert-Sha256"
grep_out "^Verified OK" "3. openssl dgst: the DSSE signature over the PAE verifies"
grep_out "\"sha256\": \"$(sha256sum "$REPO/dist/hello-1.0.tar.gz" | cut -d' ' -f1)\"" "4. the statement has the event's subject"
grep_out "^true$" "4. and its commit"
expect 2 "twin: the hand check against another CA fails at step 2 (openssl verify exits 2)" -- hand_check "$REPO/.git" "$PKI/other-ca.pem"
no_grep_out "signer.pem: OK" "openssl verify refuses the chain"
no_grep_out "Verified OK" "and the check stops there"
# twin of step 3: a forged envelope (one payload byte changed) stored with its
# own digest in a copy of the repository passes steps 1 and 2, not 3
cp -R "$REPO/.git" "$TRASH/forged.git"
/usr/bin/python3 "$SG_LIB/dsse-tamper.py" "$jsonl" "$TRASH/forged.jsonl"
fsha=$(tr -d '\n' <"$TRASH/forged.jsonl" | sha256sum | cut -d' ' -f1)
git -C "$REPO" notes --ref signatures show HEAD |
	sed -e "s/$envsha/$fsha/" -e "s|^Attestation: .*|Attestation: $(tr -d '\n' <"$TRASH/forged.jsonl" | base64 -w0)|" >"$TRASH/forged-note"
check "the forged note differs from the genuine one" sh -c "! git -C '$REPO' notes --ref signatures show HEAD | cmp -s - '$TRASH/forged-note'"
GIT_DIR=$TRASH/forged.git git notes --ref signatures add -f -C "$(GIT_DIR=$TRASH/forged.git git hash-object -w "$TRASH/forged-note")" HEAD
expect 1 "twin: the hand check of a forged envelope fails" -- hand_check "$TRASH/forged.git" "$PKI/ca.pem"
grep_out "^envelope.json: OK" "the forgery passes step 1 (its digest is its own)"
grep_out "^signer.pem: OK" "and step 2 (the genuine certificate)"
grep_out "Verification failure" "step 3 refuses it: openssl dgst"
no_grep_out "Verified OK" "no step says the signature verifies"
expect 0 "log --json" -- sg --json log
check "log --json: both events are attested" sh -c "jq -e '[.[] | select(.type == \"event\") | .attested] == [true, true]' '$TRASH/out' >/dev/null"

# ---- a file-key (test profile) CMS batch ----
printf 'test artifact\n' >"$REPO/test/t.txt"
expect 0 "a file-key CMS batch (test profile)" -- sg sign test/t.txt
tjsonl=$REPO/test/$head_sha.intoto.jsonl
expect 0 "securesystemslib verifies the file-key envelope with the public key alone" -- \
	dsse_verify "$tjsonl" --pubkey "$TRASH/other.pub"
grep_out "  test/t.txt" "its statement names test/t.txt"
expect 1 "twin: the production key does not verify the test envelope" -- \
	dsse_verify "$tjsonl" --pubkey "$TRASH/release.pub"
grep_out "no signature of the envelope verifies" "the reason is the signature"
check "a second batch on the same commit adds a paragraph, never replaces one" \
	test "$(git -C "$REPO" notes --ref signatures show HEAD | grep -c '^Signgate-Attestation: dsse')" = 2

# ---- forgery: a hand-written one-line note on another commit ----
sg_reviewed_commit src/two.c 'int two;'
git -C "$REPO" notes --ref signatures add -m "Signgate-Event: sign" HEAD
expect 0 "log --json lists the forged one-line note" -- sg --json log
check "log --json: the forged paragraph is \"attested\": false" sh -c \
	"jq -e '[.[] | select(.type == \"event\" and .attested == false)] | length == 1' '$TRASH/out' >/dev/null"
check "log --json: the other three are attested" sh -c \
	"jq -e '[.[] | select(.type == \"event\" and .attested == true)] | length == 3' '$TRASH/out' >/dev/null"
expect 0 "log (text)" -- sg log
grep_out "^sign .*unattested" "log marks the forged paragraph unattested"
grep_out "UNATTESTED: *no Attestation-Sha256" "and says why"
expect 5 "verify --rev on the forged commit: exit 5" -- sg verify --rev HEAD dist/notes.txt

# a forged full paragraph naming a real signature, without attestation
git -C "$REPO" notes --ref signatures add -f -m "Signgate-Event: sign
Artifact: dist/notes.txt
Artifact-Sha256: $(sha256sum "$REPO/dist/notes.txt" | cut -d' ' -f1)
Signature-Sha256: $(sha256sum "$REPO/dist/notes.txt.p7s" | cut -d' ' -f1)
Profile: release" HEAD
expect 5 "a forged paragraph naming a real signature: verify --rev exit 5" -- sg verify --rev HEAD dist/notes.txt
grep_out "unattested (no Attestation-Sha256" "verify says unattested, and why"

# a copied attested paragraph (on another commit): not trusted there
git -C "$REPO" notes --ref signatures show HEAD~1 >"$TRASH/orig.note"
git -C "$REPO" notes --ref signatures add -f -F "$TRASH/orig.note" HEAD
expect 5 "an attested paragraph copied to another commit is not trusted (verify --rev)" -- \
	sg verify --rev HEAD dist/notes.txt
grep_out "unattested (attestation [0-9a-f]*: the attestation is for another commit" "the reason: another commit"
expect 0 "twin: on its own commit the same event verifies" -- sg verify --rev HEAD~1 dist/notes.txt

# an edited attested paragraph: not trusted
sed 's/^Signed-At: \(.*\)$/Signed-At: \1\nTag: v9.9/' "$TRASH/orig.note" >"$TRASH/edited.note"
git -C "$REPO" notes --ref signatures add -f -F "$TRASH/edited.note" HEAD~1
check "the edit added a Tag line" grep -q '^Tag: v9.9' "$TRASH/edited.note"
expect 5 "an edited attested paragraph (a Tag added) is not trusted" -- sg verify --rev HEAD~1 dist/notes.txt
grep_out "another tag than the paragraph" "the reason: another tag"
sed 's/^\(Attestation: .\{20\}\)A/\1B/;t;s/^\(Attestation: .\{20\}\)./\1A/' "$TRASH/orig.note" >"$TRASH/edited.note"
git -C "$REPO" notes --ref signatures add -f -F "$TRASH/edited.note" HEAD~1
expect 5 "an edited attestation paragraph is not trusted" -- sg verify --rev HEAD~1 dist/notes.txt
grep_out "do not hash to its Attestation-Sha256" "the reason: the bytes do not hash"
git -C "$REPO" notes --ref signatures add -f -F "$TRASH/orig.note" HEAD~1
expect 0 "twin: the original note verifies again" -- sg verify --rev HEAD~1 dist/notes.txt

done_testing
