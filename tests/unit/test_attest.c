/* Unit tests for src/attest: the DSSE PAE (the spec's own vector), base64,
 * the envelope's JSON both ways (hostile input refused), the statement's
 * subjects, the note paragraph, and the judgement's refusals that need no
 * key (the signatures themselves are checked end to end in t0410/t0411). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "attest/judge_int.h"
#include "core/base64.h"
#include "core/error.h"
#include "support.h"

#include <sys/stat.h>
#include <unistd.h>

static void test_pae_spec_vector(void **state)
{
	sg_buf b = SG_BUF_INIT;

	(void)state;
	/* DSSE v1 protocol.md: PAE("http://example.com/HelloWorld", "hello world") */
	assert_int_equal(sg_dsse_pae(&b, "http://example.com/HelloWorld", "hello world", 11), SG_OK);
	assert_int_equal(b.size, strlen("DSSEv1 29 http://example.com/HelloWorld 11 hello world"));
	assert_memory_equal(b.ptr, "DSSEv1 29 http://example.com/HelloWorld 11 hello world", b.size);
	sg_buf_clear(&b);
	assert_int_equal(sg_dsse_pae(&b, "t", "", 0), SG_OK);
	assert_string_equal(b.ptr, "DSSEv1 1 t 0 ");
	sg_buf_dispose(&b);
}

static void test_base64(void **state)
{
	static const unsigned char bin[] = { 0, 0xff, 0x10, 'a', 'b' };
	sg_buf e = SG_BUF_INIT, d = SG_BUF_INIT;
	size_t n;

	(void)state;
	for (n = 0; n <= sizeof(bin); n++) {
		sg_buf_clear(&e);
		sg_buf_clear(&d);
		assert_int_equal(sg_base64_encode(&e, bin, n), SG_OK);
		assert_int_equal(e.size % 4, 0);
		assert_int_equal(sg_base64_decode(&d, e.ptr, e.size), SG_OK);
		assert_int_equal(d.size, n);
		assert_memory_equal(d.ptr, bin, n);
	}
	sg_buf_clear(&e);
	assert_int_equal(sg_base64_encode(&e, "hello", 5), SG_OK);
	assert_string_equal(e.ptr, "aGVsbG8=");
	/* the twins: anything but canonical padded base64 is refused */
	assert_int_equal(sg_base64_decode(&d, "aGVsbG8", 7), SG_ERROR);
	assert_int_equal(sg_base64_decode(&d, "aGV sbG8", 8), SG_ERROR);
	assert_int_equal(sg_base64_decode(&d, "aG=sbG8=", 8), SG_ERROR);
	assert_int_equal(sg_base64_decode(&d, "aGVs\nbG8", 8), SG_ERROR);
	sg_error_clear();
	sg_buf_dispose(&e);
	sg_buf_dispose(&d);
}

static void test_envelope_roundtrip(void **state)
{
	sg_dsse_sig sigs[2] = { { "key-a", SG_BUF_INIT }, { "key-b", SG_BUF_INIT } };
	sg_buf json = SG_BUF_INIT;
	sg_dsse_envelope env;
	json_t *root;

	(void)state;
	sg_buf_put(&sigs[0].sig, "\x30\x01\x02", 3);
	sg_buf_put(&sigs[1].sig, "sig-b", 5);
	assert_int_equal(sg_dsse_envelope_json(&json, "{\"a\":1}", 7, sigs, 2), SG_OK);
	root = json_loads(json.ptr, 0, NULL);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "payloadType")), SG_ATTEST_PAYLOAD_TYPE);
	assert_string_equal(json_string_value(json_object_get(root, "payload")), "eyJhIjoxfQ==");
	json_decref(root);
	assert_null(memchr(json.ptr, '\n', json.size));
	assert_int_equal(sg_dsse_envelope_parse(&env, json.ptr, json.size), SG_OK);
	assert_string_equal(env.payload_type, SG_ATTEST_PAYLOAD_TYPE);
	assert_int_equal(env.payload.size, 7);
	assert_memory_equal(env.payload.ptr, "{\"a\":1}", 7);
	assert_int_equal(env.nsigs, 2);
	assert_string_equal(env.sigs[1].keyid, "key-b");
	assert_memory_equal(env.sigs[0].sig.ptr, "\x30\x01\x02", 3);
	sg_dsse_envelope_release(&env);
	sg_buf_dispose(&json);
	sg_buf_dispose(&sigs[0].sig);
	sg_buf_dispose(&sigs[1].sig);
}

