/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vs_vlan.h"

/* Parses a VLAN ID at *pp, leaving *pp after it. */
static int
parse_id(const char **pp, const char *key, const char *whole, uint16_t *id, char *err,
	 size_t errlen)
{
	const char *p = *pp;
	unsigned long v = 0;
	int digits = 0;

	while (isdigit((unsigned char)*p) && digits < 5) {
		v = v * 10 + (unsigned long)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || isdigit((unsigned char)*p) || v < VS_VLAN_MIN || v > VS_VLAN_MAX) {
		snprintf(err, errlen, "key '%s': '%s' is not a VLAN ID (1..4094)%s", key, whole,
			 *key == 't' ? " or a list of them joined by ':'" : "");
		return -EINVAL;
	}
	*id = (uint16_t)v;
	*pp = p;
	return 0;
}

static int
parse_trunk(const char *list, struct vs_vlan_cfg *cfg, char *err, size_t errlen)
{
	const char *p = list;

	for (;;) {
		uint16_t lo, hi;

		if (parse_id(&p, "trunk", list, &lo, err, errlen) != 0)
			return -EINVAL;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_id(&p, "trunk", list, &hi, err, errlen) != 0)
				return -EINVAL;
			if (hi < lo) {
				snprintf(err, errlen, "key 'trunk': range %u-%u is backwards", lo,
					 hi);
				return -EINVAL;
			}
		}
		for (unsigned int v = lo; v <= hi; v++) {
			if ((cfg->trunk[v / 64] >> (v % 64) & 1) == 0)
				cfg->nb_trunk++;
			cfg->trunk[v / 64] |= 1ull << (v % 64);
		}
		if (*p == '\0')
			return 0;
		if (*p != ':') {
			snprintf(err, errlen,
				 "key 'trunk': '%s' is not a list of VLAN IDs joined by ':'", list);
			return -EINVAL;
		}
		p++;
	}
}

int
vs_vlan_parse(const char *vlan, const char *trunk, struct vs_vlan_cfg *cfg, char *err,
	      size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	if (vlan != NULL && trunk != NULL) {
		snprintf(err, errlen, "a port is either vlan=ID (access) or trunk=LIST, not both");
		return -EINVAL;
	}
	if (trunk != NULL)
		return parse_trunk(trunk, cfg, err, errlen);
	if (vlan != NULL) {
		const char *p = vlan;

		if (parse_id(&p, "vlan", vlan, &cfg->access, err, errlen) != 0)
			return -EINVAL;
		if (*p != '\0') {
			snprintf(err, errlen, "key 'vlan': '%s' is not a VLAN ID (1..4094)", vlan);
			return -EINVAL;
		}
		return 0;
	}
	cfg->access = VS_VLAN_DEFAULT;
	return 0;
}

int
vs_vlan_format(const struct vs_vlan_cfg *cfg, char *buf, size_t len)
{
	size_t n;
	bool first = true;

	if (cfg->access != 0)
		return snprintf(buf, len, "%u", cfg->access);
	n = (size_t)snprintf(buf, len, "trunk ");
	for (unsigned int v = VS_VLAN_MIN; v <= VS_VLAN_MAX; v++) {
		unsigned int end = v;

		if (!vs_vlan_member(cfg, (uint16_t)v))
			continue;
		while (end + 1 <= VS_VLAN_MAX && vs_vlan_member(cfg, (uint16_t)(end + 1)))
			end++;
		if (end == v)
			n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0,
					      "%s%u", first ? "" : ",", v);
		else
			n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0,
					      "%s%u-%u", first ? "" : ",", v, end);
		first = false;
		v = end;
	}
	return (int)n;
}
