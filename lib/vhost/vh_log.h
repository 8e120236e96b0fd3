/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VH_LOG_H
#define VH_LOG_H

/*
 * libvhost's private log: one line, written once at the place that knows why
 * something failed. It goes through the library's hook (vhost_log.h:
 * vh_log_set_handler), which by default prints "libvhost: <line>" on stderr.
 */
#include "private.h"

#define VH_LOG(fmt, ...) vh_logf(VH_LOG_ERR, fmt, ##__VA_ARGS__)

#endif /* VH_LOG_H */
