#!/bin/sh
# Hostile revisions (issue 7 item 3): tags pointing at trees and blobs, REV
# strings that look like options or ranges. Exact exit codes; nothing is
# written (before/after listing). Covered elsewhere: branch/tag/sha REV
# forms and unknown revisions (t0100-check-branch.sh).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
. "$SG_LIB/hostile-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
printf 'artifact\n' >"$REPO/dist/a.txt"
expect 0 "setup: dist/a.txt is signed" -- sg sign dist/a.txt
git -C "$REPO" tag treetag 'HEAD^{tree}'
git -C "$REPO" tag -a -m t blobtag 'HEAD:src/hello.c'
git -C "$REPO" tag -a -m t annotree 'HEAD^{tree}'
git -C "$REPO" tag -a -m t tagtag blobtag 2>/dev/null
snap 0
# A REV that names no commit is work that cannot be done: exit 1 and
# "signgate: error:" (DESIGN.md "Exit status"), never 0, never a decision.
for t in treetag blobtag annotree tagtag; do
	expect 1 "check $t (not a commit): an error" -- sg check "$t"
	grep_out "names a \(tree\|blob\), not a commit" "  ...says what it names"
	grep_out "signgate: error: " "  ...as an error"
	expect 1 "sign --rev $t: an error" -- sg sign --rev "$t" dist/a.txt
	expect 1 "sign --tag $t: an error" -- sg sign --tag "$t" dist/a.txt
done
expect 1 "check HEAD^{tree}: an error" -- sg check 'HEAD^{tree}'
expect 1 "check HEAD:src/hello.c (a blob): an error" -- sg check 'HEAD:src/hello.c'
expect 1 "verify --rev treetag: an error" -- sg verify --rev treetag dist/a.txt
expect 2 "log treetag: usage error" -- sg log treetag

# option-looking REVs never become options (of signgate or of git)
for r in --upload-pack=touch -x --output=pwn --help=x -xh; do
	expect 2 "check $r: unknown option, usage error" -- sg check "$r"
done
expect 1 "check -- --upload-pack=touch: an unknown revision, an error" -- sg check -- "--upload-pack=touch $TRASH/pwned"
expect 1 "sign --rev --output=pwn: an unknown revision, an error" -- sg sign --rev "--output=$TRASH/pwned" dist/a.txt
expect 1 "sign --rev -h: an unknown revision, an error" -- sg sign --rev -h dist/a.txt
expect 1 "sign --tag --foo: an unknown tag, an error" -- sg sign --tag --foo dist/a.txt
expect 1 "sign --tag ../../x: an unknown tag, an error" -- sg sign --tag ../../x dist/a.txt
expect 1 "verify --rev=-x: an unknown revision, an error" -- sg verify --rev=-x dist/a.txt
expect 2 "log --upload-pack=x: usage error" -- sg log --upload-pack=x
expect 1 "check main..HEAD (a range): an error" -- sg check main..HEAD
expect 1 "check with a newline in REV: an error" -- sg check "$(printf 'HEAD\nmain')"
expect 1 "check with a 100 kB REV: an error" -- sg check "$(head -c 100000 /dev/zero | tr '\0' a)"
check "the refusal is in the audit log" \
	sh -c "tail -1 '$REPO/.git/signgate/audit.log' | jq -e '.rev | length == 100000' >/dev/null"
snap 1
only_written 0 1 "no file was written by any of them"
check "no file named after an injected option exists" sh -c "! ls '$TRASH' | grep -q pwn"
expect 0 "the twin: check HEAD" -- sg check HEAD
done_testing
