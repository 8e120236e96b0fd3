/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's control side: ports come and go, their queues and links
 * change; each change rebuilds the workers' snapshot (who polls what, which
 * tx queue each worker uses, the flood sets) and publishes it with RCU.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "vs_evloop.h"
#include "vs_sched.h"
#include "vs_switch_priv.h"

RTE_LOG_REGISTER(vs_switch_logtype, vswitch.switch, INFO);
#define SW_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, vs_switch_logtype, "switch: " fmt "\n", ##__VA_ARGS__)

#define CLOCK_TICK_MS 1000

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- snapshots ---- */

static size_t
dp_size(unsigned int nb_workers, unsigned int nb_polls, unsigned int nb_members)
{
	return sizeof(struct vs_dp) + nb_workers * sizeof(struct vs_dp_worker) +
	       nb_polls * sizeof(struct vs_switch_poll) + nb_members * sizeof(uint16_t);
}

/* Allocates a snapshot with room for the given polls per worker and members. */
static struct vs_dp *
dp_alloc(unsigned int nb_workers, const unsigned int *polls, unsigned int nb_members)
{
	unsigned int total = 0;
	struct vs_switch_poll *pp;
	struct vs_dp *dp;

	for (unsigned int w = 0; w < nb_workers; w++)
		total += polls[w];
	dp = rte_zmalloc("vs_dp", dp_size(nb_workers, total, nb_members), RTE_CACHE_LINE_SIZE);
	if (dp == NULL)
		return NULL;
	dp->nb_workers = nb_workers;
	pp = (struct vs_switch_poll *)&dp->wk[nb_workers];
	for (unsigned int w = 0; w < nb_workers; w++) {
		dp->wk[w].polls = pp;
		pp += polls[w];
	}
	dp->members = (uint16_t *)pp;
	return dp;
}

static unsigned int
dp_members_total(const struct vs_dp *dp)
{
	unsigned int n = 0;

	for (unsigned int v = 0; v < 4096; v++)
		n += dp->vlan_cnt[v];
	return n;
}

/* Copies @p src into a new snapshot whose polls are @p polls (per worker). */
static struct vs_dp *
dp_clone(const struct vs_dp *src, const unsigned int *polls)
{
	struct vs_dp *dp = dp_alloc(src->nb_workers, polls, dp_members_total(src));

	if (dp == NULL)
		return NULL;
	memcpy(dp->ports, src->ports, sizeof(dp->ports));
	memcpy(dp->vlan_off, src->vlan_off, sizeof(dp->vlan_off));
	memcpy(dp->vlan_cnt, src->vlan_cnt, sizeof(dp->vlan_cnt));
	memcpy(dp->members, src->members, dp_members_total(src) * sizeof(uint16_t));
	for (unsigned int w = 0; w < src->nb_workers; w++)
		memcpy(dp->wk[w].txq, src->wk[w].txq, sizeof(dp->wk[w].txq));
	return dp;
}

static bool
polls_has(const struct vs_dp_worker *wk, const struct vs_switch_poll *p)
{
	for (uint32_t i = 0; i < wk->nb_polls; i++)
		if (wk->polls[i].port == p->port && wk->polls[i].queue == p->queue)
			return true;
	return false;
}

/* Does worker w1 poll in @p a a queue that worker w2 != w1 polls in @p b? */
static bool
polls_conflict(const struct vs_dp *a, const struct vs_dp *b)
{
	for (unsigned int w1 = 0; w1 < a->nb_workers; w1++)
		for (uint32_t i = 0; i < a->wk[w1].nb_polls; i++)
			for (unsigned int w2 = 0; w2 < b->nb_workers; w2++)
				if (w2 != w1 && polls_has(&b->wk[w2], &a->wk[w1].polls[i]))
					return true;
	return false;
}

/*
 * Can workers still on @p a and workers already on @p b send on one tx
 * queue of port @p d at the same time? Not if every queue two different
 * workers use is locked on both sides.
 */
static bool
txq_conflict(const struct vs_dp *a, const struct vs_dp *b, uint16_t d)
{
	if (a->ports[d].port == NULL || b->ports[d].port != a->ports[d].port)
		return false;
	for (unsigned int w1 = 0; w1 < a->nb_workers; w1++) {
		const struct vs_dp_txq *x = &a->wk[w1].txq[d];

		if (!x->valid)
			continue;
		for (unsigned int w2 = 0; w2 < b->nb_workers; w2++) {
			const struct vs_dp_txq *y = &b->wk[w2].txq[d];

			if (w2 != w1 && y->valid && (y->mask & x->mask) != 0 &&
			    !(x->locked && y->locked))
				return true;
		}
	}
	return false;
}

static void
publish_one(struct vs_switch *sw, struct vs_dp *dp)
{
	struct vs_dp *old = sw->dp;

	__atomic_store_n(&sw->dp, dp, __ATOMIC_RELEASE);
	/* Workers on the old snapshot finish their iteration first. */
	vs_rcu_wait(sw->qsbr);
	/* Views from other threads read sw->dp under the lock. */
	pthread_mutex_lock(&sw->lock);
	rte_free(old);
	pthread_mutex_unlock(&sw->lock);
}

/*
 * Publishes @p next. When workers on the current snapshot and on @p next
 * could poll one queue, or share a tx queue unlocked, at once, it goes
 * through two intermediate snapshots: both poll only the queues that stay
 * with their worker; the first keeps the current tx mapping, the second
 * takes the new one, both with every affected port's tx queues locked.
 */
