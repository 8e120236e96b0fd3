/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A vhost-user-blk front-end: libvhost drives any vhost-user device, not
 * only a network one. It connects to a block back-end (qemu-storage-daemon's
 * vhost-user-blk export, SPDK, ...), reads the disk's size from the config
 * space, sets up one virtqueue with libvirtq's driver side in a memfd it
 * shares, and reads or writes sectors with virtio-blk requests (virtio 1.2,
 * 5.2.6).
 *
 *   qemu-storage-daemon \
 *       --blockdev driver=file,node-name=f0,filename=disk.img \
 *       --export type=vhost-user-blk,id=e0,node-name=f0,writable=on,\
 *                addr.type=unix,addr.path=/tmp/blk.sock
 *   vhost-user-blk-frontend /tmp/blk.sock info
 *   vhost-user-blk-frontend /tmp/blk.sock write SECTOR FILE   # FILE's bytes, whole sectors
 *   vhost-user-blk-frontend /tmp/blk.sock read SECTOR COUNT > out
 *
 * Exit status 0 on success; 1 with a message on stderr otherwise.
 *
 * Built on its own: cc vhost_user_blk_frontend.c $(pkg-config --cflags --libs libvhost libvirtq)
 */
/* memfd_create() (the project's own build defines it for every file). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_user_frontend.h"
#include "virtq.h"

/* virtio-blk (virtio 1.2, 5.2): request types, status, config offsets. */
#define BLK_T_IN      0
#define BLK_T_OUT     1
#define BLK_S_OK      0
#define BLK_CFG_CAP   0 /* le64 capacity in 512-byte sectors */
#define SECTOR	      512
#define VIRTIO_F_V1   32
#define QUEUE_SIZE    64
#define MEM_SIZE      (4u << 20)
#define DATA_OFF      (1u << 20) /* data buffers after the ring */
#define MAX_IO	      (1u << 20) /* bytes per request: the rest of the memfd */
#define REPLY_WAIT_MS 5000

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk {
	struct vh_user_frontend *fe;
	struct vh_backend *b;
	int memfd;
	uint8_t *mem; /* shared with the back-end; its address is also its "guest-physical" one */
	struct vq_drv q;
	int kick, call;
	uint64_t capacity; /* sectors */
};

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "vhost-user-blk-frontend: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	return -1;
}

/* The shared memory: one memfd region whose addresses are the same on both sides' terms. */
static int
blk_memory(struct blk *d)
{
	struct vh_mem_region r;

	d->memfd = memfd_create("vhost-user-blk", MFD_CLOEXEC);
	if (d->memfd < 0 || ftruncate(d->memfd, MEM_SIZE) != 0)
		return fail("memfd", -errno);
	d->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
	if (d->mem == MAP_FAILED)
		return fail("mmap", -errno);
	r = (struct vh_mem_region){(uintptr_t)d->mem, MEM_SIZE, (uintptr_t)d->mem, 0, d->memfd};
	return vh_backend_set_mem_table(d->b, &r, 1) == 0 ? 0 : fail("SET_MEM_TABLE", -EIO);
}

/* Queue 0: libvirtq's driver side in the shared memory, described to the back-end. */
static int
blk_queue(struct blk *d, uint64_t features)
{
	struct vq_drv_config qc = {.size = QUEUE_SIZE,
				   .features = features,
				   .mem = d->mem,
				   .mem_iova = (uintptr_t)d->mem};
	struct vh_vring_addr a = {0};
	int rc;

	if (vq_drv_mem_size(&qc) == 0 || vq_drv_mem_size(&qc) > DATA_OFF)
		return fail("queue size", -EINVAL);
	rc = vq_drv_init(&d->q, &qc);
	if (rc != 0)
		return fail("queue", rc);
	vq_drv_ring_addrs(&d->q, &a.desc_user_addr, &a.avail_user_addr, &a.used_user_addr);
	d->kick = eventfd(0, EFD_CLOEXEC);
	d->call = eventfd(0, EFD_CLOEXEC);
	if (d->kick < 0 || d->call < 0)
		return fail("eventfd", -errno);
	if ((rc = vh_backend_set_vring_num(d->b, 0, QUEUE_SIZE)) != 0 ||
	    (rc = vh_backend_set_vring_base(d->b, 0, 0)) != 0 ||
	    (rc = vh_backend_set_vring_addr(d->b, 0, &a)) != 0 ||
	    (rc = vh_backend_set_vring_call(d->b, 0, d->call)) != 0 ||
	    (rc = vh_backend_set_vring_kick(d->b, 0, d->kick)) != 0 ||
	    (rc = vh_backend_set_vring_enable(d->b, 0, 1)) != 0 ||
	    (rc = vh_backend_driver_ok(d->b)) != 0)
		return fail("queue set-up", rc);
	return 0;
}

static int
blk_open(struct blk *d, const char *path)
{
	/* CONFIG on top of the defaults: the disk's size is in the config space. */
	struct vh_user_frontend_config cfg = {.protocol_features =
						      VH_USER_FRONTEND_DEFAULT_PROTOCOL_FEATURES |
						      VH_USER_PF(VH_USER_PROTOCOL_F_CONFIG),
					      .name = "vhost-user-blk-frontend"};
	uint64_t offered, features;
	int rc;

	memset(d, 0, sizeof(*d));
	d->memfd = d->kick = d->call = -1;
	rc = vh_user_frontend_connect(path, 2000, &cfg, &d->fe);
	if (rc != 0)
		return fail(path, rc);
	d->b = vh_user_frontend_backend(d->fe);
	if ((rc = vh_backend_set_owner(d->b)) != 0 ||
	    (rc = vh_backend_get_features(d->b, &offered)) != 0)
		return fail("features", rc);
	if (!(offered & (1ULL << VIRTIO_F_V1)))
		return fail("the back-end does not offer VERSION_1", -EPROTO);
	/* The plainest block device: no multi-queue, no indirect, no event index. */
	features = 1ULL << VIRTIO_F_V1;
	if ((rc = vh_backend_set_features(d->b, features)) != 0)
		return fail("SET_FEATURES", rc);
	rc = vh_user_frontend_get_config(d->fe, BLK_CFG_CAP, &d->capacity, sizeof(d->capacity), 0);
	if (rc != 0)
		return fail("GET_CONFIG (capacity)", rc);
	if (blk_memory(d) != 0 || blk_queue(d, features) != 0)
		return -1;
	return 0;
}

