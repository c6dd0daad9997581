#!/bin/sh
# Forges as their own gates judge (issue 12), against recorded-style answers
# (tests/lib/forge-recorded/): only this repository's pull requests; an
# outstanding "changes requested" denies; a null commit_id is stale; GitLab
# counts only approvals its approval rules accept and says what it could not
# read. And one person seen by two sources counts once.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"
. "$SG_TOP/tests/lib/forge.sh"
. "$SG_TOP/tests/lib/gpg.sh"

REC=$SG_TOP/tests/lib/forge-recorded
gate_repo r protectedBranch=main requiredReviews=2
reviewed_commit r "the change"
head=$(git -C r rev-parse HEAD)

# policy FORGE-KEYS KEY=VALUE...: an administrator's policy file
policy() {
	_f=$1; shift
	{
		printf '[gate]\n\tprotectedBranch = main\n'
		case " $* " in *" requiredReviews="*) ;; *) printf '\trequiredReviews = 2\n' ;; esac
		for _kv in "$@"; do printf '\t%s = %s\n' "${_kv%%=*}" "${_kv#*=}"; done
		printf '[forge]\n\ttimeout = 5\n%s\n' "$_f"
	} >"$TRASH/policy"
}
gh_keys() { printf '\tgithubApi = %s\n\tgithubRepository = octo/hello' "$SG_FORGE_URL"; }
gl_keys() { printf '\tgitlabApi = %s/api/v4\n\tgitlabProject = group/hello' "$SG_FORGE_URL"; }
# recorded FILE: serve a recorded answer set for this commit
recorded() { sg_forge_stop; sg_forge_start scenario --scenario "$1" --head "$head" --log "$TRASH/forge.log"; }
chk() { "$SIGNGATE" -C "$TRASH/r" --policy "$TRASH/policy" check "$@"; }

# ---- Another repository's pull request ----
recorded "$REC/github-fork.json"
policy "$(gh_keys)" reviewSource=github
expect 3 "the only pull request is the upstream's #7: this repository's #7 is not asked" -- chk
grep_out "pull request #7 belongs to upstream/hello, not octo/hello" "says whose it is"
grep_out "no pull request merged into a protected branch contains" "none left"
check "the reviews of this repository's #7 were never fetched" sh -c "! grep -q '/pulls/7/reviews' '$TRASH/forge.log'"
recorded "$REC/github-fork-own.json"
policy "$(gh_keys)" reviewSource=github
expect 0 "the allowed twin: this repository's own #12 beside the upstream's" -- chk
grep_out "2 of 2 required reviews on .* (github:dave, github:erin)" "#12's reviewers counted"

# ---- Changes requested (reviews on two pages, Link rel=next) ----
sg_forge_stop
: >"$TRASH/forge.log"
recorded "$REC/github-changes-requested.json"
policy "$(gh_keys)" reviewSource=github
expect 3 "a maintainer's latest decisive review requests changes" -- chk
grep_out "github:maint's latest review 4003 on pull request #31 requests changes; GitHub would not merge it (gate.changesRequested = block)" "names the reviewer and the review"
grep_out "2 of 2 required reviews" "though two approvals exist"
check "the second page was read" grep -q "page=2" "$TRASH/forge.log"
policy "$(gh_keys)" reviewSource=github changesRequested=ignore
expect 0 "the allowed twin: gate.changesRequested = ignore" -- chk
grep_out "(github:bob, github:carol)" "bob and carol counted, carol's approval from page 2"
jq '.["/repos/octo/hello/pulls/31/reviews?per_page=100"].body[2].author_association = "NONE"' \
	"$REC/github-changes-requested.json" >"$TRASH/driveby.json"
