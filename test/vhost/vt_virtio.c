/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small virtio driver for tests over the common backend interface, its
 * rings run by lib/virtq's driver side.
 */
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "test.h"
#include "vt_virtio.h"

/* The larger of the split and packed layouts of 256 entries, page-rounded. */
#define RING_AREA (3 * 4096)

static size_t
vq_area(unsigned int num)
{
	return RING_AREA + (size_t)num * VT_BUF_SIZE;
}

int
vt_dev_init(struct vt_dev *d, struct vh_backend *b, unsigned int nvq, unsigned int num)
{
	int err;

	memset(d, 0, sizeof(*d));
	d->memfd = -1;
	for (unsigned int i = 0; i < VT_VQ_MAX; i++)
		d->vq[i].kick = d->vq[i].call = -1;
	/* One page per ring part holds up to 256 entries. */
	if (nvq == 0 || nvq > VT_VQ_MAX || num == 0 || num > 256 || (num & (num - 1)) != 0)
		return -EINVAL;
	d->b = b;
	d->nvq = nvq;
	d->mem_len = nvq * vq_area(num);
	d->memfd = memfd_create("vt-virtio", MFD_CLOEXEC);
	if (d->memfd < 0 || ftruncate(d->memfd, (off_t)d->mem_len) != 0)
		goto fail;
	d->mem = mmap(NULL, d->mem_len, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		goto fail;
	}
	for (unsigned int i = 0; i < nvq; i++) {
		struct vt_vq *q = &d->vq[i];
		uint8_t *base = d->mem + i * vq_area(num);

		q->num = num;
		q->ring = base;
		q->bufs = base + RING_AREA;
		q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick < 0 || q->call < 0)
			goto fail;
	}
	return 0;
fail:
	err = -errno;
	vt_dev_fini(d);
	return err;
}

void
vt_dev_fini(struct vt_dev *d)
{
	for (unsigned int i = 0; i < VT_VQ_MAX; i++) {
		if (d->vq[i].vq_init)
			vq_drv_fini(&d->vq[i].vq);
		d->vq[i].vq_init = false;
		if (d->vq[i].kick >= 0)
			close(d->vq[i].kick);
		if (d->vq[i].call >= 0)
			close(d->vq[i].call);
		d->vq[i].kick = d->vq[i].call = -1;
	}
	if (d->mem != NULL)
		munmap(d->mem, d->mem_len);
	if (d->memfd >= 0)
		close(d->memfd);
	d->mem = NULL;
	d->memfd = -1;
}

int
vt_dev_negotiate(struct vt_dev *d, uint64_t wanted, uint64_t required)
{
	uint64_t offered;
	int rc = vh_backend_get_features(d->b, &offered);

	if (rc != 0)
		return rc;
	if ((offered & required) != required) {
		printf("device offers 0x%" PRIx64 ", lacks required 0x%" PRIx64 "\n", offered,
		       required & ~offered);
		return -ENOTSUP;
	}
	d->features = offered & (wanted | required);
	return vh_backend_set_features(d->b, d->features);
}

void
vt_dev_region(const struct vt_dev *d, struct vh_mem_region *r)
{
	r->guest_phys_addr = (uintptr_t)d->mem;
	r->userspace_addr = (uintptr_t)d->mem;
	r->memory_size = d->mem_len;
	r->mmap_offset = 0;
	r->fd = d->memfd;
}

/* lib/virtq's rings for the negotiated features, in the ring area of @p q. */
static int
vq_setup(struct vt_dev *d, struct vt_vq *q)
{
	struct vq_drv_config cfg = {
		.size = q->num,
		.features = d->features,
		.mem = q->ring,
		.mem_iova = (uintptr_t)q->ring,
	};
	size_t need = vq_drv_mem_size(&cfg);
	int rc;

	if (need == 0 || need > RING_AREA)
		return -EINVAL;
	if (q->vq_init)
		vq_drv_fini(&q->vq);
	rc = vq_drv_init(&q->vq, &cfg);
	q->vq_init = rc == 0;
	q->posted = 0;
	q->used_head = q->used_count = 0;
	return rc;
}

