/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vs_evloop: fd dispatch, removal from inside callbacks, one-shot timers,
 * wake-up and stop from other threads and from a signal handler.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <unistd.h>

#include "test.h"
#include "vs_evloop.h"

struct fd_probe {
	struct vs_evloop *loop;
	int fd;
	int calls;
	uint32_t events;
	/* what the callback does besides counting */
	int del_fd; /* fd to remove (and close when close_it) */
	bool close_it;
	int *reopened; /* if set: open a pipe in the removed fd's slot and add it */
	struct fd_probe *reopen_probe;
};

static void
probe_cb(int fd, uint32_t events, void *arg)
{
	struct fd_probe *p = arg;
	char buf[64];

	(void)fd;
	p->calls++;
	p->events = events;
	if ((events & EPOLLIN) != 0 && read(p->fd, buf, sizeof(buf)) < 0)
		p->events |= 0x80000000u;
	if (p->del_fd >= 0) {
		vs_evloop_del_fd(p->loop, p->del_fd);
		if (p->close_it)
			close(p->del_fd);
		if (p->reopened != NULL) {
			int pfd[2];

			/* The lowest free number is the one just closed. */
			if (pipe2(pfd, O_NONBLOCK) == 0) {
				p->reopened[0] = pfd[0];
				p->reopened[1] = pfd[1];
				p->reopen_probe->fd = pfd[0];
				vs_evloop_add_fd(p->loop, pfd[0], EPOLLIN, probe_cb,
						 p->reopen_probe);
			}
		}
		p->del_fd = -1;
	}
}

static int
test_evloop_dispatches_readable_fd(void)
{
	struct vs_evloop *loop = vs_evloop_create();
	struct fd_probe p = {.del_fd = -1};
	int pfd[2];

	TEST_ASSERT_NOT_NULL(loop, "create: %s", strerror(errno));
	TEST_ASSERT_SUCCESS(pipe2(pfd, O_NONBLOCK), "pipe");
	p.loop = loop;
	p.fd = pfd[0];
	TEST_ASSERT_SUCCESS(vs_evloop_add_fd(loop, pfd[0], EPOLLIN, probe_cb, &p), "add");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 0), 0, "nothing is readable yet");
	TEST_ASSERT_EQUAL(write(pfd[1], "x", 1), 1, "write");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "one callback");
	TEST_ASSERT_EQUAL(p.calls, 1, "called once");
	TEST_ASSERT(p.events == EPOLLIN, "events 0x%x", p.events);
	/* A hang-up is reported although only EPOLLIN was asked for. */
	close(pfd[1]);
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "hang-up");
	TEST_ASSERT((p.events & EPOLLHUP) != 0, "EPOLLHUP in 0x%x", p.events);
	TEST_ASSERT_SUCCESS(vs_evloop_mod_fd(loop, pfd[0], EPOLLIN), "mod");
	TEST_ASSERT_SUCCESS(vs_evloop_del_fd(loop, pfd[0]), "del");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 0), 0, "removed fd is not reported");
	close(pfd[0]);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
REGISTER_TEST(evloop_dispatches_readable_fd, fast, test_evloop_dispatches_readable_fd)

