/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_LOG_H
#define VHOST_LOG_H

/**
 * @file
 * libvhost: where the library's diagnostics go.
 *
 * The library reports why it rejected a message or closed a connection once,
 * where the reason is known, through one process-wide handler. The default
 * handler writes "libvhost: <message>" lines to stderr for levels up to
 * VH_LOG_WARNING. An application with its own logging (the switch uses
 * rte_log) installs a handler and a level.
 */

#ifdef __cplusplus
extern "C" {
#endif

/** Severity, as syslog levels. */
enum vh_log_level {
	VH_LOG_ERR = 3,	    /**< a connection or request failed */
	VH_LOG_WARNING = 4, /**< a peer broke the protocol; the library coped */
	VH_LOG_INFO = 6,    /**< connection and negotiation milestones */
	VH_LOG_DEBUG = 7,   /**< every message */
};

/**
 * A log handler: called with the level and one formatted line (no trailing
 * newline). May be called from any thread that calls into the library.
 */
typedef void (*vh_log_handler_t)(int level, const char *line, void *arg);

/**
 * Installs @p handler (NULL restores the stderr default) with its argument.
 * Not thread-safe against concurrent library calls: set it at start-up.
 */
void vh_log_set_handler(vh_log_handler_t handler, void *arg);

/** Drops messages less severe than @p level (default VH_LOG_WARNING). */
void vh_log_set_level(int level);

/** Returns the current level. */
int vh_log_get_level(void);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_LOG_H */
