/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user": crash-safe publication (the port's `state_dir`).
 *
 * Without it, a chain a guest transmitted is returned to the guest in the
 * burst that copied it into an mbuf, before the switch forwarded it: a
 * switch killed in between loses a frame the guest believes sent. With it,
 * a worker's poll of one queue is a transaction:
 *
 *   rx_burst(A)   takes chains from guest A's TX ring, copies them, and
 *                 writes their used entries without publishing them
 *                 (vq_dev_return_held: split, the used index stays;
 *                 packed, the first used descriptor's flags wait);
 *   tx_burst(B)   fills guest B's RX buffers the same way;
 *   rx_done(A)    (the engine, once every packet of the burst was sent or
 *                 dropped) commits: one record in this lcore's journal
 *                 lists each held ring and its used position before and
 *                 after (packed: and the flags that publish it); then
 *                 each ring is published and the guests are called.
 *
 * The journal is a small file per worker lcore, mapped shared, in the state
 * directory (a tmpfs such as /run survives the process, not the host, and
 * the guests do not survive the host either). A record is written into the
 * slot the last commit did not use and becomes the committed one with a
 * single store of its sequence number, so a process killed at any
 * instruction leaves either the previous record or the new one, whole.
 *
 * After a restart, the records are read back (vu_txn_setup) into a redo
 * table, kept in redo.bin until every entry has found its ring. When a
 * front-end reconnects and a split ring starts, its entry is redone if
 * the ring still shows the old index: the used entries are in guest memory
 * already, so publishing is one store of the new index. A packed ring's
 * entry is redone the same way (one store of the first used flags) if its
 * inflight region and ring still show the run unpublished
 * (vq_packed_dev_redo_publish): only the region tells where a packed ring
 * stands after a crash. Every frame the switch took is then delivered
 * exactly once: a transaction that was not committed published nothing
 * (its TX chains are taken again, the RX buffers it filled are filled
 * again), one that was committed is published whole.
 *
 * Limits (said in doc/vhost_user_port.md): a packed ring is recovered, and
 * holds, only with a front-end that keeps an inflight region (INFLIGHT_SHMFD; DPDK's
 * virtio_user resets packed rings when the back-end returns, QEMU's
 * virtio-net keeps no region); frames sent to
 * another port type (an uplink) are sent before the guest's chain is
 * returned, so a crash in between may send one twice; a transaction holds
 * at most VU_TXN_MAX_RINGS rings, later ones publish at once (the same
 * at-least-once), as do destination queues shared by several workers
 * (tx_flush).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "vhost_guard.h"
#include "vs_vhost_user_priv.h"

#define VU_JOURNAL_MAGIC  0x324c4e524a555356ULL /* "VSUJRNL2" */
#define VU_REDO_MAGIC	  0x324f444552555356ULL /* "VSUREDO2" */
#define VU_REDO_MAX	  1024
#define VU_JOURNAL_PREFIX "vu-journal-"
#define VU_REDO_FILE	  "redo.bin"
#define VU_STATE_PATH_LEN 4096

/*
 * One ring's publication: its used position goes from @from to @to (split:
 * used->idx; packed: the used slot, the wrap counter in bit 15, as
 * vhost-user's vring base).
 */
struct vu_jring {
	uint64_t key;	   /* the port's name, hashed (vu_port_key) */
	uint64_t used_gpa; /* where its used ring is: a guest that set up another ring differs */
	uint16_t ring;	   /* ring index */
	uint16_t size;	   /* entries */
	uint16_t from;	   /* used position before the transaction */
	uint16_t to;	   /* used position after it */
	uint16_t flags;	   /* packed: the flags that publish the run (at @from) */
	uint8_t packed;	   /* 1: a packed ring */
	uint8_t resv[5];
};

struct vu_jrec {
	uint64_t seq;	/* the commit this record belongs to */
	uint64_t stamp; /* TSC at commit: orders records of one ring across journals */
	uint32_t nrings;
	uint32_t resv;
	struct vu_jring ring[VU_TXN_MAX_RINGS];
};

/* The journal file of one lcore. */
struct vu_journal {
	uint64_t magic;
	uint32_t lcore;
	uint32_t resv;
	uint64_t committed; /* seq of the committed record, in slot[committed & 1] */
	uint64_t resv2[5];
	struct vu_jrec slot[2];
};

/* A redo entry, as kept in memory and in redo.bin. */
struct vu_redo {
	struct vu_jring r;
	uint64_t stamp;
};

struct vu_redo_file {
	uint64_t magic;
	uint32_t n;
	uint32_t resv;
	struct vu_redo e[];
};

/* Per-lcore transactions; NULL: this lcore does not hold. */
static struct vu_txn *vu_txns[RTE_MAX_LCORE];
static char vu_state_dir[VU_STATE_PATH_LEN];
static bool vu_txn_ready;
static int vu_state_lock_fd = -1; /* held for the life of the process (shared with a hand-over) */
/* The redo table: control thread only. */
static struct vu_redo vu_redo_tab[VU_REDO_MAX];
static unsigned int vu_redo_n;

uint64_t
vu_port_key(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (const unsigned char *c = (const unsigned char *)name; *c != '\0'; c++)
		h = (h ^ *c) * 0x100000001b3ULL;
	return h;
}

static int
state_path(char *buf, size_t len, const char *file)
{
	int n = snprintf(buf, len, "%s/%s", vu_state_dir, file);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- the redo table ---- */

/* Writes the table to redo.bin (a new file renamed over the old one). */
static int
redo_save(void)
{
	char path[VU_STATE_PATH_LEN], tmp[VU_STATE_PATH_LEN];
	size_t len = sizeof(struct vu_redo_file) + vu_redo_n * sizeof(struct vu_redo);
	struct vu_redo_file *f;
	int fd, rc = 0;

	if (state_path(path, sizeof(path), VU_REDO_FILE) != 0 ||
	    state_path(tmp, sizeof(tmp), VU_REDO_FILE ".new") != 0)
		return -ENAMETOOLONG;
	f = calloc(1, len);
	if (f == NULL)
		return -ENOMEM;
	f->magic = VU_REDO_MAGIC;
	f->n = vu_redo_n;
	memcpy(f->e, vu_redo_tab, vu_redo_n * sizeof(struct vu_redo));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, f, len) != (ssize_t)len)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	free(f);
	if (rc != 0)
		VU_LOG(ERR, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

/* Adds @p e, keeping per ring only the newest record. */
static void
redo_add(const struct vu_redo *e)
{
	for (unsigned int i = 0; i < vu_redo_n; i++) {
		struct vu_redo *o = &vu_redo_tab[i];

		if (o->r.key == e->r.key && o->r.ring == e->r.ring) {
			if (e->stamp > o->stamp)
				*o = *e;
			return;
		}
	}
	if (vu_redo_n == VU_REDO_MAX) {
		VU_LOG(WARNING, "more than %d rings to redo; ring %u forgotten", VU_REDO_MAX,
		       e->r.ring);
		return;
	}
	vu_redo_tab[vu_redo_n++] = *e;
}

static void
redo_load_file(const char *path)
{
	struct vu_redo_file h;
	struct vu_redo e;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return;
	if (fread(&h, sizeof(h), 1, f) == 1 && h.magic == VU_REDO_MAGIC && h.n <= VU_REDO_MAX)
		for (uint32_t i = 0; i < h.n && fread(&e, sizeof(e), 1, f) == 1; i++)
			redo_add(&e);
	fclose(f);
}

/* The committed record of a journal file becomes redo entries. */
static void
redo_load_journal(const char *path)
{
	struct vu_journal *j = malloc(sizeof(*j));
	const struct vu_jrec *rec;
	FILE *f = fopen(path, "rb");

	if (f == NULL || j == NULL)
		goto out;
	if (fread(j, sizeof(*j), 1, f) != 1 || j->magic != VU_JOURNAL_MAGIC || j->committed == 0)
		goto out;
	rec = &j->slot[j->committed & 1];
	if (rec->seq != j->committed || rec->nrings > VU_TXN_MAX_RINGS)
		goto out;
	for (uint32_t i = 0; i < rec->nrings; i++) {
		struct vu_redo e = {.r = rec->ring[i], .stamp = rec->stamp};

		redo_add(&e);
	}
out:
	if (f != NULL)
		fclose(f);
	free(j);
}

static void
redo_load(void)
{
	char path[VU_STATE_PATH_LEN];
	struct dirent *d;
	DIR *dir;

	if (state_path(path, sizeof(path), VU_REDO_FILE) == 0)
		redo_load_file(path);
	dir = opendir(vu_state_dir);
	if (dir == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, VU_JOURNAL_PREFIX, strlen(VU_JOURNAL_PREFIX)) != 0)
			continue;
		if (state_path(path, sizeof(path), d->d_name) == 0)
			redo_load_journal(path);
	}
	closedir(dir);
}

