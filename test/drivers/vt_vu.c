/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for the vhost-user port tests: environment, loopback workers and
 * a virtio-net guest made of lib/vhost's front-end and lib/virtq's driver
 * side (see vt_vu.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "test.h"
#include "test_eal.h"
#include "vhost_inflight.h"
#include "vhost_user_conn.h"
#include "vt_vu.h"

/* ---- environment ---- */

static void
env_state_changed(struct vs_port *port, void *arg)
{
	struct vt_vu_env *e = arg;

	(void)port;
	e->state_changes++;
}

static void
env_job_ready(int fd, uint32_t events, void *arg)
{
	struct vt_vu_env *e = arg;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	pthread_mutex_lock(&e->lock);
	if (e->job != NULL && !e->job_done) {
		void (*fn)(void *) = e->job;
		void *a = e->job_arg;

		pthread_mutex_unlock(&e->lock);
		fn(a);
		pthread_mutex_lock(&e->lock);
		e->job_done = true;
		pthread_cond_broadcast(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
}

static void *
env_loop_main(void *arg)
{
	struct vt_vu_env *e = arg;

	vs_evloop_run(e->loop);
	return NULL;
}

int
vt_vu_env_init(struct vt_vu_env *e, const char *name, unsigned int nmbufs, uint16_t data_room,
	       char *why, size_t len)
{
	static unsigned int seq;
	char pool[RTE_MEMPOOL_NAMESIZE];
	size_t qsz;

	memset(e, 0, sizeof(*e));
	e->job_fd = -1;
	if (vt_eal_init("vhost-user-port", why, len) != 0)
		return -1;
	snprintf(pool, sizeof(pool), "vu_%s_%u", name, seq++);
	e->mp = rte_pktmbuf_pool_create(pool, nmbufs, 256, 0,
					data_room ? data_room : RTE_MBUF_DEFAULT_BUF_SIZE,
					SOCKET_ID_ANY);
	if (e->mp == NULL) {
		snprintf(why, len, "no mbuf pool of %u mbufs: %s", nmbufs, rte_strerror(rte_errno));
		return -1;
	}
	qsz = rte_rcu_qsbr_get_memsize(VT_VU_MAX_READERS);
	e->qsbr = rte_zmalloc("vt_vu_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (e->qsbr == NULL || rte_rcu_qsbr_init(e->qsbr, VT_VU_MAX_READERS) != 0) {
		snprintf(why, len, "no RCU variable");
		return -1;
	}
	e->loop = vs_evloop_create();
	e->job_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->loop == NULL || e->job_fd < 0 ||
	    vs_evloop_add_fd(e->loop, e->job_fd, EPOLLIN, env_job_ready, e) != 0) {
		snprintf(why, len, "no event loop");
		return -1;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	if (pthread_create(&e->thread, NULL, env_loop_main, e) != 0) {
		snprintf(why, len, "no loop thread");
		return -1;
	}
	e->running = true;
	return 0;
}

void
vt_vu_env_fini(struct vt_vu_env *e)
{
	if (e->running) {
		vs_evloop_stop(e->loop);
		pthread_join(e->thread, NULL);
		e->running = false;
	}
	if (e->loop != NULL) {
		if (e->job_fd >= 0)
			vs_evloop_del_fd(e->loop, e->job_fd);
		vs_evloop_destroy(e->loop);
	}
	if (e->job_fd >= 0)
		close(e->job_fd);
	rte_free(e->qsbr);
	rte_mempool_free(e->mp);
	memset(e, 0, sizeof(*e));
	e->job_fd = -1;
}

int
vt_vu_env_end(struct vt_vu_env *e, int rc)
{
	unsigned int in_use = rte_mempool_in_use_count(e->mp);

	vt_vu_env_fini(e);
	if (in_use == 0)
		return rc;
	printf("FAIL: %u mbufs did not come back\n", in_use);
	return TEST_FAILED;
}

void
vt_vu_run(struct vt_vu_env *e, void (*fn)(void *), void *arg)
{
	static const uint64_t one = 1;

	if (!e->running) {
		fn(arg);
		return;
	}
	pthread_mutex_lock(&e->lock);
	e->job = fn;
	e->job_arg = arg;
	e->job_done = false;
	if (write(e->job_fd, &one, sizeof(one)) != sizeof(one))
		abort();
	while (!e->job_done)
		pthread_cond_wait(&e->cond, &e->lock);
	e->job = NULL;
	pthread_mutex_unlock(&e->lock);
}

struct start_job {
	struct vt_vu_env *e;
	const char *spec;
	char *err;
	size_t len;
	struct vs_port *port;
};

static void
start_job(void *arg)
{
	struct start_job *j = arg;
	struct vs_port_env env = {
		.mp = j->e->mp,
		.qsbr = j->e->qsbr,
		.loop = j->e->loop,
		.socket_id = SOCKET_ID_ANY,
		.state_changed = env_state_changed,
		.arg = j->e,
		.state_dir = j->e->state_dir,
	};
	struct vs_port_spec spec;
	struct vs_port *port;
	int rc;

	if (vs_port_spec_parse(j->spec, &spec, j->err, j->len) != 0)
		return;
	port = vs_port_create("vu0", &spec, &env, j->err, j->len);
	if (port == NULL)
		return;
	rc = port->ops->start(port);
	if (rc != 0) {
		snprintf(j->err, j->len, "start: %s", strerror(-rc));
		port->ops->destroy(port);
		return;
	}
	j->port = port;
}

struct vs_port *
vt_vu_port_start(struct vt_vu_env *e, const char *spec, char *err, size_t len)
{
	struct start_job j = {e, spec, err, len, NULL};

	err[0] = '\0';
	vt_vu_run(e, start_job, &j);
	return j.port;
}

struct handover_job {
	struct vt_vu_env *e;
	struct vs_port *port;
	const char *spec;
	int rc;
};

static void
close_all(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The new port's side: its own descriptors of the old one's files, as SCM_RIGHTS gives them. */
static int
load_new(struct handover_job *j, const struct vs_port_handover *saved, struct vs_port **out)
{
	struct vs_port_env env = {
		.mp = j->e->mp,
		.qsbr = j->e->qsbr,
		.loop = j->e->loop,
		.socket_id = SOCKET_ID_ANY,
		.state_changed = env_state_changed,
		.arg = j->e,
		.state_dir = j->e->state_dir,
	};
	int fds[VS_PORT_HANDOVER_MAX_FDS];
	struct vs_port_handover h = *saved;
	struct vs_port_spec spec;
	struct vs_port *port;
	char err[256];
	int rc;

	h.fds = fds;
	for (unsigned int i = 0; i < h.nfds; i++)
		fds[i] = fcntl(saved->fds[i], F_DUPFD_CLOEXEC, 3);
	if (vs_port_spec_parse(j->spec, &spec, err, sizeof(err)) != 0 ||
	    (port = vs_port_create("vu0", &spec, &env, err, sizeof(err))) == NULL) {
		close_all(fds, h.nfds);
		return -EINVAL;
	}
	rc = port->ops->handover_load(port, &h); /* takes every fd, also on failure */
	if (rc != 0) {
		port->ops->handover_release(port);
		port->ops->stop(port);
		port->ops->destroy(port);
		return rc;
	}
	*out = port;
	return 0;
}

static void
handover_job(void *arg)
{
	struct handover_job *j = arg;
	int fds[VS_PORT_HANDOVER_MAX_FDS];
	struct vs_port_handover h = {.fds = fds};
	struct vs_port *nw = NULL;

	j->rc = j->port->ops->handover_save(j->port, &h);
	if (j->rc != 0)
		return;
	j->rc = load_new(j, &h, &nw);
	free(h.blob);
	if (j->rc != 0) {
		j->port->ops->handover_resume(j->port);
		return;
	}
	j->port->ops->handover_release(j->port);
	j->port->ops->stop(j->port);
	j->port->ops->destroy(j->port);
	j->port = nw;
}

int
vt_vu_port_hand_over(struct vt_vu_env *e, struct vs_port **port, const char *spec)
{
	struct handover_job j = {e, *port, spec, -EINVAL};

	vt_vu_run(e, handover_job, &j);
	*port = j.port;
	return j.rc;
}

static void
destroy_job(void *arg)
{
	struct vs_port *port = arg;

	port->ops->stop(port);
	port->ops->destroy(port);
}

void
vt_vu_port_destroy(struct vt_vu_env *e, struct vs_port *port)
{
	if (port != NULL)
		vt_vu_run(e, destroy_job, port);
}

struct info_job {
	struct vs_port *port;
	struct vs_port_info *info;
	struct vs_port_stats *stats;
	struct vt_vu_env *e;
	int changes;
};

static void
info_job(void *arg)
{
	struct info_job *j = arg;

	if (j->info != NULL)
		j->port->ops->info_get(j->port, j->info);
	if (j->stats != NULL)
		j->port->ops->stats_get(j->port, j->stats);
	j->changes = j->e->state_changes;
}

void
vt_vu_info(struct vt_vu_env *e, struct vs_port *port, struct vs_port_info *info)
{
	struct info_job j = {port, info, NULL, e, 0};

	vt_vu_run(e, info_job, &j);
}

void
vt_vu_stats(struct vt_vu_env *e, struct vs_port *port, struct vs_port_stats *stats)
{
	struct info_job j = {port, NULL, stats, e, 0};

	vt_vu_run(e, info_job, &j);
}

int
vt_vu_state_changes(struct vt_vu_env *e)
{
	struct info_job j = {NULL, NULL, NULL, e, 0};

	vt_vu_run(e, info_job, &j);
	return j.changes;
}

struct describe_job {
	struct vs_port *port;
	struct vs_jw w;
};

static void
describe_job(void *arg)
{
	struct describe_job *j = arg;

	vs_jw_object_open(&j->w);
	j->port->ops->describe(j->port, &j->w);
	vs_jw_object_close(&j->w);
}

json_t *
vt_vu_describe(struct vt_vu_env *e, struct vs_port *port)
{
	struct describe_job j = {.port = port};
	const char *text;
	char why[128];
	json_t *d = NULL;

	if (port->ops->describe == NULL) {
		printf("port %s: no describe (show port gives no driver state)\n", port->name);
		return NULL;
	}
	vs_jw_init(&j.w, 0);
	vt_vu_run(e, describe_job, &j);
	text = vs_jw_text(&j.w);
	if (text != NULL)
		d = vs_json_load(text, strlen(text), why, sizeof(why));
	if (d == NULL)
		printf("port %s: describe wrote no JSON: %s\n", port->name,
		       text != NULL ? why : "writer failed");
	vs_jw_free(&j.w);
	return d;
}

bool
vt_vu_wait_queues(struct vt_vu_env *e, struct vs_port *port, uint16_t rxq, uint16_t txq,
		  unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;
	struct vs_port_info info;

	do {
		vt_vu_info(e, port, &info);
		if (info.nb_rxq == rxq && info.nb_txq == txq &&
		    info.link == (rxq > 0 && txq > 0 ? VS_PORT_LINK_UP : VS_PORT_LINK_DOWN))
			return true;
		usleep(5000);
	} while (vt_now_ms() < end);
	return false;
}

bool
vt_vu_wait_detail(struct vt_vu_env *e, struct vs_port *port, const char *what, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;
	struct vs_port_info info;

	do {
		vt_vu_info(e, port, &info);
		if (strstr(info.detail, what) != NULL)
			return true;
		usleep(1000);
	} while (vt_now_ms() < end);
	printf("port %s: '%s' lacks '%s'\n", port->name, info.detail, what);
	return false;
}

void
vt_vu_reader_register(struct vt_vu_env *e, unsigned int id)
{
	rte_rcu_qsbr_thread_register(e->qsbr, id);
}

void
vt_vu_reader_unregister(struct vt_vu_env *e, unsigned int id)
{
	rte_rcu_qsbr_thread_offline(e->qsbr, id);
	rte_rcu_qsbr_thread_unregister(e->qsbr, id);
}

uint16_t
vt_vu_rx(struct vt_vu_env *e, unsigned int id, struct vs_port *port, uint16_t q,
	 struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t got;

	rte_rcu_qsbr_thread_online(e->qsbr, id);
	got = vs_port_rx_burst(port, q, pkts, n);
	rte_rcu_qsbr_quiescent(e->qsbr, id);
	rte_rcu_qsbr_thread_offline(e->qsbr, id);
	return got;
}

uint16_t
vt_vu_tx(struct vt_vu_env *e, unsigned int id, struct vs_port *port, uint16_t q,
	 struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent;

	rte_rcu_qsbr_thread_online(e->qsbr, id);
	sent = vs_port_tx_burst(port, q, pkts, n);
	rte_rcu_qsbr_quiescent(e->qsbr, id);
	rte_rcu_qsbr_thread_offline(e->qsbr, id);
	for (uint16_t i = sent; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	return sent;
}

/* ---- loopback workers ---- */

static int
worker_main(void *arg)
{
	struct vt_vu_worker *w = arg;
	struct rte_mbuf *pkts[32];

	rte_rcu_qsbr_thread_register(w->env->qsbr, w->reader);
	rte_rcu_qsbr_thread_online(w->env->qsbr, w->reader);
	while (!w->stop) {
		for (uint16_t q = w->q_first; q < w->q_first + w->q_count; q++) {
			uint16_t n = vs_port_rx_burst(w->port, q, pkts, 32), sent;

			if (n == 0)
				continue;
			w->rx += n;
			sent = vs_port_tx_burst(w->port, q, pkts, n);
			w->tx += sent;
			w->dropped += n - sent;
			for (uint16_t i = sent; i < n; i++)
				rte_pktmbuf_free(pkts[i]);
			/* As the engine: the poll's transaction ends (crash-safe mode). */
			vs_port_rx_done(w->port, q);
		}
		w->loops++;
		rte_rcu_qsbr_quiescent(w->env->qsbr, w->reader);
	}
	rte_rcu_qsbr_thread_offline(w->env->qsbr, w->reader);
	rte_rcu_qsbr_thread_unregister(w->env->qsbr, w->reader);
	return 0;
}

int
vt_vu_worker_start(struct vt_vu_worker *w, struct vt_vu_env *e, struct vs_port *port,
		   uint16_t q_first, uint16_t q_count, unsigned int lcore, unsigned int reader)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->env = e;
	w->port = port;
	w->lcore = lcore;
	w->reader = reader;
	w->q_first = q_first;
	w->q_count = q_count;
	rc = rte_eal_remote_launch(worker_main, w, lcore);
	if (rc != 0)
		return rc;
	w->launched = true;
	return 0;
}

void
vt_vu_worker_stop(struct vt_vu_worker *w)
{
	if (!w->launched)
		return;
	w->stop = true;
	rte_eal_wait_lcore(w->lcore);
	w->launched = false;
}

/* ---- the guest ---- */

#define RING_ALIGN 4096

static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static struct vq_drv_config
ring_config(const struct vt_guest *g)
{
	struct vq_drv_config c = {
		.size = g->cfg.ring_size,
		.features = g->features,
		.indirect_max = (g->features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC))
					? g->cfg.indirect_max
					: 0,
	};
	return c;
}

int
vt_guest_init(struct vt_guest *g, const struct vt_guest_cfg *cfg)
{
	struct vq_drv_config packed = {.size = cfg->ring_size,
				       .features = (1ULL << VIRTIO_F_RING_PACKED) |
						   (1ULL << VIRTIO_RING_F_INDIRECT_DESC),
				       .indirect_max = 16};
	struct vq_drv_config split = {.size = cfg->ring_size,
				      .features = 1ULL << VIRTIO_RING_F_INDIRECT_DESC,
				      .indirect_max = 16};
	uint64_t off = 0;
	size_t sz;

	memset(g, 0, sizeof(*g));
	g->memfd = -1;
	g->inflight_fd = -1;
	g->cfg = *cfg;
	g->nrings = 2 * cfg->queues;
	if (g->nrings > VT_GUEST_MAX_RINGS || cfg->ring_size == 0 || cfg->buf_size < 64)
		return -EINVAL;
	/* Room for either ring format with indirect tables. */
	sz = RTE_MAX(vq_drv_mem_size(&packed), vq_drv_mem_size(&split));
	if (sz == 0 || cfg->indirect_max > 16)
		return -EINVAL;
	for (unsigned int i = 0; i < g->nrings; i++) {
		g->ring[i].ring_off = off;
		off = align_up(off + sz, RING_ALIGN);
		g->ring[i].buf_off = off;
		g->ring[i].nbufs = cfg->ring_size;
		g->ring[i].buf_size =
			i % 2 == 1 && cfg->tx_buf_size ? cfg->tx_buf_size : cfg->buf_size;
		off = align_up(off + (uint64_t)cfg->ring_size * g->ring[i].buf_size, RING_ALIGN);
		g->ring[i].free = calloc(cfg->ring_size, sizeof(uint16_t));
		if (g->ring[i].free == NULL)
			return -ENOMEM;
		g->ring[i].kick = g->ring[i].call = g->ring[i].err = -1;
	}
	g->mem_len = align_up(off, 2 * RING_ALIGN);
	g->memfd = memfd_create("vt-guest", MFD_CLOEXEC | (cfg->sealed ? MFD_ALLOW_SEALING : 0));
	if (g->memfd < 0)
		return -errno;
	if (ftruncate(g->memfd, (off_t)g->mem_len) != 0)
		return -errno;
	/* As QEMU's memory-backend-memfd (seal=on): the size is final. */
	if (cfg->sealed && fcntl(g->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)
		return -errno;
	g->mem = mmap(NULL, g->mem_len, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		return -errno;
	}
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
rings_down(struct vt_guest *g)
{
	for (unsigned int i = 0; i < g->nrings; i++) {
		struct vt_guest_ring *r = &g->ring[i];

		if (r->up)
			vq_drv_fini(&r->q);
		r->up = false;
		r->pend_n = r->pend_head = 0;
		close_fd(&r->kick);
		close_fd(&r->call);
		close_fd(&r->err);
	}
}

/* Closes the connection; the rings keep their state. */
static void
drop_connection(struct vt_guest *g)
{
	if (g->b != NULL)
		vh_backend_destroy(g->b); /* destroys the front-end too */
	else
		vh_user_frontend_destroy(g->fe);
	g->b = NULL;
	g->fe = NULL;
}

static void
inflight_drop(struct vt_guest *g)
{
	if (g->inflight_area != NULL)
		munmap(g->inflight_area, g->inflight.mmap_size);
	g->inflight_area = NULL;
	close_fd(&g->inflight_fd);
}

void
vt_guest_disconnect(struct vt_guest *g)
{
	drop_connection(g);
	rings_down(g);
}

int
vt_guest_truncate(struct vt_guest *g, uint64_t len)
{
	return ftruncate(g->memfd, (off_t)len) == 0 ? 0 : -errno;
}

void
vt_guest_fini(struct vt_guest *g)
{
	vt_guest_disconnect(g);
	inflight_drop(g);
	for (unsigned int i = 0; i < VT_GUEST_MAX_RINGS; i++)
		free(g->ring[i].free);
	if (g->mem != NULL)
		munmap(g->mem, g->mem_len);
	if (g->memfd >= 0)
		close(g->memfd);
	memset(g, 0, sizeof(*g));
	g->memfd = -1;
	g->inflight_fd = -1;
}

int
vt_guest_set_memory(struct vt_guest *g, bool two_regions)
{
	struct vh_mem_region r[2];
	uint64_t half = align_up(g->mem_len / 2, 2 * RING_ALIGN);
	unsigned int n = two_regions ? 2 : 1;

	r[0] = (struct vh_mem_region){VT_GUEST_GPA_BASE, two_regions ? half : g->mem_len,
				      (uint64_t)(uintptr_t)g->mem, 0, g->memfd};
	r[1] = (struct vh_mem_region){VT_GUEST_GPA_BASE + half, g->mem_len - half,
				      (uint64_t)(uintptr_t)g->mem + half, half, g->memfd};
	g->two_regions = two_regions;
	return vh_backend_set_mem_table(g->b, r, n);
}

/* Ring @p idx's addresses, with @p flags (VH_VRING_F_LOG: log used-ring writes). */
static void
ring_addr(struct vt_guest *g, unsigned int idx, uint32_t flags, struct vh_vring_addr *a)
{
	uint64_t desc, drv, dev;

	vq_drv_ring_addrs(&g->ring[idx].q, &desc, &drv, &dev);
	memset(a, 0, sizeof(*a));
	a->flags = flags;
	/* Front-end virtual addresses: the memfd's mapping here. */
	a->desc_user_addr = (uint64_t)(uintptr_t)vt_guest_ptr(g, desc);
	a->avail_user_addr = (uint64_t)(uintptr_t)vt_guest_ptr(g, drv);
	a->used_user_addr = (uint64_t)(uintptr_t)vt_guest_ptr(g, dev);
	a->log_guest_addr = dev;
}

static int ring_send(struct vt_guest *g, unsigned int idx, uint32_t base);

static int
ring_up(struct vt_guest *g, unsigned int idx)
{
	struct vt_guest_ring *r = &g->ring[idx];
	struct vq_drv_config c = ring_config(g);
	int rc;

	c.mem = g->mem + r->ring_off;
	c.mem_iova = VT_GUEST_GPA_BASE + r->ring_off;
	rc = vq_drv_init(&r->q, &c);
	if (rc != 0)
		return rc;
	r->up = true;
	/* We poll: no interrupts please. */
	vq_drv_call_disable(&r->q);
	r->nfree = r->nbufs;
	for (unsigned int i = 0; i < r->nbufs; i++)
		r->free[i] = (uint16_t)i;
	r->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->kick < 0 || r->call < 0 || r->err < 0)
		return -errno;
	/* Packed: both wrap counters start at 1 (2.8.1), bit 15. */
	return ring_send(g, idx, g->features & (1ULL << VIRTIO_F_RING_PACKED) ? 0x8000 : 0);
}

/* The ring's messages, from SET_VRING_NUM to SET_VRING_ENABLE, at @p base. */
static int
ring_send(struct vt_guest *g, unsigned int idx, uint32_t base)
{
	struct vt_guest_ring *r = &g->ring[idx];
	struct vh_vring_addr a;
	int rc;

	ring_addr(g, idx, 0, &a);
	if ((rc = vh_backend_set_vring_num(g->b, idx, g->cfg.ring_size)) != 0 ||
	    (rc = vh_backend_set_vring_base(g->b, idx, base)) != 0 ||
	    (rc = vh_backend_set_vring_addr(g->b, idx, &a)) != 0 ||
	    (rc = vh_backend_set_vring_call(g->b, idx, r->call)) != 0 ||
	    (rc = vh_backend_set_vring_err(g->b, idx, r->err)) != 0 ||
	    (rc = vh_backend_set_vring_kick(g->b, idx, r->kick)) != 0 ||
	    (rc = vh_backend_set_vring_enable(g->b, idx, 1)) != 0)
		return rc;
	return 0;
}

static int guest_start(struct vt_guest *g, bool resume);

static struct vh_user_frontend_config
frontend_config(const struct vt_guest *g)
{
	struct vh_user_frontend_config fc = {
		.protocol_features =
			g->cfg.protocol_features != 0 ? g->cfg.protocol_features : ~0ULL,
		.timeout_ms = 5000,
		.name = "vt-guest",
	};
	return fc;
}

int
vt_guest_connect(struct vt_guest *g, const char *path, unsigned int timeout_ms)
{
	struct vh_user_frontend_config fc = frontend_config(g);
	int rc;

	rc = vh_user_frontend_connect(path, timeout_ms, &fc, &g->fe);
	if (rc != 0)
		return rc;
	return guest_start(g, false);
}

/* A front-end over @p fd (taken), negotiated. */
static int
frontend_over_fd(struct vt_guest *g, int fd)
{
	struct vh_user_frontend_config fc = frontend_config(g);
	int rc;

	g->fe = vh_user_frontend_create(fd, &fc);
	if (g->fe == NULL)
		return -errno;
	rc = vh_user_frontend_negotiate(g->fe);
	if (rc != 0) {
		vh_user_frontend_destroy(g->fe);
		g->fe = NULL;
	}
	return rc;
}

int
vt_guest_connect_fd(struct vt_guest *g, int fd)
{
	int rc = frontend_over_fd(g, fd);

	return rc != 0 ? rc : guest_start(g, false);
}

int
vt_guest_resume_fd(struct vt_guest *g, int fd)
{
	int rc;

	drop_connection(g);
	for (unsigned int i = 0; i < g->nrings; i++)
		if (!g->ring[i].up) {
			close(fd);
			return -EINVAL; /* never started: nothing to resume */
		}
	rc = frontend_over_fd(g, fd);
	return rc != 0 ? rc : guest_start(g, true);
}

bool
vt_guest_hung_up(struct vt_guest *g)
{
	struct pollfd p = {.events = POLLIN | POLLRDHUP};

	if (g->fe == NULL)
		return true;
	p.fd = vh_user_frontend_fd(g->fe);
	/* A back-end sends nothing unasked on the main socket: readable is the end. */
	return poll(&p, 1, 0) != 0;
}

void *
vt_guest_inflight_region(struct vt_guest *g, unsigned int idx)
{
	const bool packed = g->features & (1ULL << VIRTIO_F_RING_PACKED);

	if (g->inflight_area == NULL || idx >= g->inflight.num_queues)
		return NULL;
	return g->inflight_area +
	       idx * vh_inflight_queue_region_size(g->inflight.queue_size, packed);
}

/*
 * The area of GET_INFLIGHT_FD, checked as anything from a back-end: its
 * size must hold a region per ring, and the file that much (else reading it
 * would fault).
 */
static int
inflight_get(struct vt_guest *g)
{
	const bool packed = g->features & (1ULL << VIRTIO_F_RING_PACKED);
	const uint64_t need =
		g->nrings * vh_inflight_queue_region_size((uint16_t)g->cfg.ring_size, packed);
	struct stat st;
	void *p;
	int rc;

	rc = vh_user_frontend_get_inflight_fd(g->fe, (uint16_t)g->nrings,
					      (uint16_t)g->cfg.ring_size, &g->inflight,
					      &g->inflight_fd);
	if (rc != 0)
		return rc;
	if (g->inflight.mmap_size < need || g->inflight.mmap_size > VH_INFLIGHT_MAX_SIZE ||
	    g->inflight.mmap_offset % 4096 != 0 || g->inflight.num_queues != g->nrings ||
	    g->inflight.queue_size != g->cfg.ring_size || fstat(g->inflight_fd, &st) != 0 ||
	    (uint64_t)st.st_size < g->inflight.mmap_offset + g->inflight.mmap_size) {
		inflight_drop(g);
		return -EPROTO;
	}
	p = mmap(NULL, g->inflight.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->inflight_fd,
		 (off_t)g->inflight.mmap_offset);
	if (p == MAP_FAILED) {
		rc = -errno;
		inflight_drop(g);
		return rc;
	}
	g->inflight_area = p;
	return 0;
}

/*
 * Inflight tracking as QEMU's vhost-user-blk: a fresh device asks for a new
 * area (after the features, which say its layout), and every start sends
 * the area it has.
 */
static int
inflight_start(struct vt_guest *g, bool resume)
{
	int rc;

	if (!resume)
		inflight_drop(g);
	if (g->inflight_area == NULL && (rc = inflight_get(g)) != 0)
		return rc;
	return vh_user_frontend_set_inflight_fd(g->fe, &g->inflight, g->inflight_fd);
}

/* Where a resumed ring starts (see vt_guest_resume_fd()). */
static uint32_t
resume_base(struct vt_guest *g, unsigned int idx)
{
	uint64_t desc, drv, dev;

	if (g->features & (1ULL << VIRTIO_F_RING_PACKED))
		return 0x8000;
	vq_drv_ring_addrs(&g->ring[idx].q, &desc, &drv, &dev);
	return __atomic_load_n(&((const struct vq_used *)vt_guest_ptr(g, dev))->idx,
			       __ATOMIC_ACQUIRE);
}

/*
 * Owner, features, memory, rings: what QEMU does when the guest starts the
 * NIC, or (@p resume) when it connects again to a back-end that died.
 */
static int
guest_start(struct vt_guest *g, bool resume)
{
	uint64_t offered;
	int rc;

	g->b = vh_user_frontend_backend(g->fe);
	if ((rc = vh_backend_set_owner(g->b)) != 0 ||
	    (rc = vh_backend_get_features(g->b, &offered)) != 0)
		goto fail;
	if (!resume)
		g->features = offered & g->cfg.features;
	else if ((offered & g->features) != g->features)
		rc = -ENOTSUP; /* the new back-end lacks what the rings use */
	g->hdr_len = g->features & ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF))
			     ? 12
			     : 10;
	if (rc != 0 || (rc = vh_backend_set_features(g->b, g->features)) != 0 ||
	    (g->cfg.inflight && (rc = inflight_start(g, resume)) != 0) ||
	    (rc = vt_guest_set_memory(g, g->cfg.split_memory)) != 0)
		goto fail;
	for (unsigned int i = 0; i < g->nrings; i++)
		if ((rc = resume ? ring_send(g, i, resume_base(g, i)) : ring_up(g, i)) != 0)
			goto fail;
	if ((rc = vh_backend_driver_ok(g->b)) != 0)
		goto fail;
	return 0;
fail:
	if (resume)
		drop_connection(g);
	else
		vt_guest_disconnect(g);
	return rc;
}

int
vt_guest_ring_restart(struct vt_guest *g, unsigned int idx)
{
	struct vt_guest_ring *r = &g->ring[idx];
	uint32_t base;
	int rc;

	rc = vh_backend_get_vring_base(g->b, idx, &base);
	if (rc != 0)
		return rc;
	/* Every chain the device took came back: the base is where we are. */
	if ((rc = vh_backend_set_vring_base(g->b, idx, base)) != 0 ||
	    (rc = vh_backend_set_vring_kick(g->b, idx, r->kick)) != 0)
		return rc;
	return 0;
}

/* LOG_ALL on or off, and every ring's addresses again with or without VRING_F_LOG. */
static int
log_switch(struct vt_guest *g, bool on)
{
	uint64_t f = g->features | (on ? 1ULL << VH_VHOST_F_LOG_ALL : 0);
	int rc = vh_backend_set_features(g->b, f);

	for (unsigned int i = 0; i < g->nrings && rc == 0; i++) {
		struct vh_vring_addr a;

		ring_addr(g, i, on ? VH_VRING_F_LOG : 0, &a);
		rc = vh_backend_set_vring_addr(g->b, i, &a);
	}
	return rc;
}

int
vt_guest_log_start(struct vt_guest *g, const struct vh_log_area *log, bool base_last)
{
	int rc = 0;

	if (!base_last)
		rc = vh_backend_set_log_base(g->b, log);
	if (rc == 0)
		rc = log_switch(g, true);
	if (rc == 0 && base_last)
		rc = vh_backend_set_log_base(g->b, log);
	return rc;
}

int
vt_guest_log_stop(struct vt_guest *g)
{
	return log_switch(g, false);
}

int
vt_guest_ring_enable(struct vt_guest *g, unsigned int idx, bool on)
{
	return vh_backend_set_vring_enable(g->b, idx, on ? 1 : 0);
}

static uint8_t *
buf_ptr(const struct vt_guest *g, const struct vt_guest_ring *r, unsigned int b)
{
	return g->mem + r->buf_off + (uint64_t)b * r->buf_size;
}

static uint64_t
buf_gpa(const struct vt_guest *g, const struct vt_guest_ring *r, unsigned int b)
{
	(void)g;
	return VT_GUEST_GPA_BASE + r->buf_off + (uint64_t)b * r->buf_size;
}

int
vt_guest_send(struct vt_guest *g, unsigned int q, const void *frame, uint32_t len,
	      const struct virtio_net_hdr *hdr, enum vt_tx_layout layout)
{
	struct vt_guest_ring *r = &g->ring[2 * q + 1];
	struct vq_drv_seg seg[64];
	struct vq_drv_chain ch;
	unsigned int b, n = 0;
	uint8_t *p;
	uint32_t hdr_room = layout == VT_TX_ONE ? g->hdr_len : 64;

	if (hdr_room + len > r->buf_size)
		return -EMSGSIZE;
	if (r->nfree == 0)
		return -ENOSPC;
	b = r->free[r->nfree - 1];
	p = buf_ptr(g, r, b);
	memset(p, 0, g->hdr_len);
	if (hdr != NULL)
		memcpy(p, hdr, sizeof(*hdr));
	memcpy(p + hdr_room, frame, len);
	if (layout == VT_TX_ONE) {
		seg[n++] = (struct vq_drv_seg){buf_gpa(g, r, b), g->hdr_len + len, 0, 0};
	} else if (layout == VT_TX_HDR_BYTES) {
		uint8_t h[sizeof(struct virtio_net_hdr_mrg_rxbuf)];

		memcpy(h, p, g->hdr_len);
		for (uint32_t i = 0; i < g->hdr_len; i++) {
			p[2 * i] = h[i];
			p[2 * i + 1] = 0;
			seg[n++] = (struct vq_drv_seg){buf_gpa(g, r, b) + 2 * i, 1, 0, 0};
		}
		if (len > 0)
			seg[n++] = (struct vq_drv_seg){buf_gpa(g, r, b) + hdr_room, len, 0, 0};
	} else {
		seg[n++] = (struct vq_drv_seg){buf_gpa(g, r, b), g->hdr_len, 0, 0};
		for (uint32_t off = 0; off < len && n < 64;) {
			uint32_t k = layout == VT_TX_SPLIT ? len : RTE_MIN(700u, len - off);

			seg[n++] = (struct vq_drv_seg){buf_gpa(g, r, b) + hdr_room + off, k, 0, 0};
			off += k;
		}
	}
	ch.cookie = (void *)(uintptr_t)(b + 1);
	ch.seg = seg;
	ch.nseg = (uint16_t)n;
	if (vq_drv_post(&r->q, &ch, 1) != 1)
		return -ENOSPC;
	r->nfree--;
	return 0;
}

unsigned int
vt_guest_reap_tx(struct vt_guest *g, unsigned int q)
{
	struct vt_guest_ring *r = &g->ring[2 * q + 1];
	void *cookie[32];
	uint32_t len[32];
	unsigned int n, total = 0;

	while ((n = vq_drv_reap(&r->q, cookie, len, 32)) > 0) {
		for (unsigned int i = 0; i < n; i++)
			r->free[r->nfree++] = (uint16_t)((uintptr_t)cookie[i] - 1);
		total += n;
	}
	return total;
}

/* Posts RX buffer @p b as cfg.rx_descs descriptors (equal parts, contiguous). */
static bool
post_rx_buf(struct vt_guest *g, struct vt_guest_ring *r, unsigned int b)
{
	const unsigned int nd = g->cfg.rx_descs > 1 ? 2 : 1;
	const uint32_t part = r->buf_size / nd;
	struct vq_drv_seg seg[2];
	struct vq_drv_chain ch = {(void *)(uintptr_t)(b + 1), seg, (uint16_t)nd};

	for (unsigned int i = 0; i < nd; i++)
		seg[i] = (struct vq_drv_seg){buf_gpa(g, r, b) + i * part,
					     i + 1 < nd ? part : r->buf_size - i * part,
					     VQ_DESC_F_WRITE, 0};
	return vq_drv_free_count(&r->q) >= nd && vq_drv_post(&r->q, &ch, 1) == 1;
}

unsigned int
vt_guest_fill_rx_max(struct vt_guest *g, unsigned int q, unsigned int max)
{
	struct vt_guest_ring *r = &g->ring[2 * q];
	unsigned int posted = 0;

	while (posted < max && r->nfree > 0 && vq_drv_free_count(&r->q) > 0) {
		unsigned int b = r->free[r->nfree - 1];

		/* Poison: the port must overwrite what it reports as written. */
		memset(buf_ptr(g, r, b), 0xa5, 64);
		if (!post_rx_buf(g, r, b))
			break;
		r->nfree--;
		posted++;
	}
	return posted;
}

unsigned int
vt_guest_fill_rx(struct vt_guest *g, unsigned int q)
{
	return vt_guest_fill_rx_max(g, q, ~0u);
}

static bool
pending_pop(struct vt_guest *g, unsigned int idx, uint16_t *b, uint32_t *len)
{
	struct vt_guest_ring *r = &g->ring[idx];

	/* Used buffers are reaped ahead: with MRG_RXBUF a packet spans several. */
	if (r->pend_head == r->pend_n) {
		void *cookie[VT_GUEST_PEND];
		uint32_t l[VT_GUEST_PEND];
		unsigned int n = vq_drv_reap(&r->q, cookie, l, VT_GUEST_PEND);

		if (n == 0)
			return false;
		for (unsigned int i = 0; i < n; i++) {
			r->pend_buf[i] = (uint16_t)((uintptr_t)cookie[i] - 1);
			r->pend_len[i] = l[i];
		}
		r->pend_n = n;
		r->pend_head = 0;
	}
	*b = r->pend_buf[r->pend_head];
	*len = r->pend_len[r->pend_head];
	r->pend_head++;
	return true;
}

int
vt_guest_recv(struct vt_guest *g, unsigned int q, struct virtio_net_hdr_mrg_rxbuf *hdr,
	      uint8_t *frame, uint32_t cap, uint32_t *len)
{
	const unsigned int idx = 2 * q;
	struct vt_guest_ring *r = &g->ring[idx];
	const bool mrg = g->features & (1ULL << VIRTIO_NET_F_MRG_RXBUF);
	uint32_t got = 0, blen;
	uint16_t b, nbufs = 1;
	int rc = 1;

	if (!pending_pop(g, idx, &b, &blen))
		return 0;
	memset(hdr, 0, sizeof(*hdr));
	if (blen < g->hdr_len || blen > r->buf_size)
		rc = -EBADMSG;
	else
		memcpy(hdr, buf_ptr(g, r, b), g->hdr_len);
	if (rc == 1 && mrg) {
		nbufs = hdr->num_buffers;
		if (nbufs == 0 || nbufs > 64)
			rc = -EBADMSG;
	}
	for (uint16_t i = 0;;) {
		if (rc == 1) {
			uint32_t skip = i == 0 ? g->hdr_len : 0, n = blen - skip;

			if (got + n > cap)
				rc = -EBADMSG;
			else
				memcpy(frame + got, buf_ptr(g, r, b) + skip, n);
			got += n;
		}
		r->free[r->nfree++] = b;
		if (++i >= nbufs)
			break;
		if (!pending_pop(g, idx, &b, &blen)) {
			rc = -EBADMSG; /* num_buffers promised more than was used */
			break;
		}
		if (blen > r->buf_size)
			rc = -EBADMSG;
	}
	*len = got;
	return rc;
}

/* ---- the engine with two vhost-user ports ---- */

int
vt_vu_sw_init(struct vt_vu_sw *s, const char *name)
{
	struct vs_switch_config sc = {
		.name = name,
		.fdb_size = 1024,
		.nb_mbufs = 4095,
		.tx_retries = 1,
		.manual = true,
		.nb_workers = 1,
	};
	char why[256], spec[400];

	memset(s, 0, sizeof(*s));
	if (vt_eal_init(name, why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	s->loop = vs_evloop_create();
	TEST_ASSERT_NOT_NULL(s->loop, "event loop");
	sc.loop = s->loop;
	s->sw = vs_switch_create(&sc, why, sizeof(why));
	TEST_ASSERT_NOT_NULL(s->sw, "engine: %s", why);
	for (int i = 0; i < 2; i++) {
		char file[64];

		snprintf(file, sizeof(file), "%s%c.sock", name, 'a' + i);
		vt_path(s->sock[i], sizeof(s->sock[i]), file);
		unlink(s->sock[i]);
		snprintf(spec, sizeof(spec), "vhost-user,path=%s,name=%c", s->sock[i], 'a' + i);
		s->port[i] = vs_switch_add_port(s->sw, spec, why, sizeof(why));
		TEST_ASSERT(s->port[i] >= 0, "port %c: %s", 'a' + i, why);
	}
	return TEST_SUCCESS;
}

struct sw_connect {
	struct vt_vu_sw *s;
	struct vt_guest *const *g;
	int rc[2];
};

static int
sw_connect_both(void *arg)
{
	struct sw_connect *c = arg;

	for (int i = 0; i < 2; i++)
		c->rc[i] = vt_guest_connect(c->g[i], c->s->sock[i], 5000);
	return 0;
}

int
vt_vu_sw_connect(struct vt_vu_sw *s, struct vt_guest *const *g, uint64_t features)
{
	struct sw_connect c = {.s = s, .g = g};
	uint64_t end;

	TEST_ASSERT_SUCCESS(vt_vu_sw_run(s, sw_connect_both, &c), "connect thread");
	TEST_ASSERT(c.rc[0] == 0 && c.rc[1] == 0, "guests connect (%d, %d)", c.rc[0], c.rc[1]);
	end = vt_now_ms() + 5000;
	while (vt_now_ms() < end && !(vt_vu_sw_port_ready(s, 0) && vt_vu_sw_port_ready(s, 1)))
		vt_vu_sw_serve(s, 10);
	TEST_ASSERT(vt_vu_sw_port_ready(s, 0) && vt_vu_sw_port_ready(s, 1),
		    "both ports up and polled");
	for (int i = 0; i < 2; i++)
		TEST_ASSERT((g[i]->features & features) == features,
			    "guest %d negotiated 0x%" PRIx64 " of 0x%" PRIx64, i,
			    g[i]->features & features, features);
	return TEST_SUCCESS;
}

void
vt_vu_sw_fini(struct vt_vu_sw *s)
{
	if (s->loop != NULL)
		vt_vu_sw_serve(s, 20);
	if (s->sw != NULL)
		vs_switch_destroy(s->sw);
	if (s->loop != NULL)
		vs_evloop_destroy(s->loop);
	s->sw = NULL;
	s->loop = NULL;
}

void
vt_vu_sw_serve(struct vt_vu_sw *s, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while (vt_now_ms() < end)
		vs_evloop_run_once(s->loop, 5);
}

struct sw_job {
	int (*fn)(void *arg);
	void *arg;
	int rc;
	volatile bool done;
};

static void *
sw_job_main(void *arg)
{
	struct sw_job *j = arg;

	j->rc = j->fn(j->arg);
	j->done = true;
	return NULL;
}

int
vt_vu_sw_run(struct vt_vu_sw *s, int (*fn)(void *arg), void *arg)
{
	struct sw_job j = {.fn = fn, .arg = arg};
	pthread_t th;
	int rc = pthread_create(&th, NULL, sw_job_main, &j);

	if (rc != 0)
		return -rc;
	while (!j.done)
		vs_evloop_run_once(s->loop, 5);
	pthread_join(th, NULL);
	return j.rc;
}

bool
vt_vu_sw_port_ready(struct vt_vu_sw *s, int i)
{
	struct vs_switch_port_view v;

	return vs_switch_port_view(s->sw, (uint16_t)s->port[i], &v) == 0 &&
	       v.info.link == VS_PORT_LINK_UP && v.info.nb_txq >= 1 && v.rxq_worker[0] >= 0;
}

struct vs_switch_port_counters
vt_vu_sw_counters(struct vt_vu_sw *s, int i)
{
	struct vs_switch_port_view v;

	memset(&v, 0, sizeof(v));
	vs_switch_port_view(s->sw, (uint16_t)s->port[i], &v);
	return v.counters;
}

/* ---- a dirty log ---- */

#define VT_PAGE 4096u

int
vt_dirty_log_init(struct vt_dirty_log *l, const struct vt_guest *g)
{
	l->bits = NULL;
	l->shadow = NULL;
	l->len = ((VT_GUEST_GPA_BASE + g->mem_len) / VT_PAGE / 8 + VT_PAGE - 1) &
		 ~(size_t)(VT_PAGE - 1);
	l->fd = memfd_create("vt-dirty-log", MFD_CLOEXEC);
	if (l->fd < 0 || ftruncate(l->fd, (off_t)l->len) != 0) {
		printf("dirty log memfd: %s\n", strerror(errno));
		return -1;
	}
	l->bits = mmap(NULL, l->len, PROT_READ | PROT_WRITE, MAP_SHARED, l->fd, 0);
	if (l->bits == MAP_FAILED) {
		l->bits = NULL;
		printf("dirty log mapping: %s\n", strerror(errno));
		return -1;
	}
	l->shadow = malloc(g->mem_len);
	if (l->shadow == NULL) {
		printf("dirty log: no memory for the copy of the guest\n");
		return -1;
	}
	return 0;
}

void
vt_dirty_log_fini(struct vt_dirty_log *l)
{
	if (l->bits != NULL)
		munmap(l->bits, l->len);
	if (l->fd >= 0)
		close(l->fd);
	free(l->shadow);
	*l = (struct vt_dirty_log){.fd = -1};
}

struct vh_log_area
vt_dirty_log_area(const struct vt_dirty_log *l)
{
	return (struct vh_log_area){.size = l->len, .fd = l->fd};
}

void
vt_dirty_log_snapshot(struct vt_dirty_log *l, const struct vt_guest *g)
{
	memcpy(l->shadow, g->mem, g->mem_len);
	memset(l->bits, 0, l->len);
}

static bool
logged(const struct vt_dirty_log *l, uint64_t gpa)
{
	uint64_t pg = gpa / VT_PAGE;

	return pg / 8 < l->len && (l->bits[pg / 8] >> (pg % 8)) & 1;
}

/* The next byte at or after @p i where guest memory differs from the copy. */
static size_t
next_diff(const struct vt_dirty_log *l, const struct vt_guest *g, size_t i)
{
	const size_t len = g->mem_len;

	while (len - i >= 64 && memcmp(g->mem + i, l->shadow + i, 64) == 0)
		i += 64;
	while (i < len && g->mem[i] == l->shadow[i])
		i++;
	return i;
}

long
vt_dirty_log_check(const struct vt_dirty_log *l, const struct vt_guest *g, bool logging)
{
	long n = 0;

	for (size_t i = next_diff(l, g, 0); i < g->mem_len; i = next_diff(l, g, i + 1)) {
		n++;
		if (logging && !logged(l, VT_GUEST_GPA_BASE + i)) {
			printf("guest byte 0x%zx was written, its page is not in the log\n", i);
			return -1;
		}
	}
	for (size_t k = 0; !logging && k < l->len; k++) {
		if (l->bits[k] != 0) {
			printf("pages logged while logging is off (log byte %zu)\n", k);
			return -1;
		}
	}
	return n;
}

/* ---- frames ---- */

#define FRAME_TYPE 0x88b5 /* IEEE local experimental */

void
vt_frame_fill(uint8_t *f, uint32_t len, uint32_t seq)
{
	static const uint8_t mac[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};

	memcpy(f, mac, 12);
	f[12] = FRAME_TYPE >> 8;
	f[13] = FRAME_TYPE & 0xff;
	memcpy(f + 14, &seq, 4);
	memcpy(f + 18, &len, 4);
	for (uint32_t i = 22; i < len; i++)
		f[i] = (uint8_t)(seq * 31u + i * 7u);
}

int64_t
vt_frame_check(const uint8_t *f, uint32_t len)
{
	uint32_t seq, l;

	if (len < 22 || f[12] != FRAME_TYPE >> 8 || f[13] != (FRAME_TYPE & 0xff))
		return -1;
	memcpy(&seq, f + 14, 4);
	memcpy(&l, f + 18, 4);
	if (l != len)
		return -1;
	for (uint32_t i = 22; i < len; i++)
		if (f[i] != (uint8_t)(seq * 31u + i * 7u))
			return -1;
	return seq;
}

int64_t
vt_frame_check_mbuf(const struct rte_mbuf *m)
{
	static uint8_t buf[VT_FRAME_MAX];
	uint32_t off = 0;

	if (m->pkt_len > sizeof(buf))
		return -1;
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		if (off + s->data_len > sizeof(buf))
			return -1;
		memcpy(buf + off, rte_pktmbuf_mtod(s, const uint8_t *), s->data_len);
		off += s->data_len;
	}
	if (off != m->pkt_len)
		return -1;
	return vt_frame_check(buf, off);
}

struct rte_mbuf *
vt_frame_mbuf(struct rte_mempool *mp, uint32_t len, uint32_t seq)
{
	static uint8_t buf[VT_FRAME_MAX];
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint32_t off = 0;

	if (m == NULL || len > sizeof(buf))
		goto fail;
	vt_frame_fill(buf, len, seq);
	while (off < len) {
		struct rte_mbuf *last = rte_pktmbuf_lastseg(m);
		uint32_t room = rte_pktmbuf_tailroom(last), n = RTE_MIN(room, len - off);

		if (room == 0) {
			struct rte_mbuf *next = rte_pktmbuf_alloc(mp);

			if (next == NULL || rte_pktmbuf_chain(m, next) != 0) {
				rte_pktmbuf_free(next);
				goto fail;
			}
			continue;
		}
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), buf + off, n);
		off += n;
	}
	return m;
fail:
	rte_pktmbuf_free(m);
	return NULL;
}

uint32_t
vt_frame_tcp4(uint8_t *f, uint32_t payload)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(f + 34);
	uint16_t ph;

	memset(f, 0, 54);
	memset(f, 0x02, 6);
	memset(f + 6, 0x04, 6);
	f[12] = 0x08;
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(40 + payload));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(0x0a000001);
	ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->src_port = rte_cpu_to_be_16(40000);
	th->dst_port = rte_cpu_to_be_16(80);
	th->sent_seq = rte_cpu_to_be_32(77);
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
	th->rx_win = rte_cpu_to_be_16(65535);
	for (uint32_t i = 0; i < payload; i++)
		f[54 + i] = (uint8_t)(i * 7 + 3);
	ph = rte_ipv4_phdr_cksum(ip, 0);
	memcpy(&th->cksum, &ph, 2);
	return 54 + payload;
}

bool
vt_frame_tcp4_csum_ok(const uint8_t *f)
{
	return rte_ipv4_udptcp_cksum_verify((const struct rte_ipv4_hdr *)(f + 14), f + 34) == 0;
}
