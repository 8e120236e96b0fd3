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
