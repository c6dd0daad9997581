/* The reviewer's side: verify one artifact's signature, timestamp, chain,
 * revocation status and signing event; collect the recorded events for
 * `log` and `revoke`; the setup checks of `doctor`. */
#ifndef SG_VERIFY_VERIFY_H
#define SG_VERIFY_VERIFY_H

#include <git2.h>
#include <stddef.h>
#include <time.h>

#include "attest/attest.h"
#include "core/buf.h"
#include "core/strlist.h"
#include "notes/index.h"
#include "notes/notes.h"
#include "policy/policy.h"

#define SG_DEFAULT_NOTES_REF "refs/notes/signatures"
#define SG_SIG_MAX (1024 * 1024)          /* bytes in a .p7s / .asc / .asc.tsr */

/* ---- verify (verify.c, cms.c, openpgp.c) ---- */

typedef struct sg_verify_opts {
	const char *rev;          /* NULL: a matching event anywhere in the notes */
	const char *profile;      /* NULL: choose by profile.artifacts, else try each profile */
	time_t now;               /* 0: time(NULL) (the time a timestamp-less signature is judged at) */
} sg_verify_opts;

typedef struct sg_verify_result {
	int ok;                   /* 1 only when every check passed */
	char *reason;             /* why it failed (NULL when ok) */
	char *artifact;           /* as given */
	char *display;            /* relative to the work tree (as in notes) */
	char sha256[65];          /* of the artifact ("" when not read) */
	char *signature;          /* path of FILE.p7s / FILE.asc (NULL when none) */
	char sig_sha256[65];      /* of the signature file */
	const char *format;       /* "cms" | "openpgp" (static) */
	char *profile;            /* the profile whose anchor / keys vouched */
	int test;                 /* 1: that profile is a test profile (never a release signature) */
	char id_key[32];          /* "Signer-Cert-Sha256" | "Signer-Key-Fingerprint" */
	char signer_id[129];
	char *signer_subject;
	time_t not_after;         /* cms: signer cert validity end */
	int timestamped;          /* 1: a verified timestamp judged the signature */
	time_t ts_time;
	char ts_text[32];
	char event_commit[GIT_OID_HEXSZ + 1]; /* where the signing event was found */
	char *event_ref;
	char *signed_at, *signed_by, *tag;
	sg_strlist warnings;      /* bad paragraphs skipped in the notes read (sg_note_problems) */
} sg_verify_result;

/* Verify one FILE. Returns SG_OK when verified, SG_EVERIFY with the reason
 * (also in out->reason) when not, another SG_E* on an operational error.
 * `out` is filled as far as verification got, in every case. */
int sg_verify_file(sg_verify_result *out, git_repository *repo, const sg_policy *pol,
		   const char *path, const sg_verify_opts *opts);
void sg_verify_result_release(sg_verify_result *r);

/* What the crypto check of one signature established (cms.c, openpgp.c). */
typedef struct sg_sig_check {
	char id_key[32];
	char id[129];             /* cert sha256 hex / OpenPGP fingerprint (uppercase) */
	char subject[512];
	time_t not_after;
	int timestamped;
	time_t ts_time;
} sg_sig_check;

/* CMS, in two steps so that several profiles can be tried over one read
 * of the artifact. open: parse the DER SignedData (exactly one signer) and
 * check it over the artifact at fd (read from its current offset to EOF;
 * its SHA-256 goes to sha256_out): SG_EVERIFY "does not match the
 * artifact". check: the timestamp token (unsigned attribute
 * id-smime-aa-timeStampToken over the signature value) against
 * prof->tsa_trust_anchor, then the chain to prof->trust_anchor (purpose
 * any) at the token's time, or at `now` without a token, then the
 * codeSigning EKU. SG_EVERIFY with the reason. */
typedef struct sg_cms_sig sg_cms_sig;
int sg_cms_sig_open(sg_cms_sig **out, const unsigned char *der, size_t len, int fd,
		    unsigned char sha256_out[32]);
