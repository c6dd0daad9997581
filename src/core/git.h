/* libgit2's last error, safely: git_error_last() returns NULL in libgit2
 * 1.5 when the failing call recorded no message, so nobody dereferences it
 * directly. */
#ifndef SG_CORE_GIT_H
#define SG_CORE_GIT_H

/* The message of libgit2's last error, or "unknown libgit2 error" when it
 * recorded none; never NULL. Valid until the next libgit2 call. */
const char *sg_git_errmsg(void);

/* sg_error_set(code, "WHAT: <libgit2's message>"); returns code. */
int sg_git_fail(int code, const char *what);

#endif
