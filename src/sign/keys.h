/* What a profile's key and certificate are, judged the same way by the
 * sign pipeline, verify and doctor: certificate digests and dates
 * (certs.c), and the separation of keys between profiles (separation.c).
 * Nothing here signs. */
#ifndef SG_SIGN_KEYS_H
#define SG_SIGN_KEYS_H

#include <time.h>

#include "policy/policy.h"

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

/* Certificate separation: two profiles sharing a key or a cert fingerprint
 * is a policy error; a test profile must not use a production key or a
 * cert that chains to a production trust anchor. SG_EDENIED with reason. */
int sg_profiles_check_separation(const sg_policy *pol);

#endif
