/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The inflight-descriptor area of GET/SET_INFLIGHT_FD (vhost-user:
 * "Inflight I/O tracking"): created in a memfd, or mapped from the
 * front-end's fd, with every size bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"
#include "vhost_inflight.h"
#include "vhost_user_msg.h"

_Static_assert(sizeof(struct vh_inflight_desc_split) == 16, "DescStateSplit layout");
_Static_assert(sizeof(struct vh_inflight_split) == 16, "QueueRegionSplit layout");
_Static_assert(sizeof(struct vh_inflight_desc_packed) == 32, "DescStatePacked layout");
_Static_assert(sizeof(struct vh_inflight_packed) == 32, "QueueRegionPacked layout");

uint64_t
vh_inflight_queue_region_size(uint16_t queue_size, bool packed)
{
	uint64_t n = packed ? sizeof(struct vh_inflight_packed) +
				      (uint64_t)queue_size * sizeof(struct vh_inflight_desc_packed)
			    : sizeof(struct vh_inflight_split) +
				      (uint64_t)queue_size * sizeof(struct vh_inflight_desc_split);

	return (n + VH_INFLIGHT_ALIGN - 1) & ~(uint64_t)(VH_INFLIGHT_ALIGN - 1);
}

static int
check_counts(uint16_t num_queues, uint16_t queue_size, bool packed, uint64_t *size)
{
	if (num_queues == 0 || queue_size == 0 || queue_size > VH_USER_MAX_RING_SIZE)
		return -EINVAL;
	*size = (uint64_t)num_queues * vh_inflight_queue_region_size(queue_size, packed);
	return *size > VH_INFLIGHT_MAX_SIZE ? -EINVAL : 0;
}

static int
map_area(struct vh_inflight *inf, int fd, uint64_t size, uint64_t offset)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t map_off = offset & ~(page - 1), head = offset - map_off;
	uint64_t len = (head + size + page - 1) & ~(page - 1);
	void *base =
		mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map_off);

	if (base == MAP_FAILED)
		return -errno;
	/* Kept for a hand-over of the area to another process. */
	inf->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (inf->fd < 0) {
		int rc = -errno;

		munmap(base, (size_t)len);
		return rc;
	}
	inf->offset = offset;
	inf->base = (uint8_t *)base + head;
	inf->size = size;
	inf->map_base = base;
	inf->map_len = (size_t)len;
	/* The front-end has the fd (it made it, or got it from GET_INFLIGHT_FD). */
	vh_guard_track(base, (size_t)len);
	return 0;
}

int
vh_inflight_create(struct vh_inflight *inf, uint16_t num_queues, uint16_t queue_size, bool packed,
		   int *fd)
{
	uint64_t size;
	int rc, mfd;

	memset(inf, 0, sizeof(*inf));
	*fd = -1;
	rc = check_counts(num_queues, queue_size, packed, &size);
	if (rc < 0) {
		VH_WARN("inflight area for %u queues of %u descriptors is not valid", num_queues,
			queue_size);
		return rc;
	}
	mfd = memfd_create("vhost-inflight", MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	if (ftruncate(mfd, (off_t)size) != 0) {
		rc = -errno;
		close(mfd);
		return rc;
	}
	rc = map_area(inf, mfd, size, 0);
	if (rc < 0) {
		close(mfd);
		return rc;
	}
	inf->queue_size_bytes = vh_inflight_queue_region_size(queue_size, packed);
	inf->num_queues = num_queues;
	inf->queue_size = queue_size;
	inf->packed = packed;
	*fd = mfd;
	return 0;
}

int
vh_inflight_map(struct vh_inflight *inf, int fd, uint64_t mmap_size, uint64_t mmap_offset,
		uint16_t num_queues, uint16_t queue_size, bool packed)
{
	struct stat st;
	uint64_t need;
	int rc;

	memset(inf, 0, sizeof(*inf));
	rc = check_counts(num_queues, queue_size, packed, &need);
	if (rc < 0 || mmap_size < need || mmap_size > VH_INFLIGHT_MAX_SIZE ||
	    mmap_offset > (uint64_t)INT64_MAX - mmap_size) {
		VH_WARN("inflight area of 0x%" PRIx64 " bytes for %u queues of %u descriptors is "
			"not valid",
			mmap_size, num_queues, queue_size);
		return -EINVAL;
	}
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return -EBADF;
	if (st.st_size < 0 || (uint64_t)st.st_size < mmap_offset + mmap_size) {
		VH_WARN("inflight area lies beyond its file");
		return -ERANGE;
	}
	rc = map_area(inf, fd, mmap_size, mmap_offset);
	if (rc < 0)
		return rc;
	inf->queue_size_bytes = vh_inflight_queue_region_size(queue_size, packed);
	inf->num_queues = num_queues;
	inf->queue_size = queue_size;
	inf->packed = packed;
	return 0;
}

void
vh_inflight_unmap(struct vh_inflight *inf)
{
	if (inf->map_base != NULL) {
		vh_guard_untrack(inf->map_base);
		munmap(inf->map_base, inf->map_len);
		close(inf->fd);
	}
	memset(inf, 0, sizeof(*inf));
}

void *
vh_inflight_queue(const struct vh_inflight *inf, unsigned int idx)
{
	if (inf->base == NULL || idx >= inf->num_queues)
		return NULL;
	return inf->base + (uint64_t)idx * inf->queue_size_bytes;
}
