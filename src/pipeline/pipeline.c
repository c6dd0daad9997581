/* The sign pipeline: each step is a function over the batch; any failure
 * stops the batch before anything is published. */
#include "pipeline/run.h"
#include "core/error.h"
#include "sign/keys.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The artifact's name relative to the work tree. Its folder is resolved
 * (so "dist/../dist/x" is "dist/x"), its last component is not: a symlink
 * there is refused by the open step. A folder outside the tree (e.g. through
 * a symlinked folder) gives the real path, so that artifacts globs judge
 * where the file is, not the name it was reached by. */
static char *display_name(const sg_run *run, const char *path)
{
	const char *base = run->req->display_base ? run->req->display_base
						  : git_repository_workdir(run->repo);
	char real[PATH_MAX], rbase[PATH_MAX], dir[PATH_MAX], full[2 * PATH_MAX + 2];
	const char *file = path, *slash = strrchr(path, '/');
	size_t blen;

	if (slash) {
		if ((size_t)(slash - path) >= sizeof(dir))
			return strdup(path);
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash == path ? 1 : slash - path] = '\0';
		file = slash + 1;
	} else {
		strcpy(dir, ".");
	}
	if (!base || !*file || !strcmp(file, ".") || !strcmp(file, "..") ||
	    !realpath(base, rbase) || !realpath(dir, real))
		return strdup(path);
	snprintf(full, sizeof(full), "%s/%s", strcmp(real, "/") ? real : "", file);
	blen = strlen(rbase);
	if (strncmp(full, rbase, blen) == 0 && full[blen] == '/')
		return strdup(full + blen + 1);
	return strdup(full);
}

static int step_profiles(sg_run *run)
{
	size_t i, j;
	int err;

	if ((err = sg_profiles_check_separation(run->pol)) < 0)
		return err;
	run->slots = calloc(run->pol->nprofiles ? run->pol->nprofiles : 1, sizeof(*run->slots));
	if (!run->slots)
		return sg_error_set(SG_ERROR, "out of memory");
	run->all_test = 1;
	for (i = 0; i < run->n; i++) {
		sg_item *it = &run->items[i];
		const sg_profile *prof;

		if ((err = sg_profile_choose(&prof, run->pol, run->req->profile,
					     it->payload ? NULL : it->display)) < 0)
			return err;
		for (j = 0; j < run->nslots && run->slots[j].prof != prof; j++)
			;
		if (j == run->nslots) {
			run->slots[j].prof = prof;
			run->nslots++;
			run->all_test &= prof->test;
		}
		it->slot = &run->slots[j];
	}
	return SG_OK;
}

static int step_gate(sg_run *run)
{
	sg_gate_opts opts = { run->all_test, run->all_test };
	const char *rev = run->req->rev;
	char tagref[512];
	git_oid tag_commit;
	int err;

	if (run->req->tag && !run->req->tag_pending) {
		snprintf(tagref, sizeof(tagref), "refs/tags/%s", run->req->tag);
		if ((err = sg_gate_resolve_commit(&tag_commit, run->repo, tagref)) < 0)
			return err;
		if (!rev)
			rev = tagref;
	}
	err = sg_gate_evaluate(run->gate, run->repo, run->pol, rev ? rev : "HEAD", &opts);
	if (run->gate->warning && sg_strlist_add(&run->out->warnings, run->gate->warning) < 0)
		return SG_ERROR;  /* out of memory (message set) */
	if (err < 0)
		return err;
	if (run->req->tag && !run->req->tag_pending && !git_oid_equal(&tag_commit, &run->gate->commit_id))
		return sg_error_set(SG_EUSAGE, "--rev %s is not the commit of tag %s", rev, run->req->tag);
	return SG_OK;
}

static int check_revoked(const sg_run *run, const sg_slot *s)
{
	const sg_revocation *r = sg_policy_revocation(run->pol, s->info.id);

	if (r)
		return sg_error_set(SG_EDENIED, "the key of profile \"%s\" (%s) was revoked on %s: %s; "
				    "rotate to a new certificate", s->prof->name, s->info.id,
				    r->since_text, r->reason);
	return SG_OK;
}

