/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live migration through the engine: the dirty log of the guests while the
 * switch forwards between them, on both of its paths between VM ports (one
 * copy from the sender's buffers into the receiver's, and the mbuf path).
 *
 * The engine (manual mode, one worker) has two vhost-user ports; two guests
 * of our own (lib/vhost front-end, lib/virtq driver side) are connected. In
 * each round both guests post frames of 60 to 9000 bytes in every transmit
 * layout to each other; then, with a copy of both guests' memory taken and
 * the logs cleared, the worker forwards them; afterwards every byte the
 * switch changed in a logging guest's memory (receive buffers, headers and
 * num_buffers, used rings of both directions, event suppression) must lie in
 * a page marked in that guest's log, a guest that does not log must have an
 * empty log, and every frame must arrive whole and in order.
 *
 * First guest 0 alone logs, as QEMU does on running rings: the frames it
 * sends still go by one copy into guest 1 (its transmit ring is returned
 * by the one-copy path), those it receives take the mbuf path (a receiver
 * whose pages are logged is written through the mbuf path only, see
 * vu_ring_caps()). Then guest 1 logs too, its log set after LOG_ALL as for
 * a device started during a migration; then both ports are kept off one
 * copy; then logging ends. Split and packed rings, mergeable buffers on and
 * off; the one-copy counters prove which path ran.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_mempool.h>

#include "test.h"
#include "vs_switch.h"
#include "vt_vu.h"

#define F(bit)	(1ULL << (bit))
#define WAIT_MS 5000
#define RING	256
#define ROUNDS	24
#define BASE	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC))

static const uint8_t macs[2][6] = {{0x02, 0, 0, 0, 0, 0x0a}, {0x02, 0, 0, 0, 0, 0x0b}};

struct ms_guest {
	struct vt_guest g;
	struct vt_dirty_log log;
	uint32_t seq_out; /* next sequence number sent */
	uint32_t seq_in;  /* next one the other guest expects from it */
};

struct ms_test {
	struct vt_vu_sw s; /* port i is guest i's */
	struct ms_guest gu[2];
	bool logging[2];
	bool mrg;
	unsigned long changed, frames;
};

/* A front-end request sequence for guests first..last, on a thread while the loop serves. */
struct fe_job {
	struct ms_test *t;
	int (*fn)(struct ms_test *t, int i);
	int first, last;
	int rc[2];
};

static int
fe_main(void *arg)
{
	struct fe_job *j = arg;

	for (int i = j->first; i <= j->last; i++)
		j->rc[i] = j->fn(j->t, i);
	return 0;
}

/* Runs @p fn for guests @p first..@p last. */
static int
fe_run(struct ms_test *t, int (*fn)(struct ms_test *t, int i), int first, int last,
       const char *what)
{
	struct fe_job job = {.t = t, .fn = fn, .first = first, .last = last};

	TEST_ASSERT_SUCCESS(vt_vu_sw_run(&t->s, fe_main, &job), "thread");
	TEST_ASSERT(job.rc[0] == 0 && job.rc[1] == 0, "%s (%d, %d)", what, job.rc[0], job.rc[1]);
	return TEST_SUCCESS;
}

static int
fe_log_start(struct ms_test *t, int i)
{
	struct ms_guest *m = &t->gu[i];
	struct vh_log_area la = vt_dirty_log_area(&m->log);

	/* The second guest's log comes last, as for a device started during
	 * the migration (the rings already run without one). */
	return vt_guest_log_start(&m->g, &la, i == 1);
}

static int
fe_log_stop(struct ms_test *t, int i)
{
	return vt_guest_log_stop(&t->gu[i].g);
}

static struct vs_switch_port_counters
counters(struct ms_test *t, int i)
{
	return vt_vu_sw_counters(&t->s, i);
}

