#!/bin/sh
# `git tag -s` with gpg.format=x509 and gpg.x509.program=signgate: the tag
# object carries a CMS signature that `git verify-tag` (through signgate)
# and openssl accept; a tampered tag fails; an unreviewed commit gets no tag.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
export PATH="$SIGNGATE_BUILD:$PATH"
git -C "$REPO" config gpg.format x509
git -C "$REPO" config gpg.x509.program signgate

expect 0 "git tag -s v1.1 on a reviewed commit" -- git -C "$REPO" tag -s v1.1 -m "release 1.1"
check "the tag object carries a SIGNED MESSAGE" sh -c "git -C '$REPO' cat-file tag v1.1 | grep -q -- '-----BEGIN SIGNED MESSAGE-----'"
expect 0 "git verify-tag v1.1 passes" -- git -C "$REPO" verify-tag v1.1
grep_out "good signature" "verify-tag shows signgate's good signature"
expect 0 "git tag -v shows the signer" -- git -C "$REPO" tag -v v1.1
grep_out "CN=" "the signer's subject is shown"

# independent check: openssl over the payload git signed
git -C "$REPO" cat-file tag v1.1 >"$TRASH/tag.txt"
sed -n '/^-----BEGIN SIGNED MESSAGE-----$/,$p' "$TRASH/tag.txt" | sed 's/SIGNED MESSAGE/PKCS7/' >"$TRASH/sig.pem"
sed '/^-----BEGIN SIGNED MESSAGE-----$/,$d' "$TRASH/tag.txt" >"$TRASH/payload"
check "openssl cms -verify accepts the tag signature" sh -c "openssl cms -verify -binary -inform PEM -in '$TRASH/sig.pem' -content '$TRASH/payload' -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null"
printf 'x' >>"$TRASH/payload"
check "openssl cms -verify rejects another payload" sh -c "! openssl cms -verify -binary -inform PEM -in '$TRASH/sig.pem' -content '$TRASH/payload' -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null"

# the record
note=$(git -C "$REPO" notes --ref signatures show v1.1^{commit} 2>/dev/null)
check "the signing is recorded with Tag: v1.1" sh -c "printf '%s\n' \"\$1\" | grep -q '^Tag: v1.1$'" _ "$note"
check "the event is a cms signing by the release profile" sh -c "printf '%s\n' \"\$1\" | grep -q '^Profile: release$' && printf '%s\n' \"\$1\" | grep -q '^Signature-Format: cms$'" _ "$note"
check "the audit log has sign-tag" sh -c "grep -q '\"op\": *\"sign-tag\"' '$REPO/.git/signgate/audit.log'"
# one signing path: the event is the pipeline's, field for field, as
# `signgate sign --tag` writes it for a file on the same commit
printf 'tarball\n' >"$REPO/dist/proj-v1.1.tar.gz"
expect 0 "signgate sign --tag v1.1 of a file on the same commit" -- sh -c "cd '$REPO' && signgate sign --tag v1.1 dist/proj-v1.1.tar.gz"
# (each batch's attestation paragraph comes before its event: keep the events)
git -C "$REPO" notes --ref signatures show v1.1^{commit} |
	awk 'BEGIN { RS = ""; ORS = "\n\n" } /^Signgate-Event:/' >"$TRASH/note2"
check "each of the two batches recorded its attestation" test \
	"$(git -C "$REPO" notes --ref signatures show v1.1^{commit} | grep -c '^Signgate-Attestation: dsse$')" = 2
expect 0 "log --json" -- sh -c "cd '$REPO' && signgate --json log"
check "the git tag -s event is attested (DESIGN.md 4a)" sh -c \
	"jq -e '[.[] | select(.type == \"event\" and .tag == \"v1.1\" and .scan != null and (.scan | startswith(\"not scanned (a git tag payload\"))) | .attested] == [true]' '$TRASH/out' >/dev/null"
awk 'BEGIN{RS=""} NR==1' "$TRASH/note2" | sed 's/:.*//' >"$TRASH/keys-x509"
awk 'BEGIN{RS=""} NR==2' "$TRASH/note2" | sed 's/:.*//' >"$TRASH/keys-sign"
check "the git tag -s event has the same fields, in the same order, as sign's" cmp -s "$TRASH/keys-x509" "$TRASH/keys-sign"
gate1=$(awk 'BEGIN{RS=""} NR==1' "$TRASH/note2" | grep '^Gate: allowed')
gate2=$(awk 'BEGIN{RS=""} NR==2' "$TRASH/note2" | grep '^Gate: allowed')
check "and the same gate verdict" test -n "$gate1" -a "$gate1" = "$gate2"
check "the payload was hashed, not scanned" sh -c "awk 'BEGIN{RS=\"\"} NR==1' '$TRASH/note2' | grep -q '^Scan: not scanned (a git tag payload'"

