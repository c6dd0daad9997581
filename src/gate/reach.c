/* The protected-branch rule: REV must be reachable from the tip of a branch
 * matching gate.protectedBranch (refs/remotes/<gate.remote>/... when set);
 * with gate.firstParent, on the tip's first-parent chain. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/git.h"

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

/* A pattern with no glob character names one ref (fnmatch matches it only). */
static int all_literal(const sg_strlist *globs)
{
	size_t i;

	for (i = 0; i < globs->n; i++)
		if (strpbrk(globs->v[i], "*?[\\"))
			return 0;
	return 1;
}

/* Literal patterns: each ref looked up by name, not every ref of the
 * repository read (tags, remotes, loose refs) to find them. SG_ERETRY when
 * libgit2 cannot look a name up (one too long for a path): the caller reads
 * every ref instead, as for a glob. */
static int lookup_protected(sg_strlist *out, git_repository *repo, const sg_policy *pol, const char *prefix)
{
	git_reference *ref = NULL;
	sg_buf name = SG_BUF_INIT;
	size_t i;
	int ret = SG_OK, err;

	for (i = 0; ret == SG_OK && i < pol->protected_branch.n; i++) {
		sg_buf_clear(&name);
		if ((ret = sg_buf_printf(&name, "%s%s", prefix, pol->protected_branch.v[i])) < 0)
			break;
		err = git_reference_lookup(&ref, repo, name.ptr);
		if (err == GIT_ENOTFOUND || err == GIT_EINVALIDSPEC)
			continue;
		if (err < 0)
			ret = SG_ERETRY;
		else if (git_reference_type(ref) == GIT_REFERENCE_DIRECT)
			ret = sg_strlist_add_unique(out, name.ptr, 0);
		git_reference_free(ref);
		ref = NULL;
	}
	sg_buf_dispose(&name);
	return ret;
}

/* Globs: every ref of the repository, matched. */
static int iterate_protected(sg_strlist *out, git_repository *repo, const sg_policy *pol, const char *prefix)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	size_t plen = strlen(prefix);
	int ret = SG_ERROR, err;

	if (git_reference_iterator_new(&it, repo) < 0)
		return sg_error_set(SG_ERROR, "cannot list references: %s", sg_git_errmsg());
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
		ret = sg_error_set(SG_ERROR, "cannot list references: %s", sg_git_errmsg());
		goto done;
	}
	ret = SG_OK;
done:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return ret;
}

/* The protected refs that exist, sorted; symbolic refs (origin/HEAD) skipped. */
static int list_protected(sg_strlist *out, git_repository *repo, const sg_policy *pol, const char *prefix)
{
	int ret = SG_ERETRY;

	if (all_literal(&pol->protected_branch))
		ret = lookup_protected(out, repo, pol, prefix);
	if (ret == SG_ERETRY) {
		sg_strlist_release(out);
		ret = iterate_protected(out, repo, pol, prefix);
	}
	if (ret == SG_OK && out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return ret;
}

static void short_id(char *out, const git_oid *id)
{
	git_oid_tostr(out, 8, id);
}

static int judge_ref(sg_branch_verdict *v, git_repository *repo, const sg_cgraph *g, const sg_policy *pol,
		     const char *refname, const git_oid *rev)
{
	sg_reach r;
	sg_buf ev = SG_BUF_INIT;
	git_oid tip;
	char rs[8], ms[8], es[8];
	int ret = SG_ERROR;

	short_id(rs, rev);
	if (git_reference_name_to_id(&tip, repo, refname) < 0)
		return sg_error_set(SG_EDENIED, "cannot resolve %s: %s", refname, sg_git_errmsg());
	/* The merge is searched only when the rule reports it (and the reviews
	 * read it): under firstParent the chain has already decided. */
	if ((ret = sg_reach_judge(&r, repo, g, &tip, rev,
				  SG_REACH_ANY | (pol->first_parent ? 0 : SG_REACH_MERGE))) < 0)
		goto done;
	v->ok = 0;
	if (r.first_parent) {
		v->ok = v->first_parent = 1;
		if (r.behind == 0)
			ret = sg_buf_printf(&ev, "%s first-parent (tip)", refname);
		else
			ret = sg_buf_printf(&ev, "%s first-parent (%zu commit%s behind tip)", refname,
					    r.behind, r.behind == 1 ? "" : "s");
	} else if (!r.reachable && r.truncated) {
		short_id(es, &r.history_end);
		ret = sg_buf_printf(&ev, "shallow history: cannot establish that %s is on %s "
				    "(history ends at %s); run git fetch --unshallow", rs, refname, es);
	} else if (!r.reachable) {
		ret = sg_buf_printf(&ev, "%s is not on %s", rs, refname);
	} else if (pol->first_parent) {
		ret = sg_buf_printf(&ev, "%s is reachable from %s but not on its first-parent chain; "
				    "sign the merge that brought it in", rs, refname);
	} else {
		v->ok = 1;
		v->has_merge = r.has_merge;
		git_oid_cpy(&v->merge, &r.merge);
		if (r.has_merge)
			short_id(ms, &r.merge);
		else
			strcpy(ms, "?");
		ret = sg_buf_printf(&ev, "%s reachable (merged by %s)", refname, ms);
	}
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

int sg_gate_branch_rule(sg_branch_verdict *out, git_repository *repo, const sg_cgraph *g,
			const sg_policy *pol, const git_oid *rev)
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
		if ((ret = judge_ref(&v, repo, g, pol, refs.v[i], rev)) < 0)
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

int sg_gate_graph_verify(int *files, uint32_t *commits, git_repository *repo)
{
	return sg_cgraph_verify(files, commits, repo);
}
