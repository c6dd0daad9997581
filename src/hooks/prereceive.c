/* pre-receive: what a server accepts. A release tag needs a commit that
 * passes the gate and (release.requireNote) a signing event in the notes,
 * the pushed notes counting; the notes refs only grow: no deletion, no
 * rewrite, no note losing a paragraph. */
#include "hooks/hooks.h"
#include "audit/audit.h"
#include "core/error.h"
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
		const git_error *e = git_error_last();
		ret = sg_error_set(SG_ERROR, "cannot read the pushed objects in %s: %s", q,
				   e && e->message ? e->message : "unknown error");
		goto done;
	}
	ret = SG_OK;
done:
	git_odb_free(odb);
	return ret;
}

/* ---- notes are append-only ---- */

/* Normalise `text` into `buf` (len + 1 bytes): paragraphs (separated by
 * blank lines) with trailing blanks of each line dropped, lines joined by
 * '\n', each paragraph NUL-terminated; the start of each goes to *out.
 * Returns the number of paragraphs, or (size_t)-1 when out of memory. */
static size_t paragraphs(char *buf, const char *text, size_t len, char ***out)
{
	char **v = NULL, *w = buf;
	size_t n = 0, cap = 0, pos = 0;
	int in_para = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *line = text + pos;

		pos += l + 1;
		while (l && (line[l - 1] == ' ' || line[l - 1] == '\t' || line[l - 1] == '\r'))
			l--;
		if (!l) {
			if (in_para)
				*w++ = '\0';
			in_para = 0;
			continue;
		}
		if (in_para) {
			*w++ = '\n';
		} else {
			if (n == cap) {
				char **nv;
				cap = cap ? cap * 2 : 16;
				if (!(nv = realloc(v, cap * sizeof(*v)))) {
					free(v);
					*out = NULL;
					return (size_t)-1;
				}
				v = nv;
			}
			v[n++] = w;
			in_para = 1;
		}
		for (size_t i = 0; i < l; i++) /* a NUL must not hide what follows it */
			*w++ = line[i] ? line[i] : '\x01';
	}
	*w = '\0';
	*out = v;
	return n;
}

int sg_notes_text_keeps(const char *old, size_t oldlen, const char *new, size_t newlen)
{
	char *a = malloc(oldlen + 1), *b = malloc(newlen + 1);
	char **pa = NULL, **pb = NULL;
	size_t na = 0, nb = 0, i, j;
	int ret = SG_EDENIED;

	if (!a || !b) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	na = paragraphs(a, old, oldlen, &pa);
	nb = paragraphs(b, new, newlen, &pb);
	if (na == (size_t)-1 || nb == (size_t)-1) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && strcmp(pa[i], pb[j]) != 0; j++)
			;
		if (j == nb) {
			char first[160];
			snprintf(first, sizeof(first), "%s", pa[i]);
			if (strchr(first, '\n'))
				*strchr(first, '\n') = '\0';
			ret = sg_error_set(SG_EDENIED, "a paragraph of the note is gone (it began \"%s\")", first);
			goto done;
		}
	}
	ret = SG_OK;
done:
	free(pa);
	free(pb);
	free(a);
	free(b);
	return ret;
}

