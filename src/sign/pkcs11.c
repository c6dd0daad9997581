/* PKCS#11 keys: RFC 7512 URIs, libp11 module/token/login/key lookup. */
#include "sign/pkcs11.h"

#include <ctype.h>
#include <libp11.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/secret.h"

/* PKCS#11 return values (pkcs11t.h) that libp11 puts in the OpenSSL error queue. */
#define SG_CKR_PIN_INCORRECT 0xA0UL
#define SG_CKR_PIN_INVALID 0xA1UL
#define SG_CKR_PIN_LEN_RANGE 0xA2UL
#define SG_CKR_PIN_EXPIRED 0xA3UL
#define SG_CKR_PIN_LOCKED 0xA4UL

#define SG_PKCS11_URI_MAX 4096
#define SG_CKR_GENERAL_ERROR 0x05UL
#define SG_CKR_FUNCTION_FAILED 0x06UL
#define SG_CKR_DEVICE_ERROR 0x30UL
#define SG_CKR_TOKEN_NOT_PRESENT 0xE0UL
#define SG_CKR_USER_PIN_NOT_INITIALIZED 0x102UL
#define SG_PKCS11_FIND_ATTEMPTS 8

struct sg_pkcs11_key {
	PKCS11_CTX *ctx;
	int loaded;
	PKCS11_SLOT *slots;
	unsigned int nslots;
	EVP_PKEY *pkey;
	char *token;
};

void sg_pkcs11_uri_release(sg_pkcs11_uri *u)
{
	if (!u)
		return;
	free(u->token);
	free(u->object);
	free(u->id);
	free(u->serial);
	free(u->manufacturer);
	free(u->model);
	free(u->pin_source);
	free(u->module_path);
	memset(u, 0, sizeof(*u));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode [s, s+n) into a new buffer (NUL-terminated; *outlen bytes). */
static int pct_decode(char **out, size_t *outlen, const char *s, size_t n, const char *attr)
{
	char *d = malloc(n + 1);
	size_t i, j = 0;
	int hi, lo;

	if (!d)
		return sg_error_set(SG_ERROR, "out of memory");
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			d[j++] = s[i];
			continue;
		}
		if (i + 2 >= n) {
			free(d);
			return sg_error_set(SG_ERROR, "PKCS#11 URI: bad percent-encoding in attribute %s", attr);
		}
		hi = hexval((unsigned char)s[i + 1]);
		lo = hexval((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0) {
			free(d);
			return sg_error_set(SG_ERROR, "PKCS#11 URI: bad percent-encoding in attribute %s", attr);
		}
		d[j++] = (char)(hi << 4 | lo);
		i += 2;
	}
	d[j] = '\0';
	*out = d;
	*outlen = j;
	return SG_OK;
}

static int set_attr(char **slot, char *value, size_t len, const char *attr)
{
	if (*slot) {
		free(value);
		return sg_error_set(SG_ERROR, "PKCS#11 URI: attribute %s given twice", attr);
	}
	if (strlen(value) != len) {
		free(value);
		return sg_error_set(SG_ERROR, "PKCS#11 URI: attribute %s contains a NUL byte", attr);
	}
	*slot = value;
	return SG_OK;
}

