/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port type "vhost-user": hand-over to another port object (what
 * `vswitch --takeover` does between two processes, here in one: the fds
 * are duplicated as SCM_RIGHTS would, the new port maps the memory itself).
 * A guest (lib/vhost front-end + lib/virtq driver side) keeps sending
 * numbered frames through a loopback worker; the worker is stopped at a
 * random point of a window, the port saved, and either a new port loads it
 * (the old one released) or the old one resumes. Every frame must come back
 * exactly once and in order, the counters continue, the guest never
 * reconnects, and the socket stays usable for a later connection.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "test.h"
#include "vhost_guard.h"
#include "vs_vhost_user_handover.h"
#include "vt_vu.h"

#define F(bit)	(1ULL << (bit))
#define WAIT_MS 5000
#define WINDOW	48

struct ho_job {
	struct vt_vu_env *e;
	struct vs_port *port;
	const char *spec;
	struct vs_port_handover h;
	int fds[VS_PORT_HANDOVER_MAX_FDS];
	int rc;
};

static void
save_job(void *arg)
{
	struct ho_job *j = arg;

	j->h.fds = j->fds;
	j->rc = j->port->ops->handover_save(j->port, &j->h);
}

static void
resume_job(void *arg)
{
	struct ho_job *j = arg;

	j->port->ops->handover_resume(j->port);
}

static void
release_job(void *arg)
{
	struct ho_job *j = arg;

	j->port->ops->handover_release(j->port);
	j->port->ops->stop(j->port);
	j->port->ops->destroy(j->port);
}

static void
state_changed(struct vs_port *port, void *arg)
{
	(void)port;
	(void)arg;
}

/* The new port: created from the same SPEC, loaded instead of started. */
static void
load_job(void *arg)
{
	struct ho_job *j = arg;
	struct vs_port_env env = {
		.mp = j->e->mp,
		.qsbr = j->e->qsbr,
		.loop = j->e->loop,
		.socket_id = SOCKET_ID_ANY,
		.state_changed = state_changed,
	};
	struct vs_port_spec spec;
	char err[256];

	j->port = NULL;
	j->rc = -EINVAL;
	if (vs_port_spec_parse(j->spec, &spec, err, sizeof(err)) != 0)
		return;
	j->port = vs_port_create("vu1", &spec, &env, err, sizeof(err));
	if (j->port == NULL)
		return;
	j->rc = j->port->ops->handover_load(j->port, &j->h);
	if (j->rc != 0) {
		j->port->ops->handover_release(j->port);
		j->port->ops->stop(j->port);
		j->port->ops->destroy(j->port);
		j->port = NULL;
	}
}

/* The fds as the other process would receive them: new descriptors of the same files. */
static int
dup_fds(struct ho_job *from, struct ho_job *to)
{
	to->h = from->h;
	to->h.fds = to->fds;
	for (unsigned int i = 0; i < from->h.nfds; i++) {
		to->fds[i] = fcntl(from->fds[i], F_DUPFD_CLOEXEC, 3);
		if (to->fds[i] < 0)
			return -errno;
	}
	return 0;
}

/* Receives frames @p first .. @p first + @p n - 1, each once, in order. */
static int
collect(struct vt_guest *g, uint32_t first, unsigned int n)
{
	static uint8_t got[VT_FRAME_MAX];
	uint64_t deadline = vt_now_ms() + WAIT_MS;
	unsigned int recvd = 0;

	while (recvd < n) {
		struct virtio_net_hdr_mrg_rxbuf h;
		uint32_t len;
		int rc = vt_guest_recv(g, 0, &h, got, sizeof(got), &len);

		vt_guest_reap_tx(g, 0);
		vt_guest_fill_rx(g, 0);
		if (rc == 0) {
			TEST_ASSERT(vt_now_ms() < deadline, "%u of %u frames came back", recvd, n);
			usleep(100);
			continue;
		}
		TEST_ASSERT_EQUAL(rc, 1, "malformed receive");
		TEST_ASSERT_EQUAL(vt_frame_check(got, len), (int64_t)(first + recvd),
				  "frame %u: lost, duplicated or out of order", first + recvd);
		recvd++;
	}
	/* Nothing more: a duplicate would show up here. */
	usleep(2000);
	{
		struct virtio_net_hdr_mrg_rxbuf h;
		uint32_t len;

		TEST_ASSERT_EQUAL(vt_guest_recv(g, 0, &h, got, sizeof(got), &len), 0,
				  "a frame came back twice");
	}
	return TEST_SUCCESS;
}

