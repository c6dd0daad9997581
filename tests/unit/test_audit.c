/* Unit tests for src/audit: the hash chain is written as documented
 * (checked with sha256sum), survives concurrent appenders, and every
 * edit, deletion or corruption is caught and named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include <git2.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/buf.h"
#include "core/error.h"

static char tmproot[64];
static int counter;

typedef struct fixture {
	char dir[128];
	char log[192];
	git_repository *repo;
} fixture;

static int group_setup(void **state)
{
	(void)state;
	strcpy(tmproot, "/tmp/sgat.XXXXXX");
	if (!mkdtemp(tmproot))
		return -1;
	setenv("HOME", tmproot, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	git_libgit2_init();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	git_libgit2_shutdown();
	sh("rm -rf %s", tmproot);
	return 0;
}

static int repo_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "%s/r%d", tmproot, counter++);
	snprintf(f->log, sizeof(f->log), "%s/.git/signgate/audit.log", f->dir);
	if (sh("git init -q %s", f->dir) != 0 || git_repository_open(&f->repo, f->dir) < 0)
		return -1;
	*state = f;
	return 0;
}

static int repo_teardown(void **state)
{
	fixture *f = *state;

	git_repository_free(f->repo);
	sh("rm -rf %s", f->dir);
	free(f);
	return 0;
}

static void append_n(fixture *f, int n, const char *who)
{
	int i;

	for (i = 0; i < n; i++) {
		json_t *rec = json_pack("{s:s, s:s, s:i}", "decision", "allowed", "who", who, "i", i);

		assert_non_null(rec);
		assert_int_equal(sg_audit_append(f->repo, rec), 0);
		/* the caller's object is left alone */
		assert_null(json_object_get(rec, "seq"));
		json_decref(rec);
	}
}

static void expect_verify_fails(const char *log, const char *needle)
{
	size_t lines = 77;

	assert_int_equal(sg_audit_verify(log, &lines), SG_EVERIFY);
	assert_int_equal(lines, 77);
	if (!strstr(sg_error_last(), needle))
		fail_msg("message '%s' lacks '%s'", sg_error_last(), needle);
}

static void sha256_hex(char out[65], const char *s, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen;

	assert_int_equal(EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL), 1);
	sg_hex(out, md, 32);
}

/* --- tests ---------------------------------------------------------------- */

