/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_JSON_H
#define VS_JSON_H

/**
 * @file
 * Small JSON for the management protocol: a writer that builds a compact
 * document in a growing buffer, and a strict parser (RFC 8259) into a tree,
 * for untrusted input: depth, size and encoding are checked. libc only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VS_JSON_MAX_DEPTH 32

/* ---- writer ---- */

struct vs_jw {
	char *buf;
	size_t len;
	size_t cap;
	size_t limit; /**< the document may not grow beyond this; 0: 1 GiB */
	int depth;
	bool first[VS_JSON_MAX_DEPTH + 1];
	bool in_object[VS_JSON_MAX_DEPTH + 1];
	bool after_key;
	bool failed; /**< out of memory, over the limit, or misuse */
};

/** Starts an empty document that may grow to @p limit bytes (0: 1 GiB). */
void vs_jw_init(struct vs_jw *w, size_t limit);
/** Frees the buffer. */
void vs_jw_free(struct vs_jw *w);
/** Empties the document, keeping the buffer. */
void vs_jw_reset(struct vs_jw *w);
/** @return the text (NUL-terminated), or NULL when anything failed. */
const char *vs_jw_text(const struct vs_jw *w);

void vs_jw_object_open(struct vs_jw *w);
void vs_jw_object_close(struct vs_jw *w);
void vs_jw_array_open(struct vs_jw *w);
void vs_jw_array_close(struct vs_jw *w);
/** Writes a member name; the next value is its value. */
void vs_jw_key(struct vs_jw *w, const char *key);
/** Writes @p s as a string, escaped; bytes that are not UTF-8 become U+FFFD. */
void vs_jw_str(struct vs_jw *w, const char *s);
void vs_jw_u64(struct vs_jw *w, uint64_t v);
void vs_jw_i64(struct vs_jw *w, int64_t v);
/** Writes @p v with one decimal (percentages). */
void vs_jw_fixed1(struct vs_jw *w, double v);
void vs_jw_bool(struct vs_jw *w, bool v);

/** Shorthands for a member: key then value. */
void vs_jw_kv_str(struct vs_jw *w, const char *key, const char *s);
void vs_jw_kv_u64(struct vs_jw *w, const char *key, uint64_t v);
void vs_jw_kv_bool(struct vs_jw *w, const char *key, bool v);

/* ---- parser ---- */

enum vs_json_type {
	VS_JSON_NULL,
	VS_JSON_BOOL,
	VS_JSON_NUMBER,
	VS_JSON_STRING,
	VS_JSON_ARRAY,
	VS_JSON_OBJECT,
};

/** One value; members and elements are a list through @ref next. */
struct vs_json {
	enum vs_json_type type;
	char *key;	       /**< member name, when in an object */
	char *str;	       /**< STRING: decoded UTF-8; NUMBER: the literal */
	size_t len;	       /**< bytes of @ref str */
	bool b;		       /**< BOOL */
	struct vs_json *child; /**< ARRAY/OBJECT: first element or member */
	struct vs_json *next;
};

/**
 * Parses exactly one JSON value in @p text (@p len bytes; surrounding white
 * space allowed). Rejects trailing data, nesting deeper than
 * VS_JSON_MAX_DEPTH, invalid UTF-8, unescaped control characters, lone
 * surrogates, NUL in strings and malformed numbers.
 * @return the tree (free with vs_json_free), or NULL with a one-line reason
 * (naming the byte offset) in @p err
 */
struct vs_json *vs_json_parse(const char *text, size_t len, char *err, size_t errlen);

/** Frees @p j and everything under it (NULL is ignored). */
void vs_json_free(struct vs_json *j);

/** @return member @p key of object @p obj, or NULL. */
const struct vs_json *vs_json_get(const struct vs_json *obj, const char *key);

/** @return the string of @p j, or NULL when @p j is no string. */
const char *vs_json_string(const struct vs_json *j);

/**
 * Reads @p j as a non-negative integer.
 * @return 0, or -EINVAL when it is no number, has a fraction or exponent,
 * is negative or does not fit
 */
int vs_json_u64(const struct vs_json *j, uint64_t *out);

/** @return the number of elements or members of @p j (0 for scalars). */
size_t vs_json_count(const struct vs_json *j);

#ifdef __cplusplus
}
#endif

#endif /* VS_JSON_H */