static int
send_window(struct vt_guest *g, uint32_t first, unsigned int n, uint32_t len)
{
	static uint8_t frame[VT_FRAME_MAX];

	vt_guest_fill_rx(g, 0);
	for (unsigned int i = 0; i < n; i++) {
		vt_frame_fill(frame, len, first + i);
		TEST_ASSERT_SUCCESS(
			vt_guest_send(g, 0, frame, len, NULL, (enum vt_tx_layout)(i % 3)),
			"send frame %u", first + i);
	}
	return TEST_SUCCESS;
}

/*
 * Rounds of: a window of frames posted while the worker runs, the worker
 * stopped at a random point, a hand-over (to a new port, or abandoned and
 * resumed on the same one), the worker on whichever port serves now.
 */
static int
rounds(struct vt_vu_env *e, struct vt_guest *g, struct vs_port **port, const char *spec,
       unsigned int nrounds, uint64_t *frames)
{
	struct vt_vu_worker w;
	uint32_t seq = 0;

	for (unsigned int r = 0; r < nrounds; r++) {
		struct ho_job old = {.e = e, .port = *port, .spec = spec};
		struct ho_job nw = {.e = e, .spec = spec};
		bool abandon = r % 4 == 3;

		TEST_ASSERT_SUCCESS(vt_vu_worker_start(&w, e, *port, 0, 1, 1, 0), "worker");
		TEST_RUN(send_window(g, seq, WINDOW, 64 + 97 * r));
		usleep((unsigned int)(rand() % 300));
		vt_vu_worker_stop(&w);
		vt_vu_run(e, save_job, &old);
		TEST_ASSERT_SUCCESS(old.rc, "round %u: save", r);
		if (abandon) {
			vt_vu_run(e, resume_job, &old);
		} else {
			TEST_ASSERT_SUCCESS(dup_fds(&old, &nw), "dup");
			vt_vu_run(e, load_job, &nw);
			free(old.h.blob);
			TEST_ASSERT_SUCCESS(nw.rc, "round %u: load", r);
			vt_vu_run(e, release_job, &old);
			*port = nw.port;
		}
		TEST_ASSERT_SUCCESS(vt_vu_worker_start(&w, e, *port, 0, 1, 1, 0), "worker");
		TEST_RUN(collect(g, seq, WINDOW));
		vt_vu_worker_stop(&w);
		if (abandon)
			free(old.h.blob);
		seq += WINDOW;
		*frames += WINDOW;
	}
	return TEST_SUCCESS;
}

static int
hands_over(const char *name, uint64_t features)
{
	struct vt_vu_env e;
	struct vt_guest g;
	struct vs_port *port;
	struct vs_port_stats st;
	struct vs_port_info info;
	char path[256], spec[512], err[256];
	struct vt_guest_cfg gc = {
		.queues = 1,
		.ring_size = 256,
		.features = features,
		.buf_size = 2048,
		.tx_buf_size = 4096,
		.indirect_max = 8,
	};
	uint64_t frames = 0;
	struct stat sb;
	int rc;

	if (vt_vu_env_init(&e, name, 8191, 0, err, sizeof(err)) != 0)
		TEST_SKIP("%s", err);
	vt_path(path, sizeof(path), "ho.sock");
	snprintf(spec, sizeof(spec), "vhost-user,path=%s", path);
	port = vt_vu_port_start(&e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s: %s", spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&g, &gc), "guest memory");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&g, path, WAIT_MS), "connect");
	TEST_ASSERT(vt_vu_wait_queues(&e, port, 1, 1, WAIT_MS), "queues up");
	srand(12345);
	rc = rounds(&e, &g, &port, spec, 12, &frames);
	if (rc == TEST_SUCCESS) {
		vt_vu_stats(&e, port, &st);
		TEST_ASSERT(st.rx[0].packets == frames && st.tx[0].packets == frames &&
				    st.rx[0].drops == 0 && st.tx[0].drops == 0,
			    "counters continue across hand-overs: rx %" PRIu64 " tx %" PRIu64
			    " of %" PRIu64,
			    st.rx[0].packets, st.tx[0].packets, frames);
		/* The socket file is still there and the new port serves it. */
		TEST_ASSERT(stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode), "socket file kept");
		vt_guest_disconnect(&g);
		TEST_ASSERT(vt_vu_wait_queues(&e, port, 0, 0, WAIT_MS), "disconnect seen");
		TEST_ASSERT_SUCCESS(vt_guest_connect(&g, path, WAIT_MS), "a later connection");
		TEST_ASSERT(vt_vu_wait_queues(&e, port, 1, 1, WAIT_MS), "queues up again");
		vt_vu_info(&e, port, &info);
		printf("%s: %" PRIu64 " frames through 9 hand-overs and 3 abandoned ones\n", name,
		       frames);
	}
	vt_guest_fini(&g);
	vt_vu_port_destroy(&e, port);
	return vt_vu_env_end(&e, rc);
}

