/* RFC 3161 client: request, HTTP transport with failover and retries, and
 * verification of what a TSA answers before it is used (tsa.h). */
#include "tsa/tsa.h"
#include "core/error.h"
#include "core/http.h"

#include <errno.h>
#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef SG_VERSION
#define SG_VERSION "dev"
#endif

#define TSA_DEF_CONNECT_MS   5000L
#define TSA_DEF_TOTAL_MS     20000L
#define TSA_DEF_ATTEMPTS     3
#define TSA_MAX_ATTEMPTS     10
#define TSA_DEF_MAX_RESPONSE (256u * 1024u)
#define TSA_BACKOFF_BASE_MS  200L
#define TSA_BACKOFF_CAP_MS   5000L
#define TSA_FUTURE_SKEW      600L    /* a genTime this far ahead of us is refused */
#define TSA_PAST_SKEW        86400L  /* a fresh answer this far behind is refused */
#define TSA_MAX_VERIFY_INPUT (1024u * 1024u)
#define TSA_WHY              512

#define TSA_CTYPE "application/timestamp-reply"

/* Outcome of one attempt at one URL. */
enum { TSA_DONE = 0, TSA_TRANSIENT = 1, TSA_PERMANENT = 2 };

struct tsa_limits {
	long connect_ms;
	long total_ms;
	int attempts;
	size_t max_response;
};

struct tsa_query {
	TS_REQ *req;
	unsigned char *der;
	size_t len;
};

struct tsa_sink {
	sg_buf *body;
	size_t max;
	int oversize;
};

/* Copy a string that a server controls into a message: printable ASCII only,
 * bounded. */
