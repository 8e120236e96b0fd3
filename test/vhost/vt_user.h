/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_USER_H
#define VT_USER_H

/*
 * Helpers shared by the vhost-user tests: a recording device behind the
 * back-end's ops table, memfd-backed "guest" memory, and a server thread that
 * runs our back-end on a listening socket or one end of a socketpair while
 * the test drives the other end (our front-end or hand-made messages).
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vhost_backend.h"
#include "vhost_user_backend.h"
#include "vhost_user_conn.h"
#include "vhost_user_frontend.h"

#define VT_MAX_RINGS 8

/* virtio-net feature bits the test device offers. */
#define VT_NET_F_MTU	   3
#define VT_NET_F_MAC	   5
#define VT_NET_F_MRG_RXBUF 15
#define VT_NET_F_STATUS	   16
#define VT_NET_F_MQ	   22
#define VT_UDEV_FEATURES                                                                           \
	((1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << VT_NET_F_MRG_RXBUF) | (1ULL << VT_NET_F_MAC) | \
	 (1ULL << VT_NET_F_MQ) | (1ULL << VT_NET_F_MTU) | (1ULL << VT_NET_F_STATUS) |              \
	 (1ULL << VH_VIRTIO_RING_F_EVENT_IDX) | (1ULL << VH_VIRTIO_RING_F_INDIRECT_DESC) |         \
	 (1ULL << VH_VIRTIO_F_RING_PACKED) | (1ULL << VH_VHOST_F_LOG_ALL))

/* What the device saw; read under vt_udev.lock (or after the server stopped). */
struct vt_ring_rec {
	int starts;
	int stops;
	bool started;
	bool enabled;
	int enable_events;
	int kicks;
	struct vh_user_ring last;	  /* copy of the last ring_started() argument */
	struct vh_user_ring_base advance; /* added to the base on stop (emulated progress) */
	uint8_t avail_byte0;		  /* first byte of the avail area when it started */
};

struct vt_udev {
	pthread_mutex_t lock;
	uint64_t features_offered;
	uint64_t features;
	int features_sets;
	uint64_t protocol_features;
	int mem_changes;
	uint32_t mem_nregions;
	bool mem_null;
	struct vt_ring_rec rings[VT_MAX_RINGS];
	int resets;
	uint8_t status;
	uint8_t rarp_mac[6];
	int rarps;
	uint16_t mtu;
	uint8_t config[VH_USER_MAX_CONFIG_SIZE];
	uint32_t config_writes;
	uint32_t config_write_flags;
	bool fail_ring_start;  /* make ring_started() fail */
	bool refuse_features;  /* make set_features() fail */
	bool touch_rings;      /* read the rings' memory in ring_started() (mapping check) */
	bool no_inband;	       /* the device does not offer in-band kicks */
	uint8_t inflight_byte; /* first byte of the last started ring's inflight region */
	char events[512];      /* "S<idx> " start, "P<idx> " stop, "M<n> " memory, "R " reset */
};

/* Clears the device's event log. */
void vt_udev_clear_events(struct vt_udev *d);

extern const struct vh_user_device_ops vt_udev_ops;
extern const struct vh_user_device_ops vt_udev_ops_no_kick;

void vt_udev_init(struct vt_udev *d);

/* A copy of the device's record, taken under its lock. */
void vt_udev_snapshot(struct vt_udev *d, struct vt_udev *out);

/* Guest memory: a memfd of @size bytes mapped here, at guest address @gpa. */
struct vt_guest_mem {
	int fd;
	uint8_t *base;
	uint64_t size;
	uint64_t gpa;
};

int vt_guest_mem_create(struct vt_guest_mem *m, uint64_t size, uint64_t gpa);
void vt_guest_mem_destroy(struct vt_guest_mem *m);
/* The region describing all of @m (user address = where it is mapped here). */
struct vh_mem_region vt_guest_mem_region(const struct vt_guest_mem *m);

