/* Whether an event paragraph is attested (DESIGN.md 4a). One context per
 * run caches each envelope (parsed once) and each envelope's signature
 * verdict per profile, so a 1,000-event batch costs one signature check. */
#include "attest/attest.h"
#include "core/base64.h"
#include "core/error.h"
#include "sign/sign.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct prof_verdict {
	char *profile;
	int ok;
	char *reason;
} prof_verdict;

typedef struct env_entry {
	char sha[65];
	char *bad;                /* why the envelope is unusable (NULL: usable) */
	int unkeyed;              /* its bytes are not those `sha` names: never cached */
	sg_dsse_envelope env;
	sg_buf pae;
	json_t *statement;
	json_t *event;            /* predicate.signgate (borrowed from statement) */
	time_t when;              /* predicate.timeVerified */
	prof_verdict *pv;
	size_t npv;
	json_t *by_name[2];       /* subject / predicate.signgate.artifacts by name (built on first use) */
	struct env_entry *next;
} env_entry;

/* Envelopes kept per context, most recent first: `log` reads a batch's
 * events together, so a few suffice, and memory stays bounded however many
 * batches the history holds (an evicted one is verified again if needed). */
#define ENV_CACHE_MAX 2

struct sg_attest_ctx {
	const sg_policy *pol;
	env_entry *envs;
	char reason[1024];
	env_entry *unkeyed;       /* the last paragraph whose bytes are not its sha's */
	sg_attest_note *last;     /* sg_attest_judge_at's note */
	char *last_ref;
	git_oid last_commit;
};

