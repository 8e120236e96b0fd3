/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hand-over, old side (vs_handover.h): stop the workers at a burst
 * boundary, save the ports, send everything, and either let go (the new
 * process committed) or resume as if nothing happened (it gave up, died or
 * timed out).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vs_evloop.h"
#include "vs_handover_priv.h"
#include "vs_switch_priv.h"

#ifndef VS_VERSION
#define VS_VERSION "unknown"
#endif

/* One port on its way out. */
struct ho_out {
	struct vs_sw_port *sp;
	bool saved; /* handover_save succeeded: resume or release it */
	struct vs_port_handover h;
	int fds[VS_PORT_HANDOVER_MAX_FDS];
};

struct ho_session {
	struct vs_switch *sw;
	int fd;
	uint64_t deadline;
	uint64_t stopped_ns;
	uint64_t ms_since[4]; /* saved, sent, committed, let go: ms after stopped_ns */
	unsigned int nports;
	struct ho_out *out; /* VS_SWITCH_MAX_PORTS of them, by port id */
};

bool
vs_handover_is_request(const char *line, size_t len)
{
	static const char word[] = "takeover";
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return len - i >= sizeof(word) - 1 && memcmp(line + i, word, sizeof(word) - 1) == 0 &&
	       (len - i == sizeof(word) - 1 || line[i + sizeof(word) - 1] == ' ' ||
		line[i + sizeof(word) - 1] == '\t');
}

static void
refuse(struct vs_jw *w, const char *msg)
{
	vs_jw_reset(w);
	vs_jw_object_open(w);
	vs_jw_kv_bool(w, "ok", false);
	vs_jw_kv_str(w, "error", msg);
	vs_jw_kv_u64(w, "handover_version", VS_HANDOVER_VERSION);
	vs_jw_kv_str(w, "version", VS_VERSION);
	vs_jw_object_close(w);
}

/* The version the request asks for, or -1 when it is not a number. */
static long
requested_version(const char *line, size_t len)
{
	char buf[64], *end;
	const char *p;
	long v;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	p = strstr(buf, "takeover") + strlen("takeover");
	while (*p == ' ' || *p == '\t')
		p++;
	v = strtol(p, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\r')
		end++;
	return end == p || *end != '\0' || v < 0 ? -1 : v;
}

/* ---- saving and resuming the ports ---- */

static bool
can_save(const struct vs_sw_port *sp)
{
	const struct vs_port_ops *o = sp->port->ops;

	return o->handover_save != NULL && o->handover_resume != NULL && o->handover_load != NULL &&
	       o->handover_release != NULL;
}

static void
resume_all(struct ho_session *s)
{
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct ho_out *o = &s->out[d];

		if (o->saved)
			o->sp->port->ops->handover_resume(o->sp->port);
		o->saved = false;
	}
}

static int
save_all(struct ho_session *s, char *why, size_t len)
{
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct vs_sw_port *sp = s->sw->ports[d];
		struct ho_out *o = &s->out[d];
		int rc;

		if (sp == NULL)
			continue;
		o->sp = sp;
		s->nports++;
		if (!can_save(sp))
			continue;
		o->h.fds = o->fds;
		rc = sp->port->ops->handover_save(sp->port, &o->h);
		if (rc < 0) {
			snprintf(why, len, "takeover: port %s cannot be handed over now: %s",
				 sp->port->name, strerror(-rc));
			resume_all(s);
			return rc;
		}
		o->saved = true;
	}
	return 0;
}

/* ---- what is sent ---- */

static void
counters_out(struct vs_switch *sw, uint16_t id, uint64_t *c)
{
	struct vs_switch_port_view v;

	memset(c, 0, 7 * sizeof(*c));
	if (vs_switch_port_view(sw, id, &v) != 0)
		return;
	c[0] = v.counters.rx_packets;
	c[1] = v.counters.rx_bytes;
	c[2] = v.counters.rx_dropped;
	c[3] = v.counters.tx_packets;
	c[4] = v.counters.tx_bytes;
	c[5] = v.counters.tx_dropped;
	c[6] = v.counters.flooded;
}

