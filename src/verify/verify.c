/* Verify one artifact: its signature (cms or openpgp) against the profile
 * that vouches for it, the timestamp, the revocations in the policy, and
 * the signing event recorded in the notes. Fails closed: `ok` is set only
 * after every check passed. */
#include "verify/verify.h"
#include "attest/attest.h"
#include "core/error.h"
#include "core/file.h"
#include "sign/keys.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>


void sg_verify_result_release(sg_verify_result *r)
{
	free(r->reason);
	free(r->artifact);
	free(r->display);
	free(r->signature);
	free(r->profile);
	free(r->signer_subject);
	free(r->event_ref);
	free(r->signed_at);
	free(r->signed_by);
	free(r->tag);
	sg_strlist_release(&r->warnings);
	memset(r, 0, sizeof(*r));
}

static char *display_name(git_repository *repo, const char *path)
{
	const char *wd = repo ? git_repository_workdir(repo) : NULL;
	char real[PATH_MAX], rbase[PATH_MAX];
	size_t blen;

	if (wd && realpath(wd, rbase) && realpath(path, real)) {
		blen = strlen(rbase);
		if (strncmp(real, rbase, blen) == 0 && real[blen] == '/')
			return strdup(real + blen + 1);
	}
	return strdup(path);
}

/* The signature next to the file: FILE.p7s (cms), else FILE.asc (openpgp). */
static int locate(sg_verify_result *out, const char *path)
{
	static const struct { const char *suffix, *format; } kinds[] = {
		{ ".p7s", "cms" }, { ".asc", "openpgp" },
	};
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char *p = NULL;
		if (asprintf(&p, "%s%s", path, kinds[i].suffix) < 0)
			return sg_error_set(SG_ERROR, "out of memory");
		if (lstat(p, &st) == 0) {
			out->signature = p;
			out->format = kinds[i].format;
			return SG_OK;
		}
		free(p);
	}
	return sg_error_set(SG_EVERIFY, "no signature for %s: neither %s.p7s nor %s.asc exists",
			    path, path, path);
}

static int hash_fd(int fd, unsigned char sha[32], const char *path)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *buf = malloc(1 << 16);
	ssize_t n;
	int ret = SG_ERROR;

	if (!md || !buf || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || lseek(fd, 0, SEEK_SET) != 0) {
		ret = sg_error_set(SG_ERROR, "cannot hash %s", path);
		goto done;
	}
	while ((n = read(fd, buf, 1 << 16)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
			ret = sg_error_set(SG_ERROR, "cannot read %s: %s", path, strerror(errno));
			goto done;
		}
	}
	if (EVP_DigestFinal_ex(md, sha, NULL) != 1) {
		ret = sg_error_set(SG_ERROR, "cannot hash %s", path);
		goto done;
	}
	ret = SG_OK;
done:
	EVP_MD_CTX_free(md);
	free(buf);
	return ret;
}

/* The profiles that may vouch: --profile, else the one whose artifacts
 * globs pick the file, else every profile of the signature's format. */
static int candidates(const sg_profile ***out, size_t *n, const sg_policy *pol,
		      const char *display, const char *name, const char *format)
{
	const sg_profile **v = calloc(pol->nprofiles ? pol->nprofiles : 1, sizeof(*v));
	const sg_profile *one = NULL;
	size_t i, k = 0;

	if (!v)
		return sg_error_set(SG_ERROR, "out of memory");
	if (name) {
		if (!(one = sg_policy_profile(pol, name))) {
			free(v);
			return sg_error_set(SG_EVERIFY, "no profile \"%s\" in the policy (%s)", name,
					    pol->origin);
		}
	} else if (sg_profile_choose(&one, pol, NULL, display) < 0) {
		one = NULL;
		sg_error_clear();
	}
	if (one && strcmp(one->format ? one->format : "cms", format) == 0)
		v[k++] = one;
	else if (one && name) {
		free(v);
		return sg_error_set(SG_EVERIFY, "profile \"%s\" signs with %s, not %s", name,
				    one->format, format);
	} else if (!one) {
		for (i = 0; i < pol->nprofiles; i++)
			if (strcmp(pol->profiles[i].format ? pol->profiles[i].format : "cms", format) == 0)
				v[k++] = &pol->profiles[i];
	}
	if (k == 0) {
		free(v);
		return sg_error_set(SG_EVERIFY, "%s is picked by profile \"%s\", which does not sign "
				    "with %s", display, one ? one->name : "-", format);
	}
	*out = v;
	*n = k;
	return SG_OK;
}

