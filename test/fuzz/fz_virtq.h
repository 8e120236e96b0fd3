/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FZ_VIRTQ_H
#define FZ_VIRTQ_H

/*
 * The input language of fuzz_virtq_dev, shared with its seed generator:
 * how header bytes map to features, sizes and regions, and the operation
 * codes. See test/fuzz/README.md.
 */

#include <stdint.h>

#include "virtq_ring.h"

#define FZ_VQ_MAX_REGIONS 4

/* Feature selector bits. */
#define FZ_VQ_SEL_INDIRECT  0x01
#define FZ_VQ_SEL_EVENT_IDX 0x02
#define FZ_VQ_SEL_IN_ORDER  0x04
#define FZ_VQ_SEL_PACKED    0x08
#define FZ_VQ_SEL_MRG_RXBUF 0x10
#define FZ_VQ_SEL_VERSION_1 0x20

enum {
	FZ_VQ_OP_TAKE,	  /* u8 max */
	FZ_VQ_OP_TAKE_RX, /* u8 n, n x u16 packet length */
	FZ_VQ_OP_RETURN,  /* - : returns the oldest burst taken */
	FZ_VQ_OP_UNTAKE,  /* u8 keep (packets after take_rx) */
	FZ_VQ_OP_WRITE,	  /* u8 area, u16 offset, u8 len, bytes */
	FZ_VQ_OP_WRITE16, /* u8 area, u16 offset (even), u16 value */
	FZ_VQ_OP_CALL,	  /* - : vq_dev_call_needed() */
	FZ_VQ_OP_KICK,	  /* u8: bit 0 enable, else disable */
	FZ_VQ_OP_HINT,	  /* u8 max */
	FZ_VQ_OP_RESTART, /* - : return all, save the position, init again from it */
	FZ_VQ_OP_DESC,	  /* u8 area (0 ring, k region k-1), u8 region, u16 index, u16 offset,
			     u32 len, u16 flags, u16 next (split) / id (packed) */
	FZ_VQ_OP_AVAIL,	  /* u16 head (split) / slot (packed), u8 wrap (packed) */
	FZ_VQ_OPS,
};

/* Areas of FZ_VQ_OP_WRITE: 0 descriptors, 1 driver area, 2 device area, 3.. regions. */

static inline uint64_t
fz_vq_features(uint8_t sel)
{
	uint64_t f = 0;

	if (sel & FZ_VQ_SEL_INDIRECT)
		f |= VQ_FEATURE(VQ_F_INDIRECT_DESC);
	if (sel & FZ_VQ_SEL_EVENT_IDX)
		f |= VQ_FEATURE(VQ_F_EVENT_IDX);
	if (sel & FZ_VQ_SEL_IN_ORDER)
		f |= VQ_FEATURE(VQ_F_IN_ORDER);
	if (sel & FZ_VQ_SEL_PACKED)
		f |= VQ_FEATURE(VQ_F_RING_PACKED);
	if (sel & FZ_VQ_SEL_MRG_RXBUF)
		f |= VQ_FEATURE(VQ_NET_F_MRG_RXBUF);
	if (sel & FZ_VQ_SEL_VERSION_1)
		f |= VQ_FEATURE(VQ_F_VERSION_1);
	return f;
}

/* Queue sizes up to 1024: split a power of two, packed any. */
static inline unsigned int
fz_vq_size(uint16_t v, int packed)
{
	return packed ? 1u + v % 1024u : 1u << (v % 11u);
}

/* Region sizes 1..65536 bytes. */
static inline uint64_t
fz_vq_region_size(uint16_t v)
{
	return (uint64_t)v + 1;
}

#endif /* FZ_VIRTQ_H */
