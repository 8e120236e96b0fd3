/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user": a VM's virtio-net device, the switch being the
 * vhost-user back-end (lib/vhost) and servicing the guest's rings
 * (lib/virtq).
 *
 *   vhost-user,path=PATH[,client=0|1][,queues=N][,sock-mode=MODE]
 *
 * path       the Unix socket
 * client     0 (default): we create the socket and QEMU connects
 *            (-chardev socket,path=PATH); 1: QEMU listens (server=on) and we
 *            connect, and reconnect with back-off when it goes away
 * queues     queue pairs, 1..8 (default 1); the guest may use fewer
 * sock-mode  octal permissions of a server socket (default 0660)
 *
 * Connections: one at a time. A second connection while one is open is
 * accepted and closed at once (logged, counted). The connection lives in
 * the control thread's vs_evloop; a disconnect stops every ring and
 * withdraws memory (lib/vhost calls our ring_stopped and mem_changed, which
 * take the rings away from the data path first), then server mode waits for
 * the next connection and client mode reconnects (100 ms doubling to 5 s).
 *
 * State (info_get, state_changed): nb_rxq / nb_txq count the leading queues
 * whose guest ring is started and enabled (rx: the guest's TX rings, tx:
 * its RX rings); the link is up when queue 0 works both ways.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "vhost_guard.h"
#include "vs_vhost_user_priv.h"

RTE_LOG_REGISTER(vs_vhost_user_logtype, vswitch.vhost_user, INFO);

#define VU_DEFAULT_SOCK_MODE 0660
/* Server mode: connections accepted per wake-up, and the pause after an
 * accept error that would repeat (no fds). */
#define VU_ACCEPT_PER_CALL 16
#define VU_ACCEPT_PAUSE_MS 1000

/* ---- the connection ---- */

static void
vu_retry_later(struct vs_vu_port *p, uint32_t ms)
{
	int64_t id = vs_evloop_add_timer(p->base.env.loop, ms, vu_connect_attempt, p);

	if (id < 0) {
		VU_LOG(ERR, "%s: cannot arm the reconnect timer: %s", p->base.name,
		       strerror((int)-id));
		return;
	}
	p->retry_timer = id;
}

/* Closes the connection: rings stopped, memory withdrawn, fd released. */
static void
vu_disconnect(struct vs_vu_port *p)
{
	if (p->be == NULL)
		return;
	if (p->conn_fd >= 0)
		vs_evloop_del_fd(p->base.env.loop, p->conn_fd);
	vh_user_backend_destroy(p->be);
	p->be = NULL;
	p->conn_fd = -1;
	vu_device_release(p);
}

/* The connection is over: client mode tries again. */
static void
vu_connection_over(struct vs_vu_port *p)
{
	vu_disconnect(p);
	if (p->client && p->started) {
		vh_user_backoff_init(&p->backoff, VU_RETRY_MIN_MS, VU_RETRY_MAX_MS);
		vu_retry_later(p, VU_RETRY_MIN_MS);
	}
}

/*
 * The front-end pulled its memory away under us (vhost_guard.h): the
 * connection goes, the port is marked broken until the next one; nothing
 * else is touched.
 */
static void
vu_memory_gone(struct vs_vu_port *p, const char *where)
{
	uint64_t addr = __atomic_load_n(&p->fault_addr, __ATOMIC_RELAXED);

	if (p->be == NULL)
		return;
	VU_LOG(ERR,
	       "%s: guest memory at 0x%" PRIx64 " is gone (SIGBUS %s): the front-end truncated "
	       "or punched its memory file; closing the connection (%" PRIu64 " fault(s) so far)",
	       p->base.name, addr, where, __atomic_load_n(&p->faults, __ATOMIC_RELAXED));
	p->broken = true;
	vu_connection_over(p);
}

void
vu_memory_fault(void *owner, uintptr_t addr)
{
	static const uint64_t one = 1;
	struct vs_vu_port *p = owner;

	if (p == NULL || p->magic != VU_MAGIC)
		return;
	__atomic_store_n(&p->fault_addr, addr, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->faults, 1, __ATOMIC_RELAXED);
	if (p->fault_fd >= 0) {
		ssize_t rc = write(p->fault_fd, &one, sizeof(one));

		(void)rc; /* a full counter still wakes the control thread */
	}
}

/* A data-path thread recovered from a fault in our memory. */
static void
vu_fault_readable(int fd, uint32_t events, void *arg)
{
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		vu_memory_gone(arg, "in the data path or a ring start");
}

