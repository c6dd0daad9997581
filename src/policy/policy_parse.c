/* Policy content -> sg_policy: libgit2 parses (from a private temp file,
 * there is no parse-from-buffer in 1.5), this file validates every entry
 * against the allowed sections and keys and fills in the defaults. */
#include "policy/policy_int.h"
#include "core/error.h"
#include "core/git.h"
#include "core/suggest.h"
#include "core/str.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum kind { K_STR, K_PATH, K_BOOL, K_INT, K_SIZE, K_LIST };

struct pctx;
typedef int (*check_fn)(struct pctx *c, const char *v);

struct keydef {
	const char *name;  /* canonical camelCase */
	enum kind kind;
	size_t off;
	check_fn check;    /* optional value check (after the kind's own) */
};

struct pctx {
	const char *display;
	const char *data;  /* the policy's text, to quote a key as it was written */
	size_t len;
	const char *base_dir;
	int from_blob;     /* relative paths would read the working tree: refused */
	sg_policy *p;
	/* the entry being handled, for messages (canonical camelCase once known) */
	const char *fullname;
	char pretty[512];
	unsigned line;
	unsigned long gate_seen, scan_seen, release_seen, forge_seen, notes_seen;
	unsigned long *profile_seen;
	unsigned *profile_line;
	unsigned long *revoked_seen;
	unsigned *revoked_line;
};

__attribute__((format(printf, 2, 3)))
static int perr(struct pctx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->line)
		return sg_error_set(SG_ERROR, "%s:%u: %s", c->display, c->line, msg);
	return sg_error_set(SG_ERROR, "%s: %s", c->display, msg);
}

/* ---- value checks ---- */

static int check_format(struct pctx *c, const char *v)
{
	if (strcmp(v, "cms") == 0 || strcmp(v, "openpgp") == 0)
		return SG_OK;
	return perr(c, "%s = '%s': the format must be cms or openpgp", c->fullname, v);
}

static int check_review_source(struct pctx *c, const char *v)
{
	static const char *const ok[] = { "trailers", "gerrit", "approvals", "github", "gitlab" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(v, ok[i]) == 0)
			return SG_OK;
	return perr(c, "%s = '%s': a review source must be one of trailers, gerrit, approvals, github, gitlab",
		    c->fullname, v);
}

static int check_url(struct pctx *c, const char *v)
{
	if (strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0)
		return SG_OK;
	return perr(c, "%s = '%s' is not an http(s) URL; write e.g. https://tsa.example/", c->fullname, v);
}

static int check_ref(struct pctx *c, const char *v)
{
	int valid = 0;

	/* both keys that take a ref name a notes ref */
	if (strncmp(v, "refs/notes/", 11) != 0 || git_reference_name_is_valid(&valid, v) < 0 || !valid)
		return perr(c, "%s = '%s' is not a valid notes ref name; write e.g. refs/notes/signatures",
			    c->fullname, v);
	return SG_OK;
}

/* A folder inside the work tree: relative, without "..". */
static int check_subdir(struct pctx *c, const char *v)
{
	const char *p = v;

	if (v[0] == '/')
		return perr(c, "%s = '%s' must be a folder inside the work tree (a relative path)",
			    c->fullname, v);
	for (; *p; p += strcspn(p, "/"), p += *p == '/')
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return perr(c, "%s = '%s' must stay inside the work tree (no '..')", c->fullname, v);
	return SG_OK;
}

static int check_name(struct pctx *c, const char *v)
{
	if (strchr(v, '/') || !strcmp(v, ".") || !strcmp(v, ".."))
		return perr(c, "%s = '%s' must be a plain name, without '/'", c->fullname, v);
	return SG_OK;
}

static int check_remote(struct pctx *c, const char *v)
{
	int valid = 0;

	/* libgit2 accepts "--upload-pack=x": a remote is handed to git commands */
	if (v[0] == '-' || git_remote_name_is_valid(&valid, v) < 0 || !valid)
		return perr(c, "%s = '%s' is not a valid remote name", c->fullname, v);
	return SG_OK;
}

static int check_fingerprint(struct pctx *c, const char *v)
{
	if (sg_str_is_hex(v, 40) || sg_str_is_hex(v, 64))
		return SG_OK;
	return perr(c, "%s = '%s' is not an OpenPGP fingerprint (40 or 64 hex digits, no spaces); "
		    "key ids are not accepted", c->fullname, v);
}

static int check_changes_requested(struct pctx *c, const char *v)
{
	if (strcmp(v, "block") == 0 || strcmp(v, "ignore") == 0)
		return SG_OK;
	return perr(c, "%s = '%s': write block (an outstanding \"changes requested\" denies) or ignore",
		    c->fullname, v);
}

