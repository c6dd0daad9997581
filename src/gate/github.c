/* Review source "github": the pull request that brought REV into a
 * protected branch (GET /repos/{owner}/{repo}/commits/{sha}/pulls), its
 * reviews (GET /repos/{owner}/{repo}/pulls/{n}/reviews) and, when the token
 * may read it, the branch protection's required_approving_review_count.
 * A reviewer counts when their latest decisive review is APPROVED on the
 * pull request's head (unless gate.allowStaleReviews) and they are not the
 * pull request's author (unless gate.allowSelfReview). Reviewers are named
 * github:LOGIN (lowercase). */
#include "gate/internal.h"
#include "core/error.h"
#include "core/http.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GH_DEFAULT_API "https://api.github.com"
#define GH_WHY 512

static const char *nested_str(const json_t *o, const char *a, const char *b)
{
	return sg_forge_str(json_is_object(o) ? json_object_get(o, a) : NULL, b);
}

/* base.repo.full_name: the repository the pull request was opened in. */
static const char *base_repo(const json_t *pr)
{
	const json_t *base = json_is_object(pr) ? json_object_get(pr, "base") : NULL;

	return nested_str(base, "repo", "full_name");
}

/* The REV must be the pull request's head or its merge commit. */
static int rev_in_pull(const json_t *pr, const char *sha)
{
	const char *head = nested_str(pr, "head", "sha"), *merge = sg_forge_str(pr, "merge_commit_sha");

	return (head && strcasecmp(head, sha) == 0) || (merge && strcasecmp(merge, sha) == 0);
}

int sg_github_pick_pull(json_t **pr, const json_t *pulls, const sg_policy *pol, const char *sha,
			sg_review_list *out)
{
	const json_t *p, *first = NULL;
	size_t i;
	int err;

	if (!json_is_array(pulls))
		return sg_error_set(SG_EDENIED, "GitHub API: the pull request list is not a list");
	json_array_foreach(pulls, i, p) {
		const char *merged = sg_forge_str(p, "merged_at"), *base = nested_str(p, "base", "ref");
		const char *repo = base_repo(p);
		json_int_t num = json_integer_value(json_object_get(p, "number"));

		if (!json_is_object(p) || num <= 0)
			continue;
		/* a fork's commit also answers with the upstream's pull request:
		 * its number means another pull request here */
		if (!repo || !pol->github_repository || strcasecmp(repo, pol->github_repository) != 0) {
			if ((err = sg_forge_drop(out, "github", NULL, "pull request #%lld belongs to %.200s, not %.200s",
						 (long long)num, repo ? repo : "(no base repository)",
						 pol->github_repository ? pol->github_repository : "(none)")) < 0)
				return err;
			continue;
		}
		if (!merged) {
			if ((err = sg_forge_drop(out, "github", NULL, "pull request #%lld is not merged", (long long)num)) < 0)
				return err;
			continue;
		}
		if (!base || !sg_gate_branch_matches(&pol->protected_branch, base)) {
			if ((err = sg_forge_drop(out, "github", NULL, "pull request #%lld was merged into %.100s, not a protected branch",
					(long long)num, base ? base : "(unknown)")) < 0)
				return err;
			continue;
		}
		if (rev_in_pull(p, sha)) {
			*pr = (json_t *)p;
			return SG_OK;
		}
		if (!first)
			first = p;
	}
	if (!first)
		return SG_ENOTFOUND;
	*pr = (json_t *)first; /* the caller says REV is neither its head nor its merge */
	return SG_OK;
}

/* "GitHub pull request #N", for messages. */
static void pull_name(char *out, size_t n, const json_t *pr)
{
	snprintf(out, n, "GitHub pull request #%lld", (long long)json_integer_value(json_object_get(pr, "number")));
}

/* Decisive review states; COMMENTED and PENDING do not change a verdict. */
static int decisive(const char *state)
{
	return state && (!strcmp(state, "APPROVED") || !strcmp(state, "CHANGES_REQUESTED") ||
			 !strcmp(state, "DISMISSED"));
}

struct latest {
	char who[160];
	const json_t *r;
};

/* GitHub blocks a merge on "changes requested" only from reviewers with
 * write access; author_association says who cannot have it. Unknown or
 * absent: assume it blocks (fail closed). */
static int may_block(const json_t *review)
{
	static const char *const outsiders[] = { "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE",
						 "MANNEQUIN" };
	const char *a = sg_forge_str(review, "author_association");
	size_t i;

	for (i = 0; a && i < sizeof(outsiders) / sizeof(outsiders[0]); i++)
		if (!strcmp(a, outsiders[i]))
			return 0;
	return 1;
}

/* One reviewer's latest decisive review: counted, dropped or, for an
 * outstanding "changes requested", a blocker (gate.changesRequested). */
