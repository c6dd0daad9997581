/* Review source "approvals": OpenPGP-signed approval statements kept in the
 * note on REV under refs/notes/signgate-approvals, written by
 * `signgate approve`. A statement
 *
 *     signgate-approval v1
 *     commit <40 hex>
 *     tree <40 hex>
 *     reviewer <email>
 *     time <RFC 3339 UTC>
 *
 * is clear-signed by the reviewer's key. It counts only when its one
 * signature is good, made by a key whose primary fingerprint is listed in
 * gate.reviewerKey, found in gate.reviewerKeyring (a blob in the policy's
 * own commit for a committed policy, a file for --policy), not revoked or
 * expired; it names this commit and its tree; and its reviewer is one of
 * the key's user ids. Verification runs in a private temporary GNUPGHOME
 * that holds only the keyring, removed afterwards. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/file.h"
#include "core/secret.h"
#include "notes/notes.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gpgme.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define AP_NOTE_MAX (1024 * 1024)
#define AP_KEYRING_MAX (1024 * 1024)
#define AP_BLOCKS_MAX 64
#define AP_BLOCK_MAX (64 * 1024)
#define AP_STATEMENT_MAX 1024
#define AP_WHY 512

static const char begin_marker[] = "-----BEGIN PGP SIGNED MESSAGE-----";
static const char end_marker[] = "-----END PGP SIGNATURE-----";

/* ---- the statement ---------------------------------------------------- */

int sg_approval_statement(char **out, const git_oid *commit, const git_oid *tree, const char *email,
			  time_t when)
{
	char c[GIT_OID_HEXSZ + 1], t[GIT_OID_HEXSZ + 1], ts[32];

	git_oid_tostr(c, sizeof(c), commit);
	git_oid_tostr(t, sizeof(t), tree);
	sg_time_format(ts, sizeof(ts), when);
	if (asprintf(out, SG_APPROVAL_HEADER "\ncommit %s\ntree %s\nreviewer %s\ntime %s\n", c, t, email, ts) < 0) {
		*out = NULL;
		return sg_error_set(SG_ERROR, "out of memory");
	}
	return SG_OK;
}

static int take_line(const char **p, const char *key, char *val, size_t vlen)
{
	size_t kl = strlen(key), n;
	const char *nl;

	if (strncmp(*p, key, kl) != 0 || (*p)[kl] != ' ')
		return -1;
	nl = strchr(*p + kl + 1, '\n');
	n = nl ? (size_t)(nl - (*p + kl + 1)) : strlen(*p + kl + 1);
	if (n == 0 || n >= vlen)
		return -1;
	memcpy(val, *p + kl + 1, n);
	val[n] = '\0';
	*p = nl ? nl + 1 : *p + kl + 1 + n;
	return 0;
}

