#!/bin/sh
# A forge answer whose pull/merge request names no author (null, absent, a
# number, an empty string) must not skip the self-review exclusion: it
# denies, naming the request, unless gate.allowSelfReview. A review or
# approval that names no reviewer login never counts.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_TOP/tests/lib/gate-lib.sh"
. "$SG_TOP/tests/lib/forge.sh"

gate_repo r protectedBranch=main requiredReviews=2
reviewed_commit r "the change"

# policy FORGE [KEY=VALUE...]: reviewSource = FORGE against the running server
policy() {
	_s=$1; shift
	{
		printf '[gate]\n\tprotectedBranch = main\n\trequiredReviews = 2\n\treviewSource = %s\n' "$_s"
		for _kv in "$@"; do printf '\t%s = %s\n' "${_kv%%=*}" "${_kv#*=}"; done
		if [ "$_s" = github ]; then
			printf '[forge]\n\tgithubApi = %s\n\tgithubRepository = octo/hello\n' "$SG_FORGE_URL"
		else
			printf '[forge]\n\tgitlabApi = %s/api/v4\n\tgitlabProject = group/hello\n' "$SG_FORGE_URL"
		fi
		printf '\ttimeout = 5\n'
	} >"$TRASH/policy"
}
serve() { sg_forge_stop; sg_forge_start "$@" || exit 1; }
chk() { "$SIGNGATE" -C "$TRASH/r" --policy "$TRASH/policy" check "$@"; }

for forge in github gitlab; do
	if [ $forge = github ]; then key=login req="GitHub pull request #7"; else key=username req="GitLab merge request !7"; fi
	# alice opened the request and approved it herself; bob approved too
	serve self
	policy $forge
	expect 3 "$forge: the author's own approval does not count" -- chk
	grep_out "author does not count ($forge:alice)" "  ...named by login"
	for form in null absent "{}" "{\"$key\": 42}" "{\"$key\": \"\"}" "{\"$key\": \"al ice\"}"; do
		serve self --author-json "$form"
		policy $forge
		expect 3 "$forge: request author $form: denied, not counted as a stranger's review" -- chk
		grep_out "$req names no author login (missing, empty or not a login), so the author's own review cannot be told from the others" "  ...names the request and the missing author"
		no_grep_out "2 of 2 required" "  ...alice's approval is not counted"
	done
	policy $forge allowSelfReview=true
	expect 0 "$forge: the allowed twin: with allowSelfReview the author need not be known" -- chk
	grep_out "2 of 2 required reviews" "  ...both approvals count"

	for form in null absent "{}" "{\"$key\": 42}" "{\"$key\": \"\"}"; do
		serve approved --reviewer-json "$form"
		policy $forge
		expect 3 "$forge: an approval with reviewer $form does not count" -- chk
		grep_out "1 of 2 required reviews" "  ...only bob counts"
		grep_out "names no .* (missing, empty or not a login), so it does not count" "  ...says why"
		policy $forge allowSelfReview=true
		expect 3 "$forge: ...not even with allowSelfReview" -- chk
	done
	serve approved
	policy $forge
	expect 0 "$forge: the allowed twin: bob and carol, both named" -- chk
	grep_out "2 of 2 required reviews .*($forge:bob, $forge:carol)" "  ...both counted"
done
done_testing
