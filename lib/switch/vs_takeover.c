/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hand-over, new side (vs_handover.h): ask the running switch for its
 * ports, check everything it sends as untrusted input, create the ports and
 * load the saved ones while the old process waits, commit, and once it has
 * let go publish them to our workers, open the ports it closed, and learn
 * its stations. Until the commit nothing of ours forwards, and any failure
 * leaves the old switch to resume.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vs_handover_priv.h"
#include "vs_switch_priv.h"

struct ho_in {
	struct vs_sw_port *sp;
	bool saved;  /* the old process saved it: load, do not reopen */
	bool loaded; /* handover_load succeeded: release it if we give up */
};

struct takeover {
	struct vs_switch *sw;
	int fd;
	uint64_t deadline;
	unsigned int nports;
	struct ho_in *in; /* VS_SWITCH_MAX_PORTS, by port id */
	struct ho_fdb_entry *fdb;
	uint32_t nfdb;
	struct ho_end end;
	char *err;
	size_t errlen;
	bool confirmed;	  /* the commit was late: we waited for DONE */
	double ms_loaded; /* everything received and loaded, after the old workers stopped */
	double ms_done;	  /* the old process closed the ports we reopen */
};

static int fail(struct takeover *t, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct takeover *t, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, t->errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- asking ---- */

static int
connect_ctl(struct takeover *t, const char *ctl)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(ctl) >= sizeof(sa.sun_path))
		return fail(t, -ENAMETOOLONG, "--ctl %s: too long", ctl);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctl);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(t, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		close(fd);
		return fail(t, rc, "no switch serves %s (%s): nothing to take over", ctl,
			    strerror(-rc));
	}
	t->fd = fd;
	return 0;
}

/* The answer to "takeover VERSION": ok, or the old switch's reason. */
static int
hello(struct takeover *t)
{
	char line[4096], jerr[128];
	const json_t *ok, *hv;
	json_t *j;
	uint64_t v = 0;
	int rc;

	snprintf(line, sizeof(line), "takeover %d\n", VS_HANDOVER_VERSION);
	rc = ho_send_raw(t->fd, line, strlen(line), t->deadline);
	if (rc == 0)
		rc = ho_recv_line(t->fd, line, sizeof(line), t->deadline);
	if (rc < 0)
		return fail(t, rc, "the running switch did not answer: %s", strerror(-rc));
	j = vs_json_load(line, strlen(line), jerr, sizeof(jerr));
	ok = json_object_get(j, "ok");
	hv = json_object_get(j, "handover_version");
	if (j == NULL || !json_is_boolean(ok)) {
		json_decref(j);
		return fail(t, -EBADMSG, "the running switch answered nonsense");
	}
	if (!json_is_true(ok)) {
		const char *why = vs_json_str(j, "error");

		rc = fail(t,
			  hv != NULL && vs_json_u64(hv, &v) == 0 && v != VS_HANDOVER_VERSION
				  ? -EPROTONOSUPPORT
				  : -EPERM,
			  "the running switch refused: %.400s", why != NULL ? why : "?");
		json_decref(j);
		return rc;
	}
	if (hv == NULL || vs_json_u64(hv, &v) != 0 || v != VS_HANDOVER_VERSION) {
		json_decref(j);
		return fail(t, -EPROTONOSUPPORT,
			    "the running switch speaks hand-over version %llu, this one %d: "
			    "upgrade with a restart instead",
			    (unsigned long long)v, VS_HANDOVER_VERSION);
	}
	json_decref(j);
	return 0;
}

/* ---- checking what comes ---- */

static bool
name_ok(const char *name, size_t cap)
{
	size_t n = strnlen(name, cap);

	if (n == 0 || n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-' &&
		    name[i] != '.')
			return false;
	return true;
}

static bool
vlan_ok(const struct ho_port *p)
{
	unsigned int n = 0;

	if (p->access > VS_VLAN_MAX)
		return false;
	for (unsigned int i = 0; i < 4096 / 64; i++)
		n += (unsigned int)__builtin_popcountll(p->trunk[i]);
	if (p->access != 0)
		return n == 0 && p->nb_trunk == 0;
	/* A trunk: VLANs 1..4094 only, as many as it says. */
	return n > 0 && n == p->nb_trunk && (p->trunk[0] & 1) == 0 &&
	       (p->trunk[4095 / 64] >> (4095 % 64) & 1) == 0;
}

