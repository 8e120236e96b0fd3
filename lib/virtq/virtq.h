/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTQ_H
#define VIRTQ_H

/**
 * @file
 * libvirtq: split and packed virtqueues (VIRTIO 1.2, 2.7 and 2.8), device
 * and driver side. This header includes the others and adds the
 * format-independent fast path: each call branches once on the format and
 * runs the split or packed code from virtq_split.h / virtq_packed.h.
 *
 * Device side (the switch serving a guest's rings), per burst:
 *
 *   TX (guest to switch), e.g. a vhost-user port's dequeue:
 *     n = vq_dev_take(q, &b, VQ_BURST_MAX);   // chains -> (host ptr, len) segments
 *     for each b.chain[i]: copy its readable segments out (the first
 *       hdr_len bytes are the virtio-net header); chains flagged
 *       VQ_CHAIN_F_OVERSIZE are dropped
 *     vq_dev_return(q, &b);                   // used entries, one index store
 *     if (vq_dev_call_needed(q)) signal the call eventfd;
 *
 *   RX (switch to guest), e.g. a vhost-user port's enqueue:
 *     len[i] = hdr_len + packet i's length
 *     n = vq_dev_take_rx(q, &b, len, npkts);  // packets 0..n-1 placed
 *     for each b.pkt[p]: write the header (num_buffers = pkt.nbufs with
 *       MRG_RXBUF) and the packet across pkt.seg[0..nseg)
 *     vq_dev_return(q, &b);
 *     if (vq_dev_call_needed(q)) signal the call eventfd;
 *     packets n.. found no room: the caller drops or retries them
 *
 *   Polling with notifications: vq_dev_kick_disable() while busy; before
 *   sleeping, if vq_dev_kick_enable() returns true, poll again instead.
 *
 * Driver side (rings and buffers in the switch's own memory), per burst:
 *     vq_drv_post(q, chains, n) / vq_drv_post_buf(q, ...) -> posted count
 *     if (vq_drv_kick_needed(q)) kick the device;
 *     n = vq_drv_reap(q, cookies, lens, max);
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "virtq_atomic.h"
#include "virtq_dev.h"
#include "virtq_drv.h"
#include "virtq_memmap.h"
#include "virtq_packed.h"
#include "virtq_ring.h"
#include "virtq_split.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Device side                                                              */
/* ------------------------------------------------------------------------ */

/**
 * Takes up to @p max available chains into @p b, in ring order.
 *
 * Each chain's elements are checked and translated into host segments
 * (readable ones first). A chain that does not fit in what is left of the
 * burst stays available for the next call. A malformed chain breaks the
 * queue: the chains taken before it are still returned in @p b.
 *
 * Every chain taken must be returned with vq_dev_return(), in the order
 * taken, before the queue's position is read with vq_dev_get_state().
 *
 * @param q the queue
 * @param b the burst to fill (emptied first)
 * @param max most chains to take (capped at VQ_BURST_MAX)
 * @return chains taken (b->nchain); 0 when none is available or the queue
 *         is broken (vq_dev_error())
 */
static VQ_ALWAYS_INLINE unsigned int
vq_dev_take(struct vq_dev *q, struct vq_burst *b, unsigned int max)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_dev_take(q, b, max);
	return vq_split_dev_take(q, b, max);
}

/**
 * Places packets into available chains, for a receive queue: packet i needs
 * @p len[i] bytes (virtio-net header included). Without
 * VIRTIO_NET_F_MRG_RXBUF each packet takes one chain that must hold it all;
 * with it, a packet takes as many chains as it needs (num_buffers =
 * b->pkt[i].nbufs). Only device-writable segments are kept.
 *
 * Each chain's used_len is set to the bytes the packet puts in it, filling
 * the chains in order; the caller writes exactly that: b->pkt[i].len bytes
 * across b->pkt[i].seg. It may lower a chain's used_len before returning.
 *
 * Packets are placed in order; the first that does not fit (ring empty,
 * chain too small without MRG_RXBUF, burst full) ends the call, and its
 * chains stay available.
 *
 * @param q the queue
 * @param b the burst to fill (emptied first)
 * @param len bytes per packet
 * @param n packets (capped at VQ_BURST_MAX)
 * @return packets placed (b->npkt); their chains are b->chain[0..b->nchain)
 */