/* Requests may touch guest memory (a ring's flags at its start): they run guarded too. */
void
vu_conn_readable(int fd, uint32_t events, void *arg)
{
	struct vs_vu_port *p = arg;
	struct vh_guard *g = vh_guard_self();
	int rc;

	(void)fd;
	(void)events;
	if (sigsetjmp(g->jb, 0) != 0) {
		vu_ring_start_abandon(p);
		vu_memory_fault(g->fault_owner, g->fault_addr);
		vu_memory_gone(p, "on the control thread");
		return;
	}
	vh_guard_arm(g);
	rc = vh_user_backend_handle_readable(p->be);
	vh_guard_disarm(g);
	if (rc >= 0)
		return;
	VU_LOG(INFO, "%s: %s disconnected (%s)", p->base.name, p->path, strerror(-rc));
	vu_connection_over(p);
}

/*
 * Runs the back-end on connected socket @p fd (taken over), or, with @p ho,
 * on the connection another process handed over (@p fds taken).
 */
int
vu_attach(struct vs_vu_port *p, int fd, const struct vh_user_handover *ho, int *fds,
	  unsigned int nfds)
{
	struct vh_user_backend_config cfg = {
		.ops = &vu_device_ops,
		.device = p,
		.max_rings = 2u * p->nb_qp,
		.queue_num = p->nb_qp,
		/* LOG_SHMFD and RARP: live migration (doc/vswitch.md). */
		.protocol_features = VH_USER_PF(VH_USER_PROTOCOL_F_MQ) |
				     VH_USER_PF(VH_USER_PROTOCOL_F_LOG_SHMFD) |
				     VH_USER_PF(VH_USER_PROTOCOL_F_RARP) |
				     VH_USER_PF(VH_USER_PROTOCOL_F_REPLY_ACK) |
				     VH_USER_PF(VH_USER_PROTOCOL_F_NET_MTU) |
				     VH_USER_PF(VH_USER_PROTOCOL_F_RESET_DEVICE) |
				     VH_USER_PF(VH_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |
				     VH_USER_PF(VH_USER_PROTOCOL_F_INFLIGHT_SHMFD) |
				     VH_USER_PF(VH_USER_PROTOCOL_F_STATUS),
		.max_mem_slots = VQ_MEMMAP_MAX_REGIONS,
		.name = p->base.name,
	};
	int rc;

	p->be = ho == NULL ? vh_user_backend_create(&cfg, fd)
			   : vh_user_backend_import(&cfg, ho, fds, nfds);
	if (p->be == NULL) {
		rc = -errno;
		VU_LOG(ERR, "%s: cannot create the back-end: %s", p->base.name, strerror(-rc));
		return rc;
	}
	p->conn_fd = vh_user_backend_fd(p->be);
	rc = vs_evloop_add_fd(p->base.env.loop, p->conn_fd, EPOLLIN, vu_conn_readable, p);
	if (rc != 0) {
		VU_LOG(ERR, "%s: cannot watch the connection: %s", p->base.name, strerror(-rc));
		vh_user_backend_destroy(p->be);
		p->be = NULL;
		p->conn_fd = -1;
		return rc;
	}
	p->connections++;
	p->refused = 0;
	p->broken = false;
	VU_LOG(INFO, "%s: %s connected", p->base.name, p->path);
	return 0;
}

/* The listener again after a pause (see vu_listen_readable()). */
static void
vu_listen_resume(void *arg)
{
	struct vs_vu_port *p = arg;
	int rc;

	p->retry_timer = 0;
	if (!p->started || p->listen_fd < 0)
		return;
	rc = vs_evloop_add_fd(p->base.env.loop, p->listen_fd, EPOLLIN, vu_listen_readable, p);
	if (rc != 0 && rc != -EEXIST) {
		VU_LOG(ERR, "%s: cannot watch %s again: %s", p->base.name, p->path, strerror(-rc));
		p->retry_timer = vs_evloop_add_timer(p->base.env.loop, VU_ACCEPT_PAUSE_MS,
						     vu_listen_resume, p);
	}
}

void
vu_listen_readable(int fd, uint32_t events, void *arg)
{
	struct vs_vu_port *p = arg;

	(void)events;
	/* A bounded number per call: a flood of connections cannot hold the
	 * loop (level-triggered, it calls again). */
	for (int i = 0; i < VU_ACCEPT_PER_CALL; i++) {
		int c = vh_user_accept(fd);

		if (c == -EAGAIN)
			return;
		if (c == -EINTR || c == -ECONNABORTED)
			continue;
		if (c < 0) {
			/* Out of fds or memory: the socket stays readable, so
			 * stop watching it for a while instead of spinning. */
			VU_LOG(WARNING, "%s: accept: %s; not accepting for %d ms", p->base.name,
			       strerror(-c), VU_ACCEPT_PAUSE_MS);
			vs_evloop_del_fd(p->base.env.loop, fd);
			p->retry_timer = vs_evloop_add_timer(p->base.env.loop, VU_ACCEPT_PAUSE_MS,
							     vu_listen_resume, p);
			return;
		}
		if (p->be != NULL) {
			/* One front-end per port: the second hears EOF at once. */
			if (p->refused++ == 0)
				VU_LOG(WARNING,
				       "%s: %s already has a front-end; refusing other connections",
				       p->base.name, p->path);
			close(c);
			continue;
		}
		vu_attach(p, c, NULL, NULL, 0);
	}
}

void
vu_connect_attempt(void *arg)
{
	struct vs_vu_port *p = arg;
	uint32_t retry = VU_RETRY_MIN_MS;
	int fd;

	p->retry_timer = 0;
	if (!p->started || p->be != NULL)
		return;
	fd = vh_user_try_connect(p->path, &p->backoff, &retry);
	if (fd >= 0 && vu_attach(p, fd, NULL, NULL, 0) == 0)
		return;
	if (fd == -ENAMETOOLONG || fd == -EINVAL) {
		VU_LOG(ERR, "%s: cannot connect to %s: %s", p->base.name, p->path, strerror(-fd));
		return;
	}
	VU_LOG(DEBUG, "%s: %s not reachable (%s); next try in %u ms", p->base.name, p->path,
	       strerror(fd < 0 ? -fd : EIO), retry);
	vu_retry_later(p, retry);
}

/* ---- port ops ---- */

static int
vu_start(struct vs_port *port)
{
	struct vs_vu_port *p = vu_port(port);
	int fd, rc;

	if (port->env.loop == NULL) {
		VU_LOG(ERR, "%s: no event loop to run the connection in", port->name);
		return -EINVAL;
	}
	/* Crash-safe mode: the state directory's lock, journals and redo table. */
	if (p->crash_safe) {
		rc = vu_txn_open(-1);
		if (rc < 0)
			return rc;
	}
	rc = vs_evloop_add_fd(port->env.loop, p->fault_fd, EPOLLIN, vu_fault_readable, p);
	if (rc != 0) {
		VU_LOG(ERR, "%s: cannot watch its fault eventfd: %s", port->name, strerror(-rc));
		return rc;
	}
	p->started = true;
	if (p->client) {
		vh_user_backoff_init(&p->backoff, VU_RETRY_MIN_MS, VU_RETRY_MAX_MS);
		vu_connect_attempt(p);
		return 0;
	}
	fd = vh_user_listen(p->path);
	if (fd < 0) {
		VU_LOG(ERR, "%s: cannot listen on %s: %s", port->name, p->path, strerror(-fd));
		vs_evloop_del_fd(port->env.loop, p->fault_fd);
		p->started = false;
		return fd;
	}
	if (chmod(p->path, p->sock_mode) != 0)
		VU_LOG(WARNING, "%s: chmod %o %s: %s", port->name, (unsigned int)p->sock_mode,
		       p->path, strerror(errno));
	rc = vs_evloop_add_fd(port->env.loop, fd, EPOLLIN, vu_listen_readable, p);
	if (rc != 0) {
		VU_LOG(ERR, "%s: cannot watch %s: %s", port->name, p->path, strerror(-rc));
		close(fd);
		unlink(p->path);
		vs_evloop_del_fd(port->env.loop, p->fault_fd);
		p->started = false;
		return rc;
	}
	p->listen_fd = fd;
	VU_LOG(INFO, "%s: listening on %s (mode %o)", port->name, p->path,
	       (unsigned int)p->sock_mode);
	return 0;
}

static void
vu_stop(struct vs_port *port)
{
	struct vs_vu_port *p = vu_port(port);

	p->started = false;
	if (p->retry_timer > 0) {
		vs_evloop_cancel_timer(port->env.loop, p->retry_timer);
		p->retry_timer = 0;
	}
	vu_disconnect(p);
	vs_evloop_del_fd(port->env.loop, p->fault_fd);
	if (p->listen_fd >= 0) {
		vs_evloop_del_fd(port->env.loop, p->listen_fd);
		close(p->listen_fd);
		p->listen_fd = -1;
		/* Handed over: the socket file is the other process's now. */
		if (!p->handed_over)
			unlink(p->path);
	}
}

static void
vu_info_get(struct vs_port *port, struct vs_port_info *info)
{
	struct vs_vu_port *p = vu_port(port);
	const uint64_t injected = __atomic_load_n(&p->injected, __ATOMIC_RELAXED);
	uint64_t faults;
	char d[256];
	int n;

	memset(info, 0, sizeof(*info));
	info->type = "vhost-user";
	info->max_queues = p->nb_qp;
	info->nb_rxq = vu_nb_rxq(p);
	info->nb_txq = vu_nb_txq(p);
	info->link = info->nb_rxq > 0 && info->nb_txq > 0 ? VS_PORT_LINK_UP : VS_PORT_LINK_DOWN;
	info->mtu = p->mtu;
	faults = __atomic_load_n(&p->faults, __ATOMIC_RELAXED);
	n = snprintf(d, sizeof(d), "%s %s, %s, features 0x%" PRIx64,
		     p->client ? "client" : "server", p->path,
		     p->be != NULL ? "connected"
		     : p->client   ? "connecting"
		     : p->started  ? "listening"
				   : "stopped",
		     p->features);
	if (p->map != NULL && n > 0 && (size_t)n < sizeof(d))
		n += snprintf(d + n, sizeof(d) - (size_t)n, ", memory %s",
			      p->mem_can_fault ? "guarded" : "sealed");
	if (faults > 0 && n > 0 && (size_t)n < sizeof(d))
		n += snprintf(d + n, sizeof(d) - (size_t)n,
			      ", %sguest memory faults %" PRIu64 " (last at 0x%" PRIx64 ")",
			      p->broken ? "broken: " : "", faults,
			      __atomic_load_n(&p->fault_addr, __ATOMIC_RELAXED));
	if (injected > 0 && n > 0 && (size_t)n < sizeof(d))
		snprintf(d + n, sizeof(d) - (size_t)n, ", %" PRIu64 " RARP injected", injected);
	snprintf(info->detail, sizeof(info->detail), "%.*s", (int)sizeof(info->detail) - 1, d);
}

static void
vu_stats_read(const struct vu_stats *live, const struct vu_stats *base,
	      struct vs_port_queue_stats *out)
{
	out->packets = __atomic_load_n(&live->packets, __ATOMIC_RELAXED) - base->packets;
	out->bytes = __atomic_load_n(&live->bytes, __ATOMIC_RELAXED) - base->bytes;
	out->drops = __atomic_load_n(&live->drops, __ATOMIC_RELAXED) - base->drops;
	out->errors = __atomic_load_n(&live->errors, __ATOMIC_RELAXED) - base->errors;
	for (unsigned int r = 0; r < VS_DROP_NB; r++)
		out->drop[r] = __atomic_load_n(&live->drop[r], __ATOMIC_RELAXED) - base->drop[r];
}

static void
vu_stats_get(struct vs_port *port, struct vs_port_stats *stats)
{
	struct vs_vu_port *p = vu_port(port);

	memset(stats, 0, sizeof(*stats));
	for (unsigned int q = 0; q < p->nb_qp; q++) {
		vu_stats_read(&p->rx_stats[q], &p->rx_base[q], &stats->rx[q]);
		vu_stats_read(&p->tx_stats[q], &p->tx_base[q], &stats->tx[q]);
	}
}

/* The data path keeps counting: a reset remembers where it was. */
static void
vu_stats_snapshot(const struct vu_stats *live, struct vu_stats *base)
{
	base->packets = __atomic_load_n(&live->packets, __ATOMIC_RELAXED);
	base->bytes = __atomic_load_n(&live->bytes, __ATOMIC_RELAXED);
	base->drops = __atomic_load_n(&live->drops, __ATOMIC_RELAXED);
	base->errors = __atomic_load_n(&live->errors, __ATOMIC_RELAXED);
	for (unsigned int r = 0; r < VS_DROP_NB; r++)
		base->drop[r] = __atomic_load_n(&live->drop[r], __ATOMIC_RELAXED);
}

static void
vu_stats_reset(struct vs_port *port)
{
	struct vs_vu_port *p = vu_port(port);

	for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++) {
		vu_stats_snapshot(&p->rx_stats[q], &p->rx_base[q]);
		vu_stats_snapshot(&p->tx_stats[q], &p->tx_base[q]);
	}
}

