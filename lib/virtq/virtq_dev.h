/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTQ_DEV_H
#define VIRTQ_DEV_H

/**
 * @file
 * libvirtq, device side: the queue state, the burst a device takes
 * available chains into, and the out-of-line calls (set-up, state, errors).
 * The fast-path calls are static inline in virtq_split.h, virtq_packed.h
 * and, format-independent, virtq.h.
 *
 * A device queue (struct vq_dev) reads rings written by an untrusted driver
 * (a guest). Every index, length, flag and address read from them is
 * checked before use; a violation marks the queue broken (vq_dev_error()
 * returns the reason, the log hook is called once) and the queue then takes
 * nothing more. The device never reads or writes outside the rings it was
 * given and the regions of its struct vq_memmap.
 *
 * One queue is used by one thread at a time; nothing here takes a lock.
 */

#include <stdbool.h>
#include <stdint.h>

#include "virtq_inflight.h"
#include "virtq_memmap.h"
#include "virtq_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most chains one vq_dev_take() call takes. */
#define VQ_BURST_MAX 32
/** Chains a burst holds: vq_dev_take_rx() may use several per packet. */
#define VQ_BURST_CHAINS 64
/** Segments a burst holds, shared by its chains; also the longest chain carried. */
#define VQ_BURST_SEGS 256
/** Most descriptors in one indirect table (as Linux vhost's UIO_MAXIOV). */
#define VQ_INDIRECT_MAX 1024

/** One piece of a chain, translated: a host pointer and a length. */
struct vq_seg {
	uint8_t *addr; /**< host pointer */
	uint32_t len;  /**< bytes */
	uint32_t resv;
};

/** The chain has more segments than a burst holds: nseg is 0; drop it, return it with used_len 0.
 */
#define VQ_CHAIN_F_OVERSIZE 0x1

/**
 * One available chain (split: descriptor chain; packed: buffer), taken by
 * vq_dev_take() or vq_dev_take_rx().
 *
 * Segments are ordered as in the ring: the @c nread device-readable ones
 * first, then the device-writable ones (vq_dev_take_rx() stores only the
 * writable ones). A segment never spans two regions of the map; an element
 * that does becomes two segments.
 */
struct vq_chain {
	struct vq_seg *seg; /**< @c nseg segments, inside the burst */
	uint32_t rlen;	    /**< device-readable bytes */
	uint32_t wlen;	    /**< device-writable bytes */
	uint32_t used_len;  /**< bytes written, reported by vq_dev_return(); set by the caller
				 (0 after vq_dev_take(), computed by vq_dev_take_rx()) */
	uint16_t id;	    /**< split: head index; packed: buffer id */
	uint16_t ndesc;	    /**< packed: ring slots the chain occupies */
	uint16_t nseg;	    /**< segments */
	uint16_t nread;	    /**< leading device-readable segments */
	uint16_t flags;	    /**< VQ_CHAIN_F_* */
	uint16_t resv;
};

/** One packet placed by vq_dev_take_rx(): the writable room of its chains. */
struct vq_pkt {
	struct vq_seg *seg; /**< writable segments of all its chains, in order */
	uint32_t len;	    /**< bytes to write (as requested) */
	uint16_t nseg;	    /**< segments */
	uint16_t nbufs;	    /**< chains (the virtio-net header's num_buffers) */
	uint16_t chain;	    /**< index of its first chain in the burst */
	uint16_t resv;
};

/**
 * Chains taken in one call, with their segments. The caller owns it (on the
 * stack or beside the queue); its contents are valid until the next take.
 */
struct vq_burst {
	uint16_t nchain; /**< chains taken */
	uint16_t nseg;	 /**< segments used */
	uint16_t npkt;	 /**< packets placed (vq_dev_take_rx()) */
	uint16_t resv;
	struct vq_chain chain[VQ_BURST_CHAINS];
	struct vq_pkt pkt[VQ_BURST_MAX];
	struct vq_seg seg[VQ_BURST_SEGS];
};

/**
 * Log hook: called once, when a queue becomes broken.
 *
 * @param arg the caller's argument
 * @param err the negative errno the queue now reports
 * @param msg what was wrong, one line without a newline
 */
