/* Reachability of REV from a branch tip, as git computes it (commit-reach.c),
 * over the commit table of dag.c:
 *
 * 1. The tip's first-parent chain, down to REV, the root, or (with
 *    generation numbers) the first commit whose level is below REV's: no
 *    commit there can reach REV.
 * 2. Only when REV is not on the chain and the caller asks: is it reachable,
 *    and which chain merge brought it in (the oldest one that reaches it).
 *    - With levels: the side parents of the chain's merges, deepest merge
 *      first, depth-first with one shared visited set and every commit
 *      below REV's level pruned: the first hit is that merge, and the whole
 *      walk costs what git's can_all_from_reach costs.
 *    - Without: git's paint_down_to_common (commit-date order, exact under
 *      clock skew: it stops only when every queued commit is an ancestor of
 *      REV); the merge comes from the painted commits, searched upward from
 *      REV. */
#include "gate/internal.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define MARK_SEEN  0x0100u
#define MARK_P1    0x0200u   /* ancestor of REV (paint) */
#define MARK_P2    0x0400u   /* ancestor of the tip (paint) */
#define MARK_STALE 0x0800u
#define MARK_UP    0x1000u   /* reaches REV (merge search) */

typedef struct walk {
	sg_dag *d;
	sg_reach *r;
	uint32_t tip, rev, gen_rev;
	int flags;
	uint32_t *chain, nchain;
	uint32_t *stack, nstack;
	size_t chain_alloc, stack_alloc;
} walk;

static int u32_push(uint32_t **v, uint32_t *n, size_t *alloc, uint32_t x)
{
	int err = sg_array_reserve((void **)v, alloc, *n, 1024, sizeof(**v));

	if (err < 0)
		return err;
	(*v)[(*n)++] = x;
	return SG_OK;
}

static sg_dag_node *N(const walk *w, uint32_t i)
{
	return sg_dag_node_at(w->d, i);
}

/* Below REV's level: cannot reach REV (a parent's level is always lower). */
static int pruned(const walk *w, uint32_t i)
{
	return sg_dag_generations(w->d) && N(w, i)->gen < w->gen_rev;
}

static int walk_chain(walk *w)
{
	uint32_t cur = w->tip;
	int err;

	for (;;) {
		if ((err = sg_dag_parse(w->d, cur)) < 0)
			return err;
		if (N(w, cur)->flags & SG_DAG_MISSING) {
			w->r->truncated = 1;
			if (w->nchain)
				sg_dag_oid(&w->r->history_end, w->d, w->chain[w->nchain - 1]);
			return SG_OK;
		}
		if (N(w, cur)->chain)
			return sg_error_set(SG_EDENIED, "the first-parent chain loops; run git fsck");
		N(w, cur)->chain = w->nchain + 1;
		if ((err = u32_push(&w->chain, &w->nchain, &w->chain_alloc, cur)) < 0)
			return err;
		if (cur == w->rev) {
			w->r->first_parent = w->r->reachable = 1;
			w->r->behind = w->nchain - 1;
			return SG_OK;
		}
		if (pruned(w, cur) || N(w, cur)->nparents == 0)
			return SG_OK;
		cur = sg_dag_parents(w->d, cur)[0];
	}
}

#define CHAIN_MAX 100000000u  /* a corrupt object store must not loop forever */

/* Enter the chain's commits in the table, in order, for a second walk. */
static int enter_chain(walk *w, const git_oid *ids, size_t n)
{
	uint32_t idx;
	size_t k;
	int err;

	for (k = 0; k < n; k++) {
		if ((err = sg_dag_lookup(&idx, w->d, &ids[k])) < 0)
			return err;
		if (N(w, idx)->chain)
			return sg_error_set(SG_EDENIED, "the first-parent chain loops; run git fsck");
		N(w, idx)->chain = (uint32_t)k + 1;
		if ((err = u32_push(&w->chain, &w->nchain, &w->chain_alloc, idx)) < 0)
			return err;
	}
	return SG_OK;
}

