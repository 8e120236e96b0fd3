/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The front-end's memory as a vhost-user back-end sees it: regions mapped
 * from the fds of SET_MEM_TABLE / ADD_MEM_REG, and bounded translation of
 * guest-physical and front-end virtual addresses (vhost-user: "Memory
 * access").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "private.h"
#include "vhost_mem.h"

/* Largest alignment honoured for a mapping: 1 GiB hugepages. */
#define MAX_MAP_ALIGN (1ULL << 30)

static bool
range_wraps(uint64_t start, uint64_t size)
{
	return size == 0 || start > UINT64_MAX - (size - 1);
}

/* hugetlbfs reports its page size as st_blksize and needs mappings aligned to it. */
static uint64_t
map_alignment(const struct stat *st)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t blk = (uint64_t)st->st_blksize;

	if (blk < page || blk > MAX_MAP_ALIGN || (blk & (blk - 1)) != 0)
		return page;
	return blk;
}

/*
 * Whether the front-end can no longer make the pages of @p fd go away under
 * us (vhost_guard.h): a shmem file (a memfd: only those take seals) sealed
 * with F_SEAL_SHRINK. It cannot shrink, and a hole punched in shmem reads
 * back as zeros instead of faulting. QEMU seals its memory-backend-memfd so
 * by default. F_SEAL_WRITE alone is no help: a file so sealed can still be
 * truncated (and cannot be mapped writable: the map is refused). Hugetlbfs
 * (memory-backend-memfd with hugetlb=on), sealed or not, faults on a hole
 * punched when its pool is empty.
 */
static bool
cannot_fault(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);
	struct statfs sf;

	return seals >= 0 && (seals & F_SEAL_SHRINK) && fstatfs(fd, &sf) == 0 &&
	       sf.f_type == TMPFS_MAGIC;
}

int
vh_mem_map_region(const struct vh_user_mem_region *desc, int fd, struct vh_mem_mapping *out)
{
	uint64_t size = desc->memory_size, align, map_off, head, len;
	struct stat st;
	void *base;

	memset(out, 0, sizeof(*out));
	if (range_wraps(desc->guest_phys_addr, size) || range_wraps(desc->userspace_addr, size) ||
	    range_wraps(desc->mmap_offset, size)) {
		VH_WARN("memory region gpa 0x%" PRIx64 " size 0x%" PRIx64 " uva 0x%" PRIx64
			" offset 0x%" PRIx64 " is empty or wraps around",
			desc->guest_phys_addr, size, desc->userspace_addr, desc->mmap_offset);
		return -EINVAL;
	}
	if (fd < 0 || fstat(fd, &st) != 0) {
		VH_WARN("memory region fd %d is not valid", fd);
		return -EBADF;
	}
	if (S_ISREG(st.st_mode)) {
		/* Mapping past the end of a file maps nothing: every access would SIGBUS. */
		if (st.st_size < 0 || (uint64_t)st.st_size < desc->mmap_offset + size) {
			VH_WARN("memory region offset 0x%" PRIx64 " + size 0x%" PRIx64
				" lies beyond its file (0x%llx bytes)",
				desc->mmap_offset, size, (unsigned long long)st.st_size);
			return -ERANGE;
		}
	} else if (!S_ISCHR(st.st_mode)) {
		VH_WARN("memory region fd %d is neither a file nor a device", fd);
		return -EBADF;
	}
	align = map_alignment(&st);
	map_off = desc->mmap_offset & ~(align - 1);
	head = desc->mmap_offset - map_off;
	if (size > UINT64_MAX - head - align || map_off > (uint64_t)INT64_MAX)
		return -EINVAL;
	len = (head + size + align - 1) & ~(align - 1);
	if (len > SIZE_MAX)
		return -ENOMEM;
	base = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd,
		    (off_t)map_off);
	if (base == MAP_FAILED) {
		int rc = -errno;

		VH_WARN("cannot map memory region (size 0x%" PRIx64 ", offset 0x%" PRIx64 "): %s",
			size, desc->mmap_offset, strerror(-rc));
		return rc;
	}
	/* Kept for a hand-over of the mapping to another process. */
	out->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (out->fd < 0) {
		int rc = -errno;

		munmap(base, (size_t)len);
		VH_WARN("cannot keep the memory region's fd: %s", strerror(-rc));
		return rc;
	}
	out->guest_phys_addr = desc->guest_phys_addr;
	out->size = size;
	out->user_addr = desc->userspace_addr;
	out->mmap_offset = desc->mmap_offset;
	out->host = (uint8_t *)base + head;
	out->map_base = base;
	out->map_len = (size_t)len;
	out->dev = (uint64_t)st.st_dev;
	out->ino = (uint64_t)st.st_ino;
	out->sigbus_proof = cannot_fault(fd);
	vh_guard_track(base, (size_t)len);
	return 0;
}

