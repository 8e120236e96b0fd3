/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_USER_BACKEND_H
#define VHOST_USER_BACKEND_H

/**
 * @file
 * libvhost: the vhost-user back-end ("slave") side of one connection.
 *
 * The library reads each front-end request, validates it completely,
 * applies the spec's ring state machine and memory/log/inflight handling,
 * answers (REPLY_ACK aware), and tells the device what changed through a
 * struct vh_user_device_ops table. It never blocks its caller: the owner
 * watches vh_user_backend_fd() in its event loop and calls
 * vh_user_backend_handle_readable() when it is readable. Everything runs on
 * that caller's thread; device ops are called from inside that call.
 *
 * Rings (vhost-user: "Ring states"). A ring is stopped until it has a size,
 * addresses, a kick (SET_VRING_KICK with an fd or the no-fd "polling" flag,
 * or an in-band VRING_KICK) and memory to translate its addresses in; then it
 * is started and the device's ring_started() receives a struct vh_user_ring
 * with everything its data path needs. GET_VRING_BASE, a disconnect, a reset
 * and any change of a started ring's parameters (new kick/call/err fd, new
 * addresses, logging switched, memory, log or inflight area set or
 * replaced) stop it with ring_stopped(), which returns the ring's position;
 * a changed ring is then started again from that position with the new
 * description. Enabled and
 * disabled is a separate state: without VHOST_USER_F_PROTOCOL_FEATURES
 * negotiated SET_FEATURES enables every ring, with it rings start disabled
 * and follow SET_VRING_ENABLE (ring_enabled()).
 *
 * Ordering contract. Before the library unmaps or replaces memory the data
 * path may use (guest memory, the dirty log, the inflight area, a ring's
 * fds) or replies to GET_VRING_BASE, it calls the device op that retires the
 * old state (ring_stopped() or mem_changed()), and the device guarantees
 * that on return its data path no longer touches it (the switch's port
 * driver waits for an RCU grace period inside the callback). Memory
 * replacement is: map the new table, stop started rings whose memory
 * changes, mem_changed(new), unmap the old regions, start the rings again.
 *
 * Errors. A request that fails is answered with a non-zero REPLY_ACK payload
 * when the front-end asked for one (need_reply) and the connection stays; a
 * failed request without a way to report the failure, a message that breaks
 * the framing (size, fd count, flags), and an unknown request without
 * need_reply close the connection: vh_user_backend_handle_readable() then
 * returns a negative errno after having stopped every ring and released
 * every mapping and fd of the connection.
 */

#include <stdbool.h>
#include <stdint.h>

#include "vhost_dirty_log.h"
#include "vhost_inflight.h"
#include "vhost_mem.h"
#include "vhost_user_msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Position of a ring (vhost-user: SET_VRING_BASE / GET_VRING_BASE). */
struct vh_user_ring_base {
	uint16_t avail_idx; /**< next available entry the device processes (free-running) */
	uint16_t used_idx;  /**< packed: next used entry the device writes; split: unused */
	bool avail_wrap;    /**< packed: driver ring wrap counter */
	bool used_wrap;	    /**< packed: device ring wrap counter */
};

/**
 * Everything a data path needs to service ring @ref idx. Pointers are local
 * addresses, translated and bounds-checked: each of the three areas lies
 * wholly inside one mapped region and is aligned as virtio requires. The
 * struct itself is only valid during the ring_started() call; the pointers,
 * fds and areas stay valid until the ring's ring_stopped() returns.
 */
