/* The events index of one notes ref (index.h). File layout, native byte
 * order (a file from another machine fails the byte-order check and is
 * rebuilt):
 *
 *   header | notes[nnotes] | events[nevents] | by_artifact[nevents] (u32)
 *   | by_signer[nevents] (u32) | problems (text) | SHA-256 of everything before
 *
 * notes are sorted by annotated object id, their events contiguous and in
 * note order; by_* are event numbers sorted by key (then number); a
 * note's problems are the lines describing its bad paragraphs
 * (sg_parse_report.problems), each ending with a newline. */
#include "notes/index.h"
#include "core/error.h"
#include "core/file.h"
#include "core/git.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define IX_MAGIC "SGNIDX3\n"
#define IX_BYTE_ORDER 0x01020304u
#define IX_DIR "signgate/notes-index"
#define IX_FILE_MAX ((size_t)1 << 31)

typedef struct ix_header {
	char magic[8];
	uint32_t byte_order;
	uint32_t nnotes, nevents;
	uint32_t key_len;
	unsigned char tree[GIT_OID_RAWSZ];
	unsigned char commit[GIT_OID_RAWSZ];
	uint32_t problems_len;
	unsigned char reserved[4];
} ix_header;

typedef struct ix_note {
	unsigned char annotated[GIT_OID_RAWSZ];
	unsigned char blob[GIT_OID_RAWSZ];
	uint32_t first, n;
	uint32_t skipped, bad;         /* paragraphs that are not events; bad ones */
	uint32_t prob_off, prob_len;   /* its problems in the problems text */
} ix_note;

typedef struct ix_event {
	uint32_t note, off, len, reserved;
	int64_t signed_at;
	char key[SG_INDEX_KEYS][SG_INDEX_KEY_LEN]; /* by sg_index_key */
} ix_event;

/* Growable arrays while (re)building. */
typedef struct ix_build {
	ix_note *notes;
	size_t nnotes, cap_notes;
	ix_event *ev;
	size_t nev, cap_ev;
	sg_buf problems;
	size_t reparsed;
} ix_build;

struct sg_notes_index {
	git_repository *repo;
	char *ref;
	char *path;           /* the cache file (NULL: no repository dir) */
	git_oid tree_id;
	int has_tree;
	git_tree *tree;
	sg_buf image;         /* the bytes of an index built in this process */
	void *map;            /* or the cache file, mapped */
	size_t map_len;
	const char *img;      /* the one in use */
	size_t img_len;
	const ix_header *h;
	const ix_note *notes;
	const ix_event *ev;
	const uint32_t *by[SG_INDEX_KEYS];
	const char *problems;
	sg_index_stats stats;
	/* reading */
	size_t cur_note;      /* (size_t)-1: none */
	git_blob *blob;
	size_t text_len;      /* bytes of the blob */
	sg_event_scratch scratch;
};

/* --- layout ----------------------------------------------------------- */

static size_t image_size(size_t nnotes, size_t nevents, size_t problems_len)
{
	return sizeof(ix_header) + nnotes * sizeof(ix_note) + nevents * (sizeof(ix_event) + SG_INDEX_KEYS * sizeof(uint32_t)) +
	       problems_len + SHA256_DIGEST_LENGTH;
}

/* Point ix at the arrays of ix->image; 0 when the image is not a whole,
 * consistent index (any failure means: rebuild). */
