/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio port's data path: receive and transmit bursts over lib/virtq's
 * driver side, zero-copy or through fixed buffers (see vs_virtio_priv.h).
 *
 * Receive: used buffers are reaped into mbufs (virtio-net header ->
 * offload flags; with MRG_RXBUF a packet spans num_buffers buffers,
 * virtio 1.2, 5.1.6.4), then the ring is refilled and the device kicked if
 * it asks for it. Transmit: completed chains are reaped and their mbufs
 * freed, the burst is posted (offload flags -> header) and the device
 * kicked once, if it asks for it (VIRTIO_F_EVENT_IDX aware, in lib/virtq).
 */
#include <stddef.h>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vs_virtio_priv.h"

#define HDR_LEN ((uint32_t)sizeof(struct vs_vnet_hdr))
/* Segments one transmitted packet may take (header included); longer mbuf
 * chains are repacked into a copy first. */
#define TX_MAX_SEGS (VIO_INDIRECT_MAX - 1)
#define TX_SEGS	    (VIO_BURST * 4)

#define TX_OFFLOAD_MASK (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)

static inline struct vio_port *
to_vio(struct vs_port *port)
{
	return (struct vio_port *)port;
}

/* ------------------------------------------------------------------------ */
/* Offloads                                                                 */
/* ------------------------------------------------------------------------ */

/* The L2 header length of the frame in @p m's first segment (VLAN tags
 * skipped) and its ethertype; 0 if the segment is too short. */
static uint16_t
l2_parse(const struct rte_mbuf *m, uint16_t *ethertype)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t off = RTE_ETHER_HDR_LEN, et;

	if (m->data_len < RTE_ETHER_HDR_LEN)
		return 0;
	et = (uint16_t)(d[12] << 8 | d[13]);
	while ((et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) &&
	       m->data_len >= off + RTE_VLAN_HLEN) {
		et = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
		off += RTE_VLAN_HLEN;
	}
	*ethertype = et;
	return off;
}

/*
 * The device's header on a received packet -> mbuf flags. Besides the
 * receive flags, the transmit flags and lengths are set so that the packet
 * can leave through another port with the same offload still pending, as
 * DPDK's vhost library does in its legacy offload mode: a switch forwards
 * a partial checksum or a GSO frame, it does not complete it.
 */
static void __rte_noinline
rx_offload(struct rte_mbuf *m, const struct vs_vnet_hdr *h)
{
	uint16_t et = 0, l2 = l2_parse(m, &et);
	uint64_t ipf = 0;

	if (l2 != 0 && et == RTE_ETHER_TYPE_IPV4)
		ipf = RTE_MBUF_F_TX_IPV4;
	else if (l2 != 0 && et == RTE_ETHER_TYPE_IPV6)
		ipf = RTE_MBUF_F_TX_IPV6;
	if (h->flags & VS_VNET_HDR_F_NEEDS_CSUM) {
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
		if (ipf != 0 && h->csum_start > l2 && l2 <= 127 && h->csum_start - l2 <= 511) {
			m->l2_len = l2;
			m->l3_len = (uint16_t)(h->csum_start - l2);
			if (h->csum_offset == offsetof(struct rte_tcp_hdr, cksum))
				m->ol_flags |= ipf | RTE_MBUF_F_TX_TCP_CKSUM;
			else if (h->csum_offset == offsetof(struct rte_udp_hdr, dgram_cksum))
				m->ol_flags |= ipf | RTE_MBUF_F_TX_UDP_CKSUM;
		}
	} else if (h->flags & VS_VNET_HDR_F_DATA_VALID) {
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	}
	if (h->gso_type == VS_VNET_HDR_GSO_NONE || h->gso_size == 0)
		return;
	m->ol_flags |= RTE_MBUF_F_RX_LRO;
	m->tso_segsz = h->gso_size;
	switch (h->gso_type & ~VS_VNET_HDR_GSO_ECN) {
	case VS_VNET_HDR_GSO_TCPV4:
	case VS_VNET_HDR_GSO_TCPV6:
		if ((m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM) &&
		    (uint32_t)m->l2_len + m->l3_len + sizeof(struct rte_tcp_hdr) <= m->data_len) {
			const struct rte_tcp_hdr *t = rte_pktmbuf_mtod_offset(
				m, const struct rte_tcp_hdr *, m->l2_len + m->l3_len);

			m->l4_len = (uint16_t)((t->data_off >> 4) * 4);
			m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		}
		break;
	case VS_VNET_HDR_GSO_UDP:
		if (m->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM) {
			m->l4_len = sizeof(struct rte_udp_hdr);
			m->ol_flags |= RTE_MBUF_F_TX_UDP_SEG;
		}
		break;
	default:
		break;
	}
}

