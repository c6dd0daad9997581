/* signgate verify [--rev REV] FILE... */
#include "cli/cli.h"
#include "core/error.h"
#include "core/json.h"
#include "verify/verify.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] = "signgate verify [--rev REV] FILE...";

static int parse(sg_verify_opts *o, int *first, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rev", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	int at, c;

	opterr = 0;
	/* at: the argument getopt reads next ("-x.txt" keeps optind on itself) */
	while ((at = optind, c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c != 'r')
			return sg_error_set(SG_EUSAGE, "unknown option '%s'", argv[at]);
		o->rev = optarg;
	}
	if (optind >= argc)
		return sg_error_set(SG_EUSAGE, "nothing to verify: name at least one FILE");
	*first = optind;
	return SG_OK;
}

static json_t *result_json(const sg_verify_result *r)
{
	json_t *o = json_object(), *signer = json_object(), *ev = json_null();

	json_object_set_new(o, "file", json_string(r->artifact));
	json_object_set_new(o, "artifact", json_string(r->display));
	json_object_set_new(o, "ok", json_boolean(r->ok));
	json_object_set_new(o, "reason", sg_json_nonempty_or_null(r->reason));
	json_object_set_new(o, "sha256", sg_json_nonempty_or_null(r->sha256));
	json_object_set_new(o, "signature", sg_json_nonempty_or_null(r->signature));
	json_object_set_new(o, "signature_sha256", sg_json_nonempty_or_null(r->sig_sha256));
	json_object_set_new(o, "format", sg_json_nonempty_or_null(r->format));
	json_object_set_new(o, "profile", sg_json_nonempty_or_null(r->profile));
	/* a test profile's signature says so plainly */
	json_object_set_new(o, "test", json_boolean(r->test));
	json_object_set_new(o, "kind", r->profile ? json_string(r->test ? "test" : "release") : json_null());
	if (r->signer_id[0]) {
		json_object_set_new(signer, strcmp(r->id_key, "Signer-Cert-Sha256") == 0 ?
				    "cert_sha256" : "key_fingerprint", json_string(r->signer_id));
		json_object_set_new(signer, "subject", sg_json_nonempty_or_null(r->signer_subject));
		json_object_set_new(o, "signer", signer);
	} else {
		json_decref(signer);
		json_object_set_new(o, "signer", json_null());
	}
	json_object_set_new(o, "timestamp", r->timestamped ? json_string(r->ts_text) : json_null());
	if (r->event_commit[0]) {
		ev = json_object();
		json_object_set_new(ev, "commit", json_string(r->event_commit));
		json_object_set_new(ev, "notes_ref", sg_json_nonempty_or_null(r->event_ref));
		json_object_set_new(ev, "signed_at", sg_json_nonempty_or_null(r->signed_at));
		json_object_set_new(ev, "signed_by", sg_json_nonempty_or_null(r->signed_by));
		json_object_set_new(ev, "tag", sg_json_nonempty_or_null(r->tag));
	}
	json_object_set_new(o, "event", ev);
	json_object_set_new(o, "warnings", sg_json_strlist(&r->warnings));
	return o;
}

static void print_people(const sg_verify_result *r, int color)
{
	const char *g = color ? "\033[32m" : "", *e = color ? "\033[m" : "";

	printf("%sverified%s %s%s\n", g, e, r->display,
	       r->test ? " -- a TEST signature, not a release signature" : "");
	printf("  signature  %s (%s)\n", r->signature, r->format);
	printf("  signer     %s\n", r->signer_subject);
	printf("  %-10s %s\n", strcmp(r->id_key, "Signer-Cert-Sha256") == 0 ? "cert" : "key",
	       r->signer_id);
	printf("  profile    %s%s\n", r->profile, r->test ? " (test = true)" : "");
	if (r->timestamped)
		printf("  timestamp  %s (verified; the signature is judged at this time)\n", r->ts_text);
	else
		printf("  timestamp  none (judged at the current time)\n");
	printf("  event      commit %.12s in %s, signed %s by %s%s%s\n", r->event_commit, r->event_ref,
	       r->signed_at ? r->signed_at : "?", r->signed_by ? r->signed_by : "?",
	       r->tag ? ", tag " : "", r->tag ? r->tag : "");
}

int sg_cmd_verify(sg_cli *cli, int argc, char **argv)
{
	sg_verify_opts vo = { NULL, NULL, 0 };
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	json_t *files = NULL;
	int first = 0, i, err, worst = SG_OK, color = sg_cli_color();
	size_t nok = 0, nfail = 0;

	if (parse(&vo, &first, argc, argv) < 0)
		return sg_cli_usage(usage_text);
	vo.profile = cli->profile;
	if ((err = sg_cli_open_repo(&repo, cli)) < 0 || (err = sg_cli_load_policy(&pol, repo, cli)) < 0) {
		worst = err == SG_EDENIED ? SG_ERROR : err; /* no trust anchors: cannot verify */
		goto done;
	}
	files = json_array();
	for (i = first; i < argc; i++) {
		sg_verify_result r;

		err = sg_verify_file(&r, repo, pol, argv[i], &vo);
		for (size_t w = 0; !cli->json && w < r.warnings.n; w++)
			sg_cli_info(cli, "signgate: warning: %s\n", r.warnings.v[w]);
		if (err == SG_OK) {
			nok++;
			if (!cli->json && cli->verbosity >= 0)
				print_people(&r, color);
		} else {
			nfail++;
			if (!cli->json || cli->verbosity > 0)
				fprintf(stderr, "signgate: %s%s\n", err == SG_EVERIFY ? "verification failed: "
					: "error: ", sg_error_last());
			/* an operational error outranks a failed verification */
			if (worst == SG_OK || err == SG_ERROR)
				worst = err;
		}
		json_array_append_new(files, result_json(&r));
		sg_verify_result_release(&r);
	}
	if (cli->json) {
		json_t *doc = json_object();
		json_object_set_new(doc, "verified", json_boolean(nfail == 0));
		json_object_set_new(doc, "files", files);
		files = NULL;
		sg_cli_json_out(doc);
	} else if (nok + nfail > 1) {
		sg_cli_info(cli, "signgate: %zu verified, %zu failed\n", nok, nfail);
	}
	if (worst != SG_OK && worst != SG_ERROR && worst != SG_EVERIFY && worst != SG_EUSAGE)
		worst = SG_ERROR;
	json_decref(files);
	sg_policy_free(pol);
	git_repository_free(repo);
	return worst == SG_EUSAGE ? sg_cli_usage(usage_text) : sg_error_exit_code(worst);
done:
	sg_policy_free(pol);
	git_repository_free(repo);
	sg_error_set(worst, "%s", sg_error_last() ? sg_error_last() : "cannot verify");
	return sg_cli_fail(worst);
}
