#!/bin/sh
# verify: a signed, timestamped, recorded artifact verifies (and openssl
# agrees); each forgery fails with exit 5 and names its reason.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/verify-lib.sh"
vt_setup
vt_policy "$(vt_profile release "$VT_PKI/codesign.pem" "$VT_PKI/codesign.key" 'artifacts = dist/*' 'requireTimestamp = false')"

expect 0 "sign dist/app.tar.gz" -- "$SIGNGATE" sign dist/app.tar.gz
expect 0 "openssl cms -verify agrees" -- openssl cms -verify -binary -inform DER -in dist/app.tar.gz.p7s \
	-content dist/app.tar.gz -CAfile "$VT_PKI/ca.pem" -purpose any -out /dev/null
expect 0 "verify the signed artifact" -- "$SIGNGATE" verify dist/app.tar.gz
grep_out "verified dist/app.tar.gz" "says verified"
grep_out "timestamp  20" "reports the verified timestamp"
expect 0 "verify --rev HEAD (the event is on HEAD)" -- "$SIGNGATE" verify --rev HEAD dist/app.tar.gz
expect 0 "verify --json" -- "$SIGNGATE" --json verify dist/app.tar.gz
check "json: verified, sha256, signer, event commit" sh -c "jq -e '.verified == true and .files[0].ok == true and
	.files[0].sha256 == \"$(vt_sha dist/app.tar.gz)\" and
	.files[0].signer.cert_sha256 == \"$(vt_cert_sha "$VT_PKI/codesign.pem")\" and
	.files[0].event.commit == \"$(git rev-parse HEAD)\" and .files[0].timestamp != null' '$TRASH/out' >/dev/null"

# forgery twins
cp dist/app.tar.gz "$TRASH/orig"
printf 'X' | dd of=dist/app.tar.gz bs=1 seek=100 conv=notrunc 2>/dev/null
expect 5 "tampered artifact fails" -- "$SIGNGATE" verify dist/app.tar.gz
grep_out "signature does not match the artifact" "names the mismatch"
cp "$TRASH/orig" dist/app.tar.gz

cp dist/app.tar.gz.p7s "$TRASH/orig.p7s"
size=$(stat -c %s dist/app.tar.gz.p7s)
printf '\001' | dd of=dist/app.tar.gz.p7s bs=1 seek=$((size - 80)) conv=notrunc 2>/dev/null
expect 5 "tampered .p7s fails" -- "$SIGNGATE" verify dist/app.tar.gz
cp "$TRASH/orig.p7s" dist/app.tar.gz.p7s

openssl cms -sign -binary -md sha256 -in dist/app.tar.gz -signer "$VT_PKI/other.pem" -inkey "$VT_PKI/other.key" \
	-outform DER -out dist/app.tar.gz.p7s 2>/dev/null
expect 5 "signature by an untrusted CA fails" -- "$SIGNGATE" verify dist/app.tar.gz
grep_out "not trusted by trustAnchor" "names the untrusted chain"

# a second valid signature by the right cert that was never recorded
openssl cms -sign -binary -md sha256 -in dist/app.tar.gz -signer "$VT_PKI/codesign.pem" -inkey "$VT_PKI/codesign.key" \
	-certfile "$VT_PKI/chain.pem" -outform DER -out dist/app.tar.gz.p7s 2>/dev/null
expect 5 "a signature whose digest is not in the note fails" -- "$SIGNGATE" --profile release verify dist/app.tar.gz
grep_out "records Signature-Sha256" "names the Signature-Sha256 mismatch"
cp "$TRASH/orig.p7s" dist/app.tar.gz.p7s

commit_file . README "more" "second" "Reviewed-by: Bob <bob@example.com>"
expect 5 "verify --rev on a commit without the event fails" -- "$SIGNGATE" verify --rev HEAD dist/app.tar.gz
grep_out "no signing event for sha256" "names the missing event"

git update-ref -d refs/notes/signatures
expect 5 "missing note fails" -- "$SIGNGATE" verify dist/app.tar.gz
grep_out "no signing event for sha256 $(vt_sha dist/app.tar.gz) in refs/notes/signatures" "names digest and ref"
expect 5 "a file with no signature fails" -- "$SIGNGATE" verify README
done_testing
