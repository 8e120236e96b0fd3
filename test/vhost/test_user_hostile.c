/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hostile front-end against our back-end. Every case gets an error reply
 * or a closed connection; afterwards the back-end still serves a complete
 * session on a new connection, and the process has exactly the fds and
 * shared-memory mappings it had before (nothing leaked, nothing grew).
 */
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vt_hostile.h"

#define PF(f) VH_USER_PF(VH_USER_PROTOCOL_F_##f)
#define NR    (VH_USER_VERSION | VH_USER_NEED_REPLY_MASK)
#define V     VH_USER_VERSION

static int
send_state(int fd, uint32_t req, uint32_t flags, uint32_t idx, uint32_t num)
{
	struct vh_user_vring_state s = {idx, num};

	return vt_send_raw(fd, req, flags, &s, sizeof(s), NULL, 0);
}

/* SET_MEM_TABLE with @n regions (each with the hostile memory's fd). */
static int
send_mem_table(struct vt_hx *h, int fd, const struct vh_user_mem_region *r, uint32_t n)
{
	struct vh_user_memory m = {n, 0, {{0}}};
	int fds[VH_USER_MAX_FDS];

	for (uint32_t i = 0; i < n && i < VH_USER_MEM_TABLE_MAX_REGIONS; i++) {
		m.regions[i] = r[i];
		fds[i] = h->mem.fd;
	}
	return vt_send_raw(fd, VH_USER_SET_MEM_TABLE, NR, &m, 8 + n * 32, fds,
			   n < VH_USER_MAX_FDS ? n : VH_USER_MAX_FDS);
}

static struct vh_user_mem_region
region(uint64_t gpa, uint64_t size, uint64_t uva, uint64_t off)
{
	struct vh_user_mem_region r = {gpa, size, uva, off};

	return r;
}

/* ---- framing ---- */

static int
test_size_beyond_request_max(void)
{
	struct vh_user_hdr h1 = {VH_USER_SET_FEATURES, V, 64};
	struct vh_user_hdr h2 = {999, V, 0xffffffff};
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-size.sock"), "setup");
	fd = vt_hx_connect(&h);
	TEST_ASSERT_EQUAL(write(fd, &h1, 12), 12, "SET_FEATURES claiming 64 bytes");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	fd = vt_hx_connect(&h);
	TEST_ASSERT_EQUAL(write(fd, &h2, 12), 12, "a 4 GiB message");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_size_beyond_what_request_allows, fast, test_size_beyond_request_max)

static int
test_stalled(void)
{
	struct vh_user_hdr hdr = {VH_USER_SET_VRING_ADDR, V, 40};
	uint8_t wire[20] = {0};
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-stall.sock"), "setup");
	fd = vt_hx_connect(&h);
	memcpy(wire, &hdr, 12);
	TEST_ASSERT_EQUAL(write(fd, wire, sizeof(wire)), (ssize_t)sizeof(wire),
			  "a header promising 40 bytes, then 8 of them, then silence");
	/* The back-end's thread is not stuck on it: another session runs to the end. */
	TEST_RUN(vt_hx_check_serving(&h));
	TEST_ASSERT(vt_server_wait_closed(&h.srv, 1, 2000), "the good session ended");
	usleep(20 * 1000);
	TEST_ASSERT_EQUAL(vt_server_closed(&h.srv), 1, "the stalled connection is still open");
	close(fd);
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_stalled_half_message_does_not_block_others, fast, test_stalled)

static int
test_truncated_header(void)
{
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-trunc.sock"), "setup");
	fd = vt_hx_connect(&h);
	TEST_ASSERT_EQUAL(write(fd, "\x01\x00\x00\x00\x01\x00", 6), 6, "half a header");
	close(fd);
	TEST_RUN(vt_hx_check_serving(&h));
	TEST_RUN(vt_hx_end(&h));
	TEST_ASSERT_EQUAL(vt_server_last_rc(&h.srv), -ECONNRESET, "a clean disconnect");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_truncated_header, fast, test_truncated_header)

static int
test_unknown_request(void)
{
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-unknown.sock"), "setup");
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(vt_hx_send_u64(fd, 99, NR, 1), "request 99 asking for a reply");
	TEST_RUN(vt_hx_expect_nack(fd, 99));
	TEST_RUN(vt_hx_expect_alive(fd));
	TEST_ASSERT_SUCCESS(vt_hx_send_u64(fd, 1000, V, 1), "request 1000 without");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_unknown_request_number, fast, test_unknown_request)

