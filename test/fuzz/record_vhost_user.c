/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Records a real front-end's vhost-user session as a seed of
 * fuzz_vhost_user_backend.
 *
 *   fuzz-record-vhost-user SOCKET OUTFILE [SECONDS]
 *       listens on SOCKET, serves one front-end (dpdk-testpmd's
 *       net_virtio_user, QEMU) until it disconnects or SECONDS (default 30)
 *       pass, and writes the session to OUTFILE;
 *   fuzz-record-vhost-user --self OUTDIR
 *       records sessions of lib/vhost's own front-end (requests the others
 *       do not send: memory slots, inflight areas, the dirty log, config
 *       space, status, reset) into OUTDIR.
 *
 * The recorder stands between the front-end and a real back-end of this
 * library (with a device that accepts rings and never consumes them): every
 * message the front-end sends becomes a MSG record, its fds described by
 * what they are (a memory file and its size, an eventfd, a socket); the
 * back-end's replies go back to the front-end. When the front-end kicks a
 * ring, what it wrote into the ring since the last kick (descriptors,
 * indexes, flags, indirect tables) becomes GUEST_WRITE records, then a
 * KICK record; so the seed replays the driver's real rings too.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fz_input.h"
#include "fz_vhost.h"
#include "vhost_diag.h"
#include "vhost_user_backend.h"
#include "vhost_user_conn.h"
#include "vhost_user_frontend.h"
#include "virtq.h"

#define RINGS	      FZ_VH_RINGS
#define MAX_SNAPSHOTS 6 /* per ring: the first kicks say it all */
#define MAX_OUT	      (60 * 1024)

struct rec_ring {
	bool started;
	struct vh_user_ring r;
	uint8_t *shadow[3]; /* what the seed has of desc, avail, used */
	uint64_t len[3];
	int snapshots;
};

struct recorder {
	struct fz_out out;
	struct vh_user_backend *be;
	const struct vh_mem_table *mem;
	struct rec_ring ring[RINGS];
	uint64_t last_memfd_ino;
	int nmsgs, nkicks;
};

static struct recorder rec;

/* ---- the device: accepts rings, consumes nothing ---- */

static uint64_t
dev_get_features(void *d)
{
	(void)d;
	return (1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << 15 /* MRG_RXBUF */) |
	       (1ULL << VH_VIRTIO_RING_F_EVENT_IDX) | (1ULL << VH_VIRTIO_RING_F_INDIRECT_DESC) |
	       (1ULL << VH_VIRTIO_F_RING_PACKED) | (1ULL << VH_VHOST_F_LOG_ALL) |
	       (1ULL << 22 /* MQ */) | (1ULL << 5 /* MAC */) | (1ULL << 16 /* STATUS */);
}

static int
dev_ring_started(void *d, const struct vh_user_ring *r)
{
	struct rec_ring *rr = &rec.ring[r->idx];
	uint64_t n = r->size;

	(void)d;
	rr->r = *r;
	rr->len[0] = 16 * n;
	rr->len[1] = r->packed ? 4 : 4 + 2 * n + (r->event_idx ? 2 : 0);
	rr->len[2] = r->packed ? 4 : 4 + 8 * n + (r->event_idx ? 2 : 0);
	for (int a = 0; a < 3; a++) {
		free(rr->shadow[a]);
		rr->shadow[a] = calloc(1, rr->len[a]);
	}
	rr->started = true;
	return 0;
}

static void
dev_ring_stopped(void *d, unsigned int idx, struct vh_user_ring_base *base)
{
	(void)d;
	/* Nothing consumed: the position it started from. */
	*base = rec.ring[idx].r.base;
	rec.ring[idx].started = false;
}

static int
dev_mem_changed(void *d, const struct vh_mem_table *mem)
{
	(void)d;
	rec.mem = mem;
	return 0;
}

/* Config space, RARP and MTU, so that their protocol features are offered. */
static uint8_t config[VH_USER_MAX_CONFIG_SIZE];

static int
dev_get_config(void *d, uint32_t offset, void *buf, uint32_t len)
{
	(void)d;
	memcpy(buf, config + offset, len);
	return 0;
}

