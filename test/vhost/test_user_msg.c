/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user wire format and socket layer: every request has a framing
 * rule, payload layouts match the spec byte for byte, and the receiver
 * reassembles partial messages, keeps fds with their message, rejects what
 * breaks the framing and reports disconnects, never blocking.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vhost_user_conn.h"
#include "vhost_user_msg.h"

static int
test_rules_cover_every_request(void)
{
	for (uint32_t r = 1; r < VH_USER_REQ_MAX; r++) {
		const struct vh_user_req_rule *rule = vh_user_request_rule(r);

		TEST_ASSERT_NOT_NULL(rule, "front-end request %u has a rule", r);
		TEST_ASSERT(rule->min_size <= rule->max_size, "request %u sizes", r);
		TEST_ASSERT(rule->max_size <= VH_USER_MAX_PAYLOAD, "request %u bounded", r);
		TEST_ASSERT(strcmp(vh_user_request_name(r), "UNKNOWN") != 0, "request %u named", r);
	}
	for (uint32_t r = 1; r < VH_USER_BACKEND_REQ_MAX; r++)
		TEST_ASSERT_NOT_NULL(vh_user_backend_request_rule(r), "back-end request %u", r);
	TEST_ASSERT_EQUAL(VH_USER_REQ_MAX, 45, "front-end requests are 1..44");
	TEST_ASSERT_EQUAL(VH_USER_BACKEND_REQ_MAX, 11, "back-end requests are 1..10");
	TEST_ASSERT_EQUAL(VH_USER_PROTOCOL_F_MAX, 21, "protocol features are 0..20");
	TEST_ASSERT(vh_user_request_rule(0) == NULL, "0 is not a request");
	TEST_ASSERT(vh_user_request_rule(45) == NULL, "45 is not a request");
	TEST_ASSERT(vh_user_backend_request_rule(11) == NULL, "11 is not a back-end request");
	TEST_ASSERT_EQUAL(strcmp(vh_user_request_name(VH_USER_SET_MEM_TABLE), "SET_MEM_TABLE"), 0,
			  "name");
	TEST_ASSERT_EQUAL(strcmp(vh_user_request_name(1000), "UNKNOWN"), 0, "unknown name");
	/* Which requests always have a reply (vhost-user "Communication"). */
	TEST_ASSERT_EQUAL(vh_user_request_rule(VH_USER_GET_VRING_BASE)->reply, VH_USER_REPLY_ALWAYS,
			  "GET_VRING_BASE replies");
	TEST_ASSERT_EQUAL(vh_user_request_rule(VH_USER_SET_LOG_BASE)->reply,
			  VH_USER_REPLY_LOG_SHMFD, "SET_LOG_BASE replies with LOG_SHMFD");
	TEST_ASSERT_EQUAL(vh_user_request_rule(VH_USER_SET_VRING_NUM)->reply, VH_USER_REPLY_NONE,
			  "SET_VRING_NUM does not");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_msg_rules_cover_every_request, fast, test_rules_cover_every_request)

static int
test_payload_layouts(void)
{
	/* Sizes and offsets from docs/interop/vhost-user.rst, "Payload". */
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_hdr), VH_USER_HDR_SIZE, "header");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_vring_state), 8, "vring state");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_vring_addr), 40, "vring address");
	TEST_ASSERT_EQUAL(offsetof(struct vh_user_vring_addr, used_user_addr), 16,
			  "used after desc");
	TEST_ASSERT_EQUAL(offsetof(struct vh_user_vring_addr, avail_user_addr), 24, "then avail");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_mem_region), 32, "region");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_memory), 8 + 8 * 32, "memory table");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_mem_reg_msg), 40, "single region");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_log), 16, "log");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_iotlb), 32, "iotlb");
	TEST_ASSERT_EQUAL(offsetof(struct vh_user_iotlb, type), 25, "iotlb type");
	TEST_ASSERT_EQUAL(offsetof(struct vh_user_config, region), VH_USER_CONFIG_HDR_SIZE,
			  "config data");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_vring_area), 24, "vring area");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_inflight), 24, "inflight");
	TEST_ASSERT_EQUAL(offsetof(struct vh_user_inflight, queue_size), 18, "queue size");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_shared), 16, "shared object");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_device_state), 8, "device state");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_shmem_config), 72, "shmem config");
	TEST_ASSERT_EQUAL(sizeof(struct vh_user_mmap), 40, "shmem map");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_msg_payload_layouts_match_spec, fast, test_payload_layouts)

