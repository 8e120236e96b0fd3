/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio port's core (vs_virtio_dev.h) without DPDK: a device brought up
 * through the common backend interface, here a vhost-user back-end of
 * lib/vhost reached through our front-end, on memory of the test's own (a
 * memfd, IOVA == VA); buffers posted with lib/virtq; everything handed back
 * at stop.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../vhost/vt_user.h"
#include "test.h"
#include "vs_virtio_dev.h"

#define RING 64

struct core_env {
	struct vt_server s;
	struct vh_user_frontend *fe;
	struct vt_guest_mem m;
	struct vh_mem_region r;
	struct vs_vdev_config cfg;
};

static int
core_env_init(struct core_env *e, const char *sock, uint64_t offered)
{
	size_t ring = vs_vdev_ring_mem_size(RING, 8);

	memset(e, 0, sizeof(*e));
	e->m.fd = -1;
	if (ring == 0 || vt_server_listen(&e->s, sock, VT_MAX_RINGS) != 0)
		return -1;
	pthread_mutex_lock(&e->s.dev.lock);
	e->s.dev.features_offered = offered;
	pthread_mutex_unlock(&e->s.dev.lock);
	if (vt_guest_mem_create(&e->m, 1 << 20, 0) != 0 || vt_frontend_open(&e->s, &e->fe, 0) != 0)
		return -1;
	/* The device sees our virtual addresses: guest-physical == user address. */
	e->r = (struct vh_mem_region){(uintptr_t)e->m.base, e->m.size, (uintptr_t)e->m.base, 0,
				      e->m.fd};
	e->cfg = (struct vs_vdev_config){
		.pairs = 1,
		.ring_size = RING,
		.indirect_max = 8,
		.want = VQ_FEATURE(VQ_F_EVENT_IDX) | (1ULL << VS_VNET_F_MRG_RXBUF),
		.regions = &e->r,
		.nregions = 1,
	};
	e->cfg.ring_mem[0] = e->m.base;
	e->cfg.ring_mem[1] = e->m.base + ((ring + 4095) & ~(size_t)4095);
	return 0;
}

static void
core_env_fini(struct core_env *e)
{
	vh_user_frontend_destroy(e->fe);
	vt_server_stop(&e->s);
	vt_guest_mem_destroy(&e->m);
}

static void
count_cookie(void *cookie, void *arg)
{
	(void)cookie;
	(*(unsigned int *)arg)++;
}

static int
core_run(struct core_env *e)
{
	struct vs_vdev d;
	struct vt_udev u;
	uint64_t addr[3], v;
	uint32_t len[3] = {2048, 2048, 2048};
	void *ck[3] = {(void *)1, (void *)2, (void *)3};
	unsigned int released = 0;
	int rc;

	rc = vs_vdev_start(&d, vh_user_frontend_backend(e->fe), &e->cfg);
	TEST_ASSERT_SUCCESS(rc, "bring-up over lib/vhost's back-end: %s", strerror(-rc));
	TEST_ASSERT(d.started && d.pairs == 1, "one pair running");
	TEST_ASSERT(vs_vdev_has(&d, VQ_F_VERSION_1) && vs_vdev_has(&d, VQ_F_EVENT_IDX) &&
			    vs_vdev_has(&d, VS_VNET_F_MRG_RXBUF),
		    "VERSION_1, EVENT_IDX and MRG_RXBUF acked (0x%" PRIx64 ")", d.features);
	TEST_ASSERT(!vs_vdev_has(&d, VQ_F_RING_PACKED), "packed not asked for, not acked");
	TEST_ASSERT_EQUAL(vs_vdev_hdr_len(&d), 12, "header length");
	vt_udev_snapshot(&e->s.dev, &u);
	TEST_ASSERT_EQUAL(u.features, d.features, "the device has our features");
	TEST_ASSERT_EQUAL(u.mem_nregions, 1, "one region");
	for (int i = 0; i < 2; i++) {
		TEST_ASSERT(u.rings[i].started && u.rings[i].enabled, "ring %d started (%s)", i,
			    u.events);
		TEST_ASSERT_EQUAL(u.rings[i].last.size, RING, "ring %d size", i);
	}
	/* Three receive buffers, then a kick: the eventfd the device has. */
	for (int i = 0; i < 3; i++)
		addr[i] = (uintptr_t)e->m.base + (256u << 10) + (uint64_t)i * 2048;
	TEST_ASSERT_EQUAL(vq_drv_post_buf(&d.ring[0].vq, addr, len, ck, 3, VQ_DESC_F_WRITE), 3,
			  "posted");
	TEST_ASSERT_SUCCESS(vs_vdev_kick(&d.ring[0]), "kick");
	TEST_ASSERT_EQUAL(read(d.ring[0].kick, &v, sizeof(v)), (ssize_t)sizeof(v),
			  "the kick eventfd counted it");
	/* Stop: rings stopped on the device, every buffer handed back. */
	vs_vdev_stop(&d, count_cookie, &released);
	TEST_ASSERT_EQUAL(released, 3, "the three buffers came back");
	TEST_ASSERT(!d.started && d.b == NULL, "stopped");
	TEST_ASSERT(vt_sync(e->fe) == 0, "the back-end processed everything");
	vt_udev_snapshot(&e->s.dev, &u);
	TEST_ASSERT(!u.rings[0].started && !u.rings[1].started, "rings stopped (%s)", u.events);
	vs_vdev_stop(&d, count_cookie, &released);
	TEST_ASSERT_EQUAL(released, 3, "a second stop is harmless");
	return TEST_SUCCESS;
}

