/* scanbench MODE DBDIR FILE: time one scan and/or hash of FILE.
 *
 *   scan-only   libclamav alone over an mmap of FILE, with the same engine
 *               settings (limits, no clean-file cache) and scan options as
 *               src/scan (the baseline)
 *   scan+hash   sg_scan_fd: the same scan with SHA-256 in a second thread
 *   hash-only   sg_hash_fd (DBDIR ignored)
 *   check       sg_scan_fd, then print the verdict, message and summary
 *
 * Prints one line: "MODE seconds=S cpu=C load=L maxrss_kib=K result=..."
 * (engine loading is timed separately from the scan; C is user + system
 * seconds of both threads, the figure that a loaded machine cannot hide). Exit 0 when the scan
 * answered (clean or not), 1 on a tool error. */
#include <clamav.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file.h"
#include "scan/scan.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_after_load;

/* user + system seconds of the whole process (both threads) */
static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long maxrss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void silent(enum cl_msg s, const char *f, const char *m, void *c)
{
	(void)s; (void)f; (void)m; (void)c;
}

/* The baseline: what src/scan does minus the digest. */
static int scan_only(const char *db, int fd, const struct stat *st, const char *path, double *load)
{
	struct cl_engine *e;
	struct cl_scan_options o;
	unsigned int sigs = 0;
	const char *vn = NULL;
	unsigned long scanned = 0;
	cl_fmap_t *m;
	void *p;
	double t0 = now(), t1;
	int rc;

	cl_set_clcb_msg(silent);
	if (cl_init(CL_INIT_DEFAULT) != CL_SUCCESS || !(e = cl_engine_new()) ||
	    cl_load(db, e, &sigs, CL_DB_STDOPT) != CL_SUCCESS ||
	    cl_engine_set_num(e, CL_ENGINE_MAX_FILESIZE, 2147483647LL) != CL_SUCCESS ||
	    cl_engine_set_num(e, CL_ENGINE_MAX_SCANSIZE, 2147483647LL) != CL_SUCCESS ||
	    cl_engine_set_num(e, CL_ENGINE_MAX_SCANTIME, 600000LL) != CL_SUCCESS ||
	    cl_engine_set_num(e, CL_ENGINE_DISABLE_CACHE, 1) != CL_SUCCESS ||
	    cl_engine_compile(e) != CL_SUCCESS) {
		fprintf(stderr, "scanbench: cannot load %s\n", db);
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.general = CL_SCAN_GENERAL_HEURISTICS;
	o.parse = CL_SCAN_PARSE_ARCHIVE | CL_SCAN_PARSE_ELF | CL_SCAN_PARSE_PDF |
		  CL_SCAN_PARSE_SWF | CL_SCAN_PARSE_HWP3 | CL_SCAN_PARSE_XMLDOCS |
		  CL_SCAN_PARSE_MAIL | CL_SCAN_PARSE_OLE2 | CL_SCAN_PARSE_HTML |
		  CL_SCAN_PARSE_PE | CL_SCAN_PARSE_ONENOTE | CL_SCAN_PARSE_IMAGE |
		  CL_SCAN_PARSE_IMAGE_FUZZY_HASH;
	o.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	t1 = now();
	*load = t1 - t0;
	cpu_after_load = cpu_seconds();
	p = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	madvise(p, (size_t)st->st_size, MADV_SEQUENTIAL);
	m = cl_fmap_open_memory(p, (size_t)st->st_size);
	rc = cl_scanmap_callback(m, path, &vn, &scanned, e, &o, NULL);
	cl_fmap_close(m);
	munmap(p, (size_t)st->st_size);
	cl_engine_free(e);
	return rc == CL_CLEAN ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *mode, *db, *path;
	sg_scan_opts o = { .database = NULL, .required = 1 };
	sg_scanner *s = NULL;
	sg_scan_result r;
	struct stat st;
	double t0, t1, load = 0;
	int fd, ret;

	if (argc != 4) {
		fprintf(stderr, "usage: scanbench scan-only|scan+hash|hash-only|check DBDIR FILE\n");
		return 2;
	}
	mode = argv[1];
	db = argv[2];
	path = argv[3];
	o.database = db;
	if (sg_file_open_regular(&fd, &st, path) < 0) {
		fprintf(stderr, "scanbench: %s\n", sg_error_last());
		return 1;
	}
	if (!strcmp(mode, "scan-only")) {
		t0 = now();
		ret = scan_only(db, fd, &st, path, &load);
		t1 = now();
		if (ret < 0)
			return 1;
		printf("%s seconds=%.3f cpu=%.3f load=%.3f maxrss_kib=%ld result=%s\n", mode,
		       t1 - t0 - load, cpu_seconds() - cpu_after_load, load, maxrss_kib(),
		       ret == 0 ? "clean" : "detected");
		return 0;
	}
	if (!strcmp(mode, "hash-only")) {
		cpu_after_load = cpu_seconds();
		t0 = now();
		ret = sg_hash_fd(fd, &st, path, &r);
		t1 = now();
	} else if (!strcmp(mode, "scan+hash") || !strcmp(mode, "check")) {
		t0 = now();
		if (sg_scanner_open(&s, &o) < 0) {
			fprintf(stderr, "scanbench: %s\n", sg_error_last());
			return 1;
		}
		t1 = now();
		load = t1 - t0;
		cpu_after_load = cpu_seconds();
		ret = sg_scan_fd(s, fd, &st, path, &r);
		t1 = now();
		t0 += load;
	} else {
		fprintf(stderr, "scanbench: unknown mode %s\n", mode);
		return 2;
	}
	printf("%s seconds=%.3f cpu=%.3f load=%.3f maxrss_kib=%ld result=%s", mode, t1 - t0,
	       cpu_seconds() - cpu_after_load, load, maxrss_kib(), ret == 0 ? "clean" : "refused");
	if (!strcmp(mode, "check")) {
		printf(" code=%d\nmessage: %s\nsummary: %s\nsha256: %s\nvirus: %s", ret,
		       ret ? sg_error_last() : "", r.summary, r.sha256_hex, r.virus);
	} else if (ret == 0) {
		printf(" sha256=%s", r.sha256_hex);
	}
	printf("\n");
	sg_scanner_free(s);
	close(fd);
	return ret == 0 || ret == SG_ESCAN ? 0 : 1;
}
