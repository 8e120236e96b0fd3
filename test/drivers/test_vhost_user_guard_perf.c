/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What SIGBUS containment costs the vhost-user port per burst: two ports in
 * one run, one whose guest memory is a memfd sealed against shrinking (as
 * QEMU's memory-backend-memfd: the bursts run unguarded) and one whose
 * memfd is not (as DPDK's virtio-user: every burst arms a vh_guard, one
 * sigsetjmp). The same guest traffic through both, interleaved round by
 * round: an empty poll (rx_burst, and one copy's rx_frames), a 32-packet
 * rx burst and a 32-packet tx burst of 64-byte frames; split rings, packed
 * with VT_PERF_FORMAT=packed. Cycles per call (medians of windows) and the ratio
 * guarded / sealed are printed, never asserted (a shared CPU makes them
 * indicative). Under callgrind the out-of-line wrappers
 * {sealed,guarded}_{empty,frames,rx,tx} give the instructions per call:
 *
 *   VT_PERF_VALGRIND=1 valgrind --tool=callgrind --callgrind-out-file=cg.out \
 *       build/app/test/vswitch-test vhost_user_port_guard_cost
 *   callgrind_annotate --inclusive=yes cg.out | grep -E '(sealed|guarded)_(empty|frames|rx|tx)'
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include <rte_cycles.h>

#include "test.h"
#include "vt_vu.h"

#define WINDOWS 7
#define ROUNDS	200
#define BURST	32
#define LEN	64
#define READER	0
#define NCALL	4

struct side {
	int idx; /* 0 sealed, 1 guarded */
	const char *name;
	struct vs_port *port;
	struct vt_guest g;
	char path[256];
	uint64_t cyc[NCALL]; /* empty poll, empty rx_frames, rx, tx: this window */
	uint64_t n[NCALL];
	double med[NCALL][WINDOWS];
};

static struct vt_vu_env env;

/* Out of line, one set per side, so that callgrind counts each apart. */
#define WRAPPERS(side)                                                                             \
	static uint16_t __attribute__((noinline))                                                  \
	side##_empty(struct vs_port *port, struct rte_mbuf **m)                                    \
	{                                                                                          \
		return vs_port_rx_burst(port, 0, m, BURST);                                        \
	}                                                                                          \
	static uint16_t __attribute__((noinline))                                                  \
	side##_frames(struct vs_port *port, struct rte_mbuf **m)                                   \
	{                                                                                          \
		struct vs_port_frame f[BURST];                                                     \
		void *ctx = NULL;                                                                  \
                                                                                                   \
		(void)m;                                                                           \
		return port->ops->onecopy->rx_frames(port, 0, f, BURST, &ctx);                     \
	}                                                                                          \
	static uint16_t __attribute__((noinline))                                                  \
	side##_rx(struct vs_port *port, struct rte_mbuf **m)                                       \
	{                                                                                          \
		return vs_port_rx_burst(port, 0, m, BURST);                                        \
	}                                                                                          \
	static uint16_t __attribute__((noinline))                                                  \
	side##_tx(struct vs_port *port, struct rte_mbuf **m)                                       \
	{                                                                                          \
		return vs_port_tx_burst(port, 0, m, BURST);                                        \
	}
WRAPPERS(sealed)
WRAPPERS(guarded)

static uint16_t (*const call[2][NCALL])(struct vs_port *, struct rte_mbuf **) = {
	{sealed_empty, sealed_frames, sealed_rx, sealed_tx},
	{guarded_empty, guarded_frames, guarded_rx, guarded_tx},
};

static int
side_up(struct side *s, const char *name, bool sealed, const char *sock)
{
	const char *fmt = getenv("VT_PERF_FORMAT");
	const bool packed = fmt != NULL && strcmp(fmt, "packed") == 0;
	const struct vt_guest_cfg gc = {.queues = 1,
					.ring_size = 256,
					.features = (1ULL << VIRTIO_F_VERSION_1) |
						    (packed ? 1ULL << VIRTIO_F_RING_PACKED : 0),
					.buf_size = 2048,
					.sealed = sealed};
	char spec[512], err[256];

	s->name = name;
	s->idx = sealed ? 0 : 1;
	snprintf(spec, sizeof(spec), "vhost-user,path=%s", vt_path(s->path, sizeof(s->path), sock));
	s->port = vt_vu_port_start(&env, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(s->port, "%s: %s", spec, err);
	TEST_ASSERT_NOT_NULL(s->port->ops->onecopy, "one copy");
	TEST_ASSERT_SUCCESS(vt_guest_init(&s->g, &gc), "guest");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&s->g, s->path, 5000), "connect");
	TEST_ASSERT(vt_vu_wait_queues(&env, s->port, 1, 1, 5000), "up");
	return TEST_SUCCESS;
}

/* One round on @p s: timed empty poll, guest sends 32, timed rx, timed tx back, guest drains. */
static int
round_on(struct side *s, const uint8_t *frame)
{
	struct rte_mbuf *m[BURST];
	uint64_t t0, t1;
	uint16_t n;

	rte_rcu_qsbr_thread_online(env.qsbr, READER);
	t0 = rte_rdtsc_precise();
	n = call[s->idx][0](s->port, m);
	t1 = rte_rdtsc_precise();
	TEST_ASSERT_EQUAL(n, 0, "empty");
	s->cyc[0] += t1 - t0;
	s->n[0]++;
	t0 = rte_rdtsc_precise();
	n = call[s->idx][1](s->port, m);
	t1 = rte_rdtsc_precise();
	TEST_ASSERT_EQUAL(n, 0, "empty rx_frames");
	s->cyc[1] += t1 - t0;
	s->n[1]++;
	vt_guest_fill_rx(&s->g, 0);
	for (int i = 0; i < BURST; i++)
		TEST_ASSERT_SUCCESS(vt_guest_send(&s->g, 0, frame, LEN, NULL, VT_TX_ONE), "send");
	t0 = rte_rdtsc_precise();
	n = call[s->idx][2](s->port, m);
	t1 = rte_rdtsc_precise();
	TEST_ASSERT_EQUAL(n, BURST, "%s: rx burst", s->name);
	s->cyc[2] += t1 - t0;
	s->n[2]++;
	t0 = rte_rdtsc_precise();
	n = call[s->idx][3](s->port, m);
	t1 = rte_rdtsc_precise();
	TEST_ASSERT_EQUAL(n, BURST, "%s: tx burst", s->name);
	s->cyc[3] += t1 - t0;
	s->n[3]++;
	rte_rcu_qsbr_quiescent(env.qsbr, READER);
	rte_rcu_qsbr_thread_offline(env.qsbr, READER);
	for (int got = 0; got < BURST;) {
		struct virtio_net_hdr_mrg_rxbuf h;
		static uint8_t buf[VT_FRAME_MAX];
		uint32_t len;

		if (vt_guest_recv(&s->g, 0, &h, buf, sizeof(buf), &len) == 1)
			got++;
	}
	vt_guest_reap_tx(&s->g, 0);
	return TEST_SUCCESS;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
test_guard_cost(void)
{
	static const char *what[NCALL] = {"empty poll", "empty frames", "rx 32 x 64 B",
					  "tx 32 x 64 B"};
	static struct side sides[2];
	static uint8_t frame[LEN];
	char why[256];

	if (vt_vu_env_init(&env, "guard-perf", 8191, 0, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	TEST_RUN(side_up(&sides[0], "sealed", true, "gp-sealed.sock"));
	TEST_RUN(side_up(&sides[1], "guarded", false, "gp-guarded.sock"));
	vt_vu_reader_register(&env, READER);
	vt_frame_fill(frame, LEN, 1);
	for (int r = 0; r < 20; r++) /* warm-up */
		for (int s = 0; s < 2; s++)
			TEST_RUN(round_on(&sides[s], frame));
	for (int w = 0; w < WINDOWS; w++) {
		for (int s = 0; s < 2; s++)
			memset(sides[s].cyc, 0, sizeof(sides[s].cyc)),
				memset(sides[s].n, 0, sizeof(sides[s].n));
		for (int r = 0; r < ROUNDS; r++)
			for (int s = 0; s < 2; s++)
				TEST_RUN(round_on(&sides[(r + s) & 1], frame));
		for (int s = 0; s < 2; s++)
			for (int k = 0; k < NCALL; k++)
				sides[s].med[k][w] =
					(double)sides[s].cyc[k] / (double)sides[s].n[k];
	}
	printf("vhost-user port, %s rings, cycles per call (median of %d windows of %d rounds; "
	       "shared CPU: indicative):\n",
	       getenv("VT_PERF_FORMAT") != NULL ? getenv("VT_PERF_FORMAT") : "split", WINDOWS,
	       ROUNDS);
	for (int k = 0; k < NCALL; k++) {
		double m[2];

		for (int s = 0; s < 2; s++) {
			qsort(sides[s].med[k], WINDOWS, sizeof(double), cmp_double);
			m[s] = sides[s].med[k][WINDOWS / 2];
		}
		printf("  %-14s sealed %8.1f  guarded %8.1f  ratio %.3f\n", what[k], m[0], m[1],
		       m[1] / m[0]);
	}
	vt_vu_reader_unregister(&env, READER);
	for (int s = 0; s < 2; s++) {
		vt_guest_fini(&sides[s].g);
		vt_vu_port_destroy(&env, sides[s].port);
	}
	vt_vu_env_fini(&env);
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_guard_cost, perf, test_guard_cost)
