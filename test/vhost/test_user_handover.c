/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hand-over of a back-end connection to another process
 * (vhost_user_handover.h): export, encode, decode, import into a second
 * back-end, and the front-end goes on talking to it on the same socket.
 * Then everything a hostile sender could put in the state, refused: the
 * encoding (truncated, bad magic, version, counts, flags, fd indexes) and
 * the meaning (features not offered, ring sizes, positions, addresses
 * outside memory, fds of the wrong kind, memory over budget), never a
 * crash, never a leaked fd or mapping.
 *
 * One thread: the test writes the front-end's messages on one end of a
 * socketpair and runs the back-end on the other by hand.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "vhost_user_handover.h"
#include "vt_user.h"

#define F(bit)	 (1ULL << (bit))
#define PF(f)	 VH_USER_PF(VH_USER_PROTOCOL_F_##f)
#define NRINGS	 4
#define MEM_SIZE (4u << 20)
#define MEM_GPA	 0x100000000ull

struct fixture {
	int fe;			   /* the front-end's end */
	struct vh_user_backend *a; /* the first back-end */
	struct vt_udev dev_a;
	struct vt_udev dev_b;
	struct vh_user_backend_config cfg_a;
	struct vh_user_backend_config cfg_b;
	struct vt_guest_mem mem;
	int kick[NRINGS];
	int call[NRINGS];
	int log_fd;
	bool packed;
};

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/* Sends one message and lets the back-end handle it; reads the reply if any. */
static int
msg(struct fixture *f, uint32_t req, bool reply, const void *p, uint32_t size, const int *fds,
    unsigned int nfds)
{
	struct vh_user_msg r;
	int rc = vt_send_raw(f->fe, req, VH_USER_VERSION | (reply ? VH_USER_NEED_REPLY_MASK : 0), p,
			     size, fds, nfds);

	if (rc < 0)
		return rc;
	rc = vh_user_backend_handle_readable(f->a);
	if (rc < 0)
		return rc;
	if (!reply)
		return 0;
	rc = vt_recv_reply(f->fe, &r, 1000);
	if (rc != 1)
		return -EIO;
	for (unsigned int i = 0; i < r.nfds; i++)
		close(r.fds[i]);
	return r.hdr.size == 8 && r.payload.u64 != 0 ? -EPROTO : 0;
}

static int
msg_u64(struct fixture *f, uint32_t req, uint64_t v)
{
	return msg(f, req, true, &v, sizeof(v), NULL, 0);
}

static int
setup_ring(struct fixture *f, unsigned int idx, uint32_t base)
{
	struct vh_vring_addr a = vt_ring_addr(&f->mem, idx);
	struct vh_user_vring_addr wa = {
		idx, 0, a.desc_user_addr, a.used_user_addr, a.avail_user_addr, 0};
	struct vh_user_vring_state num = {idx, 256}, b = {idx, base}, en = {idx, 1};
	uint64_t u = idx;

	f->kick[idx] = eventfd(0, EFD_CLOEXEC);
	f->call[idx] = eventfd(0, EFD_CLOEXEC);
	TEST_ASSERT_SUCCESS(msg(f, VH_USER_SET_VRING_NUM, true, &num, sizeof(num), NULL, 0), "num");
	TEST_ASSERT_SUCCESS(msg(f, VH_USER_SET_VRING_BASE, true, &b, sizeof(b), NULL, 0), "base");
	TEST_ASSERT_SUCCESS(msg(f, VH_USER_SET_VRING_ADDR, true, &wa, sizeof(wa), NULL, 0), "addr");
	TEST_ASSERT_SUCCESS(msg(f, VH_USER_SET_VRING_CALL, true, &u, sizeof(u), &f->call[idx], 1),
			    "call");
	TEST_ASSERT_SUCCESS(msg(f, VH_USER_SET_VRING_KICK, true, &u, sizeof(u), &f->kick[idx], 1),
			    "kick");
	if (idx != 3) /* ring 3 stays disabled */
		TEST_ASSERT_SUCCESS(
			msg(f, VH_USER_SET_VRING_ENABLE, true, &en, sizeof(en), NULL, 0), "enable");
	return TEST_SUCCESS;
}

