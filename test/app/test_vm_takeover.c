/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite vm: an upgrade the VMs do not notice. Two QEMU guests (Debian's
 * kernel, virtio-net on -netdev vhost-user) ping each other 20 times a
 * second through vswitch; meanwhile a second vswitch takes over with
 * --takeover and the first exits. Not one ping may be lost, the old switch
 * exits 0, and a TCP connection made after it works. The forwarding gap the
 * new switch measured (the old one's last burst to its own first poll) is
 * printed with the goal (under 50 ms): a timing, not a verdict.
 */
#include <signal.h>
#include <stdlib.h>

#include "test.h"
#include "test_vm.h"
#include "vt_harness.h"

#define PINGS	 300 /* 15 s at 20/s */
#define GAP_GOAL 50.0

#define GUEST_SETUP                                                                                \
	"echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "                                      \
	"echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; "                                  \
	"ip link set eth0 up && ip addr add %s/24 dev eth0 && sleep 1; "

static double
gap_of(struct vt_vswitch *sw)
{
	char *out = vt_proc_output(&sw->proc), *p;
	double g = -1;

	p = out != NULL ? strstr(out, "forwarding gap ") : NULL;
	if (p != NULL)
		g = strtod(p + strlen("forwarding gap "), NULL);
	free(out);
	return g;
}

/* "N packets transmitted, M packets received" and the largest round trip. */
static int
ping_result(struct vt_vm *vm, unsigned int *sent, unsigned int *got, double *max_ms)
{
	char *out = vt_vm_output(vm), *p;
	double mn, avg;
	int rc = -1;

	p = out != NULL ? strstr(out, "packets transmitted") : NULL;
	while (p != NULL && p > out && p[-1] != '\n')
		p--;
	if (p != NULL && sscanf(p, "%u packets transmitted, %u packets received", sent, got) == 2)
		rc = 0;
	p = out != NULL ? strstr(out, "round-trip min/avg/max = ") : NULL;
	*max_ms = -1;
	if (p != NULL)
		sscanf(p, "round-trip min/avg/max = %lf/%lf/%lf", &mn, &avg, max_ms);
	if (out == NULL || strstr(out, "TCP-OK") == NULL)
		rc = -1;
	free(out);
	return rc;
}

static int
wait_for_output(struct vt_vm *vm, const char *needle, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while (vt_now_ms() < end) {
		char *out = vt_vm_output(vm);
		bool found = out != NULL && strstr(out, needle) != NULL;

		free(out);
		if (found)
			return 0;
		if (!vt_proc_running(&vm->proc))
			return -1;
		usleep(100 * 1000);
	}
	return -1;
}

static int
test_vm_takeover_guests_keep_pinging(void)
{
	static const char *const names[2] = {"tk-g1", "tk-g2"};
	char chardev[2][420], cmd[2][700], why[256], load[96];
	struct vt_vm vm[2];
	struct vt_vswitch sw, nw;
	unsigned int sent = 0, got = 0;
	double gap = -1, max_ms = -1;
	int st[2] = {-1, -1}, rc = TEST_FAILED, old_exit;

	memset(vm, 0, sizeof(vm));
	memset(&nw, 0, sizeof(nw));
	if (!vt_interop_ready(why, sizeof(why)))
		TEST_SKIP("%s", why);
	if (vt_vswitch_start_two_guest_ports(&sw, "tk-", chardev, why, sizeof(why)) != 0) {
		printf("FAIL: %s\n", why);
		return TEST_FAILED;
	}
	/* g2 answers and waits for g1's last word over TCP; g1 pings at 20/s. */
	snprintf(cmd[1], sizeof(cmd[1]),
		 GUEST_SETUP "timeout 150 nc -l -p 5000 > /tmp/got; cat /tmp/got", "10.0.0.2");
	snprintf(cmd[0], sizeof(cmd[0]),
		 GUEST_SETUP "i=0; while [ $i -lt 90 ] && ! ping -c 1 -W 1 10.0.0.2 >/dev/null; do "
			     "i=$((i+1)); done; [ $i -lt 90 ] || { echo NO-PEER; exit 1; }; "
			     "echo PING-START; "
			     "ping -i 0.05 -c %d -W 2 10.0.0.2 > /tmp/ping; tail -n 3 /tmp/ping; "
			     "echo TCP-OK | timeout 30 nc 10.0.0.2 5000 && echo TCP-OK",
		 "10.0.0.1", PINGS);
	if (vt_vm_start_two_guests(vm, names, "52:54:00:00:01",
				   (const char *const[]){chardev[0], chardev[1]},
				   (const char *const[]){cmd[0], cmd[1]}) != 0)
		goto out;
	if (wait_for_output(&vm[0], "PING-START", 240000) != 0) {
		st[0] = vt_vm_wait(&vm[0]);
		if (st[0] == -ENOTSUP) {
			printf("SKIP: guest harness: %s\n", vm[0].why);
			rc = TEST_SKIPPED;
		} else {
			printf("FAIL: the guests never reached each other\n");
		}
		goto out;
	}
	/* A few seconds of pings, then the upgrade under them. */
	sleep(3);
	if (vt_vswitch_takeover(&nw, &sw, NULL, NULL, why, sizeof(why)) != 0) {
		printf("FAIL: %s\n", why);
		vt_vswitch_dump(&nw);
		goto out;
	}
	vt_machine_load(load, sizeof(load)); /* the load the take-over ran under */
	old_exit = vt_vswitch_wait_exit(&sw, 10000);
	gap = gap_of(&nw);
	st[0] = vt_vm_wait(&vm[0]);
	st[1] = vt_vm_wait(&vm[1]);
	if (st[0] != 0 || st[1] != 0 || ping_result(&vm[0], &sent, &got, &max_ms) != 0) {
		printf("FAIL: guests: g1 %d (%s), g2 %d (%s)\n", st[0], vm[0].why, st[1],
		       vm[1].why);
		goto out;
	}
	printf("take-over under 20 pings/s: %u of %u answered (%u lost), largest round trip "
	       "%.1f ms; forwarding gap %.2f ms; old switch exit %d\n",
	       got, sent, sent - got, max_ms, gap, old_exit);
	rc = TEST_SUCCESS;
	if (sent != PINGS || got != sent) {
		printf("FAIL: pings were lost across the take-over\n");
		rc = TEST_FAILED;
	}
	/*
	 * The gap is measured and reported, not a verdict: on a shared 2-CPU
	 * machine it is the scheduler's (measured here from 1.6 to 52 ms at a
	 * load average of 23; see doc/vswitch.md "What it costs").
	 */
	if (gap < 0) {
		printf("FAIL: the new switch reported no forwarding gap\n");
		rc = TEST_FAILED;
	} else {
		printf("forwarding gap %.2f ms: goal (under %.0f ms) %s (%s)\n", gap, GAP_GOAL,
		       gap < GAP_GOAL ? "met" : "missed on this run", load);
	}
	if (old_exit != 0) {
		printf("FAIL: the old switch exited %d\n", old_exit);
		rc = TEST_FAILED;
	}
out:
	if (rc == TEST_FAILED && nw.running)
		vt_vswitch_dump(&nw);
	vt_vm_two_guests_end(vm, names, &sw, rc);
	if (nw.running)
		vt_vswitch_stop(&nw, SIGTERM);
	return rc;
}
/* clang-format off */
REGISTER_TEST(vm_takeover_guests_keep_pinging, vm, test_vm_takeover_guests_keep_pinging)
/* clang-format on */
