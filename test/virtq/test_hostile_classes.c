/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq against the descriptor-level vulnerability classes of vhost
 * back-ends (doc/security.md maps them): a virtio-net header split across
 * descriptors (CVE-2022-2132), an empty element at an address outside guest
 * memory (CVE-2020-10725), and a guest rewriting descriptors while the
 * device reads them (the double fetches of CVE-2020-14375). Rings and
 * buffers end at PROT_NONE pages, so a stray access crashes the test.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "test.h"
#include "vq_harness.h"

#define F(bit)	 VQ_FEATURE(bit)
#define HDR	 12
#define FRAME	 100
#define BUF_LEN	 (1 << 20)
#define NO_GA	 0x7e0000000000ULL /* in no region */
#define ALL_FEAT (F(VQ_F_VERSION_1) | F(VQ_F_INDIRECT_DESC))

/* Whether [p, p + len) lies inside one of @p e's regions. */
static bool
in_env(const struct vq_env *e, const uint8_t *p, uint32_t len)
{
	const struct vq_guard *g[2] = {&e->ring, &e->buf};

	for (int i = 0; i < 2; i++)
		if (p >= g[i]->mem && (size_t)(p - g[i]->mem) <= g[i]->len &&
		    len <= g[i]->len - (size_t)(p - g[i]->mem))
			return true;
	return false;
}

/* ---- CVE-2022-2132: the header across descriptors ---- */

/*
 * The driver posts a 12-byte virtio-net header and a 100-byte frame cut at
 * @p cuts (offsets into header + frame, ascending); the device must hand
 * back segments that read as exactly those bytes, wherever the cuts fall.
 * @p total below HDR + FRAME makes a chain no longer than (or shorter than)
 * the header, which a port drops: the copy says so by coming up short.
 */
static int
one_layout(uint64_t features, unsigned int indirect, const uint32_t *cuts, unsigned int ncut,
	   uint32_t total)
{
	struct vq_env e;
	struct vq_drv_seg seg[16];
	struct vq_drv_chain ch = {(void *)1, seg, 0};
	static struct vq_burst b;
	uint8_t want[HDR + FRAME], got[HDR + FRAME];
	uint32_t start = 0, n;
	void *cookie;
	uint32_t len;

	TEST_ASSERT_SUCCESS(vq_env_pair(&e, 16, features, indirect, BUF_LEN), "env");
	for (uint32_t i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 37 + 1);
	memcpy(vq_env_hp(&e, 4096), want, sizeof(want));
	for (unsigned int i = 0; i <= ncut; i++) {
		uint32_t end = i < ncut ? cuts[i] : total;

		if (end > start)
			seg[ch.nseg++] =
				(struct vq_drv_seg){vq_env_ga(&e, 4096 + start), end - start, 0, 0};
		start = end;
	}
	TEST_ASSERT_EQUAL(vq_drv_post(&e.drv, &ch, 1), 1, "posted a chain of %u", ch.nseg);
	n = vq_dev_take(&e.dev, &b, 32);
	TEST_ASSERT_EQUAL(n, 1, "taken (error %d)", vq_dev_error(&e.dev));
	TEST_ASSERT_EQUAL(b.chain[0].rlen, total, "every readable byte counted");
	for (unsigned int s = 0; s < b.chain[0].nseg; s++)
		TEST_ASSERT(in_env(&e, b.chain[0].seg[s].addr, b.chain[0].seg[s].len),
			    "segment %u inside guest memory", s);
	memset(got, 0, sizeof(got));
	n = vq_segs_copy_out(b.chain[0].seg, b.chain[0].nread, 0, got, HDR);
	if (total < HDR) {
		TEST_ASSERT_EQUAL(n, total, "a short chain reads short: the port drops it");
	} else {
		TEST_ASSERT_EQUAL(n, HDR, "the whole header");
		TEST_ASSERT(memcmp(got, want, HDR) == 0, "the header, byte for byte");
		n = vq_segs_copy_out(b.chain[0].seg, b.chain[0].nread, HDR, got + HDR, FRAME);
		TEST_ASSERT_EQUAL(n, total - HDR, "the frame after it");
		TEST_ASSERT(memcmp(got + HDR, want + HDR, total - HDR) == 0, "the frame's bytes");
	}
	vq_dev_return(&e.dev, &b);
	TEST_ASSERT_EQUAL(vq_drv_reap(&e.drv, &cookie, &len, 1), 1, "returned");
	vq_env_free(&e);
	return TEST_SUCCESS;
}