static int
test_wrong_fd_count(void)
{
	struct vh_user_mem_region r[2] = {region(0, 65536, 0x10000, 0),
					  region(65536, 65536, 0x20000, 65536)};
	int efd[2] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
	struct vh_user_memory m = {2, 0, {r[0], r[1]}};
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-fds.sock"), "setup");
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(vt_hx_send_u64(fd, VH_USER_SET_VRING_CALL, NR, 0),
			    "CALL: no fd, no flag");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_FEATURES, NR, &m, 8, efd, 2),
			    "SET_FEATURES with two fds");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_MEM_TABLE, NR, &m, 8 + 64, efd, 1),
			    "two regions, one fd");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_VRING_KICK, NR,
					&(uint64_t){VH_USER_VRING_NOFD_MASK}, 8, efd, 1),
			    "no-fd flag with an fd");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	TEST_RUN(vt_hx_check_serving(&h));
	TEST_RUN(vt_hx_end(&h));
	close(efd[0]);
	close(efd[1]);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_wrong_number_of_fds, fast, test_wrong_fd_count)

static int
test_bad_flags(void)
{
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-flags.sock"), "setup");
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_GET_FEATURES, 2, NULL, 0, NULL, 0),
			    "version 2");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(
		vt_send_raw(fd, VH_USER_GET_FEATURES, V | VH_USER_REPLY_MASK, NULL, 0, NULL, 0),
		"a reply sent as a request");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_bad_header_flags, fast, test_bad_flags)

/* ---- memory ---- */

static int
test_too_many_regions(void)
{
	uint8_t buf[8 + 9 * 32] = {0};
	struct vh_user_memory m = {9, 0, {{0}}};
	int fds[8];
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-nine.sock"), "setup");
	for (int i = 0; i < 8; i++)
		fds[i] = h.mem.fd;
	fd = vt_hx_connect(&h);
	memcpy(buf, &m, 8);
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_MEM_TABLE, NR, buf, sizeof(buf), fds, 8),
			    "nine regions in 296 bytes");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_MEM_TABLE, NR, &m, sizeof(m), fds, 8),
			    "nine regions claimed in a table of eight");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_more_than_8_regions, fast, test_too_many_regions)

/* One bad table per connection: error reply, nothing mapped, connection alive. */
static int
bad_table(struct vt_hx *h, const struct vh_user_mem_region *r, uint32_t n, const char *what)
{
	int fd = vt_hx_connect(h);

	TEST_ASSERT_SUCCESS(send_mem_table(h, fd, r, n), "%s", what);
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_MEM_TABLE));
	TEST_RUN(vt_hx_expect_alive(fd));
	close(fd);
	return TEST_SUCCESS;
}

static int
test_regions(void)
{
	const uint64_t mb = 1 << 20;
	struct vh_user_mem_region overlap[2] = {region(0, 65536, 0x100000, 0),
						region(4096, 65536, 0x200000, 0)};
	struct vh_user_mem_region uva_overlap[2] = {region(0, 65536, 0x100000, 0),
						    region(mb, 65536, 0x108000, 0)};
	struct vh_user_mem_region zero = region(0, 0, 0x100000, 0);
	struct vh_user_mem_region wrap_gpa = region(UINT64_MAX - 4095, 8192, 0x100000, 0);
	struct vh_user_mem_region wrap_uva = region(0, 8192, UINT64_MAX - 4095, 0);
	struct vh_user_mem_region beyond = region(0, 4096, 0x100000, mb);
	struct vh_user_mem_region too_long = region(0, 2 * mb, 0x100000, 0);
	struct vt_hx h;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-regions.sock"), "setup");
	TEST_RUN(bad_table(&h, overlap, 2, "overlapping guest addresses"));
	TEST_RUN(bad_table(&h, uva_overlap, 2, "overlapping user addresses"));
	TEST_RUN(bad_table(&h, &zero, 1, "a zero-sized region"));
	TEST_RUN(bad_table(&h, &wrap_gpa, 1, "a region wrapping around 2^64 (gpa)"));
	TEST_RUN(bad_table(&h, &wrap_uva, 1, "a region wrapping around 2^64 (uva)"));
	TEST_RUN(bad_table(&h, &beyond, 1, "an mmap offset beyond the fd"));
	TEST_RUN(bad_table(&h, &too_long, 1, "a region longer than the fd"));
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_overlapping_zero_wrapping_and_out_of_file_regions, fast, test_regions)

