/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user": hand-over to another process (vs_port.h,
 * handover_*), the upgrade of the switch that a VM does not notice.
 *
 * The old process, once its workers stopped at a burst boundary, saves the
 * port: it stops watching the listener and the connection (what the
 * front-end sends meanwhile waits in the socket) and lib/vhost exports the
 * connection (vh_user_backend_export: every ring stopped at its position).
 * The blob is this driver's header, then lib/vhost's encoding of the
 * connection; the fds are the listener (server mode) and then the
 * connection's. The new process creates the port from the same SPEC and
 * loads it instead of starting it: it checks the header, adopts the
 * listener (a listening Unix socket bound to the SPEC's path), and
 * lib/vhost imports the connection, mapping the memory itself and starting
 * every ring where it stopped. Counters continue from the old values.
 *
 * The header (vs_vhost_user_handover.h) is in host byte order: a
 * hand-over happens between two processes on one host. Its version
 * changes with its layout; the load reads the version before too (an
 * upgrade comes from it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "vs_vhost_user_handover.h"
#include "vs_vhost_user_priv.h"

_Static_assert(VU_MAX_RINGS <= 64, "enabled_once has a bit per ring");
_Static_assert(VU_HO_HDR_V3_LEN == VU_HO_HDR_V2_LEN + sizeof(uint64_t) &&
		       sizeof(struct vu_ho_hdr) == VU_HO_HDR_V3_LEN + 8,
	       "each version appends its fields to the one before, nothing else");

static void
stats_out(const struct vu_stats *live, const struct vu_stats *base, struct vu_ho_stats *o)
{
	o->packets = live->packets - base->packets;
	o->bytes = live->bytes - base->bytes;
	o->drops = live->drops - base->drops;
	o->errors = live->errors - base->errors;
}

static void
stats_in(const struct vu_ho_stats *i, struct vu_stats *live, struct vu_stats *base)
{
	memset(base, 0, sizeof(*base));
	live->packets = i->packets;
	live->bytes = i->bytes;
	live->drops = i->drops;
	live->errors = i->errors;
}

/*
 * A RARP that SEND_RARP queued and no poll took yet (live migration: the VM
 * just arrived): its MAC, so that the new process announces it.
 */
static void
rarp_out(const struct vs_vu_port *p, struct vu_ho_hdr *hdr)
{
	const struct rte_mbuf *m = __atomic_load_n(&p->inject, __ATOMIC_ACQUIRE);

	if (m == NULL || m->data_len < 12)
		return;
	hdr->rarp = 1;
	memcpy(hdr->rarp_mac, rte_pktmbuf_mtod(m, const uint8_t *) + 6, 6);
}

static void
header_fill(const struct vs_vu_port *p, struct vu_ho_hdr *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->magic = VU_HO_MAGIC;
	hdr->version = VU_HO_VERSION;
	hdr->nb_qp = p->nb_qp;
	hdr->mtu = p->mtu;
	hdr->client = p->client;
	hdr->connected = p->be != NULL;
	hdr->listen = -1;
	hdr->state_lock = -1;
	rarp_out(p, hdr);
	for (unsigned int i = 0; i < VU_MAX_RINGS; i++)
		if (p->was_enabled[i])
			hdr->enabled_once |= 1ull << i;
	for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++) {
		stats_out(&p->rx_stats[q], &p->rx_base[q], &hdr->rx[q]);
		stats_out(&p->tx_stats[q], &p->tx_base[q], &hdr->tx[q]);
	}
}

/* lib/vhost's state of the connection, encoded after @p hdr into a new blob. */
static int
save_connection(struct vs_vu_port *p, struct vu_ho_hdr *hdr, struct vs_port_handover *h)
{
	struct vh_user_handover *st = malloc(sizeof(*st));
	unsigned int nlib = 0;
	long len;
	int rc;

	if (st == NULL)
		return -ENOMEM;
	/* One fd kept for the state directory's lock. */
	rc = vh_user_backend_export(p->be, st, h->fds + h->nfds,
				    VS_PORT_HANDOVER_MAX_FDS - h->nfds - 1, &nlib);
	if (rc < 0) {
		free(st);
		return rc;
	}
	len = vh_user_handover_encode(st, nlib, NULL, 0);
	h->blob = len > 0 ? malloc(sizeof(*hdr) + (size_t)len) : NULL;
	if (h->blob == NULL || vh_user_handover_encode(st, nlib, (uint8_t *)h->blob + sizeof(*hdr),
						       (size_t)len) != len) {
		free(h->blob);
		h->blob = NULL;
		free(st);
		vh_user_backend_resume(p->be);
		return len < 0 ? (int)len : -ENOMEM;
	}
	free(st);
	hdr->lib_len = (uint32_t)len;
	h->nfds += nlib;
	return 0;
}

int
vu_handover_save(struct vs_port *port, struct vs_port_handover *h)
{
	struct vs_vu_port *p = vu_port(port);
	struct vu_ho_hdr hdr;
	int rc;

	if (!p->started || p->ho_saved)
		return -EINVAL;
	header_fill(p, &hdr);
	h->blob = NULL;
	h->nfds = 0;
	/* From here the rings stop: not a link change the engine should hear of. */
	p->ho_saved = true;
	if (p->listen_fd >= 0) {
		hdr.listen = 0;
		h->fds[h->nfds++] = p->listen_fd;
	}
	hdr.lib_fd_base = h->nfds;
	if (p->be != NULL) {
		rc = save_connection(p, &hdr, h);
		if (rc < 0) {
			VU_LOG(ERR, "%s: cannot hand the connection over: %s", port->name,
			       strerror(-rc));
			p->ho_saved = false;
			return rc;
		}
	} else {
		h->blob = malloc(sizeof(hdr));
		if (h->blob == NULL) {
			p->ho_saved = false;
			return -ENOMEM;
		}
	}
	/* Crash-safe mode: the state directory's lock goes along (the same open
	 * file: never free while one of the two processes lives). */
	if (p->crash_safe && vu_txn_lock_fd() >= 0) {
		hdr.state_lock = (int32_t)h->nfds;
		h->fds[h->nfds++] = vu_txn_lock_fd();
	}
	memcpy(h->blob, &hdr, sizeof(hdr));
	h->len = sizeof(hdr) + hdr.lib_len;
	/* Nothing is served from here on: the front-end's messages wait. */
	if (p->conn_fd >= 0)
		vs_evloop_del_fd(port->env.loop, p->conn_fd);
	if (p->listen_fd >= 0)
		vs_evloop_del_fd(port->env.loop, p->listen_fd);
	if (p->retry_timer > 0) {
		vs_evloop_cancel_timer(port->env.loop, p->retry_timer);
		p->retry_timer = 0;
	}
	VU_LOG(INFO, "%s: saved for a hand-over (%s, %u fds%s)", port->name,
	       p->be != NULL ? "connected" : "not connected", h->nfds,
	       hdr.state_lock >= 0 ? ", the state directory's lock among them" : "");
	return 0;
}

void
vu_handover_resume(struct vs_port *port)
{
	struct vs_vu_port *p = vu_port(port);

	if (!p->ho_saved)
		return;
	if (p->listen_fd >= 0 &&
	    vs_evloop_add_fd(port->env.loop, p->listen_fd, EPOLLIN, vu_listen_readable, p) != 0)
		VU_LOG(ERR, "%s: cannot watch %s again", port->name, p->path);
	if (p->be != NULL) {
		if (vs_evloop_add_fd(port->env.loop, p->conn_fd, EPOLLIN, vu_conn_readable, p) != 0)
			VU_LOG(ERR, "%s: cannot watch the connection again", port->name);
		vh_user_backend_resume(p->be);
	}
	/* The lock never left (the other process held it too, at most). */
	if (p->crash_safe)
		vu_txn_resume();
	/* The rings run again: one report of the outcome, if any changed. */
	p->ho_saved = false;
	vu_state_update(p);
	if (p->be == NULL && p->client) {
		vh_user_backoff_init(&p->backoff, VU_RETRY_MIN_MS, VU_RETRY_MAX_MS);
		vu_connect_attempt(p);
	}
	VU_LOG(INFO, "%s: serving again (the hand-over did not happen)", port->name);
}

void
vu_handover_release(struct vs_port *port)
{
	struct vs_vu_port *p = vu_port(port);

	/* stop and destroy close our fds only; the peer keeps its connection. */
	p->handed_over = true;
	p->ho_saved = false;
}

/* ---- load (the new process): everything checked ---- */

/*
 * The header, of whichever version the other process wrote: 0 and its
 * length in @p hdr_len, -EBADMSG or -EPROTONOSUPPORT (logged: the version
 * is the one reason an operator can act on).
 */
static int
read_header(const struct vs_vu_port *p, const struct vs_port_handover *h, struct vu_ho_hdr *hdr,
	    size_t *hdr_len)
{
	memset(hdr, 0, sizeof(*hdr));
	if (h->len < offsetof(struct vu_ho_hdr, nb_qp))
		return -EBADMSG;
	memcpy(hdr, h->blob, offsetof(struct vu_ho_hdr, nb_qp));
	if (hdr->magic != VU_HO_MAGIC)
		return -EBADMSG;
	if (hdr->version < VU_HO_VERSION_MIN || hdr->version > VU_HO_VERSION) {
		VU_LOG(ERR,
		       "%s: the running switch wrote the port's state in version %u; this one "
		       "reads versions %d to %d (a take-over goes from a version to a newer one)",
		       p->base.name, hdr->version, VU_HO_VERSION_MIN, VU_HO_VERSION);
		return -EPROTONOSUPPORT;
	}
	*hdr_len = hdr->version == 2   ? VU_HO_HDR_V2_LEN
		   : hdr->version == 3 ? VU_HO_HDR_V3_LEN
				       : sizeof(*hdr);
	if (h->len < *hdr_len)
		return -EBADMSG;
	memcpy(hdr, h->blob, *hdr_len);
	/* Before version 4 the old process let go of the state directory's
	 * lock at the save: we lock it ourselves. */
	if (hdr->version < 4)
		hdr->state_lock = -1;
	/* Version 2 did not say which rings were enabled once: each ring's own
	 * state then (a guest TX ring disabled after being enabled is left
	 * alone until enabled again instead of drained, as before version 3). */
	return 0;
}

static int
check_header(const struct vs_vu_port *p, const struct vs_port_handover *h, struct vu_ho_hdr *hdr,
	     size_t *hdr_len)
{
	static const uint8_t no_mac[6];
	int rc = read_header(p, h, hdr, hdr_len);
	unsigned int lib_end;

	if (rc < 0)
		return rc;
	/* The lock, if any, is the last fd; lib/vhost's are before it. */
	if (hdr->reserved3 != 0 ||
	    (hdr->state_lock != -1 && (h->nfds == 0 || hdr->state_lock != (int32_t)h->nfds - 1)))
		return -EBADMSG;
	lib_end = h->nfds - (hdr->state_lock >= 0 ? 1 : 0);
	if (hdr->nb_qp != p->nb_qp || hdr->client != p->client || hdr->reserved != 0 ||
	    hdr->reserved2 != 0 || hdr->rarp > 1 ||
	    (!hdr->rarp && memcmp(hdr->rarp_mac, no_mac, sizeof(no_mac)) != 0) ||
	    hdr->connected > 1 || hdr->lib_len != h->len - *hdr_len || hdr->lib_fd_base > lib_end ||
	    (hdr->listen != -1 && hdr->listen != 0) ||
	    (hdr->listen == 0 && hdr->lib_fd_base != 1) ||
	    (hdr->listen == -1 && hdr->lib_fd_base != 0) ||
	    (!hdr->connected && (hdr->lib_len != 0 || hdr->lib_fd_base != lib_end)) ||
	    (hdr->listen == 0) == p->client || (hdr->enabled_once >> (2u * p->nb_qp)) != 0 ||
	    (!hdr->connected && hdr->enabled_once != 0))
		return -EBADMSG;
	return 0;
}

/* The listener must be a listening Unix stream socket bound to our path. */
static int
check_listener(const struct vs_vu_port *p, int fd)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	int acc = 0, type = 0;
	socklen_t ol = sizeof(int);
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &ol) != 0 || !acc)
		return -EBADF;
	ol = sizeof(int);
	memset(&sun, 0, sizeof(sun));
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) != 0 || type != SOCK_STREAM ||
	    getsockname(fd, (struct sockaddr *)&sun, &len) != 0 || sun.sun_family != AF_UNIX ||
	    strncmp(sun.sun_path, p->path, sizeof(sun.sun_path)) != 0)
		return -EBADF;
	return 0;
}