int sg_cms_sig_check(sg_sig_check *out, const sg_cms_sig *s, const sg_profile *prof, time_t now);
/* The signer (cert sha256 and subject) without judging it. */
int sg_cms_sig_signer(sg_sig_check *out, const sg_cms_sig *s);
void sg_cms_sig_free(sg_cms_sig *s);

/* OpenPGP: open verifies `asc` over the artifact at fd with GPGME (the
 * signer's public key must be in the keyring); check: the signer's
 * fingerprint is in prof->allowed_key (or prof->key), the timestamp
 * response `tsr` (may be NULL) over the asc bytes against
 * prof->tsa_trust_anchor, and key expiry/revocation at the judged time. */
typedef struct sg_pgp_sig sg_pgp_sig;
int sg_pgp_sig_open(sg_pgp_sig **out, const unsigned char *asc, size_t len, int fd);
int sg_pgp_sig_check(sg_sig_check *out, const sg_pgp_sig *s, const unsigned char *asc,
		     size_t asclen, const unsigned char *tsr, size_t tsrlen,
		     const sg_profile *prof, time_t now);
void sg_pgp_sig_free(sg_pgp_sig *s);

/* ---- events across history (events.c) ---- */

typedef struct sg_logged_event {
	sg_event ev;
	char commit[GIT_OID_HEXSZ + 1];
	const char *notes_ref;    /* points into sg_event_log.refs */
	time_t signed_at;         /* Signed-At, 0 when absent or unparsable */
	time_t ts_time;           /* Timestamp: time, 0 when none (not set by sg_event_source_read) */
	size_t seq;               /* collection order (later = newer within a note) */
	int attested;             /* set by sg_event_log_attest (DESIGN.md 4a) */
	int attested_test;        /* attested under a test profile */
	char *unattested;         /* why not, when not attested (owned; sg_event_log only) */
	const char *note_text;    /* sg_event_source_read: the whole note the event is in, */
	size_t note_len;          /* valid as long as le->ev (NULL otherwise) */
} sg_logged_event;

typedef struct sg_event_log {
	sg_logged_event *v;
	size_t n, cap;
	size_t skipped;           /* paragraphs that are not events */
	size_t bad;               /* bad paragraphs skipped (NUL, malformed, over a cap) */
	sg_strlist warnings;      /* what they were, at most SG_NOTE_WARNINGS_MAX lines */
	size_t notes;             /* notes read */
	sg_strlist refs;          /* notes refs read */
} sg_event_log;

/* Describe the bad paragraphs of the note on `commit` under `ref` in `out`
 * ("note on 3f2a9c1e0b7d in refs/notes/signatures: paragraph 2 (byte 41)
 * skipped: it contains a NUL byte"), adding nothing once `out` holds
 * SG_NOTE_WARNINGS_MAX lines. */
#define SG_NOTE_WARNINGS_MAX 100
int sg_note_problems(sg_strlist *out, const sg_parse_report *rep, const git_oid *commit,
		     const char *ref);

/* Reading events through each notes ref's index (notes/index.h): select
 * (every event, by key, by commit, by range), sort newest first, then read
 * each selected event again from its note. */
typedef struct sg_event_source {
	git_repository *repo;
	sg_strlist refs;
	sg_notes_index **ix;      /* one per ref */
	size_t notes, skipped;    /* over every ref */
} sg_event_source;

typedef struct sg_event_pick {
	uint32_t ref, idx;        /* refs.v[ref], event idx of its index */
} sg_event_pick;

typedef struct sg_event_sel {
	sg_event_pick *v;
	size_t n, cap;
} sg_event_sel;

int sg_event_source_open(sg_event_source *out, git_repository *repo, const sg_strlist *refs);
void sg_event_source_release(sg_event_source *src);
int sg_event_select_all(sg_event_sel *sel, const sg_event_source *src);
/* Candidates whose key may start with prefix: re-check the event read. */
int sg_event_select_key(sg_event_sel *sel, const sg_event_source *src, sg_index_key key, const char *prefix);
/* The events on one commit / on the commits of revrange ("A..B", "A...B" or
 * one rev: its history); the bad paragraphs of their notes described in
 * `warnings` (may be NULL), as sg_note_problems does. */
