/* git's signing program (gpg.format = x509): a tag payload is signed only
 * when the commit its `object` line names passes the gate; the signature
 * is a detached CMS SignedData, PEM armoured as gpgsm writes it
 * ("-----BEGIN SIGNED MESSAGE-----", the armour git 2.39 recognises for
 * x509). The signing itself is the sign pipeline's (src/pipeline), with
 * the payload as its one artifact: gated, signed, timestamped, recorded and
 * audited like any other; this file only speaks git's protocol. */
#include "hooks/hooks.h"
#include "pipeline/pipeline.h"
#include "core/error.h"
#include "core/file.h"
#include "verify/verify.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PEM_NAME "SIGNED MESSAGE"

/* ---- the payload ---- */

static int header_value(const char *line, size_t len, const char *key, const char **val, size_t *vlen)
{
	size_t kl = strlen(key);

	if (len <= kl || memcmp(line, key, kl) != 0 || line[kl] != ' ')
		return 0;
	*val = line + kl + 1;
	*vlen = len - kl - 1;
	return 1;
}

/* n lowercase hex digits at v (v need not be NUL-terminated: the payload
 * is a buffer, and strspn would read past its end). */
static int lower_hex(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return 0;
	return 1;
}

int sg_tag_payload_parse(sg_tag_payload *out, const char *data, size_t len)
{
	sg_tag_payload p;
	size_t pos = 0, lineno = 0;
	int ret = SG_EUSAGE;

	memset(&p, 0, sizeof(p));
	if (len > SG_X509_PAYLOAD_MAX)
		return sg_error_set(SG_EUSAGE, "the payload is over %d bytes", SG_X509_PAYLOAD_MAX);
	while (pos < len) {
		const char *line = data + pos, *nl = memchr(line, '\n', len - pos), *v;
		size_t l = nl ? (size_t)(nl - line) : len - pos, vl;

		pos += l + 1;
		lineno++;
		if (l == 0)
			break; /* end of the header */
		if (lineno == 1 && header_value(line, l, "tree", &v, &vl)) {
			p.is_commit = 1;
			break;
		}
		if (lineno == 1 && header_value(line, l, "object", &v, &vl) && vl == GIT_OID_HEXSZ &&
		    lower_hex(v, vl)) {
			memcpy(p.object, v, GIT_OID_HEXSZ);
		} else if (lineno == 2 && header_value(line, l, "type", &v, &vl) && vl < sizeof(p.type)) {
			memcpy(p.type, v, vl);
		} else if (lineno == 3 && header_value(line, l, "tag", &v, &vl) && vl > 0 && vl < 1024 &&
			   !memchr(v, '\0', vl)) {
			if (!(p.tag = strndup(v, vl))) {
				ret = sg_error_set(SG_ERROR, "out of memory");
				goto done;
			}
		} else if (lineno <= 3) {
			ret = sg_error_set(SG_EUSAGE, "line %zu of the payload is not what git writes in a tag "
					   "(object, type, tag)", lineno);
			goto done;
		}
	}
	if (!p.is_commit && (!p.object[0] || !p.type[0] || !p.tag)) {
		ret = sg_error_set(SG_EUSAGE, "the payload is neither a git tag nor a commit");
		goto done;
	}
	*out = p;
	memset(&p, 0, sizeof(p));
	ret = SG_OK;
done:
	sg_tag_payload_release(&p);
	return ret;
}

void sg_tag_payload_release(sg_tag_payload *p)
{
	free(p->tag);
	memset(p, 0, sizeof(*p));
}

int sg_x509_profile(const sg_profile **out, const sg_policy *pol, const char *key)
{
	const sg_profile *named = key ? sg_policy_profile(pol, key) : NULL;
	size_t i;

	if (pol->tag_profile) {
		named = sg_policy_profile(pol, pol->tag_profile);
		if (!named || strcmp(named->format, "cms") != 0)
			return sg_error_set(SG_EDENIED, "release.tagProfile %s is not a cms profile; "
					    "git tag -s needs an X.509 (cms) signature", pol->tag_profile);
		*out = named;
		return SG_OK;
	}
	if (named && !strcmp(named->format, "cms")) {
		*out = named;
		return SG_OK;
	}
	for (i = 0; i < pol->nprofiles; i++)
		if (!pol->profiles[i].test && !strcmp(pol->profiles[i].format, "cms")) {
			*out = &pol->profiles[i];
			return SG_OK;
		}
	return sg_error_set(SG_EDENIED, "the policy (%s) has no production cms profile to sign tags "
			    "with; add one, or set release.tagProfile (or user.signingkey) to a cms "
			    "profile's name", pol->origin);
}

/* ---- sign: the pipeline, with the payload as its one artifact ---- */