static void test_envelope_hostile(void **state)
{
	static const char *bad[] = {
		"", "[]", "{\"payloadType\":\"x\",\"payload\":\"e30=\"}",
		"{\"payloadType\":\"x\",\"payload\":\"e30=\",\"signatures\":[]}",
		"{\"payloadType\":\"x\",\"payload\":\"e30\",\"signatures\":[{\"keyid\":\"k\",\"sig\":\"AA==\"}]}",
		"{\"payloadType\":\"x\",\"payload\":\"e30=\",\"signatures\":[{\"sig\":\"AA==\"}]}",
		"{\"payloadType\":\"x\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":\"k\",\"sig\":\"A A=\"}]}",
		"{\"payloadType\":\"x\",\"payload\":\"e30=\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":\"k\",\"sig\":\"AA==\"}]}",
	};
	sg_dsse_envelope env;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sg_dsse_envelope_parse(&env, bad[i], strlen(bad[i])), SG_EVERIFY);
	/* the twin: the same shape, well formed */
	{
		static const char good[] = "{\"payloadType\":\"x\",\"payload\":\"e30=\","
					   "\"signatures\":[{\"keyid\":\"k\",\"sig\":\"AA==\"}]}";
		assert_int_equal(sg_dsse_envelope_parse(&env, good, strlen(good)), SG_OK);
	}
	sg_dsse_envelope_release(&env);
	sg_error_clear();
}

static void test_statement(void **state)
{
	sg_attest_artifact arts[2] = {
		{ "dist/a.tar.gz", "aa", 10, "release", "s1", "none", "clamav" },
		{ "dist/b.txt", "bb", 2, "release", "s2", "none", "clamav" },
	};
	sg_attest_signer sg1 = { "release", "cms", "Signer-Cert-Sha256", "cc", "CN=x", 1, 0 };
	sg_attest_batch b = { "0123456789012345678901234567890123456789", "v1.0",
			      "blob 4b825dc642cb6eb9a060e54bf8d69288fbee4904 at refs/heads/main",
			      NULL, "Alice <a@x>", "2026-11-30T10:00:00Z", arts, 2, &sg1, 1 };
	sg_buf out = SG_BUF_INIT;
	json_t *st, *pred;

	(void)state;
	assert_int_equal(sg_attest_statement(&out, &b), SG_OK);
	st = json_loads(out.ptr, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "_type")), SG_ATTEST_STATEMENT_TYPE);
	assert_int_equal(json_array_size(json_object_get(st, "subject")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(st, "subject"), 1),
							      "name")), "dist/b.txt");
	pred = json_object_get(st, "predicate");
	assert_string_equal(json_string_value(json_object_get(pred, "verificationResult")), "PASSED");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(pred, "policy"),
		"digest"), "gitBlob")), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
	assert_string_equal(json_string_value(json_object_get(json_object_get(pred, "signgate"), "commit")),
			    "0123456789012345678901234567890123456789");
	json_decref(st);
	/* a name that is not UTF-8 is named with \xHH escapes; a control
	 * character becomes a space, as in the note */
	arts[0].name = "dist/a\nb.txt";
	arts[1].name = "dist/\xff.txt";
	sg_buf_clear(&out);
	assert_int_equal(sg_attest_statement(&out, &b), SG_OK);
	st = json_loads(out.ptr, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(st, "subject"), 1),
							      "name")), "dist/\\xff.txt");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(st, "subject"), 0),
							      "name")), "dist/a b.txt");
	json_decref(st);
	sg_buf_dispose(&out);
}

/* A note with one attestation paragraph (an envelope with a bad signature)
 * and the judgement's refusals before any key is needed. */
