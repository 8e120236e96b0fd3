/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user": the data path. rx_burst dequeues what the guest
 * transmitted (its TX ring 2q+1) into mbufs; tx_burst enqueues mbufs into
 * the guest's RX ring 2q. Both follow the call sequences of doc/virtq.md,
 * one lib/virtq burst (at most 32 chains) at a time, with the common case
 * (one guest buffer holds header and frame, one mbuf holds the frame, no
 * offload) kept straight and everything else moved out of line.
 *
 * Everything read from the guest is untrusted: lengths are bounded, the
 * header is copied once before use, and a malformed ring stops only its own
 * queue (lib/virtq marks it broken; we count an error and signal its error
 * eventfd).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "vhost_guard.h"
#include "vs_vhost_user_priv.h"
#include "vs_vnet_hdr.h"

/* ---- notifications ---- */

/* The queue broke during this burst: count it once and tell the front-end. */
static void __rte_noinline __rte_cold
vu_ring_broken(struct vu_ring *r)
{
	static const uint64_t one = 1;

	if (r->broken)
		return;
	r->broken = true;
	VU_ADD(r->stats->errors, 1);
	if (r->err_fd >= 0) {
		ssize_t rc = write(r->err_fd, &one, sizeof(one));

		(void)rc;
	}
}

/* ---- crash-safe mode: returns held for this lcore's transaction ---- */

/*
 * Returns burst @p b of @p r held in this lcore's transaction, or at once
 * when there is none. The receive side opens one; the transmit side
 * (@p join_only) only joins an open one, so that what comes from a port
 * without transactions (an uplink) is published as before.
 */
void __rte_noinline
vu_ring_return(struct vu_ring *r, const struct vq_burst *b, bool join_only)
{
	struct vu_txn *t = vu_txn_self();

	if (t != NULL && (!join_only || t->n > 0) && vu_txn_add(t, r)) {
		vq_dev_return_held(&r->vq, b);
		return;
	}
	vq_dev_return(&r->vq, b);
	if (vq_dev_call_needed(&r->vq))
		vu_call(r);
}

/* An rx_burst that took chains but hands the engine no packet: no rx_done
 * follows, so the transaction ends here. */
static void __rte_noinline
vu_rx_nothing(void)
{
	struct vu_txn *t = vu_txn_self();

	if (t != NULL && t->n > 0)
		vu_txn_commit(t);
}

void
vu_rx_done(struct vs_port *port, uint16_t queue)
{
	struct vu_txn *t = vu_txn_self();

	(void)port;
	(void)queue;
	if (t != NULL && t->n > 0)
		vu_txn_commit(t);
}

void
vu_tx_flush(struct vs_port *port, uint16_t queue)
{
	struct vu_txn *t = vu_txn_self();
	struct vu_ring *r;

	if (t == NULL || t->n == 0 || queue >= VS_PORT_MAX_QUEUES)
		return;
	r = __atomic_load_n(&vu_port(port)->live[2 * queue], __ATOMIC_ACQUIRE);
	if (r != NULL && r->txn == t)
		vu_txn_release(t, r);
}

void __rte_noinline __rte_cold
vu_count_drop(struct vu_stats *st, int rc)
{
	unsigned int why = rc == -ENOMEM     ? VS_DROP_NO_MBUF
			   : rc == -EMSGSIZE ? VS_DROP_TOO_LONG
			   : rc == -EBADMSG  ? VS_DROP_BAD_OFFLOAD
			   : rc == -ERANGE   ? VS_DROP_RUNT
					     : VS_DROP_BAD_CHAIN;

	VU_ADD(st->drop[why], 1);
}

/* ---- dequeue: guest TX ring -> mbufs ---- */

/*
 * Copies @p len bytes of @p seg (from byte @p off on) into @p m, chaining
 * mbufs from @p r->mp past the data room. @p m is fresh (data_len 0).
 */
