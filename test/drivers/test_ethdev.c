/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "ethdev" over real DPDK PMDs: net_null (probed and detached
 * through its devargs) and net_ring (made with rte_eth_from_rings, so the
 * test can drive its link).
 */
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vs_port.h"

static struct rte_mempool *
test_pool(void)
{
	static struct rte_mempool *mp;

	if (mp == NULL)
		mp = rte_pktmbuf_pool_create("t_eth_mp", 4095, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
	return mp;
}

#define NEED_EAL()                                                                                 \
	do {                                                                                       \
		char why_[256];                                                                    \
		if (vt_eal_init("switch", why_, sizeof(why_)) != 0)                                \
			TEST_SKIP("%s", why_);                                                     \
		TEST_ASSERT_NOT_NULL(test_pool(), "mbuf pool");                                    \
	} while (0)

static struct vs_port *
make_port(const char *name, const char *text, struct vs_port_env *env, char *err, size_t len)
{
	struct vs_port_spec spec;

	if (vs_port_spec_parse(text, &spec, err, len) != 0)
		return NULL;
	return vs_port_create(name, &spec, env, err, len);
}

static int
test_ethdev_port_probes_runs_and_detaches(void)
{
	struct vs_port_env env = {0};
	struct rte_mbuf *pkts[32];
	struct vs_port_stats st;
	struct vs_port_info info;
	struct vs_port *port;
	uint16_t id, n, sent;
	char err[256];

	NEED_EAL();
	env.mp = test_pool();
	env.socket_id = SOCKET_ID_ANY;
	for (int round = 0; round < 2; round++) {
		/* Unquoted devargs: size=128 belongs to net_null. */
		port = make_port("n0", "ethdev,devargs=net_null7,size=128,queues=2", &env, err,
				 sizeof(err));
		TEST_ASSERT_NOT_NULL(port, "round %d: %s", round, err);
		TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name("net_null7", &id), "probed");
		port->ops->info_get(port, &info);
		TEST_ASSERT(strcmp(info.type, "ethdev") == 0, "type");
		TEST_ASSERT_EQUAL(info.max_queues, 2, "queues");
		TEST_ASSERT_EQUAL(info.nb_rxq, 0, "no usable queue before start");
		TEST_ASSERT(strcmp(info.detail, "net_null7,size=128") == 0, "detail '%s'",
			    info.detail);
		TEST_ASSERT_SUCCESS(port->ops->start(port), "start");
		port->ops->info_get(port, &info);
		TEST_ASSERT_EQUAL(info.nb_rxq, 2, "rx queues");
		TEST_ASSERT_EQUAL(info.nb_txq, 2, "tx queues");
		TEST_ASSERT_EQUAL(info.link, VS_PORT_LINK_UP, "net_null's link is up");
		n = vs_port_rx_burst(port, 1, pkts, 32);
		TEST_ASSERT_EQUAL(n, 32, "net_null fills a burst");
		TEST_ASSERT_EQUAL(rte_pktmbuf_pkt_len(pkts[0]), 128, "size=128 reached the PMD");
		sent = vs_port_tx_burst(port, 0, pkts, n);
		TEST_ASSERT_EQUAL(sent, n, "net_null takes them all");
		port->ops->stats_get(port, &st);
		TEST_ASSERT_EQUAL(st.rx[1].packets, 32, "rx on queue 1");
		TEST_ASSERT_EQUAL(st.tx[0].packets, 32, "tx on queue 0");
		port->ops->stats_reset(port);
		port->ops->stats_get(port, &st);
		TEST_ASSERT_EQUAL(st.rx[1].packets, 0, "reset");
		port->ops->stop(port);
		port->ops->destroy(port);
		TEST_ASSERT(rte_eth_dev_get_port_by_name("net_null7", &id) != 0, "detached");
	}
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(test_pool()), 0, "every mbuf came back");
	return TEST_SUCCESS;
}
REGISTER_TEST(ethdev_port_probes_runs_and_detaches, fast, test_ethdev_port_probes_runs_and_detaches)

static int
test_ethdev_port_rejects_bad_specs(void)
{
	static const struct {
		const char *spec;
		const char *why;
	} bad[] = {
		{"ethdev", "needs devargs"},
		{"ethdev,queues=2", "needs devargs"},
		{"ethdev,devargs=net_null8,queues=0", "key 'queues'"},
		{"ethdev,devargs=net_null8,queues=9", "key 'queues'"},
		{"ethdev,devargs=net_null8,rxd=1", "key 'rxd'"},
		{"ethdev,devargs=net_nosuchpmd0", "devargs 'net_nosuchpmd0'"},
		{"ethdev,devargs=net_null8,bogus=1", "probe failed"},
	};
	struct vs_port_env env = {0};
	struct vs_port *a, *b;
	uint16_t id;
	char err[256];

	NEED_EAL();
	env.mp = test_pool();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		TEST_ASSERT(make_port("x", bad[i].spec, &env, err, sizeof(err)) == NULL, "'%s'",
			    bad[i].spec);
		TEST_ASSERT(strstr(err, bad[i].why) != NULL, "'%s': '%s' lacks '%s'", bad[i].spec,
			    err, bad[i].why);
		TEST_ASSERT(rte_eth_dev_get_port_by_name("net_null8", &id) != 0,
			    "'%s' left no device behind", bad[i].spec);
	}
	/* The same device cannot back two ports. */
	a = make_port("a", "ethdev,devargs=net_null8", &env, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(a, "%s", err);
	b = make_port("b", "ethdev,devargs=net_null8", &env, err, sizeof(err));
	TEST_ASSERT(b == NULL, "second port on one device");
	TEST_ASSERT(strstr(err, "in use") != NULL, "%s", err);
	/* Not ethdev-owned: secondary processes (dpdk-dumpcap) list the port. */
	{
		struct rte_eth_dev_owner owner;

		TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name("net_null8", &id), "port id");
		TEST_ASSERT_SUCCESS(rte_eth_dev_owner_get(id, &owner), "owner");
		TEST_ASSERT_EQUAL(owner.id, RTE_ETH_DEV_NO_OWNER, "no owner: %s", owner.name);
	}
	a->ops->destroy(a);
	TEST_ASSERT(rte_eth_dev_get_port_by_name("net_null8", &id) != 0, "detached");
	/* Its destruction released the device: a new port may take it. */
	a = make_port("a", "ethdev,devargs=net_null8", &env, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(a, "again: %s", err);
	a->ops->destroy(a);
	/* Without an mbuf pool nothing can be received. */
	env.mp = NULL;
	TEST_ASSERT(make_port("c", "ethdev,devargs=net_null8", &env, err, sizeof(err)) == NULL,
		    "no pool");
	return TEST_SUCCESS;
}
REGISTER_TEST(ethdev_port_rejects_bad_specs, fast, test_ethdev_port_rejects_bad_specs)