/*
 * The front-end cuts its memfd while its connection is being handed over
 * (vhost_guard.h): the new process refuses the import (its regions no
 * longer fit the files), and the old one's ring starts fault when it
 * serves again (resume): the old port closes that connection, says
 * broken, and takes the next front-end. The control thread goes on.
 */
static int
cut_during_hand_over(const char *name, uint64_t features)
{
	struct vt_vu_env e;
	struct vt_guest g;
	struct vs_port *port;
	char path[256], spec[512], err[256];
	const struct vt_guest_cfg gc = {
		.queues = 1, .ring_size = 64, .features = features, .buf_size = 2048};
	uint64_t recovered = vh_guard_recovered();
	struct ho_job old, nw;

	if (vt_vu_env_init(&e, name, 2047, 0, err, sizeof(err)) != 0)
		TEST_SKIP("%s", err);
	vt_path(path, sizeof(path), "ho-cut.sock");
	snprintf(spec, sizeof(spec), "vhost-user,path=%s", path);
	port = vt_vu_port_start(&e, spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s: %s", spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&g, &gc), "guest memory");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&g, path, WAIT_MS), "connect");
	TEST_ASSERT(vt_vu_wait_queues(&e, port, 1, 1, WAIT_MS), "queues up");
	old = (struct ho_job){.e = &e, .port = port, .spec = spec};
	nw = (struct ho_job){.e = &e, .spec = spec};
	vt_vu_run(&e, save_job, &old);
	TEST_ASSERT_SUCCESS(old.rc, "save");
	TEST_ASSERT_SUCCESS(vt_guest_truncate(&g, 0), "the guest cuts all its memory");
	TEST_ASSERT_SUCCESS(dup_fds(&old, &nw), "dup");
	vt_vu_run(&e, load_job, &nw);
	/* The regions no longer fit the file: refused before any access. */
	TEST_ASSERT(nw.rc != 0 && nw.port == NULL, "the import is refused (%d)", nw.rc);
	vt_vu_run(&e, resume_job, &old);
	free(old.h.blob);
	TEST_ASSERT(vh_guard_recovered() > recovered, "the old side's fault was recovered");
	TEST_ASSERT(vt_vu_wait_detail(&e, port, "broken: guest memory faults", WAIT_MS),
		    "reported broken");
	TEST_ASSERT(vt_vu_wait_detail(&e, port, "listening", WAIT_MS), "the connection closed");
	vt_guest_fini(&g);
	TEST_ASSERT_SUCCESS(vt_guest_init(&g, &gc), "new guest memory");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&g, path, WAIT_MS), "a new front-end");
	TEST_ASSERT(vt_vu_wait_queues(&e, port, 1, 1, WAIT_MS), "queues up again");
	vt_guest_fini(&g);
	vt_vu_port_destroy(&e, port);
	return vt_vu_env_end(&e, TEST_SUCCESS);
}

static int
test_cut_during_hand_over_split(void)
{
	return cut_during_hand_over("ho-cut-split", F(VIRTIO_F_VERSION_1));
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_during_a_hand_over_split, fast,
	      test_cut_during_hand_over_split)

static int
test_cut_during_hand_over_packed(void)
{
	return cut_during_hand_over("ho-cut-packed",
				    F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED));
}
REGISTER_TEST(vhost_user_port_survives_a_memfd_cut_during_a_hand_over_packed, fast,
	      test_cut_during_hand_over_packed)

