/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user": the device behind lib/vhost's back-end. lib/vhost
 * runs the protocol and the ring state machine; these ops turn its "ring
 * started / stopped / enabled" and "memory changed" events into rings the
 * data path can use, published and withdrawn under RCU (see
 * vs_vhost_user_priv.h). Everything here runs on the control thread, inside
 * vh_user_backend_handle_readable() or vh_user_backend_destroy().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "vhost_guard.h"
#include "vs_vhost_user_priv.h"

#define F(bit) (1ULL << (bit))

uint64_t
vu_offered_features(uint16_t nb_qp)
{
	uint64_t f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_ANY_LAYOUT) | F(VIRTIO_NET_F_MRG_RXBUF) |
		     F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC) |
		     F(VIRTIO_F_RING_PACKED) | F(VIRTIO_F_IN_ORDER) | F(VIRTIO_NET_F_MTU) |
		     F(VIRTIO_NET_F_STATUS) |
		     /* Checksum and TCP segmentation offload, both directions; the
		      * ECN bits only qualify TSO. UFO is left out: Linux no longer
		      * sends it and QEMU masks it for vhost-user peers. */
		     F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
		     F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN) |
		     F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |
		     F(VIRTIO_NET_F_GUEST_ECN) |
		     /*
		      * The control queue never reaches a vhost-user back-end: QEMU's
		      * virtio-net model serves it (older QEMUs show it to the guest
		      * only when the back-end offers the bit, and the guest needs it
		      * to select queue pairs and to announce itself), DPDK's
		      * virtio_user claims it itself and strips the bit. A front-end
		      * that handed us ring 2 * queues would be refused by lib/vhost
		      * (max_rings).
		      */
		     F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_GUEST_ANNOUNCE) |
		     /* Live migration: dirty-page logging of everything the
		      * data path writes (see vu_dirty_write()). */
		     F(VH_VHOST_F_LOG_ALL);

	if (nb_qp > 1)
		f |= F(VIRTIO_NET_F_MQ);
	return f;
}

void *
vu_zalloc(const char *what, size_t size, int socket)
{
#ifdef __SANITIZE_ADDRESS__
	size_t n = RTE_ALIGN_CEIL(size, RTE_CACHE_LINE_SIZE);
	void *p = aligned_alloc(RTE_CACHE_LINE_SIZE, n);

	(void)what;
	(void)socket;
	if (p != NULL)
		memset(p, 0, n);
	return p;
#else
	return rte_zmalloc_socket(what, size, RTE_CACHE_LINE_SIZE, socket);
#endif
}

void
vu_free(void *p)
{
#ifdef __SANITIZE_ADDRESS__
	free(p);
#else
	rte_free(p);
#endif
}

uint32_t vu_ports_can_fault;

static void
vu_set_can_fault(struct vs_vu_port *p, bool can)
{
	if (p->mem_can_fault != can)
		__atomic_fetch_add(&vu_ports_can_fault, can ? 1u : (uint32_t)-1, __ATOMIC_RELAXED);
	p->mem_can_fault = can;
}

/* Waits until no burst can still hold a pointer unpublished before. */
static void
vu_sync(struct vs_vu_port *p)
{
	if (p->base.env.qsbr != NULL)
		rte_rcu_qsbr_synchronize(p->base.env.qsbr, RTE_QSBR_THRID_INVALID);
}

/*
 * A guest TX ring (odd index) the front-end disabled: drained and
 * discarded, not forwarded. Only once it was enabled on this connection:
 * QEMU (vhost_dev_start) and DPDK's virtio_user start every ring and enable
 * it right after, and what a guest queued while the switch was away (a
 * crash restart) must be forwarded then, not discarded in between.
 */
static bool
vu_discards(const struct vs_vu_port *p, unsigned int idx)
{
	return (idx & 1) && !p->enabled[idx] && p->was_enabled[idx];
}