/* mbuf flags -> header, where the device does the work (CSUM, HOST_TSO). */
static bool
tx_hdr_offload(const struct vio_txq *q, struct vs_vnet_hdr *h, const struct rte_mbuf *m)
{
	const uint64_t f = m->ol_flags;
	const uint16_t l4_off = (uint16_t)(m->l2_len + m->l3_len);

	if (f & RTE_MBUF_F_TX_UDP_SEG)
		return false; /* UFO is gone from virtio-net devices */
	if (f & RTE_MBUF_F_TX_TCP_SEG) {
		if (!q->tso || m->tso_segsz == 0)
			return false;
		h->gso_type =
			(f & RTE_MBUF_F_TX_IPV6) ? VS_VNET_HDR_GSO_TCPV6 : VS_VNET_HDR_GSO_TCPV4;
		h->gso_size = m->tso_segsz;
		h->hdr_len = (uint16_t)(l4_off + m->l4_len);
		h->flags = VS_VNET_HDR_F_NEEDS_CSUM;
		h->csum_start = l4_off;
		h->csum_offset = offsetof(struct rte_tcp_hdr, cksum);
		return true;
	}
	if (!q->csum)
		return false;
	switch (f & RTE_MBUF_F_TX_L4_MASK) {
	case RTE_MBUF_F_TX_TCP_CKSUM:
		h->csum_offset = offsetof(struct rte_tcp_hdr, cksum);
		break;
	case RTE_MBUF_F_TX_UDP_CKSUM:
		h->csum_offset = offsetof(struct rte_udp_hdr, dgram_cksum);
		break;
	default:
		return false; /* SCTP's CRC32c is not the Internet checksum */
	}
	h->flags = VS_VNET_HDR_F_NEEDS_CSUM;
	h->csum_start = l4_off;
	return true;
}

/*
 * The L4 checksum of @p m computed here, for a device without CSUM: the
 * packet's checksum field holds the pseudo-header sum (the convention of
 * TX_*_CKSUM); it is summed with the rest and taken out again, so @p m is
 * only read. Returns false for headers that do not add up.
 */
