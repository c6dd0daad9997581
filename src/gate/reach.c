/* The protected-branch rule: REV must be reachable from the tip of a branch
 * matching gate.protectedBranch (refs/remotes/<gate.remote>/... when set);
 * with gate.firstParent, on the tip's first-parent chain. */
#include "gate/internal.h"
#include "core/error.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

int sg_gate_branch_matches(const sg_strlist *globs, const char *branch)
{
	size_t i;

	for (i = 0; i < globs->n; i++)
		if (fnmatch(globs->v[i], branch, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ref_prefix(sg_buf *prefix, const sg_policy *pol)
{
	if (pol->remote && *pol->remote)
		return sg_buf_printf(prefix, "refs/remotes/%s/", pol->remote);
	return sg_buf_puts(prefix, "refs/heads/");
}

/* The protected refs that exist, sorted; symbolic refs (origin/HEAD) skipped. */
static int list_protected(sg_strlist *out, git_repository *repo, const sg_policy *pol, const char *prefix)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	size_t plen = strlen(prefix);
	int ret = SG_ERROR, err;

	if (git_reference_iterator_new(&it, repo) < 0)
		return sg_error_set(SG_ERROR, "cannot list references: %s", git_error_last()->message);
	while ((err = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);

		if (git_reference_type(ref) == GIT_REFERENCE_DIRECT && strncmp(name, prefix, plen) == 0 &&
		    sg_gate_branch_matches(&pol->protected_branch, name + plen) &&
		    sg_strlist_add(out, name) < 0)
			goto done;
		git_reference_free(ref);
		ref = NULL;
	}
	if (err != GIT_ITEROVER) {
		ret = sg_error_set(SG_ERROR, "cannot list references: %s", git_error_last()->message);
		goto done;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	ret = SG_OK;
done:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return ret;
}

static int reaches(int *out, git_repository *repo, const git_oid *from, const git_oid *rev)
{
	int r = git_graph_descendant_of(repo, from, rev);

	if (r < 0)
		return sg_error_set(SG_EDENIED, "cannot establish reachability: %s",
				    git_error_last() ? git_error_last()->message : "unknown error");
	*out = r;
	return SG_OK;
}

/* The merge on the chain that brought REV in: the oldest chain merge from
 * which REV is reachable (reachability only grows toward the tip). */
static int find_merge(git_oid *out, int *found, git_repository *repo, const sg_chain *c, const git_oid *rev)
{
	size_t *idx = NULL, m = 0, i, lo = 0, hi;
	int ret = SG_ERROR, r = 0;

	*found = 0;
	idx = malloc((c->n ? c->n : 1) * sizeof(*idx));
	if (!idx)
		return sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < c->n; i++)
		if (c->merge[i])
			idx[m++] = i;
	hi = m;
	while (lo < hi) {  /* first index in [lo, m) whose merge does not reach */
		size_t mid = lo + (hi - lo) / 2;

		if ((ret = reaches(&r, repo, &c->ids[idx[mid]], rev)) < 0)
			goto done;
		if (r)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		git_oid_cpy(out, &c->ids[idx[lo - 1]]);
		*found = 1;
	}
	ret = SG_OK;
done:
	free(idx);
	return ret;
}

static void short_id(char *out, const git_oid *id)
{
	git_oid_tostr(out, 8, id);
}

static int judge_ref(sg_branch_verdict *v, git_repository *repo, const sg_policy *pol,
		     const char *refname, const git_oid *rev)
{
	sg_chain c = { 0 };
	sg_buf ev = SG_BUF_INIT;
	git_oid tip;
	char rs[8], ms[8], es[8];
	int ret = SG_ERROR, reach = 0;

	short_id(rs, rev);
	if (git_reference_name_to_id(&tip, repo, refname) < 0)
		return sg_error_set(SG_EDENIED, "cannot resolve %s: %s", refname, git_error_last()->message);
	if ((ret = sg_chain_walk(&c, repo, &tip, rev)) < 0)
		goto done;
	v->ok = 0;
	if (c.found) {
		v->ok = v->first_parent = 1;
		if (c.n == 1)
			ret = sg_buf_printf(&ev, "%s first-parent (tip)", refname);
		else
			ret = sg_buf_printf(&ev, "%s first-parent (%zu commit%s behind tip)", refname,
					    c.n - 1, c.n == 2 ? "" : "s");
		goto out;
	}
	/* A truncated chain under firstParent cannot be settled: skip the
	 * (failing) full-graph walk; without firstParent a merge inside the
	 * shallow history may still bring REV in. */
	if (!(c.truncated && pol->first_parent) &&
	    (ret = reaches(&reach, repo, &tip, rev)) < 0 && !c.truncated)
		goto done;
	if (!reach && c.truncated) {
		short_id(es, &c.ids[c.n - 1]);
		ret = sg_buf_printf(&ev, "shallow history: cannot establish that %s is on %s "
				    "(history ends at %s); run git fetch --unshallow", rs, refname, es);
		goto out;
	}
	if (!reach) {
		ret = sg_buf_printf(&ev, "%s is not on %s", rs, refname);
		goto out;
	}
	if ((ret = find_merge(&v->merge, &v->has_merge, repo, &c, rev)) < 0)
		goto done;
	if (v->has_merge)
		short_id(ms, &v->merge);
	else
		strcpy(ms, "?");
	if (pol->first_parent)
		ret = sg_buf_printf(&ev, "%s is reachable from %s but not on its first-parent chain "
				    "(merged by %s)", rs, refname, ms);
	else {
		v->ok = 1;
		ret = sg_buf_printf(&ev, "%s reachable (merged by %s)", refname, ms);
	}
out:
	if (ret < 0)
		goto done;
	v->evidence = sg_buf_detach(&ev);
	if (!(v->ref = strdup(refname))) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	ret = SG_OK;
done:
	sg_buf_dispose(&ev);
	sg_chain_release(&c);
	return ret;
}

/* Close the list; add the first ref's reason unless it only says "not on". */
static int close_list(sg_buf *ev, const char *reason, const char *rs)
{
	size_t l = strlen(rs);

	if (strncmp(reason, rs, l) == 0 && strncmp(reason + l, " is not on ", 11) == 0)
		return sg_buf_puts(ev, ")");
	return sg_buf_printf(ev, "); %s", reason);
}

static int join_globs(sg_buf *b, const sg_strlist *l)
{
	size_t i;
	int err = SG_OK;

	for (i = 0; i < l->n && err == SG_OK; i++)
		err = sg_buf_printf(b, "%s%s", i ? ", " : "", l->v[i]);
	return err;
}

int sg_gate_branch_rule(sg_branch_verdict *out, git_repository *repo, const sg_policy *pol,
			const git_oid *rev)
{
	sg_strlist refs = SG_STRLIST_INIT;
	sg_buf prefix = SG_BUF_INIT, ev = SG_BUF_INIT;
	sg_branch_verdict v = { 0 }, first = { 0 };
	size_t i;
	int ret = SG_ERROR;

	memset(out, 0, sizeof(*out));
	if ((ret = ref_prefix(&prefix, pol)) < 0 || (ret = list_protected(&refs, repo, pol, prefix.ptr)) < 0)
		goto done;
	if (refs.n == 0) {
		if (pol->protected_branch.n == 0)
			ret = sg_buf_puts(&ev, "gate.protectedBranch is not set in the policy");
		else if ((ret = sg_buf_puts(&ev, "no branch matches gate.protectedBranch (")) == 0 &&
			 (ret = join_globs(&ev, &pol->protected_branch)) == 0)
			ret = sg_buf_printf(&ev, ") under %s; fetch it or fix the policy", prefix.ptr);
		if (ret < 0)
			goto done;
		first.evidence = sg_buf_detach(&ev);
		*out = first;
		memset(&first, 0, sizeof(first));
		ret = SG_OK;
		goto done;
	}
	for (i = 0; i < refs.n; i++) {
		if ((ret = judge_ref(&v, repo, pol, refs.v[i], rev)) < 0)
			goto done;
		if (v.ok) {
			*out = v;
			memset(&v, 0, sizeof(v));
			ret = SG_OK;
			goto done;
		}
		/* Keep the most telling denial: "shallow" says what to do. */
		if (!first.evidence || (strncmp(v.evidence, "shallow", 7) == 0 &&
					strncmp(first.evidence, "shallow", 7) != 0)) {
			sg_branch_verdict_release(&first);
			first = v;
			memset(&v, 0, sizeof(v));
		}
		sg_branch_verdict_release(&v);
	}
	if (refs.n > 1 && strncmp(first.evidence, "shallow", 7) != 0) {
		char rs[8];

		short_id(rs, rev);
		if ((ret = sg_buf_printf(&ev, "%s is not on any protected branch (", rs)) < 0)
			goto done;
		for (i = 0; i < refs.n; i++)
			if ((ret = sg_buf_printf(&ev, "%s%s", i ? ", " : "", refs.v[i])) < 0)
				goto done;
		if ((ret = close_list(&ev, first.evidence, rs)) < 0)
			goto done;
		free(first.evidence);
		first.evidence = sg_buf_detach(&ev);
	}
	*out = first;
	memset(&first, 0, sizeof(first));
	ret = SG_OK;
done:
	sg_branch_verdict_release(&v);
	sg_branch_verdict_release(&first);
	sg_strlist_release(&refs);
	sg_buf_dispose(&prefix);
	sg_buf_dispose(&ev);
	return ret;
}

void sg_branch_verdict_release(sg_branch_verdict *v)
{
	free(v->ref);
	free(v->evidence);
	memset(v, 0, sizeof(*v));
}