/* Split: one store of the used index, if the ring still shows the old one. */
static void
redo_split(struct vs_vu_port *p, const struct vh_user_ring *ring, const struct vu_jring *e)
{
	struct vq_used *used = ring->used;
	uint16_t now = __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);

	if (now == e->from && e->from != e->to) {
		__atomic_store_n(&used->idx, e->to, __ATOMIC_RELEASE);
		VU_LOG(INFO,
		       "%s: ring %u: published %u used entries the previous instance "
		       "committed (index %u to %u)",
		       p->base.name, ring->idx, (uint16_t)(e->to - e->from), e->from, e->to);
	} else if (now != e->to) {
		VU_LOG(DEBUG, "%s: ring %u: redo record (%u to %u) does not match (index %u)",
		       p->base.name, ring->idx, e->from, e->to, now);
	}
}

/* Packed: one store of the run's first flags, if the region and ring say it is unpublished. */
static void
redo_packed(struct vs_vu_port *p, const struct vh_user_ring *ring, const struct vq_dev_config *cfg,
	    const struct vu_jring *e)
{
	const struct vq_dev_state from = {.used_idx = e->from & 0x7fff,
					  .used_wrap = (uint8_t)(e->from >> 15)};
	const struct vq_dev_state to = {.used_idx = e->to & 0x7fff,
					.used_wrap = (uint8_t)(e->to >> 15)};
	int rc = vq_packed_dev_redo_publish(cfg, &from, &to, e->flags);

	if (rc == 1)
		VU_LOG(INFO,
		       "%s: ring %u: published the used descriptors the previous instance "
		       "committed (slot %u wrap %u to slot %u wrap %u)",
		       p->base.name, ring->idx, from.used_idx, from.used_wrap, to.used_idx,
		       to.used_wrap);
	else if (rc < 0)
		VU_LOG(WARNING, "%s: ring %u: redo record (%#x to %#x, flags %#x) is not valid",
		       p->base.name, ring->idx, e->from, e->to, e->flags);
	else if (ring->inflight == NULL && e->from != e->to)
		VU_LOG(WARNING,
		       "%s: ring %u: cannot publish what the previous instance committed: a "
		       "packed ring's position after a crash is known only from an inflight "
		       "region, and the front-end keeps none",
		       p->base.name, ring->idx);
	else
		VU_LOG(DEBUG, "%s: ring %u: redo record (%#x to %#x) does not match the ring",
		       p->base.name, ring->idx, e->from, e->to);
}

