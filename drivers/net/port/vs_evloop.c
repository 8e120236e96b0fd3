/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's event loop: epoll for fds, a sorted list for one-shot
 * timers, an eventfd for wake-ups from other threads and signal handlers.
 *
 * Removal from inside callbacks: every watched fd has a heap record, and the
 * epoll event carries a pointer to it. Removing an fd marks the record dead
 * and parks it until the current dispatch ends, so events already collected
 * for it are skipped, even when the fd number was closed and reused (the new
 * registration gets a new record).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vs_evloop.h"

#define VS_EVLOOP_MAX_EVENTS 64
#define VS_EVLOOP_WATCHABLE  (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI)

struct vs_evloop_fd {
	int fd;
	bool dead;
	vs_evloop_fd_cb cb;
	void *arg;
	struct vs_evloop_fd *next_dead;
};

struct vs_evloop_timer {
	int64_t id;
	uint64_t deadline_ms;
	vs_evloop_timer_cb cb;
	void *arg;
	struct vs_evloop_timer *next;
};

struct vs_evloop {
	int epfd;
	int wakefd;
	struct vs_evloop_fd **fds; /* indexed by fd number */
	size_t fds_len;
	struct vs_evloop_fd *dead; /* removed during a dispatch, freed after it */
	unsigned int dispatching;
	struct vs_evloop_timer *timers; /* sorted by deadline, then id */
	int64_t next_timer_id;
	atomic_int stop;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct vs_evloop *
vs_evloop_create(void)
{
	struct vs_evloop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	int err;

	if (loop == NULL)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->wakefd < 0)
		goto fail;
	/* data.ptr == NULL marks the wake-up eventfd. */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) != 0)
		goto fail;
	loop->next_timer_id = 1;
	return loop;
fail:
	err = errno;
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	free(loop);
	errno = err;
	return NULL;
}

static void
free_dead(struct vs_evloop *loop)
{
	while (loop->dead != NULL) {
		struct vs_evloop_fd *e = loop->dead;

		loop->dead = e->next_dead;
		free(e);
	}
}

void
vs_evloop_destroy(struct vs_evloop *loop)
{
	if (loop == NULL)
		return;
	for (size_t i = 0; i < loop->fds_len; i++)
		free(loop->fds[i]);
	free(loop->fds);
	free_dead(loop);
	while (loop->timers != NULL) {
		struct vs_evloop_timer *t = loop->timers;

		loop->timers = t->next;
		free(t);
	}
	close(loop->epfd);
	close(loop->wakefd);
	free(loop);
}

static struct vs_evloop_fd *
lookup_fd(struct vs_evloop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->fds_len)
		return NULL;
	return loop->fds[fd];
}

static int
grow_fds(struct vs_evloop *loop, int fd)
{
	size_t len = loop->fds_len ? loop->fds_len : 64;
	struct vs_evloop_fd **n;

	while (len <= (size_t)fd)
		len *= 2;
	n = realloc(loop->fds, len * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	memset(n + loop->fds_len, 0, (len - loop->fds_len) * sizeof(*n));
	loop->fds = n;
	loop->fds_len = len;
	return 0;
}

int
vs_evloop_add_fd(struct vs_evloop *loop, int fd, uint32_t events, vs_evloop_fd_cb cb, void *arg)
{
	struct epoll_event ev;
	struct vs_evloop_fd *e;
	int rc;

	if (fd < 0)
		return -EBADF;
	if (cb == NULL || (events & ~(uint32_t)VS_EVLOOP_WATCHABLE) != 0)
		return -EINVAL;
	if (lookup_fd(loop, fd) != NULL)
		return -EEXIST;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->fd = fd;
	e->cb = cb;
	e->arg = arg;
	ev.events = events;
	ev.data.ptr = e;
	/* epoll first: a bogus fd number must not grow the table. */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		rc = -errno;
		free(e);
		return rc;
	}
	if ((size_t)fd >= loop->fds_len) {
		rc = grow_fds(loop, fd);
		if (rc != 0) {
			epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
			free(e);
			return rc;
		}
	}
	loop->fds[fd] = e;
	return 0;
}

int
vs_evloop_mod_fd(struct vs_evloop *loop, int fd, uint32_t events)
{
	struct vs_evloop_fd *e = lookup_fd(loop, fd);
	struct epoll_event ev;

	if (e == NULL)
		return -ENOENT;
	if ((events & ~(uint32_t)VS_EVLOOP_WATCHABLE) != 0)
		return -EINVAL;
	ev.events = events;
	ev.data.ptr = e;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
		return -errno;
	return 0;
}

