/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-vdpa (drivers/vhost/vdpa.c): the vhost ioctls plus the vDPA ones,
 * and DMA mappings as IOTLB messages written to the device fd.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/vhost.h>

#include "vh_ioctl.h"
#include "private.h"
#include "vhost_vdpa.h"

/* Linux 6.3 added resume; older uapi headers lack it. */
#ifndef VHOST_VDPA_RESUME
#define VHOST_VDPA_RESUME _IO(VHOST_VIRTIO, 0x7E)
#endif

#define RESET_WAIT_MS 1000

struct vh_vdpa {
	struct vh_ioctl_dev dev;
	uint64_t backend_features; /* acked */
	/* What vh_backend_set_mem_table() mapped, to unmap on the next one. */
	struct vh_mem_region regions[VH_IOCTL_MAX_REGIONS];
	unsigned int nregions;
};

static const struct vh_backend_ops vdpa_ops;

static struct vh_vdpa *
vdpa_of(const struct vh_backend *b)
{
	return b != NULL && b->ops == &vdpa_ops ? (struct vh_vdpa *)b : NULL;
}

static int
vdpa_ioctl(struct vh_backend *b, unsigned long cmd, void *arg)
{
	struct vh_vdpa *v = vdpa_of(b);

	return v != NULL ? vh_ioctl(v->dev.fd, cmd, arg) : -EINVAL;
}

/*
 * Suspend and resume exist only where the backend feature is acked: on
 * kernels without the ioctl, vhost-vdpa takes an unknown command for a ring
 * ioctl and answers EFAULT rather than ENOTTY. ENOTTY (no such ioctl) and
 * EOPNOTSUPP (the device lacks the op) are mapped to -ENOTSUP as well.
 */
static int
optional_ioctl(struct vh_backend *b, unsigned long cmd, unsigned int feature)
{
	struct vh_vdpa *v = vdpa_of(b);
	int rc;

	if (v == NULL)
		return -EINVAL;
	if (!(v->backend_features & (1ULL << feature)))
		return -ENOTSUP;
	rc = vh_ioctl(v->dev.fd, cmd, NULL);
	return rc == -ENOTTY || rc == -EOPNOTSUPP ? -ENOTSUP : rc;
}

