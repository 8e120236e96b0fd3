/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user" during a live migration, against the in-process
 * guest of vt_vu.h (lib/vhost's front-end doing what QEMU does, lib/virtq's
 * driver side writing the guest's rings in a shared memfd):
 *
 * - The offer: VHOST_F_LOG_ALL, GUEST_ANNOUNCE, and the LOG_SHMFD and RARP
 *   protocol features (QEMU refuses to migrate without LOG_SHMFD).
 * - Dirty logging: with a log set, a copy of guest memory is taken before
 *   each burst of the port (rx_burst from the guest's TX ring, tx_burst into
 *   its RX ring); afterwards every byte that changed must lie in a page
 *   marked in the shared log. Split and packed, mergeable buffers, server
 *   and client mode; the log set first (QEMU on running rings) or last (a
 *   device that starts during the migration). Once logging ends, nothing
 *   more is marked.
 * - SEND_RARP: the port hands the switch a RARP frame from the guest's MAC
 *   on queue 0, ahead of what the guest sent, one per announcement; a group
 *   or zero MAC is refused; a frame never taken is freed with the port.
 */
#include <poll.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "test.h"
#include "vhost_user_conn.h"
#include "vt_vu.h"

#define F(bit)	(1ULL << (bit))
#define WAIT_MS 5000
#define ROUNDS	60
#define READER	0
#define LOG_ALL F(VH_VHOST_F_LOG_ALL)
#define FEATURES                                                                                   \
	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC))

struct mig {
	struct vt_vu_env e;
	struct vt_guest g;
	struct vs_port *port;
	int lfd; /* client mode: where the "QEMU" listens */
	bool reader;
	unsigned int queues;
	char path[256];
	char spec[512];
	struct vt_dirty_log log; /* shared with the port */
	uint32_t seq;
	unsigned long changed, frames;
};

