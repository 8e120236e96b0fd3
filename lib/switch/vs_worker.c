/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fast path: one worker polls its (port, queue) pairs, classifies each
 * burst (VLAN), learns sources, looks destinations up, and sends bursts per
 * destination port. Rare cases (flooding, tagging, drops) are out of line.
 */
#include <string.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "vs_frame_key.h"
#include "vs_switch_priv.h"

#define PREFETCH_AHEAD 4
#define NO_DEST	       0xffff
/* How long a worker with nothing to poll sleeps between looks. */
#define IDLE_SLEEP_US 1000

static const uint16_t be_vlan = RTE_BE16(RTE_ETHER_TYPE_VLAN);

/* Inserts an 802.1Q tag for @p vid; @p m must be unshared and direct. */
static int
vlan_push(struct rte_mbuf *m, uint16_t vid)
{
	struct rte_vlan_hdr *vh;
	char *p;

	if (m->data_len < RTE_ETHER_HDR_LEN || rte_pktmbuf_headroom(m) < sizeof(*vh))
		return -1;
	p = rte_pktmbuf_prepend(m, sizeof(*vh));
	memmove(p, p + sizeof(*vh), 2 * RTE_ETHER_ADDR_LEN);
	memcpy(p + 2 * RTE_ETHER_ADDR_LEN, &be_vlan, sizeof(be_vlan));
	vh = (struct rte_vlan_hdr *)(p + 2 * RTE_ETHER_ADDR_LEN + sizeof(be_vlan));
	/* The inner type field is the frame's old type: already in place. */
	vh->vlan_tci = rte_cpu_to_be_16(vid);
	/*
	 * Offload offsets (l2_len counts the tags) must follow: a checksum
	 * still to be done for a guest would otherwise land 4 bytes early.
	 */
	if (m->l2_len != 0 && m->l2_len <= (1u << RTE_MBUF_L2_LEN_BITS) - 1 - sizeof(*vh))
		m->l2_len += sizeof(*vh);
	return 0;
}

/* Removes the outer 802.1Q tag; @p m must be unshared and direct. */
static int
vlan_pop(struct rte_mbuf *m)
{
	char *p = rte_pktmbuf_mtod(m, char *);

	if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr))
		return -1;
	memmove(p + sizeof(struct rte_vlan_hdr), p, 2 * RTE_ETHER_ADDR_LEN);
	rte_pktmbuf_adj(m, sizeof(struct rte_vlan_hdr));
	/* As in vlan_push(): the offload offsets lose the tag too. */
	if (m->l2_len >= RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr))
		m->l2_len -= sizeof(struct rte_vlan_hdr);
	return 0;
}

static inline void
txbuf_add(struct vs_worker *w, uint16_t d, struct rte_mbuf *m)
{
	struct vs_txbuf *b = &w->txbuf[d];

	if (b->n == 0)
		w->touched[w->nb_touched++] = d;
	b->bytes += m->pkt_len;
	b->pkts[b->n++] = m;
}

/*
 * Rewrites @p m for a destination of the other kind (access <-> trunk).
 * Returns -1 when it cannot (no room, runt).
 */
static __rte_noinline int
retag(struct rte_mbuf *m, bool to_trunk, uint16_t vid)
{
	return to_trunk ? vlan_push(m, vid) : vlan_pop(m);
}

/*
 * Floods @p m (received on @p in, VLAN @p vid) to every other up port of
 * the VLAN. Ports of the same kind as @p in (access or trunk) share @p m by
 * reference count; ports of the other kind share one retagged copy, so
 * nobody writes a packet another port still sends.
 */
static __rte_noinline void
flood(struct vs_worker *w, const struct vs_dp *dp, uint16_t in, struct rte_mbuf *m, uint16_t vid)
{
	const uint16_t *mem = dp->members + dp->vlan_off[vid];
	unsigned int cnt = dp->vlan_cnt[vid], same = 0, other = 0;
	bool in_trunk = dp->ports[in].access == 0;
	struct rte_mbuf *o = NULL;

	VS_COUNTER_ADD(w->ports[in].flooded, 1);
	for (unsigned int j = 0; j < cnt; j++) {
		uint16_t d = mem[j];

		if (d == in)
			continue;
		if ((dp->ports[d].access == 0) == in_trunk)
			same++;
		else
			other++;
	}
	if (other > 0) {
		if (same == 0) {
			o = m;
			m = NULL;
		} else {
			o = rte_pktmbuf_copy(m, w->sw->mp, 0, UINT32_MAX);
		}
		if (o == NULL || retag(o, !in_trunk, vid) != 0) {
			unsigned int why = o == NULL ? VS_DROP_NO_MBUF : VS_DROP_NO_HEADROOM;

			/* Counted on each destination that misses it. */
			for (unsigned int j = 0; j < cnt; j++)
				if (mem[j] != in && (dp->ports[mem[j]].access == 0) != in_trunk)
					VS_COUNTER_ADD(w->drops[mem[j]].tx[why], 1);
			rte_pktmbuf_free(o);
			o = NULL;
			other = 0;
		}
	}
	if (m != NULL && same == 0) {
		rte_pktmbuf_free(m);
		m = NULL;
	}
	if (m != NULL && same > 1)
		rte_pktmbuf_refcnt_update(m, (int16_t)(same - 1));
	if (o != NULL && other > 1)
		rte_pktmbuf_refcnt_update(o, (int16_t)(other - 1));
	for (unsigned int j = 0; j < cnt; j++) {
		uint16_t d = mem[j];

		if (d == in)
			continue;
		if ((dp->ports[d].access == 0) == in_trunk) {
			if (m != NULL)
				txbuf_add(w, d, m);
		} else if (o != NULL) {
			txbuf_add(w, d, o);
		}
	}
}

