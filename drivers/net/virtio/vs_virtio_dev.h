/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_VIRTIO_DEV_H
#define VS_VIRTIO_DEV_H

/**
 * @file
 * The core of the virtio port, without DPDK: a virtio-net device driven
 * through lib/vhost's common backend interface (vhost_backend.h) plus the
 * extension of its kind, with its rings run by lib/virtq's driver side.
 *
 * - kernel vhost-net: the rings' backend is a tap (vhost_kern.h), created
 *   or attached by name, carrying the 12-byte virtio-net header;
 * - vDPA: the virtio status handshake (virtio 1.2, 3.1.1) around the
 *   common calls; the memory table becomes IOTLB maps (vhost_vdpa.h);
 * - vhost-user: the front-end's view of the common interface
 *   (vhost_user_frontend.h); connecting and reconnecting is the caller's.
 *
 * Memory: the caller gives the rings' memory and the memory table. Every
 * address handed to the device (rings, buffers) is the process's virtual
 * address, and the table maps each region with guest_phys_addr ==
 * userspace_addr (IOVA == VA), which every kind accepts (vhost_backend.h).
 *
 * Queue i (0 <= i < pairs) is rings 2i (receive) and 2i+1 (transmit), as in
 * virtio-net (virtio 1.2, 5.1.2). What goes into the rings (packet buffers,
 * mbufs) is the caller's: it posts and reaps with vq_drv_* on
 * vs_vdev_ring.vq and kicks with vs_vdev_kick().
 *
 * Not thread-safe: start and stop on one (control) thread; a ring's fast
 * path on one thread at a time, never concurrently with start or stop.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <net/if.h>

#include "vhost_backend.h"
#include "virtq.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Severity of the core's messages, as syslog levels. */
enum vs_vdev_log_level {
	VS_VDEV_LOG_ERR = 3,	 /**< the device refused or failed something asked of it */
	VS_VDEV_LOG_WARNING = 4, /**< it works with less than asked (no promiscuous mode, ...) */
};

/** A log hook: one line (no newline) at a vs_vdev_log_level. */
typedef void (*vs_vdev_log_fn)(int level, const char *line);

/**
 * Sends the core's messages to @p fn (NULL: "virtio: <line>" on stderr, the
 * default). Set it once at start-up; the port glue routes them to rte_log.
 */
void vs_vdev_set_log(vs_vdev_log_fn fn);

#define VS_VDEV_MAX_PAIRS 8
#define VS_VDEV_MAX_RINGS (2 * VS_VDEV_MAX_PAIRS)

/** Feature bits (virtio 1.2, 5.1.3 and 6). */
#define VS_VNET_F_CSUM		    0
#define VS_VNET_F_GUEST_CSUM	    1
#define VS_VNET_F_MTU		    3
#define VS_VNET_F_MAC		    5
#define VS_VNET_F_GUEST_TSO4	    7
#define VS_VNET_F_GUEST_TSO6	    8
#define VS_VNET_F_HOST_TSO4	    11
#define VS_VNET_F_HOST_TSO6	    12
#define VS_VNET_F_MRG_RXBUF	    15
#define VS_VNET_F_STATUS	    16
#define VS_VNET_F_CTRL_VQ	    17
#define VS_VNET_F_CTRL_RX	    18
#define VS_VNET_F_MQ		    22
#define VS_VNET_F_CTRL_MAC_ADDR	    23
#define VS_VIRTIO_F_ACCESS_PLATFORM 33

/** The offload features: checksum and TSO, both directions. */
#define VS_VNET_OFFLOADS                                                                           \
	((1ULL << VS_VNET_F_CSUM) | (1ULL << VS_VNET_F_GUEST_CSUM) |                               \
	 (1ULL << VS_VNET_F_GUEST_TSO4) | (1ULL << VS_VNET_F_GUEST_TSO6) |                         \
	 (1ULL << VS_VNET_F_HOST_TSO4) | (1ULL << VS_VNET_F_HOST_TSO6))

