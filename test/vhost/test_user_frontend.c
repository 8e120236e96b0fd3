/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Our vhost-user front-end: every request leaves with the spec's payload and
 * fds (checked by a scripted peer, which also plays the requests no real
 * back-end here implements), replies are validated strictly, a silent or
 * confused back-end breaks the connection instead of hanging it, the
 * client reconnects after the server restarts, and the common backend
 * interface drives our back-end like a kernel device.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vt_user.h"

#define PF(f)  VH_USER_PF(VH_USER_PROTOCOL_F_##f)
#define ALL_PF ((VH_USER_PF(VH_USER_PROTOCOL_F_MAX) - 1) & ~PF(XEN_MMAP))

enum peer_mode { PEER_NORMAL, PEER_WRONG_REQUEST, PEER_SILENT, PEER_BAD_FLAGS };

/* A scripted back-end: records each message and answers as the spec says. */
struct peer {
	pthread_t thread;
	int fd;
	enum peer_mode mode;
	pthread_mutex_t lock;
	struct vh_user_msg last; /* header and payload of the last message */
	int count;
	int framing_ok; /* last message passed vh_user_msg_check() */
	int fds_valid;	/* fds of the last message that were open files */
	bool stop;
	/* SET_LOG_BASE's reply: 0 (DPDK), 8 (libvhost-user: mmap_size), 16 (rust-vmm: echo). */
	uint32_t log_reply_size;
	bool no_protocol_features; /* GET_FEATURES without bit 30 */
	int chan_fd;		   /* the back-end channel of SET_BACKEND_REQ_FD, or -1 */
};

static int
make_fd(void)
{
	return eventfd(0, EFD_CLOEXEC);
}

static void
peer_reply(struct peer *p, const struct vh_user_msg *m)
{
	struct vh_user_msg r;
	int fd = -1;

	vh_user_msg_init(&r, m->hdr.request, 8);
	r.hdr.flags = VH_USER_VERSION | VH_USER_REPLY_MASK;
	switch (m->hdr.request) {
	case VH_USER_GET_FEATURES:
		r.payload.u64 = (1ULL << VH_USER_F_PROTOCOL_FEATURES) |
				(1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << VT_NET_F_MRG_RXBUF);
		if (p->no_protocol_features)
			r.payload.u64 &= ~(1ULL << VH_USER_F_PROTOCOL_FEATURES);
		break;
	case VH_USER_GET_PROTOCOL_FEATURES:
		r.payload.u64 = VH_USER_PF(VH_USER_PROTOCOL_F_MAX) - 1;
		break;
	case VH_USER_GET_VRING_BASE:
		r.payload.state.index = m->payload.state.index;
		r.payload.state.num = 0x1234;
		break;
	case VH_USER_GET_QUEUE_NUM:
		r.payload.u64 = 4;
		break;
	case VH_USER_GET_MAX_MEM_SLOTS:
		r.payload.u64 = 509;
		break;
	case VH_USER_GET_STATUS:
		r.payload.u64 = 0x0f;
		break;
	case VH_USER_GET_CONFIG:
		r.hdr.size = m->hdr.size;
		r.payload.config = m->payload.config;
		for (uint32_t i = 0; i < m->payload.config.size; i++)
			r.payload.config.region[i] = (uint8_t)(i + 1);
		break;
	case VH_USER_CREATE_CRYPTO_SESSION:
		r.hdr.size = m->hdr.size;
		memcpy(r.payload.raw, m->payload.raw, m->hdr.size);
		r.payload.u64 = 77;
		break;
	case VH_USER_POSTCOPY_ADVISE:
		r.hdr.size = 0;
		fd = make_fd();
		break;
	case VH_USER_GET_INFLIGHT_FD:
		r.hdr.size = sizeof(struct vh_user_inflight);
		r.payload.inflight = m->payload.inflight;
		r.payload.inflight.mmap_size = 4096;
		fd = memfd_create("peer-inflight", MFD_CLOEXEC);
		if (ftruncate(fd, 4096) != 0)
			perror("ftruncate");
		break;
	case VH_USER_GET_SHARED_OBJECT:
	case VH_USER_SET_DEVICE_STATE_FD:
		fd = make_fd();
		r.payload.u64 = 0;
		break;
	case VH_USER_GET_SHMEM_CONFIG:
		r.hdr.size = sizeof(struct vh_user_shmem_config);
		r.payload.shmem.nregions = 2;
		r.payload.shmem.memory_sizes[0] = 4096;
		r.payload.shmem.memory_sizes[1] = 8192;
		break;
	case VH_USER_SET_LOG_BASE:
		r.hdr.size = p->log_reply_size;
		r.payload.log = m->payload.log;
		break;
	case VH_USER_POSTCOPY_END:
	case VH_USER_IOTLB_MSG:
	case VH_USER_CHECK_DEVICE_STATE:
		r.payload.u64 = 0;
		break;
	default:
		if (!(m->hdr.flags & VH_USER_NEED_REPLY_MASK))
			return;
		r.payload.u64 = 0;
	}
	if (p->mode == PEER_SILENT)
		return;
	if (p->mode == PEER_WRONG_REQUEST)
		r.hdr.request = m->hdr.request + 1;
	if (p->mode == PEER_BAD_FLAGS)
		r.hdr.flags = VH_USER_VERSION;
	if (fd >= 0) {
		r.fds[0] = fd;
		r.nfds = 1;
	}
	vh_user_send(p->fd, &r, 1000);
	if (fd >= 0)
		close(fd);
}

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	struct vh_user_rx rx;

	vh_user_rx_init(&rx, VH_USER_RX_FRONTEND_REQ);
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pf = {p->fd, POLLIN, 0};
		int rc;

		if (poll(&pf, 1, 50) <= 0)
			continue;
		rc = vh_user_rx_read(p->fd, &rx);
		if (rc < 0)
			break;
		if (rc == 0)
			continue;
		pthread_mutex_lock(&p->lock);
		p->last.hdr = rx.msg.hdr;
		p->last.nfds = rx.msg.nfds;
		memcpy(p->last.payload.raw, rx.msg.payload.raw, rx.msg.hdr.size);
		p->framing_ok = vh_user_msg_check(&rx.msg, 0) == 0;
		p->fds_valid = 0;
		for (uint32_t i = 0; i < rx.msg.nfds; i++)
			p->fds_valid += fcntl(rx.msg.fds[i], F_GETFD) >= 0;
		p->count++;
		if (rx.msg.hdr.request == VH_USER_SET_BACKEND_REQ_FD && p->chan_fd < 0)
			p->chan_fd = vh_user_msg_take_fd(&rx.msg, 0);
		pthread_mutex_unlock(&p->lock);
		peer_reply(p, &rx.msg);
		vh_user_rx_reset(&rx);
	}
	vh_user_rx_reset(&rx);
	return NULL;
}

