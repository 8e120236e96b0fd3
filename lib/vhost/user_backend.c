/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user back-end of one connection: reads a request, validates it
 * completely, applies the spec's defaults (ring states, enable semantics,
 * GET_VRING_BASE stopping a ring, RESET_DEVICE), calls the device's ops and
 * replies, REPLY_ACK aware. One small handler per request, in request order.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"
#include "vhost_user_backend.h"
#include "vhost_user_conn.h"
#include "vhost_user_handover.h"

/* The ring index of SET_VRING_KICK/CALL/ERR has 8 bits. */
#define MAX_RINGS 256
/* Messages handled per vh_user_backend_handle_readable() call. */
#define MSGS_PER_CALL 64
/* A handler that prepared be->reply. */
#define HANDLED_REPLY 1

#define PF(f)  VH_USER_PF(VH_USER_PROTOCOL_F_##f)
#define F(bit) (1ULL << (bit))

/* What this library implements; the rest is never offered. */
#define LIB_PROTOCOL_FEATURES                                                                      \
	(PF(MQ) | PF(LOG_SHMFD) | PF(RARP) | PF(REPLY_ACK) | PF(NET_MTU) | PF(BACKEND_REQ) |       \
	 PF(CONFIG) | PF(BACKEND_SEND_FD) | PF(HOST_NOTIFIER) | PF(INFLIGHT_SHMFD) |               \
	 PF(RESET_DEVICE) | PF(INBAND_NOTIFICATIONS) | PF(CONFIGURE_MEM_SLOTS) | PF(STATUS))
/* Offered unless the config says otherwise (HOST_NOTIFIER only on request). */
#define DEFAULT_PROTOCOL_FEATURES                                                                  \
	(PF(MQ) | PF(LOG_SHMFD) | PF(RARP) | PF(REPLY_ACK) | PF(NET_MTU) | PF(BACKEND_REQ) |       \
	 PF(CONFIG) | PF(BACKEND_SEND_FD) | PF(INFLIGHT_SHMFD) | PF(RESET_DEVICE) |                \
	 PF(INBAND_NOTIFICATIONS) | PF(CONFIGURE_MEM_SLOTS) | PF(STATUS))

struct vh_vring {
	uint32_t num; /* SET_VRING_NUM, 0 until set */
	bool addr_set;
	struct vh_user_vring_addr addr;
	uint32_t base_raw; /* position in the wire encoding of SET/GET_VRING_BASE */
	int kick_fd;
	int call_fd;
	int err_fd;
	bool kick_set; /* a kick source exists: fd, no-fd polling, or in-band */
	bool enabled;
	bool started;
	bool resume; /* stopped by vh_user_backend_export(): restart on resume */
};

struct vh_user_backend {
	int fd;
	bool connected;
	struct vh_user_backend_config cfg;
	char name[96];
	struct vh_user_rx rx;
	struct vh_user_msg reply;
	uint64_t offered_features;
	uint64_t offered_protocol;
	uint64_t features; /* as acked, with bit 30 */
	bool features_set;
	uint64_t protocol_features;
	uint8_t status;
	bool close_after; /* the spec asks to close after this request */
	struct vh_mem_table *mem;
	struct vh_dirty_log log;
	int log_fd;
	struct vh_inflight inflight;
	int backend_req_fd;
	struct vh_user_rx backend_rx;
	struct vh_vring vrings[];
};

static bool
has_pf(const struct vh_user_backend *be, unsigned int f)
{
	return (be->protocol_features & VH_USER_PF(f)) != 0;
}

static bool
is_packed(const struct vh_user_backend *be)
{
	return (be->features & F(VH_VIRTIO_F_RING_PACKED)) != 0;
}

static bool
logging(const struct vh_user_backend *be)
{
	return (be->features & F(VH_VHOST_F_LOG_ALL)) != 0 && be->log.bitmap != NULL;
}

/* ---- rings ---- */

static void
decode_base(const struct vh_user_backend *be, uint32_t raw, struct vh_user_ring_base *b)
{
	memset(b, 0, sizeof(*b));
	if (!is_packed(be)) {
		b->avail_idx = (uint16_t)raw;
		return;
	}
	/*
	 * vhost-user: "Vring descriptor indices for packed virtqueues". Older
	 * front-ends (DPDK virtio-user) send only the low 16 bits; the used
	 * position then equals the available one, as the ring was idle.
	 */
	b->avail_idx = raw & 0x7fff;
	b->avail_wrap = (raw >> 15) & 1;
	if ((raw >> 16) == 0) {
		b->used_idx = b->avail_idx;
		b->used_wrap = b->avail_wrap;
	} else {
		b->used_idx = (raw >> 16) & 0x7fff;
		b->used_wrap = (raw >> 31) & 1;
	}
}

static uint32_t
encode_base(const struct vh_user_backend *be, const struct vh_user_ring_base *b)
{
	if (!is_packed(be))
		return b->avail_idx;
	return (uint32_t)(b->avail_idx & 0x7fff) | (uint32_t)b->avail_wrap << 15 |
	       (uint32_t)(b->used_idx & 0x7fff) << 16 | (uint32_t)b->used_wrap << 31;
}

/* Translates one ring area: wholly inside one region and aligned. */
static int
map_area(const struct vh_user_backend *be, unsigned int idx, const char *what, uint64_t uva,
	 uint64_t len, uint64_t align, void **host, uint64_t *gpa)
{
	*host = vh_mem_table_uva_to_host(be->mem, uva, len);
	if (*host == NULL || vh_mem_table_uva_to_gpa(be->mem, uva, len, gpa) != 0) {
		VH_WARN("%s: ring %u: %s at 0x%" PRIx64 " (+%" PRIu64 ") is outside guest memory",
			be->name, idx, what, uva, len);
		return -EFAULT;
	}
	if (((uintptr_t)*host & (align - 1)) != 0) {
		VH_WARN("%s: ring %u: %s at 0x%" PRIx64 " is not %" PRIu64 "-byte aligned",
			be->name, idx, what, uva, align);
		return -EINVAL;
	}
	return 0;
}

/* vhost-user: a split ring's size is a power of two, any ring's at most 32768. */
static int
check_ring_size(const struct vh_user_backend *be, unsigned int idx, uint32_t num, bool packed)
{
	if (num == 0 || num > VH_USER_MAX_RING_SIZE || (!packed && (num & (num - 1)) != 0)) {
		VH_WARN("%s: ring %u: size %u is not valid for a %s ring", be->name, idx, num,
			packed ? "packed" : "split");
		return -EINVAL;
	}
	return 0;
}

/* Everything a data path needs, translated and checked against current memory. */
static int
build_ring(const struct vh_user_backend *be, unsigned int idx, struct vh_user_ring *r)
{
	const struct vh_vring *vr = &be->vrings[idx];
	bool packed = is_packed(be);
	bool ev = (be->features & F(VH_VIRTIO_RING_F_EVENT_IDX)) != 0;
	uint64_t n = vr->num, desc_len = 16 * n, avail_len, used_len;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = check_ring_size(be, idx, vr->num, packed);
	if (rc < 0)
		return rc;
	/* virtio 1.1 2.6 (split) and 2.7 (packed): areas' sizes and alignments. */
	avail_len = packed ? 4 : 4 + 2 * n + (ev ? 2 : 0);
	used_len = packed ? 4 : 4 + 8 * n + (ev ? 2 : 0);
	rc = map_area(be, idx, "descriptors", vr->addr.desc_user_addr, desc_len, 16, &r->desc,
		      &r->desc_gpa);
	if (rc == 0)
		rc = map_area(be, idx, packed ? "driver area" : "available ring",
			      vr->addr.avail_user_addr, avail_len, packed ? 4 : 2, &r->avail,
			      &r->avail_gpa);
	if (rc == 0)
		rc = map_area(be, idx, packed ? "device area" : "used ring",
			      vr->addr.used_user_addr, used_len, 4, &r->used, &r->used_gpa);
	if (rc < 0)
		return rc;
	if (!packed && vr->base_raw > 0xffff) {
		VH_WARN("%s: ring %u: base 0x%x has reserved bits set", be->name, idx,
			vr->base_raw);
		return -EINVAL;
	}
	decode_base(be, vr->base_raw, &r->base);
	if (packed && (r->base.avail_idx >= n || r->base.used_idx >= n)) {
		VH_WARN("%s: ring %u: base 0x%x lies outside a ring of %u", be->name, idx,
			vr->base_raw, vr->num);
		return -EINVAL;
	}
	r->idx = idx;
	r->size = vr->num;
	r->packed = packed;
	r->enabled = vr->enabled;
	r->event_idx = ev;
	r->kick_fd = vr->kick_fd;
	r->call_fd = vr->call_fd;
	r->err_fd = vr->err_fd;
	r->features = be->features & ~F(VH_USER_F_PROTOCOL_FEATURES);
	r->log_used = (vr->addr.flags & 1) != 0;
	r->log_used_gpa = vr->addr.log_guest_addr;
	if (logging(be)) {
		/* vhost-user "Migration": the used ring's last byte must lie in the log. */
		if (r->log_used &&
		    (r->log_used_gpa > UINT64_MAX - used_len ||
		     (r->log_used_gpa + used_len - 1) / VH_LOG_PAGE / 8 >= be->log.size)) {
			VH_WARN("%s: ring %u: used ring log address 0x%" PRIx64
				" lies beyond the log",
				be->name, idx, r->log_used_gpa);
			return -ERANGE;
		}
		r->log = &be->log;
	}
	if (be->inflight.base != NULL && be->inflight.packed == packed &&
	    be->inflight.queue_size >= vr->num)
		r->inflight = vh_inflight_queue(&be->inflight, idx);
	return 0;
}

