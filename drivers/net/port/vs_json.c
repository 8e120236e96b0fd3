/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON writer; reading is jansson's (strict RFC 8259) with a few helpers.
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

/* ---- reading (jansson) ---- */

const char *
vs_json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int
vs_json_u64(const json_t *j, uint64_t *out)
{
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -EINVAL;
	*out = (uint64_t)json_integer_value(j);
	return 0;
}

uint64_t
vs_json_u64_of(const json_t *obj, const char *key)
{
	uint64_t v = 0;

	vs_json_u64(json_object_get(obj, key), &v);
	return v;
}

json_t *
vs_json_load(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t e;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);

	if (j == NULL && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s at byte %d", e.text, e.position);
	return j;
}
