/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "ethdev": any DPDK ethdev (a NIC, net_vhost, net_tap,
 * net_af_packet, net_ring, ...), probed from its devargs.
 *
 *   ethdev,devargs=DEVARGS[,queues=N][,rxd=N][,txd=N]
 *
 * DEVARGS holds commas itself ("net_vhost0,iface=/s"); it may be quoted, or
 * written plainly: every key after devargs= that is not one of this type's
 * keys (nor the engine's: name, vlan, trunk) continues DEVARGS.
 *
 * Link changes: devices with link-status interrupts call back on DPDK's
 * interrupt thread; the callback only writes an eventfd that the control
 * thread's loop watches. Devices without them are polled once a second.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "vs_evloop.h"
#include "vs_port.h"

RTE_LOG_REGISTER(vs_ethdev_logtype, vswitch.ethdev, INFO);
#define ETH_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, vs_ethdev_logtype, "ethdev: " fmt "\n", ##__VA_ARGS__)

#define ETH_DEFAULT_DESC 1024
#define ETH_LINK_POLL_MS 1000
#define ETH_DEVARGS_LEN	 1024

struct vs_ethdev_port {
	struct vs_port base; /* first: the engine casts */
	uint16_t port_id;
	uint16_t nb_queues;
	bool probed;  /* we probed the device, so we detach it */
	bool claimed; /* port_id is ours in claimed[] */
	bool started;
	bool has_lsc;
	struct rte_device *dev;
	int lsc_fd;
	int64_t poll_timer;
	enum vs_port_link link;
	char devargs[ETH_DEVARGS_LEN];
};

static struct vs_ethdev_port *
to_eth(struct vs_port *port)
{
	return (struct vs_ethdev_port *)port;
}

static uint16_t
eth_rx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	return rte_eth_rx_burst(to_eth(port)->port_id, queue, pkts, nb);
}

static uint16_t
eth_tx_burst(struct vs_port *port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb)
{
	return rte_eth_tx_burst(to_eth(port)->port_id, queue, pkts, nb);
}

static enum vs_port_link
read_link(struct vs_ethdev_port *p)
{
	struct rte_eth_link link;

	if (!p->started || rte_eth_link_get_nowait(p->port_id, &link) != 0)
		return VS_PORT_LINK_DOWN;
	return link.link_status == RTE_ETH_LINK_UP ? VS_PORT_LINK_UP : VS_PORT_LINK_DOWN;
}

/* Control thread: tell the engine when the link changed. */
static void
check_link(struct vs_ethdev_port *p)
{
	enum vs_port_link now = read_link(p);

	if (now == p->link)
		return;
	p->link = now;
	ETH_LOG(INFO, "%s: link %s", p->base.name, now == VS_PORT_LINK_UP ? "up" : "down");
	if (p->base.env.state_changed != NULL)
		p->base.env.state_changed(&p->base, p->base.env.arg);
}

static void
lsc_fd_ready(int fd, uint32_t events, void *arg)
{
	uint64_t v;

	(void)events;
	while (read(fd, &v, sizeof(v)) > 0)
		;
	check_link(arg);
}

/* DPDK's interrupt thread (or the vhost socket thread for net_vhost). */
static int
lsc_event(uint16_t port_id, enum rte_eth_event_type type, void *arg, void *ret_param)
{
	struct vs_ethdev_port *p = arg;
	uint64_t one = 1;
	ssize_t rc;

	(void)port_id;
	(void)type;
	(void)ret_param;
	rc = write(p->lsc_fd, &one, sizeof(one));
	(void)rc;
	return 0;
}

static void
link_poll(void *arg)
{
	struct vs_ethdev_port *p = arg;

	p->poll_timer = 0;
	check_link(p);
	if (p->started && p->base.env.loop != NULL)
		p->poll_timer =
			vs_evloop_add_timer(p->base.env.loop, ETH_LINK_POLL_MS, link_poll, p);
}

