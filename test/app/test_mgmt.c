/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management protocol and socket: every command, errors for bad input
 * (unknown commands, malformed JSON, huge lines, NUL bytes), many clients,
 * clients that vanish, stale and live sockets.
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_log.h>
#include <rte_mbuf.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vs_json.h"
#include "vs_mgmt.h"
#include "vs_switch.h"

static unsigned int mgmt_seq;

struct env {
	struct vs_evloop *loop;
	struct vs_switch *sw;
};

static int
env_init(struct env *e, char *why, size_t len)
{
	struct vs_switch_config cfg = {0};
	char name[16];

	if (vt_eal_init("switch", why, len) != 0)
		return -1;
	e->loop = vs_evloop_create();
	snprintf(name, sizeof(name), "m%u", mgmt_seq++);
	cfg.loop = e->loop;
	cfg.name = name;
	cfg.manual = true;
	cfg.nb_workers = 2;
	cfg.nb_mbufs = 2047;
	cfg.fdb_size = 1024;
	e->sw = vs_switch_create(&cfg, why, len);
	return e->sw != NULL ? 0 : -1;
}

static void
env_fini(struct env *e)
{
	vs_switch_destroy(e->sw);
	vs_evloop_destroy(e->loop);
}

#define ENV(e)                                                                                     \
	do {                                                                                       \
		char why_[256];                                                                    \
		if (env_init((e), why_, sizeof(why_)) != 0) {                                      \
			if (!vt_eal_ready())                                                       \
				TEST_SKIP("%s", why_);                                             \
			TEST_ASSERT(false, "engine: %s", why_);                                    \
		}                                                                                  \
	} while (0)

/* Runs @p req and parses the reply; the caller frees it. */
static json_t *
exec(struct vs_switch *sw, const char *req)
{
	struct vs_jw w;
	json_t *j = NULL;
	char err[128];

	vs_jw_init(&w, 0);
	vs_mgmt_execute(sw, req, strlen(req), &w);
	if (vs_jw_text(&w) != NULL) {
		j = vs_json_load(vs_jw_text(&w), strlen(vs_jw_text(&w)), err, sizeof(err));
		if (j == NULL)
			printf("unparsable reply '%s': %s\n", vs_jw_text(&w), err);
	}
	vs_jw_free(&w);
	return j;
}

static bool
ok(const json_t *j)
{
	return j != NULL && json_is_true(json_object_get(j, "ok"));
}

static const char *
error_of(const json_t *j)
{
	const char *e = vs_json_str(j, "error");

	return e != NULL ? e : "";
}

static bool
str_is(const json_t *o, const char *key, const char *want)
{
	const char *v = vs_json_str(o, key);

	return v != NULL && strcmp(v, want) == 0;
}

