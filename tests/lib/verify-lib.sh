# Fixtures for the reviewer-side tests (tests/e2e/t04*.sh). Source it after
# test-lib.sh. Builds on tests/lib/pki.sh, tsa.sh and clamdb.sh.
#
#   vt_setup            test PKI in $VT_PKI ($TRASH/pki, see pki.sh), a TSA
#                       ($SG_TSA_URL, CA $VT_TSA/tsa-ca.pem), a ClamAV test
#                       database $VT_DB, and $VT_REPO ($TRASH/repo) with one
#                       reviewed commit on main and dist/app.tar.gz. cd's there.
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
. "$SG_LIB/pki.sh"
. "$SG_LIB/tsa.sh"
. "$SG_LIB/clamdb.sh"

vt_time() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y%m%d%H%M%SZ; }
vt_rfc3339() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
vt_sha() { sha256sum "$1" | cut -c1-64; }
vt_cert_sha() { openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-64; }

vt_cert() {
	sg_pki_cert "$1" "$2" inter codesign "$VT_PKI" "" -startdate "$3" -enddate "$4"
}

vt_commit() {
	git add -A && git commit -q -m "$1" -m "Reviewed-by: Bob <bob@example.com>"
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
	VT_PKI=$TRASH/pki VT_TSA=$TRASH/tsa VT_DB=$TRASH/clamdb VT_REPO=$TRASH/repo
	sg_pki_make "$VT_PKI" || { echo "vt_setup: no test PKI" >&2; exit 1; }
	mkdir -p "$VT_TSA" && sg_tsa_pki "$VT_TSA" >/dev/null &&
		sg_tsa_start "$VT_TSA" ok --lifetime 300 >/dev/null || { echo "vt_setup: no TSA" >&2; exit 1; }
	sg_make_clamdb "$VT_DB" || { echo "vt_setup: no ClamAV test database" >&2; exit 1; }
	git init -q "$VT_REPO" && cd "$VT_REPO" || exit 1
	mkdir dist && head -c 50000 /dev/urandom >dist/app.tar.gz && echo "# app" >README
	printf 'dist/*.p7s\ndist/*.asc*\n' >.gitignore
	vt_commit "first" || exit 1
}
