# A SoftHSM2 token per test. Source it (after pki.sh's sg_pki_make).
#
#   sg_softhsm_init DIR LABEL PIN SOPIN [KEYDIR]
#     writes DIR/softhsm2.conf and DIR/tokens/, exports SOFTHSM2_CONF,
#     initialises a token labelled LABEL, and imports KEYDIR/codesign.pk8.der
#     (KEYDIR defaults to DIR) as private key "codesign" with id 01, plus
#     its certificate and public key under the same label and id.
#     Afterwards: key URI  pkcs11:token=LABEL;object=codesign
#                 (module  $SG_SOFTHSM_MODULE)
#   Runs no daemon; nothing to stop. Remove DIR to drop the token.

SG_SOFTHSM_MODULE=${SG_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

sg_softhsm_init() { # DIR LABEL PIN SOPIN [KEYDIR]
	d=$1 label=$2 pin=$3 sopin=$4 kd=${5:-$1}
	mkdir -p "$d/tokens" || return 1
	d=$(cd "$d" && pwd)
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
		"$d" >"$d/softhsm2.conf"
	SOFTHSM2_CONF=$d/softhsm2.conf
	export SOFTHSM2_CONF
	softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$sopin" \
		>"$d/softhsm.log" 2>&1 || { cat "$d/softhsm.log" >&2; return 1; }
	[ -f "$kd/codesign.pk8.der" ] || return 0
	openssl x509 -in "$kd/codesign.pem" -outform DER -out "$d/codesign.cert.der" &&
	openssl pkey -in "$kd/codesign.key" -pubout -outform DER -out "$d/codesign.pub.der" || return 1
	for obj in "privkey $kd/codesign.pk8.der" "cert $d/codesign.cert.der" "pubkey $d/codesign.pub.der"; do
		set -- $obj
		pkcs11-tool --module "$SG_SOFTHSM_MODULE" --token-label "$label" --login --pin "$pin" \
			--write-object "$2" --type "$1" --label codesign --id 01 >>"$d/softhsm.log" 2>&1 ||
			{ echo "sg_softhsm_init: cannot import $1:" >&2; tail -5 "$d/softhsm.log" >&2; return 1; }
	done
	pkcs11-tool --module "$SG_SOFTHSM_MODULE" --token-label "$label" --login --pin "$pin" \
		--list-objects --type privkey 2>/dev/null | grep -q 'label: *codesign' ||
		{ echo "sg_softhsm_init: private key codesign not on token $label" >&2; return 1; }
}
