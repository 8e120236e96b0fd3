/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interop with real peers from Debian's DPDK:
 *  - dpdk-testpmd's net_virtio_user (a real front-end) against our back-end:
 *    the whole handshake (features, protocol features, memory table from
 *    DPDK's hugepage fds, rings, kicks and calls) until every ring started,
 *    split and packed, 1 and 4 queue pairs;
 *  - our front-end against dpdk-testpmd's net_vhost (a real back-end).
 * Every path stops testpmd.
 */
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "test.h"
#include "test_proc.h"
#include "vt_user.h"

#define PF(f) VH_USER_PF(VH_USER_PROTOCOL_F_##f)
#define TESTPMD_TIMEOUT_MS 60000

static int
testpmd_skip_reason(char *why, size_t len)
{
	char buf[256];

	if (vt_testpmd_path(buf, sizeof(buf)) == NULL) {
		snprintf(why, len, "dpdk-testpmd is not installed (apt-get install dpdk)");
		return 1;
	}
	if (!vt_hugepages_ok(128, why, len))
		return 1;
	return 0;
}

/* Starts testpmd with a net_virtio_user port on @sock. */
static int
start_virtio_user(struct vt_proc *p, const char *sock, unsigned int queues, bool packed,
		  const char *prefix)
{
	char vdev[512], q[32];
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
			      q,
			      q + 16,
			      NULL};

	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,queues=%u%s", sock, queues,
		 packed ? ",packed_vq=1" : "");
	snprintf(q, 16, "--rxq=%u", queues);
	snprintf(q + 16, 16, "--txq=%u", queues);
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

/* Waits until rings 0..n-1 are started and enabled, or testpmd ended. */
static bool
wait_rings(struct vt_server *s, struct vt_proc *p, unsigned int n, unsigned ms)
{
	uint64_t deadline = vt_now_ms() + ms;

	while (vt_now_ms() < deadline && vt_proc_running(p)) {
		struct vt_dev d;
		unsigned int ready = 0;

		vt_dev_snapshot(&s->dev, &d);
		for (unsigned int i = 0; i < n; i++)
			ready += d.rings[i].started && d.rings[i].enabled;
		if (ready == n)
			return true;
		usleep(20 * 1000);
	}
	return false;
}

/* The driver filled its receive rings: proves we read DPDK's memory at the right place. */
static bool
rx_ring_filled(const struct vh_user_ring *r)
{
	if (r->packed) {
		/* First descriptor's flags: AVAIL (bit 7) set, USED (bit 15) clear on lap 1. */
		const volatile uint16_t *flags = (const volatile uint16_t *)((uint8_t *)r->desc + 14);

		return (*flags & (1u << 7)) && !(*flags & (1u << 15));
	}
	return ((const volatile uint16_t *)r->avail)[1] != 0; /* avail->idx */
}

