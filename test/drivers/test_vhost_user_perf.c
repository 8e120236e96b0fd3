/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cycles per packet of the vhost-user port's dequeue (rx_burst: the guest's
 * TX ring into mbufs) and enqueue (tx_burst: mbufs into the guest's RX ring,
 * freeing what was sent), next to DPDK's librte_vhost doing the same
 * (rte_vhost_dequeue_burst; rte_vhost_enqueue_burst plus freeing what was
 * sent, as net_vhost does), in the same run, against the same front-end:
 * one dpdk-testpmd with four net_virtio_user ports (ours and librte_vhost's,
 * split and packed), in txonly mode to feed the dequeues and rxonly mode to
 * drain the enqueues.
 *
 * The front-end has a real guest's shape: in_order off, mergeable buffers
 * and the offloads a Linux guest negotiates (checksum and TSO both ways).
 *
 * One measuring thread on its own lcore calls the four in turn, so each
 * sees the same conditions; only full 32-packet bursts are timed (a pause
 * between rounds lets the generator fill the rings), bursts that took
 * implausibly long (preempted: the machine is shared) are left out, and the
 * figure is the median over several windows. Printed, never asserted: on a
 * shared CPU the numbers are indicative only.
 */
#include <stdlib.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_vhost.h>

#include "test.h"
#include "vt_testpmd.h"
#include "vt_vu.h"

#define NCASES	  4 /* ours split, librte_vhost split, ours packed, librte_vhost packed */
#define BURST	  32
#define WINDOWS	  9
#define WINDOW_MS 300
#define PREEMPTED 100000 /* cycles: a 32-packet burst never takes this long unpreempted */
#define READER	  0

struct perf_case {
	const char *name;
	bool ours;
	bool packed;
	struct vs_port *port; /* ours */
	char path[256];
	volatile int vid; /* librte_vhost's, -1 until ready */
	uint64_t features;
	/* one window */
	uint64_t cycles;
	uint64_t pkts;
	uint64_t full;
	uint64_t partial;
	uint64_t moved; /* packets of every burst, timed or not */
	uint64_t calls;
	double per_window[WINDOWS];
};

static struct perf_case cases[NCASES];

static int
dpdk_new_device(int vid)
{
	char name[256];

	if (rte_vhost_get_ifname(vid, name, sizeof(name)) != 0)
		return -1;
	for (int i = 0; i < NCASES; i++) {
		if (cases[i].ours || strcmp(cases[i].path, name) != 0)
			continue;
		/* Polling, as net_vhost: no interrupts to the guest. */
		rte_vhost_enable_guest_notification(vid, 0, 0);
		rte_vhost_enable_guest_notification(vid, 1, 0);
		rte_vhost_get_negotiated_features(vid, &cases[i].features);
		__atomic_store_n(&cases[i].vid, vid, __ATOMIC_RELEASE);
	}
	return 0;
}

static void
dpdk_destroy_device(int vid)
{
	for (int i = 0; i < NCASES; i++)
		if (cases[i].vid == vid)
			__atomic_store_n(&cases[i].vid, -1, __ATOMIC_RELEASE);
}

static const struct rte_vhost_device_ops dpdk_ops = {
	.new_device = dpdk_new_device,
	.destroy_device = dpdk_destroy_device,
};

struct phase {
	struct vt_vu_env *env;
	bool enqueue;
	uint32_t len;
	uint8_t frame[2048];
	uint64_t pause_cycles;
};

/*
 * The four operations, out of line so that an instruction-counting run
 * (valgrind --tool=callgrind; see doc/perf.md) can tell them apart: each
 * enqueue frees what it sent, as a port's tx_burst and net_vhost do.
 */
static __rte_noinline unsigned int
ours_dequeue(struct perf_case *c, struct rte_mempool *mp, struct rte_mbuf **pkts)
{
	(void)mp;
	return vs_port_rx_burst(c->port, 0, pkts, BURST);
}

static __rte_noinline unsigned int
dpdk_dequeue(struct perf_case *c, struct rte_mempool *mp, struct rte_mbuf **pkts)
{
	return rte_vhost_dequeue_burst(c->vid, 1, mp, pkts, BURST);
}

static __rte_noinline unsigned int
ours_enqueue(struct perf_case *c, struct rte_mbuf **pkts)
{
	return vs_port_tx_burst(c->port, 0, pkts, BURST);
}