static int
test_header_split(void)
{
	static const uint32_t c1[] = {HDR};
	static const uint32_t c2[] = {5, HDR};
	static const uint32_t c3[] = {1, 2, HDR};
	static const uint32_t c4[] = {3, 50};
	static const uint32_t c5[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
	static const uint32_t c6[] = {6};
	const struct {
		const uint32_t *cuts;
		unsigned int n;
		uint32_t total;
	} layouts[] = {
		{NULL, 0, HDR + FRAME}, /* one element */
		{c1, 1, HDR + FRAME},	/* header, frame */
		{c2, 2, HDR + FRAME},	/* header in two, frame */
		{c3, 3, HDR + FRAME},	/* header in three (the CVE), frame */
		{c4, 2, HDR + FRAME},	/* frame starting inside the second element */
		{c5, 14, HDR + FRAME},	/* one byte per element, 15 elements */
		{c6, 1, HDR},		/* header only, in two: no frame */
		{NULL, 0, 7},		/* shorter than the header */
	};
	const uint64_t feats[] = {F(VQ_F_VERSION_1), ALL_FEAT,
				  F(VQ_F_VERSION_1) | F(VQ_F_RING_PACKED),
				  ALL_FEAT | F(VQ_F_RING_PACKED)};

	for (unsigned int f = 0; f < sizeof(feats) / sizeof(feats[0]); f++)
		for (unsigned int l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++)
			TEST_RUN(one_layout(feats[f], (feats[f] & F(VQ_F_INDIRECT_DESC)) ? 16 : 0,
					    layouts[l].cuts, layouts[l].n, layouts[l].total));
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_net_header_split_across_descriptors_is_read_whole, fast, test_header_split)

/* ---- CVE-2020-10725: an empty element outside guest memory ---- */

/*
 * An element of length 0 at an address in no region gives no segment: the
 * device has nothing to read there and never translates it, directly, in
 * a chain or in an indirect table.
 */
static int
empty_elements(bool packed)
{
	struct vq_env e;
	static struct vq_burst b;
	const uint64_t feats = ALL_FEAT | (packed ? F(VQ_F_RING_PACKED) : 0);
	struct vq_desc table[2] = {{NO_GA, 0, VQ_DESC_F_NEXT, 1}, {0, 64, 0, 0}};
	uint64_t tga;
	unsigned int n;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, feats, BUF_LEN), "env");
	table[1].addr = vq_env_ga(&e, 0);
	tga = vq_env_put_table(&e, 8192, table, sizeof(table));
	if (!packed) {
		vq_env_split_desc(&e, 0, NO_GA, 0, 0, 0); /* alone */
		vq_env_split_push(&e, 0);
		vq_env_split_desc(&e, 1, vq_env_ga(&e, 0), 64, VQ_DESC_F_NEXT, 2);
		vq_env_split_desc(&e, 2, NO_GA, 0, 0, 0); /* at the end of a chain */
		vq_env_split_push(&e, 1);
		vq_env_split_desc(&e, 3, tga, sizeof(table), VQ_DESC_F_INDIRECT, 0);
		vq_env_split_push(&e, 3);
	} else {
		vq_env_packed_put(&e, NO_GA, 0, 0, 0, false);
		vq_env_packed_put(&e, vq_env_ga(&e, 0), 64, 1, VQ_DESC_F_NEXT, false);
		vq_env_packed_put(&e, NO_GA, 0, 1, 0, false);
		/* Packed tables ignore NEXT: both entries are elements. */
		vq_env_packed_put(&e, tga, sizeof(table), 2, VQ_DESC_F_INDIRECT, false);
	}
	n = vq_dev_take(&e.dev, &b, 32);
	TEST_ASSERT_EQUAL(n, 3, "three chains taken (error %d: %s)", vq_dev_error(&e.dev),
			  e.log_msg);
	TEST_ASSERT_EQUAL(b.chain[0].nseg, 0, "the empty element alone: no segment");
	TEST_ASSERT_EQUAL(b.chain[0].rlen, 0, "and no byte");
	TEST_ASSERT(b.chain[1].nseg == 1 && b.chain[1].rlen == 64, "only the real element");
	TEST_ASSERT(b.chain[2].nseg == 1 && b.chain[2].rlen == 64, "in a table too");
	for (unsigned int c = 0; c < n; c++)
		for (unsigned int s = 0; s < b.chain[c].nseg; s++)
			TEST_ASSERT(in_env(&e, b.chain[c].seg[s].addr, b.chain[c].seg[s].len),
				    "chain %u segment %u inside guest memory", c, s);
	vq_dev_return(&e.dev, &b);
	vq_env_free(&e);
	return TEST_SUCCESS;
}