/* Drops @p m received on port @p in, counted under @p why. */
static __rte_noinline void
drop_rx(struct vs_worker *w, uint16_t in, struct rte_mbuf *m, unsigned int why)
{
	rte_pktmbuf_free(m);
	VS_COUNTER_ADD(w->drops[in].rx[why], 1);
}

/* Drops @p m meant for port @p d, counted under @p why. */
static __rte_noinline void
drop_tx(struct vs_worker *w, uint16_t d, struct rte_mbuf *m, unsigned int why)
{
	rte_pktmbuf_free(m);
	VS_COUNTER_ADD(w->drops[d].tx[why], 1);
}

/* A whole burst from an administratively down port: received, then dropped. */
static __rte_noinline void
drop_burst_admin_down(struct vs_worker *w, uint16_t in, struct rte_mbuf **pkts, uint16_t n)
{
	struct vs_counters *ic = &w->ports[in];
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++) {
		bytes += pkts[i]->pkt_len;
		rte_pktmbuf_free(pkts[i]);
	}
	VS_COUNTER_ADD(ic->rx_packets, n);
	VS_COUNTER_ADD(ic->rx_bytes, bytes);
	VS_COUNTER_ADD(w->drops[in].rx[VS_DROP_ADMIN_DOWN], n);
}

/*
 * Classifies a frame from an access port carrying a tag: a priority tag
 * (VID 0) is removed and the frame belongs to the access VLAN; any other
 * tagged frame is not the port's to send.
 */
static __rte_noinline bool
access_tagged_ok(struct rte_mbuf *m)
{
	const struct rte_vlan_hdr *vh;

	if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*vh) || RTE_MBUF_CLONED(m) ||
	    rte_mbuf_refcnt_read(m) != 1)
		return false;
	vh = rte_pktmbuf_mtod_offset(m, const struct rte_vlan_hdr *, RTE_ETHER_HDR_LEN);
	if ((rte_be_to_cpu_16(vh->vlan_tci) & 0xfff) != 0)
		return false;
	return vlan_pop(m) == 0;
}

/* Sends what a burst of tx lane @p lane gathered, one tx burst per destination. */
static __rte_noinline void
flush(struct vs_worker *w, const struct vs_dp *dp, uint16_t lane)
{
	const struct vs_dp_worker *wk = &dp->wk[w->idx];
	uint32_t retries = w->sw->cfg.tx_retries;

	for (unsigned int t = 0; t < w->nb_touched; t++) {
		uint16_t d = w->touched[t];
		struct vs_txbuf *b = &w->txbuf[d];
		const struct vs_dp_txq *tq = &wk->txq[d];
		struct vs_counters *c = &w->ports[d];
		uint16_t sent = 0, n = b->n;
		uint32_t lost_bytes = 0;

		if (likely(tq->valid)) {
			struct vs_port *port = dp->ports[d].port;
			uint16_t q = vs_dp_txq_queue(tq, lane);
			rte_spinlock_t *lock = &dp->ports[d].sp->txq_lock[q];

			if (unlikely(dp->ports[d].cap != NULL))
				vs_capture_burst(dp->ports[d].cap, q, b->pkts, n, true);
			if (tq->locked)
				rte_spinlock_lock(lock);
			sent = vs_port_tx_burst(port, q, b->pkts, n);
			for (uint32_t r = 0; sent < n && r < retries; r++)
				sent += vs_port_tx_burst(port, q, b->pkts + sent,
							 (uint16_t)(n - sent));
			if (tq->locked) {
				/* Nothing held back may outlive the lock. */
				vs_port_tx_flush(port, q);
				rte_spinlock_unlock(lock);
			}
		}
		if (unlikely(sent < n)) {
			for (uint16_t i = sent; i < n; i++) {
				lost_bytes += b->pkts[i]->pkt_len;
				rte_pktmbuf_free(b->pkts[i]);
			}
			/* No tx queue for this worker now: the port is not up for it. */
			VS_COUNTER_ADD(
				w->drops[d].tx[tq->valid ? VS_DROP_TX_FULL : VS_DROP_LINK_DOWN],
				n - sent);
		}
		VS_COUNTER_ADD(c->tx_packets, sent);
		VS_COUNTER_ADD(c->tx_bytes, b->bytes - lost_bytes);
		b->n = 0;
		b->bytes = 0;
	}
	w->nb_touched = 0;
}

