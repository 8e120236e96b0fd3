/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user front-end: one call per request, replies and REPLY_ACK
 * checked strictly, the back-end channel served, and the common backend
 * interface of vhost_backend.h on top.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "private.h"
#include "vhost_user_conn.h"
#include "vhost_user_frontend.h"

#define PF(f) VH_USER_PF(VH_USER_PROTOCOL_F_##f)
/* Every protocol feature but XEN_MMAP, whose region layout is not implemented. */
#define FE_PROTOCOL_FEATURES ((VH_USER_PF(VH_USER_PROTOCOL_F_MAX) - 1) & ~PF(XEN_MMAP))
/* What the channel of vh_user_frontend_config.backend_channel needs. */
#define FE_CHANNEL_FEATURES   (PF(BACKEND_REQ) | PF(BACKEND_SEND_FD))
#define CHANNEL_MSGS_PER_CALL 64

struct vh_user_frontend {
	struct vh_backend b; /* first: the common interface view */
	int fd;
	bool connected;
	bool in_call;
	struct vh_user_frontend_config cfg;
	char name[96];
	struct vh_user_rx rx;
	int chan_fd;
	struct vh_user_rx chan_rx;
	struct vh_user_msg chan_reply;
	uint64_t offered_features;
	uint64_t offered_protocol;
	uint64_t protocol_features;
	uint64_t queue_num;
	uint64_t max_mem_slots;
	uint32_t nshadow;
	struct vh_user_mem_region shadow[VH_USER_MAX_MEM_SLOTS];
};

static bool
has_pf(const struct vh_user_frontend *fe, unsigned int f)
{
	return (fe->protocol_features & VH_USER_PF(f)) != 0;
}

static int
broken(struct vh_user_frontend *fe, int rc)
{
	if (fe->connected)
		VH_ERR("%s: connection to the back-end failed: %s", fe->name, strerror(-rc));
	vh_close_fd(&fe->fd);
	vh_close_fd(&fe->chan_fd);
	vh_user_rx_reset(&fe->rx);
	vh_user_rx_reset(&fe->chan_rx);
	fe->connected = false;
	return rc;
}

/* ---- the back-end channel ---- */

/* @p reply_fd receives an fd to send with the reply (SHARED_OBJECT_LOOKUP). */
static int64_t
serve_backend_req(struct vh_user_frontend *fe, struct vh_user_msg *m, int *reply_fd)
{
	const struct vh_user_frontend_ops *ops = fe->cfg.ops;
	void *op = fe->cfg.opaque;

	if (ops == NULL)
		return -ENOTSUP;
	switch (m->hdr.request) {
	case VH_USER_BACKEND_SHARED_OBJECT_LOOKUP:
		if (ops->shared_object_lookup == NULL)
			return ops->other != NULL ? ops->other(op, m) : -ENOTSUP;
		return ops->shared_object_lookup(op, m->payload.object.uuid, reply_fd);
	case VH_USER_BACKEND_CONFIG_CHANGE_MSG:
		return ops->config_change != NULL ? ops->config_change(op) : -ENOTSUP;
	case VH_USER_BACKEND_VRING_CALL:
		return ops->vring_call != NULL ? ops->vring_call(op, m->payload.state.index)
					       : -ENOTSUP;
	case VH_USER_BACKEND_VRING_ERR:
		return ops->vring_err != NULL ? ops->vring_err(op, m->payload.state.index)
					      : -ENOTSUP;
	case VH_USER_BACKEND_VRING_HOST_NOTIFIER_MSG:
		if (ops->host_notifier == NULL)
			return -ENOTSUP;
		return ops->host_notifier(
			op, (unsigned int)(m->payload.area.u64 & VH_USER_VRING_IDX_MASK),
			vh_user_msg_take_fd(m, 0), m->payload.area.size, m->payload.area.offset);
	case VH_USER_BACKEND_IOTLB_MSG:
		return ops->iotlb != NULL ? ops->iotlb(op, &m->payload.iotlb) : -ENOTSUP;
	default:
		return ops->other != NULL ? ops->other(op, m) : -ENOTSUP;
	}
}

static int
handle_channel_msg(struct vh_user_frontend *fe)
{
	struct vh_user_msg *m = &fe->chan_rx.msg;
	const struct vh_user_req_rule *rule = vh_user_backend_request_rule(m->hdr.request);
	int rc = vh_user_msg_check(m, 1);
	int reply_fd = -1;
	int64_t v;

	if (rc == -EBADMSG) {
		VH_WARN("%s: back-end request %u breaks the framing", fe->name, m->hdr.request);
		return rc;
	}
	v = rc == -ENOSYS ? -ENOSYS : serve_backend_req(fe, m, &reply_fd);
	VH_DEBUG("%s: back-end request %s: %" PRId64, fe->name,
		 vh_user_backend_request_name(m->hdr.request), v);
	if (!(m->hdr.flags & VH_USER_NEED_REPLY_MASK) &&
	    (rule == NULL || rule->reply != VH_USER_REPLY_ALWAYS)) {
		vh_close_fd(&reply_fd);
		return 0;
	}
	/* vhost-user REPLY_ACK: zero on success, non-zero on failure. */
	vh_user_msg_init(&fe->chan_reply, m->hdr.request, sizeof(uint64_t));
	fe->chan_reply.hdr.flags = VH_USER_VERSION | VH_USER_REPLY_MASK;
	fe->chan_reply.payload.u64 = v < 0 ? 1 : (uint64_t)v;
	/* vhost-user SHARED_OBJECT_LOOKUP: the fd comes with a successful reply. */
	if (v >= 0 && reply_fd >= 0) {
		fe->chan_reply.fds[0] = reply_fd;
		fe->chan_reply.nfds = 1;
	}
	rc = vh_user_send(fe->chan_fd, &fe->chan_reply, fe->cfg.timeout_ms);
	vh_close_fd(&reply_fd);
	fe->chan_reply.nfds = 0;
	return rc;
}

