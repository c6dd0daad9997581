/* Whether an event paragraph is attested (DESIGN.md 4a). One context per
 * run keeps the summary of each attestation paragraph (summary.c: its
 * envelope parsed and its signature checked once per profile), so a
 * 1,000-event batch costs one envelope parse and one signature check. */
#include "attest/judge_int.h"
#include "core/error.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Summaries kept per context, most recent first: `log` reads a batch's
 * events together, so a few suffice, and memory stays bounded however many
 * batches the history holds (an evicted one is judged again if needed). */
#define SUM_CACHE_MAX 4

struct sg_attest_ctx {
	const sg_policy *pol;
	sg_att_summary *sums;     /* keyed by the paragraph's digest, never by its claimed sha */
	sg_att_vcache *vc;        /* the local verdict cache (listing only; NULL: none) */
	unsigned char polkey[32]; /* sg_att_policy_key */
	int recheck;
	sg_attest_stats stats;
	char reason[1024];
	sg_attest_note *last;     /* sg_attest_judge_at's note */
	char *last_ref;
	git_oid last_commit;
};

struct sg_attest_note {
	sg_attest_ctx *c;
	char commit[GIT_OID_HEXSZ + 1];
	sg_event *paras;
	size_t n;
	unsigned char (*pkey)[32];  /* each paragraph's digest, computed on first use */
	char *pkey_done;
};

int sg_attest_ctx_new(sg_attest_ctx **out, const sg_policy *pol)
{
	sg_attest_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return sg_error_set(SG_ERROR, "out of memory");
	c->pol = pol;
	*out = c;
	return SG_OK;
}

void sg_attest_ctx_free(sg_attest_ctx *c)
{
	sg_att_summary *s, *next;

	if (!c)
		return;
	for (s = c->sums; s; s = next) {
		next = s->next;
		sg_att_summary_free(s);
	}
	sg_att_vcache_free(c->vc);
	sg_attest_note_free(c->last);
	free(c->last_ref);
	free(c);
}

int sg_attest_ctx_use_cache(sg_attest_ctx *c, git_repository *repo)
{
	char *dir = NULL;
	int err;

	if (c->vc)
		return SG_OK;
	if ((err = sg_att_policy_key(c->polkey, c->pol)) < 0)
		return err;
	if (asprintf(&dir, "%ssigngate", git_repository_commondir(repo)) < 0)
		return sg_error_set(SG_ERROR, "out of memory");
	err = sg_att_vcache_open(&c->vc, dir);
	free(dir);
	return err;
}

void sg_attest_ctx_save(sg_attest_ctx *c)
{
	if (c->vc && sg_att_vcache_save(c->vc) < 0)
		sg_error_clear(); /* a cache that cannot be written is judged again next time */
}

void sg_attest_ctx_recheck(sg_attest_ctx *c)
{
	c->recheck = 1;
}

const sg_attest_stats *sg_attest_ctx_stats(const sg_attest_ctx *c)
{
	return &c->stats;
}

int sg_attest_note_open(sg_attest_note **out, sg_attest_ctx *c, const git_oid *commit,
			const char *text, size_t len)
{
	sg_attest_note *n = calloc(1, sizeof(*n));
	int err;

	if (!n)
		return sg_error_set(SG_ERROR, "out of memory");
	n->c = c;
	git_oid_tostr(n->commit, sizeof(n->commit), commit);
	if ((err = sg_attestations_parse(&n->paras, &n->n, text ? text : "", text ? len : 0)) < 0) {
		/* a note we cannot read attests nothing */
		sg_error_clear();
		n->paras = NULL;
		n->n = 0;
	}
	*out = n;
	return SG_OK;
}

void sg_attest_note_free(sg_attest_note *n)
{
	if (!n)
		return;
	sg_events_free(n->paras, n->n);
	free(n->pkey);
	free(n->pkey_done);
	free(n);
}

/* ---- one paragraph's summary, judged once per run ---- */

/* Keep s first in the context's list, dropping the oldest past the bound. */
static void remember(sg_attest_ctx *c, sg_att_summary *s)
{
	sg_att_summary *e;
	size_t i;

	s->next = c->sums;
	c->sums = s;
	for (e = s, i = 0; e->next && i + 1 < SUM_CACHE_MAX; i++)
		e = e->next;
	while (e->next) {
		sg_att_summary *old = e->next;

		e->next = old->next;
		sg_att_summary_free(old);
	}
}

/* Where paragraph i of the note is kept in the verdict cache: its digest,
 * the note's commit and every other input of the judgement. */
static int cache_key(unsigned char out[32], const sg_attest_ctx *c, const sg_attest_note *n, size_t i)
{
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(h, "signgate verdict key v1", 23) == 1 && EVP_DigestUpdate(h, n->pkey[i], 32) == 1 &&
		 EVP_DigestUpdate(h, n->commit, GIT_OID_HEXSZ) == 1 && EVP_DigestUpdate(h, c->polkey, 32) == 1 &&
		 EVP_DigestFinal_ex(h, out, NULL) == 1;

	EVP_MD_CTX_free(h);
	return ok ? SG_OK : sg_error_set_openssl(SG_ERROR, "cannot hash a verdict's key");
}