static bool
sw_l4_cksum(const struct rte_mbuf *m, uint16_t *out, uint32_t *field_off)
{
	const uint64_t f = m->ol_flags;
	const uint32_t l4_off = (uint32_t)m->l2_len + m->l3_len;
	const uint32_t coff = (f & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_UDP_CKSUM
				      ? offsetof(struct rte_udp_hdr, dgram_cksum)
				      : offsetof(struct rte_tcp_hdr, cksum);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len, sum;
	uint16_t raw, v, ph;
	bool udp = coff == offsetof(struct rte_udp_hdr, dgram_cksum);

	if (m->l2_len == 0 || m->l3_len == 0 || l4_off + coff + 2 > m->data_len)
		return false;
	if (f & RTE_MBUF_F_TX_IPV6) {
		const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(p + m->l2_len);

		len = rte_be_to_cpu_16(ip6->payload_len) + sizeof(*ip6) - m->l3_len;
		ph = rte_ipv6_phdr_cksum(ip6, 0);
	} else {
		const struct rte_ipv4_hdr *ip4 = (const struct rte_ipv4_hdr *)(p + m->l2_len);
		uint32_t tot = rte_be_to_cpu_16(ip4->total_length);

		if (tot < m->l3_len)
			return false;
		len = tot - m->l3_len;
		ph = rte_ipv4_phdr_cksum(ip4, 0);
	}
	if (len > UINT16_MAX || rte_raw_cksum_mbuf(m, l4_off, len, &raw) != 0)
		return false;
	v = *(const unaligned_uint16_t *)(p + l4_off + coff);
	/* One's complement: the sum without the field is sum + ~field (RFC 1071). */
	sum = (uint32_t)raw + ph + (uint16_t)~v;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	v = (uint16_t)~sum;
	if (v == 0 && udp)
		v = 0xffff; /* RFC 768 */
	*out = v;
	*field_off = l4_off + coff;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Receive                                                                  */
/* ------------------------------------------------------------------------ */

/* Where a posted mbuf's buffer starts: the header goes just before the data. */
static inline uintptr_t
rx_buf_addr(const struct rte_mbuf *m)
{
	return (uintptr_t)m->buf_addr + RTE_PKTMBUF_HEADROOM - HDR_LEN;
}

/* Posts up to @p max chains of fresh mbufs; returns the chains posted. */
static unsigned int
rx_post_zc(struct vio_rxq *q, unsigned int max)
{
	struct rte_mbuf *m[VIO_BURST * 4];
	unsigned int n = max < VIO_BURST ? max : VIO_BURST, k = n * q->chain, posted;

	if (n == 0)
		return 0;
	if (k > RTE_DIM(m)) {
		n = RTE_DIM(m) / q->chain;
		k = n * q->chain;
	}
	if (unlikely(rte_pktmbuf_alloc_bulk(q->mp, m, k) != 0)) {
		q->st.drops += n;
		return 0;
	}
	if (q->chain == 1) {
		uint64_t addr[VIO_BURST];
		uint32_t len[VIO_BURST];

		for (unsigned int i = 0; i < n; i++) {
			addr[i] = rx_buf_addr(m[i]);
			len[i] = q->buf_cap;
		}
		posted = vq_drv_post_buf(q->vq, addr, len, (void **)m, n, VQ_DESC_F_WRITE);
	} else {
		struct vq_drv_seg seg[VIO_BURST * 4];
		struct vq_drv_chain ch[VIO_BURST];

		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *head = m[i * q->chain];

			for (unsigned int j = 0; j < q->chain; j++) {
				struct rte_mbuf *s = m[i * q->chain + j];

				seg[i * q->chain + j] = (struct vq_drv_seg){
					rx_buf_addr(s), q->buf_cap, VQ_DESC_F_WRITE, 0};
				if (j > 0)
					m[i * q->chain + j - 1]->next = s;
			}
			head->nb_segs = q->chain;
			ch[i] = (struct vq_drv_chain){head, &seg[i * q->chain], q->chain};
		}
		posted = vq_drv_post(q->vq, ch, n);
	}
	if (unlikely(posted < n)) {
		for (unsigned int i = posted; i < n; i++)
			rte_pktmbuf_free(m[i * q->chain]);
	}
	return posted;
}

static void
rx_refill_zc(struct vio_rxq *q)
{
	unsigned int room = vq_drv_free_count(q->vq) / q->chain_desc;

	if (room < q->refill_min)
		return;
	while (room > 0) {
		unsigned int posted = rx_post_zc(q, room);

		if (posted == 0)
			break;
		room -= posted;
	}
	if (vq_drv_kick_needed(q->vq))
		vs_vdev_kick(q->ring);
}

/* Copy mode: posts buffers @p idx[0..n) (1-based cookies). */
static void
rx_post_copy(struct vio_rxq *q, const uint16_t *idx, unsigned int n)
{
	uint64_t addr[VIO_BURST];
	uint32_t len[VIO_BURST];
	void *ck[VIO_BURST];

	for (unsigned int i = 0; i < n; i++) {
		addr[i] = (uintptr_t)(q->bufs + (size_t)idx[i] * q->buf_size);
		len[i] = q->buf_size;
		ck[i] = (void *)(uintptr_t)(idx[i] + 1u);
	}
	vq_drv_post_buf(q->vq, addr, len, ck, n, VQ_DESC_F_WRITE);
}

unsigned int
vio_rx_fill(struct vio_rxq *q)
{
	unsigned int total = 0;

	if (q->copy) {
		uint16_t idx[VIO_BURST];
		unsigned int size = q->vq->size;

		for (unsigned int i = 0; i < size; i += VIO_BURST) {
			unsigned int n = size - i < VIO_BURST ? size - i : VIO_BURST;

			for (unsigned int j = 0; j < n; j++)
				idx[j] = (uint16_t)(i + j);
			rx_post_copy(q, idx, n);
		}
		total = vq_drv_inflight(q->vq);
	} else {
		unsigned int room = vq_drv_free_count(q->vq) / q->chain_desc, posted;

		while (room > 0 && (posted = rx_post_zc(q, room)) > 0) {
			room -= posted;
			total += posted;
		}
	}
	if (vq_drv_kick_needed(q->vq))
		vs_vdev_kick(q->ring);
	return total;
}

void
vio_rx_drop_partial(struct vio_rxq *q)
{
	if (q->head != NULL)
		rte_pktmbuf_free(q->head);
	q->head = q->tail = NULL;
	q->left = 0;
	q->bad = false;
}

/* Without MRG_RXBUF: spreads @p len used bytes over the chain posted. */
static struct rte_mbuf *
rx_chain_done(struct vio_rxq *q, struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *s = m, *prev = NULL;
	uint32_t left = len - HDR_LEN, pkt = left;
	uint16_t nseg = 0;

	m->data_len = (uint16_t)RTE_MIN(left, q->buf_cap - HDR_LEN);
	left -= m->data_len;
	for (prev = m, s = m->next, nseg = 1; s != NULL && left > 0; prev = s, s = s->next) {
		s->data_off = RTE_PKTMBUF_HEADROOM - HDR_LEN;
		s->data_len = (uint16_t)RTE_MIN(left, q->buf_cap);
		left -= s->data_len;
		nseg++;
	}
	if (s != NULL) {
		prev->next = NULL;
		rte_pktmbuf_free(s); /* the unused tail of the chain */
	}
	m->nb_segs = nseg;
	m->pkt_len = pkt;
	return m;
}

/* The first buffer of a packet: its header, validated. */
static inline bool
rx_first(struct vio_rxq *q, struct rte_mbuf *m, uint32_t len, const struct vs_vnet_hdr *h,
	 uint16_t *nbufs)
{
	/* The Ethernet header at least, in the first buffer: the switch reads it there. */
	if (unlikely(len < HDR_LEN + RTE_ETHER_HDR_LEN))
		return false;
	*nbufs = q->mrg ? h->num_buffers : 1;
	if (unlikely(*nbufs == 0 || *nbufs > q->max_bufs))
		return false;
	m->port = q->port_id;
	return true;
}

/* The header's offload part, once the packet's lengths are set. */
static inline void
rx_header(struct rte_mbuf *m, const struct vs_vnet_hdr *h)
{
	if (unlikely(h->flags != 0 || h->gso_type != VS_VNET_HDR_GSO_NONE))
		rx_offload(m, h);
}

static uint16_t
rx_burst_zc(struct vio_rxq *q, struct rte_mbuf **pkts, uint16_t nb)
{
	void *ck[VIO_BURST];
	uint32_t len[VIO_BURST];
	uint16_t got = 0;
	uint64_t bytes = 0;

	while (got < nb) {
		unsigned int want = RTE_MIN((unsigned int)(nb - got), (unsigned int)VIO_BURST);
		unsigned int n = vq_drv_reap(q->vq, ck, len, want);

		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *m = ck[i];
			uint16_t nbufs;

			if (i + 1 < n)
				rte_prefetch0((uint8_t *)((struct rte_mbuf *)ck[i + 1])->buf_addr +
					      RTE_PKTMBUF_HEADROOM - HDR_LEN);
			if (q->left == 0) {
				const struct vs_vnet_hdr *h =
					(const struct vs_vnet_hdr *)rx_buf_addr(m);

				if (unlikely(!rx_first(q, m, len[i], h, &nbufs))) {
					q->st.errors++;
					q->st.drop[VS_DROP_BAD_CHAIN]++;
					rte_pktmbuf_free(m);
					continue;
				}
				if (q->chain > 1) {
					pkts[got++] = rx_chain_done(q, m, len[i]);
					rx_header(m, h);
					bytes += m->pkt_len;
					continue;
				}
				m->data_len = (uint16_t)(len[i] - HDR_LEN);
				m->pkt_len = m->data_len;
				/* The headers the offload describes are in this first buffer. */
				rx_header(m, h);
				if (nbufs == 1) {
					pkts[got++] = m;
					bytes += m->pkt_len;
					continue;
				}
				q->head = q->tail = m;
				q->left = (uint16_t)(nbufs - 1);
				continue;
			}
			/* A further buffer of a merged packet: data from its start. */
			m->data_off = RTE_PKTMBUF_HEADROOM - HDR_LEN;
			m->data_len = (uint16_t)len[i];
			q->tail->next = m;
			q->tail = m;
			q->head->nb_segs++;
			q->head->pkt_len += len[i];
			if (--q->left == 0) {
				pkts[got++] = q->head;
				bytes += q->head->pkt_len;
				q->head = q->tail = NULL;
			}
		}
		if (n < want)
			break;
	}
	q->st.packets += got;
	q->st.bytes += bytes;
	rx_refill_zc(q);
	return got;
}

