/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz (suite fuzz): random and mutated input to the parsers that take
 * untrusted text: port SPECs, and whole management requests (text and
 * JSON) run against an engine. Each must answer (or reject) without crashing, leaking
 * or breaking its invariants. Bounded in time: VT_FUZZ_SECONDS (default 20)
 * split over the two; the seed is printed so a failure can be replayed
 * with VT_FUZZ_SEED.
 */
#include <stdlib.h>

#include "test.h"
#include "test_eal.h"
#include "vs_evloop.h"
#include "vs_json.h"
#include "vs_mgmt.h"
#include "vs_port.h"
#include "vs_switch.h"

static uint64_t rng;

static uint32_t
next(void)
{
	/* xorshift64*: fast, reproducible from the seed. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 2685821657736338717ull) >> 32);
}

static void
seed_rng(void)
{
	const char *s = getenv("VT_FUZZ_SEED");

	rng = s != NULL ? strtoull(s, NULL, 0) : (uint64_t)vt_now_ms() ^ 0x9e3779b97f4a7c15ull;
	if (rng == 0)
		rng = 1;
	printf("seed %" PRIu64 " (VT_FUZZ_SEED to replay)\n", rng);
}

static unsigned int
budget_ms(void)
{
	const char *s = getenv("VT_FUZZ_SECONDS");
	unsigned int sec = s != NULL ? (unsigned int)atoi(s) : 20;

	return (sec > 0 ? sec : 20) * 1000 / 2;
}

/* Replaces, inserts or deletes a few bytes of @p buf (length *len, capacity cap). */
static void
mutate(char *buf, size_t *len, size_t cap, const char *alphabet)
{
	size_t alen = strlen(alphabet);

	for (unsigned int k = 1 + next() % 4; k > 0; k--) {
		size_t pos = *len > 0 ? next() % *len : 0;
		char c = next() % 8 == 0 ? (char)next() : alphabet[next() % alen];

		switch (next() % 3) {
		case 0:
			if (*len > 0)
				buf[pos] = c;
			break;
		case 1:
			if (*len + 1 < cap) {
				memmove(buf + pos + 1, buf + pos, *len - pos);
				buf[pos] = c;
				(*len)++;
			}
			break;
		default:
			if (*len > 0) {
				memmove(buf + pos, buf + pos + 1, *len - pos - 1);
				(*len)--;
			}
			break;
		}
	}
	buf[*len] = '\0';
}

static int
fuzz_specs(unsigned int ms)
{
	static const char *const seeds[] = {
		"vhost-user,path=/run/a.sock,queues=2,name=vm1",
		"ethdev,devargs=\"net_vhost0,iface=/s\",queues=2,trunk=10:20-30",
		"testq,queues=8,gen=1,vlan=4094",
	};
	uint64_t end = vt_now_ms() + ms, n = 0, ok = 0;
	char buf[1024], err[128];

	while (vt_now_ms() < end) {
		struct vs_port_spec spec;
		size_t len;

		snprintf(buf, sizeof(buf), "%s", seeds[next() % RTE_DIM(seeds)]);
		len = strlen(buf);
		mutate(buf, &len, sizeof(buf), ",=\"abz09:-_./ ");
		if (vs_port_spec_parse(buf, &spec, err, sizeof(err)) == 0) {
			uint64_t v;

			ok++;
			TEST_ASSERT(spec.nkv <= VS_PORT_MAX_KV && spec.type[0] != '\0', "'%s'",
				    buf);
			for (unsigned int i = 0; i < spec.nkv; i++)
				TEST_ASSERT(spec.kv[i].key[0] != '\0' &&
						    spec.kv[i].value[0] != '\0',
					    "'%s'", buf);
			vs_port_spec_get_uint(&spec, "queues", 1, 8, 1, &v, err, sizeof(err));
		} else {
			TEST_ASSERT(err[0] != '\0' && strchr(err, '\n') == NULL,
				    "a reason for '%s'", buf);
		}
		n++;
	}
	printf("specs: %" PRIu64 " tried, %" PRIu64 " parsed\n", n, ok);
	return TEST_SUCCESS;
}

static int
fuzz_requests(unsigned int ms)
{
	static const char *const seeds[] = {
		"show ports",
		"show fdb",
		"show lcores",
		"fdb flush",
		"help",
		"add-port testq,name=f1,queues=2",
		"add-port testq,vlan=7",
		"del-port f1",
		"del-port testq0",
		"{\"command\":\"add-port\",\"args\":[\"testq,trunk=1:2\"]}",
		"{\"command\":\"del-port\",\"args\":[\"testq1\"]}",
		"{\"command\":\"show\",\"args\":[\"fdb\"]}",
		"{\"command\":\"add-port\",\"args\":[\"testq,name=\\u00e9\"],\"x\":[1,true,null]}",
		"del-port \"testq0\"",
	};
	struct vs_switch_config cfg = {0};
	uint64_t end = vt_now_ms() + ms, n = 0, ok = 0;
	struct vs_evloop *loop;
	struct vs_switch *sw;
	char buf[512], why[256];

	if (vt_eal_init("switch", why, sizeof(why)) != 0)
		TEST_SKIP("%s", why);
	loop = vs_evloop_create();
	cfg.loop = loop;
	cfg.name = "fz";
	cfg.manual = true;
	cfg.nb_workers = 2;
	cfg.nb_mbufs = 2047;
	cfg.fdb_size = 64;
	sw = vs_switch_create(&cfg, why, sizeof(why));
	TEST_ASSERT_NOT_NULL(sw, "%s", why);
	while (vt_now_ms() < end) {
		json_t *j;
		struct vs_jw w;
		size_t len;

		snprintf(buf, sizeof(buf), "%s", seeds[next() % RTE_DIM(seeds)]);
		len = strlen(buf);
		if (next() % 4 != 0)
			mutate(buf, &len, sizeof(buf), " ,=:\"{}[]\\testq0123456789-u");
		/* Only the test port type may be created: no real devices. */
		if (strstr(buf, "ethdev") != NULL)
			continue;
		vs_jw_init(&w, 0);
		vs_mgmt_execute(sw, buf, len, &w);
		TEST_ASSERT_NOT_NULL(vs_jw_text(&w), "a reply to '%s'", buf);
		j = vs_json_load(vs_jw_text(&w), strlen(vs_jw_text(&w)), why, sizeof(why));
		TEST_ASSERT(j != NULL && json_is_boolean(json_object_get(j, "ok")),
			    "valid reply to '%s': %s", buf, vs_jw_text(&w));
		ok += json_is_true(json_object_get(j, "ok"));
		json_decref(j);
		vs_jw_free(&w);
		/* Keep the port count bounded. */
		if (vs_switch_port_next(sw, 32) >= 0) {
			for (int p = vs_switch_port_next(sw, -1); p >= 0;
			     p = vs_switch_port_next(sw, -1)) {
				struct vs_switch_port_view v;

				vs_switch_port_view(sw, (uint16_t)p, &v);
				vs_switch_del_port(sw, v.name, NULL, 0);
			}
		}
		for (unsigned int wk = 0; wk < 2; wk++)
			vs_switch_poll(sw, wk);
		vs_evloop_run_once(loop, 0);
		n++;
	}
	printf("requests: %" PRIu64 " run, %" PRIu64 " accepted\n", n, ok);
	vs_switch_destroy(sw);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}

static int
test_fuzz_untrusted_text_never_breaks_the_switch(void)
{
	unsigned int ms = budget_ms();

	seed_rng();
	TEST_RUN(fuzz_specs(ms));
	return fuzz_requests(ms);
}
/* clang-format off */
REGISTER_TEST(fuzz_untrusted_text_never_breaks_the_switch, fuzz, test_fuzz_untrusted_text_never_breaks_the_switch)
/* clang-format on */
