/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user wire format: one framing rule per request (payload size and
 * fd count, vhost-user "Front-end message types" / "Back-end message types")
 * and the strict check every received message passes before it is parsed.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vhost_user_msg.h"

#define U64   8
#define STATE ((uint16_t)sizeof(struct vh_user_vring_state))
#define RULE(n, lo, hi, flo, fhi, rep)                                                             \
	{                                                                                          \
#n, lo, hi, flo, fhi, rep                                                          \
	}

static const struct vh_user_req_rule frontend_rules[VH_USER_REQ_MAX] = {
	[VH_USER_GET_FEATURES] = RULE(GET_FEATURES, 0, 0, 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_SET_FEATURES] = RULE(SET_FEATURES, U64, U64, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_SET_OWNER] = RULE(SET_OWNER, 0, 0, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_RESET_OWNER] = RULE(RESET_OWNER, 0, 0, 0, 0, VH_USER_REPLY_NONE),
	/* nregions decides the exact size and fd count: see check_payload(). */
	[VH_USER_SET_MEM_TABLE] = RULE(SET_MEM_TABLE, 8 + sizeof(struct vh_user_mem_region),
				       sizeof(struct vh_user_memory), 1,
				       VH_USER_MEM_TABLE_MAX_REGIONS, VH_USER_REPLY_NONE),
	/* A u64 (legacy, no fd) or a log description with the shared-memory fd. */
	[VH_USER_SET_LOG_BASE] =
		RULE(SET_LOG_BASE, U64, sizeof(struct vh_user_log), 0, 1, VH_USER_REPLY_LOG_SHMFD),
	[VH_USER_SET_LOG_FD] = RULE(SET_LOG_FD, 0, U64, 1, 1, VH_USER_REPLY_NONE),
	[VH_USER_SET_VRING_NUM] = RULE(SET_VRING_NUM, STATE, STATE, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_SET_VRING_ADDR] =
		RULE(SET_VRING_ADDR, sizeof(struct vh_user_vring_addr),
		     sizeof(struct vh_user_vring_addr), 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_SET_VRING_BASE] = RULE(SET_VRING_BASE, STATE, STATE, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_GET_VRING_BASE] = RULE(GET_VRING_BASE, STATE, STATE, 0, 0, VH_USER_REPLY_ALWAYS),
	/* One fd unless the payload carries VH_USER_VRING_NOFD_MASK. */
	[VH_USER_SET_VRING_KICK] = RULE(SET_VRING_KICK, U64, U64, 0, 1, VH_USER_REPLY_NONE),
	[VH_USER_SET_VRING_CALL] = RULE(SET_VRING_CALL, U64, U64, 0, 1, VH_USER_REPLY_NONE),
	[VH_USER_SET_VRING_ERR] = RULE(SET_VRING_ERR, U64, U64, 0, 1, VH_USER_REPLY_NONE),
	[VH_USER_GET_PROTOCOL_FEATURES] =
		RULE(GET_PROTOCOL_FEATURES, 0, 0, 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_SET_PROTOCOL_FEATURES] =
		RULE(SET_PROTOCOL_FEATURES, U64, U64, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_GET_QUEUE_NUM] = RULE(GET_QUEUE_NUM, 0, 0, 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_SET_VRING_ENABLE] = RULE(SET_VRING_ENABLE, STATE, STATE, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_SEND_RARP] = RULE(SEND_RARP, U64, U64, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_NET_SET_MTU] = RULE(NET_SET_MTU, U64, U64, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_SET_BACKEND_REQ_FD] = RULE(SET_BACKEND_REQ_FD, 0, U64, 1, 1, VH_USER_REPLY_NONE),
	[VH_USER_IOTLB_MSG] = RULE(IOTLB_MSG, sizeof(struct vh_user_iotlb),
				   sizeof(struct vh_user_iotlb), 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_SET_VRING_ENDIAN] = RULE(SET_VRING_ENDIAN, STATE, STATE, 0, 0, VH_USER_REPLY_NONE),
	/* 12 bytes of header plus exactly config.size bytes: see check_payload(). */
	[VH_USER_GET_CONFIG] = RULE(GET_CONFIG, VH_USER_CONFIG_HDR_SIZE,
				    sizeof(struct vh_user_config), 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_SET_CONFIG] = RULE(SET_CONFIG, VH_USER_CONFIG_HDR_SIZE,
				    sizeof(struct vh_user_config), 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_CREATE_CRYPTO_SESSION] =
		RULE(CREATE_CRYPTO_SESSION, U64, VH_USER_MAX_PAYLOAD, 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_CLOSE_CRYPTO_SESSION] =
		RULE(CLOSE_CRYPTO_SESSION, U64, U64, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_POSTCOPY_ADVISE] = RULE(POSTCOPY_ADVISE, 0, 0, 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_POSTCOPY_LISTEN] = RULE(POSTCOPY_LISTEN, 0, 0, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_POSTCOPY_END] = RULE(POSTCOPY_END, 0, 0, 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_GET_INFLIGHT_FD] =
		RULE(GET_INFLIGHT_FD, sizeof(struct vh_user_inflight),
		     sizeof(struct vh_user_inflight), 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_SET_INFLIGHT_FD] = RULE(SET_INFLIGHT_FD, sizeof(struct vh_user_inflight),
					 sizeof(struct vh_user_inflight), 1, 1, VH_USER_REPLY_NONE),
	[VH_USER_GPU_SET_SOCKET] = RULE(GPU_SET_SOCKET, 0, 0, 1, 1, VH_USER_REPLY_NONE),
	[VH_USER_RESET_DEVICE] = RULE(RESET_DEVICE, 0, 0, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_VRING_KICK] = RULE(VRING_KICK, STATE, STATE, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_GET_MAX_MEM_SLOTS] = RULE(GET_MAX_MEM_SLOTS, 0, 0, 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_ADD_MEM_REG] = RULE(ADD_MEM_REG, sizeof(struct vh_user_mem_reg_msg),
				     sizeof(struct vh_user_mem_reg_msg), 1, 1, VH_USER_REPLY_NONE),
	/* vhost-user: REM_MEM_REG "MAY accept messages with one file descriptor". */
	[VH_USER_REM_MEM_REG] = RULE(REM_MEM_REG, sizeof(struct vh_user_mem_reg_msg),
				     sizeof(struct vh_user_mem_reg_msg), 0, 1, VH_USER_REPLY_NONE),
	[VH_USER_SET_STATUS] = RULE(SET_STATUS, U64, U64, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_GET_STATUS] = RULE(GET_STATUS, 0, 0, 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_GET_SHARED_OBJECT] =
		RULE(GET_SHARED_OBJECT, sizeof(struct vh_user_shared),
		     sizeof(struct vh_user_shared), 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_SET_DEVICE_STATE_FD] =
		RULE(SET_DEVICE_STATE_FD, sizeof(struct vh_user_device_state),
		     sizeof(struct vh_user_device_state), 1, 1, VH_USER_REPLY_ALWAYS),
	[VH_USER_CHECK_DEVICE_STATE] = RULE(CHECK_DEVICE_STATE, 0, 0, 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_GET_SHMEM_CONFIG] = RULE(GET_SHMEM_CONFIG, 0, 0, 0, 0, VH_USER_REPLY_ALWAYS),
};

