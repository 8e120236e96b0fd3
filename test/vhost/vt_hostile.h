/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_HOSTILE_H
#define VT_HOSTILE_H

/*
 * The fixture of the hostile front-end tests: our back-end behind a
 * listening socket, raw connections to it, and the checks every case ends
 * with (the back-end still serves a whole session; every fd and memfd
 * mapping is back to the baseline taken at the start).
 */
#include <stdint.h>

#include "vt_user.h"

struct vt_hx {
	struct vt_server srv;
	struct vt_guest_mem mem; /* memory the hostile peer offers */
	int conns;		 /* connections made so far */
	int base_fds;
	int base_maps;
};

/* Starts the back-end (socket @p name) and takes the fd and mapping baseline; -1 on failure. */
int vt_hx_start(struct vt_hx *h, const char *name);

/* A raw connection to the back-end (counted), or -1. */
int vt_hx_connect(struct vt_hx *h);

/* A whole good session on a new connection: the back-end still works. */
int vt_hx_check_serving(struct vt_hx *h);

/* Every connection ended, every fd and mapping back to the baseline; stops the back-end. */
int vt_hx_end(struct vt_hx *h);

/* The back-end closed @p fd's connection without a reply (@p what names the case, or NULL). */
int vt_hx_expect_closed(int fd, const char *what);

/* The next reply answers @p req with @p size bytes and no fds; its first u64 in *@p v. */
int vt_hx_expect_reply(int fd, uint32_t req, uint32_t size, uint64_t *v);

/* A REPLY_ACK reply to @p req saying failure; the connection stays. */
int vt_hx_expect_nack(int fd, uint32_t req);

/* A REPLY_ACK reply to @p req saying success. */
int vt_hx_expect_ack(int fd, uint32_t req);

/* The connection still answers: GET_FEATURES round-trips. */
int vt_hx_expect_alive(int fd);

/* Sends @p req with a u64 payload and @p flags, without fds. */
int vt_hx_send_u64(int fd, uint32_t req, uint32_t flags, uint64_t v);

#endif
