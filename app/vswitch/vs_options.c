/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vs_fdb.h"
#include "vs_options.h"
#include "vs_port.h"
#include "vs_switch.h"
#include "vs_vlan.h"

#define CONFIG_MAX_LINE	 4096
#define CONFIG_MAX_BYTES (1 << 20)

const char *const vs_default_eal_args[] = {
	"-l", "0,1", "--no-pci", "--file-prefix", "vswitch", "--single-file-segments", NULL,
};

void
vs_default_ctl_path(char *buf, size_t len)
{
	const char *dir = getenv("VSWITCH_RUNDIR");

	snprintf(buf, len, "%s/vswitch.ctl", dir != NULL && dir[0] != '\0' ? dir : "/run/vswitch");
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
parse_u32(const char *opt, const char *v, uint32_t min, uint32_t max, uint32_t *out, char *err,
	  size_t errlen)
{
	unsigned long long n;
	char *end;

	errno = 0;
	if (v == NULL || !isdigit((unsigned char)v[0]))
		goto fail;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		goto fail;
	*out = (uint32_t)n;
	return 0;
fail:
	return bad(err, errlen, "%s: '%s' is not an integer in [%" PRIu32 ", %" PRIu32 "]", opt,
		   v != NULL ? v : "", min, max);
}

/* Checks a SPEC as far as possible without EAL: syntax, type, engine keys. */
static int
check_spec(struct vs_options *o, const char *spec, char *err, size_t errlen)
{
	struct vs_port_spec s;
	struct vs_vlan_cfg vlan;
	char why[256];
	const char *name;

	if (vs_port_spec_parse(spec, &s, why, sizeof(why)) != 0)
		return bad(err, errlen, "--port '%s': %s", spec, why);
	if (vs_port_type_find(s.type) == NULL) {
		/* vs_port_create words it; ask it without creating anything. */
		struct vs_port_env env = {0};

		vs_port_create("x", &s, &env, why, sizeof(why));
		return bad(err, errlen, "--port '%s': %s", spec, why);
	}
	if (vs_vlan_parse(vs_port_spec_get(&s, "vlan"), vs_port_spec_get(&s, "trunk"), &vlan, why,
			  sizeof(why)) != 0)
		return bad(err, errlen, "--port '%s': %s", spec, why);
	name = vs_port_spec_get(&s, "name");
	if (name != NULL) {
		size_t n = strlen(name);

		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)name[i]) && strchr("_.-", name[i]) == NULL)
				n = 0;
		if (n == 0 || n >= VS_PORT_NAME_LEN)
			return bad(err, errlen,
				   "--port '%s': name '%s' must be 1 to %d characters of "
				   "[A-Za-z0-9_.-]",
				   spec, name, VS_PORT_NAME_LEN - 1);
		for (unsigned int i = 0; i < o->nb_ports; i++) {
			struct vs_port_spec other;

			if (vs_port_spec_parse(o->ports[i], &other, why, sizeof(why)) == 0) {
				const char *on = vs_port_spec_get(&other, "name");

				if (on != NULL && strcmp(on, name) == 0)
					return bad(err, errlen,
						   "--port '%s': name '%s' is used twice", spec,
						   name);
			}
		}
	}
	return 0;
}

static int parse_config(struct vs_options *o, const char *path, char *err, size_t errlen);

