/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive queue placement by measured busy cycles (doc/vswitch.md "Workers
 * and queues"), on the control thread.
 *
 * Workers charge each rx queue the cycles of its bursts (vs_worker.c,
 * rxq_account()). A queue's load is what it was charged since the start of
 * the current measurement window: the last placement by cycles, the last
 * automatic check, or the switch's start. `rebalance` places every queue by
 * those loads (vs_sched_assign_cycles()); the automatic mode checks every
 * interval whether a worker was busier than the threshold and a placement
 * by cycles would lower the busiest worker's load by at least the
 * improvement, and then applies it. Once queues are placed by cycles (or by
 * hand, rxq-move), ports coming and going only place their own queues;
 * they no longer rebalance by count.
 *
 * Moving a queue goes through vs_switch.c's publish(): polled by neither
 * worker for a grace period, then by its new one, so no frame is lost or
 * overtaken (the guest's ring holds them meanwhile).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_log.h>

#include "vs_evloop.h"
#include "vs_sched.h"
#include "vs_switch_priv.h"

extern int vs_switch_logtype;
#define RB_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, vs_switch_logtype, "switch: " fmt "\n", ##__VA_ARGS__)

enum rb_next {
	RB_NEXT_USUAL = 0, /* place new queues (by count until a placement by cycles) */
	RB_NEXT_CYCLES,	   /* place every queue by cycles */
};

struct vs_rebalance {
	enum rb_next next;
	bool placed; /* queues were placed by cycles or by hand */
	uint64_t base[VS_SWITCH_MAX_PORTS][VS_PORT_MAX_QUEUES]; /* cycles at the window start */
	uint64_t window_start_tsc;
	/* Automatic mode. */
	struct vs_switch_auto_lb cfg;
	int64_t timer;
	uint64_t busy_base[VS_SWITCH_MAX_WORKERS];
	uint64_t check_tsc;
	unsigned int last_moved;
};

/* Cycles charged to (port, queue) by every worker so far. */
static uint64_t
rxq_total(const struct vs_switch *sw, uint16_t port, uint16_t q)
{
	uint64_t c = 0;

	for (unsigned int w = 0; w < sw->nb_workers; w++)
		c += VS_COUNTER_READ(sw->workers[w]->rxq[port][q].cycles);
	return c;
}

static uint64_t
rxq_packets(const struct vs_switch *sw, uint16_t port, uint16_t q)
{
	uint64_t c = 0;

	for (unsigned int w = 0; w < sw->nb_workers; w++)
		c += VS_COUNTER_READ(sw->workers[w]->rxq[port][q].packets);
	return c;
}

static uint64_t
rxq_load(const struct vs_switch *sw, uint16_t port, uint16_t q)
{
	uint64_t t = rxq_total(sw, port, q), b = sw->rb->base[port][q];

	return t > b ? t - b : 0;
}

/* A new measurement window: loads count from now. */
static void
window_reset(struct vs_switch *sw)
{
	for (unsigned int p = 0; p < VS_SWITCH_MAX_PORTS; p++)
		if (sw->ports[p] != NULL)
			for (uint16_t q = 0; q < VS_PORT_MAX_QUEUES; q++)
				sw->rb->base[p][q] = rxq_total(sw, (uint16_t)p, q);
	sw->rb->window_start_tsc = rte_rdtsc();
}

unsigned int
vs_rebalance_assign(struct vs_switch *sw, struct vs_sched_item *items, unsigned int n)
{
	struct vs_rebalance *rb = sw->rb;
	uint64_t *load;
	unsigned int moved;

	if (rb == NULL)
		return vs_sched_assign(items, n, sw->nb_workers);
	if (rb->next != RB_NEXT_CYCLES)
		return rb->placed ? vs_sched_place_new(items, n, sw->nb_workers)
				  : vs_sched_assign(items, n, sw->nb_workers);
	rb->next = RB_NEXT_USUAL;
	load = malloc(((size_t)n + 1) * sizeof(*load));
	if (load == NULL)
		return vs_sched_assign(items, n, sw->nb_workers);
	for (unsigned int i = 0; i < n; i++)
		load[i] = rxq_load(sw, items[i].port, items[i].queue);
	moved = vs_sched_assign_cycles(items, load, n, sw->nb_workers);
	free(load);
	rb->placed = true;
	rb->last_moved = moved;
	return moved;
}

void
vs_rebalance_port_reset(struct vs_switch *sw, uint16_t id)
{
	if (sw->rb == NULL || id >= VS_SWITCH_MAX_PORTS)
		return;
	for (uint16_t q = 0; q < VS_PORT_MAX_QUEUES; q++)
		sw->rb->base[id][q] = rxq_total(sw, id, q);
}

int
vs_switch_rebalance(struct vs_switch *sw, unsigned int *moved)
{
	int rc;

	if (sw->rb == NULL)
		return -ENOMEM;
	sw->rb->next = RB_NEXT_CYCLES;
	sw->rb->last_moved = 0;
	rc = vs_switch_republish(sw);
	sw->rb->next = RB_NEXT_USUAL;
	if (rc != 0)
		return rc;
	if (moved != NULL)
		*moved = sw->rb->last_moved;
	window_reset(sw);
	return 0;
}

int
vs_switch_rxq_move(struct vs_switch *sw, uint16_t port, uint16_t queue, unsigned int worker)
{
	struct vs_sw_port *sp = port < VS_SWITCH_MAX_PORTS ? sw->ports[port] : NULL;

	if (sw->rb == NULL)
		return -ENOMEM;
	if (sp == NULL || sp->removing)
		return -ENOENT;
	if (queue >= sp->info.nb_rxq || worker >= sw->nb_workers)
		return -EINVAL;
	pthread_mutex_lock(&sw->lock);
	sp->rxq_worker[queue] = (int16_t)worker;
	pthread_mutex_unlock(&sw->lock);
	sw->rb->placed = true;
	return vs_switch_republish(sw);
}

int
vs_switch_rxq_view(struct vs_switch *sw, uint16_t port, uint16_t queue,
		   struct vs_switch_rxq_view *view)
{
	struct vs_sw_port *sp = port < VS_SWITCH_MAX_PORTS ? sw->ports[port] : NULL;

	if (sp == NULL || sp->removing || queue >= VS_PORT_MAX_QUEUES)
		return -ENOENT;
	memset(view, 0, sizeof(*view));
	view->port = port;
	view->queue = queue;
	pthread_mutex_lock(&sw->lock);
	view->worker = sp->rxq_worker[queue];
	view->polled = queue < sp->info.nb_rxq;
	pthread_mutex_unlock(&sw->lock);
	view->packets = rxq_packets(sw, port, queue);
	view->busy_cycles = rxq_total(sw, port, queue);
	view->window_cycles = sw->rb != NULL ? rxq_load(sw, port, queue) : 0;
	view->window_tsc = sw->rb != NULL ? rte_rdtsc() - sw->rb->window_start_tsc : 0;
	return 0;
}

/* ---- automatic mode ---- */

/* The rx queues in use and their loads in the window, as reconcile() lists them. */
static unsigned int
current_items(struct vs_switch *sw, struct vs_sched_item *items, uint64_t *load)
{
	unsigned int n = 0;

	for (unsigned int p = 0; p < VS_SWITCH_MAX_PORTS; p++) {
		struct vs_sw_port *sp = sw->ports[p];

		if (sp == NULL || sp->removing)
			continue;
		for (uint16_t q = 0; q < sp->info.nb_rxq && q < VS_PORT_MAX_QUEUES; q++) {
			items[n] = (struct vs_sched_item){sp->id, q, sp->rxq_worker[q]};
			load[n++] = rxq_load(sw, sp->id, q);
		}
	}
	return n;
}

/* The busiest worker's share of the interval, in percent. */
static unsigned int
busiest_pct(struct vs_switch *sw, uint64_t now)
{
	struct vs_rebalance *rb = sw->rb;
	uint64_t span = now - rb->check_tsc, max = 0;

	for (unsigned int w = 0; w < sw->nb_workers; w++) {
		uint64_t b = VS_COUNTER_READ(sw->workers[w]->busy_cycles);

		if (b - rb->busy_base[w] > max)
			max = b - rb->busy_base[w];
		rb->busy_base[w] = b;
	}
	rb->check_tsc = now;
	return span > 0 ? (unsigned int)(max * 100 / span) : 0;
}

/* Whether placing by cycles lowers the busiest worker's load by the improvement. */
static bool
worth_it(struct vs_switch *sw)
{
	static struct vs_sched_item items[VS_SWITCH_MAX_PORTS * VS_PORT_MAX_QUEUES];
	static uint64_t load[VS_SWITCH_MAX_PORTS * VS_PORT_MAX_QUEUES];
	unsigned int n = current_items(sw, items, load);
	uint64_t before = vs_sched_max_load(items, load, n, sw->nb_workers), after;

	if (before == 0)
		return false;
	vs_sched_assign_cycles(items, load, n, sw->nb_workers);
	after = vs_sched_max_load(items, load, n, sw->nb_workers);
	return after < before &&
	       (before - after) * 100 >= (uint64_t)sw->rb->cfg.improvement * before;
}

static void
auto_check(void *arg)
{
	struct vs_switch *sw = arg;
	struct vs_rebalance *rb = sw->rb;
	unsigned int pct = busiest_pct(sw, rte_rdtsc()), moved = 0;

	rb->timer = 0;
	rb->cfg.checks++;
	if (sw->nb_workers > 1 && pct >= rb->cfg.threshold && worth_it(sw)) {
		if (vs_switch_rebalance(sw, &moved) == 0) {
			rb->cfg.rebalances++;
			RB_LOG(INFO, "auto-lb: busiest worker %u%% busy: %u queue(s) moved", pct,
			       moved);
		}
	} else {
		window_reset(sw);
	}
	if (rb->cfg.on)
		rb->timer = vs_evloop_add_timer(sw->loop, rb->cfg.interval * 1000, auto_check, sw);
}

static void
auto_arm(struct vs_switch *sw)
{
	struct vs_rebalance *rb = sw->rb;

	if (rb->timer > 0) {
		vs_evloop_cancel_timer(sw->loop, rb->timer);
		rb->timer = 0;
	}
	if (!rb->cfg.on || sw->cfg.manual)
		return;
	for (unsigned int w = 0; w < sw->nb_workers; w++)
		rb->busy_base[w] = VS_COUNTER_READ(sw->workers[w]->busy_cycles);
	rb->check_tsc = rte_rdtsc();
	window_reset(sw);
	rb->timer = vs_evloop_add_timer(sw->loop, rb->cfg.interval * 1000, auto_check, sw);
	if (rb->timer < 0)
		rb->timer = 0;
}

int
vs_switch_auto_lb_set(struct vs_switch *sw, const struct vs_switch_auto_lb *cfg)
{
	if (sw->rb == NULL)
		return -ENOMEM;
	if (cfg->interval < VS_AUTO_LB_MIN_INTERVAL || cfg->interval > VS_AUTO_LB_MAX_INTERVAL ||
	    cfg->threshold > 100 || cfg->improvement > 100)
		return -EINVAL;
	sw->rb->cfg.on = cfg->on;
	sw->rb->cfg.interval = cfg->interval;
	sw->rb->cfg.threshold = cfg->threshold;
	sw->rb->cfg.improvement = cfg->improvement;
	auto_arm(sw);
	return 0;
}

void
vs_switch_auto_lb_get(struct vs_switch *sw, struct vs_switch_auto_lb *cfg)
{
	if (sw->rb == NULL) {
		memset(cfg, 0, sizeof(*cfg));
		return;
	}
	*cfg = sw->rb->cfg;
}

int
vs_rebalance_init(struct vs_switch *sw)
{
	struct vs_switch_auto_lb a = {
		.on = sw->cfg.auto_lb,
		.interval = sw->cfg.auto_lb_interval ? sw->cfg.auto_lb_interval
						     : VS_AUTO_LB_DEFAULT_INTERVAL,
		.threshold = sw->cfg.auto_lb_threshold ? sw->cfg.auto_lb_threshold
						       : VS_AUTO_LB_DEFAULT_THRESHOLD,
		.improvement = sw->cfg.auto_lb_improvement ? sw->cfg.auto_lb_improvement
							   : VS_AUTO_LB_DEFAULT_IMPROVEMENT,
	};

	sw->rb = calloc(1, sizeof(*sw->rb));
	if (sw->rb == NULL)
		return -ENOMEM;
	sw->rb->window_start_tsc = rte_rdtsc();
	return vs_switch_auto_lb_set(sw, &a);
}

void
vs_rebalance_fini(struct vs_switch *sw)
{
	if (sw->rb == NULL)
		return;
	if (sw->rb->timer > 0)
		vs_evloop_cancel_timer(sw->loop, sw->rb->timer);
	free(sw->rb);
	sw->rb = NULL;
}
