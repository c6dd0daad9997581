/* Internals of the gate shared by its files and its unit tests. */
#ifndef SG_GATE_INTERNAL_H
#define SG_GATE_INTERNAL_H

#include <git2.h>
#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/strlist.h"
#include "gate/gate.h"
#include "policy/policy.h"

/* ---- commit-graph (cgraph.c: objects/info/commit-graph or its split chain) ---- */
typedef struct sg_cgraph sg_cgraph;
#define SG_CGRAPH_NONE UINT32_MAX
#define SG_GEN_INFINITY UINT32_MAX    /* a commit outside the graph */
#define SG_CGRAPH_MAX_PARENTS 256

typedef struct sg_cgraph_entry {
	uint32_t parents[SG_CGRAPH_MAX_PARENTS];  /* global positions */
	uint32_t nparents;
	uint32_t gen;            /* topological level; SG_GEN_INFINITY when the graph has none */
	int64_t date;            /* committer time */
} sg_cgraph_entry;

/* Map the graph (single file, else the chain): SG_ENOTFOUND when there is
 * none that can be used (absent, shallow repository, other hash, damaged
 * layout): the caller reads objects. Each file's trailing checksum is
 * verified unless it was verified since the file last changed
 * (sg_cgraph_verify_cached); a mismatch is SG_EVERIFY with a message that
 * names the fix: the caller warns and reads objects. */
int sg_cgraph_open(sg_cgraph **out, git_repository *repo);
void sg_cgraph_free(sg_cgraph *g);
/* Global position of a commit, or SG_CGRAPH_NONE. */
uint32_t sg_cgraph_find(const sg_cgraph *g, const git_oid *id);
uint32_t sg_cgraph_count(const sg_cgraph *g);
int sg_cgraph_has_generations(const sg_cgraph *g);
void sg_cgraph_oid(git_oid *out, const sg_cgraph *g, uint32_t pos);
/* Parents, level and date of the commit at pos. SG_ERETRY (message set)
 * when the graph contradicts itself: the caller redoes its walk from objects. */
int sg_cgraph_commit(sg_cgraph_entry *out, const sg_cgraph *g, uint32_t pos);
/* doctor: every file's layout and trailing SHA-1. SG_ENOTFOUND when there
 * is no graph; SG_EVERIFY (message set) when one is damaged. */
int sg_cgraph_verify(int *layers, uint32_t *commits, git_repository *repo);

/* ---- the checksums, verified once per change of a file (cgverify.c) ---- */
typedef struct sg_cgraph_file {
	const char *path;
	struct stat st;               /* of the descriptor that was mapped */
	const unsigned char *map;
	size_t size;
} sg_cgraph_file;
/* 1 when the file's trailing SHA-1 matches the bytes before it. */
int sg_cgraph_checksum_ok(const unsigned char *map, size_t size);
/* SG_OK when every file is verified: by a line in
 * $GIT_COMMON_DIR/signgate/cgraph-verified for its path and exact stat
 * identity, else by its checksum now (then recorded). SG_EVERIFY (message
 * set) for the first file whose checksum fails. */
int sg_cgraph_verify_cached(git_repository *repo, const sg_cgraph_file *f, size_t n);

/* ---- commit table (dag.c): commits met by a walk, parsed once ---- */
typedef struct sg_dag sg_dag;
#define SG_DAG_NONE UINT32_MAX
/* Node indices in the order met; a commit in the graph is found by its
 * position, the others by a hash table. */

typedef struct sg_dag_node {
	int64_t date;
	uint32_t gen;            /* SG_GEN_INFINITY when unknown (valid once parsed) */
	uint32_t first_edge;     /* parents: sg_dag_parents() */
	uint32_t nparents;
	uint32_t chain;          /* 1 + place on the first-parent chain, 0 when off it */
	uint32_t flags;          /* SG_DAG_* and the walks' marks */
	uint32_t queued;         /* copies in a priority queue (paint walk) */
} sg_dag_node;

