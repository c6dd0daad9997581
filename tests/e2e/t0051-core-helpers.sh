#!/bin/sh
# Shared helpers live once in src/core and every module uses them (DESIGN.md
# section 5): nobody dereferences libgit2's last error directly (NULL in
# libgit2 1.5 when the failing call recorded none; core/git.h's
# sg_git_errmsg never is); a JSON string-or-null and a string list as a JSON
# array are made by core/json.h alone. Each rule is also run on a copy of the tree with
# a violation planted, which it must find.
. "$SG_TOP/tests/lib/test-lib.sh"

# helpers SRC: print every violation, exit 1 when there is one
helpers() {
	src=$1 bad=0
	# git_error_last() is read in one place only
	if grep -rn 'git_error_last[[:space:]]*(' "$src" --include='*.[ch]' |
		grep -v "^$src/core/git\.[ch]:"; then bad=1; fi
	# one maker of JSON strings-or-null and string arrays
	if grep -rnE 'json_t \*[a-z_]*(str_or_null|strlist_json)[[:space:]]*\(' "$src" --include='*.c' |
		grep -v "^$src/core/json\.c:"; then bad=1; fi
	return $bad
}

expect 0 "every module reads libgit2's error through core/git.h" -- helpers "$SG_TOP/src"

plant() {
	rm -rf "$TRASH/src" && cp -r "$SG_TOP/src" "$TRASH/src" && printf '%s\n' "$2" >>"$TRASH/src/$1"
}
plant gate/reach.c 'static const char *x(void) { return git_error_last()->message; }'
expect 1 "a direct git_error_last() dereference is found" -- helpers "$TRASH/src"
grep_out 'gate/reach.c' "and named"
plant cli/log.c 'static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }'
expect 1 "a local copy of str_or_null is found" -- helpers "$TRASH/src"
grep_out 'cli/log.c' "and named"
plant attest/statement.c 'static json_t *strlist_json(const sg_strlist *l) { return 0; }'
expect 1 "a local copy of strlist_json is found" -- helpers "$TRASH/src"
done_testing
