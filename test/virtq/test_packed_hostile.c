/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq, packed ring, device side: malformed buffers from a hostile
 * driver are detected and never followed (see test_split_hostile.c for the
 * method: guarded rings and buffers, a PROT_NONE region for huge lengths).
 */
#include <errno.h>

#include "test.h"
#include "vq_hostile.h"

#define F(bit) VQ_FEATURE(bit)
#define PK     VQ_FEATURE(VQ_F_RING_PACKED)
#define IND    VQ_FEATURE(VQ_F_INDIRECT_DESC)
#define RING   8
#define W      VQ_DESC_F_WRITE
#define N      VQ_DESC_F_NEXT
#define I      VQ_DESC_F_INDIRECT

static int
run_hostile(vq_hostile_setup setup, uint64_t features, int err, unsigned int good_before)
{
	return vq_hostile_run(setup, RING, PK | features, err, good_before);
}

/* A valid one-descriptor buffer first, so "taken before the bad one" shows. */
static void
put_good(struct vq_env *e)
{
	vq_env_packed_put(e, vq_env_ga(e, 0), 64, 0, W, false);
}

static int
setup_longer_than_ring(struct vq_env *e)
{
	/* Every slot chained to the next, head exposed last: the chain runs
	 * round the ring and back into its own head. */
	uint16_t head = vq_env_packed_put(e, vq_env_ga(e, 0), 16, 1, W | N, true);

	for (int i = 1; i < RING; i++)
		vq_env_packed_put(e, vq_env_ga(e, 16u * i), 16, 1, W | N, false);
	vq_env_packed_expose(e, head, W | N, 1);
	return 0;
}

static int
test_longer_than_ring(void)
{
	return run_hostile(setup_longer_than_ring, 0, -ELOOP, 0);
}
REGISTER_TEST(virtq_packed_rejects_chain_longer_than_ring, fast, test_longer_than_ring)

static int
setup_bad_id(struct vq_env *e)
{
	put_good(e);
	vq_env_packed_put(e, vq_env_ga(e, 64), 64, RING, W, false);
	return 0;
}

static int
test_bad_id(void)
{
	return run_hostile(setup_bad_id, 0, -ERANGE, 1);
}
REGISTER_TEST(virtq_packed_rejects_buffer_id_out_of_range, fast, test_bad_id)

static int
setup_bad_id_chain(struct vq_env *e)
{
	/* The id that counts is the last descriptor's (2.8.6). */
	uint16_t head = vq_env_packed_put(e, vq_env_ga(e, 0), 16, 0, W | N, true);

	vq_env_packed_put(e, vq_env_ga(e, 16), 16, 0xffff, W, false);
	vq_env_packed_expose(e, head, W | N, 1);
	return 0;
}

static int
test_bad_id_chain(void)
{
	return run_hostile(setup_bad_id_chain, 0, -ERANGE, 0);
}
REGISTER_TEST(virtq_packed_rejects_chain_with_bad_buffer_id, fast, test_bad_id_chain)

static int
setup_partial_chain(struct vq_env *e)
{
	/* Head says NEXT, the next slot was never made available. */
	vq_env_packed_put(e, vq_env_ga(e, 0), 16, 0, W | N, false);
	return 0;
}

static int
test_partial_chain(void)
{
	return run_hostile(setup_partial_chain, 0, -EINVAL, 0);
}
REGISTER_TEST(virtq_packed_rejects_chain_into_unavailable_descriptor, fast, test_partial_chain)

static int
setup_outside(struct vq_env *e)
{
	put_good(e);
	vq_env_packed_put(e, 0x8000000ULL, 64, 1, W, false);
	return 0;
}

static int
test_outside(void)
{
	return run_hostile(setup_outside, 0, -EFAULT, 1);
}
REGISTER_TEST(virtq_packed_rejects_address_outside_guest_memory, fast, test_outside)

static int
setup_past_end(struct vq_env *e)
{
	vq_env_packed_put(e, vq_env_ga(e, 65536 - 8), 16, 1, W, false);
	return 0;
}

static int
test_past_end(void)
{
	return run_hostile(setup_past_end, 0, -EFAULT, 0);
}
REGISTER_TEST(virtq_packed_rejects_element_running_past_guest_memory, fast, test_past_end)

static int
setup_overflow(struct vq_env *e)
{
	int rc = vq_hostile_add_huge_region(e);
	uint16_t head = vq_env_packed_put(e, VQ_HUGE_GA, 0xffffffffu, 0, W | N, true);

	vq_env_packed_put(e, VQ_HUGE_GA, 1, 0, W, false);
	vq_env_packed_expose(e, head, W | N, 1);
	return rc;
}

static int
test_overflow(void)
{
	return run_hostile(setup_overflow, 0, -EOVERFLOW, 0);
}
REGISTER_TEST(virtq_packed_rejects_chain_lengths_that_overflow, fast, test_overflow)

static int
setup_readable_after_writable(struct vq_env *e)
{
	uint16_t head = vq_env_packed_put(e, vq_env_ga(e, 0), 16, 0, W | N, true);

	vq_env_packed_put(e, vq_env_ga(e, 16), 16, 0, 0, false);
	vq_env_packed_expose(e, head, W | N, 1);
	return 0;
}

static int
test_r_after_w(void)
{
	return run_hostile(setup_readable_after_writable, 0, -EINVAL, 0);
}
REGISTER_TEST(virtq_packed_rejects_readable_element_after_writable, fast, test_r_after_w)