recorded "$TRASH/driveby.json"
policy "$(gh_keys)" reviewSource=github
expect 0 "a reviewer without write access (author_association NONE) does not block, as on GitHub" -- chk
grep_out "latest review 4003 is CHANGES_REQUESTED, not APPROVED (github:maint)" "that review only does not count"
jq '.["/repos/octo/hello/pulls/31/reviews?per_page=100&page=2"].body += [{"id": 4006, "user": {"login": "maint"}, "state": "APPROVED", "commit_id": "@HEAD@", "submitted_at": "2026-11-11T12:00:00Z"}]' \
	"$REC/github-changes-requested.json" >"$TRASH/resolved.json"
recorded "$TRASH/resolved.json"
policy "$(gh_keys)" reviewSource=github
expect 0 "the allowed twin: the maintainer approves after requesting changes" -- chk
grep_out "3 of 2 required reviews" "three approvals"

# ---- A null commit_id ----
recorded "$REC/github-null-commit.json"
policy "$(gh_keys)" reviewSource=github
expect 3 "an approval whose commit_id is null is stale" -- chk
grep_out "approval 5001 names no commit (commit_id is null: GitHub no longer has the reviewed commit), so it cannot be shown to be on the head .* (stale; gate.allowStaleReviews is false) (github:bob)" "says what it does not know"
policy "$(gh_keys)" reviewSource=github allowStaleReviews=true
expect 0 "the allowed twin: counted with allowStaleReviews" -- chk --json
grep_out "Review-Approvers: github github:bob (review 5001 on an unknown commit)" "the evidence says the commit is unknown"

# ---- GitLab: an ineligible approver ----
recorded "$REC/gitlab-ineligible.json"
policy "$(gl_keys)" reviewSource=gitlab requiredReviews=3
expect 3 "mallory's approval satisfies no approval rule" -- chk
grep_out "not an eligible approver under the merge request's approval rules (gitlab:mallory)" "says why"
grep_out "2 of 3 required reviews on .* (gitlab:bob, gitlab:carol)" "bob and carol count"
check "the approval state was asked for" grep -q "/merge_requests/15/approval_state" "$TRASH/forge.log"
jq '(.["/projects/group%2Fhello/merge_requests/15/approval_state"].body.rules[0].eligible_approvers[2]) as $dave |
	.["/projects/group%2Fhello/merge_requests/15/approvals"].body.approved_by |= map(if .user.username == "mallory" then {user: $dave} else . end) |
	.["/projects/group%2Fhello/merge_requests/15/approval_state"].body.rules[0].approved_by += [$dave]' \
	"$REC/gitlab-ineligible.json" >"$TRASH/eligible.json"
recorded "$TRASH/eligible.json"
policy "$(gl_keys)" reviewSource=gitlab requiredReviews=3
expect 0 "the allowed twin: dave, whom the rule lists, approves instead" -- chk
grep_out "3 of 3 required reviews on .* (gitlab:bob, gitlab:carol, gitlab:dave)" "three count"
jq '.["/projects/group%2Fhello/merge_requests/15/approval_state"].body.rules[0] |= (.approved = false | .approvals_required = 3)' \
	"$REC/gitlab-ineligible.json" >"$TRASH/unmet.json"
recorded "$TRASH/unmet.json"
policy "$(gl_keys)" reviewSource=gitlab requiredReviews=2
expect 3 "a rule GitLab reports unmet denies" -- chk
grep_out "GitLab approval rule \"Maintainers\" is not satisfied (2 of 3 approvals); GitLab would not merge it" "names the rule"

# ---- GitLab: settings refused (404) ----
recorded "$REC/gitlab-settings-404.json"
policy "$(gl_keys)" reviewSource=gitlab
expect 3 "approval settings answer 404" -- chk
grep_out "could not read the project's approval settings (HTTP 404 on /projects/group%2Fhello/approvals), so this approval may predate the merged head" "says it could not read them"
no_grep_out "does not reset approvals on push" "never claims what it did not read"
policy "$(gl_keys)" reviewSource=gitlab allowStaleReviews=true
expect 0 "the allowed twin: allowStaleReviews" -- chk
jq '.["/projects/group%2Fhello/merge_requests/16/approval_state"] = {"status": 403, "body": {"message": "403 Forbidden"}}' \
	"$REC/gitlab-settings-404.json" >"$TRASH/state403.json"
