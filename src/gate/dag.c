/* The commits a reachability walk meets, each parsed once: from the
 * commit-graph where it has the commit (parents, level, date without an
 * inflate), else from the object database with only the header read (tree,
 * parent and committer lines). Nodes are indices into one array; commits in
 * the graph are found by their graph position, the others by a hash table. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/git.h"

#include <stdlib.h>
#include <string.h>

#define DAG_MAX_NODES 100000000u  /* a corrupt object store must not grow us forever */

struct sg_dag {
	git_repository *repo;
	git_odb *odb;
	const sg_cgraph *g;           /* borrowed: the caller maps it once per run */
	uint32_t *gmap;               /* graph position -> node index + 1 */
	sg_dag_node *v;               /* the nodes, in the order met */
	uint32_t *gpos;               /* each node's graph position, or SG_CGRAPH_NONE */
	git_oid *ids;                 /* each node's id when outside the graph */
	uint32_t n;
	size_t alloc;
	uint32_t *edges;
	size_t nedges, edges_alloc;
	uint32_t *hash;               /* open addressing: node index + 1, 0 = empty */
	uint32_t hcap, hcount;        /* hcap a power of two */
	int shallow;
};

/* libgit2's per-read SHA-1 re-hash and object cache are off while a table
 * is open: git does neither, and they cost a third of the time here.
 * Objects come from the repository the refs point into; an attacker able to
 * rewrite objects there could move the refs as well. */
static void fast_reads(int on)
{
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, on ? 0 : 1);
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, on ? 0 : 1);
}

int sg_dag_open(sg_dag **out, git_repository *repo, const sg_cgraph *g)
{
	sg_dag *d = calloc(1, sizeof(*d));

	if (!d)
		return sg_error_set(SG_ERROR, "out of memory");
	d->repo = repo;
	d->shallow = git_repository_is_shallow(repo);
	if (git_repository_odb(&d->odb, repo) < 0) {
		free(d);
		return sg_error_set(SG_ERROR, "cannot open the object database: %s", sg_git_errmsg());
	}
	d->g = g;
	if (d->g && !(d->gmap = calloc(sg_cgraph_count(d->g), sizeof(*d->gmap)))) {
		sg_dag_free(d);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	fast_reads(1);
	*out = d;
	return SG_OK;
}

void sg_dag_free(sg_dag *d)
{
	if (!d)
		return;
	if (d->odb)
		fast_reads(0);
	git_odb_free(d->odb);
	free(d->gmap);
	free(d->v);
	free(d->gpos);
	free(d->ids);
	free(d->edges);
	free(d->hash);
	free(d);
}

sg_dag_node *sg_dag_node_at(const sg_dag *d, uint32_t idx)
{
	return &d->v[idx];
}

void sg_dag_oid(git_oid *out, const sg_dag *d, uint32_t idx)
{
	if (d->gpos[idx] != SG_CGRAPH_NONE)
		sg_cgraph_oid(out, d->g, d->gpos[idx]);
	else
		git_oid_cpy(out, &d->ids[idx]);
}

const uint32_t *sg_dag_parents(const sg_dag *d, uint32_t idx)
{
	return d->edges + d->v[idx].first_edge;
}

uint32_t sg_dag_count(const sg_dag *d)
{
	return d->n;
}

int sg_dag_generations(const sg_dag *d)
{
	return d->g && sg_cgraph_has_generations(d->g);
}

int sg_dag_used_graph(const sg_dag *d)
{
	return d->g != NULL;
}

static uint32_t oid_hash(const git_oid *id)
{
	uint32_t h;

	memcpy(&h, id->id + 4, sizeof(h));
	return h * 2654435761u;
}

/* A new unparsed node: its graph position, else its id. */
static int new_node(uint32_t *idx, sg_dag *d, uint32_t gpos, const git_oid *id)
{
	int err;

	if (d->n == d->alloc) {
		size_t a;

		if (d->n >= DAG_MAX_NODES)
			return sg_error_set(SG_EDENIED, "history larger than %u commits", DAG_MAX_NODES);
		/* three arrays of one length: each grows from the same count */
		a = d->alloc;
		if ((err = sg_array_reserve((void **)&d->v, &a, d->n, 1024, sizeof(*d->v))) < 0)
			return err;
		a = d->alloc;
		if ((err = sg_array_reserve((void **)&d->gpos, &a, d->n, 1024, sizeof(*d->gpos))) < 0)
			return err;
		a = d->alloc;
		if ((err = sg_array_reserve((void **)&d->ids, &a, d->n, 1024, sizeof(*d->ids))) < 0)
			return err;
		d->alloc = a;
	}
	memset(&d->v[d->n], 0, sizeof(d->v[d->n]));
	d->v[d->n].gen = SG_GEN_INFINITY;
	d->gpos[d->n] = gpos;
	if (id)
		git_oid_cpy(&d->ids[d->n], id);
	*idx = d->n++;
	return SG_OK;
}

static int hash_grow(sg_dag *d)
{
	uint32_t cap = d->hcap ? d->hcap * 2 : 1024, i, *h = calloc(cap, sizeof(*h));

	if (!h)
		return sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < d->hcap; i++)
		if (d->hash[i]) {
			uint32_t j = oid_hash(&d->ids[d->hash[i] - 1]) & (cap - 1);

			while (h[j])
				j = (j + 1) & (cap - 1);
			h[j] = d->hash[i];
		}
	free(d->hash);
	d->hash = h;
	d->hcap = cap;
	return SG_OK;
}

