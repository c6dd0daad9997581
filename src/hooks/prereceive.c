/* pre-receive: what a server accepts. A release tag needs a commit that
 * passes the gate and (release.requireNote) a signing event in the notes,
 * the pushed notes counting; the notes refs only grow: no deletion, no
 * rewrite, every old note a byte prefix of its new version, the text
 * added starting a paragraph of its own, with no NUL byte, within
 * SG_NOTES_MAX. */
#include "hooks/hooks.h"
#include "attest/attest.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/git.h"
#include "gate/gate.h"
#include "notes/notes.h"
#include "verify/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APPROVALS_NOTES_REF "refs/notes/signgate-approvals"

int sg_prereceive_quarantine(git_repository *repo)
{
	const char *q = getenv("GIT_QUARANTINE_PATH");
	git_odb *odb = NULL;
	int ret = SG_ERROR;

	if (!q || !*q)
		return SG_OK;
	if (git_repository_odb(&odb, repo) < 0 || git_odb_add_disk_alternate(odb, q) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot read the pushed objects in %s: %s", q, sg_git_errmsg());
		goto done;
	}
	ret = SG_OK;
done:
	git_odb_free(odb);
	return ret;
}

/* ---- notes are append-only ---- */

static int is_blank_char(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* The text added after `old` (len bytes) begins a paragraph of its own:
 * between old's last non-blank byte and the first non-blank added byte
 * there is a blank line (two newlines), or nothing is added but blanks. */
static int starts_paragraph(const char *old, size_t oldlen, const char *add, size_t addlen)
{
	size_t newlines = 0, i;

	for (i = oldlen; i > 0 && is_blank_char(old[i - 1]); i--)
		newlines += old[i - 1] == '\n';
	if (i == 0)
		return 1; /* old is blank: nothing to join */
	for (i = 0; i < addlen && is_blank_char(add[i]); i++)
		newlines += add[i] == '\n';
	return i == addlen || newlines >= 2;
}

int sg_notes_text_appends(const char *old, size_t oldlen, const char *new, size_t newlen)
{
	size_t i;

	if (newlen > SG_NOTES_MAX)
		return sg_error_set(SG_EDENIED, "the note would be %zu bytes, over the cap of %d bytes "
				    "(SG_NOTES_MAX); record under another notes ref", newlen, SG_NOTES_MAX);
	for (i = 0; i < oldlen && i < newlen && old[i] == new[i]; i++)
		;
	if (i < oldlen)
		return sg_error_set(SG_EDENIED, "the recorded text is changed at byte %zu (%s); "
				    "text may only be added at the end", i,
				    i == newlen ? "the new note is shorter" : "an edit, not an append");
	if (memchr(new + oldlen, '\0', newlen - oldlen))
		return sg_error_set(SG_EDENIED, "the text added holds a NUL byte at byte %zu",
				    (size_t)((const char *)memchr(new + oldlen, '\0', newlen - oldlen) - new));
	if (!starts_paragraph(old, oldlen, new + oldlen, newlen - oldlen))
		return sg_error_set(SG_EDENIED, "the text added continues the note's last paragraph; "
				    "start it after a blank line");
	return SG_OK;
}

/* The note blob `id`; one over SG_NOTES_MAX is refused from its header,
 * before any of it is inflated (a pushed blob that unpacks to gigabytes
 * costs the hook nothing). */
static int blob_text(sg_buf *out, git_repository *repo, const git_oid *id)
{
	size_t size;
	int ret;

	if ((ret = sg_notes_blob_size(&size, repo, id)) < 0)
		return ret;
	if (size > SG_NOTES_MAX)
		return sg_error_set(SG_EDENIED, "a note is larger than the cap of %d bytes (SG_NOTES_MAX)",
				    SG_NOTES_MAX);
	sg_buf_clear(out);
	return sg_notes_read_blob(out, repo, id, SG_NOTES_MAX);
}

static int note_id_at(git_oid *out, git_repository *repo, git_commit *notes_commit,
		      const git_oid *target)
{
	git_note *note = NULL;
	int gerr = git_note_commit_read(&note, repo, notes_commit, target);

	if (gerr == GIT_ENOTFOUND) {
		git_error_clear();
		return SG_ENOTFOUND;
	}
	if (gerr < 0)
		return sg_error_set(SG_ERROR, "cannot read a note: %s", sg_git_errmsg());
	*out = *git_note_id(note);
	git_note_free(note);
	return SG_OK;
}

/* The note on `target` in notes commit `nc`, into `text` (SG_ENOTFOUND when none). */
static int note_text_at(sg_buf *text, git_oid *id, git_repository *repo, git_commit *nc,
			const git_oid *target)
{
	int err = note_id_at(id, repo, nc, target);

	return err < 0 ? err : blob_text(text, repo, id);
}

/* No note of `oc` is gone from `nc`. */
static int notes_kept(git_repository *repo, const char *ref, git_commit *oc, git_commit *nc)
{
	git_note_iterator *it = NULL;
	git_oid note_id, target, new_note;
	char hex[GIT_OID_HEXSZ + 1];
	int gerr, err = SG_OK;

	if (git_note_commit_iterator_new(&it, oc) < 0)
		return sg_error_set(SG_EDENIED, "%s: cannot list the old notes: %s", ref, sg_git_errmsg());
	while (err == SG_OK && (gerr = git_note_next(&note_id, &target, it)) == 0) {
		git_oid_tostr(hex, sizeof(hex), &target);
		err = note_id_at(&new_note, repo, nc, &target);
		if (err == SG_ENOTFOUND)
			err = sg_error_set(SG_EDENIED, "%s: the update removes the note on %.12s; "
					   "signing records are append-only", ref, hex);
	}
	if (err == SG_OK && gerr != GIT_ITEROVER)
		err = sg_error_set(SG_EDENIED, "%s: cannot walk the notes: %s", ref, sg_git_errmsg());
	git_note_iterator_free(it);
	return err;
}

/* Every note of `nc` that differs from `oc`'s is an append to it
 * (sg_notes_text_appends; a new note: no NUL, within the cap). */
static int notes_appended(git_repository *repo, const char *ref, git_commit *oc, git_commit *nc)
{
	git_note_iterator *it = NULL;
	git_oid note_id, target, old_note;
	sg_buf a = SG_BUF_INIT, b = SG_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	int gerr, err = SG_OK;

	if (git_note_commit_iterator_new(&it, nc) < 0)
		return sg_error_set(SG_EDENIED, "%s: cannot list the new notes: %s", ref, sg_git_errmsg());
	while (err == SG_OK && (gerr = git_note_next(&note_id, &target, it)) == 0) {
		git_oid_tostr(hex, sizeof(hex), &target);
		sg_buf_clear(&a);
		err = oc ? note_text_at(&a, &old_note, repo, oc, &target) : SG_ENOTFOUND;
		if (err == SG_ENOTFOUND)
			err = SG_OK;
		else if (err == SG_OK && git_oid_equal(&old_note, &note_id))
			continue;
		if (err < 0 || (err = blob_text(&b, repo, &note_id)) < 0)
			break;
		if ((err = sg_notes_text_appends(a.ptr, a.size, b.ptr, b.size)) == SG_EDENIED)
			err = sg_error_set(SG_EDENIED, "%s: the note on %.12s: %s; signing records are "
					   "append-only", ref, hex, sg_error_last());
	}
	if (err == SG_OK && gerr != GIT_ITEROVER)
		err = sg_error_set(SG_EDENIED, "%s: cannot walk the notes: %s", ref, sg_git_errmsg());
	git_note_iterator_free(it);
	sg_buf_dispose(&a);
	sg_buf_dispose(&b);
	return err;
}

/* The notes commit `new_id` only adds to `old_id` (zero: a new ref). */
static int notes_append_only(git_repository *repo, const char *ref, const git_oid *old_id,
			     const git_oid *new_id)
{
	git_commit *oc = NULL, *nc = NULL;
	int err;

	if ((!git_oid_is_zero(old_id) && git_commit_lookup(&oc, repo, old_id) < 0) ||
	    git_commit_lookup(&nc, repo, new_id) < 0) {
		err = sg_error_set(SG_EDENIED, "%s: cannot read the notes commits: %s", ref,
				   sg_git_errmsg());
		goto done;
	}
	if ((oc && (err = notes_kept(repo, ref, oc, nc)) < 0) || (err = notes_appended(repo, ref, oc, nc)) < 0)
		goto done;
	err = SG_OK;
done:
	git_error_clear();
	git_commit_free(oc);
	git_commit_free(nc);
	return err;
}

static int check_notes_update(git_repository *repo, const sg_ref_update *up)
{
	int d;

	if (git_oid_is_zero(&up->new_id))
		return sg_error_set(SG_EDENIED, "%s: deleting a notes ref would erase signing records", up->ref);
	if (git_oid_equal(&up->old_id, &up->new_id))
		return SG_OK;
	if (git_oid_is_zero(&up->old_id)) /* a new ref: its notes hold no NUL, within the cap */
		return notes_append_only(repo, up->ref, &up->old_id, &up->new_id);
	d = git_graph_descendant_of(repo, &up->new_id, &up->old_id);
	if (d < 0) {
		int e = sg_error_set(SG_EDENIED, "%s: cannot compare old and new: %s", up->ref,
				     sg_git_errmsg());
		git_error_clear();
		return e;
	}
	if (d == 0)
		return sg_error_set(SG_EDENIED, "%s: not a fast-forward; signing records are append-only "
				    "(fetch and merge the notes: signgate sync)", up->ref);
	return notes_append_only(repo, up->ref, &up->old_id, &up->new_id);
}

/* ---- release tags ---- */

/* An attested signing event by a production (non-test) profile on commit,
 * in the notes ref as this push leaves it (DESIGN.md 4a): a hand-written
 * paragraph never satisfies release.requireNote. */
static int has_signing_event(int *found, sg_attest_ctx *actx, git_repository *repo,
			     const sg_ref_updates *u, const char *ref, const git_oid *commit)
{
	sg_attest_note *an = NULL;
	sg_attest_verdict v;
	const sg_ref_update *up = sg_ref_updates_find(u, ref);
	git_oid tip, note_id;
	git_commit *nc = NULL;
	sg_buf text = SG_BUF_INIT;
	sg_event *ev = NULL;
	size_t n = 0, i;
	int err;

	*found = 0;
	if (up) {
		if (git_oid_is_zero(&up->new_id))
			return SG_OK;
		tip = up->new_id;
	} else if (git_reference_name_to_id(&tip, repo, ref) < 0) {
		git_error_clear();
		return SG_OK;
	}
	if (git_commit_lookup(&nc, repo, &tip) < 0) {
		err = sg_error_set(SG_EDENIED, "%s does not point to a notes commit", ref);
		goto done;
	}
	if ((err = note_id_at(&note_id, repo, nc, commit)) == SG_ENOTFOUND) {
		err = SG_OK;
		goto done;
	}
	if (err < 0 || (err = blob_text(&text, repo, &note_id)) < 0 ||
	    (err = sg_events_parse(&ev, &n, NULL, text.ptr ? text.ptr : "", text.size)) < 0)
		goto done;
	if ((err = sg_attest_note_open(&an, actx, commit, text.ptr, text.size)) < 0)
		goto done;
	for (i = 0; i < n && !*found; i++) {
		const char *kind = sg_event_get(&ev[i], SG_EVENT_KEY);
		if (!kind || strcmp(kind, "sign") != 0)
			continue;
		if ((err = sg_attest_judge(&v, an, &ev[i])) < 0)
			goto done;
		*found = v.attested && !v.test;
	}
done:
	sg_attest_note_free(an);
	git_error_clear();
	sg_events_free(ev, n);
	sg_buf_dispose(&text);
	git_commit_free(nc);
	return err;
}

/* The gate without the signer rule: who pushes is not who signed (the
 * signing event names its signer). */
static int gate_allows(sg_gate_result *g, int err)
{
	size_t i;

	if (err == SG_OK)
		return 1;
	if (err != SG_EDENIED || !g->nrules)
		return 0;
	for (i = 0; i < g->nrules; i++)
		if (!g->rules[i].ok && strcmp(g->rules[i].name, "signer") != 0)
			return 0;
	return 1;
}

static int check_tag(sg_strlist *denials, sg_strlist *accepted, git_repository *repo,
		     const sg_policy *pol, const sg_ref_updates *u, const char *tag,
		     const git_oid *new_id)
{
	sg_gate_result g;
	sg_gate_opts opts = { 0, 0 };
	sg_strlist refs = SG_STRLIST_INIT;
	sg_attest_ctx *actx = NULL;
	git_oid commit;
	char hex[GIT_OID_HEXSZ + 1], line[2048];
	size_t i;
	int err, found = 0;

	memset(&g, 0, sizeof(g));
	if ((err = sg_peel_to_commit(&commit, repo, new_id)) < 0) {
		snprintf(line, sizeof(line), "tag %s: %s", tag, sg_error_last());
		err = sg_strlist_add(denials, line);
		goto done;
	}
	git_oid_tostr(hex, sizeof(hex), &commit);
	err = sg_gate_evaluate(&g, repo, pol, hex, &opts);
	if (!gate_allows(&g, err)) {
		snprintf(line, sizeof(line), "tag %s (%.12s): the gate denies it: %s", tag, hex,
			 g.denial ? g.denial : sg_error_last() ? sg_error_last() : "denied");
		err = sg_strlist_add(denials, line);
		goto done;
	}
	sg_error_clear();
	if (pol->require_note) {
		if ((err = sg_verify_notes_refs(&refs, pol)) < 0 ||
		    (err = sg_attest_ctx_new(&actx, pol)) < 0)
			goto done;
		for (i = 0; i < refs.n && !found; i++)
			if ((err = has_signing_event(&found, actx, repo, u, refs.v[i], &commit)) < 0)
				goto done;
		if (!found) {
			snprintf(line, sizeof(line), "tag %s (%.12s): no signing event (attested, by a "
				 "production profile) in the notes on that commit (release.requireNote); sign "
				 "the release with signgate and push %s with the tag", tag, hex, refs.v[0]);
			err = sg_strlist_add(denials, line);
			goto done;
		}
	}
	snprintf(line, sizeof(line), "tag %s (%.12s): %s%s", tag, hex, g.summary ? g.summary : "allowed",
		 pol->require_note ? "; attested signing event recorded" : "");
	err = sg_strlist_add(accepted, line);
done:
	if (err < 0 && err != SG_ERROR) {
		/* an operational failure while judging is a refusal too */
		snprintf(line, sizeof(line), "tag %s: %s", tag, sg_error_last() ? sg_error_last() : "failed");
		err = sg_strlist_add(denials, line);
	}
	sg_attest_ctx_free(actx);
	sg_strlist_release(&refs);
	sg_gate_result_release(&g);
	return err;
}

/* The notes refs kept append-only: signgate's own (signatures, approvals,
 * every profile's notesRef) and, when gate.reviewSource uses gerrit, the
 * Gerrit review notes ref it reads (gate.gerritNotesRef). */
static int is_protected_notes_ref(const sg_policy *pol, const char *ref)
{
	size_t i;

	if (!strcmp(ref, SG_DEFAULT_NOTES_REF) || !strcmp(ref, APPROVALS_NOTES_REF))
		return 1;
	for (i = 0; i < pol->nprofiles; i++)
		if (pol->profiles[i].notes_ref && !strcmp(ref, pol->profiles[i].notes_ref))
			return 1;
	return sg_strlist_contains(&pol->review_source, "gerrit", 1) &&
	       !strcmp(ref, pol->gerrit_notes_ref ? pol->gerrit_notes_ref : "refs/notes/review");
}

static void audit_push(git_repository *repo, const sg_strlist *denials, const sg_strlist *accepted)
{
	json_t *rec = json_object(), *d = json_array(), *a = json_array();
	size_t i;

	for (i = 0; i < denials->n; i++)
		json_array_append_new(d, json_string(denials->v[i]));
	for (i = 0; i < accepted->n; i++)
		json_array_append_new(a, json_string(accepted->v[i]));
	json_object_set_new(rec, "op", json_string("pre-receive"));
	json_object_set_new(rec, "decision", json_string(denials->n ? "denied" : "allowed"));
	json_object_set_new(rec, "denials", d);
	json_object_set_new(rec, "accepted", a);
	if (sg_audit_append(repo, rec) < 0)
		sg_error_clear();
	json_decref(rec);
}

int sg_prereceive_check(sg_strlist *denials, sg_strlist *accepted, git_repository *repo,
			const sg_policy *pol, const sg_ref_updates *u)
{
	sg_push_view view = { NULL, NULL };
	size_t i;
	int err = SG_OK, judged = 0;
	char line[2048];

	for (i = 0; i < u->n && err == SG_OK; i++) {
		const sg_ref_update *up = &u->v[i];
		const char *tag = sg_release_tag(pol, up->ref);

		if (tag && !git_oid_is_zero(&up->new_id)) {
			judged = 1;
			/* a tag is judged against the branches as the whole push leaves them */
			if (!view.repo && sg_push_moves_branches(u) && (err = sg_push_view_open(&view, repo, pol, u)) < 0)
				break;
			err = check_tag(denials, accepted, view.repo ? view.repo : repo, pol, u, tag, &up->new_id);
		} else if (is_protected_notes_ref(pol, up->ref)) {
			judged = 1;
			if ((err = check_notes_update(repo, up)) == SG_EDENIED) {
				err = sg_strlist_add(denials, sg_error_last());
			} else if (err == SG_OK) {
				snprintf(line, sizeof(line), "%s: append-only update", up->ref);
				err = sg_strlist_add(accepted, line);
			}
		}
	}
	sg_push_view_close(&view);
	if (err < 0)
		return err;
	if (judged)
		audit_push(repo, denials, accepted);
	if (denials->n)
		return sg_error_set(SG_EDENIED, "%zu ref update%s refused", denials->n,
				    denials->n == 1 ? "" : "s");
	return SG_OK;
}
