/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_FDB_H
#define VS_FDB_H

/**
 * @file
 * The L2 forwarding database: (MAC, VLAN) -> port, on an rte_hash with
 * lock-free readers.
 *
 * Threads: workers look up and learn (vs_fdb_lookup_bulk, vs_fdb_learn)
 * concurrently, without locks on lookups; learning a new key takes the
 * hash's writer lock (rare: once per new station). Everything else (aging,
 * flushes, walks) runs on the control thread only.
 *
 * Reclamation: deleting an entry (control thread) removes the key at once;
 * its slot is recycled only after every worker registered on the qsbr
 * variable has passed a quiescent state, so a worker holding a slot number
 * from a lookup never sees it reused under it. A freed slot reads as
 * VS_FDB_NONE until it is learned again, which workers treat as a miss.
 *
 * Time: entries carry the second they were last seen, in the FDB's own
 * clock (vs_fdb_set_now), which the control thread advances; tests set it.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_hash.h>

#ifdef __cplusplus
extern "C" {
#endif

/** "No port": a miss, or a slot being learned or reclaimed. */
#define VS_FDB_NONE 0xffff
/** Largest table; the default is 65536. */
#define VS_FDB_MAX_SIZE (1u << 24)
#define VS_FDB_MIN_SIZE 16

struct rte_rcu_qsbr;

/** vs_fdb_entry.flags: added by the operator; never aged, never moved by learning. */
#define VS_FDB_F_STATIC 1

/** One slot: written by the learner, read by everyone. */
struct vs_fdb_entry {
	uint64_t key;	/**< vs_fdb_key() of the station */
	uint32_t seen;	/**< FDB clock (seconds) when last received from */
	uint16_t port;	/**< where it is, or VS_FDB_NONE */
	uint16_t flags; /**< VS_FDB_F_STATIC (control thread writes, relaxed) */
};

/** Learning counters of one worker (it owns them; others read). */
struct vs_fdb_counters {
	uint64_t learned; /**< new entries */
	uint64_t moved;	  /**< entries whose port changed */
	uint64_t full;	  /**< learns refused: the table is at its limit */
};

struct vs_fdb {
	struct rte_hash *hash;
	struct vs_fdb_entry *entries; /**< indexed by the hash's key position */
	uint32_t nb_slots;	      /**< entries in @ref entries */
	uint32_t limit;		      /**< most entries at a time */
	uint32_t count;		      /**< entries now (atomic) */
	uint32_t now;		      /**< the clock (atomic) */
	struct rte_rcu_qsbr *qsbr;
	int32_t *dead; /**< control thread: positions awaiting reclamation */
};

/**
 * Builds the key of (@p mac, @p vlan): the six MAC bytes in the low 48 bits
 * (memory order) and the VLAN in the top 16.
 */
static inline uint64_t
vs_fdb_key(const uint8_t *mac, uint16_t vlan)
{
	uint64_t k = 0;

	for (int i = 0; i < 6; i++)
		k |= (uint64_t)mac[i] << (8 * i);
	return k | (uint64_t)vlan << 48;
}

/** @return the VLAN of key @p k. */
static inline uint16_t
vs_fdb_key_vlan(uint64_t k)
{
	return (uint16_t)(k >> 48);
}

/** Writes the MAC of key @p k into @p mac (6 bytes). */
static inline void
vs_fdb_key_mac(uint64_t k, uint8_t *mac)
{
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(k >> (8 * i));
}

/**
 * Creates an FDB holding at most @p limit entries.
 *
 * @param name    unique among this process's FDBs (hash name)
 * @param limit   VS_FDB_MIN_SIZE..VS_FDB_MAX_SIZE
 * @param qsbr    the workers' quiescent-state variable; NULL when no other
 *                thread reads the FDB (tests)
 * @param socket  NUMA socket for the memory
 * @return the FDB, or NULL with rte_errno set (EINVAL, ENOMEM, EEXIST)
 */
struct vs_fdb *vs_fdb_create(const char *name, uint32_t limit, struct rte_rcu_qsbr *qsbr,
			     int socket);

/** Frees @p fdb (NULL is ignored); no worker may use it any more. */
void vs_fdb_free(struct vs_fdb *fdb);

/** Sets the clock to @p now seconds (control thread). */
static inline void
vs_fdb_set_now(struct vs_fdb *fdb, uint32_t now)
{
	__atomic_store_n(&fdb->now, now, __ATOMIC_RELAXED);
}

/** @return the clock. */
static inline uint32_t
vs_fdb_now(const struct vs_fdb *fdb)
{
	return __atomic_load_n(&fdb->now, __ATOMIC_RELAXED);
}