static int judge_latest(sg_review_list *out, sg_strlist *approved, sg_strlist *blockers, const struct latest *l,
			const char *head, const char *author, const json_t *pr, const sg_policy *pol)
{
	const char *state = sg_forge_str(l->r, "state"), *commit = sg_forge_str(l->r, "commit_id");
	json_int_t id = json_integer_value(json_object_get(l->r, "id"));
	char line[GH_WHY];

	if (!strcmp(state, "CHANGES_REQUESTED") && sg_policy_changes_requested_blocks(pol) && blockers &&
	    may_block(l->r)) {
		snprintf(line, sizeof(line), "%s's latest review %lld on pull request #%lld requests changes; GitHub "
			 "would not merge it (gate.changesRequested = block)", l->who, (long long)id,
			 (long long)json_integer_value(json_object_get(pr, "number")));
		return sg_strlist_add_unique(blockers, line, 0);
	}
	if (strcmp(state, "APPROVED") != 0)
		return sg_forge_drop(out, "github", l->who, "latest review %lld is %s, not APPROVED", (long long)id, state);
	if (!commit && !pol->allow_stale_reviews)
		return sg_forge_drop(out, "github", l->who, "approval %lld names no commit (commit_id is null: GitHub "
				     "no longer has the reviewed commit), so it cannot be shown to be on the head %.7s "
				     "(stale; gate.allowStaleReviews is false)", (long long)id, head);
	if (commit && strcasecmp(commit, head) != 0 && !pol->allow_stale_reviews)
		return sg_forge_drop(out, "github", l->who, "approval %lld is on %.7s, not the pull request's head %.7s "
				     "(stale; gate.allowStaleReviews is false)", (long long)id, commit, head);
	if (!pol->allow_self_review && author[0] && strcmp(author, l->who) == 0)
		return sg_forge_drop(out, "github", l->who, "the pull request's author does not count");
	if (commit)
		snprintf(line, sizeof(line), "%s (review %lld on %.12s)", l->who, (long long)id, commit);
	else
		snprintf(line, sizeof(line), "%s (review %lld on an unknown commit)", l->who, (long long)id);
	if (sg_review_list_add(out, l->who, "github", NULL) < 0)
		return SG_ERROR;
	return sg_strlist_add(approved, line);
}

int sg_github_reviews(sg_review_list *out, sg_strlist *approved, sg_strlist *blockers, const json_t *reviews,
		      const json_t *pr, const sg_policy *pol)
{
	const char *head = nested_str(pr, "head", "sha");
	char author[160] = "", request[80];
	struct latest *l = NULL;
	size_t i, j, n = 0;
	const json_t *r;
	int ret = SG_ERROR;

	if (!head)
		return sg_error_set(SG_EDENIED, "GitHub API: the pull request has no head sha");
	pull_name(request, sizeof(request), pr);
	if ((ret = sg_forge_author_id(author, sizeof(author), "github:", nested_str(pr, "user", "login"), request,
				      pol)) < 0)
		return ret;
	if (!json_is_array(reviews))
		return sg_error_set(SG_EDENIED, "GitHub API: the review list is not a list");
	if (!(l = calloc(json_array_size(reviews) + 1, sizeof(*l))))
		return sg_error_set(SG_ERROR, "out of memory");
	json_array_foreach(reviews, i, r) {
		char who[160];
		const char *at = sg_forge_str(r, "submitted_at");

		if (!decisive(sg_forge_str(r, "state")))
			continue;
		if (sg_forge_identity(who, sizeof(who), "github:", nested_str(r, "user", "login")) < 0) {
			if ((ret = sg_forge_drop(out, "github", NULL, "review %lld names no reviewer login (missing, "
						 "empty or not a login), so it does not count",
						 (long long)json_integer_value(json_object_get(r, "id")))) < 0)
				goto done;
			continue;
		}
		for (j = 0; j < n && strcmp(l[j].who, who) != 0; j++)
			;
		if (j == n) {
			snprintf(l[n].who, sizeof(l[n].who), "%s", who);
			l[n++].r = r;
			continue;
		}
		{
			const char *prev = sg_forge_str(l[j].r, "submitted_at");
			/* the list is chronological; an explicitly older timestamp does not replace */
			if (!(at && prev && strcmp(at, prev) < 0))
				l[j].r = r;
		}
	}
	for (j = 0; j < n; j++)
		if ((ret = judge_latest(out, approved, blockers, &l[j], head, author, pr, pol)) < 0)
			goto done;
	ret = SG_OK;
done:
	free(l);
	return ret;
}

