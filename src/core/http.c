#include "core/http.h"
#include "core/dl.h"
#include "core/error.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef SG_CURL_SONAME
#error "SG_CURL_SONAME (libcurl's soname) is set by the Makefile"
#endif
_Static_assert(sizeof(SG_CURL_SONAME) > 1, "the Makefile found no soname for libcurl");

#ifndef SG_VERSION
#define SG_VERSION "dev"
#endif

/* The libcurl functions signgate uses, resolved from the loaded library. */
static struct {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_header) *easy_header;
	__typeof__(curl_easy_escape) *easy_escape;
	__typeof__(curl_free) *free;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_url) *url;
	__typeof__(curl_url_set) *url_set;
	__typeof__(curl_url_get) *url_get;
	__typeof__(curl_url_cleanup) *url_cleanup;
} cu;

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static int http_ready;
static char http_why[512];

/* Under pthread_once. */
static void http_load_once(void)
{
	const sg_dl_sym syms[] = {
		{ "curl_global_init", &cu.global_init },
		{ "curl_easy_init", &cu.easy_init },
		{ "curl_easy_setopt", &cu.easy_setopt },
		{ "curl_easy_perform", &cu.easy_perform },
		{ "curl_easy_getinfo", &cu.easy_getinfo },
		{ "curl_easy_cleanup", &cu.easy_cleanup },
		{ "curl_easy_strerror", &cu.easy_strerror },
		{ "curl_easy_header", &cu.easy_header },
		{ "curl_easy_escape", &cu.easy_escape },
		{ "curl_free", &cu.free },
		{ "curl_slist_append", &cu.slist_append },
		{ "curl_slist_free_all", &cu.slist_free_all },
		{ "curl_url", &cu.url },
		{ "curl_url_set", &cu.url_set },
		{ "curl_url_get", &cu.url_get },
		{ "curl_url_cleanup", &cu.url_cleanup },
	};
	CURLcode rc;

	if (sg_dl_bind(SG_CURL_SONAME, syms, sizeof(syms) / sizeof(syms[0]), http_why, sizeof(http_why)) < 0)
		return;
	if ((rc = cu.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		snprintf(http_why, sizeof(http_why), "curl_global_init: %s", cu.easy_strerror(rc));
		return;
	}
	http_ready = 1;
}

int sg_http_load(void)
{
	pthread_once(&http_once, http_load_once);
	if (http_ready)
		return SG_OK;
	return sg_error_set(SG_ERROR, "cannot load libcurl, which HTTP (forge review sources, timestamp "
			    "authorities) needs: %s; install Debian's libcurl4", http_why);
}

/* Text a server or libcurl controls, printable and bounded. */
static void http_clean(char *dst, size_t n, const char *src)
{
	size_t i, o = 0;

	for (i = 0; src && src[i] && o + 1 < n; i++)
		dst[o++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[o] = '\0';
}

struct http_sink {
	sg_buf *body;
	size_t max;
	int oversize;
};

static size_t http_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_sink *s = ud;
	size_t n = size * nmemb;

	if (n > s->max - s->body->size) {
		s->oversize = 1;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	return sg_buf_put(s->body, ptr, n) < 0 ? 0 : n;
}

#define HTTP_OPT(opt, val)                                        \
	do {                                                      \
		if (cu.easy_setopt(c, opt, val) != CURLE_OK)      \
			return #opt;                              \
	} while (0)

/* Every request's settings; NULL, else the option libcurl refused. */
static const char *http_harden(CURL *c, const sg_http_req *req, struct curl_slist *hdr,
			       struct http_sink *sink, char *errbuf)
{
	HTTP_OPT(CURLOPT_URL, req->url);
	HTTP_OPT(CURLOPT_PROTOCOLS_STR, "http,https");
	HTTP_OPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	HTTP_OPT(CURLOPT_FOLLOWLOCATION, 0L);
	HTTP_OPT(CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
	HTTP_OPT(CURLOPT_NOSIGNAL, 1L);
	HTTP_OPT(CURLOPT_CONNECTTIMEOUT_MS, req->connect_ms);
	HTTP_OPT(CURLOPT_TIMEOUT_MS, req->total_ms);
	HTTP_OPT(CURLOPT_USERAGENT, "signgate/" SG_VERSION);
	HTTP_OPT(CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_OPT(CURLOPT_SSL_VERIFYHOST, 2L);
	HTTP_OPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_response);
	HTTP_OPT(CURLOPT_WRITEFUNCTION, http_write);
	HTTP_OPT(CURLOPT_WRITEDATA, sink);
	HTTP_OPT(CURLOPT_ERRORBUFFER, errbuf);
	if (hdr)
		HTTP_OPT(CURLOPT_HTTPHEADER, hdr);
	if (req->post) {
		HTTP_OPT(CURLOPT_POST, 1L);
		HTTP_OPT(CURLOPT_POSTFIELDS, (const char *)req->post);
		HTTP_OPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->post_len);
	} else {
		HTTP_OPT(CURLOPT_HTTPGET, 1L);
	}
	if (req->bearer) {
		/* curl builds "Authorization: Bearer TOKEN" and sends it to this host only */
		HTTP_OPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		HTTP_OPT(CURLOPT_XOAUTH2_BEARER, req->bearer);
	}
	return NULL;
}

static sg_http_fail http_failure(sg_http_resp *resp, CURL *c, CURLcode rc, const struct http_sink *sink)
{
	curl_off_t connected = 0;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		cu.easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected);
		return connected > 0 ? SG_HTTP_TIMEOUT : SG_HTTP_CONNECT_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		cu.easy_getinfo(c, CURLINFO_OS_ERRNO, &resp->os_errno);
		return SG_HTTP_CONNECT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return SG_HTTP_RESOLVE;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return SG_HTTP_DROPPED;
	case CURLE_FILESIZE_EXCEEDED:
		return SG_HTTP_OVERSIZE;
	case CURLE_WRITE_ERROR:
		return sink->oversize ? SG_HTTP_OVERSIZE : SG_HTTP_NOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return SG_HTTP_PROTOCOL;
	default:
		return SG_HTTP_OTHER;
	}
}

