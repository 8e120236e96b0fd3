/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VH_LOG_H
#define VH_LOG_H

/*
 * libvhost's private log: one line on stderr, prefixed "libvhost: ", written
 * once at the place that knows why something failed.
 */
#include <stdio.h>

#define VH_LOG(fmt, ...) fprintf(stderr, "libvhost: " fmt "\n", ##__VA_ARGS__)

#endif /* VH_LOG_H */