/* 1 and the cached summary of paragraph i; 0 when there is none that
 * checks out (a damaged or foreign entry is a miss, never an answer). */
static int from_cache(sg_att_summary **out, sg_attest_ctx *c, const sg_attest_note *n, size_t i)
{
	unsigned char key[32];
	sg_buf v = SG_BUF_INIT;
	int r = 0;

	if (cache_key(key, c, n, i) == SG_OK && sg_att_vcache_get(&v, c->vc, key) == 1 &&
	    sg_att_summary_decode(out, v.ptr, v.size, c->pol) == SG_OK) {
		memcpy((*out)->pkey, n->pkey[i], 32);
		c->stats.cached++;
		r = 1;
	}
	sg_error_clear();
	sg_buf_dispose(&v);
	return r;
}

/* Best effort: an entry that cannot be written is judged again next time. */
static void to_cache(sg_attest_ctx *c, const sg_attest_note *n, size_t i, const sg_att_summary *s)
{
	unsigned char key[32];
	sg_buf v = SG_BUF_INIT;

	if (cache_key(key, c, n, i) < 0 || sg_att_summary_encode(&v, s) < 0 ||
	    sg_att_vcache_put(c->vc, key, v.ptr, v.size) < 0)
		sg_error_clear();
	sg_buf_dispose(&v);
}

/* Two summaries say the same (their cache bytes are equal). */
static int same_summary(const sg_att_summary *a, const sg_att_summary *b)
{
	sg_buf x = SG_BUF_INIT, y = SG_BUF_INIT;
	int same = sg_att_summary_encode(&x, a) == SG_OK && sg_att_summary_encode(&y, b) == SG_OK &&
		   x.size == y.size && memcmp(x.ptr, y.ptr, x.size) == 0;

	sg_error_clear();
	sg_buf_dispose(&x);
	sg_buf_dispose(&y);
	return same;
}

/* The summary of paragraph `para`: each paragraph by its own digest (two
 * copies of an envelope with other certificates are two paragraphs, so a
 * forged copy read first cannot spoil the genuine one's verdict). */
static int summary_of(const sg_att_summary **out, sg_attest_note *n, size_t i)
{
	sg_attest_ctx *c = n->c;
	const sg_event *para = &n->paras[i];
	sg_att_summary *s, *prev = NULL;
	int err, hit;

	if (!n->pkey && (!(n->pkey = calloc(n->n, sizeof(*n->pkey))) || !(n->pkey_done = calloc(n->n, 1))))
		return sg_error_set(SG_ERROR, "out of memory");
	if (!n->pkey_done[i] && (err = sg_att_para_key(n->pkey[i], para)) < 0)
		return err;
	n->pkey_done[i] = 1;
	for (s = c->sums; s; prev = s, s = s->next)
		if (memcmp(s->pkey, n->pkey[i], sizeof(s->pkey)) == 0) {
			if (prev) { /* most recent first */
				prev->next = s->next;
				s->next = c->sums;
				c->sums = s;
			}
			*out = s;
			return SG_OK;
		}
	hit = c->vc ? from_cache(&s, c, n, i) : 0;
	if (!hit || c->recheck) {
		sg_att_summary *cached = hit ? s : NULL;

		err = sg_att_summary_build(&s, para, c->pol);
		if (err == SG_OK && cached && !same_summary(cached, s))
			c->stats.disagreed++;
		sg_att_summary_free(cached);
		if (err < 0)
			return err;
		c->stats.judged++;
		if (c->vc && s->cacheable)
			to_cache(c, n, i, s);
	}
	remember(c, s);
	*out = s;
	return SG_OK;
}

/* ---- the statement against the paragraph ---- */

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcasecmp(a, b) == 0);
}

/* NULL when the statement says what the paragraph says, else why not. */
static const char *statement_mismatch(const sg_att_summary *s, const sg_event *ev, const char *commit,
				      const char **profile, sg_buf *nb)
{
	const char *name = sg_event_get(ev, "Artifact"), *sha = sg_event_get(ev, "Artifact-Sha256");
	const char *evid = sg_event_get(ev, "Signer-Cert-Sha256"), *id;
	const sg_att_subject *subj;

	if (!evid)
		evid = sg_event_get(ev, "Signer-Key-Fingerprint");
	if (!name || !sha)
		return "the paragraph has no Artifact and Artifact-Sha256";
	if (sg_attest_name(nb, name) < 0) {
		sg_error_clear();
		return "the paragraph's Artifact cannot be read";
	}
	subj = sg_att_subject_find(s, nb->ptr);
	if (!subj || !same(sg_att_str(s, subj->sha256), sha))
		return "the attestation has no subject with this Artifact and Artifact-Sha256";
	if (!same(sg_att_str(s, s->commit), commit))
		return "the attestation is for another commit than the one this note is on";
	*profile = sg_att_str(s, subj->profile);
	id = sg_att_str(s, subj->id);
	if (!*profile || !id || !same(*profile, sg_event_get(ev, "Profile")))
		return "the attestation names another profile than the paragraph";
	if (!same(id, evid))
		return "the attestation names another signer than the paragraph";
	if (!same(sg_att_str(s, subj->sig_sha), sg_event_get(ev, "Signature-Sha256")))
		return "the attestation records another Signature-Sha256 than the paragraph";
	if (!same(sg_att_str(s, s->tag), sg_event_get(ev, "Tag")))
		return "the attestation names another tag than the paragraph";
	return NULL;
}