int
vh_user_frontend_handle_channel(struct vh_user_frontend *fe)
{
	if (fe->chan_fd < 0)
		return -ENOTCONN;
	for (int i = 0; i < CHANNEL_MSGS_PER_CALL; i++) {
		int rc = vh_user_rx_read(fe->chan_fd, &fe->chan_rx);

		if (rc == 0)
			return 0;
		if (rc > 0) {
			rc = handle_channel_msg(fe);
			vh_user_rx_reset(&fe->chan_rx);
		}
		if (rc < 0) {
			if (rc != -ECONNRESET)
				VH_WARN("%s: closing the back-end channel: %s", fe->name,
					strerror(-rc));
			vh_close_fd(&fe->chan_fd);
			vh_user_rx_reset(&fe->chan_rx);
			return rc;
		}
	}
	return 0;
}

/* ---- request and reply ---- */

/* Waits for a reply on the main socket, serving the back-end channel meanwhile. */
static int
wait_reply(struct vh_user_frontend *fe)
{
	uint64_t deadline = vh_now_ms() + fe->cfg.timeout_ms;

	for (;;) {
		struct pollfd p[2] = {{fe->fd, POLLIN, 0}, {fe->chan_fd, POLLIN, 0}};
		uint64_t now;
		int rc = vh_user_rx_read(fe->fd, &fe->rx);

		if (rc != 0)
			return rc;
		now = vh_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		rc = poll(p, fe->chan_fd >= 0 ? 2 : 1, (int)(deadline - now));
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0 && fe->chan_fd >= 0 && p[1].revents != 0)
			vh_user_frontend_handle_channel(fe);
	}
}

static int
call(struct vh_user_frontend *fe, struct vh_user_msg *msg, struct vh_user_msg *reply)
{
	struct vh_user_msg *r = &fe->rx.msg;
	bool ack;
	int rc;

	if (!fe->connected)
		return -ENOTCONN;
	if (fe->in_call)
		return -EBUSY; /* a channel handler calling back into us */
	if (reply == NULL && has_pf(fe, VH_USER_PROTOCOL_F_REPLY_ACK))
		msg->hdr.flags |= VH_USER_NEED_REPLY_MASK;
	ack = reply == NULL && (msg->hdr.flags & VH_USER_NEED_REPLY_MASK);
	VH_DEBUG("%s: -> %s flags 0x%x size %u fds %u", fe->name,
		 vh_user_request_name(msg->hdr.request), msg->hdr.flags, msg->hdr.size, msg->nfds);
	rc = vh_user_send(fe->fd, msg, fe->cfg.timeout_ms);
	if (rc < 0)
		return broken(fe, rc);
	if (reply == NULL && !ack)
		return 0;
	fe->in_call = true;
	rc = wait_reply(fe);
	fe->in_call = false;
	if (rc < 0)
		return broken(fe, rc);
	if (r->hdr.request != msg->hdr.request ||
	    r->hdr.flags != (VH_USER_VERSION | VH_USER_REPLY_MASK)) {
		VH_ERR("%s: reply %u flags 0x%x does not answer %s", fe->name, r->hdr.request,
		       r->hdr.flags, vh_user_request_name(msg->hdr.request));
		return broken(fe, -EPROTO);
	}
	if (ack) {
		if (r->hdr.size != sizeof(uint64_t) || r->nfds != 0)
			return broken(fe, -EPROTO);
		rc = r->payload.u64 != 0 ? -EIO : 0;
		if (rc < 0)
			VH_WARN("%s: the back-end failed %s", fe->name,
				vh_user_request_name(msg->hdr.request));
		vh_user_rx_reset(&fe->rx);
		return rc;
	}
	reply->hdr = r->hdr;
	memcpy(reply->payload.raw, r->payload.raw, r->hdr.size);
	reply->nfds = r->nfds;
	memcpy(reply->fds, r->fds, sizeof(reply->fds));
	r->nfds = 0; /* the fds now belong to the caller */
	vh_user_rx_reset(&fe->rx);
	return 0;
}

int
vh_user_frontend_request(struct vh_user_frontend *fe, struct vh_user_msg *msg,
			 struct vh_user_msg *reply)
{
	return call(fe, msg, reply);
}

/* A reply whose payload is exactly one u64 and no fd. */
static int
call_u64(struct vh_user_frontend *fe, struct vh_user_msg *m, uint64_t *v)
{
	struct vh_user_msg r;
	int rc = call(fe, m, &r);

	if (rc < 0)
		return rc;
	if (r.hdr.size != sizeof(uint64_t) || r.nfds != 0) {
		vh_user_msg_close_fds(&r);
		return broken(fe, -EPROTO);
	}
	*v = r.payload.u64;
	return 0;
}

static int
gate(const struct vh_user_frontend *fe, unsigned int f)
{
	return has_pf(fe, f) ? 0 : -ENOTSUP;
}

static int
send_u64(struct vh_user_frontend *fe, uint32_t request, uint64_t v)
{
	struct vh_user_msg m;

	vh_user_msg_init(&m, request, sizeof(uint64_t));
	m.payload.u64 = v;
	return call(fe, &m, NULL);
}

static int
send_state(struct vh_user_frontend *fe, uint32_t request, unsigned int idx, uint32_t num)
{
	struct vh_user_msg m;

	vh_user_msg_init(&m, request, sizeof(struct vh_user_vring_state));
	m.payload.state.index = idx;
	m.payload.state.num = num;
	return call(fe, &m, NULL);
}

static int
send_empty(struct vh_user_frontend *fe, uint32_t request)
{
	struct vh_user_msg m;

	vh_user_msg_init(&m, request, 0);
	return call(fe, &m, NULL);
}

static int
get_u64(struct vh_user_frontend *fe, uint32_t request, uint64_t *v)
{
	struct vh_user_msg m;

	if (v == NULL)
		return -EINVAL;
	vh_user_msg_init(&m, request, 0);
	return call_u64(fe, &m, v);
}

/* ---- requests, in request order ---- */

int
vh_user_frontend_get_features(struct vh_user_frontend *fe, uint64_t *features)
{
	int rc = get_u64(fe, VH_USER_GET_FEATURES, features);

	if (rc == 0)
		fe->offered_features = *features;
	return rc;
}

