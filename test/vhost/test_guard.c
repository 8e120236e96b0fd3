/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIGBUS containment (vhost_guard.h) on a memfd that is cut short under its
 * mapping, as a VMM truncating its memory file would: a fault in a
 * recorded mapping while armed comes back to the recovery point with the
 * owner and the address; anything else still kills the process (checked in
 * a child); lib/vhost records the mappings it makes from a front-end's fd
 * and tells sealed memory from memory that can fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "vhost_guard.h"
#include "vhost_mem.h"

#define PAGE 4096

/* A memfd of @p pages pages mapped shared; *@p fd gets the fd. */
static uint8_t *
map_memfd(int *fd, unsigned int pages, bool sealable)
{
	uint8_t *p;

	*fd = memfd_create("guard", MFD_CLOEXEC | (sealable ? MFD_ALLOW_SEALING : 0));
	if (*fd < 0 || ftruncate(*fd, (off_t)pages * PAGE) != 0)
		return NULL;
	p = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Reads @p p[0] armed; returns 1 if it faulted and came back, 0 if it read. */
static int __attribute__((noinline)) guarded_read(volatile uint8_t *p, uint8_t *out)
{
	struct vh_guard *g = vh_guard_self();

	if (sigsetjmp(g->jb, 0) != 0)
		return 1;
	vh_guard_arm(g);
	*out = p[0];
	vh_guard_disarm(g);
	return 0;
}

static int
test_guard_recovers_in_recorded_memory(void)
{
	static int owner_cookie;
	uint64_t before = vh_guard_recovered();
	uint8_t v = 0, *p;
	int fd;

	TEST_ASSERT_SUCCESS(vh_guard_install(), "handler");
	p = map_memfd(&fd, 4, false);
	TEST_ASSERT_NOT_NULL(p, "memfd");
	p[3 * PAGE] = 7;
	TEST_ASSERT_SUCCESS(vh_guard_register(p, 4 * PAGE, &owner_cookie), "record");
	TEST_ASSERT(vh_guard_owner(p + 3 * PAGE) == &owner_cookie, "owner looked up");
	TEST_ASSERT(vh_guard_owner(p + 4 * PAGE) == NULL, "past the end: nobody's");
	TEST_ASSERT_EQUAL(guarded_read(p + 3 * PAGE, &v), 0, "reads while the file is whole");
	TEST_ASSERT_EQUAL(v, 7, "the byte");
	/* The VMM cuts its file to one page: the last three fault. */
	TEST_ASSERT_SUCCESS(ftruncate(fd, PAGE), "truncate");
	for (int i = 0; i < 3; i++) {
		TEST_ASSERT_EQUAL(guarded_read(p + 3 * PAGE, &v), 1, "fault %d came back", i);
		TEST_ASSERT(vh_guard_self()->fault_owner == &owner_cookie, "with the owner");
		TEST_ASSERT_EQUAL(vh_guard_self()->fault_addr, (uintptr_t)(p + 3 * PAGE),
				  "and the address");
		TEST_ASSERT(!vh_guard_self()->armed, "disarmed");
	}
	TEST_ASSERT_EQUAL(guarded_read(p, &v), 0, "the page left still reads");
	TEST_ASSERT_EQUAL(vh_guard_recovered() - before, 3, "three recoveries counted");
	vh_guard_unregister(p);
	TEST_ASSERT(vh_guard_owner(p) == NULL, "forgotten");
	munmap(p, 4 * PAGE);
	close(fd);
	return TEST_SUCCESS;
}
REGISTER_TEST(guard_recovers_a_fault_in_recorded_memory, fast,
	      test_guard_recovers_in_recorded_memory)

/*
 * vh_guard_peek16(): a word of recorded memory read without arming; once
 * its page is cut, the read comes back -EFAULT with the owner and the
 * address, counted as a recovery, and the thread goes on (a second peek
 * faults the same way; the page left still reads). With the fix-up broken
 * the fault kills the test.
 */
static int
test_guard_peek_recovers(void)
{
	static int owner_cookie;
	uint64_t before = vh_guard_recovered();
	struct vh_guard *g = vh_guard_self();
	uint8_t *p;
	int fd;

	TEST_ASSERT_SUCCESS(vh_guard_install(), "handler");
	p = map_memfd(&fd, 4, false);
	TEST_ASSERT_NOT_NULL(p, "memfd");
	memcpy(p + 3 * PAGE + 6, &(uint16_t){0xfffe}, 2);
	memcpy(p, &(uint16_t){7}, 2);
	TEST_ASSERT_SUCCESS(vh_guard_register(p, 4 * PAGE, &owner_cookie), "record");
	TEST_ASSERT_EQUAL(vh_guard_peek16(p + 3 * PAGE + 6), 0xfffe, "reads while whole");
	TEST_ASSERT_SUCCESS(ftruncate(fd, PAGE), "truncate");
	for (int i = 0; i < 2; i++) {
		g->fault_owner = NULL;
		g->fault_addr = 0;
		TEST_ASSERT_EQUAL(vh_guard_peek16(p + 3 * PAGE + 6), -EFAULT, "fault %d came back",
				  i);
		TEST_ASSERT(g->fault_owner == &owner_cookie, "with the owner");
		TEST_ASSERT_EQUAL(g->fault_addr, (uintptr_t)(p + 3 * PAGE + 6), "and the address");
		TEST_ASSERT(!g->armed, "not armed");
	}
	TEST_ASSERT_EQUAL(vh_guard_peek16(p), 7, "the page left still reads");
	TEST_ASSERT_EQUAL(vh_guard_recovered() - before, 2, "two recoveries counted");
	printf("vh_guard_peek16: %s\n",
	       VH_GUARD_PEEK_FAST ? "a load with a fix-up" : "armed (portable fallback)");
	vh_guard_unregister(p);
	munmap(p, 4 * PAGE);
	close(fd);
	return TEST_SUCCESS;
}
REGISTER_TEST(guard_peek_recovers_a_fault_in_recorded_memory, fast, test_guard_peek_recovers)

/*
 * In a child: a fault the guard must not swallow (unarmed, or outside any
 * recorded mapping). Returns the child's wait status.
 */
static int
child_faults(bool record, bool arm, bool peek)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		uint8_t v, *p;
		int fd;

		vh_guard_install();
		p = map_memfd(&fd, 2, false);
		if (p == NULL || ftruncate(fd, 0) != 0)
			_exit(2);
		if (record)
			vh_guard_register(p, 2 * PAGE, NULL);
		if (peek)
			_exit(vh_guard_peek16(p) == -EFAULT ? 3 : 4);
		if (arm)
			_exit(guarded_read(p, &v) == 1 ? 3 : 4);
		v = ((volatile uint8_t *)p)[0];
		_exit(5 + v);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

#if defined(__SANITIZE_ADDRESS__)
#define VT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VT_SANITIZED 1
#endif
#endif

/*
 * Died of the fault: killed by SIGBUS, or (under a sanitizer, whose handler
 * was there first and is chained to) reported and then exited with status 1
 * or aborted (ASAN_OPTIONS=abort_on_error=1, as CI runs it).
 */
static bool
died_of_sigbus(int st)
{
	if (WIFSIGNALED(st)) {
#ifdef VT_SANITIZED
		if (WTERMSIG(st) == SIGABRT)
			return true;
#endif
		return WTERMSIG(st) == SIGBUS;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 1;
}

static int
test_guard_leaves_other_faults_fatal(void)
{
	int st;

	st = child_faults(false, true, false);
	TEST_ASSERT(died_of_sigbus(st),
		    "armed, outside recorded memory: the fault is fatal (status 0x%x)", st);
	st = child_faults(true, false, false);
	TEST_ASSERT(died_of_sigbus(st),
		    "recorded memory, not armed: the fault is fatal (status 0x%x)", st);
	st = child_faults(true, true, false);
	TEST_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 3,
		    "recorded and armed: recovered (status 0x%x)", st);
	st = child_faults(false, false, true);
	TEST_ASSERT(died_of_sigbus(st),
		    "a peek outside recorded memory: the fault is fatal (status 0x%x)", st);
	st = child_faults(true, false, true);
	TEST_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 3,
		    "a peek in recorded memory: recovered (status 0x%x)", st);
	return TEST_SUCCESS;
}
REGISTER_TEST(guard_leaves_other_faults_fatal, fast, test_guard_leaves_other_faults_fatal)