static bool
fd_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static int
mig_open_mq(struct mig *m, const char *name, uint64_t features, bool client, unsigned int queues)
{
	struct vt_guest_cfg gc = {
		.queues = queues,
		.ring_size = 256,
		.features = features,
		.buf_size = 2048,
		.tx_buf_size = 10240,
		.indirect_max = 8,
	};
	char err[256], why[256];
	char *spec = m->spec;
	int rc;

	memset(m, 0, sizeof(*m));
	m->lfd = m->log.fd = m->g.memfd = -1;
	if (vt_vu_env_init(&m->e, name, 8191, 0, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	vt_path(m->path, sizeof(m->path), client ? "qemu-mig.sock" : "vu-mig.sock");
	m->queues = queues;
	snprintf(spec, sizeof(m->spec), "vhost-user,path=%s,queues=%u%s", m->path, queues,
		 client ? ",client=1" : "");
	if (client) {
		m->lfd = vh_user_listen(m->path);
		TEST_ASSERT(m->lfd >= 0, "listen on %s", m->path);
	}
	m->port = vt_vu_port_start(&m->e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(m->port, "%s: %s", spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&m->g, &gc), "guest memory");
	if (client) {
		int fd;

		TEST_ASSERT(fd_readable(m->lfd, WAIT_MS), "the port connects");
		fd = vh_user_accept(m->lfd);
		TEST_ASSERT(fd >= 0, "accept");
		rc = vt_guest_connect_fd(&m->g, fd);
	} else {
		rc = vt_guest_connect(&m->g, m->path, WAIT_MS);
	}
	TEST_ASSERT_SUCCESS(rc, "guest connects");
	TEST_ASSERT(vt_vu_wait_queues(&m->e, m->port, (uint16_t)queues, (uint16_t)queues, WAIT_MS),
		    "%u queue pairs up", queues);
	vt_vu_reader_register(&m->e, READER);
	m->reader = true;
	TEST_ASSERT_SUCCESS(vt_dirty_log_init(&m->log, &m->g), "the dirty log");
	return TEST_SUCCESS;
}

static int
mig_open(struct mig *m, const char *name, uint64_t features, bool client)
{
	return mig_open_mq(m, name, features, client, 1);
}

static void
mig_close(struct mig *m)
{
	if (m->e.loop == NULL)
		return;
	if (m->reader)
		vt_vu_reader_unregister(&m->e, READER);
	vt_guest_fini(&m->g);
	if (m->port != NULL)
		vt_vu_port_destroy(&m->e, m->port);
	vt_dirty_log_fini(&m->log);
	if (m->lfd >= 0) {
		close(m->lfd);
		unlink(m->path);
	}
	vt_vu_env_fini(&m->e);
}

/*
 * One round: the guest posts RX buffers and sends 1-12 frames; then, with
 * guest memory copied and the log cleared, the port takes the frames
 * (rx_burst) and gives them back (tx_burst), as the switch would forward
 * them to this guest; then every byte that changed must be in the log
 * (with @p logging) or the log must stay empty (without).
 */
static int
round_trip_queue(struct mig *m, uint16_t q, bool logging)
{
	static uint8_t frame[VT_FRAME_MAX];
	static const uint32_t lens[] = {60, 1514, 9000, 300, 4000};
	const bool mrg = m->g.features & F(VIRTIO_NET_F_MRG_RXBUF);
	struct rte_mbuf *pkts[32];
	unsigned int want = 1 + m->seq % 12, sent = 0, got = 0;
	uint64_t deadline = vt_now_ms() + WAIT_MS;
	long changed;
	uint16_t n;

	vt_guest_fill_rx(&m->g, q);
	for (unsigned int i = 0; i < want; i++) {
		uint32_t len = lens[(m->seq + i) % RTE_DIM(lens)];

		if (!mrg && len + m->g.hdr_len > m->g.cfg.buf_size)
			len = 1514;
		vt_frame_fill(frame, len, m->seq + i);
		if (vt_guest_send(&m->g, q, frame, len, NULL, (enum vt_tx_layout)(i % 3)) != 0)
			break;
		sent++;
	}
	TEST_ASSERT(sent > 0, "the guest sent");
	vt_dirty_log_snapshot(&m->log, &m->g);
	while (got < sent) {
		n = vt_vu_rx(&m->e, READER, m->port, q, pkts, RTE_DIM(pkts));
		TEST_ASSERT(n > 0 || vt_now_ms() < deadline, "the port took %u of %u", got, sent);
		TEST_ASSERT_EQUAL(vt_vu_tx(&m->e, READER, m->port, q, pkts, n), n,
				  "the guest's RX ring took them all");
		got += n;
	}
	changed = vt_dirty_log_check(&m->log, &m->g, logging);
	TEST_ASSERT(changed >= 0, "queue %u: the log %s", q,
		    logging ? "holds every page the port wrote" : "stays empty");
	m->changed += (unsigned long)changed;
	for (unsigned int i = 0; i < sent; i++) {
		struct virtio_net_hdr_mrg_rxbuf h;
		uint32_t len;
		int rc = vt_guest_recv(&m->g, q, &h, frame, sizeof(frame), &len);

		TEST_ASSERT_EQUAL(rc, 1, "queue %u: frame %u back in the guest", q, i);
		TEST_ASSERT_EQUAL(vt_frame_check(frame, len), m->seq + i,
				  "queue %u: frame %u intact", q, i);
	}
	vt_guest_reap_tx(&m->g, q);
	m->seq += sent;
	m->frames += sent;
	return TEST_SUCCESS;
}

/* A round on every queue pair, each checked on its own. */
static int
round_trip(struct mig *m, bool logging)
{
	for (uint16_t q = 0; q < m->queues; q++)
		TEST_RUN(round_trip_queue(m, q, logging));
	return TEST_SUCCESS;
}

static int
run_logging_mq(const char *name, uint64_t features, bool client, bool base_last,
	       unsigned int queues)
{
	struct vh_log_area la;
	struct mig m;
	int rc = mig_open_mq(&m, name, features, client, queues);

	if (rc != TEST_SUCCESS)
		goto out;
	rc = TEST_FAILED;
	if (round_trip(&m, false) != TEST_SUCCESS)
		goto out;
	la = vt_dirty_log_area(&m.log);
	if (vt_guest_log_start(&m.g, &la, base_last) != 0) {
		printf("FAIL: %s: starting the log\n", name);
		goto out;
	}
	for (int r = 0; r < ROUNDS; r++)
		if (round_trip(&m, true) != TEST_SUCCESS)
			goto out;
	if (vt_guest_log_stop(&m.g) != 0) {
		printf("FAIL: %s: ending the log\n", name);
		goto out;
	}
	for (int r = 0; r < 5; r++)
		if (round_trip(&m, false) != TEST_SUCCESS)
			goto out;
	printf("%s: features 0x%" PRIx64 ", %u queue pairs, %lu frames, %lu guest bytes changed "
	       "and checked\n",
	       name, m.g.features, queues, m.frames, m.changed);
	rc = TEST_SUCCESS;
out:
	mig_close(&m);
	return rc;
}

static int
run_logging(const char *name, uint64_t features, bool client, bool base_last)
{
	return run_logging_mq(name, features, client, base_last, 1);
}

static int
test_offer(void)
{
	const uint64_t pf =
		VH_USER_PF(VH_USER_PROTOCOL_F_LOG_SHMFD) | VH_USER_PF(VH_USER_PROTOCOL_F_RARP);
	struct mig m;
	uint64_t offered;

	TEST_RUN(mig_open(&m, "offer", FEATURES, false));
	offered = vh_user_frontend_offered_features(m.g.fe);
	TEST_ASSERT((offered & LOG_ALL) && (offered & F(VIRTIO_NET_F_GUEST_ANNOUNCE)) &&
			    (offered & F(VIRTIO_NET_F_STATUS)),
		    "LOG_ALL, GUEST_ANNOUNCE and STATUS offered (0x%" PRIx64 ")", offered);
	TEST_ASSERT_EQUAL(vh_user_frontend_offered_protocol_features(m.g.fe) & pf, pf,
			  "LOG_SHMFD and RARP offered");
	mig_close(&m);
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_offers_live_migration, fast, test_offer)

static int
test_log_split(void)
{
	TEST_RUN(run_logging("split", FEATURES, false, false));
	TEST_RUN(run_logging("split, mergeable, in order",
			     FEATURES | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_F_IN_ORDER), false,
			     false));
	TEST_RUN(run_logging("split, log set last", FEATURES | F(VIRTIO_NET_F_MRG_RXBUF), false,
			     true));
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_logs_every_page_it_writes_split, fast, test_log_split)

static int
test_log_packed(void)
{
	const uint64_t packed = FEATURES | F(VIRTIO_F_RING_PACKED);

	TEST_RUN(run_logging("packed", packed, false, false));
	TEST_RUN(run_logging("packed, mergeable, in order",
			     packed | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_F_IN_ORDER), false,
			     false));
	TEST_RUN(run_logging("packed, log set last", packed | F(VIRTIO_NET_F_MRG_RXBUF), false,
			     true));
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_logs_every_page_it_writes_packed, fast, test_log_packed)

