/* The recorded signing events across history, for `log`, `revoke` and
 * the benchmark: every note under the notes refs, or the notes of the
 * commits in a revision range. */
#include "verify/verify.h"
#include "core/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOTE_MAX (16 * 1024 * 1024)

int sg_verify_notes_refs(sg_strlist *out, const sg_policy *pol)
{
	sg_strlist refs = SG_STRLIST_INIT;
	size_t i;
	int err = sg_strlist_add(&refs, SG_DEFAULT_NOTES_REF);

	for (i = 0; pol && err == SG_OK && i < pol->nprofiles; i++)
		if (pol->profiles[i].notes_ref)
			err = sg_strlist_add_unique(&refs, pol->profiles[i].notes_ref, 0);
	if (err < 0) {
		sg_strlist_release(&refs);
		return err;
	}
	*out = refs;
	return SG_OK;
}

const char *sg_event_signer(const sg_event *ev)
{
	const char *s = sg_event_get(ev, "Signer-Cert-Sha256");
	return s ? s : sg_event_get(ev, "Signer-Key-Fingerprint");
}

const sg_revocation *sg_event_revocation(const sg_policy *pol, const sg_event *ev)
{
	const char *s = sg_event_signer(ev);
	char id[129];
	size_t i;

	if (!pol || !s || strlen(s) >= sizeof(id))
		return NULL;
	for (i = 0; s[i]; i++)
		id[i] = (char)tolower((unsigned char)s[i]);
	id[i] = '\0';
	return sg_policy_revocation(pol, id);
}

time_t sg_event_ts_time(const sg_event *ev)
{
	const char *v = sg_event_get(ev, "Timestamp");
	char word[32];
	time_t t = 0;
	size_t n;

	if (!v)
		return 0;
	n = strcspn(v, " \t");
	if (n == 0 || n >= sizeof(word))
		return 0;
	memcpy(word, v, n);
	word[n] = '\0';
	if (sg_time_parse(&t, word) < 0) {
		sg_error_clear();
		return 0;
	}
	return t;
}

static time_t field_time(const sg_event *ev, const char *key)
{
	const char *v = sg_event_get(ev, key);
	time_t t = 0;

	if (!v || sg_time_parse(&t, v) < 0) {
		sg_error_clear();
		return 0;
	}
	return t;
}

typedef struct collect_state {
	sg_event_log *log;
	const char *ref;
	int err;
} collect_state;

static int log_push(sg_event_log *log, sg_event *ev, const git_oid *commit, const char *ref)
{
	sg_logged_event *le;

	if (log->n == log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 256;
		sg_logged_event *v = realloc(log->v, cap * sizeof(*v));
		if (!v)
			return sg_error_set(SG_ERROR, "out of memory");
		log->v = v;
		log->cap = cap;
	}
	le = &log->v[log->n];
	memset(le, 0, sizeof(*le));
	le->ev = *ev;
	memset(ev, 0, sizeof(*ev));
	git_oid_tostr(le->commit, sizeof(le->commit), commit);
	le->notes_ref = ref;
	le->signed_at = field_time(&le->ev, "Signed-At");
	le->ts_time = sg_event_ts_time(&le->ev);
	le->seq = log->n;
	log->n++;
	return SG_OK;
}

int sg_note_problems(sg_strlist *out, const sg_parse_report *rep, const git_oid *commit,
		     const char *ref)
{
	char line[512], hex[GIT_OID_HEXSZ + 1];
	size_t i;
	int err = SG_OK;

	git_oid_tostr(hex, sizeof(hex), commit);
	for (i = 0; i < rep->problems.n && err == SG_OK && out->n < SG_NOTE_WARNINGS_MAX; i++) {
		snprintf(line, sizeof(line), "note on %.12s in %s: %s", hex, ref, rep->problems.v[i]);
		err = sg_strlist_add(out, line);
	}
	if (err == SG_OK && rep->bad > rep->problems.n && out->n < SG_NOTE_WARNINGS_MAX) {
		snprintf(line, sizeof(line), "note on %.12s in %s: %zu more bad paragraphs skipped", hex,
			 ref, rep->bad - rep->problems.n);
		err = sg_strlist_add(out, line);
	}
	return err;
}

static int collect_note(const git_oid *commit, const char *text, size_t len, void *payload)
{
	collect_state *st = payload;
	sg_parse_report rep;
	sg_event *ev = NULL;
	size_t n = 0, i;
	int err;

	if ((err = sg_events_parse_report(&ev, &n, &rep, text, len)) < 0) {
		/* only a note over SG_NOTES_MAX gets here (callers skip those first) */
		sg_error_clear();
		st->log->skipped++;
		st->log->notes++;
		return 0;
	}
	st->log->notes++;
	st->log->skipped += rep.skipped;
	st->log->bad += rep.bad;
	err = sg_note_problems(&st->log->warnings, &rep, commit, st->ref ? st->ref : "?");
	sg_parse_report_release(&rep);
	for (i = 0; i < n && err == SG_OK; i++)
		err = log_push(st->log, &ev[i], commit, st->ref);
	sg_events_free(ev, n);
	if (err < 0) {
		st->err = err;
		return 1;
	}
	return 0;
}

