/* The OpenPGP side of an attestation: a detached signature over the DSSE
 * pre-authentication encoding, checked with GPGME against the keyring. */
#include "attest/attest.h"
#include "core/error.h"

#include <ctype.h>
#include <gpgme.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int sg_attest_key_allowed(const sg_profile *prof, const char *fpr)
{
	size_t i, n = strlen(fpr), m;

	if (prof->allowed_key.n == 0)
		return prof->key && strcasecmp(prof->key, fpr) == 0;
	for (i = 0; i < prof->allowed_key.n; i++) {
		m = strlen(prof->allowed_key.v[i]);
		/* a full fingerprint, or its long key id suffix (16 hex) */
		if (m >= 16 && m <= n && strcasecmp(fpr + n - m, prof->allowed_key.v[i]) == 0)
			return 1;
	}
	return 0;
}

/* Good signature by a key that is not revoked (an expired key still vouches
 * for what it signed before, as a timestamped artifact signature does). */
static int sig_status(const gpgme_signature_t sig, char fpr[129])
{
	size_t i;

	snprintf(fpr, 129, "%s", sig->fpr ? sig->fpr : "");
	for (i = 0; fpr[i]; i++)
		fpr[i] = (char)toupper((unsigned char)fpr[i]);
	switch (gpg_err_code(sig->status)) {
	case GPG_ERR_NO_ERROR:
	case GPG_ERR_KEY_EXPIRED:
		break;
	case GPG_ERR_NO_PUBKEY:
		return sg_error_set(SG_EVERIFY, "the attestation's signer key %s is not in the keyring; "
				    "import it (gpg --import)", fpr);
	default:
		return sg_error_set(SG_EVERIFY, "the attestation's OpenPGP signature does not verify (%s)",
				    gpgme_strerror(sig->status));
	}
	if ((sig->summary & GPGME_SIGSUM_KEY_REVOKED) || gpg_err_code(sig->status) == GPG_ERR_CERT_REVOKED)
		return sg_error_set(SG_EVERIFY, "the attestation's signer key %s is revoked", fpr);
	return fpr[0] ? SG_OK : sg_error_set(SG_EVERIFY, "the attestation's signature names no key");
}

int sg_attest_pgp_verify(const sg_buf *sig, const sg_buf *data, const char *keyid,
			 const sg_profile *prof)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t dsig = NULL, dtext = NULL;
	gpgme_verify_result_t vr;
	gpgme_error_t e;
	char fpr[129];
	int ret = SG_EVERIFY;

	gpgme_check_version(NULL);
	if ((e = gpgme_new(&ctx)) != 0 || (e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (e = gpgme_data_new_from_mem(&dsig, sig->ptr, sig->size, 0)) != 0 ||
	    (e = gpgme_data_new_from_mem(&dtext, data->ptr, data->size, 0)) != 0) {
		ret = sg_error_set(SG_ERROR, "cannot start GPGME: %s", gpgme_strerror(e));
		goto done;
	}
	gpgme_set_offline(ctx, 1);
	if ((e = gpgme_op_verify(ctx, dsig, dtext, NULL)) != 0) {
		ret = sg_error_set(SG_EVERIFY, "the attestation's signature is not OpenPGP: %s",
				   gpgme_strerror(e));
		goto done;
	}
	vr = gpgme_op_verify_result(ctx);
	if (!vr || !vr->signatures || vr->signatures->next) {
		ret = sg_error_set(SG_EVERIFY, "the attestation's OpenPGP signature must have one signer");
		goto done;
	}
	if ((ret = sig_status(vr->signatures, fpr)) < 0)
		goto done;
	ret = SG_EVERIFY;
	if (strcasecmp(fpr, keyid) != 0)
		sg_error_set(SG_EVERIFY, "the attestation was signed by %s, not by its keyid %s", fpr, keyid);
	else if (!sg_attest_key_allowed(prof, fpr))
		sg_error_set(SG_EVERIFY, "key %s is not an allowed key of profile \"%s\"", fpr, prof->name);
	else
		ret = SG_OK;
done:
	gpgme_data_release(dsig);
	gpgme_data_release(dtext);
	gpgme_release(ctx);
	return ret;
}
