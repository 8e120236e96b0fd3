/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The real vswitch binary with VMs played by dpdk-testpmd net_virtio_user
 * instances (fixed MACs), VM ports made by vt_vm_port_spec(): unicast to a
 * learned MAC, flooding within a VLAN, MAC moves, aging, exact counts,
 * ports added and removed under traffic, bad management input, bad
 * arguments, clean shutdown, client-mode ports across a switch restart,
 * telemetry.
 */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "vt_harness.h"

#define MAX_VMS 5

static const char *const vm_mac[MAX_VMS] = {
	"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03",
	"02:00:00:00:00:04", "02:00:00:00:00:05",
};

struct scene {
	struct vt_vswitch sw;
	struct vt_pmdvm vm[MAX_VMS];
	unsigned int nvms;
	char sock[MAX_VMS][200];
	char spec[MAX_VMS][300];
	const char *specs[MAX_VMS + 1];
};

static void
scene_dump(struct scene *s)
{
	if (s->sw.proc.pid > 0)
		vt_vswitch_dump(&s->sw);
	for (unsigned int i = 0; i < s->nvms; i++)
		if (s->vm[i].proc.pid > 0)
			vt_pmdvm_dump(&s->vm[i]);
}

static void
scene_fini(struct scene *s)
{
	for (unsigned int i = 0; i < s->nvms; i++)
		vt_pmdvm_stop(&s->vm[i]);
	if (s->sw.running)
		vt_vswitch_stop(&s->sw, SIGTERM);
	for (unsigned int i = 0; i < s->nvms; i++)
		unlink(s->sock[i]);
}

/* Runs @p body with a fresh scene; dumps the peers' output when it fails. */
static int
with_scene(int (*body)(struct scene *s))
{
	struct scene *s = calloc(1, sizeof(*s));
	char why[256];
	int rc;

	if (s == NULL)
		return TEST_FAILED;
	if (!vt_interop_ready(why, sizeof(why))) {
		free(s);
		TEST_SKIP("%s", why);
	}
	rc = body(s);
	if (rc == TEST_FAILED)
		scene_dump(s);
	scene_fini(s);
	free(s);
	return rc;
}

/*
 * Builds VM i's port SPEC (name vm<i+1>, @p extra keys) into s->specs. With
 * @p client the switch connects to the VM's socket (testpmd server=1).
 */
static void
scene_port(struct scene *s, unsigned int i, const char *extra, bool client)
{
	char keys[128];

	vt_path(s->sock[i], sizeof(s->sock[i]), "");
	snprintf(s->sock[i] + strlen(s->sock[i]), sizeof(s->sock[i]) - strlen(s->sock[i]),
		 "vm%u.sock", i + 1);
	snprintf(keys, sizeof(keys), "name=vm%u%s%s%s", i + 1, extra != NULL ? "," : "",
		 extra != NULL ? extra : "", client ? ",client=1" : "");
	vt_vm_port_spec(s->spec[i], sizeof(s->spec[i]), i, s->sock[i], keys);
	s->specs[i] = s->spec[i];
	s->specs[i + 1] = NULL;
	if (s->nvms < i + 1)
		s->nvms = i + 1;
}

/* Starts VMs 0..n-1 on their sockets and waits for the switch to see them up. */
static int
start_vms(struct scene *s, unsigned int n)
{
	char why[256], name[16];

	for (unsigned int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "vm%u", i + 1);
		TEST_ASSERT_SUCCESS(vt_pmdvm_start(&s->vm[i], name, s->sock[i], vm_mac[i], false, 0,
						   why, sizeof(why)),
				    "%s", why);
	}
	for (unsigned int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "vm%u", i + 1);
		TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, name, 15000), "%s link up", name);
	}
	return TEST_SUCCESS;
}

/*
 * VM @p from sends @p count frames (bursts of 8) to @p dst while every VM
 * polls; then checks that VM i received exactly want[i].
 */
static int
step(struct scene *s, unsigned int from, const char *dst, unsigned int count, const uint64_t *want,
     const char *what)
{
	struct vt_port_counters before;
	char name[16];
	uint64_t rx, tx;

	for (unsigned int i = 0; i < s->nvms; i++) {
		TEST_ASSERT_SUCCESS(vt_pmdvm_clear(&s->vm[i]), "clear");
		if (i != from)
			TEST_ASSERT_SUCCESS(vt_pmdvm_start_rx(&s->vm[i]), "start");
	}
	snprintf(name, sizeof(name), "vm%u", from + 1);
	TEST_ASSERT_SUCCESS(vt_vswitch_port(&s->sw, name, &before), "counters");
	TEST_ASSERT_SUCCESS(vt_pmdvm_send(&s->vm[from], dst, count / 8, 8), "%s: send", what);
	TEST_ASSERT_SUCCESS(vt_pmdvm_stats(&s->vm[from], &rx, &tx), "stats");
	TEST_ASSERT_EQUAL(tx, count, "%s: vm%u sent them all", what, from + 1);
	/* Once the switch has received them all, it has forwarded them all. */
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_rx(&s->sw, name, before.rx_packets + count, 10000),
			    "%s: the switch received %u frames from %s", what, count, name);
	usleep(300 * 1000); /* the receivers poll their rings */
	for (unsigned int i = 0; i < s->nvms; i++) {
		if (i != from)
			TEST_ASSERT_SUCCESS(vt_pmdvm_stop_fwd(&s->vm[i]), "stop");
		TEST_ASSERT_SUCCESS(vt_pmdvm_stats(&s->vm[i], &rx, &tx), "stats");
		TEST_ASSERT_EQUAL(rx, want[i], "%s: vm%u received", what, i + 1);
	}
	return TEST_SUCCESS;
}

/* ---- unicast, flooding, VLANs, exact counts ---- */

