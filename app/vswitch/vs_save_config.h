/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_SAVE_CONFIG_H
#define VS_SAVE_CONFIG_H

/* The save-config management command (vs_save_config.c). */

#include "vs_options.h"

struct vs_mgmt;

/* Adds save-config to @p m; it reads @p o (kept by reference). Returns 0 or a negative errno. */
int vs_save_config_register(struct vs_mgmt *m, struct vs_options *o);

#endif /* VS_SAVE_CONFIG_H */
