/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_HANDOVER_PRIV_H
#define VS_HANDOVER_PRIV_H

/*
 * The hand-over's records (vs_handover.h) and their transport, shared by
 * the old side (vs_handover.c) and the new side (vs_takeover.c). Fixed
 * layouts in host byte order: both ends run on one host.
 */

#include <stdint.h>

#include <rte_log.h>

#include "vs_handover.h"
#include "vs_port.h"

extern int vs_handover_logtype;
#define HO_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, vs_handover_logtype, "takeover: " fmt "\n", ##__VA_ARGS__)

#define HO_MAGIC 0x4f485356u /* "VSHO" */

enum ho_type {
	HO_PORT = 1,   /* old -> new: one port */
	HO_FDB = 2,    /* old -> new: learned stations */
	HO_END = 3,    /* old -> new: nothing more */
	HO_COMMIT = 4, /* new -> old: everything loaded; let go */
	HO_ABORT = 5,  /* new -> old: giving up (payload: why) */
	HO_DONE = 6,   /* old -> new: committed: the saved ports are yours, forward */
	HO_CLOSED = 7, /* old -> new: the other ports are closed; the management listener */
};

/* Largest payload of any record: a SPEC, a driver state, an FDB. */
#define HO_MAX_PAYLOAD (64u << 20)
#define HO_MAX_SPEC    8192

struct ho_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t len;  /* payload bytes after the header */
	uint32_t nfds; /* fds after the payload */
};

#define HO_PORT_F_SAVED 0x1 /* the driver's state follows: resume, do not reopen */

/* HO_PORT payload: this, then spec_len bytes of SPEC, then blob_len bytes of the driver's state. */
struct ho_port {
	uint16_t id;
	uint16_t flags;
	char name[VS_PORT_NAME_LEN];
	uint32_t spec_len;
	uint32_t blob_len;
	uint16_t access; /* the VLANs as running now (vs_vlan_cfg) */
	uint16_t nb_trunk;
	uint32_t reserved;
	uint64_t trunk[4096 / 64];
	uint64_t counters[7]; /* vs_switch_port_counters, in its order */
};

/* HO_FDB payload: count, then count entries. */
#define HO_FDB_F_STATIC 1 /* a static entry (fdb add): never aged, never moved */

struct ho_fdb_entry {
	uint64_t key;	/* vs_fdb_key() */
	uint16_t port;	/* port id */
	uint16_t flags; /* 0 (learned) or HO_FDB_F_STATIC; others reserved */
	uint32_t age;	/* seconds since last heard */
};

/* HO_END payload. */
struct ho_end {
	uint32_t nports;
	uint32_t pid;
	uint64_t stopped_ns;  /* CLOCK_MONOTONIC when the workers had stopped */
	uint64_t deadline_ns; /* a COMMIT sent before this is honoured (CLOCK_MONOTONIC) */
	char version[32];
};

/*
 * How far before the old side's deadline a COMMIT must leave for the new
 * side to forward at once, without waiting for DONE.
 */
#define HO_COMMIT_MARGIN_NS (500ull * 1000 * 1000)

/* Milliseconds / nanoseconds on CLOCK_MONOTONIC (the same clock in both processes). */
uint64_t ho_now_ms(void);
uint64_t ho_now_ns(void);

/*
 * Sends one record: header, @p len bytes of @p payload, @p nfds fds (stay
 * the caller's). All by @p deadline (ho_now_ms()). 0 or a negative errno.
 */
int ho_send(int fd, uint16_t type, const void *payload, uint32_t len, const int *fds,
	    unsigned int nfds, uint64_t deadline);

/*
 * Receives one record: its header into @p h (checked: magic, version,
 * known type, length at most @p max_len, at most @p max_fds fds), its
 * payload into *@p payload (malloc'd; NULL when empty) and its fds into
 * @p fds (the caller's then). 0, -EBADMSG, -ECONNRESET, -ETIMEDOUT, ...
 */
int ho_recv(int fd, struct ho_hdr *h, void **payload, uint32_t max_len, int *fds,
	    unsigned int max_fds, uint64_t deadline);

/* Sends @p len bytes (a line of the management protocol). */
int ho_send_raw(int fd, const void *buf, size_t len, uint64_t deadline);

/* Receives one line (without its newline) of at most @p cap - 1 bytes. */
int ho_recv_line(int fd, char *buf, size_t cap, uint64_t deadline);

#endif /* VS_HANDOVER_PRIV_H */