static int
peer_start(struct peer *p, enum peer_mode mode, int *client)
{
	int sv[2];

	memset(p, 0, sizeof(*p));
	*client = -1;
	pthread_mutex_init(&p->lock, NULL);
	p->mode = mode;
	p->log_reply_size = 16;
	p->chan_fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	p->fd = sv[0];
	if (pthread_create(&p->thread, NULL, peer_main, p) != 0) {
		close(sv[0]);
		close(sv[1]);
		return -EAGAIN;
	}
	*client = sv[1];
	return 0;
}

static void
peer_stop(struct peer *p)
{
	__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
	pthread_join(p->thread, NULL);
	close(p->fd);
	if (p->chan_fd >= 0)
		close(p->chan_fd);
}

static struct vh_user_msg
peer_last(struct peer *p, int *count, int *framing_ok, int *fds_valid)
{
	struct vh_user_msg m;

	pthread_mutex_lock(&p->lock);
	m = p->last;
	*count = p->count;
	*framing_ok = p->framing_ok;
	*fds_valid = p->fds_valid;
	pthread_mutex_unlock(&p->lock);
	return m;
}

/* Asserts the peer's last message: request, payload size, fds (all valid), framing. */
#define EXPECT(p, req, sz_, nf_)                                                                   \
	do {                                                                                       \
		int n_, ok_, fv_;                                                                  \
		last = peer_last((p), &n_, &ok_, &fv_);                                            \
		TEST_ASSERT_EQUAL(last.hdr.request, (req), "%s went out",                          \
				  vh_user_request_name(req));                                      \
		TEST_ASSERT_EQUAL(last.hdr.size, (sz_), "%s payload size",                         \
				  vh_user_request_name(req));                                      \
		TEST_ASSERT_EQUAL(last.nfds, (nf_), "%s fds", vh_user_request_name(req));          \
		TEST_ASSERT_EQUAL(fv_, (nf_), "%s fds are open files", vh_user_request_name(req)); \
		TEST_ASSERT(ok_, "%s passes the framing rules", vh_user_request_name(req));        \
	} while (0)

/* Every protocol feature the front-end implements, asked for. */
static const struct vh_user_frontend_config all_pf = {.protocol_features = ~0ULL};

