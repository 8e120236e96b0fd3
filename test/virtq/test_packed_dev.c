/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq, packed ring, device side, on rings written by hand: what it
 * takes, the used descriptors it writes, event suppression, position state.
 */
#include <errno.h>

#include "test.h"
#include "vq_harness.h"

#define F(bit) VQ_FEATURE(bit)
#define PK     VQ_FEATURE(VQ_F_RING_PACKED)
#define W      VQ_DESC_F_WRITE
#define N      VQ_DESC_F_NEXT

static struct vq_pdesc *
pdesc(struct vq_env *e, uint16_t slot)
{
	return (struct vq_pdesc *)(e->ring.mem + e->layout.desc_off) + slot;
}

static struct vq_pevent *
driver_event(struct vq_env *e)
{
	return (struct vq_pevent *)(e->ring.mem + e->layout.driver_off);
}

static struct vq_pevent *
device_event(struct vq_env *e)
{
	return (struct vq_pevent *)(e->ring.mem + e->layout.device_off);
}

/* Whether slot @p s holds a used descriptor for wrap counter @p wrap. */
static bool
is_used(struct vq_env *e, uint16_t s, int wrap)
{
	uint16_t f = pdesc(e, s)->flags & (VQ_DESC_F_AVAIL | VQ_DESC_F_USED);

	return f == (wrap ? (VQ_DESC_F_AVAIL | VQ_DESC_F_USED) : 0);
}

static int
test_take(void)
{
	struct vq_env e;
	struct vq_burst b;
	struct vq_pdesc t[2] = {{VQ_ENV_BUF_GA + 1000, 10, 0, 0}, {VQ_ENV_BUF_GA + 2000, 20, 0, W}};
	uint16_t s0, s1;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 5, PK | F(VQ_F_INDIRECT_DESC), 8192), "env");
	vq_env_packed_put(&e, vq_env_ga(&e, 0), 100, 7, 0, false);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 0, "id 7 >= size 5 is refused");
	TEST_ASSERT_EQUAL(vq_dev_error(&e.dev), -ERANGE, "bad buffer id");
	vq_env_free(&e);

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 5, PK | F(VQ_F_INDIRECT_DESC), 8192), "env");
	vq_env_packed_put(&e, vq_env_ga(&e, 0), 100, 4, 0, false);
	/* A chain of two (head exposed last), id in the last descriptor. */
	s0 = vq_env_packed_put(&e, vq_env_ga(&e, 128), 12, 0, N, true);
	vq_env_packed_put(&e, vq_env_ga(&e, 256), 300, 2, W, false);
	vq_env_packed_expose(&e, s0, N, 1);
	/* An indirect buffer, wrapping the ring: slots 3, then 4. */
	vq_env_packed_put(&e, vq_env_ga(&e, 512), 64, 1, W, false);
	s1 = vq_env_packed_put(&e, vq_env_put_table(&e, 4096, t, sizeof(t)), sizeof(t), 3,
			       VQ_DESC_F_INDIRECT, false);
	TEST_ASSERT_EQUAL(s1, 4, "last slot");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 4, "four buffers");
	TEST_ASSERT(b.chain[0].id == 4 && b.chain[0].ndesc == 1 && b.chain[0].rlen == 100, "0");
	TEST_ASSERT(b.chain[1].id == 2 && b.chain[1].ndesc == 2 && b.chain[1].nseg == 2 &&
			    b.chain[1].nread == 1 && b.chain[1].wlen == 300,
		    "chain: id from its last descriptor, two slots");
	TEST_ASSERT(b.chain[1].seg[1].addr == vq_env_hp(&e, 256), "translated");
	TEST_ASSERT(b.chain[2].id == 1 && b.chain[2].wlen == 64, "writable single");
	TEST_ASSERT(b.chain[3].id == 3 && b.chain[3].ndesc == 1 && b.chain[3].nseg == 2 &&
			    b.chain[3].rlen == 10 && b.chain[3].wlen == 20,
		    "indirect: one slot, table elements");
	TEST_ASSERT(b.chain[3].seg[0].addr == vq_env_hp(&e, 1000), "table element");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 0, "ring wrapped, nothing new");
	TEST_ASSERT(e.dev.last_avail == 0 && e.dev.avail_wrap == 0, "position wrapped");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_packed_device_takes_single_chained_and_indirect_buffers, fast, test_take)

