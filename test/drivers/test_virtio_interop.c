/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio port against a real vhost-user back-end: dpdk-testpmd with
 * net_vhost in io forwarding and loop topology, so every frame our port
 * sends comes back to it. Counts and every payload byte are checked both
 * ways, for split and packed rings, 64, 1518 and 9000-byte frames, 1 and 2
 * queue pairs, zero-copy and copy mode; and the port reconnects (and
 * renegotiates) after testpmd restarts. Every path stops testpmd.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "test.h"
#include "test_proc.h"
#include "vt_virtio_port.h"

#define TESTPMD_MS 60000
#define LOOP_MS	   30000
#define FRAMES	   2000

static const uint8_t dst_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

struct tp {
	struct vt_proc proc;
	bool running;
	char sock[256];
	char prefix[64];
};

static int
tp_skip_reason(char *why, size_t len)
{
	char buf[256];

	if (vt_testpmd_path(buf, sizeof(buf)) == NULL) {
		snprintf(why, len, "dpdk-testpmd is not installed (apt-get install dpdk)");
		return 1;
	}
	if (!vt_hugepages_ok(160, why, len))
		return 1;
	return vt_vport_eal(why, len) != 0;
}

/* testpmd with net_vhost on t->sock: io forwarding back out of the same port. */
static int
tp_start_args(struct tp *t, unsigned int queues, const char *vdev_extra)
{
	char vdev[512], rxq[32], txq[32];
	const char *argv[] = {"dpdk-testpmd", "--lcores=0@0,1@0", "--no-pci", "--file-prefix",
			      t->prefix, "-m", "256", "--single-file-segments", "--vdev", vdev,
			      "--", "-i", "--total-num-mbufs=16384", "--port-topology=loop",
			      "--forward-mode=io", "--disable-link-check",
			      /* "start" would drain frames sent while it starts. */
			      "--no-flush-rx", rxq, txq, NULL};
	int rc;

	unlink(t->sock); /* a stale socket makes net_vhost's bind fail */
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=%u%s", t->sock, queues,
		 vdev_extra);
	snprintf(rxq, sizeof(rxq), "--rxq=%u", queues);
	snprintf(txq, sizeof(txq), "--txq=%u", queues);
	rc = vt_proc_start(&t->proc, argv, -1);
	if (rc != 0)
		return rc;
	t->running = true;
	rc = vt_proc_wait_output(&t->proc, "testpmd>", TESTPMD_MS);
	if (rc != 0)
		vt_proc_dump(&t->proc, "testpmd");
	return rc;
}

static int
tp_start(struct tp *t, unsigned int queues)
{
	return tp_start_args(t, queues, "");
}

static void
tp_init(struct tp *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	vt_path(t->sock, sizeof(t->sock), name);
	snprintf(t->prefix, sizeof(t->prefix), "virtio-port-%s-%d", name, (int)getpid());
}

static int
tp_stop(struct tp *t)
{
	char cmd[128];
	int st;

	if (!t->running)
		return 0;
	st = vt_proc_stop(&t->proc, "quit\n", 10000);
	t->running = false;
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", t->prefix);
	if (system(cmd) != 0)
		printf("cannot remove /var/run/dpdk/%s\n", t->prefix);
	unlink(t->sock);
	return st;
}

static void
tp_fini(struct tp *t)
{
	tp_stop(t);
	vt_proc_cleanup(&t->proc);
}

/* Number of times @p needle occurs in testpmd's output so far. */
static int
tp_count(struct tp *t, const char *needle)
{
	char *out = vt_proc_output(&t->proc), *at;
	int n = 0;

	for (at = out; at != NULL && (at = strstr(at, needle)) != NULL; at++)
		n++;
	free(out);
	return n;
}

