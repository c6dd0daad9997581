/* What a batch leaves behind: the signing events in the notes (one notes
 * commit per notes ref) and a line per decision in the audit log. */
#include "pipeline/run.h"
#include "audit/audit.h"
#include "core/error.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NOTES_REF "refs/notes/signatures"

static const char *notes_ref_of(const sg_item *it)
{
	return it->slot->prof->notes_ref ? it->slot->prof->notes_ref : DEFAULT_NOTES_REF;
}

/* The gate's review evidence ("Key: value" lines: Review-Request, ...). */
static int add_review_evidence(sg_event *ev, const sg_strlist *lines)
{
	size_t i;
	int err = SG_OK;

	for (i = 0; i < lines->n && err == SG_OK; i++) {
		const char *sep = strstr(lines->v[i], ": ");
		char key[64];

		if (!sep || (size_t)(sep - lines->v[i]) >= sizeof(key))
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(sep - lines->v[i]), lines->v[i]);
		err = sg_event_add(ev, key, sep + 2);
	}
	return err;
}

int sg_run_build_event(sg_event *ev, const sg_run *run, const sg_item *it)
{
	const sg_slot *s = it->slot;
	char *sig_name = NULL;
	int err;

	if ((it->payload ? asprintf(&sig_name, "%s", it->payload->signature)
			 : asprintf(&sig_name, "%s%s", it->display, s->be->suffix)) < 0)
		return sg_error_set(SG_ERROR, "out of memory");
	if ((err = sg_event_add(ev, "Signgate-Event", "sign")) < 0 ||
	    (err = sg_event_add(ev, "Artifact", it->display)) < 0 ||
	    (err = sg_event_add(ev, "Artifact-Sha256", it->scan.sha256_hex)) < 0 ||
	    (err = sg_event_addf(ev, "Artifact-Size", "%llu", (unsigned long long)it->scan.size)) < 0 ||
	    (err = sg_event_add(ev, "Signature", sig_name)) < 0 ||
	    (err = sg_event_add(ev, "Signature-Format", s->be->name)) < 0)
		goto done;
	{
		unsigned char md[32];
		char hex[65];
		SHA256((const unsigned char *)it->sig.sig.ptr, it->sig.sig.size, md);
		sg_hex(hex, md, 32);
		if ((err = sg_event_add(ev, "Signature-Sha256", hex)) < 0)
			goto done;
	}
	if ((err = sg_event_add(ev, s->info.id_key, s->info.id)) < 0 ||
	    (err = sg_event_add(ev, "Signer-Subject", s->info.subject)) < 0 ||
	    (err = sg_event_add(ev, "Key-Storage", s->info.hardware ? "hardware" : "software")) < 0 ||
	    (err = sg_event_add(ev, "Profile", s->prof->name)) < 0 ||
	    (err = sg_event_add(ev, "Timestamp", it->ts_line)) < 0 ||
	    (err = sg_event_add(ev, "Scan", it->scan.summary)) < 0 ||
	    (err = sg_event_add(ev, "Gate", run->gate->summary ? run->gate->summary : "-")) < 0 ||
	    (err = add_review_evidence(ev, &run->gate->evidence_lines)) < 0 ||
	    (err = sg_event_add(ev, "Policy", run->pol->origin)) < 0 ||
	    (err = sg_event_add(ev, "Signed-By", run->signed_by)) < 0 ||
	    (err = sg_event_add(ev, "Signed-At", run->signed_at)) < 0)
		goto done;
	if (run->req->tag && (err = sg_event_add(ev, "Tag", run->req->tag)) < 0)
		goto done;
	if ((err = sg_event_add(ev, "Tool", "signgate " SG_VERSION)) < 0)
		goto done;
	err = sg_event_add(ev, SG_ATTEST_SHA_KEY, run->att_sha);
done:
	free(sig_name);
	return err;
}

