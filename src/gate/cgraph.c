/* A read-only reader of git's commit-graph (Documentation/gitformat-
 * commit-graph.txt): objects/info/commit-graph, else the split chain in
 * objects/info/commit-graphs/ (commit-graph-chain, graph-HASH.graph, base
 * layer first). It gives each commit's parents, commit time and topological
 * level (the generation number the gate prunes its walks with).
 *
 * libgit2 1.5 has a reader, but it refuses the files git 2.39 writes (their
 * GDA2/GDO2 chunks are "unrecognized"), so reachability on a large history
 * would cost one inflate per commit.
 *
 * Each file is mapped, never read or checksummed whole: opening costs the
 * chunk table and the fan-out, whatever the history's size. Every offset
 * and position taken from a file is checked against the file's size and the
 * commit count before it is used. A file whose layout is damaged is declined
 * (SG_ENOTFOUND: the caller reads objects instead); a parent position found
 * out of range during a walk is reported as SG_ERETRY so the walk can be
 * redone from the objects. Each file's trailing checksum is verified once
 * per change of the file (cgverify.c caches "verified OK" by stat
 * identity); a file whose checksum fails makes the whole graph unused
 * (SG_EVERIFY with the fix: the objects answer). sg_cgraph_verify (signgate
 * doctor) checksums every file every time. */
#include "gate/internal.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_MAX_SIZE (2ULL << 30)        /* 2 GiB: ~50 million commits */
#define CG_MAX_LAYERS 64                /* git merges layers long before this */
#define CG_HASH 20
#define CG_HEADER 8
#define CG_CDAT_WIDTH (CG_HASH + 16)
#define CG_PARENT_NONE 0x70000000u
#define CG_EDGE_FLAG 0x80000000u
#define CG_EDGE_MASK 0x7fffffffu

typedef struct cg_layer {
	unsigned char *map;
	size_t size;
	struct stat st;               /* of the descriptor mapped */
	char *path;
	const unsigned char *fanout;  /* 256 big-endian u32 */
	const unsigned char *oids;    /* n * 20, sorted */
	const unsigned char *cdat;    /* n * 36 */
	const unsigned char *edge;    /* nedge * 4, octopus parents */
	const unsigned char *base;    /* nbase * 20: the hashes of the layers below */
	uint32_t n, nedge, nbase;
	uint32_t first;               /* global position of this layer's first commit */
} cg_layer;

struct sg_cgraph {
	cg_layer *l;
	size_t nl;
	uint32_t total;
	int gens;                     /* topological levels present (non-zero) */
};

static uint32_t be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

