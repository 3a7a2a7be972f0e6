// SPDX-License-Identifier: GPL-2.0
/*
 * coro_sched_set_concurrency(): Solaris' thr_setconcurrency() for a
 * running scheduler.  vps[] is allocated for vp_cap vprocs up front;
 * nvp of them are active.
 *
 * Growing: each new vproc is handed to an lwp: a waiting spare, else a
 * new OS thread (handoff.c's vp_hand_to_spare()); then nvp is raised.  A
 * solo vproc (the only one, whose queue its owner uses without a lock)
 * first stops being solo, by its owner, at its next scheduling point
 * (for good: its queue keeps the lock after a shrink back to 1).
 *
 * Shrinking: nvp is lowered at once (thieves and new coroutines see only
 * the active vprocs) and each vproc past it is marked VP_RETIRING.  Its
 * lwp, at its next scheduling point (a yield, a park, its loop), goes to
 * its own context, marks it VP_RETIRED and empties its queue under the
 * lock onto the active vprocs, round robin, then becomes a spare.  A push
 * that comes later finds VP_RETIRED under the lock and goes on to an
 * active vproc (vp_push()), so nothing is lost, and every coroutine is in
 * exactly one queue, so nothing runs twice.  The call returns once no
 * vproc is VP_RETIRING: from then on at most n OS threads run coroutines
 * (strict parallelism); until then the retiring ones finish the
 * coroutine they run, up to its next scheduling point.
 */
#include "concurrency.h"
#include "current.h"
#include "handoff.h"
#include "idle.h"
#include "lwp.h"
#include "retire.h"
#include "runq.h"

#include <errno.h>
#include <sched.h>

/* n = 0: one worker per CPU the process may run on (README.md). */
unsigned int conc_auto(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? (unsigned int)n : 1;
}

static bool any_retiring(struct coro_sched *s)
{
	unsigned int i;

	for (i = sched_nvp(s); i < s->vp_cap; i++)
		if (__atomic_load_n(&s->vps[i].retire, __ATOMIC_ACQUIRE) ==
		    VP_RETIRING)
			return true;
	return false;
}

/* The calling coroutine's lwp, if it runs on s's worker. */
static struct lwp *caller_on(struct coro_sched *s)
{
	struct lwp *l = lwp_current();

	return l && l->sched == s && l->current ? l : NULL;
}

/* Under conc_mtx, from outside: until cond holds or the run ended. */
static void wait_outside(struct coro_sched *s, bool (*done)(struct coro_sched *))
{
	while (s->conc_live && !done(s))
		pthread_cond_wait(&s->conc_cond, &s->conc_mtx);
}

/* From a coroutine (conc_mtx not held): yield until cond holds. */
static void wait_inside(struct coro_sched *s, bool (*done)(struct coro_sched *))
{
	unsigned int n = 0;

	while (!done(s)) {
		if (++n < 1000)
			coro_yield();
		else
			coro_sleep_ns(50000);	/* an lwp in a long call */
	}
}

static bool solo_left(struct coro_sched *s)
{
	return !vp_is_solo(&s->vps[0]);
}

static bool retired_all(struct coro_sched *s)
{
	return !any_retiring(s);
}

/* Under conc_mtx: vps[0] stops being solo (its owner does it). */
static void leave_solo(struct coro_sched *s, struct lwp *me)
{
	struct vproc *vp = &s->vps[0];

	if (!vp_is_solo(vp))
		return;
	if (me && me->vp == vp) {
		vp_leave_solo(vp);
		return;
	}
	__atomic_store_n(&vp->unsolo, 1, __ATOMIC_RELEASE);
	sched_wake_all_idle(s);
	if (me) {
		/* A coroutine of s on an lwp without vps[0] (a blocking
		 * call's): its owner does it at its next point. */
		pthread_mutex_unlock(&s->conc_mtx);
		wait_inside(s, solo_left);
		pthread_mutex_lock(&s->conc_mtx);
	} else {
		wait_outside(s, solo_left);
	}
}

/* Before or after a run: no lwp holds a vproc. */
static void set_idle_sched(struct coro_sched *s, unsigned int n)
{
	unsigned int i;

	/* (Atomics: an lwp of the run just ended may still be leaving.) */
	for (i = 0; i < s->vp_cap; i++)
		__atomic_store_n(&s->vps[i].retire,
				 i < n ? VP_ACTIVE : VP_RETIRED, __ATOMIC_RELAXED);
	if (n > 1) {
		__atomic_store_n(&s->vps[0].fast_yield, false, __ATOMIC_RELAXED);
		__atomic_store_n(&s->vps[0].solo, false, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&s->nvp, n, __ATOMIC_RELEASE);
}

int coro_sched_set_concurrency(coro_sched_t *s, int n)
{
	struct lwp *me = caller_on(s);
	unsigned int i, old, want;
	int expect;

	if (!s || n < 0)
		return EINVAL;
	want = n ? (unsigned int)n : conc_auto();
	if (want > s->vp_cap) {
		if (n)
			return EINVAL;
		want = s->vp_cap;
	}
	pthread_mutex_lock(&s->conc_mtx);
	if (!s->conc_live) {
		set_idle_sched(s, want);
		pthread_mutex_unlock(&s->conc_mtx);
		return 0;
	}
	old = sched_nvp(s);
	s->conc_changes++;
	if (want > old) {
		if (old == 1)
			leave_solo(s, me);
		for (i = old; i < want && s->conc_live; i++) {
			expect = VP_RETIRING;
			if (__atomic_compare_exchange_n(&s->vps[i].retire,
							&expect, VP_ACTIVE,
							false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				continue;	/* its lwp still holds it */
			__atomic_store_n(&s->vps[i].retire, VP_ACTIVE,
					 __ATOMIC_RELEASE);
			s->vps[i].cpu = s->ncpus ? s->cpus[i % s->ncpus] : -1;
			/* No OS thread: the others steal its queue. */
			vp_hand_to_spare(s, &s->vps[i]);
		}
		__atomic_store_n(&s->nvp, want, __ATOMIC_RELEASE);
		sched_kick(s);
	} else if (want < old) {
		__atomic_store_n(&s->nvp, want, __ATOMIC_RELEASE);
		for (i = want; i < old; i++)
			__atomic_store_n(&s->vps[i].retire, VP_RETIRING,
					 __ATOMIC_RELEASE);
		sched_wake_all_idle(s);
		if (me) {
			pthread_mutex_unlock(&s->conc_mtx);
			wait_inside(s, retired_all);
			return 0;
		}
		wait_outside(s, retired_all);
	}
	pthread_mutex_unlock(&s->conc_mtx);
	return 0;
}

int coro_sched_get_concurrency(const coro_sched_t *s)
{
	return (int)sched_nvp(s);
}

/*
 * coro_sched_run(), its caller holding vps[0]: start an lwp for every
 * other active vproc; changes go through the lwps from now on.
 */
void conc_run_begin(struct coro_sched *s)
{
	unsigned int i;

	pthread_mutex_lock(&s->conc_mtx);
	set_idle_sched(s, sched_nvp(s));
	s->conc_live = true;
	/* Workers that cannot get a thread are served by stealing. */
	for (i = 1; i < sched_nvp(s); i++)
		lwp_spawn(s, &s->vps[i]);
	pthread_mutex_unlock(&s->conc_mtx);
}

void conc_run_end(struct coro_sched *s)
{
	pthread_mutex_lock(&s->conc_mtx);
	s->conc_live = false;
	pthread_cond_broadcast(&s->conc_cond);
	pthread_mutex_unlock(&s->conc_mtx);
}
