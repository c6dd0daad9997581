/* libclamav scan and SHA-256 over one mapping of the same open file.
 *
 * The file is mapped once (PROT_READ, MAP_PRIVATE). libclamav scans the
 * mapping through cl_fmap_open_memory while a second thread hashes the same
 * pages, so the digest costs (almost) no wall time. At the end the file's
 * identity (dev, inode, size, mtime, ctime) must match the stat taken at
 * open: a file written meanwhile is refused, so the digest that gets signed
 * is the digest of the bytes that were scanned.
 *
 * Fail closed: a file is "clean" only after libclamav returned CL_CLEAN for
 * the whole file. Files over the engine's limits are refused before the scan
 * (libclamav cannot scan beyond ~2 GiB) and, as a second line,
 * CL_SCAN_HEURISTIC_EXCEEDS_MAX turns any limit hit inside the scan
 * (archive members, recursion, scan time) into a detection.
 *
 * The engine is shared read-only after cl_engine_compile; sg_scan_fd may be
 * called from several threads with the same scanner. */
#include "scan/scan_int.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"
#include "scan/clamlib.h"

#include <clamav.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* libclamav refuses to scan past INT32_MAX and clamps max-filesize to
 * 2147483645 (measured, 1.4.6); we ask for this and read back what it took. */
#define SG_SCAN_ENGINE_MAX   2147483647LL
#define SG_SCAN_MAX_TIME_MS  (10LL * 60 * 1000)
#define SG_HASH_CHUNK        (1u << 20)   /* EVP_DigestUpdate step over the mapping */
#define SG_READ_CHUNK        (128u << 10) /* read buffer: stays in L2, faster than 1 MiB */
#define SG_THREAD_MIN        (1u << 20)   /* smaller files are hashed inline */
#define SG_REAP_MIN          (32u << 20)  /* mappings this large get their pages dropped */
#define SG_REAP_MS           20L
#define SG_REAP_SLACK        (16ull << 20) /* resident growth that triggers a drop */
#define SG_LIMITS_PREFIX     "Heuristics.Limits.Exceeded"

struct sg_scanner {
	sg_clamd *clamd;                /* engine = clamd: the daemon does the scanning */
	struct cl_engine *engine;       /* NULL (and no clamd): scanning disabled by policy */
	unsigned int signatures;
	unsigned long long max_size;    /* largest file we accept to scan */
	char *database;
};

/* ---- libclamav global state ---- */

static pthread_once_t sg_clamav_once = PTHREAD_ONCE_INIT;
static cl_error_t sg_clamav_init_rc = CL_ERROR;
static const sg_clamlib *cl;                /* set once by sg_clamav_init */
static char sg_clamav_load_msg[512];
static _Thread_local char sg_clamav_msg[512];

/* libclamav logs to stderr by default; only cli/ prints, so keep the last
 * warning/error to quote it in our own message. */
static void sg_clamav_log(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
	size_t n;
	(void)fullmsg;
	(void)ctx;
	if (severity < CL_MSG_WARN || !msg)
		return;
	snprintf(sg_clamav_msg, sizeof(sg_clamav_msg), "%s", msg);
	n = strlen(sg_clamav_msg);
	while (n > 0 && (sg_clamav_msg[n - 1] == '\n' || sg_clamav_msg[n - 1] == ' '))
		sg_clamav_msg[--n] = '\0';
}

static void sg_clamav_init(void)
{
	if (!(cl = sg_clamlib_load(sg_clamav_load_msg, sizeof(sg_clamav_load_msg))))
		return;
	cl->set_clcb_msg(sg_clamav_log);
	sg_clamav_init_rc = cl->init(CL_INIT_DEFAULT);
}

typedef struct sg_scan_ctx {
	char virus[256];
} sg_scan_ctx;

