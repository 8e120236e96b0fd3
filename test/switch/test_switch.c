/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine in manual mode over ring-backed ethdev ports: learning,
 * unicast, flooding within a VLAN, access/trunk tagging, never back to the
 * ingress port, moves, aging, tx drops, port removal, queue assignment.
 */
#include <rte_ether.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vs_fdb.h"
#include "vt_switch.h"

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0x0c};
static const uint8_t mac_x[6] = {0x02, 0, 0, 0, 0, 0x99}; /* never sends */
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

/* Checks the frames pending on port i: count, and each one's VLAN tag. */
static int
expect(struct vt_sw *t, unsigned int i, unsigned int count, int vid, const char *what)
{
	struct rte_mbuf *m;
	unsigned int n = 0;

	while (vt_sw_take(t, i, &m) == 0) {
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		bool tagged = p[12] == 0x81 && p[13] == 0x00;
		int got = tagged ? ((p[14] & 0x0f) << 8 | p[15]) : 0;
		size_t inner = tagged ? 16 : 12;
		uint32_t len = rte_pktmbuf_pkt_len(m);

		bool intact = len >= inner + 2 && p[inner] == 0x88 && p[inner + 1] == 0xb5;

		rte_pktmbuf_free(m);
		n++;
		if (got != vid) {
			printf("FAIL: %s: port %u got VLAN %d, want %d\n", what, i, got, vid);
			return TEST_FAILED;
		}
		if (!intact) {
			printf("FAIL: %s: port %u: a mangled frame of %u bytes\n", what, i, len);
			return TEST_FAILED;
		}
	}
	if (n != count) {
		printf("FAIL: %s: port %u got %u frames, want %u\n", what, i, n, count);
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

static int
test_switch_unicast_reaches_only_the_learned_port(void)
{
	struct vt_sw t;
	struct vs_switch_port_counters c;

	VT_SW_SETUP(&t, 1);
	for (int i = 0; i < 3; i++)
		TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "port %d", i);
	/* A to B, B unknown: flooded to p1 and p2, not back to p0. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 5), "send");
	TEST_ASSERT_EQUAL(vt_sw_run(&t), 5, "moved");
	TEST_RUN(expect(&t, 0, 0, 0, "unknown unicast, ingress"));
	TEST_RUN(expect(&t, 1, 5, 0, "unknown unicast"));
	TEST_RUN(expect(&t, 2, 5, 0, "unknown unicast"));
	/* B answers A: A was learned on p0, so only p0 gets it. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, mac_a, mac_b, 0, 7), "send");
	vt_sw_run(&t);
	TEST_RUN(expect(&t, 0, 7, 0, "learned unicast"));
	TEST_RUN(expect(&t, 1, 0, 0, "learned unicast"));
	TEST_RUN(expect(&t, 2, 0, 0, "learned unicast"));
	/* And now A to B goes to p1 only. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 3), "send");
	vt_sw_run(&t);
	TEST_RUN(expect(&t, 1, 3, 0, "learned unicast"));
	TEST_RUN(expect(&t, 2, 0, 0, "learned unicast"));
	c = vt_sw_counters(&t, 0);
	TEST_ASSERT(c.rx_packets == 8 && c.tx_packets == 7 && c.flooded == 5 &&
			    c.rx_bytes == 8 * 64,
		    "p0 rx %" PRIu64 " tx %" PRIu64 " flooded %" PRIu64 " bytes %" PRIu64,
		    c.rx_packets, c.tx_packets, c.flooded, c.rx_bytes);
	c = vt_sw_counters(&t, 2);
	TEST_ASSERT(c.rx_packets == 0 && c.tx_packets == 5 && c.tx_bytes == 5 * 64,
		    "p2 rx %" PRIu64 " tx %" PRIu64, c.rx_packets, c.tx_packets);
	TEST_ASSERT_EQUAL(vs_fdb_count(vs_switch_fdb(t.sw)), 2, "A and B learned");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_unicast_reaches_only_the_learned_port, fast, test_switch_unicast_reaches_only_the_learned_port)
/* clang-format on */

static int
test_switch_floods_within_the_vlan_only(void)
{
	struct vt_sw t;

	VT_SW_SETUP(&t, 2);
	/* p0, p1 in VLAN 10; p2, p3 in VLAN 20; p4 trunk of both. */
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=10", 0), "p0");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=10", 0), "p1");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=20", 0), "p2");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=20", 0), "p3");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "trunk=10:20", 0), "p4");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 4), "broadcast from p0");
	vt_sw_run(&t);
	TEST_RUN(expect(&t, 0, 0, 0, "broadcast VLAN 10"));
	TEST_RUN(expect(&t, 1, 4, 0, "broadcast VLAN 10"));
	TEST_RUN(expect(&t, 2, 0, 0, "broadcast VLAN 10"));
	TEST_RUN(expect(&t, 3, 0, 0, "broadcast VLAN 10"));
	TEST_RUN(expect(&t, 4, 4, 10, "broadcast VLAN 10, tagged on the trunk"));
	/* Multicast and unknown unicast tagged 20 from the trunk: p2 and p3, untagged. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 4, mcast, mac_b, 20, 3), "multicast from p4");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 4, mac_x, mac_b, 20, 2), "unknown from p4");
	vt_sw_run(&t);
	TEST_RUN(expect(&t, 0, 0, 0, "VLAN 20"));
	TEST_RUN(expect(&t, 1, 0, 0, "VLAN 20"));
	TEST_RUN(expect(&t, 2, 5, 0, "VLAN 20 untagged on access"));
	TEST_RUN(expect(&t, 3, 5, 0, "VLAN 20 untagged on access"));
	TEST_RUN(expect(&t, 4, 0, 0, "not back to the trunk"));
	/* The trunk does not carry VLAN 30; access ports send no tagged frames. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 4, bcast, mac_b, 30, 2), "VLAN 30");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 4, bcast, mac_b, 0, 1), "untagged on a trunk");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 10, 1), "tagged on access");
	vt_sw_run(&t);
	for (unsigned int i = 0; i < 5; i++)
		TEST_RUN(expect(&t, i, 0, 0, "filtered"));
	TEST_ASSERT_EQUAL(vt_sw_counters(&t, 4).rx_dropped, 3, "trunk drops");
	TEST_ASSERT_EQUAL(vt_sw_counters(&t, 0).rx_dropped, 1, "access drop");
	/* A priority tag (VID 0) on an access port is accepted and removed. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 2, bcast, mac_c, 0, 1), "plain");
	{
		struct rte_mbuf *m = vt_frame(vs_switch_mempool(t.sw), bcast, mac_c, 0, 64, 0);
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

		/* Rewrite as a priority-tagged frame: 8100, PCP 5, VID 0. */
		memmove(p + 16, p + 12, 48);
		p[12] = 0x81;
		p[13] = 0x00;
		p[14] = 0xa0;
		p[15] = 0x00;
		TEST_ASSERT_EQUAL(rte_ring_enqueue(t.in[2], m), 0, "inject");
	}
	vt_sw_run(&t);
	TEST_RUN(expect(&t, 3, 2, 0, "priority-tagged frame untagged"));
	TEST_RUN(expect(&t, 4, 2, 20, "and tagged 20 on the trunk"));
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_floods_within_the_vlan_only, fast, test_switch_floods_within_the_vlan_only)

