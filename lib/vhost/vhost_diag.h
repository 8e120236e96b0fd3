/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_DIAG_H
#define VHOST_DIAG_H

/**
 * @file
 * libvhost: where the library's diagnostics go.
 *
 * The library reports why it rejected a message or closed a connection once,
 * where the reason is known, through one process-wide handler. The default
 * handler writes "libvhost: <message>" lines to stderr for levels up to
 * VH_DIAG_WARNING. An application with its own logging (the switch uses
 * rte_log) installs a handler and a level.
 *
 * In libvhost "log" means only the dirty log of live migration
 * (vhost_dirty_log.h, SET_LOG_BASE); these messages are "diagnostics".
 */

#ifdef __cplusplus
extern "C" {
#endif

/** Severity, as syslog levels. */
enum vh_diag_level {
	VH_DIAG_ERR = 3,     /**< a connection or request failed */
	VH_DIAG_WARNING = 4, /**< a peer broke the protocol; the library coped */
	VH_DIAG_INFO = 6,    /**< connection and negotiation milestones */
	VH_DIAG_DEBUG = 7,   /**< every request */
};

/**
 * A diagnostics handler: called with the level and one formatted line (no trailing
 * newline). May be called from any thread that calls into the library.
 */
typedef void (*vh_diag_handler_t)(int level, const char *line, void *arg);

/**
 * Installs @p handler (NULL restores the stderr default) with its argument.
 * Not thread-safe against concurrent library calls: set it at start-up.
 */
void vh_diag_set_handler(vh_diag_handler_t handler, void *arg);

/** Drops messages less severe than @p level (default VH_DIAG_WARNING). */
void vh_diag_set_level(int level);

/** Returns the current level. */
int vh_diag_get_level(void);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_DIAG_H */
