/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management socket's read commands through DPDK telemetry: every
 * command named "show ..." (the engine's and those a program adds) is also
 * /vswitch/show/WORD..., its arguments as the telemetry parameter:
 * "/vswitch/show/port,vm1" runs "show port vm1" and answers with its reply.
 *
 * Telemetry calls from its own thread; the commands run on the control
 * thread (drivers' state is only read there), handed over through a pipe on
 * its event loop. The caller waits at most TEL_WAIT_MS for the reply.
 *
 * The JSON reply becomes telemetry data. DPDK 22.11 nests dicts in dicts
 * but nothing in an array of containers, and names only [A-Za-z0-9_/]:
 * objects become dicts, arrays of numbers or of strings arrays, other
 * arrays dicts keyed "0", "1", ...; reals and booleans become strings;
 * other characters in names become '_'. Telemetry's own limits (256 members,
 * 127-byte strings, 16 KiB of output) cut big replies: "truncated" then says
 * so ("vswitchctl --json" has no such limit).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_common.h>
#include <rte_log.h>
#include <rte_telemetry.h>

#include "vs_evloop.h"
#include "vs_mgmt.h"
#include "vs_mgmt_telemetry.h"

#define TEL_WAIT_MS    2000
#define TEL_MAX_CMDS   32
#define TEL_MAX_NESTED 32 /* containers per reply: each one is ~68 KiB in DPDK 22.11 */
#define TEL_CMD_LEN    56 /* DPDK's longest command name, its NUL included */
#define TEL_HELP_LEN   128
#define TEL_MAX_REPLY  (1u << 20)
#define TEL_PREFIX     "/vswitch/"

/* A request from the telemetry thread; freed by whichever side lets go last. */
struct tel_req {
	char line[VS_MGMT_MAX_LINE];
	size_t len;
	char *reply; /* the reply's JSON text; NULL: none */
	bool done;
	unsigned int refs;
};

/* A telemetry command and the management command it runs. */
struct tel_cmd {
	char tel[TEL_CMD_LEN];
	char help[TEL_HELP_LEN];
	char name[TEL_CMD_LEN];
};

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tel_cond;
static pthread_once_t tel_once = PTHREAD_ONCE_INIT;
/* Registered once per process (telemetry cannot unregister); under tel_lock. */
static struct tel_cmd tel_cmds[TEL_MAX_CMDS];
static unsigned int tel_nb_cmds;
/* The server attached now, and its pipe; under tel_lock. */
static struct vs_mgmt *tel_m;
static struct vs_evloop *tel_loop;
static int tel_pipe[2] = {-1, -1};

static void
tel_init_cond(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&tel_cond, &a);
	pthread_condattr_destroy(&a);
}

/* ---- JSON to telemetry data ---- */

struct conv {
	unsigned int nested; /* containers allocated so far */
	bool truncated;
};

static void put_value(struct conv *cv, struct rte_tel_data *d, const char *key, json_t *v);

