/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_KERN_H
#define VHOST_KERN_H

/**
 * @file
 * libvhost: kernel vhost devices, /dev/vhost-net and /dev/vhost-vsock.
 *
 * Both implement the common interface of vhost_backend.h (no
 * set_vring_enable: the kernel starts a ring when its backend is set). The
 * functions here are their typed extensions; each checks that it is given a
 * backend of its kind (-EINVAL otherwise) and returns 0 or the negative errno
 * of the failed ioctl.
 *
 * Kernel vhost-net, in the order QEMU uses it: set owner; get and set the
 * features; set the memory table; per ring (0 = receive, 1 = transmit): num,
 * base, addr, kick, call; then vh_kern_net_set_backend() per ring with a tap
 * fd. Ring and buffer addresses are the driver's own virtual addresses
 * mapped by the memory table.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default device nodes. */
#define VH_KERN_NET_PATH   "/dev/vhost-net"
#define VH_KERN_VSOCK_PATH "/dev/vhost-vsock"

/**
 * Feature bit of /dev/vhost-net: the kernel adds and strips the virtio-net
 * header itself, so the tap carries bare frames (uapi VHOST_NET_F_VIRTIO_NET_HDR).
 */
#define VH_KERN_NET_F_VIRTIO_NET_HDR 27

/** Rings of a kernel vhost-net device: receive and transmit. */
#define VH_KERN_NET_RX 0
#define VH_KERN_NET_TX 1

/**
 * Opens a kernel vhost-net device.
 *
 * @param path  device node, or NULL for VH_KERN_NET_PATH
 * @param out   receives the backend (free with vh_backend_destroy())
 * @return 0, or a negative errno: -ENOENT when the node is missing (logged
 *         with the module to load: vhost_net), -EACCES, -ENOMEM, -EINVAL.
 */
int vh_kern_net_open(const char *path, struct vh_backend **out);

/**
 * Opens a kernel vhost-vsock device.
 *
 * @param path  device node, or NULL for VH_KERN_VSOCK_PATH
 * @param out   receives the backend (free with vh_backend_destroy())
 * @return 0, or a negative errno: -ENOENT when the node is missing (logged
 *         with the module to load: vhost_vsock), -EACCES, -ENOMEM, -EINVAL.
 */
int vh_kern_vsock_open(const char *path, struct vh_backend **out);

/**
 * The device fd of a kernel vhost backend (for poll, or for ioctls this
 * library does not wrap).
 *
 * @return the fd, or -EINVAL if @p b is not a kernel vhost backend.
 */
int vh_kern_fd(const struct vh_backend *b);

/**
 * Attaches ring @p idx of a vhost-net device to a tap (or tun, or packet
 * socket) fd; -1 detaches it, which stops the ring (VHOST_NET_SET_BACKEND).
 * The device keeps its own reference: the caller may close @p fd afterwards.
 *
 * @return 0, or -EINVAL (not vhost-net), -ENOBUFS (no such ring), -EBADF or
 *         -ENOTSOCK (@p fd is not a tap/tun/packet socket), -EFAULT (the ring
 *         addresses are not mapped), or another errno of the ioctl.
 */
int vh_kern_net_set_backend(struct vh_backend *b, unsigned int idx, int fd);

/**
 * Length of the virtio-net header for negotiated @p features: 12 bytes
 * (struct virtio_net_hdr_mrg_rxbuf) with VIRTIO_F_VERSION_1 or
 * VIRTIO_NET_F_MRG_RXBUF, else 10 (struct virtio_net_hdr). Without
 * VH_KERN_NET_F_VIRTIO_NET_HDR this is the vnet header length the tap must
 * carry (vh_kern_tap_open()); with it the tap carries none.
 */
unsigned int vh_kern_net_hdr_len(uint64_t features);

/**
 * Creates (or attaches to) a tap interface for a vhost-net backend:
 * IFF_TAP | IFF_NO_PI, plus IFF_VNET_HDR with TUNSETVNETHDRSZ when
 * @p vnet_hdr_len is non-zero. The interface is left down.
 *
 * @param name          interface name or pattern ("vs-tap%d"), or NULL
 * @param vnet_hdr_len  0, 10 or 12 (see vh_kern_net_hdr_len())
 * @param ifname        receives the interface's name (at least IFNAMSIZ bytes)
 * @return the tap fd (close it when done), or a negative errno: -ENOENT when
 *         /dev/net/tun is missing (logged: load tun), -EINVAL for a bad
 *         length or name, -EPERM without CAP_NET_ADMIN.
 */
int vh_kern_tap_open(const char *name, unsigned int vnet_hdr_len, char *ifname);

/**
 * Sets the guest's context id of a vhost-vsock device
 * (VHOST_VSOCK_SET_GUEST_CID).
 *
 * @return 0, or -EINVAL (not vhost-vsock, or a reserved cid: 0, 1, 2,
 *         U32_MAX or above), -EADDRINUSE (another device has it).
 */
int vh_kern_vsock_set_guest_cid(struct vh_backend *b, uint64_t cid);

/**
 * Starts or stops a vhost-vsock device (VHOST_VSOCK_SET_RUNNING). Starting
 * needs the owner set and the rings configured.
 *
 * @return 0, or -EINVAL (not vhost-vsock), -EPERM (not the owner), -EFAULT
 *         (ring memory not accessible), or another errno of the ioctl.
 */
int vh_kern_vsock_set_running(struct vh_backend *b, bool running);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_KERN_H */
