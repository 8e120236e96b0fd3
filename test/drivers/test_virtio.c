/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio port without external peers: its SPEC keys, clear errors for
 * missing devices, and a vhost-user-frontend port that waits for its
 * back-end, connects when it appears (our own lib/vhost back-end), goes
 * down when it goes and comes back with it.
 */
#include <unistd.h>

#include "test.h"
#include "../vhost/vt_user.h"
#include "vt_virtio_port.h"

#define NEED_EAL()                                                                                 \
	do {                                                                                       \
		char why_[256];                                                                    \
		if (vt_vport_eal(why_, sizeof(why_)) != 0)                                         \
			TEST_SKIP("%s", why_);                                                     \
		TEST_ASSERT_NOT_NULL(vt_vport_pool(), "mbuf pool");                                \
	} while (0)

static int
test_virtio_port_rejects_bad_specs(void)
{
	static const struct {
		const char *spec;
		const char *why;
	} bad[] = {
		{"vhost-user-frontend", "needs path=PATH"},
		{"vhost-net", "needs tap=IFNAME"},
		{"vdpa", "needs dev=/dev/vhost-vdpa-N"},
		{"vhost-user-frontend,path=/x,queues=0", "key 'queues'"},
		{"vhost-user-frontend,path=/x,queues=9", "key 'queues'"},
		{"vhost-user-frontend,path=/x,ring=100", "not a power of two"},
		{"vhost-user-frontend,path=/x,ring=32", "key 'ring'"},
		{"vhost-user-frontend,path=/x,ring=65536", "key 'ring'"},
		{"vhost-user-frontend,path=/x,mtu=10", "key 'mtu'"},
		{"vhost-user-frontend,path=/x,packed=2", "key 'packed'"},
		{"vhost-user-frontend,path=/x,copy=yes", "key 'copy'"},
		{"vhost-user-frontend,path=/x,bogus=1", "unknown key 'bogus'"},
		{"vhost-net,tap=t0,queues=2", "one queue pair"},
		{"vhost-net,tap=abcdefghijklmnopq", "longer than 15"},
		{"vdpa,dev=/dev/vhost-vdpa-0,mac=02:00:00:00:00", "key 'mac'"},
		{"vdpa,dev=/dev/vhost-vdpa-0,mac=01:00:5e:00:00:01", "not a unicast MAC"},
		{"vhost-user-frontend,path=/x,mac=02:00:00:00:00:01", "unknown key 'mac'"},
	};
	struct vt_vport v;
	char err[256];

	NEED_EAL();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		TEST_ASSERT(vt_vport_create(&v, bad[i].spec, err, sizeof(err)) != 0,
			    "'%s' accepted", bad[i].spec);
		TEST_ASSERT(strstr(err, bad[i].why) != NULL, "'%s': '%s' lacks '%s'", bad[i].spec,
			    err, bad[i].why);
		vt_vport_destroy(&v);
	}
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vt_vport_pool()), 0, "no mbuf taken");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtio_port_rejects_bad_specs, fast, test_virtio_port_rejects_bad_specs)

static int
start_fails(const char *spec, int want)
{
	struct vt_vport v;
	struct vs_port_info info;
	char err[256];
	int rc;

	TEST_ASSERT_SUCCESS(vt_vport_create(&v, spec, err, sizeof(err)), "'%s': %s", spec, err);
	v.port->ops->info_get(v.port, &info);
	TEST_ASSERT_EQUAL(info.link, VS_PORT_LINK_DOWN, "down before start");
	TEST_ASSERT(strstr(info.detail, "(down)") != NULL, "detail '%s'", info.detail);
	rc = vt_vport_start(&v);
	vt_vport_destroy(&v);
	TEST_ASSERT_EQUAL(rc, want, "'%s' fails to start with %s", spec, strerror(-want));
	return TEST_SUCCESS;
}

