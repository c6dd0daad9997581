/* The "<old> <new> <ref>" lines git gives its ref hooks, release tag
 * names, and which git command is running a transaction. */
#include "hooks/hooks.h"
#include "audit/audit.h"
#include "core/error.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int add_update(sg_ref_updates *u, const git_oid *old_id, const git_oid *new_id,
		      const char *ref, size_t reflen)
{
	int err;

	if ((err = sg_array_reserve((void **)&u->v, &u->cap, u->n, 8, sizeof(*u->v))) < 0)
		return err;
	if (!(u->v[u->n].ref = strndup(ref, reflen)))
		return sg_error_set(SG_ERROR, "out of memory");
	u->v[u->n].old_id = *old_id;
	u->v[u->n].new_id = *new_id;
	u->n++;
	return SG_OK;
}

static int parse_line(sg_ref_updates *u, const char *line, size_t len, size_t lineno)
{
	git_oid old_id, new_id;
	const char *ref = line + 2 * GIT_OID_HEXSZ + 2;

	if (len < 2 * GIT_OID_HEXSZ + 3 || len > SG_HOOK_LINE_MAX || line[GIT_OID_HEXSZ] != ' ' ||
	    line[2 * GIT_OID_HEXSZ + 1] != ' ' ||
	    git_oid_fromstrn(&old_id, line, GIT_OID_HEXSZ) < 0 ||
	    git_oid_fromstrn(&new_id, line + GIT_OID_HEXSZ + 1, GIT_OID_HEXSZ) < 0 ||
	    memchr(ref, ' ', len - (size_t)(ref - line)) || memchr(line, '\0', len)) {
		git_error_clear();
		return sg_error_set(SG_EUSAGE, "line %zu on stdin is not \"<old-sha> <new-sha> <ref>\"",
				    lineno);
	}
	return add_update(u, &old_id, &new_id, ref, len - (size_t)(ref - line));
}

int sg_ref_updates_parse(sg_ref_updates *out, const char *text, size_t len)
{
	sg_ref_updates u = { 0 };
	size_t pos = 0, lineno = 0;
	int err = SG_OK;

	while (pos < len && err == SG_OK) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;

		lineno++;
		if (lineno > SG_HOOK_LINES_MAX)
			err = sg_error_set(SG_EUSAGE, "more than %d ref updates on stdin", SG_HOOK_LINES_MAX);
		else if (l > 0 && text[pos + l - 1] == '\r')
			err = parse_line(&u, text + pos, l - 1, lineno);
		else if (l > 0)
			err = parse_line(&u, text + pos, l, lineno);
		pos += l + 1;
	}
	if (err < 0) {
		sg_ref_updates_release(&u);
		return err;
	}
	*out = u;
	return SG_OK;
}

void sg_ref_updates_release(sg_ref_updates *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		free(u->v[i].ref);
	free(u->v);
	memset(u, 0, sizeof(*u));
}

const sg_ref_update *sg_ref_updates_find(const sg_ref_updates *u, const char *ref)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (!strcmp(u->v[i].ref, ref))
			return &u->v[i];
	return NULL;
}

const char *sg_release_tag(const sg_policy *pol, const char *ref)
{
	const char *name;

	if (strncmp(ref, "refs/tags/", 10) != 0)
		return NULL;
	name = ref + 10;
	if (!*name || fnmatch(pol->tag_pattern ? pol->tag_pattern : "v*", name, 0) != 0)
		return NULL;
	return name;
}

int sg_peel_to_commit(git_oid *out, git_repository *repo, const git_oid *id)
{
	git_object *obj = NULL, *peeled = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = SG_EDENIED;

	git_oid_tostr(hex, sizeof(hex), id);
	if (git_object_lookup(&obj, repo, id, GIT_OBJECT_ANY) < 0) {
		ret = sg_error_set(SG_EDENIED, "object %.12s is not in the repository", hex);
		goto done;
	}
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		ret = sg_error_set(SG_EDENIED, "%.12s is a %s that does not point to a commit; "
				   "release tags name commits", hex, git_object_type2string(git_object_type(obj)));
		goto done;
	}
	*out = *git_object_id(peeled);
	ret = SG_OK;
done:
	git_error_clear();
	git_object_free(peeled);
	git_object_free(obj);
	return ret;
}

char *sg_git_command_of(long pid)
{
	char path[64], buf[8192];
	FILE *f;
	size_t n, i = 0;
	int skip_next = 1; /* argv[0] */

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if (!(f = fopen(path, "re")))
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (i < n) {
		const char *arg = buf + i;
		size_t l = strlen(arg);

		i += l + 1;
		if (arg == buf) {
			/* run as git-<command> (e.g. git-receive-pack) */
			const char *base = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
			if (!strncmp(base, "git-", 4) && base[4])
				return strdup(base + 4);
		}
		if (skip_next) {
			skip_next = 0;
			continue;
		}
		/* git's global options that take a separate value */
		if (!strcmp(arg, "-C") || !strcmp(arg, "-c") || !strcmp(arg, "--git-dir") ||
		    !strcmp(arg, "--work-tree") || !strcmp(arg, "--namespace") ||
		    !strcmp(arg, "--config-env")) {
			skip_next = 1;
			continue;
		}
		if (arg[0] == '-')
			continue;
		return strdup(arg);
	}
	return NULL;
}

int sg_git_command_is_transfer(const char *cmd)
{
	static const char *const transfer[] = {
		"fetch", "pull", "clone", "remote", "fetch-pack", "receive-pack",
		"remote-https", "remote-http", "remote-ftp", "bundle", "submodule",
	};
	size_t i;

	if (!cmd)
		return 0;
	if (!strncmp(cmd, "git-", 4))
		cmd += 4;
	for (i = 0; i < sizeof(transfer) / sizeof(transfer[0]); i++)
		if (!strcmp(cmd, transfer[i]))
			return 1;
	return 0;
}

int sg_read_fd(sg_buf *out, int fd, size_t max, const char *what)
{
	sg_buf b = SG_BUF_INIT;
	char chunk[65536];
	int err = SG_OK;

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = sg_error_set(SG_ERROR, "cannot read %s: %s", what, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (b.size + (size_t)n > max) {
			err = sg_error_set(SG_EUSAGE, "%s is larger than %zu bytes", what, max);
			break;
		}
		if ((err = sg_buf_put(&b, chunk, (size_t)n)) < 0)
			break;
	}
	if (err == SG_OK && !b.ptr)
		err = sg_buf_puts(&b, "");
	if (err < 0) {
		sg_buf_dispose(&b);
		return err;
	}
	*out = b;
	return SG_OK;
}

void sg_hook_audit(git_repository *repo, const char *op, const char *decision, const char *tag,
		   const char *commit, const char *detail)
{
	json_t *rec = json_object();

	json_object_set_new(rec, "op", json_string(op));
	json_object_set_new(rec, "decision", json_string(decision));
	if (tag)
		json_object_set_new(rec, "tag", json_string(tag));
	if (commit && *commit)
		json_object_set_new(rec, "commit", json_string(commit));
	if (detail)
		json_object_set_new(rec, "reason", json_string(detail));
	if (sg_audit_append(repo, rec) < 0)
		sg_error_clear();
	json_decref(rec);
}
