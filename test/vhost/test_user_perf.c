/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-path costs of our vhost-user pair (perf suite, not in CI): round
 * trips, a ring restart, 509 memory slots. Indicative only on a shared CPU.
 */
#include <sys/eventfd.h>
#include <unistd.h>

#include "test.h"
#include "vt_user.h"

static double
per_op_us(uint64_t t0, int n)
{
	return (double)(vt_now_ms() - t0) * 1000.0 / n;
}

static int
test_control_path(void)
{
	struct vh_user_frontend *fe;
	struct vt_guest_mem m;
	struct vh_mem_region r;
	struct vt_server s;
	uint64_t t0, f;
	int kick, call, efd = eventfd(0, EFD_CLOEXEC), n = 20000;

	TEST_ASSERT_SUCCESS(vt_server_listen(&s, "perf.sock", 2), "server");
	TEST_ASSERT_SUCCESS(vt_frontend_open(&s, &fe, 0), "front-end");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m, 1 << 20, 0), "memory");
	r = vt_guest_mem_region(&m);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(fe, 1ULL << VH_VIRTIO_F_VERSION_1), "f");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_mem_table(fe, &r, 1), "mem");
	t0 = vt_now_ms();
	for (int i = 0; i < n; i++)
		TEST_ASSERT_SUCCESS(vh_user_frontend_get_features(fe, &f), "GET_FEATURES");
	printf("GET_FEATURES round trip: %.1f us\n", per_op_us(t0, n));
	t0 = vt_now_ms();
	for (int i = 0; i < n; i++)
		TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_enable(fe, 1, i & 1), "enable");
	printf("SET_VRING_ENABLE with REPLY_ACK: %.1f us\n", per_op_us(t0, n));
	TEST_ASSERT_SUCCESS(vt_frontend_setup_ring(fe, &m, 0, 256, 0, &kick, &call), "ring");
	t0 = vt_now_ms();
	for (int i = 0; i < n / 10; i++)
		TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_call(fe, 0, i & 1 ? call : efd),
				    "call fd change");
	printf("ring restart (SET_VRING_CALL on a started ring, test device): %.1f us\n",
	       per_op_us(t0, n / 10));
	vh_user_frontend_destroy(fe);
	vt_guest_mem_destroy(&m);
	TEST_ASSERT_SUCCESS(vt_frontend_open(&s, &fe, 0), "front-end");
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m, 509 * 4096, 0), "memory");
	t0 = vt_now_ms();
	for (int i = 0; i < 509; i++) {
		struct vh_mem_region one = {(uint64_t)i * 4096, 4096,
					    (uint64_t)(uintptr_t)m.base + (uint64_t)i * 4096,
					    (uint64_t)i * 4096, m.fd};

		TEST_ASSERT_SUCCESS(vh_user_frontend_add_mem_reg(fe, &one), "slot %d", i);
	}
	printf("509 ADD_MEM_REG: %" PRIu64 " ms\n", vt_now_ms() - t0);
	vh_user_frontend_destroy(fe);
	vt_server_wait_closed(&s, 2, 5000);
	vt_server_stop(&s);
	vt_guest_mem_destroy(&m);
	close(kick);
	close(call);
	close(efd);
	return TEST_SUCCESS;
}
REGISTER_TEST(user_perf_control_path_costs, perf, test_control_path)
