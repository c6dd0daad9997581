/* The batch's attestation (DESIGN.md 4a): one in-toto statement over every
 * artifact, one DSSE envelope signed by each profile's key already open
 * (same session), one note paragraph and one .intoto.jsonl file. */
#include "pipeline/run.h"
#include "core/error.h"

#include <errno.h>
#include <libgen.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define JSONL_MAX (64 * 1024 * 1024)

typedef struct att_parts {
	sg_attest_artifact *arts;
	sg_attest_signer *signers;
	char (*sig_sha)[65];
	sg_dsse_sig *sigs;
	sg_buf *cert_v, *chain_v; /* signer certs (DER), one per slot; their chains */
	size_t ncert, nchain;
} att_parts;

static void parts_release(att_parts *p, size_t nslots)
{
	size_t i;

	for (i = 0; p->sigs && i < nslots; i++)
		sg_buf_dispose(&p->sigs[i].sig);
	free(p->sigs);
	free(p->arts);
	free(p->signers);
	free(p->sig_sha);
	sg_bufs_free(p->cert_v, p->ncert);
	sg_bufs_free(p->chain_v, p->nchain);
}

static void fill_artifacts(att_parts *p, const sg_run *run)
{
	size_t i;

	for (i = 0; i < run->n; i++) {
		const sg_item *it = &run->items[i];
		unsigned char md[32];

		SHA256((const unsigned char *)it->sig.sig.ptr, it->sig.sig.size, md);
		sg_hex(p->sig_sha[i], md, 32);
		p->arts[i] = (sg_attest_artifact){ it->display, it->scan.sha256_hex, it->scan.size,
			it->slot->prof->name, p->sig_sha[i], it->ts_line, it->scan.summary };
	}
}

static void fill_signers(att_parts *p, const sg_run *run)
{
	size_t i;

	for (i = 0; i < run->nslots; i++) {
		const sg_slot *s = &run->slots[i];
		p->signers[i] = (sg_attest_signer){ s->prof->name, s->be->name, s->info.id_key,
			s->info.id, s->info.subject, s->info.hardware, s->prof->test };
	}
}

/* Move the DER buffers of one slot: the first is the signer's, the rest
 * its chain. On error they are disposed here. */
static int take_certs(att_parts *p, sg_buf *der, size_t n)
{
	sg_buf *c = n ? realloc(p->cert_v, (p->ncert + 1) * sizeof(*c)) : p->cert_v, *ch;
	size_t i;

	if (c)
		p->cert_v = c;
	ch = n && c ? realloc(p->chain_v, (p->nchain + n) * sizeof(*ch)) : p->chain_v;
	if (ch)
		p->chain_v = ch;
	if (n && (!c || !ch)) {
		for (i = 0; i < n; i++)
			sg_buf_dispose(&der[i]);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (i == 0)
			p->cert_v[p->ncert++] = der[0];
		else
			p->chain_v[p->nchain++] = der[i];
	}
	return SG_OK;
}

static int sign_envelope(att_parts *p, const sg_run *run, const sg_buf *pae)
{
	size_t i, n;
	sg_buf *der;
	int err;

	for (i = 0; i < run->nslots; i++) {
		const sg_slot *s = &run->slots[i];

		p->sigs[i].keyid = (char *)s->info.id;
		if ((err = s->be->sign_raw(s->signer, pae->ptr, pae->size, &p->sigs[i].sig)) < 0)
			return err;
		der = NULL;
		n = 0;
		if ((err = s->be->certs(s->signer, &der, &n)) < 0)
			return err;
		err = take_certs(p, der, n);
		free(der);
		if (err < 0)
			return err;
	}
	return SG_OK;
}

