/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_TEST_PROC_H
#define VT_TEST_PROC_H

/**
 * @file
 * Peer processes for interop tests (dpdk-testpmd, QEMU, vswitch): started
 * with a pipe on stdin and stdout+stderr captured to a log file, so a test
 * can send commands, wait for a line and read the whole output afterwards.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vt_proc {
	pid_t pid;
	int stdin_fd;  /**< write end of the child's stdin, -1 once closed */
	char log[256]; /**< file holding the child's stdout and stderr */
	int status;    /**< wait status once reaped */
	bool reaped;
};

/**
 * Starts argv[0] (looked up in PATH) with @p argv. When @p cpu is >= 0 the
 * child is pinned to that CPU. The child's stdout is line-buffered through
 * stdbuf when available. Returns 0 or a negative errno.
 */
int vt_proc_start(struct vt_proc *p, const char *const argv[], int cpu);

/** Writes @p text to the child's stdin. Returns 0 or a negative errno. */
int vt_proc_write(struct vt_proc *p, const char *text);

/**
 * Waits until the child's output contains @p needle, up to @p timeout_ms.
 * Returns 0 when found, -ETIMEDOUT, or -ECHILD if the child exited first.
 */
int vt_proc_wait_output(struct vt_proc *p, const char *needle, unsigned timeout_ms);

/** True when the child's output contains @p needle now. */
bool vt_proc_output_has(struct vt_proc *p, const char *needle);

/**
 * Reads the whole output so far into a malloc'd NUL-terminated string
 * (caller frees). Returns NULL on error.
 */
char *vt_proc_output(struct vt_proc *p);

/** Returns true while the child runs. */
bool vt_proc_running(struct vt_proc *p);

/**
 * Stops the child: writes @p quit (may be NULL) to stdin and closes it, waits
 * up to @p timeout_ms, then SIGTERM, then SIGKILL. Returns the exit status
 * (0..255), 128+signal if it was killed, or a negative errno.
 */
int vt_proc_stop(struct vt_proc *p, const char *quit, unsigned timeout_ms);

/** Prints the child's output to stdout, prefixed with @p tag (for failures). */
void vt_proc_dump(struct vt_proc *p, const char *tag);

/** Removes the log file. Call after vt_proc_stop. */
void vt_proc_cleanup(struct vt_proc *p);

/**
 * Finds dpdk-testpmd; fills @p buf and returns it, or returns NULL and
 * prints nothing (callers skip with a reason).
 */
const char *vt_testpmd_path(char *buf, size_t len);

/**
 * Checks that 2 MiB hugepages are available (free >= @p min_pages) and
 * hugetlbfs is mounted. Returns true or fills @p why.
 */
bool vt_hugepages_ok(unsigned min_pages, char *why, size_t len);

#endif /* VT_TEST_PROC_H */