static int is_hex40(const char *s)
{
	size_t i;

	for (i = 0; i < GIT_OID_HEXSZ; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return s[i] == '\0';
}

int sg_approval_parse(char commit[GIT_OID_HEXSZ + 1], char tree[GIT_OID_HEXSZ + 1], char **email,
		      time_t *when, const char *text, char *why, size_t whylen)
{
	const char *p = text;
	char c[64], t[64], who[300], ts[64];
	char *e = NULL;
	time_t w;
	int err;

	if (strlen(text) > AP_STATEMENT_MAX || strncmp(p, SG_APPROVAL_HEADER "\n", sizeof(SG_APPROVAL_HEADER)) != 0) {
		snprintf(why, whylen, "not a signgate approval statement");
		return SG_ENOTFOUND;
	}
	p += sizeof(SG_APPROVAL_HEADER);
	if (take_line(&p, "commit", c, sizeof(c)) < 0 || take_line(&p, "tree", t, sizeof(t)) < 0 ||
	    take_line(&p, "reviewer", who, sizeof(who)) < 0 || take_line(&p, "time", ts, sizeof(ts)) < 0 ||
	    *p != '\0') {
		snprintf(why, whylen, "approval statement is not in the v1 format");
		return SG_ENOTFOUND;
	}
	if (!is_hex40(c) || !is_hex40(t)) {
		snprintf(why, whylen, "approval statement's commit or tree is not 40 lowercase hex digits");
		return SG_ENOTFOUND;
	}
	if (sg_time_parse(&w, ts) < 0) {
		snprintf(why, whylen, "approval statement's time is not RFC 3339 UTC");
		return SG_ENOTFOUND;
	}
	err = sg_gate_parse_identity(&e, who);
	if (err == SG_ENOTFOUND || (err == SG_OK && strcmp(e, who) != 0)) {
		free(e);
		snprintf(why, whylen, "approval statement's reviewer is not a lowercase email");
		return SG_ENOTFOUND;
	}
	if (err < 0)
		return err;
	memcpy(commit, c, GIT_OID_HEXSZ + 1);
	memcpy(tree, t, GIT_OID_HEXSZ + 1);
	*email = e;
	*when = w;
	return SG_OK;
}

int sg_approval_blocks(sg_strlist *out, const char *note, size_t max)
{
	const char *p = note;
	int err;

	while ((p = strstr(p, begin_marker)) != NULL && out->n < max) {
		const char *end = strstr(p, end_marker);
		char *block;
		size_t n;

		if (!end)
			break;
		if (p != note && p[-1] != '\n') {
			p += sizeof(begin_marker) - 1;
			continue;
		}
		n = (size_t)(end - p) + sizeof(end_marker) - 1;
		if (n <= AP_BLOCK_MAX) {
			if (!(block = malloc(n + 2)))
				return sg_error_set(SG_ERROR, "out of memory");
			memcpy(block, p, n);
			block[n] = '\n';
			block[n + 1] = '\0';
			err = sg_strlist_add(out, block);
			free(block);
			if (err < 0)
				return err;
		}
		p = end + sizeof(end_marker) - 1;
	}
	return SG_OK;
}

/* ---- GPGME ------------------------------------------------------------ */

static int gpgme_ready(void)
{
	gpgme_error_t e;

	if (!gpgme_check_version("1.10.0"))
		return sg_error_set(SG_ERROR, "GPGME 1.10 or later is required");
	if ((e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP)) != 0)
		return sg_error_set(SG_ERROR, "gpg is not usable: %s; install gnupg 2.2 or later", gpgme_strerror(e));
	return SG_OK;
}

static int ctx_new(gpgme_ctx_t *out, const char *home)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_error_t e;

	if ((e = gpgme_new(&ctx)) != 0 || (e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (home && (e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home)) != 0) ||
	    (e = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK)) != 0 ||
	    (e = gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL)) != 0) {
		if (ctx)
			gpgme_release(ctx);
		return sg_error_set(SG_ERROR, "cannot set up GPGME: %s", gpgme_strerror(e));
	}
	gpgme_set_offline(ctx, 1);
	*out = ctx;
	return SG_OK;
}

/* The first valid user id's email, lowercase (caller frees), or NULL. */
static char *key_email(gpgme_key_t key, const char *want)
{
	gpgme_user_id_t u;
	char *e = NULL;

	for (u = key->uids; u; u = u->next) {
		if (u->revoked || u->invalid || !u->email || !*u->email)
			continue;
		if (sg_gate_parse_identity(&e, u->email) < 0)
			continue;
		if (!want || strcmp(e, want) == 0)
			return e;
		free(e);
		e = NULL;
	}
	return NULL;
}

/* Every identity the key shows: key:FINGERPRINT and each valid user id's
 * email, so that all of them must belong to the one person (people.c). */
static int key_ids(sg_strlist *out, gpgme_key_t key)
{
	gpgme_user_id_t u;
	char *e = NULL, fpr[80];
	int err;

	snprintf(fpr, sizeof(fpr), "key:%.64s", key->subkeys->fpr);
	if ((err = sg_strlist_add(out, fpr)) < 0)
		return err;
	for (u = key->uids; u; u = u->next) {
		if (u->revoked || u->invalid || !u->email || !*u->email || sg_gate_parse_identity(&e, u->email) < 0)
			continue;
		err = sg_strlist_add_unique(out, e, 1);
		free(e);
		if (err < 0)
			return err;
	}
	return SG_OK;
}

/* ---- the reviewers' keyring in a private GNUPGHOME -------------------- */