static void sg_clamav_found(int fd, const char *virname, void *context)
{
	sg_scan_ctx *ctx = context;
	(void)fd;
	if (ctx && virname && !ctx->virus[0])
		snprintf(ctx->virus, sizeof(ctx->virus), "%s", virname);
}

/* ---- scanner ---- */

/* 1 when `db` is missing, or a folder without any (non-hidden) entry, or
 * an empty file (cl_load also takes a single database file). */
static int sg_db_missing_or_empty(const char *db)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	int empty = 1;

	if (!db || !*db || stat(db, &st) < 0)
		return 1;
	if (S_ISREG(st.st_mode))
		return st.st_size == 0;
	if (!(d = opendir(db)))
		return 1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

static int sg_scanner_disabled(sg_scanner **out, const sg_scan_opts *opts)
{
	sg_scanner *s = calloc(1, sizeof(*s));

	if (!s || (opts->database && !(s->database = strdup(opts->database)))) {
		free(s);
		return sg_error_set(SG_ERROR, "out of memory");
	}
	s->max_size = opts->max_file_size;
	*out = s;
	return SG_OK;
}

static int sg_engine_limits(sg_scanner *s, const sg_scan_opts *opts)
{
	long long fs, ss;
	int err1 = 0, err2 = 0;

	/* No clean-file cache: it keys every file by an MD5 of its whole content,
	 * a second pass over the file (~0.5 s of CPU per GiB, more than our
	 * SHA-256), and a signing process scans each artifact once. */
	if (cl->engine_set_num(s->engine, CL_ENGINE_DISABLE_CACHE, 1) != CL_SUCCESS ||
	    cl->engine_set_num(s->engine, CL_ENGINE_MAX_FILESIZE, SG_SCAN_ENGINE_MAX) != CL_SUCCESS ||
	    cl->engine_set_num(s->engine, CL_ENGINE_MAX_SCANSIZE, SG_SCAN_ENGINE_MAX) != CL_SUCCESS ||
	    cl->engine_set_num(s->engine, CL_ENGINE_MAX_SCANTIME, SG_SCAN_MAX_TIME_MS) != CL_SUCCESS)
		return sg_error_set(SG_ESCAN, "cannot set the ClamAV scan limits");
	fs = cl->engine_get_num(s->engine, CL_ENGINE_MAX_FILESIZE, &err1);
	ss = cl->engine_get_num(s->engine, CL_ENGINE_MAX_SCANSIZE, &err2);
	if (err1 != CL_SUCCESS || err2 != CL_SUCCESS || fs <= 0 || ss <= 0)
		return sg_error_set(SG_ESCAN, "cannot read back the ClamAV scan limits");
	s->max_size = (unsigned long long)(fs < ss ? fs : ss);
	if (opts->max_file_size && opts->max_file_size < s->max_size)
		s->max_size = opts->max_file_size;
	return SG_OK;
}

