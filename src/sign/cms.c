/* The cms backend: detached binary CMS SignedData (DER) over a precomputed
 * SHA-256, keys from 0600 PEM files or PKCS#11 tokens, an RFC 3161 token
 * over the signature value as the id-smime-aa-timeStampToken attribute. */
#include <openssl/pem.h> /* before cms.h (DESIGN.md section 7) */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/file.h"
#include "core/secret.h"
#include "sign/pkcs11.h"
#include "sign/sign.h"

#define SG_CERT_FILE_MAX (1024 * 1024)
#define SG_KEY_FILE_MAX (64 * 1024)

struct sg_signer {
	X509 *cert;
	STACK_OF(X509) *chain;
	EVP_PKEY *key;          /* file keys: owned; PKCS#11: owned by p11 */
	sg_pkcs11_key *p11;
	sg_signer_info info;
};

static void asn1_time_text(char *out, size_t outlen, const ASN1_TIME *t, time_t *as_time)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(out, outlen, "(unreadable)");
		if (as_time)
			*as_time = 0;
		return;
	}
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (as_time)
		*as_time = timegm(&tm);
}

/* Read PEM certificates (at least one) from a small regular file. */
static int load_certs(STACK_OF(X509) **out, const char *path, const char *what)
{
	sg_buf b = SG_BUF_INIT;
	STACK_OF(X509) *sk = NULL;
	BIO *bio = NULL;
	X509 *x;
	int ret;

	if ((ret = sg_file_read_all(&b, path, SG_CERT_FILE_MAX)) < 0) {
		/* name the setting to fix: "profile.release.cert: /x.pem does not exist" */
		char *m = strdup(sg_error_last() ? sg_error_last() : "cannot be read");

		ret = sg_error_set(ret, "%s: %s; correct the path in the policy", what, m ? m : "cannot be read");
		free(m);
		return ret;
	}
	ret = SG_ERROR;
	if (!(bio = BIO_new_mem_buf(b.ptr, (int)b.size)) || !(sk = sk_X509_new_null())) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			ret = sg_error_set(SG_ERROR, "out of memory");
			goto done;
		}
	}
	if (sk_X509_num(sk) == 0) {
		ret = sg_error_set_openssl(SG_ERROR, "%s %s holds no PEM certificate", what, path);
		goto done;
	}
	ERR_clear_error(); /* the loop ends on "no start line" */
	*out = sk;
	sk = NULL;
	ret = SG_OK;
done:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	sg_buf_dispose(&b);
	return ret;
}

struct pass_ctx {
	const char *path;
	int asked;
	int err;
};

/* Passphrase for an encrypted PEM key: from SIGNGATE_PIN or the terminal. */
static int pem_pass(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	sg_secret *sec = NULL;
	char what[300];
	int n;

	(void)rwflag;
	pc->asked = 1;
	snprintf(what, sizeof(what), "passphrase for key file %s", pc->path);
	if ((pc->err = sg_secret_obtain(&sec, NULL, what)) < 0)
		return -1;
	n = sec->len < (size_t)size ? (int)sec->len : -1;
	if (n > 0)
		memcpy(buf, sec->data, (size_t)n);
	else
		pc->err = sg_error_set(SG_ERROR, "the %s is too long", what);
	sg_secret_free(sec);
	return n;
}

static int load_file_key(EVP_PKEY **out, const char *path)
{
	sg_buf b = SG_BUF_INIT;
	struct pass_ctx pc = { path, 0, SG_OK };
	BIO *bio = NULL;
	EVP_PKEY *k;
	int ret;

	if ((ret = sg_file_check_private(path)) < 0)
		return ret;
	if ((ret = sg_file_read_all(&b, path, SG_KEY_FILE_MAX)) < 0)
		return ret;
	if (!(bio = BIO_new_mem_buf(b.ptr, (int)b.size))) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	k = PEM_read_bio_PrivateKey(bio, NULL, pem_pass, &pc);
	if (!k) {
		if (pc.err < 0)
			ret = pc.err;
		else if (pc.asked)
			ret = sg_error_set_openssl(SG_EDENIED, "cannot decrypt key file %s: wrong "
						   "passphrase?", path);
		else
			ret = sg_error_set_openssl(SG_ERROR, "key file %s holds no PEM private key", path);
		goto done;
	}
	*out = k;
	ret = SG_OK;
done:
	BIO_free(bio);
	sg_buf_dispose_secure(&b);
	ERR_clear_error();
	return ret;
}