typedef void (*vq_log_fn)(void *arg, int err, const char *msg);

/**
 * Dirty-page logging hook (live migration): called with each range of guest
 * addresses [gpa, gpa + len) the device wrote, before the used index (split)
 * or used flags (packed) that hand it to the driver. Ranges are in the
 * addresses descriptors carry (the map's guest addresses: guest-physical for
 * a VM); ranges may repeat or overlap, and cover whole writes, never less.
 *
 * @param arg the caller's argument
 * @param gpa guest address of the first byte written
 * @param len bytes written, > 0
 */
typedef void (*vq_dirty_fn)(void *arg, uint64_t gpa, uint64_t len);

/**
 * What a device queue logs while a migration runs (vhost: VHOST_F_LOG_ALL).
 * With @c fn set, the device reports every buffer byte it writes (what
 * vq_dev_return() reports as used: used_len bytes of each chain's writable
 * segments) and, with @c rings, its own writes to the rings: split, the used
 * ring (elements, index, flags and avail_event) at @c device_gpa; packed,
 * the used descriptors at @c desc_gpa and the device event suppression
 * structure at @c device_gpa.
 */
struct vq_dirty_log {
	vq_dirty_fn fn;	   /**< NULL: no logging (the fast path pays one flag test) */
	void *arg;	   /**< passed to @c fn */
	uint64_t desc_gpa; /**< guest address of the descriptor area (packed rings) */
	uint64_t
		device_gpa; /**< guest address of the device area (the used ring of a split ring) */
	bool rings;	    /**< also log the ring writes (vhost: VHOST_VRING_F_LOG) */
};

/**
 * Ring position of a device queue (what vhost-user's SET/GET_VRING_BASE
 * carry). Split: free-running indexes, wraps unused. Packed: slots in
 * [0, size) and wrap counters (1 at start).
 */
struct vq_dev_state {
	uint16_t last_avail; /**< next available entry / slot the device reads */
	uint16_t used_idx;   /**< next used entry / slot the device writes */
	uint8_t avail_wrap;  /**< packed: driver ring wrap counter at last_avail */
	uint8_t used_wrap;   /**< packed: device ring wrap counter at used_idx */
};

/** The position of a ring that was never used: index 0, wrap counters 1 (2.8.1). */
#define VQ_DEV_STATE_START ((struct vq_dev_state){0, 0, 1, 1})

/** How to set up a device queue. */
struct vq_dev_config {
	unsigned int size;	     /**< queue size: split a power of two, both <= 32768 */
	uint64_t features;	     /**< negotiated feature bits (VQ_FEATURE(VQ_F_*)) */
	void *desc;		     /**< split: descriptor table; packed: descriptor ring */
	void *driver_area;	     /**< split: available ring; packed: driver event suppression */
	void *device_area;	     /**< split: used ring; packed: device event suppression */
	const struct vq_memmap *map; /**< translation of buffer addresses */
	struct vq_dev_state state;   /**< where to start: VQ_DEV_STATE_START, or from
					  vq_dev_state_from_vring_base() */
	vq_log_fn log;		     /**< NULL: log to stderr */
	void *log_arg;		     /**< passed to @c log */
	struct vq_dirty_log dirty;   /**< dirty-page logging; fn NULL: none */
	/**
	 * This queue's region of a vhost-user inflight area (struct
	 * vq_inflight_split, or vq_inflight_packed for a packed queue), of at
	 * least vq_inflight_region_size(size) bytes, or NULL. The queue
	 * records in it every chain taken until its used entry is published,
	 * in the order the spec's "Inflight I/O tracking" gives, so a device
	 * that dies at any instruction leaves a region from which the next
	 * one, started on it, finds where the ring stands and which chains it
	 * must take again. A region never initialised (version 0) or made for
	 * another queue size is initialised here. One left by a device that
	 * died is recovered here: vq_dev_init() then starts the queue where
	 * the region says the used position is (split: the ring's used->idx;
	 * packed: the region's old_used_idx and wrap, rolled forward when
	 * the batch being returned was published), overriding @c state, and
	 * the chains still marked are the next ones taken (see
	 * vq_dev_inflight_resubmitted()).
	 */
	void *inflight;
};

