/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTQ_PACKED_H
#define VIRTQ_PACKED_H

/**
 * @file
 * libvirtq: packed virtqueue fast paths (VIRTIO 1.2, 2.8), device and
 * driver side. Most callers use the format-independent wrappers in
 * virtq.h; these are for callers that know the format.
 *
 * Positions: a slot and its wrap counter name one of 2 * size positions;
 * vq_packed_pos() numbers them so that windows between two positions can be
 * compared the way vring_need_event() compares split indexes.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtq_atomic.h"
#include "virtq_dev.h"
#include "virtq_drv.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Position of (@p slot, @p wrap) in [0, 2 * size): wrap 1 first, as at start. */
static VQ_ALWAYS_INLINE uint32_t
vq_packed_pos(uint16_t slot, uint8_t wrap, uint16_t size)
{
	return (uint32_t)slot + (wrap ? 0 : size);
}

/** Distance from position @p from forward to @p to, modulo 2 * size. */
static VQ_ALWAYS_INLINE uint32_t
vq_packed_dist(uint32_t from, uint32_t to, uint16_t size)
{
	return to >= from ? to - from : to + 2u * size - from;
}

/**
 * Whether the event position in @p off_wrap (2.8.14) was crossed by the move
 * from @p old to @p new_pos (positions from vq_packed_pos()).
 */
static VQ_ALWAYS_INLINE bool
vq_packed_need_event(uint16_t off_wrap, uint32_t new_pos, uint32_t old, uint16_t size)
{
	uint16_t off = off_wrap & 0x7fff;
	uint32_t ev;

	if (off >= size)
		return false; /* names no descriptor: never crossed */
	ev = vq_packed_pos(off, off_wrap >> 15, size);
	return vq_packed_dist(old, ev, size) < vq_packed_dist(old, new_pos, size);
}

/** Whether a descriptor with @p flags is available for wrap counter @p wrap (2.8.1). */
static VQ_ALWAYS_INLINE bool
vq_packed_desc_avail(uint16_t flags, uint8_t wrap)
{
	return (flags & (VQ_DESC_F_AVAIL | VQ_DESC_F_USED)) ==
	       (wrap ? VQ_DESC_F_AVAIL : VQ_DESC_F_USED);
}

/** Whether a descriptor with @p flags is used for wrap counter @p wrap (2.8.1). */
static VQ_ALWAYS_INLINE bool
vq_packed_desc_used(uint16_t flags, uint8_t wrap)
{
	return (flags & (VQ_DESC_F_AVAIL | VQ_DESC_F_USED)) ==
	       (wrap ? (VQ_DESC_F_AVAIL | VQ_DESC_F_USED) : 0);
}

/** Moves (@p slot, @p wrap) forward by @p n slots. */
static VQ_ALWAYS_INLINE void
vq_packed_advance(uint16_t *slot, uint8_t *wrap, uint16_t n, uint16_t size)
{
	uint32_t s = (uint32_t)*slot + n;

	if (s >= size) {
		s -= size;
		*wrap ^= 1;
	}
	*slot = (uint16_t)s;
}

/* ------------------------------------------------------------------------ */
/* Device side                                                              */
/* ------------------------------------------------------------------------ */

/**
 * Takes the buffer at (@p *slot, @p *wrap) into @p b and moves the position
 * past it.
 *
 * @return 0; 1 if no buffer is available there; -ENOSPC (does not fit,
 *         nothing taken); another negative errno (queue broken)
 */
static VQ_ALWAYS_INLINE int
vq_packed_dev_chain(struct vq_dev *q, const struct vq_pdesc *desc, uint16_t size, struct vq_take *t,
		    uint16_t *slot, uint8_t *wrap, struct vq_burst *b, unsigned int mode)
{
	const struct vq_pdesc *d = &desc[*slot];
	/* Acquire: the descriptor's other fields (and the rest of its chain)
	 * were written before its flags (2.8.21.1). */
	const uint16_t flags = vq_ld16_acq(&d->flags);
	int rc;

	if (!vq_packed_desc_avail(flags, *wrap))
		return 1;
	if (VQ_LIKELY(!(flags & (VQ_DESC_F_NEXT | VQ_DESC_F_INDIRECT)) &&
		      (mode == VQ_WALK_TX || (flags & VQ_DESC_F_WRITE)) &&
		      t->nseg < VQ_BURST_SEGS)) {
		const uint64_t addr = vq_ld64(&d->addr);
		const uint64_t w1 = vq_ld64(&d->len); /* len | id << 32 */
		const uint32_t len = (uint32_t)w1;
		const uint16_t id = (uint16_t)(w1 >> 32);

		if (VQ_LIKELY(id < size && vq_take_hit(t, addr, len))) {
			vq_take_one(t, b, vq_take_ptr(t, addr), len, id, flags);
			vq_packed_advance(slot, wrap, 1, size);
			return 0;
		}
	}
	b->nchain = (uint16_t)t->nchain;
	b->nseg = (uint16_t)t->nseg;
	rc = vq_packed_dev_walk(q, *slot, *wrap, flags, b, mode);
	t->nchain = b->nchain;
	t->nseg = b->nseg;
	t->mc = q->cache;
	if (rc == 0)
		vq_packed_advance(slot, wrap, b->chain[t->nchain - 1].ndesc, size);
	return rc;
}

