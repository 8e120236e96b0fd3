/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: lib/virtq's device side on rings and guest memory that a
 * hostile driver controls completely.
 *
 * The input chooses the features (split or packed, indirect, event idx, in
 * order, mergeable rx buffers), the queue size and starting position, up
 * to four guest memory regions, and then a program of operations: the
 * guest writing anywhere in the rings or its memory (descriptors, indirect
 * tables, indexes, flags) between the device's takes (TX and RX), untakes,
 * returns, notification decisions and restarts from the saved position.
 *
 * Every ring area and region is its own heap block of exactly the size the
 * spec gives it (the split rings without used_event / avail_event unless
 * EVENT_IDX is negotiated, as lib/vhost maps them), so AddressSanitizer
 * catches the device touching one byte outside. The target also checks what
 * the library promises: every segment lies inside one region, chain and
 * packet lengths add up, a broken queue takes nothing more and logs once.
 *
 * Input format: docs in test/fuzz/README.md ("fuzz_virtq_dev").
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fz_input.h"
#include "fz_virtq.h"
#include "virtq.h"

#define MAX_OPS	   512
#define MAX_BURSTS 4

struct fz_area {
	uint8_t *p;
	size_t len;
};

struct vq_fuzz {
	struct vq_dev q;
	struct vq_dev_config cfg;
	struct vq_memmap map;
	struct fz_area area[3 + FZ_VQ_MAX_REGIONS]; /* desc, driver, device, regions */
	unsigned int nregions;
	uint64_t gpa[FZ_VQ_MAX_REGIONS];
	bool packed;
	int logs; /* log hook calls since the last init */
	/* Bursts taken and not yet returned, oldest first. */
	struct vq_burst burst[MAX_BURSTS];
	unsigned int head, npending;
	bool can_untake; /* the newest burst was taken by the last operation */
	uint8_t scratch[65536 + 16];
};

static void
on_broken(void *arg, int err, const char *msg)
{
	struct vq_fuzz *f = arg;

	(void)msg;
	fz_check(err == -ELOOP || err == -EFAULT || err == -EOVERFLOW || err == -ERANGE ||
			 err == -E2BIG || err == -EINVAL,
		 "queue broken with an undocumented error %d", err);
	f->logs++;
	fz_check(f->logs == 1, "the log hook ran %d times for one breakage", f->logs);
}

/* The region holding [p, p + len), or -1. */
static int
region_of(const struct vq_fuzz *f, const uint8_t *p, uint32_t len)
{
	for (unsigned int i = 0; i < f->nregions; i++) {
		const struct fz_area *a = &f->area[3 + i];

		if (p >= a->p && (size_t)(p - a->p) <= a->len && len <= a->len - (size_t)(p - a->p))
			return (int)i;
	}
	return -1;
}

/* What the library promises about a burst's chains. */
static void
check_chains(struct vq_fuzz *f, const struct vq_burst *b, bool rx)
{
	fz_check(b->nseg <= VQ_BURST_SEGS, "burst uses %u segments", b->nseg);
	fz_check(b->nchain <= VQ_BURST_CHAINS, "burst has %u chains", b->nchain);
	for (unsigned int i = 0; i < b->nchain; i++) {
		const struct vq_chain *c = &b->chain[i];
		uint64_t r = 0, w = 0;

		if (c->flags & VQ_CHAIN_F_OVERSIZE) {
			fz_check(!rx, "an oversize chain taken for RX");
			fz_check(c->nseg == 0, "an oversize chain with %u segments", c->nseg);
			continue;
		}
		fz_check(c->seg >= b->seg && c->seg + c->nseg <= b->seg + b->nseg,
			 "chain %u's segments lie outside the burst", i);
		fz_check(c->nread <= c->nseg, "chain %u: %u readable of %u", i, c->nread, c->nseg);
		fz_check(!rx || c->nread == 0, "an RX chain with readable segments");
		for (unsigned int s = 0; s < c->nseg; s++) {
			const struct vq_seg *sg = &c->seg[s];

			fz_check(region_of(f, sg->addr, sg->len) >= 0,
				 "chain %u segment %u (%u bytes) lies outside guest memory", i, s,
				 sg->len);
			if (s < c->nread)
				r += sg->len;
			else
				w += sg->len;
		}
		/* take_rx keeps only the writable segments; rlen still counts the rest. */
		fz_check((rx || r == c->rlen) && w == c->wlen,
			 "chain %u: lengths %u/%u, segments add up to %llu/%llu", i, c->rlen,
			 c->wlen, (unsigned long long)r, (unsigned long long)w);
		fz_check(!f->packed || c->ndesc >= 1, "packed chain %u occupies no slot", i);
	}
}

