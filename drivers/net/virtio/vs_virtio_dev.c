/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A virtio-net device through the common backend interface, with the
 * kind's extension where the common calls are not enough. See
 * vs_virtio_dev.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "vhost_kern.h"
#include "vhost_vdpa.h"
#include "vs_virtio_dev.h"

static vs_vdev_log_fn vdev_log_fn;

void
vs_vdev_set_log(vs_vdev_log_fn fn)
{
	vdev_log_fn = fn;
}

static void vdev_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line to the hook, or "virtio: <line>" on stderr without one. */
static void
vdev_log(int level, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (vdev_log_fn != NULL)
		vdev_log_fn(level, line);
	else
		fprintf(stderr, "virtio: %s\n", line);
}

#define VDEV_ERR(...)  vdev_log(VS_VDEV_LOG_ERR, __VA_ARGS__)
#define VDEV_WARN(...) vdev_log(VS_VDEV_LOG_WARNING, __VA_ARGS__)

/* struct virtio_net_config (virtio 1.2, 5.1.4): mac[6], status, max_virtqueue_pairs, mtu. */
#define NET_CFG_MAC   0
#define NET_CFG_PAIRS 8
#define NET_CFG_MTU   10

/* The control queue (virtio 1.2, 5.1.6.5). */
#define CTRL_RING	  64
#define CTRL_BUF	  64
#define CTRL_RX		  0
#define CTRL_RX_PROMISC	  0
#define CTRL_RX_ALLMULTI  1
#define CTRL_MAC	  1
#define CTRL_MAC_ADDR_SET 1
#define CTRL_MQ		  4
#define CTRL_MQ_PAIRS_SET 0
#define CTRL_ACK_OK	  0
#define CTRL_WAIT_MS	  1000

/*
 * A fresh packed ring starts at index 0 with both wrap counters 1. The
 * base of SET_VRING_BASE in the spec's full form (vhost-user "Vring
 * descriptor indices for packed virtqueues"): bits 0-14 the available
 * index, 15 its wrap counter, 16-30 the used index, 31 its wrap counter.
 * Linux vhost reads both halves; DPDK reads the low one.
 */
#define PACKED_BASE_START 0x80008000u

size_t
vs_vdev_ring_mem_size(unsigned int ring_size, unsigned int indirect_max)
{
	const uint64_t ind = indirect_max ? VQ_FEATURE(VQ_F_INDIRECT_DESC) : 0;
	struct vq_drv_config split = {
		.size = ring_size, .features = ind, .indirect_max = indirect_max};
	struct vq_drv_config packed = split;
	size_t a, b;

	packed.features |= VQ_FEATURE(VQ_F_RING_PACKED);
	a = vq_drv_mem_size(&split);
	b = vq_drv_mem_size(&packed);
	if (a == 0 || b == 0)
		return 0;
	return a > b ? a : b;
}

size_t
vs_vdev_ctrl_mem_size(void)
{
	return vs_vdev_ring_mem_size(CTRL_RING, 0) + CTRL_BUF;
}

static bool
is_kind(const struct vs_vdev *d, enum vh_backend_kind k)
{
	return d->b->kind == k;
}

/* vDPA: sets status bits and checks they stuck (virtio 1.2, 3.1.1). */
static int
vdpa_add_status(struct vs_vdev *d, uint8_t bits)
{
	uint8_t st = 0;
	int rc = vh_vdpa_get_status(d->b, &st);

	if (rc == 0)
		rc = vh_vdpa_set_status(d->b, st | bits);
	if (rc == 0)
		rc = vh_vdpa_get_status(d->b, &st);
	if (rc == 0 && (st & bits) != bits) {
		VDEV_ERR("vDPA device refused status 0x%x (reads 0x%x)", bits, st);
		rc = -EPROTO;
	}
	return rc;
}

