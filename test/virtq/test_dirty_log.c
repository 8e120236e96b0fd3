/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq: dirty-page logging of the device side (live migration).
 *
 * Our driver posts buffers on rings in local "guest" memory; the device
 * side serves them as the vhost-user port does, with a dirty log whose hook
 * marks 4 KiB pages of guest addresses in a bitmap. Before each device step
 * the test copies guest memory (rings and buffers); after it, every byte
 * that differs from the copy must lie in a page the hook marked. The hook
 * also checks the order: when it is called, the word that publishes the
 * burst (split: used->idx; packed: the flags of the burst's first used
 * descriptor) must still hold its old value.
 *
 * Receive queues (take_rx, packets written across the buffers, mergeable
 * or not) and transmit queues whose chains end in a writable part (the
 * device writes some of it, as a block device writes a status byte) run
 * for every combination of ring layout, MRG_RXBUF, EVENT_IDX, IN_ORDER and
 * INDIRECT_DESC, long enough for the indexes to go round the ring several
 * times. Buffers sit at random offsets in their own pages, so a write that
 * is not logged is not hidden by another one in the same page, and rings of
 * 1024 entries span several pages (the used index and most used elements
 * lie in different pages).
 */
#include <stdlib.h>

#include "test.h"
#include "vq_harness.h"

#define PAGE	  4096u
#define QSIZE	  1024u
#define SLOTS	  64u	      /* buffers, each in its own 8 KiB */
#define SLOT_SIZE (2u * PAGE) /* a buffer of up to 4 KiB at a random offset */
#define ROUNDS	  250u	      /* bursts of up to 32: the indexes go round 3-5 times */
#define HDR_LEN	  12u

#define P   VQ_FEATURE(VQ_F_RING_PACKED)
#define IND VQ_FEATURE(VQ_F_INDIRECT_DESC)
#define EVT VQ_FEATURE(VQ_F_EVENT_IDX)
#define ORD VQ_FEATURE(VQ_F_IN_ORDER)
#define MRG VQ_FEATURE(VQ_NET_F_MRG_RXBUF)

struct dl {
	struct vq_env e;
	bool packed, mrg, rings;
	uint32_t rng;
	/* The log: one bit per page of guest address, up to the buffers' end. */
	uint8_t *bitmap;
	size_t bitmap_len;
	/* Guest memory before the device step. */
	uint8_t *shadow_ring, *shadow_buf;
	/* Publication word to watch while the hook runs, and its old value. */
	const uint16_t *pub;
	uint16_t pub_old;
	unsigned long calls, late, beyond;
	/* What the driver has in flight: slot per cookie. */
	bool busy[SLOTS];
	/* Totals, to show the test did something. */
	unsigned long changed, returned;
};

static uint32_t
rnd(struct dl *d, uint32_t n)
{
	d->rng = d->rng * 1103515245u + 12345u;
	return (d->rng >> 8) % n;
}

static void
dl_mark(void *arg, uint64_t gpa, uint64_t len)
{
	struct dl *d = arg;
	uint64_t last = (gpa + len - 1) / PAGE;

	d->calls++;
	if (d->pub != NULL && __atomic_load_n(d->pub, __ATOMIC_RELAXED) != d->pub_old)
		d->late++;
	for (uint64_t pg = gpa / PAGE; pg <= last; pg++) {
		if (pg / 8 >= d->bitmap_len) {
			d->beyond++;
			continue;
		}
		d->bitmap[pg / 8] |= (uint8_t)(1u << (pg % 8));
	}
}

static bool
dl_logged(const struct dl *d, uint64_t gpa)
{
	uint64_t pg = gpa / PAGE;

	return pg / 8 < d->bitmap_len && (d->bitmap[pg / 8] >> (pg % 8)) & 1;
}

