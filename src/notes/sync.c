/* `signgate sync`: fetch the remote's notes refs into a private namespace
 * (refs/signgate/remotes/<remote>/notes/...), merge them with the local
 * ones (union of events, a real merge commit), move the local refs with
 * compare-and-swap, push, and start again when the remote moved meanwhile.
 *
 * Fetch uses libgit2. Push runs `git push` for transport only: libgit2
 * 1.5's local transport (paths and file:// URLs) updates the remote ref
 * with force and without comparing it to the value it advertised, so two
 * machines pushing at once could each overwrite the other's notes;
 * git-receive-pack compares and swaps under the ref's lock. */
#include "notes/notes.h"
#include "core/error.h"
#include "core/git.h"
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SG_SYNC_ATTEMPTS 30          /* rounds of fetch+merge+push */
#define SG_SYNC_PUSH_OUTPUT (64 * 1024)
#define SG_SYNC_PUSH_TIMEOUT_MS (10 * 60 * 1000)
#define SG_SYNC_NS "refs/signgate/remotes/"

int sg_notes_sync_refs(sg_strlist *out, const sg_policy *pol)
{
	size_t i;
	int ret;

	if ((ret = sg_strlist_add_unique(out, SG_NOTES_SIGNATURES_REF, 0)) < 0 ||
	    (ret = sg_strlist_add_unique(out, SG_NOTES_APPROVALS_REF, 0)) < 0)
		return ret;
	for (i = 0; pol && i < pol->nprofiles; i++)
		if (pol->profiles[i].notes_ref &&
		    (ret = sg_strlist_add_unique(out, pol->profiles[i].notes_ref, 0)) < 0)
			return ret;
	return SG_OK;
}

/* --- one ref's state ------------------------------------------------------- */

typedef struct sync_ref {
	const char *name;          /* refs/notes/... */
	char *tracking;            /* refs/signgate/remotes/<ns>/notes/... */
	int has_remote;
	git_oid remote;            /* as fetched */
	int push;                  /* push `out` */
	git_oid out;
	int done;
} sync_ref;

/* The private namespace component for a remote: its name when it is a
 * configured remote, else "url-" + 16 hex digits of SHA-256(url). */
static int remote_namespace(char **out, const char *remote, int named)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];

	if (named) {
		*out = strdup(remote);
	} else {
		SHA256((const unsigned char *)remote, strlen(remote), md);
		sg_hex(hex, md, sizeof(md));
		if (asprintf(out, "url-%.16s", hex) < 0)
			*out = NULL;
	}
	return *out ? SG_OK : sg_error_set(SG_ERROR, "out of memory");
}

/* The remote's URL: remote.<name>.url when configured (*named = 1), else
 * `remote` itself as a URL or path. The remote is made in memory with
 * GIT_REMOTE_CREATE_SKIP_INSTEADOF: libgit2 1.5 matches url.*.insteadOf
 * with a regex that leaks its match data on every non-matching key. */
static int open_remote(git_remote **out, int *named, git_repository *repo, const char *remote)
{
	git_remote_create_options opts;
	git_config *cfg = NULL;
	char key[512];
	const char *url = remote;
	int valid = 0, ret;

	*named = 0;
	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return sg_git_fail(SG_ERROR, "cannot read the repository configuration");
	if (git_remote_name_is_valid(&valid, remote) == 0 && valid &&
	    (size_t)snprintf(key, sizeof(key), "remote.%s.url", remote) < sizeof(key) &&
	    git_config_get_string(&url, cfg, key) == 0)
		*named = 1;
	else
		url = remote;
	git_remote_create_options_init(&opts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	opts.repository = repo;
	opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(out, url, &opts) < 0)
		ret = sg_error_set(SG_ERROR, "'%s' is neither a configured remote nor a repository URL or path: %s; "
				   "see git remote -v", remote,
				   sg_git_errmsg());
	else
		ret = SG_OK;
	git_config_free(cfg);
	return ret;
}