static int
publish(struct vs_switch *sw, struct vs_dp *next)
{
	const struct vs_dp *cur = sw->dp;
	bool tx_conflict[VS_SWITCH_MAX_PORTS] = {false};
	unsigned int polls[VS_SWITCH_MAX_WORKERS];
	bool any = cur != NULL && polls_conflict(cur, next);
	struct vs_dp *mid1, *mid2;

	for (unsigned int d = 0; cur != NULL && d < VS_SWITCH_MAX_PORTS; d++) {
		tx_conflict[d] = txq_conflict(cur, next, (uint16_t)d);
		any |= tx_conflict[d];
	}
	if (!any) {
		publish_one(sw, next);
		return 0;
	}
	for (unsigned int w = 0; w < next->nb_workers; w++)
		polls[w] = next->wk[w].nb_polls;
	mid1 = dp_clone(next, polls);
	mid2 = dp_clone(next, polls);
	if (mid1 == NULL || mid2 == NULL) {
		rte_free(mid1);
		rte_free(mid2);
		rte_free(next);
		return -ENOMEM;
	}
	for (unsigned int w = 0; w < next->nb_workers; w++) {
		uint32_t n = 0;

		for (uint32_t i = 0; i < next->wk[w].nb_polls; i++) {
			const struct vs_switch_poll *p = &next->wk[w].polls[i];

			if (w < cur->nb_workers && polls_has(&cur->wk[w], p)) {
				mid1->wk[w].polls[n] = *p;
				mid2->wk[w].polls[n] = *p;
				n++;
			}
		}
		mid1->wk[w].nb_polls = n;
		mid2->wk[w].nb_polls = n;
		for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
			if (!tx_conflict[d])
				continue;
			mid1->wk[w].txq[d] = cur->wk[w].txq[d];
			mid1->wk[w].txq[d].locked = 1;
			mid2->wk[w].txq[d].locked = 1;
		}
	}
	publish_one(sw, mid1);
	publish_one(sw, mid2);
	publish_one(sw, next);
	return 0;
}

/*
 * VS_DP_ONECOPY_* of port @p sp: its driver can, and nothing keeps it on the
 * mbuf path (a capture sees mbufs, so a captured port stays on it; the mbuf
 * path drops and counts an administratively down port's frames).
 */
static uint8_t
onecopy_flags(const struct vs_switch *sw, const struct vs_sw_port *sp)
{
	const struct vs_port_onecopy_ops *oc = sp->port->ops->onecopy;

	if (oc == NULL || sw->cfg.no_onecopy || sp->no_onecopy || sp->capture != NULL ||
	    !sp->admin_up)
		return 0;
	return VS_DP_ONECOPY_RX | VS_DP_ONECOPY_TX;
}

/*
 * The polls of @p items (port order per worker), each with its tx lane:
 * its rank among the queues of its port that its worker polls.
 */
static void
dp_fill_polls(struct vs_dp *dp, const struct vs_sched_item *items, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct vs_dp_worker *wk = &dp->wk[items[i].worker];
		uint16_t lane = 0;

		for (uint32_t j = 0; j < wk->nb_polls; j++)
			lane += wk->polls[j].port == items[i].port;
		wk->polls[wk->nb_polls++] =
			(struct vs_switch_poll){items[i].port, items[i].queue, lane};
	}
}

/*
 * Tx queues: each worker owns a disjoint set of each port's queues, or
 * shares one (locked) where workers outnumber them (vs_sched_txq_mask());
 * lane l sends on the l-th of its set, round robin.
 */
static void
dp_fill_txqs(struct vs_dp *dp, unsigned int nb_workers)
{
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		const struct vs_sw_port *sp = dp->ports[d].sp;
		uint16_t nb_txq;

		if (dp->ports[d].port == NULL || sp->info.nb_txq == 0)
			continue;
		nb_txq = sp->info.nb_txq;
		for (unsigned int w = 0; w < nb_workers; w++) {
			struct vs_dp_txq *tq = &dp->wk[w].txq[d];
			uint32_t mask = vs_sched_txq_mask(w, nb_txq, nb_workers);

			for (unsigned int l = 0; l < VS_PORT_MAX_QUEUES; l++)
				tq->queue[l] = (uint8_t)vs_sched_txq_of_lane(mask, l);
			tq->mask = (uint8_t)mask;
			tq->locked = vs_sched_txq_shared(w, nb_txq, nb_workers);
			tq->valid = 1;
		}
	}
}

int
vs_switch_reconcile(struct vs_switch *sw)
{
	struct vs_sched_item items[VS_SWITCH_MAX_PORTS * VS_PORT_MAX_QUEUES];
	unsigned int polls[VS_SWITCH_MAX_WORKERS] = {0}, n = 0, members = 0, moved;
	uint16_t fill[4096] = {0};
	struct vs_dp *dp;

	/* Ask each port for its state; ports whose link went down forget their stations. */
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct vs_sw_port *sp = sw->ports[d];
		struct vs_port_info info;
		bool up;

		if (sp == NULL || sp->removing)
			continue;
		sp->port->ops->info_get(sp->port, &info);
		if (info.nb_rxq > VS_PORT_MAX_QUEUES)
			info.nb_rxq = VS_PORT_MAX_QUEUES;
		if (info.nb_txq > VS_PORT_MAX_QUEUES)
			info.nb_txq = VS_PORT_MAX_QUEUES;
		up = info.link == VS_PORT_LINK_UP && sp->admin_up;
		pthread_mutex_lock(&sw->lock);
		sp->info = info;
		pthread_mutex_unlock(&sw->lock);
		if (sp->up && !up)
			sw->flushed += vs_fdb_flush_port(sw->fdb, sp->id);
		if (sp->up != up)
			SW_LOG(INFO, "port %s: %s %s", sp->port->name,
			       sp->admin_up ? "link" : "admin", up ? "up" : "down");
		sp->up = up;
		for (uint16_t q = 0; q < info.nb_rxq; q++)
			items[n++] = (struct vs_sched_item){sp->id, q, sp->rxq_worker[q]};
		if (up) {
			for (unsigned int v = VS_VLAN_MIN; v <= VS_VLAN_MAX; v++)
				if (vs_vlan_member(sp->vlan, (uint16_t)v))
					members++;
		}
	}
	moved = vs_rebalance_assign(sw, items, n);
	for (unsigned int i = 0; i < n; i++)
		polls[items[i].worker]++;
	dp = dp_alloc(sw->nb_workers, polls, members);
	if (dp == NULL) {
		SW_LOG(ERR, "out of memory for a new snapshot; keeping the old one");
		return -ENOMEM;
	}
	/* Ports, flood sets. */
	pthread_mutex_lock(&sw->lock);
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct vs_sw_port *sp = sw->ports[d];

		if (sp == NULL || sp->removing)
			continue;
		for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++)
			sp->rxq_worker[q] = -1;
		dp->ports[d].port = sp->port;
		dp->ports[d].sp = sp;
		dp->ports[d].vlan = sp->vlan;
		dp->ports[d].access = sp->vlan->access;
		dp->ports[d].up = sp->up;
		dp->ports[d].admin_down = !sp->admin_up;
		dp->ports[d].cap = sp->capture;
		dp->ports[d].onecopy = onecopy_flags(sw, sp);
	}
	for (unsigned int i = 0; i < n; i++)
		sw->ports[items[i].port]->rxq_worker[items[i].queue] = items[i].worker;
	pthread_mutex_unlock(&sw->lock);
	for (unsigned int v = 0, off = 0; v < 4096; v++) {
		dp->vlan_off[v] = off;
		for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++)
			if (dp->ports[d].port != NULL && dp->ports[d].up &&
			    vs_vlan_member(dp->ports[d].vlan, (uint16_t)v))
				dp->members[off + fill[v]++] = (uint16_t)d;
		dp->vlan_cnt[v] = fill[v];
		off += fill[v];
	}
	dp_fill_polls(dp, items, n);
	dp_fill_txqs(dp, sw->nb_workers);
	if (moved > 0)
		SW_LOG(INFO, "rebalanced: %u queue(s) moved between workers", moved);
	return publish(sw, dp);
}

