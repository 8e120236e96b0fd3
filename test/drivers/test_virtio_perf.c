/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Throughput of the virtio port against dpdk-testpmd's net_vhost (io
 * forwarding, loop topology), and of DPDK's own virtio driver
 * (net_virtio_user, in this process) against the same peer in the same run:
 * 256 frames of 64 bytes circulate between the two, each side sending back
 * what it receives. Printed: frames per second through our side (each one
 * received and sent once), our cycles per frame, and the ratio to
 * net_virtio_user. Indicative only: the two CPUs are shared with other work.
 */
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "test.h"
#include "test_proc.h"
#include "vt_virtio_port.h"

#define INFLIGHT 256
#define RUN_MS	 2000
#define RUNS	 3

static const uint8_t dst_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

struct bench {
	uint16_t (*rx)(void *dev, struct rte_mbuf **pkts, uint16_t n);
	uint16_t (*tx)(void *dev, struct rte_mbuf **pkts, uint16_t n);
	void *dev;
};

static uint16_t
port_rx(void *dev, struct rte_mbuf **pkts, uint16_t n)
{
	return vs_port_rx_burst(dev, 0, pkts, n);
}

static uint16_t
port_tx(void *dev, struct rte_mbuf **pkts, uint16_t n)
{
	return vs_port_tx_burst(dev, 0, pkts, n);
}

static uint16_t
eth_rx(void *dev, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_rx_burst((uint16_t)(uintptr_t)dev, 0, pkts, n);
}

