/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's management commands: one handler per command, listed in
 * vs_mgmt_switch_cmds at the end (vs_mgmt.h says how requests reach them).
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_log.h>

#include "vs_fdb.h"
#include "vs_mempool.h"
#include "vs_mgmt.h"
#include "vs_mgmt_placement.h"
#include "vs_switch.h"
#include "vs_vlan.h"

/* "rx_drops": {"vlan": n, ...}: every reason, so the schema never changes. */
static void
write_drops(struct vs_jw *w, const char *key, const uint64_t *drop)
{
	vs_jw_key(w, key);
	vs_jw_object_open(w);
	for (unsigned int r = 0; r < VS_DROP_NB; r++)
		vs_jw_kv_u64(w, vs_drop_name(r), drop[r]);
	vs_jw_object_close(w);
}

/* The members every port listing shares (show ports, show port). */
static void
write_port(struct vs_jw *w, const struct vs_switch_port_view *v, const struct vs_port_stats *ds)
{
	uint64_t drx_drop = 0, drx_err = 0, dtx_err = 0;

	for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++) {
		drx_drop += ds->rx[q].drops;
		drx_err += ds->rx[q].errors;
		dtx_err += ds->tx[q].errors;
	}
	vs_jw_kv_u64(w, "id", v->id);
	vs_jw_kv_str(w, "name", v->name);
	vs_jw_kv_str(w, "type", v->info.type);
	vs_jw_kv_str(w, "state", v->info.link == VS_PORT_LINK_UP ? "up" : "down");
	vs_jw_kv_str(w, "admin", v->admin_up ? "up" : "down");
	vs_jw_kv_u64(w, "rx_queues", v->info.nb_rxq);
	vs_jw_kv_u64(w, "tx_queues", v->info.nb_txq);
	vs_jw_kv_u64(w, "max_queues", v->info.max_queues);
	vs_jw_kv_str(w, "vlan", v->vlan);
	vs_jw_kv_u64(w, "mtu", v->info.mtu);
	vs_jw_kv_str(w, "detail", v->info.detail);
	vs_jw_kv_u64(w, "rx_packets", v->counters.rx_packets);
	vs_jw_kv_u64(w, "rx_bytes", v->counters.rx_bytes);
	vs_jw_kv_u64(w, "rx_dropped", v->counters.rx_dropped);
	vs_jw_kv_u64(w, "tx_packets", v->counters.tx_packets);
	vs_jw_kv_u64(w, "tx_bytes", v->counters.tx_bytes);
	vs_jw_kv_u64(w, "tx_dropped", v->counters.tx_dropped);
	vs_jw_kv_u64(w, "flooded", v->counters.flooded);
	vs_jw_kv_u64(w, "onecopy", v->counters.onecopy);
	write_drops(w, "rx_drops", v->counters.rx_drop);
	write_drops(w, "tx_drops", v->counters.tx_drop);
	vs_jw_kv_u64(w, "driver_rx_dropped", drx_drop);
	vs_jw_kv_u64(w, "driver_rx_errors", drx_err);
	vs_jw_kv_u64(w, "driver_tx_errors", dtx_err);
}

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

		memset(&ds, 0, sizeof(ds));
		if (vs_switch_port_view(sw, (uint16_t)p, &v) != 0)
			continue;
		vs_switch_port_driver_stats(sw, (uint16_t)p, &ds);
		vs_jw_object_open(w);
		write_port(w, &v, &ds);
		vs_jw_object_close(w);
	}
	vs_jw_array_close(w);
	return 0;
}

static int
find_port(struct vs_mgmt_req *req, const char *name)
{
	int id = vs_switch_port_find(req->sw, name);

	if (id < 0)
		vs_mgmt_fail(req, "no port named '%.64s'", name);
	return id;
}

