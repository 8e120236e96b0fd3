/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel vhost: /dev/vhost-net with a tap backend and /dev/vhost-vsock,
 * driven through the common backend interface. The host kernel here has
 * neither, so the device tests run inside a guest (suite guest), started by
 * the vm tests at the end.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "test.h"
#include "test_vm.h"
#include "vhost_kern.h"
#include "vt_virtio.h"

#define ETH_P_TEST 0x88b5 /* IEEE 802 local experimental */
#define RING_NUM   64
#define WAIT_MS	   5000

static int
test_kern_open_missing_node_is_enoent(void)
{
	struct vh_backend *b = (struct vh_backend *)1;

	TEST_ASSERT_EQUAL(vh_kern_net_open("/nonexistent/vhost-net", &b), -ENOENT,
			  "a missing node is ENOENT (and the log names vhost_net)");
	TEST_ASSERT(b == NULL, "no backend on failure");
	TEST_ASSERT_EQUAL(vh_kern_vsock_open("/nonexistent/vhost-vsock", &b), -ENOENT, "vsock too");
	TEST_ASSERT_EQUAL(vh_kern_net_open(NULL, NULL), -EINVAL, "NULL out");
	return TEST_SUCCESS;
}
REGISTER_TEST(kern_open_missing_node_is_enoent, fast, test_kern_open_missing_node_is_enoent)

static int
test_kern_extensions_check_kind(void)
{
	static const struct vh_backend_ops none;
	struct vh_backend other = {&none, VH_BACKEND_KERN_NET};

	TEST_ASSERT_EQUAL(vh_kern_net_set_backend(NULL, 0, 0), -EINVAL, "NULL");
	TEST_ASSERT_EQUAL(vh_kern_net_set_backend(&other, 0, 0), -EINVAL,
			  "a backend of another implementation claiming kern-net");
	TEST_ASSERT_EQUAL(vh_kern_vsock_set_guest_cid(&other, 3), -EINVAL, "not vsock");
	TEST_ASSERT_EQUAL(vh_kern_vsock_set_running(&other, true), -EINVAL, "not vsock");
	TEST_ASSERT_EQUAL(vh_kern_fd(&other), -EINVAL, "no fd");
	return TEST_SUCCESS;
}
REGISTER_TEST(kern_extensions_check_kind, fast, test_kern_extensions_check_kind)

static int
test_kern_net_hdr_len_follows_features(void)
{
	TEST_ASSERT_EQUAL(vh_kern_net_hdr_len(0), 10, "legacy header");
	TEST_ASSERT_EQUAL(vh_kern_net_hdr_len(1ULL << VIRTIO_NET_F_MRG_RXBUF), 12, "mergeable");
	TEST_ASSERT_EQUAL(vh_kern_net_hdr_len(1ULL << VIRTIO_F_VERSION_1), 12, "virtio 1.x");
	TEST_ASSERT_EQUAL(vh_kern_tap_open("x", 11, (char[IFNAMSIZ]){0}), -EINVAL,
			  "a vnet header length no device uses");
	return TEST_SUCCESS;
}
REGISTER_TEST(kern_net_hdr_len_follows_features, fast, test_kern_net_hdr_len_follows_features)

/* ---- in the guest ---- */

static int
set_link_up(const char *ifname)
{
	struct ifreq ifr = {0};
	char path[128];
	int s, rc = 0;
	FILE *f;

	/* No IPv6 on the tap: router solicitations would land in our rings. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs("1\n", f);
		fclose(f);
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) != 0))
		rc = -errno;
	close(s);
	return rc;
}

/* A packet socket on the tap's interface: what the tap receives from
 * vhost (our transmit ring) shows here; what we send here goes out through
 * the tap to vhost (our receive ring). */
static int
packet_socket(const char *ifname, int *ifindex)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_TEST)};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_TEST));

	if (s < 0)
		return -errno;
	*ifindex = (int)if_nametoindex(ifname);
	sll.sll_ifindex = *ifindex;
	if (*ifindex == 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		int err = -errno;

		close(s);
		return err;
	}
	return s;
}

static size_t
make_frame(uint8_t *f, size_t payload, uint8_t seed)
{
	static const uint8_t dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
	static const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_P_TEST >> 8;
	f[13] = ETH_P_TEST & 0xff;
	for (size_t i = 0; i < payload; i++)
		f[14 + i] = (uint8_t)(seed + i * 7);
	return 14 + payload;
}

static ssize_t
recv_timeout(int s, void *buf, size_t cap, unsigned int timeout_ms)
{
	struct pollfd p = {.fd = s, .events = POLLIN};

	if (poll(&p, 1, (int)timeout_ms) <= 0)
		return -ETIMEDOUT;
	return recv(s, buf, cap, 0);
}

