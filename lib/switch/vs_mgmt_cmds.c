/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's management commands: one handler per command, listed in
 * vs_mgmt_switch_cmds at the end (vs_mgmt.h says how requests reach them).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_log.h>

#include "vs_fdb.h"
#include "vs_mgmt.h"
#include "vs_mgmt_placement.h"
#include "vs_switch.h"

static int
cmd_show_ports(struct vs_mgmt_req *req)
{
	struct vs_switch *sw = req->sw;
	struct vs_jw *w = req->w;

	vs_jw_key(w, "ports");
	vs_jw_array_open(w);
	for (int p = vs_switch_port_next(sw, -1); p >= 0; p = vs_switch_port_next(sw, p)) {
		struct vs_switch_port_view v;
		struct vs_port_stats ds;
		uint64_t drx_drop = 0, drx_err = 0, dtx_err = 0;

		if (vs_switch_port_view(sw, (uint16_t)p, &v) != 0)
			continue;
		if (vs_switch_port_driver_stats(sw, (uint16_t)p, &ds) == 0) {
			for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++) {
				drx_drop += ds.rx[q].drops;
				drx_err += ds.rx[q].errors;
				dtx_err += ds.tx[q].errors;
			}
		}
		vs_jw_object_open(w);
		vs_jw_kv_u64(w, "id", v.id);
		vs_jw_kv_str(w, "name", v.name);
		vs_jw_kv_str(w, "type", v.info.type);
		vs_jw_kv_str(w, "state", v.info.link == VS_PORT_LINK_UP ? "up" : "down");
		vs_jw_kv_u64(w, "rx_queues", v.info.nb_rxq);
		vs_jw_kv_u64(w, "tx_queues", v.info.nb_txq);
		vs_jw_kv_u64(w, "max_queues", v.info.max_queues);
		vs_jw_kv_str(w, "vlan", v.vlan);
		vs_jw_kv_u64(w, "mtu", v.info.mtu);
		vs_jw_kv_str(w, "detail", v.info.detail);
		vs_jw_kv_u64(w, "rx_packets", v.counters.rx_packets);
		vs_jw_kv_u64(w, "rx_bytes", v.counters.rx_bytes);
		vs_jw_kv_u64(w, "rx_dropped", v.counters.rx_dropped);
		vs_jw_kv_u64(w, "tx_packets", v.counters.tx_packets);
		vs_jw_kv_u64(w, "tx_bytes", v.counters.tx_bytes);
		vs_jw_kv_u64(w, "tx_dropped", v.counters.tx_dropped);
		vs_jw_kv_u64(w, "flooded", v.counters.flooded);
		vs_jw_kv_u64(w, "onecopy", v.counters.onecopy);
		vs_jw_kv_u64(w, "driver_rx_dropped", drx_drop);
		vs_jw_kv_u64(w, "driver_rx_errors", drx_err);
		vs_jw_kv_u64(w, "driver_tx_errors", dtx_err);
		vs_jw_object_close(w);
	}
	vs_jw_array_close(w);
	return 0;
}

struct fdb_dump {
	struct vs_switch *sw;
	struct vs_jw *w;
	uint32_t n;
};

static int
fdb_entry(uint64_t key, uint16_t port, uint32_t age, void *arg)
{
	struct fdb_dump *d = arg;
	struct vs_switch_port_view v;
	char mac[18];
	uint8_t b[6];

	if (d->n == VS_MGMT_MAX_FDB_ENTRIES)
		return 1;
	vs_fdb_key_mac(key, b);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
		 b[5]);
	vs_jw_object_open(d->w);
	vs_jw_kv_str(d->w, "mac", mac);
	vs_jw_kv_u64(d->w, "vlan", vs_fdb_key_vlan(key));
	vs_jw_kv_str(d->w, "port", vs_switch_port_view(d->sw, port, &v) == 0 ? v.name : "?");
	vs_jw_kv_u64(d->w, "age", age);
	vs_jw_object_close(d->w);
	d->n++;
	return 0;
}

static int
cmd_show_fdb(struct vs_mgmt_req *req)
{
	struct fdb_dump d = {req->sw, req->w, 0};
	struct vs_switch_fdb_view f;
	struct vs_jw *w = req->w;
	int truncated;

	vs_switch_fdb_view(req->sw, &f);
	vs_jw_kv_u64(w, "count", f.count);
	vs_jw_kv_u64(w, "limit", f.limit);
	vs_jw_kv_u64(w, "aging", f.aging);
	vs_jw_kv_u64(w, "learned", f.learned);
	vs_jw_kv_u64(w, "moved", f.moved);
	vs_jw_kv_u64(w, "full", f.full);
	vs_jw_kv_u64(w, "aged", f.aged);
	vs_jw_kv_u64(w, "flushed", f.flushed);
	vs_jw_key(w, "entries");
	vs_jw_array_open(w);
	truncated = vs_fdb_walk(vs_switch_fdb(req->sw), fdb_entry, &d);
	vs_jw_array_close(w);
	vs_jw_kv_bool(w, "truncated", truncated != 0);
	return 0;
}

