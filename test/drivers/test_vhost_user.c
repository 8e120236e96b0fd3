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

/* ---- safety: the data path keeps going while the control path pulls rings away ---- */

/* Takes what came back; every frame must be whole (some may be lost). */
static int
drain_checked(struct vt_guest *g, unsigned int q, uint64_t *got)
{
	static uint8_t buf[VT_FRAME_MAX];
	struct virtio_net_hdr_mrg_rxbuf h;
	uint32_t len;
	int rc;

	while ((rc = vt_guest_recv(g, q, &h, buf, sizeof(buf), &len)) == 1) {
		TEST_ASSERT(vt_frame_check(buf, len) >= 0, "queue %u: a corrupted frame (%u bytes)",
			    q, len);
		TEST_ASSERT(h.hdr.flags == 0 && h.hdr.gso_type == 0, "queue %u: header flags", q);
		(*got)++;
	}
	TEST_ASSERT(rc == 0, "queue %u: malformed receive", q);
	vt_guest_reap_tx(g, q);
	vt_guest_fill_rx(g, q);
	return TEST_SUCCESS;
}

/* Posts up to @p n frames on queue @p q without waiting. */
static void
blast(struct vt_guest *g, unsigned int q, unsigned int n, uint32_t *seq)
{
	static uint8_t frame[2048];

	vt_guest_fill_rx(g, q);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t len = 64 + (*seq % 1400);

		vt_frame_fill(frame, len, *seq);
		if (vt_guest_send(g, q, frame, len, NULL, (enum vt_tx_layout)(*seq % 3)) != 0)
			break;
		(*seq)++;
	}
}

static int
run_chaos(bool packed)
{
	const uint64_t pf_all = 0, pf_no_slots = ~(1ULL << VH_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
	struct vt_vu_worker w[2];
	struct vt_vu_env e;
	struct vt_guest g;
	struct vs_port *port;
	char path[256], spec[512], err[256];
	struct vt_guest_cfg gc = {
		.queues = 2,
		.ring_size = 256,
		.features = ALL | F(VIRTIO_NET_F_MQ) | (packed ? F(VIRTIO_F_RING_PACKED) : 0),
		.buf_size = 2048,
		.indirect_max = 16,
	};
	uint64_t got = 0, loops0, loops1, end;
	uint32_t seq = 0;
	unsigned int round = 0, steps[6] = {0};
	int rc = TEST_SUCCESS;

	TEST_RUN(start_env(&e, "chaos"));
	snprintf(spec, sizeof(spec), "vhost-user,path=%s,queues=2", sock_path(path, sizeof(path)));
	port = vt_vu_port_start(&e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s: %s", spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&g, &gc), "guest memory");
	TEST_ASSERT_SUCCESS(vt_vu_worker_start(&w[0], &e, port, 0, 1, 1, 0), "worker 0");
	TEST_ASSERT_SUCCESS(vt_vu_worker_start(&w[1], &e, port, 1, 1, 2, 1), "worker 1");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&g, path, WAIT_MS), "guest");
	end = vt_now_ms() + 4000;
	while (rc == TEST_SUCCESS && (vt_now_ms() < end || round < 60)) {
		const unsigned int ring = round % 4;
		int r = 0;

		for (unsigned int q = 0; q < 2; q++)
			blast(&g, q, 96, &seq);
		/* The workers are in the middle of those frames now. */
		switch (round % 6) {
		case 0: /* new memory table (REM/ADD_MEM_REG or SET_MEM_TABLE) */
		case 4:
			r = vt_guest_set_memory(&g, !g.two_regions);
			break;
		case 1: /* GET_VRING_BASE, then the ring again from there */
			r = vt_guest_ring_restart(&g, ring);
			break;
		case 2: /* disabled and enabled */
			r = vt_guest_ring_enable(&g, ring, false);
			if (r == 0)
				r = vt_guest_ring_enable(&g, ring, true);
			break;
		case 3: /* the front-end goes away and comes back */
			vt_guest_disconnect(&g);
			g.cfg.protocol_features =
				g.cfg.protocol_features == pf_all ? pf_no_slots : pf_all;
			r = vt_guest_connect(&g, path, WAIT_MS);
			break;
		case 5: /* every ring stopped and started */
			for (unsigned int i = 0; i < 4 && r == 0; i++)
				r = vt_guest_ring_restart(&g, i);
			break;
		}
		if (r != 0) {
			printf("FAIL: round %u, step %u: %s\n", round, round % 6, strerror(-r));
			rc = TEST_FAILED;
			break;
		}
		steps[round % 6]++;
		for (unsigned int q = 0; q < 2 && rc == TEST_SUCCESS; q++)
			rc = drain_checked(&g, q, &got);
		round++;
	}
	loops0 = w[0].loops;
	loops1 = w[1].loops;
	printf("%s: %u rounds (memory %u, restart %u, enable %u, reconnect %u, all rings %u), %u "
	       "frames sent, %" PRIu64 " came back whole; workers looped %" PRIu64 " and %" PRIu64
	       " times, moved %" PRIu64 " and %" PRIu64 " (%" PRIu64 " and %" PRIu64 " dropped)\n",
	       packed ? "packed" : "split", round, steps[0] + steps[4], steps[1], steps[2],
	       steps[3], steps[5], seq, got, loops0, loops1, w[0].rx, w[1].rx, w[0].dropped,
	       w[1].dropped);
	/* Calm again: every frame comes back. */
	for (unsigned int q = 0; q < 2 && rc == TEST_SUCCESS; q++) {
		uint64_t t = vt_now_ms() + 1000;

		while (vt_now_ms() < t)
			drain_checked(&g, q, &got);
		rc = exchange(&g, q, 1518, 200, &seq);
	}
	if (rc == TEST_SUCCESS && (got == 0 || w[0].rx == 0 || w[1].rx == 0)) {
		printf("FAIL: no traffic went through during the changes\n");
		rc = TEST_FAILED;
	}
	if (rc == TEST_SUCCESS) {
		struct vs_port_stats st;

		/* Rings pulled away make tx_burst refuse (the worker drops);
		 * the port itself never found a bad frame or dropped one. */
		vt_vu_stats(&e, port, &st);
		for (unsigned int q = 0; q < 2; q++)
			if (st.rx[q].errors || st.tx[q].errors || st.rx[q].drops ||
			    st.tx[q].drops) {
				printf("FAIL: queue %u counted errors or drops\n", q);
				rc = TEST_FAILED;
			}
	}
	vt_vu_worker_stop(&w[0]);
	vt_vu_worker_stop(&w[1]);
	vt_guest_fini(&g);
	vt_vu_port_destroy(&e, port);
	return vt_vu_env_end(&e, rc);
}

