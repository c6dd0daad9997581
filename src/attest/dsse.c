/* DSSE v1: the pre-authentication encoding, the envelope's JSON, and the
 * note paragraph that stores it. */
#include "attest/attest.h"
#include "core/base64.h"
#include "core/error.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

int sg_dsse_pae(sg_buf *out, const char *type, const void *body, size_t len)
{
	int err;

	if ((err = sg_buf_printf(out, "DSSEv1 %zu %s %zu ", strlen(type), type, len)) < 0)
		return err;
	return sg_buf_put(out, body, len);
}

static json_t *b64_json(const void *data, size_t len)
{
	sg_buf b = SG_BUF_INIT;
	json_t *s = NULL;

	if (sg_base64_encode(&b, data, len) == SG_OK)
		s = json_stringn(b.ptr, b.size);
	sg_buf_dispose(&b);
	return s;
}

int sg_dsse_envelope_json(sg_buf *out, const void *payload, size_t len,
			  const sg_dsse_sig *sigs, size_t nsigs)
{
	json_t *env = json_object(), *arr = json_array();
	char *text = NULL;
	size_t i;
	int err = SG_ERROR;

	if (!env || !arr || json_object_set_new(env, "payload", b64_json(payload, len)) < 0 ||
	    json_object_set_new(env, "payloadType", json_string(SG_ATTEST_PAYLOAD_TYPE)) < 0)
		goto oom;
	for (i = 0; i < nsigs; i++) {
		json_t *s = json_object();
		if (!s || json_array_append_new(arr, s) < 0 ||
		    json_object_set_new(s, "keyid", json_string(sigs[i].keyid)) < 0 ||
		    json_object_set_new(s, "sig", b64_json(sigs[i].sig.ptr, sigs[i].sig.size)) < 0)
			goto oom;
	}
	if (json_object_set(env, "signatures", arr) < 0 || !(text = json_dumps(env, JSON_COMPACT)))
		goto oom;
	err = sg_buf_puts(out, text);
	goto done;
oom:
	err = sg_error_set(SG_ERROR, "out of memory building the DSSE envelope");
done:
	free(text);
	json_decref(arr);
	json_decref(env);
	return err;
}

static int b64_member(sg_buf *out, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) ||
	    sg_base64_decode(out, json_string_value(v), json_string_length(v)) < 0) {
		sg_error_clear();
		return sg_error_set(SG_EVERIFY, "the envelope's %s is not base64", key);
	}
	return SG_OK;
}

static int parse_sigs(sg_dsse_envelope *e, json_t *arr)
{
	size_t i, n = json_array_size(arr);
	int err;

	if (!json_is_array(arr) || n == 0 || n > 64)
		return sg_error_set(SG_EVERIFY, "the envelope has no signatures");
	if (!(e->sigs = calloc(n, sizeof(*e->sigs))))
		return sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < n; i++) {
		json_t *s = json_array_get(arr, i), *k = json_object_get(s, "keyid");
		e->nsigs++;
		if (!json_is_string(k))
			return sg_error_set(SG_EVERIFY, "an envelope signature has no keyid");
		if (!(e->sigs[i].keyid = strdup(json_string_value(k))))
			return sg_error_set(SG_ERROR, "out of memory");
		if ((err = b64_member(&e->sigs[i].sig, s, "sig")) < 0)
			return err;
	}
	return SG_OK;
}

int sg_dsse_envelope_parse(sg_dsse_envelope *out, const char *json, size_t len)
{
	sg_dsse_envelope e;
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr), *t;
	int err = SG_EVERIFY;

	memset(&e, 0, sizeof(e));
	if (!json_is_object(root)) {
		err = sg_error_set(SG_EVERIFY, "the envelope is not a JSON object: %s", jerr.text);
		goto done;
	}
	t = json_object_get(root, "payloadType");
	if (!json_is_string(t)) {
		err = sg_error_set(SG_EVERIFY, "the envelope has no payloadType");
		goto done;
	}
	if (!(e.payload_type = strdup(json_string_value(t)))) {
		err = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if ((err = b64_member(&e.payload, root, "payload")) < 0 ||
	    (err = parse_sigs(&e, json_object_get(root, "signatures"))) < 0)
		goto done;
	*out = e;
	memset(&e, 0, sizeof(e));
	err = SG_OK;
done:
	sg_dsse_envelope_release(&e);
	json_decref(root);
	return err;
}

void sg_dsse_envelope_release(sg_dsse_envelope *e)
{
	size_t i;

	for (i = 0; i < e->nsigs; i++) {
		free(e->sigs[i].keyid);
		sg_buf_dispose(&e->sigs[i].sig);
	}
	free(e->sigs);
	free(e->payload_type);
	sg_buf_dispose(&e->payload);
	memset(e, 0, sizeof(*e));
}

/* Add one field whose value is long (base64): sg_event_add caps values at
 * SG_EVENT_VALUE_MAX for hand-written text; these are made here. */
static int add_b64_field(sg_event *ev, const char *key, const void *data, size_t len)
{
	sg_buf b = SG_BUF_INIT;
	int err;

	if ((err = sg_base64_encode(&b, data, len)) == SG_OK)
		err = sg_event_add_long(ev, key, b.ptr);
	sg_buf_dispose(&b);
	return err;
}

int sg_attest_paragraph(sg_event *out, char sha_hex[65], const sg_buf *envelope,
			const sg_buf *certs, size_t ncerts, const sg_buf *chain, size_t nchain)
{
	sg_event ev = { NULL, 0 };
	unsigned char md[32];
	size_t i;
	int err;

	SHA256((const unsigned char *)envelope->ptr, envelope->size, md);
	sg_hex(sha_hex, md, 32);
	if ((err = sg_event_add(&ev, SG_ATTEST_KEY, "dsse")) < 0 ||
	    (err = sg_event_add(&ev, SG_ATTEST_SHA_KEY, sha_hex)) < 0)
		goto done;
	for (i = 0; i < ncerts; i++)
		if ((err = add_b64_field(&ev, "Attestation-Cert", certs[i].ptr, certs[i].size)) < 0)
			goto done;
	for (i = 0; i < nchain; i++)
		if ((err = add_b64_field(&ev, "Attestation-Chain", chain[i].ptr, chain[i].size)) < 0)
			goto done;
	if ((err = add_b64_field(&ev, "Attestation", envelope->ptr, envelope->size)) < 0)
		goto done;
	*out = ev;
	memset(&ev, 0, sizeof(ev));
done:
	sg_event_release(&ev);
	return err;
}
