/* The "openpgp" signing backend: GPGME, detached armored signatures.
 *
 * The key is named by its full fingerprint. Its secret lives with gpg-agent
 * (on disk, or on an OpenPGP card); the passphrase goes to the agent through
 * GPGME's loopback callback, fetched with sg_secret_obtain only when gpg
 * asks. gpg reads the artifact itself; we feed it the bytes with pread and
 * hash them on the way, so a file that changed since the scan is refused.
 * After signing, the result must name one of the key's eligible signing
 * (sub)keys and a digest of at least 256 bits. */
#include "sign/sign.h"

#include "core/error.h"
#include "core/secret.h"
#include "core/str.h"

#include <ctype.h>
#include <errno.h>
#include <gpgme.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SG_PGP_MAX_SIG (64 * 1024)  /* an armored detached signature is ~1 KiB */
#define SG_PGP_MAX_SUBKEYS 16

struct sg_signer {
	gpgme_ctx_t ctx;
	gpgme_key_t key;
	char fpr[65];                   /* primary fingerprint, uppercase */
	char *profile;
	char what[96];                  /* "passphrase for key FPR" */
	sg_secret *secret;              /* obtained on the agent's first request */
	int cb_err;                     /* sg_secret_obtain's error inside the callback */
	int bad_passphrase;
	int hardware;
	char card[64];
	/* The (sub)keys gpg may sign with and still satisfy the profile. */
	const char *eligible[SG_PGP_MAX_SUBKEYS];
	size_t neligible;
};

/* Reading the artifact for gpg: pread from our own offset, hashing the bytes. */
typedef struct pgp_reader {
	int fd;
	off_t off;
	EVP_MD_CTX *md;
	int err;                        /* errno of a failed read */
} pgp_reader;

static const char *pgp_homedir(void)
{
	const char *h = gpgme_get_dirinfo("homedir");
	return h ? h : "~/.gnupg";
}

/* 40 hex (v4) or 64 hex (v5) digits, nothing else; uppercased into out. */
static int pgp_parse_fpr(char out[65], const char *key, const char *profile)
{
	if (!sg_str_is_hex(key, 40) && !sg_str_is_hex(key, 64))
		goto bad;
	memcpy(out, key, strlen(key) + 1);
	sg_str_upper(out);
	return SG_OK;
bad:
	return sg_error_set(SG_ERROR, "profile \"%s\": key must be a full fingerprint (40 or 64 "
			    "hex digits, no spaces or 0x), not \"%.80s\"; find it with "
			    "gpg --list-secret-keys --with-colons (the fpr: line)",
			    profile, key ? key : "");
}

static gpgme_error_t pgp_passphrase_cb(void *hook, const char *uid_hint,
				       const char *passphrase_info, int prev_was_bad, int fd)
{
	sg_signer *s = hook;
	int err;

	(void)uid_hint;
	(void)passphrase_info;
	if (prev_was_bad) {
		/* Asking again would only repeat the same secret: stop here. */
		s->bad_passphrase = 1;
		sg_secret_free(s->secret);
		s->secret = NULL;
		return gpg_error(GPG_ERR_CANCELED);
	}
	if (!s->secret) {
		if ((err = sg_secret_obtain(&s->secret, NULL, s->what)) < 0) {
			/* a fingerprint key has no URI, so no pin-source: advice that applies */
			s->cb_err = err == SG_ERROR && !isatty(STDIN_FILENO) ?
				sg_error_set(SG_ERROR, "no %s and no terminal to ask on: set SIGNGATE_PIN, "
					     "or let gpg-agent hold it (unlock the key once with gpg on this "
					     "machine, or gpg-preset-passphrase)", s->what) : err;
			return gpg_error(GPG_ERR_CANCELED);
		}
		if (memchr(s->secret->data, '\n', s->secret->len)) {
			s->cb_err = sg_error_set(SG_ERROR, "the %s contains a newline, which gpg-agent "
						 "cannot take", s->what);
			sg_secret_free(s->secret);
			s->secret = NULL;
			return gpg_error(GPG_ERR_CANCELED);
		}
	}
	if (gpgme_io_writen(fd, s->secret->data, s->secret->len) != 0 ||
	    gpgme_io_writen(fd, "\n", 1) != 0)
		return gpgme_error_from_syserror();
	return 0;
}

