/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_USER_FRONTEND_H
#define VHOST_USER_FRONTEND_H

/**
 * @file
 * libvhost: the vhost-user front-end ("master"): drives a vhost-user
 * back-end over its socket.
 *
 * There is one call per request. A call sends its message and, where the
 * spec defines a reply or REPLY_ACK is negotiated (then every request
 * without a natural reply asks for an acknowledgement), waits for it up to
 * the configured timeout; a back-end's failure comes back as -EIO. A call
 * whose protocol feature is not negotiated fails with -ENOTSUP without
 * sending anything. A reply that does not match its request, a timeout or a
 * socket error breaks the connection (vhost-user "Communication": the
 * front-end closes it): every later call returns -ENOTCONN.
 *
 * The front-end also implements the common struct vh_backend interface of
 * vhost_backend.h (kind VH_BACKEND_USER), so a caller can drive a
 * vhost-user device like a kernel vhost one: vh_user_frontend_backend().
 * That view adds what a kernel device does not need, as QEMU does: with
 * STATUS negotiated, set_features also sets FEATURES_OK and driver_ok (once
 * every ring is configured) sets ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK;
 * set_vring_enable sends SET_VRING_ENABLE only with
 * VHOST_USER_F_PROTOCOL_FEATURES (without it SET_FEATURES enabled every
 * ring); with CONFIGURE_MEM_SLOTS, set_mem_table sends
 * REM_MEM_REG/ADD_MEM_REG for the difference to the previous table instead
 * of SET_MEM_TABLE.
 *
 * Back-end requests arrive on the channel of SET_BACKEND_REQ_FD: watch
 * vh_user_frontend_channel_fd() and call vh_user_frontend_handle_channel(),
 * or just make calls: while a call waits for its reply it also serves the
 * channel, so a back-end that needs an answer first cannot deadlock it.
 * Calls are not thread-safe: use one thread per front-end.
 */

#include <stdbool.h>
#include <stdint.h>

#include "vhost_backend.h"
#include "vhost_user_msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Handlers of back-end requests, all optional (a missing one answers
 * failure). Each returns 0 or a negative errno, which becomes the REPLY_ACK
 * value when the back-end asked for one.
 */
struct vh_user_frontend_ops {
	/** BACKEND_CONFIG_CHANGE_MSG: re-read the config space. */
	int (*config_change)(void *opaque);
	/** BACKEND_VRING_CALL: in-band interrupt of ring @p idx. */
	int (*vring_call)(void *opaque, unsigned int idx);
	/** BACKEND_VRING_ERR: error on ring @p idx. */
	int (*vring_err)(void *opaque, unsigned int idx);
	/**
	 * BACKEND_VRING_HOST_NOTIFIER_MSG: @p fd (owned by the callee; -1 to
	 * withdraw) maps @p size bytes at @p offset as ring @p idx's notify area.
	 */
	int (*host_notifier)(void *opaque, unsigned int idx, int fd, uint64_t size,
			     uint64_t offset);
	/** BACKEND_IOTLB_MSG: a miss or access failure. */
	int (*iotlb)(void *opaque, const struct vh_user_iotlb *msg);
	/**
	 * Any other back-end request (shared objects, shmem maps): @p msg with
	 * its fds (take them with vh_user_msg_take_fd()). Return >= 0 as the u64
	 * reply value or a negative errno.
	 */
	int64_t (*other)(void *opaque, struct vh_user_msg *msg);
	/**
	 * BACKEND_SHARED_OBJECT_LOOKUP: the dma-buf fd of object @p uuid in
	 * *@p fd (the library sends it with the reply and closes it), or a
	 * negative errno (the reply then carries no fd).
	 */
	int (*shared_object_lookup)(void *opaque, const uint8_t uuid[16], int *fd);
};

/**
 * The protocol features negotiated by default: those this front-end's own
 * flow drives (GET_QUEUE_NUM, REPLY_ACK, the common interface's memory
 * slots, status and shared-memory log). The others change what a back-end
 * expects once acked (an inflight area, in-band notifications, page
 * faults...), so a caller asks for them, e.g.
 * VH_USER_FRONTEND_DEFAULT_PROTOCOL_FEATURES | VH_USER_PF(VH_USER_PROTOCOL_F_CONFIG).
 */