static int
dev_set_config(void *d, uint32_t offset, const void *buf, uint32_t len, uint32_t flags)
{
	(void)d;
	(void)flags;
	memcpy(config + offset, buf, len);
	return 0;
}

static int
dev_send_rarp(void *d, const uint8_t mac[6])
{
	(void)d;
	(void)mac;
	return 0;
}

static int
dev_set_mtu(void *d, uint16_t mtu)
{
	(void)d;
	(void)mtu;
	return 0;
}

static const struct vh_user_device_ops ops = {
	.get_features = dev_get_features,
	.ring_started = dev_ring_started,
	.ring_stopped = dev_ring_stopped,
	.mem_changed = dev_mem_changed,
	.get_config = dev_get_config,
	.set_config = dev_set_config,
	.send_rarp = dev_send_rarp,
	.set_mtu = dev_set_mtu,
};

/* ---- recording ---- */

static void
put_fd_spec(struct fz_out *o, int fd)
{
	char link[256];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_ino == rec.last_memfd_ino) {
			fz_put_u8(o, FZ_VH_FD_DUP);
			return;
		}
		rec.last_memfd_ino = (uint64_t)st.st_ino;
		fz_put_u8(o, FZ_VH_FD_MEMFD);
		if ((uint64_t)st.st_size > FZ_VH_MAX_MEMFD)
			fprintf(stderr,
				"recorder: a %lld-byte memory file is larger than the target "
				"makes them\n",
				(long long)st.st_size);
		fz_put_u32(o, (uint32_t)st.st_size);
	} else if (strstr(link, "eventfd") != NULL) {
		fz_put_u8(o, FZ_VH_FD_EVENTFD);
	} else if (strncmp(link, "socket:", 7) == 0) {
		fz_put_u8(o, FZ_VH_FD_SOCKET);
	} else {
		fz_put_u8(o, FZ_VH_FD_DEVNULL);
	}
}

static void
record_msg(const struct vh_user_msg *m)
{
	fz_put_u8(&rec.out, FZ_VH_REC_MSG);
	fz_put_u8(&rec.out, (uint8_t)m->nfds);
	for (unsigned int i = 0; i < m->nfds; i++)
		put_fd_spec(&rec.out, m->fds[i]);
	fz_put(&rec.out, &m->hdr, VH_USER_HDR_SIZE);
	fz_put(&rec.out, m->payload.raw, m->hdr.size);
	rec.nmsgs++;
}

static void
guest_write(uint64_t gpa, const uint8_t *p, size_t len)
{
	while (len > 0) {
		size_t k = len < FZ_VH_MAX_WRITE ? len : FZ_VH_MAX_WRITE;

		fz_put_u8(&rec.out, FZ_VH_REC_GUEST_WRITE);
		fz_put_u64(&rec.out, gpa);
		fz_put_u16(&rec.out, (uint16_t)k);
		fz_put(&rec.out, p, k);
		gpa += k;
		p += k;
		len -= k;
	}
}

/* Changed runs of area @p a since the last snapshot. */
static void
snapshot_area(struct rec_ring *rr, int a, const uint8_t *now, uint64_t gpa)
{
	uint8_t *sh = rr->shadow[a];
	uint64_t i = 0, len = rr->len[a];

	while (i < len) {
		uint64_t j = i;

		if (now[i] == sh[i]) {
			i++;
			continue;
		}
		/* Extend over short equal gaps: fewer, larger records. */
		while (j < len && (now[j] != sh[j] || (j + 8 < len && memcmp(now + j, sh + j, 8))))
			j++;
		guest_write(gpa + i, now + i, j - i);
		memcpy(sh + i, now + i, j - i);
		i = j;
	}
}

