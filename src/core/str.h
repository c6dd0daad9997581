/* Small string helpers (ASCII case folding) that every module shares. */
#ifndef SG_CORE_STR_H
#define SG_CORE_STR_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s is exactly n hexadecimal digits (either case), else 0. */
int sg_str_is_hex(const char *s, size_t n);
/* FNV-1a of the bytes of s (hash tables; not for security). */
uint32_t sg_str_hash(const char *s);
/* Fold s to ASCII lower (or upper) case in place. */
void sg_str_lower(char *s);
void sg_str_upper(char *s);
/* Copy s folded to lower case into out (size bytes, NUL-terminated): 0, or
 * -1 with out untouched when s does not fit. */
int sg_str_lower_copy(char *out, size_t size, const char *s);

#endif
