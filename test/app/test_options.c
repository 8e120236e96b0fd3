/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vswitch's command line and --config files: EAL split, defaults, every
 * option, and the one-line errors for bad arguments.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "vs_options.h"
#include "vs_port.h"

static int
parse(struct vs_options *o, char *err, size_t len, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	int rc;

	argv[argc++] = "vswitch";
	va_start(ap, len);
	for (char *a = va_arg(ap, char *); a != NULL && argc < 63; a = va_arg(ap, char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	rc = vs_options_parse(argc, argv, o, err, len);
	return rc;
}

static int
test_options_split_eal_and_defaults(void)
{
	struct vs_options o;
	char err[512];

	TEST_ASSERT_SUCCESS(parse(&o, err, sizeof(err), NULL), "%s", err);
	TEST_ASSERT(o.eal_default && o.nb_ports == 0, "defaults");
	TEST_ASSERT(strcmp(o.eal_argv[1], "-l") == 0 && strcmp(o.eal_argv[2], "0,1") == 0,
		    "default EAL args");
	TEST_ASSERT(strstr(o.ctl, "vswitch.ctl") != NULL, "default ctl %s", o.ctl);
	TEST_ASSERT(o.fdb_size == 65536 && o.fdb_aging == 300 && o.stats == 0, "defaults");
	vs_options_free(&o);

	TEST_ASSERT_SUCCESS(parse(&o, err, sizeof(err), "-l", "0-2", "--in-memory", "--", "--port",
				  "ethdev,devargs=net_null0,name=a",
				  "--port=ethdev,devargs=net_null1", "--ctl", "/tmp/x.ctl",
				  "--stats", "5", "--fdb-size=1000", "--fdb-aging", "0", "--mbufs",
				  "4095", "--tx-retries", "0", "--sock-mode", "0600", "--state-dir",
				  "/run/vs-state", NULL),
			    "%s", err);
	TEST_ASSERT(!o.eal_default && o.eal_argc == 4, "EAL args before --: %d", o.eal_argc);
	TEST_ASSERT(strcmp(o.eal_argv[3], "--in-memory") == 0, "kept in order");
	TEST_ASSERT(o.eal_argv[4] == NULL, "NULL-terminated");
	TEST_ASSERT_EQUAL(o.nb_ports, 2, "two ports");
	TEST_ASSERT(strcmp(o.ports[1], "ethdev,devargs=net_null1") == 0, "--port=SPEC");
	TEST_ASSERT(strcmp(o.ctl, "/tmp/x.ctl") == 0 && o.stats == 5 && o.fdb_size == 1000 &&
			    o.fdb_aging == 0 && o.mbufs == 4095 && o.tx_retries == 0 &&
			    o.sock_mode == 0600 && strcmp(o.state_dir, "/run/vs-state") == 0,
		    "values");
	vs_options_free(&o);

	/* "--" first: no EAL args, the defaults. */
	TEST_ASSERT_SUCCESS(parse(&o, err, sizeof(err), "--", "--ctl", "none", NULL), "%s", err);
	TEST_ASSERT(o.eal_default && o.ctl[0] == '\0', "defaults, no socket");
	vs_options_free(&o);
	TEST_ASSERT_SUCCESS(parse(&o, err, sizeof(err), "--help", NULL), "%s", err);
	TEST_ASSERT(o.help, "help");
	vs_options_free(&o);
	return TEST_SUCCESS;
}
REGISTER_TEST(options_split_eal_and_defaults, fast, test_options_split_eal_and_defaults)

static int
test_options_reject_bad_arguments(void)
{
	static const struct {
		const char *args[4];
		const char *why;
	} bad[] = {
		{{"--fdb-size", "abc"}, "--fdb-size: 'abc' is not an integer in [16, 16777216]"},
		{{"--fdb-size", "8"}, "--fdb-size: '8' is not an integer"},
		{{"--fdb-aging", "-1"}, "--fdb-aging: '-1' is not an integer"},
		{{"--stats", "1x"}, "--stats: '1x' is not an integer"},
		{{"--mbufs", "10"}, "--mbufs: '10'"},
		{{"--sock-mode", "999"}, "--sock-mode: '999' is not an octal mode"},
		{{"--state-dir"}, "--state-dir needs a value"},
		{{"--port"}, "--port needs a value"},
		{{"--port", "--ctl", "x"}, "--port needs a value"},
		{{"--bogus"}, "unknown option '--bogus'"},
		{{"-l", "0,1"}, "unknown option '-l' (EAL arguments go before '--')"},
		{{"stray"}, "unexpected argument 'stray'"},
		{{"--port", "ethdev,,x"}, "--port 'ethdev,,x': empty key=value part"},
		{{"--port", "vhost-user,path=/tmp/s"}, "port type 'vhost-user' is not available"},
		{{"--port", "vhost-net,tap=t0"}, "port type 'vhost-net' is not available"},
		{{"--port", "vdpa,dev=/dev/vhost-vdpa-0"}, "port type 'vdpa' is not available"},
		{{"--port", "vhost-user-frontend,path=/s"},
		 "port type 'vhost-user-frontend' is not available"},
		{{"--port", "frob,x=1"}, "unknown port type 'frob'"},
		{{"--port", "ethdev,devargs=x,vlan=5000"}, "key 'vlan'"},
		{{"--port", "ethdev,devargs=x,trunk=1:x"}, "key 'trunk'"},
		{{"--port", "ethdev,devargs=x,name=a/b"}, "name 'a/b' must be"},
		{{"--config", "/nonexistent/vswitch.conf"}, "--config /nonexistent/vswitch.conf"},
		{{"--ctl", "/a/very/long/path/that/goes/on/and/on/and/on/and/on/and/on/and/on/and/"
			   "on/and/on/and/on/"
			   "and/on/and/on/and/on/and/on/x.ctl"},
		 "--ctl: "},
	};
	struct vs_options o;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const *a = bad[i].args;
		int rc;

		if (strstr(bad[i].why, "is not available") != NULL) {
			char type[32];

			sscanf(bad[i].why, "port type '%31[^']", type);
			if (vs_port_type_find(type) != NULL)
				continue; /* that driver is in this build */
		}
		rc = parse(&o, err, sizeof(err), "--", a[0], a[1], a[2], a[3]);
		if (strcmp(a[0], "-l") == 0 || strcmp(a[0], "stray") == 0)
			rc = parse(&o, err, sizeof(err), a[0], a[1], NULL);
		TEST_ASSERT_EQUAL(rc, -EINVAL, "%s %s must be rejected", a[0], a[1] ? a[1] : "");
		TEST_ASSERT(strstr(err, bad[i].why) != NULL, "'%s' lacks '%s'", err, bad[i].why);
		TEST_ASSERT(strchr(err, '\n') == NULL, "one line");
		vs_options_free(&o);
	}
	TEST_ASSERT_EQUAL(parse(&o, err, sizeof(err), "--", "--port", "ethdev,devargs=a,name=x",
				"--port", "ethdev,devargs=b,name=x", NULL),
			  -EINVAL, "duplicate names");
	TEST_ASSERT(strstr(err, "name 'x' is used twice") != NULL, "%s", err);
	vs_options_free(&o);
	return TEST_SUCCESS;
}
REGISTER_TEST(options_reject_bad_arguments, fast, test_options_reject_bad_arguments)

static int
test_options_read_config_files(void)
{
	char path[256], err[512];
	struct vs_options o;
	FILE *f;

	vt_path(path, sizeof(path), "vswitch.conf");
	f = fopen(path, "w");
	TEST_ASSERT_NOT_NULL(f, "create");
	fprintf(f, "# a comment\n\n  port ethdev,devargs=net_null0,name=a  \n"
		   "--port=ethdev,devargs=net_null1,name=b\nfdb-size = 2048\n--stats 3\n"
		   "ctl /tmp/c.ctl\n");
	fclose(f);
	TEST_ASSERT_SUCCESS(
		parse(&o, err, sizeof(err), "--", "--config", path, "--fdb-aging", "7", NULL), "%s",
		err);
	TEST_ASSERT_EQUAL(o.nb_ports, 2, "two ports");
	TEST_ASSERT(strcmp(o.ports[0], "ethdev,devargs=net_null0,name=a") == 0, "trimmed");
	TEST_ASSERT(o.fdb_size == 2048 && o.stats == 3 && o.fdb_aging == 7, "values");
	TEST_ASSERT(strcmp(o.ctl, "/tmp/c.ctl") == 0, "ctl");
	vs_options_free(&o);

	f = fopen(path, "w");
	TEST_ASSERT_NOT_NULL(f, "create");
	fprintf(f, "port ethdev,devargs=x\nfdb-size lots\n");
	fclose(f);
	TEST_ASSERT_EQUAL(parse(&o, err, sizeof(err), "--", "--config", path, NULL), -EINVAL,
			  "bad value");
	TEST_ASSERT(strstr(err, ":2: --fdb-size: 'lots'") != NULL, "file and line: %s", err);
	vs_options_free(&o);

	f = fopen(path, "w");
	TEST_ASSERT_NOT_NULL(f, "create");
	fprintf(f, "config %s\n", path);
	fclose(f);
	TEST_ASSERT_EQUAL(parse(&o, err, sizeof(err), "--", "--config", path, NULL), -EINVAL,
			  "no recursion");
	TEST_ASSERT(strstr(err, "cannot appear in a config file") != NULL, "%s", err);
	vs_options_free(&o);

	f = fopen(path, "w");
	TEST_ASSERT_NOT_NULL(f, "create");
	for (int i = 0; i < 5000; i++)
		fputc('x', f);
	fputc('\n', f);
	fclose(f);
	TEST_ASSERT_EQUAL(parse(&o, err, sizeof(err), "--", "--config", path, NULL), -EINVAL,
			  "long line");
	TEST_ASSERT(strstr(err, ":1: line longer than") != NULL, "%s", err);
	vs_options_free(&o);
	unlink(path);
	return TEST_SUCCESS;
}
REGISTER_TEST(options_read_config_files, fast, test_options_read_config_files)