/* testpmd's counter @p key ("RX-packets:") for port 0, from a fresh "show port stats 0". */
static int64_t
tp_port_stat(struct tp *t, const char *key)
{
	const char *head = "NIC statistics for port 0";
	int before = tp_count(t, head);
	uint64_t end = vt_now_ms() + 10000;
	int64_t v = -1;

	if (vt_proc_write(&t->proc, "show port stats 0\n") != 0)
		return -1;
	while (vt_now_ms() < end) {
		char *out = vt_proc_output(&t->proc), *last = NULL, *at, *k;

		for (at = out; at != NULL && (at = strstr(at, head)) != NULL; at++)
			last = at;
		if (tp_count(t, head) > before && last != NULL &&
		    strstr(last, "TX-bytes:") != NULL && (k = strstr(last, key)) != NULL) {
			v = strtoll(k + strlen(key), NULL, 10);
			free(out);
			break;
		}
		free(out);
		usleep(20 * 1000);
	}
	return v;
}

static int
tp_forward(struct tp *t)
{
	if (vt_proc_write(&t->proc, "start\n") != 0)
		return -EIO;
	return vt_proc_wait_output(&t->proc, "packet forwarding - ports=", 10000);
}

static int
check_totals(struct vt_vport *v, struct tp *t, unsigned int nq, uint64_t packets, uint64_t bytes)
{
	struct vs_port_stats st;
	uint64_t tx = 0, rx = 0, txb = 0, rxb = 0;
	int64_t tp_rx, tp_tx;

	v->port->ops->stats_get(v->port, &st);
	for (unsigned int q = 0; q < nq; q++) {
		tx += st.tx[q].packets;
		rx += st.rx[q].packets;
		txb += st.tx[q].bytes;
		rxb += st.rx[q].bytes;
		TEST_ASSERT(st.rx[q].errors == 0 && st.tx[q].errors == 0 && st.rx[q].drops == 0,
			    "queue %u: no errors or drops (rx %" PRIu64 "/%" PRIu64 ", tx %" PRIu64
			    ")",
			    q, st.rx[q].errors, st.rx[q].drops, st.tx[q].errors);
	}
	TEST_ASSERT_EQUAL(tx, packets, "port counted every frame sent");
	TEST_ASSERT_EQUAL(rx, packets, "port counted every frame received");
	TEST_ASSERT_EQUAL(txb, bytes, "bytes sent");
	TEST_ASSERT_EQUAL(rxb, bytes, "bytes received");
	/*
	 * testpmd's forwarding lcore counts a burst after handing it over:
	 * read again for a while when it is behind (it shares its CPU).
	 */
	for (uint64_t end = vt_now_ms() + 5000;;) {
		tp_rx = tp_port_stat(t, "RX-packets:");
		tp_tx = tp_port_stat(t, "TX-packets:");
		if ((tp_rx == (int64_t)packets && tp_tx == (int64_t)packets) || vt_now_ms() > end)
			break;
		usleep(100 * 1000);
	}
	TEST_ASSERT_EQUAL(tp_rx, (int64_t)packets, "testpmd received every frame");
	TEST_ASSERT_EQUAL(tp_tx, (int64_t)packets, "testpmd sent every frame back");
	return TEST_SUCCESS;
}

/* What a run checks: frames up to max_len, at most window_max of them in flight. */
struct loop_opts {
	uint32_t max_len;
	unsigned int window_max;
};

static const struct loop_opts all_sizes = {9000, 128};

static int
run_sizes(struct vt_vport *v, unsigned int nq, const struct loop_opts *o, uint64_t *packets,
	  uint64_t *bytes)
{
	static const uint32_t sizes[] = {64, 1518, 9000};

	for (unsigned int i = 0; i < RTE_DIM(sizes) && sizes[i] <= o->max_len; i++) {
		struct vt_loop_result r;
		/* In flight: what the 256 receive buffers (2 KiB each) hold twice over. */
		unsigned int window = RTE_MIN(o->window_max, 100u / (sizes[i] / 2048 + 1));

		TEST_RUN(vt_vport_loop(v, nq, sizes[i], FRAMES, window, dst_mac, LOOP_MS, &r));
		printf("%u queue(s), %u-byte frames: %u each way per queue, %.3f Mpps round "
		       "trip (paced, checked)\n",
		       nq, sizes[i], FRAMES, r.mpps);
		*packets += (uint64_t)nq * FRAMES;
		*bytes += (uint64_t)nq * FRAMES * sizes[i];
	}
	return TEST_SUCCESS;
}

