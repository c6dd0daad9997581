/* [person "NAME"] sections: one human, every identity they use. Each value
 * is checked as it is read (a full fingerprint, an email, a login, a Gerrit
 * account id) and no identity may belong to two persons. */
#include "policy/policy_int.h"
#include "core/error.h"
#include "core/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SG_IDENT_MAX 254

enum person_kind { PK_EMAIL, PK_GITHUB, PK_GITLAB, PK_GERRIT, PK_KEY, PK_N };

static const char *const kind_key[PK_N] = { "email", "github", "gitlab", "gerrit", "key" };
/* the prefix an identity carries when the gate meets it (email: none) */
static const char *const kind_prefix[PK_N] = { "", "github:", "gitlab:", "gerrit:", "key:" };

static sg_strlist *kind_list(sg_person *pe, enum person_kind k)
{
	sg_strlist *const lists[PK_N] = { &pe->email, &pe->github, &pe->gitlab, &pe->gerrit, &pe->key };

	return lists[k];
}

static int all(const char *s, int (*ok)(int))
{
	for (; *s; s++)
		if (!ok((unsigned char)*s))
			return 0;
	return 1;
}

static int login_char(int ch)
{
	return isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '[' || ch == ']'; /* bots: name[bot] */
}

static int email_ok(const char *v)
{
	const char *at = strchr(v, '@');
	const char *s;

	if (!at || at == v || !at[1] || strchr(at + 1, '@'))
		return 0;
	for (s = v; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s) || strchr("<>,\"", *s))
			return 0;
	return 1;
}

/* Refuse a value that does not have its kind's shape; why set. */
static int shape_ok(enum person_kind k, const char *v, char *why, size_t n)
{
	size_t len = strlen(v);

	if (!len || len > SG_IDENT_MAX) {
		snprintf(why, n, "is empty or longer than %d characters", SG_IDENT_MAX);
		return 0;
	}
	switch (k) {
	case PK_EMAIL:
		if (email_ok(v))
			return 1;
		snprintf(why, n, "is not an email address (write alice@example.com, without a name or <>)");
		return 0;
	case PK_GITHUB:
	case PK_GITLAB:
		if (all(v, login_char))
			return 1;
		snprintf(why, n, "is not a %s login (letters, digits, '-', '_', '.', [])", k == PK_GITHUB ? "GitHub" : "GitLab");
		return 0;
	case PK_GERRIT:
		if (all(v, isdigit) && len <= 12)
			return 1;
		snprintf(why, n, "is not a Gerrit account id (its number, e.g. 1000042)");
		return 0;
	default:
		if ((len == 40 || len == 64) && all(v, isxdigit))
			return 1;
		snprintf(why, n, "is not a full OpenPGP fingerprint (40 or 64 hex digits, no spaces); key ids are "
			 "not accepted");
		return 0;
	}
}

static const sg_person *owner_of(const sg_policy *p, enum person_kind k, const char *v)
{
	size_t i;

	for (i = 0; i < p->npersons; i++)
		if (sg_strlist_contains(kind_list(&p->persons[i], k), v, 1))
			return &p->persons[i];
	return NULL;
}

static sg_person *person_get(sg_policy *p, const char *name)
{
	sg_person *v;
	size_t i;

	for (i = 0; i < p->npersons; i++)
		if (strcmp(p->persons[i].name, name) == 0)
			return &p->persons[i];
	if (!(v = realloc(p->persons, (p->npersons + 1) * sizeof(*v))))
		return NULL;
	p->persons = v;
	memset(&v[p->npersons], 0, sizeof(*v));
	if (!(v[p->npersons].name = strdup(name)))
		return NULL;
	return &v[p->npersons++];
}

int sg_policy__person_set(sg_policy *p, const char *name, const char *key, const char *value, char *why,
			  size_t whylen)
{
	char norm[SG_IDENT_MAX + 1], shape[200];
	const sg_person *other;
	sg_person *pe;
	int k;

	for (k = 0; k < PK_N && strcasecmp(key, kind_key[k]) != 0; k++)
		;
	if (k == PK_N) {
		snprintf(why, whylen, "unknown key %s in [person \"%s\"]; a person has email, github, gitlab, gerrit "
			 "and key", key, name);
		return SG_ENOTFOUND;
	}
	if (!value || !shape_ok(k, value, shape, sizeof(shape))) {
		snprintf(why, whylen, "person.%s.%s = '%s' %s", name, kind_key[k], value ? value : "",
			 value ? shape : "has no value");
		return SG_ENOTFOUND;
	}
	memcpy(norm, value, strlen(value) + 1); /* shape_ok: at most SG_IDENT_MAX */
	if (k == PK_KEY)
		sg_str_upper(norm);
	else
		sg_str_lower(norm);
	other = owner_of(p, k, norm);
	if (other && strcmp(other->name, name) != 0) {
		snprintf(why, whylen, "person.%s.%s = '%s' is already an identity of [person \"%s\"]; one identity "
			 "belongs to one person", name, kind_key[k], value, other->name);
		return SG_ENOTFOUND;
	}
	if (!(pe = person_get(p, name)))
		return sg_error_set(SG_ERROR, "out of memory");
	return other ? SG_OK : sg_strlist_add(kind_list(pe, k), norm);
}

void sg_policy__persons_free(sg_policy *p)
{
	size_t i;
	int k;

	for (i = 0; i < p->npersons; i++) {
		for (k = 0; k < PK_N; k++)
			sg_strlist_release(kind_list(&p->persons[i], k));
		free(p->persons[i].name);
	}
	free(p->persons);
	p->persons = NULL;
	p->npersons = 0;
}

const sg_person *sg_policy_person_find(const sg_policy *p, const char *identity)
{
	size_t len;
	int k;

	if (!p || !identity)
		return NULL;
	for (k = PK_N - 1; k > PK_EMAIL; k--) {
		len = strlen(kind_prefix[k]);
		if (strncasecmp(identity, kind_prefix[k], len) == 0)
			return owner_of(p, k, identity + len);
	}
	return owner_of(p, PK_EMAIL, identity);
}

int sg_policy_changes_requested_blocks(const sg_policy *p)
{
	return !p->changes_requested || strcmp(p->changes_requested, "block") == 0;
}
