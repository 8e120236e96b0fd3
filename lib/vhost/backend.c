/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The common backend interface: dispatch through each kind's ops table.
 */
#include <errno.h>
#include <stddef.h>

#include "vhost_backend.h"

const char *
vh_backend_kind_name(enum vh_backend_kind kind)
{
	switch (kind) {
	case VH_BACKEND_KERN_NET:
		return "kern-net";
	case VH_BACKEND_KERN_VSOCK:
		return "kern-vsock";
	case VH_BACKEND_VDPA:
		return "vdpa";
	case VH_BACKEND_USER:
		return "vhost-user";
	}
	return "unknown";
}

/* Calls op when both the handle and the op exist, else -EINVAL / -ENOTSUP. */
#define VH_BACKEND_CALL(b, op, ...)                                                                \
	((b) == NULL || (b)->ops == NULL ? -EINVAL                                                 \
	 : (b)->ops->op == NULL		 ? -ENOTSUP                                                \
					 : (b)->ops->op((b), ##__VA_ARGS__))

int
vh_backend_get_features(struct vh_backend *b, uint64_t *features)
{
	if (features == NULL)
		return -EINVAL;
	return VH_BACKEND_CALL(b, get_features, features);
}

int
vh_backend_set_features(struct vh_backend *b, uint64_t features)
{
	return VH_BACKEND_CALL(b, set_features, features);
}

int
vh_backend_set_owner(struct vh_backend *b)
{
	return VH_BACKEND_CALL(b, set_owner);
}

int
vh_backend_reset_owner(struct vh_backend *b)
{
	return VH_BACKEND_CALL(b, reset_owner);
}

int
vh_backend_set_mem_table(struct vh_backend *b, const struct vh_mem_region *regions,
			 unsigned int nregions)
{
	if (regions == NULL && nregions > 0)
		return -EINVAL;
	return VH_BACKEND_CALL(b, set_mem_table, regions, nregions);
}

int
vh_backend_set_log_base(struct vh_backend *b, const struct vh_log_area *log)
{
	if (log == NULL)
		return -EINVAL;
	return VH_BACKEND_CALL(b, set_log_base, log);
}

int
vh_backend_set_log_fd(struct vh_backend *b, int fd)
{
	return VH_BACKEND_CALL(b, set_log_fd, fd);
}

int
vh_backend_set_vring_num(struct vh_backend *b, unsigned int idx, unsigned int num)
{
	return VH_BACKEND_CALL(b, set_vring_num, idx, num);
}

int
vh_backend_set_vring_addr(struct vh_backend *b, unsigned int idx, const struct vh_vring_addr *addr)
{
	if (addr == NULL)
		return -EINVAL;
	return VH_BACKEND_CALL(b, set_vring_addr, idx, addr);
}

int
vh_backend_set_vring_base(struct vh_backend *b, unsigned int idx, uint32_t base)
{
	return VH_BACKEND_CALL(b, set_vring_base, idx, base);
}

int
vh_backend_get_vring_base(struct vh_backend *b, unsigned int idx, uint32_t *base)
{
	if (base == NULL)
		return -EINVAL;
	return VH_BACKEND_CALL(b, get_vring_base, idx, base);
}

int
vh_backend_set_vring_kick(struct vh_backend *b, unsigned int idx, int fd)
{
	return VH_BACKEND_CALL(b, set_vring_kick, idx, fd);
}

int
vh_backend_set_vring_call(struct vh_backend *b, unsigned int idx, int fd)
{
	return VH_BACKEND_CALL(b, set_vring_call, idx, fd);
}

int
vh_backend_set_vring_err(struct vh_backend *b, unsigned int idx, int fd)
{
	return VH_BACKEND_CALL(b, set_vring_err, idx, fd);
}

int
vh_backend_set_vring_enable(struct vh_backend *b, unsigned int idx, int enable)
{
	return VH_BACKEND_CALL(b, set_vring_enable, idx, enable);
}

int
vh_backend_driver_ok(struct vh_backend *b)
{
	if (b != NULL && b->ops != NULL && b->ops->driver_ok == NULL)
		return 0;
	return VH_BACKEND_CALL(b, driver_ok);
}

void
vh_backend_destroy(struct vh_backend *b)
{
	if (b != NULL && b->ops != NULL && b->ops->destroy != NULL)
		b->ops->destroy(b);
}
