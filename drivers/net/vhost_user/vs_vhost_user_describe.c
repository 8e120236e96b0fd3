/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `show port` for a vhost-user port: the connection, the virtio and
 * vhost-user protocol features negotiated (decoded), every ring's layout and
 * position, and the guest memory regions mapped. Control thread; ring
 * positions are read while workers move them (a snapshot, not a lock).
 */
#include <inttypes.h>
#include <stdio.h>

#include "vhost_mem.h"
#include "vhost_user_backend.h"
#include "vs_vhost_user_priv.h"

/* Virtio feature bits (virtio 1.2, 5.1.3 and 6; vhost-user adds 30). */
static const char *const virtio_bits[64] = {
	[0] = "CSUM",
	[1] = "GUEST_CSUM",
	[2] = "CTRL_GUEST_OFFLOADS",
	[3] = "MTU",
	[5] = "MAC",
	[7] = "GUEST_TSO4",
	[8] = "GUEST_TSO6",
	[9] = "GUEST_ECN",
	[10] = "GUEST_UFO",
	[11] = "HOST_TSO4",
	[12] = "HOST_TSO6",
	[13] = "HOST_ECN",
	[14] = "HOST_UFO",
	[15] = "MRG_RXBUF",
	[16] = "STATUS",
	[17] = "CTRL_VQ",
	[18] = "CTRL_RX",
	[19] = "CTRL_VLAN",
	[20] = "CTRL_RX_EXTRA",
	[21] = "GUEST_ANNOUNCE",
	[22] = "MQ",
	[23] = "CTRL_MAC_ADDR",
	[24] = "NOTIFY_ON_EMPTY",
	[26] = "LOG_ALL",
	[27] = "ANY_LAYOUT",
	[28] = "RING_INDIRECT_DESC",
	[29] = "RING_EVENT_IDX",
	[30] = "PROTOCOL_FEATURES",
	[32] = "VERSION_1",
	[33] = "ACCESS_PLATFORM",
	[34] = "RING_PACKED",
	[35] = "IN_ORDER",
	[36] = "ORDER_PLATFORM",
	[37] = "SR_IOV",
	[38] = "NOTIFICATION_DATA",
	[39] = "NOTIF_CONFIG_DATA",
	[40] = "RING_RESET",
	[54] = "GUEST_USO4",
	[55] = "GUEST_USO6",
	[56] = "HOST_USO",
	[57] = "HASH_REPORT",
	[59] = "GUEST_HDRLEN",
	[60] = "RSS",
	[61] = "RSC_EXT",
	[62] = "STANDBY",
	[63] = "SPEED_DUPLEX",
};

/* vhost-user protocol feature bits (vhost-user.rst, "Protocol features"). */
static const char *const protocol_bits[64] = {
	[0] = "MQ",
	[1] = "LOG_SHMFD",
	[2] = "RARP",
	[3] = "REPLY_ACK",
	[4] = "NET_MTU",
	[5] = "BACKEND_REQ",
	[6] = "CROSS_ENDIAN",
	[7] = "CRYPTO_SESSION",
	[8] = "PAGEFAULT",
	[9] = "CONFIG",
	[10] = "BACKEND_SEND_FD",
	[11] = "HOST_NOTIFIER",
	[12] = "INFLIGHT_SHMFD",
	[13] = "RESET_DEVICE",
	[14] = "INBAND_NOTIFICATIONS",
	[15] = "CONFIGURE_MEM_SLOTS",
	[16] = "STATUS",
	[17] = "XEN_MMAP",
	[18] = "SHARED_OBJECT",
	[19] = "DEVICE_STATE",
};

static void
kv_hex(struct vs_jw *w, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	vs_jw_kv_str(w, key, buf);
}

/* "KEY": {"bits": "0x...", "names": ["VERSION_1", ..., "bit 45"]} */
static void
write_features(struct vs_jw *w, const char *key, uint64_t f, const char *const *names)
{
	vs_jw_key(w, key);
	vs_jw_object_open(w);
	kv_hex(w, "bits", f);
	vs_jw_key(w, "names");
	vs_jw_array_open(w);
	for (unsigned int b = 0; b < 64; b++) {
		char other[16];

		if (!(f >> b & 1))
			continue;
		snprintf(other, sizeof(other), "bit %u", b);
		vs_jw_str(w, names[b] != NULL ? names[b] : other);
	}
	vs_jw_array_close(w);
	vs_jw_object_close(w);
}