static int
negotiate(struct vs_vdev *d, const struct vs_vdev_config *cfg)
{
	uint64_t want = cfg->want | VQ_FEATURE(VQ_F_VERSION_1);
	int rc;

	if (is_kind(d, VH_BACKEND_VDPA)) {
		/* Reset, then ACKNOWLEDGE and DRIVER before reading features. */
		rc = vh_vdpa_reset(d->b);
		if (rc == 0)
			rc = vdpa_add_status(d, VH_VDPA_S_ACKNOWLEDGE | VH_VDPA_S_DRIVER);
		if (rc != 0)
			return rc;
		want |= 1ULL << VS_VIRTIO_F_ACCESS_PLATFORM;
		if (cfg->ctrl_mem != NULL)
			want |= (1ULL << VS_VNET_F_CTRL_VQ) | (1ULL << VS_VNET_F_CTRL_RX) |
				(1ULL << VS_VNET_F_CTRL_MAC_ADDR);
	} else {
		want &= ~(1ULL << VS_VIRTIO_F_ACCESS_PLATFORM);
	}
	rc = vh_backend_get_features(d->b, &d->offered);
	if (rc != 0)
		return rc;
	if (!(d->offered & VQ_FEATURE(VQ_F_VERSION_1))) {
		VDEV_ERR("the %s device does not offer VERSION_1 (features 0x%llx)",
			 vh_backend_kind_name(d->b->kind), (unsigned long long)d->offered);
		return -ENOTSUP;
	}
	/*
	 * Several pairs over vhost-user, where the front-end enables rings
	 * itself (QEMU acks MQ to the back-end without CTRL_VQ too), and over
	 * vDPA with its control queue (5.1.6.5.5). Kernel vhost-net would need
	 * one device per pair, which this driver does not do.
	 */
	if (cfg->pairs > 1 && (is_kind(d, VH_BACKEND_USER) || (want >> VS_VNET_F_CTRL_VQ) & 1))
		want |= 1ULL << VS_VNET_F_MQ;
	else
		want &= ~(1ULL << VS_VNET_F_MQ);
	d->features = d->offered & want;
	/* Without the control queue, none of what it carries (5.1.3.1). */
	if (!vs_vdev_has(d, VS_VNET_F_CTRL_VQ))
		d->features &= ~((1ULL << VS_VNET_F_CTRL_RX) | (1ULL << VS_VNET_F_CTRL_MAC_ADDR) |
				 (is_kind(d, VH_BACKEND_USER) ? 0 : 1ULL << VS_VNET_F_MQ));
	rc = vh_backend_set_features(d->b, d->features);
	if (rc == 0 && is_kind(d, VH_BACKEND_VDPA))
		rc = vdpa_add_status(d, VH_VDPA_S_FEATURES_OK);
	return rc;
}

/* vDPA: what the configuration space tells (virtio 1.2, 5.1.4). */
static void
read_config(struct vs_vdev *d)
{
	uint16_t mtu = 0;

	if (!is_kind(d, VH_BACKEND_VDPA))
		return;
	if (vs_vdev_has(d, VS_VNET_F_MAC))
		vh_vdpa_get_config(d->b, NET_CFG_MAC, d->mac, sizeof(d->mac));
	if (vs_vdev_has(d, VS_VNET_F_MTU) && vh_vdpa_get_config(d->b, NET_CFG_MTU, &mtu, 2) == 0)
		d->mtu = mtu;
}

static int
ring_setup(struct vs_vdev *d, const struct vs_vdev_config *cfg, struct vs_vdev_ring *r,
	   unsigned int size, unsigned int indirect_max, void *mem)
{
	struct vq_drv_config qc = {
		.size = size,
		.features = d->features,
		.indirect_max = vs_vdev_has(d, VQ_F_INDIRECT_DESC) ? indirect_max : 0,
		.mem = mem,
		.mem_iova = (uintptr_t)mem,
		.log = cfg->log,
		.log_arg = cfg->log_arg,
	};
	int rc;

	if (mem == NULL)
		return -EINVAL;
	rc = vq_drv_init(&r->vq, &qc);
	if (rc != 0)
		return rc;
	r->init = true;
	r->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->kick < 0 || r->call < 0)
		return -errno;
	/* We poll: ask the device not to signal used buffers. */
	vq_drv_call_disable(&r->vq);
	return 0;
}

static int
ring_init(struct vs_vdev *d, const struct vs_vdev_config *cfg, unsigned int i)
{
	return ring_setup(d, cfg, &d->ring[i], d->ring_size, cfg->indirect_max, cfg->ring_mem[i]);
}