static void
msg(struct vh_user_msg *m, uint32_t req, uint32_t size, uint32_t nfds)
{
	vh_user_msg_init(m, req, size);
	m->nfds = nfds;
}

static int
test_check_enforces_payload_rules(void)
{
	struct vh_user_msg m;

	msg(&m, VH_USER_SET_FEATURES, 8, 0);
	TEST_ASSERT_SUCCESS(vh_user_msg_check(&m, 0), "a good SET_FEATURES");
	m.hdr.size = 4;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "short payload");
	msg(&m, VH_USER_SET_FEATURES, 8, 1);
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "an fd where none belongs");
	msg(&m, VH_USER_SET_FEATURES, 8, 0);
	m.hdr.flags = 2;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "version 2");
	m.hdr.flags = VH_USER_VERSION | VH_USER_REPLY_MASK;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "a reply is not a request");
	m.hdr.flags = VH_USER_VERSION | 0x100;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "unknown flag bits");
	m.hdr.flags = VH_USER_VERSION | VH_USER_NEED_REPLY_MASK;
	TEST_ASSERT_SUCCESS(vh_user_msg_check(&m, 0), "need_reply is fine");

	msg(&m, VH_USER_SET_MEM_TABLE, 8 + 2 * 32, 2);
	m.payload.memory.nregions = 2;
	TEST_ASSERT_SUCCESS(vh_user_msg_check(&m, 0), "two regions, two fds");
	m.nfds = 1;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "fd count != nregions");
	m.nfds = 2;
	m.payload.memory.nregions = 3;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "size != nregions");
	m.payload.memory.nregions = 0;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "zero regions");

	msg(&m, VH_USER_SET_VRING_KICK, 8, 0);
	m.payload.u64 = 3 | VH_USER_VRING_NOFD_MASK;
	TEST_ASSERT_SUCCESS(vh_user_msg_check(&m, 0), "no-fd flag without fd");
	m.nfds = 1;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "no-fd flag with an fd");
	m.payload.u64 = 3;
	TEST_ASSERT_SUCCESS(vh_user_msg_check(&m, 0), "fd without flag");
	m.nfds = 0;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "neither fd nor flag");
	m.payload.u64 = 3 | (1ULL << 40);
	m.nfds = 1;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "undefined bits");

	msg(&m, VH_USER_GET_CONFIG, VH_USER_CONFIG_HDR_SIZE + 6, 0);
	m.payload.config.size = 6;
	TEST_ASSERT_SUCCESS(vh_user_msg_check(&m, 0), "config of 6 bytes");
	m.payload.config.size = 7;
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "config size != payload");

	msg(&m, VH_USER_REM_MEM_REG, 40, 1);
	TEST_ASSERT_SUCCESS(vh_user_msg_check(&m, 0), "REM_MEM_REG may carry an fd");
	msg(&m, VH_USER_SET_LOG_BASE, 16, 0);
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -EBADMSG, "shared log without fd");
	msg(&m, 77, 0, 0);
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 0), -ENOSYS, "unknown request");
	msg(&m, VH_USER_BACKEND_VRING_HOST_NOTIFIER_MSG, 24, 0);
	TEST_ASSERT_EQUAL(vh_user_msg_check(&m, 1), -EBADMSG, "host notifier without fd");
	m.payload.area.u64 = VH_USER_VRING_NOFD_MASK;
	TEST_ASSERT_SUCCESS(vh_user_msg_check(&m, 1), "host notifier withdrawal");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_msg_check_enforces_payload_rules, fast, test_check_enforces_payload_rules)

