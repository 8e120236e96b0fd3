/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device side, out of line: set-up, ring position, and the broken state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dev_priv.h"
#include "virtq_dev.h"

static void
log_stderr(void *arg, int err, const char *msg)
{
	(void)arg;
	fprintf(stderr, "virtq: queue broken (%s): %s\n", strerror(-err), msg);
}

int
vq_dev_fail(struct vq_dev *q, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (q->error)
		return err; /* logged once, when it first broke */
	q->error = err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(q->log ? q->log : log_stderr)(q->log_arg, err, msg);
	return err;
}

bool
vq_dev_first_call(struct vq_dev *q)
{
	q->flags &= (uint8_t)~VQ_QF_FIRST_CALL;
	return true;
}

static int
aligned(const void *p, uintptr_t align)
{
	return p != NULL && ((uintptr_t)p & (align - 1)) == 0;
}

int
vq_dev_init(struct vq_dev *q, const struct vq_dev_config *cfg)
{
	const bool packed = cfg->features & VQ_FEATURE(VQ_F_RING_PACKED);
	const struct vq_dev_state *st = &cfg->state;

	if (q == NULL || cfg->size == 0 || cfg->size > VQ_MAX_SIZE || cfg->map == NULL)
		return -EINVAL;
	if (cfg->inflight != NULL && ((uintptr_t)cfg->inflight & 7) != 0)
		return -EINVAL;
	if (packed) {
		if (!aligned(cfg->desc, VQ_PACKED_DESC_ALIGN) ||
		    !aligned(cfg->driver_area, VQ_PACKED_EVENT_ALIGN) ||
		    !aligned(cfg->device_area, VQ_PACKED_EVENT_ALIGN))
			return -EINVAL;
		if (st->last_avail >= cfg->size || st->used_idx >= cfg->size ||
		    st->avail_wrap > 1 || st->used_wrap > 1)
			return -EINVAL;
	} else {
		if (cfg->size & (cfg->size - 1))
			return -EINVAL;
		if (!aligned(cfg->desc, VQ_SPLIT_DESC_ALIGN) ||
		    !aligned(cfg->driver_area, VQ_SPLIT_AVAIL_ALIGN) ||
		    !aligned(cfg->device_area, VQ_SPLIT_USED_ALIGN))
			return -EINVAL;
	}
	memset(q, 0, sizeof(*q));
	q->size = (uint16_t)cfg->size;
	q->mask = (uint16_t)(cfg->size - 1);
	q->features = cfg->features;
	if (packed)
		q->flags |= VQ_QF_PACKED;
	if (cfg->features & VQ_FEATURE(VQ_F_EVENT_IDX))
		q->flags |= VQ_QF_EVENT_IDX;
	if (cfg->features & VQ_FEATURE(VQ_F_INDIRECT_DESC))
		q->flags |= VQ_QF_INDIRECT;
	if (cfg->features & VQ_FEATURE(VQ_F_IN_ORDER))
		q->flags |= VQ_QF_IN_ORDER;
	if (cfg->features & VQ_FEATURE(VQ_NET_F_MRG_RXBUF))
		q->flags |= VQ_QF_MRG_RXBUF;
	if (packed) {
		q->packed.desc = cfg->desc;
		q->packed.driver = cfg->driver_area;
		q->packed.device = cfg->device_area;
	} else {
		q->split.desc = cfg->desc;
		q->split.avail = cfg->driver_area;
		q->split.used = cfg->device_area;
	}
	q->last_avail = st->last_avail;
	q->used_idx = st->used_idx;
	q->avail_wrap = st->avail_wrap;
	q->used_wrap = st->used_wrap;
	q->map = cfg->map;
	vq_memcache_reset(&q->cache);
	/* Nothing returned yet: the next call decision covers from here, and
	 * notifies whatever the driver's event index says (VQ_QF_FIRST_CALL). */
	q->signalled =
		packed ? (uint32_t)(q->used_idx + (q->used_wrap ? 0 : q->size)) : q->used_idx;
	q->flags |= VQ_QF_FIRST_CALL;
	q->log = cfg->log;
	q->log_arg = cfg->log_arg;
	if (cfg->dirty.fn != NULL) {
		q->dirty = cfg->dirty;
		q->flags |= VQ_QF_DIRTY;
	}
	if (cfg->inflight != NULL)
		vq_dev_inflight_init(q, cfg->inflight);
	return 0;
}

/* ---- dirty-page logging (live migration) ---- */

