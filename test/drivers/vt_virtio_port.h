/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_VIRTIO_PORT_H
#define VT_VIRTIO_PORT_H

/*
 * Helpers for the virtio port's tests: the EAL and pool they share, a port
 * with its event loop, numbered frames whose every byte is checked, and a
 * paced loop that sends frames and expects them back (from a peer that
 * loops them: testpmd io forwarding, vdpa_sim_net, a tap bridge).
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "vs_evloop.h"
#include "vs_port.h"

/* EAL with --no-huge memory behind a shareable memfd (--single-file-segments). */
int vt_vport_eal(char *why, size_t len);

/* The shared mbuf pool (8191 mbufs of the default size). */
struct rte_mempool *vt_vport_pool(void);

/* A port under test, with its loop and what the engine would have been told. */
struct vt_vport {
	struct vs_evloop *loop;
	struct vs_port *port;
	int changes; /* state_changed calls */
	bool started;
};

/* Creates (not starts) a port from @p spec; err holds the reason on failure. */
int vt_vport_create(struct vt_vport *v, const char *spec, char *err, size_t len);

/* Starts it; 0 or the driver's error. */
int vt_vport_start(struct vt_vport *v);

/* Runs the loop until @p rxq queues are usable and the link is up (or down when 0). */
bool vt_vport_wait_queues(struct vt_vport *v, unsigned int rxq, unsigned int ms);

/* Stops and destroys the port, destroys the loop. */
void vt_vport_destroy(struct vt_vport *v);

/* Builds frame @p seq of @p len bytes for queue @p q (chained mbufs past one's room). */
struct rte_mbuf *vt_vport_frame(struct rte_mempool *mp, uint32_t len, uint32_t seq, uint16_t q,
				const uint8_t dst[6]);

/*
 * Checks a received frame: length, addresses, ethertype and every payload
 * byte against the pattern of its sequence number. Returns its sequence
 * number, or -1 (and prints why).
 */
int64_t vt_vport_frame_check(const struct rte_mbuf *m, uint32_t len, uint16_t q,
			     const uint8_t dst[6]);

/* Results of vt_vport_loop(). */
struct vt_loop_result {
	uint64_t sent[8];
	uint64_t received[8];
	uint64_t bytes_sent[8];
	uint64_t bad;
	uint64_t other; /* frames of another ethertype, ignored */
	double mpps;
};

/*
 * Sends @p count frames of @p len bytes on each of @p nq queues and expects
 * each back on the same queue, every byte checked, at most @p window frames
 * in flight per queue (so that a peer with a full receive ring never has to
 * drop). Runs @p v's loop now and then. Returns TEST_SUCCESS or TEST_FAILED.
 */
int vt_vport_loop(struct vt_vport *v, unsigned int nq, uint32_t len, uint32_t count,
		  unsigned int window, const uint8_t dst[6], unsigned int timeout_ms,
		  struct vt_loop_result *res);

#endif /* VT_VIRTIO_PORT_H */
