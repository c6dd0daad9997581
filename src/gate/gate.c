/* sg_gate_evaluate: resolve REV, then judge the protected-branch, reviews
 * and signer rules. Fail closed: allowed only when every required rule said
 * so; anything that cannot be established is a denied rule with its reason. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/git.h"

#include <stdlib.h>
#include <string.h>

#define SG_REV_MAX 1024

/* A revision that names no commit: nothing to judge, an error (exit 1). */
static int peel_error(const char *rev, git_object *obj)
{
	git_object *target = NULL;
	const char *type = "object";

	if (git_object_peel(&target, obj, GIT_OBJECT_ANY) == 0) {
		type = git_object_type2string(git_object_type(target));
		git_object_free(target);
	} else {
		type = git_object_type2string(git_object_type(obj));
	}
	return sg_error_set(SG_ERROR, "%s names a %s, not a commit; give a commit, or a branch or tag that "
			    "points to one", rev, type);
}

int sg_gate_resolve_commit(git_oid *out, git_repository *repo, const char *rev)
{
	git_object *obj = NULL, *commit = NULL;
	int ret = SG_ERROR, err;

	/* A revision that cannot be resolved is work that cannot be done, not a
	 * decision: exit 1 (DESIGN.md "Exit status"); nothing is allowed. */
	if (!rev || !*rev)
		return sg_error_set(SG_ERROR, "no revision given; name a commit, branch or tag");
	if (strlen(rev) > SG_REV_MAX)
		return sg_error_set(SG_ERROR, "revision longer than %d characters; name a commit, branch or tag",
				    SG_REV_MAX);
	if (strcmp(rev, "HEAD") == 0 && git_repository_head_unborn(repo) == 1)
		return sg_error_set(SG_ERROR, "HEAD is unborn: the current branch has no commit yet; commit, or "
				    "name a commit to check");
	err = git_revparse_single(&obj, repo, rev);
	if (err == GIT_ENOTFOUND)
		return sg_error_set(SG_ERROR, "unknown revision %s: no such commit, branch or tag here; fetch it "
				    "or name one that exists (git rev-parse --verify REV)", rev);
	if (err == GIT_EAMBIGUOUS)
		return sg_error_set(SG_ERROR, "ambiguous revision %s; give more hex digits or a full ref", rev);
	if (err < 0)
		return sg_error_set(SG_ERROR, "cannot resolve revision %s: %s; name a commit, branch or tag", rev,
				    sg_git_errmsg());
	if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		ret = peel_error(rev, obj);
		goto done;
	}
	git_oid_cpy(out, git_object_id(commit));
	ret = SG_OK;
done:
	git_object_free(commit);
	git_object_free(obj);
	return ret;
}

int sg_gate_commit_lookup(git_commit **out, git_repository *repo, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];

	if (git_commit_lookup(out, repo, id) == 0)
		return SG_OK;
	git_oid_tostr(hex, sizeof(hex), id);
	return sg_error_set(SG_EDENIED, "cannot read commit %s: %s", hex,
			    sg_git_errmsg());
}

static sg_rule *add_rule(sg_gate_result *r, const char *name)
{
	sg_rule *rule = &r->rules[r->nrules++];

	rule->name = name;
	rule->ok = 0;
	rule->evidence = NULL;
	return rule;
}

/* A rule whose facts cannot be established is denied with the reason. */
static int rule_denied_by(sg_rule *rule, int err)
{
	const char *msg = sg_error_last();

	if (err != SG_EDENIED)
		return err;
	rule->ok = 0;
	free(rule->evidence);
	rule->evidence = strdup(msg ? msg : "cannot be established");
	return rule->evidence ? SG_OK : sg_error_set(SG_ERROR, "out of memory");
}

/* Test profiles report the branch and reviews rules without requiring them. */
static int skipped(const sg_gate_result *r, size_t i, const sg_gate_opts *opts)
{
	const char *n = r->rules[i].name;

	return (opts->skip_branch && strcmp(n, "protected-branch") == 0) ||
	       (opts->skip_reviews && strcmp(n, "reviews") == 0);
}

static int join_shown(sg_buf *b, const sg_strlist *l)
{
	size_t i;
	int err = SG_OK;

	for (i = 0; err == SG_OK && i < l->n; i++)
		err = sg_buf_printf(b, "%s%s", i ? ", " : "", l->v[i]);
	return err;
}

static int summarize(sg_gate_result *r, const sg_branch_verdict *bv, const sg_gate_opts *opts)
{
	sg_buf b = SG_BUF_INIT;
	size_t i;
	int err;

	if (!r->allowed) {
		for (i = 0; i < r->nrules && (r->rules[i].ok || skipped(r, i, opts)); i++)
			;
		if (i == r->nrules)
			i = 0;
		if (!(r->denial = strdup(r->nrules && r->rules[i].evidence ? r->rules[i].evidence : "denied")))
			return sg_error_set(SG_ERROR, "out of memory");
		err = sg_buf_printf(&b, "denied: %s", r->denial);
		goto out;
	}
	err = sg_buf_puts(&b, "allowed; ");
	if (err == 0 && bv->ok)
		err = sg_buf_printf(&b, "%s %s", bv->ref, bv->first_parent ? "first-parent" : "reachable");
	else if (err == 0)
		err = sg_buf_puts(&b, "not on a protected branch (test profile)");
	if (err == 0)
		err = sg_buf_printf(&b, "; %zu/%d reviews", r->reviewers.n, r->required_reviews);
	for (i = 0; err == 0 && i < r->review_sources_used.n; i++)
		err = sg_buf_printf(&b, "%s%s", i ? ", " : " via ", r->review_sources_used.v[i]);
	/* with [person] sections each person is named with the identities that showed them */
	for (i = 0; err == 0 && !r->persons && i < r->reviewers.n; i++)
		err = sg_buf_printf(&b, "%s%s", i ? ", " : ": ", r->reviewers.v[i]);
	for (i = 0; err == 0 && r->persons && i < r->people.n; i++)
		if ((err = sg_buf_printf(&b, "%s%s [", i ? ", " : ": ", r->people.v[i].name)) == 0 &&
		    (err = join_shown(&b, &r->people.v[i].shown_by)) == 0)
			err = sg_buf_puts(&b, "]");
	if (err == 0 && opts->skip_reviews && r->nrules > 1 && !r->rules[1].ok)
		err = sg_buf_puts(&b, " (not required: test profile)");
out:
	if (err < 0) {
		sg_buf_dispose(&b);
		return err;
	}
	r->summary = sg_buf_detach(&b);
	return SG_OK;
}