/*
 * lib/vhost records what it maps from a front-end's fd, and tells memory
 * the front-end can no longer pull away (a memfd sealed against shrinking,
 * as QEMU's memory-backend-memfd) from memory it can.
 */
static int
test_guard_records_mapped_regions(void)
{
	struct vh_user_mem_region d = {0, 4 * PAGE, 0x10000, 0};
	struct vh_mem_mapping m;
	uint8_t *p;
	int fd;

	p = map_memfd(&fd, 4, true);
	TEST_ASSERT_NOT_NULL(p, "memfd");
	TEST_ASSERT_SUCCESS(vh_mem_map_region(&d, fd, &m), "map");
	TEST_ASSERT(!m.sigbus_proof, "an unsealed memfd can fault");
	{
		/* Recorded: with the guard armed a fault in it is recovered. */
		uint8_t v;

		TEST_ASSERT_SUCCESS(vh_guard_install(), "handler");
		TEST_ASSERT_SUCCESS(ftruncate(fd, 0), "truncate");
		TEST_ASSERT_EQUAL(guarded_read(m.host, &v), 1, "recovered in the mapping");
		TEST_ASSERT_SUCCESS(ftruncate(fd, 4 * PAGE), "back");
	}
	vh_mem_unmap_region(&m);
	TEST_ASSERT_SUCCESS(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), "seal");
	TEST_ASSERT_SUCCESS(vh_mem_map_region(&d, fd, &m), "map sealed");
	TEST_ASSERT(m.sigbus_proof, "a memfd sealed against shrinking cannot fault");
	vh_mem_unmap_region(&m);
	munmap(p, 4 * PAGE);
	close(fd);
	return TEST_SUCCESS;
}
REGISTER_TEST(guard_records_the_front_ends_mappings, fast, test_guard_records_mapped_regions)

