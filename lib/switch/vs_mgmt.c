/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management socket and its commands.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>

#include "vs_evloop.h"
#include "vs_fdb.h"
#include "vs_handover.h"
#include "vs_mgmt.h"
#include "vs_switch.h"

RTE_LOG_REGISTER(vs_mgmt_logtype, vswitch.mgmt, INFO);
#define MGMT_LOG(level, fmt, ...)                                                                  \
	rte_log(RTE_LOG_##level, vs_mgmt_logtype, "mgmt: " fmt "\n", ##__VA_ARGS__)

struct client {
	struct vs_mgmt *m;
	int fd;
	char in[VS_MGMT_MAX_LINE];
	size_t in_len;
	bool skipping; /* inside an over-long request: drop up to its newline */
	bool closing;  /* peer sent EOF: close once the replies are out */
	char *out;     /* replies not sent yet: out[off .. len) */
	size_t out_len;
	size_t out_cap;
	size_t out_off;
	struct client *next;
};

struct vs_mgmt {
	struct vs_switch *sw;
	struct vs_evloop *loop;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	unsigned int nb_clients;
	struct client *clients;
	bool handed_over; /* the socket is another process's now: leave its file */
};

/* ---- commands ---- */

static void reply_error(struct vs_jw *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
reply_error(struct vs_jw *w, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vs_jw_reset(w);
	vs_jw_object_open(w);
	vs_jw_kv_bool(w, "ok", false);
	vs_jw_kv_str(w, "error", msg);
	vs_jw_object_close(w);
}

static void
cmd_show_ports(struct vs_switch *sw, struct vs_jw *w)
{
	vs_jw_key(w, "ports");
	vs_jw_array_open(w);
	for (int p = vs_switch_port_next(sw, -1); p >= 0; p = vs_switch_port_next(sw, p)) {
		struct vs_switch_port_view v;
		struct vs_port_stats ds;
		uint64_t drx_drop = 0, drx_err = 0, dtx_err = 0;

		if (vs_switch_port_view(sw, (uint16_t)p, &v) != 0)
			continue;
		if (vs_switch_port_driver_stats(sw, (uint16_t)p, &ds) == 0) {
			for (unsigned int q = 0; q < VS_PORT_MAX_QUEUES; q++) {
				drx_drop += ds.rx[q].drops;
				drx_err += ds.rx[q].errors;
				dtx_err += ds.tx[q].errors;
			}
		}
		vs_jw_object_open(w);
		vs_jw_kv_u64(w, "id", v.id);
		vs_jw_kv_str(w, "name", v.name);
		vs_jw_kv_str(w, "type", v.info.type);
		vs_jw_kv_str(w, "state", v.info.link == VS_PORT_LINK_UP ? "up" : "down");
		vs_jw_kv_u64(w, "rx_queues", v.info.nb_rxq);
		vs_jw_kv_u64(w, "tx_queues", v.info.nb_txq);
		vs_jw_kv_u64(w, "max_queues", v.info.max_queues);
		vs_jw_kv_str(w, "vlan", v.vlan);
		vs_jw_kv_u64(w, "mtu", v.info.mtu);
		vs_jw_kv_str(w, "detail", v.info.detail);
		vs_jw_kv_u64(w, "rx_packets", v.counters.rx_packets);
		vs_jw_kv_u64(w, "rx_bytes", v.counters.rx_bytes);
		vs_jw_kv_u64(w, "rx_dropped", v.counters.rx_dropped);
		vs_jw_kv_u64(w, "tx_packets", v.counters.tx_packets);
		vs_jw_kv_u64(w, "tx_bytes", v.counters.tx_bytes);
		vs_jw_kv_u64(w, "tx_dropped", v.counters.tx_dropped);
		vs_jw_kv_u64(w, "flooded", v.counters.flooded);
		vs_jw_kv_u64(w, "driver_rx_dropped", drx_drop);
		vs_jw_kv_u64(w, "driver_rx_errors", drx_err);
		vs_jw_kv_u64(w, "driver_tx_errors", dtx_err);
		vs_jw_object_close(w);
	}
	vs_jw_array_close(w);
}

struct fdb_dump {
	struct vs_switch *sw;
	struct vs_jw *w;
	uint32_t n;
};

static int
fdb_entry(uint64_t key, uint16_t port, uint32_t age, void *arg)
{
	struct fdb_dump *d = arg;
	struct vs_switch_port_view v;
	char mac[18];
	uint8_t b[6];

	if (d->n == VS_MGMT_MAX_FDB_ENTRIES)
		return 1;
	vs_fdb_key_mac(key, b);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
		 b[5]);
	vs_jw_object_open(d->w);
	vs_jw_kv_str(d->w, "mac", mac);
	vs_jw_kv_u64(d->w, "vlan", vs_fdb_key_vlan(key));
	vs_jw_kv_str(d->w, "port", vs_switch_port_view(d->sw, port, &v) == 0 ? v.name : "?");
	vs_jw_kv_u64(d->w, "age", age);
	vs_jw_object_close(d->w);
	d->n++;
	return 0;
}

static void
cmd_show_fdb(struct vs_switch *sw, struct vs_jw *w)
{
	struct fdb_dump d = {sw, w, 0};
	struct vs_switch_fdb_view f;
	int truncated;

	vs_switch_fdb_view(sw, &f);
	vs_jw_kv_u64(w, "count", f.count);
	vs_jw_kv_u64(w, "limit", f.limit);
	vs_jw_kv_u64(w, "aging", f.aging);
	vs_jw_kv_u64(w, "learned", f.learned);
	vs_jw_kv_u64(w, "moved", f.moved);
	vs_jw_kv_u64(w, "full", f.full);
	vs_jw_kv_u64(w, "aged", f.aged);
	vs_jw_kv_u64(w, "flushed", f.flushed);
	vs_jw_key(w, "entries");
	vs_jw_array_open(w);
	truncated = vs_fdb_walk(vs_switch_fdb(sw), fdb_entry, &d);
	vs_jw_array_close(w);
	vs_jw_kv_bool(w, "truncated", truncated != 0);
}

static void
cmd_show_lcores(struct vs_switch *sw, struct vs_jw *w)
{
	vs_jw_key(w, "lcores");
	vs_jw_array_open(w);
	for (unsigned int i = 0; i < vs_switch_nb_workers(sw); i++) {
		struct vs_switch_lcore_view l;
		uint64_t total;

		if (vs_switch_lcore_view(sw, i, &l) != 0)
			continue;
		total = l.busy_cycles + l.idle_cycles;
		vs_jw_object_open(w);
		vs_jw_kv_u64(w, "worker", l.worker);
		vs_jw_kv_u64(w, "lcore", l.lcore);
		vs_jw_kv_u64(w, "busy_cycles", l.busy_cycles);
		vs_jw_kv_u64(w, "idle_cycles", l.idle_cycles);
		vs_jw_key(w, "busy_pct");
		vs_jw_fixed1(w, total > 0 ? 100.0 * (double)l.busy_cycles / (double)total : 0.0);
		vs_jw_kv_u64(w, "iterations", l.iterations);
		vs_jw_kv_u64(w, "busy_iterations", l.busy_iterations);
		vs_jw_kv_u64(w, "rx_packets", l.rx_packets);
		vs_jw_kv_u64(w, "tsc_hz", l.tsc_hz);
		vs_jw_key(w, "queues");
		vs_jw_array_open(w);
		for (unsigned int q = 0; q < l.nb_polls && q < RTE_DIM(l.polls); q++) {
			struct vs_switch_port_view v;

			vs_jw_object_open(w);
			vs_jw_kv_str(w, "port",
				     vs_switch_port_view(sw, l.polls[q].port, &v) == 0 ? v.name
										       : "?");
			vs_jw_kv_u64(w, "queue", l.polls[q].queue);
			vs_jw_object_close(w);
		}
		vs_jw_array_close(w);
		vs_jw_object_close(w);
	}
	vs_jw_array_close(w);
}

static const char *const help_lines[] = {
	"show ports",	 "show fdb",  "show lcores", "add-port SPEC",
	"del-port NAME", "fdb flush", "help",	     "takeover VERSION (vswitch --takeover)",
};

/* Runs command @p cmd with argument @p arg (may be empty). */
static void
run(struct vs_switch *sw, const char *cmd, const char *arg, struct vs_jw *w)
{
	char err[512];
	int rc;

	vs_jw_reset(w);
	vs_jw_object_open(w);
	vs_jw_kv_bool(w, "ok", true);
	if (strcmp(cmd, "show ports") == 0 && arg[0] == '\0') {
		cmd_show_ports(sw, w);
	} else if (strcmp(cmd, "show fdb") == 0 && arg[0] == '\0') {
		cmd_show_fdb(sw, w);
	} else if (strcmp(cmd, "show lcores") == 0 && arg[0] == '\0') {
		cmd_show_lcores(sw, w);
	} else if (strcmp(cmd, "fdb flush") == 0 && arg[0] == '\0') {
		vs_jw_kv_u64(w, "flushed", vs_switch_fdb_flush(sw));
	} else if (strcmp(cmd, "help") == 0) {
		vs_jw_key(w, "commands");
		vs_jw_array_open(w);
		for (size_t i = 0; i < RTE_DIM(help_lines); i++)
			vs_jw_str(w, help_lines[i]);
		vs_jw_array_close(w);
	} else if (strcmp(cmd, "add-port") == 0) {
		if (arg[0] == '\0') {
			reply_error(w, "add-port needs a SPEC (TYPE,key=value,...)");
			return;
		}
		rc = vs_switch_add_port(sw, arg, err, sizeof(err));
		if (rc < 0) {
			reply_error(w, "add-port: %s", err);
			return;
		}
		vs_jw_kv_u64(w, "id", (uint64_t)rc);
		{
			struct vs_switch_port_view v;

			if (vs_switch_port_view(sw, (uint16_t)rc, &v) == 0)
				vs_jw_kv_str(w, "port", v.name);
		}
	} else if (strcmp(cmd, "del-port") == 0) {
		if (arg[0] == '\0') {
			reply_error(w, "del-port needs a port NAME");
			return;
		}
		if (vs_switch_del_port(sw, arg, err, sizeof(err)) != 0) {
			reply_error(w, "del-port: %s", err);
			return;
		}
	} else {
		reply_error(w, "unknown command '%.64s%s%.64s' (try 'help')", cmd,
			    arg[0] != '\0' ? " " : "", arg);
		return;
	}
	vs_jw_object_close(w);
	if (vs_jw_text(w) == NULL)
		reply_error(w, "reply too large");
}

/* Commands of two words; the rest of the line is the argument. */
static const char *const two_word[] = {"show ", "fdb "};

static void
run_text(struct vs_switch *sw, const char *line, struct vs_jw *w)
{
	char cmd[64], arg[VS_MGMT_MAX_LINE];
	const char *p = line, *sp;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	sp = strpbrk(p, " \t");
	n = sp != NULL ? (size_t)(sp - p) : strlen(p);
	for (size_t i = 0; i < RTE_DIM(two_word) && sp != NULL; i++) {
		if (strncmp(p, two_word[i], strlen(two_word[i])) == 0) {
			const char *e = sp;

			while (*e == ' ' || *e == '\t')
				e++;
			sp = strpbrk(e, " \t");
			n = sp != NULL ? (size_t)(sp - p) : strlen(p);
			break;
		}
	}
	if (n >= sizeof(cmd)) {
		reply_error(w, "unknown command '%.32s...' (try 'help')", p);
		return;
	}
	memcpy(cmd, p, n);
	cmd[n] = '\0';
	/* One space between the words of a command. */
	for (char *c = cmd; *c != '\0'; c++)
		if (*c == '\t')
			*c = ' ';
	{
		char *dst = cmd;

		for (const char *s = cmd; *s != '\0'; s++)
			if (!(*s == ' ' && dst > cmd && dst[-1] == ' '))
				*dst++ = *s;
		*dst = '\0';
	}
	p += n;
	while (*p == ' ' || *p == '\t')
		p++;
	snprintf(arg, sizeof(arg), "%s", p);
	n = strlen(arg);
	while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t' || arg[n - 1] == '\r'))
		arg[--n] = '\0';
	run(sw, cmd, arg, w);
}

static void
run_json(struct vs_switch *sw, const char *line, size_t len, struct vs_jw *w)
{
	char err[160];
	struct vs_json *j = vs_json_parse(line, len, err, sizeof(err));
	const struct vs_json *args;
	const char *cmd, *arg = "";

	if (j == NULL) {
		reply_error(w, "malformed JSON: %s", err);
		return;
	}
	cmd = vs_json_string(vs_json_get(j, "command"));
	args = vs_json_get(j, "args");
	if (j->type != VS_JSON_OBJECT || cmd == NULL) {
		reply_error(w, "a JSON request is an object with a \"command\" string");
		goto out;
	}
	if (args != NULL) {
		if (args->type != VS_JSON_ARRAY || vs_json_count(args) > 1 ||
		    (args->child != NULL && args->child->type != VS_JSON_STRING)) {
			reply_error(w, "\"args\" must be an array of at most one string");
			goto out;
		}
		if (args->child != NULL)
			arg = args->child->str;
	}
	if (strlen(cmd) >= 64) {
		reply_error(w, "unknown command (try 'help')");
		goto out;
	}
	run(sw, cmd, arg, w);
out:
	vs_json_free(j);
}

void
vs_mgmt_execute(struct vs_switch *sw, const char *line, size_t len, struct vs_jw *w)
{
	size_t i = 0;

	if (memchr(line, '\0', len) != NULL) {
		reply_error(w, "NUL byte in the request");
		return;
	}
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len) {
		reply_error(w, "empty request (try 'help')");
		return;
	}
	if (line[i] == '{') {
		run_json(sw, line, len, w);
	} else {
		char buf[VS_MGMT_MAX_LINE + 1];

		if (len > VS_MGMT_MAX_LINE) {
			reply_error(w, "request longer than %d bytes", VS_MGMT_MAX_LINE);
			return;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		run_text(sw, buf, w);
	}
}

/* ---- the socket ---- */

static void
client_close(struct client *c)
{
	struct vs_mgmt *m = c->m;

	for (struct client **pp = &m->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	vs_evloop_del_fd(m->loop, c->fd);
	close(c->fd);
	free(c->out);
	m->nb_clients--;
	free(c);
}

/* Writes what is pending; watches for room when the socket is full. */
static int
client_flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Stop reading until the replies are out: a slow reader cannot make us
			 * buffer more. */
			vs_evloop_mod_fd(c->m->loop, c->fd, EPOLLOUT);
			return 0;
		}
		if (n < 0)
			return -errno;
		c->out_off += (size_t)n;
	}
	c->out_len = 0;
	c->out_off = 0;
	if (c->closing)
		return -ECONNRESET;
	vs_evloop_mod_fd(c->m->loop, c->fd, EPOLLIN);
	return 0;
}

