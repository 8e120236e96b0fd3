/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One copy between VMs: the engine (manual mode, one worker) with two
 * vhost-user ports and two guests of our own (lib/vhost front-end, lib/virtq
 * driver side), so that every byte and header field is checked where the
 * guest reads it.
 *
 * Checked, split and packed, mergeable buffers on and off: frames of 64 to
 * 9000 bytes in every transmit layout arrive whole with the right header
 * and num_buffers, and went by one copy (the port's onecopy counter); the
 * offloads a guest asked for arrive as asked when the receiver negotiated
 * them, and otherwise go the mbuf path (checksum completed, TSO dropped);
 * a full receive ring drops the excess as tx_dropped while every transmit
 * chain completes and the rest arrives in order; a frame to the sender
 * itself is dropped; a port kept on the mbuf path (vs_switch_port_set_onecopy)
 * delivers the same bytes without one copy; after either guest sends a new
 * memory table (two regions, as a guest above 3 GB has), one copy goes on
 * with the new mappings.
 */
#include <errno.h>
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

#define BASE                                                                                       \
	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC) |     \
	 F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4))
#define GUEST_OFFLOADS (F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4))

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0x0c};

struct oc_test {
	struct vt_vu_sw s; /* port i is guest i's */
	struct vt_guest g[2];
	bool mrg;
	unsigned int reaped[2]; /* transmit chains completed (send_n) */
};

/* ---- set-up ---- */

static struct vs_switch_port_counters
counters(struct oc_test *t, int i)
{
	return vt_vu_sw_counters(&t->s, i);
}

