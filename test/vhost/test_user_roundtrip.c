/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Our front-end and our back-end in one process, over both transports the
 * library serves (a socketpair and a listening socket): the requests that
 * carry fds arrive as the same open files, REPLY_ACK failures come back, and
 * after the session every fd and mapping is gone. Then the requests whose
 * effect is only visible through their fds (SET_LOG_FD, the old
 * SET_LOG_BASE form, packed inflight areas) and the back-end channel's edge
 * cases: no REPLY_ACK, an unknown request, fds without BACKEND_SEND_FD.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vt_user.h"

#define PF(f)	    VH_USER_PF(VH_USER_PROTOCOL_F_##f)
#define RT_FEAT	    ((1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << VT_NET_F_MRG_RXBUF))
#define RT_GPA	    0x100000ULL
#define RT_MEM	    (1ULL << 20)
#define REPLY_FLAGS (VH_USER_VERSION | VH_USER_REPLY_MASK)

enum rt_transport { RT_PAIR, RT_LISTEN };

/* Open files of this process whose /proc/self/fd link contains @p needle. */
static int
count_fds_named(const char *needle)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX], link[PATH_MAX];
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strstr(link, needle) != NULL)
			n++;
	}
	closedir(d);
	return n;
}

static int
named_memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Our back-end in a server thread and our front-end on @p t, negotiated with @p cfg. */
static int
rt_open(struct vt_server *s, struct vh_user_frontend **fe, enum rt_transport t, const char *sock,
	const struct vh_user_frontend_config *cfg)
{
	int c, rc;

	rc = t == RT_LISTEN ? vt_server_listen(s, sock, 4) : vt_server_pair(s, &c, 4);
	if (rc < 0)
		return rc;
	/* The device reads the rings when they start: proof they are mapped. */
	pthread_mutex_lock(&s->dev.lock);
	s->dev.touch_rings = true;
	pthread_mutex_unlock(&s->dev.lock);
	if (t == RT_LISTEN)
		return vh_user_frontend_connect(s->path, 2000, cfg, fe);
	*fe = vh_user_frontend_create(c, cfg);
	if (*fe == NULL)
		return -errno;
	return vh_user_frontend_negotiate(*fe);
}

/* Ends the session: the back-end saw a clean hang-up and its thread is gone. */
static int
rt_close(struct vt_server *s, struct vh_user_frontend *fe)
{
	int ended = s->connections;

	vh_user_frontend_destroy(fe);
	TEST_ASSERT(vt_server_wait_closed(s, ended, 3000), "the back-end saw the hang-up");
	TEST_ASSERT_EQUAL(vt_server_last_rc(s), -ECONNRESET, "a clean disconnect");
	vt_server_stop(s);
	return TEST_SUCCESS;
}

static struct vt_udev
snap(struct vt_server *s)
{
	struct vt_udev d;

	vt_udev_snapshot(&s->dev, &d);
	return d;
}

/* Writing to one fd and reading from the other proves both are the same eventfd. */
static bool
same_eventfd(int writer, int reader)
{
	uint64_t v = 3, got = 0;

	if (write(writer, &v, sizeof(v)) != sizeof(v))
		return false;
	return read(reader, &got, sizeof(got)) == sizeof(got) && got == 3;
}

static int
fe_config_change(void *p)
{
	(*(int *)p)++;
	return 0;
}

static int
job_config_change(struct vh_user_backend *be, void *arg)
{
	(void)arg;
	return vh_user_backend_send_config_change(be);
}

