/* hooks: the parsers a hook trusts (ref update lines, tag payloads) and
 * the append-only rule for notes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "hooks/hooks.h"
#include "notes/notes.h"

#define Z40 "0000000000000000000000000000000000000000"
#define A40 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void test_updates(void **state)
{
	sg_ref_updates u = { 0 };
	const char ok[] = Z40 " " A40 " refs/tags/v1.0\n" A40 " " Z40 " refs/heads/x\r\n";
	(void)state;
	assert_int_equal(sg_ref_updates_parse(&u, ok, strlen(ok)), SG_OK);
	assert_int_equal(u.n, 2);
	assert_string_equal(u.v[0].ref, "refs/tags/v1.0");
	assert_true(git_oid_is_zero(&u.v[0].old_id));
	assert_string_equal(u.v[1].ref, "refs/heads/x");
	sg_ref_updates_release(&u);
	assert_int_equal(sg_ref_updates_parse(&u, "garbage\n", 8), SG_EUSAGE);
	assert_int_equal(sg_ref_updates_parse(&u, Z40 " " A40 " a b\n", 86), SG_EUSAGE);
	assert_int_equal(sg_ref_updates_parse(&u, Z40 " zz " "refs/x\n", 48), SG_EUSAGE);
	assert_int_equal(sg_ref_updates_parse(&u, "", 0), SG_OK);
	assert_int_equal(u.n, 0);
	sg_ref_updates_release(&u);
}

static void test_release_tag(void **state)
{
	sg_policy pol;
	(void)state;
	memset(&pol, 0, sizeof(pol));
	pol.tag_pattern = "v*";
	assert_string_equal(sg_release_tag(&pol, "refs/tags/v1.0"), "v1.0");
	assert_null(sg_release_tag(&pol, "refs/tags/nightly"));
	assert_null(sg_release_tag(&pol, "refs/heads/v1.0"));
	assert_null(sg_release_tag(&pol, "refs/tags/"));
}

static void test_payload(void **state)
{
	sg_tag_payload p;
	const char tag[] = "object " A40 "\ntype commit\ntag v1.1\ntagger A <a@b> 0 +0000\n\nmsg\n";
	const char commit[] = "tree " A40 "\nparent " A40 "\n\nmsg\n";
	const char forged[] = "type commit\nobject " A40 "\ntag v1\n\n";
	const char shorty[] = "object aaaa\ntype commit\ntag v1\n\n";
	(void)state;
	assert_int_equal(sg_tag_payload_parse(&p, tag, strlen(tag)), SG_OK);
	assert_string_equal(p.object, A40);
	assert_string_equal(p.type, "commit");
	assert_string_equal(p.tag, "v1.1");
	assert_false(p.is_commit);
	sg_tag_payload_release(&p);
	assert_int_equal(sg_tag_payload_parse(&p, commit, strlen(commit)), SG_OK);
	assert_true(p.is_commit);
	sg_tag_payload_release(&p);
	assert_int_equal(sg_tag_payload_parse(&p, forged, strlen(forged)), SG_EUSAGE);
	assert_int_equal(sg_tag_payload_parse(&p, shorty, strlen(shorty)), SG_EUSAGE);
	assert_int_equal(sg_tag_payload_parse(&p, "", 0), SG_EUSAGE);
}

static int appends(const char *a, const char *b)
{
	return sg_notes_text_appends(a, strlen(a), b, strlen(b));
}

static void test_append_only(void **state)
{
	const char *old = "Signgate-Event: sign\nArtifact: a\n\nSigngate-Event: sign\nArtifact: b";
	char *big;
	(void)state;
	assert_int_equal(appends(old, old), SG_OK);
	assert_int_equal(appends("", "anything"), SG_OK);
	/* text added after a blank line: allowed (git's and libgit2's endings alike) */
	assert_int_equal(appends(old, "Signgate-Event: sign\nArtifact: a\n\nSigngate-Event: sign\n"
			       "Artifact: b\n\nremark\n"), SG_OK);
	assert_int_equal(appends("A: b\n", "A: b\n \t\nremark"), SG_OK);
	assert_int_equal(appends("A: b\n\n", "A: b\n\nremark"), SG_OK);
	assert_int_equal(appends(old, "Signgate-Event: sign\nArtifact: a\n\nSigngate-Event: sign\n"
			       "Artifact: b\n  "), SG_OK); /* only blanks */
	/* ... but joined to the last paragraph: refused (it would spoil the event) */
	assert_int_equal(appends(old, "Signgate-Event: sign\nArtifact: a\n\nSigngate-Event: sign\n"
			       "Artifact: b\nno colon\n"), SG_EDENIED);
	assert_int_equal(appends("A: b\n", "A: b\nremark"), SG_EDENIED);
	/* the old text normalised (trailing blanks dropped) is an edit */
	assert_int_equal(appends("A: b  \n", "A: b\n\nremark\n"), SG_EDENIED);
	/* a paragraph dropped, a line changed, an edit in the middle, paragraphs merged */
	assert_int_equal(appends(old, "Signgate-Event: sign\nArtifact: a\n"), SG_EDENIED);
	assert_int_equal(appends(old, "Signgate-Event: sign\nArtifact: a\n\nSigngate-Event: sign\n"
			       "Artifact: c\n"), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "byte 65"));
	assert_int_equal(appends(old, "Signgate-Event: sign\nArtifact: a\nSigngate-Event: sign\n"
			       "Artifact: b\n"), SG_EDENIED);
	assert_int_equal(appends(old, ""), SG_EDENIED);
	/* the NUL-first rewrite: every old paragraph still there, but not a prefix */
	{
		const char nulfirst[] = "x\0\n\nSigngate-Event: sign\nArtifact: a\n\nSigngate-Event: sign\nArtifact: b";
		assert_int_equal(sg_notes_text_appends(old, strlen(old), nulfirst, sizeof(nulfirst) - 1), SG_EDENIED);
		assert_non_null(strstr(sg_error_last(), "byte 0"));
	}
	/* a NUL in the text added, or in a new note */
	assert_int_equal(sg_notes_text_appends("A: b\n", 5, "A: b\n\nx\0y", 9), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "NUL byte at byte 7"));
	assert_int_equal(sg_notes_text_appends("", 0, "x\0", 2), SG_EDENIED);
	/* a NUL already stored stays (it is the old text): appending after it is allowed */
	assert_int_equal(sg_notes_text_appends("x\0", 2, "x\0\n\nA: b\n", 9), SG_OK);
	/* the size cap */
	big = malloc((size_t)SG_NOTES_MAX + 1);
	assert_non_null(big);
	memset(big, 'x', (size_t)SG_NOTES_MAX + 1);
	assert_int_equal(sg_notes_text_appends("", 0, big, (size_t)SG_NOTES_MAX), SG_OK);
	assert_int_equal(sg_notes_text_appends("", 0, big, (size_t)SG_NOTES_MAX + 1), SG_EDENIED);
	assert_non_null(strstr(sg_error_last(), "SG_NOTES_MAX"));
	free(big);
}

static void test_scripts(void **state)
{
	(void)state;
	assert_non_null(strstr(sg_hook_script("reference-transaction"), SG_HOOK_MARKER));
	assert_non_null(strstr(sg_hook_script("pre-receive"), SG_HOOK_MARKER));
	assert_null(sg_hook_script("post-receive"));
	assert_int_equal(sg_git_command_is_transfer("fetch"), 1);
	assert_int_equal(sg_git_command_is_transfer("tag"), 0);
	assert_int_equal(sg_git_command_is_transfer(NULL), 0);
}

int main(void)
{
	int rc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_updates), cmocka_unit_test(test_release_tag),
		cmocka_unit_test(test_payload), cmocka_unit_test(test_append_only),
		cmocka_unit_test(test_scripts),
	};

	git_libgit2_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
