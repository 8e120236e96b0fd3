/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port types where the switch is the virtio driver of an uplink device,
 * driven through lib/vhost's backend interface (vs_virtio_dev.h):
 *
 *   vhost-user-frontend,path=PATH[,COMMON]       another vhost-user back-end
 *   vhost-net,tap=IFNAME[,dev=NODE][,COMMON]     kernel vhost-net and a tap
 *   vdpa,dev=/dev/vhost-vdpa-N[,COMMON]          a vDPA device
 *
 *   COMMON: queues=N (pairs, 1..8; more than one over vhost-user only),
 *   ring=N (64..32768, a power of two), mtu=N, packed=0|1, mrg_rxbuf=0|1,
 *   event_idx=0|1, indirect=0|1, in_order=0|1, offloads=0|1 (checksum and
 *   TSO both ways), copy=0|1 (force the copy mode of vs_virtio_priv.h).
 *
 * The control thread connects, brings the device up, and publishes the
 * queues to the workers; it takes them back (unpublish, wait for every
 * worker to pass a quiescent state, then stop the device and free what
 * was in flight) when the back-end goes away or a ring broke. A
 * vhost-user back-end that goes away is reconnected with back-off on the
 * event loop's timers, and everything is negotiated again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_rcu_qsbr.h>

#include "vhost_kern.h"
#include "vhost_user_frontend.h"
#include "vhost_vdpa.h"
#include "vs_evloop.h"
#include "vs_virtio_priv.h"

RTE_LOG_REGISTER(vs_virtio_logtype, vswitch.virtio, INFO);
#define VIO_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, vs_virtio_logtype, "virtio: " fmt "\n", ##__VA_ARGS__)

/* The libc-only core (vs_virtio_dev.c) logs through this type. */
RTE_LOG_REGISTER(vs_virtio_core_logtype, vswitch.virtio_core, INFO);

/* The core's levels are syslog's; rte_log's are one more (RTE_LOG_ERR == LOG_ERR + 1). */
static void
core_log(int level, const char *line)
{
	rte_log((uint32_t)level + 1, vs_virtio_core_logtype, "virtio: %s\n", line);
}

RTE_INIT(vs_virtio_core_log_init)
{
	vs_vdev_set_log(core_log);
}

#define HDR_LEN		     ((uint32_t)sizeof(struct vs_vnet_hdr))
#define VIO_DEFAULT_RING     256
#define VIO_RECONNECT_MIN_MS 50
#define VIO_RECONNECT_MAX_MS 2000
#define VIO_MSG_TIMEOUT_MS   3000
/* Ethernet header and two VLAN tags on top of the MTU. */
#define VIO_L2_OVERHEAD (RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN)
/* The largest GSO frame a device may hand over (virtio 1.2, 5.1.6.3.1). */
#define VIO_GSO_MAX 65550u

static const char *const kind_name[] = {
	[VIO_USER] = "vhost-user-frontend",
	[VIO_KERN] = "vhost-net",
	[VIO_VDPA] = "vdpa",
};

static inline struct vio_port *
to_vio(struct vs_port *port)
{
	return (struct vio_port *)port;
}

static void
notify(struct vio_port *p)
{
	if (p->base.env.state_changed != NULL)
		p->base.env.state_changed(&p->base, p->base.env.arg);
}

/* lib/virtq's broken-ring report, on a worker: log it, wake the control thread. */
static void
vq_broken(void *arg, int err, const char *msg)
{
	struct vio_port *p = arg;
	uint64_t one = 1;
	ssize_t rc;

	VIO_LOG(ERR, "%s: ring broken (%s): %s", p->base.name, strerror(-err), msg);
	rc = write(p->broken_fd, &one, sizeof(one));
	(void)rc;
}

