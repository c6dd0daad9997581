/* Policy: parse, validate, defaults, errors with line numbers, includes
 * refused, and where the policy is loaded from in a real git repository. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy_int.h"

#include "core/error.h"
#include "policy/policy.h"

static char tmp[64];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static sg_policy *parse_ok(const char *text)
{
	sg_policy *p = NULL;
	/* as a policy file: relative paths resolve against its folder */
	int rc = sg_policy__parse(&p, text, strlen(text), "P", "file /base/p sha256 x", "/base", 1);

	if (rc != 0)
		fail_msg("parse failed: %s", sg_error_last());
	return p;
}

/* In a committed policy a relative path would be read from the working
 * tree, which a feature branch controls: refused (reviewerKeyring stays a
 * path in the protected tree). */
static void test_blob_relative_paths(void **state)
{
	static const char *const bad[] = {
		"[profile \"r\"]\nkey = pkcs11:x\ncert = c.pem\n",
		"[profile \"r\"]\nkey = pkcs11:x\ntrustAnchor = pki/ca.pem\n",
		"[profile \"t\"]\nkey = file:keys/t.pem\ntest = true\n",
		"[scan]\ndatabase = db\n",
	};
	sg_policy *p = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sg_error_clear();
		assert_int_equal(sg_policy_load_buffer(&p, bad[i], strlen(bad[i]), "P", "o", "/base"), SG_ERROR);
		assert_non_null(strstr(sg_error_last(), "is relative"));
	}
	/* the twin: absolute paths are accepted, reviewerKeyring kept as a tree path */
	{
		const char *ok = "[gate]\nreviewerKeyring = keys/r.gpg\n[profile \"r\"]\nkey = pkcs11:x\ncert = /c.pem\n";
		assert_int_equal(sg_policy_load_buffer(&p, ok, strlen(ok), "P", "o", "/base"), SG_OK);
		assert_string_equal(p->reviewer_keyring, "keys/r.gpg");
		assert_string_equal(p->profiles[0].cert, "/c.pem");
		sg_policy_free(p);
	}
}

static void parse_fails(const char *text, const char *expect);

/* [scan] engine = clamd: the address forms that are accepted, and their
 * refused twins (a typo must not send the file somewhere else). */
static void test_scan_clamd(void **state)
{
	static const char *const good[] = {
		"unix:/run/clamav/clamd.ctl", "tcp://127.0.0.1:3310", "tcp://clamd.ci:3310",
		"tcp://[::1]:3310", "tcp://h:65535",
	};
	static const char *const bad[] = {
		"/run/clamav/clamd.ctl", "unix:clamd.ctl", "unix:", "tcp://127.0.0.1", "tcp://:3310",
		"tcp://h:0", "tcp://h:65536", "tcp://h:33x", "tcp://::1:3310", "tcp://[]:3310",
		"tcp://h/x:3310", "http://h:3310", "tcp://h:",
	};
	char text[512];
	sg_policy *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "[scan]\nengine = clamd\nclamd = %s\nclamdTimeout = 30\n", good[i]);
		p = parse_ok(text);
		assert_string_equal(p->scan_engine, "clamd");
		assert_string_equal(p->scan_clamd, good[i]);
		assert_int_equal(p->scan_clamd_timeout, 30);
		sg_policy_free(p);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[scan]\nengine = clamd\nclamd = %s\n", bad[i]);
		parse_fails(text, "P:3: scan.clamd = '");
	}
	{
		char unix_long[200] = "[scan]\nclamd = unix:/";
		memset(unix_long + strlen(unix_long), 'x', 120);
		strcat(unix_long, "\n");
		parse_fails(unix_long, "under 108 bytes");
	}
	parse_fails("[scan]\nclamdTimeout = 0\n", "P:2: scan.clamdTimeout = 0: must be at least 1");
	parse_fails("[scan]\nengine = clamdscan\n", "P:2: scan.engine = 'clamdscan': the scan engine is clamav");
}

static void parse_fails(const char *text, const char *expect)
{
	sg_policy *p = NULL;
	int rc;

	sg_error_clear();
	rc = sg_policy__parse(&p, text, strlen(text), "P", "o", "/base", 1);
	if (rc != SG_ERROR)
		fail_msg("accepted (rc %d): %s", rc, text);
	assert_null(p);
	assert_non_null(sg_error_last());
	if (!strstr(sg_error_last(), expect))
		fail_msg("expected '%s' in '%s'", expect, sg_error_last());
}

