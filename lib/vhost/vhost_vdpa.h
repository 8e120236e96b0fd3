/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_VDPA_H
#define VHOST_VDPA_H

/**
 * @file
 * libvhost: vhost-vdpa devices, /dev/vhost-vdpa-N.
 *
 * A vDPA device implements the common interface of vhost_backend.h, with
 * two differences from kernel vhost: ring addresses are IOVAs, and
 * vh_backend_set_mem_table() replaces the device's DMA mappings with the
 * given regions (IOVA guest_phys_addr -> the driver's userspace_addr), sent
 * as IOTLB messages written to the device fd (in one batch where the kernel
 * offers VHOST_BACKEND_F_IOTLB_BATCH).
 *
 * The virtio status handshake is the driver's (virtio 1.1, 3.1.1): reset,
 * ACKNOWLEDGE | DRIVER, features, FEATURES_OK (read back), memory and rings
 * (with vh_backend_set_vring_enable()), DRIVER_OK.
 *
 * Every function returns 0 or a negative errno: -EINVAL when @p b is not a
 * vDPA backend, else the errno of the failed ioctl or write. The kernel
 * reports every failed IOTLB update as -EFAULT.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Device node of vDPA device @p n: snprintf(buf, len, VH_VDPA_PATH_FMT, n). */
#define VH_VDPA_PATH_FMT "/dev/vhost-vdpa-%u"

/** Backend feature bit numbers (uapi VHOST_BACKEND_F_*). */
#define VH_VDPA_BACKEND_F_IOTLB_MSG_V2 1
#define VH_VDPA_BACKEND_F_IOTLB_BATCH  2
#define VH_VDPA_BACKEND_F_SUSPEND      4
#define VH_VDPA_BACKEND_F_RESUME       5

/** Virtio device status bits (virtio 1.1, 2.1). */
#define VH_VDPA_S_ACKNOWLEDGE 0x01
#define VH_VDPA_S_DRIVER      0x02
#define VH_VDPA_S_DRIVER_OK   0x04
#define VH_VDPA_S_FEATURES_OK 0x08
#define VH_VDPA_S_NEEDS_RESET 0x40
#define VH_VDPA_S_FAILED      0x80

/**
 * Opens a vDPA device and negotiates its backend features: IOTLB_MSG_V2 is
 * required; IOTLB_BATCH, SUSPEND and RESUME are acked where offered.
 *
 * @param path  device node (see VH_VDPA_PATH_FMT)
 * @param out   receives the backend (free with vh_backend_destroy(), which
 *              closes the device: the kernel resets it and drops its mappings)
 * @return 0, or -ENOENT (node missing; logged with the module to load:
 *         vhost_vdpa), -EBUSY (already open), -ENOTSUP (no IOTLB_MSG_V2),
 *         -ENOMEM, -EINVAL, or the errno of open or the ioctls.
 */
int vh_vdpa_open(const char *path, struct vh_backend **out);

/** The device fd (for poll, or ioctls this library does not wrap); -EINVAL if not vDPA. */
int vh_vdpa_fd(const struct vh_backend *b);

/** Virtio device id (1 = net, 2 = block, ...) in @p id. */
int vh_vdpa_get_device_id(struct vh_backend *b, uint32_t *id);

/** Reads the device status into @p status. */
int vh_vdpa_get_status(struct vh_backend *b, uint8_t *status);

/**
 * Writes the device status. Bits may only be added (-EINVAL from the
 * kernel otherwise); 0 resets, see vh_vdpa_reset().
 */
int vh_vdpa_set_status(struct vh_backend *b, uint8_t status);

/**
 * Resets the device (status 0) and waits, up to 1 s, until it reads back 0
 * (virtio 1.1, 4.1.4.3.2). The device's own mappings are gone after a
 * reset; call vh_backend_set_mem_table() again before DRIVER_OK.
 *
 * @return 0, -ETIMEDOUT, or the ioctl's errno.
 */
int vh_vdpa_reset(struct vh_backend *b);

/** Size of the device-specific configuration space in @p size. */
int vh_vdpa_get_config_size(struct vh_backend *b, uint32_t *size);

/**
 * Reads @p len bytes of the configuration space at @p off into @p buf.
 * @return 0, or -EINVAL (len 0, or not inside the space: the kernel reports
 *         both so for reads), -E2BIG (a write past its end).
 */
int vh_vdpa_get_config(struct vh_backend *b, uint32_t off, void *buf, uint32_t len);

/** Writes @p len bytes of configuration space at @p off; errors as vh_vdpa_get_config(). */
int vh_vdpa_set_config(struct vh_backend *b, uint32_t off, const void *buf, uint32_t len);

/** Largest ring size the device supports, in @p num. */
int vh_vdpa_get_vring_num(struct vh_backend *b, uint16_t *num);

/** Number of virtqueues of the device, in @p count. */
int vh_vdpa_get_vqs_count(struct vh_backend *b, uint32_t *count);

/** Usable IOVA range [@p first, @p last] for DMA mappings and ring addresses. */
int vh_vdpa_get_iova_range(struct vh_backend *b, uint64_t *first, uint64_t *last);

/** Backend features the kernel offers (bits VH_VDPA_BACKEND_F_*). */
int vh_vdpa_get_backend_features(struct vh_backend *b, uint64_t *features);

/**
 * Acks backend features (vh_vdpa_open() already acked the useful ones).
 * @return 0, or -EOPNOTSUPP for a bit the kernel does not offer.
 */
int vh_vdpa_set_backend_features(struct vh_backend *b, uint64_t features);

/**
 * Maps [@p iova, +@p size) to the driver's memory at @p vaddr for the
 * device, writable by it when @p writable (an IOTLB update message).
 *
 * @return 0, -EINVAL (size 0, or wraps around), or -EFAULT when the kernel
 *         refuses it (outside the IOVA range, overlapping a mapping, pages
 *         that cannot be pinned).
 */
int vh_vdpa_dma_map(struct vh_backend *b, uint64_t iova, uint64_t size, void *vaddr, bool writable);

/** Removes the mappings in [@p iova, +@p size) (an IOTLB invalidate message). */
int vh_vdpa_dma_unmap(struct vh_backend *b, uint64_t iova, uint64_t size);

/**
 * Groups the following map/unmap calls until vh_vdpa_dma_batch_end() so
 * the device sees them at once. No-ops (returning 0) without IOTLB_BATCH.
 */
int vh_vdpa_dma_batch_begin(struct vh_backend *b);
/** Ends a batch started with vh_vdpa_dma_batch_begin(). */
int vh_vdpa_dma_batch_end(struct vh_backend *b);

/**
 * Sets the eventfd the device signals on a configuration change
 * (VHOST_VDPA_SET_CONFIG_CALL); -1 removes it.
 */
int vh_vdpa_set_config_call(struct vh_backend *b, int fd);

/**
 * Suspends the device: it stops processing rings and keeps their state
 * (VHOST_VDPA_SUSPEND).
 * @return 0, or -ENOTSUP when the backend feature SUSPEND is not acked
 *         (the kernel or the device cannot suspend).
 */
int vh_vdpa_suspend(struct vh_backend *b);

/**
 * Resumes a suspended device (VHOST_VDPA_RESUME, Linux 6.3 and later).
 * @return 0, or -ENOTSUP when the backend feature RESUME is not acked
 *         (the kernel or the device cannot resume); a reset then restarts
 *         the device.
 */
int vh_vdpa_resume(struct vh_backend *b);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_VDPA_H */
