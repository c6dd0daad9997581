/* Signing notes (DESIGN.md section 4): events are paragraphs of
 * "Key: value" lines in git trailer syntax, appended to the note on a
 * commit; a batch is one notes commit, moved with compare-and-swap. */
#ifndef SG_NOTES_NOTES_H
#define SG_NOTES_NOTES_H

#include <git2.h>
#include <stddef.h>

#include "core/buf.h"

typedef struct sg_event_field {
	char *key;
	char *value;
} sg_event_field;

typedef struct sg_event {
	sg_event_field *f;
	size_t n;
} sg_event;

/* Add a field; newlines and other control characters in the value are
 * replaced so a value can never start a new field or paragraph. */
int sg_event_add(sg_event *e, const char *key, const char *value);
int sg_event_addf(sg_event *e, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Value of the first field with this key (case-insensitive), or NULL. */
const char *sg_event_get(const sg_event *e, const char *key);
void sg_event_release(sg_event *e);
/* Append the paragraph (no blank line) to out. */
int sg_event_format(const sg_event *e, sg_buf *out);

/* Parse a note's text into events: paragraphs whose first field is
 * "Signgate-Event:" are events; other paragraphs are counted in *skipped. */
int sg_events_parse(sg_event **out, size_t *n, size_t *skipped, const char *text, size_t len);
void sg_events_free(sg_event *ev, size_t n);

/* Append `events` (n >= 1) to the note on `commit` under `notes_ref` in ONE
 * notes commit, CAS with retry (git_note_commit_create +
 * git_reference_create_matching). `message` is the notes commit message. */
int sg_notes_append(git_repository *repo, const char *notes_ref, const git_oid *commit,
		    const sg_event *events, size_t n, const char *message);
/* Same, with raw paragraph text (used by approvals). */
int sg_notes_append_text(git_repository *repo, const char *notes_ref, const git_oid *commit,
			 const char *text, const char *message);

/* Read the note text on commit (SG_ENOTFOUND when none). Capped at max bytes. */
int sg_notes_read(sg_buf *out, git_repository *repo, const char *notes_ref,
		  const git_oid *commit, size_t max);

#endif
