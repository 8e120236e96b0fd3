/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A guest with several memory regions (an x86 QEMU guest above ~3 GiB has
 * two): buffers that alternate between regions are translated right by the
 * take fast path (the queue's last region, else the map's fast table of its
 * four largest regions) and by the walk (regions past those), for split and
 * packed rings, transmit and receive takes; an address in no region still
 * breaks the queue.
 */
#include "test.h"
#include "vq_harness.h"

#define F(b)   VQ_FEATURE(b)
#define NEXTRA 8 /* regions added after the env's ring and buffer regions */
#define RLEN   4096
#define NBUF   12

struct regions {
	struct vq_guard g[NEXTRA];
	uint64_t ga[NEXTRA + 1]; /* [0]: the env's buffer region */
	uint8_t *hp[NEXTRA + 1];
};

/* Regions 1..NEXTRA at guest 0x200000000 + i * 0x100000000 (not adjacent). */
static int
regions_add(struct vq_env *e, struct regions *r)
{
	r->ga[0] = VQ_ENV_BUF_GA;
	r->hp[0] = e->buf.mem;
	for (int i = 0; i < NEXTRA; i++) {
		int rc = vq_guard_alloc(&r->g[i], RLEN, true);

		if (rc)
			return rc;
		r->ga[i + 1] = 0x200000000ULL + (uint64_t)i * 0x100000000ULL;
		r->hp[i + 1] = r->g[i].mem;
		rc = vq_memmap_add(&e->map, r->ga[i + 1], RLEN, r->g[i].mem);
		if (rc)
			return rc;
	}
	return 0;
}

static void
regions_free(struct regions *r)
{
	for (int i = 0; i < NEXTRA; i++)
		vq_guard_free(&r->g[i]);
}

/* Buffer k: buffer region k % (NEXTRA + 1), the map's regions 1..NEXTRA + 1
 * (after the ring's region 0; the fast table holds four of these ten
 * regions of a page or less, the walk takes the others), offset 256 * (k / (NEXTRA + 1)). */
static uint64_t
buf_ga(const struct regions *r, int k)
{
	return r->ga[k % (NEXTRA + 1)] + 256u * (unsigned int)(k / (NEXTRA + 1));
}

static uint8_t *
buf_hp(const struct regions *r, int k)
{
	return r->hp[k % (NEXTRA + 1)] + 256u * (unsigned int)(k / (NEXTRA + 1));
}

static int
check_burst(const struct vq_burst *b, const struct regions *r, unsigned int n, bool rx)
{
	for (unsigned int k = 0; k < n; k++) {
		const struct vq_chain *c = &b->chain[k];

		TEST_ASSERT(c->nseg == 1 && c->seg[0].addr == buf_hp(r, (int)k) &&
				    c->seg[0].len == 200 && c->id == k,
			    "buffer %u (region %u) translated", k, k % (NEXTRA + 1));
		if (rx)
			TEST_ASSERT(b->pkt[k].nseg == 1 && b->pkt[k].seg == c->seg, "packet %u", k);
	}
	return TEST_SUCCESS;
}

static int
run(bool packed, bool rx)
{
	const uint16_t flags = rx ? VQ_DESC_F_WRITE : 0;
	uint64_t features = F(VQ_F_VERSION_1) | (packed ? F(VQ_F_RING_PACKED) : 0);
	uint32_t len[NBUF];
	struct regions r;
	struct vq_burst b;
	struct vq_env e;
	unsigned int n;
	int rc = TEST_SUCCESS;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 16, features, RLEN), "env");
	TEST_ASSERT_SUCCESS(regions_add(&e, &r), "regions");
	for (int k = 0; k < NBUF; k++) {
		len[k] = 100;
		if (packed) {
			vq_env_packed_put(&e, buf_ga(&r, k), 200, (uint16_t)k, flags, false);
		} else {
			vq_env_split_desc(&e, (uint16_t)k, buf_ga(&r, k), 200, flags, 0);
			vq_env_split_push(&e, (uint16_t)k);
		}
	}
	n = rx ? vq_dev_take_rx(&e.dev, &b, len, NBUF) : vq_dev_take(&e.dev, &b, 32);
	if (n != NBUF || b.nchain != NBUF) {
		printf("FAIL: took %u of %d (error %d)\n", n, NBUF, vq_dev_error(&e.dev));
		rc = TEST_FAILED;
	} else {
		rc = check_burst(&b, &r, n, rx);
	}
	vq_dev_return(&e.dev, &b);
	/* Past every region's end: refused, however the cache stood. */
	if (rc == TEST_SUCCESS) {
		if (packed)
			vq_env_packed_put(&e, r.ga[2] + RLEN - 100, 200, 0, flags, false);
		else {
			vq_env_split_desc(&e, 0, r.ga[2] + RLEN - 100, 200, flags, 0);
			vq_env_split_push(&e, 0);
		}
		n = rx ? vq_dev_take_rx(&e.dev, &b, len, 1) : vq_dev_take(&e.dev, &b, 32);
		if (n != 0 || vq_dev_error(&e.dev) != -EFAULT) {
			printf("FAIL: a range past a region's end gave %u chains, error %d\n", n,
			       vq_dev_error(&e.dev));
			rc = TEST_FAILED;
		}
	}
	vq_env_free(&e);
	regions_free(&r);
	return rc;
}

static int
test_split_tx(void)
{
	return run(false, false);
}
REGISTER_TEST(virtq_split_take_translates_buffers_alternating_between_regions, fast, test_split_tx)

static int
test_split_rx(void)
{
	return run(false, true);
}
REGISTER_TEST(virtq_split_take_rx_translates_buffers_alternating_between_regions, fast,
	      test_split_rx)

static int
test_packed_tx(void)
{
	return run(true, false);
}
REGISTER_TEST(virtq_packed_take_translates_buffers_alternating_between_regions, fast,
	      test_packed_tx)

static int
test_packed_rx(void)
{
	return run(true, true);
}
REGISTER_TEST(virtq_packed_take_rx_translates_buffers_alternating_between_regions, fast,
	      test_packed_rx)
