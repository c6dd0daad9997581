/* libFuzzer target: the forge JSON handling (src/gate/github.c, gitlab.c)
 * on answers a hostile or broken forge could send, and the Link header
 * parser (forge_http.c). The input is one JSON document; it is offered as
 * GitHub's /commits/{sha}/pulls and /pulls/{n}/reviews answers and as
 * GitLab's merge requests and approvals answers, against a fixed policy.
 * Invariants: every call ends in SG_OK or a negative code with a message;
 * every counted reviewer has an identity with its forge's prefix. */
#include "fuzz.h"

#include <jansson.h>
#include <string.h>

#include "core/error.h"
#include "core/strlist.h"
#include "gate/internal.h"
#include "policy/policy.h"

#define FUZZ_FORGE_SHA "0123456789abcdef0123456789abcdef01234567"

static void fuzz_forge_policy(sg_policy *p)
{
	static char *branches[] = { "main" };

	memset(p, 0, sizeof(*p));
	p->protected_branch.v = branches;
	p->protected_branch.n = 1;
	p->required_reviews = 2;
	p->first_parent = 1;
}

static void fuzz_forge_check_list(const sg_review_list *l, const char *prefix)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].email && !l->v[i].drop)
			SG_FUZZ_ASSERT(strncmp(l->v[i].email, prefix, strlen(prefix)) == 0);
}

static void fuzz_forge_rc(int rc)
{
	SG_FUZZ_ASSERT(rc == SG_OK || (rc < 0 && sg_error_last() != NULL));
}

static void fuzz_forge_github(const json_t *doc, const sg_policy *pol)
{
	sg_review_list l = { NULL, 0 };
	sg_strlist approved = SG_STRLIST_INIT, blockers = SG_STRLIST_INIT;
	json_t *pr = NULL;
	int rc;

	sg_error_clear();
	rc = sg_github_pick_pull(&pr, doc, pol, FUZZ_FORGE_SHA, &l);
	if (rc != SG_ENOTFOUND)
		fuzz_forge_rc(rc);
	if (rc == SG_OK && pr) {
		sg_error_clear();
		fuzz_forge_rc(sg_github_reviews(&l, &approved, &blockers, doc, pr, pol));
		fuzz_forge_check_list(&l, "github:");
	}
	sg_strlist_release(&approved);
	sg_strlist_release(&blockers);
	sg_review_list_release(&l);
}

static void fuzz_forge_gitlab(const json_t *doc, const sg_policy *pol)
{
	sg_review_list l = { NULL, 0 };
	sg_strlist approved = SG_STRLIST_INIT, blockers = SG_STRLIST_INIT;
	json_t *mr = NULL;
	int rc;

	sg_error_clear();
	rc = sg_gitlab_pick_mr(&mr, doc, pol, FUZZ_FORGE_SHA, &l);
	if (rc != SG_ENOTFOUND)
		fuzz_forge_rc(rc);
	/* the approvals answer is an object; offer the document itself and
	 * each element when it is an array */
	if (rc == SG_OK && mr) {
		/* the same document as the approval state, and as unreadable */
		sg_gitlab_state st = { (int)json_array_size(doc) % 3 - 1, doc, "", "" };

		sg_error_clear();
		fuzz_forge_rc(sg_gitlab_unmet_rules(&blockers, doc));
		fuzz_forge_rc(sg_gitlab_approvals(&l, &approved, doc, mr, &st, pol));
		st.rules = NULL;
		fuzz_forge_rc(sg_gitlab_approvals(&l, &approved, doc, mr, &st, pol));
		fuzz_forge_check_list(&l, "gitlab:");
	}
	sg_strlist_release(&approved);
	sg_strlist_release(&blockers);
	sg_review_list_release(&l);
}

SG_FUZZ_TARGET(forge_json)
{
	sg_policy pol;
	json_t *doc;
	char *text, *next = NULL;
	int rc;

	fuzz_forge_policy(&pol);
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* the same bytes as a Link header */
	sg_error_clear();
	rc = sg_forge_link_next(&next, text);
	SG_FUZZ_ASSERT(rc == SG_OK || rc == SG_ENOTFOUND || rc < 0);
	if (rc == SG_OK)
		SG_FUZZ_ASSERT(next != NULL);
	free(next);
	doc = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
	if (doc) {
		fuzz_forge_github(doc, &pol);
		fuzz_forge_gitlab(doc, &pol);
		json_decref(doc);
	}
	free(text);
	return 0;
}