static int
pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
}

static int
test_rx_reassembles_partial_messages(void)
{
	struct vh_user_hdr h = {VH_USER_SET_VRING_BASE, VH_USER_VERSION, 8};
	struct vh_user_vring_state st = {3, 0x1234};
	uint8_t wire[20];
	struct vh_user_rx rx;
	int sv[2];

	TEST_ASSERT_SUCCESS(pair(sv), "socketpair");
	memcpy(wire, &h, 12);
	memcpy(wire + 12, &st, 8);
	vh_user_rx_init(&rx, VH_USER_RX_FRONTEND_REQ);
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), 0, "nothing sent yet: no block, no message");
	for (int i = 0; i < 20; i++) {
		TEST_ASSERT_EQUAL(write(sv[0], wire + i, 1), 1, "byte %d", i);
		TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), i == 19 ? 1 : 0, "after byte %d", i);
	}
	TEST_ASSERT_EQUAL(rx.msg.hdr.request, VH_USER_SET_VRING_BASE, "request");
	TEST_ASSERT_EQUAL(rx.msg.payload.state.index, 3, "index");
	TEST_ASSERT_EQUAL(rx.msg.payload.state.num, 0x1234, "num");
	vh_user_rx_reset(&rx);
	/* Two messages back to back come out one at a time. */
	TEST_ASSERT_EQUAL(write(sv[0], wire, 20), 20, "first");
	TEST_ASSERT_EQUAL(write(sv[0], wire, 20), 20, "second");
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), 1, "first message");
	vh_user_rx_reset(&rx);
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), 1, "second message");
	vh_user_rx_reset(&rx);
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), 0, "then nothing");
	close(sv[0]);
	close(sv[1]);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_conn_rx_reassembles_partial_messages, fast, test_rx_reassembles_partial_messages)

static int
test_fds_travel_with_their_message(void)
{
	int base = vt_count_fds();
	int sv[2], efd[2];
	struct vh_user_msg m;
	struct vh_user_rx rx;
	uint64_t v = 7;

	TEST_ASSERT_SUCCESS(pair(sv), "socketpair");
	efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	efd[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vh_user_msg_init(&m, VH_USER_SET_VRING_CALL, 8);
	m.payload.u64 = 1;
	m.fds[0] = efd[0];
	m.nfds = 1;
	TEST_ASSERT_SUCCESS(vh_user_send(sv[0], &m, 100), "send with one fd");
	vh_user_msg_init(&m, VH_USER_SET_VRING_KICK, 8);
	m.payload.u64 = 2 | VH_USER_VRING_NOFD_MASK;
	TEST_ASSERT_SUCCESS(vh_user_send(sv[0], &m, 100), "send without fd");
	vh_user_rx_init(&rx, VH_USER_RX_FRONTEND_REQ);
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), 1, "first message");
	TEST_ASSERT_EQUAL(rx.msg.nfds, 1, "its fd came with it");
	TEST_ASSERT_EQUAL(write(rx.msg.fds[0], &v, 8), 8, "the received fd is the eventfd");
	TEST_ASSERT_EQUAL(read(efd[0], &v, 8), 8, "readable through the original");
	TEST_ASSERT_EQUAL(v, 7, "value");
	vh_user_rx_reset(&rx);
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), 1, "second message");
	TEST_ASSERT_EQUAL(rx.msg.nfds, 0, "no fd slipped into the next message");
	vh_user_rx_reset(&rx);
	close(efd[0]);
	close(efd[1]);
	close(sv[0]);
	close(sv[1]);
	TEST_ASSERT_EQUAL(vt_count_fds(), base, "no fd leaked");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_conn_fds_travel_with_their_message, fast, test_fds_travel_with_their_message)

