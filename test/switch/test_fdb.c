/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FDB: learn, look up, move, age, flush, the size limit, and learning
 * on a worker lcore while the control thread ages and flushes.
 */
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "test.h"
#include "test_eal.h"
#include "vs_fdb.h"

#define NEED_EAL()                                                                                 \
	do {                                                                                       \
		char why_[256];                                                                    \
		if (vt_eal_init("switch", why_, sizeof(why_)) != 0)                                \
			TEST_SKIP("%s", why_);                                                     \
	} while (0)

static unsigned int fdb_seq;

static struct vs_fdb *
new_fdb(uint32_t limit, struct rte_rcu_qsbr *qsbr)
{
	char name[16];

	snprintf(name, sizeof(name), "tf%u", fdb_seq++);
	return vs_fdb_create(name, limit, qsbr, SOCKET_ID_ANY);
}

static uint64_t
key_of(unsigned int i, uint16_t vlan)
{
	uint8_t mac[6] = {0x02, 0x10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 0x01};

	return vs_fdb_key(mac, vlan);
}

static int
test_fdb_learns_and_looks_up(void)
{
	struct vs_fdb_counters c = {0};
	uint8_t mac[6] = {0x02, 1, 2, 3, 4, 5}, back[6];
	uint64_t keys[3];
	uint16_t ports[3];
	struct vs_fdb *fdb;

	NEED_EAL();
	fdb = new_fdb(1024, NULL);
	TEST_ASSERT_NOT_NULL(fdb, "create");
	keys[0] = vs_fdb_key(mac, 10);
	TEST_ASSERT_EQUAL(vs_fdb_key_vlan(keys[0]), 10, "vlan in the key");
	vs_fdb_key_mac(keys[0], back);
	TEST_ASSERT(memcmp(mac, back, 6) == 0, "mac in the key");
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, keys[0]), VS_FDB_NONE, "empty");
	vs_fdb_learn(fdb, keys[0], 3, &c);
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, keys[0]), 3, "learned");
	TEST_ASSERT_EQUAL(c.learned, 1, "counted");
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 1, "one entry");
	vs_fdb_learn(fdb, keys[0], 3, &c);
	TEST_ASSERT_EQUAL(c.learned + c.moved, 1, "seen again: neither new nor moved");
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 1, "still one");
	/* The same MAC in another VLAN is another station. */
	keys[1] = vs_fdb_key(mac, 20);
	keys[2] = key_of(7, 10);
	vs_fdb_learn(fdb, keys[1], 4, &c);
	vs_fdb_lookup_bulk(fdb, keys, 3, ports);
	TEST_ASSERT(ports[0] == 3 && ports[1] == 4 && ports[2] == VS_FDB_NONE, "bulk: %u %u %u",
		    ports[0], ports[1], ports[2]);
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 2, "two");
	vs_fdb_free(fdb);
	return TEST_SUCCESS;
}
REGISTER_TEST(fdb_learns_and_looks_up, fast, test_fdb_learns_and_looks_up)

static int
test_fdb_follows_a_moving_station(void)
{
	struct vs_fdb_counters c = {0};
	struct vs_fdb *fdb;
	uint64_t k = key_of(1, 1);

	NEED_EAL();
	fdb = new_fdb(64, NULL);
	TEST_ASSERT_NOT_NULL(fdb, "create");
	vs_fdb_learn(fdb, k, 1, &c);
	vs_fdb_learn(fdb, k, 2, &c);
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, k), 2, "moved to port 2");
	TEST_ASSERT_EQUAL(c.moved, 1, "one move");
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 1, "still one entry");
	vs_fdb_learn(fdb, k, 1, &c);
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, k), 1, "and back");
	TEST_ASSERT_EQUAL(c.moved, 2, "two moves");
	vs_fdb_free(fdb);
	return TEST_SUCCESS;
}
REGISTER_TEST(fdb_follows_a_moving_station, fast, test_fdb_follows_a_moving_station)

