/* The local attestation verdict cache (judge_int.h; docs/signgate-notes.md,
 * "The attestation verdict cache"): $GIT_COMMON_DIR/signgate/attest-cache/
 * verdicts, a 0600 file in a 0700 folder, written only by the local user
 * (temp + rename). Layout, native byte order:
 *
 *   entries: value bytes, then SHA-256(key | u64 length | value)
 *   table:   one row per entry, sorted by key: key[32], u64 offset, u64 length
 *   footer:  magic[8], u32 byte order, u32 rows, u64 table offset,
 *            SHA-256(table | the footer's fields before it)
 *
 * A file that is missing, of another layout or byte order, or whose table
 * fails its checksum is empty; an entry that fails its own checksum is a
 * miss. Nothing here is ever trusted more than a miss: a miss judges again. */
#include "attest/judge_int.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VC_MAGIC "SGVCACH1"
#define VC_BYTE_ORDER 0x01020304u
#define VC_DIR "attest-cache"
#define VC_FILE "verdicts"
#define VC_MAX_BYTES ((uint64_t)256 << 20)   /* the file */
#define VC_MAX_ROWS ((size_t)1 << 20)        /* entries */
#define VC_MAX_VALUE ((uint64_t)64 << 20)    /* one entry */

typedef struct vc_row {
	unsigned char key[32];
	uint64_t off, len;
} vc_row;

typedef struct vc_footer {
	char magic[8];
	uint32_t byte_order, rows;
	uint64_t table_off;
	unsigned char sum[32];
} vc_footer;

struct sg_att_vcache {
	char *dir, *path;
	int fd;                   /* the file read (-1: none) */
	vc_row *rows;             /* its table */
	size_t nrows;
	char *used;               /* per row: read this run (1), failed its checksum (2) */
	sg_outfile out;           /* the file being written, once an entry is added */
	vc_row *added;
	size_t nadded, cap;
	uint64_t out_size;
	int broken;               /* writing failed: nothing more is written */
};

static int digest(unsigned char out[32], const void *a, size_t alen, const void *b, size_t blen,
		  const void *c, size_t clen)
{
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(h, a, alen) == 1 &&
		 EVP_DigestUpdate(h, b, blen) == 1 && EVP_DigestUpdate(h, c, clen) == 1 &&
		 EVP_DigestFinal_ex(h, out, NULL) == 1;

	EVP_MD_CTX_free(h);
	return ok ? SG_OK : sg_error_set_openssl(SG_ERROR, "cannot hash a cache entry");
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	return memcmp(((const vc_row *)a)->key, ((const vc_row *)b)->key, 32);
}