static int to_pem(sg_buf *out, const sg_buf *der)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ret = SG_ERROR;

	if (!bio || !PEM_write_bio(bio, PEM_NAME, "", (const unsigned char *)der->ptr, (long)der->size)) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot armour the signature");
		goto done;
	}
	n = BIO_get_mem_data(bio, &p);
	ret = sg_buf_put(out, p, (size_t)n);
done:
	BIO_free(bio);
	return ret;
}

/* What git asks to sign must be a tag of a commit: anything else is refused
 * before the pipeline, and the refusal is audited here. */
static int check_payload(const sg_tag_payload *tp)
{
	if (tp->is_commit)
		/* A commit being made cannot have passed review yet: nothing to gate. */
		return sg_error_set(SG_EDENIED, "git asks to sign a commit; signgate signs release tags "
				    "only (unset commit.gpgSign, or sign with another program)");
	if (strcmp(tp->type, "commit") != 0)
		return sg_error_set(SG_EDENIED, "tag %s points to a %s; release tags name commits",
				    tp->tag, tp->type);
	return SG_OK;
}

static int sign_payload(sg_x509_signed *res, git_repository *repo, const sg_policy *pol,
			const sg_profile *prof, const sg_tag_payload *tp, const char *payload,
			size_t len)
{
	sg_sign_payload p = { payload, len, NULL, NULL,
			      "not scanned (a git tag payload, signed in memory)" };
	sg_sign_request req;
	sg_batch batch;
	char *artifact = NULL, *sigtext = NULL;
	int err;

	memset(&req, 0, sizeof(req));
	memset(&batch, 0, sizeof(batch));
	if (asprintf(&artifact, "tag %s (git tag object payload)", tp->tag) < 0 ||
	    asprintf(&sigtext, "embedded in tag %s (gpgsig)", tp->tag) < 0) {
		err = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	p.artifact = artifact;
	p.signature = sigtext;
	req.rev = tp->object;
	req.tag = tp->tag;
	req.tag_pending = 1;
	req.profile = prof->name;
	req.payload = &p;
	if ((err = sg_pipeline_sign(&batch, repo, pol, &req)) < 0 ||
	    (err = to_pem(&res->pem, &batch.items[0].signature)) < 0)
		goto done;
	res->created = batch.signed_at;
	snprintf(res->cert_sha256, sizeof(res->cert_sha256), "%s", batch.items[0].signer_id);
	snprintf(res->subject, sizeof(res->subject), "%s", batch.items[0].signer_subject);
	snprintf(res->profile, sizeof(res->profile), "%s", prof->name);
	snprintf(res->commit, sizeof(res->commit), "%s", batch.gate.commit);
	if (batch.gate.summary && !(res->gate_summary = strdup(batch.gate.summary)))
		err = sg_error_set(SG_ERROR, "out of memory");
done:
	free(artifact);
	free(sigtext);
	sg_batch_release(&batch);
	return err;
}

int sg_x509_sign(sg_x509_signed *out, git_repository *repo, const sg_policy *pol,
		 const char *key, const char *payload, size_t len)
{
	sg_tag_payload tp;
	const sg_profile *prof = NULL;
	sg_x509_signed res;
	char reason[1024];
	int err;

	memset(&tp, 0, sizeof(tp));
	memset(&res, 0, sizeof(res));
	if ((err = sg_tag_payload_parse(&tp, payload, len)) < 0 || (err = check_payload(&tp)) < 0 ||
	    (err = sg_x509_profile(&prof, pol, key)) < 0) {
		/* the pipeline audits its own outcome; these refusals come before it */
		snprintf(reason, sizeof(reason), "%s", sg_error_last() ? sg_error_last() : "failed");
		sg_hook_audit(repo, "sign-tag", err == SG_EDENIED ? "denied" : "failed", tp.tag,
			      tp.object, reason);
		sg_error_set(err, "%s", reason);
		goto done;
	}
	if ((err = sign_payload(&res, repo, pol, prof, &tp, payload, len)) < 0)
		goto done;
	*out = res;
	memset(&res, 0, sizeof(res));
done:
	sg_x509_signed_release(&res);
	sg_tag_payload_release(&tp);
	return err;
}

void sg_x509_signed_release(sg_x509_signed *s)
{
	sg_buf_dispose(&s->pem);
	free(s->gate_summary);
	memset(s, 0, sizeof(*s));
}

/* ---- verify ---- */

static int sig_der(unsigned char **der, long *derlen, const unsigned char *sig, size_t siglen)
{
	BIO *bio;
	char *name = NULL, *header = NULL;
	int ret = SG_EVERIFY;

	if (siglen && sig[0] == 0x30) { /* already DER */
		if (!(*der = OPENSSL_malloc(siglen)))
			return sg_error_set(SG_ERROR, "out of memory");
		memcpy(*der, sig, siglen);
		*derlen = (long)siglen;
		return SG_OK;
	}
	if (!(bio = BIO_new_mem_buf(sig, (int)siglen)))
		return sg_error_set(SG_ERROR, "out of memory");
	if (!PEM_read_bio(bio, &name, &header, der, derlen)) {
		ret = sg_error_set(SG_EVERIFY, "the signature is not PEM (-----BEGIN %s-----)", PEM_NAME);
		goto done;
	}
	if (strcmp(name, PEM_NAME) != 0 && strcmp(name, "PKCS7") != 0 && strcmp(name, "CMS") != 0) {
		OPENSSL_free(*der);
		*der = NULL;
		ret = sg_error_set(SG_EVERIFY, "the signature is a PEM \"%s\", not a CMS signature", name);
		goto done;
	}
	ret = SG_OK;
done:
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	return ret;
}

static int try_profile(sg_x509_verified *v, const sg_cms_sig *s, const sg_profile *prof,
		       const sg_policy *pol)
{
	sg_sig_check chk;
	const sg_revocation *rv;
	int err;

	memset(&chk, 0, sizeof(chk));
	if ((err = sg_cms_sig_check(&chk, s, prof, time(NULL))) < 0)
		return err;
	snprintf(v->id, sizeof(v->id), "%s", chk.id);
	snprintf(v->subject, sizeof(v->subject), "%s", chk.subject);
	snprintf(v->profile, sizeof(v->profile), "%s", prof->name);
	v->when = chk.timestamped ? chk.ts_time : 0;
	v->test = prof->test;
	rv = sg_policy_revocation(pol, chk.id);
	if (rv && (!chk.timestamped || chk.ts_time >= rv->since)) {
		v->revoked = 1;
		return sg_error_set(SG_EVERIFY, "the signer's certificate %s was revoked on %s (%s)%s", chk.id,
				    rv->since_text, rv->reason, chk.timestamped ? "" : " and the signature has no timestamp");
	}
	return SG_OK;
}

int sg_x509_verify(sg_x509_verified *out, const sg_policy *pol, const char *key,
		   const unsigned char *sig, size_t siglen, const char *payload, size_t len)
{
	sg_x509_verified v;
	const sg_profile *first = NULL;
	sg_cms_sig *s = NULL;
	unsigned char *der = NULL, sha[32];
	long derlen = 0;
	char reason[512] = "";
	size_t i;
	struct stat st;
	int fd = -1, err = SG_EVERIFY, tried = 0;

	memset(&v, 0, sizeof(v));
	if (siglen > SG_SIG_MAX || len > SG_X509_PAYLOAD_MAX) {
		err = sg_error_set(SG_EVERIFY, "the signature or the payload is too large");
		goto done;
	}
	if ((err = sig_der(&der, &derlen, sig, siglen)) < 0 || (err = sg_file_memfd(&fd, &st, payload, len, "signgate-payload")) < 0)
		goto done;
	if ((err = sg_cms_sig_open(&s, der, (size_t)derlen, fd, sha)) < 0) {
		v.bad = 1;
		goto done;
	}
	{
		sg_sig_check who;
		memset(&who, 0, sizeof(who));
		if (sg_cms_sig_signer(&who, s) == SG_OK) {
			snprintf(v.id, sizeof(v.id), "%s", who.id);
			snprintf(v.subject, sizeof(v.subject), "%s", who.subject);
		}
		sg_error_clear();
	}
	if (sg_x509_profile(&first, pol, key) < 0)
		first = NULL;
	sg_error_clear();
	/* the tag profile first, then every other cms profile */
	for (i = 0; i <= pol->nprofiles; i++) {
		const sg_profile *prof = i == 0 ? first : &pol->profiles[i - 1];
		if (!prof || strcmp(prof->format, "cms") != 0 || (i > 0 && prof == first))
			continue;
		tried++;
		if ((err = try_profile(&v, s, prof, pol)) == SG_OK)
			break;
		if (err != SG_EVERIFY)
			goto done;
		if (!reason[0] || v.revoked)
			snprintf(reason, sizeof(reason), "profile %s: %s", prof->name, sg_error_last());
		if (v.revoked)
			break;
	}
	if (!tried)
		err = sg_error_set(SG_EVERIFY, "the policy (%s) has no cms profile to verify with", pol->origin);
	else if (err < 0)
		err = sg_error_set(SG_EVERIFY, "%s", reason);
done:
	if (err < 0)
		snprintf(v.reason, sizeof(v.reason), "%s", sg_error_last() ? sg_error_last() : "failed");
	v.ok = err == SG_OK;
	*out = v;
	sg_cms_sig_free(s);
	OPENSSL_free(der);
	if (fd >= 0)
		close(fd);
	return err;
}