int
vh_user_frontend_set_features(struct vh_user_frontend *fe, uint64_t features)
{
	/* vhost-user: bit 30 is acked back when the back-end offered it. */
	if (fe->offered_features & (1ULL << VH_USER_F_PROTOCOL_FEATURES))
		features |= 1ULL << VH_USER_F_PROTOCOL_FEATURES;
	return send_u64(fe, VH_USER_SET_FEATURES, features);
}

int
vh_user_frontend_set_owner(struct vh_user_frontend *fe)
{
	return send_empty(fe, VH_USER_SET_OWNER);
}

int
vh_user_frontend_reset_owner(struct vh_user_frontend *fe)
{
	return send_empty(fe, VH_USER_RESET_OWNER);
}

static void
fill_region(struct vh_user_mem_region *d, const struct vh_mem_region *r)
{
	d->guest_phys_addr = r->guest_phys_addr;
	d->memory_size = r->memory_size;
	d->userspace_addr = r->userspace_addr;
	d->mmap_offset = r->mmap_offset;
}

int
vh_user_frontend_set_mem_table(struct vh_user_frontend *fe, const struct vh_mem_region *r,
			       unsigned int n)
{
	struct vh_user_msg m;
	int rc;

	if (r == NULL || n == 0 || n > VH_USER_MEM_TABLE_MAX_REGIONS)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_SET_MEM_TABLE, 8 + n * sizeof(struct vh_user_mem_region));
	m.payload.memory.nregions = n;
	for (unsigned int i = 0; i < n; i++) {
		if (r[i].fd < 0)
			return -EBADF;
		fill_region(&m.payload.memory.regions[i], &r[i]);
		m.fds[i] = r[i].fd;
	}
	m.nfds = n;
	rc = call(fe, &m, NULL);
	if (rc == 0) {
		for (unsigned int i = 0; i < n; i++)
			fill_region(&fe->shadow[i], &r[i]);
		fe->nshadow = n;
	}
	return rc;
}

int
vh_user_frontend_set_log_base(struct vh_user_frontend *fe, const struct vh_log_area *log)
{
	struct vh_user_msg m, r;
	int rc;

	if (log == NULL)
		return -EINVAL;
	/*
	 * vhost-user "Migration": the log is shared through LOG_SHMFD. The old
	 * u64 form carries an address of this process, which a back-end in
	 * another process cannot use, so it is never sent.
	 */
	if (!has_pf(fe, VH_USER_PROTOCOL_F_LOG_SHMFD))
		return -ENOTSUP;
	if (log->fd < 0)
		return -EBADF;
	vh_user_msg_init(&m, VH_USER_SET_LOG_BASE, sizeof(struct vh_user_log));
	m.payload.log.mmap_size = log->size;
	m.payload.log.mmap_offset = log->offset;
	m.fds[0] = log->fd;
	m.nfds = 1;
	/*
	 * With LOG_SHMFD the back-end always replies (vhost-user
	 * "Communication"), in no agreed form: DPDK sends no payload,
	 * libvhost-user 8 bytes (not a status), rust-vmm and this library the
	 * 16-byte log description. Like QEMU, any reply is the answer and a
	 * failing back-end closes the connection; need_reply is not set, as it
	 * changes nothing for a request that has a reply (REPLY_ACK).
	 */
	rc = call(fe, &m, &r);
	if (rc < 0)
		return rc;
	vh_user_msg_close_fds(&r);
	return 0;
}

int
vh_user_frontend_set_log_fd(struct vh_user_frontend *fe, int fd)
{
	struct vh_user_msg m;

	if (fd < 0)
		return -EBADF;
	vh_user_msg_init(&m, VH_USER_SET_LOG_FD, 0);
	m.fds[0] = fd;
	m.nfds = 1;
	return call(fe, &m, NULL);
}

int
vh_user_frontend_set_vring_num(struct vh_user_frontend *fe, unsigned int idx, unsigned int num)
{
	return send_state(fe, VH_USER_SET_VRING_NUM, idx, num);
}

int
vh_user_frontend_set_vring_addr(struct vh_user_frontend *fe, unsigned int idx,
				const struct vh_vring_addr *addr)
{
	struct vh_user_msg m;

	if (addr == NULL)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_SET_VRING_ADDR, sizeof(struct vh_user_vring_addr));
	m.payload.addr.index = idx;
	m.payload.addr.flags = addr->flags;
	m.payload.addr.desc_user_addr = addr->desc_user_addr;
	m.payload.addr.used_user_addr = addr->used_user_addr;
	m.payload.addr.avail_user_addr = addr->avail_user_addr;
	m.payload.addr.log_guest_addr = addr->log_guest_addr;
	return call(fe, &m, NULL);
}

int
vh_user_frontend_set_vring_base(struct vh_user_frontend *fe, unsigned int idx, uint32_t base)
{
	return send_state(fe, VH_USER_SET_VRING_BASE, idx, base);
}

int
vh_user_frontend_get_vring_base(struct vh_user_frontend *fe, unsigned int idx, uint32_t *base)
{
	struct vh_user_msg m, r;
	int rc;

	if (base == NULL)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_GET_VRING_BASE, sizeof(struct vh_user_vring_state));
	m.payload.state.index = idx;
	rc = call(fe, &m, &r);
	if (rc < 0)
		return rc;
	if (r.hdr.size != sizeof(struct vh_user_vring_state) || r.nfds != 0) {
		vh_user_msg_close_fds(&r);
		return broken(fe, -EPROTO);
	}
	*base = r.payload.state.num;
	return 0;
}

static int
send_vring_fd(struct vh_user_frontend *fe, uint32_t request, unsigned int idx, int fd)
{
	struct vh_user_msg m;

	if (idx > VH_USER_VRING_IDX_MASK)
		return -ERANGE;
	vh_user_msg_init(&m, request, sizeof(uint64_t));
	m.payload.u64 = idx;
	if (fd >= 0) {
		m.fds[0] = fd;
		m.nfds = 1;
	} else {
		m.payload.u64 |= VH_USER_VRING_NOFD_MASK;
	}
	return call(fe, &m, NULL);
}

int
vh_user_frontend_set_vring_kick(struct vh_user_frontend *fe, unsigned int idx, int fd)
{
	return send_vring_fd(fe, VH_USER_SET_VRING_KICK, idx, fd);
}

