/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The real vswitch against three guests of this process (lib/vhost's
 * front-end and lib/virtq's driver side on memfds, test/drivers/vt_vu.h):
 * guest A cuts its memfd short under traffic (its transmit ring and
 * buffers, and half its receive buffers, go), as a VMM pulling its memory
 * away would. The switch must survive it: A's connection is closed and its
 * port reported broken (show ports), B's frames keep reaching C, the
 * management socket keeps answering, A can come back with new memory, and
 * the switch still exits cleanly. Split and packed rings for A.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "../drivers/vt_vu.h"
#include "test.h"
#include "vt_harness.h"

#define WAIT_MS	  10000
#define LEN	  200
#define ETH_LOCAL 0x88b5

struct gscene {
	struct vt_vswitch sw;
	struct vt_guest g[3]; /* A, B, C */
	bool up[3];
	char sock[3][256];
	char spec[3][400];
	const char *specs[4];
	uint64_t from[3][3]; /* frames guest i received from guest j */
};

static const char *const gname[3] = {"a", "b", "c"};

/* A broadcast from guest @p i with sequence @p seq. */
static void
frame_from(uint8_t *f, unsigned int i, uint32_t seq)
{
	memset(f, 0xff, 6);
	memset(f + 6, 0, 6);
	f[6] = 2;
	f[11] = (uint8_t)(0x10 + i);
	f[12] = ETH_LOCAL >> 8;
	f[13] = ETH_LOCAL & 0xff;
	memcpy(f + 14, &seq, 4);
	for (uint32_t k = 18; k < LEN; k++)
		f[k] = (uint8_t)(seq + k);
}

/* Guest @p i takes what arrived, gives buffers back, counts by sender. */
static void
pump(struct gscene *s, unsigned int i)
{
	static uint8_t buf[VT_FRAME_MAX];
	struct virtio_net_hdr_mrg_rxbuf h;
	uint32_t len;

	while (vt_guest_recv(&s->g[i], 0, &h, buf, sizeof(buf), &len) == 1)
		if (len == LEN && buf[12] == ETH_LOCAL >> 8 && buf[11] >= 0x10 && buf[11] < 0x13)
			s->from[i][buf[11] - 0x10]++;
	vt_guest_reap_tx(&s->g[i], 0);
	vt_guest_fill_rx(&s->g[i], 0);
}

/* Guest @p src sends @p n broadcasts; waits until guest @p dst got them all. */
static int
flow(struct gscene *s, unsigned int src, unsigned int dst, unsigned int n, const char *what)
{
	uint64_t want = s->from[dst][src] + n, end = vt_now_ms() + WAIT_MS;
	static uint8_t f[LEN];
	unsigned int sent = 0;

	while (s->from[dst][src] < want && vt_now_ms() < end) {
		for (unsigned int k = 0; k < 8 && sent < n; k++) {
			frame_from(f, src, sent);
			if (vt_guest_send(&s->g[src], 0, f, LEN, NULL, VT_TX_ONE) != 0)
				break;
			sent++;
		}
		for (unsigned int i = 0; i < 3; i++)
			if (s->up[i])
				pump(s, i);
		usleep(200);
	}
	TEST_ASSERT(vt_proc_running(&s->sw.proc), "%s: the switch is still running", what);
	TEST_ASSERT_EQUAL(s->from[dst][src], want, "%s: %s got %" PRIu64 " of %u from %s", what,
			  gname[dst], s->from[dst][src] - (want - n), n, gname[src]);
	return TEST_SUCCESS;
}

/* Port @p name's detail (show ports), in @p out. */
static int
port_detail(struct gscene *s, const char *name, char *out, size_t len)
{
	const json_t *p;
	json_t *r = NULL;
	size_t i;
	int rc = -1;

	out[0] = '\0';
	if (vt_vswitch_ctl(&s->sw, &r, "show ports", NULL) != 0 || r == NULL) {
		json_decref(r);
		return -1;
	}
	json_array_foreach (json_object_get(r, "ports"), i, p) {
		const char *n = vs_json_str(p, "name");
		const char *d = vs_json_str(p, "detail");

		if (n != NULL && strcmp(n, name) == 0 && d != NULL) {
			snprintf(out, len, "%s", d);
			rc = 0;
		}
	}
	json_decref(r);
	return rc;
}

static bool
detail_says(struct gscene *s, const char *name, const char *what)
{
	uint64_t end = vt_now_ms() + WAIT_MS;
	char d[512];

	do {
		if (port_detail(s, name, d, sizeof(d)) == 0 && strstr(d, what) != NULL)
			return true;
		usleep(50000);
	} while (vt_now_ms() < end);
	printf("port %s: '%s' lacks '%s'\n", name, d, what);
	return false;
}

static int
guest_up(struct gscene *s, unsigned int i, uint64_t features)
{
	const struct vt_guest_cfg gc = {
		.queues = 1, .ring_size = 256, .features = features, .buf_size = 2048};

	TEST_ASSERT_SUCCESS(vt_guest_init(&s->g[i], &gc), "guest %s", gname[i]);
	s->up[i] = true;
	TEST_ASSERT_SUCCESS(vt_guest_connect(&s->g[i], s->sock[i], WAIT_MS), "guest %s connects",
			    gname[i]);
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, gname[i], WAIT_MS), "port %s up", gname[i]);
	vt_guest_fill_rx(&s->g[i], 0);
	return TEST_SUCCESS;
}

