/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user" in crash-safe mode (a state directory): a
 * worker's poll is a transaction that holds back the used index (split) or
 * first used flags (packed) of every ring it touched until the commit
 * (rx_done, or rx_frames_done with one copy).
 *
 * First, that it holds: between the bursts and the commit the sender gets
 * none of its transmit chains back and the receiver sees none of its
 * frames; after the commit both see all of them, in order. Split rings
 * (see below), mbuf path and one copy, over enough rounds that the rings
 * wrap.
 *
 * Then faults during the commit. A guest that cuts its memory
 * (ftruncate of its memfd, as a VMM may) after the bursts and before the
 * commit makes the commit's publication of its rings fault (SIGBUS): that
 * must cost its own connection only. The other guest's rings in the same
 * transaction are published (its chains come back to it), the process and
 * the other port go on. Once for a cut destination (A's frames went into
 * B's buffers, then B went), once for a cut source that is its own
 * destination (both of A's rings in the transaction). Split rings (a
 * packed ring holds only with an inflight region, which this guest does
 * not keep). The bursts run on a worker lcore, as the engine's.
 * And `show port` gives the same driver state as without a state directory.
 */
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include <rte_launch.h>
#include <rte_mempool.h>

#include "test.h"
#include "vhost_guard.h"
#include "vt_vu.h"

#define F(bit)	(1ULL << (bit))
#define WAIT_MS 5000
#define LCORE	1
#define READER	1
#define LEN	300
#define N	16

struct txn_scene {
	struct vt_vu_env e;
	struct vs_port *port[2];
	struct vt_guest g[2];
	bool guest[2];
	char path[2][256];
	char dir[256];
};

/* One engine poll on the worker lcore: rx(src), tx(dst), [a guest cuts], rx_done(src). */
struct poll_job {
	struct vt_vu_env *e;
	struct vs_port *src;
	struct vs_port *dst;
	struct vt_guest *cut; /* NULL: nobody cuts */
	int cut_rc;
	uint16_t rx;
	uint16_t tx;
};

static int
poll_main(void *arg)
{
	struct poll_job *j = arg;
	struct rte_mbuf *m[32];

	rte_rcu_qsbr_thread_register(j->e->qsbr, READER);
	rte_rcu_qsbr_thread_online(j->e->qsbr, READER);
	j->rx = vs_port_rx_burst(j->src, 0, m, 32);
	j->tx = j->rx > 0 ? vs_port_tx_burst(j->dst, 0, m, j->rx) : 0;
	for (uint16_t i = j->tx; i < j->rx; i++)
		rte_pktmbuf_free(m[i]);
	if (j->cut != NULL)
		j->cut_rc = vt_guest_truncate(j->cut, 0);
	if (j->rx > 0)
		vs_port_rx_done(j->src, 0);
	rte_rcu_qsbr_quiescent(j->e->qsbr, READER);
	rte_rcu_qsbr_thread_offline(j->e->qsbr, READER);
	rte_rcu_qsbr_thread_unregister(j->e->qsbr, READER);
	return 0;
}

static void
poll_once(struct poll_job *j)
{
	if (rte_eal_remote_launch(poll_main, j, LCORE) == 0)
		rte_eal_wait_lcore(LCORE);
}

static int
scene_up(struct txn_scene *s, const char *name, bool packed)
{
	const struct vt_guest_cfg gc = {.queues = 1,
					.ring_size = 128,
					.features = F(VIRTIO_F_VERSION_1) |
						    (packed ? F(VIRTIO_F_RING_PACKED) : 0),
					.buf_size = 2048};
	char spec[512], why[256], err[256], sock[32];

	memset(s, 0, sizeof(*s));
	if (vt_vu_env_init(&s->e, name, 2047, 0, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	TEST_ASSERT(rte_lcore_is_enabled(LCORE), "lcore %d for the worker", LCORE);
	vt_path(s->dir, sizeof(s->dir), "txn-state");
	TEST_ASSERT_SUCCESS(mkdir(s->dir, 0700), "mkdir %s", s->dir);
	s->e.state_dir = s->dir;
	for (int i = 0; i < 2; i++) {
		snprintf(sock, sizeof(sock), "txn%d.sock", i);
		snprintf(spec, sizeof(spec), "vhost-user,path=%s",
			 vt_path(s->path[i], sizeof(s->path[i]), sock));
		s->port[i] = vt_vu_port_start(&s->e, spec, err, sizeof(err));
		TEST_ASSERT_NOT_NULL(s->port[i], "%s: %s", spec, err);
		TEST_ASSERT_SUCCESS(vt_guest_init(&s->g[i], &gc), "guest %d memory", i);
		s->guest[i] = true;
		TEST_ASSERT_SUCCESS(vt_guest_connect(&s->g[i], s->path[i], WAIT_MS), "guest %d", i);
		TEST_ASSERT(vt_vu_wait_queues(&s->e, s->port[i], 1, 1, WAIT_MS), "port %d up", i);
		vt_guest_fill_rx(&s->g[i], 0);
	}
	return TEST_SUCCESS;
}

static void
scene_down(struct txn_scene *s)
{
	for (int i = 0; i < 2; i++) {
		if (s->guest[i])
			vt_guest_fini(&s->g[i]);
		vt_vu_port_destroy(&s->e, s->port[i]);
	}
	vt_vu_env_fini(&s->e);
}

static int
send_frames(struct vt_guest *g, uint32_t first, unsigned int n)
{
	static uint8_t frame[LEN];

	for (unsigned int i = 0; i < n; i++) {
		vt_frame_fill(frame, LEN, first + i);
		TEST_ASSERT_SUCCESS(vt_guest_send(g, 0, frame, LEN, NULL, VT_TX_ONE), "send");
	}
	return TEST_SUCCESS;
}

/* Guest @p i sends @p n frames to itself through its port: each comes back once, in order. */
static int
loops(struct txn_scene *s, int i, uint32_t first, unsigned int n)
{
	static uint8_t got[VT_FRAME_MAX];
	struct poll_job j = {.e = &s->e, .src = s->port[i], .dst = s->port[i]};
	uint64_t end = vt_now_ms() + WAIT_MS;
	unsigned int back = 0;

	vt_guest_fill_rx(&s->g[i], 0);
	TEST_RUN(send_frames(&s->g[i], first, n));
	while (back < n && vt_now_ms() < end) {
		struct virtio_net_hdr_mrg_rxbuf h;
		uint32_t len;

		poll_once(&j);
		while (vt_guest_recv(&s->g[i], 0, &h, got, sizeof(got), &len) == 1) {
			TEST_ASSERT(vt_frame_check(got, len) == first + back,
				    "guest %d: frame %u lost, twice or out of order", i, back);
			back++;
		}
		vt_guest_reap_tx(&s->g[i], 0);
		vt_guest_fill_rx(&s->g[i], 0);
	}
	TEST_ASSERT_EQUAL(back, n, "guest %d got %u of its %u frames back", i, back, n);
	return TEST_SUCCESS;
}

/*
 * One engine poll cut in two, each half launched on the worker lcore (the
 * transaction is the lcore's): rx (or rx_frames) from A and tx (or
 * tx_frames) to B, then rx_done (rx_frames_done). The reader stays online
 * in between, as within one iteration of a worker.
 */
struct half_job {
	struct vt_vu_env *e;
	struct vs_port *src;
	struct vs_port *dst;
	bool onecopy;
	int phase; /* 1: the bursts; 2: the commit */
	struct rte_mbuf *m[32];
	struct vs_port_frame f[32];
	void *ctx;
	uint16_t rx;
	uint16_t tx;
};

static void
half_bursts(struct half_job *j)
{
	const struct vs_port_frame *fp[32];

	if (!j->onecopy) {
		j->rx = vs_port_rx_burst(j->src, 0, j->m, 32);
		j->tx = j->rx > 0 ? vs_port_tx_burst(j->dst, 0, j->m, j->rx) : 0;
		for (uint16_t i = j->tx; i < j->rx; i++)
			rte_pktmbuf_free(j->m[i]);
		return;
	}
	j->rx = j->src->ops->onecopy->rx_frames(j->src, 0, j->f, 32, &j->ctx);
	for (uint16_t i = 0; i < j->rx; i++)
		fp[i] = &j->f[i];
	j->tx = j->rx > 0 ? j->dst->ops->onecopy->tx_frames(j->dst, 0, fp, j->rx) : 0;
}

static int
half_main(void *arg)
{
	struct half_job *j = arg;

	if (j->phase == 1) {
		rte_rcu_qsbr_thread_register(j->e->qsbr, READER);
		rte_rcu_qsbr_thread_online(j->e->qsbr, READER);
		half_bursts(j);
		return 0;
	}
	if (j->rx > 0 && j->onecopy)
		j->src->ops->onecopy->rx_frames_done(j->src, j->ctx);
	else if (j->rx > 0)
		vs_port_rx_done(j->src, 0);
	rte_rcu_qsbr_quiescent(j->e->qsbr, READER);
	rte_rcu_qsbr_thread_offline(j->e->qsbr, READER);
	rte_rcu_qsbr_thread_unregister(j->e->qsbr, READER);
	return 0;
}

static void
half_run(struct half_job *j, int phase)
{
	j->phase = phase;
	if (rte_eal_remote_launch(half_main, j, LCORE) == 0)
		rte_eal_wait_lcore(LCORE);
}

/* B's frames now: how many, and whether they are @p first, @p first + 1, ... */
static unsigned int
drain_b(struct txn_scene *s, uint32_t first, bool *in_order)
{
	static uint8_t got[VT_FRAME_MAX];
	struct virtio_net_hdr_mrg_rxbuf h;
	unsigned int k = 0;
	uint32_t len;

	*in_order = true;
	while (vt_guest_recv(&s->g[1], 0, &h, got, sizeof(got), &len) == 1) {
		*in_order &= vt_frame_check(got, len) == first + k;
		k++;
	}
	return k;
}

/* Crash-safe: nothing is handed back or delivered before the commit; all of it after. */
static int
holds_until_commit(struct txn_scene *s)
{
	unsigned int in_use = rte_mempool_in_use_count(s->e.mp);

	/* 20 rounds of 16 on rings of 128: both rings go round twice. */
	for (unsigned int round = 0; round < 20; round++) {
		struct half_job j = {.e = &s->e, .src = s->port[0], .dst = s->port[1]};
		const uint32_t first = round * N;
		const char *path = round % 2 == 1 ? "one copy" : "mbufs";
		unsigned int early_back, early_seen, back, seen;
		bool in_order;

		j.onecopy = round % 2 == 1;
		vt_guest_fill_rx(&s->g[1], 0);
		TEST_RUN(send_frames(&s->g[0], first, N));
		half_run(&j, 1);
		early_back = vt_guest_reap_tx(&s->g[0], 0);
		early_seen = drain_b(s, first, &in_order);
		/* The commit always runs: the worker's reader goes offline there. */
		half_run(&j, 2);
		TEST_ASSERT(j.rx == N && j.tx == N, "round %u (%s): %u taken, %u sent", round, path,
			    j.rx, j.tx);
		TEST_ASSERT_EQUAL(early_back, 0,
				  "round %u (%s): A got %u transmit chains back before the commit",
				  round, path, early_back);
		TEST_ASSERT_EQUAL(early_seen, 0, "round %u (%s): B saw %u frames before the commit",
				  round, path, early_seen);
		back = vt_guest_reap_tx(&s->g[0], 0);
		TEST_ASSERT_EQUAL(back, N, "round %u (%s): A got %u of its %u chains back", round,
				  path, back, N);
		seen = drain_b(s, first, &in_order);
		TEST_ASSERT(seen == N && in_order, "round %u (%s): B received %u of %u frames%s",
			    round, path, seen, N, in_order ? "" : ", not in order");
	}
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(s->e.mp), in_use, "every mbuf came back");
	return TEST_SUCCESS;
}

/* Guest @p i lost its connection to the fault, and only it. */
static int
cost_one_connection(struct txn_scene *s, int i, uint64_t recovered)
{
	TEST_ASSERT(vh_guard_recovered() > recovered, "the SIGBUS was recovered");
	TEST_ASSERT(vt_vu_wait_detail(&s->e, s->port[i], "broken: guest memory faults", WAIT_MS),
		    "port %d reported broken", i);
	TEST_ASSERT(vt_vu_wait_detail(&s->e, s->port[i], "listening", WAIT_MS),
		    "port %d's connection closed", i);
	return TEST_SUCCESS;
}

/* A's frames went into B's buffers, then B cut its memory: A's chains still come back. */
static int
cut_destination(struct txn_scene *s)
{
	struct poll_job j = {.e = &s->e, .src = s->port[0], .dst = s->port[1], .cut = &s->g[1]};
	uint64_t recovered = vh_guard_recovered();
	unsigned int in_use = rte_mempool_in_use_count(s->e.mp), reaped = 0;
	uint64_t end = vt_now_ms() + WAIT_MS;

	TEST_RUN(loops(s, 0, 0, N));
	TEST_RUN(send_frames(&s->g[0], 100, N));
	poll_once(&j);
	TEST_ASSERT_SUCCESS(j.cut_rc, "B cuts its memory");
	TEST_ASSERT(j.rx == N && j.tx == N, "A's %u frames went to B (%u rx, %u tx)", N, j.rx,
		    j.tx);
	TEST_RUN(cost_one_connection(s, 1, recovered));
	/* The commit published A's ring though B's faulted. */
	while (reaped < N && vt_now_ms() < end)
		reaped += vt_guest_reap_tx(&s->g[0], 0);
	TEST_ASSERT_EQUAL(reaped, N, "A's transmitted chains came back (%u of %u)", reaped, N);
	TEST_ASSERT(vt_vu_wait_queues(&s->e, s->port[0], 1, 1, WAIT_MS), "A is still up");
	TEST_RUN(loops(s, 0, 200, N));
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(s->e.mp), in_use, "every mbuf came back");
	return TEST_SUCCESS;
}

/* A sent to itself and cut its memory before the commit: A goes, B goes on. */
static int
cut_source(struct txn_scene *s)
{
	struct poll_job j = {.e = &s->e, .src = s->port[0], .dst = s->port[0], .cut = &s->g[0]};
	uint64_t recovered = vh_guard_recovered();
	unsigned int in_use = rte_mempool_in_use_count(s->e.mp);

	TEST_RUN(loops(s, 1, 0, N));
	TEST_RUN(send_frames(&s->g[0], 0, N));
	poll_once(&j);
	TEST_ASSERT_SUCCESS(j.cut_rc, "A cuts its memory");
	TEST_ASSERT(j.rx == N && j.tx == N, "A's frames went round (%u rx, %u tx)", j.rx, j.tx);
	TEST_RUN(cost_one_connection(s, 0, recovered));
	TEST_ASSERT(vt_vu_wait_queues(&s->e, s->port[1], 1, 1, WAIT_MS), "B is still up");
	TEST_RUN(loops(s, 1, 100, N));
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(s->e.mp), in_use, "every mbuf came back");
	return TEST_SUCCESS;
}