struct net_env {
	struct vh_backend *b;
	struct vt_dev d;
	int tap, pkt, ifindex;
	char ifname[IFNAMSIZ];
};

static void
net_env_fini(struct net_env *e)
{
	if (e->b != NULL) {
		vh_kern_net_set_backend(e->b, VH_KERN_NET_RX, -1);
		vh_kern_net_set_backend(e->b, VH_KERN_NET_TX, -1);
	}
	vh_backend_destroy(e->b);
	vt_dev_fini(&e->d);
	if (e->tap >= 0)
		close(e->tap);
	if (e->pkt >= 0)
		close(e->pkt);
}

/* After the rings are set: the tap, with the vnet header length the
 * negotiated features give, becomes both rings' backend. */
static int
net_attach_tap(struct vh_backend *b, void *arg)
{
	struct net_env *e = arg;
	int rc;

	e->tap = vh_kern_tap_open("vt-tap%d", vh_kern_net_hdr_len(e->d.features), e->ifname);
	if (e->tap < 0)
		return e->tap;
	if ((rc = set_link_up(e->ifname)) != 0)
		return rc;
	e->pkt = packet_socket(e->ifname, &e->ifindex);
	if (e->pkt < 0)
		return e->pkt;
	if ((rc = vh_kern_net_set_backend(b, VH_KERN_NET_RX, e->tap)) != 0)
		return rc;
	return vh_kern_net_set_backend(b, VH_KERN_NET_TX, e->tap);
}

/* vhost-net over a tap that carries the vnet header (how QEMU uses it). */
static int
net_env_init(struct net_env *e)
{
	const uint64_t want = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF);
	const struct vt_net_hooks hooks = {.after_start = net_attach_tap, .arg = e};
	int rc;

	memset(e, 0, sizeof(*e));
	e->tap = e->pkt = -1;
	e->d.memfd = -1;
	for (int i = 0; i < VT_VQ_MAX; i++)
		e->d.vq[i].kick = e->d.vq[i].call = -1;
	if (access(VH_KERN_NET_PATH, F_OK) != 0)
		TEST_SKIP("%s is missing (vm_kern_net_* run this test in a guest)",
			  VH_KERN_NET_PATH);
	TEST_ASSERT_SUCCESS(vh_kern_net_open(NULL, &e->b), "open /dev/vhost-net");
	rc = vt_net_bring_up(&e->d, e->b, &hooks, 0, want, RING_NUM);
	TEST_ASSERT_SUCCESS(rc, "owner, features, memory, rings, tap backend: %s", strerror(-rc));
	TEST_ASSERT_EQUAL(vt_net_hdr_len(&e->d), 12, "VERSION_1 header length");
	return TEST_SUCCESS;
}

static int
net_tx_comes_out_of_tap(struct net_env *e)
{
	struct vt_vq *tx = &e->d.vq[VT_NET_TX];
	uint8_t frame[256], got[2048];
	uint32_t id, len;
	size_t flen = make_frame(frame, 200, 1);
	ssize_t n;

	/* With interrupts on: used entry, call signalled, frame on the tap. */
	TEST_ASSERT_SUCCESS(vt_net_send(&e->d, frame, flen), "post on the transmit ring");
	TEST_ASSERT_SUCCESS(vt_vq_wait_call(tx, WAIT_MS), "call eventfd after transmit");
	TEST_ASSERT_SUCCESS(vt_vq_wait_used(tx, WAIT_MS, &id, &len), "transmit buffer used");
	TEST_ASSERT_EQUAL(id, 0, "the first descriptor came back");
	n = recv_timeout(e->pkt, got, sizeof(got), WAIT_MS);
	TEST_ASSERT_EQUAL(n, (ssize_t)flen, "frame length on the tap");
	TEST_ASSERT(memcmp(got, frame, flen) == 0,
		    "the tap's frame equals the ring's, byte for byte");

	/* With VRING_AVAIL_F_NO_INTERRUPT: used entry, no call. */
	vt_vq_set_interrupts(tx, false);
	flen = make_frame(frame, 60, 2);
	TEST_ASSERT_SUCCESS(vt_net_send(&e->d, frame, flen), "second frame");
	TEST_ASSERT_SUCCESS(vt_vq_wait_used(tx, WAIT_MS, &id, &len), "second buffer used");
	TEST_ASSERT_EQUAL(id, 1, "the second descriptor came back");
	n = recv_timeout(e->pkt, got, sizeof(got), WAIT_MS);
	TEST_ASSERT(n == (ssize_t)flen && memcmp(got, frame, flen) == 0, "second frame on the tap");
	TEST_ASSERT_EQUAL(vt_vq_wait_call(tx, 300), -ETIMEDOUT,
			  "no call while the driver suppresses interrupts");
	vt_vq_set_interrupts(tx, true);
	return TEST_SUCCESS;
}

