/* The table of signing backends, chosen by the profile's format. */
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"

static const sg_sign_backend *const sg_sign_backends[] = {
	&sg_sign_cms,
	&sg_sign_openpgp,
};

const sg_sign_backend *sg_sign_backend_find(const char *name)
{
	size_t i;

	if (!name || !*name)
		name = "cms";
	for (i = 0; i < sizeof(sg_sign_backends) / sizeof(sg_sign_backends[0]); i++)
		if (strcmp(sg_sign_backends[i]->name, name) == 0)
			return sg_sign_backends[i];
	return NULL;
}

void sg_signature_release(sg_signature *s)
{
	if (!s)
		return;
	sg_buf_dispose(&s->sig);
	sg_buf_dispose(&s->tsr);
	free(s->ts_url);
	memset(s, 0, sizeof(*s));
}

void sg_bufs_free(sg_buf *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		sg_buf_dispose(&v[i]);
	free(v);
}