#define VH_USER_FRONTEND_DEFAULT_PROTOCOL_FEATURES                                                 \
	(VH_USER_PF(VH_USER_PROTOCOL_F_MQ) | VH_USER_PF(VH_USER_PROTOCOL_F_REPLY_ACK) |            \
	 VH_USER_PF(VH_USER_PROTOCOL_F_LOG_SHMFD) |                                                \
	 VH_USER_PF(VH_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |                                      \
	 VH_USER_PF(VH_USER_PROTOCOL_F_STATUS))

/** How a front-end behaves. */
struct vh_user_frontend_config {
	/**
	 * Protocol features to negotiate, intersected with the back-end's
	 * offer and what this front-end implements (all of vhost-user's but
	 * XEN_MMAP); 0: VH_USER_FRONTEND_DEFAULT_PROTOCOL_FEATURES, plus
	 * BACKEND_REQ and BACKEND_SEND_FD when @ref backend_channel is set.
	 */
	uint64_t protocol_features;
	/** Longest wait for one reply; 0: 5000 ms. */
	uint32_t timeout_ms;
	/** Set up the back-end channel in vh_user_frontend_negotiate() when offered. */
	bool backend_channel;
	const struct vh_user_frontend_ops *ops; /**< may be NULL */
	void *opaque;				/**< passed to the ops */
	const char *name;			/**< used in log lines; may be NULL */
};

struct vh_user_frontend;

/**
 * Creates a front-end over connected socket @p fd; takes ownership of it
 * (closed on failure too). No message is sent yet.
 *
 * @return the front-end or NULL with errno set (EINVAL, ENOMEM).
 */
struct vh_user_frontend *vh_user_frontend_create(int fd, const struct vh_user_frontend_config *cfg);

/**
 * The start of every session: GET_FEATURES; with protocol features offered
 * GET_PROTOCOL_FEATURES and SET_PROTOCOL_FEATURES; then GET_QUEUE_NUM (MQ),
 * GET_MAX_MEM_SLOTS (CONFIGURE_MEM_SLOTS) and the back-end channel
 * (BACKEND_REQ, when configured). SET_OWNER is left to the caller.
 *
 * @return 0 or the negative errno of the failing request.
 */
int vh_user_frontend_negotiate(struct vh_user_frontend *fe);

/**
 * Connects to the back-end listening at @p path (retrying up to
 * @p timeout_ms), creates the front-end and negotiates.
 *
 * @return 0 and *fe, or a negative errno (-ETIMEDOUT when nobody listens).
 */
int vh_user_frontend_connect(const char *path, uint32_t timeout_ms,
			     const struct vh_user_frontend_config *cfg,
			     struct vh_user_frontend **fe);

/** Closes the connection and the channel and frees @p fe (NULL allowed). */
void vh_user_frontend_destroy(struct vh_user_frontend *fe);

/** The common backend interface view of @p fe; vh_backend_destroy() destroys @p fe. */
struct vh_backend *vh_user_frontend_backend(struct vh_user_frontend *fe);

/** The main socket. */
int vh_user_frontend_fd(const struct vh_user_frontend *fe);

/** True until the connection broke or was closed. */
bool vh_user_frontend_connected(const struct vh_user_frontend *fe);

/** Virtio features the back-end offered (GET_FEATURES during negotiation). */
uint64_t vh_user_frontend_offered_features(const struct vh_user_frontend *fe);

/** Protocol features the back-end offered. */
uint64_t vh_user_frontend_offered_protocol_features(const struct vh_user_frontend *fe);

/** Negotiated protocol features (0 before negotiation). */
uint64_t vh_user_frontend_protocol_features(const struct vh_user_frontend *fe);

/** GET_QUEUE_NUM's answer during negotiation (1 without MQ). */
uint64_t vh_user_frontend_queue_num(const struct vh_user_frontend *fe);

/** GET_MAX_MEM_SLOTS's answer during negotiation (8 without CONFIGURE_MEM_SLOTS). */
uint64_t vh_user_frontend_max_mem_slots(const struct vh_user_frontend *fe);

/** The back-end channel's socket, or -1. */
int vh_user_frontend_channel_fd(const struct vh_user_frontend *fe);

/**
 * Serves the back-end requests waiting on the channel (non-blocking).
 *
 * @return 0, or a negative errno when the channel failed (it is then closed).
 */
int vh_user_frontend_handle_channel(struct vh_user_frontend *fe);

/**
 * Sends any message and, when @p reply is not NULL, waits for the reply and
 * copies it there (its fds are then the caller's). With @p reply NULL and
 * REPLY_ACK negotiated, asks for and checks an acknowledgement. For tools,
 * tests and requests without a dedicated call.
 *
 * @return 0, -EIO (back-end failure), -EPROTO (bad reply), -ENOTCONN,
 *         -ETIMEDOUT, or another negative errno.
 */
int vh_user_frontend_request(struct vh_user_frontend *fe, struct vh_user_msg *msg,
			     struct vh_user_msg *reply);

/* One call per front-end request, in request order. Each returns 0 or a
 * negative errno as described in the file comment. */

/** GET_FEATURES. */
int vh_user_frontend_get_features(struct vh_user_frontend *fe, uint64_t *features);
/** SET_FEATURES; adds VHOST_USER_F_PROTOCOL_FEATURES when it was negotiated. */
int vh_user_frontend_set_features(struct vh_user_frontend *fe, uint64_t features);
/** SET_OWNER. */
int vh_user_frontend_set_owner(struct vh_user_frontend *fe);
/** RESET_OWNER (deprecated by the spec). */
int vh_user_frontend_reset_owner(struct vh_user_frontend *fe);
/** SET_MEM_TABLE with 1..8 regions, each with its fd and mmap_offset. */
int vh_user_frontend_set_mem_table(struct vh_user_frontend *fe, const struct vh_mem_region *r,
				   unsigned int n);
/**
 * SET_LOG_BASE: the log's fd, size and offset (LOG_SHMFD); waits for the
 * reply, of any size (back-ends differ: none, 8 or 16 bytes).
 * @return 0, -ENOTSUP without LOG_SHMFD (the old u64 form is never sent),
 *         -EBADF without an fd, or -errno (a back-end that refuses the log
 *         closes the connection: the reply has no failure form)
 */
int vh_user_frontend_set_log_base(struct vh_user_frontend *fe, const struct vh_log_area *log);
/** SET_LOG_FD. */
int vh_user_frontend_set_log_fd(struct vh_user_frontend *fe, int fd);
/** SET_VRING_NUM. */
int vh_user_frontend_set_vring_num(struct vh_user_frontend *fe, unsigned int idx, unsigned int num);
/** SET_VRING_ADDR (user addresses). */
int vh_user_frontend_set_vring_addr(struct vh_user_frontend *fe, unsigned int idx,
				    const struct vh_vring_addr *addr);
/** SET_VRING_BASE (packed rings: both indexes and wrap counters, see the spec). */
int vh_user_frontend_set_vring_base(struct vh_user_frontend *fe, unsigned int idx, uint32_t base);
/** GET_VRING_BASE: stops the ring and returns its position. */
int vh_user_frontend_get_vring_base(struct vh_user_frontend *fe, unsigned int idx, uint32_t *base);
/** SET_VRING_KICK; @p fd -1 sends the no-fd (polling) flag. */
int vh_user_frontend_set_vring_kick(struct vh_user_frontend *fe, unsigned int idx, int fd);
/** SET_VRING_CALL; @p fd -1 sends the no-fd flag. */
int vh_user_frontend_set_vring_call(struct vh_user_frontend *fe, unsigned int idx, int fd);
/** SET_VRING_ERR; @p fd -1 sends the no-fd flag. */
int vh_user_frontend_set_vring_err(struct vh_user_frontend *fe, unsigned int idx, int fd);
/** GET_PROTOCOL_FEATURES. */
int vh_user_frontend_get_protocol_features(struct vh_user_frontend *fe, uint64_t *features);
/** SET_PROTOCOL_FEATURES (records them as negotiated). */
int vh_user_frontend_set_protocol_features(struct vh_user_frontend *fe, uint64_t features);
/** GET_QUEUE_NUM (MQ). */
int vh_user_frontend_get_queue_num(struct vh_user_frontend *fe, uint64_t *num);
/** SET_VRING_ENABLE. */
int vh_user_frontend_set_vring_enable(struct vh_user_frontend *fe, unsigned int idx, bool enable);
/** SEND_RARP (RARP). */
int vh_user_frontend_send_rarp(struct vh_user_frontend *fe, const uint8_t mac[6]);
/** NET_SET_MTU (NET_MTU). */
int vh_user_frontend_net_set_mtu(struct vh_user_frontend *fe, uint16_t mtu);
/** SET_BACKEND_REQ_FD (BACKEND_REQ): creates the channel and keeps our end. */
int vh_user_frontend_set_backend_req_fd(struct vh_user_frontend *fe);
/** IOTLB_MSG: waits for the back-end's u64 (non-zero: -EIO). */
int vh_user_frontend_iotlb_msg(struct vh_user_frontend *fe, const struct vh_user_iotlb *msg);
/** SET_VRING_ENDIAN (CROSS_ENDIAN). */
int vh_user_frontend_set_vring_endian(struct vh_user_frontend *fe, unsigned int idx,
				      bool big_endian);
/** GET_CONFIG (CONFIG): @p len (<= 256) bytes at @p offset into @p buf. */
int vh_user_frontend_get_config(struct vh_user_frontend *fe, uint32_t offset, void *buf,
				uint32_t len, uint32_t flags);
/** SET_CONFIG (CONFIG). */
int vh_user_frontend_set_config(struct vh_user_frontend *fe, uint32_t offset, const void *buf,
				uint32_t len, uint32_t flags);
/**
 * CREATE_CRYPTO_SESSION (CRYPTO_SESSION): @p len bytes of session
 * description, replaced by the back-end's reply of the same size.
 */
int vh_user_frontend_create_crypto_session(struct vh_user_frontend *fe, void *session,
					   uint32_t len);
/** CLOSE_CRYPTO_SESSION (CRYPTO_SESSION). */
int vh_user_frontend_close_crypto_session(struct vh_user_frontend *fe, uint64_t session_id);
/** POSTCOPY_ADVISE (PAGEFAULT): returns the back-end's userfaultfd. */
int vh_user_frontend_postcopy_advise(struct vh_user_frontend *fe, int *ufd);
/** POSTCOPY_LISTEN (PAGEFAULT). */
int vh_user_frontend_postcopy_listen(struct vh_user_frontend *fe);
/** POSTCOPY_END (PAGEFAULT). */
int vh_user_frontend_postcopy_end(struct vh_user_frontend *fe);
/**
 * GET_INFLIGHT_FD (INFLIGHT_SHMFD): asks for an area for @p num_queues of
 * @p queue_size; returns its description and fd (the caller's).
 */
int vh_user_frontend_get_inflight_fd(struct vh_user_frontend *fe, uint16_t num_queues,
				     uint16_t queue_size, struct vh_user_inflight *out, int *fd);
/** SET_INFLIGHT_FD (INFLIGHT_SHMFD). */
int vh_user_frontend_set_inflight_fd(struct vh_user_frontend *fe, const struct vh_user_inflight *in,
				     int fd);
/** GPU_SET_SOCKET. */
int vh_user_frontend_gpu_set_socket(struct vh_user_frontend *fe, int fd);
/** RESET_DEVICE (RESET_DEVICE). */
int vh_user_frontend_reset_device(struct vh_user_frontend *fe);
/** VRING_KICK (INBAND_NOTIFICATIONS). */
int vh_user_frontend_vring_kick(struct vh_user_frontend *fe, unsigned int idx);
/** GET_MAX_MEM_SLOTS (CONFIGURE_MEM_SLOTS). */
int vh_user_frontend_get_max_mem_slots(struct vh_user_frontend *fe, uint64_t *slots);
/** ADD_MEM_REG (CONFIGURE_MEM_SLOTS). */
int vh_user_frontend_add_mem_reg(struct vh_user_frontend *fe, const struct vh_mem_region *r);
/** REM_MEM_REG (CONFIGURE_MEM_SLOTS): sent without an fd. */
int vh_user_frontend_rem_mem_reg(struct vh_user_frontend *fe, const struct vh_mem_region *r);
/** SET_STATUS (STATUS). */
int vh_user_frontend_set_status(struct vh_user_frontend *fe, uint8_t status);
/** GET_STATUS (STATUS). */
int vh_user_frontend_get_status(struct vh_user_frontend *fe, uint8_t *status);
/** GET_SHARED_OBJECT (SHARED_OBJECT): the dma-buf fd of @p uuid. */
int vh_user_frontend_get_shared_object(struct vh_user_frontend *fe, const uint8_t uuid[16],
				       int *fd);
/**
 * SET_DEVICE_STATE_FD (DEVICE_STATE): offers @p fd for the transfer;
 * *reply_fd is the back-end's own channel or -1.
 */
int vh_user_frontend_set_device_state_fd(struct vh_user_frontend *fe, uint32_t direction,
					 uint32_t phase, int fd, int *reply_fd);
/** CHECK_DEVICE_STATE (DEVICE_STATE). */
int vh_user_frontend_check_device_state(struct vh_user_frontend *fe);
/** GET_SHMEM_CONFIG (SHMEM): up to 8 region sizes. */
int vh_user_frontend_get_shmem_config(struct vh_user_frontend *fe, uint32_t *nregions,
				      uint64_t sizes[8]);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_USER_FRONTEND_H */