/* Remember the reason of each profile that did not vouch. */
static void note_failure(sg_buf *why, const sg_profile *prof, size_t ncand)
{
	const char *m = sg_error_last() ? sg_error_last() : "failed";

	if (ncand == 1)
		sg_buf_puts(why, m);
	else
		sg_buf_printf(why, "%sprofile %s: %s", why->size ? "; " : "", prof->name, m);
}

static int read_optional(sg_buf *out, const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0 && errno == ENOENT)
		return SG_ENOTFOUND;
	return sg_file_read_all(out, path, SG_SIG_MAX);
}

static int check_signature(sg_verify_result *out, sg_sig_check *chk, const sg_profile **prof,
			   const sg_policy *pol, const sg_verify_opts *opts, const sg_buf *sig,
			   int fd, unsigned char sha[32])
{
	const sg_profile **cand = NULL;
	sg_cms_sig *cms = NULL;
	sg_pgp_sig *pgp = NULL;
	sg_buf tsr = SG_BUF_INIT, why = SG_BUF_INIT;
	char *tsr_path = NULL;
	time_t now = opts->now ? opts->now : time(NULL);
	size_t i, n = 0;
	int err;

	if ((err = candidates(&cand, &n, pol, out->display, opts->profile, out->format)) < 0)
		goto done;
	if (strcmp(out->format, "cms") == 0) {
		if ((err = sg_cms_sig_open(&cms, (const unsigned char *)sig->ptr, sig->size, fd, sha)) < 0)
			goto done;
	} else {
		if ((err = sg_pgp_sig_open(&pgp, (const unsigned char *)sig->ptr, sig->size, fd)) < 0 ||
		    (err = hash_fd(fd, sha, out->artifact)) < 0)
			goto done;
		if (asprintf(&tsr_path, "%s.tsr", out->signature) < 0) {
			err = sg_error_set(SG_ERROR, "out of memory");
			goto done;
		}
		err = read_optional(&tsr, tsr_path);
		if (err < 0 && err != SG_ENOTFOUND)
			goto done;
	}
	sg_hex(out->sha256, sha, 32);
	err = SG_EVERIFY;
	for (i = 0; i < n && err < 0; i++) {
		err = cms ? sg_cms_sig_check(chk, cms, cand[i], now)
			  : sg_pgp_sig_check(chk, pgp, (const unsigned char *)sig->ptr, sig->size,
					     (const unsigned char *)tsr.ptr, tsr.size, cand[i], now);
		if (err == SG_OK)
			*prof = cand[i];
		else if (err == SG_EVERIFY)
			note_failure(&why, cand[i], n);
		else
			goto done;
	}
	if (err < 0)
		err = sg_error_set(SG_EVERIFY, "%s", why.ptr ? why.ptr : "no profile vouches for it");
done:
	sg_cms_sig_free(cms);
	sg_pgp_sig_free(pgp);
	sg_buf_dispose(&tsr);
	sg_buf_dispose(&why);
	free(tsr_path);
	free(cand);
	return err;
}

