/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk-testpmd with net_virtio_user ports, for the vhost-user port tests.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "vt_testpmd.h"

#define PROMPT "testpmd> "

bool
vt_testpmd_usable(char *why, size_t len)
{
	char buf[256];

	if (vt_testpmd_path(buf, sizeof(buf)) == NULL) {
		snprintf(why, len, "dpdk-testpmd is not installed (apt-get install dpdk)");
		return false;
	}
	return vt_hugepages_ok(256, why, len);
}

int
vt_testpmd_start(struct vt_testpmd *t, const char *tag, const struct vt_vdev *v, unsigned int n,
		 const char *const *extra, int cpu)
{
	static char vdev[16][512];
	char lcores[64], q[2][32];
	const char *argv[96];
	unsigned int a = 0;

	memset(t, 0, sizeof(*t));
	if (n == 0 || n > 16)
		return -EINVAL;
	snprintf(t->prefix, sizeof(t->prefix), "vhost-user-port-%s-%d", tag, (int)getpid());
	snprintf(lcores, sizeof(lcores), "0@%d,1@%d", cpu, cpu);
	argv[a++] = "dpdk-testpmd";
	argv[a++] = "--lcores";
	argv[a++] = lcores;
	argv[a++] = "--no-pci";
	argv[a++] = "--file-prefix";
	argv[a++] = t->prefix;
	argv[a++] = "-m";
	argv[a++] = "512";
	argv[a++] = "--single-file-segments";
	argv[a++] = "--log-level";
	argv[a++] = "pmd.net.virtio.*:notice";
	for (unsigned int i = 0; i < n; i++) {
		snprintf(vdev[i], sizeof(vdev[i]),
			 "net_virtio_user%u,path=%s,queues=%u,queue_size=256,packed_vq=%d,"
			 "mrg_rxbuf=%d,in_order=%d%s%s%s",
			 i, v[i].path, v[i].queues, v[i].packed, v[i].mrg_rxbuf, v[i].in_order,
			 v[i].server ? ",server=1" : "", v[i].mac != NULL ? ",mac=" : "",
			 v[i].mac != NULL ? v[i].mac : "");
		argv[a++] = "--vdev";
		argv[a++] = vdev[i];
	}
	snprintf(q[0], sizeof(q[0]), "--rxq=%u", v[0].queues);
	snprintf(q[1], sizeof(q[1]), "--txq=%u", v[0].queues);
	argv[a++] = "--";
	argv[a++] = "-i";
	argv[a++] = "--disable-link-check";
	argv[a++] = "--rxd=256";
	argv[a++] = "--txd=256";
	argv[a++] = q[0];
	argv[a++] = q[1];
	for (unsigned int i = 0;
	     extra != NULL && extra[i] != NULL && a < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[a++] = extra[i];
	argv[a] = NULL;
	if (vt_proc_start(&t->p, argv, -1) != 0)
		return -ECHILD;
	t->started = true;
	return 0;
}

static unsigned int
count_prompts(struct vt_testpmd *t)
{
	char *out = vt_proc_output(&t->p);
	unsigned int n = 0;

	for (const char *s = out; s != NULL && (s = strstr(s, PROMPT)) != NULL; s += strlen(PROMPT))
		n++;
	free(out);
	return n;
}

int
vt_testpmd_wait_ready(struct vt_testpmd *t, unsigned int ms)
{
	return vt_proc_wait_output(&t->p, PROMPT, ms);
}

int
vt_testpmd_cmd(struct vt_testpmd *t, const char *cmd, unsigned int ms)
{
	unsigned int before = count_prompts(t);
	uint64_t end = vt_now_ms() + ms;
	char line[256];

	snprintf(line, sizeof(line), "%s\n", cmd);
	if (vt_proc_write(&t->p, line) != 0)
		return -EPIPE;
	while (count_prompts(t) <= before) {
		if (!vt_proc_running(&t->p))
			return -ECHILD;
		if (vt_now_ms() > end)
			return -ETIMEDOUT;
		usleep(20000);
	}
	return 0;
}

static uint64_t
field(const char *s, const char *name)
{
	const char *p = strstr(s, name);

	return p != NULL ? strtoull(p + strlen(name), NULL, 10) : UINT64_MAX;
}

int
vt_testpmd_port_stats(struct vt_testpmd *t, unsigned int port, uint64_t *rx, uint64_t *rx_bytes,
		      uint64_t *tx, uint64_t *tx_bytes)
{
	char cmd[64], head[64];
	char *out, *last = NULL;
	int rc;

	snprintf(cmd, sizeof(cmd), "show port stats %u", port);
	rc = vt_testpmd_cmd(t, cmd, 10000);
	if (rc != 0)
		return rc;
	out = vt_proc_output(&t->p);
	if (out == NULL)
		return -ENOMEM;
	snprintf(head, sizeof(head), "NIC statistics for port %u ", port);
	for (char *s = out; (s = strstr(s, head)) != NULL; s++)
		last = s;
	rc = -ENOENT;
	if (last != NULL) {
		*rx = field(last, "RX-packets:");
		*rx_bytes = field(last, "RX-bytes:");
		*tx = field(last, "TX-packets:");
		*tx_bytes = field(last, "TX-bytes:");
		rc = *rx == UINT64_MAX || *tx == UINT64_MAX ? -EBADMSG : 0;
	}
	free(out);
	return rc;
}

int
vt_testpmd_stop(struct vt_testpmd *t)
{
	char cmd[256];
	int st;

	if (!t->started)
		return 0;
	st = vt_proc_stop(&t->p, "quit\n", 10000);
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", t->prefix);
	if (system(cmd) != 0)
		printf("cannot remove /var/run/dpdk/%s\n", t->prefix);
	vt_proc_cleanup(&t->p);
	t->started = false;
	return st;
}

void
vt_testpmd_dump(struct vt_testpmd *t)
{
	vt_proc_dump(&t->p, "testpmd");
}
