#!/bin/sh
# Attestations of OpenPGP batches (checked by securesystemslib with the
# public key alone), and the server's release.requireNote trusting only an
# attested event by a production profile: a forged one-line note or a
# test-profile event does not let a release tag in.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
. "$SG_LIB/gpg.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
export PATH="$SIGNGATE_BUILD:$PATH"
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }
dsse_verify() { /usr/bin/python3 "$SG_LIB/dsse-verify.py" "$@"; }

# ---- an OpenPGP batch ----
sg_gpg_init "$TRASH/g" && sg_at_exit sg_gpg_kill
fpr=$(sg_gpg_genkey "Release PGP" pgp@example.com '' 1y)
other=$(sg_gpg_genkey "Other PGP" other@example.com '' 1y)
{ sg_policy_text; sg_pgp_profile_text "$fpr"; cat <<POL
[release]
	tagPattern = v*
	requireNote = true
POL
} | sg_commit_policy
sg_reviewed_commit src/pgp.c 'int pgp;'
head_sha=$(git -C "$REPO" rev-parse HEAD)
mkdir -p "$REPO/pgp"; printf 'pgp artifact\n' >"$REPO/pgp/a.txt"; printf 'b\n' >"$REPO/pgp/b.txt"
expect 0 "an OpenPGP batch of two artifacts" -- sg sign pgp/a.txt pgp/b.txt
jsonl=$REPO/pgp/$head_sha.intoto.jsonl
check "its .intoto.jsonl is written" test -s "$jsonl"
# a keyring holding only the signer's public key
mkdir -p "$TRASH/pub" && chmod 700 "$TRASH/pub"
gpg --batch --export "$fpr" | GNUPGHOME=$TRASH/pub gpg --batch --import 2>/dev/null
check "the public keyring has no secret key" sh -c "! GNUPGHOME='$TRASH/pub' gpg --batch -K 2>/dev/null | grep -q sec"
expect 0 "securesystemslib verifies the OpenPGP envelope with the public key alone" -- \
	dsse_verify "$jsonl" --gpg-home "$TRASH/pub" --keyid "$fpr"
grep_out "  pgp/a.txt" "its statement names pgp/a.txt"
gpg --batch --export "$other" | GNUPGHOME=$TRASH/pub gpg --batch --import 2>/dev/null
expect 1 "twin: another key does not verify it" -- dsse_verify "$jsonl" --gpg-home "$TRASH/pub" --keyid "$other"
grep_out "no signature of the envelope verifies" "the reason is the signature"
/usr/bin/python3 "$SG_LIB/dsse-tamper.py" "$jsonl" "$TRASH/tampered.jsonl"
expect 1 "twin: one byte changed in the payload fails the same check" -- \
	dsse_verify "$TRASH/tampered.jsonl" --gpg-home "$TRASH/pub" --keyid "$fpr"
grep_out "no signature of the envelope verifies" "the reason is the signature"
expect 0 "signgate verify trusts the attested OpenPGP event" -- sg verify pgp/a.txt
expect 0 "log --json" -- sg --json log
check "both OpenPGP events are attested" sh -c "jq -e '[.[] | select(.type == \"event\") | .attested] == [true, true]' '$TRASH/out' >/dev/null"

# ---- the server: release.requireNote ----
SERVER=$TRASH/server.git
git init -q --bare "$SERVER"
(cd "$SERVER" && signgate install-hooks >/dev/null)
git -C "$REPO" remote add origin "$SERVER"
git -C "$REPO" push -q origin main

# a forged one-line note on the tagged commit
sg_reviewed_commit src/forged.c 'int forged;'
git -C "$REPO" push -q origin main
git -C "$REPO" notes --ref signatures add -m "Signgate-Event: sign" HEAD
git -C "$REPO" tag v1.0
expect 1 "a forged one-line note does not let v1.0 in" -- git -C "$REPO" push -q origin v1.0 refs/notes/signatures
grep_out "no signing event (attested, by a production profile)" "the reason: no attested event"
check "the server has no v1.0" sh -c "! git -C '$SERVER' rev-parse -q --verify refs/tags/v1.0 >/dev/null"

# a test-profile (attested) event does not satisfy requireNote
printf 't\n' >"$REPO/test/t.txt"
expect 0 "sign with the test profile for v1.0" -- sg --profile test sign --tag v1.0 test/t.txt
expect 1 "a test-profile event does not let v1.0 in" -- git -C "$REPO" push -q origin v1.0 refs/notes/signatures
grep_out "no signing event (attested, by a production profile)" "the reason: no attested production event"
check "the server has no v1.0" sh -c "! git -C '$SERVER' rev-parse -q --verify refs/tags/v1.0 >/dev/null"

# the twin: a production signing for the tag
printf 'release\n' >"$REPO/dist/r.txt"
expect 0 "sign with the release profile for v1.0" -- sg sign --tag v1.0 dist/r.txt
check "the .intoto.jsonl is named after the tag" test -s "$REPO/dist/v1.0.intoto.jsonl"
expect 0 "an attested production event lets v1.0 in" -- git -C "$REPO" push -q origin v1.0 refs/notes/signatures
check "the server has v1.0" sh -c "git -C '$SERVER' rev-parse -q --verify refs/tags/v1.0 >/dev/null"

done_testing