static void test_judge_refusals(void **state)
{
	sg_dsse_sig sig = { "cc", SG_BUF_INIT };
	sg_buf env = SG_BUF_INIT, note = SG_BUF_INIT, cert = SG_BUF_INIT;
	sg_event para = { NULL, 0 }, ev = { NULL, 0 };
	sg_attest_ctx *ctx = NULL;
	sg_attest_note *n = NULL;
	sg_attest_verdict v;
	git_oid commit;
	char sha[65];

	(void)state;
	sg_buf_put(&sig.sig, "x", 1);
	sg_buf_put(&cert, "not a certificate", 17);
	assert_int_equal(sg_dsse_envelope_json(&env, "{}", 2, &sig, 1), SG_OK);
	assert_int_equal(sg_attest_paragraph(&para, sha, &env, &cert, 1, NULL, 0), SG_OK);
	assert_string_equal(para.f[0].key, SG_ATTEST_KEY);
	assert_int_equal(sg_event_format(&para, &note), SG_OK);
	git_oid_fromstr(&commit, "0123456789012345678901234567890123456789");
	assert_int_equal(sg_attest_ctx_new(&ctx, NULL), SG_OK);
	assert_int_equal(sg_attest_note_open(&n, ctx, &commit, note.ptr, note.size), SG_OK);

	sg_event_add(&ev, "Signgate-Event", "sign");
	sg_event_add(&ev, "Artifact", "a");
	assert_int_equal(sg_attest_judge(&v, n, &ev), SG_OK);
	assert_int_equal(v.attested, 0);
	assert_non_null(strstr(v.reason, "no Attestation-Sha256"));

	sg_event_add(&ev, SG_ATTEST_SHA_KEY, "00000000000000000000000000000000000000000000000000000000000000ff");
	assert_int_equal(sg_attest_judge(&v, n, &ev), SG_OK);
	assert_int_equal(v.attested, 0);
	assert_non_null(strstr(v.reason, "not in the note"));

	sg_event_release(&ev);
	sg_event_add(&ev, "Signgate-Event", "sign");
	sg_event_add(&ev, SG_ATTEST_SHA_KEY, sha);
	assert_int_equal(sg_attest_judge(&v, n, &ev), SG_OK);
	assert_int_equal(v.attested, 0);
	assert_non_null(strstr(v.reason, "not an in-toto Statement"));

	sg_attest_note_free(n);
	sg_attest_ctx_free(ctx);
	sg_event_release(&ev);
	sg_event_release(&para);
	sg_buf_dispose(&env);
	sg_buf_dispose(&note);
	sg_buf_dispose(&cert);
	sg_buf_dispose(&sig.sig);
}

/* A copy of an attestation paragraph whose bytes are not the envelope its
 * Attestation-Sha256 names, read first (a forged note on another commit),
 * does not spoil the judgement of the genuine paragraph read after it. */
static void test_judge_forged_copy_first(void **state)
{
	sg_dsse_sig sig = { "cc", SG_BUF_INIT };
	sg_buf env = SG_BUF_INIT, other = SG_BUF_INIT, note = SG_BUF_INIT, forged = SG_BUF_INIT;
	sg_event para = { NULL, 0 }, fpara = { NULL, 0 }, ev = { NULL, 0 };
	sg_attest_ctx *ctx = NULL;
	sg_attest_note *n = NULL, *f = NULL;
	sg_attest_verdict v;
	git_oid commit, fcommit;
	char sha[65], fsha[65], *at;

	(void)state;
	sg_buf_put(&sig.sig, "x", 1);
	assert_int_equal(sg_dsse_envelope_json(&env, "{}", 2, &sig, 1), SG_OK);
	assert_int_equal(sg_dsse_envelope_json(&other, "[]", 2, &sig, 1), SG_OK);
	assert_int_equal(sg_attest_paragraph(&para, sha, &env, NULL, 0, NULL, 0), SG_OK);
	assert_int_equal(sg_attest_paragraph(&fpara, fsha, &other, NULL, 0, NULL, 0), SG_OK);
	assert_int_equal(sg_event_format(&para, &note), SG_OK);
	assert_int_equal(sg_event_format(&fpara, &forged), SG_OK);
	assert_non_null(at = strstr(forged.ptr, fsha));
	memcpy(at, sha, 64); /* the forged copy names the genuine envelope */
	git_oid_fromstr(&commit, "0123456789012345678901234567890123456789");
	git_oid_fromstr(&fcommit, "9876543210987654321098765432109876543210");
	assert_int_equal(sg_attest_ctx_new(&ctx, NULL), SG_OK);
	assert_int_equal(sg_attest_note_open(&f, ctx, &fcommit, forged.ptr, forged.size), SG_OK);
	assert_int_equal(sg_attest_note_open(&n, ctx, &commit, note.ptr, note.size), SG_OK);
	sg_event_add(&ev, "Signgate-Event", "sign");
	sg_event_add(&ev, SG_ATTEST_SHA_KEY, sha);

	assert_int_equal(sg_attest_judge(&v, f, &ev), SG_OK);
	assert_int_equal(v.attested, 0);
	assert_non_null(strstr(v.reason, "do not hash"));
	/* the genuine paragraph's own envelope is read (its payload is no
	 * statement), not the forged copy's verdict */
	assert_int_equal(sg_attest_judge(&v, n, &ev), SG_OK);
	assert_int_equal(v.attested, 0);
	assert_non_null(strstr(v.reason, "not an in-toto Statement"));

	sg_attest_note_free(n);
	sg_attest_note_free(f);
	sg_attest_ctx_free(ctx);
	sg_event_release(&ev);
	sg_event_release(&para);
	sg_event_release(&fpara);
	sg_buf_dispose(&env);
	sg_buf_dispose(&other);
	sg_buf_dispose(&note);
	sg_buf_dispose(&forged);
	sg_buf_dispose(&sig.sig);
}

