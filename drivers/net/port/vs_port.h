/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_PORT_H
#define VS_PORT_H

/**
 * @file
 * The port interface: one small ops table, a slimmed ethdev, carrying
 * rte_mbuf bursts. Implemented by drivers/net/vhost_user (a VM), virtio (an
 * uplink where the switch is the virtio driver) and ethdev (any DPDK port).
 *
 * Threads:
 * - rx_burst/tx_burst run on worker lcores. A given (port, queue) is used by
 *   one thread at a time; the caller (lib/switch) serialises a queue that
 *   several lcores share. They never block and never take a lock that the
 *   control thread can hold for long.
 * - Everything else runs on the control thread, the one running the
 *   vs_evloop in the port's environment.
 *
 * Safe reclamation: workers report a quiescent state on env.qsbr between
 * poll iterations (never inside a burst). Before a driver frees or unmaps
 * anything a burst may touch (a VM's memory table, a ring, queue state), it
 * first unpublishes it, then waits with vs_port_synchronize(). Drivers may
 * therefore read their published per-queue state in a burst without locks.
 *
 * A queue that is not ready (VM not connected, ring not started, link down)
 * makes rx_burst return 0 and tx_burst return 0 at the cost of a load and a
 * branch.
 */

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_net.h>

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "vs_evloop.h"
#include "vs_json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VS_PORT_MAX_QUEUES 8
#define VS_PORT_NAME_LEN   32

struct vs_port;

enum vs_port_link {
	VS_PORT_LINK_DOWN = 0,
	VS_PORT_LINK_UP = 1,
};

/**
 * Why a frame was dropped: every frame the switch drops is counted once,
 * under one reason, on the port and direction where it was dropped (by the
 * engine or by the port's driver). The names (vs_drop_name) are what
 * vswitchctl, --json and telemetry show.
 */
enum vs_drop {
	VS_DROP_VLAN,	 /**< rx: the port does not carry the frame's VLAN (or it is untagged on a
			    trunk) */
	VS_DROP_TAGGED,	 /**< rx: a tagged frame (VID != 0) on an access port */
	VS_DROP_RUNT,	 /**< rx: shorter than an Ethernet header */
	VS_DROP_HAIRPIN, /**< rx: its destination is the port it came from */
	VS_DROP_ADMIN_DOWN,  /**< rx, tx: the port is administratively down */
	VS_DROP_LINK_DOWN,   /**< tx: the destination's link is down, or it has no tx queue now */
	VS_DROP_TX_FULL,     /**< tx: the queue stayed full through the retries */
	VS_DROP_NO_MBUF,     /**< rx: no mbuf for a frame; tx: none for a flood copy */
	VS_DROP_NO_HEADROOM, /**< tx: no room in the mbuf to insert a VLAN tag */
	VS_DROP_TOO_LONG,    /**< rx, tx: longer than the port or the peer's buffers take */
	VS_DROP_BAD_CHAIN,   /**< rx, tx: a descriptor chain the virtio spec forbids */
	VS_DROP_BAD_OFFLOAD, /**< rx, tx: an offload request (virtio-net header) that cannot be
				honoured */
	VS_DROP_DISABLED,    /**< rx: the peer sent on a queue it had disabled (vhost-user "Ring
				states") */
	VS_DROP_OTHER, /**< the device's own drops, without a reason (ethdev imissed, ierrors, ...)
			*/
	VS_DROP_NB
};

/** @return the short name of @p reason ("vlan", "tx_full", ...), or "?". */
const char *vs_drop_name(unsigned int reason);

struct vs_port_queue_stats {
	uint64_t packets; /**< packets received (rx) or sent (tx) */
	uint64_t bytes;	  /**< their bytes, without the virtio-net header */
	uint64_t drops;	  /**< rx: no mbuf; tx: no room in the peer's ring */
	uint64_t errors;  /**< malformed descriptors, frames too long, broken ring */
	/**
	 * Frames the driver dropped, by reason (enum vs_drop): each once. Unlike
	 * @ref drops and @ref errors (the driver's raw counters, which also
	 * count retried bursts and broken-ring events), these are frames lost.
	 */
	uint64_t drop[VS_DROP_NB];
};

struct vs_port_stats {
	struct vs_port_queue_stats rx[VS_PORT_MAX_QUEUES];
	struct vs_port_queue_stats tx[VS_PORT_MAX_QUEUES];
};