static int
test_switch_retags_unicast_between_access_and_trunk(void)
{
	struct vt_sw t;
	struct rte_mbuf *m;

	VT_SW_SETUP(&t, 1);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=7", 0), "p0 access 7");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "trunk=7:8", 0), "p1 trunk");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=8", 0), "p2 access 8");
	/* Learn B on the trunk in VLAN 7, A on p0. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, bcast, mac_b, 7, 1), "B");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 1), "A");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	/* A -> B: tagged 7 on the trunk, payload intact. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 1), "A to B");
	vt_sw_run(&t);
	TEST_ASSERT_EQUAL(vt_sw_pending(&t, 2), 0, "VLAN 8 sees nothing");
	TEST_ASSERT_SUCCESS(vt_sw_take(&t, 1, &m), "B got it");
	{
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		struct rte_mbuf *ref = vt_frame(vs_switch_mempool(t.sw), mac_b, mac_a, 7, 68, 0);
		const uint8_t *r = rte_pktmbuf_mtod(ref, const uint8_t *);

		TEST_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 68, "4 bytes longer");
		TEST_ASSERT(memcmp(p, r, 18) == 0, "header with tag 7");
		/* The payload moved 4 bytes, unchanged: seed + offset in the original. */
		for (int i = 18; i < 68; i++)
			TEST_ASSERT_EQUAL(p[i], (uint8_t)(i - 4), "payload byte %d", i);
		rte_pktmbuf_free(ref);
		rte_pktmbuf_free(m);
	}
	/* B -> A: untagged on p0. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, mac_a, mac_b, 7, 1), "B to A");
	vt_sw_run(&t);
	TEST_RUN(expect(&t, 0, 1, 0, "untagged on access"));
	TEST_ASSERT_EQUAL(vt_sw_pending(&t, 2), 0, "VLAN 8 sees nothing");
	/* B is unknown in VLAN 8: A's MAC in VLAN 8 is another station. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 2, mac_a, mac_c, 0, 1), "C to A in VLAN 8");
	vt_sw_run(&t);
	TEST_RUN(expect(&t, 0, 0, 0, "VLAN 7's A does not get VLAN 8 frames"));
	TEST_RUN(expect(&t, 1, 1, 8, "flooded tagged 8"));
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_retags_unicast_between_access_and_trunk, fast, test_switch_retags_unicast_between_access_and_trunk)
/* clang-format on */

