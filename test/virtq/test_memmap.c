/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq: ring layouts and guest address translation.
 */
#include <errno.h>
#include <inttypes.h>

#include "test.h"
#include "virtq_memmap.h"
#include "virtq_ring.h"
#include "vq_guard.h"

static int
test_split_layout(void)
{
	struct vq_ring_layout l;

	TEST_ASSERT_EQUAL(vq_split_desc_size(256), 4096, "16 bytes per descriptor");
	TEST_ASSERT_EQUAL(vq_split_avail_size(256), 6 + 2 * 256, "flags, idx, ring, used_event");
	TEST_ASSERT_EQUAL(vq_split_used_size(256), 6 + 8 * 256, "flags, idx, ring, avail_event");
	TEST_ASSERT_SUCCESS(vq_split_layout(256, 4, &l), "minimal alignment");
	TEST_ASSERT_EQUAL(l.desc_off, 0, "descriptors first");
	TEST_ASSERT_EQUAL(l.driver_off, 4096, "avail right after the table");
	TEST_ASSERT_EQUAL(l.device_off, 4096 + 520, "used at the next multiple of 4");
	TEST_ASSERT_EQUAL(l.total, 4096 + 520 + 2054, "total");
	TEST_ASSERT_SUCCESS(vq_split_layout(256, 4096, &l), "legacy alignment");
	TEST_ASSERT_EQUAL(l.device_off, 8192, "legacy: used ring on its own page (2.7.2)");
	TEST_ASSERT_SUCCESS(vq_split_layout(1, 64, &l), "size 1");
	TEST_ASSERT_EQUAL(l.device_off % 64, 0, "aligned used ring");
	TEST_ASSERT_EQUAL(vq_split_layout(0, 64, &l), -EINVAL, "size 0");
	TEST_ASSERT_EQUAL(vq_split_layout(100, 64, &l), -EINVAL, "split sizes are powers of 2");
	TEST_ASSERT_EQUAL(vq_split_layout(65536, 64, &l), -EINVAL, "at most 32768");
	TEST_ASSERT_EQUAL(vq_split_layout(256, 2, &l), -EINVAL, "used ring needs 4");
	TEST_ASSERT_EQUAL(vq_split_layout(256, 48, &l), -EINVAL, "alignment a power of 2");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_layout_sizes_and_alignment, fast, test_split_layout)

static int
test_packed_layout(void)
{
	struct vq_ring_layout l;

	TEST_ASSERT_SUCCESS(vq_packed_layout(100, 4, &l), "any size for packed");
	TEST_ASSERT_EQUAL(l.driver_off, 1600, "driver event after the ring");
	TEST_ASSERT_EQUAL(l.device_off, 1604, "device event after it");
	TEST_ASSERT_EQUAL(l.total, 1608, "total");
	TEST_ASSERT_SUCCESS(vq_packed_layout(32768, 64, &l), "largest");
	TEST_ASSERT_EQUAL(l.device_off - l.driver_off, 64, "separate cache lines");
	TEST_ASSERT_EQUAL(vq_packed_layout(32769, 64, &l), -EINVAL, "too large");
	TEST_ASSERT_EQUAL(vq_packed_layout(0, 64, &l), -EINVAL, "size 0");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_packed_layout_sizes_and_alignment, fast, test_packed_layout)