/* Queue flags derived from the features (internal). */
#define VQ_QF_PACKED	0x01
#define VQ_QF_EVENT_IDX 0x02
#define VQ_QF_INDIRECT	0x04
#define VQ_QF_IN_ORDER	0x08
#define VQ_QF_MRG_RXBUF 0x10
/* No call decision since the ring (re)started: the driver's event index may
 * lie behind the resume point (see vq_dev_call_needed()). */
#define VQ_QF_FIRST_CALL 0x20
#define VQ_QF_DIRTY	 0x40 /* dirty-page logging on */
#define VQ_QF_INFLIGHT	 0x80 /* chains are recorded in an inflight region */

/**
 * A device queue. Fields are read by the inline fast path; treat them as
 * private and use the functions.
 */
struct vq_dev {
	uint16_t size;	     /**< queue size */
	uint16_t mask;	     /**< split: size - 1 */
	uint16_t last_avail; /**< split: free-running; packed: slot */
	uint16_t used_idx;   /**< split: free-running; packed: slot */
	uint8_t avail_wrap;  /**< packed */
	uint8_t used_wrap;   /**< packed */
	uint8_t flags;	     /**< VQ_QF_* */
	uint8_t kick_off;    /**< kicks currently suppressed through the flags */
	int error;	     /**< 0, or the negative errno that broke the queue */
	union {
		struct {
			struct vq_desc *desc;
			struct vq_avail *avail;
			struct vq_used *used;
		} split;
		struct {
			struct vq_pdesc *desc;
			struct vq_pevent *driver;
			struct vq_pevent *device;
		} packed;
	};
	const struct vq_memmap *map;
	struct vq_memcache cache;
	uint32_t signalled; /**< split: used idx at the last call decision; packed: position */
	vq_log_fn log;
	void *log_arg;
	uint64_t features;
	struct vq_dirty_log dirty;  /**< read only with VQ_QF_DIRTY */
	void *inflight;		    /**< the inflight region (VQ_QF_INFLIGHT) */
	uint64_t inflight_counter;  /**< the next chain's counter */
	uint16_t inflight_resubmit; /**< chains found inflight at vq_dev_init() */
	uint16_t inflight_stale;    /**< marks found that no chain ahead matched */
	uint16_t held_slot;	    /**< packed, held returns: the slot of the first */
	uint16_t held_flags;	    /**< ... the used flags that publish them */
	uint8_t held_wrap;	    /**< ... the wrap counter at held_slot */
	uint8_t held;		    /**< packed: returns written, not yet published */
};

/**
 * Sets up a device queue on rings the caller has mapped.
 *
 * The caller guarantees that the three areas are mapped for their whole size
 * (vq_split_desc_size() etc.) for as long as the queue is used; the buffers
 * the chains point to are checked against @c cfg->map.
 *
 * @param q the queue
 * @param cfg size, features, ring areas, map, starting state, log hook
 * @return 0, or -EINVAL for a bad size, a misaligned or NULL area, a NULL
 *         map, or a state out of range
 */
int vq_dev_init(struct vq_dev *q, const struct vq_dev_config *cfg);

/**
 * Replaces the translation map (and drops the cached region). Call it from
 * the thread polling the queue, or while nobody polls it.
 *
 * @param q the queue
 * @param map the new map
 */
void vq_dev_set_memmap(struct vq_dev *q, const struct vq_memmap *map);

/**
 * Reads the ring position (for vhost-user GET_VRING_BASE). Every taken chain
 * should have been returned first; a chain taken and not returned counts as
 * consumed.
 *
 * @param q the queue
 * @param st filled with the position
 */
void vq_dev_get_state(const struct vq_dev *q, struct vq_dev_state *st);

/**
 * Encodes a position as vhost-user's vring base: split, the last available
 * index; packed, bits 0-14 the slot and bit 15 the wrap counter of the
 * available side, bits 16-30 and 31 the same for the used side.
 *
 * @param st the position
 * @param packed true for a packed queue
 * @return the 32-bit vring base
 */
