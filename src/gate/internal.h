/* Internals of the gate shared by its files and its unit tests. */
#ifndef SG_GATE_INTERNAL_H
#define SG_GATE_INTERNAL_H

#include <git2.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/strlist.h"
#include "gate/gate.h"
#include "policy/policy.h"

/* ---- commit-graph (objects/info/commit-graph, read-only, single file) ---- */
typedef struct sg_cgraph sg_cgraph;
#define SG_CGRAPH_NONE UINT32_MAX

/* SG_ENOTFOUND when there is no usable graph (absent, split chain, other
 * hash, corrupt: the caller falls back to object reads). */
int sg_cgraph_open(sg_cgraph **out, git_repository *repo);
void sg_cgraph_free(sg_cgraph *g);
/* Position of a commit, or SG_CGRAPH_NONE. */
uint32_t sg_cgraph_find(const sg_cgraph *g, const git_oid *id);
uint32_t sg_cgraph_count(const sg_cgraph *g);
void sg_cgraph_oid(git_oid *out, const sg_cgraph *g, uint32_t pos);
/* First parent position (SG_CGRAPH_NONE for a root) and whether it has more
 * than one parent. SG_ERROR when the graph is inconsistent. */
int sg_cgraph_first_parent(uint32_t *parent, int *merge, const sg_cgraph *g, uint32_t pos);

/* ---- first-parent chain of a tip ---- */
typedef struct sg_chain {
	git_oid *ids;            /* ids[0] = tip */
	unsigned char *merge;    /* merge[i]: ids[i] has more than one parent */
	size_t n, alloc;
	int found;               /* the stop commit was reached: ids[n-1] */
	int truncated;           /* history ends early (shallow): missing parent of ids[n-1] */
	int used_graph;
} sg_chain;

/* Walk the first-parent chain from `tip` until `stop` (or the root). */
int sg_chain_walk(sg_chain *out, git_repository *repo, const git_oid *tip, const git_oid *stop);
void sg_chain_release(sg_chain *c);

/* ---- protected branch ---- */
typedef struct sg_branch_verdict {
	int ok;
	char *ref;               /* the protected ref judged against (owned) */
	char *evidence;          /* owned */
	git_oid merge;           /* commit on the ref's first-parent chain that brought REV in */
	int has_merge;           /* 0 when REV is on the chain itself or not reachable */
	int first_parent;        /* REV is on the first-parent chain */
} sg_branch_verdict;

int sg_gate_branch_rule(sg_branch_verdict *out, git_repository *repo, const sg_policy *pol,
			const git_oid *rev);
void sg_branch_verdict_release(sg_branch_verdict *v);

/* ---- reviews ---- */
typedef struct sg_review {
	char *email;             /* lowercase; NULL when the entry could not be parsed */
	const char *source;      /* static: "trailers", "gerrit" */
	char *drop;              /* reason known while parsing (score too low, no email) or NULL */
} sg_review;

typedef struct sg_review_list {
	sg_review *v;
	size_t n;
} sg_review_list;

void sg_review_list_release(sg_review_list *l);
int sg_review_list_add(sg_review_list *l, const char *email, const char *source, const char *drop);

/* "Name <email>", "<email>" or a bare email -> lowercase email (caller frees).
 * SG_ENOTFOUND when the value holds no email. */
int sg_gate_parse_identity(char **email, const char *value);
/* Reviewers named by trailers (keys compared case-insensitively, trimmed). */
int sg_gate_trailers_parse(sg_review_list *out, const char *message, const sg_strlist *keys);
/* Reviewers in a Gerrit review note ("Code-Review+2: Name <email>" lines). */
int sg_gate_gerrit_parse(sg_review_list *out, const char *note, const char *label, int min_score);

typedef struct sg_review_ctx {
	git_repository *repo;
	const sg_policy *pol;
	const git_oid *rev;
	const git_oid *merge;    /* NULL when REV is on the first-parent chain */
} sg_review_ctx;

typedef int (*sg_review_source_fn)(sg_review_list *out, const sg_review_ctx *ctx);

typedef struct sg_review_source {
	const char *name;
	sg_review_source_fn collect;   /* NULL: not available in this build */
} sg_review_source;

const sg_review_source *sg_review_source_find(const char *name);
int sg_gate_source_trailers(sg_review_list *out, const sg_review_ctx *ctx);
int sg_gate_source_gerrit(sg_review_list *out, const sg_review_ctx *ctx);

typedef struct sg_review_tally {
	sg_strlist counted;      /* distinct lowercase emails, in order found */
	sg_strlist sources;      /* sources that contributed a counted reviewer */
	sg_strlist dropped;      /* "reason (email)" lines, distinct */
} sg_review_tally;

/* Count distinct reviewers by the policy's rules (self review, allow-list). */
int sg_gate_count_reviews(sg_review_tally *out, const sg_review_list *l, const sg_policy *pol,
			  const char *author_email, const char *committer_email);
void sg_review_tally_release(sg_review_tally *t);

/* The reviews rule: collect from every configured source, count, judge. */
int sg_gate_reviews_rule(sg_rule *rule, sg_review_tally *tally, git_repository *repo,
			 const sg_policy *pol, const git_oid *rev, const git_oid *merge);

/* ---- signer ---- */
/* The OS user as "user:NAME" (caller frees). */
int sg_gate_os_user(char **out);
int sg_gate_signer_rule(sg_rule *rule, char **signer, git_repository *repo, const sg_policy *pol);

/* Glob match helpers: fnmatch with FNM_PATHNAME for branches, casefold for emails. */
int sg_gate_branch_matches(const sg_strlist *globs, const char *branch);

#endif