static int
run_loop(const char *name, unsigned int nq, const char *opts, const struct loop_opts *o)
{
	char why[256], spec[512], err[256];
	struct vt_vport v = {0};
	uint64_t packets = 0, bytes = 0;
	struct tp t;
	int rc;

	if (tp_skip_reason(why, sizeof(why)))
		TEST_SKIP("%s", why);
	tp_init(&t, name);
	rc = tp_start(&t, nq);
	if (rc != 0) {
		tp_fini(&t);
		TEST_ASSERT_SUCCESS(rc, "testpmd with net_vhost started");
	}
	snprintf(spec, sizeof(spec), "vhost-user-frontend,path=%s,queues=%u,mtu=9000%s", t.sock, nq,
		 opts);
	rc = vt_vport_create(&v, spec, err, sizeof(err));
	if (rc == 0)
		rc = vt_vport_start(&v);
	if (rc != 0)
		printf("FAIL: port '%s': %s\n", spec, rc == -EINVAL ? err : strerror(-rc));
	else if (!vt_vport_wait_queues(&v, nq, 20000))
		rc = printf("FAIL: %u queue pair(s) did not come up\n", nq);
	else if ((rc = tp_forward(&t)) != 0)
		printf("FAIL: testpmd did not start forwarding\n");
	else if ((rc = run_sizes(&v, nq, o, &packets, &bytes)) == TEST_SUCCESS)
		rc = check_totals(&v, &t, nq, packets, bytes);
	if (rc != TEST_SUCCESS)
		vt_proc_dump(&t.proc, "testpmd");
	vt_vport_destroy(&v);
	if (tp_stop(&t) != 0 && rc == TEST_SUCCESS)
		rc = printf("FAIL: testpmd did not exit cleanly\n");
	tp_fini(&t);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vt_vport_pool()), 0,
			  "every mbuf came back to the pool");
	return rc == TEST_SUCCESS ? TEST_SUCCESS : TEST_FAILED;
}

/* clang-format off */
static int test_copy_split_1q(void) { return run_loop("vio-cs1", 1, ",copy=1", &all_sizes); }
REGISTER_TEST(virtio_port_testpmd_loop_copy_split_1q, interop, test_copy_split_1q)
static int test_copy_packed_2q(void) { return run_loop("vio-cp2", 2, ",copy=1,packed=1", &all_sizes); }
REGISTER_TEST(virtio_port_testpmd_loop_copy_packed_2q, interop, test_copy_packed_2q)
static int test_in_order(void) { return run_loop("vio-io", 1, ",in_order=1", &all_sizes); }
REGISTER_TEST(virtio_port_testpmd_loop_in_order, interop, test_in_order)
static int test_in_order_packed(void) { return run_loop("vio-iop", 1, ",in_order=1,packed=1", &all_sizes); }
REGISTER_TEST(virtio_port_testpmd_loop_in_order_packed, interop, test_in_order_packed)
static int test_plain_split(void) { return run_loop("vio-pl", 1, ",mrg_rxbuf=0,indirect=0,event_idx=0", &(struct loop_opts){9000, 20}); }
REGISTER_TEST(virtio_port_testpmd_loop_no_mrg_indirect_event_idx, interop, test_plain_split)
static int test_no_mrg_packed(void) { return run_loop("vio-nmp", 1, ",mrg_rxbuf=0,packed=1", &(struct loop_opts){1518, 128}); }
REGISTER_TEST(virtio_port_testpmd_loop_no_mrg_packed, interop, test_no_mrg_packed)
static int test_split_1q(void) { return run_loop("vio-s1", 1, "", &all_sizes); }
REGISTER_TEST(virtio_port_testpmd_loop_split_1q, interop, test_split_1q)
static int test_split_2q(void) { return run_loop("vio-s2", 2, "", &all_sizes); }
REGISTER_TEST(virtio_port_testpmd_loop_split_2q, interop, test_split_2q)
static int test_packed_1q(void) { return run_loop("vio-p1", 1, ",packed=1", &all_sizes); }
REGISTER_TEST(virtio_port_testpmd_loop_packed_1q, interop, test_packed_1q)
static int test_packed_2q(void) { return run_loop("vio-p2", 2, ",packed=1", &all_sizes); }
REGISTER_TEST(virtio_port_testpmd_loop_packed_2q, interop, test_packed_2q)
/* clang-format on */

