/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Run-time changes and drop accounting of the engine (manual mode, ring
 * ports): set-port (VLAN, trunk, admin) seen by the next burst, counters
 * cleared while workers count, static FDB entries, and every dropped frame
 * under exactly one reason, adding up to the drop counters.
 */
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "test.h"
#include "test_eal.h"
#include "vs_fdb.h"
#include "vt_switch.h"

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0x0c};
static const uint8_t mac_d[6] = {0x02, 0, 0, 0, 0, 0x0d};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static int
set_port(struct vt_sw *t, unsigned int i, const char *kv1, const char *kv2)
{
	const char *kv[2] = {kv1, kv2};
	char name[8], err[256];
	int rc;

	snprintf(name, sizeof(name), "p%u", i);
	rc = vs_switch_set_port(t->sw, name, kv2 != NULL ? 2 : 1, kv, err, sizeof(err));
	if (rc != 0)
		printf("set-port %s %s%s%s: %s\n", name, kv1, kv2 ? " " : "", kv2 ? kv2 : "", err);
	return rc;
}

/* Frames waiting on port i, freed. */
static unsigned int
take_all(struct vt_sw *t, unsigned int i)
{
	struct rte_mbuf *m;
	unsigned int n = 0;

	while (vt_sw_take(t, i, &m) == 0) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

/* A VLAN change is seen by the next burst; the port's stations are forgotten. */
static int
test_switch_set_port_changes_vlans_live(void)
{
	struct vt_sw t;

	VT_SW_SETUP(&t, 2);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=10", 0), "p0");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=10", 0), "p1");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=20", 0), "p2");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 4), "send");
	vt_sw_run(&t);
	TEST_ASSERT(take_all(&t, 1) == 4 && take_all(&t, 2) == 0, "VLAN 10 only");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 2, bcast, mac_c, 0, 1), "C on p2");
	vt_sw_run(&t);
	TEST_ASSERT_EQUAL(vs_fdb_count(vs_switch_fdb(t.sw)), 2, "A and C learned");
	TEST_ASSERT_SUCCESS(vs_switch_fdb_add(t.sw, mac_d, 20, (uint16_t)t.port_id[2], NULL, 0),
			    "static D on p2 in VLAN 20");
	TEST_ASSERT_SUCCESS(set_port(&t, 2, "vlan=10", NULL), "p2 to VLAN 10");
	/* A static entry in a VLAN p2 left would leak VLAN 20's unicast to it. */
	TEST_ASSERT_EQUAL(vs_fdb_count(vs_switch_fdb(t.sw)), 1, "C and static D forgotten");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 4), "send");
	vt_sw_run(&t);
	TEST_ASSERT(take_all(&t, 1) == 4 && take_all(&t, 2) == 4, "p2 is in VLAN 10 now");
	/* p0 becomes a trunk of 10 and 30: frames leave it tagged 10. */
	TEST_ASSERT_SUCCESS(set_port(&t, 0, "trunk=10:30", NULL), "p0 trunk");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, bcast, mac_b, 0, 3), "send");
	vt_sw_run(&t);
	{
		struct rte_mbuf *m;
		unsigned int n = 0, tagged10 = 0;

		while (vt_sw_take(&t, 0, &m) == 0) {
			const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

			n++;
			tagged10 +=
				p[12] == 0x81 && p[13] == 0 && ((p[14] & 0xf) << 8 | p[15]) == 10;
			rte_pktmbuf_free(m);
		}
		TEST_ASSERT(n == 3 && tagged10 == 3, "%u frames, %u tagged 10", n, tagged10);
	}
	vt_sw_drain(&t);
	/* Refused: unknown keys, both vlan and trunk, bad values; nothing changes. */
	TEST_ASSERT(set_port(&t, 1, "mtu=9000", NULL) == -EINVAL, "a key fixed at creation");
	TEST_ASSERT(set_port(&t, 1, "vlan=5", "trunk=5") == -EINVAL, "vlan and trunk");
	TEST_ASSERT(set_port(&t, 1, "vlan=5000", NULL) == -EINVAL, "VLAN out of range");
	TEST_ASSERT(set_port(&t, 1, "admin=sideways", NULL) == -EINVAL, "admin value");
	TEST_ASSERT(set_port(&t, 1, "vlan=5", "vlan=6") == -EINVAL, "a key twice");
	TEST_ASSERT(set_port(&t, 9, "vlan=5", NULL) == -ENOENT, "no such port");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, bcast, mac_b, 0, 2), "send");
	vt_sw_run(&t);
	TEST_ASSERT(take_all(&t, 2) == 2, "p1 still in VLAN 10 with p2");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_set_port_changes_vlans_live, fast, test_switch_set_port_changes_vlans_live)

