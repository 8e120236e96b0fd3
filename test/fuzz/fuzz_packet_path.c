/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the packet path. Arbitrary frames (any length from 0 to
 * 9000 bytes, single or chained mbufs, tagged or not) enter the switch
 * engine (lib/switch in manual mode: classification, VLAN checks and
 * retagging, FDB learning with a small table, aging, flooding, unicast);
 * on the two VM ports they come from a guest's transmit queue with an
 * arbitrary virtio-net header, the header and frame split across
 * descriptors as the input says, taken with lib/virtq's device side (the
 * dequeue of doc/virtq.md), and the frames the switch sends to a VM port
 * are placed into the guest's receive buffers (sizes from the input) with
 * lib/virtq's take_rx, then read back by the guest.
 *
 * drivers/net/vhost_user (the VM-facing port) is not in this tree yet: the
 * VM ports here are ring ports with that dequeue/enqueue glue around them.
 * When the port lands, it replaces the glue (see README.md).
 *
 * Checked for every frame the switch sends: never to its ingress port, only
 * to ports of its VLAN, tagged exactly when the egress port is a trunk,
 * otherwise byte for byte the frame that came in, at most once per port;
 * an access port never forwards a frame tagged with a VLAN; no group
 * address is ever learned; the FDB stays within its limit; and after each
 * input every mbuf is back in the pool (no leak, no double free).
 *
 * Input format: test/fuzz/README.md ("fuzz_packet_path").
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "fz_input.h"
#include "fz_packet.h"
#include "virtq.h"
#include "vs_evloop.h"
#include "vs_fdb.h"
#include "vs_switch.h"

#define NPORTS	  FZ_PKT_PORTS
#define NVM	  2 /* ports 0 and 1 face guests through lib/virtq */
#define MAX_BATCH 64
#define MAX_RECS  256
#define HDR_LEN	  12 /* virtio_net_hdr_mrg_rxbuf */
#define QSIZE	  64
#define GBUF	  16384 /* guest TX buffer per descriptor slot */
#define G_BASE	  0x40000000ULL
#define FDB_SIZE  64

/* The topology: VLAN membership as the switch was told. */
static const char *const port_keys[NPORTS] = {
	"vlan=10", "trunk=10:20", "vlan=10", "vlan=20", "trunk=10:20:30", "trunk=30:4094",
};
static const uint16_t port_access[NPORTS] = {10, 0, 10, 20, 0, 0};

static bool
trunk_has(unsigned int p, uint16_t v)
{
	switch (p) {
	case 1:
		return v == 10 || v == 20;
	case 4:
		return v == 10 || v == 20 || v == 30;
	case 5:
		return v == 30 || v == 4094;
	default:
		return false;
	}
}

static bool
member(unsigned int p, uint16_t v)
{
	return port_access[p] != 0 ? port_access[p] == v : trunk_has(p, v);
}

/* One guest: a transmit and a receive queue over its memory. */
struct guest {
	uint8_t *mem; /* rings, indirect tables, buffers */
	size_t len;
	struct vq_memmap map;
	struct vq_drv txd, rxd; /* the guest's driver side */
	struct vq_dev txq, rxq; /* the switch's device side */
	uint8_t *txring, *rxring;
	uint64_t tx_buf, rx_buf; /* guest addresses of the buffer areas */
	unsigned int rx_next;
};

struct batch_frame {
	uint8_t data[FZ_PKT_MAX_FRAME];
	uint32_t len;
	uint16_t vlan; /* classified VLAN, 0: the switch must drop it */
	uint8_t in;
	uint8_t seen[NPORTS];
};

struct harness {
	struct vs_evloop *loop;
	struct vs_switch *sw;
	struct rte_mempool *mp;
	struct rte_ring *in[NPORTS], *out[NPORTS];
	struct guest g[NVM];
	unsigned int pool_full;
	struct batch_frame batch[MAX_BATCH];
	unsigned int nbatch;
	uint32_t now;
	struct vq_burst burst;
	uint8_t scratch[16384];
};

static struct harness H;
static bool verbose; /* FZ_VERBOSE=1: frames in and out per port, for replaying */
static unsigned long n_in[NPORTS], n_out[NPORTS], n_guest_rx[NVM];

static void
vq_fail(void *arg, int err, const char *msg)
{
	fz_check(false, "guest %p: our own queue broke (%d): %s", arg, err, msg);
}

