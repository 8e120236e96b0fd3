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
 * first unpublishes it, then waits with rte_rcu_qsbr_synchronize(). Drivers
 * may therefore read their published per-queue state in a burst without
 * locks.
 *
 * A queue that is not ready (VM not connected, ring not started, link down)
 * makes rx_burst return 0 and tx_burst return 0 at the cost of a load and a
 * branch.
 */

#include <stdint.h>

#include <rte_mbuf.h>

#include "vs_evloop.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VS_PORT_MAX_QUEUES 8
#define VS_PORT_NAME_LEN 32

struct rte_rcu_qsbr;
struct vs_port;

enum vs_port_link {
	VS_PORT_LINK_DOWN = 0,
	VS_PORT_LINK_UP = 1,
};

struct vs_port_queue_stats {
	uint64_t packets; /**< packets received (rx) or sent (tx) */
	uint64_t bytes;   /**< their bytes, without the virtio-net header */
	uint64_t drops;   /**< rx: no mbuf; tx: no room in the peer's ring */
	uint64_t errors;  /**< malformed descriptors, frames too long, broken ring */
};

struct vs_port_stats {
	struct vs_port_queue_stats rx[VS_PORT_MAX_QUEUES];
	struct vs_port_queue_stats tx[VS_PORT_MAX_QUEUES];
};

struct vs_port_info {
	const char *type;       /**< "vhost-user", "virtio", "ethdev" */
	uint16_t max_queues;    /**< queue pairs the port was configured for */
	uint16_t nb_rxq;        /**< rx queues usable now (0..max_queues) */
	uint16_t nb_txq;        /**< tx queues usable now (0..max_queues) */
	enum vs_port_link link; /**< link state now */
	uint32_t mtu;           /**< largest frame payload, 0 if unknown */
	char detail[128];       /**< free text for `show ports` (socket path, devargs) */
};

/** What the engine (or a test) gives a port when creating it. */
struct vs_port_env {
	struct rte_mempool *mp;   /**< mbufs for received packets */
	struct rte_rcu_qsbr *qsbr; /**< workers' quiescent-state variable */
	struct vs_evloop *loop;   /**< the control thread's event loop */
	int socket_id;            /**< NUMA socket for allocations */
	/** Called on the control thread when link or queue counts change. */
	void (*state_changed)(struct vs_port *port, void *arg);
	void *arg;
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
	 */
	uint16_t (*tx_burst)(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts,
			     uint16_t nb);
	/** Starts listening/connecting/polling. Returns 0 or a negative errno. */
	int (*start)(struct vs_port *port);
	/** Stops the port: link down, peer disconnected, sockets closed. */
	void (*stop)(struct vs_port *port);
	void (*info_get)(struct vs_port *port, struct vs_port_info *info);
	void (*stats_get)(struct vs_port *port, struct vs_port_stats *stats);
	void (*stats_reset)(struct vs_port *port);
	/** Frees the port; called after stop. */
	void (*destroy)(struct vs_port *port);
};

/** Every driver's port embeds this as its first member. */
struct vs_port {
	const struct vs_port_ops *ops;
	struct vs_port_env env;
	char name[VS_PORT_NAME_LEN];
	uint16_t id;  /**< assigned by the engine */
	void *owner;  /**< the engine's per-port data */
};

static inline uint16_t
vs_port_rx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	return port->ops->rx_burst(port, queue, pkts, nb);
}

static inline uint16_t
vs_port_tx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	return port->ops->tx_burst(port, queue, pkts, nb);
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
		int used; /**< set by whoever consumes the key */
	} kv[VS_PORT_MAX_KV];
};

/**
 * Parses @p text ("TYPE,key=value,...") into @p spec. Rejects empty parts,
 * duplicate keys, over-long keys or values and more than VS_PORT_MAX_KV
 * pairs. Returns 0, or -EINVAL with a one-line reason in @p err.
 */
int vs_port_spec_parse(const char *text, struct vs_port_spec *spec, char *err, size_t errlen);

/** Returns the value of @p key and marks it used, or NULL. */
const char *vs_port_spec_get(struct vs_port_spec *spec, const char *key);

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

void vs_port_type_register(struct vs_port_type *type);

#define VS_PORT_TYPE_REGISTER(t)                                                                   \
	__attribute__((constructor)) static void vs_port_type_register_##t(void)                   \
	{                                                                                          \
		vs_port_type_register(&(t));                                                       \
	}

/** Finds a registered type by name, or NULL. */
const struct vs_port_type *vs_port_type_find(const char *name);

/** Iterates the registered types: pass NULL to get the first. */
const struct vs_port_type *vs_port_type_next(const struct vs_port_type *prev);

/**
 * Creates a port of @p spec->type named @p name. Keys the caller consumed
 * beforehand (marked used) are left alone; any key left unused after the
 * driver's create is an error ("unknown key 'x' for port type 'y'").
 * Returns the port, or NULL with a one-line reason in @p err.
 */
struct vs_port *vs_port_create(const char *name, struct vs_port_spec *spec,
			       const struct vs_port_env *env, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* VS_PORT_H */
