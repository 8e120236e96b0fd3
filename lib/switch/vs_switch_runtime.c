/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Run-time changes to a running engine (control thread): a port's VLANs and
 * admin state without touching its connection, counters cleared, static
 * FDB entries, the aging time. Each change the workers must see goes
 * through a new RCU snapshot (vs_switch_reconcile).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>
#include <rte_malloc.h>

#include "vs_switch_priv.h"

/* ---- set-port ---- */

struct port_change {
	const char *vlan;  /* vlan=, or NULL */
	const char *trunk; /* trunk=, or NULL */
	const char *admin; /* admin=, or NULL */
};

/* Splits "key=value" strings into @p c; every key once, known keys only. */
static int
parse_change(unsigned int n, const char *const *kv, struct port_change *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (n == 0) {
		vs_set_err(err, errlen,
			   "nothing to change (keys: vlan=ID, trunk=LIST, admin=up|down)");
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');
		const char **slot = NULL;
		size_t klen;

		if (eq == NULL || eq == kv[i] || eq[1] == '\0') {
			vs_set_err(err, errlen, "'%.64s' is not key=value", kv[i]);
			return -EINVAL;
		}
		klen = (size_t)(eq - kv[i]);
		if (klen == 4 && strncmp(kv[i], "vlan", 4) == 0)
			slot = &c->vlan;
		else if (klen == 5 && strncmp(kv[i], "trunk", 5) == 0)
			slot = &c->trunk;
		else if (klen == 5 && strncmp(kv[i], "admin", 5) == 0)
			slot = &c->admin;
		if (slot == NULL) {
			vs_set_err(err, errlen,
				   "key '%.*s' cannot change at run time (vlan, trunk, admin can)",
				   (int)(klen > 32 ? 32 : klen), kv[i]);
			return -EINVAL;
		}
		if (*slot != NULL) {
			vs_set_err(err, errlen, "key '%.*s' given twice", (int)klen, kv[i]);
			return -EINVAL;
		}
		*slot = eq + 1;
	}
	if (c->vlan != NULL && c->trunk != NULL) {
		vs_set_err(err, errlen, "vlan= and trunk= exclude each other");
		return -EINVAL;
	}
	return 0;
}

/* Static entries of @p port in VLANs it no longer carries (collected, then deleted). */
struct uncarried {
	uint16_t port;
	const struct vs_vlan_cfg *vlan;
	unsigned int n;
	uint64_t keys[64];
};

static int
collect_uncarried(uint64_t key, uint16_t port, uint32_t age, uint16_t flags, void *arg)
{
	struct uncarried *u = arg;

	(void)age;
	(void)flags;
	if (port != u->port || vs_vlan_member(u->vlan, vs_fdb_key_vlan(key)))
		return 0;
	u->keys[u->n++] = key;
	return u->n == RTE_DIM(u->keys);
}

/*
 * The workers send a unicast frame wherever the FDB says, without checking
 * the VLAN again: an entry (static ones survive flushes) in a VLAN the port
 * left would leak that VLAN's frames to it.
 */
static void
forget_uncarried_statics(struct vs_switch *sw, struct vs_sw_port *sp)
{
	struct uncarried u = {.port = sp->id, .vlan = sp->vlan};

	do {
		u.n = 0;
		vs_fdb_walk_flags(sw->fdb, collect_uncarried, &u);
		for (unsigned int i = 0; i < u.n; i++)
			if (vs_fdb_del(sw->fdb, u.keys[i]) == 0)
				sw->flushed++;
	} while (u.n == RTE_DIM(u.keys));
}