/*
 * A worker's hint (the last slot of a port's source or destination) must
 * never outlive its entry: it follows moves, misses once the entry is
 * flushed or aged, misses when the slot is reused by another station, and
 * learning through it re-adds a station that was removed.
 */
static int
test_fdb_hint_never_outlives_its_entry(void)
{
	struct vs_fdb_counters c = {0};
	struct vs_fdb_hint src, dst;
	uint64_t a = key_of(1, 1), b = key_of(2, 1);
	struct vs_fdb *fdb;

	NEED_EAL();
	fdb = new_fdb(16, NULL);
	TEST_ASSERT_NOT_NULL(fdb, "create");
	vs_fdb_hint_init(&src);
	vs_fdb_hint_init(&dst);
	TEST_ASSERT_EQUAL(vs_fdb_hint_port(fdb, &src, a), VS_FDB_NONE, "empty hint");
	TEST_ASSERT_EQUAL(vs_fdb_lookup_hint(fdb, a, &dst), VS_FDB_NONE, "unknown station");
	vs_fdb_learn_hint(fdb, a, 3, &c, &src);
	TEST_ASSERT_EQUAL(c.learned, 1, "learned through the hint");
	TEST_ASSERT_EQUAL(vs_fdb_hint_port(fdb, &src, a), 3, "hint remembers the slot");
	TEST_ASSERT_EQUAL(vs_fdb_hint_port(fdb, &src, b), VS_FDB_NONE, "only for its key");
	TEST_ASSERT_EQUAL(vs_fdb_lookup_hint(fdb, a, &dst), 3, "looked up");
	TEST_ASSERT_EQUAL(vs_fdb_hint_port(fdb, &dst, a), 3, "lookup remembered it");
	/* Seen again on the same port: neither new nor moved, time refreshed. */
	vs_fdb_set_now(fdb, 50);
	vs_fdb_learn_hint(fdb, a, 3, &c, &src);
	TEST_ASSERT_EQUAL(c.learned + c.moved, 1, "no new entry");
	TEST_ASSERT_EQUAL(vs_fdb_age(fdb, 10), 0, "time refreshed through the hint");
	/* A move elsewhere is seen through the destination hint at once. */
	vs_fdb_learn(fdb, a, 4, &c);
	TEST_ASSERT_EQUAL(vs_fdb_lookup_hint(fdb, a, &dst), 4, "follows the move");
	vs_fdb_learn_hint(fdb, a, 3, &c, &src);
	TEST_ASSERT_EQUAL(c.moved, 2, "moved back through the source hint");
	/* Flushed: both hints miss; learning through the hint adds it again. */
	TEST_ASSERT_EQUAL(vs_fdb_flush(fdb), 1, "flush");
	TEST_ASSERT_EQUAL(vs_fdb_hint_port(fdb, &src, a), VS_FDB_NONE, "source hint after flush");
	TEST_ASSERT_EQUAL(vs_fdb_lookup_hint(fdb, a, &dst), VS_FDB_NONE, "lookup after flush");
	vs_fdb_learn_hint(fdb, a, 5, &c, &src);
	TEST_ASSERT_EQUAL(c.learned, 2, "re-learned after the flush");
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, a), 5, "in the table again");
	/* Aged out, then its slot reused by another station: the hint misses. */
	vs_fdb_set_now(fdb, 100);
	TEST_ASSERT_EQUAL(vs_fdb_age(fdb, 10), 1, "aged");
	TEST_ASSERT_EQUAL(vs_fdb_hint_port(fdb, &src, a), VS_FDB_NONE, "hint after aging");
	for (unsigned int i = 0; i < 16; i++)
		vs_fdb_learn(fdb, key_of(100 + i, 1), 6, &c);
	TEST_ASSERT_EQUAL(vs_fdb_hint_port(fdb, &src, a), VS_FDB_NONE, "slot reused: still a miss");
	TEST_ASSERT_EQUAL(vs_fdb_lookup_hint(fdb, a, &dst), VS_FDB_NONE, "and not in the table");
	vs_fdb_free(fdb);
	return TEST_SUCCESS;
}
REGISTER_TEST(fdb_hint_never_outlives_its_entry, fast, test_fdb_hint_never_outlives_its_entry)

