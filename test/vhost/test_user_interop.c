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

#define PF(f)		   VH_USER_PF(VH_USER_PROTOCOL_F_##f)
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
		struct vt_udev d;
		unsigned int ready = 0;

		vt_udev_snapshot(&s->dev, &d);
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
		const volatile uint16_t *flags =
			(const volatile uint16_t *)((uint8_t *)r->desc + 14);

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
	struct vt_udev d;
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
	vt_udev_snapshot(&s.dev, &d);
	if (!ok) {
		vt_proc_dump(&p, "testpmd");
		printf("FAIL: %u rings did not all start and enable (events: %s)\n", rings,
		       d.events);
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
	vt_udev_snapshot(&s.dev, &d);
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
	vt_udev_snapshot(&s.dev, &d);
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

/* ---- our front-end against testpmd's net_vhost ---- */

#define RING_SIZE 256
#define NET_HDR	  12 /* struct virtio_net_hdr_mrg_rxbuf, always with VERSION_1 */
#define FRAME	  60
#define RX_BUFS	  8

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct split_ring {
	struct vring_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[] */
	volatile uint16_t *used;  /* flags, idx, then {u32 id, u32 len}[] */
};

static struct split_ring
ring_at(const struct vt_guest_mem *m, unsigned int idx)
{
	struct vh_vring_addr a = vt_ring_addr(m, idx);
	struct split_ring r = {(struct vring_desc *)(uintptr_t)a.desc_user_addr,
			       (volatile uint16_t *)(uintptr_t)a.avail_user_addr,
			       (volatile uint16_t *)(uintptr_t)a.used_user_addr};

	return r;
}

static int
start_vhost(struct vt_proc *p, const char *sock, const char *prefix)
{
	char vdev[512];
	const char *argv[] = {"dpdk-testpmd", "--lcores=0@0,1@0", "--no-pci", "--file-prefix",
			      prefix, "-m", "256", "--single-file-segments", "--vdev", vdev, "--",
			      "-i", "--total-num-mbufs=8192", "--port-topology=loop",
			      "--forward-mode=io",
			      /* "start" would otherwise drain our frame before forwarding. */
			      "--no-flush-rx", NULL};

	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", sock);
	return vt_proc_start(p, argv, -1);
}

/* The driver side of the rings, through the common backend interface. */
static int
drive_vhost(struct vh_backend *b, struct vt_guest_mem *m, int kick[2], int call[2])
{
	struct vh_mem_region r = vt_guest_mem_region(m);
	uint64_t features;
	int rc;

	rc = vh_backend_set_owner(b);
	if (rc == 0)
		rc = vh_backend_get_features(b, &features);
	if (rc == 0)
		rc = vh_backend_set_features(b, features & ((1ULL << VH_VIRTIO_F_VERSION_1) |
							    (1ULL << VT_NET_F_MRG_RXBUF)));
	if (rc == 0)
		rc = vh_backend_set_mem_table(b, &r, 1);
	for (unsigned int i = 0; i < 2 && rc == 0; i++) {
		struct vh_vring_addr a = vt_ring_addr(m, i);

		kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		call[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		rc = vh_backend_set_vring_num(b, i, RING_SIZE);
		if (rc == 0)
			rc = vh_backend_set_vring_base(b, i, 0);
		if (rc == 0)
			rc = vh_backend_set_vring_addr(b, i, &a);
		if (rc == 0)
			rc = vh_backend_set_vring_kick(b, i, kick[i]);
		if (rc == 0)
			rc = vh_backend_set_vring_call(b, i, call[i]);
		if (rc == 0)
			rc = vh_backend_set_vring_enable(b, i, 1);
	}
	if (rc == 0)
		rc = vh_backend_driver_ok(b);
	return rc;
}

/* Posts RX buffers on ring 0 and one frame on ring 1 (the driver's TX), then kicks. */
static void
post_buffers(struct vt_guest_mem *m, const int kick[2])
{
	struct split_ring rx = ring_at(m, 0), tx = ring_at(m, 1);
	uint64_t one = 1, buf = 1 << 20;
	uint8_t *frame = m->base + buf + 0x10000 + NET_HDR;

	for (int i = 0; i < RX_BUFS; i++) {
		rx.desc[i] = (struct vring_desc){m->gpa + buf + (uint64_t)i * 2048, 2048, 2, 0};
		rx.avail[2 + i] = (uint16_t)i;
	}
	memset(m->base + buf + 0x10000, 0, NET_HDR);
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x07\x08\x00", 8);
	for (int i = 14; i < FRAME; i++)
		frame[i] = (uint8_t)i;
	tx.desc[0] = (struct vring_desc){m->gpa + buf + 0x10000, NET_HDR + FRAME, 0, 0};
	tx.avail[2] = 0;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	rx.avail[1] = RX_BUFS;
	tx.avail[1] = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(kick[0], &one, 8) != 8 || write(kick[1], &one, 8) != 8)
		printf("kick failed\n");
}

static int
frame_came_back(struct vt_guest_mem *m)
{
	struct split_ring rx = ring_at(m, 0);
	uint64_t deadline = vt_now_ms() + 10000;
	const volatile uint32_t *elem = (const volatile uint32_t *)(rx.used + 2);
	uint8_t *sent = m->base + (1 << 20) + 0x10000 + NET_HDR, *got;

	while (rx.used[1] == 0) {
		if (vt_now_ms() > deadline) {
			struct split_ring tx = ring_at(m, 1);

			printf("FAIL: no frame came back on the receive ring (rx avail %u used %u, "
			       "tx avail %u used %u)\n",
			       rx.avail[1], rx.used[1], tx.avail[1], tx.used[1]);
			return 0;
		}
		usleep(10 * 1000);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (elem[0] >= RX_BUFS || elem[1] != NET_HDR + FRAME) {
		printf("FAIL: used element id %u len %u\n", elem[0], elem[1]);
		return 0;
	}
	got = m->base + (1 << 20) + (uint64_t)elem[0] * 2048 + NET_HDR;
	if (memcmp(got, sent, FRAME) != 0) {
		printf("FAIL: the frame changed on its way\n");
		return 0;
	}
	return 1;
}

static int
test_fe_vs_net_vhost(void)
{
	struct vh_user_frontend_config cfg = {.timeout_ms = 10000, .backend_channel = true};
	char why[256], sock[256], prefix[64];
	struct vh_user_frontend *fe = NULL;
	int kick[2] = {-1, -1}, call[2] = {-1, -1}, rc = TEST_SUCCESS, st;
	struct vt_guest_mem m;
	struct vt_proc p;
	uint32_t base[2] = {0, 0};

	if (testpmd_skip_reason(why, sizeof(why)))
		TEST_SKIP("%s", why);
	vt_path(sock, sizeof(sock), "tp-vhost.sock");
	snprintf(prefix, sizeof(prefix), "vhost-user-fe-%d", (int)getpid());
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m, 4 << 20, 0), "memfd guest memory");
	TEST_ASSERT_SUCCESS(start_vhost(&p, sock, prefix), "testpmd");
	/* testpmd creates the socket once EAL is up; connect retries until then. */
	st = vh_user_frontend_connect(sock, TESTPMD_TIMEOUT_MS, &cfg, &fe);
	if (st < 0) {
		printf("FAIL: connect/negotiate with net_vhost: %s\n", strerror(-st));
		rc = TEST_FAILED;
		goto out;
	}
	printf("net_vhost offers features 0x%" PRIx64 " protocol 0x%" PRIx64
	       ", negotiated 0x%" PRIx64 "\n",
	       vh_user_frontend_offered_features(fe),
	       vh_user_frontend_offered_protocol_features(fe),
	       vh_user_frontend_protocol_features(fe));
	st = drive_vhost(vh_user_frontend_backend(fe), &m, kick, call);
	if (st < 0) {
		printf("FAIL: driving net_vhost through the backend interface: %s\n",
		       strerror(-st));
		rc = TEST_FAILED;
		goto out;
	}
	if (vt_proc_wait_output(&p, "virtio is now ready for processing", 10000) != 0 ||
	    vt_proc_write(&p, "show port info 0\n") != 0 ||
	    vt_proc_wait_output(&p, "Link status: up", 10000) != 0) {
		printf("FAIL: testpmd did not report the device ready and the link up\n");
		rc = TEST_FAILED;
		goto out;
	}
	/* A frame through DPDK's vhost: our TX ring -> io forwarding -> our RX ring. */
	post_buffers(&m, kick);
	if (vt_proc_write(&p, "start\n") != 0 || !frame_came_back(&m)) {
		vt_proc_write(&p, "stop\n");
		vt_proc_wait_output(&p, "Done.", 5000);
		rc = TEST_FAILED;
		goto out;
	}
	vt_proc_write(&p, "stop\n");
	vt_proc_wait_output(&p, "Done.", 5000);
	if (vh_user_frontend_get_vring_base(fe, 0, &base[0]) != 0 ||
	    vh_user_frontend_get_vring_base(fe, 1, &base[1]) != 0 || base[0] != 1 || base[1] != 1) {
		printf("FAIL: GET_VRING_BASE gave %u/%u, expected 1/1\n", base[0], base[1]);
		rc = TEST_FAILED;
	}
out:
	if (rc != TEST_SUCCESS)
		vt_proc_dump(&p, "testpmd");
	vh_user_frontend_destroy(fe);
	st = vt_proc_stop(&p, "quit\n", 10000);
	if (rc == TEST_SUCCESS && st != 0) {
		vt_proc_dump(&p, "testpmd");
		printf("FAIL: testpmd exit status %d\n", st);
		rc = TEST_FAILED;
	}
	for (int i = 0; i < 2; i++) {
		if (kick[i] >= 0)
			close(kick[i]);
		if (call[i] >= 0)
			close(call[i]);
	}
	vt_guest_mem_destroy(&m);
	vt_proc_cleanup(&p);
	cleanup_prefix(prefix);
	unlink(sock);
	return rc;
}
REGISTER_TEST(user_interop_frontend_drives_testpmd_vhost, interop, test_fe_vs_net_vhost)
