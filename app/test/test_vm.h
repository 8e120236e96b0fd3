/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_TEST_VM_H
#define VT_TEST_VM_H

/**
 * @file
 * QEMU guests for the vm suite, through scripts/vm/vm.sh: Debian's cloud
 * kernel with a busybox initramfs that loads the requested modules, runs one
 * shell command, reports its exit status on the serial console and powers
 * off. The image (kernel, modules, vDPA simulator) is built on first use and
 * cached (see vm.sh). Every guest runs under TCG unless KVM really boots it,
 * bounded by a timeout and killed on every path.
 *
 * One guest, start to end:
 *
 *     struct vt_vm_config cfg = {
 *             .name = "ping",
 *             .modules = (const char *const[]){"virtio_net", NULL},
 *             .qemu_args = (const char *const[]){"-chardev", "socket,id=c0,path=...",
 *                     "-netdev", "vhost-user,id=n0,chardev=c0",
 *                     "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01,"
 *                                "vectors=0,romfile=", NULL},
 *             .shared_mem = true,
 *             .command = "ip link set eth0 up && ip addr add ... && ping -c 3 ...",
 *     };
 *     struct vt_vm vm;
 *     int st = vt_vm_run(&vm, &cfg);   // guest status, or -errno
 *
 * Two guests at once: vt_vm_start() both, then vt_vm_wait() both, then
 * vt_vm_cleanup() both (also on every failure path).
 */

#include <stdbool.h>

#include "test_proc.h"

/** What to boot and run. Arrays are NULL-terminated; any may be NULL. */
struct vt_vm_config {
	const char *name;	      /**< short run name for logs ("vhost-net"), or NULL */
	const char *const *modules;   /**< guest modules to load first (vm.sh GUEST_MODULES) */
	const char *const *files;     /**< host files copied to the same path, with their libs */
	const char *const *qemu_args; /**< extra QEMU arguments, one per element */
	const char *command;	      /**< shell command run by the guest's sh, in /tmp */
	unsigned mem_mib;	      /**< guest memory, 0 for 256 MiB */
	bool shared_mem;	      /**< back memory with a shared memfd (vhost-user) */
	unsigned timeout_s;	      /**< bound of the QEMU run, 0 for 300 s */
};

/** One guest run. */
struct vt_vm {
	struct vt_proc proc; /**< vm.sh, its QEMU, and the captured console */
	unsigned timeout_s;
	bool started;
	int status;    /**< guest command's exit status once known, else -1 */
	char why[320]; /**< reason for a skip or harness error */
};

/**
 * Starts a guest (returns at once; the image may be built first by vm.sh).
 * Returns 0 or a negative errno.
 */
int vt_vm_start(struct vt_vm *vm, const struct vt_vm_config *cfg);

/**
 * Waits for the guest to finish. Returns the guest command's exit status
 * (0..255); -ENOTSUP when the harness cannot run here (QEMU or packages
 * missing: vm->why has the reason, the caller skips); -ETIMEDOUT when the
 * guest did not finish in time (it is killed); -EIO for a harness error
 * (vm->why says which).
 */
int vt_vm_wait(struct vt_vm *vm);

/** vt_vm_start() then vt_vm_wait(); same return values. */
int vt_vm_run(struct vt_vm *vm, const struct vt_vm_config *cfg);

/**
 * The guest command's output (console lines between VT-BEGIN and VT-EXIT,
 * carriage returns removed), malloc'd; NULL if there is none.
 */
char *vt_vm_output(struct vt_vm *vm);

/** Prints the whole console log, each line prefixed with @p tag. */
void vt_vm_dump(struct vt_vm *vm, const char *tag);

/** Kills the guest if it still runs and removes its files. Idempotent. */
void vt_vm_cleanup(struct vt_vm *vm);

/**
 * Sends one command to a QEMU human monitor (HMP) listening on Unix socket
 * @p sock (`-monitor unix:SOCK,server=on,wait=off`): connects, waits for the
 * prompt, sends @p cmd, and copies what QEMU prints up to its next prompt
 * into @p out (NUL-terminated, cut at @p len - 1). One connection per call
 * (the monitor serves one client at a time).
 *
 * @return 0; -ETIMEDOUT when no prompt came within @p timeout_ms; another
 *         negative errno of the socket (-ECONNREFUSED, -ENOENT: no QEMU)
 */
int vt_qemu_hmp(const char *sock, const char *cmd, char *out, size_t len, unsigned timeout_ms);

/**
 * Runs test @p test (suite guest) of this vswitch-test binary inside a guest
 * that loads @p modules and first runs @p setup (a shell command, or NULL).
 * Returns TEST_SUCCESS, TEST_FAILED (the console is printed) or TEST_SKIPPED
 * when the harness cannot run here. A guest test that skips counts as a
 * failure: the harness is there to give it what it needs.
 */
int vt_vm_run_guest_test(const char *test, const char *const *modules, const char *setup,
			 unsigned timeout_s);

#endif /* VT_TEST_VM_H */