/* Copy mode: appends @p len bytes to the packet being built. */
static bool
rx_append(struct vio_rxq *q, const uint8_t *src, uint32_t len)
{
	while (len > 0) {
		struct rte_mbuf *t = q->tail;
		uint32_t room = t != NULL ? rte_pktmbuf_tailroom(t) : 0, n;

		if (room == 0) {
			struct rte_mbuf *s = rte_pktmbuf_alloc(q->mp);

			if (s == NULL)
				return false;
			if (q->head == NULL) {
				q->head = s;
			} else {
				t->next = s;
				q->head->nb_segs++;
			}
			q->tail = s;
			continue;
		}
		n = RTE_MIN(room, len);
		rte_memcpy(rte_pktmbuf_mtod_offset(t, uint8_t *, t->data_len), src, n);
		t->data_len = (uint16_t)(t->data_len + n);
		q->head->pkt_len += n;
		src += n;
		len -= n;
	}
	return true;
}

static uint16_t
rx_burst_copy(struct vio_rxq *q, struct rte_mbuf **pkts, uint16_t nb)
{
	void *ck[VIO_BURST];
	uint32_t len[VIO_BURST];
	uint16_t idx[VIO_BURST], got = 0;
	uint64_t bytes = 0;

	while (got < nb) {
		unsigned int want = RTE_MIN((unsigned int)(nb - got), (unsigned int)VIO_BURST);
		unsigned int n = vq_drv_reap(q->vq, ck, len, want);

		for (unsigned int i = 0; i < n; i++) {
			uint16_t b = (uint16_t)((uintptr_t)ck[i] - 1);
			const uint8_t *buf = q->bufs + (size_t)b * q->buf_size;
			uint32_t off = 0;

			idx[i] = b;
			if (q->left == 0) {
				const struct vs_vnet_hdr *h = (const struct vs_vnet_hdr *)buf;
				uint16_t nbufs;

				q->bad = false;
				q->head = q->tail = NULL;
				if (len[i] < HDR_LEN + RTE_ETHER_HDR_LEN ||
				    (nbufs = q->mrg ? h->num_buffers : 1) == 0 ||
				    nbufs > q->max_bufs) {
					q->st.errors++;
					q->st.drop[VS_DROP_BAD_CHAIN]++;
					continue;
				}
				q->left = nbufs;
				off = HDR_LEN;
				if (!rx_append(q, buf + off, len[i] - off) || q->head == NULL)
					q->bad = true;
				else if (unlikely(h->flags != 0 ||
						  h->gso_type != VS_VNET_HDR_GSO_NONE))
					rx_offload(q->head, h);
			} else if (!q->bad && !rx_append(q, buf, len[i])) {
				q->bad = true;
			}
			if (--q->left > 0)
				continue;
			if (q->bad) {
				q->st.drops++;
				q->st.drop[VS_DROP_NO_MBUF]++;
				vio_rx_drop_partial(q);
				continue;
			}
			q->head->port = q->port_id;
			pkts[got++] = q->head;
			bytes += q->head->pkt_len;
			q->head = q->tail = NULL;
		}
		/* The bytes are copied out: the same buffers go back at once. */
		rx_post_copy(q, idx, n);
		if (n < want)
			break;
	}
	if (vq_drv_kick_needed(q->vq))
		vs_vdev_kick(q->ring);
	q->st.packets += got;
	q->st.bytes += bytes;
	return got;
}