static int
test_vhost_user_port_survives_remap_reset_disconnect(void)
{
	TEST_RUN(run_chaos(false));
	return run_chaos(true);
}
REGISTER_TEST(vhost_user_port_survives_remap_reset_disconnect, fast,
	      test_vhost_user_port_survives_remap_reset_disconnect)

/* ---- a broken ring, malformed frames ---- */

struct one_port {
	struct vt_vu_env e;
	struct vt_vu_worker w;
	struct vt_guest g;
	struct vs_port *port;
	char path[256];
};

/* A port with @p queues, a loopback worker for all of them and a guest. */
static int
one_port_up(struct one_port *o, const char *name, unsigned int queues, uint64_t features)
{
	struct vt_guest_cfg gc = {
		.queues = queues,
		.ring_size = 256,
		.features = features,
		.buf_size = 2048,
	};
	char spec[512], err[256];

	memset(o, 0, sizeof(*o));
	TEST_RUN(start_env(&o->e, name));
	snprintf(spec, sizeof(spec), "vhost-user,path=%s,queues=%u",
		 sock_path(o->path, sizeof(o->path)), queues);
	o->port = vt_vu_port_start(&o->e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(o->port, "%s: %s", spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&o->g, &gc), "guest memory");
	TEST_ASSERT_SUCCESS(vt_vu_worker_start(&o->w, &o->e, o->port, 0, (uint16_t)queues, 1, 0),
			    "worker");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&o->g, o->path, WAIT_MS), "guest");
	TEST_ASSERT(vt_vu_wait_queues(&o->e, o->port, (uint16_t)queues, (uint16_t)queues, WAIT_MS),
		    "queues up");
	return TEST_SUCCESS;
}

static void
one_port_down(struct one_port *o)
{
	vt_vu_worker_stop(&o->w);
	vt_guest_fini(&o->g);
	vt_vu_port_destroy(&o->e, o->port);
	vt_vu_env_fini(&o->e);
}