int sg_gate_source_github(sg_review_list *out, const sg_review_ctx *ctx)
{
	const sg_policy *pol = ctx->pol;
	sg_forge f;
	sg_strlist responses = SG_STRLIST_INIT, approved = SG_STRLIST_INIT;
	json_t *pulls = NULL, *reviews = NULL, *prot = NULL, *pr = NULL;
	char sha[GIT_OID_HEXSZ + 1], *owner = NULL, *name = NULL, *base = NULL, *path = NULL, *slash;
	char protected_note[300] = "", request[80];
	sg_buf b = SG_BUF_INIT;
	json_int_t num, need = -1;
	int ret, err;

	if (!pol->github_repository)
		return sg_error_set(SG_ERROR, "reviewSource github needs forge.githubRepository = owner/name "
				    "in the policy");
	if ((ret = sg_forge_init(&f, "GitHub", pol->github_api ? pol->github_api : GH_DEFAULT_API,
				 "GITHUB_TOKEN", pol, &responses)) < 0)
		return ret;
	git_oid_tostr(sha, sizeof(sha), ctx->rev);
	slash = strchr(pol->github_repository, '/');
	if (!slash || !(owner = strndup(pol->github_repository, (size_t)(slash - pol->github_repository)))) {
		ret = sg_error_set(SG_EDENIED, "forge.githubRepository must be owner/name");
		goto done;
	}
	if ((ret = sg_http_escape(&name, slash + 1)) < 0 || (ret = sg_http_escape(&slash, owner)) < 0)
		goto done;
	free(owner);
	owner = slash;
	if (asprintf(&path, "/repos/%s/%s/commits/%s/pulls?per_page=100", owner, name, sha) < 0) {
		path = NULL;
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if ((ret = sg_forge_get(&pulls, &f, path, SG_FORGE_PAGINATE)) < 0)
		goto done;
	ret = sg_github_pick_pull(&pr, pulls, pol, sha, out);
	if (ret == SG_ENOTFOUND) {
		ret = sg_forge_drop(out, "github", NULL, "no pull request merged into a protected branch contains %.7s on GitHub "
			   "%s", sha, pol->github_repository);
		goto evidence;
	}
	if (ret < 0)
		goto done;
	num = json_integer_value(json_object_get(pr, "number"));
	pull_name(request, sizeof(request), pr);
	if ((ret = sg_forge_author(ctx, "github:", nested_str(pr, "user", "login"), "the pull request's author",
				   request)) < 0)
		goto done;
	if (!rev_in_pull(pr, sha)) {
		ret = sg_forge_drop(out, "github", NULL, "%.7s is neither the head nor the merge commit of pull request #%lld; sign "
			   "the commit that was reviewed or merged", sha, (long long)num);
		goto evidence;
	}
	free(path);
	if (asprintf(&path, "/repos/%s/%s/pulls/%lld/reviews?per_page=100", owner, name, (long long)num) < 0) {
		path = NULL;
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if ((ret = sg_forge_get(&reviews, &f, path, SG_FORGE_PAGINATE)) < 0 ||
	    (ret = sg_github_reviews(out, &approved, ctx->blockers, reviews, pr, pol)) < 0 ||
	    (ret = sg_http_escape(&base, nested_str(pr, "base", "ref"))) < 0)
		goto done;
	free(path);
	if (asprintf(&path, "/repos/%s/%s/branches/%s/protection/required_pull_request_reviews", owner, name,
		     base) < 0) {
		path = NULL;
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	err = sg_forge_get(&prot, &f, path, SG_FORGE_OPTIONAL);
	if (err == SG_ENOTFOUND) {
		snprintf(protected_note, sizeof(protected_note), "branch protection not readable: %s", f.last_reason);
	} else if (err < 0) {
		ret = err;
		goto done;
	} else {
		need = json_integer_value(json_object_get(prot, "required_approving_review_count"));
		if (need > 1000)
			need = 1000;
		snprintf(protected_note, sizeof(protected_note), "branch protection requires %lld", (long long)need);
		if (need > *ctx->required)
			*ctx->required = (int)need;
	}
	if ((ret = sg_forge_line(ctx->evidence, "Review-Request: github %s (#%lld, head %s, merged into %s at %s)",
			    sg_forge_str(pr, "html_url") ? sg_forge_str(pr, "html_url") : "-", (long long)num,
			    nested_str(pr, "head", "sha"), nested_str(pr, "base", "ref"),
			    sg_forge_str(pr, "merged_at"))) < 0 ||
	    (ret = sg_forge_join(&b, &approved)) < 0 ||
	    (ret = sg_forge_line(ctx->evidence, "Review-Approvers: github %s", b.ptr)) < 0 ||
	    (ret = sg_forge_line(ctx->evidence, "Review-Required: github %d (gate.requiredReviews %d; %s)",
			    *ctx->required, pol->required_reviews, protected_note)) < 0)
		goto done;
evidence:
	if (ret < 0)
		goto done;
	if ((ret = sg_forge_line(ctx->evidence, "Review-Fetched-At: github %s", f.fetched_at)) < 0)
		goto done;
	for (size_t i = 0; i < responses.n; i++)
		if ((ret = sg_strlist_add(ctx->evidence, responses.v[i])) < 0)
			goto done;
	ret = SG_OK;
done:
	sg_buf_dispose(&b);
	json_decref(pulls);
	json_decref(reviews);
	json_decref(prot);
	free(owner);
	free(name);
	free(base);
	free(path);
	sg_strlist_release(&responses);
	sg_strlist_release(&approved);
	sg_forge_release(&f);
	return ret;
}