/* ---- set-up, once ---- */

static int
guest_init(struct guest *g, unsigned int idx)
{
	const uint64_t f = VQ_FEATURE(VQ_F_VERSION_1) | VQ_FEATURE(VQ_NET_F_MRG_RXBUF) |
			   VQ_FEATURE(VQ_F_INDIRECT_DESC) | VQ_FEATURE(VQ_F_EVENT_IDX);
	struct vq_drv_config dc = {.size = QSIZE, .features = f, .indirect_max = 8, .log = vq_fail};
	struct vq_dev_config vc = {.size = QSIZE, .features = f, .log = vq_fail};
	size_t ring = vq_drv_mem_size(&dc);
	uint64_t dsc, drv, dev;

	g->len = 2 * ring + QSIZE * GBUF + QSIZE * GBUF;
	g->mem = aligned_alloc(64, g->len);
	if (g->mem == NULL)
		return -1;
	memset(g->mem, 0, g->len);
	vq_memmap_init(&g->map);
	vq_memmap_add(&g->map, G_BASE, g->len, g->mem);
	g->txring = g->mem;
	g->rxring = g->mem + ring;
	g->tx_buf = G_BASE + 2 * ring;
	g->rx_buf = g->tx_buf + QSIZE * GBUF;
	dc.mem = g->txring;
	dc.mem_iova = G_BASE;
	dc.log_arg = g;
	if (vq_drv_init(&g->txd, &dc) != 0)
		return -1;
	dc.mem = g->rxring;
	dc.mem_iova = G_BASE + ring;
	if (vq_drv_init(&g->rxd, &dc) != 0)
		return -1;
	vc.map = &g->map;
	vc.log_arg = g;
	vq_drv_ring_addrs(&g->txd, &dsc, &drv, &dev);
	vc.desc = g->mem + (dsc - G_BASE);
	vc.driver_area = g->mem + (drv - G_BASE);
	vc.device_area = g->mem + (dev - G_BASE);
	if (vq_dev_init(&g->txq, &vc) != 0)
		return -1;
	vq_drv_ring_addrs(&g->rxd, &dsc, &drv, &dev);
	vc.desc = g->mem + (dsc - G_BASE);
	vc.driver_area = g->mem + (drv - G_BASE);
	vc.device_area = g->mem + (dev - G_BASE);
	(void)idx;
	return vq_dev_init(&g->rxq, &vc);
}

/*
 * EAL without hugepages, shared files or telemetry socket, its (empty)
 * runtime directory removed at once: nothing is left in /var/run/dpdk, even
 * when a finding ends the process.
 */
static void
eal_init(void)
{
	char prefix[64];
	char *argv[] = {"fuzz_packet_path",
			"--no-huge",
			"-m",
			"256",
			"--no-shconf",
			"--no-pci",
			"--no-telemetry",
			"--lcores",
			"0",
			"--file-prefix",
			prefix,
			"--log-level",
			"*:error",
			NULL};

	snprintf(prefix, sizeof(prefix), "fuzz-%d", (int)getpid());
	fz_check(rte_eal_init((int)(sizeof(argv) / sizeof(argv[0]) - 1), argv) >= 0,
		 "rte_eal_init failed");
	/* Without shared config and telemetry the runtime directory stays empty. */
	if (rmdir(rte_eal_get_runtime_dir()) != 0)
		fprintf(stderr, "fuzz_packet_path: %s is not empty\n", rte_eal_get_runtime_dir());
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vs_switch_config cfg = {0};
	char why[256], name[32], spec[160];

	(void)argc;
	(void)argv;
	verbose = getenv("FZ_VERBOSE") != NULL;
	eal_init();
	rte_log_set_global_level(RTE_LOG_ERR);
	H.loop = vs_evloop_create();
	cfg.loop = H.loop;
	cfg.name = "fz";
	cfg.fdb_size = FDB_SIZE; /* small: the full table is reached */
	cfg.fdb_aging = 5;
	cfg.nb_mbufs = 2047;
	cfg.tx_retries = 1;
	cfg.manual = true;
	cfg.nb_workers = 1;
	H.sw = vs_switch_create(&cfg, why, sizeof(why));
	fz_check(H.sw != NULL, "engine: %s", why);
	H.mp = vs_switch_mempool(H.sw);
	for (unsigned int i = 0; i < NPORTS; i++) {
		int id;

		snprintf(name, sizeof(name), "fzi%u", i);
		H.in[i] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		name[2] = 'o';
		H.out[i] =
			rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		fz_check(H.in[i] != NULL && H.out[i] != NULL, "rings");
		name[2] = 'e';
		id = rte_eth_from_rings(name, &H.in[i], 1, &H.out[i], 1, SOCKET_ID_ANY);
		fz_check(id >= 0, "ring port");
		snprintf(spec, sizeof(spec), "ethdev,devargs=net_ring_%s,name=p%u,%s", name, i,
			 port_keys[i]);
		fz_check(vs_switch_add_port(H.sw, spec, why, sizeof(why)) == (int)i,
			 "add-port %s: %s", spec, why);
	}
	for (unsigned int i = 0; i < NVM; i++)
		fz_check(guest_init(&H.g[i], i) == 0, "guest %u", i);
	H.pool_full = rte_mempool_avail_count(H.mp);
	return 0;
}

