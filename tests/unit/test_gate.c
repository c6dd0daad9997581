/* Gate: branch globs, identity/trailer/Gerrit parsing, review counting, and
 * sg_gate_evaluate on real repositories made with the git CLI. */
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
#include <unistd.h>

#include "core/error.h"
#include "gate/gate.h"
#include "gate/internal.h"

static char tmp[64];

static void add(sg_strlist *l, const char *s)
{
	assert_int_equal(sg_strlist_add(l, s), 0);
}

static void policy_init(sg_policy *p)
{
	memset(p, 0, sizeof(*p));
	add(&p->protected_branch, "main");
	p->first_parent = 1;
	p->required_reviews = 1;
	add(&p->review_source, "trailers");
	add(&p->trailer, "Reviewed-by");
	add(&p->trailer, "Approved-by");
	p->gerrit_min_score = 2;
}

static void policy_release(sg_policy *p)
{
	sg_strlist_release(&p->protected_branch);
	sg_strlist_release(&p->review_source);
	sg_strlist_release(&p->reviewer);
	sg_strlist_release(&p->signer);
	sg_strlist_release(&p->trailer);
	free(p->remote);
	free(p->gerrit_notes_ref);
	free(p->gerrit_label);
	memset(p, 0, sizeof(*p));
}

static void test_branch_globs(void **state)
{
	sg_strlist g = SG_STRLIST_INIT;

	(void)state;
	add(&g, "main");
	add(&g, "release/*");
	assert_true(sg_gate_branch_matches(&g, "main"));
	assert_true(sg_gate_branch_matches(&g, "release/1.0"));
	assert_false(sg_gate_branch_matches(&g, "release/1.0/hotfix"));  /* FNM_PATHNAME */
	assert_false(sg_gate_branch_matches(&g, "mainx"));
	assert_false(sg_gate_branch_matches(&g, "Main"));
	assert_false(sg_gate_branch_matches(&g, "feature/main"));
	sg_strlist_release(&g);
}

static void expect_identity(const char *value, const char *want)
{
	char *email = NULL;
	int rc = sg_gate_parse_identity(&email, value);

	if (!want) {
		assert_int_equal(rc, SG_ENOTFOUND);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(email, want);
	free(email);
}

static void test_identity(void **state)
{
	(void)state;
	expect_identity("Alice Example <Alice@Example.COM>", "alice@example.com");
	expect_identity("  bob@example.com  ", "bob@example.com");
	expect_identity("<carol@example.com>", "carol@example.com");
	expect_identity("Dan < dan@example.com >", "dan@example.com");
	expect_identity("Nobody", NULL);
	expect_identity("Eve <eve>", NULL);
	expect_identity("Eve <eve@example.com", NULL);
	expect_identity("two words@example.com", NULL);
	expect_identity("@example.com", NULL);
	expect_identity("", NULL);
}

static void test_trailers_parse(void **state)
{
	sg_strlist keys = SG_STRLIST_INIT;
	sg_review_list l = { 0 };
	const char *msg = "Fix it\n\nBody text.\n\n"
			  "reviewed-BY: Alice <ALICE@example.com>\n"
			  "Reviewed-by:   bob@example.com   \n"
			  "Signed-off-by: Carol <carol@example.com>\n"
			  "Approved-by: nobody\n"
			  "Approved-by: Dan <dan@example.com>\n";

	(void)state;
	add(&keys, "Reviewed-by");
	add(&keys, "Approved-by");
	assert_int_equal(sg_gate_trailers_parse(&l, msg, &keys), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].email, "alice@example.com");
	assert_string_equal(l.v[1].email, "bob@example.com");
	assert_null(l.v[2].email);
	assert_non_null(strstr(l.v[2].drop, "names no email"));
	assert_string_equal(l.v[3].email, "dan@example.com");
	assert_string_equal(l.v[3].source, "trailers");
	sg_review_list_release(&l);

	/* Trailers only count in the final trailer block. */
	assert_int_equal(sg_gate_trailers_parse(&l, "Subject\n\nReviewed-by: Alice <a@x.org>\n\nlast words\n", &keys), 0);
	assert_int_equal(l.n, 0);
	sg_strlist_release(&keys);
}

