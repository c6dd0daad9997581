#include "scan/clamlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#ifndef SG_CLAMAV_SONAME
#error "SG_CLAMAV_SONAME (libclamav's soname) is set by the Makefile"
#endif
_Static_assert(sizeof(SG_CLAMAV_SONAME) > 1, "the Makefile found no soname for libclamav");

static sg_clamlib sg_cl;

/* POSIX: a function pointer is read from dlsym's object pointer by copying. */
#define SG_CL_SYM(field, name)                                        \
	do {                                                          \
		void *p_ = dlsym(h, name);                            \
		if (!p_) {                                            \
			snprintf(why, n, "libclamav (%s) has no %s", SG_CLAMAV_SONAME, name); \
			return NULL;                                  \
		}                                                     \
		memcpy(&sg_cl.field, &p_, sizeof(p_));                \
	} while (0)

/* Called once (under the caller's pthread_once); the handle stays open
 * for the life of the process, as a linked library would. */
const sg_clamlib *sg_clamlib_load(char *why, size_t n)
{
	void *h = dlopen(SG_CLAMAV_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(why, n, "cannot load libclamav: %s", dlerror());
		return NULL;
	}
	SG_CL_SYM(init, "cl_init");
	SG_CL_SYM(set_clcb_msg, "cl_set_clcb_msg");
	SG_CL_SYM(strerror, "cl_strerror");
	SG_CL_SYM(retver, "cl_retver");
	SG_CL_SYM(engine_new, "cl_engine_new");
	SG_CL_SYM(engine_free, "cl_engine_free");
	SG_CL_SYM(engine_compile, "cl_engine_compile");
	SG_CL_SYM(engine_set_num, "cl_engine_set_num");
	SG_CL_SYM(engine_get_num, "cl_engine_get_num");
	SG_CL_SYM(engine_set_clcb_virus_found, "cl_engine_set_clcb_virus_found");
	SG_CL_SYM(load, "cl_load");
	SG_CL_SYM(fmap_open_memory, "cl_fmap_open_memory");
	SG_CL_SYM(fmap_close, "cl_fmap_close");
	SG_CL_SYM(scanmap_callback, "cl_scanmap_callback");
	return &sg_cl;
}