void
vu_redo_ring(struct vs_vu_port *p, const struct vh_user_ring *ring, const struct vq_dev_config *cfg)
{
	for (unsigned int i = 0; i < vu_redo_n; i++) {
		const struct vu_jring *e = &vu_redo_tab[i].r;

		if (e->key != p->key || e->ring != ring->idx)
			continue;
		if (e->size != ring->size || e->used_gpa != ring->used_gpa ||
		    e->packed != ring->packed)
			VU_LOG(DEBUG, "%s: ring %u: redo record is for another ring", p->base.name,
			       ring->idx);
		else if (ring->packed)
			redo_packed(p, ring, cfg, e);
		else
			redo_split(p, ring, e);
		vu_redo_tab[i] = vu_redo_tab[--vu_redo_n];
		redo_save();
		return;
	}
}

/*
 * One instance per directory: a second one would read journals still being
 * written and truncate them under the first. The lock stays held (the fd
 * open) for the life of the process and goes with it, however it ends. A
 * hand-over passes the open file along (SCM_RIGHTS): both processes hold
 * the one lock until the old one exits, so no third process can take it
 * in between. Returns 0, -EBUSY (held elsewhere) or -errno.
 */
static int
state_lock(void)
{
	char path[VU_STATE_PATH_LEN];
	int fd, rc;

	if (state_path(path, sizeof(path), "lock") != 0) {
		VU_LOG(ERR, "state directory %s: the path of its lock is too long", vu_state_dir);
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		VU_LOG(ERR, "cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		VU_LOG(ERR, "state directory %s is in use by another process", vu_state_dir);
		close(fd);
		return -EBUSY;
	}
	vu_state_lock_fd = fd;
	return 0;
}

/* ---- journals ---- */

static struct vu_journal *
journal_open(unsigned int lcore)
{
	char name[64], path[VU_STATE_PATH_LEN];
	struct vu_journal *j;
	int fd;

	snprintf(name, sizeof(name), VU_JOURNAL_PREFIX "%u.bin", lcore);
	if (state_path(path, sizeof(path), name) != 0)
		return NULL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		VU_LOG(ERR, "cannot create %s: %s", path, strerror(errno));
		return NULL;
	}
	if (ftruncate(fd, sizeof(*j)) != 0) {
		VU_LOG(ERR, "cannot size %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	j = mmap(NULL, sizeof(*j), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (j == MAP_FAILED) {
		VU_LOG(ERR, "cannot map %s: %s", path, strerror(errno));
		return NULL;
	}
	/* Its records were read into the redo table (saved) already. */
	memset(j, 0, sizeof(*j));
	j->magic = VU_JOURNAL_MAGIC;
	j->lcore = lcore;
	return j;
}

/*
 * The lock a hand-over brought (the old process's open file, by SCM_RIGHTS:
 * the same lock, held by both processes until the old one exits, never
 * free in between). It must be the lock file of our directory, and held.
 * Takes @p fd (kept, or closed).
 */
static int
state_lock_adopt(int fd)
{
	char path[VU_STATE_PATH_LEN];
	struct stat got, ours;
	int rc = 0;

	if (state_path(path, sizeof(path), "lock") != 0) {
		rc = -ENAMETOOLONG;
	} else if (fstat(fd, &got) != 0 || !S_ISREG(got.st_mode) || stat(path, &ours) != 0 ||
		   got.st_dev != ours.st_dev || got.st_ino != ours.st_ino) {
		VU_LOG(ERR, "state directory %s: the lock handed over is not %s", vu_state_dir,
		       path);
		rc = -EBADF;
	} else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		/* On the open file that holds it, a no-op that says so. */
		VU_LOG(ERR, "state directory %s: the lock handed over is not held", vu_state_dir);
		rc = -EBUSY;
	} else if (vu_state_lock_fd < 0) {
		vu_state_lock_fd = fd;
		VU_LOG(INFO, "state directory %s: lock received with the hand-over", vu_state_dir);
		return 0;
	} else if (fstat(vu_state_lock_fd, &ours) != 0 || got.st_dev != ours.st_dev ||
		   got.st_ino != ours.st_ino) {
		/* Another port brought it already (or we hold it): not the same file? */
		rc = -EBADF;
	}
	close(fd);
	return rc;
}

