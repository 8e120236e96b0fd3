/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>

#include "vs_sched.h"

/* Workers beyond this are never used: lib/switch caps its workers too. */
#define SCHED_MAX_WORKERS 128

static unsigned int
least_loaded(const unsigned int *load, unsigned int nb_workers)
{
	unsigned int best = 0;

	for (unsigned int w = 1; w < nb_workers; w++)
		if (load[w] < load[best])
			best = w;
	return best;
}

static unsigned int
most_loaded(const unsigned int *load, unsigned int nb_workers)
{
	unsigned int best = 0;

	for (unsigned int w = 1; w < nb_workers; w++)
		if (load[w] > load[best])
			best = w;
	return best;
}

unsigned int
vs_sched_assign(struct vs_sched_item *items, unsigned int n, unsigned int nb_workers)
{
	unsigned int load[SCHED_MAX_WORKERS] = {0};
	unsigned int moved = 0;

	if (nb_workers == 0 || nb_workers > SCHED_MAX_WORKERS) {
		for (unsigned int i = 0; i < n; i++)
			items[i].worker = -1;
		return 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (items[i].worker >= (int)nb_workers)
			items[i].worker = -1;
		if (items[i].worker >= 0)
			load[items[i].worker]++;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (items[i].worker < 0) {
			unsigned int w = least_loaded(load, nb_workers);

			items[i].worker = (int16_t)w;
			load[w]++;
		}
	}
	for (;;) {
		unsigned int hi = most_loaded(load, nb_workers);
		unsigned int lo = least_loaded(load, nb_workers);

		if (load[hi] <= load[lo] + 1)
			break;
		for (unsigned int i = n; i-- > 0;) {
			if (items[i].worker == (int)hi) {
				items[i].worker = (int16_t)lo;
				break;
			}
		}
		load[hi]--;
		load[lo]++;
		moved++;
	}
	return moved;
}
