/* Safe files: regular files only, O_NOFOLLOW, identity checks, and
 * temp+fsync+rename outputs that leave no partial file behind. */
#ifndef SG_CORE_FILE_H
#define SG_CORE_FILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/buf.h"

/* Open `path` read-only with O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC; refuse
 * symlinks, directories, FIFOs, devices, sockets with a clear SG_ERROR
 * message naming the path and what it is. Fills *st. */
int sg_file_open_regular(int *fd_out, struct stat *st, const char *path);
/* SG_OK when fd still refers to the same unchanged file as `before`
 * (dev, ino, size, mtime, ctime); SG_ERROR "changed while it was read" otherwise. */
int sg_file_check_unchanged(int fd, const struct stat *before, const char *path);
/* 1 when a and b describe the same unchanged file (the fields above), else 0.
 * For callers that word their own message. */
int sg_file_stat_same(const struct stat *a, const struct stat *b);
/* Read a whole small regular file (no symlinks) into out, at most max bytes.
 * `out` must be initialised (SG_BUF_INIT); its old content is freed. */
int sg_file_read_all(sg_buf *out, const char *path, size_t max);
/* Refuse a secret file (key, PIN) unless regular, owned by the caller and
 * mode 0600 or 0400 (no group/other bits). */
int sg_file_check_private(const char *path);

/* An output being written: a temp file "<dir>/.<base>.tmp-XXXXXX" in the
 * target folder (same file system, so the rename is atomic), created 0600
 * then set to `mode`. Lifecycle: open -> write... -> publish (finish +
 * rename + fsync of the folder), or discard at any point. A temp file is
 * never left behind: discard and release both remove it when it was not
 * published.
 *
 * Errors: ENOSPC/EDQUOT say "disk full", EFBIG says "file size limit".
 * A process over RLIMIT_FSIZE also receives SIGXFSZ, whose default action
 * kills it (and would leave the temp file): the program must ignore SIGXFSZ
 * (signal(SIGXFSZ, SIG_IGN), done by the sign pipeline at start) so that the
 * write fails with EFBIG and the output is cleaned up. */
typedef struct sg_outfile {
	char *final_path;
	char *tmp_path;
	int fd;
	int renamed;
} sg_outfile;

#define SG_OUTFILE_INIT { NULL, NULL, -1, 0 }

int sg_outfile_open(sg_outfile *o, const char *final_path, mode_t mode);
int sg_outfile_write(sg_outfile *o, const void *data, size_t len);
/* fsync and close the temp file (still not visible under final_path). */
int sg_outfile_finish(sg_outfile *o);
/* rename into place and fsync the folder. */
int sg_outfile_publish(sg_outfile *o);
/* Remove the temp file (or, after publish, the published file when
 * `unpublish` is set) and free. Safe to call on any state. */
void sg_outfile_discard(sg_outfile *o, int unpublish);
/* Free after success (a published file stays); an unpublished temp file is
 * removed, as by discard. */
void sg_outfile_release(sg_outfile *o);

/* Batches. Finish (make durable and close) every written output: an fsync
 * each for a few files, one syncfs per filesystem for many. Outputs on the
 * file system `synced` (NULL: none) are only closed: the caller synced it
 * (syncfs) after they were written. */
int sg_outfiles_finish(sg_outfile *const *v, size_t n, const dev_t *synced);
/* Rename every finished output into place, then sync each folder once. */
int sg_outfiles_publish(sg_outfile *const *v, size_t n);

/* Durability barriers for records outside sg_outfile (git objects, refs).
 * sg_file_sync_fs: syncfs(2) of the file system holding `path` (a folder
 * or file): everything written there so far is on disk when it returns.
 * sg_file_sync_path: fsync `path` and then its folder (its data and its
 * name). Both SG_ERROR with the path and the reason. */
int sg_file_sync_fs(const char *path);
int sg_file_sync_path(const char *path);

/* An anonymous in-memory file (memfd, close-on-exec) holding `data`, at
 * offset 0, for bytes that are not a file (git's tag payload) but go
 * through the same readers. Fills *st. */
int sg_file_memfd(int *fd_out, struct stat *st, const void *data, size_t len, const char *name);

/* mkdir `path` 0700 unless it is there; SG_ERROR when it cannot be made or
 * is not a directory (a symlink is refused, never followed). */
int sg_file_mkdir_private(const char *path);

/* Convenience: write whole content atomically (an output: temp file,
 * fsync, rename, fsync of the folder). */
int sg_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same without the fsyncs, for a cache only: a file that its reader
 * checks (checksum) and rebuilds when damaged, so that a crash may tear it
 * but never makes anything trust it. Readers still never see a partial
 * file under `path` while the machine stays up (rename). */
int sg_file_write_cache(const char *path, const void *data, size_t len, mode_t mode);

/* Remove a private temporary folder and everything in it (symlinks are
 * removed, never followed). Best effort. */
void sg_file_remove_tree(const char *dir);

#endif