static void
blk_close(struct blk *d)
{
	uint32_t base;

	if (d->b != NULL) {
		vh_backend_get_vring_base(d->b, 0, &base); /* stops the queue */
		vh_backend_destroy(d->b);		   /* closes the connection */
	}
	vq_drv_fini(&d->q);
	if (d->mem != NULL && d->mem != MAP_FAILED)
		munmap(d->mem, MEM_SIZE);
	if (d->memfd >= 0)
		close(d->memfd);
	if (d->kick >= 0)
		close(d->kick);
	if (d->call >= 0)
		close(d->call);
}

/*
 * One request: [header] [data] [status], data readable for a write and
 * writable for a read (virtio 1.2, 5.2.6). Waits for the back-end's call.
 */
static int
blk_io(struct blk *d, uint32_t type, uint64_t sector, uint32_t len)
{
	struct blk_req_hdr *h = (struct blk_req_hdr *)(d->mem + DATA_OFF - 64);
	uint8_t *status = d->mem + DATA_OFF - 16;
	const uint16_t dw = type == BLK_T_IN ? VQ_DESC_F_WRITE : 0;
	struct vq_drv_seg seg[3] = {
		{(uintptr_t)h, sizeof(*h), 0, 0},
		{(uintptr_t)(d->mem + DATA_OFF), len, dw, 0},
		{(uintptr_t)status, 1, VQ_DESC_F_WRITE, 0},
	};
	struct vq_drv_chain ch = {(void *)1, seg, 3};
	uint64_t one = 1, n;
	void *cookie;
	uint32_t used;

	*h = (struct blk_req_hdr){type, 0, sector};
	*status = 0xff;
	if (vq_drv_post(&d->q, &ch, 1) != 1)
		return fail("post", -ENOSPC);
	if (vq_drv_kick_needed(&d->q) && write(d->kick, &one, sizeof(one)) != sizeof(one))
		return fail("kick", -errno);
	while (vq_drv_reap(&d->q, &cookie, &used, 1) == 0) {
		struct pollfd p = {d->call, POLLIN, 0};

		if (vq_drv_error(&d->q) != 0)
			return fail("used ring", vq_drv_error(&d->q));
		if (poll(&p, 1, REPLY_WAIT_MS) != 1)
			return fail("no answer from the back-end", -ETIMEDOUT);
		if (read(d->call, &n, sizeof(n)) != sizeof(n))
			return fail("call", -errno);
	}
	if (*status != BLK_S_OK) {
		fprintf(stderr, "vhost-user-blk-frontend: request failed with status %u\n",
			*status);
		return -1;
	}
	return 0;
}

static int
cmd_write(struct blk *d, uint64_t sector, const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return fail(file, -errno);
	n = read(fd, d->mem + DATA_OFF, MAX_IO);
	close(fd);
	if (n <= 0 || n % SECTOR != 0)
		return fail("the file must hold whole sectors (up to 1 MiB)", -EINVAL);
	if (sector > d->capacity || (uint64_t)n / SECTOR > d->capacity - sector)
		return fail("past the end of the disk", -ERANGE);
	return blk_io(d, BLK_T_OUT, sector, (uint32_t)n);
}

static int
cmd_read(struct blk *d, uint64_t sector, uint64_t count)
{
	if (count == 0 || count > MAX_IO / SECTOR)
		return fail("1 to 2048 sectors at a time", -EINVAL);
	if (sector > d->capacity || count > d->capacity - sector)
		return fail("past the end of the disk", -ERANGE);
	if (blk_io(d, BLK_T_IN, sector, (uint32_t)(count * SECTOR)) != 0)
		return -1;
	if (fwrite(d->mem + DATA_OFF, SECTOR, count, stdout) != count)
		return fail("stdout", -EIO);
	return fflush(stdout) == 0 ? 0 : fail("stdout", -errno);
}

int
main(int argc, char **argv)
{
	struct blk d;
	int rc = -1;

	if (argc < 3 || (strcmp(argv[2], "info") != 0 && argc != 5)) {
		fprintf(stderr, "usage: %s SOCKET info | write SECTOR FILE | read SECTOR COUNT\n",
			argv[0]);
		return 1;
	}
	if (blk_open(&d, argv[1]) == 0) {
		if (strcmp(argv[2], "info") == 0) {
			printf("capacity %" PRIu64 " sectors (%" PRIu64 " bytes)\n", d.capacity,
			       d.capacity * SECTOR);
			rc = 0;
		} else if (strcmp(argv[2], "write") == 0) {
			rc = cmd_write(&d, strtoull(argv[3], NULL, 0), argv[4]);
		} else if (strcmp(argv[2], "read") == 0) {
			rc = cmd_read(&d, strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
		} else {
			fprintf(stderr, "unknown command '%s'\n", argv[2]);
		}
	}
	blk_close(&d);
	return rc == 0 ? 0 : 1;
}
