# Local RFC 3161 timestamp authority for tests and the demo. Source it.
#
#   sg_tsa_pki DIR               make a throwaway TSA PKI in DIR (EC P-256):
#                                tsa-ca.pem (+ .key), tsa.pem/tsa.key (critical
#                                timeStamping EKU), tsa.cnf (openssl ts config),
#                                rogue-ca.pem, rogue-tsa.pem/.key (another CA).
#                                Does nothing if DIR/tsa.cnf already exists.
#   sg_tsa_start DIR MODE [ARGS] start tests/lib/tsa-server.py on 127.0.0.1 in the
#                                background; prints the URL, sets SG_TSA_URL and
#                                SG_TSA_PID, registers the pid for sg_tsa_stop
#                                (and with sg_at_exit when test-lib.sh is loaded).
#                                MODE: ok http500 garbage slow wrong-nonce
#                                wrong-imprint untrusted huge badtype rejected
#                                redirect. ARGS: --lifetime S (default 120),
#                                --slow-seconds S, --fail-first N, --log FILE,
#                                --huge-bytes N, --redirect-to URL.
#   sg_tsa_stop [PID...]         stop the given servers (default: all started here).
#
# The server stops by itself after --lifetime seconds, so a crashed test
# leaves nothing running for long. Its output goes to DIR/tsa-server.log.

sg_tsa_lib() {
	if [ -n "${SG_LIB:-}" ]; then echo "$SG_LIB"
	elif [ -n "${SG_TOP:-}" ]; then echo "$SG_TOP/tests/lib"
	else echo tests/lib; fi
}

# _sg_tsa_cert DIR NAME CANAME SUBJECT EXTSECTION: key + cert signed by CANAME
_sg_tsa_cert() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1/$2.key" 2>/dev/null &&
	chmod 600 "$1/$2.key" &&
	openssl req -new -key "$1/$2.key" -subj "$4" -out "$1/$2.csr" 2>/dev/null &&
	openssl x509 -req -in "$1/$2.csr" -CA "$1/$3.pem" -CAkey "$1/$3.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 825 \
		-extfile "$1/ext.cnf" -extensions "$5" -out "$1/$2.pem" 2>/dev/null &&
	rm -f "$1/$2.csr"
}

# _sg_tsa_ca DIR NAME SUBJECT: self-signed CA
_sg_tsa_ca() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1/$2.key" 2>/dev/null &&
	chmod 600 "$1/$2.key" &&
	openssl req -x509 -new -key "$1/$2.key" -subj "$3" -days 3650 \
		-set_serial "0x$(openssl rand -hex 8)" \
		-config "$1/ext.cnf" -extensions ca_ext -out "$1/$2.pem" 2>/dev/null
}

sg_tsa_pki() {
	d=$1
	[ -f "$d/tsa.cnf" ] && return 0
	mkdir -p "$d" || return 1
	d=$(cd "$d" && pwd) || return 1
	cat >"$d/ext.cnf" <<'EOF'
[ req ]
distinguished_name = req_dn
[ req_dn ]
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ tsa_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
	_sg_tsa_ca "$d" tsa-ca "/O=signgate test/CN=signgate test TSA CA" &&
	_sg_tsa_cert "$d" tsa tsa-ca "/O=signgate test/CN=signgate test TSA" tsa_ext &&
	_sg_tsa_ca "$d" rogue-ca "/O=somebody else/CN=rogue TSA CA" &&
	_sg_tsa_cert "$d" rogue-tsa rogue-ca "/O=somebody else/CN=rogue TSA" tsa_ext || {
		echo "sg_tsa_pki: cannot make the test TSA PKI in $d" >&2; return 1; }
	# The serial file is per server process ($ENV::SG_TSA_SERIAL, set by the
	# server) so that servers sharing DIR never race on it.
	cat >"$d/tsa.cnf.tmp" <<EOF
# openssl ts -reply configuration of the signgate test TSA
[ tsa ]
default_tsa = tsa_ok

[ tsa_ok ]
dir = $d
serial = \$ENV::SG_TSA_SERIAL
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/tsa-ca.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1.1
other_policies = 1.3.6.1.4.1.55555.1.2
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256

# No tsa_name here: OpenSSL then checks the signature only when asked to
# (TS_VFY_SIGNATURE), so the client's flags are really exercised.
[ tsa_rogue ]
dir = $d
serial = \$ENV::SG_TSA_SERIAL
crypto_device = builtin
signer_cert = \$dir/rogue-tsa.pem
certs = \$dir/rogue-ca.pem
signer_key = \$dir/rogue-tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
EOF
	mv "$d/tsa.cnf.tmp" "$d/tsa.cnf"
}

SG_TSA_PIDS=${SG_TSA_PIDS:-}

sg_tsa_start() {
	d=$1 mode=$2
	shift 2 || return 1
	[ -f "$d/tsa.cnf" ] || { echo "sg_tsa_start: no $d/tsa.cnf; run sg_tsa_pki $d first" >&2; return 1; }
	pf=$(mktemp "$d/tsa-$mode.XXXXXX") || return 1  # empty until the server renames its port file over it
	# Detached (not a job of this shell): a later bare `wait` must not wait
	# for the server's lifetime.
	(python3 "$(sg_tsa_lib)/tsa-server.py" --dir "$d" --mode "$mode" --port-file "$pf" "$@" \
		</dev/null >>"$d/tsa-server.log" 2>&1 & echo $! >"$pf.pid")
	SG_TSA_PID=$(cat "$pf.pid") && rm -f "$pf.pid"
	SG_TSA_PIDS="$SG_TSA_PIDS $SG_TSA_PID"
	if command -v sg_at_exit >/dev/null 2>&1; then sg_at_exit "kill $SG_TSA_PID"; fi
	i=0
	while [ ! -s "$pf" ]; do
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$SG_TSA_PID" 2>/dev/null; then
			echo "sg_tsa_start: the test TSA ($mode) did not start; see $d/tsa-server.log" >&2
			kill "$SG_TSA_PID" 2>/dev/null
			rm -f "$pf" "$pf.pid"
			return 1
		fi
		sleep 0.05
	done
	SG_TSA_URL=http://127.0.0.1:$(cat "$pf")/
	rm -f "$pf" "$pf.pid"
	export SG_TSA_URL SG_TSA_PID
	echo "$SG_TSA_URL"
}

sg_tsa_stop() {
	if [ $# -eq 0 ]; then set -- $SG_TSA_PIDS; SG_TSA_PIDS=; fi
	for p in "$@"; do kill "$p" 2>/dev/null; done
	return 0
}