static int
body_forwarding(struct scene *s)
{
	uint64_t w[MAX_VMS];
	struct vt_port_counters c;
	json_t *fdb = NULL;
	char why[256];

	/* vm1..vm3 in VLAN 1, vm4 alone in VLAN 2. */
	scene_port(s, 0, NULL, false);
	scene_port(s, 1, NULL, false);
	scene_port(s, 2, NULL, false);
	scene_port(s, 3, "vlan=2", false);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, s->specs, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_RUN(start_vms(s, 4));

	w[0] = 0, w[1] = 32, w[2] = 32, w[3] = 0;
	TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 32, w, "broadcast from vm1"));
	w[0] = 16, w[1] = 0, w[2] = 16, w[3] = 0;
	TEST_RUN(step(s, 1, "02:00:00:00:00:99", 16, w, "unknown unicast from vm2"));
	w[0] = 24, w[1] = 0, w[2] = 0, w[3] = 0;
	TEST_RUN(step(s, 2, vm_mac[0], 24, w, "unicast vm3 -> vm1 (learned)"));
	w[0] = 0, w[1] = 8, w[2] = 0, w[3] = 0;
	TEST_RUN(step(s, 0, vm_mac[1], 8, w, "unicast vm1 -> vm2 (learned)"));
	w[0] = 0, w[1] = 0, w[2] = 0, w[3] = 0;
	TEST_RUN(step(s, 3, "ff:ff:ff:ff:ff:ff", 16, w, "broadcast in VLAN 2 (nobody else)"));
	TEST_RUN(step(s, 3, vm_mac[0], 16, w, "vm1's MAC seen from VLAN 2 (another station)"));
	w[0] = 0, w[1] = 8, w[2] = 8, w[3] = 0;
	TEST_RUN(step(s, 0, "01:00:5e:00:00:01", 8, w, "multicast from vm1"));

	/* The switch's own counts agree, exactly. */
	TEST_ASSERT_SUCCESS(vt_vswitch_port(&s->sw, "vm1", &c), "vm1");
	TEST_ASSERT(c.rx_packets == 48 && c.tx_packets == 16 + 24 && c.flooded == 40,
		    "vm1 rx %" PRIu64 " tx %" PRIu64 " flooded %" PRIu64, c.rx_packets,
		    c.tx_packets, c.flooded);
	/* Unicast between VM ports goes by one copy; floods through mbufs. */
	TEST_ASSERT_EQUAL(c.onecopy, 24u, "vm1: the unicast from vm3 by one copy");
	TEST_ASSERT_SUCCESS(vt_vswitch_port(&s->sw, "vm2", &c), "vm2");
	TEST_ASSERT(c.rx_packets == 16 && c.tx_packets == 32 + 8 + 8,
		    "vm2 rx %" PRIu64 " tx %" PRIu64, c.rx_packets, c.tx_packets);
	TEST_ASSERT_EQUAL(c.onecopy, 8u, "vm2: the unicast from vm1 by one copy");
	TEST_ASSERT_SUCCESS(vt_vswitch_port(&s->sw, "vm3", &c), "vm3");
	TEST_ASSERT(c.rx_packets == 24 && c.tx_packets == 32 + 16 + 8,
		    "vm3 rx %" PRIu64 " tx %" PRIu64, c.rx_packets, c.tx_packets);
	TEST_ASSERT_EQUAL(c.onecopy, 0u, "vm3: floods only, through mbufs");
	TEST_ASSERT_SUCCESS(vt_vswitch_port(&s->sw, "vm4", &c), "vm4");
	TEST_ASSERT(c.rx_packets == 32 && c.tx_packets == 0 && c.tx_dropped == 0,
		    "vm4 rx %" PRIu64 " tx %" PRIu64, c.rx_packets, c.tx_packets);
	/* Four stations: three in VLAN 1, vm4 in VLAN 2. */
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, &fdb, "show fdb", NULL), 0, "show fdb");
	TEST_ASSERT_NOT_NULL(fdb, "fdb reply");
	{
		const json_t *e = json_object_get(fdb, "entries"), *x;
		unsigned int found = 0;
		size_t k;

		json_array_foreach (e, k, x) {
			const char *mac = vs_json_str(x, "mac");
			const char *port = vs_json_str(x, "port");
			uint64_t vlan = vs_json_u64_of(x, "vlan");

			for (unsigned int i = 0; i < 4; i++) {
				char name[8];

				snprintf(name, sizeof(name), "vm%u", i + 1);
				if (mac != NULL && port != NULL && strcmp(mac, vm_mac[i]) == 0 &&
				    strcmp(port, name) == 0 && vlan == (i == 3 ? 2 : 1))
					found++;
			}
		}
		TEST_ASSERT_EQUAL(json_array_size(e), 4, "four entries");
		TEST_ASSERT_EQUAL(found, 4, "each on its port and VLAN");
	}
	json_decref(fdb);
	return TEST_SUCCESS;
}

static int
test_vswitch_forwards_unicast_floods_within_vlan(void)
{
	return with_scene(body_forwarding);
}
/* clang-format off */
REGISTER_TEST(vswitch_forwards_unicast_floods_within_vlan, interop, test_vswitch_forwards_unicast_floods_within_vlan)
/* clang-format on */

/* ---- MAC moves and aging ---- */

static int
body_move_and_age(struct scene *s)
{
	/* Long enough for the steps below (about 2 s each), short enough to wait out. */
	static const char *const opts[] = {"--fdb-aging", "6", NULL};
	char why[256];
	uint64_t w[MAX_VMS];
	json_t *fdb = NULL;

	for (unsigned int i = 0; i < 3; i++)
		scene_port(s, i, NULL, false);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, s->specs, opts, why, sizeof(why)), "%s",
			    why);
	/* vm3 shares vm1's MAC: the station that moves. */
	TEST_ASSERT_SUCCESS(
		vt_pmdvm_start(&s->vm[0], "vm1", s->sock[0], vm_mac[0], false, 0, why, sizeof(why)),
		"%s", why);
	TEST_ASSERT_SUCCESS(
		vt_pmdvm_start(&s->vm[1], "vm2", s->sock[1], vm_mac[1], false, 0, why, sizeof(why)),
		"%s", why);
	TEST_ASSERT_SUCCESS(
		vt_pmdvm_start(&s->vm[2], "vm3", s->sock[2], vm_mac[0], false, 0, why, sizeof(why)),
		"%s", why);
	for (unsigned int i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "vm%u", i + 1);
		TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, name, 15000), "%s up", name);
	}
	w[0] = 0, w[1] = 8, w[2] = 8;
	TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 8, w, "the station on vm1"));
	w[0] = 16, w[1] = 0, w[2] = 0;
	TEST_RUN(step(s, 1, vm_mac[0], 16, w, "to the station: vm1 only"));
	w[0] = 8, w[1] = 8, w[2] = 0;
	TEST_RUN(step(s, 2, "ff:ff:ff:ff:ff:ff", 8, w, "the station moves to vm3"));
	w[0] = 0, w[1] = 0, w[2] = 16;
	TEST_RUN(step(s, 1, vm_mac[0], 16, w, "to the station: vm3 only"));
	/* Silence for more than the aging time: every entry goes, unicast floods again. */
	sleep(8);
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, &fdb, "show fdb", NULL), 0, "show fdb");
	TEST_ASSERT(fdb != NULL && json_array_size(json_object_get(fdb, "entries")) == 0,
		    "aged out (aging 6 s)");
	json_decref(fdb);
	w[0] = 8, w[1] = 0, w[2] = 8;
	TEST_RUN(step(s, 1, vm_mac[0], 8, w, "after aging: flooded"));
	return TEST_SUCCESS;
}