struct sg_attest_note {
	sg_attest_ctx *c;
	char commit[GIT_OID_HEXSZ + 1];
	sg_event *paras;
	size_t n;
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

static void env_free(env_entry *e)
{
	size_t i;

	free(e->bad);
	json_decref(e->by_name[0]);
	json_decref(e->by_name[1]);
	sg_dsse_envelope_release(&e->env);
	sg_buf_dispose(&e->pae);
	json_decref(e->statement);
	for (i = 0; i < e->npv; i++) {
		free(e->pv[i].profile);
		free(e->pv[i].reason);
	}
	free(e->pv);
	free(e);
}

void sg_attest_ctx_free(sg_attest_ctx *c)
{
	env_entry *e, *next;

	if (!c)
		return;
	for (e = c->envs; e; e = next) {
		next = e->next;
		env_free(e);
	}
	if (c->unkeyed)
		env_free(c->unkeyed);
	sg_attest_note_free(c->last);
	free(c->last_ref);
	free(c);
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
	free(n);
}

/* ---- the envelope, parsed once per run ---- */

static const char *json_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int set_bad(env_entry *e, const char *why)
{
	free(e->bad);
	e->bad = strdup(why);
	return e->bad ? SG_OK : sg_error_set(SG_ERROR, "out of memory");
}

static int parse_statement(env_entry *e)
{
	json_error_t jerr;
	json_t *st = json_loadb(e->env.payload.ptr, e->env.payload.size, JSON_REJECT_DUPLICATES, &jerr);
	json_t *pred = json_object_get(st, "predicate");
	const char *t;

	e->statement = st;
	if (!json_is_object(st))
		return set_bad(e, "the attestation's payload is not a JSON statement");
	if (!(t = json_str(st, "_type")) || strcmp(t, SG_ATTEST_STATEMENT_TYPE) != 0)
		return set_bad(e, "the attestation's payload is not an in-toto Statement v1");
	if (!(t = json_str(st, "predicateType")) || strcmp(t, SG_ATTEST_PREDICATE_TYPE) != 0 ||
	    !(t = json_str(pred, "verificationResult")) || strcmp(t, "PASSED") != 0)
		return set_bad(e, "the attestation's predicate is not a PASSED SLSA verification summary");
	if (!json_is_object(e->event = json_object_get(pred, "signgate")) ||
	    !json_is_array(json_object_get(st, "subject")))
		return set_bad(e, "the attestation carries no signgate event");
	if (!(t = json_str(pred, "timeVerified")) || sg_time_parse(&e->when, t) < 0) {
		sg_error_clear();
		return set_bad(e, "the attestation's timeVerified is not a time");
	}
	return SG_OK;
}

static int env_load(env_entry *e, const sg_event *para)
{
	const char *b64 = sg_event_get(para, "Attestation");
	sg_buf bytes = SG_BUF_INIT;
	unsigned char md[32];
	char hex[65];
	int err = SG_OK;

	if (!b64 || sg_base64_decode(&bytes, b64, strlen(b64)) < 0) {
		sg_error_clear();
		e->unkeyed = 1;
		err = set_bad(e, "the attestation paragraph holds no base64 envelope");
		goto done;
	}
	SHA256((const unsigned char *)bytes.ptr, bytes.size, md);
	sg_hex(hex, md, 32);
	if (strcasecmp(hex, e->sha) != 0) {
		e->unkeyed = 1;
		err = set_bad(e, "the attestation paragraph's bytes do not hash to its Attestation-Sha256");
		goto done;
	}
	if (sg_dsse_envelope_parse(&e->env, bytes.ptr, bytes.size) < 0) {
		err = set_bad(e, sg_error_last());
		sg_error_clear();
		goto done;
	}
	if (strcmp(e->env.payload_type, SG_ATTEST_PAYLOAD_TYPE) != 0) {
		err = set_bad(e, "the envelope's payloadType is not " SG_ATTEST_PAYLOAD_TYPE);
		goto done;
	}
	if ((err = sg_dsse_pae(&e->pae, e->env.payload_type, e->env.payload.ptr, e->env.payload.size)) < 0)
		goto done;
	err = parse_statement(e);
done:
	sg_buf_dispose(&bytes);
	return err;
}

/* The paragraph of the note named `sha`, and the envelope it holds. */
static int env_find(env_entry **out, const sg_event **para, sg_attest_note *n, const char *sha)
{
	env_entry *e;
	const char *v;
	size_t i;
	int err;

	*out = NULL;
	*para = NULL;
	for (i = 0; i < n->n && !*para; i++)
		if ((v = sg_event_get(&n->paras[i], SG_ATTEST_SHA_KEY)) && strcasecmp(v, sha) == 0)
			*para = &n->paras[i];
	if (!*para)
		return SG_OK;
	for (e = n->c->envs; e; e = e->next)
		if (strcasecmp(e->sha, sha) == 0) {
			*out = e;
			return SG_OK;
		}
	if (!(e = calloc(1, sizeof(*e))))
		return sg_error_set(SG_ERROR, "out of memory");
	snprintf(e->sha, sizeof(e->sha), "%s", sha);
	if ((err = env_load(e, *para)) < 0) {
		env_free(e);
		return err;
	}
	if (e->unkeyed) {
		/* a copy whose bytes are not the envelope its sha names (anyone
		 * can write one): judged alone, so it cannot spoil the genuine one */
		if (n->c->unkeyed)
			env_free(n->c->unkeyed);
		n->c->unkeyed = *out = e;
		return SG_OK;
	}
	e->next = n->c->envs;
	n->c->envs = e;
	*out = e;
	for (i = 0; e->next && i + 1 < ENV_CACHE_MAX; i++)
		e = e->next;
	while (e->next) {
		env_entry *old = e->next;

		e->next = old->next;
		env_free(old);
	}
	return SG_OK;
}

/* ---- the signature, checked once per envelope and profile ---- */

static const sg_dsse_sig *sig_by(const env_entry *e, const char *keyid)
{
	size_t i;

	for (i = 0; i < e->env.nsigs; i++)
		if (strcasecmp(e->env.sigs[i].keyid, keyid) == 0)
			return &e->env.sigs[i];
	return NULL;
}

/* The Attestation-Cert whose SHA-256 is `id`, and every Attestation-Chain. */
static int para_certs(sg_buf *cert, sg_buf **chain, size_t *nchain, const sg_event *para,
		      const char *id)
{
	unsigned char md[32];
	char hex[65];
	size_t i;

	*chain = calloc(para->n + 1, sizeof(**chain));
	*nchain = 0;
	if (!*chain)
		return sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < para->n; i++) {
		const char *k = para->f[i].key, *v = para->f[i].value;
		sg_buf der = SG_BUF_INIT;

		if (strcasecmp(k, "Attestation-Chain") == 0) {
			if (sg_base64_decode(&(*chain)[*nchain], v, strlen(v)) == SG_OK)
				(*nchain)++;
		} else if (strcasecmp(k, "Attestation-Cert") == 0 && !cert->size &&
			   sg_base64_decode(&der, v, strlen(v)) == SG_OK) {
			SHA256((const unsigned char *)der.ptr, der.size, md);
			sg_hex(hex, md, 32);
			if (strcasecmp(hex, id) == 0) {
				*cert = der;
				memset(&der, 0, sizeof(der));
			}
		}
		sg_buf_dispose(&der);
		sg_error_clear();
	}
	return SG_OK;
}