static int
test_return(void)
{
	struct vq_env e;
	struct vq_burst b;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 4, PK, 8192), "env");
	for (int lap = 0; lap < 3; lap++) {
		uint16_t s;

		vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, 3, W, false);
		s = vq_env_packed_put(&e, vq_env_ga(&e, 64), 8, 0, N, true);
		vq_env_packed_put(&e, vq_env_ga(&e, 128), 64, 1, W, false);
		vq_env_packed_expose(&e, s, N, e.avail_slot == 0 ? !e.avail_wrap : e.avail_wrap);
		vq_env_packed_put(&e, vq_env_ga(&e, 256), 64, 2, W, false);
		TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 3, "three buffers");
		b.chain[0].used_len = 10;
		b.chain[1].used_len = 0;
		b.chain[2].used_len = 30;
		vq_dev_return(&e.dev, &b);
		/* Used descriptors at slots 0, 1 (the chain's first) and 3. */
		TEST_ASSERT(is_used(&e, 0, !(lap & 1)) && pdesc(&e, 0)->id == 3 &&
				    pdesc(&e, 0)->len == 10 && (pdesc(&e, 0)->flags & W),
			    "lap %d slot 0", lap);
		TEST_ASSERT(is_used(&e, 1, !(lap & 1)) && pdesc(&e, 1)->id == 1 &&
				    !(pdesc(&e, 1)->flags & W),
			    "lap %d slot 1: nothing written, no WRITE flag", lap);
		TEST_ASSERT(!is_used(&e, 2, !(lap & 1)), "lap %d slot 2 skipped (chain)", lap);
		TEST_ASSERT(is_used(&e, 3, !(lap & 1)) && pdesc(&e, 3)->id == 2 &&
				    pdesc(&e, 3)->len == 30,
			    "lap %d slot 3", lap);
	}
	vq_env_free(&e);

	/* In order: one used descriptor for a run of read-only buffers. */
	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 4, PK | F(VQ_F_IN_ORDER), 8192), "env");
	for (uint16_t i = 0; i < 3; i++)
		vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, i, 0, false);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 3, "three");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT(is_used(&e, 0, 1) && pdesc(&e, 0)->id == 2, "one used: id of the batch's last");
	TEST_ASSERT(!is_used(&e, 1, 1) && !is_used(&e, 2, 1), "the rest skipped (2.8.9)");
	TEST_ASSERT(e.dev.used_idx == 3, "used position past the batch");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_packed_device_writes_used_descriptors_and_skips_chains, fast, test_return)

static int
test_call(void)
{
	struct vq_env e;
	struct vq_burst b;
	int expect[6];

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 4, PK | F(VQ_F_EVENT_IDX), 8192), "env");
	/* Round r returns 2 buffers: used positions 0-1, 2-3, 0-1 (wrap 0)... */
	for (int r = 0; r < 6; r++) {
		for (int i = 0; i < 2; i++)
			vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, (uint16_t)i, 0, false);
		switch (r) {
		case 0:
			driver_event(&e)->flags = VQ_EVENT_F_DISABLE;
			expect[r] = 0;
			break;
		case 1:
			driver_event(&e)->flags = VQ_EVENT_F_ENABLE;
			expect[r] = 1;
			break;
		case 2:
			/* Event at slot 1, wrap 0: written in this round (slots 0-1, wrap 0). */
			driver_event(&e)->off_wrap = 1;
			driver_event(&e)->flags = VQ_EVENT_F_DESC;
			expect[r] = 1;
			break;
		case 3:
			/* Same event: this round writes slots 2-3, wrap 0: no. */
			expect[r] = 0;
			break;
		case 4:
			/* Event at slot 0 wrap 1: this round writes 0-1 wrap 1. */
			driver_event(&e)->off_wrap = VQ_EVENT_WRAP | 0;
			expect[r] = 1;
			break;
		default:
			/* Slot 0 wrap 0 is a lap away. */
			driver_event(&e)->off_wrap = 0;
			expect[r] = 0;
			break;
		}
		TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "take");
		vq_dev_return(&e.dev, &b);
		TEST_ASSERT_EQUAL(vq_dev_call_needed(&e.dev), expect[r], "round %d", r);
	}
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_packed_device_call_follows_driver_event_suppression, fast, test_call)