typedef struct ap_home {
	char dir[32];
	gpgme_ctx_t ctx;
} ap_home;

static void home_close(ap_home *h)
{
	pid_t pid;
	int status;
	char *argv[] = { "gpgconf", "--homedir", h->dir, "--kill", "all", NULL };

	if (h->ctx)
		gpgme_release(h->ctx);
	h->ctx = NULL;
	if (!h->dir[0])
		return;
	if (posix_spawnp(&pid, "gpgconf", NULL, NULL, argv, environ) == 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	sg_file_remove_tree(h->dir);
	h->dir[0] = '\0';
}

static int write_conf(const char *dir)
{
	static const char conf[] = "trust-model always\nno-autostart\n";
	char path[64];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/gpg.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sg_error_set(SG_ERROR, "cannot write %s: %s", path, strerror(errno));
	ok = write(fd, conf, sizeof(conf) - 1) == (ssize_t)(sizeof(conf) - 1);
	ok &= close(fd) == 0;
	return ok ? SG_OK : sg_error_set(SG_ERROR, "cannot write %s", path);
}

static int home_open(ap_home *h, const sg_buf *keyring, const char *where)
{
	gpgme_data_t data = NULL;
	gpgme_import_result_t ir;
	gpgme_error_t e;
	int ret;

	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/sgk.XXXXXX");
	if (!mkdtemp(h->dir)) {
		h->dir[0] = '\0';
		return sg_error_set(SG_ERROR, "cannot make a temporary GNUPGHOME under /tmp: %s", strerror(errno));
	}
	if ((ret = write_conf(h->dir)) < 0 || (ret = ctx_new(&h->ctx, h->dir)) < 0)
		goto fail;
	if ((e = gpgme_data_new_from_mem(&data, keyring->ptr, keyring->size, 0)) != 0) {
		ret = sg_error_set(SG_ERROR, "GPGME data: %s", gpgme_strerror(e));
		goto fail;
	}
	e = gpgme_op_import(h->ctx, data);
	gpgme_data_release(data);
	ir = e ? NULL : gpgme_op_import_result(h->ctx);
	if (!ir || ir->imported + ir->unchanged == 0) {
		ret = sg_error_set(SG_ERROR, "the reviewers' keyring %s holds no OpenPGP public key gpg could "
				   "import%s%s; commit the reviewers' armored public keys there (gpg --armor --export)",
				   where, e ? ": " : "", e ? gpgme_strerror(e) : "");
		goto fail;
	}
	return SG_OK;
fail:
	home_close(h);
	return ret;
}

/* "blob <id> at <ref>" -> the commit at ref whose .signgate is that blob. */
static int policy_commit(git_commit **out, git_repository *repo, const char *origin)
{
	char blob[GIT_OID_HEXSZ + 1], ref[256];
	git_oid want, cid;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	const git_tree_entry *te;
	int ret = SG_EDENIED;

	if (sscanf(origin, "blob %40s at %255s", blob, ref) != 2 || git_oid_fromstr(&want, blob) < 0)
		return sg_error_set(SG_ERROR, "cannot tell which commit the policy came from (%s)", origin);
	if (git_reference_name_to_id(&cid, repo, ref) < 0 || git_commit_lookup(&c, repo, &cid) < 0 ||
	    git_commit_tree(&tree, c) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot read %s, where the policy came from", ref);
		goto done;
	}
	te = git_tree_entry_byname(tree, ".signgate");
	if (!te || !git_oid_equal(git_tree_entry_id(te), &want)) {
		ret = sg_error_set(SG_ERROR, "%s moved while signgate ran (its .signgate is no longer blob %.7s); "
				   "run again", ref, blob);
		goto done;
	}
	*out = c;
	c = NULL;
	ret = SG_OK;
done:
	git_tree_free(tree);
	git_commit_free(c);
	return ret;
}

/* The keyring's bytes and where they came from (for messages and the note). */
static int keyring_read(sg_buf *out, char **where, git_repository *repo, const sg_policy *pol)
{
	const char *path = pol->reviewer_keyring;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	char cid[GIT_OID_HEXSZ + 1], bid[GIT_OID_HEXSZ + 1];
	int ret = SG_ERROR;

	if (!path)
		return sg_error_set(SG_ERROR, "reviewSource approvals needs gate.reviewerKeyring (the reviewers' "
				    "public keys, committed on the protected branch)");
	if (pol->from_file) {
		if ((ret = sg_file_read_all(out, path, AP_KEYRING_MAX)) < 0)
			return sg_error_set(SG_ERROR, "cannot read gate.reviewerKeyring: %s", sg_error_last());
		if (asprintf(where, "file %s", path) < 0)
			return sg_error_set(SG_ERROR, "out of memory");
		return SG_OK;
	}
	while (*path == '/')
		path++;
	if ((ret = policy_commit(&c, repo, pol->origin)) < 0)
		return ret;
	git_oid_tostr(cid, sizeof(cid), git_commit_id(c));
	if (git_commit_tree(&tree, c) < 0 || git_tree_entry_bypath(&te, tree, path) < 0 ||
	    git_tree_entry_type(te) != GIT_OBJECT_BLOB ||
	    (git_tree_entry_filemode(te) != GIT_FILEMODE_BLOB &&
	     git_tree_entry_filemode(te) != GIT_FILEMODE_BLOB_EXECUTABLE) ||
	    git_blob_lookup(&blob, repo, git_tree_entry_id(te)) < 0) {
		ret = sg_error_set(SG_ERROR, "gate.reviewerKeyring %s is not a file in the policy's commit %.7s; "
				   "commit the reviewers' public keys there", path, cid);
		goto done;
	}
	if (git_blob_rawsize(blob) > AP_KEYRING_MAX) {
		ret = sg_error_set(SG_ERROR, "gate.reviewerKeyring %s is larger than %d bytes; keep only the "
				   "reviewers' public keys in it", path, AP_KEYRING_MAX);
		goto done;
	}
	sg_buf_clear(out);
	if ((ret = sg_buf_put(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob))) < 0)
		goto done;
	git_oid_tostr(bid, sizeof(bid), git_blob_id(blob));
	if (asprintf(where, "blob %s %s at %s", bid, path, cid) < 0) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	ret = SG_OK;
done:
	git_blob_free(blob);
	git_tree_entry_free(te);
	git_tree_free(tree);
	git_commit_free(c);
	return ret;
}

