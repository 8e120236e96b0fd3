/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FZ_PACKET_H
#define FZ_PACKET_H

/*
 * The input language of fuzz_packet_path, shared with its seed generator:
 * records of u8 kind, u8 port, then the kind's fields. See
 * test/fuzz/README.md.
 */

#define FZ_PKT_PORTS	 6
#define FZ_PKT_MAX_FRAME 9000

enum {
	/* u16 len, u8 chunk (mbuf segment size 1 + 8 * chunk), bytes: a frame on a wire port */
	FZ_PKT_REC_FRAME,
	/* u8 layout, u16 len, 12-byte virtio-net header + len bytes, then cut points:
	 * u8, u8, u16 (as many as layout % 4 says): a guest transmits on VM port 0 or 1 */
	FZ_PKT_REC_GUEST_TX,
	/* u8 n (% 9), n x u16 buffer size: the guest posts receive buffers */
	FZ_PKT_REC_RX_REFILL,
	/* the switch runs until idle; every frame out is checked */
	FZ_PKT_REC_RUN,
	/* u8 seconds (% 8): the FDB clock advances and ages */
	FZ_PKT_REC_TICK,
	FZ_PKT_RECS,
};

#endif /* FZ_PACKET_H */