static int
test_wire_format(void)
{
	const uint8_t mac[6] = {1, 2, 3, 4, 5, 6}, uuid[16] = {9};
	struct vt_guest_mem mem;
	struct vh_mem_region r;
	struct vh_log_area la;
	struct vh_vring_addr a = {1, 0x1000, 0x3000, 0x2000, 0x4000};
	struct vh_user_inflight in;
	struct vh_user_iotlb io = {0x1000, 0x2000, 0x3000, 3, 2, {0}};
	struct vh_user_frontend *fe;
	struct vh_user_msg last;
	struct peer p;
	uint8_t buf[16], crypto[24] = {0}, st;
	uint64_t u, sizes[8];
	uint32_t base, n;
	int c, fd, efd = make_fd();

	TEST_ASSERT_SUCCESS(peer_start(&p, PEER_NORMAL, &c), "peer");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&mem, 1 << 20, 0x8000), "memory");
	fe = vh_user_frontend_create(c, &all_pf);
	TEST_ASSERT_NOT_NULL(fe, "front-end");
	TEST_ASSERT_SUCCESS(vh_user_frontend_negotiate(fe), "negotiate");
	TEST_ASSERT_EQUAL(vh_user_frontend_protocol_features(fe), ALL_PF,
			  "every protocol feature but XEN_MMAP negotiated");

	TEST_ASSERT_SUCCESS(vh_user_frontend_get_features(fe, &u), "1");
	EXPECT(&p, VH_USER_GET_FEATURES, 0, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(fe, 1ULL << VH_VIRTIO_F_VERSION_1), "2");
	EXPECT(&p, VH_USER_SET_FEATURES, 8, 0);
	TEST_ASSERT_EQUAL(last.payload.u64,
			  (1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << VH_USER_F_PROTOCOL_FEATURES),
			  "bit 30 acked along");
	TEST_ASSERT(last.hdr.flags & VH_USER_NEED_REPLY_MASK, "REPLY_ACK asks for an ack");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_owner(fe), "3");
	EXPECT(&p, VH_USER_SET_OWNER, 0, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_reset_owner(fe), "4");
	EXPECT(&p, VH_USER_RESET_OWNER, 0, 0);
	r = vt_guest_mem_region(&mem);
	r.mmap_offset = 0;
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_mem_table(fe, &r, 1), "5");
	EXPECT(&p, VH_USER_SET_MEM_TABLE, 8 + 32, 1);
	TEST_ASSERT(last.payload.memory.nregions == 1 &&
			    last.payload.memory.regions[0].guest_phys_addr == 0x8000 &&
			    last.payload.memory.regions[0].memory_size == (1 << 20) &&
			    last.payload.memory.regions[0].userspace_addr == r.userspace_addr,
		    "region fields");
	la = (struct vh_log_area){4096, 512, 0, mem.fd};
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_base(fe, &la), "6");
	EXPECT(&p, VH_USER_SET_LOG_BASE, 16, 1);
	TEST_ASSERT(last.payload.log.mmap_size == 4096 && last.payload.log.mmap_offset == 512,
		    "log fields");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_fd(fe, efd), "7");
	EXPECT(&p, VH_USER_SET_LOG_FD, 0, 1);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_num(fe, 1, 512), "8");
	EXPECT(&p, VH_USER_SET_VRING_NUM, 8, 0);
	TEST_ASSERT(last.payload.state.index == 1 && last.payload.state.num == 512, "state");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_addr(fe, 2, &a), "9");
	EXPECT(&p, VH_USER_SET_VRING_ADDR, 40, 0);
	TEST_ASSERT(last.payload.addr.index == 2 && last.payload.addr.flags == 1 &&
			    last.payload.addr.desc_user_addr == 0x1000 &&
			    last.payload.addr.used_user_addr == 0x3000 &&
			    last.payload.addr.avail_user_addr == 0x2000 &&
			    last.payload.addr.log_guest_addr == 0x4000,
		    "address fields in spec order");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_base(fe, 1, 0x80008005), "10");
	EXPECT(&p, VH_USER_SET_VRING_BASE, 8, 0);
	TEST_ASSERT_EQUAL(last.payload.state.num, 0x80008005, "all 32 bits of a packed base");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_vring_base(fe, 1, &base), "11");
	EXPECT(&p, VH_USER_GET_VRING_BASE, 8, 0);
	TEST_ASSERT_EQUAL(base, 0x1234, "reply parsed");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_kick(fe, 3, efd), "12");
	EXPECT(&p, VH_USER_SET_VRING_KICK, 8, 1);
	TEST_ASSERT_EQUAL(last.payload.u64, 3, "index, fd flag clear");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_call(fe, 3, -1), "13");
	EXPECT(&p, VH_USER_SET_VRING_CALL, 8, 0);
	TEST_ASSERT_EQUAL(last.payload.u64, 3 | VH_USER_VRING_NOFD_MASK, "no-fd flag");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_err(fe, 3, efd), "14");
	EXPECT(&p, VH_USER_SET_VRING_ERR, 8, 1);
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_protocol_features(fe, &u), "15");
	EXPECT(&p, VH_USER_GET_PROTOCOL_FEATURES, 0, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_protocol_features(fe, ALL_PF), "16");
	EXPECT(&p, VH_USER_SET_PROTOCOL_FEATURES, 8, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_queue_num(fe, &u), "17");
	EXPECT(&p, VH_USER_GET_QUEUE_NUM, 0, 0);
	TEST_ASSERT_EQUAL(u, 4, "queue num");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_enable(fe, 2, true), "18");
	EXPECT(&p, VH_USER_SET_VRING_ENABLE, 8, 0);
	TEST_ASSERT(last.payload.state.index == 2 && last.payload.state.num == 1, "enable");
	TEST_ASSERT_SUCCESS(vh_user_frontend_send_rarp(fe, mac), "19");
	EXPECT(&p, VH_USER_SEND_RARP, 8, 0);
	TEST_ASSERT_EQUAL(memcmp(last.payload.raw, mac, 6), 0, "MAC in the first 6 bytes");
	TEST_ASSERT_SUCCESS(vh_user_frontend_net_set_mtu(fe, 9000), "20");
	EXPECT(&p, VH_USER_NET_SET_MTU, 8, 0);
	TEST_ASSERT_EQUAL(last.payload.u64, 9000, "mtu");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_backend_req_fd(fe), "21");
	EXPECT(&p, VH_USER_SET_BACKEND_REQ_FD, 0, 1);
	TEST_ASSERT(vh_user_frontend_channel_fd(fe) >= 0, "our end of the channel");
	TEST_ASSERT_SUCCESS(vh_user_frontend_iotlb_msg(fe, &io), "22");
	EXPECT(&p, VH_USER_IOTLB_MSG, 32, 0);
	TEST_ASSERT(last.payload.iotlb.uaddr == 0x3000 && last.payload.iotlb.perm == 3 &&
			    last.payload.iotlb.type == 2,
		    "iotlb fields");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_endian(fe, 1, true), "23");
	EXPECT(&p, VH_USER_SET_VRING_ENDIAN, 8, 0);
	TEST_ASSERT_EQUAL(last.payload.state.num, 1, "big endian is 1");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_config(fe, 4, buf, 6, 0), "24");
	EXPECT(&p, VH_USER_GET_CONFIG, 12 + 6, 0);
	TEST_ASSERT(last.payload.config.offset == 4 && last.payload.config.size == 6, "config");
	TEST_ASSERT(buf[0] == 1 && buf[5] == 6, "reply data copied");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_config(fe, 2, mac, 6, 1), "25");
	EXPECT(&p, VH_USER_SET_CONFIG, 12 + 6, 0);
	TEST_ASSERT(last.payload.config.flags == 1 && last.payload.config.region[5] == 6, "data");
	TEST_ASSERT_SUCCESS(vh_user_frontend_create_crypto_session(fe, crypto, sizeof(crypto)),
			    "26");
	EXPECT(&p, VH_USER_CREATE_CRYPTO_SESSION, 24, 0);
	TEST_ASSERT_EQUAL(crypto[0], 77, "session id from the reply");
	TEST_ASSERT_SUCCESS(vh_user_frontend_close_crypto_session(fe, 77), "27");
	EXPECT(&p, VH_USER_CLOSE_CRYPTO_SESSION, 8, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_postcopy_advise(fe, &fd), "28");
	EXPECT(&p, VH_USER_POSTCOPY_ADVISE, 0, 0);
	TEST_ASSERT(fd >= 0, "the userfaultfd came back");
	close(fd);
	TEST_ASSERT_SUCCESS(vh_user_frontend_postcopy_listen(fe), "29");
	EXPECT(&p, VH_USER_POSTCOPY_LISTEN, 0, 0);
	TEST_ASSERT(last.hdr.flags & VH_USER_NEED_REPLY_MASK, "always acknowledged");
	TEST_ASSERT_SUCCESS(vh_user_frontend_postcopy_end(fe), "30");
	EXPECT(&p, VH_USER_POSTCOPY_END, 0, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_inflight_fd(fe, 2, 256, &in, &fd), "31");
	EXPECT(&p, VH_USER_GET_INFLIGHT_FD, 24, 0);
	TEST_ASSERT(last.payload.inflight.num_queues == 2 &&
			    last.payload.inflight.queue_size == 256,
		    "inflight request");
	TEST_ASSERT(fd >= 0 && in.mmap_size == 4096, "area and fd from the reply");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_inflight_fd(fe, &in, fd), "32");
	EXPECT(&p, VH_USER_SET_INFLIGHT_FD, 24, 1);
	close(fd);
	TEST_ASSERT_SUCCESS(vh_user_frontend_gpu_set_socket(fe, efd), "33");
	EXPECT(&p, VH_USER_GPU_SET_SOCKET, 0, 1);
	TEST_ASSERT_SUCCESS(vh_user_frontend_reset_device(fe), "34");
	EXPECT(&p, VH_USER_RESET_DEVICE, 0, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_vring_kick(fe, 5), "35");
	EXPECT(&p, VH_USER_VRING_KICK, 8, 0);
	TEST_ASSERT(last.payload.state.index == 5 && last.payload.state.num == 0, "kick state");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_max_mem_slots(fe, &u), "36");
	EXPECT(&p, VH_USER_GET_MAX_MEM_SLOTS, 0, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_add_mem_reg(fe, &r), "37");
	EXPECT(&p, VH_USER_ADD_MEM_REG, 40, 1);
	TEST_ASSERT(last.payload.mem_reg.padding == 0 &&
			    last.payload.mem_reg.region.guest_phys_addr == 0x8000,
		    "single region after 8 bytes of padding");
	TEST_ASSERT_SUCCESS(vh_user_frontend_rem_mem_reg(fe, &r), "38");
	EXPECT(&p, VH_USER_REM_MEM_REG, 40, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_status(fe, 0x0f), "39");
	EXPECT(&p, VH_USER_SET_STATUS, 8, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_status(fe, &st), "40");
	EXPECT(&p, VH_USER_GET_STATUS, 0, 0);
	TEST_ASSERT_EQUAL(st, 0x0f, "status");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_shared_object(fe, uuid, &fd), "41");
	EXPECT(&p, VH_USER_GET_SHARED_OBJECT, 16, 0);
	TEST_ASSERT(last.payload.object.uuid[0] == 9 && fd >= 0, "uuid out, dma-buf fd back");
	close(fd);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_device_state_fd(fe, 0, 0, efd, &fd), "42");
	EXPECT(&p, VH_USER_SET_DEVICE_STATE_FD, 8, 1);
	TEST_ASSERT(fd >= 0, "the back-end's own transfer fd");
	close(fd);
	TEST_ASSERT_SUCCESS(vh_user_frontend_check_device_state(fe), "43");
	EXPECT(&p, VH_USER_CHECK_DEVICE_STATE, 0, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_shmem_config(fe, &n, sizes), "44");
	EXPECT(&p, VH_USER_GET_SHMEM_CONFIG, 0, 0);
	TEST_ASSERT(n == 2 && sizes[1] == 8192, "shmem config parsed");
	vh_user_frontend_destroy(fe);
	peer_stop(&p);
	vt_guest_mem_destroy(&mem);
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_sends_every_request_in_spec_format, fast, test_wire_format)

