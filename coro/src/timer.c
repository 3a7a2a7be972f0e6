// SPDX-License-Identifier: GPL-2.0
/*
 * Sleeping coroutines: one min-heap on wake time per scheduler.  Workers
 * poll it when their queue runs dry (and every 64 yields, so that busy
 * yielders do not starve sleepers) and sleep in the kernel until its
 * earliest deadline when nothing else is runnable (idle.c).
 */
#include "timer.h"
#include "act_word.h"
#include "clock.h"
#include "idle.h"
#include "queue.h"
#include "runq.h"

#include <stdlib.h>

static void heap_set(struct coro_sched *s, size_t i, struct coro *c)
{
	s->heap[i] = c;
	c->heap_idx = i;
}

static void heap_up(struct coro_sched *s, size_t i)
{
	struct coro *c = s->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (s->heap[p]->wake_ns <= c->wake_ns)
			break;
		heap_set(s, i, s->heap[p]);
		i = p;
	}
	heap_set(s, i, c);
}

static void heap_down(struct coro_sched *s, size_t i)
{
	struct coro *c = s->heap[i];

	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= s->nheap)
			break;
		if (k + 1 < s->nheap &&
		    s->heap[k + 1]->wake_ns < s->heap[k]->wake_ns)
			k++;
		if (c->wake_ns <= s->heap[k]->wake_ns)
			break;
		heap_set(s, i, s->heap[k]);
		i = k;
	}
	heap_set(s, i, c);
}

static struct coro *heap_pop(struct coro_sched *s)
{
	struct coro *top = s->heap[0];

	if (--s->nheap) {
		heap_set(s, 0, s->heap[s->nheap]);
		heap_down(s, 0);
	}
	return top;
}

static void publish_next_wake(struct coro_sched *s)
{
	__atomic_store_n(&s->next_wake,
			 s->nheap ? s->heap[0]->wake_ns : UINT64_MAX,
			 __ATOMIC_RELAXED);
}

/*
 * Queue every sleeper whose time has come on l's worker, earliest
 * deadline first (several are due at once when the worker comes late):
 * now is the clock, or a time it is known to have passed (l->clock_seen,
 * the deadline an idle wait timed out at), which saves reading it.
 */
void timer_poll_at(struct lwp *l, uint64_t now)
{
	struct coro_sched *s = l->sched;
	struct coro *head = NULL, *tail = NULL, *c;

	if (now > l->clock_seen)
		l->clock_seen = now;
	if (now < __atomic_load_n(&s->next_wake, __ATOMIC_RELAXED) ||
	    !spin_trylock(&s->timer_lock))
		return;
	while (s->nheap && s->heap[0]->wake_ns <= now)
		queue_append(&head, &tail, heap_pop(s));
	publish_next_wake(s);
	spin_unlock(&s->timer_lock);
	if (!head)
		return;
	while ((c = queue_pop(&head, &tail)))
		vp_push(l, l->vp, c);
	if (sched_nvp(s) > 1)
		sched_kick(s);
}

void timer_poll(struct lwp *l)
{
	timer_poll_at(l, clock_now_ns());
}

/*
 * Put c, which is about to park, in the heap by its wake_ns.  Returns 0
 * with the timer lock held, for the switch out to release
 * (AFTER_PARK); -1, without it, when the heap cannot grow.
 */
int timer_insert(struct coro_sched *s, struct coro *c)
{
	bool first;

	spin_lock(&s->timer_lock);
	if (s->nheap == s->heap_cap) {
		size_t cap = s->heap_cap ? 2 * s->heap_cap : 64;
		struct coro **h = realloc(s->heap, cap * sizeof(*h));

		if (!h) {
			spin_unlock(&s->timer_lock);
			return -1;
		}
		s->heap = h;
		s->heap_cap = cap;
	}
	s->heap[s->nheap] = c;
	heap_up(s, s->nheap++);
	first = s->heap[0] == c;
	publish_next_wake(s);
	coro_set_state(c, CORO_PARKED);
	/*
	 * An idle worker may be sleeping towards a later deadline (with
	 * activations, ours may be a spare's by now).
	 */
	if (first && (sched_nvp(s) > 1 || act_on(s)))
		sched_kick(s);
	return 0;
}
