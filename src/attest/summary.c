/* One attestation paragraph judged afresh, kept as a summary (judge_int.h):
 * the envelope decoded, hashed against its Attestation-Sha256 and parsed,
 * its statement reduced to what an event is matched against (per subject
 * name: digest, profile, signature digest, signer id; the commit and tag),
 * and its signature checked once for each profile of the policy that the
 * statement names, with this paragraph's own certificates. */
#include "attest/judge_int.h"
#include "core/base64.h"
#include "core/error.h"
#include "core/file.h"
#include "core/str.h"
#include "sign/sign.h"

#include <gpgme.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SUM_MAGIC 0x53474153u  /* "SGAS" */
#define SUM_VERSION 1u

/* ---- the arena ---- */

static int str_add(uint32_t *off, sg_att_summary *s, const char *v)
{
	size_t at = s->strings.size;
	int err;

	*off = 0;
	if (!v)
		return SG_OK;
	if (at > UINT32_MAX - strlen(v) - 1)
		return sg_error_set(SG_ERROR, "an attestation too large to summarise");
	if ((err = sg_buf_put(&s->strings, v, strlen(v) + 1)) < 0)
		return err;
	*off = (uint32_t)at;
	return SG_OK;
}

const char *sg_att_str(const sg_att_summary *s, uint32_t off)
{
	return off ? s->strings.ptr + off : NULL;
}