static struct vq_burst *
burst_new(struct vq_fuzz *f)
{
	if (f->npending == MAX_BURSTS)
		return NULL;
	return &f->burst[(f->head + f->npending) % MAX_BURSTS];
}

static void
burst_push(struct vq_fuzz *f, struct vq_burst *b)
{
	if (b->nchain == 0)
		return;
	f->npending++;
	f->can_untake = true;
}

static void
burst_return_oldest(struct vq_fuzz *f)
{
	if (f->npending == 0)
		return;
	vq_dev_return(&f->q, &f->burst[f->head]);
	f->head = (f->head + 1) % MAX_BURSTS;
	f->npending--;
}

static void
op_take(struct vq_fuzz *f, struct fz_input *in)
{
	unsigned int max = fz_u8(in) % (VQ_BURST_MAX + 2), n, k;
	struct vq_burst *b = burst_new(f);
	bool broken = vq_dev_error(&f->q) != 0;

	if (b == NULL)
		return;
	n = vq_dev_take(&f->q, b, max);
	fz_check(n == b->nchain, "take returned %u for %u chains", n, b->nchain);
	fz_check(n <= max && n <= VQ_BURST_MAX, "took %u chains, at most %u asked", n, max);
	fz_check(!broken || n == 0, "a broken queue took %u chains", n);
	check_chains(f, b, false);
	/* Read every byte the device would send, through the copy helper. */
	for (k = 0; k < n; k++) {
		const struct vq_chain *c = &b->chain[k];

		if (c->rlen <= sizeof(f->scratch))
			fz_check(vq_segs_copy_out(c->seg, c->nread, 0, f->scratch, c->rlen) ==
					 c->rlen,
				 "copy_out fell short");
	}
	burst_push(f, b);
}

static void
op_take_rx(struct vq_fuzz *f, struct fz_input *in)
{
	unsigned int n = fz_u8(in) % (VQ_BURST_MAX + 1), got;
	uint32_t len[VQ_BURST_MAX];
	struct vq_burst *b = burst_new(f);
	bool broken = vq_dev_error(&f->q) != 0;

	for (unsigned int i = 0; i < n; i++)
		len[i] = fz_u16(in);
	if (b == NULL)
		return;
	got = vq_dev_take_rx(&f->q, b, len, n);
	fz_check(got == b->npkt && got <= n, "take_rx placed %u of %u (npkt %u)", got, n, b->npkt);
	fz_check(!broken || got == 0, "a broken queue placed %u packets", got);
	fz_check(got > 0 || b->nchain == 0, "no packet placed but %u chains kept", b->nchain);
	check_chains(f, b, true);
	for (unsigned int p = 0; p < got; p++) {
		const struct vq_pkt *pk = &b->pkt[p];
		unsigned int end = p + 1 < got ? b->pkt[p + 1].chain : b->nchain;
		uint64_t room = 0, used = 0;

		fz_check(pk->len == len[p], "packet %u: length %u, asked %u", p, pk->len, len[p]);
		fz_check(pk->nbufs >= 1 && pk->chain + pk->nbufs == end,
			 "packet %u: %u buffers from chain %u, next packet at %u", p, pk->nbufs,
			 pk->chain, end);
		fz_check(pk->nbufs == 1 || (f->cfg.features & VQ_FEATURE(VQ_NET_F_MRG_RXBUF)),
			 "packet %u spans %u buffers without MRG_RXBUF", p, pk->nbufs);
		for (unsigned int s = 0; s < pk->nseg; s++) {
			fz_check(region_of(f, pk->seg[s].addr, pk->seg[s].len) >= 0,
				 "packet %u segment %u lies outside guest memory", p, s);
			room += pk->seg[s].len;
		}
		for (unsigned int c = pk->chain; c < end; c++)
			used += b->chain[c].used_len;
		fz_check(room >= pk->len, "packet %u: %llu bytes of room for %u", p,
			 (unsigned long long)room, pk->len);
		fz_check(used == pk->len, "packet %u: used lengths add up to %llu, not %u", p,
			 (unsigned long long)used, pk->len);
		memset(f->scratch, (int)(p + 1), pk->len);
		fz_check(vq_segs_copy_in(pk->seg, pk->nseg, 0, f->scratch, pk->len) == pk->len,
			 "copy_in fell short");
	}
	burst_push(f, b);
}

static void
op_untake(struct vq_fuzz *f, struct fz_input *in)
{
	uint8_t v = fz_u8(in);
	struct vq_burst *b;
	unsigned int keep;

	if (!f->can_untake || f->npending == 0)
		return;
	b = &f->burst[(f->head + f->npending - 1) % MAX_BURSTS];
	if (b->npkt > 0) {
		unsigned int p = v % (b->npkt + 1u);

		keep = p < b->npkt ? b->pkt[p].chain : b->nchain;
	} else {
		keep = v % (b->nchain + 1u);
	}
	vq_dev_untake(&f->q, b, keep);
	fz_check(b->nchain == keep, "untake kept %u, asked %u", b->nchain, keep);
	if (b->nchain == 0)
		f->npending--;
	f->can_untake = false;
}

