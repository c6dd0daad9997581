/* Unit tests for src/verify: CMS verification against signatures made by
 * the openssl CLI (tests/unit/verify_fixture.sh), timestamp tokens made by
 * `openssl ts -reply`, rotation dates, and the signing event lookup in a
 * real git repository. Every success has its forgery twin. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file.h"
#include "verify/verify.h"
#include "sign/keys.h"
#include "attest/attest.h"

static char D[64];      /* fixture dir */
static char R[128];     /* repo */
static char cs_sha[65];

static void read_file(sg_buf *b, const char *path)
{
	sg_buf_init(b, 0);
	assert_int_equal(sg_file_read_all(b, path, 1 << 24), 0);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int setup_all(void **state)
{
	const char *top = getenv("SG_TOP") ? getenv("SG_TOP") : ".";
	FILE *f;
	char path[256];

	(void)state;
	snprintf(D, sizeof(D), "/tmp/sgvt.XXXXXX");
	if (!mkdtemp(D))
		return -1;
	snprintf(R, sizeof(R), "%s/repo", D);
	if (sh("sh %s/tests/unit/verify_fixture.sh %s", top, D) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/cs.sha256", D);
	if (!(f = fopen(path, "r")) || !fgets(cs_sha, sizeof(cs_sha), f))
		return -1;
	fclose(f);
	git_libgit2_init();
	return 0;
}

static int teardown_all(void **state)
{
	(void)state;
	git_libgit2_shutdown();
	if (!getenv("SG_KEEP"))
		sh("rm -rf %s", D);
	return 0;
}

static sg_profile profile(const char *anchor, const char *tsa_anchor)
{
	sg_profile p;

	memset(&p, 0, sizeof(p));
	p.name = (char *)"release";
	p.format = (char *)"cms";
	p.trust_anchor = (char *)anchor;
	p.tsa_trust_anchor = (char *)tsa_anchor;
	return p;
}

/* open + check one signature file over one artifact */
static int cms_verify(sg_sig_check *chk, const char *sig, const char *art, const sg_profile *p,
		      time_t now, unsigned char sha[32])
{
	sg_buf b;
	sg_cms_sig *s = NULL;
	unsigned char tmp[32];
	int fd = open(art, O_RDONLY), err;

	assert_true(fd >= 0);
	read_file(&b, sig);
	err = sg_cms_sig_open(&s, (unsigned char *)b.ptr, b.size, fd, sha ? sha : tmp);
	if (err == SG_OK)
		err = sg_cms_sig_check(chk, s, p, now);
	sg_cms_sig_free(s);
	sg_buf_dispose(&b);
	close(fd);
	return err;
}

static void path_of(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", D, rel);
}

static void test_cms_good(void **state)
{
	char sig[256], art[256], ca[256], hex[65], want[65];
	sg_profile p;
	sg_sig_check chk;
	unsigned char sha[32];
	FILE *f;

	(void)state;
	path_of(sig, sizeof(sig), "repo/dist/app.tar.gz.p7s");
	path_of(art, sizeof(art), "repo/dist/app.tar.gz");
	path_of(ca, sizeof(ca), "ca.pem");
	p = profile(ca, NULL);
	assert_int_equal(cms_verify(&chk, sig, art, &p, time(NULL), sha), SG_OK);
	assert_string_equal(chk.id, cs_sha);
	assert_string_equal(chk.id_key, "Signer-Cert-Sha256");
	assert_string_equal(chk.subject, "CN=Test Code Signing");
	assert_int_equal(chk.timestamped, 0);
	/* the digest streamed during verification is the file's sha256 */
	sg_hex(hex, sha, 32);
	sh("sha256sum %s | cut -c1-64 > %s/art.sha", art, D);
	path_of(sig, sizeof(sig), "art.sha");
	f = fopen(sig, "r");
	assert_non_null(f);
	assert_non_null(fgets(want, sizeof(want), f));
	fclose(f);
	assert_string_equal(hex, want);
}

static void test_cms_tampered_artifact(void **state)
{
	char sig[256], art[256], ca[256];
	sg_profile p;
	sg_sig_check chk;

	(void)state;
	path_of(sig, sizeof(sig), "repo/dist/app.tar.gz.p7s");
	path_of(art, sizeof(art), "tampered");
	/* flip one bit of byte 5000, so the copy always differs */
	sh_ok("cp %s/repo/dist/app.tar.gz %s && "
	      "b=$(dd if=%s bs=1 skip=5000 count=1 2>/dev/null | od -An -tu1 | tr -d ' ') && "
	      "printf \"\\$(printf %%03o $((b ^ 1)))\" | dd of=%s bs=1 seek=5000 conv=notrunc 2>/dev/null && "
	      "! cmp -s %s/repo/dist/app.tar.gz %s", D, art, art, art, D, art);
	path_of(ca, sizeof(ca), "ca.pem");
	p = profile(ca, NULL);
	assert_int_equal(cms_verify(&chk, sig, art, &p, time(NULL), NULL), SG_EVERIFY);
	assert_non_null(strstr(sg_error_last(), "does not match the artifact"));
}

static void test_cms_tampered_signature(void **state)
{
	char sig[256], art[256], ca[256];
	sg_profile p;
	sg_sig_check chk;
	sg_buf b;

	(void)state;
	path_of(sig, sizeof(sig), "repo/dist/app.tar.gz.p7s");
	read_file(&b, sig);
	b.ptr[b.size - 10] ^= 0x01; /* inside the signature value */
	path_of(sig, sizeof(sig), "tampered.p7s");
	write_file(sig, b.ptr, b.size);
	sg_buf_dispose(&b);
	path_of(art, sizeof(art), "repo/dist/app.tar.gz");
	path_of(ca, sizeof(ca), "ca.pem");
	p = profile(ca, NULL);
	assert_int_equal(cms_verify(&chk, sig, art, &p, time(NULL), NULL), SG_EVERIFY);
	/* and garbage is no signature at all */
	write_file(sig, "garbage", 7);
	assert_int_equal(cms_verify(&chk, sig, art, &p, time(NULL), NULL), SG_EVERIFY);
	assert_non_null(strstr(sg_error_last(), "not a DER CMS signature"));
}

static void test_cms_untrusted_ca(void **state)
{
	char sig[256], art[256], ca[256];
	sg_profile p;
	sg_sig_check chk;

	(void)state;
	path_of(sig, sizeof(sig), "rogue.p7s");
	path_of(art, sizeof(art), "repo/dist/app.tar.gz");
	path_of(ca, sizeof(ca), "ca.pem");
	p = profile(ca, NULL);
	assert_int_equal(cms_verify(&chk, sig, art, &p, time(NULL), NULL), SG_EVERIFY);
	assert_non_null(strstr(sg_error_last(), "not trusted by trustAnchor"));
	assert_non_null(strstr(sg_error_last(), "Rogue Signing"));
	/* the same signature against its own CA passes: the anchor decides */
	path_of(ca, sizeof(ca), "other.pem");
	p = profile(ca, NULL);
	assert_int_equal(cms_verify(&chk, sig, art, &p, time(NULL), NULL), SG_OK);
}

static void test_cms_no_codesigning_eku(void **state)
{
	char sig[256], art[256], ca[256];
	sg_profile p;
	sg_sig_check chk;

	(void)state;
	path_of(sig, sizeof(sig), "noeku.p7s");
	path_of(art, sizeof(art), "repo/dist/app.tar.gz");
	path_of(ca, sizeof(ca), "ca.pem");
	p = profile(ca, NULL);
	assert_int_equal(cms_verify(&chk, sig, art, &p, time(NULL), NULL), SG_EVERIFY);
	assert_non_null(strstr(sg_error_last(), "no codeSigning"));
}

/* Add an RFC 3161 token (made by `openssl ts -reply`) over `over` (the
 * signature value, or the wrong bytes) as the unsigned attribute. */
static void timestamp_p7s(const char *in, const char *out, int over_wrong_data)
{
	char path[256];
	sg_buf b, tok;
	const unsigned char *p;
	unsigned char *der = NULL;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING *sv;
	int len;

	read_file(&b, in);
	p = (unsigned char *)b.ptr;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)b.size);
	assert_non_null(cms);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	sv = CMS_SignerInfo_get0_signature(si);
	path_of(path, sizeof(path), "sigval.bin");
	if (over_wrong_data)
		write_file(path, "not the signature", 17);
	else
		write_file(path, sv->data, (size_t)sv->length);
	assert_int_equal(sh("cd %s && openssl ts -query -data sigval.bin -sha256 -cert -out q.tsq 2>/dev/null && "
			     "openssl ts -reply -config tsa.cnf -queryfile q.tsq -signer tsa.pem "
			     "-inkey tsa.key -token_out -out tok.der 2>/dev/null", D), 0);
	path_of(path, sizeof(path), "tok.der");
	read_file(&tok, path);
	assert_int_equal(CMS_unsigned_add1_attr_by_txt(si, "1.2.840.113549.1.9.16.2.14", V_ASN1_SEQUENCE,
						       tok.ptr, (int)tok.size), 1);
	len = i2d_CMS_ContentInfo(cms, &der);
	assert_true(len > 0);
	write_file(out, der, (size_t)len);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	sg_buf_dispose(&b);
	sg_buf_dispose(&tok);
}