static int
test_vswitch_follows_moves_and_ages_stations(void)
{
	return with_scene(body_move_and_age);
}
/* clang-format off */
REGISTER_TEST(vswitch_follows_moves_and_ages_stations, interop, test_vswitch_follows_moves_and_ages_stations)
/* clang-format on */

/* ---- ports come and go under traffic ---- */

static int
body_add_del(struct scene *s)
{
	char why[256], spec[300], extra_sock[200];
	uint64_t rx, tx, sent = 0;
	struct vt_port_counters c;
	unsigned int rounds = 0;

	scene_port(s, 0, NULL, false);
	scene_port(s, 1, NULL, false);
	/* Two workers (sharing CPU 1): added queues land on either, some move. */
	TEST_ASSERT_SUCCESS(
		vt_vswitch_start(&s->sw, "0@0,1@1,2@1", s->specs, NULL, why, sizeof(why)), "%s",
		why);
	TEST_RUN(start_vms(s, 2));
	/* vm2 is learned, so vm1's frames to it go nowhere else. */
	{
		uint64_t w[MAX_VMS] = {8, 0};

		TEST_RUN(step(s, 1, "ff:ff:ff:ff:ff:ff", 8, w, "vm2 announces itself"));
	}
	TEST_ASSERT_SUCCESS(vt_pmdvm_clear(&s->vm[0]), "clear");
	TEST_ASSERT_SUCCESS(vt_pmdvm_clear(&s->vm[1]), "clear");
	TEST_ASSERT_SUCCESS(vt_pmdvm_start_rx(&s->vm[1]), "vm2 polls");
	TEST_ASSERT_SUCCESS(vt_pmdvm_cmd(&s->vm[0], "set eth-peer 0 %s", vm_mac[1]), "peer");
	TEST_ASSERT_SUCCESS(vt_pmdvm_cmd(&s->vm[0], "set burst 32"), "burst");
	vt_path(extra_sock, sizeof(extra_sock), "extra.sock");
	for (; rounds < 12; rounds++) {
		/* A burst of traffic in flight while a port is added or removed. */
		TEST_ASSERT_SUCCESS(vt_pmdvm_cmd(&s->vm[0], "start tx_first 4"), "send");
		if (rounds % 2 == 0) {
			char keys[64];

			snprintf(keys, sizeof(keys), "name=extra,queues=1");
			vt_vm_port_spec(spec, sizeof(spec), 7, extra_sock, keys);
			TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "add-port", spec), 0,
					  "add-port %s", spec);
		} else {
			TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "del-port", "extra"), 0,
					  "del-port");
		}
		TEST_ASSERT_SUCCESS(vt_pmdvm_stop_fwd(&s->vm[0]), "stop");
		sent += 4 * 32;
	}
	TEST_ASSERT_SUCCESS(vt_pmdvm_stats(&s->vm[0], &rx, &tx), "vm1 stats");
	TEST_ASSERT_EQUAL(tx, sent, "vm1 sent every frame");
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_rx(&s->sw, "vm1", sent, 10000), "switch got them");
	usleep(300 * 1000);
	TEST_ASSERT_SUCCESS(vt_pmdvm_stop_fwd(&s->vm[1]), "stop");
	TEST_ASSERT_SUCCESS(vt_pmdvm_stats(&s->vm[1], &rx, &tx), "vm2 stats");
	TEST_ASSERT_EQUAL(rx, sent, "vm2 received every frame: no loss while ports came and went");
	TEST_ASSERT_SUCCESS(vt_vswitch_port(&s->sw, "vm2", &c), "counters");
	TEST_ASSERT_EQUAL(c.tx_dropped, 0, "no drop towards vm2");
	TEST_ASSERT(access(extra_sock, F_OK) != 0, "the removed port's socket is gone");
	return TEST_SUCCESS;
}

static int
test_vswitch_adds_and_removes_ports_without_loss(void)
{
	return with_scene(body_add_del);
}
/* clang-format off */
REGISTER_TEST(vswitch_adds_and_removes_ports_without_loss, interop, test_vswitch_adds_and_removes_ports_without_loss)
/* clang-format on */

/* ---- two queue pairs: every queue of the receiver gets traffic ---- */

/* Port @p name's rx queue count as the switch sees it, or -1. */
static int
port_rx_queues(struct scene *s, const char *name)
{
	json_t *r = NULL, *x;
	int n = -1;
	size_t k;

	if (vt_vswitch_ctl(&s->sw, &r, "show ports", NULL) != 0 || r == NULL)
		return -1;
	json_array_foreach (json_object_get(r, "ports"), k, x) {
		const char *pn = vs_json_str(x, "name");

		if (pn != NULL && strcmp(pn, name) == 0)
			n = (int)vs_json_u64_of(x, "rx_queues");
	}
	json_decref(r);
	return n;
}

/*
 * From `show lcores`: no tx queue of port @p name is used by two workers
 * unless both say it is shared; @p want_workers workers send to it.
 */
static int
check_tx_queues(struct scene *s, const char *name, unsigned int want_workers)
{
	json_t *r = NULL, *lc, *t;
	unsigned int owner[32], workers = 0;
	bool shared[32] = {false};
	size_t i, j, k;

	memset(owner, 0xff, sizeof(owner));
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, &r, "show lcores", NULL), 0, "show lcores");
	TEST_ASSERT_NOT_NULL(r, "reply");
	json_array_foreach (json_object_get(r, "lcores"), i, lc) {
		json_array_foreach (json_object_get(lc, "tx_queues"), j, t) {
			const char *pn = vs_json_str(t, "port");
			bool sh = json_is_true(json_object_get(t, "shared"));
			json_t *q;

			if (pn == NULL || strcmp(pn, name) != 0)
				continue;
			workers++;
			json_array_foreach (json_object_get(t, "queues"), k, q) {
				json_int_t v = json_integer_value(q);

				if (v < 0 || v >= 32)
					continue;
				if (owner[v] != UINT32_MAX && !(sh && shared[v])) {
					json_decref(r);
					TEST_ASSERT(false, "%s tx queue %d: workers %u and %zu",
						    name, (int)v, owner[v], i);
				}
				owner[v] = (unsigned int)i;
				shared[v] = sh;
			}
		}
	}
	json_decref(r);
	TEST_ASSERT_EQUAL(workers, want_workers, "%s: workers sending to it", name);
	return TEST_SUCCESS;
}

/* VM @p i's queue-@p q counter @p what ("rx_q%u_good_packets" style). */
static int
qstat(struct scene *s, unsigned int i, const char *dir, unsigned int q, uint64_t *v)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_q%u_good_packets", dir, q);
	return vt_pmdvm_xstat(&s->vm[i], name, v);
}