static int map_file(cg_layer *l, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	void *m;

	if (fd < 0)
		return SG_ENOTFOUND;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < CG_HEADER + 12 + CG_HASH ||
	    (unsigned long long)st.st_size > CG_MAX_SIZE) {
		close(fd);
		return SG_ENOTFOUND;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return SG_ENOTFOUND;
	if (!(l->path = strdup(path))) {
		munmap(m, (size_t)st.st_size);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	l->map = m;
	l->size = (size_t)st.st_size;
	l->st = st;
	return SG_OK;
}

/* Record one chunk; 0 when its size does not fit what it holds. */
static int take_chunk(cg_layer *l, const unsigned char *id, const unsigned char *p, uint64_t len)
{
	if (memcmp(id, "OIDF", 4) == 0) {
		l->fanout = p;
		return len == 1024;
	}
	if (memcmp(id, "OIDL", 4) == 0) {
		l->oids = p;
		return len % CG_HASH == 0 && (l->n = (uint32_t)(len / CG_HASH)) == len / CG_HASH;
	}
	if (memcmp(id, "CDAT", 4) == 0) {
		l->cdat = p;
		return len % CG_CDAT_WIDTH == 0;
	}
	if (memcmp(id, "EDGE", 4) == 0) {
		l->edge = p;
		l->nedge = (uint32_t)(len / 4);
		return len % 4 == 0 && len / 4 < CG_EDGE_MASK;
	}
	if (memcmp(id, "BASE", 4) == 0) {
		l->base = p;
		return len == (uint64_t)l->nbase * CG_HASH;
	}
	return 1;  /* GDA2, GDO2, BIDX, BDAT...: not needed */
}

/* Locate the chunks of one file; 0 when the layout is not one this reader
 * trusts (wrong signature, version, hash, overlapping or missing chunks). */
static int parse_layout(cg_layer *l, uint32_t expect_bases)
{
	const unsigned char *p = l->map;
	size_t end = l->size - CG_HASH, table_end, i, nchunks;
	uint64_t cdat_len = 0;

	if (memcmp(p, "CGPH", 4) != 0 || p[4] != 1 || p[5] != 1 || p[7] != expect_bases)
		return 0;  /* version 1, SHA-1, the layer's place in the chain */
	l->nbase = p[7];
	nchunks = p[6];
	table_end = CG_HEADER + 12 * (nchunks + 1);
	if (table_end > end)
		return 0;
	for (i = 0; i < nchunks; i++) {
		const unsigned char *e = p + CG_HEADER + 12 * i;
		uint64_t off = be64(e + 4), next = be64(e + 16);

		if (off < table_end || next < off || next > end || !take_chunk(l, e, p + off, next - off))
			return 0;
		if (memcmp(e, "CDAT", 4) == 0)
			cdat_len = next - off;
	}
	if (!l->fanout || !l->oids || !l->cdat || (l->nbase && !l->base))
		return 0;
	for (i = 1; i < 256; i++)
		if (be32(l->fanout + 4 * i) < be32(l->fanout + 4 * (i - 1)))
			return 0;
	return be32(l->fanout + 4 * 255) == l->n && cdat_len == (uint64_t)l->n * CG_CDAT_WIDTH;
}

static int add_layer(sg_cgraph *g, const char *path)
{
	cg_layer *l, *nl;
	size_t i;
	int err;

	if (g->nl >= CG_MAX_LAYERS)
		return SG_ENOTFOUND;
	nl = realloc(g->l, (g->nl + 1) * sizeof(*nl));
	if (!nl)
		return sg_error_set(SG_ERROR, "out of memory");
	g->l = nl;
	l = &g->l[g->nl];
	memset(l, 0, sizeof(*l));
	if ((err = map_file(l, path)) < 0)
		return err;
	g->nl++;  /* mapped: sg_cgraph_free unmaps it */
	if (!parse_layout(l, (uint32_t)(g->nl - 1)))
		return SG_ENOTFOUND;
	/* Each layer names the layers below it by their checksums. */
	for (i = 0; i < l->nbase; i++)
		if (memcmp(l->base + i * CG_HASH, g->l[i].map + g->l[i].size - CG_HASH, CG_HASH) != 0)
			return SG_ENOTFOUND;
	if ((uint64_t)g->total + l->n >= CG_PARENT_NONE)
		return SG_ENOTFOUND;
	l->first = g->total;
	g->total += l->n;
	return SG_OK;
}

/* objects/info/commit-graphs/commit-graph-chain: one hex hash a line. */
static int open_chain(sg_cgraph *g, const char *objdir)
{
	sg_buf path = SG_BUF_INIT;
	FILE *f = NULL;
	char line[128];
	int ret = SG_ENOTFOUND, fd;

	if (sg_buf_printf(&path, "%s/info/commit-graphs/commit-graph-chain", objdir) < 0)
		return SG_ERROR;
	fd = open(path.ptr, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		goto done;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\n");

		if (n != 2 * CG_HASH || strspn(line, "0123456789abcdef") != n)
			goto done;
		line[n] = '\0';
		sg_buf_clear(&path);
		if (sg_buf_printf(&path, "%s/info/commit-graphs/graph-%s.graph", objdir, line) < 0) {
			ret = SG_ERROR;
			goto done;
		}
		if ((ret = add_layer(g, path.ptr)) < 0)
			goto done;
	}
	ret = g->nl ? SG_OK : SG_ENOTFOUND;
done:
	if (f)
		fclose(f);
	sg_buf_dispose(&path);
	return ret;
}

static void unmap_layers(sg_cgraph *g)
{
	size_t i;

	for (i = 0; i < g->nl; i++) {
		munmap(g->l[i].map, g->l[i].size);
		free(g->l[i].path);
	}
	free(g->l);
	g->l = NULL;
	g->nl = 0;
	g->total = 0;
}

static int objects_dir(sg_buf *out, git_repository *repo)
{
	return sg_buf_printf(out, "%sobjects", git_repository_commondir(repo)) < 0 ? SG_ERROR : SG_OK;
}

static int open_layers(sg_cgraph *g, git_repository *repo)
{
	sg_buf dir = SG_BUF_INIT, path = SG_BUF_INIT;
	int ret;

	if ((ret = objects_dir(&dir, repo)) < 0 || (ret = sg_buf_printf(&path, "%s/info/commit-graph", dir.ptr)) < 0)
		goto done;
	/* As git: the single file first, else the chain. */
	ret = add_layer(g, path.ptr);
	if (ret == SG_ENOTFOUND) {
		unmap_layers(g);
		ret = open_chain(g, dir.ptr);
		if (ret < 0)
			unmap_layers(g);
	}
done:
	sg_buf_dispose(&dir);
	sg_buf_dispose(&path);
	return ret;
}

/* Each file's checksum, unless verified since it last changed. */
static int verify_layers(const sg_cgraph *g, git_repository *repo)
{
	sg_cgraph_file f[CG_MAX_LAYERS];
	size_t i;

	for (i = 0; i < g->nl; i++) {
		f[i].path = g->l[i].path;
		f[i].st = g->l[i].st;
		f[i].map = g->l[i].map;
		f[i].size = g->l[i].size;
	}
	return sg_cgraph_verify_cached(repo, f, g->nl);
}

int sg_cgraph_open(sg_cgraph **out, git_repository *repo)
{
	sg_cgraph *g;
	size_t i;
	int ret;

	if (git_repository_is_shallow(repo))
		return SG_ENOTFOUND;  /* as git: grafted history and a graph disagree */
	if (!(g = calloc(1, sizeof(*g))))
		return sg_error_set(SG_ERROR, "out of memory");
	if ((ret = open_layers(g, repo)) < 0 || g->total == 0 || (ret = verify_layers(g, repo)) < 0) {
		sg_cgraph_free(g);
		return ret < 0 ? ret : SG_ENOTFOUND;
	}
	/* As git: a layer written without generation numbers (level 0) turns
	 * them off; parents are still read from the graph. */
	g->gens = 1;
	for (i = 0; i < g->nl; i++)
		if (g->l[i].n && (be32(g->l[i].cdat + CG_HASH + 8) >> 2) == 0)
			g->gens = 0;
	*out = g;
	return SG_OK;
}

void sg_cgraph_free(sg_cgraph *g)
{
	if (!g)
		return;
	unmap_layers(g);
	free(g);
}

static uint32_t layer_find(const cg_layer *l, const git_oid *id)
{
	uint32_t lo = id->id[0] ? be32(l->fanout + 4 * (id->id[0] - 1)) : 0;
	uint32_t hi = be32(l->fanout + 4 * id->id[0]);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(l->oids + (size_t)mid * CG_HASH, id->id, CG_HASH);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SG_CGRAPH_NONE;
}

uint32_t sg_cgraph_find(const sg_cgraph *g, const git_oid *id)
{
	size_t i;
	uint32_t p;

	for (i = g->nl; i-- > 0;)
		if ((p = layer_find(&g->l[i], id)) != SG_CGRAPH_NONE)
			return g->l[i].first + p;
	return SG_CGRAPH_NONE;
}

uint32_t sg_cgraph_count(const sg_cgraph *g)
{
	return g->total;
}

int sg_cgraph_has_generations(const sg_cgraph *g)
{
	return g->gens;
}

/* The layer holding a global position (pos < total). */
static const cg_layer *layer_of(const sg_cgraph *g, uint32_t pos, uint32_t *local)
{
	size_t i = g->nl;

	while (i-- > 0)
		if (pos >= g->l[i].first) {
			*local = pos - g->l[i].first;
			return &g->l[i];
		}
	*local = pos;
	return &g->l[0];
}

void sg_cgraph_oid(git_oid *out, const sg_cgraph *g, uint32_t pos)
{
	uint32_t local;
	const cg_layer *l = layer_of(g, pos, &local);

	git_oid_fromraw(out, l->oids + (size_t)local * CG_HASH);
}

static int corrupt(uint32_t pos)
{
	return sg_error_set(SG_ERETRY, "commit-graph: commit %u has an invalid parent; "
			    "run git commit-graph write --reachable", pos);
}

static int push_parent(sg_cgraph_entry *c, const sg_cgraph *g, uint32_t p, uint32_t pos)
{
	if (p >= g->total)
		return corrupt(pos);
	if (c->nparents >= SG_CGRAPH_MAX_PARENTS)
		return sg_error_set(SG_ERETRY, "commit-graph: commit %u has more than %d parents", pos,
				    SG_CGRAPH_MAX_PARENTS);
	c->parents[c->nparents++] = p;
	return SG_OK;
}

/* Octopus parents from the layer's EDGE list, up to its last-parent mark. */
static int edge_parents(sg_cgraph_entry *c, const sg_cgraph *g, const cg_layer *l, uint32_t idx, uint32_t pos)
{
	uint32_t v;
	int err;

	do {
		if (!l->edge || idx >= l->nedge)
			return corrupt(pos);
		v = be32(l->edge + (size_t)idx * 4);
		if ((err = push_parent(c, g, v & CG_EDGE_MASK, pos)) < 0)
			return err;
		idx++;
	} while (!(v & CG_EDGE_FLAG));
	return SG_OK;
}

int sg_cgraph_commit(sg_cgraph_entry *out, const sg_cgraph *g, uint32_t pos)
{
	const unsigned char *e;
	const cg_layer *l;
	uint32_t local, p1, p2, w;
	int err;

	if (pos >= g->total)
		return corrupt(pos);
	l = layer_of(g, pos, &local);
	e = l->cdat + (size_t)local * CG_CDAT_WIDTH + CG_HASH;
	p1 = be32(e);
	p2 = be32(e + 4);
	w = be32(e + 8);
	memset(out, 0, sizeof(*out));
	out->gen = g->gens ? w >> 2 : SG_GEN_INFINITY;
	out->date = ((int64_t)(w & 3) << 32) | be32(e + 12);
	if (p1 == CG_PARENT_NONE)
		return p2 == CG_PARENT_NONE ? SG_OK : corrupt(pos);
	if ((err = push_parent(out, g, p1, pos)) < 0)
		return err;
	if (p2 == CG_PARENT_NONE)
		return SG_OK;
	if (p2 & CG_EDGE_FLAG)
		return edge_parents(out, g, l, p2 & CG_EDGE_MASK, pos);
	return push_parent(out, g, p2, pos);
}

static int exists(const char *dir, const char *name)
{
	sg_buf p = SG_BUF_INIT;
	int r = sg_buf_printf(&p, "%s/%s", dir, name) == 0 && access(p.ptr, F_OK) == 0;

	sg_buf_dispose(&p);
	return r;
}

int sg_cgraph_verify(int *layers, uint32_t *commits, git_repository *repo)
{
	sg_cgraph g = { 0 };
	sg_buf dir = SG_BUF_INIT;
	size_t i;
	int ret;

	*layers = 0;
	*commits = 0;
	if ((ret = objects_dir(&dir, repo)) < 0)
		goto done;
	if (git_repository_is_shallow(repo) ||
	    (!exists(dir.ptr, "info/commit-graph") && !exists(dir.ptr, "info/commit-graphs/commit-graph-chain"))) {
		ret = SG_ENOTFOUND;
		goto done;
	}
	if ((ret = open_layers(&g, repo)) < 0) {
		if (ret == SG_ENOTFOUND)
			ret = sg_error_set(SG_EVERIFY, "the commit-graph is damaged (signgate reads the objects "
					   "instead); run git commit-graph write --reachable");
		goto done;
	}
	for (i = 0; i < g.nl; i++)
		if (!sg_cgraph_checksum_ok(g.l[i].map, g.l[i].size)) {
			ret = sg_error_set(SG_EVERIFY, "the commit-graph's checksum does not match (file %zu of %zu); "
					   "run git commit-graph write --reachable", i + 1, g.nl);
			goto done;
		}
	*layers = (int)g.nl;
	*commits = g.total;
	ret = SG_OK;
done:
	unmap_layers(&g);
	sg_buf_dispose(&dir);
	return ret;
}
