#!/bin/sh
# sign with the production profile (PKCS#11 key on SoftHSM2, RFC 3161
# timestamp, ClamAV scan); every output checked by openssl and git; each
# success has its denial twin.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }

git -C "$REPO" archive --prefix=hello-1.0/ -o dist/hello-1.0.tar.gz HEAD
printf 'second artifact\n' >"$REPO/dist/notes.txt"

expect 0 "sign two artifacts in one batch" -- sg sign dist/hello-1.0.tar.gz dist/notes.txt
check "openssl cms -verify accepts hello-1.0.tar.gz.p7s" cms_verify "$REPO/dist/hello-1.0.tar.gz"
check "openssl cms -verify accepts notes.txt.p7s" cms_verify "$REPO/dist/notes.txt"
check "openssl ts -verify accepts the embedded token" ts_verify_p7s "$REPO/dist/hello-1.0.tar.gz"
check "the signature is DER CMS (first byte 0x30)" sh -c "[ \"\$(head -c1 '$REPO/dist/notes.txt.p7s' | od -An -tx1 | tr -d ' ')\" = 30 ]"

# forgery twins of the independent checks
cp "$REPO/dist/notes.txt" "$TRASH/notes.orig"
printf 'tampered\n' >>"$REPO/dist/notes.txt"
check "openssl cms -verify rejects a tampered artifact" sh -c "! openssl cms -verify -binary -inform DER -in '$REPO/dist/notes.txt.p7s' -content '$REPO/dist/notes.txt' -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null"
cp "$TRASH/notes.orig" "$REPO/dist/notes.txt"
check "openssl cms -verify rejects another CA" sh -c "! openssl cms -verify -binary -inform DER -in '$REPO/dist/notes.txt.p7s' -content '$REPO/dist/notes.txt' -CAfile '$PKI/other-ca.pem' -purpose any -out /dev/null 2>/dev/null"
check "openssl ts -verify rejects a token over other data" sh -c "printf x >'$TRASH/x' && ! openssl ts -verify -token_in -in '$TRASH/token.der' -data '$TRASH/x' -CAfile '$TSAPKI/tsa-ca.pem' >/dev/null 2>&1"

# the record
note=$(git -C "$REPO" log --notes=signatures -1 --format=%N)
sha=$(sha256sum "$REPO/dist/hello-1.0.tar.gz" | cut -d' ' -f1)
sigsha=$(sha256sum "$REPO/dist/hello-1.0.tar.gz.p7s" | cut -d' ' -f1)
certsha=$(openssl x509 -in "$PKI/codesign.pem" -outform DER | sha256sum | cut -d' ' -f1)
for f in "Signgate-Event: sign" "Artifact: dist/hello-1.0.tar.gz" "Artifact-Sha256: $sha" \
	"Artifact-Size: $(wc -c <"$REPO/dist/hello-1.0.tar.gz" | tr -d ' ')" \
	"Signature: dist/hello-1.0.tar.gz.p7s" "Signature-Format: cms" "Signature-Sha256: $sigsha" \
	"Signer-Cert-Sha256: $certsha" "Signer-Subject: " "Key-Storage: hardware" "Profile: release" \
	"Timestamp: 20.*Z ($SG_TSA_URL)" "Scan: clamav .*signatures, clean" \
	"Gate: allowed; refs/heads/main first-parent; 2/2 reviews via trailers: bob@example.com, carol@example.com" \
	"Policy: blob [0-9a-f]* at refs/heads/main" "Signed-By: Author <author@example.com>" "Signed-At: 20" \
	"Tool: signgate "; do
	check "note has '$f'" sh -c "printf '%s\n' \"\$1\" | grep -q \"^\$2\"" _ "$note" "$f"
done
check "one batch is one notes commit" test "$(git -C "$REPO" rev-list --count refs/notes/signatures)" = 1
check "both events are in the note" test "$(printf '%s\n' "$note" | grep -c '^Signgate-Event: sign')" = 2
check "git interpret-trailers reads the last event" sh -c "git -C '$REPO' notes --ref signatures show | git interpret-trailers --parse | grep -q '^Artifact: dist/notes.txt'"
check "the audit log has the signing" sh -c "tail -n1 '$REPO/.git/signgate/audit.log' | jq -e '.op == \"sign\" and .decision == \"signed\"' >/dev/null"

# --json
expect 0 "sign --json" -- sg --json sign dist/notes.txt
check "--json names the signature and the gate" sh -c "jq -e '.signed[0].signature | endswith(\"notes.txt.p7s\")' '$TRASH/out' >/dev/null && jq -e '.gate | startswith(\"allowed\")' '$TRASH/out' >/dev/null"

# --out DIR
mkdir -p "$TRASH/outdir"
expect 0 "sign --out DIR writes there" -- sg sign --out "$TRASH/outdir" dist/notes.txt
check "the signature is in --out" test -s "$TRASH/outdir/notes.txt.p7s"

# denial twin: an unreviewed commit on a feature branch with the release profile
git -C "$REPO" checkout -q -b feature
printf 'x\n' >"$REPO/dist/feature.txt"; git -C "$REPO" add dist/feature.txt; git -C "$REPO" commit -q -m unreviewed
expect 3 "release profile on an unreviewed feature commit: denied" -- sg sign dist/feature.txt
grep_out "denied" "the reason is given"
check "no signature was written" test ! -e "$REPO/dist/feature.txt.p7s"
check "the denial is in the audit log" sh -c "tail -n1 '$REPO/.git/signgate/audit.log' | jq -e '.decision == \"denied\"' >/dev/null"
# a test profile may sign off-branch (with its own test key)
printf 'test build\n' >"$REPO/test/build.bin"
expect 0 "test profile signs off-branch" -- sg sign test/build.bin
check "the test signature verifies against the test CA" cms_verify "$REPO/test/build.bin" "$PKI/other-ca.pem"
check "the note says software key, profile test" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q '^Key-Storage: software' && git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q '^Profile: test'"
# but not with the release profile named explicitly
expect 3 "--profile release off-branch: denied" -- sg --profile release sign dist/feature.txt
git -C "$REPO" checkout -q main

# scan denial twins; a batch with one bad file signs nothing
sg_eicar "$REPO/dist/eicar.bin"
printf 'good\n' >"$REPO/dist/good.txt"
expect 4 "EICAR in a batch: refused" -- sg sign dist/good.txt dist/eicar.bin
grep_out "Signgate.Test.EICAR" "the signature name is reported"
check "nothing of the batch was signed" sh -c "[ ! -e '$REPO/dist/good.txt.p7s' ] && [ ! -e '$REPO/dist/eicar.bin.p7s' ]"
check "no temporary file is left" sh -c "! ls -a '$REPO/dist' | grep -q tmp"
check "the audit log names the malware" sh -c "tail -n1 '$REPO/.git/signgate/audit.log' | jq -e '[.artifacts[].malware] | index(\"Signgate.Test.EICAR.UNOFFICIAL\") != null' >/dev/null"
check "no event was recorded for the batch" sh -c "! git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q 'good.txt'"

# artifact matching no profile
printf 'x\n' >"$REPO/elsewhere.txt"
expect 3 "an artifact matching no profile is refused" -- sg sign elsewhere.txt
grep_out "matches no profile" "the reason names the profiles"
expect 2 "sign with no FILE is a usage error" -- sg sign
done_testing
