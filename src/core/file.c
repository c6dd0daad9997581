#include "core/file.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *sg_file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO (named pipe)";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a regular file";
}

int sg_file_open_regular(int *fd_out, struct stat *st, const char *path)
{
	int ret = SG_ERROR;
	int fd = -1, fl;
	struct stat s;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			ret = sg_error_set(SG_ERROR, "%s is a symbolic link; signgate reads and signs regular files only", path);
		else if (errno == ENOENT)
			ret = sg_error_set(SG_ERROR, "%s does not exist", path);
		else
			ret = sg_error_set(SG_ERROR, "cannot open %s: %s", path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &s) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot stat %s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(s.st_mode)) {
		ret = sg_error_set(SG_ERROR, "%s is %s; signgate reads and signs regular files only",
				   path, sg_file_kind(s.st_mode));
		goto done;
	}
	/* Regular file: reads block normally from here on. */
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot set flags on %s: %s", path, strerror(errno));
		goto done;
	}
	*fd_out = fd;
	fd = -1;
	if (st)
		*st = s;
	ret = SG_OK;
done:
	if (fd >= 0)
		close(fd);
	return ret;
}

int sg_file_stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int sg_file_check_unchanged(int fd, const struct stat *before, const char *path)
{
	struct stat now;

	if (fstat(fd, &now) < 0)
		return sg_error_set(SG_ERROR, "cannot stat %s: %s", path, strerror(errno));
	if (!sg_file_stat_same(&now, before))
		return sg_error_set(SG_ERROR,
				    "%s changed while it was read (size, time or identity differ); "
				    "nothing was signed: make sure no build step writes it, then run again", path);
	return SG_OK;
}

int sg_file_read_all(sg_buf *out, const char *path, size_t max)
{
	int ret = SG_ERROR, fd = -1;
	struct stat st;
	sg_buf b = SG_BUF_INIT;
	char chunk[16384];
	ssize_t n;

	if ((ret = sg_file_open_regular(&fd, &st, path)) < 0)
		goto done;
	ret = SG_ERROR;
	if ((unsigned long long)st.st_size > max) {
		ret = sg_error_set(SG_ERROR, "%s is %lld bytes, more than the %zu-byte limit",
				   path, (long long)st.st_size, max);
		goto done;
	}
	sg_buf_init(&b, max);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = sg_error_set(SG_ERROR, "cannot read %s: %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (b.size + (size_t)n > max) {
			ret = sg_error_set(SG_ERROR, "%s is more than the %zu-byte limit", path, max);
			goto done;
		}
		if ((ret = sg_buf_put(&b, chunk, (size_t)n)) < 0)
			goto done;
	}
	if (!b.ptr) {
		if ((ret = sg_buf_grow(&b, 0)) < 0)
			goto done;
		b.ptr[0] = '\0';
	}
	sg_buf_dispose(out);
	*out = b;
	sg_buf_init(&b, 0);
	ret = SG_OK;
done:
	sg_buf_dispose(&b);
	if (fd >= 0)
		close(fd);
	return ret;
}

int sg_file_check_private(const char *path)
{
	int ret = SG_EDENIED, fd = -1;
	struct stat st;

	if ((ret = sg_file_open_regular(&fd, &st, path)) < 0)
		goto done;
	ret = SG_EDENIED;
	if (st.st_uid != geteuid()) {
		ret = sg_error_set(SG_EDENIED, "%s is owned by uid %lu, not by you (uid %lu); "
				   "a secret file must belong to the user who runs signgate",
				   path, (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto done;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ret = sg_error_set(SG_EDENIED, "%s is mode %04o; run chmod 600 %s",
				   path, (unsigned)(st.st_mode & 07777), path);
		goto done;
	}
	ret = SG_OK;
done:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Split `path` into a newly allocated folder ("." when none) and base name. */
static int sg_path_split(const char *path, char **dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*dir = strdup(".");
		*base = path;
	} else if (slash == path) {
		*dir = strdup("/");
		*base = slash + 1;
	} else {
		*dir = strndup(path, (size_t)(slash - path));
		*base = slash + 1;
	}
	if (!*dir)
		return sg_error_set(SG_ERROR, "out of memory");
	if (**base == '\0')
		return sg_error_set(SG_ERROR, "%s names a folder, not a file", path);
	return SG_OK;
}

static int sg_fsync_dir(const char *dir, const char *path)
{
	int fd, ret = SG_OK;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sg_error_set(SG_ERROR, "cannot open folder %s to sync %s: %s", dir, path, strerror(errno));
	if (fsync(fd) < 0 && errno != EINVAL)
		ret = sg_error_set(SG_ERROR, "cannot sync folder %s after writing %s: %s", dir, path, strerror(errno));
	close(fd);
	return ret;
}

int sg_file_sync_fs(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), ret = SG_OK;

	if (fd < 0)
		return sg_error_set(SG_ERROR, "cannot open %s to sync its file system: %s", path, strerror(errno));
	if (syncfs(fd) < 0)
		ret = sg_error_set(SG_ERROR, "cannot sync the file system of %s: %s", path, strerror(errno));
	close(fd);
	return ret;
}

int sg_file_sync_path(const char *path)
{
	char *dir = NULL;
	const char *base;
	int fd, ret;

	if ((ret = sg_path_split(path, &dir, &base)) < 0)
		goto done;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot open %s to sync it: %s", path, strerror(errno));
		goto done;
	}
	if (fsync(fd) < 0)
		ret = sg_error_set(SG_ERROR, "cannot sync %s: %s", path, strerror(errno));
	close(fd);
	if (ret == SG_OK)
		ret = sg_fsync_dir(dir, path);
done:
	free(dir);
	return ret;
}

