/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq cycle counts (suite perf; printed, never pass/fail on speed).
 *
 * Our driver side feeds our device side in the same thread, on a 256-entry
 * ring with EVENT_IDX and MRG_RXBUF negotiated (what a Linux or DPDK
 * virtio-net front-end usually offers), notifications off on both sides as
 * between two polling peers. Measured: the device side's cycles per packet
 *   - dequeue (guest TX): vq_dev_take + copy of each packet (header
 *     skipped) into a 2 KiB "mbuf" + vq_dev_return + vq_dev_call_needed
 *   - enqueue (guest RX): vq_dev_take_rx + header and packet copied into
 *     the guest buffer + vq_dev_return + vq_dev_call_needed
 * and the same without the copies (ring work alone), plus the driver
 * side's post/reap/kick cycles. Both sides share one core's caches here, so
 * the figures are a lower bound for two cores exchanging cache lines; on a
 * shared machine they are indicative only: each is the median of 7 runs,
 * with the best run beside it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "test.h"
#include "vq_harness.h"

#define RING  256
#define BUF   2048
#define HDR   12
#define BURST 32
#define PKTS  (1u << 20) /* per run; VT_PERF_PKTS overrides (e.g. under valgrind) */
#define RUNS  7		 /* VT_PERF_RUNS overrides, up to RUNS */
/* A burst that took longer than this was preempted (the machine is shared):
 * it is left out of the figures. */
#define PREEMPTED 200000

/* @p name from the environment as a number in [1, max], else @p def. */
static unsigned long
env_num(const char *name, unsigned long def, unsigned long max)
{
	const char *v = getenv(name);
	unsigned long n = v != NULL ? strtoul(v, NULL, 0) : 0;

	return n >= 1 && n <= max ? n : def;
}

static uint64_t
pkts_per_run(void)
{
	return env_num("VT_PERF_PKTS", PKTS, 1ul << 30);
}

static int
nb_runs(void)
{
	return (int)env_num("VT_PERF_RUNS", RUNS, RUNS);
}

