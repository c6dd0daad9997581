/* sign/cms + sign/pkcs11: signatures checked by the openssl CLI, and every
 * refusal (permissions, hardware, EKU, validity, mismatch, PIN). */
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

#include "core/error.h"
#include "core/secret.h"
#include "core/file.h"
#include "sign/pkcs11.h"
#include "sign/sign.h"

#define TOKEN "sgtest"
#define PIN "4321"

static char dir[64];    /* test PKI, SoftHSM token, data files */
static char tsa_url[2][128]; /* tests/lib/tsa.sh servers: mode ok, mode untrusted */
static long tsa_pid[2];
static char path[16][256];
static int npath;

/* A path under the test dir (rotating static buffers). */
static const char *P(const char *name)
{
	char *p = path[npath++ % 16];
	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *p, const void *data, size_t len, mode_t mode)
{
	int fd;
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

/* A local TSA from tests/lib/tsa.sh, serving from this test's PKI. */
static int start_tsa(const char *top, const char *mode, int i)
{
	char cmd[512];
	FILE *f;
	int ok;

	snprintf(cmd, sizeof(cmd), "cd %s && . tests/lib/tsa.sh && sg_tsa_start %s %s --lifetime 300 "
		 ">/dev/null && echo \"$SG_TSA_URL $SG_TSA_PID\"", top, dir, mode);
	if (!(f = popen(cmd, "r")))
		return -1;
	ok = fscanf(f, "%127s %ld", tsa_url[i], &tsa_pid[i]) == 2;
	pclose(f);
	return ok ? 0 : -1;
}

static int group_setup(void **state)
{
	const char *top = getenv("SG_TOP");
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sgcms.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (!top)
		top = ".";
	if (sh("cd %s && . tests/lib/pki.sh && . tests/lib/softhsm.sh && sg_pki_make %s && "
	       "sg_softhsm_init %s/hsm " TOKEN " " PIN " 87654321 %s >/dev/null",
	       top, dir, dir, dir) != 0)
		return -1;
	if (sh("head -c 100000 /dev/urandom > %s/data && printf '" PIN "\\n' > %s/pin && "
	       "chmod 600 %s/pin && printf 'nope\\n' > %s/badpin && chmod 600 %s/badpin",
	       dir, dir, dir, dir, dir) != 0)
		return -1;
	setenv("SOFTHSM2_CONF", P("hsm/softhsm2.conf"), 1);
	unsetenv("SIGNGATE_PIN"); sg_secret_forget_env();
	if (start_tsa(top, "ok", 0) < 0 || start_tsa(top, "untrusted", 1) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	int i;
	(void)state;
	for (i = 0; i < 2; i++)
		if (tsa_pid[i] > 0)
			kill((pid_t)tsa_pid[i], SIGTERM);
	if (getenv("SG_KEEP"))
		return 0;
	return sh("rm -rf %s", dir) == 0 ? 0 : -1;
}

static void profile_init(sg_profile *p, const char *key, const char *cert)
{
	memset(p, 0, sizeof(*p));
	p->name = (char *)"t";
	p->format = (char *)"cms";
	p->key = (char *)key;
	p->cert = (char *)cert;
	p->chain = (char *)P("chain.pem");
	p->test = 1;
}

static char file_key[300], hsm_key[300];

static void sha256_file(unsigned char md[32], const char *p)
{
	unsigned char buf[8192];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	FILE *f = fopen(p, "rb");
	size_t n;
	assert_non_null(f);
	assert_int_equal(EVP_DigestInit_ex(c, EVP_sha256(), NULL), 1);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(c, buf, n);
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	fclose(f);
}

/* open + sign data into out_p7s; returns the first error. */
static int sign_with(const sg_profile *prof, const char *data, const sg_tsa_config *tsa,
		     const char *out_p7s, sg_signer_info *info, sg_signature *sig_out)
{
	sg_signer *s = NULL;
	sg_signature sig;
	sg_artifact a;
	int err;

	memset(&sig, 0, sizeof(sig));
	memset(&a, 0, sizeof(a));
	a.path = data;
	a.fd = -1;
	sha256_file(a.sha256, data);
	if ((err = sg_sign_cms.open(&s, prof)) < 0)
		return err;
	if (info)
		assert_int_equal(sg_sign_cms.info(s, info), SG_OK);
	err = sg_sign_cms.sign(s, &a, tsa, &sig);
	if (err == SG_OK && out_p7s)
		write_file(out_p7s, sig.sig.ptr, sig.sig.size, 0644);
	if (err == SG_OK && sig_out)
		*sig_out = sig;
	else
		sg_signature_release(&sig);
	sg_sign_cms.close(s);
	return err;
}

static int cms_verify(const char *p7s, const char *content, const char *ca)
{
	return sh("openssl cms -verify -binary -inform DER -in %s -content %s -CAfile %s "
		  "-purpose any -out /dev/null 2>/dev/null", p7s, content, ca);
}

static void test_backend_table(void **state)
{
	(void)state;
	assert_ptr_equal(sg_sign_backend_find("cms"), &sg_sign_cms);
	assert_ptr_equal(sg_sign_backend_find("openpgp"), &sg_sign_openpgp);
	assert_null(sg_sign_backend_find("x509"));
	assert_string_equal(sg_sign_cms.suffix, ".p7s");
	assert_null(sg_sign_cms.tsr_suffix);
}

static void test_file_key_signature_verifies(void **state)
{
	sg_profile prof;
	sg_signer_info info;
	sg_signature sig;
	char hex[80] = "";
	FILE *f;
	(void)state;

	snprintf(file_key, sizeof(file_key), "file:%s", P("codesign.key"));
	profile_init(&prof, file_key, P("codesign.pem"));
	prof.trust_anchor = (char *)P("ca.pem");
	assert_int_equal(sign_with(&prof, P("data"), NULL, P("data.p7s"), &info, &sig), SG_OK);
	assert_false(sig.timestamped);
	assert_int_equal(sig.tsr.size, 0);
	sg_signature_release(&sig);
	/* independent verifier; the intermediate comes from the signature itself */
	assert_int_equal(cms_verify(P("data.p7s"), P("data"), P("ca.pem")), 0);
	/* forgery twins: other content, other CA */
	assert_int_equal(sh("cp %s/data %s/tampered && printf x >> %s/tampered", dir, dir, dir), 0);
	assert_int_not_equal(cms_verify(P("data.p7s"), P("tampered"), P("ca.pem")), 0);
	assert_int_not_equal(cms_verify(P("data.p7s"), P("data"), P("other-ca.pem")), 0);
	/* the info the note records */
	assert_string_equal(info.id_key, "Signer-Cert-Sha256");
	assert_int_equal(sh("openssl x509 -in %s/codesign.pem -outform DER | sha256sum | "
			    "cut -c1-64 > %s/cert.sha", dir, dir), 0);
	f = fopen(P("cert.sha"), "r");
	assert_non_null(f);
	assert_non_null(fgets(hex, sizeof(hex), f));
	fclose(f);
	hex[64] = '\0';
	assert_string_equal(info.id, hex);
	assert_string_equal(info.subject, "CN=signgate Test Release Signing,O=signgate tests");
	assert_int_equal(info.hardware, 0);
	assert_true(info.not_before <= time(NULL) && info.not_after > time(NULL)); /* issued this second: equal */
	/* detached, DER, chain included, signed attributes in place */
	assert_int_equal(sh("openssl cms -cmsout -print -inform DER -in %s/data.p7s > %s/print.txt",
			    dir, dir), 0);
	assert_int_equal(sh("grep -q 'eContent: <ABSENT>' %s/print.txt && "
			    "grep -q 'signingTime' %s/print.txt && grep -q 'messageDigest' %s/print.txt && "
			    "grep -q 'contentType' %s/print.txt && "
			    "grep -q 'signgate Test Intermediate' %s/print.txt", dir, dir, dir, dir, dir), 0);
}

static void test_encrypted_file_key(void **state)
{
	sg_profile prof;
	char key[300];
	(void)state;

	snprintf(key, sizeof(key), "file:%s", P("codesign.enc.key"));
	profile_init(&prof, key, P("codesign.pem"));
	setenv("SIGNGATE_PIN", "enc-pass", 1);
	assert_int_equal(sign_with(&prof, P("data"), NULL, P("enc.p7s"), NULL, NULL), SG_OK);
	assert_int_equal(cms_verify(P("enc.p7s"), P("data"), P("ca.pem")), 0);
	setenv("SIGNGATE_PIN", "wrong-pass", 1);
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "wrong passphrase"));
	unsetenv("SIGNGATE_PIN"); sg_secret_forget_env();
}