static void
vu_publish(struct vs_vu_port *p, unsigned int idx)
{
	struct vu_ring *r = p->ring[idx];

	if (r == NULL || p->map == NULL)
		return;
	if (p->enabled[idx])
		__atomic_store_n(&p->live[idx], r, __ATOMIC_RELEASE);
	else if (vu_discards(p, idx))
		__atomic_store_n(&p->discard[idx], r, __ATOMIC_RELEASE);
}

/* Takes ring @p idx away from the data path; false if it was not there. */
static bool
vu_withdraw(struct vs_vu_port *p, unsigned int idx)
{
	bool was = p->live[idx] != NULL || p->discard[idx] != NULL;

	__atomic_store_n(&p->live[idx], NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&p->discard[idx], NULL, __ATOMIC_RELEASE);
	return was;
}

static void
vu_unpublish(struct vs_vu_port *p, unsigned int idx)
{
	if (vu_withdraw(p, idx))
		vu_sync(p);
}

void
vu_unpublish_all(struct vs_vu_port *p)
{
	bool any = false;

	for (unsigned int i = 0; i < VU_MAX_RINGS; i++)
		any |= vu_withdraw(p, i);
	if (any)
		vu_sync(p);
}

uint16_t
vu_nb_rxq(const struct vs_vu_port *p)
{
	uint16_t q = 0;

	/* A disabled TX ring counts: it must be polled to be discarded. */
	while (q < p->nb_qp && (p->live[2 * q + 1] != NULL || p->discard[2 * q + 1] != NULL))
		q++;
	return q;
}

uint16_t
vu_nb_txq(const struct vs_vu_port *p)
{
	uint16_t q = 0;

	while (q < p->nb_qp && p->live[2 * q] != NULL)
		q++;
	return q;
}

void
vu_state_update(struct vs_vu_port *p)
{
	uint16_t rxq = vu_nb_rxq(p), txq = vu_nb_txq(p);
	/* Up once the first queue pair carries traffic both ways. */
	enum vs_port_link link = rxq > 0 && txq > 0 ? VS_PORT_LINK_UP : VS_PORT_LINK_DOWN;

	/* Rings stopped for a hand-over are not a change the engine should see. */
	if (p->ho_saved || p->handed_over)
		return;
	if (rxq == p->rep_rxq && txq == p->rep_txq && link == p->rep_link)
		return;
	if (link != p->rep_link)
		VU_LOG(INFO, "%s: link %s (%u rx, %u tx queues)", p->base.name,
		       link == VS_PORT_LINK_UP ? "up" : "down", rxq, txq);
	p->rep_rxq = rxq;
	p->rep_txq = txq;
	p->rep_link = link;
	if (p->base.env.state_changed != NULL)
		p->base.env.state_changed(&p->base, p->base.env.arg);
}

/* lib/virtq's hook when a queue breaks: from the bursting thread, once. */
static void
vu_vq_log(void *arg, int err, const char *msg)
{
	const struct vu_ring *r = arg;

	VU_LOG(ERR, "%s: ring %u broken (%s): %s; the ring stays stopped until the guest resets it",
	       r->port->base.name, r->idx, strerror(-err), msg);
}

/*
 * One call when a ring starts. A switch that died between publishing used
 * entries and calling, or a guest whose ring filled up while the switch
 * was away, leaves a driver waiting for an interrupt that nothing would
 * send: with every receive buffer used, nothing is returned after the
 * restart, so no call decision is ever made. A spurious call costs the
 * driver one look at its ring.
 */
static void
vu_call_once(const struct vu_ring *r)
{
	static const uint64_t one = 1;

	if (r->call_fd >= 0) {
		ssize_t rc = write(r->call_fd, &one, sizeof(one));

		(void)rc;
	}
}

/*
 * lib/virtq's dirty-log hook while a migration runs: marks the pages of
 * guest-physical [gpa, gpa + len) in the front-end's log (bounded by its
 * size, atomic, as the front-end clears bits concurrently). From the
 * bursting thread, before the used index that publishes the write.
 */
static void
vu_dirty_write(void *arg, uint64_t gpa, uint64_t len)
{
	vh_dirty_log_write(arg, gpa, len);
}

