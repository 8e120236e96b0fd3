/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq: inflight tracking (vhost-user, "Inflight I/O tracking") survives
 * a device killed at any instruction.
 *
 * Our driver posts chains on rings in shared memory; a forked child runs the
 * device side (with an inflight region, also shared) for two bursts: take,
 * "deliver" (a transmit queue counts each chain's cookie in a shared table;
 * a receive queue writes its buffers), return. The parent single-steps the
 * child with ptrace: a kill after any of its instructions loses the
 * child's device state is lost, as a switch's is when
 * it is killed. (Rather than one child per N, the parent keeps each
 * distinct state of the shared memory the one child leaves behind after
 * each instruction, and recovers from each.) The parent then reaps what the child published, starts
 * a new device on the same rings and region (as a restarted switch does, from a stale ring base),
 * and serves everything left. Every chain must reach the driver exactly once, the queue must be
 * intact, and a transmit chain must be delivered again only if its return was never published (at
 * least once, never lost; a published chain is never taken again).
 *
 * Split and packed, transmit and receive, one- and two-descriptor chains,
 * with and without IN_ORDER; the rings have already gone round (packed:
 * wrap counter 0) when the child starts.
 *
 * The held variants do what the vhost-user port does in crash-safe mode:
 * the child returns both bursts held (vq_dev_return_held()), then commits
 * (a record of the used position before and after, and for packed the
 * flags that publish, in shared memory: the port's journal) and publishes
 * (vq_dev_publish()). Recovery redoes a committed record first (split: the
 * used index; packed: vq_packed_dev_redo_publish()). Then a transmit
 * chain is delivered again only if the kill came before the commit: after
 * it, every one is delivered exactly once.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "vq_harness.h"

#define QSIZE	    8u
#define NCOOKIE	    16u
#define BUF_SIZE    64u
#define WARM	    5u
#define WARM_COOKIE NCOOKIE /* counted as 0 */

#define P   VQ_FEATURE(VQ_F_RING_PACKED)
#define ORD VQ_FEATURE(VQ_F_IN_ORDER)

/* The commit record of a held variant (the port's journal, for one ring). */
struct jrec {
	uint32_t committed;
	uint16_t from; /* used position before: split used->idx; packed slot | wrap << 15 */
	uint16_t to;
	uint16_t flags; /* packed: what publishes the run */
};

struct it {
	struct vq_env e;
	bool packed, rx, two;
	bool hold;	     /* the child holds its returns, commits, publishes */
	struct jrec *j;	     /* shared: the child's commit record */
	unsigned int redone; /* committed records a recovery published */
	void *region;
	size_t region_len;
	uint8_t *deliv; /* shared: deliveries per cookie */
	unsigned int reaped[NCOOKIE];
	unsigned int posted; /* cookies 1..posted are the ones under test */
	struct vq_dev_state stale;
};

static uint8_t *
shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Posts chain @p cookie: its buffer holds the cookie (transmit) or room (receive). */
static bool
post_one(struct it *t, unsigned int cookie)
{
	const uint16_t fl = t->rx ? VQ_DESC_F_WRITE : 0;
	const size_t off = (size_t)cookie * BUF_SIZE;
	struct vq_drv_seg seg[2] = {
		{vq_env_ga(&t->e, off), 16, fl, 0},
		{vq_env_ga(&t->e, off + 32), 8, fl, 0},
	};
	struct vq_drv_chain ch = {(void *)(uintptr_t)cookie, seg,
				  (uint16_t)(t->two && cookie & 1 ? 2 : 1)};

	if (!t->rx) {
		memset(vq_env_hp(&t->e, off), (int)cookie, 16);
		memset(vq_env_hp(&t->e, off + 32), (int)cookie, 8);
	}
	return vq_drv_post(&t->e.drv, &ch, 1) == 1;
}

/* The cookie a transmit chain carries, checked whole; 0 if it is not intact. */
static unsigned int
chain_cookie(const struct vq_chain *c)
{
	uint8_t data[24];
	uint32_t n = vq_segs_copy_out(c->seg, c->nread, 0, data, sizeof(data));

	if (n != 16 && n != 24)
		return 0;
	for (uint32_t i = 1; i < n; i++)
		if (data[i] != data[0])
			return 0;
	return data[0] < NCOOKIE ? data[0] : 0;
}

/* One device burst: take, deliver, return. */
static unsigned int
dev_burst(struct it *t, unsigned int max)
{
	struct vq_burst b;
	unsigned int n;

	if (t->rx) {
		uint32_t len[VQ_BURST_MAX];

		for (unsigned int i = 0; i < max; i++)
			len[i] = 12;
		n = vq_dev_take_rx(&t->e.dev, &b, len, max);
		for (unsigned int p = 0; p < n; p++)
			vq_segs_copy_in(b.pkt[p].seg, b.pkt[p].nseg, 0, "received-pkt", 12);
	} else {
		n = vq_dev_take(&t->e.dev, &b, max);
		for (unsigned int i = 0; i < n; i++)
			__atomic_add_fetch(&t->deliv[chain_cookie(&b.chain[i])], 1,
					   __ATOMIC_RELAXED);
	}
	if (n > 0 && t->hold)
		vq_dev_return_held(&t->e.dev, &b);
	else if (n > 0)
		vq_dev_return(&t->e.dev, &b);
	return n;
}

static void
reap(struct it *t)
{
	void *cookie[QSIZE];
	uint32_t len[QSIZE];
	unsigned int n;

	while ((n = vq_drv_reap(&t->e.drv, cookie, len, QSIZE)) > 0)
		for (unsigned int i = 0; i < n; i++)
			t->reaped[(uintptr_t)cookie[i] % NCOOKIE]++;
}

static void
it_free(struct it *t)
{
	vq_env_free(&t->e);
	if (t->region != NULL)
		munmap(t->region, t->region_len);
	if (t->deliv != NULL)
		munmap(t->deliv, NCOOKIE);
	if (t->j != NULL)
		munmap(t->j, sizeof(*t->j));
}

/* Rings that went round, a fresh region, and chains 1..posted waiting. */
static int
it_init(struct it *t, uint64_t features, bool rx, bool two)
{
	const struct vq_dev_state start = VQ_DEV_STATE_START;

	memset(t, 0, sizeof(*t));
	t->packed = features & P;
	t->rx = rx;
	t->two = two;
	if (vq_env_pair(&t->e, QSIZE, features, 0, (NCOOKIE + 1) * BUF_SIZE) != 0)
		return -1;
	t->region_len = vq_inflight_region_size(QSIZE, t->packed);
	t->region = shared_alloc(t->region_len);
	t->deliv = shared_alloc(NCOOKIE);
	t->j = (struct jrec *)shared_alloc(sizeof(*t->j));
	if (t->region == NULL || t->deliv == NULL || t->j == NULL)
		return -1;
	t->e.inflight = t->region;
	if (vq_env_restart(&t->e, &start) != 0)
		return -1;
	vq_dev_kick_disable(&t->e.dev);
	/* Warm up with cookies not counted: the indexes move, packed wraps. */
	for (unsigned int r = 0; r < WARM; r++) {
		post_one(t, WARM_COOKIE);
		post_one(t, WARM_COOKIE);
		post_one(t, WARM_COOKIE);
		while (dev_burst(t, 2) > 0)
			;
		reap(t);
	}
	memset(t->deliv, 0, NCOOKIE);
	memset(t->reaped, 0, sizeof(t->reaped));
	vq_dev_get_state(&t->e.dev, &t->stale);
	for (t->posted = 0; t->posted + 1 < NCOOKIE && post_one(t, t->posted + 1); t->posted++)
		;
	return t->posted >= 3 ? 0 : -1;
}

/* The used position as a commit record keeps it. */
static uint16_t
used_pos(const struct vq_dev *q)
{
	if (q->flags & VQ_QF_PACKED)
		return (uint16_t)(q->used_idx | q->used_wrap << 15);
	return q->used_idx;
}

/* The child: the device's two bursts, traced from the first instruction. */
static void
child_run(struct it *t)
{
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
		_exit(3);
	raise(SIGSTOP);
	const uint16_t from = used_pos(&t->e.dev);

	dev_burst(t, 2);
	dev_burst(t, 3);
	if (t->hold) {
		t->j->from = from;
		t->j->to = used_pos(&t->e.dev);
		t->j->flags = t->packed ? vq_packed_dev_held_flags(&t->e.dev) : 0;
		__atomic_store_n(&t->j->committed, 1, __ATOMIC_RELEASE);
		vq_dev_publish(&t->e.dev);
	}
	_exit(0);
}

/* What a kill leaves: the shared memory (rings, buffers, region, deliveries). */
static size_t
state_len(const struct it *t)
{
	return t->e.ring.len + t->e.buf.len + t->region_len + NCOOKIE + sizeof(*t->j);
}

static void
state_save(const struct it *t, uint8_t *s)
{
	memcpy(s, t->e.ring.mem, t->e.ring.len);
	s += t->e.ring.len;
	memcpy(s, t->e.buf.mem, t->e.buf.len);
	s += t->e.buf.len;
	memcpy(s, t->region, t->region_len);
	memcpy(s + t->region_len, t->deliv, NCOOKIE);
	memcpy(s + t->region_len + NCOOKIE, t->j, sizeof(*t->j));
}

static void
state_load(struct it *t, const uint8_t *s)
{
	memcpy(t->e.ring.mem, s, t->e.ring.len);
	s += t->e.ring.len;
	memcpy(t->e.buf.mem, s, t->e.buf.len);
	s += t->e.buf.len;
	memcpy(t->region, s, t->region_len);
	memcpy(t->deliv, s + t->region_len, NCOOKIE);
	memcpy(t->j, s + t->region_len + NCOOKIE, sizeof(*t->j));
}

struct states {
	uint8_t *blob; /* n states of len bytes */
	size_t len, n, cap;
	long steps;
};

/* Keeps the shared memory if it differs from the last state kept. */
static int
states_add(struct states *ss, const struct it *t)
{
	uint8_t *s;

	if (ss->n == ss->cap) {
		uint8_t *nb = realloc(ss->blob, (ss->cap * 2 + 16) * ss->len);

		if (nb == NULL)
			return -1;
		ss->blob = nb;
		ss->cap = ss->cap * 2 + 16;
	}
	s = ss->blob + ss->n * ss->len;
	state_save(t, s);
	if (ss->n == 0 || memcmp(s, s - ss->len, ss->len) != 0)
		ss->n++;
	return 0;
}

/*
 * Runs the child one instruction at a time to its end and keeps every
 * distinct state of the shared memory it leaves: a kill after any
 * instruction leaves one of them.
 */
static int
collect(struct it *t, struct states *ss)
{
	int st;
	pid_t pid;

	ss->len = state_len(t);
	if (states_add(ss, t) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		child_run(t);
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st))
		return -1;
	for (;;) {
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) != 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		if (waitpid(pid, &st, 0) != pid)
			return -1;
		if (!WIFSTOPPED(st))
			return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
		ss->steps++;
		if (states_add(ss, t) != 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
	}
}