static int
test_flood_set_mem_table(void)
{
	struct vt_guest_mem other;
	struct vh_user_mem_region r;
	struct vt_hx h;
	int fd, maps_after_first = 0;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-memflood.sock"), "setup");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&other, 1 << 20, 0), "second memfd");
	h.base_fds++;
	h.base_maps++;
	fd = vt_hx_connect(&h);
	for (int i = 0; i < 400; i++) {
		struct vh_user_memory m = {1, 0, {{0}}};
		int mfd = i % 2 ? other.fd : h.mem.fd;

		r = region(0, 1 << 20, 0x100000 + (uint64_t)(i % 2) * 0x200000, 0);
		m.regions[0] = r;
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_MEM_TABLE, NR, &m, 40, &mfd, 1),
				    "table %d", i);
		TEST_RUN(vt_hx_expect_ack(fd, VH_USER_SET_MEM_TABLE));
		if (i == 1)
			maps_after_first = vt_count_maps_matching("memfd:");
	}
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), maps_after_first,
			  "400 replacements later: still one mapped table");
	close(fd);
	TEST_RUN(vt_hx_check_serving(&h));
	TEST_RUN(vt_hx_end(&h));
	vt_guest_mem_destroy(&other);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_set_mem_table_flood_does_not_grow, fast, test_flood_set_mem_table)

/* ---- rings ---- */

static int
session_with_memory(struct vt_hx *h, int *out)
{
	struct vh_user_mem_region r = region(0, 1 << 20, (uint64_t)(uintptr_t)h->mem.base, 0);
	int fd = vt_hx_connect(h);

	TEST_ASSERT(fd >= 0, "connect");
	TEST_ASSERT_SUCCESS(send_mem_table(h, fd, &r, 1), "memory");
	TEST_RUN(vt_hx_expect_ack(fd, VH_USER_SET_MEM_TABLE));
	*out = fd;
	return TEST_SUCCESS;
}

static int
test_ring_index_beyond_queues(void)
{
	struct vh_user_vring_addr a = {200, 0, 0, 0, 0, 0};
	int efd = eventfd(0, EFD_CLOEXEC);
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-index.sock"), "setup");
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_NUM, NR, 4, 256), "ring 4 of 4");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_VRING_NUM));
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_VRING_ADDR, NR, &a, 40, NULL, 0),
			    "ring 200");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_VRING_ADDR));
	TEST_ASSERT_SUCCESS(
		vt_send_raw(fd, VH_USER_SET_VRING_KICK, NR, &(uint64_t){255}, 8, &efd, 1),
		"kick ring 255 with an fd");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_VRING_KICK));
	TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_BASE, NR, 0xffffffff, 0),
			    "ring 2^32-1");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_VRING_BASE));
	TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_ENABLE, NR, 7, 1), "enable ring 7");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_VRING_ENABLE));
	TEST_RUN(vt_hx_expect_alive(fd));
	TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_GET_VRING_BASE, V, 9, 0),
			    "GET_VRING_BASE of ring 9: no reply can answer it");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	TEST_RUN(vt_hx_check_serving(&h));
	TEST_RUN(vt_hx_end(&h));
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_ring_index_beyond_queue_count, fast, test_ring_index_beyond_queues)

static int
test_bad_ring_sizes(void)
{
	const uint32_t sizes[] = {0, 3, 1000, 32769, 65536, 0xffffffff};
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-ringsize.sock"), "setup");
	fd = vt_hx_connect(&h);
	/* Split rings: sizes must also be powers of two. */
	TEST_ASSERT_SUCCESS(vt_hx_send_u64(fd, VH_USER_SET_FEATURES, NR,
					   (1ULL << VH_VIRTIO_F_VERSION_1) |
						   (1ULL << VH_USER_F_PROTOCOL_FEATURES)),
			    "features");
	TEST_RUN(vt_hx_expect_ack(fd, VH_USER_SET_FEATURES));
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_NUM, NR, 0, sizes[i]), "size");
		TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_VRING_NUM));
	}
	TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_NUM, NR, 0, 32768), "32768 is fine");
	TEST_RUN(vt_hx_expect_ack(fd, VH_USER_SET_VRING_NUM));
	close(fd);
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_ring_size_zero_not_power_of_two_or_too_big, fast, test_bad_ring_sizes)

