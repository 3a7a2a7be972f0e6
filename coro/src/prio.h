// SPDX-License-Identifier: GPL-2.0
/*
 * Priorities (prio.c): where a coroutine that becomes runnable goes, and
 * which worker it preempts.  Nothing of it runs until a scheduler's
 * prio_on is set, by the first coro_setprio() above 0 (preempt.c).
 */
#ifndef CORO_PRIO_H
#define CORO_PRIO_H

#include "internal.h"
#include "runq.h"

static inline bool prio_on(const struct coro_sched *s)
{
	return __atomic_load_n(&s->prio_on, __ATOMIC_ACQUIRE);
}

/*
 * What l's vproc runs from now on (c, or NULL: l's own context), for
 * prio_place() on other threads to read.  Nothing until prio_on.
 */
HIDDEN void prio_lwp_timer(struct lwp *l);
HIDDEN void prio_lwp_timer_delete(struct lwp *l);

static inline void prio_running(struct lwp *l, const struct coro *c)
{
	struct vproc *vp = l->vp;

	if (vp && __builtin_expect(__atomic_load_n(&vp->prio_on, __ATOMIC_RELAXED), 0)) {
		if (__builtin_expect(!l->ptimer_made, 0))
			prio_lwp_timer(l);
		__atomic_store_n(&vp->running, c ? (uint64_t)l->tid << 8 |
				 (uint64_t)(coro_prio(c) + 1) : 0,
				 __ATOMIC_RELAXED);
	}
}

HIDDEN void prio_enable(struct coro_sched *s);
HIDDEN struct vproc *prio_place(struct lwp *l, struct coro *c, pid_t *tid);
HIDDEN void prio_preempt(pid_t tid);
/* preempt.c: the first retry's delay, in ns (tests shorten it). */
HIDDEN extern long preempt_retry_ns;

#endif /* CORO_PRIO_H */