static int __rte_noinline
vu_copy_segs_to_mbuf(const struct vu_ring *r, struct rte_mbuf *m, const struct vq_seg *seg,
		     unsigned int nseg, uint32_t off, uint32_t len)
{
	struct rte_mbuf *cur = m;
	uint32_t left = len;

	for (unsigned int i = 0; i < nseg && left > 0; i++) {
		const uint8_t *src;
		uint32_t n;

		if (off >= seg[i].len) {
			off -= seg[i].len;
			continue;
		}
		src = seg[i].addr + off;
		n = RTE_MIN(seg[i].len - off, left);
		off = 0;
		left -= n;
		while (n > 0) {
			uint32_t room = r->room - cur->data_len, k;

			if (room == 0) {
				struct rte_mbuf *next = rte_pktmbuf_alloc(r->mp);

				if (next == NULL)
					return -ENOMEM;
				cur->next = next;
				cur = next;
				m->nb_segs++;
				room = r->room;
			}
			k = RTE_MIN(n, room);
			rte_memcpy(rte_pktmbuf_mtod_offset(cur, uint8_t *, cur->data_len), src, k);
			cur->data_len = (uint16_t)(cur->data_len + k);
			src += k;
			n -= k;
		}
	}
	m->pkt_len = len - left;
	return left == 0 ? 0 : -EINVAL;
}

/*
 * A chain other than one buffer holding header and frame. Every segment is
 * packet data, whatever its WRITE flag: a transmit buffer has nothing for
 * the device to write (5.1.6.2), and DPDK's virtio PMD leaves stray WRITE
 * flags in its packed transmit tables (see lib/virtq's dev_walk.c). Reading
 * them is harmless; lib/virtq has bounded and translated them all.
 */
static int __rte_noinline
vu_dequeue_slow(const struct vu_ring *r, const struct vq_chain *c, struct rte_mbuf *m,
		struct virtio_net_hdr *h)
{
	const uint32_t hdr_len = r->hdr_len, len = c->rlen + c->wlen;

	if (c->flags & VQ_CHAIN_F_OVERSIZE || (len > hdr_len && len - hdr_len > VU_MAX_FRAME))
		return -EMSGSIZE;
	if (len <= hdr_len)
		return -EINVAL;
	memset(h, 0, sizeof(*h));
	vq_segs_copy_out(c->seg, c->nseg, 0, h, sizeof(*h));
	return vu_copy_segs_to_mbuf(r, m, c->seg, c->nseg, hdr_len, len - hdr_len);
}

/* The header of a chain the fast path did not take whole. */
static int __rte_noinline
vu_dequeue_other(const struct vu_ring *r, const struct vq_chain *c, struct rte_mbuf *m)
{
	struct virtio_net_hdr h;
	int rc;

	if (c->nseg == 1) {
		const uint8_t *src = c->seg[0].addr;
		const uint32_t len = c->seg[0].len;

		if (len <= r->hdr_len)
			return -EINVAL;
		if (len - r->hdr_len > VU_MAX_FRAME)
			return -EMSGSIZE;
		memcpy(&h, src, sizeof(h));
		rc = vu_copy_segs_to_mbuf(r, m, c->seg, 1, r->hdr_len, len - r->hdr_len);
	} else {
		rc = vu_dequeue_slow(r, c, m, &h);
	}
	if (rc != 0)
		return rc;
	if ((h.flags | h.gso_type) && vs_vnet_hdr_to_mbuf(&h, m) != 0)
		return -EBADMSG;
	return 0;
}

/* A frame of one buffer with a header that asks for something. */
static int __rte_noinline
vu_dequeue_offload(const uint8_t *src, struct rte_mbuf *m)
{
	struct virtio_net_hdr h;

	/* Read once: the guest may change it under us. */
	memcpy(&h, src, sizeof(h));
	return vs_vnet_hdr_to_mbuf(&h, m) == 0 ? 0 : -EBADMSG;
}

/*
 * Fills @p m with the frame of chain @p c. Returns 0, -EINVAL (no frame
 * after the header), -EMSGSIZE (too long), -EBADMSG (a header asking for
 * what the frame cannot give) or -ENOMEM (no mbuf to chain).
 */
static __rte_always_inline int
vu_dequeue_one(const struct vu_ring *r, const struct vq_chain *c, struct rte_mbuf *m,
	       uint32_t hdr_len, uint32_t room)
{
	if (likely(c->nseg == 1)) {
		const uint8_t *src = c->seg[0].addr;
		const uint32_t len = c->seg[0].len, dlen = len - hdr_len;

		/* The common case: one buffer, header and a frame for one mbuf. */
		if (likely(len > hdr_len && dlen <= room)) {
			uint16_t ask; /* flags and gso_type */

			rte_memcpy(rte_pktmbuf_mtod(m, void *), src + hdr_len, dlen);
			m->data_len = (uint16_t)dlen;
			m->pkt_len = dlen;
			memcpy(&ask, src, sizeof(ask));
			return likely(ask == 0) ? 0 : vu_dequeue_offload(src, m);
		}
	}
	return vu_dequeue_other(r, c, m);
}

