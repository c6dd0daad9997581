/* PKCS#11 private keys through libp11, named by RFC 7512 URIs (private to src/sign). */
#ifndef SG_SIGN_PKCS11_H
#define SG_SIGN_PKCS11_H

#include <stddef.h>
#include <openssl/evp.h>

#include "core/buf.h"

#define SG_PKCS11_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"

/* The attributes signgate uses; everything percent-decoded. */
typedef struct sg_pkcs11_uri {
	char *token;          /* token label */
	char *object;         /* key label */
	unsigned char *id;    /* CKA_ID */
	size_t id_len;
	char *serial, *manufacturer, *model; /* token filters */
	char *pin_source;     /* "file:PATH" */
	char *module_path;
} sg_pkcs11_uri;

/* Parse "pkcs11:" path attributes (`;`) and query attributes (`?`, `&`).
 * pin-value is refused (secrets never come from the policy); unknown
 * standard attributes are refused so a typo cannot select another key.
 * Messages never repeat the URI (it may carry a secret by mistake). */
int sg_pkcs11_uri_parse(sg_pkcs11_uri *out, const char *uri);
void sg_pkcs11_uri_release(sg_pkcs11_uri *u);

/* The module a URI's key is loaded from: module-path, else default_module,
 * else SG_PKCS11_DEFAULT_MODULE. */
const char *sg_pkcs11_module_of(const sg_pkcs11_uri *u, const char *default_module);

/* The public key a URI names, read without logging in (no PIN): the public
 * key object, else the certificate object, with the URI's label and/or id
 * on its token, as the DER of its SubjectPublicKeyInfo (out initialised).
 * SG_ENOTFOUND when the module, token or object is not there (the key
 * cannot be identified). */
int sg_pkcs11_public_spki(sg_buf *out, const char *uri, const char *default_module);

typedef struct sg_pkcs11_key sg_pkcs11_key;

/* Load the module (URI module-path, else default_module, else
 * SG_PKCS11_DEFAULT_MODULE), find the token by label, log in with a PIN
 * from sg_secret_obtain and find the private key by label and/or id.
 * Wrong or locked PIN: SG_EDENIED. The module stays loaded until close. */
int sg_pkcs11_key_open(sg_pkcs11_key **out, const char *uri, const char *default_module);
/* The key (owned by k; valid until sg_pkcs11_key_close). */
EVP_PKEY *sg_pkcs11_key_pkey(const sg_pkcs11_key *k);
const char *sg_pkcs11_key_token(const sg_pkcs11_key *k);
void sg_pkcs11_key_close(sg_pkcs11_key *k);

#endif
