#include "core/json.h"

json_t *sg_json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *sg_json_nonempty_or_null(const char *s)
{
	return sg_json_str_or_null(s && *s ? s : NULL);
}

json_t *sg_json_strlist(const sg_strlist *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}
