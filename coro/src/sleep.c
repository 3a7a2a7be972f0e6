// SPDX-License-Identifier: GPL-2.0
/*
 * coro_sleep_ns(): a coroutine parks in its scheduler's timer heap
 * (timer.c); a plain thread sleeps in the kernel.
 */
#include "clock.h"
#include "current.h"
#include "dispatch.h"
#include "timer.h"

void coro_sleep_ns(uint64_t ns)
{
	struct lwp *l = lwp_current();
	struct coro *c = l ? l->current : NULL;
	struct timespec ts;
	uint64_t now;

	if (!c) {
		ts.tv_sec = (time_t)(ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		return;
	}
	now = clock_now_ns();
	l->clock_seen = now;	/* the worker's idle path needs no read of its own */
	c->wake_ns = now + ns;
	if (timer_insert(l->sched, c)) {
		/* No memory for the heap: sleep by yielding. */
		while (clock_now_ns() < c->wake_ns)
			coro_yield();
		return;
	}
	coro_switch_out(l, c, AFTER_PARK, &l->sched->timer_lock, NULL);
}
