/* signgate log [REVRANGE] [--artifact SHA256] [--cert SHA256] */
#include "cli/cli.h"
#include "core/error.h"
#include "verify/verify.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char usage_text[] = "signgate log [REVRANGE] [--artifact SHA256] [--cert SHA256]";

typedef struct log_opts {
	const char *range;
	const char *artifact;
	const char *cert;
} log_opts;

static int parse(log_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "artifact", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': o->artifact = optarg; break;
		case 'c': o->cert = optarg; break;
		default: return sg_error_set(SG_EUSAGE, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->range = argv[optind++];
	if (optind < argc)
		return sg_error_set(SG_EUSAGE, "one REVRANGE at most");
	return SG_OK;
}

/* A hex digest given on the command line matches a prefix of the value. */
static int hex_prefix(const char *value, const char *want)
{
	return value && want && strncasecmp(value, want, strlen(want)) == 0;
}

static int wanted(const sg_logged_event *le, const log_opts *o)
{
	if (o->artifact && !hex_prefix(sg_event_get(&le->ev, "Artifact-Sha256"), o->artifact))
		return 0;
	if (o->cert && !hex_prefix(sg_event_signer(&le->ev), o->cert))
		return 0;
	return 1;
}

static int revocation_wanted(const sg_revocation *r, const sg_event_log *log, const char *keep,
			     const log_opts *o)
{
	size_t i;

	if (o->cert)
		return hex_prefix(r->cert_sha256, o->cert);
	if (!o->artifact)
		return 1;
	for (i = 0; i < log->n; i++)
		if (keep[i] && hex_prefix(sg_event_signer(&log->v[i].ev), r->cert_sha256))
			return 1;
	return 0;
}

/* "Artifact-Sha256" -> "artifact_sha256" */
static void json_key(char *out, size_t outlen, const char *key)
{
	size_t i;

	for (i = 0; key[i] && i + 1 < outlen; i++)
		out[i] = key[i] == '-' ? '_' : (char)tolower((unsigned char)key[i]);
	out[i] = '\0';
}

static json_t *event_json(const sg_logged_event *le, const sg_policy *pol)
{
	json_t *o = json_object();
	const sg_revocation *r = NULL;
	char key[160];
	size_t i;

	json_object_set_new(o, "type", json_string("event"));
	json_object_set_new(o, "commit", json_string(le->commit));
	json_object_set_new(o, "notes_ref", json_string(le->notes_ref));
	for (i = 0; i < le->ev.n; i++) {
		json_key(key, sizeof(key), le->ev.f[i].key);
		if (strcmp(key, "signgate_event") == 0)
			snprintf(key, sizeof(key), "event");
		if (!json_object_get(o, key)) /* first wins; meta keys are not overwritten */
			json_object_set_new(o, key, json_string(le->ev.f[i].value));
	}
	r = sg_event_revocation(pol, &le->ev);
	json_object_set_new(o, "revoked", json_boolean(r != NULL));
	if (r)
		json_object_set_new(o, "still_valid", json_boolean(le->ts_time && le->ts_time < r->since));
	return o;
}

static json_t *revocation_json(const sg_revocation *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string("revocation"));
	json_object_set_new(o, "cert_sha256", json_string(r->cert_sha256));
	json_object_set_new(o, "since", json_string(r->since_text));
	json_object_set_new(o, "reason", json_string(r->reason ? r->reason : ""));
	return o;
}

typedef struct colors {
	const char *head, *dim, *red, *off;
} colors;

static void print_event(const sg_logged_event *le, const sg_policy *pol, const colors *c)
{
	const char *kind = sg_event_get(&le->ev, "Signgate-Event");
	const char *art = sg_event_get(&le->ev, "Artifact");
	const char *signer = sg_event_signer(&le->ev);
	const sg_revocation *r = sg_event_revocation(pol, &le->ev);
	size_t i, w = strlen("Commit");

	for (i = 0; i < le->ev.n; i++)
		if (strlen(le->ev.f[i].key) > w)
			w = strlen(le->ev.f[i].key);
	printf("%s%s %s%s\n", c->head, kind ? kind : "event", art ? art : "", c->off);
	printf("    %s%-*s%s %s (%s)\n", c->dim, (int)w + 1, "Commit:", c->off, le->commit, le->notes_ref);
	for (i = 0; i < le->ev.n; i++) {
		if (strcasecmp(le->ev.f[i].key, "Signgate-Event") == 0 ||
		    (art && strcasecmp(le->ev.f[i].key, "Artifact") == 0))
			continue;
		printf("    %s%s:%s%*s %s\n", c->dim, le->ev.f[i].key, c->off,
		       (int)(w - strlen(le->ev.f[i].key)), "", le->ev.f[i].value);
	}
	if (r)
		printf("    %s%-*s %s since %s (%s): %s%s\n", c->red, (int)w + 1, "REVOKED:", signer,
		       r->since_text, r->reason ? r->reason : "",
		       le->ts_time && le->ts_time < r->since ? "timestamped before, still valid"
							     : "this signature no longer verifies",
		       c->off);
	printf("\n");
}

