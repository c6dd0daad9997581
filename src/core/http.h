/* HTTP for signgate (forge review sources, RFC 3161 timestamps): the one
 * module that uses libcurl. libcurl is loaded (dlopen of the soname built
 * against) when the first request or URL helper needs it, not at start-up:
 * linking it pulls ~25 libraries into every run of every command, and
 * `check`, `verify`, `log` never touch the network unless a forge is asked.
 * A libcurl that cannot be loaded then is an error (SG_ERROR, message set),
 * never a skipped request. */
#ifndef SG_CORE_HTTP_H
#define SG_CORE_HTTP_H

#include "core/buf.h"

#include <stddef.h>

#define SG_HTTP_KEEP_MAX 8

typedef struct sg_http_req {
	const char *url;
	const char *const *headers;   /* "Name: value" lines, NULL-terminated; NULL for none */
	const void *post;             /* POST these bytes; NULL: GET */
	size_t post_len;
	const char *bearer;           /* token for "Authorization: Bearer" (this host only); NULL for none */
	long connect_ms, total_ms;
	size_t max_response;          /* a larger body aborts the transfer (SG_HTTP_OVERSIZE) */
	const char *const *keep;      /* response headers to return, NULL-terminated, at most SG_HTTP_KEEP_MAX */
} sg_http_req;

/* How a transfer ended when no HTTP answer arrived. */
typedef enum sg_http_fail {
	SG_HTTP_OK = 0,               /* an answer arrived: see status */
	SG_HTTP_TIMEOUT,              /* connected, then the total timeout ran out */
	SG_HTTP_CONNECT_TIMEOUT,      /* the connect timeout ran out */
	SG_HTTP_CONNECT,              /* cannot connect: os_errno */
	SG_HTTP_RESOLVE,
	SG_HTTP_DROPPED,              /* send/receive error, empty or partial answer */
	SG_HTTP_OVERSIZE,             /* body over max_response */
	SG_HTTP_NOMEM,
	SG_HTTP_PROTOCOL,             /* not http or https */
	SG_HTTP_OTHER                 /* detail says what */
} sg_http_fail;

typedef struct sg_http_resp {
	sg_http_fail fail;
	long status;                  /* HTTP status when fail == SG_HTTP_OK */
	long os_errno;                /* SG_HTTP_CONNECT */
	char *content_type;           /* owned; NULL when absent */
	char *kept[SG_HTTP_KEEP_MAX]; /* values of req->keep (owned), NULL when absent */
	char detail[256];             /* libcurl's message, printable ASCII only */
} sg_http_resp;

/* Load libcurl and initialise it, once per process. SG_ERROR with a
 * message naming the library when it cannot be loaded. */
int sg_http_load(void);
/* One request with every signgate request's settings: http(s) only, no
 * redirects, loopback never through a proxy, no signals, connect and total
 * timeouts, peer and host verified, a User-Agent, the response capped. The
 * body goes to `body` (cleared first). SG_OK when the transfer was tried
 * (resp->fail says how it ended); SG_ERROR (message set) when libcurl is
 * missing or refused an option, or out of memory. */
int sg_http_perform(sg_http_resp *resp, const sg_http_req *req, sg_buf *body);
void sg_http_resp_release(sg_http_resp *resp);

/* The URL without user:password (for messages and notes); the URL itself
 * when it does not parse. *out is malloc'd. */
int sg_http_url_public(char **out, const char *url);
/* 1 when both URLs parse and have the same scheme, host and port. */
int sg_http_same_origin(const char *a, const char *b);
/* 1 when the URL's host is 127.0.0.1, localhost or [::1]. */
int sg_http_is_loopback(const char *url);
/* One URL path segment, percent-encoded (caller frees). */
int sg_http_escape(char **out, const char *s);

#endif