static VQ_ALWAYS_INLINE unsigned int
vq_dev_take_rx(struct vq_dev *q, struct vq_burst *b, const uint32_t *len, unsigned int n)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_dev_take_rx(q, b, len, n);
	return vq_split_dev_take_rx(q, b, len, n);
}

/**
 * How many chains vq_dev_take() would find, at most @p max, to size an mbuf
 * allocation before taking: exact for a split ring; for a packed ring the
 * count of available descriptors ahead, an upper bound.
 *
 * @param q the queue
 * @param max most to count
 * @return chains available (0 when broken)
 */
static VQ_ALWAYS_INLINE unsigned int
vq_dev_avail_hint(struct vq_dev *q, unsigned int max)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_dev_avail_hint(q, max);
	return vq_split_dev_avail_hint(q, max);
}

/**
 * The one 16-bit word of the driver's memory that says whether the ring
 * has anything available (split: the available index, 2.7.6; packed: the
 * flags of the next descriptor, 2.8.1), for a caller that reads it by its
 * own means (a read that survives the memory going away, for example)
 * before deciding to take. vq_dev_poll_ready() says what the value means.
 *
 * @param q the queue (not broken: see vq_dev_error())
 * @return the word's address in the driver's memory
 */
static VQ_ALWAYS_INLINE const uint16_t *
vq_dev_poll_word(const struct vq_dev *q)
{
	if (q->flags & VQ_QF_PACKED)
		return &q->packed.desc[q->last_avail].flags;
	return &q->split.avail->idx;
}

/**
 * Whether @p word, read at vq_dev_poll_word(), says something may be
 * available: false is what vq_dev_avail_hint() would find (0); true asks
 * for vq_dev_avail_hint() or a take, which read again and validate.
 *
 * @param q the queue
 * @param word the value read
 * @return true if a take may find a chain
 */
static VQ_ALWAYS_INLINE bool
vq_dev_poll_ready(const struct vq_dev *q, uint16_t word)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_desc_avail(word, q->avail_wrap);
	return word != q->last_avail;
}

/**
 * How many buffers (chains) are available, at most @p max: exact for both
 * layouts (a packed ring's descriptors ahead are walked to the end of each
 * chain), where vq_dev_avail_hint() counts a packed ring's descriptors.
 * For decisions that depend on the number of buffers (does a packet that
 * needs more than there are wait, or can it never fit?). Off the fast path.
 *
 * @param q the queue
 * @param max most to count
 * @return buffers available (0 when broken)
 */
static VQ_ALWAYS_INLINE unsigned int
vq_dev_avail_bufs(struct vq_dev *q, unsigned int max)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_dev_avail_bufs(q, max);
	return vq_split_dev_avail_hint(q, max);
}

/**
 * Gives the chains [@p keep, b->nchain) of the last take back to the ring,
 * unconsumed: the next take finds them again (for example when mbufs ran
 * out). Only right after vq_dev_take() / vq_dev_take_rx() on @p b, before
 * vq_dev_return(); b->nchain (and, after take_rx, b->npkt) are trimmed.
 * After vq_dev_take_rx(), @p keep must be the first chain of a packet
 * (b->pkt[i].chain) so that no packet is cut.
 *
 * @param q the queue
 * @param b the burst just taken
 * @param keep chains to keep, <= b->nchain
 */
static VQ_ALWAYS_INLINE void
vq_dev_untake(struct vq_dev *q, struct vq_burst *b, unsigned int keep)
{
	if (keep >= b->nchain)
		return;
	if (q->flags & VQ_QF_PACKED)
		vq_packed_dev_untake(q, b, keep);
	else
		vq_split_dev_untake(q, b, keep);
	if (VQ_UNLIKELY(q->flags & VQ_QF_INFLIGHT))
		vq_dev_inflight_untake(q, b, keep);
	b->nchain = (uint16_t)keep;
	b->nseg = keep ? (uint16_t)(b->chain[keep - 1].seg + b->chain[keep - 1].nseg - b->seg) : 0;
	while (b->npkt && b->pkt[b->npkt - 1].chain >= keep)
		b->npkt--;
}

/**
 * Returns every chain of @p b to the driver as used, each with its
 * used_len, with one release store of the used index (split) or of the
 * burst's first used descriptor (packed). With VIRTIO_F_IN_ORDER a run of
 * chains with nothing device-writable is returned as one entry.
 *
 * @param q the queue
 * @param b a burst filled by vq_dev_take() or vq_dev_take_rx() on @p q
 */
