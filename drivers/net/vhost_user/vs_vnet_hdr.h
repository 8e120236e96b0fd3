/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_VNET_HDR_H
#define VS_VNET_HDR_H

/**
 * @file
 * The virtio-net header (VIRTIO 1.2, 5.1.6 "Device Operation") and rte_mbuf
 * offload flags, both ways, for the vhost-user port:
 *
 * - A guest's transmitted packet (header read from guest memory, untrusted)
 *   becomes mbuf transmit-offload flags: VIRTIO_NET_HDR_F_NEEDS_CSUM becomes
 *   RTE_MBUF_F_TX_{TCP,UDP}_CKSUM with l2_len/l3_len, a GSO type becomes
 *   RTE_MBUF_F_TX_TCP_SEG / RTE_MBUF_F_TX_UDP_SEG with tso_segsz and l4_len
 *   (the convention of DPDK's vhost library in its legacy offload mode), so
 *   that the packet can go on, still unfinished, to another guest or a NIC.
 *   A partial checksum whose place matches no such flag is completed in
 *   software in the mbuf.
 * - An mbuf sent to a guest becomes a header: the same flags back, when the
 *   guest negotiated the matching receive offload (GUEST_CSUM, GUEST_TSO4,
 *   GUEST_TSO6, GUEST_UFO). A pending checksum for a guest without
 *   GUEST_CSUM is completed in software while copying (the mbuf may be
 *   shared and is only read); segmentation for a guest without the GSO
 *   feature is not done: such packets are refused (-ENOTSUP).
 *
 * Partial checksums follow Linux and DPDK: the checksum field holds the
 * pseudo-header sum, the device (or here, software) adds the one's
 * complement sum from csum_start to the end of the packet and stores its
 * complement at csum_start + csum_offset.
 */

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_net.h>

#include <rte_mbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

/** mbuf flags that make a packet need a non-zero virtio-net header. */
#define VS_VNET_TX_OFFLOADS                                                                        \
	(RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG |                   \
	 RTE_MBUF_F_RX_L4_CKSUM_MASK)

/** Where a checksum has to be completed in software (vs_vnet_hdr_from_mbuf()). */
struct vs_vnet_sw_csum {
	uint32_t start;	 /**< first byte summed, from the start of the frame */
	uint32_t offset; /**< where the result goes, from @c start */
	bool udp;	 /**< a zero result is sent as 0xffff (RFC 768) */
};

/**
 * Applies the header of a packet a guest sent to the mbuf holding its frame
 * (our own mbuf, freshly filled). Validates the header against the frame:
 * checksum start and offset inside the frame, a GSO type with a known L4
 * protocol, a non-zero segment size, NEEDS_CSUM set with GSO (5.1.6.2).
 *
 * @param h the header, copied out of guest memory
 * @param m the frame (possibly chained)
 * @return 0, or -EINVAL for a header that does not fit the frame (the
 *         caller drops the packet and counts an error)
 */
int vs_vnet_hdr_to_mbuf(const struct virtio_net_hdr *h, struct rte_mbuf *m);

/**
 * Builds the header for mbuf @p m going to a guest that negotiated
 * @p features. num_buffers is left to the caller.
 *
 * @param m the packet (only read)
 * @param features the guest's negotiated virtio features
 * @param h filled with the header
 * @param sw filled when the checksum must be completed in software (then
 *        the function returns 1)
 * @return 0, 1 (see @p sw), or -ENOTSUP when the packet needs segmentation
 *         the guest cannot do or an offload the header cannot express
 *         (SCTP checksum); -EINVAL when its offload lengths lie outside it
 */
int vs_vnet_hdr_from_mbuf(const struct rte_mbuf *m, uint64_t features, struct virtio_net_hdr *h,
			  struct vs_vnet_sw_csum *sw);

/**
 * Computes the checksum described by @p sw over the frame in @p m (only
 * read), as it must be stored in the frame: one's complement of the sum from
 * sw->start to the end, 0xffff for a zero UDP sum.
 *
 * @return the 16-bit value in network byte order, ready to store
 */
uint16_t vs_vnet_sw_csum_value(const struct rte_mbuf *m, const struct vs_vnet_sw_csum *sw);

/**
 * For one copy between guests: checks the header @p h of a frame of
 * @p frame_len bytes a guest sent, and rewrites it into what its
 * destination is given as is: zeros when it asks for nothing; otherwise
 * only flags NEEDS_CSUM, gso_type, hdr_len, gso_size, csum_start and
 * csum_offset kept. Sets *@p needs to the destination's receive offloads
 * it requires (VS_FRAME_NEED_CSUM, _TSO4, _TSO6, _UFO of vs_port.h).
 *
 * @return 0, or -EINVAL for a header one copy does not pass on (flags
 *         other than NEEDS_CSUM, ECN, a checksum outside the frame, GSO
 *         without NEEDS_CSUM or without a segment size, an unknown GSO
 *         type): the frame then takes the mbuf path, which judges it
 */
int vs_vnet_hdr_normalise(struct virtio_net_hdr *h, uint32_t frame_len, uint8_t *needs);

#ifdef __cplusplus
}
#endif

#endif /* VS_VNET_HDR_H */