static int pgp_context(sg_signer *s)
{
	gpgme_error_t e;

	if (!gpgme_check_version("1.10.0"))
		return sg_error_set(SG_ERROR, "GPGME 1.10 or later is required (found %s)",
				    gpgme_check_version(NULL));
	if ((e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP)) != 0)
		return sg_error_set(SG_ERROR, "gpg is not usable: %s; install gnupg 2.2 or later",
				    gpgme_strerror(e));
	if ((e = gpgme_new(&s->ctx)) != 0 ||
	    (e = gpgme_set_protocol(s->ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (e = gpgme_set_pinentry_mode(s->ctx, GPGME_PINENTRY_MODE_LOOPBACK)) != 0 ||
	    (e = gpgme_set_keylist_mode(s->ctx, GPGME_KEYLIST_MODE_LOCAL)) != 0)
		return sg_error_set(SG_ERROR, "cannot set up GPGME: %s", gpgme_strerror(e));
	gpgme_set_armor(s->ctx, 1);
	gpgme_set_textmode(s->ctx, 0);
	gpgme_set_offline(s->ctx, 1);
	gpgme_set_passphrase_cb(s->ctx, pgp_passphrase_cb, s);
	return SG_OK;
}

static int pgp_load_key(sg_signer *s)
{
	gpgme_error_t e = gpgme_get_key(s->ctx, s->fpr, &s->key, 1);

	if (gpg_err_code(e) == GPG_ERR_EOF)
		return sg_error_set(SG_ERROR, "profile \"%s\": no secret key %s in GNUPGHOME %s; "
				    "import it there or set GNUPGHOME", s->profile, s->fpr,
				    pgp_homedir());
	if (e != 0)
		return sg_error_set(SG_ERROR, "profile \"%s\": cannot look up secret key %s in "
				    "GNUPGHOME %s: %s", s->profile, s->fpr, pgp_homedir(),
				    gpgme_strerror(e));
	if (!s->key->subkeys || !s->key->subkeys->fpr ||
	    strcasecmp(s->key->subkeys->fpr, s->fpr) != 0)
		return sg_error_set(SG_ERROR, "profile \"%s\": %s is a subkey of %s; set key to the "
				    "primary fingerprint", s->profile, s->fpr,
				    s->key->subkeys && s->key->subkeys->fpr ?
				    s->key->subkeys->fpr : "another key");
	return SG_OK;
}

static const char *pgp_key_state(const gpgme_key_t k)
{
	if (k->revoked)
		return "revoked";
	if (k->expired)
		return "expired";
	if (k->disabled)
		return "disabled";
	if (k->invalid)
		return "invalid";
	return NULL;
}

static const char *pgp_subkey_state(const gpgme_subkey_t sk)
{
	if (sk->revoked)
		return "revoked";
	if (sk->expired)
		return "expired";
	if (sk->disabled)
		return "disabled";
	if (sk->invalid)
		return "invalid";
	return NULL;
}

/* Which signing (sub)keys may sign for this profile; deny with the reason
 * that excluded the last candidate when none may. */
static int pgp_check_key(sg_signer *s, const sg_profile *prof)
{
	const char *state = pgp_key_state(s->key);
	int on_disk = 0, offline = 0, old = 0, any_sign = 0, all_card = 1;
	time_t now = time(NULL);
	gpgme_subkey_t sk;

	if (state)
		return sg_error_set(SG_EDENIED, "profile \"%s\": key %s is %s; use a valid key",
				    s->profile, s->fpr, state);
	for (sk = s->key->subkeys; sk; sk = sk->next) {
		if (!sk->can_sign || pgp_subkey_state(sk))
			continue;
		any_sign = 1;
		if (!sk->secret && !sk->is_cardkey) {
			offline = 1;        /* "#" stub: the secret is not here */
			continue;
		}
		if (prof->require_hardware_key && !sk->is_cardkey) {
			on_disk = 1;
			continue;
		}
		if (prof->max_key_age_days > 0 && sk->timestamp > 0 &&
		    now - sk->timestamp > (time_t)prof->max_key_age_days * 86400) {
			old = 1;
			continue;
		}
		if (s->neligible == SG_PGP_MAX_SUBKEYS)
			break;
		s->eligible[s->neligible++] = sk->fpr;
		if (sk->is_cardkey) {
			if (!s->card[0] && sk->card_number)
				snprintf(s->card, sizeof(s->card), "%s", sk->card_number);
		} else {
			all_card = 0;
		}
	}
	if (s->neligible == 0) {
		if (on_disk)
			return sg_error_set(SG_EDENIED, "profile %s requires a hardware key (OpenPGP "
					    "card); key %s has its secret on disk", s->profile, s->fpr);
		if (old)
			return sg_error_set(SG_EDENIED, "profile \"%s\": the signing key of %s is older "
					    "than maxKeyAgeDays = %d; rotate to a new key",
					    s->profile, s->fpr, prof->max_key_age_days);
		if (offline)
			return sg_error_set(SG_EDENIED, "profile \"%s\": the secret of key %s is offline "
					    "(a stub in GNUPGHOME %s); insert its card or import "
					    "the secret key", s->profile, s->fpr, pgp_homedir());
		return sg_error_set(SG_EDENIED, "profile \"%s\": key %s has no valid signing key%s",
				    s->profile, s->fpr, any_sign ? "" : " (not revoked or expired)");
	}
	s->hardware = all_card;
	return SG_OK;
}

static void pgp_close(sg_signer *s);

static int pgp_open(sg_signer **out, const sg_profile *prof)
{
	sg_signer *s = calloc(1, sizeof(*s));
	int ret = SG_EDENIED;
	int err;

	if (!s)
		return sg_error_set(SG_ERROR, "out of memory");
	if (!(s->profile = strdup(prof->name ? prof->name : "")))
		{ ret = sg_error_set(SG_ERROR, "out of memory"); goto done; }
	if ((err = pgp_parse_fpr(s->fpr, prof->key, s->profile)) < 0 ||
	    (err = pgp_context(s)) < 0 ||
	    (err = pgp_load_key(s)) < 0 ||
	    (err = pgp_check_key(s, prof)) < 0)
		{ ret = err; goto done; }
	snprintf(s->what, sizeof(s->what), "passphrase for key %s", s->fpr);
	*out = s;
	s = NULL;
	ret = SG_OK;
done:
	if (s)
		pgp_close(s);
	return ret;
}

static int pgp_info(const sg_signer *s, sg_signer_info *out)
{
	sg_signer_info i;
	gpgme_user_id_t uid;

	memset(&i, 0, sizeof(i));
	snprintf(i.id_key, sizeof(i.id_key), "Signer-Key-Fingerprint");
	snprintf(i.id, sizeof(i.id), "%s", s->fpr);
	for (uid = s->key->uids; uid; uid = uid->next)
		if (!uid->revoked && !uid->invalid && uid->uid)
			break;
	snprintf(i.subject, sizeof(i.subject), "%s",
		 uid ? uid->uid : (s->key->uids && s->key->uids->uid ? s->key->uids->uid : ""));
	i.hardware = s->hardware;
	*out = i;
	return SG_OK;
}

static ssize_t pgp_read_cb(void *handle, void *buf, size_t size)
{
	pgp_reader *r = handle;
	ssize_t n;

	do {
		n = pread(r->fd, buf, size, r->off);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->err = errno;
		return -1;
	}
	if (n > 0 && EVP_DigestUpdate(r->md, buf, (size_t)n) != 1) {
		r->err = EIO;
		errno = EIO;
		return -1;
	}
	r->off += n;
	return n;
}

static int pgp_sign_error(sg_signer *s, gpgme_error_t e)
{
	gpgme_err_code_t code = gpgme_err_code(e);

	if (s->cb_err)
		return s->cb_err;     /* message set where the secret was refused */
	if (s->bad_passphrase || code == GPG_ERR_BAD_PASSPHRASE) {
		/* Forget it, so that a later attempt asks again. */
		sg_secret_free(s->secret);
		s->secret = NULL;
		return sg_error_set(SG_EDENIED, "bad passphrase for key %s", s->fpr);
	}
	if (code == GPG_ERR_UNUSABLE_SECKEY || code == GPG_ERR_NO_SECKEY ||
	    code == GPG_ERR_NO_AGENT || code == GPG_ERR_AGENT ||
	    gpgme_err_source(e) == GPG_ERR_SOURCE_GPGAGENT)
		return sg_error_set(SG_ERROR, "gpg could not sign with key %s: %s; check that "
				    "gpg-agent runs and holds its secret (gpgconf --launch gpg-agent; "
				    "gpg -K %s) in GNUPGHOME %s%s%s%s", s->fpr, gpgme_strerror(e), s->fpr,
				    pgp_homedir(), s->card[0] ? ", and that OpenPGP card " : "",
				    s->card, s->card[0] ? " is inserted" : "");
	return sg_error_set(SG_ERROR, "gpg could not sign with key %s (GNUPGHOME %s): %s",
			    s->fpr, pgp_homedir(), gpgme_strerror(e));
}

static int pgp_is_eligible(const sg_signer *s, const char *fpr)
{
	size_t i;

	for (i = 0; fpr && i < s->neligible; i++)
		if (strcasecmp(s->eligible[i], fpr) == 0)
			return 1;
	return 0;
}

/* The signature gpg reports must be the one we asked for. */
static int pgp_check_result(sg_signer *s)
{
	gpgme_sign_result_t r = gpgme_op_sign_result(s->ctx);
	gpgme_new_signature_t sig;

	if (!r || r->invalid_signers)
		return sg_error_set(SG_ERROR, "gpg refused key %s as a signer: %s", s->fpr,
				    r && r->invalid_signers ?
				    gpgme_strerror(r->invalid_signers->reason) : "no result");
	sig = r->signatures;
	if (!sig || sig->next || sig->type != GPGME_SIG_MODE_DETACH)
		return sg_error_set(SG_ERROR, "gpg did not make exactly one detached signature "
				    "with key %s", s->fpr);
	if (!pgp_is_eligible(s, sig->fpr))
		return sg_error_set(SG_EDENIED, "gpg signed with %s, which is not an allowed signing "
				    "key of %s for profile \"%s\"%s", sig->fpr ? sig->fpr : "(none)",
				    s->fpr, s->profile, s->hardware ? " (not on the card)" : "");
	if (sig->hash_algo != GPGME_MD_SHA256 && sig->hash_algo != GPGME_MD_SHA384 &&
	    sig->hash_algo != GPGME_MD_SHA512)
		return sg_error_set(SG_ERROR, "gpg signed with digest %s; signgate requires SHA-256 "
				    "or better: add personal-digest-preferences SHA512 SHA384 SHA256 "
				    "to %s/gpg.conf", gpgme_hash_algo_name(sig->hash_algo) ?
				    gpgme_hash_algo_name(sig->hash_algo) : "unknown", pgp_homedir());
	return SG_OK;
}

/* The bytes gpg signed must be the bytes that were scanned. */
static int pgp_check_read(const pgp_reader *r, const sg_artifact *a)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (r->err)
		return sg_error_set(SG_ERROR, "cannot read %s: %s", a->path, strerror(r->err));
	if (EVP_DigestFinal_ex(r->md, md, &mdlen) != 1 || mdlen != sizeof(a->sha256))
		return sg_error_set_openssl(SG_ERROR, "SHA-256 of %s failed", a->path);
	if ((uint64_t)r->off != a->size || CRYPTO_memcmp(md, a->sha256, sizeof(a->sha256)) != 0)
		return sg_error_set(SG_ERROR, "%s changed between the scan and the signature; "
				    "nothing was signed, run signgate again", a->path);
	return SG_OK;
}

