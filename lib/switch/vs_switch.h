/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_SWITCH_H
#define VS_SWITCH_H

/**
 * @file
 * The forwarding engine: an L2 learning switch over vs_port ports.
 *
 * Threads: the control thread (the EAL main lcore, running the vs_evloop
 * given in the config) calls every function here; each EAL worker lcore
 * runs one worker that polls the (port, rx queue) pairs assigned to it.
 * Workers read the engine's state through an RCU-published snapshot and
 * report a quiescent state once per poll iteration; the control thread
 * publishes a new snapshot whenever ports, queues or links change, and
 * frees the old one after a grace period. Moving a queue from one worker to
 * another, or turning a tx queue from shared to exclusive, goes through
 * intermediate snapshots so that no queue is ever polled, or sent on
 * unlocked, by two workers at once.
 *
 * Functions returning views (vs_switch_port_view, vs_switch_lcore_view,
 * vs_switch_fdb_view) may also be called from another thread (telemetry).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vs_port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VS_SWITCH_MAX_PORTS   256
#define VS_SWITCH_MAX_WORKERS 64
#define VS_SWITCH_BURST	      32

#define VS_SWITCH_DEFAULT_FDB_SIZE   65536
#define VS_SWITCH_DEFAULT_FDB_AGING  300
#define VS_SWITCH_DEFAULT_MBUFS	     16383
#define VS_SWITCH_DEFAULT_TX_RETRIES 4

#define VS_AUTO_LB_DEFAULT_INTERVAL    60 /**< seconds between automatic checks */
#define VS_AUTO_LB_DEFAULT_THRESHOLD   95 /**< busiest worker's busy percent */
#define VS_AUTO_LB_DEFAULT_IMPROVEMENT 25 /**< percent less load on the busiest worker */
#define VS_AUTO_LB_MIN_INTERVAL	       1
#define VS_AUTO_LB_MAX_INTERVAL	       86400

struct vs_switch;
struct vs_fdb;

struct vs_switch_config {
	struct vs_evloop *loop; /**< the control thread's loop (required) */
	const char *name;	/**< names pool, FDB; default "vswitch" */
	uint32_t fdb_size;	/**< most FDB entries; 0: default */
	uint32_t fdb_aging;	/**< seconds unseen before removal; 0: never */
	uint32_t nb_mbufs;	/**< mbuf pool size; 0: default */
	uint32_t tx_retries;	/**< tx_burst retries when a queue is full */
	/**
	 * Tests: no worker lcores are launched and no clock runs; the caller
	 * drives worker w with vs_switch_poll() and the FDB clock with
	 * vs_switch_fdb_tick(). @ref nb_workers sets how many workers the
	 * assignment spreads queues over.
	 */
	bool manual;
	unsigned int nb_workers; /**< manual mode only */
	bool telemetry;		 /**< register the /vswitch/... telemetry commands */
	/**
	 * Never copy a frame straight from a VM's buffer into another's
	 * (doc/vswitch.md "One copy between VMs"): every frame through an mbuf.
	 */
	bool no_onecopy;
	/**
	 * Automatic rx queue placement (vs_switch_auto_lb_set()): every
	 * @ref auto_lb_interval seconds, when a worker was busy at least
	 * @ref auto_lb_threshold percent of the time and placing the queues
	 * by their busy cycles lowers the busiest worker's load by at least
	 * @ref auto_lb_improvement percent, do it. 0: the defaults.
	 */
	bool auto_lb;
	uint32_t auto_lb_interval;
	uint32_t auto_lb_threshold;
	uint32_t auto_lb_improvement;
	/**
	 * Crash-restart state directory handed to every port (vs_port_env's
	 * state_dir); NULL: none. Kept by pointer: it must outlive the engine.
	 */
	const char *state_dir;
};

/**
 * Counters of one port, summed over workers, since it was added or last
 * cleared. Drops are counted once each, by reason (enum vs_drop), whether the
 * engine or the port's driver dropped the frame.
 */