static int
test_virtio_dev_core_over_lib_vhost(void)
{
	struct core_env e;
	int rc;

	if (core_env_init(&e, "vdev-core.sock", VT_UDEV_FEATURES) != 0) {
		core_env_fini(&e);
		TEST_ASSERT(false, "back-end, front-end, memory");
	}
	rc = core_run(&e);
	core_env_fini(&e);
	return rc;
}
REGISTER_TEST(virtio_dev_core_over_lib_vhost, fast, test_virtio_dev_core_over_lib_vhost)

/*
 * A scripted back-end without protocol features (so nothing but
 * GET_FEATURES is answered) that records each SET_VRING_BASE as sent.
 */
struct base_peer {
	pthread_t thread;
	int fd;
	bool stop;
	uint64_t offer;
	uint32_t base[4];
	int nbase;
};

static void *
base_peer_main(void *arg)
{
	struct base_peer *p = arg;
	struct vh_user_rx rx;

	vh_user_rx_init(&rx, VH_USER_RX_FRONTEND_REQ);
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pf = {p->fd, POLLIN, 0};
		int rc;

		if (poll(&pf, 1, 20) <= 0)
			continue;
		rc = vh_user_rx_read(p->fd, &rx);
		if (rc < 0)
			break;
		if (rc == 0)
			continue;
		if (rx.msg.hdr.request == VH_USER_SET_VRING_BASE && p->nbase < 4)
			p->base[p->nbase++] = rx.msg.payload.state.num;
		if (rx.msg.hdr.request == VH_USER_GET_FEATURES ||
		    rx.msg.hdr.request == VH_USER_GET_VRING_BASE) {
			struct vh_user_msg r;

			vh_user_msg_init(&r, rx.msg.hdr.request, 8);
			r.hdr.flags = VH_USER_VERSION | VH_USER_REPLY_MASK;
			if (rx.msg.hdr.request == VH_USER_GET_FEATURES)
				r.payload.u64 = p->offer;
			else
				r.payload.state = rx.msg.payload.state;
			vh_user_send(p->fd, &r, 1000);
		}
		vh_user_rx_reset(&rx);
	}
	vh_user_rx_reset(&rx);
	return NULL;
}

/*
 * Issue 14 item 5: a fresh packed ring starts with both wrap counters 1;
 * SET_VRING_BASE carries it in the spec's full form (vhost-user "Vring
 * descriptor indices for packed virtqueues"): 0x80008000, not the 16-bit
 * form that leaves the used wrap counter 0 for a back-end reading both
 * halves (Linux vhost).
 */
