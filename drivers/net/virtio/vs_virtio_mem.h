/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_VIRTIO_MEM_H
#define VS_VIRTIO_MEM_H

/**
 * @file
 * The memory table of the virtio port: which of the switch's memory a
 * device sees. Addresses are the process's virtual addresses throughout
 * (guest_phys_addr == userspace_addr, IOVA == VA).
 *
 * DPDK's memory is described from its memory segments, as DPDK's own
 * net_virtio_user does: segments adjacent in virtual address space (and,
 * where the device maps fds, in the same fd at adjacent offsets) merge into
 * one region. With --single-file-segments (or --no-huge, backed by a memfd)
 * each segment list is one file, so the mbuf pool and the rings are a
 * region or two; with a file per hugepage they are a region per page.
 * Only regions holding something the device needs are kept.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "vhost_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most regions a table holds (Linux vhost's default max_mem_regions). */
#define VS_VMEM_MAX 64

/** A memory table. */
struct vs_vmem {
	unsigned int n;
	struct vh_mem_region r[VS_VMEM_MAX];
};

/** A range the device must see. */
struct vs_vmem_range {
	uintptr_t addr;
	size_t len;
};

/**
 * Builds @p m from DPDK's memory segments: the regions that hold any of
 * @p need. With @p need_fd (vhost-user), a segment without an fd is left
 * out, so a range in it is not covered.
 *
 * @return 0, or -E2BIG when more than VS_VMEM_MAX regions would be needed,
 *         -ENOMEM
 */
int vs_vmem_from_dpdk(struct vs_vmem *m, bool need_fd, const struct vs_vmem_range *need,
		      unsigned int nneed);

/** @return true when [@p addr, +@p len) lies wholly inside one region of @p m. */
bool vs_vmem_covers(const struct vs_vmem *m, uintptr_t addr, size_t len);

/**
 * @return true when every memory chunk of @p mp lies wholly inside one
 *         region of @p m, so its mbufs can be handed to the device as they are.
 */
bool vs_vmem_covers_mempool(const struct vs_vmem *m, struct rte_mempool *mp);

/**
 * Appends the memory chunks of @p mp to @p need (at most @p max entries in
 * all, *@p n in use).
 *
 * @return 0, or -E2BIG when they do not fit
 */
int vs_vmem_mempool_ranges(struct rte_mempool *mp, struct vs_vmem_range *need, unsigned int *n,
			   unsigned int max);

#ifdef __cplusplus
}
#endif

#endif /* VS_VIRTIO_MEM_H */
