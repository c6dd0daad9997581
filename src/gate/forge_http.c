/* Forge API client shared by the github and gitlab review sources: one GET
 * over libcurl (http/https only, no redirects, connect and total timeouts,
 * NOPROXY for loopback, a response size cap), JSON through jansson, Link
 * pagination kept on the API's own origin and capped, and the SHA-256 of
 * every response body kept as evidence for the signing note.
 * Every failure is a denial that says why: the gate cannot vouch for
 * reviews it could not read. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef SG_VERSION
#define SG_VERSION "dev"
#endif

#define FORGE_URL_MAX 2048
#define FORGE_TOKEN_MAX 1024
#define FORGE_ITEMS_MAX 5000
#define FORGE_LINE_MAX 4000

static pthread_once_t forge_curl_once = PTHREAD_ONCE_INIT;
static CURLcode forge_curl_status = CURLE_FAILED_INIT;

static void forge_curl_init(void)
{
	forge_curl_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Text a server controls, made printable and bounded for messages. */
static void forge_clean(char *dst, size_t n, const char *src)
{
	size_t i, o = 0;

	for (i = 0; src && src[i] && o + 1 < n; i++)
		dst[o++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[o] = '\0';
}

static void forge_now(char *out, size_t n, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "%lld", (long long)t);
}

const char *sg_forge_str(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int sg_forge_identity(char *out, size_t n, const char *prefix, const char *login)
{
	size_t i, p = strlen(prefix);

	if (!login || !*login || p + strlen(login) + 1 > n)
		return -1;
	memcpy(out, prefix, p);
	for (i = 0; login[i]; i++) {
		unsigned char ch = (unsigned char)login[i];

		if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.' && ch != '[' && ch != ']')
			return -1;
		out[p + i] = (char)tolower(ch);
	}
	out[p + i] = '\0';
	return 0;
}

int sg_forge_author_id(char *out, size_t n, const char *prefix, const char *login, const char *request,
		       const sg_policy *pol)
{
	if (sg_forge_identity(out, n, prefix, login) == 0)
		return SG_OK;
	out[0] = '\0';
	if (pol->allow_self_review)
		return SG_OK; /* nobody to exclude */
	/* fail closed: an unnamed author could be any reviewer */
	return sg_error_set(SG_EDENIED, "%s names no author login (missing, empty or not a login), so the "
			    "author's own review cannot be told from the others; its reviews do not count "
			    "(gate.allowSelfReview is false)", request);
}

int sg_forge_author(const sg_review_ctx *ctx, const char *prefix, const char *login, const char *role,
		    const char *request)
{
	char who[160];
	int err;

	if ((err = sg_forge_author_id(who, sizeof(who), prefix, login, request, ctx->pol)) < 0)
		return err;
	if (!ctx->authors || !who[0])
		return SG_OK;
	return sg_authors_add(ctx->authors, who, role);
}

int sg_forge_drop(sg_review_list *out, const char *source, const char *who, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sg_review_list_add(out, who, source, why);
}

int sg_forge_line(sg_strlist *ev, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return sg_error_set(SG_ERROR, "out of memory");
	if ((size_t)n > FORGE_LINE_MAX) /* a note value holds at most SG_EVENT_VALUE_MAX bytes */
		memcpy(s + FORGE_LINE_MAX - 6, " (cut)", 7);
	err = sg_strlist_add(ev, s);
	free(s);
	return err;
}

int sg_forge_join(sg_buf *b, const sg_strlist *l)
{
	size_t i;
	int err = SG_OK;

	if (!l->n)
		return sg_buf_puts(b, "none");
	for (i = 0; i < l->n && err == SG_OK; i++)
		err = sg_buf_printf(b, "%s%s", i ? ", " : "", l->v[i]);
	return err;
}

int sg_forge_escape(char **out, const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;

	if (!e)
		return sg_error_set(SG_ERROR, "out of memory");
	copy = strdup(e);
	curl_free(e);
	if (!copy)
		return sg_error_set(SG_ERROR, "out of memory");
	*out = copy;
	return SG_OK;
}

static int url_part(char **out, CURLU *u, CURLUPart what)
{
	return curl_url_get(u, what, out, what == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0) == CURLUE_OK ? 0 : -1;
}

int sg_forge_same_origin(const char *a, const char *b)
{
	CURLU *ua = curl_url(), *ub = curl_url();
	char *sa = NULL, *sb = NULL, *ha = NULL, *hb = NULL, *pa = NULL, *pb = NULL;
	int same = 0;

	if (ua && ub && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
	    curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK &&
	    url_part(&sa, ua, CURLUPART_SCHEME) == 0 && url_part(&sb, ub, CURLUPART_SCHEME) == 0 &&
	    url_part(&ha, ua, CURLUPART_HOST) == 0 && url_part(&hb, ub, CURLUPART_HOST) == 0 &&
	    url_part(&pa, ua, CURLUPART_PORT) == 0 && url_part(&pb, ub, CURLUPART_PORT) == 0)
		same = strcasecmp(sa, sb) == 0 && strcasecmp(ha, hb) == 0 && strcmp(pa, pb) == 0;
	curl_free(sa);
	curl_free(sb);
	curl_free(ha);
	curl_free(hb);
	curl_free(pa);
	curl_free(pb);
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

/* RFC 8288: <URI>; param; rel="next" (rel may list several types). */
static int rel_is_next(const char *p, const char *end)
{
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p)), *v;
		const char *stop = semi ? semi : end;
		size_t n;

		while (p < stop && isspace((unsigned char)*p))
			p++;
		if ((size_t)(stop - p) > 3 && strncasecmp(p, "rel", 3) == 0) {
			v = p + 3;
			while (v < stop && isspace((unsigned char)*v))
				v++;
			if (v < stop && *v == '=') {
				v++;
				while (v < stop && (isspace((unsigned char)*v) || *v == '"'))
					v++;
				while (v < stop && *v != '"') {
					n = 0;
					while (v + n < stop && v[n] != '"' && !isspace((unsigned char)v[n]))
						n++;
					if (n == 4 && strncasecmp(v, "next", 4) == 0)
						return 1;
					v += n;
					while (v < stop && isspace((unsigned char)*v))
						v++;
				}
			}
		}
		p = stop + 1;
	}
	return 0;
}