static int
test_switch_never_sends_back_and_follows_moves(void)
{
	struct vt_sw t;

	VT_SW_SETUP(&t, 1);
	for (int i = 0; i < 3; i++)
		TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "port %d", i);
	/* A and B both on p0 (a bridge behind it): A -> B stays off the wire. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_b, 0, 1), "B on p0");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 4), "A to B, same port");
	vt_sw_run(&t);
	for (int i = 0; i < 3; i++)
		TEST_RUN(expect(&t, (unsigned int)i, 0, 0, "hairpin"));
	TEST_ASSERT_EQUAL(vt_sw_counters(&t, 0).rx_dropped, 4, "counted as filtered");
	/* B moves to p2. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 2, bcast, mac_b, 0, 1), "B on p2 now");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 3), "A to B");
	vt_sw_run(&t);
	TEST_RUN(expect(&t, 2, 3, 0, "followed the move"));
	TEST_RUN(expect(&t, 1, 0, 0, "nobody else"));
	{
		struct vs_switch_fdb_view f;

		vs_switch_fdb_view(t.sw, &f);
		TEST_ASSERT_EQUAL(f.moved, 1, "one move");
		TEST_ASSERT_EQUAL(f.count, 2, "A and B");
	}
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_never_sends_back_and_follows_moves, fast, test_switch_never_sends_back_and_follows_moves)
/* clang-format on */

static int
test_switch_ages_and_flushes_stations(void)
{
	struct vt_sw t;

	VT_SW_SETUP(&t, 1);
	for (int i = 0; i < 3; i++)
		TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "port %d", i);
	vs_switch_fdb_tick(t.sw, 1000);
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, bcast, mac_b, 0, 1), "B on p1");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_EQUAL(vs_switch_fdb_tick(t.sw, 1009), 0, "9 s: still there (aging 10 s)");
	TEST_ASSERT_EQUAL(vs_switch_fdb_tick(t.sw, 1010), 1, "10 s: aged out");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 2), "A to B");
	vt_sw_run(&t);
	TEST_RUN(expect(&t, 1, 2, 0, "flooded again"));
	TEST_RUN(expect(&t, 2, 2, 0, "flooded again"));
	TEST_ASSERT_EQUAL(vs_switch_fdb_flush(t.sw), 1, "A");
	{
		struct vs_switch_fdb_view f;

		vs_switch_fdb_view(t.sw, &f);
		TEST_ASSERT(f.aged == 1 && f.flushed == 1 && f.count == 0,
			    "aged %" PRIu64 " flushed %" PRIu64 " count %u", f.aged, f.flushed,
			    f.count);
	}
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_ages_and_flushes_stations, fast, test_switch_ages_and_flushes_stations)

