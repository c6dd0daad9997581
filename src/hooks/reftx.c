/* reference-transaction: gate a release tag before git writes it
 * ("prepared": a denial aborts the tag), sign its artifacts once it exists
 * ("committed": nothing can undo the tag, so a failure is loud). */
#include "hooks/hooks.h"
#include "audit/audit.h"
#include "core/error.h"
#include "gate/gate.h"
#include "pipeline/pipeline.h"

#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;


/* "tag v1.0 (3f2a9c1e): <rule>: <evidence>" for every failed rule. */
static int add_denials(sg_reftx_report *r, const char *tag, const sg_gate_result *g,
		       const char *fallback)
{
	char line[2048];
	size_t i, added = 0;
	int err = SG_OK;

	for (i = 0; i < g->nrules && err == SG_OK; i++) {
		if (g->rules[i].ok)
			continue;
		snprintf(line, sizeof(line), "tag %s (%.12s): %s: %s", tag, g->commit, g->rules[i].name,
			 g->rules[i].evidence ? g->rules[i].evidence : fallback ? fallback : "denied");
		err = sg_strlist_add(&r->denials, line);
		added++;
	}
	if (err == SG_OK && !added) {
		snprintf(line, sizeof(line), "tag %s%s%.12s%s: %s", tag, g->commit[0] ? " (" : "",
			 g->commit, g->commit[0] ? ")" : "", fallback ? fallback : "denied");
		err = sg_strlist_add(&r->denials, line);
	}
	return err;
}

static int gate_tag(sg_reftx_report *r, git_repository *repo, const sg_policy *pol,
		    const char *tag, const git_oid *new_id)
{
	sg_gate_result g;
	sg_gate_opts opts = { 0, 0 };
	git_oid commit;
	char hex[GIT_OID_HEXSZ + 1], line[512];
	int err;

	memset(&g, 0, sizeof(g));
	/* The tag object is in the odb even though the ref is not written yet. */
	if ((err = sg_peel_to_commit(&commit, repo, new_id)) < 0) {
		snprintf(line, sizeof(line), "tag %s: %s", tag, sg_error_last());
		sg_hook_audit(repo, "tag-gate", "denied", tag, NULL, sg_error_last());
		return sg_strlist_add(&r->denials, line) < 0 ? SG_ERROR : err;
	}
	git_oid_tostr(hex, sizeof(hex), &commit);
	err = sg_gate_evaluate(&g, repo, pol, hex, &opts);
	if (err == SG_OK) {
		snprintf(line, sizeof(line), "tag %s (%.12s): %s", tag, hex, g.summary ? g.summary : "allowed");
		err = sg_strlist_add(&r->lines, line);
		sg_hook_audit(repo, "tag-gate", "allowed", tag, hex, NULL);
	} else {
		char reason[1024];
		int e2;

		snprintf(reason, sizeof(reason), "%s", sg_error_last() ? sg_error_last() : "denied");
		sg_hook_audit(repo, "tag-gate", err == SG_EDENIED ? "denied" : "failed", tag, hex, reason);
		e2 = add_denials(r, tag, &g, reason);
		/* Anything that cannot be established is a denial: the tag is not made. */
		err = e2 < 0 ? e2 : sg_error_set(SG_EDENIED, "%s", reason);
	}
	sg_gate_result_release(&g);
	return err;
}

int sg_reftx_prepared(sg_reftx_report *report, git_repository *repo, const sg_policy *pol,
		      const sg_ref_updates *u)
{
	size_t i, denied = 0;
	int err;

	for (i = 0; i < u->n; i++) {
		const char *tag = sg_release_tag(pol, u->v[i].ref);
		if (!tag || git_oid_is_zero(&u->v[i].new_id))
			continue; /* not a release tag, or a deletion */
		/* what `committed` would sign must belong to the tag: refuse now, before the tag exists */
		if ((err = sg_release_artifacts_check(pol)) < 0)
			return err;
		err = gate_tag(report, repo, pol, tag, &u->v[i].new_id);
		if (err == SG_EDENIED)
			denied++;
		else if (err < 0)
			return err;
	}
	if (denied)
		return sg_error_set(SG_EDENIED, "%zu release tag%s denied by the gate", denied,
				    denied == 1 ? "" : "s");
	return SG_OK;
}