struct vh_user_ring {
	unsigned int idx; /**< virtqueue index */
	uint32_t size;	  /**< entries; a power of two for split rings */
	bool packed;	  /**< VIRTIO_F_RING_PACKED negotiated */
	bool enabled;	  /**< current enabled state (later changes: ring_enabled()) */
	bool event_idx;	  /**< VIRTIO_RING_F_EVENT_IDX negotiated */
	/** split: descriptor table; packed: descriptor ring */
	void *desc;
	/** split: available ring; packed: driver event suppression area */
	void *avail;
	/** split: used ring; packed: device event suppression area */
	void *used;
	uint64_t desc_gpa; /**< guest-physical addresses of the three areas, for logging */
	uint64_t avail_gpa;
	uint64_t used_gpa;
	/** Where the ring starts: split uses avail_idx; packed all four fields. */
	struct vh_user_ring_base base;
	int kick_fd; /**< eventfd the driver kicks, or -1: poll the ring (no-fd flag / in-band) */
	int call_fd; /**< eventfd to interrupt the driver, or -1: do not signal */
	int err_fd;  /**< eventfd for errors, or -1 */
	uint64_t features; /**< negotiated virtio features (without bit 30) */
	/**
	 * The dirty log while VHOST_F_LOG_ALL is negotiated and a log is set,
	 * else NULL: mark every guest page written (buffers, and the descriptor
	 * ring of a packed ring).
	 */
	const struct vh_dirty_log *log;
	bool log_used;	       /**< VHOST_VRING_F_LOG: also log used-ring writes ... */
	uint64_t log_used_gpa; /**< ... at this guest address (log_guest_addr) */
	/** This queue's inflight region (struct vh_inflight_split/packed) or NULL. */
	void *inflight;
};

/**
 * The device behind a back-end: what the port driver implements. Every op
 * receives the @c device pointer of struct vh_user_backend_config. Ops run on
 * the thread calling vh_user_backend_handle_readable() (or
 * vh_user_backend_destroy()). Ops marked optional may be NULL.
 */
struct vh_user_device_ops {
	/** Required. Virtio features the device offers (bit 30 is added by the library). */
	uint64_t (*get_features)(void *device);
	/**
	 * Optional. The front-end acked @p features (a subset of the offer,
	 * bit 30 removed). May be called again with the same features (QEMU
	 * sends SET_FEATURES once per queue pair) or with only
	 * VHOST_F_LOG_ALL changed while rings run; any other change while a
	 * ring is started is refused by the library. Return 0 or a negative
	 * errno to refuse.
	 */
	int (*set_features)(void *device, uint64_t features);
	/** Optional. The protocol features negotiated (informational). */
	void (*set_protocol_features)(void *device, uint64_t protocol_features);
	/**
	 * Required. Ring @p ring->idx starts: see struct vh_user_ring. Return 0,
	 * or a negative errno to leave the ring stopped (the request fails).
	 */
	int (*ring_started)(void *device, const struct vh_user_ring *ring);
	/**
	 * Required. Ring @p idx stops. On return the data path no longer
	 * touches the ring, its memory or its fds, and @p base holds the next
	 * position (split: avail_idx = last available index processed; packed:
	 * all four fields). Cannot fail.
	 */
	void (*ring_stopped)(void *device, unsigned int idx, struct vh_user_ring_base *base);
	/** Optional. A started ring was enabled or disabled (SET_VRING_ENABLE). */
	void (*ring_enabled)(void *device, unsigned int idx, bool enabled);
	/**
	 * Optional. An in-band kick (VRING_KICK); offering it enables
	 * VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS.
	 */
	void (*ring_kick)(void *device, unsigned int idx);
	/**
	 * Required. The memory table is now @p mem (NULL: no memory, on
	 * disconnect or reset). On return the data path no longer uses the
	 * previous table's regions; @p mem stays valid until the next call.
	 * Rings whose memory changes were stopped before this call and are
	 * started again after it. Return a negative errno to refuse the new
	 * table (the old one then stays).
	 */
	int (*mem_changed)(void *device, const struct vh_mem_table *mem);
	/** Optional (CONFIG). Reads @p len bytes of config space at @p offset. */
	int (*get_config)(void *device, uint32_t offset, void *buf, uint32_t len);
	/** Optional (CONFIG). Writes config space; @p flags 1 means live migration. */
	int (*set_config)(void *device, uint32_t offset, const void *buf, uint32_t len,
			  uint32_t flags);
	/** Optional. RESET_DEVICE: rings were stopped; forget negotiated state. */
	void (*reset)(void *device);
	/** Optional (STATUS). The driver's device status byte; return a negative errno to refuse.
	 */
	int (*set_status)(void *device, uint8_t status);
	/** Optional (RARP). Broadcast a RARP for @p mac after a migration. */
	int (*send_rarp)(void *device, const uint8_t mac[6]);
	/** Optional (NET_MTU). The MTU the front-end exposes (68..65535). */
	int (*set_mtu)(void *device, uint16_t mtu);
};

