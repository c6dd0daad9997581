/* The openpgp signing backend against a real gpg-agent in a short
 * GNUPGHOME made by tests/lib/gpg.sh. Every signature is checked by
 * `gpg --verify` (and every timestamp by `openssl ts -verify`), each with a
 * tampered twin that must fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include <ctype.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "core/secret.h"
#include "sign/sign.h"
#include "tsa/tsa.h"

static char g_home[256];        /* GNUPGHOME */
static char g_work[64];         /* artifacts, TSA PKI */
static char g_fpr_pass[65];     /* passphrase-protected key */
static char g_fpr_nopass[65];   /* unprotected key with a signing subkey */
static char g_fpr_sub[65];      /* that subkey */
static char g_fpr_expired[65];
static char g_fpr_revoked[65];
static char g_fpr_disabled[65];
static const char *g_pass = "correct horse battery";  /* test-only */
static char g_tsa_url[128];     /* tests/lib/tsa.sh server, mode ok */
static long g_tsa_pid;

static void kill_agent(void)
{
	sh("gpgconf --kill all 2>/dev/null");
}

static const char *top(void)
{
	const char *t = getenv("SG_TOP");
	return t ? t : ".";
}

static int read_line(FILE *f, char *out, size_t n)
{
	if (!fgets(out, (int)n, f))
		return -1;
	out[strcspn(out, "\n")] = '\0';
	return out[0] ? 0 : -1;
}

/* A local TSA (tests/lib/tsa.sh) with its PKI in g_work; it also stops
 * by itself after its lifetime. */
static int tsa_start(void)
{
	char cmd[512];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "cd %s && . tests/lib/tsa.sh && sg_tsa_pki %s && "
		 "sg_tsa_start %s ok --lifetime 300 >/dev/null && echo \"$SG_TSA_URL $SG_TSA_PID\"",
		 top(), g_work, g_work);
	if (!(p = popen(cmd, "r")))
		return -1;
	ok = fscanf(p, "%127s %ld", g_tsa_url, &g_tsa_pid) == 2;
	return pclose(p) == 0 && ok ? 0 : -1;
}

static int group_setup(void **state)
{
	char cmd[2048];
	FILE *p;

	(void)state;
	snprintf(g_work, sizeof(g_work), "/tmp/sgp.XXXXXX");
	if (!mkdtemp(g_work))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 ". %s/tests/lib/gpg.sh && sg_gpg_init && echo \"$GNUPGHOME\" && "
		 "sg_gpg_genkey Alice alice@example.com '%s' && "
		 "f=$(sg_gpg_genkey Bob bob@example.com '') && echo $f && "
		 "gpg --batch --no-tty --status-fd 1 --pinentry-mode loopback --passphrase '' "
		 "--quick-add-key $f ed25519 sign 1y 2>/dev/null | "
		 "sed -n 's/^\\[GNUPG:\\] KEY_CREATED S \\([0-9A-F]*\\).*/\\1/p' && "
		 "sg_gpg_genkey Old old@example.com '' 1d 20200101T000000 && "
		 "f=$(sg_gpg_genkey Rev rev@example.com '') && echo $f && sg_gpg_revoke $f && "
		 "f=$(sg_gpg_genkey Dis dis@example.com '') && echo $f && sg_gpg_disable $f",
		 top(), g_pass);
	if (!(p = popen(cmd, "r")))
		return -1;
	if (read_line(p, g_home, sizeof(g_home)) || read_line(p, g_fpr_pass, sizeof(g_fpr_pass)) ||
	    read_line(p, g_fpr_nopass, sizeof(g_fpr_nopass)) ||
	    read_line(p, g_fpr_sub, sizeof(g_fpr_sub)) ||
	    read_line(p, g_fpr_expired, sizeof(g_fpr_expired)) ||
	    read_line(p, g_fpr_revoked, sizeof(g_fpr_revoked)) ||
	    read_line(p, g_fpr_disabled, sizeof(g_fpr_disabled))) {
		pclose(p);
		return -1;
	}
	if (pclose(p) != 0 || strlen(g_fpr_pass) != 40 || strlen(g_fpr_sub) != 40)
		return -1;
	setenv("GNUPGHOME", g_home, 1);
	return tsa_start();
}

static int group_teardown(void **state)
{
	(void)state;
	if (g_tsa_pid > 0)
		kill((pid_t)g_tsa_pid, SIGTERM);
	sh(". %s/tests/lib/gpg.sh && GNUPGHOME=%s sg_gpg_cleanup", top(), g_home);
	sh("rm -rf %s", g_work);
	return 0;
}