static __rte_noinline unsigned int
dpdk_enqueue(struct perf_case *c, struct rte_mbuf **pkts)
{
	unsigned int n = rte_vhost_enqueue_burst(c->vid, 0, pkts, BURST);

	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

/* Under valgrind every burst is slow: keep them all (VT_PERF_VALGRIND=1). */
static bool
under_valgrind(void)
{
	const char *v = getenv("VT_PERF_VALGRIND");

	return v != NULL && strcmp(v, "1") == 0;
}

/* VT_PERF_SIZE=64|1518 and VT_PERF_FORMAT=split|packed narrow a run (for callgrind). */
static bool
skip_size(uint32_t len)
{
	const char *v = getenv("VT_PERF_SIZE");

	return v != NULL && (uint32_t)atoi(v) != len;
}

static bool
skip_format(bool packed)
{
	static int only = -1; /* -1: not read yet, 0: both, 1: split, 2: packed */

	if (only < 0) {
		const char *v = getenv("VT_PERF_FORMAT");

		only = v == NULL ? 0 : strcmp(v, "split") == 0 ? 1 : 2;
	}
	return only != 0 && only != (packed ? 2 : 1);
}

/* One timed burst of case @p c; returns the packets it moved (32 or fewer). */
static unsigned int
timed_burst(struct phase *ph, struct perf_case *c, struct rte_mbuf **pkts)
{
	uint64_t t0, t1;
	unsigned int n;

	if (ph->enqueue) {
		if (rte_pktmbuf_alloc_bulk(ph->env->mp, pkts, BURST) != 0)
			return 0;
		for (unsigned int i = 0; i < BURST; i++) {
			rte_memcpy(rte_pktmbuf_mtod(pkts[i], void *), ph->frame, ph->len);
			pkts[i]->data_len = (uint16_t)ph->len;
			pkts[i]->pkt_len = ph->len;
		}
		t0 = rte_rdtsc_precise();
		n = c->ours ? ours_enqueue(c, pkts) : dpdk_enqueue(c, pkts);
		t1 = rte_rdtsc_precise();
		if (n < BURST)
			rte_pktmbuf_free_bulk(pkts + n, BURST - n);
	} else {
		t0 = rte_rdtsc_precise();
		n = c->ours ? ours_dequeue(c, ph->env->mp, pkts)
			    : dpdk_dequeue(c, ph->env->mp, pkts);
		t1 = rte_rdtsc_precise();
		rte_pktmbuf_free_bulk(pkts, n);
	}
	c->moved += n;
	c->calls++;
	if (n == BURST && (t1 - t0 < PREEMPTED || under_valgrind())) {
		c->cycles += t1 - t0;
		c->pkts += n;
		c->full++;
	} else if (n > 0) {
		c->partial++;
	}
	return n;
}

static int
measure_main(void *arg)
{
	struct phase *ph = arg;
	struct rte_mbuf *pkts[BURST];
	const uint64_t hz = rte_get_tsc_hz();

	rte_rcu_qsbr_thread_register(ph->env->qsbr, READER);
	rte_rcu_qsbr_thread_online(ph->env->qsbr, READER);
	for (int w = 0; w < WINDOWS; w++) {
		const uint64_t end = rte_rdtsc() + hz / 1000 * WINDOW_MS;

		for (int i = 0; i < NCASES; i++)
			cases[i].cycles = cases[i].pkts = 0;
		while (rte_rdtsc() < end) {
			/* Alternate which goes first, so neither always finds
			 * the caches as the other left them. */
			for (int k = 0; k < NCASES; k++) {
				int i = (w & 1) ? NCASES - 1 - k : k;

				if (!skip_format(cases[i].packed))
					timed_burst(ph, &cases[i], pkts);
			}
			rte_rcu_qsbr_quiescent(ph->env->qsbr, READER);
			rte_delay_us_block((unsigned int)(ph->pause_cycles * 1000000 / hz));
		}
		for (int i = 0; i < NCASES; i++)
			cases[i].per_window[w] =
				cases[i].pkts ? (double)cases[i].cycles / (double)cases[i].pkts : 0;
	}
	rte_rcu_qsbr_thread_offline(ph->env->qsbr, READER);
	rte_rcu_qsbr_thread_unregister(ph->env->qsbr, READER);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *v, int n)
{
	double s[WINDOWS];

	memcpy(s, v, sizeof(double) * (size_t)n);
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	return s[n / 2];
}

/* Runs one phase on lcore 1 and prints ours against librte_vhost's. */
static int
run_phase(struct phase *ph, const char *what, double out[2][2])
{
	for (int i = 0; i < NCASES; i++)
		cases[i].full = cases[i].partial = cases[i].moved = cases[i].calls = 0;
	if (rte_eal_remote_launch(measure_main, ph, 1) != 0)
		TEST_ASSERT(false, "cannot launch the measuring lcore");
	rte_eal_wait_lcore(1);
	for (int f = 0; f < 2; f++) {
		struct perf_case *o = &cases[2 * f], *d = &cases[2 * f + 1];
		double mo = median(o->per_window, WINDOWS), md = median(d->per_window, WINDOWS);

		printf("%-8s %-6s %5u B  ours %7.1f  librte_vhost %7.1f  ratio %5.2f   "
		       "(full bursts %" PRIu64 " / %" PRIu64 ", partial %" PRIu64 " / %" PRIu64
		       ")\n",
		       what, f ? "packed" : "split", ph->len, mo, md, md > 0 ? mo / md : 0, o->full,
		       d->full, o->partial, d->partial);
		if (skip_format(f == 1)) {
			out[f][0] = out[f][1] = 0;
			continue;
		}
		out[f][0] = mo;
		out[f][1] = md;
		printf("  packets moved in %" PRIu64 " / %" PRIu64 " calls: ours %" PRIu64
		       ", librte_vhost %" PRIu64 "\n",
		       o->calls, d->calls, o->moved, d->moved);
		TEST_ASSERT(o->full > 100 && d->full > 100,
			    "%s %s %u B: too few full bursts to measure (%" PRIu64 ", %" PRIu64 ")",
			    what, f ? "packed" : "split", ph->len, o->full, d->full);
	}
	return TEST_SUCCESS;
}

static void
frame_template(uint8_t *f, uint32_t len)
{
	memset(f, 0, len);
	memset(f, 0xff, 6); /* broadcast */
	f[6] = 0x02;
	f[11] = 0x01;
	f[12] = 0x08; /* IPv4 ethertype, payload zeros */
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)i;
}