static int
body(struct gscene *s, uint64_t a_features)
{
	const uint64_t split = 1ULL << VIRTIO_F_VERSION_1;
	struct vt_guest *a = &s->g[0];
	static uint8_t f[LEN];

	TEST_RUN(guest_up(s, 0, a_features));
	TEST_RUN(guest_up(s, 1, split));
	TEST_RUN(guest_up(s, 2, split));
	TEST_ASSERT(detail_says(s, "a", "memory guarded"), "A's unsealed memfd is guarded");
	pump(s, 0);
	TEST_RUN(flow(s, 1, 2, 64, "before"));
	/* A in the middle of traffic: frames queued to send, flooded frames arriving. */
	for (uint32_t k = 0; k < 32; k++) {
		frame_from(f, 0, k);
		vt_guest_send(a, 0, f, LEN, NULL, VT_TX_ONE);
	}
	vt_guest_fill_rx(a, 0);
	TEST_ASSERT_SUCCESS(vt_guest_truncate(a, a->ring[0].buf_off + a->ring[0].nbufs / 2 *
									      a->ring[0].buf_size),
			    "A cuts its memfd");
	s->up[0] = false; /* its rings are gone for us too: no more pumping */
	TEST_RUN(flow(s, 1, 2, 64, "during"));
	TEST_ASSERT(detail_says(s, "a", "broken: guest memory faults"), "A reported broken");
	TEST_ASSERT(detail_says(s, "a", "listening"), "A's connection closed");
	TEST_RUN(flow(s, 2, 1, 64, "after, the other way"));
	/* A comes back with new memory; the count of faults stays. */
	vt_guest_fini(a);
	TEST_RUN(guest_up(s, 0, a_features));
	TEST_ASSERT(detail_says(s, "a", ", guest memory faults"), "the count stays");
	TEST_RUN(flow(s, 1, 0, 32, "to the new A"));
	return TEST_SUCCESS;
}

static int
run(const char *tag, uint64_t a_features)
{
	struct gscene *s = calloc(1, sizeof(*s));
	char why[256], sock[64];
	int rc, st;

	TEST_ASSERT_NOT_NULL(s, "memory");
	if (!vt_interop_ready(why, sizeof(why))) {
		free(s);
		TEST_SKIP("%s", why);
	}
	for (unsigned int i = 0; i < 3; i++) {
		char keys[32];

		snprintf(sock, sizeof(sock), "sigbus-%s-%s.sock", tag, gname[i]);
		vt_path(s->sock[i], sizeof(s->sock[i]), sock);
		snprintf(keys, sizeof(keys), "name=%s", gname[i]);
		s->specs[i] = vt_vm_port_spec(s->spec[i], sizeof(s->spec[i]), i, s->sock[i], keys);
	}
	if (vt_vswitch_start(&s->sw, NULL, s->specs, NULL, why, sizeof(why)) != 0) {
		printf("FAIL: vswitch: %s\n", why);
		free(s);
		return TEST_FAILED;
	}
	rc = body(s, a_features);
	for (unsigned int i = 0; i < 3; i++)
		if (s->g[i].memfd > 0 || s->up[i])
			vt_guest_fini(&s->g[i]);
	st = vt_vswitch_stop(&s->sw, SIGTERM);
	if (rc == TEST_SUCCESS && st != 0) {
		printf("FAIL: vswitch exit status %d after the fault\n", st);
		rc = TEST_FAILED;
	}
	if (rc != TEST_SUCCESS)
		vt_vswitch_dump(&s->sw);
	free(s);
	return rc;
}

static int
test_sigbus_split(void)
{
	return run("s", 1ULL << VIRTIO_F_VERSION_1);
}
REGISTER_TEST(vswitch_survives_a_guest_cutting_its_memory_split, interop, test_sigbus_split)

static int
test_sigbus_packed(void)
{
	return run("p", (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_RING_PACKED));
}
REGISTER_TEST(vswitch_survives_a_guest_cutting_its_memory_packed, interop, test_sigbus_packed)
