/* What a profile's key is, independent of how the policy spells it: the
 * SHA-256 of its SubjectPublicKeyInfo (read from the token without a login,
 * or from the key file), of its certificate's SubjectPublicKeyInfo and of
 * the certificate itself, its token object (the parsed, percent-decoded
 * URI: attribute order and spelling do not matter), and for OpenPGP keys
 * the fingerprint and the keygrips (hashes of the key material). */
#include "sign/keys.h"
#include "sign/pkcs11.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"

#include <gpgme.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void der_sha256(char out[65], const unsigned char *der, int n)
{
	unsigned char md[32];

	out[0] = '\0';
	if (n > 0 && EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL) == 1)
		sg_hex(out, md, 32);
}

static void spki_sha256(char out[65], EVP_PKEY *pk)
{
	unsigned char *der = NULL;
	int n = pk ? i2d_PUBKEY(pk, &der) : -1;

	der_sha256(out, der, n);
	OPENSSL_free(der);
}

static void cert_ids(sg_key_ids *ids, const char *path)
{
	X509 *x = sg_cert_load(path);

	if (x)
		spki_sha256(ids->cert_spki, X509_get0_pubkey(x));
	X509_free(x);
	if (sg_cert_file_sha256(ids->cert_fp, path) < 0)
		ids->cert_fp[0] = '\0';
	sg_error_clear();
}

static int no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf, (void)size, (void)rw, (void)u;
	return 0; /* an encrypted key stays unread: its certificate identifies it */
}

static void file_key_ids(sg_key_ids *ids, const char *path)
{
	sg_buf pem = SG_BUF_INIT;
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;

	if (sg_file_read_all(&pem, path, 64 * 1024) == SG_OK &&
	    (bio = BIO_new_mem_buf(pem.ptr, (int)pem.size)) != NULL) {
		pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		if (!pk && BIO_reset(bio) == 1)
			pk = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	}
	spki_sha256(ids->key_spki, pk);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	sg_buf_dispose_secure(&pem);
	sg_error_clear();
	ERR_clear_error();
}

static int pkcs11_ids(sg_key_ids *ids, const sg_profile *prof)
{
	sg_pkcs11_uri u;
	sg_buf der = SG_BUF_INIT;
	size_t i;

	if (sg_pkcs11_uri_parse(&u, prof->key) < 0) {
		sg_error_clear();
		return SG_OK; /* the signer reports a bad URI when the profile is used */
	}
	ids->token = u.token ? strdup(u.token) : NULL;
	ids->object = u.object ? strdup(u.object) : NULL;
	if (u.id && (ids->object_id = malloc(2 * u.id_len + 1)) != NULL)
		for (i = 0; i < u.id_len; i++)
			snprintf(ids->object_id + 2 * i, 3, "%02x", u.id[i]);
	sg_pkcs11_uri_release(&u);
	if (sg_pkcs11_public_spki(&der, prof->key, prof->pkcs11_module) == SG_OK)
		der_sha256(ids->key_spki, (const unsigned char *)der.ptr, (int)der.size);
	sg_buf_dispose(&der);
	return SG_OK;
}

static int openpgp_ids(sg_key_ids *ids, const char *fpr)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_subkey_t sk;
	int err = SG_OK;

	gpgme_check_version(NULL);
	if (gpgme_new(&ctx) == 0 && gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP) == 0 &&
	    gpgme_get_key(ctx, fpr, &key, 0) == 0 && key) {
		snprintf(ids->pgp_fpr, sizeof(ids->pgp_fpr), "%s", key->fpr ? key->fpr : "");
		for (sk = key->subkeys; sk && err == SG_OK; sk = sk->next)
			if (sk->keygrip)
				err = sg_strlist_add(&ids->keygrips, sk->keygrip);
	}
	gpgme_key_unref(key);
	gpgme_release(ctx);
	return err;
}

int sg_key_ids_read(sg_key_ids *out, const sg_profile *prof)
{
	sg_key_ids ids;
	int err = SG_OK;

	memset(&ids, 0, sizeof(ids));
	if (prof->cert)
		cert_ids(&ids, prof->cert);
	if (prof->key && !strncmp(prof->key, "pkcs11:", 7))
		err = pkcs11_ids(&ids, prof);
	else if (prof->key && !strncmp(prof->key, "file:", 5))
		file_key_ids(&ids, prof->key + 5);
	else if (prof->key && prof->format && !strcmp(prof->format, "openpgp"))
		err = openpgp_ids(&ids, prof->key);
	if (err < 0) {
		sg_key_ids_release(&ids);
		return err;
	}
	*out = ids;
	return SG_OK;
}

void sg_key_ids_release(sg_key_ids *ids)
{
	free(ids->token);
	free(ids->object);
	free(ids->object_id);
	sg_strlist_release(&ids->keygrips);
	memset(ids, 0, sizeof(*ids));
}