/*
 * As the split test: the device died after publishing slots 0-1 of a
 * 4-entry ring without notifying; the driver's event offset still names
 * slot 0 of that lap. The new device resumes at slot 2 and its first
 * decision notifies.
 */
static int
test_call_after_restart(void)
{
	const struct vq_dev_state resume = {
		.last_avail = 2, .used_idx = 2, .avail_wrap = 1, .used_wrap = 1};
	struct vq_env e;
	struct vq_burst b;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 4, PK | F(VQ_F_EVENT_IDX), 8192), "env");
	driver_event(&e)->off_wrap = VQ_EVENT_WRAP | 0;
	driver_event(&e)->flags = VQ_EVENT_F_DESC;
	for (int i = 0; i < 4; i++)
		vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, (uint16_t)i, 0, false);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	/* The dead device's decision is lost; a new one resumes at slot 2. */
	TEST_ASSERT_SUCCESS(vq_env_restart(&e, &resume), "new device at slot 2");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	/* Slot 0 wrap 1 lies behind 2..4: vq_packed_need_event() says no. */
	TEST_ASSERT(vq_dev_call_needed(&e.dev), "the first decision after a restart notifies");
	for (int i = 0; i < 2; i++)
		vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, (uint16_t)i, 0, false);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT(!vq_dev_call_needed(&e.dev), "later ones follow the event offset");
	vq_env_free(&e);

	/* With calls disabled, a restart notifies nobody. */
	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 4, PK | F(VQ_F_EVENT_IDX), 8192), "env");
	driver_event(&e)->flags = VQ_EVENT_F_DISABLE;
	for (int i = 0; i < 4; i++)
		vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, (uint16_t)i, 0, false);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_SUCCESS(vq_env_restart(&e, &resume), "new device at slot 2");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT(!vq_dev_call_needed(&e.dev), "DISABLE is obeyed after a restart");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_packed_device_first_call_after_restart_notifies, fast, test_call_after_restart)

static int
test_kick(void)
{
	struct vq_env e;
	struct vq_burst b;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 4, PK | F(VQ_F_EVENT_IDX), 8192), "env");
	vq_dev_kick_disable(&e.dev);
	TEST_ASSERT_EQUAL(device_event(&e)->flags, VQ_EVENT_F_DISABLE, "disabled");
	for (int i = 0; i < 4; i++)
		vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, (uint16_t)i, 0, false);
	TEST_ASSERT(vq_dev_kick_enable(&e.dev), "buffers pending");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 4, "ring full: four");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT(!vq_dev_kick_enable(&e.dev), "nothing pending after the wrap");
	TEST_ASSERT_EQUAL(device_event(&e)->flags, VQ_EVENT_F_DESC, "event at a descriptor");
	TEST_ASSERT_EQUAL(device_event(&e)->off_wrap, 0, "slot 0, wrap 0: the next one");
	vq_env_free(&e);

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 4, PK, 8192), "env");
	vq_dev_kick_disable(&e.dev);
	TEST_ASSERT_EQUAL(device_event(&e)->flags, VQ_EVENT_F_DISABLE, "disabled");
	TEST_ASSERT(!vq_dev_kick_enable(&e.dev), "nothing pending");
	TEST_ASSERT_EQUAL(device_event(&e)->flags, VQ_EVENT_F_ENABLE, "enabled without EVENT_IDX");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_packed_device_kick_suppression_writes_device_event, fast, test_kick)