int
vs_switch_republish(struct vs_switch *sw)
{
	return vs_switch_reconcile(sw);
}

static void
reconcile_timer(void *arg)
{
	struct vs_switch *sw = arg;

	sw->reconcile_timer = 0;
	vs_switch_reconcile(sw);
}

/* A driver says its link or queues changed: rebuild soon, once. */
static void
port_state_changed(struct vs_port *port, void *arg)
{
	struct vs_switch *sw = arg;

	(void)port;
	if (sw->reconcile_timer > 0)
		return;
	sw->reconcile_timer = vs_evloop_add_timer(sw->loop, 0, reconcile_timer, sw);
	if (sw->reconcile_timer < 0) {
		sw->reconcile_timer = 0;
		vs_switch_reconcile(sw);
	}
}

/* ---- the FDB clock ---- */

uint32_t
vs_switch_fdb_tick(struct vs_switch *sw, uint32_t now)
{
	uint32_t n = 0;

	vs_fdb_set_now(sw->fdb, now);
	if (sw->cfg.fdb_aging > 0) {
		n = vs_fdb_age(sw->fdb, sw->cfg.fdb_aging);
		sw->aged += n;
	}
	return n;
}

static void
clock_timer(void *arg)
{
	struct vs_switch *sw = arg;

	vs_switch_fdb_tick(sw, (uint32_t)((mono_ns() - sw->start_ns) / 1000000000ull));
	/* Telemetry reads the drivers' drops from here. */
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++)
		vs_switch_refresh_driver_stats(sw, (uint16_t)d);
	sw->clock_timer = vs_evloop_add_timer(sw->loop, CLOCK_TICK_MS, clock_timer, sw);
}

/* ---- create / destroy ---- */

static void
free_sw_port(struct vs_sw_port *sp)
{
	rte_free(sp->vlan);
	free(sp->spec);
	rte_free(sp);
}

static void
free_workers(struct vs_switch *sw)
{
	for (unsigned int w = 0; w < VS_SWITCH_MAX_WORKERS; w++) {
		rte_free(sw->workers[w]);
		sw->workers[w] = NULL;
	}
}

static int
make_workers(struct vs_switch *sw, char *err, size_t errlen)
{
	unsigned int lcore, w = 0;

	if (sw->cfg.manual) {
		sw->nb_workers = sw->cfg.nb_workers;
	} else {
		sw->nb_workers = 0;
		RTE_LCORE_FOREACH_WORKER(lcore)
		sw->nb_workers++;
	}
	if (sw->nb_workers == 0) {
		vs_set_err(err, errlen,
			   "no worker lcore: give EAL at least two lcores (e.g. -l 0,1); the main "
			   "lcore runs the control thread");
		return -EINVAL;
	}
	if (sw->nb_workers > VS_SWITCH_MAX_WORKERS) {
		vs_set_err(err, errlen, "%u worker lcores; at most %d are supported",
			   sw->nb_workers, VS_SWITCH_MAX_WORKERS);
		return -EINVAL;
	}
	lcore = sw->cfg.manual ? 0 : rte_get_next_lcore(-1, 1, 0);
	for (w = 0; w < sw->nb_workers; w++) {
		struct vs_worker *wk = rte_zmalloc("vs_worker", sizeof(*wk), RTE_CACHE_LINE_SIZE);

		if (wk == NULL) {
			vs_set_err(err, errlen, "out of memory for worker state");
			return -ENOMEM;
		}
		wk->sw = sw;
		wk->idx = w;
		for (unsigned int i = 0; i < VS_SWITCH_MAX_PORTS; i++) {
			vs_fdb_hint_init(&wk->hint[i].src);
			vs_fdb_hint_init(&wk->hint[i].dst);
		}
		wk->lcore = sw->cfg.manual ? w : lcore;
		sw->workers[w] = wk;
		if (!sw->cfg.manual)
			lcore = rte_get_next_lcore(lcore, 1, 0);
	}
	return 0;
}

static int
valid_config(const struct vs_switch_config *cfg, char *err, size_t errlen)
{
	if (cfg->loop == NULL) {
		vs_set_err(err, errlen, "the engine needs the control thread's event loop");
		return -EINVAL;
	}
	if (cfg->fdb_size != 0 &&
	    (cfg->fdb_size < VS_FDB_MIN_SIZE || cfg->fdb_size > VS_FDB_MAX_SIZE)) {
		vs_set_err(err, errlen, "FDB size %u is not in [%u, %u]", cfg->fdb_size,
			   VS_FDB_MIN_SIZE, VS_FDB_MAX_SIZE);
		return -EINVAL;
	}
	if (!cfg->manual && rte_lcore_id() != rte_get_main_lcore()) {
		vs_set_err(err, errlen, "the engine must be created on the EAL main lcore");
		return -EINVAL;
	}
	return 0;
}