/*
 * Forwards a burst of @p n packets received on port @p in by a poll of tx
 * lane @p lane. Out of line, so that polling an empty port does not pay
 * for its stack frame.
 */
static __rte_noinline void
process(struct vs_worker *w, const struct vs_dp *dp, uint16_t in, uint16_t lane,
	struct rte_mbuf **pkts, uint16_t n)
{
	const struct vs_dp_port *ip = &dp->ports[in];
	struct vs_fdb *fdb = w->sw->fdb;
	uint64_t skey[VS_SWITCH_BURST], dkey[VS_SWITCH_BURST], ukey[VS_SWITCH_BURST];
	uint16_t vlan[VS_SWITCH_BURST], uidx[VS_SWITCH_BURST], uport[VS_SWITCH_BURST];
	struct vs_counters *ic = &w->ports[in];
	uint64_t rx_bytes = 0, prev;
	uint16_t k = 0, u = 0;

	if (unlikely(ip->admin_down)) {
		drop_burst_admin_down(w, in, pkts, n);
		return;
	}
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	/* Classify: drop what the port may not send, build the keys. */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eth;
		uint16_t v;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		rx_bytes += m->pkt_len;
		eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		if (unlikely(m->data_len < RTE_ETHER_HDR_LEN)) {
			drop_rx(w, in, m, VS_DROP_RUNT);
			continue;
		}
		if (likely(ip->access != 0)) {
			if (unlikely(eth->ether_type == be_vlan)) {
				if (!access_tagged_ok(m)) {
					drop_rx(w, in, m, VS_DROP_TAGGED);
					continue;
				}
				eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
			}
			v = ip->access;
		} else {
			const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(eth + 1);

			if (unlikely(eth->ether_type != be_vlan)) {
				drop_rx(w, in, m, VS_DROP_VLAN);
				continue;
			}
			if (unlikely(m->data_len < RTE_ETHER_HDR_LEN + sizeof(*vh))) {
				drop_rx(w, in, m, VS_DROP_RUNT);
				continue;
			}
			v = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
			if (unlikely(!trunk_carries(ip->vlan, v))) {
				drop_rx(w, in, m, VS_DROP_VLAN);
				continue;
			}
		}
		pkts[k] = m;
		vlan[k] = v;
		skey[k] = load_key(&eth->src_addr, v);
		dkey[k] = load_key(&eth->dst_addr, v);
		k++;
	}
	VS_COUNTER_ADD(ic->rx_packets, n);
	VS_COUNTER_ADD(ic->rx_bytes, rx_bytes);

	/*
	 * Learn each run of equal sources once (a burst rarely has more); the
	 * port's hint skips the hash while the same station keeps sending.
	 */
	prev = UINT64_MAX;
	for (uint16_t i = 0; i < k; i++) {
		if (skey[i] == prev)
			continue;
		prev = skey[i];
		if (likely(!key_is_group(prev)))
			vs_fdb_learn_hint(fdb, prev, in, &w->fdb, &w->hint[in].src);
	}

	/* Look each run of equal unicast destinations up once, in bulk. */
	prev = UINT64_MAX;
	for (uint16_t i = 0; i < k; i++) {
		if (unlikely(key_is_group(dkey[i]))) {
			uidx[i] = NO_DEST;
			continue;
		}
		if (dkey[i] != prev) {
			prev = dkey[i];
			ukey[u++] = prev;
		}
		uidx[i] = (uint16_t)(u - 1);
	}
	/* One destination (the common burst): the port's hint, else the hash. */
	if (likely(u == 1))
		uport[0] = vs_fdb_lookup_hint(fdb, ukey[0], &w->hint[in].dst);
	else if (u > 1)
		vs_fdb_lookup_bulk(fdb, ukey, u, uport);

	for (uint16_t i = 0; i < k; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct vs_dp_port *op;
		uint16_t d = uidx[i] == NO_DEST ? VS_FDB_NONE : uport[uidx[i]];

		if (unlikely(d == VS_FDB_NONE || dp->ports[d].port == NULL)) {
			flood(w, dp, in, m, vlan[i]);
			continue;
		}
		if (unlikely(d == in)) {
			drop_rx(w, in, m, VS_DROP_HAIRPIN);
			continue;
		}
		op = &dp->ports[d];
		if (unlikely(!op->up)) {
			drop_tx(w, d, m, op->admin_down ? VS_DROP_ADMIN_DOWN : VS_DROP_LINK_DOWN);
			continue;
		}
		if (unlikely((op->access == 0) != (ip->access == 0)) &&
		    retag(m, op->access == 0, vlan[i]) != 0) {
			drop_tx(w, d, m, VS_DROP_NO_HEADROOM);
			continue;
		}
		txbuf_add(w, d, m);
	}
	flush(w, dp, lane);
}

