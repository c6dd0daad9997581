/* The sign pipeline, shared by `sign`, the tag hook and git's
 * signing-program mode: gate -> open -> scan+hash -> sign -> timestamp ->
 * write -> record. One call is one batch: either every artifact is signed,
 * recorded and published, or nothing new is published. */
#ifndef SG_PIPELINE_PIPELINE_H
#define SG_PIPELINE_PIPELINE_H

#include <git2.h>
#include <time.h>

#include "core/buf.h"
#include "gate/gate.h"
#include "policy/policy.h"

/* Bytes to sign that are not a file: git's tag payload (signing-program
 * mode). It is hashed, not scanned; its signature is returned in the batch
 * (sg_signed_item.signature), not written next to anything. */
typedef struct sg_sign_payload {
	const char *data;
	size_t len;
	const char *artifact;     /* the note's Artifact: value */
	const char *signature;    /* the note's Signature: value (where the signature goes) */
	const char *scan;         /* the note's Scan: value (why it is not scanned) */
} sg_sign_payload;

typedef struct sg_sign_request {
	const char *rev;          /* NULL: HEAD (or the tag's commit when tag is set) */
	const char *tag;          /* record Tag: (and judge the tag's commit) */
	int tag_pending;          /* the tag is being made (git tag -s): record Tag:, judge rev */
	const char *out_dir;      /* NULL: next to each file */
	const char *profile;      /* NULL: choose by profile.artifacts (required with a payload) */
	char *const *files;
	size_t nfiles;
	const sg_sign_payload *payload; /* instead of files: one payload */
	const char *display_base; /* artifact names in notes are relative to this (NULL: the workdir) */
} sg_sign_request;

typedef struct sg_signed_item {
	char *artifact;           /* name recorded in the note */
	char *sha256;             /* hex */
	char *sig_path;           /* published signature (NULL for a payload) */
	sg_buf signature;         /* a payload's signature bytes (DER); empty for files */
	char *signer_id;          /* cert sha256 / OpenPGP fingerprint */
	char *signer_subject;
	char *tsr_path;           /* openpgp timestamp response, or NULL */
	char *profile;
	char *timestamp;          /* "2026-...Z (url)" or "none (...)" */
} sg_signed_item;

typedef struct sg_batch {
	sg_gate_result gate;
	sg_signed_item *items;
	size_t n;
	char *notes_refs;         /* space-separated refs written */
	sg_strlist warnings;      /* e.g. a certificate expiring within certExpiryWarnDays */
	time_t signed_at;
} sg_batch;

int sg_pipeline_sign(sg_batch *out, git_repository *repo, const sg_policy *pol,
		     const sg_sign_request *req);
void sg_batch_release(sg_batch *b);

/* Who signs, for Signed-By: "Name <email>" from git, else "user:OSUSER".
 * Caller frees; NULL when out of memory. */
char *sg_pipeline_identity(git_repository *repo);

#endif