static int
test_bounds(void)
{
	struct vq_guard g;
	struct vq_memmap m;
	struct vq_memcache c;
	const uint64_t ga = 0x100000000ULL;
	uint8_t *p;

	TEST_ASSERT_SUCCESS(vq_guard_alloc(&g, 8192, true), "guarded block");
	vq_memmap_init(&m);
	vq_memcache_reset(&c);
	TEST_ASSERT_SUCCESS(vq_memmap_add(&m, ga, 8192, g.mem), "add region");
	p = vq_memmap_translate(&m, &c, ga, 8192);
	TEST_ASSERT(p == g.mem, "whole region translates to its start");
	p = vq_memmap_translate(&m, &c, ga + 8191, 1);
	TEST_ASSERT(p == g.mem + 8191, "last byte");
	*p = 1; /* really inside: the guard would fault otherwise */
	TEST_ASSERT(vq_memmap_translate(&m, &c, ga + 8191, 2) == NULL, "one byte past the end");
	TEST_ASSERT(vq_memmap_translate(&m, &c, ga + 8192, 0) == NULL, "zero bytes at the end");
	TEST_ASSERT(vq_memmap_translate(&m, &c, ga - 1, 2) == NULL, "starts before the region");
	TEST_ASSERT(vq_memmap_translate(&m, &c, ga + 16, UINT64_MAX) == NULL, "huge length");
	TEST_ASSERT(vq_memmap_translate(&m, &c, UINT64_MAX - 3, 8) == NULL, "range wraps");
	TEST_ASSERT(vq_memmap_translate(&m, &c, 0, 1) == NULL, "address 0 is unmapped");
	/* The cache now holds the region: the same checks through it. */
	TEST_ASSERT(c.size == 8192, "cache filled by a hit");
	TEST_ASSERT(vq_memmap_translate(&m, &c, ga + 8000, 193) == NULL, "cached: past the end");
	TEST_ASSERT(vq_memmap_translate(&m, &c, ga + 8000, 192) == g.mem + 8000, "cached: hit");
	vq_guard_free(&g);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_memmap_translates_only_whole_ranges_inside_a_region, fast, test_bounds)

static int
test_add_rejects(void)
{
	struct vq_memmap m;
	uint8_t buf[64];

	vq_memmap_init(&m);
	TEST_ASSERT_SUCCESS(vq_memmap_add(&m, 0x1000, 0x1000, buf), "first region");
	TEST_ASSERT_EQUAL(vq_memmap_add(&m, 0x1800, 0x1000, buf), -EEXIST, "overlap at end");
	TEST_ASSERT_EQUAL(vq_memmap_add(&m, 0x800, 0x1000, buf), -EEXIST, "overlap at start");
	TEST_ASSERT_EQUAL(vq_memmap_add(&m, 0x0, 0x10000, buf), -EEXIST, "covering");
	TEST_ASSERT_SUCCESS(vq_memmap_add(&m, 0x2000, 0x1000, buf), "adjacent is fine");
	TEST_ASSERT_EQUAL(vq_memmap_add(&m, 0x9000, 0, buf), -EINVAL, "zero size");
	TEST_ASSERT_EQUAL(vq_memmap_add(&m, UINT64_MAX - 10, 100, buf), -EINVAL, "guest wraps");
	TEST_ASSERT_EQUAL(vq_memmap_add(&m, 0x9000, 100, NULL), -EINVAL, "NULL host");
	TEST_ASSERT_EQUAL(vq_memmap_add(&m, 0x9000, UINT64_MAX / 2, (void *)(UINTPTR_MAX - 10)),
			  -EINVAL, "host wraps");
	for (unsigned int i = m.nregions; i < VQ_MEMMAP_MAX_REGIONS; i++)
		TEST_ASSERT_SUCCESS(vq_memmap_add(&m, 0x100000ULL * (i + 1), 0x1000, buf), "fill");
	TEST_ASSERT_EQUAL(vq_memmap_add(&m, 0x7f000000ULL, 0x1000, buf), -ENOSPC, "full");
	vq_memmap_init_identity(&m);
	TEST_ASSERT_EQUAL(vq_memmap_add(&m, 0x1000, 0x1000, buf), -EINVAL, "identity map is fixed");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_memmap_rejects_overlapping_and_wrapping_regions, fast, test_add_rejects)