/* ---- judging one block ------------------------------------------------ */

typedef struct ap_judge {
	const sg_policy *pol;
	char commit[GIT_OID_HEXSZ + 1];
	char tree[GIT_OID_HEXSZ + 1];
} ap_judge;

static int listed(const sg_strlist *keys, const char *fpr)
{
	size_t i;

	for (i = 0; fpr && i < keys->n; i++)
		if (strcasecmp(keys->v[i], fpr) == 0)
			return 1;
	return 0;
}

/* Why a good signature's key cannot vouch, or NULL. */
static const char *key_unusable(gpgme_key_t key, gpgme_signature_t s)
{
	gpgme_subkey_t sk;

	if (key->revoked || (s->summary & GPGME_SIGSUM_KEY_REVOKED))
		return "revoked";
	if (key->expired || (s->summary & GPGME_SIGSUM_KEY_EXPIRED))
		return "expired";
	if (s->summary & GPGME_SIGSUM_SIG_EXPIRED)
		return "an expired signature";
	if (key->disabled || key->invalid || (s->summary & (GPGME_SIGSUM_RED | GPGME_SIGSUM_SYS_ERROR |
							      GPGME_SIGSUM_BAD_POLICY | GPGME_SIGSUM_KEY_MISSING)))
		return "not usable (disabled, invalid or refused by gpg)";
	for (sk = key->subkeys; sk; sk = sk->next)
		if (sk->fpr && s->fpr && strcasecmp(sk->fpr, s->fpr) == 0)
			break;
	if (!sk)
		return "not the key that made the signature";
	if (sk->revoked || sk->expired || sk->disabled || sk->invalid || !sk->can_sign)
		return "a revoked, expired or non-signing subkey";
	return NULL;
}

