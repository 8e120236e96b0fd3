/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VQ_PAIR_H
#define VQ_PAIR_H

#include <stdint.h>

/* Runs our driver against our device with @p features, both directions. */
int vq_pair_run(uint64_t features);

#endif /* VQ_PAIR_H */