static int
test_cache_switch(void)
{
	struct vq_memmap a, b;
	struct vq_memcache c;
	uint8_t x[256], y[256];

	vq_memmap_init(&a);
	vq_memmap_init(&b);
	vq_memcache_reset(&c);
	TEST_ASSERT_SUCCESS(vq_memmap_add(&a, 0x1000, 0x100, x), "a");
	TEST_ASSERT_SUCCESS(vq_memmap_add(&a, 0x2000, 0x100, y), "a second region");
	TEST_ASSERT(vq_memmap_translate(&a, &c, 0x1010, 4) == x + 0x10, "first region");
	TEST_ASSERT(vq_memmap_translate(&a, &c, 0x2010, 4) == y + 0x10, "miss moves the cache");
	TEST_ASSERT(vq_memmap_translate(&a, &c, 0x1010, 4) == x + 0x10, "and back");
	TEST_ASSERT_SUCCESS(vq_memmap_add(&b, 0x2000, 0x100, x), "b maps 0x2000 elsewhere");
	vq_memcache_reset(&c);
	TEST_ASSERT(vq_memmap_translate(&b, &c, 0x1010, 4) == NULL, "gone from the new map");
	TEST_ASSERT(vq_memmap_translate(&b, &c, 0x2010, 4) == x + 0x10, "new translation");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_memmap_cache_follows_region_changes, fast, test_cache_switch)

/* The region of @p m that holds [addr, addr + len) whole, by a plain walk, or -1. */
static int
ref_find(const struct vq_memmap *m, uint64_t addr, uint64_t len)
{
	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vq_mem_region *r = &m->region[i];
		uint64_t off = addr - r->guest_addr;

		if (off < r->size && len <= r->size - off)
			return (int)i;
	}
	return -1;
}

/*
 * vq_memmap_fast_find() against a walk at @p addr: never a wrong region;
 * a yes for every range inside one of the regions flagged in @p in_table.
 */
static int
check_fast(const struct vq_memmap *m, const bool *in_table, uint64_t addr, uint64_t len)
{
	struct vq_memcache c = {0, 0, 0};
	int i = ref_find(m, addr, len);
	bool found = vq_memmap_fast_find(m, addr, len, &c);

	if (i < 0) {
		TEST_ASSERT(!found, "%#" PRIx64 "+%" PRIu64 ": in no region, found", addr, len);
		return TEST_SUCCESS;
	}
	TEST_ASSERT(found || !in_table[i],
		    "%#" PRIx64 "+%" PRIu64 ": region %d of the table missed", addr, len, i);
	TEST_ASSERT(!found || (c.start == m->region[i].guest_addr && c.size == m->region[i].size &&
			       c.delta == m->region[i].host_addr - m->region[i].guest_addr),
		    "%#" PRIx64 "+%" PRIu64 ": wrong region (want %d)", addr, len, i);
	return TEST_SUCCESS;
}

/*
 * The take fast path's table (the 4 largest regions, first on a tie): an
 * x86 guest's layout with a small region between two large ones and one
 * adjacent to a large one, added out of order; ranges at every boundary,
 * across two regions and at random; then a tie of five equal regions.
 */
