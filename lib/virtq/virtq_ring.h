/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTQ_RING_H
#define VIRTQ_RING_H

/**
 * @file
 * libvirtq: virtqueue ring layouts (VIRTIO 1.2, 2.7 "Split Virtqueues" and
 * 2.8 "Packed Virtqueues"), feature bits and size/alignment helpers.
 *
 * Every multi-byte field is little-endian on the wire. This library supports
 * little-endian hosts only (x86-64, little-endian arm64), so the structures
 * are used in place without byte swapping.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libvirtq supports little-endian hosts only"
#endif

/* Feature bits (VIRTIO 1.2, 6 "Reserved Feature Bits"; 5.1.3 for net). */
#define VQ_F_INDIRECT_DESC 28 /**< VIRTIO_F_INDIRECT_DESC */
#define VQ_F_EVENT_IDX	   29 /**< VIRTIO_F_EVENT_IDX */
#define VQ_F_VERSION_1	   32 /**< VIRTIO_F_VERSION_1 */
#define VQ_F_RING_PACKED   34 /**< VIRTIO_F_RING_PACKED */
#define VQ_F_IN_ORDER	   35 /**< VIRTIO_F_IN_ORDER */
#define VQ_NET_F_MRG_RXBUF 15 /**< VIRTIO_NET_F_MRG_RXBUF */

/** The feature mask of bit @p bit. */
#define VQ_FEATURE(bit) (1ULL << (bit))

/* Descriptor flags (2.7.5 split, 2.8.x packed). */
#define VQ_DESC_F_NEXT	   0x0001 /**< chain continues (split: in @c next) */
#define VQ_DESC_F_WRITE	   0x0002 /**< device-writable element */
#define VQ_DESC_F_INDIRECT 0x0004 /**< element is a table of descriptors */
#define VQ_DESC_F_AVAIL	   0x0080 /**< packed: available flag */
#define VQ_DESC_F_USED	   0x8000 /**< packed: used flag */

/* Split ring notification suppression flags (2.7.7, 2.7.10). */
#define VQ_AVAIL_F_NO_INTERRUPT 1 /**< driver: no used buffer notifications */
#define VQ_USED_F_NO_NOTIFY	1 /**< device: no available buffer notifications */

/* Packed ring event suppression flags (2.8.10). */
#define VQ_EVENT_F_ENABLE  0x0	  /**< notify on every change */
#define VQ_EVENT_F_DISABLE 0x1	  /**< no notifications */
#define VQ_EVENT_F_DESC	   0x2	  /**< notify at one descriptor (needs EVENT_IDX) */
#define VQ_EVENT_WRAP	   0x8000 /**< wrap counter bit in off_wrap */

/** Largest queue size of either format (2.7 and 2.8: 32768). */
#define VQ_MAX_SIZE 32768

/** Split ring descriptor (2.7.5 struct virtq_desc). */
struct vq_desc {
	uint64_t addr;	/**< guest address of the element */
	uint32_t len;	/**< length in bytes */
	uint16_t flags; /**< VQ_DESC_F_* */
	uint16_t next;	/**< next descriptor index when VQ_DESC_F_NEXT */
};

/** Split available ring (2.7.6); used_event follows ring[size]. */
struct vq_avail {
	uint16_t flags;	 /**< VQ_AVAIL_F_NO_INTERRUPT */
	uint16_t idx;	 /**< where the driver puts the next entry (free-running) */
	uint16_t ring[]; /**< heads of chains, then used_event */
};

/** Split used ring element (2.7.8 struct virtq_used_elem). */
struct vq_used_elem {
	uint32_t id;  /**< head index of the chain */
	uint32_t len; /**< bytes written into the chain */
};

/** Split used ring (2.7.8); avail_event follows ring[size]. */
struct vq_used {
	uint16_t flags;		    /**< VQ_USED_F_NO_NOTIFY */
	uint16_t idx;		    /**< where the device puts the next entry (free-running) */
	struct vq_used_elem ring[]; /**< used elements, then avail_event */
};

