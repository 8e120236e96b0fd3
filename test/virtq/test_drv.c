/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq, driver side: posting, kick decisions, reaping, and a
 * misbehaving device (used entries written by hand) caught and never
 * followed.
 */
#include <errno.h>

#include "test.h"
#include "vq_harness.h"

#define F(bit) VQ_FEATURE(bit)
#define PK     VQ_FEATURE(VQ_F_RING_PACKED)

static int cookies[64];

static struct vq_used *
used_ring(struct vq_env *e)
{
	return (struct vq_used *)(e->ring.mem + e->layout.device_off);
}

static struct vq_pdesc *
pdesc(struct vq_env *e, uint16_t slot)
{
	return (struct vq_pdesc *)(e->ring.mem + e->layout.desc_off) + slot;
}

/* Posts @p n one-element writable buffers of @p len bytes. */
static unsigned int
post_bufs(struct vq_env *e, unsigned int n, uint32_t len)
{
	uint64_t addr[16];
	uint32_t l[16];
	void *ck[16];

	for (unsigned int i = 0; i < n; i++) {
		addr[i] = vq_env_ga(e, i * 256u);
		l[i] = len;
		ck[i] = &cookies[i];
	}
	return vq_drv_post_buf(&e->drv, addr, l, ck, n, VQ_DESC_F_WRITE);
}

/* Writes split used entry @p i and publishes idx. */
static void
split_used(struct vq_env *e, uint16_t i, uint32_t id, uint32_t len, uint16_t idx)
{
	used_ring(e)->ring[i & (e->size - 1)].id = id;
	used_ring(e)->ring[i & (e->size - 1)].len = len;
	__atomic_store_n(&used_ring(e)->idx, idx, __ATOMIC_RELEASE);
}

/* Writes a packed used descriptor at @p slot for wrap counter @p wrap. */
static void
packed_used(struct vq_env *e, uint16_t slot, uint16_t id, uint32_t len, int wrap)
{
	pdesc(e, slot)->id = id;
	pdesc(e, slot)->len = len;
	__atomic_store_n(
		&pdesc(e, slot)->flags,
		(uint16_t)(VQ_DESC_F_WRITE | (wrap ? VQ_DESC_F_AVAIL | VQ_DESC_F_USED : 0)),
		__ATOMIC_RELEASE);
}

static int
expect_broken(struct vq_env *e, int err)
{
	void *ck[16];
	uint32_t len[16];

	TEST_ASSERT_EQUAL(vq_drv_reap(&e->drv, ck, len, 16), 0, "nothing reaped");
	TEST_ASSERT_EQUAL(vq_drv_error(&e->drv), err, "broken: %s", e->log_msg);
	TEST_ASSERT_EQUAL(e->log_calls, 1, "logged once");
	TEST_ASSERT_EQUAL(vq_drv_reap(&e->drv, ck, len, 16), 0, "stays broken");
	TEST_ASSERT_EQUAL(post_bufs(e, 1, 64), 0, "posts nothing more");
	TEST_ASSERT_EQUAL(e->log_calls, 1, "still once");
	return TEST_SUCCESS;
}

static int
test_used_idx_jump(void)
{
	struct vq_env e;

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 8, 0, 0, 4096), "env");
	TEST_ASSERT_EQUAL(post_bufs(&e, 2, 64), 2, "post");
	split_used(&e, 0, 0, 10, 3);
	TEST_RUN(expect_broken(&e, -ERANGE));
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_driver_rejects_used_idx_past_chains_in_flight, fast, test_used_idx_jump)

static int
test_used_id_not_in_flight(void)
{
	struct vq_env e;

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 8, 0, 0, 4096), "env");
	TEST_ASSERT_EQUAL(post_bufs(&e, 2, 64), 2, "post heads 0 and 1");
	split_used(&e, 0, 5, 10, 1);
	TEST_RUN(expect_broken(&e, -ERANGE));
	vq_env_free(&e);

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 8, 0, 0, 4096), "env");
	TEST_ASSERT_EQUAL(post_bufs(&e, 2, 64), 2, "post");
	split_used(&e, 0, 0xffffffffu, 10, 1);
	TEST_RUN(expect_broken(&e, -ERANGE));
	vq_env_free(&e);

	/* Returned twice: the second time it is no longer in flight. */
	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 8, 0, 0, 4096), "env");
	TEST_ASSERT_EQUAL(post_bufs(&e, 2, 64), 2, "post");
	split_used(&e, 0, 1, 10, 1);
	{
		void *ck[4];
		uint32_t len[4];

		TEST_ASSERT_EQUAL(vq_drv_reap(&e.drv, ck, len, 4), 1, "first return fine");
		TEST_ASSERT(ck[0] == &cookies[1] && len[0] == 10, "cookie and length");
	}
	split_used(&e, 1, 1, 10, 2);
	TEST_RUN(expect_broken(&e, -ERANGE));
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_driver_rejects_used_id_not_in_flight, fast, test_used_id_not_in_flight)

