/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTQ_MEMMAP_H
#define VIRTQ_MEMMAP_H

/**
 * @file
 * libvirtq: translation of guest addresses found in descriptors to host
 * pointers.
 *
 * A map is a small table of regions (guest address, size, host pointer).
 * An access [addr, addr + len) translates only if it lies wholly inside one
 * region; anything else is refused, so a descriptor can never make the
 * device touch memory outside what the caller mapped. Each user of a map
 * (one per queue, one thread each) keeps a struct vq_memcache with the last
 * region hit, which makes the common lookup two compares.
 *
 * The vhost-user port fills a map from lib/vhost's memory table (guest
 * physical address, size, the back-end's mmap address of the region).
 * The identity map (vq_memmap_init_identity()) translates every address to
 * the same host pointer: only for memory that is the caller's own and fully
 * trusted (a driver's own rings and buffers), never for a peer's descriptors.
 *
 * A map is read-only once published; to change it, build a new one and call
 * vq_dev_set_memmap() (which also drops the queue's cache) from the thread
 * that polls the queue, or while the queue is not polled.
 */

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most regions a map holds (vhost-user offers 8 by default; memory slots more). */
#define VQ_MEMMAP_MAX_REGIONS 64

/** One region of guest memory and where it is mapped here. */
struct vq_mem_region {
	uint64_t guest_addr; /**< guest address of the first byte */
	uint64_t size;	     /**< bytes, > 0 */
	uint64_t host_addr;  /**< host virtual address of the first byte */
};

/**
 * The last region a queue hit, as [start, start + size) and the host minus
 * guest delta. size 0 means empty. Owned by one thread.
 */
struct vq_memcache {
	uint64_t start; /**< guest address of the region */
	uint64_t size;	/**< region size; 0 when empty */
	uint64_t delta; /**< host address minus guest address (mod 2^64) */
};

/** Regions the device fast path finds without a loop (vq_memmap_fast_find()). */
#define VQ_MEMMAP_FAST 4

/**
 * The map's largest VQ_MEMMAP_FAST regions, sorted by guest address (kept by
 * vq_memmap_add(); internal). Unused entries start at UINT64_MAX with size 0.
 */
struct vq_memmap_fast {
	struct vq_memcache r[VQ_MEMMAP_FAST];
	uint32_t n; /**< entries in use */
};

/** Slots of the direct table (vq_memmap_direct_find()); a power of two. */
#define VQ_MEMMAP_DIRECT 16
/** Smallest chunk of guest addresses a direct slot covers: 2^12 bytes. */
#define VQ_MEMMAP_DIRECT_MIN_SHIFT 12
/* log2 of sizeof(struct vq_memmap_slot). */
#define VQ_MEMMAP_SLOT_SHIFT 5

/** One slot of the direct table: a region as a struct vq_memcache, padded. */
struct vq_memmap_slot {
	uint64_t start; /**< guest address of the region */
	uint64_t size;	/**< region size; 0: the slot is empty */
	uint64_t delta; /**< host address minus guest address (mod 2^64) */
	uint64_t end;	/**< start + size (a region never ends at 2^64) */
};

/**
 * The device fast path's table for maps of several regions (kept by
 * vq_memmap_add(); internal). Guest addresses are cut into chunks of
 * 2^shift bytes; chunk c maps to slot c % VQ_MEMMAP_DIRECT, which names
 * the one region that owns it: picked by size, largest first, a region
 * owns the slots its chunks fall in that no larger region owns, and the
 * shift is the smallest one that leaves the most bytes in regions owning
 * all their slots (for an x86 guest's "below 4 GiB" and "above 4 GiB"
 * regions, 2^32 or more). A lookup is a shift, a mask and the bounds check
 * of that one region, whichever region it is and however buffers
 * alternate between regions.
 */
struct vq_memmap_direct {
	struct vq_memmap_slot slot[VQ_MEMMAP_DIRECT];
	uint32_t shift; /**< log2 of a chunk's bytes, minus VQ_MEMMAP_SLOT_SHIFT */
	uint32_t on;	/**< nonzero: the map has several regions and some own slots */
};

/** A set of non-overlapping regions. */
struct vq_memmap {
	/** The fast path's table for several regions (first: its slots are
	 * then at the map's own address, which the fast path holds). */
	struct vq_memmap_direct direct;
	uint32_t nregions; /**< regions in use */
	uint32_t identity; /**< nonzero: vq_memmap_init_identity() was used */
	struct vq_mem_region region[VQ_MEMMAP_MAX_REGIONS];
	struct vq_memmap_fast fast; /**< the fast path's lookup table */
};

/**
 * Empties @p m.
 *
 * @param m the map
 */
void vq_memmap_init(struct vq_memmap *m);

/**
 * Makes @p m the identity map: every guest address is its own host address.
 * For the caller's own, trusted memory only.
 *
 * @param m the map
 */
void vq_memmap_init_identity(struct vq_memmap *m);

/**
 * Adds a region.
 *
 * @param m a map made by vq_memmap_init()
 * @param guest_addr guest address of the first byte
 * @param size bytes, > 0; guest_addr + size and host + size must not wrap
 * @param host host pointer of the first byte
 * @return 0; -EINVAL for a zero size, wrap-around, NULL host or an
 *         identity map; -EEXIST if it overlaps a region (in guest
 *         addresses); -ENOSPC if the map is full
 */
