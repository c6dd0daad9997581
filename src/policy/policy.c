/* Where the policy comes from (DESIGN.md section 3): --policy FILE, git
 * config signgate.policyFile, else the `.signgate` blob at
 * signgate.policyRef (default refs/remotes/origin/HEAD, refs/heads/main,
 * refs/heads/master). Never the working tree. */
#include "policy/policy_int.h"
#include "core/file.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/git.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SG_POLICY_BLOB ".signgate"

static int read_file(sg_buf *out, const char *path)
{
	int ret = sg_file_read_all(out, path, SG_POLICY_MAX_SIZE);

	if (ret < 0)
		sg_error_set(ret, "cannot read policy: %s", sg_error_last());
	return ret;
}

/* Absolute, symlink-free directory + the file's own name (not resolved:
 * the file itself must not be a symlink). */
static int absolute_path(char **abs_out, char **dir_out, const char *path)
{
	char *copy1 = strdup(path), *copy2 = strdup(path), *dir, *base, *abs = NULL;
	char real[PATH_MAX];
	int ret = SG_ERROR;

	if (!copy1 || !copy2) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	dir = dirname(copy1);
	base = basename(copy2);
	if (!realpath(dir, real)) {
		ret = sg_error_set(SG_ERROR, "cannot open policy %s: %s", path, strerror(errno));
		goto done;
	}
	if (!strcmp(base, "/") || !strcmp(base, ".") || !strcmp(base, "..")) {
		ret = sg_error_set(SG_ERROR, "policy %s is not a file", path);
		goto done;
	}
	if (asprintf(&abs, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base) < 0 ||
	    !(*dir_out = strdup(real))) {
		free(abs);
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	*abs_out = abs;
	ret = SG_OK;
done:
	free(copy1);
	free(copy2);
	return ret;
}

int sg_policy_load_file(sg_policy **out, const char *path)
{
	sg_buf data = SG_BUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	char *abs = NULL, *dir = NULL, *origin = NULL;
	int ret = SG_ERROR;

	if (!path || !path[0])
		return sg_error_set(SG_EUSAGE, "empty policy file name; give --policy FILE");
	if ((ret = absolute_path(&abs, &dir, path)) < 0 || (ret = read_file(&data, abs)) < 0)
		goto done;
	if (!EVP_Digest(data.ptr ? data.ptr : "", data.size, md, &mdlen, EVP_sha256(), NULL)) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot hash policy %s", abs);
		goto done;
	}
	sg_hex(hex, md, mdlen);
	if (asprintf(&origin, "file %s sha256 %s", abs, hex) < 0) {
		origin = NULL;
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	ret = sg_policy__parse(out, data.ptr ? data.ptr : "", data.size, abs, origin, dir, 1);
done:
	sg_buf_dispose(&data);
	free(abs);
	free(dir);
	free(origin);
	return ret;
}

int sg_policy_load_buffer(sg_policy **out, const char *data, size_t len,
			  const char *display, const char *origin, const char *base_dir)
{
	return sg_policy__parse(out, data ? data : "", data ? len : 0,
				display ? display : "policy", origin ? origin : "buffer", base_dir, 0);
}

/* The repository's top directory (workdir, or the git dir when bare),
 * without a trailing slash. */
static int repo_top(char **out, git_repository *repo)
{
	const char *d = git_repository_workdir(repo);
	size_t n;
	char *s;

	if (!d)
		d = git_repository_path(repo);
	n = strlen(d);
	while (n > 1 && d[n - 1] == '/')
		n--;
	if (!(s = strndup(d, n)))
		return sg_error_set(SG_ERROR, "out of memory");
	*out = s;
	return SG_OK;
}

/* Resolve `name`; SG_ENOTFOUND when it (or its symbolic target) is absent. */
static int resolve_ref(git_reference **out, git_repository *repo, const char *name)
{
	git_reference *ref = NULL;
	int e;

	e = git_reference_lookup(&ref, repo, name);
	if (e == GIT_ENOTFOUND || e == GIT_EINVALIDSPEC)
		return SG_ENOTFOUND;
	if (e < 0)
		return sg_error_set(SG_ERROR, "cannot read %s: %s", name, sg_git_errmsg());
	e = git_reference_resolve(out, ref);
	git_reference_free(ref);
	if (e == GIT_ENOTFOUND)
		return SG_ENOTFOUND;
	if (e < 0)
		return sg_error_set(SG_ERROR, "cannot resolve %s: %s", name, sg_git_errmsg());
	return SG_OK;
}

static int load_blob(sg_policy **out, git_repository *repo, git_reference *ref)
{
	const char *refname = git_reference_name(ref);
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	const git_tree_entry *te;
	char *display = NULL, *origin = NULL, *top = NULL;
	char oid[GIT_OID_HEXSZ + 1];
	git_object_size_t size;
	int ret = SG_ERROR;

	if (git_reference_peel((git_object **)&tree, ref, GIT_OBJECT_TREE) < 0) {
		ret = sg_error_set(SG_ERROR, "no policy: %s does not point to a commit (%s); "
				   "commit a .signgate or pass --policy", refname, sg_git_errmsg());
		goto done;
	}
	te = git_tree_entry_byname(tree, SG_POLICY_BLOB);
	if (!te) {
		ret = sg_error_set(SG_ENOTFOUND, "no policy: no .signgate on %s; commit one there "
				   "(`signgate init` writes one) or pass --policy FILE", refname);
		goto done;
	}
	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB ||
	    (git_tree_entry_filemode(te) != GIT_FILEMODE_BLOB &&
	     git_tree_entry_filemode(te) != GIT_FILEMODE_BLOB_EXECUTABLE)) {
		ret = sg_error_set(SG_ERROR, "no policy: .signgate on %s is not a regular file "
				   "(a symlink or directory); commit the policy itself", refname);
		goto done;
	}
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(te)) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot read .signgate on %s: %s", refname, sg_git_errmsg());
		goto done;
	}
	size = git_blob_rawsize(blob);
	if (size > SG_POLICY_MAX_SIZE) {
		ret = sg_error_set(SG_ERROR, ".signgate at %s is %llu bytes, more than the %d-byte limit",
				   refname, (unsigned long long)size, SG_POLICY_MAX_SIZE);
		goto done;
	}
	git_oid_tostr(oid, sizeof(oid), git_tree_entry_id(te));
	if (asprintf(&display, ".signgate at %s", refname) < 0) {
		display = NULL;
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if (asprintf(&origin, "blob %s at %s", oid, refname) < 0) {
		origin = NULL;
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if ((ret = repo_top(&top, repo)) < 0)
		goto done;
	ret = sg_policy__parse(out, git_blob_rawcontent(blob), (size_t)size, display, origin, top, 0);
done:
	git_blob_free(blob);
	git_tree_free(tree);
	free(display);
	free(origin);
	free(top);
	return ret;
}

/* 1 when `path` (resolved, symlinks followed) lies in the work tree. */
static int in_worktree(git_repository *repo, const char *path)
{
	const char *wd = git_repository_workdir(repo);
	char rwd[PATH_MAX], rpath[PATH_MAX];
	size_t l;

	if (!wd || !realpath(wd, rwd) || !realpath(path, rpath))
		return 0; /* a missing file is reported by the load */
	l = strlen(rwd);
	return strncmp(rpath, rwd, l) == 0 && (rpath[l] == '/' || rpath[l] == '\0' || !strcmp(rwd, "/"));
}

/* signgate.policyFile: an absolute path outside the work tree, or nothing.
 * A relative path would be read from wherever signgate runs (a checkout of
 * any branch): the working tree would supply the rules that judge it. */
static int load_config_file(sg_policy **out, git_repository *repo, const char *path)
{
	if (!path[0])
		return sg_error_set(SG_ERROR, "git config signgate.policyFile is empty; "
				    "unset it or give the policy file's path");
	if (path[0] != '/')
		return sg_error_set(SG_ERROR, "git config signgate.policyFile = '%s' is a relative path; "
				    "a policy file must be an absolute path (a file an administrator keeps "
				    "outside the repository) so that no working tree can supply the rules; "
				    "give an absolute path, or unset it to use .signgate on the protected "
				    "branch", path);
	if (in_worktree(repo, path))
		return sg_error_set(SG_ERROR, "git config signgate.policyFile = '%s' is inside the working "
				    "tree; a policy file must be kept outside the repository so that no "
				    "working tree can supply the rules; move it, or unset the setting to use "
				    ".signgate on the protected branch", path);
	return sg_policy_load_file(out, path);
}

int sg_policy_load(sg_policy **out, git_repository *repo, const char *policy_file)
{
	static const char *const defaults[] = {
		"refs/remotes/origin/HEAD", "refs/heads/main", "refs/heads/master"
	};
	git_config *cfg = NULL;
	git_buf path = { NULL, 0, 0 };
	git_reference *ref = NULL;
	const char *pref = NULL;
	size_t i;
	int ret = SG_ERROR, e;

	if (policy_file)
		return sg_policy_load_file(out, policy_file);
	if (!repo)
		return sg_error_set(SG_EUSAGE, "no repository and no --policy: run inside a git repository "
				    "or pass --policy FILE");
	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot read the repository's git config: %s", sg_git_errmsg());
		goto done;
	}
	e = git_config_get_path(&path, cfg, "signgate.policyFile");
	if (e == 0) {
		ret = load_config_file(out, repo, path.ptr);
		goto done;
	}
	if (e != GIT_ENOTFOUND) {
		ret = sg_error_set(SG_ERROR, "cannot read git config signgate.policyFile: %s", sg_git_errmsg());
		goto done;
	}
	e = git_config_get_string(&pref, cfg, "signgate.policyRef");
	if (e == 0) {
		if (strncmp(pref, "refs/", 5) != 0) {
			ret = sg_error_set(SG_ERROR, "git config signgate.policyRef = '%s' is not a full ref name; "
					   "write e.g. refs/heads/main", pref);
			goto done;
		}
		ret = resolve_ref(&ref, repo, pref);
		if (ret == SG_ENOTFOUND)
			ret = sg_error_set(SG_ENOTFOUND, "no policy: signgate.policyRef %s does not exist; "
					   "fetch it, fix the setting, or pass --policy", pref);
		if (ret < 0)
			goto done;
	} else if (e != GIT_ENOTFOUND) {
		ret = sg_error_set(SG_ERROR, "cannot read git config signgate.policyRef: %s", sg_git_errmsg());
		goto done;
	} else {
		for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
			ret = resolve_ref(&ref, repo, defaults[i]);
			if (ret == SG_OK)
				break;
			if (ret != SG_ENOTFOUND)
				goto done;
		}
		if (!ref) {
			ret = sg_error_set(SG_ENOTFOUND, "no policy: no .signgate on refs/heads/main (none of "
					   "refs/remotes/origin/HEAD, refs/heads/main, refs/heads/master exists); "
					   "commit one (`signgate init` writes one) or pass --policy FILE");
			goto done;
		}
	}
	ret = load_blob(out, repo, ref);