struct vs_switch_port_counters {
	uint64_t rx_packets; /**< received from the port (those the engine dropped included) */
	uint64_t rx_bytes;
	uint64_t rx_dropped; /**< every rx drop: the sum of rx_drop[] */
	uint64_t tx_packets; /**< handed to the port (its driver may still drop some: tx_drop[]) */
	uint64_t tx_bytes;
	uint64_t tx_dropped; /**< every tx drop: the sum of tx_drop[] */
	uint64_t flooded;    /**< received and flooded (unknown unicast, broadcast, multicast) */
	uint64_t onecopy;    /**< of tx_packets: copied straight from the sender's buffer */
	uint64_t rx_drop[VS_DROP_NB]; /**< rx drops by reason */
	uint64_t tx_drop[VS_DROP_NB]; /**< tx drops by reason */
};

/** A port as the engine sees it. */
struct vs_switch_port_view {
	uint16_t id;
	char name[VS_PORT_NAME_LEN];
	char vlan[96];				/**< "10", or "trunk 10,20-29" */
	struct vs_port_info info;		/**< as of the last state change */
	int16_t rxq_worker[VS_PORT_MAX_QUEUES]; /**< worker polling rx queue q, or -1 */
	bool admin_up;				/**< set-port admin=up|down */
	struct vs_switch_port_counters counters;
};

/** One poll of a worker. */
struct vs_switch_poll {
	uint16_t port;
	uint16_t queue;
	/**
	 * Its tx lane: its rank among the queues of @c port this worker polls
	 * (0, 1, ... in queue order). What it receives goes out on lane's tx
	 * queue of the worker's tx queues to the destination (vs_switch_txq_view).
	 */
	uint16_t lane;
};

/** A worker as the engine sees it. */
struct vs_switch_lcore_view {
	unsigned int worker;
	unsigned int lcore;   /**< EAL lcore id (manual mode: the worker index) */
	uint64_t busy_cycles; /**< TSC cycles of iterations that moved >= 1 packet */
	uint64_t idle_cycles; /**< TSC cycles of the other iterations */
	uint64_t iterations;
	uint64_t busy_iterations;
	uint64_t rx_packets; /**< packets received by this worker */
	/** TSC cycles of the poll loop's finished runs (busy + idle, once stopped) */
	uint64_t loop_cycles;
	uint64_t tsc_hz;
	unsigned int nb_polls;
	struct vs_switch_poll polls[64]; /**< the first 64 of them */
};

/** FDB figures. */
struct vs_switch_fdb_view {
	uint32_t count;
	uint32_t limit;
	uint32_t aging;
	uint64_t learned;
	uint64_t moved;
	uint64_t full;
	uint64_t aged;	  /**< removed by aging */
	uint64_t flushed; /**< removed by flushes (command, port removal, link down) */
};

/** One mbuf pool (`show mempool`), like ovs-appctl netdev-dpdk/get-mempool-info. */
struct vs_switch_mempool_view {
	char name[32];
	int socket;	     /**< NUMA socket of its memory, -1 any */
	uint32_t size;	     /**< mbufs in the pool */
	uint32_t in_use;     /**< taken out: in rings, queues, in flight, leaked */
	uint32_t free;	     /**< size - in_use, the per-lcore caches included */
	uint32_t cached;     /**< of free, in per-lcore caches */
	uint32_t cache_size; /**< per-lcore cache capacity */
	uint32_t data_room;  /**< bytes per mbuf for headroom and data */
};

/**
 * Calls @p cb for every mbuf pool of the process (the engine's and any a
 * port or driver made), stopping when it returns non-zero. Any thread; the
 * counts are a snapshot (the workers keep taking and returning mbufs).
 * @return the number of pools visited
 */
unsigned int vs_switch_mempool_walk(int (*cb)(const struct vs_switch_mempool_view *v, void *arg),
				    void *arg);

/**
 * Creates the engine: mbuf pool, FDB, worker state (one worker per EAL
 * worker lcore), timers on @p cfg->loop. Call on the EAL main lcore.
 * @return the engine, or NULL with a one-line reason in @p err
 */
struct vs_switch *vs_switch_create(const struct vs_switch_config *cfg, char *err, size_t errlen);

/**
 * Launches the workers on their lcores (not in manual mode).
 * @return 0, or a negative errno (-EALREADY when running)
 */
int vs_switch_start(struct vs_switch *sw);

