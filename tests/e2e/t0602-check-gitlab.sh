#!/bin/sh
# signgate check with reviewSource = gitlab against a local GitLab stand-in.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"
. "$SG_TOP/tests/lib/forge.sh"

gate_repo r protectedBranch=main requiredReviews=2
reviewed_commit r "the change"
head=$(git -C r rev-parse HEAD)
short=$(git -C r rev-parse --short=7 HEAD)

gl_policy() {
	_u=$1; shift
	{
		printf '[gate]\n\tprotectedBranch = main\n\trequiredReviews = 2\n\treviewSource = gitlab\n'
		for _kv in "$@"; do printf '\t%s = %s\n' "${_kv%%=*}" "${_kv#*=}"; done
		printf '[forge]\n\tgitlabApi = %s/api/v4\n\tgitlabProject = group/hello\n\ttimeout = 2\n' "$_u"
	} >"$TRASH/policy"
}
gl() { _m=$1; shift; sg_forge_start "$_m" --log "$TRASH/forge.log" "$@" && gl_policy "$SG_FORGE_URL"; }
chk() { "$SIGNGATE" -C "$TRASH/r" --policy "$TRASH/policy" check "$@"; }

gl approved
expect 0 "approved by bob and carol" -- chk
grep_out "2 of 2 required reviews on $short (gitlab:bob, gitlab:carol)" "both counted, named gitlab:USERNAME"
check "asked for the merge requests of the commit (project id encoded)" \
	grep -q "^/api/v4/projects/group%2Fhello/repository/commits/$head/merge_requests" "$TRASH/forge.log"
check "asked for the approvals of !7" grep -q "^/api/v4/projects/group%2Fhello/merge_requests/7/approvals" "$TRASH/forge.log"

gl stale
expect 3 "project does not reset approvals on push (stale)" -- chk
grep_out "does not reset approvals on push" "says why"
gl_policy "$SG_FORGE_URL" allowStaleReviews=true
expect 0 "stale approvals count with allowStaleReviews" -- chk

gl changes-requested
expect 3 "an approval was withdrawn" -- chk
grep_out "1 of 2 required reviews on $short (gitlab:bob)" "only bob"

gl paged
expect 0 "merge requests on two pages" -- chk
grep_out "merge request !6 is closed, not merged" "the first page's MR is recorded as not merged"

gl paged-offsite
expect 3 "next page on another host" -- chk
grep_out "on another host" "says why"

gl unmerged
expect 3 "merge request not merged" -- chk
grep_out "merge request !7 is opened, not merged" "says so"

gl self
expect 3 "the author's approval does not count" -- chk
grep_out "the merge request's author does not count (gitlab:alice)" "says why"

gl protected3
expect 3 "the merge request requires 3 approvals" -- chk
grep_out "2 of 3 required reviews" "required = max(policy, approvals_required)"

gl rate-limited
expect 3 "429 rate limited" -- chk
grep_out "GitLab API rate limit reached (HTTP 429.*it resets at 2026-11-18T11:06:40Z" "says rate limit and reset"

gl http500
expect 3 "HTTP 500" -- chk
grep_out "GitLab API answered HTTP 500" "says so"

gl malformed
expect 3 "malformed JSON" -- chk
grep_out "GitLab API answered malformed JSON" "says so"

gl slow --slow-seconds 4
expect 3 "slower than forge.timeout" -- chk
grep_out "GitLab API timed out after 2000 ms" "says timeout"

gl approved --token gl-t0ken
GITLAB_TOKEN=gl-t0ken expect 0 "token accepted" -- chk
no_grep_out "gl-t0ken" "token never printed"
expect 1 "token missing: an error" -- chk
grep_out "GitLab API needs a token (HTTP 401 .*) and GITLAB_TOKEN is not set" "says which variable to set"

printf '[gate]\n\tprotectedBranch = main\n\treviewSource = gitlab\n' >"$TRASH/policy"
expect 1 "reviewSource gitlab without forge settings: an error" -- chk
grep_out "needs forge.gitlabApi" "says what to set"
done_testing