/* Indirect tables the ring points to (split and packed descriptors share addr/len). */
static void
snapshot_indirect(struct rec_ring *rr)
{
	const uint8_t *d = rr->r.desc;

	for (uint32_t i = 0; i < rr->r.size; i++) {
		uint64_t addr;
		uint32_t len;
		uint16_t flags;
		const void *t;

		memcpy(&addr, d + 16 * i, 8);
		memcpy(&len, d + 16 * i + 8, 4);
		memcpy(&flags, d + 16 * i + (rr->r.packed ? 14 : 12), 2);
		if (!(flags & VQ_DESC_F_INDIRECT) || len == 0 || len > 4096)
			continue;
		t = vh_mem_table_gpa_to_host(rec.mem, addr, len);
		if (t != NULL)
			guest_write(addr, t, len);
	}
}

static void
snapshot_ring(unsigned int idx)
{
	struct rec_ring *rr = &rec.ring[idx];
	const uint8_t *area[3] = {rr->r.desc, rr->r.avail, rr->r.used};
	const uint64_t gpa[3] = {rr->r.desc_gpa, rr->r.avail_gpa, rr->r.used_gpa};

	if (!rr->started || rr->snapshots >= MAX_SNAPSHOTS || rec.out.len > MAX_OUT)
		return;
	rr->snapshots++;
	/* Descriptors and indirect tables before the index that publishes them. */
	snapshot_area(rr, 0, area[0], gpa[0]);
	snapshot_indirect(rr);
	snapshot_area(rr, 2, area[2], gpa[2]);
	snapshot_area(rr, 1, area[1], gpa[1]);
	fz_put_u8(&rec.out, FZ_VH_REC_KICK);
	fz_put_u8(&rec.out, (uint8_t)idx);
	rec.nkicks++;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Proxies front-end socket @p fe_fd to the back-end until either side
 * closes or @p seconds pass; records as it goes.
 */
static int
record(int fe_fd, unsigned int seconds)
{
	struct vh_user_backend_config cfg = {.ops = &ops, .max_rings = RINGS, .name = "recorder"};
	struct vh_user_rx from_fe, from_be;
	uint64_t end = now_ms() + seconds * 1000ULL;
	int sv[2], rc = 0;

	memset(&rec, 0, sizeof(rec));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0)
		return -errno;
	rec.be = vh_user_backend_create(&cfg, sv[0]);
	if (rec.be == NULL)
		return -errno;
	vh_user_rx_init(&from_fe, VH_USER_RX_FRONTEND_REQ);
	vh_user_rx_init(&from_be, VH_USER_RX_REPLY);
	while (now_ms() < end && vh_user_backend_connected(rec.be)) {
		struct pollfd p[2 + RINGS] = {{fe_fd, POLLIN, 0}, {sv[1], POLLIN, 0}};

		for (unsigned int i = 0; i < RINGS; i++)
			p[2 + i] = (struct pollfd){rec.ring[i].started ? rec.ring[i].r.kick_fd : -1,
						   POLLIN, 0};
		if (poll(p, 2 + RINGS, 100) <= 0)
			continue;
		for (unsigned int i = 0; i < RINGS; i++) {
			uint64_t v;

			if (p[2 + i].revents && read(rec.ring[i].r.kick_fd, &v, 8) == 8)
				snapshot_ring(i);
		}
		if (p[0].revents) {
			rc = vh_user_rx_read(fe_fd, &from_fe);
			if (rc < 0)
				break;
			if (rc > 0) {
				record_msg(&from_fe.msg);
				if (from_fe.msg.hdr.request == VH_USER_VRING_KICK)
					snapshot_ring(from_fe.msg.payload.state.index % RINGS);
				rc = vh_user_send(sv[1], &from_fe.msg, 1000);
				vh_user_rx_reset(&from_fe);
				if (rc < 0)
					break;
				vh_user_backend_handle_readable(rec.be);
			}
		}
		while ((rc = vh_user_rx_read(sv[1], &from_be)) > 0) {
			rc = vh_user_send(fe_fd, &from_be.msg, 1000);
			vh_user_rx_reset(&from_be);
			if (rc < 0)
				break;
		}
		rc = 0;
	}
	if (rc == -ECONNRESET)
		rc = 0; /* the front-end ended the session */
	vh_user_rx_reset(&from_fe);
	vh_user_rx_reset(&from_be);
	vh_user_backend_destroy(rec.be);
	close(sv[1]);
	for (unsigned int i = 0; i < RINGS; i++)
		for (int a = 0; a < 3; a++)
			free(rec.ring[i].shadow[a]);
	return rc;
}

