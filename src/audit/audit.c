/* The hash-chained audit log: one compact JSON object per line, each with
 * "seq" (1, 2, ...), "time" (RFC 3339 UTC) and "prev" (hex SHA-256 of the
 * previous line's bytes without its newline; 64 zeros on line 1).
 * Appends hold flock(LOCK_EX) from reading the last line to fsync. */
#include "audit/audit.h"
#include "core/buf.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A batch of N artifacts is one line of about 160 * N bytes. */
#define SG_AUDIT_LINE_MAX (4 * 1024 * 1024)
/* The last line is looked for in a window from the end that starts small
 * and doubles, so an append reads little when lines are short. */
#define SG_AUDIT_WINDOW_MIN 65536
#define SG_AUDIT_DIR "signgate"
#define SG_AUDIT_FILE "audit.log"
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static int sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof(md))
		return sg_error_set_openssl(SG_ERROR, "SHA-256 failed");
	sg_hex(out, md, sizeof(md));
	return SG_OK;
}

static int lock_fd(int fd, int op, const char *path)
{
	while (flock(fd, op) < 0) {
		if (errno != EINTR)
			return sg_error_set(SG_ERROR, "cannot lock %s: %s", path, strerror(errno));
	}
	return SG_OK;
}

/* $GIT_COMMON_DIR/signgate, created 0700; a symlink or non-directory is refused. */
static int ensure_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return SG_OK;
	if (errno != EEXIST)
		return sg_error_set(SG_ERROR, "cannot create %s: %s", dir, strerror(errno));
	if (lstat(dir, &st) < 0)
		return sg_error_set(SG_ERROR, "cannot stat %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return sg_error_set(SG_ERROR, "%s is not a directory (a symlink?); remove it so signgate can "
				    "create its audit log there", dir);
	return SG_OK;
}

static int write_all(int fd, const char *p, size_t len, const char *path)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return sg_error_set(SG_ERROR, "cannot write %s: %s", path, w < 0 ? strerror(errno) : "short write");
		p += w;
		len -= (size_t)w;
	}
	return SG_OK;
}

/* The last line of a file of `size` bytes (without its newline), reading
 * at most `window` + 1 bytes from the end; SG_ERETRY when the line is
 * longer than the window but may fit a larger one. */
static int read_last_line_in(sg_buf *line, int fd, off_t size, const char *path, size_t window)
{
	size_t want, off;
	off_t start;
	char *nl;
	ssize_t r;
	int ret;

	if (size == 0)
		return SG_OK;
	want = (size_t)size - 1 > window + 1 ? window + 1 : (size_t)size - 1;
	start = size - 1 - (off_t)want;
	if ((ret = sg_buf_grow(line, want + 1)) < 0)
		return ret;
	for (off = 0; off < want + 1; off += (size_t)r) {
		r = pread(fd, line->ptr + off, want + 1 - off, start + (off_t)off);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0)
			return sg_error_set(SG_ERROR, "cannot read %s: %s", path, r < 0 ? strerror(errno) : "short read");
	}
	if (line->ptr[want] != '\n')
		return sg_error_set(SG_ERROR, "%s ends with an incomplete line (an interrupted write?); "
				    "check it with signgate doctor, then move it aside to start a new chain", path);
	line->size = want;
	line->ptr[want] = '\0';
	nl = memrchr(line->ptr, '\n', want);
	if (nl) {
		size_t skip = (size_t)(nl + 1 - line->ptr);

		memmove(line->ptr, nl + 1, want - skip + 1);
		line->size = want - skip;
	} else if (start != 0) {
		if (window < SG_AUDIT_LINE_MAX)
			return SG_ERETRY;
		return sg_error_set(SG_ERROR, "the last line of %s is longer than %d bytes; the log is corrupt",
				    path, SG_AUDIT_LINE_MAX);
	}
	if (line->size == 0)
		return sg_error_set(SG_ERROR, "%s ends with an empty line; the log is corrupt", path);
	return SG_OK;
}

