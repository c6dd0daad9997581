#!/bin/sh
# The rules never come from a working tree (issue 12 item 4): a relative
# git config signgate.policyFile (which names the checked-out .signgate of
# any branch) is refused with exit 1 and a message saying why; so is an
# absolute path into the work tree, directly or through a symlink. Twins:
# with the setting unset the protected branch's policy judges (exit 3 on an
# unreviewed commit); an administrator's absolute file outside the repo
# is used, and the note names it.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && exec "$SIGNGATE" "$@"); }

# the attack: a feature branch whose .signgate needs no reviews
git -C "$REPO" checkout -q -b feature
sg_policy_text | sed 's/requiredReviews = 2/requiredReviews = 0/' >"$REPO/.signgate"
git -C "$REPO" commit -q -am "no reviews needed"
printf 'feature build\n' >"$REPO/dist/f.txt"
git -C "$REPO" config signgate.policyFile .signgate
expect 1 "sign with a relative signgate.policyFile: exit 1" -- sg sign dist/f.txt
grep_out "^signgate: error: git config signgate.policyFile = '.signgate' is a relative path" "the message starts signgate: error: and names the setting"
grep_out "must be an absolute path" "says a policy file must be an absolute path"
grep_out "so that no working tree can supply the rules" "and why"
check "nothing was signed" test ! -e "$REPO/dist/f.txt.p7s"
check "no event was recorded" sh -c "! git -C '$REPO' notes --ref signatures show HEAD >/dev/null 2>&1"
expect 1 "check with it: exit 1 too" -- sg check
grep_out "signgate: error: .*relative path" "check says the same"
expect 1 "a subdirectory spelling (./.signgate) is relative too" -- sh -c "git -C '$REPO' config signgate.policyFile ./.signgate && cd '$REPO' && exec '$SIGNGATE' sign dist/f.txt"

# an absolute path into the work tree, directly or through a symlink
git -C "$REPO" config signgate.policyFile "$REPO/.signgate"
expect 1 "an absolute path inside the work tree: exit 1" -- sg sign dist/f.txt
grep_out "signgate: error: .*is inside the working tree" "says it is inside the working tree"
ln -s "$REPO/.signgate" "$TRASH/innocent.policy"
git -C "$REPO" config signgate.policyFile "$TRASH/innocent.policy"
expect 1 "a symlink outside that points into the work tree: exit 1" -- sg sign dist/f.txt
grep_out "inside the working tree" "the symlink is followed"
check "still nothing signed" test ! -e "$REPO/dist/f.txt.p7s"

# twin: unset, the protected branch's policy judges the feature commit
git -C "$REPO" config --unset signgate.policyFile
expect 3 "without the setting: the protected branch's policy denies (exit 3)" -- sg sign dist/f.txt
grep_out "denied" "a denial"

# twin: an administrator's file outside the repository is used
sg_policy_text >"$TRASH/admin.policy"
git -C "$REPO" config signgate.policyFile "$TRASH/admin.policy"
expect 3 "the admin's policy denies the unreviewed feature commit" -- sg sign dist/f.txt
git -C "$REPO" checkout -q main
printf 'release\n' >"$REPO/dist/r.txt"
expect 0 "the admin's absolute policy file signs the reviewed main commit" -- sg sign dist/r.txt
check "openssl verifies it" cms_verify "$REPO/dist/r.txt"
check "the note's Policy: line names the admin's file" sh -c "git -C '$REPO' notes --ref signatures show HEAD | grep -q '^Policy: file $TRASH/admin.policy sha256 '"
done_testing