static int image_attach(sg_notes_index *ix)
{
	const ix_header *h = (const ix_header *)ix->img;
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i, k, nn, ne, sz = ix->img_len;
	const char *p;

	if (sz < sizeof(*h) || memcmp(h->magic, IX_MAGIC, 8) != 0 || h->byte_order != IX_BYTE_ORDER ||
	    h->key_len != SG_INDEX_KEY_LEN)
		return 0;
	nn = h->nnotes;
	ne = h->nevents;
	if (sz != image_size(nn, ne, h->problems_len))
		return 0;
	SHA256((const unsigned char *)ix->img, sz - sizeof(md), md);
	if (memcmp(md, ix->img + sz - sizeof(md), sizeof(md)) != 0)
		return 0;
	p = ix->img + sizeof(*h);
	ix->h = h;
	ix->notes = (const ix_note *)p;
	ix->ev = (const ix_event *)(p + nn * sizeof(ix_note));
	ix->by[0] = (const uint32_t *)(p + nn * sizeof(ix_note) + ne * sizeof(ix_event));
	for (k = 1; k < SG_INDEX_KEYS; k++)
		ix->by[k] = ix->by[k - 1] + ne;
	ix->problems = (const char *)(ix->by[SG_INDEX_KEYS - 1] + ne);
	/* bounds: a tampered file must not make a read go astray */
	for (i = 0, k = 0; i < nn; i++) {
		if (ix->notes[i].first != k || ix->notes[i].n > ne - k ||
		    ix->notes[i].prob_off > h->problems_len ||
		    ix->notes[i].prob_len > h->problems_len - ix->notes[i].prob_off ||
		    (i && memcmp(ix->notes[i - 1].annotated, ix->notes[i].annotated, GIT_OID_RAWSZ) >= 0))
			return 0;
		k += ix->notes[i].n;
	}
	if (k != ne)
		return 0;
	for (i = 0; i < ne; i++) {
		if (ix->ev[i].note >= nn)
			return 0;
		for (k = 0; k < SG_INDEX_KEYS; k++)
			if (ix->by[k][i] >= ne)
				return 0;
	}
	return 1;
}

/* --- building ----------------------------------------------------------- */

static void key_of(char out[SG_INDEX_KEY_LEN], const char *v)
{
	size_t i;

	memset(out, 0, SG_INDEX_KEY_LEN);
	for (i = 0; v && v[i] && i < SG_INDEX_KEY_LEN; i++)
		out[i] = (char)tolower((unsigned char)v[i]);
}

/* sg_array_reserve within the index's 32-bit positions. */
static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	if (n >= *cap && 2 * *cap > UINT32_MAX)
		return sg_error_set(SG_ERROR, "out of memory (notes index)");
	return sg_array_reserve(v, cap, n, 256, elem);
}

static int add_event(const sg_event *e, size_t off, size_t len, void *payload)
{
	ix_build *b = payload;
	ix_event *x;
	int err;

	if ((err = grow((void **)&b->ev, &b->cap_ev, b->nev, sizeof(*b->ev))) < 0)
		return err;
	x = &b->ev[b->nev++];
	memset(x, 0, sizeof(*x));
	x->note = (uint32_t)b->nnotes;
	x->off = (uint32_t)off;
	x->len = (uint32_t)len;
	x->signed_at = (int64_t)sg_event_time(e, "Signed-At");
	key_of(x->key[SG_INDEX_ARTIFACT], sg_event_get(e, "Artifact-Sha256"));
	key_of(x->key[SG_INDEX_SIGNER], sg_event_signer(e));
	key_of(x->key[SG_INDEX_SIGNATURE], sg_event_get(e, "Signature-Sha256"));
	return 0;
}

static int add_note(ix_build *b, const git_oid *annotated, const git_oid *blob)
{
	ix_note *n;
	int err;

	if ((err = grow((void **)&b->notes, &b->cap_notes, b->nnotes, sizeof(*b->notes))) < 0)
		return err;
	n = &b->notes[b->nnotes];
	memset(n, 0, sizeof(*n));
	memcpy(n->annotated, annotated->id, GIT_OID_RAWSZ);
	memcpy(n->blob, blob->id, GIT_OID_RAWSZ);
	n->first = (uint32_t)b->nev;
	return SG_OK;
}

/* Read and index one note blob. A note that cannot be parsed whole (too
 * large, too many events) contributes no event, as for a full scan. */
