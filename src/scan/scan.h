/* The virus scan and the digest, from one read of the same open file.
 * Two engines: libclamav in-process (loaded once per batch, only when a
 * file needs scanning) or a running clamd spoken to over its socket
 * (INSTREAM fed by the read loop that hashes). */
#ifndef SG_SCAN_SCAN_H
#define SG_SCAN_SCAN_H

#include <stdint.h>
#include <sys/stat.h>

typedef struct sg_scanner sg_scanner;

typedef struct sg_scan_opts {
	const char *database;          /* directory with .cvd/.cld/.hdb/... */
	int required;                  /* 0: missing database => scanning disabled, noted */
	unsigned long long max_file_size; /* files above this => SG_ESCAN (never "clean");
	                                     0 = only libclamav's own limit (2 GiB - 3) */
	const char *engine;            /* "clamav" (also when NULL) | "clamd" */
	const char *clamd;             /* engine = clamd: unix:PATH | tcp://HOST:PORT */
	int timeout_s;                 /* engine = clamd: one whole scan; 0 = 600 */
} sg_scan_opts;

typedef struct sg_scan_result {
	int scanned;                   /* 0 when the scan was skipped by policy */
	int clean;                     /* 1 only when scanned and clean; 0 otherwise */
	char virus[256];               /* signature name when infected */
	unsigned char sha256[32];
	char sha256_hex[65];
	uint64_t size;
	char summary[384];             /* for the note's Scan: line:
	                                  "clamav 1.4.6, 3 signatures, clean",
	                                  "clamd 1.4.6, database 27841 (Sun Nov 29 09:32:10 2026),
	                                   unix:/run/clamav/clamd.ctl, clean" or
	                                  "skipped by policy (scan.required = false)" */
	/* Who vouched (for the attestation); empty when not scanned. */
	char engine[16];               /* "clamav" | "clamd" */
	char engine_version[64];       /* libclamav's, or clamd's from VERSION: "1.4.6" */
	char db_version[128];          /* "27841 (Sun Nov 29 09:32:10 2026)"; "unversioned"
	                                  for a database without daily.cvd/cld */
} sg_scan_result;

/* Load the engine (SG_ESCAN with reason when the database is empty/missing
 * and required; SG_OK with scanning disabled when not required). */
int sg_scanner_open(sg_scanner **out, const sg_scan_opts *opts);
void sg_scanner_free(sg_scanner *s);

/* The process's scanner for `opts`: loaded at the first call (so a
 * command that signs nothing never loads it), the same one for later calls
 * with the same options, and kept until the process ends. Do not free it:
 * freeing a full-size ClamAV engine (6M signatures) costs seconds that the
 * kernel spends in milliseconds at exit; the memory stays reachable.
 * Not for concurrent first calls from several threads. */
int sg_scanner_get(sg_scanner **out, const sg_scan_opts *opts);

/* Scan and hash `fd` (opened by sg_file_open_regular, stat in *st) in one
 * read. SG_OK clean, SG_ESCAN malware/too large/unscannable (message names
 * file and signature), SG_ERROR on I/O, incl. the file changing meanwhile.
 * With scanning disabled by policy: SG_OK, scanned = 0, clean = 0.
 * On SG_ESCAN *out is filled too (clean = 0; virus, summary, size, and the
 * digest when it was computed) so the denial can be audited with the
 * signature name. The file is mmap'ed: a file truncated by another process
 * during the scan raises SIGBUS (the process dies, nothing is signed). */
int sg_scan_fd(sg_scanner *s, int fd, const struct stat *st, const char *name,
	       sg_scan_result *out);

/* What clamd says about itself (doctor): PING answered, and VERSION. */
typedef struct sg_clamd_info {
	char version[64];              /* "1.4.6" */
	char db_version[32];           /* "27841", or "" without daily.cvd/cld */
	char db_date[64];              /* "Sun Nov 29 09:32:10 2026", or "" */
	long long db_time;             /* seconds since the epoch, 0 when unknown */
} sg_clamd_info;

/* PING and VERSION against `addr` (unix:PATH | tcp://HOST:PORT). SG_OK, or
 * SG_ESCAN with a message naming the socket. */
int sg_clamd_probe(const char *addr, int timeout_s, sg_clamd_info *out);

/* Hash only (no scanner): SHA-256 of fd's content. */
int sg_hash_fd(int fd, const struct stat *st, const char *name, sg_scan_result *out);

#endif
