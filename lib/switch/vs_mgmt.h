/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_MGMT_H
#define VS_MGMT_H

/**
 * @file
 * The management socket: a Unix stream socket on the control thread's
 * event loop, used by vswitchctl.
 *
 * Protocol: one request per line, one reply per request, on one line.
 * A request is the command's words ("show ports", "add-port SPEC",
 * "del-port NAME", "show fdb", "show lcores", "fdb flush", "help"), or a
 * JSON object {"command": "show ports"} or {"command": "add-port",
 * "args": ["SPEC"]}. A reply is a JSON object: {"ok": true, ...} or
 * {"ok": false, "error": "one line"}. Requests are limited to
 * VS_MGMT_MAX_LINE bytes (a longer one gets an error and is skipped up to
 * its newline); at most VS_MGMT_MAX_CLIENTS connections are served at once.
 */

#include <stdbool.h>
#include <stddef.h>

#include "vs_json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VS_MGMT_MAX_LINE    8192
#define VS_MGMT_MAX_CLIENTS 64
/** Replies larger than this are refused ("show fdb" of a huge table). */
#define VS_MGMT_MAX_REPLY (64u << 20)
/** "show fdb" lists at most this many entries (and says it truncated). */
#define VS_MGMT_MAX_FDB_ENTRIES 100000

struct vs_mgmt;
struct vs_switch;
struct vs_evloop;

/**
 * Listens on @p path (replacing a stale socket nobody listens on; refusing
 * a live one or a file that is not a socket), mode 0660.
 * @return the server, or NULL with a one-line reason in @p err
 */
struct vs_mgmt *vs_mgmt_create(struct vs_switch *sw, struct vs_evloop *loop, const char *path,
			       char *err, size_t errlen);

/**
 * Serves the listening socket @p fd bound at @p path that another process
 * handed over (vs_switch_takeover()); takes @p fd.
 * @return the server, or NULL with a one-line reason in @p err
 */
struct vs_mgmt *vs_mgmt_adopt(struct vs_switch *sw, struct vs_evloop *loop, const char *path,
			      int fd, char *err, size_t errlen);

/**
 * Closes every connection, removes the socket file (unless it was handed
 * over), frees @p m (NULL ignored).
 */
void vs_mgmt_destroy(struct vs_mgmt *m);

/**
 * True once a "takeover" request handed this switch to another process
 * (vs_handover.h): the event loop was stopped, every port is gone, and the
 * process should end.
 */
bool vs_mgmt_handed_over(const struct vs_mgmt *m);

/**
 * Runs one request @p line (without its newline) and writes the reply
 * object into @p w. Used by the server; exposed for tests.
 */
void vs_mgmt_execute(struct vs_switch *sw, const char *line, size_t len, struct vs_jw *w);

#ifdef __cplusplus
}
#endif

#endif /* VS_MGMT_H */
