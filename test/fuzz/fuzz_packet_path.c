/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the packet path. Arbitrary frames (any length from 0 to
 * 9000 bytes, single or chained mbufs, tagged or not) enter the switch
 * engine (lib/switch in manual mode: classification, VLAN checks and
 * retagging, FDB learning with a small table, aging, flooding, unicast)
 * on four wire ports; two more are real vhost-user ports
 * (drivers/net/vhost_user), each with a guest: lib/vhost's front-end over
 * the port's socket and lib/virtq's driver in a shared memfd. The guests
 * transmit frames behind arbitrary virtio-net headers, header and frame
 * cut into descriptors where the input says (inside the header too), so
 * the port's dequeue validates the header and builds the mbuf; frames the
 * switch sends to a guest go through the port's enqueue into receive
 * buffers of the sizes the input posts, and the guest reads them back.
 * Guest 0 negotiates checksum and TSO offloads both ways on a split ring;
 * guest 1 none, on a packed ring.
 *
 * Checked for every frame out (wire ports and guests alike): it is a frame
 * that came in, never out of its ingress port, only to ports of its VLAN,
 * tagged exactly when the egress port is a trunk, otherwise byte for byte
 * what came in (except the two checksum bytes of a frame whose header asked
 * for a checksum), at most once per port; a frame the switch must drop never
 * comes out; a guest without offloads never gets an offload header and the
 * checksum requests a guest gets lie inside its frame. Per input: no group
 * address learned, no station outside its VLAN, the FDB within its limit,
 * and every mbuf back in the pool (no leak, no double free).
 *
 * Input format: test/fuzz/README.md ("fuzz_packet_path").
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "fz_input.h"
#include "fz_packet.h"
#include "vhost_backend.h"
#include "vhost_diag.h"
#include "vhost_user_frontend.h"
#include "virtq.h"
#include "vs_evloop.h"
#include "vs_fdb.h"
#include "vs_switch.h"

#define NPORTS	  FZ_PKT_PORTS
#define NVM	  2 /* ports 0 and 1 are vhost-user ports with a guest each */
#define MAX_BATCH 64
#define MAX_RECS  256
#define HDR_LEN	  12 /* virtio_net_hdr_mrg_rxbuf: VERSION_1 */
#define QSIZE	  64
#define GBUF	  16384 /* guest buffer slot */
#define G_BASE	  0x40000000ULL
#define FDB_SIZE  64
#define F(b)	  (1ULL << (b))

/* The topology: VLAN membership as the switch was told. */
static const char *const port_keys[NPORTS] = {
	"vlan=10", "trunk=10:20", "vlan=10", "vlan=20", "trunk=10:20:30", "trunk=30:4094",
};
static const uint16_t port_access[NPORTS] = {10, 0, 10, 20, 0, 0};
/* What each guest negotiates. */
static const uint64_t guest_features[NVM] = {
	F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_CSUM) |
		F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
		F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |
		F(VIRTIO_RING_F_INDIRECT_DESC) | F(VIRTIO_RING_F_EVENT_IDX),
	F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED) | F(VIRTIO_RING_F_INDIRECT_DESC),
};

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

/* A guest: its memory (a memfd the port maps), its two rings, its front-end. */
struct guest {
	int memfd;
	uint8_t *mem;
	size_t len;
	uint64_t features;
	struct vh_user_frontend *fe;
	struct vh_backend *b;
	struct vq_drv ring[2]; /* 0: receive (the port's tx), 1: transmit */
	int kick[2], call[2];
	uint64_t ring_off[2];
	uint64_t tx_buf, rx_buf; /* guest addresses of the buffer slots */
	bool tx_busy[QSIZE];
	unsigned int rx_next;
	char path[128];
	int rc;
	volatile bool done;
};

struct batch_frame {
	uint8_t data[FZ_PKT_MAX_FRAME];
	uint32_t len;
	int32_t csum;  /* offset of a checksum the header asked for, or -1 */
	bool loose;    /* that checksum lies in the tag's bytes: VLAN unknown */
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
	char dir[64];
	unsigned int pool_full;
	struct batch_frame batch[MAX_BATCH];
	unsigned int nbatch;
	uint32_t now;
	uint8_t scratch[65536];
	uint8_t rxbuf[65536];
};