static int
test_evloop_rejects_bad_registrations(void)
{
	struct vs_evloop *loop = vs_evloop_create();
	struct fd_probe p = {.del_fd = -1};
	int pfd[2];

	TEST_ASSERT_NOT_NULL(loop, "create");
	TEST_ASSERT_SUCCESS(pipe2(pfd, O_NONBLOCK), "pipe");
	TEST_ASSERT_EQUAL(vs_evloop_add_fd(loop, -1, EPOLLIN, probe_cb, &p), -EBADF, "fd -1");
	TEST_ASSERT_EQUAL(vs_evloop_add_fd(loop, 1000000, EPOLLIN, probe_cb, &p), -EBADF,
			  "fd never opened");
	TEST_ASSERT_EQUAL(vs_evloop_add_fd(loop, pfd[0], EPOLLIN, NULL, &p), -EINVAL, "no cb");
	TEST_ASSERT_EQUAL(vs_evloop_add_fd(loop, pfd[0], EPOLLET, probe_cb, &p), -EINVAL,
			  "edge-triggered is not offered");
	TEST_ASSERT_SUCCESS(vs_evloop_add_fd(loop, pfd[0], EPOLLIN, probe_cb, &p), "add");
	TEST_ASSERT_EQUAL(vs_evloop_add_fd(loop, pfd[0], EPOLLIN, probe_cb, &p), -EEXIST, "twice");
	TEST_ASSERT_EQUAL(vs_evloop_mod_fd(loop, pfd[1], EPOLLIN), -ENOENT, "mod unknown");
	TEST_ASSERT_EQUAL(vs_evloop_del_fd(loop, pfd[1]), -ENOENT, "del unknown");
	TEST_ASSERT_EQUAL(vs_evloop_del_fd(loop, 99999), -ENOENT, "del beyond the table");
	TEST_ASSERT_EQUAL(vs_evloop_cancel_timer(loop, 12345), -ENOENT, "cancel unknown");
	/* Closing before removing is a common order; it must still work. */
	close(pfd[0]);
	TEST_ASSERT_SUCCESS(vs_evloop_del_fd(loop, pfd[0]), "del after close");
	close(pfd[1]);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
REGISTER_TEST(evloop_rejects_bad_registrations, fast, test_evloop_rejects_bad_registrations)

/*
 * Both fds are readable in the same iteration; whichever callback runs first
 * removes and closes the other: the other must not be called.
 */
static int
test_evloop_del_fd_in_callback_skips_collected_events(void)
{
	struct vs_evloop *loop = vs_evloop_create();
	struct fd_probe a = {.del_fd = -1}, b = {.del_fd = -1};
	int pa[2], pb[2];
	int rc;

	TEST_ASSERT_NOT_NULL(loop, "create");
	TEST_ASSERT_SUCCESS(pipe2(pa, O_NONBLOCK), "pipe");
	TEST_ASSERT_SUCCESS(pipe2(pb, O_NONBLOCK), "pipe");
	a.loop = b.loop = loop;
	a.fd = pa[0];
	b.fd = pb[0];
	a.del_fd = pb[0];
	a.close_it = true;
	b.del_fd = pa[0];
	b.close_it = true;
	TEST_ASSERT_SUCCESS(vs_evloop_add_fd(loop, pa[0], EPOLLIN, probe_cb, &a), "add a");
	TEST_ASSERT_SUCCESS(vs_evloop_add_fd(loop, pb[0], EPOLLIN, probe_cb, &b), "add b");
	TEST_ASSERT_EQUAL(write(pa[1], "x", 1), 1, "write");
	TEST_ASSERT_EQUAL(write(pb[1], "x", 1), 1, "write");
	rc = vs_evloop_run_once(loop, 1000);
	TEST_ASSERT_EQUAL(rc, 1, "exactly one callback ran");
	TEST_ASSERT_EQUAL(a.calls + b.calls, 1, "the removed one was skipped");
	/* Whichever survived removed the other; the survivor is still watched. */
	if (a.calls == 1) {
		TEST_ASSERT_EQUAL(write(pa[1], "y", 1), 1, "write");
		TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "survivor still works");
		TEST_ASSERT_SUCCESS(vs_evloop_del_fd(loop, pa[0]), "del");
		close(pa[0]);
	} else {
		TEST_ASSERT_EQUAL(write(pb[1], "y", 1), 1, "write");
		TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "survivor still works");
		TEST_ASSERT_SUCCESS(vs_evloop_del_fd(loop, pb[0]), "del");
		close(pb[0]);
	}
	close(pa[1]);
	close(pb[1]);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(evloop_del_fd_in_callback_skips_collected_events, fast, test_evloop_del_fd_in_callback_skips_collected_events)
/* clang-format on */

/*
 * A callback removes and closes another readable fd and registers a fresh
 * pipe that reuses its number: the old fd's pending event must not be
 * delivered to the new registration.
 */
