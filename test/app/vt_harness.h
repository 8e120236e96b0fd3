/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VT_HARNESS_H
#define VT_HARNESS_H

/*
 * The interop harness: the real vswitch binary, VMs played by dpdk-testpmd
 * net_virtio_user instances with fixed MACs, counted traffic, and the
 * switch's counters read through vswitchctl --json.
 *
 * A VM's port is made by vt_vm_port_spec(): the vhost-user port type
 * (drivers/net/vhost_user); before it, DPDK's net_vhost through the ethdev
 * port type.
 */

#include <stdbool.h>
#include <stdint.h>

#include "test_proc.h"
#include "test_vm.h"
#include "vs_json.h"

/* A VM port's SPEC for socket @p sock plus @p extra keys (may be NULL). */
const char *vt_vm_port_spec(char *buf, size_t len, unsigned int idx, const char *sock,
			    const char *extra);

/* Removes /var/run/dpdk/<prefix>, which DPDK leaves behind. */
void vt_remove_runtime_dir(const char *prefix);

/* Skips unless testpmd and the vswitch binaries are there. */
bool vt_interop_ready(char *why, size_t len);

/* Lines of `tcpdump -nn -e -r FILE` holding @p needle, or -1 when tcpdump fails. */
int vt_tcpdump_lines(const char *path, const char *needle);

/*
 * Starts a guest named @p name with one virtio-net-pci device (MAC @p mac,
 * no MSI-X vectors) on the vhost-user chardev @p chardev (a -chardev value
 * whose id is c0), running the shell @p command within 300 s; the guest
 * loads virtio_pci and virtio_net first. Returns vt_vm_start()'s value.
 */
int vt_vm_start_vhost_user_guest(struct vt_vm *vm, const char *name, const char *chardev,
				 const char *mac, const char *command);

/*
 * Starts guests @p names[0] and @p names[1] as vt_vm_start_vhost_user_guest():
 * guest i on @p chardev[i], MAC @p mac_prefix ":0" i+1, running @p cmd[i].
 * Returns 0, or -1 after printing which guest did not start.
 */
int vt_vm_start_two_guests(struct vt_vm *vm, const char *const *names, const char *mac_prefix,
			   const char *const *chardev, const char *const *cmd);

/* ---- the switch ---- */

struct vt_vswitch {
	struct vt_proc proc;
	char ctl[200];
	char prefix[64];
	bool running;
	bool ctl_not_ours; /* the management socket is another instance's: never remove it */
};

/*
 * Starts vswitch with its own file prefix and no hugepages, @p lcores as
 * the EAL --lcores value (NULL: "0@0,1@1"), @p ports port SPECs and @p opts
 * extra options (NULL-terminated lists, may be NULL), and waits for
 * "vswitch: ready". Returns 0 or -1 with a reason in @p why.
 */
int vt_vswitch_start(struct vt_vswitch *v, const char *lcores, const char *const *ports,
		     const char *const *opts, char *why, size_t len);

/*
 * The same on 2 MiB hugepages (--single-file-segments, DPDK's default
 * memory), lcores "0@0,1@1": a DPDK secondary process (dpdk-dumpcap) can
 * then attach to it. The caller checks vt_hugepages_ok() first.
 */
int vt_vswitch_start_hugepages(struct vt_vswitch *v, const char *const *ports,
			       const char *const *opts, char *why, size_t len);

/*
 * Sends SIGINT or SIGTERM and waits for the exit. Returns the exit status,
 * 128+signal when it had to be killed, or -1.
 */
/*
 * Starts vswitch (as vt_vswitch_start, no extra options) with two vhost-user
 * ports g1 and g2 on the sockets @p prefix "g1.sock" and "g2.sock" in the
 * test directory, and fills @p chardev[i] with the QEMU -chardev value (id
 * c0) of guest i. Returns 0 or -1 with a reason in @p why.
 */
int vt_vswitch_start_two_guest_ports(struct vt_vswitch *v, const char *prefix, char (*chardev)[420],
				     char *why, size_t len);

int vt_vswitch_stop(struct vt_vswitch *v, int sig);

/*
 * The end of a test with two guests on switch @p sw: after a failure
 * (@p rc TEST_FAILED) the guests' (@p names) and the switch's output;
 * then the guests go and the switch stops (if it runs).
 */
void vt_vm_two_guests_end(struct vt_vm *vm, const char *const *names, struct vt_vswitch *sw,
			  int rc);

/* Kills it at once (SIGKILL), as a crash would. */
void vt_vswitch_kill(struct vt_vswitch *v);