/*
 * A ring starts once it has a kick, a size, addresses and memory, and the
 * features are set: before SET_FEATURES its layout (split or packed, event
 * index) is unknown and would change under a running ring.
 */
static bool
ring_ready(const struct vh_user_backend *be, const struct vh_vring *vr)
{
	return vr->kick_set && vr->num != 0 && vr->addr_set && be->mem != NULL && be->features_set;
}

static int
ring_start(struct vh_user_backend *be, unsigned int idx)
{
	struct vh_vring *vr = &be->vrings[idx];
	struct vh_user_ring r;
	int rc;

	if (vr->started || !ring_ready(be, vr))
		return 0;
	rc = build_ring(be, idx, &r);
	if (rc == 0)
		rc = be->cfg.ops->ring_started(be->cfg.device, &r);
	if (rc < 0) {
		VH_WARN("%s: ring %u cannot start: %s", be->name, idx, strerror(-rc));
		return rc;
	}
	vr->started = true;
	VH_DEBUG("%s: ring %u started (size %u, %s, %s)", be->name, idx, r.size,
		 r.packed ? "packed" : "split", r.enabled ? "enabled" : "disabled");
	return 0;
}

static void
ring_stop(struct vh_user_backend *be, unsigned int idx)
{
	struct vh_vring *vr = &be->vrings[idx];
	struct vh_user_ring_base b;

	if (!vr->started)
		return;
	decode_base(be, vr->base_raw, &b);
	be->cfg.ops->ring_stopped(be->cfg.device, idx, &b);
	vr->base_raw = encode_base(be, &b);
	vr->started = false;
	VH_DEBUG("%s: ring %u stopped at 0x%x", be->name, idx, vr->base_raw);
}

/*
 * Stops every started ring before a change of what they use; a stopped ring
 * keeps its kick, so rings_start_after_change() starts it again.
 */
static void
rings_stop_for_change(struct vh_user_backend *be)
{
	for (unsigned int i = 0; i < be->cfg.max_rings; i++)
		ring_stop(be, i);
}

/* Starts every ring that is ready: those stopped for a change and new ones. */
static void
rings_start_after_change(struct vh_user_backend *be)
{
	for (unsigned int i = 0; i < be->cfg.max_rings; i++)
		ring_start(be, i);
}

/*
 * Stops ring @p idx until the front-end sends a new kick: without one, no
 * later change (features, memory, log, inflight) starts it again.
 */
static void
ring_stop_until_kick(struct vh_user_backend *be, unsigned int idx)
{
	struct vh_vring *vr = &be->vrings[idx];

	ring_stop(be, idx);
	vh_close_fd(&vr->kick_fd);
	vr->kick_set = false;
}

/* Stops and starts ring @p idx so that the device sees its new description. */
static int
ring_restart(struct vh_user_backend *be, unsigned int idx)
{
	ring_stop(be, idx);
	return ring_start(be, idx);
}

static int
check_ring_index(const struct vh_user_backend *be, uint32_t idx)
{
	if (idx >= be->cfg.max_rings) {
		VH_WARN("%s: ring index %u is beyond the device's %u rings", be->name, idx,
			be->cfg.max_rings);
		return -ERANGE;
	}
	return 0;
}

/* ---- replies ---- */

static void
reply_init(struct vh_user_backend *be, uint32_t size)
{
	vh_user_msg_init(&be->reply, be->rx.msg.hdr.request, size);
	be->reply.hdr.flags = VH_USER_VERSION | VH_USER_REPLY_MASK;
}

static int
reply_u64(struct vh_user_backend *be, uint64_t v)
{
	reply_init(be, sizeof(uint64_t));
	be->reply.payload.u64 = v;
	return HANDLED_REPLY;
}

/* ---- memory ---- */

/*
 * Publishes @p t: stops the started rings when their memory may go away,
 * tells the device, unmaps what the old table had alone, starts rings again.
 */
static int
mem_replace(struct vh_user_backend *be, struct vh_mem_table *t, bool stop_rings)
{
	struct vh_mem_table *old = be->mem;
	int rc;

	if (vh_mem_table_same(old, t)) {
		/* QEMU resends an unchanged table on every start: nothing to do. */
		vh_mem_table_free(t, old, true);
		return 0;
	}
	if (stop_rings)
		rings_stop_for_change(be);
	rc = be->cfg.ops->mem_changed(be->cfg.device, t);
	if (rc < 0) {
		VH_WARN("%s: the device refused the new memory table: %s", be->name, strerror(-rc));
		vh_mem_table_free(t, old, true);
		rings_start_after_change(be);
		return rc;
	}
	be->mem = t;
	vh_mem_table_free(old, t, true);
	VH_INFO("%s: memory table of %u regions", be->name, t != NULL ? t->nregions : 0);
	rings_start_after_change(be);
	return 0;
}

/*
 * Whether @p n more regions fit in the connection's memory budget on top of
 * @p used bytes (sums checked for overflow: sizes come from the front-end).
 */
static int
check_mem_budget(const struct vh_user_backend *be, uint64_t used,
		 const struct vh_user_mem_region *r, uint32_t n)
{
	uint64_t total = used;

	for (uint32_t i = 0; i < n; i++) {
		if (r[i].memory_size > be->cfg.max_mem_bytes - total) {
			VH_WARN("%s: memory regions of more than %" PRIu64
				" bytes in all are refused",
				be->name, be->cfg.max_mem_bytes);
			return -E2BIG;
		}
		total += r[i].memory_size;
	}
	return 0;
}

static uint64_t
mem_bytes(const struct vh_mem_table *t)
{
	uint64_t n = 0;

	for (uint32_t i = 0; t != NULL && i < t->nregions; i++)
		n += t->regions[i].size;
	return n;
}

static void
unmap_all(struct vh_mem_mapping *maps, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		vh_mem_unmap_region(&maps[i]);
}

static int
handle_set_mem_table(struct vh_user_backend *be, struct vh_user_msg *m)
{
	struct vh_mem_mapping maps[VH_USER_MEM_TABLE_MAX_REGIONS];
	uint32_t n = m->payload.memory.nregions;
	struct vh_mem_table *t;
	int rc = check_mem_budget(be, 0, m->payload.memory.regions, n);

	if (rc < 0)
		return rc;
	memset(maps, 0, sizeof(maps));
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		rc = vh_mem_map_region(&m->payload.memory.regions[i], m->fds[i], &maps[i]);
		if (rc < 0)
			unmap_all(maps, i);
	}
	/* The mappings hold the files; the fds are closed with the message. */
	if (rc < 0)
		return rc;
	t = vh_mem_table_build(maps, n);
	if (t == NULL) {
		rc = -errno;
		unmap_all(maps, n);
		return rc;
	}
	return mem_replace(be, t, true);
}

static int
handle_add_mem_reg(struct vh_user_backend *be, struct vh_user_msg *m)
{
	uint32_t n = be->mem != NULL ? be->mem->nregions : 0;
	struct vh_mem_mapping *maps;
	struct vh_mem_table *t;
	int rc;

	if (n >= be->cfg.max_mem_slots) {
		VH_WARN("%s: all %u memory slots are in use", be->name, be->cfg.max_mem_slots);
		return -ENOSPC;
	}
	rc = check_mem_budget(be, mem_bytes(be->mem), &m->payload.mem_reg.region, 1);
	if (rc < 0)
		return rc;
	maps = malloc((n + 1) * sizeof(*maps));
	if (maps == NULL)
		return -ENOMEM;
	if (n > 0)
		memcpy(maps, be->mem->regions, n * sizeof(*maps));
	rc = vh_mem_map_region(&m->payload.mem_reg.region, m->fds[0], &maps[n]);
	if (rc == 0) {
		t = vh_mem_table_build(maps, n + 1);
		if (t == NULL) {
			rc = -errno;
			vh_mem_unmap_region(&maps[n]);
		} else {
			/* Existing mappings stay: running rings need no stop. */
			rc = mem_replace(be, t, false);
		}
	}
	free(maps);
	return rc;
}

