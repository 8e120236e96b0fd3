/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user": one copy between guests (vs_port_onecopy_ops).
 * rx_frames takes the chains a guest transmitted and describes each frame
 * where it lies in the guest's memory (its header and first bytes copied
 * once); tx_frames places such frames in another guest's receive buffers
 * with one copy from guest memory to guest memory; rx_frames_done returns
 * the transmitted chains. Frames that cannot go that way are copied into
 * an mbuf with the dequeue path's own code (vu_chain_to_mbuf()).
 *
 * Memory: the source ring is the one rx_frames loaded from live[]; the
 * engine passes it back through ctx and calls rx_frames_done within the
 * same poll iteration (no quiescent state between), so the grace period
 * of vs_vhost_user_priv.h keeps the source guest's mapping valid for every
 * tx_frames into other guests, whose own rings are loaded from their live[]
 * for the duration of the call. Both mappings are therefore valid for each
 * copy, whatever either guest's memory table does meanwhile.
 *
 * SIGBUS (vhost_guard.h): each call that touches the memory of a guest
 * that can pull it away runs armed, as the bursts of vs_vhost_user_rxtx.c
 * do (as theirs, an empty rx_frames poll only peeks: vu_ring_idle()).
 * tx_frames reads the sender's memory too, so it runs armed while any
 * connected guest's memory can fault; a fault there in the sender's memory
 * gives this ring's taken buffers back untouched (only vu_frame_put() reads
 * the sender, and that is before the buffers are returned) and tells the
 * sender's control thread; the sender's own calls then fault on their own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stddef.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "vhost_guard.h"
#include "vs_vhost_user_priv.h"
#include "vs_vnet_hdr.h"

#define F(bit) (1ULL << (bit))

/* lib/virtq's segments are handed to the engine as they are. */
_Static_assert(sizeof(struct vs_port_seg) == sizeof(struct vq_seg) &&
		       offsetof(struct vs_port_seg, addr) == offsetof(struct vq_seg, addr) &&
		       offsetof(struct vs_port_seg, len) == offsetof(struct vq_seg, len),
	       "struct vs_port_seg mirrors struct vq_seg");

/* ---- receive: describe what the guest sent ---- */

/* Fills @p f from chain @p c (index @p i) of ring @p r. */
static inline void
vu_frame_describe(const struct vu_ring *r, const struct vq_chain *c, uint16_t i,
		  struct vs_port_frame *f)
{
	const uint32_t hdr_len = r->hdr_len, total = c->rlen + c->wlen;

	f->idx = i;
	f->seg = (const struct vs_port_seg *)c->seg;
	f->nseg = c->nseg;
	f->off = hdr_len;
	f->resv = 0;
	if (unlikely(c->flags & VQ_CHAIN_F_OVERSIZE || total < hdr_len + VS_FRAME_HEAD ||
		     total - hdr_len > VU_MAX_FRAME)) {
		f->needs = VS_FRAME_NEED_MBUF;
		f->len = 0;
		return;
	}
	f->len = total - hdr_len;
	/* Read once: the guest may change its buffer under us. */
	if (likely(c->nseg == 1)) {
		memcpy(&f->vnet, c->seg[0].addr, sizeof(f->vnet));
		memcpy(f->head, c->seg[0].addr + hdr_len, VS_FRAME_HEAD);
	} else {
		memset(&f->vnet, 0, sizeof(f->vnet));
		vq_segs_copy_out(c->seg, c->nseg, 0, &f->vnet, sizeof(f->vnet));
		vq_segs_copy_out(c->seg, c->nseg, hdr_len, f->head, VS_FRAME_HEAD);
	}
	f->needs = 0;
	if (unlikely(f->vnet.flags | f->vnet.gso_type) &&
	    vs_vnet_hdr_normalise(&f->vnet, f->len, &f->needs) != 0)
		f->needs = VS_FRAME_NEED_MBUF;
}

/* Out of line, as vu_dequeue(): an empty poll does not pay for it. */
static __rte_noinline uint16_t
vu_take_frames(struct vu_ring *r, struct vs_port_frame *f, uint16_t nb)
{
	struct vq_burst *b = &r->burst;
	uint64_t bytes = 0;
	unsigned int k, counted = 0;

	k = vq_dev_take(&r->vq, b, RTE_MIN(nb, VQ_BURST_MAX));
	if (unlikely(k == 0)) {
		if (unlikely(vq_dev_error(&r->vq) != 0))
			vu_ring_fail(r);
		return 0;
	}
	for (unsigned int i = 0; i < k; i++) {
		if (i + 1 < k && b->chain[i + 1].nseg > 0)
			rte_prefetch0(b->chain[i + 1].seg[0].addr);
		vu_frame_describe(r, &b->chain[i], (uint16_t)i, &f[i]);
		if (likely(!(f[i].needs & VS_FRAME_NEED_MBUF))) {
			bytes += f[i].len;
			counted++;
		}
	}
	/* Frames for the mbuf path are counted by vu_frame_to_mbuf(). */
	VU_ADD(r->stats->packets, counted);
	VU_ADD(r->stats->bytes, bytes);
	return (uint16_t)k;
}

