/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `vswitch --takeover` with real peers: dpdk-testpmd's net_virtio_user
 * ports as two VMs whose frames circulate through the switch without end
 * (io forwarding: what port 0 receives it sends on port 1 and back), a
 * known number of them; vm1's port listens (server mode), vm2's connects
 * to testpmd (client=1). Under that traffic the running switch goes through
 * failed take-overs (bad options, an EAL failure, a hand-over version it
 * does not speak, a new process that dies in the middle) and a real one.
 * At the end the frames are counted: every frame testpmd sent was taken by
 * the switch exactly once, the switch's counters (carried across) agree
 * with testpmd's, and exactly the injected number is still in flight, so
 * no frame was lost or duplicated; the VMs never reconnected. Both switches
 * run in crash-safe mode (--state-dir): the directory's lock goes to the
 * new process with the ports (the same open file, held by both until the
 * old one exits): no other process can take the directory meanwhile.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../drivers/vt_testpmd.h"
#include "test.h"
#include "vt_harness.h"

#define BURST	  16 /* frames injected per port */
#define INJECTED  (2 * BURST)
#define SETTLE_MS 300
#define MAC0	  "02:00:00:00:00:01"
#define MAC1	  "02:00:00:00:00:02"

struct tk_scene {
	struct vt_vswitch sw;
	struct vt_testpmd pmd;
	char sock[3][200];
	char spec[3][300];
	const char *specs[5];
	char state[200];
	const char *opts[3]; /* --state-dir DIR */
};

/* Whether a third process gets @p dir's lock now (it lets go at once). */
static bool
third_gets_lock(const char *dir)
{
	char path[300];
	int fd, got;

	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	/* Another open file than the switch's: flock conflicts as across processes. */
	got = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return got;
}

static int
pmd(struct tk_scene *s, const char *cmd)
{
	TEST_ASSERT_SUCCESS(vt_testpmd_cmd(&s->pmd, cmd, 5000), "testpmd: %s", cmd);
	return TEST_SUCCESS;
}

/* Prints every port's counters (for a failure). */
static void
system_ports(struct vt_vswitch *sw)
{
	static const char *const names[] = {"vm1", "vm2", "idle", "null0"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct vt_port_counters c;

		if (vt_vswitch_port(sw, names[i], &c) == 0 && c.found)
			printf("%s: %s rx %" PRIu64 " tx %" PRIu64 " rx_dropped %" PRIu64
			       " tx_dropped %" PRIu64 " flooded %" PRIu64 "\n",
			       names[i], c.up ? "up" : "down", c.rx_packets, c.tx_packets,
			       c.rx_dropped, c.tx_dropped, c.flooded);
	}
}

/* Both VM ports' rx counters, summed (the traffic's progress). */
static uint64_t
switch_rx(struct vt_vswitch *sw)
{
	struct vt_port_counters a, b;

	if (vt_vswitch_port(sw, "vm1", &a) != 0 || vt_vswitch_port(sw, "vm2", &b) != 0)
		return 0;
	return a.rx_packets + b.rx_packets;
}

/*
 * The switch forwards: its counters move by a thousand frames within 3 s
 * (normally within a few ms; the time it took is printed).
 */
static int
still_forwarding(struct vt_vswitch *sw, const char *after)
{
	uint64_t a = switch_rx(sw), b = a, t0 = vt_now_ms();

	while (b <= a + 1000 && vt_now_ms() < t0 + 3000) {
		usleep(20 * 1000);
		b = switch_rx(sw);
	}
	printf("after %s: +%" PRIu64 " frames in %" PRIu64 " ms\n", after, b - a, vt_now_ms() - t0);
	if (b <= a + 1000)
		system_ports(sw);
	TEST_ASSERT(b > a + 1000,
		    "after %s: the switch forwards no more (%" PRIu64 " -> %" PRIu64 ")", after, a,
		    b);
	return TEST_SUCCESS;
}

/* Connects to the management socket as a new process would. */
static int
ctl_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	int fd;

	/* Copied, not snprintf'd: gcc's release builds warn of the truncation. */
	if (len >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap && recv(fd, buf + n, 1, 0) == 1) {
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return (int)n;
}