static int
handle_rem_mem_reg(struct vh_user_backend *be, struct vh_user_msg *m)
{
	const struct vh_user_mem_region *d = &m->payload.mem_reg.region;
	uint32_t n = be->mem != NULL ? be->mem->nregions : 0, k = 0;
	struct vh_mem_mapping *maps;
	struct vh_mem_table *t;
	bool found = false;
	int rc;

	/* vhost-user: an fd sent along "MUST" be closed unused: the message does it. */
	maps = malloc((n > 0 ? n : 1) * sizeof(*maps));
	if (maps == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct vh_mem_mapping *r = &be->mem->regions[i];

		/* Identified by guest address, user address and size; offset ignored. */
		if (!found && r->guest_phys_addr == d->guest_phys_addr &&
		    r->user_addr == d->userspace_addr && r->size == d->memory_size)
			found = true;
		else
			maps[k++] = *r;
	}
	if (!found) {
		VH_WARN("%s: no memory region at gpa 0x%" PRIx64 " to remove", be->name,
			d->guest_phys_addr);
		free(maps);
		return -ENOENT;
	}
	t = vh_mem_table_build(maps, k);
	free(maps);
	if (t == NULL)
		return -errno;
	rc = mem_replace(be, t, true);
	return rc;
}

/* ---- handlers, in request order ---- */

static int
handle_get_features(struct vh_user_backend *be)
{
	return reply_u64(be, be->offered_features);
}

static void
enable_all_rings(struct vh_user_backend *be)
{
	for (unsigned int i = 0; i < be->cfg.max_rings; i++) {
		struct vh_vring *vr = &be->vrings[i];

		if (vr->enabled)
			continue;
		vr->enabled = true;
		if (vr->started && be->cfg.ops->ring_enabled != NULL)
			be->cfg.ops->ring_enabled(be->cfg.device, i, true);
		else if (vr->started)
			ring_restart(be, i);
	}
}

static bool
any_ring_started(const struct vh_user_backend *be)
{
	for (unsigned int i = 0; i < be->cfg.max_rings; i++)
		if (be->vrings[i].started)
			return true;
	return false;
}

static int
handle_set_features(struct vh_user_backend *be, uint64_t f)
{
	uint64_t changed = f ^ be->features;
	int rc;

	if (f & ~be->offered_features) {
		VH_WARN("%s: features 0x%" PRIx64 " were not offered (offer 0x%" PRIx64 ")",
			be->name, f, be->offered_features);
		return -EINVAL;
	}
	if (be->features_set && any_ring_started(be) && (changed & ~F(VH_VHOST_F_LOG_ALL))) {
		VH_WARN("%s: features changed while rings run", be->name);
		return -EBUSY;
	}
	if (be->cfg.ops->set_features != NULL) {
		rc = be->cfg.ops->set_features(be->cfg.device, f & ~F(VH_USER_F_PROTOCOL_FEATURES));
		if (rc < 0)
			return rc;
	}
	if (changed & F(VH_VHOST_F_LOG_ALL))
		rings_stop_for_change(be);
	be->features = f;
	be->features_set = true;
	VH_INFO("%s: features 0x%" PRIx64, be->name, f);
	rings_start_after_change(be);
	/* vhost-user "Ring states": without protocol features all rings are enabled. */
	if (!(f & F(VH_USER_F_PROTOCOL_FEATURES)))
		enable_all_rings(be);
	return 0;
}

/*
 * The reply to SET_LOG_BASE (vhost-user "Migration", LOG_SHMFD): the spec
 * gives it no payload format. QEMU reads any size and looks only at the
 * request; rust-vmm's front-end reads exactly a log description (16 bytes);
 * DPDK's back-end sends none, libvhost-user 8. So the log description goes
 * back, as rust-vmm's back-end does. The reply has no failure form, and
 * REPLY_ACK changes nothing for a request that has a reply: a failure closes
 * the connection, as DPDK, libvhost-user and rust-vmm back-ends do.
 */
static int
reply_log_base(struct vh_user_backend *be, const struct vh_user_log *log)
{
	reply_init(be, sizeof(*log));
	be->reply.payload.log = *log;
	return HANDLED_REPLY;
}

static int
handle_set_log_base(struct vh_user_backend *be, struct vh_user_msg *m)
{
	struct vh_dirty_log nl, old;
	int rc;

	if (m->hdr.size != sizeof(struct vh_user_log)) {
		VH_WARN("%s: SET_LOG_BASE without a shared-memory log is not supported", be->name);
		return -ENOTSUP;
	}
	rc = vh_dirty_log_map(&nl, m->fds[0], m->payload.log.mmap_size, m->payload.log.mmap_offset);
	if (rc < 0) {
		be->close_after = has_pf(be, VH_USER_PROTOCOL_F_LOG_SHMFD);
		return rc;
	}
	/*
	 * With LOG_ALL on, every started ring uses the old log or, when this
	 * is the first one, none (QEMU sends SET_LOG_BASE after the ring
	 * messages when a device starts during a migration): stop them all
	 * so they start again from their position with the new log, and
	 * none writes into the old one once it is unmapped.
	 */
	if (be->features & F(VH_VHOST_F_LOG_ALL))
		rings_stop_for_change(be);
	old = be->log;
	be->log = nl;
	rings_start_after_change(be);
	vh_dirty_log_unmap(&old);
	if (has_pf(be, VH_USER_PROTOCOL_F_LOG_SHMFD))
		return reply_log_base(be, &m->payload.log);
	return 0;
}

static int
handle_set_log_fd(struct vh_user_backend *be, struct vh_user_msg *m)
{
	vh_close_fd(&be->log_fd);
	be->log_fd = vh_user_msg_take_fd(m, 0);
	return 0;
}

static int
handle_set_vring_num(struct vh_user_backend *be, const struct vh_user_vring_state *s)
{
	int rc = check_ring_index(be, s->index);

	if (rc < 0)
		return rc;
	if (be->vrings[s->index].started)
		return -EBUSY;
	/* Before SET_FEATURES the layout is unknown: check the power of two at start. */
	rc = check_ring_size(be, s->index, s->num, be->features_set ? is_packed(be) : true);
	if (rc < 0)
		return rc;
	be->vrings[s->index].num = s->num;
	return 0;
}

static int
handle_set_vring_addr(struct vh_user_backend *be, const struct vh_user_vring_addr *a)
{
	struct vh_vring *vr;
	struct vh_user_ring r;
	int rc = check_ring_index(be, a->index);

	if (rc < 0)
		return rc;
	if (a->flags & ~1u) {
		VH_WARN("%s: ring %u: unknown address flags 0x%x", be->name, a->index, a->flags);
		return -EINVAL;
	}
	vr = &be->vrings[a->index];
	ring_stop(be, a->index);
	vr->addr = *a;
	vr->addr_set = true;
	/* Check now when possible, so the front-end learns of bad addresses early. */
	if (be->mem != NULL && vr->num != 0) {
		rc = build_ring(be, a->index, &r);
		if (rc < 0) {
			vr->addr_set = false;
			return rc;
		}
	}
	return ring_start(be, a->index);
}

static int
handle_set_vring_base(struct vh_user_backend *be, const struct vh_user_vring_state *s)
{
	int rc = check_ring_index(be, s->index);

	if (rc < 0)
		return rc;
	if (be->vrings[s->index].started)
		return -EBUSY;
	if (be->features_set && !is_packed(be) && s->num > 0xffff) {
		VH_WARN("%s: ring %u: base 0x%x has reserved bits set", be->name, s->index, s->num);
		return -EINVAL;
	}
	be->vrings[s->index].base_raw = s->num;
	return 0;
}

static int
handle_get_vring_base(struct vh_user_backend *be, const struct vh_user_vring_state *s)
{
	struct vh_vring *vr;
	int rc = check_ring_index(be, s->index);

	if (rc < 0)
		return rc;
	vr = &be->vrings[s->index];
	/* vhost-user: GET_VRING_BASE stops the ring; the device has let go on return. */
	ring_stop_until_kick(be, s->index);
	reply_init(be, sizeof(struct vh_user_vring_state));
	be->reply.payload.state.index = s->index;
	be->reply.payload.state.num = vr->base_raw;
	return HANDLED_REPLY;
}