static void test_cms_expired_cert(void **state)
{
	char sig[256], tsig[256], art[256], ca[256], tsaca[256];
	sg_profile p;
	sg_sig_check chk;
	time_t later = time(NULL) + 5 * 86400; /* the cert is valid for 2 days */

	(void)state;
	path_of(sig, sizeof(sig), "repo/dist/app.tar.gz.p7s");
	path_of(tsig, sizeof(tsig), "ts.p7s");
	path_of(art, sizeof(art), "repo/dist/app.tar.gz");
	path_of(ca, sizeof(ca), "ca.pem");
	path_of(tsaca, sizeof(tsaca), "tsaca.pem");
	p = profile(ca, tsaca);
	/* without a timestamp, judged now: expired */
	assert_int_equal(cms_verify(&chk, sig, art, &p, later, NULL), SG_EVERIFY);
	assert_non_null(strstr(sg_error_last(), "expired on"));
	assert_non_null(strstr(sg_error_last(), "has no timestamp"));
	/* timestamped while the cert was valid: still valid after it expired */
	timestamp_p7s(sig, tsig, 0);
	assert_int_equal(cms_verify(&chk, tsig, art, &p, later, NULL), SG_OK);
	assert_int_equal(chk.timestamped, 1);
	assert_true(chk.ts_time <= time(NULL) && chk.ts_time > time(NULL) - 600);
	/* the token must chain to tsaTrustAnchor */
	p = profile(ca, ca);
	assert_int_equal(cms_verify(&chk, tsig, art, &p, later, NULL), SG_EVERIFY);
	assert_non_null(strstr(sg_error_last(), "timestamp does not verify"));
	/* no tsaTrustAnchor: a token that cannot be checked is refused */
	p = profile(ca, NULL);
	assert_int_equal(cms_verify(&chk, tsig, art, &p, later, NULL), SG_EVERIFY);
	assert_non_null(strstr(sg_error_last(), "tsaTrustAnchor"));
	/* a token over other bytes than the signature value is refused */
	p = profile(ca, tsaca);
	timestamp_p7s(sig, tsig, 1);
	assert_int_equal(cms_verify(&chk, tsig, art, &p, later, NULL), SG_EVERIFY);
	/* before notBefore: not yet valid */
	assert_int_equal(cms_verify(&chk, sig, art, &p, time(NULL) - 5 * 86400, NULL), SG_EVERIFY);
	assert_non_null(strstr(sg_error_last(), "not valid before"));
}

