/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Our vhost-user back-end driven by our front-end, both in this process
 * (the back-end in a server thread, as the switch's control thread would
 * run it): every request the back-end supports, with its payload and fds,
 * the ring state machine, REPLY_ACK both ways, and the device-op ordering.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vt_user.h"

#define PF(f)	    VH_USER_PF(VH_USER_PROTOCOL_F_##f)
#define FX_FEATURES ((1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << VT_NET_F_MRG_RXBUF))
#define FX_GPA	    0x100000ULL
#define FX_MEM	    (1ULL << 20)

struct fx {
	struct vt_server srv;
	struct vh_user_frontend *fe;
	struct vt_guest_mem mem;
	int kick[VT_MAX_RINGS];
	int call[VT_MAX_RINGS];
};

static void
fx_zero(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->mem.fd = -1;
	for (int i = 0; i < VT_MAX_RINGS; i++)
		f->kick[i] = f->call[i] = -1;
}

/* Server, negotiated front-end, SET_OWNER, SET_FEATURES and (optionally) memory. */
static int
fx_open(struct fx *f, const char *sock, uint64_t pf, uint64_t features, bool mem)
{
	struct vh_mem_region r;
	int rc;

	fx_zero(f);
	rc = vt_server_listen(&f->srv, sock, 4);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&f->srv.dev.lock);
	f->srv.dev.touch_rings = true;
	pthread_mutex_unlock(&f->srv.dev.lock);
	rc = vt_frontend_open(&f->srv, &f->fe, pf);
	if (rc == 0)
		rc = vh_user_frontend_set_owner(f->fe);
	if (rc == 0 && features != 0)
		rc = vh_user_frontend_set_features(f->fe, features);
	if (rc == 0 && mem) {
		rc = vt_guest_mem_create(&f->mem, FX_MEM, FX_GPA);
		r = vt_guest_mem_region(&f->mem);
		if (rc == 0)
			rc = vh_user_frontend_set_mem_table(f->fe, &r, 1);
	}
	return rc;
}

static void
fx_close(struct fx *f)
{
	int closed = f->srv.connections;

	vh_user_frontend_destroy(f->fe);
	f->fe = NULL;
	vt_server_wait_closed(&f->srv, closed, 2000);
	vt_server_stop(&f->srv);
	vt_guest_mem_destroy(&f->mem);
	for (int i = 0; i < VT_MAX_RINGS; i++) {
		if (f->kick[i] >= 0)
			close(f->kick[i]);
		if (f->call[i] >= 0)
			close(f->call[i]);
	}
}

static int
fx_ring(struct fx *f, unsigned int idx, unsigned int num, uint32_t base)
{
	if (f->kick[idx] >= 0)
		close(f->kick[idx]);
	if (f->call[idx] >= 0)
		close(f->call[idx]);
	return vt_frontend_setup_ring(f->fe, &f->mem, idx, num, base, &f->kick[idx], &f->call[idx]);
}

static struct vt_udev
snap(struct fx *f)
{
	struct vt_udev d;

	vt_udev_snapshot(&f->srv.dev, &d);
	return d;
}

static void
advance(struct fx *f, unsigned int idx, uint16_t avail, uint16_t used)
{
	pthread_mutex_lock(&f->srv.dev.lock);
	f->srv.dev.rings[idx].advance.avail_idx = avail;
	f->srv.dev.rings[idx].advance.used_idx = used;
	pthread_mutex_unlock(&f->srv.dev.lock);
}

static int
test_negotiates(void)
{
	struct fx f;
	uint64_t features, pf, n;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(fx_open(&f, "neg.sock", 0, FX_FEATURES, false), "setup");
	features = vh_user_frontend_offered_features(f.fe);
	TEST_ASSERT(features & (1ULL << VH_USER_F_PROTOCOL_FEATURES), "bit 30 offered");
	TEST_ASSERT_EQUAL(features & ~(1ULL << VH_USER_F_PROTOCOL_FEATURES), VT_UDEV_FEATURES,
			  "the device's features, nothing else");
	pf = vh_user_frontend_offered_protocol_features(f.fe);
	TEST_ASSERT_EQUAL(pf,
			  PF(MQ) | PF(LOG_SHMFD) | PF(RARP) | PF(REPLY_ACK) | PF(NET_MTU) |
				  PF(BACKEND_REQ) | PF(CONFIG) | PF(BACKEND_SEND_FD) |
				  PF(INFLIGHT_SHMFD) | PF(RESET_DEVICE) | PF(INBAND_NOTIFICATIONS) |
				  PF(CONFIGURE_MEM_SLOTS) | PF(STATUS),
			  "the default protocol features");
	TEST_ASSERT_EQUAL(vh_user_frontend_protocol_features(f.fe), pf, "all negotiated");
	TEST_ASSERT_EQUAL(vh_user_frontend_queue_num(f.fe), 2, "GET_QUEUE_NUM: 4 rings, 2 pairs");
	TEST_ASSERT_EQUAL(vh_user_frontend_max_mem_slots(f.fe), VH_USER_MAX_MEM_SLOTS, "509 slots");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_queue_num(f.fe, &n), "GET_QUEUE_NUM again");
	TEST_ASSERT_EQUAL(n, 2, "queue num");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_max_mem_slots(f.fe, &n), "GET_MAX_MEM_SLOTS");
	TEST_ASSERT_EQUAL(n, 509, "max slots");
	d = snap(&f);
	TEST_ASSERT_EQUAL(d.features, FX_FEATURES,
			  "the device got the acked features without bit 30");
	TEST_ASSERT_EQUAL(d.features_sets, 1, "once");
	TEST_ASSERT_EQUAL(d.protocol_features, pf, "the device heard the protocol features");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_negotiates_features_and_protocol, fast, test_negotiates)

static int
test_refuses_unoffered_features(void)
{
	struct fx f;

	TEST_ASSERT_SUCCESS(fx_open(&f, "feat.sock", 0, 0, false), "setup");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_features(f.fe, 1ULL << 40), -EIO,
			  "a feature never offered is refused (REPLY_ACK: error reply)");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_features(f.fe, 1ULL << VH_VIRTIO_F_ACCESS_PLATFORM),
			  -EIO, "no IOTLB here: ACCESS_PLATFORM is never offered");
	pthread_mutex_lock(&f.srv.dev.lock);
	f.srv.dev.refuse_features = true;
	pthread_mutex_unlock(&f.srv.dev.lock);
	TEST_ASSERT_EQUAL(vh_user_frontend_set_features(f.fe, FX_FEATURES), -EIO,
			  "the device's refusal reaches the front-end");
	TEST_ASSERT(vh_user_frontend_connected(f.fe), "the connection stays");
	TEST_ASSERT_SUCCESS(vt_sync(f.fe), "and works");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_refuses_unoffered_features, fast, test_refuses_unoffered_features)

