/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net header <-> mbuf offload flags conversion of the vhost-user
 * port (drivers/net/vhost_user/vs_vnet_hdr.h), on hand-built TCP and UDP
 * frames: flags and lengths both ways, software checksums checked against
 * DPDK's own checksum routines, and headers that must be refused.
 */
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "test.h"
#include "test_eal.h"
#include "vs_vnet_hdr.h"

#define F(bit) (1ULL << (bit))

static struct rte_mempool *
pool(void)
{
	static struct rte_mempool *mp;

	if (mp == NULL)
		mp = rte_pktmbuf_pool_create("t_vnet_mp", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
	return mp;
}

#define NEED_EAL()                                                                                 \
	do {                                                                                       \
		char why_[256];                                                                    \
		if (vt_eal_init("vhost-user-port", why_, sizeof(why_)) != 0)                       \
			TEST_SKIP("%s", why_);                                                     \
		TEST_ASSERT_NOT_NULL(pool(), "mbuf pool");                                         \
	} while (0)

enum l4 { TCP, UDP };

/*
 * A frame in one buffer: Ethernet (with @p vlan tags), IPv4 or IPv6, TCP or
 * UDP with the pseudo-header sum in its checksum field (a partial checksum,
 * as a guest sends it with NEEDS_CSUM), @p payload bytes.
 */
static uint32_t
build(uint8_t *f, bool ipv6, enum l4 l4, int vlan, uint32_t payload)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	uint32_t off = sizeof(*eth), l4len = l4 == TCP ? 20 : 8;
	uint16_t type = ipv6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4;
	uint8_t *ip, *th;

	memset(f, 0, 256);
	memset(eth->dst_addr.addr_bytes, 0x02, 6);
	memset(eth->src_addr.addr_bytes, 0x04, 6);
	eth->ether_type = rte_cpu_to_be_16(vlan ? RTE_ETHER_TYPE_VLAN : type);
	for (int i = 0; i < vlan; i++) {
		struct rte_vlan_hdr *v = (struct rte_vlan_hdr *)(f + off);

		v->vlan_tci = rte_cpu_to_be_16(100 + i);
		v->eth_proto = rte_cpu_to_be_16(i + 1 < vlan ? RTE_ETHER_TYPE_VLAN : type);
		off += sizeof(*v);
	}
	ip = f + off;
	if (ipv6) {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)ip;

		h->vtc_flow = rte_cpu_to_be_32(6u << 28);
		h->payload_len = rte_cpu_to_be_16((uint16_t)(l4len + payload));
		h->proto = l4 == TCP ? IPPROTO_TCP : IPPROTO_UDP;
		h->hop_limits = 64;
		h->src_addr[15] = 1;
		h->dst_addr[15] = 2;
		off += sizeof(*h);
	} else {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

		h->version_ihl = 0x45;
		h->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len + payload));
		h->time_to_live = 64;
		h->next_proto_id = l4 == TCP ? IPPROTO_TCP : IPPROTO_UDP;
		h->src_addr = rte_cpu_to_be_32(0x0a000001);
		h->dst_addr = rte_cpu_to_be_32(0x0a000002);
		h->hdr_checksum = rte_ipv4_cksum(h);
		off += sizeof(*h);
	}
	th = f + off;
	if (l4 == TCP) {
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)th;

		t->src_port = rte_cpu_to_be_16(1234);
		t->dst_port = rte_cpu_to_be_16(80);
		t->sent_seq = rte_cpu_to_be_32(1000);
		t->data_off = 5 << 4;
		t->tcp_flags = RTE_TCP_ACK_FLAG;
		t->rx_win = rte_cpu_to_be_16(65535);
	} else {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)th;

		u->src_port = rte_cpu_to_be_16(1234);
		u->dst_port = rte_cpu_to_be_16(53);
		u->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + payload));
	}
	for (uint32_t i = 0; i < payload; i++)
		th[l4len + i] = (uint8_t)(i * 13 + 5);
	{
		uint16_t ph = ipv6 ? rte_ipv6_phdr_cksum((struct rte_ipv6_hdr *)ip, 0)
				   : rte_ipv4_phdr_cksum((struct rte_ipv4_hdr *)ip, 0);

		memcpy(th + (l4 == TCP ? 16 : 6), &ph, 2);
	}
	return off + l4len + payload;
}

