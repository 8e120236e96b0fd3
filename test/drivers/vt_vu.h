/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_VU_H
#define VT_VU_H

/*
 * Helpers for the vhost-user port tests:
 *
 * - struct vt_vu_env: what the engine would give a port (an mbuf pool, an
 *   RCU variable, the control thread's event loop running in its own
 *   thread) and a way to run code on that control thread.
 * - struct vt_vu_worker: a data-path thread on an EAL lcore that loops
 *   every packet a port receives on a queue back out of the same queue,
 *   reporting quiescent states between iterations, as the switch's workers.
 * - struct vt_guest: a virtio-net "guest": lib/vhost's front-end drives the
 *   port over its socket; lib/virtq's driver side writes the guest's rings
 *   in a shared memfd (which is the guest memory the port maps).
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_net.h>

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "vhost_user_frontend.h"
#include "virtq.h"
#include "vs_evloop.h"
#include "vs_json.h"
#include "vs_port.h"
#include "vs_switch.h"

/* ---- environment ---- */

#define VT_VU_MAX_READERS 4

struct vt_vu_env {
	struct rte_mempool *mp;
	struct rte_rcu_qsbr *qsbr;
	struct vs_evloop *loop;
	pthread_t thread;
	bool running;
	int job_fd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void (*job)(void *);
	void *job_arg;
	bool job_done;
	int state_changes;     /* state_changed() calls, on the loop thread */
	const char *state_dir; /* ports made after it is set run crash-safe (vs_port_env) */
};

/*
 * Initialises EAL (no hugepages), a pool of @p nmbufs mbufs named after
 * @p name with @p data_room bytes each (0: RTE_MBUF_DEFAULT_BUF_SIZE), an
 * RCU variable for VT_VU_MAX_READERS threads, and starts the loop thread.
 * Returns 0, or -1 with a reason in @p why (the caller skips).
 */
int vt_vu_env_init(struct vt_vu_env *e, const char *name, unsigned int nmbufs, uint16_t data_room,
		   char *why, size_t len);

/* Stops the loop thread and frees everything (ports must be gone). */
void vt_vu_env_fini(struct vt_vu_env *e);
/*
 * The end of a port test (ports gone): every mbuf must be back in the pool;
 * then vt_vu_env_fini(). Returns @p rc, or TEST_FAILED (said) if mbufs leaked.
 */
int vt_vu_env_end(struct vt_vu_env *e, int rc);

/* Runs @p fn(@p arg) on the loop thread and waits for it. */
void vt_vu_run(struct vt_vu_env *e, void (*fn)(void *), void *arg);

/* Creates and starts a port from @p spec on the loop thread; NULL + @p err. */
struct vs_port *vt_vu_port_start(struct vt_vu_env *e, const char *spec, char *err, size_t len);

/*
 * What `vswitch --takeover` does to @p *port, in one process (loop thread):
 * handover_save, the fds duplicated as SCM_RIGHTS would, a new port made
 * from @p spec and loaded with them, the old one released and destroyed.
 * No burst may run. Returns 0 (*port is the new port) or save's or load's
 * negative errno (*port is the old one, resumed when save had worked).
 */
int vt_vu_port_hand_over(struct vt_vu_env *e, struct vs_port **port, const char *spec);

/* Stops and destroys @p port on the loop thread (no burst may run). */
void vt_vu_port_destroy(struct vt_vu_env *e, struct vs_port *port);

/* info_get / stats_get on the loop thread. */
void vt_vu_info(struct vt_vu_env *e, struct vs_port *port, struct vs_port_info *info);
void vt_vu_stats(struct vt_vu_env *e, struct vs_port *port, struct vs_port_stats *stats);
int vt_vu_state_changes(struct vt_vu_env *e);

/*
 * The port's describe (what `show port` gives as "driver"), run on the loop
 * thread and parsed. NULL (with the reason printed) if the port has none or
 * it wrote no valid JSON; the caller json_decref()s it.
 */
json_t *vt_vu_describe(struct vt_vu_env *e, struct vs_port *port);

/*
 * Waits up to @p ms until the port reports at least @p rxq rx and @p txq tx
 * queues and the given link state. Returns true if it did.
 */
bool vt_vu_wait_queues(struct vt_vu_env *e, struct vs_port *port, uint16_t rxq, uint16_t txq,
		       unsigned int ms);

/*
 * Waits up to @p ms until the port's detail mentions @p what. Returns true
 * if it did; otherwise prints the last detail and returns false.
 */
bool vt_vu_wait_detail(struct vt_vu_env *e, struct vs_port *port, const char *what,
		       unsigned int ms);