static int index_note(ix_build *b, git_repository *repo, const git_oid *annotated, const git_oid *blob_id)
{
	git_odb *odb = NULL;
	git_blob *blob = NULL;
	git_object_t type;
	sg_parse_report rep;
	size_t size, mark, i;
	int err;

	memset(&rep, 0, sizeof(rep));
	if ((err = add_note(b, annotated, blob_id)) < 0)
		return err;
	mark = b->nev;
	b->reparsed++;
	if (git_repository_odb(&odb, repo) < 0 || git_odb_read_header(&size, &type, odb, blob_id) < 0) {
		err = sg_git_fail(SG_ERROR, "cannot read a note");
		goto done;
	}
	if (type != GIT_OBJECT_BLOB || size > SG_NOTES_MAX) {
		b->notes[b->nnotes].skipped = 1;
		err = SG_OK;
		goto done;
	}
	if (git_blob_lookup(&blob, repo, blob_id) < 0) {
		err = sg_git_fail(SG_ERROR, "cannot read a note");
		goto done;
	}
	if ((err = sg_events_each(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), add_event, b,
				  &rep)) < 0)
		goto done;
	b->notes[b->nnotes].skipped = (uint32_t)rep.skipped;
	b->notes[b->nnotes].bad = (uint32_t)rep.bad;
	b->notes[b->nnotes].prob_off = (uint32_t)b->problems.size;
	for (i = 0; i < rep.problems.n && err == SG_OK; i++)
		if ((err = sg_buf_puts(&b->problems, rep.problems.v[i])) == SG_OK)
			err = sg_buf_put(&b->problems, "\n", 1);
	b->notes[b->nnotes].prob_len = (uint32_t)(b->problems.size - b->notes[b->nnotes].prob_off);
done:
	if (err == SG_OK) {
		b->notes[b->nnotes].n = (uint32_t)(b->nev - mark);
		b->nnotes++;
	} else {
		b->nev = mark;
	}
	sg_parse_report_release(&rep);
	git_blob_free(blob);
	git_odb_free(odb);
	return err;
}

/* Copy note i of the old index with its events (unchanged blob). */
static int copy_note(ix_build *b, const sg_notes_index *old, size_t i)
{
	const ix_note *on = &old->notes[i];
	git_oid a, bl;
	size_t k;
	int err;

	memcpy(a.id, on->annotated, GIT_OID_RAWSZ);
	memcpy(bl.id, on->blob, GIT_OID_RAWSZ);
	if ((err = add_note(b, &a, &bl)) < 0)
		return err;
	for (k = 0; k < on->n; k++) {
		if ((err = grow((void **)&b->ev, &b->cap_ev, b->nev, sizeof(*b->ev))) < 0)
			return err;
		b->ev[b->nev] = old->ev[on->first + k];
		b->ev[b->nev].note = (uint32_t)b->nnotes;
		b->nev++;
	}
	b->notes[b->nnotes].n = on->n;
	b->notes[b->nnotes].skipped = on->skipped;
	b->notes[b->nnotes].bad = on->bad;
	b->notes[b->nnotes].prob_off = (uint32_t)b->problems.size;
	b->notes[b->nnotes].prob_len = on->prob_len;
	if ((err = sg_buf_put(&b->problems, old->problems + on->prob_off, on->prob_len)) < 0)
		return err;
	b->nnotes++;
	return SG_OK;
}

/* The annotated object a notes tree path names ("ab/cd..." or flat), or 0
 * when the path is not a note. */
static int path_oid(git_oid *out, const char *path)
{
	char hex[GIT_OID_HEXSZ + 1];
	size_t n = 0;

	for (; *path; path++) {
		if (*path == '/')
			continue;
		if (n == GIT_OID_HEXSZ || !isxdigit((unsigned char)*path))
			return 0;
		hex[n++] = (char)tolower((unsigned char)*path);
	}
	hex[n] = '\0';
	return n == GIT_OID_HEXSZ && git_oid_fromstr(out, hex) == 0;
}

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

/* The annotated objects whose note may differ between two trees (old may
 * be NULL: every note), sorted, each once. */