static int
handle_set_vring_fd(struct vh_user_backend *be, struct vh_user_msg *m)
{
	uint32_t idx = (uint32_t)(m->payload.u64 & VH_USER_VRING_IDX_MASK);
	struct vh_vring *vr;
	int *slot, rc = check_ring_index(be, idx);
	bool was_started;

	if (rc < 0)
		return rc;
	vr = &be->vrings[idx];
	slot = m->hdr.request == VH_USER_SET_VRING_KICK	  ? &vr->kick_fd
	       : m->hdr.request == VH_USER_SET_VRING_CALL ? &vr->call_fd
							  : &vr->err_fd;
	/* The data path must have let go of the old fd before it is closed. */
	was_started = vr->started;
	ring_stop(be, idx);
	vh_close_fd(slot);
	*slot = (m->payload.u64 & VH_USER_VRING_NOFD_MASK) ? -1 : vh_user_msg_take_fd(m, 0);
	if (m->hdr.request == VH_USER_SET_VRING_KICK)
		vr->kick_set = true;
	rc = ring_start(be, idx);
	if (rc < 0 && was_started)
		VH_WARN("%s: ring %u stays stopped after its fd changed", be->name, idx);
	return rc;
}

static int
handle_get_protocol_features(struct vh_user_backend *be)
{
	return reply_u64(be, be->offered_protocol);
}

static int
handle_set_protocol_features(struct vh_user_backend *be, uint64_t pf)
{
	const uint64_t inband_needs = PF(BACKEND_REQ) | PF(REPLY_ACK);

	if (pf & ~be->offered_protocol) {
		VH_WARN("%s: protocol features 0x%" PRIx64 " were not offered", be->name, pf);
		return -EINVAL;
	}
	/* vhost-user "In-band notifications": close when the other two are missing. */
	if ((pf & PF(INBAND_NOTIFICATIONS)) && (pf & inband_needs) != inband_needs) {
		VH_WARN("%s: in-band notifications without BACKEND_REQ and REPLY_ACK", be->name);
		be->close_after = true;
		return -EPROTO;
	}
	be->protocol_features = pf;
	if (be->cfg.ops->set_protocol_features != NULL)
		be->cfg.ops->set_protocol_features(be->cfg.device, pf);
	VH_INFO("%s: protocol features 0x%" PRIx64, be->name, pf);
	return 0;
}

static int
handle_set_vring_enable(struct vh_user_backend *be, const struct vh_user_vring_state *s)
{
	struct vh_vring *vr;
	int rc = check_ring_index(be, s->index);

	if (rc < 0)
		return rc;
	if (s->num > 1) {
		VH_WARN("%s: ring %u: enable value %u is not 0 or 1", be->name, s->index, s->num);
		return -EINVAL;
	}
	vr = &be->vrings[s->index];
	if (vr->enabled == (s->num == 1))
		return 0;
	vr->enabled = s->num == 1;
	if (!vr->started)
		return 0;
	if (be->cfg.ops->ring_enabled != NULL) {
		be->cfg.ops->ring_enabled(be->cfg.device, s->index, vr->enabled);
		return 0;
	}
	return ring_restart(be, s->index);
}

static int
handle_send_rarp(struct vh_user_backend *be, const struct vh_user_msg *m)
{
	uint8_t mac[6];

	memcpy(mac, m->payload.raw, sizeof(mac));
	return be->cfg.ops->send_rarp(be->cfg.device, mac);
}

static int
handle_net_set_mtu(struct vh_user_backend *be, uint64_t mtu)
{
	/* virtio-net: the MTU is 68..65535. */
	if (mtu < 68 || mtu > 65535) {
		VH_WARN("%s: MTU %" PRIu64 " is out of range", be->name, mtu);
		return -EINVAL;
	}
	return be->cfg.ops->set_mtu(be->cfg.device, (uint16_t)mtu);
}

static int
handle_set_backend_req_fd(struct vh_user_backend *be, struct vh_user_msg *m)
{
	int fd = vh_user_msg_take_fd(m, 0);
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		close(fd);
		return -EBADF;
	}
	vh_close_fd(&be->backend_req_fd);
	vh_user_rx_reset(&be->backend_rx);
	be->backend_req_fd = fd;
	return 0;
}

static bool
config_range_ok(const struct vh_user_config *c)
{
	return c->offset <= VH_USER_MAX_CONFIG_SIZE &&
	       c->size <= VH_USER_MAX_CONFIG_SIZE - c->offset;
}

static int
handle_get_config(struct vh_user_backend *be, const struct vh_user_msg *m)
{
	const struct vh_user_config *c = &m->payload.config;
	int rc = config_range_ok(c) ? 0 : -EINVAL;

	reply_init(be, m->hdr.size);
	be->reply.payload.config.offset = c->offset;
	be->reply.payload.config.size = c->size;
	be->reply.payload.config.flags = c->flags;
	if (rc == 0)
		rc = be->cfg.ops->get_config(be->cfg.device, c->offset,
					     be->reply.payload.config.region, c->size);
	/* vhost-user GET_CONFIG: an empty payload tells the front-end it failed. */
	if (rc < 0) {
		VH_WARN("%s: GET_CONFIG at %u (+%u) failed", be->name, c->offset, c->size);
		be->reply.hdr.size = 0;
	}
	return HANDLED_REPLY;
}

static int
handle_set_config(struct vh_user_backend *be, const struct vh_user_msg *m)
{
	const struct vh_user_config *c = &m->payload.config;

	if (!config_range_ok(c) || c->flags > 1)
		return -EINVAL;
	if (be->cfg.ops->set_config == NULL)
		return -ENOTSUP;
	return be->cfg.ops->set_config(be->cfg.device, c->offset, c->region, c->size, c->flags);
}

/*
 * Replaces the inflight area. Started rings are stopped around it whether
 * or not an area existed: those using the old one must let go of it, and
 * those started without one (a first SET_INFLIGHT_FD after the ring
 * messages) must start again with theirs.
 */
static void
inflight_replace(struct vh_user_backend *be, struct vh_inflight *ni)
{
	struct vh_inflight old = be->inflight;

	rings_stop_for_change(be);
	be->inflight = *ni;
	rings_start_after_change(be);
	vh_inflight_unmap(&old);
}

static int
check_inflight_counts(struct vh_user_backend *be, const struct vh_user_inflight *in)
{
	if (in->num_queues == 0 || in->num_queues > be->cfg.max_rings || in->queue_size == 0 ||
	    in->queue_size > VH_USER_MAX_RING_SIZE) {
		VH_WARN("%s: inflight area for %u queues of %u is not valid", be->name,
			in->num_queues, in->queue_size);
		return -EINVAL;
	}
	return 0;
}

static int
handle_get_inflight_fd(struct vh_user_backend *be, const struct vh_user_msg *m)
{
	const struct vh_user_inflight *in = &m->payload.inflight;
	struct vh_inflight ni;
	int fd, rc = check_inflight_counts(be, in);

	if (rc == 0)
		rc = vh_inflight_create(&ni, in->num_queues, in->queue_size, is_packed(be), &fd);
	if (rc < 0)
		return rc;
	inflight_replace(be, &ni);
	reply_init(be, sizeof(struct vh_user_inflight));
	be->reply.payload.inflight.mmap_size = ni.size;
	be->reply.payload.inflight.mmap_offset = 0;
	be->reply.payload.inflight.num_queues = in->num_queues;
	be->reply.payload.inflight.queue_size = in->queue_size;
	be->reply.fds[0] = fd;
	be->reply.nfds = 1;
	return HANDLED_REPLY;
}

static int
handle_set_inflight_fd(struct vh_user_backend *be, struct vh_user_msg *m)
{
	const struct vh_user_inflight *in = &m->payload.inflight;
	struct vh_inflight ni;
	int rc = check_inflight_counts(be, in);

	if (rc == 0)
		rc = vh_inflight_map(&ni, m->fds[0], in->mmap_size, in->mmap_offset, in->num_queues,
				     in->queue_size, is_packed(be));
	if (rc < 0)
		return rc;
	inflight_replace(be, &ni);
	return 0;
}

static void
ring_reset(struct vh_user_backend *be, unsigned int idx)
{
	struct vh_vring *vr = &be->vrings[idx];

	ring_stop(be, idx);
	vh_close_fd(&vr->kick_fd);
	vh_close_fd(&vr->call_fd);
	vh_close_fd(&vr->err_fd);
	memset(vr, 0, sizeof(*vr));
	vr->kick_fd = vr->call_fd = vr->err_fd = -1;
}

static int
handle_reset_owner(struct vh_user_backend *be)
{
	/*
	 * Deprecated; vhost-user recommends disabling all rings and nothing
	 * more. They stay stopped until kicked again, as after GET_VRING_BASE.
	 */
	for (unsigned int i = 0; i < be->cfg.max_rings; i++) {
		ring_stop_until_kick(be, i);
		be->vrings[i].enabled = false;
	}
	return 0;
}