static int cms_check(const env_entry *e, const sg_event *para, const sg_profile *prof,
		     const char *id, const sg_dsse_sig *sig)
{
	sg_buf cert = SG_BUF_INIT, *chain = NULL;
	size_t nchain = 0;
	void *pub = NULL;
	EVP_MD_CTX *md = NULL;
	int err;

	if ((err = para_certs(&cert, &chain, &nchain, para, id)) < 0)
		goto done;
	if (!cert.size) {
		err = sg_error_set(SG_EVERIFY, "the attestation paragraph has no certificate %s", id);
		goto done;
	}
	if ((err = sg_cms_cert_trusted(&pub, &cert, chain, nchain, prof, e->when)) < 0)
		goto done;
	err = SG_EVERIFY;
	if (!(md = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) != 1 ||
	    EVP_DigestVerify(md, (const unsigned char *)sig->sig.ptr, sig->sig.size,
			     (const unsigned char *)e->pae.ptr, e->pae.size) != 1)
		sg_error_set(SG_EVERIFY, "the attestation's signature does not verify with certificate %s", id);
	else
		err = SG_OK;
done:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	sg_buf_dispose(&cert);
	sg_bufs_free(chain, nchain);
	return err;
}

static int signature_check(const env_entry *e, const sg_event *para, const sg_profile *prof,
			   const char *id)
{
	const sg_dsse_sig *sig = sig_by(e, id);

	if (!sig)
		return sg_error_set(SG_EVERIFY, "the envelope has no signature by %s", id);
	if (prof->format && strcmp(prof->format, "openpgp") == 0)
		return sg_attest_pgp_verify(&sig->sig, &e->pae, id, prof);
	return cms_check(e, para, prof, id, sig);
}

/* The verdict of the envelope's signature for one profile, cached. */
static int prof_verdict_of(const prof_verdict **out, env_entry *e, const sg_event *para,
			   const sg_profile *prof, const char *id)
{
	prof_verdict *pv, *grown;
	size_t i;
	int err;

	for (i = 0; i < e->npv; i++)
		if (strcmp(e->pv[i].profile, prof->name) == 0) {
			*out = &e->pv[i];
			return SG_OK;
		}
	if (!(grown = realloc(e->pv, (e->npv + 1) * sizeof(*grown))))
		return sg_error_set(SG_ERROR, "out of memory");
	e->pv = grown;
	pv = &e->pv[e->npv];
	memset(pv, 0, sizeof(*pv));
	err = signature_check(e, para, prof, id);
	if (err == SG_ERROR)
		return err;
	pv->ok = err == SG_OK;
	pv->reason = pv->ok ? NULL : strdup(sg_error_last() ? sg_error_last() : "not verified");
	pv->profile = strdup(prof->name);
	if (!pv->profile || (!pv->ok && !pv->reason)) {
		free(pv->profile);
		free(pv->reason);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	sg_error_clear();
	e->npv++;
	*out = pv;
	return SG_OK;
}

/* ---- the statement against the paragraph ---- */

static json_t *array_find(json_t *arr, const char *key, const char *value)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o) {
		const char *v = json_str(o, key);
		if (v && strcmp(v, value) == 0)
			return o;
	}
	return NULL;
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcasecmp(a, b) == 0);
}

/* The first element of arr whose "name" is `name`, through a map built
 * once per envelope (a batch of n artifacts is judged in O(n), not O(n^2)). */
static json_t *by_name(env_entry *e, int which, json_t *arr, const char *name)
{
	json_t *o;
	size_t i;

	if (!e->by_name[which]) {
		if (!(e->by_name[which] = json_object()))
			return array_find(arr, "name", name);
		json_array_foreach(arr, i, o) {
			const char *v = json_str(o, "name");

			if (v && !json_object_get(e->by_name[which], v))
				json_object_set(e->by_name[which], v, o);
		}
	}
	return json_object_get(e->by_name[which], name);
}

