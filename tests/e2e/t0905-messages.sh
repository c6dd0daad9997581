#!/bin/sh
# Every message from issue 14's "Why" says what failed and what to do: a
# missing certificate names its setting; doctor tells a missing file from
# one that is not PEM; OpenPGP without a terminal gives advice that applies
# to a fingerprint key; verify in a clone without notes points at
# `signgate sync`; `init --test` explains why check denies what the test
# profile signs; CMake lists files readably, with one "signgate:" prefix.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
. "$SG_LIB/gpg.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
cd "$REPO" || exit 1
printf 'a\n' >dist/a.txt

# A certificate that is not where the policy says: the setting is named.
sg_policy_text | sed "s|cert = $PKI/codesign.pem|cert = $TRASH/nope.pem|" >"$TRASH/p-nocert"
expect 1 "sign with a missing certificate" -- "$SIGNGATE" --policy "$TRASH/p-nocert" sign dist/a.txt
grep_out "signgate: error: profile.release.cert: $TRASH/nope.pem does not exist; correct the path in the policy" \
	"  ...names profile.release.cert and the fix"
expect 1 "doctor with the missing certificate" -- "$SIGNGATE" --policy "$TRASH/p-nocert" doctor --no-tsa
grep_out "profile.release.cert: $TRASH/nope.pem does not exist" "  ...doctor says the file does not exist"
no_grep_out "as a PEM certificate" "  ...not that it is unreadable PEM"
printf 'not a certificate\n' >"$TRASH/nope.pem"
expect 1 "doctor with a file that is no certificate" -- "$SIGNGATE" --policy "$TRASH/p-nocert" doctor --no-tsa
grep_out "profile.release.cert: $TRASH/nope.pem is not a PEM certificate" "  ...doctor says it is not PEM"
no_grep_out "does not exist" "  ...and not that it is missing"
expect 0 "twin: doctor with the real certificate passes that check" -- "$SIGNGATE" doctor --no-tsa
no_grep_out "FAIL  *profile release: certificate" "  ...no certificate failure"

# OpenPGP, a passphrase, no terminal, no SIGNGATE_PIN.
sg_gpg_init "$GNUPGHOME" && sg_at_exit "gpgconf --kill all"
FPR=$(sg_gpg_genkey "Release Key" release@example.com "s3cret passphrase")
sg_gpg_kill
{ sg_policy_text; printf '[profile "pgp"]\n\tformat = openpgp\n\tkey = %s\n\trequireHardwareKey = false\n' "$FPR"
  printf '\ttsa = %s\n\ttsaTrustAnchor = %s\n\tartifacts = pgp/*\n' "$SG_TSA_URL" "$TSAPKI/tsa-ca.pem"; } >"$TRASH/p-pgp"
mkdir -p pgp && printf 'p\n' >pgp/b.txt
expect 1 "openpgp sign without a terminal or SIGNGATE_PIN" -- \
	env -u SIGNGATE_PIN "$SIGNGATE" --policy "$TRASH/p-pgp" sign pgp/b.txt </dev/null
grep_out "no passphrase for key $FPR and no terminal to ask on: set SIGNGATE_PIN" "  ...says what applies"
grep_out "gpg-agent" "  ...including the agent"
no_grep_out "pin-source" "  ...not pin-source, which a fingerprint key cannot have"
expect 0 "twin: with SIGNGATE_PIN it signs" -- env SIGNGATE_PIN="s3cret passphrase" "$SIGNGATE" --policy "$TRASH/p-pgp" sign pgp/b.txt </dev/null
check "  ...gpg verifies it" gpg --verify pgp/b.txt.asc pgp/b.txt

# verify in a fresh clone: the notes are not there yet.
expect 0 "sign dist/a.txt" -- "$SIGNGATE" sign dist/a.txt
git clone -q "$REPO" "$TRASH/clone"
cp dist/a.txt dist/a.txt.p7s "$TRASH/clone/"
expect 5 "verify in a clone without the notes" -- "$SIGNGATE" -C "$TRASH/clone" verify a.txt
grep_out "no signing event" "  ...no event"
grep_out "signgate sync" "  ...and the hint to fetch the notes"
expect 0 "twin: after signgate sync it verifies" -- sh -c "cd '$TRASH/clone' && '$SIGNGATE' sync >/dev/null 2>&1; '$SIGNGATE' verify a.txt"
expect 5 "twin: a digest with no event where the notes are present gets no sync hint" -- \
	sh -c "cd '$REPO' && echo other >dist/o.txt && cp dist/a.txt.p7s dist/o.txt.p7s && '$SIGNGATE' verify dist/o.txt"
no_grep_out "signgate sync" "  ...no hint when the notes are there"

# init --test: check denies an unreviewed commit, the test profile signs it, and check says why.
git init -q -b main "$TRASH/try"
cd "$TRASH/try" || exit 1
"$SIGNGATE" init --test >/dev/null 2>&1
git add .signgate && git commit -q -m policy -m "Reviewed-by: Bob <bob@example.com>"
git commit -q --allow-empty -m "not reviewed"
expect 3 "check of an unreviewed commit under the test policy" -- "$SIGNGATE" check
grep_out "note: check judges the release gate; the test profile \"test\" (test = true) may still sign" "  ...explains the test profile"
echo t >t.txt
expect 0 "sign with the test profile on the same commit" -- "$SIGNGATE" sign t.txt
printf '[gate]\n\tprotectedBranch = main\n\trequiredReviews = 1\n' >"$TRASH/p-notest"
expect 3 "twin: no note without a test profile" -- "$SIGNGATE" --policy "$TRASH/p-notest" check
no_grep_out "note: check judges" "  ...no note"

# CMake: the file list reads as a list, signgate's summary has one prefix.
cd "$REPO" || exit 1
INST=$TRASH/inst
make -s -C "$SG_TOP" install DESTDIR= PREFIX="$INST" INSTALL_BIN="$SIGNGATE" >/dev/null
cp -R "$SG_TOP/tests/cmake-project" cmake-project
sg_policy_text | sed 's|^\[profile "release"\]|[profile "release"]\n\tartifacts = hello\n\tartifacts = libgreet.so.*\n\tartifacts = hello-data.txt\n\tartifacts = hello-*.tar.gz|' |
	sg_commit_policy
git add cmake-project && git commit -q -m cmake -m "Reviewed-by: Bob <bob@example.com>
Reviewed-by: Carol <carol@example.com>"
cmake -S cmake-project -B "$TRASH/b" -DCMAKE_PREFIX_PATH="$INST" >/dev/null 2>&1
expect 0 "cmake --build --target sign" -- cmake --build "$TRASH/b" --target sign
grep_out "signgate: signing hello, greet, hello-data.txt" "  ...the files as a readable list"
no_grep_out "hello;greet" "  ...not CMake's raw list"
expect 0 "cmake --install" -- cmake --install "$TRASH/b" --prefix "$TRASH/prefix"
grep_out "^-- signgate: 3 artifacts signed" "  ...signgate's summary once"
no_grep_out "signgate: signgate:" "  ...without a doubled prefix"
grep_out "^-- signgate: signing $TRASH/prefix/.*, $TRASH/prefix/" "  ...and the installed files as a list"
done_testing
