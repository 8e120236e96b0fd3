/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: lib/vhost's back-end fed an arbitrary vhost-user message
 * stream, with arbitrary fds attached (memfds of any size, eventfds,
 * sockets, pipes, /dev/null, read-only files), through the real receive
 * and dispatch code: the records are written to one end of a socketpair
 * and vh_user_backend_handle_readable() reads them from the other.
 *
 * The device behind the back-end does what a port does: it copies each
 * memory table into a lib/virtq region map, and when a ring starts (and on
 * every kick) it walks it with lib/virtq's device side, TX and RX, so the
 * ring areas, descriptors and buffers the front-end described are
 * translated and touched: every area byte range is read and written at its
 * ends, the inflight region and the dirty log are written where the
 * library said they are. A wrong bound shows as a fault or an ASan report.
 *
 * Checked as well: the back-end and the device agree on which rings run
 * and on the memory table; a closed connection leaves no ring running and
 * no memory; after the back-end is destroyed, the process has exactly the
 * fds and shared mappings it had before the input (nothing leaked).
 *
 * Input format: fz_vhost.h and test/fuzz/README.md ("fuzz_vhost_user_backend").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fz_input.h"
#include "fz_vhost.h"
#include "vhost_diag.h"
#include "vhost_user_backend.h"
#include "vhost_user_conn.h"
#include "virtq.h"

#define MAX_RECORDS 256
#define MAX_KEPT    16 /* harness ends of socketpairs passed as fds */

struct fz_ring {
	bool started;
	struct vh_user_ring r;
	struct vq_dev q;
	int broken;
};

struct fz_dev {
	const struct vh_mem_table *mem; /* as the last mem_changed() gave it */
	struct vq_memmap map;
	uint64_t features;
	struct fz_ring ring[FZ_VH_RINGS];
	uint8_t config[VH_USER_MAX_CONFIG_SIZE];
	struct vq_burst burst;
	uint8_t scratch[65536];
};

static struct fz_dev dev;
static bool verbose; /* FZ_VERBOSE=1: the library's log and every walk, for replaying */

static void
quiet(int level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	if (verbose)
		fprintf(stderr, "%s\n", line);
}

static void
vq_quiet(void *arg, int err, const char *msg)
{
	struct fz_ring *fr = arg;

	(void)msg;
	fr->broken = err;
}

/* Every byte range the library hands the device must lie inside one mapped region. */
static bool
in_table(const struct vh_mem_table *t, const void *p, uint64_t len)
{
	const uint8_t *b = p;

	if (t == NULL)
		return false;
	for (uint32_t i = 0; i < t->nregions; i++) {
		const struct vh_mem_mapping *m = &t->regions[i];

		if (b >= m->host && (uint64_t)(b - m->host) <= m->size &&
		    len <= m->size - (uint64_t)(b - m->host))
			return true;
	}
	return false;
}

/* Reads and writes back the first and last byte: a fault if it is not mapped. */
static void
touch(void *p, uint64_t len)
{
	volatile uint8_t *b = p;

	if (len == 0)
		return;
	b[0] = b[0];
	b[len - 1] = b[len - 1];
}

static uint64_t
dev_get_features(void *d)
{
	(void)d;
	return (1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << 15 /* MRG_RXBUF */) |
	       (1ULL << VH_VIRTIO_RING_F_EVENT_IDX) | (1ULL << VH_VIRTIO_RING_F_INDIRECT_DESC) |
	       (1ULL << VH_VIRTIO_F_RING_PACKED) | (1ULL << 35 /* IN_ORDER */) |
	       (1ULL << VH_VHOST_F_LOG_ALL) | (1ULL << 22 /* MQ */) | (1ULL << 5 /* MAC */);
}

static int
dev_set_features(void *d, uint64_t f)
{
	(void)d;
	dev.features = f;
	return 0;
}

/*
 * One service round of a ring, as a port's poll does. virtio-net: queue 2n
 * is receiveq n (the device places packets), 2n + 1 is transmitq n (the
 * device takes the guest's packets).
 */
