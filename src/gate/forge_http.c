/* Forge API client shared by the github and gitlab review sources: one GET
 * through core/http.c (http/https only, no redirects, connect and total timeouts,
 * NOPROXY for loopback, a response size cap), JSON through jansson, Link
 * pagination kept on the API's own origin and capped, and the SHA-256 of
 * every response body kept as evidence for the signing note.
 * A failure of the forge is a denial that says why: the gate cannot vouch
 * for reviews it could not read. A configuration that cannot work (no
 * token where one is needed, a refused or malformed token, an unusable API
 * URL) is an error (exit 1) that names the fix. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/http.h"

#include <ctype.h>
#include <stdarg.h>
#include <openssl/evp.h>
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

int sg_forge_init(sg_forge *f, const char *name, const char *base, const char *token_env,
		  const sg_policy *pol, sg_strlist *evidence)
{
	const char *tok = getenv(token_env);
	size_t n;

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->token_env = token_env;
	f->evidence = evidence;
	f->connect_ms = SG_FORGE_CONNECT_MS;
	f->total_ms = 1000L * (pol->forge_timeout > 0 ? pol->forge_timeout : SG_FORGE_TIMEOUT_S);
	if (f->connect_ms > f->total_ms)
		f->connect_ms = f->total_ms;
	f->max_response = SG_FORGE_MAX_RESPONSE;
	f->max_pages = SG_FORGE_MAX_PAGES;
	if (sg_http_load() < 0)
		return SG_ERROR;
	if (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0)
		return sg_error_set(SG_ERROR, "the %s API URL %.200s is not http(s)", name, base);
	n = strlen(base);
	if (n > FORGE_URL_MAX / 2)
		return sg_error_set(SG_ERROR, "the %s API URL is longer than %d characters", name, FORGE_URL_MAX / 2);
	while (n && base[n - 1] == '/')
		n--;
	if (!(f->base = strndup(base, n)))
		return sg_error_set(SG_ERROR, "out of memory");
	if (tok && *tok) {
		if (strlen(tok) > FORGE_TOKEN_MAX || strpbrk(tok, "\r\n \t")) {
			sg_forge_release(f);
			return sg_error_set(SG_ERROR, "%s holds no usable token (whitespace or over %d bytes); "
					    "set it to the bare token", token_env, FORGE_TOKEN_MAX);
		}
		if (strncmp(f->base, "http://", 7) == 0 && !sg_http_is_loopback(f->base)) {
			sg_forge_release(f);
			return sg_error_set(SG_ERROR, "the %s API URL %.200s is plain http: the %s token would "
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

/* The response headers a forge request keeps (sg_http_req.keep). */
enum { H_REMAINING, H_RESET, H_RETRY, H_REMAINING2, H_RESET2, H_LINK };
static const char *const forge_keep[] = { "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After",
					  "RateLimit-Remaining", "RateLimit-Reset", "Link", NULL };

/* What a refused answer means, as a denial. */
static int forge_status_denial(sg_forge *f, const sg_http_resp *resp, const char *path, int flags)
{
	const char *rem = resp->kept[H_REMAINING] ? resp->kept[H_REMAINING] : resp->kept[H_REMAINING2];
	const char *reset = resp->kept[H_RESET] ? resp->kept[H_RESET] : resp->kept[H_RESET2];
	const char *retry = resp->kept[H_RETRY];
	long status = resp->status;
	char when[40] = "", shown[160];

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
	if (status == 401 && !f->token) /* configuration, not a decision: exit 1 */
		return sg_error_set(SG_ERROR, "%s API needs a token (HTTP 401 on %s) and %s is not set; set it to a "
				    "token that may read the repository", f->name, shown, f->token_env);
	if (status == 401)
		return sg_error_set(SG_ERROR, "%s API refused the token (HTTP 401 on %s); check %s", f->name,
				    shown, f->token_env);
	if (status == 403 || status == 404)
		return sg_error_set(SG_EDENIED, "%s API answered HTTP %ld on %s; check the repository setting "
				    "in [forge] and that the token may read it", f->name, status, shown);
	if (status >= 300 && status < 400)
		return sg_error_set(SG_EDENIED, "%s API answered a redirect (HTTP %ld on %s), which signgate "
				    "does not follow; set the API URL to where it points", f->name, status, shown);
	return sg_error_set(SG_EDENIED, "%s API answered HTTP %ld on %s%s; the reviews cannot be checked",
			    f->name, status, shown, status >= 500 ? " (server error)" : "");
}

/* A transfer that brought no answer, as a denial. */
static int forge_transfer_denial(const sg_forge *f, const sg_http_resp *resp, const char *path)
{
	char shown[160];

	forge_clean(shown, sizeof(shown), path);
	switch (resp->fail) {
	case SG_HTTP_TIMEOUT:
		return sg_error_set(SG_EDENIED, "%s API timed out after %ld ms on %s; raise forge.timeout "
				    "or try again", f->name, f->total_ms, shown);
	case SG_HTTP_CONNECT_TIMEOUT:
		return sg_error_set(SG_EDENIED, "%s API: connect timed out after %ld ms (%s)", f->name,
				    f->connect_ms, shown);
	case SG_HTTP_OVERSIZE:
		return sg_error_set(SG_EDENIED, "%s API answer to %s is larger than %zu bytes", f->name, shown,
				    f->max_response);
	case SG_HTTP_PROTOCOL:
		return sg_error_set(SG_EDENIED, "%s API: only http and https are allowed (%s)", f->name, shown);
	default:
		return sg_error_set(SG_EDENIED, "%s API unreachable on %s: %s", f->name, shown, resp->detail);
	}
}

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
	const char *const accept[] = { strcmp(f->name, "GitHub") == 0 ? "Accept: application/vnd.github+json"
								     : "Accept: application/json", NULL };
	sg_http_req req = { .url = url, .headers = accept, .bearer = f->token, .connect_ms = f->connect_ms,
			    .total_ms = f->total_ms, .max_response = f->max_response, .keep = forge_keep };
	sg_http_resp resp;
	int ret;

	*next = NULL;
	if (!f->fetched_at[0])
		forge_now(f->fetched_at, sizeof(f->fetched_at), time(NULL));
	if ((ret = sg_http_perform(&resp, &req, body)) < 0)
		return ret;
	if (resp.fail != SG_HTTP_OK)
		ret = forge_transfer_denial(f, &resp, shown);
	else if (resp.status != 200)
		ret = forge_status_denial(f, &resp, shown, flags);
	else if ((ret = forge_evidence(f, body, shown)) == SG_OK && (flags & SG_FORGE_PAGINATE) &&
		 resp.kept[H_LINK] && (ret = sg_forge_link_next(next, resp.kept[H_LINK])) == SG_ENOTFOUND)
		ret = SG_OK;
	sg_http_resp_release(&resp);
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
			if (!sg_http_same_origin(next, f->base)) {
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
