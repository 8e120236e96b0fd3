/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <sys/mman.h>

#include "test.h"
#include "vq_hostile.h"

static void *huge;

int
vq_hostile_add_huge_region(struct vq_env *e)
{
	/* Reserved, never accessible: lengths near 2^32 translate into it,
	 * and any access to it would crash the test. */
	huge = mmap(NULL, VQ_HUGE_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		    0);
	if (huge == MAP_FAILED) {
		huge = NULL;
		return -errno;
	}
	return vq_memmap_add(&e->map, VQ_HUGE_GA, VQ_HUGE_LEN, huge);
}

static int
run_mode(vq_hostile_setup setup, unsigned int size, uint64_t features, int err,
	 unsigned int good_before, int rx)
{
	struct vq_env e;
	struct vq_burst b;
	uint32_t len[4] = {64, 64, 64, 64};
	unsigned int n;

	TEST_ASSERT_SUCCESS(vq_env_raw(&e, size, features, 65536), "env");
	TEST_ASSERT_SUCCESS(setup(&e), "setup");
	n = rx ? vq_dev_take_rx(&e.dev, &b, len, 4) : vq_dev_take(&e.dev, &b, 32);
	TEST_ASSERT_EQUAL(n, good_before, "valid chains before the bad one are taken (rx %d)", rx);
	TEST_ASSERT_EQUAL(vq_dev_error(&e.dev), err, "broken with the reason (rx %d): %s", rx,
			  e.log_msg);
	TEST_ASSERT_EQUAL(e.log_calls, 1, "logged once");
	TEST_ASSERT_EQUAL(e.log_err, err, "log carries the reason");
	vq_dev_return(&e.dev, &b); /* the good ones can still be returned */
	TEST_ASSERT_EQUAL(vq_dev_take(&e.dev, &b, 32), 0, "broken queue takes nothing");
	TEST_ASSERT_EQUAL(vq_dev_take_rx(&e.dev, &b, len, 4), 0, "nor places packets");
	TEST_ASSERT_EQUAL(e.log_calls, 1, "still logged once");
	vq_env_free(&e);
	if (huge != NULL) {
		munmap(huge, VQ_HUGE_LEN);
		huge = NULL;
	}
	return TEST_SUCCESS;
}

int
vq_hostile_run(vq_hostile_setup setup, unsigned int size, uint64_t features, int err,
	       unsigned int good_before)
{
	TEST_RUN(run_mode(setup, size, features, err, good_before, 0));
	TEST_RUN(run_mode(setup, size, features, err, good_before, 1));
	return TEST_SUCCESS;
}