static int
test_starts_ring_on_kick(void)
{
	struct vh_vring_addr a;
	struct fx f;
	struct vt_udev d;
	int kick, call;

	TEST_ASSERT_SUCCESS(fx_open(&f, "start.sock", 0, FX_FEATURES, true), "setup");
	d = snap(&f);
	TEST_ASSERT_EQUAL(d.mem_changes, 1, "SET_MEM_TABLE reached the device");
	TEST_ASSERT_EQUAL(d.mem_nregions, 1, "one region");
	f.mem.base[0x4000] = 0x5a; /* ring 0's avail flags */
	a = vt_ring_addr(&f.mem, 0);
	kick = eventfd(0, EFD_CLOEXEC);
	call = eventfd(0, EFD_CLOEXEC);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_num(f.fe, 0, 256), "NUM");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_base(f.fe, 0, 17), "BASE");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_addr(f.fe, 0, &a), "ADDR");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_call(f.fe, 0, call), "CALL");
	TEST_ASSERT_EQUAL(snap(&f).rings[0].starts, 0, "not started before a kick");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_kick(f.fe, 0, kick), "KICK");
	d = snap(&f);
	TEST_ASSERT_EQUAL(d.rings[0].starts, 1, "started by the kick");
	TEST_ASSERT_EQUAL(d.rings[0].last.size, 256, "size");
	TEST_ASSERT(!d.rings[0].last.packed, "split");
	TEST_ASSERT(!d.rings[0].last.enabled, "with protocol features a ring starts disabled");
	TEST_ASSERT_EQUAL(d.rings[0].last.base.avail_idx, 17, "base");
	TEST_ASSERT_EQUAL(d.rings[0].last.desc_gpa, FX_GPA, "desc gpa");
	TEST_ASSERT_EQUAL(d.rings[0].last.avail_gpa, FX_GPA + 0x4000, "avail gpa");
	TEST_ASSERT_EQUAL(d.rings[0].last.used_gpa, FX_GPA + 0x6000, "used gpa");
	TEST_ASSERT_EQUAL(d.rings[0].avail_byte0, 0x5a,
			  "the device reads the ring through the library's mapping of our memfd");
	TEST_ASSERT(d.rings[0].last.kick_fd >= 0 && d.rings[0].last.call_fd >= 0, "fds");
	TEST_ASSERT_EQUAL(d.rings[0].last.err_fd, -1, "no err fd");
	TEST_ASSERT_EQUAL(d.rings[0].last.features, FX_FEATURES, "negotiated features");
	TEST_ASSERT(d.rings[0].last.log == NULL && d.rings[0].last.inflight == NULL, "no log");
	TEST_ASSERT(!d.rings[0].last.event_idx, "no EVENT_IDX");
	close(kick);
	close(call);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_maps_mem_table_and_starts_ring_on_kick, fast, test_starts_ring_on_kick)

static int
test_gvb_stops(void)
{
	struct fx f;
	struct vt_udev d;
	uint32_t base;

	TEST_ASSERT_SUCCESS(fx_open(&f, "stop.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 100), "ring 0");
	advance(&f, 0, 7, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_vring_base(f.fe, 0, &base), "GET_VRING_BASE");
	TEST_ASSERT_EQUAL(base, 107, "the device's position");
	d = snap(&f);
	TEST_ASSERT_EQUAL(d.rings[0].stops, 1, "stopped before the reply");
	TEST_ASSERT(!d.rings[0].started, "stopped");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_vring_base(f.fe, 0, &base), "again");
	TEST_ASSERT_EQUAL(base, 107, "a stopped ring keeps its position");
	TEST_ASSERT_EQUAL(snap(&f).rings[0].stops, 1, "not stopped twice");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_call(f.fe, 0, f.call[0]), "CALL");
	TEST_ASSERT_EQUAL(snap(&f).rings[0].starts, 1, "the old kick was dropped: no restart");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_base(f.fe, 0, 200), "BASE");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_kick(f.fe, 0, f.kick[0]), "KICK");
	d = snap(&f);
	TEST_ASSERT_EQUAL(d.rings[0].starts, 2, "restarted by the new kick");
	TEST_ASSERT_EQUAL(d.rings[0].last.base.avail_idx, 200, "from the new base");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_base(f.fe, 0, 1), -EIO,
			  "a started ring's base cannot change");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_num(f.fe, 0, 128), -EIO, "nor its size");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_get_vring_base_stops_ring_and_returns_position, fast, test_gvb_stops)

static int
test_enable_pf(void)
{
	struct fx f;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(fx_open(&f, "enable.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_enable(f.fe, 1, true),
			    "enable ring 1 while stopped");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 1, 256, 0), "ring 1");
	d = snap(&f);
	TEST_ASSERT(!d.rings[0].last.enabled, "ring 0 started disabled");
	TEST_ASSERT(d.rings[1].last.enabled, "ring 1 kept the state set while stopped");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_enable(f.fe, 0, true), "enable ring 0");
	d = snap(&f);
	TEST_ASSERT(d.rings[0].enabled && d.rings[0].enable_events == 1, "ring_enabled(0, true)");
	TEST_ASSERT_EQUAL(d.rings[0].starts, 1, "enabling does not restart the ring");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_enable(f.fe, 0, false), "disable");
	d = snap(&f);
	TEST_ASSERT(!d.rings[0].enabled && d.rings[0].enable_events == 2, "ring_enabled(0, false)");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_enable(f.fe, 0, false), "disable again");
	TEST_ASSERT_EQUAL(snap(&f).rings[0].enable_events, 2, "no event without a change");
	{
		struct vh_user_msg m;

		vh_user_msg_init(&m, VH_USER_SET_VRING_ENABLE, 8);
		m.payload.state.index = 0;
		m.payload.state.num = 2;
		TEST_ASSERT_EQUAL(vh_user_frontend_request(f.fe, &m, NULL), -EIO,
				  "enable value 2 is refused");
	}
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_rings_start_disabled_with_protocol_features, fast, test_enable_pf)

static int
test_enable_no_pf(void)
{
	struct vh_user_msg m;
	struct fx f;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(fx_open(&f, "legacy.sock", 0, 0, true), "setup");
	/* A front-end that does not ack bit 30 (our front-end would add it). */
	vh_user_msg_init(&m, VH_USER_SET_FEATURES, 8);
	m.payload.u64 = FX_FEATURES;
	TEST_ASSERT_SUCCESS(vh_user_frontend_request(f.fe, &m, NULL),
			    "SET_FEATURES without bit 30");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0");
	d = snap(&f);
	TEST_ASSERT(d.rings[0].last.enabled,
		    "vhost-user: without PROTOCOL_FEATURES every ring is enabled");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_enables_all_rings_without_protocol_features, fast, test_enable_no_pf)

static int
test_packed_base(void)
{
	const uint64_t feat = FX_FEATURES | (1ULL << VH_VIRTIO_F_RING_PACKED);
	struct fx f;
	struct vt_udev d;
	uint32_t base;

	TEST_ASSERT_SUCCESS(fx_open(&f, "packed.sock", 0, feat, true), "setup");
	/* avail 5 (wrap 1), used 3 (wrap 0): vhost-user "descriptor indices". */
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 257, 5 | 0x8000 | (3u << 16)), "packed ring of 257");
	d = snap(&f);
	TEST_ASSERT(d.rings[0].last.packed, "packed");
	TEST_ASSERT_EQUAL(d.rings[0].last.size, 257, "packed rings need not be a power of two");
	TEST_ASSERT(d.rings[0].last.base.avail_idx == 5 && d.rings[0].last.base.avail_wrap,
		    "avail position");
	TEST_ASSERT(d.rings[0].last.base.used_idx == 3 && !d.rings[0].last.base.used_wrap,
		    "used position");
	advance(&f, 0, 2, 1);
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_vring_base(f.fe, 0, &base), "GET_VRING_BASE");
	TEST_ASSERT_EQUAL(base, 7 | 0x8000 | (4u << 16), "both positions and wrap counters");
	/* DPDK virtio-user sends only the avail half: used follows avail. */
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_base(f.fe, 0, 10 | 0x8000), "16-bit base");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_kick(f.fe, 0, f.kick[0]), "KICK");
	d = snap(&f);
	TEST_ASSERT(d.rings[0].last.base.used_idx == 10 && d.rings[0].last.base.used_wrap,
		    "used = avail for a 16-bit base");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_vring_base(f.fe, 0, &base), "stop");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_base(f.fe, 0, 300), "base beyond the ring");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_kick(f.fe, 0, f.kick[0]), -EIO,
			  "a packed position outside the ring does not start");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_packed_ring_base_round_trips, fast, test_packed_base)

