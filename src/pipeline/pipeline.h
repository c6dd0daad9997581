/* The sign pipeline, shared by `sign`, the tag hook and git's
 * signing-program mode: gate -> open -> scan+hash -> sign -> timestamp ->
 * write -> record. One call is one batch: either every artifact is signed,
 * recorded and published, or nothing new is published. */
#ifndef SG_PIPELINE_PIPELINE_H
#define SG_PIPELINE_PIPELINE_H

#include <git2.h>

#include "gate/gate.h"
#include "policy/policy.h"

typedef struct sg_sign_request {
	const char *rev;          /* NULL: HEAD (or the tag's commit when tag is set) */
	const char *tag;          /* record Tag: (and judge the tag's commit) */
	const char *out_dir;      /* NULL: next to each file */
	const char *profile;      /* NULL: choose by profile.artifacts */
	char *const *files;
	size_t nfiles;
	const char *display_base; /* artifact names in notes are relative to this (NULL: the workdir) */
} sg_sign_request;

typedef struct sg_signed_item {
	char *artifact;           /* name recorded in the note */
	char *sha256;             /* hex */
	char *sig_path;           /* published signature */
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
} sg_batch;

int sg_pipeline_sign(sg_batch *out, git_repository *repo, const sg_policy *pol,
		     const sg_sign_request *req);
void sg_batch_release(sg_batch *b);

/* Who signs, for Signed-By: "Name <email>" from git, else "user:OSUSER".
 * Caller frees; NULL when out of memory. */
char *sg_pipeline_identity(git_repository *repo);

/* Profiles (profiles.c) */

/* The profile for one artifact: `name` when given, else the single profile,
 * else the one whose artifacts globs match `path` (SG_EDENIED when none or
 * several match). */
int sg_profile_choose(const sg_profile **out, const sg_policy *pol, const char *name,
		      const char *path);
/* Certificate separation: two profiles sharing a key or a cert fingerprint
 * is a policy error; a test profile must not use a production key or a
 * cert that chains to a production trust anchor. SG_EDENIED with reason. */
int sg_profiles_check_separation(const sg_policy *pol);
/* SHA-256 (hex) of the DER of the first certificate in a PEM file. */
int sg_cert_file_sha256(char out[65], const char *path);

#endif