int
vs_evloop_del_fd(struct vs_evloop *loop, int fd)
{
	struct vs_evloop_fd *e = lookup_fd(loop, fd);

	if (e == NULL)
		return -ENOENT;
	/*
	 * EBADF/ENOENT here mean the caller closed the fd first; epoll then
	 * dropped it already and the record only needs to go.
	 */
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->fds[fd] = NULL;
	e->dead = true;
	if (loop->dispatching > 0) {
		e->next_dead = loop->dead;
		loop->dead = e;
	} else {
		free(e);
	}
	return 0;
}

int64_t
vs_evloop_add_timer(struct vs_evloop *loop, uint64_t ms, vs_evloop_timer_cb cb, void *arg)
{
	struct vs_evloop_timer *t, **p;

	if (cb == NULL || ms > UINT64_MAX / 2)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->id = loop->next_timer_id++;
	t->deadline_ms = now_ms() + ms;
	t->cb = cb;
	t->arg = arg;
	/* Equal deadlines fire in the order they were armed. */
	for (p = &loop->timers; *p != NULL && (*p)->deadline_ms <= t->deadline_ms; p = &(*p)->next)
		;
	t->next = *p;
	*p = t;
	return t->id;
}

int
vs_evloop_cancel_timer(struct vs_evloop *loop, int64_t id)
{
	for (struct vs_evloop_timer **p = &loop->timers; *p != NULL; p = &(*p)->next) {
		struct vs_evloop_timer *t = *p;

		if (t->id == id) {
			*p = t->next;
			free(t);
			return 0;
		}
	}
	return -ENOENT;
}

static int
wait_timeout(struct vs_evloop *loop, int timeout_ms)
{
	uint64_t now, left;

	if (loop->timers == NULL)
		return timeout_ms;
	now = now_ms();
	left = loop->timers->deadline_ms > now ? loop->timers->deadline_ms - now : 0;
	if (timeout_ms >= 0 && (uint64_t)timeout_ms < left)
		return timeout_ms;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

static int
run_timers(struct vs_evloop *loop)
{
	/* Timers armed by these callbacks wait for the next iteration. */
	int64_t limit = loop->next_timer_id;
	uint64_t now = now_ms();
	int n = 0;

	while (loop->timers != NULL && loop->timers->deadline_ms <= now &&
	       loop->timers->id < limit) {
		struct vs_evloop_timer *t = loop->timers;

		loop->timers = t->next;
		t->cb(t->arg);
		free(t);
		n++;
	}
	return n;
}

static void
drain_wakeup(struct vs_evloop *loop)
{
	uint64_t v;

	while (read(loop->wakefd, &v, sizeof(v)) > 0)
		;
}

int
vs_evloop_run_once(struct vs_evloop *loop, int timeout_ms)
{
	struct epoll_event evs[VS_EVLOOP_MAX_EVENTS];
	int nev, n = 0;

	nev = epoll_wait(loop->epfd, evs, VS_EVLOOP_MAX_EVENTS, wait_timeout(loop, timeout_ms));
	if (nev < 0) {
		if (errno == EINTR)
			return 0;
		return -errno;
	}
	loop->dispatching++;
	for (int i = 0; i < nev; i++) {
		struct vs_evloop_fd *e = evs[i].data.ptr;

		if (e == NULL) {
			drain_wakeup(loop);
			continue;
		}
		if (e->dead)
			continue;
		e->cb(e->fd, evs[i].events, e->arg);
		n++;
	}
	n += run_timers(loop);
	if (--loop->dispatching == 0)
		free_dead(loop);
	return n;
}

int
vs_evloop_run(struct vs_evloop *loop)
{
	int rc = 0;

	while (atomic_load(&loop->stop) == 0) {
		rc = vs_evloop_run_once(loop, -1);
		if (rc < 0)
			break;
		rc = 0;
	}
	atomic_store(&loop->stop, 0);
	return rc;
}

void
vs_evloop_stop(struct vs_evloop *loop)
{
	atomic_store(&loop->stop, 1);
	vs_evloop_wakeup(loop);
}

void
vs_evloop_wakeup(struct vs_evloop *loop)
{
	uint64_t one = 1;
	int saved = errno;
	ssize_t rc;

	/* write(2) is async-signal-safe; a full counter already wakes the loop. */
	rc = write(loop->wakefd, &one, sizeof(one));
	(void)rc;
	errno = saved;
}
