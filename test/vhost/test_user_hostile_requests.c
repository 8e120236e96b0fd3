/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hostile front-end against our back-end, request by request: requests
 * whose protocol feature was never negotiated, more fds than any message may
 * carry, ADD_MEM_REG regions that cannot be mapped, and payloads shorter
 * than their request's minimum. Each gets what the spec asks (an error
 * reply, or a closed connection where no reply can say failure); the
 * back-end then serves a complete new session, and the process has exactly
 * the fds and shared-memory mappings it had before.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vt_hostile.h"

#define PF(f) VH_USER_PF(VH_USER_PROTOCOL_F_##f)
#define NR    (VH_USER_VERSION | VH_USER_NEED_REPLY_MASK)
#define V     VH_USER_VERSION

/* A connection that negotiated exactly @p pf. */
static int
connect_with(struct vt_hx *h, uint64_t pf, int *out)
{
	int fd = vt_hx_connect(h);

	TEST_ASSERT(fd >= 0, "connect");
	TEST_ASSERT_SUCCESS(vt_hx_send_u64(fd, VH_USER_SET_PROTOCOL_FEATURES, NR, pf), "pf");
	TEST_RUN(vt_hx_expect_ack(fd, VH_USER_SET_PROTOCOL_FEATURES));
	*out = fd;
	return TEST_SUCCESS;
}

static struct vh_user_mem_region
region(uint64_t gpa, uint64_t size, uint64_t uva, uint64_t off)
{
	struct vh_user_mem_region r = {gpa, size, uva, off};

	return r;
}

/* ---- requests of protocol features that were not negotiated ---- */

/* Sends @p req (need_reply) and expects a failure reply, its fd closed, nothing applied. */
static int
gated_nack(int fd, uint32_t req, const void *p, uint32_t size, int with_fd)
{
	int fds = vt_count_fds();

	TEST_ASSERT_SUCCESS(vt_send_raw(fd, req, NR, p, size, &with_fd, with_fd >= 0 ? 1 : 0), "%s",
			    vh_user_request_name(req));
	TEST_RUN(vt_hx_expect_nack(fd, req));
	TEST_RUN(vt_hx_expect_alive(fd)); /* the back-end is done with the message */
	TEST_ASSERT_EQUAL(vt_count_fds(), fds, "%s: the fd sent along was closed",
			  vh_user_request_name(req));
	return TEST_SUCCESS;
}

static int
test_gated(void)
{
	struct vh_user_mem_reg_msg reg = {0, region(0, 4096, 0x100000, 0)};
	struct vh_user_vring_state st = {0, 0};
	struct vh_user_inflight in = {0, 0, 1, 256, 0};
	uint8_t config[VH_USER_CONFIG_HDR_SIZE + 4] = {8, 0, 0, 0, 4, 0, 0, 0};
	uint64_t mac = 0x563412005452ULL, v;
	int efd = eventfd(0, EFD_CLOEXEC), fd;
	struct vt_udev d;
	struct vt_hx h;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "hr-gate.sock"), "setup");
	/* REPLY_ACK only: every other protocol feature stays off. */
	TEST_RUN(connect_with(&h, PF(REPLY_ACK), &fd));
	TEST_RUN(gated_nack(fd, VH_USER_SEND_RARP, &mac, 8, -1));
	TEST_RUN(gated_nack(fd, VH_USER_NET_SET_MTU, &(uint64_t){1500}, 8, -1));
	TEST_RUN(gated_nack(fd, VH_USER_SET_BACKEND_REQ_FD, NULL, 0, efd));
	TEST_RUN(gated_nack(fd, VH_USER_SET_CONFIG, config, sizeof(config), -1));
	TEST_RUN(gated_nack(fd, VH_USER_RESET_DEVICE, NULL, 0, -1));
	TEST_RUN(gated_nack(fd, VH_USER_VRING_KICK, &st, sizeof(st), -1));
	TEST_RUN(gated_nack(fd, VH_USER_REM_MEM_REG, &reg, sizeof(reg), h.mem.fd));
	TEST_RUN(gated_nack(fd, VH_USER_ADD_MEM_REG, &reg, sizeof(reg), h.mem.fd));
	TEST_RUN(gated_nack(fd, VH_USER_SET_INFLIGHT_FD, &in, sizeof(in), h.mem.fd));
	/* vhost-user GET_CONFIG: an empty payload is its failure reply. */
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_GET_CONFIG, V, config, sizeof(config), NULL, 0),
			    "GET_CONFIG without CONFIG");
	TEST_RUN(vt_hx_expect_reply(fd, VH_USER_GET_CONFIG, 0, &v));
	TEST_RUN(vt_hx_expect_alive(fd));
	vt_udev_snapshot(&h.srv.dev, &d);
	TEST_ASSERT(d.rarps == 0 && d.mtu == 0 && d.config_writes == 0 && d.resets == 0 &&
			    d.rings[0].kicks == 0 && d.mem_changes == 0,
		    "none of them reached the device");
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), h.base_maps, "nothing was mapped");
	/* Without need_reply the failure cannot be told: the connection closes. */
	TEST_ASSERT_SUCCESS(vt_hx_send_u64(fd, VH_USER_SEND_RARP, V, mac),
			    "SEND_RARP, no need_reply");
	TEST_RUN(vt_hx_expect_closed(fd, "SEND_RARP"));
	TEST_RUN(connect_with(&h, PF(REPLY_ACK), &fd));
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_GET_INFLIGHT_FD, V, &in, sizeof(in), NULL, 0),
			    "GET_INFLIGHT_FD without INFLIGHT_SHMFD");
	TEST_RUN(vt_hx_expect_closed(fd, "GET_INFLIGHT_FD: its reply has no failure form"));
	TEST_RUN(vt_hx_check_serving(&h));
	TEST_RUN(vt_hx_end(&h));
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_requests_without_their_protocol_feature, fast, test_gated)