/*
 * vhost-user "Migration": with a log, every guest page the data path
 * writes is logged: buffers always; the rings when SET_VRING_ADDR asked
 * for it (VHOST_VRING_F_LOG), a split used ring at its log_guest_addr, a
 * packed ring's used descriptors and device area where they lie.
 */
static void
vu_dirty_config(const struct vh_user_ring *ring, struct vq_dirty_log *d)
{
	memset(d, 0, sizeof(*d));
	if (ring->log == NULL)
		return;
	d->fn = vu_dirty_write;
	d->arg = (void *)(uintptr_t)ring->log;
	d->rings = ring->log_used;
	d->desc_gpa = ring->desc_gpa;
	d->device_gpa = ring->packed ? ring->used_gpa : ring->log_used_gpa;
}

static uint64_t
dev_get_features(void *dev)
{
	return ((struct vs_vu_port *)dev)->offered;
}

static int
dev_set_features(void *dev, uint64_t features)
{
	struct vs_vu_port *p = dev;

	p->features = features;
	return 0;
}

static int
vu_ring_start(struct vs_vu_port *p, const struct vh_user_ring *ring)
{
	const unsigned int idx = ring->idx;
	const struct rte_mempool *mp = p->base.env.mp;
	struct vq_dev_config cfg;
	struct vu_ring *r;
	int rc;

	if (idx >= 2u * p->nb_qp || p->ring[idx] != NULL)
		return -ERANGE;
	if (p->map == NULL)
		return -EINVAL;
	r = vu_zalloc("vu_ring", sizeof(*r), p->base.env.socket_id);
	if (r == NULL)
		return -ENOMEM;
	p->starting = r; /* until it is published: a fault below frees it */
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = ring->size;
	cfg.features = ring->features;
	cfg.desc = ring->desc;
	cfg.driver_area = ring->avail;
	cfg.device_area = ring->used;
	cfg.map = p->map;
	cfg.state.last_avail = ring->base.avail_idx;
	cfg.state.avail_wrap = ring->base.avail_wrap;
	cfg.state.used_idx = ring->base.used_idx;
	cfg.state.used_wrap = ring->base.used_wrap;
	if (!ring->packed) {
		/* A killed instance may have committed returns it did not
		 * publish: publish them first (vs_vhost_user_txn.c). */
		if (p->crash_safe)
			vu_redo_ring(p, ring, &cfg);
		/*
		 * Split: every chain taken is returned within its burst, so at
		 * every stop the used index is where the next available entry
		 * is, and the ring's own used->idx says so too. A front-end
		 * that reconnects to a new back-end without having read the
		 * base (DPDK's virtio_user in server mode sends 0 after our
		 * restart) leaves them apart: resume where the guest's used
		 * index is, as DPDK's vhost library does. Any 16-bit value is
		 * a valid free-running index.
		 */
		uint16_t used = __atomic_load_n(&((const struct vq_used *)ring->used)->idx,
						__ATOMIC_ACQUIRE);

		if (used != ring->base.avail_idx)
			VU_LOG(INFO, "%s: ring %u: base %u but used index %u; resuming at %u",
			       p->base.name, idx, ring->base.avail_idx, used, used);
		cfg.state.last_avail = used;
		cfg.state.used_idx = used;
	}
	cfg.log = vu_vq_log;
	cfg.log_arg = r;
	vu_dirty_config(ring, &cfg.dirty);
	/* INFLIGHT_SHMFD: chains a killed instance took and did not return are
	 * found in the region and taken again first (lib/virtq dev_inflight.c);
	 * a packed ring then starts where the region says, not at the base. */
	cfg.inflight = ring->inflight;
	/* Packed: the same redo, which needs the region (it tells where the
	 * ring stands), before the region's recovery in vq_dev_init(). */
	if (ring->packed && p->crash_safe)
		vu_redo_ring(p, ring, &cfg);
	rc = vq_dev_init(&r->vq, &cfg);
	if (rc != 0) {
		VU_LOG(ERR, "%s: ring %u: cannot set up (size %u, %s): %s", p->base.name, idx,
		       ring->size, ring->packed ? "packed" : "split", strerror(-rc));
		p->starting = NULL;
		vu_free(r);
		return rc;
	}
	if (vq_dev_inflight_resubmitted(&r->vq) || vq_dev_inflight_stale(&r->vq))
		VU_LOG(INFO, "%s: ring %u: %u chains in flight taken again, %u stale marks cleared",
		       p->base.name, idx, vq_dev_inflight_resubmitted(&r->vq),
		       vq_dev_inflight_stale(&r->vq));
	/* We poll: the guest need not kick (2.7.10, 2.8.10). */
	vq_dev_kick_disable(&r->vq);
	r->mp = p->base.env.mp;
	r->stats = idx & 1 ? &p->rx_stats[idx / 2] : &p->tx_stats[idx / 2];
	r->features = ring->features;
	r->room = mp != NULL ? rte_pktmbuf_data_room_size((struct rte_mempool *)mp) -
				       RTE_PKTMBUF_HEADROOM
			     : 0;
	r->hdr_len = ring->features & (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF))
			     ? VU_HDR_LEN_MODERN
			     : VU_HDR_LEN_LEGACY;
	r->mrg_rxbuf = (ring->features & F(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	r->idx = (uint16_t)idx;
	r->packed = ring->packed;
	r->event_idx = ring->event_idx;
	r->polled = ring->kick_fd < 0;
	r->gpa[0] = ring->desc_gpa;
	r->gpa[1] = ring->avail_gpa;
	r->gpa[2] = ring->used_gpa;
	r->call_fd = ring->call_fd;
	r->err_fd = ring->err_fd;
	r->port = p;
	r->used_gpa = ring->used_gpa;
	/* A packed ring is recovered after a crash only from its inflight
	 * region: without one, holding would cost and save nothing. (With
	 * DPDK's virtio_user, packed and in order, holding also stalled the
	 * traffic of app_takeover_under_traffic: not understood yet.) */
	r->hold = p->crash_safe && (!ring->packed || ring->inflight != NULL);
	/* Memory the front-end can pull away (vhost_guard.h): bursts run armed. */
	r->guard = p->mem_can_fault || ring->log != NULL || ring->inflight != NULL;
	p->starting = NULL;
	p->ring[idx] = r;
	p->enabled[idx] = ring->enabled;
	p->was_enabled[idx] |= ring->enabled;
	vu_publish(p, idx);
	vu_call_once(r);
	VU_LOG(DEBUG, "%s: ring %u started (%u entries, %s, %s%s)", p->base.name, idx, ring->size,
	       ring->packed ? "packed" : "split", ring->enabled ? "enabled" : "disabled",
	       ring->log != NULL ? ", logging dirty pages" : "");
	vu_state_update(p);
	return 0;
}

void
vu_ring_start_abandon(struct vs_vu_port *p)
{
	vu_free(p->starting);
	p->starting = NULL;
}

/*
 * A ring start reads and writes guest memory (the used index, the
 * notification flags). Within a request the control thread runs armed
 * already (vu_conn_readable()); a hand-over's resume or import starts
 * rings outside one: armed here then. A fault fails the start (the ring
 * being set up is freed) and wakes the control thread, which closes the
 * connection (vu_memory_fault()).
 */
static int
dev_ring_started(void *dev, const struct vh_user_ring *ring)
{
	struct vh_guard *g = vh_guard_self();
	struct vs_vu_port *p = dev;
	int rc;

	if (g->armed)
		return vu_ring_start(p, ring);
	if (sigsetjmp(g->jb, 0) != 0) {
		vu_ring_start_abandon(p);
		vu_memory_fault(g->fault_owner, g->fault_addr);
		return -EFAULT;
	}
	vh_guard_arm(g);
	rc = vu_ring_start(p, ring);
	vh_guard_disarm(g);
	return rc;
}

static void
dev_ring_stopped(void *dev, unsigned int idx, struct vh_user_ring_base *base)
{
	struct vs_vu_port *p = dev;
	struct vq_dev_state st;
	struct vu_ring *r;

	if (idx >= VU_MAX_RINGS || p->ring[idx] == NULL)
		return;
	r = p->ring[idx];
	vu_unpublish(p, idx);
	/* No burst holds it now: its position is final. */
	vq_dev_get_state(&r->vq, &st);
	base->avail_idx = st.last_avail;
	base->avail_wrap = st.avail_wrap;
	base->used_idx = st.used_idx;
	base->used_wrap = st.used_wrap;
	p->ring[idx] = NULL;
	vu_free(r);
	VU_LOG(DEBUG, "%s: ring %u stopped at %u", p->base.name, idx, st.last_avail);
	vu_state_update(p);
}

static void
dev_ring_enabled(void *dev, unsigned int idx, bool enabled)
{
	struct vs_vu_port *p = dev;

	if (idx >= VU_MAX_RINGS)
		return;
	/* Out of one array, a grace period, into the other: never both at once. */
	vu_unpublish(p, idx);
	p->enabled[idx] = enabled;
	p->was_enabled[idx] |= enabled;
	vu_publish(p, idx);
	vu_state_update(p);
}

static int
dev_mem_changed(void *dev, const struct vh_mem_table *mem)
{
	struct vs_vu_port *p = dev;
	struct vq_memmap *map = NULL, *old = p->map;
	bool started = false;
	int rc;

	if (mem != NULL) {
		if (mem->nregions > VQ_MEMMAP_MAX_REGIONS) {
			VU_LOG(ERR, "%s: %u memory regions, at most %d supported", p->base.name,
			       mem->nregions, VQ_MEMMAP_MAX_REGIONS);
			return -E2BIG;
		}
		map = vu_zalloc("vu_memmap", sizeof(*map), p->base.env.socket_id);
		if (map == NULL)
			return -ENOMEM;
		vq_memmap_init(map);
		for (uint32_t i = 0; i < mem->nregions; i++) {
			const struct vh_mem_mapping *m = &mem->regions[i];

			rc = vq_memmap_add(map, m->guest_phys_addr, m->size, m->host);
			if (rc != 0) {
				VU_LOG(ERR, "%s: memory region %u unusable: %s", p->base.name, i,
				       strerror(-rc));
				vu_free(map);
				return rc;
			}
		}
	}
	for (unsigned int i = 0; i < VU_MAX_RINGS; i++)
		started |= p->ring[i] != NULL;
	/* Rings lib/vhost left running (a region was added) move to the new map
	 * while no burst uses them. */
	if (started) {
		vu_unpublish_all(p);
		if (map != NULL)
			for (unsigned int i = 0; i < VU_MAX_RINGS; i++)
				if (p->ring[i] != NULL)
					vq_dev_set_memmap(&p->ring[i]->vq, map);
	}
	p->map = map;
	vu_set_can_fault(p, false);
	for (uint32_t i = 0; mem != NULL && i < mem->nregions; i++)
		if (!mem->regions[i].sigbus_proof)
			vu_set_can_fault(p, true);
	if (mem != NULL)
		VU_LOG(INFO, "%s: guest memory %s", p->base.name,
		       p->mem_can_fault ? "can be pulled away by the front-end: bursts run guarded "
					  "against SIGBUS"
					: "sealed against shrinking (SIGBUS-proof)");
	for (unsigned int i = 0; i < VU_MAX_RINGS; i++) {
		/* Rings left running move to the new map: they take its guard need. */
		if (p->ring[i] != NULL && map != NULL)
			p->ring[i]->guard |= p->mem_can_fault;
		vu_publish(p, i);
	}
	/* No ring refers to the old map any more, and no burst does. */
	vu_free(old);
	vu_state_update(p);
	return 0;
}

static void
dev_reset(void *dev)
{
	struct vs_vu_port *p = dev;

	p->features = 0;
	memset(p->was_enabled, 0, sizeof(p->was_enabled));
}

/* A RARP frame announcing @p mac (as QEMU's announce_self and DPDK build it). */
static void
vu_build_rarp(struct rte_mbuf *m, const uint8_t mac[6])
{
	static const uint8_t arp[8] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03};
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

	memset(f, 0, VU_RARP_LEN);
	memset(f, 0xff, 6);    /* to everyone */
	memcpy(f + 6, mac, 6); /* from the guest */
	f[12] = 0x80;	       /* EtherType RARP, 0x8035 */
	f[13] = 0x35;
	memcpy(f + 14, arp, sizeof(arp)); /* Ethernet, IPv4, 6, 4, reverse request */
	memcpy(f + 22, mac, 6);		  /* sender hardware address; IPv4 0 */
	memcpy(f + 32, mac, 6);		  /* target hardware address; IPv4 0 */
	m->data_len = VU_RARP_LEN;
	m->pkt_len = VU_RARP_LEN;
}

