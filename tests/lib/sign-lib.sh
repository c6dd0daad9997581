# Fixture for signing tests and the demo. Source after test-lib.sh.
#
#   sg_sign_fixture        makes, under $TRASH:
#     pki/        test PKI (tests/lib/pki.sh): CA, intermediate, code-signing cert
#     tsapki/     the TSA's own PKI (tests/lib/tsa.sh)
#     hsm/        a SoftHSM2 token "release" holding the code-signing key (PIN 123456)
#     clamdb/     a ClamAV database that knows the EICAR test string
#     repo/       a git repository whose main branch carries .signgate and a
#                 commit reviewed by bob and carol (two Reviewed-by trailers)
#   and starts a TSA on 127.0.0.1 ($SG_TSA_URL). Exports PKI TSAPKI CLAMDB REPO
#   SIGNGATE_PIN. The policy has one production profile "release" (PKCS#11,
#   timestamp required, artifacts dist/*) and one "test" profile (file key
#   from a separate test CA, timestamp optional, artifacts test/*).
#   sg_policy_text     prints that policy (to edit it in a test: sg_policy_text | sed ...)
#   sg_pgp_profile_text FPR  prints an openpgp profile "pgp" to append to it
#   sg_commit_policy   commits the policy given on stdin as .signgate on main
#   sg_reviewed_commit FILE CONTENT  commits with two reviews (bob, carol)
. "$SG_LIB/pki.sh"
. "$SG_LIB/softhsm.sh"
. "$SG_LIB/clamdb.sh"
. "$SG_LIB/tsa.sh"

sg_policy_text() {
	cat <<POLICY
[gate]
	protectedBranch = main
	requiredReviews = 2
	reviewSource = trailers
[profile "release"]
	format = cms
	key = "pkcs11:token=release;object=codesign"
	pkcs11Module = $SG_SOFTHSM_MODULE
	cert = $PKI/codesign.pem
	chain = $PKI/chain.pem
	trustAnchor = $PKI/ca.pem
	tsa = $SG_TSA_URL
	tsaTrustAnchor = $TSAPKI/tsa-ca.pem
	artifacts = dist/*
[profile "test"]
	format = cms
	key = file:$PKI/other.key
	cert = $PKI/other.pem
	trustAnchor = $PKI/other-ca.pem
	test = true
	tsa = $SG_TSA_URL
	tsaTrustAnchor = $TSAPKI/tsa-ca.pem
	artifacts = test/*
[scan]
	database = $CLAMDB
	required = true
POLICY
}

# sg_pgp_profile_text FPR: an openpgp profile "pgp" (key FPR on disk, the
# fixture's TSA, artifacts pgp/*), to append to sg_policy_text
sg_pgp_profile_text() {
	cat <<POL
[profile "pgp"]
	format = openpgp
	key = $1
	requireHardwareKey = false
	tsa = $SG_TSA_URL
	tsaTrustAnchor = $TSAPKI/tsa-ca.pem
	artifacts = pgp/*
POL
}

sg_commit_policy() {
	cat >"$REPO/.signgate" && git -C "$REPO" add .signgate &&
		git -C "$REPO" commit -q -m "policy" -m "Reviewed-by: Bob <bob@example.com>"
}

sg_reviewed_commit() {
	mkdir -p "$(dirname "$REPO/$1")" && printf '%s\n' "$2" >"$REPO/$1" &&
		git -C "$REPO" add "$1" &&
		git -C "$REPO" commit -q -m "add $1" -m "Reviewed-by: Bob <bob@example.com>
Reviewed-by: Carol <carol@example.com>"
}

sg_sign_fixture() {
	PKI=$TRASH/pki TSAPKI=$TRASH/tsapki CLAMDB=$TRASH/clamdb REPO=$TRASH/repo
	export PKI TSAPKI CLAMDB REPO
	sg_pki_make "$PKI" >/dev/null || return 1
	sg_tsa_pki "$TSAPKI" >/dev/null || return 1
	sg_softhsm_init "$TRASH/hsm" release 123456 12345678 "$PKI" >/dev/null || return 1
	export SIGNGATE_PIN=123456
	sg_make_clamdb "$CLAMDB" || return 1
	sg_tsa_start "$TSAPKI" ok >/dev/null || return 1
	git init -q "$REPO" || return 1
	sg_policy_text | sg_commit_policy || return 1
	mkdir -p "$REPO/dist" "$REPO/test"
	sg_reviewed_commit src/hello.c 'int main(void) { return 0; }'
}

# cms_verify FILE [CAFILE]: the independent check of a .p7s
cms_verify() {
	openssl cms -verify -binary -inform DER -in "$1.p7s" -content "$1" \
		-CAfile "${2:-$PKI/ca.pem}" -purpose any -out /dev/null 2>"$TRASH/cms.err"
}
# ts_verify_p7s FILE: extract the RFC 3161 token of a .p7s and check it with openssl ts
ts_verify_p7s() {
	python3 "$SG_LIB/p7s-token.py" "$1.p7s" "$TRASH/token.der" "$TRASH/sigvalue.bin" &&
		openssl ts -verify -token_in -in "$TRASH/token.der" -data "$TRASH/sigvalue.bin" \
			-CAfile "$TSAPKI/tsa-ca.pem" >/dev/null 2>"$TRASH/ts.err"
}