/*
 * Two VMs with two queue pairs each; vm1 sends on both of its queues to
 * vm2. With one worker, what the switch receives on rx queue i it sends on
 * tx queue i, so vm2 receives on both its queues (as testpmd io forwards);
 * with two workers each owns its own tx queue of every port.
 */
static int
body_two_queue_pairs(struct scene *s, const char *lcores, unsigned int nb_workers)
{
	uint64_t tx0[2], tx1[2], rx0[2], rx1[2], sent;
	char why[256], name[16];

	scene_port(s, 0, "queues=2", false);
	scene_port(s, 1, "queues=2", false);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, lcores, s->specs, NULL, why, sizeof(why)),
			    "%s", why);
	for (unsigned int i = 0; i < 2; i++) {
		uint64_t end = vt_now_ms() + 15000;

		snprintf(name, sizeof(name), "vm%u", i + 1);
		TEST_ASSERT_SUCCESS(vt_pmdvm_start_queues(&s->vm[i], name, s->sock[i], vm_mac[i],
							  false, 0, 2, why, sizeof(why)),
				    "%s", why);
		TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, name, 15000), "%s link up", name);
		while (port_rx_queues(s, name) != 2 && vt_now_ms() < end)
			usleep(50 * 1000);
		TEST_ASSERT_EQUAL(port_rx_queues(s, name), 2, "%s: both queue pairs", name);
	}
	TEST_RUN(check_tx_queues(s, "vm2", nb_workers));
	/* vm2 announces itself (a broadcast), so vm1's frames go to it alone. */
	TEST_ASSERT_SUCCESS(vt_pmdvm_send(&s->vm[1], "ff:ff:ff:ff:ff:ff", 1, 8), "vm2 announces");
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_rx(&s->sw, "vm2", 8, 10000), "switch got it");
	for (unsigned int q = 0; q < 2; q++) {
		TEST_ASSERT_SUCCESS(qstat(s, 0, "tx", q, &tx0[q]), "vm1 tx_q%u", q);
		TEST_ASSERT_SUCCESS(qstat(s, 1, "rx", q, &rx0[q]), "vm2 rx_q%u", q);
	}
	TEST_ASSERT_SUCCESS(vt_pmdvm_start_rx(&s->vm[1]), "vm2 polls");
	/*
	 * tx_first sends 4 bursts of 32 on each queue: half of a 256-entry
	 * ring, so neither vm1's tx rings nor vm2's rx rings fill however the
	 * two CPUs are shared (16 bursts lost 64 frames on a loaded machine
	 * when vm2 did not drain in time: load, not lanes).
	 */
	TEST_ASSERT_SUCCESS(vt_pmdvm_send(&s->vm[0], vm_mac[1], 4, 32), "vm1 sends");
	for (unsigned int q = 0; q < 2; q++)
		TEST_ASSERT_SUCCESS(qstat(s, 0, "tx", q, &tx1[q]), "vm1 tx_q%u", q);
	sent = tx1[0] - tx0[0] + tx1[1] - tx0[1];
	TEST_ASSERT(tx1[0] > tx0[0] && tx1[1] > tx0[1],
		    "vm1 sent on both queues (%" PRIu64 ", %" PRIu64 ")", tx1[0] - tx0[0],
		    tx1[1] - tx0[1]);
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_rx(&s->sw, "vm1", sent, 10000), "switch got them");
	usleep(300 * 1000);
	TEST_ASSERT_SUCCESS(vt_pmdvm_stop_fwd(&s->vm[1]), "stop");
	for (unsigned int q = 0; q < 2; q++)
		TEST_ASSERT_SUCCESS(qstat(s, 1, "rx", q, &rx1[q]), "vm2 rx_q%u", q);
	printf("two queue pairs, %u worker(s): vm1 sent %" PRIu64 " + %" PRIu64
	       ", vm2 received %" PRIu64 " + %" PRIu64 "\n",
	       nb_workers, tx1[0] - tx0[0], tx1[1] - tx0[1], rx1[0] - rx0[0], rx1[1] - rx0[1]);
	TEST_ASSERT_EQUAL(rx1[0] - rx0[0] + rx1[1] - rx0[1], sent, "vm2 received every frame");
	/* The count placement puts vm1's queue i on worker i; either way queue i -> queue i. */
	for (unsigned int q = 0; q < 2; q++)
		TEST_ASSERT_EQUAL(rx1[q] - rx0[q], tx1[q] - tx0[q],
				  "vm2's queue %u got what vm1 sent on its queue %u", q, q);
	TEST_RUN(check_tx_queues(s, "vm2", nb_workers));
	return TEST_SUCCESS;
}

static int
body_two_queue_pairs_one_worker(struct scene *s)
{
	return body_two_queue_pairs(s, NULL, 1);
}

static int
test_vswitch_spreads_two_queue_pairs_one_worker(void)
{
	return with_scene(body_two_queue_pairs_one_worker);
}
/* clang-format off */
REGISTER_TEST(vswitch_spreads_two_queue_pairs_one_worker, interop, test_vswitch_spreads_two_queue_pairs_one_worker)
/* clang-format on */

static int
body_two_queue_pairs_two_workers(struct scene *s)
{
	/* Two workers sharing CPU 1. */
	return body_two_queue_pairs(s, "0@0,1@1,2@1", 2);
}

static int
test_vswitch_spreads_two_queue_pairs_two_workers(void)
{
	return with_scene(body_two_queue_pairs_two_workers);
}
/* clang-format off */
REGISTER_TEST(vswitch_spreads_two_queue_pairs_two_workers, interop, test_vswitch_spreads_two_queue_pairs_two_workers)
/* clang-format on */

/* ---- bad management input ---- */

static int
raw_request(const char *path, const char *data, size_t len, char *reply, size_t rlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t got = 0;
	uint64_t end = vt_now_ms() + 5000;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, data, len, MSG_NOSIGNAL) != (ssize_t)len) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (got + 1 < rlen && vt_now_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, reply + got, rlen - got - 1, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		reply[got] = '\0';
		if (memchr(reply, '\n', got) != NULL)
			break;
	}
	reply[got] = '\0';
	close(fd);
	return memchr(reply, '\n', got) != NULL ? 0 : -1;
}

