/* scan: libclamav with a test database made at test time, SHA-256 from the
 * same read, limits that never let an unscanned file pass as clean. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <clamav.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"
#include "scan/scan.h"

static char tdir[64];
static char dbdir[128];
static sg_scanner *scanner;

static const char *p(const char *name)
{
	static char buf[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tdir, name);
	return buf[i];
}

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	const char *top = getenv("SG_TOP");
	va_list ap;
	int n;

	n = snprintf(cmd, sizeof(cmd), ". '%s/tests/lib/clamdb.sh' && cd '%s' && ",
		     top ? top : ".", tdir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void put(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void assert_msg(const char *needle)
{
	const char *m = sg_error_last();
	assert_non_null(m);
	if (!strstr(m, needle))
		fail_msg("message \"%s\" lacks \"%s\"", m, needle);
}

/* Digest by an independent tool. */
static void sha256sum_of(const char *path, char hex[65])
{
	char cmd[512];
	FILE *f;
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%64s", hex), 1);
	pclose(f);
}

static int scan_path(sg_scanner *s, const char *path, sg_scan_result *r)
{
	int fd = -1, ret;
	struct stat st;
	memset(r, 0x5a, sizeof(*r));
	sg_error_clear();
	if ((ret = sg_file_open_regular(&fd, &st, path)) < 0)
		return ret;
	ret = sg_scan_fd(s, fd, &st, path, r);
	close(fd);
	return ret;
}