/* SG_OK with *email (counts) or with why set (does not count). */
static int judge_block(char **email, sg_strlist *ids, char fpr_out[65], ap_home *h, const ap_judge *j,
		       const char *block, char *why, size_t wl)
{
	gpgme_data_t sig = NULL, plain = NULL;
	gpgme_verify_result_t vr;
	gpgme_signature_t s;
	gpgme_key_t key = NULL;
	gpgme_error_t e;
	char *text = NULL, *who = NULL, *uid = NULL, c[GIT_OID_HEXSZ + 1], t[GIT_OID_HEXSZ + 1];
	const char *state;
	size_t len = 0;
	time_t when;
	int ret = SG_ERROR;

	why[0] = '\0';
	if ((e = gpgme_data_new_from_mem(&sig, block, strlen(block), 0)) != 0 || (e = gpgme_data_new(&plain)) != 0) {
		ret = sg_error_set(SG_ERROR, "GPGME data: %s", gpgme_strerror(e));
		goto done;
	}
	e = gpgme_op_verify(h->ctx, sig, NULL, plain);
	vr = e ? NULL : gpgme_op_verify_result(h->ctx);
	if (!vr || !(s = vr->signatures)) {
		snprintf(why, wl, "an approval whose signature cannot be read%s%s", e ? ": " : "",
			 e ? gpgme_strerror(e) : "");
		goto ok;
	}
	if (s->next) {
		snprintf(why, wl, "an approval with more than one signature");
		goto ok;
	}
	if (gpgme_err_code(s->status) == GPG_ERR_NO_PUBKEY) {
		snprintf(why, wl, "an approval signed by key %.64s, which is not in the reviewers' keyring",
			 s->fpr ? s->fpr : "?");
		goto ok;
	}
	if (gpgme_err_code(s->status) != GPG_ERR_NO_ERROR) {
		snprintf(why, wl, "an approval whose signature does not verify (%s): the statement was altered "
			 "or the signature is broken", gpgme_strerror(s->status));
		goto ok;
	}
	if ((e = gpgme_get_key(h->ctx, s->fpr, &key, 0)) != 0 || !key->subkeys || !key->subkeys->fpr) {
		snprintf(why, wl, "an approval signed by %.64s, a key gpg cannot list", s->fpr ? s->fpr : "?");
		goto ok;
	}
	snprintf(fpr_out, 65, "%s", key->subkeys->fpr);
	if (!listed(&j->pol->reviewer_key, key->subkeys->fpr)) {
		snprintf(why, wl, "an approval by key %.64s, which gate.reviewerKey does not list", key->subkeys->fpr);
		goto ok;
	}
	/* The allow-list of fingerprints is the trust decision (gpg's web of
	 * trust says nothing here); a good signature by a usable key is needed. */
	if ((state = key_unusable(key, s)) != NULL) {
		snprintf(why, wl, "an approval by key %.64s, which is %s", key->subkeys->fpr, state);
		goto ok;
	}
	if (s->hash_algo != GPGME_MD_SHA256 && s->hash_algo != GPGME_MD_SHA384 && s->hash_algo != GPGME_MD_SHA512) {
		snprintf(why, wl, "an approval by key %.64s signed with a digest weaker than SHA-256", key->subkeys->fpr);
		goto ok;
	}
	if (!(text = gpgme_data_release_and_get_mem(plain, &len))) {
		plain = NULL;
		snprintf(why, wl, "an approval with no signed text");
		goto ok;
	}
	plain = NULL;
	{
		char stmt[AP_STATEMENT_MAX + 1];
		int err;

		if (len > AP_STATEMENT_MAX) {
			snprintf(why, wl, "an approval statement longer than %d bytes", AP_STATEMENT_MAX);
			goto ok;
		}
		memcpy(stmt, text, len);
		stmt[len] = '\0';
		if (memchr(stmt, '\0', len)) {
			snprintf(why, wl, "an approval statement with a NUL byte");
			goto ok;
		}
		err = sg_approval_parse(c, t, &who, &when, stmt, why, wl);
		if (err == SG_ENOTFOUND)
			goto ok;
		if (err < 0) {
			ret = err;
			goto done;
		}
	}
	if (strcmp(c, j->commit) != 0) {
		snprintf(why, wl, "an approval by %s names commit %.7s, not %.7s (copied from another commit)", who, c,
			 j->commit);
		goto ok;
	}
	if (strcmp(t, j->tree) != 0) {
		snprintf(why, wl, "an approval by %s names tree %.7s, not this commit's tree %.7s", who, t, j->tree);
		goto ok;
	}
	if (!(uid = key_email(key, who))) {
		snprintf(why, wl, "an approval naming %s signed by key %.64s, which has no user id %s", who,
			 key->subkeys->fpr, who);
		goto ok;
	}
	if ((ret = key_ids(ids, key)) < 0)
		goto done;
	*email = uid;
	uid = NULL;
ok:
	ret = SG_OK;
done:
	free(who);
	free(uid);
	gpgme_free(text);
	if (key)
		gpgme_key_unref(key);
	gpgme_data_release(sig);
	gpgme_data_release(plain);
	return ret;
}