static void
vu_destroy(struct vs_port *port)
{
	struct vs_vu_port *p = vu_port(port);

	if (p->started || p->be != NULL || p->listen_fd >= 0)
		vu_stop(port);
	/* No worker polls the port any more: a frame it did not take goes. */
	vu_inject_drop(p);
	if (p->fault_fd >= 0)
		close(p->fault_fd);
	vu_free(p->map);
	vu_free(p);
}

/*
 * The ops of every vhost-user port, in one list so that the two tables
 * below cannot drift apart (the crash-safe one once lacked describe).
 */
#define VU_OPS_COMMON                                                                              \
	.rx_burst = vu_rx_burst, .tx_burst = vu_tx_burst, .start = vu_start, .stop = vu_stop,      \
	.info_get = vu_info_get, .stats_get = vu_stats_get, .stats_reset = vu_stats_reset,         \
	.describe = vu_describe, .destroy = vu_destroy, .handover_save = vu_handover_save,         \
	.handover_resume = vu_handover_resume, .handover_load = vu_handover_load,                  \
	.handover_release = vu_handover_release, .onecopy = &vu_onecopy_ops

static const struct vs_port_ops vu_ops = {VU_OPS_COMMON};

/*
 * With a state directory: transactions end in rx_done (vs_vhost_user_txn.c),
 * and only these two differ. One copy journals its returns too, and a
 * hand-over passes the state directory on (vs_vhost_user_handover.c).
 */
