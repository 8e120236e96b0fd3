/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest address translation: the region table and its slow-path lookup.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "virtq_memmap.h"

/* Puts region @p i at @p pick[k], moved up past smaller regions (largest first). */
static void
pick_insert(const struct vq_memmap *m, uint32_t *pick, uint32_t k, uint32_t i)
{
	for (; k > 0 && m->region[pick[k - 1]].size < m->region[i].size; k--)
		pick[k] = pick[k - 1];
	pick[k] = i;
}

/*
 * Rebuilds the fast table: the VQ_MEMMAP_FAST largest regions (the first
 * on a tie), sorted by guest address; the other entries never match.
 */
static void
fast_rebuild(struct vq_memmap *m)
{
	struct vq_memmap_fast *f = &m->fast;
	uint32_t pick[VQ_MEMMAP_FAST], n = 0;

	for (uint32_t i = 0; i < m->nregions; i++) {
		if (n < VQ_MEMMAP_FAST)
			pick_insert(m, pick, n++, i);
		else if (m->region[i].size > m->region[pick[VQ_MEMMAP_FAST - 1]].size)
			pick_insert(m, pick, VQ_MEMMAP_FAST - 1, i);
	}
	/* By guest address. */
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t k = i;
		     k > 0 && m->region[pick[k - 1]].guest_addr > m->region[pick[k]].guest_addr;
		     k--) {
			uint32_t x = pick[k];

			pick[k] = pick[k - 1];
			pick[k - 1] = x;
		}
	for (uint32_t k = 0; k < VQ_MEMMAP_FAST; k++) {
		struct vq_memcache *c = &f->r[k];

		if (k < n) {
			const struct vq_mem_region *r = &m->region[pick[k]];

			c->start = r->guest_addr;
			c->size = r->size;
			c->delta = r->host_addr - r->guest_addr;
		} else {
			c->start = UINT64_MAX;
			c->size = 0;
			c->delta = 0;
		}
	}
	f->n = n;
}

/* Bit k set: region @p r has a chunk of 2^@p shift bytes in direct slot k. */
static uint32_t
direct_slots(const struct vq_mem_region *r, unsigned int shift)
{
	const uint64_t c0 = r->guest_addr >> shift, c1 = (r->guest_addr + r->size - 1) >> shift;
	uint32_t mask = 0;

	if (c1 - c0 >= VQ_MEMMAP_DIRECT - 1)
		return (1u << VQ_MEMMAP_DIRECT) - 1;
	for (uint64_t c = c0; c <= c1; c++)
		mask |= 1u << (c % VQ_MEMMAP_DIRECT);
	return mask;
}

/*
 * Gives each slot at @p shift to a region, largest first (@p order), each
 * taking the slots no larger one took; @p owner[k] is the region of slot k
 * or -1. Returns the bytes of the regions that own every slot they touch.
 */
static uint64_t
direct_assign(const struct vq_memmap *m, const uint32_t *order, unsigned int shift, int *owner)
{
	uint32_t taken = 0;
	uint64_t served = 0;

	for (unsigned int k = 0; k < VQ_MEMMAP_DIRECT; k++)
		owner[k] = -1;
	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vq_mem_region *r = &m->region[order[i]];
		const uint32_t want = direct_slots(r, shift), mine = want & ~taken;

		for (uint32_t left = mine; left != 0; left &= left - 1)
			owner[__builtin_ctz(left)] = (int)order[i];
		taken |= mine;
		if (mine == want)
			served += r->size;
	}
	return served;
}