static void test_gerrit_parse(void **state)
{
	sg_review_list l = { 0 };
	const char *note = "Code-Review+2: Alice <alice@example.com>\n"
			   "Code-Review+1: Bob <bob@example.com>\n"
			   "Code-Review-1: Carol <carol@example.com>\n"
			   "Code-Review-2: Mallory <m@example.com>\r\n"
			   "Verified+1: Jenkins <ci@example.com>\n"
			   "Code-Review+2 Dan <dan@example.com>\n"
			   "Code-Reviewer+2: Eve <eve@example.com>\n"
			   "Submitted-by: Alice <alice@example.com>\n"
			   "Reviewed-on: https://review.example/c/1\n"
			   "Code-Review+2: Frank <FRANK@example.com>";

	(void)state;
	assert_int_equal(sg_gate_gerrit_parse(&l, note, "Code-Review", 2), 0);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.v[0].email, "alice@example.com");
	assert_null(l.v[0].drop);
	assert_string_equal(l.v[1].email, "bob@example.com");
	assert_string_equal(l.v[1].drop, "Code-Review+1 is below +2");
	assert_string_equal(l.v[2].drop, "Code-Review-1 is not an approval");
	assert_string_equal(l.v[3].drop, "Code-Review-2 is not an approval");
	assert_string_equal(l.v[4].email, "frank@example.com");
	assert_null(l.v[4].drop);
	sg_review_list_release(&l);

	/* Label and minimum score are configurable. */
	assert_int_equal(sg_gate_gerrit_parse(&l, note, "Verified", 1), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].email, "ci@example.com");
	assert_null(l.v[0].drop);
	sg_review_list_release(&l);
}

static void test_count(void **state)
{
	sg_policy pol;
	sg_review_list l = { 0 };
	sg_review_tally t;
	sg_authors au = SG_AUTHORS_INIT;

	(void)state;
	policy_init(&pol);
	assert_int_equal(sg_review_list_add(&l, "alice@example.com", "trailers", NULL), 0);
	assert_int_equal(sg_review_list_add(&l, "bob@example.com", "trailers", NULL), 0);
	assert_int_equal(sg_review_list_add(&l, "BOB@example.com", "gerrit", NULL), 0);
	assert_int_equal(sg_review_list_add(&l, "carol@other.org", "gerrit", NULL), 0);
	assert_int_equal(sg_review_list_add(&l, "dan@example.com", "gerrit", "Code-Review+1 is below +2"), 0);
	assert_int_equal(sg_review_list_add(&l, "eve@example.com", "trailers", NULL), 0);

	/* alice is the author, eve the committer */
	assert_int_equal(sg_authors_add(&au, "Alice@Example.com", "the author"), 0);
	assert_int_equal(sg_authors_add(&au, "eve@example.com", "the committer"), 0);
	assert_int_equal(sg_gate_count_reviews(&t, &l, &pol, &au), 0);
	assert_int_equal(t.counted.n, 2);
	assert_string_equal(t.counted.v[0], "bob@example.com");
	assert_string_equal(t.counted.v[1], "carol@other.org");
	assert_int_equal(t.sources.n, 2);
	assert_int_equal(t.dropped.n, 3);
	assert_string_equal(t.dropped.v[0], "the author's own review does not count (alice@example.com)");
	assert_string_equal(t.dropped.v[1], "Code-Review+1 is below +2 (dan@example.com)");
	assert_string_equal(t.dropped.v[2], "the committer's own review does not count (eve@example.com)");
	sg_review_tally_release(&t);

	/* allow-list, case-insensitive globs */
	add(&pol.reviewer, "*@EXAMPLE.com");
	assert_int_equal(sg_gate_count_reviews(&t, &l, &pol, &au), 0);
	assert_int_equal(t.counted.n, 1);
	assert_string_equal(t.counted.v[0], "bob@example.com");
	assert_true(sg_strlist_contains(&t.dropped, "not allowed by gate.reviewer (carol@other.org)", 0));
	sg_review_tally_release(&t);

	/* self review allowed */
	pol.allow_self_review = 1;
	assert_int_equal(sg_gate_count_reviews(&t, &l, &pol, &au), 0);
	assert_int_equal(t.counted.n, 3);
	sg_review_tally_release(&t);

	sg_review_list_release(&l);
	sg_authors_release(&au);
	policy_release(&pol);
}