/* SSH: the agent's keys, one try (no prompt, no loop). */
static int credentials(git_credential **out, const char *url, const char *user_from_url,
		       unsigned int allowed, void *payload)
{
	int *tries = payload;

	(void)url;
	if ((*tries)++ > 0 || !(allowed & GIT_CREDENTIAL_SSH_KEY))
		return GIT_PASSTHROUGH;
	return git_credential_ssh_key_from_agent(out, user_from_url ? user_from_url : "git");
}

/* Fetch the refs the remote has into the tracking refs. */
static int fetch(git_remote *remote, git_repository *repo, const char *display, sync_ref *refs, size_t n)
{
	git_remote_callbacks cb;
	git_fetch_options fo;
	const git_remote_head **heads = NULL;
	git_strarray specs = { NULL, 0 };
	git_reference *ref = NULL;
	size_t nheads = 0, i, j;
	int tries = 0, ret;

	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	cb.credentials = credentials;
	cb.payload = &tries;
	if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL, NULL) < 0 ||
	    git_remote_ls(&heads, &nheads, remote) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot reach %s: %s; check the remote (git ls-remote %s)", display,
				   sg_git_errmsg(),
				   display);
		goto done;
	}
	if (!(specs.strings = calloc(n ? n : 1, sizeof(char *)))) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		refs[i].has_remote = 0;
		for (j = 0; j < nheads; j++)
			if (strcmp(heads[j]->name, refs[i].name) == 0) {
				refs[i].has_remote = 1;
				git_oid_cpy(&refs[i].remote, &heads[j]->oid);
			}
		if (refs[i].has_remote &&
		    asprintf(&specs.strings[specs.count++], "+%s:%s", refs[i].name, refs[i].tracking) < 0) {
			specs.count--;
			ret = sg_error_set(SG_ERROR, "out of memory");
			goto done;
		}
	}
	if (specs.count) {
		fo.callbacks = cb;
		fo.prune = GIT_FETCH_NO_PRUNE;
		fo.update_fetchhead = 0;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		if (git_remote_download(remote, &specs, &fo) < 0) {
			ret = sg_error_set(SG_ERROR, "cannot fetch the notes from %s: %s", display,
					   sg_git_errmsg());
			goto done;
		}
	}
	for (i = 0; i < n; i++) {
		if (!refs[i].has_remote)
			continue;
		if (git_reference_create(&ref, repo, refs[i].tracking, &refs[i].remote, 1, "signgate sync: fetch") < 0) {
			ret = sg_git_fail(SG_ERROR, refs[i].tracking);
			goto done;
		}
		git_reference_free(ref);
		ref = NULL;
	}
	ret = SG_OK;
done:
	git_remote_disconnect(remote);
	for (i = 0; i < specs.count; i++)
		free(specs.strings[i]);
	free(specs.strings);
	return ret;
}

/* Local ref value; *has = 0 when absent. */
static int local_value(git_oid *out, int *has, git_repository *repo, const char *name)
{
	git_reference *ref = NULL;
	int r = git_reference_lookup(&ref, repo, name);

	*has = 0;
	if (r == GIT_ENOTFOUND)
		return SG_OK;
	if (r < 0)
		return sg_git_fail(SG_ERROR, name);
	if (git_reference_type(ref) != GIT_REFERENCE_DIRECT) {
		git_reference_free(ref);
		return sg_error_set(SG_ERROR, "%s is a symbolic reference; point it at a notes commit", name);
	}
	git_oid_cpy(out, git_reference_target(ref));
	git_reference_free(ref);
	*has = 1;
	return SG_OK;
}

/* Move the local ref from `old` (NULL: absent) to `new` under its lock.
 * SG_ERETRY when it moved meanwhile (a local `sign`). */
static int local_cas(git_repository *repo, const char *name, const git_oid *old, const git_oid *new,
		     const char *logmsg)
{
	git_reference *ref = NULL;
	git_oid zero;
	int r;

	memset(&zero, 0, sizeof(zero));
	r = git_reference_create_matching(&ref, repo, name, new, 1, old ? old : &zero, logmsg);
	git_reference_free(ref);
	if (r == GIT_EMODIFIED || r == GIT_ELOCKED || r == GIT_EEXISTS || r == GIT_ENOTFOUND)
		return sg_error_set(SG_ERETRY, "%s moved while syncing", name);
	return r < 0 ? sg_git_fail(SG_ERROR, name) : SG_OK;
}

