// SPDX-License-Identifier: GPL-2.0
/* The sleepers' min-heap of a scheduler (timer.c). */
#ifndef CORO_TIMER_H
#define CORO_TIMER_H

#include "internal.h"

HIDDEN void timer_poll(struct lwp *l);
HIDDEN int timer_insert(struct coro_sched *s, struct coro *c);

/* Whether any coroutine sleeps, without the lock. */
static inline bool timer_armed(const struct coro_sched *s)
{
	return __atomic_load_n(&s->next_wake, __ATOMIC_RELAXED) != UINT64_MAX;
}

#endif /* CORO_TIMER_H */