int
vu_txn_lock_fd(void)
{
	return vu_state_lock_fd;
}

void
vu_txn_resume(void)
{
	unsigned int lcore;

	if (!vu_txn_ready)
		return;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		struct vu_journal *j = vu_txns[lcore] != NULL ? vu_txns[lcore]->j : NULL;

		/* The other process may have started it anew (all zeroes). */
		if (j != NULL && j->magic != VU_JOURNAL_MAGIC) {
			j->lcore = lcore;
			__atomic_store_n(&j->magic, VU_JOURNAL_MAGIC, __ATOMIC_RELEASE);
		}
	}
}

int
vu_txn_setup(const char *dir)
{
	struct stat st;

	if (vu_state_dir[0] != '\0') {
		if (strcmp(dir, vu_state_dir) != 0) {
			VU_LOG(ERR, "state directory %s: another one (%s) is in use", dir,
			       vu_state_dir);
			return -EINVAL;
		}
		return 0;
	}
	if (strlen(dir) >= sizeof(vu_state_dir) - 64)
		return -ENAMETOOLONG;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		VU_LOG(ERR, "state directory %s: %s", dir,
		       errno != 0 ? strerror(errno) : "not a directory");
		return -ENOTDIR;
	}
	snprintf(vu_state_dir, sizeof(vu_state_dir), "%s", dir);
	return 0;
}

/* Reads what a killed instance left, starts a journal per worker lcore. */
static int
txn_start(void)
{
	unsigned int lcore;

	redo_load();
	if (redo_save() != 0)
		return -EIO;
	if (vu_redo_n > 0)
		VU_LOG(INFO, "%s: %u ring(s) to complete when their guests reconnect", vu_state_dir,
		       vu_redo_n);
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		struct vu_txn *t;

		if (vu_txns[lcore] != NULL)
			continue;
		t = calloc(1, sizeof(*t));
		if (t == NULL)
			return -ENOMEM;
		t->j = journal_open(lcore);
		if (t->j == NULL) {
			free(t);
			return -EIO;
		}
		/* Whole, or not there: bursts look it up without a check. */
		vu_txns[lcore] = t;
	}
	vu_txn_ready = true;
	return 0;
}

int
vu_txn_open(int lock_fd)
{
	int rc;

	if (vu_state_dir[0] == '\0') {
		if (lock_fd >= 0)
			close(lock_fd);
		return -EINVAL;
	}
	rc = lock_fd >= 0 ? state_lock_adopt(lock_fd) : vu_state_lock_fd >= 0 ? 0 : state_lock();
	if (rc < 0)
		return rc;
	return vu_txn_ready ? 0 : txn_start();
}

