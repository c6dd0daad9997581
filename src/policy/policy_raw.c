/* A small scan of the policy's raw text. libgit2 1.5 gives config entries
 * no line number and follows include.path while it opens a file, so this
 * runs first: it refuses includes and records where each key was written.
 * The line numbers are only for messages; libgit2 stays the parser. */
#include "policy/policy_int.h"
#include "core/error.h"
#include "core/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sg_policy__refuse_includes(const char *data, size_t len, const char *display)
{
	unsigned line = 1;
	size_t i, j;

	for (i = 0; i < len; i++) {
		if (data[i] == '\0')
			return sg_error_set(SG_ERROR,
				"%s:%u: the policy contains a NUL byte; it must be a text file in git-config syntax",
				display, line);
		if (data[i] == '\n') {
			line++;
			continue;
		}
		if (data[i] != '[')
			continue;
		/* Conservative on purpose: any "[ include..." anywhere, even
		 * inside a value, is refused rather than parsed. */
		for (j = i + 1; j < len && (data[j] == ' ' || data[j] == '\t'); j++)
			;
		if (len - j >= 7 && strncasecmp(data + j, "include", 7) == 0)
			return sg_error_set(SG_ERROR,
				"%s:%u: include sections ([include] / [includeIf]) are not allowed in a policy; "
				"copy the rules into the policy itself", display, line);
	}
	return SG_OK;
}

static int rawscan_add(sg_policy_rawscan *s, const char *sec, const char *sub,
		       const char *key, size_t keylen, unsigned line)
{
	sg_policy_rawkey *v = realloc(s->keys, (s->n + 1) * sizeof(*v));
	sg_policy_rawkey *k;

	if (!v)
		return sg_error_set(SG_ERROR, "out of memory");
	s->keys = v;
	k = &v[s->n];
	memset(k, 0, sizeof(*k));
	k->section = strdup(sec ? sec : "");
	k->sub = sub ? strdup(sub) : NULL;
	k->key = strndup(key, keylen);
	k->line = line;
	s->n++;
	if (!k->section || (sub && !k->sub) || !k->key)
		return sg_error_set(SG_ERROR, "out of memory");
	return SG_OK;
}

/* Parse "[name]", "[name.sub]" or "[name "sub"]" at data[*pos] == '['.
 * On a malformed header the rest of the line is skipped (libgit2 reports it). */
static int scan_header(const char *d, size_t len, size_t *pos, char **sec, char **sub)
{
	size_t i = *pos + 1, start;
	char *name = NULL, *s = NULL, *dot;
	size_t sl = 0;

	start = i;
	while (i < len && d[i] != ']' && d[i] != ' ' && d[i] != '\t' && d[i] != '\n')
		i++;
	name = strndup(d + start, i - start);
	if (!name)
		return sg_error_set(SG_ERROR, "out of memory");
	while (i < len && (d[i] == ' ' || d[i] == '\t'))
		i++;
	if (i < len && d[i] == '"') {
		s = malloc(len - i + 1);
		if (!s) {
			free(name);
			return sg_error_set(SG_ERROR, "out of memory");
		}
		for (i++; i < len && d[i] != '"' && d[i] != '\n'; i++) {
			if (d[i] == '\\' && i + 1 < len && d[i + 1] != '\n')
				i++;
			s[sl++] = d[i];
		}
		s[sl] = '\0';
		if (i < len && d[i] == '"')
			i++;
	} else if ((dot = strchr(name, '.')) != NULL) {
		*dot = '\0';
		s = strdup(dot + 1);
		if (!s) {
			free(name);
			return sg_error_set(SG_ERROR, "out of memory");
		}
		sg_str_lower(s);
	}
	if (i < len && d[i] == ']')
		i++;
	else
		while (i < len && d[i] != '\n')
			i++;
	free(*sec);
	free(*sub);
	*sec = name;
	*sub = s;
	*pos = i;
	return SG_OK;
}

/* Skip a value after a key: quotes, escapes, comments, continuations.
 * Returns bit 1 when a comment character is glued to the value ("a;b"),
 * which git-config reads as "a" -- e.g. an unquoted PKCS#11 URI; bit 2 when
 * a quote is left open at the end of the line (git refuses the file,
 * libgit2 1.5 reads on). */