static const struct vh_user_req_rule backend_rules[VH_USER_BACKEND_REQ_MAX] = {
	[VH_USER_BACKEND_IOTLB_MSG] = RULE(BACKEND_IOTLB_MSG, sizeof(struct vh_user_iotlb),
					   sizeof(struct vh_user_iotlb), 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_BACKEND_CONFIG_CHANGE_MSG] =
		RULE(BACKEND_CONFIG_CHANGE_MSG, 0, U64, 0, 0, VH_USER_REPLY_NONE),
	/* One fd unless the area's u64 carries VH_USER_VRING_NOFD_MASK. */
	[VH_USER_BACKEND_VRING_HOST_NOTIFIER_MSG] =
		RULE(BACKEND_VRING_HOST_NOTIFIER_MSG, sizeof(struct vh_user_vring_area),
		     sizeof(struct vh_user_vring_area), 0, 1, VH_USER_REPLY_NONE),
	[VH_USER_BACKEND_VRING_CALL] =
		RULE(BACKEND_VRING_CALL, STATE, STATE, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_BACKEND_VRING_ERR] =
		RULE(BACKEND_VRING_ERR, STATE, STATE, 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_BACKEND_SHARED_OBJECT_ADD] =
		RULE(BACKEND_SHARED_OBJECT_ADD, sizeof(struct vh_user_shared),
		     sizeof(struct vh_user_shared), 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_BACKEND_SHARED_OBJECT_REMOVE] =
		RULE(BACKEND_SHARED_OBJECT_REMOVE, sizeof(struct vh_user_shared),
		     sizeof(struct vh_user_shared), 0, 0, VH_USER_REPLY_NONE),
	[VH_USER_BACKEND_SHARED_OBJECT_LOOKUP] =
		RULE(BACKEND_SHARED_OBJECT_LOOKUP, sizeof(struct vh_user_shared),
		     sizeof(struct vh_user_shared), 0, 0, VH_USER_REPLY_ALWAYS),
	[VH_USER_BACKEND_SHMEM_MAP] = RULE(BACKEND_SHMEM_MAP, sizeof(struct vh_user_mmap),
					   sizeof(struct vh_user_mmap), 1, 1, VH_USER_REPLY_NONE),
	[VH_USER_BACKEND_SHMEM_UNMAP] = RULE(BACKEND_SHMEM_UNMAP, sizeof(struct vh_user_mmap),
					     sizeof(struct vh_user_mmap), 0, 0, VH_USER_REPLY_NONE),
};