/*
 * A frame the control thread queued (SEND_RARP, see vu_rx_burst()) goes to
 * the switch as a poll of its own: one frame for the mbuf path, whose
 * context is the port's holding slot rather than a ring. The ring's frames
 * wait for the next poll.
 */
static __rte_noinline __rte_cold uint16_t
vu_inject_frame(struct vs_vu_port *p, struct vs_port_frame *f, void **ctx)
{
	struct rte_mbuf *m = __atomic_exchange_n(&p->inject, NULL, __ATOMIC_ACQUIRE);

	if (m == NULL)
		return 0;
	memset(f, 0, sizeof(*f));
	f->needs = VS_FRAME_NEED_MBUF;
	f->len = m->pkt_len;
	memcpy(f->head, rte_pktmbuf_mtod(m, const void *), VS_FRAME_HEAD);
	p->inject_held = m;
	*ctx = &p->inject_held;
	return 1;
}

static inline bool
vu_is_inject_ctx(struct vs_port *port, const void *ctx)
{
	return ctx == &vu_port(port)->inject_held;
}

static __rte_always_inline uint16_t
vu_rx_frames_ring(struct vu_ring *r, struct vs_port_frame *f, uint16_t nb, void **ctx)
{
	uint16_t n;

	/* An empty ring, the common poll, costs one look (as vu_rx_burst). */
	if (vq_dev_avail_hint(&r->vq, 1) == 0) {
		if (unlikely(vq_dev_error(&r->vq) != 0))
			vu_ring_fail(r);
		return 0;
	}
	*ctx = r;
	n = vu_take_frames(r, f, nb);
	/* Crash-safe mode: the poll is a transaction from here to
	 * rx_frames_done (vs_vhost_user_txn.c). */
	if (unlikely(r->hold) && n > 0)
		vu_txn_join(r);
	return n;
}

/*
 * Memory that may fault: armed, but an empty ring arms nothing
 * (vu_ring_idle()). After a fault nothing is handed over (the ring is failed).
 */
static __rte_noinline uint16_t
vu_rx_frames_guarded(struct vu_ring *r, struct vs_port_frame *f, uint16_t nb, void **ctx)
{
	struct vh_guard *g;
	uint16_t n;

	if (likely(vu_ring_idle(r)))
		return 0;
	g = vh_guard_self();
	if (unlikely(sigsetjmp(g->jb, 0) != 0)) {
		vu_ring_fault(r, g);
		return 0;
	}
	vh_guard_arm(g);
	n = vu_rx_frames_ring(r, f, nb, ctx);
	vh_guard_disarm(g);
	return n;
}

static uint16_t
vu_rx_frames(struct vs_port *port, uint16_t queue, struct vs_port_frame *f, uint16_t nb, void **ctx)
{
	struct vu_ring *r;

	if (unlikely(queue >= VS_PORT_MAX_QUEUES))
		return 0;
	if (unlikely(__atomic_load_n(&vu_port(port)->inject, __ATOMIC_RELAXED) != NULL) &&
	    queue == 0 && nb > 0)
		return vu_inject_frame(vu_port(port), f, ctx);
	r = __atomic_load_n(&vu_port(port)->live[2 * queue + 1], __ATOMIC_ACQUIRE);
	/* Not live: vu_rx_burst() discards what a disabled ring holds. */
	if (r == NULL)
		return vu_rx_burst(port, queue, NULL, 0);
	if (r->guard)
		return vu_rx_frames_guarded(r, f, nb, ctx);
	return vu_rx_frames_ring(r, f, nb, ctx);
}

