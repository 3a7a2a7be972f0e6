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
#include "prio.h"
#include "runq.h"
#include "sigmask.h"
#include "stack.h"
#include "timer.h"
#include "uring_reap.h"

#include <sched.h>

/*
 * Make c runnable: on the waker's worker when it has one, else at home;
 * but with a priority above 0, on the worker running the lowest priority
 * below it, preempted if it runs a coroutine (prio.c).
 */
void coro_wake(struct lwp *l, struct coro *c)
{
	struct coro_sched *s = c->sched;
	struct vproc *vp = (l && l->vp && l->sched == s) ? l->vp : c->home;
	struct vproc *to;
	pid_t tid = 0;

	if (__builtin_expect(coro_prio(c) != 0, 0) && prio_on(s) &&
	    (to = prio_place(l, c, &tid)))
		vp = to;
	vp_push(act_owner(l, s), vp, c);
	if (tid)
		prio_preempt(tid);
	/* (With activations, l's vproc may be a spare's by now.) */
	if (sched_nvp(s) > 1 || !l || l->vp != vp || act_on(s))
		sched_kick(s);
}

/*
 * A yielding coroutine is queued before its switch has saved its context
 * (vp_rotate_locked()); whoever is about to resume it waits the few instructions
 * until the lwp it left says the save is done.
 */
static __attribute__((noinline)) void wait_saved_spin(struct coro *c)
{
	unsigned int n = 0;

	while (__atomic_load_n(&c->switching, __ATOMIC_ACQUIRE)) {
		if (++n < 1000)
			cpu_relax();
		else
			sched_yield();
	}
}

static inline void wait_saved(struct coro *c)
{
	if (__builtin_expect(__atomic_load_n(&c->switching, __ATOMIC_ACQUIRE), 0))
		wait_saved_spin(c);
}

