/* RFC 3161 client against the local test TSA (tests/lib/tsa-server.py):
 * success checked by `openssl ts -verify` and sg_tsa_verify, every fault
 * mode refused with its reason, failover, caps, and forgery twins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/strlist.h"
#include "tsa/tsa.h"

static const char *const modes[] = { "ok", "flaky", "http500", "garbage", "slow", "wrong-nonce",
	"wrong-imprint", "untrusted", "huge", "badtype", "rejected", "redirect" };
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static char dir[64];
static char urls[NMODES][128];
static long pids[NMODES];
static char closed_url[64];
static char ca[128], rogue_ca[128];
static const char *top;

static const char *url_of(const char *mode)
{
	size_t i;

	for (i = 0; i < NMODES; i++)
		if (strcmp(modes[i], mode) == 0)
			return urls[i];
	fail_msg("no server for mode %s", mode);
	return NULL;
}

static int lines_in(const char *mode)
{
	char path[160], line[64];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s.log", dir, mode);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void write_file(const char *name, const void *p, size_t n)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* A port on 127.0.0.1 that nothing listens on. */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &al) < 0)
		return 1;
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static int group_setup(void **state)
{
	char cmd[4096], line[256], mode[32], url[128];
	size_t n = 0, i;
	long pid;
	FILE *p;

	(void)state;
	top = getenv("SG_TOP") ? getenv("SG_TOP") : ".";
	strcpy(dir, "/tmp/sgtsa.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(ca, sizeof(ca), "%s/tsa-ca.pem", dir);
	snprintf(rogue_ca, sizeof(rogue_ca), "%s/rogue-ca.pem", dir);
	snprintf(closed_url, sizeof(closed_url), "http://127.0.0.1:%d/", closed_port());
	/* One shell starts every server: "MODE URL PID" per line. */
	n = (size_t)snprintf(cmd, sizeof(cmd),
		"SG_TOP='%s'; . \"$SG_TOP/tests/lib/tsa.sh\" && sg_tsa_pki %s || exit 1; "
		"s() { m=$1; shift; sg_tsa_start %s \"$@\" --lifetime 60 >/dev/null || exit 1; "
		"echo \"$m $SG_TSA_URL $SG_TSA_PID\"; }; "
		"s ok ok --log %s/ok.log; "
		"(s redirect redirect --redirect-to \"$SG_TSA_URL\" --log %s/redirect.log) & "
		"(s flaky ok --fail-first 1 --log %s/flaky.log) & ",
		top, dir, dir, dir, dir, dir);
	for (i = 0; i < NMODES; i++)
		if (strcmp(modes[i], "redirect") && strcmp(modes[i], "ok") && strcmp(modes[i], "flaky"))
			n += (size_t)snprintf(cmd + n, sizeof(cmd) - n,
					      "(s %s %s --slow-seconds 3 --log %s/%s.log) & ",
					      modes[i], modes[i], dir, modes[i]);
	snprintf(cmd + n, sizeof(cmd) - n, "wait");
	if (!(p = popen(cmd, "r")))
		return -1;
	n = 0;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%31s %127s %ld", mode, url, &pid) == 3)
			for (i = 0; i < NMODES; i++)
				if (strcmp(modes[i], mode) == 0) {
					snprintf(urls[i], sizeof(urls[i]), "%s", url);
					pids[i] = pid;
					n++;
				}
	if (pclose(p) != 0 || n != NMODES) {
		fprintf(stderr, "could not start the test TSAs (%zu of %zu); see %s/tsa-server.log\n", n,
			(size_t)NMODES, dir);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NMODES; i++)
		if (pids[i] > 0)
			kill((pid_t)pids[i], SIGTERM);
	if (!getenv("SG_KEEP") && dir[0])
		sh("rm -rf '%s'", dir);
	return 0;
}

static const unsigned char data[] = "the signature bytes to timestamp\n";

struct run {
	sg_strlist list;
	sg_tsa_config cfg;
	sg_tsa_token tok;
	int rc;
};

/* Stamp `data` against the URLs given (NULL-terminated). */
static void stamp(struct run *r, int attempts, long total_ms, size_t max, ...)
{
	va_list ap;
	const char *u;

	memset(r, 0, sizeof(*r));
	va_start(ap, max);
	while ((u = va_arg(ap, const char *)) != NULL)
		assert_int_equal(sg_strlist_add(&r->list, u), 0);
	va_end(ap);
	r->cfg.urls = &r->list;
	r->cfg.trust_anchor = ca;
	r->cfg.connect_timeout_ms = 1000;
	r->cfg.total_timeout_ms = total_ms;
	r->cfg.attempts = attempts;
	r->cfg.max_response = max;
	sg_error_clear();
	r->rc = sg_tsa_stamp(&r->tok, &r->cfg, data, sizeof(data) - 1);
}

static void run_release(struct run *r)
{
	sg_tsa_token_release(&r->tok);
	sg_strlist_release(&r->list);
}

/* The stamp failed with SG_ERROR, nothing in the token, and the message says `want`. */
static void expect_failure(struct run *r, const char *want)
{
	const char *msg = sg_error_last();

	assert_int_equal(r->rc, SG_ERROR);
	assert_non_null(msg);
	print_message("    %s\n", msg);
	if (!strstr(msg, want))
		fail_msg("message \"%s\" does not say \"%s\"", msg, want);
	assert_non_null(strstr(msg, "no timestamp authority answered"));
	assert_null(r->tok.token.ptr);
	assert_null(r->tok.response.ptr);
	assert_null(r->tok.url);
}

static void test_ok_verifies_independently(void **state)
{
	struct run r;
	time_t now = time(NULL), g = 0;
	char text[32];
	struct tm tm;

	(void)state;
	stamp(&r, 1, 5000, 0, url_of("ok"), NULL);
	assert_int_equal(r.rc, SG_OK);
	assert_string_equal(r.tok.url, url_of("ok"));
	assert_true(r.tok.token.size > 100);
	assert_true(r.tok.response.size > r.tok.token.size);
	assert_true(r.tok.gen_time >= now - 60 && r.tok.gen_time <= now + 60);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&r.tok.gen_time, &tm));
	assert_string_equal(r.tok.gen_time_text, text);

	write_file("data", data, sizeof(data) - 1);
	write_file("other", "other bytes\n", 12);
	write_file("ok.tsr", r.tok.response.ptr, r.tok.response.size);
	write_file("ok.tst", r.tok.token.ptr, r.tok.token.size);
	/* Independent verifier: openssl ts, response and bare token. */
	assert_int_equal(sh("openssl ts -verify -data %s/data -in %s/ok.tsr -CAfile %s >/dev/null 2>&1",
			    dir, dir, ca), 0);
	assert_int_equal(sh("openssl ts -verify -data %s/data -in %s/ok.tst -token_in -CAfile %s >/dev/null 2>&1",
			    dir, dir, ca), 0);
	/* ... and its twins: other data, other CA. */
	assert_int_not_equal(sh("openssl ts -verify -data %s/other -in %s/ok.tsr -CAfile %s >/dev/null 2>&1",
				dir, dir, ca), 0);
	assert_int_not_equal(sh("openssl ts -verify -data %s/data -in %s/ok.tsr -CAfile %s >/dev/null 2>&1",
				dir, dir, rogue_ca), 0);
	/* The nonce was sent and came back: the reply text shows one. */
	assert_int_equal(sh("openssl ts -reply -in %s/ok.tsr -text 2>/dev/null | grep -q '^Nonce: 0x'", dir), 0);

	/* sg_tsa_verify agrees, on the token and on the response. */
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.token.ptr, r.tok.token.size, 1,
				       data, sizeof(data) - 1, ca), SG_OK);
	assert_int_equal(g, r.tok.gen_time);
	g = 0;
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.response.ptr, r.tok.response.size, 0,
				       data, sizeof(data) - 1, ca), SG_OK);
	assert_int_equal(g, r.tok.gen_time);
	assert_int_equal(lines_in("ok"), 1);
	run_release(&r);
}

