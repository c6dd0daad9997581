# Fixtures for the reviewer-side tests (tests/e2e/t04*.sh). Source it after
# test-lib.sh. Builds on sg_sign_fixture (tests/lib/sign-lib.sh).
#
#   vt_setup            sg_sign_fixture (test PKI $VT_PKI = $PKI, a TSA at
#                       $SG_TSA_URL with CA $VT_TSA/tsa-ca.pem, ClamAV test
#                       database $VT_DB, $VT_REPO = $REPO), then a reviewed
#                       commit adding dist/app.tar.gz. cd's into the repo.
#                       The tests write their own policies with vt_policy
#                       (file: keys, so certificates with chosen dates can be
#                       issued per test).
#   vt_profile NAME CERT KEY [KEY=VALUE...]
#                       print a cms [profile "NAME"] section using the test
#                       PKI's anchor and the TSA (none when the first extra
#                       is -notsa); extra lines appended.
#   vt_policy [TEXT]    write .signgate ([gate] 1 review via trailers,
#                       [scan] with $VT_DB) + TEXT, commit it reviewed on main.
#   vt_commit MSG       commit all changes on main with a Reviewed-by trailer.
#   vt_cert NAME CN START END
#                       issue $VT_PKI/NAME.pem/.key (codeSigning, by the
#                       intermediate) valid START..END (YYYYMMDDHHMMSSZ).
#   vt_time OFFSET      UTC time OFFSET seconds from now, as openssl ca wants it.
#   vt_rfc3339 OFFSET   the same as 2026-11-27T10:00:00Z.
#   vt_sha FILE         sha256 hex of FILE.
#   vt_cert_sha PEM     sha256 of the certificate's DER (Signer-Cert-Sha256).
. "$SG_LIB/sign-lib.sh"

vt_time() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y%m%d%H%M%SZ; }
vt_rfc3339() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
vt_sha() { sha256sum "$1" | cut -c1-64; }
vt_cert_sha() { openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-64; }

vt_cert() {
	sg_pki_cert "$1" "$2" inter codesign "$VT_PKI" "" -startdate "$3" -enddate "$4"
}

vt_commit() {
	git add -A && git commit -q -m "$1" -m "Reviewed-by: Bob <bob@example.com>
Reviewed-by: Carol <carol@example.com>"
}

vt_profile() {
	name=$1 cert=$2 key=$3
	shift 3
	printf '[profile "%s"]\n\tformat = cms\n\tkey = file:%s\n\tcert = %s\n\tchain = %s\n' \
		"$name" "$key" "$cert" "$VT_PKI/chain.pem"
	printf '\ttrustAnchor = %s\n\trequireHardwareKey = false\n' "$VT_PKI/ca.pem"
	printf '\ttsaTrustAnchor = %s\n' "$VT_TSA/tsa-ca.pem"
	if [ "${1:-}" = -notsa ]; then shift; else printf '\ttsa = %s\n' "$SG_TSA_URL"; fi
	for kv in "$@"; do printf '\t%s\n' "$kv"; done
}

vt_policy() {
	{
		printf '[gate]\n\tprotectedBranch = main\n\trequiredReviews = 1\n\treviewSource = trailers\n'
		printf '[scan]\n\tdatabase = %s\n\trequired = true\n' "$VT_DB"
		printf '%s\n' "${1:-}"
	} >"$VT_REPO/.signgate"
	(cd "$VT_REPO" && vt_commit "policy")
}

vt_setup() {
	sg_sign_fixture || { echo "vt_setup: sg_sign_fixture failed" >&2; exit 1; }
	VT_PKI=$PKI VT_TSA=$TSAPKI VT_DB=$CLAMDB VT_REPO=$REPO
	cd "$VT_REPO" || exit 1
	mkdir -p dist && head -c 50000 /dev/urandom >dist/app.tar.gz
	printf 'dist/*.p7s\ndist/*.asc*\n' >.gitignore
	vt_commit "app" || exit 1
}