/* admin=down: the port stays, its frames both ways are dropped and counted. */
static int
test_switch_admin_down_drops_and_counts(void)
{
	struct vs_switch_port_counters c;
	struct vt_sw t;

	VT_SW_SETUP(&t, 1);
	for (int i = 0; i < 3; i++)
		TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "port %d", i);
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, bcast, mac_b, 0, 1), "B on p1");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_SUCCESS(set_port(&t, 1, "admin=down", NULL), "p1 down");
	TEST_ASSERT_EQUAL(vs_fdb_count(vs_switch_fdb(t.sw)), 0, "its station forgotten");
	/* B is unknown now: flooded, but not to p1. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 5), "to B");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, mac_a, mac_b, 0, 6), "from p1");
	vt_sw_run(&t);
	TEST_ASSERT_EQUAL(take_all(&t, 1), 0, "nothing to a down port");
	TEST_ASSERT_EQUAL(take_all(&t, 2), 5, "flooded to p2 only");
	TEST_ASSERT_EQUAL(take_all(&t, 0), 0, "nothing from a down port");
	c = vt_sw_counters(&t, 1);
	TEST_ASSERT(c.rx_packets == 7 && c.rx_drop[VS_DROP_ADMIN_DOWN] == 6 && c.rx_dropped == 6,
		    "p1 rx %" PRIu64 ", admin_down %" PRIu64 ", dropped %" PRIu64, c.rx_packets,
		    c.rx_drop[VS_DROP_ADMIN_DOWN], c.rx_dropped);
	/* A static entry keeps unicast aimed at it: counted as admin_down on tx. */
	TEST_ASSERT_SUCCESS(vs_switch_fdb_add(t.sw, mac_b, 1, (uint16_t)t.port_id[1], NULL, 0),
			    "static B on p1");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 3), "to B");
	vt_sw_run(&t);
	c = vt_sw_counters(&t, 1);
	TEST_ASSERT(c.tx_drop[VS_DROP_ADMIN_DOWN] == 3 && c.tx_dropped == 3 && c.tx_packets == 0,
		    "p1 tx admin_down %" PRIu64 " dropped %" PRIu64, c.tx_drop[VS_DROP_ADMIN_DOWN],
		    c.tx_dropped);
	TEST_ASSERT_SUCCESS(set_port(&t, 1, "admin=up", NULL), "p1 up");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 2), "to B");
	vt_sw_run(&t);
	TEST_ASSERT_EQUAL(take_all(&t, 1), 2, "p1 forwards again");
	vt_sw_drain(&t);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vs_switch_mempool(t.sw)), 0, "no mbuf kept");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_admin_down_drops_and_counts, fast, test_switch_admin_down_drops_and_counts)

/* Clearing does not race the workers: views count from the clear on. */
static int
test_switch_clear_counters_starts_from_zero(void)
{
	struct vs_switch_port_counters c;
	struct vt_sw t;

	VT_SW_SETUP(&t, 2);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p0");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p1");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 9), "send");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_EQUAL(vt_sw_counters(&t, 0).rx_packets, 9, "counted");
	TEST_ASSERT_SUCCESS(vs_switch_clear_counters(t.sw, t.port_id[0]), "clear p0");
	c = vt_sw_counters(&t, 0);
	TEST_ASSERT(c.rx_packets == 0 && c.rx_bytes == 0 && c.flooded == 0, "p0 cleared");
	TEST_ASSERT_EQUAL(vt_sw_counters(&t, 1).tx_packets, 9, "p1 untouched");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 4), "send");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_EQUAL(vt_sw_counters(&t, 0).rx_packets, 4, "counts again from zero");
	TEST_ASSERT_SUCCESS(vs_switch_clear_counters(t.sw, -1), "clear all");
	TEST_ASSERT(vt_sw_counters(&t, 0).rx_packets == 0 && vt_sw_counters(&t, 1).tx_packets == 0,
		    "all");
	TEST_ASSERT_EQUAL(vs_switch_clear_counters(t.sw, 77), -ENOENT, "no such port");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_clear_counters_starts_from_zero, fast,
	      test_switch_clear_counters_starts_from_zero)

