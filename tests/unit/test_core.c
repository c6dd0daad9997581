/* core helpers shared by every module: libgit2's last error (core/git),
 * case folding (core/str), JSON values (core/json), growing arrays
 * (core/buf). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <git2.h>

#include "core/buf.h"
#include "core/dl.h"
#include "core/error.h"
#include "core/git.h"
#include "core/json.h"
#include "core/str.h"
#include "core/strlist.h"

/* libgit2 1.5 answers NULL when no error is recorded: the helper still
 * gives a string (the old `git_error_last()->message` crashed here). */
static void test_git_errmsg_none(void **state)
{
	(void)state;
	git_error_clear();
	assert_null(git_error_last());
	assert_non_null(sg_git_errmsg());
	assert_string_equal(sg_git_errmsg(), "unknown libgit2 error");
	assert_int_equal(sg_git_fail(SG_EDENIED, "cannot walk"), SG_EDENIED);
	assert_string_equal(sg_error_last(), "cannot walk: unknown libgit2 error");
	assert_int_equal(sg_error_code(), SG_EDENIED);
}

/* A real failure: libgit2's own message comes through unchanged. */
static void test_git_errmsg_real(void **state)
{
	git_repository *repo = NULL;

	(void)state;
	assert_true(git_repository_open(&repo, "/nonexistent/sg-no-repo") < 0);
	assert_non_null(git_error_last());
	assert_string_equal(sg_git_errmsg(), git_error_last()->message);
	assert_non_null(strstr(sg_git_errmsg(), "sg-no-repo"));
	assert_int_equal(sg_git_fail(SG_ERROR, "open"), SG_ERROR);
	assert_int_equal(strncmp(sg_error_last(), "open: ", 6), 0);
	assert_non_null(strstr(sg_error_last(), "sg-no-repo"));
}

static void test_str_fold(void **state)
{
	char s[] = "Alice@Example.COM", out[8];

	(void)state;
	sg_str_lower(s);
	assert_string_equal(s, "alice@example.com");
	sg_str_upper(s);
	assert_string_equal(s, "ALICE@EXAMPLE.COM");
	sg_str_lower(NULL);
	assert_int_equal(sg_str_lower_copy(out, sizeof(out), "AbC-9z"), 0);
	assert_string_equal(out, "abc-9z");
	/* the twin: what does not fit is refused, out is left as it was */
	assert_int_equal(sg_str_lower_copy(out, sizeof(out), "ABCDEFGH"), -1);
	assert_string_equal(out, "abc-9z");
	assert_int_equal(sg_str_lower_copy(out, sizeof(out), "ABCDEFG"), 0);
	assert_string_equal(out, "abcdefg");
	assert_true(sg_str_is_hex("0123456789abcdefABCDEF", 22));
	/* the twins: another length, a non-hex byte, NULL */
	assert_false(sg_str_is_hex("0123456789abcdefABCDEF", 21));
	assert_false(sg_str_is_hex("0123456789abcdefABCDEF", 23));
	assert_false(sg_str_is_hex("012g", 4));
	assert_false(sg_str_is_hex("01 2", 4));
	assert_false(sg_str_is_hex(NULL, 0));
	/* FNV-1a, 32 bits: the published test vectors */
	assert_int_equal(sg_str_hash(""), 0x811c9dc5u);
	assert_int_equal(sg_str_hash("a"), 0xe40c292cu);
	assert_int_equal(sg_str_hash("foobar"), 0xbf9cf968u);
	assert_true(sg_str_hash("Key") != sg_str_hash("key"));
}

static void test_json_values(void **state)
{
	sg_strlist l = SG_STRLIST_INIT;
	json_t *v;
	char *s;

	(void)state;
	v = sg_json_str_or_null(NULL);
	assert_true(json_is_null(v));
	json_decref(v);
	v = sg_json_str_or_null("");
	assert_string_equal(json_string_value(v), "");
	json_decref(v);
	v = sg_json_nonempty_or_null("");
	assert_true(json_is_null(v));
	json_decref(v);
	v = sg_json_nonempty_or_null("x");
	assert_string_equal(json_string_value(v), "x");
	json_decref(v);
	v = sg_json_strlist(&l);
	assert_true(json_is_array(v) && json_array_size(v) == 0);
	json_decref(v);
	assert_int_equal(sg_strlist_add(&l, "a"), 0);
	assert_int_equal(sg_strlist_add(&l, "b\"c"), 0);
	v = sg_json_strlist(&l);
	s = json_dumps(v, JSON_COMPACT);
	assert_string_equal(s, "[\"a\",\"b\\\"c\"]");
	free(s);
	json_decref(v);
	sg_strlist_release(&l);
}

static void test_array_reserve(void **state)
{
	int *v = NULL, *before;
	size_t cap = 0, i;

	(void)state;
	for (i = 0; i < 40; i++) {
		assert_int_equal(sg_array_reserve((void **)&v, &cap, i, 8, sizeof(*v)), SG_OK);
		assert_true(i < cap);
		v[i] = (int)i;
	}
	assert_int_equal(cap, 64); /* 8, 16, 32, 64 */
	for (i = 0; i < 40; i++)
		assert_int_equal(v[i], (int)i);
	before = v;
	assert_int_equal(sg_array_reserve((void **)&v, &cap, 63, 8, sizeof(*v)), SG_OK);
	assert_ptr_equal(v, before); /* room already: untouched */
	/* the twin: a size that overflows is refused, the array kept */
	assert_int_equal(sg_array_reserve((void **)&v, &cap, 64, 8, ((size_t)-1) / 64), SG_ERROR);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 64);
	assert_string_equal(sg_error_last(), "out of memory");
	free(v);
}

/* sg_dl_bind: every function resolved, or none trusted and the reason named. */
static void test_dl_bind(void **state)
{
	size_t (*len)(const char *) = NULL;
	void (*none)(void) = NULL;
	sg_dl_sym ok[] = { { "strlen", &len } };
	sg_dl_sym missing[] = { { "strlen", &len }, { "sg_no_such_function", &none } };
	char why[256] = "";
	(void)state;

	assert_int_equal(sg_dl_bind("libc.so.6", ok, 1, why, sizeof(why)), 0);
	assert_non_null(len);
	assert_int_equal(len("four"), 4);
	assert_int_equal(sg_dl_bind("libc.so.6", missing, 2, why, sizeof(why)), -1);
	assert_null(none);
	assert_non_null(strstr(why, "libc.so.6 has no sg_no_such_function"));
	assert_int_equal(sg_dl_bind("libsg-no-such.so.9", ok, 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "libsg-no-such.so.9"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dl_bind),
		cmocka_unit_test(test_git_errmsg_none),
		cmocka_unit_test(test_git_errmsg_real),
		cmocka_unit_test(test_str_fold),
		cmocka_unit_test(test_json_values),
		cmocka_unit_test(test_array_reserve),
	};
	int ret;

	git_libgit2_init();
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return ret;
}
