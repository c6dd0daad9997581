/* Review source "gitlab": the merge request that brought REV into a
 * protected branch (GET /projects/:id/repository/commits/:sha/merge_requests)
 * and its approvals (GET /projects/:id/merge_requests/:iid/approvals).
 * GitLab's approvals carry no commit, so an approval is only known to be on
 * the merged head when the project resets approvals on push
 * (GET /projects/:id/approvals: reset_approvals_on_push); otherwise they are
 * stale unless gate.allowStaleReviews; settings that cannot be read are said
 * to be unread. An approval counts only when the merge request's approval
 * state (GET .../merge_requests/:iid/approval_state) shows it satisfies a
 * rule, and a rule GitLab reports unmet denies. The merge request's author never
 * counts unless gate.allowSelfReview. The required count is the larger of
 * gate.requiredReviews and the merge request's approvals_required.
 * Reviewers are named gitlab:USERNAME (lowercase). */
#include "gate/internal.h"
#include "core/error.h"
#include "core/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *nested_str(const json_t *o, const char *a, const char *b)
{
	return sg_forge_str(json_is_object(o) ? json_object_get(o, a) : NULL, b);
}

/* "GitLab merge request !N", for messages. */
static void mr_name(char *out, size_t n, const json_t *mr)
{
	snprintf(out, n, "GitLab merge request !%lld", (long long)json_integer_value(json_object_get(mr, "iid")));
}

static int rev_in_mr(const json_t *mr, const char *sha)
{
	static const char *const keys[] = { "sha", "merge_commit_sha", "squash_commit_sha" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = sg_forge_str(mr, keys[i]);

		if (v && strcasecmp(v, sha) == 0)
			return 1;
	}
	return 0;
}

int sg_gitlab_pick_mr(json_t **mr, const json_t *mrs, const sg_policy *pol, const char *sha, sg_review_list *out)
{
	const json_t *m, *first = NULL;
	size_t i;
	int err;

	if (!json_is_array(mrs))
		return sg_error_set(SG_EDENIED, "GitLab API: the merge request list is not a list");
	json_array_foreach(mrs, i, m) {
		const char *state = sg_forge_str(m, "state"), *target = sg_forge_str(m, "target_branch");
		json_int_t iid = json_integer_value(json_object_get(m, "iid"));

		if (!json_is_object(m) || iid <= 0)
			continue;
		if (!state || strcmp(state, "merged") != 0) {
			if ((err = sg_forge_drop(out, "gitlab", NULL, "merge request !%lld is %.40s, not merged",
						 (long long)iid, state ? state : "(no state)")) < 0)
				return err;
			continue;
		}
		if (!target || !sg_gate_branch_matches(&pol->protected_branch, target)) {
			if ((err = sg_forge_drop(out, "gitlab", NULL, "merge request !%lld was merged into %.100s, not a "
						 "protected branch", (long long)iid, target ? target : "(unknown)")) < 0)
				return err;
			continue;
		}
		if (rev_in_mr(m, sha)) {
			*mr = (json_t *)m;
			return SG_OK;
		}
		if (!first)
			first = m;
	}
	if (!first)
		return SG_ENOTFOUND;
	*mr = (json_t *)first; /* the caller says REV is not one of its commits */
	return SG_OK;
}

/* 1 when the array of user objects names the user id. */
static int lists_user(const json_t *users, json_int_t id)
{
	const json_t *u;
	size_t i;

	json_array_foreach(users, i, u)
		if (json_integer_value(json_object_get(u, "id")) == id)
			return 1;
	return 0;
}

/* An approval counts for the approval state when a rule lists the user
 * among its approvals and the user is eligible for it (an any_approver
 * rule has no list: anyone is). NULL state: not readable, none is. */
static int eligible(const json_t *state, json_int_t id)
{
	const json_t *rules = json_object_get(state, "rules"), *r;
	size_t i;

	json_array_foreach(rules, i, r) {
		const char *type = sg_forge_str(r, "rule_type");

		if (lists_user(json_object_get(r, "approved_by"), id) &&
		    ((type && !strcmp(type, "any_approver")) || lists_user(json_object_get(r, "eligible_approvers"), id)))
			return 1;
	}
	return 0;
}

int sg_gitlab_unmet_rules(sg_strlist *blockers, const json_t *state)
{
	const json_t *rules = json_object_get(state, "rules"), *r;
	char line[400];
	size_t i;
	int err;

	json_array_foreach(rules, i, r) {
		json_int_t need = json_integer_value(json_object_get(r, "approvals_required"));
		const json_t *by = json_object_get(r, "approved_by");

		if (need <= 0 || json_is_true(json_object_get(r, "approved")))
			continue;
		snprintf(line, sizeof(line), "GitLab approval rule \"%.100s\" is not satisfied (%zu of %lld approvals); "
			 "GitLab would not merge it", sg_forge_str(r, "name") ? sg_forge_str(r, "name") : "?",
			 json_is_array(by) ? json_array_size(by) : 0, (long long)need);
		if ((err = sg_strlist_add_unique(blockers, line, 0)) < 0)
			return err;
	}
	return SG_OK;
}