int sg_forge_link_next(char **out, const char *link)
{
	const char *p = link;

	while (p && *p) {
		const char *lt = strchr(p, '<'), *gt, *end;
		int quoted = 0;

		if (!lt || !(gt = strchr(lt, '>')))
			break;
		/* the parameters run to the next comma outside quotes */
		for (end = gt + 1; *end && (quoted || *end != ','); end++)
			if (*end == '"')
				quoted = !quoted;
		if (rel_is_next(gt + 1, end)) {
			size_t n = (size_t)(gt - lt - 1);

			if (n == 0 || n > FORGE_URL_MAX)
				return SG_ENOTFOUND;
			if (!(*out = strndup(lt + 1, n)))
				return sg_error_set(SG_ERROR, "out of memory");
			return SG_OK;
		}
		p = *end ? end + 1 : end;
	}
	return SG_ENOTFOUND;
}

static int is_loopback_url(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int yes = 0;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		yes = !strcmp(host, "127.0.0.1") || !strcasecmp(host, "localhost") || !strcmp(host, "[::1]");
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

int sg_forge_init(sg_forge *f, const char *name, const char *base, const char *token_env,
		  const sg_policy *pol, sg_strlist *evidence)
{
	const char *tok = getenv(token_env);
	size_t n;

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->evidence = evidence;
	f->connect_ms = SG_FORGE_CONNECT_MS;
	f->total_ms = 1000L * (pol->forge_timeout > 0 ? pol->forge_timeout : SG_FORGE_TIMEOUT_S);
	if (f->connect_ms > f->total_ms)
		f->connect_ms = f->total_ms;
	f->max_response = SG_FORGE_MAX_RESPONSE;
	f->max_pages = SG_FORGE_MAX_PAGES;
	pthread_once(&forge_curl_once, forge_curl_init);
	if (forge_curl_status != CURLE_OK)
		return sg_error_set(SG_ERROR, "cannot initialise libcurl: %s", curl_easy_strerror(forge_curl_status));
	if (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0)
		return sg_error_set(SG_EDENIED, "the %s API URL %.200s is not http(s)", name, base);
	n = strlen(base);
	if (n > FORGE_URL_MAX / 2)
		return sg_error_set(SG_EDENIED, "the %s API URL is longer than %d characters", name, FORGE_URL_MAX / 2);
	while (n && base[n - 1] == '/')
		n--;
	if (!(f->base = strndup(base, n)))
		return sg_error_set(SG_ERROR, "out of memory");
	if (tok && *tok) {
		if (strlen(tok) > FORGE_TOKEN_MAX || strpbrk(tok, "\r\n \t")) {
			sg_forge_release(f);
			return sg_error_set(SG_EDENIED, "%s holds no usable token (whitespace or over %d bytes); "
					    "set it to the bare token", token_env, FORGE_TOKEN_MAX);
		}
		if (strncmp(f->base, "http://", 7) == 0 && !is_loopback_url(f->base)) {
			sg_forge_release(f);
			return sg_error_set(SG_EDENIED, "the %s API URL %.200s is plain http: the %s token would "
					    "travel in clear text; use https", name, base, token_env);
		}
		if (!(f->token = strdup(tok))) {
			sg_forge_release(f);
			return sg_error_set(SG_ERROR, "out of memory");
		}
	}
	return SG_OK;
}

void sg_forge_release(sg_forge *f)
{
	if (!f)
		return;
	free(f->base);
	if (f->token) {
		explicit_bzero(f->token, strlen(f->token));
		free(f->token);
	}
	memset(f, 0, sizeof(*f));
}

struct forge_sink {
	sg_buf *body;
	size_t max;
	int oversize;
};

static size_t forge_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct forge_sink *s = ud;
	size_t n = size * nmemb;

	if (n > s->max - s->body->size) {
		s->oversize = 1;
		return 0;
	}
	return sg_buf_put(s->body, ptr, n) < 0 ? 0 : n;
}

