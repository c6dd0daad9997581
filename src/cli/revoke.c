/* signgate revoke --cert SHA256 --since TIME --reason TEXT
 *
 * Revocation is a policy change: the entry is written into the working
 * tree's .signgate (or --policy FILE) for review and commit, never into
 * the protected branch directly. Then the impact report from the notes. */
#include "cli/cli.h"
#include "core/error.h"
#include "core/json.h"
#include "core/git.h"
#include "core/str.h"
#include "verify/verify.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char usage_text[] = "signgate revoke --cert SHA256 --since TIME --reason TEXT";

typedef struct revoke_opts {
	char cert[65];
	const char *since_text;
	time_t since;
	const char *reason;
} revoke_opts;

static int parse(revoke_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 's' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cert = NULL;
	size_t i;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cert = optarg; break;
		case 's': o->since_text = optarg; break;
		case 'r': o->reason = optarg; break;
		default: return sg_error_set(SG_EUSAGE, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sg_error_set(SG_EUSAGE, "unexpected argument '%s'", argv[optind]);
	if (!cert || !o->since_text || !o->reason)
		return sg_error_set(SG_EUSAGE, "--cert, --since and --reason are all required");
	if (!sg_str_is_hex(cert, 64))
		return sg_error_set(SG_EUSAGE, "--cert takes the SHA-256 of the certificate (64 hex, as "
				    "in the notes' Signer-Cert-Sha256), not '%s'", cert);
	(void)sg_str_lower_copy(o->cert, sizeof(o->cert), cert); /* fits: 64 hex digits */
	if (sg_time_parse(&o->since, o->since_text) < 0)
		return sg_error_set(SG_EUSAGE, "--since %s is not a UTC time like 2026-11-01T00:00:00Z",
				    o->since_text);
	if (!o->reason[0])
		return sg_error_set(SG_EUSAGE, "--reason must say what happened");
	for (i = 0; o->reason[i]; i++)
		if (iscntrl((unsigned char)o->reason[i]))
			return sg_error_set(SG_EUSAGE, "--reason must be one line of text");
	return SG_OK;
}

static int policy_path(char **out, git_repository *repo, const sg_cli *cli)
{
	const char *wd = git_repository_workdir(repo);
	struct stat st;
	char *p = NULL;

	if (cli->policy_file)
		p = strdup(cli->policy_file);
	else if (!wd)
		return sg_error_set(SG_EUSAGE, "this repository has no working tree; name the policy "
				    "file with --policy FILE");
	else if (asprintf(&p, "%s.signgate", wd) < 0)
		p = NULL;
	if (!p)
		return sg_error_set(SG_ERROR, "out of memory");
	if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
		free(p);
		return sg_error_set(SG_ERROR, "no policy file %s to record the revocation in; check out "
				    "the protected branch (or run signgate init)", cli->policy_file ?
				    cli->policy_file : ".signgate");
	}
	*out = p;
	return SG_OK;
}

static int write_entry(const char *path, const revoke_opts *o)
{
	git_config *cfg = NULL;
	char key[128];
	int gerr;

	if (git_config_open_ondisk(&cfg, path) < 0)
		return sg_error_set(SG_ERROR, "cannot open %s: %s", path,
				    sg_git_errmsg());
	snprintf(key, sizeof(key), "revoked.%s.since", o->cert);
	gerr = git_config_set_string(cfg, key, o->since_text);
	snprintf(key, sizeof(key), "revoked.%s.reason", o->cert);
	if (gerr == 0)
		gerr = git_config_set_string(cfg, key, o->reason);
	git_config_free(cfg);
	if (gerr < 0)
		return sg_error_set(SG_ERROR, "cannot write [revoked \"%s\"] into %s: %s", o->cert, path,
				    sg_git_errmsg());
	return SG_OK;
}

typedef struct impact {
	size_t before, after;         /* attested events */
	sg_strlist artifacts[2], tags[2], commits[2];
	size_t unattested;            /* paragraphs naming the cert that are not attested: never counted */
	sg_strlist unattested_artifacts;
} impact;

static void impact_release(impact *im)
{
	int k;

	for (k = 0; k < 2; k++) {
		sg_strlist_release(&im->artifacts[k]);
		sg_strlist_release(&im->tags[k]);
		sg_strlist_release(&im->commits[k]);
	}
	sg_strlist_release(&im->unattested_artifacts);
}

