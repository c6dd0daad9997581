/* Signing notes (DESIGN.md section 4): events are paragraphs of
 * "Key: value" lines in git trailer syntax, appended to the note on a
 * commit; a batch is one notes commit, moved with compare-and-swap. */
#ifndef SG_NOTES_NOTES_H
#define SG_NOTES_NOTES_H

#include <git2.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/strlist.h"

/* Limits (docs/signgate-notes.md). */
#define SG_EVENT_KEY "Signgate-Event"    /* the first field of every event */
#define SG_EVENT_KEY_MAX 128             /* bytes in a key */
#define SG_EVENT_VALUE_MAX 4096          /* bytes in a value given to sg_event_add */
#define SG_EVENT_PARSE_VALUE_MAX 65536   /* bytes in a parsed value (continuations joined) */
#define SG_EVENT_PARSE_LONG_MAX (8 * 1024 * 1024) /* an attestation paragraph's base64 value */
#define SG_ATTESTATION_KEY "Signgate-Attestation" /* first field of an attestation paragraph */
#define SG_EVENT_FIELDS_MAX 256          /* fields in one event */
#define SG_EVENTS_MAX 65536              /* events in one note */
#define SG_EVENTS_FIELDS_TOTAL_MAX 524288 /* fields over all events of one note */
#define SG_NOTES_MAX (16 * 1024 * 1024)  /* bytes in one note */

/* A field's key and value share one allocation owned by `key` (build
 * events with sg_event_add only; sg_event_release frees them). */
typedef struct sg_event_field {
	char *key;
	char *value;
} sg_event_field;

typedef struct sg_event {
	sg_event_field *f;
	size_t n;
} sg_event;

/* Add a field; newlines and other control characters in the value are
 * replaced so a value can never start a new field or paragraph.
 * The key must match [A-Za-z0-9-]+ (else SG_ERROR); the value is trimmed,
 * an empty value is written "-", a value over SG_EVENT_VALUE_MAX bytes is
 * refused (SG_ERROR); a NULL value counts as empty. */
int sg_event_add(sg_event *e, const char *key, const char *value);
/* The same for values made by signgate that may be long (base64 of an
 * attestation): up to SG_EVENT_PARSE_LONG_MAX bytes. */