static const char *FULL =
	"# full policy\n"
	"[gate]\n"
	"\tprotectedBranch = main\n"
	"\tprotectedBranch = release/*\n"
	"\tremote = origin\n"
	"\tfirstParent = false\n"
	"\trequiredReviews = 2\n"
	"\treviewSource = trailers\n"
	"\treviewSource = gerrit\n"
	"\treviewer = *@example.com\n"
	"\tallowSelfReview = yes\n"
	"\tsigner = alice@example.com\n"
	"\tsigner = user:build\n"
	"\ttrailer = Signed-off-by\n"
	"\tgerritNotesRef = refs/notes/gerrit\n"
	"\tgerritLabel = Verified\n"
	"\tgerritMinScore = 1\n"
	"\treviewerKey = 0123456789ABCDEF0123456789ABCDEF01234567\n"
	"\treviewerKeyring = keys/reviewers.gpg\n"
	"\tallowStaleReviews = on\n"
	"[profile \"Release\"]\n"
	"\tformat = cms\n"
	"\tkey = \"pkcs11:token=release;object=codesign\" ; quoted: ';' starts a comment\n"
	"\tpkcs11Module = /usr/lib/x.so\n"
	"\tcert = /etc/signgate/release.pem\n"
	"\tchain = chain.pem\n"
	"\ttrustAnchor = pki/ca.pem\n"
	"\trequireHardwareKey = false\n"
	"\ttsa = https://tsa1.example/\n"
	"\ttsa = http://127.0.0.1:8080/\n"
	"\ttsaTrustAnchor = /etc/tsa-ca.pem\n"
	"\trequireTimestamp = false\n"
	"\ttest = false\n"
	"\tartifacts = dist/*\n"
	"\tartifacts = *.tar.gz\n"
	"\tnotesRef = refs/notes/rel\n"
	"\tcertExpiryWarnDays = 10\n"
	"\tmaxKeyAgeDays = 365\n"
	"[profile \"pgp\"]\n"
	"\tformat = openpgp\n"
	"\tkey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	"\tallowedKey = BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n"
	"\tallowedKey = CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC\n"
	"[scan]\n"
	"\tengine = clamav\n"
	"\tdatabase = db\n"
	"\trequired = false\n"
	"\tmaxFileSize = 2g\n"
	"[revoked \"ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789\"]\n"
	"\tsince = 2026-11-01T00:00:00Z\n"
	"\treason = \"key exposed; in CI logs\"\n"
	"[release]\n"
	"\ttagPattern = release-*\n"
	"\tarchive = true\n"
	"\tartifact = dist/*.tar.gz\n"
	"\tartifact = dist/*.zip\n"
	"\trequireNote = false\n"
	"[forge]\n"
	"\tgithubApi = https://api.github.com\n"
	"\tgithubRepository = owner/name\n"
	"\tgitlabApi = https://gitlab.example/api/v4\n"
	"\tgitlabProject = group/sub/name\n"
	"[notes]\n"
	"\tpush = origin\n";