static int pgp_stamp(sg_signature *sig, const sg_tsa_config *tsa)
{
	sg_tsa_token tok;
	int err;

	memset(&tok, 0, sizeof(tok));
	if ((err = sg_tsa_stamp(&tok, tsa, (const unsigned char *)sig->sig.ptr, sig->sig.size)) < 0)
		goto done;
	sig->tsr = tok.response;
	sg_buf_init(&tok.response, 0);
	sig->ts_url = tok.url;
	tok.url = NULL;
	sig->ts_time = tok.gen_time;
	snprintf(sig->ts_text, sizeof(sig->ts_text), "%s", tok.gen_time_text);
	sig->timestamped = 1;
done:
	sg_tsa_token_release(&tok);
	return err;
}

/* One detached signature by the profile's key, checked to be the one asked for. */
static int pgp_detach_sign(sg_signer *s, gpgme_data_t in, gpgme_data_t sigdata)
{
	gpgme_error_t e;

	s->cb_err = 0;
	s->bad_passphrase = 0;
	gpgme_signers_clear(s->ctx);
	if ((e = gpgme_signers_add(s->ctx, s->key)) != 0)
		return sg_error_set(SG_ERROR, "GPGME signer %s: %s", s->fpr, gpgme_strerror(e));
	if ((e = gpgme_op_sign(s->ctx, in, sigdata, GPGME_SIG_MODE_DETACH)) != 0)
		return pgp_sign_error(s, e);
	return pgp_check_result(s);
}

