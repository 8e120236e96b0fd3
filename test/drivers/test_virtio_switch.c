/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio port as the real vswitch's uplink: a VM (testpmd
 * net_virtio_user) on one port, the uplink a vhost-user-frontend port to
 * testpmd net_vhost in macswap forwarding, which answers every frame to the
 * station it came from. Frames to an unknown station flood to the uplink,
 * come back from that station, are learned there and reach the VM; then
 * unicast to it goes to the uplink only. The switch's counters agree.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "../app/vt_harness.h"
#include "test.h"

#define VM_MAC	"02:00:00:00:00:01"
#define FAR_MAC "02:00:00:00:00:99" /* the station behind the uplink */
#define FRAMES	64

struct uplink_scene {
	struct vt_vswitch sw;
	struct vt_pmdvm vm;
	struct vt_proc peer;
	bool peer_running;
	char peer_prefix[64];
	char vm_sock[200], up_sock[200];
	uint64_t flooded; /* the VM port's flood counter after the last round */
};

static int
peer_start(struct uplink_scene *s)
{
	char vdev[300];
	const char *argv[] = {"dpdk-testpmd",
			      "--lcores=0@0,1@0",
			      "--no-pci",
			      "--no-huge",
			      "-m",
			      "256",
			      "--single-file-segments",
			      "--file-prefix",
			      s->peer_prefix,
			      "--vdev",
			      vdev,
			      "--",
			      "-i",
			      "--total-num-mbufs=8192",
			      "--port-topology=loop",
			      "--forward-mode=macswap",
			      "--disable-link-check",
			      "--no-flush-rx",
			      NULL};

	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", s->up_sock);
	if (vt_proc_start(&s->peer, argv, 0) != 0)
		return -1;
	s->peer_running = true;
	if (vt_proc_wait_output(&s->peer, "testpmd>", 60000) != 0)
		return -1;
	return vt_proc_write(&s->peer, "start\n");
}

/*
 * The VM sends FRAMES to FAR_MAC; the VM port's flood counter ends between
 * @p min_flooded and @p max_flooded. The switch learns FAR_MAC from the first
 * answer that comes back through the uplink, and how many of the round's
 * later frames it still floods depends on when that answer arrives.
 */
static int
round_of(struct uplink_scene *s, unsigned int n, uint64_t min_flooded, uint64_t max_flooded)
{
	struct vt_port_counters vm, up;

	TEST_ASSERT_SUCCESS(vt_pmdvm_send(&s->vm, FAR_MAC, FRAMES / 8, 8), "round %u: send", n);
	/* Everything comes back through the uplink and reaches the VM's port. */
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_rx(&s->sw, "uplink", (uint64_t)n * FRAMES, 15000),
			    "round %u: the uplink received the answers", n);
	for (uint64_t end = vt_now_ms() + 10000; vt_now_ms() < end;) {
		TEST_ASSERT_SUCCESS(vt_vswitch_port(&s->sw, "vm1", &vm), "vm1 counters");
		if (vm.tx_packets >= (uint64_t)n * FRAMES)
			break;
		usleep(50 * 1000);
	}
	TEST_ASSERT_SUCCESS(vt_vswitch_port(&s->sw, "uplink", &up), "uplink counters");
	TEST_ASSERT_EQUAL(vm.rx_packets, (uint64_t)n * FRAMES, "round %u: from the VM", n);
	TEST_ASSERT_EQUAL(up.tx_packets, (uint64_t)n * FRAMES, "round %u: out of the uplink", n);
	TEST_ASSERT_EQUAL(up.rx_packets, (uint64_t)n * FRAMES, "round %u: into the uplink", n);
	TEST_ASSERT_EQUAL(vm.tx_packets, (uint64_t)n * FRAMES, "round %u: to the VM", n);
	TEST_ASSERT(vm.flooded >= min_flooded && vm.flooded <= max_flooded,
		    "round %u: flooded from the VM: %" PRIu64 ", want %" PRIu64 "..%" PRIu64, n,
		    vm.flooded, min_flooded, max_flooded);
	s->flooded = vm.flooded;
	TEST_ASSERT(up.up, "uplink up");
	return TEST_SUCCESS;
}

static int
uplink_body(struct uplink_scene *s)
{
	char why[256], vm_spec[300], up_spec[300];
	const char *ports[3] = {vm_spec, up_spec, NULL};

	vt_path(s->vm_sock, sizeof(s->vm_sock), "upl-vm1.sock");
	vt_path(s->up_sock, sizeof(s->up_sock), "upl-uplink.sock");
	snprintf(s->peer_prefix, sizeof(s->peer_prefix), "virtio-port-uplink-%d", (int)getpid());
	unlink(s->up_sock);
	TEST_ASSERT_SUCCESS(peer_start(s), "testpmd net_vhost in macswap");
	vt_vm_port_spec(vm_spec, sizeof(vm_spec), 0, s->vm_sock, "name=vm1");
	snprintf(up_spec, sizeof(up_spec), "vhost-user-frontend,path=%s,name=uplink", s->up_sock);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, ports, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, "uplink", 15000), "uplink up");
	TEST_ASSERT_SUCCESS(
		vt_pmdvm_start(&s->vm, "vm1", s->vm_sock, VM_MAC, false, 0, why, sizeof(why)), "%s",
		why);
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, "vm1", 15000), "vm1 up");
	/*
	 * Unknown station: flooded to the uplink, the only other port, until
	 * the first answer teaches the switch where FAR_MAC is.
	 */
	TEST_RUN(round_of(s, 1, 1, FRAMES));
	/* Learned behind the uplink: unicast now, nothing more flooded. */
	TEST_RUN(round_of(s, 2, s->flooded, s->flooded));
	return TEST_SUCCESS;
}

static int
test_virtio_port_is_the_switch_uplink(void)
{
	struct uplink_scene *s = calloc(1, sizeof(*s));
	char why[256], cmd[128];
	int rc;

	if (s == NULL)
		return TEST_FAILED;
	if (!vt_interop_ready(why, sizeof(why))) {
		free(s);
		TEST_SKIP("%s", why);
	}
	rc = uplink_body(s);
	if (rc == TEST_FAILED) {
		if (s->sw.proc.pid > 0)
			vt_vswitch_dump(&s->sw);
		if (s->peer_running)
			vt_proc_dump(&s->peer, "uplink testpmd");
	}
	vt_pmdvm_stop(&s->vm);
	if (s->sw.running)
		vt_vswitch_stop(&s->sw, SIGTERM);
	if (s->peer_running) {
		vt_proc_stop(&s->peer, "quit\n", 10000);
		vt_proc_cleanup(&s->peer);
		snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", s->peer_prefix);
		if (system(cmd) != 0)
			printf("cannot remove /var/run/dpdk/%s\n", s->peer_prefix);
	}
	unlink(s->vm_sock);
	unlink(s->up_sock);
	free(s);
	return rc;
}
REGISTER_TEST(virtio_port_is_the_switch_uplink, interop, test_virtio_port_is_the_switch_uplink)