static int
test_switch_counts_drops_when_a_queue_stays_full(void)
{
	struct vt_sw t;
	struct vs_switch_port_counters c;

	VT_SW_SETUP(&t, 1);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p0");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 16), "p1: 15 slots");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, bcast, mac_b, 0, 1), "B on p1");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 40), "40 to B");
	vt_sw_run(&t);
	c = vt_sw_counters(&t, 1);
	TEST_ASSERT_EQUAL(vt_sw_pending(&t, 1), 15, "the ring holds 15");
	TEST_ASSERT_EQUAL(c.tx_packets, 15, "sent");
	TEST_ASSERT_EQUAL(c.tx_dropped, 25, "dropped after bounded retries");
	TEST_ASSERT_EQUAL(c.tx_bytes, 15 * 64, "bytes of the sent ones");
	vt_sw_drain(&t);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vs_switch_mempool(t.sw)), 0,
			  "the dropped mbufs were freed");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_counts_drops_when_a_queue_stays_full, fast, test_switch_counts_drops_when_a_queue_stays_full)
/* clang-format on */

static int
test_switch_del_port_forgets_its_stations(void)
{
	struct vt_sw t;
	struct vs_switch_port_view v;
	char err[128];
	int p1;

	VT_SW_SETUP(&t, 1);
	for (int i = 0; i < 3; i++)
		TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "port %d", i);
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, bcast, mac_b, 0, 1), "B on p1");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 1), "A on p0");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_EQUAL(vs_fdb_count(vs_switch_fdb(t.sw)), 2, "A and B");
	p1 = t.port_id[1];
	TEST_ASSERT_EQUAL(vs_switch_del_port(t.sw, "nosuch", err, sizeof(err)), -ENOENT, "unknown");
	TEST_ASSERT(strstr(err, "no port named 'nosuch'") != NULL, "%s", err);
	TEST_ASSERT_SUCCESS(vs_switch_del_port(t.sw, "p1", err, sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(vs_switch_port_find(t.sw, "p1"), -ENOENT, "gone");
	TEST_ASSERT_EQUAL(vs_switch_port_view(t.sw, (uint16_t)p1, &v), -ENOENT, "no view");
	TEST_ASSERT_EQUAL(vs_fdb_count(vs_switch_fdb(t.sw)), 1, "B forgotten, A kept");
	/* Traffic to B now floods to the ports left; p1's ring gets nothing. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 3), "A to B");
	vt_sw_run(&t);
	TEST_ASSERT_EQUAL(vt_sw_pending(&t, 1), 0, "removed port untouched");
	TEST_RUN(expect(&t, 2, 3, 0, "flooded"));
	/* Its id is reused with fresh counters. */
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p3");
	TEST_ASSERT_EQUAL(t.port_id[3], p1, "id reused");
	TEST_ASSERT_SUCCESS(vs_switch_port_view(t.sw, (uint16_t)p1, &v), "view");
	TEST_ASSERT(strcmp(v.name, "p3") == 0, "name %s", v.name);
	TEST_ASSERT(v.counters.rx_packets == 0 && v.counters.tx_packets == 0, "fresh counters");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_del_port_forgets_its_stations, fast, test_switch_del_port_forgets_its_stations)

/* Takes every rte_malloc block it can get, largest first; returns how many. */
static unsigned int
hog_heap(void **blocks, unsigned int max)
{
	unsigned int n = 0;

	for (size_t size = 64u << 20; size >= 64 && n < max; size /= 2)
		while (n < max && (blocks[n] = rte_malloc("hog", size, 0)) != NULL)
			n++;
	return n;
}

/*
 * Issue 14 item 1: when the snapshot without the port cannot be built, the
 * live one still lists it; the port must stay (and keep working), not be
 * freed under the workers.
 */
static int
test_switch_del_port_keeps_the_port_when_out_of_memory(void)
{
	static void *hog[4096];
	struct vt_sw t;
	char err[128];
	unsigned int n;
	int rc;

	VT_SW_SETUP(&t, 1);
	for (int i = 0; i < 2; i++)
		TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "port %d", i);
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, bcast, mac_b, 0, 1), "B on p1");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	n = hog_heap(hog, RTE_DIM(hog));
	TEST_ASSERT(n < RTE_DIM(hog), "the heap did not run out");
	err[0] = '\0';
	rc = vs_switch_del_port(t.sw, "p1", err, sizeof(err));
	for (unsigned int i = 0; i < n; i++)
		rte_free(hog[i]);
	TEST_ASSERT_EQUAL(rc, -ENOMEM, "del-port without memory: %d (%s)", rc, err);
	TEST_ASSERT(strstr(err, "p1") != NULL, "reason: %s", err);
	TEST_ASSERT_EQUAL(vs_switch_port_find(t.sw, "p1"), t.port_id[1], "p1 kept");
	/* It still forwards (a freed port would be used here). */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 3), "A to B");
	vt_sw_run(&t);
	TEST_RUN(expect(&t, 1, 3, 0, "to the kept port"));
	TEST_ASSERT_SUCCESS(vs_switch_del_port(t.sw, "p1", err, sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(vs_switch_port_find(t.sw, "p1"), -ENOENT, "gone with memory back");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_del_port_keeps_the_port_when_out_of_memory, fast,
	      test_switch_del_port_keeps_the_port_when_out_of_memory)

static int
test_switch_add_port_rejects_bad_specs(void)
{
	static const struct {
		const char *spec, *why;
	} bad[] = {
		{"testq,name=a b", "must be 1 to 31 characters"},
		{"testq,name=a/b", "must be 1 to 31 characters of [A-Za-z0-9_.-]"},
		{"testq,name=this-name-is-far-too-long-for-a-port", "1 to 31 characters"},
		{"testq,name=t0", "exists already"},
		{"testq,vlan=0", "key 'vlan'"},
		{"testq,vlan=5,trunk=6", "not both"},
		{"testq,queues=99", "key 'queues'"},
		{"testq,colour=blue", "unknown key 'colour'"},
		{"vhost-user,path=/tmp/x", "not available in this build"},
		{"nosuch,x=1", "unknown port type 'nosuch'"},
		{"", "empty port type"},
	};
	struct vt_sw t;
	char err[256];

	VT_SW_SETUP(&t, 1);
	TEST_ASSERT(vs_switch_add_port(t.sw, "testq,name=t0", err, sizeof(err)) >= 0, "%s", err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (strncmp(bad[i].spec, "vhost-user", 10) == 0 && vs_port_type_find("vhost-user"))
			continue;
		TEST_ASSERT(vs_switch_add_port(t.sw, bad[i].spec, err, sizeof(err)) < 0, "'%s'",
			    bad[i].spec);
		TEST_ASSERT(strstr(err, bad[i].why) != NULL, "'%s': '%s' lacks '%s'", bad[i].spec,
			    err, bad[i].why);
	}
	TEST_ASSERT(vs_switch_add_port(t.sw, "testq", err, sizeof(err)) >= 0, "%s", err);
	TEST_ASSERT(vs_switch_port_find(t.sw, "testq0") >= 0, "default name TYPE0");
	TEST_ASSERT(vs_switch_add_port(t.sw, "testq", err, sizeof(err)) >= 0, "%s", err);
	TEST_ASSERT(vs_switch_port_find(t.sw, "testq1") >= 0, "then TYPE1");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_add_port_rejects_bad_specs, fast, test_switch_add_port_rejects_bad_specs)

/* Every usable rx queue of every port is polled by exactly one worker. */
static int
check_polls(struct vs_switch *sw, unsigned int *per_worker, unsigned int *total)
{
	unsigned int seen[VS_SWITCH_MAX_PORTS][VS_PORT_MAX_QUEUES] = {{0}};

	*total = 0;
	for (unsigned int w = 0; w < vs_switch_nb_workers(sw); w++) {
		struct vs_switch_lcore_view l;

		TEST_ASSERT_SUCCESS(vs_switch_lcore_view(sw, w, &l), "view");
		per_worker[w] = l.nb_polls;
		*total += l.nb_polls;
		for (unsigned int i = 0; i < l.nb_polls; i++)
			seen[l.polls[i].port][l.polls[i].queue]++;
	}
	for (int p = vs_switch_port_next(sw, -1); p >= 0; p = vs_switch_port_next(sw, p)) {
		struct vs_switch_port_view v;

		TEST_ASSERT_SUCCESS(vs_switch_port_view(sw, (uint16_t)p, &v), "view");
		for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++) {
			bool usable = q < v.info.nb_rxq;

			TEST_ASSERT_EQUAL(seen[p][q], usable ? 1 : 0, "port %s queue %u", v.name,
					  q);
			TEST_ASSERT((v.rxq_worker[q] >= 0) == usable, "rxq_worker of %s/%u", v.name,
				    q);
		}
	}
	return TEST_SUCCESS;
}

