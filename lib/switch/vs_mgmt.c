/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management socket, requests and the command table (the engine's
 * commands are in vs_mgmt_cmds.c).
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
#include "vs_mgmt_telemetry.h"
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

struct cmd_ref {
	const struct vs_mgmt_cmd *cmd;
	void *arg;
};

struct cmd_set {
	struct cmd_ref *refs;
	unsigned int n;
};

struct vs_mgmt {
	struct vs_switch *sw;
	struct vs_evloop *loop;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	unsigned int nb_clients;
	struct client *clients;
	bool handed_over; /* the socket is another process's now: leave its file */
	struct cmd_set cmds;
};

/* ---- requests: words, commands ---- */

/* A request split into words; text words live in buf, JSON words in the document. */
struct words {
	unsigned int n;
	const char *w[VS_MGMT_MAX_WORDS];
	const char *raw[VS_MGMT_MAX_WORDS]; /* text: where word i starts in the line */
	const char *line_end;
	char buf[VS_MGMT_MAX_LINE + 1];
	char line_arg[VS_MGMT_MAX_LINE + 1];
};

int
vs_mgmt_fail(struct vs_mgmt_req *req, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vs_jw_reset(req->w);
	vs_jw_object_open(req->w);
	vs_jw_kv_bool(req->w, "ok", false);
	vs_jw_kv_str(req->w, "error", msg);
	vs_jw_object_close(req->w);
	return -1;
}

static void reply_error(struct vs_jw *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
reply_error(struct vs_jw *w, const char *fmt, ...)
{
	struct vs_mgmt_req req = {.w = w};
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vs_mgmt_fail(&req, "%s", msg);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Splits a text request; a word starting with '"' runs to the closing quote. */
static int
split_text(const char *line, size_t len, struct words *ws, char *err, size_t errlen)
{
	const char *p = line, *end = line + len;
	char *o = ws->buf;

	ws->n = 0;
	ws->line_end = end;
	for (;;) {
		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			return 0;
		if (ws->n == VS_MGMT_MAX_WORDS) {
			snprintf(err, errlen, "more than %d words", VS_MGMT_MAX_WORDS);
			return -E2BIG;
		}
		ws->raw[ws->n] = p;
		ws->w[ws->n++] = o;
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
					p++;
				*o++ = *p;
			}
			if (p == end) {
				snprintf(err, errlen, "unterminated quote");
				return -EINVAL;
			}
			p++;
		} else {
			while (p < end && !is_blank(*p))
				*o++ = *p++;
		}
		*o++ = '\0';
	}
}

/* Splits @p s at blanks into words kept in ws->buf (from offset *used). */
static int
split_plain(const char *s, struct words *ws, size_t *used)
{
	for (;;) {
		size_t n;

		while (is_blank(*s) || *s == '\n')
			s++;
		if (*s == '\0')
			return 0;
		n = strcspn(s, " \t\r\n");
		if (ws->n == VS_MGMT_MAX_WORDS || *used + n + 1 > sizeof(ws->buf))
			return -E2BIG;
		memcpy(ws->buf + *used, s, n);
		ws->buf[*used + n] = '\0';
		ws->raw[ws->n] = NULL;
		ws->w[ws->n++] = ws->buf + *used;
		*used += n + 1;
		s += n;
	}
}

/* {"command": "WORDS", "args": ["ARG", ...]}: the words point into @p j. */
static int
split_json(const json_t *j, struct words *ws, char *err, size_t errlen)
{
	const json_t *args = json_object_get(j, "args"), *a;
	const char *cmd = vs_json_str(j, "command");
	size_t used = 0, i;

	ws->n = 0;
	ws->line_end = NULL;
	if (!json_is_object(j) || cmd == NULL) {
		snprintf(err, errlen, "a JSON request is an object with a \"command\" string");
		return -EINVAL;
	}
	if (args != NULL && !json_is_array(args)) {
		snprintf(err, errlen, "\"args\" must be an array of strings");
		return -EINVAL;
	}
	if (split_plain(cmd, ws, &used) != 0) {
		snprintf(err, errlen, "\"command\" is too long");
		return -E2BIG;
	}
	json_array_foreach (args, i, a) {
		if (!json_is_string(a)) {
			snprintf(err, errlen, "\"args\" must be an array of strings");
			return -EINVAL;
		}
		if (ws->n == VS_MGMT_MAX_WORDS) {
			snprintf(err, errlen, "more than %d words", VS_MGMT_MAX_WORDS);
			return -E2BIG;
		}
		ws->raw[ws->n] = NULL;
		ws->w[ws->n++] = json_string_value(a);
	}
	return 0;
}