struct vs_port_info {
	const char *type;	/**< "vhost-user", "virtio", "ethdev" */
	uint16_t max_queues;	/**< queue pairs the port was configured for */
	uint16_t nb_rxq;	/**< rx queues usable now (0..max_queues) */
	uint16_t nb_txq;	/**< tx queues usable now (0..max_queues) */
	enum vs_port_link link; /**< link state now */
	uint32_t mtu;		/**< largest frame payload, 0 if unknown */
	char detail[128];	/**< free text for `show ports` (socket path, devargs) */
	bool is_ethdev;		/**< the port is DPDK ethdev port @ref ethdev_port */
	uint16_t ethdev_port;	/**< its ethdev port id (dpdk-dumpcap names it) */
};

/** What the engine (or a test) gives a port when creating it. */
struct vs_port_env {
	struct rte_mempool *mp;	   /**< mbufs for received packets */
	struct rte_rcu_qsbr *qsbr; /**< workers' quiescent-state variable */
	struct vs_evloop *loop;	   /**< the control thread's event loop */
	int socket_id;		   /**< NUMA socket for allocations */
	/**
	 * The driver calls state_changed(port, arg) on the control thread
	 * whenever what info_get reports about link or queue counts changed
	 * (a VM connected, enabled or disabled queues, the link went down).
	 * The engine then re-reads info_get and republishes which worker
	 * polls which queue; until it has, a removed queue must still answer
	 * rx_burst/tx_burst with 0. Never call it from a worker lcore or
	 * another thread (bounce such events through an fd in @ref loop).
	 * May be NULL (a port used without the engine, in tests).
	 */
	void (*state_changed)(struct vs_port *port, void *arg);
	void *arg; /**< passed to state_changed */
	/**
	 * A directory (tmpfs, e.g. under /run) where drivers keep what must
	 * survive a crash of the process, so that a restarted switch can
	 * finish what the killed one left half done (the vhost-user port's
	 * transactions, doc/vhost_user_port.md). NULL: nothing is kept, and
	 * rx_done/tx_flush are not needed.
	 */
	const char *state_dir;
};

/**
 * A port on its way to another process (an upgrade without a disconnect,
 * vs_port_ops.handover_*): the driver's own encoding of its state and the
 * fds it names. Filled by handover_save (blob malloc'd: the caller frees
 * it; fds borrowed: they stay the port's), consumed by handover_load.
 */
struct vs_port_handover {
	void *blob;	   /**< the driver's encoding, versioned by the driver */
	size_t len;	   /**< bytes of @ref blob */
	int *fds;	   /**< the fds, in the order the blob names them */
	unsigned int nfds; /**< entries of @ref fds */
};

/** Most fds one port hands over. */
#define VS_PORT_HANDOVER_MAX_FDS 512

/* ---- one copy between ports (optional: vs_port_ops.onecopy) ---- */

/** A piece of a frame where it lies in memory the port reads directly. */
struct vs_port_seg {
	uint8_t *addr;
	uint32_t len;
	uint32_t resv;
};

/** Bytes of a frame's start copied into struct vs_port_frame: Ethernet header and one tag. */
#define VS_FRAME_HEAD 18

/**
 * What a frame asks of the destination that takes it in one copy: the
 * receive offloads the destination must have to be given the frame as it
 * is (virtio-net, 5.1.6.4). VS_FRAME_NEED_MBUF: not for one copy at all
 * (too short, malformed, an unusual header): it takes the mbuf path, which
 * handles and counts such frames as rx_burst would.
 */
#define VS_FRAME_NEED_CSUM 0x01u /**< a partial checksum to finish (GUEST_CSUM) */
#define VS_FRAME_NEED_TSO4 0x02u /**< GSO TCPv4 (GUEST_TSO4) */
#define VS_FRAME_NEED_TSO6 0x04u /**< GSO TCPv6 (GUEST_TSO6) */
#define VS_FRAME_NEED_UFO  0x08u /**< GSO UDP (GUEST_UFO) */
#define VS_FRAME_NEED_MBUF 0x80u
/** In tx_caps: the queue takes frames in one copy now. */
#define VS_FRAME_CAP_OK 0x100u