static void
ring_walk(struct fz_ring *fr)
{
	struct vq_burst *b = &dev.burst;
	unsigned int n;

	if (!fr->started || !fr->r.enabled || fr->broken)
		return;
	if (fr->r.idx % 2 == 1) {
		n = vq_dev_take(&fr->q, b, VQ_BURST_MAX);
		for (unsigned int i = 0; i < n; i++) {
			const struct vq_chain *c = &b->chain[i];

			for (unsigned int s = 0; s < c->nseg; s++)
				fz_check(in_table(dev.mem, c->seg[s].addr, c->seg[s].len),
					 "ring %u: a segment outside guest memory", fr->r.idx);
			if (c->rlen <= sizeof(dev.scratch))
				vq_segs_copy_out(c->seg, c->nread, 0, dev.scratch, c->rlen);
		}
	} else {
		uint32_t len[4] = {60, 1514, 9000, 64};

		n = vq_dev_take_rx(&fr->q, b, len, 4);
		for (unsigned int p = 0; p < n; p++) {
			const struct vq_pkt *pk = &b->pkt[p];

			for (unsigned int s = 0; s < pk->nseg; s++)
				fz_check(in_table(dev.mem, pk->seg[s].addr, pk->seg[s].len),
					 "ring %u: a segment outside guest memory", fr->r.idx);
			memset(dev.scratch, 0x5a, pk->len);
			vq_segs_copy_in(pk->seg, pk->nseg, 0, dev.scratch, pk->len);
		}
	}
	/* Migration: the buffers and the used ring are dirty now. */
	if (fr->r.log != NULL && n > 0) {
		vh_dirty_log_write(fr->r.log, fr->r.used_gpa, 4);
		if (fr->r.log_used)
			vh_dirty_log_write(fr->r.log, fr->r.log_used_gpa, 4);
	}
	if (verbose)
		fprintf(stderr, "fuzz: ring %u walked: %u %s%s\n", fr->r.idx, n,
			fr->r.idx % 2 ? "chains taken" : "packets placed",
			fr->broken ? " (queue broken)" : "");
	vq_dev_return(&fr->q, b);
	(void)vq_dev_call_needed(&fr->q);
}

static int
dev_ring_started(void *d, const struct vh_user_ring *r)
{
	struct fz_ring *fr;
	struct vq_dev_config cfg = {0};
	uint64_t desc_len = 16ULL * r->size;
	uint64_t avail_len = r->packed ? 4 : 4 + 2ULL * r->size + (r->event_idx ? 2 : 0);
	uint64_t used_len = r->packed ? 4 : 4 + 8ULL * r->size + (r->event_idx ? 2 : 0);

	(void)d;
	fz_check(r->idx < FZ_VH_RINGS, "ring %u started beyond max_rings", r->idx);
	fr = &dev.ring[r->idx];
	fz_check(!fr->started, "ring %u started twice", r->idx);
	fz_check(dev.mem != NULL, "ring %u started without memory", r->idx);
	fz_check(r->size >= 1 && r->size <= 32768 && (r->packed || !(r->size & (r->size - 1))),
		 "ring %u started with size %u", r->idx, r->size);
	fz_check(in_table(dev.mem, r->desc, desc_len) && in_table(dev.mem, r->avail, avail_len) &&
			 in_table(dev.mem, r->used, used_len),
		 "ring %u: an area outside guest memory", r->idx);
	touch(r->desc, desc_len);
	touch(r->avail, avail_len);
	touch(r->used, used_len);
	if (r->inflight != NULL) {
		uint64_t n = r->packed ? sizeof(struct vh_inflight_packed) +
						 r->size * sizeof(struct vh_inflight_desc_packed)
				       : sizeof(struct vh_inflight_split) +
						 r->size * sizeof(struct vh_inflight_desc_split);

		touch(r->inflight, n);
	}
	if (r->log != NULL) {
		/* The library checked that the used ring's last byte lies in the log. */
		if (r->log_used)
			fz_check((r->log_used_gpa + used_len - 1) / VH_LOG_PAGE / 8 < r->log->size,
				 "ring %u: used ring log address beyond the log", r->idx);
		touch(r->log->bitmap, r->log->size);
	}
	fr->r = *r;
	fr->broken = 0;
	cfg.size = r->size;
	cfg.features = r->features;
	cfg.desc = r->desc;
	cfg.driver_area = r->avail;
	cfg.device_area = r->used;
	cfg.map = &dev.map;
	cfg.log = vq_quiet;
	cfg.log_arg = fr;
	cfg.state.last_avail = r->base.avail_idx;
	cfg.state.used_idx = r->packed ? r->base.used_idx : r->base.avail_idx;
	cfg.state.avail_wrap = r->base.avail_wrap;
	cfg.state.used_wrap = r->base.used_wrap;
	fz_check(vq_dev_init(&fr->q, &cfg) == 0, "ring %u: a description lib/virtq refuses",
		 r->idx);
	fr->started = true;
	ring_walk(fr);
	return 0;
}