static int approval_verdict(sg_review_list *out, sg_strlist *approved, const char *who, json_int_t id,
			    const char *author, const sg_gitlab_state *st, const sg_policy *pol)
{
	char line[256];
	int err;

	if (!st->rules)
		return sg_forge_drop(out, "gitlab", who, "could not read the merge request's approval rules (%s), so "
				     "this approval is not known to satisfy them", st->rules_why);
	if (json_array_size(json_object_get(st->rules, "rules")) && !eligible(st->rules, id))
		return sg_forge_drop(out, "gitlab", who, "not an eligible approver under the merge request's approval "
				     "rules");
	if (st->reset_on_push < 0 && !pol->allow_stale_reviews)
		return sg_forge_drop(out, "gitlab", who, "could not read the project's approval settings (%s), so this "
				     "approval may predate the merged head (stale; gate.allowStaleReviews is false)",
				     st->settings_why);
	if (st->reset_on_push == 0 && !pol->allow_stale_reviews)
		return sg_forge_drop(out, "gitlab", who, "the project does not reset approvals on push, so this "
				     "approval may predate the merged head (stale; gate.allowStaleReviews is false)");
	if (!pol->allow_self_review && author[0] && strcmp(author, who) == 0)
		return sg_forge_drop(out, "gitlab", who, "the merge request's author does not count");
	snprintf(line, sizeof(line), "%s (user %lld)", who, (long long)id);
	if ((err = sg_review_list_add(out, who, "gitlab", NULL)) < 0)
		return err;
	return sg_strlist_add(approved, line);
}

int sg_gitlab_approvals(sg_review_list *out, sg_strlist *approved, const json_t *approvals, const json_t *mr,
			const sg_gitlab_state *st, const sg_policy *pol)
{
	const json_t *by = json_object_get(approvals, "approved_by"), *a;
	char author[160] = "", who[160], request[80];
	size_t i;
	int err;

	if (!json_is_array(by))
		return sg_error_set(SG_EDENIED, "GitLab API: the approvals answer has no approved_by list");
	mr_name(request, sizeof(request), mr);
	if ((err = sg_forge_author_id(author, sizeof(author), "gitlab:", nested_str(mr, "author", "username"), request,
				      pol)) < 0)
		return err;
	json_array_foreach(by, i, a) {
		const json_t *user = json_object_get(a, "user");
		json_int_t id = json_integer_value(json_object_get(user, "id"));

		if (sg_forge_identity(who, sizeof(who), "gitlab:", sg_forge_str(user, "username")) < 0) {
			if ((err = sg_forge_drop(out, "gitlab", NULL, "approval by user %lld names no username "
						 "(missing, empty or not a login), so it does not count",
						 (long long)id)) < 0)
				return err;
			continue;
		}
		if ((err = approval_verdict(out, approved, who, id, author, st, pol)) < 0)
			return err;
	}
	return SG_OK;
}

static int path_of(char **path, const char *fmt, const char *project, long long n, const char *sha)
{
	int r = sha ? asprintf(path, fmt, project, sha) : n ? asprintf(path, fmt, project, n)
							    : asprintf(path, fmt, project);

	if (r < 0) {
		*path = NULL;
		return sg_error_set(SG_ERROR, "out of memory");
	}
	return SG_OK;
}