static int
test_log_client(void)
{
	TEST_RUN(run_logging("client mode, split", FEATURES | F(VIRTIO_NET_F_MRG_RXBUF), true,
			     false));
	TEST_RUN(run_logging("client mode, packed, log set last",
			     FEATURES | F(VIRTIO_F_RING_PACKED) | F(VIRTIO_NET_F_MRG_RXBUF), true,
			     true));
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_logs_every_page_it_writes_client_mode, fast, test_log_client)

/* Every queue pair logs, not only the first (each ring gets the log). */
static int
test_log_queues(void)
{
	TEST_RUN(run_logging_mq("4 queue pairs, split", FEATURES | F(VIRTIO_NET_F_MRG_RXBUF), false,
				false, 4));
	TEST_RUN(run_logging_mq("4 queue pairs, packed, log set last",
				FEATURES | F(VIRTIO_F_RING_PACKED) | F(VIRTIO_NET_F_MRG_RXBUF),
				false, true, 4));
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_logs_every_page_it_writes_every_queue, fast, test_log_queues)

/*
 * An upgrade of the switch (`vswitch --takeover`) in the middle of a
 * migration: the port is handed over to a new port object while the log
 * runs. The new one maps the log from the handed-over fd and goes on
 * marking every page it writes; when the migration ends (LOG_ALL off,
 * handled by the new back-end) nothing more is marked.
 */
