/* signgate sync [REMOTE]: fetch, merge and push the notes refs. */
#include "cli/cli.h"
#include "core/error.h"
#include "notes/notes.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_text[] = "signgate sync [REMOTE]";

int sg_cmd_sync(sg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	sg_strlist refs = SG_STRLIST_INIT;
	sg_sync_result res;
	const char *remote = NULL;
	size_t i;
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		sg_error_set(SG_EUSAGE, "unknown option '%s'", argv[optind - 1]);
		return sg_cli_usage(usage_text);
	}
	if (argc - optind > 1) {
		sg_error_set(SG_EUSAGE, "one REMOTE at most");
		return sg_cli_usage(usage_text);
	}
	if (optind < argc)
		remote = argv[optind];
	if ((err = sg_cli_open_repo(&repo, cli)) < 0 || (err = sg_cli_load_policy(&pol, repo, cli)) < 0)
		goto done;
	if (!remote)
		remote = pol->notes_push ? pol->notes_push : "origin";
	if ((err = sg_notes_sync_refs(&refs, pol)) < 0)
		goto done;
	sg_cli_verbose(cli, "signgate: syncing %zu notes refs with %s\n", refs.n, remote);
	if ((err = sg_notes_sync(&res, repo, remote, &refs)) < 0)
		goto done;
	if (cli->json) {
		json_t *doc = json_object(), *arr = json_array();

		for (i = 0; i < refs.n; i++)
			json_array_append_new(arr, json_string(refs.v[i]));
		json_object_set_new(doc, "remote", json_string(remote));
		json_object_set_new(doc, "refs", arr);
		json_object_set_new(doc, "rounds", json_integer((json_int_t)res.attempts));
		json_object_set_new(doc, "merges", json_integer((json_int_t)res.merges));
		json_object_set_new(doc, "notes_merged", json_integer((json_int_t)res.notes_merged));
		sg_cli_json_out(doc);
	} else {
		sg_cli_info(cli, "signgate: notes synced with %s (%zu ref%s, %zu merge%s, %zu round%s)\n", remote,
			    refs.n, refs.n == 1 ? "" : "s", res.merges, res.merges == 1 ? "" : "s", res.attempts,
			    res.attempts == 1 ? "" : "s");
	}
done:
	sg_strlist_release(&refs);
	sg_policy_free(pol);
	git_repository_free(repo);
	return err == SG_OK ? 0 : err == SG_EUSAGE ? sg_cli_usage(usage_text) : sg_cli_fail(err);
}
