/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq, split ring, device side: malformed chains from a hostile
 * driver are detected, never followed; the queue is marked broken, the log
 * hook runs once, and nothing outside the rings and mapped buffers is
 * touched (rings and buffers end at PROT_NONE pages; the "huge" region of
 * the overflow tests is PROT_NONE throughout).
 */
#include <errno.h>
#include <stdlib.h>

#include "test.h"
#include "vq_hostile.h"

#define F(bit)	VQ_FEATURE(bit)
#define RING	8
#define HUGE_GA VQ_HUGE_GA

/* Chains are writable so that RX mode, which skips readable elements,
 * walks them the same way. */
static int
run_hostile(vq_hostile_setup setup, uint64_t features, int err, unsigned int good_before)
{
	return vq_hostile_run(setup, RING, features, err, good_before);
}

#define W VQ_DESC_F_WRITE
#define N VQ_DESC_F_NEXT
#define I VQ_DESC_F_INDIRECT

static int
setup_self_loop(struct vq_env *e)
{
	vq_env_split_desc(e, 2, vq_env_ga(e, 0), 16, W | N, 2);
	vq_env_split_push(e, 2);
	return 0;
}

static int
test_self_loop(void)
{
	return run_hostile(setup_self_loop, 0, -ELOOP, 0);
}
REGISTER_TEST(virtq_split_rejects_descriptor_pointing_to_itself, fast, test_self_loop)

static int
setup_loop(struct vq_env *e)
{
	/* A good chain first, then 1 -> 5 -> 3 -> 5. */
	vq_env_split_desc(e, 0, vq_env_ga(e, 0), 64, W, 0);
	vq_env_split_push(e, 0);
	vq_env_split_desc(e, 1, vq_env_ga(e, 0), 16, W | N, 5);
	vq_env_split_desc(e, 5, vq_env_ga(e, 16), 16, W | N, 3);
	vq_env_split_desc(e, 3, vq_env_ga(e, 32), 16, W | N, 5);
	vq_env_split_push(e, 1);
	return 0;
}

static int
test_loop(void)
{
	return run_hostile(setup_loop, 0, -ELOOP, 1);
}
REGISTER_TEST(virtq_split_rejects_descriptor_loop, fast, test_loop)

