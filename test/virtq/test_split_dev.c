/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq, split ring, device side, on rings written by hand: what it
 * takes, what it returns, notification decisions, and position state.
 */
#include <errno.h>
#include <stdlib.h>

#include "test.h"
#include "vq_harness.h"

#define F(bit) VQ_FEATURE(bit)

static struct vq_used *
used_ring(struct vq_env *e)
{
	return (struct vq_used *)(e->ring.mem + e->layout.device_off);
}

static struct vq_avail *
avail_ring(struct vq_env *e)
{
	return (struct vq_avail *)(e->ring.mem + e->layout.driver_off);
}

static int
test_single_desc(void)
{
	struct vq_env e;
	struct vq_burst b;
	unsigned int n;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, 0, 4096), "env");
	vq_env_split_desc(&e, 3, vq_env_ga(&e, 100), 60, 0, 0);
	vq_env_split_desc(&e, 5, vq_env_ga(&e, 2048), 2048, VQ_DESC_F_WRITE, 0);
	vq_env_split_push(&e, 3);
	vq_env_split_push(&e, 5);
	n = vq_dev_take(&e.dev, &b, 32);
	TEST_ASSERT_EQUAL(n, 2, "two chains");
	TEST_ASSERT_EQUAL(b.chain[0].id, 3, "head");
	TEST_ASSERT_EQUAL(b.chain[0].nseg, 1, "one segment");
	TEST_ASSERT_EQUAL(b.chain[0].nread, 1, "readable");
	TEST_ASSERT_EQUAL(b.chain[0].rlen, 60, "rlen");
	TEST_ASSERT_EQUAL(b.chain[0].wlen, 0, "wlen");
	TEST_ASSERT(b.chain[0].seg[0].addr == vq_env_hp(&e, 100), "translated");
	TEST_ASSERT_EQUAL(b.chain[1].id, 5, "second head");
	TEST_ASSERT_EQUAL(b.chain[1].nread, 0, "writable");
	TEST_ASSERT_EQUAL(b.chain[1].wlen, 2048, "wlen");
	TEST_ASSERT(b.chain[1].seg[0].addr == vq_env_hp(&e, 2048), "translated");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 0, "nothing more");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_takes_single_descriptor_chains, fast, test_single_desc)

static int
test_chained(void)
{
	struct vq_env e;
	struct vq_burst b;
	struct vq_desc t[3] = {
		{VQ_ENV_BUF_GA + 1000, 10, VQ_DESC_F_NEXT, 2},
		{VQ_ENV_BUF_GA + 3000, 30, VQ_DESC_F_WRITE, 0},
		{VQ_ENV_BUF_GA + 2000, 20, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 1},
	};
	const struct vq_chain *c;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, F(VQ_F_INDIRECT_DESC), 8192), "env");
	/* Chain 0 -> 6 -> 2: readable, readable, writable. */
	vq_env_split_desc(&e, 0, vq_env_ga(&e, 0), 12, VQ_DESC_F_NEXT, 6);
	vq_env_split_desc(&e, 6, vq_env_ga(&e, 64), 100, VQ_DESC_F_NEXT, 2);
	vq_env_split_desc(&e, 2, vq_env_ga(&e, 512), 300, VQ_DESC_F_WRITE, 0);
	vq_env_split_push(&e, 0);
	/* Direct then indirect (2.7.5.3.2): 4 -> table of 0 -> 2 -> 1. */
	vq_env_split_desc(&e, 4, vq_env_ga(&e, 128), 8, VQ_DESC_F_NEXT, 7);
	vq_env_split_desc(&e, 7, vq_env_put_table(&e, 4096, t, sizeof(t)), sizeof(t),
			  VQ_DESC_F_INDIRECT, 0);
	vq_env_split_push(&e, 4);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "two chains");
	c = &b.chain[0];
	TEST_ASSERT(c->id == 0 && c->nseg == 3 && c->nread == 2, "chain 0 shape");
	TEST_ASSERT(c->rlen == 112 && c->wlen == 300, "chain 0 lengths");
	TEST_ASSERT(c->seg[0].addr == vq_env_hp(&e, 0) && c->seg[1].addr == vq_env_hp(&e, 64) &&
			    c->seg[2].addr == vq_env_hp(&e, 512),
		    "chain 0 segments in order");
	c = &b.chain[1];
	TEST_ASSERT(c->id == 4 && c->nseg == 4 && c->nread == 2, "chain 1 shape");
	TEST_ASSERT(c->rlen == 18 && c->wlen == 50, "chain 1 lengths");
	TEST_ASSERT(c->seg[1].addr == vq_env_hp(&e, 1000) &&
			    c->seg[2].addr == vq_env_hp(&e, 2000) &&
			    c->seg[3].addr == vq_env_hp(&e, 3000),
		    "indirect segments follow the table's next links");
	TEST_ASSERT_EQUAL(vq_dev_error(&e.dev), 0, "healthy");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_walks_chained_and_indirect_descriptors, fast, test_chained)

