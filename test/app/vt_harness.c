/* SPDX-License-Identifier: BSD-3-Clause */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "vt_harness.h"

#ifndef VT_BUILD_ROOT
#error "VT_BUILD_ROOT must name the build directory"
#endif

const char *
vt_vm_port_spec(char *buf, size_t len, unsigned int idx, const char *sock, const char *extra)
{
	/* VM ports through drivers/net/vhost_user (before it: DPDK's net_vhost
	 * through the ethdev port type, "ethdev,devargs=net_vhost%u,iface=%s"). */
	(void)idx;
	snprintf(buf, len, "vhost-user,path=%s%s%s", sock, extra != NULL ? "," : "",
		 extra != NULL ? extra : "");
	return buf;
}

static const char *
vswitch_bin(void)
{
	const char *e = getenv("VSWITCH_BIN");

	return e != NULL ? e : VT_BUILD_ROOT "/app/vswitch/vswitch";
}

static const char *
vswitchctl_bin(void)
{
	const char *e = getenv("VSWITCHCTL_BIN");

	return e != NULL ? e : VT_BUILD_ROOT "/app/vswitchctl/vswitchctl";
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

bool
vt_interop_ready(char *why, size_t len)
{
	char buf[256];

	if (vt_testpmd_path(buf, sizeof(buf)) == NULL) {
		snprintf(why, len,
			 "dpdk-testpmd is not installed (scripts/setup.sh test installs dpdk-dev)");
		return false;
	}
	if (access(vswitch_bin(), X_OK) != 0 || access(vswitchctl_bin(), X_OK) != 0) {
		snprintf(why, len, "%s or vswitchctl is not built", vswitch_bin());
		return false;
	}
	if (getuid() != 0 && access("/var/run/dpdk", W_OK) != 0) {
		snprintf(why, len, "DPDK needs a writable /var/run/dpdk (run as root)");
		return false;
	}
	return true;
}

void
vt_remove_runtime_dir(const char *prefix)
{
	char dir[256];

	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	vt_rm_tree(dir);
}

/* ---- the switch ---- */

static int
start_switch(struct vt_vswitch *v, const char *lcores, bool hugepages, const char *const *ports,
	     const char *const *opts, char *why, size_t len)
{
	static unsigned int seq;
	const char *argv[96];
	int n = 0, rc;

	memset(v, 0, sizeof(*v));
	snprintf(v->prefix, sizeof(v->prefix), "switch-it%d-%u", (int)getpid(), seq++);
	vt_path(v->ctl, sizeof(v->ctl), v->prefix);
	strncat(v->ctl, ".ctl", sizeof(v->ctl) - strlen(v->ctl) - 1);
	argv[n++] = vswitch_bin();
	argv[n++] = "--lcores";
	argv[n++] = lcores != NULL ? lcores : "0@0,1@1";
	argv[n++] = "--no-pci";
	if (hugepages) {
		argv[n++] = "--single-file-segments";
	} else {
		argv[n++] = "--no-huge";
		argv[n++] = "-m";
		argv[n++] = "512";
	}
	argv[n++] = "--file-prefix";
	argv[n++] = v->prefix;
	argv[n++] = "--";
	argv[n++] = "--ctl";
	argv[n++] = v->ctl;
	argv[n++] = "--mbufs";
	argv[n++] = "8191";
	for (int i = 0; ports != NULL && ports[i] != NULL && n < 90; i++) {
		argv[n++] = "--port";
		argv[n++] = ports[i];
	}
	for (int i = 0; opts != NULL && opts[i] != NULL && n < 94; i++)
		argv[n++] = opts[i];
	argv[n] = NULL;
	/* The control thread (and DPDK's) on CPU 0; the worker on its lcore's CPU. */
	rc = vt_proc_start(&v->proc, argv, 0);
	if (rc != 0) {
		snprintf(why, len, "cannot start vswitch: %s", strerror(-rc));
		return -1;
	}
	v->running = true;
	rc = vt_proc_wait_output(&v->proc, "vswitch: ready", 20000);
	if (rc != 0) {
		snprintf(why, len, "vswitch did not get ready (%s)",
			 rc == -ECHILD ? "it exited" : "timeout");
		vt_vswitch_dump(v);
		vt_vswitch_stop(v, SIGKILL);
		return -1;
	}
	return 0;
}

int
vt_vswitch_start(struct vt_vswitch *v, const char *lcores, const char *const *ports,
		 const char *const *opts, char *why, size_t len)
{
	return start_switch(v, lcores, false, ports, opts, why, len);
}

int
vt_vswitch_start_hugepages(struct vt_vswitch *v, const char *const *ports, const char *const *opts,
			   char *why, size_t len)
{
	return start_switch(v, NULL, true, ports, opts, why, len);
}

int
vt_vswitch_stop(struct vt_vswitch *v, int sig)
{
	uint64_t end = vt_now_ms() + 15000;
	int rc;

	if (!v->running)
		return -1;
	/* Only a process still there: a reaped pid may belong to another by now. */
	if (vt_proc_running(&v->proc))
		kill(v->proc.pid, sig);
	while (vt_proc_running(&v->proc) && vt_now_ms() < end)
		sleep_ms(20);
	/* vt_proc_stop reaps it, or kills it when it hangs. */
	rc = vt_proc_stop(&v->proc, NULL, 100);
	v->running = false;
	vt_proc_cleanup(&v->proc);
	vt_remove_runtime_dir(v->prefix);
	if (!v->ctl_not_ours)
		unlink(v->ctl);
	return rc;
}

int
vt_vswitch_takeover(struct vt_vswitch *nw, struct vt_vswitch *old, const char *prefix,
		    const char *const *opts, char *why, size_t len)
{
	static unsigned int seq;
	const char *argv[64];
	int n = 0, rc;

	memset(nw, 0, sizeof(*nw));
	snprintf(nw->ctl, sizeof(nw->ctl), "%s", old->ctl);
	if (prefix != NULL)
		snprintf(nw->prefix, sizeof(nw->prefix), "%s", prefix);
	else
		snprintf(nw->prefix, sizeof(nw->prefix), "switch-tk%d-%u", (int)getpid(), seq++);
	nw->ctl_not_ours = true;
	argv[n++] = vswitch_bin();
	argv[n++] = "--lcores";
	argv[n++] = "0@0,1@1";
	argv[n++] = "--no-pci";
	argv[n++] = "--no-huge";
	argv[n++] = "-m";
	argv[n++] = "512";
	argv[n++] = "--file-prefix";
	argv[n++] = nw->prefix;
	argv[n++] = "--";
	argv[n++] = "--ctl";
	argv[n++] = nw->ctl;
	argv[n++] = "--mbufs";
	argv[n++] = "8191";
	for (int i = 0; opts != NULL && opts[i] != NULL && n < 60; i++)
		argv[n++] = opts[i];
	argv[n++] = "--takeover";
	argv[n] = NULL;
	rc = vt_proc_start(&nw->proc, argv, 0);
	if (rc != 0) {
		snprintf(why, len, "cannot start vswitch: %s", strerror(-rc));
		return -1;
	}
	nw->running = true;
	rc = vt_proc_wait_output(&nw->proc, "vswitch: ready", 30000);
	if (rc != 0) {
		snprintf(why, len, "the new vswitch did not take over (%s)",
			 rc == -ECHILD ? "it exited" : "timeout");
		return -1;
	}
	nw->ctl_not_ours = false;
	old->ctl_not_ours = true;
	return 0;
}

int
vt_vswitch_wait_exit(struct vt_vswitch *v, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;
	bool ended;
	int rc;

	if (!v->running)
		return -1;
	while (vt_proc_running(&v->proc) && vt_now_ms() < end)
		sleep_ms(10);
	ended = !vt_proc_running(&v->proc);
	if (!ended)
		kill(v->proc.pid, SIGKILL);
	rc = vt_proc_stop(&v->proc, NULL, 2000);
	v->running = false;
	vt_proc_cleanup(&v->proc);
	vt_remove_runtime_dir(v->prefix);
	if (!v->ctl_not_ours)
		unlink(v->ctl);
	return ended ? rc : -1;
}

const char *
vt_machine_load(char *buf, size_t len)
{
	double l1 = -1, l5 = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fscanf(f, "%lf %lf", &l1, &l5) != 2)
			l1 = -1;
		fclose(f);
	}
	if (l1 < 0)
		snprintf(buf, len, "load average unknown, %ld CPUs", sysconf(_SC_NPROCESSORS_ONLN));
	else
		snprintf(buf, len, "load average %.1f (1 min), %.1f (5 min), %ld CPUs", l1, l5,
			 sysconf(_SC_NPROCESSORS_ONLN));
	return buf;
}