int
vh_user_frontend_set_vring_call(struct vh_user_frontend *fe, unsigned int idx, int fd)
{
	return send_vring_fd(fe, VH_USER_SET_VRING_CALL, idx, fd);
}

int
vh_user_frontend_set_vring_err(struct vh_user_frontend *fe, unsigned int idx, int fd)
{
	return send_vring_fd(fe, VH_USER_SET_VRING_ERR, idx, fd);
}

int
vh_user_frontend_get_protocol_features(struct vh_user_frontend *fe, uint64_t *features)
{
	if (!(fe->offered_features & (1ULL << VH_USER_F_PROTOCOL_FEATURES)))
		return -ENOTSUP;
	return get_u64(fe, VH_USER_GET_PROTOCOL_FEATURES, features);
}

int
vh_user_frontend_set_protocol_features(struct vh_user_frontend *fe, uint64_t features)
{
	int rc;

	if (!(fe->offered_features & (1ULL << VH_USER_F_PROTOCOL_FEATURES)))
		return -ENOTSUP;
	rc = send_u64(fe, VH_USER_SET_PROTOCOL_FEATURES, features);
	if (rc == 0)
		fe->protocol_features = features;
	return rc;
}

int
vh_user_frontend_get_queue_num(struct vh_user_frontend *fe, uint64_t *num)
{
	int rc = gate(fe, VH_USER_PROTOCOL_F_MQ);

	return rc < 0 ? rc : get_u64(fe, VH_USER_GET_QUEUE_NUM, num);
}

/* Bit 30: offered means acked, vh_user_frontend_set_features() always takes it. */
static bool
has_protocol_features_bit(const struct vh_user_frontend *fe)
{
	return (fe->offered_features & (1ULL << VH_USER_F_PROTOCOL_FEATURES)) != 0;
}

int
vh_user_frontend_set_vring_enable(struct vh_user_frontend *fe, unsigned int idx, bool enable)
{
	/* vhost-user SET_VRING_ENABLE: only with VHOST_USER_F_PROTOCOL_FEATURES. */
	if (!has_protocol_features_bit(fe))
		return -ENOTSUP;
	return send_state(fe, VH_USER_SET_VRING_ENABLE, idx, enable ? 1 : 0);
}

int
vh_user_frontend_send_rarp(struct vh_user_frontend *fe, const uint8_t mac[6])
{
	struct vh_user_msg m;
	int rc = gate(fe, VH_USER_PROTOCOL_F_RARP);

	if (rc < 0)
		return rc;
	vh_user_msg_init(&m, VH_USER_SEND_RARP, sizeof(uint64_t));
	memcpy(m.payload.raw, mac, 6);
	return call(fe, &m, NULL);
}

int
vh_user_frontend_net_set_mtu(struct vh_user_frontend *fe, uint16_t mtu)
{
	int rc = gate(fe, VH_USER_PROTOCOL_F_NET_MTU);

	return rc < 0 ? rc : send_u64(fe, VH_USER_NET_SET_MTU, mtu);
}

int
vh_user_frontend_set_backend_req_fd(struct vh_user_frontend *fe)
{
	struct vh_user_msg m;
	int sv[2], rc = gate(fe, VH_USER_PROTOCOL_F_BACKEND_REQ);

	if (rc < 0)
		return rc;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0) {
		rc = -errno;
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	vh_user_msg_init(&m, VH_USER_SET_BACKEND_REQ_FD, 0);
	m.fds[0] = sv[1];
	m.nfds = 1;
	rc = call(fe, &m, NULL);
	close(sv[1]);
	if (rc < 0) {
		close(sv[0]);
		return rc;
	}
	vh_close_fd(&fe->chan_fd);
	vh_user_rx_reset(&fe->chan_rx);
	fe->chan_fd = sv[0];
	return 0;
}

int
vh_user_frontend_iotlb_msg(struct vh_user_frontend *fe, const struct vh_user_iotlb *msg)
{
	struct vh_user_msg m;
	uint64_t v = 0;
	int rc;

	if (msg == NULL)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_IOTLB_MSG, sizeof(*msg));
	m.payload.iotlb = *msg;
	rc = call_u64(fe, &m, &v);
	return rc < 0 ? rc : v != 0 ? -EIO : 0;
}

int
vh_user_frontend_set_vring_endian(struct vh_user_frontend *fe, unsigned int idx, bool big_endian)
{
	int rc = gate(fe, VH_USER_PROTOCOL_F_CROSS_ENDIAN);

	return rc < 0 ? rc : send_state(fe, VH_USER_SET_VRING_ENDIAN, idx, big_endian ? 1 : 0);
}

int
vh_user_frontend_get_config(struct vh_user_frontend *fe, uint32_t offset, void *buf, uint32_t len,
			    uint32_t flags)
{
	struct vh_user_msg m, r;
	int rc = gate(fe, VH_USER_PROTOCOL_F_CONFIG);

	if (rc < 0)
		return rc;
	if (buf == NULL || len > VH_USER_MAX_CONFIG_SIZE)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_GET_CONFIG, VH_USER_CONFIG_HDR_SIZE + len);
	m.payload.config.offset = offset;
	m.payload.config.size = len;
	m.payload.config.flags = flags;
	rc = call(fe, &m, &r);
	if (rc < 0)
		return rc;
	vh_user_msg_close_fds(&r);
	/* vhost-user GET_CONFIG: an empty payload reports the back-end's failure. */
	if (r.hdr.size == 0)
		return -EIO;
	if (r.hdr.size != VH_USER_CONFIG_HDR_SIZE + len)
		return broken(fe, -EPROTO);
	memcpy(buf, r.payload.config.region, len);
	return 0;
}

int
vh_user_frontend_set_config(struct vh_user_frontend *fe, uint32_t offset, const void *buf,
			    uint32_t len, uint32_t flags)
{
	struct vh_user_msg m;
	int rc = gate(fe, VH_USER_PROTOCOL_F_CONFIG);

	if (rc < 0)
		return rc;
	if ((buf == NULL && len > 0) || len > VH_USER_MAX_CONFIG_SIZE)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_SET_CONFIG, VH_USER_CONFIG_HDR_SIZE + len);
	m.payload.config.offset = offset;
	m.payload.config.size = len;
	m.payload.config.flags = flags;
	if (len > 0)
		memcpy(m.payload.config.region, buf, len);
	return call(fe, &m, NULL);
}