static __rte_always_inline struct rte_mbuf *
vu_frame_copy(struct vu_ring *r, const struct vs_port_frame *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(r->mp);
	const bool counted = !(f->needs & VS_FRAME_NEED_MBUF);
	int rc;

	r->spare = m; /* a recovery frees it (and what is chained to it) */
	rc = m != NULL ? vu_chain_to_mbuf(r, &r->burst.chain[f->idx], m) : -ENOMEM;
	if (likely(rc == 0)) {
		/* The frame as switched: its start from the copy taken once. */
		if (counted && m->data_len >= VS_FRAME_HEAD)
			memcpy(rte_pktmbuf_mtod(m, void *), f->head, VS_FRAME_HEAD);
		if (!counted) {
			VU_ADD(r->stats->packets, 1);
			VU_ADD(r->stats->bytes, m->pkt_len);
		}
		return m;
	}
	rte_pktmbuf_free(m);
	if (counted) {
		VU_ADD(r->stats->packets, -1);
		VU_ADD(r->stats->bytes, -(uint64_t)f->len);
	}
	if (rc == -ENOMEM)
		VU_ADD(r->stats->drops, 1);
	else
		VU_ADD(r->stats->errors, 1);
	vu_count_drop(r->stats, rc);
	return NULL;
}

static __rte_noinline struct rte_mbuf *
vu_frame_to_mbuf_guarded(struct vu_ring *r, const struct vs_port_frame *f)
{
	struct vh_guard *g = vh_guard_self();
	struct rte_mbuf *m;

	r->spare = NULL;
	if (unlikely(sigsetjmp(g->jb, 0) != 0)) {
		rte_pktmbuf_free(r->spare);
		r->spare = NULL;
		vu_ring_fault(r, g);
		return NULL;
	}
	vh_guard_arm(g);
	m = vu_frame_copy(r, f);
	vh_guard_disarm(g);
	return m;
}

static struct rte_mbuf *
vu_frame_to_mbuf(struct vs_port *port, void *ctx, const struct vs_port_frame *f)
{
	struct vu_ring *r = ctx;

	if (unlikely(vu_is_inject_ctx(port, ctx))) {
		struct rte_mbuf *m = vu_port(port)->inject_held;

		vu_port(port)->inject_held = NULL;
		if (m != NULL)
			VU_ADD(vu_port(port)->injected, 1);
		return m;
	}
	if (r->guard)
		return vu_frame_to_mbuf_guarded(r, f);
	return vu_frame_copy(r, f);
}

static __rte_always_inline void
vu_frames_return(struct vu_ring *r)
{
	/* Transmitted buffers are returned with used length 0 (5.1.6.2). */
	if (unlikely(r->hold)) {
		vu_txn_end(r, &r->burst);
	} else {
		vq_dev_return(&r->vq, &r->burst);
		if (vq_dev_call_needed(&r->vq))
			vu_ring_call(r);
	}
	if (unlikely(vq_dev_error(&r->vq) != 0))
		vu_ring_fail(r);
}

static __rte_noinline void
vu_frames_return_guarded(struct vu_ring *r)
{
	struct vh_guard *g = vh_guard_self();

	if (unlikely(sigsetjmp(g->jb, 0) != 0)) {
		vu_ring_fault(r, g);
		return;
	}
	vh_guard_arm(g);
	vu_frames_return(r);
	vh_guard_disarm(g);
}

static void
vu_rx_frames_done(struct vs_port *port, void *ctx)
{
	struct vu_ring *r = ctx;

	if (unlikely(vu_is_inject_ctx(port, ctx))) {
		/* Not taken (the engine takes every mbuf-path frame): freed. */
		rte_pktmbuf_free(vu_port(port)->inject_held);
		vu_port(port)->inject_held = NULL;
		return;
	}
	if (r->guard)
		vu_frames_return_guarded(r);
	else
		vu_frames_return(r);
	/* Crash-safe mode: the commit, out of the guard above (it arms its own). */
	if (unlikely(r->hold))
		vu_txn_finish();
}

/* ---- transmit: straight into the guest's receive buffers ---- */

/* What ring @p r (a guest RX ring) takes in one copy. */
static inline uint32_t
vu_ring_caps(const struct vu_ring *r)
{
	const uint64_t feat = r->features;
	uint32_t caps = VS_FRAME_CAP_OK;

	/*
	 * While dirty pages are logged for a migration, the guest's memory is
	 * written through the mbuf path only, whose writes the log covers.
	 */
	if (unlikely((feat | __atomic_load_n(&r->port->features, __ATOMIC_RELAXED)) &
		     F(VH_VHOST_F_LOG_ALL)))
		return 0;
	if (feat & F(VIRTIO_NET_F_GUEST_CSUM))
		caps |= VS_FRAME_NEED_CSUM;
	if (feat & F(VIRTIO_NET_F_GUEST_TSO4))
		caps |= VS_FRAME_NEED_TSO4;
	if (feat & F(VIRTIO_NET_F_GUEST_TSO6))
		caps |= VS_FRAME_NEED_TSO6;
	if (feat & F(VIRTIO_NET_F_GUEST_UFO))
		caps |= VS_FRAME_NEED_UFO;
	return caps;
}