/* Appends @p text and a newline to the client's pending replies. */
static void
append(struct client *c, const char *text)
{
	size_t n = strlen(text);

	if (c->out_len + n + 1 > c->out_cap) {
		size_t cap = c->out_cap != 0 ? c->out_cap : 4096;
		char *b;

		while (cap < c->out_len + n + 1)
			cap *= 2;
		/* A client that does not read its replies is dropped. */
		if (cap > 2 * (size_t)VS_MGMT_MAX_REPLY || (b = realloc(c->out, cap)) == NULL) {
			c->closing = true;
			c->out_len = c->out_off = 0;
			return;
		}
		c->out = b;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, text, n);
	c->out_len += n;
	c->out[c->out_len++] = '\n';
}

static void
queue_reply(struct client *c, struct vs_jw *reply)
{
	const char *text = vs_jw_text(reply);

	append(c, text != NULL ? text : "{\"ok\":false,\"error\":\"reply too large\"}");
}

static void takeover(struct client *c, const char *line, size_t len);

static void
handle_line(struct client *c, const char *line, size_t len)
{
	struct vs_jw reply;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (vs_handover_is_request(line, len)) {
		takeover(c, line, len);
		return;
	}
	vs_jw_init(&reply, VS_MGMT_MAX_REPLY);
	vs_mgmt_execute(c->m->sw, line, len, &reply);
	queue_reply(c, &reply);
	vs_jw_free(&reply);
}

