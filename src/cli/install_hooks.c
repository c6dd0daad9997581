/* signgate install-hooks [--force] [--client|--server|--all] */
#include "cli/cli.h"
#include "core/error.h"
#include "hooks/hooks.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage_text[] = "signgate install-hooks [--force] [--client|--server|--all]";

int sg_cmd_install_hooks(sg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "client", no_argument, NULL, 'c' },
		{ "server", no_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	git_repository *repo = NULL;
	char *dir = NULL;
	int c, force = 0, client = 0, server = 0, err = SG_OK;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = 1; break;
		case 'c': client = 1; break;
		case 's': server = 1; break;
		case 'a': client = server = 1; break;
		default:
			sg_error_set(SG_EUSAGE, "unknown option '%s'", argv[optind - 1]);
			return sg_cli_usage(usage_text);
		}
	}
	if (optind < argc) {
		sg_error_set(SG_EUSAGE, "unexpected argument '%s'", argv[optind]);
		return sg_cli_usage(usage_text);
	}
	if ((err = sg_cli_open_repo(&repo, cli)) < 0 || (err = sg_hooks_dir(&dir, repo)) < 0)
		goto done;
	if (!client && !server) {
		/* a bare repository receives pushes; a work tree makes tags */
		server = git_repository_is_bare(repo);
		client = !server;
	}
	if (client && (err = sg_hook_install(dir, "reference-transaction", force)) == SG_OK)
		sg_cli_info(cli, "signgate: installed %s/reference-transaction\n", dir);
	if (err == SG_OK && server && (err = sg_hook_install(dir, "pre-receive", force)) == SG_OK)
		sg_cli_info(cli, "signgate: installed %s/pre-receive\n", dir);
done:
	free(dir);
	git_repository_free(repo);
	return err == SG_OK ? 0 : sg_cli_fail(err);
}
