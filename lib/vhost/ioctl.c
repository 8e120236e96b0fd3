/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost ioctl interface (include/uapi/linux/vhost.h) common to kernel
 * vhost devices and vhost-vdpa: one ioctl per backend operation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost.h>

#include "vh_ioctl.h"
#include "private.h"

int
vh_ioctl_open(const char *path, const char *module)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	fd = -errno;
	if (fd == -ENOENT)
		VH_ERR("%s does not exist: load the %s kernel module (modprobe %s)", path, module,
		       module);
	else
		VH_ERR("cannot open %s: %s", path, strerror(-fd));
	return fd;
}

int
vh_ioctl(int fd, unsigned long cmd, void *arg)
{
	int rc;

	do
		rc = ioctl(fd, cmd, arg);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : 0;
}

int
vh_ioctl_check_regions(const struct vh_mem_region *regions, unsigned int nregions)
{
	if (nregions > VH_IOCTL_MAX_REGIONS)
		return -E2BIG;
	for (unsigned int i = 0; i < nregions; i++) {
		const struct vh_mem_region *r = &regions[i];

		if (r->memory_size == 0 ||
		    r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
		    r->userspace_addr + r->memory_size < r->userspace_addr)
			return -EINVAL;
	}
	return 0;
}

int
vh_ioctl_get_features(struct vh_backend *b, uint64_t *features)
{
	return vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_GET_FEATURES, features);
}

int
vh_ioctl_set_features(struct vh_backend *b, uint64_t features)
{
	return vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_SET_FEATURES, &features);
}

int
vh_ioctl_set_owner(struct vh_backend *b)
{
	return vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_SET_OWNER, NULL);
}

int
vh_ioctl_reset_owner(struct vh_backend *b)
{
	return vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_RESET_OWNER, NULL);
}

int
vh_ioctl_set_mem_table(struct vh_backend *b, const struct vh_mem_region *regions,
		       unsigned int nregions)
{
	struct vhost_memory *mem;
	int rc = vh_ioctl_check_regions(regions, nregions);

	if (rc != 0)
		return rc;
	mem = calloc(1, sizeof(*mem) + nregions * sizeof(mem->regions[0]));
	if (mem == NULL)
		return -ENOMEM;
	mem->nregions = nregions;
	for (unsigned int i = 0; i < nregions; i++) {
		mem->regions[i].guest_phys_addr = regions[i].guest_phys_addr;
		mem->regions[i].memory_size = regions[i].memory_size;
		mem->regions[i].userspace_addr = regions[i].userspace_addr;
	}
	rc = vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_SET_MEM_TABLE, mem);
	free(mem);
	return rc;
}

int
vh_ioctl_set_log_base(struct vh_backend *b, const struct vh_log_area *log)
{
	uint64_t base = log->base;

	return vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_SET_LOG_BASE, &base);
}

int
vh_ioctl_set_log_fd(struct vh_backend *b, int fd)
{
	return vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_SET_LOG_FD, &fd);
}

static int
vring_state(struct vh_backend *b, unsigned long cmd, unsigned int idx, unsigned int num)
{
	struct vhost_vring_state s = {.index = idx, .num = num};

	return vh_ioctl(vh_ioctl_dev(b)->fd, cmd, &s);
}

static int
vring_file(struct vh_backend *b, unsigned long cmd, unsigned int idx, int fd)
{
	struct vhost_vring_file f = {.index = idx, .fd = fd};

	return vh_ioctl(vh_ioctl_dev(b)->fd, cmd, &f);
}

int
vh_ioctl_set_vring_num(struct vh_backend *b, unsigned int idx, unsigned int num)
{
	return vring_state(b, VHOST_SET_VRING_NUM, idx, num);
}

int
vh_ioctl_set_vring_addr(struct vh_backend *b, unsigned int idx, const struct vh_vring_addr *addr)
{
	struct vhost_vring_addr a = {
		.index = idx,
		.desc_user_addr = addr->desc_user_addr,
		.used_user_addr = addr->used_user_addr,
		.avail_user_addr = addr->avail_user_addr,
		.log_guest_addr = addr->log_guest_addr,
	};

	if ((addr->flags & ~VH_VRING_F_LOG) != 0)
		return -EINVAL;
	if (addr->flags & VH_VRING_F_LOG)
		a.flags = 1u << VHOST_VRING_F_LOG;
	return vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_SET_VRING_ADDR, &a);
}

int
vh_ioctl_set_vring_base(struct vh_backend *b, unsigned int idx, uint32_t base)
{
	return vring_state(b, VHOST_SET_VRING_BASE, idx, base);
}

int
vh_ioctl_get_vring_base(struct vh_backend *b, unsigned int idx, uint32_t *base)
{
	struct vhost_vring_state s = {.index = idx};
	int rc = vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_GET_VRING_BASE, &s);

	if (rc == 0)
		*base = s.num;
	return rc;
}

int
vh_ioctl_set_vring_kick(struct vh_backend *b, unsigned int idx, int fd)
{
	return vring_file(b, VHOST_SET_VRING_KICK, idx, fd);
}

int
vh_ioctl_set_vring_call(struct vh_backend *b, unsigned int idx, int fd)
{
	return vring_file(b, VHOST_SET_VRING_CALL, idx, fd);
}

int
vh_ioctl_set_vring_err(struct vh_backend *b, unsigned int idx, int fd)
{
	return vring_file(b, VHOST_SET_VRING_ERR, idx, fd);
}

void
vh_ioctl_destroy(struct vh_backend *b)
{
	close(vh_ioctl_dev(b)->fd);
	free(b);
}
