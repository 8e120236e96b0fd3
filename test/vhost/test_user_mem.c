/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The back-end's memory table, dirty log and inflight area: regions mapped
 * from fds with every bound checked, translations that never cross a
 * region, atomic bounded log marking, bounded inflight areas.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test.h"
#include "vhost_dirty_log.h"
#include "vhost_inflight.h"
#include "vhost_mem.h"
#include "vt_user.h"

#define DESC(gpa, size, uva, off) (&(struct vh_user_mem_region){(gpa), (size), (uva), (off)})

static int
test_translates_within_one_region(void)
{
	struct vt_guest_mem a, b;
	struct vh_mem_mapping maps[2];
	struct vh_mem_table *t;
	uint64_t gpa;
	uint8_t *p;

	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&a, 1 << 20, 0), "memfd a");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&b, 1 << 20, 1 << 20), "memfd b");
	a.base[100] = 0xa1;
	b.base[0] = 0xb0;
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(0, 1 << 20, 0x7000000000, 0), a.fd, &maps[0]),
			    "map a");
	TEST_ASSERT_SUCCESS(
		vh_mem_map_region(DESC(1 << 20, 1 << 20, 0x5000000000, 0), b.fd, &maps[1]),
		"map b");
	t = vh_mem_table_build(maps, 2);
	TEST_ASSERT_NOT_NULL(t, "table");
	TEST_ASSERT_EQUAL(t->nregions, 2, "two regions");
	p = vh_mem_table_gpa_to_host(t, 100, 1);
	TEST_ASSERT(p != NULL && *p == 0xa1, "gpa 100 reads region a through our mapping");
	p = vh_mem_table_gpa_to_host(t, 1 << 20, 4);
	TEST_ASSERT(p != NULL && *p == 0xb0, "gpa 1 MiB is region b");
	p = vh_mem_table_uva_to_host(t, 0x7000000000 + 100, 8);
	TEST_ASSERT(p != NULL && *p == 0xa1, "uva of a");
	TEST_ASSERT(vh_mem_table_gpa_to_host(t, (1 << 20) - 4, 8) == NULL,
		    "an access straddling two regions is refused even though both exist");
	TEST_ASSERT(vh_mem_table_gpa_to_host(t, (1 << 20) - 4, 4) != NULL, "the last 4 bytes of a");
	TEST_ASSERT(vh_mem_table_gpa_to_host(t, 2 << 20, 1) == NULL, "beyond b");
	TEST_ASSERT(vh_mem_table_gpa_to_host(t, 0, 0) == NULL, "zero length");
	TEST_ASSERT(vh_mem_table_gpa_to_host(t, UINT64_MAX - 2, 8) == NULL, "wrapping range");
	TEST_ASSERT(vh_mem_table_uva_to_host(t, 0x5000000000 + (1 << 20), 1) == NULL,
		    "past b's uva");
	TEST_ASSERT_SUCCESS(vh_mem_table_uva_to_gpa(t, 0x5000000000 + 16, 16, &gpa), "uva to gpa");
	TEST_ASSERT_EQUAL(gpa, (1 << 20) + 16, "gpa of a uva");
	TEST_ASSERT_EQUAL(vh_mem_table_uva_to_gpa(t, 1, 1, &gpa), -EFAULT, "unknown uva");
	TEST_ASSERT(t->regions[0].guest_phys_addr == 0, "regions are sorted by gpa");
	vh_mem_table_free(t, NULL, true);
	vt_guest_mem_destroy(&a);
	vt_guest_mem_destroy(&b);
	return TEST_SUCCESS;
}
REGISTER_TEST(mem_table_translates_within_one_region, fast, test_translates_within_one_region)

static int
test_rejects_bad_regions(void)
{
	struct vt_guest_mem a;
	struct vh_mem_mapping m;
	int pfd[2];

	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&a, 64 << 10, 0), "memfd");
	TEST_ASSERT_EQUAL(vh_mem_map_region(DESC(0, 0, 0, 0), a.fd, &m), -EINVAL, "zero size");
	TEST_ASSERT_EQUAL(vh_mem_map_region(DESC(UINT64_MAX - 100, 4096, 0, 0), a.fd, &m), -EINVAL,
			  "gpa wraps");
	TEST_ASSERT_EQUAL(vh_mem_map_region(DESC(0, 4096, UINT64_MAX - 100, 0), a.fd, &m), -EINVAL,
			  "uva wraps");
	TEST_ASSERT_EQUAL(vh_mem_map_region(DESC(0, 4096, 0, UINT64_MAX - 100), a.fd, &m), -EINVAL,
			  "offset wraps");
	TEST_ASSERT_EQUAL(vh_mem_map_region(DESC(0, 4096, 0, 64 << 10), a.fd, &m), -ERANGE,
			  "mmap offset beyond the fd");
	TEST_ASSERT_EQUAL(vh_mem_map_region(DESC(0, 128 << 10, 0, 0), a.fd, &m), -ERANGE,
			  "size beyond the fd");
	TEST_ASSERT_SUCCESS(pipe(pfd), "pipe");
	TEST_ASSERT_EQUAL(vh_mem_map_region(DESC(0, 4096, 0, 0), pfd[0], &m), -EBADF,
			  "a pipe is not memory");
	TEST_ASSERT_EQUAL(vh_mem_map_region(DESC(0, 4096, 0, 0), -1, &m), -EBADF, "no fd");
	close(pfd[0]);
	close(pfd[1]);
	vt_guest_mem_destroy(&a);
	return TEST_SUCCESS;
}
REGISTER_TEST(mem_map_rejects_bad_regions, fast, test_rejects_bad_regions)

