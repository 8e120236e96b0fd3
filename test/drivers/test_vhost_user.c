/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user" against a guest made of lib/vhost's front-end and
 * lib/virtq's driver side (test/drivers/vt_vu.h), in one process without
 * hugepages: frames both ways with every byte checked, for the ring formats
 * and features a front-end may negotiate; connection handling (second
 * connection, client mode, state reports); a broken ring.
 */
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "test.h"
#include "vhost_user_conn.h"
#include "vt_vu.h"

#define F(bit)	(1ULL << (bit))
#define WAIT_MS 5000

/* A frame size per round; 9000 needs mergeable or big buffers. */
static const uint32_t sizes[] = {64, 1518, 9000, 60 + 14, 2048, 4000};

struct lb_case {
	const char *name;
	unsigned int queues;
	uint64_t features;
	unsigned int buf_size; /* guest RX buffers */
	unsigned int indirect_max;
	bool split_memory;
};

static const char *
sock_path(char *buf, size_t len)
{
	return vt_path(buf, len, "vu.sock");
}

static int
start_env(struct vt_vu_env *e, const char *name)
{
	char why[256];

	if (vt_vu_env_init(e, name, 8191, 0, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	return TEST_SUCCESS;
}

/*
 * Sends @p count frames of @p len bytes on queue @p q (layouts rotating)
 * through the port's loopback worker and checks that each comes back whole
 * with a zero header. Frames go in windows the rings can hold.
 */
static int
exchange(struct vt_guest *g, unsigned int q, uint32_t len, unsigned int count, uint32_t *seq)
{
	static uint8_t frame[VT_FRAME_MAX], got[VT_FRAME_MAX];
	/* Frames per window: the RX buffers and TX descriptors they need fit
	 * the rings twice over. */
	const unsigned int rx_bufs = (len + g->hdr_len + g->cfg.buf_size - 1) / g->cfg.buf_size;
	const unsigned int tx_descs = 2 + len / 700;
	const unsigned int per_frame = rx_bufs > tx_descs ? rx_bufs : tx_descs;
	unsigned int window = g->cfg.ring_size / (2 * per_frame);
	unsigned int sent = 0, recvd = 0;

	window = window < 1 ? 1 : window > 64 ? 64 : window;
	while (recvd < count) {
		unsigned int burst = RTE_MIN(window, count - sent);
		uint64_t deadline = vt_now_ms() + WAIT_MS;

		vt_guest_fill_rx(g, q);
		for (unsigned int i = 0; i < burst; i++) {
			int rc;

			vt_frame_fill(frame, len, *seq + sent);
			rc = vt_guest_send(g, q, frame, len, NULL,
					   (enum vt_tx_layout)((sent + i) % 3));
			TEST_ASSERT_SUCCESS(rc, "queue %u: send frame %u of %u bytes", q, sent,
					    len);
			sent++;
		}
		while (recvd < sent) {
			struct virtio_net_hdr_mrg_rxbuf h;
			uint32_t glen;
			int rc = vt_guest_recv(g, q, &h, got, sizeof(got), &glen);

			vt_guest_reap_tx(g, q);
			vt_guest_fill_rx(g, q);
			if (rc == 0) {
				TEST_ASSERT(vt_now_ms() < deadline,
					    "queue %u: %u of %u frames of %u bytes came back", q,
					    recvd, sent, len);
				usleep(100);
				continue;
			}
			TEST_ASSERT_EQUAL(rc, 1, "queue %u: malformed receive", q);
			TEST_ASSERT_EQUAL(glen, len, "queue %u: frame %u length", q, recvd);
			TEST_ASSERT_EQUAL(vt_frame_check(got, glen), *seq + recvd,
					  "queue %u: frame %u bytes or order", q, recvd);
			TEST_ASSERT(h.hdr.flags == 0 && h.hdr.gso_type == 0 &&
					    h.hdr.csum_start == 0 && h.hdr.gso_size == 0,
				    "queue %u: offload-free frame got a header with flags", q);
			recvd++;
		}
	}
	*seq += count;
	return TEST_SUCCESS;
}

static int
run_loopback(const struct lb_case *c)
{
	const bool mrg = c->features & F(VIRTIO_NET_F_MRG_RXBUF);
	struct vt_vu_worker w[2];
	struct vt_vu_env e;
	struct vt_guest g;
	struct vs_port *port;
	struct vs_port_stats st;
	char path[256], spec[512], err[256];
	struct vt_guest_cfg gc = {
		.queues = c->queues,
		.ring_size = 256,
		.features = c->features,
		.buf_size = c->buf_size,
		.tx_buf_size = 10240,
		.indirect_max = c->indirect_max,
		.split_memory = c->split_memory,
	};
	uint64_t frames = 0, bytes = 0, rx_pk = 0, tx_pk = 0, rx_by = 0, tx_by = 0;
	uint32_t seq = 0;
	int rc = TEST_SUCCESS;

	TEST_RUN(start_env(&e, "lb"));
	snprintf(spec, sizeof(spec), "vhost-user,path=%s,queues=%u", sock_path(path, sizeof(path)),
		 c->queues);
	port = vt_vu_port_start(&e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s: %s", spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&g, &gc), "guest memory");
	/* Queues split between two workers, one thread per queue. */
	TEST_ASSERT_SUCCESS(
		vt_vu_worker_start(&w[0], &e, port, 0, (uint16_t)((c->queues + 1) / 2), 1, 0),
		"worker 0");
	if (c->queues > 1)
		TEST_ASSERT_SUCCESS(vt_vu_worker_start(&w[1], &e, port,
						       (uint16_t)((c->queues + 1) / 2),
						       (uint16_t)(c->queues / 2), 2, 1),
				    "worker 1");
	else
		w[1].launched = false;
	rc = vt_guest_connect(&g, path, WAIT_MS);
	if (rc != 0) {
		printf("FAIL: %s: guest connect: %s\n", c->name, strerror(-rc));
		rc = TEST_FAILED;
		goto out;
	}
	if (!vt_vu_wait_queues(&e, port, (uint16_t)c->queues, (uint16_t)c->queues, WAIT_MS)) {
		printf("FAIL: %s: the port did not report %u queues up\n", c->name, c->queues);
		rc = TEST_FAILED;
		goto out;
	}
	printf("%s: negotiated 0x%" PRIx64 "\n", c->name, g.features);
	for (unsigned int q = 0; q < c->queues && rc == TEST_SUCCESS; q++) {
		for (size_t s = 0; s < RTE_DIM(sizes) && rc == TEST_SUCCESS; s++) {
			/* Without mergeable buffers a frame must fit one buffer. */
			if (!mrg && sizes[s] + g.hdr_len > c->buf_size)
				continue;
			rc = exchange(&g, q, sizes[s], 300, &seq);
			frames += 300;
			bytes += 300ull * sizes[s];
		}
	}
	vt_vu_stats(&e, port, &st);
	if (rc != TEST_SUCCESS) {
		for (unsigned int q = 0; q < c->queues; q++)
			printf("queue %u: rx %" PRIu64 " (%" PRIu64 " drops, %" PRIu64
			       " errors), tx %" PRIu64 " (%" PRIu64 " drops, %" PRIu64 " errors)\n",
			       q, st.rx[q].packets, st.rx[q].drops, st.rx[q].errors,
			       st.tx[q].packets, st.tx[q].drops, st.tx[q].errors);
		goto out;
	}
	for (unsigned int q = 0; q < c->queues; q++) {
		rx_pk += st.rx[q].packets;
		tx_pk += st.tx[q].packets;
		rx_by += st.rx[q].bytes;
		tx_by += st.tx[q].bytes;
		if (st.rx[q].errors || st.tx[q].errors || st.rx[q].drops || st.tx[q].drops) {
			printf("FAIL: %s: queue %u counted errors or drops\n", c->name, q);
			rc = TEST_FAILED;
		}
	}
	if (rx_pk != frames || tx_pk != frames || rx_by != bytes || tx_by != bytes) {
		printf("FAIL: %s: counters rx %" PRIu64 "/%" PRIu64 " tx %" PRIu64 "/%" PRIu64
		       ", expected %" PRIu64 "/%" PRIu64 "\n",
		       c->name, rx_pk, rx_by, tx_pk, tx_by, frames, bytes);
		rc = TEST_FAILED;
	}
	vt_guest_disconnect(&g);
	if (rc == TEST_SUCCESS && !vt_vu_wait_queues(&e, port, 0, 0, WAIT_MS)) {
		printf("FAIL: %s: queues still reported after the guest left\n", c->name);
		rc = TEST_FAILED;
	}
out:
	vt_vu_worker_stop(&w[0]);
	vt_vu_worker_stop(&w[1]);
	vt_guest_fini(&g);
	vt_vu_port_destroy(&e, port);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(e.mp), 0, "%s: every mbuf came back", c->name);
	vt_vu_env_fini(&e);
	return rc;
}

#define BASE (F(VIRTIO_F_VERSION_1))
#define ALL                                                                                        \
	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_EVENT_IDX) |          \
	 F(VIRTIO_RING_F_INDIRECT_DESC) | F(VIRTIO_F_IN_ORDER))

