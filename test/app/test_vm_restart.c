/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite vm: two QEMU guests (Debian's kernel, virtio-net on -netdev
 * vhost-user) ping each other at 20 per second through vswitch while
 * vswitch is killed with SIGKILL and started again, three times. QEMU owns
 * the sockets (chardev server=on) and the switch's ports are client=1 with
 * a state directory, as doc/vswitch.md "Crash restart" says to run it.
 *
 * Each kill shows at the pinging guest as a run of pings answered late
 * (queued in its ring while the switch was away, sent when it came back)
 * or never: the outage, in pings lost and in how long the first of them
 * waited. The test fails when pings do not come back after a restart (a
 * guest left waiting for a notification, a ring the new instance resumed in
 * the wrong place) or an outage exceeds OUTAGE_MAX_PINGS; it prints every
 * outage.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "test_vm.h"
#include "vt_harness.h"

#define PINGS		 800 /* 40 s at 20/s */
#define PING_INTERVAL_MS 50
#define KILLS		 3
#define FIRST_KILL_MS	 6000
#define KILL_EVERY_MS	 10000
/* A restart takes about a second here (EAL, reconnection); TCG guests on
 * a loaded machine can add seconds. Beyond this the guest did not recover. */
#define OUTAGE_MAX_PINGS 200

#define GUEST_SETUP                                                                                \
	"echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "                                      \
	"echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; "                                  \
	"ip link set eth0 up && ip addr add %s/24 dev eth0 && sleep 1; "

/* A ping answered later than this was held up by the restart. */
#define SLOW_MS 250

struct gap {
	unsigned int first, n; /* first disturbed sequence number, how many */
	unsigned int lost;     /* of those, never answered */
	unsigned int wait_ms;  /* the longest any of them waited for its answer */
};

struct pings {
	bool got[PINGS];
	unsigned int rtt_ms[PINGS];
	unsigned int received, last_seen;
};

/* Reads "seq=N ttl=T time=X ms" lines of busybox ping. */
static void
read_pings(const char *out, struct pings *pg)
{
	memset(pg, 0, sizeof(*pg));
	for (const char *p = out; (p = strstr(p, "seq=")) != NULL; p += 4) {
		unsigned int seq, ttl;
		double ms;

		if (sscanf(p, "seq=%u ttl=%u time=%lf", &seq, &ttl, &ms) != 3 || seq >= PINGS ||
		    pg->got[seq])
			continue;
		pg->got[seq] = true;
		pg->rtt_ms[seq] = (unsigned int)ms;
		pg->received++;
		if (seq > pg->last_seen)
			pg->last_seen = seq;
	}
}

/*
 * Runs of pings the restarts disturbed: never answered, or answered after
 * more than SLOW_MS (queued in the guest's ring while the switch was away,
 * and sent when it came back).
 */
static unsigned int
find_gaps(const struct pings *pg, struct gap *gaps, unsigned int max)
{
	unsigned int n = 0;
	struct gap g = {0};

	for (unsigned int s = 0; s <= pg->last_seen + 1 && s <= PINGS; s++) {
		bool bad =
			s < PINGS && s <= pg->last_seen && (!pg->got[s] || pg->rtt_ms[s] > SLOW_MS);

		if (bad) {
			if (g.n == 0)
				g.first = s;
			g.n++;
			if (!pg->got[s])
				g.lost++;
			else if (pg->rtt_ms[s] > g.wait_ms)
				g.wait_ms = pg->rtt_ms[s];
			continue;
		}
		if (g.n > 0 && n < max) {
			/* Unanswered pings waited at least until the next answer. */
			if (g.lost > 0 && g.wait_ms < g.n * PING_INTERVAL_MS)
				g.wait_ms = g.n * PING_INTERVAL_MS;
			gaps[n++] = g;
		}
		g = (struct gap){0};
	}
	return n;
}

/* Kills and restarts the switch KILLS times while the guest pings. */
static int
kill_and_restart(struct vt_vswitch *sw, struct vt_vm *pinger, const char *const *specs,
		 const char *const *opts, uint64_t *restart_ms)
{
	char why[256];
	uint64_t start;

	/* vm.sh prints the command as it boots: the marker is spelled
	 * PING-ST""ART there, so only the echo itself matches. */
	if (vt_proc_wait_output(&pinger->proc, "PING-START", 240000) != 0) {
		printf("FAIL: the guests did not reach each other\n");
		return -1;
	}
	start = vt_now_ms();
	usleep(FIRST_KILL_MS * 1000);
	for (int k = 0; k < KILLS; k++) {
		uint64_t t0 = vt_now_ms();

		printf("kill %d at %" PRIu64 " ms after PING-START was seen\n", k + 1, t0 - start);
		vt_vswitch_kill(sw);
		if (vt_vswitch_start(sw, NULL, specs, opts, why, sizeof(why)) != 0) {
			printf("FAIL: restart %d: %s\n", k + 1, why);
			return -1;
		}
		restart_ms[k] = vt_now_ms() - t0;
		if (k + 1 < KILLS)
			usleep(KILL_EVERY_MS * 1000);
	}
	return 0;
}