static uint64_t
cycles(void)
{
#if defined(__x86_64__)
	return __rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

struct perf {
	struct vq_env e;
	uint8_t *mbuf; /* BURST "mbufs" of BUF bytes: the switch's side of the copy */
	uint64_t dev_cycles;
	uint64_t drv_cycles;
	uint64_t pkts;	   /* in the measured bursts */
	uint64_t all_pkts; /* in all bursts, preempted ones too */
	uint64_t dropped_bursts;
	unsigned int nreg; /* regions the buffers are spread over (0: the env's one) */
	unsigned int run;  /* consecutive buffers in one region (region_run()) */
};

/* Adds one measured device burst, unless it was preempted. */
static void
account(struct perf *p, uint64_t dt, unsigned int n)
{
	p->all_pkts += n;
	if (dt > PREEMPTED) {
		p->dropped_bursts++;
		return;
	}
	p->dev_cycles += dt;
	p->pkts += n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* After median(): the sorted array's first, the least disturbed run. */
static double
best(const double *v)
{
	return v[0];
}

/*
 * Buffers spread over p->nreg regions in runs of region_run() buffers:
 * buffer i in region (i / run) % nreg. The default run of 1 alternates
 * regions from one buffer to the next (the worst case for a cache of the
 * last region); VT_PERF_REGION_RUN=16 (a power of two up to 64) is closer
 * to a guest whose allocator hands out buffers from one region at a time.
 * Region k: guest REGION_GA(k), host the k-th slice of the env's buffer
 * memory.
 */
#define REGION_GA(k) (VQ_ENV_BUF_GA + (uint64_t)(k)*0x10000000ULL)

static unsigned int
region_run(void)
{
	const unsigned long run = env_num("VT_PERF_REGION_RUN", 1, 64);

	return (run & (run - 1)) == 0 ? (unsigned int)run : 1;
}

static uint64_t
buf_ga(const struct perf *p, uint16_t i)
{
	const unsigned int run = p->run, grp = i / run;

	if (p->nreg <= 1)
		return vq_env_ga(&p->e, (size_t)i * BUF);
	return REGION_GA(grp % p->nreg) + (uint64_t)((grp / p->nreg) * run + i % run) * BUF;
}

/*
 * Rebuilds the map: the buffers as @p nreg regions, nothing else. The
 * device reaches the rings through their host pointers (no indirect
 * tables here, no dirty log), as a vhost-user back-end does; a real guest's
 * rings lie in one of its regions, so a one-region guest's map has one
 * region, and the map here is the guest's: 1, 2 or 4 regions.
 */
static int
spread_regions(struct perf *p, unsigned int nreg)
{
	const unsigned int n = nreg <= 1 ? 1 : nreg;
	const size_t slice = (size_t)RING / n * BUF;

	p->nreg = nreg;
	p->run = region_run();
	vq_memmap_init(&p->e.map);
	for (unsigned int k = 0; k < n; k++) {
		const uint64_t ga = n == 1 ? vq_env_ga(&p->e, 0) : REGION_GA(k);

		if (vq_memmap_add(&p->e.map, ga, slice, vq_env_hp(&p->e, k * slice)) != 0)
			return -1;
	}
	vq_dev_set_memmap(&p->e.dev, &p->e.map);
	return 0;
}

/* Posts buffers [first, first + n) of the pool; returns how many went in. */
static unsigned int
post(struct perf *p, const uint16_t *idx, unsigned int n, uint32_t len, uint16_t flags)
{
	uint64_t addr[BURST];
	uint32_t l[BURST];
	void *ck[BURST];

	for (unsigned int i = 0; i < n; i++) {
		addr[i] = buf_ga(p, idx[i]);
		l[i] = len;
		ck[i] = (void *)(uintptr_t)(idx[i] + 1u);
	}
	return vq_drv_post_buf(&p->e.drv, addr, l, ck, n, flags);
}

/* Driver: reap what was used, post it again, decide on a kick. */
static int
driver_cycle(struct perf *p, uint32_t len, uint16_t flags)
{
	void *ck[BURST];
	uint32_t ul[BURST];
	uint16_t idx[BURST];
	uint64_t t0 = cycles();
	unsigned int n = vq_drv_reap(&p->e.drv, ck, ul, BURST);

	for (unsigned int i = 0; i < n; i++)
		idx[i] = (uint16_t)((uintptr_t)ck[i] - 1u);
	if (post(p, idx, n, len, flags) != n)
		return -1;
	(void)vq_drv_kick_needed(&p->e.drv);
	t0 = cycles() - t0;
	if (t0 < PREEMPTED)
		p->drv_cycles += t0;
	return 0;
}

static unsigned int regions_now; /* regions of the run being set up (1: as the env) */

static int
setup(struct perf *p, uint64_t features, uint32_t len, uint16_t flags)
{
	uint16_t idx[BURST];

	memset(p, 0, sizeof(*p));
	if (vq_env_pair(&p->e, RING, features, 0, (size_t)RING * BUF) != 0)
		return -1;
	if (spread_regions(p, regions_now) != 0)
		return -1;
	/* VT_PERF_INFLIGHT=1: the device records into an inflight region (the
	 * cost of INFLIGHT_SHMFD, counted with callgrind: doc/perf.md). */
	if (env_num("VT_PERF_INFLIGHT", 0, 1) == 1) {
		const struct vq_dev_state start = VQ_DEV_STATE_START;
		const bool packed = features & VQ_FEATURE(VQ_F_RING_PACKED);

		p->e.inflight = calloc(1, vq_inflight_region_size(RING, packed));
		if (p->e.inflight == NULL || vq_env_restart(&p->e, &start) != 0)
			return -1;
	}
	p->mbuf = aligned_alloc(64, (size_t)BURST * BUF);
	if (p->mbuf == NULL)
		return -1;
	memset(p->mbuf, 0x5a, (size_t)BURST * BUF);
	vq_dev_kick_disable(&p->e.dev);
	vq_drv_call_disable(&p->e.drv);
	for (unsigned int i = 0; i < RING; i += BURST) {
		for (unsigned int j = 0; j < BURST; j++)
			idx[j] = (uint16_t)(i + j);
		if (post(p, idx, BURST, len, flags) != BURST)
			return -1;
	}
	return 0;
}

static void
teardown(struct perf *p)
{
	free(p->e.inflight);
	free(p->mbuf);
	vq_env_free(&p->e);
}

/* The device's part of a dequeue round: take, copy each packet (header
 * skipped) into an "mbuf" when @p copy, return, decide on a call. */
static inline __attribute__((always_inline)) unsigned int
dequeue_burst(struct perf *p, struct vq_burst *b, bool copy)
{
	unsigned int n = vq_dev_take(&p->e.dev, b, BURST);

	if (copy) {
		for (unsigned int i = 0; i < n; i++) {
			const struct vq_chain *c = &b->chain[i];
			uint8_t *dst = p->mbuf + (size_t)i * BUF;

			/* One segment holding header and packet: the common
			 * layout (VERSION_1/ANY_LAYOUT). */
			if (c->nseg == 1 && c->seg[0].len > HDR)
				memcpy(dst, c->seg[0].addr + HDR, c->seg[0].len - HDR);
			else
				vq_segs_copy_out(c->seg, c->nread, HDR, dst, c->rlen - HDR);
		}
	}
	vq_dev_return(&p->e.dev, b);
	(void)vq_dev_call_needed(&p->e.dev);
	return n;
}

/* The device's part of an enqueue round: take_rx, copy header and packet of
 * @p size bytes into the guest's buffers when @p copy, return, call? */
static inline __attribute__((always_inline)) unsigned int
enqueue_burst(struct perf *p, struct vq_burst *b, const uint32_t *len, uint32_t size, bool copy)
{
	unsigned int n = vq_dev_take_rx(&p->e.dev, b, len, BURST);

	if (copy) {
		for (unsigned int i = 0; i < n; i++) {
			const struct vq_pkt *pk = &b->pkt[i];
			const uint8_t *src = p->mbuf + (size_t)i * BUF;
			uint8_t hdr[HDR] = {0};

			hdr[10] = (uint8_t)pk->nbufs;
			if (pk->nseg == 1) {
				memcpy(pk->seg[0].addr, hdr, HDR);
				memcpy(pk->seg[0].addr + HDR, src, size);
			} else {
				vq_segs_copy_in(pk->seg, pk->nseg, 0, hdr, HDR);
				vq_segs_copy_in(pk->seg, pk->nseg, HDR, src, size);
			}
		}
	}
	vq_dev_return(&p->e.dev, b);
	(void)vq_dev_call_needed(&p->e.dev);
	return n;
}

/*
 * One out-of-line function per ring format, direction and copy, so that
 * callgrind counts each case's device work on its own
 * (`callgrind_annotate --inclusive=yes`, divided by the packets printed).
 */
#define DEV_FNS(ring)                                                                              \
	static __attribute__((noinline)) unsigned int dev_##ring##_dequeue_copy(                   \
		struct perf *p, struct vq_burst *b)                                                \
	{                                                                                          \
		return dequeue_burst(p, b, true);                                                  \
	}                                                                                          \
	static __attribute__((noinline)) unsigned int dev_##ring##_dequeue_ring(                   \
		struct perf *p, struct vq_burst *b)                                                \
	{                                                                                          \
		return dequeue_burst(p, b, false);                                                 \
	}                                                                                          \
	static __attribute__((noinline)) unsigned int dev_##ring##_enqueue_copy(                   \
		struct perf *p, struct vq_burst *b, const uint32_t *len, uint32_t size)            \
	{                                                                                          \
		return enqueue_burst(p, b, len, size, true);                                       \
	}                                                                                          \
	static __attribute__((noinline)) unsigned int dev_##ring##_enqueue_ring(                   \
		struct perf *p, struct vq_burst *b, const uint32_t *len, uint32_t size)            \
	{                                                                                          \
		return enqueue_burst(p, b, len, size, false);                                      \
	}
