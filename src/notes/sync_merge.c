/* Merging notes histories for `signgate sync`: the union of the events on
 * every annotated commit, written as a real merge commit (both parents) so
 * the result fast-forwards both sides. */
#include "notes/notes.h"
#include "core/error.h"
#include "core/git.h"
#include "core/str.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* --- text: the union of paragraphs ---------------------------------------- */

typedef struct para {
	char *text;               /* lines with trailing whitespace trimmed, no final newline */
	size_t len;
	unsigned char id[SHA256_DIGEST_LENGTH]; /* identity: the event's canonical form, or the text */
	size_t order;
	int dup;
} para;

typedef struct para_list {
	para *v;
	size_t n, alloc;
} para_list;

static void paras_release(para_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* An event is identified by its parsed form (so CRLF or a re-wrapped
 * continuation line is the same event); any other paragraph by its text. */
static int para_identify(para *p)
{
	sg_event *ev = NULL;
	size_t n = 0, skipped = 0;
	sg_buf canon = SG_BUF_INIT;
	int ret;

	if ((ret = sg_events_parse(&ev, &n, &skipped, p->text, p->len)) < 0)
		goto done;
	if (n == 1 && skipped == 0) {
		if ((ret = sg_buf_put(&canon, "event\n", 6)) < 0 || (ret = sg_event_format(&ev[0], &canon)) < 0)
			goto done;
	} else if ((ret = sg_buf_put(&canon, "text\n", 5)) < 0 || (ret = sg_buf_put(&canon, p->text, p->len)) < 0) {
		goto done;
	}
	SHA256((const unsigned char *)canon.ptr, canon.size, p->id);
	ret = SG_OK;
done:
	sg_events_free(ev, n);
	sg_buf_dispose(&canon);
	return ret;
}

static int para_push(para_list *l, const char *start, const char *end)
{
	sg_buf b = SG_BUF_INIT;
	const char *p = start;
	para *np;
	int ret;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		size_t len = (size_t)((eol ? eol : end) - p);

		while (len && is_ws(p[len - 1]))
			len--;
		if ((b.size && (ret = sg_buf_put(&b, "\n", 1)) < 0) || (ret = sg_buf_put(&b, p, len)) < 0)
			goto done;
		p = next;
	}
	if ((ret = sg_array_reserve((void **)&l->v, &l->alloc, l->n, 16, sizeof(*l->v))) < 0)
		goto done;
	np = &l->v[l->n];
	memset(np, 0, sizeof(*np));
	np->len = b.size;
	np->order = l->n;
	if (!(np->text = sg_buf_detach(&b))) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	l->n++;
	if ((ret = para_identify(np)) < 0)
		goto done;
	ret = SG_OK;
done:
	sg_buf_dispose(&b);
	return ret;
}

static int line_blank(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_ws(p[i]))
			return 0;
	return 1;
}

/* Split text into paragraphs (blank lines separate them). */
static int para_split(para_list *l, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *start = NULL;
	int ret;

	for (;;) {
		const char *eol = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const char *next = eol ? eol + 1 : end;
		int blank = p >= end || line_blank(p, (size_t)((eol ? eol : end) - p));

		if (blank && start) {
			if ((ret = para_push(l, start, p)) < 0)
				return ret;
			start = NULL;
		} else if (!blank && !start) {
			start = p;
		}
		if (p >= end)
			break;
		p = next;
	}
	return SG_OK;
}