/* No usable database: scanning disabled when the policy allows it. */
static int sg_scanner_no_db(sg_scanner **out, const sg_scan_opts *opts, const char *db,
			    const char *detail)
{
	if (!opts->required)
		return sg_scanner_disabled(out, opts);
	return sg_error_set(SG_ESCAN, "scan database %s is empty or missing%s%s%s; "
			    "run freshclam or set scan.database", db,
			    detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
}

static int sg_scanner_open_clamd(sg_scanner **out, const sg_scan_opts *opts)
{
	sg_scanner *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return sg_error_set(SG_ERROR, "out of memory");
	if ((ret = sg_clamd_open(&s->clamd, opts)) < 0) {
		free(s);
		return ret;
	}
	*out = s;
	return SG_OK;
}

int sg_scanner_open(sg_scanner **out, const sg_scan_opts *opts)
{
	int ret = SG_ESCAN;
	sg_scanner *s = NULL;
	cl_error_t rc;
	const char *db = opts->database ? opts->database : "(scan.database not set)";

	if (opts->engine && !strcmp(opts->engine, "clamd"))
		return sg_scanner_open_clamd(out, opts);
	if (opts->engine && strcmp(opts->engine, "clamav") != 0)
		return sg_error_set(SG_ESCAN, "unknown scan engine '%s'", opts->engine);
	if (sg_db_missing_or_empty(opts->database))
		return sg_scanner_no_db(out, opts, db, NULL);
	pthread_once(&sg_clamav_once, sg_clamav_init);
	if (!cl)
		return sg_error_set(SG_ESCAN, "%s", sg_clamav_load_msg);
	if (sg_clamav_init_rc != CL_SUCCESS)
		return sg_error_set(SG_ESCAN, "cannot initialise libclamav: %s",
				    cl->strerror(sg_clamav_init_rc));
	if (!(s = calloc(1, sizeof(*s))) || !(s->database = strdup(opts->database))) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if (!(s->engine = cl->engine_new())) {
		ret = sg_error_set(SG_ESCAN, "cannot create a ClamAV engine (out of memory?)");
		goto done;
	}
	cl->engine_set_clcb_virus_found(s->engine, sg_clamav_found);
	sg_clamav_msg[0] = '\0';
	rc = cl->load(opts->database, s->engine, &s->signatures, CL_DB_STDOPT);
	if ((rc == CL_EOPEN || rc == CL_SUCCESS) && s->signatures == 0) {
		/* only files libclamav does not know (e.g. freshclam.dat), or
		 * databases without a single signature */
		ret = sg_scanner_no_db(out, opts, db, "no signatures found");
		goto done;
	}
	if (rc != CL_SUCCESS) {
		/* a database that exists but is broken: an error even when the scan
		 * is optional, a broken setup must not silently skip the scan */
		ret = sg_error_set(SG_ESCAN, "cannot load scan database %s: %s%s%s; "
				   "run freshclam or fix scan.database", db, cl->strerror(rc),
				   sg_clamav_msg[0] ? ": " : "", sg_clamav_msg);
		goto done;
	}
	if ((ret = sg_engine_limits(s, opts)) < 0)
		goto done;
	ret = SG_ESCAN;
	if ((rc = cl->engine_compile(s->engine)) != CL_SUCCESS) {
		ret = sg_error_set(SG_ESCAN, "cannot compile scan database %s: %s%s%s", db,
				   cl->strerror(rc), sg_clamav_msg[0] ? ": " : "", sg_clamav_msg);
		goto done;
	}
	*out = s;
	s = NULL;
	ret = SG_OK;
done:
	sg_scanner_free(s);
	return ret;
}

/* ---- the process's scanner ---- */

static struct {
	sg_scanner *s;
	sg_scan_opts opts;              /* the strings below are owned copies */
	char *engine, *database, *clamd;
} sg_kept;

static int sg_str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int sg_opts_same(const sg_scan_opts *a, const sg_scan_opts *b)
{
	return a->required == b->required && a->max_file_size == b->max_file_size &&
	       a->timeout_s == b->timeout_s && sg_str_same(a->engine, b->engine) &&
	       sg_str_same(a->database, b->database) && sg_str_same(a->clamd, b->clamd);
}

static char *sg_dup_or_null(const char *v, int *oom)
{
	char *d = v ? strdup(v) : NULL;

	if (v && !d)
		*oom = 1;
	return d;
}

int sg_scanner_get(sg_scanner **out, const sg_scan_opts *opts)
{
	sg_scanner *s = NULL;
	int ret, oom = 0;

	if (sg_kept.s && sg_opts_same(&sg_kept.opts, opts)) {
		*out = sg_kept.s;
		return SG_OK;
	}
	if ((ret = sg_scanner_open(&s, opts)) < 0)
		return ret;
	sg_scanner_free(sg_kept.s);
	free(sg_kept.engine);
	free(sg_kept.database);
	free(sg_kept.clamd);
	memset(&sg_kept, 0, sizeof(sg_kept));
	sg_kept.opts = *opts;
	sg_kept.opts.engine = sg_kept.engine = sg_dup_or_null(opts->engine, &oom);
	sg_kept.opts.database = sg_kept.database = sg_dup_or_null(opts->database, &oom);
	sg_kept.opts.clamd = sg_kept.clamd = sg_dup_or_null(opts->clamd, &oom);
	sg_kept.s = s;
	if (oom)
		sg_kept.opts.required = -1; /* never matches again: reloaded next time */
	*out = s;
	return SG_OK;
}

void sg_scanner_free(sg_scanner *s)
{
	if (!s)
		return;
	if (s->engine)
		cl->engine_free(s->engine);
	sg_clamd_free(s->clamd);
	free(s->database);
	free(s);
}

/* ---- hashing ---- */

/* the resident set in bytes (/proc/self/statm), 0 when unknown */
static unsigned long long sg_rss_bytes(void)
{
	char buf[128];
	unsigned long long size = 0, rss = 0;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &rss) != 2)
		return 0;
	return rss * (unsigned long long)sysconf(_SC_PAGESIZE);
}