static void test_cert_dates(void **state)
{
	sg_profile p;
	char *w = NULL;
	time_t now = 1800000000;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.name = (char *)"release";
	p.cert_expiry_warn_days = 30;
	assert_int_equal(sg_cert_check_dates(&w, &p, now - 86400, now + 365 * 86400, now), SG_OK);
	assert_null(w);
	assert_int_equal(sg_cert_check_dates(&w, &p, now - 86400, now + 10 * 86400, now), SG_OK);
	assert_non_null(w);
	assert_non_null(strstr(w, "in 10 days"));
	free(w);
	assert_int_equal(sg_cert_check_dates(&w, &p, now - 86400, now - 1, now), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "expired"));
	assert_int_equal(sg_cert_check_dates(&w, &p, now + 60, now + 86400 * 90, now), SG_EDENIED);
	p.max_key_age_days = 365;
	assert_int_equal(sg_cert_check_dates(&w, &p, now - 364 * 86400, now + 86400 * 90, now), SG_OK);
	assert_int_equal(sg_cert_check_dates(&w, &p, now - 366 * 86400, now + 86400 * 90, now), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "maxKeyAgeDays"));
	/* unknown dates (openpgp) pass */
	assert_int_equal(sg_cert_check_dates(&w, &p, 0, 0, now), SG_OK);
	assert_null(w);
}

