/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_USER_MSG_H
#define VHOST_USER_MSG_H

/**
 * @file
 * libvhost: the vhost-user wire format (QEMU docs/interop/vhost-user.rst).
 *
 * A message is a 12-byte header (request, flags, size) followed by @c size
 * bytes of payload, all in host byte order, with file descriptors carried as
 * SCM_RIGHTS ancillary data of the same send. The structs below describe the
 * payloads exactly as they travel; struct vh_user_msg is the in-memory form
 * (header and payload kept apart so that the payload is 8-byte aligned).
 *
 * Front-end requests travel on the main socket, back-end requests on the
 * socket given with VH_USER_SET_BACKEND_REQ_FD.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Front-end requests (vhost-user: "Front-end message types"). */
enum vh_user_request {
	VH_USER_NONE = 0,
	VH_USER_GET_FEATURES = 1,
	VH_USER_SET_FEATURES = 2,
	VH_USER_SET_OWNER = 3,
	VH_USER_RESET_OWNER = 4,
	VH_USER_SET_MEM_TABLE = 5,
	VH_USER_SET_LOG_BASE = 6,
	VH_USER_SET_LOG_FD = 7,
	VH_USER_SET_VRING_NUM = 8,
	VH_USER_SET_VRING_ADDR = 9,
	VH_USER_SET_VRING_BASE = 10,
	VH_USER_GET_VRING_BASE = 11,
	VH_USER_SET_VRING_KICK = 12,
	VH_USER_SET_VRING_CALL = 13,
	VH_USER_SET_VRING_ERR = 14,
	VH_USER_GET_PROTOCOL_FEATURES = 15,
	VH_USER_SET_PROTOCOL_FEATURES = 16,
	VH_USER_GET_QUEUE_NUM = 17,
	VH_USER_SET_VRING_ENABLE = 18,
	VH_USER_SEND_RARP = 19,
	VH_USER_NET_SET_MTU = 20,
	VH_USER_SET_BACKEND_REQ_FD = 21, /**< formerly SET_SLAVE_REQ_FD */
	VH_USER_IOTLB_MSG = 22,
	VH_USER_SET_VRING_ENDIAN = 23,
	VH_USER_GET_CONFIG = 24,
	VH_USER_SET_CONFIG = 25,
	VH_USER_CREATE_CRYPTO_SESSION = 26,
	VH_USER_CLOSE_CRYPTO_SESSION = 27,
	VH_USER_POSTCOPY_ADVISE = 28,
	VH_USER_POSTCOPY_LISTEN = 29,
	VH_USER_POSTCOPY_END = 30,
	VH_USER_GET_INFLIGHT_FD = 31,
	VH_USER_SET_INFLIGHT_FD = 32,
	VH_USER_GPU_SET_SOCKET = 33,
	VH_USER_RESET_DEVICE = 34,
	VH_USER_VRING_KICK = 35,
	VH_USER_GET_MAX_MEM_SLOTS = 36,
	VH_USER_ADD_MEM_REG = 37,
	VH_USER_REM_MEM_REG = 38,
	VH_USER_SET_STATUS = 39,
	VH_USER_GET_STATUS = 40,
	VH_USER_GET_SHARED_OBJECT = 41,
	VH_USER_SET_DEVICE_STATE_FD = 42,
	VH_USER_CHECK_DEVICE_STATE = 43,
	VH_USER_GET_SHMEM_CONFIG = 44,
	VH_USER_REQ_MAX, /**< one past the last front-end request */
};

