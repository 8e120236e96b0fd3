/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_VLAN_H
#define VS_VLAN_H

/**
 * @file
 * A port's VLAN membership: an access port carries one VLAN untagged; a
 * trunk port carries the listed VLANs tagged (IEEE 802.1Q) and nothing else.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VS_VLAN_MIN 1
#define VS_VLAN_MAX 4094
/** The VLAN of a port given neither vlan= nor trunk=. */
#define VS_VLAN_DEFAULT 1

struct vs_vlan_cfg {
	uint16_t access;	   /**< the access VLAN; 0 on a trunk */
	uint16_t nb_trunk;	   /**< VLANs a trunk carries */
	uint64_t trunk[4096 / 64]; /**< bitmap of them */
};

/**
 * Fills @p cfg from a port SPEC's vlan= and trunk= values (either may be
 * NULL; both set is an error). vlan=ID makes an access port; trunk=LIST a
 * trunk, LIST being IDs and ranges joined by ':' ("10:20:30-39"). IDs are
 * 1..4094. Neither: access port in VS_VLAN_DEFAULT.
 * @return 0, or -EINVAL with a one-line reason in @p err
 */
int vs_vlan_parse(const char *vlan, const char *trunk, struct vs_vlan_cfg *cfg, char *err,
		  size_t errlen);

/** @return true when @p cfg carries VLAN @p vid. */
static inline bool
vs_vlan_member(const struct vs_vlan_cfg *cfg, uint16_t vid)
{
	if (cfg->access != 0)
		return vid == cfg->access;
	return vid < 4096 && (cfg->trunk[vid / 64] >> (vid % 64) & 1) != 0;
}

/**
 * Writes @p cfg as text: "10" for an access port, "trunk 10,20-29" for a
 * trunk (ranges collapsed).
 * @return the length written (as snprintf)
 */
int vs_vlan_format(const struct vs_vlan_cfg *cfg, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VS_VLAN_H */
