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

/* Orders item indexes by load, heaviest first, then by index. */
static const uint64_t *sort_load;

static int
by_load(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	if (sort_load[x] != sort_load[y])
		return sort_load[x] > sort_load[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

unsigned int
vs_sched_assign_cycles(struct vs_sched_item *items, const uint64_t *load, unsigned int n,
		       unsigned int nb_workers)
{
	uint64_t wl[SCHED_MAX_WORKERS] = {0};
	unsigned int cnt[SCHED_MAX_WORKERS] = {0};
	unsigned int *order, moved = 0;

	if (nb_workers == 0 || nb_workers > SCHED_MAX_WORKERS)
		return vs_sched_assign(items, n, nb_workers);
	order = malloc(((size_t)n + 1) * sizeof(*order));
	if (order == NULL)
		return vs_sched_assign(items, n, nb_workers);
	for (unsigned int i = 0; i < n; i++)
		order[i] = i;
	/* The control thread is the only caller: a static comparison key is safe. */
	sort_load = load;
	qsort(order, n, sizeof(*order), by_load);
	for (unsigned int k = 0; k < n; k++) {
		struct vs_sched_item *it = &items[order[k]];
		unsigned int best = 0;

		for (unsigned int w = 1; w < nb_workers; w++)
			if (wl[w] < wl[best] || (wl[w] == wl[best] && cnt[w] < cnt[best]))
				best = w;
		if (it->worker >= 0 && it->worker < (int)nb_workers && it->worker != (int)best)
			moved++;
		it->worker = (int16_t)best;
		wl[best] += load[order[k]];
		cnt[best]++;
	}
	free(order);
	return moved;
}

unsigned int
vs_sched_place_new(struct vs_sched_item *items, unsigned int n, unsigned int nb_workers)
{
	unsigned int cnt[SCHED_MAX_WORKERS] = {0};

	if (nb_workers == 0 || nb_workers > SCHED_MAX_WORKERS)
		return vs_sched_assign(items, n, nb_workers);
	for (unsigned int i = 0; i < n; i++) {
		if (items[i].worker >= (int)nb_workers)
			items[i].worker = -1;
		if (items[i].worker >= 0)
			cnt[items[i].worker]++;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (items[i].worker < 0) {
			unsigned int w = least_loaded(cnt, nb_workers);

			items[i].worker = (int16_t)w;
			cnt[w]++;
		}
	}
	return 0;
}

uint64_t
vs_sched_max_load(const struct vs_sched_item *items, const uint64_t *load, unsigned int n,
		  unsigned int nb_workers)
{
	uint64_t wl[SCHED_MAX_WORKERS] = {0}, max = 0;

	for (unsigned int i = 0; i < n; i++)
		if (items[i].worker >= 0 && items[i].worker < (int)nb_workers &&
		    items[i].worker < SCHED_MAX_WORKERS)
			wl[items[i].worker] += load[i];
	for (unsigned int w = 0; w < nb_workers && w < SCHED_MAX_WORKERS; w++)
		if (wl[w] > max)
			max = wl[w];
	return max;
}
