/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture of one port into a pcapng file (DPDK's rte_pcapng).
 *
 * Workers copy what the port received (before any filtering) and what the
 * switch handed to it, into the capture's own mbuf pool, as pcapng enhanced
 * packet blocks (rte_pcapng_copy), and queue the copies on a ring; the
 * control thread drains the ring into the file on a timer. Only a captured
 * port pays: the others see one pointer test per burst (vs_dp_port.cap).
 * Copies that find no mbuf or no room in the ring are counted as lost, never
 * waited for.
 *
 * The file: rte_pcapng_fdopen() writes the section header and an interface
 * block for every ethdev port; the port captured gets an interface block of
 * its own after them, and every packet block is pointed at it.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_pdump.h>
#include <rte_ring.h>

#include "vs_evloop.h"
#include "vs_switch_priv.h"

#define CAP_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, vs_switch_logtype, "capture: " fmt "\n", ##__VA_ARGS__)

#define CAP_RING     4096
#define CAP_MBUFS    4095
#define CAP_DRAIN_MS 10
#define CAP_BURST    64
#define PCAPNG_EPB   6 /* enhanced packet block type */
#define PCAPNG_IDB   1 /* interface description block type */

/* ---- the fast path's part (called by vs_worker.c, out of line) ---- */

/*
 * Nanoseconds since the epoch at TSC @p tsc, from the capture's own base.
 * DPDK 22.11's rte_pcapng_copy() converts with delta * NSEC_PER_SEC in 64
 * bits, which overflows a few seconds after the process started (the files
 * then say year 2281): the packet blocks get this time instead.
 */
static uint64_t
capture_ns(const struct vs_capture *c, uint64_t tsc)
{
	return c->base_ns +
	       (uint64_t)((unsigned __int128)(tsc - c->base_tsc) * 1000000000u / c->tsc_hz);
}

/* The timestamp of an enhanced packet block (pcapng 4.3: high then low word). */
static void
set_epb_time(struct rte_mbuf *m, uint64_t ns)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t hi = (uint32_t)(ns >> 32), lo = (uint32_t)ns;

	memcpy(p + 12, &hi, 4);
	memcpy(p + 16, &lo, 4);
}

/* The packets of @p pkts that dpdk-dumpcap's filter takes (all without one). */
static uint16_t
apply_filter(struct vs_capture *c, struct rte_mbuf **pkts, uint16_t n, struct rte_mbuf **out)
{
	uint64_t rc[VS_SWITCH_BURST];
	uint16_t k = 0;

	if (c->filter == NULL) {
		memcpy(out, pkts, n * sizeof(*pkts));
		return n;
	}
	rte_bpf_exec_burst(c->filter, (void **)pkts, rc, n);
	for (uint16_t i = 0; i < n; i++)
		if (rc[i] != 0)
			out[k++] = pkts[i];
	return k;
}

/* dpdk-dumpcap's per-queue counters (what it reports and records at its end). */
static void
count(struct vs_capture *c, bool tx, uint16_t queue, uint16_t filtered, unsigned int nombuf,
      unsigned int accepted, unsigned int ringfull)
{
	struct rte_pdump_stats *st = c->stats[tx];

	if (st == NULL || queue >= RTE_MAX_QUEUES_PER_PORT)
		return;
	st += queue;
	__atomic_fetch_add(&st->accepted, accepted, __ATOMIC_RELAXED);
	__atomic_fetch_add(&st->filtered, filtered, __ATOMIC_RELAXED);
	__atomic_fetch_add(&st->nombuf, nombuf, __ATOMIC_RELAXED);
	__atomic_fetch_add(&st->ringfull, ringfull, __ATOMIC_RELAXED);
}

void
vs_capture_burst(struct vs_capture *c, uint16_t queue, struct rte_mbuf **pkts, uint16_t n, bool tx)
{
	struct rte_mbuf *cp[VS_SWITCH_BURST], *in[VS_SWITCH_BURST];
	uint64_t tsc = rte_get_tsc_cycles(), ns;
	unsigned int k = 0, sent;
	uint16_t m;

	if (!(c->dir & (tx ? VS_CAP_TX : VS_CAP_RX)) ||
	    (c->queue != VS_CAP_ALL_QUEUES && c->queue != queue))
		return;
	if (n > VS_SWITCH_BURST)
		n = VS_SWITCH_BURST;
	m = apply_filter(c, pkts, n, in);
	ns = capture_ns(c, tsc);
	for (uint16_t i = 0; i < m; i++) {
		struct rte_mbuf *p;

		if (c->format == VS_CAP_MBUF) {
			p = rte_pktmbuf_copy(in[i], c->mp, 0, c->snaplen);
		} else {
			p = rte_pcapng_copy(c->port, queue, in[i], c->mp, c->snaplen, tsc,
					    tx ? RTE_PCAPNG_DIRECTION_OUT
					       : RTE_PCAPNG_DIRECTION_IN);
			if (p != NULL)
				set_epb_time(p, ns);
		}
		if (p != NULL)
			cp[k++] = p;
	}
	sent = k > 0 ? rte_ring_enqueue_burst(c->ring, (void **)cp, k, NULL) : 0;
	if (sent < k)
		rte_pktmbuf_free_bulk(&cp[sent], k - sent);
	if (sent < m)
		__atomic_fetch_add(&c->lost, m - sent, __ATOMIC_RELAXED);
	if (c->peer_pid != 0 && sent > 0)
		__atomic_fetch_add(&c->queued, sent, __ATOMIC_RELAXED);
	count(c, tx, queue, (uint16_t)(n - m), m - k, sent, k - sent);
}

