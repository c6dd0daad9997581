/* Reachability (walk.c, dag.c) and the commit-graph reader (cgraph.c) on a
 * small merge-heavy history made with bench/merge-history.awk and git:
 * the answers with and without a graph agree with git's; hostile graph
 * files -- every truncation, byte flips in every chunk, a split chain that
 * points nowhere -- never crash the reader (run under ASan by make
 * check-asan), and a damaged layout gives the same answers as no graph.
 * The damaged files are written with their checksum made to match (as a
 * buggy writer would) so that the reader itself meets them; with the
 * checksum left stale the graph is not used at all (SG_EVERIFY). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include <git2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "gate/internal.h"

#define NREVS 8

static char tmp[64];
static char graph[160];
static git_repository *repo;
static git_oid tip, revs[NREVS];
static sg_reach want[NREVS];

static void resolve(git_oid *out, const char *rev)
{
	assert_int_equal(sg_gate_resolve_commit(out, repo, rev), 0);
}

/* The graph as it is on disk now, mapped for one walk as the gate maps it
 * for one evaluation (NULL when there is none that can be used). */
static sg_cgraph *map_graph(void)
{
	sg_cgraph *g = NULL;
	int err = sg_cgraph_open(&g, repo);

	assert_true(err == SG_OK || err == SG_ENOTFOUND || err == SG_EVERIFY);
	return g;
}

static int judge(sg_reach *out, const git_oid *rev, int flags)
{
	sg_cgraph *g = map_graph();
	int err = sg_reach_judge(out, repo, g, &tip, rev, flags);

	sg_cgraph_free(g);
	return err;
}

static int merged(git_oid **ids, size_t *n, const git_oid *m, size_t max)
{
	sg_cgraph *g = map_graph();
	int err = sg_reach_merged(ids, n, repo, g, m, max);

	sg_cgraph_free(g);
	return err;
}

static int setup(void **state)
{
	char path[128], top[4096], *out;
	static const char *const names[NREVS] = {
		"main", "main~1", "main~1^2", "main~7^2~1", "main~30^2", "side", "main~40", "main~25^2~2",
	};
	size_t i;

	(void)state;
	if (getenv("SG_TOP"))
		snprintf(top, sizeof(top), "%s", getenv("SG_TOP"));
	else if (!getcwd(top, sizeof(top)))
		return -1;
	sh_ok("cd %s && git init -q -b main r && awk -v topics=40 -v seed=3 -f %s/bench/merge-history.awk "
	      "| git -C r fast-import --quiet && git -C r update-ref -d refs/heads/topic && "
	      "git -C r update-ref refs/heads/side $(git -C r commit-tree -p main~12 -m side "
	      "$(git -C r rev-parse 'main^{tree}'))", tmp, top);
	snprintf(path, sizeof(path), "%s/r", tmp);
	snprintf(graph, sizeof(graph), "%s/r/.git/objects/info/commit-graph", tmp);
	if (git_repository_open(&repo, path) < 0)
		return -1;
	resolve(&tip, "main");
	for (i = 0; i < NREVS; i++) {
		resolve(&revs[i], names[i]);
		assert_int_equal(judge(&want[i], &revs[i], SG_REACH_ANY | SG_REACH_MERGE), 0);
		assert_false(want[i].used_graph);
	}
	/* The reference itself against git. */
	for (i = 0; i < NREVS; i++) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &revs[i]);
		assert_int_equal(want[i].reachable, sh("git -C %s/r merge-base --is-ancestor %s main", tmp, hex) == 0);
		out = capture("git -C %s/r rev-list --first-parent main | grep -c %s", tmp, hex);
		assert_int_equal(want[i].first_parent, atoi(out));
		free(out);
	}
	assert_true(want[0].first_parent && want[1].first_parent);
	assert_true(want[2].reachable && !want[2].first_parent && want[2].has_merge);
	assert_false(want[5].reachable);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	git_repository_free(repo);
	sh("rm -rf %s", tmp);
	return 0;
}

static void same_answers(const char *what, int expect_graph)
{
	sg_reach r;
	size_t i;

	for (i = 0; i < NREVS; i++) {
		int err = judge(&r, &revs[i], SG_REACH_ANY | SG_REACH_MERGE);

		if (err != 0 || r.first_parent != want[i].first_parent || r.reachable != want[i].reachable ||
		    r.has_merge != want[i].has_merge || (r.has_merge && !git_oid_equal(&r.merge, &want[i].merge)) ||
		    (r.first_parent && r.behind != want[i].behind))
			fail_msg("%s: rev %zu differs (err %d: %s)", what, i, err, sg_error_last() ? sg_error_last() : "");
		if (expect_graph >= 0 && r.used_graph != expect_graph)
			fail_msg("%s: rev %zu used_graph %d", what, i, r.used_graph);
	}
}

static unsigned char *read_graph(size_t *len)
{
	FILE *f = fopen(graph, "rb");
	unsigned char *d;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	d = malloc(*len);
	assert_non_null(d);
	assert_int_equal(fread(d, 1, *len, f), *len);
	fclose(f);
	return d;
}