static uint32_t
max_frame(const struct vio_port *p)
{
	return p->mtu + VIO_L2_OVERHEAD;
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

static size_t
hdr_area(const struct vio_port *p)
{
	return RTE_ALIGN_CEIL((size_t)p->ring_size * HDR_LEN, RTE_CACHE_LINE_SIZE);
}

/* Zero-copy: every ring, then every transmit queue's header slots, in hugepage memory. */
static int
alloc_rings(struct vio_port *p, int socket, char *err, size_t errlen)
{
	static unsigned int seq;
	size_t per_q = (size_t)p->ring_size;
	char name[RTE_MEMZONE_NAMESIZE];
	size_t len;

	p->ring_mem = RTE_ALIGN_CEIL(vs_vdev_ring_mem_size(p->ring_size, VIO_INDIRECT_MAX), 4096);
	p->ctrl_mem = RTE_ALIGN_CEIL(vs_vdev_ctrl_mem_size(), 4096);
	len = 2 * p->queues * p->ring_mem + p->queues * hdr_area(p) + p->ctrl_mem;
	snprintf(name, sizeof(name), "vs_virtio_%u", seq++);
	p->mz = rte_memzone_reserve_aligned(name, len, socket, 0, 4096);
	p->slots = rte_zmalloc_socket("vs_virtio_slots", sizeof(*p->slots) * per_q * p->queues,
				      RTE_CACHE_LINE_SIZE, socket);
	p->free_slot =
		rte_zmalloc_socket("vs_virtio_free", sizeof(*p->free_slot) * per_q * p->queues,
				   RTE_CACHE_LINE_SIZE, socket);
	if (p->mz == NULL || p->slots == NULL || p->free_slot == NULL) {
		snprintf(err, errlen, "out of memory for %zu bytes of rings", len);
		return -ENOMEM;
	}
	return 0;
}

static size_t
copy_area_len(const struct vio_port *p)
{
	return 2 * p->queues * p->ring_mem +
	       (size_t)p->queues * p->ring_size * (p->rx_buf_size + p->tx_buf_size) + p->ctrl_mem;
}

/* The control queue's memory: after the header slots, or last in the copy area. */
static void *
ctrl_mem(const struct vio_port *p, bool copy)
{
	if (copy)
		return p->copy_area + copy_area_len(p) - p->ctrl_mem;
	return (uint8_t *)p->mz->addr + 2 * p->queues * p->ring_mem + p->queues * hdr_area(p);
}

/*
 * Copy mode: rings and fixed buffers in a shared memfd of our own, which
 * every kind of device can map (vhost-user gets its fd).
 */
static int
alloc_copy_area(struct vio_port *p)
{
	size_t len;
	void *m;

	if (p->copy_area != NULL)
		return 0;
	/* Buffers hold a whole frame (no TSO in this mode) with its header. */
	p->rx_buf_size = RTE_ALIGN_CEIL(max_frame(p) + HDR_LEN, RTE_CACHE_LINE_SIZE);
	p->tx_buf_size = p->rx_buf_size;
	len = copy_area_len(p);
	p->copy_fd = memfd_create("vs-virtio", MFD_CLOEXEC);
	if (p->copy_fd < 0)
		return -errno;
	if (ftruncate(p->copy_fd, (off_t)len) != 0) {
		int rc = -errno;

		close(p->copy_fd);
		p->copy_fd = -1;
		return rc;
	}
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, p->copy_fd, 0);
	if (m == MAP_FAILED) {
		int rc = -errno;

		close(p->copy_fd);
		p->copy_fd = -1;
		return rc;
	}
	p->copy_area = m;
	p->copy_len = len;
	return 0;
}

static unsigned int
max_regions(const struct vio_port *p)
{
	if (p->kind == VIO_USER)
		return (unsigned int)RTE_MIN(vh_user_frontend_max_mem_slots(p->fe),
					     (uint64_t)VS_VMEM_MAX);
	return VS_VMEM_MAX;
}

/*
 * The memory table of this bring-up, and whether it is zero-copy: DPDK's
 * memory holding the rings and the whole mbuf pool when the device can be
 * given it, else our copy area. Returns 0 or a negative errno.
 */
static int
choose_memory(struct vio_port *p, bool force_copy, bool *copy)
{
	struct vs_vmem_range need[VS_VMEM_MAX];
	unsigned int n = 0;
	const char *why = NULL;
	int rc;

	need[n++] = (struct vs_vmem_range){(uintptr_t)p->mz->addr, p->mz->len};
	if (p->force_copy)
		why = "copy=1";
	else if (force_copy)
		why = "zero-copy was refused";
	else if (vs_vmem_mempool_ranges(p->base.env.mp, need, &n, RTE_DIM(need)) != 0)
		why = "the mbuf pool is in too many pieces";
	else if ((rc = vs_vmem_from_dpdk(&p->vmem, p->kind == VIO_USER, need, n)) != 0)
		why = "DPDK's memory is in too many pieces";
	else if (!vs_vmem_covers(&p->vmem, need[0].addr, need[0].len) ||
		 !vs_vmem_covers_mempool(&p->vmem, p->base.env.mp))
		why = p->kind == VIO_USER ? "DPDK's memory has no fd to share (use "
					    "--single-file-segments or --no-huge with it)"
					  : "DPDK's memory cannot be described";
	else if (p->vmem.n > max_regions(p))
		why = "the device takes fewer memory regions than DPDK's memory is in";
	*copy = why != NULL;
	if (!*copy)
		return 0;
	VIO_LOG(INFO, "%s: copy mode: %s", p->base.name, why);
	rc = alloc_copy_area(p);
	if (rc != 0) {
		VIO_LOG(ERR, "%s: no memory for copy mode: %s", p->base.name, strerror(-rc));
		return rc;
	}
	p->vmem.n = 1;
	p->vmem.r[0] = (struct vh_mem_region){
		.guest_phys_addr = (uintptr_t)p->copy_area,
		.memory_size = p->copy_len,
		.userspace_addr = (uintptr_t)p->copy_area,
		.mmap_offset = 0,
		.fd = p->copy_fd,
	};
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Bring-up and tear-down                                                   */
/* ------------------------------------------------------------------------ */

/*
 * vDPA pins what it maps, counted against RLIMIT_MEMLOCK (Linux
 * vhost_vdpa_pa_map()): raise the limit to cover the table where we may,
 * else say what is missing instead of the kernel's bare EFAULT.
 */
static int
vdpa_memlock(const struct vio_port *p)
{
	struct rlimit rl;
	rlim_t need = 0;

	for (unsigned int i = 0; i < p->vmem.n; i++)
		need += p->vmem.r[i].memory_size;
	/* What this process pinned already (other vDPA ports) is not known here: leave room. */
	need = need * 2 + (64u << 20);
	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		rl.rlim_max = need; /* needs CAP_SYS_RESOURCE */
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0) {
		int rc = -errno;

		VIO_LOG(ERR,
			"%s: a vDPA device pins the %llu MiB it maps, over RLIMIT_MEMLOCK; "
			"raise it (ulimit -l): %s",
			p->base.name, (unsigned long long)(need >> 20), strerror(-rc));
		return rc;
	}
	return 0;
}

