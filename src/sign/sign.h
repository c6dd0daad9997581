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
} sg_sign_backend;

const sg_sign_backend *sg_sign_backend_find(const char *name);
void sg_signature_release(sg_signature *s);

extern const sg_sign_backend sg_sign_cms;
extern const sg_sign_backend sg_sign_openpgp;

#endif
