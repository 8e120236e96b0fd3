/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_VHOST_USER_PRIV_H
#define VS_VHOST_USER_PRIV_H

/*
 * Port type "vhost-user", internal: the port, its rings, and how the control
 * thread hands rings to the data path.
 *
 * Ring numbering (virtio-net, 5.1.2): ring 2q is the guest's receive queue q
 * (our tx_burst on queue q enqueues into it), ring 2q+1 the guest's transmit
 * queue q (our rx_burst on queue q dequeues from it).
 *
 * Publication (the RCU contract of vs_port.h): the control thread builds a
 * struct vu_ring when lib/vhost starts a ring and stores its pointer in
 * live[idx] (release) while the ring is started and enabled. A burst loads
 * live[idx] once and uses that ring to its end. To take a ring back (stop,
 * disable, new memory, disconnect), the control thread stores NULL, then
 * waits for a grace period on env.qsbr: after it, no burst holds the old
 * pointer, and the ring (its vq_dev, the guest memory it points into, its
 * call fd) can go.
 *
 * A guest TX ring that is started but disabled sits in discard[idx]
 * instead, under the same contract: vhost-user "Ring states" asks the
 * back-end to process and discard what the guest transmits there, so
 * rx_burst drains it and counts the packets as drops.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_log.h>

#include "vhost_guard.h"
#include "vhost_user_backend.h"
#include "vhost_user_conn.h"
#include "vhost_user_handover.h"
#include "virtq.h"
#include "vs_port.h"

extern int vs_vhost_user_logtype;
#define VU_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, vs_vhost_user_logtype, "vhost-user: " fmt "\n", ##__VA_ARGS__)

#define VU_MAX_RINGS (2 * VS_PORT_MAX_QUEUES)
/* Back-off between connection attempts in client mode. */
#define VU_RETRY_MIN_MS 100
#define VU_RETRY_MAX_MS 5000
/* Largest frame taken from or given to a guest: 64 KiB of GSO payload plus
 * headers (Linux's GSO_MAX_SIZE 65536 plus Ethernet and two VLAN tags). */
#define VU_MAX_FRAME (65536 + 14 + 8)
/* The RARP frame of SEND_RARP: Ethernet and ARP headers, padded to 60 bytes. */
#define VU_RARP_LEN 60
/* Shortest frame given to a guest: an Ethernet header. */
#define VU_MIN_FRAME 14
/* The virtio-net header: 12 bytes with VERSION_1 or MRG_RXBUF, else 10 (5.1.6). */
#define VU_HDR_LEN_MODERN 12
#define VU_HDR_LEN_LEGACY 10

/* Per-queue, per-direction counters: written by the one thread bursting on
 * the queue, read by the control thread (relaxed, 64-bit: never torn). */
struct vu_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t drops;
	uint64_t errors;
	uint64_t drop[VS_DROP_NB]; /* frames dropped, by reason (rare: out of line) */
} __rte_cache_aligned;

struct vs_vu_port;
struct vu_txn;

/* One started ring: what a burst needs, built on ring_started(). */
struct vu_ring {
	struct vq_dev vq;
	struct rte_mempool *mp; /* rx: mbufs for received packets */
	struct vu_stats *stats; /* this ring's counters in the port */
	uint64_t features;	/* negotiated virtio features */
	uint32_t room;		/* rx: data room of one mbuf */
	uint16_t hdr_len;	/* virtio-net header bytes */
	uint16_t idx;		/* ring index */
	int call_fd;		/* eventfd to interrupt the guest, -1: none */
	int err_fd;		/* eventfd to report a broken ring, -1: none */
	bool mrg_rxbuf;		/* VIRTIO_NET_F_MRG_RXBUF negotiated */
	bool broken;		/* the data path saw the queue break */
	bool hold;	    /* crash-safe: returns are held for a transaction (split and packed) */
	struct vu_txn *txn; /* the transaction holding returns now, or NULL */
	uint64_t used_gpa;  /* guest address of the used ring (journal records) */
	bool guard;	    /* its memory may fault: bursts arm a vh_guard */
	struct rte_mbuf *spare; /* one-copy: the mbuf frame_to_mbuf fills (for a recovery) */
	/* What a burst holds, for a recovery from SIGBUS (vu_rx_fault()). */
	uint16_t done;		/* packets of finished lib/virtq bursts */
	uint16_t nheld;		/* mbufs of the burst in progress ... */
	struct rte_mbuf **held; /* ... at these slots (NULL: freed) */
	struct vs_vu_port *port;
	bool packed; /* packed ring (also the journal's position format) */
	/* For show port only: the ring as the front-end described it. */
	bool event_idx;
	bool polled;	 /* no kick fd: the ring is polled (it is either way) */
	uint64_t gpa[3]; /* descriptor, driver and device areas */
	/* Scratch of the burst in progress: one thread at a time uses it. */
	struct vq_burst burst __rte_cache_aligned;
};

