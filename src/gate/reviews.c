/* The reviews rule: a table of review sources, then one counting policy for
 * all of them (distinct emails, no self review, allow-list). */
#include "gate/internal.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Sources this build cannot consult stay in the table with no function, so
 * a policy naming them is denied (fail closed) rather than silently weaker. */
static const sg_review_source sources[] = {
	{ "trailers", sg_gate_source_trailers },
	{ "gerrit", sg_gate_source_gerrit },
	{ "approvals", sg_gate_source_approvals },
	{ "github", sg_gate_source_github },
	{ "gitlab", sg_gate_source_gitlab },
};

const sg_review_source *sg_review_source_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (strcasecmp(sources[i].name, name) == 0)
			return &sources[i];
	return NULL;
}

int sg_review_list_add(sg_review_list *l, const char *email, const char *source, const char *drop)
{
	sg_review *v = realloc(l->v, (l->n + 1) * sizeof(*v)), *r;

	if (!v)
		return sg_error_set(SG_ERROR, "out of memory");
	l->v = v;
	r = &v[l->n];
	memset(r, 0, sizeof(*r));
	r->source = source;
	if ((email && !(r->email = strdup(email))) || (drop && !(r->drop = strdup(drop)))) {
		free(r->email);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	l->n++;
	return SG_OK;
}

void sg_review_list_release(sg_review_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].email);
		free(l->v[i].drop);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void sg_review_tally_release(sg_review_tally *t)
{
	sg_strlist_release(&t->counted);
	sg_strlist_release(&t->sources);
	sg_strlist_release(&t->dropped);
	sg_strlist_release(&t->evidence);
}

static int is_self(const char *email, const char *who)
{
	return who && *who && strcasecmp(email, who) == 0;
}

/* Why a review does not count, or NULL when it does. */
static const char *drop_reason(const sg_review *r, const sg_policy *pol, const char *author,
			       const char *committer)
{
	if (r->drop)
		return r->drop;
	if (!pol->allow_self_review && is_self(r->email, author))
		return "the author's own review does not count";
	if (!pol->allow_self_review && is_self(r->email, committer))
		return "the committer's own review does not count";
	if (pol->reviewer.n && !sg_strlist_match(&pol->reviewer, r->email, 1))
		return "not allowed by gate.reviewer";
	return NULL;
}

int sg_gate_count_reviews(sg_review_tally *out, const sg_review_list *l, const sg_policy *pol,
			  const char *author_email, const char *committer_email)
{
	sg_review_tally t = SG_REVIEW_TALLY_INIT;
	sg_buf line = SG_BUF_INIT;
	size_t i;
	int ret = SG_ERROR;

	for (i = 0; i < l->n; i++) {
		const sg_review *r = &l->v[i];

		if (r->email && !drop_reason(r, pol, author_email, committer_email) &&
		    ((ret = sg_strlist_add_unique(&t.counted, r->email, 1)) < 0 ||
		     (ret = sg_strlist_add_unique(&t.sources, r->source, 1)) < 0))
			goto done;
	}
	for (i = 0; i < l->n; i++) {
		const sg_review *r = &l->v[i];
		const char *why = r->email ? drop_reason(r, pol, author_email, committer_email) : r->drop;

		if (!why || (r->email && sg_strlist_contains(&t.counted, r->email, 1)))
			continue;
		sg_buf_clear(&line);
		ret = r->email ? sg_buf_printf(&line, "%s (%s)", why, r->email) : sg_buf_puts(&line, why);
		if (ret < 0 || (ret = sg_strlist_add_unique(&t.dropped, line.ptr, 0)) < 0)
			goto done;
	}
	*out = t;
	memset(&t, 0, sizeof(t));
	ret = SG_OK;
done:
	sg_buf_dispose(&line);
	sg_review_tally_release(&t);
	return ret;
}

static int commit_people(char **author, char **committer, git_repository *repo, const git_oid *rev)
{
	git_commit *c = NULL;
	char hex[GIT_OID_HEXSZ + 1];

	if (git_commit_lookup(&c, repo, rev) < 0) {
		git_oid_tostr(hex, sizeof(hex), rev);
		return sg_error_set(SG_EDENIED, "cannot read commit %s: %s", hex, git_error_last()->message);
	}
	*author = strdup(git_commit_author(c)->email);
	*committer = strdup(git_commit_committer(c)->email);
	git_commit_free(c);
	if (!*author || !*committer)
		return sg_error_set(SG_ERROR, "out of memory");
	return SG_OK;
}

