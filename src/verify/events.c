/* The recorded signing events across history, for `log`, `revoke` and
 * the benchmark: every note under the notes refs, or the notes of the
 * commits in a revision range. */
#include "verify/verify.h"
#include "attest/attest.h"
#include "core/error.h"
#include "core/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sg_verify_notes_refs(sg_strlist *out, const sg_policy *pol)
{
	sg_strlist refs = SG_STRLIST_INIT;
	int err = sg_notes_event_refs(&refs, pol);

	if (err < 0) {
		sg_strlist_release(&refs);
		return err;
	}
	*out = refs;
	return SG_OK;
}

const sg_revocation *sg_event_revocation(const sg_policy *pol, const sg_event *ev)
{
	const char *s = sg_event_signer(ev);
	char id[129];

	if (!pol || !s || sg_str_lower_copy(id, sizeof(id), s) < 0)
		return NULL;
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

/* ---- reading events through the notes refs' indexes ---- */

int sg_event_source_open(sg_event_source *out, git_repository *repo, const sg_strlist *refs)
{
	sg_event_source src;
	size_t i;
	int err = SG_OK;

	memset(&src, 0, sizeof(src));
	src.repo = repo;
	for (i = 0; i < refs->n && err == SG_OK; i++)
		err = sg_strlist_add(&src.refs, refs->v[i]);
	if (err == SG_OK && refs->n && !(src.ix = calloc(refs->n, sizeof(*src.ix))))
		err = sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < refs->n && err == SG_OK; i++) {
		const sg_index_stats *st;

		if ((err = sg_notes_index_open(&src.ix[i], repo, refs->v[i])) < 0)
			break;
		st = sg_notes_index_stats(src.ix[i]);
		src.notes += st->notes;
		src.skipped += st->skipped;
	}
	if (err < 0) {
		sg_event_source_release(&src);
		return err;
	}
	*out = src;
	return SG_OK;
}

void sg_event_source_release(sg_event_source *src)
{
	size_t i;

	for (i = 0; src->ix && i < src->refs.n; i++)
		sg_notes_index_free(src->ix[i]);
	free(src->ix);
	sg_strlist_release(&src->refs);
	memset(src, 0, sizeof(*src));
}

static int sel_add(sg_event_sel *sel, size_t ref, size_t idx)
{
	int err;

	if ((err = sg_array_reserve((void **)&sel->v, &sel->cap, sel->n, 64, sizeof(*sel->v))) < 0)
		return err;
	sel->v[sel->n].ref = (uint32_t)ref;
	sel->v[sel->n].idx = (uint32_t)idx;
	sel->n++;
	return SG_OK;
}

void sg_event_sel_release(sg_event_sel *sel)
{
	free(sel->v);
	memset(sel, 0, sizeof(*sel));
}

int sg_event_select_all(sg_event_sel *sel, const sg_event_source *src)
{
	size_t r, i;
	int err = SG_OK;

	for (r = 0; r < src->refs.n && err == SG_OK; r++)
		for (i = 0; i < sg_notes_index_count(src->ix[r]) && err == SG_OK; i++)
			err = sel_add(sel, r, i);
	return err;
}

int sg_event_select_key(sg_event_sel *sel, const sg_event_source *src, sg_index_key key, const char *prefix)
{
	uint32_t *v = NULL;
	size_t r, i, n = 0;
	int err = SG_OK;

	for (r = 0; r < src->refs.n && err == SG_OK; r++) {
		if ((err = sg_notes_index_find(&v, &n, src->ix[r], key, prefix)) < 0)
			break;
		for (i = 0; i < n && err == SG_OK; i++)
			err = sel_add(sel, r, v[i]);
		free(v);
		v = NULL;
	}
	return err;
}

/* The bad paragraphs of note k of ref r, described in `out`. */
static int note_warnings(sg_strlist *out, const sg_event_source *src, size_t r, size_t k, size_t *bad)
{
	sg_parse_report rep;
	git_oid annotated;
	int err;

	if ((err = sg_notes_index_problems(&rep, &annotated, src->ix[r], k)) < 0)
		return err;
	if (bad)
		*bad += rep.bad;
	if (rep.bad)
		err = sg_note_problems(out, &rep, &annotated, src->refs.v[r]);
	sg_parse_report_release(&rep);
	return err;
}

