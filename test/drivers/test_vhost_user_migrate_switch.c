/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live migration through the engine: the dirty log of the guests while the
 * switch forwards between them, on both of its paths between VM ports (one
 * copy from the sender's buffers into the receiver's, and the mbuf path).
 *
 * The engine (manual mode, one worker) has two vhost-user ports; two guests
 * of our own (lib/vhost front-end, lib/virtq driver side) are connected. In
 * each round both guests post frames of 60 to 9000 bytes in every transmit
 * layout to each other; then, with a copy of both guests' memory taken and
 * the logs cleared, the worker forwards them; afterwards every byte the
 * switch changed in a logging guest's memory (receive buffers, headers and
 * num_buffers, used rings of both directions, event suppression) must lie in
 * a page marked in that guest's log, a guest that does not log must have an
 * empty log, and every frame must arrive whole and in order.
 *
 * First guest 0 alone logs, as QEMU does on running rings: the frames it
 * sends still go by one copy into guest 1 (its transmit ring is returned
 * by the one-copy path), those it receives take the mbuf path (a receiver
 * whose pages are logged is written through the mbuf path only, see
 * vu_ring_caps()). Then guest 1 logs too, its log set after LOG_ALL as for
 * a device started during a migration; then both ports are kept off one
 * copy; then logging ends. Split and packed rings, mergeable buffers on and
 * off; the one-copy counters prove which path ran.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_mempool.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vs_switch.h"
#include "vt_vu.h"

#define F(bit)	(1ULL << (bit))
#define WAIT_MS 5000
#define RING	256
#define PAGE	4096u
#define ROUNDS	24
#define BASE	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC))

static const uint8_t macs[2][6] = {{0x02, 0, 0, 0, 0, 0x0a}, {0x02, 0, 0, 0, 0, 0x0b}};

struct ms_guest {
	struct vt_guest g;
	char sock[256];
	int port;
	int log_fd;
	uint8_t *log;
	size_t log_len;
	uint8_t *shadow;
	uint32_t seq_out; /* next sequence number sent */
	uint32_t seq_in;  /* next one the other guest expects from it */
};

struct ms_test {
	struct vs_evloop *loop;
	struct vs_switch *sw;
	struct ms_guest gu[2];
	bool logging[2];
	bool mrg;
	unsigned long changed, frames;
};

/* A front-end request sequence run on a thread while the control loop serves. */
struct fe_job {
	struct ms_test *t;
	int (*fn)(struct ms_test *t, int i);
	int first, last;
	int rc[2];
	volatile bool done;
};

static void *
fe_main(void *arg)
{
	struct fe_job *j = arg;

	for (int i = j->first; i <= j->last; i++)
		j->rc[i] = j->fn(j->t, i);
	j->done = true;
	return NULL;
}

/* Runs @p fn for guests @p first..@p last. */
static int
fe_run(struct ms_test *t, int (*fn)(struct ms_test *t, int i), int first, int last,
       const char *what)
{
	struct fe_job job = {.t = t, .fn = fn, .first = first, .last = last};
	pthread_t th;

	TEST_ASSERT_SUCCESS(pthread_create(&th, NULL, fe_main, &job), "thread");
	while (!job.done)
		vs_evloop_run_once(t->loop, 5);
	pthread_join(th, NULL);
	TEST_ASSERT(job.rc[0] == 0 && job.rc[1] == 0, "%s (%d, %d)", what, job.rc[0], job.rc[1]);
	return TEST_SUCCESS;
}

static int
fe_connect(struct ms_test *t, int i)
{
	return vt_guest_connect(&t->gu[i].g, t->gu[i].sock, WAIT_MS);
}

static int
fe_log_start(struct ms_test *t, int i)
{
	struct ms_guest *m = &t->gu[i];
	struct vh_log_area la = {m->log_len, 0, 0, m->log_fd};

	/* The second guest's log comes last, as for a device started during
	 * the migration (the rings already run without one). */
	return vt_guest_log_start(&m->g, &la, i == 1);
}

static int
fe_log_stop(struct ms_test *t, int i)
{
	return vt_guest_log_stop(&t->gu[i].g);
}

static bool
port_ready(struct ms_test *t, int i)
{
	struct vs_switch_port_view v;

	return vs_switch_port_view(t->sw, (uint16_t)t->gu[i].port, &v) == 0 &&
	       v.info.link == VS_PORT_LINK_UP && v.info.nb_txq >= 1 && v.rxq_worker[0] >= 0;
}

