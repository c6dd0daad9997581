/* `signgate doctor`: check the setup one item at a time -- keys reachable
 * (without asking a PIN unless told to), key file permissions, certificate
 * dates and chain, the scan database, each TSA, the hooks. Each check is
 * reported as OK, WARN or FAIL through a callback; only src/cli prints. */
#include "verify/verify.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/file.h"
#include "gate/gate.h"
#include "core/secret.h"
#include "scan/scan.h"
#include "sign/keys.h"
#include "tsa/tsa.h"

#include <dirent.h>
#include <errno.h>
#include <gpgme.h>
#include <libp11.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCAN_DB_MAX_AGE_DAYS 7

typedef struct doctor {
	sg_doctor_cb cb;
	void *payload;
	sg_check_status worst;
	time_t now;
	const sg_doctor_opts *opts;
} doctor;

static void report(doctor *d, sg_check_status st, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(doctor *d, sg_check_status st, const char *what, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (st > d->worst)
		d->worst = st;
	d->cb(st, what, detail, d->payload);
}

static const char *last_error(void)
{
	return sg_error_last() ? sg_error_last() : "failed";
}

/* ---- PKCS#11 URI (RFC 7512): the attributes doctor needs ---- */

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Copy the percent-decoded value of attribute `name` into out; 0 when absent. */
static int uri_attr(char *out, size_t outlen, const char *uri, const char *name)
{
	size_t nlen = strlen(name), k = 0;
	const char *p = uri + strlen("pkcs11:");

	while (*p) {
		size_t len = strcspn(p, ";?&");
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1, *end = p + len;
			while (v < end && k + 1 < outlen) {
				if (*v == '%' && end - v >= 3 && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
					out[k++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
					v += 3;
				} else {
					out[k++] = *v++;
				}
			}
			out[k] = '\0';
			return 1;
		}
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

static void check_pkcs11(doctor *d, const sg_profile *prof, const char *what)
{
	char label[256], module[1024], object[256], pinsrc[1024];
	PKCS11_CTX *ctx = PKCS11_CTX_new();
	PKCS11_SLOT *slots = NULL, *slot = NULL;
	PKCS11_KEY *keys = NULL;
	sg_secret *pin = NULL;
	unsigned int nslots = 0, nkeys = 0, i;
	int found_key = 0, loaded = 0;

	if (!uri_attr(label, sizeof(label), prof->key, "token")) {
		report(d, SG_CHECK_FAIL, what, "%s names no token=LABEL", prof->key);
		goto done;
	}
	if (!uri_attr(module, sizeof(module), prof->key, "module-path"))
		snprintf(module, sizeof(module), "%s", prof->pkcs11_module ? prof->pkcs11_module :
			 "/usr/lib/softhsm/libsofthsm2.so");
	if (!ctx || PKCS11_CTX_load(ctx, module) < 0) {
		report(d, SG_CHECK_FAIL, what, "cannot load the PKCS#11 module %s", module);
		goto done;
	}
	loaded = 1;
	if (PKCS11_enumerate_slots(ctx, &slots, &nslots) < 0) {
		report(d, SG_CHECK_FAIL, what, "cannot list the slots of %s", module);
		goto done;
	}
	for (i = 0; i < nslots && !slot; i++)
		if (slots[i].token && slots[i].token->label && strcmp(slots[i].token->label, label) == 0)
			slot = &slots[i];
	if (!slot) {
		report(d, SG_CHECK_FAIL, what, "no token labelled \"%s\" in %s; insert it or check "
		       "the URI", label, module);
		goto done;
	}
	if (!d->opts->login) {
		report(d, SG_CHECK_OK, what, "token \"%s\" present (%s); not logged in (use --login "
		       "to check the PIN and key)", label, module);
		goto done;
	}
	if (!uri_attr(pinsrc, sizeof(pinsrc), prof->key, "pin-source"))
		pinsrc[0] = '\0';
	if (sg_secret_obtain(&pin, pinsrc[0] ? pinsrc : NULL, "PIN for the token") < 0) {
		report(d, SG_CHECK_FAIL, what, "%s", last_error());
		goto done;
	}
	if (PKCS11_login(slot, 0, pin->data) < 0) {
		report(d, SG_CHECK_FAIL, what, "login to token \"%s\" failed: wrong PIN?", label);
		goto done;
	}
	if (!uri_attr(object, sizeof(object), prof->key, "object"))
		object[0] = '\0';
	if (PKCS11_enumerate_keys(slot->token, &keys, &nkeys) == 0)
		for (i = 0; i < nkeys; i++)
			if (!object[0] || (keys[i].label && strcmp(keys[i].label, object) == 0))
				found_key = 1;
	if (found_key)
		report(d, SG_CHECK_OK, what, "token \"%s\": logged in, private key \"%s\" found", label,
		       object[0] ? object : "(any)");
	else
		report(d, SG_CHECK_FAIL, what, "token \"%s\": no private key \"%s\"", label, object);
done:
	sg_secret_free(pin);
	if (slots)
		PKCS11_release_all_slots(ctx, slots, nslots);
	/* libp11 crashes unloading a module that never loaded */
	if (loaded)
		PKCS11_CTX_unload(ctx);
	if (ctx)
		PKCS11_CTX_free(ctx);
	ERR_clear_error();
}

static void check_file_key(doctor *d, const sg_profile *prof, const char *base, const char *what)
{
	const char *path = prof->key + strlen("file:");
	char *full = NULL;

	if (path[0] != '/' && base && asprintf(&full, "%s/%s", base, path) >= 0)
		path = full;
	if (prof->require_hardware_key)
		report(d, SG_CHECK_FAIL, what, "%s is a file key but profile.%s.requireHardwareKey is "
		       "true; move the key to a token", path, prof->name);
	else if (sg_file_check_private(path) < 0)
		report(d, SG_CHECK_FAIL, what, "%s", last_error());
	else
		report(d, SG_CHECK_OK, what, "%s is private (0600/0400, yours)", path);
	free(full);
}

static void check_gpg_key(doctor *d, const sg_profile *prof, const char *what)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	int card = 0;
	gpgme_subkey_t sub;

	gpgme_check_version(NULL);
	if (gpgme_new(&ctx) != 0) {
		report(d, SG_CHECK_FAIL, what, "cannot start GPGME");
		return;
	}
	if (gpgme_get_key(ctx, prof->key, &key, 1) != 0 || !key) {
		report(d, SG_CHECK_FAIL, what, "no secret key %s in the keyring (GNUPGHOME=%s)",
		       prof->key, getenv("GNUPGHOME") ? getenv("GNUPGHOME") : "~/.gnupg");
		goto done;
	}
	for (sub = key->subkeys; sub; sub = sub->next)
		card |= sub->is_cardkey;
	if (key->revoked || key->expired)
		report(d, SG_CHECK_FAIL, what, "key %s is %s", prof->key, key->revoked ? "revoked" : "expired");
	else if (prof->require_hardware_key && !card)
		report(d, SG_CHECK_FAIL, what, "key %s is not on a card but profile.%s.requireHardwareKey "
		       "is true", prof->key, prof->name);
	else
		report(d, SG_CHECK_OK, what, "secret key %s present%s", prof->key, card ? " on a card" : "");
done:
	gpgme_key_unref(key);
	gpgme_release(ctx);
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = NULL;

	if (f) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	return x;
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	return t && ASN1_TIME_to_tm(t, &tm) == 1 ? timegm(&tm) : 0;
}

static int chain_ok(char *why, size_t wlen, X509 *leaf, const sg_profile *prof, time_t now)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *link;
	FILE *f;
	int ok = 0;

	snprintf(why, wlen, "cannot set up verification");
	if (!store || !ctx || !untrusted)
		goto done;
	if (X509_STORE_load_file(store, prof->trust_anchor) != 1) {
		snprintf(why, wlen, "cannot read trustAnchor %s", prof->trust_anchor);
		goto done;
	}
	if (prof->chain && (f = fopen(prof->chain, "r")) != NULL) {
		while ((link = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
			if (!sk_X509_push(untrusted, link))
				X509_free(link);
		fclose(f);
	}
	if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1)
		goto done;
	X509_VERIFY_PARAM_set_purpose(X509_STORE_CTX_get0_param(ctx), X509_PURPOSE_ANY);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), now);
	ok = X509_verify_cert(ctx) == 1;
	if (!ok)
		snprintf(why, wlen, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
done:
	ERR_clear_error();
	sk_X509_pop_free(untrusted, X509_free);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static void check_cert(doctor *d, const sg_policy *pol, const sg_profile *prof)
{
	char what[256], why[256], fp[65];
	const sg_revocation *r;
	char *warning = NULL;
	X509 *x;

	snprintf(what, sizeof(what), "profile %s: certificate", prof->name);
	if (!prof->cert) {
		report(d, SG_CHECK_FAIL, what, "profile.%s.cert is not set", prof->name);
		return;
	}
	if (!(x = read_cert(prof->cert))) {
		/* a missing file, one that cannot be opened, and one that is no
		 * certificate are three different fixes */
		if (access(prof->cert, F_OK) != 0 && errno == ENOENT)
			report(d, SG_CHECK_FAIL, what, "profile.%s.cert: %s does not exist; correct the path "
			       "in the policy or put the certificate there", prof->name, prof->cert);
		else if (access(prof->cert, R_OK) != 0)
			report(d, SG_CHECK_FAIL, what, "profile.%s.cert: cannot open %s: %s", prof->name,
			       prof->cert, strerror(errno));
		else
			report(d, SG_CHECK_FAIL, what, "profile.%s.cert: %s is not a PEM certificate "
			       "(-----BEGIN CERTIFICATE-----)", prof->name, prof->cert);
		ERR_clear_error();
		return;
	}
	if (sg_cert_check_dates(&warning, prof, asn1_time(X509_get0_notBefore(x)),
				 asn1_time(X509_get0_notAfter(x)), d->now) < 0)
		report(d, SG_CHECK_FAIL, what, "%s", last_error());
	else if (warning)
		report(d, SG_CHECK_WARN, what, "%s", warning);
	else
		report(d, SG_CHECK_OK, what, "%s valid until %s", prof->cert,
		       (sg_time_format(why, sizeof(why), asn1_time(X509_get0_notAfter(x))), why));
	free(warning);
	if (!(X509_get_extension_flags(x) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(x) & XKU_CODE_SIGN))
		report(d, SG_CHECK_FAIL, what, "%s has no codeSigning extended key usage", prof->cert);
	snprintf(what, sizeof(what), "profile %s: chain", prof->name);
	if (!prof->trust_anchor)
		report(d, SG_CHECK_FAIL, what, "profile.%s.trustAnchor is not set", prof->name);
	else if (!chain_ok(why, sizeof(why), x, prof, d->now))
		report(d, SG_CHECK_FAIL, what, "%s does not chain to %s: %s", prof->cert,
		       prof->trust_anchor, why);
	else
		report(d, SG_CHECK_OK, what, "%s chains to %s", prof->cert, prof->trust_anchor);
	if (sg_cert_file_sha256(fp, prof->cert) == 0 && (r = sg_policy_revocation(pol, fp)) != NULL)
		report(d, SG_CHECK_FAIL, what, "certificate %s is revoked since %s (%s); rotate it",
		       fp, r->since_text, r->reason ? r->reason : "");
	sg_error_clear();
	X509_free(x);
}

static void check_tsas(doctor *d, const sg_profile *prof)
{
	static const char probe[] = "signgate doctor";
	char what[256];
	size_t i, good = 0;
	sg_check_status miss;

	snprintf(what, sizeof(what), "profile %s: tsa", prof->name);
	if (prof->tsa.n == 0) {
		report(d, prof->require_timestamp ? SG_CHECK_FAIL : SG_CHECK_WARN, what,
		       "no tsa listed%s", prof->require_timestamp ? " but requireTimestamp is true" :
		       "; signatures will not outlive the certificate");
		return;
	}
	if (!prof->tsa_trust_anchor) {
		report(d, SG_CHECK_FAIL, what, "profile.%s.tsaTrustAnchor is not set", prof->name);
		return;
	}
	if (d->opts->skip_tsa) {
		report(d, SG_CHECK_WARN, what, "%zu TSA(s) not contacted", prof->tsa.n);
		return;
	}
	for (i = 0; i < prof->tsa.n; i++) {
		sg_strlist one = { &prof->tsa.v[i], 1 };
		sg_tsa_config cfg = { &one, prof->tsa_trust_anchor, 5000, 10000, 1, 256 * 1024 };
		sg_tsa_token tok;

		memset(&tok, 0, sizeof(tok));
		snprintf(what, sizeof(what), "profile %s: tsa %s", prof->name, prof->tsa.v[i]);
		if (sg_tsa_stamp(&tok, &cfg, (const unsigned char *)probe, sizeof(probe) - 1) == 0) {
			good++;
			report(d, SG_CHECK_OK, what, "answered with a valid token (genTime %s)",
			       tok.gen_time_text);
		} else {
			/* one TSA down is survivable when another answers */
			miss = prof->tsa.n > 1 ? SG_CHECK_WARN : prof->require_timestamp ? SG_CHECK_FAIL
											: SG_CHECK_WARN;
			report(d, miss, what, "%s", last_error());
		}
		sg_tsa_token_release(&tok);
	}
	snprintf(what, sizeof(what), "profile %s: tsa", prof->name);
	if (good == 0 && prof->tsa.n > 1)
		report(d, prof->require_timestamp ? SG_CHECK_FAIL : SG_CHECK_WARN, what,
		       "none of the %zu TSAs answered", prof->tsa.n);
	sg_error_clear();
}

static void check_profile(doctor *d, const sg_policy *pol, const sg_profile *prof)
{
	char what[256];
	int pgp = prof->format && strcmp(prof->format, "openpgp") == 0;

	snprintf(what, sizeof(what), "profile %s: key", prof->name);
	if (!prof->key)
		report(d, SG_CHECK_FAIL, what, "profile.%s.key is not set", prof->name);
	else if (pgp)
		check_gpg_key(d, prof, what);
	else if (strncmp(prof->key, "pkcs11:", 7) == 0)
		check_pkcs11(d, prof, what);
	else if (strncmp(prof->key, "file:", 5) == 0)
		check_file_key(d, prof, pol->base_dir, what);
	else
		report(d, SG_CHECK_FAIL, what, "%s is neither a pkcs11: URI nor file:PATH", prof->key);
	if (!pgp)
		check_cert(d, pol, prof);
	check_tsas(d, prof);
}

/* engine = clamd: it answers PING and VERSION, and its database is recent. */
static void check_clamd(doctor *d, const sg_policy *pol)
{
	sg_clamd_info info;

	if (sg_clamd_probe(pol->scan_clamd, pol->scan_clamd_timeout, &info) < 0) {
		report(d, SG_CHECK_FAIL, "scan (clamd)", "%s", sg_error_last());
		sg_error_clear();
		return;
	}
	if (!info.db_version[0])
		report(d, SG_CHECK_WARN, "scan (clamd)", "clamd %s at %s answers, but names no database "
		       "version (no daily.cvd/cld): its age is unknown; run freshclam for it",
		       info.version, pol->scan_clamd);
	else if (info.db_time > 0 && d->now - info.db_time > SCAN_DB_MAX_AGE_DAYS * 86400L)
		report(d, SG_CHECK_WARN, "scan (clamd)", "clamd %s at %s: database %s of %s is %ld days "
		       "old; run freshclam for it", info.version, pol->scan_clamd, info.db_version,
		       info.db_date, (long)((d->now - info.db_time) / 86400));
	else
		report(d, SG_CHECK_OK, "scan (clamd)", "clamd %s at %s: database %s of %s", info.version,
		       pol->scan_clamd, info.db_version, info.db_date[0] ? info.db_date : "(no date)");
}

static void check_scan_db(doctor *d, const sg_policy *pol)
{
	const char *db = pol->scan_database ? pol->scan_database : "/var/lib/clamav";
	sg_check_status missing = pol->scan_required ? SG_CHECK_FAIL : SG_CHECK_WARN;
	DIR *dir = opendir(db);
	struct dirent *de;
	struct stat st;
	time_t newest = 0;
	size_t files = 0;
	char path[4096];

	if (!dir) {
		report(d, missing, "scan database", "%s: %s%s", db, strerror(errno),
		       pol->scan_required ? "; install clamav-freshclam or set scan.database" :
		       " (scan.required = false: artifacts are signed unscanned)");
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", db, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
			files++;
			if (st.st_mtime > newest)
				newest = st.st_mtime;
		}
	}
	closedir(dir);
	if (files == 0)
		report(d, missing, "scan database", "%s is empty; run freshclam", db);
	else if (d->now - newest > SCAN_DB_MAX_AGE_DAYS * 86400L)
		report(d, SG_CHECK_WARN, "scan database", "%s: %zu files, newest %ld days old; run "
		       "freshclam", db, files, (long)((d->now - newest) / 86400));
	else
		report(d, SG_CHECK_OK, "scan database", "%s: %zu files, updated %ld hours ago", db, files,
		       (long)((d->now - newest) / 3600));
}

/* DESIGN.md section 3, "People": without [person] sections reviews are
 * counted by strings the author of a change can choose. */
static void check_people(doctor *d, const sg_policy *pol)
{
	if (pol->npersons)
		report(d, SG_CHECK_OK, "people", "%zu [person] section%s: every identity the gate meets must belong to "
		       "one person", pol->npersons, pol->npersons == 1 ? "" : "s");
	else
		report(d, SG_CHECK_WARN, "people", "no [person] section: reviewer identities are self-asserted (an "
		       "author can review as a second address or login); add [person \"NAME\"] sections "
		       "(see docs/reviews.md)");
}

static void check_hooks(doctor *d, git_repository *repo)
{
	git_config *cfg = NULL, *snap = NULL;
	git_buf hp = { 0 };
	char path[4096];
	sg_buf content = SG_BUF_INIT;
	struct stat st;

	if (git_repository_config(&cfg, repo) == 0 && git_config_snapshot(&snap, cfg) == 0 &&
	    git_config_get_path(&hp, snap, "core.hooksPath") == 0)
		snprintf(path, sizeof(path), "%s%s/reference-transaction", hp.ptr[0] == '/' ? "" :
			 (git_repository_workdir(repo) ? git_repository_workdir(repo) : ""), hp.ptr);
	else
		snprintf(path, sizeof(path), "%shooks/reference-transaction", git_repository_path(repo));
	git_error_clear();
	if (stat(path, &st) != 0)
		report(d, SG_CHECK_WARN, "hooks", "%s is not installed; run signgate install-hooks", path);
	else if (!(st.st_mode & S_IXUSR))
		report(d, SG_CHECK_WARN, "hooks", "%s is not executable; chmod +x it", path);
	else if (sg_file_read_all(&content, path, 1 << 20) < 0 || !strstr(content.ptr, "signgate"))
		report(d, SG_CHECK_WARN, "hooks", "%s exists but does not run signgate; run "
		       "signgate install-hooks", path);
	else
		report(d, SG_CHECK_OK, "hooks", "%s installed", path);
	sg_error_clear();
	sg_buf_dispose(&content);
	git_buf_dispose(&hp);
	git_config_free(snap);
	git_config_free(cfg);
}

/* The gate verifies each commit-graph file once per change (cached); doctor
 * checksums every file every time. */
static void check_commit_graph(doctor *d, git_repository *repo)
{
	uint32_t commits = 0;
	int files = 0, err = sg_gate_graph_verify(&files, &commits, repo);

	if (err == SG_ENOTFOUND)
		report(d, SG_CHECK_OK, "commit-graph", "none (optional: git commit-graph write --reachable "
		       "makes checks on long histories faster)");
	else if (err < 0)
		report(d, SG_CHECK_FAIL, "commit-graph", "%s", last_error());
	else
		report(d, SG_CHECK_OK, "commit-graph", "%d file%s, %u commits, checksums match", files,
		       files == 1 ? "" : "s", commits);
	sg_error_clear();
}

/* The audit log's hash chain (docs/signgate-notes.md, "The audit log"). */
static void check_audit(doctor *d, git_repository *repo)
{
	size_t lines = 0;
	int err = sg_audit_verify_repo(repo, &lines);

	if (err == SG_ENOTFOUND)
		report(d, SG_CHECK_OK, "audit log", "none yet (the first decision starts it)");
	else if (err < 0)
		report(d, SG_CHECK_FAIL, "audit log", "%s", last_error());
	else
		report(d, SG_CHECK_OK, "audit log", "%zu line%s, the hash chain holds", lines,
		       lines == 1 ? "" : "s");
	sg_error_clear();
}

/* Every event's attestation judged again beside the verdict cache of
 * `log` (docs/signgate-notes.md): a cached verdict that disagrees with a
 * fresh judgement is reported and replaced. As costly as a log with a
 * cold cache; skipped when there is no cache. */
static int recheck_events(sg_attest_ctx *actx, git_repository *repo, const sg_policy *pol)
{
	sg_strlist refs = SG_STRLIST_INIT;
	sg_event_source src;
	sg_event_sel sel = { 0 };
	sg_event_judge j = { actx, repo, NULL, NULL, { { 0 } } };
	sg_logged_event le;
	sg_attest_verdict v;
	size_t i;
	int err, opened = 0;

	if ((err = sg_verify_notes_refs(&refs, pol)) == SG_OK && (err = sg_event_source_open(&src, repo, &refs)) == SG_OK)
		opened = 1;
	if (err == SG_OK)
		err = sg_event_select_all(&sel, &src);
	for (i = 0; err == SG_OK && i < sel.n; i++)
		if ((err = sg_event_source_read(&le, &src, &sel.v[i])) == SG_OK)
			err = sg_event_judge_one(&v, &j, &le);
	sg_event_judge_release(&j);
	sg_event_sel_release(&sel);
	if (opened)
		sg_event_source_release(&src);
	sg_strlist_release(&refs);
	return err;
}

static void check_attest_cache(doctor *d, git_repository *repo, const sg_policy *pol)
{
	sg_attest_ctx *actx = NULL;
	const sg_attest_stats *st;
	struct stat sb;
	char *path = NULL;
	int err;

	if (asprintf(&path, "%ssigngate/attest-cache/verdicts", git_repository_commondir(repo)) < 0)
		return;
	if (lstat(path, &sb) < 0) {
		report(d, SG_CHECK_OK, "verdict cache", "none (log writes it)");
		free(path);
		return;
	}
	if ((err = sg_attest_ctx_new(&actx, pol)) == SG_OK && (err = sg_attest_ctx_use_cache(actx, repo)) == SG_OK) {
		sg_attest_ctx_recheck(actx);
		err = recheck_events(actx, repo, pol);
	}
	st = actx ? sg_attest_ctx_stats(actx) : NULL;
	if (err < 0)
		report(d, SG_CHECK_FAIL, "verdict cache", "cannot judge the attestations again: %s", last_error());
	else if (st->disagreed)
		report(d, SG_CHECK_FAIL, "verdict cache", "%zu of %zu cached verdicts disagree with a fresh judgement "
		       "(%s was written by someone else than signgate, or damaged); they were replaced",
		       st->disagreed, st->cached, path);
	else
		report(d, SG_CHECK_OK, "verdict cache", "%zu cached verdict%s judged again, all agree%s", st->cached,
		       st->cached == 1 ? "" : "s", st->judged > st->cached ? " (and the missing ones added)" : "");
	if (actx && err == SG_OK)
		sg_attest_ctx_save(actx);
	sg_attest_ctx_free(actx);
	free(path);
	sg_error_clear();
}

sg_check_status sg_doctor_run(git_repository *repo, const sg_policy *pol,
			      const sg_doctor_opts *opts, sg_doctor_cb cb, void *payload)
{
	doctor d = { cb, payload, SG_CHECK_OK, opts->now ? opts->now : time(NULL), opts };
	size_t i;

	if (pol) {
		if (sg_profiles_check_separation(pol) < 0)
			report(&d, SG_CHECK_FAIL, "profiles", "%s", last_error());
		else
			report(&d, SG_CHECK_OK, "profiles", "%zu profile%s, keys and certificates separate",
			       pol->nprofiles, pol->nprofiles == 1 ? "" : "s");
		for (i = 0; i < pol->nprofiles; i++)
			check_profile(&d, pol, &pol->profiles[i]);
		if (pol->scan_engine && !strcmp(pol->scan_engine, "clamd"))
			check_clamd(&d, pol);
		else
			check_scan_db(&d, pol);
		check_people(&d, pol);
	}
	if (repo) {
		check_hooks(&d, repo);
		check_commit_graph(&d, repo);
		check_audit(&d, repo);
		check_attest_cache(&d, repo, pol);
	}
	sg_error_clear();
	return d.worst;
}
