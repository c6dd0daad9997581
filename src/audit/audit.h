/* The local audit trail: $GIT_DIR/signgate/audit.log, one JSON object per
 * line, each carrying "prev" = SHA-256 of the previous line, appended under
 * an exclusive lock. Every decision, denials included, goes here. */
#ifndef SG_AUDIT_AUDIT_H
#define SG_AUDIT_AUDIT_H

#include <git2.h>
#include <jansson.h>

/* Append `record` (the function adds "time", "prev", "seq"); takes no
 * ownership. */
int sg_audit_append(git_repository *repo, json_t *record);
/* Verify the chain; SG_EVERIFY naming the first broken line. */
int sg_audit_verify(const char *path, size_t *lines);
/* The same for REPO's log (in its common git directory); SG_ENOTFOUND when
 * nothing was logged yet. */
int sg_audit_verify_repo(git_repository *repo, size_t *lines);

#endif
