/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio port's kernel vhost-net and vDPA types, inside a QEMU guest
 * (the host kernel has neither): the whole port (EAL with --no-huge memory,
 * mbufs, lib/virtq rings, the backend interface) runs in the guest.
 *
 * - vhost-net: the port creates tap vs-tap0; a thread in the guest echoes
 *   every test frame that comes out of the tap back into it, so the frames
 *   the port sends come back to it.
 * - vdpa: vdpa_sim_net loops the transmit ring back to the receive ring for
 *   frames to its MAC; it copies through one page, so frames stay under 4 KiB.
 *
 * Counts and every byte are checked both ways, as against testpmd.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "test_vm.h"
#include "vt_virtio_port.h"

#define ETH_P_TEST 0x88b5
#define TAP	   "vs-tap0"
#define VDPA_DEV   "/dev/vhost-vdpa-0"
#define VDPA_MAC   "52:54:00:12:34:56"
#define GUEST_MIB  1024
/*
 * Linux's vhost_vdpa and vdpa_sim keep one IOTLB entry per physically
 * contiguous piece mapped, 2048 at most by default: 8 MiB of DPDK's --no-huge
 * 4 KiB pages. With the default the port falls back to copy mode; reloaded
 * with room for all of it, it runs zero-copy (hugepages would need a handful).
 */
#define VDPA_RELOAD_BIG_IOTLB                                                                      \
	"l=/vt/modlists/vdpa_sim_net && rmmod vdpa_sim_net vdpa_sim vhost_vdpa && "                \
	"insmod $(awk '$1==\"vdpa_sim\" {print $2}' $l) max_iotlb_entries=262144 && "              \
	"insmod $(awk '$1==\"vdpa_sim_net\" {print $2}' $l) && "                                   \
	"insmod $(awk '$1==\"vhost_vdpa\" {print $2}' /vt/modlists/vhost_vdpa) "                   \
	"max_iotlb_entries=262144"
#define VDPA_ADD "vdpa dev add name vdpa0 mgmtdev vdpasim_net mac " VDPA_MAC
#define FRAMES	 300
#define LOOP_MS	 120000

static const uint8_t sim_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t any_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

static int
need_eal(void)
{
	char why[256];

	if (vt_vport_eal(why, sizeof(why)) != 0 || vt_vport_pool() == NULL) {
		printf("EAL or mbuf pool: %s\n", why);
		return -1;
	}
	return 0;
}

static int
run_sizes(struct vt_vport *v, const uint32_t *sizes, unsigned int n, const uint8_t dst[6],
	  uint64_t *packets, uint64_t *bytes)
{
	for (unsigned int i = 0; i < n; i++) {
		struct vt_loop_result r;

		TEST_RUN(vt_vport_loop(v, 1, sizes[i], FRAMES, 16, dst, LOOP_MS, &r));
		printf("%u-byte frames: %u each way, every byte checked (%.4f Mpps, %" PRIu64
		       " other frames ignored)\n",
		       sizes[i], FRAMES, r.mpps, r.other);
		*packets += FRAMES;
		*bytes += (uint64_t)FRAMES * sizes[i];
	}
	return TEST_SUCCESS;
}

static int
check_stats(struct vt_vport *v, uint64_t packets, uint64_t bytes)
{
	struct vs_port_stats st;

	v->port->ops->stats_get(v->port, &st);
	TEST_ASSERT_EQUAL(st.tx[0].packets, packets, "frames sent");
	TEST_ASSERT_EQUAL(st.tx[0].bytes, bytes, "bytes sent");
	TEST_ASSERT(st.rx[0].packets >= packets, "frames received (%" PRIu64 ")", st.rx[0].packets);
	TEST_ASSERT_EQUAL(st.rx[0].errors + st.tx[0].errors, 0, "no errors");
	return TEST_SUCCESS;
}

/* ---- vhost-net ---- */

struct echo {
	pthread_t thread;
	int fd;
	volatile bool stop;
	uint64_t echoed;
};

