#!/usr/bin/python3
"""Independent check of a signgate attestation with Debian's in-toto
reference implementation (python3-securesystemslib).

    dsse-verify.py FILE.intoto.jsonl --pubkey SIGNER-PUBKEY.pem
    dsse-verify.py FILE.intoto.jsonl --gpg-home DIR --keyid FPR

Every line of FILE is a DSSE envelope. The last line must verify: its
payloadType is application/vnd.in-toto+json, its payload an in-toto
Statement v1, and one of its signatures verifies over the DSSE PAE with
the given public key only (an ECDSA / RSA key in PEM, or the OpenPGP key
FPR exported from the keyring DIR that holds only the public key).
Prints the statement's subjects ("sha256  name") and exits 0; exits 1
when the envelope does not verify; 2 on any other failure (so that a
missing library never passes for a refused signature). Run it with
Debian's /usr/bin/python3, where python3-securesystemslib is installed.

Debian 12's securesystemslib (0.26) and in-toto (1.3.1) predate their
DSSE Envelope classes, so the PAE is computed here by the DSSE v1 spec
and the signature is checked by securesystemslib's key classes.
"""
import base64
import json
import sys

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib import keys
from securesystemslib.gpg import common as gpg_common
from securesystemslib.gpg import constants as gpg_constants
from securesystemslib.gpg import functions as gpg_functions
from securesystemslib.signer import Signature, SSlibKey


def pae(payload_type: str, body: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def sslib_key(pem: str):
    if isinstance(load_pem_public_key(pem.encode()), rsa.RSAPublicKey):
        d = keys.import_rsakey_from_public_pem(pem, scheme="rsa-pkcs1v15-sha256")
    else:
        d = keys.import_ecdsakey_from_public_pem(pem, scheme="ecdsa-sha2-nistp256")
    return SSlibKey.from_securesystemslib_key(d)


def verify_pem(sig: bytes, data: bytes, pem: str) -> bool:
    key = sslib_key(pem)
    try:
        key.verify_signature(Signature(key.keyid, sig.hex()), data)
        return True
    except Exception:  # UnverifiedSignatureError, VerificationError
        return False


def verify_gpg(sig: bytes, data: bytes, home: str, keyid: str) -> bool:
    pub = gpg_functions.export_pubkey(keyid, homedir=home)
    sigobj = gpg_common.parse_signature_packet(
        sig, supported_hash_algorithms={gpg_constants.SHA256, gpg_constants.SHA512})
    try:
        return gpg_functions.verify_signature(sigobj, pub, data)
    except Exception:
        return False


def main(argv):
    path = argv[1]
    opts = dict(zip(argv[2::2], argv[3::2]))
    with open(path, "rb") as f:
        lines = [l for l in f.read().split(b"\n") if l.strip()]
    env = json.loads(lines[-1])
    if env.get("payloadType") != "application/vnd.in-toto+json":
        print("payloadType is not application/vnd.in-toto+json", file=sys.stderr)
        return 1
    body = base64.b64decode(env["payload"], validate=True)
    data = pae(env["payloadType"], body)
    ok = False
    for s in env.get("signatures", []):
        sig = base64.b64decode(s["sig"], validate=True)
        if "--pubkey" in opts:
            with open(opts["--pubkey"]) as f:
                ok = verify_pem(sig, data, f.read())
        else:
            ok = verify_gpg(sig, data, opts["--gpg-home"], opts["--keyid"])
        if ok:
            break
    if not ok:
        print("no signature of the envelope verifies with the given key", file=sys.stderr)
        return 1
    st = json.loads(body)
    if st.get("_type") != "https://in-toto.io/Statement/v1":
        print("the payload is not an in-toto Statement v1", file=sys.stderr)
        return 1
    for sub in st["subject"]:
        print("%s  %s" % (sub["digest"]["sha256"], sub["name"]))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # pylint: disable=broad-except
        print("dsse-verify: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(2)