static void
dev_ring_stopped(void *d, unsigned int idx, struct vh_user_ring_base *base)
{
	struct fz_ring *fr;
	struct vq_dev_state st;

	(void)d;
	fz_check(idx < FZ_VH_RINGS && dev.ring[idx].started, "ring %u stopped but not started",
		 idx);
	fr = &dev.ring[idx];
	vq_dev_get_state(&fr->q, &st);
	base->avail_idx = st.last_avail;
	base->used_idx = st.used_idx;
	base->avail_wrap = st.avail_wrap;
	base->used_wrap = st.used_wrap;
	fr->started = false;
}

static void
dev_ring_enabled(void *d, unsigned int idx, bool enabled)
{
	(void)d;
	fz_check(idx < FZ_VH_RINGS && dev.ring[idx].started, "ring %u enabled but not started",
		 idx);
	dev.ring[idx].r.enabled = enabled;
	ring_walk(&dev.ring[idx]);
}

static void
dev_ring_kick(void *d, unsigned int idx)
{
	(void)d;
	fz_check(idx < FZ_VH_RINGS && dev.ring[idx].started, "in-band kick of stopped ring %u",
		 idx);
	ring_walk(&dev.ring[idx]);
}

static int
dev_mem_changed(void *d, const struct vh_mem_table *mem)
{
	struct vq_memmap map;

	(void)d;
	vq_memmap_init(&map);
	for (uint32_t i = 0; mem != NULL && i < mem->nregions; i++) {
		const struct vh_mem_mapping *m = &mem->regions[i];

		/* A port's region map has a fixed size: more regions are refused. */
		if (vq_memmap_add(&map, m->guest_phys_addr, m->size, m->host) == -ENOSPC)
			return -ENOSPC;
	}
	if (mem == NULL)
		for (unsigned int i = 0; i < FZ_VH_RINGS; i++)
			fz_check(!dev.ring[i].started, "memory withdrawn under running ring %u", i);
	dev.mem = mem;
	dev.map = map;
	for (unsigned int i = 0; i < FZ_VH_RINGS; i++)
		if (dev.ring[i].started)
			vq_dev_set_memmap(&dev.ring[i].q, &dev.map);
	return 0;
}

static int
dev_get_config(void *d, uint32_t offset, void *buf, uint32_t len)
{
	(void)d;
	fz_check(offset <= sizeof(dev.config) && len <= sizeof(dev.config) - offset,
		 "GET_CONFIG range %u+%u passed to the device", offset, len);
	memcpy(buf, dev.config + offset, len);
	return 0;
}

static int
dev_set_config(void *d, uint32_t offset, const void *buf, uint32_t len, uint32_t flags)
{
	(void)d;
	(void)flags;
	fz_check(offset <= sizeof(dev.config) && len <= sizeof(dev.config) - offset,
		 "SET_CONFIG range %u+%u passed to the device", offset, len);
	memcpy(dev.config + offset, buf, len);
	return 0;
}

static void
dev_reset(void *d)
{
	(void)d;
	for (unsigned int i = 0; i < FZ_VH_RINGS; i++)
		fz_check(!dev.ring[i].started, "reset with ring %u running", i);
	dev.features = 0;
}

static int
dev_set_status(void *d, uint8_t status)
{
	(void)d;
	(void)status;
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
	fz_check(mtu >= 68, "MTU %u passed to the device", mtu);
	return 0;
}

