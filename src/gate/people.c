/* People (DESIGN.md section 3): the author side of REV -- every author and
 * committer of what REV brings in -- and the list of people the gate met,
 * each with the identities that showed them. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sg_gate_people_release(sg_gate_people *p)
{
	size_t i;

	for (i = 0; p && i < p->n; i++) {
		free(p->v[i].name);
		sg_strlist_release(&p->v[i].shown_by);
	}
	if (p) {
		free(p->v);
		p->v = NULL;
		p->n = 0;
	}
}

int sg_gate_people_add(sg_gate_people *p, const char *name, const char *shown)
{
	sg_gate_person *v;
	size_t i;

	for (i = 0; i < p->n && strcmp(p->v[i].name, name) != 0; i++)
		;
	if (i == p->n) {
		if (!(v = realloc(p->v, (p->n + 1) * sizeof(*v))))
			return sg_error_set(SG_ERROR, "out of memory");
		p->v = v;
		memset(&v[i], 0, sizeof(v[i]));
		if (!(v[i].name = strdup(name)))
			return sg_error_set(SG_ERROR, "out of memory");
		p->n++;
	}
	return shown ? sg_strlist_add_unique(&p->v[i].shown_by, shown, 1) : SG_OK;
}

void sg_authors_release(sg_authors *a)
{
	sg_strlist_release(&a->id);
	sg_strlist_release(&a->role);
}

/* The first role an identity is seen in is kept. */
int sg_authors_add(sg_authors *a, const char *id, const char *role)
{
	char *low;
	int err;

	if (!id || !*id || sg_strlist_contains(&a->id, id, 1))
		return SG_OK;
	if (!(low = strdup(id)))
		return sg_error_set(SG_ERROR, "out of memory");
	sg_str_lower(low);
	err = sg_strlist_add(&a->id, low);
	free(low);
	if (err == SG_OK && (err = sg_strlist_add(&a->role, role)) < 0) {
		free(a->id.v[--a->id.n]);
		a->id.v[a->id.n] = NULL;
	}
	return err;
}

static int add_commit(sg_authors *a, const git_commit *c, int is_rev)
{
	char role[64], hex[8];
	int err;

	git_oid_tostr(hex, sizeof(hex), git_commit_id(c));
	snprintf(role, sizeof(role), is_rev ? "the author" : "the author of %s", hex);
	if ((err = sg_authors_add(a, git_commit_author(c)->email, role)) < 0)
		return err;
	snprintf(role, sizeof(role), is_rev ? "the committer" : "the committer of %s", hex);
	return sg_authors_add(a, git_commit_committer(c)->email, role);
}

/* Every commit in REV^1..REV past the merge itself, as `git rev-list
 * REV^1..REV` lists them (sg_reach_merged: generation numbers from the
 * commit-graph when there is one). More than SG_AUTHOR_WALK_MAX commits
 * counting the merge, or a history that ends early: denied. */
static int merged_commits(sg_authors *a, git_repository *repo, const sg_cgraph *g, const git_commit *merge)
{
	git_commit *c = NULL;
	git_oid *ids = NULL;
	size_t n = 0, i;
	char hex[8];
	int ret, err;

	git_oid_tostr(hex, sizeof(hex), git_commit_id(merge));
	if ((ret = sg_reach_merged(&ids, &n, repo, g, git_commit_id(merge), SG_AUTHOR_WALK_MAX - 1)) < 0) {
		ret = sg_error_set(SG_EDENIED, "cannot list the commits merge %s brings in: %s", hex,
				   sg_error_last() ? sg_error_last() : "cannot read the history");
		goto done;
	}
	if (n + 1 > SG_AUTHOR_WALK_MAX) {
		ret = sg_error_set(SG_EDENIED, "merge %s brings in more than %d commits; the gate cannot name "
				   "all their authors, so it does not judge it (sign a smaller merge)", hex,
				   SG_AUTHOR_WALK_MAX);
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (git_commit_lookup(&c, repo, &ids[i]) < 0) {
			git_oid_tostr(hex, sizeof(hex), &ids[i]);
			ret = sg_error_set(SG_EDENIED, "cannot read commit %s, which the merge brings in", hex);
			goto done;
		}
		err = add_commit(a, c, 0);
		git_commit_free(c);
		if (err < 0) {
			ret = err;
			goto done;
		}
	}
	ret = SG_OK;
done:
	free(ids);
	return ret;
}

int sg_authors_collect(sg_authors *out, git_repository *repo, const sg_cgraph *g, const git_oid *rev)
{
	sg_authors a = SG_AUTHORS_INIT;
	git_commit *c = NULL;
	int ret;

	if ((ret = sg_gate_commit_lookup(&c, repo, rev)) < 0)
		return ret;
	if ((ret = add_commit(&a, c, 1)) < 0 ||
	    (git_commit_parentcount(c) > 1 && (ret = merged_commits(&a, repo, g, c)) < 0))
		goto done;
	*out = a;
	memset(&a, 0, sizeof(a));
	ret = SG_OK;
done:
	git_commit_free(c);
	sg_authors_release(&a);
	return ret;
}