static int skip_value(const char *d, size_t len, size_t *pos, unsigned *line)
{
	size_t i = *pos;
	int quoted = 0, glued = 0, invalue = 0;

	while (i < len && d[i] != '\n') {
		if (d[i] == '\\' && i + 1 < len) {
			if (d[i + 1] == '\n')
				(*line)++;
			else if (d[i + 1] == '\r' && i + 2 < len && d[i + 2] == '\n') {
				(*line)++;
				i++;
			}
			i += 2;
			continue;
		}
		if (d[i] == '"')
			quoted = !quoted;
		else if (!quoted && (d[i] == '#' || d[i] == ';')) {
			if (invalue && i > 0 && d[i - 1] != ' ' && d[i - 1] != '\t' && d[i - 1] != '=' &&
			    d[i - 1] != '"')
				glued = 1;
			while (i < len && d[i] != '\n')
				i++;
			break;
		} else if (d[i] == '=') {
			invalue = 1;
		}
		i++;
	}
	*pos = i;
	return glued | (quoted ? 2 : 0);
}

int sg_policy__rawscan(sg_policy_rawscan *out, const char *d, size_t len)
{
	sg_policy_rawscan s = { NULL, 0 };
	char *sec = NULL, *sub = NULL;
	unsigned line = 1;
	size_t i = 0, start;
	int ret = SG_ERROR, f;

	while (i < len) {
		char c = d[i];
		if (c == ' ' || c == '\t' || c == '\r') {
			i++;
		} else if (c == '\n') {
			line++;
			i++;
		} else if (c == '#' || c == ';') {
			while (i < len && d[i] != '\n')
				i++;
		} else if (c == '[') {
			if ((ret = scan_header(d, len, &i, &sec, &sub)) < 0)
				goto done;
		} else if (isalpha((unsigned char)c)) {
			start = i;
			while (i < len && (isalnum((unsigned char)d[i]) || d[i] == '-'))
				i++;
			if ((ret = rawscan_add(&s, sec, sub, d + start, i - start, line)) < 0)
				goto done;
			f = skip_value(d, len, &i, &line);
			s.keys[s.n - 1].glued_comment = f & 1;
			s.keys[s.n - 1].open_quote = (f & 2) != 0;
		} else {
			while (i < len && d[i] != '\n')
				i++;
		}
	}
	*out = s;
	s.keys = NULL;
	s.n = 0;
	ret = SG_OK;
done:
	free(sec);
	free(sub);
	sg_policy__rawscan_release(&s);
	return ret;
}

const sg_policy_rawkey *sg_policy__rawscan_find(sg_policy_rawscan *s, const char *name)
{
	const char *first = strchr(name, '.');
	const char *last = strrchr(name, '.');
	size_t i, seclen, sublen;

	if (!first) { /* a key before any section header */
		for (i = 0; i < s->n; i++)
			if (!s->keys[i].used && !s->keys[i].section[0] && !strcasecmp(s->keys[i].key, name)) {
				s->keys[i].used = 1;
				return &s->keys[i];
			}
		return NULL;
	}
	seclen = (size_t)(first - name);
	sublen = first == last ? 0 : (size_t)(last - first - 1);
	for (i = 0; i < s->n; i++) {
		sg_policy_rawkey *k = &s->keys[i];
		if (k->used || strlen(k->section) != seclen ||
		    strncasecmp(k->section, name, seclen) != 0 ||
		    strcasecmp(k->key, last + 1) != 0)
			continue;
		if (first == last ? k->sub != NULL :
		    (!k->sub || strlen(k->sub) != sublen || strncmp(k->sub, first + 1, sublen) != 0))
			continue;
		k->used = 1;
		return k;
	}
	return NULL;
}

void sg_policy__rawscan_release(sg_policy_rawscan *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->keys[i].section);
		free(s->keys[i].sub);
		free(s->keys[i].key);
	}
	free(s->keys);
	s->keys = NULL;
	s->n = 0;
}