/** Stops the workers and waits for them (ports stay). */
void vs_switch_stop(struct vs_switch *sw);

/** Stops everything, stops and destroys every port, frees @p sw (NULL ignored). */
void vs_switch_destroy(struct vs_switch *sw);

/** @return the engine's mbuf pool. */
struct rte_mempool *vs_switch_mempool(struct vs_switch *sw);

/**
 * Adds and starts a port from @p spec ("TYPE,key=value,..."). The engine
 * consumes name=NAME (default: TYPE plus a number), vlan=ID and
 * trunk=ID:ID:...; the driver the rest. Traffic on other ports goes on.
 * @return the port id (>= 0), or a negative errno with a reason in @p err
 */
int vs_switch_add_port(struct vs_switch *sw, const char *spec, char *err, size_t errlen);

/**
 * Stops polling port @p name, waits out the workers, forgets its FDB
 * entries, stops and destroys it. Traffic on other ports goes on.
 * @return 0, or -ENOENT, or -ENOMEM when the snapshot without it cannot be
 *         built (the port then stays, working), with a reason in @p err
 */
int vs_switch_del_port(struct vs_switch *sw, const char *name, char *err, size_t errlen);

/** @return port @p id's driver port (control thread), or NULL. */
struct vs_port *vs_switch_port(struct vs_switch *sw, uint16_t id);

/** @return the id of port @p name, or -ENOENT. */
int vs_switch_port_find(struct vs_switch *sw, const char *name);

/** @return how many ports there are. */
unsigned int vs_switch_nb_ports(struct vs_switch *sw);

/** @return the next port id after @p prev (-1: the first), or -1 after the last. */
int vs_switch_port_next(struct vs_switch *sw, int prev);

/**
 * Lets port @p id take part in one copy between VMs (the default where its
 * driver can), or keeps it on the mbuf path (@p on false). A captured port
 * stays on the mbuf path while the capture runs, whatever this says.
 * Control thread.
 * @return 0, -ENOENT (no such port), -ENOMEM (snapshot)
 */
int vs_switch_port_set_onecopy(struct vs_switch *sw, uint16_t id, bool on);

/**
 * Fills @p view for port @p id. Any thread; on the control thread (the EAL
 * main lcore) the driver's drop counters are read fresh, elsewhere as the
 * control thread last read them (at most a second old).
 * @return 0 or -ENOENT
 */
int vs_switch_port_view(struct vs_switch *sw, uint16_t id, struct vs_switch_port_view *view);

/**
 * Changes port @p name at run time without touching its connection:
 * @p kv holds @p n "key=value" strings, applied together or not at all.
 * Keys: vlan=ID (access port), trunk=LIST (trunk port), admin=up|down
 * (down: the port stays connected, frames from and to it are dropped and
 * counted as admin_down). A VLAN change or admin=down forgets the port's
 * learned stations, a VLAN change also its static entries in VLANs it
 * left. The workers see the change through a new RCU snapshot.
 * @return 0, or -ENOENT / -EINVAL with a one-line reason in @p err
 */
int vs_switch_set_port(struct vs_switch *sw, const char *name, unsigned int n,
		       const char *const *kv, char *err, size_t errlen);

/**
 * Writes port @p id's SPEC as it runs now into @p buf: the SPEC it was added
 * with, its name, and its VLANs and admin state as set since (set-port), so
 * that vs_switch_add_port() of it makes the same port (save-config).
 * @return the length, -ENOENT, or -ENAMETOOLONG when @p len is too small
 */
int vs_switch_port_spec(struct vs_switch *sw, uint16_t id, char *buf, size_t len);

/**
 * Zeroes port @p id's counters (engine and driver), or every port's and every
 * worker's lcore counters (busy, idle, loop cycles, iterations, packets) when
 * @p id is -1. Workers keep counting: the views subtract what was counted
 * until now (the rx queue cycles that placement reads are not cleared).
 * @return 0 or -ENOENT
 */
int vs_switch_clear_counters(struct vs_switch *sw, int id);

/**
 * Fills @p stats with port @p id's driver counters (control thread only).
 * @return 0 or -ENOENT
 */
int vs_switch_port_driver_stats(struct vs_switch *sw, uint16_t id, struct vs_port_stats *stats);

