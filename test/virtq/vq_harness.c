/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vq_harness.h"

static void
capture_log(void *arg, int err, const char *msg)
{
	struct vq_env *e = arg;

	e->log_calls++;
	e->log_err = err;
	snprintf(e->log_msg, sizeof(e->log_msg), "%s", msg);
}

static int
env_common(struct vq_env *e, unsigned int size, uint64_t features, size_t ring_len, size_t buf_len)
{
	int rc;

	memset(e, 0, sizeof(*e));
	e->size = size;
	e->features = features;
	e->avail_wrap = 1;
	rc = vq_guard_alloc(&e->ring, ring_len, true);
	if (rc)
		return rc;
	rc = vq_guard_alloc(&e->buf, buf_len, true);
	if (rc)
		return rc;
	vq_memmap_init(&e->map);
	rc = vq_memmap_add(&e->map, VQ_ENV_RING_GA, ring_len, e->ring.mem);
	if (rc)
		return rc;
	return vq_memmap_add(&e->map, VQ_ENV_BUF_GA, buf_len, e->buf.mem);
}

static int
dev_init_at(struct vq_env *e, void *desc, void *drv_area, void *dev_area,
	    const struct vq_dev_state *st)
{
	struct vq_dev_config cfg = {
		.size = e->size,
		.features = e->features,
		.desc = desc,
		.driver_area = drv_area,
		.device_area = dev_area,
		.map = &e->map,
		.state = *st,
		.log = capture_log,
		.log_arg = e,
		.inflight = e->inflight,
	};

	return vq_dev_init(&e->dev, &cfg);
}

static int
dev_init(struct vq_env *e, void *desc, void *drv_area, void *dev_area)
{
	const struct vq_dev_state st = VQ_DEV_STATE_START;

	return dev_init_at(e, desc, drv_area, dev_area, &st);
}

int
vq_env_restart(struct vq_env *e, const struct vq_dev_state *st)
{
	return dev_init_at(e, e->ring.mem + e->layout.desc_off, e->ring.mem + e->layout.driver_off,
			   e->ring.mem + e->layout.device_off, st);
}

int
vq_env_raw(struct vq_env *e, unsigned int size, uint64_t features, size_t buf_len)
{
	const bool packed = features & VQ_FEATURE(VQ_F_RING_PACKED);
	struct vq_ring_layout l;
	int rc;

	/* Minimal alignment: the used ring / device area ends the block and
	 * touches the guard page. */
	rc = packed ? vq_packed_layout(size, 4, &l) : vq_split_layout(size, 4, &l);
	if (rc)
		return rc;
	/* The block starts 64-aligned: round its length so the end stays flush. */
	rc = env_common(e, size, features, (l.total + 63) & ~(size_t)63, buf_len);
	if (rc)
		return rc;
	e->layout = l;
	/* Move the layout so the last part ends at the guard (within the
	 * 16 bytes the descriptor alignment leaves). */
	{
		size_t shift = (e->ring.len - l.total) & ~(size_t)15;

		e->layout.desc_off += shift;
		e->layout.driver_off += shift;
		e->layout.device_off += shift;
	}
	return dev_init(e, e->ring.mem + e->layout.desc_off, e->ring.mem + e->layout.driver_off,
			e->ring.mem + e->layout.device_off);
}

int
vq_env_pair(struct vq_env *e, unsigned int size, uint64_t features, unsigned int indirect_max,
	    size_t buf_len)
{
	struct vq_drv_config dc = {
		.size = size,
		.features = features,
		.indirect_max = indirect_max,
		.log = capture_log,
	};
	size_t len = vq_drv_mem_size(&dc);
	int rc;

	if (len == 0)
		return -EINVAL;
	rc = env_common(e, size, features, (len + 63) & ~(size_t)63, buf_len);
	if (rc)
		return rc;
	dc.mem = e->ring.mem;
	dc.mem_iova = VQ_ENV_RING_GA;
	dc.log_arg = e;
	rc = vq_drv_init(&e->drv, &dc);
	if (rc)
		return rc;
	e->has_drv = true;
	e->layout = e->drv.layout;
	return dev_init(e, e->ring.mem + e->layout.desc_off, e->ring.mem + e->layout.driver_off,
			e->ring.mem + e->layout.device_off);
}

void
vq_env_free(struct vq_env *e)
{
	if (e->has_drv)
		vq_drv_fini(&e->drv);
	vq_guard_free(&e->ring);
	vq_guard_free(&e->buf);
	e->has_drv = false;
}

void
vq_env_split_desc(struct vq_env *e, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		  uint16_t next)
{
	struct vq_desc *d = (struct vq_desc *)(e->ring.mem + e->layout.desc_off) + i;

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

void
vq_env_split_push(struct vq_env *e, uint16_t head)
{
	struct vq_avail *a = (struct vq_avail *)(e->ring.mem + e->layout.driver_off);

	a->ring[e->avail_idx & (e->size - 1)] = head;
	e->avail_idx++;
	__atomic_store_n(&a->idx, e->avail_idx, __ATOMIC_RELEASE);
}

uint16_t
vq_env_packed_put(struct vq_env *e, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags,
		  bool defer)
{
	struct vq_pdesc *d = (struct vq_pdesc *)(e->ring.mem + e->layout.desc_off) + e->avail_slot;
	uint16_t slot = e->avail_slot;

	d->addr = addr;
	d->len = len;
	d->id = id;
	if (!defer)
		__atomic_store_n(
			&d->flags,
			(uint16_t)(flags | (e->avail_wrap ? VQ_DESC_F_AVAIL : VQ_DESC_F_USED)),
			__ATOMIC_RELEASE);
	if (++e->avail_slot == e->size) {
		e->avail_slot = 0;
		e->avail_wrap ^= 1;
	}
	return slot;
}

void
vq_env_packed_expose(struct vq_env *e, uint16_t slot, uint16_t flags, uint8_t wrap)
{
	struct vq_pdesc *d = (struct vq_pdesc *)(e->ring.mem + e->layout.desc_off) + slot;

	__atomic_store_n(&d->flags, (uint16_t)(flags | (wrap ? VQ_DESC_F_AVAIL : VQ_DESC_F_USED)),
			 __ATOMIC_RELEASE);
}

uint64_t
vq_env_put_table(struct vq_env *e, size_t off, const void *table, size_t bytes)
{
	memcpy(e->buf.mem + off, table, bytes);
	return vq_env_ga(e, off);
}