static int
body_bad_mgmt(struct scene *s)
{
	static char huge[1 << 20];
	char why[256], reply[4096];
	json_t *r = NULL;
	uint64_t w[MAX_VMS] = {0, 8};

	scene_port(s, 0, NULL, false);
	scene_port(s, 1, NULL, false);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, s->specs, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_RUN(start_vms(s, 2));
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, &r, "frobnicate", NULL), 1,
			  "unknown command: exit 1");
	TEST_ASSERT(r != NULL && vs_json_str(r, "error") != NULL &&
			    strstr(vs_json_str(r, "error"), "unknown command"),
		    "error reply");
	json_decref(r);
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "del-port", "ghost"), 1, "unknown port");
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "add-port", "ethdev,devargs=net_bogus0"), 1,
			  "bad SPEC");
	TEST_ASSERT_SUCCESS(raw_request(s->sw.ctl, "{\"command\": [\n", 14, reply, sizeof(reply)),
			    "malformed JSON answered");
	TEST_ASSERT(strstr(reply, "malformed JSON") != NULL, "%s", reply);
	memset(huge, 'A', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\n';
	TEST_ASSERT_SUCCESS(raw_request(s->sw.ctl, huge, sizeof(huge), reply, sizeof(reply)),
			    "huge line answered");
	TEST_ASSERT(strstr(reply, "longer than") != NULL, "%s", reply);
	TEST_ASSERT_SUCCESS(raw_request(s->sw.ctl, "\0\0\0\n", 4, reply, sizeof(reply)),
			    "NUL bytes answered");
	TEST_ASSERT(strstr(reply, "\"ok\":false") != NULL, "%s", reply);
	/* Still running and forwarding. */
	TEST_ASSERT(vt_proc_running(&s->sw.proc), "vswitch still runs");
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "show ports", NULL), 0, "still answers");
	TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 8, w, "still forwards"));
	/* vswitchctl's own errors. */
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd),
			 "%s/app/vswitchctl/vswitchctl --ctl %s.none show ports "
			 ">/dev/null 2>&1",
			 VT_BUILD_ROOT, s->sw.ctl);
		TEST_ASSERT_EQUAL(WEXITSTATUS(system(cmd)), 3, "no switch: exit 3");
		snprintf(cmd, sizeof(cmd), "%s/app/vswitchctl/vswitchctl --bogus >/dev/null 2>&1",
			 VT_BUILD_ROOT);
		TEST_ASSERT_EQUAL(WEXITSTATUS(system(cmd)), 2, "bad usage: exit 2");
	}
	return TEST_SUCCESS;
}

static int
test_vswitch_answers_bad_management_input(void)
{
	return with_scene(body_bad_mgmt);
}
/* clang-format off */
REGISTER_TEST(vswitch_answers_bad_management_input, interop, test_vswitch_answers_bad_management_input)
/* clang-format on */

/* ---- bad arguments ---- */

/* Runs vswitch with @p args; returns its exit status and its output. */
static int
run_vswitch(const char *const *args, char **output)
{
	char prefix[64], ctl[200];
	const char *argv[40];
	struct vt_proc p;
	int n = 0, rc;

	snprintf(prefix, sizeof(prefix), "switch-args%d", (int)getpid());
	vt_path(ctl, sizeof(ctl), "args.ctl");
	argv[n++] = VT_BUILD_ROOT "/app/vswitch/vswitch";
	for (int i = 0; args[i] != NULL && n < 36; i++)
		argv[n++] = strcmp(args[i], "PREFIX") == 0 ? prefix
			    : strcmp(args[i], "CTL") == 0  ? ctl
							   : args[i];
	argv[n] = NULL;
	if (vt_proc_start(&p, argv, 0) != 0)
		return -1;
	rc = vt_proc_stop(&p, NULL, 20000);
	*output = vt_proc_output(&p);
	vt_proc_cleanup(&p);
	vt_remove_runtime_dir(prefix);
	return rc;
}

static int
test_vswitch_rejects_bad_arguments_with_status_2(void)
{
#define EAL "--lcores", "0@0,1@1", "--no-pci", "--no-huge", "-m", "256", "--file-prefix", "PREFIX"
	static const struct {
		const char *args[24];
		const char *why;
	} bad[] = {
		{{"--fdb-size", "lots"}, "--fdb-size: 'lots' is not an integer"},
		{{"--port"}, "--port needs a value"},
		{{"--nonsense"}, "unknown option '--nonsense'"},
		{{"--port", "frob,x=1"}, "unknown port type 'frob'"},
		{{"--port", "ethdev,devargs=x,vlan=0"}, "key 'vlan'"},
		{{"--config", "/nonexistent.conf"}, "--config /nonexistent.conf"},
		{{EAL, "--", "--ctl", "CTL", "--port", "ethdev,devargs=net_null0,queues=99"},
		 "--port 'ethdev,devargs=net_null0,queues=99': key 'queues'"},
		{{EAL, "--", "--ctl", "CTL", "--port", "ethdev,devargs=net_null0,colour=red"},
		 "probe failed"},
		{{EAL, "--", "--ctl", "CTL", "--port", "ethdev"}, "needs devargs"},
		{{"--lcores", "0@0", "--no-pci", "--no-huge", "-m", "256", "--file-prefix",
		  "PREFIX", "--", "--ctl", "CTL"},
		 "no worker lcore"},
		{{"--no-such-eal-flag", "--"}, "EAL initialisation failed"},
	};
	char why[256], ctl[200];

	if (!vt_interop_ready(why, sizeof(why)))
		TEST_SKIP("%s", why);
	vt_path(ctl, sizeof(ctl), "args.ctl");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL;
		int rc = run_vswitch(bad[i].args, &out);
		bool has = out != NULL && strstr(out, bad[i].why) != NULL;
		unsigned int lines = 0;

		if (rc != 2 || !has)
			printf("output:\n%s\n", out != NULL ? out : "");
		TEST_ASSERT_EQUAL(rc, 2, "%s: exit status", bad[i].why);
		TEST_ASSERT(has, "the message names the argument: '%s'", bad[i].why);
		/* One line of ours says it (DPDK may add its own). */
		for (const char *l = out; l != NULL;
		     l = strchr(l, '\n'), l = l != NULL ? l + 1 : NULL)
			lines += strncmp(l, "vswitch: ", 9) == 0;
		TEST_ASSERT_EQUAL(lines, 1, "exactly one vswitch line for '%s'", bad[i].why);
		TEST_ASSERT(access(ctl, F_OK) != 0, "no management socket was left");
		free(out);
	}
	return TEST_SUCCESS;
#undef EAL
}
/* clang-format off */
REGISTER_TEST(vswitch_rejects_bad_arguments_with_status_2, interop, test_vswitch_rejects_bad_arguments_with_status_2)
/* clang-format on */

/* ---- clean shutdown ---- */

