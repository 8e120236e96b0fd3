/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net header <-> rte_mbuf offload flags (see vs_vnet_hdr.h).
 * Off the fast path: called only for packets whose header or flags are not
 * all zero.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vs_port.h"
#include "vs_vnet_hdr.h"

/* IPv6 extension headers walked to find the L4 header (RFC 8200, 4.1). */
#define IP6_EXT_HOP_BY_HOP 0
#define IP6_EXT_ROUTING	   43
#define IP6_EXT_DEST_OPTS  60
#define IP6_MAX_EXT	   4

/* Where the headers of a frame are. */
struct layout {
	uint32_t l2;   /* Ethernet header and VLAN tags */
	uint32_t l3;   /* IP header and IPv6 extension headers */
	uint32_t l4;   /* TCP header (with options) or UDP header */
	uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP or another */
	bool ipv4;
};

/*
 * The mbuf's l2_len, l3_len and l4_len are bit-fields (7, 9, 8 bits): IPv6
 * extension headers can make l3 longer than 511, which would be stored
 * truncated and put the checksum or TSO headers at the wrong place.
 */
static bool
fits_mbuf_lengths(const struct layout *lo)
{
	return lo->l2 < (1u << RTE_MBUF_L2_LEN_BITS) && lo->l3 < (1u << RTE_MBUF_L3_LEN_BITS) &&
	       lo->l4 < (1u << RTE_MBUF_L4_LEN_BITS);
}

/*
 * Parses Ethernet (up to two tags), IPv4 or IPv6, then TCP or UDP; -E2BIG
 * when the lengths do not fit the mbuf's fields (then nothing maps).
 */
static int
parse_layout(const struct rte_mbuf *m, struct layout *lo)
{
	union {
		struct rte_ether_hdr eth;
		struct rte_vlan_hdr vlan;
		struct rte_ipv4_hdr ip4;
		struct rte_ipv6_hdr ip6;
		struct rte_tcp_hdr tcp;
		uint8_t ext[2];
	} buf;
	const struct rte_ether_hdr *eth;
	uint16_t type;
	uint32_t off;

	memset(lo, 0, sizeof(*lo));
	eth = rte_pktmbuf_read(m, 0, sizeof(*eth), &buf);
	if (eth == NULL)
		return -EINVAL;
	type = eth->ether_type;
	off = sizeof(*eth);
	for (int i = 0; i < 2 && (type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
				  type == RTE_BE16(RTE_ETHER_TYPE_QINQ));
	     i++) {
		const struct rte_vlan_hdr *v = rte_pktmbuf_read(m, off, sizeof(*v), &buf);

		if (v == NULL)
			return -EINVAL;
		type = v->eth_proto;
		off += sizeof(*v);
	}
	lo->l2 = off;
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_read(m, off, sizeof(*ip), &buf);

		if (ip == NULL || rte_ipv4_hdr_len(ip) < sizeof(*ip))
			return -EINVAL;
		lo->l3 = rte_ipv4_hdr_len(ip);
		lo->proto = ip->next_proto_id;
		lo->ipv4 = true;
	} else if (type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip = rte_pktmbuf_read(m, off, sizeof(*ip), &buf);
		uint8_t next;

		if (ip == NULL)
			return -EINVAL;
		next = ip->proto;
		lo->l3 = sizeof(*ip);
		for (int i = 0;
		     i < IP6_MAX_EXT && (next == IP6_EXT_HOP_BY_HOP || next == IP6_EXT_ROUTING ||
					 next == IP6_EXT_DEST_OPTS);
		     i++) {
			const uint8_t *e = rte_pktmbuf_read(m, off + lo->l3, 2, &buf);

			if (e == NULL)
				return -EINVAL;
			next = e[0];
			lo->l3 += ((uint32_t)e[1] + 1) * 8;
		}
		lo->proto = next;
	} else {
		return -ENOTSUP;
	}
	if (lo->proto == IPPROTO_TCP) {
		const struct rte_tcp_hdr *th =
			rte_pktmbuf_read(m, lo->l2 + lo->l3, sizeof(*th), &buf);

		if (th == NULL || (th->data_off >> 4) < 5)
			return -EINVAL;
		lo->l4 = (uint32_t)(th->data_off >> 4) * 4;
	} else if (lo->proto == IPPROTO_UDP) {
		lo->l4 = sizeof(struct rte_udp_hdr);
	}
	if ((uint64_t)lo->l2 + lo->l3 + lo->l4 > m->pkt_len)
		return -EINVAL;
	return fits_mbuf_lengths(lo) ? 0 : -E2BIG;
}