int
vh_user_frontend_create_crypto_session(struct vh_user_frontend *fe, void *session, uint32_t len)
{
	struct vh_user_msg m, r;
	int rc = gate(fe, VH_USER_PROTOCOL_F_CRYPTO_SESSION);

	if (rc < 0)
		return rc;
	if (session == NULL || len < sizeof(uint64_t) || len > VH_USER_MAX_PAYLOAD)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_CREATE_CRYPTO_SESSION, len);
	memcpy(m.payload.raw, session, len);
	rc = call(fe, &m, &r);
	if (rc < 0)
		return rc;
	vh_user_msg_close_fds(&r);
	if (r.hdr.size != len)
		return broken(fe, -EPROTO);
	memcpy(session, r.payload.raw, len);
	return 0;
}

int
vh_user_frontend_close_crypto_session(struct vh_user_frontend *fe, uint64_t session_id)
{
	int rc = gate(fe, VH_USER_PROTOCOL_F_CRYPTO_SESSION);

	return rc < 0 ? rc : send_u64(fe, VH_USER_CLOSE_CRYPTO_SESSION, session_id);
}

int
vh_user_frontend_postcopy_advise(struct vh_user_frontend *fe, int *ufd)
{
	struct vh_user_msg m, r;
	int rc = gate(fe, VH_USER_PROTOCOL_F_PAGEFAULT);

	if (rc < 0)
		return rc;
	if (ufd == NULL)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_POSTCOPY_ADVISE, 0);
	rc = call(fe, &m, &r);
	if (rc < 0)
		return rc;
	if (r.nfds != 1) {
		vh_user_msg_close_fds(&r);
		return -EIO;
	}
	*ufd = vh_user_msg_take_fd(&r, 0);
	return 0;
}

int
vh_user_frontend_postcopy_listen(struct vh_user_frontend *fe)
{
	struct vh_user_msg m;
	int rc = gate(fe, VH_USER_PROTOCOL_F_PAGEFAULT);

	if (rc < 0)
		return rc;
	/* QEMU always asks for an acknowledgement of the switch to postcopy. */
	vh_user_msg_init(&m, VH_USER_POSTCOPY_LISTEN, 0);
	m.hdr.flags |= VH_USER_NEED_REPLY_MASK;
	return call(fe, &m, NULL);
}

int
vh_user_frontend_postcopy_end(struct vh_user_frontend *fe)
{
	struct vh_user_msg m;
	uint64_t v = 0;
	int rc = gate(fe, VH_USER_PROTOCOL_F_PAGEFAULT);

	if (rc < 0)
		return rc;
	vh_user_msg_init(&m, VH_USER_POSTCOPY_END, 0);
	rc = call_u64(fe, &m, &v);
	return rc < 0 ? rc : v != 0 ? -EIO : 0;
}

int
vh_user_frontend_get_inflight_fd(struct vh_user_frontend *fe, uint16_t num_queues,
				 uint16_t queue_size, struct vh_user_inflight *out, int *fd)
{
	struct vh_user_msg m, r;
	int rc = gate(fe, VH_USER_PROTOCOL_F_INFLIGHT_SHMFD);

	if (rc < 0)
		return rc;
	if (out == NULL || fd == NULL)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_GET_INFLIGHT_FD, sizeof(struct vh_user_inflight));
	m.payload.inflight.num_queues = num_queues;
	m.payload.inflight.queue_size = queue_size;
	rc = call(fe, &m, &r);
	if (rc < 0)
		return rc;
	if (r.hdr.size != sizeof(struct vh_user_inflight) || r.nfds != 1) {
		vh_user_msg_close_fds(&r);
		return broken(fe, -EPROTO);
	}
	*out = r.payload.inflight;
	*fd = vh_user_msg_take_fd(&r, 0);
	return 0;
}

int
vh_user_frontend_set_inflight_fd(struct vh_user_frontend *fe, const struct vh_user_inflight *in,
				 int fd)
{
	struct vh_user_msg m;
	int rc = gate(fe, VH_USER_PROTOCOL_F_INFLIGHT_SHMFD);

	if (rc < 0)
		return rc;
	if (in == NULL || fd < 0)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_SET_INFLIGHT_FD, sizeof(*in));
	m.payload.inflight = *in;
	m.fds[0] = fd;
	m.nfds = 1;
	return call(fe, &m, NULL);
}

int
vh_user_frontend_gpu_set_socket(struct vh_user_frontend *fe, int fd)
{
	struct vh_user_msg m;

	if (fd < 0)
		return -EBADF;
	vh_user_msg_init(&m, VH_USER_GPU_SET_SOCKET, 0);
	m.fds[0] = fd;
	m.nfds = 1;
	return call(fe, &m, NULL);
}

int
vh_user_frontend_reset_device(struct vh_user_frontend *fe)
{
	int rc = gate(fe, VH_USER_PROTOCOL_F_RESET_DEVICE);

	return rc < 0 ? rc : send_empty(fe, VH_USER_RESET_DEVICE);
}

int
vh_user_frontend_vring_kick(struct vh_user_frontend *fe, unsigned int idx)
{
	int rc = gate(fe, VH_USER_PROTOCOL_F_INBAND_NOTIFICATIONS);

	return rc < 0 ? rc : send_state(fe, VH_USER_VRING_KICK, idx, 0);
}

int
vh_user_frontend_get_max_mem_slots(struct vh_user_frontend *fe, uint64_t *slots)
{
	int rc = gate(fe, VH_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);

	return rc < 0 ? rc : get_u64(fe, VH_USER_GET_MAX_MEM_SLOTS, slots);
}

static int
send_mem_reg(struct vh_user_frontend *fe, uint32_t request, const struct vh_mem_region *r, int fd)
{
	struct vh_user_msg m;

	vh_user_msg_init(&m, request, sizeof(struct vh_user_mem_reg_msg));
	fill_region(&m.payload.mem_reg.region, r);
	if (fd >= 0) {
		m.fds[0] = fd;
		m.nfds = 1;
	}
	return call(fe, &m, NULL);
}