static void person(sg_policy *pol, const char *name, const char *email, const char *github, const char *key)
{
	sg_person *v = realloc(pol->persons, (pol->npersons + 1) * sizeof(*v));

	assert_non_null(v);
	pol->persons = v;
	memset(&v[pol->npersons], 0, sizeof(*v));
	v[pol->npersons].name = strdup(name);
	add(&v[pol->npersons].email, email);
	if (github)
		add(&v[pol->npersons].github, github);
	if (key)
		add(&v[pol->npersons].key, key);
	pol->npersons++;
}

static void persons_release(sg_policy *pol)
{
	for (size_t i = 0; i < pol->npersons; i++) {
		free(pol->persons[i].name);
		sg_strlist_release(&pol->persons[i].email);
		sg_strlist_release(&pol->persons[i].github);
		sg_strlist_release(&pol->persons[i].key);
	}
	free(pol->persons);
}

/* People: one person counts once across sources; a second address of the
 * author does not count; an identity of nobody, or a key whose user ids
 * belong to two people, is a blocker. */
static void test_count_people(void **state)
{
	sg_policy pol;
	sg_review_list l = { 0 };
	sg_review_tally t;
	sg_authors au = SG_AUTHORS_INIT;

	(void)state;
	policy_init(&pol);
	person(&pol, "alice", "alice@example.com", "alice", NULL);
	add(&pol.persons[0].email, "alice@users.noreply.example.com");
	person(&pol, "bob", "bob@example.com", "bob-gh", "B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0");
	person(&pol, "carol", "carol@example.com", NULL, NULL);
	assert_int_equal(sg_authors_add(&au, "alice@users.noreply.example.com", "the author"), 0);
	assert_int_equal(sg_review_list_add(&l, "github:bob-gh", "github", NULL), 0);
	assert_int_equal(sg_review_list_add(&l, "bob@example.com", "approvals", NULL), 0);
	assert_int_equal(sg_review_add_id(&l, "key:b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"), 0);
	assert_int_equal(sg_review_list_add(&l, "alice@example.com", "approvals", NULL), 0);
	assert_int_equal(sg_review_list_add(&l, "carol@example.com", "trailers", NULL), 0);
	assert_int_equal(sg_gate_count_reviews(&t, &l, &pol, &au), 0);
	assert_int_equal(t.counted.n, 2);
	assert_string_equal(t.counted.v[0], "bob");
	assert_string_equal(t.counted.v[1], "carol");
	assert_int_equal(t.people.n, 2);
	assert_int_equal(t.people.v[0].shown_by.n, 2);
	assert_string_equal(t.people.v[0].shown_by.v[0], "github:bob-gh via github");
	assert_string_equal(t.people.v[0].shown_by.v[1], "bob@example.com via approvals");
	assert_int_equal(t.blockers.n, 0);
	assert_int_equal(t.authors.n, 1);
	assert_string_equal(t.authors.v[0].name, "alice");
	assert_int_equal(t.dropped.n, 1);
	assert_non_null(strstr(t.dropped.v[0], "the author's own review does not count (alice@example.com is [person \"alice\"]"));
	sg_review_tally_release(&t);

	/* the twins: a reviewer of nobody, a key of two people, an author of nobody */
	assert_int_equal(sg_review_list_add(&l, "dave@example.com", "trailers", NULL), 0);
	assert_int_equal(sg_review_list_add(&l, "carol@example.com", "approvals", NULL), 0);
	assert_int_equal(sg_review_add_id(&l, "bob@example.com"), 0);
	assert_int_equal(sg_authors_add(&au, "mallory@example.com", "the committer"), 0);
	assert_int_equal(sg_gate_count_reviews(&t, &l, &pol, &au), 0);
	assert_int_equal(t.blockers.n, 3);
	assert_string_equal(t.blockers.v[0], "The committer mallory@example.com maps to no person: add email = "
			    "mallory@example.com to their [person \"NAME\"] section in the policy");
	assert_string_equal(t.blockers.v[1], "The reviewer (trailers) dave@example.com maps to no person: add email = "
			    "dave@example.com to their [person \"NAME\"] section in the policy");
	assert_non_null(strstr(t.blockers.v[2], "one approvals review shows two people: carol@example.com is "
			       "[person \"carol\"] and bob@example.com is [person \"bob\"]"));
	sg_review_tally_release(&t);

	/* without any person, strings as before: bob's two identities are two */
	persons_release(&pol);
	pol.persons = NULL;
	pol.npersons = 0;
	assert_int_equal(sg_gate_count_reviews(&t, &l, &pol, &au), 0);
	assert_int_equal(t.blockers.n, 0);
	assert_true(sg_strlist_contains(&t.counted, "github:bob-gh", 0));
	assert_true(sg_strlist_contains(&t.counted, "bob@example.com", 0));
	sg_review_tally_release(&t);
	sg_review_list_release(&l);
	sg_authors_release(&au);
	policy_release(&pol);
}

