/* An index of the signing events under one notes ref, so that a lookup by
 * artifact digest, signer or annotated commit costs the matches, not the
 * history (docs/signgate-notes.md, "The events index").
 *
 * It is a cache, never evidence: it is a function of the notes ref's tree,
 * kept in $GIT_COMMON_DIR/signgate/notes-index/, checksummed, keyed by the
 * tree id, and brought up to date by diffing the tree it describes against
 * the ref's current tree (only the notes that changed are read again; a
 * full scan when that tree is gone or the file is missing, truncated or
 * does not check out). Every event it finds is read again from the note in
 * the current tree and must be a whole paragraph that parses as an event
 * there; callers judge that event, never the index's copy of its keys. */
#ifndef SG_NOTES_INDEX_H
#define SG_NOTES_INDEX_H

#include <git2.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "notes/notes.h"

#define SG_INDEX_KEY_LEN 16 /* leading characters of a key kept (lowercase); the rest is checked on the event read */

typedef struct sg_notes_index sg_notes_index;

/* The keys an event is found by: Artifact-Sha256; the signer id
 * (Signer-Cert-Sha256, else Signer-Key-Fingerprint); Signature-Sha256. */
typedef enum { SG_INDEX_ARTIFACT = 0, SG_INDEX_SIGNER = 1, SG_INDEX_SIGNATURE = 2 } sg_index_key;
#define SG_INDEX_KEYS 3

typedef struct sg_index_stats {
	size_t notes;      /* notes in the tree */
	size_t events;     /* events indexed */
	size_t skipped;    /* paragraphs that are not events, and bad ones */
	size_t reparsed;   /* notes read in this open (0 when the cache was current) */
	int rebuilt;       /* 1: a full scan (no usable cache), 0: cache used or updated */
	int saved;         /* 1: the cache file was written */
} sg_index_stats;

/* Open the index of notes_ref, up to date with the ref. A missing ref is an
 * empty index. The cache file is rewritten when it changed; when it cannot
 * be written (read-only repository) the index lives in memory only. */
int sg_notes_index_open(sg_notes_index **out, git_repository *repo, const char *notes_ref);
void sg_notes_index_free(sg_notes_index *ix);
const sg_index_stats *sg_notes_index_stats(const sg_notes_index *ix);
size_t sg_notes_index_count(const sg_notes_index *ix);
/* Signed-At of event i (0 when absent or unparsable): the order of `log`. */
int64_t sg_notes_index_signed_at(const sg_notes_index *ix, size_t i);

/* Events whose key may start with `prefix` (hex, any case): a superset of
 * the matches, in index order (the notes' order, as sg_notes_foreach reads
 * them). *out is malloc'd (free it). */
int sg_notes_index_find(uint32_t **out, size_t *n, const sg_notes_index *ix, sg_index_key key,
			const char *prefix);
/* The events of the note on `annotated`: [*first, *first + *n). */
void sg_notes_index_on(size_t *first, size_t *n, const sg_notes_index *ix, const git_oid *annotated);

/* Notes in the index, the one on `annotated` (-1: none), and a note's
 * parse report (its bad paragraphs, as sg_events_parse_report gave them;
 * release it). */
size_t sg_notes_index_notes(const sg_notes_index *ix);
ssize_t sg_notes_index_note_of(const sg_notes_index *ix, const git_oid *annotated);
int sg_notes_index_problems(sg_parse_report *rep, git_oid *annotated, const sg_notes_index *ix, size_t note);

/* The note the last read event was read from (its whole text, as stored),
 * valid until the next read or free; NULL before the first read. */
const char *sg_notes_index_note_text(const sg_notes_index *ix, size_t *len);

/* Read event i again from the note in the ref's current tree. *ev is valid
 * until the next read or free. SG_ERROR when the index and the note
 * disagree (the cache file is then removed; open again to rebuild). */
int sg_notes_index_read(const sg_event **ev, git_oid *annotated, sg_notes_index *ix, size_t i);

#endif