static bool
same_region(const struct vh_user_mem_region *a, const struct vh_mem_region *b)
{
	return a->guest_phys_addr == b->guest_phys_addr && a->memory_size == b->memory_size &&
	       a->userspace_addr == b->userspace_addr;
}

int
vh_user_frontend_add_mem_reg(struct vh_user_frontend *fe, const struct vh_mem_region *r)
{
	int rc = gate(fe, VH_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);

	if (rc < 0)
		return rc;
	if (r == NULL || r->fd < 0)
		return -EINVAL;
	if (fe->nshadow >= VH_USER_MAX_MEM_SLOTS)
		return -ENOSPC;
	rc = send_mem_reg(fe, VH_USER_ADD_MEM_REG, r, r->fd);
	if (rc == 0)
		fill_region(&fe->shadow[fe->nshadow++], r);
	return rc;
}

int
vh_user_frontend_rem_mem_reg(struct vh_user_frontend *fe, const struct vh_mem_region *r)
{
	int rc = gate(fe, VH_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);

	if (rc < 0)
		return rc;
	if (r == NULL)
		return -EINVAL;
	/* vhost-user REM_MEM_REG: "No file descriptors SHOULD be passed". */
	rc = send_mem_reg(fe, VH_USER_REM_MEM_REG, r, -1);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < fe->nshadow; i++) {
		if (same_region(&fe->shadow[i], r)) {
			fe->shadow[i] = fe->shadow[--fe->nshadow];
			break;
		}
	}
	return 0;
}

int
vh_user_frontend_set_status(struct vh_user_frontend *fe, uint8_t status)
{
	int rc = gate(fe, VH_USER_PROTOCOL_F_STATUS);

	return rc < 0 ? rc : send_u64(fe, VH_USER_SET_STATUS, status);
}

int
vh_user_frontend_get_status(struct vh_user_frontend *fe, uint8_t *status)
{
	uint64_t v = 0;
	int rc = gate(fe, VH_USER_PROTOCOL_F_STATUS);

	if (rc == 0)
		rc = status != NULL ? get_u64(fe, VH_USER_GET_STATUS, &v) : -EINVAL;
	if (rc == 0)
		*status = (uint8_t)v;
	return rc;
}

int
vh_user_frontend_get_shared_object(struct vh_user_frontend *fe, const uint8_t uuid[16], int *fd)
{
	struct vh_user_msg m, r;
	int rc = gate(fe, VH_USER_PROTOCOL_F_SHARED_OBJECT);

	if (rc < 0)
		return rc;
	if (uuid == NULL || fd == NULL)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_GET_SHARED_OBJECT, sizeof(struct vh_user_shared));
	memcpy(m.payload.object.uuid, uuid, 16);
	rc = call(fe, &m, &r);
	if (rc < 0)
		return rc;
	/* vhost-user: the fd comes when the object exists, nothing otherwise. */
	if (r.nfds != 1) {
		vh_user_msg_close_fds(&r);
		return -ENOENT;
	}
	*fd = vh_user_msg_take_fd(&r, 0);
	return 0;
}

int
vh_user_frontend_set_device_state_fd(struct vh_user_frontend *fe, uint32_t direction,
				     uint32_t phase, int fd, int *reply_fd)
{
	struct vh_user_msg m, r;
	int rc = gate(fe, VH_USER_PROTOCOL_F_DEVICE_STATE);

	if (rc < 0)
		return rc;
	if (fd < 0 || reply_fd == NULL)
		return -EINVAL;
	*reply_fd = -1;
	vh_user_msg_init(&m, VH_USER_SET_DEVICE_STATE_FD, sizeof(struct vh_user_device_state));
	m.payload.device_state.direction = direction;
	m.payload.device_state.phase = phase;
	m.fds[0] = fd;
	m.nfds = 1;
	rc = call(fe, &m, &r);
	if (rc < 0)
		return rc;
	if (r.hdr.size != sizeof(uint64_t)) {
		vh_user_msg_close_fds(&r);
		return broken(fe, -EPROTO);
	}
	/* Bits 0-7: error; bit 8: no fd; "must not both indicate an error and return an fd". */
	if ((r.payload.u64 & 0xff) != 0 ||
	    ((r.payload.u64 & VH_USER_DEVICE_STATE_NOFD) != 0) != (r.nfds == 0)) {
		vh_user_msg_close_fds(&r);
		return -EIO;
	}
	*reply_fd = vh_user_msg_take_fd(&r, 0);
	return 0;
}

int
vh_user_frontend_check_device_state(struct vh_user_frontend *fe)
{
	struct vh_user_msg m;
	uint64_t v = 0;
	int rc = gate(fe, VH_USER_PROTOCOL_F_DEVICE_STATE);

	if (rc < 0)
		return rc;
	vh_user_msg_init(&m, VH_USER_CHECK_DEVICE_STATE, 0);
	rc = call_u64(fe, &m, &v);
	return rc < 0 ? rc : v != 0 ? -EIO : 0;
}

int
vh_user_frontend_get_shmem_config(struct vh_user_frontend *fe, uint32_t *nregions,
				  uint64_t sizes[8])
{
	struct vh_user_msg m, r;
	int rc = gate(fe, VH_USER_PROTOCOL_F_SHMEM);

	if (rc < 0)
		return rc;
	if (nregions == NULL || sizes == NULL)
		return -EINVAL;
	vh_user_msg_init(&m, VH_USER_GET_SHMEM_CONFIG, 0);
	rc = call(fe, &m, &r);
	if (rc < 0)
		return rc;
	vh_user_msg_close_fds(&r);
	if (r.hdr.size != sizeof(struct vh_user_shmem_config) || r.payload.shmem.nregions > 8)
		return broken(fe, -EPROTO);
	*nregions = r.payload.shmem.nregions;
	memcpy(sizes, r.payload.shmem.memory_sizes, sizeof(r.payload.shmem.memory_sizes));
	return 0;
}

/* ---- the common backend interface ---- */

#define FE(b) ((struct vh_user_frontend *)(b))

