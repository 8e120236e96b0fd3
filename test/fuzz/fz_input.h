/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FZ_INPUT_H
#define FZ_INPUT_H

/*
 * Reading a fuzz input: little-endian integers and byte runs taken from the
 * front, zeros once it is exhausted (so every input, however short, is a
 * complete program for the target), and fz_check(), the targets' own
 * invariant check, which aborts so that libFuzzer records the input.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz_input {
	const uint8_t *p;
	size_t left;
};

static inline void
fz_init(struct fz_input *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->left = size;
}

static inline bool
fz_empty(const struct fz_input *in)
{
	return in->left == 0;
}

/* Copies up to @p n bytes into @p dst, zero-filling what the input lacks; returns bytes read. */
static inline size_t
fz_bytes(struct fz_input *in, void *dst, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	if (k > 0)
		memcpy(dst, in->p, k);
	if (k < n)
		memset((uint8_t *)dst + k, 0, n - k);
	in->p += k;
	in->left -= k;
	return k;
}

static inline uint8_t
fz_u8(struct fz_input *in)
{
	uint8_t v;

	fz_bytes(in, &v, 1);
	return v;
}

static inline uint16_t
fz_u16(struct fz_input *in)
{
	uint8_t b[2];

	fz_bytes(in, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t
fz_u32(struct fz_input *in)
{
	uint8_t b[4];

	fz_bytes(in, b, 4);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t
fz_u64(struct fz_input *in)
{
	uint64_t lo = fz_u32(in);

	return lo | (uint64_t)fz_u32(in) << 32;
}

/* A target's invariant: a violation is a finding, recorded like a crash. */
#define fz_check(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz invariant violated at %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The writer side, for the seed generators: appends to a growing buffer. */
struct fz_out {
	uint8_t *buf;
	size_t len;
	size_t cap;
};

static inline void
fz_put(struct fz_out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 256;

		while (cap < o->len + n)
			cap *= 2;
		o->buf = realloc(o->buf, cap);
		if (o->buf == NULL)
			abort();
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static inline void
fz_put_u8(struct fz_out *o, uint8_t v)
{
	fz_put(o, &v, 1);
}

static inline void
fz_put_u16(struct fz_out *o, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	fz_put(o, b, 2);
}

static inline void
fz_put_u32(struct fz_out *o, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	fz_put(o, b, 4);
}

static inline void
fz_put_u64(struct fz_out *o, uint64_t v)
{
	fz_put_u32(o, (uint32_t)v);
	fz_put_u32(o, (uint32_t)(v >> 32));
}

/* Writes @p o to @p path; returns 0 or -1. */
static inline int
fz_out_save(const struct fz_out *o, const char *path)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (f == NULL)
		return -1;
	if (fwrite(o->buf, 1, o->len, f) != o->len)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

#endif /* FZ_INPUT_H */