/* One round of checked traffic: @p n 1518-byte frames each way. */
static int
reconnect_round(struct vt_vport *v, struct tp *t, uint32_t n, const char *when)
{
	struct vt_loop_result r;

	if (!vt_vport_wait_queues(v, 1, 30000)) {
		printf("FAIL: %s: the port did not come up\n", when);
		return TEST_FAILED;
	}
	if (tp_forward(t) != 0) {
		printf("FAIL: %s: testpmd did not start forwarding\n", when);
		return TEST_FAILED;
	}
	if (vt_vport_loop(v, 1, 1518, n, 64, dst_mac, LOOP_MS, &r) != TEST_SUCCESS) {
		printf("FAIL: %s: traffic\n", when);
		return TEST_FAILED;
	}
	TEST_ASSERT_EQUAL(tp_port_stat(t, "RX-packets:"), n, "%s: testpmd received them", when);
	return TEST_SUCCESS;
}

/* The back-end went away: the link goes down, the engine is told, bursts are empty. */
static int
expect_down(struct vt_vport *v, int changes_before, const char *how)
{
	struct rte_mbuf *m = vt_vport_frame(vt_vport_pool(), 64, 0, 0, dst_mac), *got[4];
	uint16_t sent;

	TEST_ASSERT(vt_vport_wait_queues(v, 0, 10000), "%s: link down, no queues", how);
	TEST_ASSERT(v->changes > changes_before, "%s: state_changed called", how);
	TEST_ASSERT_NOT_NULL(m, "frame");
	sent = vs_port_tx_burst(v->port, 0, &m, 1);
	if (sent == 0)
		rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL(sent, 0, "%s: nothing is sent while down", how);
	TEST_ASSERT_EQUAL(vs_port_rx_burst(v->port, 0, got, 4), 0, "%s: nothing received", how);
	return TEST_SUCCESS;
}

static int
reconnect_run(struct vt_vport *v, struct tp *t)
{
	struct vs_port_stats st;
	int changes;

	TEST_RUN(reconnect_round(v, t, 500, "first connection"));
	/* testpmd quits: net_vhost closes the connection. */
	changes = v->changes;
	TEST_ASSERT_SUCCESS(tp_stop(t), "testpmd quit");
	TEST_RUN(expect_down(v, changes, "testpmd quit"));
	/* A new testpmd on the same socket: the port reconnects by itself. */
	TEST_ASSERT_SUCCESS(tp_start(t, 1), "testpmd again");
	TEST_RUN(reconnect_round(v, t, 500, "after testpmd restarted"));
	/* Killed outright with frames in flight both ways: the kernel closes the socket. */
	changes = v->changes;
	for (uint32_t i = 0; i < 200; i++) {
		struct rte_mbuf *m = vt_vport_frame(vt_vport_pool(), 1518, i, 0, dst_mac);

		TEST_ASSERT_NOT_NULL(m, "frame");
		if (vs_port_tx_burst(v->port, 0, &m, 1) != 1)
			rte_pktmbuf_free(m);
	}
	kill(t->proc.pid, SIGKILL);
	tp_stop(t);
	TEST_RUN(expect_down(v, changes, "testpmd killed"));
	TEST_ASSERT_SUCCESS(tp_start(t, 1), "testpmd a third time");
	TEST_RUN(reconnect_round(v, t, 500, "after testpmd was killed"));
	v->port->ops->stats_get(v->port, &st);
	TEST_ASSERT(st.tx[0].packets >= 1500 && st.tx[0].packets <= 1700,
		    "counters survive reconnects (tx %" PRIu64 ")", st.tx[0].packets);
	TEST_ASSERT_EQUAL(st.rx[0].packets, 1500, "counters survive reconnects (rx)");
	return TEST_SUCCESS;
}

