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

/* A JSON string for a note value. A note is just bytes: a value that is
 * not valid UTF-8 is kept with each byte above 0x7f shown as '?', so the
 * document always parses. */
static json_t *json_value(const char *v)
{
	json_t *j = json_string(v);
	char *copy;
	size_t i;

	if (j || !(copy = strdup(v)))
		return j;
	for (i = 0; copy[i]; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static int dump_to_buf(const char *data, size_t len, void *payload)
{
	return sg_buf_put(payload, data, len) == SG_OK ? 0 : -1;
}

/* a, b, c appended in turn (printf is most of the time `log --json` takes) */
static int put3(sg_buf *buf, const char *a, const char *b, const char *c)
{
	int err = sg_buf_puts(buf, a);

	if (err == SG_OK)
		err = sg_buf_puts(buf, b);
	return err == SG_OK ? sg_buf_puts(buf, c) : err;
}

/* Append `v` as a JSON string. jansson does every escape; it is skipped
 * only when escaping provably changes nothing (printable ASCII without '"'
 * or '\\': digests, dates, paths), which is most values and most of the
 * time `log --json` would otherwise spend. */
static int json_put_string(sg_buf *b, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	json_t *j;
	int rc;

	while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
		p++;
	if (*p == '\0')
		return put3(b, "\"", v, "\"");
	if (!(j = json_value(v)))
		return sg_error_set(SG_ERROR, "out of memory");
	rc = json_dump_callback(j, dump_to_buf, b, JSON_ENCODE_ANY);
	json_decref(j);
	return rc == 0 ? SG_OK : sg_error_set(SG_ERROR, "out of memory");
}

/* One member; keys are ours ([a-z0-9_], see json_key). */
static int json_member(sg_buf *b, int *first, const char *key, const char *value)
{
	int err = put3(b, *first ? "{\"" : ", \"", key, "\": ");

	*first = 0;
	return err == SG_OK ? json_put_string(b, value) : err;
}

/* A note field that holds a count or a size is a JSON number (DESIGN.md 1). */
static int json_member_typed(sg_buf *b, int *first, const char *key, const char *value)
{
	size_t n = strlen(key), digits = strspn(value, "0123456789");
	int err;

	if (!((n > 5 && !strcmp(key + n - 5, "_size")) || (n > 6 && !strcmp(key + n - 6, "_count"))) ||
	    !digits || value[digits] || digits > 15 || (value[0] == '0' && digits > 1))
		return json_member(b, first, key, value);
	err = put3(b, *first ? "{\"" : ", \"", key, "\": ");
	*first = 0;
	return err == SG_OK ? sg_buf_puts(b, value) : err;
}

static int event_json(sg_buf *b, const sg_logged_event *le, const sg_policy *pol)
{
	const sg_revocation *r = sg_event_revocation(pol, &le->ev);
	char key[160];
	size_t i, j;
	int first = 1, err;

	err = json_member(b, &first, "type", "event");
	if (err == SG_OK)
		err = json_member(b, &first, "commit", le->commit);
	if (err == SG_OK)
		err = json_member(b, &first, "notes_ref", le->notes_ref);
	for (i = 0; i < le->ev.n && err == SG_OK; i++) {
		json_key(key, sizeof(key), le->ev.f[i].key);
		if (strcmp(key, "signgate_event") == 0)
			snprintf(key, sizeof(key), "event");
		/* first wins; the meta keys and "revoked" are never overwritten */
		if (!strcmp(key, "type") || !strcmp(key, "commit") || !strcmp(key, "notes_ref") ||
		    !strcmp(key, "revoked") || !strcmp(key, "still_valid"))
			continue;
		for (j = 0; j < i; j++)
			if (tolower((unsigned char)*le->ev.f[j].key) == tolower((unsigned char)*le->ev.f[i].key) &&
			    strcasecmp(le->ev.f[j].key, le->ev.f[i].key) == 0)
				break;
		if (j == i)
			err = json_member_typed(b, &first, key, le->ev.f[i].value);
	}
	if (err == SG_OK)
		err = sg_buf_printf(b, ", \"revoked\": %s", r ? "true" : "false");
	if (err == SG_OK && r)
		err = sg_buf_printf(b, ", \"still_valid\": %s",
				    le->ts_time && le->ts_time < r->since ? "true" : "false");
	return err == SG_OK ? sg_buf_puts(b, "}") : err;
}

static int revocation_json(sg_buf *b, const sg_revocation *r)
{
	int first = 1, err = json_member(b, &first, "type", "revocation");

	if (err == SG_OK)
		err = json_member(b, &first, "cert_sha256", r->cert_sha256);
	if (err == SG_OK)
		err = json_member(b, &first, "since", r->since_text);
	if (err == SG_OK)
		err = json_member(b, &first, "reason", r->reason ? r->reason : "");
	return err == SG_OK ? sg_buf_puts(b, "}") : err;
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

/* One JSON array, written an element at a time. */
static int json_flush(sg_buf *b, int last)
{
	if (!last && b->size < (1 << 16))
		return SG_OK;
	if (b->size && fwrite(b->ptr, 1, b->size, stdout) != b->size)
		return sg_error_set(SG_ERROR, "cannot write the output");
	sg_buf_clear(b);
	return SG_OK;
}

static int output(const sg_cli *cli, const sg_event_log *log, const char *keep,
		  const sg_policy *pol, const log_opts *o)
{
	colors c = { "", "", "", "" };
	sg_buf json = SG_BUF_INIT;
	size_t i, shown = 0, elements = 0;
	int err = SG_OK;

	if (!cli->json && sg_cli_color())
		c = (colors){ "\033[33m", "\033[2m", "\033[31m", "\033[m" };
	for (i = 0; i < log->n && err == SG_OK; i++) {
		if (!keep[i])
			continue;
		shown++;
		if (!cli->json) {
			print_event(&log->v[i], pol, &c);
			continue;
		}
		if ((err = sg_buf_puts(&json, elements++ ? ",\n  " : "[\n  ")) == SG_OK &&
		    (err = event_json(&json, &log->v[i], pol)) == SG_OK)
			err = json_flush(&json, 0);
	}
	for (i = 0; pol && i < pol->nrevoked && err == SG_OK; i++) {
		if (!revocation_wanted(&pol->revoked[i], log, keep, o))
			continue;
		if (!cli->json) {
			print_revocation(&pol->revoked[i], &c);
			continue;
		}
		if ((err = sg_buf_puts(&json, elements++ ? ",\n  " : "[\n  ")) == SG_OK)
			err = revocation_json(&json, &pol->revoked[i]);
	}
	/* bad paragraphs were skipped: said on stderr, and as elements of their own */
	for (i = 0; i < log->warnings.n && err == SG_OK; i++) {
		int first = 1;

		if (!cli->json) {
			sg_cli_info(cli, "signgate: warning: %s\n", log->warnings.v[i]);
			continue;
		}
		if ((err = sg_buf_puts(&json, elements++ ? ",\n  " : "[\n  ")) == SG_OK &&
		    (err = json_member(&json, &first, "type", "warning")) == SG_OK &&
		    (err = json_member(&json, &first, "message", log->warnings.v[i])) == SG_OK)
			err = sg_buf_puts(&json, "}");
	}
	if (cli->json && err == SG_OK && (err = sg_buf_puts(&json, elements ? "\n]\n" : "[]\n")) == SG_OK)
		err = json_flush(&json, 1);
	sg_buf_dispose(&json);
	sg_cli_verbose(cli, "signgate: %zu event%s shown of %zu, from %zu note%s; %zu paragraph%s "
		       "that %s not signgate events skipped\n", shown, shown == 1 ? "" : "s", log->n,
		       log->notes, log->notes == 1 ? "" : "s", log->skipped,
		       log->skipped == 1 ? "" : "s", log->skipped == 1 ? "is" : "are");
	return err;
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
	/* `log` only displays what the notes say (verify checks signatures
	 * cryptographically): skip libgit2's re-hash of every object read,
	 * which git itself does not do either and which cost a sixth of the
	 * time over thousands of notes. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	if ((err = sg_cli_open_repo(&repo, cli)) < 0)
		goto done;
	/* The log reads history; a policy only adds profile notes refs and the
	 * revocations, so a missing one is no reason to show nothing. One that
	 * is there but cannot be read may hide a revocation: an error. */
	if ((err = sg_policy_load(&pol, repo, cli->policy_file)) == SG_ENOTFOUND) {
		sg_cli_info(cli, "signgate: warning: %s; listing %s without revocations\n",
			    sg_error_last() ? sg_error_last() : "no policy", SG_DEFAULT_NOTES_REF);
		pol = NULL;
		sg_error_clear();
	} else if (err < 0) {
		goto done;
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
	sg_cli_pager_start(cli);
	err = output(cli, &log, keep, pol, &o);
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