/* Rebuilds the direct table (struct vq_memmap_direct) for several regions. */
static void
direct_rebuild(struct vq_memmap *m)
{
	struct vq_memmap_direct *d = &m->direct;
	uint32_t order[VQ_MEMMAP_MAX_REGIONS];
	unsigned int best_shift = VQ_MEMMAP_DIRECT_MIN_SHIFT;
	uint64_t best = 0;
	int owner[VQ_MEMMAP_DIRECT];

	memset(d, 0, sizeof(*d));
	d->shift = VQ_MEMMAP_DIRECT_MIN_SHIFT - VQ_MEMMAP_SLOT_SHIFT;
	if (m->identity || m->nregions < 2)
		return;
	for (uint32_t i = 0; i < m->nregions; i++)
		pick_insert(m, order, i, i);
	for (unsigned int s = VQ_MEMMAP_DIRECT_MIN_SHIFT; s < 64; s++) {
		const uint64_t served = direct_assign(m, order, s, owner);

		if (served > best) {
			best = served;
			best_shift = s;
		}
	}
	if (best == 0)
		return;
	direct_assign(m, order, best_shift, owner);
	for (unsigned int k = 0; k < VQ_MEMMAP_DIRECT; k++) {
		if (owner[k] < 0)
			continue;
		const struct vq_mem_region *r = &m->region[owner[k]];

		d->slot[k].start = r->guest_addr;
		d->slot[k].size = r->size;
		d->slot[k].delta = r->host_addr - r->guest_addr;
		d->slot[k].end = r->guest_addr + r->size;
	}
	d->shift = best_shift - VQ_MEMMAP_SLOT_SHIFT;
	d->on = 1;
}

void
vq_memmap_init(struct vq_memmap *m)
{
	memset(m, 0, sizeof(*m));
	fast_rebuild(m);
	direct_rebuild(m);
}

void
vq_memmap_init_identity(struct vq_memmap *m)
{
	vq_memmap_init(m);
	m->identity = 1;
	/* One region covering every address but the last byte: the cache
	 * then serves every lookup and still refuses ranges that wrap. */
	m->region[0].guest_addr = 0;
	m->region[0].size = UINT64_MAX;
	m->region[0].host_addr = 0;
	m->nregions = 1;
	fast_rebuild(m);
	direct_rebuild(m);
}

int
vq_memmap_add(struct vq_memmap *m, uint64_t guest_addr, uint64_t size, void *host)
{
	uint64_t h = (uint64_t)(uintptr_t)host;

	if (m->identity || size == 0 || host == NULL)
		return -EINVAL;
	if (guest_addr + size < guest_addr || h + size < h)
		return -EINVAL;
	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vq_mem_region *r = &m->region[i];

		if (guest_addr < r->guest_addr + r->size && r->guest_addr < guest_addr + size)
			return -EEXIST;
	}
	if (m->nregions == VQ_MEMMAP_MAX_REGIONS)
		return -ENOSPC;
	m->region[m->nregions].guest_addr = guest_addr;
	m->region[m->nregions].size = size;
	m->region[m->nregions].host_addr = h;
	m->nregions++;
	fast_rebuild(m);
	direct_rebuild(m);
	return 0;
}

static const struct vq_mem_region *
find_region(const struct vq_memmap *m, uint64_t addr)
{
	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vq_mem_region *r = &m->region[i];

		if (addr - r->guest_addr < r->size)
			return r;
	}
	return NULL;
}

static void
cache_region(struct vq_memcache *c, const struct vq_mem_region *r)
{
	c->start = r->guest_addr;
	c->size = r->size;
	c->delta = r->host_addr - r->guest_addr;
}

void *
vq_memmap_translate_slow(const struct vq_memmap *m, struct vq_memcache *c, uint64_t addr,
			 uint64_t len)
{
	const struct vq_mem_region *r;
	uint64_t off;

	if (m == NULL)
		return NULL;
	r = find_region(m, addr);
	if (r == NULL)
		return NULL;
	off = addr - r->guest_addr;
	if (len > r->size - off)
		return NULL;
	cache_region(c, r);
	return (void *)(uintptr_t)(r->host_addr + off);
}

void *
vq_memmap_translate_prefix(const struct vq_memmap *m, struct vq_memcache *c, uint64_t addr,
			   uint64_t len, uint64_t *plen)
{
	const struct vq_mem_region *r;
	uint64_t off, room;

	if (m == NULL)
		return NULL;
	r = find_region(m, addr);
	if (r == NULL)
		return NULL;
	off = addr - r->guest_addr;
	room = r->size - off;
	*plen = len < room ? len : room;
	cache_region(c, r);
	return (void *)(uintptr_t)(r->host_addr + off);
}

int
vq_memmap_guest_addr(const struct vq_memmap *m, const void *host, uint64_t *guest_addr)
{
	uint64_t h = (uint64_t)(uintptr_t)host;

	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vq_mem_region *r = &m->region[i];

		if (h - r->host_addr < r->size) {
			*guest_addr = r->guest_addr + (h - r->host_addr);
			return 0;
		}
	}
	return -ENOENT;
}