/* One "name=value" (raw, still percent-encoded) from the path or the query. */
static int uri_attr(sg_pkcs11_uri *u, const char *a, size_t n, int in_query)
{
	const char *eq = memchr(a, '=', n);
	char name[32], *value = NULL;
	size_t nlen, vlen = 0;
	int err;

	if (n == 0)
		return SG_OK;
	if (!eq)
		return sg_error_set(SG_ERROR, "PKCS#11 URI: attribute without '=' (%s part)",
				    in_query ? "query" : "path");
	nlen = (size_t)(eq - a);
	if (nlen == 0 || nlen >= sizeof(name))
		return sg_error_set(SG_ERROR, "PKCS#11 URI: bad attribute name");
	memcpy(name, a, nlen);
	name[nlen] = '\0';
	if (strcmp(name, "pin-value") == 0)
		return sg_error_set(SG_EDENIED, "PKCS#11 URI carries pin-value: a PIN never comes "
				    "from the policy; remove it and use pin-source=file:PATH (mode 0600), "
				    "SIGNGATE_PIN, or the terminal prompt");
	if ((err = pct_decode(&value, &vlen, eq + 1, n - nlen - 1, name)) < 0)
		return err;
	if (strcmp(name, "token") == 0)
		return set_attr(&u->token, value, vlen, name);
	if (strcmp(name, "object") == 0)
		return set_attr(&u->object, value, vlen, name);
	if (strcmp(name, "serial") == 0)
		return set_attr(&u->serial, value, vlen, name);
	if (strcmp(name, "manufacturer") == 0)
		return set_attr(&u->manufacturer, value, vlen, name);
	if (strcmp(name, "model") == 0)
		return set_attr(&u->model, value, vlen, name);
	if (strcmp(name, "pin-source") == 0)
		return set_attr(&u->pin_source, value, vlen, name);
	if (strcmp(name, "module-path") == 0)
		return set_attr(&u->module_path, value, vlen, name);
	if (strcmp(name, "id") == 0) {
		if (u->id) {
			free(value);
			return sg_error_set(SG_ERROR, "PKCS#11 URI: attribute id given twice");
		}
		u->id = (unsigned char *)value;
		u->id_len = vlen;
		return SG_OK;
	}
	if (strcmp(name, "type") == 0) {
		err = strcmp(value, "private") == 0 ? SG_OK :
			sg_error_set(SG_ERROR, "PKCS#11 URI: type=%s cannot sign; use type=private "
				     "or leave type out", value);
		free(value);
		return err;
	}
	free(value);
	if (strncmp(name, "x-", 2) == 0 || strncmp(name, "library-", 8) == 0)
		return SG_OK; /* vendor and library attributes do not select a key here */
	return sg_error_set(SG_ERROR, "PKCS#11 URI: attribute \"%s\" is not supported; use token, "
			    "object, id, serial, pin-source, module-path", name);
}

int sg_pkcs11_uri_parse(sg_pkcs11_uri *out, const char *uri)
{
	sg_pkcs11_uri u;
	const char *p, *end, *q, *next;
	int ret = SG_ERROR, in_query = 0;

	memset(&u, 0, sizeof(u));
	if (!uri || strncmp(uri, "pkcs11:", 7) != 0)
		return sg_error_set(SG_ERROR, "not a PKCS#11 URI (it must start with pkcs11:)");
	if (strlen(uri) > SG_PKCS11_URI_MAX)
		return sg_error_set(SG_ERROR, "PKCS#11 URI longer than %d bytes", SG_PKCS11_URI_MAX);
	p = uri + 7;
	end = p + strlen(p);
	q = strchr(p, '?');
	while (p < end) {
		if (q && p == q) {
			in_query = 1;
			p++;
			continue;
		}
		next = p;
		while (next < end && next != q && *next != (in_query ? '&' : ';'))
			next++;
		if ((ret = uri_attr(&u, p, (size_t)(next - p), in_query)) < 0)
			goto done;
		p = (next < end && next != q) ? next + 1 : next;
	}
	if (!u.token) {
		ret = sg_error_set(SG_ERROR, "PKCS#11 URI names no token; add token=LABEL");
		goto done;
	}
	if (!u.object && !u.id) {
		ret = sg_error_set(SG_ERROR, "PKCS#11 URI names no key; add object=LABEL and/or id=%%XX");
		goto done;
	}
	*out = u;
	memset(&u, 0, sizeof(u));
	ret = SG_OK;
done:
	sg_pkcs11_uri_release(&u);
	return ret;
}

const char *sg_pkcs11_module_of(const sg_pkcs11_uri *u, const char *default_module)
{
	return u->module_path ? u->module_path
		: (default_module && *default_module) ? default_module : SG_PKCS11_DEFAULT_MODULE;
}

static int token_matches(const PKCS11_TOKEN *t, const sg_pkcs11_uri *u)
{
	return t && t->label && strcmp(t->label, u->token) == 0 &&
	       (!u->serial || (t->serialnr && strcmp(t->serialnr, u->serial) == 0)) &&
	       (!u->manufacturer || (t->manufacturer && strcmp(t->manufacturer, u->manufacturer) == 0)) &&
	       (!u->model || (t->model && strcmp(t->model, u->model) == 0));
}