static int
round_trip(enum rt_transport t)
{
	static const struct vh_user_frontend_ops ops = {.config_change = fe_config_change};
	const uint32_t inflight_region = 4160; /* QueueRegionSplit of 256, 64-byte aligned */
	int config_changes = 0;
	struct vh_user_frontend_config cfg = {.protocol_features = ~0ULL,
					      .backend_channel = true,
					      .ops = &ops,
					      .opaque = &config_changes,
					      .timeout_ms = 5000};
	int fds0 = vt_count_fds(), maps0 = vt_count_maps_matching("memfd:");
	struct vh_user_frontend *fe = NULL;
	struct vh_user_inflight in;
	struct vt_guest_mem mem, log;
	struct vh_mem_region r;
	struct vh_vring_addr a;
	struct vh_log_area la;
	struct vt_server s;
	struct vt_udev d;
	int kick, call, err, kick1, call1, ifd;
	uint8_t *area;
	uint32_t base;

	TEST_ASSERT_SUCCESS(rt_open(&s, &fe, t, "rt.sock", &cfg), "negotiated");
	TEST_ASSERT(vh_user_frontend_channel_fd(fe) >= 0, "SET_BACKEND_REQ_FD went with its fd");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_owner(fe), "SET_OWNER");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(fe, RT_FEAT), "SET_FEATURES");

	/* SET_MEM_TABLE: the back-end maps our memfd and sees what we wrote. */
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&mem, RT_MEM, RT_GPA), "guest memory");
	mem.base[0x4000] = 0x5a; /* ring 0's avail flags */
	r = vt_guest_mem_region(&mem);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_mem_table(fe, &r, 1), "SET_MEM_TABLE");
	TEST_ASSERT_EQUAL(snap(&s).mem_nregions, 1, "one region mapped");

	/* SET_VRING_KICK/CALL/ERR: the ring starts with our three eventfds. */
	kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a = vt_ring_addr(&mem, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_num(fe, 0, 256), "NUM");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_base(fe, 0, 9), "BASE");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_addr(fe, 0, &a), "ADDR");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_call(fe, 0, call), "CALL");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_err(fe, 0, err), "ERR");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_kick(fe, 0, kick), "KICK");
	d = snap(&s);
	TEST_ASSERT(d.rings[0].started && d.rings[0].last.base.avail_idx == 9, "ring 0 started");
	TEST_ASSERT_EQUAL(d.rings[0].avail_byte0, 0x5a, "through the mapping of our memfd");
	TEST_ASSERT(same_eventfd(kick, d.rings[0].last.kick_fd), "the back-end's kick is ours");
	TEST_ASSERT(same_eventfd(d.rings[0].last.call_fd, call), "the back-end's call is ours");
	TEST_ASSERT(same_eventfd(d.rings[0].last.err_fd, err), "the back-end's err is ours");

	/* GET_INFLIGHT_FD hands out an fd; SET_INFLIGHT_FD gives it back. */
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_inflight_fd(fe, 2, 256, &in, &ifd),
			    "GET_INFLIGHT_FD");
	TEST_ASSERT(ifd >= 0 && in.mmap_size == 2 * inflight_region, "an fd for two regions");
	area = mmap(NULL, in.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, ifd, 0);
	TEST_ASSERT(area != MAP_FAILED, "the back-end's fd maps here");
	area[inflight_region] = 0x77;
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_inflight_fd(fe, &in, ifd), "SET_INFLIGHT_FD");
	TEST_ASSERT_SUCCESS(vt_frontend_setup_ring(fe, &mem, 1, 256, 0, &kick1, &call1), "ring 1");
	TEST_ASSERT_EQUAL(snap(&s).inflight_byte, 0x77, "ring 1 uses queue 1 of our area");

	/* SET_LOG_BASE with its memfd (LOG_SHMFD; replied). */
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&log, 4096, 0), "log memfd");
	la = (struct vh_log_area){4096, 0, 0, log.fd};
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_base(fe, &la), "SET_LOG_BASE");

	/* REPLY_ACK: the back-end's failure comes back, the connection stays. */
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_num(fe, 2, 1000), -EIO,
			  "a split ring of 1000 is refused");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_num(fe, 0, 128), -EIO,
			  "a started ring's size cannot change");
	TEST_ASSERT(vh_user_frontend_connected(fe), "still connected");

	/* The back-end channel runs over the socketpair SET_BACKEND_REQ_FD carried. */
	TEST_ASSERT_SUCCESS(vt_server_run_job(&s, 0, job_config_change, NULL, fe, 3000),
			    "BACKEND_CONFIG_CHANGE_MSG acked");
	TEST_ASSERT_EQUAL(config_changes, 1, "our handler ran");

	TEST_ASSERT_SUCCESS(vh_user_frontend_get_vring_base(fe, 0, &base), "GET_VRING_BASE");
	TEST_ASSERT_EQUAL(base, 9, "the position");
	TEST_ASSERT_EQUAL(vt_server_closed(&s), 0, "nothing closed on the way");

	TEST_RUN(rt_close(&s, fe));
	munmap(area, in.mmap_size);
	close(ifd);
	vt_guest_mem_destroy(&log);
	vt_guest_mem_destroy(&mem);
	close(kick);
	close(call);
	close(err);
	close(kick1);
	close(call1);
	TEST_ASSERT_EQUAL(vt_count_fds(), fds0, "every fd the back-end received was closed");
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), maps0, "and every mapping unmapped");
	return TEST_SUCCESS;
}

