/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device side, slow path: walking chains the inline fast path does not take
 * (chained or indirect descriptors, elements spanning regions, chains that
 * do not fit), with every check a hostile driver needs. Nothing read from
 * the rings is followed before it is checked: indexes against the table,
 * addresses against the map, lengths against overflow, chain lengths
 * against the ring (VIRTIO 1.2, 2.7.5.3 and 2.8.6-2.8.7).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "virtq_atomic.h"
#include "virtq_dev.h"

/* One walk's accumulator. */
struct walk {
	struct vq_dev *q;
	struct vq_burst *b;
	unsigned int mode;
	uint16_t seg0;	 /* first segment of this chain in the burst */
	uint16_t room;	 /* segments left in the burst */
	uint16_t nseg;	 /* segments stored */
	uint16_t nread;	 /* readable segments stored */
	bool oversize;	 /* segments stopped fitting in an empty burst */
	bool seen_write; /* a writable element was seen */
	uint64_t rlen;
	uint64_t wlen;
};

static void
walk_start(struct walk *w, struct vq_dev *q, struct vq_burst *b, unsigned int mode)
{
	memset(w, 0, sizeof(*w));
	w->q = q;
	w->b = b;
	w->mode = mode;
	w->seg0 = b->nseg;
	w->room = (uint16_t)(VQ_BURST_SEGS - b->nseg);
}

/* Stores one translated piece; -ENOSPC when a non-empty burst is full. */
static int
walk_push(struct walk *w, uint8_t *p, uint32_t len, bool write)
{
	struct vq_seg *s;

	if (w->oversize)
		return 0;
	if (w->nseg == w->room) {
		if (w->room < VQ_BURST_SEGS)
			return -ENOSPC; /* fits in the next, empty, burst */
		/* Longer than any burst: keep validating, store nothing. */
		w->oversize = true;
		return 0;
	}
	s = &w->b->seg[w->seg0 + w->nseg];
	s->addr = p;
	s->len = len;
	w->nseg++;
	if (!write)
		w->nread++;
	return 0;
}

/* Checks and translates one element [addr, addr + len). */
static int
walk_element(struct walk *w, uint64_t addr, uint32_t len, bool write)
{
	struct vq_dev *q = w->q;
	uint8_t *p;
	int rc;

	if (write) {
		w->seen_write = true;
		w->wlen += len;
	} else {
		/* 2.7.4.2 / 2.8.6: readable elements come first. */
		if (w->seen_write)
			return vq_dev_fail(q, -EINVAL,
					   "device-readable element after a writable one");
		w->rlen += len;
	}
	if (w->rlen + w->wlen > UINT32_MAX)
		return vq_dev_fail(q, -EOVERFLOW, "chain longer than 2^32 bytes (2.7.5.2)");
	if (len == 0)
		return 0; /* nothing to access, nothing to translate */
	p = vq_memmap_translate(q->map, &q->cache, addr, len);
	if (p == NULL) {
		/* Not inside one region: accept it as several segments if it
		 * runs through adjacent regions, else it points outside. */
		uint64_t left = len, plen = 0;

		if (addr + len < addr)
			return vq_dev_fail(q, -EFAULT, "element 0x%llx+%u wraps around",
					   (unsigned long long)addr, len);
		while (left) {
			p = vq_memmap_translate_prefix(q->map, &q->cache, addr, left, &plen);
			if (p == NULL)
				return vq_dev_fail(q, -EFAULT,
						   "element 0x%llx+%u outside guest memory",
						   (unsigned long long)addr, len);
			if (write || w->mode == VQ_WALK_TX) {
				rc = walk_push(w, p, (uint32_t)plen, write);
				if (rc)
					return rc;
			}
			addr += plen;
			left -= plen;
		}
		return 0;
	}
	if (!write && w->mode == VQ_WALK_RX)
		return 0;
	return walk_push(w, p, len, write);
}

