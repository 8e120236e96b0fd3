/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_MEM_H
#define VHOST_MEM_H

/**
 * @file
 * libvhost: a vhost-user back-end's view of the front-end's memory.
 *
 * A struct vh_mem_table is an immutable array of mapped regions, each
 * (guest_phys_addr, size, user_addr, host): guest-physical range
 * [guest_phys_addr, +size) is the front-end's virtual range
 * [user_addr, +size) and is mapped here at @c host. The back-end publishes a
 * new table on every change (SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG); a data
 * path copies the plain region array into its own lookup structure (for
 * example lib/virtq's region map) and never follows the table itself after
 * the device's mem_changed() callback returned.
 *
 * The translation helpers here are for the control path: a linear search
 * over at most VH_USER_MAX_MEM_SLOTS regions, where an access of @c len bytes
 * must lie wholly inside one region.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_user_msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One mapped region. */
struct vh_mem_mapping {
	uint64_t guest_phys_addr; /**< guest-physical start */
	uint64_t size;		  /**< bytes, > 0 */
	uint64_t user_addr;	  /**< the front-end's virtual address of the start */
	uint64_t mmap_offset;	  /**< offset of the start in the region's fd */
	uint8_t *host;		  /**< local address of the start */
	/* Bookkeeping of mem.c: the whole mapping and the file it came from. */
	void *map_base;
	size_t map_len;
	uint64_t dev;
	uint64_t ino;
	/**
	 * The front-end cannot make these pages go away (its file is sealed
	 * against it, see vhost_guard.h): accesses cannot raise SIGBUS.
	 */
	bool sigbus_proof;
	/**
	 * A duplicate of the region's fd, kept while mapped (closed by
	 * vh_mem_unmap_region()), so that the mapping can be handed to
	 * another process (vh_user_backend_export()).
	 */
	int fd;
};

/** An immutable set of non-overlapping mapped regions. */
struct vh_mem_table {
	uint32_t nregions; /**< entries in @ref regions */
	uint32_t padding;
	struct vh_mem_mapping regions[]; /**< sorted by guest_phys_addr */
};

/**
 * Validates region @p desc (non-zero size, no wrap-around of any of its
 * three ranges) and the fd it comes from (a regular file at least
 * mmap_offset + size long, or a character device), then maps it shared,
 * read-write. @p fd is not closed; the mapping keeps a duplicate of it.
 *
 * @return 0, -EINVAL for a bad description, -EBADF for an fd that cannot back
 *         memory, -ERANGE when the fd is shorter than the region, -ENOMEM or
 *         another negative errno when mmap fails.
 */
int vh_mem_map_region(const struct vh_user_mem_region *desc, int fd, struct vh_mem_mapping *out);

/** Unmaps a mapping made by vh_mem_map_region() and closes its fd (an unmapped one is a no-op). */
void vh_mem_unmap_region(struct vh_mem_mapping *m);

/**
 * Builds a table of the @p n mappings in @p maps (copied, then sorted).
 *
 * @return the table (free with vh_mem_table_free()), or NULL with errno set:
 *         EEXIST when two regions overlap in guest-physical or front-end
 *         virtual addresses, ENOMEM.
 */
struct vh_mem_table *vh_mem_table_build(const struct vh_mem_mapping *maps, uint32_t n);

/**
 * Frees @p t. With @p unmap, unmaps every region of @p t that is not also in
 * @p keep (NULL: unmaps all); without, only the array is freed.
 */
void vh_mem_table_free(struct vh_mem_table *t, const struct vh_mem_table *keep, bool unmap);

/** True when @p a and @p b describe the same regions of the same files. */
bool vh_mem_table_same(const struct vh_mem_table *a, const struct vh_mem_table *b);

/**
 * Returns the region holding guest-physical [gpa, gpa + len), or NULL when
 * no single region holds all of it (or len is 0, or the range wraps).
 */
const struct vh_mem_mapping *vh_mem_table_find_gpa(const struct vh_mem_table *t, uint64_t gpa,
						   uint64_t len);

/** Like vh_mem_table_find_gpa() for the front-end's virtual addresses. */
const struct vh_mem_mapping *vh_mem_table_find_uva(const struct vh_mem_table *t, uint64_t uva,
						   uint64_t len);

/** Local pointer to guest-physical [gpa, gpa + len), or NULL. */
void *vh_mem_table_gpa_to_host(const struct vh_mem_table *t, uint64_t gpa, uint64_t len);

/** Local pointer to front-end virtual [uva, uva + len), or NULL. */
void *vh_mem_table_uva_to_host(const struct vh_mem_table *t, uint64_t uva, uint64_t len);

/**
 * Guest-physical address of front-end virtual [uva, uva + len).
 *
 * @return 0 and *gpa, or -EFAULT when no single region holds the range.
 */
int vh_mem_table_uva_to_gpa(const struct vh_mem_table *t, uint64_t uva, uint64_t len,
			    uint64_t *gpa);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_MEM_H */