static bool
is_balanced(const unsigned int *load, unsigned int nw)
{
	unsigned int lo = load[0], hi = load[0];

	for (unsigned int w = 1; w < nw; w++) {
		lo = load[w] < lo ? load[w] : lo;
		hi = load[w] > hi ? load[w] : hi;
	}
	return hi - lo <= 1;
}

static int
test_switch_assigns_queues_balanced_and_follows_changes(void)
{
	unsigned int load[3], total;
	struct vs_port *t0, *t1;
	struct vt_sw t;
	char err[256];

	VT_SW_SETUP(&t, 3);
	TEST_ASSERT(vs_switch_add_port(t.sw, "testq,name=t0,queues=4", err, sizeof(err)) >= 0, "%s",
		    err);
	TEST_ASSERT(vs_switch_add_port(t.sw, "testq,name=t1,queues=2", err, sizeof(err)) >= 0, "%s",
		    err);
	t0 = vt_testq_find("t0");
	t1 = vt_testq_find("t1");
	TEST_ASSERT(t0 != NULL && t1 != NULL, "the testq driver knows t0 and t1");
	TEST_RUN(check_polls(t.sw, load, &total));
	TEST_ASSERT(total == 6 && is_balanced(load, 3), "6 over 3: %u %u %u", load[0], load[1],
		    load[2]);
	/* The driver says t0 now has one queue: the engine re-reads it on its loop. */
	vt_testq_set_queues(t0, 1);
	vs_evloop_run_once(t.loop, 100);
	TEST_RUN(check_polls(t.sw, load, &total));
	TEST_ASSERT(total == 3 && is_balanced(load, 3), "3 over 3: %u %u %u", load[0], load[1],
		    load[2]);
	vt_testq_set_queues(t0, 4);
	vt_testq_set_queues(t1, 0); /* both changes, one rebuild */
	TEST_ASSERT_EQUAL(vs_evloop_run_once(t.loop, 100), 1, "one deferred rebuild");
	TEST_RUN(check_polls(t.sw, load, &total));
	TEST_ASSERT(total == 4 && is_balanced(load, 3), "4: %u %u %u", load[0], load[1], load[2]);
	TEST_ASSERT(vs_switch_add_port(t.sw, "testq,name=t2,queues=8", err, sizeof(err)) >= 0, "%s",
		    err);
	TEST_RUN(check_polls(t.sw, load, &total));
	TEST_ASSERT(total == 12 && is_balanced(load, 3), "12: %u %u %u", load[0], load[1], load[2]);
	TEST_ASSERT_SUCCESS(vs_switch_del_port(t.sw, "t0", err, sizeof(err)), "%s", err);
	TEST_RUN(check_polls(t.sw, load, &total));
	TEST_ASSERT(total == 8 && is_balanced(load, 3), "8: %u %u %u", load[0], load[1], load[2]);
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_assigns_queues_balanced_and_follows_changes, fast, test_switch_assigns_queues_balanced_and_follows_changes)
/* clang-format on */

