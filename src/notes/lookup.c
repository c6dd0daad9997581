/* Where a digest is recorded: the signing events whose digest field holds
 * one of the digests asked for, found through each notes ref's events
 * index (index.h) and read again from their notes. */
#include "notes/index.h"
#include "notes/notes.h"
#include "core/error.h"
#include "core/str.h"
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

static int hex_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Lowercase 64 hex into out; 0 when `s` is not 64 hex digits. */
static int hex64(char out[65], const char *s)
{
	return sg_str_is_hex(s, 64) && sg_str_lower_copy(out, 65, s) == 0;
}

static int hit_push(sg_digest_hits *h, const char *digest, const git_oid *commit, const char *ref,
		    const sg_event *ev)
{
	sg_digest_hit *x;
	int err;

	if ((err = sg_array_reserve((void **)&h->v, &h->cap, h->n, 8, sizeof(*h->v))) < 0)
		return err;
	x = &h->v[h->n];
	memset(x, 0, sizeof(*x));
	if (!(x->notes_ref = strdup(ref)))
		return sg_error_set(SG_ERROR, "out of memory");
	memcpy(x->digest, digest, sizeof(x->digest));
	git_oid_tostr(x->commit, sizeof(x->commit), commit);
	h->n++; /* counted now: release frees what the copy holds */
	return sg_event_copy(&x->ev, ev);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The candidates for every digest in one index, in index order, once each. */
static int candidates(uint32_t **out, size_t *n, const sg_notes_index *ix, sg_index_key key,
		      char (*w)[65], size_t nw)
{
	uint32_t *all = NULL, *v = NULL, *nv;
	size_t na = 0, nv_n, i, k;
	int err = SG_OK;

	for (i = 0; i < nw && err == SG_OK; i++) {
		if ((err = sg_notes_index_find(&v, &nv_n, ix, key, w[i])) < 0 || !nv_n)
			continue;
		if (!(nv = realloc(all, (na + nv_n) * sizeof(*all)))) {
			err = sg_error_set(SG_ERROR, "out of memory");
		} else {
			all = nv;
			memcpy(all + na, v, nv_n * sizeof(*v));
			na += nv_n;
		}
		free(v);
		v = NULL;
	}
	if (err < 0) {
		free(all);
		return err;
	}
	if (na > 1)
		qsort(all, na, sizeof(*all), u32_cmp);
	for (i = 0, k = 0; i < na; i++)
		if (!k || all[k - 1] != all[i])
			all[k++] = all[i];
	*out = all;
	*n = k;
	return SG_OK;
}

/* The hits of one notes ref: each candidate read again from its note. */
static int lookup_ref(sg_digest_hits *hits, git_repository *repo, const char *ref, const char *key,
		      char (*w)[65], size_t nw)
{
	sg_notes_index *ix = NULL;
	uint32_t *c = NULL;
	size_t n = 0, i;
	sg_index_key k = !strcasecmp(key, "Artifact-Sha256") ? SG_INDEX_ARTIFACT : SG_INDEX_SIGNATURE;
	int err;

	if (strcasecmp(key, "Artifact-Sha256") && strcasecmp(key, "Signature-Sha256"))
		return sg_error_set(SG_ERROR, "no events index for %s", key);
	if ((err = sg_notes_index_open(&ix, repo, ref)) < 0 || (err = candidates(&c, &n, ix, k, w, nw)) < 0)
		goto done;
	for (i = 0; i < n && err == SG_OK; i++) {
		const sg_event *ev;
		const char *kind, *v;
		git_oid commit;
		char hex[65];

		if ((err = sg_notes_index_read(&ev, &commit, ix, c[i])) < 0)
			break;
		kind = sg_event_get(ev, SG_EVENT_KEY);
		v = sg_event_get(ev, key);
		if (kind && !strcasecmp(kind, "sign") && v && hex64(hex, v) &&
		    bsearch(hex, w, nw, sizeof(*w), hex_cmp))
			err = hit_push(hits, hex, &commit, ref, ev);
	}
done:
	free(c);
	sg_notes_index_free(ix);
	return err;
}

int sg_notes_lookup_digests(sg_digest_hits *out, git_repository *repo, const sg_strlist *notes_refs,
			    const char *key, const char *const *digests, size_t n)
{
	sg_digest_hits hits = { NULL, 0, 0 };
	char (*w)[65] = NULL;
	size_t i, nw = 0;
	int err = SG_OK;

	if (n && !(w = calloc(n, sizeof(*w))))
		return sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < n; i++)
		if (hex64(w[nw], digests[i]))
			nw++;
	if (nw)
		qsort(w, nw, sizeof(*w), hex_cmp);
	for (i = 0; nw && i < notes_refs->n && err == SG_OK; i++)
		err = lookup_ref(&hits, repo, notes_refs->v[i], key, w, nw);
	free(w);
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