done:
	git_reference_free(ref);
	git_buf_dispose(&path);
	git_config_free(cfg);
	return ret;
}

static void profile_release(sg_profile *pr)
{
	free(pr->name);
	free(pr->format);
	free(pr->key);
	free(pr->pkcs11_module);
	free(pr->cert);
	free(pr->chain);
	free(pr->trust_anchor);
	sg_strlist_release(&pr->tsa);
	free(pr->tsa_trust_anchor);
	sg_strlist_release(&pr->artifacts);
	sg_strlist_release(&pr->allowed_key);
	free(pr->notes_ref);
}

void sg_policy_free(sg_policy *p)
{
	size_t i;

	if (!p)
		return;
	sg_strlist_release(&p->protected_branch);
	free(p->remote);
	sg_strlist_release(&p->review_source);
	sg_strlist_release(&p->reviewer);
	sg_strlist_release(&p->signer);
	sg_strlist_release(&p->trailer);
	free(p->gerrit_notes_ref);
	free(p->gerrit_label);
	sg_strlist_release(&p->reviewer_key);
	free(p->reviewer_keyring);
	free(p->changes_requested);
	sg_policy__persons_free(p);
	for (i = 0; i < p->nprofiles; i++)
		profile_release(&p->profiles[i]);
	free(p->profiles);
	free(p->scan_engine);
	free(p->scan_database);
	free(p->scan_clamd);
	for (i = 0; i < p->nrevoked; i++) {
		free(p->revoked[i].cert_sha256);
		free(p->revoked[i].since_text);
		free(p->revoked[i].reason);
	}
	free(p->revoked);
	free(p->tag_pattern);
	free(p->tag_profile);
	free(p->release_name);
	free(p->release_out_dir);
	sg_strlist_release(&p->release_artifact);
	free(p->github_api);
	free(p->github_repository);
	free(p->gitlab_api);
	free(p->gitlab_project);
	free(p->notes_push);
	free(p->origin);
	free(p->base_dir);
	free(p);
}

const sg_profile *sg_policy_profile(const sg_policy *p, const char *name)
{
	size_t i;

	if (!p || !name)
		return NULL;
	for (i = 0; i < p->nprofiles; i++)
		if (strcmp(p->profiles[i].name, name) == 0)
			return &p->profiles[i];
	return NULL;
}

const sg_revocation *sg_policy_revocation(const sg_policy *p, const char *cert_sha256)
{
	size_t i;

	if (!p || !cert_sha256)
		return NULL;
	for (i = 0; i < p->nrevoked; i++)
		if (strcasecmp(p->revoked[i].cert_sha256, cert_sha256) == 0)
			return &p->revoked[i];
	return NULL;
}