static void test_file_key_refusals(void **state)
{
	sg_profile prof;
	char key[300];
	(void)state;

	snprintf(file_key, sizeof(file_key), "file:%s", P("codesign.key"));
	/* requireHardwareKey */
	profile_init(&prof, file_key, P("codesign.pem"));
	prof.require_hardware_key = 1;
	prof.test = 0;
	prof.name = (char *)"release";
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_string_equal(sg_error_last(), "profile release requires a hardware key; file: keys "
			    "are for test profiles");
	/* key file 0644 */
	assert_int_equal(sh("cp %s/codesign.key %s/open.key && chmod 644 %s/open.key", dir, dir, dir), 0);
	snprintf(key, sizeof(key), "file:%s", P("open.key"));
	profile_init(&prof, key, P("codesign.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "chmod 600"));
	/* 0400 is fine */
	assert_int_equal(chmod(P("open.key"), 0400), 0);
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_OK);
	/* key does not match the certificate */
	snprintf(key, sizeof(key), "file:%s", P("other.key"));
	profile_init(&prof, key, P("codesign.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "does not match certificate"));
	/* not a key reference cms understands */
	profile_init(&prof, P("codesign.key"), P("codesign.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_ERROR);
}

static void test_certificate_refusals(void **state)
{
	sg_profile prof;
	char key[300];
	(void)state;

	snprintf(key, sizeof(key), "file:%s", P("expired.key"));
	profile_init(&prof, key, P("expired.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "expired on 2021-01-01T00:00:00Z"));
	profile_init(&prof, key, P("future.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "not valid before 2099-01-01T00:00:00Z"));
	snprintf(key, sizeof(key), "file:%s", P("noeku.key"));
	profile_init(&prof, key, P("noeku.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "lacks the codeSigning extended key usage"));
	/* a cert from another CA than the profile's trust anchor */
	snprintf(key, sizeof(key), "file:%s", P("other.key"));
	profile_init(&prof, key, P("other.pem"));
	prof.trust_anchor = (char *)P("ca.pem");
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "does not chain to trust anchor"));
	/* missing cert file */
	snprintf(key, sizeof(key), "file:%s", P("codesign.key"));
	profile_init(&prof, key, P("none.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_ERROR);
}

static void test_pkcs11_signature_verifies(void **state)
{
	sg_profile prof;
	sg_signer_info info;
	(void)state;

	snprintf(hsm_key, sizeof(hsm_key), "pkcs11:token=" TOKEN ";object=codesign;id=%%01"
		 "?pin-source=file:%s", P("pin"));
	profile_init(&prof, hsm_key, P("codesign.pem"));
	prof.require_hardware_key = 1;
	prof.test = 0;
	prof.pkcs11_module = (char *)SG_PKCS11_DEFAULT_MODULE;
	assert_int_equal(sign_with(&prof, P("data"), NULL, P("hsm.p7s"), &info, NULL), SG_OK);
	assert_int_equal(info.hardware, 1);
	assert_int_equal(cms_verify(P("hsm.p7s"), P("data"), P("ca.pem")), 0);
	assert_int_not_equal(cms_verify(P("hsm.p7s"), P("tampered"), P("ca.pem")), 0);
	/* same key, SIGNGATE_PIN instead of pin-source; module from the URI */
	snprintf(hsm_key, sizeof(hsm_key), "pkcs11:token=" TOKEN ";object=codesign;"
		 "module-path=" SG_PKCS11_DEFAULT_MODULE);
	profile_init(&prof, hsm_key, P("codesign.pem"));
	prof.pkcs11_module = (char *)"/nonexistent/module.so";
	setenv("SIGNGATE_PIN", PIN, 1);
	assert_int_equal(sign_with(&prof, P("data"), NULL, P("hsm2.p7s"), NULL, NULL), SG_OK);
	unsetenv("SIGNGATE_PIN"); sg_secret_forget_env();
	assert_int_equal(cms_verify(P("hsm2.p7s"), P("data"), P("ca.pem")), 0);
}

static void test_pkcs11_refusals(void **state)
{
	sg_profile prof;
	char key[400];
	int saved, fd;
	(void)state;

	/* wrong PIN */
	snprintf(key, sizeof(key), "pkcs11:token=" TOKEN ";object=codesign;pin-source=file:%s",
		 P("badpin"));
	profile_init(&prof, key, P("codesign.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_string_equal(sg_error_last(), "PKCS#11 login to token " TOKEN " failed: wrong PIN "
			    "(CKR_PIN_INCORRECT)");
	/* pin-value never accepted, and never echoed */
	profile_init(&prof, "pkcs11:token=" TOKEN ";object=codesign;pin-value=" PIN, P("codesign.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "pin-value"));
	assert_null(strstr(sg_error_last(), PIN));
	/* no such token: the message lists the slots */
	snprintf(key, sizeof(key), "pkcs11:token=absent;object=codesign;pin-source=file:%s", P("pin"));
	profile_init(&prof, key, P("codesign.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "no token labelled absent"));
	assert_non_null(strstr(sg_error_last(), "\"" TOKEN "\""));
	/* no such key */
	snprintf(key, sizeof(key), "pkcs11:token=" TOKEN ";object=nokey;pin-source=file:%s", P("pin"));
	profile_init(&prof, key, P("codesign.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "no private key labelled nokey"));
	/* the token key does not belong to this certificate */
	snprintf(key, sizeof(key), "pkcs11:token=" TOKEN ";object=codesign;pin-source=file:%s", P("pin"));
	profile_init(&prof, key, P("other.pem"));
	prof.chain = NULL;
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "does not match certificate"));
	/* bad module */
	profile_init(&prof, key, P("codesign.pem"));
	prof.pkcs11_module = (char *)P("nomodule.so");
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "cannot load the PKCS#11 module"));
	profile_init(&prof, "pkcs11:token=" TOKEN ";object=codesign?module-path=libsofthsm2.so",
		     P("codesign.pem"));
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "not absolute"));
	/* no PIN anywhere (stdin is not a terminal) */
	profile_init(&prof, "pkcs11:token=" TOKEN ";object=codesign", P("codesign.pem"));
	fd = open("/dev/null", O_RDONLY);
	saved = dup(0);
	dup2(fd, 0);
	close(fd);
	assert_int_equal(sign_with(&prof, P("data"), NULL, NULL, NULL, NULL), SG_ERROR);
	dup2(saved, 0);
	close(saved);
	assert_non_null(strstr(sg_error_last(), "no PIN for token " TOKEN));
}

static void test_uri_parse(void **state)
{
	sg_pkcs11_uri u;
	(void)state;

	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=My%20Token;object=code%3bsign;"
					     "id=%01%A2;type=private?pin-source=file:/p%3fin&"
					     "module-path=/m.so"), SG_OK);
	assert_string_equal(u.token, "My Token");
	assert_string_equal(u.object, "code;sign");
	assert_int_equal(u.id_len, 2);
	assert_memory_equal(u.id, "\x01\xa2", 2);
	assert_string_equal(u.pin_source, "file:/p?in");
	assert_string_equal(u.module_path, "/m.so");
	sg_pkcs11_uri_release(&u);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=t;id=%00"), SG_OK);
	assert_int_equal(u.id_len, 1);
	assert_null(u.object);
	sg_pkcs11_uri_release(&u);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=t;object=k?pin-value=1"), SG_EDENIED);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=t;object=k;objekt=x"), SG_ERROR);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=t;object=k;token=u"), SG_ERROR);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=t;object=k%4"), SG_ERROR);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=t;object=k%zz"), SG_ERROR);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=t;object=a%00b"), SG_ERROR);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:object=k"), SG_ERROR);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=t"), SG_ERROR);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=t;object=k;type=cert"), SG_ERROR);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "file:/x"), SG_ERROR);
	assert_int_equal(sg_pkcs11_uri_parse(&u, "pkcs11:token=t;object=k;x-vendor=1"), SG_OK);
	sg_pkcs11_uri_release(&u);
}

/* Extract the embedded token and the signature value from a .p7s. */
static void extract_token(const char *p7s, const char *tok_out, const char *sigval_out)
{
	unsigned char *buf = NULL, *der = NULL;
	const unsigned char *p;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *t;
	ASN1_OCTET_STRING *sv;
	long len;
	FILE *f = fopen(p7s, "rb");

	assert_non_null(f);
	buf = malloc(1 << 20);
	len = (long)fread(buf, 1, 1 << 20, f);
	fclose(f);
	p = buf;
	cms = d2i_CMS_ContentInfo(NULL, &p, len);
	assert_non_null(cms);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	assert_non_null(si);
	attr = CMS_unsigned_get_attr(si, CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1));
	assert_non_null(attr);
	t = X509_ATTRIBUTE_get0_type(attr, 0);
	assert_non_null(t);
	assert_int_equal(ASN1_TYPE_get(t), V_ASN1_SEQUENCE);
	write_file(tok_out, t->value.sequence->data, (size_t)t->value.sequence->length, 0644);
	sv = CMS_SignerInfo_get0_signature(si);
	write_file(sigval_out, sv->data, (size_t)sv->length, 0644);
	CMS_ContentInfo_free(cms);
	free(buf);
	free(der);
}

static void tsa_init(sg_tsa_config *tsa, sg_strlist *urls, char **one, const char *url)
{
	one[0] = (char *)url;
	urls->v = one;
	urls->n = 1;
	memset(tsa, 0, sizeof(*tsa));
	tsa->urls = urls;
	tsa->trust_anchor = P("tsa-ca.pem");
	tsa->connect_timeout_ms = 2000;
	tsa->total_timeout_ms = 10000;
	tsa->attempts = 1;
	tsa->max_response = 256 * 1024;
}

/* sign with a TSA that must fail; the backend says only the timestamp failed */
static void expect_tsa_failure(const sg_profile *prof, const char *url)
{
	sg_tsa_config tsa;
	sg_strlist urls;
	char *one[1];
	sg_signature sig;
	sg_signer *sr = NULL;
	sg_artifact a = { P("data"), -1, { 0 }, 0 };

	tsa_init(&tsa, &urls, one, url);
	memset(&sig, 0, sizeof(sig));
	sha256_file(a.sha256, P("data"));
	assert_int_equal(sg_sign_cms.open(&sr, prof), SG_OK);
	assert_int_equal(sg_sign_cms.sign(sr, &a, &tsa, &sig), SG_ERROR);
	assert_true(sig.tsa_failed);
	assert_false(sig.timestamped);
	assert_int_equal(sig.sig.size, 0);
	sg_signature_release(&sig);
	sg_sign_cms.close(sr);
}

static void test_timestamp_embedded(void **state)
{
	sg_profile prof;
	sg_signature sig;
	sg_tsa_config tsa;
	sg_strlist urls;
	char *one[1];
	(void)state;

	tsa_init(&tsa, &urls, one, tsa_url[0]);
	snprintf(file_key, sizeof(file_key), "file:%s", P("codesign.key"));
	profile_init(&prof, file_key, P("codesign.pem"));
	assert_int_equal(sign_with(&prof, P("data"), &tsa, P("ts.p7s"), NULL, &sig), SG_OK);
	assert_true(sig.timestamped);
	assert_false(sig.tsa_failed);
	assert_string_equal(sig.ts_url, tsa_url[0]);
	assert_true(sig.ts_time > time(NULL) - 600 && sig.ts_time <= time(NULL) + 5);
	assert_int_equal(strlen(sig.ts_text), 20);
	assert_int_equal(sig.tsr.size, 0);
	sg_signature_release(&sig);
	assert_int_equal(cms_verify(P("ts.p7s"), P("data"), P("ca.pem")), 0);
	assert_int_equal(sh("openssl cms -cmsout -print -inform DER -in %s/ts.p7s | "
			    "grep -q 'id-smime-aa-timeStampToken'", dir), 0);
	extract_token(P("ts.p7s"), P("ts.tok"), P("ts.sigval"));
	assert_int_equal(sh("openssl ts -verify -token_in -in %s/ts.tok -data %s/ts.sigval "
			    "-CAfile %s/tsa-ca.pem >/dev/null 2>&1", dir, dir, dir), 0);
	/* twins: the token is over this signature value only, and the TSA CA matters */
	assert_int_not_equal(sh("openssl ts -verify -token_in -in %s/ts.tok -data %s/data "
				"-CAfile %s/tsa-ca.pem >/dev/null 2>&1", dir, dir, dir), 0);
	assert_int_not_equal(sh("openssl ts -verify -token_in -in %s/ts.tok -data %s/ts.sigval "
				"-CAfile %s/ca.pem >/dev/null 2>&1", dir, dir, dir), 0);
	/* a TSA failure is reported as such, so the pipeline may sign without it */
	expect_tsa_failure(&prof, "http://127.0.0.1:9/");
	expect_tsa_failure(&prof, tsa_url[1]); /* answers with a token from an untrusted TSA */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_table),
		cmocka_unit_test(test_uri_parse),
		cmocka_unit_test(test_file_key_signature_verifies),
		cmocka_unit_test(test_encrypted_file_key),
		cmocka_unit_test(test_file_key_refusals),
		cmocka_unit_test(test_certificate_refusals),
		cmocka_unit_test(test_pkcs11_signature_verifies),
		cmocka_unit_test(test_pkcs11_refusals),
		cmocka_unit_test(test_timestamp_embedded),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
