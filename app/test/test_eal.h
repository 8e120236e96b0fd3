/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_TEST_EAL_H
#define VT_TEST_EAL_H

/**
 * @file
 * EAL for DPDK unit tests: one initialisation per process, without
 * hugepages or shared files, so tests run in parallel and need no set-up.
 */

#include <stddef.h>

/**
 * Initialises EAL on the first call (later calls return its result again):
 * --no-huge -m 256 --no-shconf --no-pci, lcores 0, 1 and 2 (the main lcore
 * and two workers, spread over the first two CPUs the process may use), file
 * prefix "<prefix>-<pid>". Its runtime directory is removed at exit.
 *
 * @param prefix  the caller's branch or module name, e.g. "switch"
 * @param why     receives the reason on failure
 * @param len     size of @p why
 * @return 0, or a negative errno with a reason in @p why (tests skip with it)
 */
int vt_eal_init(const char *prefix, char *why, size_t len);

/**
 * vt_eal_init() with @p extra EAL arguments appended (NULL-terminated, may be
 * NULL), e.g. "--single-file-segments" so that the memfd behind --no-huge
 * memory can be shared with a vhost-user back-end. The first call in a
 * process decides the arguments; later calls return its result.
 */
int vt_eal_init_args(const char *prefix, const char *const *extra, char *why, size_t len);

/** @return true once vt_eal_init() has succeeded in this process. */
int vt_eal_ready(void);

#endif /* VT_TEST_EAL_H */
