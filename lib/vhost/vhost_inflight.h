/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_INFLIGHT_H
#define VHOST_INFLIGHT_H

/**
 * @file
 * libvhost: the shared inflight-descriptor area of GET/SET_INFLIGHT_FD
 * (vhost-user: "Inflight I/O tracking").
 *
 * The area is one region per virtqueue, each a header followed by one entry
 * per descriptor, laid out as the spec's QueueRegionSplit /
 * QueueRegionPacked. Each queue region is rounded up to 64 bytes. A
 * back-end's data path updates its queue's region as it takes and completes
 * descriptors and, after a reconnect, resubmits what is still inflight. A
 * fresh area is all zeroes (version 0: "uninitialized"); the data path that
 * starts using it sets version 1 and desc_num.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest inflight area accepted or created. */
#define VH_INFLIGHT_MAX_SIZE (128ULL << 20)
/** Each queue region is aligned to this many bytes. */
#define VH_INFLIGHT_ALIGN 64

/** DescStateSplit. */
struct vh_inflight_desc_split {
	uint8_t inflight;
	uint8_t padding[5];
	uint16_t next;
	uint64_t counter;
};

/** QueueRegionSplit. */
struct vh_inflight_split {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
	struct vh_inflight_desc_split desc[];
};

/** DescStatePacked. */
struct vh_inflight_desc_packed {
	uint8_t inflight;
	uint8_t padding;
	uint16_t next;
	uint16_t last;
	uint16_t num;
	uint64_t counter;
	uint16_t id;
	uint16_t flags;
	uint32_t len;
	uint64_t addr;
};

/** QueueRegionPacked. */
struct vh_inflight_packed {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t free_head;
	uint16_t old_free_head;
	uint16_t used_idx;
	uint16_t old_used_idx;
	uint8_t used_wrap_counter;
	uint8_t old_used_wrap_counter;
	uint8_t padding[7];
	struct vh_inflight_desc_packed desc[];
};

/** A mapped inflight area. */
struct vh_inflight {
	uint8_t *base;		   /**< start of queue 0's region; NULL when unmapped */
	uint64_t size;		   /**< bytes of the area */
	uint64_t queue_size_bytes; /**< bytes of each queue region */
	uint16_t num_queues;	   /**< queue regions in the area */
	uint16_t queue_size;	   /**< descriptors per queue */
	bool packed;		   /**< regions are QueueRegionPacked */
	/* Bookkeeping of inflight.c. */
	void *map_base;
	size_t map_len;
	int fd;		 /**< a duplicate of the area's fd while mapped (for a hand-over) */
	uint64_t offset; /**< where the area starts in that file */
};

/** Bytes of one queue region for @p queue_size descriptors (64-byte aligned). */
uint64_t vh_inflight_queue_region_size(uint16_t queue_size, bool packed);

/**
 * Creates a zeroed area for @p num_queues queues of @p queue_size
 * descriptors in a new memfd, maps it and returns an fd of it in @p fd (the
 * caller sends and closes it; the area keeps its own).
 *
 * @return 0, -EINVAL (zero counts or an area above VH_INFLIGHT_MAX_SIZE), or
 *         the negative errno of memfd_create/ftruncate/mmap.
 */
int vh_inflight_create(struct vh_inflight *inf, uint16_t num_queues, uint16_t queue_size,
		       bool packed, int *fd);

/**
 * Maps the area of SET_INFLIGHT_FD: @p mmap_size bytes at @p mmap_offset of
 * @p fd (not closed; the area keeps a duplicate), which must hold @p num_queues regions for
 * @p queue_size descriptors.
 *
 * @return 0, -EINVAL for inconsistent sizes, -ERANGE when the file is too
 *         short, -EBADF, or the negative errno of mmap.
 */
int vh_inflight_map(struct vh_inflight *inf, int fd, uint64_t mmap_size, uint64_t mmap_offset,
		    uint16_t num_queues, uint16_t queue_size, bool packed);

/** Unmaps @p inf and closes its fd (an unmapped area is a no-op). */
void vh_inflight_unmap(struct vh_inflight *inf);

/**
 * Returns queue @p idx's region (a struct vh_inflight_split or
 * vh_inflight_packed) or NULL when the area has no such queue.
 */
void *vh_inflight_queue(const struct vh_inflight *inf, unsigned int idx);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_INFLIGHT_H */