/* Closes the gaps a burst's refused packets left; returns how many remain. */
static __rte_noinline unsigned int
vu_compact(struct rte_mbuf **pkts, unsigned int k)
{
	unsigned int out = 0;

	for (unsigned int i = 0; i < k; i++)
		if (pkts[i] != NULL)
			pkts[out++] = pkts[i];
	return out;
}

/* One lib/virtq burst: at most 32 packets. */
static inline uint16_t
vu_dequeue_burst(struct vu_ring *r, struct rte_mbuf **pkts, uint16_t nb)
{
	struct vq_burst *b = &r->burst;
	const uint32_t hdr_len = r->hdr_len, room = r->room;
	uint64_t bytes = 0;
	unsigned int k, out = 0, errors = 0, drops = 0;

	k = vq_dev_take(&r->vq, b, nb);
	if (unlikely(k == 0)) {
		if (unlikely(vq_dev_error(&r->vq) != 0))
			vu_ring_broken(r);
		return 0;
	}
	if (unlikely(rte_pktmbuf_alloc_bulk(r->mp, pkts, k) != 0)) {
		/* Leave the packets in the ring for the next poll: none is dropped. */
		vq_dev_untake(&r->vq, b, 0);
		return 0;
	}
	/* A recovery from SIGBUS frees them (vu_rx_fault()). */
	r->held = pkts;
	r->nheld = (uint16_t)k;
	for (unsigned int i = 0; i < k; i++) {
		struct rte_mbuf *m = pkts[i];
		int rc;

		if (i + 1 < k)
			rte_prefetch0(b->chain[i + 1].seg[0].addr);
		rc = vu_dequeue_one(r, &b->chain[i], m, hdr_len, room);
		if (likely(rc == 0)) {
			bytes += m->pkt_len;
			continue;
		}
		rte_pktmbuf_free(m);
		pkts[i] = NULL;
		vu_count_drop(r->stats, rc);
		if (rc == -ENOMEM)
			drops++;
		else
			errors++;
	}
	out = k;
	if (unlikely(errors | drops))
		out = vu_compact(pkts, k);
	/* Transmitted buffers are returned with used length 0 (5.1.6.2). */
	if (unlikely(r->hold)) {
		vu_ring_return(r, b, false);
	} else {
		vq_dev_return(&r->vq, b);
		if (vq_dev_call_needed(&r->vq))
			vu_call(r);
	}
	if (unlikely(vq_dev_error(&r->vq) != 0))
		vu_ring_broken(r);
	r->nheld = 0;
	VU_ADD(r->stats->packets, out);
	VU_ADD(r->stats->bytes, bytes);
	if (unlikely(errors | drops)) {
		VU_ADD(r->stats->errors, errors);
		VU_ADD(r->stats->drops, drops);
	}
	return (uint16_t)out;
}

/* Out of line: the prologue of the whole dequeue is paid only with work. */
static __rte_noinline uint16_t
vu_dequeue(struct vu_ring *r, struct rte_mbuf **pkts, uint16_t nb)
{
	uint16_t done = 0;

	r->done = 0;
	while (done < nb) {
		uint16_t want = (uint16_t)RTE_MIN(nb - done, VQ_BURST_MAX);
		uint16_t n = vu_dequeue_burst(r, pkts + done, want);

		done = (uint16_t)(done + n);
		r->done = done;
		if (n < want)
			break;
	}
	/* Armed (a guarded ring) the commit waits for vu_rx_guarded()'s end. */
	if (unlikely(r->hold && done == 0) && !r->guard)
		vu_rx_nothing();
	return done;
}

/*
 * A started, disabled guest TX ring: vhost-user "Ring states" asks to
 * "process and discard any TX packets". Its chains are returned unread
 * (used length 0, as for any transmit buffer) and counted as drops.
 */

static void
vu_discard_ring(struct vu_ring *r)
{
	unsigned int k = vq_dev_take(&r->vq, &r->burst, VQ_BURST_MAX);

	if (k > 0) {
		vq_dev_return(&r->vq, &r->burst);
		if (vq_dev_call_needed(&r->vq))
			vu_call(r);
		VU_ADD(r->stats->drops, k);
		VU_ADD(r->stats->drop[VS_DROP_DISABLED], k);
	}
	if (unlikely(vq_dev_error(&r->vq) != 0))
		vu_ring_broken(r);
}