uint16_t
vio_rx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	struct vio_rxq *q;

	if (unlikely(queue >= VS_VDEV_MAX_PAIRS))
		return 0;
	q = &to_vio(port)->rxq[queue];
	if (unlikely(!__atomic_load_n(&q->ready, __ATOMIC_ACQUIRE)))
		return 0;
	if (q->copy)
		return rx_burst_copy(q, pkts, nb);
	return rx_burst_zc(q, pkts, nb);
}

/* ------------------------------------------------------------------------ */
/* Transmit                                                                 */
/* ------------------------------------------------------------------------ */

static void
tx_reap(struct vio_txq *q)
{
	void *ck[VIO_BURST];
	uint32_t len[VIO_BURST];
	struct rte_mbuf *done[VIO_BURST];
	unsigned int n;

	do {
		unsigned int nf = 0;

		n = vq_drv_reap(q->vq, ck, len, VIO_BURST);
		for (unsigned int i = 0; i < n; i++) {
			uintptr_t c = (uintptr_t)ck[i];

			if (q->copy) {
				q->free_slot[q->nfree++] = (uint16_t)(c - 1);
			} else if (c & VIO_SLOT_TAG) {
				struct vio_txslot *s =
					(struct vio_txslot *)(c & ~(uintptr_t)VIO_SLOT_TAG);

				done[nf++] = s->m;
				q->free_slot[q->nfree++] = (uint16_t)(s - q->slots);
			} else {
				done[nf++] = (struct rte_mbuf *)c;
			}
		}
		if (nf)
			rte_pktmbuf_free_bulk(done, nf);
	} while (n == VIO_BURST);
}

