/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-vdpa with the kernel's vDPA net simulator (vdpa_sim_net), inside a
 * guest: the vm test loads the modules built by scripts/vm/vm.sh and creates
 * vdpa0 with a known MAC, then runs the guest test.
 */
#include <stddef.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "test.h"
#include "test_vm.h"
#include "vhost_vdpa.h"
#include "vt_virtio.h"

#define VDPA_PATH "/dev/vhost-vdpa-0"
#define VDPA_MAC  "52:54:00:12:34:56"
#define RING_NUM  64
#define WAIT_MS	  5000

static const uint8_t sim_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static int
test_vdpa_open_missing_node_is_enoent(void)
{
	struct vh_backend *b = (struct vh_backend *)1;

	TEST_ASSERT_EQUAL(vh_vdpa_open("/nonexistent/vhost-vdpa-0", &b), -ENOENT,
			  "a missing node (the log names vhost_vdpa)");
	TEST_ASSERT(b == NULL, "no backend on failure");
	TEST_ASSERT_EQUAL(vh_vdpa_open(NULL, &b), -EINVAL, "NULL path");
	return TEST_SUCCESS;
}
REGISTER_TEST(vdpa_open_missing_node_is_enoent, fast, test_vdpa_open_missing_node_is_enoent)

static int
test_vdpa_extensions_check_kind(void)
{
	static const struct vh_backend_ops none;
	struct vh_backend other = {&none, VH_BACKEND_VDPA};
	uint32_t id;
	uint8_t st;

	TEST_ASSERT_EQUAL(vh_vdpa_get_device_id(&other, &id), -EINVAL, "foreign backend");
	TEST_ASSERT_EQUAL(vh_vdpa_set_status(NULL, 0), -EINVAL, "NULL");
	TEST_ASSERT_EQUAL(vh_vdpa_get_status(&other, &st), -EINVAL, "foreign backend");
	TEST_ASSERT_EQUAL(vh_vdpa_dma_map(&other, 0, 4096, &id, true), -EINVAL, "foreign");
	TEST_ASSERT_EQUAL(vh_vdpa_suspend(&other), -EINVAL, "foreign backend");
	TEST_ASSERT_EQUAL(vh_vdpa_fd(&other), -EINVAL, "no fd");
	return TEST_SUCCESS;
}
REGISTER_TEST(vdpa_extensions_check_kind, fast, test_vdpa_extensions_check_kind)

/* ---- in the guest ---- */

static int
vdpa_before_features(struct vh_backend *b, void *arg)
{
	uint8_t st = 0xff;
	int rc;

	(void)arg;
	if ((rc = vh_vdpa_reset(b)) != 0 ||
	    (rc = vh_vdpa_set_status(b, VH_VDPA_S_ACKNOWLEDGE | VH_VDPA_S_DRIVER)) != 0 ||
	    (rc = vh_vdpa_get_status(b, &st)) != 0)
		return rc;
	return st == (VH_VDPA_S_ACKNOWLEDGE | VH_VDPA_S_DRIVER) ? 0 : -EPROTO;
}

static int
vdpa_after_features(struct vh_backend *b, void *arg)
{
	const uint8_t want = VH_VDPA_S_ACKNOWLEDGE | VH_VDPA_S_DRIVER | VH_VDPA_S_FEATURES_OK;
	uint8_t st = 0;
	int rc;

	(void)arg;
	if ((rc = vh_vdpa_set_status(b, want)) != 0 || (rc = vh_vdpa_get_status(b, &st)) != 0)
		return rc;
	/* The device keeps FEATURES_OK only if it accepts them (3.1.1). */
	return st == want ? 0 : -EPROTO;
}