recorded "$TRASH/state403.json"
policy "$(gl_keys)" reviewSource=gitlab allowStaleReviews=true
expect 3 "approval rules refused (403): no approval is known to satisfy them" -- chk
grep_out "could not read the merge request's approval rules (HTTP 403 on .*approval_state), so this approval is not known to satisfy them" "says so"

# ---- One person, two reviewers: github beside approvals ----
sg_gpg_init "$GNUPGHOME" || exit 1
sg_at_exit sg_gpg_kill
BOB=$(sg_gpg_genkey Bob bob@example.com "")
FRANK=$(sg_gpg_genkey Frank frank@example.com "")
mkdir -p "$TRASH/keys"
gpg --batch --armor --export "$BOB" "$FRANK" >"$TRASH/keys/reviewers.asc"
expect 0 "bob signs an approval" -- sg approve --key "$BOB" "$head"
recorded "$REC/github-fork-own.json"
people() {
	printf '[person "bob"]\n\temail = bob@example.com\n\tgithub = dave\n\tkey = %s\n' "$BOB"
	printf '[person "erin"]\n\temail = erin@example.com\n\tgithub = erin\n'
	printf '[person "frank"]\n\temail = frank@example.com\n\tkey = %s\n' "$FRANK"
	printf '[person "author"]\n\temail = author@example.com\n\temail = reviewer@example.com\n\tgithub = alice\n'
}
policy "$(gh_keys)" reviewSource=github reviewSource=approvals requiredReviews=3 \
	reviewerKey="$BOB" reviewerKey="$FRANK" reviewerKeyring="$TRASH/keys/reviewers.asc"
expect 0 "without [person]: github:dave and bob@example.com are two strings" -- chk
grep_out "3 of 3 required reviews" "three counted"
people >>"$TRASH/policy"
expect 3 "with [person]: github:dave is bob, so two people for a three-person rule" -- chk
grep_out "2 of 3 required reviews on .* (bob, erin)" "bob counted once"
expect 0 "frank signs an approval" -- sg approve --key "$FRANK" "$head"
expect 0 "the allowed twin: bob, erin and frank" -- chk
grep_out "3 of 3 required reviews on .* (bob, erin, frank)" "three people"
expect 0 "--json" -- chk --json
check "bob's two identities are listed" sh -c "jq -e '.people[0] == {\"name\": \"bob\", \"identities\": [\"github:dave via github\", \"bob@example.com via approvals\"]}' '$TRASH/out' >/dev/null"

# ---- One person, two reviewers: gitlab beside trailers ----
reviewed_commit r "another change" "Reviewed-by: Bob <bob@example.com>"
head=$(git -C r rev-parse HEAD)
sg_forge_stop
sg_forge_start approved --log "$TRASH/forge.log"
policy "$(gl_keys)" reviewSource=gitlab reviewSource=trailers requiredReviews=3
expect 0 "without [person]: gitlab:bob, gitlab:carol and bob@example.com are three" -- chk
printf '[person "bob"]\n\temail = bob@example.com\n\tgitlab = bob\n[person "carol"]\n\temail = carol@example.com\n\tgitlab = carol\n[person "author"]\n\temail = author@example.com\n\tgitlab = alice\n' >>"$TRASH/policy"
expect 3 "with [person]: gitlab:bob and bob@example.com are bob" -- chk
grep_out "2 of 3 required reviews on .* (bob, carol)" "two people"
sed -i 's/requiredReviews = 3/requiredReviews = 2/' "$TRASH/policy"
expect 0 "the allowed twin: two people for a two-person rule" -- chk
# An unmapped forge login is a denial naming the section to add it to.
sed -i 's/\tgitlab = carol//' "$TRASH/policy"
expect 3 "gitlab:carol maps to no person" -- chk
grep_out "The reviewer (gitlab) gitlab:carol maps to no person: add gitlab = carol to their \[person \"NAME\"\] section in the policy" "names the login and the key"
done_testing