/** @return entries now. */
static inline uint32_t
vs_fdb_count(const struct vs_fdb *fdb)
{
	return __atomic_load_n(&fdb->count, __ATOMIC_RELAXED);
}

/** @return the port of slot @p pos (VS_FDB_NONE while it is not live). */
static inline uint16_t
vs_fdb_slot_port(const struct vs_fdb *fdb, int32_t pos)
{
	return __atomic_load_n(&fdb->entries[pos].port, __ATOMIC_ACQUIRE);
}

/**
 * Looks up @p n keys (n <= RTE_HASH_LOOKUP_BULK_MAX) and writes each one's
 * port, or VS_FDB_NONE, into @p ports. Lock-free; any thread.
 */
static inline void
vs_fdb_lookup_bulk(const struct vs_fdb *fdb, const uint64_t *keys, uint32_t n, uint16_t *ports)
{
	const void *kp[RTE_HASH_LOOKUP_BULK_MAX];
	int32_t pos[RTE_HASH_LOOKUP_BULK_MAX];

	if (n == 1) {
		pos[0] = rte_hash_lookup(fdb->hash, &keys[0]);
	} else {
		for (uint32_t i = 0; i < n; i++)
			kp[i] = &keys[i];
		rte_hash_lookup_bulk(fdb->hash, kp, n, pos);
	}
	for (uint32_t i = 0; i < n; i++)
		ports[i] = pos[i] >= 0 ? vs_fdb_slot_port(fdb, pos[i]) : VS_FDB_NONE;
}

/** @return the port of @p key, or VS_FDB_NONE. Lock-free; any thread. */
static inline uint16_t
vs_fdb_lookup(const struct vs_fdb *fdb, uint64_t key)
{
	uint16_t port;

	vs_fdb_lookup_bulk(fdb, &key, 1, &port);
	return port;
}

/**
 * Out of line part of learning: a new station, a moved one, or a slot not
 * live yet.
 *
 * @param pos  the key's slot from rte_hash_lookup(), or a negative miss
 * @return the key's slot now, or -1 when it was not added (table full)
 */
int32_t vs_fdb_learn_slow(struct vs_fdb *fdb, uint64_t key, int32_t pos, uint16_t port,
			  struct vs_fdb_counters *c);

/* Stamps slot @p pos as seen now; written once a second at most, so the
 * line stays shared between workers otherwise. */
static inline void
vs_fdb_touch(struct vs_fdb *fdb, int32_t pos)
{
	struct vs_fdb_entry *e = &fdb->entries[pos];
	uint32_t now = vs_fdb_now(fdb);

	if (__atomic_load_n(&e->seen, __ATOMIC_RELAXED) != now)
		__atomic_store_n(&e->seen, now, __ATOMIC_RELAXED);
}

/**
 * Learns that @p key was received on @p port at the current clock: adds it,
 * moves it from another port, or refreshes its time. A worker calls this
 * for each distinct source of a burst. Lookups are lock-free; adding takes
 * the hash's writer lock. When the table is at its limit the station is not
 * learned (c->full counts it) and its frames keep being flooded to it.
 *
 * @return the key's slot, or -1 when it was not added (table full)
 */
static inline int32_t
vs_fdb_learn(struct vs_fdb *fdb, uint64_t key, uint16_t port, struct vs_fdb_counters *c)
{
	int32_t pos = rte_hash_lookup(fdb->hash, &key);

	if (unlikely(pos < 0 || vs_fdb_slot_port(fdb, pos) != port))
		return vs_fdb_learn_slow(fdb, key, pos, port, c);
	vs_fdb_touch(fdb, pos);
	return pos;
}

/**
 * A worker's memory of the slot of one key (the last source or destination
 * seen on a port), so that a run of bursts between the same stations skips
 * the hash. Owned by one worker; vs_fdb_hint_init() before first use.
 *
 * It stays correct across quiescent states without being told of deletes:
 * a slot is trusted only while it is live (port not VS_FDB_NONE) and holds
 * the same key. A deleted slot reads VS_FDB_NONE once its grace period is
 * over (before it can be reused), and a reused slot holds another key; in
 * both cases the hint misses and the hash decides. Between a delete and the
 * end of its grace period the hint still finds the old entry, as a lookup
 * started before the delete would.
 */
struct vs_fdb_hint {
	uint64_t key; /**< the key remembered */
	int32_t pos;  /**< its slot, or -1: nothing remembered */
};

