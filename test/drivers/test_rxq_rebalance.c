/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two workers (real EAL lcores; with 2 CPUs the main lcore shares one, see
 * vt_eal_init) and rx queues moving between them while traffic flows.
 *
 * Guest a sends sequence-numbered frames on its two queues (one flow each)
 * to guest b, never more than b's ring can hold ahead of what b took, so the
 * switch has no reason to drop any. Meanwhile the test moves a's queues
 * between the workers by hand (rxq-move) and places them by cycles
 * (rebalance), many times. b must see every frame of each flow exactly once
 * and in order, and the switch must count no drop. Then, with both of a's
 * queues moved onto one worker and b's idle queue on the other, a placement
 * by measured cycles must put a's two busy queues on different workers, and
 * so must the automatic mode on its own.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_lcore.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vs_switch.h"
#include "vt_vu.h"

#define F(bit)	  (1ULL << (bit))
#define WAIT_MS	  5000
#define RING	  256
#define PER_FLOW  8000
#define WINDOW	  96 /* frames a may be ahead of b, per flow: b's ring holds both */
#define MOVES	  40
#define FRAME_LEN 128
#define FEATURES                                                                                   \
	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_EVENT_IDX) |          \
	 F(VIRTIO_NET_F_MQ))

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};

struct rb_test {
	struct vs_evloop *loop;
	struct vs_switch *sw;
	int port[2];
	struct vt_guest g[2];
	char sock[2][256];
	/* traffic */
	pthread_t snd, rcv;
	bool running;
	uint64_t limit; /* frames per flow */
	volatile bool stop;
	volatile uint64_t sent[2], got[2];
	volatile uint64_t bad_seq, bad_frame;
	uint64_t first_bad;
};

struct connect_job {
	struct rb_test *t;
	int rc[2];
	volatile bool done;
};

static void *
connect_main(void *arg)
{
	struct connect_job *j = arg;

	for (int i = 0; i < 2; i++)
		j->rc[i] = vt_guest_connect(&j->t->g[i], j->t->sock[i], WAIT_MS);
	j->done = true;
	return NULL;
}

static void
serve(struct rb_test *t, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while (vt_now_ms() < end)
		vs_evloop_run_once(t->loop, 5);
}

static bool
ready(struct rb_test *t, int i, uint16_t rxq)
{
	struct vs_switch_port_view v;

	return vs_switch_port_view(t->sw, (uint16_t)t->port[i], &v) == 0 &&
	       v.info.link == VS_PORT_LINK_UP && v.info.nb_rxq == rxq && v.rxq_worker[rxq - 1] >= 0;
}