static int
save(const char *path)
{
	int rc = fz_out_save(&rec.out, path);

	printf("%s: %zu bytes, %d messages, %d kicks\n", path, rec.out.len, rec.nmsgs, rec.nkicks);
	free(rec.out.buf);
	rec.out.buf = NULL;
	return rc;
}

/* ---- --self: sessions of lib/vhost's front-end ---- */

struct self_arg {
	int fd;
	int rc;
};

static void *
record_thread(void *arg)
{
	struct self_arg *a = arg;

	a->rc = record(a->fd, 20);
	close(a->fd);
	return NULL;
}

/* A front-end step that must work: reports which one did not. */
#define STEP(call) step_failed((call), #call)

static bool
step_failed(int rc, const char *what)
{
	if (rc != 0)
		fprintf(stderr, "self: %s: %s\n", what, strerror(-rc));
	return rc != 0;
}

struct guest {
	int fd;
	uint8_t *base;
	uint64_t size, gpa;
};

static int
guest_create(struct guest *g, uint64_t size, uint64_t gpa)
{
	g->fd = memfd_create("self-guest", MFD_CLOEXEC);
	g->size = size;
	g->gpa = gpa;
	if (g->fd < 0 || ftruncate(g->fd, (off_t)size) != 0)
		return -1;
	g->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	return g->base == MAP_FAILED ? -1 : 0;
}

static struct vh_mem_region
guest_region(const struct guest *g)
{
	struct vh_mem_region r = {g->gpa, g->size, (uint64_t)(uintptr_t)g->base, 0, g->fd};

	return r;
}

static void
drv_log(void *arg, int err, const char *msg)
{
	(void)arg;
	fprintf(stderr, "self: driver queue broke (%d): %s\n", err, msg);
}

/*
 * One ring driven by lib/virtq's driver in guest memory @p g at offset
 * @p off: posted chains (TX: header and frame; RX: writable buffers,
 * indirect when @p indirect) and a kick.
 */
static int
self_ring(struct vh_user_frontend *fe, struct guest *g, struct vq_drv *q, unsigned int idx,
	  uint64_t features, uint64_t off, bool indirect, int *kick, int *call)
{
	struct vq_drv_config c = {
		.size = 64,
		.features = features,
		.indirect_max = indirect && (features & VQ_FEATURE(VQ_F_INDIRECT_DESC)) ? 4 : 0,
		.log = drv_log};
	struct vh_vring_addr a = {0};
	uint64_t d, av, u;
	bool packed = features & VQ_FEATURE(VQ_F_RING_PACKED);

	c.mem = g->base + off;
	c.mem_iova = g->gpa + off;
	if (STEP(vq_drv_init(q, &c)))
		return -1;
	vq_drv_ring_addrs(q, &d, &av, &u);
	/* The front-end speaks user addresses; guest address + the mapping's offset. */
	a.desc_user_addr = d - g->gpa + (uint64_t)(uintptr_t)g->base;
	a.avail_user_addr = av - g->gpa + (uint64_t)(uintptr_t)g->base;
	a.used_user_addr = u - g->gpa + (uint64_t)(uintptr_t)g->base;
	*kick = eventfd(0, EFD_CLOEXEC);
	*call = eventfd(0, EFD_CLOEXEC);
	if (STEP(vh_user_frontend_set_vring_num(fe, idx, 64)) ||
	    STEP(vh_user_frontend_set_vring_base(fe, idx, packed ? 0x80008000u : 0)) ||
	    STEP(vh_user_frontend_set_vring_addr(fe, idx, &a)) ||
	    STEP(vh_user_frontend_set_vring_call(fe, idx, *call)) ||
	    STEP(vh_user_frontend_set_vring_kick(fe, idx, *kick)) ||
	    STEP(vh_user_frontend_set_vring_enable(fe, idx, true)))
		return -1;
	/*
	 * Buffers at 1 MiB + 64 KiB per ring. virtio-net: ring 2n receives
	 * (writable buffers), 2n + 1 transmits (virtio-net header + frame).
	 */
	for (unsigned int i = 0; i < 8; i++) {
		uint64_t buf = g->gpa + (1 << 20) + idx * 65536ULL + i * 2048ULL;
		struct vq_drv_seg s[3];
		struct vq_drv_chain ch = {(void *)(uintptr_t)(i + 1), s, 0};

		if (idx % 2 == 1) {
			uint8_t *p = g->base + (buf - g->gpa);

			memset(p, 0, 12);
			memset(p + 12, 0xff, 6); /* broadcast */
			memset(p + 18, 0x02, 6);
			p[30] = 0x08;
			s[0] = (struct vq_drv_seg){buf, 12, 0, 0};
			s[1] = (struct vq_drv_seg){buf + 12, 60 + i * 100, 0, 0};
			ch.nseg = i % 2 ? 2 : 1;
			if (ch.nseg == 1)
				s[0].len = 12 + 60 + i * 100;
		} else {
			s[0] = (struct vq_drv_seg){buf, 1024, VQ_DESC_F_WRITE, 0};
			s[1] = (struct vq_drv_seg){buf + 1024, 1024, VQ_DESC_F_WRITE, 0};
			ch.nseg = i % 2 ? 2 : 1;
		}
		if (vq_drv_post(q, &ch, 1) != 1)
			break;
	}
	{
		uint64_t one = 1;

		if (write(*kick, &one, 8) != 8)
			return -1;
	}
	usleep(50 * 1000); /* let the recorder take its snapshot */
	return 0;
}