static __rte_noinline __rte_cold uint16_t
vu_discard(struct vs_vu_port *p, uint16_t queue)
{
	struct vu_ring *r = __atomic_load_n(&p->discard[2 * queue + 1], __ATOMIC_ACQUIRE);
	struct vh_guard *g;

	if (r == NULL)
		return 0;
	if (!r->guard) {
		vu_discard_ring(r);
		return 0;
	}
	g = vh_guard_self();
	if (sigsetjmp(g->jb, 0) != 0) {
		vu_ring_fault(r, g);
		return 0;
	}
	vh_guard_arm(g);
	vu_discard_ring(r);
	vh_guard_disarm(g);
	return 0;
}

static __rte_always_inline uint16_t
vu_rx_ring(struct vu_ring *r, struct rte_mbuf **pkts, uint16_t nb)
{
	/*
	 * An empty ring, the common case of a poll (idle ports, the 32-port
	 * scaling case), costs one look at the ring. A ring found corrupt by
	 * this look is reported as vu_dequeue_burst() would.
	 */
	if (vq_dev_avail_hint(&r->vq, 1) == 0) {
		if (unlikely(vq_dev_error(&r->vq) != 0))
			vu_ring_broken(r);
		return 0;
	}
	return vu_dequeue(r, pkts, nb);
}

/*
 * Guest memory went away under a burst (SIGBUS, recovered by vhost_guard):
 * the ring stops for good (the front-end has to start over), the control
 * thread of the memory's owner closes the connection.
 */
void __rte_noinline __rte_cold
vu_ring_fault(struct vu_ring *r, const struct vh_guard *g)
{
	vq_dev_fail(&r->vq, -EFAULT, "guest memory at 0x%" PRIxPTR " is gone (SIGBUS)",
		    g->fault_addr);
	vu_ring_broken(r);
	/* Crash-safe mode: its held returns are never published (the guest
	 * resets the ring); the other rings of the transaction still are. */
	vu_txn_forget(r);
	vu_memory_fault(g->fault_owner, g->fault_addr);
}

void __rte_noinline __rte_cold
vu_ring_peek_fault(struct vu_ring *r)
{
	vu_ring_fault(r, vh_guard_self());
}

/* After a recovery in rx: the finished bursts' packets go on, the interrupted one's go back. */
static __rte_noinline __rte_cold uint16_t
vu_rx_fault(struct vu_ring *r, const struct vh_guard *g)
{
	for (unsigned int i = 0; i < r->nheld; i++)
		if (r->held[i] != NULL)
			rte_pktmbuf_free(r->held[i]);
	r->nheld = 0;
	vu_ring_fault(r, g);
	return r->done;
}

/*
 * A ring whose memory may fault (vhost_guard.h): the burst runs armed, but
 * an empty ring arms nothing (vu_ring_idle()). Out of line, so that an
 * unguarded ring's poll is built as if this were not there.
 */
static __rte_noinline uint16_t
vu_rx_guarded(struct vu_ring *r, struct rte_mbuf **pkts, uint16_t nb)
{
	struct vh_guard *g;
	uint16_t n;

	if (likely(vu_ring_idle(r)))
		return 0;
	g = vh_guard_self();
	r->done = 0;
	r->nheld = 0;
	if (unlikely(sigsetjmp(g->jb, 0) != 0))
		return vu_rx_fault(r, g);
	vh_guard_arm(g);
	n = vu_rx_ring(r, pkts, nb);
	vh_guard_disarm(g);
	/* Chains taken, no packet for the engine: no rx_done, the commit is here. */
	if (unlikely(r->hold) && n == 0)
		vu_rx_nothing();
	return n;
}

/* Queue @p queue's guest TX ring: discarded when not live, guarded when its memory may fault. */
static __rte_always_inline uint16_t
vu_rx_queue(struct vs_vu_port *p, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	struct vu_ring *r = __atomic_load_n(&p->live[2 * queue + 1], __ATOMIC_ACQUIRE);

	if (r == NULL)
		return vu_discard(p, queue);
	if (r->guard)
		return vu_rx_guarded(r, pkts, nb);
	return vu_rx_ring(r, pkts, nb);
}