static int
test_restart_on_fd_change(void)
{
	struct fx f;
	struct vt_udev d;
	int call2 = eventfd(0, EFD_CLOEXEC), err = eventfd(0, EFD_CLOEXEC);

	TEST_ASSERT_SUCCESS(fx_open(&f, "fds.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0");
	advance(&f, 0, 3, 0);
	vt_udev_clear_events(&f.srv.dev);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_call(f.fe, 0, call2), "new call fd");
	d = snap(&f);
	TEST_ASSERT_EQUAL(strcmp(d.events, "P0 S0 "), 0, "stopped, then started: %s", d.events);
	TEST_ASSERT_EQUAL(d.rings[0].last.base.avail_idx, 3, "from where it stopped");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_err(f.fe, 0, err), "SET_VRING_ERR");
	d = snap(&f);
	TEST_ASSERT(d.rings[0].last.err_fd >= 0, "the err fd reaches the ring");
	TEST_ASSERT_EQUAL(d.rings[0].last.base.avail_idx, 6, "position carried over again");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_call(f.fe, 0, -1), "no-fd call");
	d = snap(&f);
	TEST_ASSERT_EQUAL(d.rings[0].last.call_fd, -1, "no call fd: do not signal");
	TEST_ASSERT_EQUAL(d.rings[0].starts, 4, "one restart per change");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_kick(f.fe, 0, -1), "no-fd kick: polling");
	d = snap(&f);
	TEST_ASSERT(d.rings[0].started && d.rings[0].last.kick_fd == -1, "started, polling");
	close(call2);
	close(err);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_restarts_ring_when_its_fds_change, fast, test_restart_on_fd_change)

static int
test_ack_nack(void)
{
	struct fx f;

	TEST_ASSERT_SUCCESS(fx_open(&f, "ack.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_num(f.fe, 0, 1000), -EIO,
			  "split ring of 1000: not a power of two");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_num(f.fe, 9, 256), -EIO, "ring 9 of 4");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_num(f.fe, 0, 0), -EIO, "size 0");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_num(f.fe, 0, 65536), -EIO, "size 65536");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_num(f.fe, 0, 32768), "size 32768");
	TEST_ASSERT(vh_user_frontend_connected(f.fe), "still connected");
	TEST_ASSERT_SUCCESS(vt_sync(f.fe), "and serving");
	TEST_ASSERT_EQUAL(vt_server_closed(&f.srv), 0, "no connection closed");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_reply_ack_reports_failure_and_keeps_connection, fast, test_ack_nack)

static int
test_noack_close(void)
{
	struct fx f;

	TEST_ASSERT_SUCCESS(fx_open(&f, "noack.sock", ~PF(REPLY_ACK), FX_FEATURES, true), "setup");
	TEST_ASSERT(!(vh_user_frontend_protocol_features(f.fe) & PF(REPLY_ACK)), "no REPLY_ACK");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_num(f.fe, 0, 1000),
			    "without REPLY_ACK the front-end cannot hear the failure ...");
	TEST_ASSERT(vt_sync(f.fe) < 0, "... so the back-end closes the connection");
	TEST_ASSERT(vt_server_wait_closed(&f.srv, 1, 2000), "closed");
	TEST_ASSERT_EQUAL(vt_server_last_rc(&f.srv), -EINVAL, "with the request's error");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_failure_without_reply_ack_closes_connection, fast, test_noack_close)

static int
test_rarp_and_mtu(void)
{
	const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	struct fx f;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(fx_open(&f, "rarp.sock", 0, FX_FEATURES, false), "setup");
	TEST_ASSERT_SUCCESS(vh_user_frontend_send_rarp(f.fe, mac), "SEND_RARP");
	TEST_ASSERT_SUCCESS(vh_user_frontend_net_set_mtu(f.fe, 1500), "NET_SET_MTU");
	d = snap(&f);
	TEST_ASSERT(d.rarps == 1 && memcmp(d.rarp_mac, mac, 6) == 0, "the device got the MAC");
	TEST_ASSERT_EQUAL(d.mtu, 1500, "and the MTU");
	TEST_ASSERT_EQUAL(vh_user_frontend_net_set_mtu(f.fe, 9500), -EIO,
			  "the device's refusal comes back (REPLY_ACK)");
	TEST_ASSERT_EQUAL(vh_user_frontend_net_set_mtu(f.fe, 40), -EIO, "below 68 is invalid");
	TEST_ASSERT_EQUAL(snap(&f).mtu, 1500, "unchanged");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_send_rarp_and_net_set_mtu, fast, test_rarp_and_mtu)

static int
test_config_space(void)
{
	uint8_t buf[8], mac[6] = {1, 2, 3, 4, 5, 6};
	struct fx f;

	TEST_ASSERT_SUCCESS(fx_open(&f, "config.sock", 0, FX_FEATURES, false), "setup");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_config(f.fe, 0, buf, 6, 0), "GET_CONFIG");
	TEST_ASSERT(buf[0] == 0x52 && buf[5] == 0x57, "the device's MAC");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_config(f.fe, 6, "\x01\x02", 2, 0), "SET_CONFIG");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_config(f.fe, 6, buf, 2, 0), "read back");
	TEST_ASSERT(buf[0] == 1 && buf[1] == 2, "written");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_config(f.fe, 0, mac, 6, 0), -EIO,
			  "read-only field without the migration flag");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_config(f.fe, 0, mac, 6, 1), "with it");
	TEST_ASSERT_EQUAL(snap(&f).config_write_flags, 1, "flags reach the device");
	TEST_ASSERT_EQUAL(vh_user_frontend_get_config(f.fe, 250, buf, 8, 0), -EIO,
			  "beyond 256 bytes: an empty reply (vhost-user GET_CONFIG)");
	TEST_ASSERT_EQUAL(vh_user_frontend_set_config(f.fe, 0, mac, 6, 2), -EIO, "flags 2");
	TEST_ASSERT_SUCCESS(vt_sync(f.fe), "still connected");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_config_space_get_and_set, fast, test_config_space)

static int
test_inflight_round_trip(void)
{
	struct vh_user_inflight in;
	struct fx f;
	uint8_t *area;
	int fd;

	TEST_ASSERT_SUCCESS(fx_open(&f, "inflight.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_inflight_fd(f.fe, 2, 256, &in, &fd),
			    "GET_INFLIGHT_FD");
	TEST_ASSERT_EQUAL(in.mmap_size, 2 * 4160, "two split regions");
	TEST_ASSERT(in.mmap_offset == 0 && in.num_queues == 2 && in.queue_size == 256, "desc");
	area = mmap(NULL, in.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(area != MAP_FAILED, "the fd maps");
	area[4160] = 0x77; /* queue 1's region */
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_inflight_fd(f.fe, &in, fd), "SET_INFLIGHT_FD");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 1, 256, 0), "ring 1");
	TEST_ASSERT_EQUAL(snap(&f).inflight_byte, 0x77,
			  "ring 1 started with its region of the front-end's area");
	in.num_queues = 9;
	TEST_ASSERT_EQUAL(vh_user_frontend_set_inflight_fd(f.fe, &in, fd), -EIO,
			  "more queues than the device has");
	munmap(area, in.mmap_size);
	close(fd);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_inflight_fd_round_trip, fast, test_inflight_round_trip)

/*
 * The same for the inflight area: after a reconnect QEMU sends the area it
 * kept with SET_INFLIGHT_FD alone (no GET_INFLIGHT_FD first), and it must
 * reach rings that already run.
 */