static const char *forge_header(CURL *c, const char *name)
{
	struct curl_header *h = NULL;

	if (curl_easy_header(c, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
		return NULL;
	return h->value;
}

/* What a refused answer means, as a denial. */
static int forge_status_denial(sg_forge *f, CURL *c, long status, const char *path, int flags)
{
	const char *rem = forge_header(c, "X-RateLimit-Remaining");
	const char *reset = forge_header(c, "X-RateLimit-Reset");
	const char *retry = forge_header(c, "Retry-After");
	char when[40] = "", shown[160];

	if (!rem)
		rem = forge_header(c, "RateLimit-Remaining");
	if (!reset)
		reset = forge_header(c, "RateLimit-Reset");
	forge_clean(shown, sizeof(shown), path);
	if (status == 429 || (status == 403 && ((rem && isdigit((unsigned char)rem[0]) &&
						 strtol(rem, NULL, 10) == 0) || retry))) {
		if (reset && isdigit((unsigned char)reset[0]))
			forge_now(when, sizeof(when), (time_t)strtoll(reset, NULL, 10));
		else if (retry && isdigit((unsigned char)retry[0]))
			forge_now(when, sizeof(when), time(NULL) + (time_t)strtol(retry, NULL, 10));
		return sg_error_set(SG_EDENIED, "%s API rate limit reached (HTTP %ld on %s)%s%s; the reviews "
				    "cannot be checked now, try again %s", f->name, status, shown,
				    when[0] ? "; it resets at " : "", when, when[0] ? "after the reset" : "later");
	}
	if ((flags & SG_FORGE_OPTIONAL) && (status == 401 || status == 403 || status == 404)) {
		snprintf(f->last_reason, sizeof(f->last_reason), "HTTP %ld on %s", status, shown);
		return SG_ENOTFOUND;
	}
	if (status == 401)
		return sg_error_set(SG_EDENIED, "%s API refused the token (HTTP 401 on %s); check %s", f->name,
				    shown, strcmp(f->name, "GitHub") == 0 ? "GITHUB_TOKEN" : "GITLAB_TOKEN");
	if (status == 403 || status == 404)
		return sg_error_set(SG_EDENIED, "%s API answered HTTP %ld on %s; check the repository setting "
				    "in [forge] and that the token may read it", f->name, status, shown);
	if (status >= 300 && status < 400)
		return sg_error_set(SG_EDENIED, "%s API answered a redirect (HTTP %ld on %s), which signgate "
				    "does not follow; set the API URL to where it points", f->name, status, shown);
	return sg_error_set(SG_EDENIED, "%s API answered HTTP %ld on %s%s; the reviews cannot be checked",
			    f->name, status, shown, status >= 500 ? " (server error)" : "");
}

static int forge_curl_denial(sg_forge *f, CURL *c, CURLcode rc, const char *errbuf,
			     const struct forge_sink *sink, const char *path)
{
	curl_off_t connected = 0;
	char detail[CURL_ERROR_SIZE], shown[160];

	forge_clean(detail, sizeof(detail), errbuf[0] ? errbuf : curl_easy_strerror(rc));
	forge_clean(shown, sizeof(shown), path);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected);
		if (connected > 0)
			return sg_error_set(SG_EDENIED, "%s API timed out after %ld ms on %s; raise forge.timeout "
					    "or try again", f->name, f->total_ms, shown);
		return sg_error_set(SG_EDENIED, "%s API: connect timed out after %ld ms (%s)", f->name,
				    f->connect_ms, shown);
	}
	if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && sink->oversize))
		return sg_error_set(SG_EDENIED, "%s API answer to %s is larger than %zu bytes", f->name, shown,
				    f->max_response);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		return sg_error_set(SG_EDENIED, "%s API: only http and https are allowed (%s)", f->name, shown);
	return sg_error_set(SG_EDENIED, "%s API unreachable on %s: %s", f->name, shown, detail);
}