static int check_trailer(struct pctx *c, const char *v)
{
	const char *s;

	for (s = v; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return perr(c, "%s = '%s' is not a trailer key (letters, digits and '-', e.g. Reviewed-by)",
				    c->fullname, v);
	return SG_OK;
}

static int check_engine(struct pctx *c, const char *v)
{
	if (strcmp(v, "clamav") == 0 || strcmp(v, "clamd") == 0)
		return SG_OK;
	return perr(c, "%s = '%s': the scan engine is clamav (libclamav in-process) or clamd "
		    "(the ClamAV daemon)", c->fullname, v);
}

/* unix:/ABSOLUTE/PATH (fits a sockaddr_un) or tcp://HOST:PORT (HOST a
 * name, an IPv4 address or [IPv6]; PORT 1..65535). */
static int check_clamd(struct pctx *c, const char *v)
{
	const char *host, *colon;
	char *end = NULL;
	long port;

	if (!strncmp(v, "unix:", 5)) {
		if (v[5] == '/' && strlen(v + 5) < 108)
			return SG_OK;
		return perr(c, "%s = '%s': unix: needs an absolute socket path under 108 bytes "
			    "(unix:/run/clamav/clamd.ctl)", c->fullname, v);
	}
	if (!strncmp(v, "tcp://", 6)) {
		host = v + 6;
		colon = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
		if (colon && host[0] == '[')
			colon++;
		if (colon && colon > host + (host[0] == '[' ? 2 : 0) && !strpbrk(host, "/ ") &&
		    (host[0] == '[' || memchr(host, ':', (size_t)(colon - host)) == NULL)) {
			errno = 0;
			port = strtol(colon + 1, &end, 10);
			if (colon[1] && !*end && errno == 0 && port >= 1 && port <= 65535)
				return SG_OK;
		}
		return perr(c, "%s = '%s': tcp:// needs HOST:PORT with a port from 1 to 65535 "
			    "(tcp://127.0.0.1:3310, tcp://[::1]:3310)", c->fullname, v);
	}
	return perr(c, "%s = '%s': the clamd address is unix:PATH or tcp://HOST:PORT", c->fullname, v);
}

static int check_abs(struct pctx *c, const char *v)
{
	if (v[0] == '/')
		return SG_OK;
	return perr(c, "%s = '%s' must be an absolute path (a relative library path would be searched)",
		    c->fullname, v);
}

static int check_github_repo(struct pctx *c, const char *v)
{
	const char *slash = strchr(v, '/');

	if (slash && slash != v && slash[1] && !strchr(slash + 1, '/'))
		return SG_OK;
	return perr(c, "%s = '%s' must be owner/name", c->fullname, v);
}

/* Called after the value parsed as a non-negative integer. */
static int check_min1(struct pctx *c, const char *v)
{
	if (strtol(v, NULL, 10) >= 1)
		return SG_OK;
	return perr(c, "%s = %s: must be at least 1", c->fullname, v);
}

/* ---- key tables ---- */

#define G(f) offsetof(sg_policy, f)
#define P(f) offsetof(sg_profile, f)

static const struct keydef gate_keys[] = {
	{ "protectedBranch", K_LIST, G(protected_branch), NULL },
	{ "remote", K_STR, G(remote), check_remote },
	{ "firstParent", K_BOOL, G(first_parent), NULL },
	{ "requiredReviews", K_INT, G(required_reviews), NULL },
	{ "reviewSource", K_LIST, G(review_source), check_review_source },
	{ "reviewer", K_LIST, G(reviewer), NULL },
	{ "allowSelfReview", K_BOOL, G(allow_self_review), NULL },
	{ "signer", K_LIST, G(signer), NULL },
	{ "trailer", K_LIST, G(trailer), check_trailer },
	{ "gerritNotesRef", K_STR, G(gerrit_notes_ref), check_ref },
	{ "gerritLabel", K_STR, G(gerrit_label), check_trailer },
	{ "gerritMinScore", K_INT, G(gerrit_min_score), check_min1 },
	{ "reviewerKey", K_LIST, G(reviewer_key), check_fingerprint },
	{ "reviewerKeyring", K_PATH, G(reviewer_keyring), NULL },
	{ "allowStaleReviews", K_BOOL, G(allow_stale_reviews), NULL },
	{ "changesRequested", K_STR, G(changes_requested), check_changes_requested },
	{ NULL, 0, 0, NULL }
};

static const struct keydef scan_keys[] = {
	{ "engine", K_STR, G(scan_engine), check_engine },
	{ "database", K_PATH, G(scan_database), NULL },
	{ "clamd", K_STR, G(scan_clamd), check_clamd },
	{ "clamdTimeout", K_INT, G(scan_clamd_timeout), check_min1 },
	{ "required", K_BOOL, G(scan_required), NULL },
	{ "maxFileSize", K_SIZE, G(scan_max_file_size), NULL },
	{ NULL, 0, 0, NULL }
};

static const struct keydef release_keys[] = {
	{ "tagPattern", K_STR, G(tag_pattern), NULL },
	{ "archive", K_BOOL, G(release_archive), NULL },
	{ "artifact", K_LIST, G(release_artifact), NULL },
	{ "requireNote", K_BOOL, G(require_note), NULL },
	{ "tagProfile", K_STR, G(tag_profile), NULL },
	{ "name", K_STR, G(release_name), check_name },
	{ "outDir", K_STR, G(release_out_dir), check_subdir },
	{ NULL, 0, 0, NULL }
};

static const struct keydef forge_keys[] = {
	{ "githubApi", K_STR, G(github_api), check_url },
	{ "githubRepository", K_STR, G(github_repository), check_github_repo },
	{ "gitlabApi", K_STR, G(gitlab_api), check_url },
	{ "gitlabProject", K_STR, G(gitlab_project), NULL },
	{ "timeout", K_INT, G(forge_timeout), check_min1 },
	{ NULL, 0, 0, NULL }
};

static const struct keydef notes_keys[] = {
	{ "push", K_STR, G(notes_push), check_remote },
	{ NULL, 0, 0, NULL }
};

static const struct keydef profile_keys[] = {
	{ "format", K_STR, P(format), check_format },
	{ "key", K_STR, P(key), NULL },
	{ "pkcs11Module", K_STR, P(pkcs11_module), check_abs },
	{ "cert", K_PATH, P(cert), NULL },
	{ "chain", K_PATH, P(chain), NULL },
	{ "trustAnchor", K_PATH, P(trust_anchor), NULL },
	{ "requireHardwareKey", K_BOOL, P(require_hardware_key), NULL },
	{ "tsa", K_LIST, P(tsa), check_url },
	{ "tsaTrustAnchor", K_PATH, P(tsa_trust_anchor), NULL },
	{ "requireTimestamp", K_BOOL, P(require_timestamp), NULL },
	{ "test", K_BOOL, P(test), NULL },
	{ "artifacts", K_LIST, P(artifacts), NULL },
	{ "allowedKey", K_LIST, P(allowed_key), check_fingerprint },
	{ "notesRef", K_STR, P(notes_ref), check_ref },
	{ "certExpiryWarnDays", K_INT, P(cert_expiry_warn_days), NULL },
	{ "maxKeyAgeDays", K_INT, P(max_key_age_days), NULL },
	{ "tsaTimeout", K_INT, P(tsa_timeout), check_min1 },
	{ "tsaAttempts", K_INT, P(tsa_attempts), check_min1 },
	{ NULL, 0, 0, NULL }
};

#undef G
#undef P

static int key_index(const struct keydef *t, const char *key)
{
	int i;

	for (i = 0; t[i].name; i++)
		if (strcasecmp(t[i].name, key) == 0)
			return i;
	return -1;
}

/* The key on the current line as the policy spells it (libgit2 hands
 * keys over lower-cased); `key` itself when the line does not start with it. */
static void written_key(const struct pctx *c, const char *key, char *out, size_t outsz)
{
	const char *p = c->data, *end = c->data ? c->data + c->len : NULL;
	size_t klen = strlen(key);
	unsigned line = 1;

	snprintf(out, outsz, "%s", key);
	if (!p || !c->line)
		return;
	while (p < end && line < c->line)
		if (*p++ == '\n')
			line++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) >= klen && strncasecmp(p, key, klen) == 0 &&
	    (p + klen == end || !isalnum((unsigned char)p[klen])) && klen < outsz)
		snprintf(out, outsz, "%.*s", (int)klen, p);
}