/* Without a graph: the chain from the objects, one header read a commit and
 * nothing else (as fast as git's walk); its commits enter the table only
 * when REV is not on it and a second walk needs them. */
static int walk_chain_objects(walk *w, const git_oid *tip, const git_oid *rev, int more)
{
	git_oid *ids = NULL, cur, parent;
	size_t n = 0, alloc = 0;
	uint32_t np;
	int err;

	git_oid_cpy(&cur, tip);
	for (;;) {
		err = sg_dag_first_parent(&parent, &np, w->d, &cur);
		if (err == SG_ENOTFOUND && n > 0) {
			w->r->truncated = 1;
			git_oid_cpy(&w->r->history_end, &ids[n - 1]);
			break;
		}
		if (err < 0 && err != SG_ENOTFOUND)
			goto done;
		if (err < 0 || n >= CHAIN_MAX) {
			err = err < 0 ? sg_error_set(SG_EDENIED, "the branch tip is missing from the objects")
				      : sg_error_set(SG_EDENIED, "first-parent chain longer than %u commits", CHAIN_MAX);
			goto done;
		}
		if ((err = sg_array_reserve((void **)&ids, &alloc, n, 1024, sizeof(*ids))) < 0)
			goto done;
		git_oid_cpy(&ids[n++], &cur);
		if (git_oid_equal(&cur, rev)) {
			w->r->first_parent = w->r->reachable = 1;
			w->r->behind = n - 1;
			break;
		}
		if (np == 0)
			break;
		git_oid_cpy(&cur, &parent);
	}
	err = w->r->first_parent || !more ? SG_OK : enter_chain(w, ids, n);
done:
	free(ids);
	return err;
}

/* Depth-first from one side parent; *hit when REV is met. */
static int dfs(int *hit, walk *w, uint32_t start)
{
	uint32_t x, i;
	int err;

	*hit = 0;
	if (N(w, start)->flags & MARK_SEEN)
		return SG_OK;
	N(w, start)->flags |= MARK_SEEN;
	w->nstack = 0;
	if ((err = u32_push(&w->stack, &w->nstack, &w->stack_alloc, start)) < 0)
		return err;
	while (w->nstack) {
		x = w->stack[--w->nstack];
		if (x == w->rev) {
			*hit = 1;
			return SG_OK;
		}
		if ((err = sg_dag_parse(w->d, x)) < 0)
			return err;
		if (N(w, x)->flags & SG_DAG_MISSING) {
			w->r->truncated = 1;
			continue;
		}
		if (pruned(w, x))
			continue;
		for (i = N(w, x)->nparents; i-- > 0;) {  /* first parent on top */
			uint32_t p = sg_dag_parents(w->d, x)[i];

			if (N(w, p)->flags & MARK_SEEN)
				continue;
			N(w, p)->flags |= MARK_SEEN;
			if ((err = u32_push(&w->stack, &w->nstack, &w->stack_alloc, p)) < 0)
				return err;
		}
	}
	return SG_OK;
}

static void found_merge(walk *w, uint32_t chain_pos)
{
	w->r->reachable = 1;
	if (!(w->flags & SG_REACH_MERGE))
		return;  /* not asked: never reported */
	w->r->has_merge = 1;
	sg_dag_oid(&w->r->merge, w->d, w->chain[chain_pos]);
}

static int side_walk(walk *w)
{
	uint32_t k, i, c;
	int err, hit;

	for (k = 0; k < w->nchain; k++)
		N(w, w->chain[k])->flags |= MARK_SEEN;
	for (k = w->nchain; k-- > 0;) {
		c = w->chain[k];
		for (i = 1; i < N(w, c)->nparents; i++) {
			if ((err = dfs(&hit, w, sg_dag_parents(w->d, c)[i])) < 0)
				return err;
			if (hit) {
				found_merge(w, k);
				return SG_OK;
			}
		}
	}
	return SG_OK;
}

/* ---- paint_down_to_common, by commit date ---- */
typedef struct pq_item {
	uint32_t gen;
	int64_t date;
	uint64_t ctr;
	uint32_t idx;
} pq_item;