static int
test_ring_outside_memory(void)
{
	uint64_t base;
	struct vh_user_vring_addr a;
	struct vt_hx h;
	int fd, efd = eventfd(0, EFD_CLOEXEC);

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-ringaddr.sock"), "setup");
	base = (uint64_t)(uintptr_t)h.mem.base;
	TEST_RUN(session_with_memory(&h, &fd));
	TEST_ASSERT_SUCCESS(send_state(fd, VH_USER_SET_VRING_NUM, NR, 0, 1024), "NUM");
	TEST_RUN(vt_hx_expect_ack(fd, VH_USER_SET_VRING_NUM));
	a = (struct vh_user_vring_addr){0, 0, base + (1 << 20), base + 0x6000, base + 0x4000, 0};
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_VRING_ADDR, NR, &a, 40, NULL, 0),
			    "descriptors past the end of memory");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_VRING_ADDR));
	a = (struct vh_user_vring_addr){0, 0, base, base + (1 << 20) - 4096, base + 0x4000, 0};
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_VRING_ADDR, NR, &a, 40, NULL, 0),
			    "a used ring starting inside and ending outside");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_VRING_ADDR));
	a = (struct vh_user_vring_addr){0, 0, 16, 0x6000, 0x4000, 0};
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_VRING_ADDR, NR, &a, 40, NULL, 0),
			    "guest-physical instead of user addresses");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_VRING_ADDR));
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_VRING_KICK, NR, &(uint64_t){0}, 8, &efd, 1),
			    "kick without valid addresses");
	TEST_RUN(vt_hx_expect_ack(fd, VH_USER_SET_VRING_KICK));
	TEST_ASSERT_EQUAL(vt_server_closed(&h.srv), 0, "connection alive");
	{
		struct vt_udev d;

		vt_udev_snapshot(&h.srv.dev, &d);
		TEST_ASSERT_EQUAL(d.rings[0].starts, 0, "the ring never started");
	}
	close(fd);
	TEST_RUN(vt_hx_check_serving(&h));
	TEST_RUN(vt_hx_end(&h));
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_ring_addresses_outside_mapped_memory, fast, test_ring_outside_memory)

/* ---- log and inflight ---- */

static int
test_log_base_overflow(void)
{
	const struct vh_user_log bad[] = {
		{0, 0},			  /* empty */
		{1ULL << 62, 0},	  /* larger than any log */
		{4096, UINT64_MAX - 100}, /* offset + size wraps */
		{4096, 1 << 20},	  /* beyond the fd */
		{(1 << 20) + 1, 0},	  /* one byte too long */
	};
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-log.sock"), "setup");
	/*
	 * With LOG_SHMFD, SET_LOG_BASE has a reply of its own with no failure
	 * form (need_reply changes nothing): a bad log closes the connection.
	 */
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = vt_hx_connect(&h);
		TEST_ASSERT_SUCCESS(
			vt_hx_send_u64(fd, VH_USER_SET_PROTOCOL_FEATURES, V, PF(LOG_SHMFD)),
			"LOG_SHMFD");
		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_LOG_BASE, i % 2 ? V : NR, &bad[i],
						16, &h.mem.fd, 1),
				    "bad log %u", i);
		TEST_RUN(vt_hx_expect_closed(fd, NULL));
	}
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_log_base_size_and_offset_overflow, fast, test_log_base_overflow)

static int
test_inflight_huge(void)
{
	const struct vh_user_inflight bad[] = {
		{0, 0, 1000, 256, 0}, /* more queues than the device has */
		{0, 0, 0, 256, 0},
		{0, 0, 2, 0, 0},
		{0, 0, 2, 65535, 0}, /* larger than any ring */
	};
	struct vh_user_inflight huge = {1ULL << 40, 0, 4, 32768, 0};
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-inflight.sock"), "setup");
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = vt_hx_connect(&h);
		TEST_ASSERT_SUCCESS(
			vt_hx_send_u64(fd, VH_USER_SET_PROTOCOL_FEATURES, V, PF(INFLIGHT_SHMFD)),
			"pf");
		TEST_ASSERT_SUCCESS(
			vt_send_raw(fd, VH_USER_GET_INFLIGHT_FD, V, &bad[i], 24, NULL, 0),
			"GET_INFLIGHT_FD %u", i);
		TEST_RUN(vt_hx_expect_closed(
			fd, NULL)); /* a failed GET has no reply that could say so */
	}
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(
		vt_hx_send_u64(fd, VH_USER_SET_PROTOCOL_FEATURES, V, PF(INFLIGHT_SHMFD)), "pf");
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_INFLIGHT_FD, NR, &huge, 24, &h.mem.fd, 1),
			    "a 1 TiB inflight area");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_INFLIGHT_FD));
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_INFLIGHT_FD, NR, &bad[0], 24, &h.mem.fd, 1),
			    "1000 queues");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_INFLIGHT_FD));
	TEST_RUN(vt_hx_expect_alive(fd));
	close(fd);
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_inflight_with_huge_queue_count_or_size, fast, test_inflight_huge)

