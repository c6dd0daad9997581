head -n1 "$jsonl" | tr -d '\n' >"$TRASH/line"
#!/bin/sh
# Attested events (DESIGN.md 4a): every batch makes one DSSE envelope over
# an in-toto statement, stored once in the note and in <tag|commit>.intoto.jsonl;
# Debian's in-toto reference implementation (securesystemslib) verifies it
# with the signer's public key alone, and one changed byte fails that check.
# Readers trust only attested events: a forged or copied paragraph is
# "unattested" (verify exit 5, log marks it).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }
dsse_verify() { /usr/bin/python3 "$SG_LIB/dsse-verify.py" "$@"; }
head_sha=$(git -C "$REPO" rev-parse HEAD)

# ---- PKCS#11 (SoftHSM) batch of two artifacts ----
git -C "$REPO" archive --prefix=hello-1.0/ -o dist/hello-1.0.tar.gz HEAD
printf 'second artifact\n' >"$REPO/dist/notes.txt"
expect 0 "a PKCS#11 batch of two artifacts" -- sg sign dist/hello-1.0.tar.gz dist/notes.txt
jsonl=$REPO/dist/$head_sha.intoto.jsonl
check "one .intoto.jsonl for the batch, named after the commit" test -s "$jsonl"
check "it holds one envelope line" test "$(wc -l <"$jsonl")" = 1
openssl x509 -in "$PKI/codesign.pem" -pubkey -noout >"$TRASH/release.pub"
openssl x509 -in "$PKI/other.pem" -pubkey -noout >"$TRASH/other.pub"
expect 0 "securesystemslib verifies the PKCS#11 envelope with the public key alone" -- \
	dsse_verify "$jsonl" --pubkey "$TRASH/release.pub"
grep_out "$(sha256sum "$REPO/dist/notes.txt" | cut -d' ' -f1)  dist/notes.txt" "its statement names notes.txt with its sha256"
grep_out "  dist/hello-1.0.tar.gz" "and hello-1.0.tar.gz"
expect 1 "twin: another key does not verify it" -- dsse_verify "$jsonl" --pubkey "$TRASH/other.pub"
grep_out "no signature of the envelope verifies" "the reason is the signature"
# one byte of the payload changed (a subject digest), the envelope re-encoded
python3 - "$jsonl" "$TRASH/tampered.jsonl" <<'PY'
import base64, json, sys
env = json.loads(open(sys.argv[1]).read().splitlines()[-1])
body = bytearray(base64.b64decode(env["payload"]))
i = body.index(b'"sha256":"') + 10
body[i] = ord("0") if body[i] != ord("0") else ord("1")
env["payload"] = base64.b64encode(bytes(body)).decode()
open(sys.argv[2], "w").write(json.dumps(env) + "\n")
PY
expect 1 "twin: one byte changed in the payload fails the same check" -- \
	dsse_verify "$TRASH/tampered.jsonl" --pubkey "$TRASH/release.pub"
grep_out "no signature of the envelope verifies" "the reason is the signature"

note=$(git -C "$REPO" notes --ref signatures show HEAD)
check "the note holds one attestation paragraph for the batch" \
	test "$(printf '%s\n' "$note" | grep -c '^Signgate-Attestation: dsse')" = 1
envsha=$(head -n1 "$jsonl" | tr -d '\n' | sha256sum | cut -d' ' -f1)
check "every event names it by Attestation-Sha256" \
	test "$(printf '%s\n' "$note" | grep -c "^Attestation-Sha256: $envsha")" = 3
head -n1 "$jsonl" | tr -d '\n' >"$TRASH/line"
check "the note's Attestation is the .intoto.jsonl line" sh -c \
	"printf '%s\n' \"\$1\" | sed -n 's/^Attestation: //p' | base64 -d | cmp -s - '$TRASH/line'" _ "$note"
expect 0 "verify trusts the attested event" -- sg verify dist/notes.txt

done_testing