static void test_full(void **state)
{
	sg_policy *p = parse_ok(FULL);
	const sg_profile *r, *g;
	const sg_revocation *rv;
	(void)state;

	assert_int_equal(p->protected_branch.n, 2);
	assert_string_equal(p->protected_branch.v[1], "release/*");
	assert_string_equal(p->remote, "origin");
	assert_int_equal(p->first_parent, 0);
	assert_int_equal(p->required_reviews, 2);
	assert_int_equal(p->review_source.n, 2);
	assert_string_equal(p->review_source.v[1], "gerrit");
	assert_string_equal(p->reviewer.v[0], "*@example.com");
	assert_int_equal(p->allow_self_review, 1);
	assert_int_equal(p->signer.n, 2);
	assert_string_equal(p->signer.v[1], "user:build");
	assert_int_equal(p->trailer.n, 1); /* an explicit list replaces the default */
	assert_string_equal(p->trailer.v[0], "Signed-off-by");
	assert_string_equal(p->gerrit_notes_ref, "refs/notes/gerrit");
	assert_string_equal(p->gerrit_label, "Verified");
	assert_int_equal(p->gerrit_min_score, 1);
	assert_int_equal(p->reviewer_key.n, 1);
	assert_string_equal(p->reviewer_keyring, "/base/keys/reviewers.gpg");
	assert_int_equal(p->allow_stale_reviews, 1);

	assert_int_equal(p->nprofiles, 2);
	assert_null(sg_policy_profile(p, "release")); /* names are exact */
	r = sg_policy_profile(p, "Release");
	assert_non_null(r);
	assert_string_equal(r->format, "cms");
	assert_string_equal(r->key, "pkcs11:token=release;object=codesign");
	assert_string_equal(r->pkcs11_module, "/usr/lib/x.so");
	assert_string_equal(r->cert, "/etc/signgate/release.pem");
	assert_string_equal(r->chain, "/base/chain.pem");
	assert_string_equal(r->trust_anchor, "/base/pki/ca.pem");
	assert_int_equal(r->require_hardware_key, 0);
	assert_int_equal(r->tsa.n, 2);
	assert_string_equal(r->tsa.v[0], "https://tsa1.example/");
	assert_string_equal(r->tsa.v[1], "http://127.0.0.1:8080/");
	assert_string_equal(r->tsa_trust_anchor, "/etc/tsa-ca.pem");
	assert_int_equal(r->require_timestamp, 0);
	assert_int_equal(r->test, 0);
	assert_int_equal(r->artifacts.n, 2);
	assert_string_equal(r->notes_ref, "refs/notes/rel");
	assert_int_equal(r->cert_expiry_warn_days, 10);
	assert_int_equal(r->max_key_age_days, 365);
	assert_int_equal(r->allowed_key.n, 0);
	g = sg_policy_profile(p, "pgp");
	assert_non_null(g);
	assert_string_equal(g->format, "openpgp");
	assert_int_equal(g->allowed_key.n, 2);
	assert_string_equal(g->allowed_key.v[1], "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC");

	assert_string_equal(p->scan_engine, "clamav");
	assert_string_equal(p->scan_database, "/base/db");
	assert_int_equal(p->scan_required, 0);
	assert_true(p->scan_max_file_size == 2ULL << 30);

	assert_int_equal(p->nrevoked, 1);
	rv = sg_policy_revocation(p, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	assert_non_null(rv);
	assert_string_equal(rv->cert_sha256, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	assert_int_equal(rv->since, 1793491200);
	assert_string_equal(rv->since_text, "2026-11-01T00:00:00Z");
	assert_string_equal(rv->reason, "key exposed; in CI logs");
	assert_null(sg_policy_revocation(p, "00"));

	assert_string_equal(p->tag_pattern, "release-*");
	assert_int_equal(p->release_archive, 1);
	assert_int_equal(p->release_artifact.n, 2);
	assert_string_equal(p->release_artifact.v[1], "dist/*.zip");
	assert_int_equal(p->require_note, 0);
	assert_string_equal(p->github_api, "https://api.github.com");
	assert_string_equal(p->github_repository, "owner/name");
	assert_string_equal(p->gitlab_api, "https://gitlab.example/api/v4");
	assert_string_equal(p->gitlab_project, "group/sub/name");
	assert_string_equal(p->notes_push, "origin");
	assert_string_equal(p->origin, "file /base/p sha256 x");
	assert_string_equal(p->base_dir, "/base");
	assert_int_equal(p->from_file, 1);
	sg_policy_free(p);
}

static void test_defaults(void **state)
{
	sg_policy *p = parse_ok("[profile \"r\"]\nkey = pkcs11:token=r\n"
				"[profile \"t\"]\nkey = file:keys/t.pem\ntest = true\n"
				"[profile \"t2\"]\nkey = file:/k.pem\ntest\nrequireTimestamp = true\n");
	const sg_profile *r, *t, *t2;
	(void)state;

	assert_int_equal(p->protected_branch.n, 0);
	assert_null(p->remote);
	assert_int_equal(p->first_parent, 1);
	assert_int_equal(p->required_reviews, 1);
	assert_int_equal(p->review_source.n, 1);
	assert_string_equal(p->review_source.v[0], "trailers");
	assert_int_equal(p->reviewer.n, 0);
	assert_int_equal(p->allow_self_review, 0);
	assert_int_equal(p->signer.n, 0);
	assert_int_equal(p->trailer.n, 2);
	assert_string_equal(p->trailer.v[0], "Reviewed-by");
	assert_string_equal(p->trailer.v[1], "Approved-by");
	assert_string_equal(p->gerrit_notes_ref, "refs/notes/review");
	assert_string_equal(p->gerrit_label, "Code-Review");
	assert_int_equal(p->gerrit_min_score, 2);
	assert_null(p->reviewer_keyring);
	assert_int_equal(p->allow_stale_reviews, 0);
	assert_string_equal(p->scan_engine, "clamav");
	assert_string_equal(p->scan_database, "/var/lib/clamav");
	assert_int_equal(p->scan_required, 1);
	assert_true(p->scan_max_file_size == 4294967295ULL);
	assert_string_equal(p->scan_clamd, "unix:/run/clamav/clamd.ctl");
	assert_int_equal(p->scan_clamd_timeout, 600);
	assert_int_equal(p->nrevoked, 0);
	assert_string_equal(p->tag_pattern, "v*");
	assert_int_equal(p->release_archive, 0);
	assert_int_equal(p->require_note, 1);
	assert_null(p->github_api);
	assert_null(p->notes_push);

	r = sg_policy_profile(p, "r");
	assert_string_equal(r->format, "cms");
	assert_string_equal(r->pkcs11_module, "/usr/lib/softhsm/libsofthsm2.so");
	assert_null(r->cert);
	assert_int_equal(r->require_hardware_key, 1);
	assert_int_equal(r->require_timestamp, 1);
	assert_int_equal(r->test, 0);
	assert_int_equal(r->artifacts.n, 0);
	assert_string_equal(r->notes_ref, "refs/notes/signatures");
	assert_int_equal(r->cert_expiry_warn_days, 30);
	assert_int_equal(r->max_key_age_days, 0);
	t = sg_policy_profile(p, "t");
	assert_int_equal(t->test, 1);
	assert_int_equal(t->require_hardware_key, 0);
	assert_int_equal(t->require_timestamp, 0);
	assert_string_equal(t->key, "file:/base/keys/t.pem");
	t2 = sg_policy_profile(p, "t2");
	assert_int_equal(t2->test, 1); /* bare key = true, as in git */
	assert_int_equal(t2->require_timestamp, 1); /* explicit wins */
	assert_int_equal(t2->require_hardware_key, 0);
	assert_null(sg_policy_profile(p, "missing"));
	sg_policy_free(p);

	/* openpgp: allowedKey defaults to the key */
	p = parse_ok("[profile \"g\"]\nformat = openpgp\nkey = 0123456789abcdef0123456789abcdef01234567\n");
	assert_int_equal(p->profiles[0].allowed_key.n, 1);
	assert_string_equal(p->profiles[0].allowed_key.v[0], "0123456789abcdef0123456789abcdef01234567");
	sg_policy_free(p);
}

static void test_errors(void **state)
{
	(void)state;
	parse_fails("[gate]\nrequiredReviews = 1\n[gaet]\nremote = origin\n", "P:4: unknown section [gaet]");
	parse_fails("[gate]\n\n  requiredReview = 2\n", "P:3: unknown key requiredReview in [gate]; "
		    "did you mean requiredReviews? (keys: signgate-policy(5))");
	parse_fails("[profile \"r\"]\nkey = pkcs11:x\ncertt = /x\n", "P:3: unknown key certt in [profile \"r\"]; "
		    "did you mean cert?");
	parse_fails("[gate]\nRequiredReveiws = 2\n", "P:2: unknown key RequiredReveiws in [gate]; "
		    "did you mean requiredReviews?");
	/* nothing close: no suggestion, the man page instead */
	parse_fails("[gate]\nzzzzzzzz = 2\n", "P:2: unknown key zzzzzzzz in [gate]; check the spelling "
		    "(keys: signgate-policy(5))");
	parse_fails("[gate]\nrequiredReviews = two\n", "P:2: gate.requiredReviews = 'two' is not a non-negative integer");
	parse_fails("[gate]\nrequiredReviews = -1\n", "P:2: gate.requiredReviews = '-1' is not a non-negative integer");
	parse_fails("[gate]\nrequiredReviews = 2x\n", "P:2:");
	parse_fails("[profile \"r\"]\nkey = pkcs11:x\nmaxKeyAgeDays = -5\n", "P:3:");
	parse_fails("[gate]\nfirstParent = maybe\n", "P:2: gate.firstParent = 'maybe' is not a boolean");
	parse_fails("[profile \"r\"]\nkey = pkcs11:x\nformat = x509\n", "P:3: profile.r.format = 'x509': the format must be cms or openpgp");
	parse_fails("[gate]\nreviewSource = trailers\nreviewSource = email\n", "P:3: gate.reviewSource = 'email'");
	parse_fails("[revoked \"abc\"]\nsince = 2026-11-01T00:00:00Z\n", "P:2: [revoked \"abc\"]: the subsection must be");
	parse_fails("[revoked \"ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef012345678g\"]\nsince = 2026-11-01T00:00:00Z\n",
		    "P:2:");
	parse_fails("[revoked \"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\"]\n"
		    "reason = x\nsince = 2026-11-01 00:00:00\n", "P:3: revoked.abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789.since = '2026-11-01 00:00:00' is not an RFC 3339 UTC time");
	parse_fails("[revoked \"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\"]\n"
		    "reason = x\n", "P:2: [revoked \"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\"] has no since");
	parse_fails("[gate]\nremote = origin\nrequiredReviews = 1\n[gate]\nremote = upstream\n",
		    "P:5: gate.remote is set twice");
	parse_fails("[profile \"a\"]\nkey = pkcs11:a\n[profile \"b\"]\nkey = pkcs11:b\nkey = pkcs11:c\n",
		    "P:5: profile.b.key is set twice");
	parse_fails("[gate]\nrequiredReviews = 1\n[profile \"r\"]\n\tcert = /x.pem\n",
		    "P:4: profile \"r\" has no key");
	parse_fails("[profile \"r\"]\nkey = pkcs11:x\npkcs11Module = lib/x.so\n",
		    "P:3: profile.r.pkcs11Module = 'lib/x.so' must be an absolute path");
	parse_fails("[profile \"r\"]\nkey = pkcs11:x\ncert = ~/x.pem\n", "P:3: profile.r.cert = '~/x.pem': '~' is not expanded");
	parse_fails("[gate \"x\"]\nremote = origin\n", "P:2: unknown section [gate \"x\"]");
	parse_fails("[profile]\nkey = pkcs11:x\n", "P:2: a profile needs a name");
	parse_fails("[revoked]\nsince = 2026-11-01T00:00:00Z\n", "P:2: a revocation needs");
	parse_fails("[gate]\nremote\n", "P:2: gate.remote has no value");
	parse_fails("[gate]\nreviewer =\n", "P:2: gate.reviewer is empty");
	parse_fails("[gate]\ngerritMinScore = 0\n", "P:2: gate.gerritMinScore = 0: must be at least 1");
	parse_fails("[profile \"r\"]\nkey = pkcs11:x\ntsa = ftp://x/\n", "P:3: profile.r.tsa = 'ftp://x/' is not an http(s) URL");
	parse_fails("[gate]\nreviewerKey = ABCD1234\n", "P:2: gate.reviewerKey = 'ABCD1234' is not an OpenPGP fingerprint");
	parse_fails("[profile \"g\"]\nformat = openpgp\nkey = alice@example.com\n", "P:3: profile \"g\": an openpgp key must be a fingerprint");
	parse_fails("[profile \"c\"]\nkey = /k.pem\n", "P:2: profile \"c\": a cms key must be a pkcs11: URI or file:PATH");
	parse_fails("[profile \"r\"]\nkey = pkcs11:token=a;object=b\n",
		    "P:2: profile.r.key: a ';' or '#' inside the value starts a comment, so git-config reads only 'pkcs11:token=a'");
	parse_fails("[profile \"r\"]\nkey = pkcs11:x\ntsa = https://t/#x\n", "P:3: profile.r.tsa: a ';' or '#'");
	parse_fails("[scan]\nengine = sophos\n", "P:2: scan.engine = 'sophos'");
	parse_fails("[scan]\nmaxFileSize = 10t\n", "P:2: scan.maxFileSize = '10t' is not a size");
	parse_fails("[profile \"r\"]\nkey = pkcs11:x\nnotesRef = notes/x\n", "P:3: profile.r.notesRef = 'notes/x' is not a valid notes ref name");
	parse_fails("[notes]\npush = bad..name\n", "P:2: notes.push = 'bad..name' is not a valid remote name");
	parse_fails("[forge]\ngithubRepository = justname\n", "P:2: forge.githubRepository = 'justname' must be owner/name");
	/* libgit2's own syntax errors keep the display name and line */
	parse_fails("[gate]\nrequiredReviews = 1\n[gate\n", "P:3: not valid git-config syntax");
	parse_fails("[gate]\nrequired Reviews = 1\n", "P:2: not valid git-config syntax");
	parse_fails("# top\na = b\n", "P:2: a is outside any section");
	{
		/* NUL must be seen even though strlen stops at it */
		sg_policy *p = NULL;
		const char text[] = "[gate]\nremote = a\0[include]\n";
		assert_int_equal(sg_policy_load_buffer(&p, text, sizeof(text) - 1, "P", "o", "/b"), SG_ERROR);
		assert_non_null(strstr(sg_error_last(), "NUL byte"));
	}
}

/* Line numbers stay right after continuations, comments, quotes and keys on
 * the header line; the right occurrence of a repeated key is named. */
static void test_error_lines(void **state)
{
	(void)state;
	parse_fails("; comment [gate]\n[gate] requiredReviews = 1\n"
		    "[profile \"a\"]\n"
		    "  key = \"pkcs11:token=a;\\\n"
		    "object=x\" # a comment\n"
		    "[profile \"b\"]\n"
		    "  key = pkcs11:b\n"
		    "[profile \"a\"] format = nope\n",
		    "P:8: profile.a.format = 'nope'");
	parse_fails("[gate]\nreviewSource = trailers\nreviewSource = gerrit\n\n# x\nreviewSource = GERRIT\n",
		    "P:6: gate.reviewSource = 'GERRIT'");
	parse_fails("[GATE]\nREQUIREDREVIEWS = x\n", "P:2: gate.requiredReviews");
	parse_fails("[profile.rel]\nkey = pkcs11:x\nformat = y\n", "P:3: profile.rel.format = 'y'");
}

/* [person]: identities normalised and found by the form the gate meets
 * them in; bad shapes, shared identities and unknown keys name FILE:LINE. */
static void test_persons(void **state)
{
	sg_policy *p;
	const sg_person *a;

	(void)state;
	p = parse_ok("[person \"alice\"]\n\temail = Alice@Example.com\n\temail = alice@users.noreply.example.com\n"
		     "\tgithub = Alice-GH\n\tgitlab = alice\n\tgerrit = 1000042\n"
		     "\tkey = 0123456789abcdef0123456789abcdef01234567\n"
		     "[person \"bob\"]\n\temail = bob@example.com\n[gate]\nchangesRequested = ignore\n");
	assert_int_equal(p->npersons, 2);
	a = &p->persons[0];
	assert_string_equal(a->name, "alice");
	assert_int_equal(a->email.n, 2);
	assert_string_equal(a->email.v[0], "alice@example.com");
	assert_string_equal(a->github.v[0], "alice-gh");
	assert_string_equal(a->key.v[0], "0123456789ABCDEF0123456789ABCDEF01234567");
	assert_ptr_equal(sg_policy_person_find(p, "ALICE@users.noreply.example.com"), a);
	assert_ptr_equal(sg_policy_person_find(p, "github:alice-gh"), a);
	assert_ptr_equal(sg_policy_person_find(p, "gitlab:Alice"), a);
	assert_ptr_equal(sg_policy_person_find(p, "gerrit:1000042"), a);
	assert_ptr_equal(sg_policy_person_find(p, "key:0123456789ABCDEF0123456789abcdef01234567"), a);
	assert_ptr_equal(sg_policy_person_find(p, "bob@example.com"), &p->persons[1]);
	/* the twins: another kind of identity with the same text is nobody */
	assert_null(sg_policy_person_find(p, "github:alice"));
	assert_null(sg_policy_person_find(p, "gitlab:alice-gh"));
	assert_null(sg_policy_person_find(p, "carol@example.com"));
	assert_null(sg_policy_person_find(p, "key:0123456789ABCDEF"));
	assert_int_equal(sg_policy_changes_requested_blocks(p), 0);
	sg_policy_free(p);
	p = parse_ok("[gate]\nrequiredReviews = 1\n");
	assert_int_equal(p->npersons, 0);
	assert_int_equal(sg_policy_changes_requested_blocks(p), 1);
	sg_policy_free(p);

	parse_fails("[person \"a\"]\nemail = a@x\n[person \"b\"]\nemail = b@x\nemail = A@X\n",
		    "P:5: person.b.email = 'A@X' is already an identity of [person \"a\"]");
	parse_fails("[person \"a\"]\ngithub = al\n[person \"b\"]\ngithub = AL\n", "P:4:");
	parse_fails("[person \"a\"]\nkey = 0123ABCD\n", "P:2: person.a.key = '0123ABCD' is not a full OpenPGP fingerprint");
	parse_fails("[person \"a\"]\nemail = Alice <a@x>\n", "P:2: person.a.email = 'Alice <a@x>' is not an email");
	parse_fails("[person \"a\"]\ngerrit = alice\n", "P:2: person.a.gerrit = 'alice' is not a Gerrit account id");
	parse_fails("[person \"a\"]\ngithub = a/b\n", "P:2: person.a.github = 'a/b' is not a GitHub login");
	parse_fails("[person \"a\"]\nemail = a@x\nemial = b@x\n", "P:3: unknown key emial in [person \"a\"]");
	parse_fails("[person]\nemail = a@x\n", "P:2: a person needs a name");
	parse_fails("[person \"a\"]\nemail\n", "P:2: person.a.email = '' has no value");
	parse_fails("[gate]\nchangesRequested = warn\n", "P:2: gate.changesRequested = 'warn'");
}

static void test_includes(void **state)
{
	static const char *const bad[] = {
		"[gate]\nrequiredReviews = 2\n[include]\npath = /etc/passwd\n",
		"[gate]\nrequiredReviews = 2\n[includeIf \"gitdir:/\"]\npath = /tmp/x\n",
		"[gate]\nrequiredReviews = 2\n[InClUdE]\npath = x\n",
		"[gate]\nrequiredReviews = 2\n  [ include ] path = x\n",
		"[gate]\nrequiredReviews = 2\n[INCLUDEIF \"onbranch:main\"]\npath = x\n",
		"[gate]\nrequiredReviews = 2\n[include.x]\npath = x\n",
	};
	char inc[128], pol[128];
	sg_policy *p = NULL;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_fails(bad[i], "P:3: include sections ([include] / [includeIf]) are not allowed");

	/* file policies too, even when the included file exists and is valid */
	snprintf(inc, sizeof(inc), "%s/inc.cfg", tmp);
	snprintf(pol, sizeof(pol), "%s/inc-policy", tmp);
	write_text(inc, "[gate]\nrequiredReviews = 0\n");
	{
		char text[512];
		snprintf(text, sizeof(text), "[gate]\nrequiredReviews = 2\n[include]\n\tpath = %s\n", inc);
		write_text(pol, text);
	}
	sg_error_clear();
	assert_int_equal(sg_policy_load_file(&p, pol), SG_ERROR);
	assert_null(p);
	assert_non_null(strstr(sg_error_last(), ":3: include sections"));
	/* the twin: the same file without the include loads */
	write_text(pol, "[gate]\nrequiredReviews = 2\n");
	assert_int_equal(sg_policy_load_file(&p, pol), 0);
	assert_int_equal(p->required_reviews, 2);
	sg_policy_free(p);
}

static void test_time(void **state)
{
	static const char *const bad[] = {
		"", "2026-11-01", "2026-11-01T00:00:00", "2026-11-01T00:00:00z", "2026-11-01t00:00:00Z",
		"2026-11-01T00:00:00+00:00", "2026-11-01T00:00:00.5Z", "2026-02-30T00:00:00Z",
		"2026-13-01T00:00:00Z", "2026-11-01T24:00:00Z", "2026-11-01T00:60:00Z",
		"2016-12-31T23:59:60Z", " 2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z ",
		"1969-12-31T23:59:59Z", "2026-1a-01T00:00:00Z", "+026-11-01T00:00:00Z",
	};
	char out[32];
	time_t t = 0;
	size_t i;
	(void)state;

	assert_int_equal(sg_time_parse(&t, "2026-11-01T00:00:00Z"), 0);
	assert_int_equal(t, 1793491200);
	sg_time_format(out, sizeof(out), t);
	assert_string_equal(out, "2026-11-01T00:00:00Z");
	assert_int_equal(sg_time_parse(&t, "2024-02-29T23:59:59Z"), 0);
	sg_time_format(out, sizeof(out), t);
	assert_string_equal(out, "2024-02-29T23:59:59Z");
	assert_int_equal(sg_time_parse(&t, "1970-01-01T00:00:00Z"), 0);
	assert_int_equal(t, 0);
	for (t = 0; t < 4000000000LL; t += 123456789) {
		time_t back = -1;
		sg_time_format(out, sizeof(out), t);
		assert_int_equal(sg_time_parse(&back, out), 0);
		assert_int_equal(back, t);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = 42;
		if (sg_time_parse(&t, bad[i]) != SG_ERROR)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(t, 42);
	}
	assert_int_equal(sg_time_parse(&t, "2023-02-29T00:00:00Z"), SG_ERROR);
	assert_int_equal(sg_time_parse(&t, NULL), SG_ERROR);
	sg_time_format(out, 5, 0); /* too small: truncated to empty, never overflows */
	assert_string_equal(out, "");
}

/* ---- loading from a repository ---- */

static const char *P_MAIN = "[gate]\n\trequiredReviews = 3\n";
static const char *P_OTHER = "[gate]\n\trequiredReviews = 5\n";
static const char *P_WORKTREE = "[gate]\n\trequiredReviews = 0\n";

static git_repository *make_repo(const char *name, const char *branch, const char *policy)
{
	git_repository *repo = NULL;
	char dir[256], file[300];

	snprintf(dir, sizeof(dir), "%s/%s", tmp, name);
	sh_ok("git init -q -b %s %s", branch, dir);
	if (policy) {
		snprintf(file, sizeof(file), "%s/.signgate", dir);
		write_text(file, policy);
		sh_ok("git -C %s add .signgate", dir);
	} else {
		snprintf(file, sizeof(file), "%s/README", dir);
		write_text(file, "x\n");
		sh_ok("git -C %s add README", dir);
	}
	sh_ok("git -C %s commit -q -m init", dir);
	assert_int_equal(git_repository_open(&repo, dir), 0);
	return repo;
}

static int load_reviews(git_repository *repo, const char *file, char **origin)
{
	sg_policy *p = NULL;
	int n;

	sg_error_clear();
	if (sg_policy_load(&p, repo, file) != 0)
		fail_msg("load failed: %s", sg_error_last());
	n = p->required_reviews;
	if (origin)
		*origin = strdup(p->origin);
	sg_policy_free(p);
	return n;
}

static void test_load_main_blob(void **state)
{
	git_repository *repo = make_repo("r1", "main", P_MAIN);
	const char *wd = git_repository_workdir(repo);
	char file[300], *origin = NULL, expect[128], oid[64];
	sg_policy *p = NULL;
	FILE *f;
	(void)state;

	/* the working tree's .signgate is never read, staged or not */
	snprintf(file, sizeof(file), "%s.signgate", wd);
	write_text(file, P_WORKTREE);
	assert_int_equal(load_reviews(repo, NULL, &origin), 3);
	sh_ok("git -C %s rev-parse main:.signgate > %s/oid", wd, tmp);
	snprintf(file, sizeof(file), "%s/oid", tmp);
	f = fopen(file, "r");
	assert_non_null(f);
	assert_non_null(fgets(oid, sizeof(oid), f));
	fclose(f);
	oid[strcspn(oid, "\n")] = '\0';
	snprintf(expect, sizeof(expect), "blob %s at refs/heads/main", oid);
	assert_string_equal(origin, expect);
	free(origin);

	assert_int_equal(sg_policy_load(&p, repo, NULL), 0);
	assert_int_equal(p->from_file, 0);
	snprintf(file, sizeof(file), "%s", wd);
	file[strlen(file) - 1] = '\0';
	assert_string_equal(p->base_dir, file);
	sg_policy_free(p);

	/* the twin: once committed, the change governs */
	sh_ok("git -C %s commit -q -am change", wd);
	assert_int_equal(load_reviews(repo, NULL, NULL), 0);

	/* an error in the blob names the ref and line */
	snprintf(file, sizeof(file), "%s.signgate", wd);
	write_text(file, "[gate]\n\trequiredReviews = 1\n\tbogus = 1\n");
	sh_ok("git -C %s commit -q -am bad", wd);
	assert_int_equal(sg_policy_load(&p, repo, NULL), SG_ERROR);
	assert_string_equal(sg_error_last(), ".signgate at refs/heads/main:3: unknown key bogus in [gate]; "
			    "check the spelling (keys: signgate-policy(5))");
	/* includes in the blob are refused */
	write_text(file, "[gate]\n\trequiredReviews = 1\n[include]\n\tpath = /etc/gitconfig\n");
	sh_ok("git -C %s commit -q -am inc", wd);
	assert_int_equal(sg_policy_load(&p, repo, NULL), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), ".signgate at refs/heads/main:3: include sections"));
	git_repository_free(repo);
}

