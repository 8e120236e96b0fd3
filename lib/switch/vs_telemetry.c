/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's counters through DPDK telemetry (dpdk-telemetry.py):
 *   /vswitch/ports          port names
 *   /vswitch/port,NAME      one port: state, counters, drops by reason
 *   /vswitch/lcores         every worker: lcore, cycles, packets
 *   /vswitch/fdb            FDB size and learning counters
 * The show commands (show mempool among them) come through the bridge of
 * vs_mgmt_telemetry.c as /vswitch/show/...
 * Telemetry commands cannot be unregistered, so they are registered once
 * and look up the engine attached now, under a lock the detach takes too.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "vs_switch_priv.h"

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vs_switch *tel_sw;
static bool tel_registered;

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&tel_lock);
	if (tel_sw != NULL) {
		for (int p = vs_switch_port_next(tel_sw, -1); p >= 0;
		     p = vs_switch_port_next(tel_sw, p)) {
			struct vs_switch_port_view v;

			if (vs_switch_port_view(tel_sw, (uint16_t)p, &v) == 0)
				rte_tel_data_add_array_string(d, v.name);
		}
	}
	pthread_mutex_unlock(&tel_lock);
	return 0;
}

/* "rx_drops": {"vlan": n, ...}, every reason. */
static void
add_drops(struct rte_tel_data *d, const char *key, const uint64_t *drop)
{
	struct rte_tel_data *x = rte_tel_data_alloc();

	if (x == NULL)
		return;
	rte_tel_data_start_dict(x);
	for (unsigned int r = 0; r < VS_DROP_NB; r++)
		rte_tel_data_add_dict_u64(x, vs_drop_name(r), drop[r]);
	if (rte_tel_data_add_dict_container(d, key, x, 0) != 0)
		rte_tel_data_free(x);
}

static void
port_dict(struct rte_tel_data *d, const struct vs_switch_port_view *v)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", v->name);
	rte_tel_data_add_dict_u64(d, "id", v->id);
	rte_tel_data_add_dict_string(d, "type", v->info.type != NULL ? v->info.type : "");
	rte_tel_data_add_dict_string(d, "link", v->info.link == VS_PORT_LINK_UP ? "up" : "down");
	rte_tel_data_add_dict_string(d, "admin", v->admin_up ? "up" : "down");
	rte_tel_data_add_dict_u64(d, "rx_queues", v->info.nb_rxq);
	rte_tel_data_add_dict_u64(d, "tx_queues", v->info.nb_txq);
	rte_tel_data_add_dict_string(d, "vlan", v->vlan);
	rte_tel_data_add_dict_u64(d, "rx_packets", v->counters.rx_packets);
	rte_tel_data_add_dict_u64(d, "rx_bytes", v->counters.rx_bytes);
	rte_tel_data_add_dict_u64(d, "rx_dropped", v->counters.rx_dropped);
	rte_tel_data_add_dict_u64(d, "tx_packets", v->counters.tx_packets);
	rte_tel_data_add_dict_u64(d, "tx_bytes", v->counters.tx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_dropped", v->counters.tx_dropped);
	rte_tel_data_add_dict_u64(d, "flooded", v->counters.flooded);
	add_drops(d, "rx_drops", v->counters.rx_drop);
	add_drops(d, "tx_drops", v->counters.tx_drop);
}

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vs_switch_port_view v;
	int id = -1, rc = -EINVAL;

	(void)cmd;
	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	pthread_mutex_lock(&tel_lock);
	if (tel_sw != NULL) {
		for (int p = vs_switch_port_next(tel_sw, -1); p >= 0 && id < 0;
		     p = vs_switch_port_next(tel_sw, p))
			if (vs_switch_port_view(tel_sw, (uint16_t)p, &v) == 0 &&
			    strcmp(v.name, params) == 0)
				id = p;
		if (id >= 0) {
			port_dict(d, &v);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&tel_lock);
	return rc;
}

static int
tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&tel_lock);
	for (unsigned int w = 0; tel_sw != NULL && w < vs_switch_nb_workers(tel_sw); w++) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		struct vs_switch_lcore_view l;
		char name[32];

		if (c == NULL || vs_switch_lcore_view(tel_sw, w, &l) != 0) {
			rte_tel_data_free(c);
			continue;
		}
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "lcore", l.lcore);
		rte_tel_data_add_dict_u64(c, "busy_cycles", l.busy_cycles);
		rte_tel_data_add_dict_u64(c, "idle_cycles", l.idle_cycles);
		rte_tel_data_add_dict_u64(c, "iterations", l.iterations);
		rte_tel_data_add_dict_u64(c, "busy_iterations", l.busy_iterations);
		rte_tel_data_add_dict_u64(c, "rx_packets", l.rx_packets);
		rte_tel_data_add_dict_u64(c, "polls", l.nb_polls);
		rte_tel_data_add_dict_u64(c, "tsc_hz", l.tsc_hz);
		snprintf(name, sizeof(name), "worker%u", w);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	pthread_mutex_unlock(&tel_lock);
	return 0;
}

static int
tel_fdb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vs_switch_fdb_view f;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&tel_lock);
	if (tel_sw != NULL) {
		vs_switch_fdb_view(tel_sw, &f);
		rte_tel_data_add_dict_u64(d, "count", f.count);
		rte_tel_data_add_dict_u64(d, "limit", f.limit);
		rte_tel_data_add_dict_u64(d, "aging", f.aging);
		rte_tel_data_add_dict_u64(d, "learned", f.learned);
		rte_tel_data_add_dict_u64(d, "moved", f.moved);
		rte_tel_data_add_dict_u64(d, "full", f.full);
		rte_tel_data_add_dict_u64(d, "aged", f.aged);
		rte_tel_data_add_dict_u64(d, "flushed", f.flushed);
	}
	pthread_mutex_unlock(&tel_lock);
	return 0;
}

void
vs_telemetry_attach(struct vs_switch *sw)
{
	pthread_mutex_lock(&tel_lock);
	tel_sw = sw;
	if (!tel_registered) {
		rte_telemetry_register_cmd("/vswitch/ports", tel_ports, "vswitch port names");
		rte_telemetry_register_cmd(
			"/vswitch/port", tel_port,
			"One vswitch port's state and counters. Parameter: name");
		rte_telemetry_register_cmd("/vswitch/lcores", tel_lcores,
					   "vswitch workers: busy/idle cycles, packets");
		rte_telemetry_register_cmd("/vswitch/fdb", tel_fdb,
					   "vswitch FDB size and learning counters");
		tel_registered = true;
	}
	pthread_mutex_unlock(&tel_lock);
}

void
vs_telemetry_detach(struct vs_switch *sw)
{
	pthread_mutex_lock(&tel_lock);
	if (tel_sw == sw)
		tel_sw = NULL;
	pthread_mutex_unlock(&tel_lock);
}