static int
self_session(const char *dir, const char *name, uint64_t features, bool extras)
{
	struct vh_user_frontend_config cfg = {
		.protocol_features = ~0ULL, .backend_channel = true, .timeout_ms = 2000};
	struct vh_user_frontend *fe;
	struct guest g, g2;
	struct vq_drv q[2];
	int kick[2] = {-1, -1}, call[2] = {-1, -1}, sv[2], rc = -1;
	unsigned int nq = 0;
	struct self_arg arg;
	pthread_t t;
	struct vh_mem_region r;
	char path[512];
	uint32_t base;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0 ||
	    guest_create(&g, 2 << 20, 0x100000000ULL) != 0 ||
	    guest_create(&g2, 1 << 20, 0x200000000ULL) != 0)
		return -1;
	arg.fd = sv[0];
	pthread_create(&t, NULL, record_thread, &arg);
	fe = vh_user_frontend_create(sv[1], &cfg);
	if (fe == NULL || STEP(vh_user_frontend_negotiate(fe)))
		goto out;
	r = guest_region(&g);
	if (STEP(vh_user_frontend_set_owner(fe)) ||
	    STEP(vh_user_frontend_set_features(fe,
					       features | (1ULL << VH_USER_F_PROTOCOL_FEATURES))) ||
	    STEP(vh_user_frontend_set_status(fe, 0x0b)) ||
	    STEP(vh_user_frontend_set_mem_table(fe, &r, 1)))
		goto out;
	if (extras) {
		struct vh_user_inflight in;
		struct vh_log_area log = {4096, 0, 0, -1};
		struct vh_mem_region r2 = guest_region(&g2);
		uint8_t cfgspace[8] = {0x02, 0, 0, 0, 0, 1, 0, 0};
		int ifd = -1;

		if (vh_user_frontend_get_inflight_fd(fe, 2, 64, &in, &ifd) == 0) {
			(void)vh_user_frontend_set_inflight_fd(fe, &in, ifd);
			close(ifd);
		}
		log.fd = memfd_create("self-log", MFD_CLOEXEC);
		if (log.fd >= 0 && ftruncate(log.fd, 4096) == 0)
			(void)vh_user_frontend_set_log_base(fe, &log);
		close(log.fd);
		(void)vh_user_frontend_add_mem_reg(fe, &r2);
		(void)vh_user_frontend_set_config(fe, 0, cfgspace, sizeof(cfgspace), 0);
		(void)vh_user_frontend_get_config(fe, 0, cfgspace, sizeof(cfgspace), 0);
		(void)vh_user_frontend_net_set_mtu(fe, 1500);
	}
	for (; nq < 2; nq++)
		if (self_ring(fe, &g, &q[nq], nq, features, 16384 * nq, nq == 1, &kick[nq],
			      &call[nq]) != 0)
			goto out;
	if (STEP(vh_user_frontend_set_status(fe, 0x0f)))
		goto out;
	if (extras) {
		struct vh_mem_region r2 = guest_region(&g2);
		uint8_t mac[6] = {0x02, 0, 0, 0, 0, 1};

		(void)vh_user_frontend_send_rarp(fe, mac);
		(void)vh_user_frontend_rem_mem_reg(fe, &r2);
	}
	for (unsigned int i = 0; i < 2; i++)
		(void)vh_user_frontend_get_vring_base(fe, i, &base);
	if (extras)
		(void)vh_user_frontend_reset_device(fe);
	rc = 0;
