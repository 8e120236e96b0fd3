/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VLAN membership parsing, and the queue assignment: balanced, stable,
 * and the tx queue sharing rule. Pure functions: no EAL.
 */
#include "test.h"
#include "vs_sched.h"
#include "vs_vlan.h"

static int
test_vlan_parses_access_and_trunk(void)
{
	struct vs_vlan_cfg c;
	char err[160], buf[96];

	TEST_ASSERT_SUCCESS(vs_vlan_parse(NULL, NULL, &c, err, sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(c.access, VS_VLAN_DEFAULT, "default access VLAN");
	TEST_ASSERT(vs_vlan_member(&c, 1) && !vs_vlan_member(&c, 2), "member of 1 only");
	TEST_ASSERT_SUCCESS(vs_vlan_parse("4094", NULL, &c, err, sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(c.access, 4094, "access 4094");
	vs_vlan_format(&c, buf, sizeof(buf));
	TEST_ASSERT(strcmp(buf, "4094") == 0, "'%s'", buf);
	TEST_ASSERT_SUCCESS(vs_vlan_parse(NULL, "10:20:30-33:5", &c, err, sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(c.access, 0, "a trunk");
	TEST_ASSERT_EQUAL(c.nb_trunk, 7, "7 VLANs");
	TEST_ASSERT(vs_vlan_member(&c, 5) && vs_vlan_member(&c, 10) && vs_vlan_member(&c, 31) &&
			    vs_vlan_member(&c, 33),
		    "members");
	TEST_ASSERT(!vs_vlan_member(&c, 1) && !vs_vlan_member(&c, 34) && !vs_vlan_member(&c, 0),
		    "non-members");
	vs_vlan_format(&c, buf, sizeof(buf));
	TEST_ASSERT(strcmp(buf, "trunk 5,10,20,30-33") == 0, "'%s'", buf);
	TEST_ASSERT_SUCCESS(vs_vlan_parse(NULL, "1-4094", &c, err, sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(c.nb_trunk, 4094, "all");
	/* A tiny buffer is never overrun. */
	TEST_ASSERT(vs_vlan_format(&c, buf, 4) > 3, "truncated length reported");
	return TEST_SUCCESS;
}
REGISTER_TEST(vlan_parses_access_and_trunk, fast, test_vlan_parses_access_and_trunk)

static int
test_vlan_rejects_bad_ids(void)
{
	static const struct {
		const char *vlan, *trunk, *why;
	} bad[] = {
		{"0", NULL, "key 'vlan'"},	 {"4095", NULL, "key 'vlan'"},
		{"12a", NULL, "key 'vlan'"},	 {"-1", NULL, "key 'vlan'"},
		{"", NULL, "key 'vlan'"},	 {"99999999", NULL, "key 'vlan'"},
		{NULL, "10::20", "key 'trunk'"}, {NULL, "10:", "key 'trunk'"},
		{NULL, "20-10", "backwards"},	 {NULL, "10,20", "joined by ':'"},
		{NULL, "4095", "key 'trunk'"},	 {"10", "20", "not both"},
	};
	struct vs_vlan_cfg c;
	char err[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		TEST_ASSERT_EQUAL(vs_vlan_parse(bad[i].vlan, bad[i].trunk, &c, err, sizeof(err)),
				  -EINVAL, "vlan=%s trunk=%s", bad[i].vlan ? bad[i].vlan : "-",
				  bad[i].trunk ? bad[i].trunk : "-");
		TEST_ASSERT(strstr(err, bad[i].why) != NULL, "'%s' lacks '%s'", err, bad[i].why);
	}
	return TEST_SUCCESS;
}
REGISTER_TEST(vlan_rejects_bad_ids, fast, test_vlan_rejects_bad_ids)

static void
loads(const struct vs_sched_item *it, unsigned int n, unsigned int nw, unsigned int *load)
{
	memset(load, 0, sizeof(unsigned int) * nw);
	for (unsigned int i = 0; i < n; i++)
		load[it[i].worker]++;
}

static bool
balanced(const unsigned int *load, unsigned int nw)
{
	unsigned int lo = load[0], hi = load[0];

	for (unsigned int w = 1; w < nw; w++) {
		lo = load[w] < lo ? load[w] : lo;
		hi = load[w] > hi ? load[w] : hi;
	}
	return hi - lo <= 1;
}

static int
test_sched_assignment_is_balanced(void)
{
	struct vs_sched_item it[64];
	unsigned int load[8];

	for (unsigned int nw = 1; nw <= 8; nw++) {
		for (unsigned int n = 0; n <= 64; n++) {
			for (unsigned int i = 0; i < n; i++)
				it[i] = (struct vs_sched_item){(uint16_t)(i / 4), (uint16_t)(i % 4),
							       -1};
			TEST_ASSERT_EQUAL(vs_sched_assign(it, n, nw), 0,
					  "new queues are not moves");
			for (unsigned int i = 0; i < n; i++)
				TEST_ASSERT(it[i].worker >= 0 && it[i].worker < (int)nw,
					    "assigned");
			loads(it, n, nw, load);
			TEST_ASSERT(balanced(load, nw), "%u queues on %u workers", n, nw);
		}
	}
	TEST_ASSERT_EQUAL(vs_sched_assign(it, 4, 0), 0, "no workers");
	TEST_ASSERT_EQUAL(it[0].worker, -1, "nobody polls");
	return TEST_SUCCESS;
}
REGISTER_TEST(sched_assignment_is_balanced, fast, test_sched_assignment_is_balanced)

static int
test_sched_reassignment_moves_few_queues(void)
{
	struct vs_sched_item it[16], before[16];
	unsigned int load[4], n = 12, moved, changed;

	for (unsigned int i = 0; i < n; i++)
		it[i] = (struct vs_sched_item){(uint16_t)(i / 2), (uint16_t)(i % 2), -1};
	vs_sched_assign(it, n, 4);
	memcpy(before, it, sizeof(it));
	/* Nothing changed: nothing moves. */
	TEST_ASSERT_EQUAL(vs_sched_assign(it, n, 4), 0, "stable");
	TEST_ASSERT(memcmp(before, it, sizeof(it[0]) * n) == 0, "same assignment");
	/* Port 0 goes (its two queues): at most one queue moves to rebalance. */
	memmove(it, it + 2, sizeof(it[0]) * (n - 2));
	n -= 2;
	moved = vs_sched_assign(it, n, 4);
	loads(it, n, 4, load);
	TEST_ASSERT(balanced(load, 4), "balanced after a removal");
	changed = 0;
	for (unsigned int i = 0; i < n; i++)
		changed += it[i].worker != before[i + 2].worker;
	TEST_ASSERT_EQUAL(changed, moved, "moves are counted");
	TEST_ASSERT(moved <= 1, "%u moved", moved);
	/* Two workers go away: their queues spread over the rest. */
	memcpy(before, it, sizeof(it));
	vs_sched_assign(it, n, 2);
	loads(it, n, 2, load);
	TEST_ASSERT(balanced(load, 2), "balanced on fewer workers");
	for (unsigned int i = 0; i < n; i++)
		if (before[i].worker < 2)
			TEST_ASSERT_EQUAL(it[i].worker, before[i].worker,
					  "queues of surviving workers stay (item %u)", i);
	/* A new queue goes to the least loaded worker. */
	it[n] = (struct vs_sched_item){9, 0, -1};
	vs_sched_assign(it, n + 1, 2);
	loads(it, n + 1, 2, load);
	TEST_ASSERT(balanced(load, 2), "balanced with a new queue");
	return TEST_SUCCESS;
}
REGISTER_TEST(sched_reassignment_moves_few_queues, fast, test_sched_reassignment_moves_few_queues)

static int
test_sched_txq_shared_only_when_needed(void)
{
	/* 2 workers, 1 tx queue: both share queue 0. */
	TEST_ASSERT(vs_sched_txq(0, 1) == 0 && vs_sched_txq(1, 1) == 0, "queue 0");
	TEST_ASSERT(vs_sched_txq_shared(0, 1, 2) && vs_sched_txq_shared(1, 1, 2), "shared");
	/* 2 workers, 2 queues: one each, no lock. */
	TEST_ASSERT(!vs_sched_txq_shared(0, 2, 2) && !vs_sched_txq_shared(1, 2, 2), "exclusive");
	/* 3 workers, 2 queues: workers 0 and 2 share queue 0, worker 1 has queue 1. */
	TEST_ASSERT(vs_sched_txq_shared(0, 2, 3) && vs_sched_txq_shared(2, 2, 3), "0 shared");
	TEST_ASSERT(!vs_sched_txq_shared(1, 2, 3), "1 alone");
	/* Exhaustive: shared iff another worker maps to the same queue. */
	for (unsigned int nw = 1; nw <= 16; nw++) {
		for (uint16_t nq = 1; nq <= 8; nq++) {
			for (unsigned int w = 0; w < nw; w++) {
				bool other = false;

				for (unsigned int x = 0; x < nw; x++)
					other |= x != w &&
						 vs_sched_txq(x, nq) == vs_sched_txq(w, nq);
				TEST_ASSERT_EQUAL(vs_sched_txq_shared(w, nq, nw), other,
						  "w %u of %u, %u queues", w, nw, nq);
			}
		}
	}
	return TEST_SUCCESS;
}
REGISTER_TEST(sched_txq_shared_only_when_needed, fast, test_sched_txq_shared_only_when_needed)

/*
 * Each worker's tx queues of a port: disjoint from every other worker's
 * unless the queue is shared (and then locked), every queue used when
 * there are enough workers, and lanes spread over a worker's queues.
 */
static int
test_sched_txq_sets_are_disjoint_unless_shared(void)
{
	/* One worker, 2 queues: rx lane i -> tx queue i (as testpmd io). */
	TEST_ASSERT_EQUAL(vs_sched_txq_mask(0, 2, 1), 0x3u, "one worker owns both");
	TEST_ASSERT(vs_sched_txq_of_lane(0x3, 0) == 0 && vs_sched_txq_of_lane(0x3, 1) == 1,
		    "lane i on queue i");
	TEST_ASSERT_EQUAL(vs_sched_txq_of_lane(0x3, 2), 0, "then round robin");
	/* 2 workers, 4 queues: {0, 2} and {1, 3}; each worker's lanes 0, 1 differ. */
	TEST_ASSERT(vs_sched_txq_mask(0, 4, 2) == 0x5 && vs_sched_txq_mask(1, 4, 2) == 0xa,
		    "interleaved halves");
	TEST_ASSERT(vs_sched_txq_of_lane(0xa, 0) == 1 && vs_sched_txq_of_lane(0xa, 1) == 3,
		    "worker 1's lanes");
	for (unsigned int nw = 1; nw <= 16; nw++) {
		for (uint16_t nq = 1; nq <= 8; nq++) {
			uint32_t all = 0;

			for (unsigned int w = 0; w < nw; w++) {
				uint32_t m = vs_sched_txq_mask(w, nq, nw), others = 0;
				bool shared = vs_sched_txq_shared(w, nq, nw);

				TEST_ASSERT(m != 0 && m < (1u << nq), "w %u of %u, %u queues: %#x",
					    w, nw, nq, m);
				for (unsigned int x = 0; x < nw; x++)
					if (x != w)
						others |= vs_sched_txq_mask(x, nq, nw);
				TEST_ASSERT_EQUAL((m & others) != 0, shared,
						  "w %u of %u, %u queues: overlap iff shared", w,
						  nw, nq);
				TEST_ASSERT(!shared || __builtin_popcount(m) == 1,
					    "a shared worker has one queue");
				TEST_ASSERT_EQUAL(vs_sched_txq(w, nq), (uint16_t)__builtin_ctz(m),
						  "its first queue");
				for (unsigned int l = 0; l < 8; l++) {
					uint16_t q = vs_sched_txq_of_lane(m, l);

					TEST_ASSERT(m & (1u << q), "lane %u in the set", l);
					/* Lanes below the set's size get distinct queues. */
					for (unsigned int k = 0; k < l; k++)
						TEST_ASSERT(
							l >= (unsigned int)__builtin_popcount(m) ||
								vs_sched_txq_of_lane(m, k) != q,
							"lanes %u and %u", k, l);
				}
				all |= m;
			}
			TEST_ASSERT_EQUAL(all, (1u << nq) - 1, "%u workers, %u queues: all used",
					  nw, nq);
		}
	}
	return TEST_SUCCESS;
}
REGISTER_TEST(sched_txq_sets_are_disjoint_unless_shared, fast,
	      test_sched_txq_sets_are_disjoint_unless_shared)