static int
test_evloop_reused_fd_number_gets_no_stale_event(void)
{
	struct vs_evloop *loop = vs_evloop_create();
	struct fd_probe a = {.del_fd = -1}, b = {.del_fd = -1}, c = {.del_fd = -1};
	int pa[2], pb[2], reopened[2] = {-1, -1};
	int victim;

	TEST_ASSERT_NOT_NULL(loop, "create");
	TEST_ASSERT_SUCCESS(pipe2(pa, O_NONBLOCK), "pipe");
	TEST_ASSERT_SUCCESS(pipe2(pb, O_NONBLOCK), "pipe");
	a.loop = b.loop = c.loop = loop;
	a.fd = pa[0];
	b.fd = pb[0];
	/* Both are readable; each one's callback removes the other. */
	a.del_fd = pb[0];
	a.close_it = true;
	a.reopened = reopened;
	a.reopen_probe = &c;
	b.del_fd = pa[0];
	b.close_it = true;
	b.reopened = reopened;
	b.reopen_probe = &c;
	TEST_ASSERT_SUCCESS(vs_evloop_add_fd(loop, pa[0], EPOLLIN, probe_cb, &a), "add a");
	TEST_ASSERT_SUCCESS(vs_evloop_add_fd(loop, pb[0], EPOLLIN, probe_cb, &b), "add b");
	TEST_ASSERT_EQUAL(write(pa[1], "x", 1), 1, "write");
	TEST_ASSERT_EQUAL(write(pb[1], "x", 1), 1, "write");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "one callback");
	victim = a.calls == 1 ? pb[0] : pa[0];
	TEST_ASSERT_EQUAL(reopened[0], victim, "the new pipe reused the closed number");
	TEST_ASSERT_EQUAL(c.calls, 0, "no stale event for the new registration");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 0), 0, "the new pipe is empty");
	TEST_ASSERT_EQUAL(write(reopened[1], "z", 1), 1, "write");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "the new registration works");
	TEST_ASSERT_EQUAL(c.calls, 1, "called");
	vs_evloop_del_fd(loop, reopened[0]);
	vs_evloop_del_fd(loop, a.calls == 1 ? pa[0] : pb[0]);
	close(reopened[0]);
	close(reopened[1]);
	close(a.calls == 1 ? pa[0] : pb[0]);
	close(pa[1]);
	close(pb[1]);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(evloop_reused_fd_number_gets_no_stale_event, fast, test_evloop_reused_fd_number_gets_no_stale_event)
/* clang-format on */

static void
self_del_cb(int fd, uint32_t events, void *arg)
{
	struct fd_probe *p = arg;

	(void)events;
	p->calls++;
	vs_evloop_del_fd(p->loop, fd);
}

static int
test_evloop_callback_removes_its_own_fd(void)
{
	struct vs_evloop *loop = vs_evloop_create();
	struct fd_probe p = {.del_fd = -1};
	int pfd[2];

	TEST_ASSERT_NOT_NULL(loop, "create");
	TEST_ASSERT_SUCCESS(pipe2(pfd, O_NONBLOCK), "pipe");
	p.loop = loop;
	TEST_ASSERT_SUCCESS(vs_evloop_add_fd(loop, pfd[0], EPOLLIN, self_del_cb, &p), "add");
	TEST_ASSERT_EQUAL(write(pfd[1], "x", 1), 1, "write");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "called");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 0), 0, "not called again (data still there)");
	TEST_ASSERT_EQUAL(p.calls, 1, "once");
	TEST_ASSERT_EQUAL(vs_evloop_add_fd(loop, pfd[0], EPOLLIN, self_del_cb, &p), 0,
			  "can be added again");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "called again");
	close(pfd[0]);
	close(pfd[1]);
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
REGISTER_TEST(evloop_callback_removes_its_own_fd, fast, test_evloop_callback_removes_its_own_fd)

struct timer_log {
	struct vs_evloop *loop;
	int order[8];
	int n;
	int64_t cancel_id; /* a timer to cancel from the callback */
	bool rearm;
};

