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

#define SG_PIN_ENV "SIGNGATE_PIN"

/* Take SIGNGATE_PIN out of the environment as soon as the program starts
 * (main() calls this first): its value is copied to locked memory, the
 * environment's copy is zeroed and the variable removed, so no child
 * process (git push for notes.push, git archive, gpgconf, gpg, hooks)
 * inherits it. SG_ERROR when it cannot be kept (too long, no locked memory;
 * the variable is removed all the same, and sg_secret_obtain reports it). */
int sg_secret_take_env(void);
/* Zero and drop the PIN taken from the environment (at exit). */
void sg_secret_forget_env(void);

/* Obtain a PIN: from `pin_source` ("file:PATH", file must be 0600/0400 and
 * ours; may be NULL), else SIGNGATE_PIN (taken from the environment by
 * sg_secret_take_env, at start or now), else a no-echo prompt on
 * /dev/tty when stdin is a terminal; else SG_ERROR saying where to put it.
 * `what` names it in the prompt/errors ("PIN for token release"). */
int sg_secret_obtain(sg_secret **out, const char *pin_source, const char *what);

#endif
