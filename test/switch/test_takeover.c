/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The take-over protocol of lib/switch (vs_handover.h) in one process: an
 * engine serving its management socket on a loop thread hands everything to
 * a second engine (the configuration as it runs: ports added and removed at
 * run time, VLANs, counters, learned stations, the management listener).
 * Then a hostile "old switch" played by the test sends every kind of bad
 * answer and record: the new engine refuses each with an error, creates no
 * port, leaks no fd, and tells the old one it gave up.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_launch.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vs_fdb.h"
#include "vs_handover_priv.h"
#include "vs_mgmt.h"
#include "vs_switch.h"
#include "vt_switch.h"

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

/* The old switch's control thread: an EAL lcore, as in vswitch (the FDB needs one). */
static int
loop_lcore(void *arg)
{
	vs_evloop_run(arg);
	return 0;
}

static struct vs_switch *
engine(const char *name, struct vs_evloop *loop, char *why, size_t len)
{
	struct vs_switch_config cfg = {0};

	cfg.loop = loop;
	cfg.name = name;
	cfg.fdb_size = 256;
	cfg.nb_mbufs = 2047;
	cfg.manual = true;
	cfg.nb_workers = 1;
	return vs_switch_create(&cfg, why, len);
}

static int
port_view(struct vs_switch *sw, const char *name, struct vs_switch_port_view *v)
{
	int id = vs_switch_port_find(sw, name);

	return id < 0 ? id : vs_switch_port_view(sw, (uint16_t)id, v);
}

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 0xa};
static const uint8_t mac_b[6] = {2, 0, 0, 0, 0, 0xb};
static const uint8_t mac_s[6] = {2, 0, 0, 0, 0, 0x5};

