/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_malloc.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vt_switch.h"

static unsigned int seq; /* unique names within one process */

int
vt_sw_init(struct vt_sw *t, unsigned int nb_workers, uint32_t fdb_size, char *why, size_t len)
{
	struct vs_switch_config cfg = {0};
	char name[32];
	int rc;

	memset(t, 0, sizeof(*t));
	rc = vt_eal_init("switch", why, len);
	if (rc != 0)
		return rc;
	t->loop = vs_evloop_create();
	if (t->loop == NULL) {
		snprintf(why, len, "vs_evloop_create failed");
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "t%u", seq++);
	cfg.loop = t->loop;
	cfg.name = name;
	cfg.fdb_size = fdb_size;
	cfg.fdb_aging = 10;
	cfg.nb_mbufs = 4095;
	cfg.tx_retries = 2;
	cfg.manual = true;
	cfg.nb_workers = nb_workers;
	t->sw = vs_switch_create(&cfg, why, len);
	if (t->sw == NULL) {
		vs_evloop_destroy(t->loop);
		return -EINVAL;
	}
	return 0;
}

int
vt_sw_add_ring_port(struct vt_sw *t, const char *keys, unsigned int tx_size)
{
	unsigned int i = t->nports;
	char name[32], spec[160], err[256];
	int rc;

	if (i >= 16)
		return -ENOSPC;
	snprintf(name, sizeof(name), "vt%u_%u", seq++, i);
	t->in[i] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	name[0] = 'w';
	t->out[i] = rte_ring_create(name, tx_size != 0 ? tx_size : 1024, SOCKET_ID_ANY,
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (t->in[i] == NULL || t->out[i] == NULL)
		return -ENOMEM;
	name[0] = 'e';
	rc = rte_eth_from_rings(name, &t->in[i], 1, &t->out[i], 1, SOCKET_ID_ANY);
	if (rc < 0)
		return -ENODEV;
	t->eth_id[i] = (uint16_t)rc;
	snprintf(spec, sizeof(spec), "ethdev,devargs=net_ring_%s,name=p%u%s%s", name, i,
		 keys != NULL ? "," : "", keys != NULL ? keys : "");
	rc = vs_switch_add_port(t->sw, spec, err, sizeof(err));
	if (rc < 0) {
		printf("add-port %s: %s\n", spec, err);
		return rc;
	}
	t->port_id[i] = rc;
	t->nports++;
	return 0;
}

unsigned int
vt_sw_run(struct vt_sw *t)
{
	unsigned int total = 0, moved;

	do {
		moved = 0;
		for (unsigned int w = 0; w < vs_switch_nb_workers(t->sw); w++)
			moved += vs_switch_poll(t->sw, w);
		total += moved;
	} while (moved > 0);
	return total;
}

unsigned int
vt_sw_drain(struct vt_sw *t)
{
	unsigned int n = 0;
	struct rte_mbuf *m;

	for (unsigned int i = 0; i < t->nports; i++) {
		while (t->out[i] != NULL && vt_sw_take(t, i, &m) == 0) {
			rte_pktmbuf_free(m);
			n++;
		}
	}
	return n;
}

void
vt_sw_fini(struct vt_sw *t)
{
	vt_sw_drain(t);
	vs_switch_destroy(t->sw);
	for (unsigned int i = 0; i < t->nports; i++) {
		struct rte_mbuf *left[32];
		unsigned int n;

		rte_eth_dev_close(t->eth_id[i]);
		while (t->in[i] != NULL && (n = rte_ring_dequeue_burst(t->in[i], (void **)left,
								       RTE_DIM(left), NULL)) > 0)
			rte_pktmbuf_free_bulk(left, n);
		rte_ring_free(t->in[i]);
		rte_ring_free(t->out[i]);
	}
	vs_evloop_destroy(t->loop);
	memset(t, 0, sizeof(*t));
}

struct vs_switch_port_counters
vt_sw_counters(struct vt_sw *t, unsigned int i)
{
	struct vs_switch_port_view v;

	memset(&v, 0, sizeof(v));
	vs_switch_port_view(t->sw, (uint16_t)t->port_id[i], &v);
	return v.counters;
}

struct vs_switch *
vt_sw_live(const char *name, struct vs_evloop **loop, bool *skip, char *why, size_t len)
{
	struct vs_switch_config cfg = {0};
	struct vs_switch *sw;

	*skip = true;
	*loop = NULL;
	if (vt_eal_init("switch", why, len) != 0)
		return NULL;
	if (rte_lcore_count() < 3) {
		snprintf(why, len, "needs two worker lcores");
		return NULL;
	}
	*skip = false;
	*loop = vs_evloop_create();
	if (*loop == NULL) {
		snprintf(why, len, "event loop: %s", strerror(errno));
		return NULL;
	}
	cfg.loop = *loop;
	cfg.name = name;
	cfg.nb_mbufs = 8191;
	cfg.tx_retries = 2;
	cfg.fdb_aging = 300;
	sw = vs_switch_create(&cfg, why, len);
	if (sw == NULL) {
		vs_evloop_destroy(*loop);
		*loop = NULL;
	}
	return sw;
}

struct rte_mbuf *
vt_frame(struct rte_mempool *mp, const uint8_t dst[6], const uint8_t src[6], uint16_t vid,
	 uint16_t len, uint8_t seed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p;
	size_t off = 12;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	if (vid != 0) {
		p[off++] = 0x81;
		p[off++] = 0x00;
		p[off++] = (uint8_t)(vid >> 8);
		p[off++] = (uint8_t)vid;
	}
	p[off++] = 0x88; /* a local experimental ethertype */
	p[off++] = 0xb5;
	for (size_t i = off; i < len; i++)
		p[i] = (uint8_t)(seed + i);
	return m;
}

int
vt_sw_send(struct vt_sw *t, unsigned int i, const uint8_t dst[6], const uint8_t src[6],
	   uint16_t vid, unsigned int count)
{
	for (unsigned int c = 0; c < count; c++) {
		struct rte_mbuf *m =
			vt_frame(vs_switch_mempool(t->sw), dst, src, vid, 64, (uint8_t)c);

		if (m == NULL || rte_ring_enqueue(t->in[i], m) != 0) {
			rte_pktmbuf_free(m);
			return -1;
		}
	}
	return 0;
}

unsigned int
vt_sw_pending(struct vt_sw *t, unsigned int i)
{
	return rte_ring_count(t->out[i]);
}

int
vt_sw_take(struct vt_sw *t, unsigned int i, struct rte_mbuf **m)
{
	return rte_ring_dequeue(t->out[i], (void **)m) == 0 ? 0 : -1;
}

/* ---- testq ---- */

struct testq_port {
	struct vs_port base;
	uint16_t max_queues;
	uint16_t nb; /* usable queues now (atomic) */
	bool up;
	uint16_t gen;
	uint32_t busy_rx[VS_PORT_MAX_QUEUES];
	uint32_t busy_tx[VS_PORT_MAX_QUEUES];
	struct vt_testq_stats st;
	struct testq_port *next;
};

static struct testq_port *testq_list;

static bool
enter(uint32_t *flag, struct testq_port *p)
{
	uint32_t zero = 0;

	if (!__atomic_compare_exchange_n(flag, &zero, 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		__atomic_fetch_add(&p->st.violations, 1, __ATOMIC_RELAXED);
		return false;
	}
	return true;
}

static uint16_t
testq_rx(struct vs_port *port, uint16_t q, struct rte_mbuf **pkts, uint16_t nb)
{
	struct testq_port *p = (struct testq_port *)port;
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t src[6] = {0x02, 0, 0, 0, (uint8_t)port->id, 0x01};
	uint16_t n = 0;

	if (q >= __atomic_load_n(&p->nb, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&p->st.not_ready, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (!enter(&p->busy_rx[q], p))
		return 0;
	for (; n < p->gen && n < nb; n++) {
		pkts[n] = vt_frame(port->env.mp, bcast, src, 0, 60, (uint8_t)n);
		if (pkts[n] == NULL)
			break;
	}
	__atomic_fetch_add(&p->st.generated[q], n, __ATOMIC_RELAXED);
	__atomic_store_n(&p->busy_rx[q], 0, __ATOMIC_RELEASE);
	return n;
}

static uint16_t
testq_tx(struct vs_port *port, uint16_t q, struct rte_mbuf **pkts, uint16_t nb)
{
	struct testq_port *p = (struct testq_port *)port;

	if (q >= __atomic_load_n(&p->nb, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&p->st.not_ready, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (!enter(&p->busy_tx[q], p))
		return 0;
	for (uint16_t i = 0; i < nb; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(pkts[i], const uint8_t *);

		__atomic_fetch_add(&p->st.received_from[f[10] & 15], 1, __ATOMIC_RELAXED);
		rte_pktmbuf_free(pkts[i]);
	}
	__atomic_fetch_add(&p->st.received, nb, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->st.received_on[q], nb, __ATOMIC_RELAXED);
	__atomic_store_n(&p->busy_tx[q], 0, __ATOMIC_RELEASE);
	return nb;
}

static int
testq_start(struct vs_port *port)
{
	(void)port;
	return 0;
}

static void
testq_stop(struct vs_port *port)
{
	((struct testq_port *)port)->up = false;
}

static void
testq_info(struct vs_port *port, struct vs_port_info *info)
{
	struct testq_port *p = (struct testq_port *)port;

	memset(info, 0, sizeof(*info));
	info->type = "testq";
	info->max_queues = p->max_queues;
	info->nb_rxq = __atomic_load_n(&p->nb, __ATOMIC_ACQUIRE);
	info->nb_txq = info->nb_rxq;
	info->link = p->up ? VS_PORT_LINK_UP : VS_PORT_LINK_DOWN;
}

static void
testq_stats_get(struct vs_port *port, struct vs_port_stats *stats)
{
	(void)port;
	memset(stats, 0, sizeof(*stats));
}

static void
testq_stats_reset(struct vs_port *port)
{
	(void)port;
}

static void
testq_destroy(struct vs_port *port)
{
	struct testq_port *p = (struct testq_port *)port;

	for (struct testq_port **pp = &testq_list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	free(p);
}

static const struct vs_port_ops testq_ops = {
	.rx_burst = testq_rx,
	.tx_burst = testq_tx,
	.start = testq_start,
	.stop = testq_stop,
	.info_get = testq_info,
	.stats_get = testq_stats_get,
	.stats_reset = testq_stats_reset,
	.destroy = testq_destroy,
};

static struct vs_port *
testq_create(const char *name, struct vs_port_spec *spec, const struct vs_port_env *env, char *err,
	     size_t errlen)
{
	struct testq_port *p;
	uint64_t q, gen;

	(void)env;
	if (vs_port_spec_get_uint(spec, "queues", 1, VS_PORT_MAX_QUEUES, 1, &q, err, errlen) != 0 ||
	    vs_port_spec_get_uint(spec, "gen", 0, 32, 0, &gen, err, errlen) != 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->base.ops = &testq_ops;
	snprintf(p->base.name, sizeof(p->base.name), "%s", name);
	p->max_queues = (uint16_t)q;
	p->nb = (uint16_t)q;
	p->gen = (uint16_t)gen;
	p->up = true;
	p->next = testq_list;
	testq_list = p;
	return &p->base;
}

static struct vs_port_type testq_type = {
	.name = "testq",
	.usage = "testq,queues=N[,gen=K] (tests only)",
	.create = testq_create,
};
VS_PORT_TYPE_REGISTER(testq_type)

void
vt_testq_set_queues(struct vs_port *port, uint16_t nb)
{
	struct testq_port *p = (struct testq_port *)port;

	__atomic_store_n(&p->nb, nb <= p->max_queues ? nb : p->max_queues, __ATOMIC_RELEASE);
	if (port->env.state_changed != NULL)
		port->env.state_changed(port, port->env.arg);
}

void
vt_testq_set_link(struct vs_port *port, bool up)
{
	struct testq_port *p = (struct testq_port *)port;

	p->up = up;
	if (port->env.state_changed != NULL)
		port->env.state_changed(port, port->env.arg);
}

void
vt_testq_stats(struct vs_port *port, struct vt_testq_stats *s)
{
	struct testq_port *p = (struct testq_port *)port;

	for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++)
		s->generated[q] = __atomic_load_n(&p->st.generated[q], __ATOMIC_RELAXED);
	s->received = __atomic_load_n(&p->st.received, __ATOMIC_RELAXED);
	for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++)
		s->received_on[q] = __atomic_load_n(&p->st.received_on[q], __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < 16; i++)
		s->received_from[i] = __atomic_load_n(&p->st.received_from[i], __ATOMIC_RELAXED);
	s->violations = __atomic_load_n(&p->st.violations, __ATOMIC_RELAXED);
	s->not_ready = __atomic_load_n(&p->st.not_ready, __ATOMIC_RELAXED);
}

struct vs_port *
vt_testq_find(const char *name)
{
	for (struct testq_port *p = testq_list; p != NULL; p = p->next)
		if (strcmp(p->base.name, name) == 0)
			return &p->base;
	return NULL;
}