/* Drop the whole mapping when the resident set grew SG_REAP_SLACK past
 * `base` (or when it cannot be read). */
static void sg_reap(const unsigned char *p, size_t len, unsigned long long base)
{
	unsigned long long rss = sg_rss_bytes();

	if (rss == 0 || base == 0 || rss > base + SG_REAP_SLACK)
		madvise((void *)p, len, MADV_DONTNEED);
}

/* SHA-256 of a mapping; with `base` (the resident set before), every 4
 * chunks the pages the hash has just read are dropped behind it, and the
 * whole mapping too when the scan meanwhile mapped SG_REAP_SLACK more. */
static int sg_sha256_mem(const unsigned char *p, size_t len, unsigned long long base,
			 unsigned char md[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	const unsigned char *start = p, *behind = p;
	size_t total = len, n, i = 0;
	unsigned int mdlen = 0;
	int ok = 0;

	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		goto done;
	while (len > 0) {
		n = len < SG_HASH_CHUNK ? len : SG_HASH_CHUNK;
		if (EVP_DigestUpdate(c, p, n) != 1)
			goto done;
		p += n;
		len -= n;
		if (base && ++i % 4 == 0) {
			madvise((void *)behind, (size_t)(p - behind), MADV_DONTNEED);
			behind = p;
			sg_reap(start, total, base);
		}
	}
	ok = EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 32;
done:
	EVP_MD_CTX_free(c);
	return ok;
}

/* The hash thread. Beside the digest it keeps the process's resident set
 * small on big files: pages of a read-only MAP_PRIVATE file mapping can be
 * dropped with MADV_DONTNEED at any time (a later access faults the same
 * bytes back in from the page cache). After hashing it looks at the
 * resident set every SG_REAP_MS and drops the whole mapping only when the
 * scan has mapped SG_REAP_SLACK more: a drop makes the scanner fault its
 * current window in again and sends an IPI to its core, so dropping on a
 * clock (50 times a second, whatever the scan's progress) cost ~2% of the
 * scan's CPU on a loaded machine. Without any of this a 1 GiB artifact
 * would show as 1 GiB of RSS. */
typedef struct sg_hash_job {
	const unsigned char *ptr;
	size_t len;
	unsigned char md[32];
	int ok;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int scan_done;
} sg_hash_job;

/* Runs in its own thread: no sg_error_set here (the message is per thread). */
static void *sg_hash_main(void *arg)
{
	sg_hash_job *job = arg;
	struct timespec ts;
	unsigned long long base = 0;

	if (job->len >= SG_REAP_MIN && (base = sg_rss_bytes()) == 0)
		base = 1; /* unknown: sg_reap drops every time */
	job->ok = sg_sha256_mem(job->ptr, job->len, base, job->md);
	if (job->len < SG_REAP_MIN)
		return NULL;
	pthread_mutex_lock(&job->mu);
	while (!job->scan_done) {
		pthread_mutex_unlock(&job->mu);
		sg_reap(job->ptr, job->len, base);
		pthread_mutex_lock(&job->mu);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += SG_REAP_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!job->scan_done)
			pthread_cond_timedwait(&job->cv, &job->mu, &ts);
	}
	pthread_mutex_unlock(&job->mu);
	return NULL;
}

