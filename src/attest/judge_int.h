/* Inside src/attest: what judging one attestation paragraph yields, kept
 * compact so that events are matched against it without the envelope
 * (summary.c), and the local verdict cache that keeps it between runs
 * (vcache.c). Not for other modules: they call sg_attest_judge. */
#ifndef SG_ATTEST_JUDGE_INT_H
#define SG_ATTEST_JUDGE_INT_H

#include "attest/attest.h"

#include <stdint.h>

/* Strings live in one arena and are named by offset; offset 0 is NULL
 * (the arena starts with a NUL byte and ends with one). */
typedef struct sg_att_subject {
	uint32_t name;      /* subject[].name, first of each name */
	uint32_t sha256;    /* its digest.sha256 */
	uint32_t profile;   /* predicate.signgate.artifacts[name].profile (first of that name) */
	uint32_t sig_sha;   /* ... .signatureSha256 */
	uint32_t id;        /* predicate.signgate.signers[profile].id */
} sg_att_subject;

#define SG_ATT_REFUSED 0u   /* the signature check failed: reason says why */
#define SG_ATT_OK 1u
#define SG_ATT_ERROR 2u     /* could not be checked (I/O, memory): an error, never cached */

typedef struct sg_att_pv {  /* the envelope's signature, checked for one profile of the policy */
	uint32_t profile;
	uint32_t state;     /* SG_ATT_* */
	uint32_t reason;
} sg_att_pv;

typedef struct sg_att_summary {
	unsigned char pkey[32];   /* digest of the paragraph it was made from (sg_att_para_key) */
	uint32_t bad;             /* why the envelope is unusable (then nothing below is set) */
	uint32_t commit, tag;     /* predicate.signgate.commit, .tag */
	sg_att_subject *subj;
	uint32_t nsubj;
	sg_att_pv *pv;
	uint32_t npv;
	uint32_t *slots;          /* open addressing over subj by name: index + 1, 0 empty */
	uint32_t nslots;
	sg_buf strings;
	int cacheable;            /* 0: depends on the clock or holds an error: never written */
	struct sg_att_summary *next;
} sg_att_summary;

/* SHA-256 over every field of an attestation paragraph (keys and values,
 * length-prefixed): the envelope's text, Attestation-Sha256, every
 * Attestation-Cert and Attestation-Chain. Base64 is canonical (decode
 * refuses anything else), so it binds the envelope's bytes. */
int sg_att_para_key(unsigned char out[32], const sg_event *para);

/* SHA-256 of every input of a judgement that is not in the paragraph:
 * the policy's profiles (trust anchors by content), the keyring for
 * openpgp profiles, this program's version (summary.c lists them). */
int sg_att_policy_key(unsigned char out[32], const sg_policy *pol);

/* Judge one paragraph afresh: decode, hash and parse the envelope, check
 * its signature once for each profile of `pol` its statement names. */
int sg_att_summary_build(sg_att_summary **out, const sg_event *para, const sg_policy *pol);
/* Its bytes for the cache, and back (SG_EVERIFY when they are not a
 * whole, consistent summary for this policy). */
int sg_att_summary_encode(sg_buf *out, const sg_att_summary *s);
int sg_att_summary_decode(sg_att_summary **out, const void *data, size_t len, const sg_policy *pol);
void sg_att_summary_free(sg_att_summary *s);

/* NULL for offset 0 */
const char *sg_att_str(const sg_att_summary *s, uint32_t off);
/* The subject named `name` (NULL: none). */
const sg_att_subject *sg_att_subject_find(const sg_att_summary *s, const char *name);
const sg_att_pv *sg_att_pv_find(const sg_att_summary *s, const char *profile);

/* ---- the verdict cache (vcache.c) ---- */

typedef struct sg_att_vcache sg_att_vcache;

/* The cache file under `dir` ($GIT_COMMON_DIR/signgate): opened read-only,
 * lazily; a missing or unreadable one is empty. */
int sg_att_vcache_open(sg_att_vcache **out, const char *dir);
/* 1 and the value when `key` is in it and its entry checks out; 0 else. */
int sg_att_vcache_get(sg_buf *value, sg_att_vcache *vc, const unsigned char key[32]);
/* Remember an entry (written by sg_att_vcache_save). */
int sg_att_vcache_put(sg_att_vcache *vc, const unsigned char key[32], const void *value, size_t len);
/* Write the file again when entries were added (temp + rename, 0600), with
 * the entries read this run and then the others, within the bounds.
 * Best effort: SG_OK or the error; the cache is never needed. */
int sg_att_vcache_save(sg_att_vcache *vc);
void sg_att_vcache_free(sg_att_vcache *vc);

#endif
