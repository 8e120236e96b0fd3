/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <ftw.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "test_eal.h"

static int eal_rc = 1; /* 1: not tried yet */
static char eal_why[256];
static char runtime_dir[256];

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
eal_cleanup(void)
{
	rte_eal_cleanup();
	if (runtime_dir[0] != '\0')
		nftw(runtime_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int
vt_eal_init(const char *prefix, char *why, size_t len)
{
	return vt_eal_init_args(prefix, NULL, why, len);
}

int
vt_eal_init_args(const char *prefix, const char *const *extra, char *why, size_t len)
{
	char file_prefix[64], lcores[64];
	cpu_set_t set;
	char *argv[24];
	int argc = 0;

	if (eal_rc != 1)
		goto out;
	snprintf(file_prefix, sizeof(file_prefix), "%s-%d", prefix, (int)getpid());
	/*
	 * Three lcores (main and two workers) on the CPUs this process may
	 * use (the test may be pinned): workers on different CPUs when there
	 * are two.
	 */
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= 2) {
		int cpus[2], n = 0;

		for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
		snprintf(lcores, sizeof(lcores), "0@%d,1@%d,2@%d", cpus[0], cpus[1], cpus[0]);
	} else {
		int c = 0;

		while (c < CPU_SETSIZE - 1 && !CPU_ISSET(c, &set))
			c++;
		snprintf(lcores, sizeof(lcores), "0@%d,1@%d,2@%d", c, c, c);
	}
	argv[argc++] = "vswitch-test";
	argv[argc++] = "--no-huge";
	argv[argc++] = "-m";
	argv[argc++] = "256";
	argv[argc++] = "--no-shconf";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	argv[argc++] = "--file-prefix";
	argv[argc++] = file_prefix;
	argv[argc++] = "--log-level";
	argv[argc++] = "lib.eal:warning";
	for (unsigned int i = 0; extra != NULL && extra[i] != NULL && argc < 23; i++)
		argv[argc++] = (char *)(uintptr_t)extra[i];
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		eal_rc = -(rte_errno != 0 ? rte_errno : EINVAL);
		snprintf(eal_why, sizeof(eal_why), "rte_eal_init failed: %s",
			 rte_strerror(rte_errno));
		goto out;
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	atexit(eal_cleanup);
	eal_rc = 0;
out:
	if (eal_rc != 0 && why != NULL && len > 0)
		snprintf(why, len, "%s", eal_why);
	return eal_rc;
}

int
vt_eal_ready(void)
{
	return eal_rc == 0;
}
