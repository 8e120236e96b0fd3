/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vs_json: the writer's escaping and structure, the parser's strictness,
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
test_json_parser_reads_documents(void)
{
	const char *doc = " {\"ok\": true, \"n\": 18446744073709551615, \"neg\": -1.5e3,"
			  " \"s\": \"x\\u00e9\\ud83d\\ude00\\n\", \"a\": [1, null, false, {}],"
			  " \"e\": [] } ";
	const struct vs_json *a;
	struct vs_json *j;
	uint64_t v;
	char err[128];

	j = vs_json_parse(doc, strlen(doc), err, sizeof(err));
	TEST_ASSERT_NOT_NULL(j, "%s", err);
	TEST_ASSERT(j->type == VS_JSON_OBJECT && vs_json_count(j) == 6, "object of 6");
	TEST_ASSERT(vs_json_get(j, "ok")->b, "true");
	TEST_ASSERT_SUCCESS(vs_json_u64(vs_json_get(j, "n"), &v), "u64");
	TEST_ASSERT(v == UINT64_MAX, "max");
	TEST_ASSERT_EQUAL(vs_json_u64(vs_json_get(j, "neg"), &v), -EINVAL, "not a u64");
	TEST_ASSERT(strcmp(vs_json_string(vs_json_get(j, "s")), "x\xc3\xa9\xf0\x9f\x98\x80\n") == 0,
		    "escapes decoded");
	a = vs_json_get(j, "a");
	TEST_ASSERT(a->type == VS_JSON_ARRAY && vs_json_count(a) == 4, "array");
	TEST_ASSERT(a->child->next->type == VS_JSON_NULL, "null");
	TEST_ASSERT(vs_json_get(j, "missing") == NULL, "missing");
	TEST_ASSERT(vs_json_string(vs_json_get(j, "n")) == NULL, "a number is no string");
	vs_json_free(j);
	return TEST_SUCCESS;
}
REGISTER_TEST(json_parser_reads_documents, fast, test_json_parser_reads_documents)

static int
test_json_parser_rejects_malformed(void)
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
	};
	char err[128], deep[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vs_json *j = vs_json_parse(bad[i], strlen(bad[i]), err, sizeof(err));

		TEST_ASSERT(j == NULL, "'%s' must be rejected", bad[i]);
		TEST_ASSERT(strstr(err, "at byte") != NULL, "'%s': reason '%s'", bad[i], err);
	}
	/* A NUL inside the text is no end of it. */
	TEST_ASSERT(vs_json_parse("[1]\0", 4, err, sizeof(err)) == NULL, "embedded NUL");
	/* Depth is bounded. */
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	TEST_ASSERT(vs_json_parse(deep, 200, err, sizeof(err)) == NULL, "100 deep");
	TEST_ASSERT(strstr(err, "nested too deeply") != NULL, "%s", err);
	{
		struct vs_json *j = vs_json_parse(deep + 100 - 20, 40, err, sizeof(err));

		TEST_ASSERT_NOT_NULL(j, "20 deep is fine: %s", err);
		vs_json_free(j);
	}
	return TEST_SUCCESS;
}
REGISTER_TEST(json_parser_rejects_malformed, fast, test_json_parser_rejects_malformed)

/* Random bytes flipped in a valid document: parse or reject, never crash. */
static int
test_json_parser_survives_damaged_input(void)
{
	const char *doc = "{\"command\":\"add-port\",\"args\":[\"ethdev,devargs=net_null0\"],"
			  "\"n\":[1,2.5e-3,-7,{\"k\":\"\\u00e9\"}],\"t\":true}";
	size_t len = strlen(doc);
	unsigned int seed = 12345, parsed = 0;
	char buf[256], err[128];

	for (int i = 0; i < 20000; i++) {
		struct vs_json *j;
		size_t n = len;

		memcpy(buf, doc, len);
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % len] = (char)(seed >> 16);
		}
		if (i % 7 == 0)
			n = (seed >> 4) % len;
		j = vs_json_parse(buf, n, err, sizeof(err));
		parsed += j != NULL;
		vs_json_free(j);
	}
	printf("%u of 20000 damaged documents still parsed\n", parsed);
	return TEST_SUCCESS;
}
REGISTER_TEST(json_parser_survives_damaged_input, fast, test_json_parser_survives_damaged_input)
