#!/bin/sh
# signgate check in a shallow clone: history that is not there is a denial.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"

gate_repo r protectedBranch=main requiredReviews=1
reviewed_commit r "old" "Reviewed-by: Bob <bob@example.com>"
old=$(git -C r rev-parse HEAD)
for i in 1 2 3; do reviewed_commit r "c$i" "Reviewed-by: Bob <bob@example.com>"; done
git -C r checkout -q -b side "$old"
reviewed_commit r "side" "Reviewed-by: Bob <bob@example.com>"
side=$(git -C r rev-parse HEAD)
git -C r checkout -q main

git clone -q --depth 2 --no-single-branch "file://$TRASH/r" s
check "the clone is shallow" test -f s/.git/shallow
git -C s branch -q main origin/main 2>/dev/null || true
expect 0 "shallow clone: the tip is within the history" -- "$SIGNGATE" -C s check origin/main
expect 3 "shallow clone: a commit beyond the shallow boundary" -- "$SIGNGATE" -C s check origin/side
grep_out "shallow history: cannot establish that $(git -C r rev-parse --short=7 "$side") is on refs/heads/main" "says it cannot establish"
grep_out "git fetch --unshallow" "says what to do"
git -C s fetch -q --unshallow
expect 3 "full history: the side commit is denied for what it is" -- "$SIGNGATE" -C s check origin/side
grep_out "is not on refs/heads/main" "plain not-on-branch denial"
expect 0 "full history: an old main commit is allowed" -- "$SIGNGATE" -C s check "$old"
done_testing
