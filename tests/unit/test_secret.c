/* core/secret: locked, zeroed, never dumped; PIN sources and their refusals. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/secret.h"

extern void (*sg_secret_test_wipe_hook)(const void *mem, size_t len);

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sgsec.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	unsetenv("SIGNGATE_PIN"); sg_secret_forget_env();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *content, size_t len, mode_t mode)
{
	int fd;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static long vm_locked_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int wipe_checked, wipe_all_zero;

static void wipe_hook(const void *mem, size_t len)
{
	const unsigned char *p = mem;
	size_t i;
	wipe_checked = 1;
	wipe_all_zero = 1;
	for (i = 0; i < len; i++)
		if (p[i])
			wipe_all_zero = 0;
}

static void test_new_locks_zeroes_and_disables_dumps(void **state)
{
	sg_secret *s = NULL;
	struct rlimit rl;
	long before = vm_locked_kb();
	(void)state;

	assert_int_equal(sg_secret_new(&s, 100), SG_OK);
	assert_non_null(s);
#ifndef __SANITIZE_ADDRESS__ /* ASan turns mlock into a no-op */
	assert_true(vm_locked_kb() > before);
#endif
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	memcpy(s->data, "correct horse", 13);
	s->len = 13;
	sg_secret_test_wipe_hook = wipe_hook;
	wipe_checked = 0;
	sg_secret_free(s);
	sg_secret_test_wipe_hook = NULL;
	assert_true(wipe_checked);
	assert_true(wipe_all_zero);
	assert_int_equal(vm_locked_kb(), before);
	sg_secret_free(NULL);
	assert_int_equal(sg_secret_new(&s, 0), SG_ERROR);
	assert_int_equal(sg_secret_new(&s, 1 << 20), SG_ERROR);
}

static void test_file_source(void **state)
{
	char path[128], src[140];
	sg_secret *s = NULL;
	(void)state;

	snprintf(path, sizeof(path), "%s/pin", tmpdir);
	snprintf(src, sizeof(src), "file:%s", path);
	write_file(path, "1234\n", 5, 0600);
	setenv("SIGNGATE_PIN", "env-loses", 1);
	assert_int_equal(sg_secret_obtain(&s, src, "PIN for token t"), SG_OK);
	assert_string_equal(s->data, "1234");
	assert_int_equal(s->len, 4);
	sg_secret_free(s);
	s = NULL;
	unsetenv("SIGNGATE_PIN"); sg_secret_forget_env();
	/* only one trailing newline is stripped; 0400 is fine */
	write_file(path, "ab\n\n", 4, 0400);
	assert_int_equal(sg_secret_obtain(&s, src, "PIN for token t"), SG_OK);
	assert_string_equal(s->data, "ab\n");
	sg_secret_free(s);
	s = NULL;
	/* a bare absolute path is a file source too */
	assert_int_equal(sg_secret_obtain(&s, path, "PIN for token t"), SG_OK);
	sg_secret_free(s);
}

static void test_file_source_refusals(void **state)
{
	char path[128], src[140], link[128], big[300];
	sg_secret *s = NULL;
	(void)state;

	snprintf(path, sizeof(path), "%s/pin", tmpdir);
	snprintf(src, sizeof(src), "file:%s", path);
	write_file(path, "1234\n", 5, 0644);
	assert_int_equal(sg_secret_obtain(&s, src, "PIN for token t"), SG_EDENIED);
	assert_null(s);
	assert_non_null(strstr(sg_error_last(), "mode 0644"));
	assert_non_null(strstr(sg_error_last(), "chmod 600"));
	assert_null(strstr(sg_error_last(), "1234"));
	write_file(path, "1234\n", 5, 0640);
	assert_int_equal(sg_secret_obtain(&s, src, "PIN for token t"), SG_EDENIED);
	/* symlinks are refused even to a good file */
	write_file(path, "1234\n", 5, 0600);
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	assert_int_equal(symlink(path, link), 0);
	snprintf(src, sizeof(src), "file:%s", link);
	assert_int_equal(sg_secret_obtain(&s, src, "PIN for token t"), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "symbolic link"));
	/* missing, empty, too long */
	snprintf(src, sizeof(src), "file:%s/none", tmpdir);
	assert_int_equal(sg_secret_obtain(&s, src, "PIN for token t"), SG_ERROR);
	snprintf(src, sizeof(src), "file:%s", path);
	write_file(path, "\n", 1, 0600);
	assert_int_equal(sg_secret_obtain(&s, src, "PIN for token t"), SG_ERROR);
	memset(big, 'x', sizeof(big));
	write_file(path, big, 257, 0600);
	assert_int_equal(sg_secret_obtain(&s, src, "PIN for token t"), SG_ERROR);
	assert_non_null(strstr(sg_error_last(), "longer than 256"));
	write_file(path, big, 256, 0600);
	assert_int_equal(sg_secret_obtain(&s, src, "PIN for token t"), SG_OK);
	assert_int_equal(s->len, 256);
	sg_secret_free(s);
	s = NULL;
	/* an unsupported source is refused without echoing it */
	assert_int_equal(sg_secret_obtain(&s, "9876", "PIN for token t"), SG_ERROR);
	assert_null(strstr(sg_error_last(), "9876"));
	assert_null(s);
}