static int
eth_start(struct vs_port *port)
{
	struct vs_ethdev_port *p = to_eth(port);
	int rc;

	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0) {
		ETH_LOG(ERR, "%s: cannot start %s: %s", port->name, p->devargs, rte_strerror(-rc));
		return rc;
	}
	p->started = true;
	rc = rte_eth_dev_set_link_up(p->port_id);
	if (rc != 0 && rc != -ENOTSUP)
		ETH_LOG(DEBUG, "%s: set link up: %s", port->name, rte_strerror(-rc));
	p->link = read_link(p);
	if (!p->has_lsc && port->env.loop != NULL)
		p->poll_timer = vs_evloop_add_timer(port->env.loop, ETH_LINK_POLL_MS, link_poll, p);
	return 0;
}

static void
eth_stop(struct vs_port *port)
{
	struct vs_ethdev_port *p = to_eth(port);
	int rc;

	if (p->poll_timer > 0) {
		vs_evloop_cancel_timer(port->env.loop, p->poll_timer);
		p->poll_timer = 0;
	}
	if (!p->started)
		return;
	/* The peer (a NIC's link partner, a VM on net_vhost) sees the link go. */
	rc = rte_eth_dev_set_link_down(p->port_id);
	if (rc != 0 && rc != -ENOTSUP)
		ETH_LOG(DEBUG, "%s: set link down: %s", port->name, rte_strerror(-rc));
	rc = rte_eth_dev_stop(p->port_id);
	if (rc != 0)
		ETH_LOG(WARNING, "%s: stop: %s", port->name, rte_strerror(-rc));
	p->started = false;
	p->link = VS_PORT_LINK_DOWN;
}

static void
eth_info_get(struct vs_port *port, struct vs_port_info *info)
{
	struct vs_ethdev_port *p = to_eth(port);
	uint16_t mtu = 0;

	memset(info, 0, sizeof(*info));
	info->type = "ethdev";
	info->max_queues = p->nb_queues;
	info->nb_rxq = p->started ? p->nb_queues : 0;
	info->nb_txq = info->nb_rxq;
	info->link = read_link(p);
	if (rte_eth_dev_get_mtu(p->port_id, &mtu) == 0)
		info->mtu = mtu;
	snprintf(info->detail, sizeof(info->detail), "%.*s", (int)sizeof(info->detail) - 1,
		 p->devargs);
	info->is_ethdev = true;
	info->ethdev_port = p->port_id;
}

static void
eth_stats_get(struct vs_port *port, struct vs_port_stats *stats)
{
	struct vs_ethdev_port *p = to_eth(port);
	struct rte_eth_stats s;
	unsigned int nq = p->nb_queues;

	memset(stats, 0, sizeof(*stats));
	if (rte_eth_stats_get(p->port_id, &s) != 0)
		return;
	if (nq > RTE_ETHDEV_QUEUE_STAT_CNTRS)
		nq = RTE_ETHDEV_QUEUE_STAT_CNTRS;
	for (unsigned int q = 0; q < nq; q++) {
		stats->rx[q].packets = s.q_ipackets[q];
		stats->rx[q].bytes = s.q_ibytes[q];
		stats->rx[q].errors = s.q_errors[q];
		stats->tx[q].packets = s.q_opackets[q];
		stats->tx[q].bytes = s.q_obytes[q];
	}
	/* Device-wide counters have no queue: account them to queue 0. */
	stats->rx[0].drops += s.imissed + s.rx_nombuf;
	stats->rx[0].errors += s.ierrors;
	stats->tx[0].errors += s.oerrors;
	/* The device's own drops carry no reason but "no mbuf". */
	stats->rx[0].drop[VS_DROP_NO_MBUF] += s.rx_nombuf;
	stats->rx[0].drop[VS_DROP_OTHER] += s.imissed + s.ierrors;
	stats->tx[0].drop[VS_DROP_OTHER] += s.oerrors;
}