static int
test_span_regions(void)
{
	struct vq_env e;
	struct vq_burst b;
	struct vq_guard g2;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 4, 0, 4096), "env");
	TEST_ASSERT_SUCCESS(vq_guard_alloc(&g2, 4096, true), "second region");
	/* A second region right after the buffer region in guest space,
	 * elsewhere in host space. */
	TEST_ASSERT_SUCCESS(vq_memmap_add(&e.map, VQ_ENV_BUF_GA + 4096, 4096, g2.mem), "add");
	vq_env_split_desc(&e, 0, vq_env_ga(&e, 4000), 200, VQ_DESC_F_WRITE, 0);
	vq_env_split_push(&e, 0);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 1, "taken");
	TEST_ASSERT_EQUAL(b.chain[0].nseg, 2, "split in two segments");
	TEST_ASSERT(b.chain[0].seg[0].addr == vq_env_hp(&e, 4000) && b.chain[0].seg[0].len == 96,
		    "first piece up to the region end");
	TEST_ASSERT(b.chain[0].seg[1].addr == g2.mem && b.chain[0].seg[1].len == 104,
		    "rest in the next region");
	TEST_ASSERT_EQUAL(b.chain[0].wlen, 200, "length kept");
	vq_segs_copy_in(b.chain[0].seg, 2, 0, (uint8_t[200]){0}, 200); /* stays inside */
	vq_env_free(&e);
	vq_guard_free(&g2);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_splits_elements_spanning_adjacent_regions, fast, test_span_regions)

static int
test_oversize(void)
{
	struct vq_env e;
	struct vq_burst b;
	const unsigned int n = VQ_BURST_SEGS + 10;
	struct vq_desc *t = calloc(n, sizeof(*t));

	TEST_ASSERT_NOT_NULL(t, "table");
	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, F(VQ_F_INDIRECT_DESC), 65536), "env");
	for (unsigned int i = 0; i < n; i++) {
		t[i].addr = vq_env_ga(&e, i * 8);
		t[i].len = 8;
		t[i].flags = i + 1 < n ? VQ_DESC_F_NEXT : 0;
		t[i].next = (uint16_t)(i + 1);
	}
	vq_env_split_desc(&e, 1, vq_env_ga(&e, 0), 64, 0, 0);
	vq_env_split_push(&e, 1);
	vq_env_split_desc(&e, 2, vq_env_put_table(&e, 32768, t, n * sizeof(*t)), n * sizeof(*t),
			  VQ_DESC_F_INDIRECT, 0);
	vq_env_split_push(&e, 2);
	vq_env_split_desc(&e, 3, vq_env_ga(&e, 64), 64, 0, 0);
	vq_env_split_push(&e, 3);
	/* The long chain does not fit after chain 1: it waits for an empty burst. */
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 1, "stops before the long chain");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "long chain and the next one");
	TEST_ASSERT(b.chain[0].flags & VQ_CHAIN_F_OVERSIZE, "flagged oversize");
	TEST_ASSERT_EQUAL(b.chain[0].nseg, 0, "no segments");
	TEST_ASSERT_EQUAL(b.chain[0].id, 2, "its head, to return it");
	TEST_ASSERT_EQUAL(b.chain[1].id, 3, "queue goes on");
	TEST_ASSERT_EQUAL(vq_dev_error(&e.dev), 0,
			  "not broken: it is valid, only too long to carry");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(used_ring(&e)->idx, 3, "all three returned");
	vq_env_free(&e);
	free(t);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_flags_chains_longer_than_a_burst, fast, test_oversize)

