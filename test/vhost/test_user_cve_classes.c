/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vulnerability classes found in vhost-user back-ends over the years
 * (DPDK's vhost CVEs among them), each replayed against our back-end by a
 * hostile front-end speaking raw messages: index truncation, fds leaked on
 * refused requests, resources that pile up under a flood of replacements,
 * and memory beyond the connection's budget. Each test checks that the
 * request is refused (or the connection closed), that nothing it named was
 * touched, and that the process's fds and shared mappings do not grow while
 * the connection stays open: a leak that lasts only as long as the
 * connection is still a denial of service. The classes already covered
 * elsewhere are listed in doc/security.md.
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vt_user.h"

#define PF(f) VH_USER_PF(VH_USER_PROTOCOL_F_##f)
#define NR    (VH_USER_VERSION | VH_USER_NEED_REPLY_MASK)
#define V     VH_USER_VERSION
#define MB    (1ULL << 20)

struct cx {
	struct vt_server srv;
	struct vt_guest_mem mem;
	int conns;
	int base_fds;
	int base_maps;
};

static int
cx_start(struct cx *c, const char *name, uint64_t max_mem_bytes)
{
	memset(c, 0, sizeof(*c));
	if (vt_server_listen(&c->srv, name, 4) != 0 || vt_guest_mem_create(&c->mem, MB, 0) != 0)
		return -1;
	/* Read by the server thread when it accepts, after this. */
	c->srv.cfg.max_mem_bytes = max_mem_bytes;
	c->base_fds = vt_count_fds();
	c->base_maps = vt_count_maps_matching("memfd:");
	return 0;
}

static int
cx_connect(struct cx *c)
{
	int fd = vh_user_connect(c->srv.path);

	if (fd >= 0)
		c->conns++;
	return fd;
}

static int
cx_end(struct cx *c)
{
	TEST_ASSERT(vt_server_wait_closed(&c->srv, c->conns, 5000),
		    "the back-end ended all %d connections", c->conns);
	TEST_ASSERT_EQUAL(vt_count_fds(), c->base_fds, "no fd left behind");
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), c->base_maps, "no mapping left behind");
	vt_server_stop(&c->srv);
	vt_guest_mem_destroy(&c->mem);
	return TEST_SUCCESS;
}

static int
reply(int fd, uint32_t req, int want_ok)
{
	struct vh_user_msg r;

	TEST_ASSERT_EQUAL(vt_recv_reply(fd, &r, 3000), 1, "a reply to %s",
			  vh_user_request_name(req));
	vh_user_msg_close_fds(&r);
	TEST_ASSERT(r.hdr.request == req && r.hdr.size == 8, "a REPLY_ACK to %s",
		    vh_user_request_name(req));
	if (want_ok)
		TEST_ASSERT(r.payload.u64 == 0, "%s succeeded", vh_user_request_name(req));
	else
		TEST_ASSERT(r.payload.u64 != 0, "%s was refused", vh_user_request_name(req));
	return TEST_SUCCESS;
}

static int
ack(int fd, uint32_t req)
{
	return reply(fd, req, 1);
}

static int
nack(int fd, uint32_t req)
{
	return reply(fd, req, 0);
}

static int
closed(int fd)
{
	struct vh_user_msg r;
	int rc = vt_recv_reply(fd, &r, 3000);

	if (rc == 1)
		vh_user_msg_close_fds(&r);
	TEST_ASSERT_EQUAL(rc, 0, "the back-end closed the connection");
	close(fd);
	return TEST_SUCCESS;
}

/*
 * The back-end replies before it drops the message and its fds: a round trip
 * more, and everything before it has been released.
 */
static int
sync_fd(int fd)
{
	struct vh_user_msg r;

	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_GET_FEATURES, V, NULL, 0, NULL, 0), "sync");
	TEST_ASSERT_EQUAL(vt_recv_reply(fd, &r, 3000), 1, "GET_FEATURES answered");
	return TEST_SUCCESS;
}

static int
send_u64(int fd, uint32_t req, uint64_t v)
{
	return vt_send_raw(fd, req, NR, &v, 8, NULL, 0);
}

static int
send_state(int fd, uint32_t req, uint32_t flags, uint32_t idx, uint32_t num)
{
	struct vh_user_vring_state s = {idx, num};

	return vt_send_raw(fd, req, flags, &s, sizeof(s), NULL, 0);
}