struct vs_switch *
vs_switch_create(const struct vs_switch_config *cfg, char *err, size_t errlen)
{
	char mp_name[RTE_MEMPOOL_NAMESIZE];
	struct vs_switch *sw;
	size_t qsz;

	if (valid_config(cfg, err, errlen) != 0)
		return NULL;
	sw = rte_zmalloc("vs_switch", sizeof(*sw), RTE_CACHE_LINE_SIZE);
	if (sw == NULL) {
		vs_set_err(err, errlen, "out of memory");
		return NULL;
	}
	sw->cfg = *cfg;
	snprintf(sw->name, sizeof(sw->name), "%.16s", cfg->name != NULL ? cfg->name : "vswitch");
	sw->cfg.name = sw->name;
	if (sw->cfg.fdb_size == 0)
		sw->cfg.fdb_size = VS_SWITCH_DEFAULT_FDB_SIZE;
	if (sw->cfg.nb_mbufs == 0)
		sw->cfg.nb_mbufs = VS_SWITCH_DEFAULT_MBUFS;
	sw->loop = cfg->loop;
	pthread_mutex_init(&sw->lock, NULL);
	sw->start_ns = mono_ns();
	sw->last_line_ns = sw->start_ns;
	if (make_workers(sw, err, errlen) != 0)
		goto fail;
	if (vs_rebalance_init(sw) != 0) {
		vs_set_err(err, errlen,
			   "bad automatic placement settings (interval 1..86400 s, "
			   "percentages 0..100)");
		goto fail;
	}
	qsz = rte_rcu_qsbr_get_memsize(sw->nb_workers);
	sw->qsbr = rte_zmalloc("vs_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (sw->qsbr == NULL || rte_rcu_qsbr_init(sw->qsbr, sw->nb_workers) != 0) {
		vs_set_err(err, errlen, "cannot set up RCU for %u workers", sw->nb_workers);
		goto fail;
	}
	snprintf(mp_name, sizeof(mp_name), "%.16s_mbufs", sw->name);
	sw->mp = rte_pktmbuf_pool_create(mp_name, sw->cfg.nb_mbufs, 256, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (sw->mp == NULL) {
		vs_set_err(err, errlen, "cannot create a pool of %u mbufs: %s", sw->cfg.nb_mbufs,
			   rte_strerror(rte_errno));
		goto fail;
	}
	sw->fdb = vs_fdb_create(sw->name, sw->cfg.fdb_size, sw->qsbr, (int)rte_socket_id());
	if (sw->fdb == NULL) {
		vs_set_err(err, errlen, "cannot create an FDB of %u entries: %s", sw->cfg.fdb_size,
			   rte_strerror(rte_errno));
		goto fail;
	}
	if (vs_switch_reconcile(sw) != 0) {
		vs_set_err(err, errlen, "out of memory");
		goto fail;
	}
	if (!sw->cfg.manual) {
		sw->clock_timer = vs_evloop_add_timer(sw->loop, CLOCK_TICK_MS, clock_timer, sw);
		if (sw->clock_timer < 0) {
			vs_set_err(err, errlen, "cannot arm the FDB clock");
			goto fail;
		}
	}
	if (sw->cfg.telemetry)
		vs_telemetry_attach(sw);
	SW_LOG(INFO, "%u worker(s), FDB of %u entries (aging %u s), %u mbufs", sw->nb_workers,
	       sw->cfg.fdb_size, sw->cfg.fdb_aging, sw->cfg.nb_mbufs);
	return sw;
fail:
	vs_switch_destroy(sw);
	return NULL;
}

int
vs_switch_start(struct vs_switch *sw)
{
	if (sw->cfg.manual)
		return -ENOTSUP;
	if (sw->running)
		return -EALREADY;
	__atomic_store_n(&sw->stopping, 0, __ATOMIC_RELAXED);
	for (unsigned int w = 0; w < sw->nb_workers; w++) {
		int rc = rte_eal_remote_launch(vs_worker_main, sw->workers[w],
					       sw->workers[w]->lcore);

		if (rc != 0) {
			SW_LOG(ERR, "cannot launch worker %u on lcore %u: %s", w,
			       sw->workers[w]->lcore, rte_strerror(-rc));
			vs_switch_stop(sw);
			return rc;
		}
	}
	sw->running = true;
	return 0;
}

void
vs_switch_stop(struct vs_switch *sw)
{
	if (sw->cfg.manual || !sw->running)
		return;
	__atomic_store_n(&sw->stopping, 1, __ATOMIC_RELAXED);
	for (unsigned int w = 0; w < sw->nb_workers; w++)
		rte_eal_wait_lcore(sw->workers[w]->lcore);
	sw->running = false;
}

void
vs_switch_destroy(struct vs_switch *sw)
{
	if (sw == NULL)
		return;
	vs_switch_stop(sw);
	if (sw->cfg.telemetry)
		vs_telemetry_detach(sw);
	if (sw->reconcile_timer > 0)
		vs_evloop_cancel_timer(sw->loop, sw->reconcile_timer);
	if (sw->clock_timer > 0)
		vs_evloop_cancel_timer(sw->loop, sw->clock_timer);
	vs_capture_fini(sw);
	vs_rebalance_fini(sw);
	/* No worker runs: ports go without grace periods. */
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct vs_sw_port *sp = sw->ports[d];

		if (sp == NULL)
			continue;
		sp->port->ops->stop(sp->port);
		sp->port->ops->destroy(sp->port);
		free_sw_port(sp);
		sw->ports[d] = NULL;
	}
	rte_free(sw->dp);
	vs_fdb_free(sw->fdb);
	rte_mempool_free(sw->mp);
	rte_free(sw->qsbr);
	free_workers(sw);
	pthread_mutex_destroy(&sw->lock);
	rte_free(sw);
}

struct rte_mempool *
vs_switch_mempool(struct vs_switch *sw)
{
	return sw->mp;
}

/* ---- ports ---- */

static bool
valid_port_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= VS_PORT_NAME_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-' &&
		    name[i] != '.')
			return false;
	return true;
}