static int
test_return(void)
{
	struct vq_env e;
	struct vq_burst b;
	struct vq_used *u;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 4, 0, 4096), "env");
	u = used_ring(&e);
	for (uint16_t round = 0; round < 3; round++) {
		for (uint16_t i = 0; i < 3; i++) {
			vq_env_split_desc(&e, i, vq_env_ga(&e, i * 256), 256, VQ_DESC_F_WRITE, 0);
			vq_env_split_push(&e, i);
		}
		TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "max respected");
		b.chain[0].used_len = 11;
		b.chain[1].used_len = 22;
		vq_dev_return(&e.dev, &b);
		TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 1, "the third");
		b.chain[0].used_len = 33;
		vq_dev_return(&e.dev, &b);
		TEST_ASSERT_EQUAL(u->idx, (uint16_t)(3 * (round + 1)), "used idx");
		for (uint16_t i = 0; i < 3; i++) {
			const struct vq_used_elem *x = &u->ring[(3 * round + i) & 3];

			TEST_ASSERT(x->id == i && x->len == 11u * (i + 1), "entry %u", i);
		}
	}
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_returns_used_entries_in_order_taken, fast, test_return)

static int
test_return_in_order(void)
{
	struct vq_env e;
	struct vq_burst b;
	struct vq_used *u;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, F(VQ_F_IN_ORDER), 4096), "env");
	u = used_ring(&e);
	memset(u->ring, 0xee, 8 * sizeof(u->ring[0]));
	for (uint16_t i = 0; i < 4; i++) {
		vq_env_split_desc(&e, i, vq_env_ga(&e, i * 256), 256, 0, 0);
		vq_env_split_push(&e, i);
	}
	vq_env_split_desc(&e, 4, vq_env_ga(&e, 1024), 256, VQ_DESC_F_WRITE, 0);
	vq_env_split_push(&e, 4);
	vq_env_split_desc(&e, 5, vq_env_ga(&e, 2048), 256, 0, 0);
	vq_env_split_push(&e, 5);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 6, "six");
	b.chain[4].used_len = 100;
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(u->idx, 6, "idx moves by all six (2.7.9)");
	/* Chains 0-4 end in chain 4 (it wrote something), written at slot 0;
	 * chain 5, the last, gets its own entry at slot 5. */
	TEST_ASSERT(u->ring[0].id == 4 && u->ring[0].len == 100, "batch entry at its start");
	TEST_ASSERT(u->ring[5].id == 5 && u->ring[5].len == 0, "last chain's entry");
	TEST_ASSERT(u->ring[1].id == 0xeeeeeeee, "skipped slots untouched");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_in_order_batches_used_entries, fast, test_return_in_order)

static int
test_return_held(void)
{
	struct vq_env e;
	struct vq_burst b;
	struct vq_used *u;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, 0, 4096), "env");
	u = used_ring(&e);
	for (uint16_t i = 0; i < 5; i++) {
		vq_env_split_desc(&e, i, vq_env_ga(&e, i * 256), 256, 0, 0);
		vq_env_split_push(&e, i);
	}
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take two");
	vq_split_dev_return_held(&e.dev, &b);
	TEST_ASSERT_EQUAL(u->idx, 0, "held: the driver sees nothing");
	TEST_ASSERT(u->ring[0].id == 0 && u->ring[1].id == 1, "entries written");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take two more");
	vq_split_dev_return_held(&e.dev, &b);
	TEST_ASSERT_EQUAL(u->idx, 0, "still nothing");
	vq_split_dev_publish(&e.dev);
	TEST_ASSERT_EQUAL(u->idx, 4, "one store publishes both bursts");
	TEST_ASSERT(u->ring[2].id == 2 && u->ring[3].id == 3, "in order");
	TEST_ASSERT(vq_dev_call_needed(&e.dev), "one call for both");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 8), 1, "the last chain");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(u->idx, 5, "an ordinary return after a publication");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_holds_returns_until_published, fast, test_return_held)