DEV_FNS(split)
DEV_FNS(packed)

/* Guest TX: the device dequeues packets of @p size bytes. */
static int
run_dequeue(uint64_t features, uint32_t size, bool copy, double *dev, double *drv)
{
	const bool packed = features & VQ_FEATURE(VQ_F_RING_PACKED);
	unsigned int (*fn)(struct perf *, struct vq_burst *) =
		packed ? (copy ? dev_packed_dequeue_copy : dev_packed_dequeue_ring)
		       : (copy ? dev_split_dequeue_copy : dev_split_dequeue_ring);
	const uint64_t want = pkts_per_run();
	struct perf p;
	struct vq_burst b;

	if (setup(&p, features, HDR + size, 0) != 0)
		return -1;
	for (unsigned int i = 0; i < RING; i++)
		memset(vq_env_hp(&p.e, (size_t)i * BUF), (int)i, HDR + size);
	while (p.all_pkts < want) {
		uint64_t t0 = cycles();
		unsigned int n = fn(&p, &b);

		account(&p, cycles() - t0, n);
		if (n == 0 || driver_cycle(&p, HDR + size, 0) != 0) {
			teardown(&p);
			return -1;
		}
	}
	/* Every burst preempted (as under valgrind): no cycle figure. */
	*dev = p.pkts != 0 ? (double)p.dev_cycles / (double)p.pkts : 0;
	*drv = p.pkts != 0 ? (double)p.drv_cycles / (double)p.pkts : 0;
	teardown(&p);
	return 0;
}