/**
 * The virtio-net header with VIRTIO_F_VERSION_1 (virtio 1.2, 5.1.6): always
 * 12 bytes, num_buffers meaningful with MRG_RXBUF only.
 */
struct vs_vnet_hdr {
	uint8_t flags; /**< VS_VNET_HDR_F_* */
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

#define VS_VNET_HDR_F_NEEDS_CSUM 1
#define VS_VNET_HDR_F_DATA_VALID 2
#define VS_VNET_HDR_GSO_NONE	 0
#define VS_VNET_HDR_GSO_TCPV4	 1
#define VS_VNET_HDR_GSO_UDP	 3
#define VS_VNET_HDR_GSO_TCPV6	 4
#define VS_VNET_HDR_GSO_ECN	 0x80

/** How to bring a device up. */
struct vs_vdev_config {
	/** Queue pairs wanted, 1..VS_VDEV_MAX_PAIRS; fewer when the device has fewer. */
	unsigned int pairs;
	/** Queue pairs the device has (vhost-user: GET_QUEUE_NUM); 0 means 1. */
	unsigned int device_pairs;
	/** Ring size, a power of two in 16..VQ_MAX_SIZE. */
	unsigned int ring_size;
	/** Elements per indirect table (0: no indirect descriptors). */
	unsigned int indirect_max;
	/**
	 * Features accepted where the device offers them. VERSION_1 is
	 * required and always acked; ACCESS_PLATFORM is acked for vDPA (its
	 * IOTLB is exactly the translation the device needs) and never for
	 * the others; MQ is acked with pairs > 1.
	 */
	uint64_t want;
	/** Memory for ring i: vs_vdev_ring_mem_size() bytes, 64-byte aligned, in the table. */
	void *ring_mem[VS_VDEV_MAX_RINGS];
	/** The memory table: covers ring_mem and every buffer the caller will post. */
	const struct vh_mem_region *regions;
	unsigned int nregions;
	/** vhost-net: the tap interface (created if missing); NULL for "vs-tap%d". */
	const char *tap;
	/**
	 * vDPA: vs_vdev_ctrl_mem_size() bytes for the control queue, in the
	 * table; NULL: no control queue. With it the device is put in
	 * promiscuous and all-multicast mode (CTRL_RX), given @c mac
	 * (CTRL_MAC_ADDR) and told how many pairs to use (MQ), where it offers
	 * these (virtio 1.2, 5.1.6.5).
	 */
	void *ctrl_mem;
	/** The MAC to give the device through the control queue, if @c set_mac. */
	uint8_t mac[6];
	bool set_mac;
	/** Broken-ring reports of lib/virtq (NULL: stderr). */
	vq_log_fn log;
	void *log_arg;
};

/** One ring of a running device. */
struct vs_vdev_ring {
	struct vq_drv vq; /**< the ring; post, reap and kick decisions with vq_drv_*() */
	int kick;	  /**< eventfd: the device's available buffer notification */
	int call;	  /**< eventfd the device signals (suppressed: we poll) */
	bool init;	  /**< vq set up */
};

/** A device, from vs_vdev_start() to vs_vdev_stop(). */
struct vs_vdev {
	struct vh_backend *b;	/**< the device (the caller's; not destroyed here) */
	uint64_t offered;	/**< the device's features */
	uint64_t features;	/**< negotiated */
	unsigned int pairs;	/**< queue pairs in use */
	unsigned int ring_size; /**< entries per ring */
	bool started;		/**< every ring of every pair runs */
	uint16_t mtu;		/**< the device's MTU (VIRTIO_NET_F_MTU, vDPA), else 0 */
	uint8_t mac[6];		/**< the device's MAC (VIRTIO_NET_F_MAC, vDPA), else zeros */
	int mem_rc;		/**< the memory table's error when bring-up failed there, else 0 */
	int tap_fd;		/**< vhost-net: the tap, else -1 */
	char ifname[IFNAMSIZ];	/**< vhost-net: the tap's name */
	bool promisc;		/**< the device takes every frame (CTRL_RX acked) */
	struct vs_vdev_ring ring[VS_VDEV_MAX_RINGS];
	struct vs_vdev_ring ctrl; /**< the control queue, when negotiated */
	unsigned int ctrl_idx;	  /**< its ring index (2 x the device's pairs) */
	uint8_t *ctrl_buf;	  /**< command buffer, in the table */
};

/**
 * Bytes of ring memory ring needs for @p ring_size entries with
 * @p indirect_max elements per indirect table, whatever the features (the
 * larger of the split and packed layouts).
 *
 * @return bytes, or 0 for a bad size
 */
size_t vs_vdev_ring_mem_size(unsigned int ring_size, unsigned int indirect_max);

/**
 * Bytes of memory the control queue needs (its ring and a command buffer).
 */
size_t vs_vdev_ctrl_mem_size(void);

/**
 * Sends one control queue command (virtio 1.2, 5.1.6.5) and waits up to
 * @p timeout_ms for the device's answer. Control thread only.
 *
 * @param d the device (started, with a control queue)
 * @param cls command class (VIRTIO_NET_CTRL_RX = 0, MAC = 1, MQ = 4)
 * @param cmd command
 * @param data command-specific data (up to 16 bytes)
 * @param len its length
 * @return 0, -ENOTSUP (no control queue), -EIO (the device answered
 *         VIRTIO_NET_ERR), -ETIMEDOUT, -EINVAL, or the ring's error
 */
int vs_vdev_ctrl(struct vs_vdev *d, uint8_t cls, uint8_t cmd, const void *data, uint16_t len,
		 unsigned int timeout_ms);

/**
 * Brings the device up: owner, features (virtio 1.2, 3.1.1, with the vDPA
 * status handshake), memory table, every ring of @c cfg->pairs queue pairs
 * (num, base, addresses, kick and call eventfds, enable), then the kind's
 * start (vhost-net: tap backend; vDPA: DRIVER_OK). Notifications from the
 * device are suppressed (the caller polls). On failure everything done is
 * undone (vs_vdev_stop()).
 *
 * @param d    the device (overwritten)
 * @param b    the backend, set up by its kind's open/connect (not owned)
 * @param cfg  see struct vs_vdev_config
 * @return 0, or a negative errno: -EINVAL (bad config), -ENOTSUP (no
 *         VERSION_1), -EPROTO (the device refused FEATURES_OK or
 *         DRIVER_OK), -E2BIG (too many regions), or the backend's error.
 */
int vs_vdev_start(struct vs_vdev *d, struct vh_backend *b, const struct vs_vdev_config *cfg);

/**
 * Stops the device's rings (vhost-user: GET_VRING_BASE; vhost-net: the
 * tap is detached and closed; vDPA: reset) and hands every buffer still in
 * flight back through @p release. Errors of a device that went away are
 * ignored. Safe on a device that never started or already stopped.
 *
 * @param d        the device
 * @param release  called with each cookie in flight and @p arg (may be NULL)
 * @param arg      passed to @p release
 */
void vs_vdev_stop(struct vs_vdev *d, void (*release)(void *cookie, void *arg), void *arg);

/**
 * Notifies the device of new available buffers on @p r (one eventfd write).
 * Call it when vq_drv_kick_needed() says so.
 *
 * @return 0, or the negative errno of the write
 */
int vs_vdev_kick(struct vs_vdev_ring *r);

/** @return the virtio-net header length in the rings: 12 (VERSION_1). */
static inline unsigned int
vs_vdev_hdr_len(const struct vs_vdev *d)
{
	(void)d;
	return sizeof(struct vs_vnet_hdr);
}

/** @return true when @p bit was negotiated. */
static inline bool
vs_vdev_has(const struct vs_vdev *d, unsigned int bit)
{
	return (d->features >> bit) & 1;
}

#ifdef __cplusplus
}
#endif

#endif /* VS_VIRTIO_DEV_H */
