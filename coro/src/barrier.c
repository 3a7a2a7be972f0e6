// SPDX-License-Identifier: GPL-2.0
/*
 * Barrier: count coroutines meet, then all go on.  Generation-counted: the
 * last to arrive opens the generation and wakes the others, so a waiter
 * that is slow to leave cannot be caught by the next generation.  A plain
 * thread (not a coroutine) may take part; it polls the generation.
 */
#include "current.h"
#include "queue.h"
#include "dispatch.h"

#include <errno.h>
#include <sched.h>

int coro_barrier_init(coro_barrier_t *b, unsigned int count)
{
	coro_barrier_t z = CORO_BARRIER_INITIALIZER(0);

	if (!count)
		return EINVAL;
	*b = z;
	b->count = count;
	return 0;
}

int coro_barrier_wait(coro_barrier_t *b)
{
	struct lwp *l = lwp_current();
	struct coro *self = l ? l->current : NULL;
	struct coro *w, *next;
	uint64_t gen;

	spin_lock(&b->wq.lock);
	gen = b->generation;
	if (++b->waiting == b->count) {
		b->waiting = 0;
		__atomic_store_n(&b->generation, gen + 1, __ATOMIC_RELEASE);
		w = b->wq.head;
		b->wq.head = b->wq.tail = NULL;
		spin_unlock(&b->wq.lock);
		for (; w; w = next) {
			next = w->next;
			coro_wake(l, w);
		}
		return CORO_BARRIER_SERIAL;
	}
	if (!self) {
		spin_unlock(&b->wq.lock);
		while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == gen)
			sched_yield();
		return 0;
	}
	waitq_push(&b->wq, self);
	coro_set_state(self, CORO_PARKED);
	coro_switch_out(l, self, AFTER_PARK, &b->wq.lock, NULL);
	return 0;
}