/* Runs @p body on a port brought up as one_port_up() does, and takes it down whatever the result.
 */
static int
on_one_port(const char *name, unsigned int queues, uint64_t features,
	    int (*body)(struct one_port *o))
{
	struct one_port o;
	int rc;

	TEST_RUN(one_port_up(&o, name, queues, features));
	rc = body(&o);
	one_port_down(&o); /* on failure too: the worker lcore must stop */
	return rc;
}

static bool
fd_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static int
wait_counter(struct one_port *o, bool rx, unsigned int q, uint64_t want_errors, uint64_t want_drops)
{
	uint64_t end = vt_now_ms() + WAIT_MS;
	struct vs_port_stats st;

	do {
		const struct vs_port_queue_stats *s;

		vt_vu_stats(&o->e, o->port, &st);
		s = rx ? &st.rx[q] : &st.tx[q];
		if (s->errors == want_errors && s->drops == want_drops)
			return TEST_SUCCESS;
		usleep(2000);
	} while (vt_now_ms() < end);
	TEST_ASSERT(false,
		    "%s queue %u: errors %" PRIu64 " drops %" PRIu64 ", expected %" PRIu64
		    " and %" PRIu64,
		    rx ? "rx" : "tx", q, rx ? st.rx[q].errors : st.tx[q].errors,
		    rx ? st.rx[q].drops : st.tx[q].drops, want_errors, want_drops);
	return TEST_FAILED;
}

static int
stops_only_a_broken_ring(struct one_port *o)
{
	static uint8_t frame[256];
	struct vq_drv_seg seg = {0x10, 100, 0, 0}; /* far below guest memory */
	struct vq_drv_chain ch = {(void *)(uintptr_t)1, &seg, 1};
	struct vs_port_stats st;
	uint64_t before;
	uint32_t seq = 0;

	TEST_RUN(exchange(&o->g, 0, 64, 50, &seq));
	TEST_RUN(exchange(&o->g, 1, 64, 50, &seq));
	/* Queue 0's transmit ring gets a descriptor outside guest memory. */
	o->g.ring[1].nfree--; /* buffer 0 is "in flight" on the bad chain */
	TEST_ASSERT_EQUAL(vq_drv_post(&o->g.ring[1].q, &ch, 1), 1, "bad chain posted");
	TEST_RUN(wait_counter(o, true, 0, 1, 0));
	TEST_ASSERT(fd_readable(o->g.ring[1].err, WAIT_MS),
		    "the ring's error eventfd was signalled");
	/* The queue takes nothing more... */
	vt_vu_stats(&o->e, o->port, &st);
	before = st.rx[0].packets;
	vt_frame_fill(frame, 100, 7);
	TEST_ASSERT_SUCCESS(vt_guest_send(&o->g, 0, frame, 100, NULL, VT_TX_ONE), "send");
	usleep(200 * 1000);
	vt_vu_stats(&o->e, o->port, &st);
	TEST_ASSERT_EQUAL(st.rx[0].packets, before, "a broken ring is not serviced");
	TEST_ASSERT_EQUAL(st.rx[0].errors, 1, "counted once");
	/* ... the other queue goes on, and the process too. */
	TEST_RUN(exchange(&o->g, 1, 1518, 100, &seq));
	/* The guest resets the device (reconnects): the queue works again. */
	vt_guest_disconnect(&o->g);
	TEST_ASSERT_SUCCESS(vt_guest_connect(&o->g, o->path, WAIT_MS), "guest back");
	return exchange(&o->g, 0, 1518, 100, &seq);
}

static int
test_vhost_user_port_stops_only_a_broken_ring(void)
{
	return on_one_port("broken", 2, BASE | F(VIRTIO_NET_F_MQ), stops_only_a_broken_ring);
}
REGISTER_TEST(vhost_user_port_stops_only_a_broken_ring, fast,
	      test_vhost_user_port_stops_only_a_broken_ring)

