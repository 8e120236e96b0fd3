/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One copy between VMs (doc/vswitch.md "One copy between VMs"). A burst
 * from a port that can leave its frames where the sender put them
 * (vs_port_onecopy_ops) is switched on a copy of each frame's first bytes;
 * a frame whose one destination takes frames that way (a vhost-user port
 * whose tx queue this worker has, no retagging, the offloads it asks for
 * negotiated there) is copied by that port straight from the sender's
 * buffer into its own. Every other frame (floods, multicast, VLAN
 * retagging, other port types, odd frames) is copied into an mbuf and
 * forwarded by the mbuf path, which also does its counting and drops.
 *
 * Order: one-copy frames for a port are sent before the mbuf path flushes.
 * So that no frame overtakes an earlier one for the same port, a frame
 * goes by one copy only while no earlier frame of the burst took the mbuf
 * path to that port, or to ports unknown here (a flood, anything the mbuf
 * path classifies itself).
 */
#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "vs_frame_key.h"
#include "vs_switch_priv.h"

#define OC_MBUF 0xffff /* dest[] of a frame for the mbuf path */
#define OC_DROP 0xfffe /* dest[] of a frame dropped here */

static const uint16_t be_vlan = RTE_BE16(RTE_ETHER_TYPE_VLAN);

/* A destination of the burst. */
struct oc_dest {
	uint16_t port;
	uint8_t direct; /* may still take frames in one copy */
	uint16_t n;	/* frames for it in one copy */
	uint32_t caps;	/* its tx_caps */
	uint32_t bytes;
};

struct oc_burst {
	uint16_t dest[VS_SWITCH_BURST]; /* port, OC_MBUF or OC_DROP per frame */
	struct oc_dest d[VS_SWITCH_BURST];
	unsigned int nd;
};

/*
 * Classifies frame @p f from port @p ip: its VLAN and keys. Returns false
 * for a frame the mbuf path must classify (tagged on an access port,
 * untagged or of another VLAN on a trunk, too short, odd header).
 */
static inline bool
oc_classify(const struct vs_dp_port *ip, const struct vs_port_frame *f, uint64_t *skey,
	    uint64_t *dkey)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f->head;
	uint16_t v;

	if (unlikely(f->needs & VS_FRAME_NEED_MBUF))
		return false;
	if (likely(ip->access != 0)) {
		if (unlikely(eth->ether_type == be_vlan))
			return false;
		v = ip->access;
	} else {
		const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(eth + 1);

		if (eth->ether_type != be_vlan)
			return false;
		v = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		if (!trunk_carries(ip->vlan, v))
			return false;
	}
	*skey = load_key(&eth->src_addr, v);
	*dkey = load_key(&eth->dst_addr, v);
	return true;
}

/* The burst's entry for destination @p d, made on first sight. */
static struct oc_dest *
oc_dest_get(struct oc_burst *ob, const struct vs_dp *dp, const struct vs_dp_worker *wk, uint16_t in,
	    uint16_t lane, uint16_t d)
{
	const struct vs_dp_port *op = &dp->ports[d];
	const struct vs_dp_txq *tq = &wk->txq[d];
	struct oc_dest *e;

	for (unsigned int i = ob->nd; i-- > 0;)
		if (ob->d[i].port == d)
			return &ob->d[i];
	e = &ob->d[ob->nd++];
	e->port = d;
	e->n = 0;
	e->bytes = 0;
	e->caps = 0;
	e->direct = (op->onecopy & VS_DP_ONECOPY_TX) && tq->valid &&
		    (op->access == 0) == (dp->ports[in].access == 0);
	if (e->direct)
		e->caps = op->port->ops->onecopy->tx_caps(op->port, vs_dp_txq_queue(tq, lane));
	if (!(e->caps & VS_FRAME_CAP_OK))
		e->direct = 0;
	return e;
}

/*
 * Decides the way of every frame: one copy (dest[i] = port), dropped here
 * (the port itself, a port whose link is down), or the mbuf path.
 */
static void
oc_route(struct vs_worker *w, const struct vs_dp *dp, uint16_t in, uint16_t lane, uint16_t n,
	 struct oc_burst *ob)
{
	const struct vs_dp_port *ip = &dp->ports[in];
	const struct vs_dp_worker *wk = &dp->wk[w->idx];
	struct vs_fdb *fdb = w->sw->fdb;
	struct vs_port_frame *f = w->frames;
	uint64_t skey[VS_SWITCH_BURST], dkey[VS_SWITCH_BURST], prev;
	uint16_t cls[VS_SWITCH_BURST], dport[VS_SWITCH_BURST];
	unsigned int k = 0, j = 0;
	bool gate = false;

