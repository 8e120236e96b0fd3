/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_VHOST_USER_HANDOVER_H
#define VS_VHOST_USER_HANDOVER_H

/*
 * Port type "vhost-user", internal: the header of a port's hand-over blob
 * (vs_vhost_user_handover.c), here so that tests can write an older
 * version. Host byte order: a hand-over happens between two processes on
 * one host. An upgrade comes from the version before, so the load reads
 * every version from VU_HO_VERSION_MIN on and refuses the others by name.
 *
 *   2  the first one read: everything up to reserved3 below
 *   3  + enabled_once: the rings enabled once on this connection (a guest
 *        TX ring disabled after that is drained and discarded, one never
 *        enabled is left alone: vs_vhost_user_dev.c, vu_discards())
 *   4  + state_lock: the fd index of the state directory's lock (crash-safe
 *        mode), the last fd; the old process holds the lock until it exits
 *        (before, it let go at the save and the new one locked anew: for a
 *        moment a third process could take the directory)
 */

#include <stddef.h>
#include <stdint.h>

#include "vs_port.h"

#define VU_HO_MAGIC	  0x4f485556u /* "VUHO" */
#define VU_HO_VERSION	  4
#define VU_HO_VERSION_MIN 2

struct vu_ho_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t drops;
	uint64_t errors;
};

struct vu_ho_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t nb_qp;	      /* queue pairs of the SPEC */
	uint16_t mtu;	      /* NET_SET_MTU, 0 if never sent */
	uint8_t client;	      /* client=1 */
	uint8_t connected;    /* lib/vhost's state follows */
	int32_t listen;	      /* fd index of the listener, or -1 */
	uint32_t lib_fd_base; /* lib/vhost's fds start at this index */
	uint32_t lib_len;     /* bytes of lib/vhost's state after this header */
	uint32_t reserved;
	uint8_t rarp;	     /* a RARP of SEND_RARP waits for queue 0's next poll */
	uint8_t rarp_mac[6]; /* ... announcing this MAC */
	uint8_t reserved2;
	struct vu_ho_stats rx[VS_PORT_MAX_QUEUES]; /* counters as stats_get reports them */
	struct vu_ho_stats tx[VS_PORT_MAX_QUEUES];
	/* ---- version 3 ---- */
	uint64_t enabled_once; /* bit i: ring i was enabled once on this connection */
	/* ---- version 4 ---- */
	int32_t state_lock; /* fd index of the state directory's lock, or -1 */
	uint32_t reserved3;
};

/* Bytes of the header in versions 2 and 3. */
#define VU_HO_HDR_V2_LEN offsetof(struct vu_ho_hdr, enabled_once)
#define VU_HO_HDR_V3_LEN offsetof(struct vu_ho_hdr, state_lock)

#endif /* VS_VHOST_USER_HANDOVER_H */
