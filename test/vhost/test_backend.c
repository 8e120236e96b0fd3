/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The common backend interface dispatches to a kind's ops and reports the
 * operations a kind lacks as -ENOTSUP.
 */
#include <stdlib.h>

#include "test.h"
#include "vhost_backend.h"

struct fake_backend {
	struct vh_backend b;
	uint64_t features;
	unsigned int num[2];
	int destroyed;
};

static int
fake_get_features(struct vh_backend *b, uint64_t *features)
{
	*features = ((struct fake_backend *)b)->features;
	return 0;
}

static int
fake_set_features(struct vh_backend *b, uint64_t features)
{
	((struct fake_backend *)b)->features = features;
	return 0;
}

static int
fake_set_vring_num(struct vh_backend *b, unsigned int idx, unsigned int num)
{
	if (idx >= 2)
		return -ERANGE;
	((struct fake_backend *)b)->num[idx] = num;
	return 0;
}

static void
fake_destroy(struct vh_backend *b)
{
	((struct fake_backend *)b)->destroyed++;
}

static const struct vh_backend_ops fake_ops = {
	.get_features = fake_get_features,
	.set_features = fake_set_features,
	.set_vring_num = fake_set_vring_num,
	.destroy = fake_destroy,
};

static int
test_backend_dispatch(void)
{
	struct fake_backend f = {.b = {&fake_ops, VH_BACKEND_USER}};
	uint64_t features = 0;
	uint32_t base;

	TEST_ASSERT_SUCCESS(vh_backend_set_features(&f.b, 0x1234), "set_features");
	TEST_ASSERT_SUCCESS(vh_backend_get_features(&f.b, &features), "get_features");
	TEST_ASSERT_EQUAL(features, 0x1234, "features round-trip");
	TEST_ASSERT_SUCCESS(vh_backend_set_vring_num(&f.b, 1, 256), "set_vring_num");
	TEST_ASSERT_EQUAL(f.num[1], 256, "vring num reached the kind");
	TEST_ASSERT_EQUAL(vh_backend_set_vring_num(&f.b, 2, 256), -ERANGE,
			  "a kind's error is passed through");
	TEST_ASSERT_EQUAL(vh_backend_get_vring_base(&f.b, 0, &base), -ENOTSUP,
			  "missing op is -ENOTSUP");
	TEST_ASSERT_EQUAL(vh_backend_get_features(&f.b, NULL), -EINVAL, "NULL out-pointer");
	TEST_ASSERT_EQUAL(vh_backend_set_owner(NULL), -EINVAL, "NULL handle");
	TEST_ASSERT_EQUAL(strcmp(vh_backend_kind_name(VH_BACKEND_VDPA), "vdpa"), 0, "kind name");
	vh_backend_destroy(&f.b);
	vh_backend_destroy(NULL);
	TEST_ASSERT_EQUAL(f.destroyed, 1, "destroy called once");
	return TEST_SUCCESS;
}

REGISTER_TEST(backend_dispatch_reaches_kind_ops, fast, test_backend_dispatch)
