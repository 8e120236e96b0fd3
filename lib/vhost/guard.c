/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIGBUS containment (see vhost_guard.h): a table of the mappings made from
 * front-ends' fds, readable from a signal handler, and the handler.
 *
 * The table is a fixed array: a signal handler may not follow pointers
 * another thread frees. Each entry has a sequence number, odd while it is
 * written; a reader that sees it change reads again. Writers (the threads
 * that map and unmap) take a mutex.
 *
 * vh_guard_peek16() is, on x86-64, one load at a known address: on a fault
 * there the handler moves the saved instruction pointer to a fix-up that
 * returns -EFAULT, so a look at a ring costs no recovery point.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "private.h"
#include "vhost_guard.h"

/* Mappings at once: 64 connections of 8 regions with logs and inflight areas, with room. */
#define GUARD_MAX_RANGES 4096
/* A reader retries an entry being rewritten at most this often. */
#define GUARD_READ_TRIES 8

struct guard_range {
	uint32_t seq; /* odd while being written */
	uintptr_t start;
	uintptr_t end; /* exclusive; 0: free */
	void *owner;
};

static struct guard_range ranges[GUARD_MAX_RANGES];
static uint32_t ranges_used; /* entries [0, ranges_used) may be in use */
static pthread_mutex_t ranges_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t recovered;

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_rc = -EAGAIN;
static struct sigaction previous;

/* Initial-exec: the handler reads it, and a lazily allocated TLS block is not async-signal-safe. */
static __thread struct vh_guard self __attribute__((tls_model("initial-exec")));
static __thread void *current_owner __attribute__((tls_model("initial-exec")));

struct vh_guard *
vh_guard_self(void)
{
	return &self;
}

void *
vh_guard_set_owner(void *owner)
{
	void *prev = current_owner;

	current_owner = owner;
	return prev;
}

void
vh_guard_track(const void *base, size_t len)
{
	vh_guard_register(base, len, current_owner);
}

void
vh_guard_untrack(const void *base)
{
	if (base != NULL)
		vh_guard_unregister(base);
}

static void
entry_write(struct guard_range *r, uintptr_t start, uintptr_t end, void *owner)
{
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&r->start, start, __ATOMIC_RELAXED);
	__atomic_store_n(&r->end, end, __ATOMIC_RELAXED);
	__atomic_store_n(&r->owner, owner, __ATOMIC_RELAXED);
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELEASE);
}

int
vh_guard_register(const void *start, size_t len, void *owner)
{
	uintptr_t s = (uintptr_t)start;
	uint32_t i;

	if (start == NULL || len == 0 || s > UINTPTR_MAX - len)
		return -EINVAL;
	pthread_mutex_lock(&ranges_lock);
	for (i = 0; i < GUARD_MAX_RANGES; i++)
		if (ranges[i].end == 0)
			break;
	if (i == GUARD_MAX_RANGES) {
		pthread_mutex_unlock(&ranges_lock);
		VH_WARN("guard: all %d ranges in use; memory at %p stays unguarded",
			GUARD_MAX_RANGES, start);
		return -ENOSPC;
	}
	entry_write(&ranges[i], s, s + len, owner);
	if (i >= ranges_used)
		__atomic_store_n(&ranges_used, i + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ranges_lock);
	return 0;
}

void
vh_guard_unregister(const void *start)
{
	pthread_mutex_lock(&ranges_lock);
	for (uint32_t i = 0; i < ranges_used; i++)
		if (ranges[i].end != 0 && ranges[i].start == (uintptr_t)start) {
			entry_write(&ranges[i], 0, 0, NULL);
			break;
		}
	pthread_mutex_unlock(&ranges_lock);
}

/* Async-signal-safe: loads only. True and *owner when @p a is recorded. */
static int
lookup(uintptr_t a, void **owner)
{
	uint32_t n = __atomic_load_n(&ranges_used, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n; i++) {
		struct guard_range *r = &ranges[i];

		for (int t = 0; t < GUARD_READ_TRIES; t++) {
			uint32_t s1 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
			uintptr_t start = __atomic_load_n(&r->start, __ATOMIC_RELAXED);
			uintptr_t end = __atomic_load_n(&r->end, __ATOMIC_RELAXED);
			void *o = __atomic_load_n(&r->owner, __ATOMIC_RELAXED);

			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if ((s1 & 1) || __atomic_load_n(&r->seq, __ATOMIC_RELAXED) != s1)
				continue;
			if (a >= start && a < end) {
				*owner = o;
				return 1;
			}
			break;
		}
	}
	return 0;
}

void *
vh_guard_owner(const void *addr)
{
	void *owner = NULL;

	lookup((uintptr_t)addr, &owner);
	return owner;
}