/* Each test starts with no agent (no cached passphrase) and no secret source. */
static int test_setup(void **state)
{
	(void)state;
	kill_agent();
	unsetenv("SIGNGATE_PIN"); sg_secret_forget_env();
	sg_error_clear();
	return 0;
}

static void profile_init(sg_profile *p, const char *key)
{
	memset(p, 0, sizeof(*p));
	p->name = "release";
	p->format = "openpgp";
	p->key = (char *)key;
}

/* Write `content` to g_work/name, open it and fill the artifact. */
static void artifact_make(sg_artifact *a, char *path, size_t n, const char *name,
			  const char *content)
{
	unsigned int len = 0;
	FILE *f;

	snprintf(path, n, "%s/%s", g_work, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
	assert_int_equal(fclose(f), 0);
	memset(a, 0, sizeof(*a));
	a->path = path;
	a->fd = open(path, O_RDONLY | O_NOFOLLOW);
	assert_true(a->fd >= 0);
	a->size = strlen(content);
	assert_int_equal(EVP_Digest(content, strlen(content), a->sha256, &len, EVP_sha256(), NULL), 1);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void assert_msg(const char *needle)
{
	const char *m = sg_error_last();
	if (getenv("SG_TEST_VERBOSE"))
		printf("# %s\n", m ? m : "(none)");
	if (!m || !strstr(m, needle))
		fail_msg("message \"%s\" lacks \"%s\"", m ? m : "(none)", needle);
}

static void assert_empty(const sg_signature *sig)
{
	assert_int_equal(sig->sig.size, 0);
	assert_int_equal(sig->tsr.size, 0);
	assert_int_equal(sig->timestamped, 0);
}

static void test_backend_names(void **state)
{
	(void)state;
	assert_string_equal(sg_sign_openpgp.name, "openpgp");
	assert_string_equal(sg_sign_openpgp.suffix, ".asc");
	assert_string_equal(sg_sign_openpgp.tsr_suffix, ".asc.tsr");
}

static void test_sign_passphrase_key_verifies(void **state)
{
	sg_profile prof;
	sg_signer *s = NULL;
	sg_signer_info info;
	sg_signature sig;
	sg_artifact a;
	char path[256], asc[300];
	char lower[65];
	size_t i;

	(void)state;
	memset(&sig, 0, sizeof(sig));
	/* lowercase in the policy is fine; info reports it as gpg prints it */
	for (i = 0; i <= strlen(g_fpr_pass); i++)
		lower[i] = (char)tolower((unsigned char)g_fpr_pass[i]);
	profile_init(&prof, lower);
	setenv("SIGNGATE_PIN", g_pass, 1);
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_OK);
	assert_int_equal(sg_sign_openpgp.info(s, &info), SG_OK);
	assert_string_equal(info.id_key, "Signer-Key-Fingerprint");
	assert_string_equal(info.id, g_fpr_pass);
	assert_string_equal(info.subject, "Alice <alice@example.com>");
	assert_int_equal(info.hardware, 0);

	artifact_make(&a, path, sizeof(path), "hello.tar.gz", "release bytes\n");
	assert_true(lseek(a.fd, 5, SEEK_SET) == 5);  /* the backend reads from offset 0 anyway */
	assert_int_equal(sg_sign_openpgp.sign(s, &a, NULL, &sig), SG_OK);
	assert_true(sig.sig.size > 0);
	assert_non_null(strstr(sig.sig.ptr, "-----BEGIN PGP SIGNATURE-----"));
	assert_int_equal(sig.timestamped, 0);
	assert_int_equal(sig.tsr.size, 0);
	snprintf(asc, sizeof(asc), "%s.asc", path);
	write_file(asc, sig.sig.ptr, sig.sig.size);

	/* independent check, and its forgery twin */
	assert_int_equal(sh("gpg --batch --status-fd 1 --verify %s %s 2>/dev/null | "
			    "grep -q '^\\[GNUPG:\\] VALIDSIG %s'", asc, path, g_fpr_pass), 0);
	assert_int_equal(sh("gpg --batch --list-packets %s 2>/dev/null | "
			    "grep -Eq 'digest algo (8|9|10),'", asc), 0);  /* SHA-256/384/512 */
	assert_int_equal(sh("printf x >>%s", path), 0);
	assert_int_not_equal(sh("gpg --batch --verify %s %s 2>/dev/null", asc, path), 0);

	/* a second signature in the same session uses the cached secret */
	sg_signature_release(&sig);
	kill_agent();
	assert_int_equal(close(a.fd), 0);
	artifact_make(&a, path, sizeof(path), "second.bin", "second\n");
	assert_int_equal(sg_sign_openpgp.sign(s, &a, NULL, &sig), SG_OK);
	snprintf(asc, sizeof(asc), "%s.asc", path);
	write_file(asc, sig.sig.ptr, sig.sig.size);
	assert_int_equal(sh("gpg --batch --verify %s %s 2>/dev/null", asc, path), 0);

	sg_signature_release(&sig);
	close(a.fd);
	sg_sign_openpgp.close(s);
}

static void test_wrong_passphrase_denied(void **state)
{
	sg_profile prof;
	sg_signer *s = NULL;
	sg_signature sig;
	sg_artifact a;
	char path[256];

	(void)state;
	memset(&sig, 0, sizeof(sig));
	profile_init(&prof, g_fpr_pass);
	setenv("SIGNGATE_PIN", "not the passphrase", 1);
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_OK);
	artifact_make(&a, path, sizeof(path), "wrong.bin", "data\n");
	assert_int_equal(sg_sign_openpgp.sign(s, &a, NULL, &sig), SG_EDENIED);
	assert_msg("bad passphrase for key ");
	assert_msg(g_fpr_pass);
	assert_null(strstr(sg_error_last(), "not the passphrase"));
	assert_empty(&sig);
	close(a.fd);
	sg_sign_openpgp.close(s);
}