/* ---- whole-file verification with the notes ---- */

static sg_policy *load_policy(const char *extra)
{
	char path[256];
	sg_policy *pol = NULL;
	FILE *f;

	path_of(path, sizeof(path), "policy");
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[gate]\n\tprotectedBranch = main\n[scan]\n\trequired = false\n"
		"[profile \"release\"]\n\tformat = cms\n\tkey = file:%s/cs.key\n\tcert = %s/cs.pem\n"
		"\ttrustAnchor = %s/ca.pem\n\ttsaTrustAnchor = %s/tsaca.pem\n\trequireTimestamp = false\n"
		"\trequireHardwareKey = false\n\tartifacts = dist/*\n%s", D, D, D, D, extra ? extra : "");
	fclose(f);
	if (sg_policy_load_file(&pol, path) < 0)
		fail_msg("policy: %s", sg_error_last());
	return pol;
}

static git_repository *open_repo(void)
{
	git_repository *repo = NULL;
	assert_int_equal(git_repository_open(&repo, R), 0);
	return repo;
}

static void sha_of(char out[65], const char *path)
{
	char tmp[256];
	FILE *f;

	path_of(tmp, sizeof(tmp), "sha.out");
	assert_int_equal(sh("sha256sum %s | cut -c1-64 > %s", path, tmp), 0);
	f = fopen(tmp, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, 65, f));
	fclose(f);
}

/* Write the note on REV under refs/notes/signatures (replacing it). */
static void note(const char *rev, const char *art_sha, const char *sig_sha, const char *extra)
{
	char path[256];
	FILE *f;

	path_of(path, sizeof(path), "note.txt");
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "Some text a person wrote.\n\nSigngate-Event: sign\nArtifact: dist/app.tar.gz\n"
		"Artifact-Sha256: %s\nSignature: dist/app.tar.gz.p7s\nSignature-Format: cms\n"
		"Signature-Sha256: %s\nSigner-Cert-Sha256: %s\nProfile: release\n"
		"Timestamp: none (test)\nSigned-By: Tester <tester@example.com>\n"
		"Signed-At: 2026-11-26T23:40:01Z\n%s", art_sha, sig_sha, cs_sha, extra ? extra : "");
	fclose(f);
	assert_int_equal(sh("git -C %s notes --ref=signatures add -f -F %s %s 2>/dev/null", R, path, rev), 0);
}

/* The batch's attestation (DESIGN.md 4a) for that event, made here with the
 * fixture's code-signing key: the paragraph, a blank line, and the
 * Attestation-Sha256 line the event ends with, in *para and *line. */