static int
test_fast_find(void)
{
	static const uint64_t r[7][2] = {
		{0x200000000ULL, 0x80000000ULL}, {0x0, 0xa0000},
		{0xfeb00000ULL, 0x10000},	 {0x100000000ULL, 0x40000000ULL},
		{0x300000000ULL, 0x2000},	 {0x100000ULL, 0xbff00000ULL},
		{0x140000000ULL, 0x1000},
	};
	static const bool big[7] = {true, true, false, true, false, true, false};
	static const uint64_t lens[4] = {1, 16, 1514, 4096};
	uint64_t x = 88172645463325252ULL;
	struct vq_memcache c;
	struct vq_memmap m;

	vq_memmap_init(&m);
	TEST_ASSERT(!vq_memmap_fast_find(&m, 0, 1, &c) &&
			    !vq_memmap_fast_find(&m, UINT64_MAX, 1, &c),
		    "empty map");
	for (int i = 0; i < 7; i++)
		TEST_ASSERT_SUCCESS(
			vq_memmap_add(&m, r[i][0], r[i][1],
				      (void *)(uintptr_t)(0x7f0000000000ULL + r[i][0] / 2)),
			"region %d", i);
	for (int i = 0; i < 7; i++) {
		const uint64_t s = r[i][0], e = r[i][0] + r[i][1];

		for (int k = 0; k < 4; k++) {
			const uint64_t l = lens[k];
			const uint64_t at[] = {s, s + 1, s + r[i][1] / 2, e - l, e - l + 1, e - 1,
					       e, s - 1};

			for (unsigned int j = 0; j < sizeof(at) / sizeof(at[0]); j++)
				TEST_RUN(check_fast(&m, big, at[j], l));
		}
	}
	TEST_ASSERT(!vq_memmap_fast_find(&m, 0x140000000ULL - 8, 16, &c), "across two regions");
	for (int n = 0; n < 200000; n++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		TEST_RUN(check_fast(&m, big, x % 0x400000000ULL, lens[x >> 62]));
	}
	/* A tie: the first four added are in the table, the fifth goes to the walk. */
	vq_memmap_init(&m);
	for (int i = 0; i < 5; i++)
		TEST_ASSERT_SUCCESS(vq_memmap_add(&m, 0x10000ULL * (uint64_t)(5 - i), 0x1000,
						  (void *)(uintptr_t)0x7f0000000000ULL),
				    "tie %d", i);
	for (int i = 0; i < 5; i++)
		TEST_ASSERT_EQUAL(
			vq_memmap_fast_find(&m, 0x10000ULL * (uint64_t)(5 - i) + 8, 8, &c), i < 4,
			"tie: region %d", i);
	vq_memmap_init_identity(&m);
	TEST_ASSERT(vq_memmap_fast_find(&m, 0x1234, 16, &c) && c.delta == 0, "identity");
	TEST_ASSERT(!vq_memmap_fast_find(&m, UINT64_MAX - 7, 16, &c), "identity, no wrap");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_memmap_fast_table_finds_the_largest_regions, fast, test_fast_find)

/*
 * vq_memmap_direct_find() against a walk: never a wrong region, never a
 * range that leaves its region; a yes for every range inside a region
 * flagged in @p must (NULL: none asked).
 */
static int
check_direct(const struct vq_memmap *m, const bool *must, uint64_t addr, uint64_t len)
{
	uint64_t delta = 0;
	int i = ref_find(m, addr, len);
	bool found = vq_memmap_direct_find(m, addr, len, &delta);

	if (i < 0) {
		TEST_ASSERT(!found, "%#" PRIx64 "+%" PRIu64 ": in no region, found", addr, len);
		return TEST_SUCCESS;
	}
	TEST_ASSERT(found || must == NULL || !must[i], "%#" PRIx64 "+%" PRIu64 ": region %d missed",
		    addr, len, i);
	TEST_ASSERT(!found || delta == m->region[i].host_addr - m->region[i].guest_addr,
		    "%#" PRIx64 "+%" PRIu64 ": wrong region (want %d)", addr, len, i);
	return TEST_SUCCESS;
}

/* Every boundary of every region of @p m, then random ranges below @p span. */
static int
check_direct_all(const struct vq_memmap *m, const bool *must, uint64_t span)
{
	static const uint64_t lens[4] = {1, 16, 1514, 4096};
	uint64_t x = 88172645463325252ULL;

	for (uint32_t i = 0; i < m->nregions; i++) {
		const uint64_t s = m->region[i].guest_addr, e = s + m->region[i].size;

		for (int k = 0; k < 4; k++) {
			const uint64_t l = lens[k];
			const uint64_t at[] = {s,     s + 1,	 s + m->region[i].size / 2,
					       e - l, e - l + 1, e - 1,
					       e,     s - 1};

			for (unsigned int j = 0; j < sizeof(at) / sizeof(at[0]); j++)
				TEST_RUN(check_direct(m, must, at[j], l));
		}
	}
	for (int n = 0; n < 100000; n++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		TEST_RUN(check_direct(m, must, span != 0 ? x % span : x, lens[x >> 62]));
	}
	return TEST_SUCCESS;
}