static int
test_call_flags(void)
{
	struct vq_env e;
	struct vq_burst b;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, 0, 4096), "env");
	TEST_ASSERT(!vq_dev_call_needed(&e.dev), "nothing returned: no call");
	for (int i = 0; i < 4; i++) {
		vq_env_split_desc(&e, (uint16_t)i, vq_env_ga(&e, 0), 16, 0, 0);
		vq_env_split_push(&e, (uint16_t)i);
	}
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT(vq_dev_call_needed(&e.dev), "flags 0: call (2.7.7.2)");
	TEST_ASSERT(!vq_dev_call_needed(&e.dev), "decided already");
	avail_ring(&e)->flags = VQ_AVAIL_F_NO_INTERRUPT;
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT(!vq_dev_call_needed(&e.dev), "NO_INTERRUPT: no call");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_call_follows_no_interrupt_flag, fast, test_call_flags)

static int
test_call_event_idx(void)
{
	struct vq_env e;
	struct vq_burst b;
	uint16_t *used_event;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, F(VQ_F_EVENT_IDX), 4096), "env");
	used_event = &avail_ring(&e)->ring[8];
	avail_ring(&e)->flags = VQ_AVAIL_F_NO_INTERRUPT; /* ignored with EVENT_IDX */
	*used_event = 4; /* call when the entry at used index 4 is written */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 2; i++) {
			vq_env_split_desc(&e, (uint16_t)i, vq_env_ga(&e, 0), 16, 0, 0);
			vq_env_split_push(&e, (uint16_t)i);
		}
		TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "take");
		vq_dev_return(&e.dev, &b);
		/* Used idx 0->2: the first decision of a ring always calls (see
		 * virtq_split_device_first_call_after_restart_notifies); 2->4
		 * does not cover entry 4, 4->6 does. */
		TEST_ASSERT_EQUAL(vq_dev_call_needed(&e.dev), round != 1, "round %d", round);
	}
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_call_follows_used_event, fast, test_call_event_idx)

/*
 * A device that died between publishing used entries and notifying left
 * the driver's used_event behind the index the next device resumes from.
 * The first decision of the new device notifies anyway; the ones after it
 * follow used_event again.
 */
static int
test_call_after_restart(void)
{
	const struct vq_dev_state resume = {.last_avail = 4, .used_idx = 4};
	struct vq_env e;
	struct vq_burst b;
	uint16_t *used_event;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, F(VQ_F_EVENT_IDX), 4096), "env");
	used_event = &avail_ring(&e)->ring[8];
	for (uint16_t i = 0; i < 8; i++) {
		vq_env_split_desc(&e, i, vq_env_ga(&e, 0), 16, 0, 0);
		vq_env_split_push(&e, i);
	}
	*used_event = 0;
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT(vq_dev_call_needed(&e.dev), "first decision of a fresh ring");
	/* The driver asks for the entry at index 2; the device publishes 2 and
	 * 3 and dies before its call decision. */
	*used_event = 2;
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(used_ring(&e)->idx, 4, "published up to 4");
	TEST_ASSERT_SUCCESS(vq_env_restart(&e, &resume), "new device at 4");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	/* used_event 2 lies behind 4..6: vring_need_event() says no, and the
	 * driver would wait for the index to wrap. */
	TEST_ASSERT(vq_dev_call_needed(&e.dev), "the first decision after a restart notifies");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT(!vq_dev_call_needed(&e.dev), "later ones follow used_event (2.7.10)");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_first_call_after_restart_notifies, fast, test_call_after_restart)

/* Without EVENT_IDX the flags alone decide, restart or not. */
static int
test_call_after_restart_flags(void)
{
	const struct vq_dev_state resume = {.last_avail = 2, .used_idx = 2};
	struct vq_env e;
	struct vq_burst b;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, 0, 4096), "env");
	for (uint16_t i = 0; i < 4; i++) {
		vq_env_split_desc(&e, i, vq_env_ga(&e, 0), 16, 0, 0);
		vq_env_split_push(&e, i);
	}
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_SUCCESS(vq_env_restart(&e, &resume), "new device at 2");
	avail_ring(&e)->flags = VQ_AVAIL_F_NO_INTERRUPT;
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 2), 2, "take");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT(!vq_dev_call_needed(&e.dev), "NO_INTERRUPT is obeyed after a restart");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_restart_keeps_no_interrupt, fast, test_call_after_restart_flags)

