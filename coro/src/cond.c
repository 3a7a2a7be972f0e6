// SPDX-License-Identifier: GPL-2.0
/*
 * Condition variable.  The waiter queues itself before releasing the
 * mutex and parks holding the queue lock (released after its switch), so
 * a signal sent after the mutex is released cannot be missed.
 */
#include "current.h"
#include "queue.h"
#include "dispatch.h"

void coro_cond_init(coro_cond_t *cv)
{
	coro_cond_t z = CORO_COND_INITIALIZER;

	*cv = z;
}

void coro_cond_wait(coro_cond_t *cv, coro_mutex_t *m)
{
	struct lwp *l = lwp_current();
	struct coro *self = l ? l->current : NULL;

	if (!self) {
		/* A plain thread cannot park: let others run, as a spurious
		 * wakeup would. */
		coro_mutex_unlock(m);
		sched_yield();
		coro_mutex_lock(m);
		return;
	}
	spin_lock(&cv->wq.lock);
	waitq_push(&cv->wq, self);
	coro_set_state(self, CORO_PARKED);
	coro_mutex_unlock(m);
	coro_switch_out(l, self, AFTER_PARK, &cv->wq.lock, NULL);
	coro_mutex_lock(m);
}

void coro_cond_signal(coro_cond_t *cv)
{
	struct coro *w;

	spin_lock(&cv->wq.lock);
	w = waitq_pop(&cv->wq);
	spin_unlock(&cv->wq.lock);
	if (w)
		coro_wake(lwp_current(), w);
}

void coro_cond_broadcast(coro_cond_t *cv)
{
	struct coro *w, *next;
	struct lwp *l;

	spin_lock(&cv->wq.lock);
	w = cv->wq.head;
	cv->wq.head = cv->wq.tail = NULL;
	spin_unlock(&cv->wq.lock);
	l = lwp_current();
	for (; w; w = next) {
		next = w->next;
		coro_wake(l, w);
	}
}