static void
write_queue_stats(struct vs_jw *w, const char *key, const struct vs_port_queue_stats *qs,
		  unsigned int nb, const int16_t *worker)
{
	vs_jw_key(w, key);
	vs_jw_array_open(w);
	for (unsigned int q = 0; q < nb; q++) {
		vs_jw_object_open(w);
		vs_jw_kv_u64(w, "queue", q);
		if (worker != NULL) {
			vs_jw_key(w, "worker");
			vs_jw_i64(w, worker[q]);
		}
		vs_jw_kv_u64(w, "packets", qs[q].packets);
		vs_jw_kv_u64(w, "bytes", qs[q].bytes);
		vs_jw_kv_u64(w, "drops", qs[q].drops);
		vs_jw_kv_u64(w, "errors", qs[q].errors);
		vs_jw_object_close(w);
	}
	vs_jw_array_close(w);
}

/* One port in detail: counters, drops by reason, per queue, and the driver's view. */
static int
cmd_show_port(struct vs_mgmt_req *req)
{
	struct vs_switch_port_view v;
	struct vs_port_stats ds;
	struct vs_port *port;
	int id = find_port(req, req->argv[0]);
	unsigned int nq;

	if (id < 0)
		return -1;
	memset(&ds, 0, sizeof(ds));
	if (vs_switch_port_view(req->sw, (uint16_t)id, &v) != 0)
		return vs_mgmt_fail(req, "no port named '%.64s'", req->argv[0]);
	vs_switch_port_driver_stats(req->sw, (uint16_t)id, &ds);
	vs_jw_key(req->w, "port");
	vs_jw_object_open(req->w);
	write_port(req->w, &v, &ds);
	nq = v.info.max_queues > VS_PORT_MAX_QUEUES ? VS_PORT_MAX_QUEUES : v.info.max_queues;
	write_queue_stats(req->w, "rxq", ds.rx, nq, v.rxq_worker);
	write_queue_stats(req->w, "txq", ds.tx, nq, NULL);
	{
		struct vs_switch_capture_result cap;

		if (vs_switch_capture_state(req->sw, (uint16_t)id, &cap) == 0) {
			vs_jw_key(req->w, "capture");
			vs_jw_object_open(req->w);
			vs_jw_kv_str(req->w, "file", cap.path);
			vs_jw_kv_str(req->w, "dir",
				     cap.dir == 1   ? "rx"
				     : cap.dir == 2 ? "tx"
						    : "both");
			vs_jw_kv_u64(req->w, "count", cap.want);
			vs_jw_kv_u64(req->w, "written", cap.written);
			vs_jw_kv_u64(req->w, "lost", cap.lost);
			vs_jw_object_close(req->w);
		}
	}
	port = vs_switch_port(req->sw, (uint16_t)id);
	if (port != NULL && port->ops->describe != NULL) {
		vs_jw_key(req->w, "driver");
		vs_jw_object_open(req->w);
		port->ops->describe(port, req->w);
		vs_jw_object_close(req->w);
	}
	vs_jw_object_close(req->w);
	return 0;
}

static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* capture PORT FILE [dir=rx|tx|both] [count=N] [snaplen=N] */
static int
cmd_capture(struct vs_mgmt_req *req)
{
	unsigned int dir = VS_CAP_DIR_BOTH;
	uint32_t count = 0, snaplen = 0;
	char err[512];

	for (unsigned int i = 2; i < req->argc; i++) {
		const char *a = req->argv[i];

		if (strcmp(a, "dir=rx") == 0) {
			dir = 1;
		} else if (strcmp(a, "dir=tx") == 0) {
			dir = 2;
		} else if (strcmp(a, "dir=both") == 0) {
			dir = VS_CAP_DIR_BOTH;
		} else if (strncmp(a, "count=", 6) == 0) {
			if (parse_u32(a + 6, 1, UINT32_MAX, &count) != 0)
				return vs_mgmt_fail(req, "capture: count '%.32s' is not 1..%u",
						    a + 6, UINT32_MAX);
		} else if (strncmp(a, "snaplen=", 8) == 0) {
			if (parse_u32(a + 8, 64, 262144, &snaplen) != 0)
				return vs_mgmt_fail(
					req, "capture: snaplen '%.32s' is not 64..262144", a + 8);
		} else {
			return vs_mgmt_fail(
				req, "capture: '%.32s'? (dir=rx|tx|both, count=N, snaplen=N)", a);
		}
	}
	if (vs_switch_capture_start(req->sw, req->argv[0], req->argv[1], dir, count, snaplen, err,
				    sizeof(err)) != 0)
		return vs_mgmt_fail(req, "capture: %s", err);
	vs_jw_kv_str(req->w, "port", req->argv[0]);
	vs_jw_kv_str(req->w, "file", req->argv[1]);
	vs_jw_kv_str(req->w, "dir", dir == 1 ? "rx" : dir == 2 ? "tx" : "both");
	vs_jw_kv_u64(req->w, "count", count);
	return 0;
}