/* Both guests' receive buffers hold @p buf_size bytes (0: the default). */
static int
oc_setup_bufs(struct oc_test *t, uint64_t features, bool b_offloads, unsigned int buf_size)
{
	struct vt_guest_cfg cfg = {.queues = 1, .ring_size = RING, .tx_buf_size = 10240};

	memset(t, 0, sizeof(*t));
	t->g[0].memfd = t->g[1].memfd = -1;
	TEST_RUN(vt_vu_sw_init(&t->s, "oc"));
	t->mrg = (features & F(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	for (int i = 0; i < 2; i++) {
		/* Without mergeable buffers one buffer holds the largest frame. */
		cfg.buf_size = buf_size != 0 ? buf_size : t->mrg ? 2048 : 10240;
		cfg.features = features | (i == 0 || b_offloads ? GUEST_OFFLOADS : 0);
		TEST_ASSERT_SUCCESS(vt_guest_init(&t->g[i], &cfg), "guest %d", i);
	}
	TEST_RUN(vt_vu_sw_connect(&t->s, (struct vt_guest *const[]){&t->g[0], &t->g[1]}, features));
	vt_guest_fill_rx(&t->g[0], 0);
	vt_guest_fill_rx(&t->g[1], 0);
	return TEST_SUCCESS;
}

static int
oc_setup(struct oc_test *t, uint64_t features, bool b_offloads)
{
	return oc_setup_bufs(t, features, b_offloads, 0);
}

struct remap_job {
	struct vt_guest *g;
	bool two;
};

static int
remap_main(void *arg)
{
	struct remap_job *j = arg;

	return vt_guest_set_memory(j->g, j->two);
}

/* Guest @p i sends a new memory table (one region or two), as QEMU does on
 * a memory hot-plug; the port remaps while the switch's loop runs. */
static int
remap(struct oc_test *t, int i, bool two)
{
	struct remap_job job = {.g = &t->g[i], .two = two};

	TEST_ASSERT_SUCCESS(vt_vu_sw_run(&t->s, remap_main, &job),
			    "guest %d: new memory table (%s)", i,
			    two ? "two regions" : "one region");
	vt_vu_sw_serve(&t->s, 20);
	TEST_ASSERT(vt_vu_sw_port_ready(&t->s, 0) && vt_vu_sw_port_ready(&t->s, 1),
		    "both ports up after the remap");
	return TEST_SUCCESS;
}

static void
oc_teardown(struct oc_test *t)
{
	for (int i = 0; i < 2; i++)
		vt_guest_fini(&t->g[i]);
	vt_vu_sw_fini(&t->s);
}

/* ---- traffic ---- */

static void
set_macs(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
}

/* Polls the worker until guest @p to has a frame (or the deadline). */
static int
recv_frame(struct oc_test *t, int to, struct virtio_net_hdr_mrg_rxbuf *h, uint8_t *f, uint32_t *len)
{
	uint64_t end = vt_now_ms() + WAIT_MS;
	int rc;

	for (;;) {
		vs_switch_poll(t->s.sw, 0);
		rc = vt_guest_recv(&t->g[to], 0, h, f, VT_FRAME_MAX, len);
		if (rc != 0 || vt_now_ms() > end)
			break;
	}
	vt_guest_fill_rx(&t->g[to], 0);
	return rc;
}

/*
 * Guest @p from sends @p f (@p len bytes, header @p hdr, layout @p lo);
 * guest @p to must get the same bytes. Its header is returned in @p h.
 */
static int
pass(struct oc_test *t, int from, int to, const uint8_t *f, uint32_t len,
     const struct virtio_net_hdr *hdr, enum vt_tx_layout lo, struct virtio_net_hdr_mrg_rxbuf *h,
     const char *what)
{
	static uint8_t got[VT_FRAME_MAX];
	uint32_t glen = 0;

	TEST_ASSERT_SUCCESS(vt_guest_send(&t->g[from], 0, f, len, hdr, lo), "%s: sent", what);
	TEST_ASSERT_EQUAL(recv_frame(t, to, h, got, &glen), 1, "%s: received", what);
	TEST_ASSERT_EQUAL(glen, len, "%s: length", what);
	TEST_ASSERT(memcmp(got, f, len) == 0, "%s: bytes as sent", what);
	TEST_ASSERT_EQUAL(vt_guest_reap_tx(&t->g[from], 0), 1u, "%s: the transmit chain completed",
			  what);
	return TEST_SUCCESS;
}

static const uint32_t sizes[] = {64, 65, 1518, 2047, 4000, 9000};
static const enum vt_tx_layout layouts[] = {VT_TX_ONE, VT_TX_SPLIT, VT_TX_MANY, VT_TX_HDR_BYTES};

/* Every size in every layout, a to b: one copy, header zero, bytes right. */
static int
sizes_and_layouts(struct oc_test *t, bool expect_onecopy)
{
	static uint8_t f[VT_FRAME_MAX];
	struct virtio_net_hdr_mrg_rxbuf h;
	uint64_t before = counters(t, 1).onecopy;
	unsigned int n = 0;
	uint32_t seq = 100;

	for (size_t s = 0; s < RTE_DIM(sizes); s++) {
		for (size_t l = 0; l < RTE_DIM(layouts); l++) {
			char what[64];

			snprintf(what, sizeof(what), "%u bytes, layout %zu", sizes[s], l);
			vt_frame_fill(f, sizes[s], seq++);
			set_macs(f, mac_b, mac_a);
			TEST_RUN(pass(t, 0, 1, f, sizes[s], NULL, layouts[l], &h, what));
			TEST_ASSERT(h.hdr.flags == 0 && h.hdr.gso_type == 0 &&
					    h.hdr.csum_start == 0 && h.hdr.gso_size == 0 &&
					    h.hdr.hdr_len == 0,
				    "%s: a zero header", what);
			n++;
		}
	}
	TEST_ASSERT_EQUAL(counters(t, 1).onecopy - before, expect_onecopy ? n : 0,
			  "frames to b by one copy");
	return TEST_SUCCESS;
}

/* Offloads a to b: kept when b negotiated them, else the mbuf path's answer. */
static int
offloads(struct oc_test *t, bool b_offloads)
{
	static uint8_t f[VT_FRAME_MAX];
	struct virtio_net_hdr hdr = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
	struct virtio_net_hdr_mrg_rxbuf h;
	struct vs_port_stats st;
	uint64_t before = counters(t, 1).onecopy;
	uint32_t len = vt_frame_tcp4(f, 1000);

	set_macs(f, mac_b, mac_a);
	if (b_offloads) {
		TEST_RUN(pass(t, 0, 1, f, len, &hdr, VT_TX_SPLIT, &h, "partial checksum"));
		TEST_ASSERT(h.hdr.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.hdr.csum_start == 34 &&
				    h.hdr.csum_offset == 16 && h.hdr.gso_type == 0,
			    "b (GUEST_CSUM) finishes the checksum itself");
		hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		hdr.gso_size = 1448;
		hdr.hdr_len = 54;
		len = vt_frame_tcp4(f, 4000);
		set_macs(f, mac_b, mac_a);
		TEST_RUN(pass(t, 0, 1, f, len, &hdr, VT_TX_MANY, &h, "TSO"));
		TEST_ASSERT(h.hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && h.hdr.gso_size == 1448 &&
				    h.hdr.hdr_len == 54 &&
				    h.hdr.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
				    h.hdr.csum_start == 34 && h.hdr.csum_offset == 16,
			    "b (GUEST_TSO4) gets the whole segment as asked");
		TEST_ASSERT(!t->mrg || h.num_buffers > 1, "merged from %u buffers", h.num_buffers);
		TEST_ASSERT_EQUAL(counters(t, 1).onecopy - before, 2u, "both by one copy");
		return TEST_SUCCESS;
	}
	/* b has no receive offloads: the mbuf path completes the checksum... */
	TEST_ASSERT_SUCCESS(vt_guest_send(&t->g[0], 0, f, len, &hdr, VT_TX_SPLIT), "sent");
	{
		static uint8_t got[VT_FRAME_MAX];
		uint32_t glen = 0;

		TEST_ASSERT_EQUAL(recv_frame(t, 1, &h, got, &glen), 1, "received");
		TEST_ASSERT(h.hdr.flags == 0 && glen == len && vt_frame_tcp4_csum_ok(got),
			    "b (no GUEST_CSUM): checksum completed, plain header");
		TEST_ASSERT(memcmp(got, f, 50) == 0 && memcmp(got + 52, f + 52, len - 52) == 0,
			    "nothing else changed");
	}
	/* ... and refuses a TSO segment b cannot take (no segmentation here). */
	hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	hdr.gso_size = 1448;
	hdr.hdr_len = 54;
	len = vt_frame_tcp4(f, 4000);
	set_macs(f, mac_b, mac_a);
	TEST_ASSERT_SUCCESS(vt_guest_send(&t->g[0], 0, f, len, &hdr, VT_TX_MANY), "TSO sent");
	for (int i = 0; i < 10; i++)
		vs_switch_poll(t->s.sw, 0);
	vs_switch_port_driver_stats(t->s.sw, (uint16_t)t->s.port[1], &st);
	TEST_ASSERT_EQUAL(st.tx[0].drops, 1u, "b's port dropped the TSO segment");
	TEST_ASSERT_EQUAL(vt_guest_reap_tx(&t->g[0], 0), 2u, "both transmit chains completed");
	TEST_ASSERT_EQUAL(counters(t, 1).onecopy - before, 0u, "neither by one copy");
	return TEST_SUCCESS;
}

/*
 * b's receive ring holds RING buffers and is not refilled: of RING + 40
 * frames, RING arrive in order, 40 are dropped (tx_dropped), and every
 * transmit chain of a completes.
 */
static int
ring_full(struct oc_test *t)
{
	static uint8_t f[VT_FRAME_MAX], got[VT_FRAME_MAX];
	const unsigned int total = RING + 40;
	struct vs_switch_port_counters c0 = counters(t, 1), c1;
	struct virtio_net_hdr_mrg_rxbuf h;
	unsigned int sent = 0, reaped = 0;
	uint32_t glen;

	while (sent < total) {
		for (unsigned int i = 0; i < 100 && sent < total; i++, sent++) {
			vt_frame_fill(f, 64, 1000 + sent);
			set_macs(f, mac_b, mac_a);
			TEST_ASSERT_SUCCESS(vt_guest_send(&t->g[0], 0, f, 64, NULL, VT_TX_ONE),
					    "frame %u sent", sent);
		}
		for (int i = 0; i < 20; i++)
			vs_switch_poll(t->s.sw, 0);
		reaped += vt_guest_reap_tx(&t->g[0], 0);
	}
	TEST_ASSERT_EQUAL(reaped, total, "every transmit chain completed");
	c1 = counters(t, 1);
	TEST_ASSERT_EQUAL(c1.tx_dropped - c0.tx_dropped, 40u, "the excess dropped and counted");
	TEST_ASSERT_EQUAL(c1.tx_packets - c0.tx_packets, (uint64_t)RING, "the rest sent");
	for (unsigned int i = 0; i < RING; i++) {
		TEST_ASSERT_EQUAL(vt_guest_recv(&t->g[1], 0, &h, got, sizeof(got), &glen), 1,
				  "frame %u there", i);
		TEST_ASSERT_EQUAL(vt_frame_check(got, glen), (int64_t)(1000 + i), "in order");
	}
	vt_guest_fill_rx(&t->g[1], 0);
	return TEST_SUCCESS;
}

/* A frame from a to a's own address: dropped by the switch, chain completed. */
static int
hairpin(struct oc_test *t)
{
	static uint8_t f[VT_FRAME_MAX];
	struct vs_switch_port_counters c0 = counters(t, 0), c1;
	struct virtio_net_hdr_mrg_rxbuf h;
	uint32_t glen;

	vt_frame_fill(f, 200, 7);
	set_macs(f, mac_a, mac_a);
	TEST_ASSERT_SUCCESS(vt_guest_send(&t->g[0], 0, f, 200, NULL, VT_TX_ONE), "sent");
	for (int i = 0; i < 10; i++)
		vs_switch_poll(t->s.sw, 0);
	c1 = counters(t, 0);
	TEST_ASSERT_EQUAL(c1.rx_dropped - c0.rx_dropped, 1u, "dropped as sent to itself");
	TEST_ASSERT_EQUAL(vt_guest_reap_tx(&t->g[0], 0), 1u, "chain completed");
	TEST_ASSERT_EQUAL(vt_guest_recv(&t->g[0], 0, &h, f, sizeof(f), &glen), 0, "a got nothing");
	return TEST_SUCCESS;
}

/*
 * A port whose link went down (as a remap may take it) forgets its
 * stations: each guest sends once so that the switch knows both again.
 */
static int
relearn(struct oc_test *t)
{
	static uint8_t f[VT_FRAME_MAX];
	struct virtio_net_hdr_mrg_rxbuf h;

	vt_frame_fill(f, 100, 3);
	set_macs(f, mac_a, mac_b);
	TEST_RUN(pass(t, 1, 0, f, 100, NULL, VT_TX_ONE, &h, "b to a again"));
	vt_frame_fill(f, 100, 4);
	set_macs(f, mac_b, mac_a);
	TEST_RUN(pass(t, 0, 1, f, 100, NULL, VT_TX_ONE, &h, "a to b again"));
	return TEST_SUCCESS;
}

static int
run_case(uint64_t features, bool b_offloads)
{
	static uint8_t f[VT_FRAME_MAX];
	struct virtio_net_hdr_mrg_rxbuf h;
	struct oc_test t;

	TEST_RUN(oc_setup(&t, features, b_offloads));
	/* b is unknown: flooded (mbuf path); then each learns the other. */
	vt_frame_fill(f, 100, 1);
	set_macs(f, mac_b, mac_a);
	TEST_RUN(pass(&t, 0, 1, f, 100, NULL, VT_TX_ONE, &h, "flooded"));
	TEST_ASSERT_EQUAL(counters(&t, 1).onecopy, 0u, "a flood takes the mbuf path");
	vt_frame_fill(f, 100, 2);
	set_macs(f, mac_a, mac_b);
	TEST_RUN(pass(&t, 1, 0, f, 100, NULL, VT_TX_ONE, &h, "b to a"));
	TEST_ASSERT_EQUAL(counters(&t, 0).onecopy, 1u, "b to a by one copy");

	TEST_RUN(sizes_and_layouts(&t, true));
	TEST_RUN(offloads(&t, b_offloads));
	TEST_RUN(ring_full(&t));
	TEST_RUN(hairpin(&t));
	/* New memory tables on either side, two regions each (each guest's
	 * buffers then lie in two mappings); then back to one region. */
	TEST_RUN(remap(&t, 1, true));
	TEST_RUN(remap(&t, 0, true));
	TEST_RUN(relearn(&t));
	TEST_RUN(sizes_and_layouts(&t, true));
	TEST_RUN(remap(&t, 0, false));
	TEST_RUN(relearn(&t));
	TEST_RUN(sizes_and_layouts(&t, true));
	/* Kept on the mbuf path: the same bytes, no one copy. */
	TEST_ASSERT_SUCCESS(vs_switch_port_set_onecopy(t.s.sw, (uint16_t)t.s.port[1], false),
			    "b off one copy");
	TEST_RUN(sizes_and_layouts(&t, false));
	TEST_ASSERT_SUCCESS(vs_switch_port_set_onecopy(t.s.sw, (uint16_t)t.s.port[1], true),
			    "b back on");
	TEST_RUN(sizes_and_layouts(&t, true));
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vs_switch_mempool(t.s.sw)), 0,
			  "every mbuf came back");
	oc_teardown(&t);
	return TEST_SUCCESS;
}

