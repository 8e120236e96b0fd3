/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTQ_ATOMIC_H
#define VIRTQ_ATOMIC_H

/**
 * @file
 * libvirtq, internal: shared-memory accessors and the few barriers the
 * virtqueue protocol needs (VIRTIO 1.2, 2.7.13 and 2.8.21: a read barrier
 * between reading an index/flags and the entries it publishes, a write
 * barrier before publishing, a full barrier between publishing and reading
 * the other side's suppression fields). Everything the other side writes
 * is read with relaxed atomics, exactly once, into locals: a racing writer
 * can change what we read but never make us use two different values.
 */

#include <stdint.h>

#define VQ_LIKELY(x)	 __builtin_expect(!!(x), 1)
#define VQ_UNLIKELY(x)	 __builtin_expect(!!(x), 0)
#define VQ_ALWAYS_INLINE inline __attribute__((always_inline))

/* Ring fields are read and written at several widths (a descriptor as two
 * 64-bit words, an event structure as one 32-bit word): may_alias tells the
 * compiler those accesses overlap the struct fields. */
typedef uint16_t __attribute__((may_alias)) vq_u16a;
typedef uint32_t __attribute__((may_alias)) vq_u32a;
typedef uint64_t __attribute__((may_alias)) vq_u64a;

/** Relaxed 16-bit load of shared memory. */
static VQ_ALWAYS_INLINE uint16_t
vq_ld16(const void *p)
{
	return __atomic_load_n((const vq_u16a *)p, __ATOMIC_RELAXED);
}

/** Acquire 16-bit load: later loads see what was published before it. */
static VQ_ALWAYS_INLINE uint16_t
vq_ld16_acq(const void *p)
{
	return __atomic_load_n((const vq_u16a *)p, __ATOMIC_ACQUIRE);
}

/** Relaxed 32-bit load of shared memory. */
static VQ_ALWAYS_INLINE uint32_t
vq_ld32(const void *p)
{
	return __atomic_load_n((const vq_u32a *)p, __ATOMIC_RELAXED);
}

/** Relaxed 64-bit load of shared memory (8-byte aligned). */
static VQ_ALWAYS_INLINE uint64_t
vq_ld64(const void *p)
{
	return __atomic_load_n((const vq_u64a *)p, __ATOMIC_RELAXED);
}

/** Relaxed 16-bit store to shared memory. */
static VQ_ALWAYS_INLINE void
vq_st16(void *p, uint16_t v)
{
	__atomic_store_n((vq_u16a *)p, v, __ATOMIC_RELAXED);
}

/** Release 16-bit store: publishes every earlier store. */
static VQ_ALWAYS_INLINE void
vq_st16_rel(void *p, uint16_t v)
{
	__atomic_store_n((vq_u16a *)p, v, __ATOMIC_RELEASE);
}

/** Relaxed 32-bit store to shared memory. */
static VQ_ALWAYS_INLINE void
vq_st32(void *p, uint32_t v)
{
	__atomic_store_n((vq_u32a *)p, v, __ATOMIC_RELAXED);
}

/** Relaxed 64-bit store to shared memory (8-byte aligned). */
static VQ_ALWAYS_INLINE void
vq_st64(void *p, uint64_t v)
{
	__atomic_store_n((vq_u64a *)p, v, __ATOMIC_RELAXED);
}

/** Acquire fence: loads after it see what was published before the
 *  relaxed loads ahead of it observed. */
static VQ_ALWAYS_INLINE void
vq_acquire_fence(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

/** Full barrier: our stores are visible before our later loads. */
static VQ_ALWAYS_INLINE void
vq_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/** Prefetch for reading. */
static VQ_ALWAYS_INLINE void
vq_prefetch(const void *p)
{
	__builtin_prefetch(p, 0, 3);
}

/**
 * The spec's vring_need_event() (2.7.10): true if @p event lies in the
 * window [old, new) of a free-running 16-bit index, i.e. the entry at index
 * @p event was written by the update that moved the index from @p old to
 * @p new_idx.
 */
static VQ_ALWAYS_INLINE int
vq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif /* VIRTQ_ATOMIC_H */
