/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seed corpus of fuzz_packet_path: traffic a small L2 network really sees,
 * on the target's topology (p0 VM access 10, p1 VM trunk 10/20, p2 access
 * 10, p3 access 20, p4 trunk 10/20/30, p5 trunk 30/4094): ARP, IPv4 and
 * IPv6 with neighbour discovery multicast, tagged and priority-tagged
 * frames, jumbo frames in chained mbufs, guests transmitting with the
 * virtio-net header whole, alone or split across descriptors and with
 * checksum offload requests, guests posting small and large receive
 * buffers, stations moving, the FDB filling up and aging.
 *
 *   fuzz-seed-packet OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fz_input.h"
#include "fz_packet.h"

struct frame {
	uint8_t b[FZ_PKT_MAX_FRAME];
	uint32_t len;
};

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void
mac(uint8_t *m, uint8_t host)
{
	const uint8_t m0[6] = {0x52, 0x54, 0x00, 0x12, 0x34, host};

	memcpy(m, m0, 6);
}

/* Ethernet header (tagged when vid >= 0, priority bits pcp) with @p type. */
static uint8_t *
eth(struct frame *f, const uint8_t *dst, const uint8_t *src, int vid, int pcp, uint16_t type)
{
	uint8_t *p = f->b;

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	p += 12;
	if (vid >= 0) {
		*p++ = 0x81;
		*p++ = 0x00;
		*p++ = (uint8_t)(pcp << 5 | (vid >> 8));
		*p++ = (uint8_t)vid;
	}
	*p++ = (uint8_t)(type >> 8);
	*p++ = (uint8_t)type;
	return p;
}

static uint16_t
csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
arp(struct frame *f, const uint8_t *dst, const uint8_t *src, int vid, uint16_t op, uint8_t sip,
    uint8_t tip)
{
	uint8_t *p = eth(f, dst, src, vid, 0, 0x0806);
	const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, (uint8_t)op};

	memcpy(p, hdr, 8);
	memcpy(p + 8, src, 6);
	memcpy(p + 14, (uint8_t[]){10, 0, 0, sip}, 4);
	memcpy(p + 18, op == 1 ? (const uint8_t *)"\0\0\0\0\0\0" : dst, 6);
	memcpy(p + 24, (uint8_t[]){10, 0, 0, tip}, 4);
	f->len = (uint32_t)(p + 28 - f->b);
	if (f->len < 60) {
		memset(f->b + f->len, 0, 60 - f->len);
		f->len = 60;
	}
}

/* IPv4/UDP of @p payload bytes, with a correct header checksum. */
static void
udp4(struct frame *f, const uint8_t *dst, const uint8_t *src, int vid, uint8_t sip, uint8_t dip,
     uint32_t payload)
{
	uint8_t *ip = eth(f, dst, src, vid, 0, 0x0800), *udp = ip + 20;
	uint16_t tot = (uint16_t)(20 + 8 + payload), c;

	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (uint8_t[]){10, 0, 0, sip}, 4);
	memcpy(ip + 16, (uint8_t[]){10, 0, 0, dip}, 4);
	c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[0] = 0x30;
	udp[1] = 0x39;
	udp[2] = 0x00;
	udp[3] = 0x35;
	udp[4] = (uint8_t)((8 + payload) >> 8);
	udp[5] = (uint8_t)(8 + payload);
	udp[6] = udp[7] = 0;
	for (uint32_t i = 0; i < payload; i++)
		udp[8 + i] = (uint8_t)(i * 13);
	f->len = (uint32_t)(udp + 8 + payload - f->b);
}

/* IPv6 neighbour solicitation to the solicited-node multicast group. */
static void
ns6(struct frame *f, const uint8_t *src, int vid, uint8_t target)
{
	const uint8_t dst[6] = {0x33, 0x33, 0xff, 0x00, 0x00, target};
	uint8_t *ip = eth(f, dst, src, vid, 0, 0x86dd);

	memset(ip, 0, 40 + 32);
	ip[0] = 0x60;
	ip[5] = 32;
	ip[6] = 58;
	ip[7] = 255;
	ip[8] = 0xfe;
	ip[9] = 0x80;
	ip[23] = 1;
	memcpy(ip + 24, (uint8_t[]){0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, target},
	       16);
	ip[40] = 135;
	f->len = (uint32_t)(ip + 72 - f->b);
}

/* ---- records ---- */