static int
test_round_trip_pair(void)
{
	return round_trip(RT_PAIR);
}
REGISTER_TEST(user_backend_round_trips_fd_requests_over_socketpair, fast, test_round_trip_pair)

static int
test_rt_listen(void)
{
	return round_trip(RT_LISTEN);
}
REGISTER_TEST(user_backend_round_trips_fd_requests_over_listening_socket, fast, test_rt_listen)

/* ---- SET_LOG_FD ---- */

static int
test_log_fd(void)
{
	struct vh_user_frontend_config cfg = {.protocol_features = ~0ULL, .timeout_ms = 5000};
	struct vh_user_frontend *fe;
	struct vt_server s;
	int a = named_memfd("vt-logfd-a", 4096), b = named_memfd("vt-logfd-b", 4096);

	TEST_ASSERT(a >= 0 && b >= 0, "memfds");
	TEST_ASSERT_SUCCESS(rt_open(&s, &fe, RT_PAIR, NULL, &cfg), "negotiated");
	TEST_ASSERT_EQUAL(count_fds_named("vt-logfd-a"), 1, "only ours");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_fd(fe, a), "SET_LOG_FD a (acked)");
	/*
	 * The ack may leave before the back-end drops a message's unused fds:
	 * one more round trip and it surely has.
	 */
	TEST_ASSERT_SUCCESS(vt_sync(fe), "sync");
	TEST_ASSERT_EQUAL(count_fds_named("vt-logfd-a"), 2, "the back-end keeps its copy");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_fd(fe, b), "SET_LOG_FD b");
	TEST_ASSERT_SUCCESS(vt_sync(fe), "sync");
	TEST_ASSERT_EQUAL(count_fds_named("vt-logfd-a"), 1, "the replaced fd was closed");
	TEST_ASSERT_EQUAL(count_fds_named("vt-logfd-b"), 2, "the new one is kept");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_fd(fe, b), "the same file again");
	TEST_ASSERT_SUCCESS(vt_sync(fe), "sync");
	TEST_ASSERT_EQUAL(count_fds_named("vt-logfd-b"), 2, "still one copy");
	TEST_RUN(rt_close(&s, fe));
	TEST_ASSERT_EQUAL(count_fds_named("vt-logfd-b"), 1, "closed on disconnect");
	close(a);
	close(b);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_keeps_replaces_and_closes_log_fd, fast, test_log_fd)

/* ---- SET_LOG_BASE, old u64 form ---- */

static int
test_legacy_log_base(void)
{
	struct vh_user_frontend_config cfg = {.protocol_features = ~0ULL, .timeout_ms = 5000};
	struct vh_user_frontend *fe;
	struct vh_user_msg m;
	struct vt_server s;
	int fds0 = vt_count_fds();

	TEST_ASSERT_SUCCESS(rt_open(&s, &fe, RT_PAIR, NULL, &cfg), "negotiated");
	TEST_ASSERT(vh_user_frontend_protocol_features(fe) & PF(LOG_SHMFD), "LOG_SHMFD too");
	vh_user_msg_init(&m, VH_USER_SET_LOG_BASE, 8);
	m.payload.u64 = 0x7f0000000000ULL;
	TEST_ASSERT_EQUAL(vh_user_frontend_request(fe, &m, NULL), -EIO,
			  "a log address without its memory: refused (REPLY_ACK)");
	TEST_ASSERT_SUCCESS(vt_sync(fe), "the connection stays");
	TEST_RUN(rt_close(&s, fe));

	cfg.protocol_features = ~PF(REPLY_ACK);
	TEST_ASSERT_SUCCESS(rt_open(&s, &fe, RT_PAIR, NULL, &cfg), "negotiated, no REPLY_ACK");
	vh_user_msg_init(&m, VH_USER_SET_LOG_BASE, 8);
	m.payload.u64 = 0x7f0000000000ULL;
	TEST_ASSERT_SUCCESS(vh_user_frontend_request(fe, &m, NULL), "sent, nothing to wait for");
	TEST_ASSERT(vt_sync(fe) < 0, "no way to say failure: the back-end closes");
	TEST_ASSERT(vt_server_wait_closed(&s, 1, 3000), "closed");
	TEST_ASSERT_EQUAL(vt_server_last_rc(&s), -ENOTSUP, "because the form is not supported");
	vh_user_frontend_destroy(fe);
	vt_server_stop(&s);
	TEST_ASSERT_EQUAL(vt_count_fds(), fds0, "no fd left");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_refuses_log_base_without_shared_memory, fast, test_legacy_log_base)

