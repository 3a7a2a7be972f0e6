// SPDX-License-Identifier: GPL-2.0
/*
 * Counting semaphore.  A post with a waiter hands the unit straight to it
 * (the count stays 0), which makes a 0-initialised semaphore the event
 * two coroutines ping-pong through.
 */
#include "current.h"
#include "queue.h"
#include "dispatch.h"

void coro_sem_init(coro_sem_t *s, uint64_t count)
{
	coro_sem_t z = CORO_SEM_INITIALIZER(0);

	*s = z;
	s->count = count;
}

void coro_sem_wait(coro_sem_t *s)
{
	struct lwp *l = lwp_current();
	struct coro *self = l ? l->current : NULL;

	spin_lock(&s->wq.lock);
	if (s->count) {
		s->count--;
		spin_unlock(&s->wq.lock);
		return;
	}
	if (!self) {
		/* A plain thread: poll. */
		while (!s->count) {
			spin_unlock(&s->wq.lock);
			sched_yield();
			spin_lock(&s->wq.lock);
		}
		s->count--;
		spin_unlock(&s->wq.lock);
		return;
	}
	waitq_push(&s->wq, self);
	coro_set_state(self, CORO_PARKED);
	coro_switch_out(l, self, AFTER_PARK, &s->wq.lock, NULL);
}

void coro_sem_post(coro_sem_t *s)
{
	struct coro *w;

	spin_lock(&s->wq.lock);
	w = waitq_pop(&s->wq);
	if (!w)
		s->count++;
	spin_unlock(&s->wq.lock);
	if (w)
		coro_wake(lwp_current(), w);
}
