/* RFC 3161 timestamp client over HTTP (core/http.c): URLs tried in order, bounded
 * retries with jittered backoff, connect/total timeouts, response size cap,
 * NOPROXY for loopback; nonce, imprint and the TSA chain verified before a
 * token is returned. */
#ifndef SG_TSA_TSA_H
#define SG_TSA_TSA_H

#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/strlist.h"

typedef struct sg_tsa_config {
	const sg_strlist *urls;
	const char *trust_anchor;     /* PEM file: the TSA's CA (required) */
	long connect_timeout_ms;      /* default 5000 */
	long total_timeout_ms;        /* default 20000 */
	int attempts;                 /* per URL, default 3 */
	size_t max_response;          /* default 256 KiB */
} sg_tsa_config;

typedef struct sg_tsa_token {
	sg_buf token;       /* DER TimeStampToken (a CMS ContentInfo) */
	sg_buf response;    /* DER TimeStampResp as received (for FILE.asc.tsr) */
	time_t gen_time;
	char gen_time_text[32];  /* RFC 3339 UTC */
	char *url;          /* the TSA that answered */
} sg_tsa_token;

/* Timestamp SHA-256(data). SG_OK with *out filled, or SG_ERROR whose
 * message lists each TSA and what it answered. */
int sg_tsa_stamp(sg_tsa_token *out, const sg_tsa_config *cfg,
		 const unsigned char *data, size_t len);
void sg_tsa_token_release(sg_tsa_token *t);

/* Verify a DER TimeStampToken (token=1) or TimeStampResp (token=0) over
 * `data` against the CA file; return its genTime. SG_EVERIFY on failure. */
int sg_tsa_verify(time_t *gen_time, const unsigned char *der, size_t len, int is_token,
		  const unsigned char *data, size_t dlen, const char *trust_anchor);

#endif