static int
check_port(struct takeover *t, const struct ho_hdr *h, const struct ho_port *p)
{
	const char *spec = (const char *)(p + 1);

	if (h->len < sizeof(*p) || (uint64_t)p->spec_len + p->blob_len != h->len - sizeof(*p) ||
	    p->spec_len == 0 || p->spec_len > HO_MAX_SPEC || memchr(spec, '\0', p->spec_len))
		return fail(t, -EBADMSG, "a port record is malformed");
	if (!name_ok(p->name, sizeof(p->name)) || p->id >= VS_SWITCH_MAX_PORTS ||
	    t->in[p->id].sp != NULL)
		return fail(t, -EBADMSG, "a port record has a bad name or id");
	if ((p->flags & ~HO_PORT_F_SAVED) != 0 || p->reserved != 0 ||
	    ((p->flags & HO_PORT_F_SAVED) == 0 && (p->blob_len != 0 || h->nfds != 0)))
		return fail(t, -EBADMSG, "port %s: bad flags", p->name);
	if (!vlan_ok(p))
		return fail(t, -EBADMSG, "port %s: bad VLANs", p->name);
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++)
		if (t->in[d].sp != NULL && strcmp(t->in[d].sp->port->name, p->name) == 0)
			return fail(t, -EBADMSG, "port %s: named twice", p->name);
	return 0;
}

static void
carry_config(struct vs_sw_port *sp, const struct ho_port *p)
{
	struct vs_switch_port_counters *c = &sp->carried;

	sp->vlan->access = p->access;
	sp->vlan->nb_trunk = p->nb_trunk;
	memcpy(sp->vlan->trunk, p->trunk, sizeof(sp->vlan->trunk));
	c->rx_packets = p->counters[0];
	c->rx_bytes = p->counters[1];
	c->rx_dropped = p->counters[2];
	c->tx_packets = p->counters[3];
	c->tx_bytes = p->counters[4];
	c->tx_dropped = p->counters[5];
	c->flooded = p->counters[6];
}

/* One port: created from its SPEC; a saved one loaded (the fds are taken). */
static int
take_port(struct takeover *t, const struct ho_hdr *h, const struct ho_port *p, int *fds)
{
	char spec[HO_MAX_SPEC + 1], why[512];
	struct ho_in *in;
	struct vs_port_handover ph;
	int rc = check_port(t, h, p);

	if (rc < 0)
		return rc;
	memcpy(spec, p + 1, p->spec_len);
	spec[p->spec_len] = '\0';
	in = &t->in[p->id];
	rc = vs_sw_port_new(t->sw, spec, p->name, &in->sp, why, sizeof(why));
	if (rc < 0)
		return fail(t, rc, "port %s: %s", p->name, why);
	if (strcmp(in->sp->port->name, p->name) != 0) {
		vs_sw_port_free(in->sp);
		in->sp = NULL;
		return fail(t, -EBADMSG, "port %s: its SPEC names another port", p->name);
	}
	carry_config(in->sp, p);
	t->nports++;
	if ((p->flags & HO_PORT_F_SAVED) == 0)
		return 0;
	in->saved = true;
	if (in->sp->port->ops->handover_load == NULL)
		return fail(t, -ENOTSUP, "port %s: this switch cannot resume a port of its type",
			    p->name);
	ph = (struct vs_port_handover){(char *)(p + 1) + p->spec_len, p->blob_len, fds, h->nfds};
	rc = in->sp->port->ops->handover_load(in->sp->port, &ph);
	for (unsigned int i = 0; i < h->nfds; i++)
		fds[i] = -1; /* taken by the load, whatever its outcome */
	if (rc < 0)
		return fail(t, rc, "port %s: cannot be resumed here: %s", p->name, strerror(-rc));
	in->loaded = true;
	return 0;
}

static int
take_fdb(struct takeover *t, const struct ho_hdr *h, const uint8_t *payload)
{
	uint32_t n;

	if (h->len < sizeof(n))
		return fail(t, -EBADMSG, "the station table is malformed");
	memcpy(&n, payload, sizeof(n));
	if ((uint64_t)n * sizeof(struct ho_fdb_entry) != h->len - sizeof(n) || t->fdb != NULL)
		return fail(t, -EBADMSG, "the station table is malformed");
	t->fdb = malloc((size_t)n * sizeof(*t->fdb) + 1);
	if (t->fdb == NULL)
		return fail(t, -ENOMEM, "out of memory for %u stations", n);
	memcpy(t->fdb, payload + sizeof(n), (size_t)n * sizeof(*t->fdb));
	t->nfdb = n;
	return 0;
}