static int
test_fdb_ages_out_unseen_stations(void)
{
	struct vs_fdb_counters c = {0};
	uint64_t a = key_of(1, 1), b = key_of(2, 1), d = key_of(3, 1);
	struct vs_fdb *fdb;

	NEED_EAL();
	fdb = new_fdb(64, NULL);
	TEST_ASSERT_NOT_NULL(fdb, "create");
	vs_fdb_set_now(fdb, 100);
	vs_fdb_learn(fdb, a, 1, &c);
	vs_fdb_learn(fdb, b, 1, &c);
	vs_fdb_set_now(fdb, 105);
	vs_fdb_learn(fdb, d, 2, &c);
	vs_fdb_set_now(fdb, 109);
	TEST_ASSERT_EQUAL(vs_fdb_age(fdb, 10), 0, "nothing is 10 s old yet");
	vs_fdb_learn(fdb, a, 1, &c); /* a is seen again at 109 */
	vs_fdb_set_now(fdb, 110);
	TEST_ASSERT_EQUAL(vs_fdb_age(fdb, 10), 1, "b, last seen at 100, goes at 110");
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, b), VS_FDB_NONE, "b gone");
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, a), 1, "a stays");
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, d), 2, "d stays");
	vs_fdb_set_now(fdb, 115);
	TEST_ASSERT_EQUAL(vs_fdb_age(fdb, 10), 1, "d, seen at 105, goes at 115");
	vs_fdb_set_now(fdb, 119);
	TEST_ASSERT_EQUAL(vs_fdb_age(fdb, 10), 1, "a goes at 119");
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 0, "empty");
	/* Relearning reuses the recycled slots. */
	vs_fdb_learn(fdb, b, 3, &c);
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, b), 3, "relearned");
	vs_fdb_free(fdb);
	return TEST_SUCCESS;
}
REGISTER_TEST(fdb_ages_out_unseen_stations, fast, test_fdb_ages_out_unseen_stations)

static int
count_cb(uint64_t key, uint16_t port, uint32_t age, void *arg)
{
	unsigned int *n = arg;

	(void)key;
	(void)age;
	n[port]++;
	return 0;
}

static int
test_fdb_flushes_all_or_one_port(void)
{
	struct vs_fdb_counters c = {0};
	unsigned int per_port[4] = {0};
	struct vs_fdb *fdb;

	NEED_EAL();
	fdb = new_fdb(8192, NULL);
	TEST_ASSERT_NOT_NULL(fdb, "create");
	/* More than one reclamation batch. */
	for (unsigned int i = 0; i < 6000; i++)
		vs_fdb_learn(fdb, key_of(i, 1), (uint16_t)(i % 3), &c);
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 6000, "learned");
	TEST_ASSERT_SUCCESS(vs_fdb_walk(fdb, count_cb, per_port), "walk");
	TEST_ASSERT(per_port[0] == 2000 && per_port[1] == 2000 && per_port[2] == 2000,
		    "walk %u %u %u", per_port[0], per_port[1], per_port[2]);
	TEST_ASSERT_EQUAL(vs_fdb_flush_port(fdb, 1), 2000, "port 1's entries");
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, key_of(1, 1)), VS_FDB_NONE, "gone");
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, key_of(2, 1)), 2, "others stay");
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 4000, "4000 left");
	TEST_ASSERT_EQUAL(vs_fdb_flush(fdb), 4000, "the rest");
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 0, "empty");
	memset(per_port, 0, sizeof(per_port));
	vs_fdb_walk(fdb, count_cb, per_port);
	TEST_ASSERT(per_port[0] + per_port[1] + per_port[2] == 0, "walk finds nothing");
	for (unsigned int i = 0; i < 6000; i++)
		vs_fdb_learn(fdb, key_of(i, 2), 3, &c);
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 6000, "the slots came back");
	vs_fdb_free(fdb);
	return TEST_SUCCESS;
}
REGISTER_TEST(fdb_flushes_all_or_one_port, fast, test_fdb_flushes_all_or_one_port)

