/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for the virtio port's tests. See vt_virtio_port.h.
 */
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "test.h"
#include "test_eal.h"
#include "vt_virtio_port.h"

#define ETH_P_TEST 0x88b5 /* IEEE 802 local experimental */

static const uint8_t src_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

int
vt_vport_eal(char *why, size_t len)
{
	static const char *const extra[] = {"--single-file-segments", NULL};

	return vt_eal_init_args("virtio-port", extra, why, len);
}

struct rte_mempool *
vt_vport_pool(void)
{
	static struct rte_mempool *mp;

	if (mp == NULL)
		mp = rte_pktmbuf_pool_create("vt_vport_mp", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
	return mp;
}

static void
on_change(struct vs_port *port, void *arg)
{
	struct vt_vport *v = arg;

	(void)port;
	v->changes++;
}

int
vt_vport_create(struct vt_vport *v, const char *text, char *err, size_t len)
{
	struct vs_port_env env = {0};
	struct vs_port_spec spec;

	memset(v, 0, sizeof(*v));
	v->loop = vs_evloop_create();
	if (v->loop == NULL) {
		snprintf(err, len, "no event loop");
		return -ENOMEM;
	}
	env.mp = vt_vport_pool();
	env.loop = v->loop;
	env.socket_id = SOCKET_ID_ANY;
	env.state_changed = on_change;
	env.arg = v;
	if (vs_port_spec_parse(text, &spec, err, len) != 0)
		return -EINVAL;
	v->port = vs_port_create("vp0", &spec, &env, err, len);
	return v->port != NULL ? 0 : -EINVAL;
}

int
vt_vport_start(struct vt_vport *v)
{
	int rc = v->port->ops->start(v->port);

	v->started = rc == 0;
	return rc;
}

bool
vt_vport_wait_queues(struct vt_vport *v, unsigned int rxq, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;
	struct vs_port_info info;

	for (;;) {
		v->port->ops->info_get(v->port, &info);
		if (info.nb_rxq == rxq && info.nb_txq == rxq &&
		    info.link == (rxq ? VS_PORT_LINK_UP : VS_PORT_LINK_DOWN))
			return true;
		if (vt_now_ms() >= end)
			return false;
		vs_evloop_run_once(v->loop, 20);
	}
}

void
vt_vport_destroy(struct vt_vport *v)
{
	if (v->port != NULL) {
		if (v->started)
			v->port->ops->stop(v->port);
		v->port->ops->destroy(v->port);
	}
	v->port = NULL;
	vs_evloop_destroy(v->loop);
	v->loop = NULL;
}

static inline uint8_t
pattern(uint32_t seq, uint16_t q, uint32_t i)
{
	return (uint8_t)(seq * 31 + i * 7 + q);
}

struct rte_mbuf *
vt_vport_frame(struct rte_mempool *mp, uint32_t len, uint32_t seq, uint16_t q, const uint8_t dst[6])
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(mp), *tail = head;
	uint32_t off = 0;

	if (head == NULL)
		return NULL;
	while (off < len) {
		uint32_t room = rte_pktmbuf_tailroom(tail), n = RTE_MIN(room, len - off);
		uint8_t *d;

		if (n == 0) {
			struct rte_mbuf *s = rte_pktmbuf_alloc(mp);

			if (s == NULL || rte_pktmbuf_chain(head, s) != 0) {
				rte_pktmbuf_free(s);
				rte_pktmbuf_free(head);
				return NULL;
			}
			tail = s;
			continue;
		}
		/* Appends to the last segment, which is tail. */
		d = (uint8_t *)rte_pktmbuf_append(head, (uint16_t)n);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t at = off + i;

			if (at < 6)
				d[i] = dst[at];
			else if (at < 12)
				d[i] = src_mac[at - 6];
			else if (at == 12)
				d[i] = ETH_P_TEST >> 8;
			else if (at == 13)
				d[i] = ETH_P_TEST & 0xff;
			else if (at < 18)
				d[i] = (uint8_t)(seq >> (8 * (at - 14)));
			else if (at < 20)
				d[i] = (uint8_t)(q >> (8 * (at - 18)));
			else
				d[i] = pattern(seq, q, at);
		}
		off += n;
	}
	return head;
}