static int
send_port(struct ho_session *s, struct ho_out *o)
{
	const struct vs_sw_port *sp = o->sp;
	static char spec[HO_MAX_SPEC + 1];
	/* The SPEC as the port runs now: set-port's VLANs and admin state too. */
	int n = vs_switch_port_spec(s->sw, sp->id, spec, sizeof(spec));
	size_t spec_len = n > 0 ? (size_t)n : 0, blob_len = o->saved ? o->h.len : 0;
	size_t len = sizeof(struct ho_port) + spec_len + blob_len;
	struct ho_port *p;
	int rc;

	if (n < 0 || spec_len > HO_MAX_SPEC || len > HO_MAX_PAYLOAD)
		return -E2BIG;
	p = calloc(1, len);
	if (p == NULL)
		return -ENOMEM;
	p->id = sp->id;
	p->flags = o->saved ? HO_PORT_F_SAVED : 0;
	snprintf(p->name, sizeof(p->name), "%s", sp->port->name);
	p->spec_len = (uint32_t)spec_len;
	p->blob_len = (uint32_t)blob_len;
	p->access = sp->vlan->access;
	p->nb_trunk = sp->vlan->nb_trunk;
	memcpy(p->trunk, sp->vlan->trunk, sizeof(p->trunk));
	counters_out(s->sw, sp->id, p->counters);
	memcpy(p + 1, spec, spec_len);
	if (blob_len > 0)
		memcpy((char *)(p + 1) + spec_len, o->h.blob, blob_len);
	rc = ho_send(s->fd, HO_PORT, p, (uint32_t)len, o->saved ? o->h.fds : NULL,
		     o->saved ? o->h.nfds : 0, s->deadline);
	free(p);
	return rc;
}

struct fdb_out {
	struct ho_fdb_entry *e;
	uint32_t n;
	uint32_t cap;
};

static int
fdb_one(uint64_t key, uint16_t port, uint32_t age, uint16_t flags, void *arg)
{
	struct fdb_out *f = arg;

	if (f->n == f->cap)
		return 1;
	f->e[f->n++] = (struct ho_fdb_entry){
		key, port, (flags & VS_FDB_F_STATIC) != 0 ? HO_FDB_F_STATIC : 0, age};
	return 0;
}

static int
send_fdb(struct ho_session *s)
{
	uint32_t cap = vs_fdb_count(s->sw->fdb) + 64;
	struct fdb_out f = {NULL, 0, cap};
	uint8_t *buf = malloc(sizeof(uint32_t) + (size_t)cap * sizeof(struct ho_fdb_entry));
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	f.e = (struct ho_fdb_entry *)(buf + sizeof(uint32_t));
	vs_fdb_walk_flags(s->sw->fdb, fdb_one, &f);
	memcpy(buf, &f.n, sizeof(f.n));
	rc = ho_send(s->fd, HO_FDB, buf,
		     (uint32_t)(sizeof(uint32_t) + f.n * sizeof(struct ho_fdb_entry)), NULL, 0,
		     s->deadline);
	free(buf);
	return rc;
}

static int
send_all(struct ho_session *s)
{
	struct ho_end end = {
		s->nports, (uint32_t)getpid(), s->stopped_ns, s->deadline * 1000000ull, {0}};
	int rc = 0;

	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS && rc == 0; d++)
		if (s->out[d].sp != NULL)
			rc = send_port(s, &s->out[d]);
	if (rc == 0)
		rc = send_fdb(s);
	snprintf(end.version, sizeof(end.version), "%s", VS_VERSION);
	if (rc == 0)
		rc = ho_send(s->fd, HO_END, &end, sizeof(end), NULL, 0, s->deadline);
	return rc;
}

static int
send_ok(struct ho_session *s)
{
	char line[256];
	int n = snprintf(line, sizeof(line),
			 "{\"ok\":true,\"handover_version\":%d,\"version\":\"%s\",\"pid\":%d,"
			 "\"ports\":%u}\n",
			 VS_HANDOVER_VERSION, VS_VERSION, (int)getpid(), s->nports);

	return ho_send_raw(s->fd, line, (size_t)n, s->deadline);
}

/* ---- the outcome ---- */

/*
 * Lets go of the ports that were saved (@p saved: without their peers
 * noticing) or of the others (stopped, so that the new process can open
 * them).
 */
static void
let_go(struct ho_session *s, bool saved)
{
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct ho_out *o = &s->out[d];
		char name[VS_PORT_NAME_LEN];

		if (o->sp == NULL || o->saved != saved)
			continue;
		snprintf(name, sizeof(name), "%s", o->sp->port->name);
		if (o->saved)
			o->sp->port->ops->handover_release(o->sp->port);
		o->saved = false;
		o->sp = NULL;
		vs_switch_del_port(s->sw, name, NULL, 0);
	}
}

/* Microseconds since the workers stopped. */
static uint64_t
since(const struct ho_session *s)
{
	return (ho_now_ns() - s->stopped_ns) / 1000;
}