/* Append the events of every item whose notes ref is `ref`: one notes commit. */
static int record_ref(sg_run *run, const char *ref)
{
	sg_event *evs = calloc(run->n + 1, sizeof(*evs));
	char msg[256];
	size_t i, n = 0;
	int err = SG_OK;

	if (!evs)
		return sg_error_set(SG_ERROR, "out of memory");
	/* The batch's attestation, once in this note, a paragraph of its own
	 * before the events (borrowed: not released here); the note's last
	 * paragraph stays an event for git interpret-trailers --parse. */
	evs[0] = run->att_para;
	for (i = 0; i < run->n && err == SG_OK; i++)
		if (strcmp(notes_ref_of(&run->items[i]), ref) == 0)
			err = sg_run_build_event(&evs[1 + n++], run, &run->items[i]);
	snprintf(msg, sizeof(msg), "signgate: sign %zu artifact%s on %.12s%s%s", n, n == 1 ? "" : "s",
		 run->gate->commit, run->req->tag ? " for tag " : "", run->req->tag ? run->req->tag : "");
	if (err == SG_OK)
		err = sg_notes_append(run->repo, ref, &run->gate->commit_id, evs, n + 1, msg);
	for (i = 1; i <= n; i++)
		sg_event_release(&evs[i]);
	free(evs);
	return err;
}

int sg_run_record_notes(sg_run *run, char **refs_written)
{
	sg_buf refs = SG_BUF_INIT;
	size_t i, j;
	int err = SG_OK;

	for (i = 0; i < run->n && err == SG_OK; i++) {
		const char *ref = notes_ref_of(&run->items[i]);
		for (j = 0; j < i && strcmp(notes_ref_of(&run->items[j]), ref) != 0; j++)
			;
		if (j < i)
			continue; /* that ref's events were already written */
		if ((err = record_ref(run, ref)) == SG_OK)
			err = sg_buf_printf(&refs, "%s%s", refs.size ? " " : "", ref);
	}
	if (err == SG_OK)
		*refs_written = sg_buf_detach(&refs);
	sg_buf_dispose(&refs);
	return err;
}

static json_t *item_json(const sg_item *it)
{
	json_t *o = json_object();

	json_object_set_new(o, "artifact", json_string(it->display));
	if (it->scan.sha256_hex[0])
		json_object_set_new(o, "sha256", json_string(it->scan.sha256_hex));
	if (it->slot)
		json_object_set_new(o, "profile", json_string(it->slot->prof->name));
	if (it->scan.virus[0])
		json_object_set_new(o, "malware", json_string(it->scan.virus));
	if (it->written)
		json_object_set_new(o, "signature", json_string(it->out_sig.final_path));
	return o;
}

int sg_run_audit(const sg_run *run, int code, const char *stage)
{
	json_t *rec = json_object(), *arts = json_array();
	size_t i;
	int err = SG_OK;

	/* git tag -s (a payload, not files) keeps its own name in the log */
	json_object_set_new(rec, "op", json_string(run->req->payload ? "sign-tag" : "sign"));
	json_object_set_new(rec, "decision", json_string(code == SG_OK ? "signed" :
		code == SG_EDENIED ? "denied" : code == SG_ESCAN ? "scan-refused" : "failed"));
	json_object_set_new(rec, "exit", json_integer(sg_error_exit_code(code)));
	if (code != SG_OK) {
		json_object_set_new(rec, "stage", json_string(stage));
		json_object_set_new(rec, "reason", json_string(sg_error_last() ? sg_error_last() : ""));
	}
	if (run->gate && run->gate->commit[0])
		json_object_set_new(rec, "commit", json_string(run->gate->commit));
	if (run->gate && run->gate->summary)
		json_object_set_new(rec, "gate", json_string(run->gate->summary));
	if (run->req->tag)
		json_object_set_new(rec, "tag", json_string(run->req->tag));
	if (run->pol && run->pol->origin)
		json_object_set_new(rec, "policy", json_string(run->pol->origin));
	if (run->signed_by)
		json_object_set_new(rec, "by", json_string(run->signed_by));
	for (i = 0; i < run->n; i++)
		json_array_append_new(arts, item_json(&run->items[i]));
	json_object_set_new(rec, "artifacts", arts);
	if (code == SG_OK) {
		err = sg_audit_append(run->repo, rec);
	} else {
		/* Keep the original error; say also when the log could not be written. */
		char saved[1024];
		snprintf(saved, sizeof(saved), "%s", sg_error_last() ? sg_error_last() : "");
		if (sg_audit_append(run->repo, rec) < 0)
			sg_error_set(code, "%s (and the audit log could not be written: %s)", saved,
				     sg_error_last());
		else
			sg_error_set(code, "%s", saved);
	}
	json_decref(rec);
	return err;
}