struct vs_port *
vs_switch_port(struct vs_switch *sw, uint16_t id)
{
	return id < VS_SWITCH_MAX_PORTS && sw->ports[id] != NULL ? sw->ports[id]->port : NULL;
}

int
vs_switch_port_find(struct vs_switch *sw, const char *name)
{
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++)
		if (sw->ports[d] != NULL && strcmp(sw->ports[d]->port->name, name) == 0)
			return (int)d;
	return -ENOENT;
}

/* Picks TYPE plus the lowest number not taken ("ethdev0"). */
static void
default_name(struct vs_switch *sw, const char *type, char *name, size_t len)
{
	for (unsigned int i = 0;; i++) {
		snprintf(name, len, "%.20s%u", type, i);
		if (vs_switch_port_find(sw, name) < 0)
			return;
	}
}

static int
free_port_id(struct vs_switch *sw)
{
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++)
		if (sw->ports[d] == NULL)
			return (int)d;
	return -ENOSPC;
}

/* A port id's counters start from zero (no worker touches the port now). */
static void
zero_counters(struct vs_switch *sw, uint16_t d)
{
	for (unsigned int w = 0; w < sw->nb_workers; w++) {
		memset(&sw->workers[w]->ports[d], 0, sizeof(sw->workers[w]->ports[d]));
		memset(&sw->workers[w]->drops[d], 0, sizeof(sw->workers[w]->drops[d]));
	}
	vs_rebalance_port_reset(sw, d);
}

/* admin=up|down (NULL: up). */
static int
parse_admin(const char *v, bool *up, char *err, size_t errlen)
{
	if (v == NULL || strcmp(v, "up") == 0) {
		*up = true;
		return 0;
	}
	if (strcmp(v, "down") == 0) {
		*up = false;
		return 0;
	}
	vs_set_err(err, errlen, "admin=%s: 'up' or 'down'", v);
	return -EINVAL;
}

int
vs_sw_port_new(struct vs_switch *sw, const char *text, const char *name_given,
	       struct vs_sw_port **out, char *err, size_t errlen)
{
	struct vs_port_spec spec;
	struct vs_port_env env;
	char name[VS_PORT_NAME_LEN];
	const char *n, *vlan, *trunk, *admin;
	struct vs_sw_port *sp;
	struct vs_port *port;

	if (vs_port_spec_parse(text, &spec, err, errlen) != 0)
		return -EINVAL;
	n = vs_port_spec_get(&spec, "name");
	if (n == NULL)
		n = name_given;
	else if (name_given != NULL && strcmp(n, name_given) != 0) {
		vs_set_err(err, errlen, "the SPEC names the port '%s', not '%s'", n, name_given);
		return -EINVAL;
	}
	if (n != NULL && !valid_port_name(n)) {
		vs_set_err(err, errlen,
			   "port name '%s' must be 1 to %d characters of [A-Za-z0-9_.-]", n,
			   VS_PORT_NAME_LEN - 1);
		return -EINVAL;
	}
	if (n != NULL && vs_switch_port_find(sw, n) >= 0) {
		vs_set_err(err, errlen, "a port named '%s' exists already", n);
		return -EEXIST;
	}
	if (n != NULL)
		snprintf(name, sizeof(name), "%s", n);
	else
		default_name(sw, spec.type, name, sizeof(name));
	sp = rte_zmalloc("vs_sw_port", sizeof(*sp), RTE_CACHE_LINE_SIZE);
	if (sp == NULL || (sp->spec = strdup(text)) == NULL ||
	    (sp->vlan = rte_zmalloc("vs_vlan", sizeof(*sp->vlan), 0)) == NULL) {
		vs_sw_port_free(sp);
		vs_set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	vlan = vs_port_spec_get(&spec, "vlan");
	trunk = vs_port_spec_get(&spec, "trunk");
	admin = vs_port_spec_get(&spec, "admin");
	if (vs_vlan_parse(vlan, trunk, sp->vlan, err, errlen) != 0 ||
	    parse_admin(admin, &sp->admin_up, err, errlen) != 0) {
		vs_sw_port_free(sp);
		return -EINVAL;
	}
	for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++) {
		sp->rxq_worker[q] = -1;
		rte_spinlock_init(&sp->txq_lock[q]);
	}
	env = (struct vs_port_env){
		.mp = sw->mp,
		.qsbr = sw->qsbr,
		.loop = sw->loop,
		.socket_id = (int)rte_socket_id(),
		.state_changed = port_state_changed,
		.arg = sw,
		.state_dir = sw->cfg.state_dir,
	};
	port = vs_port_create(name, &spec, &env, err, errlen);
	if (port == NULL) {
		vs_sw_port_free(sp);
		return -EINVAL;
	}
	port->owner = sp;
	sp->port = port;
	*out = sp;
	return 0;
}

void
vs_sw_port_free(struct vs_sw_port *sp)
{
	if (sp == NULL)
		return;
	if (sp->port != NULL)
		sp->port->ops->destroy(sp->port);
	free_sw_port(sp);
}

int
vs_sw_port_join(struct vs_switch *sw, struct vs_sw_port *sp, uint16_t id)
{
	if (id >= VS_SWITCH_MAX_PORTS || sw->ports[id] != NULL)
		return -EEXIST;
	sp->id = id;
	sp->port->id = id;
	zero_counters(sw, id);
	pthread_mutex_lock(&sw->lock);
	sw->ports[id] = sp;
	pthread_mutex_unlock(&sw->lock);
	return 0;
}

int
vs_sw_reconcile(struct vs_switch *sw)
{
	return vs_switch_reconcile(sw);
}

int
vs_switch_add_port(struct vs_switch *sw, const char *text, char *err, size_t errlen)
{
	struct vs_sw_port *sp;
	struct vs_port *port;
	int id, rc;

	id = free_port_id(sw);
	if (id < 0) {
		vs_set_err(err, errlen, "the switch has %d ports already", VS_SWITCH_MAX_PORTS);
		return id;
	}
	rc = vs_sw_port_new(sw, text, NULL, &sp, err, errlen);
	if (rc < 0)
		return rc;
	port = sp->port;
	port->id = (uint16_t)id;
	rc = port->ops->start(port);
	if (rc != 0) {
		vs_set_err(err, errlen, "port %s: cannot start: %s", port->name, strerror(-rc));
		vs_sw_port_free(sp);
		return rc;
	}
	vs_sw_port_join(sw, sp, (uint16_t)id);
	rc = vs_switch_reconcile(sw);
	if (rc != 0) {
		vs_set_err(err, errlen, "port %s: out of memory", port->name);
		vs_switch_del_port(sw, port->name, NULL, 0);
		return rc;
	}
	SW_LOG(INFO, "port %s added (id %d, %.*s)", port->name, id, (int)strcspn(sp->spec, ","),
	       sp->spec);
	return id;
}

