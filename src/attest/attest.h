/* Attested signing events (DESIGN.md section 4a, docs/signgate-notes.md).
 *
 * A batch makes one DSSE envelope (payloadType application/vnd.in-toto+json)
 * over an in-toto Statement v1: one subject per artifact, predicate SLSA
 * Verification Summary v1 with signgate's event beside its own fields. The
 * envelope is stored once per note in an attestation paragraph
 *
 *     Signgate-Attestation: dsse
 *     Attestation-Sha256: <hex of the envelope's JSON bytes>
 *     Attestation-Cert: <base64 DER>      (cms: one per signer; -Chain: intermediates)
 *     Attestation: <base64 of the envelope's JSON bytes>
 *
 * and each event paragraph of the batch names it by Attestation-Sha256.
 * This module sits below src/pipeline, src/verify, src/hooks and src/cli:
 * it builds (statement.c, dsse.c) and judges (judge.c, pgp.c). */
#ifndef SG_ATTEST_ATTEST_H
#define SG_ATTEST_ATTEST_H

#include <git2.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "gate/gate.h"
#include "notes/notes.h"
#include "policy/policy.h"

#define SG_ATTEST_KEY "Signgate-Attestation"      /* first field of the paragraph */
#define SG_ATTEST_SHA_KEY "Attestation-Sha256"
#define SG_ATTEST_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define SG_ATTEST_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define SG_ATTEST_PREDICATE_TYPE "https://slsa.dev/verification_summary/v1"
#define SG_ATTEST_VERIFIER_ID "https://signgate.dev/signgate"
#define SG_ATTEST_MAX (8 * 1024 * 1024)           /* bytes in one envelope */

/* ---- building (statement.c) ---- */

typedef struct sg_attest_signer {   /* one per profile used in the batch */
	const char *profile;
	const char *format;             /* "cms" | "openpgp" */
	const char *id_key;             /* "Signer-Cert-Sha256" | "Signer-Key-Fingerprint" */
	const char *id;
	const char *subject;
	int hardware;
	int test;
} sg_attest_signer;

typedef struct sg_attest_artifact { /* one per artifact: a subject */
	const char *name;               /* as in the note's Artifact: */
	const char *sha256;             /* hex */
	uint64_t size;
	const char *profile;
	const char *signature_sha256;   /* hex of the signature file */
	const char *timestamp;          /* the note's Timestamp: value */
	const char *scan;               /* the note's Scan: value (engine, database version, verdict) */
} sg_attest_artifact;

typedef struct sg_attest_batch {
	const char *commit;             /* 40 hex: the commit the note is attached to */
	const char *tag;                /* NULL when not signing for a tag */
	const char *policy;             /* the note's Policy: value */
	const sg_gate_result *gate;
	const char *signed_by;
	const char *signed_at;          /* RFC 3339 UTC */
	const sg_attest_artifact *artifacts;
	size_t nartifacts;
	const sg_attest_signer *signers;
	size_t nsigners;
} sg_attest_batch;

/* An artifact's name as a JSON subject: as the note's Artifact: value holds
 * it (control characters as spaces, trimmed), each byte of a name that is
 * not UTF-8 at or above 0x80 written \xHH. The judge maps the paragraph's
 * Artifact the same way. */
int sg_attest_name(sg_buf *out, const char *name);
/* The in-toto Statement v1 of a batch, compact JSON, appended to out. */
int sg_attest_statement(sg_buf *out, const sg_attest_batch *b);

/* ---- DSSE (dsse.c) ---- */

/* PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body. */
int sg_dsse_pae(sg_buf *out, const char *type, const void *body, size_t len);

typedef struct sg_dsse_sig {
	char *keyid;                    /* cms: signer cert sha256 hex; openpgp: fingerprint */
	sg_buf sig;                     /* raw signature bytes */
} sg_dsse_sig;

typedef struct sg_dsse_envelope {
	char *payload_type;
	sg_buf payload;                 /* decoded */
	sg_dsse_sig *sigs;
	size_t nsigs;
} sg_dsse_envelope;

/* The envelope's JSON bytes (compact, no trailing newline), appended to out. */
int sg_dsse_envelope_json(sg_buf *out, const void *payload, size_t len,
			  const sg_dsse_sig *sigs, size_t nsigs);
/* Parse envelope JSON (SG_EVERIFY with the reason when malformed). */
int sg_dsse_envelope_parse(sg_dsse_envelope *out, const char *json, size_t len);
void sg_dsse_envelope_release(sg_dsse_envelope *e);