static int
fb_get_features(struct vh_backend *b, uint64_t *f)
{
	int rc = vh_user_frontend_get_features(FE(b), f);

	/* Bit 30 is the protocol's, not the device's. */
	if (rc == 0)
		*f &= ~(1ULL << VH_USER_F_PROTOCOL_FEATURES);
	return rc;
}

/* Virtio device status bits (virtio 1.1, 2.1). */
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER	   2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8

/* ORs @p bits into the device status, as QEMU's vhost_user_add_status(). */
static int
add_status(struct vh_user_frontend *fe, uint8_t bits)
{
	uint8_t s;
	int rc;

	if (!has_pf(fe, VH_USER_PROTOCOL_F_STATUS))
		return 0;
	rc = vh_user_frontend_get_status(fe, &s);
	if (rc < 0 || (s & bits) == bits)
		return rc;
	return vh_user_frontend_set_status(fe, (uint8_t)(s | bits));
}

static int
fb_set_features(struct vh_backend *b, uint64_t f)
{
	int rc = vh_user_frontend_set_features(FE(b), f);

	/* With STATUS, a back-end learns the features are final from FEATURES_OK. */
	return rc < 0 ? rc : add_status(FE(b), STATUS_FEATURES_OK);
}

static int
fb_set_owner(struct vh_backend *b)
{
	return vh_user_frontend_set_owner(FE(b));
}

static int
fb_reset_owner(struct vh_backend *b)
{
	return vh_user_frontend_reset_owner(FE(b));
}

static bool
in_table(const struct vh_mem_region *r, unsigned int n, const struct vh_user_mem_region *s)
{
	for (unsigned int i = 0; i < n; i++)
		if (same_region(s, &r[i]))
			return true;
	return false;
}