	for (uint16_t i = 0; i < n; i++) {
		ob->dest[i] = OC_MBUF;
		if (oc_classify(ip, &f[i], &skey[k], &dkey[k]) && !key_is_group(dkey[k]))
			cls[k++] = i;
	}
	/* Learn each run of equal sources once, as the mbuf path does. */
	prev = UINT64_MAX;
	for (unsigned int i = 0; i < k; i++) {
		if (skey[i] == prev)
			continue;
		prev = skey[i];
		if (likely(!key_is_group(prev)))
			vs_fdb_learn_hint(fdb, prev, in, &w->fdb, &w->hint[in].src);
	}
	/* Destinations: the port's hint for a run, else the hash. */
	prev = UINT64_MAX;
	for (unsigned int i = 0; i < k; i++) {
		if (dkey[i] != prev) {
			prev = dkey[i];
			dport[i] = vs_fdb_lookup_hint(fdb, prev, &w->hint[in].dst);
		} else {
			dport[i] = dport[i - 1];
		}
	}
	for (uint16_t i = 0; i < n; i++) {
		struct oc_dest *e;
		uint16_t d;

		if (j >= k || cls[j] != i) {
			gate = true; /* the mbuf path: to ports unknown here */
			continue;
		}
		d = dport[j++];
		if (unlikely(d == VS_FDB_NONE || dp->ports[d].port == NULL)) {
			gate = true; /* flooded */
			continue;
		}
		if (unlikely(d == in)) {
			VS_COUNTER_ADD(w->drops[in].rx[VS_DROP_HAIRPIN], 1);
			ob->dest[i] = OC_DROP;
			continue;
		}
		if (unlikely(!dp->ports[d].up)) {
			unsigned int why =
				dp->ports[d].admin_down ? VS_DROP_ADMIN_DOWN : VS_DROP_LINK_DOWN;

			VS_COUNTER_ADD(w->drops[d].tx[why], 1);
			ob->dest[i] = OC_DROP;
			continue;
		}
		e = oc_dest_get(ob, dp, wk, in, lane, d);
		if (gate || !e->direct || (f[i].needs & ~e->caps) != 0) {
			e->direct = 0; /* later frames for it follow this one */
			continue;
		}
		ob->dest[i] = d;
		e->n++;
		e->bytes += f[i].len;
	}
}

/* Sends the one-copy frames for destination @p e (on tx lane @p lane's
 * queue), with the mbuf path's retries. */
static void
oc_send(struct vs_worker *w, const struct vs_dp *dp, const struct oc_burst *ob,
	const struct oc_dest *e, uint16_t lane, uint16_t n)
{
	const struct vs_port_frame *list[VS_SWITCH_BURST];
	const struct vs_dp_txq *tq = &dp->wk[w->idx].txq[e->port];
	const struct vs_dp_port *op = &dp->ports[e->port];
	const struct vs_port_onecopy_ops *oc = op->port->ops->onecopy;
	struct vs_counters *c = &w->ports[e->port];
	uint16_t q = vs_dp_txq_queue(tq, lane);
	rte_spinlock_t *lock = &op->sp->txq_lock[q];
	uint32_t retries = w->sw->cfg.tx_retries, lost_bytes = 0;
	uint16_t m = 0, sent;

	for (uint16_t i = 0; i < n; i++)
		if (ob->dest[i] == e->port)
			list[m++] = &w->frames[i];
	if (tq->locked)
		rte_spinlock_lock(lock);
	sent = oc->tx_frames(op->port, q, list, m);
	for (uint32_t r = 0; sent < m && r < retries; r++)
		sent += oc->tx_frames(op->port, q, list + sent, (uint16_t)(m - sent));
	if (tq->locked) {
		/* Nothing held back may outlive the lock. */
		vs_port_tx_flush(op->port, q);
		rte_spinlock_unlock(lock);
	}
	if (unlikely(sent < m)) {
		for (uint16_t i = sent; i < m; i++)
			lost_bytes += list[i]->len;
		VS_COUNTER_ADD(w->drops[e->port].tx[VS_DROP_TX_FULL], m - sent);
	}
	VS_COUNTER_ADD(c->tx_packets, sent);
	VS_COUNTER_ADD(c->onecopy, sent);
	VS_COUNTER_ADD(c->tx_bytes, e->bytes - lost_bytes);
}

/* The frames for the mbuf path, copied into mbufs and forwarded as such. */
static void
oc_to_mbufs(struct vs_worker *w, const struct vs_dp *dp, uint16_t in, uint16_t lane, uint16_t n,
	    void *ctx, const struct oc_burst *ob)
{
	struct vs_port *port = dp->ports[in].port;
	const struct vs_port_onecopy_ops *oc = port->ops->onecopy;
	struct rte_mbuf *pkts[VS_SWITCH_BURST];
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m;

		if (ob->dest[i] != OC_MBUF)
			continue;
		/* A frame that cannot become one is the driver's drop (counted there). */
		m = oc->frame_to_mbuf(port, ctx, &w->frames[i]);
		if (m != NULL)
			pkts[k++] = m;
	}
	if (k > 0)
		vs_worker_forward(w, dp, in, lane, pkts, k);
}

static void
oc_forward(struct vs_worker *w, const struct vs_dp *dp, uint16_t in, uint16_t lane, uint16_t n,
	   void *ctx)
{
	struct vs_counters *ic = &w->ports[in];
	uint64_t rx_bytes = 0;
	unsigned int here = 0, mbufs = 0;
	struct oc_burst ob;

	ob.nd = 0;
	oc_route(w, dp, in, lane, n, &ob);
	for (unsigned int i = 0; i < ob.nd; i++)
		if (ob.d[i].n > 0)
			oc_send(w, dp, &ob, &ob.d[i], lane, n);
	for (uint16_t i = 0; i < n; i++) {
		if (ob.dest[i] == OC_MBUF) {
			mbufs++;
			continue;
		}
		here++;
		rx_bytes += w->frames[i].len;
	}
	/* The mbuf path counts what it receives itself. */
	VS_COUNTER_ADD(ic->rx_packets, here);
	VS_COUNTER_ADD(ic->rx_bytes, rx_bytes);
	if (unlikely(mbufs > 0))
		oc_to_mbufs(w, dp, in, lane, n, ctx, &ob);
}

void
vs_onecopy_forward(struct vs_worker *w, const struct vs_dp *dp, const struct vs_switch_poll *p,
		   uint16_t n, void *ctx)
{
	struct vs_port *port = dp->ports[p->port].port;

	oc_forward(w, dp, p->port, p->lane, n, ctx);
	port->ops->onecopy->rx_frames_done(port, ctx);
}