static uint16_t
eth_tx(void *dev, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst((uint16_t)(uintptr_t)dev, 0, pkts, n);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define SAMPLES (1 << 20)

/*
 * Frames per second through @p b for @p ms. *@p cpp: the median over bursts
 * of the cycles per frame spent in our receive and transmit calls; a median
 * leaves out the bursts another process preempted.
 */
static double
loop_rate(const struct bench *b, unsigned int ms, double *cpp)
{
	uint64_t hz = rte_get_timer_hz(), start = rte_get_timer_cycles(),
		 end = start + hz * ms / 1000;
	static double cost[SAMPLES];
	unsigned int ncost = 0;
	uint64_t frames = 0;
	struct rte_mbuf *pkts[32];

	while (rte_get_timer_cycles() < end) {
		uint64_t t0 = rte_rdtsc();
		uint16_t n = b->rx(b->dev, pkts, 32), sent = 0;

		while (sent < n) {
			uint16_t k = b->tx(b->dev, pkts + sent, (uint16_t)(n - sent));

			if (k == 0)
				break;
			sent = (uint16_t)(sent + k);
		}
		if (sent < n)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		if (n) {
			if (ncost < SAMPLES)
				cost[ncost++] = (double)(rte_rdtsc() - t0) / n;
			frames += n;
		}
	}
	qsort(cost, ncost, sizeof(double), cmp_double);
	*cpp = ncost ? cost[ncost / 2] : 0;
	return (double)frames * 1000.0 / ms;
}

static int
inject(const struct bench *b)
{
	for (unsigned int i = 0; i < INFLIGHT; i++) {
		struct rte_mbuf *m = vt_vport_frame(vt_vport_pool(), 64, i, 0, dst_mac);

		if (m == NULL)
			return -ENOMEM;
		if (b->tx(b->dev, &m, 1) != 1) {
			rte_pktmbuf_free(m);
			return -ENOSPC;
		}
	}
	return 0;
}

/* The median of RUNS runs, after the frames are injected and one run to warm up. */
static double
measure(const struct bench *b, double *cpp)
{
	double mpps[RUNS], c[RUNS], warm;

	if (inject(b) != 0)
		return -1;
	loop_rate(b, RUN_MS / 2, &warm);
	for (unsigned int i = 0; i < RUNS; i++) {
		mpps[i] = loop_rate(b, RUN_MS, &c[i]) / 1e6;
		printf("  run %u: %.2f Mpps, %.0f cycles/frame\n", i, mpps[i], c[i]);
	}
	qsort(mpps, RUNS, sizeof(double), cmp_double);
	qsort(c, RUNS, sizeof(double), cmp_double);
	*cpp = c[RUNS / 2];
	return mpps[RUNS / 2];
}

static int
testpmd_start(struct vt_proc *p, const char *sock, const char *prefix)
{
	char vdev[512];
	const char *argv[] = {"dpdk-testpmd",
			      "--lcores=0@0,1@0",
			      "--no-pci",
			      "--file-prefix",
			      prefix,
			      "-m",
			      "256",
			      "--single-file-segments",
			      "--vdev",
			      vdev,
			      "--",
			      "-i",
			      "--total-num-mbufs=16384",
			      "--port-topology=loop",
			      "--forward-mode=io",
			      "--no-flush-rx",
			      "--disable-link-check",
			      NULL};

	unlink(sock);
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", sock);
	if (vt_proc_start(p, argv, 0) != 0)
		return -1;
	return vt_proc_wait_output(p, "testpmd>", 60000);
}

static void
testpmd_stop(struct vt_proc *p, const char *sock, const char *prefix)
{
	char cmd[256];

	vt_proc_stop(p, "quit\n", 10000);
	vt_proc_cleanup(p);
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", prefix);
	if (system(cmd) != 0)
		printf("cannot remove /var/run/dpdk/%s\n", prefix);
	unlink(sock);
}

static double
run_ours(const char *sock, bool packed, double *cpp)
{
	char spec[400], err[256];
	struct vt_vport v;
	double mpps = -1;

	snprintf(spec, sizeof(spec), "vhost-user-frontend,path=%s%s", sock,
		 packed ? ",packed=1" : "");
	if (vt_vport_create(&v, spec, err, sizeof(err)) == 0 && vt_vport_start(&v) == 0 &&
	    vt_vport_wait_queues(&v, 1, 20000)) {
		struct bench b = {port_rx, port_tx, v.port};

		mpps = measure(&b, cpp);
	}
	vt_vport_destroy(&v);
	return mpps;
}

static double
run_virtio_user(const char *sock, bool packed, double *cpp)
{
	struct rte_eth_conf conf = {0};
	char args[400];
	uint16_t id;
	double mpps = -1;

	snprintf(args, sizeof(args), "path=%s,queues=1,queue_size=256,packed_vq=%d", sock, packed);
	if (rte_vdev_init("net_virtio_user7", args) != 0 ||
	    rte_eth_dev_get_port_by_name("net_virtio_user7", &id) != 0)
		return -1;
	if (rte_eth_dev_configure(id, 1, 1, &conf) == 0 &&
	    rte_eth_rx_queue_setup(id, 0, 256, SOCKET_ID_ANY, NULL, vt_vport_pool()) == 0 &&
	    rte_eth_tx_queue_setup(id, 0, 256, SOCKET_ID_ANY, NULL) == 0 &&
	    rte_eth_dev_start(id) == 0) {
		struct bench b = {eth_rx, eth_tx, (void *)(uintptr_t)id};

		mpps = measure(&b, cpp);
		rte_eth_dev_stop(id);
	}
	rte_eth_dev_close(id);
	rte_vdev_uninit("net_virtio_user7");
	return mpps;
}

static double
with_testpmd(const char *name, bool packed, bool ours, double *cpp)
{
	char sock[256], prefix[64];
	struct vt_proc p;
	double mpps = -1;

	vt_path(sock, sizeof(sock), name);
	snprintf(prefix, sizeof(prefix), "virtio-port-perf-%d", (int)getpid());
	if (testpmd_start(&p, sock, prefix) == 0) {
		vt_proc_write(&p, "start\n");
		printf("%s, %s ring:\n", ours ? "virtio port" : "net_virtio_user",
		       packed ? "packed" : "split");
		mpps = ours ? run_ours(sock, packed, cpp) : run_virtio_user(sock, packed, cpp);
	}
	testpmd_stop(&p, sock, prefix);
	return mpps;
}

static int
run_perf(bool packed)
{
	char why[256], buf[256];
	double ours, theirs, cpp_ours = 0, cpp_theirs = 0;
	cpu_set_t set;

	if (vt_testpmd_path(buf, sizeof(buf)) == NULL)
		TEST_SKIP("dpdk-testpmd is not installed");
	if (!vt_hugepages_ok(160, why, sizeof(why)) || vt_vport_eal(why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	/* testpmd forwards on CPU 0; we poll on CPU 1. */
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	sched_setaffinity(0, sizeof(set), &set);
	ours = with_testpmd("perf-ours.sock", packed, true, &cpp_ours);
	theirs = with_testpmd("perf-dpdk.sock", packed, false, &cpp_theirs);
	TEST_ASSERT(ours > 0, "the virtio port ran");
	TEST_ASSERT(theirs > 0, "net_virtio_user ran");
	printf("64-byte frames, %s ring, against testpmd net_vhost io forwarding (shared CPUs: "
	       "indicative):\n  virtio port %.2f Mpps (%.0f cycles/frame), net_virtio_user %.2f "
	       "Mpps (%.0f cycles/frame), ratio %.2f\n",
	       packed ? "packed" : "split", ours, cpp_ours, theirs, cpp_theirs, ours / theirs);
	return TEST_SUCCESS;
}

static int
test_perf_split(void)
{
	return run_perf(false);
}
REGISTER_TEST(virtio_port_perf_loop_testpmd_split, perf, test_perf_split)

static int
test_perf_packed(void)
{
	return run_perf(true);
}
REGISTER_TEST(virtio_port_perf_loop_testpmd_packed, perf, test_perf_packed)
