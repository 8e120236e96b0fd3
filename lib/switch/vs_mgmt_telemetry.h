/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_MGMT_TELEMETRY_H
#define VS_MGMT_TELEMETRY_H

/*
 * The management socket's "show ..." commands through DPDK telemetry
 * (vs_mgmt_telemetry.c; used by vs_mgmt.c only).
 */

#include "vs_mgmt.h"

struct vs_evloop;

extern int vs_mgmt_logtype;

/*
 * Registers /vswitch/show/... for the "show ..." commands of @p cmds (once
 * per process: telemetry cannot unregister).
 */
void vs_mgmt_tel_register(const struct vs_mgmt_cmd *cmds, unsigned int n);

/*
 * Makes @p m, on the control thread running @p loop, answer those telemetry
 * commands (unless another server does already). @return 0 or a negative errno
 */
int vs_mgmt_tel_attach(struct vs_mgmt *m, struct vs_evloop *loop);

/* Stops @p m answering; requests waiting get no reply. */
void vs_mgmt_tel_detach(struct vs_mgmt *m);

#endif /* VS_MGMT_TELEMETRY_H */