/* ---- the file ---- */

static uint32_t
pad4(uint32_t n)
{
	return (n + 3) & ~3u;
}

/* Appends one pcapng option (code, value) at @p p; returns the bytes written. */
static uint32_t
put_option(uint8_t *p, uint16_t code, const void *v, uint16_t len)
{
	memcpy(p, &code, 2);
	memcpy(p + 2, &len, 2);
	memset(p + 4, 0, pad4(len));
	if (len > 0)
		memcpy(p + 4, v, len);
	return 4 + pad4(len);
}

/*
 * Writes an interface description block (pcapng, section 4.2) for the port:
 * Ethernet, the capture's snap length, its name and description, timestamps
 * in nanoseconds (what rte_pcapng_copy records).
 */
static int
write_idb(int fd, const char *name, const char *descr, uint32_t snaplen)
{
	uint8_t buf[512];
	uint32_t len = 16, type = PCAPNG_IDB;
	uint16_t link = 1 /* LINKTYPE_ETHERNET */, zero = 0;
	uint8_t tsresol = 9;

	len += put_option(buf + len, 2 /* if_name */, name, (uint16_t)strlen(name));
	len += put_option(buf + len, 3 /* if_description */, descr, (uint16_t)strlen(descr));
	len += put_option(buf + len, 9 /* if_tsresol */, &tsresol, 1);
	len += put_option(buf + len, 0 /* opt_endofopt */, NULL, 0);
	len += 4;
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &len, 4);
	memcpy(buf + 8, &link, 2);
	memcpy(buf + 10, &zero, 2);
	memcpy(buf + 12, &snaplen, 4);
	memcpy(buf + len - 4, &len, 4);
	return write(fd, buf, len) == (ssize_t)len ? 0 : -EIO;
}

/* Writes one packet block built by rte_pcapng_copy, pointed at our interface. */
static int
write_epb(struct vs_capture *c, struct rte_mbuf *m)
{
	struct iovec iov[16];
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t type, ifindex = c->ifindex;
	unsigned int n = 0;

	memcpy(&type, p, 4);
	if (type != PCAPNG_EPB || m->nb_segs > RTE_DIM(iov))
		return -EINVAL;
	memcpy(p + 8, &ifindex, 4);
	for (struct rte_mbuf *s = m; s != NULL; s = s->next)
		iov[n++] = (struct iovec){rte_pktmbuf_mtod(s, void *), s->data_len};
	return writev(c->fd, iov, (int)n) == (ssize_t)m->pkt_len ? 0 : -EIO;
}

/* Writes what the workers queued; the count limit may end the capture. */
static void
drain(struct vs_capture *c)
{
	struct rte_mbuf *m[CAP_BURST];
	unsigned int n;

	while ((n = rte_ring_dequeue_burst(c->ring, (void **)m, CAP_BURST, NULL)) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			if (c->want != 0 && c->written >= c->want)
				continue;
			if (write_epb(c, m[i]) == 0)
				c->written++;
			else
				c->write_errors++;
		}
		rte_pktmbuf_free_bulk(m, n);
	}
}

/* Frees @p c; a dpdk-dumpcap capture's ring and mbufs are that process's. */
static void
capture_free(struct vs_capture *c)
{
	if (c == NULL)
		return;
	if (c->pcapng != NULL)
		rte_pcapng_close(c->pcapng); /* closes the fd */
	else if (c->fd >= 0)
		close(c->fd);
	if (c->peer_pid == 0) {
		rte_ring_free(c->ring);
		rte_mempool_free(c->mp);
	}
	if (c->filter != NULL)
		rte_bpf_destroy(c->filter);
	rte_free(c);
}

static void arm_timer(struct vs_switch *sw);