/* A commit outside the graph. */
static int hash_lookup(uint32_t *idx, sg_dag *d, const git_oid *id)
{
	uint32_t j;
	int err;

	if (2 * (d->hcount + 1) > d->hcap && (err = hash_grow(d)) < 0)
		return err;
	for (j = oid_hash(id) & (d->hcap - 1); d->hash[j]; j = (j + 1) & (d->hcap - 1))
		if (git_oid_equal(&d->ids[d->hash[j] - 1], id)) {
			*idx = d->hash[j] - 1;
			return SG_OK;
		}
	if ((err = new_node(idx, d, SG_CGRAPH_NONE, id)) < 0)
		return err;
	d->hash[j] = *idx + 1;
	d->hcount++;
	return SG_OK;
}

static int graph_lookup(uint32_t *idx, sg_dag *d, uint32_t pos)
{
	int err;

	if (d->gmap[pos]) {
		*idx = d->gmap[pos] - 1;
		return SG_OK;
	}
	if ((err = new_node(idx, d, pos, NULL)) < 0)
		return err;
	d->gmap[pos] = *idx + 1;
	return SG_OK;
}

int sg_dag_lookup(uint32_t *idx, sg_dag *d, const git_oid *id)
{
	uint32_t pos = d->g ? sg_cgraph_find(d->g, id) : SG_CGRAPH_NONE;

	if (pos != SG_CGRAPH_NONE)
		return graph_lookup(idx, d, pos);
	return hash_lookup(idx, d, id);
}

static int add_edge(sg_dag *d, uint32_t parent)
{
	int err = sg_array_reserve((void **)&d->edges, &d->edges_alloc, d->nedges, 2048, sizeof(*d->edges));

	if (err < 0)
		return err;
	d->edges[d->nedges++] = parent;
	return SG_OK;
}

static int parse_from_graph(sg_dag *d, uint32_t idx)
{
	sg_cgraph_entry c;
	uint32_t i, p;
	int err;

	if ((err = sg_cgraph_commit(&c, d->g, d->gpos[idx])) < 0)
		return err;
	d->v[idx].first_edge = (uint32_t)d->nedges;
	for (i = 0; i < c.nparents; i++)
		if ((err = graph_lookup(&p, d, c.parents[i])) < 0 || (err = add_edge(d, p)) < 0)
			return err;
	d->v[idx].nparents = c.nparents;
	d->v[idx].gen = c.gen;
	d->v[idx].date = c.date;
	return SG_OK;
}

static int malformed(const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	return sg_error_set(SG_EDENIED, "commit %s is malformed; run git fsck", hex);
}

/* "committer NAME <EMAIL> TIME TZ": the time, 0 when unreadable (as git). */
static int64_t committer_time(const char *line, size_t len)
{
	const char *gt = NULL, *p;
	int64_t t = 0;

	for (p = line; p < line + len; p++)
		if (*p == '>')
			gt = p;
	if (!gt)
		return 0;
	for (p = gt + 1; p < line + len && *p == ' '; p++)
		;
	for (; p < line + len && *p >= '0' && *p <= '9' && t < (INT64_MAX - 9) / 10; p++)
		t = t * 10 + (*p - '0');
	return t;
}

/* The header of a commit object starts "tree <hex>\n"; *pos after it. */
static int header_tree(size_t *pos, const git_oid *id, const char *s, size_t len)
{
	*pos = 5 + GIT_OID_HEXSZ + 1;
	if (len < *pos || memcmp(s, "tree ", 5) != 0 || s[*pos - 1] != '\n')
		return malformed(id);
	return SG_OK;
}

