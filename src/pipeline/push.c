/* After a batch: push the notes when the policy asks (notes.push), and
 * before writing: remove the temp files an interrupted run left behind. */
#include "pipeline/run.h"
#include "core/error.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sg_run_push_notes(git_repository *repo, const sg_policy *pol, const sg_batch *b)
{
	sg_strlist refs = SG_STRLIST_INIT;
	sg_sync_result res;
	char why[1024];
	int ret;

	if (!pol->notes_push)
		return SG_OK;
	if ((ret = sg_notes_sync_refs(&refs, pol)) == SG_OK)
		ret = sg_notes_sync(&res, repo, pol->notes_push, &refs);
	sg_strlist_release(&refs);
	if (ret == SG_OK)
		return SG_OK;
	snprintf(why, sizeof(why), "%s", sg_error_last() ? sg_error_last() : "unknown error");
	/* The signatures are published and their events recorded: nothing is
	 * undone; the notes only have to reach the remote. */
	return sg_error_set(SG_ERROR, "%zu artifact%s signed and recorded locally (first: %s), "
			    "but the notes were not pushed to %s (notes.push): %s; "
			    "run signgate sync %s", b->n, b->n == 1 ? "" : "s",
			    b->n ? b->items[0].sig_path : "-", pol->notes_push, why, pol->notes_push);
}

/* ".<base>.tmp-XXXXXX" as made by sg_outfile_open (mkostemp: 6 of [A-Za-z0-9]). */
static int is_our_temp(const char *name, const char *base)
{
	size_t bl = strlen(base), i;

	if (name[0] != '.' || strncmp(name + 1, base, bl) != 0 || strncmp(name + 1 + bl, ".tmp-", 5) != 0)
		return 0;
	name += 1 + bl + 5;
	for (i = 0; i < 6; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return name[6] == '\0';
}

int sg_run_remove_stale_temps(sg_strlist *removed, const char *dir, const char *base)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	char path[4096];
	int dfd, ret = SG_OK;

	if (!(d = opendir(dir)))
		return SG_OK; /* the write will say what is wrong with the folder */
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		if (!is_our_temp(de->d_name, base))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid() || st.st_mtime > now - SG_STALE_TEMP_SECONDS)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if ((ret = sg_strlist_add(removed, path)) < 0)
				break;
		}
	}
	closedir(d);
	return ret;
}
