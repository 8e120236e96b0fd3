/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite vm: live migration of QEMU guests between ports of one vswitch,
 * with QEMU's own `migrate` (HMP over a Unix monitor, the destination QEMU
 * started with -incoming), while one guest streams data to the other.
 *
 * Guest A (10.0.0.1) sends 3 MiB of random data to guest B (10.0.0.2) over
 * TCP, which B reads slowly so that the stream lasts beyond both migrations
 * and unread data always waits in B's receive buffers, and A pings B 20
 * times a second all along. First B moves from a server-mode port to a
 * client-mode port (QEMU listening, chardev server=on), then A moves from a
 * client-mode port to a server-mode port; the new ports are added with
 * `vswitchctl add-port` as a management system would. B negotiates
 * VIRTIO_NET_F_GUEST_ANNOUNCE and announces itself; A has it off
 * (guest_announce=off), so QEMU sends VHOST_USER_SEND_RARP and the switch
 * injects the RARP.
 *
 * Checked: QEMU reports `completed` for both; the data B received has the
 * size and MD5 that A computed before sending (written by the switch into
 * B's buffers while B's memory was being copied: a page it wrote and did
 * not log would arrive stale); the stream was still running when each
 * migration ended; B's new port negotiated GUEST_ANNOUNCE and got no RARP
 * (QEMU leaves the announcement to the guest), A's did not and handed the
 * switch A's RARP; pings resumed, and how
 * many were lost is printed (with QEMU's total time and downtime).
 *
 * The switch runs in crash-safe mode (--state-dir), as doc/vswitch.md
 * recommends for production: its split rings hold the used index until a
 * poll's transaction commits, so the used entries and index it logs are
 * those of transactions (the fast suite's dirty-log tests cover the mode
 * without a state directory).
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "test_vm.h"
#include "vt_harness.h"

#define STREAM_BYTES (48u * 65536u)
/* Pings lost across both migrations that still count as "kept flowing":
 * 3 s at 20/s, on a loaded 2-CPU machine running TCG guests. */
#define MAX_LOST 60

#define GUEST_SETUP                                                                                \
	"echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "                                      \
	"echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; "                                  \
	"ip link set eth0 up && ip addr add %s/24 dev eth0 && sleep 1; "

/*
 * The guests' markers are written with "" inside (SEND""ING) so that the
 * command line vm.sh prints to the same log never matches them.
 */

/*
 * B: receive the stream, reading it slowly (16 KiB per 0.1 s at most, less
 * than a TCG guest sends), so that its socket queue stays full: at any
 * moment the last ~100 KiB that arrived sit unread in the receive buffers
 * the switch wrote, many of them written while B's memory was being copied. Then report the
 * checksum and size, and stay up for the pings.
 */
#define CMD_B                                                                                      \
	GUEST_SETUP "nc -l -p 5000 | while :; do "                                                 \
		    "n=$(dd bs=4k count=4 2>&1 >>/tmp/got | grep -c '^0+0 records in'); "          \
		    "[ \"$n\" = 1 ] && break; sleep 0.1; done; "                                   \
		    "echo RE\"\"CEIVED $(md5sum < /tmp/got | cut -d' ' -f1) $(wc -c < /tmp/got); " \
		    "sleep 8"

/*
 * A: make the data, wait for B, ping it at 20/s in the background, send the
 * data as fast as B takes it, then report the pings: totals and every gap
 * in the replies' sequence numbers.
 */
#define CMD_A                                                                                      \
	GUEST_SETUP                                                                                \
	"dd if=/dev/urandom of=/tmp/data bs=64k count=48 2>/dev/null; "                            \
	"echo SENT\"\"-SUM $(md5sum < /tmp/data | cut -d' ' -f1) $(wc -c < /tmp/data); "           \
	"i=0; while [ $i -lt 120 ] && ! ping -c 1 -W 1 10.0.0.2 >/dev/null; do i=$((i+1)); done; " \
	"ping -i 0.05 10.0.0.2 > /tmp/ping 2>&1 & p=$!; sleep 1; echo SEND\"\"ING; "               \
	"timeout 300 nc 10.0.0.2 5000 < /tmp/data; echo STREAM\"\"-END rc=$?; "                    \
	"sleep 2; kill -INT $p; wait $p; grep -E 'transmitted|received' /tmp/ping | tail -2; "     \
	"awk -F'seq=' '/seq=/ { split($2, a, \" \"); s = a[1] + 0; "                               \
	"if (n++ && s != last + 1) print \"GAP\", last + 1, s - 1; last = s }' /tmp/ping"

struct guest {
	const char *name; /* also the port name on the first port */
	const char *ip;
	const char *mac;
	bool announce;	   /* VIRTIO_NET_F_GUEST_ANNOUNCE */
	char sock[2][200]; /* vhost-user socket of each port */
	char mon[2][200];  /* QEMU monitor of each QEMU */
	char incoming[200];
	char cmd[2048];
	struct vt_vm vm[2]; /* source, destination */
};

struct mig_result {
	unsigned long total_ms, downtime_ms, setup_ms;
};

static int
start_qemu(struct guest *g, int which, bool qemu_server)
{
	char chardev[300], dev[160], mon[240], inc[240];
	const char *qemu[12];
	int n = 0;

	snprintf(chardev, sizeof(chardev), "socket,id=c0,path=%s%s", g->sock[which],
		 qemu_server ? ",server=on,wait=off" : "");
	snprintf(dev, sizeof(dev),
		 "virtio-net-pci,netdev=n0,mac=%s,vectors=0,romfile=,guest_announce=%s", g->mac,
		 g->announce ? "on" : "off");
	snprintf(mon, sizeof(mon), "unix:%s,server=on,wait=off", g->mon[which]);
	snprintf(inc, sizeof(inc), "unix:%s", g->incoming);
	qemu[n++] = "-chardev";
	qemu[n++] = chardev;
	qemu[n++] = "-netdev";
	qemu[n++] = "vhost-user,id=n0,chardev=c0";
	qemu[n++] = "-device";
	qemu[n++] = dev;
	qemu[n++] = "-monitor";
	qemu[n++] = mon;
	if (which == 1) {
		qemu[n++] = "-incoming";
		qemu[n++] = inc;
	}
	qemu[n] = NULL;
	struct vt_vm_config cfg = {
		.name = g->name,
		.modules = (const char *const[]){"virtio_pci", "virtio_net", NULL},
		.qemu_args = qemu,
		.shared_mem = true,
		.command = g->cmd,
		.timeout_s = 400,
	};
	return vt_vm_start(&g->vm[which], &cfg);
}

/* Waits for @p path to appear while @p vm runs. */
static bool
wait_path(struct vt_vm *vm, const char *path, unsigned int ms)
{
	struct stat st;
	uint64_t end = vt_now_ms() + ms;

	while (vt_now_ms() < end && vt_proc_running(&vm->proc)) {
		if (stat(path, &st) == 0)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

static unsigned long
field(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p != NULL ? strtoul(p + strlen(key), NULL, 10) : 0;
}

/*
 * Readies guest @p g's destination: its new port (@p new_client: the port
 * connects to QEMU's socket; else QEMU connects to the port), added with
 * `vswitchctl add-port` as a management system would, and a QEMU with the
 * same command line plus -incoming, listening for the migration.
 */
static int
prepare_destination(struct vt_vswitch *sw, struct guest *g, const char *port_name, bool new_client)
{
	char spec[400];

	snprintf(spec, sizeof(spec), "vhost-user,path=%s,name=%s%s", g->sock[1], port_name,
		 new_client ? ",client=1" : "");
	if (vt_vswitch_ctl(sw, NULL, "add-port", spec) != 0) {
		printf("FAIL: add-port %s\n", spec);
		return TEST_FAILED;
	}
	if (start_qemu(g, 1, new_client) != 0) {
		printf("FAIL: cannot start the destination QEMU of %s\n", g->name);
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

/* `migrate` on the source's monitor, then `info migrate` until it is done. */
static int
migrate(struct guest *g, struct mig_result *res)
{
	char cmd[300], out[4096];
	uint64_t end;
	int rc;

	if (!wait_path(&g->vm[1], g->incoming, 120 * 1000)) {
		printf("FAIL: %s: the destination QEMU does not listen for the migration\n",
		       g->name);
		return TEST_FAILED;
	}
	snprintf(cmd, sizeof(cmd), "migrate -d unix:%s", g->incoming);
	rc = vt_qemu_hmp(g->mon[0], cmd, out, sizeof(out), 10000);
	if (rc != 0 || strstr(out, "rror") != NULL) {
		printf("FAIL: %s: %s: %s %s\n", g->name, cmd, rc ? strerror(-rc) : "", out);
		return TEST_FAILED;
	}
	end = vt_now_ms() + 120 * 1000;
	for (;;) {
		rc = vt_qemu_hmp(g->mon[0], "info migrate", out, sizeof(out), 10000);
		if (rc != 0) {
			printf("FAIL: %s: info migrate: %s\n", g->name, strerror(-rc));
			return TEST_FAILED;
		}
		if (strstr(out, "Migration status: completed") != NULL)
			break;
		if (strstr(out, "Migration status: failed") != NULL ||
		    strstr(out, "Migration status: cancelled") != NULL || vt_now_ms() > end) {
			printf("FAIL: %s: migration did not complete:\n%s\n", g->name, out);
			return TEST_FAILED;
		}
		usleep(50 * 1000);
	}
	res->total_ms = field(out, "total time: ");
	res->downtime_ms = field(out, "downtime: ");
	res->setup_ms = field(out, "setup: ");
	/* The source stays paused after a completed migration: end it. */
	vt_qemu_hmp(g->mon[0], "quit", out, sizeof(out), 2000);
	return TEST_SUCCESS;
}

/* The line after @p key in @p text, copied into @p buf. */
static bool
line_after(const char *text, const char *key, char *buf, size_t len)
{
	const char *p = text != NULL ? strstr(text, key) : NULL;
	size_t n;

	if (p == NULL)
		return false;
	p += strlen(key);
	n = strcspn(p, "\r\n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

static bool
stream_over(struct guest *a, int which)
{
	return vt_proc_output_has(&a->vm[which].proc, "STREAM-END rc=");
}

/* Port @p name's detail in `show ports` into @p buf; false when not found. */
static bool
port_detail(struct vt_vswitch *sw, const char *name, char *buf, size_t len)
{
	const json_t *p;
	json_t *r = NULL;
	bool found = false;
	size_t i;

	if (vt_vswitch_ctl(sw, &r, "show ports", NULL) != 0 || r == NULL) {
		json_decref(r);
		return false;
	}
	json_array_foreach (json_object_get(r, "ports"), i, p) {
		const char *n = vs_json_str(p, "name"), *d = vs_json_str(p, "detail");

		if (n != NULL && strcmp(n, name) == 0 && d != NULL) {
			snprintf(buf, len, "%s", d);
			found = true;
		}
	}
	json_decref(r);
	return found;
}

/* Whether port @p name handed the switch a RARP frame (show ports: its detail). */
static bool
rarp_injected(struct vt_vswitch *sw, const char *name)
{
	char d[256];

	if (!port_detail(sw, name, d, sizeof(d)))
		return false;
	printf("port %s: %s\n", name, d);
	return strstr(d, " RARP injected") != NULL;
}

/*
 * Right after guest @p g's migration, its new port @p name is connected
 * with GUEST_ANNOUNCE negotiated exactly when the guest has it on: QEMU
 * then leaves the announcement to the guest (no SEND_RARP), else it asks
 * the port for the RARP.
 */
static int
check_announce(struct vt_vswitch *sw, const struct guest *g, const char *name)
{
	const uint64_t ga = 1ULL << 21; /* VIRTIO_NET_F_GUEST_ANNOUNCE */
	uint64_t features = 0, end = vt_now_ms() + 20 * 1000;
	char d[256] = "";
	const char *f;

	/* The destination starts the device once it has loaded the state,
	 * which may come after the source reports completed. */
	while (features == 0 && vt_now_ms() < end) {
		if (port_detail(sw, name, d, sizeof(d)) && strstr(d, ", connected") != NULL &&
		    (f = strstr(d, "features 0x")) != NULL)
			features = strtoull(f + strlen("features 0x"), NULL, 16);
		if (features == 0)
			usleep(50 * 1000);
	}
	if (features == 0) {
		printf("FAIL: port %s is not in use after the migration: %s\n", name, d);
		return TEST_FAILED;
	}
	printf("port %s after the migration: %s\n", name, d);
	if (((features & ga) != 0) != g->announce) {
		printf("FAIL: %s: GUEST_ANNOUNCE %s on port %s (guest_announce=%s)\n", g->name,
		       features & ga ? "negotiated" : "not negotiated", name,
		       g->announce ? "on" : "off");
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

static int
check_results(struct vt_vswitch *sw, struct guest *a, struct guest *b)
{
	char *ta = vt_proc_output(&a->vm[1].proc), *tb = vt_proc_output(&b->vm[1].proc);
	char *ta0 = vt_proc_output(&a->vm[0].proc);
	char sent[128] = "", got[128] = "", rc_line[32] = "";
	unsigned long tx = 0, rx = 0, lost, gaps = 0;
	const char *p;
	int rc = TEST_FAILED;

	if (ta0 == NULL || ta == NULL || tb == NULL)
		goto out;
	if (!line_after(ta0, "SENT-SUM ", sent, sizeof(sent)) ||
	    !line_after(tb, "RECEIVED ", got, sizeof(got)) ||
	    !line_after(ta, "STREAM-END rc=", rc_line, sizeof(rc_line))) {
		printf("FAIL: the guests did not report the stream (sent '%s', received '%s')\n",
		       sent, got);
		goto out;
	}
	printf("stream: sent %s, received %s (md5 and bytes)\n", sent, got);
	if (strcmp(rc_line, "0") != 0 || strcmp(sent, got) != 0 ||
	    strtoul(strchr(sent, ' ') ? strchr(sent, ' ') + 1 : "0", NULL, 10) != STREAM_BYTES) {
		printf("FAIL: the data B received differs from what A sent (nc rc %s)\n", rc_line);
		goto out;
	}
	p = strstr(ta, " packets transmitted, ");
	if (p != NULL) {
		while (p > ta && p[-1] >= '0' && p[-1] <= '9')
			p--;
		tx = strtoul(p, NULL, 10);
		rx = field(p, " packets transmitted, ");
	}
	/* Lost in the middle: the gaps between answered sequence numbers (the
	 * last request or two may be in flight when ping is stopped). */
	for (p = strstr(ta, "GAP "); p != NULL; p = strstr(p + 4, "GAP ")) {
		unsigned long from, to;

		if (sscanf(p, "GAP %lu %lu", &from, &to) == 2 && to >= from) {
			gaps += to - from + 1;
			printf("  no reply to seq %lu..%lu (%lu ms)\n", from, to,
			       (to - from + 1) * 50);
		}
	}
	lost = tx > rx ? tx - rx : 0;
	printf("pings at 20/s: %lu sent, %lu answered; %lu lost across the migrations\n", tx, rx,
	       gaps);
	if (tx < 100 || lost > MAX_LOST || gaps > MAX_LOST) {
		printf("FAIL: pings did not keep flowing (%lu of %lu unanswered, at most %d "
		       "allowed)\n",
		       lost, tx, MAX_LOST);
		goto out;
	}
	if (!vt_proc_output_has(&sw->proc, "RARP for 52:54:00:00:00:01") ||
	    !rarp_injected(sw, "mA2")) {
		printf("FAIL: no RARP went into the switch for A (guest_announce=off: QEMU sends "
		       "SEND_RARP)\n");
		goto out;
	}
	if (vt_proc_output_has(&sw->proc, "RARP for 52:54:00:00:00:02") ||
	    rarp_injected(sw, "mB2")) {
		printf("FAIL: a RARP for B, which announces itself (GUEST_ANNOUNCE)\n");
		goto out;
	}
	rc = TEST_SUCCESS;
out:
	free(ta);
	free(ta0);
	free(tb);
	return rc;
}

/* Crash-safe mode ran: a worker's journal is in @p dir. */
static bool
has_journal(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	while (d != NULL && !found && (e = readdir(d)) != NULL)
		found = strncmp(e->d_name, "vu-journal-", 11) == 0;
	if (d != NULL)
		closedir(d);
	return found;
}

static int
test_vm_migrate(void)
{
	struct guest g[2] = {
		{.name = "mA", .ip = "10.0.0.1", .mac = "52:54:00:00:00:01", .announce = false},
		{.name = "mB", .ip = "10.0.0.2", .mac = "52:54:00:00:00:02", .announce = true},
	};
	struct guest *a = &g[0], *b = &g[1];
	char spec[2][300], why[256], state[200];
	const char *specs[3], *opts[3] = {"--state-dir", state, NULL};
	struct vt_vswitch sw;
	struct mig_result res[2];
	uint64_t t0 = vt_now_ms(), t_send;
	int st[2], rc = TEST_FAILED;

	memset(&sw, 0, sizeof(sw));
	if (!vt_interop_ready(why, sizeof(why)))
		TEST_SKIP("%s", why);
	for (int i = 0; i < 2; i++) {
		char name[32];

		for (int k = 0; k < 2; k++) {
			snprintf(name, sizeof(name), "%s%d.sock", g[i].name, k);
			vt_path(g[i].sock[k], sizeof(g[i].sock[k]), name);
			snprintf(name, sizeof(name), "%s%d.mon", g[i].name, k);
			vt_path(g[i].mon[k], sizeof(g[i].mon[k]), name);
		}
		snprintf(name, sizeof(name), "%s.mig", g[i].name);
		vt_path(g[i].incoming, sizeof(g[i].incoming), name);
	}
	snprintf(a->cmd, sizeof(a->cmd), CMD_A, a->ip);
	snprintf(b->cmd, sizeof(b->cmd), CMD_B, b->ip);
	/* A starts on a client-mode port (its QEMU listens), B on a server-mode one. */
	snprintf(spec[0], sizeof(spec[0]), "vhost-user,path=%s,name=mA,client=1", a->sock[0]);
	snprintf(spec[1], sizeof(spec[1]), "vhost-user,path=%s,name=mB", b->sock[0]);
	specs[0] = spec[0];
	specs[1] = spec[1];
	specs[2] = NULL;
	vt_path(state, sizeof(state), "mig-state");
	vt_rm_tree(state);
	TEST_ASSERT_SUCCESS(mkdir(state, 0700), "mkdir %s", state);
	if (vt_vswitch_start(&sw, NULL, specs, opts, why, sizeof(why)) != 0) {
		printf("FAIL: %s\n", why);
		return TEST_FAILED;
	}
	if (start_qemu(b, 0, false) != 0 || start_qemu(a, 0, true) != 0) {
		printf("FAIL: cannot start the guests\n");
		goto out;
	}
	/* The destinations wait from the start, so the migrations follow each
	 * other closely while the stream runs. B moves from a server-mode port
	 * to a client-mode one, A the other way. */
	if (prepare_destination(&sw, b, "mB2", true) != TEST_SUCCESS ||
	    prepare_destination(&sw, a, "mA2", false) != TEST_SUCCESS)
		goto out;
	if (vt_proc_wait_output(&a->vm[0].proc, "SENDING", 200 * 1000) != 0) {
		st[0] = vt_vm_wait(&a->vm[0]);
		if (st[0] == -ENOTSUP) {
			printf("SKIP: guest harness: %s\n", a->vm[0].why);
			rc = TEST_SKIPPED;
			goto out;
		}
		printf("FAIL: A never started sending\n");
		goto out;
	}
	t_send = vt_now_ms();
	printf("A sends after %.1f s\n", (double)(t_send - t0) / 1000);
	for (int i = 1; i >= 0; i--) {
		if (migrate(&g[i], &res[i]) != TEST_SUCCESS)
			goto out;
		printf("%s migrated to port %s %.1f s into the stream: total %lu ms, downtime %lu "
		       "ms, setup %lu ms\n",
		       g[i].name, i ? "mB2 (client mode)" : "mA2 (server mode)",
		       (double)(vt_now_ms() - t_send) / 1000, res[i].total_ms, res[i].downtime_ms,
		       res[i].setup_ms);
		if (check_announce(&sw, &g[i], i ? "mB2" : "mA2") != TEST_SUCCESS)
			goto out;
		/* A's source console ends with its migration: the stream must go on. */
		if (stream_over(a, 0)) {
			printf("FAIL: the stream ended before %s's migration did: it proves "
			       "nothing\n",
			       g[i].name);
			goto out;
		}
	}
	st[0] = vt_vm_wait(&a->vm[1]);
	st[1] = vt_vm_wait(&b->vm[1]);
	printf("guests done %.1f s after the start\n", (double)(vt_now_ms() - t0) / 1000);
	if (st[0] != 0 || st[1] != 0) {
		printf("FAIL: guests after migration: A %d (%s), B %d (%s)\n", st[0], a->vm[1].why,
		       st[1], b->vm[1].why);
		goto out;
	}
	rc = check_results(&sw, a, b);
	if (rc == TEST_SUCCESS && !has_journal(state)) {
		printf("FAIL: no transaction journal in %s: the switch was not crash-safe\n",
		       state);
		rc = TEST_FAILED;
	}
out:
	if (rc == TEST_FAILED) {
		for (int i = 0; i < 2; i++)
			for (int k = 0; k < 2; k++)
				if (g[i].vm[k].started)
					vt_vm_dump(&g[i].vm[k], k == 0	 ? g[i].name
								: i == 0 ? "mA'"
									 : "mB'");
		vt_vswitch_dump(&sw);
	}
	for (int i = 0; i < 2; i++) {
		vt_vm_cleanup(&g[i].vm[0]);
		vt_vm_cleanup(&g[i].vm[1]);
		for (int k = 0; k < 2; k++)
			unlink(g[i].mon[k]);
		unlink(g[i].incoming);
	}
	vt_vswitch_stop(&sw, SIGTERM);
	vt_rm_tree(state);
	return rc;
}
/* clang-format off */
REGISTER_TEST(vm_guests_migrate_between_switch_ports_with_intact_data, vm, test_vm_migrate)
/* clang-format on */