#define FORGE_SETOPT(opt, val)                                                          \
	do {                                                                            \
		if (curl_easy_setopt(c, opt, val) != CURLE_OK) {                        \
			ret = sg_error_set(SG_ERROR, "libcurl refused option %s", #opt); \
			goto done;                                                      \
		}                                                                       \
	} while (0)

static int forge_evidence(sg_forge *f, const sg_buf *body, const char *path)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1], shown[200];
	sg_buf line = SG_BUF_INIT;
	int err;

	if (!f->evidence)
		return SG_OK;
	if (EVP_Digest(body->ptr ? body->ptr : "", body->size, md, &mdlen, EVP_sha256(), NULL) != 1)
		return sg_error_set_openssl(SG_ERROR, "SHA-256 of a %s API answer failed", f->name);
	sg_hex(hex, md, mdlen);
	forge_clean(shown, sizeof(shown), path);
	if ((err = sg_buf_printf(&line, "Review-Response-Sha256: %s GET %s", hex, shown)) == SG_OK)
		err = sg_strlist_add(f->evidence, line.ptr);
	sg_buf_dispose(&line);
	return err;
}

/* One GET of `url`; on 200 the body and the Link next URL (or NULL). */
static int forge_get_one(sg_forge *f, const char *url, const char *shown, int flags, sg_buf *body, char **next)
{
	CURL *c = NULL;
	struct curl_slist *hdr = NULL, *h;
	struct forge_sink sink = { body, f->max_response, 0 };
	char errbuf[CURL_ERROR_SIZE];
	const char *link, *refused;
	long status = 0;
	CURLcode rc;
	int ret = SG_ERROR;

	errbuf[0] = '\0';
	sg_buf_clear(body);
	*next = NULL;
	if (!f->fetched_at[0])
		forge_now(f->fetched_at, sizeof(f->fetched_at), time(NULL));
	if (!(c = curl_easy_init()))
		return sg_error_set(SG_ERROR, "cannot initialise libcurl");
	if (!(h = curl_slist_append(hdr, strcmp(f->name, "GitHub") == 0 ? "Accept: application/vnd.github+json"
									  : "Accept: application/json"))) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	hdr = h;
	if ((refused = sg_http_harden(c, url, f->connect_ms, f->total_ms)) != NULL) {
		ret = sg_error_set(SG_ERROR, "libcurl refused option %s", refused);
		goto done;
	}
	FORGE_SETOPT(CURLOPT_HTTPGET, 1L);
	FORGE_SETOPT(CURLOPT_HTTPHEADER, hdr);
	FORGE_SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_response);
	FORGE_SETOPT(CURLOPT_WRITEFUNCTION, forge_write);
	FORGE_SETOPT(CURLOPT_WRITEDATA, &sink);
	FORGE_SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	FORGE_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	FORGE_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (f->token) {
		/* curl builds "Authorization: Bearer TOKEN" and sends it to this host only */
		FORGE_SETOPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		FORGE_SETOPT(CURLOPT_XOAUTH2_BEARER, f->token);
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		ret = forge_curl_denial(f, c, rc, errbuf, &sink, shown);
		goto done;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		ret = forge_status_denial(f, c, status, shown, flags);
		goto done;
	}
	if ((ret = forge_evidence(f, body, shown)) < 0)
		goto done;
	if ((flags & SG_FORGE_PAGINATE) && (link = forge_header(c, "Link")) != NULL) {
		ret = sg_forge_link_next(next, link);
		if (ret == SG_ENOTFOUND)
			ret = SG_OK;
		if (ret < 0)
			goto done;
	}
	ret = SG_OK;