/* Proof that a token key belongs to the certificate: sign a fresh random
 * message on the token, verify it with the certificate's public key. */
static int check_pkcs11_key(const sg_signer *s, const char *token)
{
	unsigned char msg[32], sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = NULL;
	int ret = SG_EDENIED;

	if (RAND_bytes(msg, sizeof(msg)) != 1)
		return sg_error_set_openssl(SG_ERROR, "no randomness");
	if (!(md = EVP_MD_CTX_new()) ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, s->key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) != 1) {
		ret = sg_error_set_openssl(SG_ERROR, "test signature with the key on token %s failed", token);
		goto done;
	}
	EVP_MD_CTX_free(md);
	if (!(md = EVP_MD_CTX_new()) ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(s->cert)) != 1 ||
	    EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) != 1) {
		ERR_clear_error();
		ret = sg_error_set(SG_EDENIED, "the key on token %s does not match certificate %s "
				   "(subject %s)", token, s->info.id, s->info.subject);
		goto done;
	}
	ret = SG_OK;
done:
	EVP_MD_CTX_free(md);
	return ret;
}

static int cert_info(sg_signer_info *info, X509 *cert)
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	BIO *bio = NULL;
	char text[32];
	int len, n, ret = SG_ERROR;

	if ((len = i2d_X509(cert, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot hash the signer certificate");
		goto done;
	}
	snprintf(info->id_key, sizeof(info->id_key), "Signer-Cert-Sha256");
	sg_hex(info->id, md, 32);
	if (!(bio = BIO_new(BIO_s_mem())) ||
	    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot print the certificate subject");
		goto done;
	}
	n = BIO_read(bio, info->subject, (int)sizeof(info->subject) - 1);
	info->subject[n > 0 ? n : 0] = '\0';
	asn1_time_text(text, sizeof(text), X509_get0_notBefore(cert), &info->not_before);
	asn1_time_text(text, sizeof(text), X509_get0_notAfter(cert), &info->not_after);
	ret = SG_OK;
done:
	OPENSSL_free(der);
	BIO_free(bio);
	return ret;
}

static int has_codesign_eku(X509 *cert)
{
	return (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) &&
	       (X509_get_extended_key_usage(cert) & XKU_CODE_SIGN);
}

static int check_cert(const sg_signer *s, const sg_profile *prof)
{
	const ASN1_TIME *nb = X509_get0_notBefore(s->cert), *na = X509_get0_notAfter(s->cert);
	char tb[32], ta[32];

	asn1_time_text(tb, sizeof(tb), nb, NULL);
	asn1_time_text(ta, sizeof(ta), na, NULL);
	if (!has_codesign_eku(s->cert))
		return sg_error_set(SG_EDENIED, "certificate %s (%s) lacks the codeSigning extended key "
				    "usage; profile %s needs a code-signing certificate", prof->cert,
				    s->info.subject, prof->name);
	if (X509_cmp_current_time(nb) >= 0)
		return sg_error_set(SG_EDENIED, "certificate %s (%s) is not valid before %s (valid %s to "
				    "%s); check the clock or use a current certificate", prof->cert,
				    s->info.subject, tb, tb, ta);
	if (X509_cmp_current_time(na) <= 0)
		return sg_error_set(SG_EDENIED, "certificate %s (%s) expired on %s (valid %s to %s); "
				    "renew it", prof->cert, s->info.subject, ta, tb, ta);
	return SG_OK;
}

/* Verify cert up to a trust anchor from `anchor_file` (purpose any: OpenSSL
 * 3.0 has no code-signing purpose), at time `at` (0: now). SG_OK, or
 * `deny` with *reason set, or SG_ERROR. */
static int chain_verify(X509 *cert, STACK_OF(X509) *untrusted, const char *anchor_file,
			time_t at, int deny, const char **reason)
{
	STACK_OF(X509) *anchors = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int i, ret;

	if ((ret = load_certs(&anchors, anchor_file, "trust anchor")) < 0)
		return ret;
	ret = SG_ERROR;
	if (!(store = X509_STORE_new()) || !(ctx = X509_STORE_CTX_new())) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < sk_X509_num(anchors); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(anchors, i))) {
			ret = sg_error_set_openssl(SG_ERROR, "cannot use trust anchor %s", anchor_file);
			goto done;
		}
	if (!X509_STORE_CTX_init(ctx, store, cert, untrusted)) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot set up certificate verification");
		goto done;
	}
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	if (at)
		X509_STORE_CTX_set_time(ctx, 0, at);
	if (X509_verify_cert(ctx) != 1) {
		*reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
		ret = deny;
		goto done;
	}
	ret = SG_OK;
done:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(anchors, X509_free);
	ERR_clear_error();
	return ret;
}

/* When the profile names a trust anchor, the cert must chain to it now:
 * a signature nobody can verify is never published. */
static int check_chain(const sg_signer *s, const sg_profile *prof)
{
	const char *reason = NULL;
	int ret;

	if (!prof->trust_anchor || !*prof->trust_anchor)
		return SG_OK;
	ret = chain_verify(s->cert, s->chain, prof->trust_anchor, 0, SG_EDENIED, &reason);
	if (ret == SG_EDENIED)
		return sg_error_set(SG_EDENIED, "certificate %s (%s) does not chain to trust anchor %s: "
				    "%s; fix cert/chain/trustAnchor in profile %s", prof->cert,
				    s->info.subject, prof->trust_anchor, reason, prof->name);
	return ret;
}

static void cms_close(sg_signer *s)
{
	if (!s)
		return;
	if (s->p11)
		sg_pkcs11_key_close(s->p11); /* frees the key, the slots, then the module */
	else
		EVP_PKEY_free(s->key);
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

static int cms_open(sg_signer **out, const sg_profile *prof)
{
	STACK_OF(X509) *certs = NULL;
	sg_signer *s = NULL;
	const char *key = prof->key;
	char setting[300];
	int ret;

	if (!prof->cert || !*prof->cert)
		return sg_error_set(SG_ERROR, "profile %s has no cert; set profile.%s.cert", prof->name,
				    prof->name);
	if (!key || !*key)
		return sg_error_set(SG_ERROR, "profile %s has no key; set profile.%s.key", prof->name,
				    prof->name);
	if (strncmp(key, "file:", 5) != 0 && strncmp(key, "pkcs11:", 7) != 0)
		return sg_error_set(SG_ERROR, "profile %s: a cms key is file:PATH or a pkcs11: URI",
				    prof->name);
	if (strncmp(key, "file:", 5) == 0 && prof->require_hardware_key)
		return sg_error_set(SG_EDENIED, "profile %s requires a hardware key; file: keys are for "
				    "test profiles", prof->name);
	if (!(s = calloc(1, sizeof(*s))))
		return sg_error_set(SG_ERROR, "out of memory");
	snprintf(setting, sizeof(setting), "profile.%s.cert", prof->name);
	if ((ret = load_certs(&certs, prof->cert, setting)) < 0)
		goto done;
	s->cert = sk_X509_shift(certs); /* the first one is the signer's */
	if (prof->chain && *prof->chain) {
		snprintf(setting, sizeof(setting), "profile.%s.chain", prof->name);
		if ((ret = load_certs(&s->chain, prof->chain, setting)) < 0)
			goto done;
	} else if (!(s->chain = sk_X509_new_null())) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	while (sk_X509_num(certs) > 0) /* extra certs after the signer's belong to the chain */
		if (!sk_X509_push(s->chain, sk_X509_value(certs, 0)) || !sk_X509_shift(certs)) {
			ret = sg_error_set(SG_ERROR, "out of memory");
			goto done;
		}
	if ((ret = cert_info(&s->info, s->cert)) < 0 || (ret = check_cert(s, prof)) < 0 ||
	    (ret = check_chain(s, prof)) < 0)
		goto done;
	if (strncmp(key, "file:", 5) == 0) {
		if ((ret = load_file_key(&s->key, key + 5)) < 0)
			goto done;
		if (X509_check_private_key(s->cert, s->key) != 1) {
			ERR_clear_error();
			ret = sg_error_set(SG_EDENIED, "key file %s does not match certificate %s (%s)",
					   key + 5, prof->cert, s->info.subject);
			goto done;
		}
	} else {
		if ((ret = sg_pkcs11_key_open(&s->p11, key, prof->pkcs11_module)) < 0)
			goto done;
		s->key = sg_pkcs11_key_pkey(s->p11);
		s->info.hardware = 1;
		if ((ret = check_pkcs11_key(s, sg_pkcs11_key_token(s->p11))) < 0)
			goto done;
	}
	*out = s;
	s = NULL;
	ret = SG_OK;
done:
	sk_X509_pop_free(certs, X509_free);
	cms_close(s);
	return ret;
}

static int cms_info(const sg_signer *s, sg_signer_info *out)
{
	*out = s->info;
	return SG_OK;
}

/* Embed a TimeStampToken over the signature value (RFC 3161 appendix A). */
static int add_timestamp(CMS_SignerInfo *si, const sg_tsa_config *tsa, sg_signature *sig)
{
	ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(si);
	sg_tsa_token tok;
	int ret;

	memset(&tok, 0, sizeof(tok));
	if ((ret = sg_tsa_stamp(&tok, tsa, value->data, (size_t)value->length)) < 0) {
		sig->tsa_failed = 1;
		goto done;
	}
	if (!CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
					   tok.token.ptr, (int)tok.token.size)) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot embed the timestamp token");
		goto done;
	}
	sig->timestamped = 1;
	sig->ts_time = tok.gen_time;
	snprintf(sig->ts_text, sizeof(sig->ts_text), "%s", tok.gen_time_text);
	sig->ts_url = tok.url;
	tok.url = NULL;
	ret = SG_OK;
