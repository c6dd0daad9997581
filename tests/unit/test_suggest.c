/* core/suggest: the edit distance behind "did you mean" (policy keys, commands). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/suggest.h"

static void test_distance(void **state)
{
	(void)state;
	assert_int_equal(sg_edit_distance("requiredReviews", "requiredreviews"), 0);
	assert_int_equal(sg_edit_distance("requiredReview", "requiredReviews"), 1);
	/* a swap of two letters is one edit, as in git's help.c */
	assert_int_equal(sg_edit_distance("requiredReveiws", "requiredReviews"), 1);
	assert_int_equal(sg_edit_distance("", "cert"), 4);
	assert_int_equal(sg_edit_distance("certt", "cert"), 1);
	assert_int_equal(sg_edit_distance("abc", "xyz"), 3);
	/* too long to compare: far apart */
	{
		char big[100];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_true(sg_edit_distance(big, "a") == (size_t)-1);
	}
}

static void test_suggestable(void **state)
{
	(void)state;
	assert_true(sg_suggestable("requiredreview", "requiredReviews"));
	assert_true(sg_suggestable("chek", "check"));
	assert_true(sg_suggestable("certt", "cert"));
	/* the twins: an exact match is no typo, a different word is no suggestion */
	assert_false(sg_suggestable("cert", "cert"));
	assert_false(sg_suggestable("zzzzzzzz", "requiredReviews"));
	assert_false(sg_suggestable("tsa", "key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_suggestable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