/* "tx_queues": the tx queues worker @p wk sends on, per port. */
static void
put_lcore_txqs(struct vs_switch *sw, struct vs_jw *w, unsigned int wk)
{
	vs_jw_key(w, "tx_queues");
	vs_jw_array_open(w);
	for (int p = vs_switch_port_next(sw, -1); p >= 0; p = vs_switch_port_next(sw, p)) {
		struct vs_switch_port_view v;
		struct vs_switch_txq_view t;

		if (vs_switch_port_view(sw, (uint16_t)p, &v) != 0 ||
		    vs_switch_txq_view(sw, (uint16_t)p, wk, &t) != 0 || t.mask == 0)
			continue;
		vs_jw_object_open(w);
		vs_jw_kv_str(w, "port", v.name);
		vs_jw_key(w, "queues");
		vs_jw_array_open(w);
		for (unsigned int q = 0; q < 32; q++)
			if (t.mask & (1u << q))
				vs_jw_u64(w, q);
		vs_jw_array_close(w);
		vs_jw_kv_bool(w, "shared", t.shared);
		vs_jw_object_close(w);
	}
	vs_jw_array_close(w);
}

static int
cmd_show_lcores(struct vs_mgmt_req *req)
{
	struct vs_switch *sw = req->sw;
	struct vs_jw *w = req->w;

	vs_jw_key(w, "lcores");
	vs_jw_array_open(w);
	for (unsigned int i = 0; i < vs_switch_nb_workers(sw); i++) {
		struct vs_switch_lcore_view l;
		uint64_t total;

		if (vs_switch_lcore_view(sw, i, &l) != 0)
			continue;
		total = l.busy_cycles + l.idle_cycles;
		vs_jw_object_open(w);
		vs_jw_kv_u64(w, "worker", l.worker);
		vs_jw_kv_u64(w, "lcore", l.lcore);
		vs_jw_kv_u64(w, "busy_cycles", l.busy_cycles);
		vs_jw_kv_u64(w, "idle_cycles", l.idle_cycles);
		vs_jw_key(w, "busy_pct");
		vs_jw_fixed1(w, total > 0 ? 100.0 * (double)l.busy_cycles / (double)total : 0.0);
		vs_jw_kv_u64(w, "iterations", l.iterations);
		vs_jw_kv_u64(w, "busy_iterations", l.busy_iterations);
		vs_jw_kv_u64(w, "rx_packets", l.rx_packets);
		vs_jw_kv_u64(w, "tsc_hz", l.tsc_hz);
		vs_jw_key(w, "queues");
		vs_jw_array_open(w);
		for (unsigned int q = 0; q < l.nb_polls && q < RTE_DIM(l.polls); q++) {
			struct vs_switch_port_view v;

			vs_jw_object_open(w);
			vs_jw_kv_str(w, "port",
				     vs_switch_port_view(sw, l.polls[q].port, &v) == 0 ? v.name
										       : "?");
			vs_jw_kv_u64(w, "queue", l.polls[q].queue);
			vs_jw_kv_u64(w, "tx_lane", l.polls[q].lane);
			vs_jw_object_close(w);
		}
		vs_jw_array_close(w);
		put_lcore_txqs(sw, w, i);
		vs_jw_object_close(w);
	}
	vs_jw_array_close(w);
	return 0;
}

static int
cmd_add_port(struct vs_mgmt_req *req)
{
	struct vs_switch_port_view v;
	char err[512];
	int rc;

	rc = vs_switch_add_port(req->sw, req->argv[0], err, sizeof(err));
	if (rc < 0)
		return vs_mgmt_fail(req, "add-port: %s", err);
	vs_jw_kv_u64(req->w, "id", (uint64_t)rc);
	if (vs_switch_port_view(req->sw, (uint16_t)rc, &v) == 0)
		vs_jw_kv_str(req->w, "port", v.name);
	return 0;
}

static int
cmd_del_port(struct vs_mgmt_req *req)
{
	char err[512];

	if (vs_switch_del_port(req->sw, req->argv[0], err, sizeof(err)) != 0)
		return vs_mgmt_fail(req, "del-port: %s", err);
	return 0;
}

static int
cmd_fdb_flush(struct vs_mgmt_req *req)
{
	vs_jw_kv_u64(req->w, "flushed", vs_switch_fdb_flush(req->sw));
	return 0;
}

/* ---- log levels ---- */

