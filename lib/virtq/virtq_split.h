/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTQ_SPLIT_H
#define VIRTQ_SPLIT_H

/**
 * @file
 * libvirtq: split virtqueue fast paths (VIRTIO 1.2, 2.7), device and driver
 * side. Most callers use the format-independent wrappers in virtq.h; these
 * are for callers that know the format.
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

/* ------------------------------------------------------------------------ */
/* Device side                                                              */
/* ------------------------------------------------------------------------ */

/**
 * Takes the chain whose head is @p head into @p b. The one-descriptor chain
 * that translates in the cached region is done here; anything else goes to
 * vq_split_dev_walk().
 *
 * @return 0, -ENOSPC (does not fit, nothing taken) or another negative
 *         errno (queue broken)
 */
static VQ_ALWAYS_INLINE int
vq_split_dev_chain(struct vq_dev *q, const struct vq_desc *desc, uint16_t size, struct vq_take *t,
		   uint16_t head, struct vq_burst *b, unsigned int mode)
{
	const uint8_t *d;
	uint64_t addr, w1;
	uint32_t len;
	uint16_t flags;
	int rc;

	if (VQ_UNLIKELY(head >= size))
		return vq_dev_fail(q, -ERANGE, "split: available head %u >= queue size %u", head,
				   size);
	d = (const uint8_t *)&desc[head];
	addr = vq_ld64(d);
	w1 = vq_ld64(d + 8); /* len | flags << 32 | next << 48 */
	len = (uint32_t)w1;
	flags = (uint16_t)(w1 >> 32);
	if (VQ_LIKELY(!(flags & (VQ_DESC_F_NEXT | VQ_DESC_F_INDIRECT)) &&
		      (mode == VQ_WALK_TX || (flags & VQ_DESC_F_WRITE)) &&
		      t->nseg < VQ_BURST_SEGS && vq_take_hit(t, addr, len))) {
		vq_take_one(t, b, vq_take_ptr(t, addr), len, head, flags);
		return 0;
	}
	b->nchain = (uint16_t)t->nchain;
	b->nseg = (uint16_t)t->nseg;
	rc = vq_split_dev_walk(q, head, b, mode);
	t->nchain = b->nchain;
	t->nseg = b->nseg;
	t->mc = q->cache;
	return rc;
}

/**
 * Reads the available index and returns how many entries are new, checking
 * that the driver did not move it further than the ring holds.
 */
static VQ_ALWAYS_INLINE uint16_t
vq_split_dev_avail(struct vq_dev *q, uint16_t last)
{
	/* Acquire: the ring entries and descriptors published before avail->idx
	 * (2.7.13) are read after it. */
	uint16_t n = (uint16_t)(vq_ld16_acq(&q->split.avail->idx) - last);

	if (VQ_UNLIKELY(n > q->size)) {
		vq_dev_fail(q, -ERANGE, "split: avail idx moved %u entries ahead, queue size %u", n,
			    q->size);
		return 0;
	}
	return n;
}

/* The body of vq_split_dev_take(), one copy per kind of map: @p multi a
 * constant (see struct vq_take). */
