/* Signing events: build, format and parse paragraphs of "Key: value"
 * lines (git trailer syntax). Parsing treats the text as hostile. */
#include "notes/notes.h"
#include "core/error.h"
#include "policy/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
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

/* Control characters (C0 and DEL) become spaces in place (branch-free:
 * every value of every event read goes through here). */
/* 1 when one of the 8 bytes of w is below 0x20 or is 0x7f (the classic
 * "has a byte less than n" and "has a zero byte" word tricks). */
static int word_has_control(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t del = w ^ (0x7f * ones);

	return (((w - 0x20 * ones) & ~w) | ((del - ones) & ~del)) & highs ? 1 : 0;
}

static void sanitize(char *s, size_t len)
{
	size_t i = 0;
	uint64_t w;

	/* most values hold no control character: 8 bytes at a time until a
	 * word may hold one (a base64 envelope is 265 KB of such bytes) */
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		if (word_has_control(w))
			break;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		s[i] = (char)((c < 0x20 || c == 0x7f) ? ' ' : c);
	}
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
 * `key` (value points inside it). The value is sanitized and trimmed here,
 * unless `clean`: already done (a parsed one), copied as it is. */
static int event_push_as(sg_event *e, const char *key, size_t klen, const char *val, size_t vlen, int clean)
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
	memcpy(mem + klen + 1, val, vlen);
	if (!clean) {
		/* Sanitize, then trim: a control character at either end became a
		 * space, and the value must read back the same once written. */
		const char *v = mem + klen + 1;
		size_t n = vlen;

		sanitize(mem + klen + 1, vlen);
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

static int event_push(sg_event *e, const char *key, size_t klen, const char *val, size_t vlen)
{
	return event_push_as(e, key, klen, val, vlen, 0);
}

static int event_add_capped(sg_event *e, const char *key, const char *value, size_t cap)
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
	if (vlen > cap)
		return sg_error_set(SG_ERROR, "value of event field %s is %zu bytes; the limit is %zu",
				    key, vlen, cap);
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

int sg_event_add(sg_event *e, const char *key, const char *value)
{
	return event_add_capped(e, key, value, SG_EVENT_VALUE_MAX);
}

int sg_event_add_long(sg_event *e, const char *key, const char *value)
{
	return event_add_capped(e, key, value, SG_EVENT_PARSE_LONG_MAX);
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

int sg_event_copy(sg_event *dst, const sg_event *src)
{
	size_t i;
	int err = SG_OK;

	for (i = 0; i < src->n && err == SG_OK; i++)
		err = event_push(dst, src->f[i].key, strlen(src->f[i].key), src->f[i].value,
				 strlen(src->f[i].value));
	if (err < 0)
		sg_event_release(dst);
	return err;
}

const char *sg_event_signer(const sg_event *ev)
{
	const char *s = sg_event_get(ev, "Signer-Cert-Sha256");
	return s ? s : sg_event_get(ev, "Signer-Key-Fingerprint");
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

/* One paragraph is parsed in place, in a copy held by the scratch: keys and
 * values are cut out of it with NULs, continuation lines are joined by
 * moving them left. No allocation per field: `log` parses every event of
 * the history this way. */

#define SG_STR_(x) #x
#define SG_STR(x) SG_STR_(x)

static int line_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_space((unsigned char)s[i]))
			return 0;
	return 1;
}

/* "Key: value" (spaces allowed before the colon, as git does). */
static int split_field(const char *s, size_t len, size_t *klen, size_t *voff, size_t *vlen)
{
	const char *colon = memchr(s, ':', len);
	const char *v;

	if (!colon)
		return 0;
	*klen = (size_t)(colon - s);
	while (*klen && (s[*klen - 1] == ' ' || s[*klen - 1] == '\t'))
		(*klen)--;
	if (!key_valid(s, *klen))
		return 0;
	v = colon + 1;
	*vlen = len - (size_t)(colon + 1 - s);
	trim(&v, vlen);
	*voff = (size_t)(v - s);
	return 1;
}

enum { PARA_OTHER = 0, PARA_EVENT = 1, PARA_BAD = 2 };

/* The field being read: its value is [v, v + vlen) in the scratch copy. */
typedef struct cur_field {
	char *key, *v;
	size_t vlen;
} cur_field;

/* Close the current field: sanitize, trim, cut with NULs, append.
 * PARA_EVENT done, PARA_BAD too many fields, < 0 error. */
static int field_close(sg_event_scratch *s, cur_field *c, const char **why)
{
	const char *v = c->v;
	size_t n = c->vlen;
	int err;

	if (s->ev.n >= SG_EVENT_FIELDS_MAX) {
		*why = "too many fields";
		return PARA_BAD;
	}
	if ((err = sg_array_reserve((void **)&s->ev.f, &s->fcap, s->ev.n, 32, sizeof(*s->ev.f))) < 0)
		return err;
	sanitize(c->v, c->vlen);
	trim(&v, &n);
	((char *)v)[n] = '\0';
	s->ev.f[s->ev.n].key = c->key;
	s->ev.f[s->ev.n].value = (char *)v;
	s->ev.n++;
	return PARA_EVENT;
}

/* A continuation line [p, p + len) of the current field: " " and its
 * trimmed text move left to the end of the value. */
static size_t value_max(const sg_event_scratch *s)
{
	return s->value_max ? s->value_max : SG_EVENT_PARSE_VALUE_MAX;
}

static int field_continue(cur_field *c, char *p, size_t len, size_t max, const char **why)
{
	const char *v = p;
	size_t vlen = len;

	trim(&v, &vlen);
	if (!vlen) {
		/* a blank line: never inside one paragraph as the note is split */
		*why = "a blank line inside the paragraph";
		return PARA_BAD;
	}
	if (c->vlen + 1 + vlen > max) {
		*why = "a value is over the size limit";
		return PARA_BAD;
	}
	if (c->vlen)
		c->v[c->vlen++] = ' ';
	memmove(c->v + c->vlen, v, vlen);
	c->vlen += vlen;
	return PARA_EVENT;
}

/* The first line: "Signgate-Event: WORD" (or the scratch's first key),
 * else not an event at all. */
static int first_line(const sg_event_scratch *s, const char *p, size_t klen, size_t voff,
		      size_t vlen, const char **why)
{
	const char *key = s->first_key ? s->first_key : SG_EVENT_KEY;

	if (klen != strlen(key) || strncasecmp(p, key, klen) != 0)
		return PARA_OTHER;
	if (!key_valid(p + voff, vlen)) {
		*why = "the event type is not one word";
		return PARA_BAD;
	}
	return PARA_EVENT;
}

/* Parse the lines of the copy at s->buf (len bytes): PARA_EVENT (in
 * s->ev), PARA_OTHER when it does not start with "Signgate-Event: WORD" (a
 * remark, an attestation), PARA_BAD with *why when it does but is not a
 * well-formed event, < 0 on error. */
static int parse_lines(sg_event_scratch *s, size_t len, const char **why)
{
	char *p = s->buf, *end = s->buf + len;
	cur_field c = { NULL, NULL, 0 };
	int r;

	*why = "a line is not \"Key: value\"";
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		char *next = eol ? eol + 1 : end;
		size_t llen = (size_t)((eol ? eol : end) - p), klen, voff, vlen;

		if (llen && p[llen - 1] == '\r')
			llen--;
		if (p[0] == ' ' || p[0] == '\t') {
			/* continuation of the previous value, git trailer style */
			if (!c.key)
				return PARA_OTHER;
			/* The event type is one word: a continuation of the
			 * first field would make "sign" into "sign revoke". */
			if (s->ev.n == 0) {
				*why = "the event type is continued on a second line";
				return PARA_BAD;
			}
			if ((r = field_continue(&c, p, llen, value_max(s), why)) != PARA_EVENT)
				return r;
			p = next;
			continue;
		}
		if (!split_field(p, llen, &klen, &voff, &vlen))
			return c.key ? PARA_BAD : PARA_OTHER;
		if (!c.key) {
			if ((r = first_line(s, p, klen, voff, vlen, why)) != PARA_EVENT)
				return r;
		} else if ((r = field_close(s, &c, why)) != PARA_EVENT) {
			return r;
		}
		if (vlen > value_max(s)) {
			*why = "a value is over the size limit";
			return PARA_BAD;
		}
		p[klen] = '\0';
		c.key = p;
		c.v = p + voff;
		c.vlen = vlen;
		p = next;
	}
	if (!c.key)
		return PARA_OTHER;
	return field_close(s, &c, why);
}