static int
test_first_inflight_fd(void)
{
	struct vh_user_inflight in = {2 * 4160, 0, 2, 256};
	struct vt_guest_mem area;
	struct fx f;
	struct vt_udev d;
	int fd;

	TEST_ASSERT_SUCCESS(fx_open(&f, "inflight1.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&area, 3 * 4096, 0), "the kept area");
	area.base[4160] = 0x5c; /* queue 1's region */
	TEST_ASSERT_SUCCESS(fx_ring(&f, 1, 256, 30), "ring 1");
	TEST_ASSERT(snap(&f).rings[1].last.inflight == NULL, "started without an inflight area");
	advance(&f, 1, 4, 0);
	vt_udev_clear_events(&f.srv.dev);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_inflight_fd(f.fe, &in, area.fd),
			    "first SET_INFLIGHT_FD");
	d = snap(&f);
	TEST_ASSERT_EQUAL(strcmp(d.events, "P1 S1 "), 0, "ring 1 restarted: %s", d.events);
	TEST_ASSERT(d.rings[1].last.inflight != NULL && d.inflight_byte == 0x5c,
		    "with its region of the front-end's area");
	TEST_ASSERT_EQUAL(d.rings[1].last.base.avail_idx, 34, "at its position");
	advance(&f, 1, 0, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_inflight_fd(f.fe, 2, 256, &in, &fd),
			    "GET_INFLIGHT_FD: a new, zeroed area");
	d = snap(&f);
	TEST_ASSERT(d.rings[1].last.inflight != NULL && d.inflight_byte == 0,
		    "ring 1 moved to the new area");
	close(fd);
	vt_guest_mem_destroy(&area);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_first_inflight_fd_reaches_running_rings, fast, test_first_inflight_fd)

static int
test_reset_device(void)
{
	struct fx f;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(fx_open(&f, "reset.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 1, 256, 0), "ring 1");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_enable(f.fe, 0, true), "enable");
	advance(&f, 0, 50, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_reset_device(f.fe), "RESET_DEVICE");
	d = snap(&f);
	TEST_ASSERT(!d.rings[0].started && !d.rings[1].started, "every ring stopped");
	TEST_ASSERT_EQUAL(d.resets, 1, "the device was reset");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(f.fe, FX_FEATURES),
			    "REPLY_ACK survives: protocol features belong to the connection");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0 again");
	d = snap(&f);
	TEST_ASSERT(!d.rings[0].last.enabled, "disabled again");
	TEST_ASSERT_EQUAL(d.rings[0].last.base.avail_idx, 0, "from the new base");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_reset_device_returns_rings_to_initial_state, fast, test_reset_device)

static int
test_reset_owner(void)
{
	struct fx f;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(fx_open(&f, "rowner.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_enable(f.fe, 0, true), "enable");
	TEST_ASSERT_SUCCESS(vh_user_frontend_reset_owner(f.fe), "RESET_OWNER");
	d = snap(&f);
	TEST_ASSERT(!d.rings[0].started, "stopped");
	TEST_ASSERT_EQUAL(d.resets, 0, "but the device is not reset (deprecated request)");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_kick(f.fe, 0, f.kick[0]), "kick");
	TEST_ASSERT(!snap(&f).rings[0].last.enabled, "the ring was disabled");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_reset_owner_stops_and_disables_rings, fast, test_reset_owner)

/*
 * Issue 14 item 3: RESET_OWNER stops the rings until they are kicked again,
 * as GET_VRING_BASE does; no later change of what rings use (features,
 * memory, log, inflight area) may start them behind the front-end's back.
 */
static int
test_reset_owner_stop_holds(void)
{
	struct vh_user_inflight in;
	struct vt_guest_mem lm;
	struct vh_log_area la;
	struct vh_mem_region r;
	struct fx f;
	int ifd;

	TEST_ASSERT_SUCCESS(fx_open(&f, "rowner2.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&lm, 65536, 0), "log memfd");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0");
	TEST_ASSERT_SUCCESS(vh_user_frontend_reset_owner(f.fe), "RESET_OWNER");
	TEST_ASSERT(!snap(&f).rings[0].started, "stopped");
	TEST_ASSERT_SUCCESS(
		vh_user_frontend_set_features(f.fe, FX_FEATURES | (1ULL << VH_VHOST_F_LOG_ALL)),
		"SET_FEATURES with LOG_ALL");
	TEST_ASSERT(!snap(&f).rings[0].started, "still stopped after SET_FEATURES");
	la = (struct vh_log_area){4096, 0, 0, lm.fd};
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_base(f.fe, &la), "SET_LOG_BASE");
	TEST_ASSERT(!snap(&f).rings[0].started, "still stopped after SET_LOG_BASE");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_inflight_fd(f.fe, 2, 256, &in, &ifd),
			    "GET_INFLIGHT_FD");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_inflight_fd(f.fe, &in, ifd), "SET_INFLIGHT_FD");
	TEST_ASSERT(!snap(&f).rings[0].started, "still stopped after the inflight area");
	r = vt_guest_mem_region(&f.mem);
	r.guest_phys_addr += 0x1000000; /* a different table, so that it is applied */
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_mem_table(f.fe, &r, 1), "SET_MEM_TABLE");
	r = vt_guest_mem_region(&f.mem);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_mem_table(f.fe, &r, 1), "and back");
	TEST_ASSERT(!snap(&f).rings[0].started, "still stopped after new memory tables");
	TEST_ASSERT_EQUAL(snap(&f).rings[0].starts, 1, "never restarted");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_kick(f.fe, 0, f.kick[0]), "a new kick");
	TEST_ASSERT(snap(&f).rings[0].started, "starts it");
	close(ifd);
	vt_guest_mem_destroy(&lm);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_reset_owner_stop_holds_until_a_new_kick, fast,
	      test_reset_owner_stop_holds)

/*
 * Issue 14 item 3: before SET_FEATURES a ring's layout is unknown; a ring
 * fully described before it waits, and starts with the layout the features
 * then give (here packed), never as split first.
 */
static int
test_ring_waits_for_features(void)
{
	struct fx f;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(fx_open(&f, "nofeat.sock", 0, 0, true), "setup without SET_FEATURES");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0 up to its kick");
	TEST_ASSERT_EQUAL(snap(&f).rings[0].starts, 0, "not started before SET_FEATURES");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(
				    f.fe, FX_FEATURES | (1ULL << VH_VIRTIO_F_RING_PACKED)),
			    "SET_FEATURES: packed");
	d = snap(&f);
	TEST_ASSERT_EQUAL(d.rings[0].starts, 1, "started by SET_FEATURES");
	TEST_ASSERT(d.rings[0].last.packed, "with the packed layout");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_ring_waits_for_set_features, fast, test_ring_waits_for_features)

static int
test_inband_kick(void)
{
	struct vh_vring_addr a;
	struct fx f;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(fx_open(&f, "inband.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT(vh_user_frontend_protocol_features(f.fe) & PF(INBAND_NOTIFICATIONS),
		    "negotiated with BACKEND_REQ and REPLY_ACK");
	a = vt_ring_addr(&f.mem, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_num(f.fe, 0, 256), "NUM");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_addr(f.fe, 0, &a), "ADDR");
	TEST_ASSERT_EQUAL(snap(&f).rings[0].starts, 0, "no kick source yet");
	TEST_ASSERT_SUCCESS(vh_user_frontend_vring_kick(f.fe, 0), "VRING_KICK");
	d = snap(&f);
	TEST_ASSERT_EQUAL(d.rings[0].starts, 1, "the in-band kick started the ring");
	TEST_ASSERT_EQUAL(d.rings[0].last.kick_fd, -1, "no kick fd");
	TEST_ASSERT_EQUAL(d.rings[0].kicks, 1, "and was delivered");
	TEST_ASSERT_SUCCESS(vh_user_frontend_vring_kick(f.fe, 0), "VRING_KICK");
	TEST_ASSERT_EQUAL(snap(&f).rings[0].kicks, 2, "second kick");
	TEST_ASSERT_EQUAL(vh_user_frontend_vring_kick(f.fe, 5), -EIO, "ring 5 of 4");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_inband_kick_starts_and_kicks_ring, fast, test_inband_kick)