int sg_event_add_long(sg_event *e, const char *key, const char *value);
int sg_event_addf(sg_event *e, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Value of the first field with this key (case-insensitive), or NULL. */
const char *sg_event_get(const sg_event *e, const char *key);
/* The value of a time field (e.g. Signed-At) as seconds since the epoch;
 * 0 when the field is absent or not a time. */
time_t sg_event_time(const sg_event *e, const char *key);
void sg_event_release(sg_event *e);
/* dst (empty) becomes a deep copy of src. */
int sg_event_copy(sg_event *dst, const sg_event *src);
/* Append the paragraph (no blank line) to out. */
int sg_event_format(const sg_event *e, sg_buf *out);

/* Parse a note's text into events. The text is split into paragraphs at
 * blank lines over its whole length (a NUL byte does not end it).
 * A paragraph whose first field is "Signgate-Event: WORD" (key
 * case-insensitive) and whose every line is "Key: value" or a continuation
 * (leading whitespace) is an event. Other paragraphs are not events:
 * remarks are counted in report->skipped, attestation paragraphs
 * ("Signgate-Attestation: ...", sg_attestations_parse) are not. A bad
 * paragraph -- one holding a NUL byte, or starting with Signgate-Event but
 * malformed or over a cap (a value over SG_EVENT_PARSE_VALUE_MAX, more
 * than SG_EVENT_FIELDS_MAX fields, past SG_EVENTS_MAX events or
 * SG_EVENTS_FIELDS_TOTAL_MAX fields in the note) -- is skipped and
 * reported (report->bad, report->problems); the paragraphs before and
 * after it still count. CRLF is accepted; control characters in values
 * become spaces. Only text over SG_NOTES_MAX is refused (SG_ERROR), and
 * out of memory. *out is NULL when no event was found. `report` may be
 * NULL; otherwise release it with sg_parse_report_release. */
#define SG_PARSE_PROBLEMS_MAX 16         /* bad paragraphs described per note (all are counted) */
typedef struct sg_parse_report {
	size_t skipped;           /* paragraphs that are not events */
	size_t bad;               /* bad paragraphs, skipped */
	sg_strlist problems;      /* "paragraph 2 (byte 41) skipped: it contains a NUL byte" */
} sg_parse_report;
int sg_events_parse_report(sg_event **out, size_t *n, sg_parse_report *report, const char *text,
			   size_t len);
void sg_parse_report_release(sg_parse_report *r);
/* The same, counting skipped and bad paragraphs together in *skipped (may be NULL). */
int sg_events_parse(sg_event **out, size_t *n, size_t *skipped, const char *text, size_t len);
/* The attestation paragraphs of a note (first field "Signgate-Attestation",
 * DESIGN.md 4a), parsed by the same rules with values up to
 * SG_EVENT_PARSE_LONG_MAX bytes (bad ones are skipped silently; none is
 * an event for sg_events_parse, nor counted in its skipped). */
int sg_attestations_parse(sg_event **out, size_t *n, const char *text, size_t len);
void sg_events_free(sg_event *ev, size_t n);

/* The same parse without a copy per event: cb sees each event in turn
 * (valid during the call only) with its paragraph's place in the text,
 * [off, off + len). A non-zero cb return stops the walk and is returned
 * (*report is then not filled). `report` may be NULL. */
typedef int (*sg_events_each_cb)(const sg_event *ev, size_t off, size_t len, void *payload);
int sg_events_each(const char *text, size_t len, sg_events_each_cb cb, void *payload, sg_parse_report *report);

/* One paragraph parsed into reusable memory: s->ev's keys and values point
 * into s and stay valid until the next parse (never sg_event_release it).
 * 1 when [p, p + len) is an event, 0 when it is not, < 0 on error. */
typedef struct sg_event_scratch {
	sg_event ev;
	char *buf;
	size_t bufcap, fcap;
	const char *first_key;    /* NULL: SG_EVENT_KEY (SG_ATTESTATION_KEY for attestations) */
	size_t value_max;         /* 0: SG_EVENT_PARSE_VALUE_MAX */
} sg_event_scratch;
#define SG_EVENT_SCRATCH_INIT { { NULL, 0 }, NULL, 0, 0, NULL, 0 }
int sg_event_parse_paragraph(sg_event_scratch *s, const char *p, size_t len);
void sg_event_scratch_release(sg_event_scratch *s);

/* The signer id of an event: Signer-Cert-Sha256, else Signer-Key-Fingerprint. */
const char *sg_event_signer(const sg_event *ev);

/* Append `events` (n >= 1; each an event or an attestation paragraph) to
 * the note on `commit` under `notes_ref` in ONE
 * notes commit, CAS with retry (git_note_commit_create +
 * git_reference_create_matching). `message` is the notes commit message.
 * The old note is kept byte for byte (a prefix of the new one, as the
 * server hook requires), a bad paragraph in it included, and the events
 * start a paragraph of their own (sg_notes_paragraph_break).
 * Durable when it returns SG_OK (sg_notes_sync_objects, then the ref moves,
 * then sg_notes_sync_ref): a crash never leaves the ref naming objects
 * that were lost, and a caller that publishes files after this call never
 * publishes them before their record is on disk. */
int sg_notes_append(git_repository *repo, const char *notes_ref, const git_oid *commit,
		    const sg_event *events, size_t n, const char *message);
/* Same, with raw paragraph text (used by approvals): trailing whitespace
 * trimmed, must not be empty. */
int sg_notes_append_text(git_repository *repo, const char *notes_ref, const git_oid *commit,
			 const char *text, const char *message);

/* The file system that holds the repository's objects: synced (syncfs)
 * after a note's objects are written and before its ref moves, so that
 * everything written there before the append -- the note's objects, and
 * a caller's temp files on the same file system -- is on disk before the
 * record can be seen. `dev` (may be NULL) gets that file system's id. */
int sg_notes_objects_fs(dev_t *dev, git_repository *repo);
int sg_notes_sync_objects(git_repository *repo);

/* What to write after a note's text `text` so that what follows starts a
 * paragraph of its own, the text kept byte for byte: "" (empty, or it
 * already ends with a blank line), "\n" or "\n\n". */
const char *sg_notes_paragraph_break(const char *text, size_t len);

/* Read the note text on commit (SG_ENOTFOUND when none). Capped at max bytes. */
/* Find the note blob for `hex` (the annotated object's id) in a notes
 * tree, following git's fan-out subtrees ("ab/cdef..."), the flat name
 * first; its path in the tree is appended to `path` (may be NULL; room for
 * 2 * GIT_OID_HEXSZ + 1 bytes). 1 found, 0 not, < 0 error. */
int sg_notes_find_blob(git_oid *out, char *path, git_repository *repo, const git_tree *tree,
		       const char *hex);
/* Read the note blob `id` into out (appended, NUL-terminated), refusing
 * anything but a blob of at most max bytes before loading it. */
/* *size: the byte size of note blob `id`, from its header alone (nothing is
 * inflated); SG_ERROR when it is missing or not a blob. */
int sg_notes_blob_size(size_t *size, git_repository *repo, const git_oid *id);
int sg_notes_read_blob(sg_buf *out, git_repository *repo, const git_oid *id, size_t max);
int sg_notes_read(sg_buf *out, git_repository *repo, const char *notes_ref,
		  const git_oid *commit, size_t max);

/* Call cb for every note under notes_ref (text NUL-terminated, len bytes).
 * A missing notes ref means no notes (returns 0). Notes larger than
 * SG_NOTES_MAX are skipped. A non-zero cb return stops the walk and is
 * returned. */
typedef int (*sg_notes_foreach_cb)(const git_oid *commit, const char *text, size_t len, void *payload);
int sg_notes_foreach(git_repository *repo, const char *notes_ref, sg_notes_foreach_cb cb, void *payload);

/* --- lookup (lookup.c) ------------------------------------------------------ */

/* The refs that hold signing events: refs/notes/signatures and every
 * profile's notesRef (pol may be NULL). Appends to out. */
struct sg_policy;
int sg_notes_event_refs(sg_strlist *out, const struct sg_policy *pol);

/* A signing event that records one of the digests asked for. */
typedef struct sg_digest_hit {
	char digest[65];          /* the digest it matched (lowercase hex) */
	char commit[GIT_OID_HEXSZ + 1]; /* the commit the note is on */
	char *notes_ref;
	sg_event ev;              /* the whole event (Tag, Signed-At, Artifact, ...) */
} sg_digest_hit;

typedef struct sg_digest_hits {
	sg_digest_hit *v;
	size_t n, cap;
} sg_digest_hits;

/* Every "Signgate-Event: sign" event under `notes_refs` whose field `key`
 * ("Artifact-Sha256", "Signature-Sha256") is one of `digests` (64 hex,
 * compared case-insensitively; others are ignored), in the order the notes
 * are read. Bad paragraphs are skipped (sg_events_parse). Found through
 * the events index of each ref (index.h): the cost is the matches. */
int sg_notes_lookup_digests(sg_digest_hits *out, git_repository *repo, const sg_strlist *notes_refs,
			    const char *key, const char *const *digests, size_t n);
void sg_digest_hits_release(sg_digest_hits *h);

/* SG_ERROR unless notes_ref is a valid reference name under refs/notes/. */
int sg_notes_ref_check(const char *notes_ref);

/* --- sync (sync.c, sync_merge.c; docs/sync.md) ------------------------------ */

#define SG_NOTES_SIGNATURES_REF "refs/notes/signatures"
#define SG_NOTES_APPROVALS_REF "refs/notes/signgate-approvals"

/* The union of two notes' texts, every paragraph of both, each once, the
 * remote's text (`theirs`) kept byte for byte as the prefix: a server
 * keeps notes append-only (pre-receive), so only text after it can be
 * pushed. When one text is a prefix of the other, the longer one as it is.
 * Otherwise: `theirs`, then each local paragraph it lacks (paragraphs
 * split at blank lines, their lines' trailing whitespace trimmed; an event
 * (sg_events_parse) identified by its parsed form, any other paragraph by
 * its text), each after a blank line and followed by one newline. A local
 * paragraph to add that holds a NUL byte is SG_ERROR. */
int sg_notes_merge_text(sg_buf *out, const char *ours, size_t olen, const char *theirs, size_t tlen);

/* A merge commit of two notes commits (parents: ours, theirs) whose tree
 * holds every note of both, the differing ones merged with
 * sg_notes_merge_text (flat tree, no fan-out; top-level non-note entries of
 * both kept). *notes_merged (may be NULL): notes whose text was merged. */
int sg_notes_merge_commits(git_oid *out, size_t *notes_merged, git_repository *repo,
			   const git_oid *ours, const git_oid *theirs, const char *message);

typedef struct sg_sync_result {
	size_t attempts;      /* rounds of fetch, merge, push */
	size_t merges;        /* merge commits made */
	size_t notes_merged;  /* notes whose texts were merged */
	size_t pushed;        /* refs the remote accepted (up to date counts) */
} sg_sync_result;

/* The refs `sync` carries: refs/notes/signatures, refs/notes/signgate-approvals
 * and every profile's notesRef (pol may be NULL). Appends to out. */
struct sg_policy;
int sg_notes_sync_refs(sg_strlist *out, const struct sg_policy *pol);

/* Fetch `notes_refs` from `remote` (a configured remote, a URL or a path)
 * into refs/signgate/remotes/<remote or url-HASH>/notes/..., merge each
 * with the local ref (fast-forward when one side contains the other, else
 * sg_notes_merge_commits), move the local refs with compare-and-swap, and
 * push with `git push` (non-forced: the remote compares and swaps); when
 * the remote moved meanwhile, start again (bounded, with jitter). */
int sg_notes_sync(sg_sync_result *res, git_repository *repo, const char *remote,
		  const sg_strlist *notes_refs);

#endif