static int
test_flood_get_inflight(void)
{
	struct vh_user_inflight in = {0, 0, 4, 1024, 0};
	struct vt_hx h;
	int fd, fds_after = 0, maps_after = 0;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-inflood.sock"), "setup");
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(
		vt_hx_send_u64(fd, VH_USER_SET_PROTOCOL_FEATURES, V, PF(INFLIGHT_SHMFD)), "pf");
	for (int i = 0; i < 500; i++) {
		struct vh_user_msg r;

		TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_GET_INFLIGHT_FD, V, &in, 24, NULL, 0),
				    "GET_INFLIGHT_FD %d", i);
		TEST_ASSERT_EQUAL(vt_recv_reply(fd, &r, 3000), 1, "reply %d", i);
		TEST_ASSERT_EQUAL(r.nfds, 1, "with its fd");
		vh_user_msg_close_fds(&r);
		if (i == 1) {
			/* A round trip: the back-end has closed its copy of the fd. */
			TEST_RUN(vt_hx_expect_alive(fd));
			fds_after = vt_count_fds();
			maps_after = vt_count_maps_matching("memfd:");
		}
	}
	TEST_RUN(vt_hx_expect_alive(fd));
	TEST_ASSERT_EQUAL(vt_count_fds(), fds_after, "500 areas later: no more fds");
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), maps_after, "and one mapped area");
	close(fd);
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_get_inflight_fd_flood_does_not_grow, fast, test_flood_get_inflight)

/* ---- connection ---- */

static int
test_disconnect_mid_message(void)
{
	struct vh_user_hdr hdr = {VH_USER_SET_MEM_TABLE, V, 8 + 2 * 32};
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr a;
	} ctl;
	uint8_t wire[12 + 20] = {0};
	struct iovec iov = {wire, sizeof(wire)};
	struct msghdr mh = {0};
	struct cmsghdr *c;
	struct vt_hx h;
	int fd, fds[2];

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-midmsg.sock"), "setup");
	fds[0] = fds[1] = h.mem.fd;
	memcpy(wire, &hdr, 12);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	fd = vt_hx_connect(&h);
	TEST_ASSERT_EQUAL(sendmsg(fd, &mh, 0), (ssize_t)sizeof(wire),
			  "SET_MEM_TABLE header, two fds, 20 of 72 bytes");
	usleep(50 * 1000); /* let the back-end take the fds with the partial message */
	close(fd);
	TEST_RUN(vt_hx_check_serving(&h));
	TEST_RUN(vt_hx_end(&h)); /* the partial message's two fds were closed */
	return TEST_SUCCESS;
}
REGISTER_TEST(user_hostile_disconnect_in_the_middle_of_a_message, fast, test_disconnect_mid_message)

struct flooder {
	int fd;
	int sent;
};

static void *
flood(void *arg)
{
	struct flooder *f = arg;
	uint8_t msg[20];
	struct vh_user_hdr hdr = {VH_USER_SET_VRING_ENABLE, V, 8};
	struct vh_user_vring_state s = {0, 0};

	memcpy(msg, &hdr, 12);
	memcpy(msg + 12, &s, 8);
	/* 20000 messages without reply as fast as the socket takes them. */
	for (f->sent = 0; f->sent < 20000; f->sent++) {
		struct pollfd p = {f->fd, POLLOUT, 0};

		if (poll(&p, 1, 5000) <= 0 ||
		    send(f->fd, msg, sizeof(msg), MSG_NOSIGNAL) != sizeof(msg))
			break;
	}
	return NULL;
}