int
vs_switch_set_port(struct vs_switch *sw, const char *name, unsigned int n, const char *const *kv,
		   char *err, size_t errlen)
{
	int id = vs_switch_port_find(sw, name);
	struct vs_vlan_cfg *nv = NULL, *old = NULL;
	struct port_change c;
	struct vs_sw_port *sp;
	bool admin_up, was_up, vlan_changed = false;
	int rc;

	if (id < 0) {
		vs_set_err(err, errlen, "no port named '%s'", name);
		return -ENOENT;
	}
	sp = sw->ports[id];
	rc = parse_change(n, kv, &c, err, errlen);
	if (rc != 0)
		return rc;
	admin_up = was_up = sp->admin_up;
	if (c.admin != NULL) {
		if (strcmp(c.admin, "up") == 0) {
			admin_up = true;
		} else if (strcmp(c.admin, "down") == 0) {
			admin_up = false;
		} else {
			vs_set_err(err, errlen, "admin=%.32s: 'up' or 'down'", c.admin);
			return -EINVAL;
		}
	}
	if (c.vlan != NULL || c.trunk != NULL) {
		nv = rte_zmalloc("vs_vlan", sizeof(*nv), 0);
		if (nv == NULL) {
			vs_set_err(err, errlen, "out of memory");
			return -ENOMEM;
		}
		rc = vs_vlan_parse(c.vlan, c.trunk, nv, err, errlen);
		if (rc != 0) {
			rte_free(nv);
			return rc;
		}
		vlan_changed = memcmp(nv, sp->vlan, sizeof(*nv)) != 0;
	}
	pthread_mutex_lock(&sw->lock);
	if (nv != NULL) {
		old = sp->vlan;
		sp->vlan = nv;
	}
	sp->admin_up = admin_up;
	pthread_mutex_unlock(&sw->lock);
	/* Publishes and waits out the workers: nobody reads @p old after it. */
	rc = vs_switch_reconcile(sw);
	if (rc != 0) {
		/* Workers still read the old configuration: keep it, undo ours. */
		pthread_mutex_lock(&sw->lock);
		if (old != NULL)
			sp->vlan = old;
		sp->admin_up = was_up;
		pthread_mutex_unlock(&sw->lock);
		rte_free(nv);
		vs_set_err(err, errlen, "out of memory for the new snapshot");
		return rc;
	}
	rte_free(old);
	/*
	 * Stations learned in VLANs the port no longer carries, or behind a port
	 * now down, must not stay on it; flushed after the grace period, so no
	 * worker that still read the old snapshot learns them again.
	 */
	if (vlan_changed || (was_up && !admin_up))
		sw->flushed += vs_fdb_flush_port(sw->fdb, sp->id);
	if (vlan_changed)
		forget_uncarried_statics(sw, sp);
	{
		char vl[96];

		vs_vlan_format(sp->vlan, vl, sizeof(vl));
		rte_log(RTE_LOG_INFO, vs_switch_logtype, "switch: port %s set: vlan %s, admin %s\n",
			name, vl, admin_up ? "up" : "down");
	}
	return 0;
}

/* ---- counters ---- */

static void
clear_port(struct vs_switch *sw, uint16_t d)
{
	struct vs_sw_port *sp = sw->ports[d];
	struct vs_switch_port_counters now;

	if (sp == NULL)
		return;
	vs_switch_sum_engine(sw, d, &now);
	pthread_mutex_lock(&sw->lock);
	sp->base = now;
	pthread_mutex_unlock(&sw->lock);
	sp->port->ops->stats_reset(sp->port);
	vs_switch_refresh_driver_stats(sw, d);
}

int
vs_switch_clear_counters(struct vs_switch *sw, int id)
{
	if (id >= 0) {
		if (id >= VS_SWITCH_MAX_PORTS || sw->ports[id] == NULL)
			return -ENOENT;
		clear_port(sw, (uint16_t)id);
		return 0;
	}
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++)
		clear_port(sw, (uint16_t)d);
	vs_switch_clear_lcores(sw);
	return 0;
}

/* ---- FDB ---- */

uint32_t
vs_switch_fdb_flush_match(struct vs_switch *sw, int port, int vlan)
{
	uint32_t n = vs_fdb_flush_match(sw->fdb, port, vlan, false);

	sw->flushed += n;
	return n;
}