static int
test_mem_slots(void)
{
	struct vt_guest_mem m[3];
	struct vh_mem_region r[3];
	struct vh_user_msg msg;
	struct fx f;
	struct vt_udev d;
	int fds;

	TEST_ASSERT_SUCCESS(fx_open(&f, "slots.sock", 0, FX_FEATURES, false), "setup");
	for (int i = 0; i < 3; i++) {
		TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m[i], FX_MEM, (uint64_t)i * FX_MEM),
				    "mem");
		r[i] = vt_guest_mem_region(&m[i]);
		TEST_ASSERT_SUCCESS(vh_user_frontend_add_mem_reg(f.fe, &r[i]), "ADD_MEM_REG %d", i);
	}
	d = snap(&f);
	TEST_ASSERT(d.mem_changes == 3 && d.mem_nregions == 3, "three slots");
	TEST_ASSERT_EQUAL(vh_user_frontend_add_mem_reg(f.fe, &r[1]), -EIO, "overlapping region");
	f.mem = m[0];
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0 in slot 0");
	vt_udev_clear_events(&f.srv.dev);
	TEST_ASSERT_SUCCESS(vh_user_frontend_rem_mem_reg(f.fe, &r[2]), "REM_MEM_REG 2");
	d = snap(&f);
	TEST_ASSERT_EQUAL(strcmp(d.events, "P0 M2 S0 "), 0,
			  "rings stop before memory goes and start after: %s", d.events);
	/* vhost-user: a REM_MEM_REG with an fd is accepted and the fd closed. */
	fds = vt_count_fds();
	vh_user_msg_init(&msg, VH_USER_REM_MEM_REG, sizeof(struct vh_user_mem_reg_msg));
	msg.payload.mem_reg.region.guest_phys_addr = r[1].guest_phys_addr;
	msg.payload.mem_reg.region.memory_size = r[1].memory_size;
	msg.payload.mem_reg.region.userspace_addr = r[1].userspace_addr;
	msg.fds[0] = m[1].fd;
	msg.nfds = 1;
	TEST_ASSERT_SUCCESS(vh_user_frontend_request(f.fe, &msg, NULL), "REM_MEM_REG with an fd");
	/* One fewer: the region's own copy (kept for a hand-over) went with it. */
	TEST_ASSERT_EQUAL(vt_count_fds(), fds - 1, "the back-end closed the fd it got");
	TEST_ASSERT_EQUAL(vh_user_frontend_rem_mem_reg(f.fe, &r[1]), -EIO, "already removed");
	vt_udev_clear_events(&f.srv.dev);
	TEST_ASSERT_SUCCESS(vh_user_frontend_rem_mem_reg(f.fe, &r[0]), "remove ring 0's memory");
	d = snap(&f);
	TEST_ASSERT(!d.rings[0].started && d.mem_nregions == 0, "the ring cannot start without it");
	TEST_ASSERT_EQUAL(strcmp(d.events, "P0 M0 "), 0, "%s", d.events);
	f.mem.fd = -1;
	f.mem.base = NULL;
	for (int i = 0; i < 3; i++)
		vt_guest_mem_destroy(&m[i]);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_adds_and_removes_memory_slots, fast, test_mem_slots)

static int
test_509_slots(void)
{
	struct vt_guest_mem m;
	struct fx f;
	int rc = 0;

	TEST_ASSERT_SUCCESS(fx_open(&f, "slots509.sock", 0, FX_FEATURES, false), "setup");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m, 510 * 4096, 0), "mem");
	for (int i = 0; i < 510 && rc == 0; i++) {
		struct vh_mem_region r = {(uint64_t)i * 4096, 4096,
					  (uint64_t)(uintptr_t)m.base + (uint64_t)i * 4096,
					  (uint64_t)i * 4096, m.fd};

		rc = vh_user_frontend_add_mem_reg(f.fe, &r);
		if (i < 509) {
			TEST_ASSERT_SUCCESS(rc, "slot %d", i);
			continue;
		}
		TEST_ASSERT_EQUAL(rc, -ENOSPC, "our front-end knows the limit");
		{
			struct vh_user_msg msg;

			vh_user_msg_init(&msg, VH_USER_ADD_MEM_REG, sizeof(msg.payload.mem_reg));
			msg.payload.mem_reg.region.guest_phys_addr = r.guest_phys_addr;
			msg.payload.mem_reg.region.memory_size = r.memory_size;
			msg.payload.mem_reg.region.userspace_addr = r.userspace_addr;
			msg.payload.mem_reg.region.mmap_offset = r.mmap_offset;
			msg.fds[0] = m.fd;
			msg.nfds = 1;
			TEST_ASSERT_EQUAL(vh_user_frontend_request(f.fe, &msg, NULL), -EIO,
					  "and the back-end refuses slot 510");
		}
	}
	TEST_ASSERT_EQUAL(snap(&f).mem_nregions, 509, "509 regions mapped");
	vt_guest_mem_destroy(&m);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_accepts_509_memory_slots, fast, test_509_slots)

static int
test_status(void)
{
	struct fx f;
	uint8_t s = 0;

	TEST_ASSERT_SUCCESS(fx_open(&f, "status.sock", 0, FX_FEATURES, false), "setup");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_status(f.fe, 0x0f), "SET_STATUS");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_status(f.fe, &s), "GET_STATUS");
	TEST_ASSERT_EQUAL(s, 0x0f, "status round-trips");
	TEST_ASSERT_EQUAL(snap(&f).status, 0x0f, "and reached the device");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_status_round_trip, fast, test_status)