int sg_outfile_open(sg_outfile *o, const char *final_path, mode_t mode)
{
	int ret = SG_ERROR, fd = -1;
	char *dir = NULL, *fin = NULL, *tmp = NULL;
	const char *base;
	size_t n;

	if ((ret = sg_path_split(final_path, &dir, &base)) < 0)
		goto done;
	ret = SG_ERROR;
	fin = strdup(final_path);
	n = strlen(dir) + strlen(base) + 16;
	tmp = malloc(n);
	if (!fin || !tmp) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	snprintf(tmp, n, "%s/.%s.tmp-XXXXXX", dir, base);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = sg_error_set(SG_ERROR, "cannot create a temporary file in %s for %s: %s",
				   dir, final_path, strerror(errno));
		goto done;
	}
	if (fchmod(fd, mode) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot set mode %04o on %s: %s", (unsigned)mode, tmp, strerror(errno));
		goto done;
	}
	o->final_path = fin;
	o->tmp_path = tmp;
	o->fd = fd;
	o->renamed = 0;
	fin = tmp = NULL;
	fd = -1;
	ret = SG_OK;
done:
	if (fd >= 0) {
		unlink(tmp);
		close(fd);
	}
	free(dir);
	free(fin);
	free(tmp);
	return ret;
}

static int sg_write_error(const sg_outfile *o, int err)
{
	if (err == ENOSPC || err == EDQUOT)
		return sg_error_set(SG_ERROR, "cannot write %s: disk full (%s); free some space and run again",
				    o->final_path, strerror(err));
	if (err == EFBIG)
		return sg_error_set(SG_ERROR, "cannot write %s: over the file size limit (%s); "
				    "raise it (ulimit -f) and run again", o->final_path, strerror(err));
	return sg_error_set(SG_ERROR, "cannot write %s: %s", o->final_path, strerror(err));
}

/* 0 when all of p went to fd, else the errno (a write of 0 bytes: ENOSPC). */
static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sg_outfile_write(sg_outfile *o, const void *data, size_t len)
{
	const char *p = data;

	if (o->fd < 0)
		return sg_error_set(SG_ERROR, "internal: write to %s after it was closed",
				    o->final_path ? o->final_path : "(no file)");
	int e = write_all(o->fd, p, len);

	return e ? sg_write_error(o, e) : SG_OK;
}

int sg_outfile_finish(sg_outfile *o)
{
	int fd = o->fd, ret = SG_OK;

	if (fd < 0)
		return sg_error_set(SG_ERROR, "internal: %s finished twice",
				    o->final_path ? o->final_path : "(no file)");
	o->fd = -1;
	if (fsync(fd) < 0)
		ret = sg_write_error(o, errno);
	if (close(fd) < 0 && ret == SG_OK && errno != EINTR)
		ret = sg_write_error(o, errno);
	return ret;
}

/* rename into place, no fsync */
static int outfile_rename(sg_outfile *o)
{
	if (rename(o->tmp_path, o->final_path) < 0)
		return sg_error_set(SG_ERROR, "cannot rename %s to %s: %s", o->tmp_path, o->final_path,
				    strerror(errno));
	o->renamed = 1;
	return SG_OK;
}

int sg_outfile_publish(sg_outfile *o)
{
	int ret;
	char *dir = NULL;
	const char *base;

	if (o->fd >= 0 && (ret = sg_outfile_finish(o)) < 0)
		return ret;
	if (!o->tmp_path || o->renamed)
		return sg_error_set(SG_ERROR, "internal: nothing to publish for %s",
				    o->final_path ? o->final_path : "(no file)");
	if ((ret = sg_path_split(o->final_path, &dir, &base)) < 0)
		goto done;
	if ((ret = outfile_rename(o)) < 0)
		goto done;
	ret = sg_fsync_dir(dir, o->final_path);
done:
	free(dir);
	return ret;
}

/* Above this many files, one syncfs per filesystem is cheaper than an
 * fsync per file. */
#define SG_OUTFILES_SYNCFS_MIN 8

/* Make v[i] durable: nothing when its file system is `synced`, an fsync
 * for a few files, else a syncfs unless the previous one synced its file
 * system (batches write to one or two folders: a linear check is enough). */