static int
test_vhost_user_port_hands_over_split_rings(void)
{
	return hands_over("ho-split", F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) |
					      F(VIRTIO_RING_F_EVENT_IDX) |
					      F(VIRTIO_RING_F_INDIRECT_DESC));
}
REGISTER_TEST(vhost_user_port_hands_over_split_rings, fast,
	      test_vhost_user_port_hands_over_split_rings)

static int
test_vhost_user_port_hands_over_packed_rings(void)
{
	return hands_over("ho-packed", F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED) |
					       F(VIRTIO_NET_F_MRG_RXBUF) |
					       F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_F_IN_ORDER));
}
REGISTER_TEST(vhost_user_port_hands_over_packed_rings, fast,
	      test_vhost_user_port_hands_over_packed_rings)

/* ---- which rings were enabled (hand-over header version 3) ---- */

/* Posts frames @p first .. + @p n - 1 on the guest's TX queue 0. */
static int
post(struct vt_guest *g, uint32_t first, unsigned int n)
{
	static uint8_t frame[VT_FRAME_MAX];

	for (unsigned int i = 0; i < n; i++) {
		vt_frame_fill(frame, 128, first + i);
		TEST_ASSERT_SUCCESS(vt_guest_send(g, 0, frame, 128, NULL, VT_TX_ONE),
				    "send frame %u", first + i);
	}
	return TEST_SUCCESS;
}

/* The port took (used) all @p n chains posted last, or, with !@p taken, none within 100 ms. */
static int
taken(struct vt_guest *g, unsigned int n, bool want)
{
	uint64_t deadline = vt_now_ms() + (want ? WAIT_MS : 100);
	unsigned int got = 0;

	while (vt_now_ms() < deadline && (want ? got < n : got == 0)) {
		got += vt_guest_reap_tx(g, 0);
		usleep(200);
	}
	if (want)
		TEST_ASSERT_EQUAL(got, n, "the port took %u of the %u chains", got, n);
	else
		TEST_ASSERT_EQUAL(got, 0, "the disabled ring was drained (%u chains)", got);
	return TEST_SUCCESS;
}

/* Nothing arrives on the guest's RX queue 0 (the frames were discarded). */
static int
nothing_back(struct vt_guest *g)
{
	static uint8_t got[VT_FRAME_MAX];
	struct virtio_net_hdr_mrg_rxbuf h;
	uint32_t len;

	usleep(5000);
	TEST_ASSERT_EQUAL(vt_guest_recv(g, 0, &h, got, sizeof(got), &len), 0,
			  "a frame sent on a disabled ring was forwarded");
	return TEST_SUCCESS;
}

struct ring_scene {
	struct vt_vu_env e;
	struct vt_guest g;
	struct vs_port *port;
	struct vt_vu_worker w;
	char path[256];
	char spec[512];
};

/* A guest with one queue pair whose TX ring it enabled and then disabled. */
static int
ring_scene_up(struct ring_scene *s, const char *name, uint64_t features)
{
	const struct vt_guest_cfg gc = {
		.queues = 1, .ring_size = 64, .features = features, .buf_size = 2048};
	char err[256];

	vt_path(s->path, sizeof(s->path), "ho-en.sock");
	snprintf(s->spec, sizeof(s->spec), "vhost-user,path=%s", s->path);
	s->port = vt_vu_port_start(&s->e, s->spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(s->port, "%s: %s", s->spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&s->g, &gc), "guest memory");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&s->g, s->path, WAIT_MS), "connect");
	TEST_ASSERT(vt_vu_wait_queues(&s->e, s->port, 1, 1, WAIT_MS), "queues up");
	vt_guest_fill_rx(&s->g, 0);
	/* Acknowledged (REPLY_ACK) once the port has taken the ring away; it
	 * still counts as an rx queue, polled to be discarded. */
	TEST_ASSERT_SUCCESS(vt_guest_ring_enable(&s->g, 1, false), "SET_VRING_ENABLE 1 0");
	TEST_ASSERT(vt_vu_wait_queues(&s->e, s->port, 1, 1, WAIT_MS), "still up");
	(void)name;
	return TEST_SUCCESS;
}

