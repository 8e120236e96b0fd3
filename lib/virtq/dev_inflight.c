/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device side: inflight tracking (vhost-user, "Inflight I/O tracking").
 *
 * The region lives in memory that outlives the device (a memfd the
 * front-end keeps): every store here is ordered so that a device killed
 * between any two instructions leaves a region the next device recovers
 * from, neither losing a chain it took nor returning one twice.
 *
 * Split (as the spec): a chain taken gets counter, then inflight = 1. A
 * returned batch is listed (desc[id].next = last_batch_head,
 * last_batch_head = id) before the used index is stored; after it, the
 * batch's marks are cleared and the region's used_idx takes the ring's. At
 * start, a ring whose used->idx differs from the region's used_idx died in
 * between: the last batch (used->idx - used_idx entries of the list) is
 * cleared. The chains still marked are then the available entries right
 * after used->idx, in counter order (this device returns in the order it
 * takes), so starting at used->idx takes them again first.
 *
 * Packed: the spec keeps a free list of region entries; this device
 * returns buffers in the order it takes them, so a buffer's region
 * entries are simply its ring slots (desc[slot] holds a copy of the ring
 * descriptor; the head's num, last, counter and inflight). The used
 * position follows the spec's two phases: used_idx/used_wrap_counter take
 * the new position before the burst's first used flags are stored;
 * after, the burst's marks are cleared and old_used_idx/old_used_wrap_counter
 * follow. At start, a region whose two positions differ died in between:
 * if the descriptor at the old position is still available (for the old
 * wrap counter), the burst was not published and the old position stands;
 * else it was, and its marks are cleared. The buffers still marked are
 * then consecutive from the used position; their ring slots may hold used
 * descriptors of the burst that died unpublished (or a head whose len and
 * id were already rewritten), so they are written back from the copies
 * before the ring is read again. free_head and old_free_head stay 0.
 *
 * Held returns (vq_dev_return_held()) keep their marks until they are
 * published: split lists them at the held return and clears them after
 * the index store, as one batch; packed runs the two phases around the
 * store of the first held flags, over every buffer held (their sizes read
 * back from the region). A device that dies in between leaves what any
 * unpublished or half-published return leaves.
 */
#include <stdlib.h>
#include <string.h>

#include "dev_priv.h"
#include "virtq.h"

/* Earlier stores reach memory before later ones (a compiler barrier on x86). */
static inline void
release_fence(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
st8(uint8_t *p, uint8_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void
st64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* ---- split ---- */

static void
split_take(struct vq_dev *q, const struct vq_burst *b)
{
	struct vq_inflight_split *r = q->inflight;
	uint64_t ctr = q->inflight_counter;

	for (unsigned int i = 0; i < b->nchain; i++) {
		struct vq_inflight_desc_split *d = &r->desc[b->chain[i].id];

		st64(&d->counter, ctr++);
		release_fence(); /* a mark never carries a stale counter */
		st8(&d->inflight, 1);
	}
	q->inflight_counter = ctr;
}

void
vq_split_inflight_link(struct vq_dev *q, const struct vq_burst *b)
{
	struct vq_inflight_split *r = q->inflight;
	uint16_t head = vq_ld16(&r->last_batch_head);

	for (unsigned int i = 0; i < b->nchain; i++) {
		const uint16_t id = b->chain[i].id;

		vq_st16(&r->desc[id].next, head);
		head = id;
	}
	vq_st16(&r->last_batch_head, head);
}

/* Clears the marks of the @p n entries listed from last_batch_head. */
static void
split_clear_batch(struct vq_dev *q, struct vq_inflight_split *r, uint16_t n)
{
	uint16_t id = vq_ld16(&r->last_batch_head);

	/* The list is in shared memory: every index is checked. */
	for (uint16_t k = 0; k < n && id < q->size; k++) {
		st8(&r->desc[id].inflight, 0);
		id = vq_ld16(&r->desc[id].next);
	}
}

void
vq_split_inflight_done(struct vq_dev *q)
{
	struct vq_inflight_split *r = q->inflight;
	const uint16_t n = (uint16_t)(q->used_idx - vq_ld16(&r->used_idx));

	if (n == 0)
		return;
	release_fence(); /* used->idx before the marks go */
	split_clear_batch(q, r, n <= q->size ? n : q->size);
	release_fence();
	vq_st16(&r->used_idx, q->used_idx);
}

struct mark {
	uint64_t counter;
	uint16_t id;
};

static int
mark_cmp(const void *a, const void *b)
{
	const struct mark *x = a, *y = b;

	return x->counter < y->counter ? -1 : x->counter > y->counter;
}

/* Marks in counter order; *n of them. NULL with *n 0 when none (or no memory). */
static struct mark *
split_marks(const struct vq_dev *q, const struct vq_inflight_split *r, unsigned int *n)
{
	struct mark *m = NULL;
	unsigned int k = 0;

	*n = 0;
	for (unsigned int i = 0; i < q->size; i++) {
		if (!r->desc[i].inflight)
			continue;
		if (m == NULL && (m = malloc(sizeof(*m) * q->size)) == NULL)
			return NULL;
		m[k].counter = r->desc[i].counter;
		m[k++].id = (uint16_t)i;
	}
	if (k > 1)
		qsort(m, k, sizeof(*m), mark_cmp);
	*n = k;
	return m;
}

static void
split_init(struct vq_dev *q, struct vq_inflight_split *r)
{
	const uint16_t used = vq_ld16_acq(&q->split.used->idx);
	struct mark *m;
	unsigned int n, ok = 0;
	uint64_t ctr = 0;

	if (r->version != VQ_INFLIGHT_VERSION || r->desc_num != q->size) {
		memset(r->desc, 0, sizeof(r->desc[0]) * q->size);
		r->features = 0;
		r->desc_num = q->size;
		r->last_batch_head = 0;
		r->used_idx = q->used_idx;
		release_fence();
		r->version = VQ_INFLIGHT_VERSION;
		return;
	}
	/* A device died between storing used->idx and clearing the batch. */
	if (used != r->used_idx) {
		const uint16_t n_batch = (uint16_t)(used - r->used_idx);

		split_clear_batch(q, r, n_batch <= q->size ? n_batch : q->size);
		release_fence();
		r->used_idx = used;
	}
	m = split_marks(q, r, &n);
	/* The marked chains must be the ones available right after used. */
	while (ok < n &&
	       m[ok].id == vq_ld16(&q->split.avail->ring[(uint16_t)(used + ok) & q->mask]))
		ok++;
	for (unsigned int i = 0; i < n; i++) {
		if (i >= ok)
			r->desc[m[i].id].inflight = 0;
		if (m[i].counter >= ctr)
			ctr = m[i].counter + 1;
	}
	free(m);
	q->inflight_resubmit = (uint16_t)ok;
	q->inflight_stale = (uint16_t)(n - ok);
	q->inflight_counter = ctr;
	q->last_avail = used;
	q->used_idx = used;
}

/* ---- packed ---- */

static void
packed_take(struct vq_dev *q, const struct vq_burst *b)
{
	struct vq_inflight_packed *r = q->inflight;
	const uint16_t size = q->size;
	unsigned int total = 0;
	uint64_t ctr = q->inflight_counter;
	uint16_t slot;

	for (unsigned int i = 0; i < b->nchain; i++)
		total += b->chain[i].ndesc;
	/* The burst ends at the available position. */
	slot = (uint16_t)(q->last_avail >= total % size ? q->last_avail - total % size
							: q->last_avail + size - total % size);
	for (unsigned int i = 0; i < b->nchain; i++) {
		const uint16_t n = b->chain[i].ndesc, head = slot;
		struct vq_inflight_desc_packed *h = &r->desc[head];

		for (uint16_t k = 0; k < n; k++) {
			const struct vq_pdesc *d = &q->packed.desc[slot];
			struct vq_inflight_desc_packed *e = &r->desc[slot];

			e->addr = vq_ld64(&d->addr);
			e->len = vq_ld32(&d->len);
			e->id = vq_ld16(&d->id);
			e->flags = vq_ld16(&d->flags);
			slot = (uint16_t)(slot + 1 == size ? 0 : slot + 1);
		}
		h->num = n;
		h->last = (uint16_t)(slot == 0 ? size - 1 : slot - 1);
		h->counter = ctr++;
		release_fence(); /* the copy is whole before the mark */
		st8(&h->inflight, 1);
	}
	q->inflight_counter = ctr;
}

void
vq_packed_inflight_begin(struct vq_dev *q, uint16_t slot, uint8_t wrap)
{
	struct vq_inflight_packed *r = q->inflight;

	st8(&r->used_wrap_counter, wrap);
	vq_st16(&r->used_idx, slot);
	/* The caller's release store of the first used flags follows. */
}

/* Phase two's end: the old used position takes the new one. */
static void
packed_old_used(struct vq_inflight_packed *r, uint16_t slot, uint8_t wrap)
{
	release_fence();
	/* The slot first: a device killed between the two stores leaves
	 * (new slot, old wrap), whose descriptor is never available for the
	 * old wrap, so recovery rolls forward as it should. */
	vq_st16(&r->old_used_idx, slot);
	release_fence();
	st8(&r->old_used_wrap_counter, wrap);
}

void
vq_packed_inflight_done(struct vq_dev *q, const struct vq_burst *b, uint16_t slot, uint8_t wrap)
{
	struct vq_inflight_packed *r = q->inflight;
	uint16_t at = q->used_idx;

	release_fence(); /* the first used flags before the marks go */
	for (unsigned int i = 0; i < b->nchain; i++) {
		st8(&r->desc[at].inflight, 0);
		at = (uint16_t)((at + b->chain[i].ndesc) % q->size);
	}
	packed_old_used(r, slot, wrap);
}

/*
 * Clears the marks of the buffers published from (@p slot, @p wrap) up to
 * (@p end, @p end_wrap): every buffer's size is the one recorded when it
 * was taken. A run may fill the whole ring (held returns: same slot, the
 * other wrap), so it is walked by its length. A size the front-end changed
 * since ends the walk; what it leaves marked is cleared as stale at the
 * next start.
 */
static void
packed_clear_run(struct vq_dev *q, struct vq_inflight_packed *r, uint16_t slot, uint8_t wrap,
		 uint16_t end, uint8_t end_wrap)
{
	const uint32_t n = vq_packed_dist(vq_packed_pos(slot, wrap, q->size),
					  vq_packed_pos(end, end_wrap, q->size), q->size);

	for (uint32_t k = 0; k < n;) {
		const uint16_t num = vq_ld16(&r->desc[slot].num);

		st8(&r->desc[slot].inflight, 0);
		if (num == 0 || num > n - k)
			break;
		k += num;
		slot = (uint16_t)((slot + num) % q->size);
	}
}

void
vq_packed_inflight_done_run(struct vq_dev *q, uint16_t slot, uint8_t wrap)
{
	struct vq_inflight_packed *r = q->inflight;

	release_fence(); /* the first used flags before the marks go */
	packed_clear_run(q, r, q->held_slot, q->held_wrap, slot, wrap);
	packed_old_used(r, slot, wrap);
}

int
vq_packed_dev_redo_publish(const struct vq_dev_config *cfg, const struct vq_dev_state *from,
			   const struct vq_dev_state *to, uint16_t head_flags)
{
	const uint16_t want = from->used_wrap ? (VQ_DESC_F_AVAIL | VQ_DESC_F_USED) : 0;
	struct vq_inflight_packed *r = cfg->inflight;
	struct vq_pdesc *desc = cfg->desc;
	const uint16_t size = (uint16_t)cfg->size;
	uint32_t n;

	if (!(cfg->features & VQ_FEATURE(VQ_F_RING_PACKED)) || cfg->size == 0 ||
	    cfg->size > VQ_MAX_SIZE || desc == NULL || from->used_idx >= size ||
	    to->used_idx >= size || from->used_wrap > 1 || to->used_wrap > 1 ||
	    (head_flags & (VQ_DESC_F_AVAIL | VQ_DESC_F_USED)) != want)
		return -EINVAL;
	n = vq_packed_dist(vq_packed_pos(from->used_idx, from->used_wrap, size),
			   vq_packed_pos(to->used_idx, to->used_wrap, size), size);
	if (n > size)
		return -EINVAL;
	if (n == 0 || r == NULL || ((uintptr_t)r & 7) != 0)
		return 0;
	/* The region still says the run is where it was held (its phase-one
	 * position may be anything a kill in the middle of it left) ... */
	if (r->version != VQ_INFLIGHT_VERSION || r->desc_num != size ||
	    r->old_used_idx != from->used_idx || r->old_used_wrap_counter != from->used_wrap ||
	    !r->desc[from->used_idx].inflight)
		return 0;
	/* ... and the ring that it is not published. */
	if (!vq_packed_desc_avail(vq_ld16_acq(&desc[from->used_idx].flags), from->used_wrap))
		return 0;
	/* Phase one, then the store; vq_dev_init() does phase two. */
	st8(&r->used_wrap_counter, to->used_wrap);
	vq_st16(&r->used_idx, to->used_idx);
	vq_st16_rel(&desc[from->used_idx].flags, head_flags);
	return 1;
}

/* Writes buffer @p head's descriptors back into the ring from the copies;
 * returns its slots, or 0 when the copy does not fit the position. */
static uint16_t
packed_restore(struct vq_dev *q, struct vq_inflight_packed *r, uint16_t head, uint8_t wrap,
	       unsigned int room)
{
	const uint16_t n = r->desc[head].num;
	uint16_t want = wrap ? VQ_DESC_F_AVAIL : VQ_DESC_F_USED;
	uint16_t slot = head;

	if (n == 0 || n > room)
		return 0;
	for (uint16_t k = 0; k < n; k++) {
		/* Each copy is of a descriptor the driver made available here. */
		if ((r->desc[slot].flags & (VQ_DESC_F_AVAIL | VQ_DESC_F_USED)) != want)
			return 0;
		slot = (uint16_t)(slot + 1);
		if (slot == q->size) {
			slot = 0;
			want = wrap ? VQ_DESC_F_USED : VQ_DESC_F_AVAIL;
			wrap ^= 1;
		}
	}
	slot = head;
	for (uint16_t k = 0; k < n; k++) {
		const struct vq_inflight_desc_packed *e = &r->desc[slot];
		struct vq_pdesc *d = &q->packed.desc[slot];

		vq_st64(&d->addr, e->addr);
		vq_st32(&d->len, e->len);
		vq_st16(&d->id, e->id);
		vq_st16(&d->flags, e->flags);
		slot = (uint16_t)(slot + 1 == q->size ? 0 : slot + 1);
	}
	if (q->flags & VQ_QF_DIRTY && q->dirty.rings) {
		const uint32_t first = head, span = q->size - first < n ? q->size - first : n;

		q->dirty.fn(q->dirty.arg,
			    q->dirty.desc_gpa + (uint64_t)first * sizeof(struct vq_pdesc),
			    (uint64_t)span * sizeof(struct vq_pdesc));
		if (span < n)
			q->dirty.fn(q->dirty.arg, q->dirty.desc_gpa,
				    (uint64_t)(n - span) * sizeof(struct vq_pdesc));
	}
	return n;
}

static void
packed_fresh(struct vq_dev *q, struct vq_inflight_packed *r)
{
	memset(r->desc, 0, sizeof(r->desc[0]) * q->size);
	r->features = 0;
	r->desc_num = q->size;
	r->free_head = r->old_free_head = 0;
	r->used_idx = r->old_used_idx = q->used_idx;
	r->used_wrap_counter = r->old_used_wrap_counter = q->used_wrap;
	release_fence();
	r->version = VQ_INFLIGHT_VERSION;
}

static void
packed_init(struct vq_dev *q, struct vq_inflight_packed *r)
{
	uint16_t used, slot, run = 0;
	uint8_t wrap;
	unsigned int found = 0, marks = 0;
	uint64_t ctr = 0, last_ctr = 0;

	if (r->version != VQ_INFLIGHT_VERSION || r->desc_num != q->size ||
	    r->old_used_idx >= q->size || r->used_idx >= q->size || r->used_wrap_counter > 1 ||
	    r->old_used_wrap_counter > 1) {
		packed_fresh(q, r);
		return;
	}
	if (r->used_idx != r->old_used_idx || r->used_wrap_counter != r->old_used_wrap_counter) {
		const uint16_t f = vq_ld16_acq(&q->packed.desc[r->old_used_idx].flags);

		if (!vq_packed_desc_avail(f, r->old_used_wrap_counter)) {
			/* The burst was published: finish its bookkeeping. */
			packed_clear_run(q, r, r->old_used_idx, r->old_used_wrap_counter,
					 r->used_idx, r->used_wrap_counter);
			release_fence();
			r->old_used_idx = r->used_idx;
			r->old_used_wrap_counter = r->used_wrap_counter;
		} else {
			r->used_idx = r->old_used_idx;
			r->used_wrap_counter = r->old_used_wrap_counter;
		}
	}
	used = r->old_used_idx;
	wrap = r->old_used_wrap_counter;
	/* The buffers still marked follow the used position, in counter order. */
	slot = used;
	{
		uint8_t w = wrap;

		while (run < q->size && r->desc[slot].inflight) {
			uint16_t n;

			if (found > 0 && r->desc[slot].counter <= last_ctr)
				break;
			n = packed_restore(q, r, slot, w, q->size - run);
			if (n == 0)
				break;
			last_ctr = r->desc[slot].counter;
			found++;
			run = (uint16_t)(run + n);
			slot = (uint16_t)(slot + n);
			if (slot >= q->size) {
				slot = (uint16_t)(slot - q->size);
				w ^= 1;
			}
		}
	}
	/* Any other mark is stale: cleared, counted. */
	for (unsigned int i = 0; i < q->size; i++) {
		const unsigned int off = (i + q->size - used) % q->size;

		if (!r->desc[i].inflight)
			continue;
		if (r->desc[i].counter >= ctr)
			ctr = r->desc[i].counter + 1;
		if (off < run)
			continue; /* a head of the run (or inside it: never marked) */
		r->desc[i].inflight = 0;
		marks++;
	}
	q->inflight_resubmit = (uint16_t)found;
	q->inflight_stale = (uint16_t)marks;
	q->inflight_counter = ctr;
	q->last_avail = used;
	q->avail_wrap = wrap;
	q->used_idx = used;
	q->used_wrap = wrap;
}

/* ---- common ---- */

void
vq_dev_inflight_take(struct vq_dev *q, const struct vq_burst *b)
{
	if (q->flags & VQ_QF_PACKED)
		packed_take(q, b);
	else
		split_take(q, b);
}

void
vq_dev_inflight_untake(struct vq_dev *q, const struct vq_burst *b, unsigned int keep)
{
	if (q->flags & VQ_QF_PACKED) {
		struct vq_inflight_packed *r = q->inflight;
		uint16_t slot = q->last_avail; /* the first chain given back */

		for (unsigned int i = keep; i < b->nchain; i++) {
			st8(&r->desc[slot].inflight, 0);
			slot = (uint16_t)((slot + b->chain[i].ndesc) % q->size);
		}
	} else {
		struct vq_inflight_split *r = q->inflight;

		for (unsigned int i = keep; i < b->nchain; i++)
			st8(&r->desc[b->chain[i].id].inflight, 0);
	}
}

void
vq_dev_inflight_init(struct vq_dev *q, void *region)
{
	q->inflight = region;
	q->flags |= VQ_QF_INFLIGHT;
	if (q->flags & VQ_QF_PACKED)
		packed_init(q, region);
	else
		split_init(q, region);
	/* Taking again from an earlier position: the call decision starts there. */
	q->signalled = q->flags & VQ_QF_PACKED ? vq_packed_pos(q->used_idx, q->used_wrap, q->size)
					       : q->used_idx;
}