static int
test_dirty_log(void)
{
	struct vt_guest_mem lm, lm2;
	struct vh_log_area la;
	struct vh_vring_addr a;
	struct fx f;
	struct vt_udev d;
	int lfd = eventfd(0, EFD_CLOEXEC);
	uint64_t page = (FX_GPA >> 12) + 5;

	TEST_ASSERT_SUCCESS(fx_open(&f, "log.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&lm, 65536, 0), "log memfd");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&lm2, 65536, 0), "second log memfd");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0");
	la = (struct vh_log_area){4096, 0, 0, lm.fd};
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_base(f.fe, &la), "SET_LOG_BASE (replied)");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_fd(f.fe, lfd), "SET_LOG_FD");
	TEST_ASSERT(snap(&f).rings[0].last.log == NULL, "no log before LOG_ALL");
	TEST_ASSERT_SUCCESS(
		vh_user_frontend_set_features(f.fe, FX_FEATURES | (1ULL << VH_VHOST_F_LOG_ALL)),
		"LOG_ALL while the ring runs");
	d = snap(&f);
	TEST_ASSERT_EQUAL(d.rings[0].starts, 2, "the ring restarted with the log");
	TEST_ASSERT(d.rings[0].last.log != NULL && d.rings[0].last.log->size == 4096, "log");
	TEST_ASSERT(!d.rings[0].last.log_used, "used-ring logging not yet asked for");
	a = vt_ring_addr(&f.mem, 0);
	a.flags = VH_VRING_F_LOG;
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_addr(f.fe, 0, &a), "ADDR with VRING_F_LOG");
	d = snap(&f);
	TEST_ASSERT(d.rings[0].last.log_used, "log used-ring writes");
	TEST_ASSERT_EQUAL(d.rings[0].last.log_used_gpa, FX_GPA + 0x6000, "at log_guest_addr");
	/* The data path marks through the ring's log: the front-end sees the bit. */
	vh_dirty_log_write(d.rings[0].last.log, page << 12, 10);
	TEST_ASSERT(lm.base[page / 8] & (1u << (page % 8)), "the dirty bit is in the shared log");
	a.log_guest_addr = 1ULL << 40;
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_addr(f.fe, 0, &a), -EIO,
			  "used-ring log address beyond the log");
	a.log_guest_addr = FX_GPA + 0x6000;
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_addr(f.fe, 0, &a), "back");
	vt_udev_clear_events(&f.srv.dev);
	la.fd = lm2.fd;
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_base(f.fe, &la), "a new log while logging");
	d = snap(&f);
	TEST_ASSERT_EQUAL(strcmp(d.events, "P0 S0 "), 0, "ring stopped around the swap: %s",
			  d.events);
	vh_dirty_log_write(d.rings[0].last.log, page << 12, 1);
	TEST_ASSERT(lm2.base[page / 8] & (1u << (page % 8)), "marks go to the new log");
	la.size = 0;
	TEST_ASSERT(vh_user_frontend_set_log_base(f.fe, &la) < 0,
		    "empty log refused (the connection closes: the reply has no failure form)");
	vt_guest_mem_destroy(&lm);
	vt_guest_mem_destroy(&lm2);
	close(lfd);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_dirty_log_reaches_rings, fast, test_dirty_log)

/*
 * A device that starts while a migration runs: QEMU sends SET_FEATURES with
 * LOG_ALL and the ring messages first, SET_LOG_BASE last. The rings then
 * run without a log until the first one arrives, and must get it.
 */
static int
test_first_log_base(void)
{
	const uint64_t log_all = 1ULL << VH_VHOST_F_LOG_ALL;
	struct vt_guest_mem lm;
	struct vh_log_area la;
	struct fx f;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(fx_open(&f, "log1.sock", 0, FX_FEATURES | log_all, true), "setup");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&lm, 65536, 0), "log memfd");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 10), "ring 0");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 1, 256, 20), "ring 1");
	d = snap(&f);
	TEST_ASSERT(d.rings[0].started && d.rings[1].started, "both rings run");
	TEST_ASSERT(d.rings[0].last.log == NULL && d.rings[1].last.log == NULL,
		    "LOG_ALL without a log yet: the rings run without one");
	advance(&f, 0, 5, 0);
	advance(&f, 1, 7, 0);
	vt_udev_clear_events(&f.srv.dev);
	la = (struct vh_log_area){4096, 0, 0, lm.fd};
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_base(f.fe, &la), "first SET_LOG_BASE");
	d = snap(&f);
	TEST_ASSERT_EQUAL(strcmp(d.events, "P0 P1 S0 S1 "), 0,
			  "running rings stopped and started again: %s", d.events);
	for (int i = 0; i < 2; i++) {
		TEST_ASSERT(d.rings[i].started && d.rings[i].last.log != NULL &&
				    d.rings[i].last.log->size == 4096,
			    "ring %d now logs into the new log", i);
	}
	TEST_ASSERT_EQUAL(d.rings[0].last.base.avail_idx, 15, "ring 0 resumes where it was");
	TEST_ASSERT_EQUAL(d.rings[1].last.base.avail_idx, 27, "ring 1 resumes where it was");
	/* LOG_ALL off and on again while the rings run: position kept both ways. */
	advance(&f, 0, 3, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(f.fe, FX_FEATURES), "LOG_ALL off");
	d = snap(&f);
	TEST_ASSERT(d.rings[0].started && d.rings[0].last.log == NULL, "ring 0 stops logging");
	TEST_ASSERT_EQUAL(d.rings[0].last.base.avail_idx, 18, "at its position");
	advance(&f, 0, 2, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(f.fe, FX_FEATURES | log_all),
			    "LOG_ALL on");
	d = snap(&f);
	TEST_ASSERT(d.rings[0].started && d.rings[0].last.log != NULL, "ring 0 logs again");
	TEST_ASSERT_EQUAL(d.rings[0].last.base.avail_idx, 20, "at its position");
	advance(&f, 0, 0, 0);
	advance(&f, 1, 0, 0);
	/* Without LOG_ALL a new log concerns no ring: nothing restarts. */
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(f.fe, FX_FEATURES), "LOG_ALL off");
	vt_udev_clear_events(&f.srv.dev);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_log_base(f.fe, &la), "SET_LOG_BASE, no LOG_ALL");
	TEST_ASSERT_EQUAL(strcmp(snap(&f).events, ""), 0, "no ring restarted: %s", snap(&f).events);
	vt_guest_mem_destroy(&lm);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_first_log_base_reaches_running_rings, fast, test_first_log_base)

/*
 * Issue 14 item 3: the reply to SET_LOG_BASE is the 16-byte log description
 * (rust-vmm's front-end reads exactly that; QEMU reads any size), and a log
 * that cannot be mapped closes the connection, since that reply has no
 * failure form.
 */
