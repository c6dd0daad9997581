#!/bin/sh
# valgrind memcheck on the main path (issue 7 item 5): check, sign (CMS on
# the PKCS#11 token, timestamped) and verify on the sign fixture. Any
# memcheck error -- invalid read/write, use of uninitialised memory, bad
# free, a definite leak -- fails. Skips (passes, saying why) when valgrind
# is not installed or the binary is a sanitizer build (valgrind cannot run
# those; the plain build runs this test).
. "$SG_TOP/tests/lib/test-lib.sh"
if ! command -v valgrind >/dev/null 2>&1; then
	echo "# skipped: valgrind is not installed (scripts/install-deps.sh installs it)"
	ok "skipped: no valgrind"; done_testing
fi
if ldd "$SIGNGATE" 2>/dev/null | grep -q 'lib[at]san'; then
	echo "# skipped: $SIGNGATE is a sanitizer build; valgrind runs on the plain build"
	ok "skipped: sanitizer build"; done_testing
fi
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
printf 'artifact\n' >"$REPO/dist/a.txt"
# vg NAME ARGS...: signgate under memcheck; its log in $TRASH/vg.NAME.log
vg() {
	_n=$1; shift
	(cd "$REPO" && timeout 600 valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=yes \
		--log-file="$TRASH/vg.$_n.log" "$SIGNGATE" "$@")
}
expect 0 "check under valgrind" -- vg check check
expect 0 "sign under valgrind" -- vg sign sign dist/a.txt
check "the signature it made verifies (openssl)" cms_verify "$REPO/dist/a.txt"
expect 0 "verify under valgrind" -- vg verify verify dist/a.txt
for n in check sign verify; do
	check "memcheck on $n: 0 errors" grep -q "ERROR SUMMARY: 0 errors" "$TRASH/vg.$n.log" ||
		sed 's/^/#   /' "$TRASH/vg.$n.log" | grep -v '^#   ==[0-9]*== *$' | head -60
done
# the twin: memcheck does report an error in this setup
printf '#include <stdlib.h>\nint main(void){ char *p = malloc(4); int r = p[5]; free(p); return r == 7; }\n' >"$TRASH/bad.c"
if cc -O0 -g -o "$TRASH/bad" "$TRASH/bad.c" 2>/dev/null; then
	expect 99 "the twin: an out-of-bounds read is caught (exit 99)" -- \
		valgrind --error-exitcode=99 --log-file="$TRASH/vg.bad.log" "$TRASH/bad"
fi
done_testing
