#!/bin/sh
# Keys separated by what they are (issue 12 item 3): a test profile that
# holds the production key is refused however the policy spells it -- the
# production PKCS#11 URI in another attribute order or percent-encoded, a
# test-CA certificate for the production public key, the production key as
# a file -- by `sign` (exit 3, nothing signed, the token never used) and by
# `doctor` (a FAIL, exit 1). Keys are compared by the SHA-256 of their
# SubjectPublicKeyInfo (read from the token without a PIN, from the key
# file, and from each certificate), by token object, and by certificate.
# Twin: the fixture's own test profile (its own key and test CA) signs
# the unreviewed feature commit, and doctor says the keys are separate.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && exec "$SIGNGATE" "$@"); }
# a test-CA (other-ca) certificate for the production public key
sg_pki_cert testprod "Test Signer" other-ca codesign "$PKI" "$PKI/codesign.key" ||
	{ echo "cannot issue testprod.pem"; exit 1; }
spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64; }
check "openssl: testprod.pem is the test CA's" sh -c "openssl verify -CAfile '$PKI/other-ca.pem' '$PKI/testprod.pem' >/dev/null 2>&1"
check "openssl: and holds the production public key" test "$(spki "$PKI/testprod.pem")" = "$(spki "$PKI/codesign.pem")"
check "the twin's test certificate holds another key" test "$(spki "$PKI/other.pem")" != "$(spki "$PKI/codesign.pem")"

# test_profile KEY CERT: the policy on main with the test profile's key and cert replaced
test_profile() {
	sg_policy_text | sed "s|^\(\tkey = \)file:$PKI/other.key\$|\1\"$1\"|; s|^\(\tcert = \)$PKI/other.pem\$|\1$2|" |
		sg_commit_policy
	grep -q -F "$1" "$REPO/.signgate" || echo "test_profile: the key was not replaced" >&2
}
git -C "$REPO" checkout -q -b feature
git -C "$REPO" commit -q --allow-empty -m "unreviewed feature"
n=0
# attack NAME KEY CERT WHAT: sign is denied naming WHAT, doctor fails
attack() {
	n=$((n + 1))
	git -C "$REPO" checkout -q main && test_profile "$2" "$3" && git -C "$REPO" checkout -q feature &&
		git -C "$REPO" rebase -q main
	printf 'build %s\n' "$n" >"$REPO/test/a$n.bin"
	notes=$(git -C "$REPO" rev-parse -q --verify refs/notes/signatures)
	expect 3 "$1: sign --profile test is denied" -- sg --profile test sign "test/a$n.bin"
	grep_out "profiles \"release\" and \"test\" share $4" "the reason: they share $4"
	grep_out "a test profile must never hold a production key" "and what is wrong"
	check "nothing was signed" test ! -e "$REPO/test/a$n.bin.p7s"
	check "nothing was recorded" test "$(git -C "$REPO" rev-parse -q --verify refs/notes/signatures)" = "$notes"
	expect 1 "$1: doctor fails" -- sg doctor --no-tsa
	grep_out "FAIL.*profiles.*share $4" "doctor's FAIL line names the overlap"
}

# the issue's attack: the production URI in another order, a test-CA cert for the production key
attack "production PKCS#11 URI reordered, test-CA cert for the production key" \
	"pkcs11:object=codesign;token=release" "$PKI/testprod.pem" "a public key"
# the URI alone (percent-encoded, another order; the module cannot be loaded, so the
# token object is what identifies it), with the test profile's own certificate
attack "production token object, percent-encoded, module unreachable" \
	"pkcs11:object=code%73ign;token=rel%65ase;module-path=/nonexistent/libsofthsm2.so" "$PKI/other.pem" "the token object"
# the production token key under its own URI spelling, the test's own cert
attack "production URI reordered (the token's public key read without a PIN)" \
	"pkcs11:object=codesign;token=release" "$PKI/other.pem" "a public key"
# a test-CA certificate for the production public key, with the test's own key file
attack "test-CA certificate for the production public key" "file:$PKI/other.key" "$PKI/testprod.pem" "a public key"
# the production private key as a file
attack "the production key as a file" "file:$PKI/codesign.key" "$PKI/other.pem" "a public key"

# twin: the test profile with its own key and test-CA certificate
git -C "$REPO" checkout -q main && sg_policy_text | sg_commit_policy && git -C "$REPO" checkout -q feature &&
	git -C "$REPO" rebase -q main
printf 'twin\n' >"$REPO/test/twin.bin"
expect 0 "twin: the test profile's own key signs the unreviewed feature commit" -- sg --profile test sign test/twin.bin
check "openssl: it is the test CA's signature" cms_verify "$REPO/test/twin.bin" "$PKI/other-ca.pem"
expect 0 "twin: doctor passes" -- sg doctor --no-tsa
grep_out "OK.*profiles.*keys and certificates separate" "doctor says the keys are separate"
expect 3 "twin: the release profile still may not sign the feature commit" -- sg --profile release sign test/twin.bin
done_testing