/* Decide, for one ref, what to push; merge when both sides have news. */
static int reconcile(sync_ref *sr, sg_sync_result *res, git_repository *repo, const char *display)
{
	git_oid local, base, merged;
	int has_local, r, ret;
	size_t nmerged = 0;
	char msg[512];

	sr->push = 0;
	sr->done = 0;
	if ((ret = local_value(&local, &has_local, repo, sr->name)) < 0)
		return ret;
	if (!sr->has_remote) {
		if (has_local) {
			sr->push = 1;
			git_oid_cpy(&sr->out, &local);
		}
		return SG_OK;
	}
	if (!has_local) /* take the remote's history as it is */
		return local_cas(repo, sr->name, NULL, &sr->remote, "signgate sync: fast-forward");
	if (git_oid_equal(&local, &sr->remote))
		return SG_OK;
	r = git_merge_base(&base, repo, &local, &sr->remote);
	if (r < 0 && r != GIT_ENOTFOUND)
		return sg_git_fail(SG_ERROR, "cannot compare the local and remote notes histories");
	if (r == 0 && git_oid_equal(&base, &sr->remote)) { /* ours is ahead */
		sr->push = 1;
		git_oid_cpy(&sr->out, &local);
		return SG_OK;
	}
	if (r == 0 && git_oid_equal(&base, &local)) /* theirs is ahead */
		return local_cas(repo, sr->name, &local, &sr->remote, "signgate sync: fast-forward");
	snprintf(msg, sizeof(msg), "signgate sync: merge %s from %s\n", sr->name, display);
	if ((ret = sg_notes_merge_commits(&merged, &nmerged, repo, &local, &sr->remote, msg)) < 0)
		return ret;
	if ((ret = local_cas(repo, sr->name, &local, &merged, "signgate sync: merge")) < 0)
		return ret;
	res->merges++;
	res->notes_merged += nmerged;
	sr->push = 1;
	git_oid_cpy(&sr->out, &merged);
	return SG_OK;
}

/* --- push through git ------------------------------------------------------ */

/* Run argv, collecting stdout and stderr (each capped). Returns the exit
 * status (>= 0) or < 0 with the error set. */
