#include "core/http.h"

#define SG_HTTP_OPT(opt, val)                                  \
	do {                                                   \
		if (curl_easy_setopt(c, opt, val) != CURLE_OK) \
			return #opt;                           \
	} while (0)

const char *sg_http_harden(CURL *c, const char *url, long connect_ms, long total_ms)
{
	SG_HTTP_OPT(CURLOPT_URL, url);
	SG_HTTP_OPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SG_HTTP_OPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SG_HTTP_OPT(CURLOPT_FOLLOWLOCATION, 0L);
	SG_HTTP_OPT(CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
	SG_HTTP_OPT(CURLOPT_NOSIGNAL, 1L);
	SG_HTTP_OPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	SG_HTTP_OPT(CURLOPT_TIMEOUT_MS, total_ms);
	SG_HTTP_OPT(CURLOPT_USERAGENT, "signgate/" SG_VERSION);
	return NULL;
}