static int read_last_line(sg_buf *line, int fd, off_t size, const char *path)
{
	size_t window = SG_AUDIT_WINDOW_MIN;
	int ret;

	while ((ret = read_last_line_in(line, fd, size, path, window)) == SG_ERETRY) {
		sg_buf_clear(line);
		window = window * 2 < SG_AUDIT_LINE_MAX ? window * 2 : SG_AUDIT_LINE_MAX;
	}
	return ret;
}

static int rfc3339_now(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return sg_error_set(SG_ERROR, "cannot format the current time");
	return SG_OK;
}

/* Build the line for `record` after a last line `last` (may be empty). */
static int make_line(sg_buf *out, json_t *record, const sg_buf *last, const char *path)
{
	json_t *copy = NULL, *prevobj = NULL, *seq;
	json_error_t jerr;
	char prev[65], now[32];
	json_int_t n = 1;
	char *dump = NULL;
	int ret;

	if (last->size) {
		prevobj = json_loadb(last->ptr, last->size, JSON_REJECT_DUPLICATES, &jerr);
		seq = prevobj ? json_object_get(prevobj, "seq") : NULL;
		if (!json_is_integer(seq) || json_integer_value(seq) < 1) {
			ret = sg_error_set(SG_ERROR, "the last line of %s is not a signgate audit record; "
					   "check it with signgate doctor, then move it aside to start a new chain", path);
			goto done;
		}
		n = json_integer_value(seq) + 1;
		if ((ret = sha256_hex(prev, last->ptr, last->size)) < 0)
			goto done;
	} else {
		memcpy(prev, ZERO_HASH, sizeof(prev));
	}
	if ((ret = rfc3339_now(now)) < 0)
		goto done;
	copy = json_copy(record); /* shallow: the caller's object is left alone */
	if (!copy || json_object_set_new(copy, "seq", json_integer(n)) < 0 ||
	    json_object_set_new(copy, "time", json_string(now)) < 0 ||
	    json_object_set_new(copy, "prev", json_string(prev)) < 0) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	dump = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	if (!dump) {
		ret = sg_error_set(SG_ERROR, "cannot serialize the audit record");
		goto done;
	}
	if (strlen(dump) > SG_AUDIT_LINE_MAX || strchr(dump, '\n')) {
		ret = sg_error_set(SG_ERROR, "audit record is %zu bytes; the limit is %d", strlen(dump),
				   SG_AUDIT_LINE_MAX);
		goto done;
	}
	if ((ret = sg_buf_puts(out, dump)) < 0 || (ret = sg_buf_put(out, "\n", 1)) < 0)
		goto done;
	ret = SG_OK;
done:
	free(dump);
	json_decref(copy);
	json_decref(prevobj);
	return ret;
}

int sg_audit_append(git_repository *repo, json_t *record)
{
	sg_buf dir = SG_BUF_INIT, path = SG_BUF_INIT, last = SG_BUF_INIT, line = SG_BUF_INIT;
	struct stat st;
	int fd = -1, ret;

	if (!json_is_object(record))
		return sg_error_set(SG_ERROR, "an audit record must be a JSON object");
	if ((ret = sg_buf_printf(&dir, "%s%s", git_repository_commondir(repo), SG_AUDIT_DIR)) < 0 ||
	    (ret = sg_buf_printf(&path, "%s/%s", dir.ptr, SG_AUDIT_FILE)) < 0 ||
	    (ret = ensure_dir(dir.ptr)) < 0)
		goto done;
	fd = open(path.ptr, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = sg_error_set(SG_ERROR, "cannot open %s: %s%s", path.ptr, strerror(errno),
				   errno == ELOOP ? " (it is a symlink; remove it)" : "");
		goto done;
	}
	if ((ret = lock_fd(fd, LOCK_EX, path.ptr)) < 0)
		goto done;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = sg_error_set(SG_ERROR, "%s is not a regular file", path.ptr);
		goto done;
	}
	if ((ret = read_last_line(&last, fd, st.st_size, path.ptr)) < 0 ||
	    (ret = make_line(&line, record, &last, path.ptr)) < 0 ||
	    (ret = write_all(fd, line.ptr, line.size, path.ptr)) < 0)
		goto done;
	if (fsync(fd) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot fsync %s: %s", path.ptr, strerror(errno));
		goto done;
	}
	if (st.st_size == 0) {
		/* a new file: make its directory entry durable too */
		int dfd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	ret = SG_OK;
done:
	if (fd >= 0)
		close(fd); /* releases the lock */
	sg_buf_dispose(&dir);
	sg_buf_dispose(&path);
	sg_buf_dispose(&last);
	sg_buf_dispose(&line);
	return ret;
}