/* A frame the control thread queued (SEND_RARP) goes first, then the ring's. */
static __rte_noinline __rte_cold uint16_t
vu_rx_inject(struct vs_vu_port *p, struct rte_mbuf **pkts, uint16_t nb)
{
	struct rte_mbuf *m = __atomic_exchange_n(&p->inject, NULL, __ATOMIC_ACQUIRE);

	if (m == NULL)
		return vu_rx_queue(p, 0, pkts, nb);
	pkts[0] = m;
	VU_ADD(p->injected, 1);
	if (nb == 1)
		return 1;
	return (uint16_t)(1 + vu_rx_queue(p, 0, pkts + 1, (uint16_t)(nb - 1)));
}

uint16_t
vu_rx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	struct vs_vu_port *p = vu_port(port);

	if (unlikely(queue >= VS_PORT_MAX_QUEUES))
		return 0;
	if (unlikely(__atomic_load_n(&p->inject, __ATOMIC_RELAXED) != NULL) && queue == 0 && nb > 0)
		return vu_rx_inject(p, pkts, nb);
	return vu_rx_queue(p, queue, pkts, nb);
}

int
vu_chain_to_mbuf(const struct vu_ring *r, const struct vq_chain *c, struct rte_mbuf *m)
{
	return vu_dequeue_one(r, c, m, r->hdr_len, r->room);
}

void
vu_ring_call(const struct vu_ring *r)
{
	vu_call(r);
}

void
vu_ring_fail(struct vu_ring *r)
{
	vu_ring_broken(r);
}

/* ---- enqueue: mbufs -> guest RX ring ---- */

/* Copies @p len bytes to byte @p off of the segments (header and frame). */
static inline void
vu_copy_in(const struct vq_seg *seg, unsigned int nseg, unsigned int *si, uint32_t *so,
	   const uint8_t *src, uint32_t len)
{
	while (len > 0 && *si < nseg) {
		uint32_t n = RTE_MIN(len, seg[*si].len - *so);

		rte_memcpy(seg[*si].addr + *so, src, n);
		src += n;
		len -= n;
		*so += n;
		if (*so == seg[*si].len) {
			(*si)++;
			*so = 0;
		}
	}
}

/* Header and frame of @p m across several guest buffers (mergeable). */
static void __rte_noinline
vu_enqueue_segs(const struct vu_ring *r, const struct vq_pkt *pk,
		const struct virtio_net_hdr_mrg_rxbuf *h, const struct rte_mbuf *m)
{
	unsigned int si = 0;
	uint32_t so = 0;

	vu_copy_in(pk->seg, pk->nseg, &si, &so, (const uint8_t *)h, r->hdr_len);
	for (; m != NULL; m = m->next)
		vu_copy_in(pk->seg, pk->nseg, &si, &so, rte_pktmbuf_mtod(m, const uint8_t *),
			   m->data_len);
}

/* A packet whose header is not all zeros, or whose checksum we finish. */
static void __rte_noinline
vu_enqueue_offload(const struct vu_ring *r, const struct vq_pkt *pk, const struct rte_mbuf *m)
{
	struct virtio_net_hdr_mrg_rxbuf h;
	struct vs_vnet_sw_csum sw;
	int rc;

	memset(&h, 0, sizeof(h));
	rc = vs_vnet_hdr_from_mbuf(m, r->features, &h.hdr, &sw);
	h.num_buffers = pk->nbufs;
	vu_enqueue_segs(r, pk, &h, m);
	if (rc == 1) {
		uint16_t v = vs_vnet_sw_csum_value(m, &sw);

		vq_segs_copy_in(pk->seg, pk->nseg, r->hdr_len + sw.start + sw.offset, &v,
				sizeof(v));
	}
}

/* Anything but one mbuf into one guest buffer without offloads. */
static void __rte_noinline
vu_enqueue_slow(const struct vu_ring *r, const struct vq_pkt *pk, const struct rte_mbuf *m)
{
	if (m->ol_flags & VS_VNET_TX_OFFLOADS) {
		vu_enqueue_offload(r, pk, m);
	} else {
		struct virtio_net_hdr_mrg_rxbuf h;

		memset(&h, 0, sizeof(h));
		h.num_buffers = pk->nbufs;
		vu_enqueue_segs(r, pk, &h, m);
	}
}

