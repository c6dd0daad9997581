/* Keeping keys and certificates separate between profiles: a test
 * profile must never sign with what a production profile signs with. Keys
 * are compared by what they are (keyid.c), not by how the policy spells
 * them. */
#include "sign/keys.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int same(const char *a, const char *b)
{
	return a && b && a[0] && strcasecmp(a, b) == 0;
}

/* The SHA-256 of a public key both profiles use (key or certificate), or NULL. */
static const char *shared_spki(const sg_key_ids *a, const sg_key_ids *b)
{
	const char *va[2] = { a->key_spki, a->cert_spki }, *vb[2] = { b->key_spki, b->cert_spki };
	size_t i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			if (same(va[i], vb[j]))
				return va[i];
	return NULL;
}

static int same_token_object(const sg_key_ids *a, const sg_key_ids *b)
{
	return a->token && b->token && strcmp(a->token, b->token) == 0 &&
	       ((a->object && b->object && strcmp(a->object, b->object) == 0) ||
		same(a->object_id, b->object_id));
}

static int same_openpgp_key(const sg_key_ids *a, const sg_key_ids *b)
{
	size_t i, j;

	if (same(a->pgp_fpr, b->pgp_fpr))
		return 1;
	for (i = 0; i < a->keygrips.n; i++)
		for (j = 0; j < b->keygrips.n; j++)
			if (same(a->keygrips.v[i], b->keygrips.v[j]))
				return 1;
	return 0;
}

static int shared(const sg_profile *a, const sg_profile *b, const char *what, const char *which)
{
	return sg_error_set(SG_EDENIED, "profiles \"%s\" and \"%s\" share %s%s%s; give each profile its "
			    "own key and certificate%s", a->name, b->name, what, which ? " " : "",
			    which ? which : "", a->test != b->test ?
			    " (a test profile must never hold a production key)" : "");
}

static int check_pair(const sg_profile *a, const sg_key_ids *ia, const sg_profile *b,
		      const sg_key_ids *ib)
{
	const char *spki;

	if (a->key && b->key && strcasecmp(a->key, b->key) == 0)
		return shared(a, b, "the key", a->key);
	if (same(ia->cert_fp, ib->cert_fp))
		return shared(a, b, "the certificate", ia->cert_fp);
	if ((spki = shared_spki(ia, ib)) != NULL)
		return shared(a, b, "a public key: SubjectPublicKeyInfo sha256", spki);
	if (same_token_object(ia, ib))
		return shared(a, b, "the token object", ia->object ? ia->object : ia->object_id);
	if (same_openpgp_key(ia, ib))
		return shared(a, b, "an OpenPGP key", ia->pgp_fpr[0] ? ia->pgp_fpr : NULL);
	if (a->test && !b->test && b->trust_anchor && a->cert &&
	    sg_cert_chains_to(a->cert, a->chain, b->trust_anchor))
		return sg_error_set(SG_EDENIED, "test profile \"%s\" uses a certificate that chains to "
				    "production profile \"%s\"'s trust anchor %s; test signing must use a "
				    "test CA", a->name, b->name, b->trust_anchor);
	return SG_OK;
}

int sg_profiles_check_separation(const sg_policy *pol)
{
	sg_key_ids *ids = NULL;
	size_t i, j, nread = 0;
	int err = SG_OK;

	if (pol->nprofiles == 0)
		return SG_OK;
	if (!(ids = calloc(pol->nprofiles, sizeof(*ids))))
		return sg_error_set(SG_ERROR, "out of memory");
	for (; nread < pol->nprofiles && err == SG_OK; nread++)
		err = sg_key_ids_read(&ids[nread], &pol->profiles[nread]);
	for (i = 0; i < pol->nprofiles && err == SG_OK; i++)
		for (j = 0; j < pol->nprofiles && err == SG_OK; j++)
			if (i != j && (j > i || pol->profiles[i].test))
				err = check_pair(&pol->profiles[i], &ids[i], &pol->profiles[j], &ids[j]);
	for (i = 0; i < nread; i++)
		sg_key_ids_release(&ids[i]);
	free(ids);
	return err;
}