int
vs_switch_del_port(struct vs_switch *sw, const char *name, char *err, size_t errlen)
{
	int id = vs_switch_port_find(sw, name);
	struct vs_sw_port *sp;
	int rc;

	if (id < 0) {
		vs_set_err(err, errlen, "no port named '%s'", name);
		return -ENOENT;
	}
	sp = sw->ports[id];
	vs_capture_port_gone(sw, sp);
	/* 1. No worker polls it or sends to it any more. */
	sp->removing = true;
	rc = vs_switch_reconcile(sw);
	if (rc != 0 && sw->dp->ports[id].sp == sp) {
		/* The live snapshot still lists it: freeing it would free it under the workers. */
		sp->removing = false;
		vs_set_err(err, errlen, "port %s: cannot remove it now: %s", name, strerror(-rc));
		return rc;
	}
	/* 2. Its stations go, static ones too (the id will be reused); lookups
	 * still holding it end with this grace period. */
	sw->flushed += vs_fdb_flush_match(sw->fdb, sp->id, -1, true);
	vs_rcu_wait(sw->qsbr);
	/* 3. Out of the views (telemetry reads them from another thread), then the
	 * driver stops (sockets closed, peers see the link go). */
	pthread_mutex_lock(&sw->lock);
	sw->ports[id] = NULL;
	pthread_mutex_unlock(&sw->lock);
	sp->port->ops->stop(sp->port);
	sp->port->ops->destroy(sp->port);
	zero_counters(sw, (uint16_t)id);
	free_sw_port(sp);
	SW_LOG(INFO, "port %s removed", name);
	return 0;
}

unsigned int
vs_switch_nb_ports(struct vs_switch *sw)
{
	unsigned int n = 0;

	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++)
		n += sw->ports[d] != NULL;
	return n;
}

int
vs_switch_port_next(struct vs_switch *sw, int prev)
{
	for (int d = prev + 1; d < VS_SWITCH_MAX_PORTS; d++)
		if (sw->ports[d] != NULL)
			return d;
	return -1;
}

void
vs_switch_sum_engine(struct vs_switch *sw, uint16_t d, struct vs_switch_port_counters *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned int w = 0; w < sw->nb_workers; w++) {
		const struct vs_counters *x = &sw->workers[w]->ports[d];
		const struct vs_drops *dr = &sw->workers[w]->drops[d];

		c->rx_packets += VS_COUNTER_READ(x->rx_packets);
		c->rx_bytes += VS_COUNTER_READ(x->rx_bytes);
		c->tx_packets += VS_COUNTER_READ(x->tx_packets);
		c->tx_bytes += VS_COUNTER_READ(x->tx_bytes);
		c->flooded += VS_COUNTER_READ(x->flooded);
		for (unsigned int r = 0; r < VS_DROP_NB; r++) {
			c->rx_drop[r] += VS_COUNTER_READ(dr->rx[r]);
			c->tx_drop[r] += VS_COUNTER_READ(dr->tx[r]);
		}
		c->onecopy += VS_COUNTER_READ(x->onecopy);
	}
	/* What the process before us counted (vs_handover.c). Its drops come
	 * without their reasons: counted as "other", so the reasons still add up. */
	if (sw->ports[d] != NULL) {
		const struct vs_switch_port_counters *k = &sw->ports[d]->carried;

		c->rx_packets += k->rx_packets;
		c->rx_bytes += k->rx_bytes;
		c->rx_drop[VS_DROP_OTHER] += k->rx_dropped;
		c->tx_packets += k->tx_packets;
		c->tx_bytes += k->tx_bytes;
		c->tx_drop[VS_DROP_OTHER] += k->tx_dropped;
		c->flooded += k->flooded;
	}
}

/*
 * Port @p sp's counters: the engine's since the last clear, plus the drops
 * its driver counted by reason (@p ds), with the totals. Under sw->lock.
 */
static void
port_counters(struct vs_switch *sw, const struct vs_sw_port *sp, const struct vs_port_stats *ds,
	      struct vs_switch_port_counters *c)
{
	const struct vs_switch_port_counters *b = &sp->base;

	vs_switch_sum_engine(sw, sp->id, c);
	c->rx_packets -= b->rx_packets;
	c->rx_bytes -= b->rx_bytes;
	c->tx_packets -= b->tx_packets;
	c->tx_bytes -= b->tx_bytes;
	c->flooded -= b->flooded;
	c->onecopy -= b->onecopy;
	c->rx_dropped = 0;
	c->tx_dropped = 0;
	for (unsigned int r = 0; r < VS_DROP_NB; r++) {
		c->rx_drop[r] -= b->rx_drop[r];
		c->tx_drop[r] -= b->tx_drop[r];
		for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++) {
			c->rx_drop[r] += ds->rx[q].drop[r];
			c->tx_drop[r] += ds->tx[q].drop[r];
		}
		c->rx_dropped += c->rx_drop[r];
		c->tx_dropped += c->tx_drop[r];
	}
}

void
vs_switch_refresh_driver_stats(struct vs_switch *sw, uint16_t d)
{
	struct vs_sw_port *sp = sw->ports[d];
	struct vs_port_stats st;

	if (sp == NULL)
		return;
	memset(&st, 0, sizeof(st));
	sp->port->ops->stats_get(sp->port, &st);
	pthread_mutex_lock(&sw->lock);
	sp->dstats = st;
	pthread_mutex_unlock(&sw->lock);
}

static bool
on_control_thread(void)
{
	return rte_lcore_id() == rte_get_main_lcore();
}