/* A connection with features, memory, a dirty log, an inflight area and four rings. */
static int
fixture_up(struct fixture *f, bool packed)
{
	int sv[2];
	uint64_t features = F(VH_VIRTIO_F_VERSION_1) | F(VH_USER_F_PROTOCOL_FEATURES) |
			    F(VH_VIRTIO_RING_F_EVENT_IDX) | F(VH_VHOST_F_LOG_ALL) |
			    (packed ? F(VH_VIRTIO_F_RING_PACKED) : 0);
	struct vh_user_memory m = {1, 0, {{MEM_GPA, MEM_SIZE, 0, 0}}};
	struct vh_user_log log = {4096, 0};
	struct vh_user_inflight in = {0, 0, NRINGS, 256, 0};

	memset(f, 0, sizeof(*f));
	f->packed = packed;
	f->log_fd = -1;
	for (int i = 0; i < NRINGS; i++)
		f->kick[i] = f->call[i] = -1;
	vt_udev_init(&f->dev_a);
	vt_udev_init(&f->dev_b);
	f->cfg_a = (struct vh_user_backend_config){
		.ops = &vt_udev_ops, .device = &f->dev_a, .max_rings = NRINGS, .name = "a"};
	f->cfg_b = f->cfg_a;
	f->cfg_b.device = &f->dev_b;
	f->cfg_b.name = "b";
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&f->mem, MEM_SIZE, MEM_GPA), "guest memory");
	TEST_ASSERT_SUCCESS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
	f->fe = sv[0];
	f->a = vh_user_backend_create(&f->cfg_a, sv[1]);
	TEST_ASSERT_NOT_NULL(f->a, "back-end");
	TEST_ASSERT_SUCCESS(msg_u64(f, VH_USER_SET_PROTOCOL_FEATURES,
				    PF(MQ) | PF(REPLY_ACK) | PF(LOG_SHMFD) | PF(INFLIGHT_SHMFD) |
					    PF(CONFIGURE_MEM_SLOTS) | PF(STATUS)),
			    "protocol features");
	TEST_ASSERT_SUCCESS(msg_u64(f, VH_USER_SET_FEATURES, features), "features");
	TEST_ASSERT_SUCCESS(msg_u64(f, VH_USER_SET_STATUS, 0x0f), "status");
	m.regions[0].userspace_addr = (uint64_t)(uintptr_t)f->mem.base;
	TEST_ASSERT_SUCCESS(msg(f, VH_USER_SET_MEM_TABLE, true, &m,
				8 + sizeof(struct vh_user_mem_region), &f->mem.fd, 1),
			    "memory");
	/* The inflight area the back-end creates (GET_INFLIGHT_FD). */
	TEST_ASSERT_SUCCESS(msg(f, VH_USER_GET_INFLIGHT_FD, true, &in, sizeof(in), NULL, 0),
			    "inflight");
	{
		struct vt_guest_mem lm;

		TEST_ASSERT_SUCCESS(vt_guest_mem_create(&lm, 4096, 0), "log memory");
		f->log_fd = lm.fd;
		munmap(lm.base, lm.size);
	}
	TEST_ASSERT_SUCCESS(msg(f, VH_USER_SET_LOG_BASE, true, &log, sizeof(log), &f->log_fd, 1),
			    "log");
	for (unsigned int i = 0; i < NRINGS; i++)
		TEST_RUN(setup_ring(f, i,
				    packed ? (i | 0x8000u | ((i + 2) << 16) | 0x80000000u)
					   : 1000 * i + 7));
	for (unsigned int i = 0; i < NRINGS; i++) {
		TEST_ASSERT(vh_user_backend_ring_started(f->a, i), "ring %u started", i);
		f->dev_a.rings[i].advance.avail_idx = (uint16_t)(3 + i);
		f->dev_a.rings[i].advance.used_idx = (uint16_t)(3 + i);
	}
	return TEST_SUCCESS;
}