static int
test_gated_requests_not_sent(void)
{
	struct vh_user_frontend_config cfg = {.protocol_features = PF(REPLY_ACK)};
	struct vh_user_frontend *fe;
	struct peer p;
	int c, n, ok, fv;
	uint64_t u;

	TEST_ASSERT_SUCCESS(peer_start(&p, PEER_NORMAL, &c), "peer");
	fe = vh_user_frontend_create(c, &cfg);
	TEST_ASSERT_SUCCESS(vh_user_frontend_negotiate(fe), "negotiate REPLY_ACK only");
	/*
	 * negotiate() ends with a message that has no reply; a request with
	 * one makes sure the peer has counted everything before the baseline.
	 */
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_features(fe, &u), "a round trip");
	peer_last(&p, &n, &ok, &fv);
	TEST_ASSERT_EQUAL(vh_user_frontend_get_queue_num(fe, &u), -ENOTSUP, "MQ");
	TEST_ASSERT_EQUAL(vh_user_frontend_reset_device(fe), -ENOTSUP, "RESET_DEVICE");
	TEST_ASSERT_EQUAL(vh_user_frontend_vring_kick(fe, 0), -ENOTSUP, "INBAND");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_status(fe, 1), -ENOTSUP, "STATUS");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_backend_req_fd(fe), -ENOTSUP, "BACKEND_REQ");
	{
		int n2;

		peer_last(&p, &n2, &ok, &fv);
		TEST_ASSERT_EQUAL(n2, n, "nothing was sent for them");
	}
	vh_user_frontend_destroy(fe);
	peer_stop(&p);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_does_not_send_unnegotiated_requests, fast, test_gated_requests_not_sent)

/*
 * Issue 14 item 4: by default the front-end negotiates only the protocol
 * features its own flow drives. Acking more changes what a back-end
 * expects (libvhost-user panics at the first kick when INFLIGHT_SHMFD is
 * acked and no inflight area was given): the rest is opt-in.
 */
static int
test_default_protocol_features(void)
{
	const uint64_t dflt = VH_USER_FRONTEND_DEFAULT_PROTOCOL_FEATURES;
	struct vh_user_frontend_config cfg = {.timeout_ms = 5000};
	struct vh_user_frontend *fe;
	struct vt_server s;
	uint64_t offered;

	TEST_ASSERT_SUCCESS(vt_server_listen(&s, "dfltpf.sock", 4), "server");
	TEST_ASSERT_SUCCESS(vh_user_frontend_connect(s.path, 2000, &cfg, &fe), "defaults");
	offered = vh_user_frontend_offered_protocol_features(fe);
	TEST_ASSERT(offered & PF(INFLIGHT_SHMFD) && offered & PF(INBAND_NOTIFICATIONS) &&
			    offered & PF(RESET_DEVICE) && offered & PF(CONFIG),
		    "our back-end offers much more");
	TEST_ASSERT_EQUAL(vh_user_frontend_protocol_features(fe), offered & dflt,
			  "only MQ, REPLY_ACK, LOG_SHMFD, CONFIGURE_MEM_SLOTS, STATUS acked");
	TEST_ASSERT_EQUAL(vh_user_frontend_protocol_features(fe) & PF(INFLIGHT_SHMFD), 0,
			  "no INFLIGHT_SHMFD unless asked for");
	vh_user_frontend_destroy(fe);
	cfg.backend_channel = true;
	TEST_ASSERT_SUCCESS(vh_user_frontend_connect(s.path, 2000, &cfg, &fe), "with a channel");
	TEST_ASSERT_EQUAL(vh_user_frontend_protocol_features(fe),
			  offered & (dflt | PF(BACKEND_REQ) | PF(BACKEND_SEND_FD)),
			  "the channel brings BACKEND_REQ and BACKEND_SEND_FD");
	TEST_ASSERT(vh_user_frontend_channel_fd(fe) >= 0, "and is set up");
	vh_user_frontend_destroy(fe);
	cfg = (struct vh_user_frontend_config){.protocol_features = dflt | PF(INFLIGHT_SHMFD)};
	TEST_ASSERT_SUCCESS(vh_user_frontend_connect(s.path, 2000, &cfg, &fe), "opt in");
	TEST_ASSERT_EQUAL(vh_user_frontend_protocol_features(fe),
			  offered & (dflt | PF(INFLIGHT_SHMFD)), "what was asked for");
	vh_user_frontend_destroy(fe);
	TEST_ASSERT(vt_server_wait_closed(&s, 3, 2000), "closed");
	vt_server_stop(&s);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_negotiates_only_what_it_drives_by_default, fast,
	      test_default_protocol_features)