/* Guest RX: the device enqueues packets of @p size bytes. */
static int
run_enqueue(uint64_t features, uint32_t size, bool copy, double *dev, double *drv)
{
	const bool packed = features & VQ_FEATURE(VQ_F_RING_PACKED);
	unsigned int (*fn)(struct perf *, struct vq_burst *, const uint32_t *, uint32_t) =
		packed ? (copy ? dev_packed_enqueue_copy : dev_packed_enqueue_ring)
		       : (copy ? dev_split_enqueue_copy : dev_split_enqueue_ring);
	const uint64_t want = pkts_per_run();
	struct perf p;
	struct vq_burst b;
	uint32_t len[BURST];

	if (setup(&p, features, BUF, VQ_DESC_F_WRITE) != 0)
		return -1;
	for (unsigned int i = 0; i < BURST; i++)
		len[i] = HDR + size;
	while (p.all_pkts < want) {
		uint64_t t0 = cycles();
		unsigned int n = fn(&p, &b, len, size);

		account(&p, cycles() - t0, n);
		if (n == 0 || driver_cycle(&p, BUF, VQ_DESC_F_WRITE) != 0) {
			teardown(&p);
			return -1;
		}
	}
	/* Every burst preempted (as under valgrind): no cycle figure. */
	*dev = p.pkts != 0 ? (double)p.dev_cycles / (double)p.pkts : 0;
	*drv = p.pkts != 0 ? (double)p.drv_cycles / (double)p.pkts : 0;
	teardown(&p);
	return 0;
}

typedef int (*run_fn)(uint64_t features, uint32_t size, bool copy, double *dev, double *drv);

static int
measure(const char *what, run_fn fn, uint64_t features)
{
	static const uint32_t sizes[2] = {64, 1518};
	const int runs = nb_runs();

	for (int s = 0; s < 2; s++) {
		double dev[RUNS], ring[RUNS], drv[RUNS], unused;

		for (int r = 0; r < runs; r++) {
			TEST_ASSERT_SUCCESS(fn(features, sizes[s], true, &dev[r], &drv[r]), "run");
			TEST_ASSERT_SUCCESS(fn(features, sizes[s], false, &ring[r], &unused),
					    "run");
		}
		double md = median(dev, runs), mr = median(ring, runs), mv = median(drv, runs);

		printf("virtq perf %-22s %4u B: device %6.1f cycles/pkt (best %6.1f), ring work "
		       "alone %5.1f (best %5.1f), driver side %5.1f (best %5.1f)\n",
		       what, sizes[s], md, best(dev), mr, best(ring), mv, best(drv));
	}
	return TEST_SUCCESS;
}

#define EVT VQ_FEATURE(VQ_F_EVENT_IDX)
#define MRG VQ_FEATURE(VQ_NET_F_MRG_RXBUF)
#define ORD VQ_FEATURE(VQ_F_IN_ORDER)
#define PK  VQ_FEATURE(VQ_F_RING_PACKED)

static int
test_split_dequeue(void)
{
	TEST_RUN(measure("split dequeue", run_dequeue, EVT | MRG));
	TEST_RUN(measure("split dequeue in_order", run_dequeue, EVT | MRG | ORD));
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_perf_split_dequeue, perf, test_split_dequeue)

static int
test_split_enqueue(void)
{
	TEST_RUN(measure("split enqueue", run_enqueue, EVT | MRG));
	TEST_RUN(measure("split enqueue in_order", run_enqueue, EVT | MRG | ORD));
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_perf_split_enqueue, perf, test_split_enqueue)

static int
test_packed_dequeue(void)
{
	TEST_RUN(measure("packed dequeue", run_dequeue, PK | EVT | MRG));
	TEST_RUN(measure("packed dequeue in_order", run_dequeue, PK | EVT | MRG | ORD));
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_perf_packed_dequeue, perf, test_packed_dequeue)