static VQ_ALWAYS_INLINE void
vq_dev_return(struct vq_dev *q, const struct vq_burst *b)
{
	if (q->flags & VQ_QF_PACKED)
		vq_packed_dev_return(q, b);
	else
		vq_split_dev_return(q, b);
}

/**
 * Returns every chain of @p b like vq_dev_return(), but holds the
 * publication back (vq_split_dev_return_held(), vq_packed_dev_return_held()):
 * the driver sees none of it until vq_dev_publish(). For a device that
 * hands chains back only once it is done with what they carried, across
 * its own crash. Publish before the queue's position is read or a call is
 * decided.
 *
 * @param q the queue
 * @param b a burst filled by vq_dev_take() or vq_dev_take_rx() on @p q
 */
static VQ_ALWAYS_INLINE void
vq_dev_return_held(struct vq_dev *q, const struct vq_burst *b)
{
	if (q->flags & VQ_QF_PACKED)
		vq_packed_dev_return_held(q, b);
	else
		vq_split_dev_return_held(q, b);
}

/**
 * Publishes every return vq_dev_return_held() held: one release store of
 * the used index (split) or of the first held used descriptor's flags
 * (packed).
 *
 * @param q the queue
 */
static VQ_ALWAYS_INLINE void
vq_dev_publish(struct vq_dev *q)
{
	if (q->flags & VQ_QF_PACKED)
		vq_packed_dev_publish(q);
	else
		vq_split_dev_publish(q);
}

/**
 * Decides whether the driver wants a used buffer notification (a call) for
 * what was returned since the last decision: the driver's flags, or with
 * VIRTIO_F_EVENT_IDX its used_event / event offset (2.7.7, 2.8.10). Call it
 * once after one or more vq_dev_return() (at least once per queue-size
 * entries returned).
 *
 * @param q the queue
 * @return true if the caller should signal the call eventfd
 */
static VQ_ALWAYS_INLINE bool
vq_dev_call_needed(struct vq_dev *q)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_dev_call_needed(q);
	return vq_split_dev_call_needed(q);
}

/**
 * Asks the driver not to send available buffer notifications (kicks): for
 * a device that polls. Writes shared memory only when the state changes.
 *
 * @param q the queue
 */
static VQ_ALWAYS_INLINE void
vq_dev_kick_disable(struct vq_dev *q)
{
	if (q->flags & VQ_QF_PACKED)
		vq_packed_dev_kick_disable(q);
	else
		vq_split_dev_kick_disable(q);
}

/**
 * Asks the driver to kick on its next available buffer (with EVENT_IDX:
 * when it makes the entry at the device's current position available), then
 * re-checks the ring after a full barrier.
 *
 * @param q the queue
 * @return true if a buffer is available already: poll again rather than
 *         wait for a kick
 */
static VQ_ALWAYS_INLINE bool
vq_dev_kick_enable(struct vq_dev *q)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_dev_kick_enable(q);
	return vq_split_dev_kick_enable(q);
}

/* ------------------------------------------------------------------------ */
/* Driver side                                                              */
/* ------------------------------------------------------------------------ */

/**
 * Posts chains, in order, and publishes them with one release store. A chain
 * of more than one element goes into an indirect table when the queue has
 * them (indirect_max >= its length).
 *
 * @param q the queue
 * @param ch the chains (cookies not NULL)
 * @param n chains
 * @return chains posted; fewer than @p n when descriptors ran out, a chain
 *         was empty or had a NULL cookie, or the queue is broken
 */
static VQ_ALWAYS_INLINE unsigned int
vq_drv_post(struct vq_drv *q, const struct vq_drv_chain *ch, unsigned int n)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_drv_post(q, ch, n);
	return vq_split_drv_post(q, ch, n);
}

/**
 * Posts one-element buffers (the common case: a receive buffer, or a
 * packet with its header in front), @p flags (VQ_DESC_F_WRITE or 0) for all.
 *
 * @param q the queue
 * @param addr guest address per buffer
 * @param len length per buffer
 * @param cookie cookie per buffer (not NULL)
 * @param n buffers
 * @param flags VQ_DESC_F_WRITE for device-writable buffers, else 0
 * @return buffers posted
 */
