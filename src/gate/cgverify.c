/* The commit-graph's trailing checksums, verified once per change of a file
 * (docs/signgate-check.md, "The commit-graph"). The graph is a local file
 * that only git on this machine writes, trusted as git trusts it; what is
 * caught here is damage (bit rot, a torn write, a bug, an edit that left the
 * checksum stale), never a local writer who recomputes it.
 *
 * "Verified OK" is cached in $GIT_COMMON_DIR/signgate/cgraph-verified (0600
 * in a 0700 folder, temp + rename), one line per file:
 *
 *   dev ino size mtime.sec mtime.nsec ctime.sec ctime.nsec PATH
 *
 * A file counts as verified only when a line matches its path and the stat
 * of the descriptor it was mapped from exactly. ctime cannot be set by a
 * user, so any change of the file (an edit in place with size and mtime
 * put back included) verifies it again. A cache that is missing, damaged or
 * of another version is "nothing verified": every file is checksummed now. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/file.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CV_HEADER "signgate-cgraph-verified 1\n"
#define CV_FILE "cgraph-verified"
#define CV_MAX_BYTES (1u << 20)
#define CV_HASH 20

int sg_cgraph_checksum_ok(const unsigned char *map, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (size < CV_HASH || !EVP_Digest(map, size - CV_HASH, md, &mdlen, EVP_sha1(), NULL) || mdlen != CV_HASH)
		return 0;
	return memcmp(md, map + size - CV_HASH, CV_HASH) == 0;
}

/* "\n<identity> PATH\n" (with the newline before, to match whole lines). */
static int identity_line(sg_buf *out, const sg_cgraph_file *f)
{
	const struct stat *s = &f->st;

	if (strchr(f->path, '\n'))
		return SG_ENOTFOUND;  /* never cached: verified every time */
	return sg_buf_printf(out, "\n%ju %ju %jd %jd %ld %jd %ld %s\n", (uintmax_t)s->st_dev, (uintmax_t)s->st_ino,
			     (intmax_t)s->st_size, (intmax_t)s->st_mtim.tv_sec, s->st_mtim.tv_nsec,
			     (intmax_t)s->st_ctim.tv_sec, s->st_ctim.tv_nsec, f->path) < 0 ? SG_ERROR : SG_OK;
}

static int cached(const sg_buf *cache, const sg_cgraph_file *f)
{
	sg_buf line = SG_BUF_INIT;
	int hit = cache->size > 0 && identity_line(&line, f) == SG_OK && strstr(cache->ptr, line.ptr) != NULL;

	sg_buf_dispose(&line);
	return hit;
}

/* The cache with a line for each file (all verified). Best effort: a cache
 * that cannot be written only means verifying again next time. */
static void save(git_repository *repo, const sg_cgraph_file *f, size_t n)
{
	sg_buf dir = SG_BUF_INIT, path = SG_BUF_INIT, data = SG_BUF_INIT;
	size_t i;

	if (sg_buf_printf(&dir, "%ssigngate", git_repository_commondir(repo)) < 0 ||
	    sg_buf_printf(&path, "%s/" CV_FILE, dir.ptr) < 0 || sg_buf_puts(&data, CV_HEADER) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		sg_buf line = SG_BUF_INIT;
		int err = identity_line(&line, &f[i]);

		if (err == SG_OK)
			err = sg_buf_puts(&data, line.ptr + 1);
		sg_buf_dispose(&line);
		if (err == SG_ERROR)
			goto done;
	}
	if (sg_file_mkdir_private(dir.ptr) == SG_OK)
		sg_file_write_cache(path.ptr, data.ptr, data.size, 0600);
done:
	sg_error_clear();
	sg_buf_dispose(&dir);
	sg_buf_dispose(&path);
	sg_buf_dispose(&data);
}

static void load(sg_buf *cache, git_repository *repo)
{
	sg_buf path = SG_BUF_INIT;

	if (sg_buf_printf(&path, "%ssigngate/" CV_FILE, git_repository_commondir(repo)) < 0 ||
	    sg_file_read_all(cache, path.ptr, CV_MAX_BYTES) < 0 || cache->size < strlen(CV_HEADER) ||
	    memcmp(cache->ptr, CV_HEADER, strlen(CV_HEADER)) != 0 || memchr(cache->ptr, '\0', cache->size))
		sg_buf_clear(cache);  /* unreadable, damaged, another version: nothing verified */
	sg_error_clear();
	sg_buf_dispose(&path);
}

/* Still the file that was mapped (verified bytes = the file named)? */
static int unchanged(const sg_cgraph_file *f)
{
	struct stat now;

	return lstat(f->path, &now) == 0 && sg_file_stat_same(&now, &f->st);
}

int sg_cgraph_verify_cached(git_repository *repo, const sg_cgraph_file *f, size_t n)
{
	sg_buf cache = SG_BUF_INIT;
	size_t i;
	int ret = SG_OK, fresh = 0, stable = 1;

	load(&cache, repo);
	for (i = 0; i < n; i++) {
		if (cached(&cache, &f[i]))
			continue;
		if (!sg_cgraph_checksum_ok(f[i].map, f[i].size)) {
			ret = sg_error_set(SG_EVERIFY, "the commit-graph's checksum does not match (%s, file %zu of %zu): "
					   "it is not used (the objects answer); run git commit-graph write --reachable",
					   f[i].path, i + 1, n);
			goto done;
		}
		fresh = 1;
		stable &= unchanged(&f[i]);  /* changed while verified: not recorded */
	}
	if (fresh && stable)
		save(repo, f, n);
done:
	sg_buf_dispose(&cache);
	return ret;
}