static int
test_packed_enqueue(void)
{
	TEST_RUN(measure("packed enqueue", run_enqueue, PK | EVT | MRG));
	TEST_RUN(measure("packed enqueue in_order", run_enqueue, PK | EVT | MRG | ORD));
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_perf_packed_enqueue, perf, test_packed_enqueue)

/*
 * One layout only (VT_PERF_REGIONS=1, 2 or 4): for callgrind, which counts
 * the device functions of a whole process, one layout per process.
 */
static int
regions_one(const char *what, run_fn fn, uint64_t features, bool copy, unsigned int nreg)
{
	const int runs = nb_runs();
	double c[RUNS], unused;

	regions_now = nreg;
	for (int r = 0; r < runs; r++)
		TEST_ASSERT_SUCCESS(fn(features, 64, copy, &c[r], &unused), "run");
	regions_now = 1;
	printf("virtq perf regions %-16s 64 B %-10s: %u region(s) %6.1f cycles/pkt, %d run(s) of "
	       "%" PRIu64 " packets, buffers in runs of %u per region\n",
	       what, copy ? "with copy" : "ring work", nreg, median(c, runs), runs, pkts_per_run(),
	       region_run());
	return TEST_SUCCESS;
}

/*
 * A guest whose buffers lie in 2 or 4 memory regions (an x86 QEMU guest
 * above ~3 GiB has two), alternating from one buffer to the next, against
 * the same traffic in one region; the bar (issue 15): at most 1.05x. The
 * three layouts run in turn within each of the runs, so they see the same
 * machine; the ratio is the median over the runs.
 */
static int
regions_case(const char *what, run_fn fn, uint64_t features, bool copy)
{
	static const unsigned int nregs[3] = {1, 2, 4};
	const unsigned long only = env_num("VT_PERF_REGIONS", 0, 4);
	const int runs = nb_runs();
	double c[3][RUNS], unused;

	if (only != 0)
		return regions_one(what, fn, features, copy, (unsigned int)only);
	for (int r = 0; r < runs; r++)
		for (int k = 0; k < 3; k++) {
			regions_now = nregs[k];
			TEST_ASSERT_SUCCESS(fn(features, 64, copy, &c[k][r], &unused), "run");
		}
	regions_now = 1;
	char runs2[RUNS * 8] = "", runs4[RUNS * 8] = "";
	double r2[RUNS], r4[RUNS];

	for (int r = 0; r < runs; r++) {
		/* Each run's layouts ran back to back: their ratio is a same-run one. */
		r2[r] = c[1][r] / c[0][r];
		r4[r] = c[2][r] / c[0][r];
		snprintf(runs2 + strlen(runs2), sizeof(runs2) - strlen(runs2), "%s%.2f",
			 r ? ", " : "", r2[r]);
		snprintf(runs4 + strlen(runs4), sizeof(runs4) - strlen(runs4), "%s%.2f",
			 r ? ", " : "", r4[r]);
	}
	double m1 = median(c[0], runs), m2 = median(c[1], runs), m4 = median(c[2], runs);

	printf("virtq perf regions %-16s 64 B %-10s: 1 region %6.1f cycles/pkt, 2 regions %6.1f "
	       "(%.2fx; runs %s), 4 regions %6.1f (%.2fx; runs %s)\n",
	       what, copy ? "with copy" : "ring work", m1, m2, median(r2, runs), runs2, m4,
	       median(r4, runs), runs4);
	return TEST_SUCCESS;
}

static int
test_regions(void)
{
	regions_now = 1;
	TEST_RUN(regions_case("split dequeue", run_dequeue, EVT | MRG, false));
	TEST_RUN(regions_case("split dequeue", run_dequeue, EVT | MRG, true));
	TEST_RUN(regions_case("split enqueue", run_enqueue, EVT | MRG, false));
	TEST_RUN(regions_case("split enqueue", run_enqueue, EVT | MRG, true));
	TEST_RUN(regions_case("packed dequeue", run_dequeue, PK | EVT | MRG, false));
	TEST_RUN(regions_case("packed dequeue", run_dequeue, PK | EVT | MRG, true));
	TEST_RUN(regions_case("packed enqueue", run_enqueue, PK | EVT | MRG, false));
	TEST_RUN(regions_case("packed enqueue", run_enqueue, PK | EVT | MRG, true));
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_perf_regions, perf, test_regions)
