/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VH_IOCTL_H
#define VH_IOCTL_H

/*
 * Private: the vhost ioctl interface shared by the kernel's /dev/vhost-*
 * character devices (kern.c) and /dev/vhost-vdpa-N (vdpa.c). Each op of
 * struct vh_backend_ops here is one ioctl on the device fd; a failed ioctl
 * returns its negative errno: ring indexes and values are checked by the
 * kernel (ENOBUFS for a ring the device lacks, EINVAL for a bad size), so
 * the caller sees exactly what the kernel said.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_backend.h"

/* Library-internal: hidden, so the version script's vh_* does not export it. */
#define VH_IOCTL_INTERNAL __attribute__((visibility("hidden")))

/* Regions the kernel accepts in VHOST_SET_MEM_TABLE by default
 * (vhost module parameter max_mem_regions). */
#define VH_IOCTL_MAX_REGIONS 64

/* A vhost device reached through ioctls; kinds embed it first. */
struct vh_ioctl_dev {
	struct vh_backend b;
	int fd;
};

static inline struct vh_ioctl_dev *
vh_ioctl_dev(struct vh_backend *b)
{
	return (struct vh_ioctl_dev *)b;
}

/* Opens @p path read-write; a missing node is logged with the module to load. */
VH_IOCTL_INTERNAL int vh_ioctl_open(const char *path, const char *module);

/* ioctl(fd, cmd, arg), retried on EINTR; 0 or -errno. */
VH_IOCTL_INTERNAL int vh_ioctl(int fd, unsigned long cmd, void *arg);

/* Validates regions: non-empty, no wrap-around, at most VH_IOCTL_MAX_REGIONS. */
VH_IOCTL_INTERNAL int vh_ioctl_check_regions(const struct vh_mem_region *regions,
					     unsigned int nregions);

VH_IOCTL_INTERNAL int vh_ioctl_get_features(struct vh_backend *b, uint64_t *features);
VH_IOCTL_INTERNAL int vh_ioctl_set_features(struct vh_backend *b, uint64_t features);
VH_IOCTL_INTERNAL int vh_ioctl_set_owner(struct vh_backend *b);
VH_IOCTL_INTERNAL int vh_ioctl_reset_owner(struct vh_backend *b);
VH_IOCTL_INTERNAL int vh_ioctl_set_mem_table(struct vh_backend *b,
					     const struct vh_mem_region *regions,
					     unsigned int nregions);
VH_IOCTL_INTERNAL int vh_ioctl_set_log_base(struct vh_backend *b, const struct vh_log_area *log);
VH_IOCTL_INTERNAL int vh_ioctl_set_log_fd(struct vh_backend *b, int fd);
VH_IOCTL_INTERNAL int vh_ioctl_set_vring_num(struct vh_backend *b, unsigned int idx,
					     unsigned int num);
VH_IOCTL_INTERNAL int vh_ioctl_set_vring_addr(struct vh_backend *b, unsigned int idx,
					      const struct vh_vring_addr *addr);
VH_IOCTL_INTERNAL int vh_ioctl_set_vring_base(struct vh_backend *b, unsigned int idx,
					      uint32_t base);
VH_IOCTL_INTERNAL int vh_ioctl_get_vring_base(struct vh_backend *b, unsigned int idx,
					      uint32_t *base);
VH_IOCTL_INTERNAL int vh_ioctl_set_vring_kick(struct vh_backend *b, unsigned int idx, int fd);
VH_IOCTL_INTERNAL int vh_ioctl_set_vring_call(struct vh_backend *b, unsigned int idx, int fd);
VH_IOCTL_INTERNAL int vh_ioctl_set_vring_err(struct vh_backend *b, unsigned int idx, int fd);

/* Closes the fd and frees the device (kinds with extra state wrap this). */
VH_IOCTL_INTERNAL void vh_ioctl_destroy(struct vh_backend *b);

#endif /* VH_IOCTL_H */