static void
setup_rxq(struct vio_port *p, unsigned int i)
{
	struct vio_rxq *q = &p->rxq[i];
	const bool ind = vs_vdev_has(&p->dev, VQ_F_INDIRECT_DESC);
	uint32_t frame = max_frame(p);

	if (vs_vdev_has(&p->dev, VS_VNET_F_GUEST_TSO4) ||
	    vs_vdev_has(&p->dev, VS_VNET_F_GUEST_TSO6))
		frame = VIO_GSO_MAX;
	q->ring = &p->dev.ring[2 * i];
	q->vq = &q->ring->vq;
	q->mp = p->base.env.mp;
	q->mrg = vs_vdev_has(&p->dev, VS_VNET_F_MRG_RXBUF);
	q->copy = p->copy;
	q->port_id = p->base.id;
	q->head = q->tail = NULL;
	q->left = 0;
	q->bad = false;
	if (p->copy) {
		q->bufs = p->copy_area + 2 * p->queues * p->ring_mem +
			  (size_t)i * p->ring_size * p->rx_buf_size;
		q->buf_size = p->rx_buf_size;
		q->chain = 1;
	} else {
		q->buf_cap = rte_pktmbuf_data_room_size(q->mp) - RTE_PKTMBUF_HEADROOM + HDR_LEN;
		q->chain = q->mrg ? 1 : (uint16_t)((frame + HDR_LEN + q->buf_cap - 1) / q->buf_cap);
		/*
		 * Packed rings get one mbuf per receive buffer: DPDK's vhost
		 * (22.11 and later) fills four packed descriptors at a time
		 * without looking at NEXT or INDIRECT, so a longer chain
		 * would be written as if it were its first element.
		 */
		if (q->chain > 1 && vs_vdev_has(&p->dev, VQ_F_RING_PACKED)) {
			VIO_LOG(WARNING,
				"%s: packed ring without MRG_RXBUF: frames over %u bytes are "
				"not received",
				p->base.name, q->buf_cap - HDR_LEN);
			q->chain = 1;
		}
	}
	q->chain_desc = q->chain > 1 && ind && q->chain <= VIO_INDIRECT_MAX ? 1 : q->chain;
	/* A 64 KiB packet in the smallest buffers, with room to spare. */
	q->max_bufs = q->mrg ? 64 : 1;
	q->refill_min =
		(uint16_t)RTE_MIN((unsigned int)VIO_BURST, p->ring_size / q->chain_desc / 4u);
	if (q->refill_min == 0)
		q->refill_min = 1;
}

static void
setup_txq(struct vio_port *p, unsigned int i)
{
	struct vio_txq *q = &p->txq[i];

	q->ring = &p->dev.ring[2 * i + 1];
	q->vq = &q->ring->vq;
	q->mp = p->base.env.mp;
	q->copy = p->copy;
	q->csum = vs_vdev_has(&p->dev, VS_VNET_F_CSUM);
	q->tso = q->csum && vs_vdev_has(&p->dev, VS_VNET_F_HOST_TSO4) &&
		 vs_vdev_has(&p->dev, VS_VNET_F_HOST_TSO6);
	q->reap_below = (uint16_t)(p->ring_size / 2);
	q->vmem = &p->vmem;
	q->hdrs = (struct vs_vnet_hdr *)((uint8_t *)p->mz->addr + 2 * p->queues * p->ring_mem +
					 i * hdr_area(p));
	q->slots = p->slots + (size_t)i * p->ring_size;
	q->free_slot = p->free_slot + (size_t)i * p->ring_size;
	for (unsigned int s = 0; s < p->ring_size; s++)
		q->free_slot[s] = (uint16_t)(p->ring_size - 1 - s);
	q->nfree = p->ring_size;
	if (p->copy) {
		q->bufs = p->copy_area + 2 * p->queues * p->ring_mem +
			  (size_t)p->queues * p->ring_size * p->rx_buf_size +
			  (size_t)i * p->ring_size * p->tx_buf_size;
		q->buf_size = p->tx_buf_size;
	}
}

