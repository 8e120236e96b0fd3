/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_VIRTIO_PRIV_H
#define VS_VIRTIO_PRIV_H

/*
 * The virtio port's private state, shared by its control path
 * (vs_virtio.c) and its data path (vs_virtio_rxtx.c).
 *
 * Two ways to hand packets to the device, chosen at each bring-up:
 *
 * - zero-copy (the default): the memory table holds DPDK's memory where
 *   the rings and the mbuf pool live, so mbufs are posted as receive
 *   buffers as they are and transmitted in place (the header goes in the
 *   headroom of an mbuf we own alone, else in a header slot of ours). An
 *   mbuf from memory the device cannot see is copied into one of ours
 *   first.
 * - copy: the device sees only a private shared-memory area holding the
 *   rings and fixed buffers; packets are copied in and out. Used when the
 *   pool's memory cannot be described to the device (vhost-user without
 *   fds for DPDK's memory: --no-huge or hugepages without
 *   --single-file-segments; more pieces than the back-end takes regions),
 *   or when forced with copy=1.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include "vs_port.h"
#include "vs_virtio_dev.h"
#include "vs_virtio_mem.h"

#define VIO_BURST 32
/*
 * Elements per indirect table: a 64 KiB TSO frame in 2 KiB mbufs and its
 * header; a non-mergeable receive chain of 64 KiB. Rings are at least
 * this long, so a chain that cannot go indirect still fits.
 */
#define VIO_INDIRECT_MAX 40
#define VIO_RING_MIN	 64

/* A transmit header slot, for packets whose headroom we may not write. */
struct vio_txslot {
	struct rte_mbuf *m;
};

/* Cookies of header-slot chains carry bit 0 (slots are 8-byte aligned). */
#define VIO_SLOT_TAG 1u

struct vio_rxq {
	struct vq_drv *vq;
	struct vs_vdev_ring *ring;
	struct rte_mempool *mp;
	uint32_t ready; /* read by the worker with acquire: the rings below are live */
	bool mrg;	/* MRG_RXBUF: a packet spans num_buffers buffers */
	bool copy;
	uint16_t chain;	       /* mbufs per receive chain without MRG_RXBUF */
	uint16_t chain_desc;   /* ring slots one chain takes */
	uint16_t max_bufs;     /* most buffers one packet may claim */
	uint16_t port_id;      /* stored in received mbufs */
	uint16_t refill_min;   /* refill once this many slots are free */
	uint32_t buf_cap;      /* zero-copy: bytes a posted mbuf takes */
	uint8_t *bufs;	       /* copy: the fixed buffers */
	uint32_t buf_size;     /* copy: bytes per buffer */
	struct rte_mbuf *head; /* the packet being reassembled (MRG_RXBUF) */
	struct rte_mbuf *tail;
	uint16_t left; /* its buffers still to come */
	bool bad;      /* it is being dropped */
	struct vs_port_queue_stats st;
} __rte_cache_aligned;

struct vio_txq {
	struct vq_drv *vq;
	struct vs_vdev_ring *ring;
	struct rte_mempool *mp; /* for copies of mbufs the device cannot see */
	uint32_t ready;
	bool copy;
	bool csum;	     /* CSUM negotiated: the device completes checksums */
	bool tso;	     /* HOST_TSO4/6 negotiated */
	uint16_t reap_below; /* reap completions once fewer slots are free */
	const struct vs_vmem *vmem;
	struct vs_vnet_hdr *hdrs; /* zero-copy: header slots, device-visible */
	struct vio_txslot *slots; /* zero-copy: their owners */
	uint16_t *free_slot;	  /* stack of free slot indexes (and copy buffers) */
	uint16_t nfree;
	uint8_t *bufs;	   /* copy: the fixed buffers */
	uint32_t buf_size; /* copy: bytes per buffer */
	struct vs_port_queue_stats st;
} __rte_cache_aligned;

enum vio_kind {
	VIO_USER, /* vhost-user-frontend */
	VIO_KERN, /* vhost-net */
	VIO_VDPA, /* vdpa */
};

struct vio_port {
	struct vs_port base; /* first: the engine casts */
	enum vio_kind kind;
	/* configuration */
	char path[256]; /* socket or device node */
	char tap[IFNAMSIZ];
	uint16_t queues;
	uint16_t ring_size;
	uint32_t mtu;
	uint64_t want;
	bool force_copy;
	uint8_t mac[6]; /* vdpa: the MAC to give the device */
	bool set_mac;
	/* device */
	struct vh_backend *b;
	struct vh_user_frontend *fe;
	struct vs_vdev dev;
	bool up;       /* brought up: queues published */
	bool copy;     /* the mode of this bring-up */
	uint16_t nb_q; /* queue pairs in use */
	enum vs_port_link link;
	struct vs_vmem vmem;
	const struct rte_memzone *mz; /* rings and header slots (zero-copy) */
	size_t ring_mem;	      /* bytes per ring */
	size_t ctrl_mem;	      /* bytes of the control queue (vDPA) */
	uint8_t *copy_area;	      /* copy: rings and buffers, shared memory */
	size_t copy_len;
	int copy_fd;
	uint32_t rx_buf_size, tx_buf_size; /* copy: buffer sizes */
	/* control */
	int broken_fd; /* eventfd a worker writes when a ring broke */
	int64_t timer; /* reconnect or restart timer */
	uint32_t backoff_ms;
	uint64_t connects;
	int watched_fd; /* the vhost-user connection in the loop, or -1 */
	bool started;
	struct vio_rxq rxq[VS_VDEV_MAX_PAIRS];
	struct vio_txq txq[VS_VDEV_MAX_PAIRS];
	struct vio_txslot *slots; /* [queues * ring_size] */
	uint16_t *free_slot;	  /* [queues * ring_size] */
};

/* Data path (vs_virtio_rxtx.c). */
uint16_t vio_rx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb);
uint16_t vio_tx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb);

/* Fills a receive ring completely at bring-up; returns the buffers posted. */
unsigned int vio_rx_fill(struct vio_rxq *q);

/* Hands a cookie in flight back (zero-copy rings): frees its mbufs. */
void vio_release_cookie(void *cookie, void *arg);

/* Drops the receive queue's partly reassembled packet. */
void vio_rx_drop_partial(struct vio_rxq *q);

#endif /* VS_VIRTIO_PRIV_H */
