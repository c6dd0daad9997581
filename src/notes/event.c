/* Signing events: build, format and parse paragraphs of "Key: value"
 * lines (git trailer syntax). Parsing treats the text as hostile. */
#include "notes/notes.h"
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_key_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int key_valid(const char *k, size_t len)
{
	size_t i;

	if (len == 0 || len > SG_EVENT_KEY_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_key_char((unsigned char)k[i]))
			return 0;
	return 1;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Control characters (C0 and DEL) become spaces in place. */
static void sanitize(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			s[i] = ' ';
}

/* Trim [*s, *s + *len) of surrounding whitespace. */
static void trim(const char **s, size_t *len)
{
	while (*len && is_space((unsigned char)(*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_space((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* Append a field; key and value are copied into ONE allocation owned by
 * `key` (value points inside it). The value is sanitized here. */
static int event_push(sg_event *e, const char *key, size_t klen, const char *val, size_t vlen)
{
	sg_event_field *f;
	char *mem;

	if (e->n >= SG_EVENT_FIELDS_MAX)
		return sg_error_set(SG_ERROR, "an event has more than %d fields", SG_EVENT_FIELDS_MAX);
	/* capacity is implicit: 8, then doubled whenever n reaches a power of two */
	if (e->n == 0 || (e->n >= 8 && (e->n & (e->n - 1)) == 0)) {
		f = realloc(e->f, (e->n ? 2 * e->n : 8) * sizeof(*f));
		if (!f)
			return sg_error_set(SG_ERROR, "out of memory");
		e->f = f;
	}
	f = e->f;
	mem = malloc(klen + vlen + 2);
	if (!mem)
		return sg_error_set(SG_ERROR, "out of memory");
	memcpy(mem, key, klen);
	mem[klen] = '\0';
	/* Sanitize, then trim: a control character at either end became a
	 * space, and the value must read back the same once written. */
	memcpy(mem + klen + 1, val, vlen);
	sanitize(mem + klen + 1, vlen);
	{
		const char *v = mem + klen + 1;
		size_t n = vlen;

		trim(&v, &n);
		memmove(mem + klen + 1, v, n);
		vlen = n;
	}
	mem[klen + 1 + vlen] = '\0';
	f[e->n].key = mem;
	f[e->n].value = mem + klen + 1;
	e->n++;
	return SG_OK;
}

int sg_event_add(sg_event *e, const char *key, const char *value)
{
	size_t klen, vlen;
	char *tmp;
	const char *v;
	int err;

	if (!key || !key_valid(key, klen = strlen(key)))
		return sg_error_set(SG_ERROR, "invalid event key '%.64s'; keys are letters, digits and '-'",
				    key ? key : "(null)");
	if (!value)
		value = "";
	vlen = strlen(value);
	if (vlen > SG_EVENT_VALUE_MAX)
		return sg_error_set(SG_ERROR, "value of event field %s is %zu bytes; the limit is %d",
				    key, vlen, SG_EVENT_VALUE_MAX);
	/* Sanitize first so that a newline turned into a space is trimmed too. */
	if (!(tmp = strdup(value)))
		return sg_error_set(SG_ERROR, "out of memory");
	sanitize(tmp, vlen);
	v = tmp;
	trim(&v, &vlen);
	if (vlen == 0) {
		v = "-";
		vlen = 1;
	}
	err = event_push(e, key, klen, v, vlen);
	free(tmp);
	return err;
}

int sg_event_addf(sg_event *e, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n, err;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return sg_error_set(SG_ERROR, "out of memory");
	err = sg_event_add(e, key, s);
	free(s);
	return err;
}

const char *sg_event_get(const sg_event *e, const char *key)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcasecmp(e->f[i].key, key) == 0)
			return e->f[i].value;
	return NULL;
}

void sg_event_release(sg_event *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n; i++)
		free(e->f[i].key); /* the value lives in the same allocation */
	free(e->f);
	e->f = NULL;
	e->n = 0;
}

int sg_event_format(const sg_event *e, sg_buf *out)
{
	size_t i, j, start = out->size;
	int ret = SG_ERROR;

	if (e->n == 0)
		return sg_error_set(SG_ERROR, "cannot format an empty event");
	for (i = 0; i < e->n; i++) {
		const char *v = e->f[i].value;

		if (!key_valid(e->f[i].key, strlen(e->f[i].key))) {
			ret = sg_error_set(SG_ERROR, "invalid event key '%.64s'", e->f[i].key);
			goto fail;
		}
		/* Defence in depth: a hand-built field must not inject a line. */
		for (j = 0; v[j]; j++)
			if ((unsigned char)v[j] < 0x20 || (unsigned char)v[j] == 0x7f) {
				ret = sg_error_set(SG_ERROR, "value of event field %s has a control character",
						   e->f[i].key);
				goto fail;
			}
		if ((ret = sg_buf_printf(out, "%s: %s\n", e->f[i].key, v[0] ? v : "-")) < 0)
			goto fail;
	}
	return SG_OK;
fail:
	/* all or nothing: drop what this call appended */
	out->size = start;
	if (out->ptr)
		out->ptr[start] = '\0';
	return ret;
}

/* --- parsing ------------------------------------------------------------ */

#define SG_STR_(x) #x
#define SG_STR(x) SG_STR_(x)

typedef struct parser {
	sg_event *ev;
	size_t n, alloc;
	size_t fields; /* over all events */
} parser;

static int line_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_space((unsigned char)s[i]))
			return 0;
	return 1;
}

/* "Key: value" (spaces allowed before the colon, as git does). */
static int split_field(const char *s, size_t len, const char **k, size_t *klen,
		       const char **v, size_t *vlen)
{
	const char *colon = memchr(s, ':', len);

	if (!colon)
		return 0;
	*k = s;
	*klen = (size_t)(colon - s);
	while (*klen && (s[*klen - 1] == ' ' || s[*klen - 1] == '\t'))
		(*klen)--;
	if (!key_valid(*k, *klen))
		return 0;
	*v = colon + 1;
	*vlen = len - (size_t)(colon + 1 - s);
	trim(v, vlen);
	return 1;
}

static int word_valid(const char *s, size_t len)
{
	return key_valid(s, len);
}

enum { PARA_OTHER = 0, PARA_EVENT = 1, PARA_BAD = 2 };

/* Parse one paragraph [p, end): PARA_EVENT (moved into *ev), PARA_OTHER
 * when it does not start with "Signgate-Event: WORD" (a remark, an
 * attestation), PARA_BAD with *why when it does but is not a well-formed
 * event, < 0 on error. */
static int parse_paragraph(sg_event *ev, const char **why, const char *p, const char *end)
{
	sg_event e = { NULL, 0 };
	sg_buf val = SG_BUF_INIT;
	const char *cur_k = NULL;
	size_t cur_klen = 0;
	int first = 1, ret = PARA_BAD, err;

	*why = "a line is not \"Key: value\"";
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		size_t len = (size_t)((eol ? eol : end) - p);
		const char *k, *v;
		size_t klen, vlen;

		if (len && p[len - 1] == '\r')
			len--;
		if (p[0] == ' ' || p[0] == '\t') {
			/* continuation of the previous value, git trailer style */
			if (first) {
				ret = PARA_OTHER;
				goto done;
			}
			v = p;
			vlen = len;
			trim(&v, &vlen);
			if (!vlen) {
				p = next;
				continue;
			}
			/* The event type is one word: a continuation of the
			 * first field would make "sign" into "sign revoke". */
			if (e.n == 0) {
				*why = "the event type is continued on a second line";
				goto done;
			}
			if (val.size + 1 + vlen > SG_EVENT_PARSE_VALUE_MAX) {
				*why = "a value is over the size limit";
				goto done;
			}
			if ((val.size && (err = sg_buf_put(&val, " ", 1)) < 0) ||
			    (err = sg_buf_put(&val, v, vlen)) < 0) {
				ret = err;
				goto done;
			}
			p = next;
			continue;
		}
		if (!split_field(p, len, &k, &klen, &v, &vlen)) {
			if (first)
				ret = PARA_OTHER;
			goto done;
		}
		if (first) {
			if (klen != strlen(SG_EVENT_KEY) || strncasecmp(k, SG_EVENT_KEY, klen) != 0) {
				ret = PARA_OTHER;
				goto done;
			}
			if (!word_valid(v, vlen)) {
				*why = "the event type is not one word";
				goto done;
			}
			first = 0;
		} else {
			if (e.n >= SG_EVENT_FIELDS_MAX) {
				*why = "too many fields";
				goto done;
			}
			if ((err = event_push(&e, cur_k, cur_klen, val.ptr ? val.ptr : "", val.size)) < 0) {
				ret = err;
				goto done;
			}
		}
		cur_k = k;
		cur_klen = klen;
		sg_buf_clear(&val);
		if (vlen > SG_EVENT_PARSE_VALUE_MAX) {
			*why = "a value is over the size limit";
			goto done;
		}
		if ((err = sg_buf_put(&val, v, vlen)) < 0) {
			ret = err;
			goto done;
		}
		p = next;
	}
	if (first) {
		ret = PARA_OTHER;
		goto done;
	}
	if (e.n >= SG_EVENT_FIELDS_MAX) {
		*why = "too many fields";
		goto done;
	}
	if ((err = event_push(&e, cur_k, cur_klen, val.ptr ? val.ptr : "", val.size)) < 0) {
		ret = err;
		goto done;
	}
	*ev = e;
	e.f = NULL;
	e.n = 0;
	ret = PARA_EVENT;
done:
	sg_event_release(&e);
	sg_buf_dispose(&val);
	return ret;
}

void sg_parse_report_release(sg_parse_report *r)
{
	if (!r)
		return;
	sg_strlist_release(&r->problems);
	memset(r, 0, sizeof(*r));
}

/* A bad paragraph: counted, and described while under the cap. */
static int report_bad(sg_parse_report *rep, size_t para_no, size_t offset, const char *why)
{
	char line[160];

	rep->bad++;
	if (rep->problems.n >= SG_PARSE_PROBLEMS_MAX)
		return SG_OK;
	snprintf(line, sizeof(line), "paragraph %zu (byte %zu) skipped: %s", para_no, offset, why);
	return sg_strlist_add(&rep->problems, line);
}

static int events_push(parser *ps, sg_event *ev)
{
	if (ps->n == ps->alloc) {
		size_t na = ps->alloc ? ps->alloc * 2 : 8;
		sg_event *nv = realloc(ps->ev, na * sizeof(*nv));

		if (!nv)
			return sg_error_set(SG_ERROR, "out of memory");
		ps->ev = nv;
		ps->alloc = na;
	}
	ps->fields += ev->n;
	ps->ev[ps->n++] = *ev;
	memset(ev, 0, sizeof(*ev));
	return SG_OK;
}

/* Judge one paragraph [para, end), the para_no'th of the note. */
static int take_paragraph(parser *ps, sg_parse_report *rep, const char *text, const char *para,
			  const char *end, size_t para_no)
{
	sg_event ev = { NULL, 0 };
	const char *why = NULL;
	size_t off = (size_t)(para - text);
	int r, err;

	if (memchr(para, '\0', (size_t)(end - para)))
		return report_bad(rep, para_no, off, "it contains a NUL byte");
	if ((r = parse_paragraph(&ev, &why, para, end)) < 0)
		return r;
	if (r == PARA_OTHER) {
		rep->skipped++;
		return SG_OK;
	}
	if (r == PARA_BAD)
		return report_bad(rep, para_no, off, why);
	why = NULL;
	if (ps->n >= SG_EVENTS_MAX)
		why = "the note has more events than the limit of " SG_STR(SG_EVENTS_MAX);
	else if (ps->fields + ev.n > SG_EVENTS_FIELDS_TOTAL_MAX)
		why = "the note has more event fields than the limit of " SG_STR(SG_EVENTS_FIELDS_TOTAL_MAX);
	if (why) {
		sg_event_release(&ev);
		return report_bad(rep, para_no, off, why);
	}
	if ((err = events_push(ps, &ev)) < 0)
		sg_event_release(&ev);
	return err;
}

int sg_events_parse_report(sg_event **out, size_t *n, sg_parse_report *report, const char *text,
			   size_t len)
{
	parser ps = { NULL, 0, 0, 0 };
	sg_parse_report rep;
	size_t para_no = 0;
	const char *p, *end, *para = NULL;
	int ret = SG_ERROR;

	memset(&rep, 0, sizeof(rep));
	if (len > SG_NOTES_MAX) {
		ret = sg_error_set(SG_ERROR, "note is %zu bytes; the limit is %d bytes", len, SG_NOTES_MAX);
		goto done;
	}
	if (!text)
		len = 0;
	p = text;
	end = text + len;
	for (;;) {
		const char *eol = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const char *next = eol ? eol + 1 : end;
		int blank = p >= end || line_blank(p, (size_t)((eol ? eol : end) - p));

		if (blank && para) {
			if ((ret = take_paragraph(&ps, &rep, text, para, p, ++para_no)) < 0)
				goto done;
			para = NULL;
		} else if (!blank && !para) {
			para = p;
		}
		if (p >= end)
			break;
		p = next;
	}
	*out = ps.ev;
	*n = ps.n;
	if (report)
		*report = rep;
	else
		sg_parse_report_release(&rep);
	memset(&rep, 0, sizeof(rep));
	ps.ev = NULL;
	ps.n = 0;
	ret = SG_OK;
done:
	sg_parse_report_release(&rep);
	sg_events_free(ps.ev, ps.n);
	return ret;
}

int sg_events_parse(sg_event **out, size_t *n, size_t *skipped, const char *text, size_t len)
{
	sg_parse_report rep;
	int err = sg_events_parse_report(out, n, &rep, text, len);

	if (err == SG_OK && skipped)
		*skipped = rep.skipped + rep.bad;
	if (err == SG_OK)
		sg_parse_report_release(&rep);
	return err;
}

void sg_events_free(sg_event *ev, size_t n)
{
	size_t i;

	if (!ev)
		return;
	for (i = 0; i < n; i++)
		sg_event_release(&ev[i]);
	free(ev);
}