/* The old engine: ports as an operator left them, traffic counted, stations learned. */
static int
old_switch_setup(struct vs_switch *old)
{
	struct vs_fdb_counters c = {0};
	char err[256];
	int a, b;

	a = vs_switch_add_port(old, "testq,name=a,vlan=10,gen=2", err, sizeof(err));
	b = vs_switch_add_port(old, "testq,name=b,trunk=10:20-22", err, sizeof(err));
	TEST_ASSERT(a >= 0 && b >= 0, "ports: %s", err);
	/* Run-time changes: one added and one removed after start. */
	TEST_ASSERT(vs_switch_add_port(old, "testq,name=gone", err, sizeof(err)) >= 0, "%s", err);
	TEST_ASSERT(vs_switch_add_port(old, "testq,name=late,queues=2", err, sizeof(err)) >= 0,
		    "%s", err);
	TEST_ASSERT_SUCCESS(vs_switch_del_port(old, "gone", err, sizeof(err)), "%s", err);
	for (int i = 0; i < 5; i++)
		vs_switch_poll(old, 0);
	vs_fdb_learn(vs_switch_fdb(old), vs_fdb_key(mac_a, 10), (uint16_t)a, &c);
	vs_fdb_learn(vs_switch_fdb(old), vs_fdb_key(mac_b, 21), (uint16_t)b, &c);
	/* set-port and fdb add: carried as they run. */
	TEST_ASSERT_SUCCESS(vs_switch_set_port(old, "late", 1, (const char *const[]){"admin=down"},
					       err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT_SUCCESS(vs_switch_set_port(old, "b", 1, (const char *const[]){"trunk=10:20-22"},
					       err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT_SUCCESS(vs_switch_fdb_add(old, mac_s, 22, (uint16_t)b, err, sizeof(err)), "%s",
			    err);
	return TEST_SUCCESS;
}

static int
is_static(uint64_t key, uint16_t port, uint32_t age, uint16_t flags, void *arg)
{
	(void)port;
	(void)age;
	return key == *(const uint64_t *)arg ? 1 + ((flags & VS_FDB_F_STATIC) != 0) : 0;
}

static int
test_switch_takeover_carries_config_and_stations(void)
{
	struct vs_evloop *lo = NULL, *ln = NULL;
	struct vs_switch *old = NULL, *nw = NULL;
	struct vs_mgmt *m = NULL;
	struct vs_switch_port_view va, vb, vl, na, nb, nl;
	struct vs_takeover_info info;
	struct sockaddr_un sa;
	socklen_t sl = sizeof(sa);
	char why[256], path[200];
	int fd, fds0;

	if (vt_eal_init("switch", why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	fds0 = count_fds();
	lo = vs_evloop_create();
	ln = vs_evloop_create();
	TEST_ASSERT(lo != NULL && ln != NULL, "loops");
	old = engine("tko", lo, why, sizeof(why));
	nw = engine("tkn", ln, why, sizeof(why));
	TEST_ASSERT(old != NULL && nw != NULL, "engines: %s", why);
	TEST_RUN(old_switch_setup(old));
	vt_path(path, sizeof(path), "tk.ctl");
	m = vs_mgmt_create(old, lo, path, why, sizeof(why));
	TEST_ASSERT_NOT_NULL(m, "%s", why);
	TEST_ASSERT(port_view(old, "a", &va) == 0 && port_view(old, "b", &vb) == 0 &&
			    port_view(old, "late", &vl) == 0,
		    "old views");
	TEST_ASSERT(va.counters.rx_packets > 0, "traffic counted before");
	TEST_ASSERT_SUCCESS(rte_eal_remote_launch(loop_lcore, lo, 1), "the old control thread");
	TEST_ASSERT_SUCCESS(vs_switch_takeover(nw, path, &info, why, sizeof(why)), "take-over: %s",
			    why);
	rte_eal_wait_lcore(1); /* the old loop stops once it handed over */
	fd = info.mgmt_fd;
	TEST_ASSERT(fd >= 0, "the management listener came over");
	TEST_ASSERT(vs_mgmt_handed_over(m), "the old management server knows");
	TEST_ASSERT_EQUAL(vs_switch_port_next(old, -1), -1, "the old engine has no port left");
	/* Ports with their ids, VLANs as running, counters continued. */
	TEST_ASSERT(port_view(nw, "a", &na) == 0 && port_view(nw, "b", &nb) == 0 &&
			    port_view(nw, "late", &nl) == 0,
		    "ports taken over");
	TEST_ASSERT(vs_switch_port_find(nw, "gone") < 0, "a removed port stays removed");
	TEST_ASSERT(na.id == va.id && nb.id == vb.id && nl.id == vl.id, "same ids");
	TEST_ASSERT(strcmp(na.vlan, "10") == 0 && strcmp(nb.vlan, "trunk 10,20-22") == 0,
		    "VLANs: %s, %s", na.vlan, nb.vlan);
	TEST_ASSERT(na.counters.rx_packets == va.counters.rx_packets &&
			    na.counters.rx_bytes == va.counters.rx_bytes &&
			    nb.counters.tx_packets == vb.counters.tx_packets,
		    "counters continue");
	TEST_ASSERT(nl.info.max_queues == 2, "the SPEC's keys: %u queues", nl.info.max_queues);
	TEST_ASSERT(!nl.admin_up && na.admin_up, "admin state as set-port left it");
	{
		uint64_t key = vs_fdb_key(mac_s, 22);

		TEST_ASSERT_EQUAL(vs_fdb_walk_flags(vs_switch_fdb(nw), is_static, &key), 2,
				  "the static entry stays static");
	}
	TEST_ASSERT(vs_fdb_lookup(vs_switch_fdb(nw), vs_fdb_key(mac_a, 10)) == na.id &&
			    vs_fdb_lookup(vs_switch_fdb(nw), vs_fdb_key(mac_b, 21)) == nb.id,
		    "stations carried over");
	TEST_ASSERT(info.reopened == 3 && info.resumed == 0 && info.fdb_entries >= 2 &&
			    info.old_pid == (uint32_t)getpid() && info.gap_ms >= 0,
		    "report: %u reopened, %u resumed, %u stations", info.reopened, info.resumed,
		    info.fdb_entries);
	/* The management socket: the same listener at the same path. */
	TEST_ASSERT(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 &&
			    strcmp(sa.sun_path, path) == 0,
		    "the listener");
	vs_mgmt_destroy(m);
	TEST_ASSERT(access(path, F_OK) == 0, "the socket file stays for the new switch");
	m = vs_mgmt_adopt(nw, ln, path, fd, why, sizeof(why));
	TEST_ASSERT_NOT_NULL(m, "adopt: %s", why);
	vs_mgmt_destroy(m);
	vs_switch_destroy(nw);
	vs_switch_destroy(old);
	vs_evloop_destroy(lo);
	vs_evloop_destroy(ln);
	TEST_ASSERT_EQUAL(count_fds(), fds0, "no fd leaked");
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_takeover_carries_config_and_stations, fast,
	      test_switch_takeover_carries_config_and_stations)

/* ---- a hostile old switch ---- */

enum bad {
	BAD_REFUSED,
	BAD_VERSION,
	BAD_LINE,
	BAD_MAGIC,
	BAD_TYPE,
	BAD_LENGTH,
	BAD_NAME,
	BAD_SPEC_NUL,
	BAD_PORT_TYPE,
	BAD_SAVED_NO_DRIVER,
	BAD_SAME_ID,
	BAD_SAME_NAME,
	BAD_VLAN,
	BAD_TRUNK_COUNT,
	BAD_FLAGS,
	BAD_FDB,
	BAD_END,
	BAD_TOO_MANY_FDS,
	BAD_CLOSE,
	BAD_DONE_FD,
	BAD_COUNT,
	BAD_CLOSED_FD,
	BAD_LATE_NO_DONE,
	BAD_IN_TIME_NO_DONE,
};

struct fake_old {
	int lfd;
	enum bad bad;
	pthread_t th;
	bool got_abort;
};

static void
port_rec(struct ho_port *p, uint16_t id, const char *name, const char *spec)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->spec_len = (uint32_t)strlen(spec);
	p->access = 1;
	memcpy(p + 1, spec, p->spec_len);
}

static void
send_port(int fd, uint64_t dl, struct ho_port *p)
{
	ho_send(fd, HO_PORT, p, (uint32_t)(sizeof(*p) + p->spec_len + p->blob_len), NULL, 0, dl);
}

/* What a fake old switch answers for case @p bad. */
static void
answer(struct fake_old *f, int fd)
{
	static const char ok[] = "{\"ok\":true,\"handover_version\":1,\"version\":\"x\","
				 "\"pid\":1,\"ports\":1}\n";
	union {
		struct ho_port p;
		uint8_t raw[sizeof(struct ho_port) + 64];
	} u;
	uint64_t dl = ho_now_ms() + 3000;
	struct ho_end end = {1, 1, ho_now_ns(), ho_now_ns() + 3000000000ull, "x"};
	uint32_t zero = 0;
	struct ho_hdr h;
	void *payload;
	int efd;

	switch (f->bad) {
	case BAD_REFUSED:
		ho_send_raw(fd, "{\"ok\":false,\"error\":\"no\"}\n", 26, dl);
		return;
	case BAD_VERSION:
		ho_send_raw(fd, "{\"ok\":true,\"handover_version\":2}\n", 33, dl);
		break;
	case BAD_LINE:
		ho_send_raw(fd, "hello\n", 6, dl);
		return;
	default:
		ho_send_raw(fd, ok, sizeof(ok) - 1, dl);
	}
	port_rec(&u.p, 0, "p0", "testq,name=p0");
	switch (f->bad) {
	case BAD_MAGIC: {
		struct ho_hdr x = {0x1234, VS_HANDOVER_VERSION, HO_PORT, 0, 0};

		ho_send_raw(fd, &x, sizeof(x), dl);
		break;
	}
	case BAD_TYPE:
		ho_send(fd, 77, NULL, 0, NULL, 0, dl);
		break;
	case BAD_LENGTH: {
		struct ho_hdr x = {HO_MAGIC, VS_HANDOVER_VERSION, HO_PORT, HO_MAX_PAYLOAD + 1, 0};

		ho_send_raw(fd, &x, sizeof(x), dl);
		break;
	}
	case BAD_NAME:
		snprintf(u.p.name, sizeof(u.p.name), "a b");
		send_port(fd, dl, &u.p);
		break;
	case BAD_SPEC_NUL:
		((char *)(&u.p + 1))[3] = '\0';
		send_port(fd, dl, &u.p);
		break;
	case BAD_PORT_TYPE:
		port_rec(&u.p, 0, "p0", "nosuch,name=p0");
		send_port(fd, dl, &u.p);
		break;
	case BAD_SAVED_NO_DRIVER:
		u.p.flags = HO_PORT_F_SAVED;
		send_port(fd, dl, &u.p);
		break;
	case BAD_SAME_ID:
	case BAD_SAME_NAME:
		send_port(fd, dl, &u.p);
		port_rec(&u.p, f->bad == BAD_SAME_ID ? 0 : 1, f->bad == BAD_SAME_ID ? "p1" : "p0",
			 f->bad == BAD_SAME_ID ? "testq,name=p1" : "testq,name=p0");
		send_port(fd, dl, &u.p);
		break;
	case BAD_VLAN:
		u.p.access = 5000;
		send_port(fd, dl, &u.p);
		break;
	case BAD_TRUNK_COUNT:
		u.p.access = 0;
		u.p.trunk[0] = 1ull << 10;
		u.p.nb_trunk = 2;
		send_port(fd, dl, &u.p);
		break;
	case BAD_FLAGS:
		u.p.flags = 0x80;
		send_port(fd, dl, &u.p);
		break;
	case BAD_FDB: {
		uint32_t n[5] = {3, 0, 0, 0, 0}; /* says 3 entries, holds 1 */

		send_port(fd, dl, &u.p);
		ho_send(fd, HO_FDB, n, sizeof(n), NULL, 0, dl);
		break;
	}
	case BAD_END:
	case BAD_DONE_FD:
	case BAD_LATE_NO_DONE:
	case BAD_CLOSED_FD:
	case BAD_IN_TIME_NO_DONE:
	case BAD_COUNT:
		if (f->bad == BAD_END)
			end.nports = 2;
		/* A commit that cannot arrive before this deadline needs a DONE. */
		if (f->bad == BAD_DONE_FD || f->bad == BAD_LATE_NO_DONE)
			end.deadline_ns = ho_now_ns();
		send_port(fd, dl, &u.p);
		ho_send(fd, HO_FDB, &zero, sizeof(zero), NULL, 0, dl);
		if (f->bad == BAD_COUNT) /* a second station table */
			ho_send(fd, HO_FDB, &zero, sizeof(zero), NULL, 0, dl);
		ho_send(fd, HO_END, &end, sizeof(end), NULL, 0, dl);
		break;
	case BAD_TOO_MANY_FDS: {
		struct ho_hdr x = {HO_MAGIC, VS_HANDOVER_VERSION, HO_PORT, 0,
				   VS_PORT_HANDOVER_MAX_FDS + 1};

		ho_send_raw(fd, &x, sizeof(x), dl);
		break;
	}
	case BAD_CLOSE:
	default:
		send_port(fd, dl, &u.p);
		return; /* and close */
	}
	/* The new switch commits (then DONE with an eventfd) or gives up. */
	if (ho_recv(fd, &h, &payload, 4096, NULL, 0, dl) == 0) {
		f->got_abort = h.type == HO_ABORT;
		if (h.type == HO_COMMIT && f->bad == BAD_DONE_FD) {
			/* A DONE with an fd it must not carry. */
			efd = eventfd(0, EFD_CLOEXEC);
			ho_send(fd, HO_DONE, NULL, 0, &efd, 1, dl);
			close(efd);
		}
		if (h.type == HO_COMMIT && f->bad == BAD_CLOSED_FD) {
			/* Committed: the new switch keeps what it loaded, makes its own socket. */
			efd = eventfd(0, EFD_CLOEXEC);
			ho_send(fd, HO_DONE, NULL, 0, NULL, 0, dl);
			ho_send(fd, HO_CLOSED, NULL, 0, &efd, 1, dl);
			close(efd);
		}
		free(payload);
	}
}

static void *
fake_old_main(void *arg)
{
	struct fake_old *f = arg;
	int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	char line[64];

	if (fd < 0)
		return NULL;
	if (ho_recv_line(fd, line, sizeof(line), ho_now_ms() + 3000) == 0 &&
	    strcmp(line, "takeover 1") == 0)
		answer(f, fd);
	close(fd);
	return NULL;
}

static int
test_switch_takeover_refuses_a_hostile_old_switch(void)
{
	static const struct {
		enum bad bad;
		int rc;
		bool abort; /* the fake old hears ABORT */
	} cases[] = {
		{BAD_REFUSED, -EPERM, false},
		{BAD_VERSION, -EPROTONOSUPPORT, false},
		{BAD_LINE, -EBADMSG, false},
		{BAD_MAGIC, -EBADMSG, true},
		{BAD_TYPE, -EBADMSG, true},
		{BAD_LENGTH, -EBADMSG, true},
		{BAD_NAME, -EBADMSG, true},
		{BAD_SPEC_NUL, -EBADMSG, true},
		{BAD_PORT_TYPE, -EINVAL, true},
		{BAD_SAVED_NO_DRIVER, -ENOTSUP, true},
		{BAD_SAME_ID, -EBADMSG, true},
		{BAD_SAME_NAME, -EBADMSG, true},
		{BAD_VLAN, -EBADMSG, true},
		{BAD_TRUNK_COUNT, -EBADMSG, true},
		{BAD_FLAGS, -EBADMSG, true},
		{BAD_FDB, -EBADMSG, true},
		{BAD_END, -EBADMSG, true},
		{BAD_TOO_MANY_FDS, -EBADMSG, true},
		{BAD_CLOSE, -ECONNRESET, false},
		{BAD_DONE_FD, -EBADMSG, false},
		{BAD_COUNT, -EBADMSG, true},
		/* After the commit the port is ours even without the listener. */
		{BAD_CLOSED_FD, 0, false},
		/* A late commit waits for DONE, and gives up without it ... */
		{BAD_LATE_NO_DONE, -ECONNRESET, false},
		/* ... one in time does not need it. */
		{BAD_IN_TIME_NO_DONE, 0, false},
	};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vs_evloop *loop;
	struct vs_switch *nw;
	char why[256], path[sizeof(sa.sun_path)];
	int fds0;

	if (vt_eal_init("switch", why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	loop = vs_evloop_create();
	nw = engine("tkh", loop, why, sizeof(why));
	TEST_ASSERT_NOT_NULL(nw, "%s", why);
	vt_path(path, sizeof(path), "tkh.ctl");
	memcpy(sa.sun_path, path, sizeof(sa.sun_path));
	fds0 = count_fds();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_old f = {.bad = cases[i].bad};
		struct vs_takeover_info info;
		int rc;

		unlink(path);
		f.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		TEST_ASSERT(f.lfd >= 0 && bind(f.lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
				    listen(f.lfd, 4) == 0,
			    "listen");
		TEST_ASSERT_SUCCESS(pthread_create(&f.th, NULL, fake_old_main, &f), "thread");
		why[0] = '\0';
		rc = vs_switch_takeover(nw, path, &info, why, sizeof(why));
		pthread_join(f.th, NULL);
		close(f.lfd);
		printf("case %d: %d (%s)\n", (int)cases[i].bad, rc, why);
		TEST_ASSERT_EQUAL(rc, cases[i].rc, "case %d: %s", (int)cases[i].bad, why);
		TEST_ASSERT(f.got_abort == cases[i].abort, "case %d: ABORT %s", (int)cases[i].bad,
			    f.got_abort ? "sent" : "not sent");
		if (rc == 0) {
			/* Committed: one port reopened, no listener (an eventfd came). */
			TEST_ASSERT(info.mgmt_fd == -1 && info.reopened == 1, "case %d: %d, %u",
				    (int)cases[i].bad, info.mgmt_fd, info.reopened);
			TEST_ASSERT_SUCCESS(vs_switch_del_port(nw, "p0", why, sizeof(why)), "%s",
					    why);
		}
		TEST_ASSERT_EQUAL(vs_switch_port_next(nw, -1), -1, "case %d: a port stayed",
				  (int)cases[i].bad);
		TEST_ASSERT_EQUAL(count_fds(), fds0, "case %d: an fd leaked", (int)cases[i].bad);
	}
	unlink(path);
	vs_switch_destroy(nw);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
REGISTER_TEST(switch_takeover_refuses_a_hostile_old_switch, fast,
	      test_switch_takeover_refuses_a_hostile_old_switch)
