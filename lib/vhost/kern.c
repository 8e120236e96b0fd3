/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel vhost: /dev/vhost-net (drivers/vhost/net.c) and /dev/vhost-vsock
 * (drivers/vhost/vsock.c), through the common vhost ioctls plus each
 * device's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vh_ioctl.h"
#include "private.h"
#include "vhost_kern.h"

#define TUN_PATH "/dev/net/tun"

static const struct vh_backend_ops kern_ops = {
	.get_features = vh_ioctl_get_features,
	.set_features = vh_ioctl_set_features,
	.set_owner = vh_ioctl_set_owner,
	.reset_owner = vh_ioctl_reset_owner,
	.set_mem_table = vh_ioctl_set_mem_table,
	.set_log_base = vh_ioctl_set_log_base,
	.set_log_fd = vh_ioctl_set_log_fd,
	.set_vring_num = vh_ioctl_set_vring_num,
	.set_vring_addr = vh_ioctl_set_vring_addr,
	.set_vring_base = vh_ioctl_set_vring_base,
	.get_vring_base = vh_ioctl_get_vring_base,
	.set_vring_kick = vh_ioctl_set_vring_kick,
	.set_vring_call = vh_ioctl_set_vring_call,
	.set_vring_err = vh_ioctl_set_vring_err,
	.destroy = vh_ioctl_destroy,
};

static int
kern_open(const char *path, const char *module, enum vh_backend_kind kind, struct vh_backend **out)
{
	struct vh_ioctl_dev *d;
	int fd;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	fd = vh_ioctl_open(path, module);
	if (fd < 0)
		return fd;
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		close(fd);
		return -ENOMEM;
	}
	d->b.ops = &kern_ops;
	d->b.kind = kind;
	d->fd = fd;
	*out = &d->b;
	return 0;
}

int
vh_kern_net_open(const char *path, struct vh_backend **out)
{
	return kern_open(path != NULL ? path : VH_KERN_NET_PATH, "vhost_net", VH_BACKEND_KERN_NET,
			 out);
}

int
vh_kern_vsock_open(const char *path, struct vh_backend **out)
{
	return kern_open(path != NULL ? path : VH_KERN_VSOCK_PATH, "vhost_vsock",
			 VH_BACKEND_KERN_VSOCK, out);
}

static bool
is_kind(const struct vh_backend *b, enum vh_backend_kind kind)
{
	return b != NULL && b->ops == &kern_ops && b->kind == kind;
}

int
vh_kern_fd(const struct vh_backend *b)
{
	if (b == NULL || b->ops != &kern_ops)
		return -EINVAL;
	return ((const struct vh_ioctl_dev *)b)->fd;
}

int
vh_kern_net_set_backend(struct vh_backend *b, unsigned int idx, int fd)
{
	struct vhost_vring_file f = {.index = idx, .fd = fd};

	if (!is_kind(b, VH_BACKEND_KERN_NET))
		return -EINVAL;
	return vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_NET_SET_BACKEND, &f);
}

unsigned int
vh_kern_net_hdr_len(uint64_t features)
{
	/* virtio 1.x 5.1.6: the header always has num_buffers with
	 * VERSION_1; legacy devices only with MRG_RXBUF. */
	if (features & ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF)))
		return sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return sizeof(struct virtio_net_hdr);
}

int
vh_kern_tap_open(const char *name, unsigned int vnet_hdr_len, char *ifname)
{
	struct ifreq ifr;
	int fd, rc, len = (int)vnet_hdr_len;

	if (ifname == NULL || (vnet_hdr_len != 0 && vnet_hdr_len != sizeof(struct virtio_net_hdr) &&
			       vnet_hdr_len != sizeof(struct virtio_net_hdr_mrg_rxbuf)))
		return -EINVAL;
	if (name != NULL && strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	fd = vh_ioctl_open(TUN_PATH, "tun");
	if (fd < 0)
		return fd;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr_len != 0 ? IFF_VNET_HDR : 0);
	if (name != NULL)
		memcpy(ifr.ifr_name, name, strlen(name));
	rc = vh_ioctl(fd, TUNSETIFF, &ifr);
	if (rc == 0 && vnet_hdr_len != 0)
		rc = vh_ioctl(fd, TUNSETVNETHDRSZ, &len);
	if (rc != 0) {
		VH_ERR("tap %s: %s", name != NULL ? name : "(any)", strerror(-rc));
		close(fd);
		return rc;
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	return fd;
}

int
vh_kern_vsock_set_guest_cid(struct vh_backend *b, uint64_t cid)
{
	if (!is_kind(b, VH_BACKEND_KERN_VSOCK))
		return -EINVAL;
	return vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_VSOCK_SET_GUEST_CID, &cid);
}

int
vh_kern_vsock_set_running(struct vh_backend *b, bool running)
{
	int start = running ? 1 : 0;

	if (!is_kind(b, VH_BACKEND_KERN_VSOCK))
		return -EINVAL;
	return vh_ioctl(vh_ioctl_dev(b)->fd, VHOST_VSOCK_SET_RUNNING, &start);
}