static int
ring_start_at(struct vs_vdev *d, struct vs_vdev_ring *r, unsigned int i, unsigned int size)
{
	const uint32_t base = vs_vdev_has(d, VQ_F_RING_PACKED) ? PACKED_BASE_START : 0;
	struct vh_vring_addr a = {0};
	int rc;

	vq_drv_ring_addrs(&r->vq, &a.desc_user_addr, &a.avail_user_addr, &a.used_user_addr);
	if ((rc = vh_backend_set_vring_num(d->b, i, size)) != 0 ||
	    (rc = vh_backend_set_vring_base(d->b, i, base)) != 0 ||
	    (rc = vh_backend_set_vring_addr(d->b, i, &a)) != 0 ||
	    (rc = vh_backend_set_vring_kick(d->b, i, r->kick)) != 0 ||
	    (rc = vh_backend_set_vring_call(d->b, i, r->call)) != 0)
		return rc;
	/* Kernel vhost-net has no ring enable: the tap backend starts the ring. */
	if (is_kind(d, VH_BACKEND_KERN_NET))
		return 0;
	return vh_backend_set_vring_enable(d->b, i, 1);
}

static int
ring_start(struct vs_vdev *d, unsigned int i)
{
	return ring_start_at(d, &d->ring[i], i, d->ring_size);
}

/* The control queue: its ring, then the command buffer after it. */
static int
ctrl_start(struct vs_vdev *d, const struct vs_vdev_config *cfg)
{
	int rc = ring_setup(d, cfg, &d->ctrl, CTRL_RING, 0, cfg->ctrl_mem);

	if (rc != 0)
		return rc;
	d->ctrl_buf = (uint8_t *)cfg->ctrl_mem + vs_vdev_ring_mem_size(CTRL_RING, 0);
	return ring_start_at(d, &d->ctrl, d->ctrl_idx, CTRL_RING);
}