static void print_revocation(const sg_revocation *r, const colors *c)
{
	printf("%srevoked certificate %s%s\n", c->red, r->cert_sha256, c->off);
	printf("    %sSince:%s  %s\n    %sReason:%s %s\n\n", c->dim, c->off, r->since_text, c->dim,
	       c->off, r->reason ? r->reason : "");
}

static void output(const sg_cli *cli, const sg_event_log *log, const char *keep,
		   const sg_policy *pol, const log_opts *o)
{
	colors c = { "", "", "", "" };
	json_t *arr = NULL;
	size_t i, shown = 0;

	if (cli->json)
		arr = json_array();
	else if (sg_cli_color())
		c = (colors){ "\033[33m", "\033[2m", "\033[31m", "\033[m" };
	for (i = 0; i < log->n; i++) {
		if (!keep[i])
			continue;
		shown++;
		if (arr)
			json_array_append_new(arr, event_json(&log->v[i], pol));
		else
			print_event(&log->v[i], pol, &c);
	}
	for (i = 0; pol && i < pol->nrevoked; i++) {
		if (!revocation_wanted(&pol->revoked[i], log, keep, o))
			continue;
		if (arr)
			json_array_append_new(arr, revocation_json(&pol->revoked[i]));
		else
			print_revocation(&pol->revoked[i], &c);
	}
	if (arr)
		sg_cli_json_out(arr);
	sg_cli_verbose(cli, "signgate: %zu event%s shown of %zu, from %zu note%s; %zu paragraph%s "
		       "that %s not signgate events skipped\n", shown, shown == 1 ? "" : "s", log->n,
		       log->notes, log->notes == 1 ? "" : "s", log->skipped,
		       log->skipped == 1 ? "" : "s", log->skipped == 1 ? "is" : "are");
}

int sg_cmd_log(sg_cli *cli, int argc, char **argv)
{
	log_opts o = { NULL, NULL, NULL };
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	sg_strlist refs = SG_STRLIST_INIT;
	sg_event_log log = { 0 };
	char *keep = NULL;
	size_t i;
	int err;

	if (parse(&o, argc, argv) < 0)
		return sg_cli_usage(usage_text);
	if ((err = sg_cli_open_repo(&repo, cli)) < 0)
		goto done;
	/* The log reads history; a policy only adds profile notes refs and the
	 * revocations, so a missing one is no reason to show nothing. */
	if (sg_policy_load(&pol, repo, cli->policy_file) < 0) {
		sg_cli_info(cli, "signgate: warning: %s; listing %s without revocations\n",
			    sg_error_last() ? sg_error_last() : "no policy", SG_DEFAULT_NOTES_REF);
		pol = NULL;
		sg_error_clear();
	}
	if ((err = sg_verify_notes_refs(&refs, pol)) < 0 ||
	    (err = sg_event_log_collect(&log, repo, &refs, o.range)) < 0)
		goto done;
	sg_event_log_sort(&log);
	if (!(keep = calloc(log.n + 1, 1))) {
		err = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < log.n; i++)
		keep[i] = (char)wanted(&log.v[i], &o);
	output(cli, &log, keep, pol, &o);
	err = SG_OK;
done:
	free(keep);
	sg_event_log_release(&log);
	sg_strlist_release(&refs);
	sg_policy_free(pol);
	git_repository_free(repo);
	if (err == SG_EUSAGE)
		return sg_cli_usage(usage_text);
	return err == SG_OK ? 0 : sg_cli_fail(err);
}
