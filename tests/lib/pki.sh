# Test PKI made with the openssl CLI (EC P-256 keys: fast). Source it.
#
#   sg_pki_make DIR    makes, in DIR (created if needed):
#     ca.pem ca.key                 test root CA ("signgate Test CA")
#     inter.pem inter.key           intermediate CA signed by ca
#     chain.pem                     = inter.pem (what a profile's chain = names)
#     codesign.pem codesign.key     EKU codeSigning, issued by inter; key 0600
#     codesign.pk8.der              the same key as unencrypted PKCS#8 DER (for pkcs11-tool)
#     codesign.enc.key              the same key, PEM encrypted with passphrase "enc-pass"
#     expired.pem expired.key       codeSigning cert valid 2020-01-01..2021-01-01
#     future.pem                    codeSigning cert valid from 2099 (same key as expired.key)
#     noeku.pem noeku.key           cert with EKU emailProtection only
#     other-ca.pem other-ca.key     a second, untrusted CA
#     other.pem other.key           codeSigning cert issued by other-ca
#     tsa-ca.pem tsa-ca.key         the TSA's CA
#     tsa.pem tsa.key               TSA cert, CRITICAL extendedKeyUsage timeStamping
#     rogue-ca.pem rogue-tsa.pem rogue-tsa.key   an untrusted TSA
#     tsa.cnf                       `openssl ts -reply -config DIR/tsa.cnf` (section
#                                   tsa_ok, the default; tsa_rogue: the untrusted TSA).
#                                   Same names as tests/lib/tsa.sh's sg_tsa_pki, so
#                                   sg_tsa_start DIR MODE serves from this PKI; the
#                                   serial file is $SG_TSA_SERIAL when set.
#   Every *.key is mode 0600. Returns non-zero (and says why) on failure.
#
#   sg_pki_cert NAME CADIR CA EKU DIR [-startdate X -enddate Y]
#     (internal) issue DIR/NAME.pem + DIR/NAME.key from DIR/CA.pem with `openssl ca`.

sg_pki_key() { # FILE
	( umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1" 2>/dev/null ) && chmod 600 "$1"
}

sg_pki_ca_root() { # DIR NAME CN
	sg_pki_key "$1/$2.key" &&
	openssl req -x509 -new -key "$1/$2.key" -out "$1/$2.pem" -days 3650 \
		-subj "/O=signgate tests/CN=$3" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# One `openssl ca` database per issuing CA, under DIR/.ca-NAME.
sg_pki_ca_db() { # DIR CA
	d=$1/.ca-$2
	[ -d "$d" ] && return 0
	mkdir -p "$d/new" && : >"$d/index.txt" && echo 1000 >"$d/serial" &&
	cat >"$d/ca.cnf" <<EOF
[ca]
default_ca = sgca
[sgca]
dir = $d
database = $d/index.txt
new_certs_dir = $d/new
serial = $d/serial
certificate = $1/$2.pem
private_key = $1/$2.key
default_md = sha256
default_days = 825
policy = sgpolicy
unique_subject = no
copy_extensions = none
email_in_dn = no
[sgpolicy]
organizationName = optional
commonName = supplied
[codesign]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[noeku]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[timestamping]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[subca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

sg_pki_cert() { # NAME CN CA EXT DIR [KEYFILE] [openssl ca date options...]
	n=$1 cn=$2 ca=$3 ext=$4 dir=$5 key=${6:-}
	shift 5; [ $# -gt 0 ] && shift
	if [ -z "$key" ]; then key=$dir/$n.key; sg_pki_key "$key" || return 1; fi
	sg_pki_ca_db "$dir" "$ca" &&
	openssl req -new -key "$key" -subj "/O=signgate tests/CN=$cn" -out "$dir/$n.csr" 2>/dev/null &&
	openssl ca -batch -notext -config "$dir/.ca-$ca/ca.cnf" -extensions "$ext" \
		-in "$dir/$n.csr" -out "$dir/$n.pem" "$@" >/dev/null 2>"$dir/.ca-$ca/last.err" ||
		{ echo "sg_pki: cannot issue $n: $(cat "$dir/.ca-$ca/last.err")" >&2; return 1; }
	rm -f "$dir/$n.csr"
}

sg_pki_make() { # DIR
	dir=$1
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	sg_pki_ca_root "$dir" ca "signgate Test CA" &&
	sg_pki_cert inter "signgate Test Intermediate" ca subca "$dir" &&
	cp "$dir/inter.pem" "$dir/chain.pem" &&
	sg_pki_cert codesign "signgate Test Release Signing" inter codesign "$dir" &&
	openssl pkcs8 -topk8 -nocrypt -in "$dir/codesign.key" -outform DER \
		-out "$dir/codesign.pk8.der" 2>/dev/null && chmod 600 "$dir/codesign.pk8.der" &&
	( umask 077 && openssl pkey -in "$dir/codesign.key" -aes-256-cbc -passout pass:enc-pass \
		-out "$dir/codesign.enc.key" 2>/dev/null ) &&
	sg_pki_cert expired "signgate Test Expired" inter codesign "$dir" "" \
		-startdate 20200101000000Z -enddate 20210101000000Z &&
	sg_pki_cert future "signgate Test Future" inter codesign "$dir" "$dir/expired.key" \
		-startdate 20990101000000Z -enddate 20991231000000Z &&
	sg_pki_cert noeku "signgate Test No EKU" inter noeku "$dir" &&
	sg_pki_ca_root "$dir" other-ca "Untrusted Other CA" &&
	sg_pki_cert other "Untrusted Signer" other-ca codesign "$dir" &&
	sg_pki_ca_root "$dir" tsa-ca "signgate Test TSA CA" &&
	sg_pki_cert tsa "signgate Test TSA" tsa-ca timestamping "$dir" &&
	sg_pki_ca_root "$dir" rogue-ca "rogue TSA CA" &&
	sg_pki_cert rogue-tsa "rogue TSA" rogue-ca timestamping "$dir" &&
	sg_pki_tsa_cnf "$dir" >"$dir/tsa.cnf"
}

sg_pki_tsa_cnf() { # DIR: an `openssl ts -reply` configuration
	echo 01 >"$1/.tsa.serial"
	cat <<EOF
# default for \$ENV::SG_TSA_SERIAL when the environment does not set it
SG_TSA_SERIAL = $1/.tsa.serial
[tsa]
default_tsa = tsa_ok
EOF
	for s in "tsa_ok tsa tsa" "tsa_rogue rogue-tsa rogue-ca"; do
		set -- "$1" $s
		cat <<EOF
[$2]
dir = $1
serial = \$ENV::SG_TSA_SERIAL
crypto_device = builtin
signer_cert = $1/$3.pem
certs = $1/$4.pem
signer_key = $1/$3.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1.1
other_policies = 1.3.6.1.4.1.55555.1.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
EOF
	done
}

# sg_pki_test_policy FILE PKIDIR [CLAMDB]: write a policy FILE with one test
# profile "t" signing with PKIDIR's file key (codesign), no TSA; scanning
# required with CLAMDB, off without it
sg_pki_test_policy() {
	_req=false; [ -n "${3:-}" ] && _req=true
	for _kv in "profile.t.key file:$2/codesign.key" "profile.t.cert $2/codesign.pem" \
		"profile.t.chain $2/chain.pem" "profile.t.trustAnchor $2/ca.pem" "profile.t.test true" \
		"scan.required $_req" ${3:+"scan.database $3"}; do
		git config -f "$1" "${_kv%% *}" "${_kv#* }" || return 1
	done
}