static int
test_switch_counts_busy_and_idle_iterations(void)
{
	struct vs_switch_lcore_view l;
	struct vt_sw t;

	VT_SW_SETUP(&t, 1);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p0");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p1");
	for (int i = 0; i < 10; i++)
		TEST_ASSERT_EQUAL(vs_switch_poll(t.sw, 0), 0, "idle poll");
	TEST_ASSERT_SUCCESS(vs_switch_lcore_view(t.sw, 0, &l), "view");
	TEST_ASSERT(l.iterations == 10 && l.busy_iterations == 0 && l.busy_cycles == 0 &&
			    l.idle_cycles > 0,
		    "idle only: it %" PRIu64 " busy %" PRIu64, l.iterations, l.busy_cycles);
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 40), "40 frames");
	TEST_ASSERT_EQUAL(vs_switch_poll(t.sw, 0), 32, "a full burst");
	TEST_ASSERT_EQUAL(vs_switch_poll(t.sw, 0), 8, "the rest");
	TEST_ASSERT_EQUAL(vs_switch_poll(t.sw, 0), 0, "idle again");
	TEST_ASSERT_SUCCESS(vs_switch_lcore_view(t.sw, 0, &l), "view");
	TEST_ASSERT(l.iterations == 13 && l.busy_iterations == 2 && l.busy_cycles > 0 &&
			    l.rx_packets == 40,
		    "it %" PRIu64 " busy it %" PRIu64 " rx %" PRIu64, l.iterations,
		    l.busy_iterations, l.rx_packets);
	TEST_ASSERT(l.tsc_hz > 0, "tsc hz");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_counts_busy_and_idle_iterations, fast, test_switch_counts_busy_and_idle_iterations)