static int is_after(const sg_logged_event *le, const revoke_opts *o)
{
	return le->ts_time == 0 || le->ts_time >= o->since;
}

static int by_cert(const sg_logged_event *le, const revoke_opts *o)
{
	const char *s = sg_event_signer(&le->ev);
	return s && strcasecmp(s, o->cert) == 0;
}

static int tally(impact *im, const sg_event_log *log, const revoke_opts *o)
{
	size_t i;
	int err = SG_OK;

	for (i = 0; i < log->n && err == SG_OK; i++) {
		const sg_logged_event *le = &log->v[i];
		const char *a = sg_event_get(&le->ev, "Artifact-Sha256");
		const char *t = sg_event_get(&le->ev, "Tag");
		int k;

		if (!by_cert(le, o))
			continue;
		if (!le->attested) {
			im->unattested++;
			err = sg_strlist_add_unique(&im->unattested_artifacts, a ? a : "?", 1);
			continue;
		}
		k = is_after(le, o);
		if (k)
			im->after++;
		else
			im->before++;
		if (a)
			err = sg_strlist_add_unique(&im->artifacts[k], a, 1);
		if (err == SG_OK && t)
			err = sg_strlist_add_unique(&im->tags[k], t, 0);
		if (err == SG_OK)
			err = sg_strlist_add_unique(&im->commits[k], le->commit, 0);
	}
	return err;
}

static void print_events(const sg_event_log *log, const revoke_opts *o, int after)
{
	size_t i;

	for (i = 0; i < log->n; i++) {
		const sg_logged_event *le = &log->v[i];
		const char *ts = sg_event_get(&le->ev, "Timestamp");
		const char *tag = sg_event_get(&le->ev, "Tag");
		const char *art = sg_event_get(&le->ev, "Artifact");

		/* after: 0 before, 1 at or after, -1 the unattested ones */
		if (!by_cert(le, o) || (after >= 0 && (!le->attested || is_after(le, o) != after)) ||
		    (after < 0 && le->attested))
			continue;
		printf("    %-20.20s  %-12.12s  %.12s  %s\n", le->ts_time ? ts : "no timestamp",
		       tag ? tag : "-", le->commit, art ? art : "?");
	}
}

static void print_report(const sg_event_log *log, const impact *im, const revoke_opts *o,
			 const char *path, int color)
{
	const char *red = color ? "\033[31m" : "", *off = color ? "\033[m" : "";

	printf("%srevoked%s certificate %s since %s: %s\n", red, off, o->cert, o->since_text, o->reason);
	printf("written to %s as [revoked \"%s\"]\n\n", path, o->cert);
	printf("signed by this certificate: %zu event%s, %zu artifact%s, %zu release tag%s, %zu commit%s\n",
	       im->before + im->after, im->before + im->after == 1 ? "" : "s",
	       im->artifacts[0].n + im->artifacts[1].n, im->artifacts[0].n + im->artifacts[1].n == 1 ? "" : "s",
	       im->tags[0].n + im->tags[1].n, im->tags[0].n + im->tags[1].n == 1 ? "" : "s",
	       im->commits[0].n + im->commits[1].n, im->commits[0].n + im->commits[1].n == 1 ? "" : "s");
	printf("\nbefore %s (timestamped before the compromise; these signatures stay valid):\n",
	       o->since_text);
	printf("  %zu event%s, %zu artifact%s, %zu tag%s, %zu commit%s\n", im->before,
	       im->before == 1 ? "" : "s", im->artifacts[0].n, im->artifacts[0].n == 1 ? "" : "s",
	       im->tags[0].n, im->tags[0].n == 1 ? "" : "s", im->commits[0].n,
	       im->commits[0].n == 1 ? "" : "s");
	print_events(log, o, 0);
	printf("\n%sat or after %s, or without a timestamp (these signatures now fail verification):%s\n",
	       red, o->since_text, off);
	printf("  %zu event%s, %zu artifact%s, %zu tag%s, %zu commit%s\n", im->after,
	       im->after == 1 ? "" : "s", im->artifacts[1].n, im->artifacts[1].n == 1 ? "" : "s",
	       im->tags[1].n, im->tags[1].n == 1 ? "" : "s", im->commits[1].n,
	       im->commits[1].n == 1 ? "" : "s");
	print_events(log, o, 1);
	if (im->unattested) {
		printf("\nunattested paragraphs naming this certificate (not counted: no verified "
		       "attestation, see signgate-notes(5)):\n  %zu paragraph%s\n", im->unattested,
		       im->unattested == 1 ? "" : "s");
		print_events(log, o, -1);
	}
	printf("\nremaining steps:\n");
	printf("  1. review and commit %s onto the protected branch: the revocation takes effect\n"
	       "     for verify and sign once it is there (git add; git commit; push; review)\n", path);
	printf("  2. ask the issuing CA to revoke certificate %s\n", o->cert);
	printf("  3. issue a new key and certificate and point the profile at it (profile.NAME.key, .cert)\n");
	if (im->after)
		printf("  4. re-sign the %zu affected artifact%s (%zu tag%s) with the new certificate:\n"
		       "     signgate sign --tag TAG FILE...; then tell their users\n", im->artifacts[1].n,
		       im->artifacts[1].n == 1 ? "" : "s", im->tags[1].n, im->tags[1].n == 1 ? "" : "s");
	else
		printf("  4. nothing to re-sign: every signature by this certificate predates %s\n",
		       o->since_text);
	printf("  5. signgate sync, so every clone sees the new events\n");
}

