/* Secrets in their own locked, never-dumped pages; zeroed before unmap. */
#include "core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "core/error.h"

#define SG_SECRET_MAX_CAP (64 * 1024)
#define SG_PIN_MAX 256

/* Test hook: called with the secret's pages after they were zeroed and
 * before they are unmapped (tests/unit/test_secret.c checks the zeroing). */
void (*sg_secret_test_wipe_hook)(const void *mem, size_t len);

static int sg_secret_nodump_done;

/* Once the first secret exists, this process never dumps core again. */
static int sg_secret_nodump(void)
{
	struct rlimit rl = { 0, 0 };

	if (sg_secret_nodump_done)
		return SG_OK;
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		return sg_error_set(SG_ERROR, "cannot disable core dumps: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return sg_error_set(SG_ERROR, "cannot mark the process non-dumpable: %s", strerror(errno));
	sg_secret_nodump_done = 1;
	return SG_OK;
}

static size_t sg_secret_maplen(size_t cap)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t need = sizeof(sg_secret) + cap + 1;

	return (need + page - 1) / page * page;
}

int sg_secret_new(sg_secret **out, size_t cap)
{
	size_t len;
	void *mem;
	sg_secret *s;
	int err;

	if (cap == 0 || cap > SG_SECRET_MAX_CAP)
		return sg_error_set(SG_ERROR, "secret size %zu out of range (1..%d)", cap,
				    SG_SECRET_MAX_CAP);
	if ((err = sg_secret_nodump()) < 0)
		return err;
	len = sg_secret_maplen(cap);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return sg_error_set(SG_ERROR, "cannot map memory for a secret: %s", strerror(errno));
	if (mlock(mem, len) != 0) {
		err = errno;
		munmap(mem, len);
		return sg_error_set(SG_ERROR, "cannot lock memory for a secret: %s; "
				    "raise the locked-memory limit (ulimit -l)", strerror(err));
	}
	(void)madvise(mem, len, MADV_DONTDUMP);
	(void)madvise(mem, len, MADV_WIPEONFORK);
	s = mem;
	s->data = (char *)mem + sizeof(sg_secret);
	s->len = 0;
	s->cap = cap;
	s->data[0] = '\0';
	*out = s;
	return SG_OK;
}

void sg_secret_free(sg_secret *s)
{
	size_t len;

	if (!s)
		return;
	len = sg_secret_maplen(s->cap);
	OPENSSL_cleanse(s, len);
	if (sg_secret_test_wipe_hook)
		sg_secret_test_wipe_hook(s, len);
	munlock(s, len);
	munmap(s, len);
}

/* Append at most the remaining capacity; SG_ERROR when it would overflow. */
static int sg_secret_put(sg_secret *s, const char *p, size_t n)
{
	if (n > s->cap - s->len)
		return SG_ERROR;
	memcpy(s->data + s->len, p, n);
	s->len += n;
	s->data[s->len] = '\0';
	return SG_OK;
}

static void sg_secret_chomp(sg_secret *s)
{
	if (s->len && s->data[s->len - 1] == '\n') {
		s->data[--s->len] = '\0';
		if (s->len && s->data[s->len - 1] == '\r')
			s->data[--s->len] = '\0';
	}
}

