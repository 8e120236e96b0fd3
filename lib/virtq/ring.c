/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring layouts: where each part of a virtqueue goes in one block.
 */
#include <errno.h>

#include "virtq_ring.h"

static size_t
align_up(size_t v, size_t align)
{
	return (v + align - 1) & ~(align - 1);
}

static int
bad_align(size_t align)
{
	return align < 4 || (align & (align - 1)) != 0;
}

int
vq_split_layout(unsigned int size, size_t align, struct vq_ring_layout *l)
{
	if (size == 0 || size > VQ_MAX_SIZE || (size & (size - 1)) || bad_align(align))
		return -EINVAL;
	l->desc_off = 0;
	l->driver_off = vq_split_desc_size(size);
	l->device_off = align_up(l->driver_off + vq_split_avail_size(size), align);
	l->total = l->device_off + vq_split_used_size(size);
	return 0;
}

int
vq_packed_layout(unsigned int size, size_t align, struct vq_ring_layout *l)
{
	if (size == 0 || size > VQ_MAX_SIZE || bad_align(align))
		return -EINVAL;
	l->desc_off = 0;
	l->driver_off = align_up(vq_packed_desc_size(size), align);
	l->device_off = align_up(l->driver_off + sizeof(struct vq_pevent), align);
	l->total = l->device_off + sizeof(struct vq_pevent);
	return 0;
}
