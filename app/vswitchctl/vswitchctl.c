/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vswitchctl: talks to a running vswitch over its management socket.
 *
 *   vswitchctl [--ctl PATH] [--json] [--timeout SEC] COMMAND [ARG...]
 *
 * Sends the words as {"command": WORD, "args": [WORD...]} (the switch finds
 * the command in them, vs_mgmt.h), prints tables by default and the
 * switch's JSON reply with --json.
 * Exit status: 0 done, 1 the switch refused the command, 2 bad usage,
 * 3 no switch to talk to (or it did not answer).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vs_json.h"

#define EXIT_REFUSED   1
#define EXIT_USAGE     2
#define EXIT_NO_SWITCH 3
#define MAX_REPLY      (256u << 20)

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: vswitchctl [--ctl PATH] [--json] [--timeout SEC] COMMAND [ARG...]\n"
		"\n"
		"commands (`vswitchctl help` lists the running switch's):\n"
		"  show ports                  ports: type, state, queues, VLAN, packets, drops\n"
		"  show port NAME              one port: drops by reason, queues, features, rings\n"
		"  show fdb                    stations: MAC, VLAN, port, age\n"
		"  show lcores                 workers: the queues each polls, busy/idle cycles\n"
		"  show mempool                mbuf pools: size, in use, free (a leak shows here)\n"
		"  show log                    log types and levels\n"
		"  add-port SPEC               add a port (TYPE,key=value,...)\n"
		"  del-port NAME               remove a port\n"
		"  set-port NAME key=value...  vlan=ID, trunk=LIST, admin=up|down, live\n"
		"  clear counters [PORT]       zero a port's counters, or every port's\n"
		"  fdb add MAC [vlan V] PORT   a static station\n"
		"  fdb del MAC [vlan V]        remove a station\n"
		"  fdb flush [port P] [vlan V] forget learned stations\n"
		"  set fdb-aging SECONDS       aging time (0: never)\n"
		"  capture PORT FILE [dir=rx|tx|both] [count=N] [snaplen=N]\n"
		"                              write a port's traffic to a pcapng file\n"
		"  capture stop PORT           end a capture\n"
		"  show rxqs                   rx queues: worker, packets, busy cycles "
		"(placement)\n"
		"  rebalance                   place every rx queue by its measured busy cycles\n"
		"  rxq-move P:Q@W              move rx queue Q of port P to worker W\n"
		"  auto-lb [SET]               automatic placement: on|off, interval=SEC,\n"
		"                              threshold=PCT, improvement=PCT (comma separated)\n"
		"  log level PATTERN LEVEL     log level of the types a glob matches\n"
		"  help                        the switch's command list\n"
		"\n"
		"--ctl PATH     the switch's management socket (default\n"
		"               $VSWITCH_RUNDIR/vswitch.ctl, else /run/vswitch/vswitch.ctl)\n"
		"--json         print the reply as JSON\n"
		"--timeout SEC  wait at most SEC seconds for the reply (default 30)\n");
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sends @p req, returns the reply line (malloc'd) or NULL with a reason. */
static char *
transact(const char *path, const char *req, unsigned int timeout_s, char *why, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t deadline = now_ms() + (uint64_t)timeout_s * 1000;
	size_t cap = 4096, got = 0, sent = 0, rlen = strlen(req), plen = strlen(path);
	char *buf = NULL;
	int fd;

	if (plen >= sizeof(sa.sun_path)) {
		snprintf(why, len, "%s: path too long", path);
		return NULL;
	}
	memcpy(sa.sun_path, path, plen + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(why, len, "cannot connect to %s: %s (is vswitch running?)", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (sent < rlen) {
		ssize_t n = send(fd, req + sent, rlen - sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, len, "send: %s", strerror(errno));
			goto fail;
		}
		sent += (size_t)n;
	}
	buf = malloc(cap);
	if (buf == NULL)
		goto oom;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ms();
		ssize_t n;
		char *nl;

		if (now >= deadline) {
			snprintf(why, len, "no reply within %u s", timeout_s);
			goto fail;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		if (got + 1 >= cap) {
			char *b;

			if (cap >= MAX_REPLY) {
				snprintf(why, len, "reply larger than %u bytes", MAX_REPLY);
				goto fail;
			}
			b = realloc(buf, cap * 2);
			if (b == NULL)
				goto oom;
			buf = b;
			cap *= 2;
		}
		n = recv(fd, buf + got, cap - got - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, len, "the switch closed the connection without a reply");
			goto fail;
		}
		got += (size_t)n;
		buf[got] = '\0';
		nl = memchr(buf, '\n', got);
		if (nl != NULL) {
			*nl = '\0';
			close(fd);
			return buf;
		}
	}
oom:
	snprintf(why, len, "out of memory");
fail:
	free(buf);
	close(fd);
	return NULL;
}

/* ---- tables ---- */

#define MAX_COLS 12

struct table {
	unsigned int ncols;
	const char *head[MAX_COLS];
	bool right[MAX_COLS];
	char **cells; /* rows * ncols */
	size_t rows;
	size_t cap;
};

static void
table_add(struct table *t, char *const *cells)
{
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));

		if (c == NULL)
			return;
		t->cells = c;
		t->cap = cap;
	}
	for (unsigned int i = 0; i < t->ncols; i++)
		t->cells[t->rows * t->ncols + i] = strdup(cells[i] != NULL ? cells[i] : "");
	t->rows++;
}