/** Back-end requests (vhost-user: "Back-end message types"). */
enum vh_user_backend_request {
	VH_USER_BACKEND_NONE = 0,
	VH_USER_BACKEND_IOTLB_MSG = 1,
	VH_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
	VH_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
	VH_USER_BACKEND_VRING_CALL = 4,
	VH_USER_BACKEND_VRING_ERR = 5,
	VH_USER_BACKEND_SHARED_OBJECT_ADD = 6,
	VH_USER_BACKEND_SHARED_OBJECT_REMOVE = 7,
	VH_USER_BACKEND_SHARED_OBJECT_LOOKUP = 8,
	VH_USER_BACKEND_SHMEM_MAP = 9,
	VH_USER_BACKEND_SHMEM_UNMAP = 10,
	VH_USER_BACKEND_REQ_MAX, /**< one past the last back-end request */
};

/** Protocol feature bits (vhost-user: "Protocol features"). */
enum vh_user_protocol_feature {
	VH_USER_PROTOCOL_F_MQ = 0,
	VH_USER_PROTOCOL_F_LOG_SHMFD = 1,
	VH_USER_PROTOCOL_F_RARP = 2,
	VH_USER_PROTOCOL_F_REPLY_ACK = 3,
	VH_USER_PROTOCOL_F_NET_MTU = 4,
	VH_USER_PROTOCOL_F_BACKEND_REQ = 5,
	VH_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
	VH_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
	VH_USER_PROTOCOL_F_PAGEFAULT = 8,
	VH_USER_PROTOCOL_F_CONFIG = 9,
	VH_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VH_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
	VH_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VH_USER_PROTOCOL_F_RESET_DEVICE = 13,
	VH_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VH_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VH_USER_PROTOCOL_F_STATUS = 16,
	VH_USER_PROTOCOL_F_XEN_MMAP = 17,
	VH_USER_PROTOCOL_F_SHARED_OBJECT = 18,
	VH_USER_PROTOCOL_F_DEVICE_STATE = 19,
	VH_USER_PROTOCOL_F_SHMEM = 20,
	VH_USER_PROTOCOL_F_MAX, /**< one past the last protocol feature */
};

/** Bit mask of protocol feature @p f. */
#define VH_USER_PF(f) (1ULL << (f))

/** Virtio feature bit 30, reused by vhost-user to announce protocol features. */
#define VH_USER_F_PROTOCOL_FEATURES 30

/* Virtio and vhost feature bits the library itself interprets. */
#define VH_VIRTIO_F_NOTIFY_ON_EMPTY    24
#define VH_VHOST_F_LOG_ALL	       26
#define VH_VIRTIO_RING_F_INDIRECT_DESC 28
#define VH_VIRTIO_RING_F_EVENT_IDX     29
#define VH_VIRTIO_F_VERSION_1	       32
#define VH_VIRTIO_F_ACCESS_PLATFORM    33 /**< VIRTIO_F_IOMMU_PLATFORM */
#define VH_VIRTIO_F_RING_PACKED	       34

/* Header flags (vhost-user: "Header"). */
#define VH_USER_VERSION		0x1u
#define VH_USER_VERSION_MASK	0x3u
#define VH_USER_REPLY_MASK	(1u << 2)
#define VH_USER_NEED_REPLY_MASK (1u << 3)
#define VH_USER_FLAGS_KNOWN	(VH_USER_VERSION_MASK | VH_USER_REPLY_MASK | VH_USER_NEED_REPLY_MASK)

/* SET_VRING_KICK/CALL/ERR u64 payload: ring index and the "no fd" flag. */
#define VH_USER_VRING_IDX_MASK	0xffu
#define VH_USER_VRING_NOFD_MASK (1u << 8)

/** Regions in one SET_MEM_TABLE message (VHOST_MEMORY_BASELINE_NREGIONS). */
#define VH_USER_MEM_TABLE_MAX_REGIONS 8
/** Memory slots this library supports with CONFIGURE_MEM_SLOTS. */
#define VH_USER_MAX_MEM_SLOTS 509
/** At most this many fds travel with one message. */
#define VH_USER_MAX_FDS 8
/** Largest virtio device config space exchanged by GET/SET_CONFIG. */
#define VH_USER_MAX_CONFIG_SIZE 256
/** Largest ring size (virtio 1.1, 2.6/2.7: queue size is at most 32768). */
#define VH_USER_MAX_RING_SIZE 32768
/** Size of a dirty-log page (vhost-user: "Migration"). */
#define VH_LOG_PAGE 4096ULL
/** Header size on the wire. */
#define VH_USER_HDR_SIZE 12u
/**
 * Upper bound for any payload this library reads: larger than every request
 * defines (the largest fixed one, a crypto session, is about 1.1 KiB).
 */
