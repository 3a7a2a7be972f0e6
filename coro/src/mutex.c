// SPDX-License-Identifier: GPL-2.0
/*
 * The adaptive mutex (Solaris): a contender spins while the owner is
 * running on another worker, since it will likely unlock soon, and parks
 * in the wait queue otherwise.  state: 0 free, 1 locked, 2 locked and
 * maybe waited for (unlock then wakes one waiter, which competes again).
 */
#include "current.h"
#include "queue.h"
#include "dispatch.h"

#include <errno.h>

#define MUTEX_SPINS 1000

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

/* Is the owner running right now on an OS thread other than l? */
static bool owner_running_elsewhere(coro_mutex_t *m, struct lwp *l)
{
	struct coro *o = __atomic_load_n(&m->owner, __ATOMIC_RELAXED);
	struct lwp *ol;

	/* o may have ended and been recycled; its block stays mapped and
	 * a wrong answer only costs a spin or a park. */
	if (!o)
		return false;
	ol = __atomic_load_n(&o->on_lwp, __ATOMIC_RELAXED);
	return ol && ol != l;
}

void coro_mutex_lock(coro_mutex_t *m)
{
	struct lwp *l;
	struct coro *self;
	int i;

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
	for (i = 0; i < MUTEX_SPINS && owner_running_elsewhere(m, l); i++) {
		cpu_relax();
		if (!__atomic_load_n(&m->state, __ATOMIC_RELAXED) &&
		    !coro_mutex_trylock(m))
			return;
	}
	for (;;) {
		spin_lock(&m->wq.lock);
		if (!__atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE)) {
			spin_unlock(&m->wq.lock);
			__atomic_store_n(&m->owner, self, __ATOMIC_RELAXED);
			return;
		}
		waitq_push(&m->wq, self);
		coro_set_state(self, CORO_PARKED);
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
