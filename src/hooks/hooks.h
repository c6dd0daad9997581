/* Where git meets signgate: the reference-transaction hook (release tags),
 * the pre-receive hook (server side), git's signing-program protocol
 * (gpg.format = x509, gpg.x509.program = signgate) and the hook scripts
 * that `signgate install-hooks` writes. Nothing here prints: results and
 * reasons come back in the structures and the error message. */
#ifndef SG_HOOKS_HOOKS_H
#define SG_HOOKS_HOOKS_H

#include <git2.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/strlist.h"
#include "policy/policy.h"

/* Set in the environment of everything the hooks run (and by the hook
 * scripts): a hook that sees it returns at once, so the notes signgate
 * writes and the `git archive` it runs never re-enter a hook. */
#define SG_HOOK_ENV "SIGNGATE_HOOK_ACTIVE"

#define SG_HOOK_LINE_MAX 4096            /* bytes in one "<old> <new> <ref>" line */
#define SG_HOOK_LINES_MAX 100000         /* lines on a hook's stdin */
#define SG_X509_PAYLOAD_MAX (1024 * 1024) /* bytes of a tag payload git asks to sign */

/* ---- ref updates (refs.c) ---- */

typedef struct sg_ref_update {
	git_oid old_id, new_id;
	char *ref;
} sg_ref_update;

typedef struct sg_ref_updates {
	sg_ref_update *v;
	size_t n, cap;
} sg_ref_updates;

/* Parse "<old> <new> <ref>" lines (as git gives them to hooks); every line
 * must be well formed (SG_EUSAGE naming the line otherwise). */
int sg_ref_updates_parse(sg_ref_updates *out, const char *text, size_t len);
void sg_ref_updates_release(sg_ref_updates *u);
/* The update of `ref` in this push, or NULL when the push leaves it alone. */
const sg_ref_update *sg_ref_updates_find(const sg_ref_updates *u, const char *ref);
/* The release tag name of refs/tags/<name> when <name> matches
 * release.tagPattern, else NULL (points into ref). */
const char *sg_release_tag(const sg_policy *pol, const char *ref);
/* The commit an object id peels to (annotated tags followed); SG_EDENIED
 * with a reason when it is not (or does not peel to) a commit. */
int sg_peel_to_commit(git_oid *out, git_repository *repo, const git_oid *id);

/* Append a hook's decision to the audit log ("op", "decision", "tag",
 * "commit" and "reason" when given); a failed append is not an error here. */
void sg_hook_audit(git_repository *repo, const char *op, const char *decision, const char *tag,
		   const char *commit, const char *detail);

/* Read all of fd (a hook's stdin, a payload) into out, at most max bytes
 * (SG_EUSAGE naming `what` beyond). */
int sg_read_fd(sg_buf *out, int fd, size_t max, const char *what);

/* ---- reference-transaction (reftx.c) ---- */

/* The placeholder in release.artifact for the tag's name ("dist/proj-%(tag).tar.gz"). */
#define SG_TAG_PLACEHOLDER "%(tag)"
/* Every release.artifact names the tag (SG_TAG_PLACEHOLDER): a glob that
 * does not would sign earlier releases' files again under a new tag.
 * SG_ERROR naming the fix otherwise. */
int sg_release_artifacts_check(const sg_policy *pol);

typedef struct sg_reftx_report {
	sg_strlist lines;     /* what was done, for people (one line each) */
	sg_strlist denials;   /* "tag v1.0 (3f2a9c1): <reason>" */
} sg_reftx_report;

/* State "prepared": gate the commit of every release tag being created or
 * moved. SG_EDENIED when any is denied (report->denials says why);
 * SG_ERROR when release.artifact is unfit (sg_release_artifacts_check). */
int sg_reftx_prepared(sg_reftx_report *report, git_repository *repo, const sg_policy *pol,
		      const sg_ref_updates *u);
/* State "committed": sign the release artifacts for each release tag
 * (release.archive: dist/NAME-TAG.tar.gz from `git archive`, never
 * replacing another file of that name; then the files matching
 * release.artifact with %(tag) made the tag), recorded with Tag:.
 * `profile` may be NULL. */
int sg_reftx_committed(sg_reftx_report *report, git_repository *repo, const sg_policy *pol,
		       const sg_ref_updates *u, const char *profile);
void sg_reftx_report_release(sg_reftx_report *r);
/* The git command that runs the transaction (from /proc/PID/cmdline), e.g.
 * "tag", "fetch"; NULL when unknown. Caller frees. */