#define VH_USER_MAX_PAYLOAD 4096u

/** Message header as on the wire. */
struct vh_user_hdr {
	uint32_t request; /**< enum vh_user_request or vh_user_backend_request */
	uint32_t flags;	  /**< version, reply and need_reply bits */
	uint32_t size;	  /**< payload size in bytes */
};

/** "A vring state description": SET_VRING_NUM/BASE/ENABLE, GET_VRING_BASE. */
struct vh_user_vring_state {
	uint32_t index;
	uint32_t num;
};

/** "A vring address description": SET_VRING_ADDR. */
struct vh_user_vring_addr {
	uint32_t index;
	uint32_t flags; /**< bit 0: log used-ring writes (VH_VRING_F_LOG) */
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};

/** "Memory region description". */
struct vh_user_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

/** "Multiple memory regions description": SET_MEM_TABLE. */
struct vh_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vh_user_mem_region regions[VH_USER_MEM_TABLE_MAX_REGIONS];
};

/** "Single memory region description": ADD_MEM_REG, REM_MEM_REG. */
struct vh_user_mem_reg_msg {
	uint64_t padding;
	struct vh_user_mem_region region;
};

/** "Log description": SET_LOG_BASE with LOG_SHMFD. */
struct vh_user_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

/** "An IOTLB message" (struct vhost_iotlb_msg). */
struct vh_user_iotlb {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm; /**< 0 none, 1 read, 2 write, 3 read/write */
	uint8_t type; /**< 1 miss, 2 update, 3 invalidate, 4 access fail */
	uint8_t reserved[6];
};

/** "Virtio device config space": GET_CONFIG, SET_CONFIG. */
struct vh_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags; /**< 0: writable fields, 1: live migration */
	uint8_t region[VH_USER_MAX_CONFIG_SIZE];
};
/** Bytes of struct vh_user_config before the config data. */
#define VH_USER_CONFIG_HDR_SIZE 12u

/** "Vring area description": BACKEND_VRING_HOST_NOTIFIER_MSG. */
struct vh_user_vring_area {
	uint64_t u64; /**< ring index (bits 0-7) and VH_USER_VRING_NOFD_MASK */
	uint64_t size;
	uint64_t offset;
};

/** "Inflight description": GET_INFLIGHT_FD, SET_INFLIGHT_FD (24 bytes). */
struct vh_user_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t padding;
};

/** "VhostUserShared": GET_SHARED_OBJECT, BACKEND_SHARED_OBJECT_*. */
struct vh_user_shared {
	uint8_t uuid[16];
};

/** "Device state transfer parameters": SET_DEVICE_STATE_FD. */
struct vh_user_device_state {
	uint32_t direction; /**< 0 save, 1 load */
	uint32_t phase;	    /**< 0 stopped */
};

/** "VIRTIO Shared Memory Region configuration": GET_SHMEM_CONFIG reply. */
struct vh_user_shmem_config {
	uint32_t nregions;
	uint32_t padding;
	uint64_t memory_sizes[8];
};

/** "VhostUserMMap": BACKEND_SHMEM_MAP, BACKEND_SHMEM_UNMAP. */
struct vh_user_mmap {
	uint8_t shmid;
	uint8_t padding[7];
	uint64_t fd_offset;
	uint64_t shm_offset;
	uint64_t len;
	uint64_t flags; /**< bit 0 read, bit 1 write */
};