/* The guest writes @p len bytes at @p off of area @p a (clipped to it). */
static void
guest_write(struct vq_fuzz *f, unsigned int a, uint32_t off, const void *src, size_t len)
{
	struct fz_area *ar = &f->area[a % (3 + f->nregions)];

	if (ar->len == 0)
		return;
	off %= (uint32_t)ar->len;
	if (len > ar->len - off)
		len = ar->len - off;
	memcpy(ar->p + off, src, len);
}

static void
op_write(struct vq_fuzz *f, struct fz_input *in)
{
	unsigned int a = fz_u8(in);
	uint32_t off = fz_u16(in);
	size_t len = fz_u8(in);
	uint8_t buf[256];

	len = fz_bytes(in, buf, len);
	guest_write(f, a, off, buf, len);
}

static void
op_write16(struct vq_fuzz *f, struct fz_input *in)
{
	unsigned int a = fz_u8(in);
	uint32_t off = (uint32_t)fz_u16(in) & ~1u;
	uint16_t v = fz_u16(in);

	guest_write(f, a, off, &v, sizeof(v));
}

/* A descriptor pointing into region r: the common way a driver writes one. */
static void
op_desc(struct vq_fuzz *f, struct fz_input *in)
{
	unsigned int a = fz_u8(in), r = fz_u8(in) % f->nregions;
	uint32_t idx = fz_u16(in);
	uint8_t d[16];
	uint64_t addr = f->gpa[r] + fz_u16(in);
	uint32_t len = fz_u32(in);
	uint16_t flags = fz_u16(in), next = fz_u16(in);

	/* Descriptor layouts: split addr,len,flags,next; packed addr,len,id,flags. */
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	if (f->packed) {
		memcpy(d + 12, &next, 2);
		memcpy(d + 14, &flags, 2);
	} else {
		memcpy(d + 12, &flags, 2);
		memcpy(d + 14, &next, 2);
	}
	/* Area 0 is the ring; others are regions (indirect tables). */
	a = a % (1 + f->nregions);
	guest_write(f, a == 0 ? 0 : 2 + a, idx * 16, d, sizeof(d));
}

/* Makes slot / entry @p v available the way a driver does. */
static void
op_avail(struct vq_fuzz *f, struct fz_input *in)
{
	uint16_t v = fz_u16(in);
	uint8_t w = fz_u8(in);

	if (f->packed) {
		struct vq_pdesc *d = (struct vq_pdesc *)(void *)f->area[0].p;
		uint16_t slot = (uint16_t)(v % f->cfg.size);

		d[slot].flags = (uint16_t)((d[slot].flags & ~(VQ_DESC_F_AVAIL | VQ_DESC_F_USED)) |
					   ((w & 1) ? VQ_DESC_F_AVAIL : VQ_DESC_F_USED));
	} else {
		struct vq_avail *av = (struct vq_avail *)(void *)f->area[1].p;

		av->ring[av->idx % f->cfg.size] = v;
		__atomic_store_n(&av->idx, (uint16_t)(av->idx + 1), __ATOMIC_RELEASE);
	}
}

static int
queue_init(struct vq_fuzz *f)
{
	f->logs = 0;
	return vq_dev_init(&f->q, &f->cfg);
}

/* GET_VRING_BASE then SET_VRING_BASE: everything returned, restart from the position. */
static void
op_restart(struct vq_fuzz *f)
{
	struct vq_dev_state st, back;
	uint32_t base;
	int rc;

	while (f->npending > 0)
		burst_return_oldest(f);
	vq_dev_get_state(&f->q, &st);
	base = vq_dev_state_to_vring_base(&st, f->packed);
	vq_dev_state_from_vring_base(base, f->packed, &back);
	/*
	 * Exact unless a packed used half of 0 reads as "not sent" (used =
	 * avail): that is lossy only for a position the driver made
	 * inconsistent through its starting base.
	 */
	fz_check(back.last_avail == st.last_avail && back.avail_wrap == st.avail_wrap &&
			 ((f->packed && (base >> 16) == 0) ||
			  (back.used_idx == st.used_idx && back.used_wrap == st.used_wrap)),
		 "vring base 0x%x does not round-trip (%u/%u %u/%u)", base, st.last_avail,
		 st.avail_wrap, st.used_idx, st.used_wrap);
	f->cfg.state = st;
	rc = queue_init(f);
	fz_check(rc == 0, "a queue does not restart from its own position (%d)", rc);
}