#define VU_MAGIC 0x76757072u /* "vupr": a vhost_guard owner that is one of ours */

struct vs_vu_port {
	struct vs_port base; /* first: the engine casts */
	uint32_t magic;	     /* VU_MAGIC */

	/* ---- read by bursts ---- */
	/* A frame for the switch as if the guest had sent it (the RARP of
	 * SEND_RARP after a migration): set by the control thread, taken by
	 * queue 0's rx_burst; next to live[] so that checking it costs no
	 * cache line of its own. */
	struct rte_mbuf *inject __rte_cache_aligned;
	struct vu_ring *live[VU_MAX_RINGS];
	struct vu_ring *discard[VU_MAX_RINGS]; /* started, disabled guest TX rings */
	/* Queue 0's poller: an injected frame between rx_frames and
	 * frame_to_mbuf (one copy), and how many it handed to the switch. */
	struct rte_mbuf *inject_held;
	uint64_t injected;
	struct vu_stats rx_stats[VS_PORT_MAX_QUEUES]; /* by queue: guest TX rings */
	struct vu_stats tx_stats[VS_PORT_MAX_QUEUES]; /* by queue: guest RX rings */

	/* ---- control thread only ---- */
	struct vu_stats rx_base[VS_PORT_MAX_QUEUES]; /* counters at the last reset */
	struct vu_stats tx_base[VS_PORT_MAX_QUEUES];
	struct vu_ring *ring[VU_MAX_RINGS]; /* started rings */
	struct vu_ring *starting;	    /* a ring being started, not yet in ring[] */
	bool enabled[VU_MAX_RINGS];
	bool was_enabled[VU_MAX_RINGS]; /* enabled once on this connection */
	struct vq_memmap *map;		/* the memory table, as lib/virtq's region map */
	struct vh_user_backend *be;
	struct vh_user_backoff backoff;
	int listen_fd;
	int conn_fd;
	int64_t retry_timer;
	uint64_t offered;  /* virtio features offered */
	uint64_t features; /* negotiated */
	uint64_t connections;
	uint64_t refused;
	bool mem_can_fault; /* some region is not SIGBUS-proof (vhost_guard.h) */
	/* Guest memory faults: written by any thread (atomics), handled on the control thread. */
	int fault_fd;	     /* eventfd the data path wakes the control thread with */
	uint64_t faults;     /* recovered SIGBUS in this port's memory, ever */
	uint64_t fault_addr; /* where the last one was */
	bool broken;	     /* closed for a fault; cleared by the next connection */
	uint16_t nb_qp;	     /* queue pairs configured */
	uint16_t mtu;	     /* NET_SET_MTU, 0 if never sent */
	uint64_t key;	     /* vu_port_key(name): names the port in journal records */
	bool client;
	bool started;
	bool crash_safe;  /* env.state_dir: transactions and redo (vs_vhost_user_txn.c) */
	bool handed_over; /* saved and released: leave the socket file alone */
	bool ho_saved;	  /* handover_save done, resume or release to follow */
	mode_t sock_mode;
	/* What state_changed last reported. */
	uint16_t rep_rxq;
	uint16_t rep_txq;
	enum vs_port_link rep_link;
	char path[108];
};

static inline struct vs_vu_port *
vu_port(struct vs_port *port)
{
	return (struct vs_vu_port *)port;
}

/*
 * Allocations the data path reads (the port, its rings, memory maps): DPDK
 * memory on the port's NUMA socket; under AddressSanitizer, which cannot see
 * inside rte_malloc, plain malloc so that a use after free is caught.
 */
void *vu_zalloc(const char *what, size_t size, int socket);
void vu_free(void *p);

/* The device behind lib/vhost's back-end (vs_vhost_user_dev.c). */
extern const struct vh_user_device_ops vu_device_ops;

/* Virtio features the port offers (vs_vhost_user_dev.c). */
uint64_t vu_offered_features(uint16_t nb_qp);

/* The connection (vs_vhost_user.c). */
int vu_attach(struct vs_vu_port *p, int fd, const struct vh_user_handover *ho, int *fds,
	      unsigned int nfds);
void vu_listen_readable(int fd, uint32_t events, void *arg);
void vu_conn_readable(int fd, uint32_t events, void *arg);
void vu_connect_attempt(void *arg);

/* Hand-over to another process (vs_vhost_user_handover.c). */
int vu_handover_save(struct vs_port *port, struct vs_port_handover *h);
void vu_handover_resume(struct vs_port *port);
int vu_handover_load(struct vs_port *port, struct vs_port_handover *h);
void vu_handover_release(struct vs_port *port);