/* Packets in the file, or handed to dpdk-dumpcap's ring. */
static uint64_t
written(const struct vs_capture *c)
{
	return c->peer_pid != 0 ? __atomic_load_n(&c->queued, __ATOMIC_RELAXED) : c->written;
}

/*
 * Takes the capture off the workers' snapshot, writes the rest, closes the
 * file. A dpdk-dumpcap capture: that process reads its ring itself, and may
 * free the ring and its mbufs once this returns.
 */
void
vs_capture_end(struct vs_switch *sw, struct vs_sw_port *sp, struct vs_switch_capture_result *res)
{
	struct vs_capture *c = sp->capture;

	pthread_mutex_lock(&sw->lock);
	sp->capture = NULL;
	pthread_mutex_unlock(&sw->lock);
	/* After it (a grace period of the workers), none copies into the ring any more. */
	vs_switch_reconcile(sw);
	if (c->peer_pid == 0)
		drain(c);
	if (res != NULL) {
		res->written = written(c);
		res->lost = __atomic_load_n(&c->lost, __ATOMIC_RELAXED) + c->write_errors;
		snprintf(res->path, sizeof(res->path), "%s", c->path);
	}
	if (c->peer_pid != 0)
		CAP_LOG(INFO,
			"port %s: capture for %s ended: %" PRIu64 " packet(s), %" PRIu64 " lost",
			sp->port->name, c->path, written(c),
			__atomic_load_n(&c->lost, __ATOMIC_RELAXED));
	else
		CAP_LOG(INFO, "port %s: %" PRIu64 " packet(s) written to %s, %" PRIu64 " lost",
			sp->port->name, c->written, c->path,
			__atomic_load_n(&c->lost, __ATOMIC_RELAXED) + c->write_errors);
	capture_free(c);
}

/* Every CAP_DRAIN_MS while any port is captured: the rings into the files. */
static void
drain_timer(void *arg)
{
	struct vs_switch *sw = arg;
	bool any = false;

	sw->capture_timer = 0;
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct vs_sw_port *sp = sw->ports[d];
		struct vs_capture *c = sp != NULL ? sp->capture : NULL;

		if (c == NULL || c->peer_pid != 0)
			continue;
		drain(c);
		if (c->want != 0 && c->written >= c->want)
			vs_capture_end(sw, sp, NULL);
		else
			any = true;
	}
	if (any)
		arm_timer(sw);
}

static void
arm_timer(struct vs_switch *sw)
{
	if (sw->capture_timer <= 0)
		sw->capture_timer = vs_evloop_add_timer(sw->loop, CAP_DRAIN_MS, drain_timer, sw);
}