static int sg_hash_job_init(sg_hash_job *job, const unsigned char *p, size_t len)
{
	pthread_condattr_t ca;
	int ok;

	memset(job, 0, sizeof(*job));
	job->ptr = p;
	job->len = len;
	if (pthread_condattr_init(&ca) != 0)
		return 0;
	ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	     pthread_cond_init(&job->cv, &ca) == 0;
	pthread_condattr_destroy(&ca);
	if (ok && pthread_mutex_init(&job->mu, NULL) != 0) {
		pthread_cond_destroy(&job->cv);
		ok = 0;
	}
	return ok;
}

static void sg_hash_job_scan_done(sg_hash_job *job)
{
	pthread_mutex_lock(&job->mu);
	job->scan_done = 1;
	pthread_cond_signal(&job->cv);
	pthread_mutex_unlock(&job->mu);
}

static void sg_hash_job_destroy(sg_hash_job *job)
{
	pthread_cond_destroy(&job->cv);
	pthread_mutex_destroy(&job->mu);
}

/* The file read, scanned and hashed is still the one opened: same identity,
 * size and times, and `total` bytes were read; SG_ERROR naming `doing`. */
int sg_scan__unchanged(int fd, const struct stat *st, unsigned long long total, const char *name,
		       const char *doing)
{
	struct stat now;

	if (fstat(fd, &now) < 0)
		return sg_error_set(SG_ERROR, "cannot stat %s: %s", name, strerror(errno));
	if (total != (unsigned long long)st->st_size || !sg_file_stat_same(&now, st))
		return sg_error_set(SG_ERROR, "%s changed while it was %s; nothing was signed: "
				    "make sure no build step writes it, then run again", name, doing);
	return SG_OK;
}

void sg_scan__digest(sg_scan_result *r, const unsigned char md[32])
{
	memcpy(r->sha256, md, 32);
	sg_hex(r->sha256_hex, md, 32);
}

static const char *sg_name(const char *name)
{
	return name ? name : "(unnamed file)";
}

