/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FZ_VHOST_H
#define FZ_VHOST_H

/*
 * The input language of fuzz_vhost_user_backend, shared with its recorder
 * (fuzz-record-vhost-user): a stream of records, each a message with the
 * fds to attach, raw bytes, a guest write into guest memory, or a kick.
 * See test/fuzz/README.md.
 */

#include <stdint.h>

enum {
	/*
	 * u8 nfds (% 10: up to 9, one more than a message may carry), nfds fd
	 * specs, the 12-byte header, then min(header size, 4096 + 64) payload
	 * bytes: sent as one sendmsg() with the fds.
	 */
	FZ_VH_REC_MSG,
	/* u16 len (% 4097), bytes: written to the socket as they are, no fds. */
	FZ_VH_REC_RAW,
	/* u64 guest-physical address, u16 len (% 8193), bytes: the guest writes its memory. */
	FZ_VH_REC_GUEST_WRITE,
	/* u8 ring: the guest kicks it (the device walks it if it runs). */
	FZ_VH_REC_KICK,
	/* u8 which, u8 ring: a back-end request on the channel (config change, call, err). */
	FZ_VH_REC_BACKEND_REQ,
	FZ_VH_RECS,
};

/* fd spec: u8 kind, and for a memfd its u32 size (% (FZ_VH_MAX_MEMFD + 1)). */
enum {
	FZ_VH_FD_MEMFD,	   /* a memfd of the given size */
	FZ_VH_FD_EVENTFD,  /* an eventfd */
	FZ_VH_FD_DUP,	   /* another fd of the memfd made last (regions sharing one file) */
	FZ_VH_FD_SOCKET,   /* one end of a socketpair (the harness keeps the other) */
	FZ_VH_FD_PIPE,	   /* the read end of a pipe */
	FZ_VH_FD_DEVNULL,  /* /dev/null: a character device that cannot be mapped */
	FZ_VH_FD_READONLY, /* the last memfd reopened read-only: cannot be mapped shared rw */
	FZ_VH_FD_KINDS,
};

#define FZ_VH_MAX_MEMFD	  (1ULL << 30)
#define FZ_VH_MAX_PAYLOAD (4096 + 64)
#define FZ_VH_MAX_RAW	  4096
#define FZ_VH_MAX_WRITE	  8192
#define FZ_VH_RINGS	  8

#endif /* FZ_VHOST_H */
