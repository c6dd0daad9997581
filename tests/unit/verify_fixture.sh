#!/bin/sh
# Fixture for tests/unit/test_verify.c: a test PKI, CMS signatures made
# with the openssl CLI, a TSA cert, a git repository with a commit.
# Usage: verify_fixture.sh DIR
set -eu
D=$1
mkdir -p "$D"
cd "$D"
q() { "$@" >/dev/null 2>&1; }

cat >ext.cnf <<'EOF'
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[cs]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
[noeku]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
[tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
EOF

ca() { # NAME SUBJECT
	q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-out "$1.pem" -subj "/CN=$2" -days 3650 -extensions ca -config ext.cnf \
		-addext "basicConstraints=critical,CA:true"
}
leaf() { # NAME SUBJECT ISSUER EXT DAYS
	q openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-out "$1.csr" -subj "/CN=$2"
	q openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
		-out "$1.pem" -days "$5" -extfile ext.cnf -extensions "$4"
	chmod 600 "$1.key"
}
ca ca "Test Root CA"
ca other "Other CA"
ca tsaca "Test TSA CA"
leaf cs "Test Code Signing" ca cs 2
leaf cs2 "Second Code Signing" ca cs 30
leaf noeku "No EKU" ca noeku 30
leaf rogue "Rogue Signing" other cs 30
leaf tsa "Test TSA" tsaca tsa 30

cat >tsa.cnf <<EOF
[tsa]
default_tsa = t
[t]
serial = $D/tsaserial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ess_cert_id_alg = sha256
EOF
echo 01 >tsaserial

git init -q repo
git -C repo config user.name Tester
git -C repo config user.email tester@example.com
mkdir -p repo/dist
head -c 100000 /dev/urandom >repo/dist/app.tar.gz
cp repo/dist/app.tar.gz repo/dist/other.tar.gz
echo more >>repo/dist/other.tar.gz
echo hello >repo/README
git -C repo add README
git -C repo commit -q -m first
echo again >>repo/README
git -C repo commit -q -am second

cms_sign() { # SIGNER FILE OUT
	q openssl cms -sign -binary -md sha256 -in "$2" -signer "$1.pem" -inkey "$1.key" \
		-outform DER -out "$3"
}
cms_sign cs repo/dist/app.tar.gz repo/dist/app.tar.gz.p7s
cms_sign noeku repo/dist/app.tar.gz noeku.p7s
cms_sign rogue repo/dist/app.tar.gz rogue.p7s
cms_sign cs2 repo/dist/other.tar.gz repo/dist/other.tar.gz.p7s
# the independent check the verifier must agree with
q openssl cms -verify -binary -inform DER -in repo/dist/app.tar.gz.p7s \
	-content repo/dist/app.tar.gz -CAfile ca.pem -purpose any
openssl x509 -in cs.pem -outform DER | sha256sum | cut -c1-64 >cs.sha256
