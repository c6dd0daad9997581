#include "scan/clamlib.h"
#include "core/dl.h"

#include <stdio.h>
#include <string.h>

#ifndef SG_CLAMAV_SONAME
#error "SG_CLAMAV_SONAME (libclamav's soname) is set by the Makefile"
#endif
_Static_assert(sizeof(SG_CLAMAV_SONAME) > 1, "the Makefile found no soname for libclamav");

static sg_clamlib sg_cl;

/* Called once (under the caller's pthread_once). */
const sg_clamlib *sg_clamlib_load(char *why, size_t n)
{
	const sg_dl_sym syms[] = {
		{ "cl_init", &sg_cl.init },
		{ "cl_set_clcb_msg", &sg_cl.set_clcb_msg },
		{ "cl_strerror", &sg_cl.strerror },
		{ "cl_retver", &sg_cl.retver },
		{ "cl_engine_new", &sg_cl.engine_new },
		{ "cl_engine_free", &sg_cl.engine_free },
		{ "cl_engine_compile", &sg_cl.engine_compile },
		{ "cl_engine_set_num", &sg_cl.engine_set_num },
		{ "cl_engine_get_num", &sg_cl.engine_get_num },
		{ "cl_engine_set_clcb_virus_found", &sg_cl.engine_set_clcb_virus_found },
		{ "cl_load", &sg_cl.load },
		{ "cl_fmap_open_memory", &sg_cl.fmap_open_memory },
		{ "cl_fmap_close", &sg_cl.fmap_close },
		{ "cl_scanmap_callback", &sg_cl.scanmap_callback },
	};
	char dl_why[384];

	if (sg_dl_bind(SG_CLAMAV_SONAME, syms, sizeof(syms) / sizeof(syms[0]), dl_why, sizeof(dl_why)) < 0) {
		snprintf(why, n, "cannot load libclamav: %s", dl_why);
		return NULL;
	}
	return &sg_cl;
}
