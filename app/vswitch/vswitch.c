/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vswitch: the program users run. Thin: options, EAL, the engine, the
 * management socket, signals, the control thread's loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "vhost_diag.h"
#include "vs_evloop.h"
#include "vs_handover.h"
#include "vs_mgmt.h"
#include "vs_options.h"
#include "vs_save_config.h"
#include "vs_switch.h"

#define EXIT_BAD_ARGS 2

/* The program's own lines (ready, --stats, shutting down). */
RTE_LOG_REGISTER(vs_main_logtype, vswitch.main, INFO);
/* libvhost's diagnostics, through its hook. */
RTE_LOG_REGISTER(vs_libvhost_logtype, vswitch.libvhost, INFO);
#define MAIN_LOG(level, fmt, ...)                                                                  \
	rte_log(RTE_LOG_##level, vs_main_logtype, "vswitch: " fmt "\n", ##__VA_ARGS__)

/* libvhost's levels are syslog's; rte_log's are one more (RTE_LOG_ERR == LOG_ERR + 1). */
static void
libvhost_log(int level, const char *line, void *arg)
{
	(void)arg;
	rte_log((uint32_t)level + 1, vs_libvhost_logtype, "libvhost: %s\n", line);
}

/*
 * From EAL on, libvhost logs through rte_log: its own level lets every
 * message through and rte_log's level of vswitch.libvhost decides (so
 * --log-level and `vswitchctl log level` set it).
 */
static void
install_log_hooks(void)
{
	vh_diag_set_handler(libvhost_log, NULL);
	vh_diag_set_level(VH_DIAG_DEBUG);
}

static struct vs_evloop *main_loop;
static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
	if (main_loop != NULL)
		vs_evloop_stop(main_loop);
}

static void
install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

struct stats_timer {
	struct vs_evloop *loop;
	struct vs_switch *sw;
	unsigned int sec;
};

static void
stats_tick(void *arg)
{
	struct stats_timer *st = arg;
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);

	if (f != NULL) {
		vs_switch_print_stats_line(st->sw, f);
		fclose(f);
		/* "stats: ...\n" */
		rte_log(RTE_LOG_INFO, vs_main_logtype, "vswitch: %s", line);
		free(line);
	}
	vs_evloop_add_timer(st->loop, (uint64_t)st->sec * 1000, stats_tick, st);
}

/* vhost-user server sockets take --sock-mode unless the SPEC says otherwise. */
static const char *
with_sock_mode(const char *spec, int mode, char *buf, size_t len)
{
	if (mode < 0 || strncmp(spec, "vhost-user,", 11) != 0 ||
	    strstr(spec, ",sock-mode=") != NULL)
		return spec;
	if ((size_t)snprintf(buf, len, "%s,sock-mode=0%o", spec, (unsigned int)mode) >= len)
		return spec;
	return buf;
}

