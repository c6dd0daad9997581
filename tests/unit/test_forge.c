/* Review sources without the network: Link header parsing, origin checks,
 * GitHub/GitLab JSON judged into reviews, approval statements and blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/http.h"
#include "gate/internal.h"

#define HEAD "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define OLD "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void policy_init(sg_policy *p)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(sg_strlist_add(&p->protected_branch, "main"), 0);
	assert_int_equal(sg_strlist_add(&p->protected_branch, "release/*"), 0);
	p->required_reviews = 2;
	p->github_repository = "octo/hello"; /* borrowed: never freed */
}

static void policy_release(sg_policy *p)
{
	sg_strlist_release(&p->protected_branch);
}

static json_t *j(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	if (!v)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return v;
}

/* The review list as "email|drop" lines joined by ';'. */
static void render(char *out, size_t n, const sg_review_list *l)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < l->n && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s|%s", i ? ";" : "", l->v[i].email ? l->v[i].email : "-",
				      l->v[i].drop ? l->v[i].drop : "");
}

static void test_link_next(void **state)
{
	char *u = NULL;

	(void)state;
	assert_int_equal(sg_forge_link_next(&u, "<https://api.github.com/repositories/1/pulls/7/reviews?page=2>; "
					    "rel=\"next\", <https://api.github.com/x?page=5>; rel=\"last\""), 0);
	assert_string_equal(u, "https://api.github.com/repositories/1/pulls/7/reviews?page=2");
	free(u);
	u = NULL;
	/* next after prev, several rel types, spaces, unquoted */
	assert_int_equal(sg_forge_link_next(&u, "<http://h/a?page=1>; rel=\"prev first\" ,  <http://h/a?page=3> ;"
					    " title=\"x, y\" ; rel=next"), 0);
	assert_string_equal(u, "http://h/a?page=3");
	free(u);
	u = NULL;
	assert_int_equal(sg_forge_link_next(&u, "<http://h/a?page=1>; rel=\"prev\", <http://h/b>; rel=\"last\""),
			 SG_ENOTFOUND);
	assert_int_equal(sg_forge_link_next(&u, "<http://h/a>; rel=\"nextpage\""), SG_ENOTFOUND);
	assert_int_equal(sg_forge_link_next(&u, "garbage"), SG_ENOTFOUND);
	assert_int_equal(sg_forge_link_next(&u, "<http://h/a; rel=next"), SG_ENOTFOUND);
	assert_int_equal(sg_forge_link_next(&u, "<>; rel=next"), SG_ENOTFOUND);
	assert_int_equal(sg_forge_link_next(&u, ""), SG_ENOTFOUND);
	assert_null(u);
}

static void test_same_origin(void **state)
{
	(void)state;
	assert_true(sg_http_same_origin("http://127.0.0.1:8080/a?x", "http://127.0.0.1:8080"));
	assert_true(sg_http_same_origin("https://API.github.com/x", "https://api.github.com"));
	assert_true(sg_http_same_origin("https://api.github.com:443/x", "https://api.github.com"));
	assert_false(sg_http_same_origin("http://127.0.0.2:8080/a", "http://127.0.0.1:8080"));
	assert_false(sg_http_same_origin("http://127.0.0.1:8081/a", "http://127.0.0.1:8080"));
	assert_false(sg_http_same_origin("http://api.github.com/a", "https://api.github.com"));
	assert_false(sg_http_same_origin("https://api.github.com.evil.example/a", "https://api.github.com"));
	assert_false(sg_http_same_origin("not a url", "https://api.github.com"));
}

static void test_escape_identity(void **state)
{
	char *e = NULL, id[64];

	(void)state;
	assert_int_equal(sg_http_escape(&e, "group/sub/name"), 0);
	assert_string_equal(e, "group%2Fsub%2Fname");
	free(e);
	assert_int_equal(sg_forge_identity(id, sizeof(id), "github:", "Bob-Smith"), 0);
	assert_string_equal(id, "github:bob-smith");
	assert_int_equal(sg_forge_identity(id, sizeof(id), "github:", "dependabot[bot]"), 0);
	assert_int_equal(sg_forge_identity(id, sizeof(id), "github:", "a b"), -1);
	assert_int_equal(sg_forge_identity(id, sizeof(id), "github:", "a@b"), -1);
	assert_int_equal(sg_forge_identity(id, sizeof(id), "github:", ""), -1);
	assert_int_equal(sg_forge_identity(id, sizeof(id), "github:", NULL), -1);
}