static int
test_fdb_stops_learning_at_its_limit(void)
{
	struct vs_fdb_counters c = {0};
	struct vs_fdb *fdb;

	NEED_EAL();
	fdb = new_fdb(100, NULL);
	TEST_ASSERT_NOT_NULL(fdb, "create");
	for (unsigned int i = 0; i < 130; i++)
		vs_fdb_learn(fdb, key_of(i, 1), 1, &c);
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 100, "exactly the limit");
	TEST_ASSERT_EQUAL(c.learned, 100, "learned");
	TEST_ASSERT_EQUAL(c.full, 30, "refused");
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, key_of(99, 1)), 1, "the first 100 are in");
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, key_of(100, 1)), VS_FDB_NONE, "the rest not");
	/* Known stations still move and refresh at the limit. */
	vs_fdb_learn(fdb, key_of(5, 1), 2, &c);
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, key_of(5, 1)), 2, "moved at the limit");
	TEST_ASSERT_EQUAL(vs_fdb_flush_port(fdb, 2), 1, "flush one");
	vs_fdb_learn(fdb, key_of(120, 1), 1, &c);
	TEST_ASSERT_EQUAL(vs_fdb_lookup(fdb, key_of(120, 1)), 1, "room for one more");
	TEST_ASSERT_EQUAL(vs_fdb_count(fdb), 100, "at the limit again");
	vs_fdb_free(fdb);
	TEST_ASSERT(new_fdb(VS_FDB_MIN_SIZE - 1, NULL) == NULL, "too small");
	TEST_ASSERT(new_fdb(VS_FDB_MAX_SIZE + 1, NULL) == NULL, "too big");
	return TEST_SUCCESS;
}
REGISTER_TEST(fdb_stops_learning_at_its_limit, fast, test_fdb_stops_learning_at_its_limit)

struct walk_check {
	uint64_t key;
	uint16_t port;
	uint32_t age;
	unsigned int n;
};

static int
find_cb(uint64_t key, uint16_t port, uint32_t age, void *arg)
{
	struct walk_check *w = arg;

	w->n++;
	if (key == w->key) {
		w->port = port;
		w->age = age;
	}
	return 0;
}

static int
stop_cb(uint64_t key, uint16_t port, uint32_t age, void *arg)
{
	(void)key;
	(void)port;
	(void)age;
	(*(unsigned int *)arg)++;
	return 7;
}

static int
test_fdb_walk_reports_port_and_age(void)
{
	struct vs_fdb_counters c = {0};
	struct walk_check w = {0};
	unsigned int calls = 0;
	struct vs_fdb *fdb;

	NEED_EAL();
	fdb = new_fdb(64, NULL);
	TEST_ASSERT_NOT_NULL(fdb, "create");
	vs_fdb_set_now(fdb, 50);
	vs_fdb_learn(fdb, key_of(1, 5), 9, &c);
	vs_fdb_learn(fdb, key_of(2, 5), 8, &c);
	vs_fdb_set_now(fdb, 53);
	w.key = key_of(1, 5);
	TEST_ASSERT_SUCCESS(vs_fdb_walk(fdb, find_cb, &w), "walk");
	TEST_ASSERT_EQUAL(w.n, 2, "two entries");
	TEST_ASSERT_EQUAL(w.port, 9, "port");
	TEST_ASSERT_EQUAL(w.age, 3, "age");
	TEST_ASSERT_EQUAL(vs_fdb_walk(fdb, stop_cb, &calls), 7, "stops on non-zero");
	TEST_ASSERT_EQUAL(calls, 1, "after one call");
	vs_fdb_free(fdb);
	return TEST_SUCCESS;
}
REGISTER_TEST(fdb_walk_reports_port_and_age, fast, test_fdb_walk_reports_port_and_age)

/* ---- a worker learning while the control thread ages and flushes ---- */