static int
iotlb_msg(struct vh_vdpa *v, uint8_t type, uint64_t iova, uint64_t size, uint64_t uaddr,
	  uint8_t perm)
{
	struct vhost_msg_v2 m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.type = VHOST_IOTLB_MSG_V2;
	m.iotlb.type = type;
	m.iotlb.iova = iova;
	m.iotlb.size = size;
	m.iotlb.uaddr = uaddr;
	m.iotlb.perm = perm;
	do
		n = write(v->dev.fd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(m) ? 0 : -EIO;
}

int
vh_vdpa_dma_map(struct vh_backend *b, uint64_t iova, uint64_t size, void *vaddr, bool writable)
{
	struct vh_vdpa *v = vdpa_of(b);

	if (v == NULL || size == 0 || iova + size - 1 < iova ||
	    (uintptr_t)vaddr + size - 1 < (uintptr_t)vaddr)
		return -EINVAL;
	return iotlb_msg(v, VHOST_IOTLB_UPDATE, iova, size, (uintptr_t)vaddr,
			 writable ? VHOST_ACCESS_RW : VHOST_ACCESS_RO);
}

int
vh_vdpa_dma_unmap(struct vh_backend *b, uint64_t iova, uint64_t size)
{
	struct vh_vdpa *v = vdpa_of(b);

	if (v == NULL || size == 0 || iova + size - 1 < iova)
		return -EINVAL;
	return iotlb_msg(v, VHOST_IOTLB_INVALIDATE, iova, size, 0, 0);
}

static bool
has_batch(const struct vh_vdpa *v)
{
	return v->backend_features & (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
}

int
vh_vdpa_dma_batch_begin(struct vh_backend *b)
{
	struct vh_vdpa *v = vdpa_of(b);

	if (v == NULL)
		return -EINVAL;
	return has_batch(v) ? iotlb_msg(v, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0) : 0;
}

int
vh_vdpa_dma_batch_end(struct vh_backend *b)
{
	struct vh_vdpa *v = vdpa_of(b);

	if (v == NULL)
		return -EINVAL;
	return has_batch(v) ? iotlb_msg(v, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0) : 0;
}

/* The memory table of a vDPA device is its set of DMA mappings. */
static int
vdpa_set_mem_table(struct vh_backend *b, const struct vh_mem_region *regions, unsigned int nregions)
{
	struct vh_vdpa *v = vdpa_of(b);
	unsigned int mapped = 0;
	int rc = vh_ioctl_check_regions(regions, nregions);

	if (rc != 0)
		return rc;
	rc = vh_vdpa_dma_batch_begin(b);
	for (unsigned int i = 0; rc == 0 && i < v->nregions; i++)
		rc = vh_vdpa_dma_unmap(b, v->regions[i].guest_phys_addr, v->regions[i].memory_size);
	if (rc == 0)
		v->nregions = 0;
	for (; rc == 0 && mapped < nregions; mapped++)
		rc = vh_vdpa_dma_map(b, regions[mapped].guest_phys_addr,
				     regions[mapped].memory_size,
				     (void *)(uintptr_t)regions[mapped].userspace_addr, true);
	if (rc != 0) {
		VH_ERR("vDPA memory table: mapping region %u failed: %s", mapped, strerror(-rc));
		for (unsigned int i = 0; i < mapped; i++)
			vh_vdpa_dma_unmap(b, regions[i].guest_phys_addr, regions[i].memory_size);
		vh_vdpa_dma_batch_end(b);
		return rc;
	}
	rc = vh_vdpa_dma_batch_end(b);
	memcpy(v->regions, regions, nregions * sizeof(regions[0]));
	v->nregions = nregions;
	return rc;
}

static int
vdpa_set_vring_enable(struct vh_backend *b, unsigned int idx, int enable)
{
	struct vhost_vring_state s = {.index = idx, .num = enable ? 1 : 0};

	return vdpa_ioctl(b, VHOST_VDPA_SET_VRING_ENABLE, &s);
}

static int
vdpa_driver_ok(struct vh_backend *b)
{
	uint8_t status;
	int rc = vh_vdpa_get_status(b, &status);

	return rc != 0 ? rc : vh_vdpa_set_status(b, status | VH_VDPA_S_DRIVER_OK);
}

static const struct vh_backend_ops vdpa_ops = {
	.get_features = vh_ioctl_get_features,
	.set_features = vh_ioctl_set_features,
	.set_owner = vh_ioctl_set_owner,
	/* No reset_owner and no dirty log: vhost-vdpa has neither ioctl. */
	.set_mem_table = vdpa_set_mem_table,
	.set_vring_num = vh_ioctl_set_vring_num,
	.set_vring_addr = vh_ioctl_set_vring_addr,
	.set_vring_base = vh_ioctl_set_vring_base,
	.get_vring_base = vh_ioctl_get_vring_base,
	.set_vring_kick = vh_ioctl_set_vring_kick,
	.set_vring_call = vh_ioctl_set_vring_call,
	.set_vring_err = vh_ioctl_set_vring_err,
	.set_vring_enable = vdpa_set_vring_enable,
	.destroy = vh_ioctl_destroy,
	.driver_ok = vdpa_driver_ok,
};

int
vh_vdpa_open(const char *path, struct vh_backend **out)
{
	const uint64_t useful =
		(1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) | (1ULL << VHOST_BACKEND_F_IOTLB_BATCH) |
		(1ULL << VH_VDPA_BACKEND_F_SUSPEND) | (1ULL << VH_VDPA_BACKEND_F_RESUME);
	uint64_t offered = 0;
	struct vh_vdpa *v;
	int fd, rc;

	if (out == NULL || path == NULL)
		return -EINVAL;
	*out = NULL;
	fd = vh_ioctl_open(path, "vhost_vdpa");
	if (fd < 0)
		return fd;
	v = calloc(1, sizeof(*v));
	if (v == NULL) {
		close(fd);
		return -ENOMEM;
	}
	v->dev.b.ops = &vdpa_ops;
	v->dev.b.kind = VH_BACKEND_VDPA;
	v->dev.fd = fd;
	rc = vh_ioctl(fd, VHOST_GET_BACKEND_FEATURES, &offered);
	if (rc == 0 && !(offered & (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2))) {
		VH_ERR("%s: the kernel does not offer IOTLB_MSG_V2", path);
		rc = -ENOTSUP;
	}
	if (rc == 0) {
		v->backend_features = offered & useful;
		rc = vh_ioctl(fd, VHOST_SET_BACKEND_FEATURES, &v->backend_features);
	}
	if (rc != 0) {
		vh_ioctl_destroy(&v->dev.b);
		return rc;
	}
	*out = &v->dev.b;
	return 0;
}

int
vh_vdpa_fd(const struct vh_backend *b)
{
	const struct vh_vdpa *v = vdpa_of(b);

	return v != NULL ? v->dev.fd : -EINVAL;
}

int
vh_vdpa_get_device_id(struct vh_backend *b, uint32_t *id)
{
	return id != NULL ? vdpa_ioctl(b, VHOST_VDPA_GET_DEVICE_ID, id) : -EINVAL;
}

int
vh_vdpa_get_status(struct vh_backend *b, uint8_t *status)
{
	return status != NULL ? vdpa_ioctl(b, VHOST_VDPA_GET_STATUS, status) : -EINVAL;
}

int
vh_vdpa_set_status(struct vh_backend *b, uint8_t status)
{
	return vdpa_ioctl(b, VHOST_VDPA_SET_STATUS, &status);
}

int
vh_vdpa_reset(struct vh_backend *b)
{
	struct timespec ts = {0, 1000 * 1000};
	uint8_t status = 0xff;
	int rc = vh_vdpa_set_status(b, 0);

	for (int ms = 0; rc == 0; ms++) {
		rc = vh_vdpa_get_status(b, &status);
		if (rc != 0 || status == 0)
			break;
		if (ms >= RESET_WAIT_MS) {
			VH_ERR("vDPA device still reads status 0x%x after a reset", status);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
	return rc;
}

int
vh_vdpa_get_config_size(struct vh_backend *b, uint32_t *size)
{
	return size != NULL ? vdpa_ioctl(b, VHOST_VDPA_GET_CONFIG_SIZE, size) : -EINVAL;
}

static int
config_io(struct vh_backend *b, unsigned long cmd, uint32_t off, void *buf, uint32_t len)
{
	struct vhost_vdpa_config *c;
	int rc;

	if (buf == NULL || vdpa_of(b) == NULL)
		return -EINVAL;
	c = malloc(sizeof(*c) + len);
	if (c == NULL)
		return -ENOMEM;
	c->off = off;
	c->len = len;
	if (cmd == VHOST_VDPA_SET_CONFIG)
		memcpy(c->buf, buf, len);
	rc = vdpa_ioctl(b, cmd, c);
	if (rc == 0 && cmd == VHOST_VDPA_GET_CONFIG)
		memcpy(buf, c->buf, len);
	free(c);
	return rc;
}

int
vh_vdpa_get_config(struct vh_backend *b, uint32_t off, void *buf, uint32_t len)
{
	return config_io(b, VHOST_VDPA_GET_CONFIG, off, buf, len);
}

int
vh_vdpa_set_config(struct vh_backend *b, uint32_t off, const void *buf, uint32_t len)
{
	return config_io(b, VHOST_VDPA_SET_CONFIG, off, (void *)(uintptr_t)buf, len);
}

int
vh_vdpa_get_vring_num(struct vh_backend *b, uint16_t *num)
{
	return num != NULL ? vdpa_ioctl(b, VHOST_VDPA_GET_VRING_NUM, num) : -EINVAL;
}

int
vh_vdpa_get_vqs_count(struct vh_backend *b, uint32_t *count)
{
	return count != NULL ? vdpa_ioctl(b, VHOST_VDPA_GET_VQS_COUNT, count) : -EINVAL;
}

int
vh_vdpa_get_iova_range(struct vh_backend *b, uint64_t *first, uint64_t *last)
{
	struct vhost_vdpa_iova_range r;
	int rc;

	if (first == NULL || last == NULL)
		return -EINVAL;
	rc = vdpa_ioctl(b, VHOST_VDPA_GET_IOVA_RANGE, &r);
	if (rc == 0) {
		*first = r.first;
		*last = r.last;
	}
	return rc;
}

int
vh_vdpa_get_backend_features(struct vh_backend *b, uint64_t *features)
{
	return features != NULL ? vdpa_ioctl(b, VHOST_GET_BACKEND_FEATURES, features) : -EINVAL;
}

int
vh_vdpa_set_backend_features(struct vh_backend *b, uint64_t features)
{
	struct vh_vdpa *v = vdpa_of(b);
	int rc = vdpa_ioctl(b, VHOST_SET_BACKEND_FEATURES, &features);

	if (rc == 0)
		v->backend_features = features;
	return rc;
}

int
vh_vdpa_set_config_call(struct vh_backend *b, int fd)
{
	return vdpa_ioctl(b, VHOST_VDPA_SET_CONFIG_CALL, &fd);
}

int
vh_vdpa_suspend(struct vh_backend *b)
{
	return optional_ioctl(b, VHOST_VDPA_SUSPEND, VH_VDPA_BACKEND_F_SUSPEND);
}

int
vh_vdpa_resume(struct vh_backend *b)
{
	return optional_ioctl(b, VHOST_VDPA_RESUME, VH_VDPA_BACKEND_F_RESUME);
}
