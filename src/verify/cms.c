/* Verify a detached CMS signature (FILE.p7s): content digest over the
 * streamed artifact, the embedded RFC 3161 token, the chain at the token's
 * time, the codeSigning EKU (OpenSSL 3.0 has no codesign purpose). */
#include "verify/verify.h"
#include "core/error.h"
#include "tsa/tsa.h"

#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OID_TIMESTAMP_TOKEN "1.2.840.113549.1.9.16.2.14"

struct sg_cms_sig {
	CMS_ContentInfo *cms;
	X509 *signer;                 /* owned reference */
	STACK_OF(X509) *certs;        /* every cert in the SignedData (untrusted) */
};

void sg_cms_sig_free(sg_cms_sig *s)
{
	if (!s)
		return;
	X509_free(s->signer);
	sk_X509_pop_free(s->certs, X509_free);
	CMS_ContentInfo_free(s->cms);
	free(s);
}

static int read_content(CMS_ContentInfo *cms, int fd, unsigned char sha256[32])
{
	BIO *fdb = BIO_new_fd(fd, BIO_NOCLOSE);
	BIO *md = BIO_new(BIO_f_md());
	int ret = SG_EVERIFY;

	if (!fdb || !md || !BIO_set_md(md, EVP_sha256())) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot set up a digest");
		goto done;
	}
	BIO_push(md, fdb);
	/* The signer chain is judged separately (per profile, at the
	 * timestamp's time): here only the signature over the content. */
	if (CMS_verify(cms, NULL, NULL, md, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		ret = sg_error_set_openssl(SG_EVERIFY, "the signature does not match the artifact");
		goto done;
	}
	if (BIO_gets(md, (char *)sha256, 32) != 32) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot read the artifact's digest");
		goto done;
	}
	ret = SG_OK;
done:
	BIO_free(md);
	BIO_free(fdb);
	ERR_clear_error();
	return ret;
}

int sg_cms_sig_open(sg_cms_sig **out, const unsigned char *der, size_t len, int fd,
		    unsigned char sha256_out[32])
{
	const unsigned char *p = der;
	sg_cms_sig *s = calloc(1, sizeof(*s));
	STACK_OF(X509) *signers = NULL;
	unsigned char sha[32];
	int ret = SG_EVERIFY;

	if (!s)
		return sg_error_set(SG_ERROR, "out of memory");
	if (len > SG_SIG_MAX || !(s->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) ||
	    p != der + len) {
		ret = sg_error_set_openssl(SG_EVERIFY, "not a DER CMS signature");
		goto done;
	}
	if (OBJ_obj2nid(CMS_get0_type(s->cms)) != NID_pkcs7_signed || !CMS_is_detached(s->cms)) {
		ret = sg_error_set(SG_EVERIFY, "not a detached CMS SignedData");
		goto done;
	}
	if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(s->cms)) != 1) {
		ret = sg_error_set(SG_EVERIFY, "the CMS signature has %d signers, expected one",
				   sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(s->cms)));
		goto done;
	}
	if ((ret = read_content(s->cms, fd, sha)) < 0)
		goto done;
	signers = CMS_get0_signers(s->cms);
	if (!signers || sk_X509_num(signers) != 1 || !(s->signer = sk_X509_value(signers, 0))) {
		ret = sg_error_set(SG_EVERIFY, "the signer's certificate is not in the signature");
		goto done;
	}
	X509_up_ref(s->signer);
	s->certs = CMS_get1_certs(s->cms);
	memcpy(sha256_out, sha, 32);
	*out = s;
	s = NULL;
	ret = SG_OK;
done:
	sk_X509_free(signers);
	sg_cms_sig_free(s);
	ERR_clear_error();
	return ret;
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

static void subject_of(char *out, size_t outlen, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	out[0] = '\0';
	if (!b)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_get_mem_data(b, &p);
		snprintf(out, outlen, "%.*s", (int)(n > 0 ? n : 0), p ? p : "");
	}
	BIO_free(b);
}

int sg_cms_sig_signer(sg_sig_check *out, const sg_cms_sig *s)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	memset(out, 0, sizeof(*out));
	if (!X509_digest(s->signer, EVP_sha256(), md, &mdlen) || mdlen != 32)
		return sg_error_set_openssl(SG_ERROR, "cannot digest the signer's certificate");
	snprintf(out->id_key, sizeof(out->id_key), "Signer-Cert-Sha256");
	sg_hex(out->id, md, 32);
	subject_of(out->subject, sizeof(out->subject), s->signer);
	out->not_after = asn1_time(X509_get0_notAfter(s->signer));
	return SG_OK;
}