static int build_envelope(sg_run *run, att_parts *p)
{
	sg_attest_batch b = { run->gate->commit, run->req->tag, run->pol->origin, run->gate,
			      run->signed_by, run->signed_at, p->arts, run->n, p->signers, run->nslots };
	sg_buf st = SG_BUF_INIT, pae = SG_BUF_INIT;
	int err;

	fill_artifacts(p, run);
	fill_signers(p, run);
	if ((err = sg_attest_statement(&st, &b)) < 0 ||
	    (err = sg_dsse_pae(&pae, SG_ATTEST_PAYLOAD_TYPE, st.ptr, st.size)) < 0 ||
	    (err = sign_envelope(p, run, &pae)) < 0 ||
	    (err = sg_dsse_envelope_json(&run->att_envelope, st.ptr, st.size, p->sigs, run->nslots)) < 0)
		goto done;
	if (run->att_envelope.size > SG_ATTEST_MAX)
		err = sg_error_set(SG_ERROR, "the batch's attestation is %zu bytes; the limit is %d: "
				   "sign fewer files at once", run->att_envelope.size, SG_ATTEST_MAX);
done:
	sg_buf_dispose(&st);
	sg_buf_dispose_secure(&pae);
	return err;
}

int sg_run_attest(sg_run *run)
{
	att_parts p;
	int err = SG_ERROR;

	memset(&p, 0, sizeof(p));
	p.arts = calloc(run->n, sizeof(*p.arts));
	p.sig_sha = calloc(run->n, sizeof(*p.sig_sha));
	p.signers = calloc(run->nslots, sizeof(*p.signers));
	p.sigs = calloc(run->nslots, sizeof(*p.sigs));
	if (!p.arts || !p.sig_sha || !p.signers || !p.sigs) {
		err = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if ((err = build_envelope(run, &p)) < 0)
		goto done;
	err = sg_attest_paragraph(&run->att_para, run->att_sha, &run->att_envelope, p.cert_v, p.ncert,
				  p.chain_v, p.nchain);
done:
	parts_release(&p, run->nslots);
	return err;
}

int sg_run_attest_path(char **out, const sg_run *run)
{
	char name[300], *copy = NULL;
	const char *dir = run->req->out_dir;
	size_t i;
	int n;

	snprintf(name, sizeof(name), "%s", run->req->tag ? run->req->tag : run->gate->commit);
	for (i = 0; name[i]; i++)
		if (name[i] == '/')
			name[i] = '-';
	if (!dir) {
		/* the signatures are written next to their files */
		if (!(copy = strdup(run->items[0].path)))
			return sg_error_set(SG_ERROR, "out of memory");
		dir = dirname(copy);
	}
	n = asprintf(out, "%s/%s.intoto.jsonl", dir, name);
	free(copy);
	return n < 0 ? sg_error_set(SG_ERROR, "out of memory") : SG_OK;
}

/* JSON lines: an earlier batch's envelopes in the same file are kept. */
int sg_run_attest_write(sg_run *run)
{
	sg_buf old = SG_BUF_INIT;
	struct stat st;
	char *path = NULL;
	int err;

	if ((err = sg_run_attest_path(&path, run)) < 0)
		return err;
	if (lstat(path, &st) == 0)
		err = sg_file_read_all(&old, path, JSONL_MAX);
	else if (errno != ENOENT)
		err = sg_error_set(SG_ERROR, "cannot read %s: %s", path, strerror(errno));
	if (err == SG_OK && old.size && old.ptr[old.size - 1] != '\n')
		err = sg_buf_put(&old, "\n", 1);
	if (err == SG_OK)
		err = sg_outfile_open(&run->out_att, path, 0644);
	if (err == SG_OK && old.size)
		err = sg_outfile_write(&run->out_att, old.ptr, old.size);
	if (err == SG_OK)
		err = sg_outfile_write(&run->out_att, run->att_envelope.ptr, run->att_envelope.size);
	if (err == SG_OK)
		err = sg_outfile_write(&run->out_att, "\n", 1);
	free(path);
	sg_buf_dispose(&old);
	return err;
}