/*
 * "takeover VERSION" (vs_handover.h): the connection leaves the line
 * protocol for the hand-over's records. Handed over, this switch stops
 * serving (the new process has the listener); abandoned, the connection is
 * closed (it is mid-record) and everything runs again.
 */
static void
takeover(struct client *c, const char *line, size_t len)
{
	struct vs_mgmt *m = c->m;
	enum vs_handover_result r;
	struct vs_jw reply;

	vs_jw_init(&reply, 0);
	if (c->out_len > c->out_off || c->skipping || m->handed_over) {
		vs_jw_object_open(&reply);
		vs_jw_kv_bool(&reply, "ok", false);
		vs_jw_kv_str(&reply, "error", "takeover must be alone on its connection");
		vs_jw_object_close(&reply);
		r = VS_HANDOVER_REPLY;
	} else {
		r = vs_handover_serve(m->sw, c->fd, line, len, m->fd, &reply);
	}
	if (r == VS_HANDOVER_REPLY)
		queue_reply(c, &reply);
	vs_jw_free(&reply);
	if (r == VS_HANDOVER_DONE) {
		m->handed_over = true;
		vs_evloop_del_fd(m->loop, m->fd);
	}
	if (r != VS_HANDOVER_REPLY) {
		/* Nothing more is read from it; the caller closes it. */
		c->in_len = 0;
		c->closing = true;
		c->out_len = c->out_off = 0;
	}
}

