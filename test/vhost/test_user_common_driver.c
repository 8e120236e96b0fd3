/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Issue 6's last item: the test driver of the kernel vhost-net and vDPA
 * tests (vt_virtio.c) run unchanged over the vhost-user front-end against
 * dpdk-testpmd's net_vhost, proving the backend interface is common.
 * Every path stops testpmd.
 */
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "test_proc.h"
#include "vhost_user_frontend.h"
#include "vt_user.h"
#include "vt_virtio.h"

#define TESTPMD_TIMEOUT_MS 60000

static int
testpmd_skip_reason(char *why, size_t len)
{
	char buf[256];

	if (vt_testpmd_path(buf, sizeof(buf)) == NULL) {
		snprintf(why, len, "dpdk-testpmd is not installed (apt-get install dpdk)");
		return 1;
	}
	return !vt_hugepages_ok(128, why, len);
}

/* testpmd with net_vhost on @p sock, io forwarding back out of the same port. */
static int
start_vhost(struct vt_proc *p, const char *sock, const char *prefix)
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
			      "--total-num-mbufs=8192",
			      "--port-topology=loop",
			      "--forward-mode=io",
			      "--no-flush-rx",
			      NULL};

	unlink(sock);
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", sock);
	return vt_proc_start(p, argv, -1);
}

static void
cleanup_prefix(const char *prefix)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", prefix);
	if (system(cmd) != 0)
		printf("cannot remove /var/run/dpdk/%s\n", prefix);
}

/*
 * The same driving code as the kernel vhost-net and vDPA tests
 * (vt_net_bring_up(), vt_net_check_loopback() in vt_virtio.c, over the
 * common backend interface only) against testpmd's net_vhost through our
 * front-end: frames go out on our transmit ring, through io forwarding and
 * back into our receive ring, byte for byte.
 */
static int
run_common_driver(bool packed)
{
	struct vh_user_frontend_config cfg = {.timeout_ms = 10000};
	const uint64_t required =
		(1ULL << VH_VIRTIO_F_VERSION_1) | (packed ? 1ULL << VH_VIRTIO_F_RING_PACKED : 0);
	const uint64_t wanted = 1ULL << VT_NET_F_MRG_RXBUF;
	static const size_t lens[] = {60, 1000, 1514, 60};
	char why[256], sock[256], prefix[64];
	struct vh_user_frontend *fe = NULL;
	uint8_t frame[1514];
	struct vt_dev d;
	struct vt_proc p;
	int rc = TEST_SUCCESS, st;

	if (testpmd_skip_reason(why, sizeof(why)))
		TEST_SKIP("%s", why);
	memset(&d, 0, sizeof(d));
	d.memfd = -1;
	for (int i = 0; i < VT_VQ_MAX; i++)
		d.vq[i].kick = d.vq[i].call = -1;
	vt_path(sock, sizeof(sock), packed ? "tp-common-p.sock" : "tp-common-s.sock");
	snprintf(prefix, sizeof(prefix), "vhost-user-common-%d", (int)getpid());
	TEST_ASSERT_SUCCESS(start_vhost(&p, sock, prefix), "testpmd");
	st = vh_user_frontend_connect(sock, TESTPMD_TIMEOUT_MS, &cfg, &fe);
	if (st == 0)
		st = vt_net_bring_up(&d, vh_user_frontend_backend(fe), NULL, wanted, required, 64);
	if (st != 0) {
		printf("FAIL: bring-up over the front-end: %s\n", strerror(-st));
		rc = TEST_FAILED;
		goto out;
	}
	if (vt_proc_wait_output(&p, "virtio is now ready for processing", 10000) != 0 ||
	    vt_net_post_rx(&d, 16) != 0 || vt_proc_write(&p, "start\n") != 0) {
		printf("FAIL: device not ready, or receive buffers not posted\n");
		rc = TEST_FAILED;
		goto out;
	}
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]) && rc == TEST_SUCCESS; i++) {
		memset(frame, 0xff, 6);
		memcpy(frame + 6, "\x02\x00\x00\x00\x00\x07\x88\xb5", 8);
		for (size_t j = 14; j < lens[i]; j++)
			frame[j] = (uint8_t)(i * 13 + j);
		rc = vt_net_check_loopback(&d, &d, frame, lens[i], 10000);
	}
	vt_proc_write(&p, "stop\n");
	vt_proc_wait_output(&p, "Done.", 5000);
out:
	if (rc != TEST_SUCCESS)
		vt_proc_dump(&p, "testpmd");
	vt_dev_fini(&d);
	vh_user_frontend_destroy(fe);
	st = vt_proc_stop(&p, "quit\n", 10000);
	if (rc == TEST_SUCCESS && st != 0) {
		printf("FAIL: testpmd exit status %d\n", st);
		rc = TEST_FAILED;
	}
	vt_proc_cleanup(&p);
	cleanup_prefix(prefix);
	unlink(sock);
	return rc;
}

static int
test_common_driver_split(void)
{
	return run_common_driver(false);
}
/* clang-format off */
REGISTER_TEST(user_interop_common_driver_loops_through_testpmd_vhost_split, interop, test_common_driver_split)
/* clang-format on */

static int
test_common_driver_packed(void)
{
	return run_common_driver(true);
}
/* clang-format off */
REGISTER_TEST(user_interop_common_driver_loops_through_testpmd_vhost_packed, interop, test_common_driver_packed)
/* clang-format on */