static int
dl_init(struct dl *d, uint64_t features, bool rings, uint32_t seed)
{
	struct vq_dev_config cfg;
	int rc;

	memset(d, 0, sizeof(*d));
	d->packed = features & P;
	d->mrg = features & MRG;
	d->rings = rings;
	d->rng = seed;
	rc = vq_env_pair(&d->e, QSIZE, features, (features & IND) ? 4 : 0,
			 (size_t)SLOTS * SLOT_SIZE);
	if (rc)
		return rc;
	d->bitmap_len = (VQ_ENV_BUF_GA + (uint64_t)SLOTS * SLOT_SIZE) / PAGE / 8 + 1;
	d->bitmap = calloc(1, d->bitmap_len);
	d->shadow_ring = malloc(d->e.ring.len);
	d->shadow_buf = malloc(d->e.buf.len);
	if (d->bitmap == NULL || d->shadow_ring == NULL || d->shadow_buf == NULL)
		return -ENOMEM;
	/* The device queue again, now logging. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = QSIZE;
	cfg.features = features;
	cfg.desc = d->e.ring.mem + d->e.layout.desc_off;
	cfg.driver_area = d->e.ring.mem + d->e.layout.driver_off;
	cfg.device_area = d->e.ring.mem + d->e.layout.device_off;
	cfg.map = &d->e.map;
	cfg.state = VQ_DEV_STATE_START;
	cfg.dirty.fn = dl_mark;
	cfg.dirty.arg = d;
	cfg.dirty.rings = rings;
	cfg.dirty.desc_gpa = VQ_ENV_RING_GA + d->e.layout.desc_off;
	cfg.dirty.device_gpa = VQ_ENV_RING_GA + d->e.layout.device_off;
	return vq_dev_init(&d->e.dev, &cfg);
}

static void
dl_free(struct dl *d)
{
	vq_env_free(&d->e);
	free(d->bitmap);
	free(d->shadow_ring);
	free(d->shadow_buf);
}

/* Starts a device step: copy guest memory, clear the log. */
static void
step_begin(struct dl *d)
{
	memcpy(d->shadow_ring, d->e.ring.mem, d->e.ring.len);
	memcpy(d->shadow_buf, d->e.buf.mem, d->e.buf.len);
	memset(d->bitmap, 0, d->bitmap_len);
}

/* The next byte at or after @p i where @p a and @p b differ, or @p len. */
static size_t
next_diff(const uint8_t *a, const uint8_t *b, size_t i, size_t len)
{
	while (i < len) {
		size_t n = len - i < 64 ? len - i : 64;

		if (memcmp(a + i, b + i, n) != 0)
			break;
		i += n;
	}
	while (i < len && a[i] == b[i])
		i++;
	return i;
}

/* Ends it: every byte changed lies in a logged page (rings: when asked). */
static int
step_check(struct dl *d, const char *what)
{
	const size_t rl = d->e.ring.len, bl = d->e.buf.len;

	for (size_t i = next_diff(d->e.ring.mem, d->shadow_ring, 0, rl); i < rl;
	     i = next_diff(d->e.ring.mem, d->shadow_ring, i + 1, rl)) {
		d->changed++;
		if (d->rings)
			TEST_ASSERT(dl_logged(d, VQ_ENV_RING_GA + i),
				    "%s: ring byte at +0x%zx (desc +0x%zx, device area +0x%zx) "
				    "changed, its page is not in the log",
				    what, i, d->e.layout.desc_off, d->e.layout.device_off);
	}
	for (size_t i = next_diff(d->e.buf.mem, d->shadow_buf, 0, bl); i < bl;
	     i = next_diff(d->e.buf.mem, d->shadow_buf, i + 1, bl)) {
		d->changed++;
		TEST_ASSERT(dl_logged(d, VQ_ENV_BUF_GA + i),
			    "%s: buffer byte at +0x%zx (slot %zu) changed, its page is not "
			    "in the log",
			    what, i, i / SLOT_SIZE);
	}
	if (!d->rings) {
		for (size_t i = 0; i < d->e.ring.len; i += PAGE)
			TEST_ASSERT(!dl_logged(d, VQ_ENV_RING_GA + i),
				    "%s: ring pages logged without the ring flag", what);
	}
	TEST_ASSERT_EQUAL(d->late, 0, "%s: the log was written after the publication", what);
	TEST_ASSERT_EQUAL(d->beyond, 0, "%s: a logged address lies outside guest memory", what);
	return TEST_SUCCESS;
}

/* Returns @p b, watching the word that publishes it. */
static void
dev_return(struct dl *d, const struct vq_burst *b)
{
	struct vq_dev_state st;

	vq_dev_get_state(&d->e.dev, &st);
	if (d->packed)
		d->pub = &((const struct vq_pdesc *)(d->e.ring.mem +
						     d->e.layout.desc_off))[st.used_idx]
				  .flags;
	else
		d->pub = &((const struct vq_used *)(d->e.ring.mem + d->e.layout.device_off))->idx;
	d->pub_old = *d->pub;
	vq_dev_return(&d->e.dev, b);
	d->pub = NULL;
	d->returned += b->nchain;
	(void)vq_dev_call_needed(&d->e.dev);
}

static int
free_slot(struct dl *d)
{
	unsigned int start = rnd(d, SLOTS);

	for (unsigned int k = 0; k < SLOTS; k++) {
		unsigned int i = (start + k) % SLOTS;

		if (!d->busy[i])
			return (int)i;
	}
	return -1;
}

/*
 * Posts up to @p n chains, each in a free slot at a random offset: @p rx
 * writable buffers (1-3 elements), else 1-2 readable elements and, most of
 * the time, 1-2 writable ones.
 */
static void
post(struct dl *d, unsigned int n, bool rx)
{
	for (unsigned int k = 0; k < n; k++) {
		struct vq_drv_seg seg[4];
		struct vq_drv_chain ch;
		int s = free_slot(d);
		uint32_t room, off, nseg = 0;
		uint64_t base;

		if (s < 0)
			return;
		/* Without MRG_RXBUF a buffer holds a whole packet. */
		room = rx && !d->mrg ? 2048 + rnd(d, 2048) : 64 + rnd(d, 4000);
		off = rnd(d, SLOT_SIZE - room);
		base = vq_env_ga(&d->e, (size_t)s * SLOT_SIZE + off);
		if (rx) {
			uint32_t parts = 1 + rnd(d, 3), done = 0;

			for (uint32_t i = 0; i < parts; i++) {
				uint32_t l = i + 1 == parts ? room - done
							    : 1 + rnd(d, room - done - (parts - i));

				seg[nseg++] =
					(struct vq_drv_seg){base + done, l, VQ_DESC_F_WRITE, 0};
				done += l;
			}
		} else {
			uint32_t rd = 16 + rnd(d, room / 2), wr = room - rd;

			seg[nseg++] = (struct vq_drv_seg){base, rd / 2, 0, 0};
			seg[nseg++] = (struct vq_drv_seg){base + rd / 2, rd - rd / 2, 0, 0};
			if (rnd(d, 4) != 0) {
				seg[nseg++] =
					(struct vq_drv_seg){base + rd, wr / 2, VQ_DESC_F_WRITE, 0};
				seg[nseg++] = (struct vq_drv_seg){base + rd + wr / 2, wr - wr / 2,
								  VQ_DESC_F_WRITE, 0};
			}
		}
		ch.cookie = (void *)(uintptr_t)(s + 1);
		ch.seg = seg;
		ch.nseg = (uint16_t)nseg;
		if (vq_drv_post(&d->e.drv, &ch, 1) != 1)
			return;
		d->busy[s] = true;
	}
}

static void
reap(struct dl *d)
{
	void *cookie[64];
	uint32_t len[64];
	unsigned int n;

	while ((n = vq_drv_reap(&d->e.drv, cookie, len, 64)) > 0)
		for (unsigned int i = 0; i < n; i++)
			d->busy[(uintptr_t)cookie[i] - 1] = false;
}

/* The device receives: packets of random lengths written across their buffers. */
static int
rx_step(struct dl *d)
{
	struct vq_burst b;
	uint32_t len[VQ_BURST_MAX];
	uint8_t data[3 * 4096];
	unsigned int want = 1 + rnd(d, VQ_BURST_MAX), n;

	for (unsigned int i = 0; i < want; i++)
		len[i] = HDR_LEN + 14 +
			 rnd(d, d->mrg ? 3 * 4096 - HDR_LEN - 14 : 2048 - HDR_LEN - 14);
	step_begin(d);
	n = vq_dev_take_rx(&d->e.dev, &b, len, want);
	for (unsigned int p = 0; p < n; p++) {
		for (uint32_t i = 0; i < b.pkt[p].len; i++)
			data[i] = (uint8_t)(d->rng + p * 7 + i);
		TEST_ASSERT_EQUAL(
			vq_segs_copy_in(b.pkt[p].seg, b.pkt[p].nseg, 0, data, b.pkt[p].len),
			b.pkt[p].len, "the packet fits where take_rx placed it");
	}
	if (n > 0)
		dev_return(d, &b);
	TEST_ASSERT_EQUAL(vq_dev_error(&d->e.dev), 0, "queue intact");
	return step_check(d, "rx");
}

/* The device transmits: reads the chains, writes part of their writable room. */
static int
tx_step(struct dl *d)
{
	struct vq_burst b;
	uint8_t data[4096];
	unsigned int n;

	step_begin(d);
	n = vq_dev_take(&d->e.dev, &b, 1 + rnd(d, VQ_BURST_MAX));
	for (unsigned int i = 0; i < n; i++) {
		struct vq_chain *c = &b.chain[i];

		c->used_len = c->wlen ? 1 + rnd(d, c->wlen) : 0;
		memset(data, 0xa5 ^ (int)i, sizeof(data));
		TEST_ASSERT_EQUAL(vq_segs_copy_in(c->seg + c->nread, c->nseg - c->nread, 0, data,
						  c->used_len),
				  c->used_len, "the writable room holds it");
	}
	if (n > 0)
		dev_return(d, &b);
	TEST_ASSERT_EQUAL(vq_dev_error(&d->e.dev), 0, "queue intact");
	return step_check(d, "tx");
}

/* The device goes to sleep and wakes: its suppression writes, in a step of their own. */
static int
notify_step(struct dl *d)
{
	step_begin(d);
	(void)vq_dev_kick_enable(&d->e.dev);
	TEST_ASSERT_SUCCESS(step_check(d, "kick enable"), "kick enable");
	step_begin(d);
	vq_dev_kick_disable(&d->e.dev);
	return step_check(d, "kick disable");
}

static int
run(uint64_t features, bool rx, bool rings)
{
	struct dl d;
	int rc = TEST_FAILED;

	if (dl_init(&d, features, rings, (uint32_t)features * 2654435761u + rx) != 0) {
		printf("FAIL: set-up\n");
		goto out;
	}
	vq_dev_kick_disable(&d.e.dev);
	for (unsigned int r = 0; r < ROUNDS; r++) {
		post(&d, 1 + rnd(&d, 40), rx);
		if ((rx ? rx_step(&d) : tx_step(&d)) != TEST_SUCCESS)
			goto out;
		if (r % 16 == 0 && notify_step(&d) != TEST_SUCCESS)
			goto out;
		reap(&d);
	}
	printf("%s %s features 0x%llx: %lu chains returned, %lu bytes changed, %lu log calls\n",
	       d.packed ? "packed" : "split", rx ? "rx" : "tx", (unsigned long long)features,
	       d.returned, d.changed, d.calls);
	TEST_ASSERT(d.returned > 3u * QSIZE, "the indexes went round the ring (%lu)", d.returned);
	rc = TEST_SUCCESS;
out:
	dl_free(&d);
	return rc;
}

/* Every combination of MRG_RXBUF, EVENT_IDX, IN_ORDER, INDIRECT_DESC, both directions. */
static int
run_all(uint64_t layout)
{
	static const uint64_t opt[] = {MRG, EVT, ORD, IND};

	for (unsigned int m = 0; m < 16; m++) {
		uint64_t f = layout;

		for (unsigned int i = 0; i < 4; i++)
			if (m & (1u << i))
				f |= opt[i];
		TEST_ASSERT_SUCCESS(run(f, true, true), "rx, features 0x%llx",
				    (unsigned long long)f);
		TEST_ASSERT_SUCCESS(run(f, false, true), "tx, features 0x%llx",
				    (unsigned long long)f);
	}
	return TEST_SUCCESS;
}

static int
test_split(void)
{
	return run_all(0);
}
REGISTER_TEST(virtq_dirty_log_split_marks_every_page_written, fast, test_split)

static int
test_packed(void)
{
	return run_all(P);
}
REGISTER_TEST(virtq_dirty_log_packed_marks_every_page_written, fast, test_packed)

/* Without VHOST_VRING_F_LOG: the buffers are logged, the rings are not. */
static int
test_buffers_only(void)
{
	TEST_ASSERT_SUCCESS(run(MRG | EVT, true, false), "split rx");
	TEST_ASSERT_SUCCESS(run(P | MRG | EVT, true, false), "packed rx");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_dirty_log_without_ring_flag_logs_buffers_only, fast, test_buffers_only)