/* "unknown key X in [SECTION]; did you mean Y?": the closest valid key in
 * its canonical spelling, as git's "did you mean". */
static int unknown_key(struct pctx *c, const struct keydef *t, const char *key, const char *section)
{
	char written[128];
	const char *best = NULL;
	size_t i, d, bestd = (size_t)-1;

	written_key(c, key, written, sizeof(written));
	for (i = 0; t[i].name; i++) {
		d = sg_edit_distance(key, t[i].name);
		if (d < bestd && sg_suggestable(key, t[i].name)) {
			bestd = d;
			best = t[i].name;
		}
	}
	if (best)
		return perr(c, "unknown key %s in %s; did you mean %s? (keys: signgate-policy(5))",
			    written, section, best);
	return perr(c, "unknown key %s in %s; check the spelling (keys: signgate-policy(5))",
		    written, section);
}

/* ---- values ---- */

static int parse_nonneg_int(struct pctx *c, const char *v, int *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)v[0]))
		goto bad;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n > INT_MAX)
		goto bad;
	*out = (int)n;
	return SG_OK;
bad:
	return perr(c, "%s = '%s' is not a non-negative integer; write a number such as 2", c->fullname, v);
}

static int parse_size(struct pctx *c, const char *v, unsigned long long *out)
{
	unsigned long long n, mul = 1;
	char *end;

	if (!isdigit((unsigned char)v[0]))
		goto bad;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		goto bad;
	if (*end) {
		switch (tolower((unsigned char)*end)) {
		case 'k': mul = 1ULL << 10; break;
		case 'm': mul = 1ULL << 20; break;
		case 'g': mul = 1ULL << 30; break;
		default: goto bad;
		}
		if (end[1])
			goto bad;
	}
	if (n > ULLONG_MAX / mul)
		goto bad;
	*out = n * mul;
	return SG_OK;
bad:
	return perr(c, "%s = '%s' is not a size in bytes (a non-negative integer, optional k, m or g suffix)",
		    c->fullname, v);
}