/* As QEMU does with CONFIGURE_MEM_SLOTS: remove what went, then add what came. */
static int
set_mem_table_by_slots(struct vh_user_frontend *fe, const struct vh_mem_region *r, unsigned int n)
{
	int rc;

	if (n > fe->max_mem_slots)
		return -E2BIG;
	for (uint32_t i = fe->nshadow; i-- > 0;) {
		struct vh_mem_region gone = {
			fe->shadow[i].guest_phys_addr, fe->shadow[i].memory_size,
			fe->shadow[i].userspace_addr, fe->shadow[i].mmap_offset, -1};

		if (in_table(r, n, &fe->shadow[i]))
			continue;
		rc = vh_user_frontend_rem_mem_reg(fe, &gone);
		if (rc < 0)
			return rc;
	}
	for (unsigned int i = 0; i < n; i++) {
		bool known = false;

		for (uint32_t j = 0; j < fe->nshadow && !known; j++)
			known = same_region(&fe->shadow[j], &r[i]);
		if (known)
			continue;
		rc = vh_user_frontend_add_mem_reg(fe, &r[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
fb_set_mem_table(struct vh_backend *b, const struct vh_mem_region *r, unsigned int n)
{
	struct vh_user_frontend *fe = FE(b);

	if (has_pf(fe, VH_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))
		return set_mem_table_by_slots(fe, r, n);
	if (n > VH_USER_MEM_TABLE_MAX_REGIONS)
		return -E2BIG;
	return vh_user_frontend_set_mem_table(fe, r, n);
}

static int
fb_set_log_base(struct vh_backend *b, const struct vh_log_area *log)
{
	return vh_user_frontend_set_log_base(FE(b), log);
}

static int
fb_set_log_fd(struct vh_backend *b, int fd)
{
	return vh_user_frontend_set_log_fd(FE(b), fd);
}

static int
fb_set_vring_num(struct vh_backend *b, unsigned int idx, unsigned int num)
{
	return vh_user_frontend_set_vring_num(FE(b), idx, num);
}

static int
fb_set_vring_addr(struct vh_backend *b, unsigned int idx, const struct vh_vring_addr *addr)
{
	return vh_user_frontend_set_vring_addr(FE(b), idx, addr);
}

static int
fb_set_vring_base(struct vh_backend *b, unsigned int idx, uint32_t base)
{
	return vh_user_frontend_set_vring_base(FE(b), idx, base);
}

static int
fb_get_vring_base(struct vh_backend *b, unsigned int idx, uint32_t *base)
{
	return vh_user_frontend_get_vring_base(FE(b), idx, base);
}

static int
fb_set_vring_kick(struct vh_backend *b, unsigned int idx, int fd)
{
	return vh_user_frontend_set_vring_kick(FE(b), idx, fd);
}

static int
fb_set_vring_call(struct vh_backend *b, unsigned int idx, int fd)
{
	return vh_user_frontend_set_vring_call(FE(b), idx, fd);
}

static int
fb_set_vring_err(struct vh_backend *b, unsigned int idx, int fd)
{
	return vh_user_frontend_set_vring_err(FE(b), idx, fd);
}

static int
fb_set_vring_enable(struct vh_backend *b, unsigned int idx, int enable)
{
	/*
	 * vhost-user "Ring states": without VHOST_USER_F_PROTOCOL_FEATURES the
	 * rings are enabled by SET_FEATURES and SET_VRING_ENABLE is not sent.
	 */
	if (!has_protocol_features_bit(FE(b)))
		return enable ? 0 : -ENOTSUP;
	return vh_user_frontend_set_vring_enable(FE(b), idx, enable != 0);
}

/* Every ring is configured: with STATUS the device learns it from DRIVER_OK. */
static int
fb_driver_ok(struct vh_backend *b)
{
	return add_status(FE(b), STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK |
					 STATUS_DRIVER_OK);
}

static void
fb_destroy(struct vh_backend *b)
{
	vh_user_frontend_destroy(FE(b));
}

static const struct vh_backend_ops frontend_backend_ops = {
	.get_features = fb_get_features,
	.set_features = fb_set_features,
	.set_owner = fb_set_owner,
	.reset_owner = fb_reset_owner,
	.set_mem_table = fb_set_mem_table,
	.set_log_base = fb_set_log_base,
	.set_log_fd = fb_set_log_fd,
	.set_vring_num = fb_set_vring_num,
	.set_vring_addr = fb_set_vring_addr,
	.set_vring_base = fb_set_vring_base,
	.get_vring_base = fb_get_vring_base,
	.set_vring_kick = fb_set_vring_kick,
	.set_vring_call = fb_set_vring_call,
	.set_vring_err = fb_set_vring_err,
	.set_vring_enable = fb_set_vring_enable,
	.destroy = fb_destroy,
	.driver_ok = fb_driver_ok,
};

/* ---- life cycle ---- */

struct vh_user_frontend *
vh_user_frontend_create(int fd, const struct vh_user_frontend_config *cfg)
{
	struct vh_user_frontend *fe;

	if (fd < 0) {
		errno = EINVAL;
		return NULL;
	}
	fe = calloc(1, sizeof(*fe));
	if (fe == NULL) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	if (cfg != NULL)
		fe->cfg = *cfg;
	if (fe->cfg.timeout_ms == 0)
		fe->cfg.timeout_ms = 5000;
	snprintf(fe->name, sizeof(fe->name), "%s",
		 fe->cfg.name != NULL ? fe->cfg.name : "vhost-user front-end");
	fe->cfg.name = fe->name;
	fe->b.ops = &frontend_backend_ops;
	fe->b.kind = VH_BACKEND_USER;
	fe->fd = fd;
	fe->connected = true;
	fe->chan_fd = -1;
	fe->queue_num = 1;
	fe->max_mem_slots = VH_USER_MEM_TABLE_MAX_REGIONS;
	vh_user_rx_init(&fe->rx, VH_USER_RX_REPLY);
	vh_user_rx_init(&fe->chan_rx, VH_USER_RX_BACKEND_REQ);
	return fe;
}

/*
 * By default only what this library's own flow drives: a back-end may
 * change how it works once a feature is acked (libvhost-user requires an
 * inflight area once INFLIGHT_SHMFD is, before the first kick), so the
 * rest is the caller's choice (vh_user_frontend_config.protocol_features).
 */
static uint64_t
wanted_protocol_features(const struct vh_user_frontend *fe)
{
	uint64_t want = fe->cfg.protocol_features != 0 ? fe->cfg.protocol_features
						       : VH_USER_FRONTEND_DEFAULT_PROTOCOL_FEATURES;

	if (fe->cfg.protocol_features == 0 && fe->cfg.backend_channel)
		want |= FE_CHANNEL_FEATURES;
	return want;
}

int
vh_user_frontend_negotiate(struct vh_user_frontend *fe)
{
	uint64_t want, pf;
	int rc = vh_user_frontend_get_features(fe, &fe->offered_features);

	if (rc < 0 || !(fe->offered_features & (1ULL << VH_USER_F_PROTOCOL_FEATURES)))
		return rc;
	rc = vh_user_frontend_get_protocol_features(fe, &pf);
	if (rc < 0)
		return rc;
	fe->offered_protocol = pf;
	want = wanted_protocol_features(fe) & FE_PROTOCOL_FEATURES & pf;
	/* vhost-user "In-band notifications" need BACKEND_REQ and REPLY_ACK too. */
	if ((want & (PF(BACKEND_REQ) | PF(REPLY_ACK))) != (PF(BACKEND_REQ) | PF(REPLY_ACK)))
		want &= ~PF(INBAND_NOTIFICATIONS);
	rc = vh_user_frontend_set_protocol_features(fe, want);
	if (rc == 0 && has_pf(fe, VH_USER_PROTOCOL_F_MQ))
		rc = vh_user_frontend_get_queue_num(fe, &fe->queue_num);
	if (rc == 0 && has_pf(fe, VH_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
		rc = vh_user_frontend_get_max_mem_slots(fe, &fe->max_mem_slots);
		if (fe->max_mem_slots > VH_USER_MAX_MEM_SLOTS)
			fe->max_mem_slots = VH_USER_MAX_MEM_SLOTS;
	}
	if (rc == 0 && fe->cfg.backend_channel && has_pf(fe, VH_USER_PROTOCOL_F_BACKEND_REQ))
		rc = vh_user_frontend_set_backend_req_fd(fe);
	return rc;
}

int
vh_user_frontend_connect(const char *path, uint32_t timeout_ms,
			 const struct vh_user_frontend_config *cfg, struct vh_user_frontend **out)
{
	struct vh_user_frontend *fe;
	int fd, rc;

	if (out == NULL)
		return -EINVAL;
	fd = vh_user_connect_wait(path, timeout_ms);
	if (fd < 0)
		return fd;
	fe = vh_user_frontend_create(fd, cfg);
	if (fe == NULL)
		return -errno;
	rc = vh_user_frontend_negotiate(fe);
	if (rc < 0) {
		vh_user_frontend_destroy(fe);
		return rc;
	}
	*out = fe;
	return 0;
}

void
vh_user_frontend_destroy(struct vh_user_frontend *fe)
{
	if (fe == NULL)
		return;
	vh_close_fd(&fe->fd);
	vh_close_fd(&fe->chan_fd);
	vh_user_rx_reset(&fe->rx);
	vh_user_rx_reset(&fe->chan_rx);
	free(fe);
}

struct vh_backend *
vh_user_frontend_backend(struct vh_user_frontend *fe)
{
	return &fe->b;
}

int
vh_user_frontend_fd(const struct vh_user_frontend *fe)
{
	return fe->fd;
}

bool
vh_user_frontend_connected(const struct vh_user_frontend *fe)
{
	return fe->connected;
}

uint64_t
vh_user_frontend_offered_features(const struct vh_user_frontend *fe)
{
	return fe->offered_features;
}

uint64_t
vh_user_frontend_offered_protocol_features(const struct vh_user_frontend *fe)
{
	return fe->offered_protocol;
}

uint64_t
vh_user_frontend_protocol_features(const struct vh_user_frontend *fe)
{
	return fe->protocol_features;
}

uint64_t
vh_user_frontend_queue_num(const struct vh_user_frontend *fe)
{
	return fe->queue_num;
}

uint64_t
vh_user_frontend_max_mem_slots(const struct vh_user_frontend *fe)
{
	return fe->max_mem_slots;
}

int
vh_user_frontend_channel_fd(const struct vh_user_frontend *fe)
{
	return fe->chan_fd;
}