/* A summary round-trips through its cache bytes; anything else is refused. */
static void test_summary_bytes(void **state)
{
	sg_dsse_sig sig = { "cc", SG_BUF_INIT };
	sg_buf env = SG_BUF_INIT, bytes = SG_BUF_INIT;
	sg_event para = { NULL, 0 };
	sg_att_summary *s = NULL, *back = NULL;
	char sha[65];

	(void)state;
	sg_buf_put(&sig.sig, "x", 1);
	assert_int_equal(sg_dsse_envelope_json(&env, "{}", 2, &sig, 1), SG_OK);
	assert_int_equal(sg_attest_paragraph(&para, sha, &env, NULL, 0, NULL, 0), SG_OK);
	assert_int_equal(sg_att_summary_build(&s, &para, NULL), SG_OK);
	assert_non_null(strstr(sg_att_str(s, s->bad), "not an in-toto Statement"));
	assert_int_equal(sg_att_summary_encode(&bytes, s), SG_OK);
	assert_int_equal(sg_att_summary_decode(&back, bytes.ptr, bytes.size, NULL), SG_OK);
	assert_string_equal(sg_att_str(back, back->bad), sg_att_str(s, s->bad));
	sg_att_summary_free(back);
	/* the twins: truncated, or a count that does not fit the bytes */
	assert_int_equal(sg_att_summary_decode(&back, bytes.ptr, bytes.size - 1, NULL), SG_EVERIFY);
	bytes.ptr[5 * 4] = 1; /* nsubj */
	assert_int_equal(sg_att_summary_decode(&back, bytes.ptr, bytes.size, NULL), SG_EVERIFY);
	assert_int_equal(sg_att_summary_decode(&back, "garbage", 7, NULL), SG_EVERIFY);
	sg_error_clear();
	sg_att_summary_free(s);
	sg_event_release(&para);
	sg_buf_dispose(&env);
	sg_buf_dispose(&bytes);
	sg_buf_dispose(&sig.sig);
}

static void flip_byte(const char *path, off_t at)
{
	FILE *f = fopen(path, "r+b");
	int c;

	assert_non_null(f);
	assert_int_equal(fseeko(f, at, SEEK_SET), 0);
	c = fgetc(f);
	assert_int_equal(fseeko(f, at, SEEK_SET), 0);
	fputc(c ^ 1, f);
	fclose(f);
}

/* The verdict cache file: entries found by their key only, private modes,
 * a damaged entry or file a miss. */