static int
vdpa_after_start(struct vh_backend *b, void *arg)
{
	const uint8_t want = VH_VDPA_S_ACKNOWLEDGE | VH_VDPA_S_DRIVER | VH_VDPA_S_FEATURES_OK |
			     VH_VDPA_S_DRIVER_OK;
	uint8_t st = 0;
	int rc;

	(void)arg;
	if ((rc = vh_vdpa_set_status(b, want)) != 0 || (rc = vh_vdpa_get_status(b, &st)) != 0)
		return rc;
	return st == want ? 0 : -EPROTO;
}

static const struct vt_net_hooks vdpa_hooks = {
	.before_features = vdpa_before_features,
	.after_features = vdpa_after_features,
	.after_start = vdpa_after_start,
};

static int
vdpa_check_info(struct vh_backend *b, uint64_t *iova_first, uint64_t *iova_last)
{
	struct virtio_net_config cfg;
	uint32_t id = 0, size = 0, nvq = 0;
	uint64_t bf = 0;
	uint16_t max = 0;
	uint8_t byte;

	TEST_ASSERT_SUCCESS(vh_vdpa_get_device_id(b, &id), "device id");
	TEST_ASSERT_EQUAL(id, VIRTIO_ID_NET, "a net device");
	TEST_ASSERT_SUCCESS(vh_vdpa_get_vqs_count(b, &nvq), "vq count");
	TEST_ASSERT_EQUAL(nvq, 3, "rx, tx and control (vdpa_sim_net)");
	TEST_ASSERT_SUCCESS(vh_vdpa_get_vring_num(b, &max), "max ring size");
	TEST_ASSERT(max >= RING_NUM, "ring size %u >= %u", max, RING_NUM);
	TEST_ASSERT_SUCCESS(vh_vdpa_get_config_size(b, &size), "config size");
	TEST_ASSERT(size >= offsetof(struct virtio_net_config, mtu) + 2 && size <= 4096,
		    "config size %u covers mac, status, pairs, mtu", size);
	memset(&cfg, 0, sizeof(cfg));
	TEST_ASSERT_SUCCESS(
		vh_vdpa_get_config(b, 0, &cfg, offsetof(struct virtio_net_config, mtu) + 2),
		"read config");
	TEST_ASSERT(memcmp(cfg.mac, sim_mac, 6) == 0,
		    "MAC from 'vdpa dev add ... mac " VDPA_MAC "'");
	TEST_ASSERT_EQUAL(cfg.mtu, 1500, "the simulator's default MTU");
	TEST_ASSERT_EQUAL(vh_vdpa_get_config(b, size, &byte, 1), -EINVAL, "read past the end");
	TEST_ASSERT_EQUAL(vh_vdpa_get_config(b, size + 1, &byte, 1), -EINVAL, "offset beyond");
	TEST_ASSERT_EQUAL(vh_vdpa_get_config(b, 0, &byte, 0), -EINVAL, "empty read");
	TEST_ASSERT_SUCCESS(vh_vdpa_get_iova_range(b, iova_first, iova_last), "IOVA range");
	TEST_ASSERT(*iova_first < *iova_last, "a usable IOVA range");
	TEST_ASSERT_SUCCESS(vh_vdpa_get_backend_features(b, &bf), "backend features");
	TEST_ASSERT(bf & (1ULL << VH_VDPA_BACKEND_F_IOTLB_MSG_V2), "IOTLB_MSG_V2 offered");
	TEST_ASSERT(bf & (1ULL << VH_VDPA_BACKEND_F_IOTLB_BATCH), "IOTLB_BATCH offered");
	TEST_ASSERT_EQUAL(vh_vdpa_set_backend_features(b, 1ULL << 40), -EOPNOTSUPP,
			  "an unoffered backend feature");
	TEST_ASSERT_SUCCESS(vh_vdpa_set_backend_features(b, bf), "re-ack what is offered");
	return TEST_SUCCESS;
}

