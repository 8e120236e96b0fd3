/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Perf autotests (suite perf, not in CI): cycles per packet of the FDB and
 * of the worker's forwarding path. Figures on a shared CPU are indicative.
 *
 *   perf_fdb_cycles             lookup (bulk of 32, all hits) and learn
 *                               (refresh, and new entries) at 1k/64k/1M entries
 *   perf_forwarding_cycles      the worker's busy cycles per packet for learned
 *                               unicast between ring ports, FDB at 1k/64k/1M
 *   perf_flood_cycles           cycles per packet flooded to 1, 2, 4, 8 ports,
 *                               and the cost per extra destination
 *   perf_burst_tx_cycles        a burst to a destination that takes it all,
 *                               and one whose queue stays full (retries, drops)
 */
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "test.h"
#include "test_eal.h"
#include "vs_fdb.h"
#include "vt_switch.h"

static const unsigned int sizes[] = {1024, 65536, 1u << 20};

static uint64_t
key_of(uint32_t i)
{
	uint8_t mac[6] = {
		0x02, 0x42, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};

	return vs_fdb_key(mac, 1);
}

static int
test_perf_fdb_cycles(void)
{
	char why[256];

	if (vt_eal_init("switch", why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	for (size_t s = 0; s < RTE_DIM(sizes); s++) {
		unsigned int n = sizes[s], rounds = 2000000 / 32;
		struct vs_fdb_counters c = {0};
		uint64_t keys[32], t0, t_learn, t_look = 0, t_refresh;
		uint16_t ports[32];
		struct vs_fdb *fdb;
		char name[16];
		uint32_t *order;

		snprintf(name, sizeof(name), "perf%u", n);
		fdb = vs_fdb_create(name, n, NULL, SOCKET_ID_ANY);
		if (fdb == NULL)
			TEST_SKIP("no memory for an FDB of %u entries", n);
		t0 = rte_rdtsc_precise();
		for (unsigned int i = 0; i < n; i++)
			vs_fdb_learn(fdb, key_of(i), (uint16_t)(i & 7), &c);
		t_learn = rte_rdtsc_precise() - t0;
		TEST_ASSERT_EQUAL(vs_fdb_count(fdb), n, "all learned");
		order = malloc(sizeof(*order) * rounds * 32);
		TEST_ASSERT_NOT_NULL(order, "memory");
		for (unsigned int i = 0; i < rounds * 32; i++)
			order[i] = (uint32_t)(rte_rand() % n);
		for (unsigned int r = 0; r < rounds; r++) {
			for (int k = 0; k < 32; k++)
				keys[k] = key_of(order[r * 32 + k]);
			t0 = rte_rdtsc();
			vs_fdb_lookup_bulk(fdb, keys, 32, ports);
			t_look += rte_rdtsc() - t0;
			for (int k = 0; k < 32; k++)
				TEST_ASSERT(ports[k] == (order[r * 32 + k] & 7), "hit");
		}
		t0 = rte_rdtsc_precise();
		for (unsigned int r = 0; r < rounds * 32; r++)
			vs_fdb_learn(fdb, key_of(order[r]), (uint16_t)(order[r] & 7), &c);
		t_refresh = rte_rdtsc_precise() - t0;
		printf("fdb %8u entries: lookup %6.1f cycles/key (bulk 32), refresh %6.1f "
		       "cycles/learn, new entry %7.1f cycles\n",
		       n, (double)t_look / (rounds * 32), (double)t_refresh / (rounds * 32),
		       (double)t_learn / n);
		free(order);
		vs_fdb_free(fdb);
	}
	return TEST_SUCCESS;
}
REGISTER_TEST(perf_fdb_cycles, perf, test_perf_fdb_cycles)

/* Moves everything port @p from sent back to port @p to's rx ring. */
static void
recycle(struct vt_sw *t, unsigned int from, unsigned int to)
{
	struct rte_mbuf *m[64];
	unsigned int n;

	while ((n = rte_ring_dequeue_burst(t->out[from], (void **)m, 64, NULL)) > 0)
		rte_ring_enqueue_burst(t->in[to], (void **)m, n, NULL);
}

static double
busy_per_packet(struct vt_sw *t, uint64_t *b0, uint64_t *p0)
{
	struct vs_switch_lcore_view l;
	double r;

	vs_switch_lcore_view(t->sw, 0, &l);
	r = (double)(l.busy_cycles - *b0) / (double)(l.rx_packets - *p0);
	*b0 = l.busy_cycles;
	*p0 = l.rx_packets;
	return r;
}

static int
test_perf_forwarding_cycles(void)
{
	static const uint8_t a[6] = {0x02, 0, 0, 0, 0, 0xa}, b[6] = {0x02, 0, 0, 0, 0, 0xb};
	struct vs_fdb_counters c = {0};

	for (size_t s = 0; s < RTE_DIM(sizes); s++) {
		uint64_t b0 = 0, p0 = 0;
		struct vt_sw t;
		char why[256];

		if (vt_sw_init(&t, 1, sizes[s], why, sizeof(why)) != 0) {
			if (!vt_eal_ready())
				TEST_SKIP("%s", why);
			TEST_SKIP("engine with an FDB of %u: %s", sizes[s], why);
		}
		TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p0");
		TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p1");
		/* Fill the table so lookups run against a full one. */
		for (unsigned int i = 0; i + 2 < sizes[s]; i++)
			vs_fdb_learn(vs_switch_fdb(t.sw), key_of(i), 0, &c);
		TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, a, b, 0, 1), "b on p1");
		vt_sw_run(&t);
		vt_sw_drain(&t);
		TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, b, a, 0, 512), "512 frames a -> b");
		busy_per_packet(&t, &b0, &p0);
		for (int r = 0; r < 20000; r++) {
			vs_switch_poll(t.sw, 0);
			recycle(&t, 1, 0);
		}
		printf("forwarding, FDB of %8u: %6.1f busy cycles/packet (unicast, learning on, "
		       "ring ports, 64 B)\n",
		       sizes[s], busy_per_packet(&t, &b0, &p0));
		TEST_ASSERT_EQUAL(vt_sw_drain(&t) + rte_ring_count(t.in[0]), 512, "no frame lost");
		vt_sw_fini(&t);
	}
	return TEST_SUCCESS;
}
REGISTER_TEST(perf_forwarding_cycles, perf, test_perf_forwarding_cycles)