static int
test_onecopy_split_mrg(void)
{
	return run_case(BASE | F(VIRTIO_NET_F_MRG_RXBUF), true);
}
REGISTER_TEST(switch_onecopy_split_mrg, fast, test_onecopy_split_mrg)

static int
test_onecopy_split_no_mrg(void)
{
	return run_case(BASE, false);
}
REGISTER_TEST(switch_onecopy_split_no_mrg, fast, test_onecopy_split_no_mrg)

static int
test_onecopy_packed_mrg(void)
{
	return run_case(BASE | F(VIRTIO_F_RING_PACKED) | F(VIRTIO_NET_F_MRG_RXBUF), false);
}
REGISTER_TEST(switch_onecopy_packed_mrg, fast, test_onecopy_packed_mrg)

static int
test_onecopy_packed_no_mrg(void)
{
	return run_case(BASE | F(VIRTIO_F_RING_PACKED) | F(VIRTIO_F_IN_ORDER), true);
}
REGISTER_TEST(switch_onecopy_packed_no_mrg, fast, test_onecopy_packed_no_mrg)

/* ---- drops by reason ---- */

static uint64_t
sum_reasons(const uint64_t *v)
{
	uint64_t s = 0;

	for (unsigned int r = 0; r < VS_DROP_NB; r++)
		s += v[r];
	return s;
}