static void
too_long(struct client *c)
{
	struct vs_jw reply;

	vs_jw_init(&reply, 0);
	reply_error(&reply, "request longer than %d bytes", VS_MGMT_MAX_LINE);
	queue_reply(c, &reply);
	vs_jw_free(&reply);
}

/* Runs every complete request in the input buffer. */
static void
handle_input(struct client *c)
{
	size_t start = 0;

	for (size_t i = 0; i < c->in_len; i++) {
		if (c->in[i] != '\n')
			continue;
		if (c->skipping)
			c->skipping = false;
		else
			handle_line(c, c->in + start, i - start);
		/* A takeover ended the line protocol on this connection. */
		if (c->closing)
			return;
		start = i + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len == sizeof(c->in)) {
		/* A request that does not fit: answer once, skip to its end. */
		if (!c->skipping)
			too_long(c);
		c->skipping = true;
		c->in_len = 0;
	}
}

static void
client_ready(int fd, uint32_t events, void *arg)
{
	struct client *c = arg;

	(void)fd;
	if (events & EPOLLOUT) {
		if (client_flush(c) != 0)
			client_close(c);
		return;
	}
	if (events & EPOLLIN) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* EOF: a last request without newline still counts. */
			if (n == 0 && c->in_len > 0 && !c->skipping)
				handle_line(c, c->in, c->in_len);
			c->in_len = 0;
			c->closing = true;
		} else {
			c->in_len += (size_t)n;
			handle_input(c);
		}
		if (client_flush(c) != 0)
			client_close(c);
		return;
	}
	if (events & (EPOLLHUP | EPOLLERR))
		client_close(c);
}