static int
test_vhost_user_port_perf_vs_librte_vhost(void)
{
	/* The offloads a Linux guest negotiates: the virtio PMD asks for
	 * GUEST_CSUM and GUEST_TSO4/6 with receive checksum and LRO (0x1c),
	 * for CSUM and HOST_TSO4/6 with transmit checksum and TSO (0x2c). */
	static const char *const extra[] = {"--forward-mode=txonly",
					    "--txpkts=64",
					    "--burst=32",
					    "--total-num-mbufs=16384",
					    "--rx-offloads=0x1c",
					    "--tx-offloads=0x2c",
					    NULL};
	struct vt_vdev v[NCASES];
	struct vt_testpmd t;
	struct vt_vu_env e;
	struct phase ph;
	char why[256], spec[512], err[256];
	double res[2][2][2][2]; /* [deq/enq][64/1518][split/packed][ours/dpdk] */
	int rc = TEST_SUCCESS, registered = 0;

	if (!vt_testpmd_usable(why, sizeof(why)))
		TEST_SKIP("%s", why);
	if (vt_vu_env_init(&e, "perf", 8191, 0, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	if (rte_lcore_count() < 2 || !rte_lcore_is_enabled(1))
		TEST_SKIP("no second lcore to measure on");
	memset(&t, 0, sizeof(t));
	memset(cases, 0, sizeof(cases));
	for (int i = 0; i < NCASES; i++) {
		struct perf_case *c = &cases[i];
		char name[32];

		c->ours = i % 2 == 0;
		c->packed = i >= 2;
		c->vid = -1;
		c->name = c->ours ? "ours" : "librte_vhost";
		snprintf(name, sizeof(name), "perf%d.sock", i);
		vt_path(c->path, sizeof(c->path), name);
		/* mrg_rxbuf on, in_order off: a real guest's shape (QEMU's
		 * in_order default is off; virtio_user's is on). */
		v[i] = (struct vt_vdev){c->path, 1, c->packed, true, false, false};
		if (c->ours) {
			snprintf(spec, sizeof(spec), "vhost-user,path=%s", c->path);
			c->port = vt_vu_port_start(&e, spec, err, sizeof(err));
			if (c->port == NULL) {
				printf("FAIL: %s: %s\n", spec, err);
				rc = TEST_FAILED;
				goto out;
			}
			continue;
		}
		if (rte_vhost_driver_register(c->path, 0) != 0 ||
		    rte_vhost_driver_callback_register(c->path, &dpdk_ops) != 0 ||
		    rte_vhost_driver_start(c->path) != 0) {
			printf("FAIL: librte_vhost cannot serve %s\n", c->path);
			rc = TEST_FAILED;
			goto out;
		}
		registered |= 1 << i;
	}
	/* testpmd busy-polls CPU 0; we measure on lcore 1 (the other CPU). */
	if (vt_testpmd_start(&t, "perf", v, NCASES, extra, 0) != 0 ||
	    vt_testpmd_wait_ready(&t, 60000) != 0) {
		vt_testpmd_dump(&t);
		printf("FAIL: testpmd did not come up\n");
		rc = TEST_FAILED;
		goto out;
	}
	for (int i = 0; i < NCASES; i++) {
		bool up = cases[i].ours ? vt_vu_wait_queues(&e, cases[i].port, 1, 1, 20000) : ({
			uint64_t end = vt_now_ms() + 20000;
			while (cases[i].vid < 0 && vt_now_ms() < end)
				usleep(10000);
			cases[i].vid >= 0;
		});

		if (!up) {
			printf("FAIL: %s %s did not come up\n", cases[i].name,
			       cases[i].packed ? "packed" : "split");
			rc = TEST_FAILED;
			goto out;
		}
	}
	for (int i = 0; i < NCASES; i++) {
		struct vs_port_info info;

		if (cases[i].ours) {
			vt_vu_info(&e, cases[i].port, &info);
			printf("%s %s: %s\n", cases[i].name, cases[i].packed ? "packed" : "split",
			       info.detail);
		} else {
			printf("%s %s: features 0x%" PRIx64 "\n", cases[i].name,
			       cases[i].packed ? "packed" : "split", cases[i].features);
		}
	}
	printf("TSC %.2f GHz; cycles per packet, median of %d windows of %d ms, full %d-packet "
	       "bursts; a shared CPU: indicative only\n",
	       (double)rte_get_tsc_hz() / 1e9, WINDOWS, WINDOW_MS, BURST);
	memset(&ph, 0, sizeof(ph));
	ph.env = &e;
	/* Rings refill meanwhile (under valgrind our side is slow: longer). */
	ph.pause_cycles = rte_get_tsc_hz() / 1000000 * (under_valgrind() ? 500 : 20);
	for (int s = 0; s < 2 && rc == TEST_SUCCESS; s++) {
		char cmd[64];

		ph.len = s ? 1518 : 64;
		if (skip_size(ph.len)) {
			memset(res[0][s], 0, sizeof(res[0][s]));
			memset(res[1][s], 0, sizeof(res[1][s]));
			continue;
		}
		frame_template(ph.frame, ph.len);
		/* Dequeue: testpmd transmits on every port. */
		snprintf(cmd, sizeof(cmd), "set txpkts %u", ph.len);
		if (vt_testpmd_cmd(&t, "stop", 10000) != 0 || vt_testpmd_cmd(&t, cmd, 10000) != 0 ||
		    vt_testpmd_cmd(&t, "set fwd txonly", 10000) != 0 ||
		    vt_testpmd_cmd(&t, "start", 10000) != 0) {
			rc = TEST_FAILED;
			break;
		}
		usleep(200000);
		ph.enqueue = false;
		rc = run_phase(&ph, "dequeue", res[0][s]);
		if (rc != TEST_SUCCESS)
			break;
		/* Enqueue: testpmd only receives. */
		if (vt_testpmd_cmd(&t, "stop", 10000) != 0 ||
		    vt_testpmd_cmd(&t, "set fwd rxonly", 10000) != 0 ||
		    vt_testpmd_cmd(&t, "start", 10000) != 0) {
			rc = TEST_FAILED;
			break;
		}
		usleep(200000);
		ph.enqueue = true;
		rc = run_phase(&ph, "enqueue", res[1][s]);
	}
	if (rc == TEST_SUCCESS) {
		printf("\nsummary (ours / librte_vhost; the bar: <= 1.10 at 64 B split, <= 1.00 at "
		       "1518 B)\n");
		for (int d = 0; d < 2; d++)
			for (int s = 0; s < 2; s++)
				for (int f = 0; f < 2; f++)
					printf("  %s %-6s %4u B: %6.1f / %6.1f = %.2f\n",
					       d ? "enqueue" : "dequeue", f ? "packed" : "split",
					       s ? 1518 : 64, res[d][s][f][0], res[d][s][f][1],
					       res[d][s][f][0] / res[d][s][f][1]);
	} else {
		vt_testpmd_dump(&t);
	}
out:
	vt_testpmd_stop(&t);
	for (int i = 0; i < NCASES; i++) {
		if (cases[i].ours)
			vt_vu_port_destroy(&e, cases[i].port);
		else if (registered & (1 << i))
			rte_vhost_driver_unregister(cases[i].path);
	}
	vt_vu_env_fini(&e);
	return rc;
}
REGISTER_TEST(vhost_user_port_perf_vs_librte_vhost, perf, test_vhost_user_port_perf_vs_librte_vhost)
