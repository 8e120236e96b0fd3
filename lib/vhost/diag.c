/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The library's diagnostics hook: one handler, one level, stderr by default.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

static vh_diag_handler_t diag_handler;
static void *diag_arg;
static int diag_level = VH_DIAG_WARNING;

void
vh_diag_set_handler(vh_diag_handler_t handler, void *arg)
{
	diag_handler = handler;
	diag_arg = arg;
}

void
vh_diag_set_level(int level)
{
	diag_level = level;
}

int
vh_diag_get_level(void)
{
	return diag_level;
}

void
vh_diagf(int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level > diag_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (diag_handler != NULL)
		diag_handler(level, line, diag_arg);
	else
		fprintf(stderr, "libvhost: %s\n", line);
}

void
vh_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

uint64_t
vh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
