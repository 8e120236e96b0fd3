/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which tx queue a frame leaves on: a worker owns a disjoint set of each
 * port's tx queues (shared, locked, only where workers outnumber queues),
 * and what it receives on its k-th rx queue of a port goes out on the k-th
 * of its tx queues of the destination, so a multi-queue destination
 * receives on all its queues (issue 15 item 1, the two-queue-pair funnel).
 * testq ports count what each tx queue took and catch two threads in one
 * queue at once.
 */
#include <rte_lcore.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vt_switch.h"

/* Adds testq port @p name; returns it (NULL on failure) and its id in @p id. */
static struct vs_port *
add_testq(struct vt_sw *t, const char *name, unsigned int queues, unsigned int gen, int *id)
{
	char spec[96], err[256];

	snprintf(spec, sizeof(spec), "testq,name=%s,queues=%u,gen=%u", name, queues, gen);
	*id = vs_switch_add_port(t->sw, spec, err, sizeof(err));
	if (*id < 0) {
		printf("%s: %s\n", spec, err);
		return NULL;
	}
	return vt_testq_find(name);
}

/* Polls every worker @p rounds times (manual mode). */
static void
poll_all(struct vt_sw *t, unsigned int nb_workers, unsigned int rounds)
{
	for (unsigned int r = 0; r < rounds; r++)
		for (unsigned int w = 0; w < nb_workers; w++)
			vs_switch_poll(t->sw, w);
}

/*
 * Every worker's tx queues of port @p id: disjoint unless shared, together
 * all @p nb_txq queues; @p want_shared: whether workers must share.
 */
static int
check_txq_sets(struct vs_switch *sw, int id, unsigned int nb_workers, unsigned int nb_txq,
	       bool want_shared)
{
	uint32_t all = 0;

	for (unsigned int w = 0; w < nb_workers; w++) {
		struct vs_switch_txq_view v, o;

		TEST_ASSERT_SUCCESS(vs_switch_txq_view(sw, (uint16_t)id, w, &v), "view w%u", w);
		TEST_ASSERT(v.mask != 0, "worker %u sends on port %d", w, id);
		TEST_ASSERT_EQUAL(v.shared, want_shared, "worker %u: shared", w);
		for (unsigned int x = 0; x < nb_workers; x++) {
			TEST_ASSERT_SUCCESS(vs_switch_txq_view(sw, (uint16_t)id, x, &o), "view");
			TEST_ASSERT(x == w || (v.mask & o.mask) == 0 || (v.shared && o.shared),
				    "workers %u (%#x) and %u (%#x) share a queue unlocked", w,
				    v.mask, x, o.mask);
		}
		all |= v.mask;
	}
	TEST_ASSERT_EQUAL(all, (1u << nb_txq) - 1, "every tx queue of port %d used", id);
	return TEST_SUCCESS;
}

/* One worker: rx queue i of the source leaves on tx queue i (mod the destination's). */
static int
test_switch_sends_rx_queue_i_on_tx_queue_i(void)
{
	struct vt_testq_stats a, b, c;
	struct vs_port *pa, *pb, *pc;
	int ia, ib, ic;
	struct vt_sw t;

	VT_SW_SETUP(&t, 1);
	pa = add_testq(&t, "a", 4, 3, &ia);
	pb = add_testq(&t, "b", 4, 0, &ib);
	pc = add_testq(&t, "c", 2, 0, &ic);
	TEST_ASSERT(pa != NULL && pb != NULL && pc != NULL, "ports");
	TEST_RUN(check_txq_sets(t.sw, ib, 1, 4, false));
	TEST_RUN(check_txq_sets(t.sw, ic, 1, 2, false));
	poll_all(&t, 1, 50);
	vt_testq_stats(pa, &a);
	vt_testq_stats(pb, &b);
	vt_testq_stats(pc, &c);
	/* a floods (broadcast) to b and c. */
	for (unsigned int q = 0; q < 4; q++) {
		TEST_ASSERT(a.generated[q] > 0, "a sent on rx queue %u", q);
		TEST_ASSERT_EQUAL(b.received_on[q], a.generated[q],
				  "b's tx queue %u: a's rx queue %u", q, q);
	}
	TEST_ASSERT_EQUAL(c.received_on[0], a.generated[0] + a.generated[2],
			  "c's queue 0: a's 0, 2");
	TEST_ASSERT_EQUAL(c.received_on[1], a.generated[1] + a.generated[3],
			  "c's queue 1: a's 1, 3");
	TEST_ASSERT_EQUAL(a.violations + b.violations + c.violations, 0u, "no queue shared");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_sends_rx_queue_i_on_tx_queue_i, fast, test_switch_sends_rx_queue_i_on_tx_queue_i)