/**
 * A received frame left where the sender put it (rx_frames). The engine
 * switches on @c head, a copy taken once: a sender rewriting its buffer
 * meanwhile cannot change where the frame goes, and tx_frames writes the
 * frame's first VS_FRAME_HEAD bytes from this copy, not from the buffer.
 */
struct vs_port_frame {
	uint8_t head[VS_FRAME_HEAD]; /**< the frame's first bytes (all of them unless NEED_MBUF) */
	uint8_t needs;		     /**< VS_FRAME_NEED_* */
	uint8_t resv;
	uint32_t len;		       /**< frame bytes (no device header) */
	uint32_t off;		       /**< where the frame starts in @c seg */
	const struct vs_port_seg *seg; /**< the buffer, valid until rx_frames_done */
	uint16_t nseg;
	uint16_t idx;		    /**< the receiving driver's own index */
	struct virtio_net_hdr vnet; /**< the offload request, normalised (zero: none) */
};

/**
 * One copy from a port's receive buffers straight into another port's
 * (doc/vswitch.md "One copy between VMs"). All run on a worker lcore,
 * within one poll iteration: rx_frames, then any number of frame_to_mbuf
 * and (on other ports) tx_frames, then rx_frames_done, with no quiescent
 * state between, so the memory behind every frame stays mapped throughout.
 */
struct vs_port_onecopy_ops {
	/**
	 * Takes up to @p nb frames from rx @p queue without copying them.
	 * Returns how many (0: none, or the queue is not ready); *@p ctx is
	 * then passed to frame_to_mbuf and rx_frames_done.
	 */
	uint16_t (*rx_frames)(struct vs_port *port, uint16_t queue, struct vs_port_frame *f,
			      uint16_t nb, void **ctx);
	/**
	 * Copies frame @p f into a new mbuf, as rx_burst would have received
	 * it. Returns it, or NULL (no mbuf, malformed: counted by the driver).
	 */
	struct rte_mbuf *(*frame_to_mbuf)(struct vs_port *port, void *ctx,
					  const struct vs_port_frame *f);
	/** Gives every frame of the last rx_frames back to the sender. */
	void (*rx_frames_done)(struct vs_port *port, void *ctx);
	/**
	 * What tx @p queue takes in one copy now: VS_FRAME_CAP_OK with the
	 * VS_FRAME_NEED_* it accepts; 0 when it takes none (not ready, or
	 * its writes must go through the mbuf path, as while dirty pages are
	 * logged for a migration).
	 */
	uint32_t (*tx_caps)(struct vs_port *port, uint16_t queue);
	/**
	 * Copies frames into tx @p queue. Returns how many it consumed from
	 * the front: sent, or dropped (counted by the driver) because they
	 * can never be sent; stops at the first one there is no room for now.
	 */
	uint16_t (*tx_frames)(struct vs_port *port, uint16_t queue,
			      const struct vs_port_frame *const *f, uint16_t nb);
};

struct vs_port_ops {
	/**
	 * Receives up to @p nb packets from @p queue into @p pkts.
	 * Returns the number received; 0 when the queue is not ready.
	 */
	uint16_t (*rx_burst)(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts,
			     uint16_t nb);
	/**
	 * Sends up to @p nb packets on @p queue. The port owns (and frees)
	 * the packets it returns as sent; the rest stay the caller's.
	 * Packets may be shared (reference count > 1, sent to several ports):
	 * a driver must not modify a packet's data, only read it.
	 */
	uint16_t (*tx_burst)(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts,
			     uint16_t nb);
	/**
	 * Optional. Every packet of the last rx_burst on @p queue (by this
	 * thread) was sent or dropped: the port may now tell its peer that
	 * they were consumed (a vhost-user port in crash-safe mode returns
	 * the guest's transmit chains only then, together with the receive
	 * buffers filled meanwhile). The engine calls it after forwarding
	 * each non-empty burst; NULL when the port does not need it.
	 */
	void (*rx_done)(struct vs_port *port, uint16_t queue);
	/**
	 * Optional. Makes what this thread sent on @p queue visible to the
	 * peer now, before rx_done: the engine calls it before releasing the
	 * lock of a tx queue shared between workers.
	 */
	void (*tx_flush)(struct vs_port *port, uint16_t queue);
	/**
	 * Starts listening/connecting/polling. Called once, after create.
	 * Returns 0 or a negative errno (then only destroy follows).
	 */
	int (*start)(struct vs_port *port);
	/**
	 * Stops the port: link down, peer disconnected, sockets closed and
	 * removed. Called only after a successful start, once no worker polls
	 * the port any more.
	 */
	void (*stop)(struct vs_port *port);
	/** Fills @p info with the port's state now. */
	void (*info_get)(struct vs_port *port, struct vs_port_info *info);
	/** Fills @p stats with the driver's counters (zeros where it keeps none). */
	void (*stats_get)(struct vs_port *port, struct vs_port_stats *stats);
	/** Zeroes the driver's counters. */
	void (*stats_reset)(struct vs_port *port);
	/**
	 * Optional (NULL: nothing to add): writes the driver's state for
	 * `show port` as members of the open JSON object @p w: negotiated
	 * features, rings, memory, the peer. Control thread.
	 */
	void (*describe)(struct vs_port *port, struct vs_jw *w);
	/**
	 * Frees the port; called after stop, or after create when start was
	 * never called or failed. Nothing may call back into the engine after.
	 */
	void (*destroy)(struct vs_port *port);
	/** One copy between ports; NULL for ports that only carry mbufs. */
	const struct vs_port_onecopy_ops *onecopy;