/** @return the number of workers. */
unsigned int vs_switch_nb_workers(const struct vs_switch *sw);

/**
 * Fills @p view for worker @p w. Any thread.
 * @return 0 or -ENOENT
 */
int vs_switch_lcore_view(struct vs_switch *sw, unsigned int w, struct vs_switch_lcore_view *view);

/** The tx queues a worker sends on to one port. */
struct vs_switch_txq_view {
	uint32_t mask; /**< bit q: it may send on queue q; 0: it sends nothing there */
	bool shared;   /**< with another worker (more workers than queues): locked */
	uint16_t queue_of_lane[VS_PORT_MAX_QUEUES]; /**< the tx queue of each lane */
};

/**
 * Fills @p view with the tx queues worker @p w sends on to port @p port,
 * as the published snapshot has them (doc/vswitch.md, "Workers and
 * queues"). Any thread.
 * @return 0 or -ENOENT (no such worker or port)
 */
int vs_switch_txq_view(struct vs_switch *sw, uint16_t port, unsigned int w,
		       struct vs_switch_txq_view *view);

/** Fills @p view with the FDB's figures. Any thread. */
void vs_switch_fdb_view(struct vs_switch *sw, struct vs_switch_fdb_view *view);

/** @return the FDB (for vs_fdb_walk and lookups; control thread). */
struct vs_fdb *vs_switch_fdb(struct vs_switch *sw);

/** Removes every learned FDB entry (static ones stay). @return the number removed. */
uint32_t vs_switch_fdb_flush(struct vs_switch *sw);

/**
 * Removes the learned entries on port @p port (-1: any) in VLAN @p vlan
 * (-1: any). @return the number removed
 */
uint32_t vs_switch_fdb_flush_match(struct vs_switch *sw, int port, int vlan);

/**
 * Adds a static entry: (@p mac, @p vlan) on port @p port, never aged and
 * never moved by learning (a learned entry for the key becomes static).
 * @return 0, or -ENOENT (no such port), -EINVAL (VLAN not carried by the
 *         port), -ENOSPC (the table is full), with a reason in @p err
 */
int vs_switch_fdb_add(struct vs_switch *sw, const uint8_t mac[6], uint16_t vlan, uint16_t port,
		      char *err, size_t errlen);

/**
 * Removes the entry of (@p mac, @p vlan), static or learned.
 * @return 0 or -ENOENT
 */
int vs_switch_fdb_del(struct vs_switch *sw, const uint8_t mac[6], uint16_t vlan);

/** Capture directions for vs_switch_capture_start(): 1 rx, 2 tx, both. */
#define VS_CAP_DIR_BOTH 3

/** A capture's state, or its result when stopped. */
struct vs_switch_capture_result {
	uint64_t written; /**< packets in the file */
	uint64_t lost;	  /**< packets not captured: no mbuf, no ring room, write errors */
	uint64_t want;	  /**< count=N, 0: until stopped */
	unsigned int dir; /**< 1 rx, 2 tx, 3 both */
	char path[4096];
};

/**
 * Starts capturing port @p name into pcapng file @p path (an absolute path;
 * created or truncated, mode 0640): what it receives (@p dir bit 1) and what
 * the switch sends it (bit 2), @p count packets (0: until stopped), each cut
 * to @p snaplen bytes (0: whole). Other ports are not slowed down.
 * @return 0, or -ENOENT, -EBUSY (captured already), -EINVAL, -ENOMEM, or
 *         the file's errno, with a reason in @p err
 */
int vs_switch_capture_start(struct vs_switch *sw, const char *name, const char *path,
			    unsigned int dir, uint64_t count, uint32_t snaplen, char *err,
			    size_t errlen);

/**
 * Stops the capture of port @p name: what the workers copied is written,
 * the file closed. @p res (may be NULL) gets the counts.
 * @return 0 or -ENOENT with a reason in @p err
 */
int vs_switch_capture_stop(struct vs_switch *sw, const char *name,
			   struct vs_switch_capture_result *res, char *err, size_t errlen);

/** Fills @p st with port @p id's capture. @return 0, or -ENOENT when not captured. */
int vs_switch_capture_state(struct vs_switch *sw, uint16_t id, struct vs_switch_capture_result *st);

