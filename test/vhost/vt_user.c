/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the vhost-user tests: a recording device, memfd guest
 * memory and a back-end server thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vt_user.h"

/* ---- the recording device ---- */

#define DEV(p) ((struct vt_udev *)(p))

/* Appends to the event log; called with the lock held. */
static void __attribute__((format(printf, 2, 3))) dev_event(struct vt_udev *d, const char *fmt, ...)
{
	size_t n = strlen(d->events);
	va_list ap;

	if (n + 16 >= sizeof(d->events))
		return;
	va_start(ap, fmt);
	vsnprintf(d->events + n, sizeof(d->events) - n, fmt, ap);
	va_end(ap);
}

void
vt_udev_clear_events(struct vt_udev *d)
{
	pthread_mutex_lock(&d->lock);
	d->events[0] = '\0';
	pthread_mutex_unlock(&d->lock);
}

static uint64_t
dev_get_features(void *p)
{
	return DEV(p)->features_offered;
}

static int
dev_set_features(void *p, uint64_t f)
{
	struct vt_udev *d = DEV(p);
	int rc = 0;

	pthread_mutex_lock(&d->lock);
	if (d->refuse_features)
		rc = -EINVAL;
	else {
		d->features = f;
		d->features_sets++;
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static void
dev_set_protocol_features(void *p, uint64_t pf)
{
	pthread_mutex_lock(&DEV(p)->lock);
	DEV(p)->protocol_features = pf;
	pthread_mutex_unlock(&DEV(p)->lock);
}

static int
dev_ring_started(void *p, const struct vh_user_ring *r)
{
	struct vt_udev *d = DEV(p);
	struct vt_ring_rec *rec;
	int rc = 0;

	if (r->idx >= VT_MAX_RINGS)
		return -ERANGE;
	pthread_mutex_lock(&d->lock);
	rec = &d->rings[r->idx];
	if (d->fail_ring_start) {
		rc = -EIO;
	} else {
		rec->starts++;
		rec->started = true;
		rec->last = *r;
		rec->enabled = r->enabled;
		dev_event(d, "S%u ", r->idx);
		if (r->inflight != NULL)
			d->inflight_byte = *(volatile uint8_t *)r->inflight;
		/* Touching the areas proves they are mapped where the library says. */
		if (d->touch_rings) {
			volatile uint8_t *desc = r->desc, *used = r->used;

			rec->avail_byte0 = *(volatile uint8_t *)r->avail;
			(void)desc[16 * r->size - 1];
			(void)used[0];
		}
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static void
dev_ring_stopped(void *p, unsigned int idx, struct vh_user_ring_base *b)
{
	struct vt_udev *d = DEV(p);
	struct vt_ring_rec *rec;

	if (idx >= VT_MAX_RINGS)
		return;
	pthread_mutex_lock(&d->lock);
	rec = &d->rings[idx];
	*b = rec->last.base;
	b->avail_idx = (uint16_t)(b->avail_idx + rec->advance.avail_idx);
	b->used_idx = (uint16_t)(b->used_idx + rec->advance.used_idx);
	b->avail_wrap ^= rec->advance.avail_wrap;
	b->used_wrap ^= rec->advance.used_wrap;
	rec->stops++;
	rec->started = false;
	dev_event(d, "P%u ", idx);
	pthread_mutex_unlock(&d->lock);
}

static void
dev_ring_enabled(void *p, unsigned int idx, bool enabled)
{
	struct vt_udev *d = DEV(p);

	if (idx >= VT_MAX_RINGS)
		return;
	pthread_mutex_lock(&d->lock);
	d->rings[idx].enabled = enabled;
	d->rings[idx].enable_events++;
	pthread_mutex_unlock(&d->lock);
}

static void
dev_ring_kick(void *p, unsigned int idx)
{
	if (idx >= VT_MAX_RINGS)
		return;
	pthread_mutex_lock(&DEV(p)->lock);
	DEV(p)->rings[idx].kicks++;
	pthread_mutex_unlock(&DEV(p)->lock);
}

static int
dev_mem_changed(void *p, const struct vh_mem_table *mem)
{
	struct vt_udev *d = DEV(p);

	/* Reading every region's ends proves the mappings are live. */
	for (uint32_t i = 0; mem != NULL && i < mem->nregions; i++) {
		volatile uint8_t *h = mem->regions[i].host;

		(void)h[0];
		(void)h[mem->regions[i].size - 1];
	}
	pthread_mutex_lock(&d->lock);
	d->mem_changes++;
	d->mem_null = mem == NULL;
	d->mem_nregions = mem != NULL ? mem->nregions : 0;
	dev_event(d, "M%u ", d->mem_nregions);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static int
dev_get_config(void *p, uint32_t offset, void *buf, uint32_t len)
{
	struct vt_udev *d = DEV(p);

	if (offset == 0xdead)
		return -EIO;
	pthread_mutex_lock(&d->lock);
	memcpy(buf, d->config + offset, len);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static int
dev_set_config(void *p, uint32_t offset, const void *buf, uint32_t len, uint32_t flags)
{
	struct vt_udev *d = DEV(p);

	/* The MAC (bytes 0..5) is read-only unless migrating. */
	if (offset < 6 && flags == 0)
		return -EPERM;
	pthread_mutex_lock(&d->lock);
	memcpy(d->config + offset, buf, len);
	d->config_writes++;
	d->config_write_flags = flags;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static void
dev_reset(void *p)
{
	pthread_mutex_lock(&DEV(p)->lock);
	DEV(p)->resets++;
	dev_event(DEV(p), "R%u ", 0);
	pthread_mutex_unlock(&DEV(p)->lock);
}

static int
dev_set_status(void *p, uint8_t status)
{
	pthread_mutex_lock(&DEV(p)->lock);
	DEV(p)->status = status;
	pthread_mutex_unlock(&DEV(p)->lock);
	return 0;
}

static int
dev_send_rarp(void *p, const uint8_t mac[6])
{
	pthread_mutex_lock(&DEV(p)->lock);
	memcpy(DEV(p)->rarp_mac, mac, 6);
	DEV(p)->rarps++;
	pthread_mutex_unlock(&DEV(p)->lock);
	return 0;
}

static int
dev_set_mtu(void *p, uint16_t mtu)
{
	if (mtu > 9000)
		return -EINVAL; /* the device's own limit */
	pthread_mutex_lock(&DEV(p)->lock);
	DEV(p)->mtu = mtu;
	pthread_mutex_unlock(&DEV(p)->lock);
	return 0;
}

const struct vh_user_device_ops vt_udev_ops = {
	.get_features = dev_get_features,
	.set_features = dev_set_features,
	.set_protocol_features = dev_set_protocol_features,
	.ring_started = dev_ring_started,
	.ring_stopped = dev_ring_stopped,
	.ring_enabled = dev_ring_enabled,
	.ring_kick = dev_ring_kick,
	.mem_changed = dev_mem_changed,
	.get_config = dev_get_config,
	.set_config = dev_set_config,
	.reset = dev_reset,
	.set_status = dev_set_status,
	.send_rarp = dev_send_rarp,
	.set_mtu = dev_set_mtu,
};

/* The minimum a device must implement. */
const struct vh_user_device_ops vt_udev_ops_no_kick = {
	.get_features = dev_get_features,
	.ring_started = dev_ring_started,
	.ring_stopped = dev_ring_stopped,
	.mem_changed = dev_mem_changed,
};

void
vt_udev_init(struct vt_udev *d)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->features_offered = VT_UDEV_FEATURES;
	for (int i = 0; i < 6; i++)
		d->config[i] = (uint8_t)(0x52 + i);
}

void
vt_udev_snapshot(struct vt_udev *d, struct vt_udev *out)
{
	pthread_mutex_lock(&d->lock);
	*out = *d;
	pthread_mutex_unlock(&d->lock);
}

int
vt_count_maps_matching(const char *needle)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	int n = 0;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/* ---- guest memory ---- */

int
vt_guest_mem_create(struct vt_guest_mem *m, uint64_t size, uint64_t gpa)
{
	memset(m, 0, sizeof(*m));
	m->fd = memfd_create("vt-guest", MFD_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, (off_t)size) != 0) {
		close(m->fd);
		return -errno;
	}
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->base == MAP_FAILED) {
		close(m->fd);
		return -errno;
	}
	m->size = size;
	m->gpa = gpa;
	return 0;
}

void
vt_guest_mem_destroy(struct vt_guest_mem *m)
{
	if (m->base != NULL && m->base != MAP_FAILED)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->base = NULL;
	m->fd = -1;
}

struct vh_mem_region
vt_guest_mem_region(const struct vt_guest_mem *m)
{
	struct vh_mem_region r = {m->gpa, m->size, (uint64_t)(uintptr_t)m->base, 0, m->fd};

	return r;
}

struct vh_vring_addr
vt_ring_addr(const struct vt_guest_mem *m, unsigned int idx)
{
	uint64_t base = (uint64_t)(uintptr_t)m->base + (uint64_t)idx * 0x10000;
	struct vh_vring_addr a = {0, base, base + 0x6000, base + 0x4000,
				  m->gpa + idx * 0x10000 + 0x6000};

	return a;
}

/* ---- the server thread ---- */

#define VT_SERVER_CONNS 8

static void
server_end(struct vt_server *s, struct vh_user_backend **be, int rc)
{
	vh_user_backend_destroy(*be);
	*be = NULL;
	pthread_mutex_lock(&s->lock);
	s->closed++;
	s->last_rc = rc;
	pthread_mutex_unlock(&s->lock);
}

static void
server_add(struct vt_server *s, struct vh_user_backend **conns, int fd)
{
	for (int i = 0; i < VT_SERVER_CONNS; i++) {
		if (conns[i] == NULL) {
			conns[i] = vh_user_backend_create(&s->cfg, fd);
			pthread_mutex_lock(&s->lock);
			s->connections++;
			pthread_mutex_unlock(&s->lock);
			return;
		}
	}
	close(fd); /* full: refuse */
}

/* Serves the listener and up to VT_SERVER_CONNS connections, like a switch would. */
static void *
server_main(void *arg)
{
	struct vt_server *s = arg;
	struct vh_user_backend *conns[VT_SERVER_CONNS] = {NULL};

	if (s->conn_fd >= 0) {
		server_add(s, conns, s->conn_fd);
		s->conn_fd = -1;
	}
	for (;;) {
		struct pollfd p[3 + VT_SERVER_CONNS];
		int n = 0;

		p[n++] = (struct pollfd){s->stop_fd, POLLIN, 0};
		p[n++] = (struct pollfd){s->listen_fd, POLLIN, 0};
		p[n++] = (struct pollfd){s->job_fd, POLLIN, 0};
		for (int i = 0; i < VT_SERVER_CONNS; i++)
			p[n++] = (struct pollfd){
				conns[i] != NULL ? vh_user_backend_fd(conns[i]) : -1, POLLIN, 0};
		if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents != 0)
			break;
		if (p[2].revents != 0) {
			uint64_t v;

			if (read(s->job_fd, &v, sizeof(v)) < 0)
				continue;
		}
		if (p[1].revents != 0) {
			int fd = vh_user_accept(s->listen_fd);

			if (fd >= 0)
				server_add(s, conns, fd);
		}
		for (int i = 0; i < VT_SERVER_CONNS; i++) {
			if (conns[i] != NULL && p[3 + i].revents != 0) {
				int rc = vh_user_backend_handle_readable(conns[i]);

				if (rc < 0)
					server_end(s, &conns[i], rc);
			}
			if (conns[i] != NULL && s->job_conn == i &&
			    __atomic_load_n(&s->job, __ATOMIC_ACQUIRE) != NULL) {
				s->job_rc = s->job(conns[i], s->job_arg);
				__atomic_store_n(&s->job, NULL, __ATOMIC_RELAXED);
				__atomic_store_n(&s->job_done, true, __ATOMIC_RELEASE);
			}
		}
	}
	for (int i = 0; i < VT_SERVER_CONNS; i++)
		if (conns[i] != NULL)
			server_end(s, &conns[i], 0);
	return NULL;
}

int
vt_job_backend_request(struct vh_user_backend *be, void *arg)
{
	struct vt_backend_req *b = arg;

	return vh_user_backend_send_request(be, b->req, b->payload, b->size,
					    b->fd >= 0 ? &b->fd : NULL, b->fd >= 0 ? 1 : 0,
					    &b->reply);
}

int
vt_server_run_job(struct vt_server *s, int conn, int (*job)(struct vh_user_backend *, void *),
		  void *arg, struct vh_user_frontend *fe, unsigned ms)
{
	uint64_t deadline = vt_now_ms() + ms, one = 1;

	s->job_arg = arg;
	s->job_conn = conn;
	s->job_done = false;
	__atomic_store_n(&s->job, job, __ATOMIC_RELEASE);
	/* Wake the thread; it runs the job after its next poll. */
	if (write(s->job_fd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	while (!__atomic_load_n(&s->job_done, __ATOMIC_ACQUIRE)) {
		if (vt_now_ms() >= deadline)
			return -ETIMEDOUT;
		/* The job may wait for our answer on the back-end channel. */
		if (fe != NULL && vh_user_frontend_channel_fd(fe) >= 0) {
			struct pollfd p = {vh_user_frontend_channel_fd(fe), POLLIN, 0};

			if (poll(&p, 1, 5) > 0)
				vh_user_frontend_handle_channel(fe);
		} else {
			usleep(1000);
		}
	}
	return s->job_rc;
}

static int
server_start(struct vt_server *s, uint32_t max_rings)
{
	vt_udev_init(&s->dev);
	pthread_mutex_init(&s->lock, NULL);
	s->cfg.ops = &vt_udev_ops;
	s->cfg.device = &s->dev;
	s->cfg.max_rings = max_rings;
	s->cfg.name = "vt-backend";
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	s->job_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0 || s->job_fd < 0)
		return -errno;
	if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
		close(s->stop_fd);
		return -EAGAIN;
	}
	s->running = true;
	return 0;
}

static void
server_zero(struct vt_server *s)
{
	memset(s, 0, sizeof(*s));
	s->listen_fd = s->conn_fd = s->stop_fd = s->job_fd = -1;
}

int
vt_server_listen(struct vt_server *s, const char *name, uint32_t max_rings)
{
	int rc;

	server_zero(s);
	vt_path(s->path, sizeof(s->path), name);
	s->listen_fd = vh_user_listen(s->path);
	if (s->listen_fd < 0)
		return s->listen_fd;
	rc = server_start(s, max_rings);
	if (rc < 0)
		close(s->listen_fd);
	return rc;
}

int
vt_server_pair(struct vt_server *s, int *client, uint32_t max_rings)
{
	int sv[2], rc;

	server_zero(s);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	s->conn_fd = sv[0];
	*client = sv[1];
	rc = server_start(s, max_rings);
	if (rc < 0) {
		close(sv[0]);
		close(sv[1]);
	}
	return rc;
}

void
vt_server_stop(struct vt_server *s)
{
	uint64_t one = 1;

	if (!s->running)
		return;
	if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
		perror("vt_server_stop");
	pthread_join(s->thread, NULL);
	s->running = false;
	close(s->stop_fd);
	close(s->job_fd);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	if (s->conn_fd >= 0)
		close(s->conn_fd);
	s->listen_fd = s->conn_fd = s->stop_fd = s->job_fd = -1;
}

int
vt_server_closed(struct vt_server *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->closed;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int
vt_server_last_rc(struct vt_server *s)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = s->last_rc;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

bool
vt_server_wait_closed(struct vt_server *s, int closed, unsigned ms)
{
	uint64_t deadline = vt_now_ms() + ms;

	while (vt_server_closed(s) < closed) {
		if (vt_now_ms() >= deadline)
			return false;
		usleep(2000);
	}
	return true;
}

/* ---- front-end side helpers ---- */

int
vt_frontend_open(struct vt_server *s, struct vh_user_frontend **fe, uint64_t pf_mask)
{
	/* 0: every protocol feature the front-end implements, so each request can be tested. */
	struct vh_user_frontend_config cfg = {.protocol_features = pf_mask != 0 ? pf_mask : ~0ULL,
					      .timeout_ms = 5000};

	return vh_user_frontend_connect(s->path, 2000, &cfg, fe);
}

int
vt_frontend_setup_ring(struct vh_user_frontend *fe, const struct vt_guest_mem *m, unsigned int idx,
		       unsigned int num, uint32_t base, int *kick, int *call)
{
	struct vh_vring_addr a = vt_ring_addr(m, idx);
	int rc;

	*kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	*call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*kick < 0 || *call < 0)
		return -errno;
	rc = vh_user_frontend_set_vring_num(fe, idx, num);
	if (rc == 0)
		rc = vh_user_frontend_set_vring_base(fe, idx, base);
	if (rc == 0)
		rc = vh_user_frontend_set_vring_addr(fe, idx, &a);
	if (rc == 0)
		rc = vh_user_frontend_set_vring_call(fe, idx, *call);
	if (rc == 0)
		rc = vh_user_frontend_set_vring_kick(fe, idx, *kick);
	return rc;
}

int
vt_sync(struct vh_user_frontend *fe)
{
	uint64_t f;

	return vh_user_frontend_get_features(fe, &f);
}

int
vt_send_raw(int fd, uint32_t request, uint32_t flags, const void *payload, uint32_t size,
	    const int *fds, unsigned int nfds)
{
	struct vh_user_msg m;

	vh_user_msg_init(&m, request, size);
	m.hdr.flags = flags;
	if (size > 0 && payload != NULL)
		memcpy(m.payload.raw, payload, size);
	for (unsigned int i = 0; i < nfds; i++)
		m.fds[i] = fds[i];
	m.nfds = nfds;
	return vh_user_send(fd, &m, 2000);
}

int
vt_recv_reply(int fd, struct vh_user_msg *reply, unsigned ms)
{
	static struct vh_user_rx rx;
	int rc;

	vh_user_rx_init(&rx, VH_USER_RX_REPLY);
	rc = vh_user_rx_wait(fd, &rx, ms);
	if (rc == -ECONNRESET)
		return 0;
	if (rc < 0)
		return rc;
	reply->hdr = rx.msg.hdr;
	memcpy(reply->payload.raw, rx.msg.payload.raw, rx.msg.hdr.size);
	reply->nfds = rx.msg.nfds;
	memcpy(reply->fds, rx.msg.fds, sizeof(reply->fds));
	return 1;
}
