/* Error codes and the last-error message, libgit2's way.
 *
 * Functions return 0 (SG_OK) or a negative SG_E* code and set the message
 * once with sg_error_set(); callers propagate the code without overwriting
 * the message. Only src/cli/ turns a code into an exit status
 * (sg_error_exit_code) and prints the message. */
#ifndef SG_CORE_ERROR_H
#define SG_CORE_ERROR_H

#include <stdarg.h>

enum {
	SG_OK = 0,
	SG_ERROR = -1,    /* operational: I/O, configuration, backend, network -> exit 1 */
	SG_EUSAGE = -2,   /* usage error -> exit 2 */
	SG_EDENIED = -3,  /* denied by the gate or the policy -> exit 3 */
	SG_ESCAN = -4,    /* malware, or the scan could not vouch for the file -> exit 4 */
	SG_EVERIFY = -5,  /* verification failed -> exit 5 */
	SG_ENOTFOUND = -6,/* internal: lookup found nothing (maps to exit 1 if it escapes) */
	SG_ERETRY = -7    /* internal: transient, try again (maps to exit 1 if it escapes) */
};

/* Set the message for `code` and return `code`, so that
 * `return sg_error_set(SG_EDENIED, "...")` reads naturally. */
int sg_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sg_error_setv(int code, const char *fmt, va_list ap);

/* Append OpenSSL's queued errors (if any) to a message: "msg: <openssl reason>". */
int sg_error_set_openssl(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The last message, or NULL when none was set. */
const char *sg_error_last(void);
/* The code passed with the last message (SG_OK when none). */
int sg_error_code(void);
void sg_error_clear(void);

/* Exit status for a code (0..5), as DESIGN.md section 1 says. */
int sg_error_exit_code(int code);

#endif
