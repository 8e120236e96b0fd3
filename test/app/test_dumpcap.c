/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk-dumpcap against vswitch (interop): DPDK's own capture tool, a
 * secondary process, captures an ethdev port of the switch (DPDK's
 * net_vhost with a testpmd VM on it) while the switch forwards; tcpdump
 * reads its pcapng file back. Then dumpcap is started and stopped again and
 * again while the VM floods the switch: every stop must leave the switch
 * running (DPDK 22.11's own pdump server crashed it there, lib/switch/vs_pdump.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "vt_harness.h"

#define DUMPCAP	 "/usr/bin/dpdk-dumpcap"
#define VM1_MAC	 "02:00:00:00:00:01"
#define VM2_MAC	 "02:00:00:00:00:02"
#define BCAST	 "ff:ff:ff:ff:ff:ff"
#define STOPS	 5   /* dumpcap runs stopped under traffic */
#define DC_PAGES 256 /* 2 MiB pages free for the switch */

struct dc_scene {
	struct vt_vswitch sw;
	struct vt_pmdvm vm[2];
	struct vt_proc dc;
	char sock[2][200];
	char spec[2][300];
	char file[256];
};

static void
dc_fini(struct dc_scene *s, bool dump)
{
	if (dump) {
		if (s->sw.running)
			vt_vswitch_dump(&s->sw);
		if (s->dc.pid > 0)
			vt_proc_dump(&s->dc, "dumpcap");
	}
	if (s->dc.pid > 0) {
		vt_proc_stop(&s->dc, NULL, 3000);
		vt_proc_cleanup(&s->dc);
	}
	for (int i = 0; i < 2; i++)
		vt_pmdvm_stop(&s->vm[i]);
	if (s->sw.running)
		vt_vswitch_stop(&s->sw, SIGTERM);
	unlink(s->file);
}

/* vm1 on DPDK's net_vhost (an ethdev port), vm2 on a vhost-user port; both up. */
static int
dc_start(struct dc_scene *s)
{
	const char *ports[3];
	char why[256];

	for (int i = 0; i < 2; i++) {
		vt_path(s->sock[i], sizeof(s->sock[i]), i == 0 ? "dc-vm1.sock" : "dc-vm2.sock");
		unlink(s->sock[i]);
	}
	snprintf(s->spec[0], sizeof(s->spec[0]), "ethdev,devargs=net_vhost0,iface=%s,name=vm1",
		 s->sock[0]);
	snprintf(s->spec[1], sizeof(s->spec[1]), "vhost-user,path=%s,name=vm2", s->sock[1]);
	ports[0] = s->spec[0], ports[1] = s->spec[1], ports[2] = NULL;
	TEST_ASSERT_SUCCESS(vt_vswitch_start_hugepages(&s->sw, ports, NULL, why, sizeof(why)), "%s",
			    why);
	TEST_ASSERT_SUCCESS(
		vt_pmdvm_start(&s->vm[0], "vm1", s->sock[0], VM1_MAC, false, 0, why, sizeof(why)),
		"%s", why);
	TEST_ASSERT_SUCCESS(
		vt_pmdvm_start(&s->vm[1], "vm2", s->sock[1], VM2_MAC, false, 0, why, sizeof(why)),
		"%s", why);
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, "vm1", 15000), "vm1 up");
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_up(&s->sw, "vm2", 15000), "vm2 up");
	return TEST_SUCCESS;
}

/* True when the switch says port vm1 is being captured. */
static bool
vm1_captured(struct dc_scene *s)
{
	json_t *r = NULL;
	bool yes = false;

	if (vt_vswitch_ctl(&s->sw, &r, "show port vm1", NULL) == 0)
		yes = json_object_get(json_object_get(r, "port"), "capture") != NULL;
	json_decref(r);
	return yes;
}

/*
 * Starts dpdk-dumpcap on vm1's ethdev until @p count packets; with @p wait,
 * waits until the switch captures for it.
 */
static int
dc_capture(struct dc_scene *s, const char *count, bool wait)
{
	const char *argv[] = {DUMPCAP, "--file-prefix", s->sw.prefix, "-i",  "net_vhost0",
			      "-w",    s->file,		"-c",	      count, NULL};

	memset(&s->dc, 0, sizeof(s->dc));
	/* dumpcap 22.11 opens -w without O_TRUNC: a shorter capture would keep the old tail. */
	unlink(s->file);
	TEST_ASSERT_SUCCESS(vt_proc_start(&s->dc, argv, 0), "start dpdk-dumpcap");
	if (!wait)
		return TEST_SUCCESS;
	for (int i = 0; i < 200 && !vm1_captured(s); i++) {
		TEST_ASSERT(vt_proc_running(&s->dc), "dpdk-dumpcap exited before capturing");
		usleep(50 * 1000);
	}
	TEST_ASSERT(vm1_captured(s), "the switch captures vm1 for dpdk-dumpcap");
	return TEST_SUCCESS;
}

/* dpdk-dumpcap ends by itself at its count; returns its exit status, -1 if it did not. */
static int
dc_wait_exit(struct dc_scene *s)
{
	for (int i = 0; i < 200 && vt_proc_running(&s->dc); i++)
		usleep(50 * 1000);
	if (vt_proc_running(&s->dc))
		return -1;
	return vt_proc_stop(&s->dc, NULL, 1000);
}