/** How a back-end connection behaves. */
struct vh_user_backend_config {
	const struct vh_user_device_ops *ops; /**< required */
	void *device;			      /**< passed to every op */
	/**
	 * Virtqueues the device has: ring indexes at or above are refused, and
	 * they bound inflight areas. 1..256 (the kick/call index has 8 bits).
	 */
	uint32_t max_rings;
	/**
	 * Reply to GET_QUEUE_NUM (device semantics: queue pairs for net).
	 * 0: max_rings / 2, at least 1.
	 */
	uint32_t queue_num;
	/**
	 * Protocol features to offer; 0: the library default (MQ, LOG_SHMFD,
	 * REPLY_ACK, BACKEND_REQ, BACKEND_SEND_FD, INFLIGHT_SHMFD,
	 * RESET_DEVICE, CONFIGURE_MEM_SLOTS, STATUS, plus CONFIG, RARP,
	 * NET_MTU and INBAND_NOTIFICATIONS when the device has the matching
	 * op). Features the library does not implement are never offered.
	 */
	uint64_t protocol_features;
	/** Reply to GET_MAX_MEM_SLOTS, 1..VH_USER_MAX_MEM_SLOTS; 0: VH_USER_MAX_MEM_SLOTS. */
	uint32_t max_mem_slots;
	/** Longest a reply may wait for room in the socket; 0: 1000 ms. */
	uint32_t send_timeout_ms;
	/** Longest a back-end request waits for the front-end's REPLY_ACK; 0: 1000 ms. */
	uint32_t backend_req_timeout_ms;
	/** Name used in log lines (e.g. the socket path); may be NULL. */
	const char *name;
	/**
	 * Most guest memory the connection's memory table may describe (the
	 * sum of its regions' sizes); a SET_MEM_TABLE or ADD_MEM_REG beyond
	 * it is refused, so that one front-end cannot use up the process's
	 * address space and leave the other connections unable to map
	 * theirs. 0: VH_USER_DEFAULT_MAX_MEM_BYTES.
	 */
	uint64_t max_mem_bytes;
};

/** Default of vh_user_backend_config.max_mem_bytes: 1 TiB. */
#define VH_USER_DEFAULT_MAX_MEM_BYTES (1ULL << 40)

struct vh_user_backend;

/**
 * Creates the back-end of one connection over connected socket @p fd (from
 * vh_user_accept() or vh_user_connect()); takes ownership of @p fd.
 *
 * @return the back-end, or NULL with errno EINVAL (bad config: no ops, a
 *         required op missing, max_rings out of range) or ENOMEM; @p fd is
 *         closed on failure.
 */
struct vh_user_backend *vh_user_backend_create(const struct vh_user_backend_config *cfg, int fd);

/** The socket to watch for readability (EPOLLIN). */
int vh_user_backend_fd(const struct vh_user_backend *be);

