/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_DIRTY_LOG_H
#define VHOST_DIRTY_LOG_H

/**
 * @file
 * libvhost: the dirty-page log of live migration (vhost-user: "Migration").
 *
 * The front-end shares a bitmap with one bit per VH_LOG_PAGE of
 * guest-physical memory; the back-end sets the bit of every page it writes
 * while VHOST_F_LOG_ALL is negotiated. vh_dirty_log_write() is the data-path
 * helper: static inline, lock-free (atomic OR, as the spec demands since the
 * front-end clears bits concurrently) and bounded by the log's size, so a
 * guest address beyond the log is ignored rather than written out of bounds.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_user_msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest log accepted: 1 GiB of bitmap covers 32 TiB of guest memory. */
#define VH_DIRTY_LOG_MAX_SIZE (1ULL << 30)

/** A mapped dirty log. */
struct vh_dirty_log {
	uint8_t *bitmap; /**< bit (gpa / VH_LOG_PAGE) marks a dirty page; NULL when unmapped */
	uint64_t size;	 /**< bytes of @ref bitmap */
	/* Bookkeeping of dirty_log.c. */
	void *map_base;
	size_t map_len;
	int fd;		 /**< a duplicate of the log's fd while mapped (for a hand-over) */
	uint64_t offset; /**< where the log starts in that file */
};

/**
 * Marks the pages of guest-physical [gpa, gpa + len) dirty. Bits beyond the
 * log's size are skipped (the write is not logged, never out of bounds).
 * Safe from any thread; a NULL or unmapped log is a no-op.
 */
static inline void
vh_dirty_log_write(const struct vh_dirty_log *log, uint64_t gpa, uint64_t len)
{
	uint64_t page, last;

	if (log == NULL || log->bitmap == NULL || len == 0)
		return;
	page = gpa / VH_LOG_PAGE;
	last = (gpa > UINT64_MAX - (len - 1) ? UINT64_MAX : gpa + len - 1) / VH_LOG_PAGE;
	if (last / 8 >= log->size)
		last = log->size * 8 - 1;
	for (; page <= last; page++)
		__atomic_fetch_or(&log->bitmap[page / 8], (uint8_t)(1u << (page % 8)),
				  __ATOMIC_RELAXED);
}

/** True when guest-physical page @p gpa is marked (for tests and tools). */
static inline bool
vh_dirty_log_is_dirty(const struct vh_dirty_log *log, uint64_t gpa)
{
	uint64_t page = gpa / VH_LOG_PAGE;

	if (log == NULL || log->bitmap == NULL || page / 8 >= log->size)
		return false;
	return (__atomic_load_n(&log->bitmap[page / 8], __ATOMIC_RELAXED) >> (page % 8)) & 1;
}

/**
 * Maps the log of SET_LOG_BASE: @p size bytes at @p offset of @p fd (not
 * closed; the log keeps a duplicate). The fd must be a regular file
 * covering offset + size.
 *
 * @return 0, -EINVAL (zero size, size above VH_DIRTY_LOG_MAX_SIZE, offset +
 *         size overflows), -ERANGE (file too short), -EBADF, or the negative
 *         errno of mmap.
 */
int vh_dirty_log_map(struct vh_dirty_log *log, int fd, uint64_t size, uint64_t offset);

/** Unmaps @p log and closes its fd (an unmapped log is a no-op). */
void vh_dirty_log_unmap(struct vh_dirty_log *log);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_DIRTY_LOG_H */
