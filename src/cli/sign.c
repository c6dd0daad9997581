/* signgate sign [--rev REV] [--tag TAG] [--out DIR] FILE... */
#include "cli/cli.h"
#include "core/error.h"
#include "pipeline/pipeline.h"

#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

static const char usage_text[] = "signgate sign [--rev REV] [--tag TAG] [--out DIR] FILE...";

static int parse(sg_sign_request *req, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rev", required_argument, NULL, 'r' },
		{ "tag", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct stat st;
	int at, c;

	opterr = 0;
	/* at: the argument getopt reads next ("-x.txt" keeps optind on itself) */
	while ((at = optind, c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'r': req->rev = optarg; break;
		case 't': req->tag = optarg; break;
		case 'o': req->out_dir = optarg; break;
		default:
			return sg_error_set(SG_EUSAGE, "unknown option '%s'", argv[at]);
		}
	}
	if (optind >= argc)
		return sg_error_set(SG_EUSAGE, "nothing to sign: name at least one FILE");
	if (req->out_dir && (stat(req->out_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		return sg_error_set(SG_EUSAGE, "--out %s is not a directory", req->out_dir);
	req->files = argv + optind;
	req->nfiles = (size_t)(argc - optind);
	return SG_OK;
}

static void print_people(const sg_batch *b, const sg_cli *cli)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		printf("signed %s\n", b->items[i].artifact);
		printf("  signature  %s\n", b->items[i].sig_path);
		if (b->items[i].tsr_path)
			printf("  timestamp  %s\n", b->items[i].tsr_path);
		printf("  sha256     %s\n  profile    %s\n  time       %s\n",
		       b->items[i].sha256, b->items[i].profile, b->items[i].timestamp);
	}
	sg_cli_info(cli, "signgate: %zu artifact%s signed on %.12s; recorded in %s\n", b->n,
		    b->n == 1 ? "" : "s", b->gate.commit, b->notes_refs);
}

static void print_json(const sg_batch *b, const sg_policy *pol, const sg_sign_request *req)
{
	json_t *doc = json_object(), *arr = json_array();
	size_t i;

	for (i = 0; i < b->n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "artifact", json_string(b->items[i].artifact));
		json_object_set_new(o, "sha256", json_string(b->items[i].sha256));
		json_object_set_new(o, "signature", json_string(b->items[i].sig_path));
		json_object_set_new(o, "timestamp_file", b->items[i].tsr_path ?
				    json_string(b->items[i].tsr_path) : json_null());
		json_object_set_new(o, "profile", json_string(b->items[i].profile));
		json_object_set_new(o, "timestamp", json_string(b->items[i].timestamp));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "commit", json_string(b->gate.commit));
	json_object_set_new(doc, "tag", req->tag ? json_string(req->tag) : json_null());
	json_object_set_new(doc, "gate", json_string(b->gate.summary ? b->gate.summary : ""));
	json_object_set_new(doc, "policy", json_string(pol->origin));
	json_object_set_new(doc, "notes_refs", json_string(b->notes_refs));
	json_object_set_new(doc, "signed", arr);
	json_object_set_new(doc, "warnings", json_array());
	for (i = 0; i < b->warnings.n; i++)
		json_array_append_new(json_object_get(doc, "warnings"), json_string(b->warnings.v[i]));
	sg_cli_json_out(doc);
}

int sg_cmd_sign(sg_cli *cli, int argc, char **argv)
{
	sg_sign_request req = { 0 };
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	sg_batch batch = { 0 };
	int err;

	if ((err = parse(&req, argc, argv)) < 0)
		return sg_cli_usage(usage_text);
	req.profile = cli->profile;
	if ((err = sg_cli_open_repo(&repo, cli)) < 0 ||
	    (err = sg_cli_load_policy(&pol, repo, cli)) < 0)
		goto done;
	err = sg_pipeline_sign(&batch, repo, pol, &req);
	for (size_t i = 0; i < batch.warnings.n; i++)
		fprintf(stderr, "signgate: warning: %s\n", batch.warnings.v[i]);
	if (err == SG_OK) {
		if (cli->json)
			print_json(&batch, pol, &req);
		else if (cli->verbosity >= 0)
			print_people(&batch, cli);
	}
done:
	sg_batch_release(&batch);
	sg_policy_free(pol);
	git_repository_free(repo);
	return err == SG_OK ? 0 : err == SG_EUSAGE ? sg_cli_usage(usage_text) : sg_cli_fail(err);
}