/* Every test frame that leaves the tap goes back into it. */
static void *
echo_main(void *arg)
{
	struct echo *e = arg;
	static uint8_t buf[16384];

	while (!e->stop) {
		struct pollfd p = {.fd = e->fd, .events = POLLIN};
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recvfrom(e->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		/* Our own echoes show up as outgoing: not again. */
		if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (send(e->fd, buf, (size_t)n, 0) == n)
			e->echoed++;
	}
	return NULL;
}

static int
tap_prepare(const char *ifname, int mtu)
{
	struct ifreq ifr = {0};
	char path[128];
	int s, rc = 0;
	FILE *f;

	/* No IPv6 on the tap: router solicitations would land in the rings. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs("1\n", f);
		fclose(f);
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_mtu = mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) != 0)
		rc = -errno;
	close(s);
	return rc;
}

static int
echo_start(struct echo *e, const char *ifname)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_TEST)};

	memset(e, 0, sizeof(*e));
	e->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_TEST));
	if (e->fd < 0)
		return -errno;
	/* Room for every frame in flight: 16 jumbo frames overflow the default. */
	setsockopt(e->fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){8 << 20}, sizeof(int));
	setsockopt(e->fd, SOL_SOCKET, SO_SNDBUFFORCE, &(int){8 << 20}, sizeof(int));
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0 || bind(e->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		close(e->fd);
		return -errno;
	}
	if (pthread_create(&e->thread, NULL, echo_main, e) != 0) {
		close(e->fd);
		return -EAGAIN;
	}
	return 0;
}

static void
echo_stop(struct echo *e)
{
	e->stop = true;
	pthread_join(e->thread, NULL);
	close(e->fd);
}

static int
vhost_net_traffic(struct vt_vport *v, const char *mode, const uint32_t *sizes, unsigned int n)
{
	struct vs_port_info info;
	uint64_t packets = 0, bytes = 0;
	struct echo e;
	int rc;

	TEST_ASSERT(vt_vport_wait_queues(v, 1, 30000), "one queue pair, link up");
	v->port->ops->info_get(v->port, &info);
	TEST_ASSERT(strcmp(info.type, "vhost-net") == 0, "type %s", info.type);
	TEST_ASSERT(strstr(info.detail, TAP) != NULL, "detail '%s' names the tap", info.detail);
	TEST_ASSERT(strstr(info.detail, mode) != NULL, "'%s' is in %s mode", info.detail, mode);
	TEST_ASSERT(if_nametoindex(TAP) != 0, "the port created " TAP);
	TEST_ASSERT_SUCCESS(tap_prepare(TAP, 9000), "tap MTU 9000, no IPv6");
	TEST_ASSERT_SUCCESS(echo_start(&e, TAP), "echo thread on " TAP);
	rc = run_sizes(v, sizes, n, any_mac, &packets, &bytes);
	echo_stop(&e);
	printf("the tap echoed %" PRIu64 " frames\n", e.echoed);
	TEST_RUN(rc);
	return check_stats(v, packets, bytes);
}

static int
vhost_net_port(const char *opts, const char *mode, const uint32_t *sizes, unsigned int n)
{
	struct vt_vport v = {0};
	char spec[256], err[256];
	int rc;

	snprintf(spec, sizeof(spec), "vhost-net,tap=" TAP ",mtu=9000%s", opts);
	rc = vt_vport_create(&v, spec, err, sizeof(err));
	if (rc == 0)
		rc = vt_vport_start(&v);
	if (rc != 0) {
		printf("FAIL: port '%s': %s\n", spec, rc == -EINVAL ? err : strerror(-rc));
		vt_vport_destroy(&v);
		return TEST_FAILED;
	}
	rc = vhost_net_traffic(&v, mode, sizes, n);
	vt_vport_destroy(&v);
	TEST_ASSERT(if_nametoindex(TAP) == 0, "the tap went with the port");
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vt_vport_pool()), 0, "every mbuf came back");
	return rc;
}

static int
test_guest_vhost_net(void)
{
	static const uint32_t sizes[] = {64, 1518, 9000};

	if (access("/dev/vhost-net", F_OK) != 0)
		TEST_SKIP("/dev/vhost-net is missing (vm_virtio_port_vhost_net runs this in a "
			  "guest)");
	TEST_ASSERT_SUCCESS(need_eal(), "EAL");
	TEST_RUN(vhost_net_port("", "zero-copy", sizes, RTE_DIM(sizes)));
	return vhost_net_port(",copy=1,packed=1", ", copy", sizes, 2);
}
REGISTER_TEST(guest_virtio_port_vhost_net, guest, test_guest_vhost_net)

