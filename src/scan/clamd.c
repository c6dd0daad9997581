/* The clamd engine: ClamAV's daemon over its socket (unix:PATH or
 * tcp://HOST:PORT), with the z-commands of clamd(8): zVERSION, zPING and
 * zINSTREAM (chunks of a 4-byte big-endian length and the data, ended by
 * a zero length; the answer ends with a NUL).
 *
 * The bytes clamd scans are the bytes we sign: one read loop over the open
 * file feeds each chunk to SHA-256 and to the socket, and at the end the
 * file must still be the file that was opened (identity and size).
 *
 * Fail closed: only "stream: OK" after the whole file was sent is clean.
 * clamd down, a timeout, StreamMaxLength exceeded ("INSTREAM size limit
 * exceeded"), an error answer or anything unexpected is SG_ESCAN (exit 4)
 * with a message naming the socket or the limit; there is no fall-back to
 * the in-process engine. Every wait has a deadline (connect and total) and
 * every answer a size cap. */
#include "scan/scan_int.h"
#include "core/error.h"
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SG_CLAMD_CONNECT_MS  5000
#define SG_CLAMD_PROBE_MS    30000            /* VERSION / PING */
#define SG_CLAMD_DEFAULT_S   600
#define SG_CLAMD_REPLY_MAX   4096             /* longest answer we accept */
#define SG_CLAMD_CHUNK       (256u << 10)     /* one INSTREAM chunk = one read */
#define SG_LIMITS_PREFIX     "Heuristics.Limits.Exceeded"

struct sg_clamd {
	char *addr;
	long long timeout_ms;
	unsigned long long max_size;    /* scan.maxFileSize (0: none) */
	sg_clamd_info info;
};

/* ---- time and waiting ---- */

static long long sg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll one fd until the deadline: >0 ready (revents set), 0 timed out, <0 error */
static int sg_wait(int fd, short events, long long deadline, short *revents)
{
	struct pollfd p = { fd, events, 0 };
	long long left;
	int n;

	do {
		left = deadline - sg_now_ms();
		if (left < 0)
			left = 0;
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
	} while (n < 0 && errno == EINTR);
	*revents = n > 0 ? p.revents : 0;
	return n;
}

/* ---- connecting ---- */

/* 0 and *out, or an errno value. */
static int sg_connect_one(const struct sockaddr *sa, socklen_t len, long long deadline, int *out)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int err = 0, n;
	socklen_t elen = sizeof(err);
	short rev;
	struct timespec pause = { 0, 10 * 1000000L };

	if (fd < 0)
		return errno;
	while (connect(fd, sa, len) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && sa->sa_family == AF_UNIX && sg_now_ms() < deadline) {
			nanosleep(&pause, NULL); /* a unix socket's backlog is full: retry */
			continue;
		}
		if (errno != EINPROGRESS) {
			err = errno;
			break;
		}
		n = sg_wait(fd, POLLOUT, deadline, &rev);
		if (n == 0)
			err = ETIMEDOUT;
		else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		break;
	}
	if (err) {
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

static int sg_connect_unix(const char *path, long long deadline, int *out)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	return sg_connect_one((struct sockaddr *)&sun, sizeof(sun), deadline, out);
}

/* tcp://HOST:PORT or tcp://[V6]:PORT (validated by the policy parser) */
static int sg_connect_tcp(const char *hostport, long long deadline, int *out, char *why, size_t whylen)
{
	char host[256];
	const char *colon = strrchr(hostport, ':'), *h = hostport;
	size_t hl;
	struct addrinfo hints, *res = NULL, *ai;
	int err = EINVAL, gai;

	if (!colon)
		return EINVAL;
	hl = (size_t)(colon - hostport);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		snprintf(why, whylen, "%s", gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next)
		if ((err = sg_connect_one(ai->ai_addr, ai->ai_addrlen, deadline, out)) == 0)
			break;
	freeaddrinfo(res);
	return err;
}

static int sg_clamd_connect(const char *addr, long long deadline, int *out)
{
	long long cdl = sg_now_ms() + SG_CLAMD_CONNECT_MS;
	char why[128] = "";
	int err;

	if (cdl > deadline)
		cdl = deadline;
	if (!strncmp(addr, "unix:", 5))
		err = sg_connect_unix(addr + 5, cdl, out);
	else if (!strncmp(addr, "tcp://", 6))
		err = sg_connect_tcp(addr + 6, cdl, out, why, sizeof(why));
	else
		err = EINVAL;
	if (err == 0)
		return SG_OK;
	return sg_error_set(SG_ESCAN, "cannot reach clamd at %s: %s; nothing was signed: start clamd "
			    "there or fix scan.clamd in the policy", addr,
			    err == -1 ? why : err == ETIMEDOUT ? "connection timed out" : strerror(err));
}

