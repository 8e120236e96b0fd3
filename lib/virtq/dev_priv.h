/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VIRTQ_DEV_PRIV_H
#define VIRTQ_DEV_PRIV_H

/* libvirtq internals shared by dev.c and dev_inflight.c (not installed). */

#include "virtq_dev.h"

/*
 * Starts inflight tracking on @p region for a queue vq_dev_init() has set
 * up: initialises a fresh region, or recovers one a device left behind
 * (the queue's position then comes from it).
 */
void vq_dev_inflight_init(struct vq_dev *q, void *region);

#endif /* VIRTQ_DEV_PRIV_H */