/* ---- more fds than any message carries ---- */

/* Sends @p req with @p size payload bytes and @p nfds copies of @p fd in one sendmsg(). */
static int
send_with_fds(int sock, uint32_t req, const void *payload, uint32_t size, int fd, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(64 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint8_t wire[12 + 512];
	struct vh_user_hdr hdr = {req, NR, size};
	struct iovec iov = {wire, 12 + size};
	struct msghdr mh = {0};
	struct cmsghdr *c;
	int fds[64];

	if (nfds > 64 || size > 512)
		return -EINVAL;
	for (unsigned i = 0; i < nfds; i++)
		fds[i] = fd;
	memcpy(wire, &hdr, 12);
	if (size > 0)
		memcpy(wire + 12, payload, size);
	memset(ctl.buf, 0, sizeof(ctl.buf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)(12 + size) ? 0 : -errno;
}

static int
test_more_than_8_fds(void)
{
	struct vh_user_memory m = {8, 0, {{0}}};
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "hr-fds.sock"), "setup");
	for (int i = 0; i < 8; i++)
		m.regions[i] = region((uint64_t)i << 17, 65536, 0x100000 + ((uint64_t)i << 17),
				      (uint64_t)i << 16);
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(send_with_fds(fd, VH_USER_SET_MEM_TABLE, &m, sizeof(m), h.mem.fd, 12),
			    "eight regions with twelve fds");
	TEST_RUN(vt_hx_expect_closed(fd, "SET_MEM_TABLE + 12 fds"));
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(
		send_with_fds(fd, VH_USER_SET_VRING_CALL, &(uint64_t){0}, 8, h.mem.fd, 9),
		"SET_VRING_CALL with nine fds");
	TEST_RUN(vt_hx_expect_closed(fd, "SET_VRING_CALL + 9 fds"));
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(send_with_fds(fd, VH_USER_GET_FEATURES, NULL, 0, h.mem.fd, 40),
			    "GET_FEATURES with forty fds (more than the control buffer holds)");
	TEST_RUN(vt_hx_expect_closed(fd, "GET_FEATURES + 40 fds"));
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), h.base_maps, "nothing was mapped");
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h); /* every surplus fd was closed */
}
REGISTER_TEST(user_hostile_more_than_8_fds_are_closed, fast, test_more_than_8_fds)

/* ---- ADD_MEM_REG regions that cannot be mapped ---- */