const struct vh_user_req_rule *
vh_user_request_rule(uint32_t request)
{
	if (request >= VH_USER_REQ_MAX || frontend_rules[request].name == NULL)
		return NULL;
	return &frontend_rules[request];
}

const struct vh_user_req_rule *
vh_user_backend_request_rule(uint32_t request)
{
	if (request >= VH_USER_BACKEND_REQ_MAX || backend_rules[request].name == NULL)
		return NULL;
	return &backend_rules[request];
}

const char *
vh_user_request_name(uint32_t request)
{
	const struct vh_user_req_rule *r = vh_user_request_rule(request);

	return r != NULL ? r->name : "UNKNOWN";
}

const char *
vh_user_backend_request_name(uint32_t request)
{
	const struct vh_user_req_rule *r = vh_user_backend_request_rule(request);

	return r != NULL ? r->name : "UNKNOWN";
}

/* The rules whose legal size or fd count depends on the payload itself. */
static int
check_payload(const struct vh_user_msg *msg, int backend)
{
	const union vh_user_payload *p = &msg->payload;
	uint32_t size = msg->hdr.size;

	if (backend) {
		if (msg->hdr.request == VH_USER_BACKEND_VRING_HOST_NOTIFIER_MSG)
			return msg->nfds == ((p->area.u64 & VH_USER_VRING_NOFD_MASK) ? 0u : 1u)
				       ? 0
				       : -EBADMSG;
		return 0;
	}
	switch (msg->hdr.request) {
	case VH_USER_SET_MEM_TABLE:
		if (p->memory.nregions == 0 || p->memory.nregions > VH_USER_MEM_TABLE_MAX_REGIONS ||
		    size != 8 + p->memory.nregions * sizeof(struct vh_user_mem_region) ||
		    msg->nfds != p->memory.nregions)
			return -EBADMSG;
		return 0;
	case VH_USER_GET_CONFIG:
	case VH_USER_SET_CONFIG:
		if (p->config.size > VH_USER_MAX_CONFIG_SIZE ||
		    size != VH_USER_CONFIG_HDR_SIZE + p->config.size)
			return -EBADMSG;
		return 0;
	case VH_USER_SET_VRING_KICK:
	case VH_USER_SET_VRING_CALL:
	case VH_USER_SET_VRING_ERR:
		/* Bits 9..63 are not defined: a front-end setting them is confused. */
		if (p->u64 & ~(uint64_t)(VH_USER_VRING_IDX_MASK | VH_USER_VRING_NOFD_MASK))
			return -EBADMSG;
		return msg->nfds == ((p->u64 & VH_USER_VRING_NOFD_MASK) ? 0u : 1u) ? 0 : -EBADMSG;
	case VH_USER_SET_LOG_BASE:
		/* The legacy u64 form carries no fd; the log description carries one. */
		return msg->nfds == (size == sizeof(struct vh_user_log) ? 1u : 0u) ? 0 : -EBADMSG;
	default:
		return 0;
	}
}

int
vh_user_msg_check(const struct vh_user_msg *msg, int backend)
{
	const struct vh_user_req_rule *r = backend ? vh_user_backend_request_rule(msg->hdr.request)
						   : vh_user_request_rule(msg->hdr.request);

	if ((msg->hdr.flags & VH_USER_VERSION_MASK) != VH_USER_VERSION ||
	    (msg->hdr.flags & ~VH_USER_FLAGS_KNOWN) != 0 || (msg->hdr.flags & VH_USER_REPLY_MASK))
		return -EBADMSG;
	if (r == NULL)
		return -ENOSYS;
	if (msg->hdr.size < r->min_size || msg->hdr.size > r->max_size || msg->nfds < r->min_fds ||
	    msg->nfds > r->max_fds)
		return -EBADMSG;
	if (msg->hdr.request == VH_USER_SET_LOG_BASE && !backend && msg->hdr.size != U64 &&
	    msg->hdr.size != sizeof(struct vh_user_log))
		return -EBADMSG;
	return check_payload(msg, backend);
}

void
vh_user_msg_init(struct vh_user_msg *msg, uint32_t request, uint32_t size)
{
	msg->hdr.request = request;
	msg->hdr.flags = VH_USER_VERSION;
	msg->hdr.size = size;
	msg->nfds = 0;
	memset(&msg->payload, 0, size <= sizeof(msg->payload) ? size : sizeof(msg->payload));
	for (unsigned int i = 0; i < VH_USER_MAX_FDS; i++)
		msg->fds[i] = -1;
}

int
vh_user_msg_take_fd(struct vh_user_msg *msg, unsigned int i)
{
	int fd;

	if (i >= msg->nfds || i >= VH_USER_MAX_FDS)
		return -1;
	fd = msg->fds[i];
	msg->fds[i] = -1;
	return fd;
}

void
vh_user_msg_close_fds(struct vh_user_msg *msg)
{
	for (unsigned int i = 0; i < msg->nfds && i < VH_USER_MAX_FDS; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
		msg->fds[i] = -1;
	}
	msg->nfds = 0;
}