static void with_stdin_devnull(int *saved)
{
	int fd = open("/dev/null", O_RDONLY);
	*saved = dup(0);
	assert_true(fd >= 0 && *saved >= 0);
	dup2(fd, 0);
	close(fd);
}

static void test_env_and_none(void **state)
{
	sg_secret *s = NULL;
	char *envcopy;
	size_t i;
	int saved;
	(void)state;

	with_stdin_devnull(&saved);
	setenv("SIGNGATE_PIN", "s3cret pin", 1);
	envcopy = getenv("SIGNGATE_PIN"); /* glibc keeps setenv's strings allocated */
	assert_int_equal(sg_secret_obtain(&s, NULL, "PIN for token t"), SG_OK);
	/* the environment's copy was zeroed before the variable was removed */
	for (i = 0; i < strlen("s3cret pin"); i++)
		assert_int_equal(envcopy[i], 0);
	assert_string_equal(s->data, "s3cret pin");
	sg_secret_free(s);
	s = NULL;
	/* read once, gone from the environment: no child inherits it */
	assert_null(getenv("SIGNGATE_PIN"));
	/* and asked again (another token, another profile), still known */
	assert_int_equal(sg_secret_obtain(&s, NULL, "PIN for token t"), SG_OK);
	assert_string_equal(s->data, "s3cret pin");
	sg_secret_free(s);
	s = NULL;
	unsetenv("SIGNGATE_PIN"); sg_secret_forget_env();
	assert_int_equal(sg_secret_obtain(&s, NULL, "PIN for token t"), SG_ERROR);
	assert_null(s);
	assert_non_null(strstr(sg_error_last(), "no PIN for token t"));
	assert_non_null(strstr(sg_error_last(), "pin-source=file:"));
	assert_non_null(strstr(sg_error_last(), "SIGNGATE_PIN"));
	setenv("SIGNGATE_PIN", "", 1);
	assert_int_equal(sg_secret_obtain(&s, "", "PIN for token t"), SG_ERROR);
	unsetenv("SIGNGATE_PIN"); sg_secret_forget_env();
	dup2(saved, 0);
	close(saved);
}

/* Read from the pty master until `want` shows up or time runs out. */
static int pty_expect(int master, char *acc, size_t cap, const char *want)
{
	size_t len = strlen(acc);
	int i;
	for (i = 0; i < 100 && !strstr(acc, want); i++) {
		fd_set fds;
		struct timeval tv = { 0, 50000 };
		ssize_t n;
		FD_ZERO(&fds);
		FD_SET(master, &fds);
		if (select(master + 1, &fds, NULL, NULL, &tv) <= 0)
			continue;
		n = read(master, acc + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		acc[len] = '\0';
	}
	return strstr(acc, want) != NULL;
}

/* Child on a pty: prompts with echo off; parent types. */
static void test_tty_prompt_no_echo(void **state)
{
	char out[4096] = "";
	struct termios t;
	int master, status, p[2];
	char got[64] = "";
	pid_t pid;
	(void)state;

	assert_int_equal(pipe(p), 0);
	pid = forkpty(&master, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0) {
		sg_secret *s = NULL;
		close(p[0]);
		if (sg_secret_obtain(&s, NULL, "PIN for token tty") != SG_OK)
			_exit(1);
		if (write(p[1], s->data, s->len) != (ssize_t)s->len)
			_exit(2);
		sg_secret_free(s);
		_exit(0);
	}
	close(p[1]);
	assert_true(pty_expect(master, out, sizeof(out), "Enter PIN for token tty: "));
	assert_int_equal(tcgetattr(master, &t), 0);
	assert_false(t.c_lflag & ECHO);
	assert_int_equal(write(master, "typed-pin\n", 10), 10);
	assert_true(read(p[0], got, sizeof(got) - 1) > 0);
	assert_string_equal(got, "typed-pin");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pty_expect(master, out, sizeof(out), "\n");
	assert_null(strstr(out, "typed-pin"));
	close(p[0]);
	close(master);
}

/* ^C at the prompt: the child dies of SIGINT and echo is back on. */
static void test_tty_interrupt_restores_echo(void **state)
{
	char out[4096] = "";
	struct termios t;
	int master, status;
	pid_t pid;
	(void)state;

	pid = forkpty(&master, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0) {
		sg_secret *s = NULL;
		/* A shell without job control starts `cmd &` with SIGINT ignored;
		 * the test is about the default disposition. */
		signal(SIGINT, SIG_DFL);
		sg_secret_obtain(&s, NULL, "PIN for token tty");
		_exit(3);
	}
	assert_true(pty_expect(master, out, sizeof(out), "Enter PIN"));
	assert_int_equal(tcgetattr(master, &t), 0);
	assert_false(t.c_lflag & ECHO);
	assert_int_equal(write(master, "ab\003", 3), 3);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGINT);
	assert_int_equal(tcgetattr(master, &t), 0);
	assert_true(t.c_lflag & ECHO);
	close(master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_locks_zeroes_and_disables_dumps),
		cmocka_unit_test(test_file_source),
		cmocka_unit_test(test_file_source_refusals),
		cmocka_unit_test(test_env_and_none),
		cmocka_unit_test(test_tty_prompt_no_echo),
		cmocka_unit_test(test_tty_interrupt_restores_echo),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
