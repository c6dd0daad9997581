/* reach-judge REPO TIP: for each commit id read on stdin, one line
 *   ID fp=0|1 reach=0|1 merge=ID|- graph=0|1
 * from the gate's reachability (sg_reach_judge, merge asked for), so an
 * end-to-end test can compare every commit of a history with git's own
 * answers (git merge-base --is-ancestor, git rev-list --first-parent) in one
 * process. Exit 0, or 1 with the error on stderr. */
#include "core/error.h"
#include "gate/internal.h"

#include <git2.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	git_repository *repo = NULL;
	sg_cgraph *graph = NULL;
	git_oid tip, rev;
	sg_reach r;
	char line[128], hex[GIT_OID_HEXSZ + 1];
	int ret = 1, err;

	if (argc != 3) {
		fprintf(stderr, "usage: reach-judge REPO TIP < ids\n");
		return 2;
	}
	git_libgit2_init();
	if (git_repository_open(&repo, argv[1]) < 0 || sg_gate_resolve_commit(&tip, repo, argv[2]) < 0) {
		fprintf(stderr, "reach-judge: cannot open %s at %s\n", argv[1], argv[2]);
		goto done;
	}
	/* as the gate does: the graph mapped once for every walk; one whose
	 * checksum fails is not used (the gate warns) */
	if ((err = sg_cgraph_open(&graph, repo)) < 0 && err != SG_ENOTFOUND && err != SG_EVERIFY) {
		fprintf(stderr, "reach-judge: %s\n", sg_error_last());
		goto done;
	}
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (git_oid_fromstr(&rev, line) < 0) {
			fprintf(stderr, "reach-judge: not an id: %s\n", line);
			goto done;
		}
		if (sg_reach_judge(&r, repo, graph, &tip, &rev, SG_REACH_ANY | SG_REACH_MERGE) < 0) {
			fprintf(stderr, "reach-judge: %s: %s\n", line, sg_error_last());
			goto done;
		}
		if (r.has_merge)
			git_oid_tostr(hex, sizeof(hex), &r.merge);
		else
			strcpy(hex, "-");
		printf("%s fp=%d reach=%d merge=%s graph=%d\n", line, r.first_parent, r.reachable, hex, r.used_graph);
	}
	ret = 0;
done:
	sg_cgraph_free(graph);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}