struct changes {
	int calls;
	struct vs_port *port;
};

static void
on_state_changed(struct vs_port *port, void *arg)
{
	struct changes *c = arg;

	c->calls++;
	c->port = port;
}

static int
wait_calls(struct vs_evloop *loop, struct changes *c, int want, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while (c->calls < want && vt_now_ms() < end)
		vs_evloop_run_once(loop, 100);
	return c->calls;
}

/*
 * A device already created by the application (a ring pair) is used, not
 * detached; its link, which has no interrupt, is polled: set down behind
 * the driver's back, the engine is told.
 */
static int
test_ethdev_port_polls_link_of_existing_device(void)
{
	struct vs_port_env env = {0};
	struct changes ch = {0};
	struct rte_ring *rx, *tx;
	struct vs_port_info info;
	struct rte_mbuf *m, *got[4];
	struct vs_evloop *loop;
	struct vs_port *port;
	uint16_t id;
	char err[256];
	int rc;

	NEED_EAL();
	loop = vs_evloop_create();
	TEST_ASSERT_NOT_NULL(loop, "loop");
	rx = rte_ring_create("t_eth_rx", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	tx = rte_ring_create("t_eth_tx", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	TEST_ASSERT(rx != NULL && tx != NULL, "rings");
	rc = rte_eth_from_rings("t0", &rx, 1, &tx, 1, SOCKET_ID_ANY);
	TEST_ASSERT(rc >= 0, "rte_eth_from_rings: %d", rc);
	env.mp = test_pool();
	env.loop = loop;
	env.state_changed = on_state_changed;
	env.arg = &ch;
	port = make_port("r0", "ethdev,devargs=net_ring_t0,queues=2", &env, err, sizeof(err));
	TEST_ASSERT(port == NULL && strstr(err, "at most 1") != NULL, "one ring, one queue: %s",
		    err);
	port = make_port("r0", "ethdev,devargs=net_ring_t0", &env, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s", err);
	TEST_ASSERT_SUCCESS(port->ops->start(port), "start");
	port->ops->info_get(port, &info);
	TEST_ASSERT_EQUAL(info.link, VS_PORT_LINK_UP, "ring link up after start");
	/* Packets pass both ways through the rings. */
	m = rte_pktmbuf_alloc(test_pool());
	TEST_ASSERT_NOT_NULL(m, "alloc");
	rte_pktmbuf_append(m, 60);
	TEST_ASSERT_EQUAL(rte_ring_enqueue(rx, m), 0, "inject");
	TEST_ASSERT_EQUAL(vs_port_rx_burst(port, 0, got, 4), 1, "received");
	TEST_ASSERT_EQUAL(vs_port_tx_burst(port, 0, got, 1), 1, "sent");
	TEST_ASSERT_EQUAL(rte_ring_dequeue(tx, (void **)&m), 0, "out on the tx ring");
	rte_pktmbuf_free(m);

	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name("net_ring_t0", &id), "port id");
	TEST_ASSERT_SUCCESS(rte_eth_dev_set_link_down(id), "link down behind its back");
	TEST_ASSERT_EQUAL(wait_calls(loop, &ch, 1, 5000), 1, "state_changed within the poll");
	TEST_ASSERT(ch.port == port, "for this port");
	port->ops->info_get(port, &info);
	TEST_ASSERT_EQUAL(info.link, VS_PORT_LINK_DOWN, "down");
	TEST_ASSERT_SUCCESS(rte_eth_dev_set_link_up(id), "up again");
	TEST_ASSERT_EQUAL(wait_calls(loop, &ch, 2, 5000), 2, "told again");
	port->ops->stop(port);
	port->ops->destroy(port);
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name("net_ring_t0", &id), "not ours to detach");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1200), 0, "no timer left behind");
	/* It can be taken again, now that the first port released it. */
	port = make_port("r1", "ethdev,devargs=net_ring_t0", &env, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s", err);
	port->ops->destroy(port);
	rte_eth_dev_close(id);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(ethdev_port_polls_link_of_existing_device, fast, test_ethdev_port_polls_link_of_existing_device)
/* clang-format on */