static int
net_tap_lands_in_rx(struct net_env *e)
{
	struct sockaddr_ll to = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_TEST),
				 .sll_ifindex = e->ifindex,
				 .sll_halen = 6};
	struct vt_vq *rx = &e->d.vq[VT_NET_RX];
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint8_t frame[1600], got[2048];
	size_t flen = make_frame(frame, 1400, 3), len = 0;

	TEST_ASSERT_SUCCESS(vt_net_post_rx(&e->d, 4), "receive buffers posted");
	TEST_ASSERT_EQUAL(vt_vq_used_pending(rx), 0, "nothing received before we send");
	memcpy(to.sll_addr, frame, 6);
	TEST_ASSERT_EQUAL(sendto(e->pkt, frame, flen, 0, (struct sockaddr *)&to, sizeof(to)),
			  (ssize_t)flen, "frame sent out through the tap");
	TEST_ASSERT_SUCCESS(vt_vq_wait_call(rx, WAIT_MS), "call eventfd after receive");
	TEST_ASSERT_SUCCESS(vt_net_recv(&e->d, &hdr, got, sizeof(got), &len, WAIT_MS),
			    "a receive buffer used");
	TEST_ASSERT_EQUAL(len, flen, "received length (used length minus header)");
	TEST_ASSERT(memcmp(got, frame, flen) == 0, "received bytes equal the sent ones");
	TEST_ASSERT_EQUAL(hdr.hdr.flags, 0, "no checksum offload on a plain frame");
	TEST_ASSERT_EQUAL(hdr.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE, "no GSO");
	TEST_ASSERT_EQUAL(hdr.num_buffers, 1, "MRG_RXBUF: one buffer (virtio 5.1.6.4)");
	TEST_ASSERT_EQUAL(vt_vq_used_pending(rx), 0, "exactly one buffer used");
	return TEST_SUCCESS;
}

static int
test_guest_kern_net_tap_frames(void)
{
	struct net_env e;
	uint32_t base = 0;
	int rc;

	rc = net_env_init(&e);
	if (rc == TEST_SUCCESS)
		rc = net_tx_comes_out_of_tap(&e);
	if (rc == TEST_SUCCESS)
		rc = net_tap_lands_in_rx(&e);
	if (rc == TEST_SUCCESS) {
		/* Stopping a ring hands its position back (as for migration). */
		TEST_ASSERT_SUCCESS(vh_kern_net_set_backend(e.b, VH_KERN_NET_TX, -1), "detach tx");
		rc = vh_backend_get_vring_base(e.b, VH_KERN_NET_TX, &base);
		if (rc != 0 || base != 2) {
			printf("FAIL: get_vring_base(tx): rc %d base %u, want 0 and 2\n", rc, base);
			rc = TEST_FAILED;
		}
	}
	net_env_fini(&e);
	return rc;
}
REGISTER_TEST(guest_kern_net_tap_frames, guest, test_guest_kern_net_tap_frames)

static int
test_guest_kern_net_errors_carry_errno(void)
{
	struct vh_backend *b = NULL;
	uint64_t f = 0;
	int rc;

	if (access(VH_KERN_NET_PATH, F_OK) != 0)
		TEST_SKIP("%s is missing", VH_KERN_NET_PATH);
	TEST_ASSERT_SUCCESS(vh_kern_net_open(NULL, &b), "open");
	rc = vh_backend_set_vring_num(b, 0, 64);
	TEST_ASSERT_EQUAL(rc, -EPERM, "ring ioctls before SET_OWNER: the kernel says EPERM");
	TEST_ASSERT_SUCCESS(vh_backend_set_owner(b), "owner");
	TEST_ASSERT_EQUAL(vh_backend_set_owner(b), -EBUSY, "a second SET_OWNER");
	TEST_ASSERT_EQUAL(vh_backend_set_vring_num(b, 2, 64), -ENOBUFS, "ring 2 does not exist");
	TEST_ASSERT_EQUAL(vh_backend_set_vring_num(b, 0, 100), -EINVAL, "size not a power of 2");
	TEST_ASSERT_SUCCESS(vh_backend_get_features(b, &f), "features");
	TEST_ASSERT_EQUAL(vh_backend_set_features(b, f | (1ULL << 63)), -EOPNOTSUPP,
			  "an unoffered feature");
	TEST_ASSERT_EQUAL(vh_kern_net_set_backend(b, 0, 0), -EFAULT,
			  "a backend for a ring whose addresses are unset");
	TEST_ASSERT_EQUAL(vh_backend_set_vring_enable(b, 0, 1), -ENOTSUP,
			  "kernel vhost-net has no ring enable");
	vh_backend_destroy(b);
	return TEST_SUCCESS;
}
REGISTER_TEST(guest_kern_net_errors_carry_errno, guest, test_guest_kern_net_errors_carry_errno)

