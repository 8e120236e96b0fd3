/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vswitchctl: talks to a running vswitch over its management socket.
 *
 *   vswitchctl [--ctl PATH] [--json] [--timeout SEC] COMMAND [ARG]
 *
 * Prints tables by default and the switch's JSON reply with --json.
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
	fprintf(f, "usage: vswitchctl [--ctl PATH] [--json] [--timeout SEC] COMMAND [ARG]\n"
		   "\n"
		   "commands:\n"
		   "  show ports        ports: type, state, queues, VLAN, packets, bytes, drops\n"
		   "  show fdb          learned stations: MAC, VLAN, port, age\n"
		   "  show lcores       workers: the queues each polls, busy/idle cycles\n"
		   "  add-port SPEC     add a port (TYPE,key=value,...)\n"
		   "  del-port NAME     remove a port\n"
		   "  fdb flush         forget every learned station\n"
		   "  help              the switch's command list\n"
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
str_of(const struct vs_json *o, const char *key)
{
	const char *s = vs_json_string(vs_json_get(o, key));

	return s != NULL ? s : "";
}

static uint64_t
u64_of(const struct vs_json *o, const char *key)
{
	uint64_t v = 0;

	vs_json_u64(vs_json_get(o, key), &v);
	return v;
}

static char *
num(char *buf, uint64_t v)
{
	snprintf(buf, 24, "%" PRIu64, v);
	return buf;
}

static void
show_ports(const struct vs_json *r)
{
	struct table t = {.ncols = 11,
			  .head = {"NAME", "TYPE", "STATE", "QUEUES", "VLAN", "RX-PKTS", "RX-BYTES",
				   "RX-DROP", "TX-PKTS", "TX-BYTES", "TX-DROP"},
			  .right = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}};
	const struct vs_json *ports = vs_json_get(r, "ports");

	for (const struct vs_json *p = ports != NULL ? ports->child : NULL; p != NULL;
	     p = p->next) {
		char q[32], b[6][24];
		char *row[11];

		snprintf(q, sizeof(q), "%" PRIu64 "/%" PRIu64, u64_of(p, "rx_queues"),
			 u64_of(p, "tx_queues"));
		row[0] = (char *)str_of(p, "name");
		row[1] = (char *)str_of(p, "type");
		row[2] = (char *)str_of(p, "state");
		row[3] = q;
		row[4] = (char *)str_of(p, "vlan");
		row[5] = num(b[0], u64_of(p, "rx_packets"));
		row[6] = num(b[1], u64_of(p, "rx_bytes"));
		row[7] = num(b[2], u64_of(p, "rx_dropped") + u64_of(p, "driver_rx_dropped"));
		row[8] = num(b[3], u64_of(p, "tx_packets"));
		row[9] = num(b[4], u64_of(p, "tx_bytes"));
		row[10] = num(b[5], u64_of(p, "tx_dropped"));
		table_add(&t, row);
	}
	table_print(&t);
}

static void
show_fdb(const struct vs_json *r)
{
	struct table t = {
		.ncols = 4, .head = {"MAC", "VLAN", "PORT", "AGE"}, .right = {0, 1, 0, 1}};
	const struct vs_json *e = vs_json_get(r, "entries");

	for (const struct vs_json *x = e != NULL ? e->child : NULL; x != NULL; x = x->next) {
		char b[2][24];
		char *row[4] = {(char *)str_of(x, "mac"), num(b[0], u64_of(x, "vlan")),
				(char *)str_of(x, "port"), num(b[1], u64_of(x, "age"))};

		table_add(&t, row);
	}
	table_print(&t);
	printf("%" PRIu64 " entr%s (limit %" PRIu64 ", aging %" PRIu64 " s)%s\n",
	       u64_of(r, "count"), u64_of(r, "count") == 1 ? "y" : "ies", u64_of(r, "limit"),
	       u64_of(r, "aging"),
	       vs_json_get(r, "truncated") != NULL && vs_json_get(r, "truncated")->b
		       ? "; list truncated"
		       : "");
}