/**
 * Lets dpdk-dumpcap (and dpdk-pdump), DPDK secondary processes, capture the
 * switch's ethdev ports (`dpdk-dumpcap -i NAME`): their requests are served
 * on the control thread by the switch's capture path, and a stop is
 * answered only once no worker copies for it any more (vs_pdump.c). One
 * switch per process. Control thread.
 * @return 0, or -EEXIST (another switch serves them), -ENOMEM, or a
 * negative errno from EAL.
 */
int vs_switch_pdump_init(struct vs_switch *sw);

/** Stops serving the tools (before vs_switch_stop); their captures end with the switch. */
void vs_switch_pdump_fini(struct vs_switch *sw);

/** Sets the FDB aging time (seconds; 0: never). */
void vs_switch_set_fdb_aging(struct vs_switch *sw, uint32_t seconds);

/**
 * Advances the FDB clock to @p now seconds and ages entries (run by a 1 s
 * timer; in manual mode, by the test).
 * @return the number of entries aged out
 */
uint32_t vs_switch_fdb_tick(struct vs_switch *sw, uint32_t now);

/**
 * Manual mode: runs one poll iteration of worker @p w on the calling
 * thread (which must be an EAL thread).
 * @return the number of packets received
 */
unsigned int vs_switch_poll(struct vs_switch *sw, unsigned int w);

/**
 * Prints every port's counters and every worker's cycles to @p f, one
 * table each (for shutdown and --stats).
 */
void vs_switch_print_stats(struct vs_switch *sw, FILE *f);

/** Prints one line of totals since the previous call (for --stats SEC). */
void vs_switch_print_stats_line(struct vs_switch *sw, FILE *f);

/* ---- rx queue placement (vs_rebalance.c) ---- */

/** One rx queue's placement and measured load. */
struct vs_switch_rxq_view {
	uint16_t port;
	uint16_t queue;
	int16_t worker;		/**< polling it, or -1 */
	bool polled;		/**< the queue is in use */
	uint64_t packets;	/**< received from it, all workers */
	uint64_t busy_cycles;	/**< charged to it, all workers (see doc/vswitch.md) */
	uint64_t window_cycles; /**< charged since the measurement window started */
	uint64_t window_tsc;	/**< the window's length in TSC cycles */
};

/** The automatic mode's settings and counters. */
struct vs_switch_auto_lb {
	bool on;
	uint32_t interval;    /**< seconds between checks */
	uint32_t threshold;   /**< busy percent of the busiest worker that triggers a check */
	uint32_t improvement; /**< percent the busiest worker's load must drop */
	uint64_t checks;      /**< intervals checked (read only) */
	uint64_t rebalances;  /**< placements it made (read only) */
};

/**
 * Places every rx queue by the busy cycles measured since the last
 * placement or automatic check (OVS's pmd-rxq-assign=cycles): heaviest
 * first, each on the least loaded worker. Later port changes place only
 * their own queues. Control thread.
 * @param moved set to the queues that changed worker (may be NULL)
 * @return 0 or a negative errno
 */
int vs_switch_rebalance(struct vs_switch *sw, unsigned int *moved);

/**
 * Moves rx queue @p queue of port @p port to worker @p worker (until the
 * next placement by cycles). Control thread.
 * @return 0, -ENOENT (no port), -EINVAL (no such queue or worker)
 */
int vs_switch_rxq_move(struct vs_switch *sw, uint16_t port, uint16_t queue, unsigned int worker);

/** Fills @p view for rx queue @p queue of port @p port. @return 0 or -ENOENT. */
int vs_switch_rxq_view(struct vs_switch *sw, uint16_t port, uint16_t queue,
		       struct vs_switch_rxq_view *view);

/**
 * Sets the automatic mode (checks, rebalances ignored).
 * @return 0, or -EINVAL for an interval outside [1, 86400] or a percent over 100
 */
int vs_switch_auto_lb_set(struct vs_switch *sw, const struct vs_switch_auto_lb *cfg);
void vs_switch_auto_lb_get(struct vs_switch *sw, struct vs_switch_auto_lb *cfg);

#ifdef __cplusplus
}
#endif

#endif /* VS_SWITCH_H */