/* ---- vhost-vsock ---- */

static int
test_guest_kern_vsock_cid_and_running(void)
{
	struct vh_backend *a = NULL, *b = NULL;
	struct vt_dev d;
	int rc;

	if (access(VH_KERN_VSOCK_PATH, F_OK) != 0)
		TEST_SKIP("%s is missing", VH_KERN_VSOCK_PATH);
	TEST_ASSERT_SUCCESS(vh_kern_vsock_open(NULL, &a), "open a");
	TEST_ASSERT_SUCCESS(vh_kern_vsock_open(NULL, &b), "open b");
	TEST_ASSERT_EQUAL(vh_kern_vsock_set_running(a, true), -EPERM, "running without owner");
	TEST_ASSERT_SUCCESS(vh_backend_set_owner(a), "owner a");
	TEST_ASSERT_SUCCESS(vh_backend_set_owner(b), "owner b");

	/* Reserved and out-of-range cids (VMADDR_CID_HOST = 2, above U32). */
	TEST_ASSERT_EQUAL(vh_kern_vsock_set_guest_cid(a, 2), -EINVAL, "the host's cid");
	TEST_ASSERT_EQUAL(vh_kern_vsock_set_guest_cid(a, 1ULL << 32), -EINVAL, "cid > U32");
	TEST_ASSERT_EQUAL(vh_kern_vsock_set_guest_cid(a, 0xffffffffULL), -EINVAL, "VMADDR_CID_ANY");
	TEST_ASSERT_SUCCESS(vh_kern_vsock_set_guest_cid(a, 42), "cid 42");
	TEST_ASSERT_SUCCESS(vh_kern_vsock_set_guest_cid(a, 42), "the same cid again");
	TEST_ASSERT_EQUAL(vh_kern_vsock_set_guest_cid(b, 42), -EADDRINUSE, "42 is taken by a");
	TEST_ASSERT_SUCCESS(vh_kern_vsock_set_guest_cid(b, 43), "cid 43");

	/* Running needs the rings: rx 0 and tx 1 in our memory. */
	rc = vt_dev_init(&d, a, 2, 64);
	TEST_ASSERT_SUCCESS(rc, "rings");
	rc = vt_dev_negotiate(&d, 0, 1ULL << VIRTIO_F_VERSION_1);
	if (rc == 0)
		rc = vt_dev_start(&d);
	if (rc == 0)
		rc = vh_kern_vsock_set_running(a, true);
	if (rc == 0)
		rc = vh_kern_vsock_set_running(a, false);
	vt_dev_fini(&d);
	TEST_ASSERT_SUCCESS(rc, "features, rings, running on and off: %s", strerror(-rc));
	vh_backend_destroy(a);
	/* a's cid is released when a closes. */
	TEST_ASSERT_SUCCESS(vh_kern_vsock_set_guest_cid(b, 42), "42 is free again");
	vh_backend_destroy(b);
	return TEST_SUCCESS;
}
REGISTER_TEST(guest_kern_vsock_cid_and_running, guest, test_guest_kern_vsock_cid_and_running)

/* ---- the vm tests that run them ---- */

static int
test_vm_kern_net_tap_frames(void)
{
	return vt_vm_run_guest_test("guest_kern_net_tap_frames",
				    (const char *const[]){"vhost_net", "tun", NULL}, NULL, 180);
}
REGISTER_TEST(vm_kern_net_tap_frames, vm, test_vm_kern_net_tap_frames)

static int
test_vm_kern_net_errors_carry_errno(void)
{
	return vt_vm_run_guest_test("guest_kern_net_errors_carry_errno",
				    (const char *const[]){"vhost_net", NULL}, NULL, 180);
}
REGISTER_TEST(vm_kern_net_errors_carry_errno, vm, test_vm_kern_net_errors_carry_errno)

static int
test_vm_kern_vsock_cid_and_running(void)
{
	return vt_vm_run_guest_test("guest_kern_vsock_cid_and_running",
				    (const char *const[]){"vhost_vsock", NULL}, NULL, 180);
}
REGISTER_TEST(vm_kern_vsock_cid_and_running, vm, test_vm_kern_vsock_cid_and_running)