/* clang-format on */

/*
 * Real workers on two lcores forward broadcast traffic between testq ports
 * while the control thread keeps changing one port's queue count and adding
 * and removing another. No queue is ever used by two workers at once, and
 * the stable ports lose nothing.
 */
static int
test_switch_reassigns_queues_without_sharing_or_loss(void)
{
	struct vt_testq_stats s0, s1, s2;
	struct vs_port *t0, *t1, *t2;
	struct vs_switch *sw;
	struct vs_evloop *loop;
	unsigned int load[VS_SWITCH_MAX_WORKERS], total, rounds = 0;
	char err[256], why[256];
	bool skip;
	int id0, id1;
	uint64_t end;

	sw = vt_sw_live("live", &loop, &skip, why, sizeof(why));
	if (sw == NULL && skip)
		TEST_SKIP("%s", why);
	TEST_ASSERT_NOT_NULL(sw, "%s", why);
	TEST_ASSERT_EQUAL(vs_switch_nb_workers(sw), 2, "two workers");
	id0 = vs_switch_add_port(sw, "testq,name=t0,queues=2,gen=2", err, sizeof(err));
	id1 = vs_switch_add_port(sw, "testq,name=t1,queues=2,gen=2", err, sizeof(err));
	TEST_ASSERT(id0 >= 0 && id1 >= 0, "%s", err);
	TEST_ASSERT(vs_switch_add_port(sw, "testq,name=t2,queues=4,gen=1", err, sizeof(err)) >= 0,
		    "%s", err);
	t0 = vt_testq_find("t0");
	t1 = vt_testq_find("t1");
	t2 = vt_testq_find("t2");
	TEST_ASSERT(t0 != NULL && t1 != NULL && t2 != NULL, "the testq driver knows its ports");
	TEST_ASSERT_SUCCESS(vs_switch_start(sw), "start");
	/* A fixed number of changes; the deadline only bounds a hang. */
	end = vt_now_ms() + 30000;
	while (rounds < 30 && vt_now_ms() < end) {
		char spec[64];

		vt_testq_set_queues(t2, (uint16_t)(1 + rounds % 4));
		vs_evloop_run_once(loop, 0);
		snprintf(spec, sizeof(spec), "testq,name=t3,queues=%u,gen=1", 1 + rounds % 3);
		TEST_ASSERT(vs_switch_add_port(sw, spec, err, sizeof(err)) >= 0, "%s", err);
		vs_evloop_run_once(loop, 1);
		TEST_ASSERT_SUCCESS(vs_switch_del_port(sw, "t3", err, sizeof(err)), "%s", err);
		rounds++;
	}
	vs_evloop_run_once(loop, 0);
	TEST_RUN(check_polls(sw, load, &total));
	TEST_ASSERT(is_balanced(load, 2), "balanced at the end: %u %u", load[0], load[1]);
	vs_switch_stop(sw);
	vt_testq_stats(t0, &s0);
	vt_testq_stats(t1, &s1);
	vt_testq_stats(t2, &s2);
	printf("%u rounds; t0 generated %" PRIu64 " + %" PRIu64 ", t1 received %" PRIu64
	       " from t0\n",
	       rounds, s0.generated[0], s0.generated[1], s1.received_from[id0]);
	TEST_ASSERT_EQUAL(rounds, 30, "all changes made within 30 s");
	TEST_ASSERT_EQUAL(s0.violations + s1.violations + s2.violations, 0,
			  "no queue used by two workers at once");
	TEST_ASSERT(s0.generated[0] + s0.generated[1] > 0, "traffic flowed");
	TEST_ASSERT_EQUAL(s1.received_from[id0], s0.generated[0] + s0.generated[1],
			  "t1 got every frame t0 sent");
	TEST_ASSERT_EQUAL(s0.received_from[id1], s1.generated[0] + s1.generated[1],
			  "t0 got every frame t1 sent");
	vs_switch_destroy(sw);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_reassigns_queues_without_sharing_or_loss, fast, test_switch_reassigns_queues_without_sharing_or_loss)
