/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The library's diagnostics hook: one handler, one level, stderr by default.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

static vh_log_handler_t log_handler;
static void *log_arg;
static int log_level = VH_LOG_WARNING;

void
vh_log_set_handler(vh_log_handler_t handler, void *arg)
{
	log_handler = handler;
	log_arg = arg;
}

void
vh_log_set_level(int level)
{
	log_level = level;
}

int
vh_log_get_level(void)
{
	return log_level;
}

void
vh_logf(int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_handler != NULL)
		log_handler(level, line, log_arg);
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