static void
eth_stats_reset(struct vs_port *port)
{
	rte_eth_stats_reset(to_eth(port)->port_id);
}

/*
 * The ethdev ports that vswitch ports drive (control thread only). Not
 * ethdev ownership (rte_eth_dev_owner_set): an owned port is hidden from
 * every RTE_ETH_FOREACH_DEV, in secondary processes too, and dpdk-dumpcap,
 * dpdk-proc-info and telemetry's /ethdev/list then see no port at all.
 */
static bool claimed[RTE_MAX_ETHPORTS];

static void
release(struct vs_ethdev_port *p)
{
	if (p->lsc_fd >= 0) {
		/* -EAGAIN: the callback is running on the interrupt thread now. */
		while (rte_eth_dev_callback_unregister(p->port_id, RTE_ETH_EVENT_INTR_LSC,
						       lsc_event, p) == -EAGAIN)
			rte_pause();
		if (p->base.env.loop != NULL)
			vs_evloop_del_fd(p->base.env.loop, p->lsc_fd);
		close(p->lsc_fd);
		p->lsc_fd = -1;
	}
	if (p->probed) {
		int rc = rte_eth_dev_close(p->port_id);

		if (rc != 0)
			ETH_LOG(WARNING, "close %s: %s", p->devargs, rte_strerror(-rc));
		if (p->dev != NULL) {
			rc = rte_dev_remove(p->dev);
			if (rc != 0)
				ETH_LOG(WARNING, "detach %s: %s", p->devargs, rte_strerror(-rc));
		}
	}
	if (p->claimed)
		claimed[p->port_id] = false;
	rte_free(p);
}

static void
eth_destroy(struct vs_port *port)
{
	eth_stop(port);
	release(to_eth(port));
}

static const struct vs_port_ops eth_ops = {
	.rx_burst = eth_rx_burst,
	.tx_burst = eth_tx_burst,
	.start = eth_start,
	.stop = eth_stop,
	.info_get = eth_info_get,
	.stats_get = eth_stats_get,
	.stats_reset = eth_stats_reset,
	.destroy = eth_destroy,
};

static bool
is_own_key(const char *key)
{
	return strcmp(key, "queues") == 0 || strcmp(key, "rxd") == 0 || strcmp(key, "txd") == 0;
}

/* Collects DEVARGS: the devargs value plus the unclaimed keys after it. */
static int
collect_devargs(struct vs_port_spec *spec, char *out, size_t len, char *err, size_t errlen)
{
	unsigned int i;
	size_t n;

	for (i = 0; i < spec->nkv; i++)
		if (strcmp(spec->kv[i].key, "devargs") == 0)
			break;
	if (i == spec->nkv) {
		snprintf(err, errlen, "port type 'ethdev' needs devargs=DEVARGS");
		return -EINVAL;
	}
	spec->kv[i].used = 1;
	n = (size_t)snprintf(out, len, "%s", spec->kv[i].value);
	for (i++; i < spec->nkv && n < len; i++) {
		if (spec->kv[i].used || is_own_key(spec->kv[i].key))
			continue;
		spec->kv[i].used = 1;
		n += (size_t)snprintf(out + n, len - n, ",%s=%s", spec->kv[i].key,
				      spec->kv[i].value);
	}
	if (n >= len) {
		snprintf(err, errlen, "devargs longer than %zu characters", len - 1);
		return -EINVAL;
	}
	return 0;
}

/*
 * Probes the device named by p->devargs, or finds it when it exists already
 * (given to EAL with --vdev or -a, or made by the application), and sets
 * port_id. rte_dev_probe() answers 0 for an existing device too (and would
 * replace its devargs), so existence is checked first, by name.
 */