struct timer_arg {
	struct timer_log *log;
	int tag;
};

static void
timer_cb(void *arg)
{
	struct timer_arg *t = arg;
	struct timer_log *log = t->log;

	if (log->n < 8)
		log->order[log->n++] = t->tag;
	if (log->cancel_id > 0) {
		vs_evloop_cancel_timer(log->loop, log->cancel_id);
		log->cancel_id = 0;
	}
}

static int
test_evloop_timers_fire_in_deadline_order(void)
{
	struct vs_evloop *loop = vs_evloop_create();
	struct timer_log log = {0};
	struct timer_arg t30 = {&log, 30}, t10 = {&log, 10}, t20 = {&log, 20}, t15 = {&log, 15},
			 t40 = {&log, 40};
	int64_t id15, id40;
	uint64_t start = vt_now_ms();

	TEST_ASSERT_NOT_NULL(loop, "create");
	log.loop = loop;
	TEST_ASSERT(vs_evloop_add_timer(loop, 30, timer_cb, &t30) > 0, "add");
	TEST_ASSERT(vs_evloop_add_timer(loop, 10, timer_cb, &t10) > 0, "add");
	TEST_ASSERT(vs_evloop_add_timer(loop, 20, timer_cb, &t20) > 0, "add");
	id15 = vs_evloop_add_timer(loop, 15, timer_cb, &t15);
	id40 = vs_evloop_add_timer(loop, 40, timer_cb, &t40);
	TEST_ASSERT(id15 > 0 && id40 > 0 && id15 != id40, "ids %" PRId64 " %" PRId64, id15, id40);
	TEST_ASSERT_SUCCESS(vs_evloop_cancel_timer(loop, id15), "cancel");
	TEST_ASSERT_EQUAL(vs_evloop_cancel_timer(loop, id15), -ENOENT, "cancel twice");
	/* The first timer to fire cancels the 40 ms one from its callback. */
	log.cancel_id = id40;
	while (log.n < 3 && vt_now_ms() - start < 5000)
		TEST_ASSERT(vs_evloop_run_once(loop, -1) >= 0, "run");
	TEST_ASSERT_EQUAL(log.n, 3, "three timers fired");
	TEST_ASSERT(log.order[0] == 10 && log.order[1] == 20 && log.order[2] == 30,
		    "order %d %d %d", log.order[0], log.order[1], log.order[2]);
	TEST_ASSERT(vt_now_ms() - start >= 30, "not early");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 60), 0, "the cancelled ones never fire");
	TEST_ASSERT_EQUAL(log.n, 3, "still three");
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
REGISTER_TEST(evloop_timers_fire_in_deadline_order, fast, test_evloop_timers_fire_in_deadline_order)

struct rearm {
	struct vs_evloop *loop;
	int fired;
};

static void
rearm_cb(void *arg)
{
	struct rearm *r = arg;

	r->fired++;
	if (r->fired < 3)
		vs_evloop_add_timer(r->loop, 0, rearm_cb, r);
}

/* A 0 ms timer armed by a timer callback waits for the next iteration. */
static int
test_evloop_timer_armed_in_callback_runs_next_iteration(void)
{
	struct vs_evloop *loop = vs_evloop_create();
	struct rearm r = {loop, 0};

	TEST_ASSERT_NOT_NULL(loop, "create");
	TEST_ASSERT(vs_evloop_add_timer(loop, 0, rearm_cb, &r) > 0, "add");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "one timer per iteration");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "the re-armed one");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 1000), 1, "and again");
	TEST_ASSERT_EQUAL(r.fired, 3, "fired three times");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 0), 0, "no more");
	/* Destroying with armed timers frees them (ASan checks). */
	TEST_ASSERT(vs_evloop_add_timer(loop, 100000, rearm_cb, &r) > 0, "add");
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(evloop_timer_armed_in_callback_runs_next_iteration, fast, test_evloop_timer_armed_in_callback_runs_next_iteration)
/* clang-format on */

