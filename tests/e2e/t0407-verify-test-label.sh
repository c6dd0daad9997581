#!/bin/sh
# A test signature is labelled (issue 12 item 5): `verify` of a file signed
# by a test profile exits 5 unless that profile is asked for with
# `--profile NAME`, even when the file sits outside every artifacts glob
# (where every profile is tried); people output and --json say "test".
# Twin: a release signature verifies without --profile, and says "release".
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && exec "$SIGNGATE" "$@"); }

printf 'test build\n' >"$REPO/test/build.bin"
expect 0 "the test profile signs test/build.bin" -- sg sign test/build.bin
check "openssl: the signature is the test CA's" cms_verify "$REPO/test/build.bin" "$PKI/other-ca.pem"
expect 5 "verify without --profile: a test signature is refused" -- sg verify test/build.bin
grep_out "TEST profile \"test\", not a release signature" "the reason says TEST plainly"
grep_out "--profile test" "and how to ask for it"
expect 5 "verify --json: refused too" -- sg --json verify test/build.bin
check "json: not verified, test = true, kind = test, profile test" sh -c "jq -e '.verified == false and .files[0].ok == false and .files[0].test == true and .files[0].kind == \"test\" and .files[0].profile == \"test\" and (.files[0].reason | test(\"TEST profile\"))' '$TRASH/out' >/dev/null"
expect 0 "verify --profile test: accepted when asked for" -- sg --profile test verify test/build.bin
grep_out "a TEST signature, not a release signature" "people output labels it TEST"
grep_out "profile    test (test = true)" "and names the test profile"
expect 0 "verify --profile test --json" -- sg --profile test --json verify test/build.bin
check "json: verified, test = true, kind = test" sh -c "jq -e '.verified == true and .files[0].test == true and .files[0].kind == \"test\"' '$TRASH/out' >/dev/null"
expect 5 "verify --profile release: the release anchor does not vouch" -- sg --profile release verify test/build.bin

# the attack: the same file moved outside every artifacts glob
mkdir -p "$REPO/out"
cp "$REPO/test/build.bin" "$REPO/out/build.bin"; cp "$REPO/test/build.bin.p7s" "$REPO/out/build.bin.p7s"
expect 5 "outside every artifacts glob (every profile tried): still exit 5" -- sg verify out/build.bin
grep_out "TEST profile" "named as a test signature"
expect 5 "and with --json" -- sg --json verify out/build.bin
check "json: test = true" sh -c "jq -e '.files[0].test == true and .verified == false' '$TRASH/out' >/dev/null"
expect 0 "outside the globs, --profile test accepts it" -- sg --profile test verify out/build.bin

# twin: a release signature needs no --profile and says release
printf 'release\n' >"$REPO/dist/app.bin"
expect 0 "the release profile signs dist/app.bin" -- sg sign dist/app.bin
expect 0 "verify without --profile: a release signature verifies" -- sg verify dist/app.bin
no_grep_out "TEST" "no TEST label"
expect 0 "verify --json" -- sg --json verify dist/app.bin
check "json: test = false, kind = release" sh -c "jq -e '.verified == true and .files[0].test == false and .files[0].kind == \"release\"' '$TRASH/out' >/dev/null"
expect 5 "one test and one release file together: exit 5" -- sg verify dist/app.bin test/build.bin
done_testing