/* ---- real repositories ---- */

static git_repository *repo;

#define GIT "git -C %s/r "
#define COMMIT(msg) GIT "commit -q --allow-empty -m '" msg "'"

static int setup_repo(void **state)
{
	(void)state;
	sh_ok("git config --global user.email signer@example.com && git config --global user.name S");
	sh_ok("git init -q -b main %s/r", tmp);
	sh_ok(COMMIT("root\n\nReviewed-by: Bob <bob@example.com>"), tmp);
	sh_ok(COMMIT("second\n\nReviewed-by: Author <AUTHOR@example.com>"), tmp);
	sh_ok(GIT "checkout -q -b feat", tmp);
	sh_ok(COMMIT("feature work"), tmp);
	sh_ok(GIT "tag feat-commit", tmp);
	sh_ok(GIT "checkout -q main", tmp);
	sh_ok(COMMIT("main moves on"), tmp);
	sh_ok(GIT "merge -q --no-ff feat -m 'Merge feat\n\nReviewed-by: Carol <carol@example.com>\nReviewed-by: Dan <dan@example.com>'", tmp);
	sh_ok(COMMIT("after merge\n\nReviewed-by: Carol <carol@example.com>"), tmp);
	sh_ok(GIT "tag -a v1 -m v1 HEAD", tmp);
	sh_ok(GIT "tag -a treetag -m t 'HEAD^{tree}'", tmp);
	sh_ok(GIT "checkout -q -b side HEAD~1 && git -C %s/r commit -q --allow-empty -m 'off main'", tmp, tmp);
	sh_ok(GIT "checkout -q main", tmp);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/r", tmp);
		assert_int_equal(git_repository_open(&repo, path), 0);
	}
	return 0;
}

static int teardown_repo(void **state)
{
	(void)state;
	git_repository_free(repo);
	if (!getenv("SG_KEEP"))
		sh_ok("rm -rf %s", tmp);
	return 0;
}

static int eval(sg_gate_result *r, const sg_policy *pol, const char *rev)
{
	int rc = sg_gate_evaluate(r, repo, pol, rev, NULL);

	if (rc == SG_OK)
		assert_true(r->allowed);
	else
		assert_false(r->allowed);
	return rc;
}

static void test_resolve(void **state)
{
	git_oid a, b;

	(void)state;
	assert_int_equal(sg_gate_resolve_commit(&a, repo, "v1"), 0);
	assert_int_equal(sg_gate_resolve_commit(&b, repo, "main"), 0);
	assert_true(git_oid_equal(&a, &b));
	/* nothing to judge: errors (exit 1), never denials */
	assert_int_equal(sg_gate_resolve_commit(&a, repo, "treetag"), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "names a tree, not a commit"));
	assert_int_equal(sg_gate_resolve_commit(&a, repo, "no-such-thing"), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "unknown revision no-such-thing"));
	assert_int_equal(sg_gate_resolve_commit(&a, repo, ""), SG_ERROR);
}