static int
run_logging_across_hand_over(const char *name, uint64_t features, bool client)
{
	struct vh_log_area la;
	struct mig m;
	int rc = mig_open(&m, name, features, client), ho;

	if (rc != TEST_SUCCESS)
		goto out;
	rc = TEST_FAILED;
	la = vt_dirty_log_area(&m.log);
	if (vt_guest_log_start(&m.g, &la, false) != 0) {
		printf("FAIL: %s: starting the log\n", name);
		goto out;
	}
	for (int r = 0; r < ROUNDS; r++) {
		if (r == ROUNDS / 3 || r == 2 * ROUNDS / 3) {
			ho = vt_vu_port_hand_over(&m.e, &m.port, m.spec);
			if (ho != 0) {
				printf("FAIL: %s: hand-over: %s\n", name, strerror(-ho));
				goto out;
			}
		}
		if (round_trip(&m, true) != TEST_SUCCESS)
			goto out;
	}
	if (vt_guest_log_stop(&m.g) != 0) {
		printf("FAIL: %s: ending the log on the new port\n", name);
		goto out;
	}
	for (int r = 0; r < 5; r++)
		if (round_trip(&m, false) != TEST_SUCCESS)
			goto out;
	printf("%s: 2 hand-overs while logging, %lu frames, %lu guest bytes changed and "
	       "checked\n",
	       name, m.frames, m.changed);
	rc = TEST_SUCCESS;
out:
	mig_close(&m);
	return rc;
}

static int
test_log_across_hand_over(void)
{
	TEST_RUN(run_logging_across_hand_over("hand-over, split",
					      FEATURES | F(VIRTIO_NET_F_MRG_RXBUF), false));
	TEST_RUN(run_logging_across_hand_over(
		"hand-over, client mode, packed",
		FEATURES | F(VIRTIO_F_RING_PACKED) | F(VIRTIO_NET_F_MRG_RXBUF), true));
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_keeps_logging_across_a_hand_over, fast, test_log_across_hand_over)

/* ---- SEND_RARP ---- */

static int
check_rarp(const struct rte_mbuf *p, const uint8_t mac[6])
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t *f = rte_pktmbuf_mtod(p, const uint8_t *);

	TEST_ASSERT_EQUAL(p->pkt_len, 60, "a minimum-size frame");
	TEST_ASSERT(memcmp(f, bcast, 6) == 0, "to everyone");
	TEST_ASSERT(memcmp(f + 6, mac, 6) == 0, "from the guest's MAC");
	TEST_ASSERT(f[12] == 0x80 && f[13] == 0x35, "EtherType RARP");
	TEST_ASSERT(f[14] == 0 && f[15] == 1 && f[16] == 8 && f[17] == 0 && f[18] == 6 &&
			    f[19] == 4 && f[20] == 0 && f[21] == 3,
		    "Ethernet/IPv4 reverse request");
	TEST_ASSERT(memcmp(f + 22, mac, 6) == 0 && memcmp(f + 32, mac, 6) == 0,
		    "sender and target hardware address");
	return TEST_SUCCESS;
}

/*
 * The same through the one-copy operations the engine polls VM ports with:
 * the RARP comes as one frame for the mbuf path, the guest's frame at the
 * next poll.
 */