static int
handle_reset_device(struct vh_user_backend *be)
{
	/*
	 * vhost-user RESET_DEVICE: rings disabled, device state initial. The
	 * negotiated protocol features, the memory table and the back-end
	 * channel belong to the connection and stay (QEMU does not renegotiate).
	 */
	for (unsigned int i = 0; i < be->cfg.max_rings; i++)
		ring_reset(be, i);
	be->features = 0;
	be->features_set = false;
	be->status = 0;
	vh_dirty_log_unmap(&be->log);
	vh_inflight_unmap(&be->inflight);
	if (be->cfg.ops->reset != NULL)
		be->cfg.ops->reset(be->cfg.device);
	VH_INFO("%s: device reset", be->name);
	return 0;
}

static int
handle_vring_kick(struct vh_user_backend *be, const struct vh_user_vring_state *s)
{
	struct vh_vring *vr;
	int rc = check_ring_index(be, s->index);

	if (rc < 0)
		return rc;
	vr = &be->vrings[s->index];
	/* vhost-user SET_VRING_KICK: an in-band kick also starts the ring. */
	if (!vr->kick_set) {
		vr->kick_set = true;
		rc = ring_start(be, s->index);
		if (rc < 0)
			return rc;
	}
	if (vr->started)
		be->cfg.ops->ring_kick(be->cfg.device, s->index);
	return 0;
}

static int
handle_set_status(struct vh_user_backend *be, uint64_t status)
{
	int rc = 0;

	if (status > 0xff)
		return -EINVAL;
	if (be->cfg.ops->set_status != NULL)
		rc = be->cfg.ops->set_status(be->cfg.device, (uint8_t)status);
	if (rc == 0)
		be->status = (uint8_t)status;
	return rc;
}

/* Requests whose protocol feature is not negotiated, or not implemented here. */
static int
handle_unsupported(struct vh_user_backend *be, const struct vh_user_msg *m)
{
	VH_WARN("%s: %s is not supported", be->name, vh_user_request_name(m->hdr.request));
	switch (m->hdr.request) {
	case VH_USER_IOTLB_MSG:
	case VH_USER_POSTCOPY_END:
	case VH_USER_CHECK_DEVICE_STATE:
		/* The reply is a u64 where non-zero means failure. */
		return reply_u64(be, 1);
	case VH_USER_SET_DEVICE_STATE_FD:
		return reply_u64(be, 1 | VH_USER_DEVICE_STATE_NOFD);
	case VH_USER_GET_CONFIG:
		/* vhost-user GET_CONFIG: an empty payload is its failure reply. */
		reply_init(be, 0);
		return HANDLED_REPLY;
	default:
		return -ENOTSUP;
	}
}

/* The protocol feature a request needs, or -1. */
static int
gating_feature(uint32_t request)
{
	switch (request) {
	case VH_USER_SEND_RARP:
		return VH_USER_PROTOCOL_F_RARP;
	case VH_USER_NET_SET_MTU:
		return VH_USER_PROTOCOL_F_NET_MTU;
	case VH_USER_SET_BACKEND_REQ_FD:
		return VH_USER_PROTOCOL_F_BACKEND_REQ;
	case VH_USER_GET_CONFIG:
	case VH_USER_SET_CONFIG:
		return VH_USER_PROTOCOL_F_CONFIG;
	case VH_USER_GET_INFLIGHT_FD:
	case VH_USER_SET_INFLIGHT_FD:
		return VH_USER_PROTOCOL_F_INFLIGHT_SHMFD;
	case VH_USER_RESET_DEVICE:
		return VH_USER_PROTOCOL_F_RESET_DEVICE;
	case VH_USER_VRING_KICK:
		return VH_USER_PROTOCOL_F_INBAND_NOTIFICATIONS;
	case VH_USER_ADD_MEM_REG:
	case VH_USER_REM_MEM_REG:
		return VH_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS;
	case VH_USER_SET_STATUS:
	case VH_USER_GET_STATUS:
		return VH_USER_PROTOCOL_F_STATUS;
	default:
		return -1;
	}
}

static int
dispatch(struct vh_user_backend *be, struct vh_user_msg *m)
{
	const union vh_user_payload *p = &m->payload;
	int gate = gating_feature(m->hdr.request);

	if (gate >= 0 && !has_pf(be, (unsigned int)gate))
		return handle_unsupported(be, m);
	switch (m->hdr.request) {
	case VH_USER_GET_FEATURES:
		return handle_get_features(be);
	case VH_USER_SET_FEATURES:
		return handle_set_features(be, p->u64);
	case VH_USER_SET_OWNER:
		return 0;
	case VH_USER_RESET_OWNER:
		return handle_reset_owner(be);
	case VH_USER_SET_MEM_TABLE:
		return handle_set_mem_table(be, m);
	case VH_USER_SET_LOG_BASE:
		return handle_set_log_base(be, m);
	case VH_USER_SET_LOG_FD:
		return handle_set_log_fd(be, m);
	case VH_USER_SET_VRING_NUM:
		return handle_set_vring_num(be, &p->state);
	case VH_USER_SET_VRING_ADDR:
		return handle_set_vring_addr(be, &p->addr);
	case VH_USER_SET_VRING_BASE:
		return handle_set_vring_base(be, &p->state);
	case VH_USER_GET_VRING_BASE:
		return handle_get_vring_base(be, &p->state);
	case VH_USER_SET_VRING_KICK:
	case VH_USER_SET_VRING_CALL:
	case VH_USER_SET_VRING_ERR:
		return handle_set_vring_fd(be, m);
	case VH_USER_GET_PROTOCOL_FEATURES:
		return handle_get_protocol_features(be);
	case VH_USER_SET_PROTOCOL_FEATURES:
		return handle_set_protocol_features(be, p->u64);
	case VH_USER_GET_QUEUE_NUM:
		return reply_u64(be, be->cfg.queue_num);
	case VH_USER_SET_VRING_ENABLE:
		return handle_set_vring_enable(be, &p->state);
	case VH_USER_SEND_RARP:
		return handle_send_rarp(be, m);
	case VH_USER_NET_SET_MTU:
		return handle_net_set_mtu(be, p->u64);
	case VH_USER_SET_BACKEND_REQ_FD:
		return handle_set_backend_req_fd(be, m);
	case VH_USER_GET_CONFIG:
		return handle_get_config(be, m);
	case VH_USER_SET_CONFIG:
		return handle_set_config(be, m);
	case VH_USER_GET_INFLIGHT_FD:
		return handle_get_inflight_fd(be, m);
	case VH_USER_SET_INFLIGHT_FD:
		return handle_set_inflight_fd(be, m);
	case VH_USER_RESET_DEVICE:
		return handle_reset_device(be);
	case VH_USER_VRING_KICK:
		return handle_vring_kick(be, &p->state);
	case VH_USER_GET_MAX_MEM_SLOTS:
		return reply_u64(be, be->cfg.max_mem_slots);
	case VH_USER_ADD_MEM_REG:
		return handle_add_mem_reg(be, m);
	case VH_USER_REM_MEM_REG:
		return handle_rem_mem_reg(be, m);
	case VH_USER_SET_STATUS:
		return handle_set_status(be, p->u64);
	case VH_USER_GET_STATUS:
		return reply_u64(be, be->status);
	case VH_USER_GET_SHMEM_CONFIG:
		/* A device without VIRTIO shared memory regions: zero of them. */
		reply_init(be, sizeof(struct vh_user_shmem_config));
		return HANDLED_REPLY;
	default:
		return handle_unsupported(be, m);
	}
}

/* Handles one complete message; a negative return closes the connection. */
static int
process_msg(struct vh_user_backend *be)
{
	struct vh_user_msg *m = &be->rx.msg;
	const struct vh_user_req_rule *rule = vh_user_request_rule(m->hdr.request);
	bool need_reply = (m->hdr.flags & VH_USER_NEED_REPLY_MASK) != 0;
	int rc = vh_user_msg_check(m, 0);

	VH_DEBUG("%s: %s (%u) flags 0x%x size %u fds %u", be->name,
		 vh_user_request_name(m->hdr.request), m->hdr.request, m->hdr.flags, m->hdr.size,
		 m->nfds);
	if (rc == -EBADMSG) {
		VH_WARN("%s: %s (%u) with size %u and %u fds breaks the framing", be->name,
			vh_user_request_name(m->hdr.request), m->hdr.request, m->hdr.size, m->nfds);
		return rc;
	}
	if (rc == -ENOSYS)
		VH_WARN("%s: unknown request %u", be->name, m->hdr.request);
	else
		rc = dispatch(be, m);
	if (rc == HANDLED_REPLY) {
		rc = vh_user_send(be->fd, &be->reply, be->cfg.send_timeout_ms);
		vh_user_msg_close_fds(&be->reply);
	} else if (need_reply && (rule == NULL || rule->reply != VH_USER_REPLY_ALWAYS) &&
		   !be->close_after) {
		/* vhost-user REPLY_ACK: zero for success, non-zero for failure. */
		if (rc < 0)
			VH_WARN("%s: %s failed: %s", be->name, vh_user_request_name(m->hdr.request),
				strerror(-rc));
		reply_u64(be, rc < 0 ? 1 : 0);
		rc = vh_user_send(be->fd, &be->reply, be->cfg.send_timeout_ms);
	} else if (rc < 0) {
		VH_WARN("%s: %s failed (%s); closing the connection", be->name,
			vh_user_request_name(m->hdr.request), strerror(-rc));
	}
	if (rc == 0 && be->close_after)
		rc = -EPROTO;
	return rc;
}