	/*
	 * Hand-over to another process (optional, all four or none; a port
	 * without them is stopped in the old process and started afresh in
	 * the new one). The peer must not notice: no message, no socket file
	 * removed, no ring position lost.
	 */
	/**
	 * Once no worker polls the port: stops serving the peer (messages
	 * and sockets are left waiting, rings stopped at their position) and
	 * describes everything in @p h (VS_PORT_HANDOVER_MAX_FDS fds at most,
	 * h->fds given by the caller). Returns 0, or a negative errno with
	 * nothing changed.
	 */
	int (*handover_save)(struct vs_port *port, struct vs_port_handover *h);
	/** After handover_save: the hand-over failed; serve the peer again. */
	void (*handover_resume)(struct vs_port *port);
	/**
	 * Instead of start, on a port created from the same SPEC: takes over
	 * what another process saved. @p h is untrusted and checked like a
	 * peer's messages. Takes every fd of @p h (kept or closed, also on
	 * failure). Returns 0, or a negative errno (only destroy follows).
	 */
	int (*handover_load)(struct vs_port *port, struct vs_port_handover *h);
	/**
	 * After handover_save (the other process took over) or handover_load
	 * (the take-over was abandoned): lets go of the peer without it
	 * noticing, since another process holds the same fds. Only stop and
	 * destroy follow, and they must leave socket files alone.
	 */
	void (*handover_release)(struct vs_port *port);
};

/**
 * Every driver's port embeds this as its first member. The driver's create
 * sets ops; vs_port_create() then fills name and env.
 */
struct vs_port {
	const struct vs_port_ops *ops;
	struct vs_port_env env;
	char name[VS_PORT_NAME_LEN];
	uint16_t id; /**< assigned by the engine */
	void *owner; /**< the engine's per-port data */
};

/** Fast-path wrapper: @see vs_port_ops.rx_burst. */
static inline uint16_t
vs_port_rx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	return port->ops->rx_burst(port, queue, pkts, nb);
}

/** Fast-path wrapper: @see vs_port_ops.tx_burst. */
static inline uint16_t
vs_port_tx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	return port->ops->tx_burst(port, queue, pkts, nb);
}

/** Fast-path wrapper: @see vs_port_ops.rx_done (no-op when the port has none). */
static inline void
vs_port_rx_done(struct vs_port *port, uint16_t queue)
{
	if (port->ops->rx_done != NULL)
		port->ops->rx_done(port, queue);
}

/** Fast-path wrapper: @see vs_port_ops.tx_flush (no-op when the port has none). */
static inline void
vs_port_tx_flush(struct vs_port *port, uint16_t queue)
{
	if (port->ops->tx_flush != NULL)
		port->ops->tx_flush(port, queue);
}

/**
 * Waits until every worker has passed a quiescent state (control thread):
 * after it, no burst still uses what the driver unpublished before the
 * call. Yields while waiting, since the control thread may share a CPU with
 * a worker that must run for the wait to end. No-op without env.qsbr.
 */
