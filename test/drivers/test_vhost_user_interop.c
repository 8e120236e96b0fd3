/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user" against a real front-end: dpdk-testpmd with
 * net_virtio_user ports, io forwarding with --port-topology=loop, so every
 * frame our port sends to the "guest" comes straight back. The test sends
 * frames with known contents through tx_burst and checks each one that
 * comes back through rx_burst (bytes and order), then compares the counts
 * with our port's counters and testpmd's own.
 *
 * The matrix: split and packed, mrg_rxbuf on and off, in_order on and off,
 * 1 and 4 queue pairs, 64, 1518 and 9000 byte frames (9000: chained mbufs on
 * our side; merged buffers, or testpmd's 10 KiB mbufs without mrg_rxbuf).
 * One testpmd per (queue count, mrg_rxbuf) serves the four combinations of
 * the other two on four ports.
 *
 * Then client mode (testpmd listens, our port connects, and reconnects after
 * testpmd restarts and after our own restart), and restarts while workers
 * burst.
 */
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "vt_testpmd.h"
#include "vt_vu.h"

#define WAIT_MS	  20000
#define WINDOW	  32
#define PER_QUEUE 256
#define READER	  0

static const uint32_t io_sizes[] = {64, 1518, 9000};

static int
env_or_skip(struct vt_vu_env *e, const char *name)
{
	char why[256];

	if (!vt_testpmd_usable(why, sizeof(why)))
		TEST_SKIP("%s", why);
	if (vt_vu_env_init(e, name, 16383, 0, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	vt_vu_reader_register(e, READER);
	return TEST_SUCCESS;
}

static void
env_done(struct vt_vu_env *e)
{
	vt_vu_reader_unregister(e, READER);
	vt_vu_env_fini(e);
}

/* tx_burst as a worker does it: online on the RCU variable meanwhile. */
static uint16_t
tx_some(struct vt_vu_env *e, struct vs_port *port, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent;

	rte_rcu_qsbr_thread_online(e->qsbr, READER);
	sent = vs_port_tx_burst(port, q, pkts, n);
	rte_rcu_qsbr_quiescent(e->qsbr, READER);
	rte_rcu_qsbr_thread_offline(e->qsbr, READER);
	return sent;
}

/*
 * Sends @p count frames of @p len bytes on each queue and checks that each
 * comes back, whole and in order, on the same queue.
 */
static int
io_exchange(struct vt_vu_env *e, struct vs_port *port, const char *what, unsigned int queues,
	    uint32_t len, unsigned int count, uint32_t *seq)
{
	struct rte_mbuf *pkts[WINDOW];

	for (uint16_t q = 0; q < queues; q++) {
		unsigned int done = 0;

		while (done < count) {
			const unsigned int w = count - done < WINDOW ? count - done : WINDOW;
			const uint64_t end = vt_now_ms() + WAIT_MS;
			unsigned int sent = 0, back = 0;

			for (unsigned int i = 0; i < w; i++) {
				pkts[i] = vt_frame_mbuf(e->mp, len, *seq + i);
				TEST_ASSERT_NOT_NULL(pkts[i], "mbufs for %u-byte frames", len);
			}
			while (sent < w) {
				sent += tx_some(e, port, q, pkts + sent, (uint16_t)(w - sent));
				if (sent < w && vt_now_ms() > end) {
					rte_pktmbuf_free_bulk(pkts + sent, w - sent);
					TEST_ASSERT(false,
						    "%s q%u: %u of %u frames of %u bytes sent",
						    what, q, sent, w, len);
				}
			}
			while (back < w) {
				uint16_t n = vt_vu_rx(e, READER, port, q, pkts, WINDOW);

				for (uint16_t i = 0; i < n; i++) {
					int64_t s = vt_frame_check_mbuf(pkts[i]);
					uint32_t plen = pkts[i]->pkt_len;

					rte_pktmbuf_free(pkts[i]);
					TEST_ASSERT_EQUAL(plen, len, "%s q%u: length of frame %u",
							  what, q, *seq + back);
					TEST_ASSERT_EQUAL(s, *seq + back,
							  "%s q%u: bytes or order of frame %u",
							  what, q, *seq + back);
					back++;
				}
				TEST_ASSERT(back >= w || vt_now_ms() < end,
					    "%s q%u: %u of %u frames of %u bytes came back", what,
					    q, back, w, len);
				if (n == 0)
					usleep(50);
			}
			done += w;
			*seq += w;
		}
	}
	return TEST_SUCCESS;
}

/* Our counters and testpmd's for one port after @p frames of @p bytes each way. */
static int
check_counts(struct vt_vu_env *e, struct vs_port *port, struct vt_testpmd *t, unsigned int tp_port,
	     const char *what, unsigned int queues, uint64_t frames, uint64_t bytes)
{
	uint64_t rx = 0, rxb = 0, tx = 0, txb = 0, trx, trxb, ttx, ttxb;
	struct vs_port_stats st;

	vt_vu_stats(e, port, &st);
	for (unsigned int q = 0; q < queues; q++) {
		rx += st.rx[q].packets;
		rxb += st.rx[q].bytes;
		tx += st.tx[q].packets;
		txb += st.tx[q].bytes;
		TEST_ASSERT(st.rx[q].errors + st.tx[q].errors + st.rx[q].drops + st.tx[q].drops ==
				    0,
			    "%s: queue %u counted errors or drops", what, q);
	}
	TEST_ASSERT(rx == frames && tx == frames && rxb == bytes && txb == bytes,
		    "%s: our counters rx %" PRIu64 "/%" PRIu64 " tx %" PRIu64 "/%" PRIu64
		    ", expected %" PRIu64 "/%" PRIu64,
		    what, rx, rxb, tx, txb, frames, bytes);
	TEST_ASSERT_SUCCESS(vt_testpmd_port_stats(t, tp_port, &trx, &trxb, &ttx, &ttxb),
			    "%s: testpmd's stats", what);
	TEST_ASSERT(trx == frames && ttx == frames && trxb == bytes && ttxb == bytes,
		    "%s: testpmd counted rx %" PRIu64 "/%" PRIu64 " tx %" PRIu64 "/%" PRIu64
		    ", expected %" PRIu64 "/%" PRIu64,
		    what, trx, trxb, ttx, ttxb, frames, bytes);
	return TEST_SUCCESS;
}

/* Four ports (split/packed x in_order off/on) for one queue count and mrg_rxbuf. */
static int
run_matrix(unsigned int queues, bool mrg)
{
	static const char *const extra_mrg[] = {"--forward-mode=io",	   "--port-topology=loop",
						"--max-pkt-len=9600",	   "--enable-scatter",
						"--total-num-mbufs=40960", NULL};
	/* Mbufs: every RX ring full and every TX ring holding what it sent
	 * until its lazy clean-up (5 mbufs per 9000-byte frame with 2 KiB
	 * mbufs): 16 queues x 256 x (1 + 5) plus caches. Without mergeable
	 * buffers a 9000-byte frame needs one big buffer. */
	static const char *const extra_big[] = {"--forward-mode=io",	   "--port-topology=loop",
						"--max-pkt-len=9600",	   "--mbuf-size=10240",
						"--total-num-mbufs=12288", NULL};
	struct vs_port *port[4] = {NULL};
	struct vt_vdev v[4];
	char path[4][256], spec[512], err[256], what[128], tag[32];
	struct vt_testpmd t;
	struct vt_vu_env e;
	uint32_t seq = 0;
	int rc = TEST_SUCCESS;

	TEST_RUN(env_or_skip(&e, "io"));
	memset(&t, 0, sizeof(t));
	for (unsigned int i = 0; i < 4; i++) {
		char name[32];

		snprintf(name, sizeof(name), "io%u.sock", i);
		vt_path(path[i], sizeof(path[i]), name);
		snprintf(spec, sizeof(spec), "vhost-user,path=%s,queues=%u", path[i], queues);
		port[i] = vt_vu_port_start(&e, spec, err, sizeof(err));
		if (port[i] == NULL) {
			printf("FAIL: %s: %s\n", spec, err);
			rc = TEST_FAILED;
			goto out;
		}
		v[i] = (struct vt_vdev){path[i], queues, i & 1, mrg, (i & 2) != 0, false};
	}
	snprintf(tag, sizeof(tag), "io%u%c", queues, mrg ? 'm' : 'n');
	if (vt_testpmd_start(&t, tag, v, 4, mrg ? extra_mrg : extra_big, 1) != 0 ||
	    vt_testpmd_wait_ready(&t, 60000) != 0) {
		vt_testpmd_dump(&t);
		printf("FAIL: testpmd did not come up\n");
		rc = TEST_FAILED;
		goto out;
	}
	for (unsigned int i = 0; i < 4; i++) {
		if (!vt_vu_wait_queues(&e, port[i], (uint16_t)queues, (uint16_t)queues, WAIT_MS)) {
			vt_testpmd_dump(&t);
			printf("FAIL: port %u did not get %u queues up\n", i, queues);
			rc = TEST_FAILED;
			goto out;
		}
	}
	if (vt_testpmd_cmd(&t, "start", 10000) != 0) {
		rc = TEST_FAILED;
		goto out;
	}
	for (unsigned int i = 0; i < 4 && rc == TEST_SUCCESS; i++) {
		uint64_t frames = 0, bytes = 0;

		snprintf(what, sizeof(what), "%s, mrg_rxbuf %s, in_order %s, %u queue(s)",
			 v[i].packed ? "packed" : "split", mrg ? "on" : "off",
			 v[i].in_order ? "on" : "off", queues);
		for (size_t s = 0; s < RTE_DIM(io_sizes) && rc == TEST_SUCCESS; s++) {
			rc = io_exchange(&e, port[i], what, queues, io_sizes[s], PER_QUEUE, &seq);
			frames += (uint64_t)PER_QUEUE * queues;
			bytes += (uint64_t)PER_QUEUE * queues * io_sizes[s];
		}
		if (rc == TEST_SUCCESS)
			rc = check_counts(&e, port[i], &t, i, what, queues, frames, bytes);
		if (rc == TEST_SUCCESS)
			printf("%s: %" PRIu64 " frames each way, every byte checked\n", what,
			       frames);
	}
	if (rc != TEST_SUCCESS) {
		vt_testpmd_dump(&t);
		for (unsigned int i = 0; i < 4; i++) {
			struct vs_port_stats st;
			uint64_t a, b, c, d;

			vt_vu_stats(&e, port[i], &st);
			printf("port %u: ours rx %" PRIu64 " (%" PRIu64 " drops %" PRIu64
			       " errors) tx %" PRIu64 " (%" PRIu64 " drops %" PRIu64 " errors)",
			       i, st.rx[0].packets, st.rx[0].drops, st.rx[0].errors,
			       st.tx[0].packets, st.tx[0].drops, st.tx[0].errors);
			if (vt_testpmd_port_stats(&t, i, &a, &b, &c, &d) == 0)
				printf("; testpmd rx %" PRIu64 "/%" PRIu64 " tx %" PRIu64
				       "/%" PRIu64,
				       a, b, c, d);
			printf("\n");
		}
	}
out:
	vt_testpmd_stop(&t);
	for (unsigned int i = 0; i < 4; i++)
		vt_vu_port_destroy(&e, port[i]);
	env_done(&e);
	return rc;
}

static int
test_vhost_user_port_testpmd_1q_mrg(void)
{
	return run_matrix(1, true);
}
REGISTER_TEST(vhost_user_port_testpmd_1q_mrg, interop, test_vhost_user_port_testpmd_1q_mrg)

static int
test_vhost_user_port_testpmd_1q_no_mrg(void)
{
	return run_matrix(1, false);
}
REGISTER_TEST(vhost_user_port_testpmd_1q_no_mrg, interop, test_vhost_user_port_testpmd_1q_no_mrg)

static int
test_vhost_user_port_testpmd_4q_mrg(void)
{
	return run_matrix(4, true);
}
REGISTER_TEST(vhost_user_port_testpmd_4q_mrg, interop, test_vhost_user_port_testpmd_4q_mrg)

static int
test_vhost_user_port_testpmd_4q_no_mrg(void)
{
	return run_matrix(4, false);
}
REGISTER_TEST(vhost_user_port_testpmd_4q_no_mrg, interop, test_vhost_user_port_testpmd_4q_no_mrg)

/* ---- client mode: testpmd listens, our port connects ---- */

static int
test_vhost_user_port_testpmd_client_reconnects(void)
{
	static const char *const extra[] = {"--forward-mode=io", "--port-topology=loop",
					    "--total-num-mbufs=8192", NULL};
	struct vs_port *port = NULL;
	char path[256], spec[512], err[256];
	struct vt_testpmd t;
	struct vt_vu_env e;
	struct vt_vdev v;
	uint32_t seq = 0;
	int rc = TEST_SUCCESS;

	TEST_RUN(env_or_skip(&e, "cl"));
	memset(&t, 0, sizeof(t));
	vt_path(path, sizeof(path), "server.sock");
	v = (struct vt_vdev){path, 2, false, true, false, true};
	snprintf(spec, sizeof(spec), "vhost-user,path=%s,client=1,queues=2", path);
	/* Our port first: it retries until testpmd's socket is there. */
	port = vt_vu_port_start(&e, spec, err, sizeof(err));
	if (port == NULL) {
		printf("FAIL: %s: %s\n", spec, err);
		rc = TEST_FAILED;
		goto out;
	}
	for (int round = 0; round < 3 && rc == TEST_SUCCESS; round++) {
		char tag[16], what[64];
		uint64_t t0 = vt_now_ms();

		v.packed = round == 1;
		snprintf(tag, sizeof(tag), "cl%d", round);
		snprintf(what, sizeof(what), "round %d (%s)", round, v.packed ? "packed" : "split");
		/* testpmd waits in its start-up until we connect. */
		if (vt_testpmd_start(&t, tag, &v, 1, extra, 1) != 0 ||
		    vt_testpmd_wait_ready(&t, 60000) != 0 ||
		    !vt_vu_wait_queues(&e, port, 2, 2, WAIT_MS) ||
		    vt_testpmd_cmd(&t, "start", 10000) != 0) {
			vt_testpmd_dump(&t);
			printf("FAIL: %s: testpmd and our client did not come up\n", what);
			rc = TEST_FAILED;
			break;
		}
		printf("%s: connected and up after %" PRIu64 " ms\n", what, vt_now_ms() - t0);
		for (size_t s = 0; s < RTE_DIM(io_sizes) && rc == TEST_SUCCESS; s++)
			rc = io_exchange(&e, port, what, 2, io_sizes[s], 64, &seq);
		/* We restart (the switch crashed) while testpmd stays: it
		 * waits for us and sets the rings up again from base 0. */
		if (rc == TEST_SUCCESS) {
			vt_vu_port_destroy(&e, port);
			port = vt_vu_port_start(&e, spec, err, sizeof(err));
			if (port == NULL || !vt_vu_wait_queues(&e, port, 2, 2, WAIT_MS)) {
				printf("FAIL: %s: our port did not come back\n", what);
				rc = TEST_FAILED;
			}
		}
		for (size_t s = 0; s < RTE_DIM(io_sizes) && rc == TEST_SUCCESS; s++)
			rc = io_exchange(&e, port, what, 2, io_sizes[s], 64, &seq);
		if (rc != TEST_SUCCESS)
			vt_testpmd_dump(&t);
		/* The peer goes away: link down, then we try again. */
		vt_testpmd_stop(&t);
		if (rc == TEST_SUCCESS && !vt_vu_wait_queues(&e, port, 0, 0, WAIT_MS)) {
			printf("FAIL: %s: still up after testpmd quit\n", what);
			rc = TEST_FAILED;
		}
	}
out:
	vt_testpmd_stop(&t);
	vt_vu_port_destroy(&e, port);
	env_done(&e);
	return rc;
}
REGISTER_TEST(vhost_user_port_testpmd_client_reconnects, interop,
	      test_vhost_user_port_testpmd_client_reconnects)

/* ---- the peer restarts and resets its rings while workers burst ---- */

/* Waits until the workers moved at least @p more packets. */
static bool
traffic_flows(struct vt_vu_worker *w, unsigned int nw, uint64_t more, unsigned int ms)
{
	uint64_t start = 0, end = vt_now_ms() + ms, now;

	for (unsigned int i = 0; i < nw; i++)
		start += __atomic_load_n(&w[i].tx, __ATOMIC_RELAXED);
	do {
		now = 0;
		for (unsigned int i = 0; i < nw; i++)
			now += __atomic_load_n(&w[i].tx, __ATOMIC_RELAXED);
		if (now - start >= more)
			return true;
		usleep(10000);
	} while (vt_now_ms() < end);
	return false;
}

static int
test_vhost_user_port_survives_testpmd_restarts(void)
{
	static const char *const extra[] = {"--forward-mode=io", "--port-topology=loop",
					    "--total-num-mbufs=8192", NULL};
	struct vs_port *port = NULL;
	struct vt_vu_worker w[2];
	char path[256], spec[512], err[256];
	struct vs_port_stats st;
	struct vt_testpmd t;
	struct vt_vu_env e;
	struct vt_vdev v;
	int rc = TEST_SUCCESS;

	memset(w, 0, sizeof(w));
	memset(&t, 0, sizeof(t));
	TEST_RUN(env_or_skip(&e, "rs"));
	vt_path(path, sizeof(path), "restart.sock");
	snprintf(spec, sizeof(spec), "vhost-user,path=%s,queues=2", path);
	port = vt_vu_port_start(&e, spec, err, sizeof(err));
	if (port == NULL) {
		printf("FAIL: %s: %s\n", spec, err);
		rc = TEST_FAILED;
		goto out;
	}
	/* Two workers loop every packet back, without pause, throughout. */
	if (vt_vu_worker_start(&w[0], &e, port, 0, 1, 1, 1) != 0 ||
	    vt_vu_worker_start(&w[1], &e, port, 1, 1, 2, 2) != 0) {
		printf("FAIL: workers\n");
		rc = TEST_FAILED;
		goto out;
	}
	for (int round = 0; round < 4 && rc == TEST_SUCCESS; round++) {
		char tag[16];

		v = (struct vt_vdev){path, 2, round % 2 == 1, true, round >= 2, false};
		snprintf(tag, sizeof(tag), "rs%d", round);
		if (vt_testpmd_start(&t, tag, &v, 1, extra, 0) != 0 ||
		    vt_testpmd_wait_ready(&t, 60000) != 0 ||
		    !vt_vu_wait_queues(&e, port, 2, 2, WAIT_MS) ||
		    vt_testpmd_cmd(&t, "start tx_first 8", 10000) != 0) {
			vt_testpmd_dump(&t);
			printf("FAIL: round %d: testpmd did not come up\n", round);
			rc = TEST_FAILED;
			break;
		}
		if (!traffic_flows(w, 2, 10000, WAIT_MS)) {
			printf("FAIL: round %d: no traffic\n", round);
			rc = TEST_FAILED;
			break;
		}
		/* testpmd stops and starts its port: every ring is stopped
		 * (GET_VRING_BASE) and started again under the workers. */
		if (vt_testpmd_cmd(&t, "stop", 10000) != 0 ||
		    vt_testpmd_cmd(&t, "port stop 0", 20000) != 0 ||
		    vt_testpmd_cmd(&t, "port start 0", 20000) != 0 ||
		    vt_testpmd_cmd(&t, "start tx_first 8", 10000) != 0 ||
		    !traffic_flows(w, 2, 10000, WAIT_MS)) {
			vt_testpmd_dump(&t);
			printf("FAIL: round %d: no traffic after the port restarted\n", round);
			rc = TEST_FAILED;
			break;
		}
		/* Then it dies in the middle of the traffic (odd rounds: killed). */
		if (round % 2 == 1)
			kill(-t.p.pid, SIGKILL);
		vt_testpmd_stop(&t);
		if (!vt_vu_wait_queues(&e, port, 0, 0, WAIT_MS)) {
			printf("FAIL: round %d: still up after testpmd went away\n", round);
			rc = TEST_FAILED;
		}
		printf("round %d: workers moved %" PRIu64 " and %" PRIu64 " packets so far\n",
		       round, w[0].tx, w[1].tx);
	}
	vt_vu_stats(&e, port, &st);
	for (unsigned int q = 0; q < 2 && rc == TEST_SUCCESS; q++)
		if (st.rx[q].errors || st.tx[q].errors) {
			printf("FAIL: queue %u counted errors\n", q);
			rc = TEST_FAILED;
		}
out:
	vt_testpmd_stop(&t);
	vt_vu_worker_stop(&w[0]);
	vt_vu_worker_stop(&w[1]);
	vt_vu_port_destroy(&e, port);
	env_done(&e);
	return rc;
}
REGISTER_TEST(vhost_user_port_survives_testpmd_restarts, interop,
	      test_vhost_user_port_survives_testpmd_restarts)
