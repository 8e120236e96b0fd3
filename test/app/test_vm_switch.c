/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite vm: two QEMU guests (Debian's kernel, virtio-net on -netdev
 * vhost-user) on vswitch ports made by vt_vm_port_spec(): they ping each
 * other and move a bulk TCP transfer through the switch; every frame each
 * guest counted as sent the switch counted as received from its port, and
 * the other way round. QEMU's memory-backend-memfd (sealed against
 * shrinking) is found sealed: those rings run without the SIGBUS guard.
 */
#include <signal.h>
#include <stdlib.h>

#include "test.h"
#include "test_vm.h"
#include "vt_harness.h"

#define GUEST_SETUP                                                                                \
	"echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "                                      \
	"echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; "                                  \
	"ip link set eth0 up && ip addr add %s/24 dev eth0 && sleep 1; "
#define GUEST_COUNTERS                                                                             \
	"echo counters rx=$(cat /sys/class/net/eth0/statistics/rx_packets) "                       \
	"tx=$(cat /sys/class/net/eth0/statistics/tx_packets)"

struct guest_counts {
	uint64_t rx, tx;
};

static int
parse_counts(struct vt_vm *vm, struct guest_counts *c)
{
	char *out = vt_vm_output(vm), *p;
	unsigned long long rx, tx;
	int rc = -1;

	p = out != NULL ? strstr(out, "counters rx=") : NULL;
	if (p != NULL && sscanf(p, "counters rx=%llu tx=%llu", &rx, &tx) == 2) {
		c->rx = rx;
		c->tx = tx;
		rc = 0;
	}
	if (out != NULL && strstr(out, "BULK-OK") == NULL && strstr(out, "SERVER-OK") == NULL)
		rc = -1;
	free(out);
	return rc;
}

static int
test_vm_guests_ping_and_transfer_through_the_switch(void)
{
	static const char *const names[2] = {"g1", "g2"};
	char chardev[2][420], cmd[2][640], why[256];
	struct vt_vm vm[2];
	struct vt_vswitch sw;
	struct guest_counts g[2] = {{0}};
	struct vt_port_counters c[2];
	int st[2] = {-1, -1}, rc = TEST_FAILED;

	memset(vm, 0, sizeof(vm));
	if (!vt_interop_ready(why, sizeof(why)))
		TEST_SKIP("%s", why);
	if (vt_vswitch_start_two_guest_ports(&sw, "", chardev, why, sizeof(why)) != 0) {
		printf("FAIL: %s\n", why);
		return TEST_FAILED;
	}
	/* g2 serves; g1 pings it, sends it 4 MiB, then both report counters. */
	snprintf(cmd[1], sizeof(cmd[1]),
		 GUEST_SETUP
		 "timeout 120 nc -l -p 5000 > /tmp/got && "
		 "[ $(wc -c < /tmp/got) -eq 4194304 ] && echo SERVER-OK; sleep 3; " GUEST_COUNTERS,
		 "10.0.0.2");
	snprintf(cmd[0], sizeof(cmd[0]),
		 GUEST_SETUP
		 /* The other guest may boot later (TCG on a busy machine):
		  * wait for it to answer before the counted traffic. */
		 "i=0; while [ $i -lt 90 ] && ! ping -c 1 -W 1 10.0.0.2 >/dev/null; do "
		 "i=$((i+1)); done; ping -c 3 -W 2 10.0.0.2 && "
		 "dd if=/dev/zero bs=64k count=64 2>/dev/null | timeout 120 nc 10.0.0.2 5000 "
		 "&& echo BULK-OK; sleep 2; " GUEST_COUNTERS,
		 "10.0.0.1");
	if (vt_vm_start_two_guests(vm, names, "52:54:00:00:00",
				   (const char *const[]){chardev[0], chardev[1]},
				   (const char *const[]){cmd[0], cmd[1]}) != 0)
		goto out;
	/* The server first: it must be listening when the client connects. */
	st[0] = vt_vm_wait(&vm[0]);
	st[1] = vt_vm_wait(&vm[1]);
	if (st[0] == -ENOTSUP || st[1] == -ENOTSUP) {
		printf("SKIP: guest harness: %s\n", st[0] == -ENOTSUP ? vm[0].why : vm[1].why);
		rc = TEST_SKIPPED;
		goto out;
	}
	if (st[0] != 0 || st[1] != 0 || parse_counts(&vm[0], &g[0]) != 0 ||
	    parse_counts(&vm[1], &g[1]) != 0) {
		printf("FAIL: guests: g1 %d (%s), g2 %d (%s)\n", st[0], vm[0].why, st[1],
		       vm[1].why);
		goto out;
	}
	if (vt_vswitch_port(&sw, "g1", &c[0]) != 0 || vt_vswitch_port(&sw, "g2", &c[1]) != 0) {
		printf("FAIL: switch counters\n");
		goto out;
	}
	for (int i = 0; i < 2; i++)
		printf("g%d: guest rx %" PRIu64 " tx %" PRIu64 "; switch rx %" PRIu64 " tx %" PRIu64
		       " drops %" PRIu64 "/%" PRIu64 "\n",
		       i + 1, g[i].rx, g[i].tx, c[i].rx_packets, c[i].tx_packets, c[i].rx_dropped,
		       c[i].tx_dropped);
	rc = TEST_SUCCESS;
	for (int i = 0; i < 2; i++) {
		if (g[i].tx < 100 || c[i].rx_packets != g[i].tx || c[i].tx_packets != g[i].rx) {
			printf("FAIL: g%d: the guest's and the switch's counts differ\n", i + 1);
			rc = TEST_FAILED;
		}
	}
	/* QEMU's memory-backend-memfd is sealed against shrinking (seal=on by
	 * default): the switch runs these guests' rings unguarded (vhost_guard.h). */
	for (int i = 0; i < 2; i++) {
		char want[64];

		snprintf(want, sizeof(want), "g%d: guest memory sealed against shrinking", i + 1);
		if (!vt_proc_output_has(&sw.proc, want)) {
			printf("FAIL: the switch did not find g%d's QEMU memory sealed\n", i + 1);
			rc = TEST_FAILED;
		}
	}
out:
	vt_vm_two_guests_end(vm, names, &sw, rc);
	return rc;
}
/* clang-format off */
REGISTER_TEST(vm_guests_ping_and_transfer_through_the_switch, vm, test_vm_guests_ping_and_transfer_through_the_switch)
/* clang-format on */