static void
close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Records until END. */
static int
receive_all(struct takeover *t)
{
	static int fds[VS_PORT_HANDOVER_MAX_FDS];

	for (;;) {
		struct ho_hdr h;
		void *payload;
		int rc = ho_recv(t->fd, &h, &payload, HO_MAX_PAYLOAD, fds, VS_PORT_HANDOVER_MAX_FDS,
				 t->deadline);

		if (rc < 0)
			return fail(t, rc, "receiving the ports: %s", strerror(-rc));
		if (h.type == HO_PORT && payload != NULL)
			rc = take_port(t, &h, payload, fds);
		else if (h.type == HO_FDB && h.nfds == 0 && payload != NULL)
			rc = take_fdb(t, &h, payload);
		else if (h.type == HO_END && h.nfds == 0 && h.len == sizeof(t->end))
			memcpy(&t->end, payload, sizeof(t->end));
		else
			rc = fail(t, -EBADMSG, "unexpected record %u", h.type);
		close_fds(fds, rc < 0 || h.type != HO_PORT ? h.nfds : 0);
		free(payload);
		if (rc < 0)
			return rc;
		if (h.type == HO_END)
			break;
	}
	if (t->end.nports != t->nports || t->fdb == NULL ||
	    memchr(t->end.version, '\0', sizeof(t->end.version)) == NULL)
		return fail(t, -EBADMSG, "the running switch sent %u of %u ports", t->nports,
			    t->end.nports);
	return 0;
}

/* The old process's answer to our commit: it will not resume the saved ports. */
static int
receive_done(struct takeover *t)
{
	struct ho_hdr h;
	void *payload;
	int rc = ho_recv(t->fd, &h, &payload, 0, NULL, 0, t->deadline);

	free(payload);
	if (rc < 0)
		return fail(t, rc, "the running switch did not confirm (%s)", strerror(-rc));
	if (h.type != HO_DONE)
		return fail(t, -EBADMSG, "the running switch did not confirm (record %u)", h.type);
	return 0;
}

/*
 * The management socket's listener, as CLOSED brings it once the old
 * process closed the ports we reopen: ours to serve. -1 when it does not
 * come (the old process died meanwhile: the caller makes its own socket).
 */
static int
receive_closed(struct takeover *t, const char *ctl)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	struct ho_hdr h;
	void *payload;
	int fd = -1, acc = 0;
	socklen_t ol = sizeof(acc);
	int rc = ho_recv(t->fd, &h, &payload, 0, &fd, 1, t->deadline);

	free(payload);
	if (rc < 0) {
		HO_LOG(WARNING, "the running switch did not pass its management socket (%s)",
		       strerror(-rc));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	if (h.type != HO_CLOSED || h.nfds != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &ol) != 0 || !acc ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || sa.sun_family != AF_UNIX ||
	    strncmp(sa.sun_path, ctl, sizeof(sa.sun_path)) != 0) {
		if (fd >= 0)
			close(fd);
		HO_LOG(WARNING, "the running switch passed something other than its management "
				"socket");
		return -1;
	}
	return fd;
}

/* ---- after the commit ---- */

static void
learn_stations(struct takeover *t)
{
	struct vs_fdb_counters c = {0};

	for (uint32_t i = 0; i < t->nfdb; i++) {
		const struct ho_fdb_entry *e = &t->fdb[i];
		uint16_t vlan = vs_fdb_key_vlan(e->key);

		/* Only stations of ports we have, in VLANs, unicast, never a flag we do not know.
		 */
		if (e->port >= VS_SWITCH_MAX_PORTS || t->in[e->port].sp == NULL ||
		    (e->flags & ~HO_FDB_F_STATIC) != 0 || vlan < VS_VLAN_MIN ||
		    vlan > VS_VLAN_MAX || (e->key & 1) != 0)
			continue;
		if (e->flags == 0)
			vs_fdb_learn(t->sw->fdb, e->key, e->port, &c);
		else if (vs_vlan_member(t->in[e->port].sp->vlan, vlan))
			vs_fdb_add_static(t->sw->fdb, e->key, e->port);
	}
}

static void
join_saved(struct takeover *t, struct vs_takeover_info *info)
{
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct ho_in *in = &t->in[d];

		if (in->sp == NULL || !in->saved)
			continue;
		vs_sw_port_join(t->sw, in->sp, (uint16_t)d);
		in->sp = NULL;
		info->resumed++;
	}
	learn_stations(t);
	vs_sw_reconcile(t->sw);
	info->gap_ms = (double)(ho_now_ns() - t->end.stopped_ns) / 1e6;
}