static void
ring_scene_down(struct ring_scene *s)
{
	vt_vu_worker_stop(&s->w);
	vt_guest_fini(&s->g);
	vt_vu_port_destroy(&s->e, s->port);
}

/* Enables the TX ring again: frames @p first .. + @p n - 1 come back, each once, in order. */
static int
enabled_again(struct ring_scene *s, uint32_t queued, uint32_t first, unsigned int n)
{
	TEST_ASSERT_SUCCESS(vt_guest_ring_enable(&s->g, 1, true), "SET_VRING_ENABLE 1 1");
	/* Room for all of them first: the port drops what finds no buffer. */
	vt_guest_fill_rx(&s->g, 0);
	TEST_RUN(post(&s->g, first + queued, n - queued));
	TEST_RUN(collect(&s->g, first, n));
	return TEST_SUCCESS;
}

/*
 * vhost-user "Ring states": what a guest sends on a ring it disabled is
 * processed and discarded. A hand-over keeps that: the new process drains
 * the disabled TX ring as the old one did (it was enabled once), the RX
 * ring stays enabled, and the TX ring forwards once enabled again.
 */
static int
disabled_ring_across(const char *name, uint64_t features)
{
	struct ring_scene s;
	struct vs_port_stats st;
	char err[256];
	int rc;

	memset(&s, 0, sizeof(s));
	if (vt_vu_env_init(&s.e, name, 2047, 0, err, sizeof(err)) != 0)
		TEST_SKIP("%s", err);
	rc = ring_scene_up(&s, name, features);
	if (rc == TEST_SUCCESS)
		rc = vt_vu_worker_start(&s.w, &s.e, s.port, 0, 1, 1, 0) == 0 ? TEST_SUCCESS
									     : TEST_FAILED;
	if (rc == TEST_SUCCESS) {
		/* Before: drained, discarded. */
		TEST_RUN(post(&s.g, 0, 8));
		TEST_RUN(taken(&s.g, 8, true));
		TEST_RUN(nothing_back(&s.g));
		for (int round = 0; round < 2; round++) {
			vt_vu_worker_stop(&s.w);
			TEST_ASSERT_SUCCESS(vt_vu_port_hand_over(&s.e, &s.port, s.spec),
					    "hand-over %d", round);
			TEST_ASSERT_SUCCESS(vt_vu_worker_start(&s.w, &s.e, s.port, 0, 1, 1, 0),
					    "worker");
			/* After: still drained and discarded, not left to fill up. */
			TEST_RUN(post(&s.g, 100, 8));
			TEST_RUN(taken(&s.g, 8, true));
			TEST_RUN(nothing_back(&s.g));
		}
		vt_vu_stats(&s.e, s.port, &st);
		TEST_ASSERT(st.rx[0].packets == 0 && st.rx[0].drops == 24,
			    "24 frames discarded on the disabled ring, counted across: rx %" PRIu64
			    " drops %" PRIu64,
			    st.rx[0].packets, st.rx[0].drops);
		TEST_RUN(enabled_again(&s, 0, 1000, 16));
		vt_vu_stats(&s.e, s.port, &st);
		TEST_ASSERT(st.rx[0].packets == 16 && st.tx[0].packets == 16,
			    "enabled again: 16 through, rx %" PRIu64 " tx %" PRIu64,
			    st.rx[0].packets, st.tx[0].packets);
	}
	ring_scene_down(&s);
	return vt_vu_env_end(&s.e, rc);
}

static int
test_disabled_ring_across_split(void)
{
	return disabled_ring_across("ho-en-split", F(VIRTIO_F_VERSION_1));
}
REGISTER_TEST(vhost_user_port_hand_over_keeps_a_disabled_tx_ring_discarded_split, fast,
	      test_disabled_ring_across_split)

static int
test_disabled_ring_across_packed(void)
{
	return disabled_ring_across("ho-en-packed",
				    F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED));
}
REGISTER_TEST(vhost_user_port_hand_over_keeps_a_disabled_tx_ring_discarded_packed, fast,
	      test_disabled_ring_across_packed)