static int http_dup(char **out, const char *s)
{
	if (s && !(*out = strdup(s)))
		return sg_error_set(SG_ERROR, "out of memory");
	return SG_OK;
}

/* Status, content type and the headers asked for, from a completed transfer. */
static int http_answer(sg_http_resp *resp, CURL *c, const sg_http_req *req)
{
	struct curl_header *h;
	char *ct = NULL;
	size_t i;
	int err;

	cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	cu.easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if ((err = http_dup(&resp->content_type, ct)) < 0)
		return err;
	for (i = 0; req->keep && req->keep[i] && i < SG_HTTP_KEEP_MAX; i++) {
		h = NULL;
		if (cu.easy_header(c, req->keep[i], 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h &&
		    (err = http_dup(&resp->kept[i], h->value)) < 0)
			return err;
	}
	return SG_OK;
}

static int http_headers(struct curl_slist **out, const char *const *lines)
{
	struct curl_slist *h;
	size_t i;

	for (i = 0; lines && lines[i]; i++) {
		if (!(h = cu.slist_append(*out, lines[i])))
			return sg_error_set(SG_ERROR, "out of memory");
		*out = h;
	}
	return SG_OK;
}

int sg_http_perform(sg_http_resp *resp, const sg_http_req *req, sg_buf *body)
{
	struct http_sink sink = { body, req->max_response, 0 };
	struct curl_slist *hdr = NULL;
	char errbuf[CURL_ERROR_SIZE];
	const char *refused;
	CURL *c = NULL;
	CURLcode rc;
	int ret;

	memset(resp, 0, sizeof(*resp));
	errbuf[0] = '\0';
	sg_buf_clear(body);
	if ((ret = sg_http_load()) < 0)
		return ret;
	if (!(c = cu.easy_init()))
		return sg_error_set(SG_ERROR, "cannot initialise libcurl");
	if ((ret = http_headers(&hdr, req->headers)) < 0)
		goto done;
	if ((refused = http_harden(c, req, hdr, &sink, errbuf)) != NULL) {
		ret = sg_error_set(SG_ERROR, "libcurl refused option %s", refused);
		goto done;
	}
	rc = cu.easy_perform(c);
	if (rc != CURLE_OK) {
		resp->fail = http_failure(resp, c, rc, &sink);
		http_clean(resp->detail, sizeof(resp->detail), errbuf[0] ? errbuf : cu.easy_strerror(rc));
		ret = SG_OK;
		goto done;
	}
	ret = http_answer(resp, c, req);
done:
	if (ret < 0)
		sg_http_resp_release(resp);
	cu.easy_cleanup(c);
	cu.slist_free_all(hdr);
	return ret;
}

void sg_http_resp_release(sg_http_resp *resp)
{
	size_t i;

	if (!resp)
		return;
	free(resp->content_type);
	for (i = 0; i < SG_HTTP_KEEP_MAX; i++)
		free(resp->kept[i]);
	memset(resp, 0, sizeof(*resp));
}

/* ---- URLs ---- */

int sg_http_url_public(char **out, const char *url)
{
	CURLU *u;
	char *s = NULL, *copy;
	int err;

	if ((err = sg_http_load()) < 0)
		return err;
	u = cu.url();
	if (u && cu.url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    cu.url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    cu.url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    cu.url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
		copy = strdup(s);
	else
		copy = strdup(url);
	cu.free(s);
	cu.url_cleanup(u);
	if (!copy)
		return sg_error_set(SG_ERROR, "out of memory");
	*out = copy;
	return SG_OK;
}

static int url_part(char **out, CURLU *u, CURLUPart what)
{
	return cu.url_get(u, what, out, what == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0) == CURLUE_OK ? 0 : -1;
}

int sg_http_same_origin(const char *a, const char *b)
{
	CURLU *ua, *ub;
	char *sa = NULL, *sb = NULL, *ha = NULL, *hb = NULL, *pa = NULL, *pb = NULL;
	int same = 0;

	if (sg_http_load() < 0)
		return 0;
	ua = cu.url();
	ub = cu.url();
	if (ua && ub && cu.url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
	    cu.url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK &&
	    url_part(&sa, ua, CURLUPART_SCHEME) == 0 && url_part(&sb, ub, CURLUPART_SCHEME) == 0 &&
	    url_part(&ha, ua, CURLUPART_HOST) == 0 && url_part(&hb, ub, CURLUPART_HOST) == 0 &&
	    url_part(&pa, ua, CURLUPART_PORT) == 0 && url_part(&pb, ub, CURLUPART_PORT) == 0)
		same = strcasecmp(sa, sb) == 0 && strcasecmp(ha, hb) == 0 && strcmp(pa, pb) == 0;
	cu.free(sa);
	cu.free(sb);
	cu.free(ha);
	cu.free(hb);
	cu.free(pa);
	cu.free(pb);
	cu.url_cleanup(ua);
	cu.url_cleanup(ub);
	return same;
}

int sg_http_is_loopback(const char *url)
{
	CURLU *u;
	char *host = NULL;
	int yes = 0;

	if (sg_http_load() < 0)
		return 0;
	u = cu.url();
	if (u && cu.url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    cu.url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		yes = !strcmp(host, "127.0.0.1") || !strcasecmp(host, "localhost") || !strcmp(host, "[::1]");
	cu.free(host);
	cu.url_cleanup(u);
	return yes;
}

int sg_http_escape(char **out, const char *s)
{
	char *e, *copy;
	int err;

	if ((err = sg_http_load()) < 0)
		return err;
	if (!(e = cu.easy_escape(NULL, s, 0)))
		return sg_error_set(SG_ERROR, "out of memory");
	copy = strdup(e);
	cu.free(e);
	if (!copy)
		return sg_error_set(SG_ERROR, "out of memory");
	*out = copy;
	return SG_OK;
}