/*
 * The batched fast path (as librte_vhost's): four one-descriptor buffers in
 * the four slots from @p d (a slot that is a multiple of 4, so they share a
 * 64-byte line) are checked with one look at their flags and one acquire
 * fence, and taken with one move of the position. Anything else (a chain,
 * an indirect table, a descriptor not yet available, an address neither the cache
 * nor the fast table translates) returns 0, and the one-by-one path takes what
 * it can with its full checks.
 */

/* The batch loops are unrolled, so their arrays stay in registers. */
#if defined(__clang__)
#define VQ_UNROLL4 _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define VQ_UNROLL4 _Pragma("GCC unroll 4")
#else
#define VQ_UNROLL4
#endif

/* The four flags at @p d: 0 if all are available one-descriptor buffers
 * for @p wrap (and writable when @p rx); else nonzero. */
static VQ_ALWAYS_INLINE uint16_t
vq_packed_flags4_bad(const struct vq_pdesc *d, uint8_t wrap, bool rx, uint16_t *f)
{
	const uint16_t want = wrap ? VQ_DESC_F_AVAIL : VQ_DESC_F_USED;
	uint16_t bad = 0;

	VQ_UNROLL4
	for (int i = 0; i < 4; i++) {
		f[i] = vq_ld16(&d[i].flags);
		bad |= (uint16_t)(((f[i] & (VQ_DESC_F_AVAIL | VQ_DESC_F_USED)) ^ want) |
				  (f[i] & (VQ_DESC_F_NEXT | VQ_DESC_F_INDIRECT)));
		if (rx)
			bad |= (uint16_t)((f[i] & VQ_DESC_F_WRITE) ^ VQ_DESC_F_WRITE);
	}
	/* Acquire: each descriptor's other fields were written before its
	 * flags (2.8.21.1). */
	vq_acquire_fence();
	return bad;
}

/* Reads and translates the four descriptors at @p d; false if one does not
 * qualify (id out of range, shorter than @p need when given, untranslated). */
static VQ_ALWAYS_INLINE bool
vq_packed_read4(const struct vq_pdesc *d, uint16_t size, struct vq_take *t, const uint32_t *need,
		uint8_t **p, uint32_t *len, uint16_t *id)
{
	VQ_UNROLL4
	for (int i = 0; i < 4; i++) {
		const uint64_t addr = vq_ld64(&d[i].addr);
		const uint64_t w1 = vq_ld64(&d[i].len); /* len | id << 32 */

		len[i] = (uint32_t)w1;
		id[i] = (uint16_t)(w1 >> 32);
		if (VQ_UNLIKELY(id[i] >= size || (need != NULL && len[i] < need[i]) ||
				!vq_take_hit(t, addr, len[i])))
			return false;
		p[i] = vq_take_ptr(t, addr);
	}
	return true;
}

/* Transmit take of four buffers at @p d; returns 4 or 0. */
static VQ_ALWAYS_INLINE unsigned int
vq_packed_dev_take4(const struct vq_pdesc *d, uint16_t size, uint8_t wrap, struct vq_take *t,
		    struct vq_burst *b)
{
	uint16_t f[4], id[4];
	uint32_t len[4];
	uint8_t *p[4];

	if (vq_packed_flags4_bad(d, wrap, false, f) != 0 ||
	    !vq_packed_read4(d, size, t, NULL, p, len, id))
		return 0;
	VQ_UNROLL4
	for (int i = 0; i < 4; i++)
		vq_take_one(t, b, p[i], len[i], id[i], f[i]);
	return 4;
}

/* Receive take of packets @p pkt .. @p pkt + 3 into the four buffers at
 * @p d, each whole in one; returns 4 or 0. */
static VQ_ALWAYS_INLINE unsigned int
vq_packed_dev_take_rx4(const struct vq_pdesc *d, uint16_t size, uint8_t wrap, struct vq_take *t,
		       struct vq_burst *b, unsigned int pkt, const uint32_t *need)
{
	uint16_t f[4], id[4];
	uint32_t len[4];
	uint8_t *p[4];

	if (vq_packed_flags4_bad(d, wrap, true, f) != 0 ||
	    !vq_packed_read4(d, size, t, need, p, len, id))
		return 0;
	VQ_UNROLL4
	for (int i = 0; i < 4; i++)
		vq_take_rx_one(t, b, pkt + (unsigned int)i, p[i], len[i], id[i], need[i]);
	return 4;
}

