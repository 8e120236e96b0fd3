/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vswitch-test: runs registered autotests by name.
 */
#include <stdlib.h>
#include <unistd.h>

#include "test.h"

static struct vt_test *registry;

void
vt_register(struct vt_test *t)
{
	struct vt_test **p = &registry;

	/* Keep the list sorted so --list is stable. */
	while (*p != NULL && strcmp((*p)->name, t->name) < 0)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

static struct vt_test *
find_test(const char *name)
{
	for (struct vt_test *t = registry; t != NULL; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static void
usage(const char *prog)
{
	printf("usage: %s NAME [NAME...]    run tests; exit 0 passed, 1 failed, 77 skipped\n"
	       "       %s --list [SUITE]    list tests (name and suite)\n",
	       prog, prog);
}

static int
list_tests(const char *suite)
{
	for (struct vt_test *t = registry; t != NULL; t = t->next)
		if (suite == NULL || strcmp(t->suite, suite) == 0)
			printf("%s %s\n", t->name, t->suite);
	return 0;
}

static int
run_one(struct vt_test *t)
{
	int rc;

	printf("RUN: %s (suite %s)\n", t->name, t->suite);
	fflush(stdout);
	rc = t->func();
	switch (rc) {
	case TEST_SUCCESS:
		printf("PASS: %s\n", t->name);
		break;
	case TEST_SKIPPED:
		printf("SKIPPED: %s\n", t->name);
		break;
	default:
		printf("FAILED: %s (rc %d)\n", t->name, rc);
		rc = TEST_FAILED;
		break;
	}
	fflush(stdout);
	return rc;
}

int
main(int argc, char **argv)
{
	int worst = TEST_SUCCESS;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argv[0]);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--list") == 0)
		return list_tests(argc > 2 ? argv[2] : NULL);

	for (int i = 1; i < argc; i++) {
		struct vt_test *t = find_test(argv[i]);
		int rc;

		if (t == NULL) {
			fprintf(stderr, "vswitch-test: no test named '%s' (see --list)\n", argv[i]);
			return 2;
		}
		rc = run_one(t);
		/* A failure outranks a skip, a skip outranks a pass. */
		if (rc == TEST_FAILED || (rc == TEST_SKIPPED && worst == TEST_SUCCESS))
			worst = rc;
	}
	return worst;
}