static int parse_bool(struct pctx *c, const char *v, int *out)
{
	if (!v) { /* "key" alone means true, as in git */
		*out = 1;
		return SG_OK;
	}
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1")) {
		*out = 1;
		return SG_OK;
	}
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcmp(v, "0")) {
		*out = 0;
		return SG_OK;
	}
	return perr(c, "%s = '%s' is not a boolean; write true or false", c->fullname, v);
}

static int resolve_path(struct pctx *c, const char *v, char **out)
{
	char *s;

	if (v[0] == '~')
		return perr(c, "%s = '%s': '~' is not expanded; write an absolute path or one relative to %s",
			    c->fullname, v, c->base_dir);
	if (v[0] == '/')
		s = strdup(v);
	else if (c->from_blob && strcmp(c->fullname, "gate.reviewerKeyring") == 0)
		s = strdup(v); /* a path in the protected branch's tree, read from the policy's commit */
	else if (c->from_blob)
		return perr(c, "%s = '%s' is relative; in a committed policy it would be read from the "
			    "working tree, which a feature branch controls: write an absolute path",
			    c->fullname, v);
	else if (asprintf(&s, "%s/%s", c->base_dir, v) < 0)
		s = NULL;
	if (!s)
		return sg_error_set(SG_ERROR, "out of memory");
	*out = s;
	return SG_OK;
}

/* Store one entry into `base` (a policy or a profile) per its keydef. */
static int apply(struct pctx *c, void *base, const struct keydef *kd, unsigned long *seen,
		 int idx, const char *v)
{
	char *field = (char *)base + kd->off;
	char *copy = NULL;
	int ret;

	if (kd->kind != K_LIST) {
		if (*seen & (1UL << idx))
			return perr(c, "%s is set twice; it takes one value, remove one of them", c->fullname);
		*seen |= 1UL << idx;
	}
	if (kd->kind == K_BOOL)
		return parse_bool(c, v, (int *)field);
	if (!v)
		return perr(c, "%s has no value; write %s = VALUE", c->fullname, kd->name);
	if (v[0] == '\0')
		return perr(c, "%s is empty; give it a value or remove the line", c->fullname);
	switch (kd->kind) {
	case K_INT:
		if ((ret = parse_nonneg_int(c, v, (int *)field)) < 0)
			return ret;
		return kd->check ? kd->check(c, v) : SG_OK;
	case K_SIZE:
		return parse_size(c, v, (unsigned long long *)field);
	case K_LIST:
		if (kd->check && (ret = kd->check(c, v)) < 0)
			return ret;
		return sg_strlist_add((sg_strlist *)field, v);
	case K_PATH:
		if ((ret = resolve_path(c, v, &copy)) < 0)
			return ret;
		break;
	default:
		if (kd->check && (ret = kd->check(c, v)) < 0)
			return ret;
		if (!(copy = strdup(v)))
			return sg_error_set(SG_ERROR, "out of memory");
		break;
	}
	*(char **)field = copy;
	return SG_OK;
}

static int simple_section(struct pctx *c, const char *sec, const char *key, const char *v)
{
	const struct keydef *t;
	unsigned long *seen;
	int idx;

	if (!strcmp(sec, "gate")) {
		t = gate_keys;
		seen = &c->gate_seen;
	} else if (!strcmp(sec, "scan")) {
		t = scan_keys;
		seen = &c->scan_seen;
	} else if (!strcmp(sec, "release")) {
		t = release_keys;
		seen = &c->release_seen;
	} else if (!strcmp(sec, "forge")) {
		t = forge_keys;
		seen = &c->forge_seen;
	} else {
		t = notes_keys;
		seen = &c->notes_seen;
	}
	if ((idx = key_index(t, key)) < 0) {
		snprintf(c->pretty, sizeof(c->pretty), "[%s]", sec);
		return unknown_key(c, t, key, c->pretty);
	}
	snprintf(c->pretty, sizeof(c->pretty), "%s.%s", sec, t[idx].name);
	c->fullname = c->pretty;
	return apply(c, c->p, &t[idx], seen, idx, v);
}