/* clang-format on */

/*
 * Two workers, four queue pairs: worker 0 polls a's queues 0 and 2 and owns
 * b's tx queues 0 and 2, worker 1 the others, so queue i still maps to queue
 * i. Three workers and two queues: the queues are shared, and locked.
 */
static int
test_switch_workers_own_disjoint_tx_queues(void)
{
	struct vt_testq_stats a, b;
	struct vs_port *pa, *pb;
	int ia, ib;
	struct vt_sw t;

	VT_SW_SETUP(&t, 2);
	pa = add_testq(&t, "a", 4, 3, &ia);
	pb = add_testq(&t, "b", 4, 0, &ib);
	TEST_ASSERT(pa != NULL && pb != NULL, "ports");
	TEST_RUN(check_txq_sets(t.sw, ia, 2, 4, false));
	TEST_RUN(check_txq_sets(t.sw, ib, 2, 4, false));
	poll_all(&t, 2, 50);
	vt_testq_stats(pa, &a);
	vt_testq_stats(pb, &b);
	for (unsigned int q = 0; q < 4; q++) {
		TEST_ASSERT(a.generated[q] > 0, "a sent on rx queue %u", q);
		TEST_ASSERT_EQUAL(b.received_on[q], a.generated[q], "b's tx queue %u", q);
	}
	/* Both of a's queues on worker 0: its two lanes spread over its two queues. */
	TEST_ASSERT_SUCCESS(vs_switch_rxq_move(t.sw, (uint16_t)ia, 1, 0), "a:1 to worker 0");
	TEST_ASSERT_SUCCESS(vs_switch_rxq_move(t.sw, (uint16_t)ia, 3, 1), "a:3 on worker 1");
	{
		struct vt_testq_stats a2, b2;

		poll_all(&t, 2, 50);
		vt_testq_stats(pa, &a2);
		vt_testq_stats(pb, &b2);
		/* Worker 0: a's 0, 1, 2 on lanes 0, 1, 2 -> its queues 0, 2, 0. */
		TEST_ASSERT_EQUAL(b2.received_on[0] - b.received_on[0],
				  a2.generated[0] - a.generated[0] + a2.generated[2] -
					  a.generated[2],
				  "b:0 gets a:0 and a:2");
		TEST_ASSERT_EQUAL(b2.received_on[2] - b.received_on[2],
				  a2.generated[1] - a.generated[1], "b:2 gets a:1");
		TEST_ASSERT_EQUAL(b2.received_on[1] - b.received_on[1],
				  a2.generated[3] - a.generated[3], "b:1 gets a:3 (worker 1)");
		TEST_ASSERT_EQUAL(b2.received_on[3], b.received_on[3], "b:3 gets nothing now");
	}
	vt_sw_fini(&t);

	VT_SW_SETUP(&t, 3);
	pa = add_testq(&t, "a", 2, 3, &ia);
	pb = add_testq(&t, "b", 2, 0, &ib);
	TEST_ASSERT(pa != NULL && pb != NULL, "ports");
	/* Workers 0 and 2 share queue 0; worker 1 owns queue 1. */
	{
		struct vs_switch_txq_view v[3];

		for (unsigned int w = 0; w < 3; w++)
			TEST_ASSERT_SUCCESS(vs_switch_txq_view(t.sw, (uint16_t)ib, w, &v[w]),
					    "view");
		TEST_ASSERT(v[0].mask == 1 && v[2].mask == 1 && v[0].shared && v[2].shared,
			    "0 and 2 share queue 0, locked");
		TEST_ASSERT(v[1].mask == 2 && !v[1].shared, "1 owns queue 1");
	}
	poll_all(&t, 3, 50);
	vt_testq_stats(pa, &a);
	vt_testq_stats(pb, &b);
	TEST_ASSERT_EQUAL(b.received_on[0] + b.received_on[1], a.generated[0] + a.generated[1],
			  "b got everything");
	TEST_ASSERT_EQUAL(a.violations + b.violations, 0u, "no queue used by two at once");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_workers_own_disjoint_tx_queues, fast, test_switch_workers_own_disjoint_tx_queues)
