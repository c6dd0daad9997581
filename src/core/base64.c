/* Base64 through OpenSSL; decoding refuses anything but the canonical form. */
#include "core/base64.h"
#include "core/error.h"

#include <limits.h>
#include <openssl/evp.h>

int sg_base64_encode(sg_buf *out, const void *in, size_t len)
{
	size_t need = 4 * ((len + 2) / 3);
	int err, n;

	if (len > (size_t)INT_MAX / 2)
		return sg_error_set(SG_ERROR, "base64: %zu bytes is too much to encode", len);
	if ((err = sg_buf_grow(out, out->size + need + 1)) < 0)
		return err;
	n = EVP_EncodeBlock((unsigned char *)out->ptr + out->size, in, (int)len);
	out->size += (size_t)n;
	out->ptr[out->size] = '\0';
	return SG_OK;
}

static int b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int sg_base64_decode(sg_buf *out, const char *in, size_t len)
{
	size_t i, pad = 0, start = out->size;
	int err, n;

	if (len % 4 != 0 || len > (size_t)INT_MAX)
		return sg_error_set(SG_ERROR, "base64: length %zu is not a multiple of 4", len);
	if (len && in[len - 1] == '=')
		pad = len >= 2 && in[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++)
		if (!b64_char((unsigned char)in[i]))
			return sg_error_set(SG_ERROR, "base64: invalid character at offset %zu", i);
	if ((err = sg_buf_grow(out, start + len / 4 * 3 + 1)) < 0)
		return err;
	n = EVP_DecodeBlock((unsigned char *)out->ptr + start, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad)
		return sg_error_set(SG_ERROR, "base64: not valid base64");
	out->size = start + (size_t)n - pad;
	out->ptr[out->size] = '\0';
	return SG_OK;
}