/*
 * Issue 14 item 4: SET_VRING_ENABLE only with VHOST_USER_F_PROTOCOL_FEATURES
 * (vhost-user "Ring states"); without it SET_FEATURES enabled the rings.
 */
static int
test_no_vring_enable_without_bit_30(void)
{
	struct vh_user_frontend *fe;
	struct vh_backend *b;
	struct peer p;
	int c, n, n2, ok, fv;
	uint64_t u;

	TEST_ASSERT_SUCCESS(peer_start(&p, PEER_NORMAL, &c), "peer");
	p.no_protocol_features = true;
	fe = vh_user_frontend_create(c, NULL);
	TEST_ASSERT_SUCCESS(vh_user_frontend_negotiate(fe), "negotiate");
	TEST_ASSERT_EQUAL(vh_user_frontend_protocol_features(fe), 0, "no protocol features");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_features(fe, &u), "a round trip");
	peer_last(&p, &n, &ok, &fv);
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_enable(fe, 0, true), -ENOTSUP,
			  "the request is refused here");
	b = vh_user_frontend_backend(fe);
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_enable(b, 0, 1),
			    "the common interface: already enabled by SET_FEATURES");
	TEST_ASSERT_EQUAL(vh_backend_set_vring_enable(b, 0, 0), -ENOTSUP, "no way to disable");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_features(fe, &u), "a round trip");
	peer_last(&p, &n2, &ok, &fv);
	TEST_ASSERT_EQUAL(n2, n + 1, "no SET_VRING_ENABLE went out");
	vh_backend_destroy(b);
	peer_stop(&p);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_sends_no_vring_enable_without_protocol_features, fast,
	      test_no_vring_enable_without_bit_30)

static int
fe_lookup(void *opaque, const uint8_t uuid[16], int *fd)
{
	(void)opaque;
	if (uuid[0] != 7)
		return -ENOENT;
	*fd = memfd_create("shared-object", MFD_CLOEXEC);
	return *fd >= 0 ? 0 : -errno;
}

/* Sends BACKEND_SHARED_OBJECT_LOOKUP for @p uuid0 on @p chan; the reply in @p r. */
static int
lookup(struct vh_user_frontend *fe, int chan, uint8_t uuid0, struct vh_user_msg *r)
{
	struct vh_user_shared obj = {{uuid0}};

	TEST_ASSERT_SUCCESS(vt_send_raw(chan, VH_USER_BACKEND_SHARED_OBJECT_LOOKUP, VH_USER_VERSION,
					&obj, sizeof(obj), NULL, 0),
			    "LOOKUP");
	for (int i = 0; i < 100; i++) {
		struct pollfd pf = {chan, POLLIN, 0};

		vh_user_frontend_handle_channel(fe);
		if (poll(&pf, 1, 20) > 0)
			break;
	}
	TEST_ASSERT_EQUAL(vt_recv_reply(chan, r, 2000), 1, "a reply");
	TEST_ASSERT(r->hdr.request == VH_USER_BACKEND_SHARED_OBJECT_LOOKUP && r->hdr.size == 8,
		    "the u64 reply");
	return TEST_SUCCESS;
}

/* Issue 14 item 4: the reply to BACKEND_SHARED_OBJECT_LOOKUP carries the object's fd. */
static int
test_shared_object_lookup_fd(void)
{
	static const struct vh_user_frontend_ops ops = {.shared_object_lookup = fe_lookup};
	struct vh_user_frontend_config cfg = {
		.protocol_features = ~0ULL, .backend_channel = true, .ops = &ops};
	struct vh_user_frontend *fe;
	struct vh_user_msg r;
	struct peer p;
	int c, chan, fds;

	TEST_ASSERT_SUCCESS(peer_start(&p, PEER_NORMAL, &c), "peer");
	fe = vh_user_frontend_create(c, &cfg);
	TEST_ASSERT_SUCCESS(vh_user_frontend_negotiate(fe), "negotiate with a channel");
	TEST_ASSERT(vh_user_frontend_protocol_features(fe) & PF(SHARED_OBJECT), "SHARED_OBJECT");
	pthread_mutex_lock(&p.lock);
	chan = p.chan_fd;
	pthread_mutex_unlock(&p.lock);
	TEST_ASSERT(chan >= 0, "the peer holds the channel");
	fds = vt_count_fds();
	TEST_RUN(lookup(fe, chan, 7, &r));
	TEST_ASSERT(r.payload.u64 == 0 && r.nfds == 1 && fcntl(r.fds[0], F_GETFD) >= 0,
		    "found: u64 0 and the fd");
	vh_user_msg_close_fds(&r);
	TEST_RUN(lookup(fe, chan, 8, &r));
	TEST_ASSERT(r.payload.u64 != 0 && r.nfds == 0, "not found: non-zero, no fd");
	TEST_ASSERT_EQUAL(vt_count_fds(), fds, "the front-end kept no fd");
	vh_user_frontend_destroy(fe);
	peer_stop(&p);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_shared_object_lookup_reply_carries_the_fd, fast,
	      test_shared_object_lookup_fd)