int64_t
vt_vport_frame_check(const struct rte_mbuf *m, uint32_t len, uint16_t q, const uint8_t dst[6])
{
	uint8_t hdr[20];
	const uint8_t *h = rte_pktmbuf_read(m, 0, sizeof(hdr), hdr);
	uint32_t seq, off = 0, segs_len = 0;
	uint16_t nsegs = 0;

	if (rte_pktmbuf_pkt_len(m) != len || h == NULL) {
		printf("frame of %u bytes, expected %u\n", rte_pktmbuf_pkt_len(m), len);
		return -1;
	}
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		segs_len += s->data_len;
		nsegs++;
	}
	if (segs_len != len || nsegs != m->nb_segs) {
		printf("segments hold %u bytes in %u (nb_segs %u), pkt_len %u\n", segs_len, nsegs,
		       m->nb_segs, len);
		return -1;
	}
	if (memcmp(h, dst, 6) != 0 || memcmp(h + 6, src_mac, 6) != 0 ||
	    h[12] != (ETH_P_TEST >> 8) || h[13] != (ETH_P_TEST & 0xff) ||
	    (uint16_t)(h[18] | h[19] << 8) != q) {
		printf("frame header changed (queue %u):", q);
		for (int i = 0; i < 20; i++)
			printf(" %02x", h[i]);
		printf("\n");
		return -1;
	}
	seq = (uint32_t)h[14] | (uint32_t)h[15] << 8 | (uint32_t)h[16] << 16 |
	      (uint32_t)h[17] << 24;
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		const uint8_t *d = rte_pktmbuf_mtod(s, const uint8_t *);

		for (uint32_t i = 0; i < s->data_len; i++, off++)
			if (off >= 20 && d[i] != pattern(seq, q, off)) {
				printf("frame %u byte %u: 0x%02x, expected 0x%02x\n", seq, off,
				       d[i], pattern(seq, q, off));
				return -1;
			}
	}
	return seq;
}

int
vt_vport_loop(struct vt_vport *v, unsigned int nq, uint32_t len, uint32_t count,
	      unsigned int window, const uint8_t dst[6], unsigned int timeout_ms,
	      struct vt_loop_result *res)
{
	struct rte_mempool *mp = vt_vport_pool();
	uint64_t start = rte_get_timer_cycles(), end = vt_now_ms() + timeout_ms, last_loop = 0;
	uint64_t done = 0;

	memset(res, 0, sizeof(*res));
	while (done < (uint64_t)nq * count && vt_now_ms() < end) {
		bool idle = true;

		for (uint16_t q = 0; q < nq; q++) {
			struct rte_mbuf *pkts[32];
			uint64_t inflight = res->sent[q] - res->received[q];
			unsigned int k = 0, n;

			while (k < 32 && inflight + k < window && res->sent[q] + k < count) {
				pkts[k] = vt_vport_frame(mp, len, (uint32_t)(res->sent[q] + k), q,
							 dst);
				if (pkts[k] == NULL)
					break;
				k++;
			}
			n = k ? vs_port_tx_burst(v->port, q, pkts, (uint16_t)k) : 0;
			for (unsigned int i = n; i < k; i++)
				rte_pktmbuf_free(pkts[i]);
			res->sent[q] += n;
			res->bytes_sent[q] += (uint64_t)n * len;
			idle = idle && n == 0;
			n = vs_port_rx_burst(v->port, q, pkts, 32);
			idle = idle && n == 0;
			for (unsigned int i = 0; i < n; i++) {
				uint8_t et[2];
				const uint8_t *e = rte_pktmbuf_read(pkts[i], 12, 2, et);
				int64_t seq;

				/* Not ours (a router solicitation on a tap): not counted. */
				if (e == NULL || e[0] != (ETH_P_TEST >> 8) ||
				    e[1] != (ETH_P_TEST & 0xff)) {
					res->other++;
					rte_pktmbuf_free(pkts[i]);
					continue;
				}
				seq = vt_vport_frame_check(pkts[i], len, q, dst);

				if (seq != (int64_t)res->received[q]) {
					if (res->bad++ == 0)
						printf("queue %u: frame %" PRId64 " where %" PRIu64
						       " was due\n",
						       q, seq, res->received[q]);
				} else {
					res->received[q]++;
					done++;
				}
				rte_pktmbuf_free(pkts[i]);
			}
		}
		/* Nothing moved: leave the CPU to the peer (one vCPU in a guest). */
		if (idle)
			usleep(20);
		if (vt_now_ms() != last_loop) {
			last_loop = vt_now_ms();
			vs_evloop_run_once(v->loop, 0);
		}
	}
	res->mpps = (double)done * rte_get_timer_hz() /
		    (double)(rte_get_timer_cycles() - start + 1) / 1e6;
	for (unsigned int q = 0; q < nq; q++) {
		if (res->sent[q] != count || res->received[q] != count) {
			printf("FAIL: %u-byte frames, queue %u: sent %" PRIu64 ", received %" PRIu64
			       " of %u (%" PRIu64 " bad)\n",
			       len, q, res->sent[q], res->received[q], count, res->bad);
			return TEST_FAILED;
		}
	}
	if (res->bad != 0) {
		printf("FAIL: %" PRIu64 " frames were not what was sent\n", res->bad);
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}