static int
body_shutdown(struct scene *s)
{
	char why[256], *out;
	int rc;

	scene_port(s, 0, NULL, false);
	scene_port(s, 1, NULL, false);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, s->specs, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_RUN(start_vms(s, 2));
	{
		uint64_t w[MAX_VMS] = {0, 8};

		TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 8, w, "some traffic"));
	}
	TEST_ASSERT_SUCCESS(access(s->sock[0], F_OK), "socket exists while running");
	kill(s->sw.proc.pid, SIGTERM);
	TEST_ASSERT_SUCCESS(vt_proc_wait_output(&s->sw.proc, "tx-packets", 15000),
			    "counters printed");
	/* The VMs see their link go down. */
	TEST_ASSERT_SUCCESS(vt_proc_wait_output(&s->vm[0].proc, "link state change", 10000),
			    "vm1 told");
	out = vt_proc_output(&s->sw.proc);
	TEST_ASSERT(out != NULL && strstr(out, "SIGTERM, shutting down") != NULL, "said why");
	free(out);
	rc = vt_vswitch_stop(&s->sw, SIGTERM);
	TEST_ASSERT_EQUAL(rc, 0, "exit status 0");
	TEST_ASSERT(access(s->sock[0], F_OK) != 0 && access(s->sock[1], F_OK) != 0,
		    "VM sockets removed");
	TEST_ASSERT(access(s->sw.ctl, F_OK) != 0, "management socket removed");
	return TEST_SUCCESS;
}

static int
test_vswitch_shuts_down_cleanly_on_sigterm(void)
{
	return with_scene(body_shutdown);
}
/* clang-format off */
REGISTER_TEST(vswitch_shuts_down_cleanly_on_sigterm, interop, test_vswitch_shuts_down_cleanly_on_sigterm)
/* clang-format on */

/* ---- client-mode ports across a switch restart ---- */

static int
body_restart(struct scene *s)
{
	char why[256];
	uint64_t w[MAX_VMS];

	scene_port(s, 0, NULL, true);
	scene_port(s, 1, NULL, true);
	/* The VMs own the sockets (server=1) and wait for the switch. */
	TEST_ASSERT_SUCCESS(
		vt_pmdvm_start(&s->vm[0], "vm1", s->sock[0], vm_mac[0], true, 0, why, sizeof(why)),
		"%s", why);
	TEST_ASSERT_SUCCESS(
		vt_pmdvm_start(&s->vm[1], "vm2", s->sock[1], vm_mac[1], true, 0, why, sizeof(why)),
		"%s", why);
	for (int i = 0; i < 100 && (access(s->sock[0], F_OK) || access(s->sock[1], F_OK)); i++)
		usleep(100 * 1000);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, s->specs, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_ASSERT_SUCCESS(vt_pmdvm_wait_prompt(&s->vm[0], 20000), "vm1 up");
	TEST_ASSERT_SUCCESS(vt_pmdvm_wait_prompt(&s->vm[1], 20000), "vm2 up");
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, "vm1", 15000), "vm1 link");
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, "vm2", 15000), "vm2 link");
	w[0] = 0, w[1] = 16;
	TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 16, w, "before the restart"));
	/* The switch dies (no clean shutdown) and comes back; the VMs stay. */
	vt_vswitch_kill(&s->sw);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, s->specs, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, "vm1", 20000), "vm1 reconnected");
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, "vm2", 20000), "vm2 reconnected");
	w[0] = 16, w[1] = 0;
	TEST_RUN(step(s, 1, "ff:ff:ff:ff:ff:ff", 16, w, "after the restart"));
	w[0] = 0, w[1] = 8;
	TEST_RUN(step(s, 0, vm_mac[1], 8, w, "unicast after the restart"));
	return TEST_SUCCESS;
}

static int
test_vswitch_client_ports_survive_switch_restart(void)
{
	return with_scene(body_restart);
}
/* clang-format off */
REGISTER_TEST(vswitch_client_ports_survive_switch_restart, interop, test_vswitch_client_ports_survive_switch_restart)
/* clang-format on */

/* ---- run-time changes ---- */

/* show port NAME's JSON "port" member; the caller frees @p *r. */
static const json_t *
show_port(struct scene *s, const char *name, json_t **r)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "show port %s", name);
	*r = NULL;
	if (vt_vswitch_ctl(&s->sw, r, cmd, NULL) != 0 || *r == NULL)
		return NULL;
	return json_object_get(*r, "port");
}

static uint64_t
drops_sum(const json_t *d)
{
	const char *k;
	json_t *v;
	uint64_t n = 0;

	json_object_foreach ((json_t *)d, k, v)
		n += (uint64_t)json_integer_value(v);
	return n;
}

/*
 * set-port changes a VM's VLAN and admin state under traffic without
 * touching its vhost-user connection: the same connection (and counters)
 * before and after, and the traffic follows the new VLAN at once.
 */
static int
body_set_port(struct scene *s)
{
	uint64_t w[MAX_VMS];
	const json_t *p;
	json_t *r = NULL;
	char why[256];
	uint64_t conns;

	scene_port(s, 0, "vlan=10", false);
	scene_port(s, 1, "vlan=10", false);
	scene_port(s, 2, "vlan=20", false);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, s->specs, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_RUN(start_vms(s, 3));
	w[0] = 0, w[1] = 16, w[2] = 0;
	TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 16, w, "VLAN 10 only"));
	p = show_port(s, "vm3", &r);
	TEST_ASSERT_NOT_NULL(p, "show port vm3");
	conns = vs_json_u64_of(json_object_get(p, "driver"), "connections");
	TEST_ASSERT(conns == 1 && json_is_true(json_object_get(json_object_get(p, "driver"),
							       "connected")),
		    "vm3 connected once");
	TEST_ASSERT(json_array_size(json_object_get(json_object_get(p, "driver"), "memory")) > 0,
		    "its memory regions are listed");
	json_decref(r);
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "set-port vm3 vlan=10", NULL), 0,
			  "set-port vm3 vlan=10");
	w[0] = 0, w[1] = 8, w[2] = 8;
	TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 8, w, "vm3 now in VLAN 10"));
	p = show_port(s, "vm3", &r);
	TEST_ASSERT(p != NULL && strcmp(vs_json_str(p, "vlan"), "10") == 0, "show port: VLAN 10");
	TEST_ASSERT_EQUAL(vs_json_u64_of(json_object_get(p, "driver"), "connections"), conns,
			  "the same vhost-user connection");
	TEST_ASSERT_EQUAL(vs_json_u64_of(p, "tx_packets"), 8, "its counters kept");
	json_decref(r);
	TEST_ASSERT(!vt_proc_output_has(&s->sw.proc, "disconnected"), "no VM went away");
	/* admin=down: connected, but nothing in or out (counted by reason). */
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "set-port vm2 admin=down", NULL), 0,
			  "set-port vm2 admin=down");
	w[0] = 0, w[1] = 0, w[2] = 8;
	TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 8, w, "vm2 down"));
	w[0] = 0, w[1] = 0, w[2] = 0;
	TEST_RUN(step(s, 1, "ff:ff:ff:ff:ff:ff", 8, w, "from vm2: dropped"));
	p = show_port(s, "vm2", &r);
	TEST_ASSERT(p != NULL && strcmp(vs_json_str(p, "admin"), "down") == 0, "admin down");
	TEST_ASSERT_EQUAL(vs_json_u64_of(json_object_get(p, "rx_drops"), "admin_down"), 8,
			  "8 dropped as admin_down");
	TEST_ASSERT_EQUAL(vs_json_u64_of(p, "rx_dropped"),
			  drops_sum(json_object_get(p, "rx_drops")), "the reasons add up");
	TEST_ASSERT_EQUAL(vs_json_u64_of(p, "tx_dropped"),
			  drops_sum(json_object_get(p, "tx_drops")), "both ways");
	json_decref(r);
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "set-port vm2 admin=up", NULL), 0, "up");
	w[0] = 0, w[1] = 8, w[2] = 8;
	TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 8, w, "vm2 up again"));
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "clear counters vm1", NULL), 0, "clear");
	p = show_port(s, "vm1", &r);
	TEST_ASSERT(p != NULL && vs_json_u64_of(p, "rx_packets") == 0, "vm1 cleared");
	json_decref(r);
	return TEST_SUCCESS;
}