/* One paragraph [p, p + len) into the scratch (see parse_lines). */
static int parse_paragraph(sg_event_scratch *s, const char *p, size_t len, const char **why)
{
	int r;

	s->ev.n = 0;
	if (memchr(p, '\0', len)) {
		*why = "it contains a NUL byte";
		return PARA_BAD;
	}
	if (len + 1 > s->bufcap) {
		size_t cap = s->bufcap ? s->bufcap : 4096;
		char *b;

		while (cap < len + 1)
			cap *= 2;
		if (!(b = realloc(s->buf, cap)))
			return sg_error_set(SG_ERROR, "out of memory");
		s->buf = b;
		s->bufcap = cap;
	}
	memcpy(s->buf, p, len);
	s->buf[len] = '\0';
	r = parse_lines(s, len, why);
	if (r != PARA_EVENT)
		s->ev.n = 0;
	return r;
}

int sg_event_parse_paragraph(sg_event_scratch *s, const char *p, size_t len)
{
	const char *why = NULL;
	int r = parse_paragraph(s, p, len, &why);

	return r < 0 ? r : r == PARA_EVENT;
}

void sg_event_scratch_release(sg_event_scratch *s)
{
	free(s->buf);
	free(s->ev.f);
	memset(s, 0, sizeof(*s));
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

typedef struct walker {
	sg_event_scratch s;
	sg_parse_report rep;
	size_t events, fields; /* accepted so far in the note */
	sg_events_each_cb cb;
	void *payload;
} walker;

static int is_attestation(const char *p, const char *end)
{
	size_t n = strlen(SG_ATTESTATION_KEY);

	return (size_t)(end - p) > n && strncasecmp(p, SG_ATTESTATION_KEY, n) == 0 &&
	       (p[n] == ':' || p[n] == ' ' || p[n] == '\t');
}

/* Judge one paragraph [para, end), the para_no'th of the note; an event
 * goes to the callback. */
static int take_paragraph(walker *w, const char *text, const char *para, const char *end, size_t para_no)
{
	const char *why = NULL;
	size_t off = (size_t)(para - text);
	int r;

	/* attestations only: a paragraph that does not start with the key is
	 * one parse_lines would call PARA_OTHER; not copied nor parsed */
	if (w->s.first_key && strcmp(w->s.first_key, SG_ATTESTATION_KEY) == 0 && !is_attestation(para, end))
		return SG_OK;
	if ((r = parse_paragraph(&w->s, para, (size_t)(end - para), &why)) < 0)
		return r;
	if (r == PARA_OTHER) {
		/* an attestation paragraph is not an event, and not a remark either */
		w->rep.skipped += !is_attestation(para, end);
		return SG_OK;
	}
	if (r == PARA_BAD)
		return report_bad(&w->rep, para_no, off, why);
	if (w->events >= SG_EVENTS_MAX)
		return report_bad(&w->rep, para_no, off, "the note has more events than the limit of "
				  SG_STR(SG_EVENTS_MAX));
	if (w->fields + w->s.ev.n > SG_EVENTS_FIELDS_TOTAL_MAX)
		return report_bad(&w->rep, para_no, off, "the note has more event fields than the limit of "
				  SG_STR(SG_EVENTS_FIELDS_TOTAL_MAX));
	w->events++;
	w->fields += w->s.ev.n;
	return w->cb(&w->s.ev, off, (size_t)(end - para), w->payload);
}

/* The paragraphs whose first key is first_key (NULL: events), values up to
 * value_max (0: SG_EVENT_PARSE_VALUE_MAX). */
static int each_kind(const char *text, size_t len, sg_events_each_cb cb, void *payload,
		     sg_parse_report *report, const char *first_key, size_t value_max)
{
	walker w;
	size_t para_no = 0;
	const char *p, *end, *para = NULL;
	int ret = SG_ERROR;

	memset(&w, 0, sizeof(w));
	w.cb = cb;
	w.payload = payload;
	w.s.first_key = first_key;
	w.s.value_max = value_max;
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
			if ((ret = take_paragraph(&w, text, para, p, ++para_no)) != 0)
				goto done;
			para = NULL;
		} else if (!blank && !para) {
			para = p;
		}
		if (p >= end)
			break;
		p = next;
	}
	if (report) {
		*report = w.rep;
		memset(&w.rep, 0, sizeof(w.rep));
	}
	ret = SG_OK;