static void test_line_cut(void **state)
{
	sg_strlist l = SG_STRLIST_INIT;
	char *big = malloc(5001);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 5000);
	big[5000] = '\0';
	assert_int_equal(sg_forge_line(&l, "Review-Approvers: github %s", "a, b"), 0);
	assert_int_equal(sg_forge_line(&l, "Review-Approvers: github %s", big), 0);
	assert_string_equal(l.v[0], "Review-Approvers: github a, b");
	assert_int_equal(strlen(l.v[1]), 4000);
	assert_string_equal(l.v[1] + 3994, " (cut)");
	sg_strlist_release(&l);
	free(big);
}

static void test_github_pick(void **state)
{
	sg_policy pol;
	sg_review_list l = { 0 };
	json_t *pulls, *pr = NULL;
	char s[1024];

	(void)state;
	policy_init(&pol);
#define HERE ", \"repo\": {\"full_name\": \"Octo/Hello\"}"
	pulls = j("[{\"number\": 3, \"merged_at\": null, \"base\": {\"ref\": \"main\"" HERE "}},"
		  " {\"number\": 4, \"merged_at\": \"2026-01-01T00:00:00Z\", \"base\": {\"ref\": \"dev\"" HERE "}},"
		  " {\"number\": 5, \"merged_at\": \"2026-01-01T00:00:00Z\", \"base\": {\"ref\": \"release/1\"" HERE "}},"
		  " {\"number\": 6, \"merged_at\": \"2026-01-01T00:00:00Z\", \"base\": {\"ref\": \"main\"" HERE "},"
		  "  \"head\": {\"sha\": \"" HEAD "\"}}]");
	/* no pull request has the commit as head or merge: the first merged one */
	assert_int_equal(sg_github_pick_pull(&pr, pulls, &pol, OLD, &l), 0);
	assert_int_equal(json_integer_value(json_object_get(pr, "number")), 5);
	sg_review_list_release(&l);
	/* the one whose head is the commit */
	assert_int_equal(sg_github_pick_pull(&pr, pulls, &pol, HEAD, &l), 0);
	assert_int_equal(json_integer_value(json_object_get(pr, "number")), 6);
	render(s, sizeof(s), &l);
	assert_string_equal(s, "-|pull request #3 is not merged;"
			       "-|pull request #4 was merged into dev, not a protected branch");
	sg_review_list_release(&l);
	json_decref(pulls);

	/* a fork's commit answers with the upstream's pull request (or one with no
	 * base repository): never taken, whatever its number */
	pulls = j("[{\"number\": 8, \"merged_at\": \"2026-01-01T00:00:00Z\", \"base\": {\"ref\": \"main\","
		  " \"repo\": {\"full_name\": \"upstream/hello\"}}, \"head\": {\"sha\": \"" HEAD "\"}},"
		  " {\"number\": 9, \"merged_at\": \"2026-01-01T00:00:00Z\", \"base\": {\"ref\": \"main\"}}]");
	assert_int_equal(sg_github_pick_pull(&pr, pulls, &pol, HEAD, &l), SG_ENOTFOUND);
	render(s, sizeof(s), &l);
	assert_string_equal(s, "-|pull request #8 belongs to upstream/hello, not octo/hello;"
			       "-|pull request #9 belongs to (no base repository), not octo/hello");
	sg_review_list_release(&l);
	json_decref(pulls);

	pulls = j("[{\"number\": 3, \"merged_at\": null, \"base\": {\"ref\": \"main\"" HERE "}}, 7, \"x\"]");
	assert_int_equal(sg_github_pick_pull(&pr, pulls, &pol, HEAD, &l), SG_ENOTFOUND);
	sg_review_list_release(&l);
	json_decref(pulls);
	pulls = j("{\"message\": \"Not Found\"}");
	assert_int_equal(sg_github_pick_pull(&pr, pulls, &pol, HEAD, &l), SG_EDENIED);
	json_decref(pulls);
	policy_release(&pol);
}