static int
send_mem_table(int fd, const struct vh_user_mem_region *r, int mfd)
{
	struct vh_user_memory m = {1, 0, {*r}};

	return vt_send_raw(fd, VH_USER_SET_MEM_TABLE, NR, &m, 8 + 32, &mfd, 1);
}

static struct vh_user_mem_region
region(uint64_t gpa, uint64_t size, uint64_t uva, uint64_t off)
{
	struct vh_user_mem_region r = {gpa, size, uva, off};

	return r;
}

/* A connection with features (split, protocol features), protocol features @p pf and memory. */
static int
session(struct cx *c, uint64_t pf, int *out)
{
	struct vh_user_mem_region r = region(0, MB, (uint64_t)(uintptr_t)c->mem.base, 0);
	int fd = cx_connect(c);

	TEST_ASSERT(fd >= 0, "connect");
	TEST_ASSERT_SUCCESS(
		send_u64(fd, VH_USER_SET_FEATURES,
			 (1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << VH_USER_F_PROTOCOL_FEATURES)),
		"SET_FEATURES");
	TEST_RUN(ack(fd, VH_USER_SET_FEATURES));
	TEST_ASSERT_SUCCESS(send_u64(fd, VH_USER_SET_PROTOCOL_FEATURES, pf | PF(REPLY_ACK)),
			    "SET_PROTOCOL_FEATURES");
	TEST_RUN(ack(fd, VH_USER_SET_PROTOCOL_FEATURES));
	TEST_ASSERT_SUCCESS(send_mem_table(fd, &r, c->mem.fd), "SET_MEM_TABLE");
	TEST_RUN(ack(fd, VH_USER_SET_MEM_TABLE));
	*out = fd;
	return TEST_SUCCESS;
}

/* ---- CVE-2020-10723, CVE-2021-3839: ring indexes ---- */

/*
 * DPDK kept a 32-bit ring index in 16 bits, so 0x10001 passed the check as
 * ring 1 and was used as 65537. Every request naming a ring, with an index
 * whose low bits name a real ring, is refused and changes nothing.
 */
static int
test_index_truncation(void)
{
	const uint32_t bad[] = {0x10000, 0x10001, 0x10003, 0x80000001, 0x100};
	struct vh_user_inflight in = {MB, 0, 5, 64, 0};
	struct vt_udev d;
	struct cx c;
	int fd, efd = eventfd(0, EFD_CLOEXEC);
	uint64_t base;

	TEST_ASSERT_SUCCESS(cx_start(&c, "cx-index.sock", 0), "setup");
	base = (uint64_t)(uintptr_t)c.mem.base;
	TEST_RUN(session(&c, PF(INFLIGHT_SHMFD), &fd));
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vh_user_vring_addr a = {bad[i], 0, base, base + 0x4000, base + 0x2000, 0};

		TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_NUM, NR, bad[i], 64), "NUM");
		TEST_RUN(nack(fd, VH_USER_SET_VRING_NUM));
		TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_BASE, NR, bad[i], 5), "BASE");
		TEST_RUN(nack(fd, VH_USER_SET_VRING_BASE));
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_VRING_ADDR, NR, &a, 40, NULL, 0),
				    "ADDR");
		TEST_RUN(nack(fd, VH_USER_SET_VRING_ADDR));
		TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_ENABLE, NR, bad[i], 1),
				    "ENABLE");
		TEST_RUN(nack(fd, VH_USER_SET_VRING_ENABLE));
	}
	/* The rings those indexes alias were not touched: ring 1 starts from 0. */
	{
		struct vh_user_vring_addr a = {1, 0, base, base + 0x4000, base + 0x2000, 0};

		TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_NUM, NR, 1, 256), "NUM");
		TEST_RUN(ack(fd, VH_USER_SET_VRING_NUM));
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_VRING_ADDR, NR, &a, 40, NULL, 0),
				    "ADDR");
		TEST_RUN(ack(fd, VH_USER_SET_VRING_ADDR));
		TEST_ASSERT_SUCCESS(
			vt_send_raw(fd, VH_USER_SET_VRING_KICK, NR, &(uint64_t){1}, 8, &efd, 1),
			"KICK");
		TEST_RUN(ack(fd, VH_USER_SET_VRING_KICK));
	}
	vt_udev_snapshot(&c.srv.dev, &d);
	TEST_ASSERT_EQUAL(d.rings[1].starts, 1, "ring 1 started once");
	TEST_ASSERT_EQUAL(d.rings[1].last.size, 256u, "with its own size, not 64");
	TEST_ASSERT_EQUAL(d.rings[1].last.base.avail_idx, 0, "from 0, not 5");
	TEST_ASSERT(!d.rings[1].last.enabled, "and disabled");
	TEST_ASSERT(d.rings[0].starts == 0 && d.rings[3].starts == 0, "no other ring started");
	/* CVE-2021-3839: SET_INFLIGHT_FD for more queues than the device has. */
	{
		int mfd = c.mem.fd;

		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_INFLIGHT_FD, NR, &in, 24, &mfd, 1),
				    "inflight for 5 queues of 4");
		TEST_RUN(nack(fd, VH_USER_SET_INFLIGHT_FD));
		in.num_queues = 4;
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_INFLIGHT_FD, NR, &in, 24, &mfd, 1),
				    "inflight for 4 queues of 4");
		TEST_RUN(ack(fd, VH_USER_SET_INFLIGHT_FD));
	}
	/* A GET_VRING_BASE for an aliasing index has no truthful reply: closed. */
	TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_GET_VRING_BASE, V, 0x10001, 0), "GET");
	TEST_RUN(closed(fd));
	TEST_RUN(cx_end(&c));
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_ring_index_truncated_to_16_bits_is_refused, fast, test_index_truncation)

