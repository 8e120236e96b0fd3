/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_USER_HANDOVER_H
#define VHOST_USER_HANDOVER_H

/**
 * @file
 * libvhost: handing a live vhost-user back-end connection to another process
 * (an upgrade of the back-end without a disconnect).
 *
 * The front-end never learns of it: the process giving the connection away
 * stops its rings at a burst boundary (vh_user_backend_export()), sends the
 * state below serialised with vh_user_handover_encode() and the fds it
 * names (by SCM_RIGHTS, in the fd array's order) to the process taking it
 * over, which decodes it (vh_user_handover_decode()), maps the memory itself
 * from the fds and resumes every ring exactly where it stopped
 * (vh_user_backend_import()). When the hand-over fails, the first process
 * carries on (vh_user_backend_resume()).
 *
 * What the receiver gets is untrusted input, like a front-end's messages:
 * the decoder checks the encoding (magic, version, lengths, counts, flag
 * bits, fd indexes: each fd named at most once), the importer everything it
 * means (features offered, ring sizes, addresses inside memory, positions
 * inside rings, fd types, memory budget); a bad state is refused with a
 * negative errno and a log line, never a crash or a leak.
 *
 * Fds are referred to by their index in the array sent along (-1: none).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_user_backend.h"
#include "vhost_user_msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the encoding; vh_user_handover_decode() refuses any other. */
#define VH_USER_HANDOVER_VERSION 1
/** Most rings a state holds (the ring index of SET_VRING_* has 8 bits). */
#define VH_USER_HANDOVER_MAX_RINGS 256
/** Most fds a state names: three per ring, one per region, five more. */
#define VH_USER_HANDOVER_MAX_FDS (3 * VH_USER_HANDOVER_MAX_RINGS + VH_USER_MAX_MEM_SLOTS + 5)

/** One ring, as the back-end knows it. */
struct vh_user_handover_ring {
	uint32_t num;			/**< SET_VRING_NUM, 0 if never set */
	uint32_t base;			/**< position, in GET_VRING_BASE's encoding */
	struct vh_user_vring_addr addr; /**< SET_VRING_ADDR (valid with addr_set) */
	int32_t kick;			/**< kick eventfd (index), or -1 */
	int32_t call;			/**< call eventfd (index), or -1 */
	int32_t err;			/**< error eventfd (index), or -1 */
	bool addr_set;			/**< SET_VRING_ADDR was received */
	bool kick_set;			/**< a kick source exists (fd, polling flag or in-band) */
	bool enabled;			/**< SET_VRING_ENABLE state */
	bool started;			/**< the ring ran when it was exported */
};

/** One memory region. */
struct vh_user_handover_region {
	uint64_t guest_phys_addr;
	uint64_t size;
	uint64_t user_addr;
	uint64_t mmap_offset;
	int32_t fd; /**< the region's file (index) */
};

/** A back-end connection's whole state. */
struct vh_user_handover {
	uint64_t features;	    /**< acked virtio features (with bit 30) */
	uint64_t protocol_features; /**< negotiated protocol features */
	bool features_set;	    /**< SET_FEATURES was received */
	uint8_t status;		    /**< SET_STATUS */
	int32_t conn;		    /**< the connection's socket (index; required) */
	int32_t backend_req;	    /**< SET_BACKEND_REQ_FD's socket, or -1 */
	int32_t log_fd;		    /**< SET_LOG_FD's eventfd, or -1 */
	/** The dirty log of SET_LOG_BASE: fd (or -1), size and offset. */
	int32_t log;
	uint64_t log_size;
	uint64_t log_offset;
	/** The inflight area: fd (or -1), size, offset and layout. */
	int32_t inflight;
	uint64_t inflight_size;
	uint64_t inflight_offset;
	uint16_t inflight_queues;
	uint16_t inflight_queue_size;
	bool inflight_packed;
	uint32_t nregions;
	struct vh_user_handover_region regions[VH_USER_MAX_MEM_SLOTS];
	uint32_t nrings; /**< rings 0 .. nrings - 1 */
	struct vh_user_handover_ring rings[VH_USER_HANDOVER_MAX_RINGS];
};

/**
 * Stops every started ring of @p be (ring_stopped(): the device lets go and
 * reports its position; the caller's data path must be quiet, for instance
 * its workers stopped at a burst boundary) and describes the connection in
 * @p st. The fds named go to @p fds in index order; they stay @p be's and
 * are valid until @p be is resumed or destroyed. @p be handles no message
 * until vh_user_backend_resume(); after a successful hand-over the caller
 * destroys it, which the front-end does not notice while the other process
 * holds the fds.
 *
 * @return 0; -ENOTCONN (the connection ended), -EBUSY (the front-end is in
 *         the middle of a message: try again), -ENOSPC (more than
 *         @p max_fds fds). On failure nothing was stopped.
 */
int vh_user_backend_export(struct vh_user_backend *be, struct vh_user_handover *st, int *fds,
			   unsigned int max_fds, unsigned int *nfds);

/**
 * After a failed hand-over: starts again the rings vh_user_backend_export()
 * stopped, from where they stopped. Messages may be handled again.
 *
 * @return 0, or the negative errno of the first ring that did not start
 *         (the others are started; that one stays stopped until the
 *         front-end sets it up again).
 */
int vh_user_backend_resume(struct vh_user_backend *be);

/**
 * Creates the back-end of a connection described by @p st (decoded, so its
 * encoding is sound, but otherwise untrusted) with device @p cfg: checks
 * it completely, maps the memory, dirty log and inflight area from the fds,
 * tells the device (set_protocol_features, set_features, mem_changed) and
 * starts every ring that was started, at its position, with its enabled
 * state. Takes every fd of @p fds[0 .. @p nfds): those it keeps are set to
 * -1, the rest are closed, also on failure.
 *
 * @return the back-end, or NULL with errno: EINVAL (bad config, a bad
 *         value), EPROTO (features the device does not offer), EBADF (an
 *         fd of the wrong kind), ERANGE, EFAULT (a ring outside memory),
 *         E2BIG (memory over budget), ENOMEM, or a device op's error.
 */
struct vh_user_backend *vh_user_backend_import(const struct vh_user_backend_config *cfg,
					       const struct vh_user_handover *st, int *fds,
					       unsigned int nfds);

/**
 * Serialises @p st (@p nfds fds named) into @p buf of @p cap bytes.
 *
 * @return the length (> 0), -ENOSPC when @p cap is too small (call with
 *         @p cap 0 to learn the length), -EINVAL when @p st names an fd
 *         outside [0, @p nfds) or holds more regions or rings than allowed.
 */
long vh_user_handover_encode(const struct vh_user_handover *st, unsigned int nfds, void *buf,
			     size_t cap);

/**
 * Parses @p len bytes of @p buf, which came with @p nfds fds, into @p st.
 * Checks the encoding: magic, version (VH_USER_HANDOVER_VERSION), the
 * length, counts within bounds, no unknown flag bits, every fd index in
 * [-1, @p nfds) and no fd named twice.
 *
 * @return 0, -EPROTONOSUPPORT for another version, -EBADMSG otherwise.
 */
int vh_user_handover_decode(const void *buf, size_t len, unsigned int nfds,
			    struct vh_user_handover *st);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_USER_HANDOVER_H */