#define PR "{\"number\": 7, \"user\": {\"login\": \"Alice\"}, \"head\": {\"sha\": \"" HEAD "\"}}"
#define RV(id, who, st, sha, at) \
	"{\"id\": " #id ", \"user\": {\"login\": \"" who "\"}, \"state\": \"" st "\", \"commit_id\": \"" sha \
	"\", \"submitted_at\": \"2026-01-01T00:0" #at ":00Z\"}"

static void run_reviews(char *s, size_t n, sg_strlist *approved, const char *reviews, const sg_policy *pol)
{
	sg_review_list l = { 0 };
	json_t *r = j(reviews), *pr = j(PR);

	assert_int_equal(sg_github_reviews(&l, approved, NULL, r, pr, pol), 0);
	render(s, n, &l);
	sg_review_list_release(&l);
	json_decref(r);
	json_decref(pr);
}

static void test_github_reviews(void **state)
{
	sg_policy pol;
	sg_strlist ap = SG_STRLIST_INIT;
	char s[2048];

	(void)state;
	policy_init(&pol);
	/* latest decisive review per login; COMMENTED does not undo an approval */
	run_reviews(s, sizeof(s), &ap,
		    "[" RV(1, "Bob", "APPROVED", HEAD, 1) "," RV(2, "carol", "APPROVED", HEAD, 2) ","
		    RV(3, "carol", "CHANGES_REQUESTED", HEAD, 3) "," RV(4, "bob", "COMMENTED", HEAD, 4) ","
		    RV(5, "dave", "DISMISSED", HEAD, 5) "," RV(6, "erin", "PENDING", HEAD, 6) "]", &pol);
	assert_string_equal(s, "github:bob|;"
			       "github:carol|latest review 3 is CHANGES_REQUESTED, not APPROVED;"
			       "github:dave|latest review 5 is DISMISSED, not APPROVED");
	assert_int_equal(ap.n, 1);
	assert_string_equal(ap.v[0], "github:bob (review 1 on aaaaaaaaaaaa)");
	sg_strlist_release(&ap);

	/* changes requested, then approved again: approved */
	run_reviews(s, sizeof(s), &ap,
		    "[" RV(1, "carol", "CHANGES_REQUESTED", HEAD, 1) "," RV(2, "carol", "APPROVED", HEAD, 2) "]", &pol);
	assert_string_equal(s, "github:carol|");
	sg_strlist_release(&ap);
	/* an older timestamp listed later does not replace the newer verdict */
	run_reviews(s, sizeof(s), &ap,
		    "[" RV(2, "carol", "CHANGES_REQUESTED", HEAD, 5) "," RV(1, "carol", "APPROVED", HEAD, 1) "]", &pol);
	assert_string_equal(s, "github:carol|latest review 2 is CHANGES_REQUESTED, not APPROVED");
	sg_strlist_release(&ap);

	/* stale: approval on an older commit */
	run_reviews(s, sizeof(s), &ap, "[" RV(1, "bob", "APPROVED", OLD, 1) "]", &pol);
	assert_string_equal(s, "github:bob|approval 1 is on bbbbbbb, not the pull request's head aaaaaaa "
			       "(stale; gate.allowStaleReviews is false)");
	sg_strlist_release(&ap);
	pol.allow_stale_reviews = 1;
	run_reviews(s, sizeof(s), &ap, "[" RV(1, "bob", "APPROVED", OLD, 1) "]", &pol);
	assert_string_equal(s, "github:bob|");
	sg_strlist_release(&ap);

	/* the author */
	run_reviews(s, sizeof(s), &ap, "[" RV(1, "alice", "APPROVED", HEAD, 1) "]", &pol);
	assert_string_equal(s, "github:alice|the pull request's author does not count");
	sg_strlist_release(&ap);
	pol.allow_self_review = 1;
	run_reviews(s, sizeof(s), &ap, "[" RV(1, "alice", "APPROVED", HEAD, 1) "]", &pol);
	assert_string_equal(s, "github:alice|");
	sg_strlist_release(&ap);

	/* a null commit_id (the reviewed commit is gone) is stale; counted only when stale reviews are */
	pol.allow_self_review = 0;
	pol.allow_stale_reviews = 0;
	run_reviews(s, sizeof(s), &ap, "[{\"id\": 9, \"user\": {\"login\": \"bob\"}, \"state\": \"APPROVED\", "
		    "\"commit_id\": null}]", &pol);
	assert_string_equal(s, "github:bob|approval 9 names no commit (commit_id is null: GitHub no longer has the "
			       "reviewed commit), so it cannot be shown to be on the head aaaaaaa (stale; "
			       "gate.allowStaleReviews is false)");
	sg_strlist_release(&ap);
	pol.allow_stale_reviews = 1;
	run_reviews(s, sizeof(s), &ap, "[{\"id\": 9, \"user\": {\"login\": \"bob\"}, \"state\": \"APPROVED\", "
		    "\"commit_id\": null}]", &pol);
	assert_string_equal(s, "github:bob|");
	assert_string_equal(ap.v[0], "github:bob (review 9 on an unknown commit)");
	sg_strlist_release(&ap);
	pol.allow_stale_reviews = 0;
	/* an outstanding CHANGES_REQUESTED is a blocker unless gate.changesRequested = ignore */
	{
		sg_review_list l = { 0 };
		sg_strlist bl = SG_STRLIST_INIT;
		json_t *r = j("[" RV(1, "bob", "APPROVED", HEAD, 1) "," RV(2, "carol", "CHANGES_REQUESTED", HEAD, 2) ","
			      RV(3, "carol", "COMMENTED", HEAD, 3) "]"), *pr = j(PR);

		assert_int_equal(sg_github_reviews(&l, &ap, &bl, r, pr, &pol), 0);
		assert_int_equal(bl.n, 1);
		assert_string_equal(bl.v[0], "github:carol's latest review 2 on pull request #7 requests changes; "
				    "GitHub would not merge it (gate.changesRequested = block)");
		sg_review_list_release(&l);
		sg_strlist_release(&bl);
		sg_strlist_release(&ap);
		/* GitHub blocks only on reviewers with write access: a drive-by review does not */
		json_object_set_new(json_array_get(r, 1), "author_association", json_string("NONE"));
		assert_int_equal(sg_github_reviews(&l, &ap, &bl, r, pr, &pol), 0);
		assert_int_equal(bl.n, 0);
		sg_review_list_release(&l);
		sg_strlist_release(&ap);
		json_object_set_new(json_array_get(r, 1), "author_association", json_string("MEMBER"));
		pol.changes_requested = "ignore"; /* borrowed */
		assert_int_equal(sg_github_reviews(&l, &ap, &bl, r, pr, &pol), 0);
		assert_int_equal(bl.n, 0);
		render(s, sizeof(s), &l);
		assert_string_equal(s, "github:bob|;github:carol|latest review 2 is CHANGES_REQUESTED, not APPROVED");
		pol.changes_requested = NULL;
		sg_review_list_release(&l);
		sg_strlist_release(&ap);
		json_decref(r);
		json_decref(pr);
	}

	/* odd entries never count; an approval without a reviewer login says why */
	run_reviews(s, sizeof(s), &ap, "[1, {\"state\": \"APPROVED\"}, {\"id\": 8, \"user\": {\"login\": \"x y\"}, "
		    "\"state\": \"APPROVED\", \"commit_id\": \"" HEAD "\"}]", &pol);
	assert_string_equal(s, "-|review 0 names no reviewer login (missing, empty or not a login), so it does not count;"
			       "-|review 8 names no reviewer login (missing, empty or not a login), so it does not count");
	assert_int_equal(ap.n, 0);
	/* a pull request without an author login: its author's review cannot be excluded, so it denies */
	{
		static const char *const prs[] = { "{\"number\": 7, \"user\": null, \"head\": {\"sha\": \"" HEAD "\"}}",
						   "{\"number\": 7, \"head\": {\"sha\": \"" HEAD "\"}}",
						   "{\"number\": 7, \"user\": {\"login\": 42}, \"head\": {\"sha\": \"" HEAD "\"}}",
						   "{\"number\": 7, \"user\": {\"login\": \"\"}, \"head\": {\"sha\": \"" HEAD "\"}}" };
		json_t *r = j("[" RV(1, "alice", "APPROVED", HEAD, 1) "]");
		size_t k;

		for (k = 0; k < sizeof(prs) / sizeof(prs[0]); k++) {
			sg_review_list l = { 0 };
			json_t *pr = j(prs[k]);

			pol.allow_self_review = 0;
			assert_int_equal(sg_github_reviews(&l, &ap, NULL, r, pr, &pol), SG_EDENIED);
			assert_non_null(strstr(sg_error_last(), "GitHub pull request #7 names no author login"));
			assert_int_equal(ap.n, 0);
			pol.allow_self_review = 1; /* the twin: nobody to exclude */
			assert_int_equal(sg_github_reviews(&l, &ap, NULL, r, pr, &pol), 0);
			assert_int_equal(ap.n, 1);
			sg_review_list_release(&l);
			sg_strlist_release(&ap);
			json_decref(pr);
		}
		pol.allow_self_review = 0;
		json_decref(r);
	}
	policy_release(&pol);
}