/* Guest @p from sends @p n frames of @p len bytes to @p dst (header @p hdr,
 * tagged with VLAN @p tag when non-zero), polling the switch as it goes. */
static int
send_n(struct oc_test *t, int from, unsigned int n, const uint8_t *dst, uint32_t len,
       const struct virtio_net_hdr *hdr, uint16_t tag, unsigned int *sent)
{
	static uint8_t f[VT_FRAME_MAX];

	for (unsigned int i = 0; i < n; i++) {
		vt_frame_fill(f, len < 64 ? 64 : len, 5000 + *sent);
		set_macs(f, dst, from == 0 ? mac_a : mac_b);
		if (tag != 0) {
			f[12] = 0x81;
			f[13] = 0;
			f[14] = (uint8_t)(tag >> 8);
			f[15] = (uint8_t)tag;
		}
		TEST_ASSERT_SUCCESS(vt_guest_send(&t->g[from], 0, f, len, hdr,
						  hdr != NULL ? VT_TX_SPLIT : VT_TX_ONE),
				    "frame %u sent", *sent);
		(*sent)++;
		for (int k = 0; k < 4; k++)
			vs_switch_poll(t->s.sw, 0);
		if (i % 64 == 63)
			t->reaped[from] += vt_guest_reap_tx(&t->g[from], 0);
	}
	for (int k = 0; k < 20; k++)
		vs_switch_poll(t->s.sw, 0);
	return TEST_SUCCESS;
}