static int
broken_peer(enum peer_mode mode, int expect)
{
	struct vh_user_frontend_config cfg = {.timeout_ms = 200};
	struct vh_user_frontend *fe;
	struct peer p;
	uint64_t u;
	int c;

	TEST_ASSERT_SUCCESS(peer_start(&p, mode, &c), "peer");
	fe = vh_user_frontend_create(c, &cfg);
	TEST_ASSERT_EQUAL(vh_user_frontend_get_features(fe, &u), expect, "the reply is refused");
	TEST_ASSERT(!vh_user_frontend_connected(fe), "the connection is closed (vhost-user spec)");
	TEST_ASSERT_EQUAL(vh_user_frontend_get_features(fe, &u), -ENOTCONN, "and stays closed");
	vh_user_frontend_destroy(fe);
	peer_stop(&p);
	return TEST_SUCCESS;
}

static int
test_wrong_reply(void)
{
	TEST_RUN(broken_peer(PEER_WRONG_REQUEST, -EPROTO));
	TEST_RUN(broken_peer(PEER_BAD_FLAGS, -EPROTO));
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_breaks_on_a_reply_to_another_request, fast, test_wrong_reply)

static int
test_silent_backend(void)
{
	uint64_t t0 = vt_now_ms();

	TEST_RUN(broken_peer(PEER_SILENT, -ETIMEDOUT));
	TEST_ASSERT(vt_now_ms() - t0 < 3000, "the 200 ms timeout bounds the wait");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_times_out_on_a_silent_backend, fast, test_silent_backend)

/*
 * Issue 14 item 3: back-ends answer SET_LOG_BASE in three forms (DPDK: no
 * payload; libvhost-user: 8 bytes holding mmap_size, not a status; rust-vmm:
 * the 16-byte log description). Each is the answer; none breaks the
 * connection or reads as a failure, and no ack is asked for on top.
 */
static int
test_log_base_any_reply(void)
{
	const uint32_t sizes[] = {16, 8, 0};
	struct vt_guest_mem lm;
	struct vh_user_frontend *fe;
	struct vh_user_msg last;
	struct vh_log_area la;
	struct peer p;
	uint64_t u;
	int c;

	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&lm, 65536, 0), "log memfd");
	la = (struct vh_log_area){65536, 0, 0, lm.fd};
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		TEST_ASSERT_SUCCESS(peer_start(&p, PEER_NORMAL, &c), "peer");
		p.log_reply_size = sizes[i];
		fe = vh_user_frontend_create(c, NULL);
		TEST_ASSERT_NOT_NULL(fe, "front-end");
		TEST_ASSERT_SUCCESS(vh_user_frontend_negotiate(fe), "negotiate");
		TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_base(fe, &la),
				    "a %u-byte reply to SET_LOG_BASE", sizes[i]);
		EXPECT(&p, VH_USER_SET_LOG_BASE, 16, 1);
		TEST_ASSERT(!(last.hdr.flags & VH_USER_NEED_REPLY_MASK),
			    "no ack asked for: the request has its own reply");
		TEST_ASSERT_SUCCESS(vh_user_frontend_get_features(fe, &u),
				    "the connection works after a %u-byte reply", sizes[i]);
		vh_user_frontend_destroy(fe);
		peer_stop(&p);
	}
	vt_guest_mem_destroy(&lm);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_accepts_any_set_log_base_reply, fast, test_log_base_any_reply)

static void *
restart_server(void *arg)
{
	struct vt_server *s = arg;

	usleep(300 * 1000);
	if (vt_server_listen(s, "restart.sock", 2) != 0)
		printf("restart failed\n");
	return NULL;
}

static int
test_reconnect(void)
{
	struct vh_user_frontend *fe;
	struct vh_user_backoff b;
	struct vt_server s;
	pthread_t t;
	uint64_t u, deadline;
	uint32_t retry = 0;
	int fd = -1, tries = 0;
	char path[256];

	TEST_ASSERT_SUCCESS(vt_server_listen(&s, "restart.sock", 2), "server");
	memcpy(path, s.path, sizeof(path));
	TEST_ASSERT_SUCCESS(vt_frontend_open(&s, &fe, 0), "connected");
	vt_server_stop(&s); /* the server goes away with its socket */
	TEST_ASSERT(vh_user_frontend_get_features(fe, &u) < 0, "the front-end notices");
	TEST_ASSERT(!vh_user_frontend_connected(fe), "disconnected");
	vh_user_frontend_destroy(fe);
	/* Client mode: retry with back-off, as an event loop would, until it is back. */
	pthread_create(&t, NULL, restart_server, &s);
	vh_user_backoff_init(&b, 20, 200);
	deadline = vt_now_ms() + 5000;
	while (fd < 0 && vt_now_ms() < deadline) {
		fd = vh_user_try_connect(path, &b, &retry);
		if (fd < 0) {
			TEST_ASSERT(retry >= 20 && retry <= 200, "suggested delay %u", retry);
			usleep(retry * 1000);
			tries++;
		}
	}
	pthread_join(t, NULL);
	TEST_ASSERT(fd >= 0, "reconnected after %d tries", tries);
	TEST_ASSERT(tries > 0, "it had to retry");
	fe = vh_user_frontend_create(fd, NULL);
	TEST_ASSERT_SUCCESS(vh_user_frontend_negotiate(fe), "a fresh session");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_owner(fe), "SET_OWNER");
	vh_user_frontend_destroy(fe);
	TEST_ASSERT(vt_server_wait_closed(&s, 1, 2000), "closed");
	vt_server_stop(&s);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_reconnects_after_server_restart, fast, test_reconnect)