struct vu_txn *
vu_txn_self(void)
{
	unsigned int lcore = rte_lcore_id();

	return lcore < RTE_MAX_LCORE ? vu_txns[lcore] : NULL;
}

/* A ring's used position as the journal keeps it (struct vu_jring). */
static inline uint16_t
ring_pos(const struct vu_ring *r)
{
	if (r->packed)
		return (uint16_t)(r->vq.used_idx | (uint16_t)(r->vq.used_wrap << 15));
	return r->vq.used_idx;
}

bool
vu_txn_add(struct vu_txn *t, struct vu_ring *r)
{
	if (r->txn == t)
		return true;
	if (t->n == VU_TXN_MAX_RINGS)
		return false;
	t->ring[t->n] = r;
	t->from[t->n] = ring_pos(r);
	t->n++;
	r->txn = t;
	return true;
}

/* Publishes @p r and calls its guest if it wants to hear. */
static inline void
vu_ring_publish_now(struct vu_ring *r)
{
	vq_dev_publish(&r->vq);
	if (vq_dev_call_needed(&r->vq))
		vu_call(r);
}

/*
 * The same, armed (vhost_guard.h): the guest may have pulled its memory
 * away since the burst that filled the ring. The fault costs that ring
 * (and its connection), not the process nor the other rings of the
 * transaction. Called unarmed only: guards do not nest.
 */
static __rte_noinline void
vu_ring_publish_guarded(struct vu_ring *r)
{
	struct vh_guard *g = vh_guard_self();

	if (sigsetjmp(g->jb, 0) != 0) {
		vu_ring_fault(r, g);
		return;
	}
	vh_guard_arm(g);
	vu_ring_publish_now(r);
	vh_guard_disarm(g);
}

/* Publishes @p r, out of its transaction. */
static void
vu_ring_publish(struct vu_ring *r)
{
	r->txn = NULL;
	if (r->guard)
		vu_ring_publish_guarded(r);
	else
		vu_ring_publish_now(r);
}

void
vu_txn_commit(struct vu_txn *t)
{
	struct vu_journal *j = t->j;
	const uint64_t seq = j->committed + 1;
	struct vu_jrec *rec = &j->slot[seq & 1];

	for (unsigned int i = 0; i < t->n; i++) {
		const struct vu_ring *r = t->ring[i];
		struct vu_jring *e = &rec->ring[i];

		e->key = r->port->key;
		e->used_gpa = r->used_gpa;
		e->ring = r->idx;
		e->size = r->vq.size;
		e->from = t->from[i];
		e->to = ring_pos(r);
		e->packed = r->packed;
		e->flags = r->packed ? vq_packed_dev_held_flags(&r->vq) : 0;
	}
	rec->nrings = t->n;
	rec->stamp = rte_get_tsc_cycles();
	rec->seq = seq;
	/* The commit: the record above is whole before it names it, and
	 * every used index below is published after (release stores). */
	__atomic_store_n(&j->committed, seq, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < t->n; i++)
		vu_ring_publish(t->ring[i]);
	t->n = 0;
}

void
vu_txn_release(struct vu_txn *t, struct vu_ring *r)
{
	for (unsigned int i = 0; i < t->n; i++) {
		if (t->ring[i] != r)
			continue;
		vu_ring_publish(r);
		t->n--;
		t->ring[i] = t->ring[t->n];
		t->from[i] = t->from[t->n];
		return;
	}
}

void
vu_txn_forget(struct vu_ring *r)
{
	struct vu_txn *t = r->txn;

	if (t == NULL)
		return;
	for (unsigned int i = 0; i < t->n; i++) {
		if (t->ring[i] != r)
			continue;
		t->n--;
		t->ring[i] = t->ring[t->n];
		t->from[i] = t->from[t->n];
		break;
	}
	r->txn = NULL;
}

void
vu_txn_join(struct vu_ring *r)
{
	struct vu_txn *t = vu_txn_self();

	if (t != NULL)
		vu_txn_add(t, r);
}

void
vu_txn_end(struct vu_ring *r, const struct vq_burst *b)
{
	struct vu_txn *t = vu_txn_self();

	if (t != NULL && r->txn == t) {
		vq_dev_return_held(&r->vq, b);
		return;
	}
	/* Not in a transaction (it was full, or this lcore has none). */
	vq_dev_return(&r->vq, b);
	if (vq_dev_call_needed(&r->vq))
		vu_call(r);
}

void
vu_txn_finish(void)
{
	struct vu_txn *t = vu_txn_self();

	if (t != NULL && t->n > 0)
		vu_txn_commit(t);
}