/* Control thread: takes every ring away from the data path and back. */
void vu_unpublish_all(struct vs_vu_port *p);

/* Control thread: frees what the device state holds after a disconnect. */
void vu_device_release(struct vs_vu_port *p);

/* Control thread: tells the engine when link or queue counts changed. */
void vu_state_update(struct vs_vu_port *p);

/* Usable queues now: leading queues whose ring is live. */
uint16_t vu_nb_rxq(const struct vs_vu_port *p);
uint16_t vu_nb_txq(const struct vs_vu_port *p);

/* show port: the device's state as JSON members (vs_vhost_user_describe.c). */
void vu_describe(struct vs_port *port, struct vs_jw *w);

/*
 * A frame dropped: counted under the reason of the error that dropped it
 * (-ENOMEM no_mbuf, -EMSGSIZE too_long, -EBADMSG bad_offload, -ERANGE runt,
 * else bad_chain). Rare: out of line (vs_vhost_user_rxtx.c).
 */
void vu_count_drop(struct vu_stats *st, int rc);

/* Control thread: drops a frame queued for injection and not yet taken. */
void vu_inject_drop(struct vs_vu_port *p);
/* Control thread: queues the RARP of SEND_RARP for @p mac (a hand-over
 * carries one not yet taken); 0, -EINVAL (not a station address), -ENOMEM. */
int vu_inject_rarp(struct vs_vu_port *p, const uint8_t mac[6]);

/*
 * A guest's RX ring took not even the first frame of a burst: whether
 * buffers are posted all the same (without mergeable buffers one, with them
 * a burst's worth; buffers, not descriptors: a packed ring's buffer may take
 * several). Then no buffer can ever hold that frame and it must be dropped,
 * or it blocks the queue for good; otherwise the ring is just full.
 */
static __rte_always_inline bool
vu_ring_has_buffers(struct vu_ring *r)
{
	return (!r->mrg_rxbuf && vq_dev_avail_hint(&r->vq, 1) > 0) ||
	       (r->mrg_rxbuf && vq_dev_avail_bufs(&r->vq, VQ_BURST_CHAINS) == VQ_BURST_CHAINS);
}

/* Places up to @p n of @p items from index @p first on @p r; sets *@p stop
 * when the ring takes no more now. Returns how many it consumed. */
typedef uint16_t (*vu_put_fn)(struct vu_ring *r, const void *items, uint16_t first, uint16_t n,
			      bool *stop);

/*
 * tx_burst and tx_frames: @p nb items into @p r, a lib/virtq burst at a
 * time through @p put, until all went or the ring is full. r->done follows
 * each burst (after a SIGBUS the guard answers with it). Always inlined with
 * a constant @p put, which so becomes a direct call.
 */
static __rte_always_inline uint16_t
vu_ring_put_all(struct vu_ring *r, const void *items, uint16_t nb, vu_put_fn put)
{
	uint16_t done = 0;
	bool stop = false;

	while (done < nb && !stop) {
		uint16_t want = (uint16_t)RTE_MIN(nb - done, VQ_BURST_MAX);

		done = (uint16_t)(done + put(r, items, done, want, &stop));
		r->done = done;
	}
	return done;
}

/* The data path (vs_vhost_user_rxtx.c). */
uint16_t vu_rx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb);
uint16_t vu_tx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb);
/* Crash-safe mode: the ops rx_done and tx_flush (see vs_port.h). */
void vu_rx_done(struct vs_port *port, uint16_t queue);
void vu_tx_flush(struct vs_port *port, uint16_t queue);

/* Interrupts the guest of @p r. */
static inline void
vu_call(const struct vu_ring *r)
{
	static const uint64_t one = 1;

	if (r->call_fd >= 0) {
		ssize_t rc = write(r->call_fd, &one, sizeof(one));

		(void)rc; /* a full counter (EAGAIN) still wakes the guest */
	}
}

/*
 * Crash-safe publication (vs_vhost_user_txn.c). A transaction is one
 * worker's poll of one queue: the rings whose returns it holds, and their
 * used index when it began holding.
 */
#define VU_TXN_MAX_RINGS 32

struct vu_txn {
	unsigned int n;
	struct vu_ring *ring[VU_TXN_MAX_RINGS];
	uint16_t from[VU_TXN_MAX_RINGS];
	struct vu_journal *j;
};

/* The port's name as a journal key. */
uint64_t vu_port_key(const char *name);
/* Control thread, port creation: checks and remembers the state directory
 * (one per process). */
int vu_txn_setup(const char *dir);
/*
 * Control thread, port start or hand-over load: takes the directory's lock
 * (@p lock_fd: the one a hand-over brought, taken: kept or closed; -1: lock
 * it here), then, once per process, reads what a killed instance committed
 * and creates a journal per worker lcore. 0, -EBUSY (another process has
 * the directory), -EBADF (the lock handed over is not ours), -errno.
 */
