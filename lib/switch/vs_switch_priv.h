/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_SWITCH_PRIV_H
#define VS_SWITCH_PRIV_H

/*
 * The engine's internals, shared by vs_switch.c (control thread),
 * vs_worker.c (the fast path) and vs_telemetry.c. Not installed.
 */

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_pcapng.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

struct rte_bpf;
struct rte_pdump_stats;

#include "vs_fdb.h"
#include "vs_switch.h"
#include "vs_vlan.h"

struct rte_mempool;

/* Adds to a counter only its owner writes while other threads read it. */
#define VS_COUNTER_ADD(c, v) __atomic_store_n(&(c), (c) + (v), __ATOMIC_RELAXED)
#define VS_COUNTER_READ(c)   __atomic_load_n(&(c), __ATOMIC_RELAXED)

/* Engine drops of one port on one worker, by direction and reason (cold). */
struct vs_drops {
	uint64_t rx[VS_DROP_NB];
	uint64_t tx[VS_DROP_NB];
};

/* Capture directions. */
#define VS_CAP_RX 1
#define VS_CAP_TX 2

/* A capture's queue selector: every queue of the port. */
#define VS_CAP_ALL_QUEUES UINT16_MAX

/* What a capture's copies are (vs_capture.c, vs_pdump.c). */
enum vs_cap_format {
	VS_CAP_PCAPNG, /* pcapng packet blocks (rte_pcapng_copy): the file, dpdk-dumpcap */
	VS_CAP_MBUF,   /* plain copies (rte_pktmbuf_copy): the older dpdk-pdump */
};

/*
 * A port being captured (vs_capture.c): into a pcapng file by the control
 * thread, or into a dpdk-dumpcap process's ring and mbuf pool (vs_pdump.c).
 */
struct vs_capture {
	/* Read by the workers. */
	struct rte_ring *ring;	/* copies for the writer: multi-producer, single consumer */
	struct rte_mempool *mp; /* the copies */
	uint32_t snaplen;
	uint16_t port;	   /* the interface id in the packet blocks */
	uint16_t queue;	   /* the queue captured, or VS_CAP_ALL_QUEUES */
	uint8_t dir;	   /* VS_CAP_RX | VS_CAP_TX */
	uint8_t format;	   /* enum vs_cap_format */
	uint64_t lost;	   /* copies with no mbuf or ring room (atomic) */
	uint64_t base_tsc; /* the clock: TSC base_tsc was base_ns since the epoch */
	uint64_t base_ns;
	uint64_t tsc_hz;
	struct rte_bpf *filter;		  /* dpdk-dumpcap -f; NULL: every packet */
	struct rte_pdump_stats *stats[2]; /* dpdk-dumpcap's counters, rx and tx: per queue */
	int peer_pid;	 /* dpdk-dumpcap's pid, -1 unknown (ring, mp are its); 0: a file */
	uint64_t queued; /* dpdk-dumpcap: copies put on its ring (atomic) */
	/* Control thread. */
	rte_pcapng_t *pcapng;
	int fd;
	uint32_t ifindex; /* our interface block's index in the file */
	uint64_t want;	  /* count=N; 0: until stopped */
	uint64_t written;
	uint64_t write_errors;
	char path[4096];
};

/* A port as the control thread keeps it; stable until after its removal. */
struct vs_sw_port {
	struct vs_port *port;
	uint16_t id;
	bool up;       /* link up at the last reconcile */
	bool admin_up; /* set-port admin=up|down */
	bool removing; /* being deleted: left out of snapshots */
	/*
	 * VLAN membership. Workers read it through the snapshot's copy of the
	 * pointer: a change allocates a new one, republishes, and frees the
	 * old one after the grace period. Swapped under sw->lock.
	 */
	struct vs_vlan_cfg *vlan;
	struct vs_capture *capture; /* NULL: not captured; swapped under sw->lock */
	/* Engine counters at the last `clear counters` (subtracted in views). */
	struct vs_switch_port_counters base;
	/* The driver's counters as last read on the control thread (under sw->lock),
	 * for readers on other threads (telemetry). */
	struct vs_port_stats dstats;
	bool no_onecopy;	  /* keep this port on the mbuf path (vs_switch_port_set_onecopy) */
	struct vs_port_info info; /* cached at reconcile (under sw->lock) */
	int16_t rxq_worker[VS_PORT_MAX_QUEUES]; /* current assignment, -1: none */
	/* Serialises tx queues that several workers share. */
	rte_spinlock_t txq_lock[VS_PORT_MAX_QUEUES];
	char *spec; /* the SPEC it was added with (malloc'd; save-config and a hand-over
		       start from it) */
	/* Counted by the process this one took over from (added to the workers'). */
	struct vs_switch_port_counters carried;
};