/* The calling thread as an RCU reader (id @p id): online around bursts only. */
void vt_vu_reader_register(struct vt_vu_env *e, unsigned int id);
void vt_vu_reader_unregister(struct vt_vu_env *e, unsigned int id);
/* rx_burst with the calling reader online, then quiescent and offline. */
uint16_t vt_vu_rx(struct vt_vu_env *e, unsigned int id, struct vs_port *port, uint16_t q,
		  struct rte_mbuf **pkts, uint16_t n);
/* tx_burst the same way; frees what the port did not take. */
uint16_t vt_vu_tx(struct vt_vu_env *e, unsigned int id, struct vs_port *port, uint16_t q,
		  struct rte_mbuf **pkts, uint16_t n);

/* ---- loopback workers ---- */

struct vt_vu_worker {
	struct vt_vu_env *env;
	struct vs_port *port;
	unsigned int lcore;
	unsigned int reader; /* RCU thread id */
	uint16_t q_first;
	uint16_t q_count;
	volatile bool stop;
	uint64_t rx;	  /* packets received */
	uint64_t tx;	  /* packets sent back */
	uint64_t dropped; /* not taken by tx_burst */
	uint64_t loops;
	bool launched;
};

/* Starts @p w on EAL worker lcore @p lcore. Returns 0 or a negative errno. */
int vt_vu_worker_start(struct vt_vu_worker *w, struct vt_vu_env *e, struct vs_port *port,
		       uint16_t q_first, uint16_t q_count, unsigned int lcore, unsigned int reader);
/* Stops and joins @p w (no-op if not launched). */
void vt_vu_worker_stop(struct vt_vu_worker *w);

/* ---- the guest ---- */

#define VT_GUEST_MAX_RINGS 16
#define VT_GUEST_PEND	   64
#define VT_GUEST_GPA_BASE  0x40000000ull

/* How the guest lays a frame out on its TX ring. */
enum vt_tx_layout {
	VT_TX_ONE = 0,	 /* [header + frame] in one element */
	VT_TX_SPLIT = 1, /* [header] [frame] */
	VT_TX_MANY = 2,	 /* [header] then the frame in pieces of up to 700 bytes */
	/* [header byte 0] [header byte 1] ... [frame]: one-byte elements two bytes
	 * apart, so a reader that takes the header from its first element alone
	 * reads the zero bytes between them */
	VT_TX_HDR_BYTES = 3,
};

struct vt_guest_cfg {
	unsigned int queues;	    /* queue pairs */
	unsigned int ring_size;	    /* entries per ring */
	uint64_t features;	    /* wanted; acked = offered & wanted */
	uint64_t protocol_features; /* 0: all our front-end implements */
	unsigned int buf_size;	    /* bytes per RX buffer */
	unsigned int tx_buf_size;   /* bytes per TX buffer; 0: buf_size */
	unsigned int indirect_max;  /* 0: no indirect tables even if negotiated */
	bool split_memory;	    /* two regions instead of one */
	unsigned int rx_descs;	    /* descriptors per RX buffer (halves); 0: 1 */
	bool sealed;		    /* memfd sealed against shrinking and growing (as QEMU's) */
	/* Inflight I/O tracking as QEMU's vhost-user-blk does it: GET_INFLIGHT_FD
	 * once (and on every fresh connect), SET_INFLIGHT_FD with that area on
	 * every connect and resume (needs INFLIGHT_SHMFD offered) */
	bool inflight;
};

struct vt_guest_ring {
	struct vq_drv q;
	bool up;
	int kick;
	int call;
	int err;
	uint64_t ring_off; /* offset of the ring memory in the memfd */
	uint64_t buf_off;  /* offset of its buffers */
	uint16_t *free;	   /* free buffer indexes */
	unsigned int nfree;
	unsigned int nbufs;
	unsigned int buf_size;
	/* RX: used buffers reaped ahead */
	unsigned int pend_n;
	unsigned int pend_head;
	uint16_t pend_buf[VT_GUEST_PEND];
	uint32_t pend_len[VT_GUEST_PEND];
};

struct vt_guest {
	struct vt_guest_cfg cfg;
	struct vh_user_frontend *fe;
	struct vh_backend *b;
	int memfd;
	uint8_t *mem;
	size_t mem_len;
	uint64_t features;
	unsigned int hdr_len;
	unsigned int nrings;
	bool two_regions; /* the memory table now in use */
	struct vt_guest_ring ring[VT_GUEST_MAX_RINGS];
	/* The inflight area (cfg.inflight), kept across reconnects. */
	struct vh_user_inflight inflight;
	int inflight_fd;
	uint8_t *inflight_area;
};

/* Allocates the guest memory and rings (no connection yet). */
int vt_guest_init(struct vt_guest *g, const struct vt_guest_cfg *cfg);
/* Frees everything (disconnecting first). */
void vt_guest_fini(struct vt_guest *g);