static int para_cmp_id(const void *a, const void *b)
{
	const para *x = *(para *const *)a, *y = *(para *const *)b;
	int c = memcmp(x->id, y->id, sizeof(x->id));

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int has_prefix(const char *s, size_t len, const char *prefix, size_t plen)
{
	return plen <= len && (plen == 0 || memcmp(s, prefix, plen) == 0);
}

/* Paragraphs [from, l->n) that are not duplicates, appended to res, each
 * after a blank line. */
static int put_new_paragraphs(sg_buf *res, const para_list *l, size_t from)
{
	size_t i;
	int ret = SG_OK;

	for (i = from; i < l->n && ret == SG_OK; i++) {
		if (l->v[i].dup)
			continue;
		if (memchr(l->v[i].text, '\0', l->v[i].len))
			return sg_error_set(SG_ERROR, "the local note has a paragraph holding a NUL byte that the "
					    "remote lacks; signgate will not add it (a server refuses it): remove "
					    "it by hand (git notes --ref REF edit)");
		if ((ret = sg_buf_puts(res, sg_notes_paragraph_break(res->ptr, res->size))) < 0 ||
		    (ret = sg_buf_put(res, l->v[i].text, l->v[i].len)) < 0 || (ret = sg_buf_put(res, "\n", 1)) < 0)
			ret = sg_error_set(SG_ERROR, "the merged note would exceed %d bytes; "
					   "record under another notes ref", SG_NOTES_MAX);
	}
	return ret;
}

int sg_notes_merge_text(sg_buf *out, const char *ours, size_t olen, const char *theirs, size_t tlen)
{
	para_list l = { NULL, 0, 0 };
	para **byid = NULL;
	sg_buf res = SG_BUF_INIT;
	size_t i, nt;
	int ret;

	sg_buf_init(&res, SG_NOTES_MAX);
	if (!ours)
		olen = 0;
	if (!theirs)
		tlen = 0;
	if (olen > SG_NOTES_MAX || tlen > SG_NOTES_MAX) {
		ret = sg_error_set(SG_ERROR, "a note is over %d bytes; signgate will not merge it", SG_NOTES_MAX);
		goto done;
	}
	/* one side only appended to the other: the longer one, as it is */
	if (has_prefix(ours, olen, theirs, tlen) || has_prefix(theirs, tlen, ours, olen)) {
		ret = sg_buf_put(&res, olen >= tlen ? ours : theirs, olen >= tlen ? olen : tlen);
		goto publish;
	}
	if ((ret = para_split(&l, theirs, tlen)) < 0)
		goto done;
	nt = l.n;
	if ((ret = para_split(&l, ours, olen)) < 0)
		goto done;
	if (l.n && !(byid = malloc(l.n * sizeof(*byid)))) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < l.n; i++)
		byid[i] = &l.v[i];
	if (l.n)
		qsort(byid, l.n, sizeof(*byid), para_cmp_id);
	/* Same identity: keep the first (the remote's, then order in the note). */
	for (i = 1; i < l.n; i++)
		if (memcmp(byid[i]->id, byid[i - 1]->id, sizeof(byid[i]->id)) == 0)
			byid[i]->dup = 1;
	/* The remote's text byte for byte (its server keeps notes append-only),
	 * then the local paragraphs it lacks. */
	if ((ret = sg_buf_put(&res, theirs, tlen)) < 0 || (ret = put_new_paragraphs(&res, &l, nt)) < 0)
		goto done;
publish:
	if (ret < 0)
		goto done;
	sg_buf_clear(out);
	if ((ret = sg_buf_put(out, res.ptr ? res.ptr : "", res.size)) < 0)
		goto done;
	ret = SG_OK;
done:
	free(byid);
	paras_release(&l);
	sg_buf_dispose(&res);
	return ret;
}

/* --- trees: the union of notes -------------------------------------------- */

typedef struct nent {
	git_oid annotated;
	git_oid blob;
	int side;   /* 0 ours, 1 theirs */
	size_t seq;
} nent;

typedef struct nent_list {
	nent *v;
	size_t n, alloc;
} nent_list;

static int collect_notes(nent_list *l, git_repository *repo, git_commit *c, int side)
{
	git_note_iterator *it = NULL;
	git_oid blob, annotated;
	int r, ret;

	if (git_note_commit_iterator_new(&it, c) < 0)
		return sg_git_fail(SG_ERROR, "cannot list the notes");
	while ((r = git_note_next(&blob, &annotated, it)) == 0) {
		if ((ret = sg_array_reserve((void **)&l->v, &l->alloc, l->n, 64, sizeof(*l->v))) < 0)
			goto done;
		git_oid_cpy(&l->v[l->n].annotated, &annotated);
		git_oid_cpy(&l->v[l->n].blob, &blob);
		l->v[l->n].side = side;
		l->v[l->n].seq = l->n;
		l->n++;
	}
	if (r != GIT_ITEROVER) {
		ret = sg_git_fail(SG_ERROR, "cannot list the notes");
		goto done;
	}
	ret = SG_OK;
done:
	(void)repo;
	git_note_iterator_free(it);
	return ret;
}