static uint32_t
vu_tx_caps(struct vs_port *port, uint16_t queue)
{
	const struct vu_ring *r;

	if (unlikely(queue >= VS_PORT_MAX_QUEUES))
		return 0;
	r = __atomic_load_n(&vu_port(port)->live[2 * queue], __ATOMIC_ACQUIRE);
	return r != NULL ? vu_ring_caps(r) : 0;
}

/* Copies @p len bytes from @p src (from byte @p soff) to @p dst (from @p doff). */
static void
vu_copy_segs(const struct vq_seg *dst, unsigned int ndst, uint32_t doff,
	     const struct vs_port_seg *src, unsigned int nsrc, uint32_t soff, uint32_t len)
{
	unsigned int di = 0, si = 0;

	while (di < ndst && doff >= dst[di].len)
		doff -= dst[di++].len;
	while (si < nsrc && soff >= src[si].len)
		soff -= src[si++].len;
	while (len > 0 && di < ndst && si < nsrc) {
		const uint32_t room = dst[di].len - doff, avail = src[si].len - soff;
		uint32_t n = RTE_MIN(room, avail);

		n = RTE_MIN(n, len);

		rte_memcpy(dst[di].addr + doff, src[si].addr + soff, n);
		len -= n;
		doff += n;
		soff += n;
		if (doff == dst[di].len) {
			di++;
			doff = 0;
		}
		if (soff == src[si].len) {
			si++;
			soff = 0;
		}
	}
}

/*
 * Puts header @p h (@p hdr_len bytes: 12, or 10 without num_buffers) at
 * @p dst, each part only where the buffer does not hold it already, as
 * vu_put_plain_hdr() does for the mbuf path: the guest's buffers are
 * recycled, so the bytes (zeros, num_buffers 1) are usually there, and not
 * storing them leaves the line before the frame shared with the guest
 * instead of taking it away on every frame (the guest reads num_buffers of
 * each frame it receives, and would miss). The guest may change its own
 * buffer meanwhile; it can only hurt its own view of the header.
 */
static __rte_always_inline void
vu_put_hdr(uint8_t *dst, const struct virtio_net_hdr_mrg_rxbuf *h, uint32_t hdr_len)
{
	uint64_t want, have;

	memcpy(&want, h, sizeof(want));
	memcpy(&have, dst, sizeof(have));
	if (unlikely(have != want))
		memcpy(dst, &want, sizeof(want));
	if (likely(hdr_len == VU_HDR_LEN_MODERN)) {
		uint32_t want4, have4;

		memcpy(&want4, (const uint8_t *)h + 8, sizeof(want4));
		memcpy(&have4, dst + 8, sizeof(have4));
		if (unlikely(have4 != want4))
			memcpy(dst + 8, &want4, sizeof(want4));
	} else {
		uint16_t want2, have2;

		memcpy(&want2, (const uint8_t *)h + 8, sizeof(want2));
		memcpy(&have2, dst + 8, sizeof(have2));
		if (unlikely(have2 != want2))
			memcpy(dst + 8, &want2, sizeof(want2));
	}
}

/* Header, head and the rest of frame @p f into the packet @p pk placed for it. */
static inline void
vu_frame_put(const struct vu_ring *r, const struct vq_pkt *pk, const struct vs_port_frame *f)
{
	const uint32_t hdr_len = r->hdr_len, rest = f->len - VS_FRAME_HEAD;
	const uint32_t soff = f->off + VS_FRAME_HEAD;
	struct virtio_net_hdr_mrg_rxbuf h;

	h.hdr = f->vnet;
	h.num_buffers = pk->nbufs;
	if (likely(pk->nseg == 1 && f->nseg == 1 && f->seg[0].len >= soff + rest)) {
		uint8_t *dst = pk->seg[0].addr;

		vu_put_hdr(dst, &h, hdr_len);
		memcpy(dst + hdr_len, f->head, VS_FRAME_HEAD);
		rte_memcpy(dst + hdr_len + VS_FRAME_HEAD, f->seg[0].addr + soff, rest);
		return;
	}
	vq_segs_copy_in(pk->seg, pk->nseg, 0, &h, hdr_len);
	vq_segs_copy_in(pk->seg, pk->nseg, hdr_len, f->head, VS_FRAME_HEAD);
	vu_copy_segs(pk->seg, pk->nseg, hdr_len + VS_FRAME_HEAD, f->seg, f->nseg, soff, rest);
}

/*
 * One lib/virtq burst of at most 32 frames; returns how many of @p f it
 * consumed from the front, as vu_enqueue_burst() does for mbufs.
 */
