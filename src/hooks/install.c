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
	"# signgate.program, else `signgate` on PATH. When neither runs (a GUI client,\n"
	"# cron, another shell), fetched tags and other tags pass, and a release tag\n"
	"# is refused with the setting to fix.\n"
	"[ -n \"${SIGNGATE_HOOK_ACTIVE:-}\" ] && exit 0\n"
	"case \"$1\" in prepared|committed) ;; *) exit 0 ;; esac\n"
	"tags=\n"
	"while read -r old new ref; do\n"
	"\tcase \"$ref\" in refs/tags/?*) tags=\"$tags$old $new $ref\n"
	"\" ;; esac\n"
	"done\n"
	"[ -n \"$tags\" ] || exit 0\n"
	"prog=$(git config --get signgate.program) || prog=signgate\n"
	"if ! command -v \"$prog\" >/dev/null 2>&1; then\n"
	"\t[ \"$1\" = prepared ] || exit 0\n"
	"\t# the git command that runs this hook: what fetch, pull or clone brings is not ours\n"
	"\tcmd=$(tr '\\0' '\\n' <\"/proc/$PPID/cmdline\" 2>/dev/null | awk 'NR == 1 { n = split($0, p, \"/\");\n"
	"\t\tif (p[n] ~ /^git-./) { print substr(p[n], 5); exit } next } skip { skip = 0; next }\n"
	"\t\t/^(-C|-c|--git-dir|--work-tree|--namespace)$/ { skip = 1; next } /^-/ { next } { print; exit }')\n"
	"\tcase \"$cmd\" in fetch|pull|clone|remote|fetch-pack|remote-*|bundle|submodule) exit 0 ;; esac\n"
	"\t# release.tagPattern of the policy signgate would read; unreadable: every tag\n"
	"\trc=2\n"
	"\tif f=$(git config --get signgate.policyFile); then\n"
	"\t\tpat=$(git config --file \"$f\" --get release.tagPattern 2>/dev/null); rc=$?\n"
	"\telse\n"
	"\t\trefs=$(git config --get signgate.policyRef) ||\n"
	"\t\t\trefs=\"refs/remotes/origin/HEAD refs/heads/main refs/heads/master\"\n"
	"\t\tfor r in $refs; do\n"
	"\t\t\tgit rev-parse -q --verify \"$r^{commit}\" >/dev/null || continue\n"
	"\t\t\tpat=$(git config --blob \"$r:.signgate\" --get release.tagPattern 2>/dev/null); rc=$?\n"
	"\t\t\tbreak\n"
	"\t\tdone\n"
	"\tfi\n"
	"\t[ \"$rc\" -eq 0 ] || { [ \"$rc\" -eq 1 ] && pat='v*'; } || pat='*'\n"
	"\tprintf '%s' \"$tags\" | while read -r old new ref; do\n"
	"\t\tcase \"$new\" in *[!0]*) ;; *) continue ;; esac\n"
	"\t\t# shellcheck disable=SC2254\n"
	"\t\tcase \"${ref#refs/tags/}\" in $pat) echo \"${ref#refs/tags/}\" ;; esac\n"
	"\tdone | {\n"
	"\t\tread -r tag || exit 0\n"
	"\t\techo \"signgate: error: cannot run '$prog' from this git (not on its PATH: a GUI client,\" \\\n"
	"\t\t\t\"cron or another shell), so release tag $tag cannot be gated and was not created;\" \\\n"
	"\t\t\t\"tell git where signgate is: git config signgate.program /path/to/signgate\" >&2\n"
	"\t\texit 1\n"
	"\t}\n"
	"\texit\n"
	"fi\n"
	"printf '%s' \"$tags\" | SIGNGATE_HOOK_ACTIVE=1 SIGNGATE_GIT_PID=$PPID \"$prog\" hook reference-transaction \"$1\"\n";

static const char pre_receive[] =
	"#!/bin/sh\n"
	"# signgate-hook pre-receive (written by `signgate install-hooks`)\n"
	"# A pushed release tag needs a reviewed commit and (release.requireNote) a\n"
	"# signing event; the notes refs only grow. The program: git config\n"
	"# signgate.program, else `signgate` on PATH. When neither runs, branches and\n"
	"# other tags are accepted, and release tags and notes are refused with the\n"
	"# setting to fix.\n"
	"[ -n \"${SIGNGATE_HOOK_ACTIVE:-}\" ] && exit 0\n"
	"prog=$(git config --get signgate.program) || prog=signgate\n"
	"command -v \"$prog\" >/dev/null 2>&1 && SIGNGATE_HOOK_ACTIVE=1 exec \"$prog\" hook pre-receive\n"
	"# release.tagPattern of the policy signgate would read; unreadable: every tag\n"
	"rc=2\n"
	"if f=$(git config --get signgate.policyFile); then\n"
	"\tpat=$(git config --file \"$f\" --get release.tagPattern 2>/dev/null); rc=$?\n"
	"else\n"
	"\trefs=$(git config --get signgate.policyRef) || refs=\"refs/heads/main refs/heads/master\"\n"
	"\tfor r in $refs; do\n"
	"\t\tgit rev-parse -q --verify \"$r^{commit}\" >/dev/null || continue\n"
	"\t\tpat=$(git config --blob \"$r:.signgate\" --get release.tagPattern 2>/dev/null); rc=$?\n"
	"\t\tbreak\n"
	"\tdone\n"
	"fi\n"
	"[ \"$rc\" -eq 0 ] || { [ \"$rc\" -eq 1 ] && pat='v*'; } || pat='*'\n"
	"bad=\n"
	"while read -r old new ref; do\n"
	"\tcase \"$ref\" in\n"
	"\trefs/notes/*) bad=\"$bad ${ref}\" ;;\n"
	"\t# shellcheck disable=SC2254\n"
	"\trefs/tags/*) case \"${ref#refs/tags/}\" in $pat) bad=\"$bad ${ref#refs/tags/}\" ;; esac ;;\n"
	"\tesac\n"
	"done\n"
	"[ -z \"$bad\" ] && exit 0\n"
	"echo \"signgate: error: this server cannot run '$prog' (not on the PATH of its git), so$bad\" \\\n"
	"\t\"cannot be checked and the push was refused; the administrator sets it on the server:\" \\\n"
	"\t\"git config signgate.program /path/to/signgate\" >&2\n"
	"exit 1\n";

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
			return sg_error_set(SG_ERROR, "%s exists and was not written by signgate; merge "
					    "it by hand (signgate-install-hooks(1) shows how) or replace it with "
					    "`signgate install-hooks --force`", path);
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