uint32_t vq_dev_state_to_vring_base(const struct vq_dev_state *st, bool packed);

/**
 * Decodes vhost-user's vring base (see vq_dev_state_to_vring_base()). When
 * the used half is 0 (front-ends that send only the available position), the
 * used position is taken equal to the available one, as it is when every
 * chain was returned.
 *
 * @param base the 32-bit vring base
 * @param packed true for a packed queue
 * @param st filled with the position
 */
void vq_dev_state_from_vring_base(uint32_t base, bool packed, struct vq_dev_state *st);

/**
 * Marks the queue broken with @p err, logging @p fmt once. Internal: the
 * fast path calls it on the rare error; callers read vq_dev_error().
 *
 * @return @p err
 */
int vq_dev_fail(struct vq_dev *q, int err, const char *fmt, ...)
	__attribute__((cold, format(printf, 3, 4)));

/**
 * The first call decision after vq_dev_init() with event suppression by
 * index: notify, whatever the driver's event index says. The previous
 * device (a switch that died, or was replaced, between publishing used
 * entries and notifying) may have left the driver's used_event / event
 * offset behind the position we resume from; compared with it, the
 * driver would be notified only when the index wraps (a Linux guest's RX
 * NAPI would wait that long). Linux vhost (signalled_used_valid) and DPDK's
 * vhost library do the same. Internal: called by vq_dev_call_needed().
 *
 * @return true
 */
bool vq_dev_first_call(struct vq_dev *q) __attribute__((cold));

/**
 * Why the queue is broken.
 *
 * @param q the queue
 * @return 0 if it is not; otherwise -ELOOP (descriptor loop or chain longer
 *         than the ring), -EFAULT (address outside the map), -EOVERFLOW
 *         (lengths overflow), -ERANGE (index, id or avail idx out of range),
 *         -E2BIG (indirect table too long), -EINVAL (malformed chain: nested
 *         indirect, bad indirect length, INDIRECT with NEXT, readable after
 *         writable, indirect not negotiated, partial packed chain)
 */
static inline int
vq_dev_error(const struct vq_dev *q)
{
	return q->error;
}

/**
 * Dirty-page logging of one vq_dev_return() (internal; VQ_QF_DIRTY set):
 * reports the bytes written into @p b's chains and, with dirty.rings, the
 * ring entries the return is about to write. Called before the store that
 * publishes them, with the queue's used position still the old one.
 */
void vq_dev_dirty_return(struct vq_dev *q, const struct vq_burst *b) __attribute__((cold));

/**
 * Dirty-page logging of a write to the device area (internal; VQ_QF_DIRTY
 * set): @p len bytes at offset @p off, when dirty.rings asks for ring writes.
 */
void vq_dev_dirty_device_area(struct vq_dev *q, uint64_t off, uint64_t len) __attribute__((cold));

/**
 * Chains that vq_dev_init() found recorded as inflight in the queue's
 * region (taken by a device that died and not returned): the queue starts
 * at the first of them, so they are the next ones taken, in the order they
 * were first taken.
 *
 * @param q the queue
 * @return chains to be taken again (0 without a region)
 */
static inline unsigned int
vq_dev_inflight_resubmitted(const struct vq_dev *q)
{
	return q->inflight_resubmit;
}

/**
 * Marks found in the region at vq_dev_init() that were not the chains
 * right after the used position (a region corrupted, or written by a
 * device that returns chains out of order): they were cleared; those
 * chains are not taken again.
 */
static inline unsigned int
vq_dev_inflight_stale(const struct vq_dev *q)
{
	return q->inflight_stale;
}

/*
 * Inflight recording (internal; VQ_QF_INFLIGHT set), called by the inline
 * fast path. vq_dev_inflight_take(): marks the chains of @p b, just taken
 * (packed: they end at the queue's available position).
 * vq_dev_inflight_untake(): clears the marks of chains [keep, nchain) just
 * given back. vq_split_inflight_link(): lists a returned batch before the
 * used index is stored; vq_split_inflight_done(): clears its marks after.
 * vq_packed_inflight_begin() / _done(): the same around the store of the
 * burst's first used flags, @p slot / @p wrap the new used position.
 * vq_packed_inflight_done_run(): _done() for returns that were held
 * (vq_packed_dev_publish()): the marks of every buffer from the old used
 * position (the queue's held_slot) up to @p slot / @p wrap.
 */
