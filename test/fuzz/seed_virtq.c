/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seed corpus of fuzz_virtq_dev: real driver traffic. lib/virtq's driver
 * side posts TX chains (a virtio-net header in front of the frame, or in
 * its own element, or split across elements; direct or indirect) and RX
 * buffers, and reaps them, against lib/virtq's device side on the same
 * memory, for several rounds so the indexes and wrap counters go round.
 * Every byte the driver writes becomes a WRITE operation of the fuzz input
 * and every device call its operation, so replaying a seed in the target
 * repeats the exchange exactly; the fuzzer mutates from there.
 *
 *   fuzz-seed-virtq OUTDIR      writes OUTDIR/<name> for each configuration
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fz_input.h"
#include "fz_virtq.h"
#include "virtq.h"

#define G_RING 0x10000ULL	 /* guest address of the driver's ring block (region 0) */
#define G_BUF  0x7f0000000000ULL /* guest address of the buffers (region 1) */
#define NBUF   16
#define BUFSZ  1024

struct gen {
	struct fz_out out;
	struct vq_drv drv;
	struct vq_dev dev;
	struct vq_memmap map;
	uint8_t *block; /* the driver's rings and indirect tables */
	size_t block_len;
	uint8_t *bufs;
	uint8_t *shadow; /* what the fuzz target has of the block */
	uint8_t *bshadow;
	struct vq_ring_layout l;
	size_t area_len[3];
	bool packed;
	bool mrg;
	int nops;
};

/* Emits WRITE operations for what changed in [base, base + len) of fuzz area @p a. */
static void
emit_diff(struct gen *g, unsigned int a, const uint8_t *now, uint8_t *shadow, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j, n;

		if (now[i] == shadow[i]) {
			i++;
			continue;
		}
		/* A run of up to 255 bytes starting at the first difference. */
		for (j = i, n = 0; j < len && n < 255; j++, n++)
			if (now[j] == shadow[j] && (j + 1 >= len || now[j + 1] == shadow[j + 1]))
				break;
		fz_put_u8(&g->out, FZ_VQ_OP_WRITE);
		fz_put_u8(&g->out, (uint8_t)a);
		fz_put_u16(&g->out, (uint16_t)i);
		fz_put_u8(&g->out, (uint8_t)n);
		fz_put(&g->out, now + i, n);
		memcpy(shadow + i, now + i, n);
		g->nops++;
		i += n;
	}
}

/* What the driver wrote since the last call, as guest writes. */
static void
emit_guest_writes(struct gen *g)
{
	const size_t off[3] = {g->l.desc_off, g->l.driver_off, g->l.device_off};

	for (unsigned int a = 0; a < 3; a++)
		emit_diff(g, a, g->block + off[a], g->shadow + off[a], g->area_len[a]);
	/* Indirect tables and everything else of the block: region 0. */
	emit_diff(g, 3, g->block, g->shadow, g->block_len);
	/* The buffers' contents mean nothing to the rings: left out. */
}

/* The device's own writes are not the guest's: the shadow follows them silently. */
static void
sync_shadow(struct gen *g)
{
	memcpy(g->shadow, g->block, g->block_len);
	memcpy(g->bshadow, g->bufs, NBUF * BUFSZ);
}

static void
op(struct gen *g, uint8_t code)
{
	fz_put_u8(&g->out, code);
	g->nops++;
}

static void
log_fail(void *arg, int err, const char *msg)
{
	(void)arg;
	fprintf(stderr, "seed generator: queue broke (%d): %s\n", err, msg);
	exit(1);
}

static uint16_t
size_sel(unsigned int size, bool packed)
{
	for (uint16_t v = 0; v < 1024; v++)
		if (fz_vq_size(v, packed) == size)
			return v;
	return 0;
}

