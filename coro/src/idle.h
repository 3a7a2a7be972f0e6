// SPDX-License-Identifier: GPL-2.0
/*
 * Where lwps park (idle.c): an lwp holding a vproc with nothing to run
 * sleeps in the kernel until work is queued or a timer is due; a spare
 * lwp waits until a vproc is handed to it.  And the wake-ups for both.
 */
#ifndef CORO_IDLE_H
#define CORO_IDLE_H

#include "internal.h"

/* Read by the thread's own signal handler (sigmask.c): it re-raises. */
static inline void lwp_set_in_wait(struct lwp *l, int v)
{
	__atomic_store_n(&l->in_wait, v, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

HIDDEN void sched_kick(struct coro_sched *s);
HIDDEN uint64_t lwp_idle(struct lwp *l);
HIDDEN void lwp_idle_warm(void);
HIDDEN void lwp_spare_wait(struct lwp *l);
HIDDEN void sched_wake_all_idle(struct coro_sched *s);
HIDDEN void sched_finish(struct coro_sched *s);
HIDDEN void lwp_spare_wake(struct lwp *sp);

#endif /* CORO_IDLE_H */