static int check_revocation(const sg_policy *pol, const sg_sig_check *chk)
{
	char id[129], ts[32];
	const sg_revocation *r;
	size_t i;

	for (i = 0; chk->id[i] && i < sizeof(id) - 1; i++)
		id[i] = (char)(chk->id[i] >= 'A' && chk->id[i] <= 'F' ? chk->id[i] + 32 : chk->id[i]);
	id[i] = '\0';
	r = sg_policy_revocation(pol, id);
	if (!r)
		return SG_OK;
	if (chk->timestamped && chk->ts_time < r->since)
		return SG_OK; /* timestamped before the compromise: still trusted */
	sg_time_format(ts, sizeof(ts), chk->ts_time);
	return sg_error_set(SG_EVERIFY, "certificate %s revoked since %s (%s); the signature %s%s",
			    chk->id, r->since_text, r->reason ? r->reason : "no reason given",
			    chk->timestamped ? "is timestamped " : "has no timestamp",
			    chk->timestamped ? ts : "");
}

/* ---- the signing event ---- */

typedef struct find_state {
	const char *sha, *sig_sha;
	sg_verify_result *out;
	int found;
	char other_sig[65];          /* an event for the artifact with another signature */
	char other_commit[GIT_OID_HEXSZ + 1];
	git_repository *repo;
	sg_attest_ctx *actx;
	char unattested[768];        /* the first matching event that is not attested, and why */
} find_state;

static char *dup_field(const sg_event *ev, const char *key)
{
	const char *v = sg_event_get(ev, key);
	return v ? strdup(v) : NULL;
}

/* Only an attested event counts (DESIGN.md 4a); the first one that is not
 * is remembered for the message. 1 attested, 0 not, < 0 error. */
static int attested(find_state *st, const sg_logged_event *le)
{
	sg_attest_verdict v;
	git_oid commit;
	int err;

	if (git_oid_fromstr(&commit, le->commit) < 0)
		return sg_error_set(SG_ERROR, "bad commit id %s", le->commit);
	if ((err = sg_attest_judge_at(&v, st->actx, st->repo, le->notes_ref, &commit, &le->ev)) < 0)
		return err;
	if (!v.attested && !st->unattested[0])
		snprintf(st->unattested, sizeof(st->unattested), "the signing event on commit %.12s is "
			 "unattested (%s); it is not trusted", le->commit, v.reason);
	return v.attested;
}

/* One event read again from its note: the one recorded (and attested) for
 * this artifact and this signature, or remember it as recording another
 * signature. */
static int match_event(find_state *st, const sg_logged_event *le)
{
	const char *a = sg_event_get(&le->ev, "Artifact-Sha256");
	const char *s = sg_event_get(&le->ev, "Signature-Sha256");
	int r;

	if (!a || strcasecmp(a, st->sha) != 0)
		return SG_OK;
	if (s && strcasecmp(s, st->sig_sha) == 0 && (r = attested(st, le)) <= 0)
		return r;
	if (s && strcasecmp(s, st->sig_sha) == 0) {
		st->found = 1;
		snprintf(st->out->event_commit, sizeof(st->out->event_commit), "%s", le->commit);
		st->out->event_ref = strdup(le->notes_ref);
		st->out->signed_at = dup_field(&le->ev, "Signed-At");
		st->out->signed_by = dup_field(&le->ev, "Signed-By");
		st->out->tag = dup_field(&le->ev, "Tag");
	} else if (!st->other_sig[0]) {
		snprintf(st->other_sig, sizeof(st->other_sig), "%s", s ? s : "(none)");
		snprintf(st->other_commit, sizeof(st->other_commit), "%s", le->commit);
	}
	return SG_OK;
}

static int resolve_commit(git_oid *out, git_repository *repo, const char *rev)
{
	git_object *obj = NULL, *peeled = NULL;
	int ret;

	if (git_revparse_single(&obj, repo, rev) < 0 ||
	    git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		ret = sg_error_set(SG_ERROR, "--rev %s does not name a commit here; fetch it or name one that exists "
				   "(git rev-parse --verify REV)", rev);
	} else {
		git_oid_cpy(out, git_object_id(peeled));
		ret = SG_OK;
	}
	git_object_free(peeled);
	git_object_free(obj);
	return ret;
}