static void close_device(struct vio_port *p);
static int open_device(struct vio_port *p);

/* Brings the device up; @p force_copy: in copy mode whatever DPDK's memory is. */
static int
bring_up_mode(struct vio_port *p, bool force_copy)
{
	struct vs_vdev_config cfg = {
		.pairs = p->queues,
		.device_pairs =
			p->kind == VIO_USER ? (unsigned int)vh_user_frontend_queue_num(p->fe) : 1,
		.ring_size = p->ring_size,
		.indirect_max = VIO_INDIRECT_MAX,
		.want = p->want,
		.tap = p->tap[0] != '\0' ? p->tap : NULL,
		.log = vq_broken,
		.log_arg = p,
	};
	uint8_t *rings;
	bool copy;
	int rc;

	rc = choose_memory(p, force_copy, &copy);
	if (rc == 0 && p->kind == VIO_VDPA)
		rc = vdpa_memlock(p);
	if (rc != 0)
		return rc;
	if (copy)
		cfg.want &= ~((1ULL << VS_VNET_F_HOST_TSO4) | (1ULL << VS_VNET_F_HOST_TSO6) |
			      (1ULL << VS_VNET_F_GUEST_TSO4) | (1ULL << VS_VNET_F_GUEST_TSO6));
	rings = copy ? p->copy_area : p->mz->addr;
	for (unsigned int i = 0; i < 2u * p->queues; i++)
		cfg.ring_mem[i] = rings + i * p->ring_mem;
	/* vDPA devices have a control queue: promiscuous mode, a MAC, several pairs. */
	if (p->kind == VIO_VDPA)
		cfg.ctrl_mem = ctrl_mem(p, copy);
	memcpy(cfg.mac, p->mac, sizeof(cfg.mac));
	cfg.set_mac = p->set_mac;
	cfg.regions = p->vmem.r;
	cfg.nregions = p->vmem.n;
	for (unsigned int i = 0; i < p->vmem.n; i++)
		VIO_LOG(DEBUG,
			"%s: region %u: va 0x%" PRIx64 " size 0x%" PRIx64 " fd %d off 0x%" PRIx64,
			p->base.name, i, p->vmem.r[i].userspace_addr, p->vmem.r[i].memory_size,
			p->vmem.r[i].fd, p->vmem.r[i].mmap_offset);
	rc = vs_vdev_start(&p->dev, p->b, &cfg);
	if (rc != 0 && p->dev.mem_rc != 0 && !copy && p->kind != VIO_USER) {
		/*
		 * The device refused to map DPDK's memory (vDPA: more pages than
		 * its IOTLB holds, 2048 by default in Linux's vhost_vdpa, i.e. 8
		 * MiB of 4 KiB pages; use hugepages). Our copy area is small.
		 */
		VIO_LOG(WARNING, "%s: the device refused DPDK's memory (%s); trying copy mode",
			p->base.name, strerror(-rc));
		close_device(p);
		rc = open_device(p);
		if (rc == 0)
			return bring_up_mode(p, true);
	}
	if (rc != 0) {
		VIO_LOG(ERR, "%s: cannot start the %s device at %s: %s", p->base.name,
			kind_name[p->kind], p->path, strerror(-rc));
		return rc;
	}
	p->copy = copy;
	p->nb_q = (uint16_t)p->dev.pairs;
	for (unsigned int i = 0; i < p->nb_q; i++) {
		setup_rxq(p, i);
		setup_txq(p, i);
		vio_rx_fill(&p->rxq[i]);
	}
	/* Release: a worker that sees ready sees the queue set up. */
	for (unsigned int i = 0; i < p->nb_q; i++) {
		__atomic_store_n(&p->rxq[i].ready, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&p->txq[i].ready, 1, __ATOMIC_RELEASE);
	}
	p->up = true;
	p->link = VS_PORT_LINK_UP;
	VIO_LOG(INFO,
		"%s: link up: %s %s, %u queue pair(s) of %u, %s ring, features 0x%" PRIx64
		", %s, %u region(s)",
		p->base.name, kind_name[p->kind], p->dev.tap_fd >= 0 ? p->dev.ifname : p->path,
		p->nb_q, p->queues, vs_vdev_has(&p->dev, VQ_F_RING_PACKED) ? "packed" : "split",
		p->dev.features, copy ? "copy" : "zero-copy", p->vmem.n);
	notify(p);
	return 0;
}