static const struct vh_user_device_ops ops = {
	.get_features = dev_get_features,
	.set_features = dev_set_features,
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

/* ---- the harness: fds, records, accounting ---- */

struct harness {
	struct vh_user_backend *be;
	int peer; /* the front-end's end of the socketpair */
	int last_memfd;
	int kept[MAX_KEPT];
	unsigned int nkept;
};

/* Entries of a /proc directory (open fds, file-backed mappings). */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * Open fds, and file-backed mappings (guest memory, logs and inflight areas
 * are memfd mappings): /proc/self/map_files lists only those, far cheaper
 * than reading /proc/self/maps under ASan.
 */
static int
count_fds(void)
{
	return count_entries("/proc/self/fd") - 1; /* the directory's own fd */
}

static int
count_memfd_maps(void)
{
	return count_entries("/proc/self/map_files");
}

/* Makes the fd of one spec; -1 when it cannot (the message then carries fewer). */
static int
make_fd(struct harness *h, struct fz_input *in)
{
	uint8_t kind = fz_u8(in) % FZ_VH_FD_KINDS;
	int fd = -1, sv[2], p[2];
	char path[64];

	switch (kind) {
	case FZ_VH_FD_MEMFD: {
		uint64_t size = fz_u32(in) % (FZ_VH_MAX_MEMFD + 1);

		fd = memfd_create("fuzz-guest", MFD_CLOEXEC);
		if (fd >= 0 && ftruncate(fd, (off_t)size) != 0) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0) {
			if (h->last_memfd >= 0)
				close(h->last_memfd);
			h->last_memfd = dup(fd);
		}
		break;
	}
	case FZ_VH_FD_EVENTFD:
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		break;
	case FZ_VH_FD_DUP:
		fd = h->last_memfd >= 0 ? dup(h->last_memfd) : -1;
		break;
	case FZ_VH_FD_SOCKET:
		if (h->nkept < MAX_KEPT &&
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0) {
			h->kept[h->nkept++] = sv[1];
			fd = sv[0];
		}
		break;
	case FZ_VH_FD_PIPE:
		if (pipe2(p, O_CLOEXEC) == 0) {
			close(p[1]);
			fd = p[0];
		}
		break;
	case FZ_VH_FD_DEVNULL:
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		break;
	case FZ_VH_FD_READONLY:
		if (h->last_memfd >= 0) {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", h->last_memfd);
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		break;
	}
	return fd;
}

static void
send_with_fds(int sock, const void *buf, size_t len, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {0};

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(ctl.buf, 0, sizeof(ctl.buf));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	/* A full socket (the back-end stopped reading) just drops the record. */
	(void)sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
rec_msg(struct harness *h, struct fz_input *in)
{
	static uint8_t wire[VH_USER_HDR_SIZE + FZ_VH_MAX_PAYLOAD];
	unsigned int want = fz_u8(in) % 10, nfds = 0;
	struct vh_user_hdr hdr;
	int fds[10];
	size_t len;

	for (unsigned int i = 0; i < want; i++) {
		int fd = make_fd(h, in);

		if (fd >= 0)
			fds[nfds++] = fd;
	}
	hdr.request = fz_u32(in);
	hdr.flags = fz_u32(in);
	hdr.size = fz_u32(in);
	memcpy(wire, &hdr, sizeof(hdr));
	len = hdr.size < FZ_VH_MAX_PAYLOAD ? hdr.size : FZ_VH_MAX_PAYLOAD;
	len = fz_bytes(in, wire + sizeof(hdr), len);
	send_with_fds(h->peer, wire, sizeof(hdr) + len, fds, nfds);
	/* The back-end has its own copies now (or none, if the send failed). */
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
}

static void
rec_raw(struct harness *h, struct fz_input *in)
{
	static uint8_t buf[FZ_VH_MAX_RAW];
	size_t len = fz_u16(in) % (FZ_VH_MAX_RAW + 1);

	len = fz_bytes(in, buf, len);
	if (len > 0)
		send_with_fds(h->peer, buf, len, NULL, 0);
}

static void
rec_guest_write(struct harness *h, struct fz_input *in)
{
	static uint8_t buf[FZ_VH_MAX_WRITE];
	uint64_t gpa = fz_u64(in);
	size_t len = fz_u16(in) % (FZ_VH_MAX_WRITE + 1);
	const struct vh_mem_table *t =
		vh_user_backend_connected(h->be) ? vh_user_backend_mem(h->be) : NULL;
	void *p;

	len = fz_bytes(in, buf, len);
	p = len > 0 ? vh_mem_table_gpa_to_host(t, gpa, len) : NULL;
	if (p != NULL)
		memcpy(p, buf, len);
}

static void
rec_backend_req(struct harness *h, struct fz_input *in)
{
	uint8_t which = fz_u8(in), idx = fz_u8(in);

	if (!vh_user_backend_connected(h->be))
		return;
	switch (which % 3) {
	case 0:
		(void)vh_user_backend_send_config_change(h->be);
		break;
	case 1:
		(void)vh_user_backend_send_vring_call(h->be, idx);
		break;
	default:
		(void)vh_user_backend_send_vring_err(h->be, idx);
		break;
	}
}

/* Reads (and drops) whatever came back, closing any fds (GET_INFLIGHT_FD's). */
static void
drain(int fd)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	static uint8_t buf[8192];

	for (;;) {
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr mh = {0};
		ssize_t n;

		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n <= 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int rfd;

				memcpy(&rfd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(rfd);
			}
		}
	}
}