void vq_dev_inflight_take(struct vq_dev *q, const struct vq_burst *b);
void vq_dev_inflight_untake(struct vq_dev *q, const struct vq_burst *b, unsigned int keep);
void vq_split_inflight_link(struct vq_dev *q, const struct vq_burst *b);
void vq_split_inflight_done(struct vq_dev *q);
void vq_packed_inflight_begin(struct vq_dev *q, uint16_t slot, uint8_t wrap);
void vq_packed_inflight_done(struct vq_dev *q, const struct vq_burst *b, uint16_t slot,
			     uint8_t wrap);
void vq_packed_inflight_done_run(struct vq_dev *q, uint16_t slot, uint8_t wrap);

/**
 * Publishes again, on a packed queue about to be started on @p cfg (before
 * vq_dev_init()), held returns that a device which died had decided to
 * publish and may not have (a device that records, before publishing,
 * what it will publish: see vq_packed_dev_return_held()). The used
 * descriptors of the run are in the ring already, all but the first one's
 * flags: publishing is one store of @p head_flags at @p from.
 *
 * Only an inflight region (@c cfg->inflight) tells where the used position
 * of the ring stands after a crash: the run is published only when the
 * region's completed used position (old_used_idx and its wrap counter) is
 * @p from, the buffer there is still marked, and the descriptor at @p from
 * is still the driver's available one (whatever the device that died left
 * of the region's first phase). The region then records the new position
 * before the store, so that vq_dev_init() finishes its bookkeeping as for
 * any publication ("Inflight I/O tracking").
 *
 * @param cfg the queue's set-up (size, features, descriptor ring, region)
 * @param from the used position before the run (used_idx, used_wrap)
 * @param to the used position after it
 * @param head_flags the flags that publish it (vq_packed_dev_held_flags())
 * @return 1 published; 0 nothing to do (published already, another position,
 *         no region); -EINVAL for a position or flags that cannot be
 */
int vq_packed_dev_redo_publish(const struct vq_dev_config *cfg, const struct vq_dev_state *from,
			       const struct vq_dev_state *to, uint16_t head_flags);

/* Walk modes of the slow path (internal). */
#define VQ_WALK_TX 0 /**< keep every segment */
#define VQ_WALK_RX 1 /**< keep only device-writable segments */

/**
 * Slow path of the split fast path: walks the chain at @p head (chained,
 * indirect, spanning regions, or not fitting) and appends it to @p b.
 * Internal.
 *
 * @return 0; -ENOSPC if its segments do not fit in what is left of @p b
 *         (nothing appended, queue intact); another negative errno when the
 *         chain is malformed (queue marked broken)
 */
int vq_split_dev_walk(struct vq_dev *q, uint16_t head, struct vq_burst *b, unsigned int mode);

/**
 * Slow path of the packed fast path: walks the buffer starting at @p slot
 * (whose head flags @p flags were read with acquire) and appends it to @p b
 * with its slot count in ndesc. Internal; returns as vq_split_dev_walk().
 */
int vq_packed_dev_walk(struct vq_dev *q, uint16_t slot, uint8_t wrap, uint16_t flags,
		       struct vq_burst *b, unsigned int mode);

/*
 * Fast-path state of one take call (internal). The inline take loops keep
 * it in registers: stores into the burst could alias the queue's fields,
 * so the queue is read once per call, not once per chain.
 *
 * @c multi is a constant in each copy of a take loop (vq_take_multi()
 * picks the copy once per call): false, a map of one region, the cache
 * alone (two compares); true, a map of several regions, the map's direct
 * table first (struct vq_memmap_direct), then the cache.
 */
struct vq_take {
	struct vq_memcache mc;	     /* the region of the last hit (the queue's cache) */
	const struct vq_memmap *map; /* the queue's map, for its fast table */
	unsigned int nchain;	     /* chains in the burst so far */
	unsigned int nseg;	     /* segments in the burst so far */
	bool multi;		     /* constant: which lookup this copy makes */
	uint64_t delta;		     /* multi: host minus guest address of the last hit */
};

