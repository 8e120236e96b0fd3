/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq: random rings. The device side is given random descriptor
 * tables, indirect tables, available rings / packed flags (biased towards
 * the edges: lengths near region ends and 2^32, indexes at the table size,
 * every flag combination); the driver side is given random used rings.
 * Every run checks that each segment handed out lies inside a mapped
 * region, that lengths add up, that a broken queue reports a known reason,
 * and writes through every writable segment; rings and buffers sit flush
 * against PROT_NONE pages, so any access outside them crashes the test.
 *
 * Suite fast runs a few thousand rounds; suite fuzz runs for a minute.
 */
#include <errno.h>
#include <stdlib.h>

#include "test.h"
#include "vq_harness.h"

#define RING	    8
#define BUFLEN	    8192
#define FAST_ROUNDS 4000
#define FUZZ_MS	    60000

struct rng {
	uint64_t s;
};

/* What the random rings led to, printed so a run shows it explored. */
static struct {
	unsigned long chains, segs, broken[8], reaped, drv_broken;
} stats;

static int
err_slot(int err)
{
	switch (err) {
	case -ELOOP:
		return 1;
	case -EINVAL:
		return 2;
	case -EOVERFLOW:
		return 3;
	case -EFAULT:
		return 4;
	case -ERANGE:
		return 5;
	case -E2BIG:
		return 6;
	default:
		return 0;
	}
}

