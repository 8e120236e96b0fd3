/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rx queue placement by measured load (vs_sched_assign_cycles) and the
 * placement of new queues only (vs_sched_place_new).
 */
#include "test.h"
#include "vs_sched.h"

static int
test_sched_cycles_balances_load(void)
{
	/* Two heavy queues on worker 0, four light ones on worker 1. */
	struct vs_sched_item it[6] = {{0, 0, 0}, {0, 1, 0}, {1, 0, 1},
				      {1, 1, 1}, {2, 0, 1}, {2, 1, 1}};
	const uint64_t load[6] = {1000, 900, 100, 100, 50, 0};
	unsigned int moved;

	TEST_ASSERT_EQUAL(vs_sched_max_load(it, load, 6, 2), 1900u, "before: 1900 on worker 0");
	moved = vs_sched_assign_cycles(it, load, 6, 2);
	/* 1000 -> w0; 900 -> w1; 100 -> w1 (900 < 1000); 100 -> w0 (a tie: fewer
	 * items); 50 -> w1 (1000 < 1100); 0 -> w1 (1050 < 1100). */
	TEST_ASSERT(it[0].worker != it[1].worker, "the two heavy queues apart");
	TEST_ASSERT_EQUAL(vs_sched_max_load(it, load, 6, 2), 1100u, "after: at most 1100");
	TEST_ASSERT(moved >= 1, "something moved (%u)", moved);
	/* Again with the same loads: nothing moves. */
	TEST_ASSERT_EQUAL(vs_sched_assign_cycles(it, load, 6, 2), 0u, "stable");
	return TEST_SUCCESS;
}
REGISTER_TEST(sched_cycles_balances_load, fast, test_sched_cycles_balances_load)

static int
test_sched_cycles_idle_queues_by_count(void)
{
	struct vs_sched_item it[8];
	const uint64_t load[8] = {0};
	unsigned int per[4] = {0};

	for (unsigned int i = 0; i < 8; i++)
		it[i] = (struct vs_sched_item){(uint16_t)i, 0, -1};
	TEST_ASSERT_EQUAL(vs_sched_assign_cycles(it, load, 8, 4), 0u, "new queues are no moves");
	for (unsigned int i = 0; i < 8; i++) {
		TEST_ASSERT(it[i].worker >= 0 && it[i].worker < 4, "placed");
		per[it[i].worker]++;
	}
	for (unsigned int w = 0; w < 4; w++)
		TEST_ASSERT_EQUAL(per[w], 2u, "no load: spread by count (worker %u)", w);
	return TEST_SUCCESS;
}
REGISTER_TEST(sched_cycles_spreads_idle_queues_by_count, fast,
	      test_sched_cycles_idle_queues_by_count)

static int
test_sched_place_new_keeps_placement(void)
{
	/* An uneven placement (by cycles) is kept; new queues go to the emptiest worker. */
	struct vs_sched_item it[6] = {{0, 0, 0}, {1, 0, 1},  {2, 0, 1},
				      {3, 0, 1}, {4, 0, -1}, {5, 0, 7}};

	TEST_ASSERT_EQUAL(vs_sched_place_new(it, 6, 2), 0u, "nothing moved");
	TEST_ASSERT(it[0].worker == 0 && it[1].worker == 1 && it[2].worker == 1 &&
			    it[3].worker == 1,
		    "placed queues stay");
	TEST_ASSERT_EQUAL(it[4].worker, 0, "a new queue to the worker with fewer");
	TEST_ASSERT_EQUAL(it[5].worker, 0, "a queue of a worker that is gone, likewise");
	return TEST_SUCCESS;
}
REGISTER_TEST(sched_place_new_keeps_a_placement_by_cycles, fast,
	      test_sched_place_new_keeps_placement)