/* vm1 sends @p n broadcast frames; vm2 must receive them all. */
static int
send_some(struct dc_scene *s, unsigned int n)
{
	struct vt_port_counters before;
	uint64_t rx, tx;

	TEST_ASSERT_SUCCESS(vt_pmdvm_clear(&s->vm[1]), "clear");
	TEST_ASSERT_SUCCESS(vt_pmdvm_start_rx(&s->vm[1]), "vm2 polls");
	TEST_ASSERT_SUCCESS(vt_vswitch_port(&s->sw, "vm1", &before), "counters");
	TEST_ASSERT_SUCCESS(vt_pmdvm_send(&s->vm[0], BCAST, n / 8, 8), "vm1 sends");
	TEST_ASSERT_SUCCESS(vt_vswitch_wait_rx(&s->sw, "vm1", before.rx_packets + n, 10000),
			    "the switch received vm1's %u frames", n);
	usleep(300 * 1000);
	TEST_ASSERT_SUCCESS(vt_pmdvm_stop_fwd(&s->vm[1]), "stop");
	TEST_ASSERT_SUCCESS(vt_pmdvm_stats(&s->vm[1], &rx, &tx), "stats");
	TEST_ASSERT_EQUAL(rx, n, "vm2 received vm1's frames");
	return TEST_SUCCESS;
}

static int
body(struct dc_scene *s)
{
	char *out;
	int rc, n;

	TEST_RUN(dc_start(s));
	vt_path(s->file, sizeof(s->file), "dumpcap-vm1.pcapng");
	/* 1. What vm1 sends, while the switch forwards it to vm2, is in dumpcap's file. */
	TEST_RUN(dc_capture(s, "24", true));
	TEST_RUN(send_some(s, 24));
	rc = dc_wait_exit(s);
	TEST_ASSERT_EQUAL(rc, 0, "dpdk-dumpcap ended at its count (exit status)");
	out = vt_proc_output(&s->dc);
	TEST_ASSERT(out != NULL && strstr(out, "on interface 'net_vhost0': 24/0") != NULL,
		    "dumpcap reports 24 received, none dropped: %s", out != NULL ? out : "");
	free(out);
	vt_proc_cleanup(&s->dc);
	memset(&s->dc, 0, sizeof(s->dc));
	n = vt_tcpdump_lines(s->file, VM1_MAC " > " BCAST);
	TEST_ASSERT_EQUAL(n, 24, "tcpdump reads vm1's 24 frames in dumpcap's file");
	TEST_ASSERT(!vm1_captured(s), "dumpcap's stop ended the capture");
	TEST_RUN(send_some(s, 8));

	/* 2. Stops while vm1 floods the switch: the switch survives every one. */
	TEST_ASSERT_SUCCESS(vt_pmdvm_cmd(&s->vm[0], "set eth-peer 0 %s", BCAST), "peer");
	TEST_ASSERT_SUCCESS(vt_pmdvm_cmd(&s->vm[0], "set fwd txonly"), "txonly");
	TEST_ASSERT_SUCCESS(vt_pmdvm_cmd(&s->vm[0], "start"), "flood");
	for (int i = 0; i < STOPS; i++) {
		TEST_RUN(dc_capture(s, "2000", false));
		rc = dc_wait_exit(s);
		TEST_ASSERT_EQUAL(rc, 0, "run %d: dpdk-dumpcap ended at its count", i + 1);
		out = vt_proc_output(&s->dc);
		TEST_ASSERT(out != NULL && strstr(out, "on interface 'net_vhost0': ") != NULL,
			    "run %d: dumpcap reports what it received", i + 1);
		free(out);
		vt_proc_cleanup(&s->dc);
		memset(&s->dc, 0, sizeof(s->dc));
		TEST_ASSERT(vt_proc_running(&s->sw.proc), "run %d: the switch still runs", i + 1);
		TEST_ASSERT(!vm1_captured(s), "run %d: capture ended", i + 1);
	}
	TEST_ASSERT_SUCCESS(vt_pmdvm_stop_fwd(&s->vm[0]), "flood stops");
	TEST_ASSERT_SUCCESS(vt_pmdvm_cmd(&s->vm[0], "set fwd rxonly"), "rxonly");
	n = vt_tcpdump_lines(s->file, VM1_MAC " > " BCAST);
	TEST_ASSERT(n >= 2000, "the last file holds the flood (%d frames)", n);
	/* vm2 takes what the flood left in its ring; then the switch still forwards. */
	TEST_ASSERT_SUCCESS(vt_pmdvm_start_rx(&s->vm[1]), "vm2 drains");
	usleep(500 * 1000);
	TEST_ASSERT_SUCCESS(vt_pmdvm_stop_fwd(&s->vm[1]), "stop");
	TEST_RUN(send_some(s, 8));
	return TEST_SUCCESS;
}

static int
test_vswitch_dumpcap_captures_an_ethdev_port(void)
{
	struct dc_scene *s;
	char why[256];
	int rc;

	if (!vt_interop_ready(why, sizeof(why)))
		TEST_SKIP("%s", why);
	if (access(DUMPCAP, X_OK) != 0)
		TEST_SKIP("%s is not installed (Debian's dpdk package; scripts/setup.sh test)",
			  DUMPCAP);
	if (access("/usr/bin/tcpdump", X_OK) != 0 && access("/usr/sbin/tcpdump", X_OK) != 0)
		TEST_SKIP("tcpdump is not installed (scripts/setup.sh test installs it)");
	if (!vt_hugepages_ok(DC_PAGES, why, sizeof(why)))
		TEST_SKIP("dpdk-dumpcap attaches to a switch on hugepages: %s", why);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return TEST_FAILED;
	rc = body(s);
	dc_fini(s, rc == TEST_FAILED);
	free(s);
	return rc;
}
/* clang-format off */
REGISTER_TEST(vswitch_dumpcap_captures_an_ethdev_port, interop, test_vswitch_dumpcap_captures_an_ethdev_port)
/* clang-format on */