/* A committed record is published again, as the port's redo does. */
static int
redo(struct it *t, long at)
{
	const struct jrec *j = t->j;

	if (!t->packed) {
		struct vq_used *u = t->e.dev.split.used;

		if (u->idx == j->from && j->from != j->to) {
			u->idx = j->to;
			t->redone++;
		}
		return TEST_SUCCESS;
	}
	const struct vq_dev_config cfg = {.size = QSIZE,
					  .features = t->e.features,
					  .desc = t->e.ring.mem + t->e.layout.desc_off,
					  .inflight = t->region};
	const struct vq_dev_state from = {.used_idx = j->from & 0x7fff,
					  .used_wrap = (uint8_t)(j->from >> 15)};
	const struct vq_dev_state to = {.used_idx = j->to & 0x7fff,
					.used_wrap = (uint8_t)(j->to >> 15)};
	int rc = vq_packed_dev_redo_publish(&cfg, &from, &to, j->flags);

	TEST_ASSERT(rc == 0 || rc == 1, "redo (state %ld): %d", at, rc);
	t->redone += rc == 1;
	return TEST_SUCCESS;
}

/* After the child: recover, serve everything, check exactly-once. */
static int
recover_and_check(struct it *t, long at)
{
	struct vq_dev_state st = t->stale;
	unsigned int before[NCOOKIE];
	const bool committed = t->j->committed != 0;

	if (committed)
		TEST_RUN(redo(t, at));
	reap(t);
	memcpy(before, t->reaped, sizeof(before));
	if (!t->packed) {
		/* As the vhost-user port: a split ring resumes at its used->idx. */
		st.last_avail = st.used_idx = t->e.dev.split.used->idx;
	}
	TEST_ASSERT_SUCCESS(vq_env_restart(&t->e, &st), "restart after %ld instructions", at);
	vq_dev_kick_disable(&t->e.dev);
	for (unsigned int k = 0; k < 4 * QSIZE && dev_burst(t, 4) > 0; k++)
		;
	reap(t);
	TEST_ASSERT_EQUAL(vq_dev_error(&t->e.dev), 0, "device intact (state %ld)", at);
	TEST_ASSERT_EQUAL(vq_drv_error(&t->e.drv), 0, "driver intact (state %ld): %s", at,
			  t->e.log_msg);
	TEST_ASSERT_EQUAL(vq_dev_inflight_stale(&t->e.dev), 0, "no stale mark (state %ld)", at);
	for (unsigned int c = 1; c <= t->posted; c++) {
		TEST_ASSERT_EQUAL(t->reaped[c], 1, "cookie %u used once (state %ld)", c, at);
		if (t->rx)
			continue;
		TEST_ASSERT(t->deliv[c] >= 1, "cookie %u delivered (state %ld)", c, at);
		TEST_ASSERT(t->deliv[c] == 1 || (t->deliv[c] == 2 && before[c] == 0 && !committed),
			    "cookie %u delivered %u times, published before the crash: %u, "
			    "committed: %d (state %ld)",
			    c, t->deliv[c], before[c], committed, at);
	}
	/* The queue goes on from there. */
	for (unsigned int r = 0; r < 3; r++) {
		TEST_ASSERT(post_one(t, WARM_COOKIE), "post after recovery (state %ld)", at);
		TEST_ASSERT_EQUAL(dev_burst(t, 4), 1, "taken after recovery (state %ld)", at);
		reap(t);
	}
	TEST_ASSERT_EQUAL(vq_drv_error(&t->e.drv), 0, "driver intact after (state %ld)", at);
	return TEST_SUCCESS;
}

