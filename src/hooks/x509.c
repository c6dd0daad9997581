/* git's signing program (gpg.format = x509): a tag payload is signed only
 * when the commit its `object` line names passes the gate; the signature
 * is a detached CMS SignedData, PEM armoured as gpgsm writes it
 * ("-----BEGIN SIGNED MESSAGE-----", the armour git 2.39 recognises for
 * x509). Each signing is recorded on the commit like any other. */
#include "hooks/hooks.h"
#include "pipeline/pipeline.h"
#include "audit/audit.h"
#include "core/error.h"
#include "gate/gate.h"
#include "notes/notes.h"
#include "sign/sign.h"
#include "verify/verify.h"

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* ---- sign ---- */


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

static void tsa_config(sg_tsa_config *cfg, const sg_profile *prof)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->urls = &prof->tsa;
	cfg->trust_anchor = prof->tsa_trust_anchor;
	cfg->total_timeout_ms = 1000L * prof->tsa_timeout;
	cfg->connect_timeout_ms = cfg->total_timeout_ms < 5000 ? cfg->total_timeout_ms : 5000;
	cfg->attempts = prof->tsa_attempts;
	cfg->max_response = 256 * 1024;
}

/* Sign the digest; the timestamp as the profile says. ts_line: the note's Timestamp: value. */
static int sign_digest(sg_signature *sig, char *ts_line, size_t ts_len, const sg_sign_backend *be,
		       sg_signer *signer, const sg_profile *prof, const sg_artifact *a)
{
	sg_tsa_config cfg;
	int err;

	tsa_config(&cfg, prof);
	if (prof->require_timestamp && prof->tsa.n == 0)
		return sg_error_set(SG_ERROR, "profile \"%s\" requires a timestamp but lists no tsa; "
				    "add profile.%s.tsa", prof->name, prof->name);
	err = be->sign(signer, a, prof->tsa.n ? &cfg : NULL, sig);
	if (err == SG_ERROR && sig->tsa_failed && !prof->require_timestamp) {
		snprintf(ts_line, ts_len, "none (%s; requireTimestamp = false)", sg_error_last());
		sg_signature_release(sig);
		sg_error_clear();
		err = be->sign(signer, a, NULL, sig);
	} else if (!prof->tsa.n) {
		snprintf(ts_line, ts_len, "none (profile %s lists no tsa; requireTimestamp = false)",
			 prof->name);
	}
	if (err == SG_OK && sig->timestamped)
		snprintf(ts_line, ts_len, "%s (%s)", sig->ts_text, sig->ts_url ? sig->ts_url : "");
	return err;
}

static int record(git_repository *repo, const sg_policy *pol, const sg_profile *prof,
		  const sg_sign_backend *be, const sg_signer_info *info, const sg_tag_payload *tp,
		  const char *sha_hex, size_t size, const sg_signature *sig, const char *ts_line,
		  const sg_gate_result *g, const char *signed_by, const char *signed_at)
{
	sg_event ev = { 0 };
	unsigned char md[32];
	char hex[65], msg[256];
	int err;

	SHA256((const unsigned char *)sig->sig.ptr, sig->sig.size, md);
	sg_hex(hex, md, 32);
	if ((err = sg_event_add(&ev, SG_EVENT_KEY, "sign")) < 0 ||
	    (err = sg_event_addf(&ev, "Artifact", "tag %s (git tag object payload)", tp->tag)) < 0 ||
	    (err = sg_event_add(&ev, "Artifact-Sha256", sha_hex)) < 0 ||
	    (err = sg_event_addf(&ev, "Artifact-Size", "%zu", size)) < 0 ||
	    (err = sg_event_addf(&ev, "Signature", "embedded in tag %s (gpgsig)", tp->tag)) < 0 ||
	    (err = sg_event_add(&ev, "Signature-Format", be->name)) < 0 ||
	    (err = sg_event_add(&ev, "Signature-Sha256", hex)) < 0 ||
	    (err = sg_event_add(&ev, info->id_key, info->id)) < 0 ||
	    (err = sg_event_add(&ev, "Signer-Subject", info->subject)) < 0 ||
	    (err = sg_event_add(&ev, "Key-Storage", info->hardware ? "hardware" : "software")) < 0 ||
	    (err = sg_event_add(&ev, "Profile", prof->name)) < 0 ||
	    (err = sg_event_add(&ev, "Timestamp", ts_line)) < 0 ||
	    (err = sg_event_add(&ev, "Scan", "not scanned (a git tag payload, signed in memory)")) < 0 ||
	    (err = sg_event_add(&ev, "Gate", g->summary ? g->summary : "-")) < 0 ||
	    (err = sg_event_add(&ev, "Policy", pol->origin)) < 0 ||
	    (err = sg_event_add(&ev, "Signed-By", signed_by)) < 0 ||
	    (err = sg_event_add(&ev, "Signed-At", signed_at)) < 0 ||
	    (err = sg_event_add(&ev, "Tag", tp->tag)) < 0 ||
	    (err = sg_event_add(&ev, "Tool", "signgate " SG_VERSION)) < 0)
		goto done;
	snprintf(msg, sizeof(msg), "signgate: sign tag %s on %.12s (git tag -s)", tp->tag, g->commit);
	err = sg_notes_append(repo, prof->notes_ref ? prof->notes_ref : SG_DEFAULT_NOTES_REF,
			      &g->commit_id, &ev, 1, msg);
done:
	sg_event_release(&ev);
	return err;
}