/* ---- life cycle ---- */

static void
teardown(struct vh_user_backend *be)
{
	if (!be->connected)
		return;
	for (unsigned int i = 0; i < be->cfg.max_rings; i++)
		ring_reset(be, i);
	if (be->mem != NULL) {
		be->cfg.ops->mem_changed(be->cfg.device, NULL);
		vh_mem_table_free(be->mem, NULL, true);
		be->mem = NULL;
	}
	vh_dirty_log_unmap(&be->log);
	vh_inflight_unmap(&be->inflight);
	vh_close_fd(&be->log_fd);
	vh_close_fd(&be->backend_req_fd);
	vh_user_rx_reset(&be->backend_rx);
	vh_user_rx_reset(&be->rx);
	vh_close_fd(&be->fd);
	be->connected = false;
	VH_INFO("%s: connection closed", be->name);
}

static uint64_t
offered_protocol(const struct vh_user_backend_config *cfg)
{
	const struct vh_user_device_ops *ops = cfg->ops;
	uint64_t pf =
		cfg->protocol_features != 0 ? cfg->protocol_features : DEFAULT_PROTOCOL_FEATURES;

	pf &= LIB_PROTOCOL_FEATURES;
	if (ops->get_config == NULL)
		pf &= ~PF(CONFIG);
	if (ops->send_rarp == NULL)
		pf &= ~PF(RARP);
	if (ops->set_mtu == NULL)
		pf &= ~PF(NET_MTU);
	if (ops->ring_kick == NULL ||
	    (pf & (PF(BACKEND_REQ) | PF(REPLY_ACK))) != (PF(BACKEND_REQ) | PF(REPLY_ACK)))
		pf &= ~PF(INBAND_NOTIFICATIONS);
	return pf;
}

struct vh_user_backend *
vh_user_backend_create(const struct vh_user_backend_config *cfg, int fd)
{
	const struct vh_user_device_ops *ops = cfg != NULL ? cfg->ops : NULL;
	struct vh_user_backend *be;

	if (ops == NULL || ops->get_features == NULL || ops->ring_started == NULL ||
	    ops->ring_stopped == NULL || ops->mem_changed == NULL || cfg->max_rings == 0 ||
	    cfg->max_rings > MAX_RINGS || cfg->max_mem_slots > VH_USER_MAX_MEM_SLOTS || fd < 0) {
		if (fd >= 0)
			close(fd);
		errno = EINVAL;
		return NULL;
	}
	be = calloc(1, sizeof(*be) + cfg->max_rings * sizeof(be->vrings[0]));
	if (be == NULL) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	be->cfg = *cfg;
	if (be->cfg.queue_num == 0)
		be->cfg.queue_num = cfg->max_rings >= 2 ? cfg->max_rings / 2 : 1;
	if (be->cfg.max_mem_slots == 0)
		be->cfg.max_mem_slots = VH_USER_MAX_MEM_SLOTS;
	if (be->cfg.max_mem_bytes == 0)
		be->cfg.max_mem_bytes = VH_USER_DEFAULT_MAX_MEM_BYTES;
	if (be->cfg.send_timeout_ms == 0)
		be->cfg.send_timeout_ms = 1000;
	if (be->cfg.backend_req_timeout_ms == 0)
		be->cfg.backend_req_timeout_ms = 1000;
	snprintf(be->name, sizeof(be->name), "%s", cfg->name != NULL ? cfg->name : "vhost-user");
	be->cfg.name = be->name;
	be->fd = fd;
	be->connected = true;
	be->log_fd = -1;
	be->backend_req_fd = -1;
	vh_user_rx_init(&be->rx, VH_USER_RX_FRONTEND_REQ);
	vh_user_rx_init(&be->backend_rx, VH_USER_RX_REPLY);
	for (unsigned int i = 0; i < cfg->max_rings; i++)
		be->vrings[i].kick_fd = be->vrings[i].call_fd = be->vrings[i].err_fd = -1;
	/* No IOTLB here: a device must not be offered with ACCESS_PLATFORM. */
	be->offered_features = (ops->get_features(cfg->device) & ~F(VH_VIRTIO_F_ACCESS_PLATFORM)) |
			       F(VH_USER_F_PROTOCOL_FEATURES);
	be->offered_protocol = offered_protocol(cfg);
	return be;
}

int
vh_user_backend_fd(const struct vh_user_backend *be)
{
	return be->fd;
}

static int
handle_readable(struct vh_user_backend *be)
{
	for (int i = 0; i < MSGS_PER_CALL; i++) {
		int rc = vh_user_rx_read(be->fd, &be->rx);

		if (rc == 0)
			return 0;
		if (rc > 0) {
			rc = process_msg(be);
			vh_user_rx_reset(&be->rx);
		}
		if (rc < 0) {
			if (rc != -ECONNRESET)
				VH_WARN("%s: closing the connection: %s", be->name, strerror(-rc));
			teardown(be);
			return rc;
		}
	}
	return 1; /* the cap: more may be buffered in the socket */
}

int
vh_user_backend_handle_readable(struct vh_user_backend *be)
{
	void *prev;
	int rc;

	if (!be->connected)
		return -ENOTCONN;
	/* What this connection maps belongs to its device (vhost_guard.h). */
	prev = vh_guard_set_owner(be->cfg.device);
	rc = handle_readable(be);
	vh_guard_set_owner(prev);
	return rc;
}

int
vh_user_backend_serve(struct vh_user_backend *be, int timeout_ms)
{
	uint64_t deadline = vh_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);

	while (be->connected) {
		struct pollfd p = {be->fd, POLLIN, 0};
		int wait = -1, rc;

		if (timeout_ms >= 0) {
			uint64_t now = vh_now_ms();

			if (now >= deadline)
				return 0;
			wait = (int)(deadline - now);
		}
		rc = poll(&p, 1, wait);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0) {
			rc = vh_user_backend_handle_readable(be);
			if (rc < 0)
				return rc;
		}
	}
	return -ENOTCONN;
}

void
vh_user_backend_destroy(struct vh_user_backend *be)
{
	if (be == NULL)
		return;
	teardown(be);
	free(be);
}

bool
vh_user_backend_connected(const struct vh_user_backend *be)
{
	return be->connected;
}

uint64_t
vh_user_backend_features(const struct vh_user_backend *be)
{
	return be->features;
}

uint64_t
vh_user_backend_protocol_features(const struct vh_user_backend *be)
{
	return be->protocol_features;
}

const struct vh_mem_table *
vh_user_backend_mem(const struct vh_user_backend *be)
{
	return be->mem;
}

uint8_t
vh_user_backend_status(const struct vh_user_backend *be)
{
	return be->status;
}

bool
vh_user_backend_ring_started(const struct vh_user_backend *be, unsigned int idx)
{
	return idx < be->cfg.max_rings && be->vrings[idx].started;
}

bool
vh_user_backend_ring_enabled(const struct vh_user_backend *be, unsigned int idx)
{
	return idx < be->cfg.max_rings && be->vrings[idx].enabled;
}

/* ---- the back-end channel (vhost-user "Back-end communication") ---- */

static int
backend_channel_fail(struct vh_user_backend *be, int rc)
{
	VH_WARN("%s: back-end channel failed: %s", be->name, strerror(-rc));
	vh_close_fd(&be->backend_req_fd);
	vh_user_rx_reset(&be->backend_rx);
	return rc;
}

