/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FDB: learning and lookups on workers, aging and flushes on the
 * control thread, slots recycled after an RCU grace period.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "vs_fdb.h"

RTE_LOG_REGISTER(vs_fdb_logtype, vswitch.fdb, INFO);
#define FDB_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, vs_fdb_logtype, "fdb: " fmt "\n", ##__VA_ARGS__)

/* Slots deleted per grace period when aging or flushing. */
#define FDB_DEAD_BATCH 4096

struct vs_fdb *
vs_fdb_create(const char *name, uint32_t limit, struct rte_rcu_qsbr *qsbr, int socket)
{
	struct rte_hash_parameters hp = {0};
	char hname[RTE_HASH_NAMESIZE];
	struct vs_fdb *fdb;
	int32_t max_id;

	if (name == NULL || limit < VS_FDB_MIN_SIZE || limit > VS_FDB_MAX_SIZE) {
		rte_errno = EINVAL;
		return NULL;
	}
	fdb = rte_zmalloc_socket("vs_fdb", sizeof(*fdb), RTE_CACHE_LINE_SIZE, socket);
	if (fdb == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(hname, sizeof(hname), "fdb_%s", name);
	/*
	 * Twice the limit: a cuckoo table refuses inserts well before it is
	 * full; at half load it practically never does, so the limit is what
	 * bounds the table.
	 */
	hp.name = hname;
	hp.entries = limit * 2;
	hp.key_len = sizeof(uint64_t);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = socket;
	hp.extra_flag =
		RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD;
	fdb->hash = rte_hash_create(&hp);
	if (fdb->hash == NULL)
		goto fail;
	max_id = rte_hash_max_key_id(fdb->hash);
	if (max_id < 0) {
		rte_errno = EINVAL;
		goto fail;
	}
	fdb->nb_slots = (uint32_t)max_id + 1;
	fdb->entries = rte_malloc_socket("vs_fdb_entries", sizeof(*fdb->entries) * fdb->nb_slots,
					 RTE_CACHE_LINE_SIZE, socket);
	fdb->dead = rte_malloc_socket("vs_fdb_dead", sizeof(int32_t) * FDB_DEAD_BATCH, 0, socket);
	if (fdb->entries == NULL || fdb->dead == NULL) {
		rte_errno = ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < fdb->nb_slots; i++) {
		fdb->entries[i].key = 0;
		fdb->entries[i].seen = 0;
		fdb->entries[i].port = VS_FDB_NONE;
		fdb->entries[i].flags = 0;
	}
	fdb->limit = limit;
	fdb->qsbr = qsbr;
	return fdb;
fail:
	FDB_LOG(ERR, "cannot create an FDB of %u entries: %s", limit, rte_strerror(rte_errno));
	vs_fdb_free(fdb);
	return NULL;
}

void
vs_fdb_free(struct vs_fdb *fdb)
{
	if (fdb == NULL)
		return;
	rte_hash_free(fdb->hash);
	rte_free(fdb->entries);
	rte_free(fdb->dead);
	rte_free(fdb);
}

int32_t
vs_fdb_learn_slow(struct vs_fdb *fdb, uint64_t key, int32_t pos, uint16_t port,
		  struct vs_fdb_counters *c)
{
	struct vs_fdb_entry *e;
	uint16_t expected;

	if (pos >= 0) {
		e = &fdb->entries[pos];
		/* Another worker is adding it right now; it will finish. */
		if (vs_fdb_slot_port(fdb, pos) == VS_FDB_NONE)
			return pos;
		/* The operator put it there: a frame from elsewhere does not move it. */
		if (__atomic_load_n(&e->flags, __ATOMIC_RELAXED) & VS_FDB_F_STATIC)
			return pos;
		__atomic_store_n(&e->seen, vs_fdb_now(fdb), __ATOMIC_RELAXED);
		__atomic_store_n(&e->port, port, __ATOMIC_RELEASE);
		c->moved++;
		return pos;
	}
	/* Reserve a place under the limit before adding. */
	if (__atomic_fetch_add(&fdb->count, 1, __ATOMIC_RELAXED) >= fdb->limit) {
		__atomic_fetch_sub(&fdb->count, 1, __ATOMIC_RELAXED);
		c->full++;
		return -1;
	}
	pos = rte_hash_add_key(fdb->hash, &key);
	if (pos < 0) {
		__atomic_fetch_sub(&fdb->count, 1, __ATOMIC_RELAXED);
		c->full++;
		return -1;
	}
	e = &fdb->entries[pos];
	/* Key and time first: a live port publishes them (release). */
	__atomic_store_n(&e->key, key, __ATOMIC_RELAXED);
	__atomic_store_n(&e->seen, vs_fdb_now(fdb), __ATOMIC_RELAXED);
	expected = VS_FDB_NONE;
	if (__atomic_compare_exchange_n(&e->port, &expected, port, false, __ATOMIC_RELEASE,
					__ATOMIC_RELAXED)) {
		c->learned++;
		return pos;
	}
	/* Another worker added the same key first: ours was no new entry. */
	__atomic_fetch_sub(&fdb->count, 1, __ATOMIC_RELAXED);
	if (expected != port) {
		__atomic_store_n(&e->port, port, __ATOMIC_RELEASE);
		c->moved++;
	}
	return pos;
}

/* Frees the deleted slots once no worker can hold them any more. */
static void
reclaim(struct vs_fdb *fdb, uint32_t n)
{
	if (n == 0)
		return;
	/* Yield, not spin: a worker may share this CPU and must run to pass. */
	if (fdb->qsbr != NULL) {
		uint64_t token = rte_rcu_qsbr_start(fdb->qsbr);

		while (!rte_rcu_qsbr_check(fdb->qsbr, token, false))
			sched_yield();
	}
	for (uint32_t i = 0; i < n; i++) {
		int32_t pos = fdb->dead[i];

		__atomic_store_n(&fdb->entries[pos].port, VS_FDB_NONE, __ATOMIC_RELEASE);
		__atomic_store_n(&fdb->entries[pos].flags, 0, __ATOMIC_RELAXED);
		rte_hash_free_key_with_position(fdb->hash, pos);
	}
	__atomic_fetch_sub(&fdb->count, n, __ATOMIC_RELAXED);
}

/*
 * Deletes the live entries @p match selects, in batches of FDB_DEAD_BATCH
 * per grace period.
 */
static uint32_t
delete_matching(struct vs_fdb *fdb,
		bool (*match)(const struct vs_fdb_entry *e, uint16_t port, const void *arg),
		const void *arg)
{
	uint32_t n = 0, total = 0;

	for (uint32_t pos = 0; pos < fdb->nb_slots; pos++) {
		struct vs_fdb_entry *e = &fdb->entries[pos];
		uint16_t port = vs_fdb_slot_port(fdb, (int32_t)pos);
		uint64_t key;
		int32_t rc;

		if (port == VS_FDB_NONE || !match(e, port, arg))
			continue;
		key = __atomic_load_n(&e->key, __ATOMIC_RELAXED);
		rc = rte_hash_del_key(fdb->hash, &key);
		if (rc < 0)
			continue;
		fdb->dead[n++] = rc;
		if (n == FDB_DEAD_BATCH) {
			reclaim(fdb, n);
			total += n;
			n = 0;
		}
	}
	reclaim(fdb, n);
	return total + n;
}

/* Seconds since @p e was seen; a worker may have stamped it after @p now was read. */
static uint32_t
entry_age(const struct vs_fdb_entry *e, uint32_t now)
{
	int32_t age = (int32_t)(now - __atomic_load_n(&e->seen, __ATOMIC_RELAXED));

	return age > 0 ? (uint32_t)age : 0;
}

struct age_limit {
	uint32_t now;
	uint32_t aging;
};

static bool
is_static(const struct vs_fdb_entry *e)
{
	return (__atomic_load_n(&e->flags, __ATOMIC_RELAXED) & VS_FDB_F_STATIC) != 0;
}

static bool
match_old(const struct vs_fdb_entry *e, uint16_t port, const void *arg)
{
	const struct age_limit *l = arg;

	(void)port;
	return !is_static(e) && entry_age(e, l->now) >= l->aging;
}

uint32_t
vs_fdb_age(struct vs_fdb *fdb, uint32_t aging)
{
	struct age_limit l = {vs_fdb_now(fdb), aging};

	return delete_matching(fdb, match_old, &l);
}

struct match {
	int port;
	int vlan;
	bool statics;
};

static bool
match_where(const struct vs_fdb_entry *e, uint16_t port, const void *arg)
{
	const struct match *m = arg;

	if (!m->statics && is_static(e))
		return false;
	if (m->port >= 0 && port != m->port)
		return false;
	return m->vlan < 0 ||
	       vs_fdb_key_vlan(__atomic_load_n(&e->key, __ATOMIC_RELAXED)) == (uint16_t)m->vlan;
}

uint32_t
vs_fdb_flush_match(struct vs_fdb *fdb, int port, int vlan, bool statics)
{
	struct match m = {port, vlan, statics};

	return delete_matching(fdb, match_where, &m);
}

uint32_t
vs_fdb_flush(struct vs_fdb *fdb)
{
	return vs_fdb_flush_match(fdb, -1, -1, false);
}

uint32_t
vs_fdb_flush_port(struct vs_fdb *fdb, uint16_t port)
{
	return vs_fdb_flush_match(fdb, port, -1, false);
}

int
vs_fdb_add_static(struct vs_fdb *fdb, uint64_t key, uint16_t port)
{
	int32_t pos = rte_hash_lookup(fdb->hash, &key);
	struct vs_fdb_entry *e;
	uint16_t expected = VS_FDB_NONE;

	if (pos >= 0 && vs_fdb_slot_port(fdb, pos) != VS_FDB_NONE) {
		e = &fdb->entries[pos];
		__atomic_store_n(&e->flags, VS_FDB_F_STATIC, __ATOMIC_RELAXED);
		__atomic_store_n(&e->port, port, __ATOMIC_RELEASE);
		return 0;
	}
	if (pos < 0) {
		if (__atomic_fetch_add(&fdb->count, 1, __ATOMIC_RELAXED) >= fdb->limit) {
			__atomic_fetch_sub(&fdb->count, 1, __ATOMIC_RELAXED);
			return -ENOSPC;
		}
		pos = rte_hash_add_key(fdb->hash, &key);
		if (pos < 0) {
			__atomic_fetch_sub(&fdb->count, 1, __ATOMIC_RELAXED);
			return -ENOSPC;
		}
	}
	/* A new slot, or one a worker is adding now: ours either way. */
	e = &fdb->entries[pos];
	__atomic_store_n(&e->key, key, __ATOMIC_RELAXED);
	__atomic_store_n(&e->seen, vs_fdb_now(fdb), __ATOMIC_RELAXED);
	__atomic_store_n(&e->flags, VS_FDB_F_STATIC, __ATOMIC_RELAXED);
	if (!__atomic_compare_exchange_n(&e->port, &expected, port, false, __ATOMIC_RELEASE,
					 __ATOMIC_RELAXED))
		__atomic_store_n(&e->port, port, __ATOMIC_RELEASE);
	return 0;
}

int
vs_fdb_del(struct vs_fdb *fdb, uint64_t key)
{
	int32_t pos = rte_hash_del_key(fdb->hash, &key);

	if (pos < 0)
		return -ENOENT;
	fdb->dead[0] = pos;
	reclaim(fdb, 1);
	return 0;
}

uint32_t
vs_fdb_count_static(const struct vs_fdb *fdb)
{
	uint32_t n = 0;

	for (uint32_t pos = 0; pos < fdb->nb_slots; pos++)
		if (vs_fdb_slot_port(fdb, (int32_t)pos) != VS_FDB_NONE &&
		    is_static(&fdb->entries[pos]))
			n++;
	return n;
}

struct plain_walk {
	int (*cb)(uint64_t key, uint16_t port, uint32_t age, void *arg);
	void *arg;
};

static int
plain_cb(uint64_t key, uint16_t port, uint32_t age, uint16_t flags, void *arg)
{
	const struct plain_walk *p = arg;

	(void)flags;
	return p->cb(key, port, age, p->arg);
}

int
vs_fdb_walk(struct vs_fdb *fdb, int (*cb)(uint64_t key, uint16_t port, uint32_t age, void *arg),
	    void *arg)
{
	struct plain_walk p = {cb, arg};

	return vs_fdb_walk_flags(fdb, plain_cb, &p);
}

int
vs_fdb_walk_flags(struct vs_fdb *fdb,
		  int (*cb)(uint64_t key, uint16_t port, uint32_t age, uint16_t flags, void *arg),
		  void *arg)
{
	uint32_t now = vs_fdb_now(fdb);

	for (uint32_t pos = 0; pos < fdb->nb_slots; pos++) {
		struct vs_fdb_entry *e = &fdb->entries[pos];
		uint16_t port = vs_fdb_slot_port(fdb, (int32_t)pos);
		int rc;

		if (port == VS_FDB_NONE)
			continue;
		rc = cb(__atomic_load_n(&e->key, __ATOMIC_RELAXED), port, entry_age(e, now),
			__atomic_load_n(&e->flags, __ATOMIC_RELAXED), arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}