static int block_sha256(char hex[65], const char *block)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(block, strlen(block), md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return sg_error_set_openssl(SG_ERROR, "SHA-256 failed");
	sg_hex(hex, md, 32);
	return SG_OK;
}

int sg_gate_source_approvals(sg_review_list *out, const sg_review_ctx *ctx)
{
	const sg_policy *pol = ctx->pol;
	sg_buf note = SG_BUF_INIT, keyring = SG_BUF_INIT;
	sg_strlist blocks = SG_STRLIST_INIT;
	git_commit *c = NULL;
	ap_home h;
	ap_judge j;
	char *where = NULL, why[AP_WHY], fpr[65], hex[65];
	size_t i;
	int ret, err, home = 0;

	memset(&h, 0, sizeof(h));
	j.pol = pol;
	git_oid_tostr(j.commit, sizeof(j.commit), ctx->rev);
	if (!pol->reviewer_key.n)
		return sg_error_set(SG_ERROR, "reviewSource approvals needs gate.reviewerKey (the fingerprints "
				    "of the reviewers' keys)");
	if (git_commit_lookup(&c, ctx->repo, ctx->rev) < 0)
		return sg_error_set(SG_EDENIED, "cannot read commit %s", j.commit);
	git_oid_tostr(j.tree, sizeof(j.tree), git_commit_tree_id(c));
	git_commit_free(c);
	err = sg_notes_read(&note, ctx->repo, SG_APPROVALS_REF, ctx->rev, AP_NOTE_MAX);
	if (err == SG_ENOTFOUND) {
		ret = sg_forge_drop(out, "approvals", NULL, "no signed approval on %.7s in " SG_APPROVALS_REF,
				    j.commit);
		goto done;
	}
	if (err < 0) {
		ret = sg_error_set(SG_EDENIED, "cannot read the approvals on %.7s: %s", j.commit, sg_error_last());
		goto done;
	}
	if ((ret = sg_approval_blocks(&blocks, note.ptr ? note.ptr : "", AP_BLOCKS_MAX)) < 0)
		goto done;
	if (!blocks.n) {
		ret = sg_forge_drop(out, "approvals", NULL, "the approvals note on %.7s holds no signed statement",
				    j.commit);
		goto done;
	}
	if ((ret = gpgme_ready()) < 0 || (ret = keyring_read(&keyring, &where, ctx->repo, pol)) < 0 ||
	    (ret = home_open(&h, &keyring, where)) < 0)
		goto done;
	home = 1;
	if ((ret = sg_forge_line(ctx->evidence, "Review-Keyring: approvals %s", where)) < 0)
		goto done;
	for (i = 0; i < blocks.n; i++) {
		sg_strlist ids = SG_STRLIST_INIT;
		char *email = NULL;

		fpr[0] = '\0';
		if ((ret = judge_block(&email, &ids, fpr, &h, &j, blocks.v[i], why, sizeof(why))) < 0) {
			sg_strlist_release(&ids);
			goto done;
		}
		if (!email) {
			ret = sg_forge_drop(out, "approvals", NULL, "%s", why);
		} else if ((ret = block_sha256(hex, blocks.v[i])) == SG_OK &&
			   (ret = sg_review_list_add(out, email, "approvals", NULL)) == SG_OK) {
			for (size_t k = 0; ret == SG_OK && k < ids.n; k++)
				ret = sg_review_add_id(out, ids.v[k]);
			if (ret == SG_OK)
				ret = sg_forge_line(ctx->evidence, "Review-Approval: approvals %s key %s statement-sha256 %s",
						    email, fpr, hex);
		}
		sg_strlist_release(&ids);
		free(email);
		if (ret < 0)
			goto done;
	}
	ret = SG_OK;
done:
	if (home)
		home_close(&h);
	free(where);
	sg_strlist_release(&blocks);
	sg_buf_dispose(&note);
	sg_buf_dispose(&keyring);
	return ret;
}