static int
ms_setup(struct ms_test *t, uint64_t features)
{
	struct vt_guest_cfg cfg = {.queues = 1, .ring_size = RING, .tx_buf_size = 10240};

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 2; i++) {
		t->gu[i].log.fd = -1;
		t->gu[i].g.memfd = -1;
	}
	TEST_RUN(vt_vu_sw_init(&t->s, "ms"));
	t->mrg = (features & F(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	/* Without mergeable buffers one buffer holds the largest frame. */
	cfg.buf_size = t->mrg ? 2048 : 10240;
	cfg.features = features;
	for (int i = 0; i < 2; i++) {
		struct ms_guest *m = &t->gu[i];

		TEST_ASSERT_SUCCESS(vt_guest_init(&m->g, &cfg), "guest %d", i);
		TEST_ASSERT_SUCCESS(vt_dirty_log_init(&m->log, &m->g), "guest %d: the dirty log",
				    i);
	}
	TEST_RUN(vt_vu_sw_connect(&t->s, (struct vt_guest *const[]){&t->gu[0].g, &t->gu[1].g},
				  features));
	for (int i = 0; i < 2; i++)
		vt_guest_fill_rx(&t->gu[i].g, 0);
	return TEST_SUCCESS;
}

static void
ms_teardown(struct ms_test *t)
{
	for (int i = 0; i < 2; i++)
		vt_guest_fini(&t->gu[i].g);
	vt_vu_sw_fini(&t->s);
	for (int i = 0; i < 2; i++)
		vt_dirty_log_fini(&t->gu[i].log);
}

/* Every byte of guest @p i that changed since the copy lies in a logged page. */
static int
check_logged(struct ms_test *t, int i, bool logging, const char *what)
{
	long n = vt_dirty_log_check(&t->gu[i].log, &t->gu[i].g, logging);

	TEST_ASSERT(n >= 0, "%s: guest %d: the log %s", what, i,
		    logging ? "holds every page the switch wrote" : "stays empty");
	TEST_ASSERT(n > 0, "%s: the switch wrote into guest %d", what, i);
	t->changed += (unsigned long)n;
	return TEST_SUCCESS;
}

/*
 * One round: each guest posts @p n frames to the other; the switch forwards
 * them between a copy of guest memory and the checks; every frame arrives.
 */
static int
round_trip(struct ms_test *t, unsigned int n, const char *what)
{
	static const uint32_t lens[] = {60, 1514, 9000, 300, 4000, 2100};
	static uint8_t f[VT_FRAME_MAX];
	struct vs_switch_port_counters c0[2];
	uint64_t end = vt_now_ms() + WAIT_MS;
	unsigned int sent[2] = {0, 0};

	for (int i = 0; i < 2; i++) {
		struct ms_guest *m = &t->gu[i];

		c0[i] = counters(t, i);
		for (unsigned int k = 0; k < n; k++) {
			uint32_t len = lens[(m->seq_out + k) % RTE_DIM(lens)];

			vt_frame_fill(f, len, m->seq_out + k);
			memcpy(f, macs[!i], 6);
			memcpy(f + 6, macs[i], 6);
			if (vt_guest_send(&m->g, 0, f, len, NULL, (enum vt_tx_layout)(k % 4)) != 0)
				break;
			sent[i]++;
		}
		TEST_ASSERT(sent[i] > 0, "%s: guest %d sent", what, i);
	}
	for (int i = 0; i < 2; i++)
		vt_dirty_log_snapshot(&t->gu[i].log, &t->gu[i].g);
	/* Until both received what the other sent, then a few idle polls. */
	while (counters(t, 0).tx_packets - c0[0].tx_packets < sent[1] ||
	       counters(t, 1).tx_packets - c0[1].tx_packets < sent[0]) {
		TEST_ASSERT(vt_now_ms() < end, "%s: the switch forwards", what);
		vs_switch_poll(t->s.sw, 0);
	}
	for (int k = 0; k < 4; k++)
		vs_switch_poll(t->s.sw, 0);
	for (int i = 0; i < 2; i++)
		TEST_RUN(check_logged(t, i, t->logging[i], what));
	for (int i = 0; i < 2; i++) {
		struct ms_guest *m = &t->gu[i];

		for (unsigned int k = 0; k < sent[!i]; k++) {
			struct virtio_net_hdr_mrg_rxbuf h;
			uint32_t len = 0;

			TEST_ASSERT_EQUAL(vt_guest_recv(&m->g, 0, &h, f, sizeof(f), &len), 1,
					  "%s: guest %d: frame %u arrived", what, i, k);
			TEST_ASSERT(memcmp(f, macs[i], 6) == 0 && memcmp(f + 6, macs[!i], 6) == 0,
				    "%s: guest %d: frame %u addressed to it", what, i, k);
			TEST_ASSERT_EQUAL(vt_frame_check(f, len), (int64_t)t->gu[!i].seq_in,
					  "%s: guest %d: frame %u intact and in order", what, i, k);
			t->gu[!i].seq_in++;
		}
		TEST_ASSERT_EQUAL(vt_guest_reap_tx(&m->g, 0), sent[i],
				  "%s: guest %d: every transmit chain completed", what, i);
		m->seq_out += sent[i];
		vt_guest_fill_rx(&m->g, 0);
	}
	t->frames += sent[0] + sent[1];
	return TEST_SUCCESS;
}

/* @p rounds rounds; the one-copy counters of the ports to guest 0 and 1 grow as @p oc says. */
static int
rounds(struct ms_test *t, int rounds, const bool oc[2], const char *phase)
{
	uint64_t before[2] = {counters(t, 0).onecopy, counters(t, 1).onecopy};
	char what[96];

	for (int r = 0; r < rounds; r++) {
		snprintf(what, sizeof(what), "%s, round %d", phase, r);
		TEST_RUN(round_trip(t, 1 + (unsigned int)r % 12, what));
	}
	for (int i = 0; i < 2; i++)
		TEST_ASSERT((counters(t, i).onecopy > before[i]) == oc[i],
			    "%s: frames to guest %d %s by one copy", phase, i,
			    oc[i] ? "went" : "did not go");
	return TEST_SUCCESS;
}

static int
run_steps(struct ms_test *t)
{
	static const bool oc_none[2] = {false, false}, oc_to_1[2] = {false, true},
			  oc_both[2] = {true, true};

	/* Each learns the other (the first frames are flooded), then one copy. */
	TEST_RUN(round_trip(t, 1, "learning"));
	TEST_RUN(rounds(t, 2, oc_both, "no migration"));
	/* Guest 0 migrates: it logs, its log given first (running rings). */
	TEST_RUN(fe_run(t, fe_log_start, 0, 0, "guest 0 logs"));
	t->logging[0] = true;
	TEST_RUN(rounds(t, ROUNDS, oc_to_1, "guest 0 logs"));
	/* Guest 1 too, its log given last. */
	TEST_RUN(fe_run(t, fe_log_start, 1, 1, "guest 1 logs"));
	t->logging[1] = true;
	TEST_RUN(rounds(t, ROUNDS, oc_none, "both log"));
	/* The mbuf path by choice. */
	for (int i = 0; i < 2; i++)
		TEST_ASSERT_SUCCESS(
			vs_switch_port_set_onecopy(t->s.sw, (uint16_t)t->s.port[i], false),
			"port %d off one copy", i);
	TEST_RUN(rounds(t, ROUNDS / 2, oc_none, "both log, ports off one copy"));
	/* The migrations end: nothing is logged any more. */
	TEST_RUN(fe_run(t, fe_log_stop, 0, 1, "logging stops"));
	t->logging[0] = t->logging[1] = false;
	return rounds(t, 2, oc_none, "after the migrations");
}

static int
run_case(uint64_t features)
{
	struct ms_test t;
	int rc = ms_setup(&t, features);

	if (rc == TEST_SUCCESS)
		rc = run_steps(&t);
	if (rc == TEST_SUCCESS)
		printf("features 0x%" PRIx64 ": %lu frames, %lu guest bytes changed and checked\n",
		       t.gu[0].g.features, t.frames, t.changed);
	ms_teardown(&t);
	return rc;
}

static int
test_split(void)
{
	TEST_RUN(run_case(BASE | F(VIRTIO_NET_F_MRG_RXBUF)));
	TEST_RUN(run_case(BASE));
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_logs_every_page_it_writes_split, fast, test_split)

static int
test_packed(void)
{
	TEST_RUN(run_case(BASE | F(VIRTIO_F_RING_PACKED) | F(VIRTIO_NET_F_MRG_RXBUF)));
	TEST_RUN(run_case(BASE | F(VIRTIO_F_RING_PACKED)));
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_logs_every_page_it_writes_packed, fast, test_packed)