/* @return how many leading words of @p ws spell @p name, or 0 when they do not. */
static unsigned int
name_matches(const char *name, const struct words *ws)
{
	unsigned int k = 0;

	while (*name != '\0') {
		size_t n = strcspn(name, " ");

		if (k == ws->n || strlen(ws->w[k]) != n || memcmp(ws->w[k], name, n) != 0)
			return 0;
		k++;
		name += n;
		while (*name == ' ')
			name++;
	}
	return k;
}

static const struct cmd_ref *
find_command(const struct cmd_set *set, const struct words *ws, unsigned int *nwords)
{
	const struct cmd_ref *best = NULL;

	*nwords = 0;
	for (unsigned int i = 0; i < set->n; i++) {
		unsigned int k = name_matches(set->refs[i].cmd->name, ws);

		if (k > *nwords) {
			*nwords = k;
			best = &set->refs[i];
		}
	}
	return best;
}

static void
unknown_command(const struct words *ws, struct vs_jw *w)
{
	char text[80] = "";
	size_t n = 0;

	for (unsigned int i = 0; i < ws->n && n < 64; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", i ? " " : "", ws->w[i]);
	reply_error(w, "unknown command '%.64s%s' (try 'help')", text, n > 64 ? "..." : "");
}

/* The rest of a text line after word @p k, as typed, without trailing blanks. */
static const char *
rest_of_line(struct words *ws, unsigned int k, char *buf, size_t len)
{
	const char *s = ws->raw[k], *e = ws->line_end;

	while (e > s && is_blank(e[-1]))
		e--;
	snprintf(buf, len, "%.*s", (int)(e - s), s);
	return buf;
}

static void
dispatch(struct vs_switch *sw, const struct cmd_set *set, struct words *ws, struct vs_jw *w)
{
	const struct vs_mgmt_cmd *c;
	const struct cmd_ref *ref;
	struct vs_mgmt_req req;
	unsigned int k;
	const char *one;

	if (ws->n == 0) {
		reply_error(w, "empty request (try 'help')");
		return;
	}
	ref = find_command(set, ws, &k);
	if (ref == NULL) {
		unknown_command(ws, w);
		return;
	}
	c = ref->cmd;
	req = (struct vs_mgmt_req){sw, ref->arg, ws->n - k, ws->w + k, w};
	if (c->line_arg && req.argc > 0 && ws->raw[k] != NULL) {
		one = rest_of_line(ws, k, ws->line_arg, sizeof(ws->line_arg));
		req.argc = 1;
		req.argv = &one;
	}
	if (req.argc < c->min_args) {
		reply_error(w, "usage: %s%s%s", c->name, c->args[0] ? " " : "", c->args);
		return;
	}
	if (c->max_args != VS_MGMT_ANY_ARGS && req.argc > c->max_args) {
		reply_error(w, "%s: unexpected argument '%.64s' (usage: %s%s%s)", c->name,
			    req.argv[c->max_args], c->name, c->args[0] ? " " : "", c->args);
		return;
	}
	vs_jw_reset(w);
	vs_jw_object_open(w);
	vs_jw_kv_bool(w, "ok", true);
	if (c->run(&req) != 0)
		return;
	vs_jw_object_close(w);
	if (vs_jw_text(w) == NULL)
		reply_error(w, "reply too large");
}

static void
run_request(struct vs_switch *sw, const struct cmd_set *set, const char *line, size_t len,
	    struct vs_jw *w)
{
	struct words *ws;
	char err[192];
	size_t i = 0;

	if (memchr(line, '\0', len) != NULL) {
		reply_error(w, "NUL byte in the request");
		return;
	}
	while (i < len && is_blank(line[i]))
		i++;
	if (i == len) {
		reply_error(w, "empty request (try 'help')");
		return;
	}
	if (line[i] != '{' && len > VS_MGMT_MAX_LINE) {
		reply_error(w, "request longer than %d bytes", VS_MGMT_MAX_LINE);
		return;
	}
	ws = malloc(sizeof(*ws));
	if (ws == NULL) {
		reply_error(w, "out of memory");
		return;
	}
	if (line[i] == '{') {
		json_t *j = vs_json_load(line, len, err, sizeof(err));

		if (j == NULL)
			reply_error(w, "malformed JSON: %s", err);
		else if (split_json(j, ws, err, sizeof(err)) != 0)
			reply_error(w, "%s", err);
		else
			dispatch(sw, set, ws, w);
		json_decref(j);
	} else if (split_text(line, len, ws, err, sizeof(err)) != 0) {
		reply_error(w, "%s", err);
	} else {
		dispatch(sw, set, ws, w);
	}
	free(ws);
}

static int
cmd_help(struct vs_mgmt_req *req)
{
	const struct cmd_set *set = req->arg;

	vs_jw_key(req->w, "commands");
	vs_jw_array_open(req->w);
	for (unsigned int i = 0; i < set->n; i++) {
		const struct vs_mgmt_cmd *c = set->refs[i].cmd;
		char usage[256];

		snprintf(usage, sizeof(usage), "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
		vs_jw_object_open(req->w);
		vs_jw_kv_str(req->w, "usage", usage);
		vs_jw_kv_str(req->w, "help", c->help);
		vs_jw_object_close(req->w);
	}
	vs_jw_array_close(req->w);
	return 0;
}

static const struct vs_mgmt_cmd help_cmd = {
	"help", "", "the commands of this switch", 0, 0, false, cmd_help,
};

static int
set_add(struct cmd_set *set, const struct vs_mgmt_cmd *cmds, unsigned int n, void *arg)
{
	struct cmd_ref *r;

	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = 0; j < set->n; j++)
			if (strcmp(cmds[i].name, set->refs[j].cmd->name) == 0)
				return -EEXIST;
	r = realloc(set->refs, (set->n + n) * sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		r[set->n + i] = (struct cmd_ref){&cmds[i], arg};
	set->refs = r;
	set->n += n;
	return 0;
}

/* The help command and the engine's commands. */
static int
set_init(struct cmd_set *set)
{
	set->refs = NULL;
	set->n = 0;
	if (set_add(set, &help_cmd, 1, set) != 0 ||
	    set_add(set, vs_mgmt_switch_cmds, vs_mgmt_switch_nb_cmds, NULL) != 0) {
		free(set->refs);
		return -ENOMEM;
	}
	return 0;
}

void
vs_mgmt_execute(struct vs_switch *sw, const char *line, size_t len, struct vs_jw *w)
{
	struct cmd_set set;

	if (set_init(&set) != 0) {
		reply_error(w, "out of memory");
		return;
	}
	run_request(sw, &set, line, len, w);
	free(set.refs);
}

void
vs_mgmt_run(struct vs_mgmt *m, const char *line, size_t len, struct vs_jw *w)
{
	run_request(m->sw, &m->cmds, line, len, w);
}

int
vs_mgmt_add_commands(struct vs_mgmt *m, const struct vs_mgmt_cmd *cmds, unsigned int n, void *arg)
{
	int rc = set_add(&m->cmds, cmds, n, arg);

	if (rc == 0)
		vs_mgmt_tel_register(cmds, n);
	return rc;
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
	vs_mgmt_run(c->m, line, len, &reply);
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

/* An instance with its commands, serving nothing yet; NULL: out of memory. */
static struct vs_mgmt *
mgmt_alloc(struct vs_switch *sw, struct vs_evloop *loop, const char *path)
{
	struct vs_mgmt *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	if (set_init(&m->cmds) != 0) {
		free(m);
		return NULL;
	}
	m->sw = sw;
	m->loop = loop;
	m->fd = -1;
	snprintf(m->path, sizeof(m->path), "%s", path);
	return m;
}

static void
mgmt_free(struct vs_mgmt *m)
{
	free(m->cmds.refs);
	free(m);
}

/* Serves @p m's listening socket, and its show commands through telemetry. */
static int
mgmt_serve(struct vs_mgmt *m)
{
	if (vs_evloop_add_fd(m->loop, m->fd, EPOLLIN, accept_ready, m) != 0)
		return -1;
	vs_mgmt_tel_register(vs_mgmt_switch_cmds, vs_mgmt_switch_nb_cmds);
	if (vs_mgmt_tel_attach(m, m->loop) != 0)
		MGMT_LOG(WARNING, "the show commands are not in telemetry: no pipe");
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
	m = mgmt_alloc(sw, loop, path);
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	m->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0660) != 0 || listen(m->fd, 16) != 0 || mgmt_serve(m) != 0) {
		snprintf(err, errlen, "--ctl %s: %s", path, strerror(errno));
		if (m->fd >= 0) {
			close(m->fd);
			unlink(path);
		}
		mgmt_free(m);
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
	vs_mgmt_tel_detach(m);
	while (m->clients != NULL)
		client_close(m->clients);
	vs_evloop_del_fd(m->loop, m->fd);
	close(m->fd);
	if (!m->handed_over)
		unlink(m->path);
	mgmt_free(m);
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
	struct vs_mgmt *m = NULL;

	if (strlen(path) < sizeof(m->path))
		m = mgmt_alloc(sw, loop, path);
	if (m == NULL) {
		snprintf(err, errlen, "--ctl %s: %s", path,
			 strlen(path) < sizeof(m->path) ? "out of memory" : "too long");
		close(fd);
		return NULL;
	}
	m->fd = fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 || mgmt_serve(m) != 0) {
		snprintf(err, errlen, "--ctl %s: %s", path, strerror(errno));
		close(fd);
		mgmt_free(m);
		return NULL;
	}
	MGMT_LOG(INFO, "serving %s (taken over)", path);
	return m;
}
