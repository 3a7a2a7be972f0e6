// SPDX-License-Identifier: GPL-2.0
/*
 * The scheduler core: switches go straight from coroutine to coroutine
 * (one switch per coro_yield()), or back to the lwp's own context when
 * the vproc's queue is empty.  What the coroutine that left still needs
 * done (requeue it, release the lock of the wait queue it parked in,
 * recycle it) is done by whoever runs next, in lwp_after_switch(), once
 * the old stack is no longer in use.
 */
#include "dispatch.h"
#include "act_word.h"
#include "current.h"
#include "idle.h"
#include "overflow.h"
#include "runq.h"
#include "stack.h"
#include "timer.h"

#include <sched.h>

/* Make c runnable: on the waker's worker when it has one, else at home. */
void coro_wake(struct lwp *l, struct coro *c)
{
	struct coro_sched *s = c->sched;
	struct vproc *vp = (l && l->vp && l->sched == s) ? l->vp : c->home;

	vp_push(vp, c);
	/* (With activations, l's vproc may be a spare's by now.) */
	if (s->nvp > 1 || !l || l->vp != vp || act_on(s))
		sched_kick(s);
}

/*
 * A yielding coroutine is queued before its switch has saved its context
 * (vp_rotate()); whoever is about to resume it waits the few instructions
 * until the lwp it left says the save is done.
 */
static inline void wait_saved(struct coro *c)
{
	unsigned int n = 0;

	while (__atomic_load_n(&c->switching, __ATOMIC_ACQUIRE)) {
		if (++n < 1000)
			cpu_relax();
		else
			sched_yield();
	}
}

/* c has ended and is off its stack: tell its joiner, or recycle it. */
static void coro_ended(struct lwp *l, struct coro *c)
{
	struct coro_sched *s = c->sched;
	struct coro *joiner;
	bool detached;

	tool_ctx_destroy(&c->tool);
	spin_lock(&c->lock);
	coro_set_state(c, CORO_EXITED);
	joiner = c->joiner;
	detached = c->detached;
	spin_unlock(&c->lock);
	if (joiner)
		coro_wake(l, joiner);
	if (detached)
		stack_put(c);
	if (__atomic_sub_fetch(&s->live, 1, __ATOMIC_ACQ_REL) == 0)
		sched_finish(s);
}

/*
 * Finish what the context we switched from could not do while still on
 * its stack.  Called first thing after every switch.
 */
void lwp_after_switch(struct lwp *l)
{
	struct coro *from = l->switched_from;

	if (!from)
		return;
	l->switched_from = NULL;
	__atomic_store_n(&from->on_lwp, NULL, __ATOMIC_RELEASE);
	switch (l->after) {
	case AFTER_NOTHING:
		/* vp_rotate(): from is already queued. */
		__atomic_store_n(&from->switching, 0, __ATOMIC_RELEASE);
		return;
	case AFTER_REQUEUE:
		vp_push(l->requeue_to, from);
		sched_kick(l->sched);
		break;
	case AFTER_PARK:
		spin_unlock(l->park_lock);
		break;
	case AFTER_EXIT:
		coro_ended(l, from);
		break;
	}
	l->after = AFTER_NOTHING;
}

/*
 * Resume next on l from the context (ctx, tool) running now; from_ends
 * when that context will never run again.  Returns, in that context when
 * it is resumed, the lwp it then runs on.
 */
static inline struct lwp *switch_to(struct lwp *l, struct coro_ctx *ctx,
				    struct tool_ctx *tool, struct coro *next,
				    int from_ends)
{
	wait_saved(next);
	act_coro_enter(l);
	l->current = next;
	coro_set_state(next, CORO_RUNNING);
	__atomic_store_n(&next->on_lwp, l, __ATOMIC_RELAXED);
	l->switches++;
	tool_start_switch(tool, &next->tool, from_ends);
	l = coro_ctx_swap(ctx, &next->ctx, l);
	tool_finish_switch(tool);
	lwp_after_switch(l);
	return l;
}

/* From l's own context (lwp_loop()): run c until it leaves. */
void lwp_run(struct lwp *l, struct coro *c)
{
	switch_to(l, &l->ctx, &l->tool, c, 0);
}

/*
 * Leave coroutine c: straight into the next one of this worker's queue,
 * or back to the lwp's own context when the queue is empty.  after says
 * what to do with c once it is off its stack.  Returns (in c, when it is
 * resumed) the lwp it now runs on.
 */
struct lwp *coro_switch_out(struct lwp *l, struct coro *c, int after,
			    int *park_lock, struct vproc *requeue_to)
{
	struct coro *next = NULL;

	canary_check(c);
	act_sched_enter(l);
	if (l->vp)
		next = vp_pop(l->vp);
	l->after = after;
	l->switched_from = c;
	l->park_lock = park_lock;
	l->requeue_to = requeue_to;
	if (next)
		return switch_to(l, &c->ctx, &c->tool, next, after == AFTER_EXIT);
	l->current = NULL;
	tool_start_switch(&c->tool, &l->tool, after == AFTER_EXIT);
	l = coro_ctx_swap(&c->ctx, &l->ctx, l);
	tool_finish_switch(&c->tool);
	lwp_after_switch(l);
	return l;
}

void coro_yield(void)
{
	struct lwp *l = lwp_current();
	struct coro *c, *next;

	if (!l || !l->current) {
		sched_yield();
		return;
	}
	c = l->current;
	if (act_sched_enter(l)) {
		/* Its vproc went to a spare while it was blocked. */
		coro_switch_out(l, c, AFTER_REQUEUE, NULL, c->home);
		return;
	}
	if (!l->vp)
		return;
	canary_check(c);	/* even with nothing to switch to */
	if (!(++l->ticks & 63) && timer_armed(l->sched))
		timer_poll(l);
	next = vp_has_work(l->vp) ? vp_rotate(l->vp, c) : NULL;
	if (!next) {
		act_coro_enter(l);
		return;
	}
	l->after = AFTER_NOTHING;
	l->switched_from = c;
	switch_to(l, &c->ctx, &c->tool, next, 0);
}

int coro_worker_id(void)
{
	struct lwp *l = lwp_current();

	return l && l->vp ? (int)l->vp->id : -1;
}