static int walk_range(git_revwalk **out, git_repository *repo, const char *range)
{
	git_revwalk *walk = NULL;
	git_object *obj = NULL;
	int gerr;

	if (git_revwalk_new(&walk, repo) < 0)
		return sg_error_set(SG_ERROR, "cannot walk history");
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	if (strstr(range, ".."))
		gerr = git_revwalk_push_range(walk, range);
	else if ((gerr = git_revparse_single(&obj, repo, range)) == 0) {
		git_object *c = NULL;
		if ((gerr = git_object_peel(&c, obj, GIT_OBJECT_COMMIT)) == 0)
			gerr = git_revwalk_push(walk, git_object_id(c));
		git_object_free(c);
	}
	git_object_free(obj);
	if (gerr < 0) {
		git_revwalk_free(walk);
		return sg_error_set(SG_EUSAGE, "%s is not a revision or range of commits", range);
	}
	*out = walk;
	return SG_OK;
}

static int collect_range(sg_event_log *log, git_repository *repo, const char *range)
{
	git_revwalk *walk = NULL;
	sg_buf note = SG_BUF_INIT;
	collect_state st = { log, NULL, SG_OK };
	git_oid id;
	size_t i;
	int err;

	if ((err = walk_range(&walk, repo, range)) < 0)
		return err;
	while (err == SG_OK && git_revwalk_next(&id, walk) == 0) {
		for (i = 0; i < log->refs.n && err == SG_OK; i++) {
			sg_buf_clear(&note);
			err = sg_notes_read(&note, repo, log->refs.v[i], &id, NOTE_MAX);
			if (err == SG_ENOTFOUND) {
				sg_error_clear();
				err = SG_OK;
				continue;
			}
			if (err < 0)
				break;
			st.ref = log->refs.v[i];
			collect_note(&id, note.ptr ? note.ptr : "", note.size, &st);
			err = st.err;
		}
	}
	sg_buf_dispose(&note);
	git_revwalk_free(walk);
	return err;
}

/* Every note under one ref. The blobs are read in place (no copy): with
 * thousands of notes this walk is what `log` costs. */
static int collect_ref(sg_event_log *log, git_repository *repo, const char *ref)
{
	collect_state st = { log, ref, SG_OK };
	git_note_iterator *it = NULL;
	git_oid note_id, annotated;
	git_blob *blob = NULL;
	int gerr, err = SG_OK;

	gerr = git_note_iterator_new(&it, repo, ref);
	if (gerr == GIT_ENOTFOUND)
		return SG_OK;
	if (gerr < 0)
		return sg_error_set(SG_ERROR, "cannot read %s: %s", ref,
				    git_error_last() ? git_error_last()->message : "?");
	while (err == SG_OK && (gerr = git_note_next(&note_id, &annotated, it)) == 0) {
		if (git_blob_lookup(&blob, repo, &note_id) < 0) {
			err = sg_error_set(SG_ERROR, "cannot read the note on %s in %s",
					   git_oid_tostr_s(&annotated), ref);
			break;
		}
		if (git_blob_rawsize(blob) <= NOTE_MAX) {
			collect_note(&annotated, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), &st);
			err = st.err;
		} else {
			log->skipped++;
		}
		git_blob_free(blob);
		blob = NULL;
	}
	if (err == SG_OK && gerr != GIT_ITEROVER)
		err = sg_error_set(SG_ERROR, "cannot walk %s: %s", ref,
				   git_error_last() ? git_error_last()->message : "?");
	git_note_iterator_free(it);
	return err;
}

int sg_event_log_collect(sg_event_log *out, git_repository *repo, const sg_strlist *refs,
			 const char *revrange)
{
	sg_event_log log;
	size_t i;
	int err = SG_OK;

	memset(&log, 0, sizeof(log));
	for (i = 0; i < refs->n && err == SG_OK; i++)
		err = sg_strlist_add(&log.refs, refs->v[i]);
	if (err == SG_OK && revrange)
		err = collect_range(&log, repo, revrange);
	for (i = 0; err == SG_OK && !revrange && i < log.refs.n; i++)
		err = collect_ref(&log, repo, log.refs.v[i]);
	if (err < 0) {
		sg_event_log_release(&log);
		return err;
	}
	*out = log;
	return SG_OK;
}

static int newest_first(const void *a, const void *b)
{
	const sg_logged_event *x = a, *y = b;

	if (x->signed_at != y->signed_at)
		return x->signed_at < y->signed_at ? 1 : -1;
	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

void sg_event_log_sort(sg_event_log *log)
{
	if (log->n > 1)
		qsort(log->v, log->n, sizeof(*log->v), newest_first);
}

void sg_event_log_release(sg_event_log *log)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		sg_event_release(&log->v[i].ev);
	free(log->v);
	sg_strlist_release(&log->refs);
	sg_strlist_release(&log->warnings);
	memset(log, 0, sizeof(log[0]));
}
