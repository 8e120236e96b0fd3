/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash restart without loss: the real vswitch binary is killed with
 * SIGKILL while frames stream through it, and started again, many times.
 *
 * The two VMs are DPDK's net_virtio_user front-end (the PMD testpmd uses)
 * in this process, in server mode (they own the sockets and take the
 * switch back when it reconnects); the switch's ports are client=1 and
 * it keeps its crash-restart state in a directory (--state-dir). VM A
 * sends 64-byte frames carrying a sequence number to VM B; B counts each
 * number it receives. At the end every number A's PMD accepted must have
 * arrived exactly once. Instances alternate between one copy from guest
 * to guest (the default) and forwarding through mbufs (--one-copy 0).
 *
 * What the test arranges so that nothing is dropped by policy: the sender
 * keeps at most WINDOW frames in flight (B's ring never fills, so the switch
 * never drops for lack of room), and after each restart B's port is
 * configured first and A's is added (vswitchctl add-port) only once B is
 * up (frames A queued meanwhile would otherwise meet a port that is still
 * down and be dropped, as on any switch that starts). Everything else is
 * what a crash does: frames taken from A's ring and not yet delivered,
 * frames delivered but whose A chains were not yet returned, B buffers
 * filled but not yet published.
 *
 * VT_RESTART_NO_STATE=1 runs the same without --state-dir (to see what the
 * crash costs without it); the test then reports losses and duplicates
 * instead of failing on them (a stall still fails it: lost frames fill the
 * window). VT_RESTART_ONECOPY=0|1 uses one path only.
 *
 * The variant through testpmd puts the dpdk-testpmd binary's own
 * net_virtio_user ports (server mode, `set fwd mac`) on the path: A sends
 * to testpmd's port 0 (T0), testpmd forwards each frame out of its port 1
 * (T1) to B. Every frame crosses the switch twice and testpmd's rings
 * across every kill; B still counts sequence numbers, so a frame lost or
 * doubled anywhere (switch or testpmd) fails the test. The ports come up
 * in the order the frames flow backwards (B, T0, T1, then A), each
 * destination with a static FDB entry before its source is added, so that
 * nothing meets a port that is down or is flooded (a flooded copy would
 * come back through testpmd as a second delivery).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "../drivers/vt_testpmd.h"
#include "test.h"
#include "test_eal.h"
#include "vt_harness.h"

#define KILLS	    20
#define WINDOW	    512
#define RING	    1024
#define MAX_FRAMES  (16u << 20)
#define ETHER_TYPE  0x88b5 /* IEEE local experimental */
#define FRAME_MAGIC 0x5653524553545254ULL
#define STALL_MS    15000
/* Through testpmd: its rings have 256 entries (vt_testpmd.c), a frame may
 * take two descriptors: the window keeps testpmd from ever dropping. */
#define WINDOW_TPMD 96

static const struct rte_ether_addr mac_a = {{0x02, 0, 0, 0, 0xa, 0x01}};
static const struct rte_ether_addr mac_b = {{0x02, 0, 0, 0, 0xb, 0x02}};
static const struct rte_ether_addr mac_t0 = {{0x02, 0, 0, 0, 0xc, 0x01}};
#define MAC_A_STR  "02:00:00:00:0a:01" /* testpmd's peer for port 0 (nothing goes there) */
#define MAC_B_STR  "02:00:00:00:0b:02"
#define MAC_T0_STR "02:00:00:00:0c:01"
#define MAC_T1_STR "02:00:00:00:0c:02"

struct payload {
	uint64_t magic;
	uint64_t seq;
};

struct restart_scene {
	struct vt_vswitch sw;
	char sock_a[200], sock_b[200], state[200];
	char spec_a[400], spec_b[400];
	/* through testpmd */
	bool via_testpmd;
	struct vt_testpmd pmd;
	char sock_t[2][200], spec_t[2][400];
	unsigned int window;
	const char *specs[2];
	const char *opts[5];
	unsigned int starts;
	uint16_t port_a, port_b;
	struct rte_mempool *mp;
	/* traffic, main thread */
	uint8_t *count;
	uint64_t sent, received, max_gap_ms;
	/* the controller thread */
	volatile bool done;
	volatile bool failed;
	char why[256];
	unsigned int kills;
	uint64_t restart_ms_max, restart_ms_sum;
};