/* Failure points the old switch must survive, each under traffic. */
static int
failed_takeovers(struct tk_scene *s)
{
	struct vt_vswitch nw;
	char why[256], line[4096];
	const char *bad_opt[] = {"--fdb-size", "3", NULL};
	int fd, st;

	/* 1. Bad options: refused before anything starts. */
	TEST_ASSERT(vt_vswitch_takeover(&nw, &s->sw, NULL, bad_opt, why, sizeof(why)) != 0,
		    "bad options took over");
	st = vt_vswitch_stop(&nw, SIGTERM);
	TEST_ASSERT_EQUAL(st, 2, "bad options: exit status");
	TEST_RUN(still_forwarding(&s->sw, "a take-over with bad options"));
	/* 2. EAL fails: the new process uses the running one's file prefix. */
	TEST_ASSERT(vt_vswitch_takeover(&nw, &s->sw, s->sw.prefix, NULL, why, sizeof(why)) != 0,
		    "a second EAL on one file prefix took over");
	/* Its runtime directory is the running switch's: leave it. */
	snprintf(nw.prefix, sizeof(nw.prefix), "switch-tk-not-ours-%d", (int)getpid());
	st = vt_vswitch_stop(&nw, SIGTERM);
	TEST_ASSERT(st != 0, "EAL failure: exit status %d", st);
	TEST_RUN(still_forwarding(&s->sw, "a take-over whose EAL failed"));
	/* 3. Another hand-over version: refused, with both versions named. */
	fd = ctl_connect(s->sw.ctl);
	TEST_ASSERT(fd >= 0, "connect");
	TEST_ASSERT(send(fd, "takeover 99\n", 12, MSG_NOSIGNAL) == 12, "send");
	read_line(fd, line, sizeof(line));
	close(fd);
	TEST_ASSERT(strstr(line, "\"ok\":false") != NULL && strstr(line, "version 99") != NULL,
		    "version refusal: %s", line);
	printf("version refusal: %s\n", line);
	TEST_RUN(still_forwarding(&s->sw, "a refused hand-over version"));
	/* 4. The new process dies in the middle: after the running switch
	 * stopped its workers and rings and sent its state (fds included). */
	fd = ctl_connect(s->sw.ctl);
	TEST_ASSERT(fd >= 0, "connect");
	TEST_ASSERT(send(fd, "takeover 1\n", 11, MSG_NOSIGNAL) == 11, "send");
	read_line(fd, line, sizeof(line));
	TEST_ASSERT(strstr(line, "\"ok\":true") != NULL, "hand-over start: %s", line);
	usleep(50 * 1000);
	close(fd); /* as the kernel does when the process dies */
	TEST_RUN(still_forwarding(&s->sw, "a new process that died mid-way"));
	TEST_ASSERT(vt_proc_output_has(&s->sw.proc, "forwarding again"),
		    "the running switch said it resumed");
	TEST_ASSERT(vt_proc_output_has(&s->sw.proc, "the state directory's lock among them"),
		    "the running switch passed its state directory's lock along");
	TEST_ASSERT(!third_gets_lock(s->state), "the state directory stayed locked");
	return TEST_SUCCESS;
}

static double
gap_ms(struct vt_vswitch *sw)
{
	char *out = vt_proc_output(&sw->proc), *p;
	double g = -1;

	p = out != NULL ? strstr(out, "forwarding gap ") : NULL;
	if (p != NULL)
		g = strtod(p + strlen("forwarding gap "), NULL);
	free(out);
	return g;
}

/* Prints the first output line of @p sw holding @p needle. */
static void
print_line(struct vt_vswitch *sw, const char *needle)
{
	char *out = vt_proc_output(&sw->proc), *p;

	p = out != NULL ? strstr(out, needle) : NULL;
	if (p != NULL)
		printf("%.*s\n", (int)strcspn(p, "\n"), p);
	free(out);
}

static const char *
reopen_line(struct vt_vswitch *sw)
{
	static char line[64];
	char *out = vt_proc_output(&sw->proc), *p;

	p = out != NULL ? strstr(out, "reopened ports after ") : NULL;
	snprintf(line, sizeof(line), "%.40s", p != NULL ? p : "no reopened ports");
	if (strchr(line, '\n') != NULL)
		*strchr(line, '\n') = '\0';
	free(out);
	return line;
}