static int sg_secret_from_file(sg_secret **out, const char *path, const char *what)
{
	sg_secret *s = NULL;
	struct stat st;
	char c;
	ssize_t n;
	int fd = -1, ret = SG_EDENIED;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = sg_error_set(SG_ERROR, "cannot open the pin-source file %s for %s: %s", path,
				   what, errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ret = sg_error_set(SG_ERROR, "pin-source %s for %s is not a regular file", path, what);
		goto done;
	}
	if (st.st_uid != geteuid()) {
		ret = sg_error_set(SG_EDENIED, "pin-source %s is owned by uid %lu, not by you (uid %lu); "
				   "a PIN file must belong to the user who runs signgate", path,
				   (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto done;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ret = sg_error_set(SG_EDENIED, "pin-source %s is mode %04o; run chmod 600 %s", path,
				   (unsigned)(st.st_mode & 07777), path);
		goto done;
	}
	if ((ret = sg_secret_new(&s, SG_PIN_MAX + 1)) < 0)
		goto done;
	ret = SG_ERROR;
	for (;;) {
		n = read(fd, s->data + s->len, s->cap - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = sg_error_set(SG_ERROR, "cannot read pin-source %s: %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		s->len += (size_t)n;
		if (s->len == s->cap)
			break;
	}
	s->data[s->len] = '\0';
	if (s->len > SG_PIN_MAX || (s->len == SG_PIN_MAX && read(fd, &c, 1) == 1)) {
		ret = sg_error_set(SG_ERROR, "pin-source %s is longer than %d bytes", path, SG_PIN_MAX);
		goto done;
	}
	sg_secret_chomp(s);
	if (s->len == 0) {
		ret = sg_error_set(SG_ERROR, "pin-source %s for %s is empty", path, what);
		goto done;
	}
	*out = s;
	s = NULL;
	ret = SG_OK;
done:
	sg_secret_free(s);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* SIGNGATE_PIN, taken out of the environment: no child process (git,
 * gpg, gpgconf, hooks) can inherit what is no longer there. */
static sg_secret *sg_env_pin;
static char sg_env_pin_error[128];

int sg_secret_take_env(void)
{
	char *value = getenv(SG_PIN_ENV);
	size_t len;
	int err = SG_OK;

	if (!value)
		return SG_OK;
	len = strlen(value);
	sg_secret_free(sg_env_pin);
	sg_env_pin = NULL;
	sg_env_pin_error[0] = '\0';
	if (len > SG_PIN_MAX)
		snprintf(sg_env_pin_error, sizeof(sg_env_pin_error), "%s is longer than %d bytes",
			 SG_PIN_ENV, SG_PIN_MAX);
	else if (len && (err = sg_secret_new(&sg_env_pin, SG_PIN_MAX)) < 0)
		snprintf(sg_env_pin_error, sizeof(sg_env_pin_error), "%s", sg_error_last());
	else if (len)
		sg_secret_put(sg_env_pin, value, len);
	/* zero the environment's copy (on the initial stack it is also what
	 * /proc/PID/environ shows), then remove the variable */
	OPENSSL_cleanse(value, len);
	unsetenv(SG_PIN_ENV);
	return sg_env_pin_error[0] ? sg_error_set(SG_ERROR, "%s", sg_env_pin_error) : SG_OK;
}

void sg_secret_forget_env(void)
{
	sg_secret_free(sg_env_pin);
	sg_env_pin = NULL;
	sg_env_pin_error[0] = '\0';
}

static int sg_secret_from_env(sg_secret **out)
{
	sg_secret *s = NULL;
	int err;

	if (sg_env_pin_error[0])
		return sg_error_set(SG_ERROR, "%s", sg_env_pin_error);
	if ((err = sg_secret_new(&s, SG_PIN_MAX)) < 0)
		return err;
	sg_secret_put(s, sg_env_pin->data, sg_env_pin->len);
	*out = s;
	return SG_OK;
}

static volatile sig_atomic_t sg_secret_caught;

static void sg_secret_on_signal(int sig)
{
	sg_secret_caught = sig;
}

/* One byte from the terminal. The interrupting signals are blocked but
 * inside ppoll, which unblocks them atomically while it waits: a signal
 * that comes between the caller's look at sg_secret_caught and the wait is
 * not lost (it ends ppoll with EINTR) and a ^C is never swallowed by a
 * read that already blocked. */
static ssize_t tty_read_byte(int fd, char *c, const sigset_t *waitmask)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (ppoll(&p, 1, NULL, waitmask) < 0)
		return -1;
	return read(fd, c, 1);
}

/* Read one line from /dev/tty with echo off. The terminal settings are
 * restored on every path; an interrupt (SIGINT, SIGTERM, SIGQUIT, SIGHUP)
 * restores them first, then is re-delivered with its previous disposition. */
static int sg_secret_from_tty(sg_secret **out, const char *what)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP };
	struct sigaction sa, old[4];
	sigset_t block, oldmask, waitmask;
	struct termios saved, quiet;
	sg_secret *s = NULL;
	int fd, ret = SG_ERROR, restore = 0, caught;
	size_t i;
	ssize_t n;
	char c;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return sg_error_set(SG_ERROR, "no %s: cannot open /dev/tty (%s); set "
				    "pin-source=file:... in the key URI or SIGNGATE_PIN", what,
				    strerror(errno));
	if ((ret = sg_secret_new(&s, SG_PIN_MAX)) < 0)
		goto done;
	ret = SG_ERROR;
	sg_secret_caught = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sg_secret_on_signal; /* no SA_RESTART: ppoll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < 4; i++) {
		sigaction(sigs[i], &sa, &old[i]);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	waitmask = oldmask;
	for (i = 0; i < 4; i++)
		sigdelset(&waitmask, sigs[i]);
	if (tcgetattr(fd, &saved) != 0) {
		ret = sg_error_set(SG_ERROR, "cannot read the terminal settings: %s", strerror(errno));
		goto restore_signals;
	}
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		ret = sg_error_set(SG_ERROR, "cannot turn off terminal echo: %s", strerror(errno));
		goto restore_signals;
	}
	restore = 1;
	dprintf(fd, "Enter %s: ", what);
	for (;;) {
		if (sg_secret_caught)
			break;
		n = tty_read_byte(fd, &c, &waitmask);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n' || c == '\r')
			break;
		if (sg_secret_put(s, &c, 1) < 0) {
			ret = sg_error_set(SG_ERROR, "%s is longer than %d bytes", what, SG_PIN_MAX);
			goto restore_tty;
		}
	}
	c = 0;
	if (sg_secret_caught) {
		ret = sg_error_set(SG_ERROR, "interrupted while reading %s", what);
		goto restore_tty;
	}
	if (s->len == 0) {
		ret = sg_error_set(SG_ERROR, "no %s entered", what);
		goto restore_tty;
	}
	*out = s;
	s = NULL;
	ret = SG_OK;
restore_tty:
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &saved);
		dprintf(fd, "\n");
	}
restore_signals:
	caught = sg_secret_caught;
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	if (caught) {
		sg_secret_free(s);
		s = NULL;
		close(fd);
		fd = -1;
		raise(caught);
	}
done:
	sg_secret_free(s);
	if (fd >= 0)
		close(fd);
	return ret;
}

int sg_secret_obtain(sg_secret **out, const char *pin_source, const char *what)
{
	int err;

	if (!what)
		what = "PIN";
	/* `what` reads "PIN for token X" / "passphrase for key file Y". */
	if (pin_source && *pin_source) {
		if (strncmp(pin_source, "file:", 5) == 0)
			return sg_secret_from_file(out, pin_source + 5, what);
		if (pin_source[0] == '/')
			return sg_secret_from_file(out, pin_source, what);
		/* not echoed: a mistaken pin-source may be the PIN itself */
		return sg_error_set(SG_ERROR, "the pin-source for %s is not a file: URI; use "
				    "pin-source=file:/path/to/pinfile (mode 0600)", what);
	}
	/* set after start (a library caller): taken now, as main() does first */
	if ((err = sg_secret_take_env()) < 0)
		return err;
	if (sg_env_pin || sg_env_pin_error[0])
		return sg_secret_from_env(out);
	if (isatty(STDIN_FILENO))
		return sg_secret_from_tty(out, what);
	return sg_error_set(SG_ERROR, "no %s: set pin-source=file:... in the key URI, "
			    "SIGNGATE_PIN, or run on a terminal", what);
}