/* Received by guest @p i now, freed; its ring is not refilled. */
static unsigned int
take_received(struct oc_test *t, int i)
{
	static uint8_t got[VT_FRAME_MAX];
	struct virtio_net_hdr_mrg_rxbuf h;
	unsigned int n = 0;
	uint32_t glen;

	while (vt_guest_recv(&t->g[i], 0, &h, got, sizeof(got), &glen) == 1)
		n++;
	return n;
}

/* Each of port @p i's drop counters is the sum of its reasons. */
static int
reasons_add_up(struct oc_test *t, int port, const char *name)
{
	struct vs_switch_port_view v;

	TEST_ASSERT_SUCCESS(vs_switch_port_view(t->s.sw, (uint16_t)port, &v), "%s", name);
	TEST_ASSERT_EQUAL(v.counters.rx_dropped, sum_reasons(v.counters.rx_drop), "%s rx", name);
	TEST_ASSERT_EQUAL(v.counters.tx_dropped, sum_reasons(v.counters.tx_drop), "%s tx", name);
	return TEST_SUCCESS;
}

/*
 * Mixed bad traffic from real rings: a bad chain, bad offload requests,
 * runts, tagged frames on an access port, frames to the sender itself, to a
 * port whose link is down, too long for the receiver's buffers, more than
 * its ring holds, from and to a port set admin down. Every frame dropped is
 * counted once, under its one reason, on the port and direction where it
 * was dropped (by the engine or by the vhost-user driver); the reasons add
 * up to rx_dropped and tx_dropped; every frame sent is delivered or counted.
 */
