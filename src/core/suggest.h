/* "Did you mean": the closest name to a typo, as git's help.c does. */
#ifndef SG_CORE_SUGGEST_H
#define SG_CORE_SUGGEST_H

#include <stddef.h>

/* Case-insensitive edit distance between a and b (insertions, deletions,
 * substitutions and swaps of adjacent letters each cost 1). Words longer
 * than 64 characters compare as far apart. */
size_t sg_edit_distance(const char *a, const char *b);

/* 1 when `candidate` is close enough to `typo` to suggest it. */
int sg_suggestable(const char *typo, const char *candidate);

#endif
