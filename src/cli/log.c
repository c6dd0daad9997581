/* signgate log [REVRANGE] [--artifact SHA256] [--cert SHA256] */
#include "cli/cli.h"
#include "attest/attest.h"
#include "core/error.h"
#include "core/str.h"
#include "verify/verify.h"

#include <ctype.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char usage_text[] = "signgate log [REVRANGE] [--artifact SHA256] [--cert SHA256] [--no-cache]";

typedef struct log_opts {
	const char *range;
	const char *artifact;
	const char *cert;
	int no_cache;
} log_opts;

static int parse(log_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "artifact", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': o->artifact = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'n': o->no_cache = 1; break;
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

/* "Artifact-Sha256" -> "artifact_sha256" (keys are ASCII: [A-Za-z0-9-]) */
static size_t json_key(char *out, size_t outlen, const char *key)
{
	size_t i;

	for (i = 0; key[i] && i + 1 < outlen; i++)
		out[i] = key[i] == '-' ? '_' : key[i] >= 'A' && key[i] <= 'Z' ? (char)(key[i] + 32) : key[i];
	out[i] = '\0';
	return i;
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

/* Append `v` as a JSON string. jansson does every escape; it is skipped
 * only when escaping provably changes nothing (printable ASCII without '"'
 * or '\\': digests, dates, paths), which is most values and most of the
 * time `log --json` would otherwise spend. */
static int json_put_string(sg_buf *b, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	json_t *j;
	int rc;

	int err;

	while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
		p++;
	if (*p == '\0') {
		if ((err = sg_buf_put(b, "\"", 1)) == SG_OK && (err = sg_buf_put(b, v, (size_t)(p - (const unsigned char *)v))) == SG_OK)
			err = sg_buf_put(b, "\"", 1);
		return err;
	}
	if (!(j = json_value(v)))
		return sg_error_set(SG_ERROR, "out of memory");
	rc = json_dump_callback(j, dump_to_buf, b, JSON_ENCODE_ANY);
	json_decref(j);
	return rc == 0 ? SG_OK : sg_error_set(SG_ERROR, "out of memory");
}

/* One member; keys are ours ([a-z0-9_], see json_key). */
static int json_member(sg_buf *b, int *first, const char *key, const char *value)
{
	int err = *first ? sg_buf_put(b, "{\"", 2) : sg_buf_put(b, ", \"", 3);

	if (err == SG_OK && (err = sg_buf_puts(b, key)) == SG_OK)
		err = sg_buf_put(b, "\": ", 3);
	*first = 0;
	return err == SG_OK ? json_put_string(b, value) : err;
}

/* One member, in one append when the value needs no escape (most do not:
 * digests, dates, paths); keys are ours ([a-z0-9_], see json_key). */
static int json_member_fast(sg_buf *b, int *first, const char *key, size_t klen, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t vlen;
	char *w;
	int err;

	while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
		p++;
	if (*p)
		return json_member(b, first, key, value);
	vlen = (size_t)(p - (const unsigned char *)value);
	if ((err = sg_buf_grow(b, b->size + klen + vlen + 8)) < 0)
		return err;
	w = b->ptr + b->size;
	if (*first)
		*w++ = '{';
	else {
		*w++ = ',';
		*w++ = ' ';
	}
	*w++ = '"';
	memmove(w, key, klen); /* (gcc inlines memcpy of these short copies as a slow rep movsq) */
	w += klen;
	memcpy(w, "\": \"", 4);
	w += 4;
	memmove(w, value, vlen);
	w += vlen;
	*w++ = '"';
	*w = '\0';
	b->size = (size_t)(w - b->ptr);
	*first = 0;
	return SG_OK;
}

/* A note field that holds a count or a size is a JSON number (DESIGN.md 1). */
static int json_member_typed(sg_buf *b, int *first, const char *key, size_t klen, const char *value)
{
	size_t digits = strspn(value, "0123456789");
	int err;

	if (!((klen > 5 && !strcmp(key + klen - 5, "_size")) || (klen > 6 && !strcmp(key + klen - 6, "_count"))) ||
	    !digits || value[digits] || digits > 15 || (value[0] == '0' && digits > 1))
		return json_member_fast(b, first, key, klen, value);
	err = *first ? sg_buf_put(b, "{\"", 2) : sg_buf_put(b, ", \"", 3);
	if (err == SG_OK && (err = sg_buf_put(b, key, klen)) == SG_OK && (err = sg_buf_put(b, "\": ", 3)) == SG_OK)
		err = sg_buf_put(b, value, digits);
	*first = 0;
	return err;
}

/* Timestamped before the revocation (a streamed event's time is read only here). */
static int still_valid(const sg_logged_event *le, const sg_revocation *r)
{
	time_t t = sg_event_ts_time(&le->ev);

	return t && t < r->since;
}

static int event_json(sg_buf *b, const sg_logged_event *le, const sg_policy *pol,
		      const sg_attest_verdict *v)
{
	const sg_revocation *r = sg_event_revocation(pol, &le->ev);
	static const char *const meta_keys[8] = { "type", "commit", "notes_ref", "revoked", "still_valid",
						  "attested", "unattested", "signgate_event" };
	static uint32_t meta[8];
	uint32_t hash[SG_EVENT_FIELDS_MAX];
	char key[160];
	size_t i, j, k, klen;
	int first = 1, err;

	err = json_member(b, &first, "type", "event");
	if (err == SG_OK)
		err = json_member(b, &first, "commit", le->commit);
	if (err == SG_OK)
		err = json_member(b, &first, "notes_ref", le->notes_ref);
	if (!meta[0])
		for (k = 0; k < 8; k++)
			meta[k] = sg_str_hash(meta_keys[k]);
	for (i = 0; i < le->ev.n && err == SG_OK; i++) {
		klen = json_key(key, sizeof(key), le->ev.f[i].key);
		hash[i] = sg_str_hash(key);
		/* first wins; the meta keys, "revoked" and "attested" are never overwritten */
		for (k = 0; k < 8 && !(hash[i] == meta[k] && strcmp(key, meta_keys[k]) == 0); k++)
			;
		if (k == 7)
			klen = (size_t)snprintf(key, sizeof(key), "event");
		else if (k < 7)
			continue;
		for (j = 0; j < i; j++)
			if (hash[j] == hash[i] && strcasecmp(le->ev.f[j].key, le->ev.f[i].key) == 0)
				break;
		if (j == i)
			err = json_member_typed(b, &first, key, klen, le->ev.f[i].value);
	}
	if (err == SG_OK)
		err = sg_buf_printf(b, ", \"attested\": %s", v->attested ? "true" : "false");
	if (err == SG_OK && !v->attested)
		err = json_member(b, &first, "unattested", v->reason ? v->reason : "not attested");
	if (err == SG_OK)
		err = sg_buf_printf(b, ", \"revoked\": %s", r ? "true" : "false");
	if (err == SG_OK && r)
		err = sg_buf_printf(b, ", \"still_valid\": %s", still_valid(le, r) ? "true" : "false");
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

static void print_event(const sg_logged_event *le, const sg_policy *pol, const colors *c,
			const sg_attest_verdict *v)
{
	const char *kind = sg_event_get(&le->ev, "Signgate-Event");
	const char *art = sg_event_get(&le->ev, "Artifact");
	const char *signer = sg_event_signer(&le->ev);
	const sg_revocation *r = sg_event_revocation(pol, &le->ev);
	size_t i, w = strlen("Commit");

	for (i = 0; i < le->ev.n; i++)
		if (strlen(le->ev.f[i].key) > w)
			w = strlen(le->ev.f[i].key);
	printf("%s%s %s%s%s%s%s\n", c->head, kind ? kind : "event", art ? art : "", c->off,
	       v->attested ? "" : c->red, v->attested ? "" : "  unattested", v->attested ? "" : c->off);
	printf("    %s%-*s%s %s (%s)\n", c->dim, (int)w + 1, "Commit:", c->off, le->commit, le->notes_ref);
	for (i = 0; i < le->ev.n; i++) {
		if (strcasecmp(le->ev.f[i].key, "Signgate-Event") == 0 ||
		    (art && strcasecmp(le->ev.f[i].key, "Artifact") == 0))
			continue;
		printf("    %s%s:%s%*s %s\n", c->dim, le->ev.f[i].key, c->off,
		       (int)(w - strlen(le->ev.f[i].key)), "", le->ev.f[i].value);
	}
	if (!v->attested)
		printf("    %s%-*s %s: not a recorded event%s\n", c->red, (int)w + 1, "UNATTESTED:",
		       v->reason ? v->reason : "not attested", c->off);
	if (r)
		printf("    %s%-*s %s since %s (%s): %s%s\n", c->red, (int)w + 1, "REVOKED:", signer,
		       r->since_text, r->reason ? r->reason : "",
		       still_valid(le, r) ? "timestamped before, still valid"
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

typedef struct out_state {
	const sg_cli *cli;
	const sg_policy *pol;
	git_repository *repo;
	sg_event_judge judge;     /* judges each shown event (DESIGN.md 4a) */
	const log_opts *o;
	colors c;
	sg_buf json;
	size_t shown, elements;
	char *rev_shown;          /* per revocation: a shown event was signed by it */
} out_state;

static int json_element(out_state *st)
{
	return sg_buf_puts(&st->json, st->elements++ ? ",\n  " : "[\n  ");
}

/* One event, written as soon as it is read, attested or marked unattested. */
static int show_event(out_state *st, const sg_logged_event *le)
{
	sg_attest_verdict v;
	size_t i;
	int err;

	if (!wanted(le, st->o))
		return SG_OK;
	/* the note the event was read from, opened once per note: one envelope
	 * judgement per batch (kept in the context), no second read of the note */
	err = sg_event_judge_one(&v, &st->judge, le);
	if (err < 0)
		return err;
	st->shown++;
	for (i = 0; st->pol && i < st->pol->nrevoked; i++)
		if (hex_prefix(sg_event_signer(&le->ev), st->pol->revoked[i].cert_sha256))
			st->rev_shown[i] = 1;
	if (!st->cli->json) {
		print_event(le, st->pol, &st->c, &v);
		return ferror(stdout) ? sg_error_set(SG_ERROR, "cannot write the output") : SG_OK;
	}
	if ((err = json_element(st)) == SG_OK && (err = event_json(&st->json, le, st->pol, &v)) == SG_OK)
		err = json_flush(&st->json, 0);
	return err;
}

static int show_revocations(out_state *st)
{
	size_t i;
	int err = SG_OK;

	for (i = 0; st->pol && i < st->pol->nrevoked && err == SG_OK; i++) {
		const sg_revocation *r = &st->pol->revoked[i];

		if (st->o->cert ? !hex_prefix(r->cert_sha256, st->o->cert) : st->o->artifact && !st->rev_shown[i])
			continue;
		if (!st->cli->json)
			print_revocation(r, &st->c);
		else if ((err = json_element(st)) == SG_OK)
			err = revocation_json(&st->json, r);
	}
	return err;
}

/* The events to list: an index lookup for --artifact / --cert, the notes
 * of the range's commits, else every event; newest first. The bad
 * paragraphs of the notes read (the range's, else all) go to warnings. */
static int select_events(sg_event_sel *sel, sg_strlist *warnings, const sg_event_source *src,
			 const log_opts *o)
{
	int err;

	if (o->range)
		err = sg_event_select_range(sel, warnings, src, o->range);
	else if (o->artifact)
		err = sg_event_select_key(sel, src, SG_INDEX_ARTIFACT, o->artifact);
	else if (o->cert)
		err = sg_event_select_key(sel, src, SG_INDEX_SIGNER, o->cert);
	else
		err = sg_event_select_all(sel, src);
	if (err == SG_OK && !o->range)
		err = sg_event_source_warnings(warnings, NULL, src);
	if (err == SG_OK)
		sg_event_sel_sort(sel, src);
	return err;
}

/* Bad paragraphs were skipped: said on stderr, and as elements of their own. */
static int show_warnings(out_state *st, const sg_strlist *warnings)
{
	size_t i;
	int err = SG_OK;

	for (i = 0; i < warnings->n && err == SG_OK; i++) {
		int first = 1;

		if (!st->cli->json) {
			sg_cli_info(st->cli, "signgate: warning: %s\n", warnings->v[i]);
			continue;
		}
		if ((err = json_element(st)) == SG_OK &&
		    (err = json_member(&st->json, &first, "type", "warning")) == SG_OK &&
		    (err = json_member(&st->json, &first, "message", warnings->v[i])) == SG_OK)
			err = sg_buf_puts(&st->json, "}");
	}
	return err;
}

static int output(out_state *st, sg_event_source *src, const sg_event_sel *sel, const sg_strlist *warnings)
{
	sg_logged_event le;
	const sg_attest_stats *as;
	size_t i;
	int err = SG_OK;

	if (!st->cli->json && sg_cli_color())
		st->c = (colors){ "\033[33m", "\033[2m", "\033[31m", "\033[m" };
	for (i = 0; i < sel->n && err == SG_OK; i++)
		if ((err = sg_event_source_read(&le, src, &sel->v[i])) == SG_OK)
			err = show_event(st, &le);
	if (err == SG_OK)
		err = show_revocations(st);
	if (err == SG_OK)
		err = show_warnings(st, warnings);
	if (st->cli->json && err == SG_OK &&
	    (err = sg_buf_puts(&st->json, st->elements ? "\n]\n" : "[]\n")) == SG_OK)
		err = json_flush(&st->json, 1);
	sg_cli_verbose(st->cli, "signgate: %zu event%s shown of %zu read, from %zu note%s; %zu paragraph%s "
		       "that %s not signgate events skipped\n", st->shown, st->shown == 1 ? "" : "s", sel->n,
		       src->notes, src->notes == 1 ? "" : "s", src->skipped, src->skipped == 1 ? "" : "s",
		       src->skipped == 1 ? "is" : "are");
	as = sg_attest_ctx_stats(st->judge.actx);
	sg_cli_verbose(st->cli, "signgate: attestations: %zu judged, %zu from the verdict cache%s\n", as->judged,
		       as->cached, st->o->no_cache ? " (--no-cache)" : "");
	return err;
}

int sg_cmd_log(sg_cli *cli, int argc, char **argv)
{
	log_opts o = { NULL, NULL, NULL, 0 };
	git_repository *repo = NULL;
	sg_policy *pol = NULL;
	sg_strlist refs = SG_STRLIST_INIT, warnings = SG_STRLIST_INIT;
	sg_event_source src;
	sg_event_sel sel = { 0 };
	out_state st;
	int err, opened = 0;

	memset(&st, 0, sizeof(st));
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
	if ((err = sg_verify_notes_refs(&refs, pol)) < 0 || (err = sg_event_source_open(&src, repo, &refs)) < 0)
		goto done;
	opened = 1;
	if ((err = select_events(&sel, &warnings, &src, &o)) < 0)
		goto done;
	st.cli = cli;
	st.pol = pol;
	st.repo = repo;
	st.judge.repo = repo;
	/* listing only: verdicts may come from the local cache (never for verify) */
	if ((err = sg_attest_ctx_new(&st.judge.actx, pol)) < 0 ||
	    (!o.no_cache && (err = sg_attest_ctx_use_cache(st.judge.actx, repo)) < 0))
		goto done;
	st.o = &o;
	st.c = (colors){ "", "", "", "" };
	if (pol && pol->nrevoked && !(st.rev_shown = calloc(pol->nrevoked, 1))) {
		err = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	sg_cli_pager_start(cli);
	if ((err = output(&st, &src, &sel, &warnings)) == SG_OK)
		sg_attest_ctx_save(st.judge.actx);
done:
	sg_event_judge_release(&st.judge);
	sg_attest_ctx_free(st.judge.actx);
	free(st.rev_shown);
	sg_buf_dispose(&st.json);
	sg_event_sel_release(&sel);
	if (opened)
		sg_event_source_release(&src);
	sg_strlist_release(&refs);
	sg_strlist_release(&warnings);
	sg_policy_free(pol);
	git_repository_free(repo);
	if (err == SG_EUSAGE)
		return sg_cli_usage(usage_text);
	return err == SG_OK ? 0 : sg_cli_fail(err);
}