/*
 * Puts the header of a packet without offloads at @p dst: flags, gso_type,
 * hdr_len, gso_size, csum_start and csum_offset 0, then num_buffers @p nbufs
 * when the header has it (12 bytes). Each part is stored only where the
 * buffer does not hold it already. The guest's buffers are recycled and
 * its driver keeps such headers as they are (DPDK's virtio PMD clears a
 * transmit header field by field, only where nonzero), so the bytes are
 * usually right: not storing them leaves the cache line before the frame
 * shared with the guest instead of taking it away, which would cost the
 * guest a miss on its next read of num_buffers (the line holds no frame
 * bytes: the frame starts a line further). The guest may change its own
 * buffer meanwhile; it can only hurt its own view of the header.
 */
static __rte_always_inline void
vu_put_plain_hdr(uint8_t *dst, uint32_t hdr_len, uint16_t nbufs)
{
	const uint64_t zero = 0;
	const uint32_t tail = (uint32_t)nbufs << 16; /* csum_offset 0, num_buffers */
	uint64_t head;
	uint32_t have;

	memcpy(&head, dst, sizeof(head));
	if (unlikely(head != 0))
		memcpy(dst, &zero, sizeof(zero));
	if (likely(hdr_len == VU_HDR_LEN_MODERN)) {
		memcpy(&have, dst + 8, sizeof(have));
		if (unlikely(have != tail))
			memcpy(dst + 8, &tail, sizeof(tail));
	} else {
		uint16_t off;

		memcpy(&off, dst + 8, sizeof(off));
		if (unlikely(off != 0))
			memcpy(dst + 8, &zero, sizeof(off));
	}
}

static __rte_always_inline void
vu_enqueue_one(const struct vu_ring *r, const struct vq_pkt *pk, const struct rte_mbuf *m,
	       uint32_t hdr_len)
{
	if (likely(pk->nseg == 1 && m->nb_segs == 1 && !(m->ol_flags & VS_VNET_TX_OFFLOADS))) {
		uint8_t *dst = pk->seg[0].addr;

		vu_put_plain_hdr(dst, hdr_len, pk->nbufs);
		rte_memcpy(dst + hdr_len, rte_pktmbuf_mtod(m, const void *), m->data_len);
		return;
	}
	vu_enqueue_slow(r, pk, m);
}

/*
 * Frees what was sent, as rte_pktmbuf_free_bulk() does, with the common case
 * (a direct, single-segment mbuf nobody else holds, from the first one's
 * pool) returned to its pool in one put; a packet shared with other ports
 * (reference count > 1), chained or attached takes rte_pktmbuf_free().
 */
static inline void
vu_free_sent(struct rte_mbuf **pkts, unsigned int n)
{
	struct rte_mempool *mp = pkts[0]->pool;
	void *put[VQ_BURST_MAX];
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (likely(m->pool == mp && m->nb_segs == 1 && RTE_MBUF_DIRECT(m) &&
			   rte_mbuf_refcnt_read(m) == 1))
			put[k++] = m;
		else
			rte_pktmbuf_free(m);
	}
	if (k > 0)
		rte_mempool_put_bulk(mp, put, k);
}

/*
 * Whether @p m can go to this guest at all: a sane length and offloads it
 * can take. Checked before any buffer is taken for it.
 */
static bool
vu_sendable(const struct vu_ring *r, const struct rte_mbuf *m)
{
	if (unlikely(m->pkt_len < VU_MIN_FRAME || m->pkt_len > VU_MAX_FRAME))
		return false;
	if (unlikely(m->ol_flags & VS_VNET_TX_OFFLOADS)) {
		struct virtio_net_hdr h;
		struct vs_vnet_sw_csum sw;

		return vs_vnet_hdr_from_mbuf(m, r->features, &h, &sw) >= 0;
	}
	return true;
}

/* Why packet @p m can never go to this guest, as vu_count_drop() reads it. */
static int __rte_noinline __rte_cold
vu_unsendable_why(const struct vu_ring *r, const struct rte_mbuf *m)
{
	if (m->pkt_len < VU_MIN_FRAME)
		return -ERANGE;
	if (m->pkt_len <= VU_MAX_FRAME && (m->ol_flags & VS_VNET_TX_OFFLOADS) && !vu_sendable(r, m))
		return -EBADMSG;
	/* Too long, or longer than any buffer the guest posts. */
	return -EMSGSIZE;
}

/*
 * One lib/virtq burst of at most 32 packets. Returns how many of @p pkts it
 * consumed (sent, or dropped because they can never be sent) from the
 * front; *@p stop is set when the ring has no room for the next one.
 */