static int
bring_up(struct vio_port *p)
{
	return bring_up_mode(p, false);
}

/* Takes the queues back from the workers, then stops the device. */
static void
tear_down(struct vio_port *p, bool tell)
{
	if (!p->up)
		return;
	for (unsigned int i = 0; i < VS_VDEV_MAX_PAIRS; i++) {
		__atomic_store_n(&p->rxq[i].ready, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&p->txq[i].ready, 0, __ATOMIC_RELEASE);
	}
	p->up = false;
	p->nb_q = 0;
	p->link = VS_PORT_LINK_DOWN;
	/* No burst runs on the rings below once every worker was quiescent. */
	if (p->base.env.qsbr != NULL)
		rte_rcu_qsbr_synchronize(p->base.env.qsbr, RTE_QSBR_THRID_INVALID);
	vs_vdev_stop(&p->dev, p->copy ? NULL : vio_release_cookie, NULL);
	for (unsigned int i = 0; i < VS_VDEV_MAX_PAIRS; i++)
		vio_rx_drop_partial(&p->rxq[i]);
	VIO_LOG(INFO, "%s: link down", p->base.name);
	if (tell)
		notify(p);
}

/* ------------------------------------------------------------------------ */
/* The device's connection: open, reconnect                                 */
/* ------------------------------------------------------------------------ */

static void on_timer(void *arg);

static void
schedule(struct vio_port *p, uint32_t ms)
{
	if (p->base.env.loop == NULL || p->timer > 0)
		return;
	p->timer = vs_evloop_add_timer(p->base.env.loop, ms, on_timer, p);
	if (p->timer < 0) {
		VIO_LOG(ERR, "%s: cannot arm a timer: %s", p->base.name, strerror(-(int)p->timer));
		p->timer = 0;
	}
}

static void
close_device(struct vio_port *p)
{
	/* The fd we watch, not the front-end's: that one is -1 once the connection broke. */
	if (p->watched_fd >= 0) {
		vs_evloop_del_fd(p->base.env.loop, p->watched_fd);
		p->watched_fd = -1;
	}
	vh_backend_destroy(p->b);
	p->b = NULL;
	p->fe = NULL;
}

/* The back-end hung up (or spoke out of turn): take everything down, reconnect later. */
static void
on_frontend_readable(int fd, uint32_t events, void *arg)
{
	struct vio_port *p = arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		VIO_LOG(WARNING, "%s: unexpected message from the back-end at %s; reconnecting",
			p->base.name, p->path);
	else
		VIO_LOG(WARNING, "%s: the back-end at %s went away; reconnecting", p->base.name,
			p->path);
	tear_down(p, true);
	close_device(p);
	p->backoff_ms = VIO_RECONNECT_MIN_MS;
	schedule(p, p->backoff_ms);
}

static int
open_device(struct vio_port *p)
{
	struct vh_user_frontend_config cfg = {
		.timeout_ms = VIO_MSG_TIMEOUT_MS,
		.name = p->base.name,
	};
	int rc;

	switch (p->kind) {
	case VIO_USER:
		/* One attempt: the event loop's timer is the retry. */
		rc = vh_user_frontend_connect(p->path, 0, &cfg, &p->fe);
		if (rc == 0)
			p->b = vh_user_frontend_backend(p->fe);
		return rc;
	case VIO_KERN:
		return vh_kern_net_open(p->path, &p->b);
	case VIO_VDPA:
		return vh_vdpa_open(p->path, &p->b);
	}
	return -EINVAL;
}

/* Opens the device and brings it up; on failure nothing stays open. */
static int
connect_and_bring_up(struct vio_port *p)
{
	int rc = open_device(p);

	if (rc != 0)
		return rc;
	rc = bring_up(p);
	if (rc != 0) {
		close_device(p);
		return rc;
	}
	p->connects++;
	if (p->kind == VIO_USER && p->base.env.loop != NULL) {
		int fd = vh_user_frontend_fd(p->fe);

		rc = vs_evloop_add_fd(p->base.env.loop, fd, EPOLLIN | EPOLLRDHUP,
				      on_frontend_readable, p);
		if (rc != 0) {
			VIO_LOG(ERR, "%s: cannot watch the connection: %s", p->base.name,
				strerror(-rc));
			tear_down(p, true);
			close_device(p);
			return rc;
		}
		p->watched_fd = fd;
	}
	return 0;
}

