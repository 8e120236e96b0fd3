/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash restart with a front-end that keeps an inflight area: the real
 * vswitch binary is SIGKILLed mid-burst and started again, many times,
 * under two guests made of lib/vhost's vhost-user front-end and lib/virtq's
 * driver side on memfds (test/drivers/vt_vu.h), which do what the spec asks
 * of a front-end (vhost-user "Inflight I/O tracking") and what QEMU's
 * vhost-user-blk does: negotiate INFLIGHT_SHMFD, take an area with
 * GET_INFLIGHT_FD once, send it with SET_INFLIGHT_FD on every connection,
 * and after a back-end crash connect again without resetting the rings
 * (split: base at the used index the ring shows; packed: the base the ring
 * started with, since no front-end can tell where a packed ring stopped).
 * The front-ends own the sockets (QEMU's chardev server=on); the switch's
 * ports are client=1.
 *
 * Guest A sends frames carrying a sequence number (vt_frame_fill(): every
 * byte derives from it) to guest B, at most WINDOW undelivered at a time
 * (B's ring never fills: nothing is dropped for lack of room). B counts
 * every number it receives. After each restart B connects first and A only
 * once B's port is up with a static FDB entry, so that nothing A queued
 * meets a port that is down. At each kill the test reads, in the areas,
 * how many chains the dead switch had taken and not returned (A's TX ring,
 * B's RX ring); the next switch reports those it took again.
 *
 * Checks: every frame A's driver accepted reached B as sent (a corrupted
 * frame fails), with the guarantee of the configuration (below); neither
 * driver saw a used element it had not posted or a length beyond it
 * (vq_drv_error: a chain returned twice breaks the ring); delivery never
 * paused for STALL_MS; at the end, with everything delivered and reaped,
 * every ring's region of the area holds no chain in flight and records the
 * ring's used position.
 *
 * What holds (doc/vswitch.md, "Restart and upgrade"):
 * - with --state-dir, split rings: exactly once. A TX chain is returned only
 *   once its frame was delivered, in a transaction journalled first; the
 *   journal's redo publishes a committed one, the inflight area then agrees
 *   (its last batch cleared) and holds what was taken and not committed.
 *   Instances alternate between one copy and the mbuf path.
 * - without it, one copy (the default): at least once. A's chain is
 *   returned after B's buffer was published, so a kill in between delivers
 *   the frame again from the chain the area still marks; none is lost.
 *   VT_INFLIGHT_NO_STATE=1 runs the split test that way (not in CI: it
 *   would cost as much again). The mbuf path without it returns A's chain
 *   before delivery: a kill loses up to a burst, whatever the area says.
 * - packed rings: the position comes from the area alone. Their TX returns
 *   are not held (vs_vhost_user_dev.c, r->hold), so --state-dir changes
 *   nothing for them: one copy gives at least once.
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "../drivers/vt_vu.h"
#include "test.h"
#include "vhost_user_conn.h"
#include "virtq_inflight.h"
#include "vt_harness.h"

#define KILLS	     20
#define RING	     256
#define WINDOW	     192
#define LEN	     128
#define MAX_FRAMES   (4u << 20)
#define STALL_MS     10000
#define WAIT_MS	     10000
#define KILL_LOOK_MS 100
#define MAC_B_STR    "02:00:00:00:00:02" /* vt_frame_fill()'s destination */

enum { GA, GB }; /* A sends, B receives */
static const char *const gname[2] = {"vma", "vmb"};
static const unsigned int busy_ring[2] = {1, 0}; /* A's TX ring, B's RX ring */

struct ifl_scene {
	struct vt_vswitch sw;
	struct vt_guest g[2];
	int lfd[2];
	bool inited[2];	 /* vt_guest_init() done */
	bool started[2]; /* rings set up once (later connections resume them) */
	bool conn[2];	 /* connected to the running switch */
	char sock[2][200], spec[2][400], state[200];
	const char *specs[3];
	const char *opts[5];
	bool packed, with_state;
	const char *onecopy; /* "0" or "1"; NULL: alternate */
	bool strict_dup;     /* a duplicate fails the test */
	unsigned int starts;
	/* traffic, main thread */
	uint8_t *count;
	uint64_t sent, distinct, received, bad, max_gap_ms;
	uint64_t marks[2];   /* chains the killed switches left taken: A's TX, B's RX */
	unsigned int caught; /* kills that left any */
	unsigned int resumes[2];
	/* between the controller and the main thread */
	volatile bool a_may_connect;
	volatile uint64_t a_resumed_at; /* distinct frames when A last connected */
	volatile bool done, failed;
	bool why_taken;
	char why[256];
	unsigned int kills;
	uint64_t retaken; /* chains the switches reported taken again (their log) */
	uint64_t restart_ms_sum, restart_ms_max;
};

static void fail(struct ifl_scene *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first failure of either thread says why. */
static void
fail(struct ifl_scene *s, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&s->why_taken, true, __ATOMIC_ACQ_REL))
		return;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->failed = true;
}

/* ---- the inflight area, as the front-end reads it ---- */

static unsigned int
area_marks(struct ifl_scene *s, unsigned int gi, unsigned int ring)
{
	const void *r = vt_guest_inflight_region(&s->g[gi], ring);
	unsigned int n = 0;

	for (unsigned int i = 0; r != NULL && i < RING; i++)
		n += s->packed ? ((const struct vq_inflight_packed *)r)->desc[i].inflight != 0
			       : ((const struct vq_inflight_split *)r)->desc[i].inflight != 0;
	return n;
}

/*
 * At the end (everything delivered and reaped): ring @p ring's region is
 * the ring's, holds no chain in flight, and its used position is the one
 * the driver reached.
 */
static int
area_quiet(struct ifl_scene *s, unsigned int gi, unsigned int ring)
{
	const void *r = vt_guest_inflight_region(&s->g[gi], ring);
	const struct vq_drv *q = &s->g[gi].ring[ring].q;

	TEST_ASSERT_NOT_NULL(r, "%s: an inflight area", gname[gi]);
	TEST_ASSERT_EQUAL(area_marks(s, gi, ring), 0, "%s ring %u: nothing left in flight",
			  gname[gi], ring);
	if (s->packed) {
		const struct vq_inflight_packed *p = r;

		TEST_ASSERT(p->version == VQ_INFLIGHT_VERSION && p->desc_num == RING,
			    "%s ring %u: region version %u, %u entries", gname[gi], ring,
			    p->version, p->desc_num);
		TEST_ASSERT(p->used_idx == p->old_used_idx &&
				    p->used_wrap_counter == p->old_used_wrap_counter,
			    "%s ring %u: no return half done", gname[gi], ring);
		TEST_ASSERT(p->used_idx == q->used_idx && p->used_wrap_counter == q->used_wrap,
			    "%s ring %u: region at %u/%u, driver at %u/%u", gname[gi], ring,
			    p->used_idx, p->used_wrap_counter, q->used_idx, q->used_wrap);
	} else {
		const struct vq_inflight_split *p = r;

		TEST_ASSERT(p->version == VQ_INFLIGHT_VERSION && p->desc_num == RING,
			    "%s ring %u: region version %u, %u entries", gname[gi], ring,
			    p->version, p->desc_num);
		TEST_ASSERT_EQUAL(p->used_idx, q->used_idx,
				  "%s ring %u: region used_idx %u, driver reaped up to %u",
				  gname[gi], ring, p->used_idx, q->used_idx);
	}
	return TEST_SUCCESS;
}

/* ---- the switch (controller thread) ---- */

static int
start_switch(struct ifl_scene *s)
{
	char why[256];

	s->opts[1] = s->onecopy != NULL ? s->onecopy : s->starts % 2 ? "0" : "1";
	s->starts++;
	if (vt_vswitch_start(&s->sw, NULL, s->specs, s->opts, why, sizeof(why)) != 0) {
		fail(s, "%s", why);
		return -1;
	}
	return 0;
}

/* Chains the instance says it took again from an inflight area (its log). */
static uint64_t
retaken(struct ifl_scene *s)
{
	char *out = vt_proc_output(&s->sw.proc);
	uint64_t n = 0;

	for (const char *p = out; p != NULL && (p = strstr(p, "ring ")) != NULL; p++) {
		unsigned int ring, k;
		int end = 0;

		if (sscanf(p, "ring %u: %u chains in flight taken again%n", &ring, &k, &end) == 2 &&
		    end > 0)
			n += k;
	}
	free(out);
	return n;
}

/* B up with a static entry, then A may connect; waits for A and for traffic. */
static int
ports_up(struct ifl_scene *s)
{
	uint64_t end = vt_now_ms() + WAIT_MS;

	if (vt_vswitch_wait_up(&s->sw, "vmb", WAIT_MS) != 0 ||
	    vt_vswitch_ctl(&s->sw, NULL, "fdb add " MAC_B_STR, "vmb") != 0) {
		fail(s, "vmb did not come up");
		return -1;
	}
	s->a_resumed_at = UINT64_MAX;
	s->a_may_connect = true;
	while (s->a_resumed_at == UINT64_MAX && !s->failed && vt_now_ms() < end)
		usleep(2000);
	if (s->a_resumed_at == UINT64_MAX) {
		fail(s, "vma did not connect");
		return -1;
	}
	return 0;
}

/* Waits until a window's worth was delivered since A connected. */
static void
wait_traffic(struct ifl_scene *s)
{
	uint64_t end = vt_now_ms() + WAIT_MS;

	while (!s->failed &&
	       __atomic_load_n(&s->distinct, __ATOMIC_RELAXED) < s->a_resumed_at + WINDOW &&
	       vt_now_ms() < end)
		usleep(2000);
}

/*
 * SIGKILL, at a moment the areas show chains the switch took and has not
 * returned, if one comes within KILL_LOOK_MS (a kill mid-burst: the
 * moments between bursts, when a kill tests nothing, are most of the time).
 */
static uint64_t
kill_mid_burst(struct ifl_scene *s)
{
	uint64_t now, end = vt_now_ms() + KILL_LOOK_MS;

	while (area_marks(s, GA, busy_ring[GA]) + area_marks(s, GB, busy_ring[GB]) == 0 &&
	       vt_now_ms() < end)
		;
	kill(s->sw.proc.pid, SIGKILL);
	now = vt_now_ms();
	vt_vswitch_kill(&s->sw); /* reaps it */
	return now;
}

static void *
controller(void *arg)
{
	struct ifl_scene *s = arg;

	if (ports_up(s) != 0)
		goto out;
	for (unsigned int k = 0; k < KILLS && !s->failed; k++) {
		uint64_t t0;

		/* Traffic flows, then the switch dies in mid-stream. */
		wait_traffic(s);
		usleep((useconds_t)(rand() % 50000));
		s->a_may_connect = false;
		s->retaken += retaken(s);
		t0 = kill_mid_burst(s);
		s->kills++;
		/* The switch is gone: what it left taken is final. */
		for (unsigned int i = 0; i < 2; i++) {
			unsigned int m = area_marks(s, i, busy_ring[i]);

			s->marks[i] += m;
			s->caught += m > 0 && (i == GA || area_marks(s, GA, busy_ring[GA]) == 0);
		}
		if (start_switch(s) != 0 || ports_up(s) != 0) {
			vt_vswitch_dump(&s->sw);
			break;
		}
		t0 = vt_now_ms() - t0;
		s->restart_ms_sum += t0;
		if (t0 > s->restart_ms_max)
			s->restart_ms_max = t0;
	}
	wait_traffic(s);
out:
	s->retaken += retaken(s);
	s->done = true;
	return NULL;
}

/* ---- the guests (main thread) ---- */

/* A connection that closed: the switch died (or dropped it). */
static void
hang_ups(struct ifl_scene *s)
{
	for (unsigned int i = 0; i < 2; i++) {
		if (!s->conn[i] || !vt_guest_hung_up(&s->g[i]))
			continue;
		s->conn[i] = false;
	}
}

/* Takes the switch's pending connection to guest @p i, if any. */
static void
accept_switch(struct ifl_scene *s, unsigned int i)
{
	struct pollfd p = {.fd = s->lfd[i], .events = POLLIN};
	int fd, rc;

	if (s->conn[i] || poll(&p, 1, 0) <= 0)
		return;
	fd = vh_user_accept(s->lfd[i]);
	if (fd < 0) {
		fail(s, "%s: accept: %s", gname[i], strerror(-fd));
		return;
	}
	rc = s->started[i] ? vt_guest_resume_fd(&s->g[i], fd) : vt_guest_connect_fd(&s->g[i], fd);
	if (rc != 0) {
		fail(s, "%s: the front-end cannot connect: %s", gname[i], strerror(-rc));
		return;
	}
	s->resumes[i] += s->started[i];
	s->started[i] = s->conn[i] = true;
	if (i == GA)
		s->a_resumed_at = s->distinct;
}

static unsigned int
receive(struct ifl_scene *s)
{
	static uint8_t f[VT_FRAME_MAX];
	struct virtio_net_hdr_mrg_rxbuf h;
	unsigned int n = 0;
	uint32_t len;
	int rc;

	/* A guest's rings exist once it connected the first time. */
	if (!s->started[GB] || !s->started[GA])
		return 0;
	while ((rc = vt_guest_recv(&s->g[GB], 0, &h, f, sizeof(f), &len)) != 0) {
		int64_t seq = rc == 1 ? vt_frame_check(f, len) : -1;

		n++;
		if (seq < 0 || (uint64_t)seq >= s->sent) {
			s->bad++;
			continue;
		}
		s->received++;
		if (s->count[seq] == 0)
			__atomic_store_n(&s->distinct, s->distinct + 1, __ATOMIC_RELAXED);
		if (s->count[seq] < 255)
			s->count[seq]++;
	}
	vt_guest_fill_rx(&s->g[GB], 0);
	/* A receives nothing (B's station is static); its buffers go back. */
	while (vt_guest_recv(&s->g[GA], 0, &h, f, sizeof(f), &len) != 0)
		;
	vt_guest_fill_rx(&s->g[GA], 0);
	return n;
}

/* A posts frames while the window allows, whether or not a switch is there. */
static unsigned int
send_some(struct ifl_scene *s)
{
	static uint8_t f[LEN];
	unsigned int n = 0;

	if (!s->started[GA])
		return 0;
	vt_guest_reap_tx(&s->g[GA], 0);
	while (!s->done && s->sent < MAX_FRAMES && s->sent - s->distinct < WINDOW && n < 32) {
		vt_frame_fill(f, LEN, (uint32_t)s->sent);
		if (vt_guest_send(&s->g[GA], 0, f, LEN, NULL, VT_TX_ONE) != 0)
			break;
		s->sent++;
		n++;
	}
	return n;
}

/* A used element the driver never posted (a chain returned twice), or too long. */
static int
ring_errors(struct ifl_scene *s)
{
	for (unsigned int i = 0; i < 2 && s->started[i]; i++) {
		for (unsigned int r = 0; r < 2; r++) {
			int err = vq_drv_error(&s->g[i].ring[r].q);

			if (err != 0) {
				fail(s, "%s ring %u: the switch broke it: %s", gname[i], r,
				     strerror(-err));
				return -1;
			}
		}
	}
	return 0;
}

static bool
all_back(struct ifl_scene *s)
{
	return s->distinct >= s->sent && vq_drv_inflight(&s->g[GA].ring[1].q) == 0;
}

static void
traffic(struct ifl_scene *s)
{
	uint64_t last = vt_now_ms();
	uint64_t seen = 0;

	while (!s->failed) {
		uint64_t now = vt_now_ms();

		hang_ups(s);
		accept_switch(s, GB);
		if (s->a_may_connect)
			accept_switch(s, GA);
		receive(s);
		send_some(s);
		if (ring_errors(s) != 0)
			return;
		if (!s->conn[GA] || !s->conn[GB]) {
			/* No switch: a ring cannot stall, and a busy loop here
			 * would only slow the dying one (its worker's CPU is shared). */
			last = now;
			usleep(1000);
		} else if (s->distinct != seen) {
			if (now - last > s->max_gap_ms)
				s->max_gap_ms = now - last;
			seen = s->distinct;
			last = now;
		} else if (now - last > STALL_MS) {
			fail(s,
			     "delivery stalled for %d ms%s (%" PRIu64 " of %" PRIu64 " delivered)",
			     STALL_MS, s->done ? " at the end" : "", s->distinct, s->sent);
			return;
		}
		if (s->done && all_back(s))
			return;
	}
}

/* ---- the scene ---- */

static int
verify(struct ifl_scene *s, bool strict)
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
	printf("crash restart, inflight front-end (%s, %s, %s): %u kills (SIGKILL), %" PRIu64
	       " frames sent, %" PRIu64 " received: %" PRIu64 " lost, %" PRIu64
	       " duplicated (%" PRIu64 " extra copies), %" PRIu64
	       " bad; %u kills left chains taken (%" PRIu64 " of A's TX ring, %" PRIu64
	       " of B's RX ring), %" PRIu64 " taken again by the next switch; reconnects %u/%u; "
	       "longest pause in delivery %" PRIu64 " ms; restart to both ports up %" PRIu64
	       " ms on average, %" PRIu64 " at most\n",
	       s->packed ? "packed" : "split", s->with_state ? "--state-dir" : "no --state-dir",
	       s->onecopy == NULL	      ? "one copy and mbuf path alternating"
	       : strcmp(s->onecopy, "1") == 0 ? "one copy"
					      : "mbuf path",
	       s->kills, s->sent, s->received, lost, dup, extra, s->bad, s->caught, s->marks[GA],
	       s->marks[GB], s->retaken, s->resumes[GA], s->resumes[GB], s->max_gap_ms,
	       s->kills ? s->restart_ms_sum / s->kills : 0, s->restart_ms_max);
	if (!strict)
		return TEST_SUCCESS;
	TEST_ASSERT_EQUAL(s->kills, KILLS, "every kill and restart happened");
	TEST_ASSERT_EQUAL(s->bad, 0, "every frame arrived as sent");
	TEST_ASSERT_EQUAL(lost, 0, "no frame A's driver accepted is lost");
	if (s->strict_dup)
		TEST_ASSERT_EQUAL(dup, 0, "no frame is delivered twice");
	TEST_ASSERT(s->sent >= (uint64_t)KILLS * WINDOW, "traffic flowed (%" PRIu64 " frames)",
		    s->sent);
	for (unsigned int i = 0; i < 2; i++)
		for (unsigned int r = 0; r < 2; r++)
			TEST_RUN(area_quiet(s, i, r));
	return TEST_SUCCESS;
}