/* c has ended and is off its stack: tell its joiner, or recycle it. */
static void coro_ended(struct lwp *l, struct coro *c)
{
	struct coro_sched *s = c->sched;
	struct coro *joiner;
	bool detached;

	tool_ctx_destroy(&c->tool);
	sig_coro_ended(c);
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

/* What after_switch() does for everything but a yield. */
static __attribute__((noinline)) void after_switch_slow(struct lwp *l,
							 struct coro *from)
{
	switch (l->after) {
	case AFTER_REQUEUE:
		vp_push(l, l->requeue_to, from);
		sched_kick(l->sched);
		break;
	case AFTER_PREEMPT:
		vp_push_front(l, l->requeue_to, from);
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
 * Finish what the context we switched from could not do while still on
 * its stack.  Called first thing after every switch; after a yield
 * (AFTER_NOTHING: from is already queued) it only says so, inline.
 */
static inline void after_switch(struct lwp *l)
{
	struct coro *from = l->switched_from;

	if (!from)
		return;
	l->switched_from = NULL;
	__atomic_store_n(&from->on_lwp, NULL, __ATOMIC_RELEASE);
	if (__builtin_expect(l->after == AFTER_NOTHING, 1)) {
		/* Set only by vp_rotate_locked(): solo, no store. */
		if (__atomic_load_n(&from->switching, __ATOMIC_RELAXED))
			__atomic_store_n(&from->switching, 0, __ATOMIC_RELEASE);
	} else
		after_switch_slow(l, from);
}

/*
 * The first thing a new coroutine does (coro_main()), signals routed to
 * it while it was queued, before it ever ran, included.
 */
void lwp_after_switch(struct lwp *l)
{
	after_switch(l);
	act_coro_enter(l);
	sig_resumed(l);
}

/*
 * Resume next on l from the context (ctx, tool) running now; from_ends
 * when that context will never run again.  Returns, in that context when
 * it is resumed, the lwp it then runs on.  fast (a constant) is for
 * coro_yield() on a fast_yield vproc: solo, so next's context was saved
 * before it was queued (only vp_rotate_locked() queues a coroutine before
 * its save), and no activations to resume.  It then calls nothing, so
 * coro_yield() saves no register of its own: the switch saves the
 * caller's.
 */
static __attribute__((always_inline)) inline struct lwp *
switch_to(struct lwp *l, struct coro_ctx *ctx, struct tool_ctx *tool,
	  struct coro *next, int from_ends, bool fast)
{
	if (!fast) {
		wait_saved(next);
		sig_running(l, next);	/* (solo: no peer reads it) */
		prio_running(l, next);
	}
	l->current = next;
	__atomic_store_n(&next->on_lwp, l, __ATOMIC_RELEASE);
	l->switches++;
	tool_start_switch(tool, &next->tool, from_ends);
	l = coro_ctx_swap(ctx, &next->ctx, l);
	tool_finish_switch(tool);
	after_switch(l);
	if (!fast)
		act_coro_resume(l);
	return sig_resumed(l);
}

/* From l's own context (lwp_loop()): run c until it leaves. */
void lwp_run(struct lwp *l, struct coro *c)
{
	switch_to(l, &l->ctx, &l->tool, c, 0, false);
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

	if (after == AFTER_REQUEUE || after == AFTER_PREEMPT ||
	    after == AFTER_EXIT)
		l = sig_sched_point(l);	/* (no wait queue's lock held) */
	canary_check(c);
	act_sched_enter(l);
	if (l->vp && !vp_leaving(l->vp))	/* else lwp_loop() sees to it */
		next = vp_pop(l->vp);
	l->after = after;
	l->switched_from = c;
	l->park_lock = park_lock;
	l->requeue_to = requeue_to;
	if (next)
		return switch_to(l, &c->ctx, &c->tool, next, after == AFTER_EXIT,
				 false);
	l->current = NULL;
	sig_running(l, NULL);
	prio_running(l, NULL);
	tool_start_switch(&c->tool, &l->tool, after == AFTER_EXIT);
	l = coro_ctx_swap(&c->ctx, &l->ctx, l);
	tool_finish_switch(&c->tool);
	after_switch(l);
	act_coro_enter(l);
	return sig_resumed(l);
}

/*
 * coro_yield() in general: any vproc, a canary gap, a timer to poll and
 * io_uring completions to reap (every 64 yields, so that busy yielders
 * do not starve sleepers or coroutines parked in the ring).
 */
static __attribute__((noinline)) void yield_slow(struct lwp *l)
{
	struct coro *c, *next;

	l = sig_sched_point(l);	/* may put a coroutine at the head */
	c = l->current;
	if (!l->vp)
		return;		/* a handler's call moved it meanwhile */

	tls_yield_vp = l->vp && __atomic_load_n(&l->vp->fast_yield,
						__ATOMIC_RELAXED) ? l->vp : NULL;
	if (act_sched_enter(l)) {
		/* Its vproc went to a spare while it was blocked. */
		coro_switch_out(l, c, AFTER_REQUEUE, NULL, c->home);
		return;
	}
	canary_check(c);	/* even with nothing to switch to */
	if (__builtin_expect(vp_leaving(l->vp), 0)) {
		/* set_concurrency: the lwp's own context sees to it. */
		coro_switch_out(l, c, AFTER_REQUEUE, NULL, l->vp);
		return;
	}
	if (!(l->ticks & 63)) {
		if (timer_armed(l->sched))
			timer_poll(l);
		uring_reap(l);	/* io_uring completions, a load when none */
	}
	if (__builtin_expect(__atomic_load_n(&l->vp->prio_on, __ATOMIC_RELAXED), 0))
		next = vp_rotate_prio(l->vp, c);
	else
		next = vp_rotate(l->vp, c);
	if (!next) {
		act_coro_enter(l);
		return;
	}
	/* l->after is AFTER_NOTHING between switches. */
	l->switched_from = c;
	switch_to(l, &c->ctx, &c->tool, next, 0, false);
}

/*
 * The yield: straight into the next coroutine of the worker's queue, the
 * caller queued behind the rest.  The common case (one worker, so the
 * queue is the lwp's alone; a guarded stack; no timer to poll; nothing
 * from other threads) is a few plain loads and stores around the switch,
 * with no call and no register saved twice; everything else goes to
 * yield_slow().  The vproc comes from tls_yield_vp (current.h), one load
 * where lwp->vp is two, checked against lwp->vp while its queue is read.
 * (With activations no vproc has fast_yield: every yield enters the
 * scheduler with the exchange, in yield_slow().)
 */
void coro_yield(void)
{
	struct vproc *vp = tls_yield_vp;	/* a guess, checked below */
	struct lwp *l = lwp_current_at_entry();
	struct coro *c, *next;

	if (__builtin_expect(!l || !l->current, 0)) {
		sched_yield();
		return;
	}
	c = l->current;
	l->ticks++;
	if (__builtin_expect(!vp || vp != l->vp ||
			     !__atomic_load_n(&vp->fast_yield, __ATOMIC_RELAXED) ||
			     c->canary || !(l->ticks & 63) ||
			     __atomic_load_n(&vp->inbox, __ATOMIC_RELAXED), 0)) {
		if (l->vp)
			yield_slow(l);
		return;
	}
	next = vp_rotate_solo(vp, c);
	if (!next)
		return;
	/* Nothing to do after the switch: c is queued, for this lwp only
	 * (switched_from stays NULL, on_lwp stays l, switching 0). */
	switch_to(l, &c->ctx, &c->tool, next, 0, true);
}

int coro_worker_id(void)
{
	struct lwp *l = lwp_current();

	return l && l->vp ? (int)l->vp->id : -1;
}