static int no_token_error(const sg_pkcs11_key *k, const sg_pkcs11_uri *u, const char *module)
{
	sg_buf b = SG_BUF_INIT;
	unsigned int i;
	int err;

	sg_buf_init(&b, 1500);
	for (i = 0; i < k->nslots; i++) {
		const PKCS11_SLOT *s = &k->slots[i];
		if (sg_buf_printf(&b, "%s%lu: %s%s%s", i ? ", " : "",
				  PKCS11_get_slotid_from_slot((PKCS11_SLOT *)s),
				  s->token ? "\"" : "", s->token ? s->token->label : "no token",
				  s->token ? "\"" : "") < 0)
			break;
	}
	err = sg_error_set(SG_ERROR, "no token labelled %s in %s (slots: %s); insert the token or "
			   "fix token= in the key URI", u->token, module, b.size ? b.ptr : "none");
	sg_buf_dispose(&b);
	return err;
}

/* The CKR code of libp11's last error (0 when none). */
static unsigned long last_ckr(void)
{
	unsigned long e = ERR_peek_last_error();
	unsigned long r = ERR_GET_LIB(e) == ERR_get_CKR_code() ? (unsigned long)ERR_GET_REASON(e) : 0;

	ERR_clear_error();
	return r;
}

/* Errors a token store being rewritten by another process can give
 * (SoftHSM2's file store under concurrent logins: seen are GENERAL_ERROR
 * and USER_PIN_NOT_INITIALIZED while the token file is half written).
 * Never a wrong-PIN error: retrying that would spend the token's retry
 * counter; a PIN that really is not initialised still fails after the
 * bounded retries. */
static int transient_ckr(unsigned long r)
{
	return r == SG_CKR_GENERAL_ERROR || r == SG_CKR_FUNCTION_FAILED || r == SG_CKR_DEVICE_ERROR ||
	       r == SG_CKR_TOKEN_NOT_PRESENT || r == SG_CKR_USER_PIN_NOT_INITIALIZED;
}

static int login_error(const char *label, unsigned long r)
{
	switch (r) {
	case SG_CKR_PIN_INCORRECT:
		return sg_error_set(SG_EDENIED, "PKCS#11 login to token %s failed: wrong PIN "
				    "(CKR_PIN_INCORRECT)", label);
	case SG_CKR_PIN_LOCKED:
		return sg_error_set(SG_EDENIED, "PKCS#11 login to token %s failed: the user PIN is "
				    "locked (CKR_PIN_LOCKED); the token's security officer must unblock it",
				    label);
	case SG_CKR_PIN_EXPIRED:
		return sg_error_set(SG_EDENIED, "PKCS#11 login to token %s failed: the PIN has expired "
				    "(CKR_PIN_EXPIRED); change it with the token's tools", label);
	case SG_CKR_PIN_INVALID:
	case SG_CKR_PIN_LEN_RANGE:
		return sg_error_set(SG_EDENIED, "PKCS#11 login to token %s failed: the PIN is not "
				    "acceptable to the token (CKR 0x%lX)", label, r);
	default:
		return sg_error_set(SG_ERROR, "PKCS#11 login to token %s failed (CKR 0x%lX)", label, r);
	}
}

/* Log in with the PIN (obtained on first use and kept for a retry: a
 * terminal prompt is never repeated). SG_ERETRY, with the message set,
 * when the token gave a transient error. */
static int login(PKCS11_SLOT *slot, const sg_pkcs11_uri *u, sg_secret **pin)
{
	char what[300];
	int ret, logged = 0;
	unsigned long r;

	if (!slot->token->loginRequired)
		return SG_OK;
	if (PKCS11_is_logged_in(slot, 0, &logged) == 0 && logged)
		return SG_OK;
	if (slot->token->userPinLocked)
		return sg_error_set(SG_EDENIED, "the user PIN of token %s is locked; the token's "
				    "security officer must unblock it", u->token);
	snprintf(what, sizeof(what), "PIN for token %s", u->token);
	if (!*pin && (ret = sg_secret_obtain(pin, u->pin_source, what)) < 0)
		return ret;
	ERR_clear_error();
	if (PKCS11_login(slot, 0, (*pin)->data) == 0)
		return SG_OK;
	r = last_ckr();
	ret = login_error(u->token, r);
	return transient_ckr(r) ? SG_ERETRY : ret;
}

