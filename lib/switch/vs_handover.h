/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_HANDOVER_H
#define VS_HANDOVER_H

/**
 * @file
 * Upgrade without a disconnect: a running switch hands everything to a new
 * process over its management socket (`vswitch ... --takeover`), and the
 * VMs notice nothing.
 *
 * The exchange (one management connection, opened by the new process):
 *
 *   new -> old  "takeover VERSION\n" (a request line of the management
 *               protocol; VERSION is VS_HANDOVER_VERSION)
 *   old         refuses with an ordinary error reply when the versions
 *               differ (naming both), and nothing changes; else it stops
 *               its workers at a burst boundary (every chain a worker took
 *               is completed), saves every port that can be handed over
 *               (vs_port_ops.handover_save: rings stopped where they are,
 *               sockets no longer served) and answers
 *               {"ok":true,"handover_version":1,"version":...,"pid":...,"ports":N}
 *   old -> new  binary records (below): one PORT per port (name, id, SPEC,
 *               VLANs, counters, and for a saved port the driver's state
 *               with its fds by SCM_RIGHTS), one FDB (the learned
 *               stations), one END (when the workers stopped)
 *   new         checks everything as untrusted input, creates the ports and
 *               loads the saved ones (memory mapped from the fds, rings
 *               resumed, nothing forwarded yet), then
 *   new -> old  COMMIT (or ABORT, or it dies: the old one resumes the
 *               ports and its workers and forwards again)
 *   old -> new  DONE: it will not resume; the new process publishes the
 *               resumed ports to its workers (the forwarding gap ends) and
 *               learns the stations
 *   old -> new  CLOSED with the management socket's listening fd, once the
 *               ports that were not saved are closed (so that the new
 *               process can open them); the old process lets go of the
 *               saved ones without the peers noticing and exits
 *   new         opens the other ports and serves the management socket.
 *
 * A record is a header (magic "VSHO", version, type, payload length, fd
 * count), the payload, then the fds in groups of at most 250, each group
 * on one byte of its own. The whole exchange is bounded (VS_HANDOVER_TIMEOUT_MS).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vs_json.h"
#include "vs_switch.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The hand-over protocol's version; both sides must speak the same. */
#define VS_HANDOVER_VERSION 1
/**
 * Longest the whole exchange may take, on either side: the old switch
 * forwards nothing meanwhile, and resumes when it is over.
 */
#define VS_HANDOVER_TIMEOUT_MS 5000

/** True when request @p line (@p len bytes, no newline) is "takeover ...". */
bool vs_handover_is_request(const char *line, size_t len);

/** What vs_handover_serve() did. */
enum vs_handover_result {
	VS_HANDOVER_REPLY = 0,	   /**< refused before anything changed: reply in @c w */
	VS_HANDOVER_DONE = 1,	   /**< handed over: stop serving, the process ends */
	VS_HANDOVER_ABANDONED = 2, /**< the new process gave up; forwarding again */
};

/**
 * The old side: serves takeover request @p line on management connection
 * @p fd (control thread; blocks for the exchange, at most
 * VS_HANDOVER_TIMEOUT_MS in all). @p mgmt_fd is the management socket's
 * listening fd, passed on at the end.
 *
 * @return VS_HANDOVER_REPLY (send @p w's reply, keep the connection),
 *         VS_HANDOVER_DONE (every port is gone from this switch without its
 *         peer noticing, the engine's loop was stopped: close the
 *         connection, stop watching @p mgmt_fd and leave its file, exit),
 *         VS_HANDOVER_ABANDONED (the switch forwards again: close the
 *         connection).
 */
enum vs_handover_result vs_handover_serve(struct vs_switch *sw, int fd, const char *line,
					  size_t len, int mgmt_fd, struct vs_jw *w);

/** What a take-over did (for the caller's report). */
struct vs_takeover_info {
	uint32_t old_pid;	   /**< the process taken over from */
	char old_version[32];	   /**< its version */
	unsigned int resumed;	   /**< ports handed over with their connections */
	unsigned int reopened;	   /**< ports the old process closed and we opened */
	unsigned int not_reopened; /**< of those, ports that failed to open here */
	unsigned int fdb_entries;  /**< stations carried over */
	double gap_ms;		   /**< old's last burst to our workers polling the ports */
	double reopen_ms;	   /**< old's last burst to the last reopened port started */
	/**
	 * The management socket's listening fd, to serve with vs_mgmt_adopt(),
	 * or -1 when the old process did not pass it (it died after
	 * committing: make a new socket).
	 */
	int mgmt_fd;
};

/**
 * The new side: asks the switch serving management socket @p ctl for its
 * ports and takes them over (control thread of an engine whose workers
 * run). Everything received is checked as untrusted input. On failure
 * nothing of the old switch is kept, and the old switch forwards on.
 *
 * @return 0 (the switch is ours: @p info says what came over, and its
 *         mgmt_fd is the management socket), or a negative errno with a
 *         one-line reason in @p err: -ECONNREFUSED/-ENOENT (no switch
 *         there), -EPERM (it refused), -EPROTONOSUPPORT (it speaks another
 *         hand-over version), -EBADMSG (it sent something malformed),
 *         -ETIMEDOUT, or a port's error.
 */
int vs_switch_takeover(struct vs_switch *sw, const char *ctl, struct vs_takeover_info *info,
		       char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* VS_HANDOVER_H */
