/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VS_EVLOOP_H
#define VS_EVLOOP_H

/**
 * @file
 * The control thread's event loop: one epoll set for every socket the switch
 * owns (vhost-user listeners and connections, the management socket) plus
 * one-shot timers (reconnect back-off, FDB aging, periodic stats).
 *
 * Single-threaded: every function here is called on the thread that runs
 * vs_evloop_run(), except vs_evloop_stop() and vs_evloop_wakeup(), which are
 * safe from any thread and from signal handlers. Callbacks run on that
 * thread; a callback may add or remove any fd or timer, including its own.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vs_evloop;

/** Called when @p fd is ready; @p events is a mask of EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR. */
typedef void (*vs_evloop_fd_cb)(int fd, uint32_t events, void *arg);

/** Called once when a timer expires. */
typedef void (*vs_evloop_timer_cb)(void *arg);

/** Creates a loop. Returns NULL and sets errno on failure. */
struct vs_evloop *vs_evloop_create(void);

/** Destroys @p loop (NULL is ignored); fds registered in it are not closed, timers are dropped. */
void vs_evloop_destroy(struct vs_evloop *loop);

/**
 * Watches @p fd for @p events (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLPRI;
 * level-triggered; errors and hang-ups are always reported) and calls
 * @p cb(fd, events, @p arg) on the loop's thread while it is ready.
 * Returns 0, -EEXIST if @p fd is already watched, -EBADF for a closed fd,
 * -EINVAL for a NULL @p cb or another event bit, or another negative errno.
 */
int vs_evloop_add_fd(struct vs_evloop *loop, int fd, uint32_t events, vs_evloop_fd_cb cb,
		     void *arg);

/** Changes the events watched on @p fd. Returns 0 or a negative errno. */
int vs_evloop_mod_fd(struct vs_evloop *loop, int fd, uint32_t events);

/**
 * Stops watching @p fd. Safe from inside any callback, including the fd's
 * own: a removed fd's callback is not called again, even for events already
 * collected in the current iteration, and even when the fd number is closed
 * and reused by a new registration in the same iteration. Call it before
 * closing @p fd: once closed, epoll can no longer be told, and a dup of the
 * same open file (a fork's copy) would keep being reported. Returns 0 or
 * -ENOENT.
 */
int vs_evloop_del_fd(struct vs_evloop *loop, int fd);

/**
 * Arms a one-shot timer calling @p cb(@p arg) once, on the loop's thread,
 * after @p ms milliseconds (CLOCK_MONOTONIC). Timers with equal deadlines
 * fire in the order armed; one armed from a callback fires at the earliest
 * in the next iteration. Returns a timer id (> 0), never reused, or a
 * negative errno.
 */
int64_t vs_evloop_add_timer(struct vs_evloop *loop, uint64_t ms, vs_evloop_timer_cb cb, void *arg);

/**
 * Cancels timer @p id if it has not fired (safe from callbacks). Returns 0,
 * or -ENOENT when it fired already, was cancelled or never existed.
 */
int vs_evloop_cancel_timer(struct vs_evloop *loop, int64_t id);

/**
 * Runs one iteration: waits up to @p timeout_ms (-1: until an event) and
 * dispatches ready fds and expired timers. Returns the number of callbacks
 * run or a negative errno.
 */
int vs_evloop_run_once(struct vs_evloop *loop, int timeout_ms);

/**
 * Runs until vs_evloop_stop() is called (also when called before run).
 * The stop request is consumed: a later run runs again. Returns 0 or a
 * negative errno.
 */
int vs_evloop_run(struct vs_evloop *loop);

/** Makes vs_evloop_run() return after the current iteration. Thread- and signal-safe. */
void vs_evloop_stop(struct vs_evloop *loop);

/** Interrupts a blocking wait (e.g. after publishing work). Thread- and signal-safe. */
void vs_evloop_wakeup(struct vs_evloop *loop);

#ifdef __cplusplus
}
#endif

#endif /* VS_EVLOOP_H */