/* @p key as telemetry takes a name: [A-Za-z0-9_/], at most 127 bytes. */
static void
tel_name(const char *key, char *out, size_t len)
{
	size_t i;

	for (i = 0; key[i] != '\0' && i + 1 < len; i++) {
		char c = key[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '/';

		out[i] = ok ? c : '_';
	}
	out[i] = '\0';
}

/* An array whose members are all non-negative integers, or all strings. */
static int
scalar_array_type(json_t *a)
{
	size_t i, n = json_array_size(a);
	json_t *x;
	bool ints = true, strs = true;

	if (n == 0)
		return RTE_TEL_STRING_VAL;
	json_array_foreach (a, i, x) {
		ints &= json_is_integer(x) && json_integer_value(x) >= 0;
		strs &= json_is_string(x);
	}
	return ints ? RTE_TEL_U64_VAL : strs ? RTE_TEL_STRING_VAL : -1;
}

static struct rte_tel_data *
new_container(struct conv *cv)
{
	struct rte_tel_data *c;

	if (cv->nested >= TEL_MAX_NESTED) {
		cv->truncated = true;
		return NULL;
	}
	c = rte_tel_data_alloc();
	if (c == NULL) {
		cv->truncated = true;
		return NULL;
	}
	cv->nested++;
	return c;
}

static void
add_container(struct conv *cv, struct rte_tel_data *d, const char *key, struct rte_tel_data *c)
{
	if (rte_tel_data_add_dict_container(d, key, c, 0) != 0) {
		rte_tel_data_free(c);
		cv->truncated = true;
	}
}

static void
put_array(struct conv *cv, struct rte_tel_data *d, const char *key, json_t *a)
{
	int type = scalar_array_type(a);
	struct rte_tel_data *c = new_container(cv);
	size_t i;
	json_t *x;

	if (c == NULL)
		return;
	if (type < 0) {
		/* Objects or a mix: a dict keyed by index (22.11 nests only dicts). */
		rte_tel_data_start_dict(c);
		json_array_foreach (a, i, x) {
			char idx[24];

			snprintf(idx, sizeof(idx), "%zu", i);
			put_value(cv, c, idx, x);
		}
	} else {
		rte_tel_data_start_array(c, (enum rte_tel_value_type)type);
		json_array_foreach (a, i, x) {
			int rc = type == RTE_TEL_U64_VAL
					 ? rte_tel_data_add_array_u64(
						   c, (uint64_t)json_integer_value(x))
					 : rte_tel_data_add_array_string(c, json_string_value(x));

			cv->truncated |= rc != 0;
		}
	}
	add_container(cv, d, key, c);
}

static void
put_object(struct conv *cv, struct rte_tel_data *d, json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach (o, k, v)
		put_value(cv, d, k, v);
}

static void
put_value(struct conv *cv, struct rte_tel_data *d, const char *key, json_t *v)
{
	char name[RTE_TEL_MAX_STRING_LEN], num[64];
	struct rte_tel_data *c;
	int rc = 0;

	tel_name(key, name, sizeof(name));
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		c = new_container(cv);
		if (c == NULL)
			return;
		rte_tel_data_start_dict(c);
		put_object(cv, c, v);
		add_container(cv, d, name, c);
		return;
	case JSON_ARRAY:
		put_array(cv, d, name, v);
		return;
	case JSON_STRING:
		rc = rte_tel_data_add_dict_string(d, name, json_string_value(v));
		break;
	case JSON_INTEGER:
		if (json_integer_value(v) >= 0) {
			rc = rte_tel_data_add_dict_u64(d, name, (uint64_t)json_integer_value(v));
			break;
		}
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		rc = rte_tel_data_add_dict_string(d, name, num);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.6g", json_real_value(v));
		rc = rte_tel_data_add_dict_string(d, name, num);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		rc = rte_tel_data_add_dict_string(d, name, json_is_true(v) ? "true" : "false");
		break;
	case JSON_NULL:
		rc = rte_tel_data_add_dict_string(d, name, "null");
		break;
	}
	cv->truncated |= rc != 0;
}

/* The management reply @p text as telemetry data in @p d. */
static int
tel_from_json(const char *text, struct rte_tel_data *d)
{
	struct conv cv = {0};
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return -EIO;
	}
	rte_tel_data_start_dict(d);
	put_object(&cv, d, j);
	if (cv.truncated)
		rte_tel_data_add_dict_string(d, "truncated", "true");
	json_decref(j);
	return 0;
}

/* ---- the hand-over to the control thread ---- */

/* Drops the caller's or the control thread's hold on @p r (under tel_lock). */
static void
req_put(struct tel_req *r)
{
	if (--r->refs == 0) {
		free(r->reply);
		free(r);
	}
}

/* The control thread's answer (NULL: none) to @p r. */
static void
req_finish(struct tel_req *r, char *reply)
{
	pthread_mutex_lock(&tel_lock);
	r->reply = reply;
	r->done = true;
	pthread_cond_broadcast(&tel_cond);
	req_put(r);
	pthread_mutex_unlock(&tel_lock);
}

