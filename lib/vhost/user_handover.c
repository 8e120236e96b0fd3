/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The encoding of a back-end connection's state for a hand-over to another
 * process (vhost_user_handover.h). Little-endian fields in a fixed order,
 * no padding, behind a header with magic, version and length:
 *
 *   header   magic u32 "VHHO", version u16, reserved u16 (0), length u32,
 *            nfds u32 (the fds sent along)
 *   conn     features u64, protocol_features u64, flags u8 (bit 0
 *            features_set), status u8, conn i32, backend_req i32, log_fd i32
 *   log      fd i32, size u64, offset u64
 *   inflight fd i32, size u64, offset u64, queues u16, queue_size u16,
 *            packed u8
 *   regions  count u32, then per region: gpa u64, size u64, uva u64,
 *            offset u64, fd i32
 *   rings    count u32, then per ring: num u32, base u32, addr flags u32,
 *            desc u64, used u64, avail u64, log u64, kick i32, call i32,
 *            err i32, flags u8 (bit 0 addr_set, 1 kick_set, 2 enabled,
 *            3 started)
 *
 * The decoder trusts nothing: every read is bounded, every count, flag and
 * fd index checked, trailing bytes refused.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "private.h"
#include "vhost_user_handover.h"

#define HO_MAGIC 0x4f484856u /* "VHHO" little-endian */

#define RING_ADDR_SET 0x1
#define RING_KICK_SET 0x2
#define RING_ENABLED  0x4
#define RING_STARTED  0x8
#define RING_FLAGS    0xf

/* ---- fields ---- */

/*
 * The fixed fields of the layout above, in their order: where each is in
 * its struct, and its size there, which is its size on the wire (an i32 is
 * written as its u32 bits, a bool as a byte 0 or 1). One table serves both
 * directions.
 */
struct field {
	uint16_t off;
	uint8_t size;
	bool is_bool;
};

#define FIELD_AS(type, member, is_bool)                                                            \
	{                                                                                          \
		offsetof(type, member), sizeof(((type *)NULL)->member), is_bool                    \
	}
#define FIELD(type, member)	 FIELD_AS(type, member, false)
#define BOOL_FIELD(type, member) FIELD_AS(type, member, true)
#define NB(a)			 (sizeof(a) / sizeof((a)[0]))

_Static_assert(sizeof(bool) == 1, "a bool is one byte on the wire and in the structs");

static const struct field conn_fields[] = {
	FIELD(struct vh_user_handover, features),
	FIELD(struct vh_user_handover, protocol_features),
	BOOL_FIELD(struct vh_user_handover, features_set),
	FIELD(struct vh_user_handover, status),
	FIELD(struct vh_user_handover, conn),
	FIELD(struct vh_user_handover, backend_req),
	FIELD(struct vh_user_handover, log_fd),
	FIELD(struct vh_user_handover, log),
	FIELD(struct vh_user_handover, log_size),
	FIELD(struct vh_user_handover, log_offset),
	FIELD(struct vh_user_handover, inflight),
	FIELD(struct vh_user_handover, inflight_size),
	FIELD(struct vh_user_handover, inflight_offset),
	FIELD(struct vh_user_handover, inflight_queues),
	FIELD(struct vh_user_handover, inflight_queue_size),
	BOOL_FIELD(struct vh_user_handover, inflight_packed),
};

static const struct field region_fields[] = {
	FIELD(struct vh_user_handover_region, guest_phys_addr),
	FIELD(struct vh_user_handover_region, size),
	FIELD(struct vh_user_handover_region, user_addr),
	FIELD(struct vh_user_handover_region, mmap_offset),
	FIELD(struct vh_user_handover_region, fd),
};

/* A ring's fields before its flags byte (RING_*). */
static const struct field ring_fields[] = {
	FIELD(struct vh_user_handover_ring, num),
	FIELD(struct vh_user_handover_ring, base),
	FIELD(struct vh_user_handover_ring, addr.flags),
	FIELD(struct vh_user_handover_ring, addr.desc_user_addr),
	FIELD(struct vh_user_handover_ring, addr.used_user_addr),
	FIELD(struct vh_user_handover_ring, addr.avail_user_addr),
	FIELD(struct vh_user_handover_ring, addr.log_guest_addr),
	FIELD(struct vh_user_handover_ring, kick),
	FIELD(struct vh_user_handover_ring, call),
	FIELD(struct vh_user_handover_ring, err),
};

union field_bits {
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
};

/* Field @p f of @p obj, its bytes read as an unsigned number. */
static uint64_t
field_load(const void *obj, const struct field *f)
{
	union field_bits v;

	memcpy(&v, (const uint8_t *)obj + f->off, f->size);
	return f->size == 1 ? v.u8 : f->size == 2 ? v.u16 : f->size == 4 ? v.u32 : v.u64;
}