static int outfile_sync(sg_outfile *o, int many, const dev_t *synced, dev_t *last, int *have_last)
{
	struct stat st;

	if (fstat(o->fd, &st) < 0)
		return sg_write_error(o, errno);
	if ((synced && st.st_dev == *synced) || (many && *have_last && st.st_dev == *last))
		return SG_OK;
	if (!many)
		return fsync(o->fd) < 0 ? sg_write_error(o, errno) : SG_OK;
	if (syncfs(o->fd) < 0)
		return sg_write_error(o, errno);
	*last = st.st_dev;
	*have_last = 1;
	return SG_OK;
}

int sg_outfiles_finish(sg_outfile *const *v, size_t n, const dev_t *synced)
{
	dev_t last = 0;
	size_t i;
	int have_last = 0, ret = SG_OK;

	for (i = 0; i < n; i++) {
		if (v[i]->fd < 0)
			continue;
		if (ret == SG_OK)
			ret = outfile_sync(v[i], n >= SG_OUTFILES_SYNCFS_MIN, synced, &last, &have_last);
		if (close(v[i]->fd) < 0 && ret == SG_OK && errno != EINTR)
			ret = sg_write_error(v[i], errno);
		v[i]->fd = -1;
	}
	return ret;
}

int sg_outfiles_publish(sg_outfile *const *v, size_t n)
{
	char *dir = NULL, *last_dir = NULL;
	const char *base;
	size_t i;
	int ret = SG_OK;

	for (i = 0; i < n && ret == SG_OK; i++) {
		if (v[i]->fd >= 0 || !v[i]->tmp_path || v[i]->renamed)
			return sg_error_set(SG_ERROR, "internal: %s is not ready to publish",
					    v[i]->final_path ? v[i]->final_path : "(no file)");
		ret = outfile_rename(v[i]);
	}
	/* then each folder once */
	for (i = 0; i < n && ret == SG_OK; i++) {
		if ((ret = sg_path_split(v[i]->final_path, &dir, &base)) < 0)
			break;
		if (!last_dir || strcmp(dir, last_dir) != 0)
			ret = sg_fsync_dir(dir, v[i]->final_path);
		free(last_dir);
		last_dir = dir;
		dir = NULL;
	}
	free(dir);
	free(last_dir);
	return ret;
}

void sg_outfile_discard(sg_outfile *o, int unpublish)
{
	int saved = errno;

	if (o->fd >= 0) {
		close(o->fd);
		o->fd = -1;
	}
	if (!o->renamed && o->tmp_path) {
		unlink(o->tmp_path);
		free(o->tmp_path); /* removed: release has nothing left to unlink */
		o->tmp_path = NULL;
	} else if (o->renamed && unpublish && o->final_path) {
		unlink(o->final_path);
	}
	sg_outfile_release(o);
	errno = saved;
}

void sg_outfile_release(sg_outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (!o->renamed && o->tmp_path)
		unlink(o->tmp_path);
	free(o->final_path);
	free(o->tmp_path);
	o->final_path = o->tmp_path = NULL;
	o->fd = -1;
	o->renamed = 0;
}

/* Temp file, write, then publish (fsync the file and its folder) when
 * `durable`, else only close and rename. */
static int write_atomic(const char *path, const void *data, size_t len, mode_t mode, int durable)
{
	sg_outfile o = SG_OUTFILE_INIT;
	int ret, fd;

	if ((ret = sg_outfile_open(&o, path, mode)) < 0 || (ret = sg_outfile_write(&o, data, len)) < 0)
		goto done;
	if (durable) {
		ret = sg_outfile_publish(&o);
	} else {
		fd = o.fd;
		o.fd = -1;
		ret = close(fd) < 0 && errno != EINTR ? sg_write_error(&o, errno) : outfile_rename(&o);
	}
done:
	if (ret < 0)
		sg_outfile_discard(&o, 0);
	else
		sg_outfile_release(&o);
	return ret;
}

int sg_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_atomic(path, data, len, mode, 1);
}

int sg_file_write_cache(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_atomic(path, data, len, mode, 0);
}

int sg_file_mkdir_private(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return sg_error_set(SG_ERROR, "cannot create %s: %s", path, strerror(errno));
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return sg_error_set(SG_ERROR, "%s is not a directory", path);
	return SG_OK;
}

int sg_file_memfd(int *fd_out, struct stat *st, const void *data, size_t len, const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC), e;
	int err = SG_ERROR;

	if (fd < 0)
		return sg_error_set(SG_ERROR, "memfd_create: %s", strerror(errno));
	if ((e = write_all(fd, data, len)) == 0 && (lseek(fd, 0, SEEK_SET) < 0 || fstat(fd, st) < 0))
		e = errno;
	if (e) {
		err = sg_error_set(SG_ERROR, "cannot buffer %s: %s", name, strerror(e));
		goto done;
	}
	*fd_out = fd;
	fd = -1;
	err = SG_OK;
done:
	if (fd >= 0)
		close(fd);
	return err;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void sg_file_remove_tree(const char *dir)
{
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}
