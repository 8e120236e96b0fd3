/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTQ_DRV_H
#define VIRTQ_DRV_H

/**
 * @file
 * libvirtq, driver side: a virtqueue whose rings and buffers live in the
 * caller's own memory (the switch's virtio uplink). The caller posts chains
 * of (guest address, length) elements with a cookie each, decides whether to
 * kick the device, and reaps used chains back as (cookie, length).
 *
 * The device is trusted less than our own memory: a used id that is not in
 * flight, a used index that moves past what is in flight or a length larger
 * than what was posted marks the queue broken (vq_drv_error()), logged once.
 * The driver's bookkeeping (free lists, chain lengths, cookies) is private,
 * never read back from the shared rings.
 *
 * Fast-path calls are static inline in virtq_split.h, virtq_packed.h and
 * virtq.h. One queue is used by one thread at a time.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtq_dev.h"
#include "virtq_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One element to post: a guest address (as the device sees it) and a length. */
struct vq_drv_seg {
	uint64_t addr;	/**< guest address / IOVA */
	uint32_t len;	/**< bytes */
	uint16_t flags; /**< VQ_DESC_F_WRITE for a device-writable element, else 0 */
	uint16_t resv;
};

/** One chain to post: readable elements first, then writable ones. */
struct vq_drv_chain {
	void *cookie;		      /**< returned when the chain is reaped; not NULL */
	const struct vq_drv_seg *seg; /**< the elements */
	uint16_t nseg;		      /**< elements, >= 1 */
};

/** How to set up a driver queue. */
struct vq_drv_config {
	unsigned int size;	   /**< queue size: split a power of two, both <= 32768 */
	uint64_t features;	   /**< negotiated feature bits */
	unsigned int indirect_max; /**< elements per indirect table; 0: no indirect */
	void *mem;	   /**< vq_drv_mem_size() bytes, 64-byte aligned, shared with the device */
	uint64_t mem_iova; /**< the device's address of @c mem */
	vq_log_fn log;	   /**< NULL: log to stderr */
	void *log_arg;	   /**< passed to @c log */
};

/** Per-chain bookkeeping, indexed by head (split) or buffer id (packed). Internal. */
struct vq_drv_slot {
	void *cookie;	/**< NULL when not in flight */
	uint32_t wlen;	/**< device-writable bytes posted */
	uint16_t ndesc; /**< ring descriptors it occupies */
	uint16_t last;	/**< split: its last descriptor (for the free list) */
};

/**
 * A driver queue. Fields are read by the inline fast path; treat them as
 * private and use the functions.
 */
struct vq_drv {
	uint16_t size;	       /**< queue size */
	uint16_t mask;	       /**< split: size - 1 */
	uint16_t avail_idx;    /**< split: free-running avail idx; packed: next slot */
	uint16_t used_idx;     /**< split: next used idx to read; packed: next used slot */
	uint8_t avail_wrap;    /**< packed */
	uint8_t used_wrap;     /**< packed */
	uint8_t flags;	       /**< VQ_QF_* */
	uint8_t call_off;      /**< calls currently suppressed through the flags */
	uint16_t num_free;     /**< free descriptors (ring slots) */
	uint16_t free_head;    /**< split: first free descriptor; packed: first free id;
				    in order: the next descriptor / slot to use */
	uint16_t inflight;     /**< chains posted and not reaped */
	uint16_t reap_next;    /**< in order: head / id of the oldest chain in flight */
	uint32_t kicked;       /**< split: avail idx at the last kick decision; packed: position */
	int32_t batch_end;     /**< in order: id ending the batch being reaped, or -1 */
	uint32_t batch_len;    /**< in order: its used length */
	int error;	       /**< 0, or the negative errno that broke the queue */
	uint16_t indirect_max; /**< elements per indirect table, 0 without */
	union {
		struct {
			struct vq_desc *desc;
			struct vq_avail *avail;
			struct vq_used *used;
		} split;
		struct {
			struct vq_pdesc *desc;
			struct vq_pevent *driver;
			struct vq_pevent *device;
		} packed;
	};
	struct vq_drv_slot *slot; /**< [size] */
	uint16_t *next;		  /**< [size] split: descriptor links; packed: free id list */
	uint8_t *indirect;	  /**< size tables of indirect_max entries */
	uint64_t indirect_iova;	  /**< device address of @c indirect */
	uint64_t mem_iova;	  /**< device address of the rings */
	struct vq_ring_layout layout;
	vq_log_fn log;
	void *log_arg;
	uint64_t features;
};

/**
 * Bytes of shared memory a driver queue needs (rings, then indirect tables).
 *
 * @param cfg size, features and indirect_max are read
 * @return bytes, or 0 for a bad configuration
 */
size_t vq_drv_mem_size(const struct vq_drv_config *cfg);

/**
 * Sets up a driver queue in @c cfg->mem (zeroed here) and allocates its
 * private bookkeeping. Not for the fast path.
 *
 * @param q the queue
 * @param cfg see struct vq_drv_config
 * @return 0; -EINVAL for a bad size, features, memory or alignment;
 *         -ENOMEM if the bookkeeping cannot be allocated
 */
int vq_drv_init(struct vq_drv *q, const struct vq_drv_config *cfg);

/**
 * Frees the private bookkeeping (not the shared memory). Chains still in
 * flight are forgotten; the caller owns their cookies.
 *
 * @param q the queue (may be zeroed/never initialised)
 */
void vq_drv_fini(struct vq_drv *q);

/**
 * Device addresses of the three ring parts, for SET_VRING_ADDR.
 *
 * @param q the queue
 * @param desc descriptor table / ring
 * @param driver_area split: available ring; packed: driver event suppression
 * @param device_area split: used ring; packed: device event suppression
 */
void vq_drv_ring_addrs(const struct vq_drv *q, uint64_t *desc, uint64_t *driver_area,
		       uint64_t *device_area);

/**
 * Takes back every chain in flight without the device (after the device was
 * stopped, or reset): calls @p fn on each cookie and makes the ring empty
 * again, as after vq_drv_init().
 *
 * @param q the queue
 * @param fn called with each cookie and @p arg
 * @param arg passed to @p fn
 * @return chains released
 */
unsigned int vq_drv_reset(struct vq_drv *q, void (*fn)(void *cookie, void *arg), void *arg);

/**
 * Marks the queue broken with @p err, logging once. Internal.
 *
 * @return @p err
 */
int vq_drv_fail(struct vq_drv *q, int err, const char *fmt, ...)
	__attribute__((cold, format(printf, 3, 4)));

/**
 * Why the queue is broken.
 *
 * @param q the queue
 * @return 0 if it is not; -ERANGE (used idx past what is in flight, bad used
 *         id), -EINVAL (used length larger than posted)
 */
static inline int
vq_drv_error(const struct vq_drv *q)
{
	return q->error;
}

/**
 * Free descriptors (ring slots): a chain of n elements needs n, or 1 when it
 * goes indirect.
 *
 * @param q the queue
 * @return free descriptors
 */
static inline unsigned int
vq_drv_free_count(const struct vq_drv *q)
{
	return q->num_free;
}

/**
 * Chains in flight.
 *
 * @param q the queue
 * @return chains posted and not yet reaped
 */
static inline unsigned int
vq_drv_inflight(const struct vq_drv *q)
{
	return q->inflight;
}

#ifdef __cplusplus
}
#endif

#endif /* VIRTQ_DRV_H */
