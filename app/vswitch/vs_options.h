/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_OPTIONS_H
#define VS_OPTIONS_H

/*
 * vswitch's command line: `vswitch [EAL args] -- [options]`, and --config
 * files holding the same options one per line. Parsed and checked before
 * EAL starts, so bad arguments start nothing.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VS_OPT_MAX_PORTS    256
#define VS_OPT_MAX_EAL_ARGS 128

struct vs_options {
	int eal_argc;
	char *eal_argv[VS_OPT_MAX_EAL_ARGS + 1]; /* argv[0] first; borrowed or static */
	bool eal_default;			 /* no EAL args given: the defaults */
	char *ports[VS_OPT_MAX_PORTS];		 /* SPECs, in order (owned) */
	unsigned int nb_ports;
	char ctl[108];	    /* management socket path; "" with --ctl none */
	unsigned int stats; /* seconds between stats lines; 0: off */
	uint32_t fdb_size;
	uint32_t fdb_aging;
	uint32_t mbufs;
	uint32_t tx_retries;
	int sock_mode;	     /* -1: the driver's default */
	char state_dir[256]; /* --state-dir; "": none */
	bool no_onecopy;     /* --one-copy 0 */
	bool auto_lb;
	uint32_t auto_lb_interval; /* 0: the engine's defaults */
	uint32_t auto_lb_threshold;
	uint32_t auto_lb_improvement;
	char config[4096]; /* the --config FILE given last, "" without one */
	bool help;
	bool version;
	bool takeover; /* take over from the switch serving ctl (vs_handover.h) */
};

/* The EAL arguments used when none are given. */
extern const char *const vs_default_eal_args[];

/* The management socket used when --ctl is not given ($VSWITCH_RUNDIR or /run/vswitch). */
void vs_default_ctl_path(char *buf, size_t len);

/*
 * Parses argv. EAL arguments come before "--" (none: the defaults); without
 * "--" every argument is a vswitch option. Port SPECs are checked for
 * syntax, type and the engine's keys (name, vlan, trunk); the drivers check
 * their keys when the ports are created.
 * Returns 0, or -EINVAL with one line naming the argument and why in err.
 */
int vs_options_parse(int argc, char **argv, struct vs_options *o, char *err, size_t errlen);

/* Frees what vs_options_parse allocated. */
void vs_options_free(struct vs_options *o);

/* Prints --help. */
void vs_options_usage(FILE *f);

#endif /* VS_OPTIONS_H */