static int
rb_setup(struct rb_test *t)
{
	struct vt_guest_cfg cfg = {.ring_size = RING, .buf_size = 2048, .features = FEATURES};
	struct vs_switch_config sc = {0};
	struct connect_job job = {.t = t};
	char why[256], spec[400];
	pthread_t th;
	uint64_t end;

	memset(t, 0, sizeof(*t));
	if (vt_eal_init("rebalance", why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	if (rte_lcore_count() < 3)
		TEST_SKIP("needs 2 worker lcores (EAL has %u lcores)", rte_lcore_count());
	t->loop = vs_evloop_create();
	TEST_ASSERT_NOT_NULL(t->loop, "event loop");
	sc.loop = t->loop;
	sc.name = "rb";
	sc.fdb_size = 1024;
	sc.nb_mbufs = 4095;
	sc.tx_retries = 4;
	t->sw = vs_switch_create(&sc, why, sizeof(why));
	TEST_ASSERT_NOT_NULL(t->sw, "engine: %s", why);
	TEST_ASSERT_EQUAL(vs_switch_nb_workers(t->sw), 2u, "two workers");
	for (int i = 0; i < 2; i++) {
		char name[16];

		snprintf(name, sizeof(name), "rb%c.sock", 'a' + i);
		vt_path(t->sock[i], sizeof(t->sock[i]), name);
		unlink(t->sock[i]);
		snprintf(spec, sizeof(spec), "vhost-user,path=%s,name=%c,queues=%d", t->sock[i],
			 'a' + i, i == 0 ? 2 : 1);
		t->port[i] = vs_switch_add_port(t->sw, spec, why, sizeof(why));
		TEST_ASSERT(t->port[i] >= 0, "port %d: %s", i, why);
		cfg.queues = i == 0 ? 2 : 1;
		TEST_ASSERT_SUCCESS(vt_guest_init(&t->g[i], &cfg), "guest %d", i);
	}
	TEST_ASSERT_SUCCESS(pthread_create(&th, NULL, connect_main, &job), "thread");
	while (!job.done)
		vs_evloop_run_once(t->loop, 5);
	pthread_join(th, NULL);
	TEST_ASSERT(job.rc[0] == 0 && job.rc[1] == 0, "guests connect (%d, %d)", job.rc[0],
		    job.rc[1]);
	end = vt_now_ms() + WAIT_MS;
	while (vt_now_ms() < end && !(ready(t, 0, 2) && ready(t, 1, 1)))
		serve(t, 10);
	TEST_ASSERT(ready(t, 0, 2) && ready(t, 1, 1), "ports up, every rx queue polled");
	TEST_ASSERT_SUCCESS(vs_switch_start(t->sw), "workers start");
	for (int i = 0; i < 2; i++)
		for (unsigned int q = 0; q < t->g[i].cfg.queues; q++)
			vt_guest_fill_rx(&t->g[i], q);
	return TEST_SUCCESS;
}

/* b teaches the switch its address (a drains what it gets). */
static int
learn_b(struct rb_test *t)
{
	static uint8_t f[VT_FRAME_MAX];
	struct virtio_net_hdr_mrg_rxbuf h;
	uint64_t end = vt_now_ms() + WAIT_MS;
	uint32_t len;
	int got = 0;

	vt_frame_fill(f, FRAME_LEN, 0);
	memcpy(f, mac_a, 6);
	memcpy(f + 6, mac_b, 6);
	TEST_ASSERT_SUCCESS(vt_guest_send(&t->g[1], 0, f, FRAME_LEN, NULL, VT_TX_ONE), "b sends");
	while (got == 0 && vt_now_ms() < end) {
		for (unsigned int q = 0; q < 2 && got == 0; q++)
			got = vt_guest_recv(&t->g[0], q, &h, f, sizeof(f), &len);
		serve(t, 1);
	}
	TEST_ASSERT_EQUAL(got, 1, "a got b's frame");
	vt_guest_reap_tx(&t->g[1], 0);
	return TEST_SUCCESS;
}

/* Guest a: flow q on its queue q, WINDOW frames ahead of b at most. */
static void *
sender_main(void *arg)
{
	static uint8_t f[FRAME_LEN];
	struct rb_test *t = arg;

	while (!t->stop && (t->sent[0] < t->limit || t->sent[1] < t->limit)) {
		bool any = false;

		for (unsigned int q = 0; q < 2; q++) {
			vt_guest_reap_tx(&t->g[0], q);
			if (t->sent[q] >= t->limit || t->sent[q] - t->got[q] >= WINDOW)
				continue;
			vt_frame_fill(f, FRAME_LEN, (uint32_t)(q << 24 | t->sent[q]));
			memcpy(f, mac_b, 6);
			memcpy(f + 6, mac_a, 6);
			if (vt_guest_send(&t->g[0], q, f, FRAME_LEN, NULL, VT_TX_ONE) == 0) {
				t->sent[q]++;
				any = true;
			}
		}
		if (!any)
			sched_yield();
	}
	return NULL;
}

/* Guest b: every frame of each flow, once, in order. */
static void *
receiver_main(void *arg)
{
	static uint8_t f[VT_FRAME_MAX];
	struct rb_test *t = arg;
	struct virtio_net_hdr_mrg_rxbuf h;
	unsigned int n = 0;

	while (!t->stop && (t->got[0] < t->limit || t->got[1] < t->limit)) {
		uint32_t len;
		int rc = vt_guest_recv(&t->g[1], 0, &h, f, sizeof(f), &len);
		int64_t seq;
		unsigned int flow;

		if (rc == 0 || ++n % 16 == 0)
			vt_guest_fill_rx(&t->g[1], 0);
		if (rc == 0) {
			sched_yield();
			continue;
		}
		seq = rc == 1 ? vt_frame_check(f, len) : -1;
		if (seq < 0) {
			t->bad_frame++;
			continue;
		}
		flow = (uint32_t)seq >> 24;
		if (flow > 1 || ((uint32_t)seq & 0xffffff) != t->got[flow]) {
			if (t->bad_seq++ == 0)
				t->first_bad = (uint64_t)seq;
			continue;
		}
		t->got[flow]++;
	}
	return NULL;
}

static int16_t
worker_of(struct rb_test *t, int port, uint16_t q)
{
	struct vs_switch_rxq_view v;

	return vs_switch_rxq_view(t->sw, (uint16_t)t->port[port], q, &v) == 0 ? v.worker : -2;
}

/* Moves a's queues around while the flows run; returns the moves made. */
static int
move_around(struct rb_test *t, unsigned int *moves, unsigned int *placements)
{
	uint64_t end = vt_now_ms() + 60000;

	for (unsigned int i = 0; i < MOVES && vt_now_ms() < end; i++) {
		uint16_t q = (uint16_t)(i % 2);
		unsigned int to = (unsigned int)(worker_of(t, 0, q) == 0);

		if (i % 8 == 7) {
			TEST_ASSERT_SUCCESS(vs_switch_rebalance(t->sw, NULL), "rebalance %u", i);
			(*placements)++;
		} else {
			TEST_ASSERT_SUCCESS(vs_switch_rxq_move(t->sw, (uint16_t)t->port[0], q, to),
					    "move %u", i);
			TEST_ASSERT_EQUAL(worker_of(t, 0, q), (int16_t)to, "a:%u on worker %u", q,
					  to);
			(*moves)++;
		}
		/* Let some traffic through on the new placement. */
		{
			uint64_t base = t->got[0] + t->got[1];

			while (t->got[0] + t->got[1] < base + 200 && vt_now_ms() < end &&
			       (t->got[0] < PER_FLOW || t->got[1] < PER_FLOW))
				serve(t, 1);
		}
	}
	return TEST_SUCCESS;
}

/* Starts both guests' threads: @p limit frames per flow (until stopped). */
static int
traffic_start(struct rb_test *t, uint64_t limit)
{
	t->stop = false;
	t->limit = limit;
	t->sent[0] = t->sent[1] = t->got[0] = t->got[1] = 0;
	TEST_ASSERT_SUCCESS(pthread_create(&t->rcv, NULL, receiver_main, t), "receiver");
	if (pthread_create(&t->snd, NULL, sender_main, t) != 0) {
		t->stop = true;
		pthread_join(t->rcv, NULL);
		TEST_ASSERT(false, "sender");
	}
	t->running = true;
	return TEST_SUCCESS;
}

static void
traffic_stop(struct rb_test *t)
{
	if (!t->running)
		return;
	t->stop = true;
	pthread_join(t->snd, NULL);
	pthread_join(t->rcv, NULL);
	t->running = false;
}

/* Serves the loop until both flows delivered @p n frames (or @p ms passed). */
static void
wait_flows(struct rb_test *t, uint64_t n, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while ((t->got[0] < n || t->got[1] < n) && t->bad_seq == 0 && vt_now_ms() < end)
		serve(t, 5);
}

static int
rb_body(struct rb_test *t)
{
	struct vs_switch_port_view va, vb;
	unsigned int moves = 0, placements = 0;
	int rc;

	TEST_RUN(learn_b(t));
	TEST_RUN(traffic_start(t, PER_FLOW));
	rc = move_around(t, &moves, &placements);
	wait_flows(t, PER_FLOW, 60000);
	traffic_stop(t);
	TEST_ASSERT_SUCCESS(rc, "the moves");
	printf("rebalance: %u moves and %u placements by cycles under traffic; flows got "
	       "%" PRIu64 " and %" PRIu64 " of %u frames\n",
	       moves, placements, t->got[0], t->got[1], PER_FLOW);
	TEST_ASSERT_EQUAL(t->bad_frame, 0u, "no damaged frame");
	TEST_ASSERT_EQUAL(t->bad_seq, 0u,
			  "no frame lost, repeated or reordered (first: flow %" PRIu64
			  " seq %" PRIu64 ")",
			  t->first_bad >> 24, t->first_bad & 0xffffff);
	TEST_ASSERT(t->got[0] == PER_FLOW && t->got[1] == PER_FLOW, "every frame arrived");
	vs_switch_port_view(t->sw, (uint16_t)t->port[0], &va);
	vs_switch_port_view(t->sw, (uint16_t)t->port[1], &vb);
	TEST_ASSERT_EQUAL(vb.counters.tx_dropped + va.counters.rx_dropped, 0u,
			  "the switch dropped nothing");
	TEST_ASSERT(moves >= MOVES / 2, "the queues did move (%u)", moves);

	/* Placement by cycles: both busy queues on worker 0, b's idle one on 1. */
	TEST_ASSERT_SUCCESS(vs_switch_rxq_move(t->sw, (uint16_t)t->port[0], 0, 0), "a:0 to 0");
	TEST_ASSERT_SUCCESS(vs_switch_rxq_move(t->sw, (uint16_t)t->port[0], 1, 0), "a:1 to 0");
	TEST_ASSERT_SUCCESS(vs_switch_rxq_move(t->sw, (uint16_t)t->port[1], 0, 1), "b:0 to 1");
	{
		struct vs_switch_rxq_view q0, q1;
		unsigned int moved = 0;

		TEST_RUN(traffic_start(t, PER_FLOW));
		wait_flows(t, PER_FLOW, 60000);
		traffic_stop(t);
		vs_switch_rxq_view(t->sw, (uint16_t)t->port[0], 0, &q0);
		vs_switch_rxq_view(t->sw, (uint16_t)t->port[0], 1, &q1);
		TEST_ASSERT(q0.window_cycles > 0 && q1.window_cycles > 0,
			    "both of a's queues were charged cycles (%" PRIu64 ", %" PRIu64 ")",
			    q0.window_cycles, q1.window_cycles);
		TEST_ASSERT(q0.packets >= PER_FLOW && q1.packets >= PER_FLOW,
			    "and their packets (%" PRIu64 ", %" PRIu64 ")", q0.packets, q1.packets);
		TEST_ASSERT_SUCCESS(vs_switch_rebalance(t->sw, &moved), "rebalance");
		printf("rebalance: a:0 %" PRIu64 " and a:1 %" PRIu64
		       " cycles in the window; %u queue(s) moved\n",
		       q0.window_cycles, q1.window_cycles, moved);
		TEST_ASSERT(worker_of(t, 0, 0) != worker_of(t, 0, 1),
			    "a's busy queues on different workers (%d, %d)", worker_of(t, 0, 0),
			    worker_of(t, 0, 1));
		TEST_ASSERT(moved >= 1, "something moved");
	}
	/* The automatic mode does the same by itself (any load counts here),
	 * with traffic going on until it has. */
	TEST_ASSERT_SUCCESS(vs_switch_rxq_move(t->sw, (uint16_t)t->port[0], 0, 0), "a:0 to 0");
	TEST_ASSERT_SUCCESS(vs_switch_rxq_move(t->sw, (uint16_t)t->port[0], 1, 0), "a:1 to 0");
	{
		struct vs_switch_auto_lb a = {
			.on = true, .interval = 1, .threshold = 1, .improvement = 10};
		uint64_t end = vt_now_ms() + 30000;

		TEST_ASSERT_SUCCESS(vs_switch_auto_lb_set(t->sw, &a), "auto-lb on");
		TEST_RUN(traffic_start(t, UINT64_MAX));
		do {
			serve(t, 5);
			vs_switch_auto_lb_get(t->sw, &a);
		} while (a.rebalances == 0 && vt_now_ms() < end);
		traffic_stop(t);
		printf("rebalance: auto-lb: %" PRIu64 " check(s), %" PRIu64 " rebalance(s)\n",
		       a.checks, a.rebalances);
		TEST_ASSERT(a.rebalances >= 1, "the automatic mode placed the queues");
		TEST_ASSERT(worker_of(t, 0, 0) != worker_of(t, 0, 1),
			    "a's busy queues on different workers again (%d, %d)",
			    worker_of(t, 0, 0), worker_of(t, 0, 1));
		TEST_ASSERT_EQUAL(t->bad_seq + t->bad_frame, 0u, "nothing lost or reordered");
	}
	return TEST_SUCCESS;
}

static int
test_rxq_rebalance(void)
{
	struct rb_test t;
	int rc;

	TEST_RUN(rb_setup(&t));
	rc = rb_body(&t);
	/* On every path: threads, workers, guests, engine. */
	traffic_stop(&t);
	vs_switch_stop(t.sw);
	for (int i = 0; i < 2; i++)
		vt_guest_fini(&t.g[i]);
	serve(&t, 20);
	vs_switch_destroy(t.sw);
	vs_evloop_destroy(t.loop);
	return rc;
}
REGISTER_TEST(switch_rxq_moves_lose_and_reorder_nothing, fast, test_rxq_rebalance)
