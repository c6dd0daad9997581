/* Provenance never moves: a file whose digest is already recorded for
 * another commit is not signed again (it would then name two origins, and
 * `verify` would report the newer one), and a signature file recorded for
 * another commit is never overwritten. Re-signing the same file for the
 * same commit stays possible. The recorded events come from
 * sg_notes_lookup_digests (src/notes/lookup.c); only attested events of
 * a production profile count (sg_attest_judge_at). */
#include "pipeline/run.h"
#include "attest/attest.h"
#include "core/error.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define EXISTING_SIG_MAX (1024 * 1024) /* a larger file is no signature signgate wrote */

/* "3f2a9c1e0b7d (tag v1.0) on 2026-11-30T10:00:00Z (refs/notes/signatures)" */
static void describe(char *out, size_t len, const sg_digest_hit *h)
{
	const char *tag = sg_event_get(&h->ev, "Tag"), *at = sg_event_get(&h->ev, "Signed-At");

	snprintf(out, len, "%.12s%s%s%s on %s (%s)", h->commit, tag ? " (tag " : "", tag ? tag : "",
		 tag ? ")" : "", at ? at : "an unrecorded date", h->notes_ref);
}

/* Does this recorded event hold its file? Only an attested event of a
 * production profile does (DESIGN.md 4a): a paragraph anyone with push
 * access could write must not deny a signing, and a test signing is not
 * a release (a test build released as it is must not be refused). */
static int holds(int *out, const sg_run *run, sg_attest_ctx *ctx, const sg_digest_hit *h)
{
	sg_attest_verdict v;
	git_oid commit;
	int err;

	*out = 0;
	if (git_oid_fromstr(&commit, h->commit) < 0)
		return SG_OK;
	if ((err = sg_attest_judge_at(&v, ctx, run->repo, h->notes_ref, &commit, &h->ev)) < 0)
		return err;
	*out = v.attested && !v.test;
	return SG_OK;
}

static int by_note(const void *a, const void *b, void *hits)
{
	const sg_digest_hits *h = hits;
	const sg_digest_hit *x = &h->v[*(const size_t *)a];
	const sg_digest_hit *y = &h->v[*(const size_t *)b];
	int c = strcmp(x->notes_ref, y->notes_ref);

	return c ? c : strcmp(x->commit, y->commit);
}

/* held[i]: does hit i hold its file for a signing of `commit`? The hits
 * are judged note by note (the context keeps one note open), so a batch
 * whose files were signed before on several commits opens each note once,
 * not once per file and commit. */
static int judge_hits(int **out, const sg_run *run, sg_attest_ctx *ctx, const sg_digest_hits *h,
		      const char *commit)
{
	size_t *order = malloc((h->n ? h->n : 1) * sizeof(*order)), i;
	int *held = calloc(h->n ? h->n : 1, sizeof(*held)), err = SG_OK;

	*out = held;
	if (!order || !held) {
		free(order);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	for (i = 0; i < h->n; i++)
		order[i] = i;
	qsort_r(order, h->n, sizeof(*order), by_note, (void *)h);
	for (i = 0; err == SG_OK && i < h->n; i++) {
		if (strcmp(h->v[order[i]].commit, commit) != 0)
			err = holds(&held[order[i]], run, ctx, &h->v[order[i]]);
	}
	free(order);
	return err;
}

/* A recorded event that holds `digest` (*found NULL when none). */
static const sg_digest_hit *elsewhere(const sg_digest_hits *h, const int *held, const char *digest)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (held[i] && strcasecmp(h->v[i].digest, digest) == 0)
			return &h->v[i];
	return NULL;
}