static void test_append_and_verify(void **state)
{
	fixture *f = *state;
	struct stat st;
	size_t lines = 0;
	char *out, *h1, *prev2;
	json_t *line, *rec;
	json_error_t jerr;

	append_n(f, 3, "alice");
	/* a value with a newline stays on one line */
	rec = json_pack("{s:s}", "reason", "two\nlines\r\n{\"seq\":1}");
	assert_int_equal(sg_audit_append(f->repo, rec), 0);
	json_decref(rec);
	assert_int_equal(sg_audit_verify(f->log, &lines), 0);
	assert_int_equal(lines, 4);
	out = capture("wc -l < %s", f->log);
	assert_int_equal(atoi(out), 4);
	free(out);
	/* permissions */
	assert_int_equal(stat(f->log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	out = capture("stat -c %%a %s/.git/signgate", f->dir);
	assert_string_equal(out, "700\n");
	free(out);
	/* line 1: seq 1, prev = 64 zeros, time in RFC 3339 UTC, keys kept */
	out = capture("sed -n 1p %s", f->log);
	line = json_loads(out, 0, &jerr);
	assert_non_null(line);
	assert_int_equal(json_integer_value(json_object_get(line, "seq")), 1);
	assert_string_equal(json_string_value(json_object_get(line, "prev")),
			    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(strlen(json_string_value(json_object_get(line, "time"))), 20);
	assert_int_equal(json_string_value(json_object_get(line, "time"))[19], 'Z');
	assert_string_equal(json_string_value(json_object_get(line, "who")), "alice");
	json_decref(line);
	free(out);
	/* line 2's prev is sha256sum of line 1 without its newline (independent tool) */
	h1 = capture("sed -n 1p %s | tr -d '\\n' | sha256sum | cut -c1-64", f->log);
	prev2 = capture("sed -n 2p %s | jq -r .prev", f->log);
	assert_string_equal(h1, prev2);
	free(h1);
	free(prev2);
	/* not an object */
	rec = json_array();
	assert_int_equal(sg_audit_append(f->repo, rec), SG_ERROR);
	json_decref(rec);
	assert_int_equal(sg_audit_verify(f->log, &lines), 0);
	assert_int_equal(lines, 4);
}

static void test_tamper_middle_line(void **state)
{
	fixture *f = *state;

	append_n(f, 3, "alice");
	/* edit a field of line 2: "alice" -> "mallory" */
	assert_int_equal(sh("sed -i '2s/alice/mallory/' %s", f->log), 0);
	expect_verify_fails(f->log, "line 3: prev does not match line 2");
	assert_non_null(strstr(sg_error_last(), f->log));
}

static void test_delete_line(void **state)
{
	fixture *f = *state;
	char copy[256];

	append_n(f, 4, "alice");
	snprintf(copy, sizeof(copy), "%s.copy", f->log);
	assert_int_equal(sh("cp %s %s", f->log, copy), 0);
	assert_int_equal(sh("sed -i 2d %s", f->log), 0);
	expect_verify_fails(f->log, "line 2: prev does not match line 1");
	assert_int_equal(sh("cp %s %s && sed -i 1d %s", copy, f->log, f->log), 0);
	expect_verify_fails(f->log, "line 1: prev is not 64 zeros");
	/* swapping two lines */
	assert_int_equal(sh("awk 'NR==2{s=$0;next} NR==3{print;print s;next} 1' %s > %s", copy, f->log), 0);
	expect_verify_fails(f->log, "line 2: prev does not match line 1");
	/* the untouched copy verifies */
	{
		size_t lines = 0;
		assert_int_equal(sg_audit_verify(copy, &lines), 0);
		assert_int_equal(lines, 4);
	}
}

static void test_corrupt_lines(void **state)
{
	fixture *f = *state;
	char l1[512], l2[512], h[65];
	FILE *fp;
	json_t *rec;

	append_n(f, 2, "alice");
	/* not JSON */
	assert_int_equal(sh("sed -i '2s/.*/garbage/' %s", f->log), 0);
	expect_verify_fails(f->log, "line 2: not a JSON object");
	/* and an append after a corrupt last line is refused */
	rec = json_pack("{s:s}", "decision", "denied");
	assert_int_equal(sg_audit_append(f->repo, rec), SG_ERROR);
	/* incomplete last line (no newline): verify and append refuse */
	assert_int_equal(sh("sed -i 2d %s && printf '{\"seq\":2' >> %s", f->log, f->log), 0);
	expect_verify_fails(f->log, "line 2: incomplete");
	assert_int_equal(sg_audit_append(f->repo, rec), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "incomplete"));
	/* a well-chained line with a seq gap */
	snprintf(l1, sizeof(l1), "{\"prev\":\"%064d\",\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\"}", 0);
	sha256_hex(h, l1, strlen(l1));
	snprintf(l2, sizeof(l2), "{\"prev\":\"%s\",\"seq\":3,\"time\":\"2026-01-01T00:00:00Z\"}", h);
	fp = fopen(f->log, "w");
	assert_non_null(fp);
	fprintf(fp, "%s\n%s\n", l1, l2);
	fclose(fp);
	expect_verify_fails(f->log, "line 2: seq is not 2");
	/* the same with the right seq verifies, and appending continues the chain */
	snprintf(l2, sizeof(l2), "{\"prev\":\"%s\",\"seq\":2,\"time\":\"2026-01-01T00:00:00Z\"}", h);
	fp = fopen(f->log, "w");
	fprintf(fp, "%s\n%s\n", l1, l2);
	fclose(fp);
	assert_int_equal(sg_audit_append(f->repo, rec), 0);
	{
		size_t lines = 0;
		assert_int_equal(sg_audit_verify(f->log, &lines), 0);
		assert_int_equal(lines, 3);
	}
	/* a duplicated key cannot smuggle a second "prev" */
	fp = fopen(f->log, "w");
	fprintf(fp, "%s\n{\"prev\":\"x\",\"prev\":\"%s\",\"seq\":2,\"time\":\"t\"}\n", l1, h);
	fclose(fp);
	expect_verify_fails(f->log, "line 2: not a JSON object");
	json_decref(rec);
}

static void test_caps_and_files(void **state)
{
	fixture *f = *state;
	json_t *rec;
	char *big, other[256];
	size_t lines;

	/* missing log */
	assert_int_equal(sg_audit_verify(f->log, &lines), SG_ENOTFOUND);
	/* a record over 4 MiB is refused and nothing is written */
	big = malloc(5 << 20);
	memset(big, 'x', (5 << 20) - 1);
	big[(5 << 20) - 1] = '\0';
	rec = json_pack("{s:s}", "big", big);
	append_n(f, 1, "alice");
	assert_int_equal(sg_audit_append(f->repo, rec), SG_ERROR);
	json_decref(rec);
	assert_int_equal(sg_audit_verify(f->log, &lines), 0);
	assert_int_equal(lines, 1);
	/* a 200 KiB record (a large batch) fits, and the next append finds its
	 * end beyond the first read-back window */
	big[200 * 1024] = '\0';
	rec = json_pack("{s:s}", "big", big);
	assert_int_equal(sg_audit_append(f->repo, rec), SG_OK);
	json_decref(rec);
	free(big);
	append_n(f, 1, "bob");
	assert_int_equal(sg_audit_verify(f->log, &lines), 0);
	assert_int_equal(lines, 3);
	/* a line over 4 MiB in the file is refused by verify */
	assert_int_equal(sh("head -c 4200000 /dev/zero | tr '\\0' x >> %s && echo >> %s", f->log, f->log), 0);
	expect_verify_fails(f->log, "line 4: longer than");
	/* the log as a symlink is refused; its target is not written */
	snprintf(other, sizeof(other), "%s/other", f->dir);
	assert_int_equal(sh("rm %s && : > %s && ln -s %s %s", f->log, other, other, f->log), 0);
	rec = json_pack("{s:s}", "decision", "allowed");
	assert_int_equal(sg_audit_append(f->repo, rec), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "symlink"));
	assert_int_equal(sg_audit_verify(f->log, &lines), SG_ERROR);
	assert_int_equal(sh("test -s %s", other), 1);
	/* the signgate directory as a symlink is refused */
	assert_int_equal(sh("rm -r %s/.git/signgate && ln -s %s %s/.git/signgate", f->dir, f->dir, f->dir), 0);
	assert_int_equal(sg_audit_append(f->repo, rec), SG_ERROR);
	assert_int_equal(sh("test -e %s/audit.log", f->dir), 1);
	json_decref(rec);
}

#define APPENDERS 4
#define PER_APPENDER 25

static void test_concurrent_appenders(void **state)
{
	fixture *f = *state;
	pid_t pids[APPENDERS];
	size_t lines = 0;
	int i, st;
	char *out;

	append_n(f, 1, "first");
	for (i = 0; i < APPENDERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			git_repository *repo = NULL;
			int k, rc = 0;

			if (git_repository_open(&repo, f->dir) < 0)
				_exit(3);
			for (k = 0; k < PER_APPENDER && rc == 0; k++) {
				json_t *rec = json_pack("{s:i, s:i}", "writer", i, "k", k);

				rc = sg_audit_append(repo, rec);
				json_decref(rec);
			}
			git_repository_free(repo);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < APPENDERS; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(sg_audit_verify(f->log, &lines), 0);
	assert_int_equal(lines, 1 + APPENDERS * PER_APPENDER);
	/* every (writer, k) exactly once, checked with jq */
	out = capture("jq -r 'select(.writer != null) | \"\\(.writer)-\\(.k)\"' %s | sort -u | wc -l", f->log);
	assert_int_equal(atoi(out), APPENDERS * PER_APPENDER);
	free(out);
	out = capture("jq -r .seq %s | sort -n | uniq | wc -l", f->log);
	assert_int_equal(atoi(out), 1 + APPENDERS * PER_APPENDER);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_and_verify, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_middle_line, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_delete_line, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_lines, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_caps_and_files, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_appenders, repo_setup, repo_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
