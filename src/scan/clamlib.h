/* libclamav, loaded when the first scanner is opened (dlopen), not at
 * start-up: only `sign` scans, and linking it pulls ~11 libraries (ICU,
 * libstdc++, libxml2, ...) into every run of every command. */
#ifndef SG_SCAN_CLAMLIB_H
#define SG_SCAN_CLAMLIB_H

#include <clamav.h>

typedef struct sg_clamlib {
	__typeof__(cl_init) *init;
	__typeof__(cl_set_clcb_msg) *set_clcb_msg;
	__typeof__(cl_strerror) *strerror;
	__typeof__(cl_retver) *retver;
	__typeof__(cl_engine_new) *engine_new;
	__typeof__(cl_engine_free) *engine_free;
	__typeof__(cl_engine_compile) *engine_compile;
	__typeof__(cl_engine_set_num) *engine_set_num;
	__typeof__(cl_engine_get_num) *engine_get_num;
	__typeof__(cl_engine_set_clcb_virus_found) *engine_set_clcb_virus_found;
	__typeof__(cl_load) *load;
	__typeof__(cl_fmap_open_memory) *fmap_open_memory;
	__typeof__(cl_fmap_close) *fmap_close;
	__typeof__(cl_scanmap_callback) *scanmap_callback;
} sg_clamlib;

/* Load libclamav (its soname, taken from the library built against) and
 * resolve every function above; once per process. NULL, with a message in
 * `why` (size n), when the library or a symbol is missing. */
const sg_clamlib *sg_clamlib_load(char *why, size_t n);

#endif
