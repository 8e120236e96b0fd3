/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_JSON_H
#define VS_JSON_H

/**
 * @file
 * JSON for the management protocol: a writer that builds a compact document
 * in a growing buffer, and reading through jansson (already a DPDK
 * dependency), which parses the untrusted requests strictly.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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

/* ---- reading: jansson, with a few helpers ---- */

/**
 * Parses exactly one JSON document of @p len bytes with jansson (strict
 * RFC 8259: valid UTF-8, no trailing data; here also no duplicate keys and no
 * "\u0000" in strings).
 * @return the document (json_decref it), or NULL with a one-line reason
 * (naming the byte offset) in @p err
 */
json_t *vs_json_load(const char *text, size_t len, char *err, size_t errlen);

/** @return the string member @p key of @p obj, or NULL when missing or no string. */
const char *vs_json_str(const json_t *obj, const char *key);

/**
 * Reads @p j as a non-negative integer.
 * @return 0, or -EINVAL when it is no integer or is negative
 */
int vs_json_u64(const json_t *j, uint64_t *out);

/** @return the non-negative integer member @p key of @p obj, or 0. */
uint64_t vs_json_u64_of(const json_t *obj, const char *key);

#ifdef __cplusplus
}
#endif

#endif /* VS_JSON_H */
