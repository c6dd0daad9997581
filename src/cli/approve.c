/* signgate approve [--key FPR] [REV]: a reviewer records an OpenPGP-signed
 * approval of REV in refs/notes/signgate-approvals (docs/reviews.md). */
#include "cli/cli.h"
#include "core/error.h"
#include "gate/gate.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] = "signgate approve [--key FPR] [--] [REV]";

int sg_cmd_approve(sg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	git_repository *repo = NULL;
	const char *key = NULL, *rev = "HEAD";
	char *done = NULL;
	int c, err, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'h': printf("usage: %s\n", usage_text); return 0;
		default:
			sg_error_set(SG_EUSAGE, "unknown option '%s'", argv[optind - 1]);
			return sg_cli_usage(usage_text);
		}
	}
	if (sg_cli_rev_operand(&rev, argc, argv, "approve") < 0)
		return sg_cli_usage(usage_text);
	if ((err = sg_cli_open_repo(&repo, cli)) < 0)
		return sg_cli_fail(err);
	err = sg_gate_approve(&done, repo, rev, key);
	if (err == SG_EUSAGE)
		rc = sg_cli_usage(usage_text);
	else if (err < 0)
		rc = sg_cli_fail(err);
	else {
		sg_cli_info(cli, "signgate: %s\n", done);
		rc = 0;
	}
	free(done);
	git_repository_free(repo);
	return rc;
}
