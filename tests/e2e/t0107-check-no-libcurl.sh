#!/bin/sh
# `check` does not load libcurl: signgate loads it (src/core/http.c) only
# when a request is made, so a gate that asks no forge starts without it.
# Proved with a broken libcurl first on the library path: check still
# judges (allowed and denied alike), while a forge review source, which
# needs HTTP, fails with a clear error (exit 1), never a skipped source.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"
. "$SG_TOP/tests/lib/forge.sh"

soname=$(objdump -p "$(pkg-config --variable=libdir libcurl)/libcurl.so" | awk '$1 == "SONAME" { print $2 }')
check "libcurl's soname is known ($soname)" test -n "$soname"
mkdir -p "$TRASH/badlib" && echo "not a shared library" >"$TRASH/badlib/$soname"
nocurl() { LD_LIBRARY_PATH="$TRASH/badlib" "$@"; }
check "the broken library is what the loader finds" sh -c \
	"! LD_LIBRARY_PATH='$TRASH/badlib' curl --version >/dev/null 2>&1"

gate_repo r protectedBranch=main requiredReviews=1
reviewed_commit r "the change" "Reviewed-by: Bob <bob@example.com>"
git -C r checkout -q -b topic
reviewed_commit r "off the branch" "Reviewed-by: Bob <bob@example.com>"
off=$(git -C r rev-parse HEAD)
git -C r checkout -q main

expect 0 "check allows with a broken libcurl on the library path" -- nocurl sg check
grep_out "^allowed" "the verdict is printed"
expect 3 "and still denies an off-branch commit" -- nocurl sg check "$off"
grep_out "is not on refs/heads/main" "the denial names the branch"
LD_DEBUG=files "$SIGNGATE" -C "$TRASH/r" check >"$TRASH/out" 2>"$TRASH/ld"
check "the loader never opens libcurl for check (LD_DEBUG=files)" sh -c "! grep -q 'libcurl' '$TRASH/ld'"
check "... while it does list what it loads" grep -q 'file=libgit2' "$TRASH/ld"

# Twin: a review source that needs HTTP cannot run without libcurl.
sg_forge_start approved --log "$TRASH/forge.log" || exit 1
printf '[gate]\n\tprotectedBranch = main\n\trequiredReviews = 2\n\treviewSource = github\n[forge]\n\tgithubApi = %s\n\tgithubRepository = octo/hello\n\ttimeout = 2\n' \
	"$SG_FORGE_URL" >"$TRASH/policy"
expect 0 "the github review source works with libcurl" -- sg --policy "$TRASH/policy" check
expect 1 "with a broken libcurl it is an error, not a skipped source" -- nocurl sg --policy "$TRASH/policy" check
grep_out "signgate: error: cannot load libcurl" "the message says libcurl could not be loaded"
grep_out "$soname" "and names the library"
no_grep_out "^allowed" "nothing is allowed"
done_testing
