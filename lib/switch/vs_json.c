/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON writer and strict parser (RFC 8259).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vs_json.h"

#define JW_DEFAULT_LIMIT (1u << 30)

/* ---- writer ---- */

void
vs_jw_init(struct vs_jw *w, size_t limit)
{
	memset(w, 0, sizeof(*w));
	w->limit = limit != 0 ? limit : JW_DEFAULT_LIMIT;
	w->first[0] = true;
}

void
vs_jw_free(struct vs_jw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

void
vs_jw_reset(struct vs_jw *w)
{
	size_t limit = w->limit;
	char *buf = w->buf;
	size_t cap = w->cap;

	vs_jw_init(w, limit);
	w->buf = buf;
	w->cap = cap;
	if (buf != NULL)
		buf[0] = '\0';
}

const char *
vs_jw_text(const struct vs_jw *w)
{
	if (w->failed)
		return NULL;
	return w->buf != NULL ? w->buf : "";
}

static void
put(struct vs_jw *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap != 0 ? w->cap : 256;
		char *b;

		while (cap < w->len + n + 1)
			cap *= 2;
		if (cap > w->limit + 1)
			cap = w->limit + 1;
		if (w->len + n + 1 > cap) {
			w->failed = true;
			return;
		}
		b = realloc(w->buf, cap);
		if (b == NULL) {
			w->failed = true;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void putf(struct vs_jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct vs_jw *w, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		w->failed = true;
		return;
	}
	put(w, tmp, (size_t)n);
}

static void
comma(struct vs_jw *w)
{
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = false;
}

/*
 * Separates values: after a key nothing, else a comma unless first in its
 * array. A value in an object without a key, or a second top-level value,
 * fails the document.
 */
static void
before_value(struct vs_jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->in_object[w->depth] || (w->depth == 0 && !w->first[0])) {
		w->failed = true;
		return;
	}
	comma(w);
}

static void
open_container(struct vs_jw *w, char c)
{
	before_value(w);
	if (w->depth >= VS_JSON_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	put(w, &c, 1);
	w->depth++;
	w->first[w->depth] = true;
	w->in_object[w->depth] = c == '{';
}

static void
close_container(struct vs_jw *w, char c)
{
	if (w->depth == 0 || w->after_key || w->in_object[w->depth] != (c == '}')) {
		w->failed = true;
		return;
	}
	put(w, &c, 1);
	w->depth--;
}

void
vs_jw_object_open(struct vs_jw *w)
{
	open_container(w, '{');
}

void
vs_jw_object_close(struct vs_jw *w)
{
	close_container(w, '}');
}

void
vs_jw_array_open(struct vs_jw *w)
{
	open_container(w, '[');
}

void
vs_jw_array_close(struct vs_jw *w)
{
	close_container(w, ']');
}

/* Length of the valid UTF-8 sequence at @p s (up to @p n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are invalid. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void
put_string(struct vs_jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	put(w, "\"", 1);
	while (n > 0) {
		size_t run = 0;

		/* Copy runs of plain characters at once. */
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
		       p[run] != '\\')
			run++;
		put(w, (const char *)p, run);
		p += run;
		n -= run;
		if (n == 0)
			break;
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', (char)*p};

			put(w, esc, 2);
			p++;
			n--;
		} else if (*p < 0x20) {
			putf(w, "\\u%04x", *p);
			p++;
			n--;
		} else {
			size_t l = utf8_len(p, n);

			if (l == 0) {
				put(w, "\xef\xbf\xbd", 3);
				l = 1;
			} else {
				put(w, (const char *)p, l);
			}
			p += l;
			n -= l;
		}
	}
	put(w, "\"", 1);
}

void
vs_jw_key(struct vs_jw *w, const char *key)
{
	if (w->after_key || w->depth == 0 || !w->in_object[w->depth]) {
		w->failed = true;
		return;
	}
	comma(w);
	put_string(w, key);
	put(w, ":", 1);
	w->after_key = true;
}

void
vs_jw_str(struct vs_jw *w, const char *s)
{
	before_value(w);
	put_string(w, s != NULL ? s : "");
}

void
vs_jw_u64(struct vs_jw *w, uint64_t v)
{
	before_value(w);
	putf(w, "%" PRIu64, v);
}

void
vs_jw_i64(struct vs_jw *w, int64_t v)
{
	before_value(w);
	putf(w, "%" PRId64, v);
}

void
vs_jw_fixed1(struct vs_jw *w, double v)
{
	before_value(w);
	if (!(v > -1e15 && v < 1e15)) /* also NaN: JSON has no such number */
		v = 0;
	putf(w, "%.1f", v);
}