static int
test_rejects_overlaps(void)
{
	struct vt_guest_mem a;
	struct vh_mem_mapping m[2];
	int base_maps;

	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&a, 1 << 20, 0), "memfd");
	base_maps = vt_count_maps_matching("memfd:");
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(0, 8192, 0x10000, 0), a.fd, &m[0]), "map");
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(4096, 8192, 0x80000, 0), a.fd, &m[1]), "map");
	errno = 0;
	TEST_ASSERT(vh_mem_table_build(m, 2) == NULL && errno == EEXIST, "gpa overlap");
	vh_mem_unmap_region(&m[1]);
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(65536, 8192, 0x11000, 0), a.fd, &m[1]), "map");
	errno = 0;
	TEST_ASSERT(vh_mem_table_build(m, 2) == NULL && errno == EEXIST, "uva overlap");
	vh_mem_unmap_region(&m[0]);
	vh_mem_unmap_region(&m[1]);
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), base_maps, "unmapped");
	vt_guest_mem_destroy(&a);
	return TEST_SUCCESS;
}
REGISTER_TEST(mem_table_rejects_overlapping_regions, fast, test_rejects_overlaps)

/*
 * Issue 14 item 5: a region ending exactly at 2^64 is valid, but its end
 * (start + size) wraps to 0; an overlap with it must still be seen, in
 * guest-physical and in user addresses.
 */
static int
test_overlap_at_the_top(void)
{
	const uint64_t top = 0ULL - 8192; /* the last 8 KiB of the address space */
	struct vt_guest_mem a;
	struct vh_mem_mapping m[2];

	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&a, 1 << 20, 0), "memfd");
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(top, 8192, 0x10000, 0), a.fd, &m[0]),
			    "a region ending at 2^64");
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(top + 4096, 4096, 0x80000, 0), a.fd, &m[1]),
			    "one inside it");
	errno = 0;
	TEST_ASSERT(vh_mem_table_build(m, 2) == NULL && errno == EEXIST, "gpa overlap at the top");
	vh_mem_unmap_region(&m[0]);
	vh_mem_unmap_region(&m[1]);
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(0, 8192, top, 0), a.fd, &m[0]),
			    "uva at the top");
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(65536, 4096, top + 4096, 0), a.fd, &m[1]),
			    "one inside it");
	errno = 0;
	TEST_ASSERT(vh_mem_table_build(m, 2) == NULL && errno == EEXIST, "uva overlap at the top");
	vh_mem_unmap_region(&m[1]);
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(65536, 4096, top - 4096, 0), a.fd, &m[1]),
			    "one just below it");
	{
		struct vh_mem_table *t = vh_mem_table_build(m, 2);

		TEST_ASSERT_NOT_NULL(t, "adjacent regions do not overlap");
		free(t);
	}
	vh_mem_unmap_region(&m[0]);
	vh_mem_unmap_region(&m[1]);
	vt_guest_mem_destroy(&a);
	return TEST_SUCCESS;
}
REGISTER_TEST(mem_table_sees_overlaps_at_the_top_of_the_address_space, fast,
	      test_overlap_at_the_top)

static int
test_honours_offsets(void)
{
	struct vt_guest_mem a;
	struct vh_mem_mapping m;
	struct vh_mem_table *t;
	uint8_t *p;

	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&a, 1 << 20, 0), "memfd");
	/* An offset that is not page aligned: the mapping is aligned, the pointer not. */
	a.base[3 * 4096 + 100] = 0x5a;
	a.base[3 * 4096 + 100 + 8191] = 0xa5;
	TEST_ASSERT_SUCCESS(
		vh_mem_map_region(DESC(0x40000000, 8192, 0x1000, 3 * 4096 + 100), a.fd, &m),
		"map at offset");
	t = vh_mem_table_build(&m, 1);
	TEST_ASSERT_NOT_NULL(t, "table");
	p = vh_mem_table_gpa_to_host(t, 0x40000000, 8192);
	TEST_ASSERT(p != NULL && p[0] == 0x5a && p[8191] == 0xa5, "offset honoured, both ends");
	p[1] = 0x77;
	TEST_ASSERT_EQUAL(a.base[3 * 4096 + 101], 0x77, "the mapping is shared");
	TEST_ASSERT(vh_mem_table_gpa_to_host(t, 0x40000000 + 8192, 1) == NULL, "size honoured");
	vh_mem_table_free(t, NULL, true);
	vt_guest_mem_destroy(&a);
	return TEST_SUCCESS;
}
REGISTER_TEST(mem_map_honours_unaligned_offsets, fast, test_honours_offsets)