/* The "parent <hex>" line at *pos: 1 and the id, 0 when none is left. */
static int header_parent(git_oid *out, size_t *pos, const git_oid *id, const char *s, size_t len)
{
	if (len - *pos < 7 + GIT_OID_HEXSZ + 1 || memcmp(s + *pos, "parent ", 7) != 0)
		return 0;
	if (s[*pos + 7 + GIT_OID_HEXSZ] != '\n' || git_oid_fromstrn(out, s + *pos + 7, GIT_OID_HEXSZ) < 0)
		return malformed(id);
	*pos += 7 + GIT_OID_HEXSZ + 1;
	return 1;
}

/* Parents into the table, then the committer time from the lines up to
 * the blank one. */
static int parse_header(sg_dag *d, uint32_t idx, const char *s, size_t len)
{
	git_oid id, parent;
	size_t pos;
	uint32_t p, n = 0;
	int err;

	sg_dag_oid(&id, d, idx);
	if ((err = header_tree(&pos, &id, s, len)) < 0)
		return err;
	sg_dag_node_at(d, idx)->first_edge = (uint32_t)d->nedges;
	while ((err = header_parent(&parent, &pos, &id, s, len)) == 1) {
		if ((err = sg_dag_lookup(&p, d, &parent)) < 0 || (err = add_edge(d, p)) < 0)
			return err;
		n++;
	}
	if (err < 0)
		return err;
	sg_dag_node_at(d, idx)->nparents = n;
	while (pos < len && s[pos] != '\n') {
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (s + pos)) : len - pos;

		if (l > 10 && memcmp(s + pos, "committer ", 10) == 0) {
			sg_dag_node_at(d, idx)->date = committer_time(s + pos, l);
			break;
		}
		pos += l + 1;
	}
	return SG_OK;
}

/* One commit object; SG_ENOTFOUND when it is missing in a shallow repository. */
static int read_commit(git_odb_object **obj, sg_dag *d, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];
	int err = git_odb_read(obj, d->odb, id);

	if (err == GIT_ENOTFOUND && d->shallow)
		return SG_ENOTFOUND;
	git_oid_tostr(hex, sizeof(hex), id);
	if (err < 0)
		return sg_error_set(SG_EDENIED, "cannot read commit %s: %s", hex,
				    sg_git_errmsg());
	if (git_odb_object_type(*obj) != GIT_OBJECT_COMMIT) {
		git_odb_object_free(*obj);
		*obj = NULL;
		return sg_error_set(SG_EDENIED, "object %s is not a commit", hex);
	}
	return SG_OK;
}

static int parse_from_odb(sg_dag *d, uint32_t idx)
{
	git_odb_object *obj = NULL;
	git_oid id;
	int err;

	sg_dag_oid(&id, d, idx);
	err = read_commit(&obj, d, &id);
	if (err == SG_ENOTFOUND) {
		sg_dag_node_at(d, idx)->flags |= SG_DAG_MISSING;
		sg_dag_node_at(d, idx)->first_edge = (uint32_t)d->nedges;
		return SG_OK;
	}
	if (err == SG_OK)
		err = parse_header(d, idx, git_odb_object_data(obj), git_odb_object_size(obj));
	git_odb_object_free(obj);
	return err;
}

int sg_dag_first_parent(git_oid *parent, uint32_t *nparents, sg_dag *d, const git_oid *id)
{
	git_odb_object *obj = NULL;
	git_oid p;
	size_t pos, len;
	const char *s;
	int err;

	*nparents = 0;
	if ((err = read_commit(&obj, d, id)) < 0)
		return err;
	s = git_odb_object_data(obj);
	len = git_odb_object_size(obj);
	if ((err = header_tree(&pos, id, s, len)) == 0)
		while ((err = header_parent(&p, &pos, id, s, len)) == 1)
			if ((*nparents)++ == 0)
				git_oid_cpy(parent, &p);
	git_odb_object_free(obj);
	return err < 0 ? err : SG_OK;
}

int sg_dag_parse(sg_dag *d, uint32_t idx)
{
	int err;

	if (sg_dag_node_at(d, idx)->flags & SG_DAG_PARSED)
		return SG_OK;
	if (d->gpos[idx] != SG_CGRAPH_NONE)
		err = parse_from_graph(d, idx);
	else
		err = parse_from_odb(d, idx);
	if (err == SG_OK)
		sg_dag_node_at(d, idx)->flags |= SG_DAG_PARSED;
	return err;
}