static int
setup_longer_than_ring(struct vq_env *e)
{
	/* Every descriptor once, then back to the head: RING + 1 long. */
	for (uint16_t i = 0; i < RING; i++)
		vq_env_split_desc(e, i, vq_env_ga(e, i * 16u), 16, W | N, (i + 1) % RING);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_longer_than_ring(void)
{
	return run_hostile(setup_longer_than_ring, 0, -ELOOP, 0);
}
REGISTER_TEST(virtq_split_rejects_chain_longer_than_ring, fast, test_longer_than_ring)

static int
setup_head_out_of_range(struct vq_env *e)
{
	vq_env_split_push(e, RING);
	return 0;
}

static int
test_head_out_of_range(void)
{
	return run_hostile(setup_head_out_of_range, 0, -ERANGE, 0);
}
REGISTER_TEST(virtq_split_rejects_available_head_out_of_range, fast, test_head_out_of_range)

static int
setup_next_out_of_range(struct vq_env *e)
{
	vq_env_split_desc(e, 0, vq_env_ga(e, 0), 16, W | N, 0xffff);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_next_out_of_range(void)
{
	return run_hostile(setup_next_out_of_range, 0, -ERANGE, 0);
}
REGISTER_TEST(virtq_split_rejects_next_index_out_of_range, fast, test_next_out_of_range)

static int
setup_avail_jump(struct vq_env *e)
{
	struct vq_avail *a = (struct vq_avail *)(e->ring.mem + e->layout.driver_off);

	vq_env_split_desc(e, 0, vq_env_ga(e, 0), 16, W, 0);
	a->idx = RING + 1;
	return 0;
}

static int
test_avail_jump(void)
{
	return run_hostile(setup_avail_jump, 0, -ERANGE, 0);
}
REGISTER_TEST(virtq_split_rejects_avail_idx_jumping_past_ring_size, fast, test_avail_jump)

static int
setup_outside_map(struct vq_env *e)
{
	vq_env_split_desc(e, 0, 0x8000000ULL, 64, W, 0); /* in no region */
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_outside_map(void)
{
	return run_hostile(setup_outside_map, 0, -EFAULT, 0);
}
REGISTER_TEST(virtq_split_rejects_address_outside_guest_memory, fast, test_outside_map)

static int
setup_past_region_end(struct vq_env *e)
{
	/* Starts in the last 16 bytes of the buffer region, runs 16 past it
	 * (into the guard page, were it followed). */
	vq_env_split_desc(e, 0, vq_env_ga(e, 0), 64, W, 0);
	vq_env_split_push(e, 0);
	vq_env_split_desc(e, 1, vq_env_ga(e, 65536 - 16), 32, W, 0);
	vq_env_split_push(e, 1);
	return 0;
}

static int
test_past_region_end(void)
{
	return run_hostile(setup_past_region_end, 0, -EFAULT, 1);
}
REGISTER_TEST(virtq_split_rejects_element_running_past_guest_memory, fast, test_past_region_end)

static int
setup_addr_wraps(struct vq_env *e)
{
	vq_env_split_desc(e, 0, UINT64_MAX - 15, 64, W, 0);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_addr_wraps(void)
{
	return run_hostile(setup_addr_wraps, 0, -EFAULT, 0);
}
REGISTER_TEST(virtq_split_rejects_element_whose_address_wraps, fast, test_addr_wraps)

static int
setup_len_overflow(struct vq_env *e)
{
	int rc = vq_hostile_add_huge_region(e);

	/* 0x80000000 + 0x80000000 = 2^32: longer than a chain may be (2.7.5.2). */
	vq_env_split_desc(e, 0, HUGE_GA, 0x80000000u, W | N, 1);
	vq_env_split_desc(e, 1, HUGE_GA + 0x80000000u, 0x80000000u, W, 0);
	vq_env_split_push(e, 0);
	return rc;
}

static int
test_len_overflow(void)
{
	return run_hostile(setup_len_overflow, 0, -EOVERFLOW, 0);
}
REGISTER_TEST(virtq_split_rejects_chain_lengths_that_overflow, fast, test_len_overflow)

static int
setup_len_overflow_indirect(struct vq_env *e)
{
	struct vq_desc t[3] = {
		{HUGE_GA, 0xffffffffu, W | N, 1},
		{HUGE_GA, 1, W | N, 2},
		{HUGE_GA, 1, W, 0},
	};
	int rc = vq_hostile_add_huge_region(e);

	vq_env_split_desc(e, 0, vq_env_put_table(e, 4096, t, sizeof(t)), sizeof(t), I, 0);
	vq_env_split_push(e, 0);
	return rc;
}

static int
test_len_overflow_indirect(void)
{
	return run_hostile(setup_len_overflow_indirect, F(VQ_F_INDIRECT_DESC), -EOVERFLOW, 0);
}
REGISTER_TEST(virtq_split_rejects_indirect_lengths_that_overflow, fast, test_len_overflow_indirect)

static int
setup_readable_after_writable(struct vq_env *e)
{
	vq_env_split_desc(e, 0, vq_env_ga(e, 0), 16, W | N, 1);
	vq_env_split_desc(e, 1, vq_env_ga(e, 16), 16, 0, 0);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_r_after_w(void)
{
	return run_hostile(setup_readable_after_writable, 0, -EINVAL, 0);
}
REGISTER_TEST(virtq_split_rejects_readable_element_after_writable, fast, test_r_after_w)

static int
setup_indirect_not_negotiated(struct vq_env *e)
{
	struct vq_desc t[1] = {{vq_env_ga(e, 0), 16, W, 0}};

	vq_env_split_desc(e, 0, vq_env_put_table(e, 4096, t, sizeof(t)), sizeof(t), I, 0);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_indirect_not_negotiated(void)
{
	return run_hostile(setup_indirect_not_negotiated, 0, -EINVAL, 0);
}
REGISTER_TEST(virtq_split_rejects_indirect_without_the_feature, fast, test_indirect_not_negotiated)

static int
setup_indirect_in_indirect(struct vq_env *e)
{
	struct vq_desc inner[1] = {{vq_env_ga(e, 0), 16, W, 0}};
	struct vq_desc outer[2] = {
		{vq_env_ga(e, 64), 16, W | N, 1},
		{vq_env_put_table(e, 8192, inner, sizeof(inner)), sizeof(inner), I, 0},
	};

	vq_env_split_desc(e, 0, vq_env_put_table(e, 4096, outer, sizeof(outer)), sizeof(outer), I,
			  0);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_indirect_in_indirect(void)
{
	return run_hostile(setup_indirect_in_indirect, F(VQ_F_INDIRECT_DESC), -EINVAL, 0);
}
REGISTER_TEST(virtq_split_rejects_indirect_inside_indirect, fast, test_indirect_in_indirect)

static int
setup_indirect_len_odd(struct vq_env *e)
{
	struct vq_desc t[2] = {{vq_env_ga(e, 0), 16, W | N, 1}, {vq_env_ga(e, 16), 16, W, 0}};

	vq_env_split_desc(e, 0, vq_env_put_table(e, 4096, t, sizeof(t)), 24, I, 0);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_indirect_len_odd(void)
{
	return run_hostile(setup_indirect_len_odd, F(VQ_F_INDIRECT_DESC), -EINVAL, 0);
}
REGISTER_TEST(virtq_split_rejects_indirect_length_not_multiple_of_16, fast, test_indirect_len_odd)

static int
setup_indirect_len_zero(struct vq_env *e)
{
	vq_env_split_desc(e, 0, vq_env_ga(e, 4096), 0, I, 0);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_indirect_len_zero(void)
{
	return run_hostile(setup_indirect_len_zero, F(VQ_F_INDIRECT_DESC), -EINVAL, 0);
}
REGISTER_TEST(virtq_split_rejects_indirect_length_zero, fast, test_indirect_len_zero)

static int
setup_indirect_with_next(struct vq_env *e)
{
	struct vq_desc t[1] = {{vq_env_ga(e, 0), 16, W, 0}};

	vq_env_split_desc(e, 0, vq_env_put_table(e, 4096, t, sizeof(t)), sizeof(t), I | N, 1);
	vq_env_split_desc(e, 1, vq_env_ga(e, 64), 16, W, 0);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_indirect_with_next(void)
{
	return run_hostile(setup_indirect_with_next, F(VQ_F_INDIRECT_DESC), -EINVAL, 0);
}
REGISTER_TEST(virtq_split_rejects_indirect_with_next_flag, fast, test_indirect_with_next)

static int
setup_indirect_loop(struct vq_env *e)
{
	struct vq_desc t[3] = {
		{vq_env_ga(e, 0), 16, W | N, 1},
		{vq_env_ga(e, 16), 16, W | N, 2},
		{vq_env_ga(e, 32), 16, W | N, 0},
	};

	vq_env_split_desc(e, 0, vq_env_put_table(e, 4096, t, sizeof(t)), sizeof(t), I, 0);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_indirect_loop(void)
{
	return run_hostile(setup_indirect_loop, F(VQ_F_INDIRECT_DESC), -ELOOP, 0);
}
REGISTER_TEST(virtq_split_rejects_loop_inside_indirect_table, fast, test_indirect_loop)

static int
setup_indirect_next_out(struct vq_env *e)
{
	struct vq_desc t[2] = {{vq_env_ga(e, 0), 16, W | N, 2}, {vq_env_ga(e, 16), 16, W, 0}};

	vq_env_split_desc(e, 0, vq_env_put_table(e, 4096, t, sizeof(t)), sizeof(t), I, 0);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_indirect_next_out(void)
{
	return run_hostile(setup_indirect_next_out, F(VQ_F_INDIRECT_DESC), -ERANGE, 0);
}
REGISTER_TEST(virtq_split_rejects_indirect_next_outside_table, fast, test_indirect_next_out)

static int
setup_indirect_table_outside(struct vq_env *e)
{
	/* The table runs 32 bytes past the end of guest memory. */
	vq_env_split_desc(e, 0, vq_env_ga(e, 65536 - 32), 64, I, 0);
	memset(vq_env_hp(e, 65536 - 32), 0, 32);
	((struct vq_desc *)vq_env_hp(e, 65536 - 32))->flags = W | N;
	((struct vq_desc *)vq_env_hp(e, 65536 - 32))->next = 2;
	((struct vq_desc *)vq_env_hp(e, 65536 - 32))->addr = vq_env_ga(e, 0);
	((struct vq_desc *)vq_env_hp(e, 65536 - 16))->flags = W | N;
	((struct vq_desc *)vq_env_hp(e, 65536 - 16))->next = 2;
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_ind_outside(void)
{
	return run_hostile(setup_indirect_table_outside, F(VQ_F_INDIRECT_DESC), -EFAULT, 0);
}
REGISTER_TEST(virtq_split_rejects_indirect_table_outside_guest_memory, fast, test_ind_outside)

static int
setup_indirect_too_long(struct vq_env *e)
{
	const uint32_t n = VQ_INDIRECT_MAX + 1;

	for (uint32_t i = 0; i < n; i++) {
		struct vq_desc *d = (struct vq_desc *)vq_env_hp(e, 16384) + i;

		d->addr = vq_env_ga(e, 0);
		d->len = 1;
		d->flags = W | (i + 1 < n ? N : 0);
		d->next = (uint16_t)(i + 1);
	}
	vq_env_split_desc(e, 0, vq_env_ga(e, 16384), n * 16, I, 0);
	vq_env_split_push(e, 0);
	return 0;
}

static int
test_indirect_too_long(void)
{
	return run_hostile(setup_indirect_too_long, F(VQ_F_INDIRECT_DESC), -E2BIG, 0);
}
REGISTER_TEST(virtq_split_rejects_indirect_table_longer_than_limit, fast, test_indirect_too_long)

static int
test_broken_sticks(void)
{
	struct vq_env e;
	struct vq_burst b;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, RING, 0, 4096), "env");
	setup_self_loop(&e);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 0, "refused");
	/* The driver "fixes" the descriptor and adds more: too late. */
	vq_env_split_desc(&e, 2, vq_env_ga(&e, 0), 16, W, 0);
	vq_env_split_push(&e, 2);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 0, "broken stays broken");
	TEST_ASSERT_EQUAL(vq_dev_error(&e.dev), -ELOOP, "first reason kept");
	TEST_ASSERT_EQUAL(e.log_calls, 1, "logged once");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_broken_queue_stays_broken_and_logs_once, fast, test_broken_sticks)