static int
counts_malformed_frames(struct one_port *o)
{
	static uint8_t frame[64];
	struct virtio_net_hdr bad = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 60, .csum_offset = 16};
	struct vs_port_stats st;
	uint32_t seq = 0;

	/* Only a header, no frame: dropped and counted; the ring goes on. */
	TEST_ASSERT_SUCCESS(vt_guest_send(&o->g, 0, frame, 0, NULL, VT_TX_ONE), "empty frame");
	TEST_RUN(wait_counter(o, true, 0, 1, 0));
	vt_vu_stats(&o->e, o->port, &st);
	TEST_ASSERT_EQUAL(st.rx[0].drop[VS_DROP_BAD_CHAIN], 1, "a bad chain");
	/* A checksum to be put beyond the frame's end. */
	vt_frame_fill(frame, 64, 1);
	TEST_ASSERT_SUCCESS(vt_guest_send(&o->g, 0, frame, 64, &bad, VT_TX_SPLIT), "bad header");
	TEST_RUN(wait_counter(o, true, 0, 2, 0));
	vt_vu_stats(&o->e, o->port, &st);
	TEST_ASSERT_EQUAL(st.rx[0].drop[VS_DROP_BAD_OFFLOAD], 1, "a bad offload request");
	TEST_ASSERT_EQUAL(st.rx[0].drop[VS_DROP_BAD_CHAIN], 1, "each under one reason");
	vt_guest_reap_tx(&o->g, 0);
	return exchange(&o->g, 0, 64, 100, &seq);
}

static int
test_vhost_user_port_counts_malformed_frames(void)
{
	return on_one_port("malformed", 1, BASE, counts_malformed_frames);
}
REGISTER_TEST(vhost_user_port_counts_malformed_frames, fast,
	      test_vhost_user_port_counts_malformed_frames)

/*
 * A virtio-net header cut into one-byte elements is read whole (the class
 * of CVE-2022-2132: a header split across descriptors read from the first
 * alone). A checksum request whose start and offset lie in later elements
 * and outside the frame is refused; a clean header cut the same way lets
 * its frame through byte for byte.
 */
static int
header_cut_into_bytes(struct one_port *o)
{
	static uint8_t frame[64], got[VT_FRAME_MAX];
	struct virtio_net_hdr bad = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 60, .csum_offset = 16};
	struct virtio_net_hdr_mrg_rxbuf h;
	uint32_t glen = 0, seq = 1;
	uint64_t end;
	int rc = 0;

	TEST_ASSERT(o->g.features & F(VIRTIO_NET_F_CSUM), "CSUM negotiated");
	vt_frame_fill(frame, sizeof(frame), 0);
	TEST_ASSERT_SUCCESS(vt_guest_send(&o->g, 0, frame, sizeof(frame), &bad, VT_TX_HDR_BYTES),
			    "bad header in bytes");
	TEST_RUN(wait_counter(o, true, 0, 1, 0));
	vt_guest_reap_tx(&o->g, 0);
	vt_guest_fill_rx(&o->g, 0);
	TEST_ASSERT_SUCCESS(vt_guest_send(&o->g, 0, frame, sizeof(frame), NULL, VT_TX_HDR_BYTES),
			    "clean header in bytes");
	for (end = vt_now_ms() + WAIT_MS; rc == 0 && vt_now_ms() < end;) {
		rc = vt_guest_recv(&o->g, 0, &h, got, sizeof(got), &glen);
		if (rc == 0)
			usleep(100);
	}
	TEST_ASSERT_EQUAL(rc, 1, "the clean frame came back");
	TEST_ASSERT_EQUAL(glen, (uint32_t)sizeof(frame), "its length");
	TEST_ASSERT_EQUAL(vt_frame_check(got, glen), (int64_t)0, "its bytes");
	vt_guest_reap_tx(&o->g, 0);
	TEST_RUN(wait_counter(o, true, 0, 1, 0));
	return exchange(&o->g, 0, 1518, 50, &seq);
}

static int
test_vhost_user_port_reads_a_header_cut_into_bytes(void)
{
	return on_one_port("hdrbytes", 1, BASE | F(VIRTIO_NET_F_CSUM), header_cut_into_bytes);
}
REGISTER_TEST(vhost_user_port_reads_a_header_cut_into_bytes, fast,
	      test_vhost_user_port_reads_a_header_cut_into_bytes)

/* ---- connections ---- */

