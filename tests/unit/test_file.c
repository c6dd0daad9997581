/* core/file: safe opens, identity checks, atomic outputs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file.h"

static char tdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/sgf.XXXXXX");
	if (!mkdtemp(tdir))
		return -1;
	sg_error_clear();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *p(const char *name)
{
	static char buf[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tdir, name);
	return buf[i];
}

static void put(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void assert_msg(const char *needle)
{
	const char *m = sg_error_last();
	assert_non_null(m);
	if (!strstr(m, needle))
		fail_msg("message \"%s\" lacks \"%s\"", m, needle);
}

/* Number of entries in tdir (besides . and ..). */
static int count_entries(void)
{
	DIR *d = opendir(tdir);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_open_regular_ok(void **state)
{
	int fd = -1;
	struct stat st;
	char b[8] = {0};
	(void)state;
	put(p("a"), "hello", 0644);
	assert_int_equal(sg_file_open_regular(&fd, &st, p("a")), SG_OK);
	assert_true(fd >= 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(read(fd, b, sizeof(b)), 5);
	assert_string_equal(b, "hello");
	close(fd);
}

static void refused(const char *path, const char *what)
{
	int fd = -1;
	struct stat st;
	sg_error_clear();
	assert_int_equal(sg_file_open_regular(&fd, &st, path), SG_ERROR);
	assert_int_equal(fd, -1);
	assert_msg(path);
	assert_msg(what);
}

static void test_open_refuses_symlink(void **state)
{
	(void)state;
	put(p("target"), "x", 0644);
	assert_int_equal(symlink(p("target"), p("link")), 0);
	refused(p("link"), "is a symbolic link; signgate reads and signs regular files only");
	/* a dangling symlink too */
	assert_int_equal(symlink(p("nowhere"), p("dangling")), 0);
	refused(p("dangling"), "symbolic link");
}

static void test_open_refuses_dir_fifo_dev(void **state)
{
	(void)state;
	refused(tdir, "is a directory");
	assert_int_equal(mkfifo(p("fifo"), 0600), 0);
	refused(p("fifo"), "is a FIFO");
	refused("/dev/null", "is a character device");
	refused(p("missing"), "does not exist");
}

static void test_unchanged_detects_modification(void **state)
{
	int fd = -1, wfd;
	struct stat st, st0;
	struct timespec ts[2];
	(void)state;
	put(p("f"), "content-1", 0644);
	assert_int_equal(sg_file_open_regular(&fd, &st, p("f")), SG_OK);
	assert_int_equal(sg_file_check_unchanged(fd, &st, p("f")), SG_OK);
	st0 = st;
	/* Same size, mtime put back: only ctime betrays the write. */
	usleep(20000);
	wfd = open(p("f"), O_WRONLY);
	assert_true(wfd >= 0);
	assert_int_equal(pwrite(wfd, "CONTENT-1", 9, 0), 9);
	ts[0] = st0.st_atim;
	ts[1] = st0.st_mtim;
	assert_int_equal(futimens(wfd, ts), 0);
	close(wfd);
	assert_int_equal(sg_file_check_unchanged(fd, &st, p("f")), SG_ERROR);
	assert_msg("changed while it was read");
	assert_msg(p("f"));
	close(fd);

	/* An append (size change) */
	put(p("g"), "abc", 0644);
	assert_int_equal(sg_file_open_regular(&fd, &st, p("g")), SG_OK);
	wfd = open(p("g"), O_WRONLY | O_APPEND);
	assert_int_equal(write(wfd, "d", 1), 1);
	close(wfd);
	assert_int_equal(sg_file_check_unchanged(fd, &st, p("g")), SG_ERROR);
	close(fd);
}

static void test_read_all(void **state)
{
	sg_buf b = SG_BUF_INIT;
	(void)state;
	put(p("r"), "0123456789", 0644);
	assert_int_equal(sg_file_read_all(&b, p("r"), 10), SG_OK);
	assert_int_equal(b.size, 10);
	assert_string_equal(b.ptr, "0123456789");
	assert_int_equal(sg_file_read_all(&b, p("r"), 9), SG_ERROR);
	assert_msg("limit");
	assert_string_equal(b.ptr, "0123456789"); /* untouched on failure */
	put(p("empty"), "", 0644);
	assert_int_equal(sg_file_read_all(&b, p("empty"), 10), SG_OK);
	assert_non_null(b.ptr);
	assert_int_equal(b.size, 0);
	assert_string_equal(b.ptr, "");
	assert_int_equal(symlink(p("r"), p("rl")), 0);
	assert_int_equal(sg_file_read_all(&b, p("rl"), 10), SG_ERROR);
	assert_msg("symbolic link");
	sg_buf_dispose(&b);
}

static void test_check_private(void **state)
{
	(void)state;
	put(p("k600"), "secret", 0600);
	put(p("k400"), "secret", 0400);
	put(p("k644"), "secret", 0644);
	put(p("k640"), "secret", 0640);
	assert_int_equal(sg_file_check_private(p("k600")), SG_OK);
	assert_int_equal(sg_file_check_private(p("k400")), SG_OK);
	assert_int_equal(sg_file_check_private(p("k644")), SG_EDENIED);
	assert_msg("mode 0644; run chmod 600");
	assert_msg(p("k644"));
	assert_int_equal(sg_file_check_private(p("k640")), SG_EDENIED);
	assert_msg("mode 0640");
	assert_int_equal(symlink(p("k600"), p("klink")), 0);
	assert_true(sg_file_check_private(p("klink")) < 0);
	assert_msg("symbolic link");
}

static void read_back(const char *path, const char *want, mode_t mode)
{
	sg_buf b = SG_BUF_INIT;
	struct stat st;
	assert_int_equal(sg_file_read_all(&b, path, 1 << 20), SG_OK);
	assert_string_equal(b.ptr, want);
	sg_buf_dispose(&b);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static void test_outfile_publish(void **state)
{
	sg_outfile o = SG_OUTFILE_INIT;
	struct stat st;
	(void)state;
	assert_int_equal(sg_outfile_open(&o, p("out.p7s"), 0644), SG_OK);
	assert_non_null(strstr(o.tmp_path, "/.out.p7s.tmp-"));
	assert_int_equal(sg_outfile_write(&o, "abc", 3), SG_OK);
	assert_int_equal(sg_outfile_write(&o, "def", 3), SG_OK);
	assert_int_equal(sg_outfile_finish(&o), SG_OK);
	assert_int_equal(stat(p("out.p7s"), &st), -1); /* not visible before publish */
	assert_int_equal(sg_outfile_publish(&o), SG_OK);
	sg_outfile_release(&o);
	read_back(p("out.p7s"), "abcdef", 0644);
	assert_int_equal(count_entries(), 1);

	/* publish without an explicit finish; replaces the old file */
	assert_int_equal(sg_outfile_open(&o, p("out.p7s"), 0600), SG_OK);
	assert_int_equal(sg_outfile_write(&o, "new", 3), SG_OK);
	assert_int_equal(sg_outfile_publish(&o), SG_OK);
	sg_outfile_release(&o);
	read_back(p("out.p7s"), "new", 0600);
	assert_int_equal(count_entries(), 1);

	/* relative path: temp file in the current folder */
	{
		char cwd[4096];
		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(chdir(tdir), 0);
		assert_int_equal(sg_file_write_atomic("w", "atomic", 6, 0640), SG_OK);
		assert_int_equal(chdir(cwd), 0);
	}
	read_back(p("w"), "atomic", 0640);
	assert_int_equal(count_entries(), 2);
}

static void test_outfile_discard(void **state)
{
	sg_outfile o = SG_OUTFILE_INIT;
	(void)state;
	sg_outfile_discard(&o, 1); /* safe on the initial state */
	assert_int_equal(sg_outfile_open(&o, p("d.asc"), 0644), SG_OK);
	assert_int_equal(sg_outfile_write(&o, "partial", 7), SG_OK);
	assert_int_equal(count_entries(), 1);
	sg_outfile_discard(&o, 0);
	assert_int_equal(count_entries(), 0);
	assert_null(o.tmp_path);

	/* finished but not published: release also removes the temp file */
	assert_int_equal(sg_outfile_open(&o, p("d.asc"), 0644), SG_OK);
	assert_int_equal(sg_outfile_finish(&o), SG_OK);
	sg_outfile_release(&o);
	assert_int_equal(count_entries(), 0);

	/* published then unpublished (a later file of the batch failed) */
	assert_int_equal(sg_outfile_open(&o, p("d.asc"), 0644), SG_OK);
	assert_int_equal(sg_outfile_write(&o, "x", 1), SG_OK);
	assert_int_equal(sg_outfile_publish(&o), SG_OK);
	assert_int_equal(count_entries(), 1);
	sg_outfile_discard(&o, 1);
	assert_int_equal(count_entries(), 0);

	/* write after finish is an error, not a crash */
	assert_int_equal(sg_outfile_open(&o, p("d.asc"), 0644), SG_OK);
	assert_int_equal(sg_outfile_finish(&o), SG_OK);
	assert_int_equal(sg_outfile_write(&o, "x", 1), SG_ERROR);
	sg_outfile_discard(&o, 0);
	assert_int_equal(count_entries(), 0);

	/* a missing folder fails cleanly */
	assert_int_equal(sg_outfile_open(&o, p("nodir/x.p7s"), 0644), SG_ERROR);
	assert_msg("cannot create a temporary file");
	sg_outfile_discard(&o, 0);
}

/* A cache (the notes index) is written by the same temp+rename as an
 * output, only without the fsyncs: never a partial file under its name,
 * never through a symlink planted there. */
static void test_write_cache(void **state)
{
	char buf[64];
	ssize_t n;
	(void)state;
	assert_int_equal(sg_file_write_cache(p("c.idx"), "first", 5, 0644), SG_OK);
	read_back(p("c.idx"), "first", 0644);
	assert_int_equal(sg_file_write_cache(p("c.idx"), "second", 6, 0644), SG_OK);
	read_back(p("c.idx"), "second", 0644);
	assert_int_equal(count_entries(), 1); /* no temp file left */

	/* a symlink at the cache's name is replaced, its target untouched */
	put(p("victim"), "keep", 0600);
	assert_int_equal(unlink(p("c.idx")), 0);
	assert_int_equal(symlink(p("victim"), p("c.idx")), 0);
	assert_int_equal(sg_file_write_cache(p("c.idx"), "cache", 5, 0644), SG_OK);
	read_back(p("victim"), "keep", 0600);
	n = readlink(p("c.idx"), buf, sizeof(buf));
	assert_int_equal(n, -1); /* no longer a link */
	read_back(p("c.idx"), "cache", 0644);

	/* the twin: a missing folder fails and leaves nothing */
	assert_int_equal(sg_file_write_cache(p("nodir/c.idx"), "x", 1, 0644), SG_ERROR);
	assert_msg("cannot create a temporary file");
	assert_int_equal(count_entries(), 2);
}

static void test_outfile_file_size_limit(void **state)
{
	sg_outfile o = SG_OUTFILE_INIT;
	struct rlimit old, lim;
	void (*oldsig)(int);
	char big[16384];
	int ret;
	(void)state;
	memset(big, 'A', sizeof(big));
	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(sg_outfile_open(&o, p("big.p7s"), 0644), SG_OK);
	ret = sg_outfile_write(&o, big, sizeof(big));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	assert_int_equal(ret, SG_ERROR);
	assert_msg("file size limit");
	assert_msg(p("big.p7s"));
	sg_outfile_discard(&o, 0);
	assert_int_equal(count_entries(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_regular_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_dir_fifo_dev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_detects_modification, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outfile_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outfile_discard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outfile_file_size_limit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