static void
table_print(struct table *t)
{
	size_t w[MAX_COLS];

	for (unsigned int c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->head[c]);
		for (size_t r = 0; r < t->rows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t l = s != NULL ? strlen(s) : 0;

			if (l > w[c])
				w[c] = l;
		}
	}
	for (size_t r = 0; r <= t->rows; r++) {
		for (unsigned int c = 0; c < t->ncols; c++) {
			const char *s = r == 0 ? t->head[c] : t->cells[(r - 1) * t->ncols + c];

			if (s == NULL)
				s = "";
			if (t->right[c])
				printf("%s%*s", c ? "  " : "", (int)w[c], s);
			else if (c + 1 == t->ncols)
				printf("%s%s", c ? "  " : "", s);
			else
				printf("%s%-*s", c ? "  " : "", (int)w[c], s);
		}
		printf("\n");
	}
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

static const char *
str_of(const json_t *o, const char *key)
{
	const char *s = vs_json_str(o, key);

	return s != NULL ? s : "";
}

static uint64_t
u64_of(const json_t *o, const char *key)
{
	return vs_json_u64_of(o, key);
}

static char *
num(char *buf, uint64_t v)
{
	snprintf(buf, 24, "%" PRIu64, v);
	return buf;
}

static void
show_ports(const json_t *r)
{
	struct table t = {.ncols = 11,
			  .head = {"NAME", "TYPE", "STATE", "QUEUES", "VLAN", "RX-PKTS", "RX-BYTES",
				   "RX-DROP", "TX-PKTS", "TX-BYTES", "TX-DROP"},
			  .right = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}};
	const json_t *p;
	size_t i;

	json_array_foreach (json_object_get(r, "ports"), i, p) {
		char q[32], b[6][24];
		char *row[11];

		snprintf(q, sizeof(q), "%" PRIu64 "/%" PRIu64, u64_of(p, "rx_queues"),
			 u64_of(p, "tx_queues"));
		row[0] = (char *)str_of(p, "name");
		row[1] = (char *)str_of(p, "type");
		row[2] = strcmp(str_of(p, "admin"), "down") == 0 ? "admin-down"
								 : (char *)str_of(p, "state");
		row[3] = q;
		row[4] = (char *)str_of(p, "vlan");
		row[5] = num(b[0], u64_of(p, "rx_packets"));
		row[6] = num(b[1], u64_of(p, "rx_bytes"));
		row[7] = num(b[2], u64_of(p, "rx_dropped"));
		row[8] = num(b[3], u64_of(p, "tx_packets"));
		row[9] = num(b[4], u64_of(p, "tx_bytes"));
		row[10] = num(b[5], u64_of(p, "tx_dropped"));
		table_add(&t, row);
	}
	table_print(&t);
}