static void test_load_master_and_missing(void **state)
{
	git_repository *repo = make_repo("r2", "master", P_OTHER);
	sg_policy *p = NULL;
	char *origin = NULL;
	(void)state;

	assert_int_equal(load_reviews(repo, NULL, &origin), 5);
	assert_non_null(strstr(origin, " at refs/heads/master"));
	free(origin);
	git_repository_free(repo);

	/* no main, no master: no policy, and the working tree does not count */
	repo = make_repo("r3", "trunk", NULL);
	{
		char f[300];
		snprintf(f, sizeof(f), "%s.signgate", git_repository_workdir(repo));
		write_text(f, P_MAIN);
	}
	assert_int_equal(sg_policy_load(&p, repo, NULL), SG_ENOTFOUND);
	assert_null(p);
	assert_non_null(strstr(sg_error_last(), "no policy: no .signgate on refs/heads/main"));
	assert_non_null(strstr(sg_error_last(), "or pass --policy FILE"));
	git_repository_free(repo);

	/* main exists without .signgate: no fallback to anything else */
	repo = make_repo("r4", "main", NULL);
	sh_ok("git -C %s/r4 branch master", tmp);
	assert_int_equal(sg_policy_load(&p, repo, NULL), SG_ENOTFOUND);
	assert_string_equal(sg_error_last(), "no policy: no .signgate on refs/heads/main; commit one there "
			    "(`signgate init` writes one) or pass --policy FILE");
	git_repository_free(repo);

	/* a symlink named .signgate is not a policy */
	repo = make_repo("r5", "main", NULL);
	sh_ok("cd %s/r5 && printf '[gate]\\nrequiredReviews = 0\\n' > real && ln -s real .signgate && "
	   "git add real .signgate && git commit -q -m link", tmp);
	assert_int_equal(sg_policy_load(&p, repo, NULL), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "not a regular file"));
	git_repository_free(repo);
}

