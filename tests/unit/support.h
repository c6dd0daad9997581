/* Helpers shared by the cmocka unit tests (tests/unit/test_*.c). */
#ifndef SG_TESTS_SUPPORT_H
#define SG_TESTS_SUPPORT_H

/* Run a shell command (printf-style); its exit status, or -1 when it did
 * not exit normally. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same; the test fails unless it exits 0. */
void sh_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The standard output of a shell command (malloc'd, NUL-terminated); the
 * test fails when the command cannot be started. */
char *capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