static void test_linear_and_reviews(void **state)
{
	sg_policy pol;
	sg_gate_result r;

	(void)state;
	policy_init(&pol);
	/* The tip: one review by carol. */
	assert_int_equal(eval(&r, &pol, "HEAD"), SG_OK);
	assert_string_equal(r.rules[0].evidence, "refs/heads/main first-parent (tip)");
	assert_string_equal(r.branch_ref, "refs/heads/main");
	assert_string_equal(r.summary, "allowed; refs/heads/main first-parent; 1/1 reviews via trailers: carol@example.com");
	sg_gate_result_release(&r);

	/* The root, 4 commits behind; reviewed by bob. */
	assert_int_equal(eval(&r, &pol, "main~4"), SG_OK);
	assert_string_equal(r.rules[0].evidence, "refs/heads/main first-parent (4 commits behind tip)");
	sg_gate_result_release(&r);

	/* "second" is reviewed only by its own author. */
	assert_int_equal(eval(&r, &pol, "main~3"), SG_EDENIED);
	assert_true(r.rules[0].ok);
	assert_false(r.rules[1].ok);
	assert_non_null(strstr(r.denial, "0 of 1 required review on "));
	assert_non_null(strstr(r.denial, "the author's own review does not count (author@example.com)"));
	assert_non_null(strstr(sg_error_last(), "author's own review"));
	sg_gate_result_release(&r);

	/* Two required: the tip has one. */
	pol.required_reviews = 2;
	assert_int_equal(eval(&r, &pol, "main"), SG_EDENIED);
	assert_non_null(strstr(r.denial, "1 of 2 required reviews on "));
	assert_non_null(strstr(r.denial, "(carol@example.com)"));
	sg_gate_result_release(&r);
	policy_release(&pol);
}

static void test_merged_feature(void **state)
{
	sg_policy pol;
	sg_gate_result r;

	(void)state;
	policy_init(&pol);
	pol.required_reviews = 2;
	/* On main but not first-parent. */
	assert_int_equal(eval(&r, &pol, "feat-commit"), SG_EDENIED);
	assert_false(r.rules[0].ok);
	assert_non_null(strstr(r.rules[0].evidence, "is reachable from refs/heads/main but not on its first-parent chain; "
					      "sign the merge that brought it in"));
	assert_null(strstr(r.rules[0].evidence, "merged by"));  /* firstParent decided: no search */
	sg_gate_result_release(&r);

	/* Without firstParent: allowed, reviews from the merge commit count. */
	pol.first_parent = 0;
	assert_int_equal(eval(&r, &pol, "feat-commit"), SG_OK);
	assert_non_null(strstr(r.rules[0].evidence, "refs/heads/main reachable (merged by "));
	assert_int_equal(r.reviewers.n, 2);
	assert_string_equal(r.reviewers.v[0], "carol@example.com");
	assert_string_equal(r.reviewers.v[1], "dan@example.com");
	assert_non_null(strstr(r.summary, "refs/heads/main reachable; 2/2 reviews via trailers"));
	sg_gate_result_release(&r);

	/* Not on main at all. */
	assert_int_equal(eval(&r, &pol, "side"), SG_EDENIED);
	assert_non_null(strstr(r.rules[0].evidence, " is not on refs/heads/main"));
	sg_gate_result_release(&r);
	policy_release(&pol);
}

static void test_branch_config(void **state)
{
	sg_policy pol;
	sg_gate_result r;

	(void)state;
	policy_init(&pol);
	sg_strlist_release(&pol.protected_branch);
	add(&pol.protected_branch, "release/*");
	assert_int_equal(eval(&r, &pol, "main"), SG_EDENIED);
	assert_string_equal(r.rules[0].evidence,
			    "no branch matches gate.protectedBranch (release/*) under refs/heads/; fetch it or fix the policy");
	sg_gate_result_release(&r);

	/* Two protected branches: either one will do. */
	add(&pol.protected_branch, "side");
	assert_int_equal(eval(&r, &pol, "main~1"), SG_OK);
	assert_string_equal(r.branch_ref, "refs/heads/side");
	sg_gate_result_release(&r);

	/* gate.remote: judged against refs/remotes/origin/<branch>. */
	sg_strlist_release(&pol.protected_branch);
	add(&pol.protected_branch, "main");
	pol.remote = strdup("origin");
	assert_int_equal(eval(&r, &pol, "main"), SG_EDENIED);
	assert_non_null(strstr(r.rules[0].evidence, "under refs/remotes/origin/"));
	sg_gate_result_release(&r);
	sh_ok(GIT "update-ref refs/remotes/origin/main main~1", tmp);
	assert_int_equal(eval(&r, &pol, "main"), SG_EDENIED);
	assert_non_null(strstr(r.rules[0].evidence, " is not on refs/remotes/origin/main"));
	sg_gate_result_release(&r);
	assert_int_equal(eval(&r, &pol, "main~1"), SG_OK);
	assert_string_equal(r.branch_ref, "refs/remotes/origin/main");
	sg_gate_result_release(&r);
	sh_ok(GIT "update-ref -d refs/remotes/origin/main", tmp);
	policy_release(&pol);
}

