#!/bin/sh
# signgate check with reviewSource = github against a local GitHub stand-in.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"
. "$SG_TOP/tests/lib/forge.sh"

gate_repo r protectedBranch=main requiredReviews=2
reviewed_commit r "the change"
head=$(git -C r rev-parse HEAD)
short=$(git -C r rev-parse --short=7 HEAD)

# gh_policy URL [KEY=VALUE...]: an administrator's policy file for the forge
gh_policy() {
	_u=$1; shift
	{
		printf '[gate]\n\tprotectedBranch = main\n\trequiredReviews = 2\n\treviewSource = github\n'
		for _kv in "$@"; do printf '\t%s = %s\n' "${_kv%%=*}" "${_kv#*=}"; done
		printf '[forge]\n\tgithubApi = %s\n\tgithubRepository = octo/hello\n\ttimeout = 2\n' "$_u"
	} >"$TRASH/policy"
}
# gh MODE [SERVER-ARGS...]: start a server in MODE and write the default policy for it
gh() { _m=$1; shift; sg_forge_start "$_m" --log "$TRASH/forge.log" "$@" && gh_policy "$SG_FORGE_URL"; }
chk() { "$SIGNGATE" -C "$TRASH/r" --policy "$TRASH/policy" check "$@"; }

gh approved
expect 0 "approved by bob and carol on the head" -- chk
grep_out "2 of 2 required reviews on $short (github:bob, github:carol)" "both counted, named github:LOGIN"
check "asked for the pull requests of the commit" grep -q "^/repos/octo/hello/commits/$head/pulls" "$TRASH/forge.log"
check "asked for the reviews of #7" grep -q "^/repos/octo/hello/pulls/7/reviews" "$TRASH/forge.log"
check "no token, no Authorization header" sh -c "! grep -q ' yes\$' '$TRASH/forge.log'"
expect 0 "--json" -- chk --json
check "JSON names the reviewers" sh -c "jq -e '.reviewers == [\"github:bob\",\"github:carol\"]' '$TRASH/out' >/dev/null"
check "JSON carries the review evidence" sh -c "jq -e '[.evidence[] | select(startswith(\"Review-Request: \"))] | length == 1' '$TRASH/out' >/dev/null"

gh stale
expect 3 "one approval is on an older commit (stale)" -- chk
grep_out "1 of 2 required reviews" "only bob counts"
grep_out "not the pull request's head .* (stale; gate.allowStaleReviews is false) (github:carol)" "says carol's is stale"
gh_policy "$SG_FORGE_URL" allowStaleReviews=true
expect 0 "stale approval counts with allowStaleReviews" -- chk

gh changes-requested
expect 3 "approval later changed to CHANGES_REQUESTED" -- chk
grep_out "github:carol's latest review 103 on pull request #7 requests changes; GitHub would not merge it (gate.changesRequested = block)" "the latest review decides, and blocks"
gh_policy "$SG_FORGE_URL" changesRequested=ignore
expect 3 "with changesRequested = ignore carol's review only does not count" -- chk
grep_out "latest review 103 is CHANGES_REQUESTED, not APPROVED (github:carol)" "says why"

gh dismissed
expect 3 "dismissed review" -- chk
grep_out "latest review 102 is DISMISSED" "says dismissed"

gh paged
expect 0 "reviews on two pages (Link rel=next)" -- chk
grep_out "(github:bob, github:carol)" "both pages read"
check "second page fetched" grep -q "page=2" "$TRASH/forge.log"

gh paged-offsite
expect 3 "next page on another host is not followed" -- chk
grep_out "the next page of .* is on another host" "says why"

gh unmerged
expect 3 "pull request not merged" -- chk
grep_out "pull request #7 is not merged" "says so"

gh approved
gh_policy "$SG_FORGE_URL"
sed -i 's/protectedBranch = main/protectedBranch = release/' "$TRASH/policy"
git -C r branch -q release
expect 3 "merged into a branch that is not protected" -- chk release
grep_out "merged into main, not a protected branch" "says which branch"

gh approved --head 3333333333333333333333333333333333333333
expect 3 "the commit is in the pull request but is neither its head nor its merge" -- chk
grep_out "is neither the head nor the merge commit of pull request #7" "says sign what was reviewed"

gh self
expect 3 "the pull request's author approving does not count" -- chk
grep_out "the pull request's author does not count (github:alice)" "says why"
gh_policy "$SG_FORGE_URL" allowSelfReview=true
expect 0 "author counts with allowSelfReview" -- chk

gh protected3
expect 3 "branch protection requires 3" -- chk
grep_out "2 of 3 required reviews" "required = max(policy, branch protection)"

gh rate-limited
expect 3 "403 rate limited" -- chk
grep_out "GitHub API rate limit reached (HTTP 403" "says rate limit"
grep_out "it resets at 2026-11-18T11:06:40Z" "says when it resets"

# A secondary rate limit: 403 with Retry-After (served from a scenario file).
cat >"$TRASH/scenario.json" <<JSON
{"/repos/octo/hello/commits/$head/pulls": {"status": 403, "headers": {"Retry-After": "60"},
  "body": {"message": "You have exceeded a secondary rate limit."}}}
JSON
gh scenario --scenario "$TRASH/scenario.json"
expect 3 "403 secondary rate limit (Retry-After)" -- chk
grep_out "GitHub API rate limit reached (HTTP 403.*it resets at 20" "says rate limit and when"

gh http500
expect 3 "HTTP 500" -- chk
grep_out "GitHub API answered HTTP 500 .*(server error)" "says server error"

gh malformed
expect 3 "malformed JSON" -- chk
grep_out "GitHub API answered malformed JSON" "says malformed"

gh slow --slow-seconds 4
expect 3 "slower than forge.timeout" -- chk
grep_out "GitHub API timed out after 2000 ms" "says timeout"

# The token goes in the Authorization header and nowhere else.
gh approved --token s3cr3t-t0ken
expect 1 "no token where the API needs one: an error, not a denial" -- chk
grep_out "signgate: error: GitHub API needs a token (HTTP 401 .*) and GITHUB_TOKEN is not set; set it" "says which variable to set"
GITHUB_TOKEN=wrong expect 1 "wrong token: an error" -- chk
grep_out "signgate: error: GitHub API refused the token (HTTP 401" "says the token was refused"
GITHUB_TOKEN=s3cr3t-t0ken expect 0 "right token" -- chk
no_grep_out "s3cr3t-t0ken" "the token is never printed"
check "token sent as Authorization" grep -q " yes\$" "$TRASH/forge.log"
check "token not in the audit log" sh -c "! grep -rq s3cr3t-t0ken '$TRASH/r/.git/signgate'"

# Plain http to a host other than loopback never carries the token.
gh_policy http://forge.invalid
GITHUB_TOKEN=s3cr3t-t0ken expect 1 "token over plain http to a remote host: an error" -- chk
grep_out "would travel in clear text" "refused before connecting"

# Nothing listens: a denial, not an error.
sg_forge_stop
gh_policy "$SG_FORGE_URL"
expect 3 "API unreachable" -- chk
grep_out "GitHub API unreachable" "says unreachable"

# No repository configured.
printf '[gate]\n\tprotectedBranch = main\n\treviewSource = github\n' >"$TRASH/policy"
expect 1 "reviewSource github without forge.githubRepository: an error" -- chk
grep_out "needs forge.githubRepository" "says what to set"
done_testing