static int group_setup(void **state)
{
	sg_scan_opts o = { .database = NULL, .required = 1 };
	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/sgs.XXXXXX");
	if (!mkdtemp(tdir))
		return -1;
	snprintf(dbdir, sizeof(dbdir), "%s/db", tdir);
	if (sh("sg_make_clamdb db && sg_eicar eicar.com && sg_marker marker.bin") != 0)
		return -1;
	o.database = dbdir;
	if (sg_scanner_open(&scanner, &o) != SG_OK) {
		fprintf(stderr, "scanner: %s\n", sg_error_last());
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];
	(void)state;
	sg_scanner_free(scanner);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_clean_file(void **state)
{
	sg_scan_result r;
	char hex[65], want[300];
	unsigned char md[32];
	unsigned int mdlen;
	static const char content[] = "a perfectly ordinary release artifact\n";
	(void)state;
	put(p("clean.txt"), content, strlen(content));
	assert_int_equal(scan_path(scanner, p("clean.txt"), &r), SG_OK);
	assert_int_equal(r.scanned, 1);
	assert_int_equal(r.clean, 1);
	assert_int_equal(r.size, strlen(content));
	sha256sum_of(p("clean.txt"), hex);
	assert_string_equal(r.sha256_hex, hex);
	assert_int_equal(EVP_Digest(content, strlen(content), md, &mdlen, EVP_sha256(), NULL), 1);
	assert_memory_equal(r.sha256, md, 32);
	snprintf(want, sizeof(want), "clamav %s, 2 signatures, clean", cl_retver());
	assert_string_equal(r.summary, want);
	assert_string_equal(r.virus, "");
}

static void test_multi_chunk_digest(void **state)
{
	sg_scan_result r, h;
	char hex[65];
	int fd;
	struct stat st;
	(void)state;
	/* 3 MiB + 17 bytes of varied content: several hash chunks */
	assert_int_equal(sh("head -c 3145745 /dev/urandom > rand.bin"), 0);
	assert_int_equal(scan_path(scanner, p("rand.bin"), &r), SG_OK);
	sha256sum_of(p("rand.bin"), hex);
	assert_string_equal(r.sha256_hex, hex);
	assert_int_equal(r.size, 3145745);
	assert_int_equal(sg_file_open_regular(&fd, &st, p("rand.bin")), SG_OK);
	assert_int_equal(sg_hash_fd(fd, &st, p("rand.bin"), &h), SG_OK);
	close(fd);
	assert_string_equal(h.sha256_hex, hex);
	assert_int_equal(h.scanned, 0);
	assert_int_equal(h.clean, 0);
}

static void test_eicar_detected(void **state)
{
	sg_scan_result r;
	char hex[65];
	(void)state;
	assert_int_equal(scan_path(scanner, p("eicar.com"), &r), SG_ESCAN);
	assert_msg("Signgate.Test.EICAR");
	assert_msg(p("eicar.com"));
	assert_int_equal(r.clean, 0);
	assert_non_null(strstr(r.virus, "Signgate.Test.EICAR"));
	assert_non_null(strstr(r.summary, "infected: Signgate.Test.EICAR"));
	/* the digest of the denied file, for the audit log */
	sha256sum_of(p("eicar.com"), hex);
	assert_string_equal(r.sha256_hex, hex);
	assert_int_equal(r.size, 68);
}

static void test_eicar_one_byte_off_is_clean(void **state)
{
	sg_scan_result r;
	(void)state;
	/* twin of the EICAR test: the same bytes plus one newline no longer
	 * match the .hdb (MD5:size) signature */
	assert_int_equal(sh("{ cat eicar.com; echo; } > eicar-nl.txt"), 0);
	assert_int_equal(scan_path(scanner, p("eicar-nl.txt"), &r), SG_OK);
	assert_int_equal(r.clean, 1);
}

static void test_body_signature_and_archives(void **state)
{
	sg_scan_result r;
	(void)state;
	assert_int_equal(scan_path(scanner, p("marker.bin"), &r), SG_ESCAN);
	assert_msg("Signgate.Test.Marker");
	/* inside a tarball (archive parsing on) */
	assert_int_equal(sh("mkdir -p pkg && cp eicar.com pkg/ && echo readme > pkg/README && "
			    "tar czf pkg.tar.gz pkg && rm -rf pkg"), 0);
	assert_int_equal(scan_path(scanner, p("pkg.tar.gz"), &r), SG_ESCAN);
	assert_msg("Signgate.Test.EICAR");
	assert_int_equal(r.clean, 0);
	assert_int_equal(sh("mkdir -p pkg2 && echo readme > pkg2/README && "
			    "tar czf pkg2.tar.gz pkg2 && rm -rf pkg2"), 0);
	assert_int_equal(scan_path(scanner, p("pkg2.tar.gz"), &r), SG_OK);
	assert_int_equal(r.clean, 1);
}

static void test_recursion_limit_is_not_clean(void **state)
{
	sg_scan_result r;
	(void)state;
	/* 25 nested gzip layers exceed libclamav's recursion limit (17): the
	 * innermost content is never looked at, so this must not be "clean" */
	assert_int_equal(sh("echo harmless > deep && i=0; while [ $i -lt 25 ]; do "
			    "gzip -c deep > deep.gz && mv deep.gz deep; i=$((i+1)); done"), 0);
	assert_int_equal(scan_path(scanner, p("deep"), &r), SG_ESCAN);
	assert_msg("Heuristics.Limits.Exceeded");
	assert_msg("could not be scanned completely");
	assert_int_equal(r.clean, 0);
	/* twin: 3 layers are fine */
	assert_int_equal(sh("echo harmless > shallow && i=0; while [ $i -lt 3 ]; do "
			    "gzip -c shallow > s.gz && mv s.gz shallow; i=$((i+1)); done"), 0);
	assert_int_equal(scan_path(scanner, p("shallow"), &r), SG_OK);
	assert_int_equal(r.clean, 1);
}

static void test_empty_file(void **state)
{
	sg_scan_result r;
	(void)state;
	put(p("empty"), "", 0);
	assert_int_equal(scan_path(scanner, p("empty"), &r), SG_OK);
	assert_int_equal(r.clean, 1);
	assert_int_equal(r.scanned, 1);
	assert_int_equal(r.size, 0);
	assert_string_equal(r.sha256_hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_max_file_size(void **state)
{
	sg_scanner *s = NULL;
	sg_scan_opts o = { .database = dbdir, .required = 1, .max_file_size = 1000 };
	sg_scan_result r;
	char buf[1001];
	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(sg_scanner_open(&s, &o), SG_OK);
	put(p("k1000"), buf, 1000);
	put(p("k1001"), buf, 1001);
	assert_int_equal(scan_path(s, p("k1000"), &r), SG_OK);
	assert_int_equal(r.clean, 1);
	assert_int_equal(scan_path(s, p("k1001"), &r), SG_ESCAN);
	assert_msg("too large to scan");
	assert_msg("1001 bytes");
	assert_msg(p("k1001"));
	assert_int_equal(r.clean, 0);
	assert_int_equal(r.scanned, 0);
	sg_scanner_free(s);
}

static void test_sparse_over_2gib_never_clean(void **state)
{
	sg_scan_result r;
	(void)state;
	assert_int_equal(sh("truncate -s 2560M sparse.iso"), 0);
	assert_int_equal(scan_path(scanner, p("sparse.iso"), &r), SG_ESCAN);
	assert_msg("too large to scan");
	assert_int_equal(r.clean, 0);
	/* just over libclamav's own limit too */
	assert_int_equal(sh("truncate -s 2147483648 two.iso"), 0);
	assert_int_equal(scan_path(scanner, p("two.iso"), &r), SG_ESCAN);
	assert_int_equal(r.clean, 0);
	assert_int_equal(sh("rm -f sparse.iso two.iso"), 0);
}

static void test_missing_database(void **state)
{
	sg_scanner *s = NULL;
	sg_scan_opts o = { .database = NULL, .required = 1 };
	sg_scan_result r;
	char hex[65];
	(void)state;
	o.database = p("no-such-db");
	sg_error_clear();
	assert_int_equal(sg_scanner_open(&s, &o), SG_ESCAN);
	assert_null(s);
	assert_msg("is empty or missing; run freshclam or set scan.database");
	assert_msg(p("no-such-db"));
	o.database = NULL;
	assert_int_equal(sg_scanner_open(&s, &o), SG_ESCAN);

	/* not required: scanning disabled, noted, never "clean" */
	o.database = p("no-such-db");
	o.required = 0;
	assert_int_equal(sg_scanner_open(&s, &o), SG_OK);
	assert_non_null(s);
	assert_int_equal(scan_path(s, p("eicar.com"), &r), SG_OK);
	assert_int_equal(r.scanned, 0);
	assert_int_equal(r.clean, 0);
	assert_string_equal(r.summary, "skipped by policy (scan.required = false)");
	sha256sum_of(p("eicar.com"), hex);
	assert_string_equal(r.sha256_hex, hex);
	sg_scanner_free(s);
}

static void test_empty_or_broken_database(void **state)
{
	sg_scanner *s = NULL;
	sg_scan_opts o = { .database = NULL, .required = 1 };
	sg_scan_result r;
	(void)state;
	assert_int_equal(sh("mkdir -p emptydb brokendb junkdb && "
			    "echo 'not:a:valid:line:at:all:x' > brokendb/bad.hdb && "
			    "echo 0 > junkdb/freshclam.dat"), 0);
	o.database = p("emptydb");
	assert_int_equal(sg_scanner_open(&s, &o), SG_ESCAN);
	assert_null(s);
	assert_msg("is empty or missing");
	/* only files that are no database: as empty */
	o.database = p("junkdb");
	assert_int_equal(sg_scanner_open(&s, &o), SG_ESCAN);
	assert_null(s);
	assert_msg("is empty or missing (no signatures found); run freshclam");
	o.database = p("brokendb");
	assert_int_equal(sg_scanner_open(&s, &o), SG_ESCAN);
	assert_null(s);
	assert_msg("cannot load scan database");
	assert_msg(p("brokendb"));
	assert_msg("Malformed database");

	o.required = 0;
	o.database = p("emptydb");
	assert_int_equal(sg_scanner_open(&s, &o), SG_OK);
	assert_int_equal(scan_path(s, p("eicar.com"), &r), SG_OK);
	assert_int_equal(r.scanned, 0);
	assert_int_equal(r.clean, 0);
	sg_scanner_free(s);
	s = NULL;
	o.database = p("junkdb");
	assert_int_equal(sg_scanner_open(&s, &o), SG_OK);
	sg_scanner_free(s);
	s = NULL;
	/* a database that exists but is broken is an error even when the scan
	 * is optional: a broken setup must not silently skip */
	o.database = p("brokendb");
	assert_int_equal(sg_scanner_open(&s, &o), SG_ESCAN);
	assert_null(s);

	/* a single database file works as well as a folder */
	o.required = 1;
	o.database = p("db/signgate-test.hdb");
	assert_int_equal(sg_scanner_open(&s, &o), SG_OK);
	assert_int_equal(scan_path(s, p("eicar.com"), &r), SG_ESCAN);
	assert_non_null(strstr(r.summary, "1 signature, infected"));
	sg_scanner_free(s);
}

static void test_modified_before_scan(void **state)
{
	sg_scan_result r;
	struct stat st;
	int fd, wfd;
	(void)state;
	put(p("mod.bin"), "version 1\n", 10);
	assert_int_equal(sg_file_open_regular(&fd, &st, p("mod.bin")), SG_OK);
	usleep(20000);
	wfd = open(p("mod.bin"), O_WRONLY);
	assert_int_equal(pwrite(wfd, "VERSION", 7, 0), 7);
	close(wfd);
	sg_error_clear();
	assert_int_equal(sg_scan_fd(scanner, fd, &st, p("mod.bin"), &r), SG_ERROR);
	assert_msg("changed while it was being scanned and hashed");
	assert_int_equal(sg_hash_fd(fd, &st, p("mod.bin"), &r), SG_ERROR);
	assert_msg("changed while it was being hashed");
	close(fd);
}

struct writer {
	const char *path;
	volatile int stop;
	int writes;
};

/* Rewrites the first byte with the same value: content unchanged, but the
 * file was written (ctime/mtime move) during the scan. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	int fd = open(w->path, O_WRONLY);
	char c;
	if (fd < 0)
		return NULL;
	usleep(30000);
	while (!w->stop) {
		c = 'Z';
		if (pwrite(fd, &c, 1, 0) == 1)
			w->writes++;
		usleep(5000);
	}
	close(fd);
	return NULL;
}

static void test_modified_during_scan(void **state)
{
	sg_scan_result r;
	struct writer w = { NULL, 0, 0 };
	pthread_t th;
	int ret;
	(void)state;
	assert_int_equal(sh("{ printf Z; head -c 67108864 /dev/urandom; } > busy.bin"), 0);
	w.path = p("busy.bin");
	assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
	ret = scan_path(scanner, p("busy.bin"), &r);
	w.stop = 1;
	pthread_join(th, NULL);
	if (w.writes == 0)
		skip(); /* the scan finished before the writer started */
	assert_int_equal(ret, SG_ERROR);
	assert_msg("changed while it was being scanned and hashed");
	/* twin: the same file left alone scans clean */
	assert_int_equal(scan_path(scanner, p("busy.bin"), &r), SG_OK);
	assert_int_equal(r.clean, 1);
}

struct par {
	const char *path;
	int ret;
	char hex[65];
};

static void *par_main(void *arg)
{
	struct par *pp = arg;
	sg_scan_result r;
	pp->ret = scan_path(scanner, pp->path, &r);
	memcpy(pp->hex, r.sha256_hex, 65);
	return NULL;
}

/* sg_scanner_get: one load per process for the same options; other
 * options load another; a failed load keeps the one there was. */
static void test_scanner_get_kept(void **state)
{
	sg_scan_opts o = { .database = dbdir, .required = 1 };
	sg_scan_opts o2 = { .database = dbdir, .required = 1, .max_file_size = 1000 };
	sg_scan_opts bad = { .database = "/nonexistent/db", .required = 1 };
	sg_scanner *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	sg_scan_result r;

	(void)state;
	assert_int_equal(sg_scanner_get(&a, &o), SG_OK);
	assert_int_equal(sg_scanner_get(&b, &o), SG_OK);
	assert_ptr_equal(a, b);
	assert_int_equal(scan_path(a, p("eicar.com"), &r), SG_ESCAN);
	assert_int_equal(sg_scanner_get(&c, &o2), SG_OK);
	assert_ptr_not_equal(c, NULL);
	assert_int_equal(scan_path(c, p("eicar.com"), &r), SG_ESCAN);
	assert_int_equal(sg_scanner_get(&d, &bad), SG_ESCAN);
	assert_null(d);
	assert_int_equal(sg_scanner_get(&d, &o2), SG_OK);
	assert_ptr_equal(c, d);
}

static void test_shared_scanner_threads(void **state)
{
	struct par a = { NULL, 99, "" }, b = { NULL, 99, "" };
	pthread_t ta, tb;
	char hex[65];
	(void)state;
	a.path = p("rand.bin");
	b.path = p("eicar.com");
	assert_int_equal(pthread_create(&ta, NULL, par_main, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, par_main, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.ret, SG_OK);
	assert_int_equal(b.ret, SG_ESCAN);
	sha256sum_of(p("rand.bin"), hex);
	assert_string_equal(a.hex, hex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_file),
		cmocka_unit_test(test_multi_chunk_digest),
		cmocka_unit_test(test_eicar_detected),
		cmocka_unit_test(test_eicar_one_byte_off_is_clean),
		cmocka_unit_test(test_body_signature_and_archives),
		cmocka_unit_test(test_recursion_limit_is_not_clean),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_max_file_size),
		cmocka_unit_test(test_sparse_over_2gib_never_clean),
		cmocka_unit_test(test_missing_database),
		cmocka_unit_test(test_empty_or_broken_database),
		cmocka_unit_test(test_modified_before_scan),
		cmocka_unit_test(test_modified_during_scan),
		cmocka_unit_test(test_shared_scanner_threads),
		cmocka_unit_test(test_scanner_get_kept),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