static int
test_common_interface(void)
{
	struct vh_user_frontend *fe;
	struct vh_backend *b;
	struct vt_guest_mem m;
	struct vh_mem_region r;
	struct vh_vring_addr a;
	struct vt_server s;
	struct vt_udev d;
	uint64_t f;
	uint32_t base;
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);

	TEST_ASSERT_SUCCESS(vt_server_listen(&s, "common.sock", 2), "server");
	TEST_ASSERT_SUCCESS(vt_frontend_open(&s, &fe, 0), "front-end");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m, 1 << 20, 0), "memory");
	b = vh_user_frontend_backend(fe);
	TEST_ASSERT_EQUAL(b->kind, VH_BACKEND_USER, "kind");
	TEST_ASSERT_SUCCESS(vh_backend_set_owner(b), "set_owner");
	TEST_ASSERT_SUCCESS(vh_backend_get_features(b, &f), "get_features");
	TEST_ASSERT(!(f & (1ULL << VH_USER_F_PROTOCOL_FEATURES)), "bit 30 is the protocol's");
	TEST_ASSERT_SUCCESS(vh_backend_set_features(b, f & (1ULL << VH_VIRTIO_F_VERSION_1)),
			    "set_features");
	r = vt_guest_mem_region(&m);
	TEST_ASSERT_SUCCESS(vh_backend_set_mem_table(b, &r, 1), "set_mem_table");
	a = vt_ring_addr(&m, 0);
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_num(b, 0, 128), "num");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_base(b, 0, 0), "base");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_addr(b, 0, &a), "addr");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_call(b, 0, call), "call");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_err(b, 0, -1), "err");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_kick(b, 0, kick), "kick");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_enable(b, 0, 1), "enable");
	vt_udev_snapshot(&s.dev, &d);
	TEST_ASSERT(d.rings[0].started && d.rings[0].enabled, "ring 0 runs in our back-end");
	/* Issue 14 item 4: no DRIVER_OK while the driver may still configure rings. */
	TEST_ASSERT_EQUAL(d.status & 0x04, 0, "no DRIVER_OK with ring 1 not yet configured");
	a = vt_ring_addr(&m, 1);
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_num(b, 1, 128), "num 1");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_base(b, 1, 0), "base 1");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_addr(b, 1, &a), "addr 1");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_call(b, 1, call), "call 1");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_kick(b, 1, kick), "kick 1");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_enable(b, 1, 1), "enable 1");
	vt_udev_snapshot(&s.dev, &d);
	TEST_ASSERT_EQUAL(d.status & 0x04, 0, "still none");
	TEST_ASSERT_SUCCESS(vh_backend_driver_ok(b), "driver_ok");
	vt_udev_snapshot(&s.dev, &d);
	TEST_ASSERT_EQUAL(d.status, 0x0f, "FEATURES_OK then DRIVER_OK reached the device");
	TEST_ASSERT_SUCCESS(vh_backend_get_vring_base(b, 0, &base), "get_vring_base");
	vt_udev_snapshot(&s.dev, &d);
	TEST_ASSERT(!d.rings[0].started, "stopped");
	vh_backend_destroy(b);
	TEST_ASSERT(vt_server_wait_closed(&s, 1, 2000), "destroy closed the connection");
	vt_server_stop(&s);
	vt_guest_mem_destroy(&m);
	close(kick);
	close(call);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_common_interface_drives_our_backend, fast, test_common_interface)

static int
test_mem_table_by_slots(void)
{
	struct vh_user_frontend *fe;
	struct vh_mem_region r[10];
	struct vt_guest_mem m;
	struct vt_server s;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(vt_server_listen(&s, "byslots.sock", 2), "server");
	TEST_ASSERT_SUCCESS(vt_frontend_open(&s, &fe, 0), "front-end");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m, 11 * 65536, 0), "memory");
	for (int i = 0; i < 10; i++)
		r[i] = (struct vh_mem_region){(uint64_t)i * 65536, 65536,
					      (uint64_t)(uintptr_t)m.base + (uint64_t)i * 65536,
					      (uint64_t)i * 65536, m.fd};
	TEST_ASSERT_SUCCESS(vh_backend_set_mem_table(vh_user_frontend_backend(fe), r, 10),
			    "10 regions: more than SET_MEM_TABLE carries");
	vt_udev_snapshot(&s.dev, &d);
	TEST_ASSERT(d.mem_nregions == 10 && d.mem_changes == 10, "ten ADD_MEM_REG");
	r[3] = (struct vh_mem_region){10 * 65536, 65536, (uint64_t)(uintptr_t)m.base + 10 * 65536,
				      10 * 65536, m.fd};
	TEST_ASSERT_SUCCESS(vh_backend_set_mem_table(vh_user_frontend_backend(fe), r, 10),
			    "one region replaced");
	vt_udev_snapshot(&s.dev, &d);
	TEST_ASSERT_EQUAL(d.mem_changes, 12, "only one REM_MEM_REG and one ADD_MEM_REG");
	TEST_ASSERT_EQUAL(d.mem_nregions, 10, "ten regions");
	vh_user_frontend_destroy(fe);
	vt_server_wait_closed(&s, 1, 2000);
	vt_server_stop(&s);
	vt_guest_mem_destroy(&m);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_sets_mem_table_by_slots_when_negotiated, fast, test_mem_table_by_slots)

/* ---- back-end requests carrying fds ---- */

struct notifier_rec {
	int idx;
	int fd;
	uint64_t size;
	uint64_t offset;
};

static int
fe_host_notifier(void *opaque, unsigned int idx, int fd, uint64_t size, uint64_t offset)
{
	struct notifier_rec *n = opaque;

	n->idx = (int)idx;
	n->fd = fd; /* ours now */
	n->size = size;
	n->offset = offset;
	return 0;
}

static int
job_notifier(struct vh_user_backend *be, void *arg)
{
	return vh_user_backend_send_host_notifier(be, 1, *(int *)arg, 4096, 8192);
}

static int
test_host_notifier_fd(void)
{
	static const struct vh_user_frontend_ops ops = {.host_notifier = fe_host_notifier};
	struct notifier_rec n = {-1, -1, 0, 0};
	struct vh_user_frontend_config cfg = {
		.protocol_features = ~0ULL, .backend_channel = true, .ops = &ops, .opaque = &n};
	struct vh_user_frontend *fe;
	struct vt_server s;
	int efd = make_fd(), none = -1;

	TEST_ASSERT_SUCCESS(vt_server_listen(&s, "notifier.sock", 2), "server");
	/* The switch would not offer it; a vDPA-style back-end does. */
	s.cfg.protocol_features =
		PF(REPLY_ACK) | PF(BACKEND_REQ) | PF(BACKEND_SEND_FD) | PF(HOST_NOTIFIER);
	TEST_ASSERT_SUCCESS(vh_user_frontend_connect(s.path, 2000, &cfg, &fe), "front-end");
	TEST_ASSERT_SUCCESS(vt_server_run_job(&s, 0, job_notifier, &efd, fe, 3000),
			    "BACKEND_VRING_HOST_NOTIFIER_MSG with an fd");
	TEST_ASSERT(n.idx == 1 && n.fd >= 0 && n.size == 4096 && n.offset == 8192, "delivered");
	TEST_ASSERT(fcntl(n.fd, F_GETFD) >= 0 && n.fd != efd, "a new fd for the same file");
	close(n.fd);
	TEST_ASSERT_SUCCESS(vt_server_run_job(&s, 0, job_notifier, &none, fe, 3000), "withdrawal");
	TEST_ASSERT_EQUAL(n.fd, -1, "no fd for a withdrawal");
	vh_user_frontend_destroy(fe);
	vt_server_wait_closed(&s, 1, 2000);
	vt_server_stop(&s);
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_receives_host_notifier_fd_on_channel, fast, test_host_notifier_fd)

