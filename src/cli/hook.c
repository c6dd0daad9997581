/* signgate hook reference-transaction STATE | signgate hook pre-receive:
 * what the scripts in hooks/ run (stdin: "<old> <new> <ref>" lines). */
#include "cli/cli.h"
#include "core/error.h"
#include "core/git.h"
#include "hooks/hooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] = "signgate hook reference-transaction STATE | signgate hook pre-receive";

#define HOOK_STDIN_MAX (16u * 1024 * 1024)

static int read_updates(sg_ref_updates *u, const char *prefix_a, const char *prefix_b, int *relevant)
{
	sg_buf in = SG_BUF_INIT;
	size_t i;
	int err;

	*relevant = 0;
	if ((err = sg_read_fd(&in, STDIN_FILENO, HOOK_STDIN_MAX, "the ref updates on stdin")) < 0)
		return err;
	err = sg_ref_updates_parse(u, in.ptr, in.size);
	sg_buf_dispose(&in);
	for (i = 0; err == SG_OK && i < u->n; i++)
		if (!strncmp(u->v[i].ref, prefix_a, strlen(prefix_a)) ||
		    (prefix_b && !strncmp(u->v[i].ref, prefix_b, strlen(prefix_b))))
			*relevant = 1;
	return err;
}

static int open_repo_env(git_repository **repo, const sg_cli *cli)
{
	if (cli->dir)
		return sg_cli_open_repo(repo, cli);
	/* git runs hooks with its own GIT_DIR (and, in pre-receive, the
	 * quarantine's object directories) in the environment */
	if (git_repository_open_ext(repo, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL) < 0) {
		return sg_error_set(SG_ERROR, "not a git repository (%s)", sg_git_errmsg());
	}
	return SG_OK;
}

static void print_list(const char *prefix, const sg_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		fprintf(stderr, "signgate: %s%s\n", prefix, l->v[i]);
}

static int reference_transaction(sg_cli *cli, const char *state)
{
	sg_ref_updates u = { 0 };
	sg_reftx_report rep;
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	const char *pidenv = getenv("SIGNGATE_GIT_PID");
	char *cmd = NULL;
	int err, relevant, committed = !strcmp(state, "committed");

	memset(&rep, 0, sizeof(rep));
	if (strcmp(state, "prepared") != 0 && !committed)
		return 0; /* aborted: nothing was written */
	if ((err = read_updates(&u, "refs/tags/", NULL, &relevant)) < 0 || !relevant)
		goto done;
	/* Tags that arrive from elsewhere (fetch, clone) are not ours to judge or sign. */
	cmd = sg_git_command_of(pidenv ? atol(pidenv) : (long)getppid());
	if (sg_git_command_is_transfer(cmd)) {
		sg_cli_verbose(cli, "signgate: tags from `git %s` are left alone\n", cmd);
		goto done;
	}
	if ((err = open_repo_env(&repo, cli)) < 0 || (err = sg_cli_load_policy(&pol, repo, cli)) < 0)
		goto done;
	if (committed)
		err = sg_reftx_committed(&rep, repo, pol, &u, cli->profile);
	else
		err = sg_reftx_prepared(&rep, repo, pol, &u);
	if (cli->verbosity >= 0)
		print_list("", &rep.lines);
	print_list("denied: ", &rep.denials);
done:
	if (err < 0 && committed) {
		fprintf(stderr, "signgate: ERROR: the tag was created, but its release artifacts were NOT "
			"signed:\nsigngate:   %s\nsigngate: the failure is in the audit log; fix it, then sign by "
			"hand: signgate sign --tag TAG FILE...\n", sg_error_last() ? sg_error_last() : "failed");
		err = sg_error_exit_code(err);
	} else if (err < 0) {
		if (!rep.denials.n)
			sg_cli_fail(err);
		fprintf(stderr, "signgate: the tag was not created\n");
		err = sg_error_exit_code(err);
	}
	free(cmd);
	sg_reftx_report_release(&rep);
	sg_ref_updates_release(&u);
	sg_policy_free(pol);
	git_repository_free(repo);
	return err;
}

static int pre_receive(sg_cli *cli)
{
	sg_ref_updates u = { 0 };
	sg_strlist denials = SG_STRLIST_INIT, accepted = SG_STRLIST_INIT;
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	int err, relevant;

	if ((err = read_updates(&u, "refs/tags/", "refs/notes/", &relevant)) < 0 || !relevant)
		goto done;
	if ((err = open_repo_env(&repo, cli)) < 0 || (err = sg_prereceive_quarantine(repo)) < 0)
		goto done;
	if ((err = sg_policy_load(&pol, repo, cli->policy_file)) == SG_ENOTFOUND) {
		/* the pusher cannot pass --policy: say what the server's administrator sets */
		err = sg_error_set(SG_ERROR, "this server has no signgate policy (no .signgate on the "
				   "branch it reads, no signgate.policyFile), so release tags and signing notes "
				   "cannot be judged; the administrator of %s sets one there: git config "
				   "signgate.policyFile /path/to/policy, or a .signgate committed on the "
				   "protected branch (pushed before any release tag)", git_repository_path(repo));
		goto done;
	}
	if (err < 0)
		goto done;
	err = sg_prereceive_check(&denials, &accepted, repo, pol, &u);
	if (cli->verbosity >= 0)
		print_list("accepted: ", &accepted);
	print_list("rejected: ", &denials);
done:
	if (err < 0) {
		if (!denials.n)
			sg_cli_fail(err);
		fprintf(stderr, "signgate: the push was refused\n");
		err = sg_error_exit_code(err);
	}
	sg_strlist_release(&denials);
	sg_strlist_release(&accepted);
	sg_ref_updates_release(&u);
	sg_policy_free(pol);
	git_repository_free(repo);
	return err;
}

int sg_cmd_hook(sg_cli *cli, int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "reference-transaction"))
		return reference_transaction(cli, argv[2]);
	if (argc == 2 && !strcmp(argv[1], "pre-receive"))
		return pre_receive(cli);
	sg_error_set(SG_EUSAGE, "unknown hook invocation");
	return sg_cli_usage(usage_text);
}
