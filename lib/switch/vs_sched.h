/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_SCHED_H
#define VS_SCHED_H

/**
 * @file
 * Which worker polls which (port, rx queue), and which tx queue of a port
 * each worker uses. Pure functions: lib/switch applies the result.
 */

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One rx queue to poll. */
struct vs_sched_item {
	uint16_t port;
	uint16_t queue;
	int16_t worker; /**< in: current worker, or -1 for a new queue; out: assigned */
};

/**
 * Assigns every item to one of @p nb_workers workers, balanced (loads differ
 * by at most one) while moving as few queues as possible: items keep their
 * current worker when it is valid; new items go to the least loaded worker
 * (the lowest index on a tie), in array order; then, while two loads differ
 * by more than one, the last item of the most loaded worker moves to the
 * least loaded one.
 *
 * @return the number of items that changed worker (new items not counted)
 */
unsigned int vs_sched_assign(struct vs_sched_item *items, unsigned int n, unsigned int nb_workers);

/**
 * Assigns every item to one of @p nb_workers workers by its measured load
 * (as OVS's pmd-rxq-assign=cycles): items in order of load, heaviest first
 * (equal loads in array order), each to the worker with the least load so
 * far (on a tie, the one with fewer items, then the lowest index). Items
 * with no load are thus spread by count.
 *
 * @param load per item, in any unit the same for all (busy cycles)
 * @return the number of items that changed worker (new items not counted)
 */
unsigned int vs_sched_assign_cycles(struct vs_sched_item *items, const uint64_t *load,
				    unsigned int n, unsigned int nb_workers);

/**
 * Places only the items without a valid worker, each on the worker with the
 * fewest items (the lowest index on a tie); the others stay where they are
 * (a placement by cycles is not undone by counting).
 *
 * @return 0 (nothing that had a worker moves)
 */
unsigned int vs_sched_place_new(struct vs_sched_item *items, unsigned int n,
				unsigned int nb_workers);

/**
 * The load of the most loaded worker when @p items (with @p load each)
 * are placed as they are.
 */
uint64_t vs_sched_max_load(const struct vs_sched_item *items, const uint64_t *load, unsigned int n,
			   unsigned int nb_workers);

/**
 * @return the first tx queue worker @p w uses on a port with @p nb_txq
 * queues (> 0): its only one when workers outnumber the queues.
 */
static inline uint16_t
vs_sched_txq(unsigned int w, uint16_t nb_txq)
{
	return (uint16_t)(w % nb_txq);
}

/**
 * The tx queues worker @p w of @p nb_workers sends on to a port with
 * @p nb_txq queues (1..32), as a bitmask (bit q: queue q). With at least as
 * many queues as workers, each worker owns the queues q with q mod
 * nb_workers == w: the workers' sets are disjoint and cover every queue, so
 * nobody locks. With more workers than queues, worker w has the one queue
 * w mod nb_txq, shared (see vs_sched_txq_shared()).
 */
static inline uint32_t
vs_sched_txq_mask(unsigned int w, uint16_t nb_txq, unsigned int nb_workers)
{
	uint32_t mask = 0;

	if (nb_workers > nb_txq)
		return 1u << vs_sched_txq(w, nb_txq);
	for (unsigned int q = w; q < nb_txq; q += nb_workers)
		mask |= 1u << q;
	return mask;
}

/**
 * The tx queue of @p mask (non-zero) that lane @p lane sends on: the
 * (lane mod n)-th of its n queues, lowest first. A worker gives each rx
 * queue it polls of a port its own lane (0, 1, ... in queue order), so a
 * worker that owns every queue sends what it received on rx queue i on tx
 * queue i, and its rx queues spread over its tx queues.
 */
static inline uint16_t
vs_sched_txq_of_lane(uint32_t mask, unsigned int lane)
{
	unsigned int k = lane % (unsigned int)__builtin_popcount(mask);

	while (k-- > 0)
		mask &= mask - 1;
	return (uint16_t)__builtin_ctz(mask);
}

/**
 * @return true when worker @p w shares its tx queue on a port with @p nb_txq
 * queues (> 0) with another of @p nb_workers workers, so it must lock it.
 */
static inline bool
vs_sched_txq_shared(unsigned int w, uint16_t nb_txq, unsigned int nb_workers)
{
	return vs_sched_txq(w, nb_txq) + (unsigned int)nb_txq < nb_workers;
}

#ifdef __cplusplus
}
#endif

#endif /* VS_SCHED_H */