static int
guests_init(struct ifl_scene *s)
{
	const struct vt_guest_cfg gc = {
		.queues = 1,
		.ring_size = RING,
		.features = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			    (s->packed ? 1ULL << VIRTIO_F_RING_PACKED : 0),
		.buf_size = 2048,
		.inflight = true,
	};

	for (unsigned int i = 0; i < 2; i++) {
		char file[64];
		int rc = vt_guest_init(&s->g[i], &gc);

		s->inited[i] = true; /* vt_guest_fini() undoes any part of it */
		TEST_ASSERT_SUCCESS(rc, "guest %s", gname[i]);
		snprintf(file, sizeof(file), "ifl-%s.sock", gname[i]);
		vt_path(s->sock[i], sizeof(s->sock[i]), file);
		unlink(s->sock[i]);
		/* The front-end owns the socket, as QEMU's chardev server=on. */
		s->lfd[i] = vh_user_listen(s->sock[i]);
		TEST_ASSERT(s->lfd[i] >= 0, "listen on %s", s->sock[i]);
		snprintf(s->spec[i], sizeof(s->spec[i]), "vhost-user,path=%s,client=1,name=%s",
			 s->sock[i], gname[i]);
		s->specs[i] = s->spec[i];
	}
	return TEST_SUCCESS;
}

