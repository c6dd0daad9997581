/* Choosing a profile per artifact, and keeping keys and certificates
 * separate between profiles. */
#include "pipeline/pipeline.h"
#include "core/buf.h"
#include "core/error.h"

#include <fnmatch.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int glob_match_path(const sg_strlist *globs, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t i;

	for (i = 0; i < globs->n; i++) {
		if (fnmatch(globs->v[i], path, FNM_PATHNAME) == 0)
			return 1;
		/* a glob without '/' also matches the file name alone */
		if (!strchr(globs->v[i], '/') && base && fnmatch(globs->v[i], base + 1, 0) == 0)
			return 1;
	}
	return 0;
}

int sg_profile_choose(const sg_profile **out, const sg_policy *pol, const char *name,
		      const char *path)
{
	const sg_profile *found = NULL;
	size_t i, matches = 0;

	if (name) {
		found = sg_policy_profile(pol, name);
		if (!found)
			return sg_error_set(SG_EDENIED, "no profile \"%s\" in the policy (%s)", name, pol->origin);
		if (found->artifacts.n && !glob_match_path(&found->artifacts, path))
			return sg_error_set(SG_EDENIED, "%s does not match profile.%s.artifacts; "
					    "this profile does not sign it", path, name);
		*out = found;
		return SG_OK;
	}
	if (pol->nprofiles == 0)
		return sg_error_set(SG_EDENIED, "the policy (%s) has no [profile] section", pol->origin);
	for (i = 0; i < pol->nprofiles; i++) {
		const sg_profile *p = &pol->profiles[i];
		if ((p->artifacts.n == 0 && pol->nprofiles == 1) || glob_match_path(&p->artifacts, path)) {
			found = p;
			matches++;
		}
	}
	if (matches == 0)
		return sg_error_set(SG_EDENIED, "%s matches no profile's artifacts globs; "
				    "name one with --profile or add it to a profile", path);
	if (matches > 1)
		return sg_error_set(SG_EDENIED, "%s matches the artifacts of %zu profiles; "
				    "name one with --profile", path, matches);
	*out = found;
	return SG_OK;
}

static X509 *load_cert(const char *path)
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
	X509 *x = load_cert(path);

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
static int chains_to(const char *cert_path, const char *chain_path, const char *anchor_path)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *leaf = load_cert(cert_path);
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

static int same_key(const sg_profile *a, const sg_profile *b)
{
	/* case-insensitive: fingerprints are hex in either case; stricter is safer */
	return a->key && b->key && strcasecmp(a->key, b->key) == 0;
}

static int check_pair(const sg_profile *a, const char *fa, const sg_profile *b, const char *fb)
{
	if (same_key(a, b))
		return sg_error_set(SG_EDENIED, "profiles \"%s\" and \"%s\" share the key %s; "
				    "give each profile its own key", a->name, b->name, a->key);
	if (fa[0] && fb[0] && strcmp(fa, fb) == 0)
		return sg_error_set(SG_EDENIED, "profiles \"%s\" and \"%s\" share the certificate %s; "
				    "give each profile its own certificate", a->name, b->name, fa);
	if (a->test && !b->test && b->trust_anchor && a->cert &&
	    chains_to(a->cert, a->chain, b->trust_anchor))
		return sg_error_set(SG_EDENIED, "test profile \"%s\" uses a certificate that chains to "
				    "production profile \"%s\"'s trust anchor %s; test signing must use a "
				    "test CA", a->name, b->name, b->trust_anchor);
	return SG_OK;
}

int sg_profiles_check_separation(const sg_policy *pol)
{
	char (*fp)[65] = NULL;
	size_t i, j;
	int err = SG_OK;

	if (pol->nprofiles == 0)
		return SG_OK;
	fp = calloc(pol->nprofiles, sizeof(*fp));
	if (!fp)
		return sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < pol->nprofiles; i++)
		if (pol->profiles[i].cert && sg_cert_file_sha256(fp[i], pol->profiles[i].cert) < 0)
			fp[i][0] = '\0'; /* unreadable: the backend reports it when the profile is used */
	sg_error_clear();
	for (i = 0; i < pol->nprofiles && err == SG_OK; i++)
		for (j = 0; j < pol->nprofiles && err == SG_OK; j++)
			if (i != j && (j > i || pol->profiles[i].test))
				err = check_pair(&pol->profiles[i], fp[i], &pol->profiles[j], fp[j]);
	free(fp);
	return err;
}
