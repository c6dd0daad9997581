#!/bin/sh
# A batch of 8 or more files creates its temp signature files in a second
# thread while it hashes and signs (src/pipeline/precreate.c). Whatever
# stops the batch after that -- malware in the last file, a temp file that
# cannot be made -- nothing is published: no signature, no temp file, no
# event. Each with its twin that signs. A batch of fewer files makes
# nothing before it writes (t0720 checks that while the TSA is slow).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/pki.sh"
. "$SG_LIB/clamdb.sh"
PKI=$TRASH/pki
sg_pki_make "$PKI" >/dev/null || { echo "pki failed"; exit 1; }
sg_make_clamdb "$TRASH/db" || { echo "clamdb failed"; exit 1; }
sg_pki_test_policy "$TRASH/policy" "$PKI" "$TRASH/db" || exit 1
REPO=$TRASH/repo
git init -q "$REPO" && git -C "$REPO" commit -q --allow-empty -m root || exit 1
sg() { (cd "$REPO" && "$SIGNGATE" --policy "$TRASH/policy" "$@"); }
# files N: dist/f0..f(N-1), 2 KiB each
files() { rm -rf "$REPO/dist"; mkdir -p "$REPO/dist"; i=0
	while [ $i -lt "$1" ]; do head -c 2048 /dev/urandom >"$REPO/dist/f$i"; i=$((i + 1)); done; }
# nothing_published WHAT DIR
nothing_published() {
	check "$1: no signature" sh -c "! ls '$2' | grep -q '\\.p7s\$'"
	check "$1: no temp file left" sh -c "! ls -a '$2' | grep -q '\\.tmp-'"
	check "$1: no event" sh -c "! git -C '$REPO' notes --ref signatures list | grep -q ."
}

# malware in the last of 12 files: found after the temp files were made
files 12
sg_eicar "$REPO/dist/f11"
# (LeakSanitizer cannot run under ptrace: make check-asan)
expect 4 "12 files, the last one EICAR: scan refuses" -- env ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" strace -f -o "$TRASH/trace" -e trace=execve,openat,unlink \
	sh -c "cd '$REPO' && exec '$SIGNGATE' --policy '$TRASH/policy' sign dist/f0 dist/f1 dist/f2 dist/f3 \
	dist/f4 dist/f5 dist/f6 dist/f7 dist/f8 dist/f9 dist/f10 dist/f11"
grep_out "dist/f11" "the message names the file"
nothing_published "malware in a batch" "$REPO/dist"
# the 12 temp files were made by a thread other than the main one, then removed
main=$(grep 'execve(".*signgate"' "$TRASH/trace" | tail -n1 | cut -d' ' -f1)
check "12 temp files made beside the scan, by a second thread" test \
	"$(grep 'openat(.*\.tmp-.*O_CREAT' "$TRASH/trace" | grep -v "^$main " | grep -c .)" = 12
check "and all 12 removed, once each" test "$(grep -c 'unlink(".*\.tmp-' "$TRASH/trace")" = 12
# the twin: the same batch, clean
head -c 2048 /dev/urandom >"$REPO/dist/f11"
expect 0 "the twin: 12 clean files sign" -- sg sign dist/f0 dist/f1 dist/f2 dist/f3 \
	dist/f4 dist/f5 dist/f6 dist/f7 dist/f8 dist/f9 dist/f10 dist/f11
check "12 signatures (batch 1)" test "$(ls "$REPO/dist" | grep -c '\.p7s$')" = 12
check "openssl verifies the last" openssl cms -verify -binary -inform DER -in "$REPO/dist/f11.p7s" \
	-content "$REPO/dist/f11" -CAfile "$PKI/ca.pem" -purpose any -out /dev/null
check "no temp file left" sh -c "! ls -a '$REPO/dist' | grep -q '\\.tmp-'"
check "one notes commit for the batch" test "$(git -C "$REPO" rev-list --count refs/notes/signatures)" = 1
git -C "$REPO" update-ref -d refs/notes/signatures

# a name too long for its temp file (".NAME.p7s.tmp-XXXXXX" is 16 bytes
# more than NAME; NAME.p7s itself fits in 255): the 12th of 12 temp files
# cannot be made, after the 11 others were
files 11
long=$(printf '%0245d' 0)
head -c 2048 /dev/urandom >"$REPO/dist/$long"
expect 1 "12 files, the last one's temp name too long: exit 1" -- sg sign dist/f0 dist/f1 dist/f2 \
	dist/f3 dist/f4 dist/f5 dist/f6 dist/f7 dist/f8 dist/f9 dist/f10 "dist/$long"
grep_out "cannot create a temporary file in dist for dist/$long.p7s" "the message names the file"
grep_out "too long" "and why"
nothing_published "a temp file that cannot be made" "$REPO/dist"
# the twin: a name that leaves room
mv "$REPO/dist/$long" "$REPO/dist/short"
expect 0 "the twin: 12 files with a shorter name sign" -- sg sign dist/f0 dist/f1 dist/f2 \
	dist/f3 dist/f4 dist/f5 dist/f6 dist/f7 dist/f8 dist/f9 dist/f10 dist/short
check "12 signatures" test "$(ls "$REPO/dist" | grep -c '\.p7s$')" = 12
check "no temp file left" sh -c "! ls -a '$REPO/dist' | grep -q '\\.tmp-'"
done_testing
