/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VQ_HOSTILE_H
#define VQ_HOSTILE_H

/*
 * Runs one malformed-ring scenario against the device side, through
 * vq_dev_take() and again (fresh rings) through vq_dev_take_rx(): the valid
 * chains before the bad one are taken, the queue breaks with @p err, the
 * log hook runs exactly once and the queue then takes nothing more.
 */

#include <stdint.h>

#include "vq_harness.h"

/* Guest address and length of a PROT_NONE region, > 4 GiB. */
#define VQ_HUGE_GA  0x1000000000ULL
#define VQ_HUGE_LEN (5ULL << 30)

typedef int (*vq_hostile_setup)(struct vq_env *e);

int vq_hostile_run(vq_hostile_setup setup, unsigned int size, uint64_t features, int err,
		   unsigned int good_before);

/* Adds the huge PROT_NONE region to @p e's map (freed by vq_hostile_run). */
int vq_hostile_add_huge_region(struct vq_env *e);

#endif /* VQ_HOSTILE_H */