/* Rotation: validity now, certExpiryWarnDays (a warning), maxKeyAgeDays. */
static int check_dates(sg_run *run, const sg_slot *s)
{
	char *warning = NULL;
	int err = sg_cert_check_dates(&warning, s->prof, s->info.not_before, s->info.not_after,
				       time(NULL));

	if (err == SG_OK && warning)
		err = sg_strlist_add(&run->out->warnings, warning);
	free(warning);
	return err;
}

static int step_open_signers(sg_run *run)
{
	size_t i;
	int err;

	for (i = 0; i < run->nslots; i++) {
		sg_slot *s = &run->slots[i];

		s->be = sg_sign_backend_find(s->prof->format);
		if (!s->be)
			return sg_error_set(SG_ERROR, "profile \"%s\": unknown format \"%s\"",
					    s->prof->name, s->prof->format);
		if ((err = s->be->open(&s->signer, s->prof)) < 0)
			return err;
		if ((err = s->be->info(s->signer, &s->info)) < 0)
			return err;
		if ((err = check_revoked(run, s)) < 0 || (err = check_dates(run, s)) < 0)
			return err;
	}
	return SG_OK;
}

static int step_open_files(sg_run *run)
{
	size_t i;
	int err;

	for (i = 0; i < run->n; i++) {
		sg_item *it = &run->items[i];
		err = it->payload ? sg_file_memfd(&it->fd, &it->st, it->payload->data, it->payload->len,
						  "signgate-payload")
				  : sg_file_open_regular(&it->fd, &it->st, it->path);
		if (err < 0)
			return err;
	}
	return SG_OK;
}

/* A payload is hashed only: it is text that git made, not a file that is
 * shipped (its Scan: line says so). The engine is loaded only for files. */
static int hash_payload(sg_item *it)
{
	int err = sg_hash_fd(it->fd, &it->st, it->display, &it->scan);

	if (err == SG_OK)
		snprintf(it->scan.summary, sizeof(it->scan.summary), "%s", it->payload->scan);
	return err;
}

static int step_scan(sg_run *run)
{
	sg_scan_opts opts = { run->pol->scan_database, run->pol->scan_required,
			      run->pol->scan_max_file_size, run->pol->scan_engine,
			      run->pol->scan_clamd, run->pol->scan_clamd_timeout };
	size_t i;
	int err;

	for (i = 0; i < run->n; i++) {
		sg_item *it = &run->items[i];
		if (it->payload) {
			err = hash_payload(it);
		} else if (!run->scanner && (err = sg_scanner_get(&run->scanner, &opts)) < 0) {
			/* loaded at the first file, after the gate allowed; kept for the process */
			return err;
		} else {
			err = sg_scan_fd(run->scanner, it->fd, &it->st, it->display, &it->scan);
		}
		if (err < 0)
			return err;
	}
	return SG_OK;
}

static void tsa_config(sg_tsa_config *cfg, const sg_profile *prof)
{
	cfg->urls = &prof->tsa;
	cfg->trust_anchor = prof->tsa_trust_anchor;
	cfg->total_timeout_ms = 1000L * prof->tsa_timeout;
	cfg->connect_timeout_ms = cfg->total_timeout_ms < 5000 ? cfg->total_timeout_ms : 5000;
	cfg->attempts = prof->tsa_attempts;
	cfg->max_response = 256 * 1024;
}