static void
write_ring(struct vs_jw *w, const struct vs_vu_port *p, unsigned int idx)
{
	const struct vu_ring *r = p->ring[idx];

	vs_jw_object_open(w);
	vs_jw_kv_u64(w, "index", idx);
	vs_jw_kv_u64(w, "queue", idx / 2);
	/* Ring 2q is the guest's receive ring (our tx), 2q+1 its transmit ring. */
	vs_jw_kv_str(w, "guest_ring", idx & 1 ? "tx" : "rx");
	vs_jw_kv_bool(w, "started", r != NULL);
	vs_jw_kv_bool(w, "enabled", p->enabled[idx]);
	if (r != NULL) {
		vs_jw_kv_str(w, "layout", r->packed ? "packed" : "split");
		vs_jw_kv_u64(w, "size", r->vq.size);
		vs_jw_kv_bool(w, "event_idx", r->event_idx);
		vs_jw_kv_str(w, "notify", r->polled ? "polled (no kick fd)" : "polled (kicks off)");
		kv_hex(w, "desc_gpa", r->gpa[0]);
		kv_hex(w, r->packed ? "driver_event_gpa" : "avail_gpa", r->gpa[1]);
		kv_hex(w, r->packed ? "device_event_gpa" : "used_gpa", r->gpa[2]);
		vs_jw_kv_u64(w, "last_avail", __atomic_load_n(&r->vq.last_avail, __ATOMIC_RELAXED));
		vs_jw_kv_u64(w, "used_idx", __atomic_load_n(&r->vq.used_idx, __ATOMIC_RELAXED));
		if (r->packed) {
			vs_jw_kv_u64(w, "avail_wrap", r->vq.avail_wrap);
			vs_jw_kv_u64(w, "used_wrap", r->vq.used_wrap);
		}
		vs_jw_kv_bool(w, "broken", __atomic_load_n(&r->broken, __ATOMIC_RELAXED));
	}
	vs_jw_object_close(w);
}

static void
write_memory(struct vs_jw *w, const struct vh_mem_table *t)
{
	vs_jw_key(w, "memory");
	vs_jw_array_open(w);
	for (uint32_t i = 0; t != NULL && i < t->nregions; i++) {
		const struct vh_mem_mapping *m = &t->regions[i];

		vs_jw_object_open(w);
		kv_hex(w, "gpa", m->guest_phys_addr);
		vs_jw_kv_u64(w, "size", m->size);
		kv_hex(w, "uva", m->user_addr);
		kv_hex(w, "mmap_offset", m->mmap_offset);
		vs_jw_object_close(w);
	}
	vs_jw_array_close(w);
}

void
vu_describe(struct vs_port *port, struct vs_jw *w)
{
	const struct vs_vu_port *p = vu_port(port);
	bool connected = p->be != NULL && vh_user_backend_connected(p->be);

	vs_jw_kv_str(w, "socket", p->path);
	vs_jw_kv_str(w, "mode", p->client ? "client" : "server");
	vs_jw_kv_bool(w, "connected", connected);
	vs_jw_kv_u64(w, "connections", p->connections);
	vs_jw_kv_u64(w, "refused", p->refused);
	vs_jw_kv_u64(w, "queue_pairs", p->nb_qp);
	write_features(w, "features_offered", p->offered, virtio_bits);
	write_features(w, "features", connected ? p->features : 0, virtio_bits);
	write_features(w, "protocol_features",
		       connected ? vh_user_backend_protocol_features(p->be) : 0, protocol_bits);
	vs_jw_key(w, "rings");
	vs_jw_array_open(w);
	for (unsigned int i = 0; i < 2u * p->nb_qp && i < VU_MAX_RINGS; i++)
		write_ring(w, p, i);
	vs_jw_array_close(w);
	write_memory(w, connected ? vh_user_backend_mem(p->be) : NULL);
}
