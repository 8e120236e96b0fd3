/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_MGMT_PLACEMENT_H
#define VS_MGMT_PLACEMENT_H

/*
 * The rx queue placement commands (vs_mgmt_placement.c), listed in
 * vs_mgmt_switch_cmds: show rxqs, rebalance, rxq-move, auto-lb. Not installed.
 */

#include "vs_mgmt.h"

int vs_mgmt_cmd_show_rxqs(struct vs_mgmt_req *req);
int vs_mgmt_cmd_rebalance(struct vs_mgmt_req *req);
int vs_mgmt_cmd_rxq_move(struct vs_mgmt_req *req);
int vs_mgmt_cmd_auto_lb(struct vs_mgmt_req *req);

#endif /* VS_MGMT_PLACEMENT_H */