static int
vdpa_check_dma(struct vh_backend *b)
{
	size_t len = 4 * 4096;
	uint8_t *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t iova = 1ULL << 40; /* far from the identity-mapped driver memory */
	int rc = TEST_FAILED;

	TEST_ASSERT(buf != MAP_FAILED, "mmap");
	memset(buf, 0x5a, len);
	if (vh_vdpa_dma_batch_begin(b) == 0 && vh_vdpa_dma_map(b, iova, len, buf, true) == 0 &&
	    vh_vdpa_dma_batch_end(b) == 0 &&
	    vh_vdpa_dma_map(b, iova + 4096, 4096, buf, false) == -EFAULT &&
	    vh_vdpa_dma_unmap(b, iova, len) == 0 &&
	    vh_vdpa_dma_map(b, iova, 4096, buf, false) == 0 &&
	    vh_vdpa_dma_unmap(b, iova, 4096) == 0 &&
	    vh_vdpa_dma_map(b, iova, 0, buf, true) == -EINVAL)
		rc = TEST_SUCCESS;
	else
		printf("FAIL: map (batched), overlapping map refused with EFAULT, unmap, "
		       "map again, unmap, zero-size map refused\n");
	munmap(buf, len);
	return rc;
}

static size_t
make_frame(uint8_t *f, const uint8_t dst[6], size_t payload, uint8_t seed)
{
	static const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (size_t i = 0; i < payload; i++)
		f[14 + i] = (uint8_t)(seed ^ i);
	return 14 + payload;
}

static int
vdpa_check_traffic(struct vt_dev *d)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t other[6] = {0x02, 0x99, 0x99, 0x99, 0x99, 0x99};
	struct vt_vq *rx = &d->vq[VT_NET_RX];
	uint8_t frame[1600];
	uint32_t id, len, base = 0;
	size_t flen;

	TEST_ASSERT_SUCCESS(vt_net_post_rx(d, 8), "receive buffers");
	/* The simulator loops transmit back to receive for its own MAC. */
	flen = make_frame(frame, sim_mac, 1000, 1);
	TEST_RUN(vt_net_check_loopback(d, d, frame, flen, WAIT_MS));
	TEST_ASSERT_SUCCESS(vt_vq_wait_call(rx, WAIT_MS), "call eventfd of the receive ring");
	flen = make_frame(frame, bcast, 60, 2);
	TEST_RUN(vt_net_check_loopback(d, d, frame, flen, WAIT_MS));
	/* ...and drops other unicast (its receive filter): the transmit
	 * buffer is used, nothing is received. */
	flen = make_frame(frame, other, 60, 3);
	TEST_ASSERT_SUCCESS(vt_net_send(d, frame, flen), "frame to another MAC");
	TEST_ASSERT_SUCCESS(vt_vq_wait_used(&d->vq[VT_NET_TX], WAIT_MS, &id, &len), "tx used");
	usleep(200 * 1000);
	TEST_ASSERT_EQUAL(vt_vq_used_pending(rx), 0, "filtered, not received");
	TEST_ASSERT_SUCCESS(vh_backend_get_vring_base(d->b, VT_NET_TX, &base), "tx ring base");
	TEST_ASSERT_EQUAL(base, 3, "the device consumed three transmit buffers");
	return TEST_SUCCESS;
}

/* Suspend where the kernel has it: the device stops taking buffers. */
static int
vdpa_check_suspend(struct vt_dev *d)
{
	uint8_t frame[128];
	size_t flen = make_frame(frame, sim_mac, 60, 4);
	int rc = vh_vdpa_suspend(d->b), rr;

	if (rc == -ENOTSUP) {
		printf("suspend: not supported by this kernel or device\n");
		return TEST_SUCCESS;
	}
	TEST_ASSERT_SUCCESS(rc, "suspend");
	TEST_ASSERT_SUCCESS(vt_net_send(d, frame, flen), "post while suspended");
	usleep(300 * 1000);
	TEST_ASSERT_EQUAL(vt_vq_used_pending(&d->vq[VT_NET_TX]), 0, "no progress while suspended");
	rr = vh_vdpa_resume(d->b);
	printf("resume: %s\n", rr == 0 ? "done" : strerror(-rr));
	TEST_ASSERT(rr == 0 || rr == -ENOTSUP, "resume works or is reported unsupported: %d", rr);
	if (rr == 0) {
		uint32_t id, len;

		TEST_ASSERT_SUCCESS(vt_vq_wait_used(&d->vq[VT_NET_TX], WAIT_MS, &id, &len),
				    "resumed device takes the buffer");
	}
	return TEST_SUCCESS;
}

