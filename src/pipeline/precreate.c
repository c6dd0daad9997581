/* A large batch creates its temp signature files in a second thread while
 * the main thread hashes and signs. Creating a file is the kernel's work
 * (inode and folder entry), independent of the bytes that go into it; on
 * ext4 without a journal it costs far more than writing 2 KiB (the inode
 * allocator skips recently deleted inodes one by one), and on two cores it
 * overlaps with the hashing instead of following it.
 *
 * Safety is that of sg_outfile: a temp file is hidden (".<base>.tmp-XXXXXX",
 * mode 0600 until set to 0644), is written only in step write, is removed
 * by run_release when the batch fails (a denial, malware, an error), and is
 * published by rename only after the record. A run killed before write
 * leaves empty hidden temp files that a later run removes (step stale). */
#include "pipeline/run.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>

/* Below this many files the batch is quick anyway; it also keeps small
 * batches' "nothing on disk before write" (t0720). */
#define SG_PRECREATE_MIN 8

static int precreate_one(sg_run *run, sg_item *it)
{
	char *path = NULL;
	int err;

	if ((err = sg_run_output_path(&path, run, it, it->slot->be->suffix)) < 0)
		return err;
	err = sg_outfile_open(&it->out_sig, path, 0644);
	free(path);
	return err;
}

/* The thread: touches only items' out_sig (the main thread leaves them
 * alone until sg_run_precreate_join). Errors are thread-local: copied. */
static void *precreate_main(void *p)
{
	sg_run *run = p;
	size_t i;
	int err = SG_OK;

	for (i = 0; i < run->n && err == SG_OK; i++)
		if (!run->items[i].payload)
			err = precreate_one(run, &run->items[i]);
	if (err < 0) {
		run->pre.err = err;
		snprintf(run->pre.msg, sizeof(run->pre.msg), "%s",
			 sg_error_last() ? sg_error_last() : "cannot create a temporary file");
	}
	return NULL;
}

int sg_run_precreate_start(sg_run *run)
{
	if (run->n < SG_PRECREATE_MIN || run->req->payload)
		return SG_OK;
	run->pre.err = SG_OK;
	/* no thread (EAGAIN): step write creates them, as for a small batch */
	run->pre.running = pthread_create(&run->pre.thread, NULL, precreate_main, run) == 0;
	return SG_OK;
}

int sg_run_precreate_join(sg_run *run)
{
	if (!run->pre.running)
		return SG_OK;
	pthread_join(run->pre.thread, NULL);
	run->pre.running = 0;
	return run->pre.err < 0 ? sg_error_set(run->pre.err, "%s", run->pre.msg) : SG_OK;
}