static void attestation(sg_buf *para, char line[96], const char *rev, const char *art_sha,
			const char *sig_sha)
{
	sg_attest_artifact a = { "dist/app.tar.gz", art_sha, 100000, "release", sig_sha,
				 "none (test)", "skipped" };
	sg_attest_signer s = { "release", "cms", "Signer-Cert-Sha256", cs_sha, "CN=Test", 0, 0 };
	sg_attest_batch b = { NULL, NULL, "file policy", NULL, "Tester <tester@example.com>",
			      NULL, &a, 1, &s, 1 };
	sg_buf st = SG_BUF_INIT, pae = SG_BUF_INIT, env = SG_BUF_INIT, cert = SG_BUF_INIT;
	sg_dsse_sig sig = { cs_sha, SG_BUF_INIT };
	sg_event ev = { NULL, 0 };
	char path[256], sha[65], *commit = capture("git -C %s rev-parse %s", R, rev);
	unsigned char *der = NULL;
	size_t siglen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY *key;
	X509 *x;
	FILE *f;
	int len;

	char now[32];

	commit[strcspn(commit, "\n")] = '\0';
	b.commit = commit;
	/* the certificate must be valid at the batch's time: the fixture made it just now */
	sg_time_format(now, sizeof(now), time(NULL));
	b.signed_at = now;
	assert_int_equal(sg_attest_statement(&st, &b), SG_OK);
	assert_int_equal(sg_dsse_pae(&pae, SG_ATTEST_PAYLOAD_TYPE, st.ptr, st.size), SG_OK);
	path_of(path, sizeof(path), "cs.key");
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(key = PEM_read_PrivateKey(f, NULL, NULL, NULL));
	fclose(f);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, NULL, &siglen, (unsigned char *)pae.ptr, pae.size), 1);
	assert_int_equal(sg_buf_grow(&sig.sig, siglen), SG_OK);
	assert_int_equal(EVP_DigestSign(md, (unsigned char *)sig.sig.ptr, &siglen,
					(unsigned char *)pae.ptr, pae.size), 1);
	sig.sig.size = siglen;
	assert_int_equal(sg_dsse_envelope_json(&env, st.ptr, st.size, &sig, 1), SG_OK);
	path_of(path, sizeof(path), "cs.pem");
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(x = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	assert_true((len = i2d_X509(x, &der)) > 0);
	sg_buf_put(&cert, der, (size_t)len);
	assert_int_equal(sg_attest_paragraph(&ev, sha, &env, &cert, 1, NULL, 0), SG_OK);
	assert_int_equal(sg_event_format(&ev, para), SG_OK);
	sg_buf_puts(para, "\n");
	snprintf(line, 96, "%s: %s\n", SG_ATTEST_SHA_KEY, sha);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
	EVP_MD_CTX_free(md);
	sg_event_release(&ev);
	sg_buf_dispose(&st);
	sg_buf_dispose(&pae);
	sg_buf_dispose(&env);
	sg_buf_dispose(&cert);
	sg_buf_dispose(&sig.sig);
	free(commit);
}

/* The same note with the event attested (its attestation paragraph first). */
static void attested_note(const char *rev, const char *art_sha, const char *sig_sha)
{
	sg_buf para = SG_BUF_INIT;
	char line[96], path[256];
	FILE *f;

	attestation(&para, line, rev, art_sha, sig_sha);
	path_of(path, sizeof(path), "note.txt");
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%sSigngate-Event: sign\nArtifact: dist/app.tar.gz\n"
		"Artifact-Sha256: %s\nSignature: dist/app.tar.gz.p7s\nSignature-Format: cms\n"
		"Signature-Sha256: %s\nSigner-Cert-Sha256: %s\nProfile: release\n"
		"Timestamp: none (test)\nSigned-By: Tester <tester@example.com>\n"
		"Signed-At: 2026-11-26T23:40:01Z\n%s", para.ptr, art_sha, sig_sha, cs_sha, line);
	fclose(f);
	assert_int_equal(sh("git -C %s notes --ref=signatures add -f -F %s %s 2>/dev/null", R, path, rev), 0);
	sg_buf_dispose(&para);
}

