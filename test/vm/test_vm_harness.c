/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The guest harness: a guest boots Debian's kernel, runs one command or one
 * of our guest tests, and its exit status and output come back.
 */
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "test.h"
#include "test_vm.h"

static int
test_vm_guest_reports_status_and_output(void)
{
	struct vt_vm_config cfg = {
		.name = "status",
		.command = "echo hello from $(uname -r); exit 3",
		.timeout_s = 120,
	};
	struct vt_vm vm;
	char *out;
	int st;

	st = vt_vm_run(&vm, &cfg);
	if (st == -ENOTSUP) {
		vt_vm_cleanup(&vm);
		TEST_SKIP("guest harness: %s", vm.why);
	}
	if (st != 3)
		vt_vm_dump(&vm, "vm");
	out = vt_vm_output(&vm);
	vt_vm_cleanup(&vm);
	TEST_ASSERT_EQUAL(st, 3, "the guest command's exit status (%s)", vm.why);
	TEST_ASSERT(out != NULL && strstr(out, "hello from 6.1.") != NULL,
		    "the guest's output, from Debian's 6.1 kernel: %s", out ? out : "(none)");
	free(out);
	return TEST_SUCCESS;
}
REGISTER_TEST(vm_guest_reports_status_and_output, vm, test_vm_guest_reports_status_and_output)

/* Runs inside the guest: we are its init's child, on the guest kernel, with
 * the requested module loaded. */
static int
test_guest_runs_with_modules_loaded(void)
{
	struct utsname u;

	TEST_ASSERT_SUCCESS(uname(&u), "uname");
	TEST_ASSERT(strstr(u.release, "cloud-amd64") != NULL, "a Debian cloud kernel: %s",
		    u.release);
	TEST_ASSERT_SUCCESS(access("/sys/module/tun", F_OK), "module tun is loaded");
	TEST_ASSERT_SUCCESS(access("/dev/net/tun", F_OK), "/dev/net/tun exists");
	return TEST_SUCCESS;
}
REGISTER_TEST(guest_runs_with_modules_loaded, guest, test_guest_runs_with_modules_loaded)

static int
test_vm_guest_test_runs_in_guest(void)
{
	return vt_vm_run_guest_test("guest_runs_with_modules_loaded",
				    (const char *const[]){"tun", NULL}, NULL, 120);
}
REGISTER_TEST(vm_guest_test_runs_in_guest, vm, test_vm_guest_test_runs_in_guest)

/*
 * The path the switch's end-to-end tests take: a guest whose virtio-net NIC
 * is on -netdev vhost-user (shared guest memory, legacy INTx under TCG: see
 * PLATFORM.md), here with dpdk-testpmd's net_vhost as the back-end looping
 * every frame back (io forwarding, loop topology). The guest sends IPv6
 * link-local traffic only and must see frames come back.
 */
static int
test_vm_guest_virtio_net_over_vhost_user(void)
{
	char testpmd[256], sock[256], vdev[320], chardev[300];
	const char *guest_cmd =
		"echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad; ip link set eth0 up; "
		"sleep 1; ping6 -c 3 -W 1 -I eth0 ff02::1 >/dev/null 2>&1; "
		"echo rx=$(cat /sys/class/net/eth0/statistics/rx_packets) "
		"tx=$(cat /sys/class/net/eth0/statistics/tx_packets)";
	struct vt_proc pmd;
	struct vt_vm vm = {0};
	unsigned rx = 0, tx = 0;
	char *out = NULL, *p;
	int st;

	if (vt_testpmd_path(testpmd, sizeof(testpmd)) == NULL)
		TEST_SKIP("dpdk-testpmd is not installed (Debian package dpdk)");
	vt_path(sock, sizeof(sock), "vhost-user.sock");
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", sock);
	snprintf(chardev, sizeof(chardev), "socket,id=c0,path=%s", sock);
	const char *pmd_argv[] = {testpmd,
				  "--no-pci",
				  "--no-huge",
				  "-m",
				  "256",
				  "--lcores=0@0,1@1",
				  "--file-prefix=kern-vdpa-vm-e2e",
				  "--vdev",
				  vdev,
				  "--",
				  "--forward-mode=io",
				  "--port-topology=loop",
				  "--total-num-mbufs=8192",
				  "--auto-start",
				  NULL};
	TEST_ASSERT_SUCCESS(vt_proc_start(&pmd, pmd_argv, -1), "start testpmd");
	if (vt_proc_wait_output(&pmd, "Press enter to exit", 30000) != 0) {
		vt_proc_dump(&pmd, "testpmd");
		vt_proc_stop(&pmd, "\n", 5000);
		vt_proc_cleanup(&pmd);
		TEST_ASSERT(false, "testpmd started with net_vhost listening on %s", sock);
	}
	struct vt_vm_config cfg = {
		.name = "vhost-user",
		.modules = (const char *const[]){"virtio_pci", "virtio_net", NULL},
		.qemu_args = (const char *const[]){"-chardev", chardev, "-netdev",
						   "vhost-user,id=n0,chardev=c0", "-device",
						   "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01,"
						   "vectors=0,romfile=",
						   NULL},
		.shared_mem = true,
		.command = guest_cmd,
		.timeout_s = 180,
	};
	st = vt_vm_run(&vm, &cfg);
	if (st == 0)
		out = vt_vm_output(&vm);
	if (out != NULL && (p = strstr(out, "rx=")) != NULL)
		sscanf(p, "rx=%u tx=%u", &rx, &tx);
	if (st != 0 || rx == 0 || tx == 0) {
		vt_vm_dump(&vm, "vm");
		vt_proc_dump(&pmd, "testpmd");
	}
	vt_vm_cleanup(&vm);
	vt_proc_stop(&pmd, "\n", 10000);
	vt_proc_cleanup(&pmd);
	free(out);
	if (st == -ENOTSUP)
		TEST_SKIP("guest harness: %s", vm.why);
	printf("guest eth0: rx=%u tx=%u\n", rx, tx);
	TEST_ASSERT_EQUAL(st, 0, "the guest command (%s)", vm.why);
	TEST_ASSERT(tx > 0, "the guest transmitted (tx=%u)", tx);
	TEST_ASSERT(rx > 0, "frames came back through net_vhost (rx=%u)", rx);
	return TEST_SUCCESS;
}
REGISTER_TEST(vm_guest_virtio_net_over_vhost_user, vm, test_vm_guest_virtio_net_over_vhost_user)