/* The note paragraph of an envelope: Signgate-Attestation, Attestation-Sha256
 * (hex of the envelope bytes, also written to sha_hex), one Attestation-Cert
 * per DER in certs, one Attestation-Chain per DER in chain, Attestation. */
int sg_attest_paragraph(sg_event *out, char sha_hex[65], const sg_buf *envelope,
			const sg_buf *certs, size_t ncerts, const sg_buf *chain, size_t nchain);

/* ---- judging (judge.c) ---- */

/* Why an event is or is not trusted. */
typedef struct sg_attest_verdict {
	int attested;                   /* 1 only when every check passed */
	int test;                       /* attested under a test profile */
	const char *reason;             /* when not attested; owned by the context, valid
	                                   until the next judgement */
	char envelope[65];              /* Attestation-Sha256 the event names ("" if none) */
} sg_attest_verdict;

typedef struct sg_attest_ctx sg_attest_ctx;   /* one per run: the cache */

/* `pol` (may be NULL: nothing is attested) must outlive the context. */
int sg_attest_ctx_new(sg_attest_ctx **out, const sg_policy *pol);
void sg_attest_ctx_free(sg_attest_ctx *c);

/* Listing only (`log`): keep verdicts between runs in the local verdict
 * cache, $GIT_COMMON_DIR/signgate/attest-cache (docs/signgate-notes.md),
 * keyed by every input of the judgement. A decision that gates something
 * (verify, revoke, requireNote, provenance) never uses it. */
int sg_attest_ctx_use_cache(sg_attest_ctx *c, git_repository *repo);
/* Write the verdicts judged this run into the cache (best effort). */
void sg_attest_ctx_save(sg_attest_ctx *c);
/* `doctor`: judge afresh every paragraph the cache holds too, count those
 * whose cached verdict differs, and use (and keep) the fresh one. */
void sg_attest_ctx_recheck(sg_attest_ctx *c);
/* So far: attestation paragraphs judged afresh, read from the cache, and
 * (recheck) cached ones that disagreed with a fresh judgement. */
typedef struct sg_attest_stats {
	size_t judged, cached, disagreed;
} sg_attest_stats;
const sg_attest_stats *sg_attest_ctx_stats(const sg_attest_ctx *c);

/* The attestation paragraphs of one note (its text as read from the notes
 * ref; commit: the commit the note is attached to). Cheap: scanned once,
 * verified lazily. */
typedef struct sg_attest_note sg_attest_note;
int sg_attest_note_open(sg_attest_note **out, sg_attest_ctx *c, const git_oid *commit,
			const char *text, size_t len);
void sg_attest_note_free(sg_attest_note *n);

/* Is `ev`, an event paragraph of that note, attested? Its Attestation-Sha256
 * must name an attestation paragraph of the note whose bytes hash to it; the
 * envelope's signature by the event's Profile must verify under that
 * profile's trust anchor (cms: Attestation-Cert chains to trustAnchor at the
 * statement's time, codeSigning EKU, its key verifies the DSSE signature;
 * openpgp: a key the profile allows); the statement must have a subject with
 * the event's Artifact and Artifact-Sha256, name the same profile, signer,
 * signature digest and tag, and its commit must be the note's commit.
 * One signature check per envelope and profile per context (cached).
 * Returns SG_OK (verdict filled either way) or SG_ERROR (out of memory). */
int sg_attest_judge(sg_attest_verdict *out, sg_attest_note *n, const sg_event *ev);

/* The same for one event when the caller holds no note: reads the note on
 * `commit` under `notes_ref` (the last note read is kept). */
int sg_attest_judge_at(sg_attest_verdict *out, sg_attest_ctx *c, git_repository *repo,
		       const char *notes_ref, const git_oid *commit, const sg_event *ev);

/* ---- OpenPGP (pgp.c) ---- */

/* 1 when the OpenPGP fingerprint `fpr` is one the profile allows
 * (profile.allowedKey: full fingerprints or long key ids; else its key). */
int sg_attest_key_allowed(const sg_profile *prof, const char *fpr);
/* The binary detached signature `sig` over `data` is good, made by `keyid`
 * (a fingerprint), not revoked, allowed by the profile. SG_EVERIFY else. */
int sg_attest_pgp_verify(const sg_buf *sig, const sg_buf *data, const char *keyid,
			 const sg_profile *prof);

#endif
