/* Unit tests for src/notes: event building and parsing (hostile text),
 * appending to real git repositories read back with the git CLI, and
 * compare-and-swap under 8 concurrent writers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "notes/notes.h"

#define REF "refs/notes/signatures"

static char tmproot[64];
static int counter;

/* --- helpers -------------------------------------------------------------- */

/* Output of a shell command (malloc'd, NUL-terminated). */
static long count_of(const char *dir, const char *ref)
{
	char *s = capture("git -C %s rev-list --count %s 2>/dev/null", dir, ref);
	long n = strtol(s, NULL, 10);

	free(s);
	return n;
}

typedef struct fixture {
	char dir[128];
	git_repository *repo;
	git_oid head;
} fixture;

static int repo_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	git_object *obj = NULL;

	snprintf(f->dir, sizeof(f->dir), "%s/r%d", tmproot, counter++);
	if (sh("git init -q %s && git -C %s commit -q --allow-empty -m first && "
	       "git -C %s commit -q --allow-empty -m second", f->dir, f->dir, f->dir) != 0)
		return -1;
	if (git_repository_open(&f->repo, f->dir) < 0 || git_revparse_single(&obj, f->repo, "HEAD") < 0)
		return -1;
	git_oid_cpy(&f->head, git_object_id(obj));
	git_object_free(obj);
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

static int group_setup(void **state)
{
	(void)state;
	strcpy(tmproot, "/tmp/sgnt.XXXXXX");
	if (!mkdtemp(tmproot))
		return -1;
	/* A private HOME: no user config, so no user.name unless a test sets it. */
	setenv("HOME", tmproot, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Test", 1);
	setenv("GIT_AUTHOR_EMAIL", "test@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Test", 1);
	setenv("GIT_COMMITTER_EMAIL", "test@example.com", 1);
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

static void make_event(sg_event *e, const char *kind, const char *artifact)
{
	assert_int_equal(sg_event_add(e, "Signgate-Event", kind), 0);
	assert_int_equal(sg_event_add(e, "Artifact", artifact), 0);
	assert_int_equal(sg_event_addf(e, "Artifact-Size", "%d", 10240), 0);
}

/* --- events --------------------------------------------------------------- */

static void test_event_keys(void **state)
{
	sg_event e = { NULL, 0 };
	char big[SG_EVENT_VALUE_MAX + 2];

	(void)state;
	assert_int_equal(sg_event_add(&e, "Artifact-Sha256", "ab"), 0);
	assert_int_equal(sg_event_add(&e, "Bad Key", "x"), SG_ERROR);
	assert_int_equal(sg_event_add(&e, "a:b", "x"), SG_ERROR);
	assert_int_equal(sg_event_add(&e, "", "x"), SG_ERROR);
	assert_int_equal(sg_event_add(&e, "Key\n", "x"), SG_ERROR);
	assert_int_equal(sg_event_add(&e, "Cl\xc3\xa9", "x"), SG_ERROR);
	assert_int_equal(sg_event_add(&e, NULL, "x"), SG_ERROR);
	/* values: empty becomes "-", cap at SG_EVENT_VALUE_MAX */
	assert_int_equal(sg_event_add(&e, "Empty", "  \n "), 0);
	assert_string_equal(sg_event_get(&e, "empty"), "-");
	memset(big, 'a', sizeof(big));
	big[SG_EVENT_VALUE_MAX] = '\0';
	assert_int_equal(sg_event_add(&e, "Big", big), 0);
	big[SG_EVENT_VALUE_MAX] = 'a';
	big[SG_EVENT_VALUE_MAX + 1] = '\0';
	assert_int_equal(sg_event_add(&e, "Big", big), SG_ERROR);
	assert_int_equal(e.n, 3);
	assert_null(sg_event_get(&e, "Missing"));
	sg_event_release(&e);
}

static void test_event_value_cannot_inject(void **state)
{
	sg_event e = { NULL, 0 }, *ev = NULL;
	sg_buf out = SG_BUF_INIT;
	size_t n = 0, skipped = 9;

	(void)state;
	assert_int_equal(sg_event_add(&e, "Signgate-Event", "sign"), 0);
	assert_int_equal(sg_event_add(&e, "Artifact", "a.tar\nArtifact-Sha256: forged\r\n\nSigngate-Event: sign\n"), 0);
	assert_int_equal(sg_event_add(&e, "Signer-Subject", "CN=x\x1b[31mred\x7f"), 0);
	assert_int_equal(sg_event_format(&e, &out), 0);
	/* one line per field, nothing else */
	assert_string_equal(out.ptr, "Signgate-Event: sign\n"
				     "Artifact: a.tar Artifact-Sha256: forged   Signgate-Event: sign\n"
				     "Signer-Subject: CN=x [31mred\n");
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, out.ptr, out.size), 0);
	assert_int_equal(n, 1);
	assert_int_equal(skipped, 0);
	assert_int_equal(ev[0].n, 3);
	assert_null(sg_event_get(&ev[0], "Artifact-Sha256"));
	sg_events_free(ev, n);
	/* a hand-built field with a newline is refused by format */
	e.f[1].value[0] = '\n';
	sg_buf_clear(&out);
	assert_int_equal(sg_event_format(&e, &out), SG_ERROR);
	assert_int_equal(out.size, 0);
	sg_buf_dispose(&out);
	sg_event_release(&e);
}