static void
show_fdb(const json_t *r)
{
	struct table t = {
		.ncols = 4, .head = {"MAC", "VLAN", "PORT", "AGE"}, .right = {0, 1, 0, 1}};
	const json_t *x;
	size_t i;

	json_array_foreach (json_object_get(r, "entries"), i, x) {
		char b[2][24];
		char *row[4] = {(char *)str_of(x, "mac"), num(b[0], u64_of(x, "vlan")),
				(char *)str_of(x, "port"),
				json_is_true(json_object_get(x, "static"))
					? "static"
					: num(b[1], u64_of(x, "age"))};

		table_add(&t, row);
	}
	table_print(&t);
	printf("%" PRIu64 " entr%s (limit %" PRIu64 ", aging %" PRIu64 " s)%s\n",
	       u64_of(r, "count"), u64_of(r, "count") == 1 ? "y" : "ies", u64_of(r, "limit"),
	       u64_of(r, "aging"),
	       json_is_true(json_object_get(r, "truncated")) ? "; list truncated" : "");
}

static void
show_lcores(const json_t *r)
{
	struct table t = {.ncols = 7,
			  .head = {"WORKER", "LCORE", "BUSY%", "BUSY-CYCLES", "IDLE-CYCLES",
				   "RX-PKTS", "QUEUES"},
			  .right = {1, 1, 1, 1, 1, 1, 0}};
	const json_t *x;
	size_t i;

	json_array_foreach (json_object_get(r, "lcores"), i, x) {
		const json_t *pct = json_object_get(x, "busy_pct"), *q;
		char b[6][24], queues[1024] = "";
		size_t n = 0, k;
		char *row[7];

		json_array_foreach (json_object_get(x, "queues"), k, q) {
			if (n >= 900)
				break;
			n += (size_t)snprintf(queues + n, sizeof(queues) - n, "%s%s:%" PRIu64,
					      n ? " " : "", str_of(q, "port"), u64_of(q, "queue"));
		}
		snprintf(b[5], sizeof(b[5]), "%.1f",
			 json_is_number(pct) ? json_number_value(pct) : 0.0);
		row[0] = num(b[0], u64_of(x, "worker"));
		row[1] = num(b[1], u64_of(x, "lcore"));
		row[2] = b[5];
		row[3] = num(b[2], u64_of(x, "busy_cycles"));
		row[4] = num(b[3], u64_of(x, "idle_cycles"));
		row[5] = num(b[4], u64_of(x, "rx_packets"));
		row[6] = queues[0] != '\0' ? queues : "-";
		table_add(&t, row);
	}
	table_print(&t);
}

static void
show_help(const json_t *r)
{
	const json_t *c;
	size_t i, w = 0;

	json_array_foreach (json_object_get(r, "commands"), i, c)
		if (strlen(str_of(c, "usage")) > w)
			w = strlen(str_of(c, "usage"));
	json_array_foreach (json_object_get(r, "commands"), i, c)
		printf("%-*s  %s\n", (int)w, str_of(c, "usage"), str_of(c, "help"));
}

/* A reply no renderer knows: "key: value" per member, containers as JSON. */
static void
show_members(const json_t *r)
{
	const char *key;
	json_t *v;

	json_object_foreach ((json_t *)r, key, v) {
		char *text;

		if (strcmp(key, "ok") == 0)
			continue;
		if (json_is_string(v)) {
			printf("%s: %s\n", key, json_string_value(v));
			continue;
		}
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s: %s\n", key, text != NULL ? text : "?");
		free(text);
	}
}

/* "  rx drops: vlan 2, tagged 1" (nonzero reasons only). */
static void
show_drops(const char *label, const json_t *d)
{
	const char *key;
	json_t *v;
	int n = 0;

	printf("  %s drops:", label);
	json_object_foreach ((json_t *)d, key, v) {
		if (json_integer_value(v) == 0)
			continue;
		printf("%s %s %" JSON_INTEGER_FORMAT, n++ ? "," : "", key, json_integer_value(v));
	}
	printf("%s\n", n ? "" : " none");
}

static void
show_features(const char *label, const json_t *f)
{
	const json_t *x;
	size_t i;

	printf("  %s (%s):", label, str_of(f, "bits"));
	json_array_foreach (json_object_get(f, "names"), i, x)
		printf(" %s", json_string_value(x));
	printf("\n");
}