static int
test_same_and_keep(void)
{
	struct vt_guest_mem a;
	struct vh_mem_mapping m[3];
	struct vh_mem_table *t1, *t2;
	int base_maps;

	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&a, 1 << 20, 0), "memfd");
	base_maps = vt_count_maps_matching("memfd:");
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(0, 65536, 0x100000, 0), a.fd, &m[0]), "map");
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(65536, 65536, 0x200000, 65536), a.fd, &m[1]),
			    "map");
	t1 = vh_mem_table_build(m, 2);
	TEST_ASSERT_NOT_NULL(t1, "t1");
	TEST_ASSERT_SUCCESS(vh_mem_map_region(DESC(0, 65536, 0x100000, 0), a.fd, &m[2]), "remap");
	t2 = vh_mem_table_build(&m[1], 2);
	TEST_ASSERT_NOT_NULL(t2, "t2");
	TEST_ASSERT(vh_mem_table_same(t1, t2), "same regions of the same file");
	/* Free t1 keeping what t2 uses: only m[0]'s mapping goes. */
	vh_mem_table_free(t1, t2, true);
	TEST_ASSERT(vh_mem_table_gpa_to_host(t2, 65536, 1) != NULL, "kept mapping still there");
	TEST_ASSERT_EQUAL(*(volatile uint8_t *)vh_mem_table_gpa_to_host(t2, 65536, 1), 0,
			  "and readable");
	vh_mem_table_free(t2, NULL, true);
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), base_maps,
			  "every mapping released exactly once");
	vt_guest_mem_destroy(&a);
	return TEST_SUCCESS;
}
REGISTER_TEST(mem_table_free_keeps_shared_mappings, fast, test_same_and_keep)

struct mark_arg {
	struct vh_dirty_log *log;
	uint64_t first;
};

static void *
mark_every_other_page(void *p)
{
	struct mark_arg *a = p;

	for (int round = 0; round < 200; round++)
		for (uint64_t pg = a->first; pg < 1024; pg += 2)
			vh_dirty_log_write(a->log, pg * VH_LOG_PAGE + 5, 1);
	return NULL;
}

static int
test_dirty_log_marks_atomically(void)
{
	struct vt_guest_mem lf;
	struct vh_dirty_log log;
	struct mark_arg a0, a1;
	pthread_t t0, t1;

	/* 128 bytes of log at offset 4096 + 8: 1024 pages. */
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&lf, 3 * 4096, 0), "log memfd");
	TEST_ASSERT_SUCCESS(vh_dirty_log_map(&log, lf.fd, 128, 4096 + 8), "map log");
	vh_dirty_log_write(&log, 0, 1);
	TEST_ASSERT_EQUAL(lf.base[4096 + 8], 0x01,
			  "page 0 is bit 0 of byte 0 (shared with the fd)");
	vh_dirty_log_write(&log, 9 * VH_LOG_PAGE - 1, 2);
	TEST_ASSERT_EQUAL(lf.base[4096 + 8 + 1], 0x03, "a write across pages 8 and 9 marks both");
	vh_dirty_log_write(&log, 1024 * VH_LOG_PAGE, 4096);
	vh_dirty_log_write(&log, UINT64_MAX - 10, 100);
	TEST_ASSERT_EQUAL(lf.base[4096 + 8 + 128], 0, "nothing written beyond the log");
	TEST_ASSERT(!vh_dirty_log_is_dirty(&log, 1024 * VH_LOG_PAGE),
		    "beyond the log is never dirty");
	vh_dirty_log_write(&log, 1020 * VH_LOG_PAGE, 100 * VH_LOG_PAGE);
	TEST_ASSERT(vh_dirty_log_is_dirty(&log, 1023 * VH_LOG_PAGE), "clamped to the last page");
	TEST_ASSERT_EQUAL(lf.base[4096 + 8 + 128], 0, "still nothing beyond");
	vh_dirty_log_write(NULL, 0, 1);
	memset(lf.base + 4096 + 8, 0, 128);
	/* Two threads marking interleaved bits of the same bytes lose none. */
	a0.log = a1.log = &log;
	a0.first = 0;
	a1.first = 1;
	pthread_create(&t0, NULL, mark_every_other_page, &a0);
	pthread_create(&t1, NULL, mark_every_other_page, &a1);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	for (int i = 0; i < 128; i++)
		TEST_ASSERT_EQUAL(lf.base[4096 + 8 + i], 0xff, "byte %d fully marked", i);
	vh_dirty_log_unmap(&log);
	vh_dirty_log_write(&log, 0, 1); /* unmapped: a no-op */
	vt_guest_mem_destroy(&lf);
	return TEST_SUCCESS;
}
REGISTER_TEST(dirty_log_marks_pages_atomically_within_bounds, fast, test_dirty_log_marks_atomically)