static void
show_lcores(const struct vs_json *r)
{
	struct table t = {.ncols = 7,
			  .head = {"WORKER", "LCORE", "BUSY%", "BUSY-CYCLES", "IDLE-CYCLES",
				   "RX-PKTS", "QUEUES"},
			  .right = {1, 1, 1, 1, 1, 1, 0}};
	const struct vs_json *l = vs_json_get(r, "lcores");

	for (const struct vs_json *x = l != NULL ? l->child : NULL; x != NULL; x = x->next) {
		const struct vs_json *qs = vs_json_get(x, "queues"),
				     *pct = vs_json_get(x, "busy_pct");
		char b[5][24], queues[1024] = "";
		size_t n = 0;
		char *row[7];

		for (const struct vs_json *q = qs != NULL ? qs->child : NULL; q != NULL && n < 900;
		     q = q->next)
			n += (size_t)snprintf(queues + n, sizeof(queues) - n, "%s%s:%" PRIu64,
					      n ? " " : "", str_of(q, "port"), u64_of(q, "queue"));
		row[0] = num(b[0], u64_of(x, "worker"));
		row[1] = num(b[1], u64_of(x, "lcore"));
		row[2] = pct != NULL && pct->type == VS_JSON_NUMBER ? pct->str : "0";
		row[3] = num(b[2], u64_of(x, "busy_cycles"));
		row[4] = num(b[3], u64_of(x, "idle_cycles"));
		row[5] = num(b[4], u64_of(x, "rx_packets"));
		row[6] = queues[0] != '\0' ? queues : "-";
		table_add(&t, row);
	}
	table_print(&t);
}

static void
render(const char *cmd, const char *arg, const struct vs_json *r)
{
	if (strcmp(cmd, "show ports") == 0) {
		show_ports(r);
	} else if (strcmp(cmd, "show fdb") == 0) {
		show_fdb(r);
	} else if (strcmp(cmd, "show lcores") == 0) {
		show_lcores(r);
	} else if (strcmp(cmd, "add-port") == 0) {
		printf("added port %s (id %" PRIu64 ")\n", str_of(r, "port"), u64_of(r, "id"));
	} else if (strcmp(cmd, "del-port") == 0) {
		printf("removed port %s\n", arg);
	} else if (strcmp(cmd, "fdb flush") == 0) {
		printf("flushed %" PRIu64 " entr%s\n", u64_of(r, "flushed"),
		       u64_of(r, "flushed") == 1 ? "y" : "ies");
	} else {
		const struct vs_json *c = vs_json_get(r, "commands");

		for (const struct vs_json *x = c != NULL ? c->child : NULL; x != NULL; x = x->next)
			printf("%s\n", vs_json_string(x) != NULL ? x->str : "");
	}
}

int
main(int argc, char **argv)
{
	char path[256], why[512], cmd[64] = "", arg[4096] = "", *req, *reply;
	unsigned int timeout = 30;
	bool json = false;
	const char *dir = getenv("VSWITCH_RUNDIR");
	struct vs_json *r;
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
	if ((strcmp(argv[i], "show") == 0 || strcmp(argv[i], "fdb") == 0) && i + 1 < argc) {
		snprintf(cmd, sizeof(cmd), "%s %s", argv[i], argv[i + 1]);
		i += 2;
	} else {
		snprintf(cmd, sizeof(cmd), "%s", argv[i]);
		i++;
	}
	if (i < argc)
		snprintf(arg, sizeof(arg), "%s", argv[i++]);
	if (i < argc) {
		fprintf(stderr, "vswitchctl: unexpected argument '%s' (quote a SPEC with spaces)\n",
			argv[i]);
		return EXIT_USAGE;
	}
	if (strchr(arg, '\n') != NULL || strchr(cmd, '\n') != NULL) {
		fprintf(stderr, "vswitchctl: arguments cannot hold newlines\n");
		return EXIT_USAGE;
	}
	req = malloc(strlen(cmd) + strlen(arg) + 3);
	if (req == NULL)
		return EXIT_FAILURE;
	sprintf(req, "%s%s%s\n", cmd, arg[0] ? " " : "", arg);
	reply = transact(path, req, timeout, why, sizeof(why));
	free(req);
	if (reply == NULL) {
		fprintf(stderr, "vswitchctl: %s\n", why);
		return EXIT_NO_SWITCH;
	}
	r = vs_json_parse(reply, strlen(reply), why, sizeof(why));
	if (r == NULL) {
		fprintf(stderr, "vswitchctl: unreadable reply (%s)\n", why);
		free(reply);
		return EXIT_NO_SWITCH;
	}
	if (vs_json_get(r, "ok") == NULL || !vs_json_get(r, "ok")->b) {
		if (json)
			printf("%s\n", reply);
		fprintf(stderr, "vswitchctl: %s\n", str_of(r, "error"));
		vs_json_free(r);
		free(reply);
		return EXIT_REFUSED;
	}
	if (json)
		printf("%s\n", reply);
	else
		render(cmd, arg, r);
	vs_json_free(r);
	free(reply);
	return 0;
}