static int
vdpa_run(struct vh_backend *b, struct vt_dev *d)
{
	const uint64_t required = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	uint64_t first = 0, last = 0;
	int cfg_call, rc;
	uint8_t st = 0xff;

	TEST_RUN(vdpa_check_info(b, &first, &last));
	cfg_call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	TEST_ASSERT(cfg_call >= 0, "eventfd");
	rc = vh_vdpa_set_config_call(b, cfg_call);
	if (rc == 0)
		rc = vh_vdpa_set_config_call(b, -1);
	close(cfg_call);
	TEST_ASSERT_SUCCESS(rc, "config-change eventfd set and removed");

	rc = vt_net_bring_up(d, b, &vdpa_hooks, 1ULL << VIRTIO_NET_F_MAC, required, RING_NUM);
	TEST_ASSERT_SUCCESS(rc, "status handshake, features, DMA map, rings: %s", strerror(-rc));
	TEST_ASSERT((uintptr_t)d->mem >= first && (uintptr_t)d->mem + d->mem_len - 1 <= last,
		    "driver memory inside the IOVA range");
	TEST_ASSERT_EQUAL(vh_vdpa_set_status(b, VH_VDPA_S_ACKNOWLEDGE), -EINVAL,
			  "status bits cannot be cleared but by a reset");
	TEST_ASSERT_EQUAL(vh_backend_set_features(b, d->features), -EBUSY,
			  "features are fixed after FEATURES_OK");
	TEST_RUN(vdpa_check_dma(b));
	TEST_RUN(vdpa_check_traffic(d));
	TEST_RUN(vdpa_check_suspend(d));
	TEST_ASSERT_SUCCESS(vh_vdpa_reset(b), "reset");
	TEST_ASSERT_SUCCESS(vh_vdpa_get_status(b, &st), "status after reset");
	TEST_ASSERT_EQUAL(st, 0, "reset status");
	return TEST_SUCCESS;
}

static int
test_guest_vdpa_sim_net(void)
{
	struct vh_backend *b = NULL;
	struct vt_dev d;
	int rc;

	if (access(VDPA_PATH, F_OK) != 0)
		TEST_SKIP("%s is missing (vm_vdpa_sim_net runs this test in a guest)", VDPA_PATH);
	rc = vh_vdpa_open(VDPA_PATH, &b);
	TEST_ASSERT_SUCCESS(rc, "open %s", VDPA_PATH);
	memset(&d, 0, sizeof(d));
	d.memfd = -1;
	for (int i = 0; i < VT_VQ_MAX; i++)
		d.vq[i].kick = d.vq[i].call = -1;
	rc = vdpa_run(b, &d);
	vh_backend_destroy(b);
	vt_dev_fini(&d);
	return rc;
}
REGISTER_TEST(guest_vdpa_sim_net, guest, test_guest_vdpa_sim_net)

static int
test_vm_vdpa_sim_net(void)
{
	return vt_vm_run_guest_test(
		"guest_vdpa_sim_net", (const char *const[]){"vhost_vdpa", "vdpa_sim_net", NULL},
		"vdpa dev add name vdpa0 mgmtdev vdpasim_net mac " VDPA_MAC, 180);
}
REGISTER_TEST(vm_vdpa_sim_net, vm, test_vm_vdpa_sim_net)