/*
 * Connects to @p path, negotiates, sends the memory table and starts every
 * ring (fresh driver state). Returns 0 or a negative errno.
 */
int vt_guest_connect(struct vt_guest *g, const char *path, unsigned int timeout_ms);
/* The same over an fd we accepted (the port in client mode); takes @p fd. */
int vt_guest_connect_fd(struct vt_guest *g, int fd);
/* Closes the connection (the port sees a disconnect). */
void vt_guest_disconnect(struct vt_guest *g);

/*
 * What a VMM does when its back-end died and connects again (QEMU after a
 * vhost-user back-end crash): the old connection is dropped, the rings keep
 * their driver state (chains posted, buffers in use, used entries not yet
 * reaped); over @p fd (taken) it negotiates, sends the inflight area again
 * with SET_INFLIGHT_FD (cfg.inflight; vhost-user "Inflight I/O tracking"),
 * the memory table, and every ring with its old eventfds: a split ring at
 * the base its used index shows (QEMU: virtio_queue_restore_last_avail_idx),
 * a packed ring at the base it started with (QEMU cannot tell where a packed
 * ring stopped; only the inflight area can). Returns 0 or a negative errno
 * (the rings are kept; only the new connection is dropped).
 */
int vt_guest_resume_fd(struct vt_guest *g, int fd);

/* True once the back-end closed the connection (it died), or when there is none. */
bool vt_guest_hung_up(struct vt_guest *g);

/* Ring @p idx's region of the inflight area (struct vq_inflight_split or
 * vq_inflight_packed), or NULL without an area. */
void *vt_guest_inflight_region(struct vt_guest *g, unsigned int idx);

/* Sends the memory table as one region or two (a real replacement). */
int vt_guest_set_memory(struct vt_guest *g, bool two_regions);

/* Stops ring @p idx (GET_VRING_BASE) and starts it again from there. */
int vt_guest_ring_restart(struct vt_guest *g, unsigned int idx);
/*
 * Live migration as QEMU starts it on running rings: SET_LOG_BASE with
 * @p log, SET_FEATURES with VHOST_F_LOG_ALL, every ring's SET_VRING_ADDR
 * with VHOST_VRING_F_LOG (log_guest_addr: its used ring). With
 * @p base_last, SET_LOG_BASE comes last, as when the device starts while
 * the migration runs. Returns 0 or a negative errno.
 */
int vt_guest_log_start(struct vt_guest *g, const struct vh_log_area *log, bool base_last);
/* The end of it: LOG_ALL off, the rings' addresses without VRING_F_LOG. */
int vt_guest_log_stop(struct vt_guest *g);

/* SET_VRING_ENABLE. */
int vt_guest_ring_enable(struct vt_guest *g, unsigned int idx, bool on);

/*
 * Posts @p frame with header @p hdr (NULL: zeros) on queue @p q's TX ring
 * in @p layout. Returns 0, -ENOSPC (no buffer or descriptor now), -EMSGSIZE.
 */
int vt_guest_send(struct vt_guest *g, unsigned int q, const void *frame, uint32_t len,
		  const struct virtio_net_hdr *hdr, enum vt_tx_layout layout);
/* Reaps used TX buffers of queue @p q; returns how many. */
unsigned int vt_guest_reap_tx(struct vt_guest *g, unsigned int q);

/* Posts RX buffers on queue @p q until the ring or the buffers run out. */
unsigned int vt_guest_fill_rx(struct vt_guest *g, unsigned int q);
/* The same, at most @p max buffers. */
unsigned int vt_guest_fill_rx_max(struct vt_guest *g, unsigned int q, unsigned int max);

/*
 * Takes one received packet from queue @p q (gathering num_buffers buffers
 * with MRG_RXBUF): header into @p hdr, frame into @p frame (up to @p cap),
 * its length into @p len. Returns 1, 0 when nothing is there, or -EBADMSG
 * for a malformed used entry (length, num_buffers).
 */
int vt_guest_recv(struct vt_guest *g, unsigned int q, struct virtio_net_hdr_mrg_rxbuf *hdr,
		  uint8_t *frame, uint32_t cap, uint32_t *len);

/*
 * Cuts the guest's memfd to @p len bytes, as a VMM pulling memory away
 * would: every mapping of the rest faults (SIGBUS), the guest's own too, so
 * the caller no longer touches the guest's rings or buffers past it.
 * Returns 0 or -errno (-EPERM when sealed).
 */
int vt_guest_truncate(struct vt_guest *g, uint64_t len);

/* The host pointer of guest address @p gpa. */
static inline uint8_t *
vt_guest_ptr(struct vt_guest *g, uint64_t gpa)
{
	return g->mem + (gpa - VT_GUEST_GPA_BASE);
}

