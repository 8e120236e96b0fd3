/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTQ_INFLIGHT_H
#define VIRTQ_INFLIGHT_H

/**
 * @file
 * libvirtq: the layout of one queue's region of a vhost-user inflight area
 * (vhost-user, "Inflight I/O tracking": QueueRegionSplit and
 * QueueRegionPacked). A device queue given a region (vq_dev_config.inflight)
 * records there the chains it has taken and not yet returned, in memory
 * that outlives the device process; a device started on a region that a
 * dead one left behind takes those chains again before any new one.
 *
 * The layout is the spec's, byte for byte (libvhost's vhost_inflight.h
 * describes the same, for the protocol side). How the fields are kept is
 * said in virtq_dev.h (vq_dev_config.inflight) and doc/virtq.md.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The region version a device writes (0: never initialised). */
#define VQ_INFLIGHT_VERSION 1

/** DescStateSplit: one per descriptor-table entry (meaningful at heads). */
struct vq_inflight_desc_split {
	uint8_t inflight; /**< 1 while the chain at this head is taken */
	uint8_t padding[5];
	uint16_t next;	  /**< the last returned batch, as a list */
	uint64_t counter; /**< order in which the chains were taken */
};

/** QueueRegionSplit. */
struct vq_inflight_split {
	uint64_t features;
	uint16_t version;	  /**< VQ_INFLIGHT_VERSION once initialised */
	uint16_t desc_num;	  /**< queue size */
	uint16_t last_batch_head; /**< first entry of the last returned batch */
	uint16_t used_idx;	  /**< used->idx once the last batch's marks were cleared */
	struct vq_inflight_desc_split desc[];
};

/** DescStatePacked. */
struct vq_inflight_desc_packed {
	uint8_t inflight; /**< 1 while the buffer starting here is taken */
	uint8_t padding;
	uint16_t next;
	uint16_t last;	  /**< slot of the buffer's last descriptor */
	uint16_t num;	  /**< descriptors (ring slots) of the buffer */
	uint64_t counter; /**< order in which the buffers were taken */
	uint16_t id;	  /**< copy of the ring descriptor: buffer id */
	uint16_t flags;	  /**< ... flags as the driver made it available */
	uint32_t len;	  /**< ... length */
	uint64_t addr;	  /**< ... address */
};

/** QueueRegionPacked. */
struct vq_inflight_packed {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t free_head;
	uint16_t old_free_head;
	uint16_t used_idx;	       /**< used slot once the batch being returned is */
	uint16_t old_used_idx;	       /**< used slot of the last complete return */
	uint8_t used_wrap_counter;     /**< with used_idx */
	uint8_t old_used_wrap_counter; /**< with old_used_idx */
	uint8_t padding[7];
	struct vq_inflight_desc_packed desc[];
};

_Static_assert(sizeof(struct vq_inflight_desc_split) == 16, "DescStateSplit layout");
_Static_assert(sizeof(struct vq_inflight_split) == 16, "QueueRegionSplit layout");
_Static_assert(sizeof(struct vq_inflight_desc_packed) == 32, "DescStatePacked layout");
_Static_assert(sizeof(struct vq_inflight_packed) == 32, "QueueRegionPacked layout");

/** Bytes of a region for @p size descriptors (before the area's 64-byte rounding). */
static inline uint64_t
vq_inflight_region_size(unsigned int size, int packed)
{
	return packed ? sizeof(struct vq_inflight_packed) +
				(uint64_t)size * sizeof(struct vq_inflight_desc_packed)
		      : sizeof(struct vq_inflight_split) +
				(uint64_t)size * sizeof(struct vq_inflight_desc_split);
}

#ifdef __cplusplus
}
#endif

#endif /* VIRTQ_INFLIGHT_H */
