/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The memory table from DPDK's memory segments. See vs_virtio_mem.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_memory.h>

#include "vs_virtio_mem.h"

struct walk {
	bool need_fd;
	unsigned int n, cap;
	struct vh_mem_region *r;
	int err;
};

static int
add_segment(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	struct walk *w = arg;
	struct vh_mem_region *last = w->n ? &w->r[w->n - 1] : NULL;
	uintptr_t va = (uintptr_t)ms->addr;
	size_t off = 0;
	int fd = -1;

	if (ms->addr == NULL || ms->len == 0)
		return 0;
	if (msl->external == 0) {
		/* We hold the memory lock in the walk: the _thread_unsafe calls are the ones. */
		fd = rte_memseg_get_fd_thread_unsafe(ms);
		if (fd >= 0 && rte_memseg_get_fd_offset_thread_unsafe(ms, &off) != 0)
			fd = -1;
	}
	if (fd < 0 && w->need_fd)
		return 0;
	if (!w->need_fd)
		fd = -1;
	if (last != NULL && last->userspace_addr + last->memory_size == va && last->fd == fd &&
	    (fd < 0 || last->mmap_offset + last->memory_size == off)) {
		last->memory_size += ms->len;
		return 0;
	}
	if (w->n == w->cap) {
		unsigned int cap = w->cap ? 2 * w->cap : 64;
		struct vh_mem_region *r = realloc(w->r, cap * sizeof(*r));

		if (r == NULL) {
			w->err = -ENOMEM;
			return -1;
		}
		w->r = r;
		w->cap = cap;
	}
	w->r[w->n++] = (struct vh_mem_region){
		.guest_phys_addr = va,
		.memory_size = ms->len,
		.userspace_addr = va,
		.mmap_offset = fd >= 0 ? off : 0,
		.fd = fd,
	};
	return 0;
}

static bool
holds_any(const struct vh_mem_region *r, const struct vs_vmem_range *need, unsigned int nneed)
{
	for (unsigned int i = 0; i < nneed; i++)
		if (need[i].addr < r->userspace_addr + r->memory_size &&
		    need[i].addr + need[i].len > r->userspace_addr)
			return true;
	return false;
}

int
vs_vmem_from_dpdk(struct vs_vmem *m, bool need_fd, const struct vs_vmem_range *need,
		  unsigned int nneed)
{
	struct walk w = {.need_fd = need_fd};
	int rc = 0;

	m->n = 0;
	if (rte_memseg_walk(add_segment, &w) < 0 && w.err != 0) {
		free(w.r);
		return w.err;
	}
	for (unsigned int i = 0; i < w.n; i++) {
		if (!holds_any(&w.r[i], need, nneed))
			continue;
		if (m->n == VS_VMEM_MAX) {
			rc = -E2BIG;
			break;
		}
		m->r[m->n++] = w.r[i];
	}
	free(w.r);
	return rc;
}

bool
vs_vmem_covers(const struct vs_vmem *m, uintptr_t addr, size_t len)
{
	for (unsigned int i = 0; i < m->n; i++) {
		const struct vh_mem_region *r = &m->r[i];

		if (addr >= r->userspace_addr && len <= r->memory_size &&
		    addr - r->userspace_addr <= r->memory_size - len)
			return true;
	}
	return false;
}

struct chunks {
	const struct vs_vmem *m;
	struct vs_vmem_range *need;
	unsigned int *n, max;
	bool ok;
};

static void
check_chunk(struct rte_mempool *mp, void *arg, struct rte_mempool_memhdr *hdr, unsigned int idx)
{
	struct chunks *c = arg;

	(void)mp;
	(void)idx;
	if (c->m != NULL) {
		if (!vs_vmem_covers(c->m, (uintptr_t)hdr->addr, hdr->len))
			c->ok = false;
		return;
	}
	if (*c->n == c->max) {
		c->ok = false;
		return;
	}
	c->need[(*c->n)++] = (struct vs_vmem_range){(uintptr_t)hdr->addr, hdr->len};
}

bool
vs_vmem_covers_mempool(const struct vs_vmem *m, struct rte_mempool *mp)
{
	struct chunks c = {.m = m, .ok = true};

	if (rte_mempool_mem_iter(mp, check_chunk, &c) == 0)
		return false;
	return c.ok;
}

int
vs_vmem_mempool_ranges(struct rte_mempool *mp, struct vs_vmem_range *need, unsigned int *n,
		       unsigned int max)
{
	struct chunks c = {.need = need, .n = n, .max = max, .ok = true};

	rte_mempool_mem_iter(mp, check_chunk, &c);
	return c.ok ? 0 : -E2BIG;
}
