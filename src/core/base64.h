/* Base64 (RFC 4648, standard alphabet, padded, no line breaks) with
 * OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock. */
#ifndef SG_CORE_BASE64_H
#define SG_CORE_BASE64_H

#include <stddef.h>

#include "core/buf.h"

/* Append the encoding of [in, in + len) to out. */
int sg_base64_encode(sg_buf *out, const void *in, size_t len);
/* Append the decoded bytes of `len` base64 characters to out: SG_ERROR
 * unless the text is canonical padded base64 with no whitespace. */
int sg_base64_decode(sg_buf *out, const char *in, size_t len);

#endif