/* 1 when at least one of the notes refs exists here (a fresh clone has none). */
static int any_ref_exists(git_repository *repo, const sg_strlist *refs)
{
	git_oid id;
	size_t i;

	for (i = 0; i < refs->n; i++)
		if (git_reference_name_to_id(&id, repo, refs->v[i]) == 0)
			return 1;
	git_error_clear();
	return 0;
}

/* The recorded event for the artifact: an index lookup by digest (or the
 * notes on --rev's commit), each candidate read again from its note. */
static int find_event(sg_verify_result *out, git_repository *repo, const sg_policy *pol,
		      const char *rev)
{
	sg_strlist refs = SG_STRLIST_INIT;
	sg_buf where = SG_BUF_INIT;
	sg_event_source src;
	sg_event_sel sel = { 0 };
	sg_logged_event le;
	find_state st;
	git_oid commit;
	size_t i;
	int err, opened = 0;

	memset(&st, 0, sizeof(st));
	st.sha = out->sha256;
	st.sig_sha = out->sig_sha256;
	st.out = out;
	st.repo = repo;
	if ((err = sg_verify_notes_refs(&refs, pol)) < 0 || (err = sg_attest_ctx_new(&st.actx, pol)) < 0)
		goto done;
	if (rev && (err = resolve_commit(&commit, repo, rev)) < 0)
		goto done;
	for (i = 0; i < refs.n; i++)
		sg_buf_printf(&where, "%s%s", i ? ", " : "", refs.v[i]);
	if (!any_ref_exists(repo, &refs))
		sg_buf_puts(&where, " (none of them is in this repository: a fresh clone has no notes "
			    "until `signgate sync` fetches them)");
	if ((err = sg_event_source_open(&src, repo, &refs)) < 0)
		goto done;
	opened = 1;
	/* a bad paragraph is skipped, the others still count; say so */
	err = rev ? sg_event_select_commit(&sel, &out->warnings, &src, &commit)
		  : sg_event_select_key(&sel, &src, SG_INDEX_ARTIFACT, st.sha);
	if (err == SG_OK && !rev)
		err = sg_event_source_warnings(&out->warnings, NULL, &src);
	for (i = 0; err == SG_OK && i < sel.n && !st.found; i++)
		if ((err = sg_event_source_read(&le, &src, &sel.v[i])) == SG_OK)
			err = match_event(&st, &le);
	if (err < 0)
		goto done;
	if (st.found)
		goto done;
	if (st.unattested[0])
		err = sg_error_set(SG_EVERIFY, "%s", st.unattested);
	else if (st.other_sig[0])
		err = sg_error_set(SG_EVERIFY, "the signing event for sha256 %s on commit %.12s records "
				   "Signature-Sha256 %s, but %s has sha256 %s: the signature is not "
				   "the one that was recorded", st.sha, st.other_commit, st.other_sig,
				   out->signature, st.sig_sha);
	else if (rev)
		err = sg_error_set(SG_EVERIFY, "no signing event for sha256 %s on commit %s (--rev %s) "
				   "in %s", st.sha, git_oid_tostr_s(&commit), rev, where.ptr);
	else
		err = sg_error_set(SG_EVERIFY, "no signing event for sha256 %s in %s", st.sha, where.ptr);
done:
	sg_attest_ctx_free(st.actx);
	sg_event_sel_release(&sel);
	if (opened)
		sg_event_source_release(&src);
	sg_strlist_release(&refs);
	sg_buf_dispose(&where);
	return err;
}