static void
field_store(void *obj, const struct field *f, uint64_t x)
{
	union field_bits v;

	if (f->size == 1)
		v.u8 = (uint8_t)x;
	else if (f->size == 2)
		v.u16 = (uint16_t)x;
	else if (f->size == 4)
		v.u32 = (uint32_t)x;
	else
		v.u64 = x;
	memcpy((uint8_t *)obj + f->off, &v, f->size);
}

/* ---- writing ---- */

struct wr {
	uint8_t *p;
	size_t cap;
	size_t len;
};

static void
put(struct wr *w, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++, w->len++)
		if (w->len < w->cap)
			w->p[w->len] = (uint8_t)(v >> (8 * i));
}

static void
put_u8(struct wr *w, uint8_t v)
{
	put(w, v, 1);
}

static void
put_u16(struct wr *w, uint16_t v)
{
	put(w, v, 2);
}

static void
put_u32(struct wr *w, uint32_t v)
{
	put(w, v, 4);
}

static void
put_fields(struct wr *w, const void *obj, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(w, field_load(obj, &f[i]), f[i].size);
}

static bool
fd_ok(int32_t fd, unsigned int nfds)
{
	return fd == -1 || (fd >= 0 && (uint32_t)fd < nfds);
}

static bool
state_fds_ok(const struct vh_user_handover *st, unsigned int nfds)
{
	bool ok = fd_ok(st->conn, nfds) && st->conn >= 0 && fd_ok(st->backend_req, nfds) &&
		  fd_ok(st->log_fd, nfds) && fd_ok(st->log, nfds) && fd_ok(st->inflight, nfds);

	for (uint32_t i = 0; ok && i < st->nregions; i++)
		ok = fd_ok(st->regions[i].fd, nfds) && st->regions[i].fd >= 0;
	for (uint32_t i = 0; ok && i < st->nrings; i++)
		ok = fd_ok(st->rings[i].kick, nfds) && fd_ok(st->rings[i].call, nfds) &&
		     fd_ok(st->rings[i].err, nfds);
	return ok;
}

static void
put_ring(struct wr *w, const struct vh_user_handover_ring *r)
{
	put_fields(w, r, ring_fields, NB(ring_fields));
	put_u8(w, (uint8_t)((r->addr_set ? RING_ADDR_SET : 0) | (r->kick_set ? RING_KICK_SET : 0) |
			    (r->enabled ? RING_ENABLED : 0) | (r->started ? RING_STARTED : 0)));
}

static void
put_state(struct wr *w, const struct vh_user_handover *st, unsigned int nfds)
{
	put_u32(w, HO_MAGIC);
	put_u16(w, VH_USER_HANDOVER_VERSION);
	put_u16(w, 0);
	put_u32(w, 0); /* the length, patched by the caller */
	put_u32(w, nfds);
	put_fields(w, st, conn_fields, NB(conn_fields));
	put_u32(w, st->nregions);
	for (uint32_t i = 0; i < st->nregions; i++)
		put_fields(w, &st->regions[i], region_fields, NB(region_fields));
	put_u32(w, st->nrings);
	for (uint32_t i = 0; i < st->nrings; i++)
		put_ring(w, &st->rings[i]);
}

long
vh_user_handover_encode(const struct vh_user_handover *st, unsigned int nfds, void *buf, size_t cap)
{
	struct wr w = {buf, buf != NULL ? cap : 0, 0}, len;

	if (st->nregions > VH_USER_MAX_MEM_SLOTS || st->nrings > VH_USER_HANDOVER_MAX_RINGS ||
	    nfds > VH_USER_HANDOVER_MAX_FDS || !state_fds_ok(st, nfds))
		return -EINVAL;
	put_state(&w, st, nfds);
	if (w.len > w.cap)
		return w.cap == 0 ? (long)w.len : -ENOSPC;
	len = (struct wr){buf, cap, 8};
	put_u32(&len, (uint32_t)w.len);
	return (long)w.len;
}

/* ---- reading ---- */

struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

static uint64_t
get(struct rd *r, unsigned int bytes)
{
	uint64_t v = 0;

	if (r->bad || r->len - r->off < bytes) {
		r->bad = true;
		return 0;
	}
	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += bytes;
	return v;
}

static uint8_t
get_u8(struct rd *r)
{
	return (uint8_t)get(r, 1);
}

static uint16_t
get_u16(struct rd *r)
{
	return (uint16_t)get(r, 2);
}