/* The blob as a switch of header version 2 writes it (no enabled_once). */
static void
to_version(struct vs_port_handover *h, uint16_t version)
{
	uint8_t *b = h->blob;
	struct vu_ho_hdr hdr;

	memcpy(&hdr, b, sizeof(hdr));
	hdr.version = version;
	if (version != 2) {
		memcpy(b, &hdr, sizeof(hdr));
		return;
	}
	memcpy(b, &hdr, VU_HO_HDR_V2_LEN);
	memmove(b + VU_HO_HDR_V2_LEN, b + sizeof(hdr), h->len - sizeof(hdr));
	h->len -= sizeof(hdr) - VU_HO_HDR_V2_LEN;
}

/*
 * A hand-over whose blob claims header version @p version; returns the
 * load's result (0: *port is the new port; else the old one, resumed).
 */
static int
hand_over_as(struct vt_vu_env *e, struct vs_port **port, const char *spec, uint16_t version,
	     uint64_t *enabled_once)
{
	struct ho_job old = {.e = e, .port = *port, .spec = spec};
	struct ho_job nw = {.e = e, .spec = spec};
	struct vu_ho_hdr hdr;

	vt_vu_run(e, save_job, &old);
	if (old.rc != 0)
		return old.rc;
	memcpy(&hdr, old.h.blob, sizeof(hdr));
	*enabled_once = hdr.enabled_once;
	to_version(&old.h, version);
	if (dup_fds(&old, &nw) != 0) {
		vt_vu_run(e, resume_job, &old);
		free(old.h.blob);
		return -EBADF;
	}
	vt_vu_run(e, load_job, &nw);
	if (nw.rc != 0)
		vt_vu_run(e, resume_job, &old);
	else
		vt_vu_run(e, release_job, &old);
	free(old.h.blob);
	if (nw.rc == 0)
		*port = nw.port;
	return nw.rc;
}

/*
 * An upgrade comes from the version before: a switch writing header
 * version 2 (no record of the rings enabled once) is taken over, each
 * ring's own enabled state then standing in: the disabled TX ring is left
 * alone, not drained, and what the guest queued there is forwarded once
 * it enables the ring (nothing lost). A version this switch does not know
 * is refused, and the old port serves on.
 */
static int
test_hand_over_from_version_2(void)
{
	struct ring_scene s;
	uint64_t once = 0;
	char err[256];
	int rc;

	memset(&s, 0, sizeof(s));
	if (vt_vu_env_init(&s.e, "ho-v2", 2047, 0, err, sizeof(err)) != 0)
		TEST_SKIP("%s", err);
	rc = ring_scene_up(&s, "ho-v2", F(VIRTIO_F_VERSION_1));
	if (rc == TEST_SUCCESS) {
		struct vs_port *before = s.port;

		TEST_ASSERT_EQUAL(hand_over_as(&s.e, &s.port, s.spec, VU_HO_VERSION + 1, &once),
				  -EPROTONOSUPPORT, "a newer header version is refused");
		TEST_ASSERT(s.port == before, "the old port serves on");
		TEST_ASSERT_EQUAL(once, 0x3, "version 3 records both rings as enabled once");
		TEST_ASSERT_EQUAL(hand_over_as(&s.e, &s.port, s.spec, 1, &once), -EPROTONOSUPPORT,
				  "version 1 is refused");
		TEST_ASSERT_SUCCESS(hand_over_as(&s.e, &s.port, s.spec, 2, &once),
				    "version 2 is read");
		TEST_ASSERT(s.port != before, "the new port took over");
		TEST_ASSERT_SUCCESS(vt_vu_worker_start(&s.w, &s.e, s.port, 0, 1, 1, 0), "worker");
		TEST_RUN(post(&s.g, 0, 8));
		TEST_RUN(taken(&s.g, 8, false));
		TEST_RUN(nothing_back(&s.g));
		/* The 8 queued frames and 8 more, each once, in order. */
		TEST_RUN(enabled_again(&s, 8, 0, 16));
	}
	ring_scene_down(&s);
	return vt_vu_env_end(&s.e, rc);
}
REGISTER_TEST(vhost_user_port_takes_over_from_hand_over_version_2, fast,
	      test_hand_over_from_version_2)

/* ---- the state directory's lock (crash-safe mode) across a hand-over ---- */