static void tsa_clean(char *dst, size_t n, const char *src, size_t srclen)
{
	size_t i, o = 0;

	for (i = 0; i < srclen && src[i] && o + 1 < n; i++)
		dst[o++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[o] = '\0';
}

static void tsa_limits_from(struct tsa_limits *l, const sg_tsa_config *cfg)
{
	l->connect_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : TSA_DEF_CONNECT_MS;
	l->total_ms = cfg->total_timeout_ms > 0 ? cfg->total_timeout_ms : TSA_DEF_TOTAL_MS;
	if (l->connect_ms > l->total_ms)
		l->connect_ms = l->total_ms;
	l->attempts = cfg->attempts > 0 ? cfg->attempts : TSA_DEF_ATTEMPTS;
	if (l->attempts > TSA_MAX_ATTEMPTS)
		l->attempts = TSA_MAX_ATTEMPTS;
	l->max_response = cfg->max_response > 0 ? cfg->max_response : TSA_DEF_MAX_RESPONSE;
}

static void tsa_backoff(int i)
{
	long base = TSA_BACKOFF_BASE_MS, ms;
	uint32_t r = 0;
	struct timespec ts;

	while (i-- > 0 && base < TSA_BACKOFF_CAP_MS)
		base *= 2;
	if (base > TSA_BACKOFF_CAP_MS)
		base = TSA_BACKOFF_CAP_MS;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		ERR_clear_error();
	ms = base / 2 + (long)(r % (uint32_t)(base + 1)); /* base +- 50% */
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- OpenSSL side ------------------------------------------------------ */

static int tsa_store_load(X509_STORE **out, const char *path)
{
	X509_STORE *s = X509_STORE_new();

	if (!s || X509_STORE_load_file(s, path) != 1) {
		X509_STORE_free(s);
		return sg_error_set_openssl(SG_ERROR,
			"cannot load the TSA trust anchor %s; point tsaTrustAnchor at the TSA's CA certificate (PEM)",
			path);
	}
	*out = s;
	return SG_OK;
}

static int tsa_query_make(struct tsa_query *q, const unsigned char *digest)
{
	TS_REQ *req = NULL;
	TS_MSG_IMPRINT *mi = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = NULL;
	unsigned char rnd[8], *der = NULL;
	int n, ret = SG_ERROR;

	/* 62 random bits; top bits fixed so the INTEGER is always 8 bytes and positive. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		sg_error_set_openssl(SG_ERROR, "cannot draw a timestamp nonce");
		goto done;
	}
	rnd[0] = (unsigned char)((rnd[0] & 0x3f) | 0x40);
	if (!(bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) || !(nonce = BN_to_ASN1_INTEGER(bn, NULL)) ||
	    !(req = TS_REQ_new()) || !(mi = TS_MSG_IMPRINT_new()) || !(alg = X509_ALGOR_new()) ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) ||
	    !TS_MSG_IMPRINT_set_algo(mi, alg) || !TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)digest, 32) ||
	    !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, mi) ||
	    !TS_REQ_set_nonce(req, nonce) || !TS_REQ_set_cert_req(req, 1) ||
	    (n = i2d_TS_REQ(req, &der)) <= 0) {
		sg_error_set_openssl(SG_ERROR, "cannot build the timestamp request");
		goto done;
	}
	q->req = req;
	q->der = der;
	q->len = (size_t)n;
	req = NULL;
	der = NULL;
	ret = SG_OK;
done:
	OPENSSL_cleanse(rnd, sizeof(rnd));
	OPENSSL_free(der);
	TS_REQ_free(req);
	TS_MSG_IMPRINT_free(mi);
	X509_ALGOR_free(alg);
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	return ret;
}

static void tsa_query_release(struct tsa_query *q)
{
	TS_REQ_free(q->req);
	OPENSSL_free(q->der);
	memset(q, 0, sizeof(*q));
}

/* The reason behind a failed TS verification, from OpenSSL's error queue,
 * in words; the queue is emptied. */
static void tsa_ossl_reason(char *why, size_t wl)
{
	unsigned long e, pick = 0;
	const char *data = NULL, *rs;
	int flags = 0;
	char detail[256] = "";

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (pick == 0 || (ERR_GET_LIB(pick) != ERR_LIB_TS && ERR_GET_LIB(e) == ERR_LIB_TS)) {
			pick = e;
			detail[0] = '\0';
			if (data && (flags & ERR_TXT_STRING))
				tsa_clean(detail, sizeof(detail), data, strlen(data));
		}
	}
	if (strncmp(detail, "Verify error:", 13) == 0)
		memmove(detail, detail + 13, strlen(detail + 13) + 1);
	if (pick != 0 && ERR_GET_LIB(pick) == ERR_LIB_TS) {
		switch (ERR_GET_REASON(pick)) {
		case TS_R_NONCE_MISMATCH:
			snprintf(why, wl, "nonce mismatch");
			return;
		case TS_R_NONCE_NOT_RETURNED:
			snprintf(why, wl, "nonce not returned");
			return;
		case TS_R_MESSAGE_IMPRINT_MISMATCH:
			snprintf(why, wl, "imprint mismatch");
			return;
		case TS_R_CERTIFICATE_VERIFY_ERROR:
			snprintf(why, wl, "TSA certificate not trusted: %s", detail[0] ? detail : "chain does not verify");
			return;
		case TS_R_SIGNATURE_FAILURE:
			snprintf(why, wl, "bad signature");
			return;
		default:
			break;
		}
	}
	rs = pick ? ERR_reason_error_string(pick) : NULL;
	snprintf(why, wl, "%s%s%s", rs ? rs : "does not verify", detail[0] ? ": " : "", detail);
}

static const char *tsa_status_name(long s)
{
	static const char *const names[] = { "granted", "grantedWithMods", "rejection", "waiting",
					     "revocationWarning", "revocationNotification" };
	return (s >= 0 && s < 6) ? names[s] : "unknown";
}

/* 0 when the response's status is granted or grantedWithMods. */
static int tsa_status_check(TS_RESP *resp, char *why, size_t wl)
{
	static const char *const fails[] = { "badAlg", NULL, "badRequest", NULL, NULL, "badDataFormat",
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "timeNotAvailable", "unacceptedPolicy",
		"unacceptedExtension", "addInfoNotAvailable", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		"systemFailure" };
	TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
	const ASN1_BIT_STRING *fi;
	const STACK_OF(ASN1_UTF8STRING) *text;
	char failure[64] = "", words[160] = "";
	long status;
	size_t i;

	status = si ? ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) : -1;
	if (status == 0 || status == 1)
		return 0;
	if (si && (fi = TS_STATUS_INFO_get0_failure_info(si)) != NULL) {
		for (i = 0; i < sizeof(fails) / sizeof(fails[0]); i++)
			if (fails[i] && ASN1_BIT_STRING_get_bit(fi, (int)i)) {
				snprintf(failure, sizeof(failure), ", %s", fails[i]);
				break;
			}
	}
	if (si && (text = TS_STATUS_INFO_get0_text(si)) != NULL && sk_ASN1_UTF8STRING_num(text) > 0) {
		const ASN1_UTF8STRING *t = sk_ASN1_UTF8STRING_value(text, 0);
		tsa_clean(words, sizeof(words), (const char *)ASN1_STRING_get0_data(t),
			  (size_t)ASN1_STRING_length(t));
	}
	snprintf(why, wl, "rejected: status %s%s%s%s%s", tsa_status_name(status), failure,
		 words[0] ? " \"" : "", words, words[0] ? "\"" : "");
	return -1;
}

/* The token's signer must carry exactly the timeStamping EKU, marked
 * critical (RFC 3161 2.3). OpenSSL checks it through X509_PURPOSE_TIMESTAMP_SIGN
 * while verifying the chain; this says so again, independently. */
static int tsa_signer_check(PKCS7 *token, char *why, size_t wl)
{
	STACK_OF(X509) *signers = PKCS7_get0_signers(token, NULL, 0);
	X509 *s;
	int idx, ok = 0;

	if (!signers || sk_X509_num(signers) != 1) {
		snprintf(why, wl, "token does not name exactly one signer certificate");
		goto done;
	}
	s = sk_X509_value(signers, 0);
	idx = X509_get_ext_by_NID(s, NID_ext_key_usage, -1);
	if (X509_get_extended_key_usage(s) != XKU_TIMESTAMP || idx < 0 ||
	    !X509_EXTENSION_get_critical(X509_get_ext(s, idx))) {
		snprintf(why, wl, "TSA certificate lacks a critical timeStamping-only extended key usage");
		goto done;
	}
	ok = 1;
done:
	sk_X509_free(signers);
	ERR_clear_error();
	return ok ? 0 : -1;
}

static void tsa_time_text(char *out, size_t n, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "%lld", (long long)t);
}