static int nent_cmp(const void *a, const void *b)
{
	const nent *x = a, *y = b;
	int c = git_oid_cmp(&x->annotated, &y->annotated);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* out: the note blob `id` alone (what signgate will merge: at most SG_NOTES_MAX bytes). */
static int read_blob(sg_buf *out, git_repository *repo, const git_oid *id)
{
	sg_buf_clear(out);
	return sg_notes_read_blob(out, repo, id, SG_NOTES_MAX);
}

/* The note for one annotated object from entries [v, v+n): every distinct
 * blob, folded into one text (ours first). */
static int merge_group(git_oid *out, git_repository *repo, const nent *v, size_t n, size_t *merged)
{
	sg_buf acc = SG_BUF_INIT, next = SG_BUF_INIT, tmp = SG_BUF_INIT;
	size_t i, j, distinct = 0;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = SG_OK;

	git_oid_tostr(hex, sizeof(hex), &v[0].annotated);
	for (i = 0; i < n; i++) {
		for (j = 0; j < i && !git_oid_equal(&v[j].blob, &v[i].blob); j++)
			;
		if (j < i)
			continue;
		if (distinct++ == 0) {
			if ((ret = read_blob(&acc, repo, &v[i].blob)) < 0)
				goto done;
			continue;
		}
		if ((ret = read_blob(&next, repo, &v[i].blob)) < 0 ||
		    (ret = sg_notes_merge_text(&tmp, acc.ptr, acc.size, next.ptr, next.size)) < 0) {
			ret = sg_error_set(SG_ERROR, "cannot merge the notes on %s: %s", hex, sg_error_last());
			goto done;
		}
		sg_buf_clear(&acc);
		if ((ret = sg_buf_put(&acc, tmp.ptr, tmp.size)) < 0)
			goto done;
	}
	if (distinct == 1) {
		git_oid_cpy(out, &v[0].blob);
		goto done;
	}
	if (git_blob_create_from_buffer(out, repo, acc.ptr ? acc.ptr : "", acc.size) < 0) {
		ret = sg_git_fail(SG_ERROR, "cannot write a merged note");
		goto done;
	}
	(*merged)++;
done:
	sg_buf_dispose(&acc);
	sg_buf_dispose(&next);
	sg_buf_dispose(&tmp);
	return ret;
}

/* Entries of a notes tree that are not notes (git keeps them): top level only. */
static int keep_non_notes(git_treebuilder *tb, git_commit *c)
{
	git_tree *tree = NULL;
	size_t i, n;
	int ret = SG_OK;

	if (git_commit_tree(&tree, c) < 0)
		return sg_git_fail(SG_ERROR, "cannot read a notes tree");
	n = git_tree_entrycount(tree);
	for (i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);

		if (sg_str_is_hex(name, GIT_OID_HEXSZ) ||
		    (sg_str_is_hex(name, 2) && git_tree_entry_type(e) == GIT_OBJECT_TREE) ||
		    git_treebuilder_get(tb, name))
			continue;
		if (git_treebuilder_insert(NULL, tb, name, git_tree_entry_id(e), git_tree_entry_filemode(e)) < 0) {
			ret = sg_git_fail(SG_ERROR, "cannot build the merged notes tree");
			break;
		}
	}
	git_tree_free(tree);
	return ret;
}

int sg_notes_merge_commits(git_oid *out, size_t *notes_merged, git_repository *repo,
			   const git_oid *ours, const git_oid *theirs, const char *message)
{
	git_commit *c[2] = { NULL, NULL };
	git_treebuilder *tb = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	nent_list l = { NULL, 0, 0 };
	git_oid tree_id, blob, id;
	size_t i, j, merged = 0;
	char hex[GIT_OID_HEXSZ + 1];
	int ret;

	if (git_commit_lookup(&c[0], repo, ours) < 0 || git_commit_lookup(&c[1], repo, theirs) < 0) {
		ret = sg_git_fail(SG_ERROR, "cannot read a notes commit");
		goto done;
	}
	if ((ret = collect_notes(&l, repo, c[0], 0)) < 0 || (ret = collect_notes(&l, repo, c[1], 1)) < 0)
		goto done;
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), nent_cmp);
	if (git_treebuilder_new(&tb, repo, NULL) < 0) {
		ret = sg_git_fail(SG_ERROR, "cannot build the merged notes tree");
		goto done;
	}
	for (i = 0; i < l.n; i = j) {
		for (j = i + 1; j < l.n && git_oid_equal(&l.v[j].annotated, &l.v[i].annotated); j++)
			;
		if ((ret = merge_group(&blob, repo, &l.v[i], j - i, &merged)) < 0)
			goto done;
		git_oid_tostr(hex, sizeof(hex), &l.v[i].annotated);
		if (git_treebuilder_insert(NULL, tb, hex, &blob, GIT_FILEMODE_BLOB) < 0) {
			ret = sg_git_fail(SG_ERROR, "cannot build the merged notes tree");
			goto done;
		}
	}
	if ((ret = keep_non_notes(tb, c[0])) < 0 || (ret = keep_non_notes(tb, c[1])) < 0)
		goto done;
	if (git_treebuilder_write(&tree_id, tb) < 0 || git_tree_lookup(&tree, repo, &tree_id) < 0) {
		ret = sg_git_fail(SG_ERROR, "cannot write the merged notes tree");
		goto done;
	}
	if (git_signature_default(&sig, repo) < 0 && git_signature_now(&sig, "signgate", "signgate@localhost") < 0) {
		ret = sg_git_fail(SG_ERROR, "cannot make a signature for the notes merge");
		goto done;
	}
	if (git_commit_create(&id, repo, NULL, sig, sig, NULL, message, tree, 2,
			      (const git_commit **)c) < 0) {
		ret = sg_git_fail(SG_ERROR, "cannot write the notes merge commit");
		goto done;
	}
	git_oid_cpy(out, &id);
	if (notes_merged)
		*notes_merged = merged;
	ret = SG_OK;
done:
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	git_commit_free(c[0]);
	git_commit_free(c[1]);
	free(l.v);
	return ret;
}