/*
 * A front-end over a socketpair whose other end (@p peer) the test plays:
 * the negotiation's replies are queued before it runs, so no peer thread is
 * needed. The back-end offers @p pf; with a channel, *@p chan gets its fd.
 */
static int
scripted_frontend(struct vh_user_frontend **fe, int *peer, uint64_t pf,
		  const struct vh_user_frontend_config *cfg, int *chan)
{
	uint64_t features = (1ULL << VH_USER_F_PROTOCOL_FEATURES) | (1ULL << VH_VIRTIO_F_VERSION_1);
	uint64_t zero = 0;
	struct vh_user_msg m;
	int sv[2], want = 3;

	TEST_ASSERT_SUCCESS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "pair");
	TEST_ASSERT_SUCCESS(
		vt_send_raw(sv[1], VH_USER_GET_FEATURES, REPLY_FLAGS, &features, 8, NULL, 0),
		"queued reply");
	TEST_ASSERT_SUCCESS(
		vt_send_raw(sv[1], VH_USER_GET_PROTOCOL_FEATURES, REPLY_FLAGS, &pf, 8, NULL, 0),
		"queued reply");
	if (chan != NULL) {
		TEST_ASSERT_SUCCESS(vt_send_raw(sv[1], VH_USER_SET_BACKEND_REQ_FD, REPLY_FLAGS,
						&zero, 8, NULL, 0),
				    "queued ack");
		want++;
	}
	*fe = vh_user_frontend_create(sv[0], cfg);
	TEST_ASSERT_NOT_NULL(*fe, "front-end");
	TEST_ASSERT_SUCCESS(vh_user_frontend_negotiate(*fe), "negotiated");
	/* GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES [, SET_BACKEND_REQ_FD] */
	for (int i = 0; i < want; i++) {
		TEST_ASSERT_EQUAL(vt_recv_reply(sv[1], &m, 2000), 1, "request %d", i);
		if (m.hdr.request == VH_USER_SET_BACKEND_REQ_FD && chan != NULL) {
			TEST_ASSERT_EQUAL(m.nfds, 1, "the channel's fd");
			*chan = m.fds[0];
			m.nfds = 0;
		}
		vh_user_msg_close_fds(&m);
	}
	*peer = sv[1];
	return TEST_SUCCESS;
}

static int
test_fe_no_log_u64(void)
{
	struct vh_user_frontend_config cfg = {.protocol_features = ~0ULL, .timeout_ms = 2000};
	struct vh_user_frontend *fe;
	struct vt_guest_mem log;
	struct vh_log_area la;
	struct vh_user_msg m;
	int peer;

	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&log, 4096, 0), "log memfd");
	la = (struct vh_log_area){4096, 0, 0x7f0000000000ULL, log.fd};
	TEST_RUN(scripted_frontend(&fe, &peer, PF(REPLY_ACK), &cfg, NULL));
	TEST_ASSERT(!(vh_user_frontend_protocol_features(fe) & PF(LOG_SHMFD)), "no LOG_SHMFD");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_log_base(fe, &la), -ENOTSUP,
			  "without LOG_SHMFD there is no log a back-end could use");
	TEST_ASSERT_EQUAL(vt_recv_reply(peer, &m, 200), -ETIMEDOUT, "and nothing was sent");
	TEST_ASSERT_EQUAL(vh_backend_set_log_base(vh_user_frontend_backend(fe), &la), -ENOTSUP,
			  "through the common interface too");
	TEST_ASSERT_EQUAL(vt_recv_reply(peer, &m, 200), -ETIMEDOUT, "nothing sent");
	vh_user_frontend_destroy(fe);
	close(peer);
	vt_guest_mem_destroy(&log);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_sends_no_log_base_without_log_shmfd, fast, test_fe_no_log_u64)