static void
show_rings(const json_t *d)
{
	const json_t *r;
	size_t i;

	json_array_foreach (json_object_get(d, "rings"), i, r) {
		printf("    ring %" PRIu64 " (queue %" PRIu64 ", guest %s): ", u64_of(r, "index"),
		       u64_of(r, "queue"), str_of(r, "guest_ring"));
		if (!json_is_true(json_object_get(r, "started"))) {
			printf("not started%s\n",
			       json_is_true(json_object_get(r, "enabled")) ? ", enabled" : "");
			continue;
		}
		printf("%s, %" PRIu64 " entries, %s%s, last_avail %" PRIu64 ", used %" PRIu64
		       ", desc %s%s\n",
		       str_of(r, "layout"), u64_of(r, "size"),
		       json_is_true(json_object_get(r, "enabled")) ? "enabled" : "disabled",
		       json_is_true(json_object_get(r, "event_idx")) ? ", event_idx" : "",
		       u64_of(r, "last_avail"), u64_of(r, "used_idx"), str_of(r, "desc_gpa"),
		       json_is_true(json_object_get(r, "broken")) ? ", BROKEN" : "");
	}
}

static void
show_driver(const json_t *d)
{
	const json_t *m;
	size_t i;

	if (vs_json_str(d, "socket") != NULL)
		printf("  %s (%s, %s, %" PRIu64 " connection(s))\n", str_of(d, "socket"),
		       str_of(d, "mode"),
		       json_is_true(json_object_get(d, "connected")) ? "connected"
								     : "not connected",
		       u64_of(d, "connections"));
	if (json_object_get(d, "features") != NULL) {
		show_features("features", json_object_get(d, "features"));
		show_features("protocol features", json_object_get(d, "protocol_features"));
	}
	if (json_object_get(d, "rings") != NULL) {
		printf("  rings:\n");
		show_rings(d);
	}
	if (json_array_size(json_object_get(d, "memory")) > 0) {
		printf("  memory regions:\n");
		json_array_foreach (json_object_get(d, "memory"), i, m)
			printf("    gpa %s, %" PRIu64 " bytes, front-end address %s, offset %s\n",
			       str_of(m, "gpa"), u64_of(m, "size"), str_of(m, "uva"),
			       str_of(m, "mmap_offset"));
	}
}

static void
show_port(const json_t *r)
{
	const json_t *p = json_object_get(r, "port"), *rq = json_object_get(p, "rxq"),
		     *tq = json_object_get(p, "txq");
	struct table t = {.ncols = 7,
			  .head = {"QUEUE", "WORKER", "RX-PKTS", "RX-DROPS", "RX-ERRORS", "TX-PKTS",
				   "TX-ERRORS"},
			  .right = {1, 1, 1, 1, 1, 1, 1}};

	printf("port %s (id %" PRIu64 ", %s): link %s, admin %s, queues %" PRIu64 "/%" PRIu64
	       " of %" PRIu64 ", vlan %s, mtu %" PRIu64 "\n",
	       str_of(p, "name"), u64_of(p, "id"), str_of(p, "type"), str_of(p, "state"),
	       str_of(p, "admin"), u64_of(p, "rx_queues"), u64_of(p, "tx_queues"),
	       u64_of(p, "max_queues"), str_of(p, "vlan"), u64_of(p, "mtu"));
	printf("  rx %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " dropped; flooded %" PRIu64
	       "\n",
	       u64_of(p, "rx_packets"), u64_of(p, "rx_bytes"), u64_of(p, "rx_dropped"),
	       u64_of(p, "flooded"));
	printf("  tx %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " dropped\n",
	       u64_of(p, "tx_packets"), u64_of(p, "tx_bytes"), u64_of(p, "tx_dropped"));
	show_drops("rx", json_object_get(p, "rx_drops"));
	show_drops("tx", json_object_get(p, "tx_drops"));
	for (size_t q = 0; q < json_array_size(rq); q++) {
		const json_t *a = json_array_get(rq, q), *b = json_array_get(tq, q);
		char c[6][24], wk[24];
		char *row[7];

		if (json_integer_value(json_object_get(a, "worker")) >= 0)
			snprintf(wk, sizeof(wk), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(json_object_get(a, "worker")));
		else
			snprintf(wk, sizeof(wk), "-");
		row[0] = num(c[0], q);
		row[1] = wk;
		row[2] = num(c[1], u64_of(a, "packets"));
		row[3] = num(c[2], u64_of(a, "drops"));
		row[4] = num(c[3], u64_of(a, "errors"));
		row[5] = num(c[4], u64_of(b, "packets"));
		row[6] = num(c[5], u64_of(b, "errors"));
		table_add(&t, row);
	}
	printf("  driver queues (its own counters):\n");
	table_print(&t);
	if (json_object_get(p, "capture") != NULL) {
		const json_t *c = json_object_get(p, "capture");

		printf("  capturing (%s) to %s: %" PRIu64 " written, %" PRIu64 " lost\n",
		       str_of(c, "dir"), str_of(c, "file"), u64_of(c, "written"),
		       u64_of(c, "lost"));
	}
	if (json_object_get(p, "driver") != NULL)
		show_driver(json_object_get(p, "driver"));
}