/* An mbuf holding @p len bytes of @p f, split into segments of @p seg bytes. */
static struct rte_mbuf *
to_mbuf(const uint8_t *f, uint32_t len, uint32_t seg)
{
	struct rte_mbuf *m = NULL;

	for (uint32_t off = 0; off < len; off += seg) {
		struct rte_mbuf *s = rte_pktmbuf_alloc(pool());
		uint32_t n = len - off < seg ? len - off : seg;

		if (s == NULL)
			goto fail;
		memcpy(rte_pktmbuf_append(s, (uint16_t)n), f + off, n);
		if (m == NULL)
			m = s;
		else if (rte_pktmbuf_chain(m, s) != 0)
			goto fail;
	}
	return m;
fail:
	rte_pktmbuf_free(m);
	return NULL;
}

/* Whether the L4 checksum of the frame in @p m (one segment) is complete and right. */
static bool
l4_ok(const struct rte_mbuf *m, bool ipv6, uint32_t l2)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, l2);
	const void *l4 = ip + (ipv6 ? 40 : 20);

	if (ipv6)
		return rte_ipv6_udptcp_cksum_verify((const struct rte_ipv6_hdr *)ip, l4) == 0;
	return rte_ipv4_udptcp_cksum_verify((const struct rte_ipv4_hdr *)ip, l4) == 0;
}

static int
test_vnet_hdr_guest_checksum_becomes_tx_flags(void)
{
	static uint8_t f[256];
	struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM};
	struct rte_mbuf *m;
	uint32_t len;

	NEED_EAL();
	for (int vlan = 0; vlan <= 2; vlan++) {
		for (int v6 = 0; v6 <= 1; v6++) {
			for (int l4 = TCP; l4 <= UDP; l4++) {
				uint32_t l2 = 14 + 4 * (uint32_t)vlan, l3 = v6 ? 40 : 20;

				len = build(f, v6, l4, vlan, 100);
				m = to_mbuf(f, len, 2048);
				TEST_ASSERT_NOT_NULL(m, "mbuf");
				h.csum_start = (uint16_t)(l2 + l3);
				h.csum_offset = l4 == TCP ? 16 : 6;
				TEST_ASSERT_SUCCESS(vs_vnet_hdr_to_mbuf(&h, m), "accepted");
				TEST_ASSERT_EQUAL(m->ol_flags,
						  (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4) |
							  (l4 == TCP ? RTE_MBUF_F_TX_TCP_CKSUM
								     : RTE_MBUF_F_TX_UDP_CKSUM),
						  "vlan %d ipv6 %d l4 %d: flags", vlan, v6, l4);
				TEST_ASSERT(m->l2_len == l2 && m->l3_len == l3 &&
						    m->l4_len == (l4 == TCP ? 20u : 8u),
					    "vlan %d ipv6 %d l4 %d: lengths %u %u %u", vlan, v6, l4,
					    m->l2_len, m->l3_len, m->l4_len);
				TEST_ASSERT(memcmp(rte_pktmbuf_mtod(m, void *), f, len) == 0,
					    "the frame is left as it was");
				rte_pktmbuf_free(m);
			}
		}
	}
	return TEST_SUCCESS;
}
REGISTER_TEST(vnet_hdr_guest_checksum_becomes_tx_flags, fast,
	      test_vnet_hdr_guest_checksum_becomes_tx_flags)

static int
test_vnet_hdr_guest_gso_becomes_tso(void)
{
	static uint8_t f[8192];
	struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				   .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
				   .hdr_len = 54,
				   .gso_size = 1448,
				   .csum_start = 34,
				   .csum_offset = 16};
	struct rte_mbuf *m;
	uint32_t len;

	NEED_EAL();
	/* A 4000-byte segment in 2 KiB mbufs, headers split across the first two. */
	len = build(f, false, TCP, 0, 4000 - 54);
	m = to_mbuf(f, len, 40);
	TEST_ASSERT_NOT_NULL(m, "mbuf chain");
	TEST_ASSERT_SUCCESS(vs_vnet_hdr_to_mbuf(&h, m), "TSOv4 accepted");
	TEST_ASSERT_EQUAL(m->ol_flags,
			  RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM,
			  "flags");
	TEST_ASSERT(m->tso_segsz == 1448 && m->l2_len == 14 && m->l3_len == 20 && m->l4_len == 20,
		    "segment size and lengths");
	rte_pktmbuf_free(m);
	/* IPv6. */
	len = build(f, true, TCP, 1, 3000);
	m = to_mbuf(f, len, 2048);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	h.csum_start = 18 + 40;
	TEST_ASSERT_SUCCESS(vs_vnet_hdr_to_mbuf(&h, m), "TSOv6 accepted");
	TEST_ASSERT(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG && m->ol_flags & RTE_MBUF_F_TX_IPV6,
		    "v6 flags");
	rte_pktmbuf_free(m);
	return TEST_SUCCESS;
}
REGISTER_TEST(vnet_hdr_guest_gso_becomes_tso, fast, test_vnet_hdr_guest_gso_becomes_tso)