/* ---- frames in ---- */

/*
 * The VLAN the switch must classify @p f into on port @p in, or 0: dropped.
 * The switch reads headers in the first segment only (@p first bytes).
 */
static uint16_t
classify(const uint8_t *f, uint32_t len, uint32_t first, unsigned int in)
{
	bool tagged;
	uint16_t vid;

	if (len < 14 || first < 14)
		return 0;
	tagged = f[12] == 0x81 && f[13] == 0x00;
	if (tagged && first < 18)
		return 0;
	vid = tagged ? (uint16_t)((f[14] & 0x0f) << 8 | f[15]) : 0;
	if (port_access[in] != 0) {
		/* A priority tag (VID 0) is removed; any other tag is not the port's to send. */
		if (!tagged)
			return port_access[in];
		return vid == 0 ? port_access[in] : 0;
	}
	return tagged && trunk_has(in, vid) ? vid : 0;
}

/* An mbuf (chained past the data room) holding @p len bytes of @p f. */
static struct rte_mbuf *
make_mbuf(const uint8_t *f, uint32_t len, unsigned int chunk)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	uint32_t off = 0;

	if (chunk == 0)
		chunk = 1;
	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(H.mp);
		uint32_t k = len - off;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		if (k > rte_pktmbuf_tailroom(m))
			k = rte_pktmbuf_tailroom(m);
		if (k > chunk)
			k = chunk;
		memcpy(rte_pktmbuf_append(m, (uint16_t)k), f + off, k);
		off += k;
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += k;
		}
		last = m;
	} while (off < len);
	return head;
}

static void
inject(unsigned int port, const uint8_t *f, uint32_t len, unsigned int chunk)
{
	struct batch_frame *b;
	struct rte_mbuf *m;

	if (H.nbatch == MAX_BATCH)
		return;
	m = make_mbuf(f, len, chunk);
	if (m == NULL)
		return;
	b = &H.batch[H.nbatch];
	memcpy(b->data, f, len);
	b->len = len;
	b->in = (uint8_t)port;
	b->vlan = classify(f, len, m->data_len, port);
	memset(b->seen, 0, sizeof(b->seen));
	/* Who it is, carried through the switch's copies (rte_pktmbuf_copy keeps both). */
	m->port = (uint16_t)port;
	m->hash.usr = H.nbatch++;
	n_in[port]++;
	if (rte_ring_enqueue(H.in[port], m) != 0) {
		rte_pktmbuf_free(m);
		H.nbatch--;
	}
}

/*
 * What a port's dequeue must refuse in a virtio-net header (virtio 1.2,
 * 5.1.6.2): unknown flags, an unknown GSO type, a checksum request whose
 * start and offset do not lie inside the frame (CVE-2024-11614's class).
 */
static bool
net_hdr_ok(const uint8_t *h, uint32_t frame_len)
{
	uint8_t flags = h[0], gso = h[1];
	uint16_t csum_start = (uint16_t)(h[6] | h[7] << 8), csum_off = (uint16_t)(h[8] | h[9] << 8);

	if (flags & ~3u)
		return false;
	if ((gso & 0x7f) != 0 && (gso & 0x7f) != 1 && (gso & 0x7f) != 3 && (gso & 0x7f) != 4)
		return false;
	if ((flags & 1) &&
	    ((uint32_t)csum_start + csum_off + 2 > frame_len || csum_start < 14 || csum_off & 1))
		return false;
	return true;
}