/* Header, regions, and the driver and device set up on them. */
static int
gen_init(struct gen *g, uint8_t sel, unsigned int size)
{
	uint64_t features = fz_vq_features(sel);
	struct vq_drv_config dc = {0};
	struct vq_dev_config vc = {0};
	bool ev = features & VQ_FEATURE(VQ_F_EVENT_IDX);

	memset(g, 0, sizeof(*g));
	g->packed = features & VQ_FEATURE(VQ_F_RING_PACKED);
	g->mrg = features & VQ_FEATURE(VQ_NET_F_MRG_RXBUF);
	dc.size = size;
	dc.features = features;
	dc.indirect_max = (features & VQ_FEATURE(VQ_F_INDIRECT_DESC)) ? 4 : 0;
	dc.mem_iova = G_RING;
	dc.log = log_fail;
	g->block_len = vq_drv_mem_size(&dc);
	if (g->block_len == 0 || g->block_len > 65536)
		return -EINVAL;
	g->block = aligned_alloc(64, (g->block_len + 63) / 64 * 64);
	g->shadow = calloc(1, g->block_len);
	g->bufs = calloc(1, NBUF * BUFSZ);
	g->bshadow = calloc(1, NBUF * BUFSZ);
	if (g->block == NULL || g->shadow == NULL || g->bufs == NULL || g->bshadow == NULL)
		return -ENOMEM;
	memset(g->block, 0, g->block_len);
	dc.mem = g->block;
	if (vq_drv_init(&g->drv, &dc) != 0)
		return -EINVAL;
	g->l = g->drv.layout;
	g->area_len[0] = 16 * (size_t)size;
	g->area_len[1] = g->packed ? 4 : 4 + 2 * (size_t)size + (ev ? 2 : 0);
	g->area_len[2] = g->packed ? 4 : 4 + 8 * (size_t)size + (ev ? 2 : 0);
	vq_memmap_init(&g->map);
	vq_memmap_add(&g->map, G_RING, g->block_len, g->block);
	vq_memmap_add(&g->map, G_BUF, NBUF * BUFSZ, g->bufs);
	vc.size = size;
	vc.features = features;
	vc.desc = g->block + g->l.desc_off;
	vc.driver_area = g->block + g->l.driver_off;
	vc.device_area = g->block + g->l.device_off;
	vc.map = &g->map;
	vc.log = log_fail;
	/* Packed rings start with both wrap counters at 1 (2.8.1). */
	vq_dev_state_from_vring_base(g->packed ? 0x80008000u : 0, g->packed, &vc.state);
	if (vq_dev_init(&g->dev, &vc) != 0)
		return -EINVAL;
	/* The fuzz input's header: the same queue and the same two regions. */
	fz_put_u8(&g->out, sel);
	fz_put_u16(&g->out, size_sel(size, g->packed));
	fz_put_u32(&g->out, g->packed ? 0x80008000u : 0);
	fz_put_u8(&g->out, 1); /* two regions */
	fz_put_u64(&g->out, G_RING);
	fz_put_u16(&g->out, (uint16_t)(g->block_len - 1));
	fz_put_u64(&g->out, G_BUF);
	fz_put_u16(&g->out, NBUF * BUFSZ - 1);
	/* What the driver's init wrote (packed: the descriptors' initial flags). */
	emit_guest_writes(g);
	return 0;
}

static void
gen_free(struct gen *g)
{
	vq_drv_fini(&g->drv);
	free(g->block);
	free(g->shadow);
	free(g->bufs);
	free(g->bshadow);
	free(g->out.buf);
}

