#include "core/str.h"

#include <ctype.h>
#include <string.h>

int sg_str_is_hex(const char *s, size_t n)
{
	return s && strlen(s) == n && strspn(s, "0123456789abcdefABCDEF") == n;
}

uint32_t sg_str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

void sg_str_lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

void sg_str_upper(char *s)
{
	for (; s && *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

int sg_str_lower_copy(char *out, size_t size, const char *s)
{
	size_t len = strlen(s);

	if (len >= size)
		return -1;
	memcpy(out, s, len + 1);
	sg_str_lower(out);
	return 0;
}