static void
fixture_down(struct fixture *f)
{
	vh_user_backend_destroy(f->a);
	f->a = NULL;
	if (f->fe >= 0)
		close(f->fe);
	for (int i = 0; i < NRINGS; i++) {
		if (f->kick[i] >= 0)
			close(f->kick[i]);
		if (f->call[i] >= 0)
			close(f->call[i]);
	}
	if (f->log_fd >= 0)
		close(f->log_fd);
	vt_guest_mem_destroy(&f->mem);
}

/* The fds as another process receives them. */
static int
dup_all(const int *fds, unsigned int n, int *out)
{
	for (unsigned int i = 0; i < n; i++) {
		out[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (out[i] < 0)
			return -errno;
	}
	return 0;
}

struct exported {
	struct vh_user_handover st;
	int fds[VH_USER_HANDOVER_MAX_FDS];
	unsigned int nfds;
	uint8_t blob[65536];
	long len;
};

static int
export_a(struct fixture *f, struct exported *x)
{
	TEST_ASSERT_SUCCESS(
		vh_user_backend_export(f->a, &x->st, x->fds, VH_USER_HANDOVER_MAX_FDS, &x->nfds),
		"export");
	x->len = vh_user_handover_encode(&x->st, x->nfds, x->blob, sizeof(x->blob));
	TEST_ASSERT(x->len > 0, "encode: %ld", x->len);
	TEST_ASSERT_EQUAL(vh_user_handover_encode(&x->st, x->nfds, NULL, 0), x->len,
			  "the length asked for");
	return TEST_SUCCESS;
}

/* Decodes @p blob and imports it with fresh copies of @p x's fds. */
static struct vh_user_backend *
import_blob(struct fixture *f, const struct exported *x, const void *blob, size_t len, int *rc)
{
	static struct vh_user_handover st;
	int fds[VH_USER_HANDOVER_MAX_FDS];
	struct vh_user_backend *b;

	*rc = vh_user_handover_decode(blob, len, x->nfds, &st);
	if (*rc < 0)
		return NULL;
	if (dup_all(x->fds, x->nfds, fds) != 0) {
		*rc = -EMFILE;
		return NULL;
	}
	vt_udev_init(&f->dev_b);
	b = vh_user_backend_import(&f->cfg_b, &st, fds, x->nfds);
	*rc = b == NULL ? -errno : 0;
	for (unsigned int i = 0; i < x->nfds; i++)
		if (fds[i] != -1)
			printf("FAIL: fd %u neither kept nor closed by the import\n", i);
	return b;
}

static int
roundtrip(bool packed)
{
	static struct exported x;
	static struct vh_user_handover again;
	struct fixture f;
	struct vh_user_backend *b;
	struct vh_user_vring_state q = {0, 0};
	struct vh_user_msg r;
	int fds0 = count_fds(), rc;

	TEST_RUN(fixture_up(&f, packed));
	TEST_RUN(export_a(&f, &x));
	for (unsigned int i = 0; i < NRINGS; i++)
		TEST_ASSERT(!vh_user_backend_ring_started(f.a, i) && f.dev_a.rings[i].stops == 1,
			    "ring %u stopped by the export", i);
	TEST_ASSERT_SUCCESS(vh_user_handover_decode(x.blob, (size_t)x.len, x.nfds, &again),
			    "decode");
	TEST_ASSERT(memcmp(&again, &x.st, sizeof(again)) == 0, "decode(encode(s)) == s");
	b = import_blob(&f, &x, x.blob, (size_t)x.len, &rc);
	TEST_ASSERT_NOT_NULL(b, "import: %s", strerror(-rc));
	/* The new device heard everything, and every ring resumes where it stopped. */
	TEST_ASSERT_EQUAL(vh_user_backend_features(b), vh_user_backend_features(f.a), "features");
	TEST_ASSERT_EQUAL(vh_user_backend_protocol_features(b),
			  vh_user_backend_protocol_features(f.a), "protocol features");
	TEST_ASSERT_EQUAL(vh_user_backend_status(b), 0x0f, "status");
	TEST_ASSERT(f.dev_b.mem_changes == 1 && f.dev_b.mem_nregions == 1, "memory");
	for (unsigned int i = 0; i < NRINGS; i++) {
		const struct vh_user_ring *ra = &f.dev_a.rings[i].last,
					  *rb = &f.dev_b.rings[i].last;

		TEST_ASSERT(f.dev_b.rings[i].started, "ring %u started in b", i);
		TEST_ASSERT_EQUAL(rb->base.avail_idx, (uint16_t)(ra->base.avail_idx + 3 + i),
				  "ring %u avail position", i);
		if (packed)
			TEST_ASSERT(rb->base.used_idx == (uint16_t)(ra->base.used_idx + 3 + i) &&
					    rb->base.avail_wrap == ra->base.avail_wrap &&
					    rb->base.used_wrap == ra->base.used_wrap,
				    "ring %u used position and wrap counters", i);
		TEST_ASSERT(rb->enabled == (i != 3), "ring %u enabled state", i);
		TEST_ASSERT(rb->size == ra->size && rb->desc_gpa == ra->desc_gpa &&
				    rb->used_gpa == ra->used_gpa && rb->avail_gpa == ra->avail_gpa,
			    "ring %u layout", i);
		TEST_ASSERT(rb->log != NULL && rb->inflight != NULL, "ring %u log and inflight", i);
		TEST_ASSERT(rb->call_fd >= 0 && rb->kick_fd >= 0, "ring %u notifiers", i);
	}
	/* The first back-end lets go; the front-end notices nothing. */
	vh_user_backend_destroy(f.a);
	f.a = b;
	TEST_ASSERT(recv(f.fe, &r, 1, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN,
		    "the front-end saw no hang-up");
	/* ... and talks to the new one on the same socket. */
	TEST_ASSERT_SUCCESS(
		vt_send_raw(f.fe, VH_USER_GET_VRING_BASE, VH_USER_VERSION, &q, sizeof(q), NULL, 0),
		"get base");
	TEST_ASSERT_EQUAL(vh_user_backend_handle_readable(b), 0, "b handles it");
	TEST_ASSERT_EQUAL(vt_recv_reply(f.fe, &r, 1000), 1, "reply");
	TEST_ASSERT_EQUAL(r.payload.state.num, x.st.rings[0].base, "the position handed over");
	fixture_down(&f);
	TEST_ASSERT_EQUAL(count_fds(), fds0, "no fd leaked");
	return TEST_SUCCESS;
}

static int
test_user_handover_roundtrip_split(void)
{
	return roundtrip(false);
}
REGISTER_TEST(user_handover_roundtrip_split, fast, test_user_handover_roundtrip_split)

static int
test_user_handover_roundtrip_packed(void)
{
	return roundtrip(true);
}
REGISTER_TEST(user_handover_roundtrip_packed, fast, test_user_handover_roundtrip_packed)

/* A hand-over that did not happen: the first back-end resumes every ring where it was. */
static int
test_user_handover_resume_after_failure(void)
{
	static struct exported x;
	struct fixture f;
	int fds0 = count_fds();

	TEST_RUN(fixture_up(&f, false));
	TEST_RUN(export_a(&f, &x));
	TEST_ASSERT_SUCCESS(vh_user_backend_resume(f.a), "resume");
	for (unsigned int i = 0; i < NRINGS; i++) {
		TEST_ASSERT(vh_user_backend_ring_started(f.a, i) && f.dev_a.rings[i].starts == 2,
			    "ring %u restarted", i);
		TEST_ASSERT_EQUAL(f.dev_a.rings[i].last.base.avail_idx,
				  (uint16_t)(1000 * i + 7 + 3 + i), "ring %u position", i);
	}
	/* A partial message makes an export wait (the front-end is mid-way). */
	TEST_ASSERT_EQUAL(send(f.fe, "\x01\x00", 2, 0), 2, "half a header");
	TEST_ASSERT_EQUAL(vh_user_backend_handle_readable(f.a), 0, "partial");
	TEST_ASSERT_EQUAL(
		vh_user_backend_export(f.a, &x.st, x.fds, VH_USER_HANDOVER_MAX_FDS, &x.nfds),
		-EBUSY, "export in the middle of a message");
	TEST_ASSERT(vh_user_backend_ring_started(f.a, 0), "nothing stopped by a refused export");
	TEST_ASSERT_EQUAL(vh_user_backend_export(f.a, &x.st, x.fds, 3, &x.nfds), -EBUSY,
			  "still mid-way");
	fixture_down(&f);
	TEST_ASSERT_EQUAL(count_fds(), fds0, "no fd leaked");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_handover_resume_after_failure, fast, test_user_handover_resume_after_failure)

/* ---- hostile states ---- */

/* Patches the encoded field at @p off (little-endian, @p bytes). */
static void
poke(uint8_t *b, size_t off, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

/* Offsets in the encoding (see user_handover.c). */
#define OFF_MAGIC	0
#define OFF_VERSION	4
#define OFF_RESERVED	6
#define OFF_LEN		8
#define OFF_NFDS	12
#define OFF_FEATURES	16
#define OFF_PROTOCOL	24
#define OFF_FLAGS	32
#define OFF_CONN	34
#define OFF_INFL_PACKED (34 + 4 * 4 + 16 + 4 + 16 + 4)
#define OFF_NREGIONS	(OFF_INFL_PACKED + 1)
#define OFF_REGION0	(OFF_NREGIONS + 4)
#define REGION_LEN	36
#define OFF_NRINGS	(OFF_REGION0 + REGION_LEN)
#define OFF_RING0	(OFF_NRINGS + 4)
#define RING_LEN	(4 * 3 + 8 * 4 + 4 * 3 + 1)

enum fd_kind { KIND_SOCKET, KIND_FILE, KIND_EVENT };

/* What fd index @p slot of @p st is for. */
static enum fd_kind
slot_kind(const struct vh_user_handover *st, unsigned int slot)
{
	if ((int32_t)slot == st->conn || (int32_t)slot == st->backend_req)
		return KIND_SOCKET;
	if ((int32_t)slot == st->log || (int32_t)slot == st->inflight)
		return KIND_FILE;
	for (uint32_t i = 0; i < st->nregions; i++)
		if ((int32_t)slot == st->regions[i].fd)
			return KIND_FILE;
	return KIND_EVENT;
}

struct bad_case {
	const char *what;
	size_t off;
	uint64_t v;
	unsigned int bytes;
	int decode_rc; /* 0: decodes, then the import must refuse */
};

static int
refuse(struct fixture *f, const struct exported *x, const struct bad_case *c)
{
	uint8_t blob[sizeof(x->blob)];
	struct vh_user_backend *b;
	int rc;

	memcpy(blob, x->blob, (size_t)x->len);
	poke(blob, c->off, c->v, c->bytes);
	b = import_blob(f, x, blob, (size_t)x->len, &rc);
	if (b != NULL)
		vh_user_backend_destroy(b);
	TEST_ASSERT(b == NULL, "%s: accepted", c->what);
	if (c->decode_rc != 0)
		TEST_ASSERT_EQUAL(rc, c->decode_rc, "%s: decode", c->what);
	for (unsigned int i = 0; i < NRINGS; i++)
		TEST_ASSERT(!f->dev_b.rings[i].started, "%s: ring %u left started", c->what, i);
	return TEST_SUCCESS;
}

static int
hostile(bool packed)
{
	static struct exported x;
	struct fixture f;
	int evfd = eventfd(0, EFD_CLOEXEC), pipefd[2], fds0;
	size_t ring1 = OFF_RING0 + RING_LEN;
	const struct bad_case cases[] = {
		{"magic", OFF_MAGIC, 0x12345678, 4, -EBADMSG},
		{"version", OFF_VERSION, VH_USER_HANDOVER_VERSION + 1, 2, -EPROTONOSUPPORT},
		{"reserved bits", OFF_RESERVED, 1, 2, -EBADMSG},
		{"length", OFF_LEN, (uint64_t)x.len + 1, 4, -EBADMSG},
		{"fd count", OFF_NFDS, x.nfds + 1, 4, -EBADMSG},
		{"flag byte", OFF_FLAGS, 2, 1, -EBADMSG},
		{"connection fd out of range", OFF_CONN, 9999, 4, -EBADMSG},
		{"connection fd missing", OFF_CONN, (uint32_t)-1, 4, -EBADMSG},
		{"connection fd negative", OFF_CONN, (uint32_t)-7, 4, -EBADMSG},
		{"region count", OFF_NREGIONS, 100000, 4, -EBADMSG},
		{"region count off by one", OFF_NREGIONS, 2, 4, -EBADMSG},
		{"ring count", OFF_NRINGS, 257, 4, -EBADMSG},
		{"ring flags", OFF_RING0 + RING_LEN - 1, 0x10, 1, -EBADMSG},
		{"fd named twice", OFF_RING0 + 4 * 3 + 8 * 4 + 4, 0, 4, -EBADMSG},
		{"packed flag", OFF_INFL_PACKED, 7, 1, -EBADMSG},
		/* Decodes, but means something this device cannot take. */
		{"features not offered", OFF_FEATURES, F(VH_VIRTIO_F_VERSION_1) | F(50), 8, 0},
		{"protocol features not offered", OFF_PROTOCOL, PF(HOST_NOTIFIER), 8, 0},
		{"region larger than its file", OFF_REGION0 + 8, 1ull << 40, 8, 0},
		{"region wraps", OFF_REGION0, UINT64_MAX - 4096, 8, 0},
		{"ring size 0 but running", OFF_RING0, 0, 4, 0},
		{"ring size not a power of two (split) or too large", OFF_RING0,
		 packed ? 32769 : 255, 4, 0},
		{"ring size too large", OFF_RING0, 65536, 4, 0},
		{"ring descriptors outside memory", OFF_RING0 + 12, 0x10, 8, 0},
		{"ring used area outside memory", ring1 + 20, UINT64_MAX - 8, 8, 0},
		{"ring address flags", OFF_RING0 + 8, 6, 4, 0},
		{"ring position", OFF_RING0 + 4, packed ? 0x7fffu : 0x10000u, 4, 0},
		{"running ring without a kick", OFF_RING0 + RING_LEN - 1, 0x9, 1, 0},
	};
	int rc = TEST_SUCCESS;

	TEST_ASSERT(evfd >= 0 && pipe2(pipefd, O_CLOEXEC) == 0, "fds");
	fds0 = count_fds();
	TEST_RUN(fixture_up(&f, packed));
	TEST_RUN(export_a(&f, &x));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) && rc == TEST_SUCCESS; i++) {
		struct bad_case c = cases[i];

		/* The length and fd-count cases need the real values. */
		if (c.off == OFF_LEN)
			c.v = (uint64_t)x.len + 1;
		if (c.off == OFF_NFDS)
			c.v = x.nfds + 1;
		rc = refuse(&f, &x, &c);
	}
	/* Every truncation and one extra byte. */
	for (long n = 0; n <= x.len && rc == TEST_SUCCESS; n++) {
		struct vh_user_handover st;
		uint8_t blob[sizeof(x.blob)];

		memcpy(blob, x.blob, (size_t)x.len);
		blob[x.len] = 0;
		if (n == x.len)
			poke(blob, OFF_LEN, (uint64_t)x.len + 1, 4);
		if (vh_user_handover_decode(blob, (size_t)(n == x.len ? n + 1 : n), x.nfds, &st) !=
		    -EBADMSG) {
			printf("FAIL: a state of %ld of %ld bytes decoded\n", n, x.len);
			rc = TEST_FAILED;
		}
	}
	/* Fds of the wrong kind: each slot in turn gets a pipe, an eventfd or a
	 * file; only a file of the same kind where a file goes, or an eventfd
	 * where an eventfd goes, may be taken. */
	for (unsigned int slot = 0; slot < x.nfds && rc == TEST_SUCCESS; slot++) {
		int subst[3] = {pipefd[0], evfd, f.mem.fd};
		enum fd_kind want = slot_kind(&x.st, slot);

		for (int k = 0; k < 3 && rc == TEST_SUCCESS; k++) {
			static struct exported y;
			struct vh_user_backend *b;
			int err;

			y = x;
			y.fds[slot] = subst[k];
			b = import_blob(&f, &y, y.blob, (size_t)y.len, &err);
			vh_user_backend_destroy(b);
			if (b != NULL &&
			    !((k == 1 && want == KIND_EVENT) || (k == 2 && want == KIND_FILE))) {
				printf("FAIL: fd %u (kind %d) replaced by kind %d was taken\n",
				       slot, want, k);
				rc = TEST_FAILED;
			}
			if (b == NULL && k == 1 && want == KIND_EVENT) {
				printf("FAIL: fd %u: another eventfd was refused\n", slot);
				rc = TEST_FAILED;
			}
		}
	}
	fixture_down(&f);
	close(evfd);
	close(pipefd[0]);
	close(pipefd[1]);
	TEST_ASSERT_EQUAL(count_fds(), fds0 - 3, "no fd leaked");
	return rc;
}

static int
test_user_handover_refuses_hostile_state_split(void)
{
	return hostile(false);
}
REGISTER_TEST(user_handover_refuses_hostile_state_split, fast,
	      test_user_handover_refuses_hostile_state_split)

static int
test_user_handover_refuses_hostile_state_packed(void)
{
	return hostile(true);
}
REGISTER_TEST(user_handover_refuses_hostile_state_packed, fast,
	      test_user_handover_refuses_hostile_state_packed)

/* Random bytes changed in a valid state: refused or taken, never a crash or a leak. */
static int
test_user_handover_survives_random_states(void)
{
	static struct exported x;
	struct fixture f;
	unsigned int taken = 0, refused = 0;
	int fds0 = count_fds();

	TEST_RUN(fixture_up(&f, false));
	TEST_RUN(export_a(&f, &x));
	srand(777);
	for (int i = 0; i < 3000; i++) {
		uint8_t blob[sizeof(x.blob)];
		struct vh_user_backend *b;
		int rc, flips = 1 + rand() % 4;

		memcpy(blob, x.blob, (size_t)x.len);
		for (int k = 0; k < flips; k++)
			blob[16 + rand() % (x.len - 16)] ^= (uint8_t)(1u << (rand() % 8));
		b = import_blob(&f, &x, blob, (size_t)x.len, &rc);
		if (b != NULL) {
			taken++;
			vh_user_backend_destroy(b);
		} else {
			refused++;
		}
	}
	printf("3000 mutated states: %u taken, %u refused\n", taken, refused);
	fixture_down(&f);
	TEST_ASSERT_EQUAL(count_fds(), fds0, "no fd leaked");
	TEST_ASSERT(refused > 0, "mutations are noticed");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_handover_survives_random_states, fast, test_user_handover_survives_random_states)