int
vt_dev_start(struct vt_dev *d)
{
	/* SET_VRING_BASE of a fresh packed ring: index 0, wrap counter 1 (bit 15). */
	const uint32_t base = (d->features & VQ_FEATURE(VQ_F_RING_PACKED)) ? 0x8000 : 0;
	struct vh_mem_region r;
	int rc;

	vt_dev_region(d, &r);
	rc = vh_backend_set_mem_table(d->b, &r, 1);
	if (rc != 0)
		return rc;
	for (unsigned int i = 0; i < d->nvq; i++) {
		struct vt_vq *q = &d->vq[i];
		struct vh_vring_addr a = {0};

		rc = vq_setup(d, q);
		if (rc != 0)
			return rc;
		vq_drv_ring_addrs(&q->vq, &a.desc_user_addr, &a.avail_user_addr, &a.used_user_addr);
		if ((rc = vh_backend_set_vring_num(d->b, i, q->num)) != 0 ||
		    (rc = vh_backend_set_vring_base(d->b, i, base)) != 0 ||
		    (rc = vh_backend_set_vring_addr(d->b, i, &a)) != 0 ||
		    (rc = vh_backend_set_vring_kick(d->b, i, q->kick)) != 0 ||
		    (rc = vh_backend_set_vring_call(d->b, i, q->call)) != 0)
			return rc;
		rc = vh_backend_set_vring_enable(d->b, i, 1);
		if (rc != 0 && rc != -ENOTSUP)
			return rc;
	}
	return vh_backend_driver_ok(d->b);
}

int
vt_vq_add(struct vt_vq *q, const void *data, size_t len, bool device_writes)
{
	uint32_t slot = q->posted % q->num;
	uint64_t addr = (uintptr_t)(q->bufs + (size_t)slot * VT_BUF_SIZE);
	uint32_t l = (uint32_t)len;
	void *cookie = (void *)(uintptr_t)(slot + 1);

	if (len > VT_BUF_SIZE)
		return -EMSGSIZE;
	if (!q->vq_init || vq_drv_error(&q->vq) != 0)
		return -EIO;
	/* Buffer i is posted again only once the device gave it back. */
	if (vq_drv_inflight(&q->vq) + q->used_count >= q->num)
		return -ENOSPC;
	if (!device_writes && data != NULL)
		memcpy(q->bufs + (size_t)slot * VT_BUF_SIZE, data, len);
	if (vq_drv_post_buf(&q->vq, &addr, &l, &cookie, 1, device_writes ? VQ_DESC_F_WRITE : 0) !=
	    1)
		return -ENOSPC;
	q->posted++;
	return (int)slot;
}