static int
start_switch(struct restart_scene *s)
{
	char why[256];

	/* Every other instance forwards through mbufs instead of copying
	 * from guest to guest: both paths hold and journal their returns. */
	s->opts[1] = s->starts++ % 2 ? "0" : "1";
	if (getenv("VT_RESTART_ONECOPY") != NULL)
		s->opts[1] = getenv("VT_RESTART_ONECOPY");

	if (vt_vswitch_start(&s->sw, NULL, s->specs, s->opts, why, sizeof(why)) != 0) {
		snprintf(s->why, sizeof(s->why), "%s", why);
		return -1;
	}
	return 0;
}

/* Port @p name is up, then @p mac is on it for good (a static entry). */
static int
up_with_station(struct restart_scene *s, const char *name, const char *mac)
{
	char cmd[64];

	if (vt_vswitch_wait_up(&s->sw, name, 20000) != 0) {
		snprintf(s->why, sizeof(s->why), "%s did not come up", name);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "fdb add %s", mac != NULL ? mac : "");
	if (mac != NULL && vt_vswitch_ctl(&s->sw, NULL, cmd, name) != 0) {
		snprintf(s->why, sizeof(s->why), "fdb add %s %s failed", mac, name);
		return -1;
	}
	return 0;
}

/*
 * testpmd's ports, T0 then T1, each once the port its frames go to is up.
 * The first time both at once: testpmd starts its ports only once both
 * are connected (and nothing is in flight yet).
 */
static int
connect_testpmd(struct restart_scene *s)
{
	const bool first = s->starts == 1;

	if (up_with_station(s, "vmb", MAC_B_STR) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (vt_vswitch_ctl(&s->sw, NULL, "add-port", s->spec_t[i]) != 0) {
			snprintf(s->why, sizeof(s->why), "add-port %.200s failed", s->spec_t[i]);
			return -1;
		}
		if (!first &&
		    up_with_station(s, i == 0 ? "vmt0" : "vmt1", i == 0 ? MAC_T0_STR : NULL) != 0)
			return -1;
	}
	if (first &&
	    (up_with_station(s, "vmt0", MAC_T0_STR) != 0 || up_with_station(s, "vmt1", NULL) != 0))
		return -1;
	return 0;
}

/* B is up before A is added: nothing A sends meets a port that is down. */
static int
connect_a(struct restart_scene *s)
{
	if (s->via_testpmd ? connect_testpmd(s) != 0 : up_with_station(s, "vmb", NULL) != 0)
		return -1;
	if (vt_vswitch_ctl(&s->sw, NULL, "add-port", s->spec_a) != 0) {
		snprintf(s->why, sizeof(s->why), "add-port %.200s failed", s->spec_a);
		return -1;
	}
	return 0;
}

static int
wait_a(struct restart_scene *s)
{
	return up_with_station(s, "vma", NULL);
}

static void *
controller(void *arg)
{
	struct restart_scene *s = arg;

	for (unsigned int k = 0; k < KILLS && !s->failed; k++) {
		uint64_t t0;

		/* Traffic flows for 100..400 ms, then the switch dies mid-burst. */
		usleep((useconds_t)(100000 + rand() % 300000));
		vt_vswitch_kill(&s->sw);
		s->kills++;
		t0 = vt_now_ms();
		if (start_switch(s) != 0 || connect_a(s) != 0 || wait_a(s) != 0) {
			vt_vswitch_dump(&s->sw);
			s->failed = true;
			break;
		}
		t0 = vt_now_ms() - t0;
		s->restart_ms_sum += t0;
		if (t0 > s->restart_ms_max)
			s->restart_ms_max = t0;
	}
	usleep(200000);
	s->done = true;
	return NULL;
}