int
vh_user_backend_send_request(struct vh_user_backend *be, uint32_t request, const void *payload,
			     uint32_t size, const int *fds, unsigned int nfds, uint64_t *reply_u64)
{
	const struct vh_user_req_rule *rule = vh_user_backend_request_rule(request);
	struct vh_user_msg msg;
	struct vh_user_msg *r = &be->backend_rx.msg;
	bool want_reply;
	int rc;

	if (rule == NULL || size > sizeof(msg.payload) || nfds > VH_USER_MAX_FDS ||
	    (size > 0 && payload == NULL))
		return -EINVAL;
	if (be->backend_req_fd < 0)
		return -ENOTCONN;
	if (nfds > 0 && !has_pf(be, VH_USER_PROTOCOL_F_BACKEND_SEND_FD))
		return -ENOTSUP;
	vh_user_msg_init(&msg, request, size);
	if (size > 0)
		memcpy(msg.payload.raw, payload, size);
	for (unsigned int i = 0; i < nfds; i++)
		msg.fds[i] = fds[i];
	msg.nfds = nfds;
	want_reply =
		rule->reply == VH_USER_REPLY_ALWAYS || has_pf(be, VH_USER_PROTOCOL_F_REPLY_ACK);
	if (has_pf(be, VH_USER_PROTOCOL_F_REPLY_ACK))
		msg.hdr.flags |= VH_USER_NEED_REPLY_MASK;
	rc = vh_user_send(be->backend_req_fd, &msg, be->cfg.backend_req_timeout_ms);
	if (rc < 0)
		return backend_channel_fail(be, rc);
	if (!want_reply)
		return 0;
	/*
	 * Bounded wait: a front-end blocked on our main socket cannot answer,
	 * so the wait ends after backend_req_timeout_ms instead of deadlocking.
	 */
	rc = vh_user_rx_wait(be->backend_req_fd, &be->backend_rx, be->cfg.backend_req_timeout_ms);
	if (rc < 0)
		return backend_channel_fail(be, rc);
	if (r->hdr.request != request || r->hdr.flags != (VH_USER_VERSION | VH_USER_REPLY_MASK) ||
	    r->hdr.size != sizeof(uint64_t)) {
		VH_WARN("%s: bad reply to %s", be->name, vh_user_backend_request_name(request));
		return backend_channel_fail(be, -EPROTO);
	}
	if (reply_u64 != NULL)
		*reply_u64 = r->payload.u64;
	rc = r->payload.u64 != 0 ? -EIO : 0;
	vh_user_rx_reset(&be->backend_rx);
	return rc;
}

int
vh_user_backend_send_config_change(struct vh_user_backend *be)
{
	if (!has_pf(be, VH_USER_PROTOCOL_F_CONFIG))
		return -ENOTSUP;
	return vh_user_backend_send_request(be, VH_USER_BACKEND_CONFIG_CHANGE_MSG, NULL, 0, NULL, 0,
					    NULL);
}

static int
send_vring_state(struct vh_user_backend *be, uint32_t request, unsigned int idx)
{
	struct vh_user_vring_state s = {idx, 0};

	if (!has_pf(be, VH_USER_PROTOCOL_F_INBAND_NOTIFICATIONS))
		return -ENOTSUP;
	if (idx >= be->cfg.max_rings)
		return -ERANGE;
	return vh_user_backend_send_request(be, request, &s, sizeof(s), NULL, 0, NULL);
}

int
vh_user_backend_send_vring_call(struct vh_user_backend *be, unsigned int idx)
{
	return send_vring_state(be, VH_USER_BACKEND_VRING_CALL, idx);
}

int
vh_user_backend_send_vring_err(struct vh_user_backend *be, unsigned int idx)
{
	return send_vring_state(be, VH_USER_BACKEND_VRING_ERR, idx);
}

int
vh_user_backend_send_host_notifier(struct vh_user_backend *be, unsigned int idx, int fd,
				   uint64_t size, uint64_t offset)
{
	struct vh_user_vring_area a = {idx, size, offset};

	if (!has_pf(be, VH_USER_PROTOCOL_F_HOST_NOTIFIER))
		return -ENOTSUP;
	if (idx >= be->cfg.max_rings)
		return -ERANGE;
	if (fd < 0)
		a.u64 |= VH_USER_VRING_NOFD_MASK;
	return vh_user_backend_send_request(be, VH_USER_BACKEND_VRING_HOST_NOTIFIER_MSG, &a,
					    sizeof(a), fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, NULL);
}

/* ---- hand-over to another process (vhost_user_handover.h) ---- */

struct ho_fds {
	int *fds;
	unsigned int max;
	unsigned int n;
	bool overflow;
};

/* Adds @p fd to the list; its index, or -1 for no fd. */
static int32_t
ho_fd(struct ho_fds *l, int fd)
{
	if (fd < 0)
		return -1;
	if (l->n == l->max) {
		l->overflow = true;
		return -1;
	}
	l->fds[l->n] = fd;
	return (int32_t)l->n++;
}

static void
export_areas(const struct vh_user_backend *be, struct vh_user_handover *st, struct ho_fds *l)
{
	st->log = -1;
	st->inflight = -1;
	if (be->log.map_base != NULL) {
		st->log = ho_fd(l, be->log.fd);
		st->log_size = be->log.size;
		st->log_offset = be->log.offset;
	}
	if (be->inflight.map_base != NULL) {
		st->inflight = ho_fd(l, be->inflight.fd);
		st->inflight_size = be->inflight.size;
		st->inflight_offset = be->inflight.offset;
		st->inflight_queues = be->inflight.num_queues;
		st->inflight_queue_size = be->inflight.queue_size;
		st->inflight_packed = be->inflight.packed;
	}
	for (uint32_t i = 0; be->mem != NULL && i < be->mem->nregions; i++) {
		const struct vh_mem_mapping *m = &be->mem->regions[i];
		struct vh_user_handover_region *r = &st->regions[i];

		r->guest_phys_addr = m->guest_phys_addr;
		r->size = m->size;
		r->user_addr = m->user_addr;
		r->mmap_offset = m->mmap_offset;
		r->fd = ho_fd(l, m->fd);
		st->nregions++;
	}
}

static void
export_ring(const struct vh_vring *vr, struct vh_user_handover_ring *r, struct ho_fds *l)
{
	r->num = vr->num;
	r->addr = vr->addr;
	r->addr_set = vr->addr_set;
	r->kick = ho_fd(l, vr->kick_fd);
	r->call = ho_fd(l, vr->call_fd);
	r->err = ho_fd(l, vr->err_fd);
	r->kick_set = vr->kick_set;
	r->enabled = vr->enabled;
}

int
vh_user_backend_export(struct vh_user_backend *be, struct vh_user_handover *st, int *fds,
		       unsigned int max_fds, unsigned int *nfds)
{
	struct ho_fds l = {fds, max_fds, 0, false};

	if (!be->connected)
		return -ENOTCONN;
	if (be->rx.got != 0) {
		VH_INFO("%s: the front-end is in the middle of a message; not exported", be->name);
		return -EBUSY;
	}
	memset(st, 0, sizeof(*st));
	st->features = be->features;
	st->protocol_features = be->protocol_features;
	st->features_set = be->features_set;
	st->status = be->status;
	st->conn = ho_fd(&l, be->fd);
	st->backend_req = ho_fd(&l, be->backend_req_fd);
	st->log_fd = ho_fd(&l, be->log_fd);
	export_areas(be, st, &l);
	st->nrings = be->cfg.max_rings;
	for (unsigned int i = 0; i < be->cfg.max_rings; i++)
		export_ring(&be->vrings[i], &st->rings[i], &l);
	if (l.overflow) {
		VH_WARN("%s: more than %u fds to hand over", be->name, max_fds);
		return -ENOSPC;
	}
	/* The device lets go of every ring and says where each stopped. */
	for (unsigned int i = 0; i < be->cfg.max_rings; i++) {
		struct vh_vring *vr = &be->vrings[i];

		st->rings[i].started = vr->started;
		vr->resume = vr->started;
		ring_stop(be, i);
		st->rings[i].base = vr->base_raw;
	}
	*nfds = l.n;
	VH_INFO("%s: exported (%u regions, %u fds)", be->name, st->nregions, l.n);
	return 0;
}

int
vh_user_backend_resume(struct vh_user_backend *be)
{
	int rc = 0;

	for (unsigned int i = 0; i < be->cfg.max_rings; i++) {
		struct vh_vring *vr = &be->vrings[i];
		int r;

		if (!vr->resume)
			continue;
		vr->resume = false;
		r = ring_start(be, i);
		if (r < 0 && rc == 0)
			rc = r;
	}
	VH_INFO("%s: resumed after a hand-over that did not happen", be->name);
	return rc;
}

/* ---- import: everything checked, as if it came from a front-end ---- */

/* Takes fd index @p idx out of the array (the caller owns it now); -1 for none. */
static int
ho_take(int *fds, int32_t idx)
{
	int fd;

	if (idx < 0)
		return -1;
	fd = fds[idx];
	fds[idx] = -1;
	return fd;
}

static bool
is_unix_stream(int fd)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(int);
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		return false;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
		return false;
	return type == SOCK_STREAM && domain == AF_UNIX;
}

/* An eventfd (the ring notifiers): we write 8 bytes to them and nothing else. */
static bool
is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) /* no /proc: any open fd */
		return fcntl(fd, F_GETFD) >= 0;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

