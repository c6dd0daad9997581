/* What a profile's key and certificate are, judged the same way by the
 * sign pipeline, verify and doctor: certificate digests and dates
 * (certs.c), and the separation of keys between profiles (separation.c).
 * Nothing here signs. */
#ifndef SG_SIGN_KEYS_H
#define SG_SIGN_KEYS_H

#include <time.h>

#include <openssl/x509.h>

#include "core/strlist.h"
#include "policy/policy.h"

/* The first certificate in a PEM file, or NULL. Caller frees. */
X509 *sg_cert_load(const char *path);
/* SHA-256 (hex) of the DER of the first certificate in a PEM file. */
int sg_cert_file_sha256(char out[65], const char *path);

/* Judge a certificate's dates for a profile at `now`: expired or not yet
 * valid -> SG_EDENIED; notBefore older than profile.maxKeyAgeDays ->
 * SG_EDENIED ("rotate"); within certExpiryWarnDays of notAfter -> SG_OK
 * with *warning set (caller frees; NULL otherwise). 0 dates are unknown
 * (openpgp) and pass. */
int sg_cert_check_dates(char **warning, const sg_profile *prof, time_t not_before,
			time_t not_after, time_t now);

/* 1 when the certificate in cert_path (with the PEM chain in chain_path,
 * may be NULL) chains to the anchor in anchor_path, time ignored. */
int sg_cert_chains_to(const char *cert_path, const char *chain_path, const char *anchor_path);

/* What a profile's key is, however the policy spells it (keyid.c). Every
 * field is "" / NULL / empty when it cannot be read: a token that is not
 * plugged in, an encrypted key file (its certificate still identifies it). */
typedef struct sg_key_ids {
	char key_spki[65];        /* SHA-256 of the key's SubjectPublicKeyInfo (token or key file) */
	char cert_spki[65];       /* SHA-256 of the certificate's SubjectPublicKeyInfo */
	char cert_fp[65];         /* SHA-256 of the certificate */
	char *token, *object;     /* PKCS#11: token and object labels, percent-decoded */
	char *object_id;          /* PKCS#11: CKA_ID in lowercase hex */
	char pgp_fpr[41];         /* OpenPGP: the primary key's fingerprint */
	sg_strlist keygrips;      /* OpenPGP: every subkey's keygrip (the key material's hash) */
} sg_key_ids;

int sg_key_ids_read(sg_key_ids *out, const sg_profile *prof);
void sg_key_ids_release(sg_key_ids *ids);

/* Separation: two profiles that share a public key (by SPKI, of the key or
 * of the certificate, whatever their URIs or files say), a token object
 * (the same token and object label or id, in any attribute order or
 * percent-encoding), an OpenPGP key (fingerprint or keygrip), a key string
 * or a certificate are a policy error; a test profile must also not use a
 * cert that chains to a production trust anchor. SG_EDENIED with reason. */
int sg_profiles_check_separation(const sg_policy *pol);

#endif