/* A memfd of @p len bytes (not mapped here) with @p seals added; -1 if it cannot be had. */
static int
sealed_memfd(unsigned int flags, size_t len, int seals)
{
	int fd = memfd_create("guard-seal", MFD_CLOEXEC | MFD_ALLOW_SEALING | flags);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len) != 0 || (seals != 0 && fcntl(fd, F_ADD_SEALS, seals) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 if lib/vhost maps @p fd (@p len bytes) as memory that cannot fault, 0 if guarded, or -errno. */
static int
proof_of(int fd, size_t len)
{
	struct vh_user_mem_region d = {0, len, 0x10000, 0};
	struct vh_mem_mapping m;
	int rc = vh_mem_map_region(&d, fd, &m);

	if (rc != 0)
		return rc;
	rc = m.sigbus_proof ? 1 : 0;
	vh_mem_unmap_region(&m);
	return rc;
}

/*
 * Which seals make memory safe from SIGBUS: F_SEAL_SHRINK on a shmem memfd
 * (QEMU's memory-backend-memfd), and nothing else. F_SEAL_GROW alone leaves
 * a cut possible; F_SEAL_WRITE alone leaves a cut possible too (the file
 * shrinks under it) and cannot be mapped writable, so the region is
 * refused; a hugetlbfs memfd (hugetlb=on) sealed against shrinking can
 * still fault on a punched hole when its pool is empty: guarded.
 */
static int
test_guard_tells_seals_apart(void)
{
	const size_t len = 4 * PAGE, huge = 2u << 20;
	int fd;

	fd = sealed_memfd(0, len, 0);
	TEST_ASSERT(fd >= 0, "memfd");
	TEST_ASSERT_EQUAL(proof_of(fd, len), 0, "no seal: guarded");
	close(fd);
	fd = sealed_memfd(0, len, F_SEAL_GROW);
	TEST_ASSERT(fd >= 0, "memfd");
	TEST_ASSERT_EQUAL(proof_of(fd, len), 0, "sealed against growing only: guarded");
	close(fd);
	fd = sealed_memfd(0, len, F_SEAL_SHRINK);
	TEST_ASSERT(fd >= 0, "memfd");
	TEST_ASSERT_EQUAL(proof_of(fd, len), 1, "sealed against shrinking: cannot fault");
	TEST_ASSERT(ftruncate(fd, PAGE) != 0 && errno == EPERM, "the seal holds");
	close(fd);
	fd = sealed_memfd(0, len, F_SEAL_WRITE | F_SEAL_GROW);
	TEST_ASSERT(fd >= 0, "memfd");
	TEST_ASSERT_EQUAL(proof_of(fd, len), -EPERM, "write-sealed: refused, not mapped");
	TEST_ASSERT_SUCCESS(ftruncate(fd, PAGE), "F_SEAL_WRITE leaves a cut possible");
	close(fd);
	fd = sealed_memfd(MFD_HUGETLB, huge, F_SEAL_SHRINK | F_SEAL_GROW);
	if (fd < 0) {
		printf("no hugetlbfs memfd (%s): its case is not checked\n", strerror(errno));
		return TEST_SUCCESS;
	}
	TEST_ASSERT_EQUAL(proof_of(fd, huge), 0, "hugetlbfs sealed against shrinking: guarded");
	close(fd);
	return TEST_SUCCESS;
}
REGISTER_TEST(guard_tells_sealed_memory_apart, fast, test_guard_tells_seals_apart)