/* The ports the old process closed: opened afresh, each on its own. */
static void
reopen_others(struct takeover *t, struct vs_takeover_info *info)
{
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct ho_in *in = &t->in[d];
		struct vs_port *port;
		int rc;

		if (in->sp == NULL)
			continue;
		port = in->sp->port;
		port->id = (uint16_t)d;
		rc = port->ops->start(port);
		if (rc != 0) {
			HO_LOG(ERR, "port %s could not be opened again: %s; it is gone", port->name,
			       strerror(-rc));
			vs_sw_port_free(in->sp);
			info->not_reopened++;
		} else {
			vs_sw_port_join(t->sw, in->sp, (uint16_t)d);
			vs_sw_reconcile(t->sw);
			info->reopened++;
		}
		in->sp = NULL;
	}
	info->reopen_ms = (double)(ho_now_ns() - t->end.stopped_ns) / 1e6;
}

/* ---- giving up ---- */

static void
give_up(struct takeover *t)
{
	for (unsigned int d = 0; t->in != NULL && d < VS_SWITCH_MAX_PORTS; d++) {
		struct ho_in *in = &t->in[d];

		if (in->sp == NULL)
			continue;
		/* What we loaded is the old process's still: let go quietly. */
		if (in->loaded) {
			in->sp->port->ops->handover_release(in->sp->port);
			in->sp->port->ops->stop(in->sp->port);
		}
		vs_sw_port_free(in->sp);
		in->sp = NULL;
	}
	if (t->fd >= 0)
		ho_send(t->fd, HO_ABORT, t->err, (uint32_t)strlen(t->err), NULL, 0,
			ho_now_ms() + 1000);
}

/*
 * Sends COMMIT. The old side honours a COMMIT that arrives before its
 * deadline (it reads what came in time, however late it runs), so when ours
 * leaves well before it, nothing can make the old side resume: the caller
 * forwards at once. Otherwise it waits for DONE, and gives up without it.
 */
static int
commit(struct takeover *t)
{
	bool in_time = ho_now_ns() + HO_COMMIT_MARGIN_NS < t->end.deadline_ns;
	int rc;

	t->ms_loaded = (double)(ho_now_ns() - t->end.stopped_ns) / 1e6;
	rc = ho_send(t->fd, HO_COMMIT, NULL, 0, NULL, 0, t->deadline);
	if (rc < 0)
		return fail(t, rc, "committing: %s", strerror(-rc));
	if (in_time)
		return 0;
	t->confirmed = true;
	return receive_done(t);
}

int
vs_switch_takeover(struct vs_switch *sw, const char *ctl, struct vs_takeover_info *info, char *err,
		   size_t errlen)
{
	struct takeover t = {
		sw, -1, ho_now_ms() + VS_HANDOVER_TIMEOUT_MS, 0, NULL, NULL, 0, {0}, err, errlen};
	int rc;

	memset(info, 0, sizeof(*info));
	info->mgmt_fd = -1;
	t.in = calloc(VS_SWITCH_MAX_PORTS, sizeof(*t.in));
	if (t.in == NULL)
		return fail(&t, -ENOMEM, "out of memory");
	/* Our workers stay awake: they must pick the ports up at once. */
	__atomic_store_n(&sw->no_idle_sleep, 1, __ATOMIC_RELAXED);
	rc = connect_ctl(&t, ctl);
	if (rc == 0)
		rc = hello(&t);
	if (rc == 0)
		rc = receive_all(&t);
	if (rc == 0)
		rc = commit(&t);
	if (rc < 0) {
		give_up(&t);
	} else {
		info->old_pid = t.end.pid;
		snprintf(info->old_version, sizeof(info->old_version), "%s", t.end.version);
		info->fdb_entries = t.nfdb;
		join_saved(&t, info);
		/* Committed in time, we did not wait for DONE: it comes now (or not). */
		if (!t.confirmed && receive_done(&t) < 0)
			HO_LOG(WARNING, "%s (after our commit: we forward on)", t.err);
		info->mgmt_fd = receive_closed(&t, ctl);
		t.ms_done = (double)(ho_now_ns() - t.end.stopped_ns) / 1e6;
		reopen_others(&t, info);
		HO_LOG(INFO,
		       "took over from pid %u (%s): %u port(s) resumed, %u reopened, %u stations; "
		       "forwarding gap %.2f ms (after the old workers stopped: loaded +%.1f ms, "
		       "forwarding +%.1f, others closed there +%.1f, reopened here +%.1f)",
		       info->old_pid, info->old_version, info->resumed, info->reopened,
		       info->fdb_entries, info->gap_ms, t.ms_loaded, info->gap_ms, t.ms_done,
		       info->reopen_ms);
	}
	__atomic_store_n(&sw->no_idle_sleep, 0, __ATOMIC_RELAXED);
	if (t.fd >= 0)
		close(t.fd);
	free(t.fdb);
	free(t.in);
	return rc < 0 ? rc : 0;
}