/* Whether a batch of four may start at @p slot with @p room chains left. */
static VQ_ALWAYS_INLINE bool
vq_packed_batch_ok(uint16_t slot, uint16_t size, const struct vq_take *t, unsigned int room)
{
	return (slot & 3) == 0 && slot + 4u <= size && room >= 4 &&
	       t->nchain + 4 <= VQ_BURST_CHAINS && t->nseg + 4 <= VQ_BURST_SEGS;
}

/* Moves (@p slot, @p wrap) past a batch of four (the batch never crosses the end). */
static VQ_ALWAYS_INLINE void
vq_packed_advance4(uint16_t *slot, uint8_t *wrap, uint16_t size)
{
	*slot = (uint16_t)(*slot + 4);
	if (*slot == size) {
		*slot = 0;
		*wrap ^= 1;
	}
}

/* The body of vq_packed_dev_take(), one copy per kind of map: @p multi a
 * constant (see struct vq_take). */
static VQ_ALWAYS_INLINE unsigned int
vq_packed_dev_take_in(struct vq_dev *q, struct vq_burst *b, unsigned int max, const bool multi)
{
	const struct vq_pdesc *desc = q->packed.desc;
	const uint16_t size = q->size;
	uint16_t slot = q->last_avail;
	uint8_t wrap = q->avail_wrap;
	struct vq_take t = VQ_TAKE_INIT(q, multi);

	b->npkt = 0;
	if (VQ_UNLIKELY(q->error))
		goto out;
	if (max > VQ_BURST_MAX)
		max = VQ_BURST_MAX;
	while (t.nchain < max) {
		/* The descriptors ahead are the next buffers: fetch them early. */
		vq_prefetch(&desc[slot + 4u < size ? slot + 4u : 0]);
		if (vq_packed_batch_ok(slot, size, &t, max - t.nchain) &&
		    vq_packed_dev_take4(&desc[slot], size, wrap, &t, b) == 4) {
			vq_packed_advance4(&slot, &wrap, size);
			continue;
		}
		if (vq_packed_dev_chain(q, desc, size, &t, &slot, &wrap, b, VQ_WALK_TX) != 0)
			break;
	}
	q->last_avail = slot;
	q->avail_wrap = wrap;
	q->cache = t.mc; /* the region last hit stays cached */
out:
	b->nchain = (uint16_t)t.nchain;
	b->nseg = (uint16_t)t.nseg;
	if (VQ_UNLIKELY(q->flags & VQ_QF_INFLIGHT) && t.nchain)
		vq_dev_inflight_take(q, b);
	return t.nchain;
}

/**
 * Device: takes up to @p max available chains (see vq_dev_take()).
 */
static VQ_ALWAYS_INLINE unsigned int
vq_packed_dev_take(struct vq_dev *q, struct vq_burst *b, unsigned int max)
{
	if (vq_take_multi(q))
		return vq_packed_dev_take_in(q, b, max, true);
	return vq_packed_dev_take_in(q, b, max, false);
}

