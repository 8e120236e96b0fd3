/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_MGMT_H
#define VS_MGMT_H

/**
 * @file
 * The management socket: a Unix stream socket on the control thread's
 * event loop, used by vswitchctl, and its table of commands.
 *
 * Protocol: one request per line, one reply per request, on one line.
 * A request is either text, the command's words and then its arguments
 * separated by blanks ("fdb add 52:54:00:00:00:01 vlan 10 vm1"; a
 * double-quoted word may hold blanks, with \" and \\ inside), or a JSON
 * object {"command": "fdb add", "args": ["52:54:00:00:00:01", "vlan", "10",
 * "vm1"]} (the words of "command" and then "args", each string one word).
 * The longest command name that the leading words spell is the command.
 * A reply is a JSON object: {"ok": true, ...} or {"ok": false, "error":
 * "one line"}. Requests are limited to VS_MGMT_MAX_LINE bytes (a longer one
 * gets an error and is skipped up to its newline); at most
 * VS_MGMT_MAX_CLIENTS connections are served at once.
 *
 * Adding a command: a line in a struct vs_mgmt_cmd table (the engine's are
 * in vs_mgmt_cmds.c) and a handler; a program adds its own tables with
 * vs_mgmt_add_commands().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/** Most words in one request. */
#define VS_MGMT_MAX_WORDS 256
/** vs_mgmt_cmd.max_args: no upper limit. */
#define VS_MGMT_ANY_ARGS 255

struct vs_mgmt;
struct vs_switch;
struct vs_evloop;

/** One request, as a handler sees it. */
struct vs_mgmt_req {
	struct vs_switch *sw;
	void *arg;	   /**< the argument registered with the command's table */
	unsigned int argc; /**< arguments after the command's words */
	const char *const *argv;
	struct vs_jw *w; /**< the reply: an open object holding "ok": true */
};

/** A command of the management protocol. */
struct vs_mgmt_cmd {
	const char *name; /**< its words: "show ports", "fdb add" */
	const char *args; /**< synopsis of the arguments: "MAC [vlan V] PORT" ("" for none) */
	const char *help; /**< what it does, one line */
	uint8_t min_args; /**< fewer gets "usage: NAME ARGS" */
	uint8_t max_args; /**< more gets an error; VS_MGMT_ANY_ARGS: no limit */
	bool line_arg;	  /**< text requests: the rest of the line, as typed, is one argument */
	/** Writes the reply's members into req->w. @return 0, or vs_mgmt_fail()'s result */
	int (*run)(struct vs_mgmt_req *req);
};

/**
 * Fails the request: the reply becomes {"ok": false, "error": MESSAGE}.
 * @return -1, for "return vs_mgmt_fail(req, ...)"
 */
int vs_mgmt_fail(struct vs_mgmt_req *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** The engine's commands (vs_mgmt_cmds.c). */
extern const struct vs_mgmt_cmd vs_mgmt_switch_cmds[];
extern const unsigned int vs_mgmt_switch_nb_cmds;

/**
 * Listens on @p path (replacing a stale socket nobody listens on; refusing
 * a live one or a file that is not a socket), mode 0660, with the engine's
 * commands.
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
 * Adds @p n commands of @p cmds (kept by reference: a static table) with
 * @p arg for their handlers. A name already known is refused.
 * @return 0, -EEXIST or -ENOMEM
 */
int vs_mgmt_add_commands(struct vs_mgmt *m, const struct vs_mgmt_cmd *cmds, unsigned int n,
			 void *arg);

/**
 * Closes every connection, removes the socket file (unless it was handed
 * over), frees @p m (NULL ignored).
 */
void vs_mgmt_destroy(struct vs_mgmt *m);

/** Runs one request @p line (without its newline) on @p m's commands into @p w. */
void vs_mgmt_run(struct vs_mgmt *m, const char *line, size_t len, struct vs_jw *w);

/**
 * True once a "takeover" request handed this switch to another process
 * (vs_handover.h): the event loop was stopped, every port is gone, and the
 * process should end.
 */
bool vs_mgmt_handed_over(const struct vs_mgmt *m);

/**
 * Runs one request with the engine's commands only, without a socket (for
 * tests and fuzzing).
 */
void vs_mgmt_execute(struct vs_switch *sw, const char *line, size_t len, struct vs_jw *w);

#ifdef __cplusplus
}
#endif

#endif /* VS_MGMT_H */