/** Packed ring descriptor (2.8.13 struct pvirtq_desc). */
struct vq_pdesc {
	uint64_t addr;	/**< guest address of the element */
	uint32_t len;	/**< length; in a used descriptor, bytes written */
	uint16_t id;	/**< buffer id */
	uint16_t flags; /**< VQ_DESC_F_* */
};

/** Packed ring event suppression structure (2.8.14 struct pvirtq_event_suppress). */
struct vq_pevent {
	uint16_t off_wrap; /**< descriptor offset (bits 0-14) and wrap counter (bit 15) */
	uint16_t flags;	   /**< VQ_EVENT_F_* */
};

#ifdef __cplusplus
#define VQ_STATIC_ASSERT static_assert
#else
#define VQ_STATIC_ASSERT _Static_assert
#endif

VQ_STATIC_ASSERT(sizeof(struct vq_desc) == 16, "virtq_desc is 16 bytes");
VQ_STATIC_ASSERT(sizeof(struct vq_used_elem) == 8, "virtq_used_elem is 8 bytes");
VQ_STATIC_ASSERT(sizeof(struct vq_pdesc) == 16, "pvirtq_desc is 16 bytes");
VQ_STATIC_ASSERT(sizeof(struct vq_pevent) == 4, "pvirtq_event_suppress is 4 bytes");

/* Minimum alignments (2.7 and 2.8 "Structure Size and Alignment"). */
#define VQ_SPLIT_DESC_ALIGN   16
#define VQ_SPLIT_AVAIL_ALIGN  2
#define VQ_SPLIT_USED_ALIGN   4
#define VQ_PACKED_DESC_ALIGN  16
#define VQ_PACKED_EVENT_ALIGN 4

/** Bytes of a split descriptor table of @p size entries. */
static inline size_t
vq_split_desc_size(unsigned int size)
{
	return (size_t)size * sizeof(struct vq_desc);
}

/** Bytes of a split available ring of @p size entries, used_event included. */
static inline size_t
vq_split_avail_size(unsigned int size)
{
	return 4 + 2 * (size_t)size + 2;
}

/** Bytes of a split used ring of @p size entries, avail_event included. */
static inline size_t
vq_split_used_size(unsigned int size)
{
	return 4 + 8 * (size_t)size + 2;
}

/** Bytes of a packed descriptor ring of @p size entries. */
static inline size_t
vq_packed_desc_size(unsigned int size)
{
	return (size_t)size * sizeof(struct vq_pdesc);
}

/** Where each part of a ring lives inside one contiguous block. */
struct vq_ring_layout {
	size_t desc_off;   /**< descriptor table / descriptor ring */
	size_t driver_off; /**< split: available ring; packed: driver event suppression */
	size_t device_off; /**< split: used ring; packed: device event suppression */
	size_t total;	   /**< bytes of the block */
};

/**
 * Lays out a split ring in one block: the descriptor table at 0, the
 * available ring right after it, the used ring at the next multiple of
 * @p align (4 is the minimum; 64 keeps the driver's and the device's parts
 * in separate cache lines; 4096 gives the legacy layout of 2.7.2).
 *
 * @param size queue size, a power of two in [1, 32768]
 * @param align alignment of the used ring, a power of two >= 4
 * @param l filled on success
 * @return 0, or -EINVAL for a bad @p size or @p align
 */
int vq_split_layout(unsigned int size, size_t align, struct vq_ring_layout *l);

/**
 * Lays out a packed ring in one block: the descriptor ring at 0, then the
 * driver and the device event suppression structures, each at the next
 * multiple of @p align.
 *
 * @param size queue size in [1, 32768] (need not be a power of two)
 * @param align alignment of the event structures, a power of two >= 4
 * @param l filled on success
 * @return 0, or -EINVAL for a bad @p size or @p align
 */
int vq_packed_layout(unsigned int size, size_t align, struct vq_ring_layout *l);

#ifdef __cplusplus
}
#endif

#endif /* VIRTQ_RING_H */
