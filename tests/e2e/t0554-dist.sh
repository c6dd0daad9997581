#!/bin/sh
# The project's own `make dist` and `make sign` (the top-level Makefile
# through templates/signgate.mk), run in a repository holding this
# Makefile: the tarball is `git archive` of HEAD; openssl accepts its
# signature; an unreviewed HEAD is refused.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }

VERSION=$(sed -n 's/^VERSION *:= *//p' "$SG_TOP/Makefile")
T=dist/signgate-$VERSION.tar.gz
mkdir -p "$REPO/templates"
cp "$SG_TOP/Makefile" "$REPO/Makefile" && cp "$SG_TOP/templates/signgate.mk" "$REPO/templates/"
git -C "$REPO" add Makefile templates
git -C "$REPO" commit -q -m "the Makefile" -m "Reviewed-by: Bob <bob@example.com>
Reviewed-by: Carol <carol@example.com>"
mk() { make -C "$REPO" --no-print-directory SIGNGATE="$SIGNGATE" "$@"; }

printf 'not committed\n' >"$REPO/uncommitted.txt"
expect 0 "make dist" -- mk dist
check "make dist wrote $T" test -s "$REPO/$T"
check "it is git archive of HEAD under signgate-$VERSION/" sh -c \
	"[ \"\$(gunzip -c '$REPO/$T' | sha256sum)\" = \"\$(git -C '$REPO' archive --prefix=signgate-$VERSION/ HEAD | sha256sum)\" ]"
check "uncommitted files are not in it" sh -c "! tar -tzf '$REPO/$T' | grep -q uncommitted.txt"
check "the Makefile is in it" sh -c "tar -tzf '$REPO/$T' | grep -qx 'signgate-$VERSION/Makefile'"

expect 0 "make sign" -- mk sign
check "openssl cms -verify accepts the signed tarball" cms_verify "$REPO/$T"
check "the note records it" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q '^Artifact: $T\$'"
expect 0 "make verify-signatures" -- mk verify-signatures
printf 'x' >>"$REPO/$T"
check "openssl rejects the tarball once tampered" sh -c "! openssl cms -verify -binary -inform DER -in '$REPO/$T.p7s' -content '$REPO/$T' -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null"
expect 2 "make verify-signatures rejects it" -- mk verify-signatures
expect 0 "make sign rebuilds the tarball from HEAD, then signs" -- mk sign
check "the rebuilt tarball verifies" cms_verify "$REPO/$T"

git -C "$REPO" checkout -q -b feature
commit_file "$REPO" README "unreviewed" "unreviewed change"
rm -f "$REPO/$T.p7s"
expect 2 "make sign on an unreviewed HEAD fails" -- mk sign
grep_out "signgate: denied" "with signgate's denial"
check "no signature was written" test ! -e "$REPO/$T.p7s"
done_testing
