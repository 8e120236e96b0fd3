/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq: our driver side and our device side against each other on
 * rings in local guarded memory, for one feature combination.
 *
 * Transmit (driver -> device): the driver posts packets as chains of 1-4
 * readable elements (indirect when negotiated); the device checks every
 * byte, returns them; the driver reaps cookies in order.
 * Receive (device -> driver): the driver posts writable buffers; the device
 * places packets (mergeable across buffers when MRG_RXBUF), writes a
 * header with num_buffers and the payload; the driver reassembles and
 * checks every byte and length.
 *
 * Both sides sleep the way a real one does: a device that finds nothing
 * enables kicks and sleeps unless work appeared; a driver that finds
 * nothing used enables calls. A post that leaves a sleeping device without
 * a kick (or a return that leaves a sleeping driver without a call) is a
 * lost wakeup and fails the test; notifications sent to an awake side are
 * counted as spurious and bounded.
 *
 * More than 65536 packets go through a small ring, so the split indexes
 * wrap and the packed wrap counters flip thousands of times.
 */
#include <stdlib.h>

#include "test.h"
#include "vq_harness.h"
#include "vq_pair.h"

#define BUF_SIZE  2048
#define HDR_LEN	  12 /* virtio_net_hdr_mrg_rxbuf */
#define MRG_BUF	  512
#define MAX_Q	  16
#define TOTAL	  70000
#define MAX_STEPS 20000000

struct track {
	uint32_t seq;
	uint32_t len; /* bytes posted (tx: packet length; rx: buffer room) */
	uint16_t buf;
};

struct pair {
	struct vq_env e;
	uint64_t features;
	bool packed, mrg, event_idx;
	uint32_t rng;
	uint16_t free_buf[MAX_Q];
	unsigned int nfree;
	struct track track[MAX_Q];
	bool dev_asleep, drv_asleep;
	unsigned long kicks, calls, awake_kicks, awake_calls, dev_sleeps, drv_sleeps;
	uint8_t scratch[8192];
	uint8_t want[8192];
};

static uint32_t
rnd(struct pair *p, uint32_t n)
{
	p->rng = p->rng * 1103515245u + 12345u;
	return (p->rng >> 8) % n;
}

static void
pattern(uint8_t *dst, uint32_t seq, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		dst[i] = (uint8_t)(seq * 31u + i * 7u + (i >> 8));
}

/* Receive packet lengths come from the sequence number, so both sides know. */
static uint32_t
rx_len(const struct pair *p, uint32_t seq)
{
	uint32_t h = seq * 2654435761u;

	return HDR_LEN + 1 + (h >> 7) % (p->mrg ? 3000 : BUF_SIZE - HDR_LEN - 1);
}

static int
pair_init(struct pair *p, uint64_t features, uint32_t seed)
{
	const bool packed = features & VQ_FEATURE(VQ_F_RING_PACKED);
	const unsigned int size = packed ? 13 : MAX_Q;
	const unsigned int ind = (features & VQ_FEATURE(VQ_F_INDIRECT_DESC)) ? 8 : 0;
	int rc;

	memset(p, 0, sizeof(*p));
	p->features = features;
	p->packed = packed;
	p->mrg = features & VQ_FEATURE(VQ_NET_F_MRG_RXBUF);
	p->event_idx = features & VQ_FEATURE(VQ_F_EVENT_IDX);
	p->rng = seed;
	rc = vq_env_pair(&p->e, size, features, ind, (size_t)MAX_Q * BUF_SIZE);
	if (rc)
		return rc;
	for (unsigned int i = 0; i < MAX_Q; i++)
		p->free_buf[p->nfree++] = (uint16_t)i;
	/* Both sides start polling with notifications off. */
	vq_dev_kick_disable(&p->e.dev);
	vq_drv_call_disable(&p->e.drv);
	return 0;
}

/* After a post: a sleeping device must be kicked. */
static int
after_post(struct pair *p, unsigned int posted)
{
	bool kick = vq_drv_kick_needed(&p->e.drv);

	if (posted && p->dev_asleep)
		TEST_ASSERT(kick, "lost kick: device asleep, %u posted, no kick", posted);
	if (kick) {
		p->kicks++;
		if (!p->dev_asleep)
			p->awake_kicks++;
		p->dev_asleep = false;
		vq_dev_kick_disable(&p->e.dev);
	}
	return TEST_SUCCESS;
}