static int
rarp_one_copy(struct mig *m, const uint8_t mac[6])
{
	const struct vs_port_onecopy_ops *oc = m->port->ops->onecopy;
	static struct vs_port_frame f[8];
	static uint8_t frame[1514];
	struct vs_port_info info;
	struct rte_mbuf *p;
	void *ctx = NULL;
	uint16_t n;

	TEST_ASSERT_NOT_NULL(oc, "the port has one-copy operations");
	vt_frame_fill(frame, sizeof(frame), 9);
	TEST_ASSERT_SUCCESS(vt_guest_send(&m->g, 0, frame, sizeof(frame), NULL, VT_TX_ONE), "send");
	TEST_ASSERT_SUCCESS(vh_user_frontend_send_rarp(m->g.fe, mac), "SEND_RARP");
	rte_rcu_qsbr_thread_online(m->e.qsbr, READER);
	n = oc->rx_frames(m->port, 0, f, 8, &ctx);
	p = n == 1 ? oc->frame_to_mbuf(m->port, ctx, &f[0]) : NULL;
	oc->rx_frames_done(m->port, ctx);
	rte_rcu_qsbr_quiescent(m->e.qsbr, READER);
	rte_rcu_qsbr_thread_offline(m->e.qsbr, READER);
	TEST_ASSERT_EQUAL(n, 1, "one frame: the announcement");
	TEST_ASSERT(f[0].needs & VS_FRAME_NEED_MBUF, "for the mbuf path");
	TEST_ASSERT_NOT_NULL(p, "handed over as an mbuf");
	TEST_RUN(check_rarp(p, mac));
	rte_pktmbuf_free(p);
	rte_rcu_qsbr_thread_online(m->e.qsbr, READER);
	n = oc->rx_frames(m->port, 0, f, 8, &ctx);
	p = n == 1 ? oc->frame_to_mbuf(m->port, ctx, &f[0]) : NULL;
	oc->rx_frames_done(m->port, ctx);
	rte_rcu_qsbr_quiescent(m->e.qsbr, READER);
	rte_rcu_qsbr_thread_offline(m->e.qsbr, READER);
	TEST_ASSERT_EQUAL(n, 1, "then the guest's frame");
	TEST_ASSERT(p != NULL && vt_frame_check_mbuf(p) == 9, "intact");
	rte_pktmbuf_free(p);
	vt_vu_info(&m->e, m->port, &info);
	TEST_ASSERT(strstr(info.detail, "4 RARP injected") != NULL,
		    "show ports counts the frames handed to the switch: %s", info.detail);
	return TEST_SUCCESS;
}

static int
test_rarp(void)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	static const uint8_t mac2[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
	static const uint8_t group[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	static const uint8_t zero[6] = {0};
	static uint8_t frame[1514];
	struct rte_mbuf *pkts[8];
	struct mig m;
	uint16_t n;

	TEST_RUN(mig_open(&m, "rarp", FEATURES, false));
	TEST_ASSERT_EQUAL(vt_vu_rx(&m.e, READER, m.port, 0, pkts, 8), 0, "nothing yet");
	TEST_ASSERT_SUCCESS(vh_user_frontend_send_rarp(m.g.fe, mac), "SEND_RARP");
	TEST_ASSERT_EQUAL(vt_vu_rx(&m.e, READER, m.port, 1, pkts, 8), 0, "not on another queue");
	n = vt_vu_rx(&m.e, READER, m.port, 0, pkts, 8);
	TEST_ASSERT_EQUAL(n, 1, "queue 0 hands the switch one frame");
	TEST_RUN(check_rarp(pkts[0], mac));
	rte_pktmbuf_free(pkts[0]);
	TEST_ASSERT_EQUAL(vt_vu_rx(&m.e, READER, m.port, 0, pkts, 8), 0, "only once");

	/* Ahead of the guest's own frames, in the same burst. */
	vt_frame_fill(frame, sizeof(frame), 7);
	TEST_ASSERT_SUCCESS(vt_guest_send(&m.g, 0, frame, sizeof(frame), NULL, VT_TX_ONE), "send");
	TEST_ASSERT_SUCCESS(vh_user_frontend_send_rarp(m.g.fe, mac), "SEND_RARP");
	TEST_ASSERT_SUCCESS(vh_user_frontend_send_rarp(m.g.fe, mac2), "SEND_RARP again");
	n = vt_vu_rx(&m.e, READER, m.port, 0, pkts, 8);
	TEST_ASSERT_EQUAL(n, 2, "the newer announcement and the guest's frame");
	TEST_RUN(check_rarp(pkts[0], mac2));
	TEST_ASSERT_EQUAL(vt_frame_check_mbuf(pkts[1]), 7, "then the guest's frame");
	rte_pktmbuf_free_bulk(pkts, n);

	/* A burst of one slot takes the announcement alone. */
	TEST_ASSERT_SUCCESS(vh_user_frontend_send_rarp(m.g.fe, mac), "SEND_RARP");
	vt_frame_fill(frame, sizeof(frame), 8);
	TEST_ASSERT_SUCCESS(vt_guest_send(&m.g, 0, frame, sizeof(frame), NULL, VT_TX_ONE), "send");
	TEST_ASSERT_EQUAL(vt_vu_rx(&m.e, READER, m.port, 0, pkts, 1), 1, "one slot");
	TEST_RUN(check_rarp(pkts[0], mac));
	rte_pktmbuf_free(pkts[0]);
	TEST_ASSERT_EQUAL(vt_vu_rx(&m.e, READER, m.port, 0, pkts, 8), 1, "then the frame");
	TEST_ASSERT_EQUAL(vt_frame_check_mbuf(pkts[0]), 8, "intact");
	rte_pktmbuf_free(pkts[0]);

	/* One copy (the engine's path between VM ports): a poll of its own. */
	TEST_RUN(rarp_one_copy(&m, mac));

	/* Not a station address: refused (REPLY_ACK), nothing injected. */
	TEST_ASSERT_EQUAL(vh_user_frontend_send_rarp(m.g.fe, group), -EIO, "group MAC refused");
	TEST_ASSERT_EQUAL(vh_user_frontend_send_rarp(m.g.fe, zero), -EIO, "zero MAC refused");
	TEST_ASSERT_EQUAL(vt_vu_rx(&m.e, READER, m.port, 0, pkts, 8), 0, "nothing injected");
	TEST_ASSERT(vh_user_frontend_connected(m.g.fe), "the connection stays");

	/* One never taken goes with the port. */
	TEST_ASSERT_SUCCESS(vh_user_frontend_send_rarp(m.g.fe, mac), "SEND_RARP");
	vt_vu_port_destroy(&m.e, m.port);
	m.port = NULL;
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(m.e.mp), 0, "every mbuf came back");
	mig_close(&m);
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_injects_the_rarp_of_send_rarp, fast, test_rarp)