/* Posts @p n TX packets in the shape @p shape, with a 12-byte virtio-net header each. */
static unsigned int
post_tx(struct gen *g, unsigned int n, unsigned int shape, unsigned int *next_buf)
{
	struct vq_drv_seg seg[NBUF][4];
	struct vq_drv_chain ch[NBUF];

	for (unsigned int i = 0; i < n; i++) {
		unsigned int b = (*next_buf)++ % NBUF, len = 60 + (b * 97) % 900;
		uint64_t a = G_BUF + (uint64_t)b * BUFSZ;
		uint8_t *p = g->bufs + (size_t)b * BUFSZ;

		memset(p, 0, 12); /* virtio_net_hdr_mrg_rxbuf: no offloads */
		for (unsigned int k = 12; k < 12 + len; k++)
			p[k] = (uint8_t)(k * 7 + b);
		switch (shape % 3) {
		case 0: /* header and frame in one element */
			seg[i][0] = (struct vq_drv_seg){a, 12 + len, 0, 0};
			ch[i].nseg = 1;
			break;
		case 1: /* header, then frame */
			seg[i][0] = (struct vq_drv_seg){a, 12, 0, 0};
			seg[i][1] = (struct vq_drv_seg){a + 12, len, 0, 0};
			ch[i].nseg = 2;
			break;
		default: /* header split across two elements, frame in two */
			seg[i][0] = (struct vq_drv_seg){a, 5, 0, 0};
			seg[i][1] = (struct vq_drv_seg){a + 5, 7, 0, 0};
			seg[i][2] = (struct vq_drv_seg){a + 12, len / 2, 0, 0};
			seg[i][3] = (struct vq_drv_seg){a + 12 + len / 2, len - len / 2, 0, 0};
			ch[i].nseg = 4;
			break;
		}
		ch[i].cookie = (void *)(uintptr_t)(b + 1);
		ch[i].seg = seg[i];
	}
	return vq_drv_post(&g->drv, ch, n);
}

static unsigned int
post_rx(struct gen *g, unsigned int n, unsigned int *next_buf)
{
	uint64_t addr[NBUF];
	uint32_t len[NBUF];
	void *cookie[NBUF];

	for (unsigned int i = 0; i < n; i++) {
		unsigned int b = (*next_buf)++ % NBUF;

		addr[i] = G_BUF + (uint64_t)b * BUFSZ;
		len[i] = BUFSZ;
		cookie[i] = (void *)(uintptr_t)(b + 1);
	}
	return vq_drv_post_buf(&g->drv, addr, len, cookie, n, VQ_DESC_F_WRITE);
}

/* The device takes (TX) what was posted and returns it; the input records the same. */
static void
device_tx(struct gen *g, struct vq_burst *b)
{
	unsigned int n = vq_dev_take(&g->dev, b, VQ_BURST_MAX);

	op(g, FZ_VQ_OP_TAKE);
	fz_put_u8(&g->out, VQ_BURST_MAX);
	(void)n;
	vq_dev_return(&g->dev, b);
	op(g, FZ_VQ_OP_RETURN);
	(void)vq_dev_call_needed(&g->dev);
	op(g, FZ_VQ_OP_CALL);
}

static void
device_rx(struct gen *g, struct vq_burst *b, unsigned int npkt, unsigned int round)
{
	uint32_t len[VQ_BURST_MAX];

	/* Without MRG_RXBUF a packet must fit one buffer. */
	for (unsigned int i = 0; i < npkt; i++)
		len[i] = 12 + 60 + (round * 131 + i * 613) % (g->mrg ? 2000 : BUFSZ - 72);
	(void)vq_dev_take_rx(&g->dev, b, len, npkt);
	for (unsigned int p = 0; p < b->npkt; p++) {
		uint8_t hdr[12] = {0};

		hdr[10] = (uint8_t)b->pkt[p].nbufs; /* num_buffers */
		vq_segs_copy_in(b->pkt[p].seg, b->pkt[p].nseg, 0, hdr, sizeof(hdr));
	}
	op(g, FZ_VQ_OP_TAKE_RX);
	fz_put_u8(&g->out, (uint8_t)npkt);
	for (unsigned int i = 0; i < npkt; i++)
		fz_put_u16(&g->out, (uint16_t)len[i]);
	vq_dev_return(&g->dev, b);
	op(g, FZ_VQ_OP_RETURN);
	(void)vq_dev_call_needed(&g->dev);
	op(g, FZ_VQ_OP_CALL);
}