static void
rec_frame(struct fz_out *o, unsigned int port, const struct frame *f, uint8_t chunk)
{
	fz_put_u8(o, FZ_PKT_REC_FRAME);
	fz_put_u8(o, (uint8_t)port);
	fz_put_u16(o, (uint16_t)f->len);
	fz_put_u8(o, chunk);
	fz_put(o, f->b, f->len);
}

/*
 * A guest transmits @p f with virtio-net header @p hdr, cut into elements
 * at @p ncut points (0..3): each cut is an offset into header + frame.
 */
static void
rec_guest_tx(struct fz_out *o, unsigned int vm, const struct frame *f, const uint8_t hdr[12],
	     unsigned int ncut, const uint32_t *cut)
{
	uint32_t total = 12 + f->len;

	fz_put_u8(o, FZ_PKT_REC_GUEST_TX);
	fz_put_u8(o, (uint8_t)vm);
	fz_put_u8(o, (uint8_t)ncut);
	fz_put_u16(o, (uint16_t)f->len);
	fz_put(o, hdr, 12);
	fz_put(o, f->b, f->len);
	/* The target reads cut k as an offset past cut k - 1, modulo what is left. */
	if (ncut >= 1)
		fz_put_u8(o, (uint8_t)cut[0]);
	if (ncut >= 2)
		fz_put_u8(o, (uint8_t)(cut[1] - cut[0]));
	if (ncut >= 3)
		fz_put_u16(o, (uint16_t)(cut[2] - cut[1]));
	(void)total;
}

static void
rec_refill(struct fz_out *o, unsigned int vm, unsigned int n, uint16_t size)
{
	fz_put_u8(o, FZ_PKT_REC_RX_REFILL);
	fz_put_u8(o, (uint8_t)vm);
	fz_put_u8(o, (uint8_t)n);
	for (unsigned int i = 0; i < n; i++)
		fz_put_u16(o, (uint16_t)(size - 1));
}

static void
rec_run(struct fz_out *o)
{
	fz_put_u8(o, FZ_PKT_REC_RUN);
	fz_put_u8(o, 0);
}

static void
rec_tick(struct fz_out *o, uint8_t secs)
{
	fz_put_u8(o, FZ_PKT_REC_TICK);
	fz_put_u8(o, 0);
	fz_put_u8(o, secs);
}

static const uint8_t NOHDR[12] = {0};

static int
save(struct fz_out *o, const char *dir, const char *name)
{
	char path[512];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = fz_out_save(o, path);
	printf("%s: %zu bytes\n", path, o->len);
	free(o->buf);
	memset(o, 0, sizeof(*o));
	return rc;
}