/* Imprint algorithm and genTime sanity; `fresh` when the token was just asked for. */
static int tsa_tst_check(TS_TST_INFO *tst, int fresh, time_t *gen, char *why, size_t wl)
{
	const ASN1_GENERALIZEDTIME *t = TS_TST_INFO_get_time(tst);
	TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(tst);
	X509_ALGOR *alg = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
	const ASN1_OBJECT *obj = NULL;
	char when[32], nowt[32];
	struct tm tm;
	time_t g, now = time(NULL);
	int nid;

	if (alg)
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
	nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512) {
		snprintf(why, wl, "imprint hash %s is not accepted (SHA-256, SHA-384 or SHA-512)",
			 nid == NID_undef ? "unknown" : OBJ_nid2sn(nid));
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	if (!t || !ASN1_TIME_to_tm(t, &tm) || (g = timegm(&tm)) == (time_t)-1) {
		ERR_clear_error();
		snprintf(why, wl, "unreadable genTime");
		return -1;
	}
	tsa_time_text(when, sizeof(when), g);
	tsa_time_text(nowt, sizeof(nowt), now);
	if (g > now + TSA_FUTURE_SKEW) {
		snprintf(why, wl, "genTime %s is in the future (local clock %s)", when, nowt);
		return -1;
	}
	if (fresh && g < now - TSA_PAST_SKEW) {
		snprintf(why, wl, "genTime %s is more than a day behind the local clock %s", when, nowt);
		return -1;
	}
	*gen = g;
	return 0;
}