/* Applies option @p name (without dashes) with value @p v (NULL if none). */
static int
apply(struct vs_options *o, const char *name, const char *v, bool in_config, char *err,
      size_t errlen)
{
	static const char *const with_value[] = {
		"port",
		"ctl",
		"stats",
		"fdb-size",
		"fdb-aging",
		"config",
		"mbufs",
		"tx-retries",
		"sock-mode",
		"one-copy",
		"auto-lb",
		"auto-lb-interval",
		"auto-lb-threshold",
		"auto-lb-improvement",
		"state-dir",
	};
	bool needs = false;

	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
		needs |= strcmp(name, with_value[i]) == 0;
	if (needs && (v == NULL || v[0] == '\0'))
		return bad(err, errlen, "--%s needs a value", name);
	if (!needs && v != NULL && strcmp(name, "help") != 0 && strcmp(name, "version") != 0 &&
	    strcmp(name, "takeover") != 0)
		goto unknown;
	if (strcmp(name, "port") == 0) {
		if (o->nb_ports == VS_OPT_MAX_PORTS)
			return bad(err, errlen, "--port: more than %d ports", VS_OPT_MAX_PORTS);
		if (check_spec(o, v, err, errlen) != 0)
			return -EINVAL;
		o->ports[o->nb_ports] = strdup(v);
		if (o->ports[o->nb_ports] == NULL)
			return bad(err, errlen, "out of memory");
		o->nb_ports++;
		return 0;
	}
	if (strcmp(name, "ctl") == 0) {
		if (strcmp(v, "none") == 0) {
			o->ctl[0] = '\0';
			return 0;
		}
		if (strlen(v) >= sizeof(o->ctl))
			return bad(err, errlen, "--ctl: '%s' is longer than %zu characters", v,
				   sizeof(o->ctl) - 1);
		snprintf(o->ctl, sizeof(o->ctl), "%s", v);
		return 0;
	}
	if (strcmp(name, "stats") == 0)
		return parse_u32("--stats", v, 0, 86400, &o->stats, err, errlen);
	if (strcmp(name, "fdb-size") == 0)
		return parse_u32("--fdb-size", v, VS_FDB_MIN_SIZE, VS_FDB_MAX_SIZE, &o->fdb_size,
				 err, errlen);
	if (strcmp(name, "fdb-aging") == 0)
		return parse_u32("--fdb-aging", v, 0, 1000000, &o->fdb_aging, err, errlen);
	if (strcmp(name, "mbufs") == 0)
		return parse_u32("--mbufs", v, 1023, 16u << 20, &o->mbufs, err, errlen);
	if (strcmp(name, "tx-retries") == 0)
		return parse_u32("--tx-retries", v, 0, 1000, &o->tx_retries, err, errlen);
	if (strcmp(name, "auto-lb") == 0) {
		uint32_t on;

		if (parse_u32("--auto-lb", v, 0, 1, &on, err, errlen) != 0)
			return -EINVAL;
		o->auto_lb = on == 1;
		return 0;
	}
	if (strcmp(name, "auto-lb-interval") == 0)
		return parse_u32("--auto-lb-interval", v, VS_AUTO_LB_MIN_INTERVAL,
				 VS_AUTO_LB_MAX_INTERVAL, &o->auto_lb_interval, err, errlen);
	if (strcmp(name, "auto-lb-threshold") == 0)
		return parse_u32("--auto-lb-threshold", v, 1, 100, &o->auto_lb_threshold, err,
				 errlen);
	if (strcmp(name, "auto-lb-improvement") == 0)
		return parse_u32("--auto-lb-improvement", v, 1, 100, &o->auto_lb_improvement, err,
				 errlen);
	if (strcmp(name, "one-copy") == 0) {
		uint32_t on;

		if (parse_u32("--one-copy", v, 0, 1, &on, err, errlen) != 0)
			return -EINVAL;
		o->no_onecopy = on == 0;
		return 0;
	}
	if (strcmp(name, "sock-mode") == 0) {
		char *end;
		long mode = strtol(v, &end, 8);

		if (*end != '\0' || !isdigit((unsigned char)v[0]) || mode < 0 || mode > 0777)
			return bad(err, errlen, "--sock-mode: '%s' is not an octal mode (0..0777)",
				   v);
		o->sock_mode = (int)mode;
		return 0;
	}
	if (strcmp(name, "state-dir") == 0) {
		if (strlen(v) >= sizeof(o->state_dir))
			return bad(err, errlen, "--state-dir: '%s' is longer than %zu characters",
				   v, sizeof(o->state_dir) - 1);
		snprintf(o->state_dir, sizeof(o->state_dir), "%s", v);
		return 0;
	}
	if (strcmp(name, "config") == 0) {
		if (in_config)
			return bad(err, errlen, "--config cannot appear in a config file");
		/* save-config writes back to the file last given. */
		snprintf(o->config, sizeof(o->config), "%s", v);
		return parse_config(o, v, err, errlen);
	}
	if (strcmp(name, "help") == 0 && v == NULL) {
		o->help = true;
		return 0;
	}
	if (strcmp(name, "version") == 0 && v == NULL) {
		o->version = true;
		return 0;
	}
	if (strcmp(name, "takeover") == 0 && v == NULL) {
		if (in_config)
			return bad(err, errlen, "--takeover belongs on the command line");
		o->takeover = true;
		return 0;
	}
unknown:
	return bad(err, errlen, "unknown option '--%s'%s (see --help)", name,
		   in_config ? "" : "; EAL arguments go before '--'");
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* One option per line: "port SPEC", "--port SPEC", "port=SPEC"; '#' comments. */
static int
parse_config(struct vs_options *o, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[CONFIG_MAX_LINE + 2];
	unsigned int n = 0;
	size_t total = 0;
	int rc = 0;

	if (f == NULL)
		return bad(err, errlen, "--config %s: %s", path, strerror(errno));
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *s, *v, why[512];
		size_t len = strlen(line);

		n++;
		total += len;
		if (total > CONFIG_MAX_BYTES) {
			rc = bad(err, errlen, "--config %s: larger than %d bytes", path,
				 CONFIG_MAX_BYTES);
			break;
		}
		if (len > CONFIG_MAX_LINE && line[len - 1] != '\n') {
			rc = bad(err, errlen, "--config %s:%u: line longer than %d bytes", path, n,
				 CONFIG_MAX_LINE);
			break;
		}
		if (memchr(line, '\0', len) != NULL && strlen(line) != len) {
			rc = bad(err, errlen, "--config %s:%u: NUL byte", path, n);
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (s[0] == '-' && s[1] == '-')
			s += 2;
		v = s + strcspn(s, " \t=");
		if (*v != '\0') {
			*v++ = '\0';
			v = trim(v);
			if (*v == '=')
				v = trim(v + 1);
		} else {
			v = NULL;
		}
		if (apply(o, s, v, true, why, sizeof(why)) != 0)
			rc = bad(err, errlen, "--config %s:%u: %s", path, n, why);
	}
	if (rc == 0 && ferror(f))
		rc = bad(err, errlen, "--config %s: read error", path);
	fclose(f);
	return rc;
}

int
vs_options_parse(int argc, char **argv, struct vs_options *o, char *err, size_t errlen)
{
	int dashdash = -1, first = 1;

	memset(o, 0, sizeof(*o));
	o->fdb_size = VS_SWITCH_DEFAULT_FDB_SIZE;
	o->fdb_aging = VS_SWITCH_DEFAULT_FDB_AGING;
	o->mbufs = VS_SWITCH_DEFAULT_MBUFS;
	o->tx_retries = VS_SWITCH_DEFAULT_TX_RETRIES;
	o->sock_mode = -1;
	vs_default_ctl_path(o->ctl, sizeof(o->ctl));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			dashdash = i;
			break;
		}
	}
	o->eal_argv[o->eal_argc++] = argv[0];
	if (dashdash > 1) {
		if (dashdash - 1 > VS_OPT_MAX_EAL_ARGS)
			return bad(err, errlen, "more than %d EAL arguments", VS_OPT_MAX_EAL_ARGS);
		for (int i = 1; i < dashdash; i++)
			o->eal_argv[o->eal_argc++] = argv[i];
	} else {
		for (int i = 0; vs_default_eal_args[i] != NULL; i++)
			o->eal_argv[o->eal_argc++] = (char *)vs_default_eal_args[i];
		o->eal_default = true;
	}
	o->eal_argv[o->eal_argc] = NULL;
	if (dashdash >= 1)
		first = dashdash + 1;
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		char name[64];
		const char *eq, *v = NULL;

		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (dashdash < 0 && a[0] == '-')
				return bad(err, errlen,
					   "unknown option '%s' (EAL arguments go before '--')", a);
			return bad(err, errlen, "unexpected argument '%s' (see --help)", a);
		}
		a += 2;
		eq = strchr(a, '=');
		if (eq != NULL) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - a), a);
			v = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", a);
			if (strcmp(name, "help") != 0 && strcmp(name, "version") != 0 &&
			    strcmp(name, "takeover") != 0 && i + 1 < argc &&
			    !(argv[i + 1][0] == '-' && argv[i + 1][1] == '-'))
				v = argv[++i];
		}
		if (apply(o, name, v, false, err, errlen) != 0)
			return -EINVAL;
	}
	if (o->takeover && o->ctl[0] == '\0')
		return bad(err, errlen, "--takeover needs the running switch's --ctl socket");
	return 0;
}