static void test_parse_paragraphs(void **state)
{
	const char *text =
		"Reviewed by hand on the release call.\n"
		"\n"
		"Signgate-Event: sign\n"
		"Artifact: dist/a.tar.gz\n"
		"Gate: allowed; refs/heads/main first-parent;\n"
		"  2/2 reviews via trailers\n"
		"\talice@example.com\n"
		"\n\n \t\n"
		"signgate-event : sign\r\n"
		"Artifact : dist/b.tar.gz  \r\n"
		"Empty:\r\n"
		"\r\n"
		"Reviewed-by: bob@example.com\n"
		"\n"
		"Signgate-Event: revoke\n"
		"Tag: v1.0"; /* no final newline */
	sg_event *ev = NULL;
	size_t n = 0, skipped = 0;

	(void)state;
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, text, strlen(text)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(skipped, 2);
	assert_string_equal(sg_event_get(&ev[0], "Signgate-Event"), "sign");
	assert_string_equal(sg_event_get(&ev[0], "Gate"),
			    "allowed; refs/heads/main first-parent; 2/2 reviews via trailers alice@example.com");
	assert_int_equal(ev[0].n, 3);
	assert_string_equal(ev[1].f[0].key, "signgate-event");
	assert_string_equal(sg_event_get(&ev[1], "artifact"), "dist/b.tar.gz");
	assert_string_equal(sg_event_get(&ev[1], "Empty"), "");
	assert_string_equal(sg_event_get(&ev[2], "Signgate-Event"), "revoke");
	assert_string_equal(sg_event_get(&ev[2], "Tag"), "v1.0");
	sg_events_free(ev, n);

	/* empty and NULL texts */
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, "", 0), 0);
	assert_int_equal(n, 0);
	assert_null(ev);
	assert_int_equal(sg_events_parse(&ev, &n, NULL, NULL, 0), 0);
	assert_int_equal(n, 0);
}

static void test_parse_hostile(void **state)
{
	static const char *bad[] = {
		"Signgate-Event: sign\nKey With Space: x\n",     /* hostile key */
		"Signgate-Event: sign\nno colon here\n",         /* not a field */
		"Signgate-Event: sign\n:empty key\n",
		"Signgate-Event: two words\nA: b\n",              /* event type not a word */
		"Signgate-Event:\nA: b\n",
		" Signgate-Event: sign\nA: b\n",                  /* continuation first */
		"A: b\nSigngate-Event: sign\n",                   /* not first */
		"Signgate-Event: sign\nK\xc3\xa9y: v\n",
		"Signgate-Event: sign\nA: b\n\x01\x02\x03\n",
	};
	sg_event *ev = NULL;
	size_t n, skipped, i;
	char *buf;
	unsigned int x = 12345;
	const size_t big = 1 << 20;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = skipped = 99;
		assert_int_equal(sg_events_parse(&ev, &n, &skipped, bad[i], strlen(bad[i])), 0);
		assert_int_equal(n, 0);
		assert_int_equal(skipped, 1);
	}
	/* a NUL byte does not end the text: its paragraph is skipped and
	 * reported, the events before and after it count */
	{
		const char t[] = "Signgate-Event: a\nK: v\n\n\0Signgate-Event: x\nK: hidden\n\n"
				 "Signgate-Event: b\nK: w\n";
		sg_parse_report rep;

		assert_int_equal(sg_events_parse_report(&ev, &n, &rep, t, sizeof(t) - 1), 0);
		assert_int_equal(n, 2);
		assert_string_equal(sg_event_get(&ev[0], "Signgate-Event"), "a");
		assert_string_equal(sg_event_get(&ev[1], "Signgate-Event"), "b");
		assert_string_equal(sg_event_get(&ev[1], "K"), "w");
		assert_int_equal(rep.bad, 1);
		assert_int_equal(rep.skipped, 0);
		assert_int_equal(rep.problems.n, 1);
		assert_string_equal(rep.problems.v[0], "paragraph 2 (byte 24) skipped: it contains a NUL byte");
		sg_parse_report_release(&rep);
		sg_events_free(ev, n);
		/* the NUL-first rewrite of the issue: the old events still count */
		assert_int_equal(sg_events_parse(&ev, &n, &skipped, "\0\n\nSigngate-Event: a\nK: v\n", 26), 0);
		assert_int_equal(n, 1);
		assert_int_equal(skipped, 1);
		sg_events_free(ev, n);
	}
	/* a malformed event is bad (reported); a remark is only skipped */
	{
		const char t[] = "Reviewed on the list.\n\nSigngate-Event: sign\nno colon\n\n"
				 "Signgate-Event: sign\nK: v\n";
		sg_parse_report rep;

		assert_int_equal(sg_events_parse_report(&ev, &n, &rep, t, sizeof(t) - 1), 0);
		assert_int_equal(n, 1);
		assert_int_equal(rep.skipped, 1);
		assert_int_equal(rep.bad, 1);
		assert_non_null(strstr(rep.problems.v[0], "paragraph 2 (byte 23) skipped: a line is not"));
		sg_parse_report_release(&rep);
		sg_events_free(ev, n);
	}
	/* 1 MiB of binary junk with one valid event in the middle */
	buf = malloc(big);
	assert_non_null(buf);
	for (i = 0; i < big; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (char)((x >> 16) | 1); /* no NUL */
	}
	memcpy(buf + big / 2, "\n\nSigngate-Event: sign\nArtifact: x\n\n", 36);
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, buf, big), 0);
	assert_int_equal(n, 1);
	assert_string_equal(sg_event_get(&ev[0], "Artifact"), "x");
	assert_true(skipped >= 1);
	sg_events_free(ev, n);
	free(buf);
	/* control characters in a parsed value become spaces */
	{
		const char t[] = "Signgate-Event: sign\nSigner-Subject: a\x1b]0;pwn\x07z\n";
		assert_int_equal(sg_events_parse(&ev, &n, &skipped, t, sizeof(t) - 1), 0);
		assert_int_equal(n, 1);
		assert_string_equal(sg_event_get(&ev[0], "Signer-Subject"), "a ]0;pwn z");
		sg_events_free(ev, n);
	}
	/* ... at every place of a long value (sanitize reads 8 bytes at a
	 * time until a word may hold one), DEL and bytes above it too */
	{
		char t[128], want[64];
		size_t at, k;
		static const unsigned char bad[] = { 0x01, 0x1f, 0x7f, 0x1b };

		for (at = 0; at < 40; at++)
			for (k = 0; k < sizeof(bad); k++) {
				memset(want, 'x', 48);
				want[48] = '\0';
				want[20] = (char)0xc3; /* UTF-8 bytes are kept */
				want[21] = (char)0xa9;
				want[at + 1] = (char)bad[k];
				snprintf(t, sizeof(t), "Signgate-Event: sign\nArtifact: %s\n", want);
				want[at + 1] = ' ';
				assert_int_equal(sg_events_parse(&ev, &n, &skipped, t, strlen(t)), 0);
				assert_int_equal(n, 1);
				assert_string_equal(sg_event_get(&ev[0], "Artifact"), want);
				sg_events_free(ev, n);
			}
	}
	/* over the size cap: refused, nothing allocated for the caller */
	buf = calloc(1, (size_t)SG_NOTES_MAX + 1);
	assert_non_null(buf);
	ev = (sg_event *)0x1;
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, buf, (size_t)SG_NOTES_MAX + 1), SG_ERROR);
	assert_ptr_equal(ev, (sg_event *)0x1);
	free(buf);
}