#define SG_DAG_PARSED  0x01u
#define SG_DAG_MISSING 0x02u     /* beyond a shallow boundary */

/* g: the commit-graph to read commits from where it has them (borrowed;
 * it must outlive the table), or NULL to read objects only. */
int sg_dag_open(sg_dag **out, git_repository *repo, const sg_cgraph *g);
void sg_dag_free(sg_dag *d);
/* The node of a commit, created unparsed when new. */
int sg_dag_lookup(uint32_t *idx, sg_dag *d, const git_oid *id);
/* Read its parents, date and generation (once). A commit missing in a
 * shallow repository is flagged SG_DAG_MISSING, with no parents. */
int sg_dag_parse(sg_dag *d, uint32_t idx);
/* The first parent and the parent count of a commit, read from the objects
 * without entering it in the table (the first-parent chain when there is no
 * graph: as fast as git's own walk). SG_ENOTFOUND when it is missing in a
 * shallow repository. */
int sg_dag_first_parent(git_oid *parent, uint32_t *nparents, sg_dag *d, const git_oid *id);
sg_dag_node *sg_dag_node_at(const sg_dag *d, uint32_t idx);
void sg_dag_oid(git_oid *out, const sg_dag *d, uint32_t idx);
const uint32_t *sg_dag_parents(const sg_dag *d, uint32_t idx);
uint32_t sg_dag_count(const sg_dag *d);
/* 1 when generation numbers can prune walks (a graph with levels). */
int sg_dag_generations(const sg_dag *d);
int sg_dag_used_graph(const sg_dag *d);

/* ---- reachability (walk.c) ---- */
#define SG_REACH_ANY   1         /* establish reachability when REV is not on the chain */
#define SG_REACH_MERGE 2         /* ... and the chain merge that brought it in */

typedef struct sg_reach {
	int first_parent;        /* REV is on the tip's first-parent chain */
	size_t behind;           /* commits behind the tip when it is */
	int reachable;           /* REV is an ancestor of the tip (or is it) */
	int has_merge;
	git_oid merge;           /* the oldest chain merge from which REV is reachable */
	int truncated;           /* shallow: history ended before the answer */
	git_oid history_end;     /* last chain commit read when truncated */
	int used_graph;
} sg_reach;

/* Judge REV against one tip: first-parent membership always; reachability
 * and the merge only as `flags` ask. Generation numbers from the commit-
 * graph prune every walk; without them, the chain is read to the root and
 * reachability is git's paint_down_to_common (commit-date order, exact). */
/* g: the commit-graph (sg_cgraph_open, once per run) or NULL; a graph that
 * contradicts itself is left for the objects. */
int sg_reach_judge(sg_reach *out, git_repository *repo, const sg_cgraph *g, const git_oid *tip,
		   const git_oid *rev, int flags);
/* The commits a merge brings in, as `git rev-list MERGE^1..MERGE` lists them
 * (MERGE itself left out), newest generation first; at most max + 1 (so the
 * caller can tell "more than max"). *out is malloc'd. Exact with generation
 * numbers; without them in commit-date order, as git's is. SG_EDENIED when
 * the history ends early (shallow). */
int sg_reach_merged(git_oid **out, size_t *n, git_repository *repo, const sg_cgraph *g, const git_oid *merge,
		    size_t max);

/* ---- protected branch ---- */
typedef struct sg_branch_verdict {
	int ok;
	char *ref;               /* the protected ref judged against (owned) */
	char *evidence;          /* owned */
	git_oid merge;           /* commit on the ref's first-parent chain that brought REV in */
	int has_merge;           /* 0 when REV is on the chain itself or not reachable */
	int first_parent;        /* REV is on the first-parent chain */
} sg_branch_verdict;

/* g: the commit-graph (borrowed) or NULL. */
int sg_gate_branch_rule(sg_branch_verdict *out, git_repository *repo, const sg_cgraph *g,
			const sg_policy *pol, const git_oid *rev);