static int
port_setup(struct restart_scene *s, const char *name, const char *sock,
	   const struct rte_ether_addr *mac, uint16_t *id)
{
	struct rte_eth_conf conf = {0};
	char args[400];

	snprintf(args, sizeof(args),
		 "path=%s,server=1,queues=1,queue_size=%u,mac=%02x:%02x:%02x:%02x:%02x:%02x", sock,
		 RING, mac->addr_bytes[0], mac->addr_bytes[1], mac->addr_bytes[2],
		 mac->addr_bytes[3], mac->addr_bytes[4], mac->addr_bytes[5]);
	/* Returns once the switch connected (server mode waits for it). */
	TEST_ASSERT_SUCCESS(rte_vdev_init(name, args), "%s: %s", name, args);
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(name, id), "%s", name);
	/* Link-state interrupts: how net_virtio_user notices the switch left
	 * and takes the next one. */
	conf.intr_conf.lsc = 1;
	TEST_ASSERT_SUCCESS(rte_eth_dev_configure(*id, 1, 1, &conf), "configure %s", name);
	TEST_ASSERT_SUCCESS(rte_eth_rx_queue_setup(*id, 0, RING, SOCKET_ID_ANY, NULL, s->mp),
			    "rxq %s", name);
	TEST_ASSERT_SUCCESS(rte_eth_tx_queue_setup(*id, 0, RING, SOCKET_ID_ANY, NULL), "txq %s",
			    name);
	TEST_ASSERT_SUCCESS(rte_eth_dev_start(*id), "start %s", name);
	return TEST_SUCCESS;
}

static struct rte_mbuf *
frame(struct restart_scene *s, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
      uint64_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);
	struct rte_ether_hdr *eh;
	struct payload *pl;

	if (m == NULL)
		return NULL;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 64);
	eh->dst_addr = *dst;
	eh->src_addr = *src;
	eh->ether_type = rte_cpu_to_be_16(ETHER_TYPE);
	pl = (struct payload *)(eh + 1);
	pl->magic = FRAME_MAGIC;
	pl->seq = seq;
	memset(pl + 1, 0, 64 - sizeof(*eh) - sizeof(*pl));
	return m;
}