static int sign_one(sg_item *it)
{
	const sg_profile *prof = it->slot->prof;
	sg_artifact a = { it->path, it->fd, { 0 }, it->scan.size };
	sg_tsa_config cfg;
	char line[512];
	int err;

	memcpy(a.sha256, it->scan.sha256, sizeof(a.sha256));
	tsa_config(&cfg, prof);
	if (prof->require_timestamp && prof->tsa.n == 0)
		return sg_error_set(SG_ERROR, "profile \"%s\" requires a timestamp but lists no tsa; "
				    "add profile.%s.tsa", prof->name, prof->name);
	err = it->slot->be->sign(it->slot->signer, &a, prof->tsa.n ? &cfg : NULL, &it->sig);
	if (err == SG_ERROR && it->sig.tsa_failed && !prof->require_timestamp) {
		/* The TSA failed and the profile allows that: sign without it, and say so. */
		snprintf(line, sizeof(line), "none (%s; requireTimestamp = false)", sg_error_last());
		sg_signature_release(&it->sig);
		sg_error_clear();
		err = it->slot->be->sign(it->slot->signer, &a, NULL, &it->sig);
	} else if (!prof->tsa.n) {
		snprintf(line, sizeof(line), "none (profile %s lists no tsa; requireTimestamp = false)",
			 prof->name);
	}
	if (err < 0)
		return err;
	/* The signature is over the digest of the bytes that were scanned; the
	 * file must still be those bytes, or the published pair would not match. */
	if ((err = sg_file_check_unchanged(it->fd, &it->st, it->path)) < 0)
		return err;
	if (it->sig.timestamped)
		snprintf(line, sizeof(line), "%s (%s)", it->sig.ts_text, it->sig.ts_url);
	it->ts_line = strdup(line);
	return it->ts_line ? SG_OK : sg_error_set(SG_ERROR, "out of memory");
}

static int step_sign(sg_run *run)
{
	size_t i;
	int err;

	for (i = 0; i < run->n; i++)
		if ((err = sign_one(&run->items[i])) < 0)
			return err;
	return SG_OK;
}

static int step_attest(sg_run *run)
{
	return sg_run_attest(run);
}

static int output_path(char **out, const sg_run *run, const sg_item *it, const char *suffix)
{
	char *copy = strdup(it->path);
	const char *dir = run->req->out_dir;
	int n;

	if (!copy)
		return sg_error_set(SG_ERROR, "out of memory");
	n = dir ? asprintf(out, "%s/%s%s", dir, basename(copy), suffix)
		: asprintf(out, "%s%s", it->path, suffix);
	free(copy);
	return n < 0 ? sg_error_set(SG_ERROR, "out of memory") : SG_OK;
}

int sg_run_output_path(char **out, const sg_run *run, const sg_item *it, const char *suffix)
{
	return output_path(out, run, it, suffix);
}

static int write_output(sg_outfile *o, const sg_run *run, const sg_item *it,
			const char *suffix, const sg_buf *content)
{
	char *path = NULL;
	int err;

	if (o->tmp_path) /* made beside the hashing (precreate.c) */
		return sg_outfile_write(o, content->ptr, content->size);
	if ((err = output_path(&path, run, it, suffix)) < 0)
		return err;
	err = sg_outfile_open(o, path, 0644);
	free(path);
	if (err == SG_OK)
		err = sg_outfile_write(o, content->ptr, content->size);
	return err;
}

/* The folders a batch writes to, each with the names written there. */
typedef struct out_dir {
	char *dir;
	sg_strlist bases;
} out_dir;