out:
	vh_user_frontend_destroy(fe);
	pthread_join(t, NULL);
	for (unsigned int i = 0; i < nq; i++)
		vq_drv_fini(&q[i]);
	munmap(g.base, g.size);
	munmap(g2.base, g2.size);
	close(g.fd);
	close(g2.fd);
	for (unsigned int i = 0; i < 2; i++) {
		if (kick[i] >= 0)
			close(kick[i]);
		if (call[i] >= 0)
			close(call[i]);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (rc == 0) {
		rc = save(path);
	} else {
		fprintf(stderr, "%s: the session failed\n", name);
		free(rec.out.buf);
		rec.out.buf = NULL;
	}
	return rc;
}

static void
quiet(int level, const char *line, void *arg)
{
	(void)arg;
	if (level <= VH_DIAG_ERR)
		fprintf(stderr, "%s\n", line);
}

int
main(int argc, char **argv)
{
	const uint64_t net = (1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << 15) | (1ULL << 5);
	int rc = 0;

	vh_diag_set_handler(quiet, NULL);
	if (argc == 3 && strcmp(argv[1], "--self") == 0) {
		rc |= self_session(argv[2], "self-split", net, false);
		rc |= self_session(argv[2], "self-split-event-idx-extras",
				   net | (1ULL << VH_VIRTIO_RING_F_EVENT_IDX) |
					   (1ULL << VH_VIRTIO_RING_F_INDIRECT_DESC),
				   true);
		rc |= self_session(argv[2], "self-packed",
				   net | (1ULL << VH_VIRTIO_F_RING_PACKED) |
					   (1ULL << VH_VIRTIO_RING_F_INDIRECT_DESC),
				   false);
		rc |= self_session(argv[2], "self-packed-extras",
				   net | (1ULL << VH_VIRTIO_F_RING_PACKED) |
					   (1ULL << VH_VIRTIO_RING_F_EVENT_IDX),
				   true);
		return rc ? 1 : 0;
	}
	if (argc == 3 || argc == 4) {
		int lfd = vh_user_listen(argv[1]), fd;

		if (lfd < 0) {
			fprintf(stderr, "cannot listen on %s: %s\n", argv[1], strerror(-lfd));
			return 1;
		}
		for (;;) {
			struct pollfd p = {lfd, POLLIN, 0};

			if (poll(&p, 1, 60000) <= 0) {
				fprintf(stderr, "nobody connected to %s\n", argv[1]);
				return 1;
			}
			fd = vh_user_accept(lfd);
			if (fd >= 0)
				break;
		}
		close(lfd);
		unlink(argv[1]);
		rc = record(fd, argc == 4 ? (unsigned int)atoi(argv[3]) : 30);
		close(fd);
		return save(argv[2]) != 0 || rc < 0;
	}
	fprintf(stderr, "usage: %s SOCKET OUTFILE [SECONDS] | --self OUTDIR\n", argv[0]);
	return 2;
}
