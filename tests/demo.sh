#!/bin/sh
# make demo: the whole flow on a throwaway repository, test PKI, SoftHSM2
# token, ClamAV test database and a local timestamp authority on 127.0.0.1.
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
export SIGNGATE=$BUILD/signgate SG_TOP=$top
. "$top/tests/lib/test-lib.sh"
. "$top/tests/lib/sign-lib.sh"
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; rc=$?; [ $rc -eq 0 ] || printf '(exit %s)\n' $rc; return $rc; }
fail() { echo "demo: $*" >&2; exit 1; }

step "Setting up: test PKI, SoftHSM2 token, ClamAV test database, local TSA, repository"
sg_sign_fixture || fail "fixture setup failed"
echo "repository $REPO, TSA $SG_TSA_URL"
git -C "$REPO" log --format='%h %s%n%b' -1

step "The gate: is HEAD on the protected branch with two reviews?"
run sg check || fail "check should allow HEAD"

step "A commit on a feature branch, unreviewed: denied (exit 3)"
git -C "$REPO" checkout -q -b feature
echo 'unreviewed' >"$REPO/feature.txt"; git -C "$REPO" add feature.txt; git -C "$REPO" commit -q -m "unreviewed change"
run sg check; [ $rc -eq 3 ] || fail "check should deny the feature branch"
git -C "$REPO" checkout -q main

step "Build a release artifact and sign it (scan, hash, PKCS#11 key, RFC 3161 timestamp, note)"
git -C "$REPO" archive --prefix=hello-1.0/ -o dist/hello-1.0.tar.gz HEAD
run sg sign dist/hello-1.0.tar.gz || fail "sign failed"

step "Independent check: openssl cms -verify"
run openssl cms -verify -binary -inform DER -in "$REPO/dist/hello-1.0.tar.gz.p7s" \
	-content "$REPO/dist/hello-1.0.tar.gz" -CAfile "$PKI/ca.pem" -purpose any -out /dev/null || fail "cms verify failed"

step "Independent check: openssl ts -verify on the embedded timestamp token"
python3 "$SG_LIB/p7s-token.py" "$REPO/dist/hello-1.0.tar.gz.p7s" "$TRASH/token.der" "$TRASH/sigvalue.bin" || fail "no token"
run openssl ts -verify -token_in -in "$TRASH/token.der" -data "$TRASH/sigvalue.bin" -CAfile "$TSAPKI/tsa-ca.pem" || fail "ts verify failed"

step "The signing event, as reviewers see it: git log --notes=signatures -1"
run git -C "$REPO" log --notes=signatures -1

step "signgate verify: signature, chain, timestamp, and the recorded event"
run sg verify dist/hello-1.0.tar.gz || fail "verify failed"

step "A tampered artifact fails verification (exit 5)"
cp "$REPO/dist/hello-1.0.tar.gz" "$TRASH/orig.tar.gz"
printf 'tampered' >>"$REPO/dist/hello-1.0.tar.gz"
run sg verify dist/hello-1.0.tar.gz; [ $rc -eq 5 ] || fail "verify should fail on a tampered file"
cp "$TRASH/orig.tar.gz" "$REPO/dist/hello-1.0.tar.gz"

step "Malware is never signed: the EICAR test file (exit 4)"
sg_eicar "$REPO/dist/eicar.bin"
run sg sign dist/eicar.bin; [ $rc -eq 4 ] || fail "EICAR should be refused"
[ ! -e "$REPO/dist/eicar.bin.p7s" ] || fail "a signature was written for EICAR"

step "The audit trail records every decision, denials included"
run tail -n 2 "$REPO/.git/signgate/audit.log"
printf '\ndemo: all steps behaved as expected\n'