static int
on_scene(const char *name, bool packed, int (*body)(struct txn_scene *s))
{
	struct txn_scene s;
	int rc = scene_up(&s, name, packed);

	if (rc == TEST_SUCCESS)
		rc = body(&s);
	if (rc != TEST_SKIPPED)
		scene_down(&s);
	return rc;
}

static int
test_holds_split(void)
{
	return on_scene("txn-hold-split", false, holds_until_commit);
}
REGISTER_TEST(vhost_user_port_holds_returns_until_the_commit_split, fast, test_holds_split)

static int
test_commit_cut_destination(void)
{
	return on_scene("txn-cut-dst", false, cut_destination);
}
REGISTER_TEST(vhost_user_port_commit_survives_a_destination_cutting_its_memory, fast,
	      test_commit_cut_destination)

static int
test_commit_cut_source(void)
{
	return on_scene("txn-cut-src", false, cut_source);
}
REGISTER_TEST(vhost_user_port_commit_survives_a_source_cutting_its_memory, fast,
	      test_commit_cut_source)

/* show port NAME in crash-safe mode: the socket, the features, the rings. */
static int
shows_its_state(struct txn_scene *s)
{
	for (int i = 0; i < 2; i++) {
		json_t *d = vt_vu_describe(&s->e, s->port[i]);
		const json_t *names, *ring, *x;
		bool version_1 = false;
		size_t k;

		TEST_ASSERT_NOT_NULL(d, "port %d describes itself", i);
		TEST_ASSERT(vs_json_str(d, "socket") != NULL &&
				    strcmp(vs_json_str(d, "socket"), s->path[i]) == 0,
			    "port %d: its socket", i);
		TEST_ASSERT(json_is_true(json_object_get(d, "connected")), "port %d: connected", i);
		names = json_object_get(json_object_get(d, "features"), "names");
		json_array_foreach (names, k, x)
			version_1 |=
				json_is_string(x) && strcmp(json_string_value(x), "VERSION_1") == 0;
		TEST_ASSERT(version_1, "port %d: VERSION_1 in the features negotiated", i);
		TEST_ASSERT_EQUAL(json_array_size(json_object_get(d, "rings")), 2,
				  "port %d: its two rings", i);
		json_array_foreach (json_object_get(d, "rings"), k, ring) {
			const char *layout = vs_json_str(ring, "layout");

			TEST_ASSERT(json_is_true(json_object_get(ring, "started")) &&
					    layout != NULL && strcmp(layout, "split") == 0,
				    "port %d: ring %zu started, split", i, k);
		}
		json_decref(d);
	}
	return TEST_SUCCESS;
}

static int
test_crash_safe_shows_its_state(void)
{
	return on_scene("txn-show", false, shows_its_state);
}
REGISTER_TEST(vhost_user_port_in_crash_safe_mode_shows_features_and_rings, fast,
	      test_crash_safe_shows_its_state)