/* The table of the file, or nothing when it does not check out. */
static void load_table(sg_att_vcache *vc)
{
	vc_footer f;
	unsigned char sum[32];
	struct stat st;
	size_t i, tlen;

	if ((vc->fd = open(vc->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if (fstat(vc->fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > VC_MAX_BYTES ||
	    (size_t)st.st_size < sizeof(f) || pread_all(vc->fd, &f, sizeof(f), (uint64_t)st.st_size - sizeof(f)) < 0 ||
	    memcmp(f.magic, VC_MAGIC, 8) != 0 || f.byte_order != VC_BYTE_ORDER || f.rows > VC_MAX_ROWS)
		goto bad;
	tlen = (size_t)f.rows * sizeof(vc_row);
	if (f.table_off + tlen + sizeof(f) != (uint64_t)st.st_size ||
	    !(vc->rows = malloc(tlen ? tlen : 1)) || !(vc->used = calloc(f.rows ? f.rows : 1, 1)) ||
	    pread_all(vc->fd, vc->rows, tlen, f.table_off) < 0 ||
	    digest(sum, vc->rows, tlen, &f, offsetof(vc_footer, sum), "", 0) < 0 || memcmp(sum, f.sum, 32) != 0)
		goto bad;
	for (i = 0; i < f.rows; i++)
		if (vc->rows[i].len > VC_MAX_VALUE || vc->rows[i].off > f.table_off ||
		    vc->rows[i].len + 32 > f.table_off - vc->rows[i].off ||
		    (i && row_cmp(&vc->rows[i - 1], &vc->rows[i]) >= 0))
			goto bad;
	vc->nrows = f.rows;
	return;
bad:
	sg_error_clear();
	free(vc->rows);
	free(vc->used);
	vc->rows = NULL;
	vc->used = NULL;
	vc->nrows = 0;
}

int sg_att_vcache_open(sg_att_vcache **out, const char *dir)
{
	sg_att_vcache *vc = calloc(1, sizeof(*vc));
	sg_outfile init = SG_OUTFILE_INIT;

	if (!vc || asprintf(&vc->dir, "%s/" VC_DIR, dir) < 0 || asprintf(&vc->path, "%s/" VC_FILE, vc->dir) < 0) {
		if (vc) {
			free(vc->dir);
			free(vc);
		}
		return sg_error_set(SG_ERROR, "out of memory");
	}
	vc->fd = -1;
	vc->out = init;
	load_table(vc);
	*out = vc;
	return SG_OK;
}

void sg_att_vcache_free(sg_att_vcache *vc)
{
	if (!vc)
		return;
	if (vc->fd >= 0)
		close(vc->fd);
	sg_outfile_discard(&vc->out, 0);
	free(vc->rows);
	free(vc->used);
	free(vc->added);
	free(vc->path);
	free(vc->dir);
	free(vc);
}

/* The row's value and checksum as stored (len + 32 bytes), checked. */
static int read_entry(sg_buf *b, const sg_att_vcache *vc, const vc_row *r, int check)
{
	unsigned char sum[32];
	uint64_t len = r->len;

	sg_buf_clear(b);
	if (sg_buf_grow(b, r->len + 32) < 0 || pread_all(vc->fd, b->ptr, r->len + 32, r->off) < 0) {
		sg_error_clear();
		return 0;
	}
	b->size = r->len + 32;
	if (check && (digest(sum, r->key, 32, &len, sizeof(len), b->ptr, r->len) < 0 ||
		      memcmp(sum, b->ptr + r->len, 32) != 0)) {
		sg_error_clear();
		return 0;
	}
	return 1;
}

int sg_att_vcache_get(sg_buf *value, sg_att_vcache *vc, const unsigned char key[32])
{
	vc_row want, *r;

	memcpy(want.key, key, 32);
	if (!vc->nrows || !(r = bsearch(&want, vc->rows, vc->nrows, sizeof(*r), row_cmp)) ||
	    vc->used[r - vc->rows] == 2)
		return 0;
	if (!read_entry(value, vc, r, 1)) {
		vc->used[r - vc->rows] = 2; /* damaged: dropped when the file is written again */
		return 0;
	}
	vc->used[r - vc->rows] = 1;
	value->size = r->len;
	value->ptr[value->size] = '\0';
	return 1;
}

/* ---- writing ---- */

static int out_write(sg_att_vcache *vc, const void *data, size_t len)
{
	int err = sg_outfile_write(&vc->out, data, len);

	vc->out_size += len;
	return err;
}

static int start_output(sg_att_vcache *vc)
{
	char *parent, *slash;
	int err;

	if (vc->out.fd >= 0)
		return SG_OK;
	/* $GIT_COMMON_DIR/signgate, then attest-cache: each 0700, no symlink */
	if (!(parent = strdup(vc->dir)))
		return sg_error_set(SG_ERROR, "out of memory");
	if ((slash = strrchr(parent, '/')))
		*slash = '\0';
	err = sg_file_mkdir_private(parent);
	free(parent);
	if (err < 0 || (err = sg_file_mkdir_private(vc->dir)) < 0)
		return err;
	return sg_outfile_open(&vc->out, vc->path, 0600);
}

/* One entry (value and its checksum) at the end of the output. */
static int add_row(sg_att_vcache *vc, const unsigned char key[32], const void *value, size_t len,
		   const void *sum)
{
	vc_row *r;
	int err;

	if ((err = sg_array_reserve((void **)&vc->added, &vc->cap, vc->nadded, 64, sizeof(*vc->added))) < 0)
		return err;
	r = &vc->added[vc->nadded];
	memcpy(r->key, key, 32);
	r->off = vc->out_size;
	r->len = len;
	if ((err = out_write(vc, value, len)) == SG_OK && (err = out_write(vc, sum, 32)) == SG_OK)
		vc->nadded++;
	return err;
}

static int full(const sg_att_vcache *vc, uint64_t len)
{
	return vc->nadded >= VC_MAX_ROWS ||
	       vc->out_size + len + 32 + (vc->nadded + 1) * sizeof(vc_row) + sizeof(vc_footer) > VC_MAX_BYTES;
}

int sg_att_vcache_put(sg_att_vcache *vc, const unsigned char key[32], const void *value, size_t len)
{
	unsigned char sum[32];
	uint64_t n = len;
	int err;

	if (vc->broken || len > VC_MAX_VALUE || full(vc, len))
		return SG_OK;
	if ((err = start_output(vc)) < 0 || (err = digest(sum, key, 32, &n, sizeof(n), value, len)) < 0 ||
	    (err = add_row(vc, key, value, len, sum)) < 0) {
		vc->broken = 1;
		sg_outfile_discard(&vc->out, 0);
	}
	return err;
}

/* The old file's entries after the new ones: first those read this run,
 * then the others, each once, while the bounds allow. */
static int copy_old(sg_att_vcache *vc)
{
	sg_buf b = SG_BUF_INIT;
	size_t pass, i, nnew = vc->nadded;
	int err = SG_OK;

	qsort(vc->added, nnew, sizeof(*vc->added), row_cmp);
	for (pass = 1; pass <= 2 && err == SG_OK; pass++)
		for (i = 0; i < vc->nrows && err == SG_OK; i++) {
			const vc_row *r = &vc->rows[i];

			if ((pass == 1) != (vc->used[i] == 1) || vc->used[i] == 2 || full(vc, r->len) ||
			    bsearch(r, vc->added, nnew, sizeof(*r), row_cmp) || !read_entry(&b, vc, r, 0))
				continue;
			err = add_row(vc, r->key, b.ptr, r->len, b.ptr + r->len);
		}
	sg_buf_dispose(&b);
	return err;
}

int sg_att_vcache_save(sg_att_vcache *vc)
{
	vc_footer f;
	int err;

	if (vc->broken || !vc->nadded)
		return SG_OK;
	if ((err = copy_old(vc)) < 0)
		goto done;
	qsort(vc->added, vc->nadded, sizeof(*vc->added), row_cmp);
	memset(&f, 0, sizeof(f));
	memcpy(f.magic, VC_MAGIC, 8);
	f.byte_order = VC_BYTE_ORDER;
	f.rows = (uint32_t)vc->nadded;
	f.table_off = vc->out_size;
	if ((err = digest(f.sum, vc->added, vc->nadded * sizeof(vc_row), &f, offsetof(vc_footer, sum), "", 0)) < 0 ||
	    (err = out_write(vc, vc->added, vc->nadded * sizeof(vc_row))) < 0 ||
	    (err = out_write(vc, &f, sizeof(f))) < 0)
		goto done;
	err = sg_outfile_publish(&vc->out);
done:
	if (err < 0) {
		vc->broken = 1;
		sg_outfile_discard(&vc->out, 0);
	} else {
		sg_outfile_release(&vc->out);
		vc->nadded = 0;
	}
	return err;
}