/* Split-ring addresses for ring @idx of up to 1024 entries inside @m. */
struct vh_vring_addr vt_ring_addr(const struct vt_guest_mem *m, unsigned int idx);

/*
 * Mappings of this process whose /proc/self/maps line contains @needle
 * ("memfd:" counts the shared-memory mappings a back-end makes; unlike
 * vt_count_maps() it is not disturbed by allocator growth under ASan).
 */
int vt_count_maps_matching(const char *needle);

/* Back-end server thread. */
struct vt_server {
	pthread_t thread;
	bool running;
	int listen_fd; /* listening socket, or -1 */
	int conn_fd;   /* the first connection (socketpair mode), or -1 */
	int stop_fd;   /* eventfd to stop the thread */
	int job_fd;    /* eventfd announcing a job */
	int (*job)(struct vh_user_backend *be, void *arg);
	void *job_arg;
	int job_conn;
	int job_rc;
	bool job_done;
	struct vh_user_backend_config cfg;
	struct vt_udev dev;
	pthread_mutex_t lock;
	int connections; /* connections accepted */
	int closed;	 /* connections ended */
	int last_rc;	 /* vh_user_backend_handle_readable()'s return at the last end */
	char path[256];
};

/* Starts a server on a socket at vt_path(@name) (listen) and returns 0 or -errno. */
int vt_server_listen(struct vt_server *s, const char *name, uint32_t max_rings);
/* Starts a server on one end of a socketpair; *@client gets the other. */
int vt_server_pair(struct vt_server *s, int *client, uint32_t max_rings);
/*
 * Runs @job on connection slot @conn inside the server thread (where the
 * back-end lives) and returns its result, serving @fe's back-end channel
 * (when not NULL) while it waits; -ETIMEDOUT after @ms.
 */
int vt_server_run_job(struct vt_server *s, int conn, int (*job)(struct vh_user_backend *, void *),
		      void *arg, struct vh_user_frontend *fe, unsigned ms);
/* A back-end-to-front-end request, for vt_server_run_job(s, conn, vt_job_backend_request, &req). */
struct vt_backend_req {
	uint32_t req;
	const void *payload;
	uint32_t size;
	int fd;		/* sent with the request when >= 0 */
	uint64_t reply; /* the front-end's REPLY_ACK value */
};
/* A job: sends @arg (struct vt_backend_req) on the back-end channel; returns the send's result. */
int vt_job_backend_request(struct vh_user_backend *be, void *arg);
/* Stops the thread and releases everything. */
void vt_server_stop(struct vt_server *s);
/* Waits until @closed connections have ended (up to @ms); returns true if so. */
bool vt_server_wait_closed(struct vt_server *s, int closed, unsigned ms);
int vt_server_closed(struct vt_server *s);
int vt_server_last_rc(struct vt_server *s);

/* A front-end connected to the server and negotiated (REPLY_ACK etc.). */
int vt_frontend_open(struct vt_server *s, struct vh_user_frontend **fe, uint64_t pf_mask);

/*
 * Drives ring @idx of @fe up to the kick: NUM, BASE, ADDR, CALL, KICK.
 * kick/call eventfds are created and returned (caller closes).
 */
int vt_frontend_setup_ring(struct vh_user_frontend *fe, const struct vt_guest_mem *m,
			   unsigned int idx, unsigned int num, uint32_t base, int *kick, int *call);

/* Round trip that proves every earlier message was processed. */
int vt_sync(struct vh_user_frontend *fe);

/* Sends a raw message on @fd and returns 0 or -errno. */
int vt_send_raw(int fd, uint32_t request, uint32_t flags, const void *payload, uint32_t size,
		const int *fds, unsigned int nfds);

/*
 * Waits for the peer's next reply on @fd (up to @ms): 1 and *@reply, 0 when
 * the peer closed the connection, -ETIMEDOUT, or another -errno.
 */
int vt_recv_reply(int fd, struct vh_user_msg *reply, unsigned ms);

#endif /* VT_USER_H */
