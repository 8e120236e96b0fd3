/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_BACKEND_H
#define VHOST_BACKEND_H

/**
 * @file
 * libvhost: the common vhost backend interface.
 *
 * One ops table, implemented by every kind of vhost device this library
 * drives: kernel vhost-net and vhost-vsock (kern.c), vhost-vdpa (vdpa.c) and
 * a vhost-user back-end reached through the front-end (user_frontend.c).
 * Code that drives a device (a virtio driver whose rings live in its own
 * memory) uses only these calls plus the typed extension of its kind.
 *
 * Addresses: a memory region maps the driver's guest-physical (or IOVA)
 * range [guest_phys_addr, +memory_size) to its own virtual address
 * userspace_addr. Ring addresses given to vh_backend_set_vring_addr() are
 * userspace (virtual) addresses in the driver's process for kernel vhost and
 * vhost-user, as in the kernel's struct vhost_vring_addr; vDPA devices use
 * IOVAs there, so a driver that wants one code path maps IOVA == virtual
 * address (guest_phys_addr == userspace_addr), which every kind accepts.
 *
 * Every call returns 0 or a negative errno; none calls exit().
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Kinds of vhost device behind a struct vh_backend. */
enum vh_backend_kind {
	VH_BACKEND_KERN_NET = 1, /**< /dev/vhost-net */
	VH_BACKEND_KERN_VSOCK,	 /**< /dev/vhost-vsock */
	VH_BACKEND_VDPA,	 /**< /dev/vhost-vdpa-N */
	VH_BACKEND_USER,	 /**< a vhost-user back-end, through our front-end */
};

/** One region of the driver's memory, as the device must see it. */
struct vh_mem_region {
	uint64_t guest_phys_addr; /**< guest-physical address / IOVA of the start */
	uint64_t memory_size;	  /**< length in bytes, > 0 */
	uint64_t userspace_addr;  /**< the driver's virtual address of the start */
	uint64_t mmap_offset;	  /**< offset of the start in @ref fd (vhost-user) */
	int fd;			  /**< fd backing the region (vhost-user), else -1 */
};

/** Ring addresses, as struct vhost_vring_addr. */
struct vh_vring_addr {
	uint32_t flags;		  /**< VH_VRING_F_LOG to log used-ring writes */
	uint64_t desc_user_addr;  /**< descriptor table (packed: descriptor ring) */
	uint64_t used_user_addr;  /**< used ring (packed: device event suppression) */
	uint64_t avail_user_addr; /**< available ring (packed: driver event suppression) */
	uint64_t log_guest_addr;  /**< guest-physical address of the used ring, for logging */
};

#define VH_VRING_F_LOG 0x1

/** Dirty log area for live migration. */
struct vh_log_area {
	uint64_t size;	 /**< bytes of the log (vhost-user: mmap size) */
	uint64_t offset; /**< offset in @ref fd (vhost-user) */
	uint64_t base;	 /**< the driver's virtual address of the log (kernel) */
	int fd;		 /**< shared-memory fd of the log (vhost-user), else -1 */
};

struct vh_backend;

/** The operations every kind implements; NULL where a kind cannot. */
struct vh_backend_ops {
	int (*get_features)(struct vh_backend *b, uint64_t *features);
	int (*set_features)(struct vh_backend *b, uint64_t features);
	int (*set_owner)(struct vh_backend *b);
	int (*reset_owner)(struct vh_backend *b);
	int (*set_mem_table)(struct vh_backend *b, const struct vh_mem_region *regions,
			     unsigned int nregions);
	int (*set_log_base)(struct vh_backend *b, const struct vh_log_area *log);
	int (*set_log_fd)(struct vh_backend *b, int fd);
	int (*set_vring_num)(struct vh_backend *b, unsigned int idx, unsigned int num);
	int (*set_vring_addr)(struct vh_backend *b, unsigned int idx,
			      const struct vh_vring_addr *addr);
	int (*set_vring_base)(struct vh_backend *b, unsigned int idx, uint32_t base);
	int (*get_vring_base)(struct vh_backend *b, unsigned int idx, uint32_t *base);
	int (*set_vring_kick)(struct vh_backend *b, unsigned int idx, int fd);
	int (*set_vring_call)(struct vh_backend *b, unsigned int idx, int fd);
	int (*set_vring_err)(struct vh_backend *b, unsigned int idx, int fd);
	/** Enables or disables ring @p idx (vhost-user, vDPA); NULL for kernel net. */
	int (*set_vring_enable)(struct vh_backend *b, unsigned int idx, int enable);
	/** Closes the device and frees @p b. */
	void (*destroy)(struct vh_backend *b);
	/**
	 * Every ring the driver uses is configured (virtio DRIVER_OK): vDPA and
	 * vhost-user with STATUS set the status bit; NULL for kernel vhost.
	 */
	int (*driver_ok)(struct vh_backend *b);
};

/**
 * The handle every kind embeds as its first member. Fill-in is the job of
 * each kind's open/connect function; users only pass it around.
 */
struct vh_backend {
	const struct vh_backend_ops *ops;
	enum vh_backend_kind kind;
};

/** Returns a static name for @p kind ("kern-net", "vdpa", ...). */
const char *vh_backend_kind_name(enum vh_backend_kind kind);

/* Dispatch helpers: return -ENOTSUP when the kind lacks the operation. */
int vh_backend_get_features(struct vh_backend *b, uint64_t *features);
int vh_backend_set_features(struct vh_backend *b, uint64_t features);
int vh_backend_set_owner(struct vh_backend *b);
int vh_backend_reset_owner(struct vh_backend *b);
int vh_backend_set_mem_table(struct vh_backend *b, const struct vh_mem_region *regions,
			     unsigned int nregions);
int vh_backend_set_log_base(struct vh_backend *b, const struct vh_log_area *log);
int vh_backend_set_log_fd(struct vh_backend *b, int fd);
int vh_backend_set_vring_num(struct vh_backend *b, unsigned int idx, unsigned int num);
int vh_backend_set_vring_addr(struct vh_backend *b, unsigned int idx,
			      const struct vh_vring_addr *addr);
int vh_backend_set_vring_base(struct vh_backend *b, unsigned int idx, uint32_t base);
int vh_backend_get_vring_base(struct vh_backend *b, unsigned int idx, uint32_t *base);
int vh_backend_set_vring_kick(struct vh_backend *b, unsigned int idx, int fd);
int vh_backend_set_vring_call(struct vh_backend *b, unsigned int idx, int fd);
int vh_backend_set_vring_err(struct vh_backend *b, unsigned int idx, int fd);
int vh_backend_set_vring_enable(struct vh_backend *b, unsigned int idx, int enable);
/**
 * Tells the device the driver is done: every ring it uses is configured
 * (virtio 3.1.1 step 8, DRIVER_OK). Call it once, after the last ring's
 * kick, call and enable: back-ends that wait for DRIVER_OK (DPDK's with
 * STATUS) start then, and none sees it before a ring it serves is
 * described. 0 where the kind has nothing to tell (kernel).
 */
int vh_backend_driver_ok(struct vh_backend *b);

/** Closes and frees @p b (NULL is allowed). */
void vh_backend_destroy(struct vh_backend *b);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_BACKEND_H */