static struct vs_switch_port_counters
counters(struct ms_test *t, int i)
{
	struct vs_switch_port_view v;

	memset(&v, 0, sizeof(v));
	vs_switch_port_view(t->sw, (uint16_t)t->gu[i].port, &v);
	return v.counters;
}

static void
serve(struct ms_test *t, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while (vt_now_ms() < end)
		vs_evloop_run_once(t->loop, 5);
}

/* The guest's log: one bit per page of guest-physical memory, to its end. */
static int
log_init(struct ms_guest *m)
{
	m->log_len =
		((VT_GUEST_GPA_BASE + m->g.mem_len) / PAGE / 8 + PAGE - 1) & ~(size_t)(PAGE - 1);
	m->log_fd = memfd_create("vt-dirty-log", MFD_CLOEXEC);
	TEST_ASSERT(m->log_fd >= 0 && ftruncate(m->log_fd, (off_t)m->log_len) == 0, "log memfd");
	m->log = mmap(NULL, m->log_len, PROT_READ | PROT_WRITE, MAP_SHARED, m->log_fd, 0);
	TEST_ASSERT(m->log != MAP_FAILED, "log mapping");
	m->shadow = malloc(m->g.mem_len);
	TEST_ASSERT_NOT_NULL(m->shadow, "shadow");
	return TEST_SUCCESS;
}