static int
run(struct ifl_scene *s)
{
	pthread_t ctl;

	vt_path(s->state, sizeof(s->state), "ifl-state");
	vt_rm_tree(s->state);
	TEST_ASSERT_SUCCESS(mkdir(s->state, 0700), "mkdir %s", s->state);
	TEST_RUN(guests_init(s));
	s->opts[0] = "--one-copy";
	s->opts[2] = s->with_state ? "--state-dir" : NULL;
	s->opts[3] = s->state;
	s->count = calloc(MAX_FRAMES, 1);
	TEST_ASSERT_NOT_NULL(s->count, "counters");
	TEST_ASSERT_SUCCESS(start_switch(s), "%s", s->why);
	TEST_ASSERT_SUCCESS(pthread_create(&ctl, NULL, controller, s), "controller");
	traffic(s);
	s->failed |= !s->done;
	s->done = true;
	pthread_join(ctl, NULL);
	if (s->failed) {
		vt_vswitch_dump(&s->sw);
		verify(s, false);
		TEST_ASSERT(false, "%s", s->why);
	}
	return verify(s, true);
}

static int
crash_restarts(bool packed, bool with_state, const char *onecopy, bool strict_dup)
{
	struct ifl_scene *s;
	char why[256];
	int rc;

	if (!vt_interop_ready(why, sizeof(why)))
		TEST_SKIP("%s", why);
	s = calloc(1, sizeof(*s));
	TEST_ASSERT_NOT_NULL(s, "scene");
	s->lfd[0] = s->lfd[1] = -1;
	s->packed = packed;
	s->with_state = with_state;
	s->onecopy =
		getenv("VT_INFLIGHT_ONECOPY") != NULL ? getenv("VT_INFLIGHT_ONECOPY") : onecopy;
	s->strict_dup = strict_dup;
	srand((unsigned int)getpid());
	rc = run(s);
	if (s->sw.running)
		vt_vswitch_stop(&s->sw, SIGTERM);
	for (unsigned int i = 0; i < 2; i++) {
		if (s->inited[i])
			vt_guest_fini(&s->g[i]);
		if (s->lfd[i] >= 0)
			close(s->lfd[i]);
		unlink(s->sock[i]);
	}
	vt_rm_tree(s->state);
	free(s->count);
	free(s);
	return rc;
}

/* VT_INFLIGHT_NO_STATE=1: without --state-dir, one copy: at least once. */
static int
test_inflight_split(void)
{
	if (getenv("VT_INFLIGHT_NO_STATE") != NULL)
		return crash_restarts(false, false, "1", false);
	return crash_restarts(false, true, NULL, true);
}
/* clang-format off */
REGISTER_TEST(vswitch_crash_restart_inflight_frontend_split_exactly_once, interop, test_inflight_split)
/* clang-format on */

static int
test_inflight_packed(void)
{
	return crash_restarts(true, true, "1", false);
}
/* clang-format off */
REGISTER_TEST(vswitch_crash_restart_inflight_frontend_packed_at_least_once, interop, test_inflight_packed)
/* clang-format on */
