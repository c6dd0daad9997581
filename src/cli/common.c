#include "cli/cli.h"
#include "core/error.h"
#include "core/git.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int sg_cli_open_repo(git_repository **out, const sg_cli *cli)
{
	const char *start = cli->dir ? cli->dir : ".";
	int gerr;

	gerr = git_repository_open_ext(out, start, cli->dir ? GIT_REPOSITORY_OPEN_NO_SEARCH : 0, NULL);
	if (gerr < 0) {
		return sg_error_set(SG_ERROR, "not a git repository: %s (%s); run signgate inside a "
				    "git work tree or pass -C DIR", start, sg_git_errmsg());
	}
	return SG_OK;
}

int sg_cli_load_policy(sg_policy **out, git_repository *repo, const sg_cli *cli)
{
	int err = sg_policy_load(out, repo, cli->policy_file);

	/* A policy that cannot be read is an error (exit 1), not a decision:
	 * nothing is signed without one, and the message names the fix. */
	if (err < 0 && !sg_error_last())
		sg_error_set(SG_ERROR, "no policy");
	return err == SG_ENOTFOUND ? SG_ERROR : err;
}

int sg_cli_fail(int code)
{
	const char *msg = sg_error_last();
	const char *kind = "error: ";

	if (code == SG_EDENIED)
		kind = "denied: ";
	else if (code == SG_ESCAN)
		kind = "scan: ";
	else if (code == SG_EVERIFY)
		kind = "verification failed: ";
	fflush(stdout); /* after the output it follows, in a pipe too (2>&1) */
	fprintf(stderr, "signgate: %s%s\n", kind, msg ? msg : "unknown error");
	return sg_error_exit_code(code);
}

int sg_cli_rev_operand(const char **rev, int argc, char **argv, const char *cmd)
{
	if (argc - optind > 1)
		return sg_error_set(SG_EUSAGE, "%s takes one revision, got %d", cmd, argc - optind);
	if (optind < argc)
		*rev = argv[optind];
	return SG_OK;
}

int sg_cli_usage(const char *usage)
{
	const char *msg = sg_error_last();

	fflush(stdout);
	if (msg)
		fprintf(stderr, "signgate: %s\n", msg);
	fprintf(stderr, "usage: %s\n", usage);
	return 2;
}

void sg_cli_json_out(json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);

	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	json_decref(doc);
}

int sg_cli_color(void)
{
	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
}

/* A message on stderr when -q/-v put the verbosity at `level` or above. */
static void say(const sg_cli *cli, int level, const char *fmt, va_list ap)
{
	if (cli->verbosity >= level) {
		fflush(stdout);
		vfprintf(stderr, fmt, ap);
	}
}

void sg_cli_info(const sg_cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(cli, 0, fmt, ap);
	va_end(ap);
}

void sg_cli_verbose(const sg_cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(cli, 1, fmt, ap);
	va_end(ap);
}