static int
run_mode(uint64_t features, bool rx, bool two, bool hold)
{
	struct states ss = {0};
	struct it t;
	long resub = 0, redone = 0;
	int rc = TEST_SUCCESS;

	if (it_init(&t, features, rx, two) != 0) {
		it_free(&t);
		printf("FAIL: set-up\n");
		return TEST_FAILED;
	}
	t.hold = hold; /* the child's bursts only: recovery returns at once */
	if (collect(&t, &ss) != 0) {
		it_free(&t);
		free(ss.blob);
		TEST_SKIP("ptrace single-stepping is not available here (%s)", strerror(errno));
	}
	it_free(&t);
	for (size_t i = 0; i < ss.n && rc == TEST_SUCCESS; i++) {
		TEST_ASSERT_SUCCESS(it_init(&t, features, rx, two), "set-up");
		state_load(&t, ss.blob + i * ss.len);
		rc = recover_and_check(&t, (long)i);
		resub += vq_dev_inflight_resubmitted(&t.e.dev) > 0;
		redone += t.redone;
		it_free(&t);
	}
	free(ss.blob);
	if (rc != TEST_SUCCESS)
		return rc;
	printf("%s %s%s%s%s: %ld instructions, %zu distinct states a kill can leave, all "
	       "recovered; %ld took chains again, %ld published a committed record\n",
	       features & P ? "packed" : "split", rx ? "rx" : "tx",
	       two ? ", 2-descriptor chains" : "", features & ORD ? ", in order" : "",
	       hold ? ", held" : "", ss.steps, ss.n, resub, redone);
	TEST_ASSERT(ss.n > 10, "the child wrote the shared memory");
	TEST_ASSERT(resub > 0, "some crash left chains to take again");
	TEST_ASSERT(!hold || redone > 0, "some crash left a committed record to publish");
	return TEST_SUCCESS;
}