static int
drops_add_up(bool onecopy)
{
	struct virtio_net_hdr bad = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 60, .csum_offset = 16};
	static uint8_t f[VT_FRAME_MAX];
	struct vs_switch_port_counters a, b, c;
	struct virtio_net_hdr_mrg_rxbuf h;
	struct vs_port_stats st;
	char spec[400], why[256], csock[256];
	unsigned int sent = 0, to_b = 0, got_b, bufs_b, reaped;
	uint64_t drv_rx = 0, drv_tx = 0;
	struct oc_test t;
	int pc;

	/* Receive buffers of 2048 bytes, no mergeable buffers: 4000 bytes is too long. */
	TEST_RUN(oc_setup_bufs(&t, BASE, false, 2048));
	if (!onecopy) {
		TEST_ASSERT_SUCCESS(
			vs_switch_port_set_onecopy(t.s.sw, (uint16_t)t.s.port[0], false),
			"a on the mbuf path");
		TEST_ASSERT_SUCCESS(
			vs_switch_port_set_onecopy(t.s.sw, (uint16_t)t.s.port[1], false),
			"b on the mbuf path");
	}
	vt_frame_fill(f, 100, 1);
	set_macs(f, mac_b, mac_a);
	TEST_RUN(pass(&t, 0, 1, f, 100, NULL, VT_TX_ONE, &h, "a learned"));
	vt_frame_fill(f, 100, 2);
	set_macs(f, mac_a, mac_b);
	TEST_RUN(pass(&t, 1, 0, f, 100, NULL, VT_TX_ONE, &h, "b learned"));
	/* c: a vhost-user port no guest connects to (link down), station C on it. */
	vt_path(csock, sizeof(csock), "occ.sock");
	unlink(csock);
	snprintf(spec, sizeof(spec), "vhost-user,path=%s,name=c", csock);
	pc = vs_switch_add_port(t.s.sw, spec, why, sizeof(why));
	TEST_ASSERT(pc >= 0, "port c: %s", why);
	TEST_ASSERT_SUCCESS(vs_switch_fdb_add(t.s.sw, mac_c, 1, (uint16_t)pc, why, sizeof(why)),
			    "static C on c: %s", why);
	TEST_ASSERT_SUCCESS(vs_switch_clear_counters(t.s.sw, -1), "from zero");
	bufs_b = t.g[1].ring[0].nbufs - t.g[1].ring[0].nfree;

	TEST_RUN(send_n(&t, 0, 2, mac_b, 0, NULL, 0, &sent));	 /* header only */
	TEST_RUN(send_n(&t, 0, 3, mac_b, 64, &bad, 0, &sent));	 /* checksum past the end */
	TEST_RUN(send_n(&t, 0, 4, mac_b, 10, NULL, 0, &sent));	 /* runts */
	TEST_RUN(send_n(&t, 0, 5, mac_b, 64, NULL, 7, &sent));	 /* tagged, access port */
	TEST_RUN(send_n(&t, 0, 6, mac_a, 64, NULL, 0, &sent));	 /* to itself */
	TEST_RUN(send_n(&t, 0, 7, mac_c, 64, NULL, 0, &sent));	 /* to a port down */
	TEST_RUN(send_n(&t, 0, 1, mac_b, 4000, NULL, 0, &sent)); /* b's buffers hold 2048 */
	to_b = 1;
	/* More than b's ring holds (it is not refilled): the rest is tx_full. */
	TEST_RUN(send_n(&t, 0, bufs_b + 8, mac_b, 64, NULL, 0, &sent));
	to_b += bufs_b + 8;
	got_b = take_received(&t, 1);
	TEST_ASSERT_EQUAL(got_b, bufs_b, "b got what its ring held");
	vt_guest_fill_rx(&t.g[1], 0);
	/* b administratively down: both ways dropped (B static, else its station
	 * is forgotten and frames for it are floods to nobody, no drops). */
	TEST_ASSERT_SUCCESS(
		vs_switch_fdb_add(t.s.sw, mac_b, 1, (uint16_t)t.s.port[1], why, sizeof(why)),
		"static B: %s", why);
	TEST_ASSERT_SUCCESS(vs_switch_set_port(t.s.sw, "b", 1, (const char *const[]){"admin=down"},
					       why, sizeof(why)),
			    "b down: %s", why);
	TEST_RUN(send_n(&t, 0, 9, mac_b, 64, NULL, 0, &sent));
	to_b += 9;
	{
		unsigned int from_b = 0;

		TEST_RUN(send_n(&t, 1, 10, mac_a, 64, NULL, 0, &from_b));
		TEST_ASSERT_EQUAL(t.reaped[1] + vt_guest_reap_tx(&t.g[1], 0), 10u,
				  "b's chains completed");
	}
	reaped = t.reaped[0];
	for (int k = 0; k < 50 && reaped < sent; k++) {
		vs_switch_poll(t.s.sw, 0);
		reaped += vt_guest_reap_tx(&t.g[0], 0);
	}
	TEST_ASSERT_EQUAL(take_received(&t, 1), 0u, "nothing for b while down");

	a = counters(&t, 0);
	b = counters(&t, 1);
	{
		struct vs_switch_port_view v;

		TEST_ASSERT_SUCCESS(vs_switch_port_view(t.s.sw, (uint16_t)pc, &v), "c");
		c = v.counters;
	}
	TEST_ASSERT_EQUAL(a.rx_drop[VS_DROP_BAD_CHAIN], 2, "a rx bad_chain");
	TEST_ASSERT_EQUAL(a.rx_drop[VS_DROP_BAD_OFFLOAD], 3, "a rx bad_offload");
	TEST_ASSERT_EQUAL(a.rx_drop[VS_DROP_RUNT], 4, "a rx runt");
	TEST_ASSERT_EQUAL(a.rx_drop[VS_DROP_TAGGED], 5, "a rx tagged");
	TEST_ASSERT_EQUAL(a.rx_drop[VS_DROP_HAIRPIN], 6, "a rx hairpin");
	TEST_ASSERT_EQUAL(c.tx_drop[VS_DROP_LINK_DOWN], 7, "c tx link_down");
	TEST_ASSERT_EQUAL(b.tx_drop[VS_DROP_TOO_LONG], 1, "b tx too_long");
	TEST_ASSERT_EQUAL(b.tx_drop[VS_DROP_TX_FULL], 8, "b tx tx_full");
	TEST_ASSERT_EQUAL(b.tx_drop[VS_DROP_ADMIN_DOWN], 9, "b tx admin_down");
	TEST_ASSERT_EQUAL(b.rx_drop[VS_DROP_ADMIN_DOWN], 10, "b rx admin_down");
	TEST_ASSERT_EQUAL(a.rx_dropped, 2 + 3 + 4 + 5 + 6, "a rx: nothing else");
	TEST_ASSERT_EQUAL(a.tx_dropped, 0, "a tx: nothing");
	TEST_ASSERT_EQUAL(b.rx_dropped, 10, "b rx: nothing else");
	TEST_ASSERT_EQUAL(b.tx_dropped, 1 + 8 + 9, "b tx: nothing else");
	TEST_ASSERT_EQUAL(c.tx_dropped, 7, "c tx: nothing else");
	TEST_RUN(reasons_add_up(&t, t.s.port[0], "a"));
	TEST_RUN(reasons_add_up(&t, t.s.port[1], "b"));
	TEST_RUN(reasons_add_up(&t, pc, "c"));
	/* Conservation: every frame a sent was received by the engine or dropped by
	 * a's driver; every frame for b reached it or is one of b's tx drops. */
	TEST_ASSERT_EQUAL(reaped, sent, "every transmit chain of a completed");
	vs_switch_port_driver_stats(t.s.sw, (uint16_t)t.s.port[0], &st);
	for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++)
		drv_rx += sum_reasons(st.rx[q].drop);
	TEST_ASSERT_EQUAL(a.rx_packets + drv_rx, sent, "a: received or dropped by its driver");
	/* tx_packets counts what the engine handed to b's port, its driver's
	 * drops (too long) included (vs_switch.h). */
	vs_switch_port_driver_stats(t.s.sw, (uint16_t)t.s.port[1], &st);
	for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++)
		drv_tx += sum_reasons(st.tx[q].drop);
	TEST_ASSERT_EQUAL(drv_tx, 1, "b's driver dropped the frame too long");
	TEST_ASSERT_EQUAL(b.tx_packets - drv_tx, got_b,
			  "b got what was handed, less its driver's drops");
	TEST_ASSERT_EQUAL(b.tx_packets + b.tx_dropped - drv_tx, to_b, "b: handed or dropped");
	TEST_ASSERT_SUCCESS(vs_switch_del_port(t.s.sw, "c", why, sizeof(why)), "c: %s", why);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vs_switch_mempool(t.s.sw)), 0,
			  "every mbuf came back");
	oc_teardown(&t);
	return TEST_SUCCESS;
}

static int
test_drops_add_up_onecopy(void)
{
	return drops_add_up(true);
}
REGISTER_TEST(switch_drop_reasons_add_up_with_guests, fast, test_drops_add_up_onecopy)

static int
test_drops_add_up_mbuf_path(void)
{
	return drops_add_up(false);
}
REGISTER_TEST(switch_drop_reasons_add_up_with_guests_mbuf_path, fast, test_drops_add_up_mbuf_path)