static const char *const level_names[] = {
	[RTE_LOG_EMERG] = "emergency", [RTE_LOG_ALERT] = "alert",     [RTE_LOG_CRIT] = "critical",
	[RTE_LOG_ERR] = "error",       [RTE_LOG_WARNING] = "warning", [RTE_LOG_NOTICE] = "notice",
	[RTE_LOG_INFO] = "info",       [RTE_LOG_DEBUG] = "debug",
};

/* A level by name (or its first 3+ letters: "err", "warn", "crit") or number 1..8. */
static int
parse_level(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (s[0] != '\0' && *end == '\0')
		return v >= RTE_LOG_EMERG && v <= RTE_LOG_DEBUG ? (int)v : -EINVAL;
	for (unsigned int l = RTE_LOG_EMERG; l <= RTE_LOG_DEBUG; l++)
		if (strlen(s) >= 3 && strncasecmp(level_names[l], s, strlen(s)) == 0)
			return (int)l;
	return -EINVAL;
}

/*
 * Lists the log types (those matching glob @p pattern, or all) with their
 * levels into @p w (NULL: only counts them), from rte_log_dump's lines
 * "id N: NAME, level is LEVEL".
 */
static unsigned int
list_log_types(struct vs_jw *w, const char *pattern)
{
	unsigned int n = 0;
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return 0;
	rte_log_dump(f);
	fclose(f);
	if (w != NULL) {
		vs_jw_key(w, "types");
		vs_jw_array_open(w);
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[128], level[32];
		unsigned long id;

		if (sscanf(line, "id %lu: %127[^,], level is %31s", &id, name, level) != 3 ||
		    (pattern != NULL && fnmatch(pattern, name, 0) != 0))
			continue;
		n++;
		if (w == NULL)
			continue;
		vs_jw_object_open(w);
		vs_jw_kv_str(w, "type", name);
		vs_jw_kv_str(w, "level", level);
		vs_jw_object_close(w);
	}
	if (w != NULL)
		vs_jw_array_close(w);
	free(text);
	return n;
}

static int
cmd_show_log(struct vs_mgmt_req *req)
{
	list_log_types(req->w, NULL);
	return 0;
}

static int
cmd_log_level(struct vs_mgmt_req *req)
{
	int level = parse_level(req->argv[1]);

	if (level < 0)
		return vs_mgmt_fail(req,
				    "log level: '%.32s' is no level (emergency, alert, critical, "
				    "error, warning, notice, info, debug, or 1..8)",
				    req->argv[1]);
	if (list_log_types(NULL, req->argv[0]) == 0)
		return vs_mgmt_fail(req, "log level: no log type matches '%.64s' (see show log)",
				    req->argv[0]);
	/* Also applies to types registered later that match. */
	if (rte_log_set_level_pattern(req->argv[0], (uint32_t)level) != 0)
		return vs_mgmt_fail(req, "log level: cannot set '%.64s'", req->argv[0]);
	list_log_types(req->w, req->argv[0]);
	return 0;
}

/* clang-format off */
const struct vs_mgmt_cmd vs_mgmt_switch_cmds[] = {
	{"show ports", "", "ports: type, state, queues, VLAN, packets, bytes, drops", 0, 0, false, cmd_show_ports},
	{"show fdb", "", "learned stations: MAC, VLAN, port, age", 0, 0, false, cmd_show_fdb},
	{"show lcores", "", "workers: the queues each polls, busy/idle cycles", 0, 0, false, cmd_show_lcores},
	{"add-port", "SPEC", "add a port (TYPE,key=value,...)", 1, 1, true, cmd_add_port},
	{"del-port", "NAME", "remove a port", 1, 1, false, cmd_del_port},
	{"fdb flush", "", "forget every learned station", 0, 0, false, cmd_fdb_flush},
	{"show log", "", "log types and their levels", 0, 0, false, cmd_show_log},
	{"log level", "TYPE LEVEL", "set the level of the log types matching glob TYPE (vswitch.*)", 2, 2, false, cmd_log_level},
	{"show rxqs", "", "rx queues: worker, packets, busy cycles; the automatic placement", 0, 0, false, vs_mgmt_cmd_show_rxqs},
	{"rebalance", "", "place every rx queue by its measured busy cycles", 0, 0, false, vs_mgmt_cmd_rebalance},
	{"rxq-move", "PORT:QUEUE@WORKER", "move one rx queue to a worker", 1, 1, false, vs_mgmt_cmd_rxq_move},
	{"auto-lb", "[on|off][,interval=SEC][,threshold=PCT][,improvement=PCT]", "the automatic placement's settings", 0, 1, false, vs_mgmt_cmd_auto_lb},
};
/* clang-format on */
const unsigned int vs_mgmt_switch_nb_cmds = RTE_DIM(vs_mgmt_switch_cmds);