static uint64_t
next(struct rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

static uint32_t
pick(struct rng *r, uint32_t n)
{
	return (uint32_t)(next(r) % n);
}

/* A guest address: mostly inside the buffers, often at an edge. */
static uint64_t
rand_addr(struct rng *r, const struct vq_env *e)
{
	switch (pick(r, 24)) {
	case 0:
		return VQ_ENV_BUF_GA + BUFLEN - pick(r, 64);
	case 1:
		return VQ_ENV_BUF_GA - pick(r, 64);
	case 2:
		return vq_env_ring_ga(e, e->ring.mem) + pick(r, (uint32_t)e->ring.len + 32);
	case 3:
		return next(r);
	case 4:
		return UINT64_MAX - pick(r, 64);
	default:
		return VQ_ENV_BUF_GA + pick(r, BUFLEN);
	}
}

static uint32_t
rand_len(struct rng *r)
{
	switch (pick(r, 24)) {
	case 0:
		return 0;
	case 1:
		return 0xffffffffu - pick(r, 4);
	case 2:
		return 0x80000000u;
	case 3:
		return BUFLEN + pick(r, 16) - 8;
	case 4:
		return 16 * pick(r, 6) + pick(r, 2) * 8;
	default:
		return pick(r, 512);
	}
}

static uint16_t
rand_flags(struct rng *r, bool packed)
{
	uint16_t f = (uint16_t)(pick(r, 2) ? VQ_DESC_F_WRITE : 0);

	/* Mostly single descriptors: enough valid chains get through. */
	if (pick(r, 4) == 0)
		f |= VQ_DESC_F_NEXT;
	if (pick(r, 8) == 0)
		f |= VQ_DESC_F_INDIRECT;
	if (packed)
		f |= (uint16_t)((pick(r, 2) ? VQ_DESC_F_AVAIL : 0) |
				(pick(r, 2) ? VQ_DESC_F_USED : 0));
	return f;
}

/* Random 16-byte descriptors over the whole buffer area (indirect tables). */
static void
scribble_buffers(struct rng *r, struct vq_env *e)
{
	for (size_t off = 0; off + 16 <= BUFLEN; off += 16) {
		struct vq_desc *d = (struct vq_desc *)vq_env_hp(e, off);

		d->addr = rand_addr(r, e);
		d->len = rand_len(r);
		d->flags = rand_flags(r, false);
		d->next = (uint16_t)pick(r, RING + 2);
	}
}

/* Each segment inside a region; write through the writable ones. */
static int
check_burst(struct vq_env *e, const struct vq_burst *b, bool rx)
{
	const uint8_t *blo = e->buf.mem, *bhi = e->buf.mem + e->buf.len;
	const uint8_t *rlo = e->ring.mem, *rhi = e->ring.mem + e->ring.len;

	TEST_ASSERT(b->nchain <= VQ_BURST_CHAINS && b->nseg <= VQ_BURST_SEGS, "bounded");
	for (unsigned int i = 0; i < b->nchain; i++) {
		const struct vq_chain *c = &b->chain[i];
		uint64_t total = 0;

		TEST_ASSERT(c->nread <= c->nseg, "nread");
		TEST_ASSERT(c->seg >= b->seg && c->seg + c->nseg <= b->seg + b->nseg, "in burst");
		for (unsigned int k = 0; k < c->nseg; k++) {
			const struct vq_seg *s = &c->seg[k];
			bool in_buf = s->addr >= blo && s->len <= (size_t)(bhi - s->addr);
			bool in_ring = s->addr >= rlo && s->len <= (size_t)(rhi - s->addr);

			TEST_ASSERT(in_buf || in_ring, "segment %p+%u outside the regions",
				    (void *)s->addr, s->len);
			total += s->len;
			if (k >= c->nread && s->len)
				memset(s->addr, 0x77, s->len); /* device writes */
		}
		/* take_rx keeps only the writable segments. */
		if (!(c->flags & VQ_CHAIN_F_OVERSIZE))
			TEST_ASSERT_EQUAL(total, (rx ? 0 : c->rlen) + (uint64_t)c->wlen,
					  "lengths add up");
		if (rx)
			TEST_ASSERT(c->used_len <= c->wlen, "used_len within the chain");
	}
	return TEST_SUCCESS;
}

static int
known_error(int err)
{
	return err == 0 || err == -ELOOP || err == -EINVAL || err == -EOVERFLOW || err == -EFAULT ||
	       err == -ERANGE || err == -E2BIG;
}

static int
device_round(struct rng *r, bool packed)
{
	uint64_t features = VQ_FEATURE(VQ_F_INDIRECT_DESC) | VQ_FEATURE(VQ_F_EVENT_IDX) |
			    (pick(r, 2) ? VQ_FEATURE(VQ_NET_F_MRG_RXBUF) : 0) |
			    (pick(r, 2) ? VQ_FEATURE(VQ_F_IN_ORDER) : 0) |
			    (packed ? VQ_FEATURE(VQ_F_RING_PACKED) : 0);
	struct vq_env e;
	struct vq_burst b;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, RING, features, BUFLEN), "env");
	scribble_buffers(r, &e);
	for (int step = 0; step < 4; step++) {
		uint32_t len[8];
		unsigned int n;
		bool rx;

		if (packed) {
			for (uint16_t i = 0; i < RING; i++) {
				struct vq_pdesc *d =
					(struct vq_pdesc *)(e.ring.mem + e.layout.desc_off) + i;

				d->addr = rand_addr(r, &e);
				d->len = rand_len(r);
				d->id = (uint16_t)pick(r, RING + 2);
				d->flags = rand_flags(r, true);
			}
		} else {
			struct vq_avail *a = (struct vq_avail *)(e.ring.mem + e.layout.driver_off);

			for (uint16_t i = 0; i < RING; i++) {
				vq_env_split_desc(&e, i, rand_addr(r, &e), rand_len(r),
						  rand_flags(r, false),
						  (uint16_t)pick(r, RING + 2));
				a->ring[i] = (uint16_t)pick(r, RING + 1);
			}
			a->idx = (uint16_t)(e.dev.last_avail + pick(r, RING + 3));
		}
		for (unsigned int i = 0; i < 8; i++)
			len[i] = pick(r, 3000);
		rx = pick(r, 2);
		n = rx ? vq_dev_take_rx(&e.dev, &b, len, 1 + pick(r, 8))
		       : vq_dev_take(&e.dev, &b, 1 + pick(r, 32));
		TEST_ASSERT(n == (rx ? b.npkt : b.nchain), "count returned");
		TEST_RUN(check_burst(&e, &b, rx));
		stats.chains += b.nchain;
		stats.segs += b.nseg;
		TEST_ASSERT(known_error(vq_dev_error(&e.dev)), "reason %d", vq_dev_error(&e.dev));
		TEST_ASSERT(e.log_calls <= 1, "logged at most once");
		if (pick(r, 4) == 0 && b.nchain)
			vq_dev_untake(&e.dev, &b, pick(r, b.nchain));
		vq_dev_return(&e.dev, &b);
		(void)vq_dev_call_needed(&e.dev);
		(void)vq_dev_kick_enable(&e.dev);
		(void)vq_dev_avail_hint(&e.dev, 32);
	}
	stats.broken[err_slot(vq_dev_error(&e.dev))]++;
	vq_env_free(&e);
	return TEST_SUCCESS;
}

