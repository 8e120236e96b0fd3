/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_TEST_H
#define VT_TEST_H

/**
 * @file
 * The vswitch-test runner: dpdk-test style autotests.
 *
 * A test is a function returning TEST_SUCCESS, TEST_FAILED or TEST_SKIPPED.
 * It registers itself with REGISTER_TEST(name, suite, func); meson scans the
 * sources for that macro at configure time and registers one meson test per
 * name in the meson suite of the same name. The suites are fast, interop, vm,
 * perf and fuzz.
 *
 * `vswitch-test NAME` runs one test and exits 0 (passed), 1 (failed) or 77
 * (skipped, the reason printed on a line starting with "SKIP:").
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TEST_SUCCESS 0
#define TEST_FAILED  1
#define TEST_SKIPPED 77

struct vt_test {
	const char *name;
	const char *suite;
	int (*func)(void);
	struct vt_test *next;
};

/** Adds @p t to the registry; called by REGISTER_TEST constructors. */
void vt_register(struct vt_test *t);

/**
 * Registers @p func as test @p name in suite @p suite (a bare word: fast,
 * interop, vm, perf, fuzz, or guest for tests run inside a QEMU guest by a vm test). Must appear at
 * file scope, on one line, so the configure-time scanner finds it.
 */
#define REGISTER_TEST(name, suite, func)                                                           \
	static struct vt_test vt_test_##name = {#name, #suite, func, NULL};                        \
	__attribute__((constructor)) static void vt_register_##name(void)                          \
	{                                                                                          \
		vt_register(&vt_test_##name);                                                      \
	}

/** Prints a failure line with file and line, then returns TEST_FAILED. */
#define TEST_ASSERT(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL: %s:%d: %s: ", __FILE__, __LINE__, #cond);                    \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			fflush(stdout);                                                            \
			return TEST_FAILED;                                                        \
		}                                                                                  \
	} while (0)

#define TEST_ASSERT_EQUAL(a, b, ...)                                                               \
	do {                                                                                       \
		long long vt_a_ = (long long)(a), vt_b_ = (long long)(b);                          \
		if (vt_a_ != vt_b_) {                                                              \
			printf("FAIL: %s:%d: %s == %s (%lld != %lld): ", __FILE__, __LINE__, #a,   \
			       #b, vt_a_, vt_b_);                                                  \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			fflush(stdout);                                                            \
			return TEST_FAILED;                                                        \
		}                                                                                  \
	} while (0)

#define TEST_ASSERT_SUCCESS(v, ...)  TEST_ASSERT_EQUAL((v), 0, __VA_ARGS__)
#define TEST_ASSERT_NOT_NULL(p, ...) TEST_ASSERT((p) != NULL, __VA_ARGS__)

/** Prints "SKIP: reason" and returns TEST_SKIPPED. */
#define TEST_SKIP(...)                                                                             \
	do {                                                                                       \
		printf("SKIP: ");                                                                  \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
		return TEST_SKIPPED;                                                               \
	} while (0)

/** Runs a sub-case and propagates a failure or skip. */
#define TEST_RUN(expr)                                                                             \
	do {                                                                                       \
		int vt_rc_ = (expr);                                                               \
		if (vt_rc_ != TEST_SUCCESS)                                                        \
			return vt_rc_;                                                             \
	} while (0)

/* ---- helpers shared by tests (app/test/test_util.c) ---- */

/** Number of open file descriptors of this process (from /proc/self/fd). */
int vt_count_fds(void);

/** Number of mappings of this process (lines of /proc/self/maps). */
int vt_count_maps(void);

/** True when running under CI (environment CI=true). */
bool vt_in_ci(void);

/**
 * Directory for a test's sockets and files, created fresh for this process:
 * $VT_TMPDIR or /tmp, then "vswitch-test.<pid>". Removed at exit.
 */
const char *vt_tmpdir(void);

/** Removes @p path and everything below it (best effort; links are removed, not followed). */
void vt_rm_tree(const char *path);

/** Formats a path under vt_tmpdir() into a static buffer per call slot. */
const char *vt_path(char *buf, size_t len, const char *name);

/** Monotonic milliseconds. */
uint64_t vt_now_ms(void);

/** Returns the full path of @p prog found in PATH, or NULL. */
const char *vt_which(const char *prog, char *buf, size_t len);

#endif /* VT_TEST_H */