static int
run_virtio_user(unsigned int queues, bool packed)
{
	char why[256], sock[64], prefix[64];
	unsigned int rings = 2 * queues;
	struct vt_server s;
	struct vt_proc p;
	struct vt_dev d;
	bool ok;
	int rc = TEST_SUCCESS, st;

	if (testpmd_skip_reason(why, sizeof(why)))
		TEST_SKIP("%s", why);
	snprintf(sock, sizeof(sock), "vu%u%c.sock", queues, packed ? 'p' : 's');
	snprintf(prefix, sizeof(prefix), "vhost-user-vu%u%c-%d", queues, packed ? 'p' : 's',
		 (int)getpid());
	TEST_ASSERT_SUCCESS(vt_server_listen(&s, sock, VT_MAX_RINGS), "our back-end listens");
	pthread_mutex_lock(&s.dev.lock);
	s.dev.features_offered = (1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << VT_NET_F_MRG_RXBUF) |
				 (1ULL << VT_NET_F_MQ) | (1ULL << VH_VIRTIO_F_RING_PACKED) |
				 (1ULL << VH_VIRTIO_RING_F_INDIRECT_DESC);
	s.dev.touch_rings = true;
	pthread_mutex_unlock(&s.dev.lock);
	TEST_ASSERT_SUCCESS(start_virtio_user(&p, s.path, queues, packed, prefix), "testpmd");
	ok = wait_rings(&s, &p, rings, TESTPMD_TIMEOUT_MS);
	vt_dev_snapshot(&s.dev, &d);
	if (!ok) {
		vt_proc_dump(&p, "testpmd");
		printf("FAIL: %u rings did not all start and enable (events: %s)\n", rings, d.events);
		rc = TEST_FAILED;
		goto out;
	}
	/* The receive rings are filled once testpmd's prompt shows: ports started. */
	if (vt_proc_wait_output(&p, "testpmd>", TESTPMD_TIMEOUT_MS) != 0) {
		vt_proc_dump(&p, "testpmd");
		printf("FAIL: testpmd did not reach its prompt\n");
		rc = TEST_FAILED;
		goto out;
	}
	vt_dev_snapshot(&s.dev, &d);
	for (unsigned int i = 0; i < rings && rc == TEST_SUCCESS; i++) {
		const struct vh_user_ring *r = &d.rings[i].last;

		if (r->packed != packed || r->size == 0 || r->kick_fd < 0 || r->call_fd < 0 ||
		    (!packed && (r->size & (r->size - 1)) != 0)) {
			printf("FAIL: ring %u: packed %d size %u kick %d call %d\n", i, r->packed,
			       r->size, r->kick_fd, r->call_fd);
			rc = TEST_FAILED;
		} else if (i % 2 == 0 && !rx_ring_filled(r)) {
			printf("FAIL: receive ring %u is not filled in the mapped memory\n", i);
			rc = TEST_FAILED;
		}
	}
	if (rc == TEST_SUCCESS && !(d.features & (1ULL << VH_VIRTIO_F_VERSION_1))) {
		printf("FAIL: VERSION_1 not negotiated (0x%" PRIx64 ")\n", d.features);
		rc = TEST_FAILED;
	}
	if (rc == TEST_SUCCESS && d.mem_nregions == 0) {
		printf("FAIL: no memory table\n");
		rc = TEST_FAILED;
	}
	if (rc == TEST_SUCCESS && queues > 1 && !(d.protocol_features & PF(MQ))) {
		printf("FAIL: MQ not negotiated (0x%" PRIx64 ")\n", d.protocol_features);
		rc = TEST_FAILED;
	}
	printf("negotiated features 0x%" PRIx64 " protocol 0x%" PRIx64 ", %u regions, events %s\n",
	       d.features, d.protocol_features, d.mem_nregions, d.events);
out:
	st = vt_proc_stop(&p, "quit\n", 10000);
	if (rc == TEST_SUCCESS && st != 0) {
		vt_proc_dump(&p, "testpmd");
		printf("FAIL: testpmd exit status %d\n", st);
		rc = TEST_FAILED;
	}
	/* testpmd's shutdown stops the rings (GET_VRING_BASE) and hangs up. */
	if (rc == TEST_SUCCESS && !vt_server_wait_closed(&s, 1, 5000)) {
		printf("FAIL: the connection did not end\n");
		rc = TEST_FAILED;
	}
	vt_dev_snapshot(&s.dev, &d);
	for (unsigned int i = 0; i < rings && rc == TEST_SUCCESS; i++) {
		if (d.rings[i].started || d.rings[i].stops < 1) {
			printf("FAIL: ring %u not stopped at the end\n", i);
			rc = TEST_FAILED;
		}
	}
	if (rc == TEST_SUCCESS && !d.mem_null) {
		printf("FAIL: memory not withdrawn at disconnect\n");
		rc = TEST_FAILED;
	}
	vt_server_stop(&s);
	vt_proc_cleanup(&p);
	cleanup_prefix(prefix);
	return rc;
}

static int
test_virtio_user_split_1q(void)
{
	return run_virtio_user(1, false);
}
REGISTER_TEST(user_interop_testpmd_virtio_user_split_1q, interop, test_virtio_user_split_1q)

static int
test_virtio_user_split_4q(void)
{
	return run_virtio_user(4, false);
}
REGISTER_TEST(user_interop_testpmd_virtio_user_split_4q, interop, test_virtio_user_split_4q)

static int
test_virtio_user_packed_1q(void)
{
	return run_virtio_user(1, true);
}
REGISTER_TEST(user_interop_testpmd_virtio_user_packed_1q, interop, test_virtio_user_packed_1q)

static int
test_virtio_user_packed_4q(void)
{
	return run_virtio_user(4, true);
}
REGISTER_TEST(user_interop_testpmd_virtio_user_packed_4q, interop, test_virtio_user_packed_4q)