/* The token in the unsigned attributes, verified over the signature value. */
static int check_token(sg_sig_check *out, const sg_cms_sig *s, const sg_profile *prof)
{
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(s->cms), 0);
	ASN1_OBJECT *oid = OBJ_txt2obj(OID_TIMESTAMP_TOKEN, 1);
	ASN1_OCTET_STRING *sigval = CMS_SignerInfo_get0_signature(si);
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *t;
	time_t gen = 0;
	int idx, err, ret = SG_EVERIFY;

	if (!oid)
		return sg_error_set_openssl(SG_ERROR, "cannot make the timestamp attribute OID");
	idx = CMS_unsigned_get_attr_by_OBJ(si, oid, -1);
	ASN1_OBJECT_free(oid);
	if (idx < 0)
		return SG_OK; /* no timestamp: judged at `now` */
	if (X509_ATTRIBUTE_count(attr = CMS_unsigned_get_attr(si, idx)) != 1 ||
	    !(t = X509_ATTRIBUTE_get0_type(attr, 0)) || t->type != V_ASN1_SEQUENCE ||
	    !sigval)
		return sg_error_set(SG_EVERIFY, "the timestamp attribute is malformed");
	if (!prof->tsa_trust_anchor)
		return sg_error_set(SG_EVERIFY, "the signature carries a timestamp but profile \"%s\" "
				    "has no tsaTrustAnchor to check it; add profile.%s.tsaTrustAnchor",
				    prof->name, prof->name);
	err = sg_tsa_verify(&gen, t->value.sequence->data, (size_t)t->value.sequence->length, 1,
			    sigval->data, (size_t)sigval->length, prof->tsa_trust_anchor);
	if (err < 0) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", sg_error_last() ? sg_error_last() : "invalid");
		return sg_error_set(SG_EVERIFY, "the timestamp does not verify against tsaTrustAnchor "
				    "%s: %s", prof->tsa_trust_anchor, msg);
	}
	out->timestamped = 1;
	out->ts_time = gen;
	ret = SG_OK;
	return ret;
}

static int chain_error(X509_STORE_CTX *ctx, const sg_sig_check *out, const sg_profile *prof)
{
	int e = X509_STORE_CTX_get_error(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char subj[512], when[32], ts[32];

	subject_of(subj, sizeof(subj), cur ? cur : NULL);
	if (!cur)
		snprintf(subj, sizeof(subj), "%s", out->subject);
	sg_time_format(ts, sizeof(ts), out->ts_time);
	if (e == X509_V_ERR_CERT_HAS_EXPIRED) {
		sg_time_format(when, sizeof(when), asn1_time(X509_get0_notAfter(cur)));
		if (out->timestamped)
			return sg_error_set(SG_EVERIFY, "certificate \"%s\" expired on %s, before the "
					    "signature's timestamp %s", subj, when, ts);
		return sg_error_set(SG_EVERIFY, "certificate \"%s\" expired on %s and the signature "
				    "has no timestamp", subj, when);
	}
	if (e == X509_V_ERR_CERT_NOT_YET_VALID) {
		sg_time_format(when, sizeof(when), asn1_time(X509_get0_notBefore(cur)));
		return sg_error_set(SG_EVERIFY, "certificate \"%s\" is not valid before %s%s%s", subj,
				    when, out->timestamped ? "; the signature's timestamp is " : "",
				    out->timestamped ? ts : "");
	}
	return sg_error_set(SG_EVERIFY, "certificate \"%s\" is not trusted by trustAnchor %s "
			    "(profile %s): %s", subj, prof->trust_anchor, prof->name,
			    X509_verify_cert_error_string(e));
}

static int check_chain(const sg_sig_check *out, const sg_cms_sig *s, const sg_profile *prof,
		       time_t at)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	int ret = SG_EVERIFY;

	if (!store || !ctx) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if (X509_STORE_load_file(store, prof->trust_anchor) != 1) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot read trustAnchor %s of profile \"%s\"",
					   prof->trust_anchor, prof->name);
		goto done;
	}
	if (X509_STORE_CTX_init(ctx, store, s->signer, s->certs) != 1) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot set up certificate verification");
		goto done;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_ANY);
	X509_VERIFY_PARAM_set_time(param, at);
	if (X509_verify_cert(ctx) != 1) {
		ret = chain_error(ctx, out, prof);
		goto done;
	}
	ret = SG_OK;
done:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ret;
}

static int check_eku(const sg_sig_check *out, X509 *x)
{
	uint32_t flags = X509_get_extension_flags(x);

	if (!(flags & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage(x) & XKU_CODE_SIGN))
		return sg_error_set(SG_EVERIFY, "certificate \"%s\" has no codeSigning extended key "
				    "usage", out->subject);
	return SG_OK;
}

int sg_cms_sig_check(sg_sig_check *out, const sg_cms_sig *s, const sg_profile *prof, time_t now)
{
	sg_sig_check c;
	int err;

	if ((err = sg_cms_sig_signer(&c, s)) < 0)
		return err;
	if (!prof->trust_anchor)
		return sg_error_set(SG_EVERIFY, "profile \"%s\" has no trustAnchor to verify with; "
				    "add profile.%s.trustAnchor", prof->name, prof->name);
	if ((err = check_token(&c, s, prof)) < 0 ||
	    (err = check_chain(&c, s, prof, c.timestamped ? c.ts_time : now)) < 0 ||
	    (err = check_eku(&c, s->signer)) < 0)
		return err;
	*out = c;
	return SG_OK;
}