static int
test_vnet_hdr_refuses_headers_that_do_not_fit(void)
{
	static const struct {
		struct virtio_net_hdr h;
		const char *why;
	} bad[] = {
		{{VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 150, 16}, "checksum start past the end"},
		{{VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 200}, "checksum offset past the end"},
		{{VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0xffff, 0xffff}, "both at their maximum"},
		{{0, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16}, "GSO without NEEDS_CSUM"},
		{{VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 0, 34, 16},
		 "GSO with segment size 0"},
		{{VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 54, 1448, 34, 16},
		 "TCPv6 GSO on an IPv4 frame"},
		{{VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP, 54, 1448, 34, 16},
		 "UDP GSO on a TCP frame"},
		{{VIRTIO_NET_HDR_F_NEEDS_CSUM, 7, 54, 1448, 34, 16}, "unknown GSO type"},
		{{VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 30, 20},
		 "GSO with a checksum not at TCP's"},
	};
	static uint8_t f[256];
	uint32_t len;

	NEED_EAL();
	len = build(f, false, TCP, 0, 60);
	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		struct rte_mbuf *m = to_mbuf(f, len, 2048);

		TEST_ASSERT_NOT_NULL(m, "mbuf");
		TEST_ASSERT_EQUAL(vs_vnet_hdr_to_mbuf(&bad[i].h, m), -EINVAL, "%s", bad[i].why);
		rte_pktmbuf_free(m);
	}
	return TEST_SUCCESS;
}
REGISTER_TEST(vnet_hdr_refuses_headers_that_do_not_fit, fast,
	      test_vnet_hdr_refuses_headers_that_do_not_fit)

static int
test_vnet_hdr_finishes_unusual_checksums_in_software(void)
{
	static uint8_t f[512];
	/* A checksum at an offset no mbuf flag expresses (TCP's field of a
	 * UDP frame): finished here, in our own mbuf. */
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6};
	struct rte_mbuf *m;
	uint32_t len;

	NEED_EAL();
	len = build(f, false, UDP, 0, 300);
	m = to_mbuf(f, len, 100); /* the checksum field in the first of several segments */
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	h.csum_offset = 6;
	/* Ethertype the parser does not know: nothing maps, software does it. */
	((uint8_t *)rte_pktmbuf_mtod(m, uint8_t *))[12] = 0x88;
	TEST_ASSERT_SUCCESS(vs_vnet_hdr_to_mbuf(&h, m), "accepted");
	TEST_ASSERT_EQUAL(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0, "no flag: done in software");
	/* With the pseudo-header (IPv4 again for the check) it verifies. */
	{
		static uint8_t g[512];
		struct rte_mbuf *flat;

		const void *d = rte_pktmbuf_read(m, 0, len, g);

		TEST_ASSERT_NOT_NULL(d, "read back");
		if (d != g)
			memcpy(g, d, len);
		g[12] = 0x08;
		flat = to_mbuf(g, len, 2048);
		TEST_ASSERT_NOT_NULL(flat, "flat copy");
		TEST_ASSERT(l4_ok(flat, false, 14), "the UDP checksum is complete and right");
		rte_pktmbuf_free(flat);
	}
	rte_pktmbuf_free(m);
	return TEST_SUCCESS;
}
REGISTER_TEST(vnet_hdr_finishes_unusual_checksums_in_software, fast,
	      test_vnet_hdr_finishes_unusual_checksums_in_software)

/*
 * IPv6 + a hop-by-hop header of @p ext bytes + TCP (20) + @p payload bytes,
 * the TCP checksum field holding the pseudo-header sum. Returns the length.
 */
