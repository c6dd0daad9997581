/* The test PKI of `signgate init --test`: a self-signed CA and one
 * code-signing certificate, made with OpenSSL's C API. */
#include "cli/testpki.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define SG_TESTPKI_CA_DAYS 3650
#define SG_TESTPKI_LEAF_DAYS 730

static int make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return sg_error_set(SG_ERROR, "cannot create %s: %s", dir, strerror(errno));
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return sg_error_set(SG_ERROR, "%s is not a directory (a symlink?); remove it and run "
				    "signgate init --test again", dir);
	return SG_OK;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = ex && X509_add_ext(cert, ex, -1) == 1;
	X509_EXTENSION_free(ex);
	return ok ? SG_OK : sg_error_set_openssl(SG_ERROR, "cannot add extension %s = %s",
						   OBJ_nid2sn(nid), value);
}

static int set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		 BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;

	BN_free(bn);
	return ok ? SG_OK : sg_error_set_openssl(SG_ERROR, "cannot make a certificate serial");
}

static int set_names(X509 *x, const char *cn, const X509 *issuer)
{
	X509_NAME *name = X509_get_subject_name(x);

	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
				       (const unsigned char *)"signgate test PKI", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) != 1)
		return sg_error_set_openssl(SG_ERROR, "cannot set the name \"%s\"", cn);
	return SG_OK;
}

/* issuer == NULL: self-signed CA. */
static int make_cert(X509 **out, EVP_PKEY *key, const char *cn, X509 *issuer,
		     EVP_PKEY *issuer_key, long days)
{
	X509 *x = X509_new();
	X509 *ctx_issuer;
	int ret = SG_ERROR;

	if (!x || X509_set_version(x, 2) != 1 || X509_set_pubkey(x, key) != 1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL)) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot make certificate \"%s\"", cn);
		goto done;
	}
	if ((ret = set_serial(x)) < 0 || (ret = set_names(x, cn, issuer)) < 0)
		goto done;
	ctx_issuer = issuer ? issuer : x;
	if (issuer)
		ret = add_ext(x, ctx_issuer, NID_basic_constraints, "critical,CA:FALSE") ||
		      add_ext(x, ctx_issuer, NID_key_usage, "critical,digitalSignature") ||
		      add_ext(x, ctx_issuer, NID_ext_key_usage, "codeSigning") ||
		      add_ext(x, ctx_issuer, NID_subject_key_identifier, "hash") ||
		      add_ext(x, ctx_issuer, NID_authority_key_identifier, "keyid:always") ? SG_ERROR : SG_OK;
	else
		ret = add_ext(x, ctx_issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
		      add_ext(x, ctx_issuer, NID_key_usage, "critical,keyCertSign,cRLSign") ||
		      add_ext(x, ctx_issuer, NID_subject_key_identifier, "hash") ? SG_ERROR : SG_OK;
	if (ret < 0)
		goto done;
	if (X509_sign(x, issuer ? issuer_key : key, EVP_sha256()) <= 0) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot sign certificate \"%s\"", cn);
		goto done;
	}
	*out = x;
	x = NULL;
	ret = SG_OK;
done:
	X509_free(x);
	return ret;
}

/* Write the PEM of a cert (key == NULL) or of a private key to path. */
static int write_pem(const char *path, X509 *cert, EVP_PKEY *key, mode_t mode)
{
	/* secure memory BIO: its buffers are wiped when freed or grown (the key) */
	BIO *b = BIO_new(BIO_s_secmem());
	char *data = NULL;
	long len;
	int ret = SG_ERROR;

	if (!b || (cert ? PEM_write_bio_X509(b, cert) : PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)) != 1) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot encode %s", path);
		goto done;
	}
	len = BIO_get_mem_data(b, &data);
	if (len <= 0) {
		ret = sg_error_set(SG_ERROR, "cannot encode %s", path);
		goto done;
	}
	ret = sg_file_write_atomic(path, data, (size_t)len, mode);
done:
	BIO_free(b);
	return ret;
}

static int path_in(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= outlen)
		return sg_error_set(SG_ERROR, "path too long: %s/%s", dir, name);
	return SG_OK;
}

int sg_testpki_make(const char *dir, const char *label)
{
	EVP_PKEY *ca_key = NULL, *leaf_key = NULL;
	X509 *ca = NULL, *leaf = NULL;
	char ca_cn[256], leaf_cn[256], p_ca[4096], p_cert[4096], p_key[4096];
	int ret = SG_ERROR;

	snprintf(ca_cn, sizeof(ca_cn), "signgate Test CA (%.64s)", label ? label : "test");
	snprintf(leaf_cn, sizeof(leaf_cn), "signgate Test Signing (%.64s)", label ? label : "test");
	if ((ret = make_dir(dir)) < 0 || (ret = path_in(p_ca, sizeof(p_ca), dir, "ca.pem")) < 0 ||
	    (ret = path_in(p_cert, sizeof(p_cert), dir, "codesign.pem")) < 0 ||
	    (ret = path_in(p_key, sizeof(p_key), dir, "codesign.key")) < 0)
		goto done;
	ca_key = EVP_EC_gen("P-256");
	leaf_key = EVP_EC_gen("P-256");
	if (!ca_key || !leaf_key) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot generate an EC P-256 key");
		goto done;
	}
	if ((ret = make_cert(&ca, ca_key, ca_cn, NULL, NULL, SG_TESTPKI_CA_DAYS)) < 0 ||
	    (ret = make_cert(&leaf, leaf_key, leaf_cn, ca, ca_key, SG_TESTPKI_LEAF_DAYS)) < 0)
		goto done;
	if ((ret = write_pem(p_key, NULL, leaf_key, 0600)) < 0 ||
	    (ret = write_pem(p_cert, leaf, NULL, 0644)) < 0 ||
	    (ret = write_pem(p_ca, ca, NULL, 0644)) < 0)
		goto done;
	ret = SG_OK;
done:
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(leaf_key);
	return ret;
}
