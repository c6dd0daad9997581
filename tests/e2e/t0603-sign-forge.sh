#!/bin/sh
# signgate sign with reviewSource = github: the note keeps the review
# evidence (request URL, approvers, review ids, fetch time, SHA-256 of each
# API answer) so the decision can be re-judged without the forge.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
. "$SG_LIB/forge.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }

sg_forge_start approved --head "$(git -C "$REPO" rev-parse HEAD)" || exit 1
good=$SG_FORGE_URL
sg_forge_start changes-requested || exit 1
bad=$SG_FORGE_URL
sg_policy_text | sed 's/reviewSource = trailers/reviewSource = github/' >"$TRASH/policy.base"
{ cat "$TRASH/policy.base"; printf '[forge]\n\tgithubApi = %s\n\tgithubRepository = octo/hello\n\ttimeout = 5\n' "$good"; } |
	sg_commit_policy
# the policy commit moved main: judge the reviewed commit, which the stand-in's pull request heads
rev=$(git -C "$REPO" rev-parse HEAD~1)
git -C "$REPO" archive --prefix=hello-1.0/ -o dist/hello-1.0.tar.gz "$rev"

expect 0 "sign with GitHub reviews" -- sg sign --rev "$rev" dist/hello-1.0.tar.gz
check "openssl cms -verify accepts the signature" cms_verify "$REPO/dist/hello-1.0.tar.gz"
note=$(git -C "$REPO" notes --ref=refs/notes/signatures show "$rev")
printf '%s\n' "$note" >"$TRASH/note"
check "Gate: names the source and the reviewers" \
	grep -q "^Gate: allowed; refs/heads/main first-parent; 2/2 reviews via github: github:bob, github:carol" "$TRASH/note"
check "Review-Request: the pull request URL" \
	grep -q "^Review-Request: github https://github.example/octo/hello/pull/7 (#7, head $rev, merged into main at 2026-11-20T10:00:00Z)" "$TRASH/note"
check "Review-Approvers: logins and review ids" \
	grep -q "^Review-Approvers: github github:bob (review 101 on .*), github:carol (review 102 on .*)" "$TRASH/note"
check "Review-Required: policy and branch protection" grep -q "^Review-Required: github 2 (gate.requiredReviews 2; branch protection not readable: HTTP 404" "$TRASH/note"
check "Review-Fetched-At" grep -q "^Review-Fetched-At: github 20[0-9-]*T[0-9:]*Z$" "$TRASH/note"
# two answers were used (the pull requests, the reviews); the 404 of branch protection was not
check "two Review-Response-Sha256 lines" sh -c "[ \$(grep -c '^Review-Response-Sha256: [0-9a-f]\{64\} GET /repos/' '$TRASH/note') = 2 ]"
# independent check of one digest: fetch the same answer with curl
path=$(sed -n 's|^Review-Response-Sha256: [0-9a-f]* GET \(/repos/octo/hello/pulls/7/reviews.*\)$|\1|p' "$TRASH/note")
want=$(sed -n 's|^Review-Response-Sha256: \([0-9a-f]*\) GET /repos/octo/hello/pulls/7/reviews.*$|\1|p' "$TRASH/note")
got=$(curl -s --noproxy '*' "$good$path" | sha256sum | cut -d' ' -f1)
check "the reviews digest matches the API answer (curl + sha256sum)" test -n "$want" -a "$want" = "$got"
check "the digest of another answer differs" sh -c "[ \"\$(curl -s --noproxy '*' '$bad$path' | sha256sum | cut -d' ' -f1)\" != '$want' ]"
check "every line of the note (the attestation, a blank line, the event) is Key: value" sh -c "! grep -v '^\$' '$TRASH/note' | grep -qv '^[A-Za-z0-9-]*: '"

# Denial twin: the approval was withdrawn; nothing is signed or recorded.
{ cat "$TRASH/policy.base"; printf '[forge]\n\tgithubApi = %s\n\tgithubRepository = octo/hello\n\ttimeout = 5\n' "$bad"; } |
	sg_commit_policy
rev=$(git -C "$REPO" rev-parse HEAD~2)
printf 'second\n' >"$REPO/dist/two.txt"
expect 3 "sign denied when an approval became CHANGES_REQUESTED" -- sg sign --rev "$rev" dist/two.txt
grep_out "latest review 103 on pull request #7 requests changes" "says why"
check "no signature written" test ! -e "$REPO/dist/two.txt.p7s"
check "no second event in the note" sh -c "[ \$(git -C '$REPO' notes --ref=refs/notes/signatures show '$rev' | grep -c '^Signgate-Event:') = 1 ]"
done_testing