/* The guest transmits one frame (header + frame split as @p layout says); the port dequeues. */
static void
guest_tx(unsigned int port, struct fz_input *in)
{
	static uint8_t pkt[HDR_LEN + FZ_PKT_MAX_FRAME];
	struct guest *g = &H.g[port];
	uint8_t layout = fz_u8(in);
	uint32_t flen = fz_u16(in) % (FZ_PKT_MAX_FRAME + 1), total, cut[3];
	struct vq_drv_seg seg[4];
	struct vq_drv_chain ch = {(void *)1, seg, 0};
	struct vq_burst *b = &H.burst;
	unsigned int slot, n;
	uint64_t addr;
	uint32_t lens[4];
	void *cookie[4];

	fz_bytes(in, pkt, HDR_LEN + flen);
	total = HDR_LEN + flen;
	/* Reclaim what the device returned, then post in the next buffer slot. */
	while (vq_drv_reap(&g->txd, cookie, lens, 4) > 0)
		;
	slot = vq_drv_inflight(&g->txd);
	if (vq_drv_free_count(&g->txd) < 4)
		return;
	addr = g->tx_buf + (uint64_t)(slot % QSIZE) * GBUF;
	memcpy(g->mem + (addr - G_BASE), pkt, total);
	/* Up to four elements, cut where the input says: inside the header too. */
	cut[0] = (layout & 3) == 0 ? total : (uint32_t)fz_u8(in) % (total + 1);
	cut[1] = (layout & 3) < 2 ? total : cut[0] + (uint32_t)fz_u8(in) % (total - cut[0] + 1);
	cut[2] = (layout & 3) < 3 ? total : cut[1] + (uint32_t)fz_u16(in) % (total - cut[1] + 1);
	for (uint32_t i = 0, start = 0; i < 4 && start < total; i++) {
		uint32_t end = i < 3 ? cut[i] : total;

		if (end <= start)
			continue;
		seg[ch.nseg++] = (struct vq_drv_seg){addr + start, end - start, 0, 0};
		start = end;
	}
	if (ch.nseg == 0 || vq_drv_post(&g->txd, &ch, 1) != 1)
		return;
	/* The port's dequeue (doc/virtq.md). */
	n = vq_dev_take(&g->txq, b, VQ_BURST_MAX);
	for (unsigned int i = 0; i < n; i++) {
		const struct vq_chain *c = &b->chain[i];
		uint8_t hdr[HDR_LEN];
		uint32_t l;

		/* CVE-2022-2132's class: a chain no longer than the header carries no frame. */
		if ((c->flags & VQ_CHAIN_F_OVERSIZE) || c->rlen <= HDR_LEN)
			continue;
		l = c->rlen - HDR_LEN;
		fz_check(vq_segs_copy_out(c->seg, c->nread, 0, hdr, HDR_LEN) == HDR_LEN,
			 "header copy");
		if (l > FZ_PKT_MAX_FRAME || !net_hdr_ok(hdr, l))
			continue;
		fz_check(vq_segs_copy_out(c->seg, c->nread, HDR_LEN, H.scratch, l) == l,
			 "frame copy");
		fz_check(l == flen && memcmp(H.scratch, pkt + HDR_LEN, l) == 0,
			 "the frame dequeued is not the frame the guest sent");
		inject(port, H.scratch, l, 2048);
	}
	vq_dev_return(&g->txq, b);
}

/* The guest posts receive buffers of the sizes the input gives. */
static void
guest_rx_refill(unsigned int port, struct fz_input *in)
{
	struct guest *g = &H.g[port];
	unsigned int n = fz_u8(in) % 9;

	for (unsigned int i = 0; i < n && vq_drv_free_count(&g->rxd) > 0; i++) {
		uint64_t addr = g->rx_buf + (uint64_t)(g->rx_next++ % QSIZE) * GBUF;
		uint32_t len = 1 + fz_u16(in) % GBUF;
		void *cookie = (void *)(uintptr_t)len;

		vq_drv_post_buf(&g->rxd, &addr, &len, &cookie, 1, VQ_DESC_F_WRITE);
	}
}

/* ---- frames out ---- */