typedef struct pq {
	pq_item *v;
	size_t n, alloc;
	uint64_t ctr;
	size_t nonstale;   /* queued copies of commits without the `done` mark */
	uint32_t done;     /* MARK_STALE (reachability) or MARK_P1 (a merge's commits) */
} pq;

/* Generation first (a parent's is always lower: exact order), then date. */
static int pq_before(const pq_item *a, const pq_item *b)
{
	if (a->gen != b->gen)
		return a->gen > b->gen;
	return a->date > b->date || (a->date == b->date && a->ctr < b->ctr);
}

static int pq_put(pq *q, walk *w, uint32_t idx)
{
	size_t i;
	int err = sg_array_reserve((void **)&q->v, &q->alloc, q->n, 1024, sizeof(*q->v));

	if (err < 0)
		return err;
	i = q->n++;
	q->v[i].gen = N(w, idx)->gen;
	q->v[i].date = N(w, idx)->date;
	q->v[i].ctr = q->ctr++;
	q->v[i].idx = idx;
	while (i > 0 && pq_before(&q->v[i], &q->v[(i - 1) / 2])) {
		pq_item t = q->v[i];

		q->v[i] = q->v[(i - 1) / 2];
		q->v[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	N(w, idx)->queued++;
	if (!(N(w, idx)->flags & q->done))
		q->nonstale++;
	return SG_OK;
}

static uint32_t pq_get(pq *q, walk *w)
{
	uint32_t idx = q->v[0].idx;
	size_t i = 0;

	q->v[0] = q->v[--q->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		pq_item t;

		if (l < q->n && pq_before(&q->v[l], &q->v[m]))
			m = l;
		if (r < q->n && pq_before(&q->v[r], &q->v[m]))
			m = r;
		if (m == i)
			break;
		t = q->v[i];
		q->v[i] = q->v[m];
		q->v[m] = t;
		i = m;
	}
	N(w, idx)->queued--;
	if (!(N(w, idx)->flags & q->done))
		q->nonstale--;
	return idx;
}

static void add_marks(pq *q, walk *w, uint32_t idx, uint32_t marks)
{
	sg_dag_node *n = N(w, idx);

	if ((marks & q->done) && !(n->flags & q->done))
		q->nonstale -= n->queued;
	n->flags |= marks;
}

static int paint_parents(pq *q, walk *w, uint32_t x, uint32_t marks)
{
	uint32_t i, p;
	int err;

	for (i = 0; i < N(w, x)->nparents; i++) {
		p = sg_dag_parents(w->d, x)[i];
		if ((N(w, p)->flags & marks) == marks)
			continue;
		if ((err = sg_dag_parse(w->d, p)) < 0)
			return err;
		if (N(w, p)->flags & SG_DAG_MISSING) {
			w->r->truncated = 1;
			continue;
		}
		add_marks(q, w, p, marks);
		if ((err = pq_put(q, w, p)) < 0)
			return err;
	}
	return SG_OK;
}

/* Pop until every queued commit has q->done; `collect`, when set, receives
 * each commit popped with only the P2 mark (final then: every descendant
 * has been popped before it). */
static int paint_loop(pq *q, walk *w, int (*stop)(const walk *w), int (*collect)(walk *w, uint32_t x))
{
	uint32_t x, marks;
	int err;

	while (q->nonstale > 0) {
		x = pq_get(q, w);
		marks = N(w, x)->flags & (MARK_P1 | MARK_P2 | MARK_STALE);
		if ((marks & (MARK_P1 | MARK_P2)) == (MARK_P1 | MARK_P2))
			marks |= MARK_STALE;  /* a common ancestor: its history is REV's */
		if (collect && marks == MARK_P2 && !(N(w, x)->flags & MARK_UP)) {
			N(w, x)->flags |= MARK_UP;
			if ((err = collect(w, x)) < 0)
				return err;
		}
		if ((err = paint_parents(q, w, x, marks)) < 0)
			return err;
		if (stop && stop(w))
			break;
	}
	return SG_OK;
}

static int rev_painted(const walk *w)
{
	return (N(w, w->rev)->flags & MARK_P2) != 0;
}

static int paint(walk *w, int whole)
{
	pq q = { .done = MARK_STALE };
	int err;

	if ((err = sg_dag_parse(w->d, w->rev)) < 0 || (err = sg_dag_parse(w->d, w->tip)) < 0)
		return err;
	N(w, w->rev)->flags |= MARK_P1;
	N(w, w->tip)->flags |= MARK_P2;
	if ((err = pq_put(&q, w, w->rev)) == 0 && (err = pq_put(&q, w, w->tip)) == 0)
		err = paint_loop(&q, w, whole ? NULL : rev_painted, NULL);
	w->r->reachable = rev_painted(w);
	free(q.v);
	return err;
}

/* Upward from REV over the painted commits (all of REV's descendants that
 * the tip reaches were read by the paint): the deepest chain commit met. */
static int merge_from_paint(walk *w)
{
	uint32_t n = sg_dag_count(w->d), i, j, x, *start = NULL, *child = NULL, *fill = NULL, best = SG_DAG_NONE;
	int err = SG_ERROR;

	if (!(start = calloc((size_t)n + 1, sizeof(*start))) || !(fill = calloc((size_t)n + 1, sizeof(*fill))))
		goto oom;
	for (i = 0; i < n; i++)
		if ((N(w, i)->flags & (MARK_P2 | SG_DAG_PARSED)) == (MARK_P2 | SG_DAG_PARSED))
			for (j = 0; j < N(w, i)->nparents; j++)
				start[sg_dag_parents(w->d, i)[j] + 1]++;
	for (i = 0; i < n; i++)
		start[i + 1] += start[i];
	if (!(child = malloc(((size_t)start[n] + 1) * sizeof(*child))))
		goto oom;
	for (i = 0; i < n; i++)
		if ((N(w, i)->flags & (MARK_P2 | SG_DAG_PARSED)) == (MARK_P2 | SG_DAG_PARSED))
			for (j = 0; j < N(w, i)->nparents; j++) {
				x = sg_dag_parents(w->d, i)[j];
				child[start[x] + fill[x]++] = i;
			}
	w->nstack = 0;
	N(w, w->rev)->flags |= MARK_UP;
	if ((err = u32_push(&w->stack, &w->nstack, &w->stack_alloc, w->rev)) < 0)
		goto done;
	while (w->nstack) {
		x = w->stack[--w->nstack];
		if (N(w, x)->chain && (best == SG_DAG_NONE || N(w, x)->chain - 1 > best))
			best = N(w, x)->chain - 1;
		for (j = start[x]; j < start[x + 1]; j++)
			if (!(N(w, child[j])->flags & MARK_UP)) {
				N(w, child[j])->flags |= MARK_UP;
				if ((err = u32_push(&w->stack, &w->nstack, &w->stack_alloc, child[j])) < 0)
					goto done;
			}
	}
	if (best != SG_DAG_NONE)
		found_merge(w, best);
	err = SG_OK;
	goto done;
oom:
	err = sg_error_set(SG_ERROR, "out of memory");
done:
	free(start);
	free(child);
	free(fill);
	return err;
}

static int judge_once(sg_reach *r, git_repository *repo, const sg_cgraph *g, const git_oid *tip,
		      const git_oid *rev, int flags)
{
	walk w = { 0 };
	int err;

	memset(r, 0, sizeof(*r));
	w.r = r;
	w.flags = flags;
	if ((err = sg_dag_open(&w.d, repo, g)) < 0)
		return err;
	r->used_graph = sg_dag_used_graph(w.d);
	if ((err = sg_dag_lookup(&w.tip, w.d, tip)) < 0 || (err = sg_dag_lookup(&w.rev, w.d, rev)) < 0)
		goto done;
	if (!r->used_graph) {
		err = walk_chain_objects(&w, tip, rev, (flags & SG_REACH_ANY) != 0);
	} else if ((err = sg_dag_parse(w.d, w.rev)) == SG_OK) {
		w.gen_rev = N(&w, w.rev)->gen;
		err = walk_chain(&w);
	}
	if (err < 0 || r->first_parent || !(flags & SG_REACH_ANY))
		goto done;
	/* Past a shallow boundary only a merge inside the history can settle it. */
	if (r->truncated && !(flags & SG_REACH_MERGE))
		goto done;
	if (sg_dag_generations(w.d))
		err = side_walk(&w);
	else if ((err = paint(&w, (flags & SG_REACH_MERGE) != 0)) == SG_OK && r->reachable &&
		 (flags & SG_REACH_MERGE))
		err = merge_from_paint(&w);
done:
	free(w.chain);
	free(w.stack);
	sg_dag_free(w.d);
	return err;
}

int sg_reach_judge(sg_reach *out, git_repository *repo, const sg_cgraph *g, const git_oid *tip,
		   const git_oid *rev, int flags)
{
	sg_reach r;
	int err = judge_once(&r, repo, g, tip, rev, flags);

	if (err == SG_ERETRY)  /* the commit-graph contradicts itself: read the objects */
		err = judge_once(&r, repo, NULL, tip, rev, flags);
	if (err < 0)
		return err;
	*out = r;
	return SG_OK;
}

/* ---- the commits a merge brings in ---- */
typedef struct merged_ctx {
	walk w;
	uint32_t merge;
	git_oid *ids;
	size_t n, alloc, max;
} merged_ctx;

static int collect_merged(walk *w, uint32_t x)
{
	merged_ctx *m = (merged_ctx *)w;  /* w is m's first member */
	int err;

	if (x == m->merge)
		return SG_OK;
	if (m->n > m->max)
		return SG_OK;
	if ((err = sg_array_reserve((void **)&m->ids, &m->alloc, m->n, 256, sizeof(*m->ids))) < 0)
		return err;
	sg_dag_oid(&m->ids[m->n++], w->d, x);
	return SG_OK;
}

static int merged_full(const walk *w)
{
	const merged_ctx *m = (const merged_ctx *)w;

	return m->n > m->max;
}

static int merged_once(merged_ctx *m, git_repository *repo, const sg_cgraph *g, const git_oid *merge)
{
	sg_reach r = { 0 };
	pq q = { .done = MARK_P1 };  /* stop once only the first parent's history is queued */
	uint32_t i;
	int err;

	m->w.r = &r;
	if ((err = sg_dag_open(&m->w.d, repo, g)) < 0)
		return err;
	if ((err = sg_dag_lookup(&m->merge, m->w.d, merge)) < 0 || (err = sg_dag_parse(m->w.d, m->merge)) < 0)
		goto done;
	for (i = 0; i < N(&m->w, m->merge)->nparents; i++) {
		uint32_t p = sg_dag_parents(m->w.d, m->merge)[i];

		if ((err = sg_dag_parse(m->w.d, p)) < 0)
			goto done;
		N(&m->w, p)->flags |= i == 0 ? MARK_P1 : MARK_P2;
		if ((err = pq_put(&q, &m->w, p)) < 0)
			goto done;
	}
	err = paint_loop(&q, &m->w, merged_full, collect_merged);
	if (err == SG_OK && r.truncated)
		err = sg_error_set(SG_EDENIED, "the history of the merge ends early (a shallow clone?); "
				   "run git fetch --unshallow");
done:
	free(q.v);
	sg_dag_free(m->w.d);
	m->w.d = NULL;
	return err;
}

int sg_reach_merged(git_oid **out, size_t *n, git_repository *repo, const sg_cgraph *g, const git_oid *merge,
		    size_t max)
{
	merged_ctx m;
	int err;

	memset(&m, 0, sizeof(m));
	m.max = max;
	err = merged_once(&m, repo, g, merge);
	if (err == SG_ERETRY) {  /* the commit-graph contradicts itself: read the objects */
		free(m.ids);
		memset(&m, 0, sizeof(m));
		m.max = max;
		err = merged_once(&m, repo, NULL, merge);
	}
	if (err < 0) {
		free(m.ids);
		return err;
	}
	*out = m.ids;
	*n = m.n;
	return SG_OK;
}
