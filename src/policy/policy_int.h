/* Internal to src/policy: the raw-text scan that gives libgit2's entries a
 * line number and refuses includes before libgit2 ever sees the text. */
#ifndef SG_POLICY_POLICY_INT_H
#define SG_POLICY_POLICY_INT_H

#include <stddef.h>

#include "policy/policy.h"

/* Largest policy accepted (file or blob). */
#define SG_POLICY_MAX_SIZE (1024 * 1024)

/* One `key` occurrence in the raw text, under the section header in force. */
typedef struct sg_policy_rawkey {
	char *section;  /* as written; compared case-insensitively */
	char *sub;      /* NULL when none; old-style [a.b] is lowercased */
	char *key;      /* as written; compared case-insensitively */
	unsigned line;
	int used;
	int glued_comment; /* value;comment or value#comment: likely truncated */
	int open_quote;    /* a '"' left open at the end of the line */
} sg_policy_rawkey;

typedef struct sg_policy_rawscan {
	sg_policy_rawkey *keys;
	size_t n;
} sg_policy_rawscan;

/* Refuse NUL bytes and any include section header ([include], [includeIf
 * ...], any case, anywhere): SG_ERROR "DISPLAY:LINE: ...". */
int sg_policy__refuse_includes(const char *data, size_t len, const char *display);
/* Record every key occurrence with its line. */
int sg_policy__rawscan(sg_policy_rawscan *out, const char *data, size_t len);
/* The next unused occurrence of the normalised libgit2 name
 * "section[.sub].key"; NULL when not found. */
const sg_policy_rawkey *sg_policy__rawscan_find(sg_policy_rawscan *s, const char *name);
void sg_policy__rawscan_release(sg_policy_rawscan *s);

/* One `key = value` of [person "name"] (policy_person.c). SG_ENOTFOUND with
 * the reason in `why` when the value is refused (the caller adds FILE:LINE),
 * SG_ERROR when out of memory. */
int sg_policy__person_set(sg_policy *p, const char *name, const char *key, const char *value, char *why,
			  size_t whylen);
void sg_policy__persons_free(sg_policy *p);

/* Parse validated content; takes ownership of nothing. from_file selects
 * the flag stored in the result. */
int sg_policy__parse(sg_policy **out, const char *data, size_t len,
		     const char *display, const char *origin,
		     const char *base_dir, int from_file);

#endif