static uint32_t
build_v6_ext(uint8_t *f, uint32_t ext, uint32_t payload)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(f + 14);
	struct rte_ipv6_hdr pseudo;
	uint16_t ph;
	uint8_t *hbh = f + 14 + sizeof(*ip), *th = hbh + ext;
	struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)th;

	memset(f, 0, 14 + 40 + ext + 20 + payload);
	memset(f, 0x02, 6);
	memset(f + 6, 0x04, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(ext + 20 + payload));
	ip->proto = 0; /* hop-by-hop */
	ip->hop_limits = 64;
	ip->src_addr[15] = 1;
	ip->dst_addr[15] = 2;
	hbh[0] = IPPROTO_TCP;
	hbh[1] = (uint8_t)(ext / 8 - 1);
	/* The options are Pad1 (zeros). */
	t->src_port = rte_cpu_to_be_16(1234);
	t->dst_port = rte_cpu_to_be_16(80);
	t->data_off = 5 << 4;
	t->tcp_flags = RTE_TCP_ACK_FLAG;
	for (uint32_t i = 0; i < payload; i++)
		th[20 + i] = (uint8_t)(i * 7 + 1);
	/* The pseudo-header covers the upper-layer length, not the extension. */
	pseudo = *ip;
	pseudo.payload_len = rte_cpu_to_be_16((uint16_t)(20 + payload));
	pseudo.proto = IPPROTO_TCP;
	ph = rte_ipv6_phdr_cksum(&pseudo, 0);
	memcpy(&t->cksum, &ph, 2);
	return 14 + 40 + ext + 20 + payload;
}

/*
 * Issue 14 item 2: l3_len is 9 bits. A checksum behind 488 bytes of IPv6
 * extension headers (l3 = 528) must not become offload flags with l3_len
 * truncated to 16; it is finished in software, and TSO there is refused.
 */
static int
test_vnet_hdr_l3_longer_than_l3_len_is_not_mapped(void)
{
	static uint8_t f[1024], g[1024];
	const uint32_t ext = 488, l3 = 40 + ext, payload = 100;
	struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				   .csum_start = (uint16_t)(14 + l3),
				   .csum_offset = 16};
	const uint8_t *d;
	struct rte_mbuf *m;
	uint32_t len;

	NEED_EAL();
	len = build_v6_ext(f, ext, payload);
	m = to_mbuf(f, len, 2048);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	TEST_ASSERT_SUCCESS(vs_vnet_hdr_to_mbuf(&h, m), "accepted");
	TEST_ASSERT(!(m->ol_flags & RTE_MBUF_F_TX_L4_MASK) || m->l3_len == l3,
		    "checksum offload with l3_len %u for an L3 of %u bytes", m->l3_len, l3);
	TEST_ASSERT_EQUAL(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0, "finished in software");
	/* The finished TCP checksum verifies against the pseudo-header. */
	d = rte_pktmbuf_read(m, 0, len, g);
	TEST_ASSERT_NOT_NULL(d, "read back");
	{
		uint32_t s32 = rte_raw_cksum(d + 14 + l3, 20 + payload);
		struct rte_ipv6_hdr pseudo = *(const struct rte_ipv6_hdr *)(d + 14);

		pseudo.payload_len = rte_cpu_to_be_16((uint16_t)(20 + payload));
		pseudo.proto = IPPROTO_TCP;
		s32 += rte_ipv6_phdr_cksum(&pseudo, 0);
		s32 = (s32 & 0xffff) + (s32 >> 16);
		s32 = (s32 & 0xffff) + (s32 >> 16);
		TEST_ASSERT_EQUAL(s32, 0xffff, "the TCP checksum is complete and right");
	}
	rte_pktmbuf_free(m);
	/* TSO there cannot be expressed either: refused, not segmented wrongly. */
	m = to_mbuf(f, len, 2048);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	h.gso_size = 40;
	h.hdr_len = (uint16_t)(14 + l3 + 20);
	TEST_ASSERT_EQUAL(vs_vnet_hdr_to_mbuf(&h, m), -EINVAL, "TSO behind 528 bytes of L3");
	rte_pktmbuf_free(m);
	return TEST_SUCCESS;
}
REGISTER_TEST(vnet_hdr_l3_longer_than_l3_len_is_not_mapped, fast,
	      test_vnet_hdr_l3_longer_than_l3_len_is_not_mapped)

