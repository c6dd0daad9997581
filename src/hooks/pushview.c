/* One push, judged whole: pre-receive runs before git moves any ref, so a
 * tag pushed with the branch it is on (`git push origin main v3.0`,
 * `--follow-tags`) would be judged against the branch as it was. The view
 * is a private bare repository that shares the repository's object database
 * (the quarantine included) and holds the refs the gate reads (branches,
 * remote-tracking refs, notes) as they will be once every update of the
 * push is applied. Nothing in the real repository changes. */
#include "hooks/hooks.h"
#include "core/error.h"
#include "core/git.h"
#include "core/file.h"

#include <fnmatch.h>
#include <git2/sys/repository.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The refs the gate reads: the protected branches (local or
 * remote-tracking) and the notes; other branches are left out, so a
 * repository with thousands of them costs no more than one without. */
static int gate_reads(const sg_policy *pol, const char *ref)
{
	const char *name = NULL;
	size_t i;

	if (!strncmp(ref, "refs/notes/", 11))
		return 1;
	if (!strncmp(ref, "refs/heads/", 11))
		name = ref + 11;
	else if (!strncmp(ref, "refs/remotes/", 13) && (name = strchr(ref + 13, '/')))
		name++;
	for (i = 0; name && i < pol->protected_branch.n; i++)
		if (fnmatch(pol->protected_branch.v[i], name, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

int sg_push_moves_branches(const sg_ref_updates *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (!strncmp(u->v[i].ref, "refs/heads/", 11) || !strncmp(u->v[i].ref, "refs/remotes/", 13))
			return 1;
	return 0;
}

static int put_ref(git_repository *view, const char *name, const git_oid *id)
{
	git_reference *r = NULL;

	if (git_oid_is_zero(id))
		return SG_OK; /* deleted by the push */
	if (git_reference_create(&r, view, name, id, 1, "signgate: the push as it will be") < 0)
		return sg_error_set(SG_ERROR, "cannot stage %s for judging the push: %s", name,
				    sg_git_errmsg());
	git_reference_free(r);
	return SG_OK;
}

/* Every ref the gate reads, with the push's value where it moves one. */
static int copy_refs(git_repository *view, git_repository *repo, const sg_policy *pol,
		     const sg_ref_updates *u)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	size_t i;
	int err = SG_OK, gerr;

	if (git_reference_iterator_new(&it, repo) < 0)
		return sg_error_set(SG_ERROR, "cannot list references: %s", sg_git_errmsg());
	while (err == SG_OK && (gerr = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);

		if (git_reference_type(ref) == GIT_REFERENCE_DIRECT && gate_reads(pol, name) && !sg_ref_updates_find(u, name))
			err = put_ref(view, name, git_reference_target(ref));
		git_reference_free(ref);
		ref = NULL;
	}
	if (err == SG_OK && gerr != GIT_ITEROVER)
		err = sg_error_set(SG_ERROR, "cannot list references: %s", sg_git_errmsg());
	git_reference_iterator_free(it);
	for (i = 0; err == SG_OK && i < u->n; i++)
		if (gate_reads(pol, u->v[i].ref))
			err = put_ref(view, u->v[i].ref, &u->v[i].new_id);
	return err;
}

int sg_push_view_open(sg_push_view *out, git_repository *repo, const sg_policy *pol,
		      const sg_ref_updates *u)
{
	const char *tmp = getenv("TMPDIR");
	git_repository *view = NULL;
	git_odb *odb = NULL;
	char *dir = NULL;
	int ret = SG_ERROR;

	memset(out, 0, sizeof(*out));
	if (asprintf(&dir, "%s/signgate-push.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
		dir = NULL;
		return sg_error_set(SG_ERROR, "out of memory");
	}
	if (!mkdtemp(dir)) {
		ret = sg_error_set(SG_ERROR, "cannot create a folder in %s to judge the push; set TMPDIR",
				   tmp && *tmp ? tmp : "/tmp");
		free(dir);
		return ret;
	}
	if (git_repository_init(&view, dir, 1) < 0 || git_repository_odb(&odb, repo) < 0 ||
	    git_repository_set_odb(view, odb) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot prepare the push for judging: %s",
				   sg_git_errmsg());
		goto done;
	}
	if ((ret = copy_refs(view, repo, pol, u)) < 0)
		goto done;
	out->repo = view;
	out->dir = dir;
	view = NULL;
	dir = NULL;
	ret = SG_OK;
done:
	git_odb_free(odb);
	git_repository_free(view);
	if (dir) {
		sg_file_remove_tree(dir);
		free(dir);
	}
	return ret;
}

void sg_push_view_close(sg_push_view *v)
{
	git_repository_free(v->repo);
	if (v->dir) {
		sg_file_remove_tree(v->dir);
		free(v->dir);
	}
	memset(v, 0, sizeof(*v));
}
