/* The in-toto Statement v1 of a batch: one subject per artifact, predicate
 * SLSA Verification Summary v1 with signgate's event beside its fields. */
#include "attest/attest.h"
#include "core/error.h"
#include "core/json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int sg_attest_name(sg_buf *out, const char *name)
{
	sg_event tmp = { NULL, 0 };
	json_t *j;
	const unsigned char *p;
	int err;

	/* the name as the note's Artifact: holds it (control characters as spaces, trimmed) */
	if ((err = sg_event_add(&tmp, "Artifact", name)) < 0)
		return err;
	if ((j = json_string(tmp.f[0].value))) {
		json_decref(j);
		err = sg_buf_puts(out, tmp.f[0].value);
	} else {
		for (p = (const unsigned char *)tmp.f[0].value; *p && err == SG_OK; p++)
			err = *p < 0x80 ? sg_buf_put(out, p, 1) : sg_buf_printf(out, "\\x%02x", *p);
	}
	sg_event_release(&tmp);
	return err;
}

/* The VSA's policy: {"uri": origin, "digest": {gitBlob|sha256: ...}}. */
static json_t *policy_json(const char *origin)
{
	json_t *p = json_object(), *d = json_object();
	const char *sha = origin ? strstr(origin, " sha256 ") : NULL;
	char blob[GIT_OID_HEXSZ + 1];

	json_object_set_new(p, "uri", json_string(origin ? origin : "-"));
	if (origin && strncmp(origin, "blob ", 5) == 0 && strlen(origin) >= 5 + GIT_OID_HEXSZ) {
		memcpy(blob, origin + 5, GIT_OID_HEXSZ);
		blob[GIT_OID_HEXSZ] = '\0';
		json_object_set_new(d, "gitBlob", json_string(blob));
	} else if (sha && strlen(sha + 8) == 64) {
		json_object_set_new(d, "sha256", json_string(sha + 8));
	}
	json_object_set_new(p, "digest", d);
	return p;
}

/* [{"name": person, "shownBy": ["IDENTITY via SOURCE", ...]}, ...] */
static json_t *people_json(const sg_gate_people *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < p->n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(p->v[i].name));
		json_object_set_new(o, "shownBy", sg_json_strlist(&p->v[i].shown_by));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *gate_json(const sg_gate_result *g)
{
	json_t *o, *rules;
	size_t i;

	if (!g)
		return json_null();
	o = json_object();
	rules = json_array();
	json_object_set_new(o, "allowed", json_boolean(g->allowed));
	json_object_set_new(o, "summary", sg_json_str_or_null(g->summary));
	json_object_set_new(o, "branch", sg_json_str_or_null(g->branch_ref));
	json_object_set_new(o, "requiredReviews", json_integer(g->required_reviews));
	json_object_set_new(o, "reviewers", sg_json_strlist(&g->reviewers));
	json_object_set_new(o, "persons", json_boolean(g->persons));
	json_object_set_new(o, "people", people_json(&g->people));
	json_object_set_new(o, "authors", people_json(&g->authors));
	json_object_set_new(o, "reviewSources", sg_json_strlist(&g->review_sources_used));
	for (i = 0; i < g->nrules; i++) {
		json_t *r = json_object();
		json_object_set_new(r, "name", json_string(g->rules[i].name));
		json_object_set_new(r, "ok", json_boolean(g->rules[i].ok));
		json_object_set_new(r, "evidence", sg_json_str_or_null(g->rules[i].evidence));
		json_array_append_new(rules, r);
	}
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "evidence", sg_json_strlist(&g->evidence_lines));
	json_object_set_new(o, "signer", sg_json_str_or_null(g->signer));
	return o;
}