/* Appends the walked chain to the burst. */
static void
walk_finish(struct walk *w, uint16_t id, uint16_t ndesc)
{
	struct vq_burst *b = w->b;
	struct vq_chain *c = &b->chain[b->nchain++];

	c->seg = &b->seg[w->seg0];
	c->used_len = 0;
	c->id = id;
	c->ndesc = ndesc;
	if (w->oversize) {
		/* Nothing stored: the caller drops it and returns it with 0. */
		c->nseg = 0;
		c->nread = 0;
		c->rlen = 0;
		c->wlen = 0;
		c->flags = VQ_CHAIN_F_OVERSIZE;
		return;
	}
	c->nseg = w->nseg;
	c->nread = w->nread;
	c->rlen = (uint32_t)w->rlen;
	c->wlen = (uint32_t)w->wlen;
	c->flags = 0;
	b->nseg = (uint16_t)(b->nseg + w->nseg);
}

/*
 * Reads entry @p i of an indirect table at guest address @p table into the
 * 16 bytes at @p out; on failure they are zeroed, never left as they were.
 */
static int
read_indirect(struct vq_dev *q, uint64_t table, uint32_t i, void *out)
{
	const void *p = vq_memmap_translate(q->map, &q->cache, table + (uint64_t)i * 16, 16);

	if (p == NULL) {
		memset(out, 0, 16);
		return vq_dev_fail(q, -EFAULT,
				   "indirect table 0x%llx entry %u outside guest memory",
				   (unsigned long long)table, i);
	}
	/* A table need not be aligned (2.7.5.3 gives no alignment): copy it,
	 * then a compiler barrier so the copy is never re-read from the guest. */
	memcpy(out, p, 16);
	__asm__ volatile("" ::: "memory");
	return 0;
}

/* Checks the descriptor that points to an indirect table. */
static int
check_indirect(struct vq_dev *q, uint32_t len, uint16_t flags, bool in_table)
{
	if (in_table)
		return vq_dev_fail(q, -EINVAL, "indirect descriptor inside an indirect table");
	if (!(q->flags & VQ_QF_INDIRECT))
		return vq_dev_fail(q, -EINVAL, "indirect descriptor, INDIRECT_DESC not negotiated");
	if (flags & VQ_DESC_F_NEXT)
		return vq_dev_fail(q, -EINVAL, "indirect descriptor with NEXT set");
	if (len == 0 || len % 16)
		return vq_dev_fail(q, -EINVAL, "indirect table length %u not a multiple of 16",
				   len);
	if (len / 16 > VQ_INDIRECT_MAX)
		return vq_dev_fail(q, -E2BIG, "indirect table of %u descriptors (most %u)",
				   len / 16, VQ_INDIRECT_MAX);
	return 0;
}

int
vq_split_dev_walk(struct vq_dev *q, uint16_t head, struct vq_burst *b, unsigned int mode)
{
	struct walk w;
	uint64_t table = 0; /* guest address of the indirect table, in_table */
	uint32_t tsize = q->size;
	uint32_t count = 0; /* descriptors visited in the current table */
	bool in_table = false;
	uint16_t idx = head;
	int rc;

	if (head >= q->size)
		return vq_dev_fail(q, -ERANGE, "split: available head %u >= queue size %u", head,
				   q->size);
	walk_start(&w, q, b, mode);
	for (;;) {
		struct vq_desc d;

		/* More descriptors than the table has means a loop (2.7.5.2). */
		if (++count > tsize)
			return vq_dev_fail(q, -ELOOP,
					   in_table ? "split: loop in indirect table at head %u"
						    : "split: descriptor loop or chain longer than "
						      "the ring at head %u",
					   head);
		if (in_table) {
			rc = read_indirect(q, table, idx, &d);
			if (rc)
				return rc;
		} else {
			const uint8_t *p = (const uint8_t *)&q->split.desc[idx];
			uint64_t w1;

			d.addr = vq_ld64(p);
			w1 = vq_ld64(p + 8);
			d.len = (uint32_t)w1;
			d.flags = (uint16_t)(w1 >> 32);
			d.next = (uint16_t)(w1 >> 48);
		}
		if (d.flags & VQ_DESC_F_INDIRECT) {
			/* 2.7.5.3.1: zero or more direct descriptors, then at most
			 * one indirect one, which ends the main chain. */
			rc = check_indirect(q, d.len, d.flags, in_table);
			if (rc)
				return rc;
			in_table = true;
			table = d.addr;
			tsize = d.len / 16;
			count = 0;
			idx = 0;
			continue;
		}
		rc = walk_element(&w, d.addr, d.len, d.flags & VQ_DESC_F_WRITE);
		if (rc)
			return rc;
		if (!(d.flags & VQ_DESC_F_NEXT))
			break;
		idx = d.next;
		if (idx >= tsize)
			return vq_dev_fail(q, -ERANGE,
					   "split: next %u out of a table of %u at head %u", idx,
					   tsize, head);
	}
	walk_finish(&w, head, 1);
	return 0;
}