static int
test_vhost_user_port_loopback_split(void)
{
	static const struct lb_case cases[] = {
		{"split, no options, big buffers", 1, BASE, 10240, 0, false},
		{"split, mrg_rxbuf, event_idx", 1,
		 BASE | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_EVENT_IDX), 2048, 0, false},
		{"split, in_order, indirect", 1,
		 BASE | F(VIRTIO_F_IN_ORDER) | F(VIRTIO_RING_F_INDIRECT_DESC), 10240, 16, false},
		{"split, everything, two regions", 1, ALL, 2048, 16, true},
		{"split, legacy header", 1, 0, 10240, 0, false},
	};

	for (size_t i = 0; i < RTE_DIM(cases); i++)
		TEST_RUN(run_loopback(&cases[i]));
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_loopback_split, fast, test_vhost_user_port_loopback_split)

static int
test_vhost_user_port_loopback_packed(void)
{
	static const struct lb_case cases[] = {
		{"packed, no options, big buffers", 1, BASE | F(VIRTIO_F_RING_PACKED), 10240, 0,
		 false},
		{"packed, mrg_rxbuf, in_order", 1,
		 BASE | F(VIRTIO_F_RING_PACKED) | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_F_IN_ORDER),
		 2048, 0, false},
		{"packed, everything, two regions", 1, ALL | F(VIRTIO_F_RING_PACKED), 2048, 16,
		 true},
	};

	for (size_t i = 0; i < RTE_DIM(cases); i++)
		TEST_RUN(run_loopback(&cases[i]));
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_loopback_packed, fast, test_vhost_user_port_loopback_packed)