static int
refuses_a_second_front_end(struct one_port *o)
{
	uint32_t seq = 0;
	char c;
	int fd;

	int more[50];

	fd = vh_user_connect(o->path);
	TEST_ASSERT(fd >= 0, "a second connection reaches the socket");
	TEST_ASSERT(fd_readable(fd, WAIT_MS), "... and is closed at once");
	TEST_ASSERT_EQUAL(read(fd, &c, 1), 0, "EOF");
	close(fd);
	/* A flood of them changes nothing either. */
	for (int i = 0; i < 50; i++)
		more[i] = vh_user_connect(o->path);
	for (int i = 0; i < 50; i++) {
		if (more[i] < 0)
			continue; /* the backlog was full: refused by the kernel */
		TEST_ASSERT(fd_readable(more[i], WAIT_MS), "connection %d closed", i);
		TEST_ASSERT_EQUAL(read(more[i], &c, 1), 0, "EOF on %d", i);
		close(more[i]);
	}
	/* The first front-end never noticed. */
	return exchange(&o->g, 0, 1518, 100, &seq);
}

static int
test_vhost_user_port_refuses_a_second_front_end(void)
{
	return on_one_port("second", 1, BASE, refuses_a_second_front_end);
}
REGISTER_TEST(vhost_user_port_refuses_a_second_front_end, fast,
	      test_vhost_user_port_refuses_a_second_front_end)

