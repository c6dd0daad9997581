/* The hook scripts (the same text as hooks/ in the source tree; a test
 * compares them) and their installation. The scripts are tiny: they skip
 * what is not theirs in sh and hand the rest to `signgate hook NAME`. */
#include "hooks/hooks.h"
#include "core/error.h"
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char reference_transaction[] =
	"#!/bin/sh\n"
	"# signgate-hook reference-transaction (written by `signgate install-hooks`)\n"
	"# A release tag (release.tagPattern) is gated before git writes it and its\n"
	"# release artifacts are signed once it exists. Every other ref update leaves\n"
	"# here at once, without running signgate. The program: git config\n"
	"# signgate.program, else `signgate` on PATH.\n"
	"[ -n \"${SIGNGATE_HOOK_ACTIVE:-}\" ] && exit 0\n"
	"case \"$1\" in prepared|committed) ;; *) exit 0 ;; esac\n"
	"tags=\n"
	"while read -r old new ref; do\n"
	"\tcase \"$ref\" in refs/tags/?*) tags=\"$tags$old $new $ref\n"
	"\" ;; esac\n"
	"done\n"
	"[ -n \"$tags\" ] || exit 0\n"
	"prog=$(git config --get signgate.program) || prog=signgate\n"
	"printf '%s' \"$tags\" | SIGNGATE_HOOK_ACTIVE=1 SIGNGATE_GIT_PID=$PPID \"$prog\" hook reference-transaction \"$1\"\n";

static const char pre_receive[] =
	"#!/bin/sh\n"
	"# signgate-hook pre-receive (written by `signgate install-hooks`)\n"
	"# A pushed release tag needs a reviewed commit and (release.requireNote) a\n"
	"# signing event; the notes refs only grow. The program: git config\n"
	"# signgate.program, else `signgate` on PATH.\n"
	"[ -n \"${SIGNGATE_HOOK_ACTIVE:-}\" ] && exit 0\n"
	"prog=$(git config --get signgate.program) || prog=signgate\n"
	"SIGNGATE_HOOK_ACTIVE=1 exec \"$prog\" hook pre-receive\n";

const char *sg_hook_script(const char *name)
{
	if (!strcmp(name, "reference-transaction"))
		return reference_transaction;
	if (!strcmp(name, "pre-receive"))
		return pre_receive;
	return NULL;
}

int sg_hooks_dir(char **out, git_repository *repo)
{
	git_config *cfg = NULL, *snap = NULL;
	git_buf hp = { 0 };
	const char *base;
	char *dir = NULL;
	int n, ret = SG_ERROR;

	if (git_repository_config(&cfg, repo) == 0 && git_config_snapshot(&snap, cfg) == 0 &&
	    git_config_get_path(&hp, snap, "core.hooksPath") == 0 && hp.ptr[0]) {
		/* relative: from where hooks run (the work tree top, or $GIT_DIR when bare) */
		base = git_repository_workdir(repo) ? git_repository_workdir(repo) : git_repository_path(repo);
		n = hp.ptr[0] == '/' ? asprintf(&dir, "%s", hp.ptr) : asprintf(&dir, "%s%s", base, hp.ptr);
	} else {
		n = asprintf(&dir, "%shooks", git_repository_path(repo));
	}
	git_error_clear();
	if (n < 0) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	*out = dir;
	ret = SG_OK;
done:
	git_buf_dispose(&hp);
	git_config_free(snap);
	git_config_free(cfg);
	return ret;
}

int sg_hook_install(const char *dir, const char *name, int force)
{
	const char *text = sg_hook_script(name);
	char path[4096];
	sg_buf old = SG_BUF_INIT;
	struct stat st;
	int err;

	if (!text)
		return sg_error_set(SG_EUSAGE, "no hook named %s (reference-transaction, pre-receive)", name);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return sg_error_set(SG_ERROR, "cannot create %s: %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st) == 0 && !force) {
		err = S_ISREG(st.st_mode) ? sg_file_read_all(&old, path, 1 << 20) : SG_ERROR;
		sg_error_clear();
		if (err < 0 || !strstr(old.ptr ? old.ptr : "", SG_HOOK_MARKER)) {
			sg_buf_dispose(&old);
			return sg_error_set(SG_EDENIED, "%s exists and was not written by signgate; merge it "
					    "by hand or replace it with --force", path);
		}
	}
	sg_buf_dispose(&old);
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && unlink(path) < 0)
		return sg_error_set(SG_ERROR, "cannot replace %s: %s", path, strerror(errno));
	if ((err = sg_file_write_atomic(path, text, strlen(text), 0755)) < 0)
		return err;
	/* the umask may have narrowed the mode */
	if (chmod(path, 0755) < 0)
		return sg_error_set(SG_ERROR, "chmod 755 %s: %s", path, strerror(errno));
	return SG_OK;
}
