/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vq_guard.h"

int
vq_guard_alloc(struct vq_guard *g, size_t len, bool at_end)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (len + page - 1) / page * page;
	uint8_t *map;

	memset(g, 0, sizeof(*g));
	if (len == 0)
		return -EINVAL;
	/* Shared: a forked child's writes are seen by the parent (test_inflight.c
	 * kills a child device at every instruction and recovers its rings). */
	map = mmap(NULL, body + 2 * page, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -errno;
	if (mprotect(map + page, body, PROT_READ | PROT_WRITE) != 0) {
		int err = -errno;

		munmap(map, body + 2 * page);
		return err;
	}
	g->map = map;
	g->maplen = body + 2 * page;
	g->len = len;
	g->mem = at_end ? map + page + body - len : map + page;
	return 0;
}

void
vq_guard_free(struct vq_guard *g)
{
	if (g->map != NULL)
		munmap(g->map, g->maplen);
	memset(g, 0, sizeof(*g));
}