static int
run(uint64_t features, bool rx, bool two)
{
	return run_mode(features, rx, two, false);
}

static int
test_split(void)
{
	TEST_ASSERT_SUCCESS(run(0, false, true), "split tx");
	TEST_ASSERT_SUCCESS(run(0, true, false), "split rx");
	TEST_ASSERT_SUCCESS(run(ORD, false, false), "split tx in order");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_inflight_split_survives_a_kill_at_every_instruction, fast, test_split)

static int
test_packed(void)
{
	TEST_ASSERT_SUCCESS(run(P, false, true), "packed tx");
	TEST_ASSERT_SUCCESS(run(P, true, false), "packed rx");
	TEST_ASSERT_SUCCESS(run(P | ORD, false, false), "packed tx in order");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_inflight_packed_survives_a_kill_at_every_instruction, fast, test_packed)

/* Returns held across both bursts, published once (crash-safe mode). */
static int
test_split_held(void)
{
	TEST_ASSERT_SUCCESS(run_mode(0, false, true, true), "split tx, held");
	TEST_ASSERT_SUCCESS(run_mode(0, true, false, true), "split rx, held");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_inflight_split_held_returns_survive_a_kill_at_every_instruction, fast,
	      test_split_held)

static int
test_packed_held(void)
{
	TEST_ASSERT_SUCCESS(run_mode(P, false, true, true), "packed tx, held");
	TEST_ASSERT_SUCCESS(run_mode(P, true, false, true), "packed rx, held");
	TEST_ASSERT_SUCCESS(run_mode(P | ORD, false, false, true), "packed tx in order, held");
	return TEST_SUCCESS;
}
REGISTER_TEST(virtq_inflight_packed_held_returns_survive_a_kill_at_every_instruction, fast,
	      test_packed_held)