uint64_t
vh_guard_recovered(void)
{
	return __atomic_load_n(&recovered, __ATOMIC_RELAXED);
}

#if VH_GUARD_PEEK_FAST
#ifdef __CET__
#define GUARD_ENDBR "endbr64\n"
#else
#define GUARD_ENDBR ""
#endif

/*
 * int vh_guard_peek16(const void *p): the load at vh_guard_peek16_load is the
 * only instruction that touches @p; a SIGBUS there resumes at
 * vh_guard_peek16_fixup (on_sigbus()), which returns -EFAULT.
 */
__asm__(".pushsection .text\n"
	".p2align 4\n"
	".globl vh_guard_peek16\n"
	".type vh_guard_peek16, @function\n"
	"vh_guard_peek16:\n"
	".cfi_startproc\n" GUARD_ENDBR ".globl vh_guard_peek16_load\n"
	".hidden vh_guard_peek16_load\n"
	"vh_guard_peek16_load:\n"
	"movzwl (%rdi), %eax\n"
	"ret\n"
	".globl vh_guard_peek16_fixup\n"
	".hidden vh_guard_peek16_fixup\n"
	"vh_guard_peek16_fixup:\n"
	"movl $-14, %eax\n" /* -EFAULT */
	"ret\n"
	".cfi_endproc\n"
	".size vh_guard_peek16, .-vh_guard_peek16\n"
	".popsection\n");
_Static_assert(EFAULT == 14, "the fix-up returns -EFAULT");

extern const char vh_guard_peek16_load[] VH_INTERNAL;
extern const char vh_guard_peek16_fixup[] VH_INTERNAL;

/*
 * A fault of vh_guard_peek16()'s load (the kernel's, not a signal someone
 * sent: si_code > 0) in a recorded mapping: recovered as an armed guard's,
 * and the thread resumes at the fix-up. False for anything else.
 */
static int
peek_fixup(const siginfo_t *si, void *uc)
{
	mcontext_t *mc = &((ucontext_t *)uc)->uc_mcontext;
	void *owner = NULL;

	if (mc->gregs[REG_RIP] != (greg_t)(uintptr_t)vh_guard_peek16_load || si->si_code <= 0 ||
	    !lookup((uintptr_t)si->si_addr, &owner))
		return 0;
	self.fault_owner = owner;
	self.fault_addr = (uintptr_t)si->si_addr;
	__atomic_fetch_add(&recovered, 1, __ATOMIC_RELAXED);
	mc->gregs[REG_RIP] = (greg_t)(uintptr_t)vh_guard_peek16_fixup;
	return 1;
}
#else
/* Portable: the load armed, as any access (no cheaper than a guard). */
int
vh_guard_peek16(const void *p)
{
	struct vh_guard *g = &self;
	int v;

	if (sigsetjmp(g->jb, 0) != 0)
		return -EFAULT;
	vh_guard_arm(g);
	v = __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
	vh_guard_disarm(g);
	return v;
}

static int
peek_fixup(const siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	return 0;
}
#endif

/* Not ours: what would have happened without us. */
static void
chain(int sig, siginfo_t *si, void *uc)
{
	if (previous.sa_flags & SA_SIGINFO) {
		if (previous.sa_sigaction != NULL) {
			previous.sa_sigaction(sig, si, uc);
			return;
		}
	} else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
		return;
	}
	/* Default action (a fault cannot be ignored: it would repeat forever). */
	{
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		sigaction(sig, &dfl, NULL);
		raise(sig);
	}
}

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct vh_guard *g = &self;
	void *owner = NULL;

	if (si != NULL && uc != NULL && peek_fixup(si, uc))
		return;
	if (g->armed && si != NULL && lookup((uintptr_t)si->si_addr, &owner)) {
		g->armed = 0;
		g->fault_owner = owner;
		g->fault_addr = (uintptr_t)si->si_addr;
		__atomic_fetch_add(&recovered, 1, __ATOMIC_RELAXED);
		siglongjmp(g->jb, 1);
	}
	chain(sig, si, uc);
}

static void
install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	/* NODEFER: leaving by siglongjmp(jb saved without a mask) must not leave SIGBUS blocked. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	install_rc = sigaction(SIGBUS, &sa, &previous) == 0 ? 0 : -errno;
	if (install_rc < 0)
		VH_WARN("guard: cannot install the SIGBUS handler: %s", strerror(-install_rc));
}

int
vh_guard_install(void)
{
	pthread_once(&install_once, install);
	return install_rc;
}

int
vh_guard_installed(void)
{
	return install_rc == 0;
}