static int blob_text(sg_buf *out, git_repository *repo, const git_oid *id)
{
	git_blob *blob = NULL;
	int ret = SG_ERROR;

	if (git_blob_lookup(&blob, repo, id) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot read note blob: %s", git_error_last()->message);
		goto done;
	}
	if (git_blob_rawsize(blob) > SG_NOTES_MAX) {
		ret = sg_error_set(SG_EDENIED, "a note is larger than %d bytes", SG_NOTES_MAX);
		goto done;
	}
	sg_buf_clear(out);
	ret = sg_buf_put(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
done:
	git_blob_free(blob);
	return ret;
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
		return sg_error_set(SG_ERROR, "cannot read a note: %s", git_error_last()->message);
	*out = *git_note_id(note);
	git_note_free(note);
	return SG_OK;
}

/* Every note of `old` keeps all its paragraphs in `new`. */
static int notes_append_only(git_repository *repo, const char *ref, const git_oid *old_id,
			     const git_oid *new_id)
{
	git_commit *oc = NULL, *nc = NULL;
	git_note_iterator *it = NULL;
	git_oid note_id, target, new_note;
	sg_buf a = SG_BUF_INIT, b = SG_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	int gerr, err = SG_EDENIED;

	if (git_commit_lookup(&oc, repo, old_id) < 0 || git_commit_lookup(&nc, repo, new_id) < 0 ||
	    git_note_commit_iterator_new(&it, oc) < 0) {
		err = sg_error_set(SG_EDENIED, "%s: cannot read the notes commits: %s", ref,
				   git_error_last()->message);
		goto done;
	}
	while ((gerr = git_note_next(&note_id, &target, it)) == 0) {
		git_oid_tostr(hex, sizeof(hex), &target);
		err = note_id_at(&new_note, repo, nc, &target);
		if (err == SG_ENOTFOUND) {
			err = sg_error_set(SG_EDENIED, "%s: the update removes the note on %.12s; "
					   "signing records are append-only", ref, hex);
			goto done;
		}
		if (err < 0)
			goto done;
		if (git_oid_equal(&note_id, &new_note))
			continue;
		if ((err = blob_text(&a, repo, &note_id)) < 0 || (err = blob_text(&b, repo, &new_note)) < 0)
			goto done;
		if ((err = sg_notes_text_keeps(a.ptr, a.size, b.ptr, b.size)) < 0) {
			if (err == SG_EDENIED)
				err = sg_error_set(SG_EDENIED, "%s: the note on %.12s loses recorded text: %s; "
						   "signing records are append-only", ref, hex, sg_error_last());
			goto done;
		}
	}
	if (gerr != GIT_ITEROVER) {
		err = sg_error_set(SG_EDENIED, "%s: cannot walk the notes: %s", ref, git_error_last()->message);
		goto done;
	}
	err = SG_OK;
done:
	git_error_clear();
	sg_buf_dispose(&a);
	sg_buf_dispose(&b);
	git_note_iterator_free(it);
	git_commit_free(oc);
	git_commit_free(nc);
	return err;
}

static int check_notes_update(git_repository *repo, const sg_ref_update *up)
{
	int d;

	if (git_oid_is_zero(&up->new_id))
		return sg_error_set(SG_EDENIED, "%s: deleting a notes ref would erase signing records", up->ref);
	if (git_oid_is_zero(&up->old_id) || git_oid_equal(&up->old_id, &up->new_id))
		return SG_OK;
	d = git_graph_descendant_of(repo, &up->new_id, &up->old_id);
	if (d < 0) {
		int e = sg_error_set(SG_EDENIED, "%s: cannot compare old and new: %s", up->ref,
				     git_error_last()->message);
		git_error_clear();
		return e;
	}
	if (d == 0)
		return sg_error_set(SG_EDENIED, "%s: not a fast-forward; signing records are append-only "
				    "(fetch and merge the notes: signgate sync)", up->ref);
	return notes_append_only(repo, up->ref, &up->old_id, &up->new_id);
}

/* ---- release tags ---- */

static const sg_ref_update *find_update(const sg_ref_updates *u, const char *ref)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (!strcmp(u->v[i].ref, ref))
			return &u->v[i];
	return NULL;
}

/* A signing event on `commit` in the notes ref as it will be after the push. */
static int has_signing_event(int *found, git_repository *repo, const sg_ref_updates *u,
			     const char *ref, const git_oid *commit)
{
	const sg_ref_update *up = find_update(u, ref);
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
	for (i = 0; i < n; i++) {
		const char *kind = sg_event_get(&ev[i], SG_EVENT_KEY);
		if (kind && !strcmp(kind, "sign"))
			*found = 1;
	}
done:
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
		if ((err = sg_verify_notes_refs(&refs, pol)) < 0)
			goto done;
		for (i = 0; i < refs.n && !found; i++)
			if ((err = has_signing_event(&found, repo, u, refs.v[i], &commit)) < 0)
				goto done;
		if (!found) {
			snprintf(line, sizeof(line), "tag %s (%.12s): no signing event in the notes on that "
				 "commit (release.requireNote); sign the release and push %s with the tag",
				 tag, hex, refs.v[0]);
			err = sg_strlist_add(denials, line);
			goto done;
		}
	}
	snprintf(line, sizeof(line), "tag %s (%.12s): %s%s", tag, hex, g.summary ? g.summary : "allowed",
		 pol->require_note ? "; signing event recorded" : "");
	err = sg_strlist_add(accepted, line);
done:
	if (err < 0 && err != SG_ERROR) {
		/* an operational failure while judging is a refusal too */
		snprintf(line, sizeof(line), "tag %s: %s", tag, sg_error_last() ? sg_error_last() : "failed");
		err = sg_strlist_add(denials, line);
	}
	sg_strlist_release(&refs);
	sg_gate_result_release(&g);
	return err;
}

static int is_protected_notes_ref(const sg_policy *pol, const char *ref)
{
	size_t i;

	if (!strcmp(ref, SG_DEFAULT_NOTES_REF) || !strcmp(ref, APPROVALS_NOTES_REF))
		return 1;
	for (i = 0; i < pol->nprofiles; i++)
		if (pol->profiles[i].notes_ref && !strcmp(ref, pol->profiles[i].notes_ref))
			return 1;
	return 0;
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
	size_t i;
	int err = SG_OK, judged = 0;
	char line[2048];

	for (i = 0; i < u->n && err == SG_OK; i++) {
		const sg_ref_update *up = &u->v[i];
		const char *tag = sg_release_tag(pol, up->ref);

		if (tag && !git_oid_is_zero(&up->new_id)) {
			judged = 1;
			err = check_tag(denials, accepted, repo, pol, u, tag, &up->new_id);
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
	if (err < 0)
		return err;
	if (judged)
		audit_push(repo, denials, accepted);
	if (denials->n)
		return sg_error_set(SG_EDENIED, "%zu ref update%s refused", denials->n,
				    denials->n == 1 ? "" : "s");
	return SG_OK;
}
