#!/bin/sh
# Key and certificate refusals: each is a denial (exit 3) that names its reason.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }
printf 'artifact\n' >"$REPO/dist/a.txt"

# a policy file variant: sg_policy_text with one sed expression applied
variant() { sg_policy_text | sed "$1" >"$TRASH/policy"; }

expect 0 "the PKCS#11 key with the right PIN signs" -- sg sign dist/a.txt
SIGNGATE_PIN=000000 expect 3 "wrong PIN: denied" -- sg sign dist/a.txt
SIGNGATE_PIN=000000 grep_out "PIN" "the reason names the PIN"
export SIGNGATE_PIN=123456

# pin-value in the URI: secrets never come from the policy
variant 's|key = "pkcs11:token=release;object=codesign"|key = "pkcs11:token=release;object=codesign;pin-value=123456"|'
expect 3 "pin-value in the key URI is refused" -- sg --policy "$TRASH/policy" sign dist/a.txt
no_grep_out "123456" "the PIN is not echoed"

# the production profile with a software key
cp "$PKI/codesign.key" "$TRASH/sw.key"; chmod 600 "$TRASH/sw.key"
variant "s|key = \"pkcs11:token=release;object=codesign\"|key = file:$TRASH/sw.key|"
expect 3 "software key with requireHardwareKey: denied" -- sg --policy "$TRASH/policy" sign dist/a.txt
grep_out "hardware" "the reason says a hardware key is required"
sg_policy_text | sed "s|key = \"pkcs11:token=release;object=codesign\"|key = file:$TRASH/sw.key\n\trequireHardwareKey = false|" >"$TRASH/policy2"
expect 0 "the twin: the same key signs when requireHardwareKey = false" -- sg --policy "$TRASH/policy2" sign dist/a.txt
check "and the note says software" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q '^Key-Storage: software'"
chmod 644 "$TRASH/sw.key"
expect 3 "key file mode 0644: denied" -- sg --policy "$TRASH/policy2" sign dist/a.txt
grep_out "chmod" "the reason says how to fix it"

# certificates
variant "s|cert = $PKI/codesign.pem|cert = $PKI/expired.pem|"
expect 3 "expired certificate: denied" -- sg --policy "$TRASH/policy" sign dist/a.txt
grep_out "expire" "the reason says expired"
variant "s|cert = $PKI/codesign.pem|cert = $PKI/noeku.pem|"
expect 3 "certificate without codeSigning EKU: denied" -- sg --policy "$TRASH/policy" sign dist/a.txt
grep_out "codeSigning" "the reason names the EKU"

# a test profile may never use the production key or CA
variant "s|key = file:$PKI/other.key|key = \"pkcs11:token=release;object=codesign\"|"
printf 't\n' >"$REPO/test/t.bin"
expect 3 "test profile with the production key (existing file): denied" -- sg --policy "$TRASH/policy" sign test/t.bin
grep_out "share the key" "the reason names the shared key"
cp "$PKI/codesign.key" "$TRASH/test.key"; chmod 600 "$TRASH/test.key"
variant "s|key = file:$PKI/other.key|key = file:$TRASH/test.key|; s|cert = $PKI/other.pem|cert = $PKI/codesign.pem|; s|trustAnchor = $PKI/other-ca.pem|trustAnchor = $PKI/ca.pem|"
expect 3 "test profile with the production certificate: denied" -- sg --policy "$TRASH/policy" sign test/t.bin
expect 0 "the twin: the test profile with its own CA signs" -- sg sign test/t.bin
done_testing