static const struct vs_port_ops vu_ops_crash_safe = {
	VU_OPS_COMMON,
	.rx_done = vu_rx_done,
	.tx_flush = vu_tx_flush,
};

/* ---- create ---- */

static int
parse_sock_mode(struct vs_port_spec *spec, mode_t *mode, char *err, size_t errlen)
{
	const char *v = vs_port_spec_get(spec, "sock-mode");
	unsigned long m;
	char *end;

	*mode = VU_DEFAULT_SOCK_MODE;
	if (v == NULL)
		return 0;
	errno = 0;
	m = strtoul(v, &end, 8);
	if (*v == '\0' || *v == '-' || *v == '+' || *end != '\0' || errno != 0 || m > 0777) {
		snprintf(err, errlen, "key 'sock-mode': '%s' is not an octal mode (0..0777)", v);
		return -EINVAL;
	}
	*mode = (mode_t)m;
	return 0;
}

static struct vs_port *
vu_create(const char *name, struct vs_port_spec *spec, const struct vs_port_env *env, char *err,
	  size_t errlen)
{
	const char *path = vs_port_spec_get(spec, "path");
	struct sockaddr_un sun;
	struct vs_vu_port *p;
	uint64_t client, queues;
	mode_t mode;

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "port type 'vhost-user' needs path=PATH");
		return NULL;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "key 'path': longer than %zu characters",
			 sizeof(sun.sun_path) - 1);
		return NULL;
	}
	if (vs_port_spec_get_uint(spec, "client", 0, 1, 0, &client, err, errlen) != 0 ||
	    vs_port_spec_get_uint(spec, "queues", 1, VS_PORT_MAX_QUEUES, 1, &queues, err, errlen) !=
		    0 ||
	    parse_sock_mode(spec, &mode, err, errlen) != 0)
		return NULL;
	if (env->mp == NULL) {
		snprintf(err, errlen, "port type 'vhost-user' needs an mbuf pool");
		return NULL;
	}
	if (rte_pktmbuf_data_room_size(env->mp) <= RTE_PKTMBUF_HEADROOM) {
		snprintf(err, errlen, "the mbuf pool has no data room past the headroom");
		return NULL;
	}
	if (env->state_dir != NULL && vu_txn_setup(env->state_dir) != 0) {
		snprintf(err, errlen, "state directory %s unusable (see the log)", env->state_dir);
		return NULL;
	}
	p = vu_zalloc("vs_vu_port", sizeof(*p), env->socket_id);
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->magic = VU_MAGIC;
	p->fault_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->fault_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		vu_free(p);
		return NULL;
	}
	/* Guest memory faults cost a connection, not the process (vhost_guard.h). */
	if (vh_guard_install() != 0)
		VU_LOG(WARNING,
		       "%s: no SIGBUS containment: a front-end that pulls its memory "
		       "away will crash the process",
		       name);
	p->crash_safe = env->state_dir != NULL;
	p->base.ops = p->crash_safe ? &vu_ops_crash_safe : &vu_ops;
	p->key = vu_port_key(name);
	p->base.env = *env;
	snprintf(p->base.name, sizeof(p->base.name), "%s", name);
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->client = client != 0;
	p->nb_qp = (uint16_t)queues;
	p->sock_mode = mode;
	p->offered = vu_offered_features(p->nb_qp);
	p->listen_fd = -1;
	p->conn_fd = -1;
	p->rep_link = VS_PORT_LINK_DOWN;
	return &p->base;
}

static struct vs_port_type vu_type = {
	.name = "vhost-user",
	.usage = "vhost-user,path=PATH[,client=0|1][,queues=N][,sock-mode=MODE]",
	.create = vu_create,
};
VS_PORT_TYPE_REGISTER(vu_type)