/* The commit-graph, mapped once for every walk of this evaluation; NULL
 * when there is none that can be used (the walks read objects). A graph
 * whose checksum fails is not used, and *warning says so. */
static int open_graph(sg_cgraph **out, char **warning, git_repository *repo)
{
	int err = sg_cgraph_open(out, repo);

	if (err == SG_EVERIFY && !(*warning = strdup(sg_error_last())))
		return sg_error_set(SG_ERROR, "out of memory");
	if (err == SG_ENOTFOUND || err == SG_EVERIFY) {
		*out = NULL;
		sg_error_clear();
		return SG_OK;
	}
	return err;
}

int sg_gate_evaluate(sg_gate_result *out, git_repository *repo, const sg_policy *pol,
		     const char *rev, const sg_gate_opts *opts)
{
	static const sg_gate_opts none = { 0, 0 };
	sg_branch_verdict bv = { 0 };
	sg_cgraph *graph = NULL;
	sg_review_tally tally = SG_REVIEW_TALLY_INIT;
	sg_rule *rule;
	int ret = SG_EDENIED, err, allowed;

	if (!opts)
		opts = &none;
	memset(out, 0, sizeof(*out));
	out->required_reviews = pol->required_reviews;
	if (!(out->rev = strdup(rev ? rev : "HEAD")))
		return sg_error_set(SG_ERROR, "out of memory");
	err = sg_gate_resolve_commit(&out->commit_id, repo, out->rev);
	if (err < 0) {
		rule = add_rule(out, "revision");
		if ((ret = rule_denied_by(rule, err)) < 0 || (ret = summarize(out, &bv, opts)) < 0)
			goto done;
		ret = sg_error_set(SG_EDENIED, "%s", out->denial);
		goto done;
	}
	git_oid_tostr(out->commit, sizeof(out->commit), &out->commit_id);
	if ((ret = open_graph(&graph, &out->warning, repo)) < 0)
		goto done;

	rule = add_rule(out, "protected-branch");
	err = sg_gate_branch_rule(&bv, repo, graph, pol, &out->commit_id);
	if (err == SG_OK) {
		rule->ok = bv.ok;
		rule->evidence = bv.evidence;
		bv.evidence = NULL;
		if (bv.ok && !(out->branch_ref = strdup(bv.ref))) {
			ret = sg_error_set(SG_ERROR, "out of memory");
			goto done;
		}
	} else if ((ret = rule_denied_by(rule, err)) < 0) {
		goto done;
	}

	rule = add_rule(out, "reviews");
	err = sg_gate_reviews_rule(rule, &tally, repo, graph, pol, &out->commit_id,
				   bv.ok && bv.has_merge ? &bv.merge : NULL);
	if (err < 0 && (ret = rule_denied_by(rule, err)) < 0)
		goto done;
	out->reviewers = tally.counted;
	out->persons = pol->npersons > 0;
	out->people = tally.people;
	out->authors = tally.authors;
	memset(&tally.people, 0, sizeof(tally.people));
	memset(&tally.authors, 0, sizeof(tally.authors));
	out->review_sources_used = tally.sources;
	out->evidence_lines = tally.evidence;
	if (err == SG_OK && tally.required > out->required_reviews)
		out->required_reviews = tally.required;
	memset(&tally.counted, 0, sizeof(tally.counted));
	memset(&tally.sources, 0, sizeof(tally.sources));
	memset(&tally.evidence, 0, sizeof(tally.evidence));

	rule = add_rule(out, "signer");
	if ((err = sg_gate_signer_rule(rule, &out->signer, repo, pol)) < 0 &&
	    (ret = rule_denied_by(rule, err)) < 0)
		goto done;

	allowed = 1;
	for (size_t i = 0; i < out->nrules; i++)
		allowed &= out->rules[i].ok || skipped(out, i, opts);
	out->allowed = allowed;
	if ((ret = summarize(out, &bv, opts)) < 0)
		goto done;
	ret = allowed ? SG_OK : sg_error_set(SG_EDENIED, "%s", out->denial);
done:
	sg_cgraph_free(graph);
	sg_branch_verdict_release(&bv);
	sg_review_tally_release(&tally);
	return ret;
}

void sg_gate_result_release(sg_gate_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nrules; i++)
		free(r->rules[i].evidence);
	free(r->rev);
	free(r->branch_ref);
	sg_strlist_release(&r->reviewers);
	sg_gate_people_release(&r->people);
	sg_gate_people_release(&r->authors);
	sg_strlist_release(&r->review_sources_used);
	sg_strlist_release(&r->evidence_lines);
	free(r->signer);
	free(r->summary);
	free(r->denial);
	free(r->warning);
	memset(r, 0, sizeof(*r));
}