static int
test_rejects_oversized_header(void)
{
	struct vh_user_hdr h = {VH_USER_SET_FEATURES, VH_USER_VERSION, 9};
	struct vh_user_rx rx;
	int sv[2];

	TEST_ASSERT_SUCCESS(pair(sv), "socketpair");
	vh_user_rx_init(&rx, VH_USER_RX_FRONTEND_REQ);
	TEST_ASSERT_EQUAL(write(sv[0], &h, 12), 12, "header");
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), -EMSGSIZE,
			  "SET_FEATURES never carries 9 bytes: rejected before reading them");
	h.request = 999;
	h.size = VH_USER_MAX_PAYLOAD + 1;
	TEST_ASSERT_EQUAL(write(sv[0], &h, 12), 12, "header");
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), -EMSGSIZE, "beyond any request");
	vh_user_rx_init(&rx, VH_USER_RX_REPLY);
	h.size = 0xffffffff;
	TEST_ASSERT_EQUAL(write(sv[0], &h, 12), 12, "header");
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), -EMSGSIZE, "a 4 GiB reply");
	close(sv[0]);
	close(sv[1]);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_conn_rejects_oversized_header, fast, test_rejects_oversized_header)

static int
test_closes_surplus_fds(void)
{
	int base = vt_count_fds();
	int sv[2], fds[12];
	struct vh_user_rx rx;
	struct vh_user_hdr h = {VH_USER_SET_MEM_TABLE, VH_USER_VERSION, 0};
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr a;
	} ctl;
	struct iovec iov = {&h, 12};
	struct msghdr mh = {0};
	struct cmsghdr *c;

	TEST_ASSERT_SUCCESS(pair(sv), "socketpair");
	for (int i = 0; i < 12; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	TEST_ASSERT_EQUAL(sendmsg(sv[0], &mh, 0), 12, "12 fds in one message");
	for (int i = 0; i < 12; i++)
		close(fds[i]);
	vh_user_rx_init(&rx, VH_USER_RX_FRONTEND_REQ);
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), -EBADMSG, "more than 8 fds");
	close(sv[0]);
	close(sv[1]);
	TEST_ASSERT_EQUAL(vt_count_fds(), base, "every received fd was closed");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_conn_closes_surplus_fds, fast, test_closes_surplus_fds)

static int
test_reports_disconnect_mid_message(void)
{
	int base = vt_count_fds();
	struct vh_user_rx rx;
	int sv[2], efd;

	/* Half a header, then hang-up. */
	TEST_ASSERT_SUCCESS(pair(sv), "socketpair");
	vh_user_rx_init(&rx, VH_USER_RX_FRONTEND_REQ);
	TEST_ASSERT_EQUAL(write(sv[0], "\x05\x00\x00\x00\x01\x00", 6), 6, "6 of 12 bytes");
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), 0, "partial, kept");
	close(sv[0]);
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), -ECONNRESET, "peer gone");
	close(sv[1]);

	/* A header promising 40 bytes, with an fd, then 10 of them, then hang-up. */
	TEST_ASSERT_SUCCESS(pair(sv), "socketpair");
	efd = eventfd(0, EFD_CLOEXEC);
	{
		struct vh_user_hdr h = {VH_USER_SET_VRING_ADDR, VH_USER_VERSION, 40};
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr a;
		} ctl;
		uint8_t wire[22] = {0};
		struct iovec iov = {wire, sizeof(wire)};
		struct msghdr mh = {0};
		struct cmsghdr *c;

		memcpy(wire, &h, 12);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &efd, sizeof(int));
		TEST_ASSERT_EQUAL(sendmsg(sv[0], &mh, 0), 22, "header + 10 of 40 bytes + fd");
	}
	close(efd);
	vh_user_rx_init(&rx, VH_USER_RX_FRONTEND_REQ);
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), 0, "partial");
	TEST_ASSERT_EQUAL(rx.msg.nfds, 1, "the fd is held with the partial message");
	close(sv[0]);
	TEST_ASSERT_EQUAL(vh_user_rx_read(sv[1], &rx), -ECONNRESET, "peer gone mid-payload");
	close(sv[1]);
	TEST_ASSERT_EQUAL(vt_count_fds(), base, "the partial message's fd was closed");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_conn_reports_disconnect_mid_message, fast, test_reports_disconnect_mid_message)