static void
on_timer(void *arg)
{
	struct vio_port *p = arg;
	int rc;

	p->timer = 0;
	if (!p->started || p->up)
		return;
	rc = connect_and_bring_up(p);
	if (rc == 0) {
		p->backoff_ms = VIO_RECONNECT_MIN_MS;
		return;
	}
	VIO_LOG(DEBUG, "%s: %s not ready: %s; next try in %u ms", p->base.name, p->path,
		strerror(-rc), p->backoff_ms);
	p->backoff_ms = RTE_MIN(p->backoff_ms * 2, (uint32_t)VIO_RECONNECT_MAX_MS);
	schedule(p, p->backoff_ms);
}

/* A worker saw a ring break: start over with a fresh negotiation. */
static void
on_broken(int fd, uint32_t events, void *arg)
{
	struct vio_port *p = arg;
	uint64_t v;

	(void)events;
	while (read(fd, &v, sizeof(v)) > 0)
		;
	if (!p->up)
		return;
	VIO_LOG(WARNING, "%s: restarting the device after a broken ring", p->base.name);
	tear_down(p, true);
	close_device(p);
	p->backoff_ms = VIO_RECONNECT_MIN_MS;
	schedule(p, p->backoff_ms);
}

/* ------------------------------------------------------------------------ */
/* Port operations                                                          */
/* ------------------------------------------------------------------------ */

static int
vio_start(struct vs_port *port)
{
	struct vio_port *p = to_vio(port);
	int rc;

	if (port->env.loop != NULL) {
		rc = vs_evloop_add_fd(port->env.loop, p->broken_fd, EPOLLIN, on_broken, p);
		if (rc != 0)
			return rc;
	}
	p->started = true;
	rc = connect_and_bring_up(p);
	if (rc == 0)
		return 0;
	if (p->kind == VIO_USER && port->env.loop != NULL) {
		/* A client port: the back-end may come later. */
		VIO_LOG(INFO, "%s: back-end at %s not ready (%s); retrying", port->name, p->path,
			strerror(-rc));
		p->backoff_ms = VIO_RECONNECT_MIN_MS;
		schedule(p, p->backoff_ms);
		return 0;
	}
	VIO_LOG(ERR, "%s: cannot start %s %s: %s", port->name, kind_name[p->kind], p->path,
		strerror(-rc));
	if (port->env.loop != NULL)
		vs_evloop_del_fd(port->env.loop, p->broken_fd);
	p->started = false;
	return rc;
}

static void
vio_stop(struct vs_port *port)
{
	struct vio_port *p = to_vio(port);

	if (!p->started)
		return;
	if (p->timer > 0)
		vs_evloop_cancel_timer(port->env.loop, p->timer);
	p->timer = 0;
	if (port->env.loop != NULL)
		vs_evloop_del_fd(port->env.loop, p->broken_fd);
	tear_down(p, false);
	close_device(p);
	p->started = false;
}

static void
vio_info_get(struct vs_port *port, struct vs_port_info *info)
{
	struct vio_port *p = to_vio(port);

	memset(info, 0, sizeof(*info));
	info->type = kind_name[p->kind];
	info->max_queues = p->queues;
	info->nb_rxq = p->up ? p->nb_q : 0;
	info->nb_txq = info->nb_rxq;
	info->link = p->link;
	info->mtu = p->up && p->dev.mtu != 0 ? RTE_MIN(p->mtu, (uint32_t)p->dev.mtu) : p->mtu;
	if (p->up)
		snprintf(info->detail, sizeof(info->detail), "%s%.96s, %s, %s",
			 p->kind == VIO_KERN ? "tap " : "",
			 p->kind == VIO_KERN ? p->dev.ifname : p->path,
			 vs_vdev_has(&p->dev, VQ_F_RING_PACKED) ? "packed" : "split",
			 p->copy ? "copy" : "zero-copy");
	else
		snprintf(info->detail, sizeof(info->detail), "%s%.96s (down)",
			 p->kind == VIO_KERN ? "tap " : "", p->kind == VIO_KERN ? p->tap : p->path);
}

static void
vio_stats_get(struct vs_port *port, struct vs_port_stats *stats)
{
	struct vio_port *p = to_vio(port);

	memset(stats, 0, sizeof(*stats));
	for (unsigned int i = 0; i < p->queues; i++) {
		stats->rx[i] = p->rxq[i].st;
		stats->tx[i] = p->txq[i].st;
	}
}

static void
vio_stats_reset(struct vs_port *port)
{
	struct vio_port *p = to_vio(port);

	for (unsigned int i = 0; i < VS_VDEV_MAX_PAIRS; i++) {
		memset(&p->rxq[i].st, 0, sizeof(p->rxq[i].st));
		memset(&p->txq[i].st, 0, sizeof(p->txq[i].st));
	}
}