void
vs_worker_forward(struct vs_worker *w, const struct vs_dp *dp, uint16_t in, uint16_t lane,
		  struct rte_mbuf **pkts, uint16_t n)
{
	process(w, dp, in, lane, pkts, n);
}

/* Charges the cycles since @p t (this queue's burst, and the empty polls
 * just before it) to rx queue @p p; returns the new start. */
static inline uint64_t
rxq_account(struct vs_worker *w, const struct vs_switch_poll *p, uint16_t n, uint64_t t)
{
	struct vs_rxq_counters *c = &w->rxq[p->port][p->queue];
	uint64_t now = rte_rdtsc();

	VS_COUNTER_ADD(c->cycles, now - t);
	VS_COUNTER_ADD(c->packets, n);
	return now;
}

unsigned int
vs_worker_poll(struct vs_worker *w, const struct vs_dp *dp)
{
	const struct vs_dp_worker *wk = &dp->wk[w->idx];
	struct rte_mbuf *pkts[VS_SWITCH_BURST];
	unsigned int moved = 0;
	uint64_t t = w->poll_tsc;

	for (uint32_t i = 0; i < wk->nb_polls; i++) {
		const struct vs_switch_poll *p = &wk->polls[i];
		uint16_t n;

		if (dp->ports[p->port].onecopy) {
			n = vs_onecopy_poll(w, dp, p);
		} else {
			n = vs_port_rx_burst(dp->ports[p->port].port, p->queue, pkts,
					     VS_SWITCH_BURST);
			if (n != 0 && unlikely(dp->ports[p->port].cap != NULL))
				vs_capture_burst(dp->ports[p->port].cap, p->queue, pkts, n, false);
			if (n != 0) {
				process(w, dp, p->port, p->lane, pkts, n);
				vs_port_rx_done(dp->ports[p->port].port, p->queue);
			}
		}
		if (n == 0)
			continue;
		moved += n;
		t = rxq_account(w, p, n, t);
	}
	return moved;
}

/* Nothing to poll: leave the RCU set for a while instead of spinning. */
static void
idle_sleep(struct vs_worker *w)
{
	rte_rcu_qsbr_thread_offline(w->sw->qsbr, w->idx);
	usleep(IDLE_SLEEP_US);
	rte_rcu_qsbr_thread_online(w->sw->qsbr, w->idx);
}

int
vs_worker_main(void *arg)
{
	struct vs_worker *w = arg;
	struct vs_switch *sw = w->sw;
	uint64_t first, last;

	rte_rcu_qsbr_thread_register(sw->qsbr, w->idx);
	rte_rcu_qsbr_thread_online(sw->qsbr, w->idx);
	first = last = rte_rdtsc();
	while (likely(!__atomic_load_n(&sw->stopping, __ATOMIC_RELAXED))) {
		const struct vs_dp *dp = __atomic_load_n(&sw->dp, __ATOMIC_ACQUIRE);
		unsigned int moved;

		w->poll_tsc = last;
		moved = vs_worker_poll(w, dp);
		uint64_t now = rte_rdtsc();

		/* Every cycle lands in exactly one of busy and idle. */
		if (moved != 0) {
			VS_COUNTER_ADD(w->busy_cycles, now - last);
			VS_COUNTER_ADD(w->busy_iterations, 1);
			VS_COUNTER_ADD(w->rx_packets, moved);
		} else {
			VS_COUNTER_ADD(w->idle_cycles, now - last);
		}
		VS_COUNTER_ADD(w->iterations, 1);
		last = now;
		rte_rcu_qsbr_quiescent(sw->qsbr, w->idx);
		/* While a take-over publishes ports, stay online: no sleep delays them. */
		if (unlikely(dp->wk[w->idx].nb_polls == 0) &&
		    !__atomic_load_n(&sw->no_idle_sleep, __ATOMIC_RELAXED))
			idle_sleep(w);
	}
	/* Busy and idle add up to this, cycle for cycle. */
	VS_COUNTER_ADD(w->loop_cycles, last - first);
	rte_rcu_qsbr_thread_offline(sw->qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(sw->qsbr, w->idx);
	return 0;
}
