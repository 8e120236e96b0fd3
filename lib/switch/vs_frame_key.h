/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_FRAME_KEY_H
#define VS_FRAME_KEY_H

/*
 * FDB keys and VLAN membership as the fast path reads them, shared by the
 * mbuf path (vs_worker.c) and one copy (vs_onecopy.c). Not installed.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include "vs_switch_priv.h"

/* The 6 bytes at @p p (8 readable) and @p vlan as an FDB key (vs_fdb_key). */
static inline uint64_t
load_key(const void *p, uint16_t vlan)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return (v & 0x0000ffffffffffffull) | (uint64_t)vlan << 48;
#else
	return vs_fdb_key(p, vlan);
#endif
}

/* The group (multicast/broadcast) bit of the MAC in key @p k. */
static inline bool
key_is_group(uint64_t k)
{
	return (k & 1) != 0;
}

/* The trunk's VLAN bitmap as the snapshot publishes it (vs_dp_port.vlan). */
static inline bool
trunk_carries(const struct vs_vlan_cfg *vlan, uint16_t vid)
{
	return (vlan->trunk[vid / 64] >> (vid % 64) & 1) != 0;
}

#endif /* VS_FRAME_KEY_H */
