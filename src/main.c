/* signgate: the command table. */
#include "cli/cli.h"
#include "core/error.h"

#include <getopt.h>
#include <signal.h>
#include <git2.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static const sg_command commands[] = {
	{ "check", sg_cmd_check, "signgate check [REV]" },
	{ "sign", sg_cmd_sign, "signgate sign [--rev REV] [--tag TAG] [--out DIR] FILE..." },
	{ "verify", sg_cmd_verify, "signgate verify [--rev REV] FILE..." },
	{ "log", sg_cmd_log, "signgate log [REVRANGE] [--artifact SHA256] [--cert SHA256]" },
	{ "revoke", sg_cmd_revoke, "signgate revoke --cert SHA256 --since TIME --reason TEXT" },
	{ "sync", sg_cmd_sync, "signgate sync [REMOTE]" },
	{ "doctor", sg_cmd_doctor, "signgate doctor [--login] [--no-tsa]" },
	{ "install-hooks", sg_cmd_install_hooks, "signgate install-hooks [--force] [--client|--server|--all]" },
	{ "hook", sg_cmd_hook, "signgate hook reference-transaction STATE | signgate hook pre-receive" },
	{ "init", sg_cmd_init, "signgate init [--test]" },
	{ "approve", sg_cmd_approve, "signgate approve [--key FPR] [REV]" },
};

static const char global_usage[] =
	"signgate [-C DIR] [--policy FILE] [--profile NAME] [--json] [-q|-v] COMMAND [ARGS]";

static int usage(FILE *to, int code)
{
	size_t i;

	fprintf(to, "usage: %s\n\ncommands:\n", global_usage);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(to, "   %s\n", commands[i].usage);
	return code;
}

static int parse_global(sg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'P' },
		{ "profile", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+C:qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'C': cli->dir = optarg; break;
		case 'P': cli->policy_file = optarg; break;
		case 'p': cli->profile = optarg; break;
		case 'j': cli->json = 1; break;
		case 'q': cli->verbosity = -1; break;
		case 'v': cli->verbosity = 1; break;
		case 'h': return usage(stdout, 0) - 100;
		case 'V': printf("signgate %s\n", SG_VERSION); return -100;
		default:
			fprintf(stderr, "signgate: unknown option '%s'\n", argv[optind - 1]);
			return -2;
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	sg_cli cli = { 0 };
	const sg_command *cmd = NULL;
	size_t i;
	int first, rc;

	if (sg_x509_mode(argc, argv)) /* git's signing program: DESIGN.md 1 */
		return sg_cmd_x509(argc, argv);
	first = parse_global(&cli, argc, argv);
	if (first < 0)
		return first == -2 ? usage(stderr, 2) : first + 100;
	if (first >= argc)
		return usage(stderr, 2);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[first]) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "signgate: '%s' is not a signgate command\n", argv[first]);
		return usage(stderr, 2);
	}
	/* -C DIR: as git does, run as if started in DIR (relative paths too). */
	if (cli.dir && chdir(cli.dir) != 0) {
		fprintf(stderr, "signgate: cannot change to %s: %s\n", cli.dir, strerror(errno));
		return 1;
	}
	cli.dir = NULL;
	/* A file size limit must fail a write cleanly (every write checks),
	 * not kill the process halfway: the policy blob's temp file comes
	 * before any signature. */
	signal(SIGXFSZ, SIG_IGN);
	git_libgit2_init();
	optind = 1;
	rc = cmd->run(&cli, argc - first, argv + first);
	git_libgit2_shutdown();
	return rc;
}