static void test_load_origin_head(void **state)
{
	git_repository *repo = NULL, *up = make_repo("up", "main", P_MAIN);
	char dir[256], f[300], *origin = NULL;
	(void)state;

	git_repository_free(up);
	snprintf(dir, sizeof(dir), "%s/clone", tmp);
	sh_ok("git clone -q %s/up %s", tmp, dir);
	/* local main says otherwise; origin/HEAD wins */
	snprintf(f, sizeof(f), "%s/.signgate", dir);
	write_text(f, P_OTHER);
	sh_ok("git -C %s commit -q -am local", dir);
	assert_int_equal(git_repository_open(&repo, dir), 0);
	assert_int_equal(load_reviews(repo, NULL, &origin), 3);
	assert_non_null(strstr(origin, " at refs/remotes/origin/main"));
	free(origin);
	/* twin: without origin/HEAD, local main governs */
	sh_ok("git -C %s remote set-head origin -d", dir);
	assert_int_equal(load_reviews(repo, NULL, &origin), 5);
	assert_non_null(strstr(origin, " at refs/heads/main"));
	free(origin);

	/* signgate.policyRef picks the ref */
	sh_ok("git -C %s branch -q --no-track policy-branch origin/main", dir);
	sh_ok("git -C %s config signgate.policyRef refs/heads/policy-branch", dir);
	assert_int_equal(load_reviews(repo, NULL, &origin), 3);
	assert_non_null(strstr(origin, " at refs/heads/policy-branch"));
	free(origin);
	{
		sg_policy *p = NULL;
		sh_ok("git -C %s config signgate.policyRef refs/heads/nope", dir);
		assert_int_equal(sg_policy_load(&p, repo, NULL), SG_ENOTFOUND);
		assert_non_null(strstr(sg_error_last(), "signgate.policyRef refs/heads/nope does not exist"));
		sh_ok("git -C %s config signgate.policyRef policy-branch", dir);
		assert_int_equal(sg_policy_load(&p, repo, NULL), SG_ERROR);
		assert_non_null(strstr(sg_error_last(), "not a full ref name"));
	}
	git_repository_free(repo);
}