/* ---- INFLIGHT_SHMFD with packed rings ---- */

/* vhost-user "Inflight I/O tracking", QueueRegionPacked: a 32-byte header, then 32 bytes per
 * descriptor. */
static uint64_t
packed_region(uint64_t n)
{
	return (32 + 32 * n + 63) & ~63ULL;
}

static int
test_inflight_packed(void)
{
	const uint64_t feat = RT_FEAT | (1ULL << VH_VIRTIO_F_RING_PACKED);
	struct vh_user_frontend_config cfg = {.protocol_features = ~0ULL, .timeout_ms = 5000};
	int fds0 = vt_count_fds(), maps0 = vt_count_maps_matching("memfd:");
	const uint64_t q = packed_region(256);
	struct vh_user_frontend *fe;
	struct vh_user_inflight in, split;
	struct vt_guest_mem mem;
	struct vh_mem_region r;
	struct vt_server s;
	struct vt_udev d;
	int ifd, kick, call;
	uint8_t *area;

	TEST_ASSERT_SUCCESS(rt_open(&s, &fe, RT_LISTEN, "inflight-packed.sock", &cfg), "open");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(fe, feat), "packed rings");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&mem, RT_MEM, RT_GPA), "memory");
	r = vt_guest_mem_region(&mem);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_mem_table(fe, &r, 1), "SET_MEM_TABLE");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_inflight_fd(fe, 2, 256, &in, &ifd),
			    "GET_INFLIGHT_FD");
	TEST_ASSERT_EQUAL(q, 8256, "32 + 32 * 256, 64-byte aligned");
	TEST_ASSERT_EQUAL(in.mmap_size, 2 * q, "two QueueRegionPacked");
	TEST_ASSERT(in.mmap_offset == 0 && in.num_queues == 2 && in.queue_size == 256, "desc");
	area = mmap(NULL, in.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, ifd, 0);
	TEST_ASSERT(area != MAP_FAILED, "maps");
	for (uint64_t i = 0; i < in.mmap_size; i++)
		TEST_ASSERT_EQUAL(area[i], 0, "a fresh area is zero (version 0), byte %" PRIu64, i);
	area[q - 1] = 0x11; /* queue 0's padding */
	area[q] = 0x22;	    /* queue 1's features, first byte */

	split = in;
	split.mmap_size = 2 * 4160; /* room for split regions only */
	TEST_ASSERT_EQUAL(vh_user_frontend_set_inflight_fd(fe, &split, ifd), -EIO,
			  "an area sized for split regions is too small for packed ones");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_inflight_fd(fe, &in, ifd), "SET_INFLIGHT_FD");
	TEST_ASSERT_SUCCESS(
		vt_frontend_setup_ring(fe, &mem, 1, 256, 0x8000 | (0x8000u << 16), &kick, &call),
		"packed ring 1");
	d = snap(&s);
	TEST_ASSERT(d.rings[1].started && d.rings[1].last.packed, "a packed ring started");
	TEST_ASSERT(d.rings[1].last.inflight != NULL, "with an inflight region");
	TEST_ASSERT_EQUAL(d.inflight_byte, 0x22, "queue 1's region of our area starts at %" PRIu64,
			  q);

	TEST_RUN(rt_close(&s, fe));
	munmap(area, in.mmap_size);
	close(ifd);
	close(kick);
	close(call);
	vt_guest_mem_destroy(&mem);
	TEST_ASSERT_EQUAL(vt_count_fds(), fds0, "no fd left");
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), maps0, "no mapping left");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_inflight_fd_round_trip_packed, fast, test_inflight_packed)

/* ---- the back-end channel's edge cases ---- */

struct chan_rec {
	int config_changes;
	int others;
	int other_fds;
};