/* ---- CVE-2019-14818, CVE-2022-0669: fds on refused requests ---- */

/*
 * Requests that are refused with a REPLY_ACK, each carrying fds, sent again
 * and again on one connection that stays open: the fds are closed at once,
 * not when the connection ends.
 */
static int
test_fds_on_refused_requests(void)
{
	struct vh_user_mem_region beyond = region(0x100000, MB, 0x7f0000000000ULL, MB);
	struct vh_user_mem_region overlap = region(0, 4096, 0x7f0000000000ULL, 0);
	struct vh_user_mem_region unknown = region(0x900000, 4096, 0x7f1000000000ULL, 0);
	struct vh_user_inflight in = {MB, 0, 0, 64, 0};
	struct vh_user_log log = {0, 0};
	struct cx c;
	int fd, efd = eventfd(0, EFD_CLOEXEC), fds_before, maps_before;

	TEST_ASSERT_SUCCESS(cx_start(&c, "cx-fds.sock", 0), "setup");
	TEST_RUN(session(&c, PF(LOG_SHMFD) | PF(INFLIGHT_SHMFD) | PF(CONFIGURE_MEM_SLOTS), &fd));
	TEST_RUN(sync_fd(fd));
	fds_before = vt_count_fds();
	maps_before = vt_count_maps_matching("memfd:");
	for (int i = 0; i < 100; i++) {
		struct vh_user_mem_reg_msg add = {0, overlap}, rem = {0, unknown};
		int mfd = c.mem.fd;

		TEST_ASSERT_SUCCESS(send_mem_table(fd, &beyond, mfd), "a region beyond its file");
		TEST_RUN(nack(fd, VH_USER_SET_MEM_TABLE));
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_INFLIGHT_FD, NR, &in, 24, &mfd, 1),
				    "inflight for 0 queues");
		TEST_RUN(nack(fd, VH_USER_SET_INFLIGHT_FD));
		TEST_ASSERT_SUCCESS(
			vt_send_raw(fd, VH_USER_SET_VRING_CALL, NR, &(uint64_t){9}, 8, &efd, 1),
			"a call fd for ring 9 of 4");
		TEST_RUN(nack(fd, VH_USER_SET_VRING_CALL));
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_ADD_MEM_REG, NR, &add, 40, &mfd, 1),
				    "a region overlapping the table");
		TEST_RUN(nack(fd, VH_USER_ADD_MEM_REG));
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_REM_MEM_REG, NR, &rem, 40, &mfd, 1),
				    "removing a region that is not there, with an fd");
		TEST_RUN(nack(fd, VH_USER_REM_MEM_REG));
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, 99, NR, &(uint64_t){0}, 8, &efd, 1),
				    "an unknown request with an fd");
		TEST_RUN(nack(fd, 99));
	}
	TEST_RUN(sync_fd(fd));
	TEST_ASSERT_EQUAL(vt_count_fds(), fds_before, "600 refused requests later: no more fds");
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), maps_before, "and no more mappings");
	/* A refused log closes the connection (its reply has no failure form): fd freed too. */
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_LOG_BASE, NR, &log, 16, &c.mem.fd, 1),
			    "an empty log");
	TEST_RUN(closed(fd));
	TEST_RUN(cx_end(&c));
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_fds_on_refused_requests_are_closed_at_once, fast,
	      test_fds_on_refused_requests)