/* Guest address of host pointer @p p, found through the cached region first. */
static int
dirty_gpa(const struct vq_dev *q, const uint8_t *p, uint64_t *gpa)
{
	const uint64_t h = (uint64_t)(uintptr_t)p;

	if (q->cache.size != 0 && h - (q->cache.start + q->cache.delta) < q->cache.size) {
		*gpa = h - q->cache.delta;
		return 0;
	}
	return vq_memmap_guest_addr(q->map, p, gpa);
}

/* The first @p used bytes of @p c's device-writable segments. */
static void
dirty_chain(const struct vq_dev *q, const struct vq_chain *c, uint32_t used)
{
	for (unsigned int i = c->nread; i < c->nseg && used > 0; i++) {
		const struct vq_seg *s = &c->seg[i];
		const uint32_t n = s->len < used ? s->len : used;
		uint64_t gpa;

		/* A segment lies in one region (lib/virtq splits the others). */
		if (n > 0 && dirty_gpa(q, s->addr, &gpa) == 0)
			q->dirty.fn(q->dirty.arg, gpa, n);
		used -= n;
	}
}

/* Ring entries [first, first + n) of @p entry bytes each, from @p base, wrapping at size. */
static void
dirty_ring_entries(const struct vq_dev *q, uint64_t base, uint32_t entry, uint32_t first,
		   uint32_t n)
{
	const uint32_t size = q->size;

	if (n > size)
		n = size;
	if (first + n > size) {
		q->dirty.fn(q->dirty.arg, base + (uint64_t)first * entry,
			    (uint64_t)(size - first) * entry);
		n -= size - first;
		first = 0;
	}
	if (n > 0)
		q->dirty.fn(q->dirty.arg, base + (uint64_t)first * entry, (uint64_t)n * entry);
}

void
vq_dev_dirty_return(struct vq_dev *q, const struct vq_burst *b)
{
	unsigned int slots = 0;

	for (unsigned int i = 0; i < b->nchain; i++) {
		const struct vq_chain *c = &b->chain[i];

		if (c->used_len > 0)
			dirty_chain(q, c, c->used_len);
		slots += c->ndesc;
	}
	if (!q->dirty.rings || b->nchain == 0)
		return;
	if (q->flags & VQ_QF_PACKED) {
		/* The used descriptors go where the burst's buffers were. */
		dirty_ring_entries(q, q->dirty.desc_gpa, sizeof(struct vq_pdesc), q->used_idx,
				   slots);
	} else {
		/* The used elements, then flags and idx. */
		dirty_ring_entries(q, q->dirty.device_gpa + 4, sizeof(struct vq_used_elem),
				   q->used_idx & q->mask, b->nchain);
		q->dirty.fn(q->dirty.arg, q->dirty.device_gpa, 4);
	}
}

void
vq_dev_dirty_device_area(struct vq_dev *q, uint64_t off, uint64_t len)
{
	if (q->dirty.rings)
		q->dirty.fn(q->dirty.arg, q->dirty.device_gpa + off, len);
}

void
vq_dev_set_memmap(struct vq_dev *q, const struct vq_memmap *map)
{
	q->map = map;
	vq_memcache_reset(&q->cache);
}

void
vq_dev_get_state(const struct vq_dev *q, struct vq_dev_state *st)
{
	st->last_avail = q->last_avail;
	st->used_idx = q->used_idx;
	st->avail_wrap = q->avail_wrap;
	st->used_wrap = q->used_wrap;
}

uint32_t
vq_dev_state_to_vring_base(const struct vq_dev_state *st, bool packed)
{
	if (!packed)
		return st->last_avail;
	return (uint32_t)(st->last_avail & 0x7fff) | (uint32_t)(st->avail_wrap & 1) << 15 |
	       (uint32_t)(st->used_idx & 0x7fff) << 16 | (uint32_t)(st->used_wrap & 1) << 31;
}

void
vq_dev_state_from_vring_base(uint32_t base, bool packed, struct vq_dev_state *st)
{
	memset(st, 0, sizeof(*st));
	if (!packed) {
		st->last_avail = (uint16_t)base;
		st->used_idx = (uint16_t)base;
		return;
	}
	st->last_avail = base & 0x7fff;
	st->avail_wrap = (base >> 15) & 1;
	if (base >> 16) {
		st->used_idx = (base >> 16) & 0x7fff;
		st->used_wrap = (base >> 31) & 1;
	} else {
		st->used_idx = st->last_avail;
		st->used_wrap = st->avail_wrap;
	}
}