static void
accept_ready(int fd, uint32_t events, void *arg)
{
	struct vs_mgmt *m = arg;
	struct client *c;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (m->nb_clients >= VS_MGMT_MAX_CLIENTS) {
		static const char busy[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";

		(void)send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(cfd);
		return;
	}
	c->m = m;
	c->fd = cfd;
	if (vs_evloop_add_fd(m->loop, cfd, EPOLLIN, client_ready, c) != 0) {
		close(cfd);
		free(c);
		return;
	}
	c->next = m->clients;
	m->clients = c;
	m->nb_clients++;
}

/* Removes a socket file at @p path nobody listens on; refuses anything else. */
static int
clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "--ctl %s: exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "--ctl %s: another process is listening there", path);
		return -EADDRINUSE;
	}
	unlink(path);
	return 0;
}

struct vs_mgmt *
vs_mgmt_create(struct vs_switch *sw, struct vs_evloop *loop, const char *path, char *err,
	       size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vs_mgmt *m;

	if (strlen(path) == 0 || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--ctl %s: a socket path has 1 to %zu characters", path,
			 sizeof(sa.sun_path) - 1);
		return NULL;
	}
	if (clear_stale(path, err, errlen) != 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->sw = sw;
	m->loop = loop;
	snprintf(m->path, sizeof(m->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	m->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0660) != 0 || listen(m->fd, 16) != 0 ||
	    vs_evloop_add_fd(loop, m->fd, EPOLLIN, accept_ready, m) != 0) {
		snprintf(err, errlen, "--ctl %s: %s", path, strerror(errno));
		if (m->fd >= 0) {
			close(m->fd);
			unlink(path);
		}
		free(m);
		return NULL;
	}
	MGMT_LOG(INFO, "listening on %s", path);
	return m;
}

void
vs_mgmt_destroy(struct vs_mgmt *m)
{
	if (m == NULL)
		return;
	while (m->clients != NULL)
		client_close(m->clients);
	vs_evloop_del_fd(m->loop, m->fd);
	close(m->fd);
	if (!m->handed_over)
		unlink(m->path);
	free(m);
}

bool
vs_mgmt_handed_over(const struct vs_mgmt *m)
{
	return m != NULL && m->handed_over;
}

struct vs_mgmt *
vs_mgmt_adopt(struct vs_switch *sw, struct vs_evloop *loop, const char *path, int fd, char *err,
	      size_t errlen)
{
	struct vs_mgmt *m = calloc(1, sizeof(*m));

	if (m == NULL || strlen(path) >= sizeof(m->path)) {
		snprintf(err, errlen, "--ctl %s: %s", path,
			 m == NULL ? "out of memory" : "too long");
		free(m);
		close(fd);
		return NULL;
	}
	m->sw = sw;
	m->loop = loop;
	m->fd = fd;
	snprintf(m->path, sizeof(m->path), "%s", path);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
	    vs_evloop_add_fd(loop, fd, EPOLLIN, accept_ready, m) != 0) {
		snprintf(err, errlen, "--ctl %s: %s", path, strerror(errno));
		close(fd);
		free(m);
		return NULL;
	}
	MGMT_LOG(INFO, "serving %s (taken over)", path);
	return m;
}