static int
test_dirty_log_rejects_bad_areas(void)
{
	struct vt_guest_mem lf;
	struct vh_dirty_log log;

	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&lf, 4096, 0), "log memfd");
	TEST_ASSERT_EQUAL(vh_dirty_log_map(&log, lf.fd, 0, 0), -EINVAL, "empty log");
	TEST_ASSERT_EQUAL(vh_dirty_log_map(&log, lf.fd, VH_DIRTY_LOG_MAX_SIZE + 1, 0), -EINVAL,
			  "too big");
	TEST_ASSERT_EQUAL(vh_dirty_log_map(&log, lf.fd, 4096, UINT64_MAX - 100), -EINVAL,
			  "offset + size overflows");
	TEST_ASSERT_EQUAL(vh_dirty_log_map(&log, lf.fd, 4096, 4096), -ERANGE, "beyond the file");
	TEST_ASSERT_EQUAL(vh_dirty_log_map(&log, -1, 4096, 0), -EBADF, "no fd");
	TEST_ASSERT(log.bitmap == NULL, "nothing mapped");
	vt_guest_mem_destroy(&lf);
	return TEST_SUCCESS;
}
REGISTER_TEST(dirty_log_rejects_bad_areas, fast, test_dirty_log_rejects_bad_areas)

static int
test_inflight_areas(void)
{
	struct vh_inflight inf, back;
	struct vh_inflight_split *q1;
	int fd, fd2, base_fds = vt_count_fds(), base_maps = vt_count_maps_matching("memfd:");

	TEST_ASSERT_EQUAL(vh_inflight_queue_region_size(256, false), 4160,
			  "split: 16 + 16 * 256, 64-aligned");
	TEST_ASSERT_EQUAL(vh_inflight_queue_region_size(3, false), 64, "rounded to 64");
	TEST_ASSERT_EQUAL(vh_inflight_queue_region_size(256, true), 8256,
			  "packed: 32 + 32 * 256, 64-aligned");
	TEST_ASSERT_SUCCESS(vh_inflight_create(&inf, 2, 256, false, &fd), "create");
	TEST_ASSERT_EQUAL(inf.size, 2 * 4160, "size");
	q1 = vh_inflight_queue(&inf, 1);
	TEST_ASSERT(q1 != NULL && q1->version == 0, "zeroed: uninitialized");
	q1->version = 1;
	q1->desc[255].counter = 42;
	TEST_ASSERT(vh_inflight_queue(&inf, 2) == NULL, "no third queue");
	/* The area survives in the fd: map it again as SET_INFLIGHT_FD would. */
	TEST_ASSERT_SUCCESS(vh_inflight_map(&back, fd, inf.size, 0, 2, 256, false), "map back");
	q1 = vh_inflight_queue(&back, 1);
	TEST_ASSERT(q1->version == 1 && q1->desc[255].counter == 42, "same content");
	vh_inflight_unmap(&back);
	TEST_ASSERT_EQUAL(vh_inflight_map(&back, fd, inf.size - 1, 0, 2, 256, false), -EINVAL,
			  "too small for its queues");
	TEST_ASSERT_EQUAL(vh_inflight_map(&back, fd, inf.size, 4096, 2, 256, false), -ERANGE,
			  "beyond the file");
	TEST_ASSERT_EQUAL(vh_inflight_map(&back, fd, inf.size, 0, 0, 256, false), -EINVAL,
			  "zero queues");
	TEST_ASSERT_EQUAL(vh_inflight_create(&back, 65535, 32768, true, &fd2), -EINVAL,
			  "an area of 64 GiB is refused");
	TEST_ASSERT_EQUAL(vh_inflight_create(&back, 1, 0, true, &fd2), -EINVAL, "zero size");
	TEST_ASSERT_EQUAL(fd2, -1, "no fd on failure");
	vh_inflight_unmap(&inf);
	close(fd);
	TEST_ASSERT_EQUAL(vt_count_fds(), base_fds, "fds");
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), base_maps, "maps");
	return TEST_SUCCESS;
}
REGISTER_TEST(inflight_areas_are_bounded_and_shared, fast, test_inflight_areas)