static int check_artifacts(const sg_run *run, sg_attest_ctx *ctx, const sg_strlist *refs)
{
	sg_digest_hits hits = { NULL, 0, 0 };
	const char **d = calloc(run->n ? run->n : 1, sizeof(*d));
	const sg_digest_hit *h;
	int *held = NULL;
	char where[512];
	size_t i;
	int err;

	if (!d)
		return sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < run->n; i++)
		d[i] = run->items[i].scan.sha256_hex;
	err = sg_notes_lookup_digests(&hits, run->repo, refs, "Artifact-Sha256", d, run->n);
	if (err == SG_OK)
		err = judge_hits(&held, run, ctx, &hits, run->gate->commit);
	for (i = 0; err == SG_OK && i < run->n; i++) {
		if (!(h = elsewhere(&hits, held, d[i])))
			continue;
		describe(where, sizeof(where), h);
		err = sg_error_set(SG_EDENIED, "%s (sha256 %.16s...) is already signed for %s; a file is "
				   "signed for one commit only, and this signing is for %.12s (see: signgate "
				   "verify %s)", run->items[i].display, d[i], where, run->gate->commit,
				   run->items[i].display);
	}
	sg_digest_hits_release(&hits);
	free(held);
	free(d);
	return err;
}

/* SHA-256 hex of the signature file at `path` into out; out[0] = '\0' when
 * there is none (or it is no regular file of a signature's size). */
static int existing_sig(char out[65], const char *path)
{
	sg_buf b = SG_BUF_INIT;
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct stat st;
	int err;

	out[0] = '\0';
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? SG_OK : sg_error_set(SG_ERROR, "cannot read %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size > EXISTING_SIG_MAX)
		return SG_OK;
	if ((err = sg_file_read_all(&b, path, EXISTING_SIG_MAX)) == SG_OK) {
		SHA256((const unsigned char *)(b.ptr ? b.ptr : ""), b.size, md);
		sg_hex(out, md, sizeof(md));
	}
	sg_buf_dispose(&b);
	return err;
}

static int check_signature_files(const sg_run *run, sg_attest_ctx *ctx, const sg_strlist *refs)
{
	sg_digest_hits hits = { NULL, 0, 0 };
	char (*sha)[65] = calloc(run->n ? run->n : 1, sizeof(*sha)), where[512];
	char **paths = calloc(run->n ? run->n : 1, sizeof(*paths));
	const char **d = calloc(run->n ? run->n : 1, sizeof(*d));
	const sg_digest_hit *h;
	int *held = NULL;
	size_t i, n = 0;
	int err = SG_OK;

	if (!sha || !paths || !d)
		err = sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; err == SG_OK && i < run->n; i++) {
		const sg_item *it = &run->items[i];

		if (it->payload) /* its signature goes back to git, no file */
			continue;
		if ((err = sg_run_output_path(&paths[i], run, it, it->slot->be->suffix)) == SG_OK &&
		    (err = existing_sig(sha[i], paths[i])) == SG_OK && sha[i][0])
			d[n++] = sha[i];
	}
	if (err == SG_OK && n)
		err = sg_notes_lookup_digests(&hits, run->repo, refs, "Signature-Sha256", d, n);
	if (err == SG_OK && n)
		err = judge_hits(&held, run, ctx, &hits, run->gate->commit);
	for (i = 0; err == SG_OK && n && i < run->n; i++) {
		if (!sha[i][0] || !(h = elsewhere(&hits, held, sha[i])))
			continue;
		describe(where, sizeof(where), h);
		err = sg_error_set(SG_EDENIED, "%s holds the signature recorded for %s; it is not "
				   "overwritten by a signing for %.12s: sign into another folder (--out DIR) "
				   "or move it away first", paths[i], where, run->gate->commit);
	}
	for (i = 0; paths && i < run->n; i++)
		free(paths[i]);
	sg_digest_hits_release(&hits);
	free(held);
	free(paths);
	free(sha);
	free(d);
	return err;
}

int sg_run_check_provenance(sg_run *run)
{
	sg_strlist refs = SG_STRLIST_INIT;
	sg_attest_ctx *ctx = NULL;
	int err;

	if ((err = sg_notes_event_refs(&refs, run->pol)) == SG_OK &&
	    (err = sg_attest_ctx_new(&ctx, run->pol)) == SG_OK &&
	    (err = check_artifacts(run, ctx, &refs)) == SG_OK)
		err = check_signature_files(run, ctx, &refs);
	sg_attest_ctx_free(ctx);
	sg_strlist_release(&refs);
	return err;
}