void sg_branch_verdict_release(sg_branch_verdict *v);

/* ---- reviews ---- */
typedef struct sg_review {
	char *email;             /* identity, lowercase (email, github:LOGIN, gitlab:LOGIN, gerrit:ID);
				    NULL when the entry could not be parsed */
	const char *source;      /* static: "trailers", "gerrit" */
	char *drop;              /* reason known while parsing (score too low, no email) or NULL */
	sg_strlist ids;          /* more identities that must map to the same person
				    (approvals: key:FPR and every user id of the key) */
} sg_review;

typedef struct sg_review_list {
	sg_review *v;
	size_t n;
} sg_review_list;

void sg_review_list_release(sg_review_list *l);
int sg_review_list_add(sg_review_list *l, const char *email, const char *source, const char *drop);
/* Add an identity to the last review added. */
int sg_review_add_id(sg_review_list *l, const char *id);

/* git_commit_lookup (gate.c); SG_EDENIED naming the commit when it cannot be read. */
int sg_gate_commit_lookup(git_commit **out, git_repository *repo, const git_oid *id);

/* ---- people (people.c) ---- */
/* The author side: identities with the role they play ("the author",
 * "the committer of 3f2a9c1", "the pull request's author"). */
typedef struct sg_authors {
	sg_strlist id;           /* lowercase identities */
	sg_strlist role;         /* parallel to id */
} sg_authors;

#define SG_AUTHORS_INIT { SG_STRLIST_INIT, SG_STRLIST_INIT }
#define SG_AUTHOR_WALK_MAX 10000

void sg_authors_release(sg_authors *a);
int sg_authors_add(sg_authors *a, const char *id, const char *role);
/* Authors and committers of REV, and for a merge of every commit in
 * REV^1..REV (at most SG_AUTHOR_WALK_MAX, else SG_EDENIED). */
int sg_authors_collect(sg_authors *out, git_repository *repo, const sg_cgraph *g, const git_oid *rev);

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
	sg_strlist *evidence;    /* "Key: value" lines a source adds for the note */
	int *required;           /* a source may raise the required count (forge rules) */
	sg_authors *authors;     /* a source adds the author it knows (a pull request's) */
	sg_strlist *blockers;    /* reasons that deny whatever the count (changes requested) */
} sg_review_ctx;

typedef int (*sg_review_source_fn)(sg_review_list *out, const sg_review_ctx *ctx);

typedef struct sg_review_source {
	const char *name;
	sg_review_source_fn collect;   /* NULL: not available in this build */
} sg_review_source;

const sg_review_source *sg_review_source_find(const char *name);
int sg_gate_source_trailers(sg_review_list *out, const sg_review_ctx *ctx);
int sg_gate_source_gerrit(sg_review_list *out, const sg_review_ctx *ctx);
int sg_gate_source_approvals(sg_review_list *out, const sg_review_ctx *ctx);
int sg_gate_source_github(sg_review_list *out, const sg_review_ctx *ctx);
int sg_gate_source_gitlab(sg_review_list *out, const sg_review_ctx *ctx);

typedef struct sg_review_tally {
	sg_strlist counted;      /* distinct people (person names, else lowercase identities), in order found */
	sg_strlist sources;      /* sources that contributed a counted reviewer */
	sg_strlist dropped;      /* "reason (email)" lines, distinct */
	sg_strlist evidence;     /* "Key: value" lines for the note (forges, approvals) */
	sg_strlist blockers;     /* denials whatever the count (unmapped identity, changes requested) */
	sg_gate_people people;   /* counted people and the identities that showed them */
	sg_gate_people authors;  /* the author side as people */
	int required;            /* the required count applied (policy, raised by a forge) */
} sg_review_tally;

#define SG_REVIEW_TALLY_INIT { SG_STRLIST_INIT, SG_STRLIST_INIT, SG_STRLIST_INIT, SG_STRLIST_INIT, \
			       SG_STRLIST_INIT, { NULL, 0 }, { NULL, 0 }, 0 }