/* clang-format on */

/*
 * With real workers, busy + idle cycles account for the whole run, also
 * when the counters are cleared while the workers run.
 */
static int
test_switch_cycle_accounting_covers_the_run(void)
{
	struct vs_switch_config cfg = {0};
	struct vs_switch *sw;
	struct vs_evloop *loop;
	uint64_t t0, t1, hz, before[VS_SWITCH_MAX_WORKERS] = {0};
	char err[256], why[256];

	if (vt_eal_init("switch", why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	loop = vs_evloop_create();
	TEST_ASSERT_NOT_NULL(loop, "loop");
	cfg.loop = loop;
	cfg.name = "cyc";
	cfg.nb_mbufs = 4095;
	sw = vs_switch_create(&cfg, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(sw, "%s", err);
	TEST_ASSERT(vs_switch_add_port(sw, "testq,name=g,queues=2,gen=1", err, sizeof(err)) >= 0,
		    "%s", err);
	TEST_ASSERT(vs_switch_add_port(sw, "testq,name=s,queues=2", err, sizeof(err)) >= 0, "%s",
		    err);
	hz = rte_get_tsc_hz();
	t0 = rte_rdtsc();
	TEST_ASSERT_SUCCESS(vs_switch_start(sw), "start");
	vs_evloop_run_once(loop, 250);
	/* `clear counters` while the workers count: the views start again. */
	for (unsigned int w = 0; w < vs_switch_nb_workers(sw); w++) {
		struct vs_switch_lcore_view l;

		TEST_ASSERT_SUCCESS(vs_switch_lcore_view(sw, w, &l), "view");
		before[w] = l.busy_cycles + l.idle_cycles;
	}
	TEST_ASSERT_SUCCESS(vs_switch_clear_counters(sw, -1), "clear");
	vs_evloop_run_once(loop, 250);
	vs_switch_stop(sw);
	t1 = rte_rdtsc();
	for (unsigned int w = 0; w < vs_switch_nb_workers(sw); w++) {
		struct vs_switch_lcore_view l;
		uint64_t acc;

		TEST_ASSERT_SUCCESS(vs_switch_lcore_view(sw, w, &l), "view");
		acc = l.busy_cycles + l.idle_cycles;
		printf("worker %u: busy %" PRIu64 " idle %" PRIu64 " since the clear, %" PRIu64
		       " before it, of %" PRIu64 " cycles; %" PRIu64 " packets\n",
		       w, l.busy_cycles, l.idle_cycles, before[w], t1 - t0, l.rx_packets);
		/* What was counted before the clear is no longer in the view. */
		TEST_ASSERT(acc + before[w] <= t1 - t0, "no more cycles than elapsed");
		/* Every cycle of the loop is busy or idle. (Not compared with
		 * t1 - t0: launch and stop can take any time on a loaded machine.) */
		TEST_ASSERT_EQUAL(acc, l.loop_cycles, "busy + idle cover the loop's run");
		TEST_ASSERT(l.loop_cycles > hz / 1000, "the loop ran");
		TEST_ASSERT(l.busy_cycles > 0 && l.rx_packets > 0, "moved packets");
	}
	vs_switch_destroy(sw);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_cycle_accounting_covers_the_run, fast, test_switch_cycle_accounting_covers_the_run)
/* clang-format on */
