/* Replays every fuzz input kept in the tree -- the seed corpus
 * (tests/fuzz/corpus/<target>/) and the crashes found so far
 * (tests/fuzz/regressions/<target>/) -- through the fuzz targets' own
 * bodies, built here with the ordinary compiler: the corpus is a regression
 * test that runs in `make check` without clang. A target that breaks one of
 * its invariants aborts, which fails this test. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#define SG_FUZZ_DRIVER 1
#include "../fuzz/fuzz_policy.c"
#include "../fuzz/fuzz_notes.c"
#include "../fuzz/fuzz_tsa.c"
#include "../fuzz/fuzz_x509_payload.c"
#include "../fuzz/fuzz_forge_json.c"

typedef int (*fuzz_fn)(const uint8_t *, size_t);

#define REPLAY_MAX_INPUT (32u * 1024u * 1024u)

/* Run fn on every regular file in DIR; return how many ran (-1: DIR unreadable). */
static int replay_dir(const char *dir, fuzz_fn fn)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		char path[4096];
		struct stat st;
		FILE *f;
		uint8_t *buf;
		size_t got;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > REPLAY_MAX_INPUT)
			continue;
		/* exactly the input's size, as libFuzzer gives it: no NUL after it */
		buf = malloc(st.st_size ? (size_t)st.st_size : 1);
		assert_non_null(buf);
		f = fopen(path, "rb");
		assert_non_null(f);
		got = fread(buf, 1, (size_t)st.st_size, f);
		fclose(f);
		assert_int_equal(got, (size_t)st.st_size);
		fn(buf, got);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

static void replay(const char *target, fuzz_fn fn, int min_corpus)
{
	char dir[4096];
	int c, r;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", sg_fuzz_top(), target);
	c = replay_dir(dir, fn);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/regressions/%s", sg_fuzz_top(), target);
	r = replay_dir(dir, fn);
	print_message("%s: %d corpus inputs, %d regression inputs replayed\n", target, c, r);
	assert_true(c >= min_corpus);
	assert_true(r >= 0);
	/* the empty input too */
	fn((const uint8_t *)"", 0);
}

static void test_policy(void **state) { (void)state; replay("policy", sg_fuzz_policy, 5); }
static void test_notes(void **state) { (void)state; replay("notes", sg_fuzz_notes, 5); }
static void test_tsa(void **state) { (void)state; replay("tsa", sg_fuzz_tsa, 3); }
static void test_x509_payload(void **state) { (void)state; replay("x509_payload", sg_fuzz_x509_payload, 3); }
static void test_forge_json(void **state) { (void)state; replay("forge_json", sg_fuzz_forge_json, 5); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_tsa),
		cmocka_unit_test(test_x509_payload),
		cmocka_unit_test(test_forge_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
