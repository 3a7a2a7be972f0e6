// SPDX-License-Identifier: GPL-2.0
/*
 * The adaptive mutex (Solaris): a contender spins while the owner is
 * running on another worker, since it will likely unlock soon, and parks
 * in the wait queue otherwise.  state: 0 free, 1 locked, 2 locked and
 * maybe waited for (unlock then wakes one waiter, which competes again).
 *
 * "Running" means on a CPU: the owner's lwp may be running its coroutine
 * while the kernel has preempted it (seed 001's priority inversion: the
 * contenders spin, the owner waits for a CPU they hold), or blocked in a
 * system call.  How a contender learns that (coro_sched's mutex_watch,
 * CORO_MUTEX_WATCH):
 *   events  module mode: each lwp registered with KP_ACT_REG_PREEMPT, and
 *           its off_cpu follows PREEMPTED/RESUMED and BLOCKED/UNBLOCKED
 *           as read so far.  PREEMPTED wakes no reader, so a contender
 *           that has spun MUTEX_CHECK_AT times reads what is queued
 *           (act_refresh());
 *   proc    monitor mode: a contender that has spun MUTEX_CHECK_AT times
 *           reads the owner's /proc counts once (proc_off_cpu());
 *   none    it spins MUTEX_SPINS times at most, then parks.
 * The contender parks as soon as the owner's lwp is known to be off its
 * CPU.  A wrong answer (an event not read yet, a /proc race) costs a spin
 * or a park, never the lock.
 */
#include "current.h"
#include "queue.h"
#include "dispatch.h"
#include "activations.h"
#include "clock.h"
#include "monitor.h"

#include <errno.h>

#define MUTEX_SPINS 1000
#define MUTEX_CHECK_AT 100

void coro_mutex_init(coro_mutex_t *m)
{
	coro_mutex_t z = CORO_MUTEX_INITIALIZER;

	*m = z;
}

int coro_mutex_trylock(coro_mutex_t *m)
{
	int zero = 0;

	if (!__atomic_compare_exchange_n(&m->state, &zero, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return EBUSY;
	__atomic_store_n(&m->owner, coro_self(), __ATOMIC_RELAXED);
	return 0;
}

enum owner_where {
	OWNER_ELSEWHERE,	/* not running, or on l itself: do not spin */
	OWNER_RUNS,		/* running on another lwp, on a CPU */
	OWNER_OFF_CPU,		/* on another lwp that is off its CPU */
};

/* Where is the owner right now, as seen from lwp l?  *olp: its lwp. */
static enum owner_where owner_where(coro_mutex_t *m, struct lwp *l,
				    struct lwp **olp)
{
	struct coro *o = __atomic_load_n(&m->owner, __ATOMIC_RELAXED);
	struct lwp *ol;

	/* o may have ended and been recycled; its block stays mapped and
	 * a wrong answer only costs a spin or a park.  Its lwp lives until
	 * the run ends.  The acquire pairs with switch_to()'s release: an
	 * lwp made since (by the monitor's hand-off, say) is read whole. */
	if (!o)
		return OWNER_ELSEWHERE;
	ol = __atomic_load_n(&o->on_lwp, __ATOMIC_ACQUIRE);
	if (!ol || ol == l)
		return OWNER_ELSEWHERE;
	*olp = ol;
	return __atomic_load_n(&ol->off_cpu, __ATOMIC_RELAXED) ?
	       OWNER_OFF_CPU : OWNER_RUNS;
}

/* A contender has spun a while on ol: is ol off its CPU after all? */
static bool owner_off_cpu_now(struct coro_sched *s, struct lwp *ol)
{
	switch (s->mutex_watch) {
	case CORO_WATCH_EVENTS:
		act_refresh(s);
		return __atomic_load_n(&ol->off_cpu, __ATOMIC_RELAXED);
	case CORO_WATCH_PROC:
		return proc_off_cpu(__atomic_load_n(&ol->tid,
						    __ATOMIC_RELAXED));
	default:
		return false;
	}
}

/*
 * Spin while the owner runs elsewhere, MUTEX_SPINS times at most.  True
 * with the lock; false to park (*off: because the owner's lwp was off its
 * CPU).
 */
static bool spin(coro_mutex_t *m, struct lwp *l, bool *off)
{
	struct coro_sched *s = l->sched;
	struct lwp *ol = NULL;
	enum owner_where w = owner_where(m, l, &ol);
	uint64_t t0;
	bool got = false;
	int i;

	*off = w == OWNER_OFF_CPU;
	if (w != OWNER_RUNS)
		return false;
	l->mtx.spins++;
	t0 = clock_now_ns();
	for (i = 0; i < MUTEX_SPINS; i++) {
		cpu_relax();
		if (!__atomic_load_n(&m->state, __ATOMIC_RELAXED) &&
		    !coro_mutex_trylock(m)) {
			got = true;
			break;
		}
		if (i == MUTEX_CHECK_AT && s->mutex_watch != CORO_WATCH_NONE) {
			l->mtx.checks++;
			if (owner_off_cpu_now(s, ol)) {
				*off = true;
				break;
			}
		}
		w = owner_where(m, l, &ol);
		if (w != OWNER_RUNS) {
			*off = w == OWNER_OFF_CPU;
			break;
		}
	}
	l->mtx.spin_ns += clock_now_ns() - t0;
	l->mtx.spin_iters += (uint64_t)(i < MUTEX_SPINS ? i + 1 : i);
	l->mtx.spin_acquired += got;
	return got;
}

void coro_mutex_lock(coro_mutex_t *m)
{
	struct lwp *l;
	struct coro *self;
	bool off;

	if (!coro_mutex_trylock(m))
		return;
	l = lwp_current();
	self = l ? l->current : NULL;
	if (!self) {
		/* A plain thread: no queue to park in. */
		while (__atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE))
			sched_yield();
		return;
	}
	l->mtx.contended++;
	if (spin(m, l, &off))
		return;
	l->mtx.owner_off += off;
	for (;;) {
		spin_lock(&m->wq.lock);
		if (!__atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE)) {
			spin_unlock(&m->wq.lock);
			__atomic_store_n(&m->owner, self, __ATOMIC_RELAXED);
			return;
		}
		waitq_push(&m->wq, self);
		coro_set_state(self, CORO_PARKED);
		l->mtx.parks++;
		l = coro_switch_out(l, self, AFTER_PARK, &m->wq.lock, NULL);
	}
}

void coro_mutex_unlock(coro_mutex_t *m)
{
	struct coro *w;

	__atomic_store_n(&m->owner, NULL, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&m->state, 0, __ATOMIC_RELEASE) != 2)
		return;
	spin_lock(&m->wq.lock);
	w = waitq_pop(&m->wq);
	spin_unlock(&m->wq.lock);
	if (w)
		coro_wake(lwp_current(), w);
}