static int grow(void **arr, size_t n, size_t size)
{
	void *v = realloc(*arr, (n + 1) * size);

	if (!v)
		return sg_error_set(SG_ERROR, "out of memory");
	memset((char *)v + n * size, 0, size);
	*arr = v;
	return SG_OK;
}

static int profile_entry(struct pctx *c, const char *name, const char *key, const char *v)
{
	sg_policy *p = c->p;
	size_t i;
	int idx, ret;

	if ((idx = key_index(profile_keys, key)) < 0) {
		snprintf(c->pretty, sizeof(c->pretty), "[profile \"%s\"]", name);
		return unknown_key(c, profile_keys, key, c->pretty);
	}
	for (i = 0; i < p->nprofiles; i++)
		if (strcmp(p->profiles[i].name, name) == 0)
			break;
	if (i == p->nprofiles) {
		if ((ret = grow((void **)&p->profiles, p->nprofiles, sizeof(*p->profiles))) < 0 ||
		    (ret = grow((void **)&c->profile_seen, p->nprofiles, sizeof(*c->profile_seen))) < 0 ||
		    (ret = grow((void **)&c->profile_line, p->nprofiles, sizeof(*c->profile_line))) < 0)
			return ret;
		if (!(p->profiles[i].name = strdup(name)))
			return sg_error_set(SG_ERROR, "out of memory");
		c->profile_line[i] = c->line;
		p->nprofiles++;
	}
	if (strcasecmp(key, "key") == 0)
		c->profile_line[i] = c->line; /* key checks are reported on its line */
	snprintf(c->pretty, sizeof(c->pretty), "profile.%s.%s", name, profile_keys[idx].name);
	c->fullname = c->pretty;
	return apply(c, &p->profiles[i], &profile_keys[idx], &c->profile_seen[i], idx, v);
}

static int revoked_entry(struct pctx *c, const char *sub, const char *key, const char *v)
{
	sg_policy *p = c->p;
	char hex[65];
	size_t i;
	int ret, which;

	if (!sg_str_is_hex(sub, 64) && !sg_str_is_hex(sub, 40))
		return perr(c, "[revoked \"%s\"]: the subsection must be the certificate's SHA-256 "
			    "(64 hex digits) or an OpenPGP key fingerprint (40 or 64)", sub);
	(void)sg_str_lower_copy(hex, sizeof(hex), sub); /* fits: 40 or 64 hex digits */
	if (!strcasecmp(key, "since"))
		which = 0;
	else if (!strcasecmp(key, "reason"))
		which = 1;
	else
		return perr(c, "unknown key %s in [revoked \"%s\"]; a revocation has since and reason", key, sub);
	for (i = 0; i < p->nrevoked; i++)
		if (strcmp(p->revoked[i].cert_sha256, hex) == 0)
			break;
	if (i == p->nrevoked) {
		if ((ret = grow((void **)&p->revoked, p->nrevoked, sizeof(*p->revoked))) < 0 ||
		    (ret = grow((void **)&c->revoked_seen, p->nrevoked, sizeof(*c->revoked_seen))) < 0 ||
		    (ret = grow((void **)&c->revoked_line, p->nrevoked, sizeof(*c->revoked_line))) < 0)
			return ret;
		if (!(p->revoked[i].cert_sha256 = strdup(hex)))
			return sg_error_set(SG_ERROR, "out of memory");
		c->revoked_line[i] = c->line;
		p->nrevoked++;
	}
	if (c->revoked_seen[i] & (1UL << which))
		return perr(c, "%s is set twice; it takes one value, remove one of them", c->fullname);
	c->revoked_seen[i] |= 1UL << which;
	if (!v || !v[0])
		return perr(c, "%s has no value", c->fullname);
	if (which == 0) {
		if (sg_time_parse(&p->revoked[i].since, v) < 0)
			return perr(c, "%s = '%s' is not an RFC 3339 UTC time; write e.g. 2026-11-01T00:00:00Z",
				    c->fullname, v);
		if (!(p->revoked[i].since_text = strdup(v)))
			return sg_error_set(SG_ERROR, "out of memory");
	} else if (!(p->revoked[i].reason = strdup(v))) {
		return sg_error_set(SG_ERROR, "out of memory");
	}
	return SG_OK;
}

static int person_entry(struct pctx *c, const char *name, const char *key, const char *v)
{
	char why[700];
	int ret = sg_policy__person_set(c->p, name, key, v, why, sizeof(why));

	return ret == SG_ENOTFOUND ? perr(c, "%s", why) : ret;
}