/* ---- committed: build the list of files, then one pipeline batch ---- */

typedef struct files {
	char **v;
	size_t n, cap;
} files;

static int files_add(files *f, const char *path)
{
	size_t i;
	int err;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->v[i], path))
			return SG_OK;
	if ((err = sg_array_reserve((void **)&f->v, &f->cap, f->n, 8, sizeof(*f->v))) < 0)
		return err;
	if (!(f->v[f->n] = strdup(path)))
		return sg_error_set(SG_ERROR, "out of memory");
	f->n++;
	return SG_OK;
}

static void files_release(files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static int is_signature_file(const char *p)
{
	size_t l = strlen(p);

	return (l > 4 && (!strcmp(p + l - 4, ".p7s") || !strcmp(p + l - 4, ".asc"))) ||
	       (l > 8 && !strcmp(p + l - 8, ".asc.tsr"));
}

static int run_git(char *const argv[])
{
	pid_t pid;
	int st, rc;

	rc = posix_spawnp(&pid, "git", NULL, NULL, argv, environ);
	if (rc != 0)
		return sg_error_set(SG_ERROR, "cannot run git: %s", strerror(rc));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return sg_error_set(SG_ERROR, "waiting for git: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return sg_error_set(SG_ERROR, "`git %s` failed (status %d)", argv[3],
				    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return SG_OK;
}

static int fmt_path(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fmt_path(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return sg_error_set(SG_ERROR, "path too long: %.80s...", out);
	return SG_OK;
}

/* NAME: release.name, else the work tree's folder name. */
static int release_name(char *out, size_t outlen, const sg_policy *pol, const char *workdir)
{
	char copy[PATH_MAX];
	size_t l;

	if (pol->release_name) {
		snprintf(out, outlen, "%s", pol->release_name);
		return SG_OK;
	}
	snprintf(copy, sizeof(copy), "%s", workdir);
	l = strlen(copy);
	while (l > 1 && copy[l - 1] == '/')
		copy[--l] = '\0';
	snprintf(out, outlen, "%s", basename(copy));
	return out[0] && strcmp(out, "/") ? SG_OK
		: sg_error_set(SG_ERROR, "cannot name the release archive after %s", workdir);
}

/* 1 when the files at a and b hold the same bytes, 0 when not, < 0 on error. */
static int same_bytes(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	char x[16384], y[16384];
	size_t na, nb;
	int ret = 1;

	if (!fa || !fb) {
		ret = sg_error_set(SG_ERROR, "cannot read %s: %s", fa ? b : a, strerror(errno));
		goto done;
	}
	do {
		na = fread(x, 1, sizeof(x), fa);
		nb = fread(y, 1, sizeof(y), fb);
		if (na != nb || memcmp(x, y, na) != 0)
			ret = 0;
	} while (ret == 1 && na == sizeof(x));
	if (ferror(fa) || ferror(fb))
		ret = sg_error_set(SG_ERROR, "cannot read %s or %s", a, b);
done:
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return ret;
}

/* Move the archive made at tmp to final. An archive already there is
 * never replaced: the same bytes (the tag's archive, made again) are
 * kept; other bytes (another commit's archive, signed and recorded for
 * it) are left alone and refused. */
static int publish_archive(const char *tmp, const char *final, const char *tag)
{
	struct stat st;
	int same, err = SG_OK;

	if (lstat(final, &st) == 0) {
		if ((same = same_bytes(tmp, final)) == 0)
			err = sg_error_set(SG_ERROR, "%s exists and is not the archive of tag %s; it is left "
					   "as it is (it may be another release's): move it away, then sign the "
					   "tag's archive with signgate sign --tag %s", final, tag, tag);
		else if (same < 0)
			err = same;
		unlink(tmp);
		return err;
	}
	if (rename(tmp, final) < 0) {
		err = sg_error_set(SG_ERROR, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
		unlink(tmp);
	}
	return err;
}

/* OUTDIR/NAME-TAG.tar.gz (release.outDir, default dist) from `git archive`
 * of the tag (reproducible: git takes file times from the commit and writes
 * gzip without a name/time). */
static int make_archive(char **out, const sg_policy *pol, const char *workdir, const char *tag)
{
	char name[256], stem[512], dir[PATH_MAX], final[PATH_MAX], tmp[PATH_MAX];
	char prefix[600], ref[600];
	size_t i;
	int err;

	if ((err = release_name(name, sizeof(name), pol, workdir)) < 0 ||
	    (err = fmt_path(stem, sizeof(stem), "%s-%s", name, tag)) < 0)
		return err;
	for (i = 0; stem[i]; i++)
		if (stem[i] == '/')
			stem[i] = '-';
	if ((err = fmt_path(dir, sizeof(dir), "%s%s", workdir, pol->release_out_dir)) < 0)
		return err;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return sg_error_set(SG_ERROR, "cannot create %s: %s", dir, strerror(errno));
	if ((err = fmt_path(final, sizeof(final), "%s/%s.tar.gz", dir, stem)) < 0 ||
	    (err = fmt_path(tmp, sizeof(tmp), "%s/.%s.tar.gz.%ld.tmp", dir, stem, (long)getpid())) < 0 ||
	    (err = fmt_path(prefix, sizeof(prefix), "--prefix=%s/", stem)) < 0 ||
	    (err = fmt_path(ref, sizeof(ref), "refs/tags/%s", tag)) < 0)
		return err;
	{
		char *argv[] = { "git", "-C", (char *)workdir, "archive", "--format=tar.gz", prefix,
				 "-o", tmp, ref, NULL };
		if ((err = run_git(argv)) < 0) {
			unlink(tmp);
			return err;
		}
	}
	if ((err = publish_archive(tmp, final, tag)) < 0)
		return err;
	return (*out = strdup(final)) ? SG_OK : sg_error_set(SG_ERROR, "out of memory");
}

int sg_release_artifacts_check(const sg_policy *pol)
{
	size_t i;

	for (i = 0; i < pol->release_artifact.n; i++)
		if (!strstr(pol->release_artifact.v[i], SG_TAG_PLACEHOLDER))
			return sg_error_set(SG_ERROR, "release.artifact \"%s\" does not name the tag: on a release "
					    "tag it would sign every matching file, earlier releases' too, and record "
					    "them under the new tag. Put %s in the file name, e.g. \"dist/*-%s.tar.gz\", "
					    "or drop it and sign other files with signgate sign --tag TAG FILE...",
					    pol->release_artifact.v[i], SG_TAG_PLACEHOLDER, SG_TAG_PLACEHOLDER);
	return SG_OK;
}

/* `pattern` with every %(tag) made the tag's name (a '/' in it made '-',
 * as in the archive's name; glob characters escaped, so the tag matches
 * only itself). */
static int expand_tag(char *out, size_t len, const char *pattern, const char *tag)
{
	const char *p = pattern;
	size_t o = 0, i;

	while (*p && o + 2 < len) {
		if (strncmp(p, SG_TAG_PLACEHOLDER, strlen(SG_TAG_PLACEHOLDER)) != 0) {
			out[o++] = *p++;
			continue;
		}
		for (i = 0; tag[i] && o + 2 < len; i++) {
			if (strchr("*?[]\\", tag[i]))
				out[o++] = '\\';
			out[o++] = tag[i] == '/' ? '-' : tag[i];
		}
		if (tag[i])
			break;
		p += strlen(SG_TAG_PLACEHOLDER);
	}
	out[o] = '\0';
	return *p ? sg_error_set(SG_ERROR, "path too long: %.80s...", pattern) : SG_OK;
}

/* The built files of tag `tag`: release.artifact globs with %(tag) made the tag. */
static int add_artifacts(files *f, sg_reftx_report *r, const sg_policy *pol, const char *workdir,
			 const char *tag)
{
	size_t i, j;
	int err = sg_release_artifacts_check(pol);

	for (i = 0; i < pol->release_artifact.n && err == SG_OK; i++) {
		char named[PATH_MAX], pattern[PATH_MAX], line[PATH_MAX + 128];
		glob_t g;
		size_t before = f->n;
		int gr;

		if ((err = expand_tag(named, sizeof(named), pol->release_artifact.v[i], tag)) < 0 ||
		    (err = fmt_path(pattern, sizeof(pattern), "%s%s", workdir, named)) < 0)
			break;
		gr = glob(pattern, 0, NULL, &g);
		for (j = 0; gr == 0 && j < g.gl_pathc && err == SG_OK; j++) {
			struct stat st;
			if (is_signature_file(g.gl_pathv[j]) || lstat(g.gl_pathv[j], &st) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			err = files_add(f, g.gl_pathv[j]);
		}
		if (gr == 0 || gr == GLOB_NOMATCH)
			globfree(&g);
		if (err == SG_OK && f->n == before) {
			snprintf(line, sizeof(line), "warning: release.artifact %s matched no file for tag %s",
				 pol->release_artifact.v[i], tag);
			err = sg_strlist_add(&r->lines, line);
		}
	}
	return err;
}

static int sign_tag(sg_reftx_report *r, git_repository *repo, const sg_policy *pol,
		    const char *tag, const char *profile)
{
	const char *workdir = git_repository_workdir(repo);
	files f = { 0 };
	char *archive = NULL, line[1024];
	sg_sign_request req = { 0 };
	sg_batch batch;
	size_t i;
	int err, ran_pipeline = 0;

	memset(&batch, 0, sizeof(batch));
	if (!workdir) {
		err = sg_error_set(SG_ERROR, "tag %s: a bare repository has no built files to sign; "
				   "sign the release where it is built: signgate sign --tag %s FILE...", tag, tag);
		goto done;
	}
	if (pol->release_archive && ((err = make_archive(&archive, pol, workdir, tag)) < 0 ||
				     (err = files_add(&f, archive)) < 0))
		goto done;
	if ((err = add_artifacts(&f, r, pol, workdir, tag)) < 0)
		goto done;
	if (f.n == 0) {
		snprintf(line, sizeof(line), "tag %s: nothing to sign (release.archive is false and "
			 "no release.artifact matched)", tag);
		err = sg_strlist_add(&r->lines, line);
		goto done;
	}
	req.tag = tag;
	req.profile = profile;
	req.files = f.v;
	req.nfiles = f.n;
	/* the pipeline audits its own outcome, failures included */
	ran_pipeline = 1;
	if ((err = sg_pipeline_sign(&batch, repo, pol, &req)) < 0)
		goto done;
	for (i = 0; i < batch.n && err == SG_OK; i++) {
		snprintf(line, sizeof(line), "tag %s: signed %s -> %s (%s)", tag, batch.items[i].artifact,
			 batch.items[i].sig_path, batch.items[i].profile);
		err = sg_strlist_add(&r->lines, line);
	}
	for (i = 0; i < batch.warnings.n && err == SG_OK; i++)
		err = sg_strlist_add(&r->lines, batch.warnings.v[i]);
	if (err == SG_OK) {
		snprintf(line, sizeof(line), "tag %s: recorded in %s on %.12s", tag, batch.notes_refs,
			 batch.gate.commit);
		err = sg_strlist_add(&r->lines, line);
	}
done:
	if (err < 0 && !ran_pipeline) {
		char reason[1024];
		snprintf(reason, sizeof(reason), "%s", sg_error_last() ? sg_error_last() : "failed");
		sg_hook_audit(repo, "tag-sign", "failed", tag, NULL, reason);
		sg_error_set(err, "%s", reason);
	}
	sg_batch_release(&batch);
	files_release(&f);
	free(archive);
	return err;
}

int sg_reftx_committed(sg_reftx_report *report, git_repository *repo, const sg_policy *pol,
		       const sg_ref_updates *u, const char *profile)
{
	size_t i;
	int err, first_err = SG_OK;
	char first_msg[1024] = "";

	for (i = 0; i < u->n; i++) {
		const char *tag = sg_release_tag(pol, u->v[i].ref);
		if (!tag || git_oid_is_zero(&u->v[i].new_id))
			continue;
		if ((err = sign_tag(report, repo, pol, tag, profile)) < 0 && first_err == SG_OK) {
			first_err = err;
			snprintf(first_msg, sizeof(first_msg), "tag %s: %s", tag,
				 sg_error_last() ? sg_error_last() : "failed");
		}
	}
	if (first_err < 0)
		return sg_error_set(first_err, "%s", first_msg);
	return SG_OK;
}

void sg_reftx_report_release(sg_reftx_report *r)
{
	sg_strlist_release(&r->lines);
	sg_strlist_release(&r->denials);
}