static VQ_ALWAYS_INLINE unsigned int
vq_drv_post_buf(struct vq_drv *q, const uint64_t *addr, const uint32_t *len, void *const *cookie,
		unsigned int n, uint16_t flags)
{
	struct vq_drv_seg seg[VQ_BURST_MAX];
	struct vq_drv_chain ch[VQ_BURST_MAX];
	unsigned int done = 0;

	while (done < n) {
		unsigned int k = n - done < VQ_BURST_MAX ? n - done : VQ_BURST_MAX, posted;

		for (unsigned int i = 0; i < k; i++) {
			seg[i].addr = addr[done + i];
			seg[i].len = len[done + i];
			seg[i].flags = flags;
			seg[i].resv = 0;
			ch[i].cookie = cookie[done + i];
			ch[i].seg = &seg[i];
			ch[i].nseg = 1;
		}
		posted = vq_drv_post(q, ch, k);
		done += posted;
		if (posted < k)
			break;
	}
	return done;
}

/**
 * Reaps used chains, in the order the device used them, with the bytes it
 * wrote (0 for a chain with nothing device-writable; with IN_ORDER, a chain
 * the device skipped counts as filled completely, 2.7.9 / 2.8.9).
 *
 * @param q the queue
 * @param cookie filled with the chains' cookies
 * @param len filled with the bytes written per chain
 * @param max room in @p cookie and @p len
 * @return chains reaped; 0 when none is used or the queue is broken
 */
static VQ_ALWAYS_INLINE unsigned int
vq_drv_reap(struct vq_drv *q, void **cookie, uint32_t *len, unsigned int max)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_drv_reap(q, cookie, len, max);
	return vq_split_drv_reap(q, cookie, len, max);
}

/**
 * Decides whether the device wants an available buffer notification (a
 * kick) for what was posted since the last decision (2.7.10, 2.8.10).
 *
 * @param q the queue
 * @return true if the caller should kick the device
 */
static VQ_ALWAYS_INLINE bool
vq_drv_kick_needed(struct vq_drv *q)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_drv_kick_needed(q);
	return vq_split_drv_kick_needed(q);
}

/**
 * Asks the device not to send used buffer notifications (calls).
 *
 * @param q the queue
 */
static VQ_ALWAYS_INLINE void
vq_drv_call_disable(struct vq_drv *q)
{
	if (q->flags & VQ_QF_PACKED)
		vq_packed_drv_call_disable(q);
	else
		vq_split_drv_call_disable(q);
}

/**
 * Asks the device to call on its next used buffer, then re-checks after a
 * full barrier.
 *
 * @param q the queue
 * @return true if a used buffer is waiting already: reap rather than wait
 */
static VQ_ALWAYS_INLINE bool
vq_drv_call_enable(struct vq_drv *q)
{
	if (q->flags & VQ_QF_PACKED)
		return vq_packed_drv_call_enable(q);
	return vq_split_drv_call_enable(q);
}

/* ------------------------------------------------------------------------ */
/* Copy helpers over segment lists                                          */
/* ------------------------------------------------------------------------ */

/**
 * Copies @p len bytes out of segments, starting @p off bytes in.
 *
 * @param seg segments
 * @param nseg number of segments
 * @param off bytes to skip first
 * @param dst destination
 * @param len bytes to copy
 * @return bytes copied (less than @p len if the segments are shorter)
 */
static inline uint32_t
vq_segs_copy_out(const struct vq_seg *seg, unsigned int nseg, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *d = (uint8_t *)dst;
	uint32_t done = 0;

	for (unsigned int i = 0; i < nseg && done < len; i++) {
		uint32_t l = seg[i].len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len - done)
			l = len - done;
		memcpy(d + done, seg[i].addr + off, l);
		done += l;
		off = 0;
	}
	return done;
}

/**
 * Copies @p len bytes into segments, starting @p off bytes in.
 *
 * @param seg segments
 * @param nseg number of segments
 * @param off bytes to skip first
 * @param src source
 * @param len bytes to copy
 * @return bytes copied (less than @p len if the segments are shorter)
 */
static inline uint32_t
vq_segs_copy_in(const struct vq_seg *seg, unsigned int nseg, uint32_t off, const void *src,
		uint32_t len)
{
	const uint8_t *s = (const uint8_t *)src;
	uint32_t done = 0;

	for (unsigned int i = 0; i < nseg && done < len; i++) {
		uint32_t l = seg[i].len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len - done)
			l = len - done;
		memcpy(seg[i].addr + off, s + done, l);
		done += l;
		off = 0;
	}
	return done;
}

#ifdef __cplusplus
}
#endif

#endif /* VIRTQ_H */