static int
test_empty_elements(void)
{
	TEST_RUN(empty_elements(false));
	return empty_elements(true);
}
REGISTER_TEST(virtq_empty_element_outside_guest_memory_is_never_followed, fast, test_empty_elements)

/* ---- CVE-2020-14375's class: a guest changing descriptors under the device ---- */

static void
quiet(void *arg, int err, const char *msg)
{
	(void)arg;
	(void)err;
	(void)msg;
}

struct racer {
	struct vq_env *e;
	bool packed;
	volatile bool stop;
	uint32_t rng;
	unsigned long writes;
};

static uint32_t
rnd(struct racer *r)
{
	r->rng = r->rng * 1103515245u + 12345u;
	return r->rng >> 8;
}

/* Anything a hostile guest could put in a descriptor, valid half of the time. */
static void
racy_desc(struct racer *r, uint64_t *addr, uint32_t *len, uint16_t *flags)
{
	struct vq_env *e = r->e;
	const uint64_t bad[] = {NO_GA, 0, UINT64_MAX - 7, vq_env_ga(e, BUF_LEN - 8),
				VQ_ENV_RING_GA - 4};
	const uint32_t lens[] = {0, 1, 16, 64, 4096, UINT32_MAX, 0x80000000u};
	uint32_t k = rnd(r);

	*addr = (k & 1) ? vq_env_ga(e, rnd(r) % (BUF_LEN - 8192)) : bad[rnd(r) % 5];
	*len = (k & 2) ? 1 + rnd(r) % 4096 : lens[rnd(r) % 7];
	*flags = (uint16_t)(rnd(r) & (VQ_DESC_F_NEXT | VQ_DESC_F_WRITE | VQ_DESC_F_INDIRECT));
	if ((*flags & VQ_DESC_F_INDIRECT) && (k & 4)) {
		/* Point at the table area, which the racer rewrites as well. */
		*addr = vq_env_ga(e, BUF_LEN - 4096);
		*len = 16 * (1 + rnd(r) % 8);
	}
}

static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	struct vq_env *e = r->e;

	while (!r->stop) {
		uint64_t addr;
		uint32_t len;
		uint16_t flags, slot = (uint16_t)(rnd(r) % e->size);

		racy_desc(r, &addr, &len, &flags);
		if (rnd(r) % 4 == 0) {
			/* An entry of the indirect table area. */
			struct vq_desc *t = (struct vq_desc *)vq_env_hp(e, BUF_LEN - 4096);
			uint32_t i = rnd(r) % 8;

			__atomic_store_n(&t[i].addr, addr, __ATOMIC_RELAXED);
			__atomic_store_n(&t[i].len, len, __ATOMIC_RELAXED);
			__atomic_store_n(&t[i].flags, flags, __ATOMIC_RELAXED);
			__atomic_store_n(&t[i].next, (uint16_t)(rnd(r) % 10), __ATOMIC_RELAXED);
		} else if (!r->packed) {
			struct vq_desc *d = (struct vq_desc *)(e->ring.mem + e->layout.desc_off);
			struct vq_avail *av =
				(struct vq_avail *)(e->ring.mem + e->layout.driver_off);

			__atomic_store_n(&d[slot].addr, addr, __ATOMIC_RELAXED);
			__atomic_store_n(&d[slot].len, len, __ATOMIC_RELAXED);
			__atomic_store_n(&d[slot].flags, flags, __ATOMIC_RELAXED);
			__atomic_store_n(&d[slot].next, (uint16_t)(rnd(r) % (e->size + 2)),
					 __ATOMIC_RELAXED);
			const struct vq_used *u =
				(const struct vq_used *)(e->ring.mem + e->layout.device_off);

			/*
			 * At most a ring's worth ahead of what the device used: a
			 * guest far ahead only breaks the queue at every take
			 * (virtq_split_rejects_avail_idx_jumping_past_ring_size),
			 * and this racer outruns the device on a loaded CPU.
			 */
			if (rnd(r) % 2) {
				uint16_t idx = __atomic_load_n(&av->idx, __ATOMIC_RELAXED);

				if ((uint16_t)(idx - __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE)) <
				    e->size) {
					av->ring[idx % e->size] =
						(uint16_t)(rnd(r) % (e->size + 1));
					__atomic_store_n(&av->idx, (uint16_t)(idx + 1),
							 __ATOMIC_RELEASE);
				}
			}
		} else {
			struct vq_pdesc *d = (struct vq_pdesc *)(e->ring.mem + e->layout.desc_off);

			__atomic_store_n(&d[slot].addr, addr, __ATOMIC_RELAXED);
			__atomic_store_n(&d[slot].len, len, __ATOMIC_RELAXED);
			__atomic_store_n(&d[slot].id, (uint16_t)(rnd(r) % (e->size + 1)),
					 __ATOMIC_RELAXED);
			/* Random avail/used bits: available for either wrap counter. */
			__atomic_store_n(
				&d[slot].flags,
				(uint16_t)(flags | (rnd(r) & (VQ_DESC_F_AVAIL | VQ_DESC_F_USED))),
				__ATOMIC_RELEASE);
		}
		r->writes++;
	}
	return NULL;
}