/* The first approval's verdict is a drop with exactly this reason. */
static void first_drop(const sg_gitlab_state *st, const json_t *appr, const json_t *mr, const sg_policy *pol,
		       const char *want)
{
	sg_review_list l = { 0 };
	sg_strlist ap = SG_STRLIST_INIT;

	assert_int_equal(sg_gitlab_approvals(&l, &ap, appr, mr, st, pol), 0);
	assert_true(l.n > 0);
	assert_non_null(l.v[0].drop);
	assert_string_equal(l.v[0].drop, want);
	sg_review_list_release(&l);
	sg_strlist_release(&ap);
}

static void test_gitlab(void **state)
{
	sg_policy pol;
	sg_review_list l = { 0 };
	sg_strlist ap = SG_STRLIST_INIT;
	json_t *mrs, *mr = NULL, *appr, *any, *regular;
	sg_gitlab_state st;
	char s[2048];

	memset(&st, 0, sizeof(st));

	(void)state;
	policy_init(&pol);
	mrs = j("[{\"iid\": 6, \"state\": \"closed\", \"target_branch\": \"main\"},"
		" {\"iid\": 7, \"state\": \"merged\", \"target_branch\": \"main\", \"sha\": \"" HEAD "\","
		"  \"author\": {\"username\": \"alice\"}}]");
	assert_int_equal(sg_gitlab_pick_mr(&mr, mrs, &pol, HEAD, &l), 0);
	assert_int_equal(json_integer_value(json_object_get(mr, "iid")), 7);
	render(s, sizeof(s), &l);
	assert_string_equal(s, "-|merge request !6 is closed, not merged");
	sg_review_list_release(&l);

	appr = j("{\"approvals_required\": 2, \"approved_by\": [{\"user\": {\"id\": 11, \"username\": \"Bob\"}},"
		 " {\"user\": {\"id\": 1, \"username\": \"alice\"}}, {\"user\": {}}]}");
	st.rules = any = j("{\"rules\": [{\"name\": \"All Members\", \"rule_type\": \"any_approver\", "
			   "\"eligible_approvers\": [], \"approvals_required\": 1, \"approved\": true, "
			   "\"approved_by\": [{\"id\": 11}, {\"id\": 1}]}]}");
	st.reset_on_push = 1;
	assert_int_equal(sg_gitlab_approvals(&l, &ap, appr, mr, &st, &pol), 0);
	render(s, sizeof(s), &l);
	assert_string_equal(s, "gitlab:bob|;gitlab:alice|the merge request's author does not count;-|approval by user 0 "
			       "names no username (missing, empty or not a login), so it does not count");
	assert_string_equal(ap.v[0], "gitlab:bob (user 11)");
	sg_review_list_release(&l);
	sg_strlist_release(&ap);
	/* a merge request without an author username denies unless self-review is allowed */
	{
		json_t *anon = json_deep_copy(mr);

		json_object_set_new(anon, "author", json_null());
		assert_int_equal(sg_gitlab_approvals(&l, &ap, appr, anon, &st, &pol), SG_EDENIED);
		assert_non_null(strstr(sg_error_last(), "GitLab merge request !7 names no author login"));
		assert_int_equal(ap.n, 0);
		pol.allow_self_review = 1;
		assert_int_equal(sg_gitlab_approvals(&l, &ap, appr, anon, &st, &pol), 0);
		assert_int_equal(ap.n, 2);
		pol.allow_self_review = 0;
		sg_review_list_release(&l);
		sg_strlist_release(&ap);
		json_decref(anon);
	}
	/* approvals not reset on push: stale unless allowed */
	st.reset_on_push = 0;
	first_drop(&st, appr, mr, &pol, "the project does not reset approvals on push, so this approval may predate "
		   "the merged head (stale; gate.allowStaleReviews is false)");
	/* settings not readable: said so, never "does not reset" */
	st.reset_on_push = -1;
	snprintf(st.settings_why, sizeof(st.settings_why), "HTTP 404");
	first_drop(&st, appr, mr, &pol, "could not read the project's approval settings (HTTP 404), so this approval "
		   "may predate the merged head (stale; gate.allowStaleReviews is false)");
	st.reset_on_push = 1;
	/* a regular rule: only its eligible approvers count */
	st.rules = regular = j("{\"rules\": [{\"name\": \"Maintainers\", \"rule_type\": \"regular\", "
			       "\"eligible_approvers\": [{\"id\": 12}], \"approvals_required\": 2, \"approved\": false, "
			       "\"approved_by\": [{\"id\": 11}]}]}");
	first_drop(&st, appr, mr, &pol, "not an eligible approver under the merge request's approval rules");
	{
		sg_strlist bl = SG_STRLIST_INIT;

		assert_int_equal(sg_gitlab_unmet_rules(&bl, regular), 0);
		assert_int_equal(bl.n, 1);
		assert_string_equal(bl.v[0], "GitLab approval rule \"Maintainers\" is not satisfied (1 of 2 approvals); "
				    "GitLab would not merge it");
		sg_strlist_release(&bl);
		assert_int_equal(sg_gitlab_unmet_rules(&bl, any), 0);
		assert_int_equal(bl.n, 0);
	}
	/* approval rules not readable: no approval counts */
	st.rules = NULL;
	snprintf(st.rules_why, sizeof(st.rules_why), "HTTP 403");
	first_drop(&st, appr, mr, &pol, "could not read the merge request's approval rules (HTTP 403), so this "
		   "approval is not known to satisfy them");
	json_decref(appr);
	appr = j("{\"approved_by\": null}");
	assert_int_equal(sg_gitlab_approvals(&l, &ap, appr, mr, &st, &pol), SG_EDENIED);
	json_decref(appr);
	json_decref(any);
	json_decref(regular);
	json_decref(mrs);
	policy_release(&pol);
}