static int
rec_config_change(void *p)
{
	((struct chan_rec *)p)->config_changes++;
	return 0;
}

static int64_t
rec_other(void *p, struct vh_user_msg *m)
{
	struct chan_rec *r = p;

	r->others++;
	r->other_fds += (int)m->nfds;
	return m->hdr.request == VH_USER_BACKEND_SHARED_OBJECT_LOOKUP ? 5 : 0;
}

static const struct vh_user_frontend_ops chan_ops = {
	.config_change = rec_config_change,
	.other = rec_other,
};

static int
test_chan_noack(void)
{
	struct chan_rec rec = {0};
	struct vh_user_frontend_config cfg = {.backend_channel = true,
					      .ops = &chan_ops,
					      .opaque = &rec,
					      .timeout_ms = 5000,
					      .protocol_features = ~PF(REPLY_ACK)};
	struct vh_user_shared obj = {{7}};
	struct vh_user_frontend *fe;
	struct vt_server s;
	struct vt_backend_req b;
	uint64_t t0;

	TEST_ASSERT_SUCCESS(rt_open(&s, &fe, RT_LISTEN, "chan-noack.sock", &cfg), "open");
	TEST_ASSERT(!(vh_user_frontend_protocol_features(fe) & PF(REPLY_ACK)), "no REPLY_ACK");
	TEST_ASSERT(vh_user_frontend_channel_fd(fe) >= 0, "a channel");
	t0 = vt_now_ms();
	/* fe NULL: nobody serves the channel while the job runs. */
	TEST_ASSERT_SUCCESS(vt_server_run_job(&s, 0, job_config_change, NULL, NULL, 3000),
			    "CONFIG_CHANGE_MSG: no reply expected, none waited for");
	TEST_ASSERT(vt_now_ms() - t0 < 900, "returned before the 1 s channel timeout");
	TEST_ASSERT_EQUAL(rec.config_changes, 0, "not handled yet");
	TEST_ASSERT_SUCCESS(vh_user_frontend_handle_channel(fe), "now the front-end reads it");
	TEST_ASSERT_EQUAL(rec.config_changes, 1, "handled");
	/*
	 * Had the front-end answered the CONFIG_CHANGE_MSG, that stale answer
	 * would be read as the reply to the lookup (which always has one).
	 */
	b = (struct vt_backend_req){VH_USER_BACKEND_SHARED_OBJECT_LOOKUP, &obj, sizeof(obj), -1, 0};
	TEST_ASSERT_EQUAL(vt_server_run_job(&s, 0, vt_job_backend_request, &b, fe, 3000), -EIO,
			  "SHARED_OBJECT_LOOKUP answered non-zero");
	TEST_ASSERT_EQUAL(b.reply, 5, "with its own reply: the front-end sent none before");
	TEST_ASSERT_SUCCESS(vt_sync(fe), "the main socket is fine");
	TEST_RUN(rt_close(&s, fe));
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_channel_without_reply_ack_sends_without_waiting, fast, test_chan_noack)

static int
test_chan_fds(void)
{
	struct chan_rec rec = {0};
	struct vh_user_frontend_config cfg = {.backend_channel = true,
					      .ops = &chan_ops,
					      .opaque = &rec,
					      .timeout_ms = 5000,
					      .protocol_features = ~PF(BACKEND_SEND_FD)};
	struct vh_user_mmap map = {1, {0}, 0, 4096, 8192, 3};
	struct vh_user_frontend *fe;
	struct vt_server s;
	struct vt_backend_req b;
	int efd = eventfd(0, EFD_CLOEXEC), fds;

	TEST_ASSERT_SUCCESS(rt_open(&s, &fe, RT_PAIR, NULL, &cfg), "open");
	TEST_ASSERT(!(vh_user_frontend_protocol_features(fe) & PF(BACKEND_SEND_FD)), "no SEND_FD");
	fds = vt_count_fds();
	b = (struct vt_backend_req){VH_USER_BACKEND_SHMEM_MAP, &map, sizeof(map), efd, 0};
	TEST_ASSERT_EQUAL(vt_server_run_job(&s, 0, vt_job_backend_request, &b, fe, 3000), -ENOTSUP,
			  "an fd on the channel needs BACKEND_SEND_FD");
	TEST_ASSERT_EQUAL(vt_count_fds(), fds, "nothing was passed");
	TEST_ASSERT_EQUAL(rec.others, 0, "nothing reached the front-end");
	b = (struct vt_backend_req){VH_USER_BACKEND_SHMEM_UNMAP, &map, sizeof(map), -1, 0};
	TEST_ASSERT_SUCCESS(vt_server_run_job(&s, 0, vt_job_backend_request, &b, fe, 3000),
			    "a request without fds still goes");
	TEST_ASSERT(rec.others == 1 && rec.other_fds == 0, "the unmap, and only it");
	TEST_RUN(rt_close(&s, fe));
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_channel_refuses_fds_without_backend_send_fd, fast, test_chan_fds)