/* The bytes as they are, the trailing checksum stale when they were changed. */
static void write_graph_raw(const unsigned char *d, size_t len)
{
	FILE *f;

	unlink(graph);
	f = fopen(graph, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, len, f), len);
	fclose(f);
}

/* The bytes with a trailing SHA-1 that matches them (a damaged file that a
 * buggy writer sealed): the reader's bounds checks, not the checksum, meet it. */
static void write_graph(const unsigned char *d, size_t len)
{
	unsigned char *m = malloc(len + 1);

	assert_non_null(m);
	memcpy(m, d, len);
	if (len > 20)
		assert_int_equal(EVP_Digest(m, len - 20, m + len - 20, NULL, EVP_sha1(), NULL), 1);
	write_graph_raw(m, len);
	free(m);
}

static void test_graph_agrees(void **state)
{
	int files = 0;
	uint32_t commits = 0;

	(void)state;
	sh_ok("git -C %s/r commit-graph write --reachable 2>/dev/null", tmp);
	same_answers("commit-graph", 1);
	assert_int_equal(sg_cgraph_verify(&files, &commits, repo), 0);
	assert_int_equal(files, 1);
	assert_true(commits > 400);
	/* Under firstParent no merge is searched for, even with a graph. */
	{
		sg_reach r;

		assert_int_equal(judge(&r, &revs[2], SG_REACH_ANY), 0);
		assert_true(r.reachable);
		assert_false(r.has_merge);
	}
}

/* Every length from the header to the whole file minus one: declined. */
static void test_truncated(void **state)
{
	size_t len, n;
	unsigned char *d;

	(void)state;
	d = read_graph(&len);
	for (n = 0; n < len; n += (n < 2048 ? 13 : 211)) {
		char what[64];

		write_graph(d, n);
		snprintf(what, sizeof(what), "truncated to %zu of %zu", n, len);
		same_answers(what, 0);
	}
	write_graph(d, len);
	free(d);
}

/* Byte flips anywhere: no crash, an answer or an error, never a hang. */
static void test_flipped(void **state)
{
	size_t len, i, table;
	unsigned char *d, *m;
	uint32_t seed = 12345, files;
	sg_reach r;
	int layers;

	(void)state;
	d = read_graph(&len);
	m = malloc(len);
	assert_non_null(m);
	table = 8 + 12 * ((size_t)d[6] + 1);
	for (i = 0; i < 900; i++) {
		size_t pos, k;

		memcpy(m, d, len);
		seed = seed * 1103515245u + 12345u;
		/* a third in the header and chunk table, the rest anywhere */
		pos = (i % 3 == 0) ? (seed >> 8) % table : (seed >> 8) % (len - 20);
		m[pos] ^= (unsigned char)(1u << ((seed >> 4) & 7));
		if (i % 7 == 0)
			m[pos] = 0xff;
		/* with the checksum stale, every flip is seen: by the gate (the
		 * graph is not used: a damaged layout, else the checksum) and by doctor */
		if (m[pos] != d[pos]) {
			sg_cgraph *g = NULL;
			int err;

			write_graph_raw(m, len);
			err = sg_cgraph_open(&g, repo);
			assert_true(err == SG_EVERIFY || err == SG_ENOTFOUND);
			assert_null(g);
			assert_int_equal(sg_cgraph_verify(&layers, &files, repo), SG_EVERIFY);
		}
		write_graph(m, len);
		for (k = 0; k < NREVS; k++) {
			int err = judge(&r, &revs[k], SG_REACH_ANY | SG_REACH_MERGE);

			assert_true(err == SG_OK || err == SG_EDENIED || err == SG_ERROR);
		}
	}
	write_graph(d, len);
	same_answers("restored", 1);
	free(m);
	free(d);
}

/* Parents out of range: the walk notices and reads the objects. */
static void test_bad_parents(void **state)
{
	size_t len, i;
	unsigned char *d, *m;
	uint64_t off = 0, end = 0;

	(void)state;
	d = read_graph(&len);
	m = malloc(len);
	assert_non_null(m);
	memcpy(m, d, len);
	for (i = 0; i < d[6]; i++) {
		const unsigned char *e = d + 8 + 12 * i;

		if (memcmp(e, "CDAT", 4) == 0) {
			for (int b = 0; b < 8; b++) {
				off = (off << 8) | e[4 + b];
				end = (end << 8) | e[16 + b];
			}
		}
	}
	assert_true(end > off);
	for (i = off; i + 36 <= end; i += 36)
		if (memcmp(m + i + 20, "\x70\x00\x00\x00", 4) != 0)
			memcpy(m + i + 20, "\x6f\xff\xff\xf0", 4);
	write_graph(m, len);
	same_answers("parents out of range", 0);
	write_graph(d, len);
	free(m);
	free(d);
}

/* A split chain: two layers agree; a chain naming a missing or foreign
 * layer is declined. */
