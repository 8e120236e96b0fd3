/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Our back-end against a real QEMU front-end: a guest's virtio-net on
 * -netdev vhost-user pointing at our socket. QEMU negotiates, sends its
 * memory (shared memfd) and sets up both rings when the guest brings eth0
 * up; when the guest powers off QEMU stops the rings and hangs up.
 */
#include <stdlib.h>

#include "test.h"
#include "test_vm.h"
#include "vt_user.h"

#define PF(f) VH_USER_PF(VH_USER_PROTOCOL_F_##f)

static int
test_qemu_guest(void)
{
	char chardev[320];
	struct vt_server s;
	struct vt_vm vm = {0};
	struct vt_udev d;
	char *out = NULL;
	int st;

	TEST_ASSERT_SUCCESS(vt_server_listen(&s, "qemu.sock", 2), "our back-end listens");
	pthread_mutex_lock(&s.dev.lock);
	s.dev.features_offered = (1ULL << VH_VIRTIO_F_VERSION_1) | (1ULL << VT_NET_F_MRG_RXBUF) |
				 (1ULL << VT_NET_F_MAC) | (1ULL << VT_NET_F_STATUS);
	s.dev.touch_rings = true;
	pthread_mutex_unlock(&s.dev.lock);
	/* QEMU's virtio-net does not use the config space through vhost-user. */
	s.cfg.protocol_features = PF(MQ) | PF(LOG_SHMFD) | PF(REPLY_ACK) | PF(BACKEND_REQ) |
				  PF(BACKEND_SEND_FD) | PF(RESET_DEVICE) | PF(CONFIGURE_MEM_SLOTS) |
				  PF(STATUS) | PF(RARP) | PF(NET_MTU);
	snprintf(chardev, sizeof(chardev), "socket,id=c0,path=%s", s.path);
	struct vt_vm_config cfg = {
		.name = "vhost-user-backend",
		.modules = (const char *const[]){"virtio_pci", "virtio_net", NULL},
		.qemu_args = (const char *const[]){"-chardev", chardev, "-netdev",
						   "vhost-user,id=n0,chardev=c0", "-device",
						   "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02,"
						   "vectors=0,romfile=",
						   NULL},
		.shared_mem = true,
		.command = "ip link set eth0 up; sleep 2; echo state=$(cat "
			   "/sys/class/net/eth0/operstate)",
		.timeout_s = 180,
	};
	st = vt_vm_run(&vm, &cfg);
	if (st == 0)
		out = vt_vm_output(&vm);
	vt_server_wait_closed(&s, 1, 10000);
	vt_udev_snapshot(&s.dev, &d);
	if (st != 0 || d.rings[0].starts == 0 || d.rings[1].starts == 0)
		vt_vm_dump(&vm, "vm");
	vt_vm_cleanup(&vm);
	vt_server_stop(&s);
	if (st == -ENOTSUP) {
		free(out);
		TEST_SKIP("guest harness: %s", vm.why);
	}
	printf("guest: %s; features 0x%" PRIx64 " protocol 0x%" PRIx64 ", %u regions, events %s\n",
	       out != NULL ? out : "(no output)", d.features, d.protocol_features, d.mem_nregions,
	       d.events);
	free(out);
	TEST_ASSERT_EQUAL(st, 0, "the guest command (%s)", vm.why);
	TEST_ASSERT(d.features & (1ULL << VH_VIRTIO_F_VERSION_1), "VERSION_1 negotiated");
	TEST_ASSERT(d.protocol_features & PF(REPLY_ACK), "REPLY_ACK negotiated");
	TEST_ASSERT(d.rings[0].starts >= 1 && d.rings[1].starts >= 1,
		    "QEMU started both rings of the queue pair");
	TEST_ASSERT(d.rings[0].enable_events >= 1 || d.rings[0].last.enabled,
		    "and enabled them (SET_VRING_ENABLE)");
	TEST_ASSERT_EQUAL(vt_server_closed(&s), 1, "QEMU's exit ended the connection");
	TEST_ASSERT(!d.rings[0].started && !d.rings[1].started, "every ring stopped");
	TEST_ASSERT(d.mem_null, "and the memory withdrawn");
	return TEST_SUCCESS;
}
REGISTER_TEST(user_vm_qemu_guest_drives_our_backend, vm, test_qemu_guest)
