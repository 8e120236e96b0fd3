/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHOST_GUARD_H
#define VHOST_GUARD_H

/**
 * @file
 * libvhost: containment of SIGBUS in memory a front-end shares.
 *
 * A front-end (VMM) that truncates or punches holes in a file whose pages
 * it gave in SET_MEM_TABLE (or as a dirty log or inflight area) makes the
 * back-end's next access to them raise SIGBUS, which kills the whole
 * process and every other connection it serves. This library records
 * every mapping it makes from a front-end's fd (with an owner: the device
 * cookie of the back-end that made it); a thread that is about to touch
 * such memory arms its recovery point, and a SIGBUS inside a recorded
 * mapping while armed returns to that point instead of killing the
 * process. Any other SIGBUS goes to the handler that was there before (the
 * default one kills the process): genuine bugs still crash.
 *
 * Use, per burst or per request that touches shared memory:
 *
 *     struct vh_guard *g = vh_guard_self();
 *     if (sigsetjmp(g->jb, 0) != 0) {
 *             // recovered: g->fault_addr, g->fault_owner; give back what
 *             // the interrupted code held and stop using that owner's memory
 *     } else {
 *             vh_guard_arm(g);
 *             ... touch guest memory ...
 *             vh_guard_disarm(g);
 *     }
 *
 * sigsetjmp() must be called in a function whose frame stays live while
 * the guard is armed (not in a helper that returns before the access).
 * The second argument 0 keeps it cheap (no signal mask is saved): the
 * handler runs with SA_NODEFER, so SIGBUS is never left blocked. Objects
 * modified after sigsetjmp() and read after a recovery must be volatile.
 * Guards do not nest.
 *
 * A look at one word that decides whether there is work at all (a poll of
 * an empty ring reads only its available index) need not arm:
 * vh_guard_peek16() reads it with one load the handler knows by its
 * address, and a SIGBUS there resumes at a fix-up that returns -EFAULT (as
 * the kernel's exception tables do for copy_from_user). Arm only when the
 * word says there is work:
 *
 *     int w = vh_guard_peek16(word);
 *     if (w < 0)
 *             // recovered, as above: g->fault_addr, g->fault_owner
 *     else if (<w says there is work>)
 *             // sigsetjmp(), arm, work, disarm
 */

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A thread's recovery point. */
struct vh_guard {
	sigjmp_buf jb;		     /**< set with sigsetjmp(jb, 0) */
	volatile sig_atomic_t armed; /**< vh_guard_arm() / vh_guard_disarm() */
	/** After a recovery: the owner of the mapping that faulted, and where. */
	void *fault_owner;
	uintptr_t fault_addr;
};

/**
 * Installs the SIGBUS handler (once per process; later calls return the
 * first result). The handler that was there before is kept and called for
 * every SIGBUS the guard does not recover.
 * @return 0 or a negative errno of sigaction()
 */
int vh_guard_install(void);

/** @return true once vh_guard_install() succeeded. */
int vh_guard_installed(void);

/** @return the calling thread's recovery point (never NULL). */
struct vh_guard *vh_guard_self(void);

/** From here the calling thread's faults in recorded mappings come back to g->jb. */
static inline void
vh_guard_arm(struct vh_guard *g)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	g->armed = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/** Ends vh_guard_arm(). */
static inline void
vh_guard_disarm(struct vh_guard *g)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	g->armed = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/*
 * Whether vh_guard_peek16() is a plain load with a fix-up (x86-64 Linux),
 * far cheaper than arming; elsewhere it arms and disarms around the load,
 * as cheap as a guard and no cheaper, and a caller may as well arm at once.
 */
#ifndef VH_GUARD_PEEK_FAST
#if defined(__x86_64__) && defined(__linux__)
#define VH_GUARD_PEEK_FAST 1
#else
#define VH_GUARD_PEEK_FAST 0
#endif
#endif

/**
 * Reads the 16-bit word at @p p (2-byte aligned, in memory recorded with
 * vh_guard_register()) without arming: a SIGBUS on that read inside a
 * recorded mapping is recovered as an armed guard's would be (the calling
 * thread's vh_guard_self() gets fault_owner and fault_addr, the recovery
 * is counted) and the call returns -EFAULT. A fault outside every recorded
 * mapping goes to the previous handler, as for a guard. One load: as
 * ordered as a relaxed atomic load, and a compiler barrier (a call). Not
 * while the calling thread's guard is armed.
 *
 * @return the word (0..65535), or -EFAULT when its memory is gone
 */
int vh_guard_peek16(const void *p);

/**
 * Records [@p start, +@p len) as memory of @p owner that may fault. The
 * library does it for every mapping it makes from a front-end's fd; a
 * device records others it maps itself.
 * @return 0, -EINVAL, or -ENOSPC when the table is full (the range then
 *         stays unguarded: a fault in it kills the process)
 */
int vh_guard_register(const void *start, size_t len, void *owner);

/** Forgets the range that starts at @p start (before it is unmapped). */
void vh_guard_unregister(const void *start);

/**
 * The owner of the recorded range containing @p addr, or NULL. Safe in a
 * signal handler.
 */
void *vh_guard_owner(const void *addr);

/** Faults recovered since the process started (all threads). */
uint64_t vh_guard_recovered(void);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_GUARD_H */