static void test_parse_caps(void **state)
{
	sg_buf b = SG_BUF_INIT;
	sg_event *ev = NULL;
	size_t n, skipped, i;

	(void)state;
	/* one event with too many fields is not an event */
	assert_int_equal(sg_buf_puts(&b, "Signgate-Event: sign\n"), 0);
	for (i = 0; i < SG_EVENT_FIELDS_MAX; i++)
		assert_int_equal(sg_buf_printf(&b, "F%zu: v\n", i), 0);
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, b.ptr, b.size), 0);
	assert_int_equal(n, 0);
	assert_int_equal(skipped, 1);
	/* one field fewer is */
	b.size -= strlen("F255: v\n");
	b.ptr[b.size] = '\0';
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, b.ptr, b.size), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].n, SG_EVENT_FIELDS_MAX);
	for (i = 1; i < SG_EVENT_FIELDS_MAX; i++) { /* every field kept across the array's growth */
		char key[16];

		snprintf(key, sizeof(key), "F%zu", i - 1);
		assert_string_equal(ev[0].f[i].key, key);
		assert_string_equal(ev[0].f[i].value, "v");
	}
	sg_events_free(ev, n);
	/* too many events: the first SG_EVENTS_MAX count, the rest are reported */
	sg_buf_clear(&b);
	for (i = 0; i <= SG_EVENTS_MAX; i++)
		assert_int_equal(sg_buf_puts(&b, "Signgate-Event: s\n\n"), 0);
	{
		sg_parse_report rep;

		assert_int_equal(sg_events_parse_report(&ev, &n, &rep, b.ptr, b.size), 0);
		assert_int_equal(n, SG_EVENTS_MAX);
		assert_int_equal(rep.bad, 1);
		assert_non_null(strstr(rep.problems.v[0], "more events than the limit of 65536"));
		sg_parse_report_release(&rep);
		sg_events_free(ev, n);
	}
	b.size -= strlen("Signgate-Event: s\n\n");
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, b.ptr, b.size), 0);
	assert_int_equal(n, SG_EVENTS_MAX);
	assert_int_equal(skipped, 0);
	sg_events_free(ev, n);
	/* a value over the parse cap makes the paragraph invalid */
	sg_buf_clear(&b);
	assert_int_equal(sg_buf_puts(&b, "Signgate-Event: sign\nA: x\n"), 0);
	{
		char line[1002];

		line[0] = ' ';
		memset(line + 1, 'x', 1000);
		line[1001] = '\n';
		for (i = 0; i < SG_EVENT_PARSE_VALUE_MAX / 1000 + 1; i++)
			assert_int_equal(sg_buf_put(&b, line, sizeof(line)), 0);
	}
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, b.ptr, b.size), 0);
	assert_int_equal(n, 0);
	assert_int_equal(skipped, 1);
	sg_buf_dispose(&b);
}

/* --- notes in a repository ------------------------------------------------ */