static void test_no_passphrase_source(void **state)
{
	sg_profile prof;
	sg_signer *s = NULL;
	sg_signature sig;
	sg_artifact a;
	char path[256];
	int saved = dup(0), null = open("/dev/null", O_RDONLY);

	(void)state;
	memset(&sig, 0, sizeof(sig));
	assert_true(saved >= 0 && null >= 0);
	assert_int_equal(dup2(null, 0), 0);         /* no terminal to prompt on */
	profile_init(&prof, g_fpr_pass);
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_OK);
	artifact_make(&a, path, sizeof(path), "nopin.bin", "data\n");
	assert_int_equal(sg_sign_openpgp.sign(s, &a, NULL, &sig), SG_ERROR);
	assert_msg("SIGNGATE_PIN");
	assert_msg(g_fpr_pass);
	assert_empty(&sig);
	dup2(saved, 0);
	close(saved);
	close(null);
	close(a.fd);
	sg_sign_openpgp.close(s);
}

/* An unprotected key never asks for a passphrase; its signing subkey signs. */
static void test_unprotected_key_signing_subkey(void **state)
{
	sg_profile prof;
	sg_signer *s = NULL;
	sg_signature sig;
	sg_artifact a;
	char path[256], asc[300];

	(void)state;
	memset(&sig, 0, sizeof(sig));
	profile_init(&prof, g_fpr_nopass);
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_OK);
	artifact_make(&a, path, sizeof(path), "bob.bin", "bob's release\n");
	assert_int_equal(sg_sign_openpgp.sign(s, &a, NULL, &sig), SG_OK);
	snprintf(asc, sizeof(asc), "%s.asc", path);
	write_file(asc, sig.sig.ptr, sig.sig.size);
	assert_int_equal(sh("gpg --batch --status-fd 1 --verify %s %s 2>/dev/null | "
			    "grep -q '^\\[GNUPG:\\] VALIDSIG %s .* %s$'", asc, path, g_fpr_sub,
			    g_fpr_nopass), 0);
	/* twin: the signature does not cover another file */
	assert_int_not_equal(sh("gpg --batch --verify %s %s/wrong.bin 2>/dev/null", asc, g_work), 0);
	sg_signature_release(&sig);
	close(a.fd);
	sg_sign_openpgp.close(s);
}

static void test_key_not_a_fingerprint(void **state)
{
	const char *bad[] = { "B1014DD2A7D5010D", "0xB1014DD2A7D5010D", "alice@example.com",
			      "7DC8 FCB7 4FF5 B51A 0294  8C16 B101 4DD2 A7D5 010D", "", NULL };
	char withx[80];
	sg_profile prof;
	sg_signer *s = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sg_error_clear();
		profile_init(&prof, bad[i]);
		assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_ERROR);
		assert_null(s);
		assert_msg("key must be a full fingerprint");
	}
	/* the real key's short id and 0x-prefixed fingerprint */
	profile_init(&prof, g_fpr_pass + 24);
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_ERROR);
	snprintf(withx, sizeof(withx), "0x%s", g_fpr_pass);
	profile_init(&prof, withx);
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_ERROR);
	assert_msg("key must be a full fingerprint");
	assert_null(s);
}

/* Opening the profile whose key is `fpr` fails with `code`, no signer, and
 * a message holding `msg` (and `msg2` when given). */
