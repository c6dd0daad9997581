#!/bin/sh
# One push, judged whole (issue 14): pre-receive judges a release tag
# against the protected branch as the whole push leaves it, so a branch, its
# release tag and the notes may go in one push (or with --follow-tags); a
# server without a policy tells its administrator what to set there.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
export PATH="$SIGNGATE_BUILD:$PATH"
sg_policy_text | sed 's/^\[scan\]/[release]\n\ttagPattern = v*\n\trequireNote = true\n[scan]/' | sg_commit_policy
SERVER=$TRASH/server.git
git init -q --bare "$SERVER"
(cd "$SERVER" && signgate install-hooks >/dev/null)
git -C "$REPO" remote add origin "$SERVER"
expect 0 "the first push brings the policy" -- git -C "$REPO" push -q origin main

# sign_release TAG: a reviewed commit, its tag, its signed artifact
sign_release() {
	sg_reviewed_commit "src/$1.c" "int v;"
	git -C "$REPO" tag -a -m "release $1" "$1"   # annotated: --follow-tags pushes those
	printf '%s\n' "$1" >"$REPO/dist/$1.txt"
	(cd "$REPO" && signgate -q sign --tag "$1" "dist/$1.txt") || echo "# sign $1 failed"
}

sign_release v2.0
expect 0 "git push origin main v2.0 refs/notes/signatures: one push" -- \
	git -C "$REPO" push origin main v2.0 refs/notes/signatures
grep_out "accepted: tag v2.0" "  ...the tag was judged and accepted"
check "  ...the server has v2.0" sh -c "git -C '$SERVER' rev-parse -q --verify refs/tags/v2.0 >/dev/null"
check "  ...and main at the tag's commit" test "$(git -C "$SERVER" rev-parse main)" = "$(git -C "$REPO" rev-parse v2.0^{commit})"

sign_release v2.1
git -C "$REPO" config push.followTags true
expect 0 "git push --follow-tags origin main refs/notes/signatures" -- \
	git -C "$REPO" push --follow-tags origin main refs/notes/signatures
git -C "$REPO" config --unset push.followTags
check "  ...the server has v2.1" sh -c "git -C '$SERVER' rev-parse -q --verify refs/tags/v2.1 >/dev/null"

# The twin: the branch in the push does not contain the tag's commit.
sign_release v2.2
git -C "$REPO" branch -q side v2.1
expect 1 "a tag pushed with a branch that does not contain it is refused" -- \
	git -C "$REPO" push origin side:main v2.2 refs/notes/signatures
grep_out "tag v2.2 .*the gate denies it" "  ...the gate judged it against the pushed branch"
check "  ...the server has no v2.2" sh -c "! git -C '$SERVER' rev-parse -q --verify refs/tags/v2.2"
# And the tag alone, before its branch: refused, as before.
expect 1 "the tag alone, its commit not yet on the server's main, is refused" -- \
	git -C "$REPO" push origin v2.2 refs/notes/signatures
grep_out "not on refs/heads/main\|is not on" "  ...the branch rule says why"
check "the real repository's refs were not touched by the judging" \
	test "$(git -C "$SERVER" rev-parse main)" = "$(git -C "$REPO" rev-parse v2.1^{commit})"
check "no judging folder is left behind" sh -c "! ls -d '${TMPDIR:-/tmp}'/signgate-push.* 2>/dev/null | grep -q ."

# A server without a policy: the administrator is told what to set.
BARE=$TRASH/nopolicy.git
git init -q --bare "$BARE"
(cd "$BARE" && signgate install-hooks >/dev/null)
git -C "$BARE" config signgate.policyRef refs/heads/policy
expect 1 "a release tag to a server without a policy" -- git -C "$REPO" push "$BARE" main v2.0 refs/notes/signatures
grep_out "remote: signgate: error: this server has no signgate policy" "  ...says the server has none"
grep_out "git config signgate.policyFile" "  ...names the setting for the administrator"
no_grep_out "pass --policy" "  ...not advice a pusher cannot follow"
expect 0 "a branch push to it passes (nothing to judge)" -- git -C "$REPO" push "$BARE" main:other
done_testing