/* Counts what B received; returns how many frames came. */
static unsigned int
receive(struct restart_scene *s)
{
	struct rte_mbuf *pkts[32];
	uint16_t n = rte_eth_rx_burst(s->port_b, 0, pkts, 32);

	for (uint16_t i = 0; i < n; i++) {
		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
		const struct payload *pl = (const struct payload *)(eh + 1);

		if (pkts[i]->data_len >= sizeof(*eh) + sizeof(*pl) &&
		    eh->ether_type == rte_cpu_to_be_16(ETHER_TYPE) && pl->magic == FRAME_MAGIC &&
		    pl->seq < MAX_FRAMES) {
			if (s->count[pl->seq] < 255)
				s->count[pl->seq]++;
			s->received++;
		}
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

/* Sends up to the window; returns how many A's PMD took. */
static unsigned int
send_some(struct restart_scene *s)
{
	struct rte_mbuf *pkts[32];
	unsigned int want, n = 0;
	uint16_t sent;

	if (s->sent >= MAX_FRAMES || s->sent - s->received >= s->window)
		return 0;
	want = (unsigned int)RTE_MIN(32u, s->window - (s->sent - s->received));
	for (; n < want; n++) {
		pkts[n] = frame(s, s->via_testpmd ? &mac_t0 : &mac_b, &mac_a, s->sent + n);
		if (pkts[n] == NULL)
			break;
	}
	sent = rte_eth_tx_burst(s->port_a, 0, pkts, (uint16_t)n);
	for (unsigned int i = sent; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	s->sent += sent;
	return sent;
}

/* B says where it is now and then, so the switch learns it (unicast). */
static void
announce_b(struct restart_scene *s)
{
	struct rte_mbuf *pkts[32], *m = frame(s, &mac_a, &mac_b, UINT64_MAX);
	uint16_t n;

	if (m != NULL && rte_eth_tx_burst(s->port_b, 0, &m, 1) == 0)
		rte_pktmbuf_free(m);
	n = rte_eth_rx_burst(s->port_a, 0, pkts, 32);
	rte_pktmbuf_free_bulk(pkts, n);
}

static void
traffic(struct restart_scene *s, bool sending)
{
	uint64_t last = vt_now_ms(), last_announce = 0;

	for (;;) {
		uint64_t now = vt_now_ms();
		unsigned int moved = receive(s);

		if (sending && !s->done)
			moved += send_some(s);
		/* Through testpmd every station is static: B need not announce
		 * (and a flooded announcement would circle through testpmd). */
		if (!s->via_testpmd && now - last_announce >= 100) {
			announce_b(s);
			last_announce = now;
		}
		if (moved > 0) {
			if (now - last > s->max_gap_ms)
				s->max_gap_ms = now - last;
			last = now;
		} else if (now - last > STALL_MS || s->failed) {
			return;
		}
		if (s->done && s->received >= s->sent)
			return;
	}
}

static int
verify(struct restart_scene *s, bool strict)
{
	uint64_t dup = 0, lost = 0, extra = 0;

	for (uint64_t i = 0; i < s->sent; i++) {
		if (s->count[i] == 0)
			lost++;
		else if (s->count[i] > 1) {
			dup++;
			extra += s->count[i] - 1u;
		}
	}
	printf("crash restart%s: %u kills (SIGKILL), %" PRIu64 " frames sent, %" PRIu64
	       " received: %" PRIu64 " lost, %" PRIu64 " duplicated (%" PRIu64
	       " extra copies); longest pause in delivery %" PRIu64
	       " ms; restart to every port up %" PRIu64 " ms on average, %" PRIu64 " at most\n",
	       s->via_testpmd ? " through testpmd" : "", s->kills, s->sent, s->received, lost, dup,
	       extra, s->max_gap_ms, s->kills ? s->restart_ms_sum / s->kills : 0,
	       s->restart_ms_max);
	if (!strict)
		return TEST_SUCCESS;
	TEST_ASSERT_EQUAL(s->kills, KILLS, "every kill and restart happened");
	TEST_ASSERT_EQUAL(lost, 0, "no frame the switch took is lost");
	TEST_ASSERT_EQUAL(dup, 0, "no frame is delivered twice");
	/* At least a window per kill on average: traffic flowed between kills. */
	TEST_ASSERT(s->sent >= (uint64_t)KILLS * s->window, "traffic flowed (%" PRIu64 " frames)",
		    s->sent);
	return TEST_SUCCESS;
}

/* testpmd with two net_virtio_user ports in server mode (the switch connects to them). */
static int
testpmd_up(struct restart_scene *s)
{
	struct vt_vdev v[2] = {
		{.path = s->sock_t[0], .queues = 1, .server = true, .mac = MAC_T0_STR},
		{.path = s->sock_t[1], .queues = 1, .server = true, .mac = MAC_T1_STR},
	};

	for (int i = 0; i < 2; i++) {
		char file[32];

		snprintf(file, sizeof(file), "restart-t%d.sock", i);
		vt_path(s->sock_t[i], sizeof(s->sock_t[i]), file);
		snprintf(s->spec_t[i], sizeof(s->spec_t[i]),
			 "vhost-user,path=%s,client=1,name=vmt%d", s->sock_t[i], i);
	}
	TEST_ASSERT_SUCCESS(vt_testpmd_start(&s->pmd, "restart", v, 2, NULL, 0), "testpmd");
	return TEST_SUCCESS;
}

/* Port 0 to port 1 (and back), addresses rewritten: to B, and to A. */
static int
testpmd_forwards(struct restart_scene *s)
{
	static const char *const cmds[] = {"set fwd mac", "set eth-peer 0 " MAC_A_STR,
					   "set eth-peer 1 " MAC_B_STR, "start"};

	TEST_ASSERT_SUCCESS(vt_testpmd_wait_ready(&s->pmd, 30000), "testpmd ready");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		TEST_ASSERT_SUCCESS(vt_testpmd_cmd(&s->pmd, cmds[i], 5000), "testpmd: %s", cmds[i]);
	return TEST_SUCCESS;
}

static int
run(struct restart_scene *s, bool with_state)
{
	pthread_t ctl;
	char why[256];

	vt_path(s->sock_a, sizeof(s->sock_a), "restart-a.sock");
	vt_path(s->sock_b, sizeof(s->sock_b), "restart-b.sock");
	vt_path(s->state, sizeof(s->state), "restart-state");
	vt_rm_tree(s->state);
	TEST_ASSERT_SUCCESS(mkdir(s->state, 0700), "mkdir %s", s->state);
	snprintf(s->spec_a, sizeof(s->spec_a), "vhost-user,path=%s,client=1,name=vma", s->sock_a);
	snprintf(s->spec_b, sizeof(s->spec_b), "vhost-user,path=%s,client=1,name=vmb", s->sock_b);
	s->specs[0] = s->spec_b;
	s->specs[1] = NULL;
	s->opts[0] = "--one-copy";
	s->opts[1] = "1"; /* start_switch() alternates */
	s->opts[2] = with_state ? "--state-dir" : NULL;
	s->opts[3] = s->state;
	s->opts[4] = NULL;
	s->mp = rte_pktmbuf_pool_create("restart_mp", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					SOCKET_ID_ANY);
	TEST_ASSERT_NOT_NULL(s->mp, "mbuf pool");
	s->count = calloc(MAX_FRAMES, 1);
	TEST_ASSERT_NOT_NULL(s->count, "counters");
	s->window = s->via_testpmd ? WINDOW_TPMD : WINDOW;
	/* The switch first: each PMD's start waits for it to connect. */
	TEST_ASSERT_SUCCESS(start_switch(s), "%s", s->why);
	TEST_RUN(port_setup(s, "net_virtio_user0", s->sock_b, &mac_b, &s->port_b));
	if (s->via_testpmd)
		TEST_RUN(testpmd_up(s));
	TEST_ASSERT_SUCCESS(connect_a(s), "%s", s->why);
	if (s->via_testpmd)
		TEST_RUN(testpmd_forwards(s));
	TEST_RUN(port_setup(s, "net_virtio_user1", s->sock_a, &mac_a, &s->port_a));
	TEST_ASSERT_SUCCESS(wait_a(s), "%s", s->why);
	TEST_ASSERT_SUCCESS(pthread_create(&ctl, NULL, controller, s), "controller");
	traffic(s, true);
	if (!s->done)
		snprintf(why, sizeof(why),
			 "delivery stalled for %d ms (received %" PRIu64 " of %" PRIu64 ")",
			 STALL_MS, s->received, s->sent);
	s->failed |= !s->done;
	s->done = true;
	pthread_join(ctl, NULL);
	if (s->failed) {
		vt_vswitch_dump(&s->sw);
		if (s->via_testpmd)
			vt_testpmd_dump(&s->pmd);
		verify(s, false);
		TEST_ASSERT(false, "%s", s->why[0] ? s->why : why);
	}
	return verify(s, with_state);
}

static int
crash_restarts(bool via_testpmd)
{
	static const char *const extra[] = {"--single-file-segments", NULL};
	struct restart_scene *s;
	char why[256];
	int rc;

	if (!vt_interop_ready(why, sizeof(why)))
		TEST_SKIP("%s", why);
	if (via_testpmd && !vt_testpmd_usable(why, sizeof(why)))
		TEST_SKIP("%s", why);
	if (vt_eal_init_args("restart", extra, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	s = calloc(1, sizeof(*s));
	TEST_ASSERT_NOT_NULL(s, "scene");
	s->via_testpmd = via_testpmd;
	srand((unsigned int)getpid());
	rc = run(s, getenv("VT_RESTART_NO_STATE") == NULL);
	s->done = true;
	if (via_testpmd) {
		vt_testpmd_stop(&s->pmd);
		unlink(s->sock_t[0]);
		unlink(s->sock_t[1]);
	}
	if (s->sw.running)
		vt_vswitch_stop(&s->sw, SIGTERM);
	if (s->port_a != s->port_b) {
		rte_eth_dev_stop(s->port_a);
		rte_eth_dev_stop(s->port_b);
	}
	rte_vdev_uninit("net_virtio_user1");
	rte_vdev_uninit("net_virtio_user0");
	unlink(s->sock_a);
	unlink(s->sock_b);
	vt_rm_tree(s->state);
	free(s->count);
	rte_mempool_free(s->mp);
	free(s);
	return rc;
}

static int
test_vswitch_crash_restart_delivers_exactly_once(void)
{
	return crash_restarts(false);
}
/* clang-format off */
REGISTER_TEST(vswitch_crash_restart_delivers_exactly_once, interop, test_vswitch_crash_restart_delivers_exactly_once)
/* clang-format on */

static int
test_vswitch_crash_restart_through_testpmd(void)
{
	return crash_restarts(true);
}
/* clang-format off */
REGISTER_TEST(vswitch_crash_restart_delivers_exactly_once_through_testpmd, interop, test_vswitch_crash_restart_through_testpmd)
/* clang-format on */