static int
load_connection(struct vs_vu_port *p, const struct vu_ho_hdr *hdr, size_t hdr_len,
		struct vs_port_handover *h)
{
	struct vh_user_handover *st = malloc(sizeof(*st));
	unsigned int nlib = h->nfds - (hdr->state_lock >= 0 ? 1 : 0) - hdr->lib_fd_base;
	int rc;

	if (st == NULL)
		return -ENOMEM;
	/* Before the rings start: a disabled guest TX ring enabled once is
	 * published to be discarded, as it was in the other process. */
	for (unsigned int i = 0; i < VU_MAX_RINGS; i++)
		p->was_enabled[i] = (hdr->enabled_once >> i) & 1;
	rc = vh_user_handover_decode((const uint8_t *)h->blob + hdr_len, hdr->lib_len, nlib, st);
	if (rc == 0)
		rc = vu_attach(p, -1, st, h->fds + hdr->lib_fd_base, nlib);
	free(st);
	return rc;
}

static void
close_all(struct vs_port_handover *h)
{
	for (unsigned int i = 0; i < h->nfds; i++) {
		if (h->fds[i] >= 0)
			close(h->fds[i]);
		h->fds[i] = -1;
	}
}

int
vu_handover_load(struct vs_port *port, struct vs_port_handover *h)
{
	struct vs_vu_port *p = vu_port(port);
	struct vu_ho_hdr hdr;
	size_t hdr_len = 0;
	int rc = -EINVAL;

	if (port->env.loop == NULL || p->started || h->blob == NULL)
		goto fail;
	rc = check_header(p, h, &hdr, &hdr_len);
	if (rc == 0 && hdr.listen == 0)
		rc = check_listener(p, h->fds[0]);
	if (rc < 0) {
		VU_LOG(ERR, "%s: the hand-over does not describe this port: %s", port->name,
		       strerror(-rc));
		goto fail;
	}
	for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++) {
		stats_in(&hdr.rx[q], &p->rx_stats[q], &p->rx_base[q]);
		stats_in(&hdr.tx[q], &p->tx_stats[q], &p->tx_base[q]);
	}
	/* Crash-safe mode: the state directory's lock (passed along, or locked
	 * here when the old process let go of it) before any ring starts. */
	if (p->crash_safe) {
		rc = vu_txn_open(hdr.state_lock >= 0 ? h->fds[hdr.state_lock] : -1);
		if (hdr.state_lock >= 0)
			h->fds[hdr.state_lock] = -1;
		if (rc < 0) {
			VU_LOG(ERR, "%s: the state directory cannot be taken over: %s", port->name,
			       strerror(-rc));
			goto fail;
		}
	}
	p->mtu = hdr.mtu;
	p->started = true;
	if (hdr.connected) {
		/* One report once every ring runs, not one per ring. */
		p->ho_saved = true;
		rc = load_connection(p, &hdr, hdr_len, h);
		p->ho_saved = false;
		if (rc < 0) {
			VU_LOG(ERR, "%s: cannot take the connection over: %s", port->name,
			       strerror(-rc));
			goto fail;
		}
	}
	if (hdr.listen == 0) {
		rc = vs_evloop_add_fd(port->env.loop, h->fds[0], EPOLLIN, vu_listen_readable, p);
		if (rc != 0)
			goto fail;
		p->listen_fd = h->fds[0];
		h->fds[0] = -1;
	}
	close_all(h);
	/* Refused like SEND_RARP's own (not a station address): logged, nothing sent. */
	if (hdr.rarp && p->be != NULL)
		vu_inject_rarp(p, hdr.rarp_mac);
	vu_state_update(p);
	if (p->client && p->be == NULL) {
		vh_user_backoff_init(&p->backoff, VU_RETRY_MIN_MS, VU_RETRY_MAX_MS);
		vu_connect_attempt(p);
	}
	VU_LOG(INFO, "%s: taken over (%s)", port->name, p->be != NULL ? "connected" : "waiting");
	return 0;
fail:
	/* Whatever was taken belongs to the other process: leave its files alone. */
	p->handed_over = true;
	close_all(h);
	return rc;
}