static int
import_check_fds(const char *name, const struct vh_user_handover *st, const int *fds)
{
	if (st->backend_req >= 0 && !is_unix_stream(fds[st->backend_req])) {
		VH_WARN("%s: hand-over: a connection fd is not a Unix stream socket", name);
		return -EBADF;
	}
	if (st->log_fd >= 0 && !is_eventfd(fds[st->log_fd]))
		goto not_eventfd;
	for (uint32_t i = 0; i < st->nrings; i++) {
		const struct vh_user_handover_ring *r = &st->rings[i];

		if ((r->kick >= 0 && !is_eventfd(fds[r->kick])) ||
		    (r->call >= 0 && !is_eventfd(fds[r->call])) ||
		    (r->err >= 0 && !is_eventfd(fds[r->err])))
			goto not_eventfd;
	}
	return 0;
not_eventfd:
	VH_WARN("%s: hand-over: a notifier fd is not an eventfd", name);
	return -EBADF;
}

static bool
ring_is_empty(const struct vh_user_handover_ring *r)
{
	return r->num == 0 && !r->addr_set && !r->kick_set && !r->started && r->kick < 0 &&
	       r->call < 0 && r->err < 0;
}

/*
 * What the state says, checked against this device before anything is
 * mapped (the connection's socket is checked before the back-end exists).
 */
static int
import_check(const struct vh_user_backend *be, const struct vh_user_handover *st, const int *fds)
{
	if (st->features & ~be->offered_features) {
		VH_WARN("%s: hand-over: features 0x%" PRIx64 " were negotiated, this device offers "
			"0x%" PRIx64,
			be->name, st->features, be->offered_features);
		return -EPROTO;
	}
	if (!st->features_set && st->features != 0)
		return -EINVAL;
	if (st->protocol_features & ~be->offered_protocol) {
		VH_WARN("%s: hand-over: protocol features 0x%" PRIx64 " were negotiated, this "
			"device offers 0x%" PRIx64,
			be->name, st->protocol_features, be->offered_protocol);
		return -EPROTO;
	}
	if (st->nregions > be->cfg.max_mem_slots) {
		VH_WARN("%s: hand-over: %u memory regions, at most %u", be->name, st->nregions,
			be->cfg.max_mem_slots);
		return -EINVAL;
	}
	for (uint32_t i = be->cfg.max_rings; i < st->nrings; i++) {
		if (!ring_is_empty(&st->rings[i])) {
			VH_WARN("%s: hand-over: ring %u is beyond the device's %u rings", be->name,
				i, be->cfg.max_rings);
			return -ERANGE;
		}
	}
	return import_check_fds(be->name, st, fds);
}

static int
import_mem(struct vh_user_backend *be, const struct vh_user_handover *st, const int *fds)
{
	struct vh_user_mem_region d[VH_USER_MAX_MEM_SLOTS];
	struct vh_mem_mapping *maps;
	struct vh_mem_table *t;
	int rc = 0;

	if (st->nregions == 0)
		return 0;
	for (uint32_t i = 0; i < st->nregions; i++)
		d[i] = (struct vh_user_mem_region){st->regions[i].guest_phys_addr,
						   st->regions[i].size, st->regions[i].user_addr,
						   st->regions[i].mmap_offset};
	rc = check_mem_budget(be, 0, d, st->nregions);
	if (rc < 0)
		return rc;
	maps = calloc(st->nregions, sizeof(*maps));
	if (maps == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < st->nregions && rc == 0; i++) {
		rc = vh_mem_map_region(&d[i], fds[st->regions[i].fd], &maps[i]);
		if (rc < 0)
			unmap_all(maps, i);
	}
	if (rc == 0) {
		t = vh_mem_table_build(maps, st->nregions);
		if (t == NULL) {
			rc = -errno;
			unmap_all(maps, st->nregions);
		} else {
			rc = mem_replace(be, t, false);
		}
	}
	free(maps);
	return rc;
}

static int
import_areas(struct vh_user_backend *be, const struct vh_user_handover *st, const int *fds)
{
	struct vh_user_inflight in = {st->inflight_size, st->inflight_offset, st->inflight_queues,
				      st->inflight_queue_size};
	int rc;

	if (st->log >= 0) {
		rc = vh_dirty_log_map(&be->log, fds[st->log], st->log_size, st->log_offset);
		if (rc < 0)
			return rc;
	}
	if (st->inflight < 0)
		return 0;
	rc = check_inflight_counts(be, &in);
	if (rc == 0)
		rc = vh_inflight_map(&be->inflight, fds[st->inflight], in.mmap_size, in.mmap_offset,
				     in.num_queues, in.queue_size, st->inflight_packed);
	return rc;
}

/* Ring @p i's description, checked the way its messages would be. */
static int
import_ring(struct vh_user_backend *be, unsigned int i, const struct vh_user_handover_ring *r,
	    int *fds)
{
	struct vh_vring *vr = &be->vrings[i];
	int rc = 0;

	if (r->num != 0)
		rc = check_ring_size(be, i, r->num, be->features_set ? is_packed(be) : true);
	if (rc == 0 && r->addr_set && (r->addr.flags & ~1u) != 0)
		rc = -EINVAL;
	if (rc == 0 && !is_packed(be) && r->base > 0xffff)
		rc = -EINVAL;
	if (rc == 0 && ((r->kick >= 0 && !r->kick_set) || r->addr.index != i))
		rc = -EINVAL;
	if (rc < 0) {
		VH_WARN("%s: hand-over: ring %u is not valid", be->name, i);
		return rc;
	}
	vr->num = r->num;
	vr->addr = r->addr;
	vr->addr_set = r->addr_set;
	vr->base_raw = r->base;
	vr->kick_fd = ho_take(fds, r->kick);
	vr->call_fd = ho_take(fds, r->call);
	vr->err_fd = ho_take(fds, r->err);
	vr->kick_set = r->kick_set;
	vr->enabled = r->enabled;
	if (!r->started)
		return 0;
	if (!ring_ready(be, vr)) {
		VH_WARN("%s: hand-over: ring %u ran but is not complete", be->name, i);
		return -EINVAL;
	}
	return ring_start(be, i);
}

static int
import_conn(struct vh_user_backend *be, const struct vh_user_handover *st, int *fds)
{
	const struct vh_user_device_ops *ops = be->cfg.ops;
	int fd, rc;

	be->status = st->status;
	be->protocol_features = st->protocol_features;
	if (ops->set_protocol_features != NULL)
		ops->set_protocol_features(be->cfg.device, st->protocol_features);
	if (st->features_set) {
		if (ops->set_features != NULL) {
			rc = ops->set_features(be->cfg.device,
					       st->features & ~F(VH_USER_F_PROTOCOL_FEATURES));
			if (rc < 0)
				return rc;
		}
		be->features = st->features;
		be->features_set = true;
	}
	be->log_fd = ho_take(fds, st->log_fd);
	fd = ho_take(fds, st->backend_req);
	if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		close(fd);
		return -EBADF;
	}
	be->backend_req_fd = fd;
	return 0;
}

static void
close_rest(int *fds, unsigned int nfds)
{
	for (unsigned int i = 0; i < nfds; i++)
		vh_close_fd(&fds[i]);
}

struct vh_user_backend *
vh_user_backend_import(const struct vh_user_backend_config *cfg, const struct vh_user_handover *st,
		       int *fds, unsigned int nfds)
{
	struct vh_user_backend *be = NULL;
	int conn, rc = -EINVAL;
	void *prev;

	if (st->conn < 0 || (uint32_t)st->conn >= nfds || fds[st->conn] < 0)
		goto fail;
	conn = fds[st->conn];
	if (!is_unix_stream(conn) || fcntl(conn, F_SETFL, fcntl(conn, F_GETFL) | O_NONBLOCK) != 0)
		goto fail;
	be = vh_user_backend_create(cfg, ho_take(fds, st->conn));
	if (be == NULL) {
		rc = -errno;
		goto fail;
	}
	/* What the imported connection maps belongs to its device (vhost_guard.h). */
	prev = vh_guard_set_owner(be->cfg.device);
	rc = import_check(be, st, fds);
	if (rc == 0)
		rc = import_conn(be, st, fds);
	if (rc == 0)
		rc = import_mem(be, st, fds);
	if (rc == 0)
		rc = import_areas(be, st, fds);
	for (unsigned int i = 0; rc == 0 && i < st->nrings && i < be->cfg.max_rings; i++)
		rc = import_ring(be, i, &st->rings[i], fds);
	vh_guard_set_owner(prev);
	if (rc < 0)
		goto fail;
	close_rest(fds, nfds);
	VH_INFO("%s: taken over (%u regions)", be->name, st->nregions);
	return be;
fail:
	VH_WARN("%s: hand-over refused: %s",
		cfg != NULL && cfg->name != NULL ? cfg->name : "vhost-user", strerror(-rc));
	vh_user_backend_destroy(be);
	close_rest(fds, nfds);
	errno = -rc;
	return NULL;
}
