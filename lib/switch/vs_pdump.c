/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk-dumpcap (and dpdk-pdump) against vswitch: the switch answers their
 * capture requests itself, with its own capture path (vs_capture.c).
 *
 * The tools are DPDK secondary processes. They create a ring and an mbuf
 * pool in the shared hugepage memory and send the primary an "mp_pdump"
 * request (EAL multi-process IPC) to start or stop copying a port's packets
 * into them. librte_pdump's own server (rte_pdump_init) does it with ethdev
 * rx/tx callbacks, and in DPDK 22.11 it answers a stop as soon as it has
 * unlinked the callbacks (rte_eth_remove_rx_callback does not wait for a
 * thread running one): a worker still inside the callback then copies into
 * the ring and pool that dumpcap frees right after the answer, and the
 * switch crashes (seen here: SIGSEGV in rte_pktmbuf_free_bulk under
 * pdump_copy, when dumpcap stopped). DPDK fixed it in 25.11 ("pdump: fix
 * races in callbacks"). Here a stop takes the capture off the workers'
 * snapshot and waits for their grace period (vs_capture_end) before the
 * answer goes out, so dumpcap frees memory that no worker touches any more.
 * The request and answer are librte_pdump 22.11's messages (its version 1:
 * plain copies, 2: pcapng); anything of another size is refused.
 *
 * Requests arrive on EAL's IPC thread; they are queued for the control
 * thread (an eventfd in the switch's loop), which owns the ports and the
 * snapshots, and answered from there (rte_mp_reply takes the peer's name).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_bpf.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_pdump.h>
#include <rte_ring.h>

#include "vs_evloop.h"
#include "vs_switch_priv.h"

#define PD_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, vs_switch_logtype, "dumpcap: " fmt "\n", ##__VA_ARGS__)

#define PDUMP_MP_NAME "mp_pdump"
#define PD_QUEUE      16   /* requests waiting for the control thread */
#define PD_WATCH_MS   1000 /* how often a capturing tool is checked for */

/* librte_pdump 22.11's request (lib/pdump/rte_pdump.c). */
enum { PD_DISABLE = 1, PD_ENABLE = 2 };
enum { PD_V1 = 1, PD_V2 = 2 };
struct pd_request {
	uint16_t ver;
	uint16_t op;
	uint32_t flags; /* RTE_PDUMP_FLAG_RX | RTE_PDUMP_FLAG_TX */
	char device[RTE_DEV_NAME_MAX_LEN];
	uint16_t queue; /* or RTE_PDUMP_ALL_QUEUES */
	struct rte_ring *ring;
	struct rte_mempool *mp;
	const struct rte_bpf_prm *prm;
	uint32_t snaplen;
};
struct pd_response {
	uint16_t ver;
	uint16_t res_op;
	int32_t err_value;
};

/* rte_pdump_init's memzone: the counters a tool reads with rte_pdump_stats(). */
struct pd_stats_zone {
	struct rte_pdump_stats rx[RTE_MAX_ETHPORTS][RTE_MAX_QUEUES_PER_PORT];
	struct rte_pdump_stats tx[RTE_MAX_ETHPORTS][RTE_MAX_QUEUES_PER_PORT];
	const struct rte_memzone *mz;
};

struct pd_pending {
	struct pd_request req;
	char peer[108]; /* the tool's IPC socket (sun_path) */
};

struct pd_server {
	struct vs_switch *sw;
	int efd;
	int64_t watch_timer;
	struct pd_stats_zone *stats; /* NULL: the tools see no counters */
	pthread_mutex_t lock;	     /* pending[] and efd: IPC thread and control thread */
	unsigned int npending;
	struct pd_pending pending[PD_QUEUE];
};

/*
 * One per process (EAL has one IPC action per name). Static: a request
 * being handled on the IPC thread while the switch shuts down still finds
 * its lock (EAL calls an action outside its own lock).
 */
static struct pd_server the_server = {.efd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};
static struct pd_server *server;

static void
reply(const char *peer, const struct pd_request *req, int err)
{
	struct rte_mp_msg msg;
	struct pd_response *resp = (struct pd_response *)msg.param;

	memset(&msg, 0, sizeof(msg));
	snprintf(msg.name, sizeof(msg.name), "%s", PDUMP_MP_NAME);
	msg.len_param = sizeof(*resp);
	resp->ver = req->ver;
	resp->res_op = req->op;
	resp->err_value = err;
	if (rte_mp_reply(&msg, peer) < 0)
		PD_LOG(WARNING, "cannot answer %s: %s", peer, rte_strerror(rte_errno));
}

/* EAL's IPC thread: queue the request for the control thread. */
static int
on_request(const struct rte_mp_msg *msg, const void *peer)
{
	struct pd_server *s = &the_server;
	struct pd_request req = {0};
	uint64_t one = 1;
	int err = 0;

	if (msg->len_param != sizeof(req)) {
		PD_LOG(ERR, "a capture request of %d bytes (not DPDK 22.11's pdump)",
		       msg->len_param);
		reply(peer, &req, -EINVAL);
		return 0;
	}
	memcpy(&req, msg->param, sizeof(req));
	req.device[sizeof(req.device) - 1] = '\0';
	pthread_mutex_lock(&s->lock);
	if (server == NULL) {
		err = -ENODEV;
	} else if (s->npending == PD_QUEUE) {
		err = -EBUSY;
	} else {
		struct pd_pending *p = &s->pending[s->npending++];

		p->req = req;
		snprintf(p->peer, sizeof(p->peer), "%s", (const char *)peer);
		if (write(s->efd, &one, sizeof(one)) != sizeof(one))
			PD_LOG(WARNING, "cannot wake the control thread: %s", strerror(errno));
	}
	pthread_mutex_unlock(&s->lock);
	if (err != 0)
		reply(peer, &req, err);
	return 0;
}

/* The tool's pid, from its IPC socket name (mp_socket_PID_TSC); 0 if not one. */
static int
peer_pid(const char *peer)
{
	const char *base = strrchr(peer, '/');
	int pid = 0;

	base = base != NULL ? base + 1 : peer;
	if (sscanf(base, "mp_socket_%d_", &pid) != 1 || pid <= 0)
		return 0;
	return pid;
}

/* The engine's port driving ethdev port @p device, or NULL. */
static struct vs_sw_port *
find_port(struct vs_switch *sw, const char *device)
{
	uint16_t eth;

	if (rte_eth_dev_get_port_by_name(device, &eth) != 0)
		return NULL;
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct vs_sw_port *sp = sw->ports[d];

		if (sp != NULL && !sp->removing && sp->info.is_ethdev &&
		    sp->info.ethdev_port == eth)
			return sp;
	}
	return NULL;
}

/* The tool's ring and pool take copies from several workers (as librte_pdump asks). */
static int
check_ring_mp(const struct pd_request *req)
{
	if (req->ring == NULL || req->mp == NULL)
		return -EINVAL;
	if ((req->mp->flags & (RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET)) != 0 ||
	    rte_ring_is_prod_single(req->ring))
		return -EINVAL;
	return 0;
}

/* Points the capture at the tool's counters for its port, zeroed. */
static void
attach_stats(struct pd_server *s, struct vs_capture *c, uint16_t eth)
{
	if (s->stats == NULL)
		return;
	memset(s->stats->rx[eth], 0, sizeof(s->stats->rx[eth]));
	memset(s->stats->tx[eth], 0, sizeof(s->stats->tx[eth]));
	c->stats[0] = s->stats->rx[eth];
	c->stats[1] = s->stats->tx[eth];
}

static int
enable(struct pd_server *s, const struct pd_request *req, int pid)
{
	struct vs_sw_port *sp = find_port(s->sw, req->device);
	unsigned int dir = req->flags & (RTE_PDUMP_FLAG_RX | RTE_PDUMP_FLAG_TX);
	struct vs_capture *c;
	int rc;

	if (sp == NULL) {
		PD_LOG(ERR, "no port drives ethdev '%.*s'", (int)sizeof(req->device), req->device);
		return -ENODEV;
	}
	if (dir == 0 || (req->ver != PD_V1 && req->ver != PD_V2) || check_ring_mp(req) != 0 ||
	    (req->queue != RTE_PDUMP_ALL_QUEUES && req->queue >= sp->info.max_queues))
		return -EINVAL;
	if (sp->capture != NULL) {
		PD_LOG(ERR, "port %s is being captured to %s already", sp->port->name,
		       sp->capture->path);
		return -EBUSY;
	}
	c = vs_capture_new();
	if (c == NULL)
		return -ENOMEM;
	c->ring = req->ring;
	c->mp = req->mp;
	c->peer_pid = pid > 0 ? pid : -1; /* not 0: the ring and pool are never ours */
	c->port = sp->info.ethdev_port;	  /* the tool's file describes ethdev ports */
	c->queue = req->queue == RTE_PDUMP_ALL_QUEUES ? VS_CAP_ALL_QUEUES : req->queue;
	c->dir = (uint8_t)((dir & RTE_PDUMP_FLAG_RX ? VS_CAP_RX : 0) |
			   (dir & RTE_PDUMP_FLAG_TX ? VS_CAP_TX : 0));
	c->format = req->ver == PD_V1 ? VS_CAP_MBUF : VS_CAP_PCAPNG;
	c->snaplen = req->snaplen != 0 ? req->snaplen : UINT32_MAX;
	/* dumpcap asks for pcapng (version 2), the older dpdk-pdump for plain copies. */
	snprintf(c->path, sizeof(c->path), "%s (pid %d)",
		 req->ver == PD_V1 ? "dpdk-pdump" : "dpdk-dumpcap", pid);
	if (req->prm != NULL) {
		c->filter = rte_bpf_load(req->prm);
		if (c->filter == NULL) {
			rc = -rte_errno;
			PD_LOG(ERR, "port %s: the capture filter does not load: %s", sp->port->name,
			       rte_strerror(rte_errno));
			vs_capture_free(c);
			return rc < 0 ? rc : -EINVAL;
		}
	}
	attach_stats(s, c, sp->info.ethdev_port);
	rc = vs_capture_publish(s->sw, sp, c);
	if (rc != 0) {
		vs_capture_free(c);
		return rc;
	}
	PD_LOG(INFO, "port %s: captured by %s", sp->port->name, c->path);
	return 0;
}

static int
disable(struct pd_server *s, const struct pd_request *req)
{
	struct vs_sw_port *sp = find_port(s->sw, req->device);

	if (sp == NULL || sp->capture == NULL || sp->capture->peer_pid == 0)
		return -EINVAL;
	/* Returns after the workers' grace period: the tool may free its ring then. */
	vs_capture_end(s->sw, sp, NULL);
	return 0;
}

static void arm_watch(struct pd_server *s);

/* Ends the captures of tools that exited without saying so (killed). */
static void
watch(void *arg)
{
	struct pd_server *s = arg;
	bool any = false;

	s->watch_timer = 0;
	for (unsigned int d = 0; d < VS_SWITCH_MAX_PORTS; d++) {
		struct vs_sw_port *sp = s->sw->ports[d];
		struct vs_capture *c = sp != NULL ? sp->capture : NULL;

		if (c == NULL || c->peer_pid <= 0)
			continue;
		if (kill(c->peer_pid, 0) != 0 && errno == ESRCH) {
			PD_LOG(WARNING, "port %s: %s is gone; capture ended", sp->port->name,
			       c->path);
			vs_capture_end(s->sw, sp, NULL);
			continue;
		}
		any = true;
	}
	if (any)
		arm_watch(s);
}

static void
arm_watch(struct pd_server *s)
{
	if (s->watch_timer <= 0)
		s->watch_timer = vs_evloop_add_timer(s->sw->loop, PD_WATCH_MS, watch, s);
}

/* The control thread: serve what the IPC thread queued. */
static void
on_wakeup(int fd, uint32_t events, void *arg)
{
	struct pd_server *s = arg;
	struct pd_pending todo[PD_QUEUE];
	unsigned int n;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		PD_LOG(WARNING, "eventfd: %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	n = s->npending;
	memcpy(todo, s->pending, n * sizeof(todo[0]));
	s->npending = 0;
	pthread_mutex_unlock(&s->lock);
	for (unsigned int i = 0; i < n; i++) {
		const struct pd_request *req = &todo[i].req;
		int pid = peer_pid(todo[i].peer), rc;

		if (req->op == PD_ENABLE)
			rc = enable(s, req, pid);
		else if (req->op == PD_DISABLE)
			rc = disable(s, req);
		else
			rc = -EINVAL;
		reply(todo[i].peer, req, rc);
	}
	arm_watch(s);
}

/* rte_pdump_init's counters, when their memzone has the layout this file knows. */
static struct pd_stats_zone *
find_stats(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup("rte_pdump_stats");

	if (mz == NULL || mz->len < sizeof(struct pd_stats_zone)) {
		PD_LOG(WARNING, "no pdump counters: dpdk-dumpcap will report none");
		return NULL;
	}
	return mz->addr;
}

int
vs_switch_pdump_init(struct vs_switch *sw)
{
	struct pd_server *s = &the_server;
	int rc;

	if (server != NULL)
		return -EEXIST;
	/* librte_pdump's counters (a memzone the tools read), then its IPC action is ours. */
	if (rte_pdump_init() != 0)
		return -rte_errno;
	rte_mp_action_unregister(PDUMP_MP_NAME);
	s->sw = sw;
	s->stats = find_stats();
	s->npending = 0;
	s->watch_timer = 0;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = vs_evloop_add_fd(sw->loop, s->efd, EPOLLIN, on_wakeup, s);
	if (rc != 0)
		goto fail;
	pthread_mutex_lock(&s->lock);
	server = s;
	pthread_mutex_unlock(&s->lock);
	if (rte_mp_action_register(PDUMP_MP_NAME, on_request) != 0) {
		rc = -rte_errno;
		vs_switch_pdump_fini(sw);
		return rc;
	}
	return 0;
fail:
	if (s->efd >= 0)
		close(s->efd);
	s->efd = -1;
	rte_pdump_uninit();
	return rc;
}

void
vs_switch_pdump_fini(struct vs_switch *sw)
{
	struct pd_server *s = &the_server;

	if (server == NULL || s->sw != sw)
		return;
	rte_mp_action_unregister(PDUMP_MP_NAME);
	pthread_mutex_lock(&s->lock);
	server = NULL;
	s->npending = 0; /* unanswered: the tools time out */
	vs_evloop_del_fd(sw->loop, s->efd);
	close(s->efd);
	s->efd = -1;
	pthread_mutex_unlock(&s->lock);
	if (s->watch_timer > 0)
		vs_evloop_cancel_timer(sw->loop, s->watch_timer);
	s->watch_timer = 0;
	rte_pdump_uninit();
}