static int find_key(EVP_PKEY **out, PKCS11_TOKEN *tok, const sg_pkcs11_uri *u)
{
	PKCS11_KEY *keys = NULL, *hit = NULL;
	unsigned int n = 0, i, nhits = 0;
	EVP_PKEY *pk;

	if (PKCS11_enumerate_keys(tok, &keys, &n) != 0)
		return sg_error_set_openssl(SG_ERROR, "cannot list the keys on token %s", u->token);
	for (i = 0; i < n; i++) {
		PKCS11_KEY *k = &keys[i];
		if (!k->isPrivate)
			continue;
		if (u->object && (!k->label || strcmp(k->label, u->object) != 0))
			continue;
		if (u->id && (k->id_len != u->id_len || memcmp(k->id, u->id, u->id_len) != 0))
			continue;
		hit = k;
		nhits++;
	}
	if (nhits == 0)
		return sg_error_set(SG_ERROR, "no private key %s%s%s on token %s (%u keys visible after "
				    "login); check object=/id= in the key URI",
				    u->object ? "labelled " : "with the given id",
				    u->object ? u->object : "", u->object && u->id ? " with that id" : "",
				    u->token, n);
	if (nhits > 1)
		return sg_error_set(SG_ERROR, "%u private keys on token %s match the key URI; add id= "
				    "to choose one", nhits, u->token);
	pk = PKCS11_get_private_key(hit);
	if (!pk)
		return sg_error_set_openssl(SG_ERROR, "cannot use the private key on token %s", u->token);
	*out = pk;
	return SG_OK;
}

/* Load the module, list the slots, pick the token the URI names (or none). */
static int find_slot(sg_pkcs11_key *k, PKCS11_SLOT **slot, const sg_pkcs11_uri *u,
		     const char *module)
{
	unsigned int i;

	*slot = NULL;
	if (PKCS11_CTX_load(k->ctx, module) != 0)
		return sg_error_set_openssl(SG_ERROR, "cannot load the PKCS#11 module %s; set "
					    "pkcs11Module in the profile or module-path in the key URI",
					    module);
	k->loaded = 1;
	if (PKCS11_enumerate_slots(k->ctx, &k->slots, &k->nslots) != 0) {
		k->slots = NULL;
		k->nslots = 0;
		/* transient too: SoftHSM's file store being rewritten by another run */
		sg_error_set_openssl(SG_ERROR, "cannot list the slots of PKCS#11 module %s", module);
		return SG_ERETRY;
	}
	for (i = 0; i < k->nslots && !*slot; i++)
		if (token_matches(k->slots[i].token, u))
			*slot = &k->slots[i];
	return SG_OK;
}

void sg_pkcs11_key_close(sg_pkcs11_key *k)
{
	if (!k)
		return;
	/* The key's methods call into the module: free it before the slots and the module go. */
	EVP_PKEY_free(k->pkey);
	if (k->slots)
		PKCS11_release_all_slots(k->ctx, k->slots, k->nslots);
	if (k->loaded)
		PKCS11_CTX_unload(k->ctx);
	if (k->ctx)
		PKCS11_CTX_free(k->ctx);
	free(k->token);
	free(k);
}