/* Control thread: runs the requests the telemetry thread queued. */
static void
tel_ready(int fd, uint32_t events, void *arg)
{
	struct vs_mgmt *m = arg;
	struct tel_req *r;

	(void)events;
	while (read(fd, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		struct vs_jw w;
		const char *text;

		vs_jw_init(&w, TEL_MAX_REPLY);
		vs_mgmt_run(m, r->line, r->len, &w);
		text = vs_jw_text(&w);
		req_finish(r, text != NULL ? strdup(text) : NULL);
		vs_jw_free(&w);
	}
}

/* "show port" + " " + @p params for telemetry command @p cmd. */
static int
tel_line(const char *cmd, const char *params, char *line, size_t len)
{
	const char *name = NULL;
	int n;

	pthread_mutex_lock(&tel_lock);
	for (unsigned int i = 0; i < tel_nb_cmds; i++)
		if (strcmp(tel_cmds[i].tel, cmd) == 0)
			name = tel_cmds[i].name;
	pthread_mutex_unlock(&tel_lock);
	if (name == NULL)
		return -ENOENT;
	n = snprintf(line, len, "%s%s%s", name, params != NULL && params[0] ? " " : "",
		     params != NULL ? params : "");
	return n > 0 && (size_t)n < len ? n : -E2BIG;
}

static int
tel_show(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct tel_req *r = calloc(1, sizeof(*r));
	struct timespec until;
	char *reply = NULL;
	bool done;
	int rc;

	if (r == NULL)
		return -ENOMEM;
	rc = tel_line(cmd, params, r->line, sizeof(r->line));
	if (rc < 0) {
		free(r);
		return rc;
	}
	r->len = (size_t)rc;
	r->refs = 2;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += TEL_WAIT_MS / 1000;
	pthread_mutex_lock(&tel_lock);
	if (tel_m == NULL || write(tel_pipe[1], &r, sizeof(r)) != (ssize_t)sizeof(r)) {
		pthread_mutex_unlock(&tel_lock);
		free(r);
		return -EAGAIN;
	}
	while (!r->done && pthread_cond_timedwait(&tel_cond, &tel_lock, &until) != ETIMEDOUT)
		;
	done = r->done;
	if (done) {
		reply = r->reply;
		r->reply = NULL;
	}
	req_put(r);
	pthread_mutex_unlock(&tel_lock);
	if (!done)
		return -ETIMEDOUT;
	rc = reply != NULL ? tel_from_json(reply, d) : -EIO;
	free(reply);
	return rc;
}

/* ---- registration ---- */

void
vs_mgmt_tel_register(const struct vs_mgmt_cmd *cmds, unsigned int n)
{
	pthread_mutex_lock(&tel_lock);
	for (unsigned int i = 0; i < n; i++) {
		struct tel_cmd *t = &tel_cmds[tel_nb_cmds];
		bool known = false;
		size_t k;

		if (strncmp(cmds[i].name, "show ", 5) != 0)
			continue;
		for (unsigned int j = 0; j < tel_nb_cmds; j++)
			known |= strcmp(tel_cmds[j].name, cmds[i].name) == 0;
		if (known)
			continue;
		if (tel_nb_cmds == TEL_MAX_CMDS ||
		    strlen(TEL_PREFIX) + strlen(cmds[i].name) >= sizeof(t->tel)) {
			rte_log(RTE_LOG_WARNING, vs_mgmt_logtype,
				"mgmt: '%s' is not in telemetry (too many or too long)\n",
				cmds[i].name);
			continue;
		}
		snprintf(t->name, sizeof(t->name), "%s", cmds[i].name);
		snprintf(t->tel, sizeof(t->tel), TEL_PREFIX "%s", cmds[i].name);
		for (k = strlen(TEL_PREFIX); t->tel[k] != '\0'; k++)
			t->tel[k] = t->tel[k] == ' ' ? '/' : t->tel[k] == '-' ? '_' : t->tel[k];
		snprintf(t->help, sizeof(t->help), "%s%s%s: %s", cmds[i].name,
			 cmds[i].args[0] ? " " : "", cmds[i].args, cmds[i].help);
		if (rte_telemetry_register_cmd(t->tel, tel_show, t->help) == 0)
			tel_nb_cmds++;
	}
	pthread_mutex_unlock(&tel_lock);
}

int
vs_mgmt_tel_attach(struct vs_mgmt *m, struct vs_evloop *loop)
{
	int fds[2];

	pthread_once(&tel_once, tel_init_cond);
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		return -errno;
	if (vs_evloop_add_fd(loop, fds[0], EPOLLIN, tel_ready, m) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -EIO;
	}
	pthread_mutex_lock(&tel_lock);
	if (tel_m != NULL) {
		/* Another server answers telemetry already (tests run several). */
		pthread_mutex_unlock(&tel_lock);
		vs_evloop_del_fd(loop, fds[0]);
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	tel_m = m;
	tel_loop = loop;
	tel_pipe[0] = fds[0];
	tel_pipe[1] = fds[1];
	pthread_mutex_unlock(&tel_lock);
	return 0;
}

void
vs_mgmt_tel_detach(struct vs_mgmt *m)
{
	struct tel_req *r;
	int fds[2];

	pthread_mutex_lock(&tel_lock);
	if (tel_m != m) {
		pthread_mutex_unlock(&tel_lock);
		return;
	}
	/* No request is queued after this; those queued get no reply. */
	tel_m = NULL;
	fds[0] = tel_pipe[0];
	fds[1] = tel_pipe[1];
	tel_pipe[0] = tel_pipe[1] = -1;
	pthread_mutex_unlock(&tel_lock);
	vs_evloop_del_fd(tel_loop, fds[0]);
	while (read(fds[0], &r, sizeof(r)) == (ssize_t)sizeof(r))
		req_finish(r, NULL);
	close(fds[0]);
	close(fds[1]);
}