/*
 * Engine counters of one port on one worker: one cache line. Drops are
 * counted by reason in vs_worker.drops (out of line, where they happen).
 */
struct vs_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t flooded;
	uint64_t onecopy; /* of tx_packets: copied straight from the sender's buffer */
	uint64_t pad[2];
} __rte_cache_aligned;

struct vs_txbuf {
	uint16_t n;
	uint32_t bytes;
	struct rte_mbuf *pkts[VS_SWITCH_BURST];
};

/* ---- the snapshot workers read (published with RCU) ---- */

struct vs_dp_port {
	struct vs_port *port;		/* NULL: no port with this id */
	struct vs_sw_port *sp;		/* tx locks */
	const struct vs_vlan_cfg *vlan; /* the trunk's VLAN bitmap */
	uint16_t access;		/* access VLAN; 0: trunk */
	uint8_t up;			/* link and admin up: a destination */
	uint8_t admin_down;		/* set-port admin=down: its frames are dropped */
	uint8_t onecopy;		/* VS_DP_ONECOPY_*: one copy from or to this port */
	struct vs_capture *cap;		/* captured: copy each burst (out of line) */
};

#define VS_DP_ONECOPY_RX 0x1 /* its bursts are taken as frames (vs_onecopy.c) */
#define VS_DP_ONECOPY_TX 0x2 /* frames go to it in one copy */

/*
 * A worker's tx queues of one destination port (vs_sched_txq_mask()): a
 * burst received on a poll with lane l goes out on queue[l], so a worker
 * that owns every queue keeps rx queue i on tx queue i, and frames of one
 * (source queue, destination) stay on one tx queue, in order.
 */
struct vs_dp_txq {
	uint8_t queue[VS_PORT_MAX_QUEUES]; /* by lane */
	uint8_t mask;			   /* the queues in queue[] */
	uint8_t locked; /* shared with another worker: take sp->txq_lock[queue] */
	uint8_t valid;	/* the port has a tx queue for this worker */
};

_Static_assert(VS_PORT_MAX_QUEUES <= 8 && (VS_PORT_MAX_QUEUES & (VS_PORT_MAX_QUEUES - 1)) == 0,
	       "vs_dp_txq: mask is 8 bits, lanes are masked");

/* The tx queue of @p tq for a burst of lane @p lane. */
static inline uint16_t
vs_dp_txq_queue(const struct vs_dp_txq *tq, uint16_t lane)
{
	return tq->queue[lane & (VS_PORT_MAX_QUEUES - 1)];
}

struct vs_dp_worker {
	uint32_t nb_polls;
	struct vs_switch_poll *polls;
	struct vs_dp_txq txq[VS_SWITCH_MAX_PORTS];
};

struct vs_dp {
	unsigned int nb_workers;
	struct vs_dp_port ports[VS_SWITCH_MAX_PORTS];
	/* Flood sets: the up ports carrying VLAN v are members[off[v] .. +cnt[v]). */
	uint32_t vlan_off[4096];
	uint16_t vlan_cnt[4096];
	uint16_t *members;
	struct vs_dp_worker wk[]; /* then polls, then members */
};

/* ---- workers ---- */

/* One rx queue's share of a worker's busy cycles: those from the end of the
 * previous busy burst (or the iteration's start) to the end of its own. */
struct vs_rxq_counters {
	uint64_t cycles;
	uint64_t packets;
};