/*
 * Starts a second vswitch with --takeover on @p old's management socket,
 * file prefix @p prefix (NULL: its own), @p opts extra options (before
 * --takeover; NULL-terminated, may be NULL), and waits for its ready line or
 * its exit. Returns 0 once it took over (the management socket is then
 * @p nw's, not @p old's), or -1 with a reason in @p why (@p nw's process is
 * still to be stopped with vt_vswitch_stop(), which leaves the socket).
 */
int vt_vswitch_takeover(struct vt_vswitch *nw, struct vt_vswitch *old, const char *prefix,
			const char *const *opts, char *why, size_t len);

/*
 * Waits up to @p ms for a vswitch that ends by itself (handed over) and
 * reaps it. Returns its exit status, or -1 when it was still running (then
 * killed).
 */
int vt_vswitch_wait_exit(struct vt_vswitch *v, unsigned int ms);

/*
 * The machine's load as a phrase for a timing's line ("load average 21.4
 * (1 min), 18.0 (5 min), 2 CPUs"): a timing on a shared machine is only
 * read with it. Writes @p buf and returns it.
 */
const char *vt_machine_load(char *buf, size_t len);

/*
 * Runs `vswitchctl --ctl CTL --json CMD [ARG]`. Returns vswitchctl's exit
 * status (or -1) and, when @p reply is not NULL, the parsed JSON reply.
 */
int vt_vswitch_ctl(struct vt_vswitch *v, json_t **reply, const char *cmd, const char *arg);

struct vt_port_counters {
	bool found;
	bool up;
	uint64_t rx_packets, tx_packets, rx_dropped, tx_dropped, flooded;
	uint64_t onecopy; /* of tx_packets: copied straight from another VM's buffer */
};

/* Reads port @p name's counters (show ports). Returns 0 or -1. */
int vt_vswitch_port(struct vt_vswitch *v, const char *name, struct vt_port_counters *c);

/* Waits until port @p name's rx_packets reaches @p want (up to @p ms). */
int vt_vswitch_wait_rx(struct vt_vswitch *v, const char *name, uint64_t want, unsigned int ms);

/* Waits until port @p name's link is up (up to @p ms). */
int vt_vswitch_wait_up(struct vt_vswitch *v, const char *name, unsigned int ms);

/* ---- VMs played by testpmd (QEMU guests are app/test/test_vm.h) ---- */

struct vt_pmdvm {
	struct vt_proc proc;
	char name[32];
	char mac[18];
	char prefix[64];
	bool running;
};

/*
 * Starts testpmd as a VM on socket @p sock (server=1 when @p server: it
 * creates the socket and waits for the switch) with MAC @p mac, in rxonly
 * forwarding, pinned to CPU @p cpu. Waits for its prompt unless @p server.
 */
int vt_pmdvm_start(struct vt_pmdvm *vm, const char *name, const char *sock, const char *mac,
		   bool server, int cpu, char *why, size_t len);

/* The same with @p queues queue pairs (net_virtio_user queues=N, --rxq/--txq=N). */
int vt_pmdvm_start_queues(struct vt_pmdvm *vm, const char *name, const char *sock, const char *mac,
			  bool server, int cpu, unsigned int queues, char *why, size_t len);

/* Waits for the prompt (after a server=1 start, once the switch connected). */
int vt_pmdvm_wait_prompt(struct vt_pmdvm *vm, unsigned int ms);

/* Sends one testpmd command line. */
int vt_pmdvm_cmd(struct vt_pmdvm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "start": the VM polls (and counts) what it receives. */
int vt_pmdvm_start_rx(struct vt_pmdvm *vm);

/* "stop", waiting for its statistics block. */
int vt_pmdvm_stop_fwd(struct vt_pmdvm *vm);

/*
 * Sends @p bursts bursts of @p burst 64-byte frames to @p dst (txonly via
 * "start tx_first"), then stops. Returns 0 or -1.
 */
int vt_pmdvm_send(struct vt_pmdvm *vm, const char *dst, unsigned int bursts, unsigned int burst);

/* Reads port 0's RX-packets and TX-packets (show port stats 0). */
int vt_pmdvm_stats(struct vt_pmdvm *vm, uint64_t *rx, uint64_t *tx);

/*
 * Reads port 0's extended statistic @p name (show port xstats 0), e.g.
 * "rx_q1_good_packets". Returns 0 or -1.
 */
int vt_pmdvm_xstat(struct vt_pmdvm *vm, const char *name, uint64_t *value);

/* "clear port stats 0". */
int vt_pmdvm_clear(struct vt_pmdvm *vm);

/* Quits testpmd (kills it if it does not quit) and removes its files. */
void vt_pmdvm_stop(struct vt_pmdvm *vm);

/* Prints the VM's or the switch's output (on failures). */
void vt_pmdvm_dump(struct vt_pmdvm *vm);
void vt_vswitch_dump(struct vt_vswitch *v);

#endif /* VT_HARNESS_H */
