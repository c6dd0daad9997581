/* Growable byte buffer with an optional hard cap (every input has a size
 * cap). The content is always NUL-terminated for convenience; `size` does
 * not count the NUL. */
#ifndef SG_CORE_BUF_H
#define SG_CORE_BUF_H

#include <stddef.h>

typedef struct sg_buf {
	char *ptr;
	size_t size;  /* bytes used */
	size_t asize; /* bytes allocated */
	size_t max;   /* 0 = no cap; else appending past it fails with SG_ERROR */
} sg_buf;

#define SG_BUF_INIT { NULL, 0, 0, 0 }

void sg_buf_init(sg_buf *b, size_t max);
int sg_buf_grow(sg_buf *b, size_t need);
int sg_buf_put(sg_buf *b, const void *data, size_t len);
int sg_buf_puts(sg_buf *b, const char *s);
int sg_buf_printf(sg_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sg_buf_clear(sg_buf *b);
/* Hand the content to the caller (NUL-terminated, never NULL on success);
 * the buffer is left empty. */
char *sg_buf_detach(sg_buf *b);
/* Free the memory (zeroing it first when `secret`-like use: see sg_buf_dispose_secure). */
void sg_buf_dispose(sg_buf *b);
void sg_buf_dispose_secure(sg_buf *b);

/* Room for element n of the array *v of `elem`-byte elements: nothing when
 * n < *cap, else the capacity doubles (from `first`). SG_ERROR "out of
 * memory" leaves *v and *cap as they were. */
int sg_array_reserve(void **v, size_t *cap, size_t n, size_t first, size_t elem);

/* Lowercase hex of `len` bytes into out (2*len+1 bytes). */
void sg_hex(char *out, const unsigned char *in, size_t len);

#endif
