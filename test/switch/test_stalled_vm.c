/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A VM that stops consuming its receive ring must cost the switch bounded
 * memory and must not slow the other ports.
 *
 * The VM is dpdk-testpmd with a net_virtio_user port that receives for a
 * moment and then stops polling: its driver's receive buffers fill up and
 * are never reaped again.
 * The switch reaches it through its own VM-facing port, the vhost-user
 * port (drivers/net/vhost_user). Two ring ports A and B carry a stream of
 * broadcasts, so every frame is flooded to B and to the VM.
 *
 * Checked: B receives every frame; the VM port takes at most what its ring
 * holds and the rest is counted as dropped; the engine's mbufs in use come
 * back to the same level after every round (nothing piles up for the
 * stalled port); and a round costs about what it costs with the VM port
 * removed altogether (medians of 300 rounds each, generous bound: the CPU
 * is shared, figures are indicative).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_mempool.h>

#include "test.h"
#include "test_eal.h"
#include "test_proc.h"
#include "vs_evloop.h"
#include "vt_switch.h"

#define ROUNDS	 300
#define BURST	 32
#define VM_RING	 256
#define SLOWDOWN 4 /* stalled-VM rounds may cost at most this times more */

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static struct vs_switch_port_counters
counters(struct vt_sw *t, int id)
{
	struct vs_switch_port_view v;

	memset(&v, 0, sizeof(v));
	vs_switch_port_view(t->sw, (uint16_t)id, &v);
	return v.counters;
}

/*
 * ROUNDS rounds of BURST broadcasts from A: every one must reach B, the
 * mbufs in use must come back to @p base after each. Returns the median
 * TSC cycles of a round in @p median.
 */
static int
rounds(struct vt_sw *t, unsigned int base, uint64_t *median, const char *what)
{
	static uint64_t cyc[ROUNDS];
	struct rte_mempool *mp = vs_switch_mempool(t->sw);
	unsigned int worst = 0;

	for (unsigned int r = 0; r < ROUNDS; r++) {
		unsigned int got = 0, in_use;
		struct rte_mbuf *m;
		uint64_t t0;

		TEST_ASSERT_SUCCESS(vt_sw_send(t, 0, bcast, mac_a, 0, BURST), "inject");
		t0 = rte_rdtsc();
		vt_sw_run(t);
		cyc[r] = rte_rdtsc() - t0;
		while (vt_sw_take(t, 1, &m) == 0) {
			rte_pktmbuf_free(m);
			got++;
		}
		TEST_ASSERT_EQUAL(got, BURST, "%s: round %u: B got %u of %u", what, r, got, BURST);
		in_use = rte_mempool_in_use_count(mp);
		if (in_use > worst)
			worst = in_use;
		TEST_ASSERT(in_use <= base, "%s: round %u: %u mbufs in use, %u before", what, r,
			    in_use, base);
	}
	qsort(cyc, ROUNDS, sizeof(cyc[0]), cmp_u64);
	*median = cyc[ROUNDS / 2];
	printf("%s: %u rounds of %u broadcasts, median %.1f us per round, at most %u mbufs "
	       "in use\n",
	       what, ROUNDS, BURST, (double)*median * 1e6 / (double)rte_get_tsc_hz(), worst);
	return TEST_SUCCESS;
}

static bool
wait_link_up(struct vt_sw *t, int id, struct vt_proc *p, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while (vt_now_ms() < end && vt_proc_running(p)) {
		struct vs_switch_port_view v;

		vs_evloop_run_once(t->loop, 50);
		if (vs_switch_port_view(t->sw, (uint16_t)id, &v) == 0 &&
		    v.info.link == VS_PORT_LINK_UP)
			return true;
	}
	return false;
}

/* Runs the switch's control loop for @p ms. */
static void
serve(struct vt_sw *t, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while (vt_now_ms() < end)
		vs_evloop_run_once(t->loop, 20);
}

/*
 * testpmd's output @p needle, with the switch's control loop served
 * meanwhile: the vhost-user port answers the VM's requests there (a
 * front-end waiting for a reply would otherwise wait for us).
 */
static int
wait_output(struct vt_sw *t, struct vt_proc *p, const char *needle, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while (vt_now_ms() < end && vt_proc_running(p)) {
		if (vt_proc_output_has(p, needle))
			return 0;
		vs_evloop_run_once(t->loop, 20);
	}
	return vt_proc_output_has(p, needle) ? 0 : -ETIMEDOUT;
}

