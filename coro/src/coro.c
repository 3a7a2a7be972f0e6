// SPDX-License-Identifier: GPL-2.0
/*
 * A coroutine's life: creation on a pooled stack, its first frame, its
 * end, join and detach.
 */
#include "act_word.h"
#include "current.h"
#include "idle.h"
#include "overflow.h"
#include "prio.h"
#include "runq.h"
#include "sigmask.h"
#include "stack.h"
#include "dispatch.h"

#include <errno.h>

static uint64_t next_id;

/* The first frame of every coroutine (coro_ctx_init's entry). */
static void coro_main(void *val, void *arg)
{
	struct lwp *l = val;
	struct coro *c = arg;

	tool_finish_switch(&c->tool);
	lwp_after_switch(l);
	c->ret = c->fn(c->arg);
	coro_switch_out(lwp_current(), c, AFTER_EXIT, NULL, NULL);
	__builtin_unreachable();
}

coro_t *coro_create(coro_sched_t *s, void *(*fn)(void *), void *arg,
		    size_t stack_size)
{
	struct lwp *l = lwp_current();
	struct coro *c;
	struct vproc *vp;
	pid_t tid = 0;
	bool reused;

	if (!s) {
		if (!l || !l->current) {
			errno = EINVAL;
			return NULL;
		}
		s = l->sched;
	}
	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	if (!stack_size)
		stack_size = s->stack_size;
	if (stack_size < CORO_STACK_MIN)
		stack_size = CORO_STACK_MIN;
	c = stack_get(stack_size, &reused);
	if (!c)
		return NULL;
	c->next = NULL;
	c->sched = s;
	c->fn = fn;
	c->entry_name = overflow_entry_name(fn);
	c->arg = arg;
	c->ret = NULL;
	c->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	c->on_lwp = NULL;
	c->switching = 0;
	/* Its creator's mask, as pthread_create() gives. */
	sig_coro_begin(c, l && l->sched == s ? l->current : NULL);
	/* And its priority, as a thread's scheduling is inherited. */
	c->prio = l && l->sched == s && l->current ? (uint8_t)coro_prio(l->current)
						   : CORO_PRIO_DEFAULT;
	coro_set_state(c, CORO_READY);
	c->lock = 0;
	c->detached = false;
	c->joined = false;
	c->joiner = NULL;
	tool_ctx_create(&c->tool, c->stack_lo,
			(size_t)(c->stack_hi - c->stack_lo));
	coro_ctx_init(&c->ctx, c->stack_lo, c->stack_hi - stack_colour(c->id),
		      coro_main, c);
	__atomic_add_fetch(&s->live, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->created, 1, __ATOMIC_RELAXED);
	if (reused)
		__atomic_add_fetch(&s->reused, 1, __ATOMIC_RELAXED);
	if (__builtin_expect(c->prio != 0, 0) && prio_on(s) &&
	    (vp = prio_place(l, c, &tid))) {
		vp_push(act_owner(l, s), vp, c);	/* (prio.c) */
		if (tid)
			prio_preempt(tid);
		sched_kick(s);
	} else if (l && l->sched == s && l->vp) {
		vp_push(act_owner(l, s), l->vp, c);
		if (sched_nvp(s) > 1 || act_on(s))
			sched_kick(s);
	} else {
		vp = &s->vps[__atomic_fetch_add(&s->next_vp, 1,
						__ATOMIC_RELAXED) % sched_nvp(s)];
		vp_push(l, vp, c);
		sched_kick(s);
	}
	return c;
}

int coro_join(coro_t *c, void **ret)
{
	struct lwp *l = lwp_current();
	struct coro *self = l ? l->current : NULL;

	if (c == self)
		return EDEADLK;
	spin_lock(&c->lock);
	if (c->detached || c->joined || c->joiner) {
		spin_unlock(&c->lock);
		return EINVAL;
	}
	if (coro_get_state(c) != CORO_EXITED) {
		if (!self) {
			spin_unlock(&c->lock);
			return EBUSY;
		}
		c->joiner = self;
		coro_set_state(self, CORO_PARKED);
		coro_switch_out(l, self, AFTER_PARK, &c->lock, NULL);
		/* Woken by coro_ended(): c is off its stack for good. */
	} else {
		c->joined = true;
		spin_unlock(&c->lock);
	}
	if (ret)
		*ret = c->ret;
	stack_put(c);
	return 0;
}

int coro_detach(coro_t *c)
{
	spin_lock(&c->lock);
	if (c->detached || c->joined || c->joiner) {
		spin_unlock(&c->lock);
		return EINVAL;
	}
	if (coro_get_state(c) == CORO_EXITED) {
		spin_unlock(&c->lock);
		stack_put(c);
		return 0;
	}
	c->detached = true;
	spin_unlock(&c->lock);
	return 0;
}

coro_t *coro_self(void)
{
	struct lwp *l = lwp_current();

	return l ? l->current : NULL;
}

uint64_t coro_id(const coro_t *c)
{
	return c->id;
}
