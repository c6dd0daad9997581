/* A read-only reader of git's commit-graph file (Documentation/gitformat-
 * commit-graph.txt), used only to follow first parents quickly.
 *
 * libgit2 1.5 has a reader, but it refuses the files git 2.39 writes (their
 * GDA2/GDO2 generation-data chunks are "unrecognized"), so reachability on a
 * large history would cost one inflate per commit. This reader checks the
 * file's trailing SHA-1 and every bound it uses; anything it does not
 * understand (split chains, other hashes, corruption) makes it decline, and
 * the caller falls back to reading objects. */
#include "gate/internal.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_MAX_SIZE (2ULL << 30)        /* 2 GiB: ~50 million commits */
#define CG_HASH 20
#define CG_CDAT_WIDTH (CG_HASH + 16)
#define CG_PARENT_NONE 0x70000000u
#define CG_PARENT_EDGE 0x80000000u

struct sg_cgraph {
	unsigned char *map;
	size_t size;
	const unsigned char *fanout;  /* 256 big-endian u32 */
	const unsigned char *oids;    /* n * 20 */
	const unsigned char *cdat;    /* n * 36 */
	uint32_t n;
};

static uint32_t be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

static int map_file(sg_cgraph *g, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	void *m;

	if (fd < 0)
		return SG_ENOTFOUND;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 8 + 12 + CG_HASH ||
	    (unsigned long long)st.st_size > CG_MAX_SIZE) {
		close(fd);
		return SG_ENOTFOUND;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return SG_ENOTFOUND;
	g->map = m;
	g->size = (size_t)st.st_size;
	return SG_OK;
}

static int checksum_ok(const sg_cgraph *g)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(g->map, g->size - CG_HASH, md, &mdlen, EVP_sha1(), NULL) || mdlen != CG_HASH)
		return 0;
	return memcmp(md, g->map + g->size - CG_HASH, CG_HASH) == 0;
}

/* Locate the chunks; 0 when the layout is not one this reader trusts. */
static int parse_layout(sg_cgraph *g)
{
	const unsigned char *p = g->map;
	size_t end = g->size - CG_HASH, table, i, nchunks;
	uint64_t oidl_len = 0, cdat_len = 0;

	if (memcmp(p, "CGPH", 4) != 0 || p[4] != 1 || p[5] != 1 || p[7] != 0)
		return 0;  /* version 1, SHA-1, no base graphs */
	nchunks = p[6];
	table = 8;
	if (table + 12 * (nchunks + 1) > end)
		return 0;
	for (i = 0; i < nchunks; i++) {
		const unsigned char *e = p + table + 12 * i;
		uint64_t off = be64(e + 4), next = be64(e + 16);

		if (off < table + 12 * (nchunks + 1) || next < off || next > end)
			return 0;
		if (memcmp(e, "OIDF", 4) == 0 && next - off == 1024)
			g->fanout = p + off;
		else if (memcmp(e, "OIDL", 4) == 0) {
			g->oids = p + off;
			oidl_len = next - off;
		} else if (memcmp(e, "CDAT", 4) == 0) {
			g->cdat = p + off;
			cdat_len = next - off;
		}
	}
	if (!g->fanout || !g->oids || !g->cdat)
		return 0;
	for (i = 1; i < 256; i++)
		if (be32(g->fanout + 4 * i) < be32(g->fanout + 4 * (i - 1)))
			return 0;
	g->n = be32(g->fanout + 4 * 255);
	return g->n < CG_PARENT_NONE && oidl_len == (uint64_t)g->n * CG_HASH &&
	       cdat_len == (uint64_t)g->n * CG_CDAT_WIDTH;
}

int sg_cgraph_open(sg_cgraph **out, git_repository *repo)
{
	sg_cgraph *g = NULL;
	sg_buf path = SG_BUF_INIT;
	int ret = SG_ENOTFOUND;

	if (git_repository_is_shallow(repo))
		return SG_ENOTFOUND;  /* as git: grafted history and a graph disagree */
	if (sg_buf_printf(&path, "%sobjects/info/commit-graph", git_repository_commondir(repo)) < 0)
		return SG_ERROR;
	g = calloc(1, sizeof(*g));
	if (!g) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if (map_file(g, path.ptr) < 0 || !parse_layout(g) || !checksum_ok(g))
		goto done;
	*out = g;
	g = NULL;
	ret = SG_OK;
done:
	sg_cgraph_free(g);
	sg_buf_dispose(&path);
	return ret;
}

void sg_cgraph_free(sg_cgraph *g)
{
	if (!g)
		return;
	if (g->map)
		munmap(g->map, g->size);
	free(g);
}

uint32_t sg_cgraph_find(const sg_cgraph *g, const git_oid *id)
{
	uint32_t lo = id->id[0] ? be32(g->fanout + 4 * (id->id[0] - 1)) : 0;
	uint32_t hi = be32(g->fanout + 4 * id->id[0]);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(g->oids + (size_t)mid * CG_HASH, id->id, CG_HASH);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SG_CGRAPH_NONE;
}

uint32_t sg_cgraph_count(const sg_cgraph *g)
{
	return g->n;
}

void sg_cgraph_oid(git_oid *out, const sg_cgraph *g, uint32_t pos)
{
	git_oid_fromraw(out, g->oids + (size_t)pos * CG_HASH);
}

int sg_cgraph_first_parent(uint32_t *parent, int *merge, const sg_cgraph *g, uint32_t pos)
{
	const unsigned char *e;
	uint32_t p1, p2;

	if (pos >= g->n)
		return sg_error_set(SG_ERROR, "commit-graph: position %u out of range", pos);
	e = g->cdat + (size_t)pos * CG_CDAT_WIDTH + CG_HASH;
	p1 = be32(e);
	p2 = be32(e + 4);
	if (p1 == CG_PARENT_NONE) {
		*parent = SG_CGRAPH_NONE;
		*merge = 0;
		return SG_OK;
	}
	if (p1 >= g->n || (p2 != CG_PARENT_NONE && !(p2 & CG_PARENT_EDGE) && p2 >= g->n))
		return sg_error_set(SG_ERROR, "commit-graph: commit %u has an invalid parent; "
				    "run git commit-graph write --reachable", pos);
	*parent = p1;
	*merge = p2 != CG_PARENT_NONE;
	return SG_OK;
}