static int
setup(struct vq_fuzz *f, struct fz_input *in)
{
	uint8_t sel = fz_u8(in);
	uint16_t size_sel = fz_u16(in);
	uint32_t base = fz_u32(in);
	bool ev;

	f->cfg.features = fz_vq_features(sel);
	f->packed = (f->cfg.features & VQ_FEATURE(VQ_F_RING_PACKED)) != 0;
	ev = (f->cfg.features & VQ_FEATURE(VQ_F_EVENT_IDX)) != 0;
	f->cfg.size = fz_vq_size(size_sel, f->packed);
	vq_dev_state_from_vring_base(base, f->packed, &f->cfg.state);
	f->nregions = 1 + fz_u8(in) % FZ_VQ_MAX_REGIONS;
	vq_memmap_init(&f->map);
	for (unsigned int i = 0; i < f->nregions; i++) {
		struct fz_area *a = &f->area[3 + i];

		f->gpa[i] = fz_u64(in);
		a->len = fz_vq_region_size(fz_u16(in));
		a->p = calloc(1, a->len);
		if (a->p == NULL)
			return -1;
		/* Overlapping or wrapping regions are refused: the map stays valid. */
		(void)vq_memmap_add(&f->map, f->gpa[i], a->len, a->p);
	}
	f->area[0].len = 16 * (size_t)f->cfg.size;
	f->area[1].len = f->packed ? 4 : 4 + 2 * (size_t)f->cfg.size + (ev ? 2 : 0);
	f->area[2].len = f->packed ? 4 : 4 + 8 * (size_t)f->cfg.size + (ev ? 2 : 0);
	for (unsigned int i = 0; i < 3; i++)
		if (posix_memalign((void **)&f->area[i].p, 16, f->area[i].len) != 0)
			return -1;
		else
			memset(f->area[i].p, 0, f->area[i].len);
	f->cfg.desc = f->area[0].p;
	f->cfg.driver_area = f->area[1].p;
	f->cfg.device_area = f->area[2].p;
	f->cfg.map = &f->map;
	f->cfg.log = on_broken;
	f->cfg.log_arg = f;
	return queue_init(f);
}

static void
teardown(struct vq_fuzz *f)
{
	for (unsigned int i = 0; i < 3 + FZ_VQ_MAX_REGIONS; i++)
		free(f->area[i].p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_fuzz fz;
	struct vq_fuzz *f = &fz;
	struct fz_input in;

	memset(f, 0, sizeof(*f));
	fz_init(&in, data, size);
	if (setup(f, &in) != 0) {
		teardown(f);
		return 0;
	}
	for (int ops = 0; ops < MAX_OPS && !fz_empty(&in); ops++) {
		uint8_t op = fz_u8(&in);
		bool untake_ok = false;

		switch (op % FZ_VQ_OPS) {
		case FZ_VQ_OP_TAKE:
			op_take(f, &in);
			untake_ok = true;
			break;
		case FZ_VQ_OP_TAKE_RX:
			op_take_rx(f, &in);
			untake_ok = true;
			break;
		case FZ_VQ_OP_RETURN:
			burst_return_oldest(f);
			break;
		case FZ_VQ_OP_UNTAKE:
			op_untake(f, &in);
			break;
		case FZ_VQ_OP_WRITE:
			op_write(f, &in);
			untake_ok = f->can_untake;
			break;
		case FZ_VQ_OP_WRITE16:
			op_write16(f, &in);
			untake_ok = f->can_untake;
			break;
		case FZ_VQ_OP_CALL:
			(void)vq_dev_call_needed(&f->q);
			break;
		case FZ_VQ_OP_KICK:
			if (fz_u8(&in) & 1)
				(void)vq_dev_kick_enable(&f->q);
			else
				vq_dev_kick_disable(&f->q);
			break;
		case FZ_VQ_OP_HINT: {
			unsigned int max = fz_u8(&in), h = vq_dev_avail_hint(&f->q, max);

			fz_check(h <= max, "avail hint %u above its cap %u", h, max);
			fz_check(vq_dev_error(&f->q) == 0 || h == 0, "a broken queue hints %u", h);
			untake_ok = f->can_untake;
			break;
		}
		case FZ_VQ_OP_RESTART:
			op_restart(f);
			break;
		case FZ_VQ_OP_DESC:
			op_desc(f, &in);
			untake_ok = f->can_untake;
			break;
		case FZ_VQ_OP_AVAIL:
			op_avail(f, &in);
			untake_ok = f->can_untake;
			break;
		}
		if (!untake_ok)
			f->can_untake = false;
	}
	while (f->npending > 0)
		burst_return_oldest(f);
	teardown(f);
	return 0;
}