static int
test_vswitch_set_port_keeps_the_vm_connected(void)
{
	return with_scene(body_set_port);
}
/* clang-format off */
REGISTER_TEST(vswitch_set_port_keeps_the_vm_connected, interop, test_vswitch_set_port_keeps_the_vm_connected)
/* clang-format on */

/* ---- capture ---- */

/*
 * What a VM sent is in the capture of its port, and what the switch sent
 * the other VM is in that one's: pcapng files tcpdump reads back.
 */
static int
body_capture(struct scene *s)
{
	char rx[256], tx[256], cmd[512], why[256];
	uint64_t w[MAX_VMS] = {0, 24};
	json_t *r = NULL;
	int n = -1;

	if (access("/usr/bin/tcpdump", X_OK) != 0 && access("/usr/sbin/tcpdump", X_OK) != 0)
		TEST_SKIP("tcpdump is not installed (scripts/setup.sh test installs it)");
	scene_port(s, 0, NULL, false);
	scene_port(s, 1, NULL, false);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, s->specs, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_RUN(start_vms(s, 2));
	vt_path(rx, sizeof(rx), "vm1-rx.pcapng");
	vt_path(tx, sizeof(tx), "vm2-tx.pcapng");
	snprintf(cmd, sizeof(cmd), "capture vm1 %s dir=rx count=24", rx);
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, cmd, NULL), 0, "%s", cmd);
	snprintf(cmd, sizeof(cmd), "capture vm2 %s dir=tx", tx);
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, cmd, NULL), 0, "%s", cmd);
	TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 24, w, "traffic while capturing"));
	/* vm1's capture ends by itself at its count. */
	for (int i = 0; i < 100; i++) {
		const json_t *p;

		json_decref(r);
		TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, &r, "show port vm1", NULL), 0,
				  "show port");
		p = json_object_get(r, "port");
		if (json_object_get(p, "capture") == NULL)
			break;
		usleep(50 * 1000);
	}
	TEST_ASSERT(json_object_get(json_object_get(r, "port"), "capture") == NULL,
		    "vm1's capture ended at count=24");
	json_decref(r);
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, &r, "capture stop vm2", NULL), 0, "capture stop");
	TEST_ASSERT_EQUAL(vs_json_u64_of(r, "written"), 24, "vm2: 24 written");
	TEST_ASSERT_EQUAL(vs_json_u64_of(r, "lost"), 0, "none lost");
	json_decref(r);
	n = vt_tcpdump_lines(rx, "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff");
	TEST_ASSERT_EQUAL(n, 24, "tcpdump reads vm1's 24 frames");
	n = vt_tcpdump_lines(tx, "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff");
	TEST_ASSERT_EQUAL(n, 24, "tcpdump reads what vm2 was sent");
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "capture stop vm2", NULL), 1,
			  "nothing to stop: refused");
	unlink(rx);
	unlink(tx);
	return TEST_SUCCESS;
}

static int
test_vswitch_captures_a_vm_to_pcapng(void)
{
	return with_scene(body_capture);
}
/* clang-format off */
REGISTER_TEST(vswitch_captures_a_vm_to_pcapng, interop, test_vswitch_captures_a_vm_to_pcapng)
/* clang-format on */

/* ---- logging ---- */

/*
 * libvhost's messages reach rte_log under vswitch.libvhost, whose level
 * `vswitchctl log level` changes at run time; the ready line is rte_log's too.
 */
static int
body_logging(struct scene *s)
{
	const json_t *t;
	json_t *r = NULL;
	char why[256];
	size_t i;
	bool core = false;

	scene_port(s, 0, NULL, false);
	scene_port(s, 1, NULL, false);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, s->specs, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, &r, "show log", NULL), 0, "show log");
	json_array_foreach (json_object_get(r, "types"), i, t)
		core |= vs_json_str(t, "type") != NULL &&
			strcmp(vs_json_str(t, "type"), "vswitch.virtio_core") == 0;
	json_decref(r);
	TEST_ASSERT(core, "the virtio core's log type is listed");
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "log level vswitch.libvhost debug", NULL), 0,
			  "log level debug");
	TEST_RUN(start_vms(s, 2));
	/* A debug line of libvhost's (a ring started) and an info one (features). */
	TEST_ASSERT_SUCCESS(vt_proc_wait_output(&s->sw.proc, "libvhost: vm1: ring 0 started", 5000),
			    "libvhost's debug line");
	TEST_ASSERT(vt_proc_output_has(&s->sw.proc, "libvhost: vm2: features 0x"),
		    "libvhost's info line");
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, NULL, "log level vswitch.libvhost error", NULL), 0,
			  "log level error");
	vt_pmdvm_stop(&s->vm[1]);
	/* The port's own line (vswitch.vhost_user, info) says the VM went. */
	TEST_ASSERT_SUCCESS(vt_proc_wait_output(&s->sw.proc, "disconnected", 10000),
			    "vm2's disconnection seen");
	TEST_ASSERT(!vt_proc_output_has(&s->sw.proc, "libvhost: vm2: connection closed"),
		    "an info line is filtered at level error");
	return TEST_SUCCESS;
}

static int
test_vswitch_logs_libvhost_through_rte_log(void)
{
	return with_scene(body_logging);
}
/* clang-format off */
REGISTER_TEST(vswitch_logs_libvhost_through_rte_log, interop, test_vswitch_logs_libvhost_through_rte_log)
/* clang-format on */

/* ---- telemetry ---- */