/* Check line `n` against the previous line's hash; update prev. */
static int verify_line(const char *path, size_t n, const char *line, size_t len, char prev[65])
{
	json_t *obj;
	json_error_t jerr;
	json_t *p, *seq, *t;
	int ret = SG_EVERIFY;

	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj || !json_is_object(obj)) {
		ret = sg_error_set(SG_EVERIFY, "%s line %zu: not a JSON object (%s)", path, n,
				   obj ? "other JSON value" : jerr.text);
		goto done;
	}
	p = json_object_get(obj, "prev");
	if (!json_is_string(p) || strcmp(json_string_value(p), prev) != 0) {
		if (n == 1)
			ret = sg_error_set(SG_EVERIFY, "%s line 1: prev is not 64 zeros; the start of the log "
					   "was removed or edited", path);
		else
			ret = sg_error_set(SG_EVERIFY, "%s line %zu: prev does not match line %zu; a line was "
					   "edited, inserted or removed", path, n, n - 1);
		goto done;
	}
	seq = json_object_get(obj, "seq");
	if (!json_is_integer(seq) || json_integer_value(seq) != (json_int_t)n) {
		ret = sg_error_set(SG_EVERIFY, "%s line %zu: seq is not %zu", path, n, n);
		goto done;
	}
	t = json_object_get(obj, "time");
	if (!json_is_string(t)) {
		ret = sg_error_set(SG_EVERIFY, "%s line %zu: no time", path, n);
		goto done;
	}
	if ((ret = sha256_hex(prev, line, len)) < 0)
		goto done;
	ret = SG_OK;
done:
	json_decref(obj);
	return ret;
}

int sg_audit_verify(const char *path, size_t *lines)
{
	sg_buf line = SG_BUF_INIT;
	char chunk[16384], prev[65];
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd, ret = SG_EVERIFY;

	memcpy(prev, ZERO_HASH, sizeof(prev));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sg_error_set(errno == ENOENT ? SG_ENOTFOUND : SG_ERROR, "cannot open %s: %s", path,
				    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = sg_error_set(SG_ERROR, "%s is not a regular file", path);
		goto done;
	}
	/* shared lock: never read a line while it is being appended */
	if ((ret = lock_fd(fd, LOCK_SH, path)) < 0)
		goto done;
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		const char *p = chunk, *end;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = sg_error_set(SG_ERROR, "cannot read %s: %s", path, strerror(errno));
			goto done;
		}
		end = chunk + r;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t seg = (size_t)((nl ? nl : end) - p);

			if (line.size + seg > SG_AUDIT_LINE_MAX) {
				ret = sg_error_set(SG_EVERIFY, "%s line %zu: longer than %d bytes", path, n + 1,
						   SG_AUDIT_LINE_MAX);
				goto done;
			}
			if ((ret = sg_buf_put(&line, p, seg)) < 0)
				goto done;
			if (!nl)
				break;
			n++;
			if ((ret = verify_line(path, n, line.ptr, line.size, prev)) < 0)
				goto done;
			sg_buf_clear(&line);
			p = nl + 1;
		}
	}
	if (line.size) {
		ret = sg_error_set(SG_EVERIFY, "%s line %zu: incomplete (no newline); a write was interrupted "
				   "or the file was cut", path, n + 1);
		goto done;
	}
	if (lines)
		*lines = n;
	ret = SG_OK;
done:
	close(fd);
	sg_buf_dispose(&line);
	return ret;
}

int sg_audit_verify_repo(git_repository *repo, size_t *lines)
{
	sg_buf path = SG_BUF_INIT;
	int ret;

	if ((ret = sg_buf_printf(&path, "%s%s/%s", git_repository_commondir(repo), SG_AUDIT_DIR,
				 SG_AUDIT_FILE)) == 0)
		ret = sg_audit_verify(path.ptr, lines);
	sg_buf_dispose(&path);
	return ret;
}