/* The body of vq_packed_dev_take_rx(), one copy per kind of map. */
static VQ_ALWAYS_INLINE unsigned int
vq_packed_dev_take_rx_in(struct vq_dev *q, struct vq_burst *b, const uint32_t *len, unsigned int n,
			 const bool multi)
{
	const bool mrg = q->flags & VQ_QF_MRG_RXBUF;
	const struct vq_pdesc *desc = q->packed.desc;
	const uint16_t size = q->size;
	uint16_t slot = q->last_avail;
	uint8_t wrap = q->avail_wrap;
	struct vq_take t = VQ_TAKE_INIT(q, multi);
	unsigned int p = 0;

	if (VQ_UNLIKELY(q->error))
		goto out;
	if (n > VQ_BURST_MAX)
		n = VQ_BURST_MAX;
	for (p = 0; p < n; p++) {
		const unsigned int c0 = t.nchain, s0 = t.nseg;
		const uint16_t slot0 = slot;
		const uint8_t wrap0 = wrap;
		const uint32_t need = len[p];
		uint32_t have = 0;
		struct vq_pkt *pk;

		/* Four packets, each whole in one of four writable buffers. */
		if (vq_packed_batch_ok(slot, size, &t, n - p) &&
		    vq_packed_dev_take_rx4(&desc[slot], size, wrap, &t, b, p, &len[p]) == 4) {
			vq_packed_advance4(&slot, &wrap, size);
			vq_prefetch(&desc[slot + 4u < size ? slot + 4u : 0]);
			p += 3;
			continue;
		}
		/* The common case: one writable descriptor that holds it all. */
		if (VQ_LIKELY(t.nchain < VQ_BURST_CHAINS && t.nseg < VQ_BURST_SEGS)) {
			const struct vq_pdesc *d = &desc[slot];
			const uint16_t flags = vq_ld16_acq(&d->flags);

			if (vq_packed_desc_avail(flags, wrap) &&
			    (flags & (VQ_DESC_F_NEXT | VQ_DESC_F_INDIRECT | VQ_DESC_F_WRITE)) ==
				    VQ_DESC_F_WRITE) {
				const uint64_t addr = vq_ld64(&d->addr);
				const uint64_t w1 = vq_ld64(&d->len); /* len | id << 32 */
				const uint32_t dlen = (uint32_t)w1;
				const uint16_t id = (uint16_t)(w1 >> 32);

				if (VQ_LIKELY(id < size && dlen >= need &&
					      vq_take_hit(&t, addr, dlen))) {
					vq_take_rx_one(&t, b, p, vq_take_ptr(&t, addr), dlen, id,
						       need);
					vq_packed_advance(&slot, &wrap, 1, size);
					vq_prefetch(&desc[slot + 4u < size ? slot + 4u : 0]);
					continue;
				}
			}
		}
		do {
			struct vq_chain *c;
			uint32_t room;

			vq_prefetch(&desc[slot + 4u < size ? slot + 4u : 0]);
			if (t.nchain == VQ_BURST_CHAINS ||
			    vq_packed_dev_chain(q, desc, size, &t, &slot, &wrap, b, VQ_WALK_RX) !=
				    0)
				goto undo;
			c = &b->chain[t.nchain - 1];
			room = c->wlen;
			if (!mrg) {
				if (room < need)
					goto undo;
				c->used_len = need;
				have = need;
				break;
			}
			c->used_len = room < need - have ? room : need - have;
			have += c->used_len;
		} while (have < need);
		pk = &b->pkt[p];
		pk->seg = &b->seg[s0];
		pk->len = need;
		pk->nseg = (uint16_t)(t.nseg - s0);
		pk->nbufs = (uint16_t)(t.nchain - c0);
		pk->chain = (uint16_t)c0;
		pk->resv = 0;
		continue;
	undo:
		t.nchain = c0;
		t.nseg = s0;
		slot = slot0;
		wrap = wrap0;
		break;
	}
	q->last_avail = slot;
	q->avail_wrap = wrap;
	q->cache = t.mc; /* the region last hit stays cached */
out:
	b->nchain = (uint16_t)t.nchain;
	b->nseg = (uint16_t)t.nseg;
	b->npkt = (uint16_t)p;
	if (VQ_UNLIKELY(q->flags & VQ_QF_INFLIGHT) && t.nchain)
		vq_dev_inflight_take(q, b);
	return p;
}

/**
 * Device: places up to @p n packets of @p len bytes into available chains
 * (see vq_dev_take_rx()).
 */
static VQ_ALWAYS_INLINE unsigned int
vq_packed_dev_take_rx(struct vq_dev *q, struct vq_burst *b, const uint32_t *len, unsigned int n)
{
	if (vq_take_multi(q))
		return vq_packed_dev_take_rx_in(q, b, len, n, true);
	return vq_packed_dev_take_rx_in(q, b, len, n, false);
}

/**
 * Device: an upper bound of the available buffers, at most @p max: the
 * available descriptors ahead (see vq_dev_avail_hint()).
 */
static VQ_ALWAYS_INLINE unsigned int
vq_packed_dev_avail_hint(struct vq_dev *q, unsigned int max)
{
	uint16_t slot = q->last_avail;
	uint8_t wrap = q->avail_wrap;
	unsigned int n = 0;

	if (VQ_UNLIKELY(q->error))
		return 0;
	if (max > q->size)
		max = q->size;
	while (n < max && vq_packed_desc_avail(vq_ld16(&q->packed.desc[slot].flags), wrap)) {
		n++;
		vq_packed_advance(&slot, &wrap, 1, q->size);
	}
	return n;
}

/**
 * Device: the available buffers (chains), at most @p max: each ends with
 * a descriptor without NEXT (see vq_dev_avail_bufs()).
 */
static VQ_ALWAYS_INLINE unsigned int
vq_packed_dev_avail_bufs(struct vq_dev *q, unsigned int max)
{
	uint16_t slot = q->last_avail;
	uint8_t wrap = q->avail_wrap;
	unsigned int n = 0;

	if (VQ_UNLIKELY(q->error))
		return 0;
	for (unsigned int d = 0; n < max && d < q->size; d++) {
		uint16_t flags = vq_ld16(&q->packed.desc[slot].flags);

		if (!vq_packed_desc_avail(flags, wrap))
			break;
		n += !(flags & VQ_DESC_F_NEXT);
		vq_packed_advance(&slot, &wrap, 1, q->size);
	}
	return n;
}