static uint16_t
vu_put_burst(struct vu_ring *r, const struct vs_port_frame *const *f, uint16_t nb, bool *stop)
{
	struct vq_burst *b = &r->burst;
	const uint32_t hdr_len = r->hdr_len, caps = vu_ring_caps(r);
	uint32_t len[VQ_BURST_MAX];
	uint64_t bytes = 0;
	unsigned int n, k;
	int why = -EMSGSIZE; /* no buffer can ever hold it */

	/* The offloads were checked against this ring's caps by the engine;
	 * a guest that renegotiated since gets what it still takes. */
	for (n = 0; n < nb && (f[n]->needs & ~caps) == 0 && caps != 0; n++)
		len[n] = hdr_len + f[n]->len;
	k = n > 0 ? vq_dev_take_rx(&r->vq, b, len, n) : 0;
	for (unsigned int p = 0; p < k; p++) {
		if (p + 1 < k)
			rte_prefetch0(f[p + 1]->seg[0].addr + f[p + 1]->off);
		vu_frame_put(r, &b->pkt[p], f[p]);
		bytes += f[p]->len;
	}
	if (k > 0) {
		if (unlikely(r->hold)) {
			vu_ring_return(r, b, true);
		} else {
			vq_dev_return(&r->vq, b);
			if (vq_dev_call_needed(&r->vq))
				vu_ring_call(r);
		}
		VU_ADD(r->stats->packets, k);
		VU_ADD(r->stats->bytes, bytes);
	}
	if (likely(k == nb))
		return (uint16_t)k;
	if (unlikely(vq_dev_error(&r->vq) != 0)) {
		vu_ring_fail(r);
		*stop = true;
		return (uint16_t)k;
	}
	if (k == n && caps != 0) {
		why = -EBADMSG; /* an offload this guest no longer takes */
		goto drop;
	}
	if (k > 0 || caps == 0) {
		*stop = caps == 0;
		return (uint16_t)k;
	}
	if (vu_ring_has_buffers(r))
		goto drop; /* as vu_enqueue_burst(): no buffer can ever hold it */
	*stop = true;
	return 0;
drop:
	VU_ADD(r->stats->drops, 1);
	vu_count_drop(r->stats, why);
	return (uint16_t)(k + 1);
}

static __rte_always_inline uint16_t
vu_put_from(struct vu_ring *r, const void *items, uint16_t first, uint16_t n, bool *stop)
{
	return vu_put_burst(r, (const struct vs_port_frame *const *)items + first, n, stop);
}

/*
 * Armed: this guest's memory, or a sender's, may fault. A fault in this
 * ring's memory fails the ring; one in a sender's can only be in
 * vu_frame_put(), before the burst's buffers are returned: they go back
 * to the ring untouched and the sender's control thread hears of it.
 */
static __rte_noinline uint16_t
vu_tx_frames_guarded(struct vu_ring *r, const struct vs_port_frame *const *f, uint16_t nb)
{
	struct vh_guard *g = vh_guard_self();
	uint16_t n;

	r->done = 0;
	if (unlikely(sigsetjmp(g->jb, 0) != 0)) {
		if (g->fault_owner == r->port) {
			vu_ring_fault(r, g);
		} else {
			vq_dev_untake(&r->vq, &r->burst, 0);
			vu_memory_fault(g->fault_owner, g->fault_addr);
		}
		return r->done;
	}
	vh_guard_arm(g);
	n = vu_ring_put_all(r, f, nb, vu_put_from);
	vh_guard_disarm(g);
	return n;
}

static uint16_t
vu_tx_frames(struct vs_port *port, uint16_t queue, const struct vs_port_frame *const *f,
	     uint16_t nb)
{
	struct vu_ring *r;

	if (unlikely(queue >= VS_PORT_MAX_QUEUES))
		return 0;
	r = __atomic_load_n(&vu_port(port)->live[2 * queue], __ATOMIC_ACQUIRE);
	if (r == NULL)
		return 0;
	if (r->guard || __atomic_load_n(&vu_ports_can_fault, __ATOMIC_RELAXED) != 0)
		return vu_tx_frames_guarded(r, f, nb);
	return vu_ring_put_all(r, f, nb, vu_put_from);
}

const struct vs_port_onecopy_ops vu_onecopy_ops = {
	.rx_frames = vu_rx_frames,
	.frame_to_mbuf = vu_frame_to_mbuf,
	.rx_frames_done = vu_rx_frames_done,
	.tx_caps = vu_tx_caps,
	.tx_frames = vu_tx_frames,
};