static int
ms_setup(struct ms_test *t, uint64_t features)
{
	struct vt_guest_cfg cfg = {.queues = 1, .ring_size = RING, .tx_buf_size = 10240};
	struct vs_switch_config sc = {0};
	char why[256], spec[400];
	uint64_t end;

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 2; i++) {
		t->gu[i].log_fd = -1;
		t->gu[i].g.memfd = -1;
	}
	if (vt_eal_init("migrate_switch", why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	t->mrg = (features & F(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	t->loop = vs_evloop_create();
	TEST_ASSERT_NOT_NULL(t->loop, "event loop");
	sc.loop = t->loop;
	sc.name = "ms";
	sc.fdb_size = 1024;
	sc.nb_mbufs = 4095;
	sc.tx_retries = 1;
	sc.manual = true;
	sc.nb_workers = 1;
	t->sw = vs_switch_create(&sc, why, sizeof(why));
	TEST_ASSERT_NOT_NULL(t->sw, "engine: %s", why);
	/* Without mergeable buffers one buffer holds the largest frame. */
	cfg.buf_size = t->mrg ? 2048 : 10240;
	cfg.features = features;
	for (int i = 0; i < 2; i++) {
		struct ms_guest *m = &t->gu[i];
		char name[16];

		snprintf(name, sizeof(name), "ms%c.sock", 'a' + i);
		vt_path(m->sock, sizeof(m->sock), name);
		unlink(m->sock);
		snprintf(spec, sizeof(spec), "vhost-user,path=%s,name=%c", m->sock, 'a' + i);
		m->port = vs_switch_add_port(t->sw, spec, why, sizeof(why));
		TEST_ASSERT(m->port >= 0, "port %d: %s", i, why);
		TEST_ASSERT_SUCCESS(vt_guest_init(&m->g, &cfg), "guest %d", i);
		TEST_RUN(log_init(m));
	}
	TEST_RUN(fe_run(t, fe_connect, 0, 1, "guests connect"));
	end = vt_now_ms() + WAIT_MS;
	while (vt_now_ms() < end && !(port_ready(t, 0) && port_ready(t, 1)))
		serve(t, 10);
	TEST_ASSERT(port_ready(t, 0) && port_ready(t, 1), "both ports up and polled");
	for (int i = 0; i < 2; i++) {
		TEST_ASSERT((t->gu[i].g.features & features) == features,
			    "guest %d negotiated 0x%" PRIx64 " of 0x%" PRIx64, i,
			    t->gu[i].g.features & features, features);
		vt_guest_fill_rx(&t->gu[i].g, 0);
	}
	return TEST_SUCCESS;
}

static void
ms_teardown(struct ms_test *t)
{
	for (int i = 0; i < 2; i++)
		vt_guest_fini(&t->gu[i].g);
	if (t->loop != NULL)
		serve(t, 20);
	if (t->sw != NULL)
		vs_switch_destroy(t->sw);
	if (t->loop != NULL)
		vs_evloop_destroy(t->loop);
	for (int i = 0; i < 2; i++) {
		struct ms_guest *m = &t->gu[i];

		if (m->log != NULL && m->log != MAP_FAILED)
			munmap(m->log, m->log_len);
		if (m->log_fd >= 0)
			close(m->log_fd);
		free(m->shadow);
	}
}

static bool
logged(const struct ms_guest *m, uint64_t gpa)
{
	uint64_t pg = gpa / PAGE;

	return pg / 8 < m->log_len && (m->log[pg / 8] >> (pg % 8)) & 1;
}

static size_t
next_diff(const struct ms_guest *m, size_t i)
{
	const size_t len = m->g.mem_len;

	while (len - i >= 64 && memcmp(m->g.mem + i, m->shadow + i, 64) == 0)
		i += 64;
	while (i < len && m->g.mem[i] == m->shadow[i])
		i++;
	return i;
}

/* Every byte of guest @p i that changed since the copy lies in a logged page. */
static int
check_logged(struct ms_test *t, int i, bool logging, const char *what)
{
	struct ms_guest *m = &t->gu[i];
	unsigned long n = 0;

	for (size_t k = next_diff(m, 0); k < m->g.mem_len; k = next_diff(m, k + 1)) {
		n++;
		TEST_ASSERT(!logging || logged(m, VT_GUEST_GPA_BASE + k),
			    "%s: guest %d byte 0x%zx changed by the switch, its page is not in "
			    "the log",
			    what, i, k);
	}
	if (!logging)
		for (size_t k = 0; k < m->log_len; k++)
			TEST_ASSERT_EQUAL(m->log[k], 0,
					  "%s: guest %d: pages logged while "
					  "logging is off",
					  what, i);
	TEST_ASSERT(n > 0, "%s: the switch wrote into guest %d", what, i);
	t->changed += n;
	return TEST_SUCCESS;
}

/*
 * One round: each guest posts @p n frames to the other; the switch forwards
 * them between a copy of guest memory and the checks; every frame arrives.
 */
static int
round_trip(struct ms_test *t, unsigned int n, const char *what)
{
	static const uint32_t lens[] = {60, 1514, 9000, 300, 4000, 2100};
	static uint8_t f[VT_FRAME_MAX];
	struct vs_switch_port_counters c0[2];
	uint64_t end = vt_now_ms() + WAIT_MS;
	unsigned int sent[2] = {0, 0};

	for (int i = 0; i < 2; i++) {
		struct ms_guest *m = &t->gu[i];

		c0[i] = counters(t, i);
		for (unsigned int k = 0; k < n; k++) {
			uint32_t len = lens[(m->seq_out + k) % RTE_DIM(lens)];

			vt_frame_fill(f, len, m->seq_out + k);
			memcpy(f, macs[!i], 6);
			memcpy(f + 6, macs[i], 6);
			if (vt_guest_send(&m->g, 0, f, len, NULL, (enum vt_tx_layout)(k % 4)) != 0)
				break;
			sent[i]++;
		}
		TEST_ASSERT(sent[i] > 0, "%s: guest %d sent", what, i);
	}
	for (int i = 0; i < 2; i++) {
		memcpy(t->gu[i].shadow, t->gu[i].g.mem, t->gu[i].g.mem_len);
		memset(t->gu[i].log, 0, t->gu[i].log_len);
	}
	/* Until both received what the other sent, then a few idle polls. */
	while (counters(t, 0).tx_packets - c0[0].tx_packets < sent[1] ||
	       counters(t, 1).tx_packets - c0[1].tx_packets < sent[0]) {
		TEST_ASSERT(vt_now_ms() < end, "%s: the switch forwards", what);
		vs_switch_poll(t->sw, 0);
	}
	for (int k = 0; k < 4; k++)
		vs_switch_poll(t->sw, 0);
	for (int i = 0; i < 2; i++)
		TEST_RUN(check_logged(t, i, t->logging[i], what));
	for (int i = 0; i < 2; i++) {
		struct ms_guest *m = &t->gu[i];

		for (unsigned int k = 0; k < sent[!i]; k++) {
			struct virtio_net_hdr_mrg_rxbuf h;
			uint32_t len = 0;

			TEST_ASSERT_EQUAL(vt_guest_recv(&m->g, 0, &h, f, sizeof(f), &len), 1,
					  "%s: guest %d: frame %u arrived", what, i, k);
			TEST_ASSERT(memcmp(f, macs[i], 6) == 0 && memcmp(f + 6, macs[!i], 6) == 0,
				    "%s: guest %d: frame %u addressed to it", what, i, k);
			TEST_ASSERT_EQUAL(vt_frame_check(f, len), (int64_t)t->gu[!i].seq_in,
					  "%s: guest %d: frame %u intact and in order", what, i, k);
			t->gu[!i].seq_in++;
		}
		TEST_ASSERT_EQUAL(vt_guest_reap_tx(&m->g, 0), sent[i],
				  "%s: guest %d: every transmit chain completed", what, i);
		m->seq_out += sent[i];
		vt_guest_fill_rx(&m->g, 0);
	}
	t->frames += sent[0] + sent[1];
	return TEST_SUCCESS;
}

/* @p rounds rounds; the one-copy counters of the ports to guest 0 and 1 grow as @p oc says. */
static int
rounds(struct ms_test *t, int rounds, const bool oc[2], const char *phase)
{
	uint64_t before[2] = {counters(t, 0).onecopy, counters(t, 1).onecopy};
	char what[96];

	for (int r = 0; r < rounds; r++) {
		snprintf(what, sizeof(what), "%s, round %d", phase, r);
		TEST_RUN(round_trip(t, 1 + (unsigned int)r % 12, what));
	}
	for (int i = 0; i < 2; i++)
		TEST_ASSERT((counters(t, i).onecopy > before[i]) == oc[i],
			    "%s: frames to guest %d %s by one copy", phase, i,
			    oc[i] ? "went" : "did not go");
	return TEST_SUCCESS;
}

static int
run_steps(struct ms_test *t)
{
	static const bool oc_none[2] = {false, false}, oc_to_1[2] = {false, true},
			  oc_both[2] = {true, true};

	/* Each learns the other (the first frames are flooded), then one copy. */
	TEST_RUN(round_trip(t, 1, "learning"));
	TEST_RUN(rounds(t, 2, oc_both, "no migration"));
	/* Guest 0 migrates: it logs, its log given first (running rings). */
	TEST_RUN(fe_run(t, fe_log_start, 0, 0, "guest 0 logs"));
	t->logging[0] = true;
	TEST_RUN(rounds(t, ROUNDS, oc_to_1, "guest 0 logs"));
	/* Guest 1 too, its log given last. */
	TEST_RUN(fe_run(t, fe_log_start, 1, 1, "guest 1 logs"));
	t->logging[1] = true;
	TEST_RUN(rounds(t, ROUNDS, oc_none, "both log"));
	/* The mbuf path by choice. */
	for (int i = 0; i < 2; i++)
		TEST_ASSERT_SUCCESS(
			vs_switch_port_set_onecopy(t->sw, (uint16_t)t->gu[i].port, false),
			"port %d off one copy", i);
	TEST_RUN(rounds(t, ROUNDS / 2, oc_none, "both log, ports off one copy"));
	/* The migrations end: nothing is logged any more. */
	TEST_RUN(fe_run(t, fe_log_stop, 0, 1, "logging stops"));
	t->logging[0] = t->logging[1] = false;
	return rounds(t, 2, oc_none, "after the migrations");
}

static int
run_case(uint64_t features)
{
	struct ms_test t;
	int rc = ms_setup(&t, features);

	if (rc == TEST_SUCCESS)
		rc = run_steps(&t);
	if (rc == TEST_SUCCESS)
		printf("features 0x%" PRIx64 ": %lu frames, %lu guest bytes changed and checked\n",
		       t.gu[0].g.features, t.frames, t.changed);
	ms_teardown(&t);
	return rc;
}

static int
test_split(void)
{
	TEST_RUN(run_case(BASE | F(VIRTIO_NET_F_MRG_RXBUF)));
	TEST_RUN(run_case(BASE));
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_logs_every_page_it_writes_split, fast, test_split)

static int
test_packed(void)
{
	TEST_RUN(run_case(BASE | F(VIRTIO_F_RING_PACKED) | F(VIRTIO_NET_F_MRG_RXBUF)));
	TEST_RUN(run_case(BASE | F(VIRTIO_F_RING_PACKED)));
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_logs_every_page_it_writes_packed, fast, test_packed)