static int
check_outages(struct vt_vm *pinger, const uint64_t *restart_ms)
{
	static struct pings pg;
	char *out = vt_vm_output(pinger);
	struct gap gaps[16];
	unsigned int ngaps, lost = 0;
	int rc = TEST_SUCCESS;

	if (out == NULL) {
		printf("FAIL: no output from the pinging guest\n");
		return TEST_FAILED;
	}
	if (getenv("VT_VM_RESTART_VERBOSE") != NULL)
		printf("%s\n", out);
	read_pings(out, &pg);
	free(out);
	ngaps = find_gaps(&pg, gaps, 16);
	for (unsigned int i = 0; i < ngaps; i++) {
		lost += gaps[i].lost;
		printf("outage %u: pings %u-%u held up: %u lost, the longest waited %u ms\n", i + 1,
		       gaps[i].first, gaps[i].first + gaps[i].n - 1, gaps[i].lost, gaps[i].wait_ms);
		if (gaps[i].n > OUTAGE_MAX_PINGS)
			rc = TEST_FAILED;
	}
	for (int k = 0; k < KILLS; k++)
		printf("restart %d: vswitch ready %" PRIu64 " ms after the kill\n", k + 1,
		       restart_ms[k]);
	printf("kill -9 + restart x%d, pings at 20/s: %u of %u answered, %u lost; %u "
	       "outage(s) (answers later than %d ms)\n",
	       KILLS, pg.received, PINGS, lost, ngaps, SLOW_MS);
	/* The guest keeps answering after the last restart: nothing stalled. */
	if (pg.last_seen + 20 < PINGS) {
		printf("FAIL: no answer after ping %u of %u\n", pg.last_seen, PINGS);
		rc = TEST_FAILED;
	}
	if (rc != TEST_SUCCESS)
		printf("FAIL: an outage longer than %u pings, or pings stopped\n",
		       OUTAGE_MAX_PINGS);
	return rc;
}

static int
test_vm_guests_ping_across_switch_kill_and_restart(void)
{
	static const char *const names[2] = {"r1", "r2"};
	char sock[2][200], spec[2][300], chardev[2][420], cmd[2][640], why[256], state[200];
	const char *specs[3], *opts[3];
	struct vt_vm vm[2];
	struct vt_vswitch sw;
	uint64_t restart_ms[KILLS] = {0};
	int st[2] = {-1, -1}, rc = TEST_FAILED;

	memset(vm, 0, sizeof(vm));
	memset(&sw, 0, sizeof(sw));
	if (!vt_interop_ready(why, sizeof(why)))
		TEST_SKIP("%s", why);
	vt_path(state, sizeof(state), "vm-restart-state");
	vt_rm_tree(state);
	TEST_ASSERT_SUCCESS(mkdir(state, 0700), "mkdir %s", state);
	for (int i = 0; i < 2; i++) {
		char keys[32];

		snprintf(keys, sizeof(keys), "client=1,name=r%d", i + 1);
		vt_path(sock[i], sizeof(sock[i]), i == 0 ? "r1.sock" : "r2.sock");
		unlink(sock[i]);
		vt_vm_port_spec(spec[i], sizeof(spec[i]), (unsigned int)i, sock[i], keys);
		specs[i] = spec[i];
		/* QEMU owns the socket and keeps the device while the switch is away. */
		snprintf(chardev[i], sizeof(chardev[i]),
			 "socket,id=c0,path=%.200s,server=on,wait=off", sock[i]);
	}
	specs[2] = NULL;
	opts[0] = "--state-dir";
	opts[1] = state;
	opts[2] = NULL;
	/* The answering guest stays until the pings have stopped for 10 s
	 * (a restart's outage is shorter), at most 240 s. */
	snprintf(cmd[1], sizeof(cmd[1]),
		 GUEST_SETUP
		 "p=-1; idle=0; t=0; while [ $idle -lt 10 ] && [ $t -lt 240 ]; do "
		 "sleep 1; t=$((t+1)); n=$(cat /sys/class/net/eth0/statistics/rx_packets); "
		 "if [ $n -gt 100 ] && [ $n = $p ]; then idle=$((idle+1)); else idle=0; fi; "
		 "p=$n; done; echo ANSWERED",
		 "10.0.1.2");
	snprintf(cmd[0], sizeof(cmd[0]),
		 GUEST_SETUP
		 "i=0; while [ $i -lt 120 ] && ! ping -c 1 -W 1 10.0.1.2 >/dev/null; do "
		 "i=$((i+1)); done; echo PING-ST\"\"ART; "
		 "ping -i 0.05 -c %d -W 2 10.0.1.2; echo PING-DONE",
		 "10.0.1.1", PINGS);
	if (vt_vm_start_two_guests(vm, names, "52:54:00:00:01",
				   (const char *const[]){chardev[0], chardev[1]},
				   (const char *const[]){cmd[0], cmd[1]}) != 0)
		goto out;
	/* The switch connects to the sockets QEMU made (it retries until they exist). */
	if (vt_vswitch_start(&sw, NULL, specs, opts, why, sizeof(why)) != 0) {
		printf("FAIL: %s\n", why);
		goto out;
	}
	if (kill_and_restart(&sw, &vm[0], specs, opts, restart_ms) != 0)
		goto out;
	st[0] = vt_vm_wait(&vm[0]);
	st[1] = vt_vm_wait(&vm[1]);
	if (st[0] == -ENOTSUP || st[1] == -ENOTSUP) {
		printf("SKIP: guest harness: %s\n", st[0] == -ENOTSUP ? vm[0].why : vm[1].why);
		rc = TEST_SKIPPED;
		goto out;
	}
	if (st[0] != 0 || st[1] != 0) {
		printf("FAIL: guests: r1 %d (%s), r2 %d (%s)\n", st[0], vm[0].why, st[1],
		       vm[1].why);
		goto out;
	}
	rc = check_outages(&vm[0], restart_ms);
out:
	vt_vm_two_guests_end(vm, names, &sw, rc);
	vt_rm_tree(state);
	return rc;
}
/* clang-format off */
REGISTER_TEST(vm_guests_ping_across_switch_kill_and_restart, vm, test_vm_guests_ping_across_switch_kill_and_restart)
/* clang-format on */