int sg_pkcs11_key_open(sg_pkcs11_key **out, const char *uri, const char *default_module)
{
	sg_pkcs11_uri u;
	sg_pkcs11_key *k = NULL;
	sg_secret *pin = NULL;
	PKCS11_SLOT *slot = NULL;
	const char *module;
	int ret, attempt;

	if ((ret = sg_pkcs11_uri_parse(&u, uri)) < 0)
		return ret;
	ret = SG_ERROR;
	module = sg_pkcs11_module_of(&u, default_module);
	if (module[0] != '/') {
		ret = sg_error_set(SG_ERROR, "PKCS#11 module path %s is not absolute; name the module "
				   "file by its full path", module);
		goto done;
	}
	if (!(k = calloc(1, sizeof(*k))) || !(k->token = strdup(u.token)) ||
	    !(k->ctx = PKCS11_CTX_new())) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	/* A token store being rewritten by another process (SoftHSM's file
	 * store, several signgate runs at once) can hide the token, or make a
	 * login fail, for a moment: look again and log in again, with the
	 * module reloaded, before giving up. */
	for (attempt = 0; attempt < SG_PKCS11_FIND_ATTEMPTS; attempt++) {
		if (attempt > 0) {
			struct timespec ts = { 0, 50000000L * attempt + random() % 20000000L };
			slot = NULL;
			PKCS11_release_all_slots(k->ctx, k->slots, k->nslots);
			k->slots = NULL;
			k->nslots = 0;
			PKCS11_CTX_unload(k->ctx);
			k->loaded = 0;
			nanosleep(&ts, NULL);
		}
		if ((ret = find_slot(k, &slot, &u, module)) == SG_ERETRY || (ret == SG_OK && !slot))
			continue;
		if (ret < 0)
			goto done;
		if ((ret = login(slot, &u, &pin)) != SG_ERETRY)
			break;
	}
	if (ret == SG_ERETRY && slot) {
		ret = SG_ERROR; /* the login's message is set */
		goto done;
	}
	if (ret < 0 && ret != SG_ERETRY)
		goto done;
	if (!slot) {
		ret = no_token_error(k, &u, module);
		goto done;
	}
	if ((ret = find_key(&k->pkey, slot->token, &u)) < 0)
		goto done;
	*out = k;
	k = NULL;
	ret = SG_OK;
done:
	sg_secret_free(pin);
	sg_pkcs11_key_close(k);
	sg_pkcs11_uri_release(&u);
	ERR_clear_error();
	return ret;
}

EVP_PKEY *sg_pkcs11_key_pkey(const sg_pkcs11_key *k)
{
	return k->pkey;
}

const char *sg_pkcs11_key_token(const sg_pkcs11_key *k)
{
	return k->token;
}

/* ---- the public key, without a login ---- */

static int object_matches(const char *label, const unsigned char *id, size_t id_len,
			  const sg_pkcs11_uri *u)
{
	return (!u->object || (label && strcmp(label, u->object) == 0)) &&
	       (!u->id || (id_len == u->id_len && memcmp(id, u->id, id_len) == 0));
}

/* The certificate object first: its key is plain OpenSSL data (libp11 0.4.12
 * leaks the token objects behind a public key object's EVP_PKEY). */
static EVP_PKEY *public_from_token(PKCS11_TOKEN *tok, const sg_pkcs11_uri *u)
{
	PKCS11_KEY *keys = NULL;
	PKCS11_CERT *certs = NULL;
	unsigned int n = 0, i;
	EVP_PKEY *pk = NULL;

	if (PKCS11_enumerate_certs(tok, &certs, &n) == 0)
		for (i = 0; i < n && !pk; i++)
			if (certs[i].x509 && object_matches(certs[i].label, certs[i].id, certs[i].id_len, u))
				pk = X509_get_pubkey(certs[i].x509);
	if (!pk && PKCS11_enumerate_public_keys(tok, &keys, &n) == 0)
		for (i = 0; i < n && !pk; i++)
			if (object_matches(keys[i].label, keys[i].id, keys[i].id_len, u))
				pk = PKCS11_get_public_key(&keys[i]);
	return pk;
}

int sg_pkcs11_public_spki(sg_buf *out, const char *uri, const char *default_module)
{
	sg_pkcs11_uri u;
	sg_pkcs11_key k;
	PKCS11_SLOT *slot = NULL;
	EVP_PKEY *pk = NULL;
	unsigned char *der = NULL;
	int ret, n;

	memset(&k, 0, sizeof(k));
	if ((ret = sg_pkcs11_uri_parse(&u, uri)) < 0)
		return ret;
	ret = SG_ENOTFOUND;
	if (!(k.ctx = PKCS11_CTX_new()))
		goto done;
	if (find_slot(&k, &slot, &u, sg_pkcs11_module_of(&u, default_module)) == SG_OK && slot)
		pk = public_from_token(slot->token, &u);
	/* the key refers to the token's objects: used and freed before they go */
	if (pk && (n = i2d_PUBKEY(pk, &der)) > 0 && sg_buf_put(out, der, (size_t)n) == SG_OK)
		ret = SG_OK;
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
done:
	if (k.slots)
		PKCS11_release_all_slots(k.ctx, k.slots, k.nslots);
	if (k.loaded)
		PKCS11_CTX_unload(k.ctx);
	if (k.ctx)
		PKCS11_CTX_free(k.ctx);
	sg_pkcs11_uri_release(&u);
	sg_error_clear();
	ERR_clear_error();
	return ret;
}
