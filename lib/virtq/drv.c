/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver side, out of line: set-up, tear-down, reset, the broken state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtq_drv.h"

/* Ring parts go 64 bytes apart, so the driver's and the device's writes
 * never share a cache line. */
#define DRV_ALIGN 64

static void
log_stderr(void *arg, int err, const char *msg)
{
	(void)arg;
	fprintf(stderr, "virtq: driver queue broken (%s): %s\n", strerror(-err), msg);
}

int
vq_drv_fail(struct vq_drv *q, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (q->error)
		return err;
	q->error = err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(q->log ? q->log : log_stderr)(q->log_arg, err, msg);
	return err;
}

static int
layout(const struct vq_drv_config *cfg, struct vq_ring_layout *l)
{
	if (cfg->features & VQ_FEATURE(VQ_F_RING_PACKED))
		return vq_packed_layout(cfg->size, DRV_ALIGN, l);
	return vq_split_layout(cfg->size, DRV_ALIGN, l);
}

static size_t
rings_size(const struct vq_ring_layout *l)
{
	return (l->total + DRV_ALIGN - 1) & ~(size_t)(DRV_ALIGN - 1);
}

size_t
vq_drv_mem_size(const struct vq_drv_config *cfg)
{
	struct vq_ring_layout l;

	if (layout(cfg, &l) < 0 || cfg->indirect_max > VQ_INDIRECT_MAX)
		return 0;
	if (cfg->indirect_max && !(cfg->features & VQ_FEATURE(VQ_F_INDIRECT_DESC)))
		return 0;
	/* Both descriptor formats are 16 bytes; one table per head / id. */
	return rings_size(&l) + (size_t)cfg->size * cfg->indirect_max * 16;
}

/* Empties the rings and every piece of bookkeeping. */
static void
drv_clear(struct vq_drv *q, void *mem, size_t mem_len)
{
	memset(mem, 0, mem_len);
	memset(q->slot, 0, sizeof(*q->slot) * q->size);
	for (unsigned int i = 0; i < q->size; i++)
		q->next[i] = (uint16_t)((i + 1) % q->size);
	q->num_free = q->size;
	q->free_head = 0;
	q->inflight = 0;
	q->reap_next = 0;
	q->avail_idx = 0;
	q->used_idx = 0;
	q->avail_wrap = 1;
	q->used_wrap = 1;
	q->call_off = 0;
	q->kicked = 0; /* split: avail idx 0; packed: position of (0, wrap 1) */
	q->batch_end = -1;
	q->batch_len = 0;
	q->error = 0;
}

int
vq_drv_init(struct vq_drv *q, const struct vq_drv_config *cfg)
{
	const bool packed = cfg->features & VQ_FEATURE(VQ_F_RING_PACKED);
	size_t len = vq_drv_mem_size(cfg);
	uint8_t *mem = cfg->mem;

	if (q == NULL || len == 0 || mem == NULL || ((uintptr_t)mem & (DRV_ALIGN - 1)) ||
	    (cfg->mem_iova & (DRV_ALIGN - 1)))
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	if (layout(cfg, &q->layout) < 0)
		return -EINVAL;
	q->slot = calloc(cfg->size, sizeof(*q->slot));
	q->next = calloc(cfg->size, sizeof(*q->next));
	if (q->slot == NULL || q->next == NULL) {
		vq_drv_fini(q);
		return -ENOMEM;
	}
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
	q->indirect_max = (uint16_t)cfg->indirect_max;
	if (packed) {
		q->packed.desc = (struct vq_pdesc *)(mem + q->layout.desc_off);
		q->packed.driver = (struct vq_pevent *)(mem + q->layout.driver_off);
		q->packed.device = (struct vq_pevent *)(mem + q->layout.device_off);
	} else {
		q->split.desc = (struct vq_desc *)(mem + q->layout.desc_off);
		q->split.avail = (struct vq_avail *)(mem + q->layout.driver_off);
		q->split.used = (struct vq_used *)(mem + q->layout.device_off);
	}
	q->indirect = mem + rings_size(&q->layout);
	q->mem_iova = cfg->mem_iova;
	q->indirect_iova = cfg->mem_iova + rings_size(&q->layout);
	q->log = cfg->log;
	q->log_arg = cfg->log_arg;
	drv_clear(q, mem, len);
	return 0;
}

void
vq_drv_fini(struct vq_drv *q)
{
	if (q == NULL)
		return;
	free(q->slot);
	free(q->next);
	q->slot = NULL;
	q->next = NULL;
}

void
vq_drv_ring_addrs(const struct vq_drv *q, uint64_t *desc, uint64_t *driver_area,
		  uint64_t *device_area)
{
	*desc = q->mem_iova + q->layout.desc_off;
	*driver_area = q->mem_iova + q->layout.driver_off;
	*device_area = q->mem_iova + q->layout.device_off;
}

unsigned int
vq_drv_reset(struct vq_drv *q, void (*fn)(void *cookie, void *arg), void *arg)
{
	unsigned int n = 0;
	size_t len = rings_size(&q->layout) + (size_t)q->size * q->indirect_max * 16;
	uint8_t *mem =
		(q->flags & VQ_QF_PACKED) ? (uint8_t *)q->packed.desc : (uint8_t *)q->split.desc;

	for (unsigned int i = 0; i < q->size; i++) {
		if (q->slot[i].cookie != NULL) {
			if (fn != NULL)
				fn(q->slot[i].cookie, arg);
			n++;
		}
	}
	drv_clear(q, mem, len);
	return n;
}