static void
vio_destroy(struct vs_port *port)
{
	struct vio_port *p = to_vio(port);

	vio_stop(port);
	if (p->copy_area != NULL)
		munmap(p->copy_area, p->copy_len);
	if (p->copy_fd >= 0)
		close(p->copy_fd);
	if (p->broken_fd >= 0)
		close(p->broken_fd);
	rte_memzone_free(p->mz);
	rte_free(p->slots);
	rte_free(p->free_slot);
	rte_free(p);
}

static const struct vs_port_ops vio_ops = {
	.rx_burst = vio_rx_burst,
	.tx_burst = vio_tx_burst,
	.start = vio_start,
	.stop = vio_stop,
	.info_get = vio_info_get,
	.stats_get = vio_stats_get,
	.stats_reset = vio_stats_reset,
	.destroy = vio_destroy,
};

/* ------------------------------------------------------------------------ */
/* Creation                                                                 */
/* ------------------------------------------------------------------------ */

static int
get_bool(struct vs_port_spec *spec, const char *key, bool def, bool *out, char *err, size_t errlen)
{
	uint64_t v;
	int rc = vs_port_spec_get_uint(spec, key, 0, 1, def, &v, err, errlen);

	*out = v != 0;
	return rc;
}

static int
parse_common(struct vio_port *p, struct vs_port_spec *spec, char *err, size_t errlen)
{
	uint64_t queues, ring, mtu;
	bool packed, mrg, event_idx, indirect, in_order, offloads;

	if (vs_port_spec_get_uint(spec, "queues", 1, VS_VDEV_MAX_PAIRS, 1, &queues, err, errlen) ||
	    vs_port_spec_get_uint(spec, "ring", VIO_RING_MIN, VQ_MAX_SIZE, VIO_DEFAULT_RING, &ring,
				  err, errlen) ||
	    vs_port_spec_get_uint(spec, "mtu", RTE_ETHER_MIN_MTU, VIO_GSO_MAX - VIO_L2_OVERHEAD,
				  RTE_ETHER_MTU, &mtu, err, errlen) ||
	    get_bool(spec, "packed", false, &packed, err, errlen) ||
	    get_bool(spec, "mrg_rxbuf", true, &mrg, err, errlen) ||
	    get_bool(spec, "event_idx", true, &event_idx, err, errlen) ||
	    get_bool(spec, "indirect", true, &indirect, err, errlen) ||
	    get_bool(spec, "in_order", false, &in_order, err, errlen) ||
	    get_bool(spec, "offloads", false, &offloads, err, errlen) ||
	    get_bool(spec, "copy", false, &p->force_copy, err, errlen))
		return -EINVAL;
	if ((ring & (ring - 1)) != 0) {
		snprintf(err, errlen, "key 'ring': %" PRIu64 " is not a power of two", ring);
		return -EINVAL;
	}
	if (queues > 1 && p->kind == VIO_KERN) {
		snprintf(err, errlen, "key 'queues': port type '%s' has one queue pair",
			 kind_name[p->kind]);
		return -EINVAL;
	}
	p->queues = (uint16_t)queues;
	p->ring_size = (uint16_t)ring;
	p->mtu = (uint32_t)mtu;
	p->want = (1ULL << VS_VNET_F_MTU) | (1ULL << VS_VNET_F_MAC);
	if (packed)
		p->want |= VQ_FEATURE(VQ_F_RING_PACKED);
	if (mrg)
		p->want |= 1ULL << VS_VNET_F_MRG_RXBUF;
	if (event_idx)
		p->want |= VQ_FEATURE(VQ_F_EVENT_IDX);
	if (indirect)
		p->want |= VQ_FEATURE(VQ_F_INDIRECT_DESC);
	if (in_order)
		p->want |= VQ_FEATURE(VQ_F_IN_ORDER);
	if (offloads)
		p->want |= VS_VNET_OFFLOADS;
	return 0;
}