/* Whether another process gets @p dir's lock now (it lets go at once). */
static bool
third_gets_lock(const char *dir)
{
	char path[300];
	int st = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/lock", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDWR | O_CLOEXEC);

		_exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The saved blob names the lock as its last fd, an open file of @p dir/lock. */
static int
carries_the_lock(const struct ho_job *j, const char *dir)
{
	struct vu_ho_hdr hdr;
	struct stat a, b;
	char path[300];

	memcpy(&hdr, j->h.blob, sizeof(hdr));
	TEST_ASSERT_EQUAL(hdr.version, VU_HO_VERSION, "header version");
	TEST_ASSERT(hdr.state_lock >= 0 && (unsigned int)hdr.state_lock == j->h.nfds - 1,
		    "the lock is the last fd (%d of %u)", hdr.state_lock, j->h.nfds);
	snprintf(path, sizeof(path), "%s/lock", dir);
	TEST_ASSERT(fstat(j->fds[hdr.state_lock], &a) == 0 && stat(path, &b) == 0 &&
			    a.st_ino == b.st_ino && a.st_dev == b.st_dev,
		    "the fd is the lock file");
	return TEST_SUCCESS;
}

/*
 * Crash-safe mode: the old process's state-directory lock goes along with
 * the port (SCM_RIGHTS, the same open file), so at no point of a hand-over,
 * taken or abandoned, can a third process take the directory (it could
 * between the old process's save and the new one's load before).
 */
static int
test_hand_over_keeps_the_state_lock(void)
{
	struct ring_scene s;
	struct ho_job old, nw;
	char err[256], dir[256];
	const struct vt_guest_cfg gc = {
		.queues = 1, .ring_size = 64, .features = F(VIRTIO_F_VERSION_1), .buf_size = 2048};

	memset(&s, 0, sizeof(s));
	if (vt_vu_env_init(&s.e, "ho-lock", 2047, 0, err, sizeof(err)) != 0)
		TEST_SKIP("%s", err);
	vt_path(dir, sizeof(dir), "ho-state");
	TEST_ASSERT_SUCCESS(mkdir(dir, 0700), "mkdir %s", dir);
	s.e.state_dir = dir;
	vt_path(s.path, sizeof(s.path), "ho-lock.sock");
	snprintf(s.spec, sizeof(s.spec), "vhost-user,path=%s", s.path);
	s.port = vt_vu_port_start(&s.e, s.spec, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(s.port, "%s: %s", s.spec, err);
	TEST_ASSERT_SUCCESS(vt_guest_init(&s.g, &gc), "guest memory");
	TEST_ASSERT_SUCCESS(vt_guest_connect(&s.g, s.path, WAIT_MS), "connect");
	TEST_ASSERT(vt_vu_wait_queues(&s.e, s.port, 1, 1, WAIT_MS), "queues up");
	TEST_ASSERT(!third_gets_lock(dir), "the running port holds the directory");
	for (int round = 0; round < 2; round++) {
		bool abandon = round == 0;

		old = (struct ho_job){.e = &s.e, .port = s.port, .spec = s.spec};
		nw = (struct ho_job){.e = &s.e, .spec = s.spec};
		vt_vu_run(&s.e, save_job, &old);
		TEST_ASSERT_SUCCESS(old.rc, "save");
		TEST_RUN(carries_the_lock(&old, dir));
		TEST_ASSERT(!third_gets_lock(dir), "round %d: free after the save", round);
		if (abandon) {
			vt_vu_run(&s.e, resume_job, &old);
		} else {
			TEST_ASSERT_SUCCESS(dup_fds(&old, &nw), "dup");
			vt_vu_run(&s.e, load_job, &nw);
			TEST_ASSERT_SUCCESS(nw.rc, "load");
			TEST_ASSERT(!third_gets_lock(dir), "free after the load");
			vt_vu_run(&s.e, release_job, &old);
			s.port = nw.port;
		}
		free(old.h.blob);
		TEST_ASSERT(!third_gets_lock(dir), "round %d: free afterwards", round);
		TEST_ASSERT_SUCCESS(vt_vu_worker_start(&s.w, &s.e, s.port, 0, 1, 1, 0), "worker");
		TEST_RUN(enabled_again(&s, 0, 100u * (unsigned int)round, 16));
		vt_vu_worker_stop(&s.w);
	}
	ring_scene_down(&s);
	return vt_vu_env_end(&s.e, TEST_SUCCESS);
}
REGISTER_TEST(vhost_user_port_hand_over_keeps_the_state_directory_locked, fast,
	      test_hand_over_keeps_the_state_lock)