int sg_event_select_commit(sg_event_sel *sel, sg_strlist *warnings, const sg_event_source *src,
			   const git_oid *commit);
int sg_event_select_range(sg_event_sel *sel, sg_strlist *warnings, const sg_event_source *src,
			  const char *revrange);
/* The bad paragraphs of every note, described in `out`; *bad (may be NULL)
 * counts them all. */
int sg_event_source_warnings(sg_strlist *out, size_t *bad, const sg_event_source *src);
/* Newest first by Signed-At (ties: later recorded first). */
void sg_event_sel_sort(sg_event_sel *sel, const sg_event_source *src);
void sg_event_sel_release(sg_event_sel *sel);
/* Read a selected event again from its note: le->ev is a view, valid until
 * the next read from the same ref (never release it). */
int sg_event_source_read(sg_logged_event *le, sg_event_source *src, const sg_event_pick *p);

/* Judging events as they are read (log, doctor): each note's attestation
 * paragraphs are opened once, from the text the source read holds. */
typedef struct sg_event_judge {
	sg_attest_ctx *actx;
	git_repository *repo;
	sg_attest_note *anote;    /* the attestations of the note on `commit` under `ref` */
	const char *ref;
	git_oid commit;
} sg_event_judge;
int sg_event_judge_one(sg_attest_verdict *v, sg_event_judge *j, const sg_logged_event *le);
void sg_event_judge_release(sg_event_judge *j);

/* The notes refs where events live: refs/notes/signatures and every
 * profile's notesRef (pol may be NULL). */
int sg_verify_notes_refs(sg_strlist *out, const sg_policy *pol);
/* Collect the events of every note under `refs` (revrange NULL), or of the
 * commits in `revrange` ("A..B", "A...B" or one rev: its history). */
int sg_event_log_collect(sg_event_log *out, git_repository *repo, const sg_strlist *refs,
			 const char *revrange);
/* Owned copies of the events whose signer id may start with `signer`
 * (check each), newest first. */
int sg_event_log_by_signer(sg_event_log *out, git_repository *repo, const sg_strlist *refs,
			   const char *signer);
/* Judge every collected event (sg_attest_judge_at; one signature check per
 * batch): attested, or unattested with the reason. Before sorting, the
 * events of a note are adjacent: each note is read once. */
int sg_event_log_attest(sg_event_log *log, git_repository *repo, const sg_policy *pol);
/* Newest first by Signed-At (ties: later recorded first). */
void sg_event_log_sort(sg_event_log *log);
void sg_event_log_release(sg_event_log *log);
/* The policy's revocation of the event's signer (ids compared in lowercase), or NULL. */
const sg_revocation *sg_event_revocation(const sg_policy *pol, const sg_event *ev);
/* The time of an event's Timestamp: value ("2026-...Z (url)"); 0 when none. */
time_t sg_event_ts_time(const sg_event *ev);

/* ---- doctor (doctor.c) ---- */

typedef enum { SG_CHECK_OK = 0, SG_CHECK_WARN = 1, SG_CHECK_FAIL = 2 } sg_check_status;

typedef void (*sg_doctor_cb)(sg_check_status st, const char *what, const char *detail,
			     void *payload);

typedef struct sg_doctor_opts {
	int login;                /* log in to PKCS#11 tokens (asks the PIN) */
	int skip_tsa;             /* do not contact the TSAs */
	time_t now;               /* 0: time(NULL) */
} sg_doctor_opts;

/* Run every check of the setup, reporting each through cb. Returns the
 * worst status seen. `pol` may be NULL when it could not be loaded (the
 * caller reports that). */
sg_check_status sg_doctor_run(git_repository *repo, const sg_policy *pol,
			      const sg_doctor_opts *opts, sg_doctor_cb cb, void *payload);

#endif