int
vt_vq_kick(struct vt_vq *q)
{
	uint64_t one = 1;

	/* lib/virtq decides (suppression, EVENT_IDX); its barrier comes first. */
	if (!vq_drv_kick_needed(&q->vq))
		return 0;
	return write(q->kick, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

/* Moves what the device used into the FIFO of used elements. */
static void
vq_collect(struct vt_vq *q)
{
	while (q->vq_init && q->used_count < VT_VQ_USED_MAX) {
		unsigned int tail = (q->used_head + q->used_count) % VT_VQ_USED_MAX;
		void *cookie;
		uint32_t len;

		if (vq_drv_reap(&q->vq, &cookie, &len, 1) != 1)
			break;
		q->used_id[tail] = (uint32_t)((uintptr_t)cookie - 1);
		q->used_len[tail] = len;
		q->used_count++;
	}
}

unsigned int
vt_vq_used_pending(const struct vt_vq *q)
{
	vq_collect((struct vt_vq *)(uintptr_t)q);
	return q->used_count;
}

int
vt_vq_wait_used(struct vt_vq *q, unsigned int timeout_ms, uint32_t *id, uint32_t *len)
{
	uint64_t deadline = vt_now_ms() + timeout_ms;

	while (vt_vq_used_pending(q) == 0) {
		struct timespec ts = {0, 1000 * 1000};

		if (!q->vq_init || vq_drv_error(&q->vq) != 0)
			return -EBADMSG;
		if (vt_now_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
	*id = q->used_id[q->used_head];
	*len = q->used_len[q->used_head];
	q->used_head = (q->used_head + 1) % VT_VQ_USED_MAX;
	q->used_count--;
	return 0;
}

int
vt_vq_wait_call(struct vt_vq *q, unsigned int timeout_ms)
{
	struct pollfd p = {.fd = q->call, .events = POLLIN};
	uint64_t n;
	int rc;

	do
		rc = poll(&p, 1, (int)timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return rc == 0 ? -ETIMEDOUT : -errno;
	return read(q->call, &n, sizeof(n)) == sizeof(n) ? 0 : -errno;
}

void
vt_vq_set_interrupts(struct vt_vq *q, bool on)
{
	if (on)
		vq_drv_call_enable(&q->vq);
	else
		vq_drv_call_disable(&q->vq);
}

uint8_t *
vt_vq_buf(struct vt_vq *q, uint32_t id)
{
	return q->bufs + (size_t)(id % q->num) * VT_BUF_SIZE;
}

unsigned int
vt_net_hdr_len(const struct vt_dev *d)
{
	if (d->features & ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF)))
		return sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return sizeof(struct virtio_net_hdr);
}

int
vt_net_send(struct vt_dev *d, const void *frame, size_t len)
{
	uint8_t buf[VT_BUF_SIZE];
	unsigned int hl = vt_net_hdr_len(d);
	int rc;

	if (len > sizeof(buf) - hl)
		return -EMSGSIZE;
	memset(buf, 0, hl);
	memcpy(buf + hl, frame, len);
	rc = vt_vq_add(&d->vq[VT_NET_TX], buf, hl + len, false);
	return rc < 0 ? rc : vt_vq_kick(&d->vq[VT_NET_TX]);
}

int
vt_net_post_rx(struct vt_dev *d, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		int rc = vt_vq_add(&d->vq[VT_NET_RX], NULL, VT_BUF_SIZE, true);

		if (rc < 0)
			return rc;
	}
	return vt_vq_kick(&d->vq[VT_NET_RX]);
}

int
vt_net_recv(struct vt_dev *d, struct virtio_net_hdr_mrg_rxbuf *hdr, void *frame, size_t cap,
	    size_t *len, unsigned int timeout_ms)
{
	struct vt_vq *q = &d->vq[VT_NET_RX];
	unsigned int hl = vt_net_hdr_len(d);
	uint32_t id, used_len;
	uint8_t *buf;
	int rc = vt_vq_wait_used(q, timeout_ms, &id, &used_len);

	if (rc != 0)
		return rc;
	if (used_len < hl || used_len > VT_BUF_SIZE)
		return -EBADMSG;
	buf = vt_vq_buf(q, id);
	if (hdr != NULL) {
		memset(hdr, 0, sizeof(*hdr));
		memcpy(hdr, buf, hl);
	}
	*len = used_len - hl;
	memcpy(frame, buf + hl, *len < cap ? *len : cap);
	return 0;
}

int
vt_net_bring_up(struct vt_dev *d, struct vh_backend *b, const struct vt_net_hooks *hooks,
		uint64_t wanted, uint64_t required, unsigned int num)
{
	static const struct vt_net_hooks none;
	const struct vt_net_hooks *h = hooks != NULL ? hooks : &none;
	int rc = vt_dev_init(d, b, 2, num);

	if (rc != 0)
		return rc;
	rc = vh_backend_set_owner(b);
	if (rc == 0 && h->before_features != NULL)
		rc = h->before_features(b, h->arg);
	if (rc == 0)
		rc = vt_dev_negotiate(d, wanted, required);
	if (rc == 0 && h->after_features != NULL)
		rc = h->after_features(b, h->arg);
	if (rc == 0)
		rc = vt_dev_start(d);
	if (rc == 0 && h->after_start != NULL)
		rc = h->after_start(b, h->arg);
	if (rc != 0)
		vt_dev_fini(d);
	return rc;
}

int
vt_net_check_loopback(struct vt_dev *tx, struct vt_dev *rx, const uint8_t *frame, size_t len,
		      unsigned int timeout_ms)
{
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint8_t got[VT_BUF_SIZE];
	uint32_t id, used_len;
	size_t got_len = 0;

	TEST_ASSERT_SUCCESS(vt_net_send(tx, frame, len), "frame posted on the transmit ring");
	TEST_ASSERT_SUCCESS(vt_vq_wait_used(&tx->vq[VT_NET_TX], timeout_ms, &id, &used_len),
			    "the device consumed the transmit buffer");
	TEST_ASSERT_SUCCESS(vt_net_recv(rx, &hdr, got, sizeof(got), &got_len, timeout_ms),
			    "a receive buffer came back used");
	TEST_ASSERT_EQUAL(got_len, len, "received frame length");
	TEST_ASSERT(memcmp(got, frame, len) == 0, "received frame equals the sent one");
	TEST_ASSERT_EQUAL(hdr.hdr.flags, 0, "no checksum flags on a plain frame");
	TEST_ASSERT_EQUAL(hdr.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE, "no GSO on a plain frame");
	if (rx->features & (1ULL << VIRTIO_NET_F_MRG_RXBUF))
		TEST_ASSERT_EQUAL(hdr.num_buffers, 1, "one buffer per frame (5.1.6.4)");
	return TEST_SUCCESS;
}
