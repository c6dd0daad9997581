/* Private to src/pipeline: the state of one batch in flight. */
#ifndef SG_PIPELINE_RUN_H
#define SG_PIPELINE_RUN_H

#include <pthread.h>
#include <sys/stat.h>

#include "attest/attest.h"
#include "core/file.h"
#include "notes/notes.h"
#include "pipeline/pipeline.h"
#include "scan/scan.h"
#include "sign/sign.h"

typedef struct sg_slot {          /* one opened key per profile used */
	const sg_profile *prof;
	const sg_sign_backend *be;
	sg_signer *signer;
	sg_signer_info info;
} sg_slot;

typedef struct sg_item {          /* one artifact */
	const char *path;
	const sg_sign_payload *payload; /* non-NULL: bytes in memory, not a file */
	char *display;
	sg_slot *slot;
	int fd;
	struct stat st;
	sg_scan_result scan;
	sg_signature sig;
	char *ts_line;            /* the note's Timestamp: value */
	sg_outfile out_sig;
	sg_outfile out_tsr;
	int written;              /* out_sig holds the signature (step write) */
} sg_item;

typedef struct sg_run {
	git_repository *repo;
	const sg_policy *pol;
	const sg_sign_request *req;
	sg_gate_result *gate;
	sg_batch *out;
	sg_item *items;
	size_t n;
	sg_slot *slots;
	size_t nslots;
	sg_scanner *scanner;           /* borrowed: sg_scanner_get */
	int all_test;
	char *signed_by;
	char signed_at[32];
	sg_buf att_envelope;      /* the batch's DSSE envelope (JSON bytes) */
	char att_sha[65];         /* its SHA-256, named by every event of the batch */
	sg_event att_para;        /* its note paragraph */
	sg_outfile out_att;       /* <tag or commit>.intoto.jsonl */
	struct {                  /* precreate.c: temp files made beside the hashing */
		pthread_t thread;
		int running;
		int err;
		char msg[1024];
	} pre;
} sg_run;

/* pipeline.c: where the output with `suffix` of item `it` goes (next to
 * the file, or under --out). Caller frees. */
int sg_run_output_path(char **out, const sg_run *run, const sg_item *it, const char *suffix);

/* provenance.c: SG_EDENIED when a file's digest is already recorded for
 * another commit, or when its signature file holds a signature recorded
 * for another commit (it is never overwritten); the earlier event named. */
int sg_run_check_provenance(sg_run *run);

/* record.c */
int sg_run_build_event(sg_event *ev, const sg_run *run, const sg_item *it);
int sg_run_record_notes(sg_run *run, char **refs_written);
/* Append the batch's decision to the audit log. For a success (code 0) a
 * failed append is the error returned; for a failure the original error is
 * kept (its message extended when the log could not be written). */
int sg_run_audit(const sg_run *run, int code, const char *stage);

/* attest.c */
/* Build and sign the batch's envelope (every slot's key signs its PAE) and
 * its note paragraph. */
int sg_run_attest(sg_run *run);
/* <--out or the first file's folder>/<tag (a '/' as '-') or commit>.intoto.jsonl */
int sg_run_attest_path(char **out, const sg_run *run);
/* Write the envelope as a line of <tag or commit>.intoto.jsonl (a temp
 * file, published with the signatures; earlier lines kept). */
int sg_run_attest_write(sg_run *run);

/* precreate.c */
/* A batch of many files: start creating each item's temp signature file
 * (out_sig) in a second thread, overlapping the hashing and signing. */
int sg_run_precreate_start(sg_run *run);
/* Wait for it (before anything touches out_sig); its error, if any. Safe
 * to call when nothing was started, and twice. */
int sg_run_precreate_join(sg_run *run);

/* push.c */
/* notes.push: sync the notes refs to that remote after a successful batch
 * (SG_ERROR with "signed and recorded locally ... run signgate sync" when
 * the push fails; nothing is unpublished). */
int sg_run_push_notes(git_repository *repo, const sg_policy *pol, const sg_batch *b);
/* Temp files ".<base>.tmp-XXXXXX" in dir left by a killed run: removed when
 * they are regular files owned by us and older than SG_STALE_TEMP_SECONDS;
 * each removed path is added to `removed`. */
#define SG_STALE_TEMP_SECONDS 600
int sg_run_remove_stale_temps(sg_strlist *removed, const char *dir, const sg_strlist *bases);

#endif