static int
test_used_len_too_long(void)
{
	struct vq_env e;

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 8, 0, 0, 4096), "env");
	TEST_ASSERT_EQUAL(post_bufs(&e, 1, 64), 1, "post");
	split_used(&e, 0, 0, 65, 1);
	TEST_RUN(expect_broken(&e, -EINVAL));
	vq_env_free(&e);

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 5, PK, 0, 4096), "env");
	TEST_ASSERT_EQUAL(post_bufs(&e, 1, 64), 1, "post");
	packed_used(&e, 0, 0, 1000, 1);
	TEST_RUN(expect_broken(&e, -EINVAL));
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_driver_rejects_used_length_larger_than_posted, fast, test_used_len_too_long)

static int
test_packed_bad_id(void)
{
	struct vq_env e;

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 5, PK, 0, 4096), "env");
	TEST_ASSERT_EQUAL(post_bufs(&e, 2, 64), 2, "post ids 0 and 1");
	packed_used(&e, 0, 3, 10, 1);
	TEST_RUN(expect_broken(&e, -ERANGE));
	vq_env_free(&e);

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 5, PK, 0, 4096), "env");
	TEST_ASSERT_EQUAL(post_bufs(&e, 2, 64), 2, "post");
	packed_used(&e, 0, 0xffff, 10, 1);
	TEST_RUN(expect_broken(&e, -ERANGE));
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_driver_packed_rejects_used_id_not_in_flight, fast, test_packed_bad_id)

static int
test_skips(void)
{
	void *ck[8];
	uint32_t len[8];
	struct vq_env e;

	/* Split: one entry (id 2, at index 0) stands for buffers 0, 1, 2. */
	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 8, F(VQ_F_IN_ORDER), 0, 4096), "env");
	TEST_ASSERT_EQUAL(post_bufs(&e, 4, 100), 4, "post");
	split_used(&e, 0, 2, 40, 3);
	TEST_ASSERT_EQUAL(vq_drv_reap(&e.drv, ck, len, 2), 2, "partial batch");
	TEST_ASSERT(ck[0] == &cookies[0] && len[0] == 100, "skipped: used completely (2.7.9)");
	TEST_ASSERT(ck[1] == &cookies[1] && len[1] == 100, "skipped: used completely");
	TEST_ASSERT_EQUAL(vq_drv_reap(&e.drv, ck, len, 8), 1, "rest of the batch");
	TEST_ASSERT(ck[0] == &cookies[2] && len[0] == 40, "the entry's own length");
	split_used(&e, 3, 3, 7, 4);
	TEST_ASSERT_EQUAL(vq_drv_reap(&e.drv, ck, len, 8), 1, "next batch at index 3");
	TEST_ASSERT(ck[0] == &cookies[3] && len[0] == 7, "fourth");
	TEST_ASSERT_EQUAL(vq_drv_error(&e.drv), 0, "healthy");
	vq_env_free(&e);

	/* Packed: the used descriptor at slot 0 with id 2 (slot ids in order). */
	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 6, PK | F(VQ_F_IN_ORDER), 0, 4096), "env");
	TEST_ASSERT_EQUAL(post_bufs(&e, 4, 100), 4, "post");
	packed_used(&e, 0, 2, 40, 1);
	TEST_ASSERT_EQUAL(vq_drv_reap(&e.drv, ck, len, 8), 3, "whole batch");
	TEST_ASSERT(len[0] == 100 && len[1] == 100 && len[2] == 40, "lengths (2.8.9)");
	TEST_ASSERT(ck[2] == &cookies[2], "order");
	TEST_ASSERT_EQUAL(vq_drv_reap(&e.drv, ck, len, 8), 0, "slot 3 not used yet");
	packed_used(&e, 3, 3, 5, 1);
	TEST_ASSERT_EQUAL(vq_drv_reap(&e.drv, ck, len, 8), 1, "fourth");
	TEST_ASSERT_EQUAL(vq_drv_free_count(&e.drv), 6, "all slots free again");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_driver_in_order_counts_skipped_buffers_as_used_completely, fast, test_skips)

