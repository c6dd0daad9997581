/* A list of owned strings (multi-valued policy keys, reviewer lists). */
#ifndef SG_CORE_STRLIST_H
#define SG_CORE_STRLIST_H

#include <stddef.h>

typedef struct sg_strlist {
	char **v;
	size_t n;
} sg_strlist;

#define SG_STRLIST_INIT { NULL, 0 }

int sg_strlist_add(sg_strlist *l, const char *s);
/* Add unless an equal string (case-insensitive when `icase`) is present. */
int sg_strlist_add_unique(sg_strlist *l, const char *s, int icase);
int sg_strlist_contains(const sg_strlist *l, const char *s, int icase);
/* 1 when any glob in the list matches `s` (fnmatch; FNM_CASEFOLD when icase). */
int sg_strlist_match(const sg_strlist *l, const char *s, int icase);
void sg_strlist_release(sg_strlist *l);

#endif
