/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The example back-end of doc/examples works: our front-end negotiates with
 * it, starts its rings, and the frames it transmits come back as used
 * buffers; SIGTERM ends it cleanly.
 */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "test.h"
#include "test_proc.h"
#include "vt_user.h"

/* The example is built next to the runner: build/doc/examples. */
static bool
example_path(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	snprintf(buf, len, "%s/../../doc/examples/vhost-user-null-backend", dirname(exe));
	return access(buf, X_OK) == 0;
}

static int
test_example_backend(void)
{
	char prog[PATH_MAX + 64], sock[256];
	const char *argv[] = {prog, sock, NULL};
	struct vh_user_frontend *fe = NULL;
	struct vt_guest_mem m;
	struct vh_mem_region r;
	struct vt_proc p;
	volatile uint16_t *avail, *used;
	uint16_t *desc16;
	uint32_t base = 0;
	uint64_t one = 1, deadline;
	int kick[2], call[2], rc = TEST_SUCCESS;

	if (!example_path(prog, sizeof(prog)))
		TEST_SKIP("the example was not built (%s)", prog);
	vt_path(sock, sizeof(sock), "null.sock");
	/*
	 * Under ASan the child (an ASan build too) runs behind stdbuf's
	 * LD_PRELOAD, which ASan's link-order check refuses.
	 */
	{
		const char *o = getenv("ASAN_OPTIONS");
		char opts[512];

		snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", o != NULL ? o : "",
			 o != NULL && o[0] != '\0' ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
	TEST_ASSERT_SUCCESS(vt_proc_start(&p, argv, -1), "start the example");
	if (vt_proc_wait_output(&p, "listening on", 5000) != 0 ||
	    vh_user_frontend_connect(sock, 5000, NULL, &fe) != 0) {
		vt_proc_stop(&p, NULL, 1000);
		vt_proc_dump(&p, "example");
		TEST_ASSERT(false, "the example serves its socket");
	}
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m, 1 << 20, 0), "memory");
	r = vt_guest_mem_region(&m);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_owner(fe), "owner");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(fe, 1ULL << VH_VIRTIO_F_VERSION_1),
			    "features");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_mem_table(fe, &r, 1), "memory table");
	for (unsigned int i = 0; i < 2; i++) {
		TEST_ASSERT_SUCCESS(vt_frontend_setup_ring(fe, &m, i, 256, 0, &kick[i], &call[i]),
				    "ring %u", i);
		TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_enable(fe, i, true), "enable %u", i);
	}
	/* Three frames on the TX ring (ring 1); the example drops them and returns the buffers. */
	avail = (volatile uint16_t *)(m.base + 0x10000 + 0x4000);
	used = (volatile uint16_t *)(m.base + 0x10000 + 0x6000);
	desc16 = (uint16_t *)(m.base + 0x10000);
	for (int i = 0; i < 3; i++) {
		desc16[8 * i + 4] = 64; /* len (low half) */
		avail[2 + i] = (uint16_t)i;
	}
	__atomic_store_n(&avail[1], 3, __ATOMIC_RELEASE);
	TEST_ASSERT_EQUAL(write(kick[1], &one, 8), 8, "kick");
	deadline = vt_now_ms() + 5000;
	while (__atomic_load_n(&used[1], __ATOMIC_ACQUIRE) != 3 && vt_now_ms() < deadline)
		usleep(5000);
	if (used[1] != 3) {
		printf("FAIL: used idx %u after 5 s\n", used[1]);
		rc = TEST_FAILED;
	}
	if (rc == TEST_SUCCESS && vh_user_frontend_get_vring_base(fe, 1, &base) != 0) {
		printf("FAIL: GET_VRING_BASE\n");
		rc = TEST_FAILED;
	}
	if (rc == TEST_SUCCESS && base != 3) {
		printf("FAIL: the example stopped at %u, not 3\n", base);
		rc = TEST_FAILED;
	}
	vh_user_frontend_destroy(fe);
	if (rc == TEST_SUCCESS && vt_proc_wait_output(&p, "front-end gone", 5000) != 0) {
		printf("FAIL: the example did not see the disconnect\n");
		rc = TEST_FAILED;
	}
	/* vt_proc_stop() sends SIGTERM; the example handles it and exits 0. */
	if (vt_proc_stop(&p, NULL, 100) != 0 && rc == TEST_SUCCESS) {
		printf("FAIL: SIGTERM did not end the example cleanly\n");
		rc = TEST_FAILED;
	}
	if (rc != TEST_SUCCESS)
		vt_proc_dump(&p, "example");
	TEST_ASSERT(rc != TEST_SUCCESS || vt_proc_output_has(&p, "ring 1 stopped at 3"),
		    "the example's log");
	vt_proc_cleanup(&p);
	vt_guest_mem_destroy(&m);
	for (int i = 0; i < 2; i++) {
		close(kick[i]);
		close(call[i]);
	}
	return rc;
}
REGISTER_TEST(user_example_null_backend_returns_transmitted_buffers, fast, test_example_backend)