static int
test_post(void)
{
	struct vq_env e;
	struct vq_drv_seg seg[3] = {
		{VQ_ENV_BUF_GA, 12, 0, 0},
		{VQ_ENV_BUF_GA + 100, 200, 0, 0},
		{VQ_ENV_BUF_GA + 400, 300, VQ_DESC_F_WRITE, 0},
	};
	struct vq_drv_chain ch[4] = {
		{&cookies[0], seg, 3},
		{&cookies[1], seg, 3},
		{NULL, seg, 1},
		{&cookies[3], seg, 1},
	};
	struct vq_desc *d;

	/* No indirect: a 3-element chain takes 3 of 4 descriptors. */
	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 4, 0, 0, 4096), "env");
	TEST_ASSERT_EQUAL(vq_drv_post(&e.drv, ch, 4), 1, "second chain does not fit");
	TEST_ASSERT_EQUAL(vq_drv_free_count(&e.drv), 1, "one descriptor left");
	d = (struct vq_desc *)(e.ring.mem + e.layout.desc_off);
	TEST_ASSERT(d[0].flags == VQ_DESC_F_NEXT && d[d[0].next].len == 200, "linked");
	TEST_ASSERT(d[d[d[0].next].next].flags == VQ_DESC_F_WRITE, "writable last, no NEXT");
	TEST_ASSERT_EQUAL(vq_drv_inflight(&e.drv), 1, "one in flight");
	TEST_ASSERT_EQUAL(vq_drv_post(&e.drv, &ch[2], 1), 0, "NULL cookie refused");
	vq_env_free(&e);

	/* Indirect: each chain takes one descriptor pointing to its table. */
	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 4, F(VQ_F_INDIRECT_DESC), 4, 4096), "env");
	TEST_ASSERT_EQUAL(vq_drv_post(&e.drv, ch, 2), 2, "both fit");
	TEST_ASSERT_EQUAL(vq_drv_free_count(&e.drv), 2, "one descriptor each");
	d = (struct vq_desc *)(e.ring.mem + e.layout.desc_off);
	TEST_ASSERT(d[0].flags == VQ_DESC_F_INDIRECT && d[0].len == 48, "indirect descriptor");
	{
		struct vq_burst b;

		TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "device sees both");
		TEST_ASSERT(b.chain[0].nseg == 3 && b.chain[0].rlen == 212 &&
				    b.chain[0].wlen == 300,
			    "through the table");
	}
	TEST_ASSERT_EQUAL(vq_drv_reset(&e.drv, NULL, NULL), 2, "reset releases both");
	TEST_ASSERT_EQUAL(vq_drv_free_count(&e.drv), 4, "all free");
	TEST_ASSERT_EQUAL(vq_drv_inflight(&e.drv), 0, "none in flight");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_driver_posts_chains_direct_or_indirect_until_ring_full, fast, test_post)

static int
test_kick(void)
{
	struct vq_env e;
	uint64_t da, dra, dea;

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 8, 0, 0, 4096), "env");
	vq_drv_ring_addrs(&e.drv, &da, &dra, &dea);
	TEST_ASSERT(da == vq_env_ring_ga(&e, e.ring.mem + e.layout.desc_off) &&
			    dra == vq_env_ring_ga(&e, e.ring.mem + e.layout.driver_off) &&
			    dea == vq_env_ring_ga(&e, e.ring.mem + e.layout.device_off),
		    "ring addresses for SET_VRING_ADDR");
	TEST_ASSERT(!vq_drv_kick_needed(&e.drv), "nothing posted: no kick");
	post_bufs(&e, 1, 64);
	TEST_ASSERT(vq_drv_kick_needed(&e.drv), "flags 0: kick");
	used_ring(&e)->flags = VQ_USED_F_NO_NOTIFY;
	post_bufs(&e, 1, 64);
	TEST_ASSERT(!vq_drv_kick_needed(&e.drv), "NO_NOTIFY: no kick");
	vq_env_free(&e);

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 8, F(VQ_F_EVENT_IDX), 0, 4096), "env");
	vq_st16(&used_ring(&e)->ring[8], 2); /* avail_event: kick when entry 2 is added */
	for (int i = 0; i < 4; i++) {
		post_bufs(&e, 1, 64);
		TEST_ASSERT_EQUAL(vq_drv_kick_needed(&e.drv), i == 2, "post %d", i);
	}
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_driver_kick_follows_device_suppression, fast, test_kick)