static int
race(bool packed)
{
	static struct vq_burst b;
	struct vq_env e;
	struct racer r = {.packed = packed, .rng = 12345};
	const uint64_t feats = ALL_FEAT | (packed ? F(VQ_F_RING_PACKED) : 0);
	unsigned long chains = 0, breaks = 0, rounds = 0;
	uint64_t end, hard_end;
	pthread_t t;
	uint32_t rxlen[4] = {60, 1514, 64, 9000};

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, 8, feats, BUF_LEN), "env");
	r.e = &e;
	TEST_ASSERT_SUCCESS(pthread_create(&t, NULL, racer_main, &r), "racer");
	/* At least 400 ms, and on until both outcomes were seen (the CPU is shared). */
	end = vt_now_ms() + 400;
	hard_end = end + 20000;
	while (vt_now_ms() < end || ((chains == 0 || breaks == 0) && vt_now_ms() < hard_end)) {
		bool rx = rounds++ % 2;
		unsigned int n =
			rx ? vq_dev_take_rx(&e.dev, &b, rxlen, 4) : vq_dev_take(&e.dev, &b, 32);

		for (unsigned int c = 0; c < b.nchain; c++)
			for (unsigned int s = 0; s < b.chain[c].nseg; s++) {
				const struct vq_seg *sg = &b.chain[c].seg[s];

				TEST_ASSERT(in_env(&e, sg->addr, sg->len),
					    "a segment outside guest memory under a racing guest");
				/* Touch it: outside memory this faults on a guard page. */
				if (sg->len > 0)
					*(volatile uint8_t *)(sg->addr + sg->len - 1) =
						*(volatile uint8_t *)sg->addr;
			}
		chains += n;
		vq_dev_return(&e.dev, &b);
		if (vq_dev_error(&e.dev)) {
			struct vq_dev_config cfg = {
				.size = e.size,
				.features = feats,
				.desc = e.ring.mem + e.layout.desc_off,
				.driver_area = e.ring.mem + e.layout.driver_off,
				.device_area = e.ring.mem + e.layout.device_off,
				.map = &e.map,
				.log = quiet,
			};
			struct vq_avail *av = (struct vq_avail *)(e.ring.mem + e.layout.driver_off);

			/* The port resets a broken queue: start again where the driver is. */
			breaks++;
			vq_dev_get_state(&e.dev, &cfg.state);
			if (!packed) {
				struct vq_used *u =
					(struct vq_used *)(e.ring.mem + e.layout.device_off);

				cfg.state.last_avail = cfg.state.used_idx =
					__atomic_load_n(&av->idx, __ATOMIC_ACQUIRE);
				/* As a port's reset does: the guest sees everything used. */
				__atomic_store_n(&u->idx, cfg.state.used_idx, __ATOMIC_RELEASE);
			}
			TEST_ASSERT_SUCCESS(vq_dev_init(&e.dev, &cfg), "restart");
		}
	}
	r.stop = true;
	pthread_join(t, NULL);
	printf("%s: %lu guest writes, %lu takes, %lu chains taken, %lu queue breaks\n",
	       packed ? "packed" : "split", r.writes, rounds, chains, breaks);
	TEST_ASSERT(chains > 0 && breaks > 0,
		    "the race both took chains (%lu) and broke the queue (%lu)", chains, breaks);
	vq_env_free(&e);
	return TEST_SUCCESS;
}

static int
test_race(void)
{
	TEST_RUN(race(false));
	return race(true);
}
REGISTER_TEST(virtq_device_survives_a_guest_rewriting_descriptors_during_take, fast, test_race)