static int
cmd_capture_stop(struct vs_mgmt_req *req)
{
	struct vs_switch_capture_result res;
	char err[512];

	if (vs_switch_capture_stop(req->sw, req->argv[0], &res, err, sizeof(err)) != 0)
		return vs_mgmt_fail(req, "capture stop: %s", err);
	vs_jw_kv_str(req->w, "file", res.path);
	vs_jw_kv_u64(req->w, "written", res.written);
	vs_jw_kv_u64(req->w, "lost", res.lost);
	return 0;
}

static int
cmd_set_port(struct vs_mgmt_req *req)
{
	char err[256];

	if (vs_switch_set_port(req->sw, req->argv[0], req->argc - 1, req->argv + 1, err,
			       sizeof(err)) != 0)
		return vs_mgmt_fail(req, "set-port: %s", err);
	return 0;
}

static int
cmd_clear_counters(struct vs_mgmt_req *req)
{
	int id = -1;

	if (req->argc == 1) {
		id = find_port(req, req->argv[0]);
		if (id < 0)
			return -1;
	}
	vs_switch_clear_counters(req->sw, id);
	return 0;
}

struct fdb_dump {
	struct vs_switch *sw;
	struct vs_jw *w;
	uint32_t n;
};

static int
fdb_entry(uint64_t key, uint16_t port, uint32_t age, uint16_t flags, void *arg)
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
	vs_jw_kv_bool(d->w, "static", (flags & VS_FDB_F_STATIC) != 0);
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
	truncated = vs_fdb_walk_flags(vs_switch_fdb(req->sw), fdb_entry, &d);
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

/* "52:54:00:12:34:01": six pairs of hex digits. */
static int
parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		char hex[3] = {s[0], s[0] != '\0' ? s[1] : '\0', '\0'};
		char *end;

		if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
			return -EINVAL;
		mac[i] = (uint8_t)strtoul(hex, &end, 16);
		s += 2;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	return *s == '\0' ? 0 : -EINVAL;
}

/* "[port P] [vlan V]" in any order; absent: -1. */
static int
parse_port_vlan(struct vs_mgmt_req *req, unsigned int from, int *port, int *vlan)
{
	*port = -1;
	*vlan = -1;
	for (unsigned int i = from; i < req->argc; i += 2) {
		const char *k = req->argv[i], *v = i + 1 < req->argc ? req->argv[i + 1] : NULL;
		uint32_t x;

		if (v == NULL)
			return vs_mgmt_fail(req, "'%.32s' needs a value", k);
		if (strcmp(k, "port") == 0 && *port < 0) {
			*port = find_port(req, v);
			if (*port < 0)
				return -1;
		} else if (strcmp(k, "vlan") == 0 && *vlan < 0) {
			if (parse_u32(v, VS_VLAN_MIN, VS_VLAN_MAX, &x) != 0)
				return vs_mgmt_fail(req, "vlan '%.32s' is not in 1..4094", v);
			*vlan = (int)x;
		} else {
			return vs_mgmt_fail(req, "unexpected '%.32s' (port P, vlan V, each once)",
					    k);
		}
	}
	return 0;
}