/* The back-end and the device tell the same story. */
static void
check_agree(struct harness *h)
{
	bool up = vh_user_backend_connected(h->be);

	for (unsigned int i = 0; i < FZ_VH_RINGS; i++)
		fz_check(vh_user_backend_ring_started(h->be, i) == dev.ring[i].started,
			 "ring %u: back-end says %s, device says %s", i,
			 vh_user_backend_ring_started(h->be, i) ? "started" : "stopped",
			 dev.ring[i].started ? "started" : "stopped");
	if (up)
		fz_check(vh_user_backend_mem(h->be) == dev.mem,
			 "the device's memory table is not the back-end's");
	else
		fz_check(dev.mem == NULL, "a closed connection left the device its memory");
}

static void
serve(struct harness *h)
{
	int rc;

	if (!vh_user_backend_connected(h->be))
		return;
	do {
		rc = vh_user_backend_handle_readable(h->be);
		drain(h->peer);
	} while (rc == 1);
	check_agree(h);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	verbose = getenv("FZ_VERBOSE") != NULL;
	vh_diag_set_handler(quiet, NULL);
	if (verbose)
		vh_diag_set_level(VH_DIAG_DEBUG);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vh_user_backend_config cfg = {
		.ops = &ops,
		.device = &dev,
		.max_rings = FZ_VH_RINGS,
		/* A front-end that does not read its replies is dropped at once. */
		.send_timeout_ms = 1,
		.backend_req_timeout_ms = 1,
		.name = "fuzz",
	};
	int base_fds = count_fds(), base_maps = count_memfd_maps();
	struct harness h = {.last_memfd = -1};
	struct fz_input in;
	int sv[2];

	memset(&dev, 0, sizeof(dev));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 0;
	h.peer = sv[1];
	h.be = vh_user_backend_create(&cfg, sv[0]);
	fz_check(h.be != NULL, "cannot create a back-end");
	fz_init(&in, data, size);
	for (int r = 0; r < MAX_RECORDS && !fz_empty(&in) && vh_user_backend_connected(h.be); r++) {
		switch (fz_u8(&in) % FZ_VH_RECS) {
		case FZ_VH_REC_MSG:
			rec_msg(&h, &in);
			break;
		case FZ_VH_REC_RAW:
			rec_raw(&h, &in);
			break;
		case FZ_VH_REC_GUEST_WRITE:
			rec_guest_write(&h, &in);
			break;
		case FZ_VH_REC_KICK: {
			unsigned int idx = fz_u8(&in) % FZ_VH_RINGS;

			ring_walk(&dev.ring[idx]);
			break;
		}
		case FZ_VH_REC_BACKEND_REQ:
			rec_backend_req(&h, &in);
			break;
		}
		serve(&h);
	}
	vh_user_backend_destroy(h.be);
	for (unsigned int i = 0; i < FZ_VH_RINGS; i++)
		fz_check(!dev.ring[i].started, "ring %u still running after destroy", i);
	fz_check(dev.mem == NULL, "memory still published after destroy");
	close(h.peer);
	for (unsigned int i = 0; i < h.nkept; i++)
		close(h.kept[i]);
	if (h.last_memfd >= 0)
		close(h.last_memfd);
	fz_check(count_fds() == base_fds, "fds leaked: %d before the input, %d after", base_fds,
		 count_fds());
	fz_check(count_memfd_maps() == base_maps, "mappings leaked: %d before the input, %d after",
		 base_maps, count_memfd_maps());
	return 0;
}