static int
test_mgmt_commands_reply_json(void)
{
	const json_t *ports, *l;
	json_t *j;
	struct env e;

	ENV(&e);
	j = exec(e.sw, "add-port testq,name=a,queues=2");
	TEST_ASSERT(ok(j), "add-port: %s", error_of(j));
	TEST_ASSERT(str_is(j, "port", "a"), "name in reply");
	json_decref(j);
	j = exec(e.sw, "{\"command\": \"add-port\", \"args\": [\"testq,name=b,vlan=20\"]}");
	TEST_ASSERT(ok(j), "JSON add-port: %s", error_of(j));
	json_decref(j);
	j = exec(e.sw, "  show   ports ");
	TEST_ASSERT(ok(j), "show ports");
	ports = json_object_get(j, "ports");
	TEST_ASSERT_EQUAL(json_array_size(ports), 2, "two ports");
	TEST_ASSERT(str_is(json_array_get(ports, 0), "name", "a"), "a");
	TEST_ASSERT(str_is(json_array_get(ports, 0), "state", "up"), "up");
	TEST_ASSERT(str_is(json_array_get(ports, 1), "vlan", "20"), "vlan");
	json_decref(j);
	j = exec(e.sw, "show lcores");
	TEST_ASSERT(ok(j), "show lcores");
	l = json_object_get(j, "lcores");
	TEST_ASSERT_EQUAL(json_array_size(l), 2, "two workers");
	TEST_ASSERT_EQUAL(json_array_size(json_object_get(json_array_get(l, 0), "queues")) +
				  json_array_size(json_object_get(json_array_get(l, 1), "queues")),
			  3, "three queues polled");
	json_decref(j);
	j = exec(e.sw, "show fdb");
	TEST_ASSERT(ok(j) && json_array_size(json_object_get(j, "entries")) == 0, "empty fdb");
	json_decref(j);
	j = exec(e.sw, "fdb flush");
	TEST_ASSERT(ok(j), "fdb flush");
	json_decref(j);
	j = exec(e.sw, "del-port a");
	TEST_ASSERT(ok(j), "del-port");
	json_decref(j);
	j = exec(e.sw, "{\"command\":\"help\"}");
	TEST_ASSERT(ok(j) && json_array_size(json_object_get(j, "commands")) >= 7, "help");
	TEST_ASSERT(str_is(json_array_get(json_object_get(j, "commands"), 0), "usage", "help"),
		    "help lists usage lines");
	json_decref(j);
	env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(mgmt_commands_reply_json, fast, test_mgmt_commands_reply_json)

/* Words: a command's words may come from "command" and "args" alike; quotes group. */
static int
test_mgmt_splits_words_and_finds_the_longest_command(void)
{
	json_t *j;
	struct env e;

	ENV(&e);
	/* A SPEC is the rest of the line, as typed: quotes and blanks kept. */
	j = exec(e.sw, "add-port testq,name=\"q a\" ");
	TEST_ASSERT(!ok(j) && strstr(error_of(j), "q a") != NULL, "raw SPEC: %s", error_of(j));
	json_decref(j);
	j = exec(e.sw, "{\"command\": \"fdb\", \"args\": [\"flush\"]}");
	TEST_ASSERT(ok(j) && json_object_get(j, "flushed") != NULL, "fdb + [flush]: %s",
		    error_of(j));
	json_decref(j);
	j = exec(e.sw, "{\"command\": \" show\\tfdb \", \"args\": []}");
	TEST_ASSERT(ok(j) && json_object_get(j, "entries") != NULL, "command words: %s",
		    error_of(j));
	json_decref(j);
	/* A quoted word is one argument, with \" and \\ inside. */
	j = exec(e.sw, "del-port \"a \\\"b\\\\\"");
	TEST_ASSERT(!ok(j) && strstr(error_of(j), "'a \"b\\'") != NULL, "quoted: %s", error_of(j));
	json_decref(j);
	j = exec(e.sw, "{\"command\": \"del-port\", \"args\": [\"x y\"]}");
	TEST_ASSERT(!ok(j) && strstr(error_of(j), "'x y'") != NULL, "JSON arg: %s", error_of(j));
	json_decref(j);
	env_fini(&e);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(mgmt_splits_words_and_finds_the_longest_command, fast, test_mgmt_splits_words_and_finds_the_longest_command)
/* clang-format on */

static int
test_mgmt_rejects_bad_requests(void)
{
	static const struct {
		const char *req, *why;
	} bad[] = {
		{"frobnicate", "unknown command 'frobnicate'"},
		{"show", "unknown command 'show'"},
		{"show ports now", "unexpected argument 'now' (usage: show ports)"},
		{"", "empty request"},
		{"   ", "empty request"},
		{"add-port", "usage: add-port SPEC"},
		{"add-port nosuch,x=1", "unknown port type 'nosuch'"},
		{"add-port testq,queues=0", "key 'queues'"},
		{"del-port", "usage: del-port NAME"},
		{"del-port ghost", "no port named 'ghost'"},
		{"del-port a b", "unexpected argument 'b'"},
		{"del-port \"a", "unterminated quote"},
		{"{", "malformed JSON"},
		{"{\"command\": }", "malformed JSON"},
		{"{\"command\": \"help\", \"command\": \"help\"}", "malformed JSON"},
		{"{\"command\": \"help\"} x", "malformed JSON"},
		{"{\"command\": \"\\u0000\"}", "malformed JSON"},
		{"{\"cmd\": \"show ports\"}", "\"command\" string"},
		{"{\"command\": 5}", "\"command\" string"},
		{"{\"command\": \"\"}", "empty request"},
		{"{\"command\": \"add-port\", \"args\": \"x\"}", "\"args\" must be an array"},
		{"{\"command\": \"add-port\", \"args\": [\"a\", \"b\"]}",
		 "unexpected argument 'b'"},
		{"{\"command\": \"add-port\", \"args\": [1]}", "\"args\" must be"},
	};
	struct env e;
	struct vs_jw w;
	char big[VS_MGMT_MAX_LINE + 100], many[3 * VS_MGMT_MAX_WORDS + 16];

	ENV(&e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = exec(e.sw, bad[i].req);

		TEST_ASSERT(j != NULL && !ok(j), "'%s' must fail", bad[i].req);
		TEST_ASSERT(strstr(error_of(j), bad[i].why) != NULL, "'%s': '%s' lacks '%s'",
			    bad[i].req, error_of(j), bad[i].why);
		json_decref(j);
	}
	vs_jw_init(&w, 0);
	vs_mgmt_execute(e.sw, "show\0ports", 10, &w);
	TEST_ASSERT(strstr(vs_jw_text(&w), "NUL byte") != NULL, "%s", vs_jw_text(&w));
	memset(big, 'a', sizeof(big));
	vs_mgmt_execute(e.sw, big, sizeof(big), &w);
	TEST_ASSERT(strstr(vs_jw_text(&w), "longer than") != NULL, "%s", vs_jw_text(&w));
	for (size_t i = 0; i + 2 < sizeof(many); i += 2)
		memcpy(many + i, "x ", 2);
	vs_mgmt_execute(e.sw, many, sizeof(many) - 2, &w);
	TEST_ASSERT(strstr(vs_jw_text(&w), "more than") != NULL, "%s", vs_jw_text(&w));
	vs_jw_free(&w);
	env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(mgmt_rejects_bad_requests, fast, test_mgmt_rejects_bad_requests)

static int
run_echo(struct vs_mgmt_req *req)
{
	vs_jw_kv_u64(req->w, "argc", req->argc);
	vs_jw_kv_str(req->w, "last", req->argc > 0 ? req->argv[req->argc - 1] : "");
	vs_jw_kv_str(req->w, "tag", req->arg);
	return 0;
}

static int
run_refuse(struct vs_mgmt_req *req)
{
	return vs_mgmt_fail(req, "refused %s", req->argv[0]);
}

/* A program adds its own commands; they reach the socket like the engine's. */
static int
test_mgmt_takes_commands_from_a_program(void)
{
	static const struct vs_mgmt_cmd cmds[] = {
		{"show ports extra", "[X...]", "a longer name wins", 0, VS_MGMT_ANY_ARGS, false,
		 run_echo},
		{"refuse", "WHAT", "fails", 1, 1, false, run_refuse},
	};
	static const struct vs_mgmt_cmd dup[] = {
		{"show fdb", "", "", 0, 0, false, run_echo},
	};
	char path[108], err[256];
	struct vs_mgmt *m;
	struct vs_jw w;
	struct env e;

	ENV(&e);
	vt_path(path, sizeof(path), "cmds.ctl");
	m = vs_mgmt_create(e.sw, e.loop, path, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(m, "%s", err);
	TEST_ASSERT_SUCCESS(vs_mgmt_add_commands(m, cmds, 2, "mine"), "add");
	TEST_ASSERT_EQUAL(vs_mgmt_add_commands(m, dup, 1, NULL), -EEXIST, "a name is taken once");
	vs_jw_init(&w, 0);
	vs_mgmt_run(m, "show ports extra 1 2 3", 22, &w);
	TEST_ASSERT(strstr(vs_jw_text(&w), "\"argc\":3,\"last\":\"3\",\"tag\":\"mine\"") != NULL,
		    "%s", vs_jw_text(&w));
	vs_mgmt_run(m, "show ports", 10, &w);
	TEST_ASSERT(strstr(vs_jw_text(&w), "\"ports\"") != NULL, "the engine's: %s",
		    vs_jw_text(&w));
	vs_mgmt_run(m, "refuse it", 9, &w);
	TEST_ASSERT(strcmp(vs_jw_text(&w), "{\"ok\":false,\"error\":\"refused it\"}") == 0, "%s",
		    vs_jw_text(&w));
	vs_mgmt_run(m, "help", 4, &w);
	TEST_ASSERT(strstr(vs_jw_text(&w), "\"usage\":\"refuse WHAT\",\"help\":\"fails\"") != NULL,
		    "%s", vs_jw_text(&w));
	vs_jw_free(&w);
	vs_mgmt_destroy(m);
	env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(mgmt_takes_commands_from_a_program, fast, test_mgmt_takes_commands_from_a_program)

/* The run-time commands through the protocol, and their refusals. */
static int
test_mgmt_changes_ports_and_fdb_at_run_time(void)
{
	static const struct {
		const char *req, *why;
	} bad[] = {
		{"set-port a", "usage: set-port NAME key=value..."},
		{"set-port ghost vlan=3", "no port named 'ghost'"},
		{"set-port a queues=2", "cannot change at run time"},
		{"set-port a vlan", "is not key=value"},
		{"show port ghost", "no port named 'ghost'"},
		{"clear counters ghost", "no port named 'ghost'"},
		{"fdb add 52:54:00:00:00:01", "usage: fdb add MAC [vlan V] PORT"},
		{"fdb add 52:54:00:00:00 a", "no MAC address"},
		{"fdb add 52:54:00:00:00:0g a", "no MAC address"},
		{"fdb add 52:54:00:00:00:01 vlan 0 a", "not in 1..4094"},
		{"fdb add 52:54:00:00:00:01 vlan 7 a", "does not carry VLAN 7"},
		{"fdb add 52:54:00:00:00:01 b", "is a trunk: give the VLAN"},
		{"fdb add 01:00:5e:00:00:01 a", "group"},
		{"fdb del 52:54:00:00:00:09", "no entry"},
		{"fdb del 52:54:00:00:00:09 vlan", "usage"},
		{"fdb flush port", "needs a value"},
		{"fdb flush vlan 5000", "not in 1..4094"},
		{"fdb flush colour red", "unexpected 'colour'"},
		{"set fdb-aging soon", "is not 0..1000000 seconds"},
		{"set fdb-aging -1", "is not 0..1000000 seconds"},
	};
	const json_t *p;
	json_t *j;
	struct env e;

	ENV(&e);
	json_decref(exec(e.sw, "add-port testq,name=a,vlan=3"));
	json_decref(exec(e.sw, "add-port testq,name=b,trunk=3:4"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = exec(e.sw, bad[i].req);
		TEST_ASSERT(j != NULL && !ok(j), "'%s' must fail", bad[i].req);
		TEST_ASSERT(strstr(error_of(j), bad[i].why) != NULL, "'%s': '%s' lacks '%s'",
			    bad[i].req, error_of(j), bad[i].why);
		json_decref(j);
	}
	j = exec(e.sw, "set-port a vlan=4 admin=down");
	TEST_ASSERT(ok(j), "set-port: %s", error_of(j));
	json_decref(j);
	j = exec(e.sw, "show port a");
	p = json_object_get(j, "port");
	TEST_ASSERT(ok(j) && str_is(p, "vlan", "4") && str_is(p, "admin", "down"), "changed");
	TEST_ASSERT(json_is_object(json_object_get(p, "rx_drops")) &&
			    json_object_get(json_object_get(p, "tx_drops"), "tx_full") != NULL,
		    "drops by reason");
	TEST_ASSERT(json_array_size(json_object_get(p, "rxq")) == 1, "per-queue counters");
	json_decref(j);
	j = exec(e.sw, "fdb add 52:54:00:00:00:01 a");
	TEST_ASSERT(ok(j) && vs_json_u64_of(j, "vlan") == 4, "static in a's VLAN: %s", error_of(j));
	json_decref(j);
	j = exec(e.sw, "fdb add 52:54:00:00:00:01 vlan 3 b");
	TEST_ASSERT(ok(j), "static on the trunk: %s", error_of(j));
	json_decref(j);
	j = exec(e.sw, "show fdb");
	TEST_ASSERT(ok(j) && json_array_size(json_object_get(j, "entries")) == 2 &&
			    json_is_true(json_object_get(
				    json_array_get(json_object_get(j, "entries"), 0), "static")),
		    "two static entries");
	json_decref(j);
	j = exec(e.sw, "fdb flush port b vlan 3");
	TEST_ASSERT(ok(j) && vs_json_u64_of(j, "flushed") == 0, "statics stay");
	json_decref(j);
	j = exec(e.sw, "fdb del 52:54:00:00:00:01");
	TEST_ASSERT(ok(j) && vs_json_u64_of(j, "removed") == 2, "both VLANs: %s", error_of(j));
	json_decref(j);
	j = exec(e.sw, "set fdb-aging 42");
	json_decref(j);
	j = exec(e.sw, "show fdb");
	TEST_ASSERT(vs_json_u64_of(j, "aging") == 42, "aging now 42");
	json_decref(j);
	j = exec(e.sw, "clear counters");
	TEST_ASSERT(ok(j), "clear all");
	json_decref(j);
	j = exec(e.sw, "clear counters a");
	TEST_ASSERT(ok(j), "clear one");
	json_decref(j);
	env_fini(&e);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(mgmt_changes_ports_and_fdb_at_run_time, fast, test_mgmt_changes_ports_and_fdb_at_run_time)
/* clang-format on */

/* show log lists rte_log's types; log level sets those a glob matches. */
static int
test_mgmt_sets_log_levels(void)
{
	int type = rte_log_register("vswitch.mgmt");
	const json_t *t;
	json_t *j;
	struct env e;
	size_t i;
	bool seen = false;

	ENV(&e);
	TEST_ASSERT(type >= 0, "vswitch.mgmt is registered");
	j = exec(e.sw, "show log");
	TEST_ASSERT(ok(j), "show log: %s", error_of(j));
	json_array_foreach (json_object_get(j, "types"), i, t)
		seen |= str_is(t, "type", "vswitch.mgmt") && str_is(t, "level", "info");
	TEST_ASSERT(seen, "vswitch.mgmt at info in show log");
	json_decref(j);
	j = exec(e.sw, "log level vswitch.mg* debug");
	TEST_ASSERT(ok(j), "log level: %s", error_of(j));
	TEST_ASSERT_EQUAL(json_array_size(json_object_get(j, "types")), 1, "one type matched");
	TEST_ASSERT(str_is(json_array_get(json_object_get(j, "types"), 0), "level", "debug"),
		    "now debug");
	json_decref(j);
	TEST_ASSERT_EQUAL(rte_log_get_level((uint32_t)type), (int)RTE_LOG_DEBUG, "rte_log agrees");
	j = exec(e.sw, "log level vswitch.mgmt 5");
	TEST_ASSERT(ok(j), "numeric: %s", error_of(j));
	json_decref(j);
	TEST_ASSERT_EQUAL(rte_log_get_level((uint32_t)type), (int)RTE_LOG_WARNING, "warning");
	j = exec(e.sw, "log level vswitch.mgmt inf");
	TEST_ASSERT(ok(j), "a prefix: %s", error_of(j));
	json_decref(j);
	TEST_ASSERT_EQUAL(rte_log_get_level((uint32_t)type), (int)RTE_LOG_INFO, "back to info");
	j = exec(e.sw, "log level vswitch.mgmt loud");
	TEST_ASSERT(!ok(j) && strstr(error_of(j), "is no level") != NULL, "%s", error_of(j));
	json_decref(j);
	j = exec(e.sw, "log level vswitch.mgmt 9");
	TEST_ASSERT(!ok(j) && strstr(error_of(j), "is no level") != NULL, "%s", error_of(j));
	json_decref(j);
	j = exec(e.sw, "log level no.such.type debug");
	TEST_ASSERT(!ok(j) && strstr(error_of(j), "no log type matches") != NULL, "%s",
		    error_of(j));
	json_decref(j);
	TEST_ASSERT_EQUAL(rte_log_get_level((uint32_t)type), (int)RTE_LOG_INFO, "unchanged");
	env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(mgmt_sets_log_levels, fast, test_mgmt_sets_log_levels)

/* ---- over the socket ---- */

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one reply line (up to 5 s). */
static int
read_line(int fd, char *buf, size_t len)
{
	size_t got = 0;
	uint64_t end = vt_now_ms() + 5000;

	while (got + 1 < len && vt_now_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf + got, 1, 0);
		if (n <= 0)
			break;
		if (buf[got] == '\n') {
			buf[got] = '\0';
			return 0;
		}
		got++;
	}
	buf[got] = '\0';
	return -1;
}

struct client_run {
	const char *path;
	int failures;
	char last[512];
	uint32_t done;
};

static void
fail_client(struct client_run *c, const char *what, const char *got)
{
	c->failures++;
	snprintf(c->last, sizeof(c->last), "%s: '%.300s'", what, got);
}

/* The client side of test_mgmt_socket_survives_abuse, on its own thread. */
static void *
abuse(void *arg)
{
	struct client_run *c = arg;
	static char huge[200000];
	int fds[VS_MGMT_MAX_CLIENTS + 6];
	char line[4096];
	int fd, extra = 0;

	/* 1. A huge line: one error, then the connection still works. */
	fd = connect_to(c->path);
	memset(huge, 'x', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\n';
	if (fd < 0 || send(fd, huge, sizeof(huge), MSG_NOSIGNAL) != (ssize_t)sizeof(huge))
		fail_client(c, "send huge", "");
	if (read_line(fd, line, sizeof(line)) != 0 || strstr(line, "longer than") == NULL)
		fail_client(c, "huge line reply", line);
	if (send(fd, "show ports\n", 11, MSG_NOSIGNAL) != 11 ||
	    read_line(fd, line, sizeof(line)) != 0 || strstr(line, "\"ok\":true") == NULL)
		fail_client(c, "after the huge line", line);
	/* 2. Garbage, malformed JSON, a partial line then EOF. */
	if (send(fd, "\x01\x02\xff\n{\"command\":\n", 16, MSG_NOSIGNAL) != 16 ||
	    read_line(fd, line, sizeof(line)) != 0 || strstr(line, "unknown command") == NULL)
		fail_client(c, "garbage reply", line);
	if (read_line(fd, line, sizeof(line)) != 0 || strstr(line, "malformed JSON") == NULL)
		fail_client(c, "malformed JSON reply", line);
	if (send(fd, "show fdb", 8, MSG_NOSIGNAL) != 8 || shutdown(fd, SHUT_WR) != 0 ||
	    read_line(fd, line, sizeof(line)) != 0 || strstr(line, "\"entries\"") == NULL)
		fail_client(c, "request ended by EOF", line);
	close(fd);
	/* 3. Pipelined requests in one write: replies in order. */
	fd = connect_to(c->path);
	if (fd < 0 || send(fd, "help\nshow lcores\nbogus\n", 23, MSG_NOSIGNAL) != 23)
		fail_client(c, "pipelined send", "");
	if (read_line(fd, line, sizeof(line)) != 0 || strstr(line, "commands") == NULL)
		fail_client(c, "pipelined 1", line);
	if (read_line(fd, line, sizeof(line)) != 0 || strstr(line, "lcores") == NULL)
		fail_client(c, "pipelined 2", line);
	if (read_line(fd, line, sizeof(line)) != 0 || strstr(line, "unknown command") == NULL)
		fail_client(c, "pipelined 3", line);
	/* 4. A client that sends and vanishes without reading. */
	close(fd);
	fd = connect_to(c->path);
	if (fd >= 0) {
		(void)send(fd, "show ports\nshow ports\n", 22, MSG_NOSIGNAL);
		close(fd);
	}
	/* 5. More clients than allowed: the extra ones are told and closed. */
	for (int i = 0; i < VS_MGMT_MAX_CLIENTS + 6; i++)
		fds[i] = connect_to(c->path);
	usleep(200 * 1000);
	for (int i = 0; i < VS_MGMT_MAX_CLIENTS + 6; i++) {
		struct pollfd p = {.fd = fds[i], .events = POLLIN};

		if (fds[i] >= 0 && poll(&p, 1, 0) == 1 &&
		    read_line(fds[i], line, sizeof(line)) == 0 &&
		    strstr(line, "too many clients") != NULL)
			extra++;
	}
	if (extra < 6)
		fail_client(c, "too many clients refused", "fewer than 6");
	for (int i = 0; i < VS_MGMT_MAX_CLIENTS + 6; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	usleep(100 * 1000);
	/* 6. And still serving. */
	fd = connect_to(c->path);
	if (fd < 0 || send(fd, "show ports\n", 11, MSG_NOSIGNAL) != 11 ||
	    read_line(fd, line, sizeof(line)) != 0 || strstr(line, "\"ok\":true") == NULL)
		fail_client(c, "after the abuse", line);
	if (fd >= 0)
		close(fd);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int
test_mgmt_socket_survives_abuse(void)
{
	struct client_run c = {0};
	struct vs_mgmt *m;
	struct env e;
	pthread_t th;
	char path[256], err[256];
	int fds_before;
	uint64_t end;

	ENV(&e);
	fds_before = vt_count_fds();
	vt_path(path, sizeof(path), "mgmt.ctl");
	m = vs_mgmt_create(e.sw, e.loop, path, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(m, "%s", err);
	c.path = path;
	TEST_ASSERT_SUCCESS(pthread_create(&th, NULL, abuse, &c), "thread");
	end = vt_now_ms() + 30000;
	while (!__atomic_load_n(&c.done, __ATOMIC_ACQUIRE) && vt_now_ms() < end)
		vs_evloop_run_once(e.loop, 50);
	TEST_ASSERT(__atomic_load_n(&c.done, __ATOMIC_ACQUIRE), "client finished");
	pthread_join(th, NULL);
	TEST_ASSERT_EQUAL(c.failures, 0, "last failure: %s", c.last);
	/* Connections the clients closed are gone once the loop saw them. */
	for (int i = 0; i < 20; i++)
		vs_evloop_run_once(e.loop, 10);
	vs_mgmt_destroy(m);
	TEST_ASSERT(access(path, F_OK) != 0, "socket removed");
	TEST_ASSERT_EQUAL(vt_count_fds(), fds_before, "no fd leaked");
	env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(mgmt_socket_survives_abuse, fast, test_mgmt_socket_survives_abuse)

static int
test_mgmt_replaces_only_stale_sockets(void)
{
	struct vs_mgmt *m, *m2;
	struct env e;
	char path[256], err[256];
	struct stat st;
	int fd;
	FILE *f;

	ENV(&e);
	vt_path(path, sizeof(path), "stale.ctl");
	/* A socket file nobody listens on is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
		TEST_ASSERT_SUCCESS(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), "bind");
	}
	close(fd);
	m = vs_mgmt_create(e.sw, e.loop, path, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(m, "stale socket replaced: %s", err);
	TEST_ASSERT_SUCCESS(stat(path, &st), "stat");
	TEST_ASSERT_EQUAL(st.st_mode & 0777, 0660, "mode 0660");
	/* A live one is not. */
	m2 = vs_mgmt_create(e.sw, e.loop, path, err, sizeof(err));
	TEST_ASSERT(m2 == NULL && strstr(err, "another process is listening") != NULL, "%s", err);
	vs_mgmt_destroy(m);
	/* Nor is a regular file. */
	f = fopen(path, "w");
	TEST_ASSERT_NOT_NULL(f, "file");
	fclose(f);
	m = vs_mgmt_create(e.sw, e.loop, path, err, sizeof(err));
	TEST_ASSERT(m == NULL && strstr(err, "is not a socket") != NULL, "%s", err);
	TEST_ASSERT_SUCCESS(access(path, F_OK), "the file is still there");
	unlink(path);
	m = vs_mgmt_create(e.sw, e.loop, "/nonexistent-dir/x.ctl", err, sizeof(err));
	TEST_ASSERT(m == NULL && strstr(err, "--ctl /nonexistent-dir/x.ctl") != NULL, "%s", err);
	env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(mgmt_replaces_only_stale_sockets, fast, test_mgmt_replaces_only_stale_sockets)

/* The pool's entry in a `show mempool` reply, or NULL. */
static const json_t *
pool_of(const json_t *j, const char *name)
{
	const json_t *x;
	size_t i;

	json_array_foreach (json_object_get(j, "mempools"), i, x)
		if (str_is(x, "name", name))
			return x;
	return NULL;
}

static uint64_t
field(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v)
								: UINT64_MAX;
}

/*
 * show mempool: the engine's pool with its size, and "in use" following
 * the mbufs taken out (as a leak would) and given back, "free" the rest.
 */
static int
test_mgmt_show_mempool_counts_mbufs_in_use(void)
{
	struct rte_mbuf *m[100];
	struct rte_mempool *mp;
	const json_t *p;
	uint64_t base;
	json_t *j;
	struct env e;

	ENV(&e);
	mp = vs_switch_mempool(e.sw);
	j = exec(e.sw, "show mempool");
	TEST_ASSERT(ok(j), "show mempool: %s", error_of(j));
	p = pool_of(j, mp->name);
	TEST_ASSERT_NOT_NULL(p, "the engine's pool %s is listed", mp->name);
	TEST_ASSERT_EQUAL(field(p, "size"), 2047, "size: the configured mbufs");
	TEST_ASSERT_EQUAL(field(p, "in_use") + field(p, "free"), 2047, "in use + free = size");
	TEST_ASSERT_EQUAL(field(p, "data_room"), RTE_MBUF_DEFAULT_BUF_SIZE, "data room");
	TEST_ASSERT_EQUAL(field(p, "cache_size"), 256, "cache size");
	base = field(p, "in_use");
	json_decref(j);

	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, m, RTE_DIM(m)), "take 100 mbufs");
	j = exec(e.sw, "show mempool");
	p = pool_of(j, mp->name);
	TEST_ASSERT(p != NULL && field(p, "in_use") == base + 100 &&
			    field(p, "free") == 2047 - base - 100,
		    "100 more in use: %" PRIu64 " in use, %" PRIu64 " free (was %" PRIu64 ")",
		    p != NULL ? field(p, "in_use") : 0, p != NULL ? field(p, "free") : 0, base);
	TEST_ASSERT(field(p, "cached") <= field(p, "free"), "cached is part of free");
	json_decref(j);

	rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	j = exec(e.sw, "show mempool");
	p = pool_of(j, mp->name);
	TEST_ASSERT(p != NULL && field(p, "in_use") == base, "given back: %" PRIu64 " in use",
		    p != NULL ? field(p, "in_use") : 0);
	json_decref(j);
	env_fini(&e);
	return TEST_SUCCESS;
}
REGISTER_TEST(mgmt_show_mempool_counts_mbufs_in_use, fast,
	      test_mgmt_show_mempool_counts_mbufs_in_use)
