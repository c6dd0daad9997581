/* Verify a detached OpenPGP signature (FILE.asc) with GPGME, the signer
 * against the profile's allowed fingerprints, and FILE.asc.tsr. */
#include "verify/verify.h"
#include "attest/attest.h"
#include "core/error.h"
#include "tsa/tsa.h"

#include <ctype.h>
#include <gpgme.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sg_pgp_sig {
	char fpr[129];        /* uppercase */
	char uid[512];
	int good;             /* cryptographically good */
	int key_revoked;
	int key_expired;
	time_t key_expires;   /* 0: never (or unknown) */
	time_t sig_created;
};

void sg_pgp_sig_free(sg_pgp_sig *s)
{
	free(s);
}

static int gpg_fail(int code, const char *what, gpgme_error_t e)
{
	return sg_error_set(code, "%s: %s", what, gpgme_strerror(e));
}

static void key_details(sg_pgp_sig *s, gpgme_ctx_t ctx)
{
	gpgme_key_t key = NULL;
	gpgme_subkey_t sub;

	if (gpgme_get_key(ctx, s->fpr, &key, 0) != 0 || !key)
		return;
	if (key->uids && key->uids->uid)
		snprintf(s->uid, sizeof(s->uid), "%s", key->uids->uid);
	for (sub = key->subkeys; sub; sub = sub->next)
		if (sub->fpr && strcasecmp(sub->fpr, s->fpr) == 0 && sub->expires > 0)
			s->key_expires = (time_t)sub->expires;
	gpgme_key_unref(key);
}

int sg_pgp_sig_open(sg_pgp_sig **out, const unsigned char *asc, size_t len, int fd)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t dsig = NULL, dtext = NULL;
	gpgme_verify_result_t vr;
	gpgme_signature_t sig;
	gpgme_error_t e;
	sg_pgp_sig *s = calloc(1, sizeof(*s));
	size_t i;
	int ret = SG_EVERIFY;

	if (!s)
		return sg_error_set(SG_ERROR, "out of memory");
	gpgme_check_version(NULL);
	if ((e = gpgme_new(&ctx)) != 0 || (e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0) {
		ret = gpg_fail(SG_ERROR, "cannot start GPGME", e);
		goto done;
	}
	if ((e = gpgme_data_new_from_mem(&dsig, (const char *)asc, len, 0)) != 0 ||
	    (e = gpgme_data_new_from_fd(&dtext, fd)) != 0) {
		ret = gpg_fail(SG_ERROR, "cannot set up GPGME data", e);
		goto done;
	}
	if ((e = gpgme_op_verify(ctx, dsig, dtext, NULL)) != 0) {
		ret = gpg_fail(SG_EVERIFY, "not an OpenPGP signature", e);
		goto done;
	}
	vr = gpgme_op_verify_result(ctx);
	if (!vr || !(sig = vr->signatures)) {
		ret = sg_error_set(SG_EVERIFY, "no signature found");
		goto done;
	}
	if (sig->next) {
		ret = sg_error_set(SG_EVERIFY, "the OpenPGP signature has several signers, expected one");
		goto done;
	}
	snprintf(s->fpr, sizeof(s->fpr), "%s", sig->fpr ? sig->fpr : "");
	for (i = 0; s->fpr[i]; i++)
		s->fpr[i] = (char)toupper((unsigned char)s->fpr[i]);
	switch (gpg_err_code(sig->status)) {
	case GPG_ERR_NO_ERROR: s->good = 1; break;
	case GPG_ERR_KEY_EXPIRED: s->good = 1; s->key_expired = 1; break;
	case GPG_ERR_SIG_EXPIRED: s->good = 0; break;
	case GPG_ERR_CERT_REVOKED: s->good = 1; s->key_revoked = 1; break;
	case GPG_ERR_NO_PUBKEY:
		ret = sg_error_set(SG_EVERIFY, "the signer's public key %s is not in the keyring; "
				   "import it (gpg --import) to verify", s->fpr);
		goto done;
	default: s->good = 0; break;
	}
	if (sig->summary & GPGME_SIGSUM_KEY_REVOKED)
		s->key_revoked = 1;
	if (sig->summary & GPGME_SIGSUM_KEY_EXPIRED)
		s->key_expired = 1;
	if (!s->good || !s->fpr[0]) {
		ret = sg_error_set(SG_EVERIFY, "the signature does not match the artifact (%s)",
				   gpgme_strerror(sig->status));
		goto done;
	}
	s->sig_created = (time_t)sig->timestamp;
	key_details(s, ctx);
	*out = s;
	s = NULL;
	ret = SG_OK;
done:
	gpgme_data_release(dsig);
	gpgme_data_release(dtext);
	gpgme_release(ctx);
	free(s);
	return ret;
}

int sg_pgp_sig_check(sg_sig_check *out, const sg_pgp_sig *s, const unsigned char *asc,
		     size_t asclen, const unsigned char *tsr, size_t tsrlen,
		     const sg_profile *prof, time_t now)
{
	sg_sig_check c;
	char when[32], ts[32];
	time_t at;
	int err;

	memset(&c, 0, sizeof(c));
	snprintf(c.id_key, sizeof(c.id_key), "Signer-Key-Fingerprint");
	snprintf(c.id, sizeof(c.id), "%s", s->fpr);
	snprintf(c.subject, sizeof(c.subject), "%s", s->uid);
	c.not_after = s->key_expires;
	if (!sg_attest_key_allowed(prof, s->fpr))
		return sg_error_set(SG_EVERIFY, "key %s is not an allowed key of profile \"%s\" "
				    "(profile.%s.allowedKey)", s->fpr, prof->name, prof->name);
	if (tsr && tsrlen) {
		if (!prof->tsa_trust_anchor)
			return sg_error_set(SG_EVERIFY, "the signature has a timestamp but profile \"%s\" "
					    "has no tsaTrustAnchor to check it; add profile.%s.tsaTrustAnchor",
					    prof->name, prof->name);
		if ((err = sg_tsa_verify(&c.ts_time, tsr, tsrlen, 0, asc, asclen,
					 prof->tsa_trust_anchor)) < 0) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s", sg_error_last() ? sg_error_last() : "invalid");
			return sg_error_set(SG_EVERIFY, "the timestamp does not verify against "
					    "tsaTrustAnchor %s: %s", prof->tsa_trust_anchor, msg);
		}
		c.timestamped = 1;
	}
	if (s->key_revoked)
		return sg_error_set(SG_EVERIFY, "key %s is revoked in the keyring", s->fpr);
	at = c.timestamped ? c.ts_time : now;
	sg_time_format(ts, sizeof(ts), c.ts_time);
	if (s->key_expires && at >= s->key_expires) {
		sg_time_format(when, sizeof(when), s->key_expires);
		if (c.timestamped)
			return sg_error_set(SG_EVERIFY, "key %s expired on %s, before the signature's "
					    "timestamp %s", s->fpr, when, ts);
		return sg_error_set(SG_EVERIFY, "key %s expired on %s and the signature has no "
				    "timestamp", s->fpr, when);
	}
	if (s->key_expired && !s->key_expires)
		return sg_error_set(SG_EVERIFY, "key %s has expired", s->fpr);
	*out = c;
	return SG_OK;
}