int
vs_vdev_ctrl(struct vs_vdev *d, uint8_t cls, uint8_t cmd, const void *data, uint16_t len,
	     unsigned int timeout_ms)
{
	uint8_t *hdr = d->ctrl_buf, *ack = d->ctrl_buf + CTRL_BUF - 1;
	struct vq_drv_seg seg[2] = {
		{(uintptr_t)hdr, 2u + len, 0, 0},
		{(uintptr_t)ack, 1, VQ_DESC_F_WRITE, 0},
	};
	struct vq_drv_chain ch = {hdr, seg, 2};
	void *cookie;
	uint32_t used;

	if (!d->ctrl.init || d->ctrl_buf == NULL)
		return -ENOTSUP;
	if (len > 16 || (len && data == NULL))
		return -EINVAL;
	hdr[0] = cls;
	hdr[1] = cmd;
	if (len)
		memcpy(hdr + 2, data, len);
	*ack = 0xff;
	if (vq_drv_post(&d->ctrl.vq, &ch, 1) != 1)
		return vq_drv_error(&d->ctrl.vq) ? vq_drv_error(&d->ctrl.vq) : -EBUSY;
	vs_vdev_kick(&d->ctrl);
	for (unsigned int ms = 0;; ms++) {
		struct timespec ts = {0, 1000 * 1000};

		if (vq_drv_reap(&d->ctrl.vq, &cookie, &used, 1) == 1)
			break;
		if (vq_drv_error(&d->ctrl.vq))
			return vq_drv_error(&d->ctrl.vq);
		if (ms >= timeout_ms) {
			/* Still the device's: the ring is reset before it is used again. */
			VDEV_ERR("control command %u/%u: no answer in %u ms", cls, cmd, timeout_ms);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
	/* The ack byte is valid only when the device wrote it (used length 1). */
	if (used < 1 || __atomic_load_n(ack, __ATOMIC_ACQUIRE) != CTRL_ACK_OK)
		return -EIO;
	return 0;
}

/* After DRIVER_OK: receive every frame, the MAC asked for, the pairs in use. */
static int
ctrl_configure(struct vs_vdev *d, const struct vs_vdev_config *cfg)
{
	const uint8_t on = 1;
	int rc;

	if (vs_vdev_has(d, VS_VNET_F_CTRL_RX)) {
		rc = vs_vdev_ctrl(d, CTRL_RX, CTRL_RX_PROMISC, &on, 1, CTRL_WAIT_MS);
		if (rc == 0)
			rc = vs_vdev_ctrl(d, CTRL_RX, CTRL_RX_ALLMULTI, &on, 1, CTRL_WAIT_MS);
		d->promisc = rc == 0;
		if (rc != 0)
			VDEV_WARN("the device refused promiscuous mode: %s", strerror(-rc));
	} else {
		VDEV_WARN("the device has no CTRL_RX: it receives frames to its own MAC only");
	}
	if (cfg->set_mac) {
		if (!vs_vdev_has(d, VS_VNET_F_CTRL_MAC_ADDR)) {
			VDEV_WARN("the device cannot be given a MAC (no CTRL_MAC_ADDR)");
			return -ENOTSUP;
		}
		rc = vs_vdev_ctrl(d, CTRL_MAC, CTRL_MAC_ADDR_SET, cfg->mac, 6, CTRL_WAIT_MS);
		if (rc != 0) {
			VDEV_ERR("the device refused its new MAC: %s", strerror(-rc));
			return rc;
		}
		memcpy(d->mac, cfg->mac, 6);
	}
	if (vs_vdev_has(d, VS_VNET_F_MQ) && !is_kind(d, VH_BACKEND_USER)) {
		const uint16_t pairs = (uint16_t)d->pairs;

		rc = vs_vdev_ctrl(d, CTRL_MQ, CTRL_MQ_PAIRS_SET, &pairs, 2, CTRL_WAIT_MS);
		if (rc != 0) {
			VDEV_ERR("the device refused %u queue pairs: %s", pairs, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int
tap_up(const char *ifname)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		rc = -errno;
	else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
			rc = -errno;
	}
	close(s);
	return rc;
}

/* The receive offloads the tap may hand us: those we negotiated (QEMU's tap_set_offload). */
static unsigned int
tap_offloads(const struct vs_vdev *d)
{
	unsigned int f = 0;

	if (vs_vdev_has(d, VS_VNET_F_GUEST_CSUM)) {
		f |= TUN_F_CSUM;
		if (vs_vdev_has(d, VS_VNET_F_GUEST_TSO4))
			f |= TUN_F_TSO4;
		if (vs_vdev_has(d, VS_VNET_F_GUEST_TSO6))
			f |= TUN_F_TSO6;
	}
	return f;
}

/* vhost-net: the tap carries the 12-byte header; it becomes both rings' backend. */
static int
kern_net_attach(struct vs_vdev *d, const struct vs_vdev_config *cfg)
{
	int rc;

	d->tap_fd = vh_kern_tap_open(cfg->tap != NULL ? cfg->tap : "vs-tap%d", vs_vdev_hdr_len(d),
				     d->ifname);
	if (d->tap_fd < 0) {
		rc = d->tap_fd;
		d->tap_fd = -1;
		return rc;
	}
	if (ioctl(d->tap_fd, TUNSETOFFLOAD, tap_offloads(d)) != 0) {
		rc = -errno;
		VDEV_WARN("tap %s: offloads: %s", d->ifname, strerror(-rc));
		return rc;
	}
	rc = tap_up(d->ifname);
	if (rc != 0) {
		VDEV_ERR("tap %s: cannot set it up: %s", d->ifname, strerror(-rc));
		return rc;
	}
	for (unsigned int i = 0; i < 2 * d->pairs && rc == 0; i++)
		rc = vh_kern_net_set_backend(d->b, i, d->tap_fd);
	return rc;
}

int
vs_vdev_start(struct vs_vdev *d, struct vh_backend *b, const struct vs_vdev_config *cfg)
{
	unsigned int dev_pairs;
	int rc;

	memset(d, 0, sizeof(*d));
	d->tap_fd = -1;
	for (unsigned int i = 0; i < VS_VDEV_MAX_RINGS; i++)
		d->ring[i].kick = d->ring[i].call = -1;
	d->ctrl.kick = d->ctrl.call = -1;
	if (b == NULL || cfg == NULL || cfg->pairs == 0 || cfg->pairs > VS_VDEV_MAX_PAIRS ||
	    vs_vdev_ring_mem_size(cfg->ring_size, cfg->indirect_max) == 0 ||
	    (cfg->ring_size & (cfg->ring_size - 1)) != 0 || cfg->nregions == 0 ||
	    cfg->regions == NULL)
		return -EINVAL;
	d->b = b;
	d->ring_size = cfg->ring_size;
	rc = vh_backend_set_owner(b);
	if (rc == 0)
		rc = negotiate(d, cfg);
	if (rc != 0)
		goto fail;
	dev_pairs = is_kind(d, VH_BACKEND_USER) && cfg->device_pairs > 1 ? cfg->device_pairs : 1;
	if (is_kind(d, VH_BACKEND_VDPA) && vs_vdev_has(d, VS_VNET_F_MQ)) {
		uint16_t max = 1;

		if (vh_vdpa_get_config(b, NET_CFG_PAIRS, &max, sizeof(max)) == 0 && max >= 1 &&
		    max <= 0x8000)
			dev_pairs = max;
	}
	if (is_kind(d, VH_BACKEND_VDPA)) {
		uint16_t max = 0;

		/* A smaller ring than asked for, where the device has no room for it. */
		if (vh_vdpa_get_vring_num(b, &max) == 0 && max >= 16) {
			while (d->ring_size > max)
				d->ring_size /= 2;
		}
	}
	d->pairs = cfg->pairs < dev_pairs ? cfg->pairs : dev_pairs;
	/* The control queue follows every pair the device has (5.1.2). */
	d->ctrl_idx = 2 * dev_pairs;
	read_config(d);
	rc = vh_backend_set_mem_table(b, cfg->regions, cfg->nregions);
	if (rc != 0) {
		d->mem_rc = rc;
		goto fail;
	}
	for (unsigned int i = 0; i < 2 * d->pairs && rc == 0; i++) {
		rc = ring_init(d, cfg, i);
		if (rc == 0)
			rc = ring_start(d, i);
	}
	if (rc == 0 && vs_vdev_has(d, VS_VNET_F_CTRL_VQ))
		rc = ctrl_start(d, cfg);
	if (rc == 0 && is_kind(d, VH_BACKEND_KERN_NET))
		rc = kern_net_attach(d, cfg);
	/* Every ring is configured and enabled: now DRIVER_OK (virtio 3.1.1). */
	if (rc == 0 && is_kind(d, VH_BACKEND_VDPA))
		rc = vdpa_add_status(d, VH_VDPA_S_DRIVER_OK);
	else if (rc == 0)
		rc = vh_backend_driver_ok(b);
	if (rc == 0 && vs_vdev_has(d, VS_VNET_F_CTRL_VQ))
		rc = ctrl_configure(d, cfg);
	if (rc != 0)
		goto fail;
	d->started = true;
	return 0;
fail:
	/* The caller logs the failure with its context; the library logged the cause. */
	vs_vdev_stop(d, NULL, NULL);
	return rc;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void
vs_vdev_stop(struct vs_vdev *d, void (*release)(void *cookie, void *arg), void *arg)
{
	if (d->b == NULL)
		return;
	/* First the device lets go of the rings, then the buffers are ours again. */
	if (is_kind(d, VH_BACKEND_KERN_NET)) {
		for (unsigned int i = 0; i < 2 * d->pairs; i++)
			if (d->ring[i].init)
				vh_kern_net_set_backend(d->b, i, -1);
		close_fd(&d->tap_fd);
	}
	if (is_kind(d, VH_BACKEND_VDPA)) {
		vh_vdpa_reset(d->b);
	} else {
		for (unsigned int i = 0; i < 2 * d->pairs; i++) {
			uint32_t base;

			if (d->ring[i].init)
				vh_backend_get_vring_base(d->b, i, &base);
		}
	}
	if (d->ctrl.init) {
		vq_drv_reset(&d->ctrl.vq, NULL, NULL);
		vq_drv_fini(&d->ctrl.vq);
		d->ctrl.init = false;
	}
	close_fd(&d->ctrl.kick);
	close_fd(&d->ctrl.call);
	for (unsigned int i = 0; i < VS_VDEV_MAX_RINGS; i++) {
		struct vs_vdev_ring *r = &d->ring[i];

		if (r->init) {
			vq_drv_reset(&r->vq, release, arg);
			vq_drv_fini(&r->vq);
			r->init = false;
		}
		close_fd(&r->kick);
		close_fd(&r->call);
	}
	d->started = false;
	d->b = NULL;
}

int
vs_vdev_kick(struct vs_vdev_ring *r)
{
	uint64_t one = 1;

	return write(r->kick, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}