/* Checks one frame the switch sent on @p port against what came in. */
static void
check_out(unsigned int port, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *p;
	struct batch_frame *b;
	bool tagged;
	uint16_t vid;

	fz_check(m->hash.usr < H.nbatch, "a frame out of nowhere on port %u", port);
	b = &H.batch[m->hash.usr];
	n_out[port]++;
	fz_check(len <= sizeof(H.scratch), "a %u-byte frame", len);
	p = rte_pktmbuf_read(m, 0, len, H.scratch);
	fz_check(p != NULL, "unreadable mbuf chain");
	fz_check(port != b->in, "frame %u went back out of its ingress port %u",
		 (unsigned int)m->hash.usr, port);
	fz_check(b->vlan != 0, "frame %u from port %u should have been dropped (port %u got it)",
		 (unsigned int)m->hash.usr, b->in, port);
	fz_check(member(port, b->vlan), "VLAN %u frame on port %u, not a member", b->vlan, port);
	fz_check(!b->seen[port]++, "frame %u sent twice to port %u", (unsigned int)m->hash.usr,
		 port);
	tagged = len >= 16 && p[12] == 0x81 && p[13] == 0x00;
	vid = tagged ? (uint16_t)((p[14] & 0x0f) << 8 | p[15]) : 0;
	fz_check(tagged == (port_access[port] == 0), "port %u (%s) got a frame %s", port,
		 port_access[port] ? "access" : "trunk", tagged ? "tagged" : "untagged");
	fz_check(!tagged || vid == b->vlan, "port %u: tag %u for a VLAN %u frame", port, vid,
		 b->vlan);
	{
		/* Untagged in and out, tagged both ways, or one tag added or removed. */
		bool in_tag = b->len >= 18 && b->data[12] == 0x81 && b->data[13] == 0x00;
		const uint8_t *bi = b->data + (in_tag ? 16 : 12), *bo = p + (tagged ? 16 : 12);
		uint32_t li = b->len - (in_tag ? 16 : 12), lo = len - (tagged ? 16 : 12);

		fz_check(memcmp(p, b->data, 12) == 0 && li == lo && memcmp(bi, bo, li) == 0,
			 "frame %u changed on its way to port %u", (unsigned int)m->hash.usr, port);
		/* Between trunks the tag travels as it is, priority bits included. */
		fz_check(!tagged || port_access[b->in] != 0 ||
				 (p[14] & 0xf0) == (b->data[14] & 0xf0),
			 "the priority bits of frame %u changed", (unsigned int)m->hash.usr);
	}
}

/* The port's enqueue into guest receive buffers, and the guest reading them. */
static void
guest_rx(unsigned int port, struct rte_mbuf **pkts, unsigned int n)
{
	struct guest *g = &H.g[port];
	struct vq_burst *b = &H.burst;
	uint32_t len[VQ_BURST_MAX];
	unsigned int placed;
	void *cookie[QSIZE];
	uint32_t used[QSIZE];

	if (n > VQ_BURST_MAX)
		n = VQ_BURST_MAX;
	for (unsigned int i = 0; i < n; i++)
		len[i] = HDR_LEN + rte_pktmbuf_pkt_len(pkts[i]);
	placed = vq_dev_take_rx(&g->rxq, b, len, n);
	for (unsigned int i = 0; i < placed; i++) {
		const struct vq_pkt *pk = &b->pkt[i];
		uint8_t hdr[HDR_LEN] = {0};
		uint32_t off = HDR_LEN, plen = rte_pktmbuf_pkt_len(pkts[i]);
		const uint8_t *data = rte_pktmbuf_read(pkts[i], 0, plen, H.scratch);

		hdr[10] = (uint8_t)pk->nbufs;
		hdr[11] = (uint8_t)(pk->nbufs >> 8);
		fz_check(vq_segs_copy_in(pk->seg, pk->nseg, 0, hdr, HDR_LEN) == HDR_LEN,
			 "header copy-in");
		fz_check(vq_segs_copy_in(pk->seg, pk->nseg, off, data, plen) == plen,
			 "frame copy-in");
		n_guest_rx[port]++;
	}
	vq_dev_return(&g->rxq, b);
	/* The guest reaps: every byte written is accounted for. */
	for (;;) {
		unsigned int k = vq_drv_reap(&g->rxd, cookie, used, QSIZE);

		if (k == 0)
			break;
		for (unsigned int i = 0; i < k; i++)
			fz_check(used[i] <= (uint32_t)(uintptr_t)cookie[i],
				 "the device wrote %u bytes into a %u-byte buffer", used[i],
				 (uint32_t)(uintptr_t)cookie[i]);
	}
	fz_check(vq_dev_error(&g->rxq) == 0 && vq_dev_error(&g->txq) == 0,
		 "our own guest's queue broke");
}

