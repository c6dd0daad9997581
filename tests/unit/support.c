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

int sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int st;

	va_start(ap, fmt);
	cmd = format(fmt, ap);
	va_end(ap);
	st = system(cmd);
	free(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void sh_ok(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int st;

	va_start(ap, fmt);
	cmd = format(fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		fail_msg("command failed: %s", cmd);
	free(cmd);
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