static void test_verify_forgery_twins(void **state)
{
	struct run r;
	time_t g = 12345;
	unsigned char *bad;
	const char *msg;

	(void)state;
	stamp(&r, 1, 5000, 0, url_of("ok"), NULL);
	assert_int_equal(r.rc, SG_OK);
	/* Other data. */
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.token.ptr, r.tok.token.size, 1,
				       (const unsigned char *)"other", 5, ca), SG_EVERIFY);
	assert_non_null(strstr(sg_error_last(), "imprint mismatch"));
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.response.ptr, r.tok.response.size, 0,
				       (const unsigned char *)"other", 5, ca), SG_EVERIFY);
	/* Other CA. */
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.token.ptr, r.tok.token.size, 1,
				       data, sizeof(data) - 1, rogue_ca), SG_EVERIFY);
	msg = sg_error_last();
	assert_non_null(strstr(msg, "not trusted"));
	/* A flipped byte in the signature value (the token's last bytes). */
	assert_non_null(bad = malloc(r.tok.token.size));
	memcpy(bad, r.tok.token.ptr, r.tok.token.size);
	bad[r.tok.token.size - 3] ^= 0x01;
	assert_int_equal(sg_tsa_verify(&g, bad, r.tok.token.size, 1, data, sizeof(data) - 1, ca), SG_EVERIFY);
	/* Truncated, trailing garbage, wrong kind, empty. */
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.token.ptr, r.tok.token.size - 1, 1,
				       data, sizeof(data) - 1, ca), SG_EVERIFY);
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.response.ptr, r.tok.response.size - 1, 0,
				       data, sizeof(data) - 1, ca), SG_EVERIFY);
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.token.ptr, r.tok.token.size, 0,
				       data, sizeof(data) - 1, ca), SG_EVERIFY);
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.response.ptr, r.tok.response.size, 1,
				       data, sizeof(data) - 1, ca), SG_EVERIFY);
	assert_int_equal(sg_tsa_verify(&g, bad, 0, 1, data, sizeof(data) - 1, ca), SG_EVERIFY);
	/* A CA file that is not there is a configuration error, not a verdict. */
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.token.ptr, r.tok.token.size, 1,
				       data, sizeof(data) - 1, "/nonexistent/ca.pem"), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "/nonexistent/ca.pem"));
	assert_int_equal(g, 12345); /* never assigned on failure */
	free(bad);
	run_release(&r);

	/* A well-formed token from a TSA of another CA: good under its own CA,
	 * refused under ours (by sg_tsa_verify and by openssl ts). */
	memset(&r, 0, sizeof(r));
	assert_int_equal(sg_strlist_add(&r.list, url_of("untrusted")), 0);
	r.cfg.urls = &r.list;
	r.cfg.trust_anchor = rogue_ca;
	r.cfg.attempts = 1;
	assert_int_equal(sg_tsa_stamp(&r.tok, &r.cfg, data, sizeof(data) - 1), SG_OK);
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.token.ptr, r.tok.token.size, 1,
				       data, sizeof(data) - 1, rogue_ca), SG_OK);
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.token.ptr, r.tok.token.size, 1,
				       data, sizeof(data) - 1, ca), SG_EVERIFY);
	assert_non_null(strstr(sg_error_last(), "not trusted"));
	assert_int_equal(sg_tsa_verify(&g, (unsigned char *)r.tok.response.ptr, r.tok.response.size, 0,
				       data, sizeof(data) - 1, ca), SG_EVERIFY);
	write_file("rogue.tsr", r.tok.response.ptr, r.tok.response.size);
	assert_int_not_equal(sh("openssl ts -verify -data %s/data -in %s/rogue.tsr -CAfile %s >/dev/null 2>&1",
				dir, dir, ca), 0);
	run_release(&r);
}

