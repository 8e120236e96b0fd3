/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VQ_GUARD_H
#define VQ_GUARD_H

/*
 * Guarded memory for the virtq tests: every block sits between PROT_NONE
 * pages, flush against one of them, so a read or write just outside it
 * crashes the test instead of passing silently.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vq_guard {
	uint8_t *mem; /* the usable block */
	size_t len;   /* its length */
	uint8_t *map; /* the whole mapping, guards included */
	size_t maplen;
};

/*
 * Maps @p len usable bytes between guard pages. With @p at_end the block
 * ends exactly where the upper guard starts (overruns fault at once); else
 * it starts right after the lower guard (underruns fault), 64-byte aligned
 * either way when @p len is a multiple of 64. Returns 0 or -errno.
 */
int vq_guard_alloc(struct vq_guard *g, size_t len, bool at_end);

/* Unmaps the block (a zeroed struct is fine). */
void vq_guard_free(struct vq_guard *g);

#endif /* VQ_GUARD_H */