int sg_event_source_warnings(sg_strlist *out, size_t *bad, const sg_event_source *src)
{
	size_t r, k;
	int err = SG_OK;

	for (r = 0; r < src->refs.n && err == SG_OK; r++)
		for (k = 0; k < sg_notes_index_notes(src->ix[r]) && err == SG_OK; k++)
			err = note_warnings(out, src, r, k, bad);
	return err;
}

int sg_event_select_commit(sg_event_sel *sel, sg_strlist *warnings, const sg_event_source *src,
			   const git_oid *commit)
{
	size_t r, i, first, n;
	ssize_t k;
	int err = SG_OK;

	for (r = 0; r < src->refs.n && err == SG_OK; r++) {
		sg_notes_index_on(&first, &n, src->ix[r], commit);
		for (i = 0; i < n && err == SG_OK; i++)
			err = sel_add(sel, r, first + i);
		if (err == SG_OK && warnings && (k = sg_notes_index_note_of(src->ix[r], commit)) >= 0)
			err = note_warnings(warnings, src, r, (size_t)k, NULL);
	}
	return err;
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

int sg_event_select_range(sg_event_sel *sel, sg_strlist *warnings, const sg_event_source *src,
			  const char *range)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int err;

	if ((err = walk_range(&walk, src->repo, range)) < 0)
		return err;
	while (err == SG_OK && git_revwalk_next(&id, walk) == 0)
		err = sg_event_select_commit(sel, warnings, src, &id);
	git_revwalk_free(walk);
	return err;
}

static const sg_event_source *sort_src;

static int pick_newest_first(const void *a, const void *b)
{
	const sg_event_pick *x = a, *y = b;
	int64_t tx = sg_notes_index_signed_at(sort_src->ix[x->ref], x->idx);
	int64_t ty = sg_notes_index_signed_at(sort_src->ix[y->ref], y->idx);

	if (tx != ty)
		return tx < ty ? 1 : -1;
	/* ties: later recorded first (ref, then place in the index) */
	if (x->ref != y->ref)
		return x->ref < y->ref ? 1 : -1;
	return x->idx < y->idx ? 1 : x->idx > y->idx ? -1 : 0;
}

void sg_event_sel_sort(sg_event_sel *sel, const sg_event_source *src)
{
	sort_src = src;
	if (sel->n > 1)
		qsort(sel->v, sel->n, sizeof(*sel->v), pick_newest_first);
	sort_src = NULL;
}

int sg_event_source_read(sg_logged_event *le, sg_event_source *src, const sg_event_pick *p)
{
	const sg_event *ev = NULL;
	git_oid commit;
	int err;

	if ((err = sg_notes_index_read(&ev, &commit, src->ix[p->ref], p->idx)) < 0)
		return err;
	memset(le, 0, sizeof(*le));
	le->ev = *ev;
	git_oid_tostr(le->commit, sizeof(le->commit), &commit);
	le->notes_ref = src->refs.v[p->ref];
	le->signed_at = sg_event_time(ev, "Signed-At"); /* from the note, not the index's copy */
	le->seq = p->idx;
	le->note_text = sg_notes_index_note_text(src->ix[p->ref], &le->note_len);
	return SG_OK;
}

/* ---- judging events as they are read ---- */

int sg_event_judge_one(sg_attest_verdict *v, sg_event_judge *j, const sg_logged_event *le)
{
	git_oid commit;
	int err;

	if (git_oid_fromstr(&commit, le->commit) < 0)
		return sg_error_set(SG_ERROR, "bad commit id %s", le->commit);
	if (!le->note_text)
		return sg_attest_judge_at(v, j->actx, j->repo, le->notes_ref, &commit, &le->ev);
	if (!j->anote || j->ref != le->notes_ref || !git_oid_equal(&j->commit, &commit)) {
		sg_attest_note_free(j->anote);
		j->anote = NULL;
		if ((err = sg_attest_note_open(&j->anote, j->actx, &commit, le->note_text, le->note_len)) < 0)
			return err;
		j->ref = le->notes_ref;
		git_oid_cpy(&j->commit, &commit);
	}
	return sg_attest_judge(v, j->anote, &le->ev);
}

void sg_event_judge_release(sg_event_judge *j)
{
	sg_attest_note_free(j->anote);
	j->anote = NULL;
}

/* ---- an owned list of events (revoke, tests) ---- */

