/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mbuf pools as an operator sees them (`vswitchctl show mempool`,
 * telemetry /vswitch/show/mempool): size, in use, free, so that a leak shows
 * as "in use" growing while traffic is idle.
 */
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vs_mempool.h"
#include "vs_switch.h"

struct walk {
	int (*cb)(const struct vs_switch_mempool_view *v, void *arg);
	void *arg;
	unsigned int n;
	bool stop;
};

/* Pools made by rte_pktmbuf_pool_create() carry its private area. */
static bool
is_mbuf_pool(const struct rte_mempool *mp)
{
	return mp->private_data_size >= sizeof(struct rte_pktmbuf_pool_private) &&
	       mp->elt_size >= sizeof(struct rte_mbuf);
}

static uint32_t
cached_count(const struct rte_mempool *mp)
{
	uint32_t n = 0;

	if (mp->cache_size == 0)
		return 0;
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++)
		n += mp->local_cache[l].len;
	return n;
}

static void
visit(struct rte_mempool *mp, void *arg)
{
	struct walk *w = arg;
	struct vs_switch_mempool_view v = {0};
	uint32_t avail;

	if (w->stop || !is_mbuf_pool(mp))
		return;
	snprintf(v.name, sizeof(v.name), "%s", mp->name);
	v.socket = mp->socket_id;
	v.size = mp->size;
	/* Read once: in use and free must add up to the size. */
	avail = rte_mempool_avail_count(mp);
	v.free = avail < mp->size ? avail : mp->size;
	v.in_use = mp->size - v.free;
	v.cached = cached_count(mp);
	v.cache_size = mp->cache_size;
	v.data_room = rte_pktmbuf_data_room_size(mp);
	w->n++;
	if (w->cb(&v, w->arg) != 0)
		w->stop = true;
}

unsigned int
vs_switch_mempool_walk(int (*cb)(const struct vs_switch_mempool_view *v, void *arg), void *arg)
{
	struct walk w = {cb, arg, 0, false};

	rte_mempool_walk(visit, &w);
	return w.n;
}

static int
mgmt_entry(const struct vs_switch_mempool_view *v, void *arg)
{
	struct vs_jw *w = arg;

	vs_jw_object_open(w);
	vs_jw_kv_str(w, "name", v->name);
	vs_jw_key(w, "socket");
	vs_jw_i64(w, v->socket);
	vs_jw_kv_u64(w, "size", v->size);
	vs_jw_kv_u64(w, "in_use", v->in_use);
	vs_jw_kv_u64(w, "free", v->free);
	vs_jw_kv_u64(w, "cached", v->cached);
	vs_jw_kv_u64(w, "cache_size", v->cache_size);
	vs_jw_kv_u64(w, "data_room", v->data_room);
	vs_jw_object_close(w);
	return 0;
}

int
vs_mgmt_cmd_show_mempool(struct vs_mgmt_req *req)
{
	vs_jw_key(req->w, "mempools");
	vs_jw_array_open(req->w);
	vs_switch_mempool_walk(mgmt_entry, req->w);
	vs_jw_array_close(req->w);
	return 0;
}