/* Static entries: not moved by learning, not aged, not flushed; fdb del removes them. */
static int
test_switch_static_fdb_entries_stay(void)
{
	struct vt_sw t;
	char err[128];

	VT_SW_SETUP(&t, 1);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p0");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p1");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=20", 0), "p2");
	TEST_ASSERT_SUCCESS(
		vs_switch_fdb_add(t.sw, mac_b, 1, (uint16_t)t.port_id[1], err, sizeof(err)), "%s",
		err);
	/* B's address shows up on p0: learning does not move a static entry. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_b, 0, 1), "spoofed B");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_EQUAL(vs_fdb_lookup(vs_switch_fdb(t.sw), vs_fdb_key(mac_b, 1)), t.port_id[1],
			  "still on p1");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, mac_b, mac_a, 0, 3), "to B");
	vt_sw_run(&t);
	TEST_ASSERT_EQUAL(take_all(&t, 1), 3, "unicast to the static port");
	vs_switch_fdb_tick(t.sw, 1000000);
	TEST_ASSERT_EQUAL(vs_fdb_count(vs_switch_fdb(t.sw)), 1, "A aged out, B stays");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 1), "A again");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_EQUAL(vs_switch_fdb_flush(t.sw), 1, "a flush takes A only");
	TEST_ASSERT_EQUAL(vs_fdb_count(vs_switch_fdb(t.sw)), 1, "B stays");
	/* Refused: a VLAN the port does not carry, a group address, no port. */
	TEST_ASSERT_EQUAL(
		vs_switch_fdb_add(t.sw, mac_c, 1, (uint16_t)t.port_id[2], err, sizeof(err)),
		-EINVAL, "p2 is in VLAN 20");
	TEST_ASSERT_EQUAL(
		vs_switch_fdb_add(t.sw, bcast, 1, (uint16_t)t.port_id[1], err, sizeof(err)),
		-EINVAL, "broadcast");
	TEST_ASSERT_EQUAL(vs_switch_fdb_add(t.sw, mac_c, 1, 200, err, sizeof(err)), -ENOENT,
			  "no port 200");
	TEST_ASSERT_SUCCESS(vs_switch_fdb_del(t.sw, mac_b, 1), "del B");
	TEST_ASSERT_EQUAL(vs_switch_fdb_del(t.sw, mac_b, 1), -ENOENT, "gone");
	TEST_ASSERT_EQUAL(vs_fdb_count(vs_switch_fdb(t.sw)), 0, "empty");
	/* Flushes by port and by VLAN. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 1), "A on p0");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 1, bcast, mac_b, 0, 1), "B on p1");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 2, bcast, mac_c, 0, 1), "C on p2, VLAN 20");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_EQUAL(vs_switch_fdb_flush_match(t.sw, -1, 20), 1, "VLAN 20: C");
	TEST_ASSERT_EQUAL(vs_switch_fdb_flush_match(t.sw, t.port_id[1], -1), 1, "p1: B");
	TEST_ASSERT_EQUAL(vs_switch_fdb_flush_match(t.sw, t.port_id[1], 1), 0, "p1 again: none");
	TEST_ASSERT_EQUAL(vs_fdb_count(vs_switch_fdb(t.sw)), 1, "A left");
	/* A port's removal takes its static entries along (its id is reused). */
	TEST_ASSERT_SUCCESS(
		vs_switch_fdb_add(t.sw, mac_c, 20, (uint16_t)t.port_id[2], err, sizeof(err)), "%s",
		err);
	TEST_ASSERT_SUCCESS(vs_switch_del_port(t.sw, "p2", err, sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(vs_fdb_lookup(vs_switch_fdb(t.sw), vs_fdb_key(mac_c, 20)), VS_FDB_NONE,
			  "C went with p2");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_static_fdb_entries_stay, fast, test_switch_static_fdb_entries_stay)

/*
 * Injects one frame of @p len bytes (dst, src, then @p tag if non-zero) on
 * port i; without headroom when @p no_headroom (no room to insert a tag).
 */
static int
inject_h(struct vt_sw *t, unsigned int i, const uint8_t *dst, const uint8_t *src, uint16_t tag,
	 uint16_t len, bool no_headroom)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(vs_switch_mempool(t->sw));
	uint8_t *p;

	if (m == NULL)
		return -1;
	if (no_headroom)
		m->data_off = 0;
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	memset(p, 0x5a, len);
	if (len >= 12) {
		memcpy(p, dst, 6);
		memcpy(p + 6, src, 6);
	}
	if (len >= 18 && tag != 0) {
		p[12] = 0x81;
		p[13] = 0;
		p[14] = (uint8_t)(tag >> 8);
		p[15] = (uint8_t)tag;
		p[16] = 0x88;
		p[17] = 0xb5;
	} else if (len >= 14) {
		p[12] = 0x88;
		p[13] = 0xb5;
	}
	if (rte_ring_enqueue(t->in[i], m) != 0) {
		rte_pktmbuf_free(m);
		return -1;
	}
	return 0;
}