static int add_output(out_dir **dirs, size_t *n, const char *path)
{
	char *d = strdup(path), *b = strdup(path);
	const char *dn, *bn;
	out_dir *grown;
	size_t i;
	int err = SG_OK;

	if (!d || !b) {
		err = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	dn = dirname(d);
	bn = basename(b);
	for (i = 0; i < *n && strcmp((*dirs)[i].dir, dn) != 0; i++)
		;
	if (i == *n) {
		if (!(grown = realloc(*dirs, (*n + 1) * sizeof(**dirs))) ||
		    !(grown[*n].dir = strdup(dn))) {
			if (grown)
				*dirs = grown;
			err = sg_error_set(SG_ERROR, "out of memory");
			goto done;
		}
		*dirs = grown;
		memset(&grown[*n].bases, 0, sizeof(grown[*n].bases));
		(*n)++;
	}
	err = sg_strlist_add(&(*dirs)[i].bases, bn);
done:
	free(d);
	free(b);
	return err;
}

static int add_item_outputs(out_dir **dirs, size_t *n, const sg_run *run, const sg_item *it)
{
	const char *suffixes[2] = { it->slot->be->suffix, it->slot->be->tsr_suffix };
	char *path = NULL;
	size_t k;
	int err = SG_OK;

	for (k = 0; k < 2 && err == SG_OK; k++) {
		if (!suffixes[k] || (err = output_path(&path, run, it, suffixes[k])) < 0)
			continue;
		err = add_output(dirs, n, path);
		free(path);
	}
	return err;
}

static int warn_removed(sg_run *run, const sg_strlist *removed)
{
	size_t i;
	char *w = NULL;
	int err = SG_OK;

	for (i = 0; err == SG_OK && i < removed->n; i++) {
		if (asprintf(&w, "removed %s, a temporary file left by an interrupted signgate run",
			     removed->v[i]) < 0)
			return sg_error_set(SG_ERROR, "out of memory");
		err = sg_strlist_add(&run->out->warnings, w);
		free(w);
	}
	return err;
}

/* A run killed between write and publish leaves its temp files; the next
 * run writing the same outputs removes them (sg_run_remove_stale_temps),
 * listing each output folder once. */
static int step_stale(sg_run *run)
{
	sg_strlist removed = SG_STRLIST_INIT;
	out_dir *dirs = NULL;
	char *att = NULL;
	size_t i, n = 0;
	int err = SG_OK;

	for (i = 0; i < run->n && err == SG_OK; i++)
		if (!run->items[i].payload)
			err = add_item_outputs(&dirs, &n, run, &run->items[i]);
	if (err == SG_OK && !run->req->payload && (err = sg_run_attest_path(&att, run)) == SG_OK)
		err = add_output(&dirs, &n, att);
	free(att);
	for (i = 0; i < n && err == SG_OK; i++)
		err = sg_run_remove_stale_temps(&removed, dirs[i].dir, &dirs[i].bases);
	if (err == SG_OK)
		err = warn_removed(run, &removed);
	for (i = 0; i < n; i++) {
		free(dirs[i].dir);
		sg_strlist_release(&dirs[i].bases);
	}
	free(dirs);
	sg_strlist_release(&removed);
	return err;
}

static int step_write(sg_run *run)
{
	size_t i, j;
	int err;

	if ((err = sg_run_precreate_join(run)) < 0)
		return err;
	for (i = 0; i < run->n; i++) {
		sg_item *it = &run->items[i];
		if (it->payload)
			continue; /* its signature goes back to the caller */
		if ((err = write_output(&it->out_sig, run, it, it->slot->be->suffix, &it->sig.sig)) < 0)
			return err;
		it->written = 1;
		if (it->slot->be->tsr_suffix && it->sig.tsr.size &&
		    (err = write_output(&it->out_tsr, run, it, it->slot->be->tsr_suffix, &it->sig.tsr)) < 0)
			return err;
		for (j = 0; j < i; j++)
			if (run->items[j].out_sig.final_path && strcmp(run->items[j].out_sig.final_path, it->out_sig.final_path) == 0)
				return sg_error_set(SG_EUSAGE, "%s and %s would both be signed to %s",
						    run->items[j].path, it->path, it->out_sig.final_path);
	}
	/* git tag -s: no signature file, so no .intoto.jsonl beside one (the
	 * attestation is in the note) */
	return run->req->payload ? SG_OK : sg_run_attest_write(run);
}

/* Every output of the batch, in order (signature, then timestamp file). */
static sg_outfile **outfiles(const sg_run *run, size_t *n)
{
	sg_outfile **v = calloc(2 * run->n + 1, sizeof(*v));
	size_t i;

	*n = 0;
	if (!v)
		return NULL;
	if (run->out_att.tmp_path)
		v[(*n)++] = (sg_outfile *)&run->out_att;
	for (i = 0; i < run->n; i++) {
		if (run->items[i].out_sig.tmp_path)
			v[(*n)++] = &run->items[i].out_sig;
		if (run->items[i].out_tsr.tmp_path)
			v[(*n)++] = &run->items[i].out_tsr;
	}
	return v;
}

/* fn over every output; `finish`: sg_outfiles_finish with the repository's
 * file system as synced (the record synced it after the writes). */
static int each_outfiles(sg_run *run, int finish)
{
	size_t n;
	sg_outfile **v = outfiles(run, &n);
	dev_t repo_fs;
	int err = SG_OK;

	if (!v)
		return sg_error_set(SG_ERROR, "out of memory");
	if (!finish)
		err = sg_outfiles_publish(v, n);
	else if ((err = sg_notes_objects_fs(&repo_fs, run->repo)) == SG_OK)
		err = sg_outfiles_finish(v, n, &repo_fs);
	free(v);
	return err;
}

/* The temporary outputs are durable before they are renamed. Those on the
 * repository's file system already are: the record's syncfs came after
 * they were written (sg_notes_append); others are synced here. */
static int step_sync(sg_run *run)
{
	return each_outfiles(run, 1);
}

static int step_publish(sg_run *run)
{
	return each_outfiles(run, 0);
}

char *sg_pipeline_identity(git_repository *repo)
{
	git_signature *sig = NULL;
	struct passwd *pw;
	char *s = NULL;

	if (git_signature_default(&sig, repo) == 0) {
		if (asprintf(&s, "%s <%s>", sig->name, sig->email) < 0)
			s = NULL;
		git_signature_free(sig);
		return s;
	}
	git_error_clear();
	pw = getpwuid(geteuid());
	if (asprintf(&s, "user:%s", pw ? pw->pw_name : "unknown") < 0)
		s = NULL;
	return s;
}

static int run_init(sg_run *run, sg_batch *out, git_repository *repo, const sg_policy *pol,
		    const sg_sign_request *req)
{
	size_t i;

	memset(run, 0, sizeof(*run));
	run->repo = repo;
	run->pol = pol;
	run->req = req;
	run->gate = &out->gate;
	run->out = out;
	run->items = calloc(req->nfiles ? req->nfiles : 1, sizeof(*run->items));
	run->signed_by = sg_pipeline_identity(repo);
	if (!run->items || !run->signed_by)
		return sg_error_set(SG_ERROR, "out of memory");
	run->n = req->payload ? 1 : req->nfiles;
	run->out_att = (sg_outfile)SG_OUTFILE_INIT;
	for (i = 0; i < run->n; i++) {
		sg_item *it = &run->items[i];
		sg_outfile init = SG_OUTFILE_INIT;
		it->payload = req->payload;
		it->path = req->payload ? req->payload->artifact : req->files[i];
		it->fd = -1;
		it->out_sig = init;
		it->out_tsr = init;
		it->display = req->payload ? strdup(it->path) : display_name(run, it->path);
		if (!it->display)
			return sg_error_set(SG_ERROR, "out of memory");
	}
	out->signed_at = time(NULL);
	sg_time_format(run->signed_at, sizeof(run->signed_at), out->signed_at);
	return SG_OK;
}

static void run_release(sg_run *run, int published)
{
	size_t i;

	sg_run_precreate_join(run); /* its error, if any, is not the batch's */
	for (i = 0; i < run->n; i++) {
		sg_item *it = &run->items[i];
		sg_outfile_discard(&it->out_sig, !published);
		sg_outfile_discard(&it->out_tsr, !published);
		sg_outfile_release(&it->out_sig);
		sg_outfile_release(&it->out_tsr);
		sg_signature_release(&it->sig);
		if (it->fd >= 0)
			close(it->fd);
		free(it->display);
		free(it->ts_line);
	}
	sg_outfile_discard(&run->out_att, !published);
	sg_outfile_release(&run->out_att);
	sg_buf_dispose(&run->att_envelope);
	sg_event_release(&run->att_para);
	for (i = 0; i < run->nslots; i++)
		if (run->slots[i].signer)
			run->slots[i].be->close(run->slots[i].signer);
	run->scanner = NULL; /* the process's (sg_scanner_get): not freed here */
	free(run->items);
	free(run->slots);
	free(run->signed_by);
}

static int fill_batch(sg_batch *out, const sg_run *run)
{
	size_t i;
	int err;

	out->items = calloc(run->n, sizeof(*out->items));
	if (!out->items)
		return sg_error_set(SG_ERROR, "out of memory");
	out->n = run->n;
	for (i = 0; i < run->n; i++) {
		const sg_item *it = &run->items[i];
		sg_signed_item *o = &out->items[i];
		o->artifact = strdup(it->display);
		o->sha256 = strdup(it->scan.sha256_hex);
		o->sig_path = it->out_sig.final_path ? strdup(it->out_sig.final_path) : NULL;
		o->tsr_path = it->out_tsr.final_path ? strdup(it->out_tsr.final_path) : NULL;
		o->profile = strdup(it->slot->prof->name);
		o->timestamp = strdup(it->ts_line);
		o->signer_id = strdup(it->slot->info.id);
		o->signer_subject = strdup(it->slot->info.subject);
		if (!o->artifact || !o->sha256 || (!o->sig_path && !it->payload) || !o->profile ||
		    !o->timestamp || !o->signer_id || !o->signer_subject)
			return sg_error_set(SG_ERROR, "out of memory");
		if (it->payload && (err = sg_buf_put(&o->signature, it->sig.sig.ptr, it->sig.sig.size)) < 0)
			return err;
	}
	return SG_OK;
}

static int step_record(sg_run *run)
{
	return sg_run_record_notes(run, &run->out->notes_refs);
}

static int step_audit(sg_run *run)
{
	return sg_run_audit(run, SG_OK, "audit");
}

static const struct {
	const char *name;
	int (*fn)(sg_run *);
} steps[] = {
	{ "profiles", step_profiles }, { "gate", step_gate }, { "key", step_open_signers },
	{ "open", step_open_files }, { "precreate", sg_run_precreate_start }, { "scan", step_scan },
	/* provenance never moves: nothing recorded for another commit is signed or overwritten */
	{ "provenance", sg_run_check_provenance }, { "sign", step_sign },
	{ "attest", step_attest },
	/* No signature is published without its record, none half-written,
	 * and after exit 0 both survive a crash. The barriers, in order:
	 * record (sg_notes_append) syncs the repository's file system after
	 * the temp outputs and the note's objects are written and before the
	 * ref moves, then fsyncs the ref; sync makes temp outputs on other
	 * file systems durable; publish renames, then fsyncs each folder. A
	 * crash before publish leaves only hidden temp files (removed by a
	 * later run, step stale) and at most a record without its files. */
	{ "stale", step_stale }, { "write", step_write }, { "record", step_record },
	{ "sync", step_sync }, { "audit", step_audit }, { "publish", step_publish },
};

int sg_pipeline_sign(sg_batch *out, git_repository *repo, const sg_policy *pol,
		     const sg_sign_request *req)
{
	sg_run run;
	size_t s = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (req->nfiles == 0 && !req->payload)
		return sg_error_set(SG_EUSAGE, "nothing to sign: name at least one FILE");
	if (req->payload && (req->nfiles || !req->profile))
		return sg_error_set(SG_EUSAGE, "a payload is signed alone, with a named profile");
	/* A file size limit must fail a write cleanly, not kill the process
	 * (main() does this too; the pipeline also runs from hooks). */
	signal(SIGXFSZ, SIG_IGN);
	err = run_init(&run, out, repo, pol, req);
	for (s = 0; err == SG_OK && s < sizeof(steps) / sizeof(steps[0]); s++)
		if ((err = steps[s].fn(&run)) < 0)
			break;
	if (err == SG_OK)
		err = fill_batch(out, &run);
	/* Record the failure too, unless writing the audit log is what failed
	 * (after the temp-file thread is done with the items). */
	sg_run_precreate_join(&run);
	if (err < 0 && !(s < sizeof(steps) / sizeof(steps[0]) && steps[s].fn == step_audit))
		sg_run_audit(&run, err, s < sizeof(steps) / sizeof(steps[0]) ? steps[s].name : "done");
	run_release(&run, err == SG_OK);
	/* notes.push: after the batch is published; a failed push undoes nothing. */
	if (err == SG_OK && pol->notes_push)
		err = sg_run_push_notes(repo, pol, out);
	return err;
}

void sg_batch_release(sg_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->items[i].artifact);
		free(b->items[i].sha256);
		free(b->items[i].sig_path);
		free(b->items[i].tsr_path);
		free(b->items[i].profile);
		free(b->items[i].timestamp);
		free(b->items[i].signer_id);
		free(b->items[i].signer_subject);
		sg_buf_dispose(&b->items[i].signature);
	}
	free(b->items);
	free(b->notes_refs);
	sg_strlist_release(&b->warnings);
	sg_gate_result_release(&b->gate);
	memset(b, 0, sizeof(*b));
}
