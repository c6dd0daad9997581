# ClamAV test database and test files, made at test time (no network).
# Source it:  . "$SG_TOP/tests/lib/clamdb.sh"
#
#   sg_eicar FILE         write the 68-byte EICAR anti-virus test string
#   sg_marker FILE        write a file containing the signgate test marker
#   sg_make_clamdb DIR    create DIR with a database that detects both:
#                           DIR/signgate-test.hdb  Signgate.Test.EICAR  (MD5 of the whole file)
#                           DIR/signgate-test.ndb  Signgate.Test.Marker (body signature)
#                         => "2 signatures" in the scan summary.
#
# The EICAR string and the marker are assembled from halves so that this
# file (and a `git archive` of the repository) never matches either
# signature itself. Do the same in C tests.

sg_eicar() {
	printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR' \
		'-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$1"
}

# The marker matches anywhere in a file (body signature), e.g. inside a
# tarball member or appended to a binary.
sg_marker() {
	printf 'payload before\n%s%s\npayload after\n' 'SIGNGATE-TEST-' 'MALWARE-MARKER-7f3a' >"$1"
}

sg_make_clamdb() {
	mkdir -p "$1" || return 1
	_sg_tmp=$(mktemp "${TMPDIR:-/tmp}/sgeicar.XXXXXX") || return 1
	sg_eicar "$_sg_tmp"
	_sg_md5=$(md5sum <"$_sg_tmp" | cut -d' ' -f1)
	_sg_size=$(wc -c <"$_sg_tmp" | tr -d ' ')
	rm -f "$_sg_tmp"
	[ "$_sg_size" = 68 ] || { echo "sg_make_clamdb: EICAR string is $_sg_size bytes, not 68" >&2; return 1; }
	printf '%s:%s:Signgate.Test.EICAR\n' "$_sg_md5" "$_sg_size" >"$1/signgate-test.hdb"
	_sg_hex=$(printf '%s%s' 'SIGNGATE-TEST-' 'MALWARE-MARKER-7f3a' | od -An -tx1 | tr -d ' \n')
	printf 'Signgate.Test.Marker:0:*:%s\n' "$_sg_hex" >"$1/signgate-test.ndb"
	unset _sg_tmp _sg_md5 _sg_size _sg_hex
}