static inline uint16_t
vu_enqueue_burst(struct vu_ring *r, struct rte_mbuf **pkts, uint16_t nb, bool *stop)
{
	struct vq_burst *b = &r->burst;
	const uint32_t hdr_len = r->hdr_len;
	uint32_t len[VQ_BURST_MAX];
	uint64_t bytes = 0, ol = 0;
	unsigned int n, k;
	bool odd = false;

	/* The common burst (sane lengths, no offload) in one pass without
	 * branches; any other goes through the exact check. */
	for (n = 0; n < nb; n++) {
		const struct rte_mbuf *m = pkts[n];

		len[n] = hdr_len + m->pkt_len;
		ol |= m->ol_flags;
		odd |= m->pkt_len - VU_MIN_FRAME > VU_MAX_FRAME - VU_MIN_FRAME;
	}
	if (unlikely(odd || (ol & VS_VNET_TX_OFFLOADS)))
		for (n = 0; n < nb && vu_sendable(r, pkts[n]); n++)
			;
	k = n > 0 ? vq_dev_take_rx(&r->vq, b, len, n) : 0;
	for (unsigned int p = 0; p < k; p++) {
		const struct rte_mbuf *m = pkts[p];

		if (p + 1 < k)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[p + 1], void *));
		vu_enqueue_one(r, &b->pkt[p], m, hdr_len);
		bytes += m->pkt_len;
	}
	if (k > 0) {
		if (unlikely(r->hold)) {
			vu_ring_return(r, b, true);
		} else {
			vq_dev_return(&r->vq, b);
			if (vq_dev_call_needed(&r->vq))
				vu_call(r);
		}
		vu_free_sent(pkts, k);
		VU_ADD(r->stats->packets, k);
		VU_ADD(r->stats->bytes, bytes);
	}
	if (likely(k == nb))
		return (uint16_t)k;
	if (unlikely(vq_dev_error(&r->vq) != 0)) {
		vu_ring_broken(r);
		*stop = true;
		return (uint16_t)k;
	}
	/* Packet k did not go. Unsendable: it never will, drop it. */
	if (k == n)
		goto drop;
	/* No room for it now: the next round starts with it. */
	if (k > 0)
		return (uint16_t)k;
	/*
	 * Not even the first packet found room. While buffers are available,
	 * one that can never hold it (without mergeable buffers: too long for
	 * one buffer; with them: more than a burst carries) would block the
	 * queue for good: drop it. Else the ring is full.
	 */
	if (vu_ring_has_buffers(r))
		goto drop;
	*stop = true;
	return 0;
drop:
	vu_count_drop(r->stats, vu_unsendable_why(r, pkts[k]));
	rte_pktmbuf_free(pkts[k]);
	VU_ADD(r->stats->drops, 1);
	return (uint16_t)(k + 1);
}

static __rte_always_inline uint16_t
vu_enqueue_from(struct vu_ring *r, const void *items, uint16_t first, uint16_t n, bool *stop)
{
	return vu_enqueue_burst(r, (struct rte_mbuf **)(uintptr_t)items + first, n, stop);
}

/*
 * A ring whose memory may fault, armed. After a recovery the packets of the
 * interrupted lib/virtq burst are still the caller's (they are freed only
 * once placed and returned), so the count of the finished ones is the
 * answer.
 */
static __rte_noinline uint16_t
vu_tx_guarded(struct vu_ring *r, struct rte_mbuf **pkts, uint16_t nb)
{
	struct vh_guard *g = vh_guard_self();
	uint16_t n;

	r->done = 0;
	if (unlikely(sigsetjmp(g->jb, 0) != 0)) {
		vu_ring_fault(r, g);
		return r->done;
	}
	vh_guard_arm(g);
	n = vu_ring_put_all(r, pkts, nb, vu_enqueue_from);
	vh_guard_disarm(g);
	return n;
}

uint16_t
vu_tx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	struct vu_ring *r;

	if (unlikely(queue >= VS_PORT_MAX_QUEUES))
		return 0;
	r = __atomic_load_n(&vu_port(port)->live[2 * queue], __ATOMIC_ACQUIRE);
	if (r == NULL)
		return 0;
	if (r->guard)
		return vu_tx_guarded(r, pkts, nb);
	return vu_ring_put_all(r, pkts, nb, vu_enqueue_from);
}
