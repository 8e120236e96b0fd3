/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user", ring rules the spec sets for the device, driven
 * by hand (no worker: the test calls the bursts): a started but disabled
 * guest TX ring is processed and discarded, a poll that finds no mbuf
 * leaves the packets in the ring without counting them as drops, and a
 * packet waiting for mergeable buffers is judged by buffers, not by the
 * descriptors a packed ring spends on them.
 */
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "test.h"
#include "vt_vu.h"

#define F(bit)	(1ULL << (bit))
#define WAIT_MS 5000
#define READER	0

struct hand {
	struct vt_vu_env e;
	struct vt_guest g;
	struct vs_port *port;
	bool guest, reader;
	char path[256];
};

static int
hand_up(struct hand *h, const char *name, unsigned int nmbufs, const struct vt_guest_cfg *gc)
{
	char spec[512], why[256], err[256];

	memset(h, 0, sizeof(*h));
	if (vt_vu_env_init(&h->e, name, nmbufs, 0, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	snprintf(spec, sizeof(spec), "vhost-user,path=%s,queues=1",
		 vt_path(h->path, sizeof(h->path), "vur.sock"));
	h->port = vt_vu_port_start(&h->e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(h->port, "%s: %s", spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&h->g, gc), "guest memory");
	h->guest = true;
	TEST_ASSERT_SUCCESS(vt_guest_connect(&h->g, h->path, WAIT_MS), "guest");
	TEST_ASSERT(vt_vu_wait_queues(&h->e, h->port, 1, 1, WAIT_MS), "queues up");
	vt_vu_reader_register(&h->e, READER);
	h->reader = true;
	return TEST_SUCCESS;
}

static void
hand_down(struct hand *h)
{
	if (h->reader)
		vt_vu_reader_unregister(&h->e, READER);
	if (h->guest)
		vt_guest_fini(&h->g);
	if (h->port != NULL)
		vt_vu_port_destroy(&h->e, h->port);
	vt_vu_env_fini(&h->e);
}

/* Runs @p body between hand_up() and hand_down(), whatever its result. */
static int
on_hand(const char *name, unsigned int nmbufs, const struct vt_guest_cfg *gc,
	int (*body)(struct hand *h))
{
	struct hand h;
	int rc = hand_up(&h, name, nmbufs, gc);

	if (rc == TEST_SUCCESS)
		rc = body(&h);
	if (rc != TEST_SKIPPED)
		hand_down(&h);
	return rc;
}

static int
send_frames(struct hand *h, unsigned int n, uint32_t len, uint32_t seq)
{
	static uint8_t frame[VT_FRAME_MAX];

	for (unsigned int i = 0; i < n; i++) {
		vt_frame_fill(frame, len, seq + i);
		TEST_ASSERT_SUCCESS(vt_guest_send(&h->g, 0, frame, len, NULL, VT_TX_ONE), "send %u",
				    i);
	}
	return TEST_SUCCESS;
}

static struct vs_port_queue_stats
rx_stats(struct hand *h)
{
	struct vs_port_stats st;

	vt_vu_stats(&h->e, h->port, &st);
	return st.rx[0];
}

/* Receives until @p want packets came or the deadline passed; frees them. */
static unsigned int
rx_until(struct hand *h, unsigned int want)
{
	uint64_t end = vt_now_ms() + WAIT_MS;
	unsigned int got = 0;

	while (got < want && vt_now_ms() < end) {
		struct rte_mbuf *m[32];
		uint16_t n = vt_vu_rx(&h->e, READER, h->port, 0, m, 32);

		for (uint16_t i = 0; i < n; i++)
			rte_pktmbuf_free(m[i]);
		got += n;
		if (n == 0)
			usleep(200);
	}
	return got;
}

/*
 * vhost-user "Ring states": a started, disabled ring; "for a networking
 * device, in the disabled state the back-end ... must process and discard
 * any TX packets". The guest gets its buffers back; nothing is forwarded.
 */
static int
discards_disabled_tx(struct hand *h)
{
	uint64_t end = vt_now_ms() + WAIT_MS;
	unsigned int reaped = 0;
	struct vs_port_info info;

	TEST_ASSERT_SUCCESS(vt_guest_ring_enable(&h->g, 1, false), "disable the guest's TX ring");
	vt_vu_info(&h->e, h->port, &info);
	TEST_ASSERT(info.nb_rxq == 1, "a disabled TX ring is still polled (%u rx queues)",
		    info.nb_rxq);
	TEST_RUN(send_frames(h, 8, 200, 0));
	while (reaped < 8 && vt_now_ms() < end) {
		struct rte_mbuf *m[32];

		TEST_ASSERT_EQUAL(vt_vu_rx(&h->e, READER, h->port, 0, m, 32), 0,
				  "nothing from a disabled ring is forwarded");
		reaped += vt_guest_reap_tx(&h->g, 0);
	}
	TEST_ASSERT_EQUAL(reaped, 8, "the guest got its 8 transmit buffers back");
	TEST_ASSERT_EQUAL(rx_stats(h).drops, 8, "counted as drops");
	TEST_ASSERT_EQUAL(rx_stats(h).packets, 0, "not as packets");
	/* Enabled again: forwarded again. */
	TEST_ASSERT_SUCCESS(vt_guest_ring_enable(&h->g, 1, true), "enable");
	TEST_RUN(send_frames(h, 4, 200, 100));
	TEST_ASSERT_EQUAL(rx_until(h, 4), 4, "forwarded once enabled");
	return TEST_SUCCESS;
}

static int
test_discards_disabled_tx(void)
{
	const struct vt_guest_cfg gc = {
		.queues = 1, .ring_size = 64, .features = F(VIRTIO_F_VERSION_1), .buf_size = 2048};

	return on_hand("vur-disabled", 2047, &gc, discards_disabled_tx);
}
REGISTER_TEST(vhost_user_port_discards_tx_of_a_disabled_ring, fast, test_discards_disabled_tx)

/*
 * Out of mbufs, the port leaves the guest's packets in its ring for the
 * next poll: nothing is lost, so nothing is counted as dropped.
 */
static int
no_drops_without_mbufs(struct hand *h)
{
	struct rte_mbuf *held[2048];
	unsigned int n = 0;
	struct rte_mbuf *m[32];

	TEST_RUN(send_frames(h, 16, 100, 0));
	while (n < RTE_DIM(held) && (held[n] = rte_pktmbuf_alloc(h->e.mp)) != NULL)
		n++;
	TEST_ASSERT(n < RTE_DIM(held), "the pool ran dry");
	for (int i = 0; i < 10; i++)
		TEST_ASSERT_EQUAL(vt_vu_rx(&h->e, READER, h->port, 0, m, 32), 0,
				  "no mbuf, no packet");
	TEST_ASSERT_EQUAL(rx_stats(h).drops, 0, "packets left in the ring are not drops");
	rte_pktmbuf_free_bulk(held, n);
	TEST_ASSERT_EQUAL(rx_until(h, 16), 16, "all 16 come once mbufs are back");
	TEST_ASSERT_EQUAL(rx_stats(h).drops, 0, "none was dropped");
	return TEST_SUCCESS;
}

static int
test_no_drops_without_mbufs(void)
{
	const struct vt_guest_cfg gc = {
		.queues = 1, .ring_size = 64, .features = F(VIRTIO_F_VERSION_1), .buf_size = 2048};

	return on_hand("vur-nombuf", 1023, &gc, no_drops_without_mbufs);
}
REGISTER_TEST(vhost_user_port_counts_no_drop_when_mbufs_run_out, fast, test_no_drops_without_mbufs)

/*
 * Mergeable buffers on a packed ring whose every RX buffer takes two
 * descriptors: 32 buffers (64 descriptors) are posted; a frame needing 40
 * must wait for more buffers, not be dropped as if 64 buffers could not
 * hold it. Once the guest posts more, it arrives whole.
 */
static int
waits_for_buffers(struct hand *h)
{
	static uint8_t frame[VT_FRAME_MAX], got[VT_FRAME_MAX];
	const uint32_t len = 40 * 128 - 12 - 64; /* 40 buffers of 128 bytes */
	struct virtio_net_hdr_mrg_rxbuf hdr;
	uint64_t end = vt_now_ms() + WAIT_MS;
	struct rte_mbuf *m;
	uint32_t glen = 0;
	int rc = 0;

	TEST_ASSERT_EQUAL(vt_guest_fill_rx_max(&h->g, 0, 32), 32, "32 buffers posted");
	vt_frame_fill(frame, len, 7);
	m = vt_frame_mbuf(h->e.mp, len, 7);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	TEST_ASSERT_EQUAL(vt_vu_tx(&h->e, READER, h->port, 0, &m, 1), 0,
			  "no room yet: the port keeps it (not taken)");
	{
		struct vs_port_stats st;

		vt_vu_stats(&h->e, h->port, &st);
		TEST_ASSERT_EQUAL(st.tx[0].drops, 0, "not dropped: 32 buffers are not 64");
	}
	vt_guest_fill_rx(&h->g, 0);
	m = vt_frame_mbuf(h->e.mp, len, 7);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	TEST_ASSERT_EQUAL(vt_vu_tx(&h->e, READER, h->port, 0, &m, 1), 1, "sent with more buffers");
	while (vt_now_ms() < end &&
	       (rc = vt_guest_recv(&h->g, 0, &hdr, got, sizeof(got), &glen)) == 0)
		usleep(100);
	TEST_ASSERT_EQUAL(rc, 1, "received");
	TEST_ASSERT_EQUAL(hdr.num_buffers, 40, "across 40 buffers");
	TEST_ASSERT(glen == len && vt_frame_check(got, glen) == 7, "whole (%u bytes)", glen);
	return TEST_SUCCESS;
}

static int
test_waits_for_buffers(void)
{
	const struct vt_guest_cfg gc = {.queues = 1,
					.ring_size = 256,
					.features = F(VIRTIO_F_VERSION_1) |
						    F(VIRTIO_F_RING_PACKED) |
						    F(VIRTIO_NET_F_MRG_RXBUF),
					.buf_size = 128,
					.rx_descs = 2};

	return on_hand("vur-mrgbufs", 2047, &gc, waits_for_buffers);
}
REGISTER_TEST(vhost_user_port_waits_for_mergeable_buffers_not_descriptors, fast,
	      test_waits_for_buffers)