/* ---- the engine with two vhost-user ports ---- */

/*
 * The engine as its two-guest tests run it: a control loop served by the
 * test, one worker the test polls (manual mode), vhost-user ports "a" and
 * "b" for two guests of our own.
 */
struct vt_vu_sw {
	struct vs_evloop *loop;
	struct vs_switch *sw;
	int port[2];
	char sock[2][256];
};

/*
 * EAL (the test skips without it), the loop, engine @p name (4095 mbufs) and
 * its ports on sockets @p name "a.sock" and "b.sock". Returns a TEST_* value;
 * vt_vu_sw_fini() undoes any part of it.
 */
int vt_vu_sw_init(struct vt_vu_sw *s, const char *name);
/*
 * Connects @p g[0] and @p g[1] (initialised) to ports a and b, waits until
 * both are up and polled and checks that each guest negotiated @p features.
 * Returns a TEST_* value.
 */
int vt_vu_sw_connect(struct vt_vu_sw *s, struct vt_guest *const *g, uint64_t features);
/* Serves the loop (the guests gone first), then frees the engine and the loop. */
void vt_vu_sw_fini(struct vt_vu_sw *s);
/* Serves the control loop for @p ms. */
void vt_vu_sw_serve(struct vt_vu_sw *s, unsigned int ms);
/* Runs @p fn(@p arg) on a thread while serving the loop (front-end requests
 * need its answers); returns @p fn's value, or -errno if no thread started. */
int vt_vu_sw_run(struct vt_vu_sw *s, int (*fn)(void *arg), void *arg);
/* Whether port @p i (0: a, 1: b) is up with its rx queue polled. */
bool vt_vu_sw_port_ready(struct vt_vu_sw *s, int i);
/* Port @p i's counters. */
struct vs_switch_port_counters vt_vu_sw_counters(struct vt_vu_sw *s, int i);

/* ---- a dirty log (vhost-user "Migration") ---- */

/*
 * The log a front-end gives with SET_LOG_BASE: one bit per 4 KiB page of
 * guest-physical memory up to the guest's end, in a memfd. With a copy of
 * the guest's memory, to find every byte the back-end wrote and check that
 * its page is logged.
 */
struct vt_dirty_log {
	int fd; /* -1 before vt_dirty_log_init() */
	uint8_t *bits;
	size_t len; /* bytes of bits, whole pages */
	uint8_t *shadow;
};

/* Makes @p l for guest @p g. Returns 0, or -1 with the reason printed. */
int vt_dirty_log_init(struct vt_dirty_log *l, const struct vt_guest *g);
/* Frees what vt_dirty_log_init() made of @p l (any part of it). */
void vt_dirty_log_fini(struct vt_dirty_log *l);
/* The area for vt_guest_log_start(). */
struct vh_log_area vt_dirty_log_area(const struct vt_dirty_log *l);
/* Copies @p g's memory and clears the log: what changes from now on is new. */
void vt_dirty_log_snapshot(struct vt_dirty_log *l, const struct vt_guest *g);
/*
 * Checks what changed in @p g since the snapshot: with @p logging, every
 * changed byte's page is logged; without, no page is. Returns how many bytes
 * changed, or -1 after printing the first byte or page that breaks the rule.
 */
long vt_dirty_log_check(const struct vt_dirty_log *l, const struct vt_guest *g, bool logging);

/* ---- frames ---- */

#define VT_FRAME_MAX 16384

/* A frame of @p len bytes (>= 64) whose every byte derives from @p seq. */
void vt_frame_fill(uint8_t *frame, uint32_t len, uint32_t seq);
/* Checks a frame made by vt_frame_fill(); returns its seq or -1. */
int64_t vt_frame_check(const uint8_t *frame, uint32_t len);
/* The same for an mbuf (possibly chained). */
int64_t vt_frame_check_mbuf(const struct rte_mbuf *m);
/*
 * An Ethernet/IPv4/TCP frame with @p payload bytes and a partial checksum
 * (the pseudo-header sum in the TCP checksum field), as a guest sends it
 * with VIRTIO_NET_HDR_F_NEEDS_CSUM at 34 + 16. Returns its length.
 */
uint32_t vt_frame_tcp4(uint8_t *frame, uint32_t payload);
/* Whether the TCP checksum of such a frame is complete and right. */
bool vt_frame_tcp4_csum_ok(const uint8_t *frame);
/* An mbuf holding vt_frame_fill(@p len, @p seq), chained past one mbuf's room. */
struct rte_mbuf *vt_frame_mbuf(struct rte_mempool *mp, uint32_t len, uint32_t seq);

#endif /* VT_VU_H */