/* After a return: a sleeping driver must be called. */
static int
after_return(struct pair *p, unsigned int returned)
{
	bool call = vq_dev_call_needed(&p->e.dev);

	if (returned && p->drv_asleep)
		TEST_ASSERT(call, "lost call: driver asleep, %u returned, no call", returned);
	if (call) {
		p->calls++;
		if (!p->drv_asleep)
			p->awake_calls++;
		p->drv_asleep = false;
		vq_drv_call_disable(&p->e.drv);
	}
	return TEST_SUCCESS;
}

/* Nothing to do: enable kicks, then sleep unless work appeared meanwhile,
 * in which case go on polling with kicks off again. */
static void
device_idle(struct pair *p)
{
	if (vq_dev_kick_enable(&p->e.dev)) {
		vq_dev_kick_disable(&p->e.dev);
		return;
	}
	p->dev_asleep = true;
	p->dev_sleeps++;
}

static void
driver_idle(struct pair *p)
{
	if (vq_drv_call_enable(&p->e.drv)) {
		vq_drv_call_disable(&p->e.drv);
		return;
	}
	p->drv_asleep = true;
	p->drv_sleeps++;
}

/* Splits @p len bytes at @p base into up to @p k elements. */
static uint16_t
make_segs(struct pair *p, struct vq_drv_seg *s, uint64_t base, uint32_t len, unsigned int k,
	  uint16_t flags)
{
	uint32_t off = 0;
	uint16_t n = 0;

	if (k > len)
		k = len;
	for (unsigned int i = 0; i < k; i++) {
		uint32_t l = i + 1 == k ? len - off : 1 + rnd(p, len - off - (k - i - 1));

		s[n].addr = base + off;
		s[n].len = l;
		s[n].flags = flags;
		s[n].resv = 0;
		n++;
		off += l;
	}
	return n;
}

static int
check_spurious(struct pair *p, const char *dir, unsigned long total)
{
	printf("%s: %lu packets; kicks %lu (to awake device %lu), calls %lu (to awake driver %lu); "
	       "device slept %lu times, driver %lu\n",
	       dir, total, p->kicks, p->awake_kicks, p->calls, p->awake_calls, p->dev_sleeps,
	       p->drv_sleeps);
	/* Flags and packed DESC/DISABLE suppression are exact; a split
	 * EVENT_IDX side leaves a stale event index, crossed once per 65536. */
	unsigned long allowed = (p->event_idx && !p->packed) ? total / 65536 + 2 : 0;

	TEST_ASSERT(p->awake_kicks <= allowed, "%lu kicks to an awake device (allowed %lu)",
		    p->awake_kicks, allowed);
	TEST_ASSERT(p->awake_calls <= allowed, "%lu calls to an awake driver (allowed %lu)",
		    p->awake_calls, allowed);
	TEST_ASSERT(p->dev_sleeps > 0 && p->drv_sleeps > 0, "both sides slept at least once");
	TEST_ASSERT_EQUAL(vq_dev_error(&p->e.dev), 0, "device healthy");
	TEST_ASSERT_EQUAL(vq_drv_error(&p->e.drv), 0, "driver healthy");
	TEST_ASSERT_EQUAL(p->e.log_calls, 0, "nothing logged");
	return TEST_SUCCESS;
}

/* ---- transmit: driver -> device ---- */

static int
tx_post(struct pair *p, uint32_t *seq)
{
	struct vq_drv_seg segs[8][4];
	struct vq_drv_chain ch[8];
	unsigned int want = 1 + rnd(p, 8), n = 0, posted;

	while (n < want && p->nfree) {
		uint16_t buf = p->free_buf[--p->nfree];
		struct track *t = &p->track[buf];
		uint32_t len = 1 + rnd(p, 1600);

		t->seq = *seq + n;
		t->len = len;
		t->buf = buf;
		pattern(vq_env_hp(&p->e, (size_t)buf * BUF_SIZE), t->seq, len);
		ch[n].cookie = t;
		ch[n].seg = segs[n];
		ch[n].nseg = make_segs(p, segs[n], vq_env_ga(&p->e, (size_t)buf * BUF_SIZE), len,
				       1 + rnd(p, 4), 0);
		n++;
	}
	posted = vq_drv_post(&p->e.drv, ch, n);
	/* Unposted buffers go back to the pool (descriptors ran out). */
	for (unsigned int i = n; i > posted; i--)
		p->free_buf[p->nfree++] = ((struct track *)ch[i - 1].cookie)->buf;
	*seq += posted;
	return after_post(p, posted);
}

