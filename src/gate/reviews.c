/* The reviews rule: a table of review sources, then one counting policy for
 * all of them (distinct emails, no self review, allow-list). */
#include "gate/internal.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <stdio.h>
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

int sg_review_add_id(sg_review_list *l, const char *id)
{
	return l->n ? sg_strlist_add_unique(&l->v[l->n - 1].ids, id, 1) : SG_OK;
}

void sg_review_list_release(sg_review_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].email);
		free(l->v[i].drop);
		sg_strlist_release(&l->v[i].ids);
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
	sg_strlist_release(&t->blockers);
	sg_gate_people_release(&t->people);
	sg_gate_people_release(&t->authors);
}

/* The role of an identity on the author side, or NULL. */
static const char *role_of(const sg_authors *a, const char *id)
{
	size_t i;

	for (i = 0; id && i < a->id.n; i++)
		if (strcasecmp(a->id.v[i], id) == 0)
			return a->role.v[i];
	return NULL;
}

/* The first author-side identity of a person, with its role. */
static const char *person_role(const sg_authors *a, const sg_policy *pol, const char *name, const char **id)
{
	size_t i;

	for (i = 0; i < a->id.n; i++) {
		const sg_person *p = sg_policy_person_find(pol, a->id.v[i]);

		if (p && strcmp(p->name, name) == 0) {
			*id = a->id.v[i];
			return a->role.v[i];
		}
	}
	return NULL;
}