static int
generate(const char *dir, const char *name, uint8_t sel, unsigned int size, bool rx,
	 unsigned int rounds)
{
	static struct vq_burst b;
	struct gen g;
	unsigned int next_buf = 0;
	char path[512];
	int rc = gen_init(&g, sel, size);

	if (rc != 0) {
		fprintf(stderr, "%s: set-up failed (%d)\n", name, rc);
		gen_free(&g);
		return -1;
	}
	vq_dev_kick_disable(&g.dev);
	op(&g, FZ_VQ_OP_KICK);
	fz_put_u8(&g.out, 0);
	sync_shadow(&g);
	for (unsigned int r = 0; r < rounds; r++) {
		void *cookie[NBUF];
		uint32_t len[NBUF];
		unsigned int want = 1 + (r * 5) % (size < 6 ? size : 6), posted;

		posted = rx ? post_rx(&g, want, &next_buf) : post_tx(&g, want, r, &next_buf);
		emit_guest_writes(&g);
		if (posted == 0) {
			fprintf(stderr, "%s: round %u: nothing posted (%u free)\n", name, r,
				vq_drv_free_count(&g.drv));
			break;
		}
		if (rx)
			device_rx(&g, &b, posted, r);
		else
			device_tx(&g, &b);
		sync_shadow(&g);
		(void)vq_drv_reap(&g.drv, cookie, len, NBUF);
		if (r % 4 == 3) {
			/* The device restarts from its saved position (GET/SET_VRING_BASE). */
			struct vq_dev_config vc = {0};

			vc.size = size;
			vc.features = g.dev.features;
			vc.desc = g.block + g.l.desc_off;
			vc.driver_area = g.block + g.l.driver_off;
			vc.device_area = g.block + g.l.device_off;
			vc.map = &g.map;
			vc.log = log_fail;
			vq_dev_get_state(&g.dev, &vc.state);
			vq_dev_init(&g.dev, &vc);
			op(&g, FZ_VQ_OP_RESTART);
		}
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = fz_out_save(&g.out, path);
	printf("%s: %zu bytes, %d operations\n", path, g.out.len, g.nops);
	gen_free(&g);
	return rc;
}

int
main(int argc, char **argv)
{
	const struct {
		const char *name;
		uint8_t sel;
		unsigned int size;
		bool rx;
	} seeds[] = {
		{"split-tx", FZ_VQ_SEL_VERSION_1, 8, false},
		{"split-tx-indirect", FZ_VQ_SEL_VERSION_1 | FZ_VQ_SEL_INDIRECT, 8, false},
		{"split-tx-event-idx-in-order",
		 FZ_VQ_SEL_VERSION_1 | FZ_VQ_SEL_EVENT_IDX | FZ_VQ_SEL_IN_ORDER, 16, false},
		{"split-rx", FZ_VQ_SEL_VERSION_1, 8, true},
		{"split-rx-mrg-event-idx",
		 FZ_VQ_SEL_VERSION_1 | FZ_VQ_SEL_MRG_RXBUF | FZ_VQ_SEL_EVENT_IDX, 8, true},
		{"packed-tx", FZ_VQ_SEL_VERSION_1 | FZ_VQ_SEL_PACKED, 7, false},
		{"packed-tx-indirect", FZ_VQ_SEL_VERSION_1 | FZ_VQ_SEL_PACKED | FZ_VQ_SEL_INDIRECT,
		 7, false},
		{"packed-tx-event-idx-in-order",
		 FZ_VQ_SEL_VERSION_1 | FZ_VQ_SEL_PACKED | FZ_VQ_SEL_EVENT_IDX | FZ_VQ_SEL_IN_ORDER,
		 13, false},
		{"packed-rx", FZ_VQ_SEL_VERSION_1 | FZ_VQ_SEL_PACKED, 7, true},
		{"packed-rx-mrg-event-idx",
		 FZ_VQ_SEL_VERSION_1 | FZ_VQ_SEL_PACKED | FZ_VQ_SEL_MRG_RXBUF | FZ_VQ_SEL_EVENT_IDX,
		 7, true},
	};
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		if (generate(argv[1], seeds[i].name, seeds[i].sel, seeds[i].size, seeds[i].rx,
			     12) != 0)
			rc = 1;
	return rc;
}
