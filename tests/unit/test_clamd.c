/* scan, engine = clamd: the client against a scripted clamd on a unix
 * socket in a temp folder. What clamd received is hashed on the server side
 * and must be the digest the client reports (the bytes scanned are the
 * bytes signed); every answer that is not "OK" for the whole stream is
 * SG_ESCAN. tests/e2e/t0206-sign-clamd.sh runs the real clamd. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"
#include "scan/scan.h"

enum mode { M_OK, M_FOUND, M_LIMITS, M_ERROR, M_SIZE, M_EARLY_OK, M_HUGE, M_CLOSE, M_SILENT, M_NOT_CLAMD };

static struct fake {
	char dir[32], sock[64], addr[80];
	int lfd;
	enum mode mode;
	const char *version;
	unsigned char md[32];          /* SHA-256 of the bytes received by INSTREAM */
	unsigned long long got;
	pthread_t th;
} F;

static int read_cmd(int c, char *cmd, size_t cap)
{
	size_t n = 0;

	while (n < cap - 1 && read(c, cmd + n, 1) == 1)
		if (cmd[n++] == '\0')
			return 0;
	return -1;
}

static int read_full(int c, unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = read(c, p, len)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void answer(int c, const char *s)
{
	ssize_t n = write(c, s, strlen(s) + 1);
	(void)n;
}

/* read the chunks; hash them; 0 at the end mark */
static int read_stream(int c, int only_first)
{
	unsigned char hdr[4], buf[65536];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint32_t len, n;
	unsigned int mdlen;
	int ret = -1;

	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	F.got = 0;
	for (;;) {
		if (read_full(c, hdr, 4) < 0)
			break;
		len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
		if (len == 0) {
			ret = 0;
			break;
		}
		for (; len > 0; len -= n) {
			n = len < sizeof(buf) ? len : sizeof(buf);
			if (read_full(c, buf, n) < 0)
				goto done;
			EVP_DigestUpdate(md, buf, n);
			F.got += n;
		}
		if (only_first) {
			ret = 0;
			break;
		}
	}
done:
	EVP_DigestFinal_ex(md, F.md, &mdlen);
	EVP_MD_CTX_free(md);
	return ret;
}

static void instream(int c)
{
	char huge[5000];

	switch (F.mode) {
	case M_EARLY_OK:
		read_stream(c, 1);
		answer(c, "stream: OK");
		return;
	case M_SIZE:
		read_stream(c, 1);
		answer(c, "INSTREAM size limit exceeded. ERROR");
		return;
	case M_HUGE:
		memset(huge, 'A', sizeof(huge) - 1);
		huge[sizeof(huge) - 1] = '\0';
		answer(c, huge);
		return;
	case M_CLOSE:
		read_stream(c, 0);
		return;
	case M_SILENT:
		read_stream(c, 0);
		while (read(c, huge, sizeof(huge)) > 0)
			;
		return;
	default:
		break;
	}
	if (read_stream(c, 0) < 0)
		return;
	answer(c, F.mode == M_OK ? "stream: OK" : F.mode == M_FOUND ? "stream: Fake.Virus FOUND" :
	       F.mode == M_LIMITS ? "stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND" :
	       "stream: lstat() failed: no such file. ERROR");
}

static void *serve(void *arg)
{
	char cmd[32];
	int c;

	(void)arg;
	while ((c = accept(F.lfd, NULL, NULL)) >= 0) {
		if (read_cmd(c, cmd, sizeof(cmd)) == 0) {
			if (F.mode == M_NOT_CLAMD)
				answer(c, "220 smtp.example.com ESMTP");
			else if (!strcmp(cmd, "zVERSION"))
				answer(c, F.version);
			else if (!strcmp(cmd, "zPING"))
				answer(c, "PONG");
			else if (!strcmp(cmd, "zINSTREAM"))
				instream(c);
		}
		close(c);
	}
	return NULL;
}

static int setup(void **state)
{
	struct sockaddr_un sun;

	(void)state;
	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/sgclamd.XXXXXX");
	assert_non_null(mkdtemp(F.dir));
	snprintf(F.sock, sizeof(F.sock), "%s/clamd.sock", F.dir);
	snprintf(F.addr, sizeof(F.addr), "unix:%s", F.sock);
	F.version = "ClamAV 1.4.6/27841/Sun Nov 29 09:32:10 2026";
	F.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", F.sock);
	assert_int_equal(bind(F.lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(F.lfd, 8), 0);
	assert_int_equal(pthread_create(&F.th, NULL, serve, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	shutdown(F.lfd, SHUT_RDWR);
	close(F.lfd);
	pthread_join(F.th, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.dir);
	return system(cmd) == 0 ? 0 : -1;
}

static sg_scanner *open_clamd(int timeout_s)
{
	sg_scan_opts o = { .engine = "clamd", .clamd = F.addr, .required = 1, .timeout_s = timeout_s };
	sg_scanner *s = NULL;

	if (sg_scanner_open(&s, &o) != SG_OK)
		fail_msg("open: %s", sg_error_last());
	return s;
}

/* scan a file of `len` pseudo-random bytes; returns the code */
static int scan_bytes(sg_scanner *s, size_t len, sg_scan_result *r)
{
	char path[128];
	unsigned char *data = malloc(len ? len : 1);
	struct stat st;
	size_t i;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/f.bin", F.dir);
	for (i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 131 + (i >> 9));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	free(data);
	assert_int_equal(sg_file_open_regular(&fd, &st, path), 0);
	memset(r, 0, sizeof(*r));
	sg_error_clear();
	rc = sg_scan_fd(s, fd, &st, "f.bin", r);
	close(fd);
	return rc;
}

static void assert_msg(const char *needle)
{
	const char *m = sg_error_last();
	if (!m || !strstr(m, needle))
		fail_msg("message '%s' lacks '%s'", m ? m : "(none)", needle);
}

static void test_clean_digest_is_what_clamd_got(void **state)
{
	sg_scanner *s;
	sg_scan_result r;
	char hex[65];

	(void)state;
	F.mode = M_OK;
	s = open_clamd(10);
	assert_int_equal(scan_bytes(s, 3 * 256 * 1024 + 17, &r), SG_OK);
	assert_int_equal(r.clean, 1);
	assert_int_equal(r.scanned, 1);
	assert_true(F.got == 3 * 256 * 1024 + 17);
	assert_memory_equal(r.sha256, F.md, 32);
	sg_hex(hex, F.md, 32);
	assert_string_equal(r.sha256_hex, hex);
	assert_string_equal(r.engine, "clamd");
	assert_string_equal(r.engine_version, "1.4.6");
	assert_string_equal(r.db_version, "27841 (Sun Nov 29 09:32:10 2026)");
	assert_non_null(strstr(r.summary, "clamd 1.4.6, database 27841 (Sun Nov 29 09:32:10 2026), unix:"));
	assert_non_null(strstr(r.summary, ", clean"));
	/* an empty file: just the end mark, and clamd's OK */
	assert_int_equal(scan_bytes(s, 0, &r), SG_OK);
	assert_int_equal(r.clean, 1);
	assert_true(F.got == 0);
	sg_scanner_free(s);
}

/* the twins: every other answer is exit 4, never clean */
static void test_not_clean_answers(void **state)
{
	static const struct {
		enum mode mode;
		const char *msg;
	} cases[] = {
		{ M_FOUND, "is infected: Fake.Virus" },
		{ M_LIMITS, "could not be scanned completely" },
		{ M_ERROR, "could not scan f.bin: lstat() failed" },
		{ M_SIZE, "over the StreamMaxLength" },
		{ M_EARLY_OK, "before the whole file was sent" },
		{ M_HUGE, "answered more than 4095 bytes" },
		{ M_CLOSE, "closed the connection without an answer" },
	};
	sg_scanner *s;
	sg_scan_result r;
	size_t i;

	(void)state;
	F.mode = M_OK;
	s = open_clamd(10);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		F.mode = cases[i].mode;
		assert_int_equal(scan_bytes(s, 600 * 1024, &r), SG_ESCAN);
		assert_int_equal(r.clean, 0);
		assert_msg(cases[i].msg);
		assert_msg(F.addr);
	}
	sg_scanner_free(s);
}

static void test_max_file_size(void **state)
{
	sg_scan_opts o = { .engine = "clamd", .clamd = F.addr, .required = 1, .max_file_size = 1000 };
	sg_scanner *s = NULL;
	sg_scan_result r;

	(void)state;
	F.mode = M_OK;
	assert_int_equal(sg_scanner_open(&s, &o), SG_OK);
	F.got = 12345;
	assert_int_equal(scan_bytes(s, 1001, &r), SG_ESCAN);
	assert_msg("over scan.maxFileSize (1000 bytes)");
	assert_true(F.got == 12345); /* nothing was sent */
	assert_int_equal(scan_bytes(s, 1000, &r), SG_OK); /* the twin: at the limit */
	assert_int_equal(r.clean, 1);
	sg_scanner_free(s);
}

static void test_timeout(void **state)
{
	sg_scanner *s;
	sg_scan_result r;

	(void)state;
	F.mode = M_OK;
	s = open_clamd(1);
	F.mode = M_SILENT;
	assert_int_equal(scan_bytes(s, 1000, &r), SG_ESCAN);
	assert_int_equal(r.clean, 0);
	assert_msg("did not answer in time");
	sg_scanner_free(s);
}

static void test_open_refused(void **state)
{
	sg_scan_opts o = { .engine = "clamd", .clamd = F.addr, .required = 0 };
	sg_scanner *s = NULL;
	char gone[200];

	(void)state;
	F.mode = M_NOT_CLAMD;
	sg_error_clear();
	assert_int_equal(sg_scanner_open(&s, &o), SG_ESCAN);
	assert_msg("not 'ClamAV ...'");
	/* no socket there: required = false does not make it optional */
	snprintf(gone, sizeof(gone), "unix:%s/none.sock", F.dir);
	o.clamd = gone;
	assert_int_equal(sg_scanner_open(&s, &o), SG_ESCAN);
	assert_msg("cannot reach clamd at unix:");
	assert_null(s);
	o.clamd = "tcp://127.0.0.1:1";
	assert_int_equal(sg_scanner_open(&s, &o), SG_ESCAN);
	assert_msg("cannot reach clamd at tcp://127.0.0.1:1");
	o.clamd = NULL;
	assert_int_equal(sg_scanner_open(&s, &o), SG_ESCAN);
	assert_msg("scan.clamd is not set");
}

static void test_probe(void **state)
{
	sg_clamd_info info;

	(void)state;
	F.mode = M_OK;
	assert_int_equal(sg_clamd_probe(F.addr, 5, &info), SG_OK);
	assert_string_equal(info.version, "1.4.6");
	assert_string_equal(info.db_version, "27841");
	assert_string_equal(info.db_date, "Sun Nov 29 09:32:10 2026");
	assert_true(info.db_time > 1700000000LL);
	F.version = "ClamAV 1.0.7";
	assert_int_equal(sg_clamd_probe(F.addr, 5, &info), SG_OK);
	assert_string_equal(info.version, "1.0.7");
	assert_string_equal(info.db_version, "");
	assert_true(info.db_time == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_digest_is_what_clamd_got, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_clean_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_file_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
