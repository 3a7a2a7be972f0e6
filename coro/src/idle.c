// SPDX-License-Identifier: GPL-2.0
/*
 * Where lwps park.  An lwp that holds a vproc but finds nothing to run,
 * not even by stealing, sleeps on the scheduler's idle condition
 * variable, timed to the earliest sleeper; one that holds no vproc (a
 * spare, after a blocking call) sleeps on its own until a vproc is
 * handed to it (handoff.c).  sched_finish() wakes both kinds for good.
 * An lwp whose vproc has io_uring operations in flight idles in that
 * ring instead (uring_ring.c), so that a completion wakes it too.
 */
#include "idle.h"
#include "act_register.h"
#include "runq.h"
#include "uring_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>

static bool work_visible(struct coro_sched *s, struct lwp *l)
{
	unsigned int i, nvp = sched_nvp(s);

	if (__atomic_load_n(&s->next_wake, __ATOMIC_RELAXED) <= l->clock_seen)
		return true;
	if (__atomic_load_n(&l->held_bits, __ATOMIC_RELAXED))
		return true;	/* signals to route (sigmask.c) */
	if (l->vp && vp_leaving(l->vp))
		return true;	/* set_concurrency asks something of it */
	if (nvp == 1)
		return l->vp && vp_has_work(l->vp);
	for (i = 0; i < nvp; i++)
		if (vp_has_work(&s->vps[i]))
			return true;
	return false;
}

/*
 * Wake an idle lwp after making work visible (a queued coroutine, an
 * earlier timer).  Pairs with lwp_idle(): both sides read-modify-write
 * nidle (+0 here, +1 there), so whichever comes second in its order
 * sees what the other published before it: the idler sees the work, or
 * we see the idler.  (An RMW rather than a fence, which TSan cannot model.)
 */
void sched_kick(struct coro_sched *s)
{
	if (__atomic_fetch_add(&s->nidle, 0, __ATOMIC_SEQ_CST) > 0) {
		pthread_mutex_lock(&s->idle_mtx);
		pthread_cond_signal(&s->idle_cond);
		pthread_mutex_unlock(&s->idle_mtx);
		/* An idler in a ring said so before it counted itself. */
		if (__atomic_load_n(&s->ring_idlers, __ATOMIC_SEQ_CST))
			ring_kick_idle(s, sched_nvp(s));
	}
}

/*
 * lwp_idle() with operations in flight on l's vproc's ring: wait in the
 * ring, where a completion, sched_kick()'s eventfd write or the timer
 * ends the wait.  The same protocol with sched_kick() as below, the flag
 * the kicker reads (r->idle) set before the count.
 */
static uint64_t lwp_idle_ring(struct lwp *l, struct vp_ring *r)
{
	struct coro_sched *s = l->sched;
	uint64_t wake, due = 0;

	lwp_set_in_wait(l, 1);
	__atomic_store_n(&r->idle, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&s->ring_idlers, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&s->nidle, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) && !work_visible(s, l) &&
	    !ring_ready(r)) {
		wake = __atomic_load_n(&s->next_wake, __ATOMIC_RELAXED);
		if (ring_wait(r, wake) == -ETIME)
			due = wake;
	}
	__atomic_sub_fetch(&s->nidle, 1, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&s->ring_idlers, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&r->idle, 0, __ATOMIC_RELAXED);
	lwp_set_in_wait(l, 0);
	return due;
}

/*
 * Sleep in the kernel until work is queued or the next timer is due.
 * Returns the deadline when the wait timed out at it (the clock has
 * passed it), else 0.
 */
uint64_t lwp_idle(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	uint64_t wake, due = 0;
	struct timespec ts;

	if (l->vp && vp_ring_busy(l->vp))
		return lwp_idle_ring(l, vp_ring(l->vp));
	pthread_mutex_lock(&s->idle_mtx);
	lwp_set_in_wait(l, 1);
	__atomic_add_fetch(&s->nidle, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) && !work_visible(s, l)) {
		wake = __atomic_load_n(&s->next_wake, __ATOMIC_RELAXED);
		if (wake == UINT64_MAX) {
			pthread_cond_wait(&s->idle_cond, &s->idle_mtx);
		} else {
			ts.tv_sec = (time_t)(wake / 1000000000u);
			ts.tv_nsec = (long)(wake % 1000000000u);
			if (pthread_cond_timedwait(&s->idle_cond, &s->idle_mtx,
						   &ts) == ETIMEDOUT)
				due = wake;
		}
	}
	__atomic_sub_fetch(&s->nidle, 1, __ATOMIC_SEQ_CST);
	lwp_set_in_wait(l, 0);
	pthread_mutex_unlock(&s->idle_mtx);
	return due;
}