static int
attach(struct vs_ethdev_port *p, char *err, size_t errlen)
{
	struct rte_devargs da;
	int rc;

	memset(&da, 0, sizeof(da));
	rc = rte_devargs_parse(&da, p->devargs);
	if (rc != 0) {
		snprintf(err, errlen, "devargs '%s': no bus knows this device", p->devargs);
		return -EINVAL;
	}
	if (rte_eth_dev_get_port_by_name(da.name, &p->port_id) == 0) {
		rte_devargs_reset(&da);
		return 0;
	}
	rc = rte_dev_probe(p->devargs);
	if (rc != 0) {
		snprintf(err, errlen, "devargs '%s': probe failed: %s", p->devargs,
			 rte_strerror(-rc));
		rte_devargs_reset(&da);
		return rc;
	}
	p->probed = true;
	rc = rte_eth_dev_get_port_by_name(da.name, &p->port_id);
	if (rc != 0) {
		/* Some devices name their ports differently from the device. */
		struct rte_dev_iterator it;
		uint16_t id;
		bool found = false;

		RTE_ETH_FOREACH_MATCHING_DEV(id, p->devargs, &it)
		{
			if (!found) {
				p->port_id = id;
				found = true;
			}
		}
		if (!found) {
			snprintf(err, errlen, "devargs '%s': device %s has no ethdev port",
				 p->devargs, da.name);
			rte_devargs_reset(&da);
			return -ENODEV;
		}
	}
	rte_devargs_reset(&da);
	/* Kept for detaching: the device outlives rte_eth_dev_close(). */
	{
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(p->port_id, &info) == 0)
			p->dev = info.device;
	}
	return 0;
}

/* One vswitch port per ethdev port. */
static int
claim(struct vs_ethdev_port *p, char *err, size_t errlen)
{
	if (claimed[p->port_id]) {
		snprintf(err, errlen, "devargs '%s': ethdev port %u is in use by another port",
			 p->devargs, p->port_id);
		return -EBUSY;
	}
	claimed[p->port_id] = true;
	p->claimed = true;
	return 0;
}

static int
setup_queues(struct vs_ethdev_port *p, const struct vs_port_env *env, uint16_t rxd, uint16_t txd,
	     char *err, size_t errlen)
{
	int socket = rte_eth_dev_socket_id(p->port_id);
	int rc;

	if (socket < 0)
		socket = env->socket_id;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	if (rc != 0)
		goto fail;
	for (uint16_t q = 0; q < p->nb_queues; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, rxd, (unsigned int)socket, NULL,
					    env->mp);
		if (rc != 0)
			goto fail;
		rc = rte_eth_tx_queue_setup(p->port_id, q, txd, (unsigned int)socket, NULL);
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "devargs '%s': queue set-up failed: %s", p->devargs,
		 rte_strerror(-rc));
	return rc;
}

static int
configure(struct vs_ethdev_port *p, const struct vs_port_env *env, uint16_t rxd, uint16_t txd,
	  char *err, size_t errlen)
{
	struct rte_eth_dev_info dev_info;
	struct rte_eth_conf conf;
	int rc;

	rc = rte_eth_dev_info_get(p->port_id, &dev_info);
	if (rc != 0) {
		snprintf(err, errlen, "devargs '%s': no device info: %s", p->devargs,
			 rte_strerror(-rc));
		return rc;
	}
	if (p->nb_queues > dev_info.max_rx_queues || p->nb_queues > dev_info.max_tx_queues) {
		snprintf(err, errlen,
			 "queues=%u but device %s supports at most %u (for net_vhost, also put "
			 "queues=N in its devargs)",
			 p->nb_queues, rte_dev_name(dev_info.device),
			 RTE_MIN(dev_info.max_rx_queues, dev_info.max_tx_queues));
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	p->has_lsc = (*dev_info.dev_flags & RTE_ETH_DEV_INTR_LSC) != 0;
	conf.intr_conf.lsc = p->has_lsc && env->loop != NULL;
	rc = rte_eth_dev_configure(p->port_id, p->nb_queues, p->nb_queues, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "devargs '%s': configure failed: %s", p->devargs,
			 rte_strerror(-rc));
		return rc;
	}
	rc = setup_queues(p, env, rxd, txd, err, errlen);
	if (rc != 0)
		return rc;
	/* A switch port takes every frame, whatever its destination. */
	rc = rte_eth_promiscuous_enable(p->port_id);
	if (rc != 0 && rc != -ENOTSUP)
		ETH_LOG(WARNING, "%s: promiscuous mode: %s", p->devargs, rte_strerror(-rc));
	rc = rte_eth_allmulticast_enable(p->port_id);
	if (rc != 0 && rc != -ENOTSUP)
		ETH_LOG(DEBUG, "%s: all-multicast: %s", p->devargs, rte_strerror(-rc));
	return 0;
}