/* Writes @p len bytes at @p off of a (possibly chained) mbuf we own. */
static void
mbuf_write(struct rte_mbuf *m, uint32_t off, const void *src, uint32_t len)
{
	const uint8_t *s = src;

	for (; m != NULL && len > 0; m = m->next) {
		uint32_t n;

		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		n = RTE_MIN(len, (uint32_t)m->data_len - off);
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, off), s, n);
		s += n;
		len -= n;
		off = 0;
	}
}

uint16_t
vs_vnet_sw_csum_value(const struct rte_mbuf *m, const struct vs_vnet_sw_csum *sw)
{
	uint16_t sum = 0, v;

	if (rte_raw_cksum_mbuf(m, sw->start, m->pkt_len - sw->start, &sum) != 0)
		sum = 0;
	v = (uint16_t)~sum;
	if (v == 0 && sw->udp)
		v = 0xffff;
	return v;
}

int
vs_vnet_hdr_to_mbuf(const struct virtio_net_hdr *h, struct rte_mbuf *m)
{
	const uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	const uint32_t start = h->csum_start, off = h->csum_offset;
	struct layout lo;
	bool mapped;

	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		/* 5.1.6.2: a GSO packet has a partial checksum. */
		return gso == VIRTIO_NET_HDR_GSO_NONE ? 0 : -EINVAL;
	if (start + off + 2 > m->pkt_len)
		return -EINVAL;
	mapped = parse_layout(m, &lo) == 0 && start == lo.l2 + lo.l3 &&
		 ((lo.proto == IPPROTO_TCP && off == offsetof(struct rte_tcp_hdr, cksum)) ||
		  (lo.proto == IPPROTO_UDP && off == offsetof(struct rte_udp_hdr, dgram_cksum)));
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		bool ok;

		if (!mapped || h->gso_size == 0)
			return -EINVAL;
		switch (gso) {
		case VIRTIO_NET_HDR_GSO_TCPV4:
			ok = lo.proto == IPPROTO_TCP && lo.ipv4;
			break;
		case VIRTIO_NET_HDR_GSO_TCPV6:
			ok = lo.proto == IPPROTO_TCP && !lo.ipv4;
			break;
		case VIRTIO_NET_HDR_GSO_UDP:
			ok = lo.proto == IPPROTO_UDP;
			break;
		default:
			ok = false;
		}
		if (!ok)
			return -EINVAL;
		m->tso_segsz = h->gso_size;
		m->ol_flags |=
			lo.proto == IPPROTO_TCP ? RTE_MBUF_F_TX_TCP_SEG : RTE_MBUF_F_TX_UDP_SEG;
	}
	if (mapped) {
		m->l2_len = lo.l2;
		m->l3_len = lo.l3;
		m->l4_len = lo.l4;
		m->ol_flags |= (lo.ipv4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) |
			       (lo.proto == IPPROTO_TCP ? RTE_MBUF_F_TX_TCP_CKSUM
							: RTE_MBUF_F_TX_UDP_CKSUM);
	} else {
		/* Not expressible as mbuf flags (another protocol, tunnels, IPv6
		 * extension headers longer than l3_len holds):
		 * finish it here, in our own copy. */
		struct vs_vnet_sw_csum sw = {start, off, false};
		uint16_t v = vs_vnet_sw_csum_value(m, &sw);

		mbuf_write(m, start + off, &v, sizeof(v));
	}
	return 0;
}