static int pgp_sign(sg_signer *s, const sg_artifact *a, const sg_tsa_config *tsa,
		    sg_signature *out)
{
	struct gpgme_data_cbs cbs = { pgp_read_cb, NULL, NULL, NULL };
	pgp_reader rd = { a->fd, 0, NULL, 0 };
	gpgme_data_t in = NULL, sigdata = NULL;
	sg_signature sig;
	char *mem = NULL;
	size_t memlen = 0;
	gpgme_error_t e;
	int ret = SG_EDENIED;
	int err;

	memset(&sig, 0, sizeof(sig));
	sg_buf_init(&sig.sig, SG_PGP_MAX_SIG);
	if (!(rd.md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(rd.md, EVP_sha256(), NULL) != 1)
		{ ret = sg_error_set_openssl(SG_ERROR, "cannot start SHA-256"); goto done; }
	if ((e = gpgme_data_new_from_cbs(&in, &cbs, &rd)) != 0 ||
	    (e = gpgme_data_new(&sigdata)) != 0)
		{ ret = sg_error_set(SG_ERROR, "GPGME data: %s", gpgme_strerror(e)); goto done; }
	if ((err = pgp_detach_sign(s, in, sigdata)) < 0 || (err = pgp_check_read(&rd, a)) < 0)
		{ ret = err; goto done; }
	mem = gpgme_data_release_and_get_mem(sigdata, &memlen);
	sigdata = NULL;
	if (!mem || memlen == 0)
		{ ret = sg_error_set(SG_ERROR, "gpg produced an empty signature for %s", a->path); goto done; }
	if ((err = sg_buf_put(&sig.sig, mem, memlen)) < 0)
		{ ret = err; goto done; }
	if (tsa && (err = pgp_stamp(&sig, tsa)) < 0) {
		out->tsa_failed = 1; /* only the timestamp failed: the caller may retry without */
		ret = err;
		goto done;
	}
	*out = sig;
	memset(&sig, 0, sizeof(sig));
	ret = SG_OK;
done:
	gpgme_free(mem);
	gpgme_data_release(sigdata);
	gpgme_data_release(in);
	EVP_MD_CTX_free(rd.md);
	sg_buf_dispose(&sig.sig);
	sg_buf_dispose(&sig.tsr);
	free(sig.ts_url);
	return ret;
}

/* The attestation: a binary detached signature over bytes in memory. */
static int pgp_sign_raw(sg_signer *s, const void *data, size_t len, sg_buf *sig)
{
	gpgme_data_t in = NULL, sigdata = NULL;
	char *mem = NULL;
	size_t memlen = 0;
	gpgme_error_t e;
	int ret;

	gpgme_set_armor(s->ctx, 0);
	if ((e = gpgme_data_new_from_mem(&in, data, len, 0)) != 0 ||
	    (e = gpgme_data_new(&sigdata)) != 0) {
		ret = sg_error_set(SG_ERROR, "GPGME data: %s", gpgme_strerror(e));
		goto done;
	}
	if ((ret = pgp_detach_sign(s, in, sigdata)) < 0)
		goto done;
	mem = gpgme_data_release_and_get_mem(sigdata, &memlen);
	sigdata = NULL;
	if (!mem || memlen == 0 || memlen > SG_PGP_MAX_SIG) {
		ret = sg_error_set(SG_ERROR, "gpg produced no usable attestation signature");
		goto done;
	}
	ret = sg_buf_put(sig, mem, memlen);
done:
	gpgme_set_armor(s->ctx, 1);
	gpgme_free(mem);
	gpgme_data_release(sigdata);
	gpgme_data_release(in);
	return ret;
}

static int pgp_certs(const sg_signer *s, sg_buf **der, size_t *n)
{
	(void)s;
	*der = NULL;
	*n = 0;
	return SG_OK;
}

static void pgp_close(sg_signer *s)
{
	if (!s)
		return;
	sg_secret_free(s->secret);
	if (s->key)
		gpgme_key_unref(s->key);
	if (s->ctx)
		gpgme_release(s->ctx);
	free(s->profile);
	free(s);
}

const sg_sign_backend sg_sign_openpgp = {
	.name = "openpgp",
	.suffix = ".asc",
	.tsr_suffix = ".asc.tsr",
	.open = pgp_open,
	.info = pgp_info,
	.sign = pgp_sign,
	.close = pgp_close,
	.sign_raw = pgp_sign_raw,
	.certs = pgp_certs,
};