/* ---- every other back-end request ---- */

struct breq_rec {
	int iotlbs;
	struct vh_user_iotlb io;
	int seen[VH_USER_BACKEND_REQ_MAX];
	uint8_t uuid0;
	bool map_fd_ok;
};

static int
fe_iotlb(void *opaque, const struct vh_user_iotlb *m)
{
	struct breq_rec *r = opaque;

	r->iotlbs++;
	r->io = *m;
	return 0;
}

static int64_t
fe_other_requests(void *opaque, struct vh_user_msg *m)
{
	struct breq_rec *r = opaque;

	r->seen[m->hdr.request]++;
	if (m->hdr.request == VH_USER_BACKEND_SHMEM_MAP) {
		int fd = vh_user_msg_take_fd(m, 0);

		r->map_fd_ok = fd >= 0 && fcntl(fd, F_GETFD) >= 0;
		if (fd >= 0)
			close(fd);
		return m->payload.mmap.len == 8192 ? 0 : -EINVAL;
	}
	if (m->hdr.request == VH_USER_BACKEND_SHARED_OBJECT_LOOKUP) {
		r->uuid0 = m->payload.object.uuid[0];
		return 5; /* non-zero: "not found" */
	}
	return 0;
}

static int
test_every_backend_request(void)
{
	static const struct vh_user_frontend_ops ops = {.iotlb = fe_iotlb,
							.other = fe_other_requests};
	struct breq_rec rec = {0};
	struct vh_user_frontend_config cfg = {
		.protocol_features = ~0ULL, .backend_channel = true, .ops = &ops, .opaque = &rec};
	struct vh_user_iotlb io = {0x1000, 0x2000, 0, 1, 1, {0}};
	struct vh_user_shared obj = {{42}};
	struct vh_user_mmap map = {1, {0}, 0, 4096, 8192, 3};
	struct vh_user_frontend *fe;
	struct vt_server s;
	struct vt_backend_req b;
	int efd = make_fd();

	TEST_ASSERT_SUCCESS(vt_server_listen(&s, "breq.sock", 2), "server");
	TEST_ASSERT_SUCCESS(vh_user_frontend_connect(s.path, 2000, &cfg, &fe), "front-end");
	b = (struct vt_backend_req){VH_USER_BACKEND_IOTLB_MSG, &io, sizeof(io), -1, 0};
	TEST_ASSERT_SUCCESS(vt_server_run_job(&s, 0, vt_job_backend_request, &b, fe, 3000),
			    "BACKEND_IOTLB_MSG");
	TEST_ASSERT(rec.iotlbs == 1 && rec.io.iova == 0x1000 && rec.io.type == 1, "a miss");
	b = (struct vt_backend_req){VH_USER_BACKEND_SHARED_OBJECT_REMOVE, &obj, sizeof(obj), -1, 0};
	TEST_ASSERT_SUCCESS(vt_server_run_job(&s, 0, vt_job_backend_request, &b, fe, 3000),
			    "OBJECT_REMOVE");
	b = (struct vt_backend_req){VH_USER_BACKEND_SHARED_OBJECT_LOOKUP, &obj, sizeof(obj), -1, 0};
	TEST_ASSERT_EQUAL(vt_server_run_job(&s, 0, vt_job_backend_request, &b, fe, 3000), -EIO,
			  "OBJECT_LOOKUP answered non-zero");
	TEST_ASSERT(b.reply == 5 && rec.uuid0 == 42, "the value and the uuid travelled");
	b = (struct vt_backend_req){VH_USER_BACKEND_SHMEM_MAP, &map, sizeof(map), efd, 0};
	TEST_ASSERT_SUCCESS(vt_server_run_job(&s, 0, vt_job_backend_request, &b, fe, 3000),
			    "SHMEM_MAP with fd");
	TEST_ASSERT(rec.map_fd_ok, "the fd arrived (BACKEND_SEND_FD)");
	b = (struct vt_backend_req){VH_USER_BACKEND_SHMEM_UNMAP, &map, sizeof(map), -1, 0};
	TEST_ASSERT_SUCCESS(vt_server_run_job(&s, 0, vt_job_backend_request, &b, fe, 3000),
			    "SHMEM_UNMAP");
	TEST_ASSERT(rec.seen[VH_USER_BACKEND_SHARED_OBJECT_REMOVE] == 1 &&
			    rec.seen[VH_USER_BACKEND_SHMEM_UNMAP] == 1,
		    "each request reached its handler once");
	b = (struct vt_backend_req){VH_USER_BACKEND_SHMEM_MAP, &map, 8, efd, 0};
	TEST_ASSERT(vt_server_run_job(&s, 0, vt_job_backend_request, &b, fe, 3000) < 0,
		    "a short SHMEM_MAP breaks the framing: the front-end closes the channel");
	TEST_ASSERT_EQUAL(vh_user_frontend_channel_fd(fe), -1, "closed on our side");
	b = (struct vt_backend_req){VH_USER_BACKEND_SHMEM_UNMAP, &map, sizeof(map), -1, 0};
	TEST_ASSERT_EQUAL(vt_server_run_job(&s, 0, vt_job_backend_request, &b, fe, 3000), -ENOTCONN,
			  "and on the back-end's");
	TEST_ASSERT_SUCCESS(vt_sync(fe), "the main connection is unaffected");
	vh_user_frontend_destroy(fe);
	vt_server_wait_closed(&s, 1, 2000);
	vt_server_stop(&s);
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_frontend_serves_every_backend_request, fast, test_every_backend_request)
