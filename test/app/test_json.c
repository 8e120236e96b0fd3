/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vs_json: the writer's escaping and structure; reading through jansson, as strict
 * as the management socket needs it,
 * and random damage to valid documents (never a crash or a leak).
 */
#include <stdlib.h>

#include "test.h"
#include "vs_json.h"

static int
test_json_writer_escapes_and_nests(void)
{
	struct vs_jw w;
	const char *t;

	vs_jw_init(&w, 0);
	vs_jw_object_open(&w);
	vs_jw_kv_str(&w, "s", "a\"b\\c\nd\x01 \xc3\xa9 \xff");
	vs_jw_kv_u64(&w, "n", UINT64_MAX);
	vs_jw_key(&w, "i");
	vs_jw_i64(&w, -5);
	vs_jw_key(&w, "a");
	vs_jw_array_open(&w);
	vs_jw_bool(&w, true);
	vs_jw_fixed1(&w, 12.345);
	vs_jw_object_open(&w);
	vs_jw_object_close(&w);
	vs_jw_array_open(&w);
	vs_jw_array_close(&w);
	vs_jw_array_close(&w);
	vs_jw_object_close(&w);
	t = vs_jw_text(&w);
	TEST_ASSERT_NOT_NULL(t, "built");
	TEST_ASSERT(strcmp(t, "{\"s\":\"a\\\"b\\\\c\\u000ad\\u0001 \xc3\xa9 \xef\xbf\xbd\","
			      "\"n\":18446744073709551615,\"i\":-5,\"a\":[true,12.3,{},[]]}") == 0,
		    "%s", t);
	vs_jw_free(&w);
	/* Misuse fails the document instead of producing bad JSON. */
	vs_jw_init(&w, 0);
	vs_jw_array_open(&w);
	vs_jw_key(&w, "k");
	TEST_ASSERT(vs_jw_text(&w) == NULL, "a key in an array");
	vs_jw_free(&w);
	vs_jw_init(&w, 0);
	vs_jw_object_close(&w);
	TEST_ASSERT(vs_jw_text(&w) == NULL, "closing nothing");
	vs_jw_free(&w);
	vs_jw_init(&w, 0);
	vs_jw_object_open(&w);
	vs_jw_u64(&w, 1);
	TEST_ASSERT(vs_jw_text(&w) == NULL, "a value without a key in an object");
	vs_jw_free(&w);
	vs_jw_init(&w, 0);
	vs_jw_array_open(&w);
	vs_jw_object_close(&w);
	TEST_ASSERT(vs_jw_text(&w) == NULL, "mismatched close");
	vs_jw_free(&w);
	/* The size limit holds. */
	vs_jw_init(&w, 64);
	vs_jw_array_open(&w);
	for (int i = 0; i < 100; i++)
		vs_jw_u64(&w, 123456789);
	TEST_ASSERT(vs_jw_text(&w) == NULL, "over the limit");
	vs_jw_free(&w);
	return TEST_SUCCESS;
}
REGISTER_TEST(json_writer_escapes_and_nests, fast, test_json_writer_escapes_and_nests)

static int
test_json_load_reads_documents(void)
{
	const char *doc = " {\"ok\": true, \"n\": 9223372036854775807, \"neg\": -1.5e3,"
			  " \"s\": \"x\\u00e9\\ud83d\\ude00\\n\", \"a\": [1, null, false, {}],"
			  " \"e\": [] } ";
	const json_t *a;
	json_t *j;
	uint64_t v;
	char err[128];

	j = vs_json_load(doc, strlen(doc), err, sizeof(err));
	TEST_ASSERT_NOT_NULL(j, "%s", err);
	TEST_ASSERT(json_is_object(j) && json_object_size(j) == 6, "object of 6");
	TEST_ASSERT(json_is_true(json_object_get(j, "ok")), "true");
	TEST_ASSERT_SUCCESS(vs_json_u64(json_object_get(j, "n"), &v), "u64");
	TEST_ASSERT(v == INT64_MAX, "jansson's largest integer");
	TEST_ASSERT_EQUAL(vs_json_u64(json_object_get(j, "neg"), &v), -EINVAL, "not a u64");
	TEST_ASSERT_EQUAL(vs_json_u64_of(j, "neg"), 0, "not a u64: 0");
	TEST_ASSERT(strcmp(vs_json_str(j, "s"), "x\xc3\xa9\xf0\x9f\x98\x80\n") == 0,
		    "escapes decoded");
	a = json_object_get(j, "a");
	TEST_ASSERT(json_is_array(a) && json_array_size(a) == 4, "array");
	TEST_ASSERT(json_is_null(json_array_get(a, 1)), "null");
	TEST_ASSERT(vs_json_str(j, "missing") == NULL, "missing");
	TEST_ASSERT(vs_json_str(j, "n") == NULL, "a number is no string");
	json_decref(j);
	return TEST_SUCCESS;
}
REGISTER_TEST(json_load_reads_documents, fast, test_json_load_reads_documents)