void
vs_options_free(struct vs_options *o)
{
	for (unsigned int i = 0; i < o->nb_ports; i++)
		free(o->ports[i]);
	o->nb_ports = 0;
}

void
vs_options_usage(FILE *f)
{
	fprintf(f,
		"usage: vswitch [EAL args] -- [options]\n"
		"       vswitch [options]            (EAL defaults: -l 0,1 --no-pci\n"
		"                                     --file-prefix vswitch "
		"--single-file-segments)\n"
		"\n"
		"A poll-mode L2 learning switch for VMs. The main lcore runs the control\n"
		"thread; every other EAL lcore is a worker polling port queues.\n"
		"\n"
		"options:\n"
		"  --port SPEC        add a port (repeatable); SPEC is TYPE,key=value,...\n"
		"  --ctl PATH         management socket (default $VSWITCH_RUNDIR/vswitch.ctl,\n"
		"                     else /run/vswitch/vswitch.ctl; 'none': no socket)\n"
		"  --stats SEC        print a one-line summary every SEC seconds (0: off)\n"
		"  --fdb-size N       FDB entries at most (default %u)\n"
		"  --fdb-aging SEC    forget stations unseen for SEC seconds (default %u; 0: "
		"never)\n"
		"  --mbufs N          mbuf pool size (default %u)\n"
		"  --tx-retries N     retries when a destination queue is full (default %u)\n"
		"  --one-copy 0|1     copy frames between VMs straight from buffer to buffer\n"
		"                     (default 1)\n"
		"  --auto-lb 0|1      place rx queues by busy cycles automatically (default 0)\n"
		"  --auto-lb-interval SEC      seconds between checks (default %u)\n"
		"  --auto-lb-threshold PCT     busiest worker's busy %% that counts (default %u)\n"
		"  --auto-lb-improvement PCT   its load must drop by PCT %% (default %u)\n"
		"  --sock-mode MODE   mode of vhost-user server sockets (octal, default 0660)\n"
		"  --state-dir DIR    keep crash-restart state in DIR (a tmpfs): guests' frames\n"
		"                     survive a kill of the switch exactly once\n"
		"  --config FILE      read options from FILE, one per line ('port SPEC', '#' "
		"comments)\n"
		"  --takeover         take over from the switch serving --ctl without the VMs\n"
		"                     noticing (an upgrade; give EAL its own --file-prefix):\n"
		"                     its ports, VLANs and stations replace --port options\n"
		"  --help             this text\n"
		"  --version          the version\n"
		"\n"
		"Keys every port takes: name=NAME, vlan=ID (access port, default 1) or\n"
		"trunk=ID:ID-ID:... (tagged VLANs). Port types in this build:\n",
		VS_SWITCH_DEFAULT_FDB_SIZE, VS_SWITCH_DEFAULT_FDB_AGING, VS_SWITCH_DEFAULT_MBUFS,
		VS_SWITCH_DEFAULT_TX_RETRIES, VS_AUTO_LB_DEFAULT_INTERVAL,
		VS_AUTO_LB_DEFAULT_THRESHOLD, VS_AUTO_LB_DEFAULT_IMPROVEMENT);
	for (const struct vs_port_type *t = vs_port_type_next(NULL); t != NULL;
	     t = vs_port_type_next(t))
		fprintf(f, "  %s\n", t->usage != NULL ? t->usage : t->name);
	fprintf(f, "\nManage a running switch with vswitchctl (see doc/vswitch.md).\n");
}
