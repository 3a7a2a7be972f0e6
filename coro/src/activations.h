// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler activations (activations.c, monitor.c): a plain blocking
 * system call of a coroutine does not stall the coroutines queued behind
 * it; the vproc of the lwp blocked in the kernel goes to a spare.
 *
 * Each lwp's act_word says where it is: bits 0-1 ACT_IN_SCHED (scheduler
 * code, or a spare), ACT_IN_CORO (coroutine code, holding the vproc whose
 * index is in bits 2-17) or ACT_TAKEN (the listener or the monitor gave
 * that vproc to a spare while the lwp was blocked in coroutine code);
 * bits 32-63 count the lwp's stints in coroutine code, so that the monitor
 * can tell one long stint from two.  The lwp enters the scheduler with an
 * atomic exchange to ACT_IN_SCHED (act_sched_enter()); when it reads
 * ACT_TAKEN back it has lost its vproc.  The taker moves ACT_IN_CORO to
 * ACT_TAKEN with a compare-and-swap (act_take()), so that exactly one of
 * the two wins.
 */
#ifndef CORO_ACTIVATIONS_H
#define CORO_ACTIVATIONS_H

#include "internal.h"

enum act_mode { ACT_OFF, ACT_MODULE, ACT_MONITOR };
enum act_state { ACT_IN_SCHED, ACT_IN_CORO, ACT_TAKEN };
#define ACT_STATE(w)	((unsigned int)((w) & 3))
#define ACT_VP(w)	((unsigned int)(((w) >> 2) & 0xffff))

static inline bool act_on(const struct coro_sched *s)
{
	return s->act_mode != ACT_OFF;
}

/*
 * Hook: the lwp enters scheduler code from a coroutine.  Returns true
 * when it lost its vproc meanwhile; l->vp is then NULL.
 */
static inline bool act_sched_enter(struct lwp *l)
{
	if (!act_on(l->sched))
		return false;
	if (ACT_STATE(__atomic_exchange_n(&l->act_word, ACT_IN_SCHED,
					  __ATOMIC_ACQ_REL)) != ACT_TAKEN)
		return false;
	l->vp = NULL;
	return true;
}

/* Hook: the lwp, holding l->vp, goes (back) into coroutine code. */
static inline void act_coro_enter(struct lwp *l)
{
	if (!act_on(l->sched))
		return;
	__atomic_store_n(&l->act_word, (uint64_t)++l->act_gen << 32 |
			 (uint64_t)l->vp->id << 2 | ACT_IN_CORO,
			 __ATOMIC_RELEASE);
}

HIDDEN int act_init(struct coro_sched *s);
HIDDEN int act_start(struct coro_sched *s, struct lwp *main_lwp);
HIDDEN void act_stop(struct coro_sched *s, struct lwp *main_lwp);
HIDDEN void act_destroy(struct coro_sched *s);
HIDDEN void act_lwp_begin(struct lwp *l);
HIDDEN bool act_take(struct coro_sched *s, struct lwp *l, uint64_t word);

/* monitor.c */
HIDDEN unsigned int monitor_scan(struct coro_sched *s, bool now);
HIDDEN void *monitor_main(void *arg);

#endif /* CORO_ACTIVATIONS_H */