/** Device: gives buffers [keep, nchain) of @p b back (see vq_dev_untake()). */
static VQ_ALWAYS_INLINE void
vq_packed_dev_untake(struct vq_dev *q, struct vq_burst *b, unsigned int keep)
{
	unsigned int back = 0;

	for (unsigned int i = keep; i < b->nchain; i++)
		back += b->chain[i].ndesc;
	if (back > q->last_avail) {
		q->last_avail = (uint16_t)(q->last_avail + q->size - back);
		q->avail_wrap ^= 1;
	} else {
		q->last_avail = (uint16_t)(q->last_avail - back);
	}
}

/*
 * Device: writes the used descriptors of every buffer of @p b from the used
 * position on, all but the flags of the first, which it returns (internal):
 * that store, last and with release, publishes them all. The position
 * after them goes to @p end / @p end_wrap; the queue's is left as it was.
 */
static VQ_ALWAYS_INLINE uint16_t
vq_packed_dev_write_used(struct vq_dev *q, const struct vq_burst *b, uint16_t *end,
			 uint8_t *end_wrap)
{
	const unsigned int n = b->nchain;
	const bool in_order = q->flags & VQ_QF_IN_ORDER;
	struct vq_pdesc *const desc = q->packed.desc;
	const uint16_t size = q->size;
	uint16_t slot = q->used_idx, at = slot, head_flags = 0;
	uint8_t wrap = q->used_wrap, at_wrap = wrap;
	bool first = true;

	for (unsigned int i = 0; i < n; i++) {
		const struct vq_chain *c = &b->chain[i];
		struct vq_pdesc *d;
		uint16_t f;

		vq_packed_advance(&slot, &wrap, c->ndesc, size);
		/* In order (2.8.9): one used descriptor, at the batch's first
		 * slot, stands for every buffer before it; those count as used
		 * completely, so only buffers with nothing written are skipped. */
		if (in_order && c->wlen == 0 && i + 1 < n)
			continue;
		d = &desc[at];
		f = at_wrap ? (VQ_DESC_F_AVAIL | VQ_DESC_F_USED) : 0;
		if (c->used_len)
			f |= VQ_DESC_F_WRITE;
		if (first) {
			/* Its flags are the caller's to store, last. */
			vq_st32(&d->len, c->used_len);
			vq_st16(&d->id, c->id);
			head_flags = f;
			first = false;
		} else {
			/* len, id and flags in one store: the descriptor is
			 * never seen used with a stale id. */
			vq_st64(&d->len, c->used_len | (uint64_t)c->id << 32 | (uint64_t)f << 48);
		}
		at = slot;
		at_wrap = wrap;
	}
	/* Live migration: logged here, so held returns are too (they are
	 * published within the same poll, before any ring stops). */
	if (VQ_UNLIKELY(q->flags & VQ_QF_DIRTY))
		vq_dev_dirty_return(q, b);
	*end = slot;
	*end_wrap = wrap;
	return head_flags;
}

/**
 * Device, packed rings: publishes what vq_packed_dev_return_held() held:
 * one release store of the first held used descriptor's flags (2.8.11), in
 * the two phases of "Inflight I/O tracking" with an inflight region.
 *
 * @param q a packed queue
 */
static VQ_ALWAYS_INLINE void
vq_packed_dev_publish(struct vq_dev *q)
{
	if (!q->held)
		return;
	if (VQ_UNLIKELY(q->flags & VQ_QF_INFLIGHT))
		vq_packed_inflight_begin(q, q->used_idx, q->used_wrap);
	vq_st16_rel(&q->packed.desc[q->held_slot].flags, q->held_flags);
	if (VQ_UNLIKELY(q->flags & VQ_QF_INFLIGHT))
		vq_packed_inflight_done_run(q, q->used_idx, q->used_wrap);
	q->held = 0;
}

/**
 * Device: returns every buffer of @p b as used (see vq_dev_return()).
 */
static VQ_ALWAYS_INLINE void
vq_packed_dev_return(struct vq_dev *q, const struct vq_burst *b)
{
	struct vq_pdesc *head = &q->packed.desc[q->used_idx];
	uint16_t slot, head_flags;
	uint8_t wrap;

	if (b->nchain == 0)
		return;
	head_flags = vq_packed_dev_write_used(q, b, &slot, &wrap);
	if (VQ_UNLIKELY(q->flags & VQ_QF_INFLIGHT)) {
		/* Held returns before this one are published first: the
		 * region's used position moves over them in order. (Without
		 * a region, this burst simply shows once they do.) */
		if (q->held)
			vq_packed_dev_publish(q);
		/* The new used position is recorded first. */
		vq_packed_inflight_begin(q, slot, wrap);
	}
	/* The burst's first used descriptor goes last, with release: the data
	 * written into the buffers and every other used descriptor are visible
	 * first, so a multi-buffer packet is never seen in part (2.8.11). */
	vq_st16_rel(&head->flags, head_flags);
	if (VQ_UNLIKELY(q->flags & VQ_QF_INFLIGHT))
		vq_packed_inflight_done(q, b, slot, wrap); /* from the old position */
	q->used_idx = slot;
	q->used_wrap = wrap;
}