static int
test_reconnect(void)
{
	char why[256], spec[512], err[256];
	struct vt_vport v = {0};
	struct tp t;
	int rc;

	if (tp_skip_reason(why, sizeof(why)))
		TEST_SKIP("%s", why);
	tp_init(&t, "vio-rc");
	rc = tp_start(&t, 1);
	snprintf(spec, sizeof(spec), "vhost-user-frontend,path=%s", t.sock);
	if (rc == 0 && (rc = vt_vport_create(&v, spec, err, sizeof(err))) != 0)
		printf("FAIL: port: %s\n", err);
	if (rc == 0 && (rc = vt_vport_start(&v)) != 0)
		printf("FAIL: start: %s\n", strerror(-rc));
	if (rc == 0)
		rc = reconnect_run(&v, &t);
	if (rc != TEST_SUCCESS && t.running)
		vt_proc_dump(&t.proc, "testpmd");
	vt_vport_destroy(&v);
	tp_fini(&t);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vt_vport_pool()), 0,
			  "every mbuf came back to the pool");
	return rc == TEST_SUCCESS ? TEST_SUCCESS : TEST_FAILED;
}
REGISTER_TEST(virtio_port_reconnects_after_testpmd_restarts, interop, test_reconnect)

/* ---- offloads ---- */

#define L2     14
#define L3     20
#define TCP_L4 20

/*
 * An IPv4 TCP (or UDP) frame of @p len bytes as a stack hands it over for
 * checksum offload: the L4 checksum field holds the pseudo-header sum, the
 * flags and lengths say what to complete (and segment, with @p tso).
 */
static struct rte_mbuf *
l4_frame(uint32_t len, uint8_t proto, uint64_t ol, uint16_t tso)
{
	struct rte_mbuf *m = vt_vport_frame(vt_vport_pool(), len, 7, 0, dst_mac);
	struct rte_ipv4_hdr *ip;
	uint8_t *d;

	if (m == NULL)
		return NULL;
	d = rte_pktmbuf_mtod(m, uint8_t *);
	d[12] = 0x08;
	d[13] = 0x00;
	ip = (struct rte_ipv4_hdr *)(d + L2);
	memset(ip, 0, L3);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - L2));
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(0x0a000001);
	ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	m->l2_len = L2;
	m->l3_len = L3;
	m->ol_flags = ol;
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(d + L2 + L3);

		memset(t, 0, TCP_L4);
		t->src_port = rte_cpu_to_be_16(1000);
		t->dst_port = rte_cpu_to_be_16(2000);
		t->data_off = (TCP_L4 / 4) << 4;
		t->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
		t->rx_win = rte_cpu_to_be_16(65535);
		t->cksum = rte_ipv4_phdr_cksum(ip, ol);
		m->l4_len = TCP_L4;
		m->tso_segsz = tso;
	} else {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(d + L2 + L3);

		u->src_port = rte_cpu_to_be_16(1000);
		u->dst_port = rte_cpu_to_be_16(2000);
		u->dgram_len = rte_cpu_to_be_16((uint16_t)(len - L2 - L3));
		u->dgram_cksum = rte_ipv4_phdr_cksum(ip, ol);
		m->l4_len = sizeof(*u);
	}
	return m;
}