static int
test_packed_base_full_form(void)
{
	struct base_peer p = {.offer = (1ULL << VH_VIRTIO_F_VERSION_1) |
				       (1ULL << VH_VIRTIO_F_RING_PACKED)};
	size_t ring = vs_vdev_ring_mem_size(RING, 0);
	struct vh_user_frontend *fe;
	struct vt_guest_mem m;
	struct vs_vdev_config cfg;
	struct vh_mem_region r;
	struct vs_vdev d;
	int sv[2], rc;

	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m, 1 << 20, 0), "memory");
	TEST_ASSERT_SUCCESS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "pair");
	p.fd = sv[0];
	TEST_ASSERT_SUCCESS(pthread_create(&p.thread, NULL, base_peer_main, &p), "peer");
	fe = vh_user_frontend_create(sv[1], NULL);
	TEST_ASSERT_NOT_NULL(fe, "front-end");
	TEST_ASSERT_SUCCESS(vh_user_frontend_negotiate(fe), "negotiate");
	r = (struct vh_mem_region){(uintptr_t)m.base, m.size, (uintptr_t)m.base, 0, m.fd};
	cfg = (struct vs_vdev_config){.pairs = 1,
				      .ring_size = RING,
				      .want = VQ_FEATURE(VQ_F_RING_PACKED),
				      .regions = &r,
				      .nregions = 1};
	cfg.ring_mem[0] = m.base;
	cfg.ring_mem[1] = m.base + ((ring + 4095) & ~(size_t)4095);
	rc = vs_vdev_start(&d, vh_user_frontend_backend(fe), &cfg);
	TEST_ASSERT_SUCCESS(rc, "bring-up: %s", strerror(-rc));
	TEST_ASSERT(vs_vdev_has(&d, VQ_F_RING_PACKED), "packed");
	vs_vdev_stop(&d, NULL, NULL);
	__atomic_store_n(&p.stop, true, __ATOMIC_RELEASE);
	pthread_join(p.thread, NULL);
	TEST_ASSERT(p.nbase >= 2, "two rings");
	for (int i = 0; i < 2; i++)
		TEST_ASSERT_EQUAL(p.base[i], 0x80008000u, "ring %d: base 0x%x", i, p.base[i]);
	vh_user_frontend_destroy(fe);
	close(sv[0]);
	vt_guest_mem_destroy(&m);
	return TEST_SUCCESS;
}
REGISTER_TEST(virtio_dev_sends_the_packed_base_in_full_form, fast, test_packed_base_full_form)

static int
test_virtio_dev_core_refuses(void)
{
	static const struct vh_backend_ops none;
	struct vh_backend dummy = {&none, VH_BACKEND_USER};
	struct core_env e;
	struct vs_vdev d;
	int rc;

	/* A device without VERSION_1 is refused, before any ring is set up. */
	if (core_env_init(&e, "vdev-nov1.sock", VT_UDEV_FEATURES & ~(1ULL << VQ_F_VERSION_1)) !=
	    0) {
		core_env_fini(&e);
		TEST_ASSERT(false, "back-end, front-end, memory");
	}
	rc = vs_vdev_start(&d, vh_user_frontend_backend(e.fe), &e.cfg);
	core_env_fini(&e);
	TEST_ASSERT_EQUAL(rc, -ENOTSUP, "no VERSION_1");
	/* Bad configurations never reach the device. */
	e.cfg.pairs = 0;
	TEST_ASSERT_EQUAL(vs_vdev_start(&d, &dummy, &e.cfg), -EINVAL, "0 pairs");
	e.cfg.pairs = 1;
	e.cfg.ring_size = 100;
	TEST_ASSERT_EQUAL(vs_vdev_start(&d, &dummy, &e.cfg), -EINVAL, "not a power of two");
	e.cfg.ring_size = RING;
	e.cfg.nregions = 0;
	TEST_ASSERT_EQUAL(vs_vdev_start(&d, &dummy, &e.cfg), -EINVAL, "no memory table");
	TEST_ASSERT_EQUAL(vs_vdev_start(&d, NULL, &e.cfg), -EINVAL, "no backend");
	TEST_ASSERT_EQUAL(vs_vdev_ring_mem_size(100, 0), 0, "ring memory of a bad size");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtio_dev_core_refuses_bad_devices_and_configs, fast, test_virtio_dev_core_refuses)