/* ---- talking ---- */

/* Send all of buf. 0 sent; 1 clamd spoke first (an early answer, e.g. the
 * size limit: stop sending and read it); <0 -errno (ETIMEDOUT on the deadline). */
static int sg_send_all(int fd, const unsigned char *buf, size_t len, long long deadline)
{
	ssize_t n;
	short rev;
	int w;

	while (len > 0) {
		if ((w = sg_wait(fd, POLLOUT | POLLIN, deadline, &rev)) == 0)
			return -ETIMEDOUT;
		if (w < 0)
			return -errno;
		if (rev & POLLIN)
			return 1;
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read the answer up to its NUL (or the end of the connection) into
 * out[cap]; control bytes become '?'. */
static int sg_read_reply(int fd, const char *addr, long long deadline, char *out, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	short rev;
	int w;

	for (;;) {
		if ((w = sg_wait(fd, POLLIN, deadline, &rev)) <= 0)
			return sg_error_set(SG_ESCAN, "clamd at %s did not answer %s; nothing was signed "
					    "(scan.clamdTimeout)", addr, w == 0 ? "in time" : strerror(errno));
		n = recv(fd, out + len, cap - 1 - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return sg_error_set(SG_ESCAN, "cannot read clamd's answer at %s: %s; nothing was signed",
					    addr, strerror(errno));
		if (n == 0 || memchr(out + len, '\0', (size_t)n))
			break;
		len += (size_t)n;
		if (len >= cap - 1)
			return sg_error_set(SG_ESCAN, "clamd at %s answered more than %zu bytes: not a clamd "
					    "answer; nothing was signed", addr, cap - 1);
	}
	if (n > 0)
		len += strlen(out + len);
	out[len] = '\0';
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = '\0';
	for (n = 0; (size_t)n < len; n++)
		if ((unsigned char)out[n] < 0x20 || (unsigned char)out[n] > 0x7e)
			out[n] = '?';
	if (len == 0)
		return sg_error_set(SG_ESCAN, "clamd at %s closed the connection without an answer; "
				    "nothing was signed (see clamd's log)", addr);
	return SG_OK;
}

/* One command (with its NUL) and its answer, on a connection of its own. */
static int sg_clamd_command(const char *addr, const char *cmd, long long timeout_ms,
			    char *out, size_t cap)
{
	long long deadline = sg_now_ms() + timeout_ms;
	int fd = -1, ret, s;

	if ((ret = sg_clamd_connect(addr, deadline, &fd)) < 0)
		return ret;
	s = sg_send_all(fd, (const unsigned char *)cmd, strlen(cmd) + 1, deadline);
	if (s < 0)
		ret = sg_error_set(SG_ESCAN, "cannot send %s to clamd at %s: %s", cmd + 1, addr,
				   strerror(-s));
	else
		ret = sg_read_reply(fd, addr, deadline, out, cap);
	close(fd);
	return ret;
}

/* "ClamAV 1.4.6/27841/Sun Nov 29 09:32:10 2026" or "ClamAV 1.4.6" */
static int sg_parse_version(const char *addr, const char *v, sg_clamd_info *info)
{
	const char *p = v + 7, *slash;
	size_t n;
	struct tm tm;

	memset(info, 0, sizeof(*info));
	if (strncmp(v, "ClamAV ", 7) != 0 || !*p)
		return sg_error_set(SG_ESCAN, "clamd at %s answered VERSION with '%.80s', not 'ClamAV ...': "
				    "is that a clamd socket?", addr, v);
	n = (slash = strchr(p, '/')) ? (size_t)(slash - p) : strlen(p);
	snprintf(info->version, sizeof(info->version), "%.*s", (int)n, p);
	if (!slash)
		return SG_OK;
	p = slash + 1;
	n = (slash = strchr(p, '/')) ? (size_t)(slash - p) : strlen(p);
	snprintf(info->db_version, sizeof(info->db_version), "%.*s", (int)n, p);
	if (!slash)
		return SG_OK;
	snprintf(info->db_date, sizeof(info->db_date), "%s", slash + 1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_isdst = -1;
	p = strptime(info->db_date, "%a %b %d %H:%M:%S %Y", &tm);
	if (p && !*p)
		info->db_time = (long long)mktime(&tm); /* clamd prints its local time */
	return SG_OK;
}

static long long sg_probe_ms(int timeout_s)
{
	long long t = timeout_s > 0 ? 1000LL * timeout_s : 1000LL * SG_CLAMD_DEFAULT_S;

	return t < SG_CLAMD_PROBE_MS ? t : SG_CLAMD_PROBE_MS;
}

int sg_clamd_probe(const char *addr, int timeout_s, sg_clamd_info *out)
{
	char reply[SG_CLAMD_REPLY_MAX];
	long long t = sg_probe_ms(timeout_s);
	int ret;

	if ((ret = sg_clamd_command(addr, "zPING", t, reply, sizeof(reply))) < 0)
		return ret;
	if (strcmp(reply, "PONG") != 0)
		return sg_error_set(SG_ESCAN, "clamd at %s answered PING with '%.80s', not PONG", addr, reply);
	if ((ret = sg_clamd_command(addr, "zVERSION", t, reply, sizeof(reply))) < 0)
		return ret;
	return sg_parse_version(addr, reply, out);
}

/* ---- the engine ---- */

int sg_clamd_open(sg_clamd **out, const sg_scan_opts *opts)
{
	char reply[SG_CLAMD_REPLY_MAX];
	sg_clamd *c;
	int ret;

	if (!opts->clamd || !*opts->clamd)
		return sg_error_set(SG_ESCAN, "scan.engine = clamd but scan.clamd is not set; "
				    "set it to unix:PATH or tcp://HOST:PORT");
	if (!(c = calloc(1, sizeof(*c))) || !(c->addr = strdup(opts->clamd))) {
		free(c);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	c->timeout_ms = 1000LL * (opts->timeout_s > 0 ? opts->timeout_s : SG_CLAMD_DEFAULT_S);
	c->max_size = opts->max_file_size;
	if ((ret = sg_clamd_command(c->addr, "zVERSION", sg_probe_ms(opts->timeout_s),
				    reply, sizeof(reply))) < 0 ||
	    (ret = sg_parse_version(c->addr, reply, &c->info)) < 0) {
		sg_clamd_free(c);
		return ret;
	}
	*out = c;
	return SG_OK;
}

void sg_clamd_free(sg_clamd *c)
{
	if (!c)
		return;
	free(c->addr);
	free(c);
}

static void sg_clamd_summary(const sg_clamd *c, sg_scan_result *r, const char *verdict)
{
	snprintf(r->engine, sizeof(r->engine), "clamd");
	snprintf(r->engine_version, sizeof(r->engine_version), "%s", c->info.version);
	if (c->info.db_version[0])
		snprintf(r->db_version, sizeof(r->db_version), "%s%s%s%s", c->info.db_version,
			 c->info.db_date[0] ? " (" : "", c->info.db_date, c->info.db_date[0] ? ")" : "");
	else
		snprintf(r->db_version, sizeof(r->db_version), "unversioned");
	snprintf(r->summary, sizeof(r->summary), "clamd %s, database %s, %s, %s", r->engine_version,
		 r->db_version, c->addr, verdict);
}

static int sg_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* clamd's INSTREAM answer -> our verdict; `complete`: the whole file was sent. */
static int sg_clamd_verdict(const sg_clamd *c, const char *reply, int complete,
			    const char *name, const struct stat *st, sg_scan_result *r)
{
	const char *a = !strncmp(reply, "stream: ", 8) ? reply + 8 : reply;
	char verdict[300];
	size_t n;

	if (strstr(a, "size limit exceeded")) {
		sg_clamd_summary(c, r, "not scanned (over clamd's StreamMaxLength)");
		return sg_error_set(SG_ESCAN, "%s (%lld bytes) is over the StreamMaxLength of clamd at %s "
				    "(clamd: %s); it is not signed: raise StreamMaxLength (and MaxFileSize, "
				    "MaxScanSize) in clamd.conf", name, (long long)st->st_size, c->addr, a);
	}
	if (sg_ends_with(a, " FOUND") && (n = strlen(a) - 6) > 0) {
		snprintf(r->virus, sizeof(r->virus), "%.*s", (int)n, a);
		if (!strncmp(r->virus, SG_LIMITS_PREFIX, strlen(SG_LIMITS_PREFIX))) {
			sg_clamd_summary(c, r, "not scanned completely (over a scan limit)");
			return sg_error_set(SG_ESCAN, "%s could not be scanned completely by clamd at %s (%s): "
					    "it is too large to scan or nests too deeply, so it is not signed",
					    name, c->addr, r->virus);
		}
		r->scanned = 1;
		snprintf(verdict, sizeof(verdict), "infected: %.180s", r->virus);
		sg_clamd_summary(c, r, verdict);
		return sg_error_set(SG_ESCAN, "%s is infected: %s (clamd at %s); nothing was signed",
				    name, r->virus, c->addr);
	}
	if (!strcmp(a, "OK") && complete) {
		r->clean = 1;
		sg_clamd_summary(c, r, "clean");
		return SG_OK;
	}
	sg_clamd_summary(c, r, "scan failed");
	if (sg_ends_with(a, " ERROR"))
		return sg_error_set(SG_ESCAN, "clamd at %s could not scan %s: %s; it is not signed",
				    c->addr, name, a);
	return sg_error_set(SG_ESCAN, "clamd at %s answered '%.100s'%s: not a verdict; %s is not signed",
			    c->addr, a, complete ? "" : " before the whole file was sent", name);
}

/* The read loop: each chunk is hashed and sent as [be32 length][bytes].
 * *complete = 1 when the whole file and the end mark were sent; 0 when
 * clamd answered early (the caller reads why). */
static int sg_clamd_stream(const sg_clamd *c, int sock, int fd, const char *name,
			   long long deadline, EVP_MD_CTX *md, unsigned long long *total,
			   int *complete)
{
	unsigned char *buf = malloc(4 + SG_CLAMD_CHUNK);
	ssize_t n;
	int s, ret = SG_ESCAN;

	*complete = 0;
	if (!buf)
		return sg_error_set(SG_ERROR, "out of memory");
	for (;;) {
		n = pread(fd, buf + 4, SG_CLAMD_CHUNK, (off_t)*total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = sg_error_set(SG_ERROR, "cannot read %s: %s", name, strerror(errno));
			goto done;
		}
		if (n > 0 && EVP_DigestUpdate(md, buf + 4, (size_t)n) != 1) {
			ret = sg_error_set_openssl(SG_ERROR, "cannot hash %s", name);
			goto done;
		}
		buf[0] = (unsigned char)((uint32_t)n >> 24);
		buf[1] = (unsigned char)((uint32_t)n >> 16);
		buf[2] = (unsigned char)((uint32_t)n >> 8);
		buf[3] = (unsigned char)n;
		s = sg_send_all(sock, buf, 4 + (size_t)n, deadline);
		if (s == 1 || s == -EPIPE || s == -ECONNRESET)
			break; /* clamd stopped listening: its answer says why */
		if (s < 0) {
			ret = sg_error_set(SG_ESCAN, "cannot send %s to clamd at %s: %s; nothing was signed%s",
					   name, c->addr, strerror(-s),
					   s == -ETIMEDOUT ? " (scan.clamdTimeout)" : "");
			goto done;
		}
		if (n == 0) {
			*complete = 1;
			break;
		}
		*total += (unsigned long long)n;
	}
	ret = SG_OK;
done:
	free(buf);
	return ret;
}

int sg_clamd_scan_fd(sg_clamd *c, int fd, const struct stat *st, const char *name,
		     sg_scan_result *out)
{
	long long deadline = sg_now_ms() + c->timeout_ms;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char digest[32];
	unsigned int mdlen = 0;
	unsigned long long total = 0;
	char reply[SG_CLAMD_REPLY_MAX];
	int sock = -1, complete = 0, ret = SG_ESCAN, s;
	sg_scan_result r;

	memset(&r, 0, sizeof(r));
	r.size = (uint64_t)st->st_size;
	if (c->max_size && (unsigned long long)st->st_size > c->max_size) {
		sg_clamd_summary(c, &r, "not scanned (over scan.maxFileSize)");
		*out = r;
		ret = sg_error_set(SG_ESCAN, "%s is %lld bytes, over scan.maxFileSize (%llu bytes): it is "
				   "too large to scan, so it is not signed", name, (long long)st->st_size,
				   c->max_size);
		goto done;
	}
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot hash %s", name);
		goto done;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if ((ret = sg_clamd_connect(c->addr, deadline, &sock)) < 0)
		goto done;
	s = sg_send_all(sock, (const unsigned char *)"zINSTREAM", 10, deadline);
	if (s < 0) {
		ret = sg_error_set(SG_ESCAN, "cannot send INSTREAM to clamd at %s: %s; nothing was signed",
				   c->addr, strerror(-s));
		goto done;
	}
	if (s == 0 && (ret = sg_clamd_stream(c, sock, fd, name, deadline, md, &total, &complete)) < 0)
		goto done;
	if ((ret = sg_read_reply(sock, c->addr, deadline, reply, sizeof(reply))) < 0)
		goto done;
	if (complete) {
		if (EVP_DigestFinal_ex(md, digest, &mdlen) != 1 || mdlen != 32) {
			ret = sg_error_set_openssl(SG_ERROR, "cannot hash %s", name);
			goto done;
		}
		sg_scan__digest(&r, digest);
	}
	if ((ret = sg_clamd_verdict(c, reply, complete, name, st, &r)) < 0) {
		*out = r; /* clean = 0: virus name and summary for the audit log */
		goto done;
	}
	if ((ret = sg_scan__unchanged(fd, st, total, name, "being scanned and hashed")) < 0)
		goto done;
	r.scanned = 1;
	*out = r;
	ret = SG_OK;
done:
	if (sock >= 0)
		close(sock);
	EVP_MD_CTX_free(md);
	return ret;
}
