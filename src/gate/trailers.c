/* Review source "trailers": Reviewed-by: / Approved-by: (gate.trailer) in
 * the message of REV and of the merge that brought REV into the branch. */
#include "gate/internal.h"
#include "core/error.h"
#include "core/git.h"
#include "core/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SG_EMAIL_MAX 254
#define SG_VALUE_SHOWN 80

static const char *const default_keys[] = { "Reviewed-by", "Approved-by" };

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static int valid_email(const char *e, size_t len)
{
	const char *at = memchr(e, '@', len);
	size_t i;

	if (!at || at == e || at == e + len - 1 || len > SG_EMAIL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (isspace((unsigned char)e[i]) || iscntrl((unsigned char)e[i]) || e[i] == '<' ||
		    e[i] == '>' || e[i] == ',')
			return 0;
	return 1;
}

int sg_gate_parse_identity(char **email, const char *value)
{
	const char *s = value, *lt, *gt;
	size_t len = strlen(value);
	char *e;

	trim(&s, &len);
	lt = memchr(s, '<', len);
	if (lt) {
		gt = memchr(lt, '>', len - (size_t)(lt - s));
		if (!gt)
			return SG_ENOTFOUND;
		len = (size_t)(gt - lt - 1);
		s = lt + 1;
		trim(&s, &len);
	}
	if (!valid_email(s, len))
		return SG_ENOTFOUND;
	if (!(e = strndup(s, len)))
		return sg_error_set(SG_ERROR, "out of memory");
	sg_str_lower(e);
	*email = e;
	return SG_OK;
}

static int key_wanted(const char *key, const sg_strlist *keys)
{
	const char *k = key;
	size_t len = strlen(key), i, n = keys->n ? keys->n : 2;

	trim(&k, &len);
	for (i = 0; i < n; i++) {
		const char *want = keys->n ? keys->v[i] : default_keys[i];

		if (strlen(want) == len && strncasecmp(k, want, len) == 0)
			return 1;
	}
	return 0;
}

int sg_gate_trailers_parse(sg_review_list *out, const char *message, const sg_strlist *keys)
{
	git_message_trailer_array arr = { 0 };
	sg_buf why = SG_BUF_INIT;
	size_t i;
	int ret = SG_ERROR, err;

	if (git_message_trailers(&arr, message) < 0)
		return sg_error_set(SG_ERROR, "cannot parse trailers: %s", sg_git_errmsg());
	for (i = 0; i < arr.count; i++) {
		char *email = NULL;

		if (!key_wanted(arr.trailers[i].key, keys))
			continue;
		err = sg_gate_parse_identity(&email, arr.trailers[i].value);
		if (err == SG_ENOTFOUND) {
			sg_buf_clear(&why);
			if ((ret = sg_buf_printf(&why, "trailer \"%s: %.*s\" names no email", arr.trailers[i].key,
						 SG_VALUE_SHOWN, arr.trailers[i].value)) < 0 ||
			    (ret = sg_review_list_add(out, NULL, "trailers", why.ptr)) < 0)
				goto done;
			continue;
		}
		if (err < 0) {
			ret = err;
			goto done;
		}
		ret = sg_review_list_add(out, email, "trailers", NULL);
		free(email);
		if (ret < 0)
			goto done;
	}
	ret = SG_OK;
done:
	sg_buf_dispose(&why);
	git_message_trailer_array_free(&arr);
	return ret;
}

static int commit_trailers(sg_review_list *out, git_repository *repo, const git_oid *id, const sg_strlist *keys)
{
	git_commit *c = NULL;
	int ret;

	if ((ret = sg_gate_commit_lookup(&c, repo, id)) < 0)
		return ret;
	ret = sg_gate_trailers_parse(out, git_commit_message(c), keys);
	git_commit_free(c);
	return ret;
}

int sg_gate_source_trailers(sg_review_list *out, const sg_review_ctx *ctx)
{
	int err = commit_trailers(out, ctx->repo, ctx->rev, &ctx->pol->trailer);

	if (err == SG_OK && ctx->merge)
		err = commit_trailers(out, ctx->repo, ctx->merge, &ctx->pol->trailer);
	return err;
}
