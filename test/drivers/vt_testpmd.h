/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_TESTPMD_H
#define VT_TESTPMD_H

/*
 * dpdk-testpmd as the guest side of vhost-user port tests: one process with
 * several net_virtio_user ports (a real virtio-net front-end), driven
 * through its interactive prompt on a pipe.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "test_proc.h"

/* One net_virtio_user port. */
struct vt_vdev {
	const char *path;
	unsigned int queues;
	bool packed;
	bool mrg_rxbuf;
	bool in_order;
	bool server;	 /* testpmd listens, our port connects */
	const char *mac; /* the port's MAC address, or NULL: testpmd's choice */
};

struct vt_testpmd {
	struct vt_proc p;
	char prefix[96];
	bool started;
};

/* True when dpdk-testpmd and enough hugepages are there; else the reason. */
bool vt_testpmd_usable(char *why, size_t len);

/*
 * Starts testpmd (interactive, stats on demand) with @p n ports from @p v,
 * --rxq/--txq of the first port's queue count, its main and forwarding
 * lcores on CPU @p cpu, plus @p extra arguments for testpmd itself (after
 * "--", NULL-terminated, may be NULL). Returns 0 or a negative errno.
 */
int vt_testpmd_start(struct vt_testpmd *t, const char *tag, const struct vt_vdev *v, unsigned int n,
		     const char *const *extra, int cpu);

/* Waits for testpmd's first prompt. */
int vt_testpmd_wait_ready(struct vt_testpmd *t, unsigned int ms);

/* Runs one command and waits for the next prompt. Returns 0 or -ETIMEDOUT. */
int vt_testpmd_cmd(struct vt_testpmd *t, const char *cmd, unsigned int ms);

/* "show port stats": RX-packets/bytes and TX-packets/bytes of @p port. */
int vt_testpmd_port_stats(struct vt_testpmd *t, unsigned int port, uint64_t *rx, uint64_t *rx_bytes,
			  uint64_t *tx, uint64_t *tx_bytes);

/* Quits testpmd (always: quit, then signals) and removes its runtime files. */
int vt_testpmd_stop(struct vt_testpmd *t);

/* Prints testpmd's output (for a failure). */
void vt_testpmd_dump(struct vt_testpmd *t);

#endif /* VT_TESTPMD_H */