static int
test_listen_replaces_stale_socket(void)
{
	char path[256];
	int l1, l2, c;

	vt_path(path, sizeof(path), "stale.sock");
	l1 = vh_user_listen(path);
	TEST_ASSERT(l1 >= 0, "listen: %d", l1);
	TEST_ASSERT_EQUAL(vh_user_listen(path), -EADDRINUSE, "a live socket is not taken over");
	TEST_ASSERT_EQUAL(vh_user_accept(l1), -EAGAIN, "accept without a client does not block");
	c = vh_user_connect(path);
	TEST_ASSERT(c >= 0, "connect: %d", c);
	l2 = vh_user_accept(l1);
	TEST_ASSERT(l2 >= 0, "accept: %d", l2);
	close(l2);
	close(c);
	close(l1); /* leaves the socket file behind, as a crashed process would */
	l2 = vh_user_listen(path);
	TEST_ASSERT(l2 >= 0, "a stale socket file is replaced: %d", l2);
	close(l2);
	unlink(path);
	TEST_ASSERT_EQUAL(vh_user_connect(path), -ENOENT, "no socket");
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	TEST_ASSERT_EQUAL(vh_user_listen(path), -ENAMETOOLONG, "path too long");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_conn_listen_replaces_stale_socket, fast, test_listen_replaces_stale_socket)

static int
test_backoff_doubles_and_resets(void)
{
	struct vh_user_backoff b;
	uint32_t retry = 0, expect[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000};
	char path[256];
	int l, fd;

	vt_path(path, sizeof(path), "backoff.sock");
	vh_user_backoff_init(&b, 0, 0);
	for (unsigned i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		TEST_ASSERT_EQUAL(vh_user_try_connect(path, &b, &retry), -ENOENT, "nobody there");
		TEST_ASSERT_EQUAL(retry, expect[i], "delay %u", i);
	}
	l = vh_user_listen(path);
	TEST_ASSERT(l >= 0, "listen");
	fd = vh_user_try_connect(path, &b, &retry);
	TEST_ASSERT(fd >= 0, "connects once the server is there: %d", fd);
	TEST_ASSERT_EQUAL(b.next_ms, 100, "success resets the back-off");
	close(fd);
	close(l);
	unlink(path);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_conn_backoff_doubles_and_resets, fast, test_backoff_doubles_and_resets)

static void *
listen_later(void *arg)
{
	usleep(150 * 1000);
	*(int *)arg = vh_user_listen(vt_path((char[256]){0}, 256, "later.sock"));
	return NULL;
}

static int
test_connect_wait(void)
{
	char path[256];
	pthread_t t;
	int l = -1, fd;
	uint64_t t0;

	vt_path(path, sizeof(path), "later.sock");
	t0 = vt_now_ms();
	TEST_ASSERT_EQUAL(vh_user_connect_wait(path, 120), -ETIMEDOUT, "nobody listens");
	TEST_ASSERT(vt_now_ms() - t0 < 2000, "the timeout is honoured");
	TEST_ASSERT_SUCCESS(pthread_create(&t, NULL, listen_later, &l), "thread");
	fd = vh_user_connect_wait(path, 5000);
	pthread_join(t, NULL);
	TEST_ASSERT(fd >= 0, "connected after the server came up: %d", fd);
	close(fd);
	close(l);
	unlink(path);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_conn_connect_wait_retries_until_listener, fast, test_connect_wait)
