/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vs_port: SPEC parsing, the port-type registry and vs_port_create's key
 * checking. A test-only port type stands in for a driver.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "vs_port.h"

static int
test_port_spec_parses_type_and_keys(void)
{
	struct vs_port_spec spec;
	char err[128] = "";

	TEST_ASSERT_SUCCESS(vs_port_spec_parse("vhost-user,path=/run/a.sock,queues=2,name=vm1",
					       &spec, err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT(strcmp(spec.type, "vhost-user") == 0, "type %s", spec.type);
	TEST_ASSERT_EQUAL(spec.nkv, 3, "three pairs");
	TEST_ASSERT(strcmp(spec.kv[0].key, "path") == 0 &&
			    strcmp(spec.kv[0].value, "/run/a.sock") == 0,
		    "in order");
	TEST_ASSERT(strcmp(spec.kv[2].key, "name") == 0 && strcmp(spec.kv[2].value, "vm1") == 0,
		    "last pair");
	TEST_ASSERT_EQUAL(spec.kv[1].used, 0, "nothing used yet");
	TEST_ASSERT(strcmp(vs_port_spec_get(&spec, "queues"), "2") == 0, "get");
	TEST_ASSERT_EQUAL(spec.kv[1].used, 1, "get marks used");
	TEST_ASSERT(vs_port_spec_get(&spec, "missing") == NULL, "absent key");

	TEST_ASSERT_SUCCESS(vs_port_spec_parse("ethdev", &spec, err, sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(spec.nkv, 0, "a bare type is fine");
	/* A value may hold '=' (devargs do). */
	TEST_ASSERT_SUCCESS(
		vs_port_spec_parse("ethdev,devargs=net_ring0,x==y", &spec, err, sizeof(err)), "%s",
		err);
	TEST_ASSERT(strcmp(spec.kv[1].value, "=y") == 0, "value '%s'", spec.kv[1].value);
	return TEST_SUCCESS;
}
REGISTER_TEST(port_spec_parses_type_and_keys, fast, test_port_spec_parses_type_and_keys)

static int
test_port_spec_quoted_value_keeps_commas(void)
{
	struct vs_port_spec spec;
	char err[128] = "";

	TEST_ASSERT_SUCCESS(vs_port_spec_parse("ethdev,devargs=\"net_vhost0,iface=/s,queues=2\","
					       "queues=2",
					       &spec, err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT_EQUAL(spec.nkv, 2, "two pairs");
	TEST_ASSERT(strcmp(spec.kv[0].value, "net_vhost0,iface=/s,queues=2") == 0, "value '%s'",
		    spec.kv[0].value);
	TEST_ASSERT(strcmp(spec.kv[1].value, "2") == 0, "after the quote");
	TEST_ASSERT_SUCCESS(vs_port_spec_parse("ethdev,devargs=\"a,b\"", &spec, err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT(strcmp(spec.kv[0].value, "a,b") == 0, "quoted last value");
	return TEST_SUCCESS;
}
REGISTER_TEST(port_spec_quoted_value_keeps_commas, fast, test_port_spec_quoted_value_keeps_commas)

static int
test_port_spec_rejects_malformed(void)
{
	static const struct {
		const char *text;
		const char *why; /* a substring the error must contain */
	} bad[] = {
		{"", "empty port type"},
		{",path=x", "empty port type"},
		{"vhost-user,", "empty key=value"},
		{"vhost-user,,path=x", "empty key=value"},
		{"vhost-user,path", "not key=value"},
		{"vhost-user,path=", "empty value"},
		{"vhost-user,=x", "empty key"},
		{"vhost-user,path=a,path=b", "duplicate key 'path'"},
		{"vhost user,path=a", "invalid character"},
		{"vhost-user,pa th=a", "invalid character"},
		{"vhost-user,path=\"a,b", "unterminated quote"},
		{"vhost-user,path=\"a\"b", "after the closing quote"},
		{"vhost-user,path=\"\"", "empty value"},
		{"vhost-user,path=a\tb", "control character"},
		{"vhost\nuser,path=a", "port type 'vhost?user' has an invalid character '?'"},
		{"vhost-user,a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1,o=1,p=1,q=1",
		 "more than 16"},
		{"averyveryveryveryveryverylongtypename", "longer than"},
		{"t,averyveryveryveryveryverylongkeyname=1", "longer than"},
	};
	struct vs_port_spec spec;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		TEST_ASSERT_EQUAL(vs_port_spec_parse(bad[i].text, &spec, err, sizeof(err)), -EINVAL,
				  "'%s' must be rejected", bad[i].text);
		TEST_ASSERT(strstr(err, bad[i].why) != NULL, "'%s': error '%s' lacks '%s'",
			    bad[i].text, err, bad[i].why);
	}
	/* A 300-character value. */
	char big[400];

	snprintf(big, sizeof(big), "t,k=%0300d", 0);
	TEST_ASSERT_EQUAL(vs_port_spec_parse(big, &spec, err, sizeof(err)), -EINVAL, "long value");
	TEST_ASSERT(strstr(err, "longer than 255") != NULL, "%s", err);
	TEST_ASSERT_EQUAL(vs_port_spec_parse(NULL, &spec, err, sizeof(err)), -EINVAL, "NULL");
	/* A tiny error buffer is never overrun (ASan checks). */
	TEST_ASSERT_EQUAL(vs_port_spec_parse("x,y", &spec, err, 4), -EINVAL, "tiny buffer");
	TEST_ASSERT(strlen(err) == 3, "truncated to the buffer");
	return TEST_SUCCESS;
}
REGISTER_TEST(port_spec_rejects_malformed, fast, test_port_spec_rejects_malformed)

static int
test_port_spec_get_uint_checks_range(void)
{
	struct vs_port_spec spec;
	char err[128];
	uint64_t v;

	TEST_ASSERT_SUCCESS(vs_port_spec_parse("t,a=4,b=0x10,c=9,d=-1,e=1x,f=99999999999999999999",
					       &spec, err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT_SUCCESS(vs_port_spec_get_uint(&spec, "a", 1, 8, 1, &v, err, sizeof(err)), "%s",
			    err);
	TEST_ASSERT_EQUAL(v, 4, "a");
	TEST_ASSERT_SUCCESS(vs_port_spec_get_uint(&spec, "b", 0, 100, 1, &v, err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT_EQUAL(v, 16, "hex");
	TEST_ASSERT_SUCCESS(vs_port_spec_get_uint(&spec, "z", 1, 8, 3, &v, err, sizeof(err)), "%s",
			    err);
	TEST_ASSERT_EQUAL(v, 3, "default when absent");
	TEST_ASSERT_EQUAL(vs_port_spec_get_uint(&spec, "c", 1, 8, 1, &v, err, sizeof(err)), -EINVAL,
			  "above max");
	TEST_ASSERT(strstr(err, "key 'c'") != NULL && strstr(err, "[1, 8]") != NULL, "%s", err);
	TEST_ASSERT_EQUAL(vs_port_spec_get_uint(&spec, "d", 0, 8, 1, &v, err, sizeof(err)), -EINVAL,
			  "negative");
	TEST_ASSERT_EQUAL(vs_port_spec_get_uint(&spec, "e", 0, 8, 1, &v, err, sizeof(err)), -EINVAL,
			  "trailing junk");
	TEST_ASSERT_EQUAL(vs_port_spec_get_uint(&spec, "f", 0, UINT64_MAX, 1, &v, err, sizeof(err)),
			  -EINVAL, "overflow");
	return TEST_SUCCESS;
}
REGISTER_TEST(port_spec_get_uint_checks_range, fast, test_port_spec_get_uint_checks_range)

/* ---- a test-only port type ---- */

static int test_port_destroyed;

struct test_port {
	struct vs_port base;
	uint64_t size;
};

static void
test_port_destroy(struct vs_port *port)
{
	test_port_destroyed++;
	free(port);
}

static const struct vs_port_ops test_port_ops = {
	.destroy = test_port_destroy,
};

static struct vs_port *
test_port_create(const char *name, struct vs_port_spec *spec, const struct vs_port_env *env,
		 char *err, size_t errlen)
{
	struct test_port *p;
	uint64_t size;

	(void)name;
	(void)env;
	if (vs_port_spec_get_uint(spec, "size", 1, 100, 10, &size, err, errlen) != 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->base.ops = &test_port_ops;
	p->size = size;
	return &p->base;
}

static struct vs_port_type test_port_type = {
	.name = "test-spec",
	.usage = "test-spec[,size=N]",
	.create = test_port_create,
};
VS_PORT_TYPE_REGISTER(test_port_type)

static int
test_port_create_checks_type_and_keys(void)
{
	struct vs_port_env env = {0};
	struct vs_port_spec spec;
	struct vs_port *port;
	char err[160];
	bool found = false;

	for (const struct vs_port_type *t = vs_port_type_next(NULL); t != NULL;
	     t = vs_port_type_next(t))
		if (t == &test_port_type)
			found = true;
	TEST_ASSERT(found, "the registered type is listed");
	TEST_ASSERT(vs_port_type_find("test-spec") == &test_port_type, "found by name");
	/* Registering the same name again keeps the first. */
	static struct vs_port_type dup = {.name = "test-spec", .create = test_port_create};

	vs_port_type_register(&dup);
	TEST_ASSERT(vs_port_type_find("test-spec") == &test_port_type, "first one kept");

	TEST_ASSERT_SUCCESS(vs_port_spec_parse("test-spec,size=5,name=p0", &spec, err, sizeof(err)),
			    "%s", err);
	/* The engine consumes its own keys first. */
	TEST_ASSERT(vs_port_spec_get(&spec, "name") != NULL, "name");
	port = vs_port_create("p0", &spec, &env, err, sizeof(err));
	TEST_ASSERT_NOT_NULL(port, "%s", err);
	TEST_ASSERT(strcmp(port->name, "p0") == 0, "name set");
	TEST_ASSERT_EQUAL(((struct test_port *)port)->size, 5, "driver read its key");
	port->ops->destroy(port);

	test_port_destroyed = 0;
	TEST_ASSERT_SUCCESS(
		vs_port_spec_parse("test-spec,size=5,colour=red", &spec, err, sizeof(err)), "%s",
		err);
	TEST_ASSERT(vs_port_create("p1", &spec, &env, err, sizeof(err)) == NULL, "unknown key");
	TEST_ASSERT(strcmp(err, "unknown key 'colour' for port type 'test-spec'") == 0, "%s", err);
	TEST_ASSERT_EQUAL(test_port_destroyed, 1, "the half-made port was destroyed");

	TEST_ASSERT_SUCCESS(vs_port_spec_parse("test-spec,size=500", &spec, err, sizeof(err)), "%s",
			    err);
	TEST_ASSERT(vs_port_create("p1", &spec, &env, err, sizeof(err)) == NULL, "bad value");
	TEST_ASSERT(strstr(err, "key 'size'") != NULL, "%s", err);

	TEST_ASSERT_SUCCESS(vs_port_spec_parse("test-spec", &spec, err, sizeof(err)), "%s", err);
	TEST_ASSERT(vs_port_create("", &spec, &env, err, sizeof(err)) == NULL, "empty name");
	TEST_ASSERT(vs_port_create("a-name-that-is-much-longer-than-31", &spec, &env, err,
				   sizeof(err)) == NULL,
		    "long name");
	return TEST_SUCCESS;
}
REGISTER_TEST(port_create_checks_type_and_keys, fast, test_port_create_checks_type_and_keys)

static int
test_port_create_names_unavailable_types(void)
{
	struct vs_port_env env = {0};
	struct vs_port_spec spec;
	char err[200];
	static const char *const listed[] = {"vhost-user", "vhost-net", "vdpa",
					     "vhost-user-frontend"};

	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
		char want[128];

		if (vs_port_type_find(listed[i]) != NULL)
			continue; /* that driver is in this build */
		TEST_ASSERT_SUCCESS(vs_port_spec_parse(listed[i], &spec, err, sizeof(err)), "%s",
				    err);
		TEST_ASSERT(vs_port_create("p", &spec, &env, err, sizeof(err)) == NULL, "%s",
			    listed[i]);
		snprintf(want, sizeof(want), "port type '%s' is not available in this build",
			 listed[i]);
		TEST_ASSERT(strcmp(err, want) == 0, "'%s'", err);
	}
	TEST_ASSERT_SUCCESS(vs_port_spec_parse("frobnicator,x=1", &spec, err, sizeof(err)), "%s",
			    err);
	TEST_ASSERT(vs_port_create("p", &spec, &env, err, sizeof(err)) == NULL, "unknown");
	TEST_ASSERT(strncmp(err, "unknown port type 'frobnicator' (available: ", 44) == 0, "'%s'",
		    err);
	TEST_ASSERT(strstr(err, "test-spec") != NULL, "lists the registered types: '%s'", err);
	return TEST_SUCCESS;
}
REGISTER_TEST(port_create_names_unavailable_types, fast, test_port_create_names_unavailable_types)

struct sync_reader {
	struct rte_rcu_qsbr *v;
	uint32_t go;
	uint64_t quiescent_at; /* ms when it reported its quiescent state */
};

static void *
slow_reader(void *arg)
{
	struct sync_reader *r = arg;

	rte_rcu_qsbr_thread_register(r->v, 0);
	rte_rcu_qsbr_thread_online(r->v, 0);
	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
	/* A long "burst": the writer must wait for it. */
	usleep(200 * 1000);
	__atomic_store_n(&r->quiescent_at, vt_now_ms(), __ATOMIC_RELEASE);
	rte_rcu_qsbr_quiescent(r->v, 0);
	rte_rcu_qsbr_thread_offline(r->v, 0);
	rte_rcu_qsbr_thread_unregister(r->v, 0);
	return NULL;
}

static int
test_port_synchronize_waits_for_workers(void)
{
	struct sync_reader r = {0};
	struct vs_port port = {0};
	pthread_t th;
	uint64_t done;

	vs_port_synchronize(&port); /* no qsbr: returns */
	r.v = aligned_alloc(RTE_CACHE_LINE_SIZE,
			    RTE_ALIGN_CEIL(rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE));
	TEST_ASSERT_NOT_NULL(r.v, "memory");
	TEST_ASSERT_SUCCESS(rte_rcu_qsbr_init(r.v, 1), "init");
	port.env.qsbr = r.v;
	vs_port_synchronize(&port); /* nobody online: returns */
	TEST_ASSERT_SUCCESS(pthread_create(&th, NULL, slow_reader, &r), "thread");
	while (!__atomic_load_n(&r.go, __ATOMIC_ACQUIRE))
		usleep(1000);
	vs_port_synchronize(&port);
	done = vt_now_ms();
	pthread_join(th, NULL);
	TEST_ASSERT(r.quiescent_at != 0 && done >= r.quiescent_at,
		    "returned only after the reader's quiescent state");
	free(r.v);
	return TEST_SUCCESS;
}
REGISTER_TEST(port_synchronize_waits_for_workers, fast, test_port_synchronize_waits_for_workers)