static enum vs_handover_result
finish(struct ho_session *s, int mgmt_fd)
{
	struct ho_hdr h;
	void *payload = NULL;
	int fds[1];
	int rc = ho_recv(s->fd, &h, &payload, 4096, fds, 0, s->deadline);

	if (rc == 0 && h.type == HO_COMMIT) {
		free(payload);
		/* The ports the new process opens afresh must be closed first;
		 * the saved ones can go after it has started forwarding. */
		/* The new process forwards on the saved ports as soon as it
		 * hears we will not resume them; the ports it opens afresh
		 * must be closed before it does. */
		rc = ho_send(s->fd, HO_DONE, NULL, 0, NULL, 0, s->deadline);
		s->ms_since[2] = since(s);
		let_go(s, false);
		if (rc == 0)
			rc = ho_send(s->fd, HO_CLOSED, NULL, 0, &mgmt_fd, 1, s->deadline);
		s->ms_since[3] = since(s);
		let_go(s, true);
		HO_LOG(INFO,
		       "handed over %u port(s)%s (after the workers stopped: saved +%.1f ms, "
		       "sent +%.1f, committed +%.1f, others closed +%.1f); this process ends",
		       s->nports, rc == 0 ? "" : " (the new process did not hear all of it)",
		       s->ms_since[0] / 1e3, s->ms_since[1] / 1e3, s->ms_since[2] / 1e3,
		       s->ms_since[3] / 1e3);
		vs_evloop_stop(s->sw->loop);
		return VS_HANDOVER_DONE;
	}
	if (rc == 0 && h.type == HO_ABORT)
		HO_LOG(WARNING, "the new process gave up: %.200s",
		       payload != NULL ? (char *)payload : "(no reason)");
	else
		HO_LOG(WARNING, "the new process went away (%s)",
		       rc < 0 ? strerror(-rc) : "unexpected record");
	free(payload);
	return VS_HANDOVER_ABANDONED;
}

static void
free_session(struct ho_session *s)
{
	for (unsigned int d = 0; s->out != NULL && d < VS_SWITCH_MAX_PORTS; d++)
		free(s->out[d].h.blob);
	free(s->out);
}

enum vs_handover_result
vs_handover_serve(struct vs_switch *sw, int fd, const char *line, size_t len, int mgmt_fd,
		  struct vs_jw *w)
{
	struct ho_session s = {
		.sw = sw, .fd = fd, .deadline = ho_now_ms() + VS_HANDOVER_TIMEOUT_MS};
	enum vs_handover_result res;
	long v = requested_version(line, len);
	char why[256];

	if (v < 0) {
		snprintf(why, sizeof(why),
			 "takeover VERSION: this switch (%s) speaks hand-over version %d",
			 VS_VERSION, VS_HANDOVER_VERSION);
		refuse(w, why);
		return VS_HANDOVER_REPLY;
	}
	if (v != VS_HANDOVER_VERSION) {
		snprintf(why, sizeof(why),
			 "takeover: the new process speaks hand-over version %ld, this switch "
			 "(%s) version %d; upgrade with a restart instead",
			 v, VS_VERSION, VS_HANDOVER_VERSION);
		refuse(w, why);
		HO_LOG(WARNING, "refused: %s", why);
		return VS_HANDOVER_REPLY;
	}
	s.out = calloc(VS_SWITCH_MAX_PORTS, sizeof(*s.out));
	if (s.out == NULL) {
		refuse(w, "takeover: out of memory");
		return VS_HANDOVER_REPLY;
	}
	/* The burst boundary: every worker finished its iteration. */
	vs_switch_stop(sw);
	s.stopped_ns = ho_now_ns();
	if (save_all(&s, why, sizeof(why)) != 0) {
		vs_switch_start(sw);
		free_session(&s);
		HO_LOG(WARNING, "refused: %s", why);
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "; try again");
		refuse(w, why);
		return VS_HANDOVER_REPLY;
	}
	s.ms_since[0] = since(&s);
	HO_LOG(INFO, "workers stopped; handing %u port(s) over", s.nports);
	if (send_ok(&s) == 0 && send_all(&s) == 0) {
		s.ms_since[1] = since(&s);
		res = finish(&s, mgmt_fd);
	} else {
		res = VS_HANDOVER_ABANDONED;
	}
	if (res == VS_HANDOVER_ABANDONED) {
		resume_all(&s);
		vs_switch_start(sw);
		HO_LOG(WARNING, "forwarding again after %.1f ms",
		       (double)(ho_now_ns() - s.stopped_ns) / 1e6);
	}
	free_session(&s);
	return res;
}