/* Split the normalised name "section[.sub].key" and dispatch. */
static int entry(struct pctx *c, const git_config_entry *e)
{
	const char *name = e->name;
	const char *first = strchr(name, '.'), *last = strrchr(name, '.');
	char sec[32], *sub = NULL;
	size_t seclen;
	int ret;

	if (!first || first == name)
		return perr(c, "%s is outside any section; put it under its section header, e.g. [gate]", name);
	seclen = (size_t)(first - name);
	if (seclen >= sizeof(sec))
		return perr(c, "unknown section [%.*s]; allowed: gate, person \"NAME\", profile \"NAME\", scan, "
			    "revoked \"SHA256\", release, forge, notes", (int)seclen, name);
	memcpy(sec, name, seclen);
	sec[seclen] = '\0';
	if (!strcmp(sec, "include") || !strcmp(sec, "includeif") || e->include_depth > 0)
		return perr(c, "%s: includes are not allowed in a policy", name);
	if (first != last && !(sub = strndup(first + 1, (size_t)(last - first - 1))))
		return sg_error_set(SG_ERROR, "out of memory");

	if (!strcmp(sec, "gate") || !strcmp(sec, "scan") || !strcmp(sec, "release") ||
	    !strcmp(sec, "forge") || !strcmp(sec, "notes")) {
		if (sub)
			ret = perr(c, "unknown section [%s \"%s\"]; [%s] takes no subsection", sec, sub, sec);
		else
			ret = simple_section(c, sec, last + 1, e->value);
	} else if (!strcmp(sec, "profile")) {
		if (!sub || !sub[0])
			ret = perr(c, "a profile needs a name: write [profile \"release\"]");
		else
			ret = profile_entry(c, sub, last + 1, e->value);
	} else if (!strcmp(sec, "person")) {
		if (!sub || !sub[0])
			ret = perr(c, "a person needs a name: write [person \"alice\"]");
		else
			ret = person_entry(c, sub, last + 1, e->value);
	} else if (!strcmp(sec, "revoked")) {
		if (!sub)
			ret = perr(c, "a revocation needs the certificate's SHA-256: write [revoked \"<64 hex>\"]");
		else
			ret = revoked_entry(c, sub, last + 1, e->value);
	} else {
		ret = perr(c, "unknown section [%s]; allowed: gate, person \"NAME\", profile \"NAME\", scan, "
			   "revoked \"SHA256\", release, forge, notes", sec);
	}
	free(sub);
	return ret;
}

/* ---- defaults and whole-policy checks ---- */

static int set_default(char **field, const char *v)
{
	if (*field)
		return SG_OK;
	if (!(*field = strdup(v)))
		return sg_error_set(SG_ERROR, "out of memory");
	return SG_OK;
}

static int seen(unsigned long mask, const struct keydef *t, const char *name)
{
	return (mask & (1UL << key_index(t, name))) != 0;
}

static int finish_profile(struct pctx *c, size_t i)
{
	sg_profile *pr = &c->p->profiles[i];
	unsigned long m = c->profile_seen[i];
	int ret;

	c->line = c->profile_line[i];
	if (!pr->key)
		return perr(c, "profile \"%s\" has no key; add key = pkcs11:..., file:PATH or an OpenPGP fingerprint",
			    pr->name);
	if ((ret = set_default(&pr->format, "cms")) < 0 ||
	    (ret = set_default(&pr->pkcs11_module, "/usr/lib/softhsm/libsofthsm2.so")) < 0 ||
	    (ret = set_default(&pr->notes_ref, "refs/notes/signatures")) < 0)
		return ret;
	if (!seen(m, profile_keys, "requireHardwareKey"))
		pr->require_hardware_key = !pr->test;
	if (!seen(m, profile_keys, "requireTimestamp"))
		pr->require_timestamp = !pr->test;
	if (!seen(m, profile_keys, "certExpiryWarnDays"))
		pr->cert_expiry_warn_days = 30;
	if (!seen(m, profile_keys, "tsaTimeout"))
		pr->tsa_timeout = 20;
	if (!seen(m, profile_keys, "tsaAttempts"))
		pr->tsa_attempts = 3;
	if (strcmp(pr->format, "openpgp") == 0) {
		if (!sg_str_is_hex(pr->key, 40) && !sg_str_is_hex(pr->key, 64))
			return perr(c, "profile \"%s\": an openpgp key must be a fingerprint (40 or 64 hex digits), not '%s'",
				    pr->name, pr->key);
		if (pr->allowed_key.n == 0 && (ret = sg_strlist_add(&pr->allowed_key, pr->key)) < 0)
			return ret;
	} else if (strncmp(pr->key, "pkcs11:", 7) == 0) {
		/* the URI is checked by the signing backend */
	} else if (strncmp(pr->key, "file:", 5) == 0 && pr->key[5]) {
		if (pr->key[5] != '/') {
			char *abs = NULL, *k;
			snprintf(c->pretty, sizeof(c->pretty), "profile.%s.key", pr->name);
			c->fullname = c->pretty;
			if ((ret = resolve_path(c, pr->key + 5, &abs)) < 0)
				return ret;
			ret = asprintf(&k, "file:%s", abs);
			free(abs);
			if (ret < 0)
				return sg_error_set(SG_ERROR, "out of memory");
			free(pr->key);
			pr->key = k;
		}
	} else {
		return perr(c, "profile \"%s\": a cms key must be a pkcs11: URI or file:PATH, not '%s'",
			    pr->name, pr->key);
	}
	return SG_OK;
}

