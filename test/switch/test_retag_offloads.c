/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A frame that still carries offload work (a checksum a guest left to the
 * host, as the vhost-user port passes it on) keeps its offsets right when
 * the switch adds or removes a VLAN tag: l2_len counts the tag. Found by
 * fuzz_packet_path: a UDP frame with a pending checksum from an access port
 * to a trunk guest had its checksum written 4 bytes early, over the
 * destination port.
 */
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "test.h"
#include "test_eal.h"
#include "vt_switch.h"

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Injects a frame dst <- src (tag @p vid, 0: none) with a pending UDP checksum on port @p i. */
static int
send_offloaded(struct vt_sw *t, unsigned int i, const uint8_t *dst, const uint8_t *src,
	       uint16_t vid)
{
	struct rte_mbuf *m = vt_frame(vs_switch_mempool(t->sw), dst, src, vid, 128, 7);

	TEST_ASSERT_NOT_NULL(m, "frame");
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
	m->l2_len = RTE_ETHER_HDR_LEN + (vid ? sizeof(struct rte_vlan_hdr) : 0);
	m->l3_len = 20;
	TEST_ASSERT_EQUAL(rte_ring_enqueue(t->in[i], m), 0, "inject");
	return TEST_SUCCESS;
}

/* The frame out on port @p i: its tag and l2_len. */
static int
expect_l2(struct vt_sw *t, unsigned int i, bool tagged, const char *what)
{
	struct rte_mbuf *m;
	const uint8_t *p;
	unsigned int want = RTE_ETHER_HDR_LEN + (tagged ? sizeof(struct rte_vlan_hdr) : 0);

	TEST_ASSERT_EQUAL(vt_sw_take(t, i, &m), 0, "%s: a frame on port %u", what, i);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	TEST_ASSERT_EQUAL(p[12] == 0x81 && p[13] == 0x00, tagged, "%s: tagged %d", what, tagged);
	TEST_ASSERT_EQUAL(m->l2_len, want, "%s: l2_len follows the tag", what);
	TEST_ASSERT_EQUAL(m->l3_len, 20u, "%s: l3_len untouched", what);
	TEST_ASSERT(m->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM, "%s: the offload request kept", what);
	rte_pktmbuf_free(m);
	return TEST_SUCCESS;
}

static int
test_retag_offloads(void)
{
	struct vt_sw t;
	char why[256];
	int rc = vt_sw_init(&t, 1, 1024, why, sizeof(why));

	if (rc != 0 && !vt_eal_ready())
		TEST_SKIP("%s", why);
	TEST_ASSERT_SUCCESS(rc, "engine: %s", why);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=10", 0), "p0 access");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "trunk=10", 0), "p1 trunk");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, "vlan=10", 0), "p2 access");
	/* Flooded: a tagged copy for the trunk, the frame itself for the access port. */
	TEST_RUN(send_offloaded(&t, 0, bcast, mac_a, 0));
	vt_sw_run(&t);
	TEST_RUN(expect_l2(&t, 1, true, "flooded to the trunk"));
	TEST_RUN(expect_l2(&t, 2, false, "flooded to the other access port"));
	/* Unicast both ways between the learned stations. */
	TEST_RUN(send_offloaded(&t, 1, mac_a, mac_b, 10));
	vt_sw_run(&t);
	TEST_RUN(expect_l2(&t, 0, false, "trunk to access: tag removed"));
	TEST_RUN(send_offloaded(&t, 0, mac_b, mac_a, 0));
	vt_sw_run(&t);
	TEST_RUN(expect_l2(&t, 1, true, "access to trunk: tag added"));
	TEST_ASSERT_EQUAL(vt_sw_drain(&t), 0, "nothing else sent");
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(switch_retag_moves_offload_offsets_with_the_tag, fast, test_retag_offloads)
/* clang-format on */