void
vs_jw_bool(struct vs_jw *w, bool v)
{
	before_value(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void
vs_jw_kv_str(struct vs_jw *w, const char *key, const char *s)
{
	vs_jw_key(w, key);
	vs_jw_str(w, s);
}

void
vs_jw_kv_u64(struct vs_jw *w, const char *key, uint64_t v)
{
	vs_jw_key(w, key);
	vs_jw_u64(w, v);
}

void
vs_jw_kv_bool(struct vs_jw *w, const char *key, bool v)
{
	vs_jw_key(w, key);
	vs_jw_bool(w, v);
}

/* ---- parser ---- */

struct parser {
	const unsigned char *p;
	const unsigned char *start;
	const unsigned char *end;
	char *err;
	size_t errlen;
	bool failed;
};

static void
fail(struct parser *ps, const char *what)
{
	if (ps->failed)
		return;
	ps->failed = true;
	if (ps->err != NULL && ps->errlen > 0)
		snprintf(ps->err, ps->errlen, "%s at byte %zu", what, (size_t)(ps->p - ps->start));
}

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool
literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static int
hex4(struct parser *ps, uint32_t *out)
{
	uint32_t v = 0;

	if (ps->end - ps->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = ps->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	ps->p += 4;
	*out = v;
	return 0;
}

static size_t
utf8_put(char *dst, uint32_t cp)
{
	if (cp < 0x80) {
		dst[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		dst[0] = (char)(0xc0 | cp >> 6);
		dst[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		dst[0] = (char)(0xe0 | cp >> 12);
		dst[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		dst[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	dst[0] = (char)(0xf0 | cp >> 18);
	dst[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	dst[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	dst[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Parses a string at ps->p (on the opening quote) into a new buffer. */
static char *
parse_string(struct parser *ps, size_t *lenp)
{
	/* Decoded text is never longer than its source. */
	size_t cap = 1;
	const unsigned char *q = ps->p + 1;
	char *out, *o;

	while (q < ps->end && *q != '"') {
		q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
	}
	cap += (size_t)(q - ps->p);
	out = malloc(cap);
	if (out == NULL) {
		fail(ps, "out of memory");
		return NULL;
	}
	o = out;
	ps->p++;
	for (;;) {
		unsigned char c;

		if (ps->p >= ps->end) {
			fail(ps, "unterminated string");
			goto bad;
		}
		c = *ps->p;
		if (c == '"') {
			ps->p++;
			break;
		}
		if (c < 0x20) {
			fail(ps, "control character in a string");
			goto bad;
		}
		if (c != '\\') {
			size_t l = utf8_len(ps->p, (size_t)(ps->end - ps->p));

			if (l == 0) {
				fail(ps, "invalid UTF-8");
				goto bad;
			}
			memcpy(o, ps->p, l);
			o += l;
			ps->p += l;
			continue;
		}
		ps->p++;
		if (ps->p >= ps->end) {
			fail(ps, "unterminated escape");
			goto bad;
		}
		c = *ps->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			*o++ = (char)c;
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u': {
			uint32_t cp, lo;

			if (hex4(ps, &cp) != 0) {
				fail(ps, "bad \\u escape");
				goto bad;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (!literal(ps, "\\u") || hex4(ps, &lo) != 0 || lo < 0xdc00 ||
				    lo > 0xdfff) {
					fail(ps, "lone surrogate");
					goto bad;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				fail(ps, "lone surrogate");
				goto bad;
			}
			if (cp == 0) {
				fail(ps, "NUL in a string");
				goto bad;
			}
			/* 6 source bytes (12 for a pair) always cover the encoding. */
			o += utf8_put(o, cp);
			break;
		}
		default:
			fail(ps, "bad escape");
			goto bad;
		}
	}
	*o = '\0';
	*lenp = (size_t)(o - out);
	return out;
bad:
	free(out);
	return NULL;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static char *
parse_number(struct parser *ps, size_t *lenp)
{
	const unsigned char *s = ps->p;
	char *out;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || !is_digit(*ps->p)) {
		fail(ps, "bad number");
		return NULL;
	}
	if (*ps->p == '0')
		ps->p++;
	else
		while (ps->p < ps->end && is_digit(*ps->p))
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (ps->p >= ps->end || !is_digit(*ps->p)) {
			fail(ps, "bad number");
			return NULL;
		}
		while (ps->p < ps->end && is_digit(*ps->p))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || !is_digit(*ps->p)) {
			fail(ps, "bad number");
			return NULL;
		}
		while (ps->p < ps->end && is_digit(*ps->p))
			ps->p++;
	}
	*lenp = (size_t)(ps->p - s);
	out = malloc(*lenp + 1);
	if (out == NULL) {
		fail(ps, "out of memory");
		return NULL;
	}
	memcpy(out, s, *lenp);
	out[*lenp] = '\0';
	return out;
}

static struct vs_json *parse_value(struct parser *ps, int depth);

static struct vs_json *
parse_container(struct parser *ps, int depth, bool object)
{
	struct vs_json *j = calloc(1, sizeof(*j)), **tail;
	char close = object ? '}' : ']';

	if (j == NULL) {
		fail(ps, "out of memory");
		return NULL;
	}
	j->type = object ? VS_JSON_OBJECT : VS_JSON_ARRAY;
	tail = &j->child;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		size_t klen;
		struct vs_json *v;

		skip_ws(ps);
		if (object) {
			if (ps->p >= ps->end || *ps->p != '"') {
				fail(ps, "expected a member name");
				break;
			}
			key = parse_string(ps, &klen);
			if (key == NULL)
				break;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				fail(ps, "expected ':'");
				break;
			}
			ps->p++;
		}
		v = parse_value(ps, depth + 1);
		if (v == NULL) {
			free(key);
			break;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return j;
		}
		fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
		break;
	}
	vs_json_free(j);
	return NULL;
}

static struct vs_json *
parse_value(struct parser *ps, int depth)
{
	struct vs_json *j;

	if (depth > VS_JSON_MAX_DEPTH) {
		fail(ps, "nested too deeply");
		return NULL;
	}
	skip_ws(ps);
	if (ps->p >= ps->end) {
		fail(ps, "expected a value");
		return NULL;
	}
	if (*ps->p == '{' || *ps->p == '[')
		return parse_container(ps, depth, *ps->p == '{');
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		fail(ps, "out of memory");
		return NULL;
	}
	if (*ps->p == '"') {
		j->type = VS_JSON_STRING;
		j->str = parse_string(ps, &j->len);
	} else if (*ps->p == '-' || is_digit(*ps->p)) {
		j->type = VS_JSON_NUMBER;
		j->str = parse_number(ps, &j->len);
	} else if (literal(ps, "true")) {
		j->type = VS_JSON_BOOL;
		j->b = true;
		return j;
	} else if (literal(ps, "false")) {
		j->type = VS_JSON_BOOL;
		return j;
	} else if (literal(ps, "null")) {
		j->type = VS_JSON_NULL;
		return j;
	} else {
		fail(ps, "unexpected character");
	}
	if (j->str == NULL) {
		free(j);
		return NULL;
	}
	return j;
}

struct vs_json *
vs_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser ps = {
		.p = (const unsigned char *)text,
		.start = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.err = err,
		.errlen = errlen,
	};
	struct vs_json *j;

	if (text == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "no text");
		return NULL;
	}
	j = parse_value(&ps, 1);
	if (j == NULL)
		return NULL;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		fail(&ps, "trailing data");
		vs_json_free(j);
		return NULL;
	}
	return j;
}

void
vs_json_free(struct vs_json *j)
{
	/* Iterative over siblings, recursive over depth (bounded by the parser). */
	while (j != NULL) {
		struct vs_json *next = j->next;

		vs_json_free(j->child);
		free(j->key);
		free(j->str);
		free(j);
		j = next;
	}
}

const struct vs_json *
vs_json_get(const struct vs_json *obj, const char *key)
{
	if (obj == NULL || obj->type != VS_JSON_OBJECT)
		return NULL;
	for (const struct vs_json *m = obj->child; m != NULL; m = m->next)
		if (m->key != NULL && strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

const char *
vs_json_string(const struct vs_json *j)
{
	return j != NULL && j->type == VS_JSON_STRING ? j->str : NULL;
}

int
vs_json_u64(const struct vs_json *j, uint64_t *out)
{
	uint64_t v = 0;

	if (j == NULL || j->type != VS_JSON_NUMBER || j->len == 0)
		return -EINVAL;
	for (size_t i = 0; i < j->len; i++) {
		unsigned char c = (unsigned char)j->str[i];

		if (!is_digit(c) || v > (UINT64_MAX - (c - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (c - '0');
	}
	*out = v;
	return 0;
}

size_t
vs_json_count(const struct vs_json *j)
{
	size_t n = 0;

	if (j == NULL || (j->type != VS_JSON_ARRAY && j->type != VS_JSON_OBJECT))
		return 0;
	for (const struct vs_json *c = j->child; c != NULL; c = c->next)
		n++;
	return n;
}