/** Makes @p h remember nothing. */
static inline void
vs_fdb_hint_init(struct vs_fdb_hint *h)
{
	h->key = 0;
	h->pos = -1;
}

/**
 * @return the port of @p key when @p h remembers its slot and the slot is
 * still live with that key, else VS_FDB_NONE (ask the hash). Lock-free.
 */
static inline uint16_t
vs_fdb_hint_port(const struct vs_fdb *fdb, const struct vs_fdb_hint *h, uint64_t key)
{
	uint16_t port;

	if (h->key != key || h->pos < 0)
		return VS_FDB_NONE;
	/* Acquire: the key read below is the one the live port published. */
	port = vs_fdb_slot_port(fdb, h->pos);
	if (port == VS_FDB_NONE ||
	    __atomic_load_n(&fdb->entries[h->pos].key, __ATOMIC_RELAXED) != key)
		return VS_FDB_NONE;
	return port;
}

/**
 * vs_fdb_learn() through hint @p h: when @p h remembers @p key on @p port,
 * only the time is refreshed; otherwise it learns as vs_fdb_learn() does and
 * remembers the slot in @p h.
 */
static inline void
vs_fdb_learn_hint(struct vs_fdb *fdb, uint64_t key, uint16_t port, struct vs_fdb_counters *c,
		  struct vs_fdb_hint *h)
{
	if (likely(vs_fdb_hint_port(fdb, h, key) == port)) {
		vs_fdb_touch(fdb, h->pos);
		return;
	}
	h->key = key;
	h->pos = vs_fdb_learn(fdb, key, port, c);
}

/**
 * vs_fdb_lookup() through hint @p h: the port of @p key, or VS_FDB_NONE;
 * the slot found (or the miss) is remembered in @p h. Lock-free.
 */
static inline uint16_t
vs_fdb_lookup_hint(const struct vs_fdb *fdb, uint64_t key, struct vs_fdb_hint *h)
{
	uint16_t port = vs_fdb_hint_port(fdb, h, key);
	int32_t pos;

	if (likely(port != VS_FDB_NONE))
		return port;
	pos = rte_hash_lookup(fdb->hash, &key);
	h->key = key;
	h->pos = pos >= 0 ? pos : -1;
	return pos >= 0 ? vs_fdb_slot_port(fdb, pos) : VS_FDB_NONE;
}

/**
 * Removes entries not seen for @p aging seconds or more (control thread).
 * Waits for the workers' quiescent state before recycling slots.
 * @return the number removed
 */
uint32_t vs_fdb_age(struct vs_fdb *fdb, uint32_t aging);

/** Removes every learned entry (control thread). @return the number removed. */
uint32_t vs_fdb_flush(struct vs_fdb *fdb);

/** Removes the learned entries on @p port (control thread). @return the number removed. */
uint32_t vs_fdb_flush_port(struct vs_fdb *fdb, uint16_t port);

/**
 * Removes the entries on port @p port (-1: any) in VLAN @p vlan (-1: any),
 * static ones too when @p statics (control thread).
 * @return the number removed
 */
uint32_t vs_fdb_flush_match(struct vs_fdb *fdb, int port, int vlan, bool statics);

/**
 * Adds static entry @p key on @p port, or makes the key's entry static and
 * moves it there (control thread).
 * @return 0, or -ENOSPC when the table is at its limit
 */
int vs_fdb_add_static(struct vs_fdb *fdb, uint64_t key, uint16_t port);

/**
 * Removes the entry of @p key, static or learned (control thread; waits for a
 * grace period before its slot is reused).
 * @return 0 or -ENOENT
 */
int vs_fdb_del(struct vs_fdb *fdb, uint64_t key);

/** @return how many static entries there are (control thread). */
uint32_t vs_fdb_count_static(const struct vs_fdb *fdb);

/**
 * Calls @p cb for every live entry (control thread), in slot order, until
 * it returns non-zero.
 *
 * @param cb  gets the key, the port and the seconds since last seen
 * @return 0, or the first non-zero value @p cb returned
 */
int vs_fdb_walk(struct vs_fdb *fdb, int (*cb)(uint64_t key, uint16_t port, uint32_t age, void *arg),
		void *arg);

/** vs_fdb_walk() whose @p cb also gets the entry's flags (VS_FDB_F_STATIC). */
int vs_fdb_walk_flags(struct vs_fdb *fdb,
		      int (*cb)(uint64_t key, uint16_t port, uint32_t age, uint16_t flags,
				void *arg),
		      void *arg);

#ifdef __cplusplus
}
#endif

#endif /* VS_FDB_H */