/* The state a take call starts from; @p multi a constant (see vq_take_multi()). */
#define VQ_TAKE_INIT(q, multi) ((struct vq_take){(q)->cache, (q)->map, 0, 0, (multi), 0})

/* Whether the queue's map takes the several-regions lookup (once per call). */
static inline __attribute__((always_inline)) bool
vq_take_multi(const struct vq_dev *q)
{
	return q->map->direct.on != 0;
}

/* Whether [addr, addr + len) lies wholly in @p c. */
static inline __attribute__((always_inline)) bool
vq_memcache_holds(const struct vq_memcache *c, uint64_t addr, uint32_t len)
{
	uint64_t off = addr - c->start;

	return off < c->size && len <= c->size - off;
}

/* vq_take_hit() for a map of several regions: the direct table, one lookup
 * whichever region, however buffers alternate between regions. */
static inline __attribute__((always_inline)) bool
vq_take_hit_multi(struct vq_take *t, uint64_t addr, uint32_t len)
{
	return vq_memmap_direct_find(t->map, addr, len, &t->delta);
}

/*
 * Whether [addr, addr + len) lies in one region the fast path knows. One
 * region (@c multi false): the last one hit, else one of the map's fast
 * table (vq_memmap_fast_find()), which becomes the last one hit. Several:
 * the direct table alone (vq_memmap_direct_find()): keeping the cache
 * beside it costs registers the loop needs. A miss goes to the
 * out-of-line walk, which decides (a region that owns no slot there, a
 * range across two, or none).
 */
static inline __attribute__((always_inline)) bool
vq_take_hit(struct vq_take *t, uint64_t addr, uint32_t len)
{
	if (t->multi)
		return vq_take_hit_multi(t, addr, len);
	if (__builtin_expect(vq_memcache_holds(&t->mc, addr, len), 1))
		return true;
	return vq_memmap_fast_find(t->map, addr, len, &t->mc);
}

/* Host pointer of @p addr after vq_take_hit() said yes. */
static inline __attribute__((always_inline)) uint8_t *
vq_take_ptr(const struct vq_take *t, uint64_t addr)
{
	return (uint8_t *)(uintptr_t)(addr + (t->multi ? t->delta : t->mc.delta));
}

/* Appends a one-element chain @p id at host pointer @p p. */
static inline __attribute__((always_inline)) void
vq_take_one(struct vq_take *t, struct vq_burst *b, uint8_t *p, uint32_t len, uint16_t id,
	    uint16_t flags)
{
	struct vq_chain *c = &b->chain[t->nchain++];
	struct vq_seg *s = &b->seg[t->nseg++];
	const uint32_t w = flags & VQ_DESC_F_WRITE ? 1 : 0;

	s->addr = p;
	s->len = len;
	c->seg = s;
	c->rlen = w ? 0 : len;
	c->wlen = w ? len : 0;
	c->used_len = 0;
	c->id = id;
	c->ndesc = 1;
	c->nseg = 1;
	c->nread = (uint16_t)(w ^ 1);
	c->flags = 0;
	c->resv = 0;
}

/* Appends packet @p p of @p need bytes, placed whole in a one-element
 * writable chain @p id at host pointer @p ptr of @p len bytes. */
static inline __attribute__((always_inline)) void
vq_take_rx_one(struct vq_take *t, struct vq_burst *b, unsigned int p, uint8_t *ptr, uint32_t len,
	       uint16_t id, uint32_t need)
{
	struct vq_pkt *pk = &b->pkt[p];

	pk->seg = &b->seg[t->nseg];
	pk->len = need;
	pk->nseg = 1;
	pk->nbufs = 1;
	pk->chain = (uint16_t)t->nchain;
	pk->resv = 0;
	vq_take_one(t, b, ptr, len, id, VQ_DESC_F_WRITE);
	b->chain[t->nchain - 1].used_len = need;
}

#ifdef __cplusplus
}
#endif

#endif /* VIRTQ_DEV_H */