static void expect_open_refused(const char *fpr, int code, const char *msg, const char *msg2)
{
	sg_profile prof;
	sg_signer *s = NULL;

	profile_init(&prof, fpr);
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), code);
	assert_null(s);
	assert_msg(msg);
	if (msg2)
		assert_msg(msg2);
}

static void test_unknown_fingerprint(void **state)
{
	(void)state;
	expect_open_refused("0123456789ABCDEF0123456789ABCDEF01234567", SG_ERROR,
			    "no secret key 0123456789ABCDEF0123456789ABCDEF01234567", g_home);
}

static void test_subkey_fingerprint_refused(void **state)
{
	(void)state;
	expect_open_refused(g_fpr_sub, SG_ERROR, "is a subkey of", g_fpr_nopass);
}

static void test_expired_key_denied(void **state)
{
	(void)state;
	expect_open_refused(g_fpr_expired, SG_EDENIED, "is expired", NULL);
}

static void test_revoked_key_denied(void **state)
{
	(void)state;
	expect_open_refused(g_fpr_revoked, SG_EDENIED, "is revoked", NULL);
}

static void test_disabled_key_denied(void **state)
{
	(void)state;
	expect_open_refused(g_fpr_disabled, SG_EDENIED, "is disabled", NULL);
}

static void test_hardware_required_denied(void **state)
{
	char want[256];
	sg_profile prof;
	sg_signer *s = NULL;

	(void)state;
	profile_init(&prof, g_fpr_nopass);
	prof.require_hardware_key = 1;
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_EDENIED);
	assert_null(s);
	snprintf(want, sizeof(want), "profile release requires a hardware key (OpenPGP card); "
		 "key %s has its secret on disk", g_fpr_nopass);
	assert_string_equal(sg_error_last(), want);
	/* twin: the same key without the requirement opens */
	prof.require_hardware_key = 0;
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_OK);
	sg_sign_openpgp.close(s);
}

static void test_max_key_age_denied(void **state)
{
	sg_profile prof;
	sg_signer *s = NULL;

	(void)state;
	/* generate a key backdated 40 days with a long validity */
	char cmd[512], fpr[65];
	FILE *p;
	snprintf(cmd, sizeof(cmd), ". %s/tests/lib/gpg.sh && sg_gpg_genkey Aged aged@example.com '' 5y %s",
		 top(), "$(date -u -d '40 days ago' +%Y%m%dT%H%M%S)");
	assert_non_null(p = popen(cmd, "r"));
	assert_int_equal(read_line(p, fpr, sizeof(fpr)), 0);
	assert_int_equal(pclose(p), 0);
	profile_init(&prof, fpr);
	prof.max_key_age_days = 30;
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_EDENIED);
	assert_msg("older than maxKeyAgeDays = 30");
	prof.max_key_age_days = 60;
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_OK);
	sg_sign_openpgp.close(s);
}

/* The bytes gpg reads must be the bytes that were scanned. */
static void test_changed_artifact_refused(void **state)
{
	sg_profile prof;
	sg_signer *s = NULL;
	sg_signature sig;
	sg_artifact a;
	char path[256];

	(void)state;
	memset(&sig, 0, sizeof(sig));
	profile_init(&prof, g_fpr_nopass);
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_OK);
	artifact_make(&a, path, sizeof(path), "changed.bin", "scanned bytes\n");
	assert_int_equal(sh("printf 'Scanned bytes\\n' >%s", path), 0);  /* same size */
	assert_int_equal(sg_sign_openpgp.sign(s, &a, NULL, &sig), SG_ERROR);
	assert_msg("changed between the scan and the signature");
	assert_empty(&sig);
	close(a.fd);
	sg_sign_openpgp.close(s);
}