/* An mbuf segment whose data the device can read where it is. */
static inline bool
seg_visible(const struct vio_txq *q, const struct rte_mbuf *s)
{
	const struct rte_mempool *mp = s->pool;

	if (unlikely(!RTE_MBUF_DIRECT(s))) {
		if (RTE_MBUF_HAS_EXTBUF(s))
			return vs_vmem_covers(q->vmem, (uintptr_t)s->buf_addr, s->buf_len);
		mp = rte_mbuf_from_indirect((struct rte_mbuf *)(uintptr_t)s)->pool;
	}
	if (likely(mp == q->mp))
		return true;
	return vs_vmem_covers(q->vmem, (uintptr_t)s->buf_addr, s->buf_len);
}

/* An mbuf we may write (the header into its headroom, a checksum into its data). */
static inline bool
writable(const struct rte_mbuf *m)
{
	return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1;
}

enum tx_verdict {
	TX_OK,	 /* post it */
	TX_DROP, /* ours to drop: counted as an error, freed */
	TX_STOP, /* no mbuf for a copy: stop the burst here */
};

/*
 * The rare cases of zero-copy transmit: offload flags, mbufs the device
 * cannot see, chains too long. *@p out is what to post (@p m or a copy).
 */
static enum tx_verdict __rte_noinline
tx_prepare_slow(struct vio_txq *q, struct rte_mbuf *m, struct vs_vnet_hdr *h, struct rte_mbuf **out)
{
	bool copy = m->nb_segs >= TX_MAX_SEGS, sw = false;
	struct rte_mbuf *c = m;
	uint32_t field = 0;
	uint16_t ck = 0;

	for (const struct rte_mbuf *s = m; s != NULL && !copy; s = s->next)
		copy = !seg_visible(q, s);
	if (m->ol_flags & TX_OFFLOAD_MASK && !tx_hdr_offload(q, h, m)) {
		/* No CSUM on the device: the checksum is computed here. */
		if ((m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) ||
		    ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != RTE_MBUF_F_TX_TCP_CKSUM &&
		     (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != RTE_MBUF_F_TX_UDP_CKSUM) ||
		    !sw_l4_cksum(m, &ck, &field)) {
			q->st.drop[VS_DROP_BAD_OFFLOAD]++;
			return TX_DROP;
		}
		*h = (struct vs_vnet_hdr){0};
		sw = true;
		copy = copy || !writable(m);
	}
	if (copy) {
		c = rte_pktmbuf_copy(m, q->mp, 0, UINT32_MAX);
		if (c == NULL)
			return TX_STOP;
		if (c->nb_segs >= TX_MAX_SEGS) {
			rte_pktmbuf_free(c);
			q->st.drop[VS_DROP_TOO_LONG]++;
			return TX_DROP;
		}
	}
	if (sw)
		*rte_pktmbuf_mtod_offset(c, unaligned_uint16_t *, field) = ck;
	*out = c;
	return TX_OK;
}

struct tx_batch {
	struct vq_drv_chain ch[VIO_BURST];
	struct vq_drv_seg seg[TX_SEGS];
	struct rte_mbuf *orig[VIO_BURST]; /* the caller's packet */
	struct rte_mbuf *post[VIO_BURST]; /* what was posted: it, or a copy */
	int32_t slot[VIO_BURST];	  /* header slot, or -1 */
	unsigned int n, nseg;
};