done:
	sg_parse_report_release(&w.rep);
	sg_event_scratch_release(&w.s);
	return ret;
}

int sg_events_each(const char *text, size_t len, sg_events_each_cb cb, void *payload, sg_parse_report *report)
{
	return each_kind(text, len, cb, payload, report, NULL, 0);
}

typedef struct parser {
	sg_event *ev;
	size_t n, alloc;
} parser;

/* Keep a deep copy of a parsed event (its values are already clean). */
static int keep_event(const sg_event *e, size_t off, size_t len, void *payload)
{
	parser *ps = payload;
	sg_event copy = { NULL, 0 };
	int err;

	(void)off;
	(void)len;
	size_t i;

	if ((err = sg_array_reserve((void **)&ps->ev, &ps->alloc, ps->n, 8, sizeof(*ps->ev))) < 0)
		return err;
	for (i = 0; i < e->n && err == SG_OK; i++)
		err = event_push_as(&copy, e->f[i].key, strlen(e->f[i].key), e->f[i].value, strlen(e->f[i].value), 1);
	if (err < 0) {
		sg_event_release(&copy);
		return err;
	}
	ps->ev[ps->n++] = copy;
	return 0;
}

int sg_events_parse_report(sg_event **out, size_t *n, sg_parse_report *report, const char *text,
			   size_t len)
{
	parser ps = { NULL, 0, 0 };
	int ret;

	if ((ret = sg_events_each(text, len, keep_event, &ps, report)) < 0) {
		sg_events_free(ps.ev, ps.n);
		return ret;
	}
	*out = ps.ev;
	*n = ps.n;
	return SG_OK;
}

int sg_attestations_parse(sg_event **out, size_t *n, const char *text, size_t len)
{
	parser ps = { NULL, 0, 0 };
	int ret;

	if ((ret = each_kind(text, len, keep_event, &ps, NULL, SG_ATTESTATION_KEY,
			     SG_EVENT_PARSE_LONG_MAX)) < 0) {
		sg_events_free(ps.ev, ps.n);
		return ret;
	}
	*out = ps.ev;
	*n = ps.n;
	return SG_OK;
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

time_t sg_event_time(const sg_event *e, const char *key)
{
	const char *v = sg_event_get(e, key);
	time_t t = 0;

	if (!v || sg_time_parse(&t, v) < 0) {
		sg_error_clear();
		return 0;
	}
	return t;
}