/* NULL when the statement says what the paragraph says, else why not. */
static const char *statement_mismatch(env_entry *e, const sg_event *ev, const char *commit,
				      const char **profile, const char **id, sg_buf *nb)
{
	const char *name = sg_event_get(ev, "Artifact"), *sha = sg_event_get(ev, "Artifact-Sha256");
	json_t *subj, *art, *signer;
	const char *evid = sg_event_get(ev, "Signer-Cert-Sha256");

	if (!evid)
		evid = sg_event_get(ev, "Signer-Key-Fingerprint");
	if (!name || !sha)
		return "the paragraph has no Artifact and Artifact-Sha256";
	if (sg_attest_name(nb, name) < 0) {
		sg_error_clear();
		return "the paragraph's Artifact cannot be read";
	}
	name = nb->ptr;
	subj = by_name(e, 0, json_object_get(e->statement, "subject"), name);
	if (!subj || !same(json_str(json_object_get(subj, "digest"), "sha256"), sha))
		return "the attestation has no subject with this Artifact and Artifact-Sha256";
	if (!same(json_str(e->event, "commit"), commit))
		return "the attestation is for another commit than the one this note is on";
	art = by_name(e, 1, json_object_get(e->event, "artifacts"), name);
	*profile = json_str(art, "profile");
	signer = *profile ? array_find(json_object_get(e->event, "signers"), "profile", *profile) : NULL;
	*id = json_str(signer, "id");
	if (!*profile || !*id || !same(*profile, sg_event_get(ev, "Profile")))
		return "the attestation names another profile than the paragraph";
	if (!same(*id, evid))
		return "the attestation names another signer than the paragraph";
	if (!same(json_str(art, "signatureSha256"), sg_event_get(ev, "Signature-Sha256")))
		return "the attestation records another Signature-Sha256 than the paragraph";
	if (!same(json_str(e->event, "tag"), sg_event_get(ev, "Tag")))
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

int sg_attest_judge(sg_attest_verdict *out, sg_attest_note *n, const sg_event *ev)
{
	sg_attest_ctx *c = n->c;
	const char *sha = sg_event_get(ev, SG_ATTEST_SHA_KEY), *why, *pname = NULL, *id = NULL;
	const sg_event *para;
	const sg_profile *prof;
	const prof_verdict *pv = NULL;
	sg_buf nb = SG_BUF_INIT;
	env_entry *e;
	int err;

	memset(out, 0, sizeof(*out));
	if (!sha || strlen(sha) != 64) {
		say(out, c, "no %s: written by hand or by a signgate before attestations", SG_ATTEST_SHA_KEY);
		return SG_OK;
	}
	snprintf(out->envelope, sizeof(out->envelope), "%s", sha);
	if ((err = env_find(&e, &para, n, sha)) < 0)
		return err;
	if (!para) {
		say(out, c, "its attestation %.12s is not in the note", sha);
		return SG_OK;
	}
	if (e->bad) {
		say(out, c, "attestation %.12s: %s", sha, e->bad);
		return SG_OK;
	}
	why = statement_mismatch(e, ev, n->commit, &pname, &id, &nb);
	sg_buf_dispose(&nb);
	if (why) {
		say(out, c, "attestation %.12s: %s", sha, why);
		return SG_OK;
	}
	if (!c->pol || !(prof = sg_policy_profile(c->pol, pname))) {
		say(out, c, "attestation %.12s: profile \"%s\" is not in the policy", sha, pname);
		return SG_OK;
	}
	if ((err = prof_verdict_of(&pv, e, para, prof, id)) < 0)
		return err;
	if (!pv->ok) {
		say(out, c, "attestation %.12s: %s", sha, pv->reason);
		return SG_OK;
	}
	out->test = prof->test;
	out->attested = 1;
	return SG_OK;
}

int sg_attest_judge_at(sg_attest_verdict *out, sg_attest_ctx *c, git_repository *repo,
		       const char *notes_ref, const git_oid *commit, const sg_event *ev)
{
	sg_buf text = SG_BUF_INIT;
	int err = SG_OK;

	if (!sg_event_get(ev, SG_ATTEST_SHA_KEY)) {
		/* nothing to look up: judged without reading the note */
		sg_attest_note none = { c, "", NULL, 0 };
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
