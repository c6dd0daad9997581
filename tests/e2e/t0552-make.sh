#!/bin/sh
# templates/signgate.mk in the sample project tests/make-project: `make sign`,
# `make verify-signatures`, the install hook; openssl checks each signature;
# tampering fails verify-signatures; an unreviewed commit fails `make sign`.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }

# the release profile (artifacts dist/*) signs dist/; the installed copy
# is signed by name
sg_policy_text | sed 's|^\tartifacts = dist/\*$|&\n\tartifacts = hello|' | sg_commit_policy
cp "$SG_TOP/tests/make-project/Makefile" "$SG_TOP/tests/make-project/hello.c" "$REPO/"
git -C "$REPO" add Makefile hello.c
git -C "$REPO" commit -q -m "sample make project" -m "Reviewed-by: Bob <bob@example.com>
Reviewed-by: Carol <carol@example.com>"
mk() { make -C "$REPO" --no-print-directory SIGNGATE_MK="$SG_TOP/templates/signgate.mk" SIGNGATE="$SIGNGATE" "$@"; }

expect 0 "make (the default goal is still the project's)" -- mk
check "the default goal built dist/hello" test -x "$REPO/dist/hello"
check "and signed nothing" sh -c "! ls '$REPO'/dist/*.p7s 2>/dev/null"
expect 0 "make sign" -- mk sign
grep_out "2 artifacts signed" "signgate's summary is shown"
check "make sign built the tarball first" test -s "$REPO/dist/hello-1.0.tar.gz"
check "openssl cms -verify accepts dist/hello-1.0.tar.gz" cms_verify "$REPO/dist/hello-1.0.tar.gz"
check "openssl cms -verify accepts dist/hello" cms_verify "$REPO/dist/hello"
check "one batch: one notes commit" test "$(git -C "$REPO" rev-list --count refs/notes/signatures)" = 1
expect 0 "make verify-signatures" -- mk verify-signatures
grep_out "verified dist/hello-1.0.tar.gz" "each file is reported verified"

expect 0 "make sign SIGN_PROFILE=release SIGN_REV=main" -- mk sign SIGN_PROFILE=release SIGN_REV=main
grep_out "profile    release" "the profile named is used"
expect 2 "SIGN_PROFILE=test (artifacts test/*) is refused for dist/ files" -- mk sign SIGN_PROFILE=test
grep_out "does not match profile.test.artifacts" "the reason is signgate's"
grep_out "Error 3" "make reports signgate's exit status 3 (denied)"
expect 2 "make sign SIGN_FILES= is a usage error" -- mk sign SIGN_FILES=
grep_out "set SIGN_FILES" "the message says what to set"

# install hook: the installed copy is signed after the copy
expect 0 "make install DESTDIR=... signs the installed file" -- mk install DESTDIR="$TRASH/dest" PREFIX=/usr
check "openssl cms -verify accepts the installed hello" cms_verify "$TRASH/dest/usr/bin/hello"
expect 0 "make install-signatures re-signs it standalone" -- mk install-signatures DESTDIR="$TRASH/dest" PREFIX=/usr

# tampering
cp "$REPO/dist/hello-1.0.tar.gz" "$TRASH/orig.tar.gz"
printf 'x' >>"$REPO/dist/hello-1.0.tar.gz"
expect 2 "make verify-signatures fails on a tampered tarball" -- mk verify-signatures
grep_out "verification failed" "signgate says verification failed"
check "openssl agrees: the tampered tarball does not verify" sh -c "! openssl cms -verify -binary -inform DER -in '$REPO/dist/hello-1.0.tar.gz.p7s' -content '$REPO/dist/hello-1.0.tar.gz' -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null"
cp "$TRASH/orig.tar.gz" "$REPO/dist/hello-1.0.tar.gz"
expect 0 "restored: verify-signatures passes again" -- mk verify-signatures
cp "$REPO/dist/hello-1.0.tar.gz.p7s" "$REPO/dist/hello.p7s"
expect 2 "a signature swapped between files fails" -- mk verify-signatures

# denial twin: an unreviewed commit
git -C "$REPO" checkout -q -b feature
commit_file "$REPO" hello.c 'int main(void) { return 1; }' "unreviewed change"
rm -f "$REPO"/dist/*
expect 2 "make sign on an unreviewed commit fails" -- mk sign
grep_out "signgate: denied" "with signgate's denial"
grep_out "Error 3" "make reports signgate's exit status 3 (denied)"
check "no signature was written" sh -c "! ls '$REPO'/dist/*.p7s 2>/dev/null"
expect 2 "make install on an unreviewed commit fails at the hook" -- mk install DESTDIR="$TRASH/dest2" PREFIX=/usr
check "the file was installed but not signed" sh -c "[ -x '$TRASH/dest2/usr/bin/hello' ] && [ ! -e '$TRASH/dest2/usr/bin/hello.p7s' ]"
done_testing