static int
capture_open(struct vs_capture *c, const char *path, char *err, size_t errlen)
{
	uint16_t eth;
	char app[64];

	if (path[0] != '/') {
		snprintf(err, errlen, "capture file '%s' is not an absolute path", path);
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(c->path)) {
		snprintf(err, errlen, "capture file path too long");
		return -ENAMETOOLONG;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (c->fd < 0) {
		int rc = -errno;

		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	/* rte_pcapng describes the ethdev ports first; ours comes after them. */
	c->ifindex = 0;
	RTE_ETH_FOREACH_DEV(eth)
	c->ifindex++;
	snprintf(app, sizeof(app), "vswitch");
	c->pcapng = rte_pcapng_fdopen(c->fd, NULL, NULL, app, NULL);
	if (c->pcapng == NULL) {
		snprintf(err, errlen, "%s: cannot start a pcapng file: %s", path,
			 rte_strerror(rte_errno));
		return -EIO;
	}
	return 0;
}

struct vs_capture *
vs_capture_new(void)
{
	struct vs_capture *c = rte_zmalloc("vs_capture", sizeof(*c), RTE_CACHE_LINE_SIZE);
	struct timespec ts;

	if (c == NULL)
		return NULL;
	c->fd = -1;
	c->queue = VS_CAP_ALL_QUEUES;
	c->format = VS_CAP_PCAPNG;
	c->tsc_hz = rte_get_tsc_hz();
	c->base_tsc = rte_get_tsc_cycles();
	clock_gettime(CLOCK_REALTIME, &ts);
	c->base_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return c;
}

void
vs_capture_free(struct vs_capture *c)
{
	capture_free(c);
}

int
vs_capture_publish(struct vs_switch *sw, struct vs_sw_port *sp, struct vs_capture *c)
{
	int rc;

	pthread_mutex_lock(&sw->lock);
	sp->capture = c;
	pthread_mutex_unlock(&sw->lock);
	rc = vs_switch_reconcile(sw);
	if (rc != 0) {
		pthread_mutex_lock(&sw->lock);
		sp->capture = NULL;
		pthread_mutex_unlock(&sw->lock);
	}
	return rc;
}

int
vs_switch_capture_start(struct vs_switch *sw, const char *name, const char *path, unsigned int dir,
			uint64_t count, uint32_t snaplen, char *err, size_t errlen)
{
	int id = vs_switch_port_find(sw, name);
	char rname[RTE_RING_NAMESIZE], descr[96];
	struct vs_sw_port *sp;
	struct vs_capture *c;
	int rc;

	if (id < 0) {
		snprintf(err, errlen, "no port named '%s'", name);
		return -ENOENT;
	}
	sp = sw->ports[id];
	if (sp->capture != NULL) {
		snprintf(err, errlen, "port %s is being captured to %s already", name,
			 sp->capture->path);
		return -EBUSY;
	}
	if (dir == 0 || (dir & ~(VS_CAP_RX | VS_CAP_TX)) != 0) {
		snprintf(err, errlen, "a capture direction is rx, tx or both");
		return -EINVAL;
	}
	c = vs_capture_new();
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->dir = (uint8_t)dir;
	c->port = sp->id;
	c->want = count;
	c->snaplen = snaplen != 0 ? snaplen : UINT32_MAX;
	snprintf(rname, sizeof(rname), "cap_%.10s_%d", sw->name, id);
	c->ring = rte_ring_create(rname, CAP_RING, (int)rte_socket_id(), RING_F_SC_DEQ);
	c->mp = rte_pktmbuf_pool_create(rname, CAP_MBUFS, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					(int)rte_socket_id());
	if (c->ring == NULL || c->mp == NULL) {
		snprintf(err, errlen, "no memory for the capture's ring and mbufs: %s",
			 rte_strerror(rte_errno));
		capture_free(c);
		return -ENOMEM;
	}
	rc = capture_open(c, path, err, errlen);
	if (rc == 0) {
		snprintf(descr, sizeof(descr), "vswitch port %s (%s)", sp->port->name,
			 sp->info.type != NULL ? sp->info.type : "?");
		rc = write_idb(c->fd, sp->port->name, descr,
			       snaplen != 0 && snaplen < 262144 ? snaplen : 262144);
		if (rc != 0)
			snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-rc));
	}
	if (rc != 0) {
		capture_free(c);
		return rc;
	}
	rc = vs_capture_publish(sw, sp, c);
	if (rc != 0) {
		snprintf(err, errlen, "out of memory for the new snapshot");
		capture_free(c);
		return rc;
	}
	arm_timer(sw);
	CAP_LOG(INFO, "port %s: capturing %s to %s", name,
		dir == (VS_CAP_RX | VS_CAP_TX) ? "both directions"
		: dir == VS_CAP_RX	       ? "rx"
					       : "tx",
		path);
	return 0;
}

int
vs_switch_capture_stop(struct vs_switch *sw, const char *name, struct vs_switch_capture_result *res,
		       char *err, size_t errlen)
{
	int id = vs_switch_port_find(sw, name);

	if (id < 0) {
		snprintf(err, errlen, "no port named '%s'", name);
		return -ENOENT;
	}
	if (sw->ports[id]->capture == NULL) {
		snprintf(err, errlen, "port %s is not being captured", name);
		return -ENOENT;
	}
	vs_capture_end(sw, sw->ports[id], res);
	return 0;
}

int
vs_switch_capture_state(struct vs_switch *sw, uint16_t id, struct vs_switch_capture_result *st)
{
	struct vs_capture *c;
	int rc = -ENOENT;

	pthread_mutex_lock(&sw->lock);
	c = id < VS_SWITCH_MAX_PORTS && sw->ports[id] != NULL ? sw->ports[id]->capture : NULL;
	if (c != NULL) {
		st->written = written(c);
		st->lost = __atomic_load_n(&c->lost, __ATOMIC_RELAXED) + c->write_errors;
		st->want = c->want;
		st->dir = c->dir;
		snprintf(st->path, sizeof(st->path), "%s", c->path);
		rc = 0;
	}
	pthread_mutex_unlock(&sw->lock);
	return rc;
}

void
vs_capture_port_gone(struct vs_switch *sw, struct vs_sw_port *sp)
{
	if (sp->capture != NULL)
		vs_capture_end(sw, sp, NULL);
}

void
vs_capture_fini(struct vs_switch *sw)
{
	if (sw->capture_timer > 0)
		vs_evloop_cancel_timer(sw->loop, sw->capture_timer);
	sw->capture_timer = 0;
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct vs_sw_port *sp = sw->ports[d];

		if (sp != NULL && sp->capture != NULL) {
			/* No worker runs any more: no snapshot to republish. */
			struct vs_capture *c = sp->capture;

			sp->capture = NULL;
			if (c->peer_pid == 0)
				drain(c);
			capture_free(c);
		}
	}
}
