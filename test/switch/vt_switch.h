/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_SWITCH_H
#define VT_SWITCH_H

/*
 * Helpers for the engine's unit tests: an engine in manual mode over
 * ring-backed ethdev ports (net_ring made with rte_eth_from_rings, so the
 * test injects and collects frames), frame building, and "testq", a
 * test-only port type whose queue count and link the test changes and
 * which detects two threads in one queue at once.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "vs_switch.h"

struct vt_sw {
	struct vs_evloop *loop;
	struct vs_switch *sw;
	unsigned int nports;
	struct rte_ring *in[16];  /* frames the test injects on port i */
	struct rte_ring *out[16]; /* frames the switch sent on port i */
	uint16_t eth_id[16];
	int port_id[16];
};

/* Initialises EAL (or returns its failure reason in why) and a manual engine. */
int vt_sw_init(struct vt_sw *t, unsigned int nb_workers, uint32_t fdb_size, char *why, size_t len);

/*
 * Adds ring port i ("p<i>") with extra engine keys @p keys (NULL or e.g.
 * "vlan=10", "trunk=10:20") and a tx ring of @p tx_size slots (0: 1024).
 * Returns 0 or a negative errno.
 */
int vt_sw_add_ring_port(struct vt_sw *t, const char *keys, unsigned int tx_size);

/* Runs every worker until a full round moves nothing. Returns packets moved. */
unsigned int vt_sw_run(struct vt_sw *t);

/* Frees everything (ports, engine, rings, loop). */
void vt_sw_fini(struct vt_sw *t);

/*
 * In a test function: vt_sw_init() with a 1024-entry FDB; the test is skipped
 * (with the reason) when the EAL cannot start here, and fails when the
 * engine cannot be made on a working EAL.
 */
#define VT_SW_SETUP(t, workers)                                                                    \
	do {                                                                                       \
		char why_[256];                                                                    \
		int rc_ = vt_sw_init((t), (workers), 1024, why_, sizeof(why_));                    \
		if (rc_ != 0 && !vt_eal_ready())                                                   \
			TEST_SKIP("%s", why_);                                                     \
		TEST_ASSERT_SUCCESS(rc_, "engine: %s", why_);                                      \
	} while (0)

/* The engine's counters of ring port i. */
struct vs_switch_port_counters vt_sw_counters(struct vt_sw *t, unsigned int i);

/*
 * A live engine named @p name: real workers on the EAL's worker lcores, an
 * event loop in @p *loop, 8191 mbufs, 2 tx retries, FDB aging 300 s. NULL with the reason in
 * @p why and @p *skip set when the machine cannot run one (no EAL, fewer
 * than two worker lcores); NULL with @p *skip clear when creating it failed.
 */
struct vs_switch *vt_sw_live(const char *name, struct vs_evloop **loop, bool *skip, char *why,
			     size_t len);

/*
 * Builds a frame dst <- src with @p vid (0: untagged) and @p len bytes in all
 * (>= 60), the payload filled with @p seed.
 */
struct rte_mbuf *vt_frame(struct rte_mempool *mp, const uint8_t dst[6], const uint8_t src[6],
			  uint16_t vid, uint16_t len, uint8_t seed);

/* Injects @p count copies of vt_frame(...) on port @p i. Returns 0 or -1. */
int vt_sw_send(struct vt_sw *t, unsigned int i, const uint8_t dst[6], const uint8_t src[6],
	       uint16_t vid, unsigned int count);

/* Frames waiting on port i's tx ring. */
unsigned int vt_sw_pending(struct vt_sw *t, unsigned int i);

/*
 * Takes one frame from port i's tx ring into @p m (caller frees), or
 * returns -1 when there is none.
 */
int vt_sw_take(struct vt_sw *t, unsigned int i, struct rte_mbuf **m);

/* Frees every frame on every port's tx ring; returns how many. */
unsigned int vt_sw_drain(struct vt_sw *t);

/* ---- testq: a port type whose queues and link the test controls ---- */

struct vt_testq_stats {
	uint64_t generated[VS_PORT_MAX_QUEUES];	  /* frames its rx made */
	uint64_t received;			  /* frames its tx took */
	uint64_t received_on[VS_PORT_MAX_QUEUES]; /* by tx queue */
	uint64_t received_from[16];		  /* by the source port id in the frame */
	uint64_t violations;			  /* two threads in one queue at once */
	uint64_t not_ready;			  /* bursts on queues beyond the count */
};

/*
 * testq,queues=N[,gen=K]: N queue pairs (1..8, all usable at start); rx
 * makes K broadcast frames per call (source MAC 02:00:00:00:ID:01, ID the
 * engine's port id), tx takes and frees everything.
 */
void vt_testq_set_queues(struct vs_port *port, uint16_t nb);
void vt_testq_set_link(struct vs_port *port, bool up);
void vt_testq_stats(struct vs_port *port, struct vt_testq_stats *s);
/* The testq port created last with name @p name, or NULL. */
struct vs_port *vt_testq_find(const char *name);

#endif /* VT_SWITCH_H */