/* ---- signgate approve ------------------------------------------------- */

typedef struct ap_pass {
	sg_secret *secret;
	int cb_err;
	int bad;
	char what[96];
} ap_pass;

static gpgme_error_t pass_cb(void *hook, const char *uid_hint, const char *info, int prev_bad, int fd)
{
	ap_pass *p = hook;
	int err;

	(void)uid_hint;
	(void)info;
	if (prev_bad) {
		p->bad = 1;
		return gpg_error(GPG_ERR_CANCELED);
	}
	if (!p->secret && (err = sg_secret_obtain(&p->secret, NULL, p->what)) < 0) {
		p->cb_err = err;
		return gpg_error(GPG_ERR_CANCELED);
	}
	if (gpgme_io_writen(fd, p->secret->data, p->secret->len) != 0 || gpgme_io_writen(fd, "\n", 1) != 0)
		return gpgme_error_from_syserror();
	return 0;
}

/* The reviewer's secret key: --key, else git config user.signingkey. */
static int approve_key(gpgme_key_t *out, gpgme_ctx_t ctx, git_repository *repo, const char *key)
{
	git_config *cfg = NULL;
	const char *spec = key;
	gpgme_key_t k = NULL, extra = NULL;
	gpgme_error_t e;
	int ret = SG_ERROR;

	if (!spec) {
		if (git_repository_config_snapshot(&cfg, repo) < 0 ||
		    git_config_get_string(&spec, cfg, "user.signingkey") < 0) {
			ret = sg_error_set(SG_EUSAGE, "no reviewer key: pass --key FINGERPRINT or set git config "
					   "user.signingkey");
			goto done;
		}
	}
	if (!*spec || strlen(spec) > 256) {
		ret = sg_error_set(SG_EUSAGE, "the reviewer key must be a fingerprint");
		goto done;
	}
	if ((e = gpgme_op_keylist_start(ctx, spec, 1)) != 0 || (e = gpgme_op_keylist_next(ctx, &k)) != 0) {
		ret = sg_error_set(SG_ERROR, "no secret key %.256s in GNUPGHOME %s%s%s; import it or pass --key",
				   spec, gpgme_get_dirinfo("homedir") ? gpgme_get_dirinfo("homedir") : "~/.gnupg",
				   gpgme_err_code(e) == GPG_ERR_EOF ? "" : ": ",
				   gpgme_err_code(e) == GPG_ERR_EOF ? "" : gpgme_strerror(e));
		goto done;
	}
	if (gpgme_op_keylist_next(ctx, &extra) == 0) {
		ret = sg_error_set(SG_EUSAGE, "%.256s names more than one secret key; pass --key with the full "
				   "fingerprint", spec);
		goto done;
	}
	if (k->revoked || k->expired || k->disabled || k->invalid || !k->can_sign) {
		ret = sg_error_set(SG_ERROR, "key %s cannot sign (revoked, expired, disabled or no signing subkey)",
				   k->subkeys ? k->subkeys->fpr : spec);
		goto done;
	}
	*out = k;
	k = NULL;
	ret = SG_OK;
done:
	gpgme_op_keylist_end(ctx);
	if (k)
		gpgme_key_unref(k);
	if (extra)
		gpgme_key_unref(extra);
	git_config_free(cfg);
	return ret;
}