static int
watch_link(struct vs_ethdev_port *p, const struct vs_port_env *env, char *err, size_t errlen)
{
	int rc;

	if (!p->has_lsc || env->loop == NULL)
		return 0;
	p->lsc_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->lsc_fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = vs_evloop_add_fd(env->loop, p->lsc_fd, EPOLLIN, lsc_fd_ready, p);
	if (rc != 0) {
		close(p->lsc_fd);
		p->lsc_fd = -1;
		goto fail;
	}
	rc = rte_eth_dev_callback_register(p->port_id, RTE_ETH_EVENT_INTR_LSC, lsc_event, p);
	if (rc != 0) {
		vs_evloop_del_fd(env->loop, p->lsc_fd);
		close(p->lsc_fd);
		p->lsc_fd = -1;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "devargs '%s': cannot watch the link: %s", p->devargs, strerror(-rc));
	return rc;
}

static struct vs_port *
eth_create(const char *name, struct vs_port_spec *spec, const struct vs_port_env *env, char *err,
	   size_t errlen)
{
	struct vs_ethdev_port *p;
	uint64_t queues, rxd, txd;

	if (env->mp == NULL) {
		snprintf(err, errlen, "port type 'ethdev' needs an mbuf pool");
		return NULL;
	}
	if (vs_port_spec_get_uint(spec, "queues", 1, VS_PORT_MAX_QUEUES, 1, &queues, err, errlen) !=
		    0 ||
	    vs_port_spec_get_uint(spec, "rxd", 16, 16384, ETH_DEFAULT_DESC, &rxd, err, errlen) !=
		    0 ||
	    vs_port_spec_get_uint(spec, "txd", 16, 16384, ETH_DEFAULT_DESC, &txd, err, errlen) != 0)
		return NULL;
	p = rte_zmalloc_socket("vs_ethdev_port", sizeof(*p), RTE_CACHE_LINE_SIZE, env->socket_id);
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->base.ops = &eth_ops;
	p->base.env = *env;
	snprintf(p->base.name, sizeof(p->base.name), "%s", name);
	p->lsc_fd = -1;
	p->nb_queues = (uint16_t)queues;
	if (collect_devargs(spec, p->devargs, sizeof(p->devargs), err, errlen) != 0) {
		rte_free(p);
		return NULL;
	}
	if (attach(p, err, errlen) != 0) {
		rte_free(p);
		return NULL;
	}
	if (claim(p, err, errlen) != 0 ||
	    configure(p, env, (uint16_t)rxd, (uint16_t)txd, err, errlen) != 0 ||
	    watch_link(p, env, err, errlen) != 0) {
		release(p);
		return NULL;
	}
	ETH_LOG(INFO, "%s: ethdev port %u (%s), %u queue(s)", name, p->port_id, p->devargs,
		p->nb_queues);
	return &p->base;
}

static struct vs_port_type eth_type = {
	.name = "ethdev",
	.usage = "ethdev,devargs=DEVARGS[,queues=N][,rxd=N][,txd=N]",
	.create = eth_create,
};
VS_PORT_TYPE_REGISTER(eth_type)