void
vh_mem_unmap_region(struct vh_mem_mapping *m)
{
	if (m->map_base != NULL) {
		vh_guard_untrack(m->map_base);
		munmap(m->map_base, m->map_len);
		close(m->fd);
	}
	m->map_base = NULL;
	m->host = NULL;
	m->fd = -1;
}

/*
 * By last bytes: a region may end exactly at 2^64 (vh_mem_map_region()
 * allows it), where start + size wraps to 0. Sizes are > 0.
 */
static bool
overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

struct vh_mem_table *
vh_mem_table_build(const struct vh_mem_mapping *maps, uint32_t n)
{
	struct vh_mem_table *t;

	if (n > VH_USER_MAX_MEM_SLOTS) {
		errno = ENOSPC;
		return NULL;
	}
	t = calloc(1, sizeof(*t) + (size_t)n * sizeof(t->regions[0]));
	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	/* Insertion sort by guest-physical address: n is small and this is rare. */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t j = i;

		while (j > 0 && t->regions[j - 1].guest_phys_addr > maps[i].guest_phys_addr) {
			t->regions[j] = t->regions[j - 1];
			j--;
		}
		t->regions[j] = maps[i];
	}
	t->nregions = n;
	for (uint32_t i = 0; i < n; i++) {
		const struct vh_mem_mapping *a = &t->regions[i];

		for (uint32_t j = i + 1; j < n; j++) {
			const struct vh_mem_mapping *b = &t->regions[j];

			if (overlaps(a->guest_phys_addr, a->size, b->guest_phys_addr, b->size) ||
			    overlaps(a->user_addr, a->size, b->user_addr, b->size)) {
				VH_WARN("memory regions at gpa 0x%" PRIx64 " and 0x%" PRIx64
					" overlap",
					a->guest_phys_addr, b->guest_phys_addr);
				free(t);
				errno = EEXIST;
				return NULL;
			}
		}
	}
	return t;
}

static bool
table_has_mapping(const struct vh_mem_table *t, const void *map_base)
{
	if (t == NULL)
		return false;
	for (uint32_t i = 0; i < t->nregions; i++)
		if (t->regions[i].map_base == map_base)
			return true;
	return false;
}

void
vh_mem_table_free(struct vh_mem_table *t, const struct vh_mem_table *keep, bool unmap)
{
	if (t == NULL)
		return;
	if (unmap)
		for (uint32_t i = 0; i < t->nregions; i++)
			if (!table_has_mapping(keep, t->regions[i].map_base))
				vh_mem_unmap_region(&t->regions[i]);
	free(t);
}

bool
vh_mem_table_same(const struct vh_mem_table *a, const struct vh_mem_table *b)
{
	if (a == NULL || b == NULL || a->nregions != b->nregions)
		return false;
	for (uint32_t i = 0; i < a->nregions; i++) {
		const struct vh_mem_mapping *x = &a->regions[i], *y = &b->regions[i];

		if (x->guest_phys_addr != y->guest_phys_addr || x->size != y->size ||
		    x->user_addr != y->user_addr || x->mmap_offset != y->mmap_offset ||
		    x->dev != y->dev || x->ino != y->ino)
			return false;
	}
	return true;
}

static bool
holds(uint64_t start, uint64_t size, uint64_t addr, uint64_t len)
{
	return len > 0 && addr >= start && addr - start < size && len <= size - (addr - start);
}

const struct vh_mem_mapping *
vh_mem_table_find_gpa(const struct vh_mem_table *t, uint64_t gpa, uint64_t len)
{
	if (t == NULL)
		return NULL;
	for (uint32_t i = 0; i < t->nregions; i++)
		if (holds(t->regions[i].guest_phys_addr, t->regions[i].size, gpa, len))
			return &t->regions[i];
	return NULL;
}

const struct vh_mem_mapping *
vh_mem_table_find_uva(const struct vh_mem_table *t, uint64_t uva, uint64_t len)
{
	if (t == NULL)
		return NULL;
	for (uint32_t i = 0; i < t->nregions; i++)
		if (holds(t->regions[i].user_addr, t->regions[i].size, uva, len))
			return &t->regions[i];
	return NULL;
}

void *
vh_mem_table_gpa_to_host(const struct vh_mem_table *t, uint64_t gpa, uint64_t len)
{
	const struct vh_mem_mapping *m = vh_mem_table_find_gpa(t, gpa, len);

	return m != NULL ? m->host + (gpa - m->guest_phys_addr) : NULL;
}

void *
vh_mem_table_uva_to_host(const struct vh_mem_table *t, uint64_t uva, uint64_t len)
{
	const struct vh_mem_mapping *m = vh_mem_table_find_uva(t, uva, len);

	return m != NULL ? m->host + (uva - m->user_addr) : NULL;
}

int
vh_mem_table_uva_to_gpa(const struct vh_mem_table *t, uint64_t uva, uint64_t len, uint64_t *gpa)
{
	const struct vh_mem_mapping *m = vh_mem_table_find_uva(t, uva, len);

	if (m == NULL)
		return -EFAULT;
	*gpa = m->guest_phys_addr + (uva - m->user_addr);
	return 0;
}
