/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VQ_HARNESS_H
#define VQ_HARNESS_H

/*
 * Rings and "guest memory" laid out in local, guarded memory for the virtq
 * tests. Guest addresses differ from host addresses, so a missing
 * translation shows.
 *
 * Raw mode (vq_env_raw): the test writes descriptors by hand (malformed
 * chains). Driver mode (vq_env_pair): our driver side owns the rings and the
 * device side serves them.
 */

#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"
#include "vq_guard.h"

/* Guest addresses of the two regions. */
#define VQ_ENV_RING_GA 0x40000000ULL
#define VQ_ENV_BUF_GA  0x100000000ULL

struct vq_env {
	unsigned int size;
	uint64_t features;
	struct vq_guard ring; /* rings (and, in driver mode, indirect tables) */
	struct vq_guard buf;  /* packet buffers */
	struct vq_memmap map;
	struct vq_dev dev;
	struct vq_drv drv;
	bool has_drv;
	/* raw mode ring pointers */
	struct vq_ring_layout layout;
	uint16_t avail_idx;  /* split: next avail idx the test writes */
	uint16_t avail_slot; /* packed: next slot the test writes */
	uint8_t avail_wrap;
	void *inflight; /* inflight region the device is (re)started with, or NULL */
	/* captured log */
	int log_calls;
	int log_err;
	char log_msg[256];
};

/* Sets up raw rings of @p size with @p buf_len bytes of guest buffers. */
int vq_env_raw(struct vq_env *e, unsigned int size, uint64_t features, size_t buf_len);

/* Sets up our driver and device on the same rings. */
int vq_env_pair(struct vq_env *e, unsigned int size, uint64_t features, unsigned int indirect_max,
		size_t buf_len);

/* Sets the device side up again on the same rings from @p st, as a device
 * that replaces one which died would. */
int vq_env_restart(struct vq_env *e, const struct vq_dev_state *st);

/* Frees everything. */
void vq_env_free(struct vq_env *e);

/* Guest address / host pointer of buffer byte @p off. */
static inline uint64_t
vq_env_ga(const struct vq_env *e, size_t off)
{
	(void)e;
	return VQ_ENV_BUF_GA + off;
}

static inline uint8_t *
vq_env_hp(const struct vq_env *e, size_t off)
{
	return e->buf.mem + off;
}

/* Guest address of ring-block byte @p host (a pointer into e->ring). */
static inline uint64_t
vq_env_ring_ga(const struct vq_env *e, const void *host)
{
	return VQ_ENV_RING_GA + (uint64_t)((const uint8_t *)host - e->ring.mem);
}

/* Raw split: descriptor table entry @p i. */
void vq_env_split_desc(struct vq_env *e, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		       uint16_t next);
/* Raw split: publishes @p head in the available ring. */
void vq_env_split_push(struct vq_env *e, uint16_t head);

/* Raw packed: writes the next descriptor (flags get the avail bits; the
 * first of a chain is exposed by vq_env_packed_expose()). Returns its slot. */
uint16_t vq_env_packed_put(struct vq_env *e, uint64_t addr, uint32_t len, uint16_t id,
			   uint16_t flags, bool defer);
/* Raw packed: exposes a deferred descriptor at @p slot with @p flags. */
void vq_env_packed_expose(struct vq_env *e, uint16_t slot, uint16_t flags, uint8_t wrap);

/* Places an indirect table of @p n split descriptors in the buffer area at
 * @p off; returns its guest address. */
uint64_t vq_env_put_table(struct vq_env *e, size_t off, const void *table, size_t bytes);

#endif /* VQ_HARNESS_H */