int vq_memmap_add(struct vq_memmap *m, uint64_t guest_addr, uint64_t size, void *host);

/**
 * Empties @p c (after the map it caches changed).
 *
 * @param c the cache
 */
static inline void
vq_memcache_reset(struct vq_memcache *c)
{
	c->start = 0;
	c->size = 0;
	c->delta = 0;
}

/**
 * The slow path of vq_memmap_translate(): searches @p m and, on a hit,
 * caches the region in @p c. Internal; call vq_memmap_translate().
 */
void *vq_memmap_translate_slow(const struct vq_memmap *m, struct vq_memcache *c, uint64_t addr,
			       uint64_t len);

/**
 * Translates the guest range [addr, addr + len) to a host pointer.
 *
 * @param m the map
 * @param c the caller's cache of the last region hit
 * @param addr guest address
 * @param len bytes to access; 0 is allowed and still needs addr inside a region
 * @return the host pointer of @p addr, or NULL if the range is not wholly
 *         inside one region (or wraps around)
 */
static inline void *
vq_memmap_translate(const struct vq_memmap *m, struct vq_memcache *c, uint64_t addr, uint64_t len)
{
	uint64_t off = addr - c->start; /* huge if addr < start */

	if (__builtin_expect(off < c->size && len <= c->size - off, 1))
		return (void *)(uintptr_t)(addr + c->delta);
	return vq_memmap_translate_slow(m, c, addr, len);
}

/**
 * Finds the region of the map's fast table that holds [addr, addr + len)
 * whole, at the same cost whichever it is: the candidate is the last region
 * starting at or below @p addr (compares without branches), then one bounds
 * check. Refuses (false) a range in no region, straddling two, or in a
 * region outside the table (a map of more than VQ_MEMMAP_FAST regions): the
 * caller then takes the slow path, which decides.
 *
 * @param m the map
 * @param addr guest address
 * @param len bytes
 * @param out set to the region found
 * @return whether it was found
 */
static inline __attribute__((always_inline)) bool
vq_memmap_fast_find(const struct vq_memmap *m, uint64_t addr, uint64_t len, struct vq_memcache *out)
{
	const struct vq_memcache *r = m->fast.r;
	unsigned int i = 0;
	uint64_t off;

	for (unsigned int k = 1; k < VQ_MEMMAP_FAST; k++)
		i += addr >= r[k].start;
	off = addr - r[i].start;
	if (off >= r[i].size || len > r[i].size - off)
		return false;
	*out = r[i];
	return true;
}

/**
 * Finds the region of the map's direct table (struct vq_memmap_direct) that
 * holds [addr, addr + len) whole: the slot of @p addr's chunk, then its
 * bounds check. Refuses (false) a range outside that slot's region (in no
 * region, straddling two, or in a region that owns no slot there): the
 * caller then tries its cache and the slow path, which decide.
 *
 * @param m the map
 * @param addr guest address
 * @param len bytes
 * @param delta set to host minus guest address of the region found
 * @return whether it was found
 */
static inline __attribute__((always_inline)) bool
vq_memmap_direct_find(const struct vq_memmap *m, uint64_t addr, uint64_t len, uint64_t *delta)
{
	const uintptr_t at = (uintptr_t)(addr >> m->direct.shift) &
			     ((VQ_MEMMAP_DIRECT - 1) << VQ_MEMMAP_SLOT_SHIFT);
	const struct vq_memmap_slot *e =
		(const struct vq_memmap_slot *)(const void *)((const uint8_t *)m->direct.slot + at);

	/* In the region, then room to its end (no wrap: addr < end). */
	if (addr - e->start >= e->size || len > e->end - addr)
		return false;
	*delta = e->delta;
	return true;
}

/**
 * Translates the longest prefix of [addr, addr + len) that lies inside one
 * region; the caller continues at addr + *plen. Lets the device accept an
 * element that spans two adjacent regions, as several segments.
 *
 * @param m the map
 * @param c the caller's cache
 * @param addr guest address
 * @param len bytes wanted, > 0
 * @param plen set to the bytes translated (<= len) on success
 * @return the host pointer of @p addr, or NULL if @p addr is in no region
 */
void *vq_memmap_translate_prefix(const struct vq_memmap *m, struct vq_memcache *c, uint64_t addr,
				 uint64_t len, uint64_t *plen);

/**
 * Translates a host pointer back to its guest address: for dirty-page
 * logging of what the device wrote through a segment (live migration).
 * Not for the fast path (it scans the regions).
 *
 * @param m the map
 * @param host a host pointer inside one of the regions
 * @param guest_addr set to its guest address on success
 * @return 0, or -ENOENT if @p host is in no region (and for an identity
 *         map, where it is simply the pointer: -ENOENT is never returned
 *         there and *guest_addr = host)
 */
int vq_memmap_guest_addr(const struct vq_memmap *m, const void *host, uint64_t *guest_addr);

#ifdef __cplusplus
}
#endif

#endif /* VIRTQ_MEMMAP_H */