static int summary_new(sg_att_summary **out)
{
	sg_att_summary *s = calloc(1, sizeof(*s));

	if (!s || sg_buf_put(&s->strings, "", 1) < 0) {
		free(s);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	s->cacheable = 1;
	*out = s;
	return SG_OK;
}

void sg_att_summary_free(sg_att_summary *s)
{
	if (!s)
		return;
	free(s->subj);
	free(s->pv);
	free(s->slots);
	sg_buf_dispose(&s->strings);
	free(s);
}

static int set_bad(sg_att_summary *s, const char *why)
{
	return str_add(&s->bad, s, why);
}

/* ---- lookups by name ---- */

/* The slot holding `name`, or the empty slot where it would go. */
static uint32_t *slot_of(const sg_att_summary *s, const char *name)
{
	uint32_t i = sg_str_hash(name) & (s->nslots - 1);

	while (s->slots[i] && strcmp(sg_att_str(s, s->subj[s->slots[i] - 1].name), name) != 0)
		i = (i + 1) & (s->nslots - 1);
	return &s->slots[i];
}

const sg_att_subject *sg_att_subject_find(const sg_att_summary *s, const char *name)
{
	uint32_t *slot = s->nslots ? slot_of(s, name) : NULL;

	return slot && *slot ? &s->subj[*slot - 1] : NULL;
}

const sg_att_pv *sg_att_pv_find(const sg_att_summary *s, const char *profile)
{
	uint32_t i;

	for (i = 0; profile && i < s->npv; i++)
		if (strcmp(sg_att_str(s, s->pv[i].profile), profile) == 0)
			return &s->pv[i];
	return NULL;
}

/* Room for n subjects by name (at most half full, so a probe ends). */
static int slots_alloc(sg_att_summary *s, size_t n)
{
	size_t k = 8;

	while (k < 2 * n)
		k *= 2;
	if (k > UINT32_MAX || !(s->slots = calloc(k, sizeof(*s->slots))))
		return sg_error_set(SG_ERROR, "out of memory");
	s->nslots = (uint32_t)k;
	return SG_OK;
}

/* ---- the paragraph's key ---- */

static int hash_str(EVP_MD_CTX *h, const char *v)
{
	uint64_t len = strlen(v);

	return EVP_DigestUpdate(h, &len, sizeof(len)) == 1 && EVP_DigestUpdate(h, v, len) == 1;
}

int sg_att_para_key(unsigned char out[32], const sg_event *para)
{
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
		 hash_str(h, "signgate attestation paragraph v1");
	size_t i;

	for (i = 0; ok && i < para->n; i++)
		ok = hash_str(h, para->f[i].key) && hash_str(h, para->f[i].value);
	ok = ok && EVP_DigestFinal_ex(h, out, NULL) == 1;
	EVP_MD_CTX_free(h);
	return ok ? SG_OK : sg_error_set_openssl(SG_ERROR, "cannot hash an attestation paragraph");
}

/* ---- the envelope, parsed ---- */

typedef struct env_parts {
	sg_dsse_envelope env;
	sg_buf pae;
	json_t *statement;
	json_t *event;            /* predicate.signgate (borrowed from statement) */
	time_t when;              /* predicate.timeVerified */
} env_parts;

static void parts_release(env_parts *p)
{
	sg_dsse_envelope_release(&p->env);
	sg_buf_dispose(&p->pae);
	json_decref(p->statement);
	memset(p, 0, sizeof(*p));
}

static const char *json_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* NULL when the payload is a statement signgate made, else why not. */
static const char *parse_statement(env_parts *p)
{
	json_error_t jerr;
	json_t *st = json_loadb(p->env.payload.ptr, p->env.payload.size, JSON_REJECT_DUPLICATES, &jerr);
	json_t *pred = json_object_get(st, "predicate");
	const char *t;

	p->statement = st;
	if (!json_is_object(st))
		return "the attestation's payload is not a JSON statement";
	if (!(t = json_str(st, "_type")) || strcmp(t, SG_ATTEST_STATEMENT_TYPE) != 0)
		return "the attestation's payload is not an in-toto Statement v1";
	if (!(t = json_str(st, "predicateType")) || strcmp(t, SG_ATTEST_PREDICATE_TYPE) != 0 ||
	    !(t = json_str(pred, "verificationResult")) || strcmp(t, "PASSED") != 0)
		return "the attestation's predicate is not a PASSED SLSA verification summary";
	if (!json_is_object(p->event = json_object_get(pred, "signgate")) ||
	    !json_is_array(json_object_get(st, "subject")))
		return "the attestation carries no signgate event";
	if (!(t = json_str(pred, "timeVerified")) || sg_time_parse(&p->when, t) < 0) {
		sg_error_clear();
		return "the attestation's timeVerified is not a time";
	}
	return NULL;
}

/* The envelope of the paragraph, or s->bad set to why it is unusable. */
static int env_load(env_parts *p, sg_att_summary *s, const sg_event *para)
{
	const char *b64 = sg_event_get(para, "Attestation"), *claimed = sg_event_get(para, SG_ATTEST_SHA_KEY);
	const char *why;
	sg_buf bytes = SG_BUF_INIT;
	unsigned char md[32];
	char hex[65];
	int err = SG_OK;

	if (!b64 || sg_base64_decode(&bytes, b64, strlen(b64)) < 0) {
		sg_error_clear();
		err = set_bad(s, "the attestation paragraph holds no base64 envelope");
		goto done;
	}
	SHA256((const unsigned char *)bytes.ptr, bytes.size, md);
	sg_hex(hex, md, 32);
	if (!claimed || strcasecmp(hex, claimed) != 0) {
		err = set_bad(s, "the attestation paragraph's bytes do not hash to its Attestation-Sha256");
		goto done;
	}
	if (sg_dsse_envelope_parse(&p->env, bytes.ptr, bytes.size) < 0) {
		err = set_bad(s, sg_error_last());
		sg_error_clear();
		goto done;
	}
	if (strcmp(p->env.payload_type, SG_ATTEST_PAYLOAD_TYPE) != 0) {
		err = set_bad(s, "the envelope's payloadType is not " SG_ATTEST_PAYLOAD_TYPE);
		goto done;
	}
	if ((err = sg_dsse_pae(&p->pae, p->env.payload_type, p->env.payload.ptr, p->env.payload.size)) < 0)
		goto done;
	if ((why = parse_statement(p)) != NULL)
		err = set_bad(s, why);
done:
	sg_buf_dispose(&bytes);
	return err;
}

/* ---- the signature, checked once per profile ---- */

static const sg_dsse_sig *sig_by(const env_parts *p, const char *keyid)
{
	size_t i;

	for (i = 0; i < p->env.nsigs; i++)
		if (strcasecmp(p->env.sigs[i].keyid, keyid) == 0)
			return &p->env.sigs[i];
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

static int cms_check(const env_parts *p, const sg_event *para, const sg_profile *prof,
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
	if ((err = sg_cms_cert_trusted(&pub, &cert, chain, nchain, prof, p->when)) < 0)
		goto done;
	err = SG_EVERIFY;
	if (!(md = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) != 1 ||
	    EVP_DigestVerify(md, (const unsigned char *)sig->sig.ptr, sig->sig.size,
			     (const unsigned char *)p->pae.ptr, p->pae.size) != 1)
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

static int signature_check(const env_parts *p, const sg_event *para, const sg_profile *prof,
			   const char *id)
{
	const sg_dsse_sig *sig = sig_by(p, id);

	if (!sig)
		return sg_error_set(SG_EVERIFY, "the envelope has no signature by %s", id);
	if (prof->format && strcmp(prof->format, "openpgp") == 0)
		return sg_attest_pgp_verify(&sig->sig, &p->pae, id, prof);
	return cms_check(p, para, prof, id, sig);
}

/* The verdict for one profile: ok, refused with the reason, or an error
 * (kept to be raised when an event needs it; the summary is then never
 * cached). */
static int add_verdict(sg_att_summary *s, const env_parts *p, const sg_event *para,
		       const sg_profile *prof, const char *id)
{
	sg_att_pv *grown, *pv;
	int r, err;

	if (!(grown = realloc(s->pv, (s->npv + 1) * sizeof(*grown))))
		return sg_error_set(SG_ERROR, "out of memory");
	s->pv = grown;
	pv = &s->pv[s->npv];
	memset(pv, 0, sizeof(*pv));
	r = signature_check(p, para, prof, id);
	pv->state = r == SG_OK ? SG_ATT_OK : r == SG_ERROR ? SG_ATT_ERROR : SG_ATT_REFUSED;
	if (pv->state == SG_ATT_ERROR)
		s->cacheable = 0;
	if ((err = str_add(&pv->profile, s, prof->name)) == SG_OK && pv->state != SG_ATT_OK)
		err = str_add(&pv->reason, s, sg_error_last() ? sg_error_last() : "not verified");
	sg_error_clear();
	if (err == SG_OK)
		s->npv++;
	return err;
}

/* ---- the statement, reduced ---- */

/* The first element of arr with "name" (or `key`) `value`. */
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

/* name -> first element of arr with that name, built once (O(n)). */
static json_t *map_by_name(json_t *arr)
{
	json_t *map = json_object(), *o;
	size_t i;

	json_array_foreach(arr, i, o) {
		const char *v = json_str(o, "name");

		if (map && v && !json_object_get(map, v))
			json_object_set(map, v, o);
	}
	return map;
}

/* The subject (first of its name) with what the statement says of its artifact. */
static int add_subject(sg_att_summary *s, const env_parts *p, json_t *subj, json_t *arts)
{
	const char *name = json_str(subj, "name"), *profile;
	sg_att_subject *x = &s->subj[s->nsubj];
	json_t *art, *signer;
	int err;

	if (!name || *slot_of(s, name))
		return SG_OK;
	art = json_object_get(arts, name);
	profile = json_str(art, "profile");
	signer = profile ? array_find(json_object_get(p->event, "signers"), "profile", profile) : NULL;
	if ((err = str_add(&x->name, s, name)) < 0 ||
	    (err = str_add(&x->sha256, s, json_str(json_object_get(subj, "digest"), "sha256"))) < 0 ||
	    (err = str_add(&x->profile, s, profile)) < 0 ||
	    (err = str_add(&x->sig_sha, s, json_str(art, "signatureSha256"))) < 0 ||
	    (err = str_add(&x->id, s, json_str(signer, "id"))) < 0)
		return err;
	s->nsubj++;
	*slot_of(s, name) = s->nsubj;
	return SG_OK;
}

/* The subjects (first of each name) and the verdict of every profile of
 * the policy that one of them names. */
static int reduce(sg_att_summary *s, const env_parts *p, const sg_event *para, const sg_policy *pol)
{
	json_t *subjects = json_object_get(p->statement, "subject"), *arts, *o;
	const sg_profile *prof;
	size_t i, n = json_array_size(subjects);
	uint32_t k;
	int err = SG_OK;

	if (n > UINT32_MAX / 4)
		return sg_error_set(SG_ERROR, "an attestation too large to summarise");
	if (!(arts = map_by_name(json_object_get(p->event, "artifacts"))) ||
	    !(s->subj = calloc(n ? n : 1, sizeof(*s->subj)))) {
		json_decref(arts);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	if ((err = slots_alloc(s, n)) == SG_OK && (err = str_add(&s->commit, s, json_str(p->event, "commit"))) == SG_OK)
		err = str_add(&s->tag, s, json_str(p->event, "tag"));
	json_array_foreach(subjects, i, o) {
		if (err < 0)
			break;
		err = add_subject(s, p, o, arts);
	}
	json_decref(arts);
	for (k = 0; err == SG_OK && k < s->nsubj; k++) {
		const char *pname = sg_att_str(s, s->subj[k].profile), *id = sg_att_str(s, s->subj[k].id);

		if (pname && id && (prof = sg_policy_profile(pol, pname)) && !sg_att_pv_find(s, pname))
			err = add_verdict(s, p, para, prof, id);
	}
	if (err == SG_OK && p->when == 0)
		s->cacheable = 0; /* judged at the current time (sg_cms_cert_trusted) */
	return err;
}

int sg_att_summary_build(sg_att_summary **out, const sg_event *para, const sg_policy *pol)
{
	sg_att_summary *s = NULL;
	env_parts p;
	int err;

	memset(&p, 0, sizeof(p));
	if ((err = summary_new(&s)) < 0)
		return err;
	if ((err = sg_att_para_key(s->pkey, para)) == SG_OK && (err = env_load(&p, s, para)) == SG_OK && !s->bad)
		err = reduce(s, &p, para, pol);
	parts_release(&p);
	if (err < 0) {
		sg_att_summary_free(s);
		return err;
	}
	*out = s;
	return SG_OK;
}

/* ---- the bytes kept in the cache ----
 *
 * u32 magic, version, bad, commit, tag, nsubj, npv, strings size;
 * subj[nsubj] (5 x u32); pv[npv] (3 x u32); the strings. Native byte
 * order (the cache file's header checks it). */

#define SUM_HEAD 8

int sg_att_summary_encode(sg_buf *out, const sg_att_summary *s)
{
	uint32_t h[SUM_HEAD] = { SUM_MAGIC, SUM_VERSION, s->bad, s->commit, s->tag, s->nsubj, s->npv,
				 (uint32_t)s->strings.size };
	int err;

	sg_buf_clear(out);
	if ((err = sg_buf_put(out, h, sizeof(h))) == SG_OK && s->nsubj)
		err = sg_buf_put(out, s->subj, s->nsubj * sizeof(*s->subj));
	if (err == SG_OK && s->npv)
		err = sg_buf_put(out, s->pv, s->npv * sizeof(*s->pv));
	return err == SG_OK ? sg_buf_put(out, s->strings.ptr, s->strings.size) : err;
}

static int off_ok(const sg_att_summary *s, uint32_t off)
{
	return off < s->strings.size;
}

/* Every offset inside the strings, each subject named once, the verdicts
 * cacheable ones, and one for every profile of the policy that a subject
 * names with a signer (as sg_att_summary_build makes them). */
static int consistent(sg_att_summary *s, const sg_policy *pol)
{
	uint32_t i, *slot;

	if (!off_ok(s, s->bad) || !off_ok(s, s->commit) || !off_ok(s, s->tag) ||
	    (s->bad && (s->nsubj || s->npv || s->commit || s->tag)) || slots_alloc(s, s->nsubj) < 0) {
		sg_error_clear();
		return 0;
	}
	for (i = 0; i < s->npv; i++)
		if (!s->pv[i].profile || !off_ok(s, s->pv[i].profile) || !off_ok(s, s->pv[i].reason) ||
		    (s->pv[i].state != SG_ATT_OK && s->pv[i].state != SG_ATT_REFUSED) ||
		    (s->pv[i].state == SG_ATT_REFUSED && !s->pv[i].reason) ||
		    !sg_policy_profile(pol, sg_att_str(s, s->pv[i].profile)))
			return 0;
	for (i = 0; i < s->nsubj; i++) {
		const sg_att_subject *x = &s->subj[i];
		const char *pname = sg_att_str(s, x->profile);

		if (!x->name || !off_ok(s, x->name) || !off_ok(s, x->sha256) || !off_ok(s, x->profile) ||
		    !off_ok(s, x->sig_sha) || !off_ok(s, x->id) || *(slot = slot_of(s, sg_att_str(s, x->name))))
			return 0;
		*slot = i + 1;
		if (pname && x->id && sg_policy_profile(pol, pname) && !sg_att_pv_find(s, pname))
			return 0;
	}
	return 1;
}

int sg_att_summary_decode(sg_att_summary **out, const void *data, size_t len, const sg_policy *pol)
{
	const unsigned char *p = data;
	uint32_t h[SUM_HEAD];
	sg_att_summary *s = NULL;
	size_t need;
	int err;

	if (len < sizeof(h))
		return sg_error_set(SG_EVERIFY, "a cached attestation verdict is truncated");
	memcpy(h, p, sizeof(h));
	need = sizeof(h) + (size_t)h[5] * sizeof(sg_att_subject) + (size_t)h[6] * sizeof(sg_att_pv) + h[7];
	if (h[0] != SUM_MAGIC || h[1] != SUM_VERSION || need != len || h[7] < 1 || p[len - 1] != '\0' ||
	    p[len - h[7]] != '\0')
		return sg_error_set(SG_EVERIFY, "a cached attestation verdict is not one this signgate wrote");
	if ((err = summary_new(&s)) < 0)
		return err;
	sg_buf_clear(&s->strings);
	s->bad = h[2];
	s->commit = h[3];
	s->tag = h[4];
	s->nsubj = h[5];
	s->npv = h[6];
	p += sizeof(h);
	if (!(s->subj = calloc(s->nsubj ? s->nsubj : 1, sizeof(*s->subj))) ||
	    !(s->pv = calloc(s->npv ? s->npv : 1, sizeof(*s->pv)))) {
		err = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	memcpy(s->subj, p, s->nsubj * sizeof(*s->subj));
	p += s->nsubj * sizeof(*s->subj);
	memcpy(s->pv, p, s->npv * sizeof(*s->pv));
	p += s->npv * sizeof(*s->pv);
	if ((err = sg_buf_put(&s->strings, p, h[7])) < 0)
		goto done;
	err = consistent(s, pol) ? SG_OK : sg_error_set(SG_EVERIFY, "a cached attestation verdict is inconsistent");
done:
	if (err < 0) {
		sg_att_summary_free(s);
		return err;
	}
	*out = s;
	return SG_OK;
}

/* ---- what else a summary depends on ----
 *
 * sg_att_summary_build reads: the paragraph (sg_att_para_key); the
 * statement's timeVerified, inside the envelope (0: the current time, and
 * such a summary is never cached); the policy's profiles by name, and of
 * each: format, trustAnchor (the certificates in the file, so its
 * contents), key and allowedKey (openpgp), test (read again at each
 * judgement, bound anyway); for openpgp the keyring GPGME reads (public
 * keys, revocations); and this program's own rules (SG_VERSION). The
 * event's paragraph and the note's commit are matched afresh every time. */

static int hash_file(EVP_MD_CTX *h, const char *path)
{
	sg_buf b = SG_BUF_INIT;
	int ok;

	if (!path || sg_file_read_all(&b, path, (size_t)64 << 20) < 0) {
		sg_error_clear();
		return hash_str(h, "(no file)") && hash_str(h, path ? path : "");
	}
	ok = hash_str(h, "(file)") && EVP_DigestUpdate(h, b.ptr ? b.ptr : "", b.size) == 1;
	sg_buf_dispose(&b);
	return ok;
}

/* The public keyring of GPGME's home (gpg 2.2: pubring.kbx, or the
 * legacy pubring.gpg; keyboxd's database when there is one). */
static int hash_keyring(EVP_MD_CTX *h)
{
	static const char *const files[] = { "pubring.kbx", "pubring.gpg", "public-keys.d/pubring.db" };
	const char *home;
	char path[4096];
	size_t i;
	int ok = 1;

	gpgme_check_version(NULL);
	home = gpgme_get_dirinfo("homedir");
	for (i = 0; ok && i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", home ? home : "", files[i]);
		ok = hash_file(h, path);
	}
	return ok;
}

static int hash_profile(EVP_MD_CTX *h, const sg_profile *p, int *pgp)
{
	size_t i;
	int ok = hash_str(h, p->name) && hash_str(h, p->format ? p->format : "") &&
		 hash_str(h, p->key ? p->key : "") && hash_str(h, p->test ? "test" : "production") &&
		 hash_file(h, p->trust_anchor && *p->trust_anchor ? p->trust_anchor : NULL);

	for (i = 0; ok && i < p->allowed_key.n; i++)
		ok = hash_str(h, p->allowed_key.v[i]);
	if (p->format && strcmp(p->format, "openpgp") == 0)
		*pgp = 1;
	return ok;
}

int sg_att_policy_key(unsigned char out[32], const sg_policy *pol)
{
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
		 hash_str(h, "signgate attestation verdict inputs v1, signgate " SG_VERSION), pgp = 0;
	size_t i;

	for (i = 0; ok && pol && i < pol->nprofiles; i++)
		ok = hash_str(h, "(profile)") && hash_profile(h, &pol->profiles[i], &pgp);
	if (ok && pgp)
		ok = hash_str(h, "(keyring)") && hash_keyring(h);
	ok = ok && EVP_DigestFinal_ex(h, out, NULL) == 1;
	EVP_MD_CTX_free(h);
	return ok ? SG_OK : sg_error_set_openssl(SG_ERROR, "cannot hash the policy's trust inputs");
}
