/* Long output for people goes through a pager on a terminal, as git's
 * pager.c does: SIGNGATE_PAGER, else PAGER, else `less` (with LESS=FRX
 * unless set: quit when one screen is enough, keep colours). */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t pager_pid = -1;

static void wait_for_pager(void)
{
	if (pager_pid < 0)
		return;
	fflush(stdout);
	fclose(stdout); /* end of input for the pager */
	close(STDOUT_FILENO);
	while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
		;
	pager_pid = -1;
}

static const char *pager_command(void)
{
	const char *p = getenv("SIGNGATE_PAGER");

	if (!p)
		p = getenv("PAGER");
	if (!p)
		p = "less";
	if (!p[0] || strcmp(p, "cat") == 0)
		return NULL;
	return p;
}

void sg_cli_pager_start(const sg_cli *cli)
{
	const char *cmd = pager_command();
	int fd[2];

	if (!cmd || cli->json || pager_pid >= 0 || !isatty(STDOUT_FILENO))
		return;
	if (pipe(fd) < 0)
		return;
	fflush(stdout);
	if ((pager_pid = fork()) < 0) {
		close(fd[0]);
		close(fd[1]);
		return;
	}
	if (pager_pid == 0) {
		dup2(fd[0], STDIN_FILENO);
		close(fd[0]);
		close(fd[1]);
		setenv("LESS", "FRX", 0);
		setenv("LV", "-c", 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	dup2(fd[1], STDOUT_FILENO);
	close(fd[0]);
	close(fd[1]);
	atexit(wait_for_pager);
}