struct churn {
	struct vs_fdb *fdb;
	struct rte_rcu_qsbr *qsbr;
	uint32_t stop;
	uint64_t lookups;
	uint64_t bad; /* a lookup answered a port never learned */
	struct vs_fdb_counters c;
};

static int
churn_worker(void *arg)
{
	struct churn *ch = arg;
	uint64_t keys[32];
	uint16_t ports[32];
	unsigned int i = 0;

	rte_rcu_qsbr_thread_register(ch->qsbr, 0);
	rte_rcu_qsbr_thread_online(ch->qsbr, 0);
	while (!__atomic_load_n(&ch->stop, __ATOMIC_RELAXED)) {
		for (unsigned int j = 0; j < 32; j++, i++) {
			keys[j] = key_of(i % 5000, 1);
			vs_fdb_learn(ch->fdb, keys[j], (uint16_t)(i % 5000 % 4), &ch->c);
		}
		vs_fdb_lookup_bulk(ch->fdb, keys, 32, ports);
		for (unsigned int j = 0; j < 32; j++) {
			/* A station may be aged or flushed under us, never misplaced. */
			uint16_t want = (uint16_t)((i - 32 + j) % 5000 % 4);

			if (ports[j] != VS_FDB_NONE && ports[j] != want)
				ch->bad++;
		}
		ch->lookups += 32;
		rte_rcu_qsbr_quiescent(ch->qsbr, 0);
	}
	rte_rcu_qsbr_thread_offline(ch->qsbr, 0);
	rte_rcu_qsbr_thread_unregister(ch->qsbr, 0);
	return 0;
}

static int
test_fdb_worker_learns_while_control_ages(void)
{
	struct churn ch = {0};
	unsigned int lcore;
	uint64_t end;
	uint32_t removed = 0;

	NEED_EAL();
	lcore = rte_get_next_lcore(-1, 1, 0);
	if (lcore >= RTE_MAX_LCORE)
		TEST_SKIP("no worker lcore");
	ch.qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	TEST_ASSERT_NOT_NULL(ch.qsbr, "qsbr");
	TEST_ASSERT_SUCCESS(rte_rcu_qsbr_init(ch.qsbr, 1), "qsbr init");
	ch.fdb = new_fdb(4096, ch.qsbr);
	TEST_ASSERT_NOT_NULL(ch.fdb, "create");
	TEST_ASSERT_SUCCESS(rte_eal_remote_launch(churn_worker, &ch, lcore), "launch");
	end = vt_now_ms() + 1000;
	for (uint32_t now = 1; vt_now_ms() < end; now++) {
		vs_fdb_set_now(ch.fdb, now);
		removed += vs_fdb_age(ch.fdb, 1);
		if (now % 8 == 0)
			removed += vs_fdb_flush_port(ch.fdb, (uint16_t)(now % 4));
		if (now % 32 == 0)
			removed += vs_fdb_flush(ch.fdb);
	}
	__atomic_store_n(&ch.stop, 1, __ATOMIC_RELAXED);
	rte_eal_wait_lcore(lcore);
	printf("lookups %" PRIu64 ", learned %" PRIu64 ", full %" PRIu64 ", removed %u\n",
	       ch.lookups, ch.c.learned, ch.c.full, removed);
	TEST_ASSERT(ch.lookups > 0, "the worker ran");
	TEST_ASSERT(removed > 0, "the control thread removed entries");
	TEST_ASSERT_EQUAL(ch.bad, 0, "no lookup ever saw a wrong port");
	TEST_ASSERT(vs_fdb_count(ch.fdb) <= 4096, "never above the limit: %u",
		    vs_fdb_count(ch.fdb));
	TEST_ASSERT_EQUAL(vs_fdb_count(ch.fdb), ch.c.learned - removed,
			  "count = learned - removed");
	vs_fdb_free(ch.fdb);
	rte_free(ch.qsbr);
	return TEST_SUCCESS;
}
REGISTER_TEST(fdb_worker_learns_while_control_ages, fast, test_fdb_worker_learns_while_control_ages)