static void test_statement(void **state)
{
	git_oid c, t;
	char *text = NULL, *email = NULL, cc[41], tt[41], why[256];
	time_t when = 0;

	(void)state;
	assert_int_equal(git_oid_fromstr(&c, HEAD), 0);
	assert_int_equal(git_oid_fromstr(&t, OLD), 0);
	assert_int_equal(sg_approval_statement(&text, &c, &t, "bob@example.com", 1795000000), 0);
	assert_string_equal(text, "signgate-approval v1\ncommit " HEAD "\ntree " OLD
			    "\nreviewer bob@example.com\ntime 2026-11-18T11:06:40Z\n");
	assert_int_equal(sg_approval_parse(cc, tt, &email, &when, text, why, sizeof(why)), 0);
	assert_string_equal(cc, HEAD);
	assert_string_equal(tt, OLD);
	assert_string_equal(email, "bob@example.com");
	assert_int_equal((long long)when, 1795000000LL);
	free(email);
	free(text);
	/* anything else is not a statement */
	static const char *const bad[] = {
		"signgate-approval v2\ncommit " HEAD "\ntree " OLD "\nreviewer b@x\ntime 2026-11-18T11:06:40Z\n",
		"signgate-approval v1\ncommit " HEAD "\ntree " OLD "\nreviewer b@x\ntime 2026-11-18T11:06:40Z\nextra x\n",
		"signgate-approval v1\ntree " OLD "\ncommit " HEAD "\nreviewer b@x\ntime 2026-11-18T11:06:40Z\n",
		"signgate-approval v1\ncommit AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\ntree " OLD
		"\nreviewer b@x\ntime 2026-11-18T11:06:40Z\n",
		"signgate-approval v1\ncommit " HEAD "\ntree " OLD "\nreviewer Bob <b@x>\ntime 2026-11-18T11:06:40Z\n",
		"signgate-approval v1\ncommit " HEAD "\ntree " OLD "\nreviewer b@x\ntime yesterday\n",
		"signgate-approval v1\ncommit " HEAD "a\ntree " OLD "\nreviewer b@x\ntime 2026-11-18T11:06:40Z\n",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		email = NULL;
		assert_int_equal(sg_approval_parse(cc, tt, &email, &when, bad[i], why, sizeof(why)), SG_ENOTFOUND);
		assert_null(email);
	}
}