static int
test_take_rx(void)
{
	struct vq_env e;
	struct vq_burst b;
	uint32_t len[2] = {700, 200};

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 3, PK | F(VQ_NET_F_MRG_RXBUF), 8192), "env");
	for (uint16_t i = 0; i < 3; i++)
		vq_env_packed_put(&e, vq_env_ga(&e, i * 256u), 256, i, W, false);
	TEST_ASSERT_EQUAL(vq_dev_take_rx(&e.dev, &b, len, 2), 1, "700 bytes take all three");
	TEST_ASSERT(b.pkt[0].nbufs == 3 && b.chain[2].used_len == 188, "filled in order");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(vq_dev_take_rx(&e.dev, &b, &len[1], 1), 0, "no buffer left");
	TEST_ASSERT(e.dev.last_avail == 0 && e.dev.avail_wrap == 0, "position kept after undo");
	vq_env_packed_put(&e, vq_env_ga(&e, 0), 256, 0, W, false);
	TEST_ASSERT_EQUAL(vq_dev_take_rx(&e.dev, &b, &len[1], 1), 1, "fits in the new one");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_packed_device_places_packets_across_mergeable_buffers, fast, test_take_rx)

static int
test_state(void)
{
	struct vq_env e;
	struct vq_burst b;
	struct vq_dev_state st;
	struct vq_dev_config cfg;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 3, PK, 8192), "env");
	for (uint16_t i = 0; i < 5; i++) {
		vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, i % 3, 0, false);
		TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 1, "take");
		vq_dev_return(&e.dev, &b);
	}
	vq_dev_get_state(&e.dev, &st);
	TEST_ASSERT(st.last_avail == 2 && st.avail_wrap == 0 && st.used_idx == 2 &&
			    st.used_wrap == 0,
		    "slot 2 of the second lap");
	cfg = (struct vq_dev_config){.size = 3,
				     .features = PK,
				     .desc = e.ring.mem + e.layout.desc_off,
				     .driver_area = e.ring.mem + e.layout.driver_off,
				     .device_area = e.ring.mem + e.layout.device_off,
				     .map = &e.map};
	vq_dev_state_from_vring_base(vq_dev_state_to_vring_base(&st, true), true, &cfg.state);
	TEST_ASSERT_SUCCESS(vq_dev_init(&e.dev, &cfg), "restart at that position");
	vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, 1, 0, false);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 1, "continues there");
	TEST_ASSERT_EQUAL(b.chain[0].id, 1, "the new buffer");
	cfg.state.last_avail = 3;
	TEST_ASSERT_EQUAL(vq_dev_init(&e.dev, &cfg), -EINVAL, "slot out of range");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_packed_device_restarts_from_position_with_wrap_counters, fast, test_state)