static int fill_signer(sg_verify_result *out, const sg_sig_check *chk, const sg_profile *prof)
{
	snprintf(out->id_key, sizeof(out->id_key), "%s", chk->id_key);
	snprintf(out->signer_id, sizeof(out->signer_id), "%s", chk->id);
	out->not_after = chk->not_after;
	out->timestamped = chk->timestamped;
	out->ts_time = chk->ts_time;
	if (chk->timestamped)
		sg_time_format(out->ts_text, sizeof(out->ts_text), chk->ts_time);
	out->signer_subject = strdup(chk->subject);
	out->profile = strdup(prof->name);
	out->test = prof->test;
	if (!out->signer_subject || !out->profile)
		return sg_error_set(SG_ERROR, "out of memory");
	if (prof->require_timestamp && !chk->timestamped)
		return sg_error_set(SG_EVERIFY, "profile \"%s\" requires a timestamp and the signature "
				    "has none", prof->name);
	return SG_OK;
}

/* A test profile's signature is not a release signature: it verifies only
 * when that profile is asked for (--profile NAME), so a script that checks
 * the exit status never takes one for a release. */
static int check_test(const sg_profile *prof, const sg_verify_opts *opts)
{
	if (!prof->test || (opts->profile && strcmp(opts->profile, prof->name) == 0))
		return SG_OK;
	return sg_error_set(SG_EVERIFY, "signed by TEST profile \"%s\", not a release signature; "
			    "to accept a test signature, ask for it: signgate --profile %s verify",
			    prof->name, prof->name);
}

static int verify_steps(sg_verify_result *out, git_repository *repo, const sg_policy *pol,
			const char *path, const sg_verify_opts *opts)
{
	sg_buf sig = SG_BUF_INIT;
	sg_sig_check chk;
	const sg_profile *prof = NULL;
	unsigned char sha[32], sig_sha[32];
	struct stat st;
	int fd = -1, err;

	/* a file that is not there cannot be verified: an error, not a verdict */
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return sg_error_set(SG_ERROR, "%s does not exist; give the path of the signed file", path);
	if ((err = locate(out, path)) < 0 ||
	    (err = sg_file_read_all(&sig, out->signature, SG_SIG_MAX)) < 0)
		goto done;
	SHA256((const unsigned char *)sig.ptr, sig.size, sig_sha);
	sg_hex(out->sig_sha256, sig_sha, 32);
	if ((err = sg_file_open_regular(&fd, &st, path)) < 0 ||
	    (err = check_signature(out, &chk, &prof, pol, opts, &sig, fd, sha)) < 0 ||
	    (err = sg_file_check_unchanged(fd, &st, path)) < 0 ||
	    (err = fill_signer(out, &chk, prof)) < 0 ||
	    (err = check_test(prof, opts)) < 0 ||
	    (err = check_revocation(pol, &chk)) < 0 ||
	    (err = find_event(out, repo, pol, opts->rev)) < 0)
		goto done;
	err = SG_OK;
done:
	if (fd >= 0)
		close(fd);
	sg_buf_dispose(&sig);
	return err;
}

int sg_verify_file(sg_verify_result *out, git_repository *repo, const sg_policy *pol,
		   const char *path, const sg_verify_opts *opts)
{
	int ret = SG_EVERIFY, err;

	memset(out, 0, sizeof(*out));
	out->artifact = strdup(path);
	out->display = display_name(repo, path);
	if (!out->artifact || !out->display)
		return sg_error_set(SG_ERROR, "out of memory");
	err = verify_steps(out, repo, pol, path, opts);
	if (err == SG_OK) {
		out->ok = 1;
		ret = SG_OK;
	} else {
		char *m = strdup(sg_error_last() ? sg_error_last() : "verification failed");
		/* every failure names the file */
		if (m && strncmp(m, path, strlen(path)) != 0)
			sg_error_set(err, "%s: %s", path, m);
		free(m);
		out->reason = strdup(sg_error_last() ? sg_error_last() : "verification failed");
		ret = err;
	}
	return ret;
}
