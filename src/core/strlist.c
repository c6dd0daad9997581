#include "core/strlist.h"
#include "core/error.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sg_strlist_add(sg_strlist *l, const char *s)
{
	char **v;
	char *copy = strdup(s);

	if (!copy)
		return sg_error_set(SG_ERROR, "out of memory");
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v) {
		free(copy);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	v[l->n++] = copy;
	l->v = v;
	return SG_OK;
}

int sg_strlist_contains(const sg_strlist *l, const char *s, int icase)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if ((icase ? strcasecmp(l->v[i], s) : strcmp(l->v[i], s)) == 0)
			return 1;
	return 0;
}

int sg_strlist_add_unique(sg_strlist *l, const char *s, int icase)
{
	if (sg_strlist_contains(l, s, icase))
		return SG_OK;
	return sg_strlist_add(l, s);
}

int sg_strlist_match(const sg_strlist *l, const char *s, int icase)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (fnmatch(l->v[i], s, icase ? FNM_CASEFOLD : 0) == 0)
			return 1;
	return 0;
}

void sg_strlist_release(sg_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