/* Every frame accounted for, after testpmd stopped and the switch drained. */
static int
count_everything(struct tk_scene *s, struct vt_vswitch *sw)
{
	uint64_t rx[2], tx[2], rb, tb;
	struct vt_port_counters c[2];
	uint64_t before = ~0ull;
	int64_t in_flight;

	TEST_RUN(pmd(s, "stop"));
	/* The switch goes on taking what testpmd sent last; wait until calm. */
	for (int i = 0; i < 50 && switch_rx(sw) != before; i++) {
		before = switch_rx(sw);
		usleep(SETTLE_MS * 1000);
	}
	for (unsigned int p = 0; p < 2; p++)
		TEST_ASSERT_SUCCESS(vt_testpmd_port_stats(&s->pmd, p, &rx[p], &rb, &tx[p], &tb),
				    "testpmd port %u stats", p);
	TEST_ASSERT(vt_vswitch_port(sw, "vm1", &c[0]) == 0 &&
			    vt_vswitch_port(sw, "vm2", &c[1]) == 0,
		    "switch counters");
	in_flight = (int64_t)(c[0].tx_packets - rx[0]) + (int64_t)(c[1].tx_packets - rx[1]);
	printf("testpmd: port 0 tx %" PRIu64 " rx %" PRIu64 ", port 1 tx %" PRIu64 " rx %" PRIu64
	       "; switch: vm1 rx %" PRIu64 " tx %" PRIu64 ", vm2 rx %" PRIu64 " tx %" PRIu64
	       ", drops %" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "; in flight %" PRId64
	       " of %d injected\n",
	       tx[0], rx[0], tx[1], rx[1], c[0].rx_packets, c[0].tx_packets, c[1].rx_packets,
	       c[1].tx_packets, c[0].rx_dropped, c[0].tx_dropped, c[1].rx_dropped, c[1].tx_dropped,
	       in_flight, INJECTED);
	TEST_ASSERT(c[0].rx_packets == tx[0] && c[1].rx_packets == tx[1],
		    "the switch took exactly what testpmd sent (counters carried across)");
	TEST_ASSERT(c[0].rx_dropped + c[0].tx_dropped + c[1].rx_dropped + c[1].tx_dropped == 0,
		    "no drops");
	TEST_ASSERT(in_flight == INJECTED, "frames lost or duplicated: %" PRId64 " of %d remain",
		    in_flight, INJECTED);
	TEST_ASSERT(tx[0] > 10000 && tx[1] > 10000, "enough traffic went through");
	return TEST_SUCCESS;
}