/*
 * Take the idle wait's path once, timed out at once, when an lwp starts.
 * The first timed wait of a process binds glibc's condition-variable
 * functions and runs their code for the first time.  Left to the first
 * sleeper that idles, that one-time cost falls after its deadline was
 * taken, inside its sleep: 0.6 to 7 ms in a TCG guest, where new code
 * is slow to run the first time, which raised the mean of a 300-sleep
 * run by up to 25 us.  (A thread in clock_nanosleep() pays its
 * own first call before the kernel takes the deadline.)  A private mutex
 * and condition variable: no wake-up meant for an idle lwp can end here.
 */
void lwp_idle_warm(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct timespec past = { 0, 0 };
	pthread_condattr_t ca;
	pthread_cond_t cv;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&m);
	pthread_cond_timedwait(&cv, &m, &past);
	pthread_mutex_unlock(&m);
	pthread_cond_destroy(&cv);
	pthread_mutex_destroy(&m);
}

/*
 * Under lwp_mtx: sp, a waiting spare, has been given a vproc (or the run
 * has ended): wake it where it waits.
 */
void lwp_spare_wake(struct lwp *sp)
{
	uint64_t one = 1;

	if (!sp->spare_events)
		pthread_cond_signal(&sp->cond);
	else if (write(sp->act_wake_fd, &one, sizeof(one)) != sizeof(one))
		abort();	/* an eventfd takes 2^64 - 2 */
}

/*
 * A spare: wait until a vproc is handed over or everything has ended.
 * In module mode a spare is not registered (its sleep is no block to act
 * on, and would wake a spare that waits on the device for nothing), and
 * waits on the device itself (s->act_spare_wait, activations.c).
 */
static void spare_wait(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	struct lwp **p;

	if (l->act_registered)
		act_unregister(s, l);
	if (s->act_spare_wait && s->act_spare_wait(l))
		return;
	pthread_mutex_lock(&s->lwp_mtx);
	if (s->orphans) {
		/* A take found no OS thread for it (vp_orphan()). */
		l->vp = s->orphans;
		s->orphans = l->vp->next_orphan;
		pthread_mutex_unlock(&s->lwp_mtx);
		return;
	}
	l->next_spare = s->spares;
	s->spares = l;
	lwp_set_in_wait(l, 1);
	while (!l->vp && !__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&l->cond, &s->lwp_mtx);
	lwp_set_in_wait(l, 0);
	if (!l->vp) {
		for (p = &s->spares; *p; p = &(*p)->next_spare) {
			if (*p == l) {
				*p = l->next_spare;
				break;
			}
		}
	}
	pthread_mutex_unlock(&s->lwp_mtx);
}

void lwp_spare_wait(struct lwp *l)
{
	spare_wait(l);
	if (l->vp)
		act_lwp_begin(l);	/* module mode: registered again */
}

/* Wake every idle lwp (set_concurrency: one may hold a retiring vproc). */
void sched_wake_all_idle(struct coro_sched *s)
{
	pthread_mutex_lock(&s->idle_mtx);
	pthread_cond_broadcast(&s->idle_cond);
	pthread_mutex_unlock(&s->idle_mtx);
	ring_kick_idle(s, s->vp_cap);
}

/* The end of everything: every lwp, idle or spare, leaves its loop. */
void sched_finish(struct coro_sched *s)
{
	struct lwp *sp;

	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&s->idle_mtx);
	pthread_cond_broadcast(&s->idle_cond);
	pthread_mutex_unlock(&s->idle_mtx);
	ring_kick_idle(s, s->vp_cap);
	pthread_mutex_lock(&s->lwp_mtx);
	for (sp = s->spares; sp; sp = sp->next_spare)
		lwp_spare_wake(sp);
	pthread_mutex_unlock(&s->lwp_mtx);
}