static void
show_log(const json_t *r)
{
	struct table t = {.ncols = 2, .head = {"TYPE", "LEVEL"}, .right = {0, 0}};
	const json_t *x;
	size_t i;

	json_array_foreach (json_object_get(r, "types"), i, x) {
		char *row[2] = {(char *)str_of(x, "type"), (char *)str_of(x, "level")};

		table_add(&t, row);
	}
	table_print(&t);
}

struct renderer {
	const char *cmd; /* the command's words */
	void (*show)(const json_t *r, char *const *args);
};

static void
show_added(const json_t *r, char *const *args)
{
	(void)args;
	printf("added port %s (id %" PRIu64 ")\n", str_of(r, "port"), u64_of(r, "id"));
}

static void
show_removed(const json_t *r, char *const *args)
{
	(void)r;
	printf("removed port %s\n", args[0] != NULL ? args[0] : "");
}

static void
show_flushed(const json_t *r, char *const *args)
{
	(void)args;
	printf("flushed %" PRIu64 " entr%s\n", u64_of(r, "flushed"),
	       u64_of(r, "flushed") == 1 ? "y" : "ies");
}

#define TABLE(fn)                                                                                  \
	static void fn##_r(const json_t *r, char *const *args)                                     \
	{                                                                                          \
		(void)args;                                                                        \
		fn(r);                                                                             \
	}
/* Every mbuf pool: a leak shows as IN-USE growing while traffic is idle. */
static void
show_mempool(const json_t *r)
{
	struct table t = {
		.ncols = 7,
		.head = {"NAME", "SOCKET", "SIZE", "IN-USE", "FREE", "CACHED", "DATA-ROOM"},
		.right = {0, 1, 1, 1, 1, 1, 1}};
	const json_t *x;
	size_t i;

	json_array_foreach (json_object_get(r, "mempools"), i, x) {
		const json_t *sock = json_object_get(x, "socket");
		char b[6][24], *row[7];

		snprintf(b[5], sizeof(b[5]), "%" JSON_INTEGER_FORMAT,
			 json_is_integer(sock) ? json_integer_value(sock) : -1);
		row[0] = (char *)str_of(x, "name");
		row[1] = b[5];
		row[2] = num(b[0], u64_of(x, "size"));
		row[3] = num(b[1], u64_of(x, "in_use"));
		row[4] = num(b[2], u64_of(x, "free"));
		row[5] = num(b[3], u64_of(x, "cached"));
		row[6] = num(b[4], u64_of(x, "data_room"));
		table_add(&t, row);
	}
	table_print(&t);
}

TABLE(show_ports)
TABLE(show_port)
TABLE(show_fdb)
TABLE(show_lcores)
TABLE(show_mempool)
TABLE(show_help)
TABLE(show_log)

/* Commands whose reply says nothing but "ok". */
static void
show_done(const json_t *r, char *const *args)
{
	(void)r;
	(void)args;
	printf("done\n");
}

static void
show_added_fdb(const json_t *r, char *const *args)
{
	printf("static entry %s vlan %" PRIu64 " on port %s\n", args[0] != NULL ? args[0] : "",
	       u64_of(r, "vlan"), str_of(r, "port"));
}