static int audit(git_repository *repo, int code, const char *tag, const char *commit,
		 const sg_gate_result *g, const char *profile, const char *sha_hex)
{
	json_t *rec = json_object();
	char saved[1024];
	int err;

	snprintf(saved, sizeof(saved), "%s", sg_error_last() ? sg_error_last() : "");
	json_object_set_new(rec, "op", json_string("sign-tag"));
	json_object_set_new(rec, "decision", json_string(code == SG_OK ? "signed" :
		code == SG_EDENIED ? "denied" : "failed"));
	json_object_set_new(rec, "exit", json_integer(sg_error_exit_code(code)));
	if (code != SG_OK)
		json_object_set_new(rec, "reason", json_string(saved));
	if (tag)
		json_object_set_new(rec, "tag", json_string(tag));
	if (commit && *commit)
		json_object_set_new(rec, "commit", json_string(commit));
	if (g && g->summary)
		json_object_set_new(rec, "gate", json_string(g->summary));
	if (profile)
		json_object_set_new(rec, "profile", json_string(profile));
	if (sha_hex)
		json_object_set_new(rec, "payload_sha256", json_string(sha_hex));
	err = sg_audit_append(repo, rec);
	json_decref(rec);
	if (code != SG_OK) {
		if (err < 0)
			sg_error_set(code, "%s (and the audit log could not be written: %s)", saved, sg_error_last());
		else
			sg_error_set(code, "%s", saved);
		return code;
	}
	return err;
}