static int approve_sign(char **out, gpgme_ctx_t ctx, gpgme_key_t key, const char *text)
{
	ap_pass pass;
	gpgme_data_t in = NULL, sig = NULL;
	gpgme_sign_result_t r;
	gpgme_error_t e;
	char *mem = NULL;
	size_t len = 0;
	int ret = SG_ERROR;

	memset(&pass, 0, sizeof(pass));
	snprintf(pass.what, sizeof(pass.what), "passphrase for key %.64s", key->subkeys->fpr);
	gpgme_set_passphrase_cb(ctx, pass_cb, &pass);
	gpgme_set_armor(ctx, 1);
	gpgme_set_textmode(ctx, 1);
	if ((e = gpgme_data_new_from_mem(&in, text, strlen(text), 0)) != 0 || (e = gpgme_data_new(&sig)) != 0 ||
	    (e = gpgme_signers_add(ctx, key)) != 0) {
		ret = sg_error_set(SG_ERROR, "GPGME: %s", gpgme_strerror(e));
		goto done;
	}
	if ((e = gpgme_op_sign(ctx, in, sig, GPGME_SIG_MODE_CLEAR)) != 0) {
		if (pass.cb_err)
			ret = pass.cb_err;
		else if (pass.bad || gpgme_err_code(e) == GPG_ERR_BAD_PASSPHRASE)
			ret = sg_error_set(SG_EDENIED, "bad passphrase for key %s", key->subkeys->fpr);
		else
			ret = sg_error_set(SG_ERROR, "gpg could not sign with key %s: %s; check that gpg-agent runs "
					   "and holds its secret", key->subkeys->fpr, gpgme_strerror(e));
		goto done;
	}
	r = gpgme_op_sign_result(ctx);
	if (!r || r->invalid_signers || !r->signatures || r->signatures->next) {
		ret = sg_error_set(SG_ERROR, "gpg did not make exactly one signature with key %s", key->subkeys->fpr);
		goto done;
	}
	mem = gpgme_data_release_and_get_mem(sig, &len);
	sig = NULL;
	if (!mem || !len || len > AP_BLOCK_MAX || !(*out = strndup(mem, len))) {
		ret = sg_error_set(SG_ERROR, "gpg produced no usable signature");
		goto done;
	}
	ret = SG_OK;
done:
	gpgme_free(mem);
	gpgme_data_release(in);
	gpgme_data_release(sig);
	sg_secret_free(pass.secret);
	return ret;
}

int sg_gate_approve(char **done_msg, git_repository *repo, const char *rev, const char *keyspec)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	git_commit *c = NULL;
	git_oid id;
	char *email = NULL, *text = NULL, *signed_text = NULL, hex[GIT_OID_HEXSZ + 1], msg[160];
	int ret;

	if ((ret = sg_gate_resolve_commit(&id, repo, rev ? rev : "HEAD")) < 0)
		return ret;
	if (git_commit_lookup(&c, repo, &id) < 0)
		return sg_error_set(SG_ERROR, "cannot read commit %s", rev);
	git_oid_tostr(hex, sizeof(hex), &id);
	if ((ret = gpgme_ready()) < 0 || (ret = ctx_new(&ctx, NULL)) < 0 ||
	    (ret = approve_key(&key, ctx, repo, keyspec)) < 0)
		goto done;
	if (!(email = key_email(key, NULL))) {
		ret = sg_error_set(SG_ERROR, "key %s has no valid user id with an email; add one (gpg --quick-add-uid)",
				   key->subkeys->fpr);
		goto done;
	}
	if ((ret = sg_approval_statement(&text, &id, git_commit_tree_id(c), email, time(NULL))) < 0 ||
	    (ret = approve_sign(&signed_text, ctx, key, text)) < 0)
		goto done;
	snprintf(msg, sizeof(msg), "signgate: approve %.12s by %.100s", hex, email);
	if ((ret = sg_notes_append_text(repo, SG_APPROVALS_REF, &id, signed_text, msg)) < 0)
		goto done;
	if (asprintf(done_msg, "approved %.12s as %s with key %s (%s)", hex, email, key->subkeys->fpr,
		     SG_APPROVALS_REF) < 0) {
		*done_msg = NULL;
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	ret = SG_OK;
done:
	free(email);
	free(text);
	free(signed_text);
	if (key)
		gpgme_key_unref(key);
	if (ctx)
		gpgme_release(ctx);
	git_commit_free(c);
	return ret;
}
