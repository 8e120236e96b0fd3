/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_VIRTIO_H
#define VT_VIRTIO_H

/**
 * @file
 * A small virtio driver for tests, over the common backend interface only
 * (vhost_backend.h): the same code drives kernel vhost-net, vhost-vsock, a
 * vDPA device and a vhost-user back-end. Rings and buffers live in one
 * shared memfd mapping of this process, given to the device as one region
 * with IOVA == virtual address, which every kind accepts.
 *
 * The rings are lib/virtq's driver side (split or packed, as negotiated),
 * one element per buffer; buffer i of a ring is used for its i-th post
 * modulo the ring size, so ids come back as 0, 1, 2... when the device
 * uses buffers in order.
 *
 * Order of use: vt_dev_init(), vh_backend_set_owner(), vt_dev_negotiate(),
 * [kind-specific steps, e.g. vDPA status], vt_dev_start(), [kind-specific:
 * tap backend, vDPA DRIVER_OK], then traffic, then vt_dev_fini().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vhost_backend.h"
#include "virtq.h"

#define VT_VQ_MAX      3
#define VT_BUF_SIZE    2048
#define VT_VQ_USED_MAX 256 /* ring sizes up to 256 */

struct vt_vq {
	unsigned int num;
	struct vq_drv vq; /* set up by vt_dev_start() once the features are known */
	bool vq_init;
	uint8_t *ring;	 /* memory of the ring parts */
	uint8_t *bufs;	 /* num buffers of VT_BUF_SIZE */
	uint32_t posted; /* buffers posted so far: the next one is posted % num */
	/* Used buffers reaped but not yet handed out (vt_vq_wait_used()). */
	uint32_t used_id[VT_VQ_USED_MAX];
	uint32_t used_len[VT_VQ_USED_MAX];
	unsigned int used_head, used_count;
	int kick; /* eventfd we write to notify the device */
	int call; /* eventfd the device signals */
};

struct vt_dev {
	struct vh_backend *b;
	int memfd;
	uint8_t *mem;
	size_t mem_len;
	unsigned int nvq;
	struct vt_vq vq[VT_VQ_MAX];
	uint64_t features; /* negotiated */
};

/** Allocates memory, @p nvq rings of @p num entries and their eventfds. */
int vt_dev_init(struct vt_dev *d, struct vh_backend *b, unsigned int nvq, unsigned int num);

/**
 * Reads the device's features, checks that @p required are offered, acks
 * the offered subset of @p wanted | @p required. Returns 0, -ENOTSUP when a
 * required bit is missing, or the backend's error.
 */
int vt_dev_negotiate(struct vt_dev *d, uint64_t wanted, uint64_t required);

/** The single memory region (IOVA == VA, backed by the memfd). */
void vt_dev_region(const struct vt_dev *d, struct vh_mem_region *r);

/**
 * Memory table, then per ring: num, base 0, addr, kick, call, and enable
 * where the kind has it. Returns 0 or the first failing call's error.
 */
int vt_dev_start(struct vt_dev *d);

/** Closes the eventfds and unmaps the memory (the backend stays). */
void vt_dev_fini(struct vt_dev *d);

/**
 * Posts one buffer on @p q: @p len bytes copied from @p data (device reads
 * it) or, when @p device_writes, an empty buffer of @p len bytes (data may
 * be NULL). Returns the buffer's id, -ENOSPC when the ring is full,
 * -EMSGSIZE when len exceeds VT_BUF_SIZE, -EIO when the ring is broken.
 */
int vt_vq_add(struct vt_vq *q, const void *data, size_t len, bool device_writes);

/** Notifies the device (writes the kick eventfd). */
int vt_vq_kick(struct vt_vq *q);

/**
 * Waits up to @p timeout_ms for the next used element; returns 0 with its
 * id and length, or -ETIMEDOUT, or -EBADMSG if the device broke the ring
 * (an id we never posted, a length longer than the buffer: lib/virtq).
 */
int vt_vq_wait_used(struct vt_vq *q, unsigned int timeout_ms, uint32_t *id, uint32_t *len);

/** Number of used elements not yet reaped. */
unsigned int vt_vq_used_pending(const struct vt_vq *q);

/**
 * Waits up to @p timeout_ms for the call eventfd; returns 0 (and consumes
 * the count) or -ETIMEDOUT.
 */
int vt_vq_wait_call(struct vt_vq *q, unsigned int timeout_ms);

/** Asks the device for interrupts or not (VRING_AVAIL_F_NO_INTERRUPT). */
void vt_vq_set_interrupts(struct vt_vq *q, bool on);

/** Buffer of descriptor @p id. */
uint8_t *vt_vq_buf(struct vt_vq *q, uint32_t id);

/* ---- virtio-net on top: ring 0 receives, ring 1 transmits ---- */

#define VT_NET_RX 0
#define VT_NET_TX 1

/** Header length for the negotiated features (12 with VERSION_1/MRG_RXBUF). */
unsigned int vt_net_hdr_len(const struct vt_dev *d);

/** Sends @p frame with a zeroed header on the transmit ring and kicks. */
int vt_net_send(struct vt_dev *d, const void *frame, size_t len);

/** Posts @p n receive buffers of VT_BUF_SIZE and kicks. */
int vt_net_post_rx(struct vt_dev *d, unsigned int n);

/**
 * Waits for a received buffer; copies its header into @p hdr (when not
 * NULL) and the frame after it into @p frame (@p cap bytes at most), sets
 * @p len to the frame length. Returns 0, -ETIMEDOUT, -EBADMSG for a used
 * length shorter than the header or longer than the buffer.
 */
int vt_net_recv(struct vt_dev *d, struct virtio_net_hdr_mrg_rxbuf *hdr, void *frame, size_t cap,
		size_t *len, unsigned int timeout_ms);

/**
 * Kind-specific steps around the common bring-up; any may be NULL (a
 * vhost-user back-end needs none). Each returns 0 or a negative errno.
 */
struct vt_net_hooks {
	int (*before_features)(struct vh_backend *b, void *arg); /**< vDPA: reset, ACK|DRIVER */
	int (*after_features)(struct vh_backend *b, void *arg);	 /**< vDPA: FEATURES_OK */
	int (*after_start)(struct vh_backend *b, void *arg);	 /**< vDPA: DRIVER_OK; kern: tap */
	void *arg;
};

/**
 * Brings up one virtio-net device through the common interface: rings of
 * @p num entries for receive and transmit, set owner, features (@p wanted
 * where offered, @p required or -ENOTSUP), memory table, rings, with the
 * kind's @p hooks (may be NULL) in between. On failure @p d is finalised.
 * Returns 0 or the first error.
 */
int vt_net_bring_up(struct vt_dev *d, struct vh_backend *b, const struct vt_net_hooks *hooks,
		    uint64_t wanted, uint64_t required, unsigned int num);

/**
 * The loopback check the same for every kind: sends @p frame on @p tx and
 * expects it back unchanged on @p rx (which must have receive buffers
 * posted), with a header that has no offload flags set. Returns a TEST_*
 * code and prints why on failure.
 */
int vt_net_check_loopback(struct vt_dev *tx, struct vt_dev *rx, const uint8_t *frame, size_t len,
			  unsigned int timeout_ms);

#endif /* VT_VIRTIO_H */