static int
add_regions(struct vq_memmap *m, const uint64_t (*r)[2], int n)
{
	vq_memmap_init(m);
	for (int i = 0; i < n; i++)
		TEST_ASSERT_SUCCESS(
			vq_memmap_add(m, r[i][0], r[i][1],
				      (void *)(uintptr_t)(0x7f0000000000ULL + r[i][0] / 2 +
							  (uint64_t)i * 0x1000)),
			"region %d", i);
	return TEST_SUCCESS;
}

/*
 * The take fast path's table for several regions (struct vq_memmap_direct):
 * off for one region (the cache serves it); an x86 guest above 3 GiB (below
 * 3 GiB and above 4 GiB, with and without the legacy hole under 1 MiB) with
 * both large regions served; the fast table's seven-region layout; four
 * regions 256 MiB apart (the perf test's); regions at the top of the
 * address space; never a wrong region or a range past a region's end.
 */
static int
test_direct_find(void)
{
	static const uint64_t x86[2][2] = {{0x0, 0xc0000000ULL}, {0x100000000ULL, 0x140000000ULL}};
	static const uint64_t x86h[3][2] = {
		{0x0, 0xa0000}, {0xc0000, 0xbff40000ULL}, {0x100000000ULL, 0x1c0000000ULL}};
	static const uint64_t seven[7][2] = {
		{0x200000000ULL, 0x80000000ULL}, {0x0, 0xa0000},
		{0xfeb00000ULL, 0x10000},	 {0x100000000ULL, 0x40000000ULL},
		{0x300000000ULL, 0x2000},	 {0x100000ULL, 0xbff00000ULL},
		{0x140000000ULL, 0x1000},
	};
	static const uint64_t four[4][2] = {{0x100000000ULL, 0x20000},
					    {0x110000000ULL, 0x20000},
					    {0x120000000ULL, 0x20000},
					    {0x130000000ULL, 0x20000}};
	static const uint64_t top[2][2] = {{0xffffffffffffe000ULL, 0x1fffULL},
					   {0xfffffffff0000000ULL, 0x1000}};
	static const bool all[4] = {true, true, true, true};
	static const bool x86h_big[3] = {false, true, true};
	static const bool seven_big[7] = {false, false, false, false, false, true, false};
	struct vq_memmap m;

	vq_memmap_init(&m);
	TEST_ASSERT(!m.direct.on, "empty map: off");
	TEST_RUN(check_direct_all(&m, NULL, 0));
	TEST_RUN(add_regions(&m, x86, 1));
	TEST_ASSERT(!m.direct.on, "one region: off (the cache serves it)");
	vq_memmap_init_identity(&m);
	TEST_ASSERT(!m.direct.on, "identity: off");

	TEST_RUN(add_regions(&m, x86, 2));
	TEST_ASSERT(m.direct.on, "x86, two regions: on");
	TEST_RUN(check_direct_all(&m, all, 0x300000000ULL));
	TEST_RUN(add_regions(&m, x86h, 3));
	TEST_RUN(check_direct_all(&m, x86h_big, 0x300000000ULL));
	TEST_RUN(add_regions(&m, seven, 7));
	TEST_RUN(check_direct_all(&m, seven_big, 0x400000000ULL));
	TEST_RUN(add_regions(&m, four, 4));
	TEST_RUN(check_direct_all(&m, all, 0x140000000ULL));
	TEST_RUN(add_regions(&m, top, 2));
	TEST_RUN(check_direct_all(&m, all, 0));
	TEST_ASSERT(!vq_memmap_direct_find(&m, UINT64_MAX - 15, 32, &(uint64_t){0}),
		    "top: a range past the end of the address space");
	/* Sixteen equal regions one chunk apart at the smallest shift, then
	 * seventeen: the extra one shares a slot and goes to the walk. */
	vq_memmap_init(&m);
	for (int i = 0; i < 17; i++)
		TEST_ASSERT_SUCCESS(vq_memmap_add(&m, 0x1000ULL * (uint64_t)i, 0x1000,
						  (void *)(uintptr_t)(0x7f0000000000ULL +
								      0x3000ULL * (uint64_t)i)),
				    "region %d", i);
	TEST_RUN(check_direct_all(&m, NULL, 0x20000));
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_memmap_direct_table_agrees_with_a_walk, fast, test_direct_find)