int
main(int argc, char **argv)
{
	static struct frame f;
	struct fz_out o = {0};
	uint8_t a[6], b[6], c[6], d[6], e[6];
	uint32_t cut[3];
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	mac(a, 0xa);
	mac(b, 0xb);
	mac(c, 0xc);
	mac(d, 0xd);
	mac(e, 0xe);

	/* VM0 (access 10) asks for p2's address, p2 answers, they talk UDP. */
	rec_refill(&o, 0, 8, 2048);
	rec_refill(&o, 1, 8, 2048);
	arp(&f, BCAST, a, -1, 1, 1, 2);
	rec_guest_tx(&o, 0, &f, NOHDR, 0, NULL);
	rec_run(&o);
	arp(&f, a, b, -1, 2, 2, 1);
	rec_frame(&o, 2, &f, 255);
	rec_run(&o);
	for (int i = 0; i < 4; i++) {
		udp4(&f, b, a, -1, 1, 2, 100 + 300 * i);
		rec_guest_tx(&o, 0, &f, NOHDR, 0, NULL);
		udp4(&f, a, b, -1, 2, 1, 64 + 200 * i);
		rec_frame(&o, 2, &f, 255);
	}
	rec_run(&o);
	rc |= save(&o, argv[1], "arp-then-udp-vm-and-wire");

	/* Trunks: VLANs carried, not carried, untagged on a trunk; IPv6 multicast. */
	rec_refill(&o, 1, 8, 2048);
	for (int vid = 10; vid <= 30; vid += 10) {
		arp(&f, BCAST, c, vid, 1, 3, 4);
		rec_frame(&o, 4, &f, 255);
		ns6(&f, c, vid, 4);
		rec_frame(&o, 4, &f, 255);
	}
	udp4(&f, c, d, 30, 5, 3, 200);
	rec_frame(&o, 5, &f, 255);
	udp4(&f, c, d, 4094, 5, 3, 200);
	rec_frame(&o, 5, &f, 255);
	udp4(&f, c, d, 99, 5, 3, 200); /* VLAN 99: not carried, dropped */
	rec_frame(&o, 5, &f, 255);
	udp4(&f, c, d, -1, 5, 3, 200); /* untagged on a trunk: dropped */
	rec_frame(&o, 4, &f, 255);
	rec_run(&o);
	udp4(&f, d, c, 20, 3, 5, 80); /* VM1 (trunk) answers in VLAN 20 */
	rec_guest_tx(&o, 1, &f, NOHDR, 0, NULL);
	rec_run(&o);
	rec_tick(&o, 3);
	rec_tick(&o, 7);
	rec_run(&o);
	rc |= save(&o, argv[1], "trunk-vlans-and-multicast");

	/* Priority tags on access ports, a wrong tag on an access port. */
	udp4(&f, BCAST, b, 0, 2, 255, 40);
	f.b[14] |= 0xa0; /* PCP 5, VID 0 */
	rec_frame(&o, 2, &f, 255);
	udp4(&f, BCAST, b, 20, 2, 255, 40); /* VID 20 on an access port: dropped */
	rec_frame(&o, 2, &f, 255);
	udp4(&f, a, e, 0, 9, 1, 40);
	rec_frame(&o, 3, &f, 255); /* priority-tagged in VLAN 20, to an unknown station */
	rec_run(&o);
	rc |= save(&o, argv[1], "priority-and-wrong-tags");

	/* Jumbo frames: chained mbufs, split descriptors, header split across two. */
	rec_refill(&o, 0, 8, 2048); /* mergeable: one jumbo takes several */
	rec_refill(&o, 1, 4, 16384);
	udp4(&f, BCAST, d, 20, 7, 255, 8900);
	cut[0] = 5;
	cut[1] = 12;
	cut[2] = 12 + 4000;
	rec_guest_tx(&o, 1, &f, NOHDR, 3, cut);
	udp4(&f, BCAST, b, -1, 2, 255, 8900);
	rec_frame(&o, 2, &f, 3); /* 25-byte segments: 356 mbufs */
	udp4(&f, BCAST, b, -1, 2, 255, 3000);
	rec_frame(&o, 2, &f, 100); /* 801-byte segments */
	rec_run(&o);
	rc |= save(&o, argv[1], "jumbo-chained-and-split-header");

	/* Checksum offload requests: valid, start past the frame, odd offset. */
	{
		uint8_t h[12] = {1, 0, 0, 0, 0, 0, 34, 0, 6, 0, 0, 0}; /* NEEDS_CSUM at UDP */

		rec_refill(&o, 1, 8, 2048);
		udp4(&f, BCAST, a, -1, 1, 255, 100);
		cut[0] = 12;
		rec_guest_tx(&o, 0, &f, h, 1, cut);
		h[6] = 0xff;
		h[7] = 0xff; /* csum_start 65535 */
		rec_guest_tx(&o, 0, &f, h, 1, cut);
		h[6] = 34;
		h[7] = 0;
		h[8] = 7; /* odd csum_offset */
		rec_guest_tx(&o, 0, &f, h, 0, NULL);
		h[0] = 0;
		h[1] = 1; /* GSO TCPv4 on UDP: the port must refuse or segment */
		h[4] = 0xdc;
		h[5] = 0x05;
		rec_guest_tx(&o, 0, &f, h, 0, NULL);
		cut[0] = 6; /* a chain of a header and nothing else */
		f.len = 0;
		rec_guest_tx(&o, 0, &f, NOHDR, 0, NULL);
		rec_run(&o);
		rc |= save(&o, argv[1], "virtio-net-header-offloads");
	}

	/* The FDB fills up (limit 64), stations move, age out. */
	for (int i = 0; i < 80; i++) {
		uint8_t s[6];

		mac(s, (uint8_t)(0x40 + i));
		s[4] = (uint8_t)i;
		udp4(&f, a, s, -1, (uint8_t)i, 1, 20);
		rec_frame(&o, 2, &f, 255);
		if (i % 30 == 29)
			rec_run(&o);
	}
	rec_run(&o);
	udp4(&f, b, a, -1, 1, 2, 60); /* a moves from VM0 to p2 */
	rec_frame(&o, 2, &f, 255);
	udp4(&f, a, c, 10, 3, 1, 60);
	rec_frame(&o, 4, &f, 255);
	rec_run(&o);
	rec_tick(&o, 6);
	rec_tick(&o, 6);
	udp4(&f, a, c, 10, 3, 1, 60);
	rec_frame(&o, 4, &f, 255);
	rec_run(&o);
	rc |= save(&o, argv[1], "fdb-full-moves-and-aging");
	return rc ? 1 : 0;
}
