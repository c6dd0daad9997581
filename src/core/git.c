#include "core/git.h"

#include <git2.h>

#include "core/error.h"

const char *sg_git_errmsg(void)
{
	const git_error *e = git_error_last();

	return e && e->message && *e->message ? e->message : "unknown libgit2 error";
}

int sg_git_fail(int code, const char *what)
{
	return sg_error_set(code, "%s: %s", what, sg_git_errmsg());
}
