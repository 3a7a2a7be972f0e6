// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler activations, header only: the word by which an lwp and the
 * taker (act_take.c) agree who holds its vproc, and the two hooks the
 * scheduler calls.  (activations.c: the mechanisms; README.md.)
 *
 * Each lwp's act_word says where it is: bits 0-1 ACT_IN_SCHED (scheduler
 * code, or a spare), ACT_IN_CORO (coroutine code, holding the vproc whose
 * index is in bits 2-17) or ACT_TAKEN (the listener or the monitor gave
 * that vproc to a spare while the lwp was blocked in coroutine code);
 * bits 32-63 count the lwp's stints in coroutine code, so that the monitor
 * can tell one long stint from two.  The lwp enters the scheduler with an
 * atomic exchange to ACT_IN_SCHED (act_sched_enter()); when it reads
 * ACT_TAKEN back it has lost its vproc.  The taker moves ACT_IN_CORO to
 * ACT_TAKEN with a compare-and-swap (act_claim()), so that exactly one of
 * the two wins.
 */
#ifndef CORO_ACT_WORD_H
#define CORO_ACT_WORD_H

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

/*
 * Hook: the lwp, holding l->vp, goes (back) into coroutine code: in the
 * resumed coroutine, after what the switch left to do (which may push
 * onto l->vp as its owner).  From here until its next act_sched_enter()
 * the lwp touches its vproc's queue only as any other thread does (its
 * pushes go through act_owner(), so onto a solo vproc's inbox): a spare
 * may own the vproc by then.
 */
static inline void act_coro_enter(struct lwp *l)
{
	if (!act_on(l->sched) || !l->vp)
		return;
	__atomic_store_n(&l->act_word, (uint64_t)++l->act_gen << 32 |
			 (uint64_t)l->vp->id << 2 | ACT_IN_CORO,
			 __ATOMIC_RELEASE);
}

/* The same at the end of any switch: if what resumed is a coroutine. */
static inline void act_coro_resume(struct lwp *l)
{
	if (act_on(l->sched) && l->current)
		act_coro_enter(l);
}

/*
 * The lwp to name as the pusher in vp_push() from code that may run as
 * coroutine code: none with activations (a spare may own the vproc that
 * l still points at), so a solo vproc gets the push on its inbox.
 */
static inline struct lwp *act_owner(struct lwp *l, struct coro_sched *s)
{
	return act_on(s) ? NULL : l;
}

#endif /* CORO_ACT_WORD_H */