static void test_split_chain(void **state)
{
	char *out;
	int layers = 0;
	uint32_t commits = 0;

	(void)state;
	sh_ok("rm -f %s && git -C %s/r commit-graph write --reachable --split 2>/dev/null", graph, tmp);
	sh_ok("cd %s/r && git update-ref refs/heads/main $(git commit-tree -p main -m more -m 'Reviewed-by: R <r@example.com>' "
	      "$(git rev-parse 'main^{tree}')) && git commit-graph write --reachable --split=no-merge 2>/dev/null", tmp);
	out = capture("wc -l < %s/r/.git/objects/info/commit-graphs/commit-graph-chain", tmp);
	assert_int_equal(atoi(out), 2);
	free(out);
	assert_int_equal(sg_cgraph_verify(&layers, &commits, repo), 0);
	assert_int_equal(layers, 2);
	/* the tip moved by one commit on the first-parent line */
	resolve(&tip, "main~1");
	same_answers("split chain (tip's parent)", 1);
	resolve(&tip, "main");
	{
		sg_reach r;

		assert_int_equal(judge(&r, &revs[2], SG_REACH_ANY | SG_REACH_MERGE), 0);
		assert_true(r.used_graph && r.reachable && r.has_merge);
		assert_true(git_oid_equal(&r.merge, &want[2].merge));
	}
	/* The layers swapped: each names the wrong base. */
	sh_ok("cd %s/r/.git/objects/info/commit-graphs && tac commit-graph-chain > c && mv c commit-graph-chain", tmp);
	resolve(&tip, "main~1");
	same_answers("chain in the wrong order", 0);
	assert_int_equal(sg_cgraph_verify(&layers, &commits, repo), SG_EVERIFY);
	sh_ok("cd %s/r/.git/objects/info/commit-graphs && printf 'zz\\n' > commit-graph-chain", tmp);
	same_answers("chain with a bad line", 0);
	sh_ok("cd %s/r/.git/objects/info/commit-graphs && printf '%%040d\\n' 0 > commit-graph-chain", tmp);
	same_answers("chain naming a missing layer", 0);
	sh_ok("rm -rf %s/r/.git/objects/info/commit-graphs", tmp);
	resolve(&tip, "main");
}

static int cmp_oid(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

/* sg_reach_merged lists what git rev-list M^1..M lists (M left out). */
static void merged_like_git(const char *rev)
{
	git_oid m, *ids = NULL;
	size_t n = 0, i;
	char hex[GIT_OID_HEXSZ + 1], *want, *p;

	resolve(&m, rev);
	git_oid_tostr(hex, sizeof(hex), &m);
	assert_int_equal(merged(&ids, &n, &m, 100000), 0);
	if (n)
		qsort(ids, n, sizeof(*ids), cmp_oid);
	want = capture("git -C %s/r rev-list %s^1..%s | grep -v %s | sort", tmp, hex, hex, hex);
	for (i = 0, p = want; i < n; i++, p += GIT_OID_HEXSZ + 1) {
		git_oid_tostr(hex, sizeof(hex), &ids[i]);
		if (strncmp(p, hex, GIT_OID_HEXSZ) != 0)
			fail_msg("%s: commit %zu is %s, git says %.40s", rev, i, hex, p);
	}
	if (*p)
		fail_msg("%s: git lists more than the %zu commits found: %.60s", rev, n, p);
	free(want);
	free(ids);
}

static void test_merged(void **state)
{
	static const char *const merges[] = { "main~1", "main~2", "main~9", "main~20", "main~33", "main~45" };
	git_oid m, *ids = NULL;
	size_t i, n = 0;
	int pass;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			sh_ok("git -C %s/r commit-graph write --reachable 2>/dev/null", tmp);
		for (i = 0; i < sizeof(merges) / sizeof(*merges); i++)
			merged_like_git(merges[i]);
	}
	/* A cap: max + 1 found, so the caller can say "more than max". */
	resolve(&m, "main~1");
	assert_int_equal(merged(&ids, &n, &m, 1), 0);
	assert_int_equal(n, 2);
	free(ids);
	/* Not a merge: nothing. */
	resolve(&m, "main~1^2");
	assert_int_equal(merged(&ids, &n, &m, 10), 0);
	assert_int_equal(n, 0);
	free(ids);
	sh_ok("rm -f %s", graph);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graph_agrees),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_flipped),
		cmocka_unit_test(test_bad_parents),
		cmocka_unit_test(test_split_chain),
		cmocka_unit_test(test_merged),
	};
	int fails;

	strcpy(tmp, "/tmp/sgr.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	setenv("HOME", tmp, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Author", 1);
	setenv("GIT_AUTHOR_EMAIL", "author@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Author", 1);
	setenv("GIT_COMMITTER_EMAIL", "author@example.com", 1);
	git_libgit2_init();
	fails = cmocka_run_group_tests_name("reach", tests, setup, teardown);
	git_libgit2_shutdown();
	return fails;
}