static int
setup_indirect_no_feature(struct vq_env *e)
{
	struct vq_pdesc t[1] = {{vq_env_ga(e, 0), 16, 0, W}};

	vq_env_packed_put(e, vq_env_put_table(e, 4096, t, sizeof(t)), sizeof(t), 0, I, false);
	return 0;
}

static int
test_indirect_no_feature(void)
{
	return run_hostile(setup_indirect_no_feature, 0, -EINVAL, 0);
}
REGISTER_TEST(virtq_packed_rejects_indirect_without_the_feature, fast, test_indirect_no_feature)

static int
setup_indirect_in_indirect(struct vq_env *e)
{
	struct vq_pdesc inner[1] = {{vq_env_ga(e, 0), 16, 0, W}};
	struct vq_pdesc outer[2] = {
		{vq_env_ga(e, 64), 16, 0, W},
		{vq_env_put_table(e, 8192, inner, sizeof(inner)), sizeof(inner), 0, I},
	};

	vq_env_packed_put(e, vq_env_put_table(e, 4096, outer, sizeof(outer)), sizeof(outer), 0, I,
			  false);
	return 0;
}

static int
test_indirect_in_indirect(void)
{
	return run_hostile(setup_indirect_in_indirect, IND, -EINVAL, 0);
}
REGISTER_TEST(virtq_packed_rejects_indirect_inside_indirect, fast, test_indirect_in_indirect)

static int
setup_indirect_len_odd(struct vq_env *e)
{
	struct vq_pdesc t[2] = {{vq_env_ga(e, 0), 16, 0, W}, {vq_env_ga(e, 16), 16, 0, W}};

	vq_env_packed_put(e, vq_env_put_table(e, 4096, t, sizeof(t)), 20, 0, I, false);
	return 0;
}

static int
test_indirect_len_odd(void)
{
	return run_hostile(setup_indirect_len_odd, IND, -EINVAL, 0);
}
REGISTER_TEST(virtq_packed_rejects_indirect_length_not_multiple_of_16, fast, test_indirect_len_odd)

static int
setup_indirect_len_zero(struct vq_env *e)
{
	put_good(e);
	vq_env_packed_put(e, vq_env_ga(e, 4096), 0, 1, I, false);
	return 0;
}

static int
test_indirect_len_zero(void)
{
	return run_hostile(setup_indirect_len_zero, IND, -EINVAL, 1);
}
REGISTER_TEST(virtq_packed_rejects_indirect_length_zero, fast, test_indirect_len_zero)

static int
setup_indirect_in_chain(struct vq_env *e)
{
	struct vq_pdesc t[1] = {{vq_env_ga(e, 0), 16, 0, W}};
	uint16_t head = vq_env_packed_put(e, vq_env_ga(e, 64), 16, 0, N, true);

	/* 2.8.8: no indirect descriptor in a list linked by NEXT. */
	vq_env_packed_put(e, vq_env_put_table(e, 4096, t, sizeof(t)), sizeof(t), 0, I, false);
	vq_env_packed_expose(e, head, N, 1);
	return 0;
}

static int
test_indirect_in_chain(void)
{
	return run_hostile(setup_indirect_in_chain, IND, -EINVAL, 0);
}
REGISTER_TEST(virtq_packed_rejects_indirect_descriptor_inside_a_chain, fast, test_indirect_in_chain)

static int
setup_indirect_with_next(struct vq_env *e)
{
	struct vq_pdesc t[1] = {{vq_env_ga(e, 0), 16, 0, W}};
	uint16_t head = vq_env_packed_put(e, vq_env_put_table(e, 4096, t, sizeof(t)), sizeof(t), 0,
					  I | N, true);

	vq_env_packed_put(e, vq_env_ga(e, 64), 16, 0, W, false);
	vq_env_packed_expose(e, head, I | N, 1);
	return 0;
}

static int
test_indirect_with_next(void)
{
	return run_hostile(setup_indirect_with_next, IND, -EINVAL, 0);
}
REGISTER_TEST(virtq_packed_rejects_indirect_with_next_flag, fast, test_indirect_with_next)

static int
setup_indirect_outside(struct vq_env *e)
{
	put_good(e);
	/* Table of 4 entries whose last two lie past guest memory. */
	memset(vq_env_hp(e, 65536 - 32), 0, 32);
	vq_env_packed_put(e, vq_env_ga(e, 65536 - 32), 64, 1, I, false);
	return 0;
}

static int
test_indirect_outside(void)
{
	return run_hostile(setup_indirect_outside, IND, -EFAULT, 1);
}
REGISTER_TEST(virtq_packed_rejects_indirect_table_outside_guest_memory, fast, test_indirect_outside)

static int
setup_indirect_too_long(struct vq_env *e)
{
	const uint32_t n = VQ_INDIRECT_MAX + 1;

	for (uint32_t i = 0; i < n; i++) {
		struct vq_pdesc *d = (struct vq_pdesc *)vq_env_hp(e, 16384) + i;

		d->addr = vq_env_ga(e, 0);
		d->len = 1;
		d->flags = W;
	}
	vq_env_packed_put(e, vq_env_ga(e, 16384), n * 16, 0, I, false);
	return 0;
}

static int
test_indirect_too_long(void)
{
	return run_hostile(setup_indirect_too_long, IND, -E2BIG, 0);
}
REGISTER_TEST(virtq_packed_rejects_indirect_table_longer_than_limit, fast, test_indirect_too_long)
