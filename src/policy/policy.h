/* The policy (DESIGN.md section 3): git-config syntax parsed by libgit2,
 * read from --policy FILE / signgate.policyFile, else from the `.signgate`
 * blob at signgate.policyRef (default refs/remotes/origin/HEAD, else
 * refs/heads/main, else refs/heads/master) -- never from the working tree.
 * Blobs never follow include.path/includeIf. Unknown sections or keys and
 * bad values are SG_ERROR with "FILE:LINE: ..." in the message. */
#ifndef SG_POLICY_POLICY_H
#define SG_POLICY_POLICY_H

#include <git2.h>
#include <stddef.h>
#include <time.h>

#include "core/strlist.h"

typedef struct sg_profile {
	char *name;
	char *format;              /* "cms" | "openpgp" (default cms) */
	char *key;                 /* pkcs11: URI, file:PATH, or OpenPGP fingerprint */
	char *pkcs11_module;       /* default /usr/lib/softhsm/libsofthsm2.so */
	char *cert;                /* absolute paths after load (resolved against the policy's base dir) */
	char *chain;
	char *trust_anchor;
	int require_hardware_key;  /* default 1 unless test = true */
	sg_strlist tsa;
	char *tsa_trust_anchor;
	int require_timestamp;     /* default 1 unless test = true */
	int test;                  /* default 0 */
	sg_strlist artifacts;      /* globs; empty = any */
	sg_strlist allowed_key;    /* openpgp: allowedKey fingerprints for verify (default: key) */
	char *notes_ref;           /* default refs/notes/signatures */
	int cert_expiry_warn_days; /* default 30 */
	int max_key_age_days;      /* default 0 = no limit */
	int tsa_timeout;           /* seconds per TSA request, default 20 */
	int tsa_attempts;          /* attempts per TSA URL, default 3 */
} sg_profile;

typedef struct sg_revocation {
	char *cert_sha256;         /* 64 lowercase hex */
	time_t since;
	char *since_text;          /* as written */
	char *reason;
} sg_revocation;

/* [person "NAME"]: one human and every identity they use (DESIGN.md
 * section 3, "People"). Emails and logins are stored lowercase, keys as
 * uppercase full fingerprints, Gerrit account ids as digits. */
typedef struct sg_person {
	char *name;
	sg_strlist email;
	sg_strlist github;
	sg_strlist gitlab;
	sg_strlist gerrit;
	sg_strlist key;
} sg_person;

typedef struct sg_policy {
	/* [gate] */
	sg_strlist protected_branch;   /* globs over branch names (main, release/<glob>) */
	char *remote;                  /* NULL = judge against refs/heads/ */
	int first_parent;              /* default 1 */
	int required_reviews;          /* default 1 */
	sg_strlist review_source;      /* default: trailers */
	sg_strlist reviewer;           /* globs over emails; empty = anyone */
	int allow_self_review;         /* default 0 */
	sg_strlist signer;             /* globs over email or user:OSUSER; empty = anyone */
	sg_strlist trailer;            /* default: Reviewed-by, Approved-by */
	char *gerrit_notes_ref;        /* default refs/notes/review */
	char *gerrit_label;            /* default Code-Review */
	int gerrit_min_score;          /* default 2 */
	sg_strlist reviewer_key;       /* approvals: allowed OpenPGP fingerprints */
	char *reviewer_keyring;        /* approvals: path of a keyring file in the protected tree */
	int allow_stale_reviews;       /* forges: default 0 */
	char *changes_requested;       /* "block" (default, also when NULL) | "ignore" */
	/* [person "NAME"] */
	sg_person *persons;
	size_t npersons;
	/* [profile "NAME"] */
	sg_profile *profiles;
	size_t nprofiles;
	/* [scan] */
	char *scan_engine;             /* "clamav" (libclamav in-process) | "clamd" */
	char *scan_database;           /* engine = clamav; default /var/lib/clamav */
	char *scan_clamd;              /* engine = clamd: unix:PATH | tcp://HOST:PORT;
	                                  default unix:/run/clamav/clamd.ctl */
	int scan_clamd_timeout;        /* engine = clamd: seconds for a whole scan, default 600 */
	int scan_required;             /* default 1 */
	unsigned long long scan_max_file_size; /* default 4 GiB - 1 (clamav clamps at ~2 GiB: larger => exit 4) */
	/* [revoked "SHA256"] */
	sg_revocation *revoked;
	size_t nrevoked;
	/* [release] */
	char *tag_pattern;             /* default v* */
	int release_archive;           /* default 0 */
	sg_strlist release_artifact;
	int require_note;              /* default 1 */
	char *tag_profile;             /* profile for `git tag -s` (default: first production cms) */
	char *release_name;            /* NAME in NAME-TAG.tar.gz (default: the work tree's folder) */
	char *release_out_dir;         /* where the tag hook writes, relative to the work tree (default dist) */
	/* [forge] */
	char *github_api, *github_repository, *gitlab_api, *gitlab_project;
	int forge_timeout;             /* seconds per forge API request, default 15 */
	/* [notes] */
	char *notes_push;              /* remote or NULL */

	/* Where it came from, for the note's Policy: line:
	 * "blob <id> at refs/heads/main" or "file <path> sha256 <hex>". */
	char *origin;
	int from_file;                 /* 1 when --policy / signgate.policyFile */
	char *base_dir;                /* relative paths in the policy resolve against this */
} sg_policy;

/* Load the policy that governs `repo` (policy_file may be NULL).
 * SG_ERROR when git config signgate.policyFile is empty, relative or in
 * the work tree: no working tree may supply the rules. */
int sg_policy_load(sg_policy **out, git_repository *repo, const char *policy_file);
/* Load from a file on disk (display = name used in error messages). */
int sg_policy_load_file(sg_policy **out, const char *path);
/* Load from a blob's content (no includes); origin text given by caller. */
int sg_policy_load_buffer(sg_policy **out, const char *data, size_t len,
			  const char *display, const char *origin, const char *base_dir);
void sg_policy_free(sg_policy *p);

const sg_profile *sg_policy_profile(const sg_policy *p, const char *name);
/* The revocation for a cert digest (hex), or NULL. */
const sg_revocation *sg_policy_revocation(const sg_policy *p, const char *cert_sha256);

/* The person an identity belongs to, or NULL. Identities are written as the
 * gate meets them: an email, "github:LOGIN", "gitlab:LOGIN", "gerrit:ID" or
 * "key:FINGERPRINT" (compared case-insensitively). */
const sg_person *sg_policy_person_find(const sg_policy *p, const char *identity);
/* 1 when gate.changesRequested blocks (the default). */
int sg_policy_changes_requested_blocks(const sg_policy *p);

/* The profile for one artifact (profile_choose.c): `name` when given, else
 * the single profile, else the one whose artifacts globs match `path`
 * (SG_EDENIED when none or several match). path NULL: not a file (git's tag
 * payload), so no artifacts glob applies and `name` is required. */
int sg_profile_choose(const sg_profile **out, const sg_policy *pol, const char *name,
		      const char *path);

/* Parse "2026-11-01T00:00:00Z" (UTC, RFC 3339 with Z) to time_t. */
int sg_time_parse(time_t *out, const char *s);
/* Format as RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" into out[21+]. */
void sg_time_format(char *out, size_t outlen, time_t t);

#endif