static int
cmd_fdb_flush(struct vs_mgmt_req *req)
{
	int port, vlan;

	if (parse_port_vlan(req, 0, &port, &vlan) != 0)
		return -1;
	vs_jw_kv_u64(req->w, "flushed", vs_switch_fdb_flush_match(req->sw, port, vlan));
	return 0;
}

/* fdb add MAC [vlan V] PORT */
static int
cmd_fdb_add(struct vs_mgmt_req *req)
{
	struct vs_switch_port_view v;
	uint32_t vlan = 0;
	uint8_t mac[6];
	char err[256];
	int id;

	if (parse_mac(req->argv[0], mac) != 0)
		return vs_mgmt_fail(req, "fdb add: '%.32s' is no MAC address (52:54:00:12:34:56)",
				    req->argv[0]);
	if (req->argc == 4) {
		if (strcmp(req->argv[1], "vlan") != 0)
			return vs_mgmt_fail(req, "usage: fdb add MAC [vlan V] PORT");
		if (parse_u32(req->argv[2], VS_VLAN_MIN, VS_VLAN_MAX, &vlan) != 0)
			return vs_mgmt_fail(req, "fdb add: vlan '%.32s' is not in 1..4094",
					    req->argv[2]);
	} else if (req->argc != 2) {
		return vs_mgmt_fail(req, "usage: fdb add MAC [vlan V] PORT");
	}
	id = find_port(req, req->argv[req->argc - 1]);
	if (id < 0 || vs_switch_port_view(req->sw, (uint16_t)id, &v) != 0)
		return -1;
	if (vlan == 0) {
		vlan = (uint32_t)atoi(v.vlan);
		if (strncmp(v.vlan, "trunk", 5) == 0 || vlan == 0)
			return vs_mgmt_fail(
				req, "fdb add: port %s is a trunk: give the VLAN (vlan V)", v.name);
	}
	if (vs_switch_fdb_add(req->sw, mac, (uint16_t)vlan, (uint16_t)id, err, sizeof(err)) != 0)
		return vs_mgmt_fail(req, "fdb add: %s", err);
	vs_jw_kv_u64(req->w, "vlan", vlan);
	vs_jw_kv_str(req->w, "port", v.name);
	return 0;
}

struct mac_keys {
	uint64_t mac; /* the key's low 48 bits */
	uint64_t keys[64];
	unsigned int n;
};

static int
collect_mac(uint64_t key, uint16_t port, uint32_t age, void *arg)
{
	struct mac_keys *m = arg;

	(void)port;
	(void)age;
	if ((key & 0xffffffffffffull) == m->mac && m->n < RTE_DIM(m->keys))
		m->keys[m->n++] = key;
	return 0;
}

/* fdb del MAC [vlan V]: without a VLAN, the MAC's entries in every VLAN. */
static int
cmd_fdb_del(struct vs_mgmt_req *req)
{
	struct mac_keys m = {0};
	uint32_t vlan = 0, removed = 0;
	uint8_t mac[6], b[6];

	if (parse_mac(req->argv[0], mac) != 0)
		return vs_mgmt_fail(req, "fdb del: '%.32s' is no MAC address (52:54:00:12:34:56)",
				    req->argv[0]);
	if (req->argc == 3 && (strcmp(req->argv[1], "vlan") != 0 ||
			       parse_u32(req->argv[2], VS_VLAN_MIN, VS_VLAN_MAX, &vlan) != 0))
		return vs_mgmt_fail(req, "usage: fdb del MAC [vlan V] (V in 1..4094)");
	if (req->argc == 2)
		return vs_mgmt_fail(req, "usage: fdb del MAC [vlan V]");
	if (vlan != 0) {
		removed = vs_switch_fdb_del(req->sw, mac, (uint16_t)vlan) == 0;
	} else {
		m.mac = vs_fdb_key(mac, 0);
		vs_fdb_walk(vs_switch_fdb(req->sw), collect_mac, &m);
		for (unsigned int i = 0; i < m.n; i++) {
			vs_fdb_key_mac(m.keys[i], b);
			removed += vs_switch_fdb_del(req->sw, b, vs_fdb_key_vlan(m.keys[i])) == 0;
		}
	}
	if (removed == 0)
		return vs_mgmt_fail(req, "fdb del: no entry for %.32s%s", req->argv[0],
				    vlan != 0 ? " in that VLAN" : "");
	vs_jw_kv_u64(req->w, "removed", removed);
	return 0;
}