/* ---- vDPA ---- */

static int
vdpa_traffic(struct vt_vport *v, const char *mode)
{
	static const uint32_t sizes[] = {64, 1518, 4000};
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct vs_port_info info;
	uint64_t packets = 0, bytes = 0;

	TEST_ASSERT(vt_vport_wait_queues(v, 1, 30000), "one queue pair, link up");
	v->port->ops->info_get(v->port, &info);
	TEST_ASSERT(strcmp(info.type, "vdpa") == 0, "type %s", info.type);
	TEST_ASSERT(strstr(info.detail, mode) != NULL, "'%s' is in %s mode", info.detail, mode);
	v->port->ops->stats_reset(v->port); /* counters outlive a restart */
	TEST_RUN(run_sizes(v, sizes, RTE_DIM(sizes), sim_mac, &packets, &bytes));
	TEST_RUN(run_sizes(v, sizes, 1, bcast, &packets, &bytes));
	return check_stats(v, packets, bytes);
}

/* One port on vdpa0 with @p opts, traffic in @p mode ("zero-copy" or ", copy"). */
static int
vdpa_port(const char *opts, const char *mode, bool restart)
{
	struct vt_vport v = {0};
	char spec[256], err[256];
	int rc;

	/* Frames of 4000 bytes take two mbufs per receive chain: no MRG_RXBUF here. */
	snprintf(spec, sizeof(spec), "vdpa,dev=" VDPA_DEV ",mtu=4000%s", opts);
	rc = vt_vport_create(&v, spec, err, sizeof(err));
	if (rc == 0)
		rc = vt_vport_start(&v);
	if (rc != 0) {
		printf("FAIL: port '%s': %s\n", spec, rc == -EINVAL ? err : strerror(-rc));
		vt_vport_destroy(&v);
		return TEST_FAILED;
	}
	rc = vdpa_traffic(&v, mode);
	/* Down and up again: a reset, new mappings, a new negotiation. */
	if (rc == TEST_SUCCESS && restart) {
		v.port->ops->stop(v.port);
		v.started = false;
		if (vt_vport_start(&v) != 0)
			rc = TEST_FAILED;
		else
			rc = vdpa_traffic(&v, mode);
	}
	vt_vport_destroy(&v);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(vt_vport_pool()), 0, "every mbuf came back");
	return rc;
}

/*
 * A MAC given through the control queue (CTRL_MAC_ADDR, the one command
 * vdpa_sim_net has): frames to it loop back, frames to the old one are
 * filtered now.
 */
static int
vdpa_new_mac(void)
{
	static const uint8_t new_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x42};
	static const uint32_t sizes[] = {64, 1518};
	struct vt_vport v = {0};
	struct rte_mbuf *m, *got[4];
	uint64_t p = 0, b = 0, end;
	char err[256];
	int rc;

	rc = vt_vport_create(&v, "vdpa,dev=" VDPA_DEV ",mac=02:00:00:00:00:42", err, sizeof(err));
	if (rc == 0)
		rc = vt_vport_start(&v);
	if (rc != 0 || !vt_vport_wait_queues(&v, 1, 30000)) {
		printf("FAIL: port with mac=: %s\n", rc == -EINVAL ? err : strerror(-rc));
		vt_vport_destroy(&v);
		return TEST_FAILED;
	}
	rc = run_sizes(&v, sizes, RTE_DIM(sizes), new_mac, &p, &b);
	if (rc == TEST_SUCCESS) {
		m = vt_vport_frame(vt_vport_pool(), 64, 0, 0, sim_mac);
		if (m == NULL || vs_port_tx_burst(v.port, 0, &m, 1) != 1) {
			rte_pktmbuf_free(m);
			rc = TEST_FAILED;
		}
		for (end = vt_now_ms() + 500; rc == TEST_SUCCESS && vt_now_ms() < end;) {
			uint16_t n = vs_port_rx_burst(v.port, 0, got, 4);

			rte_pktmbuf_free_bulk(got, n);
			if (n != 0) {
				printf("FAIL: a frame to the old MAC came back\n");
				rc = TEST_FAILED;
			}
		}
	}
	vt_vport_destroy(&v);
	return rc;
}