int
vs_vnet_hdr_from_mbuf(const struct rte_mbuf *m, uint64_t features, struct virtio_net_hdr *h,
		      struct vs_vnet_sw_csum *sw)
{
	const uint64_t ol = m->ol_flags;
	const uint32_t start = (uint32_t)m->l2_len + m->l3_len;
	bool tcp;

	memset(h, 0, sizeof(*h));
	if (ol & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) {
		uint64_t need;

		tcp = (ol & RTE_MBUF_F_TX_TCP_SEG) != 0;
		if (m->tso_segsz == 0 || start + m->l4_len > m->pkt_len)
			return -EINVAL;
		if (!tcp) {
			need = 1ULL << VIRTIO_NET_F_GUEST_UFO;
			h->gso_type = VIRTIO_NET_HDR_GSO_UDP;
		} else if (ol & RTE_MBUF_F_TX_IPV6) {
			need = 1ULL << VIRTIO_NET_F_GUEST_TSO6;
			h->gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
		} else {
			need = 1ULL << VIRTIO_NET_F_GUEST_TSO4;
			h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		}
		/* No software segmentation here: the guest must take it whole. */
		if (!(features & need))
			return -ENOTSUP;
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->hdr_len = (uint16_t)(start + m->l4_len);
		h->gso_size = m->tso_segsz;
		h->csum_start = (uint16_t)start;
		h->csum_offset = tcp ? offsetof(struct rte_tcp_hdr, cksum)
				     : offsetof(struct rte_udp_hdr, dgram_cksum);
		return 0;
	}
	switch (ol & RTE_MBUF_F_TX_L4_MASK) {
	case RTE_MBUF_F_TX_TCP_CKSUM:
	case RTE_MBUF_F_TX_UDP_CKSUM:
		tcp = (ol & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM;
		sw->start = start;
		sw->offset = tcp ? offsetof(struct rte_tcp_hdr, cksum)
				 : offsetof(struct rte_udp_hdr, dgram_cksum);
		sw->udp = !tcp;
		if (start + sw->offset + 2 > m->pkt_len)
			return -EINVAL;
		if (!(features & (1ULL << VIRTIO_NET_F_GUEST_CSUM)))
			return 1;
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)start;
		h->csum_offset = (uint16_t)sw->offset;
		return 0;
	case RTE_MBUF_F_TX_SCTP_CKSUM:
		return -ENOTSUP;
	default:
		break;
	}
	/* Verified by a NIC: spare the guest the check (5.1.6.4.1). */
	if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
	    (features & (1ULL << VIRTIO_NET_F_GUEST_CSUM)))
		h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
	return 0;
}

int
vs_vnet_hdr_normalise(struct virtio_net_hdr *h, uint32_t frame_len, uint8_t *needs)
{
	const struct virtio_net_hdr in = *h;
	uint8_t need;

	memset(h, 0, sizeof(*h));
	*needs = 0;
	if (in.flags == 0 && in.gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	/* 5.1.6.2: a driver sets no other flag; GSO needs a partial checksum. */
	if (in.flags != VIRTIO_NET_HDR_F_NEEDS_CSUM ||
	    (uint32_t)in.csum_start + in.csum_offset + 2 > frame_len)
		return -EINVAL;
	switch (in.gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		need = VS_FRAME_NEED_CSUM;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		need = VS_FRAME_NEED_CSUM | VS_FRAME_NEED_TSO4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		need = VS_FRAME_NEED_CSUM | VS_FRAME_NEED_TSO6;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		need = VS_FRAME_NEED_CSUM | VS_FRAME_NEED_UFO;
		break;
	default:
		return -EINVAL;
	}
	if (in.gso_type != VIRTIO_NET_HDR_GSO_NONE && (in.gso_size == 0 || in.hdr_len > frame_len))
		return -EINVAL;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = in.csum_start;
	h->csum_offset = in.csum_offset;
	if (in.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		h->gso_type = in.gso_type;
		h->gso_size = in.gso_size;
		h->hdr_len = in.hdr_len;
	}
	*needs = need;
	return 0;
}