static int log_push(sg_event_log *log, const sg_logged_event *view)
{
	sg_logged_event *le;
	int err;

	if ((err = sg_array_reserve((void **)&log->v, &log->cap, log->n, 256, sizeof(*log->v))) < 0)
		return err;
	le = &log->v[log->n];
	*le = *view;
	memset(&le->ev, 0, sizeof(le->ev));
	if ((err = sg_event_copy(&le->ev, &view->ev)) < 0)
		return err;
	le->note_text = NULL; /* a view into the index's current note: not owned, soon stale */
	le->note_len = 0;
	le->ts_time = sg_event_ts_time(&le->ev);
	le->seq = log->n;
	log->n++;
	return SG_OK;
}

/* The events of a selection, sorted newest first, copied into `log`. */
static int collect_sel(sg_event_log *log, sg_event_source *src, sg_event_sel *sel)
{
	sg_logged_event view;
	size_t i;
	int err = SG_OK;

	sg_event_sel_sort(sel, src);
	for (i = 0; i < sel->n && err == SG_OK; i++)
		if ((err = sg_event_source_read(&view, src, &sel->v[i])) == SG_OK) {
			view.notes_ref = log->refs.v[sel->v[i].ref]; /* log->refs outlives src */
			err = log_push(log, &view);
		}
	/* the copies are in newest-first order: seq counts the other way */
	for (i = 0; i < log->n; i++)
		log->v[i].seq = log->n - 1 - i;
	return err;
}

static int collect(sg_event_log *out, git_repository *repo, const sg_strlist *refs, const char *revrange,
		   const char *signer)
{
	sg_event_source src;
	sg_event_sel sel = { 0 };
	sg_event_log log;
	size_t i;
	int err;

	memset(&log, 0, sizeof(log));
	if ((err = sg_event_source_open(&src, repo, refs)) < 0)
		return err;
	for (i = 0; i < refs->n && err == SG_OK; i++)
		err = sg_strlist_add(&log.refs, refs->v[i]);
	if (err == SG_OK && revrange)
		err = sg_event_select_range(&sel, &log.warnings, &src, revrange);
	else if (err == SG_OK)
		err = signer ? sg_event_select_key(&sel, &src, SG_INDEX_SIGNER, signer)
			     : sg_event_select_all(&sel, &src);
	if (err == SG_OK && !revrange)
		err = sg_event_source_warnings(&log.warnings, &log.bad, &src);
	if (err == SG_OK)
		err = collect_sel(&log, &src, &sel);
	log.notes = src.notes;
	log.skipped = src.skipped;
	sg_event_sel_release(&sel);
	sg_event_source_release(&src);
	if (err < 0) {
		sg_event_log_release(&log);
		return err;
	}
	*out = log;
	return SG_OK;
}

int sg_event_log_collect(sg_event_log *out, git_repository *repo, const sg_strlist *refs,
			 const char *revrange)
{
	return collect(out, repo, refs, revrange, NULL);
}

int sg_event_log_by_signer(sg_event_log *out, git_repository *repo, const sg_strlist *refs,
			   const char *signer)
{
	return collect(out, repo, refs, NULL, signer ? signer : "");
}

int sg_event_log_attest(sg_event_log *log, git_repository *repo, const sg_policy *pol)
{
	sg_attest_ctx *ctx = NULL;
	sg_attest_verdict v;
	git_oid commit;
	size_t i;
	int err;

	if ((err = sg_attest_ctx_new(&ctx, pol)) < 0)
		return err;
	for (i = 0; i < log->n && err == SG_OK; i++) {
		sg_logged_event *le = &log->v[i];

		if (git_oid_fromstr(&commit, le->commit) < 0) {
			err = sg_error_set(SG_ERROR, "bad commit id %s", le->commit);
			break;
		}
		if ((err = sg_attest_judge_at(&v, ctx, repo, le->notes_ref, &commit, &le->ev)) < 0)
			break;
		le->attested = v.attested;
		le->attested_test = v.test;
		free(le->unattested);
		le->unattested = v.attested ? NULL : strdup(v.reason ? v.reason : "not attested");
		if (!v.attested && !le->unattested)
			err = sg_error_set(SG_ERROR, "out of memory");
	}
	sg_attest_ctx_free(ctx);
	return err;
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

	for (i = 0; i < log->n; i++) {
		sg_event_release(&log->v[i].ev);
		free(log->v[i].unattested);
	}
	free(log->v);
	sg_strlist_release(&log->refs);
	sg_strlist_release(&log->warnings);
	memset(log, 0, sizeof(log[0]));
}