static int
test_guest_vdpa(void)
{
	if (access(VDPA_DEV, F_OK) != 0)
		TEST_SKIP("%s is missing (vm_virtio_port_vdpa runs this in a guest)", VDPA_DEV);
	TEST_ASSERT_SUCCESS(need_eal(), "EAL");
	TEST_RUN(vdpa_port("", "zero-copy", true));
	TEST_RUN(vdpa_port(",copy=1", ", copy", false));
	return vdpa_new_mac();
}
REGISTER_TEST(guest_virtio_port_vdpa, guest, test_guest_vdpa)

static int
test_guest_vdpa_fallback(void)
{
	if (access(VDPA_DEV, F_OK) != 0)
		TEST_SKIP("%s is missing (vm_virtio_port_vdpa_* run this in a guest)", VDPA_DEV);
	TEST_ASSERT_SUCCESS(need_eal(), "EAL");
	return vdpa_port("", ", copy", false);
}
REGISTER_TEST(guest_virtio_port_vdpa_falls_back_to_copy, guest, test_guest_vdpa_fallback)

/* ---- the vm tests that run them ---- */

static int
run_in_guest(const char *test, const char *const *modules, const char *setup)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 256], *out;
	const char *files[2] = {exe, NULL};
	struct vt_vm vm;
	int st;

	if (realpath("/proc/self/exe", exe) == NULL)
		return TEST_FAILED;
	/* EAL wants its runtime directory under /var/run. */
	snprintf(cmd, sizeof(cmd), "mkdir -p /var/run && %s%s%s %s", setup ? setup : "",
		 setup ? " && " : "", exe, test);
	struct vt_vm_config cfg = {
		.name = test,
		.modules = modules,
		.files = files,
		.command = cmd,
		.mem_mib = GUEST_MIB,
		.timeout_s = 600,
	};
	st = vt_vm_run(&vm, &cfg);
	if (st == -ENOTSUP) {
		vt_vm_cleanup(&vm);
		TEST_SKIP("guest harness: %s", vm.why);
	}
	out = vt_vm_output(&vm);
	for (char *save = NULL, *l = out ? strtok_r(out, "\n", &save) : NULL; l != NULL;
	     l = strtok_r(NULL, "\n", &save))
		printf("[guest] %s\n", l);
	free(out);
	if (st != 0) {
		if (st < 0)
			vt_vm_dump(&vm, "vm");
		printf("FAIL: guest test %s: %s\n", test,
		       st < 0	  ? vm.why
		       : st == 77 ? "skipped inside the guest"
				  : "failed inside the guest");
	}
	vt_vm_cleanup(&vm);
	return st == 0 ? TEST_SUCCESS : TEST_FAILED;
}

static int
test_vm_vhost_net(void)
{
	return run_in_guest("guest_virtio_port_vhost_net",
			    (const char *const[]){"vhost_net", "tun", NULL}, NULL);
}
REGISTER_TEST(vm_virtio_port_vhost_net, vm, test_vm_vhost_net)

static int
test_vm_vdpa(void)
{
	return run_in_guest("guest_virtio_port_vdpa",
			    (const char *const[]){"vhost_vdpa", "vdpa_sim_net", NULL},
			    VDPA_RELOAD_BIG_IOTLB " && " VDPA_ADD);
}
REGISTER_TEST(vm_virtio_port_vdpa, vm, test_vm_vdpa)

static int
test_vm_vdpa_fallback(void)
{
	return run_in_guest("guest_virtio_port_vdpa_falls_back_to_copy",
			    (const char *const[]){"vhost_vdpa", "vdpa_sim_net", NULL}, VDPA_ADD);
}
REGISTER_TEST(vm_virtio_port_vdpa_falls_back_to_copy, vm, test_vm_vdpa_fallback)
