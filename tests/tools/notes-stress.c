/* notes-stress REPO COMMIT TAG N [NOTES_REF]
 * Append N events, one notes commit each, to the note on COMMIT:
 *   Signgate-Event: stress / Stress-Tag: TAG / Stress-Seq: i
 * Used by test_notes to run several writers at once. With
 * NOTES_STRESS_START=<CLOCK_REALTIME ns> in the environment, waits until
 * then after opening the repository, so that writers start together.
 * Exit 0 on success, 1 with the error on stderr. */
#include "core/error.h"
#include "core/git.h"
#include "notes/notes.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	const char *ref = argc > 5 ? argv[5] : "refs/notes/signatures";
	long n, i;
	int ret = 1;

	if (argc < 5 || (n = strtol(argv[4], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: notes-stress REPO COMMIT TAG N [NOTES_REF]\n");
		return 2;
	}
	git_libgit2_init();
	if (git_repository_open(&repo, argv[1]) < 0 || git_revparse_single(&obj, repo, argv[2]) < 0) {
		fprintf(stderr, "notes-stress: %s\n", sg_git_errmsg());
		goto done;
	}
	if (getenv("NOTES_STRESS_START")) {
		long long at = strtoll(getenv("NOTES_STRESS_START"), NULL, 10);
		struct timespec now, ts;
		long long d;

		clock_gettime(CLOCK_REALTIME, &now);
		d = at - ((long long)now.tv_sec * 1000000000LL + now.tv_nsec);
		if (d > 0 && d < 10000000000LL) {
			ts.tv_sec = (time_t)(d / 1000000000LL);
			ts.tv_nsec = (long)(d % 1000000000LL);
			nanosleep(&ts, NULL);
		}
	}
	for (i = 0; i < n; i++) {
		sg_event e = { NULL, 0 };
		int err;

		if ((err = sg_event_add(&e, "Signgate-Event", "stress")) == 0 &&
		    (err = sg_event_add(&e, "Stress-Tag", argv[3])) == 0 &&
		    (err = sg_event_addf(&e, "Stress-Seq", "%ld", i)) == 0)
			err = sg_notes_append(repo, ref, git_object_id(obj), &e, 1, NULL);
		sg_event_release(&e);
		if (err < 0) {
			fprintf(stderr, "notes-stress %s: %s\n", argv[3], sg_error_last());
			goto done;
		}
	}
	ret = 0;
done:
	git_object_free(obj);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}
