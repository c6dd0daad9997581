/* Internal to src/scan: the clamd engine beside the in-process one. */
#ifndef SG_SCAN_SCAN_INT_H
#define SG_SCAN_SCAN_INT_H

#include "scan/scan.h"

typedef struct sg_clamd sg_clamd;

/* Ask clamd for VERSION (it must answer: clamd down is SG_ESCAN naming
 * the socket, whatever scan.required says). */
int sg_clamd_open(sg_clamd **out, const sg_scan_opts *opts);
void sg_clamd_free(sg_clamd *c);

/* INSTREAM: one read loop hashes each chunk and sends it to clamd. */
int sg_clamd_scan_fd(sg_clamd *c, int fd, const struct stat *st, const char *name,
		     sg_scan_result *out);

/* SG_OK when fd is still the file of `st` and `total` bytes of it were
 * read; else SG_ERROR "NAME changed while it was DOING". */
int sg_scan__unchanged(int fd, const struct stat *st, unsigned long long total, const char *name,
		       const char *doing);
void sg_scan__digest(sg_scan_result *r, const unsigned char md[32]);

#endif
