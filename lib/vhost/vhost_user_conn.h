/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_USER_CONN_H
#define VHOST_USER_CONN_H

/**
 * @file
 * libvhost: the vhost-user socket: listener, connector with back-off, and
 * strict message framing with SCM_RIGHTS fds.
 *
 * Everything here is non-blocking unless its name says "wait": sockets are
 * created O_NONBLOCK and O_CLOEXEC, so an owner with an event loop watches
 * the fds and calls in when they are ready. A peer that sends half a message
 * and stalls leaves the half in a struct vh_user_rx until the rest arrives;
 * the caller is never blocked. The *_wait helpers are conveniences for users
 * without a loop and always take a timeout.
 */

#include <stdint.h>

#include "vhost_user_msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Creates a listening Unix socket at @p path (non-blocking, close-on-exec).
 * A stale socket file nobody listens on is removed first; a live one is left
 * alone and reported as -EADDRINUSE.
 *
 * @return the listening fd, or -ENAMETOOLONG, -EADDRINUSE, another -errno.
 */
int vh_user_listen(const char *path);

/**
 * Accepts one pending connection on @p listen_fd.
 *
 * @return a connected fd (non-blocking, close-on-exec), -EAGAIN when no
 *         connection is pending, or another negative errno.
 */
int vh_user_accept(int listen_fd);

/**
 * Makes one connection attempt to the socket at @p path; never waits.
 *
 * @return a connected fd (non-blocking, close-on-exec), or -ENOENT (no socket
 *         yet), -ECONNREFUSED (nobody listening), -EAGAIN (backlog full),
 *         -ENAMETOOLONG, another negative errno.
 */
int vh_user_connect(const char *path);

/** Exponential back-off between connection attempts in client mode. */
struct vh_user_backoff {
	uint32_t min_ms;  /**< first delay */
	uint32_t max_ms;  /**< delays never exceed this */
	uint32_t next_ms; /**< delay suggested after the next failure */
};

/**
 * Initialises @p b with delays from @p min_ms doubling up to @p max_ms
 * (0 for either picks 100 ms and 5000 ms).
 */
void vh_user_backoff_init(struct vh_user_backoff *b, uint32_t min_ms, uint32_t max_ms);

/**
 * One reconnection step for an event loop: tries vh_user_connect() now. On
 * success the back-off is reset; on failure @p retry_ms receives the delay
 * to wait before the next try (doubling each time).
 *
 * @return a connected fd, or the negative errno of vh_user_connect().
 */
int vh_user_try_connect(const char *path, struct vh_user_backoff *b, uint32_t *retry_ms);

/**
 * Blocking convenience: retries vh_user_try_connect() with its back-off
 * until it succeeds or @p timeout_ms passed.
 *
 * @return a connected fd, or -ETIMEDOUT, or a negative errno that retrying
 *         cannot cure (-ENAMETOOLONG, -EINVAL).
 */
int vh_user_connect_wait(const char *path, uint32_t timeout_ms);

/** Whose messages a struct vh_user_rx receives: decides the size limits. */
enum vh_user_rx_kind {
	VH_USER_RX_FRONTEND_REQ = 0, /**< requests on the main socket (we are the back-end) */
	VH_USER_RX_BACKEND_REQ = 1,  /**< requests on the back-end channel (we are the front-end) */
	VH_USER_RX_REPLY = 2,	     /**< replies to our own requests */
};

/** Incremental receiver for one connection: holds a partial message. */
struct vh_user_rx {
	struct vh_user_msg msg; /**< the message being assembled; complete after a 1 */
	uint32_t got;		/**< bytes of header and payload received so far */
	uint32_t kind;		/**< enum vh_user_rx_kind */
};

/** Initialises @p rx for messages of @p kind (enum vh_user_rx_kind). */
void vh_user_rx_init(struct vh_user_rx *rx, uint32_t kind);

/**
 * Reads what @p fd has without blocking and never past the end of the
 * current message, so fds cannot slip from one message to the next.
 *
 * A header whose size exceeds what its request allows (or
 * VH_USER_MAX_PAYLOAD) is rejected before its payload is read; more fds than
 * VH_USER_MAX_FDS are closed and reject the message.
 *
 * @return 1 when rx->msg is complete (consume it, then call
 *         vh_user_rx_reset()), 0 when more bytes are needed (partial data is
 *         kept), -ECONNRESET when the peer closed (also in the middle of a
 *         message: the partial message and its fds are dropped),
 *         -EMSGSIZE for an oversized header, -EBADMSG for bad ancillary
 *         data, another negative errno on socket errors.
 */
int vh_user_rx_read(int fd, struct vh_user_rx *rx);

/** Closes fds left in rx->msg and prepares @p rx for the next message. */
void vh_user_rx_reset(struct vh_user_rx *rx);

/**
 * Blocking convenience: vh_user_rx_read() until a message is complete or
 * @p timeout_ms passed.
 *
 * @return 1, -ETIMEDOUT, or a negative errno of vh_user_rx_read().
 */
int vh_user_rx_wait(int fd, struct vh_user_rx *rx, uint32_t timeout_ms);

/**
 * Sends @p msg (header, hdr.size bytes of payload, msg->nfds fds) on @p fd.
 * The fds stay owned by the caller. When the socket buffer is full the call
 * waits for room up to @p timeout_ms (0: not at all), so a peer that stops
 * reading cannot hold the caller longer than that.
 *
 * @return 0, -ETIMEDOUT (the message may be partly sent: the connection is
 *         then unusable), -EPIPE/-ECONNRESET when the peer is gone,
 *         -EINVAL for an oversized message, another negative errno.
 */
int vh_user_send(int fd, const struct vh_user_msg *msg, uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_USER_CONN_H */
