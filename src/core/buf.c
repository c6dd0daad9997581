#include "core/buf.h"
#include "core/error.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sg_buf_init(sg_buf *b, size_t max)
{
	b->ptr = NULL;
	b->size = b->asize = 0;
	b->max = max;
}

int sg_buf_grow(sg_buf *b, size_t need)
{
	size_t want;
	char *p;

	if (b->max && need > b->max)
		return sg_error_set(SG_ERROR, "input larger than the %zu-byte limit", b->max);
	if (need + 1 <= b->asize)
		return SG_OK;
	want = b->asize ? b->asize : 64;
	while (want < need + 1) {
		if (want > ((size_t)-1) / 2)
			return sg_error_set(SG_ERROR, "out of memory");
		want *= 2;
	}
	p = realloc(b->ptr, want);
	if (!p)
		return sg_error_set(SG_ERROR, "out of memory");
	b->ptr = p;
	b->asize = want;
	return SG_OK;
}

int sg_array_reserve(void **v, size_t *cap, size_t n, size_t first, size_t elem)
{
	size_t nc = *cap ? *cap * 2 : first;
	void *nv;

	if (n < *cap)
		return SG_OK;
	if (nc <= n)
		nc = n + 1;
	if (!elem || nc > ((size_t)-1) / elem || !(nv = realloc(*v, nc * elem)))
		return sg_error_set(SG_ERROR, "out of memory");
	*v = nv;
	*cap = nc;
	return SG_OK;
}

int sg_buf_put(sg_buf *b, const void *data, size_t len)
{
	int err;

	if (len > ((size_t)-1) - b->size - 1)
		return sg_error_set(SG_ERROR, "out of memory");
	/* fast path: room already there (the common case of many small puts) */
	if ((b->size + len + 1 > b->asize || (b->max && b->size + len > b->max)) &&
	    (err = sg_buf_grow(b, b->size + len)) < 0)
		return err;
	if (len)
		memcpy(b->ptr + b->size, data, len);
	b->size += len;
	b->ptr[b->size] = '\0';
	return SG_OK;
}

int sg_buf_puts(sg_buf *b, const char *s)
{
	return sg_buf_put(b, s, strlen(s));
}

int sg_buf_printf(sg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return sg_error_set(SG_ERROR, "format error");
	if ((err = sg_buf_grow(b, b->size + (size_t)n)) < 0)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->size += (size_t)n;
	return SG_OK;
}

void sg_buf_clear(sg_buf *b)
{
	b->size = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

char *sg_buf_detach(sg_buf *b)
{
	char *p;

	if (!b->ptr) {
		if (sg_buf_grow(b, 0) < 0)
			return NULL;
		b->ptr[0] = '\0';  /* an empty buffer detaches as "" */
	}
	p = b->ptr;
	b->ptr = NULL;
	b->size = b->asize = 0;
	return p;
}

void sg_buf_dispose(sg_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->size = b->asize = 0;
}

void sg_buf_dispose_secure(sg_buf *b)
{
	if (b->ptr)
		OPENSSL_cleanse(b->ptr, b->asize);
	sg_buf_dispose(b);
}

void sg_hex(char *out, const unsigned char *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}