/**
 * Device, packed rings: returns every buffer of @p b like vq_dev_return(),
 * but holds the publication back: the used descriptors are written, all
 * but the flags of the first one held, and the driver, which reads used
 * descriptors in ring order, sees none of them until
 * vq_packed_dev_publish(). Several bursts may be held (each next one's
 * first flags are stored at once: they sit behind the held one); one
 * publication shows them all, in order and as the batches each burst
 * made (in order: one descriptor per batch, 2.8.9). Until then the
 * queue's position (vq_dev_get_state(), the call decision) already
 * counts them: publish before either is used. With an inflight region
 * the held buffers stay marked until the publication: if the device dies
 * before it, the next one takes them again.
 *
 * For a device that must make the returns of several rings visible
 * together, or not at all, across its own crash (see
 * vq_split_dev_return_held()): it records the old and new used position
 * and vq_packed_dev_held_flags() somewhere that survives it, then
 * publishes; a restarted device redoes the store with
 * vq_packed_dev_redo_publish().
 *
 * @param q a packed queue
 * @param b a burst filled by vq_dev_take() or vq_dev_take_rx() on @p q
 */
static VQ_ALWAYS_INLINE void
vq_packed_dev_return_held(struct vq_dev *q, const struct vq_burst *b)
{
	uint16_t slot, head_flags;
	uint8_t wrap;

	if (b->nchain == 0)
		return;
	head_flags = vq_packed_dev_write_used(q, b, &slot, &wrap);
	if (!q->held) {
		q->held = 1;
		q->held_slot = q->used_idx;
		q->held_wrap = q->used_wrap;
		q->held_flags = head_flags;
	} else {
		vq_st16(&q->packed.desc[q->used_idx].flags, head_flags);
	}
	q->used_idx = slot;
	q->used_wrap = wrap;
}

/**
 * Device, packed rings: the flags vq_packed_dev_publish() will store at
 * the first held used descriptor, for a device that records its
 * publications (see vq_packed_dev_redo_publish()); meaningful only while
 * returns are held (0 otherwise).
 *
 * @param q a packed queue
 */
static VQ_ALWAYS_INLINE uint16_t
vq_packed_dev_held_flags(const struct vq_dev *q)
{
	return q->held ? q->held_flags : 0;
}

/**
 * Device: whether to send a used buffer notification (call) for what was
 * returned since the last decision (see vq_dev_call_needed()).
 */
static VQ_ALWAYS_INLINE bool
vq_packed_dev_call_needed(struct vq_dev *q)
{
	const uint32_t new_pos = vq_packed_pos(q->used_idx, q->used_wrap, q->size);
	const uint32_t old = q->signalled;
	uint32_t ev;

	if (new_pos == old)
		return false;
	/* Full barrier: used descriptors visible before we read the driver's
	 * event suppression (2.8.21.3.1). */
	vq_mb();
	q->signalled = new_pos;
	ev = vq_ld32(q->packed.driver); /* off_wrap | flags << 16 */
	switch ((ev >> 16) & 3) {
	case VQ_EVENT_F_ENABLE:
		return true;
	case VQ_EVENT_F_DESC:
		if (VQ_UNLIKELY(q->flags & VQ_QF_FIRST_CALL))
			return vq_dev_first_call(q);
		if (q->flags & VQ_QF_EVENT_IDX)
			return vq_packed_need_event((uint16_t)ev, new_pos, old, q->size);
		return true; /* DESC without EVENT_IDX is invalid: notify to be safe */
	default:
		return false;
	}
}

/** Device: asks the driver not to kick (see vq_dev_kick_disable()). */
static VQ_ALWAYS_INLINE void
vq_packed_dev_kick_disable(struct vq_dev *q)
{
	if (!q->kick_off) {
		vq_st32(q->packed.device, (uint32_t)VQ_EVENT_F_DISABLE << 16);
		if (VQ_UNLIKELY(q->flags & VQ_QF_DIRTY))
			vq_dev_dirty_device_area(q, 0, sizeof(struct vq_pevent));
	}
	q->kick_off = 1;
}

/**
 * Device: asks the driver to kick on its next available buffer; returns true
 * if one is available already (see vq_dev_kick_enable()).
 */
