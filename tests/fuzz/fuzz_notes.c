/* libFuzzer target: the signing-note parser (src/notes/event.c) on notes
 * written by other tools, huge and binary notes; and the review readers
 * that parse text other tools write (Gerrit review notes, commit trailers).
 * Invariants: what parses formats back to text that parses to the same
 * events (keys and values identical); formatting a value built from the
 * input never adds a field (no injection through newlines); a bad paragraph
 * (a NUL byte) between two copies of the input hides nothing: both copies'
 * events count, and it is reported once. */
#include "fuzz.h"

#include <git2.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/strlist.h"
#include "gate/internal.h"
#include "notes/notes.h"

static void fuzz_notes_roundtrip(const sg_event *ev, size_t n)
{
	sg_buf text = SG_BUF_INIT;
	sg_event *again = NULL;
	size_t n2 = 0, i, j, skipped = 0;

	for (i = 0; i < n; i++) {
		if (i)
			SG_FUZZ_ASSERT(sg_buf_puts(&text, "\n\n") == SG_OK);
		SG_FUZZ_ASSERT(sg_event_format(&ev[i], &text) == SG_OK);
	}
	SG_FUZZ_ASSERT(sg_events_parse(&again, &n2, &skipped, text.ptr, text.size) == SG_OK);
	SG_FUZZ_ASSERT(n2 == n && skipped == 0);
	for (i = 0; i < n; i++) {
		SG_FUZZ_ASSERT(again[i].n == ev[i].n);
		for (j = 0; j < ev[i].n; j++) {
			SG_FUZZ_ASSERT(!strcmp(again[i].f[j].key, ev[i].f[j].key));
			/* an empty value is written "-" (notes.h) */
			SG_FUZZ_ASSERT(!strcmp(again[i].f[j].value, ev[i].f[j].value[0] ? ev[i].f[j].value : "-"));
		}
	}
	sg_events_free(again, n2);
	sg_buf_dispose(&text);
}

/* A value taken from the input, added to an event: one field, whatever bytes. */
static void fuzz_notes_inject(const uint8_t *data, size_t size)
{
	sg_event e = { NULL, 0 };
	sg_event *back = NULL;
	sg_buf text = SG_BUF_INIT;
	size_t n = 0;
	char *v;

	if (size > SG_EVENT_VALUE_MAX || !(v = strndup((const char *)data, size)))
		return;
	if (sg_event_add(&e, SG_EVENT_KEY, "sign") == SG_OK &&
	    sg_event_add(&e, "Artifact", v) == SG_OK &&
	    sg_event_add(&e, "Tool", "fuzz") == SG_OK) {
		SG_FUZZ_ASSERT(sg_event_format(&e, &text) == SG_OK);
		SG_FUZZ_ASSERT(sg_events_parse(&back, &n, NULL, text.ptr, text.size) == SG_OK);
		SG_FUZZ_ASSERT(n == 1 && back[0].n == 3);
		SG_FUZZ_ASSERT(!strcmp(back[0].f[2].key, "Tool"));
		sg_events_free(back, n);
	}
	sg_event_release(&e);
	sg_buf_dispose(&text);
	free(v);
}

/* input + "\n\n\0\n\n" + input: twice the events, one more bad paragraph. */
static void fuzz_notes_nul_hides_nothing(const uint8_t *data, size_t size, size_t n,
					 const sg_parse_report *rep)
{
	sg_buf text = SG_BUF_INIT;
	sg_event *ev = NULL;
	sg_parse_report rep2;
	size_t n2 = 0;

	if (size > SG_NOTES_MAX / 2 - 8)
		return;
	SG_FUZZ_ASSERT(sg_buf_put(&text, data, size) == SG_OK &&
		       sg_buf_put(&text, "\n\n\0\n\n", 5) == SG_OK &&
		       sg_buf_put(&text, data, size) == SG_OK);
	SG_FUZZ_ASSERT(sg_events_parse_report(&ev, &n2, &rep2, text.ptr, text.size) == SG_OK);
	SG_FUZZ_ASSERT(n2 == 2 * n || (n2 < 2 * n && rep2.bad > 2 * rep->bad + 1));
	SG_FUZZ_ASSERT(rep2.skipped == 2 * rep->skipped);
	SG_FUZZ_ASSERT(rep2.bad >= 2 * rep->bad + 1 && rep2.problems.n >= 1);
	sg_parse_report_release(&rep2);
	sg_events_free(ev, n2);
	sg_buf_dispose(&text);
}

SG_FUZZ_TARGET(notes)
{
	sg_parse_report rep;
	static int inited;
	sg_event *ev = NULL;
	size_t n = 0, skipped = 0;
	char *text;
	int rc;

	if (!inited) {
		git_libgit2_init();
		inited = 1;
	}
	rc = sg_events_parse(&ev, &n, &skipped, (const char *)data, size);
	if (rc == SG_OK) {
		if (n)
			fuzz_notes_roundtrip(ev, n);
		else
			SG_FUZZ_ASSERT(ev == NULL);
		sg_events_free(ev, n);
		SG_FUZZ_ASSERT(sg_events_parse_report(&ev, &n, &rep, (const char *)data, size) == SG_OK);
		SG_FUZZ_ASSERT(rep.skipped + rep.bad == skipped);
		SG_FUZZ_ASSERT(rep.problems.n == (rep.bad < SG_PARSE_PROBLEMS_MAX ? rep.bad : SG_PARSE_PROBLEMS_MAX));
		fuzz_notes_nul_hides_nothing(data, size, n, &rep);
		sg_parse_report_release(&rep);
		sg_events_free(ev, n);
	} else {
		SG_FUZZ_ASSERT(ev == NULL && sg_error_last());
	}
	fuzz_notes_inject(data, size);

	/* Gerrit review notes and commit trailers: text from other tools. */
	if (size <= 1024 * 1024 && (text = strndup((const char *)data, size))) {
		sg_review_list l = { NULL, 0 };
		sg_strlist keys = SG_STRLIST_INIT;

		(void)sg_gate_gerrit_parse(&l, text, "Code-Review", 2);
		sg_review_list_release(&l);
		memset(&l, 0, sizeof(l));
		if (sg_strlist_add(&keys, "Reviewed-by") == SG_OK &&
		    sg_strlist_add(&keys, "Approved-by") == SG_OK)
			(void)sg_gate_trailers_parse(&l, text, &keys);
		sg_review_list_release(&l);
		sg_strlist_release(&keys);
		free(text);
	}
	return 0;
}