static int
takeover_under_traffic(struct tk_scene *s)
{
	struct vt_vdev v[2] = {
		{.path = s->sock[0], .queues = 1, .mrg_rxbuf = true, .mac = MAC0},
		/* vm2 listens and the switch connects (client=1): its connection is
		 * handed over without a listener. */
		{.path = s->sock[1],
		 .queues = 1,
		 .packed = true,
		 .in_order = true,
		 .server = true,
		 .mac = MAC1},
	};
	struct vt_vswitch nw, old;
	struct vt_port_counters c;
	char why[256], load[96];
	uint64_t before;
	double gap;
	bool gave_dir;
	int st;

	TEST_ASSERT_SUCCESS(vt_testpmd_start(&s->pmd, "takeover", v, 2, NULL, 0), "testpmd");
	TEST_ASSERT_SUCCESS(vt_testpmd_wait_ready(&s->pmd, 30000), "testpmd ready");
	TEST_ASSERT(vt_vswitch_wait_up(&s->sw, "vm1", 10000) == 0 &&
			    vt_vswitch_wait_up(&s->sw, "vm2", 10000) == 0,
		    "VM ports up");
	TEST_RUN(pmd(s, "set fwd io"));
	TEST_RUN(pmd(s, "set burst 16"));
	TEST_RUN(pmd(s, "set eth-peer 0 " MAC1));
	TEST_RUN(pmd(s, "set eth-peer 1 " MAC0));
	TEST_RUN(pmd(s, "start tx_first"));
	TEST_RUN(still_forwarding(&s->sw, "the start"));
	TEST_RUN(failed_takeovers(s));
	before = switch_rx(&s->sw);
	TEST_ASSERT_SUCCESS(vt_vswitch_takeover(&nw, &s->sw, NULL, s->opts, why, sizeof(why)),
			    "take-over: %s", why);
	vt_machine_load(load, sizeof(load)); /* the load the take-over ran under */
	/* The new switch is the scene's now: the caller's clean-up stops it,
	 * whatever fails below. */
	old = s->sw;
	s->sw = nw;
	vt_proc_wait_output(&old.proc, "this process ends", 5000);
	print_line(&old, "takeover: handed over");
	gave_dir = vt_proc_output_has(&old.proc, "the state directory's lock among them");
	st = vt_vswitch_wait_exit(&old, 10000); /* reaped (killed if still there) */
	TEST_ASSERT_EQUAL(st, 0, "the old switch exits 0 after handing over");
	TEST_ASSERT(gave_dir, "the old switch passed its state directory's lock along");
	TEST_ASSERT(vt_proc_output_has(&s->sw.proc, "lock received with the hand-over"),
		    "the new switch holds the lock it was handed");
	TEST_ASSERT(!third_gets_lock(s->state), "the state directory stayed locked");
	gap = gap_ms(&s->sw);
	printf("take-over: forwarding gap %.2f ms; %s (%s)\n", gap, reopen_line(&s->sw), load);
	print_line(&s->sw, "takeover: took over");
	TEST_ASSERT(gap >= 0, "the new switch reports its gap");
	TEST_ASSERT(vt_vswitch_port(&s->sw, "vm1", &c) == 0 && c.found && c.up &&
			    c.rx_packets >= before / 2,
		    "vm1 up in the new switch, counters continued");
	TEST_ASSERT(vt_vswitch_port(&s->sw, "idle", &c) == 0 && c.found,
		    "the port without a VM came over too");
	TEST_ASSERT(vt_vswitch_port(&s->sw, "null0", &c) == 0 && c.found && c.up,
		    "the ethdev port was opened again");
	TEST_RUN(still_forwarding(&s->sw, "the take-over"));
	TEST_RUN(count_everything(s, &s->sw));
	TEST_ASSERT(!vt_proc_output_has(&s->pmd.p, "link state change") &&
			    !vt_proc_output_has(&s->pmd.p, "Failed"),
		    "the VMs saw no disconnect");
	return TEST_SUCCESS;
}

static int
test_app_takeover_under_traffic(void)
{
	struct tk_scene s;
	char why[256];
	int rc;

	memset(&s, 0, sizeof(s));
	if (!vt_interop_ready(why, sizeof(why)) || !vt_testpmd_usable(why, sizeof(why)))
		TEST_SKIP("%s", why);
	for (int i = 0; i < 3; i++) {
		static const char *const names[] = {"vm1", "vm2", "idle"};
		char file[32], keys[32];

		snprintf(file, sizeof(file), "tk%d.sock", i);
		snprintf(keys, sizeof(keys), "name=%s%s", names[i], i == 1 ? ",client=1" : "");
		vt_path(s.sock[i], sizeof(s.sock[i]), file);
		vt_vm_port_spec(s.spec[i], sizeof(s.spec[i]), (unsigned int)i, s.sock[i], keys);
		s.specs[i] = s.spec[i];
	}
	/* A port that cannot be handed over: closed by the old switch, opened by the new. */
	s.specs[3] = "ethdev,devargs=net_null0,no-rx=1,name=null0";
	s.specs[4] = NULL;
	vt_path(s.state, sizeof(s.state), "tk-state");
	vt_rm_tree(s.state);
	TEST_ASSERT_SUCCESS(mkdir(s.state, 0700), "mkdir %s", s.state);
	s.opts[0] = "--state-dir";
	s.opts[1] = s.state;
	s.opts[2] = NULL;
	if (vt_vswitch_start(&s.sw, NULL, s.specs, s.opts, why, sizeof(why)) != 0) {
		printf("FAIL: %s\n", why);
		return TEST_FAILED;
	}
	rc = takeover_under_traffic(&s);
	if (rc != TEST_SUCCESS) {
		vt_vswitch_dump(&s.sw);
		vt_testpmd_dump(&s.pmd);
	}
	vt_testpmd_stop(&s.pmd);
	vt_vswitch_stop(&s.sw, SIGTERM);
	for (int i = 0; i < 3; i++)
		unlink(s.sock[i]);
	vt_rm_tree(s.state);
	return rc;
}
REGISTER_TEST(app_takeover_under_traffic, interop, test_app_takeover_under_traffic)