static inline void
vs_port_synchronize(const struct vs_port *port)
{
	struct rte_rcu_qsbr *v = port->env.qsbr;
	uint64_t token;

	if (v == NULL)
		return;
	token = rte_rcu_qsbr_start(v);
	while (!rte_rcu_qsbr_check(v, token, false))
		sched_yield();
}

/* ---- port types and SPEC strings ---- */

#define VS_PORT_MAX_KV 16

/** A parsed "TYPE,key=value,..." specification. */
struct vs_port_spec {
	char type[32];
	unsigned int nkv;
	struct {
		char key[32];
		char value[256];
		int used;     /**< set by whoever consumes the key */
	} kv[VS_PORT_MAX_KV]; /**< in the order written */
};

/**
 * Formats a one-line error reason into @p err (@p errlen bytes; nothing when
 * @p err is NULL or @p errlen is 0). Control characters, which a name or
 * value quoted from untrusted input may hold, become '?'. The way every
 * control-plane call of the port layer and lib/switch reports why it failed.
 */
void vs_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * Parses @p text ("TYPE,key=value,...") into @p spec. A value may be
 * double-quoted to hold commas (`devargs="net_vhost0,iface=/s"`); quotes do
 * not nest and have no escapes. Rejects empty parts, empty values, duplicate
 * keys, over-long types, keys or values, characters other than
 * [A-Za-z0-9_.-] in TYPE and keys, and more than VS_PORT_MAX_KV pairs.
 * @return 0, or -EINVAL with a one-line reason in @p err.
 */
int vs_port_spec_parse(const char *text, struct vs_port_spec *spec, char *err, size_t errlen);

/**
 * @return the value of @p key and marks it used, or NULL when @p spec has
 * no such key.
 */
const char *vs_port_spec_get(struct vs_port_spec *spec, const char *key);

/**
 * Reads @p key as an unsigned decimal (or 0x hexadecimal) integer in
 * [@p min, @p max] and marks it used; @p *out is @p def when the key is
 * absent.
 * @return 0, or -EINVAL with a one-line reason naming the key in @p err.
 */
int vs_port_spec_get_uint(struct vs_port_spec *spec, const char *key, uint64_t min, uint64_t max,
			  uint64_t def, uint64_t *out, char *err, size_t errlen);

/** A port type, registered by its driver with VS_PORT_TYPE_REGISTER. */
struct vs_port_type {
	const char *name;  /**< the TYPE in a SPEC: "vhost-user", "ethdev", ... */
	const char *usage; /**< its keys, for --help */
	/**
	 * Creates a port named @p name from @p spec. Must consume (with
	 * vs_port_spec_get) every key it accepts; vs_port_create() rejects
	 * keys nobody used. Returns the port, or NULL with a one-line reason
	 * in @p err.
	 */
	struct vs_port *(*create)(const char *name, struct vs_port_spec *spec,
				  const struct vs_port_env *env, char *err, size_t errlen);
	struct vs_port_type *next;
};

/**
 * Adds @p type to the registry (called by VS_PORT_TYPE_REGISTER before
 * main). A second type of the same name is ignored with a log line.
 */
void vs_port_type_register(struct vs_port_type *type);

#define VS_PORT_TYPE_REGISTER(t)                                                                   \
	__attribute__((constructor)) static void vs_port_type_register_##t(void)                   \
	{                                                                                          \
		vs_port_type_register(&(t));                                                       \
	}

/** @return the registered type named @p name, or NULL. */
const struct vs_port_type *vs_port_type_find(const char *name);

/**
 * Iterates the registered types in name order: pass NULL to get the first.
 * @return the type after @p prev, or NULL after the last.
 */
const struct vs_port_type *vs_port_type_next(const struct vs_port_type *prev);

/**
 * Creates a port of @p spec->type named @p name. Keys the caller consumed
 * beforehand (marked used) are left alone; any key left unused after the
 * driver's create is an error ("unknown key 'x' for port type 'y'") and the
 * port is destroyed again. A type this build lacks gives "port type 'x' is
 * not available in this build" for the types the switch knows of
 * (vhost-user, vhost-net, vdpa, vhost-user-frontend, ethdev) and "unknown
 * port type 'x' (available: ...)" for others. Does not start the port.
 * @return the port, or NULL with a one-line reason in @p err.
 */
struct vs_port *vs_port_create(const char *name, struct vs_port_spec *spec,
			       const struct vs_port_env *env, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* VS_PORT_H */