int sg_x509_sign(sg_x509_signed *out, git_repository *repo, const sg_policy *pol,
		 const char *key, const char *payload, size_t len)
{
	sg_tag_payload tp;
	const sg_profile *prof = NULL;
	const sg_sign_backend *be = NULL;
	sg_signer *signer = NULL;
	sg_signer_info info;
	sg_gate_result g;
	sg_gate_opts opts = { 0, 0 };
	sg_signature sig;
	sg_artifact a;
	const sg_revocation *rv;
	char sha_hex[65] = "", ts_line[512] = "", signed_at[32], *signed_by = NULL, *warning = NULL;
	sg_x509_signed res;
	int err;

	memset(&tp, 0, sizeof(tp));
	memset(&g, 0, sizeof(g));
	memset(&sig, 0, sizeof(sig));
	memset(&info, 0, sizeof(info));
	memset(&res, 0, sizeof(res));
	if ((err = sg_tag_payload_parse(&tp, payload, len)) < 0)
		goto done;
	if (tp.is_commit) {
		/* A commit being made cannot have passed review yet: nothing to gate. */
		err = sg_error_set(SG_EDENIED, "git asks to sign a commit; signgate signs release tags "
				   "only (unset commit.gpgSign, or sign with another program)");
		goto done;
	}
	if (strcmp(tp.type, "commit") != 0) {
		err = sg_error_set(SG_EDENIED, "tag %s points to a %s; release tags name commits", tp.tag, tp.type);
		goto done;
	}
	if ((err = sg_x509_profile(&prof, pol, key)) < 0)
		goto done;
	opts.skip_branch = opts.skip_reviews = prof->test;
	if ((err = sg_gate_evaluate(&g, repo, pol, tp.object, &opts)) < 0)
		goto done;
	if (!(be = sg_sign_backend_find(prof->format))) {
		err = sg_error_set(SG_ERROR, "profile \"%s\": unknown format \"%s\"", prof->name, prof->format);
		goto done;
	}
	if ((err = be->open(&signer, prof)) < 0 || (err = be->info(signer, &info)) < 0)
		goto done;
	if ((rv = sg_policy_revocation(pol, info.id))) {
		err = sg_error_set(SG_EDENIED, "the key of profile \"%s\" (%s) was revoked on %s: %s; "
				   "rotate to a new certificate", prof->name, info.id, rv->since_text, rv->reason);
		goto done;
	}
	if ((err = sg_verify_cert_dates(&warning, prof, info.not_before, info.not_after, time(NULL))) < 0)
		goto done;
	memset(&a, 0, sizeof(a));
	a.path = "the tag payload";
	a.fd = -1;
	a.size = len;
	SHA256((const unsigned char *)payload, len, a.sha256);
	sg_hex(sha_hex, a.sha256, 32);
	if ((err = sign_digest(&sig, ts_line, sizeof(ts_line), be, signer, prof, &a)) < 0)
		goto done;
	if (!(signed_by = sg_pipeline_identity(repo))) {
		err = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	res.created = time(NULL);
	sg_time_format(signed_at, sizeof(signed_at), res.created);
	if ((err = to_pem(&res.pem, &sig.sig)) < 0 ||
	    (err = record(repo, pol, prof, be, &info, &tp, sha_hex, len, &sig, ts_line, &g, signed_by,
			  signed_at)) < 0)
		goto done;
	snprintf(res.cert_sha256, sizeof(res.cert_sha256), "%s", info.id);
	snprintf(res.subject, sizeof(res.subject), "%s", info.subject);
	snprintf(res.profile, sizeof(res.profile), "%s", prof->name);
	snprintf(res.commit, sizeof(res.commit), "%s", g.commit);
	res.gate_summary = g.summary ? strdup(g.summary) : NULL;
	err = SG_OK;
done:
	err = audit(repo, err, tp.tag, g.commit[0] ? g.commit : tp.object, &g,
		    prof ? prof->name : NULL, sha_hex[0] ? sha_hex : NULL);
	if (err == SG_OK) {
		*out = res;
		memset(&res, 0, sizeof(res));
	}
	sg_x509_signed_release(&res);
	free(warning);
	free(signed_by);
	sg_signature_release(&sig);
	if (signer)
		be->close(signer);
	sg_gate_result_release(&g);
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

static int payload_fd(int *out, const char *payload, size_t len)
{
	int fd = memfd_create("signgate-payload", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return sg_error_set(SG_ERROR, "memfd_create: %s", strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, payload + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return sg_error_set(SG_ERROR, "cannot buffer the payload: %s", strerror(errno));
		}
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return sg_error_set(SG_ERROR, "lseek: %s", strerror(errno));
	}
	*out = fd;
	return SG_OK;
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
	int fd = -1, err = SG_EVERIFY, tried = 0;

	memset(&v, 0, sizeof(v));
	if (siglen > SG_SIG_MAX || len > SG_X509_PAYLOAD_MAX) {
		err = sg_error_set(SG_EVERIFY, "the signature or the payload is too large");
		goto done;
	}
	if ((err = sig_der(&der, &derlen, sig, siglen)) < 0 || (err = payload_fd(&fd, payload, len)) < 0)
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