static int
test_virtio_port_missing_device_fails_start(void)
{
	int fds;

	NEED_EAL();
	fds = vt_count_fds();
	TEST_RUN(start_fails("vhost-net,tap=vt-none0,dev=/nonexistent/vhost-net", -ENOENT));
	TEST_RUN(start_fails("vdpa,dev=/nonexistent/vhost-vdpa-0", -ENOENT));
	TEST_ASSERT_EQUAL(vt_count_fds(), fds, "no fd left behind");
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(virtio_port_missing_device_fails_start, fast, test_virtio_port_missing_device_fails_start)
/* clang-format on */

/* Runs the port's loop until its link is @p up, or @p ms pass. */
static bool
wait_link(struct vt_vport *v, bool up, unsigned int ms)
{
	return vt_vport_wait_queues(v, up ? 1 : 0, ms);
}

static int
backend_comes_and_goes(struct vt_vport *v, const char *sock_name)
{
	struct rte_mbuf *got[4];
	struct vt_server s;
	struct vt_udev d;
	int changes;

	/* Nobody listens: started anyway, down, bursts empty, retrying. */
	TEST_ASSERT_SUCCESS(vt_vport_start(v), "a client port starts without its back-end");
	TEST_ASSERT(!wait_link(v, true, 300), "no back-end, no link");
	TEST_ASSERT_EQUAL(vs_port_rx_burst(v->port, 0, got, 4), 0, "nothing received");
	/* Our back-end appears at the path: the port connects and starts both rings. */
	changes = v->changes;
	TEST_ASSERT_SUCCESS(vt_server_listen(&s, sock_name, VT_MAX_RINGS), "back-end listens");
	if (!wait_link(v, true, 10000)) {
		vt_server_stop(&s);
		printf("FAIL: the port did not connect to the back-end\n");
		return TEST_FAILED;
	}
	TEST_ASSERT(v->changes > changes, "the engine was told");
	vt_udev_snapshot(&s.dev, &d);
	TEST_ASSERT(d.rings[0].started && d.rings[0].enabled && d.rings[1].started &&
			    d.rings[1].enabled,
		    "both rings started and enabled (events %s)", d.events);
	TEST_ASSERT(d.features & (1ULL << VH_VIRTIO_F_VERSION_1), "VERSION_1 negotiated");
	TEST_ASSERT(d.mem_nregions >= 1, "a memory table");
	/* It goes away: link down, then it comes back and the port with it. */
	changes = v->changes;
	vt_server_stop(&s);
	TEST_ASSERT(wait_link(v, false, 10000), "link down once the back-end is gone");
	TEST_ASSERT(v->changes > changes, "the engine was told");
	TEST_ASSERT_SUCCESS(vt_server_listen(&s, sock_name, VT_MAX_RINGS), "back-end again");
	if (!wait_link(v, true, 10000)) {
		vt_server_stop(&s);
		printf("FAIL: the port did not reconnect\n");
		return TEST_FAILED;
	}
	/* Stopping the port stops the rings (GET_VRING_BASE) and hangs up. */
	v->port->ops->stop(v->port);
	v->started = false;
	if (!vt_server_wait_closed(&s, 1, 5000)) {
		vt_server_stop(&s);
		printf("FAIL: the port did not hang up at stop\n");
		return TEST_FAILED;
	}
	vt_udev_snapshot(&s.dev, &d);
	vt_server_stop(&s);
	TEST_ASSERT(!d.rings[0].started && !d.rings[1].started, "rings stopped (events %s)",
		    d.events);
	return TEST_SUCCESS;
}

static int
test_virtio_port_waits_for_its_backend(void)
{
	char spec[300], path[256], err[256];
	struct vt_vport v;
	int fds, rc;

	NEED_EAL();
	fds = vt_count_fds();
	vt_path(path, sizeof(path), "vio-wait.sock");
	snprintf(spec, sizeof(spec), "vhost-user-frontend,path=%s", path);
	TEST_ASSERT_SUCCESS(vt_vport_create(&v, spec, err, sizeof(err)), "%s", err);
	rc = backend_comes_and_goes(&v, "vio-wait.sock");
	vt_vport_destroy(&v);
	TEST_ASSERT_EQUAL(vt_count_fds(), fds, "no fd left behind");
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vt_vport_pool()), 0, "every mbuf came back");
	return rc;
}
REGISTER_TEST(virtio_port_waits_for_its_backend, fast, test_virtio_port_waits_for_its_backend)

/*
 * A device that breaks the ring (here: the used index of the receive ring
 * moved past what is in flight, written into the shared ring as a hostile
 * back-end would): the queue stops, the port takes everything back,
 * reconnects and negotiates again, and traffic state is clean.
 */
static int
broken_ring_restarts(struct vt_vport *v, struct vt_server *s)
{
	struct rte_mbuf *got[4];
	volatile uint16_t *used;
	struct vt_udev d;
	int changes, conns;

	TEST_ASSERT_SUCCESS(vt_vport_start(v), "start");
	TEST_ASSERT(wait_link(v, true, 10000), "up");
	vt_udev_snapshot(&s->dev, &d);
	TEST_ASSERT(d.rings[0].started && !d.rings[0].last.packed, "split receive ring");
	used = (volatile uint16_t *)d.rings[0].last.used; /* flags, idx, ring[] */
	changes = v->changes;
	pthread_mutex_lock(&s->lock);
	conns = s->connections;
	pthread_mutex_unlock(&s->lock);
	used[1] = (uint16_t)(used[1] + 1000);
	TEST_ASSERT_EQUAL(vs_port_rx_burst(v->port, 0, got, 4), 0, "nothing from a broken ring");
	TEST_ASSERT(wait_link(v, false, 5000) || v->changes > changes,
		    "the port went down to restart");
	TEST_ASSERT(wait_link(v, true, 10000), "and came back up");
	pthread_mutex_lock(&s->lock);
	TEST_ASSERT(s->connections > conns, "on a new connection (%d)", s->connections);
	pthread_mutex_unlock(&s->lock);
	TEST_ASSERT(v->changes >= changes + 2, "the engine was told twice");
	TEST_ASSERT_EQUAL(vs_port_rx_burst(v->port, 0, got, 4), 0, "a fresh, empty ring");
	return TEST_SUCCESS;
}

static int
test_virtio_port_restarts_after_a_broken_ring(void)
{
	char spec[300], err[256];
	struct vt_server s;
	struct vt_vport v;
	int rc;

	NEED_EAL();
	TEST_ASSERT_SUCCESS(vt_server_listen(&s, "vio-broken.sock", VT_MAX_RINGS), "back-end");
	snprintf(spec, sizeof(spec), "vhost-user-frontend,path=%s", s.path);
	rc = vt_vport_create(&v, spec, err, sizeof(err));
	if (rc != 0) {
		vt_server_stop(&s);
		TEST_ASSERT_SUCCESS(rc, "%s", err);
	}
	rc = broken_ring_restarts(&v, &s);
	vt_vport_destroy(&v);
	vt_server_stop(&s);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vt_vport_pool()), 0, "every mbuf came back");
	return rc;
}
/* clang-format off */
REGISTER_TEST(virtio_port_restarts_after_a_broken_ring, fast, test_virtio_port_restarts_after_a_broken_ring)
/* clang-format on */