static void test_append_one_read_by_git(void **state)
{
	fixture *f = *state;
	sg_event e = { NULL, 0 };
	sg_buf note = SG_BUF_INIT;
	char *out;
	const char *expect = "Signgate-Event: sign\nArtifact: dist/hello-1.0.tar.gz\nArtifact-Size: 10240\n";

	make_event(&e, "sign", "dist/hello-1.0.tar.gz");
	assert_int_equal(sg_notes_append(f->repo, REF, &f->head, &e, 1, NULL), 0);
	out = capture("git -C %s log --notes=signatures -1 --format=%%N", f->dir);
	/* %N prints the note followed by git's own newline */
	assert_string_equal(out, "Signgate-Event: sign\nArtifact: dist/hello-1.0.tar.gz\nArtifact-Size: 10240\n\n");
	free(out);
	out = capture("git -C %s notes --ref signatures show HEAD", f->dir);
	assert_string_equal(out, expect);
	free(out);
	/* the note is on HEAD only, and only under this ref */
	assert_int_equal(sh("git -C %s notes --ref signatures show HEAD~1 2>/dev/null", f->dir), 1);
	out = capture("git -C %s log --notes=other -1 --format=%%N 2>/dev/null", f->dir);
	assert_string_equal(out, "\n");
	free(out);
	/* read back through the library: the stored blob ends with one newline */
	assert_int_equal(sg_notes_read(&note, f->repo, REF, &f->head, 1 << 20), 0);
	assert_string_equal(note.ptr, expect);
	/* git interpret-trailers parses an event (after a blank title line) */
	out = capture("(echo; git -C %s notes --ref signatures show HEAD) | git interpret-trailers --parse", f->dir);
	assert_string_equal(out, expect);
	free(out);
	/* the notes commit: our message, fallback identity (no user.name here) */
	out = capture("git -C %s log -1 --format='%%an <%%ae>|%%s' " REF, f->dir);
	assert_non_null(strstr(out, "signgate <signgate@localhost>|signgate: record 1 event on "));
	free(out);
	out = capture("git -C %s reflog show --format=%%gs " REF, f->dir);
	assert_non_null(strstr(out, "notes: signgate: record 1 event on "));
	free(out);
	sg_buf_dispose(&note);
	sg_event_release(&e);
}

static void test_append_batch_is_one_commit(void **state)
{
	fixture *f = *state;
	sg_event e[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	sg_event *ev = NULL;
	sg_buf note = SG_BUF_INIT;
	size_t n, skipped, i;
	char *out;

	assert_int_equal(sh("git -C %s config user.name 'Alice Release'", f->dir), 0);
	assert_int_equal(sh("git -C %s config user.email alice@example.com", f->dir), 0);
	make_event(&e[0], "sign", "a");
	make_event(&e[1], "sign", "b");
	assert_int_equal(sg_notes_append(f->repo, REF, &f->head, e, 2, "signgate: sign 2 artifacts"), 0);
	assert_int_equal(count_of(f->dir, REF), 1);
	make_event(&e[2], "sign", "c");
	assert_int_equal(sg_notes_append(f->repo, REF, &f->head, e, 3, "signgate: sign 3 artifacts\n\nbody"), 0);
	/* exactly one more notes commit for the batch of 3 */
	assert_int_equal(count_of(f->dir, REF), 2);
	out = capture("git -C %s log -1 --format='%%an <%%ae>|%%s' " REF, f->dir);
	assert_string_equal(out, "Alice Release <alice@example.com>|signgate: sign 3 artifacts\n");
	free(out);
	assert_int_equal(sg_notes_read(&note, f->repo, REF, &f->head, SG_NOTES_MAX), 0);
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, note.ptr, note.size), 0);
	assert_int_equal(n, 5);
	assert_int_equal(skipped, 0);
	assert_string_equal(sg_event_get(&ev[4], "Artifact"), "c");
	sg_events_free(ev, n);
	/* an event that does not start with Signgate-Event is refused, nothing written */
	sg_event_release(&e[0]);
	assert_int_equal(sg_event_add(&e[0], "Artifact", "x"), 0);
	assert_int_equal(sg_notes_append(f->repo, REF, &f->head, e, 3, NULL), SG_ERROR);
	assert_int_equal(sg_notes_append(f->repo, REF, &f->head, e, 0, NULL), SG_ERROR);
	assert_int_equal(count_of(f->dir, REF), 2);
	for (i = 0; i < 3; i++)
		sg_event_release(&e[i]);
	sg_buf_dispose(&note);
}