static void test_unavailable_source(void **state)
{
	sg_policy pol;
	sg_gate_result r;

	(void)state;
	policy_init(&pol);
	add(&pol.review_source, "github");
	/* a source the policy cannot use is a configuration error (exit 1), not a decision */
	assert_int_equal(eval(&r, &pol, "main"), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "reviewSource github needs forge.githubRepository"));
	sg_gate_result_release(&r);
	policy_release(&pol);
}

static void test_gerrit_note(void **state)
{
	sg_policy pol;
	sg_gate_result r;

	(void)state;
	policy_init(&pol);
	sg_strlist_release(&pol.review_source);
	add(&pol.review_source, "gerrit");
	sh_ok(GIT "notes --ref=refs/notes/review add -f -m 'Code-Review+1: Zed <zed@example.com>' main~2 2>/dev/null", tmp);
	assert_int_equal(eval(&r, &pol, "main~2"), SG_EDENIED);
	assert_non_null(strstr(r.denial, "Code-Review+1 is below +2 (zed@example.com)"));
	sg_gate_result_release(&r);
	sh_ok(GIT "notes --ref=refs/notes/review add -f -m 'Code-Review+2: Zed <zed@example.com>' main~2 2>/dev/null", tmp);
	assert_int_equal(eval(&r, &pol, "main~2"), SG_OK);
	assert_non_null(strstr(r.summary, "1/1 reviews via gerrit: zed@example.com"));
	sg_gate_result_release(&r);
	policy_release(&pol);
}

static void test_signer(void **state)
{
	sg_policy pol;
	sg_gate_result r;
	char *me = NULL, *os = NULL, glob[128];

	(void)state;
	policy_init(&pol);
	assert_int_equal(sg_gate_current_signer(&me, repo), 0);
	assert_string_equal(me, "signer@example.com");
	add(&pol.signer, "someone@example.com");
	assert_int_equal(eval(&r, &pol, "main"), SG_EDENIED);
	assert_false(r.rules[2].ok);
	assert_non_null(strstr(r.denial, "signer@example.com (user:"));
	sg_gate_result_release(&r);
	add(&pol.signer, "*@EXAMPLE.com");
	assert_int_equal(eval(&r, &pol, "main"), SG_OK);
	sg_gate_result_release(&r);
	/* user:NAME matches the OS account even when user.email is set. */
	sg_strlist_release(&pol.signer);
	assert_int_equal(sg_gate_os_user(&os), 0);
	snprintf(glob, sizeof(glob), "%s", os);
	add(&pol.signer, glob);
	assert_int_equal(eval(&r, &pol, "main"), SG_OK);
	assert_string_equal(r.signer, "signer@example.com");
	sg_gate_result_release(&r);
	free(me);
	free(os);
	policy_release(&pol);
}

static void test_unborn(void **state)
{
	git_repository *empty = NULL;
	git_oid id;
	char path[128];

	(void)state;
	sh_ok("git init -q -b main %s/empty", tmp);
	snprintf(path, sizeof(path), "%s/empty", tmp);
	assert_int_equal(git_repository_open(&empty, path), 0);
	assert_int_equal(sg_gate_resolve_commit(&id, empty, "HEAD"), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "HEAD is unborn"));
	git_repository_free(empty);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_branch_globs),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_trailers_parse),
		cmocka_unit_test(test_gerrit_parse),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_count_people),
	};
	const struct CMUnitTest repos[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_linear_and_reviews),
		cmocka_unit_test(test_merged_feature),
		cmocka_unit_test(test_branch_config),
		cmocka_unit_test(test_unavailable_source),
		cmocka_unit_test(test_gerrit_note),
		cmocka_unit_test(test_signer),
		cmocka_unit_test(test_unborn),
	};
	int fails;

	/* HOME before libgit2 starts: it caches the global config path. */
	strcpy(tmp, "/tmp/sgt.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	setenv("HOME", tmp, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Author", 1);
	setenv("GIT_AUTHOR_EMAIL", "author@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Author", 1);
	setenv("GIT_COMMITTER_EMAIL", "author@example.com", 1);
	git_libgit2_init();
	fails = cmocka_run_group_tests_name("gate-parsing", pure, NULL, NULL);
	fails += cmocka_run_group_tests_name("gate-repos", repos, setup_repo, teardown_repo);
	git_libgit2_shutdown();
	return fails;
}