static void print_json(const impact *im, const revoke_opts *o, const char *path)
{
	json_t *doc = json_object();
	const char *names[2] = { "before", "after" };
	int k;

	json_object_set_new(doc, "cert_sha256", json_string(o->cert));
	json_object_set_new(doc, "since", json_string(o->since_text));
	json_object_set_new(doc, "reason", json_string(o->reason));
	json_object_set_new(doc, "policy_file", json_string(path));
	for (k = 0; k < 2; k++) {
		json_t *part = json_object();
		json_object_set_new(part, "events", json_integer((json_int_t)(k ? im->after : im->before)));
		json_object_set_new(part, "artifacts", sg_json_strlist(&im->artifacts[k]));
		json_object_set_new(part, "tags", sg_json_strlist(&im->tags[k]));
		json_object_set_new(part, "commits", sg_json_strlist(&im->commits[k]));
		json_object_set_new(doc, names[k], part);
	}
	{
		json_t *part = json_object();
		json_object_set_new(part, "events", json_integer((json_int_t)im->unattested));
		json_object_set_new(part, "artifacts", sg_json_strlist(&im->unattested_artifacts));
		json_object_set_new(doc, "unattested", part);
	}
	sg_cli_json_out(doc);
}

int sg_cmd_revoke(sg_cli *cli, int argc, char **argv)
{
	revoke_opts o;
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	sg_strlist refs = SG_STRLIST_INIT;
	sg_event_log log = { 0 };
	impact im;
	char *path = NULL;
	int err;

	memset(&o, 0, sizeof(o));
	memset(&im, 0, sizeof(im));
	if (parse(&o, argc, argv) < 0)
		return sg_cli_usage(usage_text);
	if ((err = sg_cli_open_repo(&repo, cli)) < 0 || (err = policy_path(&path, repo, cli)) < 0)
		goto done;
	/* the notes refs come from the governing policy when there is one; one
	 * that does not parse is an error, fixed before a revocation joins it */
	if ((err = sg_policy_load(&pol, repo, cli->policy_file)) < 0 && err != SG_ENOTFOUND)
		goto done;
	if (err < 0) {
		sg_cli_verbose(cli, "signgate: %s; reading %s only\n", sg_error_last(), SG_DEFAULT_NOTES_REF);
		pol = NULL;
		sg_error_clear();
	}
	if ((err = sg_verify_notes_refs(&refs, pol)) < 0 ||
	    (err = sg_event_log_by_signer(&log, repo, &refs, o.cert)) < 0 ||
	    (err = sg_event_log_attest(&log, repo, pol)) < 0 ||
	    (err = write_entry(path, &o)) < 0 || (err = tally(&im, &log, &o)) < 0)
		goto done;
	sg_event_log_sort(&log);
	if (cli->json)
		print_json(&im, &o, path);
	else
		print_report(&log, &im, &o, path, sg_cli_color());
done:
	impact_release(&im);
	sg_event_log_release(&log);
	sg_strlist_release(&refs);
	sg_policy_free(pol);
	git_repository_free(repo);
	free(path);
	if (err == SG_EUSAGE)
		return sg_cli_usage(usage_text);
	return err == SG_OK ? 0 : sg_cli_fail(err);
}