static struct harness H;
static bool verbose; /* FZ_VERBOSE=1: frames in and out per port, for replaying */
static unsigned long n_in[NPORTS], n_out[NPORTS];

static void
vq_fail(void *arg, int err, const char *msg)
{
	fz_check(false, "guest %p: its own queue broke (%d): %s", arg, err, msg);
}

static void
vh_quiet(int level, const char *line, void *arg)
{
	(void)arg;
	if (verbose || level <= VH_DIAG_ERR)
		fprintf(stderr, "%s\n", line);
}

/* ---- the guests ---- */

static int
ring_up(struct guest *g, unsigned int idx)
{
	struct vq_drv_config c = {.size = QSIZE,
				  .features = g->features,
				  .indirect_max =
					  (g->features & F(VIRTIO_RING_F_INDIRECT_DESC)) ? 8 : 0,
				  .log = vq_fail,
				  .log_arg = g};
	struct vh_vring_addr a = {0};
	uint64_t desc, drv, dev;
	int rc;

	c.mem = g->mem + g->ring_off[idx];
	c.mem_iova = G_BASE + g->ring_off[idx];
	rc = vq_drv_init(&g->ring[idx], &c);
	if (rc != 0)
		return rc;
	vq_drv_call_disable(&g->ring[idx]); /* the guest polls */
	g->kick[idx] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g->call[idx] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq_drv_ring_addrs(&g->ring[idx], &desc, &drv, &dev);
	a.desc_user_addr = (uint64_t)(uintptr_t)(g->mem + (desc - G_BASE));
	a.avail_user_addr = (uint64_t)(uintptr_t)(g->mem + (drv - G_BASE));
	a.used_user_addr = (uint64_t)(uintptr_t)(g->mem + (dev - G_BASE));
	a.log_guest_addr = dev;
	if ((rc = vh_backend_set_vring_num(g->b, idx, QSIZE)) != 0 ||
	    (rc = vh_backend_set_vring_base(
		     g->b, idx, (g->features & F(VIRTIO_F_RING_PACKED)) ? 0x8000 : 0)) != 0 ||
	    (rc = vh_backend_set_vring_addr(g->b, idx, &a)) != 0 ||
	    (rc = vh_backend_set_vring_call(g->b, idx, g->call[idx])) != 0 ||
	    (rc = vh_backend_set_vring_kick(g->b, idx, g->kick[idx])) != 0 ||
	    (rc = vh_backend_set_vring_enable(g->b, idx, 1)) != 0)
		return rc;
	return 0;
}

