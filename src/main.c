/* signgate: the command table. */
#include "cli/cli.h"
#include "core/error.h"
#include "core/secret.h"
#include "core/suggest.h"

#include <getopt.h>
#include <signal.h>
#include <git2.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static const sg_command commands[] = {
	{ "check", sg_cmd_check, "signgate check [REV]", "" },
	{ "sign", sg_cmd_sign, "signgate sign [--rev REV] [--tag TAG] [--out DIR] FILE...", " --rev --tag --out " },
	{ "verify", sg_cmd_verify, "signgate verify [--rev REV] FILE...", " --rev " },
	{ "log", sg_cmd_log, "signgate log [REVRANGE] [--artifact SHA256] [--cert SHA256]", " --artifact --cert " },
	{ "revoke", sg_cmd_revoke, "signgate revoke --cert SHA256 --since TIME --reason TEXT",
	  " --cert --since --reason " },
	{ "sync", sg_cmd_sync, "signgate sync [REMOTE]", "" },
	{ "doctor", sg_cmd_doctor, "signgate doctor [--login] [--no-tsa]", "" },
	{ "install-hooks", sg_cmd_install_hooks, "signgate install-hooks [--force] [--client|--server|--all]", "" },
	{ "hook", sg_cmd_hook, "signgate hook reference-transaction STATE | signgate hook pre-receive", "" },
	{ "init", sg_cmd_init, "signgate init [--test]", "" },
	{ "approve", sg_cmd_approve, "signgate approve [--key FPR] [REV]", " --key " },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char global_usage[] =
	"signgate [-C DIR] [--policy FILE] [--profile NAME] [--json] [-q|-v] COMMAND [ARGS]";

static int usage(FILE *to, int code)
{
	size_t i;

	fprintf(to, "usage: %s\n\ncommands:\n", global_usage);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(to, "   %s\n", commands[i].usage);
	fprintf(to, "\n`signgate help COMMAND` or `signgate COMMAND --help` shows its manual page.\n");
	return code;
}

static const sg_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* "'chek' is not a signgate command", with git's "did you mean" */
static int unknown_command(const char *name)
{
	size_t i, n = 0;

	fprintf(stderr, "signgate: '%s' is not a signgate command; see 'signgate help'\n", name);
	for (i = 0; i < NCOMMANDS; i++)
		if (sg_suggestable(name, commands[i].name))
			fprintf(stderr, "%s\t%s\n", n++ ? "" : "\nThe most similar command is\n", commands[i].name);
	return 2;
}

/* signgate help [COMMAND | policy | notes] */
static int help(int argc, char **argv)
{
	static const char *const pages5[] = { "policy", "notes" };
	const sg_command *cmd;
	char page[64];
	size_t i;

	if (argc < 2)
		return sg_cli_help("signgate", 1, global_usage);
	for (i = 0; i < sizeof(pages5) / sizeof(pages5[0]); i++)
		if (strcmp(argv[1], pages5[i]) == 0) {
			snprintf(page, sizeof(page), "signgate-%s", pages5[i]);
			return sg_cli_help(page, 5, global_usage);
		}
	if (!(cmd = find_command(argv[1])))
		return unknown_command(argv[1]);
	snprintf(page, sizeof(page), "signgate-%s", cmd->name);
	return sg_cli_help(page, 1, cmd->usage);
}

/* Options of signgate itself may also follow the command, as in git
 * (`signgate log --json`): take them out of the command's arguments, up
 * to "--", skipping the values of the command's own options. -h/--help
 * anywhere there asks for the command's manual page (returns -1). */
static int global_after(sg_cli *cli, const sg_command *cmd, int *argc, char **argv)
{
	char probe[64];
	int i, j = 1, stop = 0;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;

		if (stop || !strcmp(a, "--")) {
			stop = 1;
			argv[j++] = argv[i];
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return -1;
		if (!strcmp(a, "--json"))
			cli->json = 1;
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			cli->verbosity = -1;
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			cli->verbosity = 1;
		else if (!strncmp(a, "--policy=", 9) || !strncmp(a, "--profile=", 10))
			v = strchr(a, '=') + 1;
		else if ((!strcmp(a, "--policy") || !strcmp(a, "--profile")) && i + 1 < *argc)
			v = argv[++i];
		else {
			snprintf(probe, sizeof(probe), " %s ", a);
			argv[j++] = argv[i];
			if (a[0] == '-' && strstr(cmd->valued, probe) && i + 1 < *argc)
				argv[j++] = argv[++i]; /* the option's value, whatever it looks like */
			continue;
		}
		if (v && !strncmp(a, "--policy", 8))
			cli->policy_file = v;
		else if (v)
			cli->profile = v;
	}
	argv[j] = NULL;
	*argc = j;
	return 0;
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
		case 'h': return sg_cli_help("signgate", 1, global_usage) - 100;
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
	int first, rc;

	/* Before anything can start a child: SIGNGATE_PIN leaves the
	 * environment (a failure is reported when a PIN is needed). */
	if (sg_secret_take_env() < 0)
		sg_error_clear();
	atexit(sg_secret_forget_env);
	if (sg_x509_mode(argc, argv)) /* git's signing program: DESIGN.md 1 */
		return sg_cmd_x509(argc, argv);
	first = parse_global(&cli, argc, argv);
	if (first < 0)
		return first == -2 ? usage(stderr, 2) : first + 100;
	if (first >= argc)
		return usage(stderr, 2);
	if (strcmp(argv[first], "help") == 0)
		return help(argc - first, argv + first);
	if (!(cmd = find_command(argv[first])))
		return unknown_command(argv[first]);
	argc -= first;
	argv += first;
	if (global_after(&cli, cmd, &argc, argv) < 0) {
		char page[64];

		snprintf(page, sizeof(page), "signgate-%s", cmd->name);
		return sg_cli_help(page, 1, cmd->usage);
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
	rc = cmd->run(&cli, argc, argv);
	git_libgit2_shutdown();
	return rc;
}