/* Count distinct people by the policy's rules: with [person] sections every
 * identity maps to one person (else a blocker), a person counts once and
 * never when on the author side; without, distinct identities, none of
 * the author side's (unless allowSelfReview). Then the allow-list. */
int sg_gate_count_reviews(sg_review_tally *out, const sg_review_list *l, const sg_policy *pol,
			  const sg_authors *authors);
void sg_review_tally_release(sg_review_tally *t);

/* The reviews rule: collect from every configured source, count, judge. */
int sg_gate_reviews_rule(sg_rule *rule, sg_review_tally *tally, git_repository *repo, const sg_cgraph *g,
			 const sg_policy *pol, const git_oid *rev, const git_oid *merge);

/* ---- signed approvals (approvals.c) ---- */
#define SG_APPROVALS_REF "refs/notes/signgate-approvals"
#define SG_APPROVAL_HEADER "signgate-approval v1"

/* The statement text for a commit (caller frees). */
int sg_approval_statement(char **out, const git_oid *commit, const git_oid *tree, const char *email,
			  time_t when);
/* Parse a statement: SG_OK and the fields when it is exactly the v1 format
 * (commit and tree 40 hex, one reviewer, one RFC 3339 time), else
 * SG_ENOTFOUND with a reason in why. */
int sg_approval_parse(char commit[GIT_OID_HEXSZ + 1], char tree[GIT_OID_HEXSZ + 1], char **email,
		      time_t *when, const char *text, char *why, size_t whylen);
/* Split a note into the clear-signed blocks it holds (-----BEGIN PGP SIGNED
 * MESSAGE----- .. -----END PGP SIGNATURE-----); *n capped at max. */
int sg_approval_blocks(sg_strlist *out, const char *note, size_t max);

/* ---- forges (forge_http.c, github.c, gitlab.c) ---- */
#define SG_FORGE_MAX_RESPONSE (4u * 1024u * 1024u)
#define SG_FORGE_MAX_PAGES 20
#define SG_FORGE_CONNECT_MS 5000L
#define SG_FORGE_TIMEOUT_S 15

typedef struct sg_forge {
	const char *name;        /* "GitHub" / "GitLab", for messages */
	const char *token_env;   /* "GITHUB_TOKEN" / "GITLAB_TOKEN", for messages */
	char *base;              /* API base URL, no trailing slash */
	char *token;             /* from the environment; never printed */
	long connect_ms, total_ms;
	size_t max_response;
	int max_pages;
	sg_strlist *evidence;    /* receives "Review-Response-Sha256: HEX GET PATH" lines */
	char fetched_at[32];     /* RFC 3339 time of the first request */
	char last_reason[256];   /* set when a GET was refused as optional */
} sg_forge;

#define SG_FORGE_PAGINATE 1      /* follow Link rel="next" (same origin), join arrays */
#define SG_FORGE_OPTIONAL 2      /* 401, 403 (not a rate limit), 404 -> SG_ENOTFOUND */

/* Set up from the policy's base URL and the token's environment variable.
 * SG_ERROR (configuration: exit 1) when the URL is unusable, the token is
 * malformed or would go over plain http to a host other than loopback. */
int sg_forge_init(sg_forge *f, const char *name, const char *base, const char *token_env,
		  const sg_policy *pol, sg_strlist *evidence);
void sg_forge_release(sg_forge *f);
/* GET base + path (path starts with '/'); *out is the JSON document (pages
 * joined into one array with SG_FORGE_PAGINATE). HTTP 401 (no token, or a
 * refused one) is SG_ERROR (exit 1); other failures are SG_EDENIED
 * with the reason (rate limit and its reset time, HTTP status, timeout,
 * malformed JSON, oversize). */