static void test_load_policy_file(void **state)
{
	git_repository *repo = make_repo("r6", "main", P_MAIN);
	char pol[256], lnk[256], *origin = NULL, expect[512], hex[80], f[300];
	sg_policy *p = NULL;
	FILE *fp;
	(void)state;

	snprintf(pol, sizeof(pol), "%s/admin.policy", tmp);
	write_text(pol, "[gate]\n\trequiredReviews = 7\n[profile \"x\"]\n\tkey = pkcs11:x\n\tcert = c.pem\n");
	sh_ok("sha256sum %s | cut -c1-64 > %s/sum", pol, tmp);
	snprintf(f, sizeof(f), "%s/sum", tmp);
	fp = fopen(f, "r");
	assert_non_null(fp);
	assert_non_null(fgets(hex, sizeof(hex), fp));
	fclose(fp);
	hex[strcspn(hex, "\n")] = '\0';
	snprintf(expect, sizeof(expect), "file %s sha256 %s", pol, hex);

	/* --policy */
	assert_int_equal(sg_policy_load(&p, repo, pol), 0);
	assert_int_equal(p->required_reviews, 7);
	assert_int_equal(p->from_file, 1);
	assert_string_equal(p->origin, expect);
	assert_string_equal(p->base_dir, tmp);
	snprintf(f, sizeof(f), "%s/c.pem", tmp);
	assert_string_equal(p->profiles[0].cert, f);
	sg_policy_free(p);
	p = NULL;

	/* signgate.policyFile beats the blob */
	sh_ok("git -C %s/r6 config signgate.policyFile %s", tmp, pol);
	assert_int_equal(load_reviews(repo, NULL, &origin), 7);
	assert_string_equal(origin, expect);
	free(origin);
	/* twin: unset, the blob governs again */
	sh_ok("git -C %s/r6 config --unset signgate.policyFile", tmp);
	assert_int_equal(load_reviews(repo, NULL, NULL), 3);

	/* errors in a file name the file and line */
	write_text(pol, "[gate]\n\trequiredReviews = 7\n\tfirstParent = sometimes\n");
	assert_int_equal(sg_policy_load_file(&p, pol), SG_ERROR);
	snprintf(expect, sizeof(expect), "%s:3: gate.firstParent = 'sometimes' is not a boolean", pol);
	assert_non_null(strstr(sg_error_last(), expect));

	/* symlinks, directories and missing files are refused */
	snprintf(lnk, sizeof(lnk), "%s/link.policy", tmp);
	sh_ok("ln -sf %s %s", pol, lnk);
	assert_int_equal(sg_policy_load_file(&p, lnk), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "symbolic link"));
	assert_int_equal(sg_policy_load_file(&p, tmp), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "is a directory"));
	snprintf(lnk, sizeof(lnk), "%s/none", tmp);
	assert_int_equal(sg_policy_load_file(&p, lnk), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "cannot read policy"));
	assert_non_null(strstr(sg_error_last(), "does not exist"));
	assert_null(p);
	git_repository_free(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_blob_relative_paths),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_scan_clamd),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_persons),
		cmocka_unit_test(test_error_lines),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_load_main_blob),
		cmocka_unit_test(test_load_master_and_missing),
		cmocka_unit_test(test_load_origin_head),
		cmocka_unit_test(test_load_policy_file),
	};
	char cmd[128];
	int rc;

	snprintf(tmp, sizeof(tmp), "/tmp/sgpol.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	/* isolate git and libgit2 from the user's and the system's config */
	setenv("HOME", tmp, 1);
	setenv("XDG_CONFIG_HOME", tmp, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "T", 1);
	setenv("GIT_AUTHOR_EMAIL", "t@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "T", 1);
	setenv("GIT_COMMITTER_EMAIL", "t@example.com", 1);
	git_libgit2_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