struct vs_worker {
	struct vs_switch *sw;
	unsigned int idx;
	unsigned int lcore;
	/* Cycle accounting, written by the worker only. */
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t iterations;
	uint64_t busy_iterations;
	uint64_t rx_packets;
	uint64_t loop_cycles; /* TSC cycles of finished runs of the poll loop */
	struct vs_fdb_counters fdb;
	struct vs_counters ports[VS_SWITCH_MAX_PORTS];
	/* The last source and destination slots per input port (vs_fdb_hint). */
	struct {
		struct vs_fdb_hint src;
		struct vs_fdb_hint dst;
	} hint[VS_SWITCH_MAX_PORTS];
	/* Per-burst scratch. */
	uint16_t nb_touched;
	uint16_t touched[VS_SWITCH_MAX_PORTS];
	struct vs_txbuf txbuf[VS_SWITCH_MAX_PORTS];
	/* One copy: the frames of the burst in progress (vs_onecopy.c). */
	struct vs_port_frame frames[VS_SWITCH_BURST];
	/* TSC at the start of the poll iteration in progress. */
	uint64_t poll_tsc;
	/* Busy cycles and packets per rx queue, for placement (vs_rebalance.c). */
	struct vs_rxq_counters rxq[VS_SWITCH_MAX_PORTS][VS_PORT_MAX_QUEUES];
	/* Drops by port, direction and reason: written only where a frame is dropped. */
	struct vs_drops drops[VS_SWITCH_MAX_PORTS];
} __rte_cache_aligned;

/* A worker's counters at the last `clear counters`. */
struct vs_lcore_base {
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t iterations;
	uint64_t busy_iterations;
	uint64_t rx_packets;
};

struct vs_switch {
	struct vs_switch_config cfg;
	char name[32];
	struct vs_evloop *loop;
	struct rte_mempool *mp;
	struct rte_rcu_qsbr *qsbr;
	struct vs_fdb *fdb;
	unsigned int nb_workers;
	struct vs_worker *workers[VS_SWITCH_MAX_WORKERS];
	struct vs_dp *dp;	/* the published snapshot (atomic) */
	uint32_t stopping;	/* workers leave their loop (atomic) */
	uint32_t no_idle_sleep; /* workers poll even with nothing to poll (atomic; take-over) */
	bool running;
	/* Control thread state; sw->lock also covers reads from telemetry. */
	pthread_mutex_t lock;
	struct vs_sw_port *ports[VS_SWITCH_MAX_PORTS];
	int64_t reconcile_timer;
	int64_t clock_timer;
	int64_t capture_timer;
	uint64_t start_ns;
	uint64_t aged;
	uint64_t flushed;
	struct vs_rebalance *rb; /* rx queue placement by cycles (vs_rebalance.c) */
	/* Each worker's counters at the last `clear counters` (subtracted in its
	 * lcore view; the workers' own counters, which placement reads, are not
	 * touched). Under sw->lock. */
	struct vs_lcore_base lcore_base[VS_SWITCH_MAX_WORKERS];
	/* Totals at the previous stats line. */
	uint64_t last_line_ns;
	uint64_t last_rx, last_tx, last_drop, last_busy, last_idle;
};

/*
 * Waits until every online worker has passed a quiescent state. Yields
 * instead of spinning: the control thread may share a CPU with a worker,
 * which must run for the wait to end.
 */
static inline void
vs_rcu_wait(struct rte_rcu_qsbr *v)
{
	uint64_t token = rte_rcu_qsbr_start(v);

	while (!rte_rcu_qsbr_check(v, token, false))
		sched_yield();
}

/* vs_switch.c */
extern int vs_switch_logtype;
/* Builds the snapshot for the ports as they are now and publishes it (control thread). */
int vs_switch_reconcile(struct vs_switch *sw);
/* Engine counters of port @p d summed over the workers (no base taken off). */
void vs_switch_sum_engine(struct vs_switch *sw, uint16_t d, struct vs_switch_port_counters *c);
/* Workers' lcore views count from now on (clear counters, control thread). */
void vs_switch_clear_lcores(struct vs_switch *sw);
/* Reads port @p d's driver counters into its cache (control thread). */
void vs_switch_refresh_driver_stats(struct vs_switch *sw, uint16_t d);