static int
cmd_set_fdb_aging(struct vs_mgmt_req *req)
{
	uint32_t sec;

	if (parse_u32(req->argv[0], 0, 1000000, &sec) != 0)
		return vs_mgmt_fail(req, "set fdb-aging: '%.32s' is not 0..1000000 seconds",
				    req->argv[0]);
	vs_switch_set_fdb_aging(req->sw, sec);
	vs_jw_kv_u64(req->w, "aging", sec);
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
	list_log_types(req->w, req->argc > 0 ? req->argv[0] : NULL);
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
	{"show mempool", "", "mbuf pools: size, in use, free (a leak shows here)", 0, 0, false, vs_mgmt_cmd_show_mempool},
	{"add-port", "SPEC", "add a port (TYPE,key=value,...)", 1, 1, true, cmd_add_port},
	{"del-port", "NAME", "remove a port", 1, 1, false, cmd_del_port},
	{"show port", "NAME", "one port: counters, drops by reason, queues, the driver's state (features, rings, memory)", 1, 1, false, cmd_show_port},
	{"set-port", "NAME key=value...", "change vlan=ID, trunk=LIST, admin=up|down without disconnecting", 2, VS_MGMT_ANY_ARGS, false, cmd_set_port},
	{"clear counters", "[PORT]", "zero the counters of a port, or of every port", 0, 1, false, cmd_clear_counters},
	{"fdb flush", "[port P] [vlan V]", "forget the learned stations (of port P, in VLAN V)", 0, 4, false, cmd_fdb_flush},
	{"fdb add", "MAC [vlan V] PORT", "a static station: never aged, never moved", 2, 4, false, cmd_fdb_add},
	{"fdb del", "MAC [vlan V]", "remove a station, static or learned (in every VLAN without V)", 1, 3, false, cmd_fdb_del},
	{"capture", "PORT FILE [dir=rx|tx|both] [count=N] [snaplen=N]", "write what a port receives and sends to a pcapng file", 2, 5, false, cmd_capture},
	{"capture stop", "PORT", "end a capture: the rest written, the file closed", 1, 1, false, cmd_capture_stop},
	{"set fdb-aging", "SECONDS", "forget stations unheard for SECONDS (0: never)", 1, 1, false, cmd_set_fdb_aging},
	{"show log", "[PATTERN]", "log types (those a glob matches) and their levels", 0, 1, false, cmd_show_log},
	{"log level", "TYPE LEVEL", "set the level of the log types matching glob TYPE (vswitch.*)", 2, 2, false, cmd_log_level},
	{"show rxqs", "", "rx queues: worker, packets, busy cycles; the automatic placement", 0, 0, false, vs_mgmt_cmd_show_rxqs},
	{"rebalance", "", "place every rx queue by its measured busy cycles", 0, 0, false, vs_mgmt_cmd_rebalance},
	{"rxq-move", "PORT:QUEUE@WORKER", "move one rx queue to a worker", 1, 1, false, vs_mgmt_cmd_rxq_move},
	{"auto-lb", "[on|off][,interval=SEC][,threshold=PCT][,improvement=PCT]", "the automatic placement's settings", 0, 1, false, vs_mgmt_cmd_auto_lb},
};
/* clang-format on */
const unsigned int vs_mgmt_switch_nb_cmds = RTE_DIM(vs_mgmt_switch_cmds);