static json_t *signers_json(const sg_attest_batch *b)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < b->nsigners; i++) {
		const sg_attest_signer *s = &b->signers[i];
		json_t *o = json_object();
		json_object_set_new(o, "profile", json_string(s->profile));
		json_object_set_new(o, "format", json_string(s->format));
		json_object_set_new(o, "idKey", json_string(s->id_key));
		json_object_set_new(o, "id", json_string(s->id));
		json_object_set_new(o, "subject", sg_json_str_or_null(s->subject));
		json_object_set_new(o, "keyStorage", json_string(s->hardware ? "hardware" : "software"));
		json_object_set_new(o, "test", json_boolean(s->test));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *artifacts_json(const sg_attest_batch *b)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < b->nartifacts; i++) {
		const sg_attest_artifact *x = &b->artifacts[i];
		json_t *o = json_object();
		sg_buf nb = SG_BUF_INIT;

		if (sg_attest_name(&nb, x->name) == SG_OK)
			json_object_set_new(o, "name", json_string(nb.ptr));
		sg_buf_dispose(&nb);
		json_object_set_new(o, "size", json_integer((json_int_t)x->size));
		json_object_set_new(o, "profile", json_string(x->profile));
		json_object_set_new(o, "signatureSha256", json_string(x->signature_sha256));
		json_object_set_new(o, "timestamp", sg_json_str_or_null(x->timestamp));
		json_object_set_new(o, "scan", sg_json_str_or_null(x->scan));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *event_json(const sg_attest_batch *b)
{
	json_t *e = json_object();

	json_object_set_new(e, "event", json_string("sign"));
	json_object_set_new(e, "commit", json_string(b->commit));
	json_object_set_new(e, "tag", sg_json_str_or_null(b->tag));
	json_object_set_new(e, "policy", sg_json_str_or_null(b->policy));
	json_object_set_new(e, "gate", gate_json(b->gate));
	json_object_set_new(e, "signers", signers_json(b));
	json_object_set_new(e, "artifacts", artifacts_json(b));
	json_object_set_new(e, "signedBy", sg_json_str_or_null(b->signed_by));
	json_object_set_new(e, "signedAt", sg_json_str_or_null(b->signed_at));
	json_object_set_new(e, "tool", json_string("signgate " SG_VERSION));
	return e;
}

static json_t *predicate_json(const sg_attest_batch *b)
{
	json_t *p = json_object(), *v = json_object(), *ver = json_object();
	char uri[64];

	json_object_set_new(ver, "signgate", json_string(SG_VERSION));
	json_object_set_new(v, "id", json_string(SG_ATTEST_VERIFIER_ID));
	json_object_set_new(v, "version", ver);
	json_object_set_new(p, "verifier", v);
	json_object_set_new(p, "timeVerified", sg_json_str_or_null(b->signed_at));
	snprintf(uri, sizeof(uri), "git+commit:%s", b->commit);
	json_object_set_new(p, "resourceUri", json_string(uri));
	json_object_set_new(p, "policy", policy_json(b->policy));
	json_object_set_new(p, "verificationResult", json_string("PASSED"));
	json_object_set_new(p, "verifiedLevels", json_array());
	json_object_set_new(p, "signgate", event_json(b));
	return p;
}

int sg_attest_statement(sg_buf *out, const sg_attest_batch *b)
{
	json_t *st = json_object(), *subjects = json_array();
	char *text = NULL;
	size_t i;
	int err = SG_ERROR;

	if (!st || !subjects)
		goto oom;
	json_object_set_new(st, "_type", json_string(SG_ATTEST_STATEMENT_TYPE));
	for (i = 0; i < b->nartifacts; i++) {
		json_t *s = json_object(), *d = json_object(), *name;
		sg_buf nb = SG_BUF_INIT;

		err = sg_attest_name(&nb, b->artifacts[i].name);
		name = err == SG_OK ? json_string(nb.ptr) : NULL;
		sg_buf_dispose(&nb);
		if (!name) {
			json_decref(s);
			json_decref(d);
			goto oom;
		}
		json_object_set_new(d, "sha256", json_string(b->artifacts[i].sha256));
		json_object_set_new(s, "name", name);
		json_object_set_new(s, "digest", d);
		if (json_array_append_new(subjects, s) < 0)
			goto oom;
	}
	json_object_set_new(st, "subject", subjects);
	subjects = NULL;
	json_object_set_new(st, "predicateType", json_string(SG_ATTEST_PREDICATE_TYPE));
	json_object_set_new(st, "predicate", predicate_json(b));
	/* A NULL from a failed allocation anywhere above leaves a member out:
	 * the statement is checked for completeness by dumping it whole. */
	if (!(text = json_dumps(st, JSON_COMPACT)) ||
	    json_array_size(json_object_get(st, "subject")) != b->nartifacts ||
	    !json_object_get(st, "predicate"))
		goto oom;
	err = sg_buf_puts(out, text);
	goto done;
oom:
	err = sg_error_set(SG_ERROR, "out of memory building the attestation");
done:
	free(text);
	json_decref(subjects);
	json_decref(st);
	return err;
}