static int
fdb_check(uint64_t key, uint16_t port, uint32_t age, void *arg)
{
	uint8_t mac[6];

	(void)age;
	(void)arg;
	vs_fdb_key_mac(key, mac);
	fz_check(!(mac[0] & 1), "a group address was learned");
	fz_check(port < NPORTS && member(port, vs_fdb_key_vlan(key)),
		 "station learned on port %u outside its VLAN %u", port, vs_fdb_key_vlan(key));
	return 0;
}

/* The switch runs until nothing moves; every frame out is checked and consumed. */
static void
run(void)
{
	struct rte_mbuf *pkts[VQ_BURST_MAX];

	while (vs_switch_poll(H.sw, 0) > 0)
		;
	for (unsigned int p = 0; p < NPORTS; p++) {
		unsigned int n;

		while ((n = rte_ring_dequeue_burst(H.out[p], (void **)pkts, VQ_BURST_MAX, NULL)) >
		       0) {
			for (unsigned int i = 0; i < n; i++)
				check_out(p, pkts[i]);
			if (p < NVM)
				guest_rx(p, pkts, n);
			rte_pktmbuf_free_bulk(pkts, n);
		}
	}
	fz_check(vs_fdb_count(vs_switch_fdb(H.sw)) <= FDB_SIZE, "FDB above its limit: %u",
		 vs_fdb_count(vs_switch_fdb(H.sw)));
	H.nbatch = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FZ_PKT_MAX_FRAME];
	struct fz_input in;
	int ticks = 0;

	fz_init(&in, data, size);
	if (vs_fdb_count(vs_switch_fdb(H.sw)) > 0)
		vs_switch_fdb_flush(H.sw);
	for (int r = 0; r < MAX_RECS && !fz_empty(&in); r++) {
		uint8_t rec = fz_u8(&in);
		unsigned int port = fz_u8(&in) % NPORTS;

		switch (rec % FZ_PKT_RECS) {
		case FZ_PKT_REC_FRAME: {
			uint32_t len = fz_u16(&in) % (FZ_PKT_MAX_FRAME + 1);
			unsigned int chunk = 1 + fz_u8(&in) * 8u;

			len = (uint32_t)fz_bytes(&in, frame, len);
			if (port < NVM) /* a VM port's frames come through its queue */
				port += NVM;
			inject(port, frame, len, chunk);
			break;
		}
		case FZ_PKT_REC_GUEST_TX:
			guest_tx(port % NVM, &in);
			break;
		case FZ_PKT_REC_RX_REFILL:
			guest_rx_refill(port % NVM, &in);
			break;
		case FZ_PKT_REC_RUN:
			run();
			break;
		case FZ_PKT_REC_TICK:
			/* Aging scans every slot of the hash: a few times per input at most. */
			H.now += fz_u8(&in) % 8;
			if (ticks++ < 4 && vs_fdb_count(vs_switch_fdb(H.sw)) > 0)
				(void)vs_switch_fdb_tick(H.sw, H.now);
			break;
		}
		if (H.nbatch >= MAX_BATCH - 1)
			run();
	}
	run();
	/* A walk visits every slot of the hash (thousands): once per input. */
	if (vs_fdb_count(vs_switch_fdb(H.sw)) > 0)
		vs_fdb_walk(vs_switch_fdb(H.sw), fdb_check, NULL);
	if (verbose) {
		for (unsigned int p = 0; p < NPORTS; p++)
			fprintf(stderr, "fuzz: port %u: %lu in, %lu out, %lu into the guest\n", p,
				n_in[p], n_out[p], p < NVM ? n_guest_rx[p] : 0);
		memset(n_in, 0, sizeof(n_in));
		memset(n_out, 0, sizeof(n_out));
		memset(n_guest_rx, 0, sizeof(n_guest_rx));
	}
	fz_check(rte_mempool_avail_count(H.mp) == H.pool_full,
		 "mbufs leaked or freed twice: %u in the pool, %u at start",
		 rte_mempool_avail_count(H.mp), H.pool_full);
	return 0;
}