done:
	sg_tsa_token_release(&tok);
	return ret;
}

static int cms_sign(sg_signer *s, const sg_artifact *a, const sg_tsa_config *tsa,
		    sg_signature *out)
{
	const unsigned int flags = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL | CMS_NOSMIMECAP;
	sg_signature sig;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	unsigned char *der = NULL;
	int len, ret = SG_ERROR;

	memset(&sig, 0, sizeof(sig));
	/* The content is not read again: its digest was computed during the scan. */
	if (!(cms = CMS_sign(NULL, NULL, s->chain, NULL, flags)) ||
	    !(si = CMS_add1_signer(cms, s->cert, s->key, EVP_sha256(), flags)) ||
	    !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
					 OBJ_nid2obj(NID_pkcs7_data), -1) ||
	    !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
					 a->sha256, (int)sizeof(a->sha256))) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot build the CMS signature for %s", a->path);
		goto done;
	}
	if (CMS_SignerInfo_sign(si) != 1) { /* adds signingTime */
		ret = sg_error_set_openssl(SG_ERROR, "signing %s failed%s", a->path,
					   s->p11 ? " on the PKCS#11 token" : "");
		goto done;
	}
	if (tsa && (ret = add_timestamp(si, tsa, &sig)) < 0)
		goto done;
	if ((len = i2d_CMS_ContentInfo(cms, &der)) <= 0) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot encode the CMS signature for %s", a->path);
		goto done;
	}
	if ((ret = sg_buf_put(&sig.sig, der, (size_t)len)) < 0)
		goto done;
	sg_signature_release(out);
	*out = sig;
	memset(&sig, 0, sizeof(sig));
	ret = SG_OK;
done:
	if (ret < 0 && sig.tsa_failed)
		out->tsa_failed = 1; /* only the timestamp failed: the caller may sign without */
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	sg_signature_release(&sig);
	ERR_clear_error();
	return ret;
}