/* Check a received body against the request; fill tok on success. */
static int tsa_response_check(sg_tsa_token *tok, const struct tsa_query *q, X509_STORE *store,
			      const sg_buf *body, char *why, size_t wl)
{
	const unsigned char *p = (const unsigned char *)body->ptr;
	TS_RESP *resp = NULL;
	TS_VERIFY_CTX *vctx = NULL;
	PKCS7 *token;
	unsigned char *der = NULL;
	time_t gen;
	int n, ret = TSA_PERMANENT;

	ERR_clear_error();
	if (body->size == 0 || body->size > LONG_MAX ||
	    !(resp = d2i_TS_RESP(NULL, &p, (long)body->size)) ||
	    p != (const unsigned char *)body->ptr + body->size) {
		snprintf(why, wl, "not a timestamp response: %zu bytes of something else", body->size);
		goto done;
	}
	if (tsa_status_check(resp, why, wl) < 0)
		goto done;
	if (!(vctx = TS_REQ_to_TS_VERIFY_CTX(q->req, NULL)) || !X509_STORE_up_ref(store)) {
		snprintf(why, wl, "out of memory");
		goto done;
	}
	TS_VERIFY_CTX_set_store(vctx, store);
	TS_VERIFY_CTX_set_flags(vctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT |
				TS_VFY_NONCE | TS_VFY_SIGNER);
	if (TS_RESP_verify_response(vctx, resp) != 1) {
		tsa_ossl_reason(why, wl);
		goto done;
	}
	token = TS_RESP_get_token(resp);
	if (tsa_signer_check(token, why, wl) < 0 ||
	    tsa_tst_check(TS_RESP_get_tst_info(resp), 1, &gen, why, wl) < 0)
		goto done;
	if ((n = i2d_PKCS7(token, &der)) <= 0 ||
	    sg_buf_put(&tok->token, der, (size_t)n) < 0 ||
	    sg_buf_put(&tok->response, body->ptr, body->size) < 0) {
		snprintf(why, wl, "out of memory");
		goto done;
	}
	tok->gen_time = gen;
	tsa_time_text(tok->gen_time_text, sizeof(tok->gen_time_text), gen);
	ret = TSA_DONE;
done:
	if (ret != TSA_DONE) {
		sg_buf_dispose(&tok->token);
		sg_buf_dispose(&tok->response);
	}
	ERR_clear_error();
	OPENSSL_free(der);
	TS_VERIFY_CTX_free(vctx);
	TS_RESP_free(resp);
	return ret;
}

/* ---- HTTP side --------------------------------------------------------- */

/* A transfer that brought no answer: what to say, and whether to retry. */
static int tsa_transfer_failure(const sg_http_resp *resp, const struct tsa_limits *lim, char *why, size_t wl)
{
	switch (resp->fail) {
	case SG_HTTP_TIMEOUT:
		snprintf(why, wl, "timed out after %ld ms", lim->total_ms);
		return TSA_TRANSIENT;
	case SG_HTTP_CONNECT_TIMEOUT:
		snprintf(why, wl, "connect timed out after %ld ms", lim->connect_ms);
		return TSA_TRANSIENT;
	case SG_HTTP_CONNECT:
		if (resp->os_errno == ECONNREFUSED)
			snprintf(why, wl, "connection refused");
		else
			snprintf(why, wl, "cannot connect: %s",
				 resp->os_errno ? strerror((int)resp->os_errno) : resp->detail);
		return TSA_TRANSIENT;
	case SG_HTTP_RESOLVE:
		snprintf(why, wl, "cannot resolve: %s", resp->detail);
		return TSA_TRANSIENT;
	case SG_HTTP_DROPPED:
		snprintf(why, wl, "connection dropped: %s", resp->detail);
		return TSA_TRANSIENT;
	case SG_HTTP_OVERSIZE:
		snprintf(why, wl, "response larger than %zu bytes", lim->max_response);
		return TSA_PERMANENT;
	case SG_HTTP_NOMEM:
		snprintf(why, wl, "out of memory");
		return TSA_PERMANENT;
	case SG_HTTP_PROTOCOL:
		snprintf(why, wl, "unsupported protocol: only http and https are allowed");
		return TSA_PERMANENT;
	default:
		snprintf(why, wl, "%s", resp->detail);
		return TSA_PERMANENT;
	}
}