static void test_blocks(void **state)
{
	sg_strlist b = SG_STRLIST_INIT;
	const char *note =
		"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\none\n-----BEGIN PGP SIGNATURE-----\n\nAAA\n"
		"-----END PGP SIGNATURE-----\n\n"
		"junk -----BEGIN PGP SIGNED MESSAGE----- not at a line start -----END PGP SIGNATURE-----\n"
		"\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\ntwo\n-----BEGIN PGP SIGNATURE-----\n\nBBB\n"
		"-----END PGP SIGNATURE-----\n"
		"-----BEGIN PGP SIGNED MESSAGE-----\nunterminated\n";

	(void)state;
	assert_int_equal(sg_approval_blocks(&b, note, 64), 0);
	assert_int_equal(b.n, 2);
	assert_non_null(strstr(b.v[0], "\none\n"));
	assert_non_null(strstr(b.v[1], "\ntwo\n"));
	assert_int_equal(strncmp(b.v[1], "-----BEGIN PGP SIGNED MESSAGE-----", 34), 0);
	sg_strlist_release(&b);
	assert_int_equal(sg_approval_blocks(&b, note, 1), 0);
	assert_int_equal(b.n, 1);
	sg_strlist_release(&b);
	assert_int_equal(sg_approval_blocks(&b, "", 64), 0);
	assert_int_equal(b.n, 0);
}