static void
show_removed_fdb(const json_t *r, char *const *args)
{
	(void)args;
	printf("removed %" PRIu64 " entr%s\n", u64_of(r, "removed"),
	       u64_of(r, "removed") == 1 ? "y" : "ies");
}

static void
show_capture(const json_t *r, char *const *args)
{
	(void)args;
	if (json_object_get(r, "written") != NULL)
		printf("capture ended: %" PRIu64 " packet(s) in %s, %" PRIu64 " lost\n",
		       u64_of(r, "written"), str_of(r, "file"), u64_of(r, "lost"));
	else
		printf("capturing %s (%s) to %s%s\n", str_of(r, "port"), str_of(r, "dir"),
		       str_of(r, "file"), u64_of(r, "count") != 0 ? ", until a count" : "");
}

/* ---- rx queue placement ---- */

static void
show_auto_lb(const json_t *r)
{
	const json_t *a = json_object_get(r, "auto_lb");

	if (a == NULL)
		return;
	printf("auto-lb %s: interval %" PRIu64 " s, threshold %" PRIu64 "%%, improvement %" PRIu64
	       "%%; %" PRIu64 " check(s), %" PRIu64 " rebalance(s)\n",
	       json_is_true(json_object_get(a, "on")) ? "on" : "off", u64_of(a, "interval"),
	       u64_of(a, "threshold"), u64_of(a, "improvement"), u64_of(a, "checks"),
	       u64_of(a, "rebalances"));
}

static void
show_rxqs(const json_t *r)
{
	struct table t = {.ncols = 7,
			  .head = {"PORT", "QUEUE", "WORKER", "PACKETS", "BUSY-CYCLES", "WINDOW%",
				   "CYCLES/PKT"},
			  .right = {0, 1, 1, 1, 1, 1, 1}};
	const json_t *x;
	size_t i;

	json_array_foreach (json_object_get(r, "rxqs"), i, x) {
		const json_t *wk = json_object_get(x, "worker"),
			     *pct = json_object_get(x, "window_pct");
		uint64_t pk = u64_of(x, "packets"), cy = u64_of(x, "busy_cycles");
		char b[6][24], *row[7];

		snprintf(b[4], sizeof(b[4]), "%" JSON_INTEGER_FORMAT,
			 json_is_integer(wk) ? json_integer_value(wk) : -1);
		snprintf(b[5], sizeof(b[5]), "%.1f",
			 json_is_number(pct) ? json_number_value(pct) : 0.0);
		row[0] = (char *)str_of(x, "port");
		row[1] = num(b[0], u64_of(x, "queue"));
		row[2] = b[4];
		row[3] = num(b[1], pk);
		row[4] = num(b[2], cy);
		row[5] = b[5];
		row[6] = num(b[3], pk > 0 ? cy / pk : 0);
		table_add(&t, row);
	}
	table_print(&t);
	show_auto_lb(r);
}

static void
show_rebalanced(const json_t *r, char *const *args)
{
	(void)args;
	printf("placed by busy cycles: %" PRIu64 " queue(s) moved\n", u64_of(r, "moved"));
}

static void
show_moved(const json_t *r, char *const *args)
{
	(void)args;
	printf("rx queue %s:%" PRIu64 " on worker %" PRIu64 "\n", str_of(r, "port"),
	       u64_of(r, "queue"), u64_of(r, "worker"));
}

TABLE(show_rxqs)
TABLE(show_auto_lb)

/* clang-format off */
static const struct renderer renderers[] = {
	{"show ports", show_ports_r},
	{"show port", show_port_r},
	{"show fdb", show_fdb_r},
	{"show lcores", show_lcores_r},
	{"show mempool", show_mempool_r},
	{"show log", show_log_r},
	{"log level", show_log_r},
	{"add-port", show_added},
	{"del-port", show_removed},
	{"set-port", show_done},
	{"clear counters", show_done},
	{"fdb flush", show_flushed},
	{"fdb add", show_added_fdb},
	{"fdb del", show_removed_fdb},
	{"set fdb-aging", show_done},
	{"capture", show_capture},
	{"capture stop", show_capture},
	{"show rxqs", show_rxqs_r},
	{"rebalance", show_rebalanced},
	{"rxq-move", show_moved},
	{"auto-lb", show_auto_lb_r},
	{"help", show_help_r},
};
/* clang-format on */