int sg_forge_get(json_t **out, sg_forge *f, const char *path, int flags);
/* The rel="next" target of a Link header (caller frees), SG_ENOTFOUND when none. */
int sg_forge_link_next(char **out, const char *link);
/* "prefix" + lowercase login into out; -1 when the login is empty or odd. */
int sg_forge_identity(char *out, size_t n, const char *prefix, const char *login);
/* A review that does not count (who may be NULL), with its reason. */
int sg_forge_drop(sg_review_list *out, const char *source, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The pull/merge request's author as "prefix" + lowercase login into out.
 * A missing or odd login is a denial naming `request` (the author's own
 * review could not be excluded) unless gate.allowSelfReview; then out is "". */
int sg_forge_author_id(char *out, size_t n, const char *prefix, const char *login, const char *request,
		       const sg_policy *pol);
/* The pull/merge request's author joins the author side ("github:" LOGIN);
 * a missing one denies as sg_forge_author_id says. */
int sg_forge_author(const sg_review_ctx *ctx, const char *prefix, const char *login, const char *role,
		    const char *request);
/* Add one formatted "Key: value" evidence line. */
int sg_forge_line(sg_strlist *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Join with ", " ("none" when empty). */
int sg_forge_join(sg_buf *b, const sg_strlist *l);
/* A string member of a JSON object, or NULL. */
const char *sg_forge_str(const json_t *o, const char *key);

/* GitHub: the pull request that brought `sha` into a protected branch, from
 * the /commits/{sha}/pulls answer (borrowed reference into pulls): opened in
 * forge.githubRepository (base.repo.full_name), merged into a protected branch, preferably one whose head or merge commit is
 * `sha`. Unmerged or elsewhere-merged ones are recorded as drops.
 * SG_ENOTFOUND when none qualifies. */
int sg_github_pick_pull(json_t **pr, const json_t *pulls, const sg_policy *pol, const char *sha,
			sg_review_list *out);
/* GitHub: add the reviewers of a pull request's reviews (latest decisive
 * review per login; APPROVED on the head unless allowStaleReviews -- a null
 * commit_id is stale too; not the author unless allowSelfReview).
 * `approved` gets "login (review ID)"; an outstanding CHANGES_REQUESTED goes
 * to `blockers` when gate.changesRequested = block (blockers may be NULL). */
int sg_github_reviews(sg_review_list *out, sg_strlist *approved, sg_strlist *blockers, const json_t *reviews,
		      const json_t *pr, const sg_policy *pol);
/* GitLab: the merge request merged into a protected branch (borrowed),
 * preferably one whose head, merge or squash commit is `sha`. */
int sg_gitlab_pick_mr(json_t **mr, const json_t *mrs, const sg_policy *pol, const char *sha, sg_review_list *out);
/* What GitLab said about its own rules for one merge request. */
typedef struct sg_gitlab_state {
	int reset_on_push;       /* 1, 0, or -1 when the settings could not be read */
	const json_t *rules;     /* the approval_state answer, NULL when not readable */
	char rules_why[256];     /* why approval_state could not be read */
	char settings_why[256];  /* why /projects/:id/approvals could not be read */
} sg_gitlab_state;

/* GitLab: reviewers from the /approvals answer. An approval counts only
 * when the approval state shows it satisfies a rule (the user is eligible
 * for a rule that lists the approval); and it is stale unless the project
 * resets approvals on push or allowStaleReviews. What was not read is said
 * to be unread, never assumed. */
int sg_gitlab_approvals(sg_review_list *out, sg_strlist *approved, const json_t *approvals, const json_t *mr,
			const sg_gitlab_state *st, const sg_policy *pol);
/* A blocker per approval rule GitLab reports as not approved. */
int sg_gitlab_unmet_rules(sg_strlist *blockers, const json_t *state);

/* ---- signer ---- */
/* The OS user as "user:NAME" (caller frees). */
int sg_gate_os_user(char **out);
int sg_gate_signer_rule(sg_rule *rule, char **signer, git_repository *repo, const sg_policy *pol);

/* Glob match helpers: fnmatch with FNM_PATHNAME for branches, casefold for emails. */
int sg_gate_branch_matches(const sg_strlist *globs, const char *branch);

#endif