/* Expects the front-end's answer to back-end request @p req on @p chan. */
static int
expect_channel_reply(int chan, uint32_t req, uint64_t value)
{
	struct vh_user_msg r;

	TEST_ASSERT_EQUAL(vt_recv_reply(chan, &r, 2000), 1, "an answer to %u", req);
	vh_user_msg_close_fds(&r);
	TEST_ASSERT_EQUAL(r.hdr.request, req, "to the right request");
	TEST_ASSERT_EQUAL(r.hdr.flags, REPLY_FLAGS, "reply flags");
	TEST_ASSERT(r.hdr.size == 8 && r.payload.u64 == value, "u64 %" PRIu64 " (got %" PRIu64 ")",
		    value, r.payload.u64);
	return TEST_SUCCESS;
}

static int
test_fe_unknown_breq(void)
{
	struct chan_rec rec = {0};
	struct vh_user_frontend_config cfg = {.protocol_features = ~0ULL,
					      .backend_channel = true,
					      .ops = &chan_ops,
					      .opaque = &rec,
					      .timeout_ms = 2000};
	const uint32_t flags = VH_USER_VERSION | VH_USER_NEED_REPLY_MASK;
	struct vh_user_frontend *fe;
	int peer, chan = -1, efd = eventfd(0, EFD_CLOEXEC), fds;
	uint64_t v = 1;

	TEST_RUN(scripted_frontend(&fe, &peer, PF(REPLY_ACK) | PF(BACKEND_REQ), &cfg, &chan));
	TEST_ASSERT(chan >= 0 && vh_user_frontend_channel_fd(fe) >= 0, "a channel");
	fds = vt_count_fds();
	TEST_ASSERT_SUCCESS(vt_send_raw(chan, 99, flags, &v, 8, &efd, 1), "request 99 with an fd");
	TEST_ASSERT_SUCCESS(vh_user_frontend_handle_channel(fe), "handled");
	TEST_RUN(expect_channel_reply(chan, 99, 1));
	TEST_ASSERT_EQUAL(vt_count_fds(), fds, "its fd was closed");
	TEST_ASSERT_SUCCESS(vt_send_raw(chan, 0, flags, NULL, 0, NULL, 0), "request 0");
	TEST_ASSERT_SUCCESS(vh_user_frontend_handle_channel(fe), "handled");
	TEST_RUN(expect_channel_reply(chan, 0, 1));
	TEST_ASSERT_SUCCESS(vt_send_raw(chan, 1000, VH_USER_VERSION, &v, 8, NULL, 0),
			    "request 1000 without need_reply");
	TEST_ASSERT_SUCCESS(
		vt_send_raw(chan, VH_USER_BACKEND_CONFIG_CHANGE_MSG, flags, NULL, 0, NULL, 0),
		"then a known one");
	TEST_ASSERT_SUCCESS(vh_user_frontend_handle_channel(fe), "handled");
	TEST_RUN(expect_channel_reply(chan, VH_USER_BACKEND_CONFIG_CHANGE_MSG, 0));
	TEST_ASSERT_EQUAL(rec.config_changes, 1, "served after the unknown ones");
	TEST_ASSERT_EQUAL(rec.others, 0, "unknown requests never reach a handler");
	TEST_ASSERT(vh_user_frontend_channel_fd(fe) >= 0, "the channel stays open");
	vh_user_frontend_destroy(fe);
	close(peer);
	close(chan);
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_answers_unknown_backend_request_with_failure, fast,
	      test_fe_unknown_breq)
