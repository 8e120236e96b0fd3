/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest address translation: the region table and its slow-path lookup.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "virtq_memmap.h"

void
vq_memmap_init(struct vq_memmap *m)
{
	memset(m, 0, sizeof(*m));
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