static void test_append_keeps_existing_note(void **state)
{
	fixture *f = *state;
	sg_event e = { NULL, 0 }, *ev = NULL;
	size_t n, skipped;
	char *out;

	assert_int_equal(sh("git -C %s notes --ref signatures add -m 'Checked by hand.' HEAD", f->dir), 0);
	make_event(&e, "sign", "a");
	assert_int_equal(sg_notes_append(f->repo, REF, &f->head, &e, 1, NULL), 0);
	out = capture("git -C %s notes --ref signatures show HEAD", f->dir);
	assert_string_equal(out, "Checked by hand.\n\nSigngate-Event: sign\nArtifact: a\nArtifact-Size: 10240\n");
	assert_int_equal(sg_events_parse(&ev, &n, &skipped, out, strlen(out)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(skipped, 1);
	sg_events_free(ev, n);
	free(out);
	/* git notes append after us keeps ours too */
	assert_int_equal(sh("git -C %s notes --ref signatures append -m 'Later.' HEAD", f->dir), 0);
	assert_int_equal(sg_notes_append_text(f->repo, REF, &f->head, "Approved-By: bob\n\n\n", NULL), 0);
	out = capture("git -C %s notes --ref signatures show HEAD", f->dir);
	assert_string_equal(out, "Checked by hand.\n\nSigngate-Event: sign\nArtifact: a\nArtifact-Size: 10240\n"
				 "\nLater.\n\nApproved-By: bob\n");
	free(out);
	assert_int_equal(sg_notes_append_text(f->repo, REF, &f->head, " \n\t", NULL), SG_ERROR);
	assert_int_equal(count_of(f->dir, REF), 4);
	sg_event_release(&e);
}

static void test_read_and_ref_checks(void **state)
{
	fixture *f = *state;
	sg_event e = { NULL, 0 };
	sg_buf note = SG_BUF_INIT;
	static const char *badrefs[] = { "refs/heads/main", "signatures", "refs/notes/", "refs/notes/a..b",
					 "refs/notes/x.lock", "refs/notes/a b", "refs/notesx/y" };
	size_t i;

	assert_int_equal(sg_notes_read(&note, f->repo, REF, &f->head, 1024), SG_ENOTFOUND);
	make_event(&e, "sign", "a");
	for (i = 0; i < sizeof(badrefs) / sizeof(badrefs[0]); i++) {
		assert_int_equal(sg_notes_ref_check(badrefs[i]), SG_ERROR);
		assert_int_equal(sg_notes_append(f->repo, badrefs[i], &f->head, &e, 1, NULL), SG_ERROR);
	}
	assert_int_equal(sh("git -C %s show-ref | grep -q notes", f->dir), 1);
	assert_int_equal(sg_notes_append(f->repo, REF, &f->head, &e, 1, NULL), 0);
	assert_int_equal(sg_notes_read(&note, f->repo, REF, &f->head, 1024), 0);
	/* cap: smaller than the note is refused and out is untouched */
	sg_buf_clear(&note);
	assert_int_equal(sg_buf_puts(&note, "keep"), 0);
	assert_int_equal(sg_notes_read(&note, f->repo, REF, &f->head, 10), SG_ERROR);
	assert_string_equal(note.ptr, "keep");
	/* no note on the parent */
	{
		git_object *o = NULL;
		assert_int_equal(git_revparse_single(&o, f->repo, "HEAD~1"), 0);
		assert_int_equal(sg_notes_read(&note, f->repo, REF, git_object_id(o), 1024), SG_ENOTFOUND);
		git_object_free(o);
	}
	/* a commit that does not exist */
	{
		git_oid none;
		git_oid_fromstr(&none, "1111111111111111111111111111111111111111");
		assert_int_equal(sg_notes_append(f->repo, REF, &none, &e, 1, NULL), SG_ERROR);
	}
	sg_buf_dispose(&note);
	sg_event_release(&e);
}

/* The one blob reader of the notes module (notes.c, sync_merge.c): a blob
 * within the cap is appended; over the cap, or not a blob, it is refused
 * before it is loaded and out is untouched. */
static void test_read_blob(void **state)
{
	fixture *f = *state;
	sg_buf b = SG_BUF_INIT;
	git_oid id, tree;

	assert_int_equal(git_blob_create_from_buffer(&id, f->repo, "0123456789", 10), 0);
	assert_int_equal(sg_buf_puts(&b, ">"), 0);
	assert_int_equal(sg_notes_read_blob(&b, f->repo, &id, 10), SG_OK);
	assert_string_equal(b.ptr, ">0123456789");
	assert_int_equal(sg_notes_read_blob(&b, f->repo, &id, 9), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "the limit is 9 bytes"));
	assert_string_equal(b.ptr, ">0123456789");
	{
		git_commit *c = NULL;
		assert_int_equal(git_commit_lookup(&c, f->repo, &f->head), 0);
		git_oid_cpy(&tree, git_commit_tree_id(c));
		git_commit_free(c);
	}
	assert_int_equal(sg_notes_read_blob(&b, f->repo, &tree, 1 << 20), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "is not a blob"));
	assert_string_equal(b.ptr, ">0123456789");
	sg_buf_dispose(&b);
}

/* A note holding a NUL byte (pushed by hand) is kept byte for byte and
 * the events go after it, in a paragraph of their own; in a fan-out tree
 * too (the blob is put back at the old note's path). */
static void append_after_nul(fixture *f, const char *tree_cmd)
{
	static const char old[] = "bin\0ary";
	sg_event e = { NULL, 0 }, *ev = NULL;
	sg_buf note = SG_BUF_INIT;
	sg_parse_report rep;
	char hex[GIT_OID_HEXSZ + 1], *out;
	size_t n;

	git_oid_tostr(hex, sizeof(hex), &f->head);
	assert_int_equal(sh("cd %s && b=$(printf 'bin\\000ary' | git hash-object -w --stdin) && %s",
			    f->dir, tree_cmd), 0);
	make_event(&e, "sign", "a");
	assert_int_equal(sg_notes_append(f->repo, REF, &f->head, &e, 1, NULL), 0);
	assert_int_equal(sg_notes_read(&note, f->repo, REF, &f->head, 1024), 0);
	assert_int_equal(note.size, sizeof(old) - 1 + 2 + 54);
	assert_memory_equal(note.ptr, old, sizeof(old) - 1); /* the old note is a prefix */
	assert_string_equal(note.ptr + sizeof(old) - 1, "\n\nSigngate-Event: sign\nArtifact: a\nArtifact-Size: 10240\n");
	assert_int_equal(sg_events_parse_report(&ev, &n, &rep, note.ptr, note.size), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rep.bad, 1);
	sg_parse_report_release(&rep);
	sg_events_free(ev, n);
	out = capture("git -C %s notes --ref signatures list | wc -l", f->dir);
	assert_int_equal(atoi(out), 1);
	free(out);
	sg_buf_dispose(&note);
	sg_event_release(&e);
}

static void test_append_after_nul_note(void **state)
{
	append_after_nul(*state, "git notes --ref signatures add -C $b HEAD");
}

