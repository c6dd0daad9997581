#include "core/suggest.h"

#include <ctype.h>
#include <string.h>

#define SG_SUGGEST_MAX 64

size_t sg_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[SG_SUGGEST_MAX + 1][SG_SUGGEST_MAX + 1];

	if (la > SG_SUGGEST_MAX || lb > SG_SUGGEST_MAX)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int ai = tolower((unsigned char)a[i - 1]), bj = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ai != bj);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == bj && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

int sg_suggestable(const char *typo, const char *candidate)
{
	size_t dist = sg_edit_distance(typo, candidate), len = strlen(typo);

	/* a third of the word may be wrong, and never more than 4 edits */
	return dist > 0 && dist <= 4 && dist * 3 <= len + 2;
}