/* Sends @p nfds copies of @p fd with a raw header; returns 0 or -errno. */
static int
send_hdr_with_fds(int sock, uint32_t req, uint32_t size, int fd, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(32 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint8_t wire[12 + 24] = {0};
	struct vh_user_hdr h = {req, V, size};
	struct iovec iov = {wire, 12 + (size <= 24 ? size : 0)};
	struct msghdr mh = {0};
	struct cmsghdr *cm;
	int fds[32];

	memcpy(wire, &h, 12);
	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = fd;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/*
 * Messages whose fds break the framing close the connection; the fds go
 * with it on every such path: fds on a request that takes none
 * (GET_INFLIGHT_FD, CVE-2022-0669), more than a request takes, on a header
 * announcing an oversized payload, and more than the control buffer holds.
 */
static int
test_fds_on_framing_errors(void)
{
	const struct {
		uint32_t req, size;
		unsigned int nfds;
		const char *what;
	} cases[] = {
		{VH_USER_GET_INFLIGHT_FD, 24, 1, "GET_INFLIGHT_FD with an fd"},
		{VH_USER_SET_INFLIGHT_FD, 24, 3, "SET_INFLIGHT_FD with three fds"},
		{VH_USER_SET_FEATURES, 8, 8, "SET_FEATURES with eight fds"},
		{VH_USER_SET_VRING_CALL, 8, 2, "SET_VRING_CALL with two fds"},
		{VH_USER_SET_MEM_TABLE, 100000, 8, "a 100000-byte SET_MEM_TABLE with fds"},
		{VH_USER_SET_VRING_KICK, 8, 24, "24 fds: more than the control buffer takes"},
	};
	struct cx c;
	int efd = eventfd(0, EFD_CLOEXEC);

	TEST_ASSERT_SUCCESS(cx_start(&c, "cx-fdframe.sock", 0), "setup");
	for (int round = 0; round < 20; round++) {
		for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			int fd = cx_connect(&c);

			TEST_ASSERT(fd >= 0, "connect");
			TEST_ASSERT_SUCCESS(send_hdr_with_fds(fd, cases[i].req, cases[i].size, efd,
							      cases[i].nfds),
					    "%s", cases[i].what);
			TEST_RUN(closed(fd));
		}
		TEST_ASSERT(vt_server_wait_closed(&c.srv, c.conns, 5000), "all closed");
		TEST_ASSERT_EQUAL(vt_count_fds(), c.base_fds, "round %d: every fd closed", round);
	}
	TEST_RUN(cx_end(&c));
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_fds_on_framing_errors_close_with_the_connection, fast,
	      test_fds_on_framing_errors)

/* ---- CVE-2019-14818 (SET_VRING_NUM), CVE-2020-10726: floods of replacements ---- */

static int
new_memfd(uint64_t size)
{
	int fd = memfd_create("cx-flood", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Every request that replaces a resource, sent 200 times with a new fd or
 * area each time, on a running ring: the old one is released each time.
 */
static int
test_flood_of_replacements(void)
{
	const uint64_t pf =
		PF(LOG_SHMFD) | PF(INFLIGHT_SHMFD) | PF(CONFIGURE_MEM_SLOTS) | PF(BACKEND_REQ);
	struct vh_user_vring_addr a;
	struct vt_udev d;
	struct cx c;
	int fd, fds_after = 0, maps_after = 0;
	uint64_t base;

	TEST_ASSERT_SUCCESS(cx_start(&c, "cx-flood.sock", 0), "setup");
	base = (uint64_t)(uintptr_t)c.mem.base;
	a = (struct vh_user_vring_addr){0, 0, base, base + 0x6000, base + 0x4000, 0};
	TEST_RUN(session(&c, pf, &fd));
	for (int i = 0; i < 200; i++) {
		int efd[3] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC),
			      eventfd(0, EFD_CLOEXEC)};
		int logfd = new_memfd(4096), inffd = new_memfd(MB), regfd = new_memfd(65536), sv[2];
		struct vh_user_log log = {4096, 0};
		struct vh_user_inflight in = {MB, 0, 2, 256, 0};
		struct vh_user_mem_reg_msg reg = {
			0, region(0x100000000ULL, 65536, 0x7f0000000000ULL, 0)};

		TEST_ASSERT(logfd >= 0 && inffd >= 0 && regfd >= 0, "memfds");
		TEST_ASSERT_SUCCESS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "pair");
		TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_NUM, NR, 0, 256), "NUM");
		TEST_RUN(i == 0 ? ack(fd, VH_USER_SET_VRING_NUM)
				: nack(fd, VH_USER_SET_VRING_NUM)); /* running: -EBUSY */
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_VRING_ADDR, NR, &a, 40, NULL, 0),
				    "ADDR");
		TEST_RUN(ack(fd, VH_USER_SET_VRING_ADDR));
		TEST_ASSERT_SUCCESS(
			vt_send_raw(fd, VH_USER_SET_VRING_CALL, NR, &(uint64_t){0}, 8, &efd[0], 1),
			"CALL");
		TEST_RUN(ack(fd, VH_USER_SET_VRING_CALL));
		TEST_ASSERT_SUCCESS(
			vt_send_raw(fd, VH_USER_SET_VRING_ERR, NR, &(uint64_t){0}, 8, &efd[1], 1),
			"ERR");
		TEST_RUN(ack(fd, VH_USER_SET_VRING_ERR));
		TEST_ASSERT_SUCCESS(
			vt_send_raw(fd, VH_USER_SET_VRING_KICK, NR, &(uint64_t){0}, 8, &efd[2], 1),
			"KICK");
		TEST_RUN(ack(fd, VH_USER_SET_VRING_KICK));
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_LOG_BASE, NR, &log, 16, &logfd, 1),
				    "SET_LOG_BASE");
		{
			struct vh_user_msg r;

			/* With LOG_SHMFD the reply is SET_LOG_BASE's own: the log description. */
			TEST_ASSERT_EQUAL(vt_recv_reply(fd, &r, 3000), 1, "log reply");
			TEST_ASSERT(r.hdr.request == VH_USER_SET_LOG_BASE &&
					    r.hdr.size == sizeof(log) &&
					    r.payload.log.mmap_size == 4096,
				    "log mapped");
		}
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_LOG_FD, NR, NULL, 0, &efd[0], 1),
				    "SET_LOG_FD");
		TEST_RUN(ack(fd, VH_USER_SET_LOG_FD));
		TEST_ASSERT_SUCCESS(
			vt_send_raw(fd, VH_USER_SET_INFLIGHT_FD, NR, &in, 24, &inffd, 1),
			"SET_INFLIGHT_FD");
		TEST_RUN(ack(fd, VH_USER_SET_INFLIGHT_FD));
		TEST_ASSERT_SUCCESS(
			vt_send_raw(fd, VH_USER_SET_BACKEND_REQ_FD, NR, NULL, 0, &sv[0], 1),
			"SET_BACKEND_REQ_FD");
		TEST_RUN(ack(fd, VH_USER_SET_BACKEND_REQ_FD));
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_ADD_MEM_REG, NR, &reg, 40, &regfd, 1),
				    "ADD_MEM_REG");
		TEST_RUN(ack(fd, VH_USER_ADD_MEM_REG));
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_REM_MEM_REG, NR, &reg, 40, NULL, 0),
				    "REM_MEM_REG");
		TEST_RUN(ack(fd, VH_USER_REM_MEM_REG));
		for (int k = 0; k < 3; k++)
			close(efd[k]);
		close(logfd);
		close(inffd);
		close(regfd);
		close(sv[0]);
		close(sv[1]);
		if (i == 0) {
			TEST_RUN(sync_fd(fd));
			fds_after = vt_count_fds();
			maps_after = vt_count_maps_matching("memfd:");
		}
	}
	TEST_RUN(sync_fd(fd));
	TEST_ASSERT_EQUAL(vt_count_fds(), fds_after, "200 rounds of replacements: no more fds");
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), maps_after, "and no more mappings");
	vt_udev_snapshot(&c.srv.dev, &d);
	TEST_ASSERT(d.rings[0].started, "the ring runs through it all");
	close(fd);
	return cx_end(&c);
}
REGISTER_TEST(user_hostile_flood_of_replacements_does_not_grow, fast, test_flood_of_replacements)