/* Creates the directory of the management socket when it is missing. */
static void
make_ctl_dir(const char *path)
{
	char dir[sizeof(((struct vs_options *)0)->ctl)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		fprintf(stderr, "vswitch: cannot create %s: %s\n", dir, strerror(errno));
}

static int
add_ports(struct vs_switch *sw, const struct vs_options *o)
{
	for (unsigned int i = 0; i < o->nb_ports; i++) {
		char err[512], buf[1024];
		const char *spec = with_sock_mode(o->ports[i], o->sock_mode, buf, sizeof(buf));

		if (vs_switch_add_port(sw, spec, err, sizeof(err)) < 0) {
			fprintf(stderr, "vswitch: --port '%s': %s\n", o->ports[i], err);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * --takeover: our workers run (polling nothing yet) before the running
 * switch stops its own, so that the gap between them is the hand-over
 * alone. On failure the running switch forwards on and we exit.
 */
static int
take_over(struct vs_switch *sw, const struct vs_options *o, struct vs_mgmt **mgmt)
{
	struct vs_takeover_info info;
	char err[512];
	int rc;

	if (vs_switch_start(sw) != 0) {
		fprintf(stderr, "vswitch: cannot start the workers\n");
		return -EIO;
	}
	rc = vs_switch_takeover(sw, o->ctl, &info, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "vswitch: --takeover: %s; the running switch carries on\n", err);
		return rc;
	}
	/* Without the old listener (its process died after committing), a new one. */
	*mgmt = info.mgmt_fd >= 0
			? vs_mgmt_adopt(sw, main_loop, o->ctl, info.mgmt_fd, err, sizeof(err))
			: vs_mgmt_create(sw, main_loop, o->ctl, err, sizeof(err));
	if (*mgmt == NULL)
		fprintf(stderr, "vswitch: %s (forwarding goes on without it)\n", err);
	MAIN_LOG(INFO,
		 "ready: %u port(s), %u worker(s), management socket %s; took over from pid %u "
		 "(%s): %u resumed, %u reopened, %u not reopened, %u stations, forwarding gap "
		 "%.2f ms, reopened ports after %.1f ms",
		 info.resumed + info.reopened, vs_switch_nb_workers(sw), o->ctl, info.old_pid,
		 info.old_version, info.resumed, info.reopened, info.not_reopened, info.fdb_entries,
		 info.gap_ms, info.reopened > 0 ? info.reopen_ms : 0.0);
	return 0;
}

static int
run(struct vs_options *o)
{
	struct vs_switch_config cfg = {0};
	struct stats_timer st;
	struct vs_mgmt *mgmt = NULL;
	struct vs_switch *sw = NULL;
	char err[512];
	int rc = EXIT_FAILURE, pdump_rc;
	bool handed_over = false;

	main_loop = vs_evloop_create();
	if (main_loop == NULL) {
		fprintf(stderr, "vswitch: cannot create the event loop: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	/* From here a signal stops the loop, even one that comes while ports start. */
	install_signals();
	cfg.loop = main_loop;
	cfg.fdb_size = o->fdb_size;
	cfg.fdb_aging = o->fdb_aging;
	cfg.nb_mbufs = o->mbufs;
	cfg.tx_retries = o->tx_retries;
	cfg.no_onecopy = o->no_onecopy;
	cfg.auto_lb = o->auto_lb;
	cfg.auto_lb_interval = o->auto_lb_interval;
	cfg.auto_lb_threshold = o->auto_lb_threshold;
	cfg.auto_lb_improvement = o->auto_lb_improvement;
	cfg.telemetry = true;
	if (o->state_dir[0] != '\0') {
		if (mkdir(o->state_dir, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "vswitch: --state-dir %s: %s\n", o->state_dir,
				strerror(errno));
			rc = EXIT_BAD_ARGS;
			goto out;
		}
		cfg.state_dir = o->state_dir;
	}
	sw = vs_switch_create(&cfg, err, sizeof(err));
	if (sw == NULL) {
		fprintf(stderr, "vswitch: %s\n", err);
		/* Too few lcores is an argument problem. */
		rc = rte_lcore_count() < 2 ? EXIT_BAD_ARGS : EXIT_FAILURE;
		goto out;
	}
	/* dpdk-dumpcap (a secondary process) may capture the ethdev ports. */
	pdump_rc = vs_switch_pdump_init(sw);
	if (pdump_rc != 0)
		MAIN_LOG(WARNING, "dpdk-dumpcap cannot attach: %s", rte_strerror(-pdump_rc));
	if (o->takeover) {
		if (take_over(sw, o, &mgmt) != 0)
			goto out;
		if (mgmt != NULL && vs_save_config_register(mgmt, o) != 0)
			MAIN_LOG(ERR, "save-config is not on the management socket");
	} else {
		if (add_ports(sw, o) != 0) {
			rc = EXIT_BAD_ARGS;
			goto out;
		}
		if (o->ctl[0] != '\0') {
			make_ctl_dir(o->ctl);
			mgmt = vs_mgmt_create(sw, main_loop, o->ctl, err, sizeof(err));
			if (mgmt == NULL) {
				fprintf(stderr, "vswitch: %s\n", err);
				goto out;
			}
			if (vs_save_config_register(mgmt, o) != 0) {
				fprintf(stderr, "vswitch: cannot add save-config to the management "
						"socket\n");
				goto out;
			}
		}
		if (vs_switch_start(sw) != 0) {
			fprintf(stderr, "vswitch: cannot start the workers\n");
			goto out;
		}
		MAIN_LOG(INFO, "ready: %u port(s), %u worker(s), management socket %s", o->nb_ports,
			 vs_switch_nb_workers(sw), o->ctl[0] != '\0' ? o->ctl : "(none)");
	}
	if (o->stats > 0) {
		st = (struct stats_timer){main_loop, sw, o->stats};
		vs_evloop_add_timer(main_loop, (uint64_t)o->stats * 1000, stats_tick, &st);
	}
	if (vs_evloop_run(main_loop) != 0)
		MAIN_LOG(ERR, "event loop failed");
	handed_over = vs_mgmt_handed_over(mgmt);
	if (handed_over)
		MAIN_LOG(INFO, "handed over to the new process, exiting");
	else
		MAIN_LOG(INFO, "%s, shutting down", got_signal == SIGINT ? "SIGINT" : "SIGTERM");
	rc = EXIT_SUCCESS;
out:
	vs_mgmt_destroy(mgmt);
	if (sw != NULL) {
		vs_switch_pdump_fini(sw);
		vs_switch_stop(sw);
		if (rc == EXIT_SUCCESS && !handed_over)
			vs_switch_print_stats(sw, stdout);
		/* Stops every port: sockets removed, peers see the link go down. */
		vs_switch_destroy(sw);
	}
	vs_evloop_destroy(main_loop);
	main_loop = NULL;
	return rc;
}

int
main(int argc, char **argv)
{
	struct vs_options o;
	char err[640];
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vs_options_parse(argc, argv, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "vswitch: %s\n", err);
		vs_options_free(&o);
		return EXIT_BAD_ARGS;
	}
	if (o.help) {
		vs_options_usage(stdout);
		vs_options_free(&o);
		return EXIT_SUCCESS;
	}
	if (o.version) {
		printf("vswitch %s\n", VS_VERSION);
		vs_options_free(&o);
		return EXIT_SUCCESS;
	}
	if (rte_eal_init(o.eal_argc, o.eal_argv) < 0) {
		int e = rte_errno;

		fprintf(stderr, "vswitch: EAL initialisation failed (%s): %s\n",
			o.eal_default ? "default EAL arguments" : "EAL arguments before '--'",
			rte_strerror(e));
		vs_options_free(&o);
		return e == EINVAL ? EXIT_BAD_ARGS : EXIT_FAILURE;
	}
	install_log_hooks();
	rc = run(&o);
	vh_diag_set_handler(NULL, NULL);
	rte_eal_cleanup();
	vs_options_free(&o);
	return rc;
}
