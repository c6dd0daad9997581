#!/bin/sh
# signgate check: REV forms and the protected-branch rule.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"

gate_repo r protectedBranch=main requiredReviews=1 firstParent=true
reviewed_commit r "second" "Reviewed-by: Bob <bob@example.com>"
expect 0 "linear history: HEAD on main" -- sg check
grep_out "ok   protected-branch  refs/heads/main first-parent (tip)" "evidence names the branch"
grep_out "^allowed" "decision printed"
expect 0 "the first commit, by sha" -- sg check "$(git -C r rev-parse HEAD~1)"
grep_out "1 commit behind tip" "distance to the tip"
expect 0 "branch name as REV" -- sg check main

# A commit only on a feature branch.
git -C r checkout -q -b feature
reviewed_commit r "feature work" "Reviewed-by: Bob <bob@example.com>"
expect 3 "commit only on a feature branch" -- sg check
grep_out "DENY protected-branch" "branch rule denied"
grep_out "signgate: denied: .* is not on refs/heads/main" "diagnostic on stderr"

# The feature branch edits .signgate to allow itself: the policy comes from main's tip.
write_policy r protectedBranch='*' requiredReviews=0
git -C r commit -q -am "allow everything" -m "Reviewed-by: Bob <bob@example.com>"
expect 3 "a feature branch cannot relax its own policy" -- sg check
grep_out "is not on refs/heads/main" "judged by main's policy"
git -C r checkout -q main
expect 0 "main itself still allowed" -- sg check

# Reachable but not first-parent.
git -C r checkout -q -b topic main
reviewed_commit r "topic" "Reviewed-by: Bob <bob@example.com>"
topic=$(git -C r rev-parse HEAD)
git -C r checkout -q main
reviewed_commit r "main moves" "Reviewed-by: Bob <bob@example.com>"
git -C r merge -q --no-ff topic -m "Merge topic" -m "Reviewed-by: Carol <carol@example.com>"
expect 3 "merged commit is not first-parent" -- sg check "$topic"
grep_out "reachable from refs/heads/main but not on its first-parent chain" "says why"
write_policy r protectedBranch=main requiredReviews=1 firstParent=false
git -C r commit -q -am "firstParent off" -m "Reviewed-by: Bob <bob@example.com>"
expect 0 "merged commit allowed without firstParent" -- sg check "$topic"
grep_out "refs/heads/main reachable (merged by" "merge named"
expect 3 "the feature branch commit is still denied" -- sg check feature

# Tags: lightweight and annotated, peeled; a tag on an unreviewed commit.
git -C r tag v1.0
git -C r tag -a -m "release" v1.1
expect 0 "lightweight tag as REV" -- sg check v1.0
expect 0 "annotated tag as REV" -- sg check v1.1
grep_out "$(git -C r rev-parse HEAD | cut -c1-7)" "the peeled commit is judged"
git -C r commit -q --allow-empty -m "unreviewed"
git -C r tag -a -m "release" v1.2
expect 3 "tag on an unreviewed commit" -- sg check v1.2
grep_out "0 of 1 required review" "reviews rule says why"
git -C r tag -a -m tree treetag 'HEAD^{tree}'
expect 1 "a tag of a tree is not a commit: an error, not a decision" -- sg check treetag
grep_out "names a tree, not a commit" "says what it names"

# Detached HEAD.
git -C r checkout -q --detach v1.1
expect 0 "detached HEAD on a reviewed main commit" -- sg check
git -C r checkout -q --detach feature
expect 3 "detached HEAD on a feature commit" -- sg check
git -C r checkout -q main

# REV that does not exist, REV starting with '-', usage errors.
expect 1 "unknown revision: an error (exit 1), not a denial" -- sg check no-such-branch
grep_out "signgate: error: unknown revision no-such-branch" "names the revision"
grep_out "fetch it or name one that exists" "names the fix"
no_grep_out "denied" "never says denied"
expect 1 "-- then a REV starting with '-' is a revision" -- sg check -- -x
grep_out "unknown revision -x" "taken as a revision"
expect 2 "an option that does not exist" -- sg check -x
expect 2 "two revisions" -- sg check main feature
grep_out "check takes one revision, got 2" "and says so"

# --json parsed by jq, for allowed and denied.
expect 0 "--json allowed" -- sg --json check v1.1
check "json: allowed true, 3 rules, reviewer" sh -c "jq -e '.allowed == true and (.rules | length) == 3 and .decision == \"allowed\" and (.policy | startswith(\"blob \")) and .reviewers == [\"bob@example.com\"] and .required_reviews == 1' '$TRASH/out' >/dev/null"
expect 3 "--json denied" -- sg check --json feature
check "json: allowed false, denial decision" sh -c "jq -e '.allowed == false and (.decision | startswith(\"denied: \")) and .rules[0].ok == false and .rules[0].rule == \"protected-branch\"' '$TRASH/out' >/dev/null"

# A protected branch named without a glob is looked up by its name, not
# found by reading every ref: the same verdicts as a glob that matches it.
# A symbolic ref is not a branch to judge against, either way.
git -C r symbolic-ref refs/heads/release refs/heads/feature
printf '[gate]\n\tprotectedBranch = release\n\trequiredReviews = 0\n' >"$TRASH/literal"
printf '[gate]\n\tprotectedBranch = releas[e]\n\trequiredReviews = 0\n' >"$TRASH/glob"
expect 3 "a literal protected name that is a symbolic ref names no branch" -- sg --policy "$TRASH/literal" check feature
grep_out "no branch matches gate.protectedBranch (release) under refs/heads/" "says none matches"
expect 3 "the same with a glob" -- sg --policy "$TRASH/glob" check feature
grep_out "no branch matches gate.protectedBranch (releas\[e\])" "says none matches"
git -C r symbolic-ref --delete refs/heads/release
git -C r branch release feature
expect 0 "once release is a branch, the literal name finds it" -- sg --policy "$TRASH/literal" check feature
grep_out "refs/heads/release first-parent (tip)" "judged against it"
expect 0 "and so does the glob" -- sg --policy "$TRASH/glob" check feature
git -C r update-ref refs/remotes/origin/main main
git -C r symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
printf '[gate]\n\tprotectedBranch = main\n\tprotectedBranch = HEAD\n\tremote = origin\n\trequiredReviews = 0\n' >"$TRASH/remote"
expect 0 "gate.remote: judged against refs/remotes/origin/main" -- sg --policy "$TRASH/remote" check main
grep_out "refs/remotes/origin/main first-parent (tip)" "names the remote-tracking ref"
expect 3 "origin/HEAD (symbolic) is skipped: a feature commit is denied" -- sg --policy "$TRASH/remote" check feature
grep_out "is not on refs/remotes/origin/main" "judged against origin/main only"

# Unborn HEAD.
git init -q -b main r2
git -C r2 commit -q --allow-empty -m x
expect 1 "repository without a policy" -- "$SIGNGATE" -C r2 check
git -C r2 checkout -q --orphan fresh
expect 1 "unborn HEAD: an error" -- "$SIGNGATE" -C r2 --policy "$TRASH/r/.signgate" check
grep_out "HEAD is unborn" "says HEAD is unborn"
done_testing