static int
test_add_reg_bad(void)
{
	const uint64_t mb = 1 << 20;
	const struct {
		struct vh_user_mem_region r;
		const char *what;
	} bad[] = {
		{region(0, 0, 0x100000, 0), "a zero-sized region"},
		{region(UINT64_MAX - 4095, 8192, 0x100000, 0), "guest addresses wrapping 2^64"},
		{region(0, 8192, UINT64_MAX - 4095, 0), "user addresses wrapping 2^64"},
		{region(0, 4096, 0x100000, UINT64_MAX - 4095), "an offset wrapping 2^64"},
		{region(0, 4096, 0x100000, mb), "an mmap offset beyond the fd"},
		{region(0, 2 * mb, 0x100000, 0), "a region longer than the fd"},
		{region(0, 4096, 0x100000, mb - 2048), "a region running off the fd's end"},
	};
	struct vh_user_mem_reg_msg good = {0, region(0x40000000, mb / 2, 0x7000000000ULL, 0)};
	struct vt_udev d;
	struct vt_hx h;
	int fd, fds;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "hr-addreg.sock"), "setup");
	TEST_RUN(connect_with(&h, PF(REPLY_ACK) | PF(CONFIGURE_MEM_SLOTS), &fd));
	fds = vt_count_fds();
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vh_user_mem_reg_msg m = {0, bad[i].r};

		TEST_ASSERT_SUCCESS(
			vt_send_raw(fd, VH_USER_ADD_MEM_REG, NR, &m, sizeof(m), &h.mem.fd, 1), "%s",
			bad[i].what);
		TEST_RUN(vt_hx_expect_nack(fd, VH_USER_ADD_MEM_REG));
		TEST_RUN(vt_hx_expect_alive(fd));
		TEST_ASSERT_EQUAL(vt_count_fds(), fds, "%s: the region's fd was closed",
				  bad[i].what);
		TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), h.base_maps,
				  "%s: nothing mapped", bad[i].what);
	}
	vt_udev_snapshot(&h.srv.dev, &d);
	TEST_ASSERT_EQUAL(d.mem_changes, 0, "the device never saw a table");
	TEST_ASSERT_SUCCESS(
		vt_send_raw(fd, VH_USER_ADD_MEM_REG, NR, &good, sizeof(good), &h.mem.fd, 1),
		"a good region");
	TEST_RUN(vt_hx_expect_ack(fd, VH_USER_ADD_MEM_REG));
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), h.base_maps + 1, "mapped once");
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vh_user_mem_reg_msg m = {0, bad[i].r};

		m.region.guest_phys_addr += i == 1 ? 0 : 0x80000000ULL; /* no overlap with it */
		TEST_ASSERT_SUCCESS(
			vt_send_raw(fd, VH_USER_ADD_MEM_REG, NR, &m, sizeof(m), &h.mem.fd, 1),
			"%s beside a mapped slot", bad[i].what);
		TEST_RUN(vt_hx_expect_nack(fd, VH_USER_ADD_MEM_REG));
	}
	vt_udev_snapshot(&h.srv.dev, &d);
	TEST_ASSERT(d.mem_changes == 1 && d.mem_nregions == 1, "the table kept its one slot");
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), h.base_maps + 1, "still one mapping");
	TEST_RUN(vt_hx_expect_alive(fd));
	close(fd);
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_add_mem_reg_zero_wrapping_and_out_of_file_regions, fast,
	      test_add_reg_bad)

/* ---- payloads shorter than their request's minimum ---- */

static int
test_short_payloads(void)
{
	const struct {
		uint32_t req;
		uint32_t size;
		bool fd;
	} cases[] = {
		{VH_USER_SET_FEATURES, 4, false},
		{VH_USER_SET_VRING_NUM, 4, false},
		{VH_USER_SET_VRING_ADDR, 32, false},
		{VH_USER_SET_VRING_KICK, 4, true},
		{VH_USER_SEND_RARP, 6, false},
		{VH_USER_SET_MEM_TABLE, 8, true},      /* a count and no region */
		{VH_USER_SET_MEM_TABLE, 8 + 24, true}, /* a region cut short */
		{VH_USER_SET_LOG_BASE, 4, false},
		{VH_USER_SET_LOG_BASE, 12, true}, /* between the two forms */
		{VH_USER_GET_VRING_BASE, 4, false},
		{VH_USER_SET_INFLIGHT_FD, 16, true},
		{VH_USER_ADD_MEM_REG, 32, true},
		{VH_USER_GET_CONFIG, 8, false},
	};
	uint8_t payload[64];
	struct vt_hx h;

	memset(payload, 0, sizeof(payload));
	payload[0] = 1; /* SET_MEM_TABLE: one region */
	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "hr-short.sock"), "setup");
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd;

		/* Every feature the back-end offers, so nothing fails for lack of one. */
		TEST_RUN(connect_with(&h,
				      PF(REPLY_ACK) | PF(LOG_SHMFD) | PF(INFLIGHT_SHMFD) |
					      PF(CONFIGURE_MEM_SLOTS) | PF(RARP) | PF(CONFIG),
				      &fd));
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, cases[i].req, NR, payload, cases[i].size,
						&h.mem.fd, cases[i].fd ? 1 : 0),
				    "%s with %u bytes", vh_user_request_name(cases[i].req),
				    cases[i].size);
		TEST_RUN(vt_hx_expect_closed(fd, vh_user_request_name(cases[i].req)));
	}
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_payload_shorter_than_request_minimum, fast, test_short_payloads)