/* @return how many of @p words spell @p cmd, or 0. */
static int
spells(const char *cmd, char *const *words, int n)
{
	int k = 0;

	while (*cmd != '\0') {
		size_t len = strcspn(cmd, " ");

		if (k == n || strlen(words[k]) != len || strncmp(words[k], cmd, len) != 0)
			return 0;
		k++;
		cmd += len;
		while (*cmd == ' ')
			cmd++;
	}
	return k;
}

static void
render(char *const *words, int n, const json_t *r)
{
	const struct renderer *best = NULL;
	int k = 0;

	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++) {
		int m = spells(renderers[i].cmd, words, n);

		if (m > k) {
			k = m;
			best = &renderers[i];
		}
	}
	if (best != NULL)
		best->show(r, words + k);
	else
		show_members(r);
}

/*
 * capture PORT FILE ...: the switch opens FILE, so a relative path is made
 * absolute here, against the directory vswitchctl runs in.
 */
static void
absolute_capture_file(char **words, int n)
{
	static char path[4096];
	char cwd[3072];

	if (n < 3 || strcmp(words[0], "capture") != 0 || strcmp(words[1], "stop") == 0 ||
	    words[2][0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", cwd, words[2]) < sizeof(path))
		words[2] = path;
}

/* {"command": WORD, "args": [WORD...]}: the switch finds the command in the words. */
static char *
request(char *const *words, int n)
{
	struct vs_jw w;
	char *req;

	vs_jw_init(&w, 0);
	vs_jw_object_open(&w);
	vs_jw_kv_str(&w, "command", words[0]);
	vs_jw_key(&w, "args");
	vs_jw_array_open(&w);
	for (int i = 1; i < n; i++)
		vs_jw_str(&w, words[i]);
	vs_jw_array_close(&w);
	vs_jw_object_close(&w);
	req = vs_jw_text(&w) != NULL ? malloc(strlen(vs_jw_text(&w)) + 2) : NULL;
	if (req != NULL)
		sprintf(req, "%s\n", vs_jw_text(&w));
	vs_jw_free(&w);
	return req;
}

int
main(int argc, char **argv)
{
	char path[256], why[512], *req, *reply;
	unsigned int timeout = 30;
	bool json = false;
	const char *dir = getenv("VSWITCH_RUNDIR");
	json_t *r;
	int i;

	snprintf(path, sizeof(path), "%s/vswitch.ctl",
		 dir != NULL && dir[0] != '\0' ? dir : "/run/vswitch");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--ctl") == 0 && i + 1 < argc) {
			snprintf(path, sizeof(path), "%s", argv[++i]);
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			char *end;

			timeout = (unsigned int)strtoul(argv[++i], &end, 10);
			if (*end != '\0' || timeout == 0 || timeout > 3600) {
				fprintf(stderr, "vswitchctl: --timeout: '%s' is not 1..3600\n",
					argv[i]);
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "vswitchctl: unknown option '%s' (see --help)\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "takeover") == 0) {
		/* Its reply is the hand-over's records: see vswitch --takeover. */
		fprintf(stderr, "vswitchctl: takeover is for 'vswitch ... --takeover' only\n");
		return EXIT_USAGE;
	}
	absolute_capture_file(argv + i, argc - i);
	req = request(argv + i, argc - i);
	if (req == NULL) {
		fprintf(stderr, "vswitchctl: out of memory\n");
		return EXIT_FAILURE;
	}
	reply = transact(path, req, timeout, why, sizeof(why));
	free(req);
	if (reply == NULL) {
		fprintf(stderr, "vswitchctl: %s\n", why);
		return EXIT_NO_SWITCH;
	}
	r = vs_json_load(reply, strlen(reply), why, sizeof(why));
	if (r == NULL) {
		fprintf(stderr, "vswitchctl: unreadable reply (%s)\n", why);
		free(reply);
		return EXIT_NO_SWITCH;
	}
	if (json)
		printf("%s\n", reply);
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "vswitchctl: %s\n", str_of(r, "error"));
		json_decref(r);
		free(reply);
		return EXIT_REFUSED;
	}
	if (!json)
		render(argv + i, argc - i, r);
	json_decref(r);
	free(reply);
	return 0;
}
