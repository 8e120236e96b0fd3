/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq: driver and device side in two threads on the same rings, as
 * between a guest and the switch: every byte and length is checked while
 * both sides run concurrently, so a missing barrier or a value read twice
 * from shared memory shows up as corrupt data or a stuck ring. Both threads
 * poll (yielding when idle); a stuck ring is one on which neither side has
 * moved for STALL_MS (not a deadline for the whole run, which a loaded
 * machine can miss without anything being wrong).
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "test.h"
#include "vq_harness.h"

#define NPKT	 100000
#define RING	 64
#define BUF	 2048
#define HDR	 12
#define STALL_MS 5000 /* no progress for this long: the ring is stuck */

struct tctx {
	struct vq_env e;
	bool rx; /* device writes (guest RX) instead of reading (guest TX) */
	bool mrg;
	int failed; /* set by either thread */
	char why[160];
	uint64_t start_ms;
	uint64_t progress_ms; /* last time either side moved a packet */
};

static void
fail(struct tctx *t, const char *why, uint32_t seq)
{
	if (!__atomic_exchange_n(&t->failed, 1, __ATOMIC_ACQ_REL))
		snprintf(t->why, sizeof(t->why), "%s (seq %u)", why, seq);
}

static bool
stop(struct tctx *t)
{
	if (__atomic_load_n(&t->failed, __ATOMIC_ACQUIRE))
		return true;
	/* Read the last progress before the clock: the other thread may store a
	 * later time at any moment, and now - last must not go below zero. */
	uint64_t last = __atomic_load_n(&t->progress_ms, __ATOMIC_ACQUIRE);
	uint64_t now = vt_now_ms();

	if (now > last && now - last > STALL_MS) {
		fail(t, "neither side moved for STALL_MS (5 s): ring stuck", 0);
		return true;
	}
	return false;
}

static void
progressed(struct tctx *t)
{
	__atomic_store_n(&t->progress_ms, vt_now_ms(), __ATOMIC_RELAXED);
}

static uint8_t
pat(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 13u + i * 3u + (i >> 7));
}

static uint32_t
pkt_len(const struct tctx *t, uint32_t seq)
{
	/* Only a mergeable receive packet may outgrow one buffer. */
	return HDR + 1 + (seq * 2654435761u >> 9) % (t->rx && t->mrg ? 4000 : BUF - HDR - 1);
}

/* Driver thread: posts and reaps, NPKT packets (tx) or buffers for them (rx). */
static void *
driver_main(void *arg)
{
	struct tctx *t = arg;
	struct vq_drv *q = &t->e.drv;
	uint16_t free_buf[RING];
	unsigned int nfree = 0;
	uint32_t post_seq = 0, reap_seq = 0, got = 0, bufs = 0, nbufs = 0;
	static __thread uint8_t pkt[8192];

	for (unsigned int i = 0; i < RING; i++)
		free_buf[nfree++] = (uint16_t)i;
	while (reap_seq < NPKT && !stop(t)) {
		struct vq_drv_seg seg[16][3];
		struct vq_drv_chain ch[16];
		void *ck[32];
		uint32_t len[32];
		unsigned int n = 0, posted, r;

		while (n < 16 && nfree && (t->rx || post_seq + n < NPKT)) {
			uint16_t b = free_buf[--nfree];
			uint8_t *h = vq_env_hp(&t->e, (size_t)b * BUF);
			uint64_t ga = vq_env_ga(&t->e, (size_t)b * BUF);
			uint32_t l = t->rx ? (t->mrg ? 1024 : BUF) : pkt_len(t, post_seq + n);

			if (!t->rx)
				for (uint32_t i = 0; i < l; i++)
					h[i] = pat(post_seq + n, i);
			/* Two or three elements, so chains and indirect tables run too. */
			seg[n][0] = (struct vq_drv_seg){ga, HDR, t->rx ? VQ_DESC_F_WRITE : 0, 0};
			seg[n][1] = (struct vq_drv_seg){ga + HDR, (l - HDR) / 2,
							t->rx ? VQ_DESC_F_WRITE : 0, 0};
			seg[n][2] = (struct vq_drv_seg){ga + HDR + (l - HDR) / 2,
							l - HDR - (l - HDR) / 2,
							t->rx ? VQ_DESC_F_WRITE : 0, 0};
			ch[n].cookie = (void *)(uintptr_t)(b + 1u);
			ch[n].seg = seg[n];
			ch[n].nseg = (l - HDR) / 2 ? 3 : 1;
			if (ch[n].nseg == 1)
				seg[n][0].len = l;
			n++;
		}
		posted = vq_drv_post(q, ch, n);
		for (unsigned int i = n; i > posted; i--)
			free_buf[nfree++] = (uint16_t)((uintptr_t)ch[i - 1].cookie - 1u);
		if (!t->rx)
			post_seq += posted;
		r = vq_drv_reap(q, ck, len, 32);
		if (vq_drv_error(q)) {
			fail(t, "driver queue broken", reap_seq);
			break;
		}
		for (unsigned int i = 0; i < r; i++) {
			uint16_t b = (uint16_t)((uintptr_t)ck[i] - 1u);
			const uint8_t *h = vq_env_hp(&t->e, (size_t)b * BUF);

			free_buf[nfree++] = b;
			if (!t->rx) {
				reap_seq++;
				continue;
			}
			/* Reassemble and check a received packet. */
			if (bufs == 0)
				nbufs = (uint32_t)(h[10] | h[11] << 8);
			if (got + len[i] > sizeof(pkt)) {
				fail(t, "packet too long", reap_seq);
				break;
			}
			memcpy(pkt + got, h, len[i]);
			got += len[i];
			if (++bufs < nbufs)
				continue;
			if (got != pkt_len(t, reap_seq)) {
				fail(t, "rx length", reap_seq);
				break;
			}
			for (uint32_t k = HDR; k < got; k++)
				if (pkt[k] != pat(reap_seq, k)) {
					fail(t, "rx payload", reap_seq);
					break;
				}
			reap_seq++;
			got = bufs = 0;
		}
		if (r == 0 && posted == 0)
			sched_yield();
		else
			progressed(t);
	}
	return NULL;
}