static int
test_perf_flood_cycles(void)
{
	static const uint8_t a[6] = {0x02, 0, 0, 0, 0, 0xa};
	static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const unsigned int dests[] = {1, 2, 4, 8};
	double first = 0, last = 0;

	for (size_t d = 0; d < RTE_DIM(dests); d++) {
		uint64_t b0 = 0, p0 = 0;
		struct rte_mbuf *m[64];
		struct vt_sw t;
		char why[256];
		double cpp;

		if (vt_sw_init(&t, 1, 1024, why, sizeof(why)) != 0)
			TEST_SKIP("%s", why);
		for (unsigned int i = 0; i <= dests[d]; i++)
			TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "port");
		TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bc, a, 0, 256), "broadcast");
		busy_per_packet(&t, &b0, &p0);
		for (int r = 0; r < 5000; r++) {
			unsigned int n;

			vs_switch_poll(t.sw, 0);
			/* Port 1's copies go round again; the others' are freed. */
			recycle(&t, 1, 0);
			for (unsigned int i = 2; i <= dests[d]; i++)
				while ((n = rte_ring_dequeue_burst(t.out[i], (void **)m, 64,
								   NULL)) > 0)
					rte_pktmbuf_free_bulk(m, n);
		}
		cpp = busy_per_packet(&t, &b0, &p0);
		printf("flood to %u port(s): %6.1f busy cycles/packet\n", dests[d], cpp);
		if (d == 0)
			first = cpp;
		last = cpp;
		vt_sw_fini(&t);
	}
	printf("flood: %.1f cycles per extra destination\n",
	       (last - first) / (dests[RTE_DIM(dests) - 1] - dests[0]));
	return TEST_SUCCESS;
}
REGISTER_TEST(perf_flood_cycles, perf, test_perf_flood_cycles)

static int
test_perf_burst_tx_cycles(void)
{
	static const uint8_t a[6] = {0x02, 0, 0, 0, 0, 0xa}, b[6] = {0x02, 0, 0, 0, 0, 0xb};
	struct vs_switch_port_view v;
	uint64_t b0 = 0, p0 = 0, dropped;
	struct vt_sw t;
	char why[256];

	if (vt_sw_init(&t, 1, 1024, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p0");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 64), "p1: 63 slots");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, a, b, 0, 1), "b on p1");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, b, a, 0, 32), "a burst");
	busy_per_packet(&t, &b0, &p0);
	for (int r = 0; r < 20000; r++) {
		vs_switch_poll(t.sw, 0);
		recycle(&t, 1, 0);
	}
	printf("burst tx, room for all: %6.1f busy cycles/packet\n", busy_per_packet(&t, &b0, &p0));
	/* Fill p1's ring: every burst now retries (2 retries) and is dropped. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, b, a, 0, 63), "fill");
	vt_sw_run(&t);
	vs_switch_port_view(t.sw, (uint16_t)t.port_id[1], &v);
	dropped = v.counters.tx_dropped;
	busy_per_packet(&t, &b0, &p0);
	for (int r = 0; r < 2000; r++) {
		TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, b, a, 0, 32), "a burst");
		vs_switch_poll(t.sw, 0);
	}
	printf("burst tx, queue full:  %6.1f busy cycles/packet (retries, then counted drops)\n",
	       busy_per_packet(&t, &b0, &p0));
	vs_switch_port_view(t.sw, (uint16_t)t.port_id[1], &v);
	TEST_ASSERT_EQUAL(v.counters.tx_dropped - dropped, 2000 * 32, "every one counted");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(perf_burst_tx_cycles, perf, test_perf_burst_tx_cycles)