static void test_retry_then_ok(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 2, 5000, 0, url_of("flaky"), NULL);
	assert_int_equal(r.rc, SG_OK);
	assert_int_equal(lines_in("flaky"), 2); /* 500, then granted */
	run_release(&r);
}

static void test_http500(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 2, 5000, 0, url_of("http500"), NULL);
	expect_failure(&r, "(HTTP 500, 2 attempts)");
	assert_int_equal(lines_in("http500"), 2); /* transient: retried */
	run_release(&r);
}

static void test_garbage(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 3, 5000, 0, url_of("garbage"), NULL);
	expect_failure(&r, "not a timestamp response");
	assert_int_equal(lines_in("garbage"), 1); /* a wrong answer is not retried */
	run_release(&r);
}

static void test_slow(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 1, 400, 0, url_of("slow"), NULL);
	expect_failure(&r, "timed out");
	run_release(&r);
}

static void test_wrong_nonce(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 3, 5000, 0, url_of("wrong-nonce"), NULL);
	expect_failure(&r, "(nonce mismatch)");
	assert_int_equal(lines_in("wrong-nonce"), 1);
	run_release(&r);
}

static void test_wrong_imprint(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 3, 5000, 0, url_of("wrong-imprint"), NULL);
	expect_failure(&r, "(imprint mismatch)");
	assert_int_equal(lines_in("wrong-imprint"), 1);
	run_release(&r);
}

static void test_untrusted(void **state)
{
	struct run r;
	int before = lines_in("untrusted");

	(void)state;
	stamp(&r, 3, 5000, 0, url_of("untrusted"), NULL);
	expect_failure(&r, "TSA certificate not trusted");
	assert_int_equal(lines_in("untrusted"), before + 1);
	run_release(&r);
}

static void test_huge(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 2, 5000, 4096, url_of("huge"), NULL);
	expect_failure(&r, "response larger than 4096 bytes");
	run_release(&r);
}