static void test_verify_file_notes(void **state)
{
	char art[256], sig[256], art_sha[65], sig_sha[65];
	sg_verify_opts o = { NULL, NULL, 0 };
	sg_verify_result r;
	git_repository *repo = open_repo();
	sg_policy *pol = load_policy(NULL);

	(void)state;
	snprintf(art, sizeof(art), "%s/dist/app.tar.gz", R);
	snprintf(sig, sizeof(sig), "%s/dist/app.tar.gz.p7s", R);
	sha_of(art_sha, art);
	sha_of(sig_sha, sig);
	sh("git -C %s notes --ref=signatures remove HEAD HEAD~1 2>/dev/null", R);

	/* no note at all */
	assert_int_equal(sg_verify_file(&r, repo, pol, art, &o), SG_EVERIFY);
	assert_int_equal(r.ok, 0);
	assert_non_null(strstr(r.reason, "no signing event for sha256"));
	assert_non_null(strstr(r.reason, "refs/notes/signatures"));
	assert_string_equal(r.sha256, art_sha);
	sg_verify_result_release(&r);

	/* a hand-written event, not attested (DESIGN.md 4a): not trusted */
	note("HEAD", art_sha, sig_sha, NULL);
	assert_int_equal(sg_verify_file(&r, repo, pol, art, &o), SG_EVERIFY);
	assert_non_null(strstr(r.reason, "unattested (no Attestation-Sha256"));
	sg_verify_result_release(&r);

	/* the twin: the attested event is there: verified */
	attested_note("HEAD", art_sha, sig_sha);
	if (sg_verify_file(&r, repo, pol, art, &o) != SG_OK)
		fail_msg("%s", r.reason);
	assert_int_equal(r.ok, 1);
	assert_null(r.reason);
	assert_string_equal(r.display, "dist/app.tar.gz");
	assert_string_equal(r.profile, "release");
	assert_string_equal(r.signer_id, cs_sha);
	assert_string_equal(r.sig_sha256, sig_sha);
	assert_int_equal(strlen(r.event_commit), 40);
	assert_string_equal(r.signed_at, "2026-11-26T23:40:01Z");
	sg_verify_result_release(&r);

	/* --rev: only the note on that commit counts */
	o.rev = "HEAD";
	assert_int_equal(sg_verify_file(&r, repo, pol, art, &o), SG_OK);
	sg_verify_result_release(&r);
	o.rev = "HEAD~1";
	assert_int_equal(sg_verify_file(&r, repo, pol, art, &o), SG_EVERIFY);
	assert_non_null(strstr(r.reason, "on commit"));
	sg_verify_result_release(&r);
	o.rev = NULL;

	/* an event whose Signature-Sha256 is not this signature file */
	note("HEAD", art_sha, "0000000000000000000000000000000000000000000000000000000000000000", NULL);
	assert_int_equal(sg_verify_file(&r, repo, pol, art, &o), SG_EVERIFY);
	assert_non_null(strstr(r.reason, "records Signature-Sha256 0000"));
	sg_verify_result_release(&r);

	sg_policy_free(pol);
	git_repository_free(repo);
}