/* Sends @p m and waits for what comes back; *@p sent is a copy of its bytes. */
static struct rte_mbuf *
round_trip(struct vt_vport *v, struct rte_mbuf *m, uint8_t *sent, uint32_t cap)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint64_t end = vt_now_ms() + 10000;
	struct rte_mbuf *got = NULL;

	const void *bytes;

	if (m == NULL)
		return NULL;
	/* rte_pktmbuf_read() copies only what is not contiguous already. */
	bytes = len <= cap ? rte_pktmbuf_read(m, 0, len, sent) : NULL;
	if (bytes != NULL && bytes != sent)
		memcpy(sent, bytes, len);
	if (bytes == NULL || vs_port_tx_burst(v->port, 0, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	while (got == NULL && vt_now_ms() < end) {
		if (vs_port_rx_burst(v->port, 0, &got, 1) == 0) {
			vs_evloop_run_once(v->loop, 1);
			got = NULL;
		}
	}
	return got;
}

/* The bytes of @p m equal @p want. */
static bool
same_bytes(const struct rte_mbuf *m, const uint8_t *want, uint32_t len)
{
	static uint8_t buf[16384];

	return rte_pktmbuf_pkt_len(m) == len && len <= sizeof(buf) &&
	       memcmp(rte_pktmbuf_read(m, 0, len, buf), want, len) == 0;
}

/*
 * offloads=1 against net_vhost in legacy offload mode with TSO: DPDK's vhost
 * turns our header into transmit flags and back into a header, so what we
 * send pending (a checksum, a segmentation) comes back pending, described
 * the same way.
 */
static int
offload_round_trips(struct vt_vport *v)
{
	static uint8_t sent[16384];
	const uint64_t tcp_csum = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	struct rte_mbuf *m;

	m = round_trip(v, l4_frame(1054, IPPROTO_TCP, tcp_csum, 0), sent, sizeof(sent));
	TEST_ASSERT_NOT_NULL(m, "a TCP frame with its checksum pending came back");
	TEST_ASSERT(same_bytes(m, sent, 1054), "byte for byte (checksum still pending)");
	TEST_ASSERT((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE,
		    "received with its checksum not done (flags 0x%" PRIx64 ")", m->ol_flags);
	TEST_ASSERT((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM &&
			    (m->ol_flags & RTE_MBUF_F_TX_IPV4),
		    "and ready to leave with it pending (flags 0x%" PRIx64 ")", m->ol_flags);
	TEST_ASSERT(m->l2_len == L2 && m->l3_len == L3, "lengths %u/%u", m->l2_len, m->l3_len);
	rte_pktmbuf_free(m);

	m = round_trip(v,
		       l4_frame(600, IPPROTO_UDP, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM, 0),
		       sent, sizeof(sent));
	TEST_ASSERT_NOT_NULL(m, "a UDP frame came back");
	TEST_ASSERT(same_bytes(m, sent, 600), "byte for byte");
	TEST_ASSERT((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_UDP_CKSUM,
		    "UDP checksum pending (flags 0x%" PRIx64 ")", m->ol_flags);
	rte_pktmbuf_free(m);

	m = round_trip(v, l4_frame(9000, IPPROTO_TCP, tcp_csum | RTE_MBUF_F_TX_TCP_SEG, 1400), sent,
		       sizeof(sent));
	TEST_ASSERT_NOT_NULL(m, "a 9000-byte TSO frame came back");
	TEST_ASSERT(same_bytes(m, sent, 9000), "byte for byte, across %u segments", m->nb_segs);
	TEST_ASSERT((m->ol_flags & RTE_MBUF_F_RX_LRO) && (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG),
		    "received as one large segment to split (flags 0x%" PRIx64 ")", m->ol_flags);
	TEST_ASSERT_EQUAL(m->tso_segsz, 1400, "segment size kept");
	TEST_ASSERT_EQUAL(m->l4_len, TCP_L4, "TCP header length");
	rte_pktmbuf_free(m);
	return TEST_SUCCESS;
}

/*
 * offloads=0: the device did not take checksum work, so the port completes
 * checksums itself, without touching a packet someone else holds too, and
 * drops (counting an error) what it cannot do: TSO.
 */
static int
offload_done_here(struct vt_vport *v)
{
	static uint8_t sent[16384];
	struct rte_mbuf *m, *shared, *got;
	struct rte_ipv4_hdr *ip;
	struct vs_port_stats st;
	uint16_t before;

	shared = l4_frame(1054, IPPROTO_TCP, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM, 0);
	TEST_ASSERT_NOT_NULL(shared, "frame");
	before = rte_pktmbuf_mtod_offset(shared, struct rte_tcp_hdr *, L2 + L3)->cksum;
	rte_mbuf_refcnt_update(shared, 1); /* another port holds it too */
	got = round_trip(v, shared, sent, sizeof(sent));
	TEST_ASSERT_NOT_NULL(got, "the frame came back");
	TEST_ASSERT_EQUAL(rte_pktmbuf_mtod_offset(shared, struct rte_tcp_hdr *, L2 + L3)->cksum,
			  before, "the shared original is untouched");
	rte_pktmbuf_free(shared);
	ip = rte_pktmbuf_mtod_offset(got, struct rte_ipv4_hdr *, L2);
	TEST_ASSERT(rte_pktmbuf_data_len(got) >= 1054, "contiguous");
	TEST_ASSERT_SUCCESS(rte_ipv4_udptcp_cksum_verify(ip, (uint8_t *)ip + L3),
			    "the checksum the port computed is right");
	TEST_ASSERT_EQUAL(got->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0, "nothing left pending");
	rte_pktmbuf_free(got);

	m = l4_frame(9000, IPPROTO_TCP,
		     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG, 1400);
	TEST_ASSERT_NOT_NULL(m, "frame");
	TEST_ASSERT_EQUAL(vs_port_tx_burst(v->port, 0, &m, 1), 1, "a TSO frame is taken...");
	v->port->ops->stats_get(v->port, &st);
	TEST_ASSERT_EQUAL(st.tx[0].errors, 1, "...and dropped as an error: no HOST_TSO");
	return TEST_SUCCESS;
}

static int
run_offloads(const char *name, const char *vdev_extra, const char *opts,
	     int (*check)(struct vt_vport *))
{
	char why[256], spec[512], err[256];
	struct vt_vport v = {0};
	struct tp t;
	int rc;

	if (tp_skip_reason(why, sizeof(why)))
		TEST_SKIP("%s", why);
	tp_init(&t, name);
	rc = tp_start_args(&t, 1, vdev_extra);
	snprintf(spec, sizeof(spec), "vhost-user-frontend,path=%s,mtu=9000%s", t.sock, opts);
	if (rc == 0 && (rc = vt_vport_create(&v, spec, err, sizeof(err))) != 0)
		printf("FAIL: port: %s\n", err);
	if (rc == 0 && (rc = vt_vport_start(&v)) == 0 && !vt_vport_wait_queues(&v, 1, 20000))
		rc = -ETIMEDOUT;
	if (rc == 0)
		rc = tp_forward(&t);
	if (rc == 0)
		rc = check(&v);
	else
		printf("FAIL: set-up: %s\n", strerror(-rc));
	if (rc != TEST_SUCCESS)
		vt_proc_dump(&t.proc, "testpmd");
	vt_vport_destroy(&v);
	tp_fini(&t);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vt_vport_pool()), 0,
			  "every mbuf came back to the pool");
	return rc == TEST_SUCCESS ? TEST_SUCCESS : TEST_FAILED;
}

static int
test_offloads_round_trip(void)
{
	return run_offloads("vio-ol", ",legacy-ol-flags=1,tso=1", ",offloads=1",
			    offload_round_trips);
}
REGISTER_TEST(virtio_port_offloads_round_trip_through_testpmd, interop, test_offloads_round_trip)

static int
test_offloads_done_here(void)
{
	return run_offloads("vio-sw", "", "", offload_done_here);
}
REGISTER_TEST(virtio_port_completes_checksums_the_device_does_not, interop, test_offloads_done_here)