/* Collect from every configured source; unavailable or unknown ones are
 * recorded in `missing` and deny the rule. */
static int collect(sg_review_list *all, sg_strlist *missing, const sg_review_ctx *ctx)
{
	static const char *const dflt[] = { "trailers" };
	const sg_strlist *names = &ctx->pol->review_source;
	size_t i, n = names->n ? names->n : 1;
	int err;

	for (i = 0; i < n; i++) {
		const char *name = names->n ? names->v[i] : dflt[0];
		const sg_review_source *src = sg_review_source_find(name);
		sg_buf why = SG_BUF_INIT;

		if (!src || !src->collect) {
			err = sg_buf_printf(&why, src ? "review source %s is not available in this build"
						      : "unknown review source %s", name);
			if (err == 0)
				err = sg_strlist_add_unique(missing, why.ptr, 0);
			sg_buf_dispose(&why);
			if (err < 0)
				return err;
			continue;
		}
		if ((err = src->collect(all, ctx)) < 0)
			return err;
	}
	return SG_OK;
}

static int join(sg_buf *b, const sg_strlist *l, const char *sep)
{
	size_t i;
	int err = SG_OK;

	for (i = 0; i < l->n && err == SG_OK; i++)
		err = sg_buf_printf(b, "%s%s", i ? sep : "", l->v[i]);
	return err;
}

static int evidence(sg_buf *ev, const sg_review_tally *t, const sg_strlist *missing, int required,
		    const git_oid *rev, size_t candidates)
{
	char rs[8];
	int err;

	git_oid_tostr(rs, sizeof(rs), rev);
	if ((err = sg_buf_printf(ev, "%zu of %d required review%s on %s (", t->counted.n, required,
				 required == 1 ? "" : "s", rs)) < 0 ||
	    (err = t->counted.n ? join(ev, &t->counted, ", ") : sg_buf_puts(ev, "none")) < 0 ||
	    (err = sg_buf_puts(ev, ")")) < 0)
		return err;
	if (t->dropped.n && ((err = sg_buf_puts(ev, "; ")) < 0 || (err = join(ev, &t->dropped, "; ")) < 0))
		return err;
	if (missing->n && ((err = sg_buf_puts(ev, "; ")) < 0 || (err = join(ev, missing, "; ")) < 0))
		return err;
	if (!candidates && !missing->n)
		err = sg_buf_puts(ev, "; no review found");
	return err;
}

int sg_gate_reviews_rule(sg_rule *rule, sg_review_tally *tally, git_repository *repo,
			 const sg_policy *pol, const git_oid *rev, const git_oid *merge)
{
	sg_strlist lines = SG_STRLIST_INIT;
	int required = pol->required_reviews;
	sg_review_ctx ctx = { repo, pol, rev, merge, &lines, &required };
	sg_review_list all = { 0 };
	sg_review_tally t = SG_REVIEW_TALLY_INIT;
	sg_strlist missing = SG_STRLIST_INIT;
	sg_buf ev = SG_BUF_INIT;
	char *author = NULL, *committer = NULL;
	int ret;

	rule->name = "reviews";
	rule->ok = 0;
	if ((ret = commit_people(&author, &committer, repo, rev)) < 0 ||
	    (ret = collect(&all, &missing, &ctx)) < 0 ||
	    (ret = sg_gate_count_reviews(&t, &all, pol, author, committer)) < 0 ||
	    (ret = evidence(&ev, &t, &missing, required, rev, all.n)) < 0)
		goto done;
	rule->evidence = sg_buf_detach(&ev);
	rule->ok = missing.n == 0 && required >= 0 && t.counted.n >= (size_t)required;
	t.required = required;
	t.evidence = lines;
	memset(&lines, 0, sizeof(lines));
	*tally = t;
	memset(&t, 0, sizeof(t));
	ret = SG_OK;
done:
	free(author);
	free(committer);
	sg_buf_dispose(&ev);
	sg_strlist_release(&missing);
	sg_strlist_release(&lines);
	sg_review_list_release(&all);
	sg_review_tally_release(&t);
	return ret;
}
