#!/bin/sh
# signgate init [--test]: the policy from templates/, a test PKI made with
# OpenSSL's C API whose test profile signs files that openssl accepts
# against the generated CA (and only that CA); a second init refuses.
. "$SG_TOP/tests/lib/test-lib.sh"

R=$TRASH/r
git init -q "$R"
sg() { (cd "$R" && "$SIGNGATE" "$@"); }
expect 0 "signgate init --test in a fresh repository" -- sg init --test
grep_out "from $SG_TOP/templates/test-policy.signgate" "run from the build tree, it uses the source tree's templates/"
PKI=$R/.git/signgate/test-pki
check "the test key is mode 0600" test "$(stat -c %a "$PKI/codesign.key")" = 600
check "the test-pki folder is mode 0700" test "$(stat -c %a "$PKI")" = 700
check "the CA's key was not kept" sh -c "[ \$(ls '$PKI' | wc -l) = 3 ] && [ ! -e '$PKI/ca.key' ]"
check "openssl verify: the signing cert chains to the generated CA" sh -c "openssl verify -CAfile '$PKI/ca.pem' '$PKI/codesign.pem' >/dev/null 2>&1"
check "the signing cert has EKU codeSigning" sh -c "openssl x509 -in '$PKI/codesign.pem' -noout -ext extendedKeyUsage | grep -q 'Code Signing'"
check "the signing cert is not a CA" sh -c "openssl x509 -in '$PKI/codesign.pem' -noout -ext basicConstraints | grep -q 'CA:FALSE'"
check "the CA is a CA (critical basicConstraints)" sh -c "openssl x509 -in '$PKI/ca.pem' -noout -ext basicConstraints | grep -q 'critical' && openssl x509 -in '$PKI/ca.pem' -noout -ext basicConstraints | grep -q 'CA:TRUE'"
check "the key matches the certificate" sh -c "[ \"\$(openssl pkey -in '$PKI/codesign.key' -pubout)\" = \"\$(openssl x509 -in '$PKI/codesign.pem' -noout -pubkey)\" ]"
check "the policy has a profile \"test\" with test = true" sh -c "git config -f '$R/.signgate' --get profile.test.test | grep -qx true"
check "the policy points at the generated PKI" sh -c "git config -f '$R/.signgate' --get profile.test.trustAnchor | grep -qx '$PKI/ca.pem'"
check "no placeholder is left" sh -c "! grep -q '@TEST_PKI@' '$R/.signgate'"

git -C "$R" add .signgate && git -C "$R" commit -q -m "signgate policy"
printf 'a test build\n' >"$R/build.bin"
expect 0 "the test profile signs a file" -- sg sign build.bin
grep_out "profile    test" "with the test profile"
check "openssl cms -verify accepts it against the generated CA" sh -c "openssl cms -verify -binary -inform DER -in '$R/build.bin.p7s' -content '$R/build.bin' -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null"
expect 5 "signgate verify refuses a test signature not asked for" -- sg verify build.bin
expect 0 "signgate --profile test verify accepts it" -- sg --profile test verify build.bin

# twins: another clone's test CA, a tampered file, a second init
git init -q "$TRASH/other"
expect 0 "init --test in another repository" -- sh -c "cd '$TRASH/other' && '$SIGNGATE' init --test"
check "openssl rejects the signature against another init's CA" sh -c "! openssl cms -verify -binary -inform DER -in '$R/build.bin.p7s' -content '$R/build.bin' -CAfile '$TRASH/other/.git/signgate/test-pki/ca.pem' -purpose any -out /dev/null 2>/dev/null"
check "each init makes its own CA" sh -c "! cmp -s '$PKI/ca.pem' '$TRASH/other/.git/signgate/test-pki/ca.pem'"
printf 'tampered\n' >>"$R/build.bin"
check "openssl rejects a tampered file" sh -c "! openssl cms -verify -binary -inform DER -in '$R/build.bin.p7s' -content '$R/build.bin' -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null"
expect 5 "signgate verify rejects it" -- sg verify build.bin

sum=$(sha256sum "$R/.signgate")
key=$(sha256sum "$PKI/codesign.key")
expect 1 "a second init --test refuses" -- sg init --test
grep_out "already exists" "it says the policy exists"
check ".signgate is unchanged" test "$(sha256sum "$R/.signgate")" = "$sum"
check "the test key is unchanged" test "$(sha256sum "$PKI/codesign.key")" = "$key"
expect 1 "init without --test refuses too" -- sg init
rm "$R/.signgate" && ln -s "$TRASH/elsewhere" "$R/.signgate"
expect 1 "a symlink named .signgate is not followed" -- sg init
check "nothing was written through it" test ! -e "$TRASH/elsewhere"
rm "$R/.signgate"

# plain init: the release template
R2=$TRASH/r2
git init -q "$R2"
expect 0 "signgate init writes the release template" -- sh -c "cd '$R2' && '$SIGNGATE' init"
check "it is templates/release-policy.signgate" cmp -s "$R2/.signgate" "$SG_TOP/templates/release-policy.signgate"
check "no test PKI was made" test ! -e "$R2/.git/signgate/test-pki"
check "the PKCS#11 URI survives git-config parsing (quoted ';')" sh -c "git config -f '$R2/.signgate' --get profile.release.key | grep -qx 'pkcs11:token=release;object=codesign'"
git -C "$R2" add .signgate && git -C "$R2" commit -q -m policy
expect 3 "signgate check judges with it (denied: no reviews, no origin)" -- sh -c "cd '$R2' && '$SIGNGATE' check"
grep_out "reviews" "the rules are evaluated"
no_grep_out "DENY policy" "the template parses without error"

expect 2 "init --bogus is a usage error" -- sg init --bogus
expect 1 "SIGNGATE_TEMPLATE_DIR without templates fails" -- sh -c "cd '$R' && SIGNGATE_TEMPLATE_DIR='$TRASH/none' '$SIGNGATE' init"
grep_out "SIGNGATE_TEMPLATE_DIR" "the message names the variable"
git init -q --bare "$TRASH/bare.git"
expect 1 "init in a bare repository fails" -- "$SIGNGATE" -C "$TRASH/bare.git" init
grep_out "bare" "the message says why"
expect 1 "init outside a repository fails" -- sh -c "mkdir -p '$TRASH/norepo' && cd '$TRASH/norepo' && GIT_CEILING_DIRECTORIES='$TRASH' '$SIGNGATE' init"
done_testing