int
vs_switch_port_set_onecopy(struct vs_switch *sw, uint16_t id, bool on)
{
	struct vs_sw_port *sp = id < VS_SWITCH_MAX_PORTS ? sw->ports[id] : NULL;

	if (sp == NULL || sp->removing)
		return -ENOENT;
	if (sp->no_onecopy == !on)
		return 0;
	sp->no_onecopy = !on;
	return vs_switch_reconcile(sw);
}

int
vs_switch_port_view(struct vs_switch *sw, uint16_t id, struct vs_switch_port_view *view)
{
	struct vs_sw_port *sp;

	if (id >= VS_SWITCH_MAX_PORTS)
		return -ENOENT;
	if (on_control_thread())
		vs_switch_refresh_driver_stats(sw, id);
	pthread_mutex_lock(&sw->lock);
	sp = sw->ports[id];
	if (sp == NULL) {
		pthread_mutex_unlock(&sw->lock);
		return -ENOENT;
	}
	memset(view, 0, sizeof(*view));
	view->id = id;
	snprintf(view->name, sizeof(view->name), "%s", sp->port->name);
	vs_vlan_format(sp->vlan, view->vlan, sizeof(view->vlan));
	view->info = sp->info;
	view->admin_up = sp->admin_up;
	memcpy(view->rxq_worker, sp->rxq_worker, sizeof(view->rxq_worker));
	port_counters(sw, sp, &sp->dstats, &view->counters);
	pthread_mutex_unlock(&sw->lock);
	return 0;
}

int
vs_switch_port_driver_stats(struct vs_switch *sw, uint16_t id, struct vs_port_stats *stats)
{
	if (id >= VS_SWITCH_MAX_PORTS || sw->ports[id] == NULL)
		return -ENOENT;
	sw->ports[id]->port->ops->stats_get(sw->ports[id]->port, stats);
	return 0;
}

/* ---- workers, FDB ---- */

unsigned int
vs_switch_nb_workers(const struct vs_switch *sw)
{
	return sw->nb_workers;
}

/*
 * Counts from the last `clear counters` on. The loop's cycles were counted
 * busy or idle, one each: its base is the busy and idle cycles at the clear,
 * so that once the loop stops busy + idle == loop_cycles holds after a clear
 * too (loop_cycles only counts finished runs: 0 while the first one since the
 * clear still runs).
 */
static void
lcore_view_rebase(struct vs_switch_lcore_view *v, const struct vs_lcore_base *base)
{
	uint64_t loop_base = base->busy_cycles + base->idle_cycles;

	v->busy_cycles -= base->busy_cycles;
	v->idle_cycles -= base->idle_cycles;
	v->iterations -= base->iterations;
	v->busy_iterations -= base->busy_iterations;
	v->rx_packets -= base->rx_packets;
	v->loop_cycles = v->loop_cycles > loop_base ? v->loop_cycles - loop_base : 0;
}

void
vs_switch_clear_lcores(struct vs_switch *sw)
{
	for (unsigned int w = 0; w < sw->nb_workers; w++) {
		const struct vs_worker *wk = sw->workers[w];
		struct vs_lcore_base b;

		b.busy_cycles = VS_COUNTER_READ(wk->busy_cycles);
		b.idle_cycles = VS_COUNTER_READ(wk->idle_cycles);
		b.iterations = VS_COUNTER_READ(wk->iterations);
		b.busy_iterations = VS_COUNTER_READ(wk->busy_iterations);
		b.rx_packets = VS_COUNTER_READ(wk->rx_packets);
		pthread_mutex_lock(&sw->lock);
		sw->lcore_base[w] = b;
		pthread_mutex_unlock(&sw->lock);
	}
}

int
vs_switch_lcore_view(struct vs_switch *sw, unsigned int w, struct vs_switch_lcore_view *view)
{
	const struct vs_worker *wk;
	const struct vs_dp *dp;

	if (w >= sw->nb_workers)
		return -ENOENT;
	wk = sw->workers[w];
	memset(view, 0, sizeof(*view));
	view->worker = w;
	view->lcore = wk->lcore;
	view->busy_cycles = VS_COUNTER_READ(wk->busy_cycles);
	view->idle_cycles = VS_COUNTER_READ(wk->idle_cycles);
	view->iterations = VS_COUNTER_READ(wk->iterations);
	view->busy_iterations = VS_COUNTER_READ(wk->busy_iterations);
	view->rx_packets = VS_COUNTER_READ(wk->rx_packets);
	view->loop_cycles = VS_COUNTER_READ(wk->loop_cycles);
	view->tsc_hz = rte_get_tsc_hz();
	/* The snapshot is freed only by the control thread, under the lock. */
	pthread_mutex_lock(&sw->lock);
	lcore_view_rebase(view, &sw->lcore_base[w]);
	dp = sw->dp;
	view->nb_polls = dp->wk[w].nb_polls;
	for (unsigned int i = 0; i < view->nb_polls && i < RTE_DIM(view->polls); i++)
		view->polls[i] = dp->wk[w].polls[i];
	pthread_mutex_unlock(&sw->lock);
	return 0;
}

int
vs_switch_txq_view(struct vs_switch *sw, uint16_t port, unsigned int w,
		   struct vs_switch_txq_view *view)
{
	const struct vs_dp_txq *tq;
	int rc = -ENOENT;

	memset(view, 0, sizeof(*view));
	if (w >= sw->nb_workers || port >= VS_SWITCH_MAX_PORTS)
		return -ENOENT;
	/* The snapshot is freed only by the control thread, under the lock. */
	pthread_mutex_lock(&sw->lock);
	if (sw->dp->ports[port].port != NULL) {
		tq = &sw->dp->wk[w].txq[port];
		if (tq->valid) {
			view->mask = tq->mask;
			view->shared = tq->locked;
			for (unsigned int l = 0; l < VS_PORT_MAX_QUEUES; l++)
				view->queue_of_lane[l] = tq->queue[l];
		}
		rc = 0;
	}
	pthread_mutex_unlock(&sw->lock);
	return rc;
}