/* Asks the switch's telemetry @p cmd; *@p out gets the value of its reply. */
static int
telemetry(struct scene *s, const char *cmd, json_t **out)
{
	char line[512], why[256], *start, *end;
	static char text[1 << 17];
	size_t n;
	json_t *j;
	FILE *f;

	*out = NULL;
	snprintf(line, sizeof(line), "echo '%s' | dpdk-telemetry.py -f %s 2>&1", cmd, s->sw.prefix);
	f = popen(line, "r");
	TEST_ASSERT_NOT_NULL(f, "popen");
	n = fread(text, 1, sizeof(text) - 1, f);
	pclose(f);
	text[n] = '\0';
	/* The reply is the JSON object after the "--> " prompt. */
	snprintf(line, sizeof(line), "{\"%.*s\"", (int)strcspn(cmd, ","), cmd);
	start = strstr(text, line);
	TEST_ASSERT_NOT_NULL(start, "telemetry answered %s: %s", cmd, text);
	end = strchr(start, '\n');
	j = vs_json_load(start, end != NULL ? (size_t)(end - start) : strlen(start), why,
			 sizeof(why));
	TEST_ASSERT_NOT_NULL(j, "%s: JSON: %s", cmd, why);
	*out = json_incref(json_object_iter_value(json_object_iter(j)));
	json_decref(j);
	TEST_ASSERT_NOT_NULL(*out, "%s: an answer", cmd);
	return TEST_SUCCESS;
}

/* "show port NAME" -> "/vswitch/show/port" */
static void
tel_name_of(const char *usage, char *out, size_t len)
{
	size_t n = snprintf(out, len, "/vswitch/");

	for (const char *u = usage; *u != '\0' && n + 1 < len; u++) {
		if (*u == ' ' && !(u[1] >= 'a' && u[1] <= 'z'))
			break;
		out[n++] = *u == ' ' ? '/' : *u == '-' ? '_' : *u;
	}
	out[n] = '\0';
}

/*
 * The engine's counters through DPDK telemetry, and every "show" command of
 * the management socket too, with the same figures.
 */
static int
body_telemetry(struct scene *s)
{
	char why[256], name[128];
	json_t *t, *r, *cmds;
	const json_t *p, *x;
	uint64_t w[MAX_VMS] = {0, 16}, v = 0;
	unsigned int shows = 0;
	size_t i;

	if (access("/usr/bin/dpdk-telemetry.py", X_OK) != 0)
		TEST_SKIP("dpdk-telemetry.py is not installed");
	scene_port(s, 0, NULL, false);
	scene_port(s, 1, NULL, false);
	TEST_ASSERT_SUCCESS(vt_vswitch_start(&s->sw, NULL, s->specs, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_RUN(start_vms(s, 2));
	TEST_RUN(step(s, 0, "ff:ff:ff:ff:ff:ff", 16, w, "traffic"));
	TEST_RUN(telemetry(s, "/vswitch/port,vm1", &t));
	TEST_ASSERT(vs_json_str(t, "name") != NULL && strcmp(vs_json_str(t, "name"), "vm1") == 0,
		    "vm1");
	TEST_ASSERT_SUCCESS(vs_json_u64(json_object_get(t, "rx_packets"), &v), "rx_packets");
	TEST_ASSERT_EQUAL(v, 16, "the same count as vswitchctl");
	json_decref(t);

	/* Every "show" command is a telemetry command. */
	TEST_RUN(telemetry(s, "/", &t));
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, &r, "help", NULL), 0, "help");
	cmds = json_object_get(r, "commands");
	json_array_foreach (cmds, i, x) {
		const char *usage = vs_json_str(x, "usage");
		bool listed = false;
		size_t k;
		const json_t *e;

		if (usage == NULL || strncmp(usage, "show ", 5) != 0)
			continue;
		tel_name_of(usage, name, sizeof(name));
		json_array_foreach (t, k, e)
			listed |= json_is_string(e) && strcmp(json_string_value(e), name) == 0;
		TEST_ASSERT(listed, "'%s' is in telemetry as %s", usage, name);
		shows++;
	}
	json_decref(r);
	json_decref(t);
	TEST_ASSERT(shows >= 6, "%u show commands", shows);

	/* show port through telemetry: the figures vswitchctl gives, drops by
	 * reason, queues (an array of objects: a dict keyed by index), the driver. */
	TEST_RUN(telemetry(s, "/vswitch/show/port,vm1", &t));
	TEST_ASSERT_EQUAL(vt_vswitch_ctl(&s->sw, &r, "show port vm1", NULL), 0, "show port");
	p = json_object_get(t, "port");
	TEST_ASSERT_NOT_NULL(p, "a port");
	TEST_ASSERT_EQUAL(vs_json_u64_of(p, "rx_packets"),
			  vs_json_u64_of(json_object_get(r, "port"), "rx_packets"), "rx_packets");
	TEST_ASSERT_EQUAL(vs_json_u64_of(json_object_get(p, "rx_drops"), "vlan"), 0, "rx_drops");
	TEST_ASSERT_NOT_NULL(json_object_get(json_object_get(p, "rxq"), "0"), "rx queue 0");
	TEST_ASSERT(json_is_object(json_object_get(p, "driver")), "the driver's state");
	TEST_ASSERT(json_object_get(t, "truncated") == NULL, "not truncated");
	json_decref(r);
	json_decref(t);
	TEST_RUN(telemetry(s, "/vswitch/show/port,nosuch", &t));
	TEST_ASSERT(strcmp(vs_json_str(t, "ok"), "false") == 0 && vs_json_str(t, "error") != NULL,
		    "an unknown port: the command's error");
	json_decref(t);
	TEST_RUN(telemetry(s, "/vswitch/show/log,vswitch.*", &t));
	TEST_ASSERT(strcmp(vs_json_str(t, "ok"), "true") == 0, "show log");
	json_decref(t);
	/* show mempool: the switch's pool, its mbufs counted (only this way in). */
	TEST_RUN(telemetry(s, "/vswitch/show/mempool", &t));
	p = json_object_get(json_object_get(t, "mempools"), "0");
	TEST_ASSERT(p != NULL && vs_json_str(p, "name") != NULL && vs_json_u64_of(p, "size") > 0 &&
			    vs_json_u64_of(p, "in_use") + vs_json_u64_of(p, "free") ==
				    vs_json_u64_of(p, "size"),
		    "show mempool: a pool, in use + free = size");
	json_decref(t);
	return TEST_SUCCESS;
}

static int
test_vswitch_exports_counters_through_telemetry(void)
{
	return with_scene(body_telemetry);
}
/* clang-format off */
REGISTER_TEST(vswitch_exports_counters_through_telemetry, interop, test_vswitch_exports_counters_through_telemetry)
/* clang-format on */