/* The policy's key for an identity, for "add it to their [person]" advice. */
static const char *person_key(const char *id)
{
	static const char *const prefix[] = { "github:", "gitlab:", "gerrit:", "key:" };
	static const char *const key[] = { "github", "gitlab", "gerrit", "key" };
	size_t i;

	for (i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (strncasecmp(id, prefix[i], strlen(prefix[i])) == 0)
			return key[i];
	return "email";
}

static const char *bare(const char *id)
{
	const char *colon = strchr(id, ':');

	return colon && !strchr(id, '@') ? colon + 1 : id;
}

static int unmapped(sg_strlist *blockers, const char *what, const char *id)
{
	char line[700];

	snprintf(line, sizeof(line), "%s %.254s maps to no person: add %s = %.254s to their [person \"NAME\"] "
		 "section in the policy", what, id, person_key(id), bare(id));
	return sg_strlist_add_unique(blockers, line, 0);
}

/* With [person] sections: the author side as people; an identity that maps
 * to nobody is a blocker. */
static int author_people(sg_review_tally *t, const sg_authors *a, const sg_policy *pol)
{
	char what[160], shown[400];
	size_t i;
	int err = SG_OK;

	for (i = 0; i < a->id.n && err == SG_OK; i++) {
		const sg_person *p = sg_policy_person_find(pol, a->id.v[i]);

		snprintf(what, sizeof(what), "%s", a->role.v[i]);
		what[0] = (char)toupper((unsigned char)what[0]);
		snprintf(shown, sizeof(shown), "%.254s (%s)", a->id.v[i], a->role.v[i]);
		err = p ? sg_gate_people_add(&t->authors, p->name, shown) : unmapped(&t->blockers, what, a->id.v[i]);
	}
	return err;
}

/* The person a review's identities all map to; NULL with a blocker added
 * when one maps to nobody or they map to two people. */
static int review_person(const sg_person **out, sg_review_tally *t, const sg_review *r, const sg_policy *pol)
{
	const sg_person *p = sg_policy_person_find(pol, r->email), *q;
	char what[400], line[900];
	size_t i;

	*out = NULL;
	snprintf(what, sizeof(what), "The reviewer (%s)", r->source);
	if (!p)
		return unmapped(&t->blockers, what, r->email);
	for (i = 0; i < r->ids.n; i++) {
		if (!(q = sg_policy_person_find(pol, r->ids.v[i]))) {
			snprintf(what, sizeof(what), "The %s review by %.254s also shows", r->source, r->email);
			return unmapped(&t->blockers, what, r->ids.v[i]);
		}
		if (q != p) {
			snprintf(line, sizeof(line), "one %s review shows two people: %.254s is [person \"%s\"] and "
				 "%.254s is [person \"%s\"]; a key's user ids must all belong to one person", r->source,
				 r->email, p->name, r->ids.v[i], q->name);
			return sg_strlist_add_unique(&t->blockers, line, 0);
		}
	}
	*out = p;
	return SG_OK;
}

static int allow_listed(const sg_policy *pol, const char *id, const sg_person *p)
{
	size_t i;

	if (!pol->reviewer.n || sg_strlist_match(&pol->reviewer, id, 1))
		return 1;
	for (i = 0; p && i < p->email.n; i++)
		if (sg_strlist_match(&pol->reviewer, p->email.v[i], 1))
			return 1;
	return 0;
}

/* Judge one review: *who is the one it would count for; why[0] is set when
 * it does not count; *blocked when a blocker was added instead. */
static int judge(const char **who, char *why, size_t wl, int *blocked, sg_review_tally *t, const sg_review *r,
		 const sg_policy *pol, const sg_authors *a)
{
	const sg_person *p = NULL;
	const char *role, *aid = NULL;
	int err;

	why[0] = '\0';
	*blocked = 0;
	*who = r->email;
	if (r->drop) {
		snprintf(why, wl, "%s", r->drop);
		return SG_OK;
	}
	if (pol->npersons) {
		if ((err = review_person(&p, t, r, pol)) < 0)
			return err;
		if (!p) {
			*blocked = 1;
			return SG_OK;
		}
		*who = p->name;
		if (!pol->allow_self_review && (role = person_role(a, pol, p->name, &aid)) != NULL) {
			snprintf(why, wl, "%s's own review does not count (%s is [person \"%s\"], %s %s)", role, r->email,
				 p->name, role, aid);
			return SG_OK;
		}
	} else if (!pol->allow_self_review && (role = role_of(a, r->email)) != NULL) {
		snprintf(why, wl, "%s's own review does not count", role);
		return SG_OK;
	}
	if (!allow_listed(pol, r->email, p))
		snprintf(why, wl, "not allowed by gate.reviewer");
	return SG_OK;
}

int sg_gate_count_reviews(sg_review_tally *out, const sg_review_list *l, const sg_policy *pol,
			  const sg_authors *authors)
{
	sg_review_tally t = SG_REVIEW_TALLY_INIT;
	sg_strlist later_who = SG_STRLIST_INIT, later_why = SG_STRLIST_INIT;
	sg_buf line = SG_BUF_INIT;
	char why[1024];
	const char *who;
	size_t i;
	int ret = SG_ERROR, blocked;

	if (pol->npersons && (ret = author_people(&t, authors, pol)) < 0)
		goto done;
	for (i = 0; i < l->n; i++) {
		const sg_review *r = &l->v[i];

		sg_buf_clear(&line);
		if (!r->email) {
			if ((ret = sg_strlist_add(&later_who, "")) < 0 ||
			    (ret = sg_strlist_add(&later_why, r->drop ? r->drop : "a review names nobody")) < 0)
				goto done;
			continue;
		}
		if ((ret = judge(&who, why, sizeof(why), &blocked, &t, r, pol, authors)) < 0)
			goto done;
		if (blocked)
			continue;
		if (why[0]) {
			if ((ret = sg_buf_printf(&line, "%s (%s)", why, r->email)) < 0 ||
			    (ret = sg_strlist_add(&later_who, who)) < 0 || (ret = sg_strlist_add(&later_why, line.ptr)) < 0)
				goto done;
			continue;
		}
		if ((ret = sg_buf_printf(&line, "%s via %s", r->email, r->source)) < 0 ||
		    (ret = sg_strlist_add_unique(&t.counted, who, 1)) < 0 ||
		    (ret = sg_strlist_add_unique(&t.sources, r->source, 1)) < 0 ||
		    (ret = sg_gate_people_add(&t.people, who, line.ptr)) < 0)
			goto done;
	}
	/* a reason is shown only for someone who did not count some other way */
	for (i = 0; i < later_who.n; i++)
		if (!(later_who.v[i][0] && sg_strlist_contains(&t.counted, later_who.v[i], 1)) &&
		    (ret = sg_strlist_add_unique(&t.dropped, later_why.v[i], 0)) < 0)
			goto done;
	*out = t;
	memset(&t, 0, sizeof(t));
	ret = SG_OK;
done:
	sg_buf_dispose(&line);
	sg_strlist_release(&later_who);
	sg_strlist_release(&later_why);
	sg_review_tally_release(&t);
	return ret;
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
	/* what denies whatever the count comes first: it is the message */
	if (t->blockers.n && ((err = join(ev, &t->blockers, "; ")) < 0 || (err = sg_buf_puts(ev, "; ")) < 0))
		return err;
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

int sg_gate_reviews_rule(sg_rule *rule, sg_review_tally *tally, git_repository *repo, const sg_cgraph *g,
			 const sg_policy *pol, const git_oid *rev, const git_oid *merge)
{
	sg_strlist lines = SG_STRLIST_INIT, blockers = SG_STRLIST_INIT;
	int required = pol->required_reviews;
	sg_authors authors = SG_AUTHORS_INIT;
	sg_review_ctx ctx = { repo, pol, rev, merge, &lines, &required, &authors, &blockers };
	sg_review_list all = { 0 };
	sg_review_tally t = SG_REVIEW_TALLY_INIT;
	sg_strlist missing = SG_STRLIST_INIT;
	sg_buf ev = SG_BUF_INIT;
	size_t i;
	int ret;

	rule->name = "reviews";
	rule->ok = 0;
	if ((ret = sg_authors_collect(&authors, repo, g, rev)) < 0 ||
	    (ret = collect(&all, &missing, &ctx)) < 0 ||
	    (ret = sg_gate_count_reviews(&t, &all, pol, &authors)) < 0)
		goto done;
	for (i = 0; i < blockers.n; i++)
		if ((ret = sg_strlist_add_unique(&t.blockers, blockers.v[i], 0)) < 0)
			goto done;
	if ((ret = evidence(&ev, &t, &missing, required, rev, all.n)) < 0)
		goto done;
	rule->evidence = sg_buf_detach(&ev);
	rule->ok = missing.n == 0 && t.blockers.n == 0 && required >= 0 && t.counted.n >= (size_t)required;
	t.required = required;
	t.evidence = lines;
	memset(&lines, 0, sizeof(lines));
	*tally = t;
	memset(&t, 0, sizeof(t));
	ret = SG_OK;
done:
	sg_authors_release(&authors);
	sg_buf_dispose(&ev);
	sg_strlist_release(&missing);
	sg_strlist_release(&lines);
	sg_strlist_release(&blockers);
	sg_review_list_release(&all);
	sg_review_tally_release(&t);
	return ret;
}