void
vs_switch_fdb_view(struct vs_switch *sw, struct vs_switch_fdb_view *view)
{
	memset(view, 0, sizeof(*view));
	view->count = vs_fdb_count(sw->fdb);
	view->limit = sw->fdb->limit;
	view->aging = sw->cfg.fdb_aging;
	for (unsigned int w = 0; w < sw->nb_workers; w++) {
		const struct vs_worker *wk = sw->workers[w];

		view->learned += VS_COUNTER_READ(wk->fdb.learned);
		view->moved += VS_COUNTER_READ(wk->fdb.moved);
		view->full += VS_COUNTER_READ(wk->fdb.full);
	}
	view->aged = __atomic_load_n(&sw->aged, __ATOMIC_RELAXED);
	view->flushed = __atomic_load_n(&sw->flushed, __ATOMIC_RELAXED);
}

struct vs_fdb *
vs_switch_fdb(struct vs_switch *sw)
{
	return sw->fdb;
}

uint32_t
vs_switch_fdb_flush(struct vs_switch *sw)
{
	uint32_t n = vs_fdb_flush(sw->fdb);

	sw->flushed += n;
	return n;
}

unsigned int
vs_switch_poll(struct vs_switch *sw, unsigned int w)
{
	struct vs_worker *wk;
	uint64_t t0, t1;
	unsigned int moved;

	if (!sw->cfg.manual || w >= sw->nb_workers)
		return 0;
	wk = sw->workers[w];
	t0 = rte_rdtsc();
	wk->poll_tsc = t0;
	moved = vs_worker_poll(wk, sw->dp);
	t1 = rte_rdtsc();
	if (moved != 0) {
		VS_COUNTER_ADD(wk->busy_cycles, t1 - t0);
		VS_COUNTER_ADD(wk->busy_iterations, 1);
		VS_COUNTER_ADD(wk->rx_packets, moved);
	} else {
		VS_COUNTER_ADD(wk->idle_cycles, t1 - t0);
	}
	VS_COUNTER_ADD(wk->iterations, 1);
	return moved;
}

/* ---- stats output ---- */

void
vs_switch_print_stats(struct vs_switch *sw, FILE *f)
{
	fprintf(f, "%-16s %-10s %5s %12s %14s %10s %12s %14s %10s\n", "port", "type", "link",
		"rx-packets", "rx-bytes", "rx-drops", "tx-packets", "tx-bytes", "tx-drops");
	for (int d = vs_switch_port_next(sw, -1); d >= 0; d = vs_switch_port_next(sw, d)) {
		struct vs_switch_port_view v;

		if (vs_switch_port_view(sw, (uint16_t)d, &v) != 0)
			continue;
		fprintf(f,
			"%-16s %-10s %5s %12" PRIu64 " %14" PRIu64 " %10" PRIu64 " %12" PRIu64
			" %14" PRIu64 " %10" PRIu64 "\n",
			v.name, v.info.type != NULL ? v.info.type : "?",
			v.info.link == VS_PORT_LINK_UP ? "up" : "down", v.counters.rx_packets,
			v.counters.rx_bytes, v.counters.rx_dropped, v.counters.tx_packets,
			v.counters.tx_bytes, v.counters.tx_dropped);
	}
	fprintf(f, "%-8s %-6s %16s %16s %7s %14s\n", "worker", "lcore", "busy-cycles",
		"idle-cycles", "busy%", "rx-packets");
	for (unsigned int w = 0; w < sw->nb_workers; w++) {
		struct vs_switch_lcore_view l;
		uint64_t total;

		vs_switch_lcore_view(sw, w, &l);
		total = l.busy_cycles + l.idle_cycles;
		fprintf(f, "%-8u %-6u %16" PRIu64 " %16" PRIu64 " %6.1f%% %14" PRIu64 "\n", w,
			l.lcore, l.busy_cycles, l.idle_cycles,
			total > 0 ? 100.0 * (double)l.busy_cycles / (double)total : 0.0,
			l.rx_packets);
	}
	fflush(f);
}

void
vs_switch_print_stats_line(struct vs_switch *sw, FILE *f)
{
	uint64_t rx = 0, tx = 0, drop = 0, busy = 0, idle = 0, now = mono_ns(), drx, dtx, ddrop;
	double secs = (double)(now - sw->last_line_ns) / 1e9;
	struct vs_switch_fdb_view fv;

	/* Engine totals, which only grow (clear counters moves the views' base). */
	for (int d = vs_switch_port_next(sw, -1); d >= 0; d = vs_switch_port_next(sw, d)) {
		struct vs_switch_port_counters c;

		vs_switch_sum_engine(sw, (uint16_t)d, &c);
		rx += c.rx_packets;
		tx += c.tx_packets;
		for (unsigned int r = 0; r < VS_DROP_NB; r++)
			drop += c.rx_drop[r] + c.tx_drop[r];
	}
	for (unsigned int w = 0; w < sw->nb_workers; w++) {
		busy += VS_COUNTER_READ(sw->workers[w]->busy_cycles);
		idle += VS_COUNTER_READ(sw->workers[w]->idle_cycles);
	}
	vs_switch_fdb_view(sw, &fv);
	if (secs <= 0)
		secs = 1;
	/* A port removed since the last line takes its counts along. */
	drx = rx >= sw->last_rx ? rx - sw->last_rx : 0;
	dtx = tx >= sw->last_tx ? tx - sw->last_tx : 0;
	ddrop = drop >= sw->last_drop ? drop - sw->last_drop : 0;
	fprintf(f,
		"stats: rx %.0f pps, tx %.0f pps, drops %" PRIu64 ", busy %.1f%%, %.1f busy "
		"cycles/packet, fdb %u\n",
		(double)drx / secs, (double)dtx / secs, ddrop,
		busy + idle > sw->last_busy + sw->last_idle
			? 100.0 * (double)(busy - sw->last_busy) /
				  (double)(busy + idle - sw->last_busy - sw->last_idle)
			: 0.0,
		drx > 0 ? (double)(busy - sw->last_busy) / (double)drx : 0.0, fv.count);
	fflush(f);
	sw->last_rx = rx;
	sw->last_tx = tx;
	sw->last_drop = drop;
	sw->last_busy = busy;
	sw->last_idle = idle;
	sw->last_line_ns = now;
}