int
vs_switch_fdb_add(struct vs_switch *sw, const uint8_t mac[6], uint16_t vlan, uint16_t port,
		  char *err, size_t errlen)
{
	struct vs_sw_port *sp = port < VS_SWITCH_MAX_PORTS ? sw->ports[port] : NULL;

	if (sp == NULL) {
		vs_set_err(err, errlen, "no port with id %u", port);
		return -ENOENT;
	}
	if (mac[0] & 1) {
		vs_set_err(err, errlen, "a group (multicast) address is never a station");
		return -EINVAL;
	}
	if (vlan < VS_VLAN_MIN || vlan > VS_VLAN_MAX || !vs_vlan_member(sp->vlan, vlan)) {
		vs_set_err(err, errlen, "port %s does not carry VLAN %u", sp->port->name, vlan);
		return -EINVAL;
	}
	if (vs_fdb_add_static(sw->fdb, vs_fdb_key(mac, vlan), port) != 0) {
		vs_set_err(err, errlen, "the FDB is full (%u entries)", sw->fdb->limit);
		return -ENOSPC;
	}
	return 0;
}

int
vs_switch_fdb_del(struct vs_switch *sw, const uint8_t mac[6], uint16_t vlan)
{
	return vs_fdb_del(sw->fdb, vs_fdb_key(mac, vlan));
}

void
vs_switch_set_fdb_aging(struct vs_switch *sw, uint32_t seconds)
{
	/* Read by the clock timer and the views. */
	__atomic_store_n(&sw->cfg.fdb_aging, seconds, __ATOMIC_RELAXED);
}

/* ---- the running configuration ---- */

/* trunk=LIST as a SPEC writes it: "10:20-29". */
static size_t
trunk_list(const struct vs_vlan_cfg *v, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int a = VS_VLAN_MIN; a <= VS_VLAN_MAX && n < len; a++) {
		unsigned int b = a;

		if (!vs_vlan_member(v, (uint16_t)a))
			continue;
		while (b + 1 <= VS_VLAN_MAX && vs_vlan_member(v, (uint16_t)(b + 1)))
			b++;
		n += (size_t)snprintf(buf + n, len - n, a == b ? "%s%u" : "%s%u-%u",
				      n > 0 ? ":" : "", a, b);
		a = b;
	}
	return n;
}

static size_t append(char *buf, size_t len, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t
append(char *buf, size_t len, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (n >= len)
		return n;
	va_start(ap, fmt);
	n += (size_t)vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return n;
}

int
vs_switch_port_spec(struct vs_switch *sw, uint16_t id, char *buf, size_t len)
{
	struct vs_sw_port *sp = id < VS_SWITCH_MAX_PORTS ? sw->ports[id] : NULL;
	struct vs_port_spec spec;
	char list[1024];
	size_t n;

	if (sp == NULL)
		return -ENOENT;
	if (vs_port_spec_parse(sp->spec, &spec, NULL, 0) != 0)
		return -EINVAL;
	n = append(buf, len, 0, "%s", spec.type);
	for (unsigned int i = 0; i < spec.nkv; i++) {
		const char *k = spec.kv[i].key, *v = spec.kv[i].value;

		/* The engine's keys are written from the state now. */
		if (strcmp(k, "name") == 0 || strcmp(k, "vlan") == 0 || strcmp(k, "trunk") == 0 ||
		    strcmp(k, "admin") == 0)
			continue;
		n = append(buf, len, n, strchr(v, ',') != NULL ? ",%s=\"%s\"" : ",%s=%s", k, v);
	}
	n = append(buf, len, n, ",name=%s", sp->port->name);
	pthread_mutex_lock(&sw->lock);
	if (sp->vlan->access != 0) {
		n = append(buf, len, n, ",vlan=%u", sp->vlan->access);
	} else {
		trunk_list(sp->vlan, list, sizeof(list));
		n = append(buf, len, n, ",trunk=%s", list);
	}
	if (!sp->admin_up)
		n = append(buf, len, n, ",admin=down");
	pthread_mutex_unlock(&sw->lock);
	return n < len ? (int)n : -ENAMETOOLONG;
}
