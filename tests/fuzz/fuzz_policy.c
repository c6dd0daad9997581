/* libFuzzer target: the policy loader (src/policy) on hostile text -- the
 * raw-text scan that refuses includes and gives lines, libgit2's config
 * parser, and validation of every key. Invariants: a failure sets a
 * message; a success yields a policy whose lookups agree with its content. */
#include "fuzz.h"

#include <git2.h>
#include <string.h>

#include "core/error.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

static void fuzz_policy_check(const sg_policy *p)
{
	size_t i, j;

	SG_FUZZ_ASSERT(p->origin && p->origin[0]);
	SG_FUZZ_ASSERT(p->protected_branch.n > 0 || p->protected_branch.v == NULL);
	for (i = 0; i < p->nprofiles; i++) {
		const sg_profile *pr = &p->profiles[i];

		SG_FUZZ_ASSERT(pr->name);
		SG_FUZZ_ASSERT(!pr->format || !strcmp(pr->format, "cms") || !strcmp(pr->format, "openpgp"));
		SG_FUZZ_ASSERT(sg_policy_profile(p, pr->name) != NULL);
		for (j = 0; j < pr->tsa.n; j++)
			SG_FUZZ_ASSERT(pr->tsa.v[j] != NULL);
	}
	for (i = 0; i < p->nrevoked; i++) {
		const sg_revocation *r = &p->revoked[i];

		SG_FUZZ_ASSERT(r->cert_sha256 && strlen(r->cert_sha256) == 64);
		SG_FUZZ_ASSERT(strspn(r->cert_sha256, "0123456789abcdef") == 64);
		SG_FUZZ_ASSERT(sg_policy_revocation(p, r->cert_sha256) != NULL);
	}
}

SG_FUZZ_TARGET(policy)
{
	static int inited;
	sg_policy *p = NULL;
	sg_policy_rawscan scan;
	char *text;
	int rc;

	if (!inited) {
		git_libgit2_init();
		inited = 1;
	}
	if (size > SG_POLICY_MAX_SIZE + 16)
		return 0;
	/* The raw scan on its own: any bytes, no crash. */
	memset(&scan, 0, sizeof(scan));
	if (sg_policy__rawscan(&scan, (const char *)data, size) == SG_OK) {
		size_t i;

		for (i = 0; i < scan.n; i++)
			SG_FUZZ_ASSERT(scan.keys[i].key && scan.keys[i].line >= 1);
	}
	sg_policy__rawscan_release(&scan);
	(void)sg_policy__refuse_includes((const char *)data, size, "fuzz");

	/* The whole loader, as for a blob. */
	sg_error_clear();
	rc = sg_policy_load_buffer(&p, (const char *)data, size, "fuzz.signgate", "blob fuzz", "/nonexistent");
	if (rc == SG_OK) {
		SG_FUZZ_ASSERT(p != NULL);
		fuzz_policy_check(p);
		sg_policy_free(p);
	} else {
		SG_FUZZ_ASSERT(rc < 0 && p == NULL);
		SG_FUZZ_ASSERT(sg_error_last() && sg_error_last()[0]);
	}

	/* The time parser used by [revoked] since = ... */
	if (size < 64 && (text = strndup((const char *)data, size))) {
		time_t t;

		if (sg_time_parse(&t, text) == SG_OK) {
			char back[32];
			time_t t2;

			sg_time_format(back, sizeof(back), t);
			SG_FUZZ_ASSERT(sg_time_parse(&t2, back) == SG_OK && t2 == t);
		}
		free(text);
	}
	return 0;
}
