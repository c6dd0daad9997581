/* The libcurl settings every signgate request has, in one place. */
#ifndef SG_CORE_HTTP_H
#define SG_CORE_HTTP_H

#include <curl/curl.h>

/* http(s) only, no redirects, loopback never through a proxy, no signals,
 * connect and total timeouts, a User-Agent. NULL on success, else the name
 * of the option libcurl refused. */
const char *sg_http_harden(CURL *c, const char *url, long connect_ms, long total_ms);

#endif
