/* A profile's certificate: its digest, its chain, and its dates. It must
 * be valid now, is warned about when it expires soon (certExpiryWarnDays)
 * and refused when it was issued too long ago (maxKeyAgeDays), so keys are
 * rotated. */
#include "sign/keys.h"
#include "core/buf.h"
#include "core/error.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>

#define DAY 86400

X509 *sg_cert_load(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

int sg_cert_file_sha256(char out[65], const char *path)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	X509 *x = sg_cert_load(path);

	if (!x)
		return sg_error_set_openssl(SG_ERROR, "cannot read certificate %s", path);
	if (!X509_digest(x, EVP_sha256(), md, &mdlen) || mdlen != 32) {
		X509_free(x);
		return sg_error_set_openssl(SG_ERROR, "cannot digest certificate %s", path);
	}
	X509_free(x);
	sg_hex(out, md, 32);
	return SG_OK;
}

/* 1 when cert_path chains (time ignored) to the anchor in anchor_path. */
int sg_cert_chains_to(const char *cert_path, const char *chain_path, const char *anchor_path)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *leaf = sg_cert_load(cert_path);
	X509 *link = NULL;
	FILE *f = NULL;
	int ok = 0;

	if (!store || !ctx || !untrusted || !leaf ||
	    X509_STORE_load_file(store, anchor_path) != 1)
		goto done;
	if (chain_path && (f = fopen(chain_path, "r")) != NULL) {
		while ((link = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
			if (!sk_X509_push(untrusted, link))
				X509_free(link);
		fclose(f);
	}
	X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME);
	if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) == 1)
		ok = X509_verify_cert(ctx) == 1;
done:
	ERR_clear_error();
	X509_free(leaf);
	sk_X509_pop_free(untrusted, X509_free);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

int sg_cert_check_dates(char **warning, const sg_profile *prof, time_t not_before,
			time_t not_after, time_t now)
{
	char nb[32], na[32];
	long days_left, age_days;
	int warn_days = prof->cert_expiry_warn_days;

	*warning = NULL;
	sg_time_format(nb, sizeof(nb), not_before);
	sg_time_format(na, sizeof(na), not_after);
	if (not_after && now >= not_after)
		return sg_error_set(SG_EDENIED, "the certificate of profile \"%s\" expired on %s; "
				    "rotate to a new certificate", prof->name, na);
	if (not_before && now < not_before)
		return sg_error_set(SG_EDENIED, "the certificate of profile \"%s\" is not valid before %s",
				    prof->name, nb);
	if (not_before && prof->max_key_age_days > 0) {
		age_days = (long)((now - not_before) / DAY);
		if (age_days >= prof->max_key_age_days)
			return sg_error_set(SG_EDENIED, "the certificate of profile \"%s\" was issued on %s, "
					    "%ld days ago; profile.%s.maxKeyAgeDays is %d: rotate to a "
					    "new key and certificate", prof->name, nb, age_days,
					    prof->name, prof->max_key_age_days);
	}
	if (not_after && warn_days > 0) {
		days_left = (long)((not_after - now) / DAY);
		if (days_left < warn_days &&
		    asprintf(warning, "the certificate of profile \"%s\" expires on %s, in %ld day%s "
			     "(certExpiryWarnDays %d); prepare its successor", prof->name, na,
			     days_left, days_left == 1 ? "" : "s", warn_days) < 0) {
			*warning = NULL;
			return sg_error_set(SG_ERROR, "out of memory");
		}
	}
	return SG_OK;
}
