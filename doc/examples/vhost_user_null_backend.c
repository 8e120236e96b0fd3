/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A vhost-user network back-end that drops everything: the smallest
 * complete user of libvhost's back-end API. It listens on a socket (or
 * connects to one with --client, retrying with back-off), serves one
 * front-end at a time from a single poll() loop, and consumes every frame
 * the driver transmits on split rings, returning the buffers.
 *
 *   vhost-user-null-backend /tmp/null.sock [--client]
 *   qemu ... -chardev socket,id=c,path=/tmp/null.sock \
 *            -netdev vhost-user,id=n,chardev=c -device virtio-net-pci,netdev=n
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vhost_user_backend.h"
#include "vhost_user_conn.h"

#define RINGS 2 /* one queue pair: 0 = driver RX, 1 = driver TX */

struct ring {
	bool started;
	struct vh_user_ring r; /* copy of what ring_started() handed over */
	uint16_t last_avail;
	uint64_t dropped;
};

static struct ring rings[RINGS];
static volatile sig_atomic_t stop;

static uint64_t
get_features(void *dev)
{
	(void)dev;
	return (1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << 15 /* VIRTIO_NET_F_MRG_RXBUF */);
}

static int
ring_started(void *dev, const struct vh_user_ring *r)
{
	(void)dev;
	rings[r->idx] = (struct ring){true, *r, r->base.avail_idx, 0};
	printf("ring %u started: %u entries, kick fd %d\n", r->idx, r->size, r->kick_fd);
	return 0;
}

static void
ring_stopped(void *dev, unsigned int idx, struct vh_user_ring_base *base)
{
	(void)dev;
	/* Single-threaded: nothing else touches the ring once we return. */
	rings[idx].started = false;
	base->avail_idx = rings[idx].last_avail;
	printf("ring %u stopped at %u (%llu frames dropped)\n", idx, base->avail_idx,
	       (unsigned long long)rings[idx].dropped);
}

static int
mem_changed(void *dev, const struct vh_mem_table *mem)
{
	(void)dev;
	printf("memory: %u regions\n", mem != NULL ? mem->nregions : 0);
	return 0;
}

static const struct vh_user_device_ops null_ops = {
	.get_features = get_features,
	.ring_started = ring_started,
	.ring_stopped = ring_stopped,
	.mem_changed = mem_changed,
};

/* Returns every buffer the driver made available on a TX ring (virtio 1.1, 2.6). */
static void
drain(struct ring *q)
{
	volatile uint16_t *avail = q->r.avail, *used = q->r.used;
	volatile uint32_t *elems;
	uint16_t end, used_idx;
	uint64_t one = 1;

	/* A stopped ring has no areas: not even pointer arithmetic on them. */
	if (!q->started || !q->r.enabled)
		return;
	elems = (volatile uint32_t *)(used + 2);
	end = __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE);
	used_idx = used[1];
	for (; q->last_avail != end; q->last_avail++, used_idx++, q->dropped++) {
		uint16_t head = avail[2 + q->last_avail % q->r.size];

		elems[2 * (used_idx % q->r.size)] = head;  /* id */
		elems[2 * (used_idx % q->r.size) + 1] = 0; /* nothing written */
	}
	__atomic_store_n(&used[1], used_idx, __ATOMIC_RELEASE);
	if (q->r.call_fd >= 0 && write(q->r.call_fd, &one, sizeof(one)) < 0)
		perror("call");
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Server: accept; client: connect, retrying with the library's back-off. */
static int
get_connection(const char *path, bool client, int listen_fd)
{
	struct vh_user_backoff b;
	uint32_t retry;

	if (!client) {
		struct pollfd p = {listen_fd, POLLIN, 0};

		return poll(&p, 1, 500) > 0 ? vh_user_accept(listen_fd) : -EAGAIN;
	}
	vh_user_backoff_init(&b, 100, 2000);
	while (!stop) {
		int fd = vh_user_try_connect(path, &b, &retry);

		if (fd >= 0)
			return fd;
		usleep(retry * 1000);
	}
	return -EINTR;
}

static void
serve(struct vh_user_backend *be)
{
	while (!stop && vh_user_backend_connected(be)) {
		struct pollfd p[1 + RINGS] = {{vh_user_backend_fd(be), POLLIN, 0}};
		uint64_t v;

		for (int i = 0; i < RINGS; i++)
			p[1 + i] = (struct pollfd){rings[i].started ? rings[i].r.kick_fd : -1,
						   POLLIN, 0};
		if (poll(p, 1 + RINGS, 500) <= 0)
			continue;
		for (int i = 1; i < RINGS; i += 2) {
			if (p[1 + i].revents && read(rings[i].r.kick_fd, &v, sizeof(v)) < 0)
				perror("kick");
			drain(&rings[i]);
		}
		/* Last: a message may stop a ring whose kick fd was polled above. */
		if (p[0].revents) {
			int rc = vh_user_backend_handle_readable(be);

			if (rc < 0)
				printf("front-end gone: %s\n", strerror(-rc));
		}
	}
}

int
main(int argc, char **argv)
{
	struct vh_user_backend_config cfg = {.ops = &null_ops, .max_rings = RINGS};
	bool client = argc > 2 && strcmp(argv[2], "--client") == 0;
	int listen_fd = -1;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SOCKET [--client]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	cfg.name = argv[1];
	if (!client && (listen_fd = vh_user_listen(argv[1])) < 0) {
		fprintf(stderr, "cannot listen on %s: %s\n", argv[1], strerror(-listen_fd));
		return 1;
	}
	printf("%s %s\n", client ? "connecting to" : "listening on", argv[1]);
	while (!stop) {
		int fd = get_connection(argv[1], client, listen_fd);
		struct vh_user_backend *be;

		if (fd < 0)
			continue;
		be = vh_user_backend_create(&cfg, fd);
		if (be == NULL)
			continue;
		printf("front-end connected\n");
		serve(be);
		vh_user_backend_destroy(be); /* stops rings, unmaps memory */
	}
	if (listen_fd >= 0) {
		close(listen_fd);
		unlink(argv[1]);
	}
	return 0;
}