static int
test_vnet_hdr_tx_flags_become_guest_header(void)
{
	const uint64_t all = F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
			     F(VIRTIO_NET_F_GUEST_TSO6);
	static uint8_t f[4096];
	struct vs_vnet_sw_csum sw;
	struct virtio_net_hdr h;
	struct rte_mbuf *m;
	uint32_t len;

	NEED_EAL();
	len = build(f, false, TCP, 0, 500);
	m = to_mbuf(f, len, 2048);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 20;
	/* No offload: all zeros. */
	TEST_ASSERT_SUCCESS(vs_vnet_hdr_from_mbuf(m, all, &h, &sw), "plain");
	TEST_ASSERT(h.flags == 0 && h.gso_type == 0 && h.csum_start == 0, "zero header");
	/* A checksum to finish: the guest does it ... */
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	TEST_ASSERT_SUCCESS(vs_vnet_hdr_from_mbuf(m, all, &h, &sw), "to a GUEST_CSUM guest");
	TEST_ASSERT(h.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.csum_start == 34 &&
			    h.csum_offset == 16 && h.gso_type == 0,
		    "NEEDS_CSUM at 34+16");
	/* ... or we do. */
	TEST_ASSERT_EQUAL(vs_vnet_hdr_from_mbuf(m, 0, &h, &sw), 1, "to a guest without GUEST_CSUM");
	TEST_ASSERT(h.flags == 0 && sw.start == 34 && sw.offset == 16 && !sw.udp, "software");
	{
		uint16_t v = vs_vnet_sw_csum_value(m, &sw);
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

		TEST_ASSERT(!l4_ok(m, false, 14), "partial before");
		memcpy(p + 34 + 16, &v, 2);
		TEST_ASSERT(l4_ok(m, false, 14), "complete after");
	}
	/* TSO: the guest must take it whole. */
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG;
	m->tso_segsz = 1448;
	TEST_ASSERT_SUCCESS(vs_vnet_hdr_from_mbuf(m, all, &h, &sw), "TSO to a TSO guest");
	TEST_ASSERT(h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && h.gso_size == 1448 &&
			    h.hdr_len == 54 && h.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
			    h.csum_start == 34 && h.csum_offset == 16,
		    "GSO header");
	TEST_ASSERT_EQUAL(vs_vnet_hdr_from_mbuf(m, F(VIRTIO_NET_F_GUEST_CSUM), &h, &sw), -ENOTSUP,
			  "TSO to a guest without GUEST_TSO4: refused");
	m->ol_flags = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_SEG;
	TEST_ASSERT_EQUAL(vs_vnet_hdr_from_mbuf(m, F(VIRTIO_NET_F_GUEST_TSO4), &h, &sw), -ENOTSUP,
			  "TSOv6 needs GUEST_TSO6");
	m->tso_segsz = 0;
	TEST_ASSERT_EQUAL(vs_vnet_hdr_from_mbuf(m, all, &h, &sw), -EINVAL, "segment size 0");
	/* What a header cannot express. */
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_SCTP_CKSUM;
	TEST_ASSERT_EQUAL(vs_vnet_hdr_from_mbuf(m, all, &h, &sw), -ENOTSUP, "SCTP");
	/* Lengths that point past the frame. */
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	m->l2_len = 127;
	m->l3_len = 511;
	TEST_ASSERT_EQUAL(vs_vnet_hdr_from_mbuf(m, all, &h, &sw), -EINVAL, "l2+l3 past the end");
	m->l2_len = 14;
	m->l3_len = 20;
	/* A NIC verified it: DATA_VALID for a GUEST_CSUM guest only. */
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	TEST_ASSERT_SUCCESS(vs_vnet_hdr_from_mbuf(m, all, &h, &sw), "verified");
	TEST_ASSERT_EQUAL(h.flags, VIRTIO_NET_HDR_F_DATA_VALID, "DATA_VALID");
	TEST_ASSERT_SUCCESS(vs_vnet_hdr_from_mbuf(m, 0, &h, &sw), "verified, plain guest");
	TEST_ASSERT_EQUAL(h.flags, 0, "nothing for a guest without GUEST_CSUM");
	rte_pktmbuf_free(m);
	/* UDP over IPv6 in software: a zero result goes out as 0xffff. */
	len = build(f, true, UDP, 0, 64);
	m = to_mbuf(f, len, 30);
	m->l2_len = 14;
	m->l3_len = 40;
	m->ol_flags = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
	TEST_ASSERT_EQUAL(vs_vnet_hdr_from_mbuf(m, 0, &h, &sw), 1, "software");
	TEST_ASSERT(sw.udp && sw.start == 54 && sw.offset == 6, "UDP at 54+6");
	{
		uint16_t v = vs_vnet_sw_csum_value(m, &sw);
		struct rte_mbuf *flat = to_mbuf(f, len, 2048);

		memcpy(rte_pktmbuf_mtod(flat, uint8_t *) + 60, &v, 2);
		TEST_ASSERT(l4_ok(flat, true, 14), "UDPv6 checksum over a chain");
		rte_pktmbuf_free(flat);
	}
	rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(pool()), 0, "mbufs back");
	return TEST_SUCCESS;
}
REGISTER_TEST(vnet_hdr_tx_flags_become_guest_header, fast,
	      test_vnet_hdr_tx_flags_become_guest_header)