# tampered tag object: another tag name, same signature
git -C "$REPO" cat-file tag v1.1 | sed 's/^tag v1.1$/tag v1.2/' >"$TRASH/forged"
forged=$(git -C "$REPO" mktag <"$TRASH/forged")
git -C "$REPO" update-ref refs/tags/v1.2 "$forged"
expect 1 "git verify-tag rejects the tampered tag" -- git -C "$REPO" verify-tag v1.2
grep_out "BADSIG\|does not match\|verification failed" "the reason is given"
# a signature from a certificate outside the trust anchor
git -C "$REPO" config user.signingkey test
git -C "$REPO" -c gpg.x509.program=signgate tag -s v1.3 -m "test-profile signed" 2>/dev/null
if git -C "$REPO" rev-parse -q --verify refs/tags/v1.3 >/dev/null; then
	ok "a tag signed with the test profile is made"
	expect 0 "verify-tag accepts it (the test profile's anchor), trust undefined" -- git -C "$REPO" verify-tag --raw v1.3
	grep_out "TRUST_UNDEFINED" "a test profile's signature is not fully trusted"
else
	not_ok "a tag signed with the test profile is made"
fi
git -C "$REPO" config --unset user.signingkey

# denial twin: unreviewed commit
git -C "$REPO" commit -q --allow-empty -m "unreviewed"
notes_before=$(git -C "$REPO" rev-parse refs/notes/signatures)
expect 128 "git tag -s on an unreviewed commit fails" -- git -C "$REPO" tag -s v2.0 -m "release 2.0"
check "the reason is in the audit log (git 2.39 hides the program's stderr)" sh -c "tail -n1 '$REPO/.git/signgate/audit.log' | jq -e '.op == \"sign-tag\" and .decision == \"denied\" and (.reason | test(\"review\"))' >/dev/null"
check "no tag v2.0" sh -c "! git -C '$REPO' rev-parse -q --verify refs/tags/v2.0 >/dev/null"
check "no new record" test "$(git -C "$REPO" rev-parse refs/notes/signatures)" = "$notes_before"

# commit payloads are refused
expect 128 "git commit -S through signgate is refused" -- git -C "$REPO" commit -q -S --allow-empty -m "signed commit"
check "with the reason in the audit log" sh -c "tail -n1 '$REPO/.git/signgate/audit.log' | jq -e '.reason | test(\"signs release tags only\")' >/dev/null"

# the protocol, directly
expect 2 "an unknown signing-program call is a usage error" -- signgate --status-fd=2 --frobnicate
printf 'object %s\ntype commit\ntag v3\ntagger A <a@b> 0 +0000\n\nm\n' "$(git -C "$REPO" rev-parse main~1)" >"$TRASH/p"
expect 0 "sign mode writes SIG_CREATED on the status fd" -- sh -c "cd '$REPO' && signgate --status-fd=2 -bsau release <'$TRASH/p'"
grep_out "^\[GNUPG:\] SIG_CREATED " "SIG_CREATED at the start of a line"
grep_out "^-----BEGIN SIGNED MESSAGE-----" "the PEM armour git expects"
cp "$TRASH/out" "$TRASH/p.sig"
expect 0 "verify mode: good" -- sh -c "cd '$REPO' && signgate --status-fd=1 --verify '$TRASH/p.sig' - <'$TRASH/p'"
check "NEWSIG comes first, GOODSIG after it" sh -c "head -n1 '$TRASH/out' | grep -q '^\[GNUPG:\] NEWSIG' && sed -n 2p '$TRASH/out' | grep -q '^\[GNUPG:\] GOODSIG '"
grep_out "^\[GNUPG:\] VALIDSIG " "VALIDSIG"
grep_out "^\[GNUPG:\] TRUST_FULLY" "TRUST_FULLY"
printf 'changed' >>"$TRASH/p"
expect 5 "verify mode: a changed payload is BADSIG" -- sh -c "cd '$REPO' && signgate --status-fd=1 --verify '$TRASH/p.sig' - <'$TRASH/p'"
grep_out "^\[GNUPG:\] BADSIG " "BADSIG"
no_grep_out "GOODSIG" "and no GOODSIG"
done_testing
