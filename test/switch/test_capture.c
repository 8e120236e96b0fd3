/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture (vs_capture.c) on ring ports in manual mode: what a port received
 * and what it was sent, in pcapng files that tcpdump reads back; a count
 * that ends the capture by itself; refusals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vt_switch.h"

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Lines tcpdump prints for @p path that contain @p needle; -1 when it fails. */
static int
tcpdump_count(const char *path, const char *needle)
{
	char cmd[600], line[512];
	FILE *f;
	int n = 0, status;

	snprintf(cmd, sizeof(cmd), "tcpdump -nn -e -r '%s' 2>/dev/null", path);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	status = pclose(f);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? n : -1;
}

/* The time (seconds since the epoch) tcpdump reads for the first packet of @p path, or 0. */
static double
tcpdump_first_time(const char *path)
{
	char cmd[600], line[512];
	double t = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "tcpdump -tt -nn -r '%s' 2>/dev/null", path);
	f = popen(cmd, "r");
	if (f == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) != NULL)
		t = strtod(line, NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		;
	pclose(f);
	return t;
}

/* Runs the control loop (the capture's writer) for @p ms. */
static void
spin(struct vt_sw *t, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while (vt_now_ms() < end)
		vs_evloop_run_once(t->loop, 5);
}

static int
test_switch_captures_a_port_to_pcapng(void)
{
	struct vs_switch_capture_result res;
	char rx[256], tx[256], cnt[256], why[256], err[512];
	struct vt_sw t;
	int rc;

	if (access("/usr/bin/tcpdump", X_OK) != 0 && access("/usr/sbin/tcpdump", X_OK) != 0)
		TEST_SKIP("tcpdump is not installed (scripts/setup.sh test installs it)");
	rc = vt_sw_init(&t, 1, 1024, why, sizeof(why));
	if (rc != 0 && !vt_eal_ready())
		TEST_SKIP("%s", why);
	TEST_ASSERT_SUCCESS(rc, "engine: %s", why);
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p0");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p1");
	TEST_ASSERT_SUCCESS(vt_sw_add_ring_port(&t, NULL, 0), "p2");
	vt_path(rx, sizeof(rx), "p0-rx.pcapng");
	vt_path(tx, sizeof(tx), "p1-tx.pcapng");
	vt_path(cnt, sizeof(cnt), "p0-count.pcapng");
	TEST_ASSERT_SUCCESS(vs_switch_capture_start(t.sw, "p0", rx, 1, 0, 0, err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT_SUCCESS(vs_switch_capture_start(t.sw, "p1", tx, 2, 0, 0, err, sizeof(err)),
			    "%s", err);
	/* Refused: a second capture of a port, no such port, a relative path, no direction. */
	TEST_ASSERT_EQUAL(vs_switch_capture_start(t.sw, "p0", cnt, 3, 0, 0, err, sizeof(err)),
			  -EBUSY, "p0 twice");
	TEST_ASSERT_EQUAL(vs_switch_capture_start(t.sw, "p9", cnt, 3, 0, 0, err, sizeof(err)),
			  -ENOENT, "no p9");
	TEST_ASSERT_EQUAL(
		vs_switch_capture_start(t.sw, "p2", "x.pcapng", 3, 0, 0, err, sizeof(err)), -EINVAL,
		"relative path");
	TEST_ASSERT_EQUAL(vs_switch_capture_start(t.sw, "p2", cnt, 0, 0, 0, err, sizeof(err)),
			  -EINVAL, "no direction");
	TEST_ASSERT_EQUAL(vs_switch_capture_start(t.sw, "p2", "/nonexistent/dir/f.pcapng", 3, 0, 0,
						  err, sizeof(err)),
			  -ENOENT, "a directory that does not exist: %s", err);
	/* A sends 5 broadcasts on p0 (p1 and p2 get them); B answers A 3 times from p2. */
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 5), "send");
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 2, mac_a, mac_b, 0, 3), "send");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	spin(&t, 50);
	TEST_ASSERT_SUCCESS(vs_switch_capture_state(t.sw, (uint16_t)t.port_id[0], &res), "state");
	TEST_ASSERT_EQUAL(res.written, 5, "p0's rx written while capturing");
	TEST_ASSERT_SUCCESS(vs_switch_capture_stop(t.sw, "p0", &res, err, sizeof(err)), "%s", err);
	TEST_ASSERT(res.written == 5 && res.lost == 0, "p0: %" PRIu64 " written, %" PRIu64 " lost",
		    res.written, res.lost);
	TEST_ASSERT_SUCCESS(vs_switch_capture_stop(t.sw, "p1", &res, err, sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(res.written, 5, "p1: the 5 broadcasts sent to it");
	TEST_ASSERT_EQUAL(vs_switch_capture_stop(t.sw, "p1", &res, err, sizeof(err)), -ENOENT,
			  "stopped already");
	TEST_ASSERT_EQUAL(tcpdump_count(rx, "02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff"), 5,
			  "tcpdump reads p0's 5 frames");
	TEST_ASSERT_EQUAL(tcpdump_count(rx, "02:00:00:00:00:0b"), 0, "p0's rx only");
	{
		double first = tcpdump_first_time(rx), now = (double)time(NULL);

		TEST_ASSERT(first > now - 120 && first < now + 5, "packet time %.0f, now %.0f",
			    first, now);
	}
	TEST_ASSERT_EQUAL(tcpdump_count(tx, "02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff"), 5,
			  "tcpdump reads what p1 was sent");
	/* count=3: the capture ends by itself after three packets. */
	TEST_ASSERT_SUCCESS(vs_switch_capture_start(t.sw, "p0", cnt, 3, 3, 0, err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT_SUCCESS(vt_sw_send(&t, 0, bcast, mac_a, 0, 5), "send");
	vt_sw_run(&t);
	vt_sw_drain(&t);
	for (int i = 0; i < 100 && vs_switch_capture_state(t.sw, (uint16_t)t.port_id[0], &res) == 0;
	     i++)
		spin(&t, 10);
	TEST_ASSERT_EQUAL(vs_switch_capture_state(t.sw, (uint16_t)t.port_id[0], &res), -ENOENT,
			  "ended at its count");
	TEST_ASSERT_EQUAL(tcpdump_count(cnt, "02:00:00:00:00:0a"), 3, "three in the file");
	/* Removing a port ends its capture. */
	TEST_ASSERT_SUCCESS(vs_switch_capture_start(t.sw, "p2", cnt, 3, 0, 0, err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT_SUCCESS(vs_switch_del_port(t.sw, "p2", err, sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(tcpdump_count(cnt, "02:00"), 0, "an empty capture is a valid file");
	unlink(rx);
	unlink(tx);
	unlink(cnt);
	vt_sw_fini(&t);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_captures_a_port_to_pcapng, fast, test_switch_captures_a_port_to_pcapng)