static int
test_vhost_user_port_server_socket_mode(void)
{
	struct vt_vu_env e;
	struct vs_port *port;
	char path[256], spec[512], err[256];
	struct stat st;

	TEST_RUN(start_env(&e, "mode"));
	snprintf(spec, sizeof(spec), "vhost-user,path=%s", sock_path(path, sizeof(path)));
	port = vt_vu_port_start(&e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s", err);
	TEST_ASSERT_SUCCESS(stat(path, &st), "socket exists");
	TEST_ASSERT(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0660, "default mode %o",
		    st.st_mode & 0777);
	vt_vu_port_destroy(&e, port);
	TEST_ASSERT(stat(path, &st) != 0, "socket removed on stop");
	/* vswitch --sock-mode passes the key with a leading zero. */
	snprintf(spec, sizeof(spec), "vhost-user,path=%s,sock-mode=0600", path);
	port = vt_vu_port_start(&e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s", err);
	TEST_ASSERT_SUCCESS(stat(path, &st), "socket exists");
	TEST_ASSERT((st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
	vt_vu_port_destroy(&e, port);
	vt_vu_env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_server_socket_mode, fast, test_vhost_user_port_server_socket_mode)

/* Accepts the port's connection on @p lfd within @p ms. */
static int
accept_within(int lfd, unsigned int ms)
{
	if (!fd_readable(lfd, (int)ms))
		return -ETIMEDOUT;
	return vh_user_accept(lfd);
}

static int
test_vhost_user_port_client_mode_reconnects(void)
{
	struct vt_guest_cfg gc = {.queues = 1, .ring_size = 256, .features = ALL, .buf_size = 2048};
	struct vt_vu_worker w;
	struct vt_vu_env e;
	struct vt_guest g;
	struct vs_port *port;
	char path[256], spec[512], err[256];
	uint32_t seq = 0;
	uint64_t t0;
	int lfd, fd;

	TEST_RUN(start_env(&e, "client"));
	vt_path(path, sizeof(path), "qemu.sock");
	snprintf(spec, sizeof(spec), "vhost-user,path=%s,client=1", path);
	/* Nobody listens yet: the port keeps trying. */
	port = vt_vu_port_start(&e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s", err);
	TEST_ASSERT_SUCCESS(vt_vu_worker_start(&w, &e, port, 0, 1, 1, 0), "worker");
	TEST_ASSERT_SUCCESS(vt_guest_init(&g, &gc), "guest");
	usleep(300 * 1000);
	lfd = vh_user_listen(path);
	TEST_ASSERT(lfd >= 0, "listen");
	fd = accept_within(lfd, WAIT_MS);
	TEST_ASSERT(fd >= 0, "the port connected once the socket appeared");
	TEST_ASSERT_SUCCESS(vt_guest_connect_fd(&g, fd), "guest over the port's connection");
	TEST_ASSERT(vt_vu_wait_queues(&e, port, 1, 1, WAIT_MS), "up");
	TEST_RUN(exchange(&g, 0, 1518, 100, &seq));
	for (int i = 0; i < 3; i++) {
		/* The "VM" restarts: the port sees the hang-up and comes back. */
		vt_guest_disconnect(&g);
		TEST_ASSERT(vt_vu_wait_queues(&e, port, 0, 0, WAIT_MS), "down after the hang-up");
		t0 = vt_now_ms();
		fd = accept_within(lfd, WAIT_MS);
		TEST_ASSERT(fd >= 0, "round %d: the port reconnected", i);
		printf("round %d: reconnected after %" PRIu64 " ms\n", i, vt_now_ms() - t0);
		TEST_ASSERT_SUCCESS(vt_guest_connect_fd(&g, fd), "guest again");
		TEST_ASSERT(vt_vu_wait_queues(&e, port, 1, 1, WAIT_MS), "up again");
		TEST_RUN(exchange(&g, 0, 64, 100, &seq));
	}
	vt_vu_worker_stop(&w);
	vt_guest_fini(&g);
	vt_vu_port_destroy(&e, port);
	/* Stopped: it does not come back. */
	TEST_ASSERT(!fd_readable(lfd, 500), "no connection after stop");
	close(lfd);
	unlink(path);
	vt_vu_env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(vhost_user_port_client_mode_reconnects, fast,
	      test_vhost_user_port_client_mode_reconnects)

/* ---- what the engine hears ---- */

static int
expect_state(struct one_port *o, uint16_t rxq, uint16_t txq, int *changes, const char *when)
{
	struct vs_port_info info;
	int now;

	TEST_ASSERT(vt_vu_wait_queues(&o->e, o->port, rxq, txq, WAIT_MS), "%s: %u rx, %u tx queues",
		    when, rxq, txq);
	vt_vu_info(&o->e, o->port, &info);
	TEST_ASSERT_EQUAL(info.link, rxq > 0 && txq > 0 ? VS_PORT_LINK_UP : VS_PORT_LINK_DOWN,
			  "%s: link", when);
	now = vt_vu_state_changes(&o->e);
	TEST_ASSERT(now > *changes, "%s: state_changed was called", when);
	*changes = now;
	return TEST_SUCCESS;
}

static int
reports_queue_and_link_changes(struct one_port *o)
{
	struct vs_port_info info;
	int changes = 0;

	TEST_RUN(expect_state(o, 2, 2, &changes, "connected"));
	vt_vu_info(&o->e, o->port, &info);
	TEST_ASSERT(strcmp(info.type, "vhost-user") == 0 && info.max_queues == 2, "type, queues");
	TEST_ASSERT(strstr(info.detail, "connected") != NULL, "detail '%s'", info.detail);
	/* The guest stops using queue 1's receive ring, then queue 0's. */
	TEST_ASSERT_SUCCESS(vt_guest_ring_enable(&o->g, 2, false), "disable ring 2");
	TEST_RUN(expect_state(o, 2, 1, &changes, "ring 2 disabled"));
	TEST_ASSERT_SUCCESS(vt_guest_ring_enable(&o->g, 0, false), "disable ring 0");
	TEST_RUN(expect_state(o, 2, 0, &changes, "ring 0 disabled"));
	TEST_ASSERT_SUCCESS(vt_guest_ring_enable(&o->g, 0, true), "enable ring 0");
	TEST_ASSERT_SUCCESS(vt_guest_ring_enable(&o->g, 2, true), "enable ring 2");
	TEST_RUN(expect_state(o, 2, 2, &changes, "enabled again"));
	/*
	 * A disabled transmit ring is still polled (its packets are discarded,
	 * vhost-user "Ring states"): the queue counts stay, nothing to report.
	 */
	TEST_ASSERT_SUCCESS(vt_guest_ring_enable(&o->g, 3, false), "disable ring 3");
	TEST_ASSERT_SUCCESS(vt_guest_set_memory(&o->g, o->g.two_regions), "a round trip");
	vt_vu_info(&o->e, o->port, &info);
	TEST_ASSERT(info.nb_rxq == 2 && info.nb_txq == 2, "ring 3 disabled: %u rx, %u tx",
		    info.nb_rxq, info.nb_txq);
	TEST_ASSERT_EQUAL(vt_vu_state_changes(&o->e), changes, "no report");
	TEST_ASSERT_SUCCESS(vt_guest_ring_enable(&o->g, 3, true), "enable ring 3");
	/* Nothing changes: nothing reported. */
	TEST_ASSERT_SUCCESS(vt_guest_set_memory(&o->g, o->g.two_regions), "same memory table");
	TEST_ASSERT_EQUAL(vt_vu_state_changes(&o->e), changes, "no report without a change");
	vt_guest_disconnect(&o->g);
	TEST_RUN(expect_state(o, 0, 0, &changes, "disconnected"));
	return TEST_SUCCESS;
}

static int
test_vhost_user_port_reports_queue_and_link_changes(void)
{
	return on_one_port("state", 2, BASE | F(VIRTIO_NET_F_MQ), reports_queue_and_link_changes);
}
REGISTER_TEST(vhost_user_port_reports_queue_and_link_changes, fast,
	      test_vhost_user_port_reports_queue_and_link_changes)

/* ---- offloads, guest to guest ---- */

#define OFFLOADS (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6))
#define GUEST_OFFLOADS                                                                             \
	(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))

/* Polls @p port's queue 0 until it yields one packet. */
static struct rte_mbuf *
rx_one(struct vt_vu_env *e, struct vs_port *port)
{
	uint64_t end = vt_now_ms() + WAIT_MS;
	struct rte_mbuf *m = NULL;

	while (vt_now_ms() < end && vt_vu_rx(e, 0, port, 0, &m, 1) == 0)
		usleep(100);
	return m;
}

/* Waits for one frame on @p g's queue 0. */
static int
recv_one(struct vt_guest *g, struct virtio_net_hdr_mrg_rxbuf *h, uint8_t *f, uint32_t *len)
{
	uint64_t end = vt_now_ms() + WAIT_MS;
	int rc;

	while ((rc = vt_guest_recv(g, 0, h, f, VT_FRAME_MAX, len)) == 0 && vt_now_ms() < end)
		usleep(100);
	return rc;
}

static int
test_vhost_user_port_carries_offloads_between_guests(void)
{
	static uint8_t f[VT_FRAME_MAX], got[VT_FRAME_MAX], before[VT_FRAME_MAX];
	struct vt_guest_cfg ca = {.queues = 1,
				  .ring_size = 256,
				  .features = ALL | OFFLOADS | GUEST_OFFLOADS,
				  .buf_size = 2048,
				  .tx_buf_size = 10240};
	struct vt_guest_cfg cb = ca;
	struct virtio_net_hdr hdr = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
	struct virtio_net_hdr_mrg_rxbuf h;
	struct vs_port *a, *b;
	struct vs_port_stats st;
	struct vt_guest ga, gb;
	struct vt_vu_env e;
	struct rte_mbuf *m;
	char pa[256], pb[256], spec[512], err[256];
	uint32_t len, glen;

	cb.features = ALL | OFFLOADS; /* no receive offloads */
	TEST_RUN(start_env(&e, "offl"));
	vt_vu_reader_register(&e, 0);
	snprintf(spec, sizeof(spec), "vhost-user,path=%s", vt_path(pa, sizeof(pa), "a.sock"));
	a = vt_vu_port_start(&e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(a, "%s", err);
	snprintf(spec, sizeof(spec), "vhost-user,path=%s", vt_path(pb, sizeof(pb), "b.sock"));
	b = vt_vu_port_start(&e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(b, "%s", err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&ga, &ca), "guest a");
	TEST_ASSERT_SUCCESS(vt_guest_init(&gb, &cb), "guest b");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&ga, pa, WAIT_MS), "a connects");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&gb, pb, WAIT_MS), "b connects");
	TEST_ASSERT(vt_vu_wait_queues(&e, a, 1, 1, WAIT_MS) &&
			    vt_vu_wait_queues(&e, b, 1, 1, WAIT_MS),
		    "both up");
	TEST_ASSERT((ga.features & (OFFLOADS | GUEST_OFFLOADS)) == (OFFLOADS | GUEST_OFFLOADS),
		    "a negotiated every offload (0x%" PRIx64 ")", ga.features);
	vt_guest_fill_rx(&ga, 0);
	vt_guest_fill_rx(&gb, 0);

	/* 1. A partial TCP checksum from a. */
	len = vt_frame_tcp4(f, 1000);
	TEST_ASSERT_SUCCESS(vt_guest_send(&ga, 0, f, len, &hdr, VT_TX_SPLIT), "a sends");
	m = rx_one(&e, a);
	TEST_ASSERT_NOT_NULL(m, "the port received it");
	TEST_ASSERT_EQUAL(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM, "mbuf flags");
	TEST_ASSERT(m->l2_len == 14 && m->l3_len == 20 && m->l4_len == 20, "lengths");
	TEST_ASSERT_EQUAL(m->pkt_len, len, "length");
	memcpy(before, rte_pktmbuf_mtod(m, void *), len);
	/* Shared by both destinations (as a flood would): read only. */
	rte_mbuf_refcnt_update(m, 2);
	TEST_ASSERT_EQUAL(vt_vu_tx(&e, 0, a, 0, &m, 1), 1, "back to a");
	TEST_ASSERT_EQUAL(vt_vu_tx(&e, 0, b, 0, &m, 1), 1, "on to b");
	TEST_ASSERT(memcmp(rte_pktmbuf_mtod(m, void *), before, len) == 0,
		    "the shared mbuf was not written");
	rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL(recv_one(&ga, &h, got, &glen), 1, "a receives");
	TEST_ASSERT(h.hdr.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.hdr.csum_start == 34 &&
			    h.hdr.csum_offset == 16 && h.hdr.gso_type == 0,
		    "a (GUEST_CSUM) gets the checksum to finish itself");
	TEST_ASSERT(glen == len && memcmp(got, f, len) == 0, "a: frame as sent");
	TEST_ASSERT_EQUAL(recv_one(&gb, &h, got, &glen), 1, "b receives");
	TEST_ASSERT(h.hdr.flags == 0 && h.hdr.gso_type == 0, "b (no GUEST_CSUM): plain header");
	TEST_ASSERT(glen == len && vt_frame_tcp4_csum_ok(got), "b: checksum completed");
	TEST_ASSERT(memcmp(got, f, 50) == 0 && memcmp(got + 52, f + 52, len - 52) == 0,
		    "b: nothing else changed");

	/* 2. A 4000-byte TCP segment for TSO from a. */
	hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	hdr.gso_size = 1448;
	hdr.hdr_len = 54;
	len = vt_frame_tcp4(f, 4000);
	TEST_ASSERT_SUCCESS(vt_guest_send(&ga, 0, f, len, &hdr, VT_TX_MANY), "a sends TSO");
	m = rx_one(&e, a);
	TEST_ASSERT_NOT_NULL(m, "the port received it");
	TEST_ASSERT(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG && m->tso_segsz == 1448, "TSO flags");
	TEST_ASSERT(m->nb_segs > 1 && m->pkt_len == len, "chained, %u bytes", m->pkt_len);
	rte_mbuf_refcnt_update(m, 1);
	TEST_ASSERT_EQUAL(vt_vu_tx(&e, 0, a, 0, &m, 1), 1, "back to a");
	TEST_ASSERT_EQUAL(recv_one(&ga, &h, got, &glen), 1, "a receives");
	TEST_ASSERT(h.hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && h.hdr.gso_size == 1448 &&
			    h.hdr.hdr_len == 54 && h.hdr.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
			    h.num_buffers > 1,
		    "a (GUEST_TSO4) gets the whole segment, merged from %u buffers", h.num_buffers);
	TEST_ASSERT(glen == len && memcmp(got, f, len) == 0, "a: frame as sent");
	/* b cannot take it whole, and we do not segment: dropped, counted. */
	TEST_ASSERT_EQUAL(vt_vu_tx(&e, 0, b, 0, &m, 1), 1, "consumed by b's port");
	vt_vu_stats(&e, b, &st);
	TEST_ASSERT_EQUAL(st.tx[0].drops, 1, "b's port counted the drop");
	TEST_ASSERT_EQUAL(st.tx[0].drop[VS_DROP_BAD_OFFLOAD], 1, "as an offload b cannot take");
	TEST_ASSERT_EQUAL(st.tx[0].packets, 1, "and sent only the first frame");
	usleep(20000);
	TEST_ASSERT_EQUAL(vt_guest_recv(&gb, 0, &h, got, sizeof(got), &glen), 0, "b got nothing");

	vt_guest_fini(&ga);
	vt_guest_fini(&gb);
	vt_vu_port_destroy(&e, a);
	vt_vu_port_destroy(&e, b);
	vt_vu_reader_unregister(&e, 0);
	return vt_vu_env_end(&e, TEST_SUCCESS);
}
REGISTER_TEST(vhost_user_port_carries_offloads_between_guests, fast,
	      test_vhost_user_port_carries_offloads_between_guests)
