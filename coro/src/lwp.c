// SPDX-License-Identifier: GPL-2.0
/*
 * lwps: the OS threads that carry the vprocs (Argobots' execution
 * streams).  coro_sched_run() lends the calling thread as the first;
 * the others are started here, run lwp_loop() (pop, poll the timers,
 * steal, idle) until the scheduler has no coroutine left, and are
 * joined by lwp_reap().  An lwp without a vproc is a spare (handoff.c).
 */
#include "lwp.h"
#include "act_register.h"
#include "current.h"
#include "idle.h"
#include "overflow.h"
#include "prio.h"
#include "retire.h"
#include "runq.h"
#include "sigmask.h"
#include "steal.h"
#include "dispatch.h"
#include "timer.h"
#include "uring_reap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bind the calling thread to cpu, unless it is -1. */
void lwp_bind(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/*
 * The next coroutine for l's vproc: its queue, completed io_uring
 * operations, due sleepers, a theft.
 * The sleepers are those due by the last time l read the clock (a
 * coroutine going to sleep has just read it): no read here.  Any due
 * since are the idle wait's, which then times out at once (the kernel
 * compares the deadline with the clock, as for clock_nanosleep()).
 */
static struct coro *lwp_next(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	struct coro *c = vp_pop(l->vp);

	if (!c && uring_reap(l))
		c = vp_pop(l->vp);
	if (!c && timer_armed(s)) {
		timer_poll_at(l, l->clock_seen);
		c = vp_pop(l->vp);
	}
	if (!c && sched_nvp(s) > 1)
		c = steal(l);
	return c;
}

/* Run coroutines until the scheduler has none left. */
void lwp_loop(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	struct coro *c;
	uint64_t due;

	lwp_idle_warm();
	while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
		if (!l->vp) {
			lwp_spare_wait(l);
			if (l->vp)
				lwp_bind(l->vp->cpu);
			continue;
		}
		sig_sched_point(l);	/* held signals, the kernel mask */
		if (__builtin_expect(vp_leaving(l->vp), 0)) {
			lwp_conc_point(l);	/* may leave l a spare */
			continue;
		}
		c = lwp_next(l);
		if (c)
			lwp_run(l, c);
		else if ((due = lwp_idle(l)))
			timer_poll_at(l, due);	/* due sleepers, no clock read */
	}
}

/* l has ended: its counters go to the scheduler's (coro_sched_stats()). */
void lwp_fold(struct coro_sched *s, struct lwp *l)
{
	struct mtx_counts *d = &s->dead_mtx;

	s->dead_switches += l->switches;
	s->dead_steals += l->steals;
	d->contended += l->mtx.contended;
	d->spins += l->mtx.spins;
	d->spin_iters += l->mtx.spin_iters;
	d->spin_ns += l->mtx.spin_ns;
	d->spin_acquired += l->mtx.spin_acquired;
	d->parks += l->mtx.parks;
	d->owner_off += l->mtx.owner_off;
	d->checks += l->mtx.checks;
}

struct lwp *lwp_new(struct coro_sched *s)
{
	struct lwp *l;

	if (posix_memalign((void **)&l, CACHELINE, sizeof(*l)))
		return NULL;
	memset(l, 0, sizeof(*l));
	l->sched = s;
	l->cur_sigmask = ~0ULL;		/* no coroutine */
	l->act_ep = l->act_wake_fd = -1;
	pthread_cond_init(&l->cond, NULL);
	return l;
}

/* A spare's epoll set and eventfd on the device (activations.c). */
void lwp_spare_fds_close(struct lwp *l)
{
	fd_close(&l->act_ep);
	fd_close(&l->act_wake_fd);
}

void lwp_free(struct lwp *l)
{
	prio_lwp_timer_delete(l);
	lwp_spare_fds_close(l);
	pthread_cond_destroy(&l->cond);
	free(l);
}

/*
 * The calling thread becomes l: its lwp, what the tools need to know of
 * its own stack, an alternate signal stack for overflow reports.
 */
