/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user" against a front-end that cuts its memory file
 * short under live rings (ftruncate of the memfd it gave in
 * SET_MEM_TABLE), as a VMM may: the port's next access raises SIGBUS. The
 * fault costs only that connection: the burst returns (its mbufs given
 * back), the ring stops, the control thread closes the connection and the
 * port says "broken" and counts the fault; a second port with its own
 * guest forwards before and after; the control thread keeps serving. Split
 * and packed, in rx (the guest's transmit buffers are gone) and tx (its
 * receive buffers are), in an empty poll (its transmit ring is gone: the
 * poll's one read, unarmed, faults), and on the control thread (a ring started on
 * memory already cut). Bursts are called by hand, as a worker would.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_mempool.h>

#include "test.h"
#include "vhost_guard.h"
#include "vt_vu.h"

#define F(bit)	(1ULL << (bit))
#define WAIT_MS 5000
#define READER	0
#define LEN	600

struct two {
	struct vt_vu_env e;
	struct vs_port *port[2];
	struct vt_guest g[2];
	bool guest[2];
	char path[2][256];
	bool reader;
};

static int
two_up(struct two *t, const char *name, uint64_t features)
{
	/* Transmit buffers of two pages: a frame can lose its tail and keep its head. */
	const struct vt_guest_cfg gc = {.queues = 1,
					.ring_size = 128,
					.features = features,
					.buf_size = 2048,
					.tx_buf_size = 8192};
	char spec[512], why[256], err[256], sock[32];

	memset(t, 0, sizeof(*t));
	if (vt_vu_env_init(&t->e, name, 4095, 0, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	for (int i = 0; i < 2; i++) {
		snprintf(sock, sizeof(sock), "sigbus%d.sock", i);
		snprintf(spec, sizeof(spec), "vhost-user,path=%s",
			 vt_path(t->path[i], sizeof(t->path[i]), sock));
		t->port[i] = vt_vu_port_start(&t->e, spec, err, sizeof(err));
		TEST_ASSERT_NOT_NULL(t->port[i], "%s: %s", spec, err);
		TEST_ASSERT_SUCCESS(vt_guest_init(&t->g[i], &gc), "guest %d memory", i);
		t->guest[i] = true;
		TEST_ASSERT_SUCCESS(vt_guest_connect(&t->g[i], t->path[i], WAIT_MS), "guest %d", i);
		TEST_ASSERT(vt_vu_wait_queues(&t->e, t->port[i], 1, 1, WAIT_MS), "port %d up", i);
	}
	vt_vu_reader_register(&t->e, READER);
	t->reader = true;
	return TEST_SUCCESS;
}

static void
two_down(struct two *t)
{
	if (t->reader)
		vt_vu_reader_unregister(&t->e, READER);
	for (int i = 0; i < 2; i++) {
		if (t->guest[i])
			vt_guest_fini(&t->g[i]);
		vt_vu_port_destroy(&t->e, t->port[i]);
	}
	vt_vu_env_fini(&t->e);
}

/* Guest B (port 1) sends @p n frames; they come back to it through the port (rx, then tx). */
static int
b_loops(struct two *t, unsigned int n, uint32_t seq)
{
	static uint8_t frame[LEN], got[VT_FRAME_MAX];
	uint64_t end = vt_now_ms() + WAIT_MS;
	unsigned int back = 0, moved = 0;
	struct vt_guest *b = &t->g[1];

	vt_guest_fill_rx(b, 0);
	for (unsigned int i = 0; i < n; i++) {
		vt_frame_fill(frame, LEN, seq + i);
		TEST_ASSERT_SUCCESS(vt_guest_send(b, 0, frame, LEN, NULL, VT_TX_ONE), "B sends");
	}
	while (back < n && vt_now_ms() < end) {
		struct virtio_net_hdr_mrg_rxbuf h;
		struct rte_mbuf *m[32];
		uint32_t len;
		uint16_t k = vt_vu_rx(&t->e, READER, t->port[1], 0, m, 32);

		if (k > 0)
			moved += vt_vu_tx(&t->e, READER, t->port[1], 0, m, k);
		while (vt_guest_recv(b, 0, &h, got, sizeof(got), &len) == 1) {
			TEST_ASSERT(len == LEN && vt_frame_check(got, len) == seq + back,
				    "B's frame %u whole", back);
			back++;
		}
		vt_guest_reap_tx(b, 0);
		vt_guest_fill_rx(b, 0);
	}
	TEST_ASSERT_EQUAL(back, n, "B got its %u frames back (%u moved)", n, moved);
	return TEST_SUCCESS;
}

/* The cut cost A's connection only: reported, B forwards, nothing leaked. */
static int
after_the_cut(struct two *t, unsigned int in_use, uint64_t recovered)
{
	struct vs_port_stats st;
	struct vs_port_info info;

	TEST_ASSERT(vh_guard_recovered() > recovered, "the SIGBUS was recovered");
	TEST_ASSERT(vt_vu_wait_detail(&t->e, t->port[0], "broken: guest memory faults", WAIT_MS),
		    "A reported broken");
	TEST_ASSERT(vt_vu_wait_detail(&t->e, t->port[0], "listening", WAIT_MS),
		    "A's connection closed, A listens again");
	vt_vu_info(&t->e, t->port[0], &info);
	TEST_ASSERT(info.link == VS_PORT_LINK_DOWN, "A's link is down");
	vt_vu_stats(&t->e, t->port[0], &st);
	TEST_ASSERT(st.rx[0].errors + st.tx[0].errors >= 1, "the broken ring is counted");
	TEST_RUN(b_loops(t, 16, 1000));
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(t->e.mp), in_use,
			  "no mbuf held by the interrupted burst");
	return TEST_SUCCESS;
}

/* rx: A transmitted, then its transmit buffers (the end of its memfd) went away. */
static int
cut_under_rx(struct two *t)
{
	static uint8_t frame[LEN];
	struct vt_guest *a = &t->g[0];
	uint64_t recovered = vh_guard_recovered();
	unsigned int in_use;
	struct rte_mbuf *m[32];

	TEST_RUN(b_loops(t, 16, 0));
	in_use = rte_mempool_in_use_count(t->e.mp);
	for (unsigned int i = 0; i < 16; i++) {
		vt_frame_fill(frame, LEN, i);
		TEST_ASSERT_SUCCESS(vt_guest_send(a, 0, frame, LEN, NULL, VT_TX_ONE), "A sends");
	}
	TEST_ASSERT_SUCCESS(vt_guest_truncate(a, a->ring[1].buf_off), "A cuts its buffers");
	TEST_ASSERT_EQUAL(vt_vu_rx(&t->e, READER, t->port[0], 0, m, 32), 0,
			  "the burst comes back empty");
	return after_the_cut(t, in_use, recovered);
}

/* tx: A posted receive buffers, then half of them (and what follows) went away. */
static int
cut_under_tx(struct two *t)
{
	struct vt_guest *a = &t->g[0];
	uint64_t recovered = vh_guard_recovered();
	struct rte_mbuf *m[32];
	unsigned int in_use;
	uint16_t sent;

	TEST_RUN(b_loops(t, 16, 0));
	in_use = rte_mempool_in_use_count(t->e.mp);
	vt_guest_fill_rx(a, 0);
	TEST_ASSERT_SUCCESS(vt_guest_truncate(a, a->ring[0].buf_off + a->ring[0].nbufs / 2 *
									      a->ring[0].buf_size),
			    "A cuts half its receive buffers");
	for (int i = 0; i < 32; i++) {
		m[i] = vt_frame_mbuf(t->e.mp, LEN, (uint32_t)i);
		TEST_ASSERT_NOT_NULL(m[i], "mbuf");
	}
	/* What did not go is freed by vt_vu_tx(), as an engine drops it. */
	sent = vt_vu_tx(&t->e, READER, t->port[0], 0, m, 32);
	TEST_ASSERT(sent < 32, "the burst stopped at the cut (%u sent)", sent);
	return after_the_cut(t, in_use, recovered);
}

/*
 * An empty poll: A sent nothing, then cut its memfd from its transmit ring
 * on (the ring itself, not only its buffers). The poll's only read of
 * guest memory, the ring's available index (split) or next descriptor's
 * flags (packed), is a vh_guard_peek16() with no guard armed: it faults,
 * comes back, the poll returns nothing and the ring fails. A second poll
 * of the failed ring reads nothing (one fault in all). @p frames: the
 * poll is one copy's rx_frames rather than rx_burst.
 */
static int
cut_under_empty_poll(struct two *t, bool frames)
{
	const struct vs_port_onecopy_ops *oc = t->port[0]->ops->onecopy;
	struct vt_guest *a = &t->g[0];
	uint64_t recovered = vh_guard_recovered();
	struct vs_port_frame f[8];
	struct rte_mbuf *m[32];
	unsigned int in_use;

	TEST_ASSERT_NOT_NULL(oc, "the port does one copy");
	TEST_RUN(b_loops(t, 16, 0));
	in_use = rte_mempool_in_use_count(t->e.mp);
	TEST_ASSERT_SUCCESS(vt_guest_truncate(a, a->ring[1].ring_off), "A cuts its transmit ring");
	for (int i = 0; i < 2; i++) {
		uint16_t n;

		if (frames) {
			void *ctx = NULL;

			rte_rcu_qsbr_thread_online(t->e.qsbr, READER);
			n = oc->rx_frames(t->port[0], 0, f, 8, &ctx);
			rte_rcu_qsbr_quiescent(t->e.qsbr, READER);
			rte_rcu_qsbr_thread_offline(t->e.qsbr, READER);
		} else {
			n = vt_vu_rx(&t->e, READER, t->port[0], 0, m, 32);
		}
		TEST_ASSERT_EQUAL(n, 0, "poll %d comes back empty", i);
		TEST_ASSERT_EQUAL(vh_guard_recovered() - recovered, 1, "one fault after poll %d",
				  i);
	}
	return after_the_cut(t, in_use, recovered);
}

static int
cut_under_empty_rx(struct two *t)
{
	return cut_under_empty_poll(t, false);
}

static int
cut_under_empty_rx_frames(struct two *t)
{
	return cut_under_empty_poll(t, true);
}

static int
on_two(const char *name, uint64_t features, int (*body)(struct two *t))
{
	struct two t;
	int rc = two_up(&t, name, features);

	if (rc == TEST_SUCCESS)
		rc = body(&t);
	if (rc != TEST_SKIPPED)
		two_down(&t);
	return rc;
}

#define SPLIT  (F(VIRTIO_F_VERSION_1))
#define PACKED (F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED))

static int
test_sigbus_split_rx(void)
{
	return on_two("sigbus-srx", SPLIT, cut_under_rx);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_rx_split, fast, test_sigbus_split_rx)

static int
test_sigbus_packed_rx(void)
{
	return on_two("sigbus-prx", PACKED, cut_under_rx);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_rx_packed, fast, test_sigbus_packed_rx)

static int
test_sigbus_split_tx(void)
{
	return on_two("sigbus-stx", SPLIT, cut_under_tx);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_tx_split, fast, test_sigbus_split_tx)

static int
test_sigbus_packed_tx(void)
{
	return on_two("sigbus-ptx", PACKED, cut_under_tx);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_tx_packed, fast, test_sigbus_packed_tx)

static int
test_sigbus_split_empty(void)
{
	return on_two("sigbus-se", SPLIT, cut_under_empty_rx);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_an_empty_poll_split, fast,
	      test_sigbus_split_empty)

static int
test_sigbus_packed_empty(void)
{
	return on_two("sigbus-pe", PACKED, cut_under_empty_rx);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_an_empty_poll_packed, fast,
	      test_sigbus_packed_empty)

static int
test_sigbus_split_empty_frames(void)
{
	return on_two("sigbus-sef", SPLIT, cut_under_empty_rx_frames);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_an_empty_one_copy_poll_split, fast,
	      test_sigbus_split_empty_frames)

static int
test_sigbus_packed_empty_frames(void)
{
	return on_two("sigbus-pef", PACKED, cut_under_empty_rx_frames);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_an_empty_one_copy_poll_packed, fast,
	      test_sigbus_packed_empty_frames)

/*
 * The control thread: a front-end gives its memory, cuts it, then starts a
 * ring on it; the port's start of the ring writes the ring's flags and
 * faults. The connection goes; the port (and the other) keep serving.
 */
static int
cut_before_ring_start(struct two *t)
{
	struct vh_user_frontend_config fc = {.timeout_ms = 2000};
	uint64_t recovered = vh_guard_recovered();
	struct vh_user_frontend *fe;
	struct vh_mem_region r;
	struct vh_vring_addr a;
	struct vh_backend *b;
	int memfd, kick, call, rc;
	uint64_t offered;
	uint8_t *mem;

	/* A's guest leaves; a hand-driven front-end takes its place. */
	vt_guest_disconnect(&t->g[0]);
	TEST_ASSERT(vt_vu_wait_detail(&t->e, t->port[0], "listening", WAIT_MS), "A free");
	memfd = memfd_create("cut", MFD_CLOEXEC);
	TEST_ASSERT(memfd >= 0 && ftruncate(memfd, 1 << 20) == 0, "memfd");
	mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	TEST_ASSERT(mem != MAP_FAILED, "map");
	TEST_ASSERT_SUCCESS(vh_user_frontend_connect(t->path[0], 2000, &fc, &fe), "connect");
	b = vh_user_frontend_backend(fe);
	r = (struct vh_mem_region){0x100000, 1 << 20, (uintptr_t)mem, 0, memfd};
	a = (struct vh_vring_addr){0, (uintptr_t)mem, (uintptr_t)mem + 0x2000,
				   (uintptr_t)mem + 0x1000, 0};
	TEST_ASSERT(vh_backend_set_owner(b) == 0 && vh_backend_get_features(b, &offered) == 0 &&
			    vh_backend_set_features(b, SPLIT & offered) == 0 &&
			    vh_backend_set_mem_table(b, &r, 1) == 0,
		    "set-up");
	TEST_ASSERT_SUCCESS(ftruncate(memfd, 0), "the front-end cuts its memory");
	kick = eventfd(0, EFD_CLOEXEC);
	call = eventfd(0, EFD_CLOEXEC);
	rc = vh_backend_set_vring_num(b, 1, 256);
	if (rc == 0)
		rc = vh_backend_set_vring_base(b, 1, 0);
	if (rc == 0)
		rc = vh_backend_set_vring_addr(b, 1, &a);
	if (rc == 0)
		rc = vh_backend_set_vring_call(b, 1, call);
	if (rc == 0)
		rc = vh_backend_set_vring_kick(b, 1, kick);
	if (rc == 0)
		rc = vh_backend_set_vring_enable(b, 1, 1);
	(void)rc; /* the connection may close before or after a reply */
	TEST_ASSERT(vh_guard_recovered() > recovered, "the control thread's SIGBUS was recovered");
	TEST_ASSERT(vt_vu_wait_detail(&t->e, t->port[0], "broken: guest memory faults", WAIT_MS),
		    "A reported broken");
	TEST_ASSERT(vt_vu_wait_detail(&t->e, t->port[0], "listening", WAIT_MS),
		    "A's connection closed");
	vh_backend_destroy(b);
	close(kick);
	close(call);
	munmap(mem, 1 << 20);
	close(memfd);
	TEST_RUN(b_loops(t, 16, 0));
	/* The control thread still serves: A takes a new guest. */
	TEST_ASSERT_SUCCESS(vt_guest_connect(&t->g[0], t->path[0], WAIT_MS), "A's guest again");
	TEST_ASSERT(vt_vu_wait_queues(&t->e, t->port[0], 1, 1, WAIT_MS), "A up again");
	TEST_ASSERT(vt_vu_wait_detail(&t->e, t->port[0], ", guest memory faults", WAIT_MS),
		    "the count stays");
	return TEST_SUCCESS;
}

static int
test_sigbus_control_thread(void)
{
	return on_two("sigbus-ctl", SPLIT, cut_before_ring_start);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_before_a_ring_starts, fast,
	      test_sigbus_control_thread)

/*
 * One copy between guests (vs_port_onecopy_ops): guest A's frames are
 * described (their first bytes read) and then copied straight into guest
 * B's receive buffers. A cuts its memfd so that its frame's first page
 * stays and the rest goes: the copy into B faults in A's memory. B's
 * buffers go back to its ring untouched (B still receives later), A is
 * reported broken, nothing else happens.
 */
static int
cut_under_one_copy(struct two *t)
{
	static uint8_t frame[6000];
	const struct vs_port_onecopy_ops *oc = t->port[0]->ops->onecopy;
	struct vs_port_frame f[8];
	const struct vs_port_frame *fp[8];
	struct vt_guest *a = &t->g[0];
	uint64_t recovered = vh_guard_recovered();
	void *ctx = NULL;
	uint16_t n, sent;
	unsigned int buf;

	TEST_ASSERT_NOT_NULL(oc, "the port does one copy");
	TEST_RUN(b_loops(t, 16, 0));
	vt_guest_fill_rx(&t->g[1], 0);
	vt_frame_fill(frame, sizeof(frame), 0);
	/* The buffer A sends from: the last of its transmit ring, the end of its memfd. */
	buf = a->ring[1].free[a->ring[1].nfree - 1];
	TEST_ASSERT_EQUAL(buf, a->ring[1].nbufs - 1, "A sends from its memfd's last buffer");
	TEST_ASSERT_SUCCESS(vt_guest_send(a, 0, frame, sizeof(frame), NULL, VT_TX_ONE), "A sends");
	/* A's transmit buffers are 8 KiB, page aligned: cut past that one's first page:
	 * the frame's head stays (it is described), its tail goes. */
	TEST_ASSERT_SUCCESS(
		vt_guest_truncate(a,
				  a->ring[1].buf_off + (uint64_t)buf * a->ring[1].buf_size + 4096),
		"A cuts");
	rte_rcu_qsbr_thread_online(t->e.qsbr, READER);
	n = oc->rx_frames(t->port[0], 0, f, 8, &ctx);
	for (uint16_t i = 0; i < n; i++)
		fp[i] = &f[i];
	sent = n > 0 ? oc->tx_frames(t->port[1], 0, fp, n) : 0;
	if (n > 0)
		oc->rx_frames_done(t->port[0], ctx);
	rte_rcu_qsbr_quiescent(t->e.qsbr, READER);
	rte_rcu_qsbr_thread_offline(t->e.qsbr, READER);
	TEST_ASSERT_EQUAL(n, 1, "the frame was described from its first page");
	TEST_ASSERT_EQUAL(sent, 0, "the copy into B stopped in A's memory");
	TEST_ASSERT(vh_guard_recovered() > recovered, "the SIGBUS was recovered");
	TEST_ASSERT(vt_vu_wait_detail(&t->e, t->port[0], "broken: guest memory faults", WAIT_MS),
		    "A reported broken");
	TEST_RUN(b_loops(t, 16, 2000));
	return TEST_SUCCESS;
}

static int
test_sigbus_one_copy(void)
{
	/* B's receive buffers are 2 KiB: the 6000-byte frame spans merged buffers. */
	return on_two("sigbus-1cp", SPLIT | F(VIRTIO_NET_F_MRG_RXBUF), cut_under_one_copy);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_one_copy, fast, test_sigbus_one_copy)

/*
 * One copy the other way: B's frame is copied straight into A's receive
 * buffers, which A cut (half of them, and what follows): the copy faults
 * in the receiver's memory. A's ring is failed and A reported broken; B's
 * transmitted buffer is returned, B forwards on, no mbuf is held.
 */
static int
cut_under_one_copy_into(struct two *t)
{
	static uint8_t frame[LEN];
	const struct vs_port_onecopy_ops *oc = t->port[1]->ops->onecopy;
	struct vs_port_frame f[8];
	const struct vs_port_frame *fp[8];
	struct vt_guest *a = &t->g[0];
	uint64_t recovered = vh_guard_recovered();
	unsigned int in_use;
	void *ctx = NULL;
	uint16_t n, sent;

	TEST_ASSERT_NOT_NULL(oc, "the port does one copy");
	TEST_RUN(b_loops(t, 16, 0));
	in_use = rte_mempool_in_use_count(t->e.mp);
	vt_guest_fill_rx(a, 0);
	TEST_ASSERT_SUCCESS(vt_guest_truncate(a, a->ring[0].buf_off + a->ring[0].nbufs / 2 *
									      a->ring[0].buf_size),
			    "A cuts half its receive buffers");
	vt_frame_fill(frame, LEN, 0);
	TEST_ASSERT_SUCCESS(vt_guest_send(&t->g[1], 0, frame, LEN, NULL, VT_TX_ONE), "B sends");
	rte_rcu_qsbr_thread_online(t->e.qsbr, READER);
	n = oc->rx_frames(t->port[1], 0, f, 8, &ctx);
	for (uint16_t i = 0; i < n; i++)
		fp[i] = &f[i];
	sent = n > 0 ? oc->tx_frames(t->port[0], 0, fp, n) : 0;
	if (n > 0)
		oc->rx_frames_done(t->port[1], ctx);
	rte_rcu_qsbr_quiescent(t->e.qsbr, READER);
	rte_rcu_qsbr_thread_offline(t->e.qsbr, READER);
	TEST_ASSERT_EQUAL(n, 1, "B's frame was described");
	TEST_ASSERT_EQUAL(sent, 0, "the copy into A stopped in A's memory");
	vt_guest_reap_tx(&t->g[1], 0);
	return after_the_cut(t, in_use, recovered);
}

static int
test_sigbus_one_copy_into(void)
{
	return on_two("sigbus-1ci", PACKED, cut_under_one_copy_into);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_one_copy_into_it, fast,
	      test_sigbus_one_copy_into)

/*
 * A frame of one copy that must go through an mbuf after all
 * (frame_to_mbuf: a port without one copy, a capture): its tail went with
 * A's cut. The mbuf being filled (and what is chained to it) is freed, A
 * is reported broken, B forwards on.
 */
static int
cut_under_frame_to_mbuf(struct two *t)
{
	static uint8_t frame[6000];
	const struct vs_port_onecopy_ops *oc = t->port[0]->ops->onecopy;
	struct vs_port_frame f[8];
	struct vt_guest *a = &t->g[0];
	uint64_t recovered = vh_guard_recovered();
	struct rte_mbuf *m = NULL;
	unsigned int in_use, buf;
	void *ctx = NULL;
	uint16_t n;

	TEST_ASSERT_NOT_NULL(oc, "the port does one copy");
	TEST_RUN(b_loops(t, 16, 0));
	in_use = rte_mempool_in_use_count(t->e.mp);
	vt_frame_fill(frame, sizeof(frame), 0);
	buf = a->ring[1].free[a->ring[1].nfree - 1];
	TEST_ASSERT_EQUAL(buf, a->ring[1].nbufs - 1, "A sends from its memfd's last buffer");
	TEST_ASSERT_SUCCESS(vt_guest_send(a, 0, frame, sizeof(frame), NULL, VT_TX_ONE), "A sends");
	TEST_ASSERT_SUCCESS(
		vt_guest_truncate(a,
				  a->ring[1].buf_off + (uint64_t)buf * a->ring[1].buf_size + 4096),
		"A cuts");
	rte_rcu_qsbr_thread_online(t->e.qsbr, READER);
	n = oc->rx_frames(t->port[0], 0, f, 8, &ctx);
	if (n > 0) {
		m = oc->frame_to_mbuf(t->port[0], ctx, &f[0]);
		oc->rx_frames_done(t->port[0], ctx);
	}
	rte_rcu_qsbr_quiescent(t->e.qsbr, READER);
	rte_rcu_qsbr_thread_offline(t->e.qsbr, READER);
	TEST_ASSERT_EQUAL(n, 1, "the frame was described from its first page");
	TEST_ASSERT(m == NULL, "no mbuf for a frame whose tail is gone");
	rte_pktmbuf_free(m);
	return after_the_cut(t, in_use, recovered);
}

static int
test_sigbus_frame_to_mbuf(void)
{
	return on_two("sigbus-1cm", SPLIT, cut_under_frame_to_mbuf);
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_under_one_copy_to_an_mbuf, fast,
	      test_sigbus_frame_to_mbuf)

/* QEMU's memory-backend-memfd is sealed against shrinking: no guard needed, none paid. */
static int
test_sealed_memory_is_not_guarded(void)
{
	const struct vt_guest_cfg gc = {
		.queues = 1, .ring_size = 64, .features = SPLIT, .buf_size = 2048, .sealed = true};
	struct vt_vu_env e;
	struct vt_guest g;
	struct vs_port *port;
	struct vs_port_info info;
	char spec[512], why[256], err[256], path[256];

	if (vt_vu_env_init(&e, "sigbus-sealed", 2047, 0, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	snprintf(spec, sizeof(spec), "vhost-user,path=%s",
		 vt_path(path, sizeof(path), "sealed.sock"));
	port = vt_vu_port_start(&e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s: %s", spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&g, &gc), "sealed guest memory");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&g, path, WAIT_MS), "guest");
	TEST_ASSERT(vt_vu_wait_queues(&e, port, 1, 1, WAIT_MS), "up");
	vt_vu_info(&e, port, &info);
	TEST_ASSERT(strstr(info.detail, "memory sealed") != NULL, "'%s'", info.detail);
	TEST_ASSERT_EQUAL(vt_guest_truncate(&g, 0), -EPERM, "the seal holds");
	vt_guest_fini(&g);
	vt_vu_port_destroy(&e, port);
	vt_vu_env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_runs_sealed_memory_unguarded, fast, test_sealed_memory_is_not_guarded)