int vu_txn_open(int lock_fd);
/* This lcore's transaction, or NULL. */
struct vu_txn *vu_txn_self(void);
/* Adds @p r to @p t (no-op if there); false when @p t is full. */
bool vu_txn_add(struct vu_txn *t, struct vu_ring *r);
/* Journals, publishes and calls every ring of @p t; empties it. Unarmed
 * only: a ring whose memory may fault is published armed, and fails alone. */
void vu_txn_commit(struct vu_txn *t);
/* Takes broken ring @p r out of its transaction without publishing (its
 * memory faulted: nothing more is written there). */
void vu_txn_forget(struct vu_ring *r);
/* Publishes @p r now and takes it out of @p t (if there). */
void vu_txn_release(struct vu_txn *t, struct vu_ring *r);
/*
 * The data path's side (vs_vhost_user_rxtx.c, vs_vhost_user_fwd.c): returns
 * burst @p b of @p r held in this lcore's transaction, or at once when there
 * is none; the receive side opens one, the transmit side (@p join_only)
 * only joins an open one.
 */
void vu_ring_return(struct vu_ring *r, const struct vq_burst *b, bool join_only);
/* One copy: guest TX ring @p r opens this lcore's transaction ... */
void vu_txn_join(struct vu_ring *r);
/* ... returns its chains in @p b (held, or at once without a transaction) ... */
void vu_txn_end(struct vu_ring *r, const struct vq_burst *b);
/* ... and, unarmed, commits this lcore's transaction (if it holds anything). */
void vu_txn_finish(void);
/* Control thread, ring start (@p cfg built, before vq_dev_init()): publishes
 * what a killed instance committed and did not publish. */
void vu_redo_ring(struct vs_vu_port *p, const struct vh_user_ring *ring,
		  const struct vq_dev_config *cfg);
/*
 * A hand-over (vswitch --takeover), control thread, workers stopped: the
 * lock's fd goes along with the ports (borrowed; -1 when not crash-safe)
 * and stays held here too; if the hand-over fails, resume marks the
 * journals valid again (the other process may have started them anew).
 */
int vu_txn_lock_fd(void);
void vu_txn_resume(void);

/* Any thread, after a SIGBUS recovered in @p owner's memory: tells its control thread. */
void vu_memory_fault(void *owner, uintptr_t addr);

/* After a fault in a ring start: frees the ring it was setting up. */
void vu_ring_start_abandon(struct vs_vu_port *p);

struct vh_guard;
/* The bursting thread, after a SIGBUS recovered in @p r's burst: @p r stops, its owner hears. */
void vu_ring_fault(struct vu_ring *r, const struct vh_guard *g);

/* vu_ring_fault() after vh_guard_peek16() found @p r's memory gone. */
void vu_ring_peek_fault(struct vu_ring *r);

/*
 * A guarded ring (its memory may fault) before a poll arms: true when it
 * has nothing to take, found without arming. An empty poll reads one word
 * of guest memory (vq_dev_poll_word()); vh_guard_peek16() reads it so that
 * a fault there returns instead of killing the process: the ring is then
 * failed (and has nothing to take). False when the ring may have work,
 * is broken already (the armed path reports it, reading nothing), or
 * where the peek is no cheaper than arming (VH_GUARD_PEEK_FAST).
 */
static __rte_always_inline bool
vu_ring_idle(struct vu_ring *r)
{
	int w;

	if (!VH_GUARD_PEEK_FAST || unlikely(vq_dev_error(&r->vq) != 0))
		return false;
	w = vh_guard_peek16(vq_dev_poll_word(&r->vq));
	if (unlikely(w < 0)) {
		vu_ring_peek_fault(r);
		return true;
	}
	return !vq_dev_poll_ready(&r->vq, (uint16_t)w);
}

/*
 * Connected ports whose guest memory can fault (any thread reads it): a
 * one-copy transmit reads another guest's memory, so it runs armed while
 * any source could fault.
 */
extern uint32_t vu_ports_can_fault;
/* For one copy (vs_vhost_user_fwd.c), from vs_vhost_user_rxtx.c: the
 * dequeue of one chain into a fresh mbuf (0, -EINVAL, -ENOMEM), the call
 * and the broken-ring report. */
int vu_chain_to_mbuf(const struct vu_ring *r, const struct vq_chain *c, struct rte_mbuf *m);
void vu_ring_call(const struct vu_ring *r);
void vu_ring_fail(struct vu_ring *r);

/* One copy between guests (vs_vhost_user_fwd.c). */
extern const struct vs_port_onecopy_ops vu_onecopy_ops;

/* Counter updates: one writer per queue; the control thread reads. */
#define VU_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

#endif /* VS_VHOST_USER_PRIV_H */