static void say(sg_attest_verdict *out, sg_attest_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(sg_attest_verdict *out, sg_attest_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	out->reason = c->reason;
}

/* The event against one attestation paragraph named by its sha. */
static int judge_by(sg_attest_verdict *out, sg_attest_note *n, size_t para, const sg_event *ev,
		    const char *sha)
{
	sg_attest_ctx *c = n->c;
	const sg_att_summary *s = NULL;
	const sg_att_pv *pv;
	const sg_profile *prof;
	const char *why, *pname = NULL;
	sg_buf nb = SG_BUF_INIT;
	int err;

	if ((err = summary_of(&s, n, para)) < 0)
		return err;
	if (s->bad) {
		say(out, c, "attestation %.12s: %s", sha, sg_att_str(s, s->bad));
		return SG_OK;
	}
	why = statement_mismatch(s, ev, n->commit, &pname, &nb);
	sg_buf_dispose(&nb);
	if (why) {
		say(out, c, "attestation %.12s: %s", sha, why);
		return SG_OK;
	}
	if (!c->pol || !(prof = sg_policy_profile(c->pol, pname)) || !(pv = sg_att_pv_find(s, pname))) {
		say(out, c, "attestation %.12s: profile \"%s\" is not in the policy", sha, pname);
		return SG_OK;
	}
	if (pv->state == SG_ATT_ERROR)
		return sg_error_set(SG_ERROR, "%s", sg_att_str(s, pv->reason));
	if (pv->state != SG_ATT_OK) {
		say(out, c, "attestation %.12s: %s", sha, sg_att_str(s, pv->reason));
		return SG_OK;
	}
	out->test = prof->test;
	out->attested = 1;
	return SG_OK;
}

int sg_attest_judge(sg_attest_verdict *out, sg_attest_note *n, const sg_event *ev)
{
	sg_attest_ctx *c = n->c;
	const char *sha = sg_event_get(ev, SG_ATTEST_SHA_KEY), *v;
	char first[sizeof(c->reason)] = "";
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	if (!sha || strlen(sha) != 64) {
		say(out, c, "no %s: written by hand or by a signgate before attestations", SG_ATTEST_SHA_KEY);
		return SG_OK;
	}
	/* every paragraph that names this sha is judged on its own (a copy
	 * with other certificates or other bytes may stand before the genuine
	 * one); the first that attests the event wins */
	for (i = 0; i < n->n; i++) {
		if (!(v = sg_event_get(&n->paras[i], SG_ATTEST_SHA_KEY)) || strcasecmp(v, sha) != 0)
			continue;
		if ((err = judge_by(out, n, i, ev, sha)) < 0)
			return err;
		if (out->attested)
			break;
		if (!first[0])
			snprintf(first, sizeof(first), "%s", out->reason);
	}
	snprintf(out->envelope, sizeof(out->envelope), "%s", sha);
	if (out->attested) {
		out->reason = NULL;
		return SG_OK;
	}
	if (first[0])
		say(out, c, "%s", first);
	else
		say(out, c, "its attestation %.12s is not in the note", sha);
	return SG_OK;
}

int sg_attest_judge_at(sg_attest_verdict *out, sg_attest_ctx *c, git_repository *repo,
		       const char *notes_ref, const git_oid *commit, const sg_event *ev)
{
	sg_buf text = SG_BUF_INIT;
	int err = SG_OK;

	if (!sg_event_get(ev, SG_ATTEST_SHA_KEY)) {
		/* nothing to look up: judged without reading the note */
		sg_attest_note none = { c, "", NULL, 0, NULL, NULL };
		return sg_attest_judge(out, &none, ev);
	}
	if (!c->last || !c->last_ref || strcmp(c->last_ref, notes_ref) != 0 ||
	    !git_oid_equal(&c->last_commit, commit)) {
		sg_attest_note_free(c->last);
		c->last = NULL;
		free(c->last_ref);
		if (!(c->last_ref = strdup(notes_ref)))
			return sg_error_set(SG_ERROR, "out of memory");
		err = sg_notes_read(&text, repo, notes_ref, commit, SG_NOTES_MAX);
		if (err == SG_ENOTFOUND) {
			sg_error_clear();
			err = SG_OK;
		}
		if (err == SG_OK)
			err = sg_attest_note_open(&c->last, c, commit, text.ptr, text.size);
		sg_buf_dispose(&text);
		if (err < 0)
			return err;
		c->last_commit = *commit;
	}
	return sg_attest_judge(out, c->last, ev);
}
