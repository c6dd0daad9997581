/* signgate help [CMD], CMD --help, CMD -h: the manual page, as git's help
 * does; the usage text when no manual page is installed. */
#include "cli/cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The page's file beside the program: <prefix>/share/man (installed) or
 * docs/man (the build tree). 0 when found. */
static int page_file(char *out, size_t outsz, const char *page, int section)
{
	static const char *const rel[] = { "../share/man/man%d/%s.%d", "../docs/man/%s.%d" };
	char exe[PATH_MAX], tail[256], *slash;
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t i;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return -1;
	*slash = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (i == 0)
			snprintf(tail, sizeof(tail), rel[0], section, page, section);
		else
			snprintf(tail, sizeof(tail), rel[1], page, section);
		if ((size_t)snprintf(out, outsz, "%s/%s", exe, tail) < outsz &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode))
			return 0;
	}
	return -1;
}

/* Run man(1) with one argument list; its exit status, or -1. */
static int run_man(char *const argv[])
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int man_knows(const char *page)
{
	char *const argv[] = { "sh", "-c", "man -w \"$0\" >/dev/null 2>&1", (char *)page, NULL };

	return run_man(argv) == 0;
}

int sg_cli_help(const char *page, int section, const char *usage)
{
	char file[PATH_MAX], sec[8];
	int rc = -1;

	snprintf(sec, sizeof(sec), "%d", section);
	if (page_file(file, sizeof(file), page, section) == 0) {
		char *const argv[] = { "man", "-l", file, NULL };
		rc = run_man(argv);
	} else if (man_knows(page)) {
		char *const argv[] = { "man", sec, (char *)page, NULL };
		rc = run_man(argv);
	}
	if (rc == 0)
		return 0;
	printf("usage: %s\n\n(the manual page %s(%d) is not installed here; it is in docs/man/ of "
	       "the source, and `make install` installs it)\n", usage, page, section);
	return 0;
}