static VQ_ALWAYS_INLINE unsigned int
vq_split_dev_take_in(struct vq_dev *q, struct vq_burst *b, unsigned int max, const bool multi)
{
	const struct vq_desc *desc = q->split.desc;
	const uint16_t *ring = q->split.avail->ring;
	const uint16_t size = q->size, mask = q->mask, last = q->last_avail;
	struct vq_take t = VQ_TAKE_INIT(q, multi);
	uint16_t heads[VQ_BURST_MAX];
	unsigned int n, i;

	b->npkt = 0;
	if (VQ_UNLIKELY(q->error))
		goto out;
	n = vq_split_dev_avail(q, last);
	if (n > max)
		n = max;
	if (n > VQ_BURST_MAX)
		n = VQ_BURST_MAX;
	/* Read the heads first and prefetch their descriptors, so the walk
	 * below finds them in cache. A bad head is caught by the walk; the
	 * mask only keeps the prefetch inside the table. */
	for (i = 0; i < n; i++) {
		heads[i] = vq_ld16(&ring[(uint16_t)(last + i) & mask]);
		vq_prefetch(&desc[heads[i] & mask]);
	}
	for (i = 0; i < n; i++)
		if (VQ_UNLIKELY(vq_split_dev_chain(q, desc, size, &t, heads[i], b, VQ_WALK_TX) < 0))
			break;
	q->last_avail = (uint16_t)(last + t.nchain);
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
vq_split_dev_take(struct vq_dev *q, struct vq_burst *b, unsigned int max)
{
	if (vq_take_multi(q))
		return vq_split_dev_take_in(q, b, max, true);
	return vq_split_dev_take_in(q, b, max, false);
}

/* The body of vq_split_dev_take_rx(), one copy per kind of map. */
static VQ_ALWAYS_INLINE unsigned int
vq_split_dev_take_rx_in(struct vq_dev *q, struct vq_burst *b, const uint32_t *len, unsigned int n,
			const bool multi)
{
	const bool mrg = q->flags & VQ_QF_MRG_RXBUF;
	const struct vq_desc *desc = q->split.desc;
	const uint16_t *ring = q->split.avail->ring;
	const uint16_t size = q->size, mask = q->mask, last = q->last_avail;
	struct vq_take t = VQ_TAKE_INIT(q, multi);
	unsigned int navail, pos = 0, p = 0;
	uint16_t next;

	if (VQ_UNLIKELY(q->error))
		goto out;
	navail = vq_split_dev_avail(q, last);
	if (navail == 0)
		goto out;
	if (n > VQ_BURST_MAX)
		n = VQ_BURST_MAX;
	/* Heads are read one ahead, to prefetch the next descriptor. */
	next = vq_ld16(&ring[last & mask]);
	vq_prefetch(&desc[next & mask]);
	for (p = 0; p < n; p++) {
		const unsigned int c0 = t.nchain, s0 = t.nseg, pos0 = pos;
		const uint32_t need = len[p];
		uint32_t have = 0;
		struct vq_pkt *pk;

		/* The common case: one writable descriptor that holds it all. */
		if (VQ_LIKELY(pos < navail && next < size && t.nchain < VQ_BURST_CHAINS &&
			      t.nseg < VQ_BURST_SEGS)) {
			const uint8_t *d = (const uint8_t *)&desc[next];
			const uint64_t addr = vq_ld64(d), w1 = vq_ld64(d + 8);
			const uint32_t dlen = (uint32_t)w1;
			const uint16_t flags = (uint16_t)(w1 >> 32);

			if (VQ_LIKELY((flags & (VQ_DESC_F_NEXT | VQ_DESC_F_INDIRECT |
						VQ_DESC_F_WRITE)) == VQ_DESC_F_WRITE &&
				      dlen >= need && vq_take_hit(&t, addr, dlen))) {
				vq_take_rx_one(&t, b, p, vq_take_ptr(&t, addr), dlen, next, need);
				pos++;
				next = vq_ld16(&ring[(uint16_t)(last + pos) & mask]);
				vq_prefetch(&desc[next & mask]);
				continue;
			}
		}
		do {
			struct vq_chain *c;
			uint16_t head;
			uint32_t room;

			if (pos == navail || t.nchain == VQ_BURST_CHAINS)
				goto undo;
			head = next;
			next = vq_ld16(&ring[(uint16_t)(last + pos + 1) & mask]);
			vq_prefetch(&desc[next & mask]);
			if (VQ_UNLIKELY(vq_split_dev_chain(q, desc, size, &t, head, b, VQ_WALK_RX) <
					0))
				goto undo;
			pos++;
			c = &b->chain[t.nchain - 1];
			room = c->wlen;
			if (!mrg) {
				/* One chain per packet (5.1.6.3.1): it must hold it all. */
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
		/* Not enough room for this packet now: leave its chains available. */
		t.nchain = c0;
		t.nseg = s0;
		pos = pos0;
		break;
	}
	q->last_avail = (uint16_t)(last + pos);
	q->cache = t.mc;
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
vq_split_dev_take_rx(struct vq_dev *q, struct vq_burst *b, const uint32_t *len, unsigned int n)
{
	if (vq_take_multi(q))
		return vq_split_dev_take_rx_in(q, b, len, n, true);
	return vq_split_dev_take_rx_in(q, b, len, n, false);
}

/** Device: available chains, at most @p max (see vq_dev_avail_hint()). */
static VQ_ALWAYS_INLINE unsigned int
vq_split_dev_avail_hint(struct vq_dev *q, unsigned int max)
{
	unsigned int n;

	if (VQ_UNLIKELY(q->error))
		return 0;
	n = vq_split_dev_avail(q, q->last_avail);
	return n < max ? n : max;
}

/** Device: gives chains [keep, nchain) of @p b back (see vq_dev_untake()). */
static VQ_ALWAYS_INLINE void
vq_split_dev_untake(struct vq_dev *q, struct vq_burst *b, unsigned int keep)
{
	q->last_avail = (uint16_t)(q->last_avail - (b->nchain - keep));
}

/*
 * Device: writes the used entries of every chain of @p b after the used
 * index and returns the index that publishes them (internal).
 */
static VQ_ALWAYS_INLINE uint16_t
vq_split_dev_write_used(struct vq_dev *q, const struct vq_burst *b)
{
	const unsigned int n = b->nchain;
	const bool in_order = q->flags & VQ_QF_IN_ORDER;
	struct vq_used_elem *ring = q->split.used->ring;
	const uint16_t mask = q->mask;
	uint16_t used = q->used_idx, pos = used;

	for (unsigned int i = 0; i < n; i++) {
		const struct vq_chain *c = &b->chain[i];
		struct vq_used_elem *e;

		/* In order (2.7.9): one entry, written where the batch starts,
		 * stands for every chain before it; those count as used
		 * completely, so only chains with nothing to write are skipped. */
		if (in_order && c->wlen == 0 && i + 1 < n)
			continue;
		e = &ring[pos & mask];
		vq_st32(&e->id, c->id);
		vq_st32(&e->len, c->used_len);
		pos = (uint16_t)(used + i + 1);
	}
	/* Live migration: logged here, so held returns are too (their index
	 * is published within the same poll, before any ring stops). */
	if (VQ_UNLIKELY(q->flags & VQ_QF_DIRTY))
		vq_dev_dirty_return(q, b);
	/* Inflight tracking: the batch is listed before its index is stored. */
	if (VQ_UNLIKELY(q->flags & VQ_QF_INFLIGHT))
		vq_split_inflight_link(q, b);
	return (uint16_t)(used + n);
}

/**
 * Device: returns every chain of @p b as used (see vq_dev_return()).
 */
static VQ_ALWAYS_INLINE void
vq_split_dev_return(struct vq_dev *q, const struct vq_burst *b)
{
	uint16_t used;

	if (b->nchain == 0)
		return;
	used = vq_split_dev_write_used(q, b);
	/* Release: the entries are visible before the index (2.7.8.2). */
	vq_st16_rel(&q->split.used->idx, used);
	q->used_idx = used;
	/* Inflight tracking: the marks are cleared only after the index. */
	if (VQ_UNLIKELY(q->flags & VQ_QF_INFLIGHT))
		vq_split_inflight_done(q);
}

/**
 * Device, split rings: returns every chain of @p b like vq_dev_return(),
 * but holds the used index back: the entries are written, the driver sees
 * none of them until vq_split_dev_publish(). Several bursts may be held;
 * one publication shows them all. Until then the queue's position
 * (vq_dev_get_state(), the call decision) already counts them: publish
 * before either is used.
 *
 * For a device that must make the returns of several rings visible
 * together, or not at all, across its own crash: it records the old and
 * new used index of each ring somewhere that survives it, then publishes
 * (a single 16-bit store per ring, which a restarted device can redo).
 *
 * @param q a split queue
 * @param b a burst filled by vq_dev_take() or vq_dev_take_rx() on @p q
 */
static VQ_ALWAYS_INLINE void
vq_split_dev_return_held(struct vq_dev *q, const struct vq_burst *b)
{
	if (b->nchain == 0)
		return;
	q->used_idx = vq_split_dev_write_used(q, b);
}

/**
 * Device, split rings: publishes what vq_split_dev_return_held() held,
 * with one release store of the used index (2.7.8.2).
 *
 * @param q a split queue
 */
static VQ_ALWAYS_INLINE void
vq_split_dev_publish(struct vq_dev *q)
{
	vq_st16_rel(&q->split.used->idx, q->used_idx);
	if (VQ_UNLIKELY(q->flags & VQ_QF_INFLIGHT))
		vq_split_inflight_done(q);
}

/**
 * Device: whether to send a used buffer notification (call) for what was
 * returned since the last decision (see vq_dev_call_needed()).
 */
static VQ_ALWAYS_INLINE bool
vq_split_dev_call_needed(struct vq_dev *q)
{
	const uint16_t new_idx = q->used_idx, old = (uint16_t)q->signalled;

	if (new_idx == old)
		return false;
	/* Full barrier: used->idx is visible before we read the driver's
	 * suppression fields, or a driver re-enabling calls could miss one. */
	vq_mb();
	q->signalled = new_idx;
	if (q->flags & VQ_QF_EVENT_IDX) {
		if (VQ_UNLIKELY(q->flags & VQ_QF_FIRST_CALL))
			return vq_dev_first_call(q);
		return vq_need_event(vq_ld16(&q->split.avail->ring[q->size]), new_idx, old);
	}
	return !(vq_ld16(&q->split.avail->flags) & VQ_AVAIL_F_NO_INTERRUPT);
}

/**
 * Device: asks the driver not to kick (see vq_dev_kick_disable()).
 */
static VQ_ALWAYS_INLINE void
vq_split_dev_kick_disable(struct vq_dev *q)
{
	/* With EVENT_IDX, avail_event is left where it was: the driver kicks
	 * again only when its index passes that stale value. */
	if (!(q->flags & VQ_QF_EVENT_IDX) && !q->kick_off) {
		vq_st16(&q->split.used->flags, VQ_USED_F_NO_NOTIFY);
		if (VQ_UNLIKELY(q->flags & VQ_QF_DIRTY))
			vq_dev_dirty_device_area(q, 0, sizeof(q->split.used->flags));
	}
	q->kick_off = 1;
}

/**
 * Device: asks the driver to kick on its next available buffer; returns true
 * if buffers are already available (see vq_dev_kick_enable()).
 */
static VQ_ALWAYS_INLINE bool
vq_split_dev_kick_enable(struct vq_dev *q)
{
	if (q->flags & VQ_QF_EVENT_IDX) {
		vq_st16(&q->split.used->ring[q->size], q->last_avail);
		if (VQ_UNLIKELY(q->flags & VQ_QF_DIRTY))
			vq_dev_dirty_device_area(q, vq_split_used_size(q->size) - 2, 2);
	} else if (q->kick_off) {
		vq_st16(&q->split.used->flags, 0);
		if (VQ_UNLIKELY(q->flags & VQ_QF_DIRTY))
			vq_dev_dirty_device_area(q, 0, sizeof(q->split.used->flags));
	}
	q->kick_off = 0;
	/* Full barrier: the request is visible before we re-read avail->idx;
	 * otherwise a buffer added meanwhile would wait for a kick that never
	 * comes. */
	vq_mb();
	return vq_ld16(&q->split.avail->idx) != q->last_avail;
}

/* ------------------------------------------------------------------------ */
/* Driver side                                                              */
/* ------------------------------------------------------------------------ */

/** Fills the indirect table of @p head with @p c's elements; returns its writable bytes. */
static VQ_ALWAYS_INLINE uint32_t
vq_split_drv_fill_indirect(struct vq_drv *q, uint16_t head, const struct vq_drv_chain *c)
{
	struct vq_desc *t = (struct vq_desc *)(q->indirect + (size_t)head * q->indirect_max *
								     sizeof(struct vq_desc));
	uint32_t wlen = 0;

	for (uint16_t j = 0; j < c->nseg; j++) {
		const struct vq_drv_seg *s = &c->seg[j];

		t[j].addr = s->addr;
		t[j].len = s->len;
		t[j].flags = (uint16_t)((s->flags & VQ_DESC_F_WRITE) |
					(j + 1 < c->nseg ? VQ_DESC_F_NEXT : 0));
		t[j].next = (uint16_t)(j + 1);
		if (s->flags & VQ_DESC_F_WRITE)
			wlen += s->len;
	}
	return wlen;
}

/**
 * Driver: posts up to @p n chains (see vq_drv_post()).
 */
static VQ_ALWAYS_INLINE unsigned int
vq_split_drv_post(struct vq_drv *q, const struct vq_drv_chain *ch, unsigned int n)
{
	const bool in_order = q->flags & VQ_QF_IN_ORDER;
	uint16_t avail = q->avail_idx;
	unsigned int i;

	if (VQ_UNLIKELY(q->error))
		return 0;
	for (i = 0; i < n; i++) {
		const struct vq_drv_chain *c = &ch[i];
		const uint16_t nseg = c->nseg;
		const bool ind = nseg > 1 && nseg <= q->indirect_max;
		const uint16_t need = ind ? 1 : nseg;
		const uint16_t head = q->free_head;
		struct vq_drv_slot *sl;
		uint16_t idx = head, last = head;
		uint32_t wlen = 0;

		if (VQ_UNLIKELY(need == 0 || need > q->num_free || c->cookie == NULL))
			break;
		if (ind) {
			struct vq_desc *d = &q->split.desc[head];

			wlen = vq_split_drv_fill_indirect(q, head, c);
			d->addr = q->indirect_iova +
				  (uint64_t)head * q->indirect_max * sizeof(struct vq_desc);
			d->len = (uint32_t)nseg * sizeof(struct vq_desc);
			d->flags = VQ_DESC_F_INDIRECT;
			idx = in_order ? (uint16_t)((head + 1) & q->mask) : q->next[head];
		} else {
			for (uint16_t j = 0; j < nseg; j++) {
				const struct vq_drv_seg *s = &c->seg[j];
				struct vq_desc *d = &q->split.desc[idx];
				/* In order (2.7.5.1): descriptors go round the table. */
				uint16_t nx =
					in_order ? (uint16_t)((idx + 1) & q->mask) : q->next[idx];

				d->addr = s->addr;
				d->len = s->len;
				d->flags = (uint16_t)((s->flags & VQ_DESC_F_WRITE) |
						      (j + 1 < nseg ? VQ_DESC_F_NEXT : 0));
				d->next = nx;
				if (s->flags & VQ_DESC_F_WRITE)
					wlen += s->len;
				last = idx;
				idx = nx;
			}
		}
		q->free_head = idx;
		q->num_free = (uint16_t)(q->num_free - need);
		sl = &q->slot[head];
		sl->cookie = c->cookie;
		sl->wlen = wlen;
		sl->ndesc = need;
		sl->last = last;
		vq_st16(&q->split.avail->ring[avail & q->mask], head);
		avail++;
	}
	if (i) {
		/* Release: descriptors and ring entries before the index (2.7.13). */
		vq_st16_rel(&q->split.avail->idx, avail);
		q->avail_idx = avail;
		q->inflight = (uint16_t)(q->inflight + i);
	}
	return i;
}

/** Driver: puts the chain at @p head back on the free list. */
static VQ_ALWAYS_INLINE void
vq_split_drv_free(struct vq_drv *q, uint16_t head)
{
	struct vq_drv_slot *sl = &q->slot[head];

	sl->cookie = NULL;
	q->num_free = (uint16_t)(q->num_free + sl->ndesc);
	if (q->flags & VQ_QF_IN_ORDER) {
		q->reap_next = (uint16_t)((head + sl->ndesc) & q->mask);
	} else {
		/* The chain's own links (private) still lead to its last one. */
		q->next[sl->last] = q->free_head;
		q->free_head = head;
	}
}

/**
 * Driver, in order: reaps @p n used entries. One entry ends a batch of
 * chains (2.7.9); the chains before its id count as used completely.
 */
static inline unsigned int
vq_split_drv_reap_in_order(struct vq_drv *q, void **cookie, uint32_t *len, unsigned int n)
{
	const uint16_t last = q->used_idx;
	unsigned int k;

	for (k = 0; k < n; k++) {
		const uint16_t h = q->reap_next;
		struct vq_drv_slot *sl = &q->slot[h];

		if (q->batch_end < 0) {
			const struct vq_used_elem *e =
				&q->split.used->ring[(uint16_t)(last + k) & q->mask];
			uint32_t id = vq_ld32(&e->id);

			if (VQ_UNLIKELY(id >= q->size || q->slot[id].cookie == NULL)) {
				vq_drv_fail(q, -ERANGE, "split: used id %u is not in flight", id);
				break;
			}
			q->batch_end = (int32_t)id;
			q->batch_len = vq_ld32(&e->len);
		}
		cookie[k] = sl->cookie;
		if ((int32_t)h == q->batch_end) {
			if (VQ_UNLIKELY(q->batch_len > sl->wlen)) {
				vq_drv_fail(q, -EINVAL, "split: used len %u > posted %u",
					    q->batch_len, sl->wlen);
				break;
			}
			len[k] = q->batch_len;
			q->batch_end = -1;
		} else {
			len[k] = sl->wlen;
		}
		vq_split_drv_free(q, h);
	}
	return k;
}

/**
 * Driver: reaps up to @p max used chains (see vq_drv_reap()).
 */
static VQ_ALWAYS_INLINE unsigned int
vq_split_drv_reap(struct vq_drv *q, void **cookie, uint32_t *len, unsigned int max)
{
	const uint16_t last = q->used_idx;
	unsigned int n, i;

	if (VQ_UNLIKELY(q->error))
		return 0;
	/* Acquire: entries published before used->idx are read after it. */
	n = (uint16_t)(vq_ld16_acq(&q->split.used->idx) - last);
	if (n == 0)
		return 0;
	if (VQ_UNLIKELY(n > q->inflight)) {
		vq_drv_fail(q, -ERANGE, "split: used idx moved %u ahead, %u in flight", n,
			    q->inflight);
		return 0;
	}
	if (n > max)
		n = max;
	if (q->flags & VQ_QF_IN_ORDER) {
		i = vq_split_drv_reap_in_order(q, cookie, len, n);
	} else {
		for (i = 0; i < n; i++) {
			const struct vq_used_elem *e =
				&q->split.used->ring[(uint16_t)(last + i) & q->mask];
			uint32_t id = vq_ld32(&e->id), l = vq_ld32(&e->len);
			struct vq_drv_slot *sl;

			if (VQ_UNLIKELY(id >= q->size || q->slot[id].cookie == NULL)) {
				vq_drv_fail(q, -ERANGE, "split: used id %u is not in flight", id);
				break;
			}
			sl = &q->slot[id];
			if (VQ_UNLIKELY(l > sl->wlen)) {
				vq_drv_fail(q, -EINVAL, "split: used len %u > posted %u", l,
					    sl->wlen);
				break;
			}
			cookie[i] = sl->cookie;
			len[i] = l;
			vq_split_drv_free(q, (uint16_t)id);
		}
	}
	q->used_idx = (uint16_t)(last + i);
	q->inflight = (uint16_t)(q->inflight - i);
	return i;
}

/**
 * Driver: whether to kick the device for what was posted since the last
 * decision (see vq_drv_kick_needed()).
 */
static VQ_ALWAYS_INLINE bool
vq_split_drv_kick_needed(struct vq_drv *q)
{
	const uint16_t new_idx = q->avail_idx, old = (uint16_t)q->kicked;

	if (new_idx == old)
		return false;
	/* Full barrier before reading the device's suppression (2.7.13.4). */
	vq_mb();
	q->kicked = new_idx;
	if (q->flags & VQ_QF_EVENT_IDX)
		return vq_need_event(vq_ld16(&q->split.used->ring[q->size]), new_idx, old);
	return !(vq_ld16(&q->split.used->flags) & VQ_USED_F_NO_NOTIFY);
}

/** Driver: asks the device not to call (see vq_drv_call_disable()). */
static VQ_ALWAYS_INLINE void
vq_split_drv_call_disable(struct vq_drv *q)
{
	if (!(q->flags & VQ_QF_EVENT_IDX) && !q->call_off)
		vq_st16(&q->split.avail->flags, VQ_AVAIL_F_NO_INTERRUPT);
	q->call_off = 1;
}

/**
 * Driver: asks the device to call on its next used buffer; returns true if
 * used buffers are already waiting (see vq_drv_call_enable()).
 */
static VQ_ALWAYS_INLINE bool
vq_split_drv_call_enable(struct vq_drv *q)
{
	if (q->flags & VQ_QF_EVENT_IDX)
		vq_st16(&q->split.avail->ring[q->size], q->used_idx);
	else if (q->call_off)
		vq_st16(&q->split.avail->flags, 0);
	q->call_off = 0;
	vq_mb();
	return vq_ld16(&q->split.used->idx) != q->used_idx;
}

#ifdef __cplusplus
}
#endif

#endif /* VIRTQ_SPLIT_H */
