/* Libraries loaded when first needed (dlopen of a soname fixed at build
 * time), not linked: libcurl (core/http.c) and libclamav (scan/clamlib.c)
 * each pull many libraries into every run of every command otherwise. */
#ifndef SG_CORE_DL_H
#define SG_CORE_DL_H

#include <stddef.h>

/* One function to resolve: its name and where its pointer goes (the
 * address of a function-pointer field). */
typedef struct sg_dl_sym {
	const char *name;
	void *fn;
} sg_dl_sym;

/* Open `soname` and resolve every entry of syms[0..n). The handle stays
 * open for the life of the process, as a linked library would. 0 on
 * success; -1 with a message in why (size wn) naming the library or the
 * missing function. */
int sg_dl_bind(const char *soname, const sg_dl_sym *syms, size_t n, char *why, size_t wn);

#endif