static int
test_untake(void)
{
	struct vq_env e;
	struct vq_burst b;
	uint16_t s;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 4, PK, 8192), "env");
	/* Consume slots 0 and 1 of lap 1. */
	vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, 0, 0, false);
	vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, 1, 0, false);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "two");
	vq_dev_return(&e.dev, &b);
	/* Slot 2; a chain over slots 3 and 0 (across the wrap); slot 1. */
	vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, 2, 0, false);
	s = vq_env_packed_put(&e, vq_env_ga(&e, 64), 8, 0, N, true);
	vq_env_packed_put(&e, vq_env_ga(&e, 128), 64, 3, 0, false);
	vq_env_packed_expose(&e, s, N, 1);
	vq_env_packed_put(&e, vq_env_ga(&e, 256), 64, 0, 0, false);
	TEST_ASSERT_EQUAL(vq_dev_avail_hint(&e.dev, 32), 4, "four descriptors ahead");
	TEST_ASSERT_EQUAL(vq_dev_avail_hint(&e.dev, 2), 2, "capped");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 3, "three buffers");
	TEST_ASSERT(e.dev.last_avail == 2 && e.dev.avail_wrap == 0, "now in lap 2");
	vq_dev_untake(&e.dev, &b, 0);
	TEST_ASSERT(e.dev.last_avail == 2 && e.dev.avail_wrap == 1, "back to slot 2 of lap 1");
	TEST_ASSERT_EQUAL(b.nchain, 0, "burst emptied");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 3, "taken again");
	vq_dev_untake(&e.dev, &b, 1);
	TEST_ASSERT(e.dev.last_avail == 3 && e.dev.avail_wrap == 1 && b.nchain == 1,
		    "the chain and the last single given back");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "found again");
	TEST_ASSERT(b.chain[0].id == 3 && b.chain[0].ndesc == 2 && b.chain[1].id == 0,
		    "whole chain, then the single");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_packed_device_untake_gives_buffers_back_across_wrap, fast, test_untake)

/*
 * The batched fast path (four one-descriptor buffers at a slot that is a
 * multiple of 4) leaves every case it does not fully qualify to the
 * one-by-one path: a descriptor of the four not yet available, one with a
 * bad id, one writable in a receive take that must be writable.
 */
static int
test_batch_falls_back(void)
{
	struct vq_env e;
	struct vq_burst b;
	uint32_t len[4] = {60, 60, 60, 60};
	uint16_t s2;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, PK, 8192), "env");
	vq_env_packed_put(&e, vq_env_ga(&e, 0), 100, 0, 0, false);
	vq_env_packed_put(&e, vq_env_ga(&e, 256), 100, 1, 0, false);
	s2 = vq_env_packed_put(&e, vq_env_ga(&e, 512), 100, 2, 0, true); /* not yet exposed */
	vq_env_packed_put(&e, vq_env_ga(&e, 768), 100, 3, 0, false);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "the two before the gap");
	TEST_ASSERT(b.chain[0].id == 0 && b.chain[1].id == 1, "in ring order");
	vq_dev_return(&e.dev, &b);
	vq_env_packed_expose(&e, s2, 0, 1);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "the rest");
	TEST_ASSERT(b.chain[0].id == 2 && b.chain[1].id == 3 &&
			    b.chain[1].seg[0].addr == vq_env_hp(&e, 768),
		    "ids and translation");
	vq_dev_return(&e.dev, &b);
	/* Slots 4-7: the fourth with an id past the queue: three taken, then broken. */
	for (uint16_t i = 0; i < 4; i++)
		vq_env_packed_put(&e, vq_env_ga(&e, 1024 + 256u * i), 100, i == 3 ? 8 : i, 0,
				  false);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 3, "three good ones");
	TEST_ASSERT_EQUAL(vq_dev_error(&e.dev), -ERANGE, "id 8 >= size 8 refused");
	vq_env_free(&e);

	/* Receive: four buffers, the third device-readable: two placed, then no
	 * more (a readable buffer cannot take a packet; 2.8.6 makes it invalid). */
	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, PK, 8192), "env");
	for (uint16_t i = 0; i < 4; i++)
		vq_env_packed_put(&e, vq_env_ga(&e, 256u * i), 100, i, i == 2 ? 0 : W, false);
	TEST_ASSERT(vq_dev_take_rx(&e.dev, &b, len, 4) == 2 && b.npkt == 2, "two placed");
	TEST_ASSERT(b.pkt[1].seg[0].addr == vq_env_hp(&e, 256) && b.chain[1].used_len == 60,
		    "second placed whole");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_packed_batched_take_falls_back_to_one_by_one, fast, test_batch_falls_back)
