/* Review source "gerrit": the review note Gerrit writes on a submitted
 * commit (gate.gerritNotesRef, default refs/notes/review), lines such as
 * "Code-Review+2: Alice <alice@example.com>". Only the configured label
 * with a score of at least gate.gerritMinScore counts. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/git.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SG_NOTE_MAX (1024 * 1024)
#define SG_LINE_MAX 1024

/* One line: returns 1 and fills score/value when it carries `label`. */
static int parse_line(int *score, const char **value, const char *line, size_t len, const char *label)
{
	size_t ll = strlen(label), i;
	int sign, v = 0, digits = 0;

	if (len <= ll + 2 || strncasecmp(line, label, ll) != 0 || (line[ll] != '+' && line[ll] != '-'))
		return 0;
	sign = line[ll] == '-' ? -1 : 1;
	for (i = ll + 1; i < len && isdigit((unsigned char)line[i]); i++) {
		if (++digits > 3)
			return 0;
		v = v * 10 + (line[i] - '0');
	}
	if (!digits || i >= len || line[i] != ':')
		return 0;
	*score = sign * v;
	*value = line + i + 1;
	return 1;
}

/* Gerrit names an account without an email "Gerrit User 1000042
 * <1000042@SERVER-ID>": with [person] sections that is gerrit:1000042. */
static int account_ids(sg_review_list *l, size_t from)
{
	char id[32];
	size_t i, n;

	for (i = from; i < l->n; i++) {
		char *e = l->v[i].email;

		n = e ? strspn(e, "0123456789") : 0;
		if (!n || n > 12 || e[n] != '@')
			continue;
		snprintf(id, sizeof(id), "gerrit:%.*s", (int)n, e);
		free(e);
		if (!(l->v[i].email = strdup(id)))
			return sg_error_set(SG_ERROR, "out of memory");
	}
	return SG_OK;
}

static int add_line(sg_review_list *out, const char *line, size_t len, const char *label, int min_score)
{
	char buf[SG_LINE_MAX + 1], *email = NULL, why[SG_LINE_MAX + 64];
	const char *value;
	int score, err;

	if (len > SG_LINE_MAX)
		len = SG_LINE_MAX;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (!parse_line(&score, &value, buf, len, label))
		return SG_OK;
	err = sg_gate_parse_identity(&email, value);
	if (err == SG_ENOTFOUND) {
		snprintf(why, sizeof(why), "gerrit line \"%.80s\" names no email", buf);
		return sg_review_list_add(out, NULL, "gerrit", why);
	}
	if (err < 0)
		return err;
	if (score <= 0)
		snprintf(why, sizeof(why), "%s%+d is not an approval", label, score);
	else if (score < min_score)
		snprintf(why, sizeof(why), "%s%+d is below %+d", label, score, min_score);
	err = sg_review_list_add(out, email, "gerrit", score > 0 && score >= min_score ? NULL : why);
	free(email);
	return err;
}

int sg_gate_gerrit_parse(sg_review_list *out, const char *note, const char *label, int min_score)
{
	const char *p = note, *nl;
	int err;

	if (!label || !*label)
		label = "Code-Review";
	if (min_score < 1)
		min_score = 2;  /* the documented default; +0 is never an approval */
	while (*p) {
		size_t len;

		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if ((err = add_line(out, p, len, label, min_score)) < 0)
			return err;
		if (!nl)
			break;
		p = nl + 1;
	}
	return SG_OK;
}

int sg_gate_source_gerrit(sg_review_list *out, const sg_review_ctx *ctx)
{
	const char *ref = ctx->pol->gerrit_notes_ref ? ctx->pol->gerrit_notes_ref : "refs/notes/review";
	git_note *note = NULL;
	const char *msg;
	char hex[GIT_OID_HEXSZ + 1];
	size_t from = out->n;
	int err;

	err = git_note_read(&note, ctx->repo, ref, ctx->rev);
	if (err == GIT_ENOTFOUND)
		return SG_OK;
	git_oid_tostr(hex, sizeof(hex), ctx->rev);
	if (err < 0)
		return sg_error_set(SG_EDENIED, "cannot read the gerrit note on %s in %s: %s", hex, ref,
				    sg_git_errmsg());
	msg = git_note_message(note);
	if (strlen(msg) > SG_NOTE_MAX)
		err = sg_error_set(SG_EDENIED, "the gerrit note on %s in %s is larger than %d bytes", hex, ref,
				   SG_NOTE_MAX);
	else if ((err = sg_gate_gerrit_parse(out, msg, ctx->pol->gerrit_label, ctx->pol->gerrit_min_score)) == SG_OK &&
		 ctx->pol->npersons)
		err = account_ids(out, from);
	git_note_free(note);
	return err;
}
