#!/bin/sh
# Shared helpers live once in src/core and every module uses them (DESIGN.md
# section 5): nobody dereferences libgit2's last error directly (NULL in
# libgit2 1.5 when the failing call recorded none; core/git.h's
# sg_git_errmsg never is). Each rule is also run on a copy of the tree with
# a violation planted, which it must find.
. "$SG_TOP/tests/lib/test-lib.sh"

# helpers SRC: print every violation, exit 1 when there is one
helpers() {
	src=$1 bad=0
	# git_error_last() is read in one place only
	if grep -rn 'git_error_last[[:space:]]*(' "$src" --include='*.[ch]' |
		grep -v "^$src/core/git\.[ch]:"; then bad=1; fi
	return $bad
}

expect 0 "every module reads libgit2's error through core/git.h" -- helpers "$SG_TOP/src"

plant() {
	rm -rf "$TRASH/src" && cp -r "$SG_TOP/src" "$TRASH/src" && printf '%s\n' "$2" >>"$TRASH/src/$1"
}
plant gate/reach.c 'static const char *x(void) { return git_error_last()->message; }'
expect 1 "a direct git_error_last() dereference is found" -- helpers "$TRASH/src"
grep_out 'gate/reach.c' "and named"
done_testing