/* vs_capture.c */
/* Copies a burst of port c->port (rx or tx side) into the capture's ring. Worker. */
void vs_capture_burst(struct vs_capture *c, uint16_t queue, struct rte_mbuf **pkts, uint16_t n,
		      bool tx);
/* Ends the capture of a port being removed (control thread). */
void vs_capture_port_gone(struct vs_switch *sw, struct vs_sw_port *sp);
/* Ends every capture; the workers are stopped (destroy). */
void vs_capture_fini(struct vs_switch *sw);
/* A capture with its clock set and no file; NULL without memory. */
struct vs_capture *vs_capture_new(void);
/* Frees a capture that is on no port. */
void vs_capture_free(struct vs_capture *c);
/* Puts @p c on port @p sp (not captured) and republishes. @return 0 or -ENOMEM. */
int vs_capture_publish(struct vs_switch *sw, struct vs_sw_port *sp, struct vs_capture *c);
/* Takes port @p sp's capture off the workers (after it, none copies), ends it. */
void vs_capture_end(struct vs_switch *sw, struct vs_sw_port *sp,
		    struct vs_switch_capture_result *res);

/* vs_switch.c, for vs_handover.c: a port's life in steps. */
/*
 * Creates the port of SPEC @p text, not started and not in the engine
 * (@p name: the name when the SPEC has none; NULL: TYPE plus a number).
 */
int vs_sw_port_new(struct vs_switch *sw, const char *text, const char *name,
		   struct vs_sw_port **out, char *err, size_t errlen);
/* Destroys a port vs_sw_port_new() made that never joined (NULL ignored). */
void vs_sw_port_free(struct vs_sw_port *sp);
/* Puts a started (or loaded) port into the engine as id @p id; publish with vs_sw_reconcile(). */
int vs_sw_port_join(struct vs_switch *sw, struct vs_sw_port *sp, uint16_t id);
/* Rebuilds and publishes the workers' snapshot. */
int vs_sw_reconcile(struct vs_switch *sw);

/* vs_worker.c */
unsigned int vs_worker_poll(struct vs_worker *w, const struct vs_dp *dp);
/* Forwards @p n mbufs received on port @p in by a poll of tx lane @p lane (the mbuf path). */
void vs_worker_forward(struct vs_worker *w, const struct vs_dp *dp, uint16_t in, uint16_t lane,
		       struct rte_mbuf **pkts, uint16_t n);

/* vs_onecopy.c: forwards the @p n frames rx_frames took from port @p in
 * (poll @p p), then gives them back. Out of line: an empty poll does not pay for it. */
void vs_onecopy_forward(struct vs_worker *w, const struct vs_dp *dp, const struct vs_switch_poll *p,
			uint16_t n, void *ctx);

/* Polls @p p (a port with VS_DP_ONECOPY_RX) and forwards what it took by
 * one copy; returns the frames taken. */
static inline uint16_t
vs_onecopy_poll(struct vs_worker *w, const struct vs_dp *dp, const struct vs_switch_poll *p)
{
	struct vs_port *port = dp->ports[p->port].port;
	void *ctx;
	uint16_t n;

	n = port->ops->onecopy->rx_frames(port, p->queue, w->frames, VS_SWITCH_BURST, &ctx);
	if (n != 0)
		vs_onecopy_forward(w, dp, p, n, ctx);
	return n;
}
int vs_worker_main(void *arg);

/* vs_switch.c: rebuilds and publishes the snapshot (control thread). */
int vs_switch_republish(struct vs_switch *sw);

/* vs_rebalance.c */
struct vs_sched_item;
/* State and timers; vs_rebalance_fini() also when init failed half-way. */
int vs_rebalance_init(struct vs_switch *sw);
void vs_rebalance_fini(struct vs_switch *sw);
/* The workers of @p n rx queues for the snapshot being built (reconcile). */
unsigned int vs_rebalance_assign(struct vs_switch *sw, struct vs_sched_item *items, unsigned int n);
/* A port id (re)used: forget its queues' history. */
void vs_rebalance_port_reset(struct vs_switch *sw, uint16_t id);

/* vs_telemetry.c */
void vs_telemetry_attach(struct vs_switch *sw);
void vs_telemetry_detach(struct vs_switch *sw);

#endif /* VS_SWITCH_PRIV_H */
