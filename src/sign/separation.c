/* Keeping keys and certificates separate between profiles: a test
 * profile must never sign with what a production profile signs with. */
#include "sign/keys.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	    sg_cert_chains_to(a->cert, a->chain, b->trust_anchor))
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