static int changed_notes(git_oid **out, size_t *n, git_repository *repo, git_tree *old, git_tree *new)
{
	git_diff_options opts;
	git_diff *diff = NULL;
	git_oid *v = NULL;
	size_t i, k = 0, nd;
	int err = SG_OK;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags = GIT_DIFF_SKIP_BINARY_CHECK;
	if (git_diff_tree_to_tree(&diff, repo, old, new, &opts) < 0)
		return sg_git_fail(SG_ERROR, "cannot compare the notes trees");
	nd = git_diff_num_deltas(diff);
	if (nd && !(v = malloc(nd * sizeof(*v)))) {
		err = sg_error_set(SG_ERROR, "out of memory (notes index)");
		goto done;
	}
	for (i = 0; i < nd; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;

		if (path && path_oid(&v[k], path))
			k++;
	}
	if (k)
		qsort(v, k, sizeof(*v), oid_cmp);
	for (i = 0, nd = k, k = 0; i < nd; i++)
		if (!k || git_oid_cmp(&v[k - 1], &v[i]) != 0)
			v[k++] = v[i];
	*out = v;
	*n = k;
	v = NULL;
done:
	free(v);
	git_diff_free(diff);
	return err;
}

/* The note on `a` in the new tree, indexed afresh (or nothing when gone). */
static int reindex(ix_build *b, git_repository *repo, git_tree *tree, const git_oid *a)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid blob;
	int r;

	git_oid_tostr(hex, sizeof(hex), a);
	if ((r = sg_notes_find_blob(&blob, NULL, repo, tree, hex)) <= 0)
		return r;
	return index_note(b, repo, a, &blob);
}

/* New arrays for `tree` from the old index (may be empty) and the notes
 * that changed: a merge of two sorted lists by annotated id. */
static int build(ix_build *b, git_repository *repo, const sg_notes_index *old, git_tree *old_tree,
		 git_tree *tree)
{
	git_oid *chg = NULL, a;
	size_t nchg = 0, i = 0, j = 0, nold = old && old->h ? old->h->nnotes : 0;
	int err;

	if ((err = changed_notes(&chg, &nchg, repo, old_tree, tree)) < 0)
		return err;
	while (err == SG_OK && (i < nold || j < nchg)) {
		int c;

		if (i < nold)
			memcpy(a.id, old->notes[i].annotated, GIT_OID_RAWSZ);
		c = i >= nold ? 1 : j >= nchg ? -1 : git_oid_cmp(&a, &chg[j]);
		if (c < 0) {
			err = copy_note(b, old, i++);
		} else {
			err = reindex(b, repo, tree, &chg[j++]);
			i += c == 0;
		}
	}
	free(chg);
	return err;
}

static const ix_event *sort_ev;
static int sort_key;

static int by_key(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	int c = memcmp(sort_ev[a].key[sort_key], sort_ev[b].key[sort_key], SG_INDEX_KEY_LEN);

	return c ? c : (a > b) - (a < b);
}

/* The file image of the built arrays. */
static int serialize(sg_buf *out, const ix_build *b, const git_oid *tree, const git_oid *commit)
{
	ix_header h;
	uint32_t *perm = NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;
	int k, err;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, IX_MAGIC, 8);
	h.byte_order = IX_BYTE_ORDER;
	h.nnotes = (uint32_t)b->nnotes;
	h.nevents = (uint32_t)b->nev;
	h.key_len = SG_INDEX_KEY_LEN;
	h.problems_len = (uint32_t)b->problems.size;
	memcpy(h.tree, tree->id, GIT_OID_RAWSZ);
	memcpy(h.commit, commit->id, GIT_OID_RAWSZ);
	sg_buf_clear(out);
	if ((err = sg_buf_grow(out, image_size(b->nnotes, b->nev, b->problems.size))) < 0 ||
	    (err = sg_buf_put(out, &h, sizeof(h))) < 0 ||
	    (b->nnotes && (err = sg_buf_put(out, b->notes, b->nnotes * sizeof(*b->notes))) < 0) ||
	    (b->nev && (err = sg_buf_put(out, b->ev, b->nev * sizeof(*b->ev))) < 0))
		return err;
	if (b->nev && !(perm = malloc(b->nev * sizeof(*perm))))
		return sg_error_set(SG_ERROR, "out of memory (notes index)");
	for (k = 0; k < SG_INDEX_KEYS && err == SG_OK; k++) {
		for (i = 0; i < b->nev; i++)
			perm[i] = (uint32_t)i;
		sort_ev = b->ev;
		sort_key = k;
		if (b->nev > 1)
			qsort(perm, b->nev, sizeof(*perm), by_key);
		if (b->nev)
			err = sg_buf_put(out, perm, b->nev * sizeof(*perm));
	}
	free(perm);
	if (err == SG_OK && b->problems.size)
		err = sg_buf_put(out, b->problems.ptr, b->problems.size);
	if (err < 0)
		return err;
	SHA256((const unsigned char *)out->ptr, out->size, md);
	return sg_buf_put(out, md, sizeof(md));
}