static int cms_sign_raw(sg_signer *s, const void *data, size_t len, sg_buf *sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t siglen = 0;
	int err, ret = SG_ERROR;

	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, s->key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, data, len) != 1) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot start the attestation signature%s",
					   s->p11 ? " on the PKCS#11 token" : "");
		goto done;
	}
	if ((err = sg_buf_grow(sig, sig->size + siglen)) < 0) {
		ret = err;
		goto done;
	}
	if (EVP_DigestSign(md, (unsigned char *)sig->ptr + sig->size, &siglen, data, len) != 1) {
		ret = sg_error_set_openssl(SG_ERROR, "signing the attestation failed%s",
					   s->p11 ? " on the PKCS#11 token" : "");
		goto done;
	}
	sig->size += siglen;
	sig->ptr[sig->size] = '\0';
	ret = SG_OK;
done:
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ret;
}

static int der_of(sg_buf *out, X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der), err;

	if (len <= 0)
		return sg_error_set_openssl(SG_ERROR, "cannot encode a certificate");
	err = sg_buf_put(out, der, (size_t)len);
	OPENSSL_free(der);
	return err;
}

static int cms_certs(const sg_signer *s, sg_buf **out, size_t *n)
{
	size_t i, m = 1 + (size_t)sk_X509_num(s->chain);
	sg_buf *v = calloc(m, sizeof(*v));
	int err = SG_OK;

	if (!v)
		return sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < m && err == SG_OK; i++)
		err = der_of(&v[i], i ? sk_X509_value(s->chain, (int)i - 1) : s->cert);
	if (err < 0) {
		sg_bufs_free(v, m);
		return err;
	}
	*out = v;
	*n = m;
	return SG_OK;
}

static X509 *x509_of(const sg_buf *der)
{
	const unsigned char *p = (const unsigned char *)der->ptr;
	X509 *x = d2i_X509(NULL, &p, (long)der->size);

	if (x && p != (const unsigned char *)der->ptr + der->size) {
		X509_free(x); /* trailing bytes: not one certificate */
		x = NULL;
	}
	return x;
}

int sg_cms_cert_trusted(void **pubkey, const sg_buf *cert, const sg_buf *chain, size_t nchain,
			const sg_profile *prof, time_t at)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *x = x509_of(cert), *c;
	const char *reason = NULL;
	size_t i;
	int ret = SG_EVERIFY;

	if (!untrusted) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if (!x) {
		ret = sg_error_set(SG_EVERIFY, "the attestation's certificate is not DER X.509");
		goto done;
	}
	for (i = 0; i < nchain; i++)
		if ((c = x509_of(&chain[i])) && !sk_X509_push(untrusted, c))
			X509_free(c);
	if (!prof->trust_anchor || !*prof->trust_anchor) {
		ret = sg_error_set(SG_EVERIFY, "profile \"%s\" has no trustAnchor to check the "
				   "attestation's certificate against", prof->name);
		goto done;
	}
	ret = chain_verify(x, untrusted, prof->trust_anchor, at ? at : time(NULL), SG_EVERIFY, &reason);
	if (ret == SG_EVERIFY) {
		ret = sg_error_set(SG_EVERIFY, "the attestation's certificate does not chain to trust "
				   "anchor %s of profile \"%s\": %s", prof->trust_anchor, prof->name, reason);
		goto done;
	}
	if (ret < 0)
		goto done;
	if (!has_codesign_eku(x)) {
		ret = sg_error_set(SG_EVERIFY, "the attestation's certificate lacks the codeSigning "
				   "extended key usage");
		goto done;
	}
	if (pubkey && !(*pubkey = X509_get_pubkey(x))) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot read the certificate's public key");
		goto done;
	}
	ret = SG_OK;
done:
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(x);
	ERR_clear_error();
	return ret;
}

const sg_sign_backend sg_sign_cms = {
	"cms", ".p7s", NULL, cms_open, cms_info, cms_sign, cms_close, cms_sign_raw, cms_certs,
};