/* clang-format on */

/*
 * Real workers on two lcores: a's two queues (one per worker) reach both of
 * b's, and no tx queue is ever entered by two workers at once.
 */
static int
test_switch_live_workers_spread_over_tx_queues(void)
{
	struct vt_testq_stats a, b;
	struct vs_port *pa, *pb;
	struct vs_evloop *loop;
	struct vs_switch *sw;
	char err[256], why[256];
	bool skip;
	int ia, ib;
	uint64_t end;

	sw = vt_sw_live("lanes", &loop, &skip, why, sizeof(why));
	if (sw == NULL && skip)
		TEST_SKIP("%s", why);
	TEST_ASSERT_NOT_NULL(sw, "%s", why);
	ia = vs_switch_add_port(sw, "testq,name=la,queues=2,gen=2", err, sizeof(err));
	TEST_ASSERT(ia >= 0, "%s", err);
	ib = vs_switch_add_port(sw, "testq,name=lb,queues=2,gen=0", err, sizeof(err));
	TEST_ASSERT(ib >= 0, "%s", err);
	pa = vt_testq_find("la");
	pb = vt_testq_find("lb");
	TEST_RUN(check_txq_sets(sw, ib, 2, 2, false));
	TEST_ASSERT_SUCCESS(vs_switch_rxq_move(sw, (uint16_t)ia, 0, 0), "a:0 on worker 0");
	TEST_ASSERT_SUCCESS(vs_switch_rxq_move(sw, (uint16_t)ia, 1, 1), "a:1 on worker 1");
	TEST_ASSERT_SUCCESS(vs_switch_start(sw), "start");
	end = vt_now_ms() + 10000;
	do {
		vs_evloop_run_once(loop, 10);
		vt_testq_stats(pb, &b);
	} while ((b.received_on[0] < 20000 || b.received_on[1] < 20000) && vt_now_ms() < end);
	vs_switch_stop(sw);
	vt_testq_stats(pa, &a);
	vt_testq_stats(pb, &b);
	printf("a sent %" PRIu64 " + %" PRIu64 "; b got %" PRIu64 " + %" PRIu64 "\n",
	       a.generated[0], a.generated[1], b.received_on[0], b.received_on[1]);
	TEST_ASSERT(b.received_on[0] > 0 && b.received_on[1] > 0, "both of b's queues got traffic");
	TEST_ASSERT(b.received_on[0] == a.generated[0] && b.received_on[1] == a.generated[1],
		    "queue i to queue i, nothing lost");
	TEST_ASSERT_EQUAL(a.violations + b.violations, 0u, "no queue used by two workers at once");
	vs_switch_destroy(sw);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_live_workers_spread_over_tx_queues, fast, test_switch_live_workers_spread_over_tx_queues)
/* clang-format on */