/* SET_DEVICE_STATE_FD reply: bits 0-7 error, bit 8 "no fd returned". */
#define VH_USER_DEVICE_STATE_NOFD (1u << 8)

/** Every payload layout, for parsing in place. */
union vh_user_payload {
	uint64_t u64;
	struct vh_user_vring_state state;
	struct vh_user_vring_addr addr;
	struct vh_user_memory memory;
	struct vh_user_mem_reg_msg mem_reg;
	struct vh_user_log log;
	struct vh_user_iotlb iotlb;
	struct vh_user_config config;
	struct vh_user_vring_area area;
	struct vh_user_inflight inflight;
	struct vh_user_shared object;
	struct vh_user_device_state device_state;
	struct vh_user_shmem_config shmem;
	struct vh_user_mmap mmap;
	uint8_t raw[VH_USER_MAX_PAYLOAD];
};

/**
 * One message in memory: header, payload (hdr.size bytes valid) and the fds
 * that came or go with it. Received fds belong to the message until taken
 * with vh_user_msg_take_fd(); vh_user_msg_close_fds() closes the rest.
 */
struct vh_user_msg {
	struct vh_user_hdr hdr;
	uint32_t nfds;
	union vh_user_payload payload;
	int fds[VH_USER_MAX_FDS];
};

/** What a request expects back (vhost-user: "Communication"). */
enum vh_user_reply_kind {
	VH_USER_REPLY_NONE = 0,	     /**< no reply unless need_reply (REPLY_ACK) */
	VH_USER_REPLY_ALWAYS = 1,    /**< the request always has a reply */
	VH_USER_REPLY_LOG_SHMFD = 2, /**< a reply when LOG_SHMFD is negotiated */
};

/**
 * Framing rule of one request: which payload sizes and how many fds are
 * legal. Sizes that depend on the payload (SET_MEM_TABLE, GET/SET_CONFIG,
 * SET_VRING_KICK/CALL/ERR) are checked by vh_user_msg_check().
 */
struct vh_user_req_rule {
	const char *name;  /**< e.g. "SET_MEM_TABLE"; NULL for an unknown number */
	uint16_t min_size; /**< smallest legal payload */
	uint16_t max_size; /**< largest legal payload */
	uint8_t min_fds;   /**< fewest fds */
	uint8_t max_fds;   /**< most fds */
	uint8_t reply;	   /**< enum vh_user_reply_kind */
};

/**
 * Returns the framing rule of front-end request @p request, or NULL when the
 * number is not a front-end request.
 */
const struct vh_user_req_rule *vh_user_request_rule(uint32_t request);

/**
 * Returns the framing rule of back-end request @p request, or NULL when the
 * number is not a back-end request.
 */
const struct vh_user_req_rule *vh_user_backend_request_rule(uint32_t request);

/** Returns the name of front-end request @p request ("UNKNOWN" if none). */
const char *vh_user_request_name(uint32_t request);

/** Returns the name of back-end request @p request ("UNKNOWN" if none). */
const char *vh_user_backend_request_name(uint32_t request);

/**
 * Checks a complete received message against its request's rule: version
 * bits, no unknown flag bits, payload size and fd count (including the
 * payload-dependent ones).
 *
 * @param msg      the message
 * @param backend  true for a back-end request (main socket: false)
 * @return 0, -ENOSYS for an unknown request number, -EBADMSG for a message
 *         that breaks its request's framing.
 */
int vh_user_msg_check(const struct vh_user_msg *msg, int backend);

/** Initialises @p msg as an empty request @p request with @p size bytes of payload. */
void vh_user_msg_init(struct vh_user_msg *msg, uint32_t request, uint32_t size);

/** Removes fd @p i from @p msg and returns it (-1 if none); the caller owns it. */
int vh_user_msg_take_fd(struct vh_user_msg *msg, unsigned int i);

/** Closes every fd still held by @p msg. */
void vh_user_msg_close_fds(struct vh_user_msg *msg);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_USER_MSG_H */