static VQ_ALWAYS_INLINE bool
vq_packed_dev_kick_enable(struct vq_dev *q)
{
	const bool wrote = (q->flags & VQ_QF_EVENT_IDX) || q->kick_off;

	if (q->flags & VQ_QF_EVENT_IDX)
		vq_st32(q->packed.device, (uint32_t)VQ_EVENT_F_DESC << 16 | q->last_avail |
						  (q->avail_wrap ? VQ_EVENT_WRAP : 0));
	else if (q->kick_off)
		vq_st32(q->packed.device, (uint32_t)VQ_EVENT_F_ENABLE << 16);
	if (VQ_UNLIKELY(q->flags & VQ_QF_DIRTY) && wrote)
		vq_dev_dirty_device_area(q, 0, sizeof(struct vq_pevent));
	q->kick_off = 0;
	vq_mb();
	return vq_packed_desc_avail(vq_ld16(&q->packed.desc[q->last_avail].flags), q->avail_wrap);
}

/* ------------------------------------------------------------------------ */
/* Driver side                                                              */
/* ------------------------------------------------------------------------ */

/**
 * Driver: posts up to @p n chains (see vq_drv_post()).
 */
static VQ_ALWAYS_INLINE unsigned int
vq_packed_drv_post(struct vq_drv *q, const struct vq_drv_chain *ch, unsigned int n)
{
	const bool in_order = q->flags & VQ_QF_IN_ORDER;
	uint16_t slot = q->avail_idx, first = slot, first_flags = 0;
	uint8_t wrap = q->avail_wrap;
	unsigned int i;

	if (VQ_UNLIKELY(q->error))
		return 0;
	for (i = 0; i < n; i++) {
		const struct vq_drv_chain *c = &ch[i];
		const uint16_t nseg = c->nseg;
		const bool ind = nseg > 1 && nseg <= q->indirect_max;
		const uint16_t need = ind ? 1 : nseg;
		struct vq_drv_slot *sl;
		uint32_t wlen = 0;
		uint16_t id;

		if (VQ_UNLIKELY(need == 0 || need > q->num_free || c->cookie == NULL))
			break;
		/* In order the id is the head slot: ids then come back in ring
		 * order and are unique among buffers in flight. */
		id = in_order ? slot : q->free_head;
		if (!in_order)
			q->free_head = q->next[id];
		if (ind) {
			struct vq_pdesc *t =
				(struct vq_pdesc *)(q->indirect + (size_t)id * q->indirect_max *
									  sizeof(struct vq_pdesc));
			struct vq_pdesc *d = &q->packed.desc[slot];
			uint16_t f = VQ_DESC_F_INDIRECT | (wrap ? VQ_DESC_F_AVAIL : VQ_DESC_F_USED);

			for (uint16_t j = 0; j < nseg; j++) {
				t[j].addr = c->seg[j].addr;
				t[j].len = c->seg[j].len;
				t[j].id = 0;
				t[j].flags = c->seg[j].flags & VQ_DESC_F_WRITE;
				if (c->seg[j].flags & VQ_DESC_F_WRITE)
					wlen += c->seg[j].len;
			}
			d->addr = q->indirect_iova +
				  (uint64_t)id * q->indirect_max * sizeof(struct vq_pdesc);
			d->len = (uint32_t)nseg * sizeof(struct vq_pdesc);
			d->id = id;
			if (slot == first && i == 0)
				first_flags = f;
			else
				vq_st16(&d->flags, f);
			vq_packed_advance(&slot, &wrap, 1, q->size);
		} else {
			for (uint16_t j = 0; j < nseg; j++) {
				const struct vq_drv_seg *s = &c->seg[j];
				struct vq_pdesc *d = &q->packed.desc[slot];
				uint16_t f = (uint16_t)((s->flags & VQ_DESC_F_WRITE) |
							(j + 1 < nseg ? VQ_DESC_F_NEXT : 0) |
							(wrap ? VQ_DESC_F_AVAIL : VQ_DESC_F_USED));

				d->addr = s->addr;
				d->len = s->len;
				d->id = id;
				if (s->flags & VQ_DESC_F_WRITE)
					wlen += s->len;
				/* The burst's first head is exposed last (2.8.6). */
				if (i == 0 && j == 0)
					first_flags = f;
				else
					vq_st16(&d->flags, f);
				vq_packed_advance(&slot, &wrap, 1, q->size);
			}
		}
		q->num_free = (uint16_t)(q->num_free - need);
		sl = &q->slot[id];
		sl->cookie = c->cookie;
		sl->wlen = wlen;
		sl->ndesc = need;
	}
	if (i) {
		/* Release: everything above before the first head's flags. */
		vq_st16_rel(&q->packed.desc[first].flags, first_flags);
		q->avail_idx = slot;
		q->avail_wrap = wrap;
		q->inflight = (uint16_t)(q->inflight + i);
	}
	return i;
}