static int
test_log_base_reply(void)
{
	struct vt_guest_mem lm;
	struct vh_user_msg r;
	struct fx f;

	TEST_ASSERT_SUCCESS(fx_open(&f, "logreply.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&lm, 65536, 0), "log memfd");
	{
		struct vh_user_msg m;

		vh_user_msg_init(&m, VH_USER_SET_LOG_BASE, sizeof(struct vh_user_log));
		m.payload.log.mmap_size = 8192;
		m.payload.log.mmap_offset = 4096;
		m.fds[0] = lm.fd;
		m.nfds = 1;
		TEST_ASSERT_SUCCESS(vh_user_frontend_request(f.fe, &m, &r), "SET_LOG_BASE");
	}
	TEST_ASSERT_EQUAL(r.hdr.size, sizeof(struct vh_user_log),
			  "the reply is a log description (rust-vmm reads 16 bytes)");
	TEST_ASSERT(r.payload.log.mmap_size == 8192 && r.payload.log.mmap_offset == 4096,
		    "the log as mapped");
	TEST_ASSERT_EQUAL(r.nfds, 0, "no fd");
	TEST_ASSERT_SUCCESS(vt_sync(f.fe), "the next request lines up");
	{
		struct vh_log_area la = {0, 0, 0, lm.fd};

		TEST_ASSERT(vh_user_frontend_set_log_base(f.fe, &la) < 0, "an empty log fails");
	}
	TEST_ASSERT(vt_server_wait_closed(&f.srv, 1, 2000), "by closing the connection");
	vt_guest_mem_destroy(&lm);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_set_log_base_replies_the_log_description, fast, test_log_base_reply)

static int
raw(struct fx *f, uint32_t req, uint32_t size, int fd, struct vh_user_msg *reply)
{
	struct vh_user_msg m;

	vh_user_msg_init(&m, req, size);
	if (fd >= 0) {
		m.fds[0] = fd;
		m.nfds = 1;
	}
	return vh_user_frontend_request(f->fe, &m, reply);
}

static int
test_unsupported_requests(void)
{
	struct vh_user_iotlb io = {0};
	struct vh_user_msg r;
	struct fx f;
	int efd = eventfd(0, EFD_CLOEXEC), fds;

	TEST_ASSERT_SUCCESS(fx_open(&f, "unsup.sock", 0, FX_FEATURES, false), "setup");
	TEST_ASSERT_EQUAL(vh_user_frontend_iotlb_msg(f.fe, &io), -EIO, "IOTLB_MSG: u64 1");
	TEST_ASSERT_EQUAL(raw(&f, VH_USER_SET_VRING_ENDIAN, 8, -1, NULL), -EIO, "SET_VRING_ENDIAN");
	TEST_ASSERT_EQUAL(raw(&f, VH_USER_CLOSE_CRYPTO_SESSION, 8, -1, NULL), -EIO,
			  "CLOSE_CRYPTO_SESSION");
	TEST_ASSERT_EQUAL(raw(&f, VH_USER_POSTCOPY_LISTEN, 0, -1, NULL), -EIO, "POSTCOPY_LISTEN");
	TEST_ASSERT_SUCCESS(raw(&f, VH_USER_POSTCOPY_END, 0, -1, &r), "POSTCOPY_END");
	TEST_ASSERT(r.hdr.size == 8 && r.payload.u64 == 1, "POSTCOPY_END answers failure");
	fds = vt_count_fds();
	TEST_ASSERT_EQUAL(raw(&f, VH_USER_GPU_SET_SOCKET, 0, efd, NULL), -EIO, "GPU_SET_SOCKET");
	/* The back-end closes a message's unused fds after its reply: one more
	 * round trip before counting (the two ends share this process). */
	TEST_ASSERT_SUCCESS(vt_sync(f.fe), "round trip");
	TEST_ASSERT_EQUAL(vt_count_fds(), fds, "its fd was closed");
	TEST_ASSERT_SUCCESS(raw(&f, VH_USER_SET_DEVICE_STATE_FD, 8, efd, &r),
			    "SET_DEVICE_STATE_FD");
	TEST_ASSERT(r.payload.u64 == (1 | VH_USER_DEVICE_STATE_NOFD) && r.nfds == 0,
		    "error, no fd");
	TEST_ASSERT_SUCCESS(raw(&f, VH_USER_CHECK_DEVICE_STATE, 0, -1, &r), "CHECK_DEVICE_STATE");
	TEST_ASSERT_EQUAL(r.payload.u64, 1, "failure");
	TEST_ASSERT_SUCCESS(raw(&f, VH_USER_GET_SHMEM_CONFIG, 0, -1, &r), "GET_SHMEM_CONFIG");
	TEST_ASSERT(r.hdr.size == sizeof(struct vh_user_shmem_config) &&
			    r.payload.shmem.nregions == 0,
		    "no VIRTIO shared memory regions");
	TEST_ASSERT_EQUAL(raw(&f, 99, 0, -1, NULL), -EIO,
			  "an unknown request with need_reply gets an error reply");
	TEST_ASSERT_SUCCESS(vt_sync(f.fe), "the connection stays");
	TEST_ASSERT_EQUAL(vt_server_closed(&f.srv), 0, "nothing closed");
	close(efd);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_answers_unsupported_requests, fast, test_unsupported_requests)

static int
test_closes_when_no_answer_fits(void)
{
	const uint32_t reqs[] = {VH_USER_CREATE_CRYPTO_SESSION, VH_USER_POSTCOPY_ADVISE,
				 VH_USER_GET_SHARED_OBJECT};
	const uint32_t sizes[] = {16, 0, 16};
	struct vh_user_msg r;
	struct fx f;

	TEST_ASSERT_SUCCESS(fx_open(&f, "noanswer.sock", 0, FX_FEATURES, false), "setup");
	for (int i = 0; i < 3; i++) {
		if (i > 0)
			TEST_ASSERT_SUCCESS(vt_frontend_open(&f.srv, &f.fe, 0), "reconnect");
		TEST_ASSERT(raw(&f, reqs[i], sizes[i], -1, &r) < 0,
			    "%s has a reply we cannot give: the connection closes",
			    vh_user_request_name(reqs[i]));
		TEST_ASSERT(vt_server_wait_closed(&f.srv, i + 1, 2000), "closed");
		vh_user_frontend_destroy(f.fe);
		f.fe = NULL;
	}
	TEST_ASSERT_SUCCESS(vt_frontend_open(&f.srv, &f.fe, 0), "new connections still served");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_closes_when_no_reply_can_answer, fast, test_closes_when_no_answer_fits)

/* ---- the back-end channel ---- */

struct chan_rec {
	int config_changes;
	int calls[4];
	int errs[4];
	int others;
};

static int
fe_config_change(void *p)
{
	((struct chan_rec *)p)->config_changes++;
	return 0;
}

static int
fe_vring_call(void *p, unsigned int idx)
{
	if (idx >= 3)
		return -EINVAL;
	((struct chan_rec *)p)->calls[idx]++;
	return 0;
}

static int
fe_vring_err(void *p, unsigned int idx)
{
	((struct chan_rec *)p)->errs[idx & 3]++;
	return 0;
}

static int64_t
fe_other(void *p, struct vh_user_msg *m)
{
	((struct chan_rec *)p)->others++;
	return m->payload.object.uuid[0] == 1 ? 0 : -ENOENT;
}

static int
job_config_change(struct vh_user_backend *be, void *arg)
{
	(void)arg;
	return vh_user_backend_send_config_change(be);
}

static int
job_vring_call(struct vh_user_backend *be, void *arg)
{
	return vh_user_backend_send_vring_call(be, (unsigned int)(uintptr_t)arg);
}

static int
job_vring_err(struct vh_user_backend *be, void *arg)
{
	return vh_user_backend_send_vring_err(be, (unsigned int)(uintptr_t)arg);
}

static int
job_host_notifier(struct vh_user_backend *be, void *arg)
{
	(void)arg;
	return vh_user_backend_send_host_notifier(be, 0, -1, 4096, 0);
}

static int
job_shared_object(struct vh_user_backend *be, void *arg)
{
	struct vh_user_shared obj = {{(uint8_t)(uintptr_t)arg}};

	return vh_user_backend_send_request(be, VH_USER_BACKEND_SHARED_OBJECT_ADD, &obj,
					    sizeof(obj), NULL, 0, NULL);
}

static int
test_channel(void)
{
	static const struct vh_user_frontend_ops ops = {
		.config_change = fe_config_change,
		.vring_call = fe_vring_call,
		.vring_err = fe_vring_err,
		.other = fe_other,
	};
	struct chan_rec rec = {0};
	struct vh_user_frontend_config cfg = {.protocol_features = ~0ULL,
					      .backend_channel = true,
					      .ops = &ops,
					      .opaque = &rec,
					      .timeout_ms = 5000};
	struct fx f;

	fx_zero(&f);
	TEST_ASSERT_SUCCESS(vt_server_listen(&f.srv, "chan.sock", 4), "server");
	TEST_ASSERT_SUCCESS(vh_user_frontend_connect(f.srv.path, 2000, &cfg, &f.fe), "connect");
	TEST_ASSERT(vh_user_frontend_channel_fd(f.fe) >= 0, "SET_BACKEND_REQ_FD sent");
	TEST_ASSERT_SUCCESS(vt_server_run_job(&f.srv, 0, job_config_change, NULL, f.fe, 3000),
			    "BACKEND_CONFIG_CHANGE_MSG acked by the front-end");
	TEST_ASSERT_EQUAL(rec.config_changes, 1, "the front-end's handler ran");
	TEST_ASSERT_SUCCESS(vt_server_run_job(&f.srv, 0, job_vring_call, (void *)1, f.fe, 3000),
			    "BACKEND_VRING_CALL");
	TEST_ASSERT_SUCCESS(vt_server_run_job(&f.srv, 0, job_vring_err, (void *)2, f.fe, 3000),
			    "BACKEND_VRING_ERR");
	TEST_ASSERT(rec.calls[1] == 1 && rec.errs[2] == 1, "handlers ran with the ring index");
	TEST_ASSERT_EQUAL(vt_server_run_job(&f.srv, 0, job_vring_call, (void *)3, f.fe, 3000), -EIO,
			  "the front-end's failure reaches the back-end (REPLY_ACK)");
	TEST_ASSERT_EQUAL(vt_server_run_job(&f.srv, 0, job_vring_call, (void *)9, f.fe, 3000),
			  -ERANGE, "ring 9 of 4 is refused locally");
	TEST_ASSERT_EQUAL(vt_server_run_job(&f.srv, 0, job_host_notifier, NULL, f.fe, 3000),
			  -ENOTSUP, "HOST_NOTIFIER was not negotiated");
	TEST_ASSERT_SUCCESS(vt_server_run_job(&f.srv, 0, job_shared_object, (void *)1, f.fe, 3000),
			    "any back-end request");
	TEST_ASSERT_EQUAL(vt_server_run_job(&f.srv, 0, job_shared_object, (void *)2, f.fe, 3000),
			  -EIO, "its failure too");
	TEST_ASSERT_EQUAL(rec.others, 2, "generic handler");
	TEST_ASSERT_SUCCESS(vt_sync(f.fe), "the main socket is unaffected");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_channel_carries_backend_requests_with_reply_ack, fast, test_channel)

static int
test_mem_change(void)
{
	struct vt_guest_mem m2;
	struct vh_mem_region r;
	struct fx f;
	struct vt_udev d;

	TEST_ASSERT_SUCCESS(fx_open(&f, "memchg.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 0, 256, 0), "ring 0");
	TEST_ASSERT_SUCCESS(fx_ring(&f, 1, 256, 0), "ring 1");
	vt_udev_clear_events(&f.srv.dev);
	r = vt_guest_mem_region(&f.mem);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_mem_table(f.fe, &r, 1), "the same table again");
	d = snap(&f);
	TEST_ASSERT_EQUAL(d.mem_changes, 1, "an unchanged table is not republished");
	TEST_ASSERT_EQUAL(d.events[0], '\0', "and no ring restarts: %s", d.events);
	/* Same addresses, other memory: as after a front-end restart. */
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m2, FX_MEM, FX_GPA), "new memory");
	memcpy(m2.base, f.mem.base, FX_MEM);
	m2.base[0x4000] = 0x66;
	r = vt_guest_mem_region(&m2);
	r.userspace_addr = (uint64_t)(uintptr_t)f.mem.base; /* the rings' addresses stay valid */
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_mem_table(f.fe, &r, 1), "a new table");
	d = snap(&f);
	TEST_ASSERT_EQUAL(strcmp(d.events, "P0 P1 M1 S0 S1 "), 0,
			  "stop rings, publish, (unmap old), start rings: %s", d.events);
	TEST_ASSERT_EQUAL(d.rings[0].avail_byte0, 0x66, "ring 0 now reads the new memory");
	vt_guest_mem_destroy(&m2);
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_mem_table_change_stops_and_restarts_rings, fast, test_mem_change)