static void test_append_after_nul_note_fanout(void **state)
{
	fixture *f = *state;
	char hex[GIT_OID_HEXSZ + 1], cmd[512];

	git_oid_tostr(hex, sizeof(hex), &f->head);
	snprintf(cmd, sizeof(cmd), "t=$(printf '100644 blob %%s\\t%s\\n' $b | git mktree) && "
		 "u=$(printf '040000 tree %%s\\t%.2s\\n' $t | git mktree) && "
		 "c=$(git commit-tree -m fanout $u) && git update-ref " REF " $c", hex + 2, hex);
	append_after_nul(f, cmd);
}

/* sg_notes_lookup_digests: digests in, the sign events recording them out,
 * with the commit they are on; other kinds, other fields, bad paragraphs
 * and digests not asked for are not returned. */
static void test_lookup_digests(void **state)
{
	fixture *f = *state;
	static const char A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char B[] = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
	sg_event e[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	sg_strlist refs = SG_STRLIST_INIT;
	sg_digest_hits hits = { NULL, 0, 0 };
	const char *want[3] = { "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not hex", B };
	char head[GIT_OID_HEXSZ + 1], parent[GIT_OID_HEXSZ + 1];
	git_object *o = NULL;

	assert_int_equal(git_revparse_single(&o, f->repo, "HEAD~1"), 0);
	git_oid_tostr(head, sizeof(head), &f->head);
	git_oid_tostr(parent, sizeof(parent), git_object_id(o));
	assert_int_equal(sg_event_add(&e[0], SG_EVENT_KEY, "sign"), 0);
	assert_int_equal(sg_event_add(&e[0], "Artifact-Sha256", A), 0);
	assert_int_equal(sg_event_add(&e[0], "Tag", "v1.0"), 0);
	assert_int_equal(sg_event_add(&e[1], SG_EVENT_KEY, "revoke"), 0); /* not a signing */
	assert_int_equal(sg_event_add(&e[1], "Artifact-Sha256", B), 0);
	assert_int_equal(sg_event_add(&e[2], SG_EVENT_KEY, "sign"), 0);
	assert_int_equal(sg_event_add(&e[2], "Signature-Sha256", B), 0); /* another field */
	assert_int_equal(sg_notes_append(f->repo, REF, git_object_id(o), e, 3, NULL), 0);
	assert_int_equal(sh("printf 'x\\000\\n\\nSigngate-Event: sign\\nArtifact-Sha256: %s\\n' | "
			    "git -C %s hash-object -w --stdin >%s/blob && git -C %s notes --ref signatures add "
			    "-C $(cat %s/blob) HEAD", B, f->dir, f->dir, f->dir, f->dir), 0);
	assert_int_equal(sg_strlist_add(&refs, REF), 0);
	assert_int_equal(sg_notes_lookup_digests(&hits, f->repo, &refs, "Artifact-Sha256", want, 3), 0);
	assert_int_equal(hits.n, 2);
	{
		size_t ia = strcmp(hits.v[0].digest, A) == 0 ? 0 : 1;
		assert_string_equal(hits.v[ia].digest, A);
		assert_string_equal(hits.v[ia].commit, parent);
		assert_string_equal(hits.v[ia].notes_ref, REF);
		assert_string_equal(sg_event_get(&hits.v[ia].ev, "Tag"), "v1.0");
		/* the event after a NUL paragraph counts */
		assert_string_equal(hits.v[1 - ia].digest, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
		assert_string_equal(hits.v[1 - ia].commit, head);
	}
	sg_digest_hits_release(&hits);
	assert_int_equal(sg_notes_lookup_digests(&hits, f->repo, &refs, "Signature-Sha256", want + 2, 1), 0);
	assert_int_equal(hits.n, 1);
	assert_string_equal(hits.v[0].commit, parent);
	sg_digest_hits_release(&hits);
	/* nothing asked, and a ref that does not exist */
	assert_int_equal(sg_notes_lookup_digests(&hits, f->repo, &refs, "Artifact-Sha256", want, 0), 0);
	assert_int_equal(hits.n, 0);
	assert_int_equal(sg_strlist_add(&refs, "refs/notes/none"), 0);
	assert_int_equal(sg_notes_lookup_digests(&hits, f->repo, &refs, "Artifact-Sha256", want, 1), 0);
	assert_int_equal(hits.n, 1);
	sg_digest_hits_release(&hits);
	sg_strlist_release(&refs);
	git_object_free(o);
	for (size_t i = 0; i < 3; i++)
		sg_event_release(&e[i]);
}

/* sg_notes_merge_text: the remote's note is the byte prefix of the merge
 * (its server keeps notes append-only), then the local paragraphs it lacks. */
static void test_merge_text_keeps_remote_prefix(void **state)
{
	static const char base[] = "Signgate-Event: sign\nArtifact: a\n";
	static const char theirs[] = "Signgate-Event: sign\nArtifact: a\n\nRemote remark  \n";
	static const char ours[] = "Signgate-Event: sign\r\nArtifact: a\n\nLocal remark\n";
	sg_buf out = SG_BUF_INIT;

	(void)state;
	assert_int_equal(sg_notes_merge_text(&out, ours, strlen(ours), theirs, strlen(theirs)), 0);
	assert_string_equal(out.ptr, "Signgate-Event: sign\nArtifact: a\n\nRemote remark  \n\nLocal remark\n");
	/* one side only appended to the other: the longer note as it is */
	assert_int_equal(sg_notes_merge_text(&out, base, strlen(base), theirs, strlen(theirs)), 0);
	assert_string_equal(out.ptr, theirs);
	assert_int_equal(sg_notes_merge_text(&out, theirs, strlen(theirs), base, strlen(base)), 0);
	assert_string_equal(out.ptr, theirs);
	/* a NUL already in the remote's note is kept; a local one to add is refused */
	assert_int_equal(sg_notes_merge_text(&out, "L\n", 2, "R\0\n", 3), 0);
	assert_int_equal(out.size, 6);
	assert_memory_equal(out.ptr, "R\0\n\nL\n", 6);
	assert_int_equal(sg_notes_merge_text(&out, "L\0\n", 3, "R\n", 2), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "NUL"));
	sg_buf_dispose(&out);
}

static void test_fanout_tree(void **state)
{
	fixture *f = *state;
	sg_event e = { NULL, 0 };
	sg_buf note = SG_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	char *out;

	git_oid_tostr(hex, sizeof(hex), &f->head);
	assert_int_equal(sh("cd %s && b=$(printf 'Old note.\\n' | git hash-object -w --stdin) && "
			    "t=$(printf '100644 blob %%s\\t%s\\n' $b | git mktree) && "
			    "u=$(printf '040000 tree %%s\\t%.2s\\n' $t | git mktree) && "
			    "c=$(git commit-tree -m fanout $u) && git update-ref " REF " $c",
			    f->dir, hex + 2, hex), 0);
	out = capture("git -C %s notes --ref signatures show HEAD", f->dir);
	assert_string_equal(out, "Old note.\n");
	free(out);
	assert_int_equal(sg_notes_read(&note, f->repo, REF, &f->head, 1024), 0);
	assert_string_equal(note.ptr, "Old note.\n");
	make_event(&e, "sign", "a");
	assert_int_equal(sg_notes_append(f->repo, REF, &f->head, &e, 1, NULL), 0);
	out = capture("git -C %s notes --ref signatures show HEAD", f->dir);
	assert_string_equal(out, "Old note.\n\nSigngate-Event: sign\nArtifact: a\nArtifact-Size: 10240\n");
	free(out);
	/* still exactly one note in the tree */
	out = capture("git -C %s notes --ref signatures list | wc -l", f->dir);
	assert_int_equal(atoi(out), 1);
	free(out);
	sg_buf_dispose(&note);
	sg_event_release(&e);
}

typedef struct seen {
	int calls;
	int events;
	int stop_at;
} seen;

static int count_cb(const git_oid *commit, const char *text, size_t len, void *payload)
{
	seen *s = payload;
	sg_event *ev = NULL;
	size_t n = 0;

	(void)commit;
	assert_int_equal(strlen(text), len);
	assert_int_equal(sg_events_parse(&ev, &n, NULL, text, len), 0);
	s->events += (int)n;
	sg_events_free(ev, n);
	if (++s->calls == s->stop_at)
		return SG_EVERIFY;
	return 0;
}

static void test_foreach(void **state)
{
	fixture *f = *state;
	sg_event e[2] = { { NULL, 0 }, { NULL, 0 } };
	seen s = { 0, 0, 0 };
	git_object *o = NULL;

	assert_int_equal(sg_notes_foreach(f->repo, REF, count_cb, &s), 0);
	assert_int_equal(s.calls, 0);
	assert_int_equal(sg_notes_foreach(f->repo, "refs/heads/x", count_cb, &s), SG_ERROR);
	make_event(&e[0], "sign", "a");
	make_event(&e[1], "sign", "b");
	assert_int_equal(sg_notes_append(f->repo, REF, &f->head, e, 2, NULL), 0);
	assert_int_equal(git_revparse_single(&o, f->repo, "HEAD~1"), 0);
	assert_int_equal(sg_notes_append(f->repo, REF, git_object_id(o), e, 1, NULL), 0);
	git_object_free(o);
	assert_int_equal(sg_notes_foreach(f->repo, REF, count_cb, &s), 0);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.events, 3);
	/* the callback's value stops the walk and comes back */
	s.calls = s.events = 0;
	s.stop_at = 1;
	assert_int_equal(sg_notes_foreach(f->repo, REF, count_cb, &s), SG_EVERIFY);
	assert_int_equal(s.calls, 1);
	sg_event_release(&e[0]);
	sg_event_release(&e[1]);
}

