/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dirty-page log of SET_LOG_BASE (vhost-user: "Migration"): mapping and
 * validation. Marking is the inline vh_dirty_log_write() of the header.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"
#include "vhost_dirty_log.h"

int
vh_dirty_log_map(struct vh_dirty_log *log, int fd, uint64_t size, uint64_t offset)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), map_off, head, len;
	struct stat st;
	void *base;

	memset(log, 0, sizeof(*log));
	if (size == 0 || size > VH_DIRTY_LOG_MAX_SIZE || offset > UINT64_MAX - size ||
	    offset > (uint64_t)INT64_MAX) {
		VH_WARN("dirty log size 0x%" PRIx64 " at offset 0x%" PRIx64 " is not valid", size,
			offset);
		return -EINVAL;
	}
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		VH_WARN("dirty log fd %d is not a shared-memory file", fd);
		return -EBADF;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size < offset + size) {
		VH_WARN("dirty log offset 0x%" PRIx64 " + size 0x%" PRIx64 " lies beyond its file",
			offset, size);
		return -ERANGE;
	}
	map_off = offset & ~(page - 1);
	head = offset - map_off;
	len = (head + size + page - 1) & ~(page - 1);
	base = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map_off);
	if (base == MAP_FAILED) {
		int rc = -errno;

		VH_WARN("cannot map the dirty log: %s", strerror(-rc));
		return rc;
	}
	log->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (log->fd < 0) {
		int rc = -errno;

		munmap(base, (size_t)len);
		return rc;
	}
	log->offset = offset;
	log->bitmap = (uint8_t *)base + head;
	log->size = size;
	log->map_base = base;
	log->map_len = (size_t)len;
	vh_guard_track(base, (size_t)len);
	return 0;
}

void
vh_dirty_log_unmap(struct vh_dirty_log *log)
{
	if (log->map_base != NULL) {
		vh_guard_untrack(log->map_base);
		munmap(log->map_base, log->map_len);
		close(log->fd);
	}
	memset(log, 0, sizeof(*log));
}