void
vt_vswitch_kill(struct vt_vswitch *v)
{
	vt_vswitch_stop(v, SIGKILL);
}

void
vt_vswitch_dump(struct vt_vswitch *v)
{
	vt_proc_dump(&v->proc, "vswitch");
}

int
vt_vswitch_ctl(struct vt_vswitch *v, json_t **reply, const char *cmd, const char *arg)
{
	char line[1024], *out = NULL, err[128];
	size_t len = 0, cap = 0;
	FILE *f;
	int status;

	if (reply != NULL)
		*reply = NULL;
	snprintf(line, sizeof(line), "'%s' --ctl '%s' --json %s%s%s%s 2>/dev/null",
		 vswitchctl_bin(), v->ctl, cmd, arg != NULL ? " '" : "", arg != NULL ? arg : "",
		 arg != NULL ? "'" : "");
	f = popen(line, "r");
	if (f == NULL)
		return -1;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *b = realloc(out, cap + 65536);

			if (b == NULL)
				break;
			out = b;
			cap += 65536;
		}
		n = fread(out + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	status = pclose(f);
	if (out != NULL) {
		out[len] = '\0';
		if (reply != NULL && len > 0)
			*reply = vs_json_load(out, len, err, sizeof(err));
	}
	free(out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static uint64_t
u64_of(const json_t *o, const char *key)
{
	return vs_json_u64_of(o, key);
}

int
vt_vswitch_port(struct vt_vswitch *v, const char *name, struct vt_port_counters *c)
{
	const json_t *p;
	json_t *r;
	size_t i;

	memset(c, 0, sizeof(*c));
	if (vt_vswitch_ctl(v, &r, "show ports", NULL) != 0 || r == NULL) {
		json_decref(r);
		return -1;
	}
	json_array_foreach (json_object_get(r, "ports"), i, p) {
		const char *n = vs_json_str(p, "name");
		const char *state = vs_json_str(p, "state");

		if (n == NULL || strcmp(n, name) != 0)
			continue;
		c->found = true;
		c->up = state != NULL && strcmp(state, "up") == 0;
		c->rx_packets = u64_of(p, "rx_packets");
		c->tx_packets = u64_of(p, "tx_packets");
		c->rx_dropped = u64_of(p, "rx_dropped");
		c->tx_dropped = u64_of(p, "tx_dropped");
		c->flooded = u64_of(p, "flooded");
		c->onecopy = u64_of(p, "onecopy");
	}
	json_decref(r);
	return 0;
}

int
vt_vswitch_wait_rx(struct vt_vswitch *v, const char *name, uint64_t want, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;
	struct vt_port_counters c;

	do {
		if (vt_vswitch_port(v, name, &c) == 0 && c.rx_packets >= want)
			return 0;
		sleep_ms(50);
	} while (vt_now_ms() < end);
	return -1;
}

int
vt_vswitch_wait_up(struct vt_vswitch *v, const char *name, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;
	struct vt_port_counters c;

	do {
		if (vt_vswitch_port(v, name, &c) == 0 && c.up)
			return 0;
		sleep_ms(50);
	} while (vt_now_ms() < end);
	return -1;
}

/* ---- VMs ---- */

/* Occurrences of @p needle in the output so far. */
static unsigned int
count_output(struct vt_proc *p, const char *needle)
{
	char *out = vt_proc_output(p);
	unsigned int n = 0;

	for (const char *s = out; s != NULL && (s = strstr(s, needle)) != NULL; s += strlen(needle))
		n++;
	free(out);
	return n;
}

static int
wait_count(struct vt_proc *p, const char *needle, unsigned int want, unsigned int ms)
{
	uint64_t end = vt_now_ms() + ms;

	while (count_output(p, needle) < want) {
		if (vt_now_ms() >= end || !vt_proc_running(p))
			return -1;
		sleep_ms(20);
	}
	return 0;
}

int
vt_pmdvm_start(struct vt_pmdvm *vm, const char *name, const char *sock, const char *mac,
	       bool server, int cpu, char *why, size_t len)
{
	return vt_pmdvm_start_queues(vm, name, sock, mac, server, cpu, 1, why, len);
}

int
vt_pmdvm_start_queues(struct vt_pmdvm *vm, const char *name, const char *sock, const char *mac,
		      bool server, int cpu, unsigned int queues, char *why, size_t len)
{
	static unsigned int seq;
	char testpmd[256], vdev[512], lcores[32], rxq[32], txq[32];
	const char *argv[40];
	int n = 0, rc;

	memset(vm, 0, sizeof(*vm));
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	snprintf(vm->mac, sizeof(vm->mac), "%s", mac);
	snprintf(vm->prefix, sizeof(vm->prefix), "switch-vm%d-%u", (int)getpid(), seq++);
	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,mac=%s,queues=%u%s", sock, mac,
		 queues, server ? ",server=1" : "");
	snprintf(rxq, sizeof(rxq), "--rxq=%u", queues);
	snprintf(txq, sizeof(txq), "--txq=%u", queues);
	snprintf(lcores, sizeof(lcores), "0@%d,1@%d", cpu, cpu);
	vt_testpmd_path(testpmd, sizeof(testpmd));
	argv[n++] = testpmd;
	argv[n++] = "--lcores";
	argv[n++] = lcores;
	argv[n++] = "--no-pci";
	argv[n++] = "--no-huge";
	argv[n++] = "-m";
	argv[n++] = "128";
	argv[n++] = "--file-prefix";
	argv[n++] = vm->prefix;
	argv[n++] = "--log-level";
	argv[n++] = "*:warning";
	argv[n++] = "--vdev";
	argv[n++] = vdev;
	argv[n++] = "--";
	argv[n++] = "-i";
	argv[n++] = "--total-num-mbufs=2048";
	argv[n++] = "--forward-mode=rxonly";
	argv[n++] = "--disable-link-check";
	argv[n++] = "--txd=512";
	argv[n++] = "--rxd=512";
	argv[n++] = rxq;
	argv[n++] = txq;
	argv[n] = NULL;
	rc = vt_proc_start(&vm->proc, argv, cpu);
	if (rc != 0) {
		snprintf(why, len, "cannot start testpmd: %s", strerror(-rc));
		return -1;
	}
	vm->running = true;
	if (!server && vt_pmdvm_wait_prompt(vm, 20000) != 0) {
		snprintf(why, len, "VM %s (testpmd) did not start", name);
		vt_pmdvm_dump(vm);
		vt_pmdvm_stop(vm);
		return -1;
	}
	return 0;
}

int
vt_pmdvm_wait_prompt(struct vt_pmdvm *vm, unsigned int ms)
{
	return vt_proc_wait_output(&vm->proc, "testpmd> ", ms) == 0 ? 0 : -1;
}

int
vt_pmdvm_cmd(struct vt_pmdvm *vm, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	return vt_proc_write(&vm->proc, line);
}

int
vt_pmdvm_start_rx(struct vt_pmdvm *vm)
{
	unsigned int n = count_output(&vm->proc, "testpmd> ");

	if (vt_pmdvm_cmd(vm, "start") != 0)
		return -1;
	return wait_count(&vm->proc, "testpmd> ", n + 1, 10000);
}

int
vt_pmdvm_stop_fwd(struct vt_pmdvm *vm)
{
	unsigned int n = count_output(&vm->proc, "testpmd> ");

	if (vt_pmdvm_cmd(vm, "stop") != 0)
		return -1;
	return wait_count(&vm->proc, "testpmd> ", n + 1, 10000);
}

int
vt_pmdvm_send(struct vt_pmdvm *vm, const char *dst, unsigned int bursts, unsigned int burst)
{
	unsigned int n = count_output(&vm->proc, "testpmd> ");

	if (vt_pmdvm_cmd(vm, "set eth-peer 0 %s", dst) != 0 ||
	    vt_pmdvm_cmd(vm, "set burst %u", burst) ||
	    vt_pmdvm_cmd(vm, "start tx_first %u", bursts) != 0)
		return -1;
	if (wait_count(&vm->proc, "testpmd> ", n + 3, 10000) != 0)
		return -1;
	/* The tx_first bursts are sent before the prompt returns. */
	return vt_pmdvm_stop_fwd(vm);
}

int
vt_pmdvm_clear(struct vt_pmdvm *vm)
{
	unsigned int n = count_output(&vm->proc, "testpmd> ");

	if (vt_pmdvm_cmd(vm, "clear port stats 0") != 0)
		return -1;
	return wait_count(&vm->proc, "testpmd> ", n + 1, 10000);
}

int
vt_pmdvm_stats(struct vt_pmdvm *vm, uint64_t *rx, uint64_t *tx)
{
	/* "clear port stats" prints the tag too; each full block ends with Tx-bps. */
	const char *tag = "NIC statistics for port 0  ###";
	unsigned int n = count_output(&vm->proc, "Tx-bps");
	char *out, *s, *last = NULL;
	int rc = -1;

	if (vt_pmdvm_cmd(vm, "show port stats 0") != 0 ||
	    wait_count(&vm->proc, "Tx-bps", n + 1, 10000) != 0)
		return -1;
	out = vt_proc_output(&vm->proc);
	for (s = out; s != NULL && (s = strstr(s, tag)) != NULL; s += strlen(tag))
		last = s;
	if (last != NULL) {
		const char *r = strstr(last, "RX-packets:"), *t = strstr(last, "TX-packets:");
		unsigned long long a, b;

		if (r != NULL && t != NULL && sscanf(r, "RX-packets: %llu", &a) == 1 &&
		    sscanf(t, "TX-packets: %llu", &b) == 1) {
			*rx = a;
			*tx = b;
			rc = 0;
		}
	}
	free(out);
	return rc;
}

int
vt_pmdvm_xstat(struct vt_pmdvm *vm, const char *name, uint64_t *value)
{
	const char *tag = "NIC extended statistics for port 0";
	unsigned int n = count_output(&vm->proc, "testpmd> ");
	char *out, *s, *last = NULL, key[128];
	int rc = -1;

	if (vt_pmdvm_cmd(vm, "show port xstats 0") != 0 ||
	    wait_count(&vm->proc, "testpmd> ", n + 1, 10000) != 0)
		return -1;
	snprintf(key, sizeof(key), "\n%s: ", name);
	out = vt_proc_output(&vm->proc);
	for (s = out; s != NULL && (s = strstr(s, tag)) != NULL; s += strlen(tag))
		last = s;
	if (last != NULL && (s = strstr(last, key)) != NULL) {
		unsigned long long v;

		if (sscanf(s + strlen(key), "%llu", &v) == 1) {
			*value = v;
			rc = 0;
		}
	}
	free(out);
	return rc;
}

void
vt_pmdvm_stop(struct vt_pmdvm *vm)
{
	if (!vm->running)
		return;
	vt_proc_stop(&vm->proc, "quit\n", 5000);
	vt_proc_cleanup(&vm->proc);
	vt_remove_runtime_dir(vm->prefix);
	vm->running = false;
}

void
vt_pmdvm_dump(struct vt_pmdvm *vm)
{
	vt_proc_dump(&vm->proc, vm->name);
}

int
vt_vm_start_vhost_user_guest(struct vt_vm *vm, const char *name, const char *chardev,
			     const char *mac, const char *command)
{
	char dev[128];

	snprintf(dev, sizeof(dev), "virtio-net-pci,netdev=n0,mac=%s,vectors=0,romfile=", mac);
	const char *qemu[] = {"-chardev", chardev, "-netdev", "vhost-user,id=n0,chardev=c0",
			      "-device",  dev,	   NULL};
	struct vt_vm_config cfg = {
		.name = name,
		.modules = (const char *const[]){"virtio_pci", "virtio_net", NULL},
		.qemu_args = qemu,
		.shared_mem = true,
		.command = command,
		.timeout_s = 300,
	};

	return vt_vm_start(vm, &cfg);
}

int
vt_vm_start_two_guests(struct vt_vm *vm, const char *const *names, const char *mac_prefix,
		       const char *const *chardev, const char *const *cmd)
{
	for (int i = 0; i < 2; i++) {
		char mac[24];

		snprintf(mac, sizeof(mac), "%s:0%d", mac_prefix, i + 1);
		if (vt_vm_start_vhost_user_guest(&vm[i], names[i], chardev[i], mac, cmd[i]) != 0) {
			printf("FAIL: cannot start guest %s\n", names[i]);
			return -1;
		}
	}
	return 0;
}

void
vt_vm_two_guests_end(struct vt_vm *vm, const char *const *names, struct vt_vswitch *sw, int rc)
{
	if (rc == TEST_FAILED) {
		vt_vm_dump(&vm[0], names[0]);
		vt_vm_dump(&vm[1], names[1]);
		vt_vswitch_dump(sw);
	}
	vt_vm_cleanup(&vm[0]);
	vt_vm_cleanup(&vm[1]);
	if (sw->running)
		vt_vswitch_stop(sw, SIGTERM);
}

int
vt_vswitch_start_two_guest_ports(struct vt_vswitch *v, const char *prefix, char (*chardev)[420],
				 char *why, size_t len)
{
	char sock[2][200], spec[2][448];
	const char *specs[3];

	for (int i = 0; i < 2; i++) {
		char keys[16], file[64];

		snprintf(keys, sizeof(keys), "name=g%d", i + 1);
		snprintf(file, sizeof(file), "%sg%d.sock", prefix, i + 1);
		vt_path(sock[i], sizeof(sock[i]), file);
		vt_vm_port_spec(spec[i], sizeof(spec[i]), (unsigned int)i, sock[i], keys);
		specs[i] = spec[i];
		snprintf(chardev[i], 420, "socket,id=c0,path=%s", sock[i]);
	}
	specs[2] = NULL;
	return vt_vswitch_start(v, NULL, specs, NULL, why, len);
}

int
vt_tcpdump_lines(const char *path, const char *needle)
{
	char cmd[512], line[512];
	int n = 0, status;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "tcpdump -nn -e -r '%s' 2>&1", path);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	status = pclose(f);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? n : -1;
}