static void test_badtype(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 1, 5000, 0, url_of("badtype"), NULL);
	expect_failure(&r, "content type text/html");
	run_release(&r);
}

static void test_rejected(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 2, 5000, 0, url_of("rejected"), NULL);
	expect_failure(&r, "rejected: status rejection, badAlg");
	assert_int_equal(lines_in("rejected"), 1);
	run_release(&r);
}

static void test_no_redirects(void **state)
{
	struct run r;

	(void)state;
	/* The redirect points at the good TSA; following it would succeed. */
	stamp(&r, 1, 5000, 0, url_of("redirect"), NULL);
	expect_failure(&r, "HTTP 302");
	run_release(&r);
}

static void test_failover_to_second(void **state)
{
	struct run r;
	int before = lines_in("ok");

	(void)state;
	stamp(&r, 2, 5000, 0, closed_url, url_of("ok"), NULL);
	assert_int_equal(r.rc, SG_OK);
	assert_string_equal(r.tok.url, url_of("ok"));
	assert_int_equal(lines_in("ok"), before + 1);
	run_release(&r);
}

static void test_all_fail_listed_in_order(void **state)
{
	struct run r;
	const char *msg, *a, *b, *c;
	char want[256];

	(void)state;
	stamp(&r, 1, 5000, 0, closed_url, url_of("http500"), url_of("wrong-nonce"), NULL);
	expect_failure(&r, "connection refused");
	msg = sg_error_last();
	snprintf(want, sizeof(want), "%s (connection refused)", closed_url);
	assert_non_null(a = strstr(msg, want));
	snprintf(want, sizeof(want), "%s (HTTP 500)", url_of("http500"));
	assert_non_null(b = strstr(msg, want));
	snprintf(want, sizeof(want), "%s (nonce mismatch)", url_of("wrong-nonce"));
	assert_non_null(c = strstr(msg, want));
	assert_true(a < b && b < c);
	run_release(&r);
}

static void test_only_http(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 3, 5000, 0, "file:///etc/passwd", NULL);
	expect_failure(&r, "only http and https");
	run_release(&r);
}

static void test_credentials_not_shown(void **state)
{
	struct run r;
	char u[2048];
	const char *ok = url_of("ok");

	(void)state;
	snprintf(u, sizeof(u), "http://user:s3cret@%s", ok + strlen("http://"));
	stamp(&r, 1, 5000, 0, u, NULL);
	assert_int_equal(r.rc, SG_OK);
	assert_null(strstr(r.tok.url, "s3cret"));
	assert_string_equal(r.tok.url, ok);
	run_release(&r);
	snprintf(u, sizeof(u), "http://user:s3cret@%s", closed_url + strlen("http://"));
	stamp(&r, 1, 5000, 0, u, NULL);
	expect_failure(&r, "connection refused");
	assert_null(strstr(sg_error_last(), "s3cret"));
	run_release(&r);
}

static void test_config_errors(void **state)
{
	struct run r;

	(void)state;
	stamp(&r, 1, 5000, 0, NULL);
	assert_int_equal(r.rc, SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "no timestamp authority configured"));
	run_release(&r);

	memset(&r, 0, sizeof(r));
	assert_int_equal(sg_strlist_add(&r.list, url_of("ok")), 0);
	r.cfg.urls = &r.list;
	r.cfg.trust_anchor = NULL;
	assert_int_equal(sg_tsa_stamp(&r.tok, &r.cfg, data, 3), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "tsaTrustAnchor"));
	r.cfg.trust_anchor = "/nonexistent/tsa-ca.pem";
	assert_int_equal(sg_tsa_stamp(&r.tok, &r.cfg, data, 3), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "/nonexistent/tsa-ca.pem"));
	/* The wrong anchor with a good TSA: untrusted, refused. */
	r.cfg.trust_anchor = rogue_ca;
	r.cfg.attempts = 1;
	assert_int_equal(sg_tsa_stamp(&r.tok, &r.cfg, data, 3), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "not trusted"));
	assert_null(r.tok.token.ptr);
	run_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_verifies_independently),
		cmocka_unit_test(test_verify_forgery_twins),
		cmocka_unit_test(test_retry_then_ok),
		cmocka_unit_test(test_http500),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_slow),
		cmocka_unit_test(test_wrong_nonce),
		cmocka_unit_test(test_wrong_imprint),
		cmocka_unit_test(test_untrusted),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_badtype),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_no_redirects),
		cmocka_unit_test(test_failover_to_second),
		cmocka_unit_test(test_all_fail_listed_in_order),
		cmocka_unit_test(test_only_http),
		cmocka_unit_test(test_credentials_not_shown),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