static int
test_stalled_vm(void)
{
	char why[256], sock[256], spec[512], err[256], prefix[64], vdev[512], tp[256];
	struct vs_switch_port_counters c, c0;
	uint64_t stalled, without;
	struct vt_proc p;
	struct vt_sw t;
	unsigned int base;
	int vm, rc = TEST_SUCCESS;

	if (vt_testpmd_path(tp, sizeof(tp)) == NULL)
		TEST_SKIP("dpdk-testpmd is not installed (apt-get install dpdk)");
	if (!vt_hugepages_ok(128, why, sizeof(why)))
		TEST_SKIP("%s", why);
	rc = vt_sw_init(&t, 1, 1024, why, sizeof(why));
	if (rc != 0 && !vt_eal_ready())
		TEST_SKIP("%s", why);
	TEST_ASSERT_SUCCESS(rc, "engine: %s", why);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 4096), "A");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 4096), "B");
	vt_path(sock, sizeof(sock), "stall-vm.sock");
	unlink(sock);
	snprintf(spec, sizeof(spec), "vhost-user,path=%s,queues=1,name=vm", sock);
	vm = vs_switch_add_port(t.sw, spec, err, sizeof(err));
	TEST_ASSERT(vm >= 0, "the VM's port (vhost-user): %s", err);

	/* The VM: its driver starts the port (posting its receive buffers) and
	 * then nothing polls it: forwarding is never started. */
	snprintf(prefix, sizeof(prefix), "fuzz-stall-%d", (int)getpid());
	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,queues=1,queue_size=%u", sock,
		 VM_RING);
	{
		const char *argv[] = {tp,
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
				      "--total-num-mbufs=2048",
				      "--rxd=256",
				      "--txd=256",
				      NULL};

		TEST_ASSERT_SUCCESS(vt_proc_start(&p, argv, -1), "testpmd");
	}
	if (!wait_link_up(&t, vm, &p, 30000)) {
		vt_proc_dump(&p, "testpmd");
		printf("FAIL: the VM's port never came up\n");
		rc = TEST_FAILED;
		goto out;
	}
	/*
	 * The VM receives for a while (its driver refills its ring as it
	 * polls), then stops: its ring holds at most VM_RING free buffers.
	 */
	if (vt_proc_write(&p, "set fwd rxonly\nstart\n") != 0 ||
	    wait_output(&t, &p, "rxonly packet forwarding", 10000) != 0) {
		vt_proc_dump(&p, "testpmd");
		printf("FAIL: testpmd did not start receiving\n");
		rc = TEST_FAILED;
		goto out;
	}
	serve(&t, 500);
	if (vt_proc_write(&p, "stop\n") != 0 || wait_output(&t, &p, "Done.", 10000) != 0) {
		vt_proc_dump(&p, "testpmd");
		printf("FAIL: testpmd did not stop receiving\n");
		rc = TEST_FAILED;
		goto out;
	}
	c0 = counters(&t, vm);
	base = rte_mempool_in_use_count(vs_switch_mempool(t.sw));
	rc = rounds(&t, base, &stalled, "VM stalled");
	if (rc != TEST_SUCCESS)
		goto out;
	c = counters(&t, vm);
	c.tx_packets -= c0.tx_packets;
	c.tx_dropped -= c0.tx_dropped;
	printf("VM port: %" PRIu64 " frames taken, %" PRIu64 " dropped\n", c.tx_packets,
	       c.tx_dropped);
	if (c.tx_packets > VM_RING || c.tx_packets + c.tx_dropped != (uint64_t)ROUNDS * BURST) {
		printf("FAIL: the stalled VM took %" PRIu64 " frames (its ring holds %u), "
		       "%" PRIu64 " dropped, of %u\n",
		       c.tx_packets, VM_RING, c.tx_dropped, ROUNDS * BURST);
		rc = TEST_FAILED;
		goto out;
	}
	/* The same traffic with the VM's port gone. */
	if (vs_switch_del_port(t.sw, "vm", err, sizeof(err)) != 0) {
		printf("FAIL: del-port vm: %s\n", err);
		rc = TEST_FAILED;
		goto out;
	}
	vm = -1;
	rc = rounds(&t, base, &without, "no VM");
	if (rc != TEST_SUCCESS)
		goto out;
	printf("a round with the VM stalled costs %.2f times a round without it\n",
	       (double)stalled / (double)without);
	if (stalled > SLOWDOWN * without) {
		printf("FAIL: a stalled VM slows the other ports %.1f times (bound %u)\n",
		       (double)stalled / (double)without, SLOWDOWN);
		rc = TEST_FAILED;
	}
out:
	vt_proc_stop(&p, "quit\n", 10000);
	vt_proc_cleanup(&p);
	vt_sw_fini(&t);
	unlink(sock);
	snprintf(spec, sizeof(spec), "rm -rf /var/run/dpdk/%s", prefix);
	if (system(spec) != 0)
		printf("cannot remove /var/run/dpdk/%s\n", prefix);
	return rc;
}
/* clang-format off */
REGISTER_TEST(switch_stalled_vm_costs_bounded_memory_and_does_not_slow_others, interop, test_stalled_vm)
/* clang-format on */