static void test_forge_init(void **state)
{
	sg_policy pol;
	sg_forge f;

	(void)state;
	policy_init(&pol);
	pol.forge_timeout = 3;
	unsetenv("SG_TEST_TOKEN");
	/* configuration that cannot work is an error (exit 1), never a denial */
	assert_int_equal(sg_forge_init(&f, "GitHub", "https://api.github.com/", "SG_TEST_TOKEN", &pol, NULL), 0);
	assert_string_equal(f.base, "https://api.github.com");
	assert_null(f.token);
	assert_int_equal(f.total_ms, 3000);
	sg_forge_release(&f);
	setenv("SG_TEST_TOKEN", "t0k", 1);
	assert_int_equal(sg_forge_init(&f, "GitHub", "http://127.0.0.1:9", "SG_TEST_TOKEN", &pol, NULL), 0);
	assert_string_equal(f.token, "t0k");
	sg_forge_release(&f);
	assert_int_equal(sg_forge_init(&f, "GitHub", "http://forge.example", "SG_TEST_TOKEN", &pol, NULL),
			 SG_ERROR);
	assert_int_equal(sg_forge_init(&f, "GitHub", "ftp://forge.example", "SG_TEST_TOKEN", &pol, NULL),
			 SG_ERROR);
	setenv("SG_TEST_TOKEN", "t0k\r\nX-Evil: 1", 1);
	assert_int_equal(sg_forge_init(&f, "GitHub", "https://api.github.com", "SG_TEST_TOKEN", &pol, NULL),
			 SG_ERROR);
	assert_null(strstr(sg_error_last(), "t0k"));
	unsetenv("SG_TEST_TOKEN");
	policy_release(&pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_next),
		cmocka_unit_test(test_same_origin),
		cmocka_unit_test(test_escape_identity),
		cmocka_unit_test(test_line_cut),
		cmocka_unit_test(test_github_pick),
		cmocka_unit_test(test_github_reviews),
		cmocka_unit_test(test_gitlab),
		cmocka_unit_test(test_statement),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_forge_init),
	};
	int rc;

	git_libgit2_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