int sg_gate_source_gitlab(sg_review_list *out, const sg_review_ctx *ctx)
{
	const sg_policy *pol = ctx->pol;
	sg_forge f;
	sg_strlist responses = SG_STRLIST_INIT, approved = SG_STRLIST_INIT;
	json_t *mrs = NULL, *appr = NULL, *proj = NULL, *mr = NULL, *state = NULL;
	sg_gitlab_state st = { 0, NULL, "", "" };
	char sha[GIT_OID_HEXSZ + 1], *project = NULL, *path = NULL, stale_note[400] = "", request[80];
	sg_buf b = SG_BUF_INIT;
	json_int_t iid, need;
	int ret, err;

	if (!pol->gitlab_api || !pol->gitlab_project)
		return sg_error_set(SG_ERROR, "reviewSource gitlab needs forge.gitlabApi (e.g. "
				    "https://gitlab.example/api/v4) and forge.gitlabProject = group/name in the policy");
	if ((ret = sg_forge_init(&f, "GitLab", pol->gitlab_api, "GITLAB_TOKEN", pol, &responses)) < 0)
		return ret;
	git_oid_tostr(sha, sizeof(sha), ctx->rev);
	if ((ret = sg_http_escape(&project, pol->gitlab_project)) < 0 ||
	    (ret = path_of(&path, "/projects/%s/repository/commits/%s/merge_requests?per_page=100", project, 0,
			   sha)) < 0 ||
	    (ret = sg_forge_get(&mrs, &f, path, SG_FORGE_PAGINATE)) < 0)
		goto done;
	ret = sg_gitlab_pick_mr(&mr, mrs, pol, sha, out);
	if (ret == SG_ENOTFOUND) {
		ret = sg_forge_drop(out, "gitlab", NULL, "no merge request merged into a protected branch contains "
				    "%.7s on GitLab %s", sha, pol->gitlab_project);
		goto evidence;
	}
	if (ret < 0)
		goto done;
	iid = json_integer_value(json_object_get(mr, "iid"));
	mr_name(request, sizeof(request), mr);
	if ((ret = sg_forge_author(ctx, "gitlab:", nested_str(mr, "author", "username"),
				   "the merge request's author", request)) < 0)
		goto done;
	if (!rev_in_mr(mr, sha)) {
		ret = sg_forge_drop(out, "gitlab", NULL, "%.7s is neither the head, merge nor squash commit of merge "
				    "request !%lld; sign the commit that was reviewed or merged", sha, (long long)iid);
		goto evidence;
	}
	free(path);
	if ((ret = path_of(&path, "/projects/%s/approvals", project, 0, NULL)) < 0)
		goto done;
	err = sg_forge_get(&proj, &f, path, SG_FORGE_OPTIONAL);
	if (err == SG_ENOTFOUND) {
		st.reset_on_push = -1;
		snprintf(st.settings_why, sizeof(st.settings_why), "%s", f.last_reason);
		snprintf(stale_note, sizeof(stale_note), "could not read the project's approval settings: %.255s",
			 f.last_reason);
	} else if (err < 0) {
		ret = err;
		goto done;
	} else {
		st.reset_on_push = json_is_true(json_object_get(proj, "reset_approvals_on_push"));
		snprintf(stale_note, sizeof(stale_note), "reset_approvals_on_push %s", st.reset_on_push ? "true" : "false");
	}
	free(path);
	if ((ret = path_of(&path, "/projects/%s/merge_requests/%lld/approval_state", project, (long long)iid,
			   NULL)) < 0)
		goto done;
	err = sg_forge_get(&state, &f, path, SG_FORGE_OPTIONAL);
	if (err == SG_ENOTFOUND) {
		snprintf(st.rules_why, sizeof(st.rules_why), "%s", f.last_reason);
	} else if (err < 0) {
		ret = err;
		goto done;
	} else if (!json_is_array(json_object_get(state, "rules"))) {
		snprintf(st.rules_why, sizeof(st.rules_why), "the approval_state answer has no rules list");
	} else {
		st.rules = state;
		if ((ret = sg_gitlab_unmet_rules(ctx->blockers, state)) < 0)
			goto done;
	}
	free(path);
	if ((ret = path_of(&path, "/projects/%s/merge_requests/%lld/approvals", project, (long long)iid, NULL)) < 0 ||
	    (ret = sg_forge_get(&appr, &f, path, 0)) < 0 ||
	    (ret = sg_gitlab_approvals(out, &approved, appr, mr, &st, pol)) < 0)
		goto done;
	need = json_integer_value(json_object_get(appr, "approvals_required"));
	if (need > 1000)
		need = 1000;
	if (need > *ctx->required)
		*ctx->required = (int)need;
	if ((ret = sg_forge_line(ctx->evidence, "Review-Request: gitlab %s (!%lld, head %s, merged into %s at %s)",
				 sg_forge_str(mr, "web_url") ? sg_forge_str(mr, "web_url") : "-", (long long)iid,
				 sg_forge_str(mr, "sha"), sg_forge_str(mr, "target_branch"),
				 sg_forge_str(mr, "merged_at") ? sg_forge_str(mr, "merged_at") : "-")) < 0 ||
	    (ret = sg_forge_join(&b, &approved)) < 0 ||
	    (ret = sg_forge_line(ctx->evidence, "Review-Approvers: gitlab %s (%s)", b.ptr, stale_note)) < 0 ||
	    (ret = sg_forge_line(ctx->evidence, "Review-Required: gitlab %d (gate.requiredReviews %d; merge "
				 "request requires %lld)", *ctx->required, pol->required_reviews, (long long)need)) < 0)
		goto done;
evidence:
	if (ret < 0)
		goto done;
	if ((ret = sg_forge_line(ctx->evidence, "Review-Fetched-At: gitlab %s", f.fetched_at)) < 0)
		goto done;
	for (size_t i = 0; i < responses.n; i++)
		if ((ret = sg_strlist_add(ctx->evidence, responses.v[i])) < 0)
			goto done;
	ret = SG_OK;
done:
	sg_buf_dispose(&b);
	json_decref(mrs);
	json_decref(appr);
	json_decref(proj);
	json_decref(state);
	free(project);
	free(path);
	sg_strlist_release(&responses);
	sg_strlist_release(&approved);
	sg_forge_release(&f);
	return ret;
}