/* Posts the batch; undoes what did not fit. Returns the chains posted. */
static unsigned int
tx_flush(struct vio_txq *q, struct tx_batch *b, uint64_t *bytes)
{
	unsigned int posted = b->n ? vq_drv_post(q->vq, b->ch, b->n) : 0;

	for (unsigned int i = 0; i < b->n; i++) {
		if (i < posted) {
			*bytes += b->orig[i]->pkt_len;
			if (b->post[i] != b->orig[i])
				rte_pktmbuf_free(b->orig[i]); /* the copy went */
			continue;
		}
		if (b->slot[i] >= 0)
			q->free_slot[q->nfree++] = (uint16_t)b->slot[i];
		if (b->post[i] != b->orig[i])
			rte_pktmbuf_free(b->post[i]);
	}
	b->n = b->nseg = 0;
	return posted;
}

/* Adds @p c (posted for @p m) with header @p h to the batch. */
static inline bool
tx_add(struct vio_txq *q, struct tx_batch *b, struct rte_mbuf *m, struct rte_mbuf *c,
       const struct vs_vnet_hdr *h)
{
	struct vq_drv_seg *seg = &b->seg[b->nseg];
	unsigned int k = 0;
	int32_t slot = -1;
	void *cookie = c;

	if (likely(writable(c) && rte_pktmbuf_headroom(c) >= HDR_LEN)) {
		/* Ours alone: the header goes in the headroom, one element (ANY_LAYOUT). */
		uint8_t *d = rte_pktmbuf_mtod(c, uint8_t *) - HDR_LEN;

		memcpy(d, h, HDR_LEN);
		seg[k++] = (struct vq_drv_seg){(uintptr_t)d, HDR_LEN + c->data_len, 0, 0};
	} else {
		if (unlikely(q->nfree == 0))
			return false;
		slot = q->free_slot[--q->nfree];
		q->hdrs[slot] = *h;
		q->slots[slot].m = c;
		seg[k++] = (struct vq_drv_seg){(uintptr_t)&q->hdrs[slot], HDR_LEN, 0, 0};
		if (c->data_len)
			seg[k++] = (struct vq_drv_seg){rte_pktmbuf_mtod(c, uintptr_t), c->data_len,
						       0, 0};
		cookie = (void *)((uintptr_t)&q->slots[slot] | VIO_SLOT_TAG);
	}
	for (const struct rte_mbuf *s = c->next; s != NULL; s = s->next)
		if (s->data_len)
			seg[k++] = (struct vq_drv_seg){rte_pktmbuf_mtod(s, uintptr_t), s->data_len,
						       0, 0};
	b->ch[b->n] = (struct vq_drv_chain){cookie, seg, (uint16_t)k};
	b->orig[b->n] = m;
	b->post[b->n] = c;
	b->slot[b->n] = slot;
	b->n++;
	b->nseg += k;
	return true;
}

static uint16_t
tx_burst_zc(struct vio_txq *q, struct rte_mbuf **pkts, uint16_t nb)
{
	struct tx_batch b;
	uint64_t bytes = 0;
	uint16_t sent = 0, i;
	uint64_t errors = 0;

	b.n = b.nseg = 0;
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i], *c = m;
		struct vs_vnet_hdr h = {0};
		enum tx_verdict v = TX_OK;

		if (unlikely((m->ol_flags & TX_OFFLOAD_MASK) || m->nb_segs > 1 ||
			     m->pool != q->mp || !RTE_MBUF_DIRECT(m)))
			v = tx_prepare_slow(q, m, &h, &c);
		if (unlikely(v != TX_OK) || b.n == VIO_BURST || b.nseg + c->nb_segs + 1 > TX_SEGS) {
			unsigned int n = b.n, posted = tx_flush(q, &b, &bytes);

			sent = (uint16_t)(sent + posted);
			if (posted < n || v == TX_STOP) {
				if (v == TX_OK && c != m)
					rte_pktmbuf_free(c);
				goto out;
			}
			if (v == TX_DROP) {
				/* Everything before it went: it is ours to drop. */
				rte_pktmbuf_free(m);
				errors++;
				sent++;
				continue;
			}
		}
		if (unlikely(!tx_add(q, &b, m, c, &h))) {
			/* No header slot: the completions were reaped already. */
			if (c != m)
				rte_pktmbuf_free(c);
			break;
		}
	}
	sent = (uint16_t)(sent + tx_flush(q, &b, &bytes));
out:
	if (vq_drv_kick_needed(q->vq))
		vs_vdev_kick(q->ring);
	q->st.packets += sent - errors;
	q->st.bytes += bytes;
	q->st.errors += errors;
	return sent;
}

