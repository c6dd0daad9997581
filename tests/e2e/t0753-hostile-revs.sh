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
for t in treetag blobtag annotree tagtag; do
	expect 3 "check $t (not a commit): denied" -- sg check "$t"
	grep_out "names a \(tree\|blob\), not a commit" "  ...says what it names"
	expect 3 "sign --rev $t: denied" -- sg sign --rev "$t" dist/a.txt
	expect 3 "sign --tag $t: denied" -- sg sign --tag "$t" dist/a.txt
done
expect 3 "check HEAD^{tree}: denied" -- sg check 'HEAD^{tree}'
expect 3 "check HEAD:src/hello.c (a blob): denied" -- sg check 'HEAD:src/hello.c'
expect 2 "verify --rev treetag: usage error" -- sg verify --rev treetag dist/a.txt
expect 2 "log treetag: usage error" -- sg log treetag

# option-looking REVs never become options (of signgate or of git)
for r in --upload-pack=touch -x --output=pwn --help=x -xh; do
	expect 2 "check $r: unknown option, usage error" -- sg check "$r"
done
expect 3 "check -- --upload-pack=touch: an unknown revision, denied" -- sg check -- "--upload-pack=touch $TRASH/pwned"
expect 3 "sign --rev --output=pwn: an unknown revision, denied" -- sg sign --rev "--output=$TRASH/pwned" dist/a.txt
expect 3 "sign --rev -h: an unknown revision, denied" -- sg sign --rev -h dist/a.txt
expect 3 "sign --tag --foo: denied" -- sg sign --tag --foo dist/a.txt
expect 3 "sign --tag ../../x: denied" -- sg sign --tag ../../x dist/a.txt
expect 2 "verify --rev=-x: usage error" -- sg verify --rev=-x dist/a.txt
expect 2 "log --upload-pack=x: usage error" -- sg log --upload-pack=x
expect 3 "check main..HEAD (a range): denied" -- sg check main..HEAD
expect 3 "check with a newline in REV: denied" -- sg check "$(printf 'HEAD\nmain')"
expect 3 "check with a 100 kB REV: denied" -- sg check "$(head -c 100000 /dev/zero | tr '\0' a)"
check "the denial is in the audit log" \
	sh -c "tail -1 '$REPO/.git/signgate/audit.log' | jq -e '.rev | length == 100000' >/dev/null"
snap 1
only_written 0 1 "no file was written by any of them"
check "no file named after an injected option exists" sh -c "! ls '$TRASH' | grep -q pwn"
expect 0 "the twin: check HEAD" -- sg check HEAD
done_testing
