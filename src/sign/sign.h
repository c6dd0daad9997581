/* Signing backends, chosen by name like git's `struct gpg_format`. */
#ifndef SG_SIGN_SIGN_H
#define SG_SIGN_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "policy/policy.h"
#include "tsa/tsa.h"

typedef struct sg_signer sg_signer;   /* backend-private: loaded key + cert */

/* What a signature is over. */
typedef struct sg_artifact {
	const char *path;             /* path to open / as given */
	int fd;                       /* open, regular (openpgp re-reads it from offset 0) */
	unsigned char sha256[32];     /* digest computed during the scan */
	uint64_t size;
} sg_artifact;

/* Who signs, for the note. */
typedef struct sg_signer_info {
	char id_key[32];              /* "Signer-Cert-Sha256" or "Signer-Key-Fingerprint" */
	char id[129];                 /* the hex digest / fingerprint */
	char subject[512];            /* cert subject (RFC 2253) or OpenPGP user id */
	int hardware;                 /* 1: key in a token/card */
	time_t not_before, not_after; /* cms: cert validity; openpgp: 0 */
} sg_signer_info;

/* One signature, ready to be written. */
typedef struct sg_signature {
	sg_buf sig;                   /* FILE.p7s (DER) or FILE.asc content */
	sg_buf tsr;                   /* openpgp: FILE.asc.tsr content; empty for cms */
	int timestamped;
	int tsa_failed;               /* set by a backend when only the timestamp failed */
	time_t ts_time;
	char ts_text[32];
	char *ts_url;
} sg_signature;

typedef struct sg_sign_backend {
	const char *name;             /* "cms" | "openpgp" */
	const char *suffix;           /* ".p7s" | ".asc" */
	const char *tsr_suffix;       /* NULL | ".asc.tsr" */
	/* Load key and cert for the profile; enforce requireHardwareKey, key file
	 * permissions, codeSigning EKU and validity (SG_EDENIED for policy refusals). */
	int (*open)(sg_signer **out, const sg_profile *prof);
	int (*info)(const sg_signer *s, sg_signer_info *out);
	/* Sign; when tsa is non-NULL, also timestamp (cms: token in the unsigned
	 * attribute over the signature value; openpgp: tsr over the .asc bytes). */
	int (*sign)(sg_signer *s, const sg_artifact *a, const sg_tsa_config *tsa,
		    sg_signature *out);
	void (*close)(sg_signer *s);
	/* Sign `len` bytes in memory (a DSSE pre-authentication encoding) with
	 * the key already open, in the same session (no second PIN prompt):
	 * cms: EVP_DigestSign with SHA-256 (ECDSA: DER; RSA: PKCS#1 v1.5);
	 * openpgp: a binary detached OpenPGP signature. Appended to sig. */
	int (*sign_raw)(sg_signer *s, const void *data, size_t len, sg_buf *sig);
	/* cms: the signer certificate (first) and its chain, DER each, in a
	 * new array of *n buffers (caller disposes each and frees the array);
	 * openpgp: *n = 0. */
	int (*certs)(const sg_signer *s, sg_buf **der, size_t *n);
} sg_sign_backend;

const sg_sign_backend *sg_sign_backend_find(const char *name);
void sg_signature_release(sg_signature *s);
/* Dispose n buffers and free the array (as returned by certs). */
void sg_bufs_free(sg_buf *v, size_t n);

/* Judge a signer certificate (DER) for a profile at time `at`: it chains to
 * prof->trust_anchor through the DER certificates `chain` (untrusted),
 * purpose any, and has the codeSigning EKU. On success *pubkey (may be
 * NULL) gets its public key (EVP_PKEY *, caller frees with EVP_PKEY_free).
 * SG_EVERIFY with the reason; SG_ERROR when the anchor cannot be read. */
int sg_cms_cert_trusted(void **pubkey, const sg_buf *cert, const sg_buf *chain, size_t nchain,
			const sg_profile *prof, time_t at);

extern const sg_sign_backend sg_sign_cms;
extern const sg_sign_backend sg_sign_openpgp;

#endif