done:
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	return ret;
}

static int forge_parse(json_t **out, sg_forge *f, const sg_buf *body, const char *shown)
{
	json_error_t jerr;
	json_t *doc;
	char why[160];

	doc = json_loadb(body->ptr ? body->ptr : "", body->size, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		forge_clean(why, sizeof(why), jerr.text);
		return sg_error_set(SG_EDENIED, "%s API answered malformed JSON on %s (%s at line %d); the "
				    "reviews cannot be checked", f->name, shown, why, jerr.line);
	}
	*out = doc;
	return SG_OK;
}

int sg_forge_get(json_t **out, sg_forge *f, const char *path, int flags)
{
	sg_buf body = SG_BUF_INIT;
	json_t *all = NULL, *page = NULL;
	char *url = NULL, *next = NULL, shown[160];
	int pages = 0, ret = SG_EDENIED, err;

	if (asprintf(&url, "%s%s", f->base, path) < 0) {
		url = NULL;
		return sg_error_set(SG_ERROR, "out of memory");
	}
	forge_clean(shown, sizeof(shown), path);
	while (url) {
		if (++pages > f->max_pages) {
			ret = sg_error_set(SG_EDENIED, "%s API: more than %d pages for %s; signgate stops there",
					   f->name, f->max_pages, shown);
			goto done;
		}
		if ((err = forge_get_one(f, url, pages == 1 ? path : url, flags, &body, &next)) < 0 ||
		    (err = forge_parse(&page, f, &body, shown)) < 0) {
			ret = err;
			goto done;
		}
		free(url);
		url = NULL;
		if (!(flags & SG_FORGE_PAGINATE)) {
			all = page;
			page = NULL;
			break;
		}
		if (!json_is_array(page)) {
			ret = sg_error_set(SG_EDENIED, "%s API answered %s on %s where a list was expected", f->name,
					   json_is_object(page) ? "an object" : "a scalar", shown);
			goto done;
		}
		if (!all && !(all = json_array())) {
			ret = sg_error_set(SG_ERROR, "out of memory");
			goto done;
		}
		if (json_array_extend(all, page) < 0 || json_array_size(all) > FORGE_ITEMS_MAX) {
			ret = sg_error_set(SG_EDENIED, "%s API: more than %d items for %s", f->name,
					   FORGE_ITEMS_MAX, shown);
			goto done;
		}
		json_decref(page);
		page = NULL;
		if (next) {
			if (!sg_forge_same_origin(next, f->base)) {
				char n[160];

				forge_clean(n, sizeof(n), next);
				ret = sg_error_set(SG_EDENIED, "%s API: the next page of %s is on another host (%s); "
						   "signgate does not follow it", f->name, shown, n);
				goto done;
			}
			url = next;
			next = NULL;
		}
	}
	*out = all;
	all = NULL;
	ret = SG_OK;
done:
	free(url);
	free(next);
	json_decref(page);
	json_decref(all);
	sg_buf_dispose(&body);
	return ret;
}