/* --- concurrency ---------------------------------------------------------- */

#define WRITERS 8
#define PER_WRITER 10

/* 0 when every (tag T0..T<ntags-1>, seq 0..n-1) stress event is present
 * exactly once and there is nothing else; -1 otherwise. */
static int check_all_present(const char *text, size_t len, int ntags, int n)
{
	sg_event *ev = NULL;
	size_t nev = 0, i;
	unsigned char seen_[64][64];
	int t, q, ret = -1;

	memset(seen_, 0, sizeof(seen_));
	if (sg_events_parse(&ev, &nev, NULL, text, len) < 0)
		return -1;
	if (nev != (size_t)(ntags * n)) {
		print_message("check: %zu events, expected %d\n", nev, ntags * n);
		goto done;
	}
	for (i = 0; i < nev; i++) {
		const char *tag = sg_event_get(&ev[i], "Stress-Tag");
		const char *seq = sg_event_get(&ev[i], "Stress-Seq");

		if (!tag || !seq || tag[0] != 'T' || sscanf(tag + 1, "%d", &t) != 1 || sscanf(seq, "%d", &q) != 1 ||
		    t < 0 || t >= ntags || q < 0 || q >= n || seen_[t][q]) {
			print_message("check: event %zu (%s %s) unexpected or doubled\n", i, tag ? tag : "-",
				      seq ? seq : "-");
			goto done;
		}
		seen_[t][q] = 1;
	}
	ret = 0;
done:
	sg_events_free(ev, nev);
	return ret;
}