static int
test_vhost_user_port_loopback_4_queues(void)
{
	static const struct lb_case cases[] = {
		{"split, 4 queue pairs", 4, ALL | F(VIRTIO_NET_F_MQ), 2048, 16, false},
		{"packed, 4 queue pairs", 4, ALL | F(VIRTIO_NET_F_MQ) | F(VIRTIO_F_RING_PACKED),
		 2048, 16, false},
	};

	for (size_t i = 0; i < RTE_DIM(cases); i++)
		TEST_RUN(run_loopback(&cases[i]));
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_loopback_4_queues, fast, test_vhost_user_port_loopback_4_queues)

static int
test_vhost_user_port_rejects_bad_specs(void)
{
	static const struct {
		const char *spec;
		const char *why;
	} bad[] = {
		{"vhost-user", "needs path"},
		{"vhost-user,queues=2", "needs path"},
		{"vhost-user,path=/tmp/"
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		 "xxxxxxxx"
		 "xxxxxxxxxxxxxxxxxxxxxx",
		 "key 'path'"},
		{"vhost-user,path=/tmp/a,queues=0", "key 'queues'"},
		{"vhost-user,path=/tmp/a,queues=9", "key 'queues'"},
		{"vhost-user,path=/tmp/a,client=2", "key 'client'"},
		{"vhost-user,path=/tmp/a,sock-mode=999", "key 'sock-mode'"},
		{"vhost-user,path=/tmp/a,sock-mode=1000", "key 'sock-mode'"},
		{"vhost-user,path=/tmp/a,sock-mode=-1", "key 'sock-mode'"},
		{"vhost-user,path=/tmp/a,sock-mode=rw", "key 'sock-mode'"},
		{"vhost-user,path=/tmp/a,bogus=1", "unknown key 'bogus'"},
	};
	struct vt_vu_env e;
	struct vs_port *port;
	char err[256];

	TEST_RUN(start_env(&e, "spec"));
	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		port = vt_vu_port_start(&e, bad[i].spec, err, sizeof(err));
		TEST_ASSERT(port == NULL, "'%s' was accepted", bad[i].spec);
		TEST_ASSERT(strstr(err, bad[i].why) != NULL, "'%s': error '%s' lacks '%s'",
			    bad[i].spec, err, bad[i].why);
	}
	vt_vu_env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_rejects_bad_specs, fast, test_vhost_user_port_rejects_bad_specs)