/* What the management socket accepts: strict RFC 8259, no duplicate keys, no NUL. */
static int
test_json_load_rejects_malformed(void)
{
	static const char *const bad[] = {
		"",
		" ",
		"{",
		"}",
		"[1,]",
		"[,1]",
		"{\"a\":}",
		"{\"a\" 1}",
		"{a:1}",
		"{\"a\":1,}",
		"{\"a\":1,\"a\":2}",
		"[1 2]",
		"tru",
		"nul",
		"01",
		"1.",
		".5",
		"-",
		"1e",
		"+1",
		"\"abc",
		"\"a\\x\"",
		"\"\\u12\"",
		"\"\\ud800\"",
		"\"\\udc00\"",
		"\"\\u0000\"",
		"\"a\tb\"",
		"\"\xc3\"",
		"\"\xed\xa0\x80\"",
		"\"\xc0\xaf\"",
		"\"\xf5\x80\x80\x80\"",
		"[1] x",
		"{\"a\":1}{",
		"NaN",
		"[true false]",
		"[18446744073709551616]",
	};
	static char deep[6000];
	char err[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = vs_json_load(bad[i], strlen(bad[i]), err, sizeof(err));

		TEST_ASSERT(j == NULL, "'%s' must be rejected", bad[i]);
		TEST_ASSERT(strstr(err, "at byte") != NULL, "'%s': reason '%s'", bad[i], err);
	}
	/* A NUL inside the text is no end of it. */
	TEST_ASSERT(vs_json_load("[1]\0", 4, err, sizeof(err)) == NULL, "embedded NUL");
	/* Depth is bounded (jansson: 2048). */
	memset(deep, '[', 3000);
	memset(deep + 3000, ']', 3000);
	TEST_ASSERT(vs_json_load(deep, 6000, err, sizeof(err)) == NULL, "3000 deep: %s", err);
	{
		json_t *j = vs_json_load(deep + 3000 - 20, 40, err, sizeof(err));

		TEST_ASSERT_NOT_NULL(j, "20 deep is fine: %s", err);
		json_decref(j);
	}
	return TEST_SUCCESS;
}
REGISTER_TEST(json_load_rejects_malformed, fast, test_json_load_rejects_malformed)

/* Random bytes flipped in a valid document: parse or reject, never crash. */
static int
test_json_load_survives_damaged_input(void)
{
	const char *doc = "{\"command\":\"add-port\",\"args\":[\"ethdev,devargs=net_null0\"],"
			  "\"n\":[1,2.5e-3,-7,{\"k\":\"\\u00e9\"}],\"t\":true}";
	size_t len = strlen(doc);
	unsigned int seed = 12345, parsed = 0;
	char buf[256], err[160];

	for (int i = 0; i < 20000; i++) {
		json_t *j;
		size_t n = len;

		memcpy(buf, doc, len);
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % len] = (char)(seed >> 16);
		}
		if (i % 7 == 0)
			n = (seed >> 4) % len;
		j = vs_json_load(buf, n, err, sizeof(err));
		parsed += j != NULL;
		json_decref(j);
	}
	printf("%u of 20000 damaged documents still parsed\n", parsed);
	return TEST_SUCCESS;
}
REGISTER_TEST(json_load_survives_damaged_input, fast, test_json_load_survives_damaged_input)