static void test_verify_file_policy(void **state)
{
	char art[256], sig[256], art_sha[65], sig_sha[65], extra[512];
	sg_verify_opts o = { NULL, NULL, 0 };
	sg_verify_result r;
	git_repository *repo = open_repo();
	sg_policy *pol;

	(void)state;
	snprintf(art, sizeof(art), "%s/dist/app.tar.gz", R);
	snprintf(sig, sizeof(sig), "%s/dist/app.tar.gz.p7s", R);
	sha_of(art_sha, art);
	sha_of(sig_sha, sig);
	note("HEAD", art_sha, sig_sha, NULL);

	/* revoked, and the signature has no timestamp: fails */
	snprintf(extra, sizeof(extra), "[revoked \"%s\"]\n\tsince = 2020-01-01T00:00:00Z\n"
		 "\treason = key exposed in CI logs\n", cs_sha);
	pol = load_policy(extra);
	assert_int_equal(sg_verify_file(&r, repo, pol, art, &o), SG_EVERIFY);
	assert_non_null(strstr(r.reason, "revoked since 2020-01-01T00:00:00Z"));
	assert_non_null(strstr(r.reason, "key exposed in CI logs"));
	sg_verify_result_release(&r);
	sg_policy_free(pol);

	/* a profile that requires a timestamp refuses a signature without one */
	snprintf(extra, sizeof(extra), "[profile \"strict\"]\n\tformat = cms\n\tkey = file:/nonexistent\n"
		 "\ttrustAnchor = %s/ca.pem\n\trequireTimestamp = true\n\trequireHardwareKey = false\n", D);
	pol = load_policy(extra);
	o.profile = "strict";
	assert_int_equal(sg_verify_file(&r, repo, pol, art, &o), SG_EVERIFY);
	assert_non_null(strstr(r.reason, "requires a timestamp"));
	sg_verify_result_release(&r);
	o.profile = NULL;
	sg_policy_free(pol);

	/* no signature next to the file */
	pol = load_policy(NULL);
	snprintf(art, sizeof(art), "%s/README", R);
	assert_int_equal(sg_verify_file(&r, repo, pol, art, &o), SG_EVERIFY);
	assert_non_null(strstr(r.reason, "no signature for"));
	sg_verify_result_release(&r);
	sg_policy_free(pol);
	git_repository_free(repo);
}

static void test_event_log(void **state)
{
	char art_sha[65], sig_sha[65];
	git_repository *repo = open_repo();
	sg_strlist refs = SG_STRLIST_INIT;
	sg_event_log log;

	(void)state;
	memset(art_sha, 'a', 64);
	art_sha[64] = '\0';
	memset(sig_sha, 'b', 64);
	sig_sha[64] = '\0';
	note("HEAD", art_sha, sig_sha, "Timestamp: 2026-11-26T23:40:00Z (http://127.0.0.1:1/)\n\n"
	     "Signgate-Event: sign\nArtifact: later\nSigned-At: 2026-12-01T00:00:00Z\n");
	note("HEAD~1", art_sha, sig_sha, NULL);
	assert_int_equal(sg_verify_notes_refs(&refs, NULL), SG_OK);
	assert_int_equal(sg_event_log_collect(&log, repo, &refs, NULL), SG_OK);
	assert_int_equal(log.n, 3);
	assert_int_equal(log.notes, 2);
	assert_int_equal(log.skipped, 2); /* "Some text a person wrote." in each note */
	sg_event_log_sort(&log);
	assert_string_equal(sg_event_get(&log.v[0].ev, "Artifact"), "later");
	assert_int_equal(log.v[0].signed_at, 1796083200);
	sg_event_log_release(&log);
	/* a range: only HEAD's note */
	assert_int_equal(sg_event_log_collect(&log, repo, &refs, "HEAD~1..HEAD"), SG_OK);
	assert_int_equal(log.n, 2);
	sg_event_log_release(&log);
	assert_int_equal(sg_event_log_collect(&log, repo, &refs, "no-such-rev"), SG_EUSAGE);
	sg_strlist_release(&refs);
	git_repository_free(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cms_good),
		cmocka_unit_test(test_cms_tampered_artifact),
		cmocka_unit_test(test_cms_tampered_signature),
		cmocka_unit_test(test_cms_untrusted_ca),
		cmocka_unit_test(test_cms_no_codesigning_eku),
		cmocka_unit_test(test_cms_expired_cert),
		cmocka_unit_test(test_cert_dates),
		cmocka_unit_test(test_verify_file_notes),
		cmocka_unit_test(test_verify_file_policy),
		cmocka_unit_test(test_event_log),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