static int
test_identity(void)
{
	struct vq_memmap m;
	struct vq_memcache c;
	uint8_t buf[16];

	vq_memmap_init_identity(&m);
	vq_memcache_reset(&c);
	TEST_ASSERT(vq_memmap_translate(&m, &c, (uint64_t)(uintptr_t)buf, 16) == buf, "identity");
	TEST_ASSERT(vq_memmap_translate(&m, &c, 0x1234, 1) == (void *)0x1234, "any address");
	TEST_ASSERT(vq_memmap_translate(&m, &c, UINT64_MAX - 7, 16) == NULL, "but no wrap");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_memmap_identity_maps_own_memory, fast, test_identity)

static int
test_prefix(void)
{
	struct vq_memmap m;
	struct vq_memcache c;
	uint8_t x[256], y[256];
	uint64_t plen = 0;
	uint8_t *p;

	vq_memmap_init(&m);
	vq_memcache_reset(&c);
	TEST_ASSERT_SUCCESS(vq_memmap_add(&m, 0x1000, 0x100, x), "x");
	TEST_ASSERT_SUCCESS(vq_memmap_add(&m, 0x1100, 0x100, y), "y, adjacent in guest space");
	TEST_ASSERT(vq_memmap_translate(&m, &c, 0x10f0, 0x20) == NULL, "spans two regions");
	p = vq_memmap_translate_prefix(&m, &c, 0x10f0, 0x20, &plen);
	TEST_ASSERT(p == x + 0xf0 && plen == 0x10, "prefix in x");
	p = vq_memmap_translate_prefix(&m, &c, 0x1100, 0x10, &plen);
	TEST_ASSERT(p == y && plen == 0x10, "rest in y");
	TEST_ASSERT(vq_memmap_translate_prefix(&m, &c, 0x1200, 1, &plen) == NULL, "past both");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_memmap_prefix_splits_at_region_boundaries, fast, test_prefix)

static int
test_reverse(void)
{
	struct vq_memmap m;
	uint8_t z[1024];
	uint8_t *x = z, *y = z + 512; /* two regions with a gap between them */
	uint64_t ga = 0;

	vq_memmap_init(&m);
	TEST_ASSERT_SUCCESS(vq_memmap_add(&m, 0x1000, 256, x), "x");
	TEST_ASSERT_SUCCESS(vq_memmap_add(&m, 0x9000, 256, y), "y");
	TEST_ASSERT_SUCCESS(vq_memmap_guest_addr(&m, y + 17, &ga), "inside y");
	TEST_ASSERT_EQUAL(ga, 0x9011, "guest address of y + 17");
	TEST_ASSERT_SUCCESS(vq_memmap_guest_addr(&m, x + 255, &ga), "last byte of x");
	TEST_ASSERT_EQUAL(ga, 0x10ff, "guest address");
	TEST_ASSERT_EQUAL(vq_memmap_guest_addr(&m, x + 256, &ga), -ENOENT, "in the gap");
	TEST_ASSERT_EQUAL(vq_memmap_guest_addr(&m, y + 256, &ga), -ENOENT, "past y");
	vq_memmap_init_identity(&m);
	TEST_ASSERT_SUCCESS(vq_memmap_guest_addr(&m, x, &ga), "identity");
	TEST_ASSERT_EQUAL(ga, (uint64_t)(uintptr_t)x, "itself");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_memmap_translates_host_pointers_back_for_logging, fast, test_reverse)
