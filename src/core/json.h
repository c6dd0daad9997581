/* jansson values made from signgate's plain data, shared by the JSON
 * output of the commands and the attestation statement. */
#ifndef SG_CORE_JSON_H
#define SG_CORE_JSON_H

#include <jansson.h>

#include "core/strlist.h"

/* A JSON string, or null for NULL. */
json_t *sg_json_str_or_null(const char *s);
/* A JSON string, or null for NULL and "". */
json_t *sg_json_nonempty_or_null(const char *s);
/* A JSON array of the list's strings (NULL when out of memory). */
json_t *sg_json_strlist(const sg_strlist *l);

#endif