static int tsa_content_type_ok(const char *ct)
{
	size_t n = strlen(TSA_CTYPE);

	if (!ct)
		return 1; /* some TSAs omit it; the body is checked as DER anyway */
	return strncasecmp(ct, TSA_CTYPE, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* One POST of the query; TSA_DONE with the body of a 200 answer. */
static int tsa_post(const char *url, const struct tsa_limits *lim, const struct tsa_query *q,
		    sg_buf *body, char *why, size_t wl)
{
	static const char *const headers[] = { "Content-Type: application/timestamp-query",
					       "Accept: " TSA_CTYPE, "Expect:", NULL };
	sg_http_req req = { .url = url, .headers = headers, .post = q->der, .post_len = q->len,
			    .connect_ms = lim->connect_ms, .total_ms = lim->total_ms,
			    .max_response = lim->max_response };
	sg_http_resp resp;
	char ctc[64];
	int ret = TSA_PERMANENT;

	if (sg_http_perform(&resp, &req, body) < 0) {
		snprintf(why, wl, "%s", sg_error_last());
		return TSA_PERMANENT;
	}
	if (resp.fail != SG_HTTP_OK) {
		ret = tsa_transfer_failure(&resp, lim, why, wl);
	} else if (resp.status != 200) {
		snprintf(why, wl, "HTTP %ld", resp.status);
		ret = (resp.status >= 500 || resp.status == 408 || resp.status == 429) ? TSA_TRANSIENT : TSA_PERMANENT;
	} else if (!tsa_content_type_ok(resp.content_type)) {
		tsa_clean(ctc, sizeof(ctc), resp.content_type, strlen(resp.content_type));
		snprintf(why, wl, "content type %s, not " TSA_CTYPE, ctc);
	} else {
		ret = TSA_DONE;
	}
	sg_http_resp_release(&resp);
	return ret;
}

/* Every attempt at one URL; TSA_DONE with tok filled, else why says what happened. */
static int tsa_try_url(sg_tsa_token *tok, const char *url, const struct tsa_limits *lim,
		       const struct tsa_query *q, X509_STORE *store, sg_buf *body,
		       char *why, size_t wl, int *attempts)
{
	int a, r = TSA_PERMANENT;

	for (a = 0; a < lim->attempts; a++) {
		if (a > 0)
			tsa_backoff(a - 1);
		r = tsa_post(url, lim, q, body, why, wl);
		if (r == TSA_DONE)
			r = tsa_response_check(tok, q, store, body, why, wl);
		if (r != TSA_TRANSIENT)
			break;
	}
	*attempts = a < lim->attempts ? a + 1 : lim->attempts;
	return r;
}

int sg_tsa_stamp(sg_tsa_token *out, const sg_tsa_config *cfg, const unsigned char *data, size_t len)
{
	int ret = SG_ERROR, r = TSA_PERMANENT, attempts;
	struct tsa_limits lim;
	struct tsa_query q;
	X509_STORE *store = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	sg_buf body = SG_BUF_INIT, report = SG_BUF_INIT;
	sg_tsa_token tok;
	char why[TSA_WHY], *pub = NULL;
	size_t i;

	memset(&q, 0, sizeof(q));
	memset(&tok, 0, sizeof(tok));
	if (!out || !cfg || (!data && len))
		return sg_error_set(SG_ERROR, "sg_tsa_stamp: invalid arguments");
	if (!cfg->urls || cfg->urls->n == 0)
		return sg_error_set(SG_ERROR, "no timestamp authority configured; add tsa = URL to the profile");
	if (!cfg->trust_anchor || !cfg->trust_anchor[0])
		return sg_error_set(SG_ERROR,
			"no TSA trust anchor configured; set tsaTrustAnchor to the TSA's CA certificate (PEM)");
	if ((ret = sg_http_load()) < 0)
		return ret;
	tsa_limits_from(&lim, cfg);
	sg_buf_init(&body, 0);
	if ((ret = tsa_store_load(&store, cfg->trust_anchor)) < 0)
		goto done;
	ret = SG_ERROR;
	if (EVP_Digest(data ? data : (const unsigned char *)"", len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		sg_error_set_openssl(SG_ERROR, "cannot hash the data to timestamp");
		goto done;
	}
	if (tsa_query_make(&q, md) < 0)
		goto done;
	for (i = 0; i < cfg->urls->n; i++) {
		why[0] = '\0';
		r = tsa_try_url(&tok, cfg->urls->v[i], &lim, &q, store, &body, why, sizeof(why), &attempts);
		free(pub);
		pub = NULL;
		if (sg_http_url_public(&pub, cfg->urls->v[i]) < 0)
			goto done;
		if (r == TSA_DONE)
			break;
		if (sg_buf_printf(&report, "%s%s (%s", report.size ? "; " : "", pub, why) < 0 ||
		    (attempts > 1 && sg_buf_printf(&report, ", %d attempts", attempts) < 0) ||
		    sg_buf_puts(&report, ")") < 0)
			goto done;
	}
	if (r != TSA_DONE) {
		sg_error_set(SG_ERROR, "no timestamp authority answered: %s; check the profile's tsa URLs and tsaTrustAnchor",
			     report.ptr);
		goto done;
	}
	tok.url = pub;
	pub = NULL;
	*out = tok;
	memset(&tok, 0, sizeof(tok));
	ret = SG_OK;
done:
	sg_tsa_token_release(&tok);
	free(pub);
	tsa_query_release(&q);
	X509_STORE_free(store);
	sg_buf_dispose(&body);
	sg_buf_dispose(&report);
	return ret;
}

void sg_tsa_token_release(sg_tsa_token *t)
{
	if (!t)
		return;
	sg_buf_dispose(&t->token);
	sg_buf_dispose(&t->response);
	free(t->url);
	memset(t, 0, sizeof(*t));
}

int sg_tsa_verify(time_t *gen_time, const unsigned char *der, size_t len, int is_token,
		  const unsigned char *data, size_t dlen, const char *trust_anchor)
{
	const char *what = is_token ? "timestamp token" : "timestamp response";
	const unsigned char *p = der;
	TS_RESP *resp = NULL;
	PKCS7 *own = NULL, *token = NULL;
	TS_TST_INFO *own_tst = NULL, *tst = NULL;
	TS_VERIFY_CTX *vctx = NULL;
	X509_STORE *store = NULL;
	BIO *bio = NULL;
	char why[TSA_WHY];
	time_t gen;
	int ok, ret = SG_EVERIFY;

	if (!gen_time || !trust_anchor || !trust_anchor[0] || (!data && dlen))
		return sg_error_set(SG_ERROR, "sg_tsa_verify: invalid arguments");
	if (!der || len == 0 || len > TSA_MAX_VERIFY_INPUT)
		return sg_error_set(SG_EVERIFY, "%s is empty or larger than %u bytes", what, TSA_MAX_VERIFY_INPUT);
	if (dlen > INT_MAX)
		return sg_error_set(SG_EVERIFY, "timestamped data larger than %d bytes", INT_MAX);
	if ((ret = tsa_store_load(&store, trust_anchor)) < 0)
		goto done;
	ret = SG_EVERIFY;
	ERR_clear_error();
	if (is_token) {
		own = d2i_PKCS7(NULL, &p, (long)len);
		token = own;
		if (!own || p != der + len || !(own_tst = PKCS7_to_TS_TST_INFO(own))) {
			sg_error_set(SG_EVERIFY, "%s is not a DER RFC 3161 TimeStampToken", what);
			goto done;
		}
		tst = own_tst;
	} else {
		resp = d2i_TS_RESP(NULL, &p, (long)len);
		if (!resp || p != der + len) {
			sg_error_set(SG_EVERIFY, "%s is not a DER RFC 3161 TimeStampResp", what);
			goto done;
		}
		if (tsa_status_check(resp, why, sizeof(why)) < 0) {
			sg_error_set(SG_EVERIFY, "%s was %s", what, why);
			goto done;
		}
		token = TS_RESP_get_token(resp);
		tst = TS_RESP_get_tst_info(resp);
	}
	if (!(vctx = TS_VERIFY_CTX_new()) ||
	    !(bio = BIO_new_mem_buf(dlen ? (const void *)data : "", (int)dlen))) {
		sg_error_set_openssl(SG_ERROR, "out of memory");
		ret = SG_ERROR;
		goto done;
	}
	TS_VERIFY_CTX_set_data(vctx, bio);
	bio = NULL;
	TS_VERIFY_CTX_set_store(vctx, store);
	store = NULL;
	TS_VERIFY_CTX_set_flags(vctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_DATA | TS_VFY_SIGNER);
	ok = is_token ? TS_RESP_verify_token(vctx, token) : TS_RESP_verify_response(vctx, resp);
	if (ok != 1) {
		tsa_ossl_reason(why, sizeof(why));
		sg_error_set(SG_EVERIFY, "%s does not verify against %s: %s", what, trust_anchor, why);
		goto done;
	}
	if (tsa_signer_check(token, why, sizeof(why)) < 0 || tsa_tst_check(tst, 0, &gen, why, sizeof(why)) < 0) {
		sg_error_set(SG_EVERIFY, "%s refused: %s", what, why);
		goto done;
	}
	*gen_time = gen;
	ret = SG_OK;
done:
	ERR_clear_error();
	BIO_free(bio);
	TS_VERIFY_CTX_free(vctx);
	X509_STORE_free(store);
	TS_TST_INFO_free(own_tst);
	PKCS7_free(own);
	TS_RESP_free(resp);
	return ret;
}