static uint32_t
get_u32(struct rd *r)
{
	return (uint32_t)get(r, 4);
}

/* A bool other than 0 or 1 marks the input bad. */
static void
get_fields(struct rd *r, void *obj, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = get(r, f[i].size);

		if (f[i].is_bool && v > 1) {
			r->bad = true;
			v = 0;
		}
		field_store(obj, &f[i], v);
	}
}

static void
get_ring(struct rd *r, struct vh_user_handover_ring *ring, uint32_t idx)
{
	uint8_t flags;

	get_fields(r, ring, ring_fields, NB(ring_fields));
	ring->addr.index = idx;
	flags = get_u8(r);
	if (flags & ~RING_FLAGS)
		r->bad = true;
	ring->addr_set = (flags & RING_ADDR_SET) != 0;
	ring->kick_set = (flags & RING_KICK_SET) != 0;
	ring->enabled = (flags & RING_ENABLED) != 0;
	ring->started = (flags & RING_STARTED) != 0;
}

/* Marks fd index @p fd used; false if it is out of range or used already. */
static bool
claim_fd(int32_t fd, unsigned int nfds, uint8_t *used)
{
	if (fd == -1)
		return true;
	if (!fd_ok(fd, nfds) || used[fd])
		return false;
	used[fd] = 1;
	return true;
}

static bool
claim_all_fds(const struct vh_user_handover *st, unsigned int nfds)
{
	uint8_t used[VH_USER_HANDOVER_MAX_FDS] = {0};
	bool ok = st->conn >= 0 && claim_fd(st->conn, nfds, used) &&
		  claim_fd(st->backend_req, nfds, used) && claim_fd(st->log_fd, nfds, used) &&
		  claim_fd(st->log, nfds, used) && claim_fd(st->inflight, nfds, used);

	for (uint32_t i = 0; ok && i < st->nregions; i++)
		ok = st->regions[i].fd >= 0 && claim_fd(st->regions[i].fd, nfds, used);
	for (uint32_t i = 0; ok && i < st->nrings; i++)
		ok = claim_fd(st->rings[i].kick, nfds, used) &&
		     claim_fd(st->rings[i].call, nfds, used) &&
		     claim_fd(st->rings[i].err, nfds, used);
	return ok;
}

static int
decode_header(struct rd *r, size_t len, unsigned int nfds)
{
	uint32_t magic = get_u32(r), total;
	uint16_t version = get_u16(r), reserved = get_u16(r);

	total = get_u32(r);
	if (r->bad || magic != HO_MAGIC) {
		VH_WARN("hand-over state: not a back-end state (bad magic)");
		return -EBADMSG;
	}
	if (version != VH_USER_HANDOVER_VERSION) {
		VH_WARN("hand-over state: version %u, this library reads version %u", version,
			VH_USER_HANDOVER_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (reserved != 0 || total != len || get_u32(r) != nfds || r->bad) {
		VH_WARN("hand-over state: length %zu or fd count %u does not match its header", len,
			nfds);
		return -EBADMSG;
	}
	return 0;
}

int
vh_user_handover_decode(const void *buf, size_t len, unsigned int nfds, struct vh_user_handover *st)
{
	struct rd r = {buf, buf != NULL ? len : 0, 0, false};
	int rc;

	memset(st, 0, sizeof(*st));
	if (nfds > VH_USER_HANDOVER_MAX_FDS) {
		VH_WARN("hand-over state: %u fds, at most %d", nfds, VH_USER_HANDOVER_MAX_FDS);
		return -EBADMSG;
	}
	rc = decode_header(&r, len, nfds);
	if (rc < 0)
		return rc;
	get_fields(&r, st, conn_fields, NB(conn_fields));
	st->nregions = get_u32(&r);
	if (st->nregions > VH_USER_MAX_MEM_SLOTS)
		r.bad = true;
	for (uint32_t i = 0; !r.bad && i < st->nregions; i++)
		get_fields(&r, &st->regions[i], region_fields, NB(region_fields));
	st->nrings = get_u32(&r);
	if (st->nrings > VH_USER_HANDOVER_MAX_RINGS)
		r.bad = true;
	for (uint32_t i = 0; !r.bad && i < st->nrings; i++)
		get_ring(&r, &st->rings[i], i);
	if (r.bad || r.off != len) {
		VH_WARN("hand-over state: malformed (%s at byte %zu of %zu)",
			r.off != len && !r.bad ? "trailing bytes" : "bad field or short", r.off,
			len);
		return -EBADMSG;
	}
	if (!claim_all_fds(st, nfds)) {
		VH_WARN("hand-over state: an fd index is out of range, missing or named twice");
		return -EBADMSG;
	}
	return 0;
}