static int
test_ring_addresses_checked(void)
{
	struct vh_vring_addr a;
	struct fx f;

	TEST_ASSERT_SUCCESS(fx_open(&f, "addr.sock", 0, FX_FEATURES, true), "setup");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_num(f.fe, 0, 256), "NUM");
	a = vt_ring_addr(&f.mem, 0);
	a.used_user_addr = (uint64_t)(uintptr_t)f.mem.base + FX_MEM - 100;
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_addr(f.fe, 0, &a), -EIO,
			  "a used ring running off the end of memory");
	a = vt_ring_addr(&f.mem, 0);
	a.desc_user_addr += 8;
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_addr(f.fe, 0, &a), -EIO,
			  "a descriptor table not 16-byte aligned");
	a = vt_ring_addr(&f.mem, 0);
	a.flags = 2;
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_addr(f.fe, 0, &a), -EIO, "unknown flags");
	TEST_ASSERT_SUCCESS(vt_sync(f.fe), "still connected");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_checks_ring_addresses_against_memory, fast, test_ring_addresses_checked)

static int
test_socketpair(void)
{
	struct vt_server s;
	struct vh_user_frontend *fe;
	uint64_t f;
	int c;

	TEST_ASSERT_SUCCESS(vt_server_pair(&s, &c, 2), "socketpair server");
	fe = vh_user_frontend_create(c, NULL);
	TEST_ASSERT_NOT_NULL(fe, "front-end");
	TEST_ASSERT_SUCCESS(vh_user_frontend_negotiate(fe), "negotiate over a socketpair");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_owner(fe), "SET_OWNER");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_features(fe, &f), "GET_FEATURES");
	TEST_ASSERT_EQUAL(vh_user_frontend_queue_num(fe), 1, "2 rings: 1 pair");
	vh_user_frontend_destroy(fe);
	TEST_ASSERT(vt_server_wait_closed(&s, 1, 2000), "the back-end saw the hang-up");
	TEST_ASSERT_EQUAL(vt_server_last_rc(&s), -ECONNRESET, "as a clean disconnect");
	vt_server_stop(&s);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_serves_a_socketpair, fast, test_socketpair)

static void *
peer_get_features(void *arg)
{
	int fd = *(int *)arg;
	struct vh_user_msg r;

	vt_send_raw(fd, VH_USER_GET_FEATURES, VH_USER_VERSION, NULL, 0, NULL, 0);
	vt_recv_reply(fd, &r, 2000);
	close(fd);
	return NULL;
}

static int
test_serve_convenience(void)
{
	struct vh_user_backend_config cfg = {0};
	struct vh_user_backend *be;
	struct vt_udev dev;
	pthread_t t;
	int sv[2];

	vt_udev_init(&dev);
	cfg.ops = &vt_udev_ops;
	cfg.device = &dev;
	cfg.max_rings = 2;
	TEST_ASSERT_SUCCESS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "pair");
	be = vh_user_backend_create(&cfg, sv[0]);
	TEST_ASSERT_NOT_NULL(be, "back-end");
	TEST_ASSERT_EQUAL(vh_user_backend_serve(be, 50), 0,
			  "nothing to do: returns at the timeout");
	pthread_create(&t, NULL, peer_get_features, &sv[1]);
	TEST_ASSERT_EQUAL(vh_user_backend_serve(be, 5000), -ECONNRESET,
			  "served until the peer hung up");
	pthread_join(t, NULL);
	TEST_ASSERT(!vh_user_backend_connected(be), "disconnected");
	TEST_ASSERT_EQUAL(vh_user_backend_handle_readable(be), -ENOTCONN, "nothing more to handle");
	vh_user_backend_destroy(be);
	errno = 0;
	cfg.max_rings = 0;
	TEST_ASSERT(vh_user_backend_create(&cfg, -1) == NULL && errno == EINVAL, "bad config");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_serve_blocks_until_disconnect_or_timeout, fast, test_serve_convenience)

static int
test_late_size(void)
{
	struct vh_vring_addr a;
	struct fx f;

	TEST_ASSERT_SUCCESS(fx_open(&f, "late.sock", 0, 0, true), "setup without SET_FEATURES");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_num(f.fe, 0, 1000),
			    "before SET_FEATURES the ring layout is unknown: accepted");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(f.fe, FX_FEATURES), "split");
	a = vt_ring_addr(&f.mem, 0);
	TEST_ASSERT_EQUAL(vh_user_frontend_set_vring_addr(f.fe, 0, &a), -EIO,
			  "a split ring of 1000 cannot be set up");
	TEST_ASSERT_EQUAL(snap(&f).rings[0].starts, 0, "never started");
	fx_close(&f);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_backend_checks_ring_size_once_layout_known, fast, test_late_size)