static void stress_tool(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	assert_true(k > 0);
	self[k] = '\0';
	slash = strrchr(self, '/');
	assert_non_null(slash);
	*slash = '\0';
	snprintf(out, size, "%s/../tools/notes-stress", self);
	if (access(out, X_OK) != 0)
		fail_msg("%s is not built; run make %s", out, "build/tools/notes-stress");
}

static void test_concurrent_writers(void **state)
{
	fixture *f = *state;
	char tool[PATH_MAX + 32], tag[16], nper[16];
	pid_t pids[WRITERS];
	sg_buf note = SG_BUF_INIT;
	int i, st;

	stress_tool(tool, sizeof(tool));
	snprintf(nper, sizeof(nper), "%d", PER_WRITER);
	for (i = 0; i < WRITERS; i++) {
		snprintf(tag, sizeof(tag), "T%d", i);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			execl(tool, tool, f->dir, "HEAD", tag, nper, (char *)NULL);
			_exit(127);
		}
	}
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	/* every event exactly once, one notes commit each */
	assert_int_equal(sg_notes_read(&note, f->repo, REF, &f->head, SG_NOTES_MAX), 0);
	assert_int_equal(check_all_present(note.ptr, note.size, WRITERS, PER_WRITER), 0);
	assert_int_equal(count_of(f->dir, REF), WRITERS * PER_WRITER);
	/* git agrees */
	{
		char *out = capture("git -C %s notes --ref signatures show HEAD | grep -c '^Signgate-Event: stress$'",
				    f->dir);
		assert_int_equal(atoi(out), WRITERS * PER_WRITER);
		free(out);
	}
	sg_buf_dispose(&note);
}

/* Writers racing to CREATE the notes ref: 8 writers x 1 event on each of
 * 16 fresh refs (libgit2's create with force=0 is not atomic; this lost
 * events before the zero-id compare-and-swap). */
static void test_concurrent_first_writers(void **state)
{
	fixture *f = *state;
	char tool[PATH_MAX + 32], tag[16], ref[64];
	pid_t pids[WRITERS];
	sg_buf note = SG_BUF_INIT;
	int i, k, st;

	stress_tool(tool, sizeof(tool));
	for (k = 0; k < 16; k++) {
		struct timespec now;
		char start[32];

		snprintf(ref, sizeof(ref), "refs/notes/race%d", k);
		/* writers start 100 ms from now, staggered by 0-165 us so that
		 * one's existence check can fall inside another's write */
		clock_gettime(CLOCK_REALTIME, &now);
		for (i = 0; i < WRITERS; i++) {
			snprintf(tag, sizeof(tag), "T%d", i);
			snprintf(start, sizeof(start), "%lld", (long long)now.tv_sec * 1000000000LL + now.tv_nsec +
				 100000000LL + (long long)i * (k % 4) * 55000LL);
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0) {
				setenv("NOTES_STRESS_START", start, 1);
				execl(tool, tool, f->dir, "HEAD", tag, "1", ref, (char *)NULL);
				_exit(127);
			}
		}
		for (i = 0; i < WRITERS; i++) {
			assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
			assert_true(WIFEXITED(st));
			assert_int_equal(WEXITSTATUS(st), 0);
		}
		sg_buf_clear(&note);
		assert_int_equal(sg_notes_read(&note, f->repo, ref, &f->head, SG_NOTES_MAX), 0);
		assert_int_equal(check_all_present(note.ptr, note.size, WRITERS, 1), 0);
		assert_int_equal(count_of(f->dir, ref), WRITERS);
	}
	sg_buf_dispose(&note);
}

/* The twin: the checker used above does catch a lost or doubled event. */
static void test_checker_detects_loss(void **state)
{
	sg_buf b = SG_BUF_INIT;
	int t, q;

	(void)state;
	for (t = 0; t < 2; t++)
		for (q = 0; q < 3; q++)
			assert_int_equal(sg_buf_printf(&b, "Signgate-Event: stress\nStress-Tag: T%d\nStress-Seq: %d\n\n",
						       t, q), 0);
	assert_int_equal(check_all_present(b.ptr, b.size, 2, 3), 0);
	/* one lost */
	assert_int_equal(check_all_present(b.ptr, b.size, 2, 4), -1);
	/* one doubled in place of another */
	{
		char *p = strstr(b.ptr, "T1\nStress-Seq: 2");
		assert_non_null(p);
		p[1] = '0';
		assert_int_equal(check_all_present(b.ptr, b.size, 2, 3), -1);
	}
	sg_buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_keys),
		cmocka_unit_test(test_event_value_cannot_inject),
		cmocka_unit_test(test_parse_paragraphs),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_parse_caps),
		cmocka_unit_test_setup_teardown(test_append_one_read_by_git, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_append_batch_is_one_commit, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_append_keeps_existing_note, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_read_and_ref_checks, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_read_blob, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_append_after_nul_note, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_append_after_nul_note_fanout, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_fanout_tree, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_lookup_digests, repo_setup, repo_teardown),
		cmocka_unit_test(test_merge_text_keeps_remote_prefix),
		cmocka_unit_test_setup_teardown(test_foreach, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_first_writers, repo_setup, repo_teardown),
		cmocka_unit_test(test_checker_detects_loss),
	};

	if (getenv("SG_TEST_FILTER"))
		cmocka_set_test_filter(getenv("SG_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