/** Driver: frees buffer @p id, moving the used position past its slots. */
static VQ_ALWAYS_INLINE void
vq_packed_drv_free(struct vq_drv *q, uint16_t id)
{
	struct vq_drv_slot *sl = &q->slot[id];

	sl->cookie = NULL;
	q->num_free = (uint16_t)(q->num_free + sl->ndesc);
	vq_packed_advance(&q->used_idx, &q->used_wrap, sl->ndesc, q->size);
	if (q->flags & VQ_QF_IN_ORDER) {
		q->reap_next = q->used_idx;
	} else {
		q->next[id] = q->free_head;
		q->free_head = id;
	}
}

/**
 * Driver: reaps up to @p max used buffers (see vq_drv_reap()).
 */
static VQ_ALWAYS_INLINE unsigned int
vq_packed_drv_reap(struct vq_drv *q, void **cookie, uint32_t *len, unsigned int max)
{
	const bool in_order = q->flags & VQ_QF_IN_ORDER;
	unsigned int k;

	if (VQ_UNLIKELY(q->error))
		return 0;
	for (k = 0; k < max && q->inflight; k++) {
		struct vq_drv_slot *sl;
		uint16_t id;
		uint32_t l;

		if (!in_order || q->batch_end < 0) {
			const struct vq_pdesc *d = &q->packed.desc[q->used_idx];
			/* Acquire: id and len were written before the flags. */
			const uint16_t f = vq_ld16_acq(&d->flags);
			uint64_t w1;

			if (!vq_packed_desc_used(f, q->used_wrap))
				break;
			w1 = vq_ld64(&d->len);
			id = (uint16_t)(w1 >> 32);
			/* 2.8.4: len is meaningful only with WRITE set. */
			l = (f & VQ_DESC_F_WRITE) ? (uint32_t)w1 : 0;
			if (VQ_UNLIKELY(id >= q->size || q->slot[id].cookie == NULL)) {
				vq_drv_fail(q, -ERANGE, "packed: used id %u is not in flight", id);
				break;
			}
			if (in_order) {
				q->batch_end = id;
				q->batch_len = l;
			}
		}
		if (in_order) {
			/* 2.8.9: buffers before the batch's id count as used
			 * completely. */
			id = q->reap_next;
			if (id == (uint16_t)q->batch_end) {
				l = q->batch_len;
				q->batch_end = -1;
			} else {
				l = q->slot[id].wlen;
			}
		}
		sl = &q->slot[id];
		if (VQ_UNLIKELY(l > sl->wlen)) {
			vq_drv_fail(q, -EINVAL, "packed: used len %u > posted %u", l, sl->wlen);
			break;
		}
		cookie[k] = sl->cookie;
		len[k] = l;
		vq_packed_drv_free(q, id);
		q->inflight--;
	}
	return k;
}

/**
 * Driver: whether to kick the device for what was posted since the last
 * decision (see vq_drv_kick_needed()).
 */
static VQ_ALWAYS_INLINE bool
vq_packed_drv_kick_needed(struct vq_drv *q)
{
	const uint32_t new_pos = vq_packed_pos(q->avail_idx, q->avail_wrap, q->size);
	const uint32_t old = q->kicked;
	uint32_t ev;

	if (new_pos == old)
		return false;
	vq_mb();
	q->kicked = new_pos;
	ev = vq_ld32(q->packed.device);
	switch ((ev >> 16) & 3) {
	case VQ_EVENT_F_ENABLE:
		return true;
	case VQ_EVENT_F_DESC:
		if (q->flags & VQ_QF_EVENT_IDX)
			return vq_packed_need_event((uint16_t)ev, new_pos, old, q->size);
		return true;
	default:
		return false;
	}
}

/** Driver: asks the device not to call (see vq_drv_call_disable()). */
static VQ_ALWAYS_INLINE void
vq_packed_drv_call_disable(struct vq_drv *q)
{
	if (!q->call_off)
		vq_st32(q->packed.driver, (uint32_t)VQ_EVENT_F_DISABLE << 16);
	q->call_off = 1;
}

/**
 * Driver: asks the device to call on its next used buffer; returns true if
 * one is waiting already (see vq_drv_call_enable()).
 */
static VQ_ALWAYS_INLINE bool
vq_packed_drv_call_enable(struct vq_drv *q)
{
	if (q->flags & VQ_QF_EVENT_IDX)
		vq_st32(q->packed.driver, (uint32_t)VQ_EVENT_F_DESC << 16 | q->used_idx |
						  (q->used_wrap ? VQ_EVENT_WRAP : 0));
	else if (q->call_off)
		vq_st32(q->packed.driver, (uint32_t)VQ_EVENT_F_ENABLE << 16);
	q->call_off = 0;
	vq_mb();
	return q->inflight &&
	       vq_packed_desc_used(vq_ld16(&q->packed.desc[q->used_idx].flags), q->used_wrap);
}

#ifdef __cplusplus
}
#endif

#endif /* VIRTQ_PACKED_H */
