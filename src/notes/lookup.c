/* Where a digest is recorded: the signing events whose digest field holds
 * one of the digests asked for. A full scan of the notes refs for now; the
 * interface (digests in, matching events out) is what an index would
 * answer too. */
#include "notes/notes.h"
#include "core/error.h"
#include "policy/policy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sg_notes_event_refs(sg_strlist *out, const sg_policy *pol)
{
	size_t i;
	int err = sg_strlist_add_unique(out, SG_NOTES_SIGNATURES_REF, 0);

	for (i = 0; pol && err == SG_OK && i < pol->nprofiles; i++)
		if (pol->profiles[i].notes_ref)
			err = sg_strlist_add_unique(out, pol->profiles[i].notes_ref, 0);
	return err;
}

typedef struct lookup_state {
	char (*w)[65];            /* the digests asked for, lowercase, sorted */
	size_t nw;
	const char *key;
	const char *ref;
	sg_digest_hits *hits;
	int err;
} lookup_state;

static int hex_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Lowercase 64 hex into out; 0 when `s` is not 64 hex digits. */
static int hex64(char out[65], const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return 0;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[64] = '\0';
	return s[64] == '\0';
}

static int hit_push(sg_digest_hits *h, const char *digest, const git_oid *commit, const char *ref,
		    sg_event *ev)
{
	sg_digest_hit *x;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 8;
		sg_digest_hit *v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return sg_error_set(SG_ERROR, "out of memory");
		h->v = v;
		h->cap = cap;
	}
	x = &h->v[h->n];
	memset(x, 0, sizeof(*x));
	if (!(x->notes_ref = strdup(ref)))
		return sg_error_set(SG_ERROR, "out of memory");
	memcpy(x->digest, digest, sizeof(x->digest));
	git_oid_tostr(x->commit, sizeof(x->commit), commit);
	x->ev = *ev; /* moved: the parsed event array keeps an empty one */
	memset(ev, 0, sizeof(*ev));
	h->n++;
	return SG_OK;
}

static int match_note(const git_oid *commit, const char *text, size_t len, void *payload)
{
	lookup_state *st = payload;
	sg_event *ev = NULL;
	char hex[65];
	size_t n = 0, i;
	int err = SG_OK;

	if (sg_events_parse(&ev, &n, NULL, text, len) < 0) {
		sg_error_clear();
		return 0; /* a note we cannot read records nothing */
	}
	for (i = 0; i < n && err == SG_OK; i++) {
		const char *kind = sg_event_get(&ev[i], SG_EVENT_KEY);
		const char *v = sg_event_get(&ev[i], st->key);

		if (kind && !strcasecmp(kind, "sign") && v && hex64(hex, v) &&
		    bsearch(hex, st->w, st->nw, sizeof(*st->w), hex_cmp))
			err = hit_push(st->hits, hex, commit, st->ref, &ev[i]);
	}
	sg_events_free(ev, n);
	if (err < 0) {
		st->err = err;
		return 1;
	}
	return 0;
}

int sg_notes_lookup_digests(sg_digest_hits *out, git_repository *repo, const sg_strlist *notes_refs,
			    const char *key, const char *const *digests, size_t n)
{
	sg_digest_hits hits = { NULL, 0, 0 };
	lookup_state st = { NULL, 0, key, NULL, &hits, SG_OK };
	size_t i;
	int err = SG_OK;

	if (n && !(st.w = calloc(n, sizeof(*st.w))))
		return sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < n; i++)
		if (hex64(st.w[st.nw], digests[i]))
			st.nw++;
	if (st.nw)
		qsort(st.w, st.nw, sizeof(*st.w), hex_cmp);
	for (i = 0; st.nw && i < notes_refs->n && err == SG_OK; i++) {
		st.ref = notes_refs->v[i];
		err = sg_notes_foreach(repo, notes_refs->v[i], match_note, &st);
		if (err > 0)
			err = st.err;
	}
	free(st.w);
	if (err < 0) {
		sg_digest_hits_release(&hits);
		return err;
	}
	*out = hits;
	return SG_OK;
}

void sg_digest_hits_release(sg_digest_hits *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].notes_ref);
		sg_event_release(&h->v[i].ev);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}