static int
tx_device(struct pair *p, uint32_t *seq)
{
	struct vq_burst b;
	unsigned int n = vq_dev_take(&p->e.dev, &b, 1 + rnd(p, VQ_BURST_MAX));

	if (n == 0) {
		device_idle(p);
		return TEST_SUCCESS;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct vq_chain *c = &b.chain[i];
		uint32_t got;

		TEST_ASSERT(c->wlen == 0 && c->nread == c->nseg, "all readable");
		got = vq_segs_copy_out(c->seg, c->nread, 0, p->scratch, c->rlen);
		TEST_ASSERT_EQUAL(got, c->rlen, "segments hold rlen");
		pattern(p->want, *seq, c->rlen);
		TEST_ASSERT(memcmp(p->scratch, p->want, c->rlen) == 0, "tx payload of seq %u",
			    *seq);
		(*seq)++;
	}
	vq_dev_return(&p->e.dev, &b);
	return after_return(p, n);
}

static int
tx_reap(struct pair *p, uint32_t *seq, const struct track *pool)
{
	void *cookie[16];
	uint32_t len[16];
	unsigned int n = vq_drv_reap(&p->e.drv, cookie, len, 1 + rnd(p, 16));

	if (n == 0) {
		if (vq_drv_inflight(&p->e.drv))
			driver_idle(p);
		return TEST_SUCCESS;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct track *t = cookie[i];

		TEST_ASSERT(t >= pool && t < pool + MAX_Q, "cookie is ours");
		TEST_ASSERT_EQUAL(t->seq, *seq, "reaped in order");
		TEST_ASSERT_EQUAL(len[i], 0, "nothing written into a tx chain");
		p->free_buf[p->nfree++] = t->buf;
		(*seq)++;
	}
	return TEST_SUCCESS;
}

static int
run_tx(uint64_t features)
{
	struct pair *p = calloc(1, sizeof(*p));
	uint32_t posted = 0, taken = 0, reaped = 0;
	unsigned long steps = 0;

	TEST_ASSERT_NOT_NULL(p, "alloc");
	TEST_ASSERT_SUCCESS(pair_init(p, features, 0x1234u ^ (uint32_t)features), "pair");
	while (reaped < TOTAL) {
		TEST_ASSERT(++steps < MAX_STEPS, "no progress: posted %u taken %u reaped %u",
			    posted, taken, reaped);
		switch (rnd(p, 3)) {
		case 0:
			TEST_RUN(tx_post(p, &posted));
			break;
		case 1:
			if (!p->dev_asleep)
				TEST_RUN(tx_device(p, &taken));
			break;
		default:
			if (!p->drv_asleep)
				TEST_RUN(tx_reap(p, &reaped, p->track));
			break;
		}
	}
	TEST_ASSERT(taken >= reaped && posted >= taken, "counts consistent");
	TEST_RUN(check_spurious(p, "tx", posted));
	vq_env_free(&p->e);
	free(p);
	return TEST_SUCCESS;
}

/* ---- receive: device -> driver ---- */

struct rx_state {
	uint32_t dev_seq; /* next packet the device sends */
	uint32_t drv_seq; /* next packet the driver expects */
	uint32_t got;	  /* bytes of it gathered so far */
	uint16_t bufs;	  /* buffers of it so far */
	uint16_t nbufs;	  /* its num_buffers */
};

static int
rx_post(struct pair *p)
{
	struct vq_drv_seg segs[8][4];
	struct vq_drv_chain ch[8];
	unsigned int want = 1 + rnd(p, 8), n = 0, posted;

	while (n < want && p->nfree) {
		uint16_t buf = p->free_buf[--p->nfree];
		struct track *t = &p->track[buf];
		uint32_t room = p->mrg ? MRG_BUF : BUF_SIZE;

		t->len = room;
		t->buf = buf;
		memset(vq_env_hp(&p->e, (size_t)buf * BUF_SIZE), 0xa5, room);
		ch[n].cookie = t;
		ch[n].seg = segs[n];
		ch[n].nseg = make_segs(p, segs[n], vq_env_ga(&p->e, (size_t)buf * BUF_SIZE), room,
				       1 + rnd(p, p->mrg ? 2 : 3), VQ_DESC_F_WRITE);
		n++;
	}
	posted = vq_drv_post(&p->e.drv, ch, n);
	for (unsigned int i = n; i > posted; i--)
		p->free_buf[p->nfree++] = ((struct track *)ch[i - 1].cookie)->buf;
	return after_post(p, posted);
}

