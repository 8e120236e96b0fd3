/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `vswitchctl save-config [FILE]`: the running configuration in the
 * --config format, so that ports added or changed at run time come back
 * after a restart. A command of the program's own (it knows the options),
 * added to the management socket's table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vs_mgmt.h"
#include "vs_save_config.h"
#include "vs_switch.h"

/* The options, then one port line per port. */
static int
write_config(FILE *f, struct vs_switch *sw, const struct vs_options *o)
{
	struct vs_switch_fdb_view fv;
	char when[64], spec[2048];
	time_t now = time(NULL);
	struct tm tm;

	vs_switch_fdb_view(sw, &fv);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
	fprintf(f, "# vswitch configuration, written by `vswitchctl save-config` on %s.\n", when);
	fprintf(f, "# The --config format (vswitch(8)): one option per line.\n");
	fprintf(f, "fdb-size %u\nfdb-aging %u\nmbufs %u\ntx-retries %u\n", fv.limit, fv.aging,
		o->mbufs, o->tx_retries);
	if (o->stats != 0)
		fprintf(f, "stats %u\n", o->stats);
	if (o->sock_mode >= 0)
		fprintf(f, "sock-mode 0%o\n", (unsigned int)o->sock_mode);
	for (int p = vs_switch_port_next(sw, -1); p >= 0; p = vs_switch_port_next(sw, p)) {
		int rc = vs_switch_port_spec(sw, (uint16_t)p, spec, sizeof(spec));

		if (rc < 0)
			return rc;
		fprintf(f, "port %s\n", spec);
	}
	return ferror(f) ? -EIO : 0;
}

/* Writes FILE.tmp, then renames it over FILE: a crash leaves the old one whole. */
static int
save(struct vs_switch *sw, const struct vs_options *o, const char *path, char *err, size_t len)
{
	char tmp[4200];
	FILE *f;
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		rc = -errno;
		snprintf(err, len, "%.256s: %s", tmp, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	rc = write_config(f, sw, o);
	if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		snprintf(err, len, "%.256s: %s", path, strerror(-rc));
		unlink(tmp);
	}
	return rc;
}

static int
cmd_save_config(struct vs_mgmt_req *req)
{
	const struct vs_options *o = req->arg;
	const char *path = req->argc > 0 ? req->argv[0] : o->config;
	char err[512];

	if (path[0] == '\0')
		return vs_mgmt_fail(req, "save-config: vswitch runs without --config: give a FILE");
	if (path[0] != '/')
		return vs_mgmt_fail(req, "save-config: '%.64s' is not an absolute path", path);
	if (save(req->sw, o, path, err, sizeof(err)) != 0)
		return vs_mgmt_fail(req, "save-config: %s", err);
	vs_jw_kv_str(req->w, "file", path);
	vs_jw_kv_u64(req->w, "ports", (uint64_t)vs_switch_nb_ports(req->sw));
	return 0;
}

static const struct vs_mgmt_cmd save_cmds[] = {
	{"save-config", "[FILE]",
	 "write the running configuration (default: the --config file) for the next start", 0, 1,
	 false, cmd_save_config},
};

int
vs_save_config_register(struct vs_mgmt *m, struct vs_options *o)
{
	return vs_mgmt_add_commands(m, save_cmds, 1, o);
}