/* ---- resource limit: guest memory per connection ---- */

/*
 * A front-end may describe memory only up to the connection's budget: a
 * table, or a memory slot added to one, beyond it is refused before
 * anything is mapped, and the connection keeps its table.
 */
static int
test_memory_budget(void)
{
	struct vh_user_mem_region two = region(0, 2 * MB, 0x7f0000000000ULL, 0);
	struct vh_user_mem_region one = region(0, MB, 0x7f0000000000ULL, 0);
	struct vh_user_mem_reg_msg add = {0, region(0x200000, MB, 0x7f1000000000ULL, 0)};
	struct vh_user_mem_reg_msg small = {0, region(0x200000, 4096, 0x7f1000000000ULL, 0)};
	struct vh_user_memory huge = {2,
				      0,
				      {region(0, UINT64_MAX / 2, 0x1000, 0),
				       region(UINT64_MAX / 2, UINT64_MAX / 2, 0x2000, 0)}};
	int big = new_memfd(2 * MB), fds[2];
	struct vt_udev d;
	struct cx c;
	int fd;

	TEST_ASSERT(big >= 0, "memfd");
	TEST_ASSERT_SUCCESS(cx_start(&c, "cx-budget.sock", (3 * MB) / 2), "setup");
	fd = cx_connect(&c);
	TEST_ASSERT_SUCCESS(send_u64(fd, VH_USER_SET_PROTOCOL_FEATURES,
				     PF(REPLY_ACK) | PF(CONFIGURE_MEM_SLOTS)),
			    "pf");
	TEST_RUN(ack(fd, VH_USER_SET_PROTOCOL_FEATURES));
	TEST_ASSERT_SUCCESS(send_mem_table(fd, &two, big), "2 MiB with a 1.5 MiB budget");
	TEST_RUN(nack(fd, VH_USER_SET_MEM_TABLE));
	fds[0] = fds[1] = big;
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_MEM_TABLE, NR, &huge, 8 + 64, fds, 2),
			    "two regions whose sizes add up past 2^64");
	TEST_RUN(nack(fd, VH_USER_SET_MEM_TABLE));
	TEST_ASSERT_SUCCESS(send_mem_table(fd, &one, big), "1 MiB");
	TEST_RUN(ack(fd, VH_USER_SET_MEM_TABLE));
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_ADD_MEM_REG, NR, &add, 40, &big, 1),
			    "another 1 MiB slot");
	TEST_RUN(nack(fd, VH_USER_ADD_MEM_REG));
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_ADD_MEM_REG, NR, &small, 40, &big, 1),
			    "a 4 KiB slot still fits");
	TEST_RUN(ack(fd, VH_USER_ADD_MEM_REG));
	vt_udev_snapshot(&c.srv.dev, &d);
	TEST_ASSERT_EQUAL(d.mem_nregions, 2u, "the table has what fitted");
	close(fd);
	TEST_RUN(cx_end(&c));
	close(big);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_memory_beyond_the_connection_budget_is_refused, fast, test_memory_budget)

/* The default budget (1 TiB) refuses a sparse file of 2 TiB that mmap would take. */
static int
test_default_budget(void)
{
	struct vh_user_mem_region r = region(0, 2ULL << 40, 0x100000000000ULL, 0);
	int big = new_memfd(2ULL << 40);
	struct cx c;
	int fd;

	if (big < 0)
		TEST_SKIP("a 2 TiB sparse memfd cannot be made here");
	TEST_ASSERT_SUCCESS(cx_start(&c, "cx-budget2.sock", 0), "setup");
	fd = cx_connect(&c);
	TEST_ASSERT_SUCCESS(send_u64(fd, VH_USER_SET_PROTOCOL_FEATURES, PF(REPLY_ACK)), "pf");
	TEST_RUN(ack(fd, VH_USER_SET_PROTOCOL_FEATURES));
	TEST_ASSERT_SUCCESS(send_mem_table(fd, &r, big), "2 TiB of guest memory");
	TEST_RUN(nack(fd, VH_USER_SET_MEM_TABLE));
	close(fd);
	TEST_RUN(cx_end(&c));
	close(big);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_default_memory_budget_is_1_tib, fast, test_default_budget)