static int
inject(struct vt_sw *t, unsigned int i, const uint8_t *dst, const uint8_t *src, uint16_t tag,
       uint16_t len)
{
	return inject_h(t, i, dst, src, tag, len, false);
}

static uint64_t
sum(const uint64_t *v)
{
	uint64_t s = 0;

	for (unsigned int r = 0; r < VS_DROP_NB; r++)
		s += v[r];
	return s;
}

/*
 * Mixed bad traffic: every frame dropped lands under one reason, the
 * reasons are exactly what was sent of each kind, and they add up to the
 * drop counters; what is neither dropped nor forwarded does not exist.
 * (The drivers' reasons: switch_drop_reasons_add_up_with_guests.)
 */
static int
test_switch_drop_reasons_add_up(void)
{
	struct vs_switch_port_counters c0, c1, c2, c3;
	unsigned int out1, out2, out3;
	struct vt_sw t;

	VT_SW_SETUP(&t, 1);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=10", 0), "p0 access 10");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "trunk=10:20", 0), "p1 trunk");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=10", 8), "p2 access, 7 slots");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=10", 0), "p3 access, to go down");
	/* Stations: B on p2, C on p3, A on p0. */
	TEST_ASSERT_SUCCESS(inject(&t, 2, bcast, mac_b, 0, 64), "B");
	TEST_ASSERT_SUCCESS(inject(&t, 3, bcast, mac_c, 0, 64), "C");
	TEST_ASSERT_SUCCESS(inject(&t, 0, bcast, mac_a, 0, 64), "A");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	TEST_ASSERT_SUCCESS(vs_switch_clear_counters(t.sw, -1), "from zero");
	TEST_ASSERT_SUCCESS(set_port(&t, 3, "admin=down", NULL), "p3 down");
	TEST_ASSERT_SUCCESS(vs_switch_fdb_add(t.sw, mac_c, 10, (uint16_t)t.port_id[3], NULL, 0),
			    "C stays on p3");
	for (int k = 0; k < 3; k++)
		TEST_ASSERT_SUCCESS(inject(&t, 0, mac_b, mac_a, 0, 10), "runt");
	for (int k = 0; k < 4; k++)
		TEST_ASSERT_SUCCESS(inject(&t, 0, mac_b, mac_a, 10, 64), "tagged on access");
	for (int k = 0; k < 5; k++)
		TEST_ASSERT_SUCCESS(inject(&t, 1, mac_b, mac_a, 30, 64), "VLAN 30 on the trunk");
	for (int k = 0; k < 2; k++)
		TEST_ASSERT_SUCCESS(inject(&t, 1, mac_b, mac_a, 0, 64), "untagged on the trunk");
	for (int k = 0; k < 6; k++)
		TEST_ASSERT_SUCCESS(inject(&t, 0, mac_a, mac_a, 0, 64), "hairpin");
	for (int k = 0; k < 7; k++)
		TEST_ASSERT_SUCCESS(inject(&t, 0, mac_c, mac_a, 0, 64), "to the down port");
	for (int k = 0; k < 8; k++)
		TEST_ASSERT_SUCCESS(inject(&t, 3, mac_a, mac_c, 0, 64), "from the down port");
	for (int k = 0; k < 20; k++)
		TEST_ASSERT_SUCCESS(inject(&t, 0, mac_b, mac_a, 0, 64), "20 to B: 7 fit");
	for (int k = 0; k < 9; k++)
		TEST_ASSERT_SUCCESS(inject(&t, 1, bcast, mac_d, 10, 64), "good: flooded");
	vt_sw_run(&t);
	c0 = vt_sw_counters(&t, 0);
	c1 = vt_sw_counters(&t, 1);
	c2 = vt_sw_counters(&t, 2);
	c3 = vt_sw_counters(&t, 3);
	out1 = take_all(&t, 1);
	out2 = take_all(&t, 2);
	out3 = take_all(&t, 3);
	TEST_ASSERT_EQUAL(c0.rx_drop[VS_DROP_RUNT], 3, "runts");
	TEST_ASSERT_EQUAL(c0.rx_drop[VS_DROP_TAGGED], 4, "tagged on access");
	TEST_ASSERT_EQUAL(c1.rx_drop[VS_DROP_VLAN], 7, "VLAN not carried (5) and untagged (2)");
	TEST_ASSERT_EQUAL(c0.rx_drop[VS_DROP_HAIRPIN], 6, "hairpin");
	TEST_ASSERT_EQUAL(c3.tx_drop[VS_DROP_ADMIN_DOWN], 7, "to a down port");
	TEST_ASSERT_EQUAL(c3.rx_drop[VS_DROP_ADMIN_DOWN], 8, "from a down port");
	/* p2's ring (7 slots) took 7 of the 20 unicast frames, then 0 of the 9 flooded. */
	TEST_ASSERT_EQUAL(out2, 7, "p2's ring");
	TEST_ASSERT_EQUAL(c2.tx_drop[VS_DROP_TX_FULL], 13 + 9, "queue full");
	TEST_ASSERT_EQUAL(out1, 0, "nothing for the trunk (all came from it or were dropped)");
	TEST_ASSERT_EQUAL(out3, 0, "nothing for the down port");
	/* The reasons are the drop counters. */
	TEST_ASSERT_EQUAL(c0.rx_dropped, sum(c0.rx_drop), "p0 rx");
	TEST_ASSERT_EQUAL(c1.rx_dropped, sum(c1.rx_drop), "p1 rx");
	TEST_ASSERT_EQUAL(c2.tx_dropped, sum(c2.tx_drop), "p2 tx");
	TEST_ASSERT_EQUAL(c3.tx_dropped, sum(c3.tx_drop), "p3 tx");
	TEST_ASSERT_EQUAL(c3.rx_dropped, sum(c3.rx_drop), "p3 rx");
	/* Conservation: p0 received 40; 13 dropped at rx; 27 went on (7 to p3, 20 to p2). */
	TEST_ASSERT_EQUAL(c0.rx_packets, 3 + 4 + 6 + 7 + 20, "p0 received");
	TEST_ASSERT_EQUAL(c0.rx_dropped, 3 + 4 + 6, "p0 dropped");
	TEST_ASSERT_EQUAL(c2.tx_packets + c2.tx_dropped, 20 + 9, "every frame for p2 accounted");
	TEST_ASSERT_EQUAL(c2.tx_packets, out2, "p2 sent what its ring has");
	TEST_ASSERT_EQUAL(c1.rx_packets, 5 + 2 + 9, "p1 received");
	TEST_ASSERT_EQUAL(c1.rx_dropped + c1.flooded, c1.rx_packets, "p1: dropped or flooded");
	vt_sw_drain(&t);

	/*
	 * no_headroom: a frame for the trunk (D is on p1) with no room for its
	 * tag; no_mbuf: floods from p0 while the pool has no mbuf for the trunk's
	 * tagged copy (p2, an access port, still gets the original).
	 */
	TEST_ASSERT_SUCCESS(vs_switch_clear_counters(t.sw, -1), "from zero again");
	for (int k = 0; k < 3; k++)
		TEST_ASSERT_SUCCESS(inject(&t, 0, bcast, mac_a, 0, 64), "flood");
	/* Last: the mbuf it frees when dropped would serve a later copy. */
	TEST_ASSERT_SUCCESS(inject_h(&t, 0, mac_d, mac_a, 0, 64, true), "no headroom");
	{
		static struct rte_mbuf *hoard[8192];
		unsigned int nh = 0;

		while (nh < RTE_DIM(hoard) &&
		       (hoard[nh] = rte_pktmbuf_alloc(vs_switch_mempool(t.sw))) != NULL)
			nh++;
		vt_sw_run(&t);
		rte_pktmbuf_free_bulk(hoard, nh);
	}
	c1 = vt_sw_counters(&t, 1);
	TEST_ASSERT_EQUAL(c1.tx_drop[VS_DROP_NO_HEADROOM], 1, "no room for the tag");
	TEST_ASSERT_EQUAL(c1.tx_drop[VS_DROP_NO_MBUF], 3, "no mbuf for the tagged copies");
	TEST_ASSERT_EQUAL(c1.tx_dropped, sum(c1.tx_drop), "p1 tx");
	TEST_ASSERT_EQUAL(c1.tx_dropped, 4, "nothing else");
	TEST_ASSERT_EQUAL(take_all(&t, 1), 0, "nothing reached the trunk");
	TEST_ASSERT_EQUAL(take_all(&t, 2), 3, "p2 got the floods");
	vt_sw_drain(&t);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vs_switch_mempool(t.sw)), 0, "no mbuf kept");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_drop_reasons_add_up, fast, test_switch_drop_reasons_add_up)
