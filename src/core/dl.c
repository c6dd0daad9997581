#include "core/dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int sg_dl_bind(const char *soname, const sg_dl_sym *syms, size_t n, char *why, size_t wn)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!h) {
		snprintf(why, wn, "%s", dlerror());
		return -1;
	}
	for (i = 0; i < n; i++) {
		void *p = dlsym(h, syms[i].name);

		if (!p) {
			snprintf(why, wn, "%s has no %s", soname, syms[i].name);
			return -1;
		}
		/* POSIX: a function pointer is read from dlsym's object pointer by copying. */
		memcpy(syms[i].fn, &p, sizeof(p));
	}
	return 0;
}