static int
rx_device(struct pair *p, struct rx_state *s)
{
	struct vq_burst b;
	uint32_t len[VQ_BURST_MAX];
	unsigned int want = 1 + rnd(p, VQ_BURST_MAX), n;

	for (unsigned int i = 0; i < want; i++)
		len[i] = rx_len(p, s->dev_seq + i);
	n = vq_dev_take_rx(&p->e.dev, &b, len, want);
	if (n == 0) {
		device_idle(p);
		return TEST_SUCCESS;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct vq_pkt *pk = &b.pkt[i];
		uint8_t hdr[HDR_LEN] = {0};

		TEST_ASSERT_EQUAL(pk->len, len[i], "length kept");
		TEST_ASSERT(p->mrg || pk->nbufs == 1, "one buffer without MRG_RXBUF");
		hdr[10] = (uint8_t)pk->nbufs;
		hdr[11] = (uint8_t)(pk->nbufs >> 8);
		pattern(p->want, s->dev_seq, pk->len - HDR_LEN);
		TEST_ASSERT_EQUAL(vq_segs_copy_in(pk->seg, pk->nseg, 0, hdr, HDR_LEN), HDR_LEN,
				  "header fits");
		TEST_ASSERT_EQUAL(
			vq_segs_copy_in(pk->seg, pk->nseg, HDR_LEN, p->want, pk->len - HDR_LEN),
			pk->len - HDR_LEN, "payload fits");
		s->dev_seq++;
	}
	vq_dev_return(&p->e.dev, &b);
	return after_return(p, b.nchain);
}

static int
rx_reap(struct pair *p, struct rx_state *s, uint32_t *done)
{
	void *cookie[16];
	uint32_t len[16];
	unsigned int n = vq_drv_reap(&p->e.drv, cookie, len, 1 + rnd(p, 16));

	if (n == 0) {
		if (vq_drv_inflight(&p->e.drv))
			driver_idle(p);
		return TEST_SUCCESS;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct track *t = cookie[i];
		const uint8_t *data = vq_env_hp(&p->e, (size_t)t->buf * BUF_SIZE);

		TEST_ASSERT(len[i] <= t->len, "len within the buffer");
		if (s->bufs == 0) {
			TEST_ASSERT(len[i] >= HDR_LEN, "first buffer holds the header");
			s->nbufs = (uint16_t)(data[10] | data[11] << 8);
			TEST_ASSERT(s->nbufs >= 1, "num_buffers");
		}
		TEST_ASSERT(s->got + len[i] <= sizeof(p->scratch), "bounded");
		memcpy(p->scratch + s->got, data, len[i]);
		s->got += len[i];
		s->bufs++;
		/* Every buffer but the packet's last is filled completely. */
		if (s->bufs < s->nbufs)
			TEST_ASSERT_EQUAL(len[i], t->len, "inner buffer full");
		if (s->bufs == s->nbufs) {
			uint32_t want = rx_len(p, s->drv_seq);

			TEST_ASSERT_EQUAL(s->got, want, "rx length of seq %u", s->drv_seq);
			pattern(p->want, s->drv_seq, want - HDR_LEN);
			TEST_ASSERT(memcmp(p->scratch + HDR_LEN, p->want, want - HDR_LEN) == 0,
				    "rx payload of seq %u", s->drv_seq);
			s->drv_seq++;
			s->got = 0;
			s->bufs = 0;
			(*done)++;
		}
		p->free_buf[p->nfree++] = t->buf;
	}
	return TEST_SUCCESS;
}

static int
run_rx(uint64_t features)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct rx_state s = {0};
	uint32_t done = 0;
	unsigned long steps = 0;

	TEST_ASSERT_NOT_NULL(p, "alloc");
	TEST_ASSERT_SUCCESS(pair_init(p, features, 0x4321u ^ (uint32_t)features), "pair");
	while (done < TOTAL) {
		TEST_ASSERT(++steps < MAX_STEPS, "no progress: sent %u received %u", s.dev_seq,
			    done);
		switch (rnd(p, 3)) {
		case 0:
			TEST_RUN(rx_post(p));
			break;
		case 1:
			if (!p->dev_asleep)
				TEST_RUN(rx_device(p, &s));
			break;
		default:
			if (!p->drv_asleep)
				TEST_RUN(rx_reap(p, &s, &done));
			break;
		}
	}
	TEST_RUN(check_spurious(p, "rx", s.dev_seq));
	vq_env_free(&p->e);
	free(p);
	return TEST_SUCCESS;
}

int
vq_pair_run(uint64_t features)
{
	TEST_RUN(run_tx(features));
	TEST_RUN(run_rx(features));
	return TEST_SUCCESS;
}