static int
test_no_starve(void)
{
	struct flooder f;
	pthread_t t;
	struct vt_hx h;
	uint64_t t0, took;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-flood.sock"), "setup");
	f.fd = vt_hx_connect(&h);
	pthread_create(&t, NULL, flood, &f);
	usleep(20 * 1000);
	t0 = vt_now_ms();
	TEST_RUN(vt_hx_check_serving(&h));
	took = vt_now_ms() - t0;
	pthread_join(t, NULL);
	TEST_ASSERT_EQUAL(f.sent, 20000, "the back-end kept reading the flood");
	TEST_ASSERT(took < 5000, "a session beside the flood took %" PRIu64 " ms", took);
	printf("a full session beside a 20000-message flood took %" PRIu64 " ms\n", took);
	TEST_RUN(vt_hx_expect_alive(f.fd));
	close(f.fd);
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_message_flood_does_not_starve_other_connections, fast, test_no_starve)

static int
test_peer_not_reading_replies(void)
{
	uint8_t msg[12];
	struct vh_user_hdr hdr = {VH_USER_GET_FEATURES, V, 0};
	struct vt_hx h;
	int fd, sent = 0, rcvbuf = 4096;
	uint64_t t0;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-noread.sock"), "setup");
	fd = vt_hx_connect(&h);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memcpy(msg, &hdr, 12);
	t0 = vt_now_ms();
	/* Requests whose replies we never read, until the back-end gives up on us. */
	while (vt_server_closed(&h.srv) == 0 && vt_now_ms() - t0 < 20000) {
		struct pollfd p = {fd, POLLOUT, 0};

		if (poll(&p, 1, 100) > 0 && send(fd, msg, sizeof(msg), MSG_NOSIGNAL) == sizeof(msg))
			sent++;
	}
	TEST_ASSERT_EQUAL(vt_server_closed(&h.srv), 1,
			  "the back-end closed a peer that does not read its replies (%d sent)",
			  sent);
	TEST_ASSERT_EQUAL(vt_server_last_rc(&h.srv), -ETIMEDOUT, "after its send timeout");
	close(fd);
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_peer_not_reading_replies_is_dropped, fast, test_peer_not_reading_replies)

static int
test_bad_pf(void)
{
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-inband.sock"), "setup");
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(vt_hx_send_u64(fd, VH_USER_SET_PROTOCOL_FEATURES, NR,
					   PF(INBAND_NOTIFICATIONS) | PF(BACKEND_REQ)),
			    "in-band notifications without REPLY_ACK");
	TEST_RUN(vt_hx_expect_closed(fd, NULL)); /* vhost-user "In-band notifications": close */
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(vt_hx_send_u64(fd, VH_USER_SET_PROTOCOL_FEATURES, NR, 1ULL << 40),
			    "an unknown protocol feature");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_PROTOCOL_FEATURES));
	close(fd);
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_protocol_features_not_offered_or_incomplete, fast, test_bad_pf)

static int
test_unnegotiated_requests(void)
{
	struct vh_user_mem_reg_msg reg = {0, region(0, 4096, 0x100000, 0)};
	struct vh_user_inflight in = {0, 0, 1, 256, 0};
	struct vt_hx h;
	int fd;

	TEST_ASSERT_SUCCESS(vt_hx_start(&h, "h-gate.sock"), "setup");
	fd = vt_hx_connect(&h);
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_ADD_MEM_REG, NR, &reg, 40, &h.mem.fd, 1),
			    "ADD_MEM_REG without CONFIGURE_MEM_SLOTS");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_ADD_MEM_REG));
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_SET_INFLIGHT_FD, NR, &in, 24, &h.mem.fd, 1),
			    "SET_INFLIGHT_FD without INFLIGHT_SHMFD");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_INFLIGHT_FD));
	TEST_ASSERT_SUCCESS(vt_hx_send_u64(fd, VH_USER_SET_STATUS, NR, 0xf),
			    "SET_STATUS without STATUS");
	TEST_RUN(vt_hx_expect_nack(fd, VH_USER_SET_STATUS));
	TEST_ASSERT_SUCCESS(vt_send_raw(fd, VH_USER_GET_STATUS, V, NULL, 0, NULL, 0),
			    "GET_STATUS without STATUS: a reply it cannot give");
	TEST_RUN(vt_hx_expect_closed(fd, NULL));
	TEST_RUN(vt_hx_check_serving(&h));
	return vt_hx_end(&h);
}
REGISTER_TEST(user_hostile_requests_of_unnegotiated_features, fast, test_unnegotiated_requests)
