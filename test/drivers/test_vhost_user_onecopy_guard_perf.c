/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What SIGBUS containment costs one copy between guests
 * (vs_port_onecopy_ops, as lib/switch/vs_onecopy.c drives it): a guest
 * sends 32 frames of 64 bytes, rx_frames describes them on its port,
 * tx_frames copies them straight into guest B's receive buffers,
 * rx_frames_done returns the transmit buffers. Three phases of the same
 * traffic in one run:
 *
 *   plain   A -> B, both memfds sealed (as QEMU's), no other guest: nothing
 *           runs armed;
 *   peer    A -> B again, with a guest C connected whose memfd is not
 *           sealed (as DPDK's virtio-user): tx_frames runs armed, since a
 *           sender could be a guest whose memory faults;
 *   source  C -> B: C's own calls (rx_frames, rx_frames_done) armed too.
 *
 * Under callgrind the out-of-line wrappers oc_{plain,peer,source} give the
 * instructions per 32-frame round:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out \
 *       build/app/test/vswitch-test vhost_user_port_onecopy_guard_cost
 *   callgrind_annotate --inclusive=yes cg.out | grep -E 'oc_(plain|peer|source)'
 *
 * Cycles per round (medians of windows) are printed, never asserted: the
 * phases follow each other (the peer's connection is what changes), so on
 * a shared CPU they are indicative only.
 */
#include <stdlib.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include <rte_cycles.h>

#include "test.h"
#include "vt_vu.h"

#define WINDOWS 5
#define ROUNDS	200
#define BURST	32
#define LEN	64
#define READER	0

enum { A, B, C, NG };

struct oc_guest {
	struct vs_port *port;
	struct vt_guest g;
	bool up;
	char path[256];
};

static struct vt_vu_env env;
static struct oc_guest gs[NG];

static __rte_always_inline uint16_t
oc_round(struct vs_port *src, struct vs_port *dst)
{
	const struct vs_port_onecopy_ops *oc = src->ops->onecopy;
	struct vs_port_frame f[BURST];
	const struct vs_port_frame *fp[BURST];
	void *ctx = NULL;
	uint16_t n, sent = 0;

	n = oc->rx_frames(src, 0, f, BURST, &ctx);
	for (uint16_t i = 0; i < n; i++)
		fp[i] = &f[i];
	if (n > 0) {
		sent = oc->tx_frames(dst, 0, fp, n);
		oc->rx_frames_done(src, ctx);
	}
	return sent;
}

/* Out of line, one per phase, so that callgrind counts each apart. */
static uint16_t __attribute__((noinline)) oc_plain(struct vs_port *src, struct vs_port *dst)
{
	return oc_round(src, dst);
}

static uint16_t __attribute__((noinline)) oc_peer(struct vs_port *src, struct vs_port *dst)
{
	return oc_round(src, dst);
}

static uint16_t __attribute__((noinline)) oc_source(struct vs_port *src, struct vs_port *dst)
{
	return oc_round(src, dst);
}

static int
guest_up(struct oc_guest *o, bool sealed, const char *sock)
{
	const struct vt_guest_cfg gc = {.queues = 1,
					.ring_size = 256,
					.features = 1ULL << VIRTIO_F_VERSION_1,
					.buf_size = 2048,
					.sealed = sealed};
	char spec[512], err[256];

	snprintf(spec, sizeof(spec), "vhost-user,path=%s", vt_path(o->path, sizeof(o->path), sock));
	o->port = vt_vu_port_start(&env, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(o->port, "%s: %s", spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&o->g, &gc), "guest");
	o->up = true;
	TEST_ASSERT_SUCCESS(vt_guest_connect(&o->g, o->path, 5000), "connect");
	TEST_ASSERT(vt_vu_wait_queues(&env, o->port, 1, 1, 5000), "up");
	TEST_ASSERT_NOT_NULL(o->port->ops->onecopy, "one copy");
	return TEST_SUCCESS;
}

/* One timed round: @p s sends 32, they go to @p d in one copy, @p d drains. */
static int
round_on(uint16_t (*fn)(struct vs_port *, struct vs_port *), struct oc_guest *s, struct oc_guest *d,
	 const uint8_t *frame, uint64_t *cyc)
{
	uint64_t t0, t1;
	uint16_t n;

	vt_guest_fill_rx(&d->g, 0);
	for (int i = 0; i < BURST; i++)
		TEST_ASSERT_SUCCESS(vt_guest_send(&s->g, 0, frame, LEN, NULL, VT_TX_ONE), "send");
	rte_rcu_qsbr_thread_online(env.qsbr, READER);
	t0 = rte_rdtsc_precise();
	n = fn(s->port, d->port);
	t1 = rte_rdtsc_precise();
	rte_rcu_qsbr_quiescent(env.qsbr, READER);
	rte_rcu_qsbr_thread_offline(env.qsbr, READER);
	TEST_ASSERT_EQUAL(n, BURST, "one copy of the burst");
	*cyc += t1 - t0;
	for (int got = 0; got < BURST;) {
		struct virtio_net_hdr_mrg_rxbuf h;
		static uint8_t buf[VT_FRAME_MAX];
		uint32_t len;

		if (vt_guest_recv(&d->g, 0, &h, buf, sizeof(buf), &len) == 1) {
			TEST_ASSERT(len == LEN && memcmp(buf, frame, LEN) == 0, "frame whole");
			got++;
		}
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

/* Windows of rounds of one phase; the median cycles per round. */
static int
phase(const char *name, uint16_t (*fn)(struct vs_port *, struct vs_port *), struct oc_guest *s,
      const uint8_t *frame, double *med)
{
	double w[WINDOWS];

	for (int r = 0; r < 20; r++) { /* warm-up */
		uint64_t c = 0;

		TEST_RUN(round_on(fn, s, &gs[B], frame, &c));
	}
	for (int k = 0; k < WINDOWS; k++) {
		uint64_t c = 0;

		for (int r = 0; r < ROUNDS; r++)
			TEST_RUN(round_on(fn, s, &gs[B], frame, &c));
		w[k] = (double)c / ROUNDS;
	}
	qsort(w, WINDOWS, sizeof(double), cmp_double);
	*med = w[WINDOWS / 2];
	printf("  %-7s %8.1f cycles per 32-frame round (%.1f per frame)\n", name, *med,
	       *med / BURST);
	return TEST_SUCCESS;
}

static int
onecopy_cost(void)
{
	static uint8_t frame[LEN];
	double plain, peer, source;

	TEST_RUN(guest_up(&gs[A], true, "ocp-a.sock"));
	TEST_RUN(guest_up(&gs[B], true, "ocp-b.sock"));
	vt_frame_fill(frame, LEN, 1);
	printf("one copy between guests, cycles (median of %d windows of %d rounds; shared CPU: "
	       "indicative):\n",
	       WINDOWS, ROUNDS);
	TEST_RUN(phase("plain", oc_plain, &gs[A], frame, &plain));
	TEST_RUN(guest_up(&gs[C], false, "ocp-c.sock"));
	TEST_RUN(phase("peer", oc_peer, &gs[A], frame, &peer));
	TEST_RUN(phase("source", oc_source, &gs[C], frame, &source));
	printf("  ratio peer/plain %.3f, source/plain %.3f\n", peer / plain, source / plain);
	return TEST_SUCCESS;
}

static int
test_onecopy_guard_cost(void)
{
	char why[256];
	int rc;

	if (vt_vu_env_init(&env, "oc-guard-perf", 8191, 0, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	vt_vu_reader_register(&env, READER);
	rc = onecopy_cost();
	vt_vu_reader_unregister(&env, READER);
	for (int i = 0; i < NG; i++) {
		if (gs[i].up)
			vt_guest_fini(&gs[i].g);
		if (gs[i].port != NULL)
			vt_vu_port_destroy(&env, gs[i].port);
	}
	memset(gs, 0, sizeof(gs));
	vt_vu_env_fini(&env);
	return rc;
}
REGISTER_TEST(vhost_user_port_onecopy_guard_cost, perf, test_onecopy_guard_cost)