static int
test_kick(void)
{
	struct vq_env e;
	struct vq_burst b;
	struct vq_used *u;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, 0, 4096), "env");
	u = used_ring(&e);
	vq_dev_kick_disable(&e.dev);
	TEST_ASSERT_EQUAL(u->flags, VQ_USED_F_NO_NOTIFY, "disabled through flags");
	TEST_ASSERT(!vq_dev_kick_enable(&e.dev), "nothing pending");
	TEST_ASSERT_EQUAL(u->flags, 0, "enabled");
	vq_env_split_desc(&e, 0, vq_env_ga(&e, 0), 16, 0, 0);
	vq_env_split_push(&e, 0);
	TEST_ASSERT(vq_dev_kick_enable(&e.dev), "a buffer is pending");
	vq_env_free(&e);

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, F(VQ_F_EVENT_IDX), 4096), "env");
	u = used_ring(&e);
	vq_env_split_desc(&e, 0, vq_env_ga(&e, 0), 16, 0, 0);
	vq_env_split_push(&e, 0);
	vq_env_split_push(&e, 0);
	vq_env_split_push(&e, 0);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 3, "take");
	vq_dev_return(&e.dev, &b);
	vq_dev_kick_disable(&e.dev);
	TEST_ASSERT_EQUAL(u->flags, 0, "EVENT_IDX: flags stay 0 (2.7.10)");
	TEST_ASSERT(!vq_dev_kick_enable(&e.dev), "nothing pending");
	TEST_ASSERT_EQUAL(vq_ld16(&u->ring[8]), 3, "avail_event = next entry to consume");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_kick_suppression_flags_and_avail_event, fast, test_kick)

static int
test_take_rx(void)
{
	struct vq_env e;
	struct vq_burst b;
	uint32_t len[3] = {1000, 3000, 100};
	unsigned int n;

	/* Mergeable: 1024-byte buffers; 3000 bytes take three of them. */
	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, F(VQ_NET_F_MRG_RXBUF), 8192), "env");
	for (uint16_t i = 0; i < 6; i++)
		vq_env_split_desc(&e, i, vq_env_ga(&e, i * 1024u), 1024, VQ_DESC_F_WRITE, 0);
	for (uint16_t i = 0; i < 4; i++)
		vq_env_split_push(&e, i);
	n = vq_dev_take_rx(&e.dev, &b, len, 3);
	TEST_ASSERT_EQUAL(n, 2, "third packet finds no buffer left");
	TEST_ASSERT(b.pkt[0].nbufs == 1 && b.pkt[0].nseg == 1 && b.pkt[0].len == 1000, "pkt 0");
	TEST_ASSERT(b.pkt[1].nbufs == 3 && b.pkt[1].nseg == 3 && b.pkt[1].chain == 1, "pkt 1");
	TEST_ASSERT(b.chain[1].used_len == 1024 && b.chain[2].used_len == 1024 &&
			    b.chain[3].used_len == 952,
		    "chains filled in order");
	TEST_ASSERT_EQUAL(b.nchain, 4, "chains of placed packets only");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(vq_dev_take_rx(&e.dev, &b, &len[2], 1), 0, "still no buffer");
	vq_env_split_push(&e, 4);
	vq_env_split_push(&e, 5);
	n = vq_dev_take_rx(&e.dev, &b, &len[2], 1);
	TEST_ASSERT_EQUAL(n, 1, "the 100-byte packet fits now");
	TEST_ASSERT_EQUAL(b.chain[0].id, 4, "in the next buffer");
	vq_env_free(&e);

	/* Not mergeable: one chain per packet; too small a chain stops. */
	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, 0, 8192), "env");
	vq_env_split_desc(&e, 0, vq_env_ga(&e, 0), 2048, VQ_DESC_F_WRITE, 0);
	vq_env_split_desc(&e, 1, vq_env_ga(&e, 2048), 512, VQ_DESC_F_WRITE, 0);
	vq_env_split_push(&e, 0);
	vq_env_split_push(&e, 1);
	n = vq_dev_take_rx(&e.dev, &b, len, 3);
	TEST_ASSERT_EQUAL(n, 1, "second packet does not fit 512 bytes");
	TEST_ASSERT_EQUAL(b.chain[0].used_len, 1000, "whole packet in one chain");
	vq_dev_return(&e.dev, &b);
	n = vq_dev_take_rx(&e.dev, &b, &len[2], 1);
	TEST_ASSERT_EQUAL(n, 1, "the small chain takes a small packet");
	TEST_ASSERT_EQUAL(b.pkt[0].nbufs, 1, "num_buffers 1");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_places_packets_in_mergeable_and_single_buffers, fast, test_take_rx)