/* --- the cache file ------------------------------------------------------- */

static int cache_path(char **out, git_repository *repo, const char *ref)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	sg_buf p = SG_BUF_INIT;
	int err;

	SHA256((const unsigned char *)ref, strlen(ref), md);
	sg_hex(hex, md, 20);
	if ((err = sg_buf_printf(&p, "%s%s/%s.idx", git_repository_commondir(repo), IX_DIR, hex)) < 0) {
		sg_buf_dispose(&p);
		return err;
	}
	*out = sg_buf_detach(&p);
	return SG_OK;
}

/* mkdir -p of signgate/notes-index (0700), refusing a symlink. */
static int ensure_dirs(git_repository *repo)
{
	const char *parts[2] = { "signgate", IX_DIR };
	sg_buf d = SG_BUF_INIT;
	int i, err = SG_OK;

	for (i = 0; i < 2 && err == SG_OK; i++) {
		sg_buf_clear(&d);
		if ((err = sg_buf_printf(&d, "%s%s", git_repository_commondir(repo), parts[i])) == SG_OK)
			err = sg_file_mkdir_private(d.ptr);
	}
	sg_buf_dispose(&d);
	return err;
}

/* Best effort: a cache that cannot be written is rebuilt next time. No
 * fsync (sg_file_write_cache): the image is checksummed, and one that a
 * crash tore fails its check on load and is rebuilt from the notes. */
static void cache_save(sg_notes_index *ix)
{
	if (!ix->path || ensure_dirs(ix->repo) < 0 || sg_file_write_cache(ix->path, ix->img, ix->img_len, 0644) < 0) {
		sg_error_clear();
		return;
	}
	ix->stats.saved = 1;
}

static void cache_unmap(sg_notes_index *ix)
{
	if (ix->map)
		munmap(ix->map, ix->map_len);
	ix->map = NULL;
	ix->map_len = 0;
	ix->img = NULL;
	ix->img_len = 0;
	ix->h = NULL;
}

/* The cache file mapped and attached; 0 when there is none that checks
 * out (a regular file, never through a symlink). */