/* Copy mode: the packet into fixed buffer @p b; returns its length or 0 to drop it. */
static uint32_t
tx_copy_one(struct vio_txq *q, struct rte_mbuf *m, uint8_t *buf)
{
	struct vs_vnet_hdr *h = (struct vs_vnet_hdr *)buf;
	uint32_t off = HDR_LEN, field = 0;
	uint16_t ck = 0;
	bool sw = false;

	if (m->pkt_len > q->buf_size - HDR_LEN) {
		q->st.drop[VS_DROP_TOO_LONG]++;
		return 0;
	}
	*h = (struct vs_vnet_hdr){0};
	if (unlikely(m->ol_flags & TX_OFFLOAD_MASK) && !tx_hdr_offload(q, h, m)) {
		if ((m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) ||
		    !sw_l4_cksum(m, &ck, &field)) {
			q->st.drop[VS_DROP_BAD_OFFLOAD]++;
			return 0;
		}
		*h = (struct vs_vnet_hdr){0};
		sw = true;
	}
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		rte_memcpy(buf + off, rte_pktmbuf_mtod(s, const uint8_t *), s->data_len);
		off += s->data_len;
	}
	if (sw)
		memcpy(buf + HDR_LEN + field, &ck, sizeof(ck));
	return off;
}

static uint16_t
tx_burst_copy(struct vio_txq *q, struct rte_mbuf **pkts, uint16_t nb)
{
	uint16_t sent = 0;
	uint64_t bytes = 0, errors = 0;

	while (sent < nb) {
		uint64_t addr[VIO_BURST];
		uint32_t len[VIO_BURST];
		void *ck[VIO_BURST];
		unsigned int n = 0, posted;
		uint16_t first = sent;

		while (sent + n < nb && n < VIO_BURST && q->nfree > 0) {
			struct rte_mbuf *m = pkts[sent + n];
			uint16_t b = q->free_slot[q->nfree - 1];
			uint8_t *buf = q->bufs + (size_t)b * q->buf_size;
			uint32_t l = tx_copy_one(q, m, buf);

			if (l == 0) {
				/* Too long, or an offload nobody can do: post what came before. */
				if (n > 0)
					break;
				rte_pktmbuf_free(m);
				errors++;
				sent++;
				first = sent;
				continue;
			}
			q->nfree--;
			addr[n] = (uintptr_t)buf;
			len[n] = l;
			ck[n] = (void *)(uintptr_t)(b + 1u);
			bytes += m->pkt_len;
			n++;
		}
		if (n == 0)
			break;
		posted = vq_drv_post_buf(q->vq, addr, len, ck, n, 0);
		for (unsigned int i = posted; i < n; i++) {
			q->free_slot[q->nfree++] = (uint16_t)((uintptr_t)ck[i] - 1);
			bytes -= pkts[first + i]->pkt_len;
		}
		rte_pktmbuf_free_bulk(&pkts[first], posted);
		sent = (uint16_t)(first + posted);
		if (posted < n)
			break;
	}
	if (vq_drv_kick_needed(q->vq))
		vs_vdev_kick(q->ring);
	q->st.packets += sent - errors;
	q->st.bytes += bytes;
	q->st.errors += errors;
	return sent;
}

uint16_t
vio_tx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	struct vio_txq *q;

	if (unlikely(queue >= VS_VDEV_MAX_PAIRS))
		return 0;
	q = &to_vio(port)->txq[queue];
	if (unlikely(!__atomic_load_n(&q->ready, __ATOMIC_ACQUIRE)))
		return 0;
	if (vq_drv_free_count(q->vq) < q->reap_below || q->nfree < VIO_BURST)
		tx_reap(q);
	if (q->copy)
		return tx_burst_copy(q, pkts, nb);
	return tx_burst_zc(q, pkts, nb);
}

/* ------------------------------------------------------------------------ */
/* Tear-down                                                                */
/* ------------------------------------------------------------------------ */

void
vio_release_cookie(void *cookie, void *arg)
{
	uintptr_t c = (uintptr_t)cookie;

	(void)arg;
	if (c & VIO_SLOT_TAG)
		rte_pktmbuf_free(((struct vio_txslot *)(c & ~(uintptr_t)VIO_SLOT_TAG))->m);
	else
		rte_pktmbuf_free((struct rte_mbuf *)c);
}