static int
test_state(void)
{
	struct vq_env e;
	struct vq_burst b;
	struct vq_dev_state st;
	struct vq_dev_config cfg;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, 0, 4096), "env");
	for (int i = 0; i < 5; i++) {
		vq_env_split_desc(&e, (uint16_t)i, vq_env_ga(&e, 0), 16, 0, 0);
		vq_env_split_push(&e, (uint16_t)i);
	}
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 3), 3, "take 3");
	vq_dev_return(&e.dev, &b);
	vq_dev_get_state(&e.dev, &st);
	TEST_ASSERT(st.last_avail == 3 && st.used_idx == 3, "position");
	TEST_ASSERT_EQUAL(vq_dev_state_to_vring_base(&st, false), 3, "vring base");
	/* Restart from that base on the same rings: it continues at 3. */
	cfg = (struct vq_dev_config){.size = 8,
				     .desc = e.ring.mem + e.layout.desc_off,
				     .driver_area = e.ring.mem + e.layout.driver_off,
				     .device_area = e.ring.mem + e.layout.device_off,
				     .map = &e.map};
	vq_dev_state_from_vring_base(3, false, &cfg.state);
	TEST_ASSERT_SUCCESS(vq_dev_init(&e.dev, &cfg), "re-init");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "the remaining two");
	TEST_ASSERT_EQUAL(b.chain[0].id, 3, "from entry 3");

	vq_dev_state_from_vring_base(0x80058003u, true, &st);
	TEST_ASSERT(st.last_avail == 3 && st.avail_wrap == 1 && st.used_idx == 5 &&
			    st.used_wrap == 1,
		    "packed: both halves");
	TEST_ASSERT_EQUAL(vq_dev_state_to_vring_base(&st, true), 0x80058003u, "round trip");
	vq_dev_state_from_vring_base(0x0007u, true, &st);
	TEST_ASSERT(st.last_avail == 7 && st.avail_wrap == 0 && st.used_idx == 7 &&
			    st.used_wrap == 0,
		    "packed, avail half only: used = avail");
	cfg.size = 100;
	TEST_ASSERT_EQUAL(vq_dev_init(&e.dev, &cfg), -EINVAL, "split size not a power of 2");
	cfg.size = 8;
	cfg.desc = e.ring.mem + e.layout.desc_off + 8;
	TEST_ASSERT_EQUAL(vq_dev_init(&e.dev, &cfg), -EINVAL, "misaligned descriptor table");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_reports_and_restarts_from_ring_position, fast, test_state)

static int
test_untake(void)
{
	struct vq_env e;
	struct vq_burst b;
	uint32_t len[3] = {700, 700, 700};

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, F(VQ_NET_F_MRG_RXBUF), 8192), "env");
	TEST_ASSERT_EQUAL(vq_dev_avail_hint(&e.dev, 32), 0, "empty");
	for (uint16_t i = 0; i < 6; i++) {
		vq_env_split_desc(&e, i, vq_env_ga(&e, i * 512u), 512, VQ_DESC_F_WRITE, 0);
		vq_env_split_push(&e, i);
	}
	TEST_ASSERT_EQUAL(vq_dev_avail_hint(&e.dev, 32), 6, "six available");
	TEST_ASSERT_EQUAL(vq_dev_avail_hint(&e.dev, 4), 4, "capped");
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 5), 5, "take five");
	vq_dev_untake(&e.dev, &b, 2);
	TEST_ASSERT(b.nchain == 2 && b.nseg == 2, "burst trimmed");
	TEST_ASSERT_EQUAL(vq_dev_avail_hint(&e.dev, 32), 4, "three given back");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(vq_dev_take_rx(&e.dev, &b, len, 3), 2, "two packets of two buffers");
	vq_dev_untake(&e.dev, &b, b.pkt[1].chain);
	TEST_ASSERT(b.npkt == 1 && b.nchain == 2, "second packet given back whole");
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 2, "its chains are available again");
	TEST_ASSERT(b.chain[0].id == 4 && b.chain[1].id == 5, "heads 4 and 5");
	vq_env_free(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_split_device_untake_gives_chains_back, fast, test_untake)