static int finish(struct pctx *c)
{
	sg_policy *p = c->p;
	size_t i;
	int ret;

	c->line = 0;
	if (!seen(c->gate_seen, gate_keys, "firstParent"))
		p->first_parent = 1;
	if (!seen(c->gate_seen, gate_keys, "requiredReviews"))
		p->required_reviews = 1;
	if (!seen(c->gate_seen, gate_keys, "gerritMinScore"))
		p->gerrit_min_score = 2;
	if (!seen(c->scan_seen, scan_keys, "required"))
		p->scan_required = 1;
	if (!seen(c->scan_seen, scan_keys, "maxFileSize"))
		p->scan_max_file_size = 4294967295ULL;
	if (!seen(c->scan_seen, scan_keys, "clamdTimeout"))
		p->scan_clamd_timeout = 600;
	if (!seen(c->release_seen, release_keys, "requireNote"))
		p->require_note = 1;
	if (!seen(c->forge_seen, forge_keys, "timeout"))
		p->forge_timeout = 15;
	if ((p->review_source.n == 0 && (ret = sg_strlist_add(&p->review_source, "trailers")) < 0) ||
	    (p->trailer.n == 0 && ((ret = sg_strlist_add(&p->trailer, "Reviewed-by")) < 0 ||
				   (ret = sg_strlist_add(&p->trailer, "Approved-by")) < 0)) ||
	    (ret = set_default(&p->gerrit_notes_ref, "refs/notes/review")) < 0 ||
	    (ret = set_default(&p->gerrit_label, "Code-Review")) < 0 ||
	    (ret = set_default(&p->scan_engine, "clamav")) < 0 ||
	    (ret = set_default(&p->scan_database, "/var/lib/clamav")) < 0 ||
	    (ret = set_default(&p->scan_clamd, "unix:/run/clamav/clamd.ctl")) < 0 ||
	    (ret = set_default(&p->tag_pattern, "v*")) < 0 ||
	    (ret = set_default(&p->release_out_dir, "dist")) < 0)
		return ret;
	if (p->tag_profile && !sg_policy_profile(p, p->tag_profile))
		return perr(c, "release.tagProfile = '%s' names no [profile] section", p->tag_profile);
	for (i = 0; i < p->nprofiles; i++)
		if ((ret = finish_profile(c, i)) < 0)
			return ret;
	for (i = 0; i < p->nrevoked; i++) {
		c->line = c->revoked_line[i];
		if (!p->revoked[i].since_text)
			return perr(c, "[revoked \"%s\"] has no since; add since = YYYY-MM-DDTHH:MM:SSZ",
				    p->revoked[i].cert_sha256);
		if ((ret = set_default(&p->revoked[i].reason, "")) < 0)
			return ret;
	}
	return SG_OK;
}

/* ---- libgit2 ---- */

/* libgit2 names the temp file in its parse errors: show DISPLAY:LINE instead. */
static int libgit2_error(const char *display, const char *tmp)
{
	const char *msg = sg_git_errmsg();
	const char *at = strstr(msg, tmp);
	unsigned long line = 0;
	size_t prefix;

	if (at && at[strlen(tmp)] == ':')
		line = strtoul(at + strlen(tmp) + 1, NULL, 10);
	prefix = at ? (size_t)(at - msg) : strlen(msg);
	if (prefix >= 5 && strncmp(msg + prefix - 4, "(in ", 4) == 0)
		prefix -= 5;
	if (line)
		return sg_error_set(SG_ERROR, "%s:%lu: not valid git-config syntax: %.*s", display, line,
				    (int)prefix, msg);
	return sg_error_set(SG_ERROR, "%s: not valid git-config syntax: %.*s", display, (int)prefix, msg);
}

/* Write the content to a 0600 file in a fresh 0700 directory, open it with
 * libgit2, take a snapshot, and remove both. */