static void test_vcache(void **state)
{
	char base[] = "/tmp/sgvc.XXXXXX", dir[64], path[128], folder[128];
	unsigned char k1[32], k2[32], k3[32];
	sg_att_vcache *vc = NULL;
	sg_buf v = SG_BUF_INIT;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/signgate", base); /* made by the first save */
	memset(k1, 1, 32);
	memset(k2, 2, 32);
	memset(k3, 3, 32);
	snprintf(path, sizeof(path), "%s/attest-cache/verdicts", dir);
	assert_int_equal(sg_att_vcache_open(&vc, dir), SG_OK);
	assert_int_equal(sg_att_vcache_get(&v, vc, k1), 0);
	assert_int_equal(sg_att_vcache_put(vc, k1, "one", 3), SG_OK);
	assert_int_equal(sg_att_vcache_put(vc, k2, "two!", 4), SG_OK);
	assert_int_equal(sg_att_vcache_save(vc), SG_OK);
	sg_att_vcache_free(vc);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(folder, sizeof(folder), "%s/attest-cache", dir);
	assert_int_equal(stat(folder, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	assert_int_equal(sg_att_vcache_open(&vc, dir), SG_OK);
	assert_int_equal(sg_att_vcache_get(&v, vc, k1), 1);
	assert_int_equal(v.size, 3);
	assert_memory_equal(v.ptr, "one", 3);
	assert_int_equal(sg_att_vcache_get(&v, vc, k2), 1);
	assert_memory_equal(v.ptr, "two!", 4);
	/* the twin: a key never written finds nothing */
	assert_int_equal(sg_att_vcache_get(&v, vc, k3), 0);
	sg_att_vcache_free(vc);

	/* one byte of the first entry changed: it misses, the other is read */
	flip_byte(path, 1);
	assert_int_equal(sg_att_vcache_open(&vc, dir), SG_OK);
	assert_int_equal(sg_att_vcache_get(&v, vc, k1), 0);
	assert_int_equal(sg_att_vcache_get(&v, vc, k2), 1);
	sg_att_vcache_free(vc);
	/* a truncated file is empty */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 1), 0);
	assert_int_equal(sg_att_vcache_open(&vc, dir), SG_OK);
	assert_int_equal(sg_att_vcache_get(&v, vc, k2), 0);
	sg_att_vcache_free(vc);
	sg_buf_dispose(&v);
	assert_int_equal(sh("rm -rf '%s'", base), 0);
}

/* The attestation paragraph round-trips through the note parser, which
 * does not take it for an event. */
static void test_paragraph_parse(void **state)
{
	sg_dsse_sig sig = { "cc", SG_BUF_INIT };
	sg_buf env = SG_BUF_INIT, note = SG_BUF_INIT;
	sg_event para = { NULL, 0 }, *out = NULL;
	size_t n = 0, skipped = 0, big = 200000;
	char sha[65], *payload = malloc(big);

	(void)state;
	assert_non_null(payload);
	memset(payload, 'x', big);
	sg_buf_put(&sig.sig, "x", 1);
	assert_int_equal(sg_dsse_envelope_json(&env, payload, big, &sig, 1), SG_OK);
	assert_int_equal(sg_attest_paragraph(&para, sha, &env, NULL, 0, NULL, 0), SG_OK);
	assert_int_equal(sg_event_format(&para, &note), SG_OK);
	sg_buf_puts(&note, "\nSigngate-Event: sign\nArtifact: a\n");
	assert_int_equal(sg_attestations_parse(&out, &n, note.ptr, note.size), SG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(sg_event_get(&out[0], SG_ATTEST_SHA_KEY), sha);
	assert_true(strlen(sg_event_get(&out[0], "Attestation")) > 65536);
	sg_events_free(out, n);
	assert_int_equal(sg_events_parse(&out, &n, &skipped, note.ptr, note.size), SG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(sg_event_get(&out[0], "Artifact"), "a");
	sg_events_free(out, n);
	free(payload);
	sg_event_release(&para);
	sg_buf_dispose(&env);
	sg_buf_dispose(&note);
	sg_buf_dispose(&sig.sig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pae_spec_vector),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_envelope_roundtrip),
		cmocka_unit_test(test_envelope_hostile),
		cmocka_unit_test(test_statement),
		cmocka_unit_test(test_judge_refusals),
		cmocka_unit_test(test_judge_forged_copy_first),
		cmocka_unit_test(test_paragraph_parse),
		cmocka_unit_test(test_summary_bytes),
		cmocka_unit_test(test_vcache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