static void test_timestamp_over_asc(void **state)
{
	sg_strlist urls = SG_STRLIST_INIT;
	sg_tsa_config cfg = { 0 };
	sg_profile prof;
	sg_signer *s = NULL;
	sg_signature sig;
	sg_artifact a;
	char path[256], asc[300], tsr[300], ca[128];

	(void)state;
	memset(&sig, 0, sizeof(sig));
	snprintf(ca, sizeof(ca), "%s/tsa-ca.pem", g_work);
	assert_int_equal(sg_strlist_add(&urls, g_tsa_url), SG_OK);
	cfg.urls = &urls;
	cfg.trust_anchor = ca;
	cfg.connect_timeout_ms = 2000;
	cfg.total_timeout_ms = 5000;
	cfg.attempts = 1;
	cfg.max_response = 256 * 1024;
	profile_init(&prof, g_fpr_nopass);
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_OK);
	artifact_make(&a, path, sizeof(path), "stamped.bin", "stamped\n");
	assert_int_equal(sg_sign_openpgp.sign(s, &a, &cfg, &sig), SG_OK);
	assert_int_equal(sig.timestamped, 1);
	assert_true(sig.tsr.size > 0);
	assert_string_equal(sig.ts_url, g_tsa_url);
	assert_true(sig.ts_time > 0 && strlen(sig.ts_text) == 20);
	snprintf(asc, sizeof(asc), "%s.asc", path);
	snprintf(tsr, sizeof(tsr), "%s.asc.tsr", path);
	write_file(asc, sig.sig.ptr, sig.sig.size);
	write_file(tsr, sig.tsr.ptr, sig.tsr.size);
	assert_int_equal(sh("gpg --batch --verify %s %s 2>/dev/null", asc, path), 0);
	assert_int_equal(sh("openssl ts -verify -data %s -in %s -CAfile %s >/dev/null 2>&1",
			    asc, tsr, ca), 0);
	/* twin: the token is over the .asc, not over the artifact */
	assert_int_not_equal(sh("openssl ts -verify -data %s -in %s -CAfile %s >/dev/null 2>&1",
				path, tsr, ca), 0);
	sg_signature_release(&sig);

	/* a TSA failure: an error that says so, nothing handed out */
	sg_strlist_release(&urls);
	assert_int_equal(sg_strlist_add(&urls, "http://127.0.0.1:9/"), SG_OK);
	assert_int_equal(sg_sign_openpgp.sign(s, &a, &cfg, &sig), SG_ERROR);
	assert_msg("http://127.0.0.1:9/");
	assert_int_equal(sig.tsa_failed, 1);
	assert_empty(&sig);
	assert_null(sig.ts_url);
	sg_strlist_release(&urls);
	close(a.fd);
	sg_sign_openpgp.close(s);
}

/* The agent cannot be started at signing time: an operational error. */
static void test_agent_unreachable(void **state)
{
	sg_profile prof;
	sg_signer *s = NULL;
	sg_signature sig;
	sg_artifact a;
	char path[256];
	int rc;

	(void)state;
	memset(&sig, 0, sizeof(sig));
	profile_init(&prof, g_fpr_nopass);
	assert_int_equal(sg_sign_openpgp.open(&s, &prof), SG_OK);
	artifact_make(&a, path, sizeof(path), "noagent.bin", "data\n");
	assert_int_equal(sh("touch %s/gpg.conf && cp %s/gpg.conf %s/gpg.conf.keep && echo 'agent-program /bin/false' "
			    ">>%s/gpg.conf", g_home, g_home, g_home, g_home), 0);
	kill_agent();
	rc = sg_sign_openpgp.sign(s, &a, NULL, &sig);
	sh("mv %s/gpg.conf.keep %s/gpg.conf", g_home, g_home);
	assert_int_equal(rc, SG_ERROR);
	assert_msg("gpg could not sign with key");
	assert_msg("gpg-agent");
	assert_empty(&sig);
	/* twin: with the agent back, the same signer signs */
	assert_int_equal(sg_sign_openpgp.sign(s, &a, NULL, &sig), SG_OK);
	sg_signature_release(&sig);
	close(a.fd);
	sg_sign_openpgp.close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_names),
		cmocka_unit_test_setup(test_sign_passphrase_key_verifies, test_setup),
		cmocka_unit_test_setup(test_wrong_passphrase_denied, test_setup),
		cmocka_unit_test_setup(test_no_passphrase_source, test_setup),
		cmocka_unit_test_setup(test_unprotected_key_signing_subkey, test_setup),
		cmocka_unit_test_setup(test_key_not_a_fingerprint, test_setup),
		cmocka_unit_test_setup(test_unknown_fingerprint, test_setup),
		cmocka_unit_test_setup(test_subkey_fingerprint_refused, test_setup),
		cmocka_unit_test_setup(test_expired_key_denied, test_setup),
		cmocka_unit_test_setup(test_revoked_key_denied, test_setup),
		cmocka_unit_test_setup(test_disabled_key_denied, test_setup),
		cmocka_unit_test_setup(test_hardware_required_denied, test_setup),
		cmocka_unit_test_setup(test_max_key_age_denied, test_setup),
		cmocka_unit_test_setup(test_changed_artifact_refused, test_setup),
		cmocka_unit_test_setup(test_timestamp_over_asc, test_setup),
		cmocka_unit_test_setup(test_agent_unreachable, test_setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