static int
parse_kind(struct vio_port *p, struct vs_port_spec *spec, char *err, size_t errlen)
{
	const char *path = NULL, *tap = NULL;

	switch (p->kind) {
	case VIO_USER:
		path = vs_port_spec_get(spec, "path");
		if (path == NULL) {
			snprintf(err, errlen, "port type 'vhost-user-frontend' needs path=PATH");
			return -EINVAL;
		}
		break;
	case VIO_KERN:
		tap = vs_port_spec_get(spec, "tap");
		path = vs_port_spec_get(spec, "dev");
		if (path == NULL)
			path = VH_KERN_NET_PATH;
		if (tap == NULL) {
			snprintf(err, errlen, "port type 'vhost-net' needs tap=IFNAME");
			return -EINVAL;
		}
		if (strlen(tap) >= IFNAMSIZ) {
			snprintf(err, errlen, "key 'tap': '%s' is longer than %d characters", tap,
				 IFNAMSIZ - 1);
			return -EINVAL;
		}
		snprintf(p->tap, sizeof(p->tap), "%s", tap);
		break;
	case VIO_VDPA: {
		const char *mac = vs_port_spec_get(spec, "mac");
		struct rte_ether_addr ea;

		path = vs_port_spec_get(spec, "dev");
		if (path == NULL) {
			snprintf(err, errlen, "port type 'vdpa' needs dev=/dev/vhost-vdpa-N");
			return -EINVAL;
		}
		if (mac != NULL) {
			if (rte_ether_unformat_addr(mac, &ea) != 0 ||
			    !rte_is_unicast_ether_addr(&ea) || rte_is_zero_ether_addr(&ea)) {
				snprintf(err, errlen, "key 'mac': '%s' is not a unicast MAC", mac);
				return -EINVAL;
			}
			memcpy(p->mac, ea.addr_bytes, sizeof(p->mac));
			p->set_mac = true;
		}
		break;
	}
	}
	if (strlen(path) >= sizeof(p->path)) {
		snprintf(err, errlen, "'%s' is longer than %zu characters", path,
			 sizeof(p->path) - 1);
		return -EINVAL;
	}
	snprintf(p->path, sizeof(p->path), "%s", path);
	return 0;
}

static struct vs_port *
vio_create(enum vio_kind kind, const char *name, struct vs_port_spec *spec,
	   const struct vs_port_env *env, char *err, size_t errlen)
{
	struct vio_port *p;

	if (env->mp == NULL) {
		snprintf(err, errlen, "port type '%s' needs an mbuf pool", kind_name[kind]);
		return NULL;
	}
	if (rte_pktmbuf_data_room_size(env->mp) < RTE_PKTMBUF_HEADROOM + RTE_ETHER_MIN_LEN) {
		snprintf(err, errlen, "port type '%s': the mbufs have no room for a frame",
			 kind_name[kind]);
		return NULL;
	}
	p = rte_zmalloc_socket("vs_virtio_port", sizeof(*p), RTE_CACHE_LINE_SIZE, env->socket_id);
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->base.ops = &vio_ops;
	p->base.env = *env;
	snprintf(p->base.name, sizeof(p->base.name), "%s", name);
	p->kind = kind;
	p->copy_fd = -1;
	p->broken_fd = -1;
	p->watched_fd = -1;
	p->link = VS_PORT_LINK_DOWN;
	if (parse_kind(p, spec, err, errlen) != 0 || parse_common(p, spec, err, errlen) != 0)
		goto fail;
	p->broken_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->broken_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (alloc_rings(p, env->socket_id, err, errlen) != 0)
		goto fail;
	VIO_LOG(INFO, "%s: %s %s, %u queue pair(s), ring %u, mtu %u", name, kind_name[kind],
		kind == VIO_KERN ? p->tap : p->path, p->queues, p->ring_size, p->mtu);
	return &p->base;
fail:
	vio_destroy(&p->base);
	return NULL;
}

static struct vs_port *
user_create(const char *name, struct vs_port_spec *spec, const struct vs_port_env *env, char *err,
	    size_t errlen)
{
	return vio_create(VIO_USER, name, spec, env, err, errlen);
}

static struct vs_port *
kern_create(const char *name, struct vs_port_spec *spec, const struct vs_port_env *env, char *err,
	    size_t errlen)
{
	return vio_create(VIO_KERN, name, spec, env, err, errlen);
}

static struct vs_port *
vdpa_create(const char *name, struct vs_port_spec *spec, const struct vs_port_env *env, char *err,
	    size_t errlen)
{
	return vio_create(VIO_VDPA, name, spec, env, err, errlen);
}

#define COMMON_USAGE                                                                               \
	"[,queues=N][,ring=N][,mtu=N][,packed=0|1][,mrg_rxbuf=0|1][,event_idx=0|1]"                \
	"[,indirect=0|1][,in_order=0|1][,offloads=0|1][,copy=0|1]"

static struct vs_port_type user_type = {
	.name = "vhost-user-frontend",
	.usage = "vhost-user-frontend,path=PATH" COMMON_USAGE,
	.create = user_create,
};
VS_PORT_TYPE_REGISTER(user_type)

static struct vs_port_type kern_type = {
	.name = "vhost-net",
	.usage = "vhost-net,tap=IFNAME[,dev=/dev/vhost-net]" COMMON_USAGE,
	.create = kern_create,
};
VS_PORT_TYPE_REGISTER(kern_type)

static struct vs_port_type vdpa_type = {
	.name = "vdpa",
	.usage = "vdpa,dev=/dev/vhost-vdpa-N[,mac=MAC]" COMMON_USAGE,
	.create = vdpa_create,
};
VS_PORT_TYPE_REGISTER(vdpa_type)
