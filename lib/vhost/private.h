/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VH_PRIVATE_H
#define VH_PRIVATE_H

/*
 * Library-internal declarations shared by the lib/vhost sources. Never
 * installed; the symbols are hidden, so the version script's vh_* pattern
 * does not export them.
 */

#include <stdint.h>

#include "vhost_diag.h"

#define VH_INTERNAL __attribute__((visibility("hidden")))

/* Formats and hands one line to the diagnostics handler when @p level passes. */
VH_INTERNAL void vh_diagf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define VH_ERR(...)   vh_diagf(VH_DIAG_ERR, __VA_ARGS__)
#define VH_WARN(...)  vh_diagf(VH_DIAG_WARNING, __VA_ARGS__)
#define VH_INFO(...)  vh_diagf(VH_DIAG_INFO, __VA_ARGS__)
#define VH_DEBUG(...) vh_diagf(VH_DIAG_DEBUG, __VA_ARGS__)

/* Closes *fd when valid and sets it to -1. */
VH_INTERNAL void vh_close_fd(int *fd);

/* Milliseconds on the monotonic clock. */
VH_INTERNAL uint64_t vh_now_ms(void);

/*
 * guard.c: the owner recorded with the mappings this thread makes from a
 * front-end's fd (the back-end's device cookie); returns the previous one.
 */
VH_INTERNAL void *vh_guard_set_owner(void *owner);
/* Records / forgets a mapping made from a front-end's fd, for vhost_guard.h. */
VH_INTERNAL void vh_guard_track(const void *base, size_t len);
VH_INTERNAL void vh_guard_untrack(const void *base);

#endif /* VH_PRIVATE_H */
