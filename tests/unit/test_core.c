/* core helpers shared by every module: libgit2's last error (core/git). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <git2.h>

#include "core/error.h"
#include "core/git.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_git_errmsg_none),
		cmocka_unit_test(test_git_errmsg_real),
	};
	int ret;

	git_libgit2_init();
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return ret;
}