/* Packed: is the descriptor with @p flags available for wrap counter @p wrap? */
static inline bool
packed_avail(uint16_t flags, uint8_t wrap)
{
	return (flags & (VQ_DESC_F_AVAIL | VQ_DESC_F_USED)) ==
	       (wrap ? VQ_DESC_F_AVAIL : VQ_DESC_F_USED);
}

static int
packed_walk_indirect(struct walk *w, uint64_t table, uint32_t len)
{
	struct vq_dev *q = w->q;

	for (uint32_t i = 0; i < len / 16; i++) {
		struct vq_pdesc d;
		int rc = read_indirect(q, table, i, &d);

		if (rc)
			return rc;
		/* 2.8.8: only WRITE is valid in a table; NEXT is ignored, a
		 * nested table is refused. */
		if (d.flags & VQ_DESC_F_INDIRECT)
			return vq_dev_fail(q, -EINVAL,
					   "indirect descriptor inside an indirect table");
		/* DPDK's virtio PMD presets every entry of its packed transmit
		 * tables WRITE (vring_desc_init_indirect_packed(), 22.11 to
		 * 24.x) and leaves it on the header entry and on the entry
		 * whose index equals the ring slot; its vhost library never
		 * looks. Taken by vq_dev_take(), a table whose readable
		 * entries follow writable ones counts them readable instead of
		 * breaking the queue (a caller that only reads, like a net
		 * transmit queue, may take every segment as data). */
		if (!(d.flags & VQ_DESC_F_WRITE) && w->seen_write && w->mode == VQ_WALK_TX) {
			w->nread = w->nseg;
			w->rlen += w->wlen;
			w->wlen = 0;
			w->seen_write = false;
		}
		rc = walk_element(w, d.addr, d.len, d.flags & VQ_DESC_F_WRITE);
		if (rc)
			return rc;
	}
	return 0;
}

int
vq_packed_dev_walk(struct vq_dev *q, uint16_t slot, uint8_t wrap, uint16_t flags,
		   struct vq_burst *b, unsigned int mode)
{
	struct walk w;
	uint32_t ndesc = 0;
	uint16_t id = 0;
	int rc;

	walk_start(&w, q, b, mode);
	for (;;) {
		const struct vq_pdesc *d = &q->packed.desc[slot];
		uint64_t addr;
		uint32_t len;

		if (++ndesc > q->size)
			return vq_dev_fail(q, -ELOOP, "packed: chain longer than the ring");
		if (ndesc > 1) {
			/* The driver exposes the head last (2.8.6): every
			 * later descriptor of the chain is available already. */
			flags = vq_ld16_acq(&d->flags);
			if (!packed_avail(flags, wrap))
				return vq_dev_fail(q, -EINVAL,
						   "packed: chain continues into an unavailable "
						   "descriptor at slot %u",
						   slot);
		}
		addr = vq_ld64(&d->addr);
		len = vq_ld32(&d->len);
		id = vq_ld16(&d->id);
		if (flags & VQ_DESC_F_INDIRECT) {
			/* 2.8.8: an indirect descriptor is a buffer by itself. */
			if (ndesc > 1)
				return vq_dev_fail(q, -EINVAL,
						   "packed: indirect descriptor inside a chain");
			rc = check_indirect(q, len, flags, false);
			if (rc)
				return rc;
			rc = packed_walk_indirect(&w, addr, len);
			if (rc)
				return rc;
			break;
		}
		rc = walk_element(&w, addr, len, flags & VQ_DESC_F_WRITE);
		if (rc)
			return rc;
		if (!(flags & VQ_DESC_F_NEXT))
			break;
		if (++slot == q->size) {
			slot = 0;
			wrap ^= 1;
		}
	}
	/* The buffer id is in the last descriptor (2.8.6). */
	if (id >= q->size)
		return vq_dev_fail(q, -ERANGE, "packed: buffer id %u >= queue size %u", id,
				   q->size);
	walk_finish(&w, id, (uint16_t)ndesc);
	return 0;
}