void lwp_enter(struct lwp *l)
{
	pthread_attr_t a;
	void *lo = NULL;
	size_t size = 0;

	/* Atomic: a mutex contender reads the owner's (mutex.c). */
	__atomic_store_n(&l->tid, gettid(), __ATOMIC_RELAXED);
	lwp_set_current(l);
	if (!pthread_getattr_np(pthread_self(), &a)) {
		pthread_attr_getstack(&a, &lo, &size);
		pthread_attr_destroy(&a);
	}
	tool_ctx_thread(&l->tool, lo, size);
	overflow_altstack_on(l);
}

void lwp_leave(struct lwp *l)
{
	overflow_altstack_off(l);
	lwp_set_current(NULL);
}

static void *lwp_thread_main(void *arg)
{
	struct lwp *l = arg;

	/*
	 * The signal mask coro_sched_run()'s caller had, not the one this
	 * thread inherited: the monitor thread that spawns a spare
	 * blocks every signal, and an lwp blocks those of sig_nobody
	 * (sigmask.c), which l's kblk, 0, does not say.  A spare made by
	 * the monitor took no signal at all: a coroutine resumed on it
	 * raised one to itself in vain.
	 */
	pthread_sigmask(SIG_SETMASK, &l->sched->run_sigmask, NULL);
	lwp_enter(l);
	if (l->vp)
		act_lwp_begin(l);	/* a spare registers with a vproc */
	lwp_loop(l);
	/* Before the thread ends: the kernel's own end of the registration
	 * comes after pthread_join() has returned and l is freed. */
	act_lwp_end(l);
	lwp_leave(l);
	return NULL;
}

/*
 * No OS thread could be started (err from pthread_create()): counted, and
 * said once per process.  The run goes on with the threads it has.
 */
void lwp_no_thread(struct coro_sched *s, int err)
{
	static int said;

	__atomic_add_fetch(&s->thread_failures, 1, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		fprintf(stderr, "libcoro: cannot start an OS thread: %s; "
			"running on fewer OS threads than workers (a "
			"coroutine blocked in the kernel may hold up its "
			"worker's queue until its call returns)\n",
			strerror(err));
}

/*
 * Start an OS thread that holds vp (or is a spare when vp is NULL).
 * NULL when none can be had (said by lwp_no_thread()).
 */
struct lwp *lwp_spawn(struct coro_sched *s, struct vproc *vp)
{
	pthread_attr_t attr;
	struct lwp *l = lwp_new(s);
	int err;

	if (!l) {
		lwp_no_thread(s, ENOMEM);
		errno = ENOMEM;
		return NULL;
	}
	l->vp = vp;
	l->spawned = true;
	pthread_attr_init(&attr);
	if (vp && vp->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(vp->cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	pthread_mutex_lock(&s->lwp_mtx);
	err = pthread_create(&l->thread, &attr, lwp_thread_main, l);
	if (!err) {
		l->next_all = s->all_lwps;
		s->all_lwps = l;
		__atomic_add_fetch(&s->os_threads, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&s->lwp_mtx);
	pthread_attr_destroy(&attr);
	if (err) {
		lwp_free(l);
		lwp_no_thread(s, err);
		errno = err;
		return NULL;
	}
	return l;
}

/*
 * After the end (done is set): join every lwp that was started, keeping
 * its counts.  Wake each ourselves: the one that set done may not have
 * reached the spares list yet, and must not find it empty because we
 * took it away.
 */
void lwp_reap(struct coro_sched *s)
{
	struct lwp *x, *next;

	pthread_mutex_lock(&s->lwp_mtx);
	for (x = s->all_lwps; x; x = x->next_all)
		pthread_cond_signal(&x->cond);
	x = s->all_lwps;
	s->all_lwps = NULL;
	s->spares = NULL;
	s->orphans = NULL;
	pthread_mutex_unlock(&s->lwp_mtx);
	for (; x; x = next) {
		next = x->next_all;
		pthread_join(x->thread, NULL);
		lwp_fold(s, x);
		lwp_free(x);
	}
}
