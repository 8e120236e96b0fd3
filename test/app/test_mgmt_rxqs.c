/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The placement commands of the management protocol: show rxqs, rxq-move,
 * rebalance, auto-lb, on an engine in manual mode with two workers and
 * "testq" ports (test/switch/vt_switch.h) that make traffic when polled.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vs_json.h"
#include "vs_mgmt.h"
#include "vs_switch.h"

static json_t *
ask(struct vs_switch *sw, const char *req)
{
	struct vs_jw w;
	json_t *j = NULL;
	char err[128];

	vs_jw_init(&w, 0);
	vs_mgmt_execute(sw, req, strlen(req), &w);
	if (vs_jw_text(&w) != NULL)
		j = vs_json_load(vs_jw_text(&w), strlen(vs_jw_text(&w)), err, sizeof(err));
	vs_jw_free(&w);
	return j;
}

static bool
replied_ok(const json_t *j)
{
	return j != NULL && json_is_true(json_object_get(j, "ok"));
}

static const char *
error_text(const json_t *j)
{
	const char *e = j != NULL ? vs_json_str(j, "error") : NULL;

	return e != NULL ? e : "";
}

/* The worker of rx queue @p q of port @p port in a show rxqs reply, or -2. */
static int64_t
worker_in(const json_t *j, const char *port, uint64_t q)
{
	const json_t *x;
	size_t i;

	json_array_foreach (json_object_get(j, "rxqs"), i, x) {
		const char *p = vs_json_str(x, "port");
		const json_t *wk = json_object_get(x, "worker");

		if (p != NULL && strcmp(p, port) == 0 &&
		    json_integer_value(json_object_get(x, "queue")) == (json_int_t)q &&
		    json_is_integer(wk))
			return json_integer_value(wk);
	}
	return -2;
}

static int
expect_error(struct vs_switch *sw, const char *req, const char *why)
{
	json_t *j = ask(sw, req);

	TEST_ASSERT(j != NULL && !replied_ok(j), "'%s' must fail", req);
	TEST_ASSERT(strstr(error_text(j), why) != NULL, "'%s': '%s' lacks '%s'", req, error_text(j),
		    why);
	json_decref(j);
	return TEST_SUCCESS;
}

static int
test_mgmt_placement_commands(void)
{
	struct vs_switch_config cfg = {0};
	struct vs_evloop *loop;
	struct vs_switch *sw;
	json_t *j;
	char why[256];

	if (vt_eal_init("switch", why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	loop = vs_evloop_create();
	TEST_ASSERT_NOT_NULL(loop, "loop");
	cfg.loop = loop;
	cfg.name = "mrxq";
	cfg.manual = true;
	cfg.nb_workers = 2;
	cfg.nb_mbufs = 2047;
	cfg.fdb_size = 1024;
	sw = vs_switch_create(&cfg, why, sizeof(why));
	TEST_ASSERT_NOT_NULL(sw, "engine: %s", why);
	j = ask(sw, "add-port testq,name=a,queues=2,gen=8");
	TEST_ASSERT(replied_ok(j), "add-port a: %s", error_text(j));
	json_decref(j);
	j = ask(sw, "add-port testq,name=b,queues=1,gen=0");
	TEST_ASSERT(replied_ok(j), "add-port b: %s", error_text(j));
	json_decref(j);

	j = ask(sw, "show rxqs");
	TEST_ASSERT(replied_ok(j), "show rxqs: %s", error_text(j));
	TEST_ASSERT_EQUAL(json_array_size(json_object_get(j, "rxqs")), 3u, "three rx queues");
	TEST_ASSERT(worker_in(j, "a", 0) >= 0 && worker_in(j, "a", 1) >= 0 &&
			    worker_in(j, "b", 0) >= 0,
		    "each polled");
	TEST_ASSERT(json_is_false(json_object_get(json_object_get(j, "auto_lb"), "on")),
		    "auto-lb off by default");
	json_decref(j);

	/* Both of a's queues on worker 0, b's on worker 1; traffic on a. */
	j = ask(sw, "rxq-move a:0@0");
	TEST_ASSERT(replied_ok(j), "rxq-move a:0@0: %s", error_text(j));
	json_decref(j);
	j = ask(sw, "{\"command\": \"rxq-move\", \"args\": [\"a:1@0\"]}");
	TEST_ASSERT(replied_ok(j), "rxq-move a:1@0 (JSON): %s", error_text(j));
	json_decref(j);
	j = ask(sw, "rxq-move b:0@1");
	TEST_ASSERT(replied_ok(j), "rxq-move b:0@1: %s", error_text(j));
	json_decref(j);
	j = ask(sw, "show rxqs");
	TEST_ASSERT(worker_in(j, "a", 0) == 0 && worker_in(j, "a", 1) == 0 &&
			    worker_in(j, "b", 0) == 1,
		    "placed by hand");
	json_decref(j);
	for (int i = 0; i < 200; i++) {
		vs_switch_poll(sw, 0);
		vs_switch_poll(sw, 1);
	}
	j = ask(sw, "rebalance");
	TEST_ASSERT(replied_ok(j), "rebalance: %s", error_text(j));
	{
		TEST_ASSERT(json_integer_value(json_object_get(j, "moved")) >= 1, "a queue moved");
	}
	json_decref(j);
	j = ask(sw, "show rxqs");
	TEST_ASSERT(worker_in(j, "a", 0) != worker_in(j, "a", 1),
		    "a's two busy queues apart after rebalance");
	json_decref(j);

	j = ask(sw, "auto-lb on,interval=5,threshold=50,improvement=10");
	TEST_ASSERT(replied_ok(j), "auto-lb: %s", error_text(j));
	{
		const json_t *a = json_object_get(j, "auto_lb");

		TEST_ASSERT(json_is_true(json_object_get(a, "on")) &&
				    json_integer_value(json_object_get(a, "interval")) == 5 &&
				    json_integer_value(json_object_get(a, "threshold")) == 50 &&
				    json_integer_value(json_object_get(a, "improvement")) == 10,
			    "settings taken");
	}
	json_decref(j);
	TEST_RUN(expect_error(sw, "rxq-move", "PORT:QUEUE@WORKER"));
	TEST_RUN(expect_error(sw, "rxq-move a:0", "PORT:QUEUE@WORKER"));
	TEST_RUN(expect_error(sw, "rxq-move a:0@1x", "PORT:QUEUE@WORKER"));
	TEST_RUN(expect_error(sw, "rxq-move ghost:0@0", "no port 'ghost'"));
	TEST_RUN(expect_error(sw, "rxq-move a:2@0", "no such queue or worker"));
	TEST_RUN(expect_error(sw, "rxq-move a:0@2", "no such queue or worker"));
	TEST_RUN(expect_error(sw, "rxq-move a:99999999999@0", "no such queue or worker"));
	TEST_RUN(expect_error(sw, "auto-lb interval=0", "interval must be"));
	TEST_RUN(expect_error(sw, "auto-lb threshold=101", "percentages"));
	TEST_RUN(expect_error(sw, "auto-lb sometimes", "'sometimes' is not"));
	TEST_RUN(expect_error(sw, "rebalance now", "unexpected argument"));
	TEST_RUN(expect_error(sw, "show rxqs all", "unexpected argument"));
	vs_switch_destroy(sw);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
REGISTER_TEST(mgmt_placement_commands, fast, test_mgmt_placement_commands)
