#include "core/error.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char sg_errmsg[2048];
static _Thread_local int sg_errcode;
static _Thread_local int sg_errset;

int sg_error_setv(int code, const char *fmt, va_list ap)
{
	char tmp[sizeof(sg_errmsg)];

	/* Format first: the arguments may point into sg_errmsg itself. */
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	memcpy(sg_errmsg, tmp, sizeof(sg_errmsg));
	sg_errcode = code;
	sg_errset = 1;
	return code;
}

int sg_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sg_error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

int sg_error_set_openssl(int code, const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	size_t len;

	va_start(ap, fmt);
	sg_error_setv(code, fmt, ap);
	va_end(ap);
	/* Report the first (root-cause) error in the queue, then drop the rest. */
	e = ERR_get_error();
	if (e != 0) {
		len = strlen(sg_errmsg);
		if (len + 3 < sizeof(sg_errmsg)) {
			sg_errmsg[len++] = ':';
			sg_errmsg[len++] = ' ';
			ERR_error_string_n(e, sg_errmsg + len, sizeof(sg_errmsg) - len);
		}
	}
	ERR_clear_error();
	return code;
}

const char *sg_error_last(void)
{
	return sg_errset ? sg_errmsg : NULL;
}

int sg_error_code(void)
{
	return sg_errset ? sg_errcode : SG_OK;
}

void sg_error_clear(void)
{
	sg_errmsg[0] = '\0';
	sg_errcode = SG_OK;
	sg_errset = 0;
}

int sg_error_exit_code(int code)
{
	switch (code) {
	case SG_OK: return 0;
	case SG_EUSAGE: return 2;
	case SG_EDENIED: return 3;
	case SG_ESCAN: return 4;
	case SG_EVERIFY: return 5;
	default: return 1;
	}
}