/*
 * An upgrade (`vswitch --takeover`) right after a VM arrived: the RARP that
 * SEND_RARP queued and no poll took yet is announced by the port that
 * takes over, once, ahead of the guest's frames.
 */
static int
test_rarp_across_hand_over(void)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x58};
	static uint8_t frame[1514];
	struct rte_mbuf *pkts[8];
	struct mig m;
	uint16_t n;

	TEST_RUN(mig_open(&m, "rarp-ho", FEATURES, false));
	vt_frame_fill(frame, sizeof(frame), 11);
	TEST_ASSERT_SUCCESS(vt_guest_send(&m.g, 0, frame, sizeof(frame), NULL, VT_TX_ONE), "send");
	TEST_ASSERT_SUCCESS(vh_user_frontend_send_rarp(m.g.fe, mac), "SEND_RARP");
	TEST_ASSERT_SUCCESS(vt_vu_port_hand_over(&m.e, &m.port, m.spec), "hand-over");
	n = vt_vu_rx(&m.e, READER, m.port, 0, pkts, 8);
	TEST_ASSERT_EQUAL(n, 2, "the announcement and the guest's frame, from the new port");
	TEST_RUN(check_rarp(pkts[0], mac));
	TEST_ASSERT_EQUAL(vt_frame_check_mbuf(pkts[1]), 11, "then the guest's frame");
	rte_pktmbuf_free_bulk(pkts, n);
	TEST_ASSERT_EQUAL(vt_vu_rx(&m.e, READER, m.port, 0, pkts, 8), 0, "only once");
	/* Taken before the hand-over: not announced again. */
	TEST_ASSERT_SUCCESS(vh_user_frontend_send_rarp(m.g.fe, mac), "SEND_RARP");
	TEST_ASSERT_EQUAL(vt_vu_rx(&m.e, READER, m.port, 0, pkts, 8), 1, "taken");
	rte_pktmbuf_free(pkts[0]);
	TEST_ASSERT_SUCCESS(vt_vu_port_hand_over(&m.e, &m.port, m.spec), "hand-over");
	TEST_ASSERT_EQUAL(vt_vu_rx(&m.e, READER, m.port, 0, pkts, 8), 0, "nothing announced twice");
	mig_close(&m);
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_hands_over_a_pending_rarp, fast, test_rarp_across_hand_over)