static int open_config(git_config **out, const char *data, size_t len, const char *display)
{
	const char *tmpdir = getenv("TMPDIR");
	char dir[PATH_MAX], file[PATH_MAX + 16];
	git_config *cfg = NULL, *snap = NULL;
	int fd = -1, ret = SG_ERROR, made = 0, wrote = 0;
	size_t off = 0;
	ssize_t n;

	if (!tmpdir || tmpdir[0] != '/' || strlen(tmpdir) > PATH_MAX - 32)
		tmpdir = "/tmp";
	snprintf(dir, sizeof(dir), "%s/sgpolicy.XXXXXX", tmpdir);
	if (!mkdtemp(dir)) {
		ret = sg_error_set(SG_ERROR, "cannot create a temporary directory in %s: %s; set TMPDIR",
				   tmpdir, strerror(errno));
		goto done;
	}
	made = 1;
	snprintf(file, sizeof(file), "%s/policy", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = sg_error_set(SG_ERROR, "cannot create %s: %s", file, strerror(errno));
		goto done;
	}
	wrote = 1;
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = sg_error_set(SG_ERROR, "cannot write %s: %s", file, strerror(errno));
			goto done;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0) {
		fd = -1;
		ret = sg_error_set(SG_ERROR, "cannot write %s: %s", file, strerror(errno));
		goto done;
	}
	fd = -1;
	if (git_config_open_ondisk(&cfg, file) < 0 || git_config_snapshot(&snap, cfg) < 0) {
		ret = libgit2_error(display, file);
		goto done;
	}
	*out = snap;
	snap = NULL;
	ret = SG_OK;
done:
	if (fd >= 0)
		close(fd);
	if (wrote)
		unlink(file);
	if (made)
		rmdir(dir);
	git_config_free(snap);
	git_config_free(cfg);
	return ret;
}

static int walk(struct pctx *c, git_config *cfg, sg_policy_rawscan *raw)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	int ret, gr;

	if (git_config_iterator_new(&it, cfg) < 0) {
		ret = sg_error_set(SG_ERROR, "%s: cannot read the policy: %s", c->display,
				   sg_git_errmsg());
		goto done;
	}
	while ((gr = git_config_next(&e, it)) == 0) {
		const sg_policy_rawkey *rk = sg_policy__rawscan_find(raw, e->name);
		c->fullname = e->name;
		c->line = rk ? rk->line : 0;
		if (rk && rk->glued_comment) {
			ret = perr(c, "%s: a ';' or '#' inside the value starts a comment, so git-config reads only "
				   "'%s'; put the whole value in double quotes", e->name, e->value ? e->value : "");
			goto done;
		}
		if (rk && rk->open_quote) {
			ret = perr(c, "%s: the value has a '\"' that is never closed; git refuses such a file",
				   e->name);
			goto done;
		}
		if ((ret = entry(c, e)) < 0)
			goto done;
	}
	if (gr != GIT_ITEROVER) {
		ret = sg_error_set(SG_ERROR, "%s: cannot read the policy: %s", c->display,
				   sg_git_errmsg());
		goto done;
	}
	ret = SG_OK;
done:
	git_config_iterator_free(it);
	return ret;
}

int sg_policy__parse(sg_policy **out, const char *data, size_t len,
		     const char *display, const char *origin,
		     const char *base_dir, int from_file)
{
	struct pctx c;
	sg_policy_rawscan raw = { NULL, 0 };
	git_config *cfg = NULL;
	sg_policy *p = NULL;
	int ret = SG_ERROR, inited = 0;

	memset(&c, 0, sizeof(c));
	c.display = display;
	c.data = data;
	c.len = len;
	c.base_dir = base_dir;
	c.from_blob = !from_file;
	if (len > SG_POLICY_MAX_SIZE) {
		ret = sg_error_set(SG_ERROR, "%s: the policy is %zu bytes, more than the %d-byte limit",
				   display, len, SG_POLICY_MAX_SIZE);
		goto done;
	}
	if (!base_dir || base_dir[0] != '/') {
		ret = sg_error_set(SG_ERROR, "%s: the policy's base directory must be absolute", display);
		goto done;
	}
	if ((ret = sg_policy__refuse_includes(data, len, display)) < 0 ||
	    (ret = sg_policy__rawscan(&raw, data, len)) < 0)
		goto done;
	if (git_libgit2_init() < 0) {
		ret = sg_error_set(SG_ERROR, "cannot initialise libgit2");
		goto done;
	}
	inited = 1;
	if ((ret = open_config(&cfg, data, len, display)) < 0)
		goto done;
	if (!(p = calloc(1, sizeof(*p)))) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	c.p = p;
	if ((ret = walk(&c, cfg, &raw)) < 0 || (ret = finish(&c)) < 0)
		goto done;
	if (!(p->origin = strdup(origin)) || !(p->base_dir = strdup(base_dir))) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	p->from_file = from_file;
	*out = p;
	p = NULL;
	ret = SG_OK;
done:
	sg_policy_free(p);
	free(c.profile_seen);
	free(c.profile_line);
	free(c.revoked_seen);
	free(c.revoked_line);
	git_config_free(cfg);
	if (inited)
		git_libgit2_shutdown();
	sg_policy__rawscan_release(&raw);
	return ret;
}