static void *
stop_later(void *arg)
{
	usleep(50 * 1000);
	vs_evloop_stop(arg);
	return NULL;
}

static void *
wake_later(void *arg)
{
	usleep(50 * 1000);
	vs_evloop_wakeup(arg);
	return NULL;
}

static int
test_evloop_stop_and_wakeup_from_another_thread(void)
{
	struct vs_evloop *loop = vs_evloop_create();
	pthread_t th;
	uint64_t start;

	TEST_ASSERT_NOT_NULL(loop, "create");
	start = vt_now_ms();
	TEST_ASSERT_SUCCESS(pthread_create(&th, NULL, wake_later, loop), "thread");
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 10000), 0, "woken without a callback");
	pthread_join(th, NULL);
	TEST_ASSERT(vt_now_ms() - start < 5000, "woken, not timed out");
	start = vt_now_ms();
	TEST_ASSERT_SUCCESS(pthread_create(&th, NULL, stop_later, loop), "thread");
	TEST_ASSERT_SUCCESS(vs_evloop_run(loop), "run");
	pthread_join(th, NULL);
	TEST_ASSERT(vt_now_ms() - start < 5000, "stopped");
	/* Stop is not sticky: the loop can run again. */
	TEST_ASSERT_EQUAL(vs_evloop_run_once(loop, 0), 0, "runs again");
	vs_evloop_destroy(loop);
	return TEST_SUCCESS;
}
/* clang-format off */
REGISTER_TEST(evloop_stop_and_wakeup_from_another_thread, fast, test_evloop_stop_and_wakeup_from_another_thread)
/* clang-format on */

static struct vs_evloop *signal_loop;

static void
on_alarm(int sig)
{
	(void)sig;
	vs_evloop_stop(signal_loop);
}

static int
test_evloop_stop_from_signal_handler(void)
{
	struct itimerval it = {.it_value = {0, 50 * 1000}};
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	uint64_t start;
	int rc;

	signal_loop = vs_evloop_create();
	TEST_ASSERT_NOT_NULL(signal_loop, "create");
	sigemptyset(&sa.sa_mask);
	TEST_ASSERT_SUCCESS(sigaction(SIGALRM, &sa, &old), "sigaction");
	start = vt_now_ms();
	TEST_ASSERT_SUCCESS(setitimer(ITIMER_REAL, &it, NULL), "setitimer");
	rc = vs_evloop_run(signal_loop);
	sigaction(SIGALRM, &old, NULL);
	TEST_ASSERT_SUCCESS(rc, "run");
	TEST_ASSERT(vt_now_ms() - start < 5000, "stopped by the handler");
	vs_evloop_destroy(signal_loop);
	return TEST_SUCCESS;
}
REGISTER_TEST(evloop_stop_from_signal_handler, fast, test_evloop_stop_from_signal_handler)

static int
test_evloop_destroy_releases_fds(void)
{
	int before = vt_count_fds();

	for (int i = 0; i < 50; i++) {
		struct vs_evloop *loop = vs_evloop_create();
		struct fd_probe p = {.del_fd = -1};
		int pfd[2];

		TEST_ASSERT_NOT_NULL(loop, "create");
		TEST_ASSERT_SUCCESS(pipe2(pfd, O_NONBLOCK), "pipe");
		/* A high fd number grows the table. */
		int high = dup2(pfd[0], 700 + i);

		TEST_ASSERT(high >= 0, "dup2");
		TEST_ASSERT_SUCCESS(vs_evloop_add_fd(loop, high, EPOLLIN, probe_cb, &p), "add");
		TEST_ASSERT_SUCCESS(vs_evloop_add_fd(loop, pfd[0], EPOLLIN, probe_cb, &p), "add");
		vs_evloop_destroy(loop);
		close(high);
		close(pfd[0]);
		close(pfd[1]);
	}
	TEST_ASSERT_EQUAL(vt_count_fds(), before, "no fd leaked");
	return TEST_SUCCESS;
}
REGISTER_TEST(evloop_destroy_releases_fds, fast, test_evloop_destroy_releases_fds)