static int
driver_round(struct rng *r, bool packed)
{
	uint64_t features = (pick(r, 2) ? VQ_FEATURE(VQ_F_IN_ORDER) : 0) |
			    (pick(r, 2) ? VQ_FEATURE(VQ_F_EVENT_IDX) : 0) |
			    (packed ? VQ_FEATURE(VQ_F_RING_PACKED) : 0);
	static int tokens[RING];
	int reaped[RING] = {0};
	uint64_t addr[RING];
	uint32_t len[RING];
	void *ck[RING];
	struct vq_env e;

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, RING, features, 0, BUFLEN), "env");
	for (unsigned int i = 0; i < RING; i++) {
		addr[i] = vq_env_ga(&e, i * 64u);
		len[i] = 64;
		ck[i] = &tokens[i];
	}
	TEST_ASSERT_EQUAL(vq_drv_post_buf(&e.drv, addr, len, ck, RING, VQ_DESC_F_WRITE), RING,
			  "ring full");
	for (int step = 0; step < 4 && !vq_drv_error(&e.drv); step++) {
		void *got[RING];
		uint32_t gl[RING];
		unsigned int m;

		/* A device writing garbage into what it may write. */
		if (packed) {
			for (uint16_t i = 0; i < RING; i++) {
				struct vq_pdesc *d =
					(struct vq_pdesc *)(e.ring.mem + e.layout.desc_off) + i;

				if (pick(r, 2)) {
					d->id = (uint16_t)pick(r, RING + 2);
					d->len = rand_len(r);
					d->flags = rand_flags(r, true);
				}
			}
		} else {
			struct vq_used *u = (struct vq_used *)(e.ring.mem + e.layout.device_off);

			for (uint16_t i = 0; i < RING; i++) {
				u->ring[i].id = pick(r, RING + 2);
				u->ring[i].len = rand_len(r);
			}
			u->idx = (uint16_t)(u->idx + pick(r, RING + 2));
		}
		m = vq_drv_reap(&e.drv, got, gl, RING);
		for (unsigned int i = 0; i < m; i++) {
			int k = (int)((int *)got[i] - tokens);

			TEST_ASSERT(k >= 0 && k < RING, "a cookie we posted");
			TEST_ASSERT(!reaped[k], "reaped once");
			TEST_ASSERT(gl[i] <= 64, "length within the buffer");
			reaped[k] = 1;
			stats.reaped++;
		}
		TEST_ASSERT(known_error(vq_drv_error(&e.drv)), "reason");
		(void)vq_drv_kick_needed(&e.drv);
		(void)vq_drv_call_enable(&e.drv);
	}
	/* Whatever is still in flight comes back on reset: each cookie once. */
	{
		unsigned int left, nreaped = 0;

		stats.drv_broken += vq_drv_error(&e.drv) != 0;
		left = vq_drv_reset(&e.drv, NULL, NULL);

		for (unsigned int i = 0; i < RING; i++)
			nreaped += (unsigned int)reaped[i];
		TEST_ASSERT_EQUAL(left + nreaped, RING, "every buffer accounted for");
	}
	TEST_ASSERT_EQUAL(vq_drv_free_count(&e.drv), RING, "all free after reset");
	vq_env_free(&e);
	return TEST_SUCCESS;
}

static int
fuzz(unsigned int rounds, uint64_t ms)
{
	struct rng r = {0x9e3779b97f4a7c15ULL};
	uint64_t start = vt_now_ms();
	unsigned int i;

	for (i = 0; rounds ? i < rounds : vt_now_ms() - start < ms; i++) {
		TEST_RUN(device_round(&r, false));
		TEST_RUN(device_round(&r, true));
		TEST_RUN(driver_round(&r, false));
		TEST_RUN(driver_round(&r, true));
	}
	printf("%u rounds of random rings, no access outside them: device took %lu chains "
	       "(%lu segments); queues ended healthy %lu, broken by loop %lu, malformed %lu, "
	       "overflow %lu, outside memory %lu, out of range %lu, too long %lu; driver reaped "
	       "%lu, broke %lu times\n",
	       i, stats.chains, stats.segs, stats.broken[0], stats.broken[1], stats.broken[2],
	       stats.broken[3], stats.broken[4], stats.broken[5], stats.broken[6], stats.reaped,
	       stats.drv_broken);
	return TEST_SUCCESS;
}

static int
test_fast(void)
{
	return fuzz(FAST_ROUNDS, 0);
}
REGISTER_TEST(virtq_random_rings_never_lead_outside_memory, fast, test_fast)

static int
test_long(void)
{
	return fuzz(0, FUZZ_MS);
}
REGISTER_TEST(virtq_random_rings_never_lead_outside_memory_long, fuzz, test_long)