int sg_hash_fd(int fd, const struct stat *st, const char *name, sg_scan_result *out)
{
	int ret = SG_ERROR;
	EVP_MD_CTX *c = NULL;
	unsigned char *buf = NULL, md[32];
	unsigned int mdlen = 0;
	unsigned long long total = 0;
	ssize_t n;
	sg_scan_result r;

	name = sg_name(name);
	memset(&r, 0, sizeof(r));
	if (!(buf = malloc(SG_READ_CHUNK)) || !(c = EVP_MD_CTX_new())) {
		ret = sg_error_set(SG_ERROR, "out of memory");
		goto done;
	}
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot hash %s", name);
		goto done;
	}
	for (;;) {
		n = pread(fd, buf, SG_READ_CHUNK, (off_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = sg_error_set(SG_ERROR, "cannot read %s: %s", name, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(c, buf, (size_t)n) != 1) {
			ret = sg_error_set_openssl(SG_ERROR, "cannot hash %s", name);
			goto done;
		}
		total += (unsigned long long)n;
	}
	if (EVP_DigestFinal_ex(c, md, &mdlen) != 1 || mdlen != 32) {
		ret = sg_error_set_openssl(SG_ERROR, "cannot hash %s", name);
		goto done;
	}
	if ((ret = sg_scan__unchanged(fd, st, total, name, "being hashed")) < 0)
		goto done;
	r.size = total;
	sg_scan__digest(&r, md);
	snprintf(r.summary, sizeof(r.summary), "not scanned");
	*out = r;
	ret = SG_OK;
done:
	EVP_MD_CTX_free(c);
	free(buf);
	return ret;
}

/* ---- scan + hash ---- */

static void sg_summary(const sg_scanner *s, sg_scan_result *r, const char *verdict)
{
	int err = 0;
	long long dbv = cl->engine_get_num(s->engine, CL_ENGINE_DB_VERSION, &err);
	long long dbt = cl->engine_get_num(s->engine, CL_ENGINE_DB_TIME, &err);
	time_t t = (time_t)dbt;
	char when[64] = "";

	snprintf(r->engine, sizeof(r->engine), "clamav");
	snprintf(r->engine_version, sizeof(r->engine_version), "%s", cl->retver());
	if (dbv > 0 && dbt > 0 && ctime_r(&t, when))
		when[strcspn(when, "\n")] = '\0';
	if (dbv > 0)
		snprintf(r->db_version, sizeof(r->db_version), "%lld%s%s%s", dbv, when[0] ? " (" : "",
			 when, when[0] ? ")" : "");
	else
		snprintf(r->db_version, sizeof(r->db_version), "unversioned");
	snprintf(r->summary, sizeof(r->summary), "clamav %s, %u signature%s, %s",
		 cl->retver(), s->signatures, s->signatures == 1 ? "" : "s", verdict);
}

static void sg_scan_options(struct cl_scan_options *o)
{
	memset(o, 0, sizeof(*o));
	/* first match ends the scan (no ALLMATCHES); heuristic detections on */
	o->general = CL_SCAN_GENERAL_HEURISTICS;
	o->parse = CL_SCAN_PARSE_ARCHIVE | CL_SCAN_PARSE_ELF | CL_SCAN_PARSE_PDF |
		   CL_SCAN_PARSE_SWF | CL_SCAN_PARSE_HWP3 | CL_SCAN_PARSE_XMLDOCS |
		   CL_SCAN_PARSE_MAIL | CL_SCAN_PARSE_OLE2 | CL_SCAN_PARSE_HTML |
		   CL_SCAN_PARSE_PE | CL_SCAN_PARSE_ONENOTE | CL_SCAN_PARSE_IMAGE |
		   CL_SCAN_PARSE_IMAGE_FUZZY_HASH;
	/* a limit hit (size, recursion, file count, time) is a detection,
	 * never a silent "clean" */
	o->heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
}

/* Turn libclamav's answer into ours; fills r->virus and r->summary. */
static int sg_scan_verdict(const sg_scanner *s, cl_error_t rc, const char *virname,
			   const char *name, sg_scan_result *r)
{
	switch (rc) {
	case CL_CLEAN:
		r->clean = 1;
		sg_summary(s, r, "clean");
		return SG_OK;
	case CL_VIRUS:
		snprintf(r->virus, sizeof(r->virus), "%s", virname && *virname ? virname : "unnamed detection");
		if (!strncmp(r->virus, SG_LIMITS_PREFIX, strlen(SG_LIMITS_PREFIX))) {
			sg_summary(s, r, "not scanned completely (over a scan limit)");
			return sg_error_set(SG_ESCAN, "%s could not be scanned completely (%s): "
					    "it is too large to scan or nests too deeply, so it is not signed",
					    name, r->virus);
		}
		r->scanned = 1;
		{
			char verdict[200];
			snprintf(verdict, sizeof(verdict), "infected: %.180s", r->virus);
			sg_summary(s, r, verdict);
		}
		return sg_error_set(SG_ESCAN, "%s is infected: %s; nothing was signed", name, r->virus);
	default:
		sg_summary(s, r, "scan failed");
		return sg_error_set(SG_ESCAN, "%s could not be scanned: %s%s%s; it is not signed",
				    name, cl->strerror(rc), sg_clamav_msg[0] ? ": " : "", sg_clamav_msg);
	}
}

int sg_scan_fd(sg_scanner *s, int fd, const struct stat *st, const char *name,
	       sg_scan_result *out)
{
	int ret = SG_ESCAN, hashing = 0, job_ready = 0;
	unsigned char *map = NULL;
	size_t len = 0;
	cl_fmap_t *fmap = NULL;
	pthread_t th;
	sg_hash_job job;
	sg_scan_ctx ctx;
	struct cl_scan_options o;
	const char *virname = NULL;
	unsigned long scanned = 0;
	cl_error_t rc = CL_CLEAN;
	sg_scan_result r;

	name = sg_name(name);
	if (s->clamd)
		return sg_clamd_scan_fd(s->clamd, fd, st, name, out);
	memset(&r, 0, sizeof(r));
	memset(&ctx, 0, sizeof(ctx));
	if (!s->engine) {
		if ((ret = sg_hash_fd(fd, st, name, &r)) < 0)
			return ret;
		snprintf(r.summary, sizeof(r.summary), "skipped by policy (scan.required = false)");
		*out = r;
		return SG_OK;
	}
	if (st->st_size < 0 || (unsigned long long)st->st_size > s->max_size) {
		r.size = (uint64_t)st->st_size;
		sg_summary(s, &r, "not scanned (too large to scan)");
		*out = r;
		return sg_error_set(SG_ESCAN, "%s is %lld bytes, over the scan limit of %llu bytes: "
				    "it is too large to scan, so it is not signed",
				    name, (long long)st->st_size, s->max_size);
	}
	len = (size_t)st->st_size;
	r.size = len;
	if (len > 0) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			map = NULL;
			ret = sg_error_set(SG_ERROR, "cannot map %s: %s", name, strerror(errno));
			goto done;
		}
		madvise(map, len, MADV_SEQUENTIAL);
	}
	if (!(job_ready = sg_hash_job_init(&job, map, len))) {
		ret = sg_error_set(SG_ERROR, "cannot set up hashing of %s", name);
		goto done;
	}
	/* Hash in a second thread while libclamav scans; small files inline. */
	hashing = len >= SG_THREAD_MIN && pthread_create(&th, NULL, sg_hash_main, &job) == 0;
	if (len > 0) {
		if (!(fmap = cl->fmap_open_memory(map, len))) {
			ret = sg_error_set(SG_ERROR, "cannot prepare %s for scanning (out of memory?)", name);
			goto done;
		}
		sg_scan_options(&o);
		sg_clamav_msg[0] = '\0';
		rc = cl->scanmap_callback(fmap, name, &virname, &scanned, s->engine, &o, &ctx);
	}
	/* else: an empty file has no bytes that could match: clean, like clamscan */
	if (hashing) {
		sg_hash_job_scan_done(&job);
		pthread_join(th, NULL);
		hashing = 0;
	} else {
		job.ok = sg_sha256_mem(job.ptr, job.len, 0, job.md);
	}
	if (!job.ok) {
		ret = sg_error_set(SG_ERROR, "cannot compute the SHA-256 of %s", name);
		goto done;
	}
	sg_scan__digest(&r, job.md);
	if ((ret = sg_scan_verdict(s, rc, virname ? virname : ctx.virus, name, &r)) < 0) {
		*out = r; /* clean = 0: virus name and digest for the audit log */
		goto done;
	}
	if ((ret = sg_scan__unchanged(fd, st, len, name, "being scanned and hashed")) < 0)
		goto done;
	r.scanned = 1;
	*out = r;
	ret = SG_OK;
done:
	if (hashing) {
		sg_hash_job_scan_done(&job);
		pthread_join(th, NULL);
	}
	if (job_ready)
		sg_hash_job_destroy(&job);
	if (fmap)
		cl->fmap_close(fmap);
	if (map)
		munmap(map, len);
	return ret;
}
