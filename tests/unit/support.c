#include "support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "core/buf.h"

static char *format(const char *fmt, va_list ap)
{
	char *cmd = NULL;

	if (vasprintf(&cmd, fmt, ap) < 0)
		fail_msg("out of memory");
	return cmd;
}

/* Run and free `cmd`; its exit status, or -1. Fails the test when `must`
 * and the command did not exit 0. */
static int run_cmd(char *cmd, int must)
{
	int st = system(cmd);

	st = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (must && st != 0)
		fail_msg("command failed (%d): %s", st, cmd);
	free(cmd);
	return st;
}

int sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;

	va_start(ap, fmt);
	cmd = format(fmt, ap);
	va_end(ap);
	return run_cmd(cmd, 0);
}

void sh_ok(const char *fmt, ...)
{
	va_list ap;
	char *cmd;

	va_start(ap, fmt);
	cmd = format(fmt, ap);
	va_end(ap);
	run_cmd(cmd, 1);
}

char *capture(const char *fmt, ...)
{
	sg_buf b = SG_BUF_INIT;
	char chunk[4096];
	va_list ap;
	size_t n;
	char *cmd;
	FILE *p;

	va_start(ap, fmt);
	cmd = format(fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		fail_msg("cannot run: %s", cmd);
	free(cmd);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		assert_int_equal(sg_buf_put(&b, chunk, n), 0);
	pclose(p);
	return sg_buf_detach(&b);
}