char *sg_git_command_of(long pid);
/* 1 when refs updated by this git command come from elsewhere (fetch,
 * clone, pull, receive-pack, ...): the hook leaves them alone. */
int sg_git_command_is_transfer(const char *cmd);

/* ---- pre-receive (prereceive.c) ---- */

/* The refs the gate reads (protected branches, local or remote-tracking, and notes) as they
 * will be after every update of a push, in a private bare repository that
 * shares `repo`'s objects (pushview.c). */
typedef struct sg_push_view {
	git_repository *repo;
	char *dir;
} sg_push_view;
/* 1 when the push moves a branch or remote-tracking ref. */
int sg_push_moves_branches(const sg_ref_updates *u);
int sg_push_view_open(sg_push_view *out, git_repository *repo, const sg_policy *pol,
		      const sg_ref_updates *u);
void sg_push_view_close(sg_push_view *v);

/* Judge a push. SG_EDENIED with every reason in `denials` when anything is
 * refused; the push is all or nothing. */
int sg_prereceive_check(sg_strlist *denials, sg_strlist *accepted, git_repository *repo,
			const sg_policy *pol, const sg_ref_updates *u);
/* Add the push quarantine ($GIT_QUARANTINE_PATH) to the odb as an
 * alternate, so the objects being pushed can be read. */
int sg_prereceive_quarantine(git_repository *repo);
/* The note text `new` only appends to `old` (oldlen 0: a new note): `old`
 * is a byte prefix of `new`, the bytes added hold no NUL and start a
 * paragraph of their own (a blank line after old's last non-blank line),
 * and `new` is at most SG_NOTES_MAX bytes. SG_EDENIED saying which rule
 * failed otherwise. */
int sg_notes_text_appends(const char *old, size_t oldlen, const char *new, size_t newlen);

/* ---- git's signing program (x509.c) ---- */

typedef struct sg_tag_payload {
	char object[GIT_OID_HEXSZ + 1];
	char type[16];
	char *tag;           /* the tag name */
	int is_commit;       /* a commit payload (tree line, no object line) */
} sg_tag_payload;

int sg_tag_payload_parse(sg_tag_payload *out, const char *data, size_t len);
void sg_tag_payload_release(sg_tag_payload *p);

/* The profile for tags: `key` when it names a cms profile (git passes
 * user.signingkey), else the first non-test cms profile. */
int sg_x509_profile(const sg_profile **out, const sg_policy *pol, const char *key);

typedef struct sg_x509_signed {
	sg_buf pem;          /* -----BEGIN SIGNED MESSAGE----- ... */
	char cert_sha256[129];  /* cert sha256 hex (the signer id) */
	char subject[512];
	char profile[128];
	time_t created;
	char *gate_summary;
	char commit[GIT_OID_HEXSZ + 1];
} sg_x509_signed;

/* Gate the payload's commit, sign the payload (detached CMS, timestamped
 * as the profile says), record a signing event on the commit with Tag:
 * and write the audit line. */
int sg_x509_sign(sg_x509_signed *out, git_repository *repo, const sg_policy *pol,
		 const char *key, const char *payload, size_t len);
void sg_x509_signed_release(sg_x509_signed *s);

typedef struct sg_x509_verified {
	int ok;
	int bad;             /* 1: the signature does not match (BADSIG); 0: not vouched (ERRSIG) */
	int revoked;
	int test;            /* vouched by a test profile's anchor */
	char id[129];
	char subject[512];
	char profile[128];
	time_t when;         /* timestamp time, else 0 */
	char reason[512];
} sg_x509_verified;

/* Verify a PEM (or DER) CMS detached signature over payload against every
 * cms profile's anchor (the tag profile first). SG_EVERIFY with reason. */
int sg_x509_verify(sg_x509_verified *out, const sg_policy *pol, const char *key,
		   const unsigned char *sig, size_t siglen, const char *payload, size_t len);

/* ---- hook scripts (install.c) ---- */

#define SG_HOOK_MARKER "# signgate-hook"

/* The text of hook `name` ("reference-transaction" | "pre-receive"), NULL if unknown. */
const char *sg_hook_script(const char *name);
/* Write hook `name` into `dir` (0755, temp+rename). An existing hook that
 * signgate did not write is refused (SG_ERROR) unless force. */
int sg_hook_install(const char *dir, const char *name, int force);
/* The directory git runs hooks from: core.hooksPath, else $GIT_DIR/hooks. Caller frees. */
int sg_hooks_dir(char **out, git_repository *repo);

#endif
