/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Management commands of rx queue placement (doc/vswitch.md "show rxqs,
 * rebalance, rxq-move, auto-lb"); the engine side is vs_rebalance.c.
 */
#include <stdio.h>
#include <string.h>

#include "vs_mgmt_placement.h"
#include "vs_switch.h"

static void
rxq_json(struct vs_jw *w, const struct vs_switch_port_view *v, const struct vs_switch_rxq_view *q)
{
	vs_jw_object_open(w);
	vs_jw_kv_str(w, "port", v->name);
	vs_jw_kv_u64(w, "queue", q->queue);
	vs_jw_key(w, "worker");
	vs_jw_i64(w, q->worker);
	vs_jw_kv_u64(w, "packets", q->packets);
	vs_jw_kv_u64(w, "busy_cycles", q->busy_cycles);
	vs_jw_kv_u64(w, "window_cycles", q->window_cycles);
	vs_jw_key(w, "window_pct");
	vs_jw_fixed1(w, q->window_tsc > 0 ? 100.0 * (double)q->window_cycles / (double)q->window_tsc
					  : 0.0);
	vs_jw_object_close(w);
}

static void
auto_lb_json(struct vs_switch *sw, struct vs_jw *w)
{
	struct vs_switch_auto_lb a;

	vs_switch_auto_lb_get(sw, &a);
	vs_jw_key(w, "auto_lb");
	vs_jw_object_open(w);
	vs_jw_kv_bool(w, "on", a.on);
	vs_jw_kv_u64(w, "interval", a.interval);
	vs_jw_kv_u64(w, "threshold", a.threshold);
	vs_jw_kv_u64(w, "improvement", a.improvement);
	vs_jw_kv_u64(w, "checks", a.checks);
	vs_jw_kv_u64(w, "rebalances", a.rebalances);
	vs_jw_object_close(w);
}

int
vs_mgmt_cmd_show_rxqs(struct vs_mgmt_req *req)
{
	struct vs_switch *sw = req->sw;
	struct vs_jw *w = req->w;

	vs_jw_key(w, "rxqs");
	vs_jw_array_open(w);
	for (int id = vs_switch_port_next(sw, -1); id >= 0; id = vs_switch_port_next(sw, id)) {
		struct vs_switch_port_view v;

		if (vs_switch_port_view(sw, (uint16_t)id, &v) != 0)
			continue;
		for (uint16_t q = 0; q < v.info.nb_rxq && q < VS_PORT_MAX_QUEUES; q++) {
			struct vs_switch_rxq_view r;

			if (vs_switch_rxq_view(sw, (uint16_t)id, q, &r) == 0)
				rxq_json(w, &v, &r);
		}
	}
	vs_jw_array_close(w);
	auto_lb_json(sw, w);
	return 0;
}

int
vs_mgmt_cmd_rebalance(struct vs_mgmt_req *req)
{
	unsigned int moved = 0;

	if (vs_switch_rebalance(req->sw, &moved) != 0)
		return vs_mgmt_fail(req, "rebalance: cannot publish the placement");
	vs_jw_kv_u64(req->w, "moved", moved);
	return 0;
}

/* "PORT:QUEUE@WORKER" */
int
vs_mgmt_cmd_rxq_move(struct vs_mgmt_req *req)
{
	const char *arg = req->argv[0];
	char name[VS_PORT_NAME_LEN];
	unsigned int q, wk;
	int id, n = 0, rc;

	if (sscanf(arg, "%31[A-Za-z0-9_.-]:%u@%u%n", name, &q, &wk, &n) != 3 || arg[n] != '\0')
		return vs_mgmt_fail(req, "rxq-move needs PORT:QUEUE@WORKER (e.g. vm1:0@1)");
	id = vs_switch_port_find(req->sw, name);
	if (id < 0)
		return vs_mgmt_fail(req, "rxq-move: no port '%s'", name);
	rc = q < VS_PORT_MAX_QUEUES ? vs_switch_rxq_move(req->sw, (uint16_t)id, (uint16_t)q, wk)
				    : -EINVAL;
	if (rc != 0)
		return vs_mgmt_fail(req, "rxq-move: %s",
				    rc == -EINVAL ? "no such queue or worker"
						  : "cannot publish the placement");
	vs_jw_kv_str(req->w, "port", name);
	vs_jw_kv_u64(req->w, "queue", q);
	vs_jw_kv_u64(req->w, "worker", wk);
	return 0;
}

/* "on", "off", "interval=S", "threshold=P", "improvement=P", comma separated. */
int
vs_mgmt_cmd_auto_lb(struct vs_mgmt_req *req)
{
	struct vs_switch_auto_lb a;
	char buf[256], *save = NULL;

	vs_switch_auto_lb_get(req->sw, &a);
	snprintf(buf, sizeof(buf), "%s", req->argc > 0 ? req->argv[0] : "");
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		unsigned int v;
		int n = 0;

		if (strcmp(t, "on") == 0)
			a.on = true;
		else if (strcmp(t, "off") == 0)
			a.on = false;
		else if (sscanf(t, "interval=%u%n", &v, &n) == 1 && t[n] == '\0')
			a.interval = v;
		else if (sscanf(t, "threshold=%u%n", &v, &n) == 1 && t[n] == '\0')
			a.threshold = v;
		else if (sscanf(t, "improvement=%u%n", &v, &n) == 1 && t[n] == '\0')
			a.improvement = v;
		else
			return vs_mgmt_fail(req,
					    "auto-lb: '%.64s' is not on, off, interval=SEC, "
					    "threshold=PCT or improvement=PCT",
					    t);
	}
	if (vs_switch_auto_lb_set(req->sw, &a) != 0)
		return vs_mgmt_fail(req,
				    "auto-lb: interval must be 1..86400 s, percentages 0..100");
	auto_lb_json(req->sw, req->w);
	return 0;
}