/**
 * Processes what the front-end sent: every complete message (at most 64 per
 * call, so a flooding peer cannot starve the caller's loop; call again
 * while the fd stays readable), keeping a partial message for later.
 *
 * @return 0 when everything available was handled, 1 when the call
 *         stopped at the per-call cap (more may be waiting: an
 *         edge-triggered loop calls again), -ECONNRESET when the front-end
 *         closed it; -EBADMSG, -EMSGSIZE, -ENOSYS, -EPROTO or the errno of
 *         a failed request when the library closed it. After a negative
 *         return every ring is stopped, the memory table is withdrawn
 *         (mem_changed(NULL)) and every mapping and fd of the connection is
 *         released; only vh_user_backend_destroy() remains to be called.
 */
int vh_user_backend_handle_readable(struct vh_user_backend *be);

/**
 * Blocking convenience for users without an event loop: handles messages
 * until the connection ends or @p timeout_ms passes (-1: no limit).
 *
 * @return 0 on timeout, else the negative return of
 *         vh_user_backend_handle_readable().
 */
int vh_user_backend_serve(struct vh_user_backend *be, int timeout_ms);

/**
 * Ends the connection (if still open: rings stopped, memory withdrawn,
 * everything released) and frees @p be. NULL is allowed.
 */
void vh_user_backend_destroy(struct vh_user_backend *be);

/** True while the connection is open. */
bool vh_user_backend_connected(const struct vh_user_backend *be);

/** Negotiated virtio features (0 before SET_FEATURES). */
uint64_t vh_user_backend_features(const struct vh_user_backend *be);

/** Negotiated protocol features. */
uint64_t vh_user_backend_protocol_features(const struct vh_user_backend *be);

/** The current memory table, or NULL. Valid until the next request is handled. */
const struct vh_mem_table *vh_user_backend_mem(const struct vh_user_backend *be);

/** The device status byte last set with SET_STATUS. */
uint8_t vh_user_backend_status(const struct vh_user_backend *be);

/** True when ring @p idx is started. */
bool vh_user_backend_ring_started(const struct vh_user_backend *be, unsigned int idx);

/** True when ring @p idx is enabled. */
bool vh_user_backend_ring_enabled(const struct vh_user_backend *be, unsigned int idx);

/**
 * Back-end requests on the channel of SET_BACKEND_REQ_FD (vhost-user:
 * "Back-end communication"). With REPLY_ACK negotiated each waits for the
 * front-end's acknowledgement up to backend_req_timeout_ms.
 *
 * @return 0, -ENOTCONN (no channel), -ENOTSUP (the gating protocol feature
 *         is not negotiated), -EIO (the front-end answered non-zero),
 *         -ETIMEDOUT, or another negative errno of the socket.
 */
int vh_user_backend_send_config_change(struct vh_user_backend *be);

/** BACKEND_VRING_CALL for ring @p idx (needs INBAND_NOTIFICATIONS). See above. */
int vh_user_backend_send_vring_call(struct vh_user_backend *be, unsigned int idx);

/** BACKEND_VRING_ERR for ring @p idx (needs INBAND_NOTIFICATIONS). See above. */
int vh_user_backend_send_vring_err(struct vh_user_backend *be, unsigned int idx);

/**
 * BACKEND_VRING_HOST_NOTIFIER_MSG: offers @p size bytes at @p offset of
 * @p fd as ring @p idx's notify area, or withdraws it when @p fd is -1
 * (needs HOST_NOTIFIER, and BACKEND_SEND_FD to pass an fd). @p fd stays the
 * caller's. See above for the return values.
 */
int vh_user_backend_send_host_notifier(struct vh_user_backend *be, unsigned int idx, int fd,
				       uint64_t size, uint64_t offset);

/**
 * Any back-end request: @p size bytes of @p payload and @p nfds fds (which
 * stay the caller's; BACKEND_SEND_FD must be negotiated to pass any). The
 * caller is responsible for the request's protocol-feature gating.
 * @p reply_u64, when not NULL and the front-end replied, receives its u64.
 */
int vh_user_backend_send_request(struct vh_user_backend *be, uint32_t request, const void *payload,
				 uint32_t size, const int *fds, unsigned int nfds,
				 uint64_t *reply_u64);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_USER_BACKEND_H */
