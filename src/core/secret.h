/* Secrets (PINs, passphrases): locked memory, zeroed before free, on every
 * path. Never from argv or the policy. While any secret is held, core
 * dumps are disabled (RLIMIT_CORE 0, PR_SET_DUMPABLE 0). */
#ifndef SG_CORE_SECRET_H
#define SG_CORE_SECRET_H

#include <stddef.h>

typedef struct sg_secret {
	char *data;   /* NUL-terminated, mlock'ed */
	size_t len;
	size_t cap;
} sg_secret;

int sg_secret_new(sg_secret **out, size_t cap);
void sg_secret_free(sg_secret *s);

/* Obtain a PIN: from `pin_source` ("file:PATH", file must be 0600/0400 and
 * ours; may be NULL), else env SIGNGATE_PIN, else a no-echo prompt on
 * /dev/tty when stdin is a terminal; else SG_ERROR saying where to put it.
 * `what` names it in the prompt/errors ("PIN for token release"). */
int sg_secret_obtain(sg_secret **out, const char *pin_source, const char *what);

#endif