/* What QEMU does when the guest starts its NIC: runs beside the control loop. */
static void *
guest_connect(void *arg)
{
	struct guest *g = arg;
	struct vh_user_frontend_config fc = {.timeout_ms = 5000, .name = "fuzz-guest"};
	struct vh_mem_region r;
	uint64_t offered;
	int rc;

	rc = vh_user_frontend_connect(g->path, 5000, &fc, &g->fe);
	if (rc == 0) {
		g->b = vh_user_frontend_backend(g->fe);
		rc = vh_backend_set_owner(g->b);
	}
	if (rc == 0)
		rc = vh_backend_get_features(g->b, &offered);
	if (rc == 0) {
		g->features &= offered;
		rc = vh_backend_set_features(g->b, g->features);
	}
	if (rc == 0) {
		r = (struct vh_mem_region){G_BASE, g->len, (uint64_t)(uintptr_t)g->mem, 0,
					   g->memfd};
		rc = vh_backend_set_mem_table(g->b, &r, 1);
	}
	for (unsigned int i = 0; rc == 0 && i < 2; i++)
		rc = ring_up(g, i);
	if (rc == 0)
		rc = vh_backend_driver_ok(g->b);
	g->rc = rc;
	__atomic_store_n(&g->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void
guest_init(struct guest *g, unsigned int idx)
{
	struct vq_drv_config c = {.size = QSIZE,
				  .features =
					  F(VIRTIO_F_RING_PACKED) | F(VIRTIO_RING_F_INDIRECT_DESC),
				  .indirect_max = 8};
	size_t ring = vq_drv_mem_size(&c);
	pthread_t t;

	c.features = F(VIRTIO_RING_F_INDIRECT_DESC);
	if (vq_drv_mem_size(&c) > ring)
		ring = vq_drv_mem_size(&c);
	ring = (ring + 4095) & ~(size_t)4095;
	g->features = guest_features[idx];
	g->ring_off[0] = 0;
	g->ring_off[1] = ring;
	g->tx_buf = G_BASE + 2 * ring;
	g->rx_buf = g->tx_buf + (uint64_t)QSIZE * GBUF;
	g->len = 2 * ring + 2 * (size_t)QSIZE * GBUF;
	g->memfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	fz_check(g->memfd >= 0 && ftruncate(g->memfd, (off_t)g->len) == 0, "guest memory");
	g->mem = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
	fz_check(g->mem != MAP_FAILED, "guest mapping");
	snprintf(g->path, sizeof(g->path), "%s/vm%u.sock", H.dir, idx);
	fz_check(pthread_create(&t, NULL, guest_connect, g) == 0, "guest thread");
	/* The port answers on the control loop, which is ours. */
	while (!__atomic_load_n(&g->done, __ATOMIC_ACQUIRE))
		vs_evloop_run_once(H.loop, 10);
	pthread_join(t, NULL);
	fz_check(g->rc == 0, "guest %u cannot start its NIC: %s", idx, strerror(-g->rc));
}

static bool
links_up(void)
{
	for (unsigned int p = 0; p < NVM; p++) {
		struct vs_switch_port_view v;

		if (vs_switch_port_view(H.sw, (uint16_t)p, &v) != 0 ||
		    v.info.link != VS_PORT_LINK_UP || v.rxq_worker[0] < 0)
			return false;
	}
	return true;
}

/*
 * At exit: the engine and its ports go first (their back-ends live in DPDK
 * memory, where LeakSanitizer does not look), then the guests.
 */
static void
teardown(void)
{
	vs_switch_destroy(H.sw);
	for (unsigned int i = 0; i < NVM; i++) {
		struct guest *g = &H.g[i];

		if (g->b != NULL)
			vh_backend_destroy(g->b);
		for (unsigned int r = 0; r < 2; r++) {
			vq_drv_fini(&g->ring[r]);
			close(g->kick[r]);
			close(g->call[r]);
		}
		munmap(g->mem, g->len);
		close(g->memfd);
	}
	for (unsigned int p = NVM; p < NPORTS; p++) {
		rte_ring_free(H.in[p]);
		rte_ring_free(H.out[p]);
	}
	vs_evloop_destroy(H.loop);
}

static void
cleanup_dir(void)
{
	char path[160];

	for (unsigned int i = 0; i < NVM; i++) {
		snprintf(path, sizeof(path), "%s/vm%u.sock", H.dir, i);
		unlink(path);
	}
	rmdir(H.dir);
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
	char why[256], name[32], spec[256];
	uint64_t end;

	(void)argc;
	(void)argv;
	verbose = getenv("FZ_VERBOSE") != NULL;
	eal_init();
	rte_log_set_global_level(verbose ? RTE_LOG_INFO : RTE_LOG_ERR);
	vh_diag_set_handler(vh_quiet, NULL);
	snprintf(H.dir, sizeof(H.dir), "/tmp/fuzz-packet-%d", (int)getpid());
	fz_check(mkdir(H.dir, 0700) == 0, "cannot make %s", H.dir);
	atexit(cleanup_dir);
	H.loop = vs_evloop_create();
	cfg.loop = H.loop;
	cfg.name = "fz";
	cfg.fdb_size = FDB_SIZE; /* small: the full table is reached */
	cfg.fdb_aging = 5;
	cfg.nb_mbufs = 4095;
	cfg.tx_retries = 1;
	cfg.manual = true;
	cfg.nb_workers = 1;
	H.sw = vs_switch_create(&cfg, why, sizeof(why));
	fz_check(H.sw != NULL, "engine: %s", why);
	H.mp = vs_switch_mempool(H.sw);
	for (unsigned int i = 0; i < NPORTS; i++) {
		int id;

		if (i < NVM) {
			snprintf(spec, sizeof(spec), "vhost-user,path=%s/vm%u.sock,name=p%u,%s",
				 H.dir, i, i, port_keys[i]);
		} else {
			snprintf(name, sizeof(name), "fzi%u", i);
			H.in[i] = rte_ring_create(name, 1024, SOCKET_ID_ANY,
						  RING_F_SP_ENQ | RING_F_SC_DEQ);
			name[2] = 'o';
			H.out[i] = rte_ring_create(name, 1024, SOCKET_ID_ANY,
						   RING_F_SP_ENQ | RING_F_SC_DEQ);
			fz_check(H.in[i] != NULL && H.out[i] != NULL, "rings");
			name[2] = 'e';
			id = rte_eth_from_rings(name, &H.in[i], 1, &H.out[i], 1, SOCKET_ID_ANY);
			fz_check(id >= 0, "ring port");
			snprintf(spec, sizeof(spec), "ethdev,devargs=net_ring_%s,name=p%u,%s", name,
				 i, port_keys[i]);
		}
		fz_check(vs_switch_add_port(H.sw, spec, why, sizeof(why)) == (int)i,
			 "add-port %s: %s", spec, why);
	}
	for (unsigned int i = 0; i < NVM; i++)
		guest_init(&H.g[i], i);
	/* The engine polls a VM port once its link is up and its queue assigned. */
	end = (uint64_t)time(NULL) + 20;
	while (!links_up() && (uint64_t)time(NULL) < end)
		vs_evloop_run_once(H.loop, 10);
	fz_check(links_up(), "the VM ports did not come up");
	/*
	 * The guests are connected: their sockets' names are not needed any
	 * more. Removed now, as libFuzzer's normal end (-max_total_time,
	 * -runs) leaves without running atexit handlers.
	 */
	cleanup_dir();
	H.pool_full = rte_mempool_avail_count(H.mp);
	atexit(teardown);
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
	b->csum = -1;
	b->loose = false;
	memset(b->seen, 0, sizeof(b->seen));
	H.nbatch++;
	n_in[port]++;
	if (rte_ring_enqueue(H.in[port], m) != 0) {
		rte_pktmbuf_free(m);
		H.nbatch--;
	}
}

/* The guest transmits one frame: header + frame cut as the input says; the port dequeues. */
static void
guest_tx(unsigned int vm, struct fz_input *in)
{
	static uint8_t pkt[HDR_LEN + FZ_PKT_MAX_FRAME];
	struct guest *g = &H.g[vm];
	uint8_t layout = fz_u8(in);
	uint32_t flen = fz_u16(in) % (FZ_PKT_MAX_FRAME + 1), total, cut[3];
	struct vq_drv_seg seg[4];
	struct vq_drv_chain ch = {NULL, seg, 0};
	struct virtio_net_hdr h;
	struct batch_frame *b;
	unsigned int slot;
	uint64_t addr;

	fz_bytes(in, pkt, HDR_LEN + flen);
	total = HDR_LEN + flen;
	cut[0] = (layout & 3) == 0 ? total : (uint32_t)fz_u8(in) % (total + 1);
	cut[1] = (layout & 3) < 2 ? total : cut[0] + (uint32_t)fz_u8(in) % (total - cut[0] + 1);
	cut[2] = (layout & 3) < 3 ? total : cut[1] + (uint32_t)fz_u16(in) % (total - cut[1] + 1);
	for (slot = 0; slot < QSIZE && g->tx_busy[slot]; slot++)
		;
	if (slot == QSIZE || H.nbatch == MAX_BATCH)
		return;
	addr = g->tx_buf + (uint64_t)slot * GBUF;
	memcpy(g->mem + (addr - G_BASE), pkt, total);
	for (uint32_t i = 0, start = 0; i < 4 && start < total; i++) {
		uint32_t end = i < 3 ? cut[i] : total;

		if (end <= start)
			continue;
		seg[ch.nseg++] = (struct vq_drv_seg){addr + start, end - start, 0, 0};
		start = end;
	}
	ch.cookie = (void *)(uintptr_t)(slot + 1);
	if (ch.nseg == 0 || vq_drv_post(&g->ring[1], &ch, 1) != 1)
		return;
	g->tx_busy[slot] = true;
	/* What the switch may forward, if the port accepts the header. */
	memcpy(&h, pkt, sizeof(h));
	b = &H.batch[H.nbatch++];
	memcpy(b->data, pkt + HDR_LEN, flen);
	b->len = flen;
	b->in = (uint8_t)vm;
	/* The port's mbufs hold 2048 bytes before chaining: headers are in the first. */
	b->vlan = classify(b->data, flen, flen < 2048 ? flen : 2048, vm);
	b->csum = (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ? (int32_t)h.csum_start + h.csum_offset
							  : -1;
	/* The checksum's two bytes overlap the TPID or TCI (bytes 12-15). */
	b->loose = b->csum >= 11 && b->csum < 16;
	memset(b->seen, 0, sizeof(b->seen));
	n_in[vm]++;
}

/* The guest posts receive buffers of the sizes the input gives. */
static void
guest_rx_refill(unsigned int vm, struct fz_input *in)
{
	struct guest *g = &H.g[vm];
	unsigned int n = fz_u8(in) % 9;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t len = 1 + fz_u16(in) % GBUF, slot = g->rx_next % QSIZE;
		uint64_t addr = g->rx_buf + (uint64_t)slot * GBUF;
		/* Slot and size, for reading it back. */
		void *cookie = (void *)(uintptr_t)((uint64_t)(slot + 1) << 20 | len);

		if (vq_drv_free_count(&g->ring[0]) == 0)
			continue;
		if (vq_drv_post_buf(&g->ring[0], &addr, &len, &cookie, 1, VQ_DESC_F_WRITE) == 1)
			g->rx_next++;
	}
}

/* ---- frames out ---- */

static bool
is_tagged(const uint8_t *p, uint32_t len)
{
	return len >= 16 && p[12] == 0x81 && p[13] == 0x00;
}

/* Whether byte @p i of @p b's frame is one the checksum its header asked for may change. */
static bool
wild(const struct batch_frame *b, uint32_t i)
{
	return b->csum >= 0 && (i == (uint32_t)b->csum || i == (uint32_t)b->csum + 1);
}

/*
 * Whether @p p is @p b's frame with the @p hi tag bytes it had at offset 12
 * replaced by @p ho bytes (a tag removed, added, kept or rewritten): the
 * addresses and everything after the tags the same, but for the checksum
 * the header asked for. The tag itself is checked by the caller.
 */
static bool
match_tagged(const struct batch_frame *b, const uint8_t *p, uint32_t len, uint32_t hi,
	     uint32_t ho)
{
	if (b->len < 12 + hi || len < 12 + ho || b->len - hi != len - ho)
		return false;
	for (uint32_t i = 0; i < 12; i++)
		if (p[i] != b->data[i] && !wild(b, i))
			return false;
	for (uint32_t i = 0; i < len - 12 - ho; i++)
		if (p[12 + ho + i] != b->data[12 + hi + i] && !wild(b, 12 + hi + i))
			return false;
	return true;
}

/* The VLAN in the tag of @p p (is_tagged). */
static uint16_t
tag_vid(const uint8_t *p)
{
	return (uint16_t)((p[14] & 0x0f) << 8 | p[15]);
}

/*
 * Whether frame @p p came from batch entry @p b. The switch classified b
 * as the oracle did (b->vlan), unless its checksum lies in the tag bytes
 * (b->loose): then the switch read the checksum the port wrote there,
 * which the oracle does not compute, so the frame may have been seen with
 * or without a tag and may leave with a tag added, removed or kept, at any
 * length; its VLAN is then one the ingress port carries.
 */
static bool
same_frame(const struct batch_frame *b, const uint8_t *p, uint32_t len)
{
	bool out_tag = is_tagged(p, len);
	uint32_t ho = out_tag ? 4 : 0;

	if (b->loose) {
		if (out_tag && !member(b->in, tag_vid(p)))
			return false;
		/* A trunk drops what it sees untagged. */
		return (port_access[b->in] != 0 && match_tagged(b, p, len, 0, ho)) ||
		       match_tagged(b, p, len, 4, ho);
	}
	if (out_tag && tag_vid(p) != b->vlan)
		return false;
	return match_tagged(b, p, len, is_tagged(b->data, b->len) ? 4 : 0, ho);
}

/* Whether port @p port may get @p b: a member of its VLAN (any the ingress carries, if loose). */
static bool
may_get(const struct batch_frame *b, unsigned int port)
{
	if (!b->loose)
		return b->vlan != 0 && member(port, b->vlan);
	for (uint16_t v = 1; v < 4095; v++)
		if (member(b->in, v) && member(port, v))
			return true;
	return false;
}

/* Checks one frame port @p port sent (to its wire or into its guest). */
static void
check_out(unsigned int port, const uint8_t *p, uint32_t len)
{
	struct batch_frame *b = NULL;
	bool tagged = is_tagged(p, len);

	n_out[port]++;
	/* Among equal frames, the one this port may get. */
	for (unsigned int i = 0; i < H.nbatch && b == NULL; i++)
		if (!H.batch[i].seen[port] && H.batch[i].in != port &&
		    may_get(&H.batch[i], port) && same_frame(&H.batch[i], p, len))
			b = &H.batch[i];
	for (unsigned int i = 0; i < H.nbatch && b == NULL; i++)
		if (same_frame(&H.batch[i], p, len))
			b = &H.batch[i];
	fz_check(b != NULL, "port %u sent a %u-byte frame that never came in (or was changed)",
		 port, len);
	fz_check(port != b->in, "a frame went back out of its ingress port %u", port);
	fz_check(!b->seen[port]++, "a frame sent twice to port %u", port);
	fz_check(tagged == (port_access[port] == 0), "port %u (%s) got a frame %s", port,
		 port_access[port] ? "access" : "trunk", tagged ? "tagged" : "untagged");
	if (b->loose) {
		/* Its tag was the guest's checksum: the VLAN is one both ports carry. */
		fz_check(may_get(b, port), "port %u shares no VLAN with port %u but got its frame",
			 port, b->in);
		fz_check(!tagged || member(port, tag_vid(p)), "VLAN %u frame on port %u, not a member",
			 tag_vid(p), port);
		return;
	}
	fz_check(b->vlan != 0, "a frame from port %u should have been dropped (port %u got it)",
		 b->in, port);
	fz_check(member(port, b->vlan), "VLAN %u frame on port %u, not a member", b->vlan, port);
	/* Between trunks the tag travels as it is, priority bits included. */
	fz_check(!tagged || port_access[b->in] != 0 || (p[14] & 0xf0) == (b->data[14] & 0xf0),
		 "the priority bits of a frame changed");
}

/* The guest reads what the port placed in its receive buffers. */
static void
guest_rx(unsigned int vm)
{
	struct guest *g = &H.g[vm];
	const bool mrg = g->features & F(VIRTIO_NET_F_MRG_RXBUF);
	const bool offloads =
		g->features & (F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
			       F(VIRTIO_NET_F_GUEST_TSO6));
	void *cookie[QSIZE];
	uint32_t used[QSIZE];
	unsigned int n = 0, i = 0;

	/* Every buffer the port returned, in order; a packet may take several. */
	for (unsigned int k; (k = vq_drv_reap(&g->ring[0], cookie + n, used + n, QSIZE - n)) > 0;)
		n += k;
	while (i < n) {
		struct virtio_net_hdr_mrg_rxbuf h;
		unsigned int nbufs = 0, k = 0;
		uint32_t len = 0;

		/*
		 * num_buffers buffers, in the order used, make one packet. The
		 * spec wants mergeable buffers no smaller than the header
		 * (5.1.6.3.1); this guest breaks that on purpose, so the
		 * header may span several.
		 */
		do {
			uint32_t size, slot;
			const uint8_t *src;

			fz_check(i < n, "guest %u: a packet's buffers run past what was used", vm);
			size = (uint32_t)((uintptr_t)cookie[i] & 0xfffff);
			slot = (uint32_t)((uintptr_t)cookie[i] >> 20) - 1;
			src = g->mem + (g->rx_buf - G_BASE) + (uint64_t)slot * GBUF;
			fz_check(used[i] <= size,
				 "guest %u: %u bytes written into a %u-byte buffer", vm, used[i],
				 size);
			fz_check(len + used[i] <= sizeof(H.rxbuf), "guest %u: a huge packet", vm);
			memcpy(H.rxbuf + len, src, used[i]);
			len += used[i];
			i++;
			k++;
			if (nbufs == 0 && len >= HDR_LEN) {
				memcpy(&h, H.rxbuf, sizeof(h));
				nbufs = mrg ? h.num_buffers : 1;
				fz_check(nbufs >= k, "guest %u: num_buffers %u, the header took %u",
					 vm, nbufs, k);
			}
			fz_check(nbufs != 0 || mrg, "guest %u: a packet shorter than its header",
				 vm);
		} while (nbufs == 0 || k < nbufs);
		fz_check(offloads || (h.hdr.flags == 0 && h.hdr.gso_type == 0),
			 "guest %u negotiated no offload but got flags 0x%x gso %u", vm,
			 h.hdr.flags, h.hdr.gso_type);
		fz_check(!(h.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
				 (uint32_t)h.hdr.csum_start + h.hdr.csum_offset + 2 <=
					 len - HDR_LEN,
			 "guest %u: a checksum request outside its frame", vm);
		check_out(vm, H.rxbuf + HDR_LEN, len - HDR_LEN);
	}
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

static uint64_t
tx_dropped(unsigned int port)
{
	struct vs_switch_port_view v;

	fz_check(vs_switch_port_view(H.sw, (uint16_t)port, &v) == 0, "port %u view", port);
	return v.counters.tx_dropped;
}

/*
 * A group frame a wire port sent without a checksum request, that the
 * switch must accept, reaches every other wire port of its VLAN: ring
 * ports never refuse a frame, so only a drop the switch counted for that
 * port (no mbuf for a retagged copy) excuses a miss.
 */
static void
check_flooded(const uint64_t *dropped_before)
{
	for (unsigned int i = 0; i < H.nbatch; i++) {
		const struct batch_frame *b = &H.batch[i];

		if (b->in < NVM || b->vlan == 0 || b->csum >= 0 || !(b->data[0] & 1))
			continue;
		for (unsigned int p = NVM; p < NPORTS; p++)
			fz_check(p == b->in || !member(p, b->vlan) || b->seen[p] ||
					 tx_dropped(p) != dropped_before[p],
				 "port %u missed a VLAN %u group frame from port %u", p, b->vlan,
				 b->in);
	}
}

/* The switch runs until nothing moves; every frame out is checked and consumed. */
static void
run(void)
{
	struct rte_mbuf *pkts[32];
	uint64_t dropped[NPORTS];

	for (unsigned int p = NVM; p < NPORTS; p++)
		dropped[p] = tx_dropped(p);
	while (vs_switch_poll(H.sw, 0) > 0)
		;
	for (unsigned int p = NVM; p < NPORTS; p++) {
		unsigned int n;

		while ((n = rte_ring_dequeue_burst(H.out[p], (void **)pkts, 32, NULL)) > 0) {
			for (unsigned int i = 0; i < n; i++) {
				uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);
				const uint8_t *d;

				fz_check(len <= sizeof(H.scratch), "a %u-byte frame", len);
				d = rte_pktmbuf_read(pkts[i], 0, len, H.scratch);
				fz_check(d != NULL, "unreadable mbuf chain");
				check_out(p, d, len);
			}
			rte_pktmbuf_free_bulk(pkts, n);
		}
	}
	for (unsigned int vm = 0; vm < NVM; vm++) {
		void *cookie[QSIZE];
		uint32_t len[QSIZE];
		unsigned int k;

		guest_rx(vm);
		while ((k = vq_drv_reap(&H.g[vm].ring[1], cookie, len, QSIZE)) > 0)
			for (unsigned int i = 0; i < k; i++)
				H.g[vm].tx_busy[(uintptr_t)cookie[i] - 1] = false;
		fz_check(vq_drv_error(&H.g[vm].ring[0]) == 0 && vq_drv_error(&H.g[vm].ring[1]) == 0,
			 "guest %u: the port broke the guest's rings", vm);
	}
	fz_check(vs_fdb_count(vs_switch_fdb(H.sw)) <= FDB_SIZE, "FDB above its limit: %u",
		 vs_fdb_count(vs_switch_fdb(H.sw)));
	check_flooded(dropped);
	H.nbatch = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FZ_PKT_MAX_FRAME];
	struct fz_input in;
	int ticks = 0;

	fz_init(&in, data, size);
	vs_evloop_run_once(H.loop, 0);
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
			if (port < NVM) /* a VM port's frames come from its guest */
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
			fprintf(stderr, "fuzz: port %u: %lu in, %lu out\n", p, n_in[p], n_out[p]);
		memset(n_in, 0, sizeof(n_in));
		memset(n_out, 0, sizeof(n_out));
	}
	fz_check(rte_mempool_avail_count(H.mp) == H.pool_full,
		 "mbufs leaked or freed twice: %u in the pool, %u at start",
		 rte_mempool_avail_count(H.mp), H.pool_full);
	return 0;
}