/*
 * vhost-user SEND_RARP: after a migration QEMU asks the back-end to
 * announce the guest (one that did not negotiate GUEST_ANNOUNCE), so that
 * the switch and the network beyond it learn where it is now. The frame
 * enters the switch as if the guest had sent it: queue 0's next rx_burst
 * hands it over, the switch learns the MAC on this port and floods it.
 */
static int
dev_send_rarp(void *dev, const uint8_t mac[6])
{
	struct vs_vu_port *p = dev;
	struct rte_mbuf *m, *old;

	if ((mac[0] & 1) != 0 || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0) {
		VU_LOG(WARNING,
		       "%s: SEND_RARP for %02x:%02x:%02x:%02x:%02x:%02x refused: "
		       "not a station address",
		       p->base.name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return -EINVAL;
	}
	m = rte_pktmbuf_alloc(p->base.env.mp);
	if (m == NULL) {
		VU_LOG(WARNING, "%s: no mbuf for the RARP of SEND_RARP", p->base.name);
		return -ENOMEM;
	}
	vu_build_rarp(m, mac);
	/* One pending frame at most: a newer announcement replaces an old one. */
	old = __atomic_exchange_n(&p->inject, m, __ATOMIC_RELEASE);
	rte_pktmbuf_free(old);
	VU_LOG(INFO, "%s: RARP for %02x:%02x:%02x:%02x:%02x:%02x sent into the switch",
	       p->base.name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return 0;
}

int
vu_inject_rarp(struct vs_vu_port *p, const uint8_t mac[6])
{
	return dev_send_rarp(p, mac);
}

void
vu_inject_drop(struct vs_vu_port *p)
{
	rte_pktmbuf_free(__atomic_exchange_n(&p->inject, NULL, __ATOMIC_ACQUIRE));
	rte_pktmbuf_free(p->inject_held);
	p->inject_held = NULL;
}

static int
dev_set_mtu(void *dev, uint16_t mtu)
{
	struct vs_vu_port *p = dev;

	p->mtu = mtu;
	VU_LOG(INFO, "%s: the front-end set MTU %u", p->base.name, mtu);
	return 0;
}

void
vu_device_release(struct vs_vu_port *p)
{
	/* lib/vhost stopped every ring and withdrew memory; anything left is
	 * from a refused ring start or an early failure. */
	vu_unpublish_all(p);
	for (unsigned int i = 0; i < VU_MAX_RINGS; i++) {
		vu_free(p->ring[i]);
		p->ring[i] = NULL;
		p->enabled[i] = false;
		p->was_enabled[i] = false;
	}
	vu_free(p->map);
	p->map = NULL;
	vu_set_can_fault(p, false);
	p->features = 0;
	vu_state_update(p);
}

const struct vh_user_device_ops vu_device_ops = {
	.get_features = dev_get_features,
	.set_features = dev_set_features,
	.ring_started = dev_ring_started,
	.ring_stopped = dev_ring_stopped,
	.ring_enabled = dev_ring_enabled,
	.mem_changed = dev_mem_changed,
	.reset = dev_reset,
	.set_mtu = dev_set_mtu,
	.send_rarp = dev_send_rarp,
};