static int run_git(sg_buf *out, sg_buf *err, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status = 0, ret = SG_ERROR, open_fds = 2;
	pid_t pid = -1;
	struct timespec t0, t1;
	char chunk[4096];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot run git push: %s", strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pe[1], STDERR_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	errno = posix_spawnp(&pid, "git", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (errno) {
		pid = -1;
		ret = sg_error_set(SG_ERROR, "cannot run git push: %s; install git", strerror(errno));
		goto done;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	while (open_fds) {
		struct pollfd pf[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
		long elapsed;
		int k;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		elapsed = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
		if (elapsed >= SG_SYNC_PUSH_TIMEOUT_MS) {
			kill(pid, SIGKILL);
			ret = sg_error_set(SG_ERROR, "git push did not finish within %d s; killed it",
					   SG_SYNC_PUSH_TIMEOUT_MS / 1000);
			goto reap;
		}
		if (poll(pf, 2, (int)(SG_SYNC_PUSH_TIMEOUT_MS - elapsed)) < 0) {
			if (errno == EINTR)
				continue;
			kill(pid, SIGKILL);
			ret = sg_error_set(SG_ERROR, "cannot read from git push: %s", strerror(errno));
			goto reap;
		}
		for (k = 0; k < 2; k++) {
			ssize_t got;
			sg_buf *b = k ? err : out;
			int *fd = k ? &pe[0] : &po[0];

			if (*fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(*fd, chunk, sizeof(chunk));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(*fd);
				*fd = -1;
				pf[k].fd = -1;
				open_fds--;
				continue;
			}
			if (b->size + (size_t)got <= SG_SYNC_PUSH_OUTPUT)
				sg_buf_put(b, chunk, (size_t)got);
		}
		if (po[0] < 0)
			pf[0].fd = -1;
		if (pe[0] < 0)
			pf[1].fd = -1;
	}
	ret = SG_OK;
reap:
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (ret == SG_OK)
		ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
done:
	if (po[0] >= 0)
		close(po[0]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (pe[1] >= 0)
		close(pe[1]);
	return ret;
}

/* The last non-empty line of git's stderr, for messages. */
static void last_line(char *dst, size_t cap, const sg_buf *b)
{
	size_t end = b->size, start;

	while (end && (b->ptr[end - 1] == '\n' || b->ptr[end - 1] == '\r'))
		end--;
	start = end;
	while (start && b->ptr[start - 1] != '\n')
		start--;
	snprintf(dst, cap, "%.*s", (int)(end - start), b->ptr ? b->ptr + start : "");
}

/* Push every ref with push set, in one git push. SG_ERETRY when a ref was
 * rejected because the remote moved (fetch again); SG_ERROR otherwise. */
static int push(git_repository *repo, const char *remote, sync_ref *refs, size_t n, size_t *pushed)
{
	char *argv[8 + 64];
	char *specs[64];
	sg_buf out = SG_BUF_INIT, err = SG_BUF_INIT;
	char gitdir_opt[4200], line_msg[512];
	size_t i, nspecs = 0, argc = 0, moved = 0, failed = 0, okc = 0;
	char *p, *eol;
	int status, ret;

	memset(specs, 0, sizeof(specs));
	snprintf(gitdir_opt, sizeof(gitdir_opt), "--git-dir=%s", git_repository_path(repo));
	argv[argc++] = "git";
	argv[argc++] = gitdir_opt;
	argv[argc++] = "push";
	argv[argc++] = "--porcelain";
	argv[argc++] = "--no-verify";
	argv[argc++] = "--";
	argv[argc++] = (char *)remote;
	for (i = 0; i < n && nspecs < 64; i++) {
		char hex[GIT_OID_HEXSZ + 1];

		if (!refs[i].push)
			continue;
		git_oid_tostr(hex, sizeof(hex), &refs[i].out);
		if (asprintf(&specs[nspecs], "%s:%s", hex, refs[i].name) < 0) {
			ret = sg_error_set(SG_ERROR, "out of memory");
			goto done;
		}
		argv[argc++] = specs[nspecs++];
	}
	argv[argc] = NULL;
	if (!nspecs) {
		ret = SG_OK;
		goto done;
	}
	if ((status = run_git(&out, &err, argv)) < 0) {
		ret = status;
		goto done;
	}
	/* --porcelain: "<flag>\t<from>:<to>\t<summary> (<reason>)" per ref */
	for (p = out.ptr; p && *p; p = eol ? eol + 1 : NULL) {
		char *to, *summary;
		size_t k;

		eol = strchr(p, '\n');
		if (eol)
			*eol = '\0';
		if (!p[0] || p[1] != '\t' || !(to = strchr(p + 2, ':')) || !(summary = strchr(to, '\t')))
			continue;
		*summary++ = '\0';
		to++;
		for (k = 0; k < n && !(refs[k].push && strcmp(refs[k].name, to) == 0); k++)
			;
		if (k == n)
			continue;
		if (strchr(" +*=", p[0])) {
			refs[k].done = 1;
			okc++;
		} else if (strncmp(summary, "[rejected]", 10) == 0 ||
			   (strncmp(summary, "[remote rejected]", 17) == 0 &&
			    (strstr(summary, "lock") || strstr(summary, "failed to update ref") ||
			     strstr(summary, "old value")))) {
			moved++;
		} else {
			failed++;
			snprintf(line_msg, sizeof(line_msg), "%s: %s", to, summary);
		}
	}
	*pushed += okc;
	if (failed) {
		ret = sg_error_set(SG_ERROR, "git push to %s refused %s; the notes are merged locally, "
				   "push them again with signgate sync %s", remote, line_msg, remote);
		goto done;
	}
	if (moved) {
		ret = sg_error_set(SG_ERETRY, "%s moved while pushing", remote);
		goto done;
	}
	if (status != 0 || okc != nspecs) {
		last_line(line_msg, sizeof(line_msg), &err);
		ret = sg_error_set(SG_ERROR, "git push to %s failed (exit %d): %s", remote, status,
				   line_msg[0] ? line_msg : "no message");
		goto done;
	}
	ret = SG_OK;
done:
	for (i = 0; i < nspecs; i++)
		free(specs[i]);
	sg_buf_dispose(&out);
	sg_buf_dispose(&err);
	return ret;
}

static void jitter_sleep(int attempt)
{
	unsigned int r = 0;
	long cap_ms = 50L << (attempt < 5 ? attempt : 5); /* 50 ms .. 1.6 s */
	struct timespec ts;
	long ms;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned int)getpid() ^ (unsigned int)clock();
	ms = 10 + (long)(r % (unsigned int)cap_ms);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* After a push the tracking ref is what the remote now holds. */
static void note_pushed(git_repository *repo, const sync_ref *sr)
{
	git_reference *ref = NULL;

	if (git_reference_create(&ref, repo, sr->tracking, &sr->out, 1, "signgate sync: push") == 0)
		git_reference_free(ref);
}

int sg_notes_sync(sg_sync_result *res, git_repository *repo, const char *remote,
		  const sg_strlist *notes_refs)
{
	git_remote *rem = NULL;
	sync_ref *refs = NULL;
	char *ns = NULL;
	size_t i, n = notes_refs->n;
	int named, attempt, ret, valid = 0;

	memset(res, 0, sizeof(*res));
	if (!remote || !*remote || remote[0] == '-')
		return sg_error_set(SG_EUSAGE, "'%s' is not a remote", remote ? remote : "");
	if (n == 0 || n > 64)
		return sg_error_set(SG_EUSAGE, "between 1 and 64 notes refs can be synced at once");
	for (i = 0; i < n; i++)
		if ((ret = sg_notes_ref_check(notes_refs->v[i])) < 0)
			return ret;
	if ((ret = open_remote(&rem, &named, repo, remote)) < 0 ||
	    (ret = remote_namespace(&ns, remote, named)) < 0)
		goto done;
	if (!(refs = calloc(n, sizeof(*refs)))) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		refs[i].name = notes_refs->v[i];
		if (asprintf(&refs[i].tracking, SG_SYNC_NS "%s/%s", ns, notes_refs->v[i] + strlen("refs/")) < 0) {
			refs[i].tracking = NULL;
			ret = sg_error_set(SG_ERROR, "out of memory");
			goto done;
		}
		if (git_reference_name_is_valid(&valid, refs[i].tracking) < 0 || !valid) {
			ret = sg_error_set(SG_EUSAGE, "remote name '%s' cannot name a ref (%s); "
					   "configure it with git remote add NAME URL", remote, refs[i].tracking);
			goto done;
		}
	}
	for (attempt = 0; attempt < SG_SYNC_ATTEMPTS; attempt++) {
		if (attempt)
			jitter_sleep(attempt);
		res->attempts = (size_t)attempt + 1;
		if ((ret = fetch(rem, repo, remote, refs, n)) < 0)
			goto done;
		for (i = 0; i < n; i++)
			if ((ret = reconcile(&refs[i], res, repo, remote)) < 0)
				break;
		if (ret == SG_ERETRY)
			continue;
		if (ret < 0)
			goto done;
		ret = push(repo, remote, refs, n, &res->pushed);
		for (i = 0; i < n; i++)
			if (refs[i].push && refs[i].done)
				note_pushed(repo, &refs[i]);
		if (ret != SG_ERETRY)
			goto done;
	}
	ret = sg_error_set(SG_ERROR, "%s kept moving: gave up after %d rounds of fetch, merge and push; "
			   "every event is kept locally, run signgate sync %s again", remote, SG_SYNC_ATTEMPTS, remote);
done:
	for (i = 0; refs && i < n; i++)
		free(refs[i].tracking);
	free(refs);
	free(ns);
	git_remote_free(rem);
	return ret;
}