/* Device thread: takes and checks (tx) or places and writes (rx) NPKT packets. */
static void *
device_main(void *arg)
{
	struct tctx *t = arg;
	struct vq_dev *q = &t->e.dev;
	struct vq_burst *b = malloc(sizeof(*b));
	uint32_t seq = 0;

	if (b == NULL) {
		fail(t, "alloc", 0);
		return NULL;
	}
	while (seq < NPKT && !stop(t)) {
		unsigned int n;

		if (t->rx) {
			uint32_t len[VQ_BURST_MAX];
			unsigned int want = NPKT - seq < VQ_BURST_MAX ? NPKT - seq : VQ_BURST_MAX;

			for (unsigned int i = 0; i < want; i++)
				len[i] = pkt_len(t, seq + i);
			n = vq_dev_take_rx(q, b, len, want);
			for (unsigned int i = 0; i < n; i++) {
				const struct vq_pkt *pk = &b->pkt[i];
				uint8_t data[8192];

				memset(data, 0, HDR);
				data[10] = (uint8_t)pk->nbufs;
				data[11] = (uint8_t)(pk->nbufs >> 8);
				for (uint32_t k = HDR; k < pk->len; k++)
					data[k] = pat(seq, k);
				vq_segs_copy_in(pk->seg, pk->nseg, 0, data, pk->len);
				seq++;
			}
		} else {
			n = vq_dev_take(q, b, VQ_BURST_MAX);
			for (unsigned int i = 0; i < n; i++) {
				const struct vq_chain *c = &b->chain[i];
				uint8_t data[BUF];
				uint32_t l =
					vq_segs_copy_out(c->seg, c->nread, 0, data, sizeof(data));

				if (l != c->rlen || l != pkt_len(t, seq)) {
					fail(t, "tx length", seq);
					break;
				}
				for (uint32_t k = 0; k < l; k++)
					if (data[k] != pat(seq, k)) {
						fail(t, "tx payload", seq);
						break;
					}
				seq++;
			}
		}
		if (vq_dev_error(q)) {
			fail(t, "device queue broken", seq);
			break;
		}
		vq_dev_return(q, b);
		(void)vq_dev_call_needed(q);
		if (n == 0)
			sched_yield();
		else
			progressed(t);
	}
	free(b);
	return NULL;
}

static int
run(uint64_t features, bool rx)
{
	struct tctx *t = calloc(1, sizeof(*t));
	pthread_t drv, dev;
	unsigned int ind = (features & VQ_FEATURE(VQ_F_INDIRECT_DESC)) ? 4 : 0;

	TEST_ASSERT_NOT_NULL(t, "alloc");
	t->rx = rx;
	t->mrg = features & VQ_FEATURE(VQ_NET_F_MRG_RXBUF);
	TEST_ASSERT_SUCCESS(vq_env_pair(&t->e, RING, features, ind, (size_t)RING * BUF), "env");
	vq_dev_kick_disable(&t->e.dev);
	vq_drv_call_disable(&t->e.drv);
	t->start_ms = vt_now_ms();
	t->progress_ms = t->start_ms;
	TEST_ASSERT_SUCCESS(pthread_create(&dev, NULL, device_main, t), "device thread");
	TEST_ASSERT_SUCCESS(pthread_create(&drv, NULL, driver_main, t), "driver thread");
	pthread_join(drv, NULL);
	pthread_join(dev, NULL);
	printf("%s: %u packets in %llu ms\n", rx ? "rx" : "tx", NPKT,
	       (unsigned long long)(vt_now_ms() - t->start_ms));
	int failed = t->failed;
	int log_calls = t->e.log_calls;
	char why[sizeof(t->why)];

	memcpy(why, t->why, sizeof(why));
	vq_env_free(&t->e);
	free(t);
	TEST_ASSERT(!failed, "%s: %s", rx ? "rx" : "tx", why);
	TEST_ASSERT_EQUAL(log_calls, 0, "nothing logged");
	return TEST_SUCCESS;
}

#define IND VQ_FEATURE(VQ_F_INDIRECT_DESC)
#define EVT VQ_FEATURE(VQ_F_EVENT_IDX)
#define ORD VQ_FEATURE(VQ_F_IN_ORDER)
#define MRG VQ_FEATURE(VQ_NET_F_MRG_RXBUF)
#define PK  VQ_FEATURE(VQ_F_RING_PACKED)

static int
test_split(void)
{
	TEST_RUN(run(EVT, false));
	TEST_RUN(run(EVT, true));
	TEST_RUN(run(IND | EVT | ORD | MRG, false));
	TEST_RUN(run(IND | EVT | ORD | MRG, true));
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_threads_split_driver_and_device_run_concurrently, fast, test_split)

static int
test_packed(void)
{
	TEST_RUN(run(PK | EVT, false));
	TEST_RUN(run(PK | EVT, true));
	TEST_RUN(run(PK | IND | EVT | ORD | MRG, false));
	TEST_RUN(run(PK | IND | EVT | ORD | MRG, true));
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_threads_packed_driver_and_device_run_concurrently, fast, test_packed)