static int cache_load(sg_notes_index *ix)
{
	struct stat st;
	void *m;
	int fd;

	if (!ix->path || (fd = open(ix->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(ix_header) ||
	    (size_t)st.st_size > IX_FILE_MAX ||
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		close(fd);
		return 0;
	}
	close(fd);
	ix->map = m;
	ix->map_len = (size_t)st.st_size;
	ix->img = m;
	ix->img_len = ix->map_len;
	if (image_attach(ix))
		return 1;
	cache_unmap(ix);
	return 0;
}

/* --- open --------------------------------------------------------------- */

static int ref_tree(git_oid *tree, git_oid *commit, int *exists, git_repository *repo, const char *ref)
{
	git_reference *r = NULL;
	git_commit *c = NULL;
	int gerr, err = SG_OK;

	*exists = 0;
	gerr = git_reference_lookup(&r, repo, ref);
	if (gerr == GIT_ENOTFOUND)
		return SG_OK;
	if (gerr < 0)
		return sg_git_fail(SG_ERROR, ref);
	if (git_reference_type(r) != GIT_REFERENCE_DIRECT)
		err = sg_error_set(SG_ERROR, "notes ref %s is a symbolic reference; point it at a notes commit", ref);
	else if (git_commit_lookup(&c, repo, git_reference_target(r)) < 0)
		err = sg_git_fail(SG_ERROR, "notes ref does not point at a commit");
	if (err == SG_OK) {
		git_oid_cpy(commit, git_commit_id(c));
		git_oid_cpy(tree, git_commit_tree_id(c));
		*exists = 1;
	}
	git_commit_free(c);
	git_reference_free(r);
	return err;
}

/* Bring ix (its cached image possibly stale or absent) up to `tree`. */
static int update(sg_notes_index *ix, const git_oid *commit)
{
	ix_build b;
	git_tree *old_tree = NULL;
	git_oid old_id;
	sg_buf image = SG_BUF_INIT;
	size_t i;
	int err;

	memset(&b, 0, sizeof(b));
	if (ix->h) {
		memcpy(old_id.id, ix->h->tree, GIT_OID_RAWSZ);
		if (git_tree_lookup(&old_tree, ix->repo, &old_id) < 0) {
			sg_error_clear();
			ix->h = NULL; /* that tree is gone: a full scan */
		}
	}
	ix->stats.rebuilt = !ix->h;
	if ((err = build(&b, ix->repo, ix, old_tree, ix->tree)) < 0 ||
	    (err = serialize(&image, &b, &ix->tree_id, commit)) < 0)
		goto done;
	cache_unmap(ix);
	sg_buf_dispose(&ix->image);
	ix->image = image;
	memset(&image, 0, sizeof(image));
	ix->img = ix->image.ptr;
	ix->img_len = ix->image.size;
	if (!image_attach(ix)) {
		err = sg_error_set(SG_ERROR, "the notes index just built for %s does not check out", ix->ref);
		goto done;
	}
	ix->stats.reparsed = b.reparsed;
	for (i = 0; i < b.nnotes; i++)
		ix->stats.skipped += b.notes[i].skipped + b.notes[i].bad;
	cache_save(ix);
	err = SG_OK;
done:
	git_tree_free(old_tree);
	sg_buf_dispose(&image);
	free(b.notes);
	free(b.ev);
	sg_buf_dispose(&b.problems);
	return err;
}

int sg_notes_index_open(sg_notes_index **out, git_repository *repo, const char *notes_ref)
{
	sg_notes_index *ix;
	git_oid commit;
	size_t i;
	int err, exists = 0;

	if ((err = sg_notes_ref_check(notes_ref)) < 0)
		return err;
	if (!(ix = calloc(1, sizeof(*ix))) || !(ix->ref = strdup(notes_ref))) {
		free(ix);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	ix->repo = repo;
	ix->cur_note = (size_t)-1;
	if ((err = ref_tree(&ix->tree_id, &commit, &exists, repo, notes_ref)) < 0)
		goto fail;
	if (!exists) {
		*out = ix; /* no notes: an empty index, nothing cached */
		return SG_OK;
	}
	ix->has_tree = 1;
	if ((err = cache_path(&ix->path, repo, notes_ref)) < 0)
		goto fail;
	if (git_tree_lookup(&ix->tree, repo, &ix->tree_id) < 0) {
		err = sg_git_fail(SG_ERROR, "cannot read the notes tree");
		goto fail;
	}
	if (!cache_load(ix) || memcmp(ix->h->tree, ix->tree_id.id, GIT_OID_RAWSZ) != 0) {
		if ((err = update(ix, &commit)) < 0)
			goto fail;
	} else {
		for (i = 0; i < ix->h->nnotes; i++)
			ix->stats.skipped += ix->notes[i].skipped + ix->notes[i].bad;
	}
	ix->stats.notes = ix->h->nnotes;
	ix->stats.events = ix->h->nevents;
	*out = ix;
	return SG_OK;
fail:
	sg_notes_index_free(ix);
	return err;
}

void sg_notes_index_free(sg_notes_index *ix)
{
	if (!ix)
		return;
	git_blob_free(ix->blob);
	git_tree_free(ix->tree);
	sg_event_scratch_release(&ix->scratch);
	cache_unmap(ix);
	sg_buf_dispose(&ix->image);
	free(ix->path);
	free(ix->ref);
	free(ix);
}

const sg_index_stats *sg_notes_index_stats(const sg_notes_index *ix)
{
	return &ix->stats;
}

size_t sg_notes_index_count(const sg_notes_index *ix)
{
	return ix->h ? ix->h->nevents : 0;
}

int64_t sg_notes_index_signed_at(const sg_notes_index *ix, size_t i)
{
	return ix->ev[i].signed_at;
}

/* --- lookups ------------------------------------------------------------ */

/* First position in by[key] whose key is >= the prefix (upper: > the
 * prefix's range). */
static size_t bound(const sg_notes_index *ix, int key, const char *q, size_t qlen, int upper)
{
	size_t lo = 0, hi = ix->h->nevents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ix->ev[ix->by[key][mid]].key[key], q, qlen);

		if (c < 0 || (upper && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int sg_notes_index_find(uint32_t **out, size_t *n, const sg_notes_index *ix, sg_index_key key,
			const char *prefix)
{
	char q[SG_INDEX_KEY_LEN];
	size_t qlen, lo, hi;
	uint32_t *v = NULL;

	*out = NULL;
	*n = 0;
	if (!ix->h || !ix->h->nevents)
		return SG_OK;
	key_of(q, prefix);
	qlen = strnlen(q, SG_INDEX_KEY_LEN);
	lo = bound(ix, key, q, qlen, 0);
	hi = bound(ix, key, q, qlen, 1);
	if (hi > lo) {
		if (!(v = malloc((hi - lo) * sizeof(*v))))
			return sg_error_set(SG_ERROR, "out of memory");
		memcpy(v, ix->by[key] + lo, (hi - lo) * sizeof(*v));
		qsort(v, hi - lo, sizeof(*v), u32_cmp);
	}
	*out = v;
	*n = hi - lo;
	return SG_OK;
}

void sg_notes_index_on(size_t *first, size_t *n, const sg_notes_index *ix, const git_oid *annotated)
{
	ssize_t k = sg_notes_index_note_of(ix, annotated);

	*first = k < 0 ? 0 : ix->notes[k].first;
	*n = k < 0 ? 0 : ix->notes[k].n;
}

size_t sg_notes_index_notes(const sg_notes_index *ix)
{
	return ix->h ? ix->h->nnotes : 0;
}

ssize_t sg_notes_index_note_of(const sg_notes_index *ix, const git_oid *annotated)
{
	size_t lo = 0, hi = ix->h ? ix->h->nnotes : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ix->notes[mid].annotated, annotated->id, GIT_OID_RAWSZ);

		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int sg_notes_index_problems(sg_parse_report *rep, git_oid *annotated, const sg_notes_index *ix, size_t note)
{
	const ix_note *n = &ix->notes[note];
	const char *p = ix->problems + n->prob_off, *end = p + n->prob_len;
	int err = SG_OK;

	memset(rep, 0, sizeof(*rep));
	memcpy(annotated->id, n->annotated, GIT_OID_RAWSZ);
	rep->skipped = n->skipped;
	rep->bad = n->bad;
	while (p < end && err == SG_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		char *line = strndup(p, len);

		err = line ? sg_strlist_add(&rep->problems, line) : sg_error_set(SG_ERROR, "out of memory");
		free(line);
		p += len + 1;
	}
	if (err < 0)
		sg_parse_report_release(rep);
	return err;
}

/* --- reading again ------------------------------------------------------ */

static int blank_line(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n' && s[i] != '\f' && s[i] != '\v')
			return 0;
	return 1;
}

/* [off, off + len) is exactly one paragraph of text as the parser splits
 * it: it starts the text or follows a blank line, ends the text or is
 * followed by one (a blank line inside makes sg_event_parse_paragraph
 * refuse it). */
static int whole_paragraph(const char *text, size_t tlen, size_t off, size_t len)
{
	const char *p = text + off, *end = p + len, *q;

	if (len == 0 || off > tlen || len > tlen - off)
		return 0;
	if (off) {
		if (text[off - 1] != '\n')
			return 0;
		for (q = text + off - 1; q > text && q[-1] != '\n'; q--)
			;
		if (!blank_line(q, (size_t)(text + off - 1 - q)))
			return 0;
	}
	if (end < text + tlen) {
		if (end[-1] != '\n')
			return 0;
		q = memchr(end, '\n', (size_t)(text + tlen - end));
		if (!blank_line(end, (size_t)((q ? q : text + tlen) - end)))
			return 0;
	}
	return !blank_line(p, (size_t)(end - p));
}

/* The index disagrees with the notes: drop the cache file. */
static int disagree(sg_notes_index *ix, const char *hex, const char *what)
{
	if (ix->path)
		unlink(ix->path);
	return sg_error_set(SG_ERROR, "the events index of %s disagrees with the note on %s (%s); it was "
			    "removed and is rebuilt on the next run", ix->ref, hex, what);
}

static int load_note(sg_notes_index *ix, size_t note)
{
	const ix_note *n = &ix->notes[note];
	char hex[GIT_OID_HEXSZ + 1];
	git_oid a, blob;
	int r;

	git_blob_free(ix->blob);
	ix->blob = NULL;
	ix->cur_note = (size_t)-1;
	memcpy(a.id, n->annotated, GIT_OID_RAWSZ);
	git_oid_tostr(hex, sizeof(hex), &a);
	if ((r = sg_notes_find_blob(&blob, NULL, ix->repo, ix->tree, hex)) < 0)
		return r;
	if (r == 0 || memcmp(blob.id, n->blob, GIT_OID_RAWSZ) != 0)
		return disagree(ix, hex, "another note blob");
	if (git_blob_lookup(&ix->blob, ix->repo, &blob) < 0)
		return sg_git_fail(SG_ERROR, "cannot read a note");
	if ((size_t)git_blob_rawsize(ix->blob) > SG_NOTES_MAX)
		return disagree(ix, hex, "an oversized note");
	ix->text_len = (size_t)git_blob_rawsize(ix->blob);
	ix->cur_note = note;
	return SG_OK;
}

const char *sg_notes_index_note_text(const sg_notes_index *ix, size_t *len)
{
	*len = ix->blob ? ix->text_len : 0;
	return ix->blob ? git_blob_rawcontent(ix->blob) : NULL;
}

int sg_notes_index_read(const sg_event **ev, git_oid *annotated, sg_notes_index *ix, size_t i)
{
	const ix_event *x;
	const char *text;
	char hex[GIT_OID_HEXSZ + 1];
	int r;

	if (!ix->h || i >= ix->h->nevents)
		return sg_error_set(SG_ERROR, "no event %zu in the events index of %s", i, ix->ref);
	x = &ix->ev[i];
	if (ix->cur_note != x->note && (r = load_note(ix, x->note)) < 0)
		return r;
	memcpy(annotated->id, ix->notes[x->note].annotated, GIT_OID_RAWSZ);
	git_oid_tostr(hex, sizeof(hex), annotated);
	text = git_blob_rawcontent(ix->blob);
	if (!whole_paragraph(text, ix->text_len, x->off, x->len))
		return disagree(ix, hex, "not a paragraph");
	if ((r = sg_event_parse_paragraph(&ix->scratch, text + x->off, x->len)) < 0)
		return r;
	if (r == 0)
		return disagree(ix, hex, "not an event");
	*ev = &ix->scratch.ev;
	return SG_OK;
}
