/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_MEMPOOL_H
#define VS_MEMPOOL_H

/*
 * The mbuf pools' management command (vs_mempool.c), listed in
 * vs_mgmt_switch_cmds; the pools themselves: vs_switch_mempool_walk()
 * (vs_switch.h). Not installed.
 */

#include "vs_mgmt.h"

/** show mempool: every mbuf pool's size, in use, free (doc/vswitch.md). */
int vs_mgmt_cmd_show_mempool(struct vs_mgmt_req *req);

#endif /* VS_MEMPOOL_H */
