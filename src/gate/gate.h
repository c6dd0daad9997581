/* The signing gate: protected-branch reachability, reviews, signer.
 * Anything that cannot be established is a denial with its reason. */
#ifndef SG_GATE_GATE_H
#define SG_GATE_GATE_H

#include <git2.h>
#include <stdint.h>

#include "core/strlist.h"
#include "policy/policy.h"

#define SG_GATE_MAX_RULES 8

typedef struct sg_rule {
	const char *name;   /* "protected-branch", "reviews", "signer" (static) */
	int ok;             /* 1 passed, 0 denied */
	char *evidence;     /* human-readable reason / evidence */
} sg_rule;

/* One human the gate met (DESIGN.md section 3, "People"): the [person]
 * name, or the identity itself when the policy defines no person. */
typedef struct sg_gate_person {
	char *name;
	sg_strlist shown_by;             /* "IDENTITY via SOURCE" / "IDENTITY (author of 3f2a9c1)" */
} sg_gate_person;

typedef struct sg_gate_people {
	sg_gate_person *v;
	size_t n;
} sg_gate_people;

void sg_gate_people_release(sg_gate_people *p);
/* Add `shown` to the person `name` (created when new); SG_ERROR on OOM. */
int sg_gate_people_add(sg_gate_people *p, const char *name, const char *shown);

typedef struct sg_gate_result {
	int allowed;
	char commit[GIT_OID_HEXSZ + 1];  /* the peeled commit judged ("" if unresolved) */
	git_oid commit_id;
	char *rev;                       /* as the user gave it */
	sg_rule rules[SG_GATE_MAX_RULES];
	size_t nrules;
	char *branch_ref;                /* matched protected ref, e.g. refs/heads/main */
	sg_strlist reviewers;            /* counted reviewers: [person] names, else emails/logins (lowercase) */
	int persons;                     /* 1 when the policy defines [person] sections */
	sg_gate_people people;           /* the counted reviewers with the identities that showed them */
	sg_gate_people authors;          /* who authored or committed what REV brings in */
	sg_strlist review_sources_used;  /* e.g. trailers, gerrit */
	int required_reviews;
	char *signer;                    /* identity of who runs: email or user:NAME */
	char *summary;                   /* the note's Gate: line value, e.g.
	                                    "allowed; refs/heads/main first-parent; 2/2 reviews via trailers: a@x, b@y" */
	char *denial;                    /* first denial reason (diagnostic for stderr) */
	char *warning;                   /* NULL, or what the user should fix (a damaged commit-graph) */
	sg_strlist evidence_lines;       /* "Key: value" review evidence for the note
	                                    (Review-Request, Review-Approvers, ...; docs/signgate-notes.md) */
} sg_gate_result;

typedef struct sg_gate_opts {
	int skip_branch;   /* test profiles: branch rule reported but not required */
	int skip_reviews;  /* test profiles */
} sg_gate_opts;

/* Evaluate. Returns SG_OK when allowed, SG_EDENIED when denied (message set
 * to the denial), SG_ERROR on operational failure. `out` is filled in all
 * cases where rules were evaluated; release it with sg_gate_result_release. */
int sg_gate_evaluate(sg_gate_result *out, git_repository *repo, const sg_policy *pol,
		     const char *rev, const sg_gate_opts *opts);
void sg_gate_result_release(sg_gate_result *r);

/* Resolve REV (sha, branch, tag peeled, HEAD) to a commit. SG_ERROR with a
 * reason and the fix when it cannot be resolved to a commit (nothing to
 * judge: an error, exit 1, not a denial). */
int sg_gate_resolve_commit(git_oid *out, git_repository *repo, const char *rev);

/* Who runs: git user.email, else "user:" + OS user name. Caller frees. */
int sg_gate_current_signer(char **out, git_repository *repo);

/* signgate approve: sign an approval statement for REV with the OpenPGP key
 * `key` (fingerprint, else git config user.signingkey) through GPGME and
 * append it to refs/notes/signgate-approvals on REV (compare-and-swap).
 * `done` receives a one-line summary (caller frees). */
int sg_gate_approve(char **done, git_repository *repo, const char *rev, const char *key);

/* doctor: git's commit-graph (single file or split chain), every file's
 * layout and trailing checksum -- the gate maps it without checksumming on
 * each run. SG_ENOTFOUND when there is none; SG_EVERIFY with the message
 * when one is damaged (the gate then reads the objects). */
int sg_gate_graph_verify(int *files, uint32_t *commits, git_repository *repo);

#endif
