// SPDX-License-Identifier: GPL-2.0
/*
 * Run queues: one FIFO of runnable coroutines per vproc, under its lock.
 * Its own lwp pushes and pops; wakers on other threads push; thieves
 * (steal.c) take half.
 */
#include "runq.h"
#include "queue.h"

static void set_nqueued(struct vproc *vp, unsigned int n)
{
	__atomic_store_n(&vp->nqueued, n, __ATOMIC_RELAXED);
}

void vp_push(struct vproc *vp, struct coro *c)
{
	coro_set_state(c, CORO_RUNNABLE);
	c->home = vp;
	spin_lock(&vp->lock);
	queue_append(&vp->head, &vp->tail, c);
	set_nqueued(vp, vp->nqueued + 1);
	spin_unlock(&vp->lock);
}

struct coro *vp_pop(struct vproc *vp)
{
	struct coro *c;

	if (!vp_has_work(vp))
		return NULL;
	spin_lock(&vp->lock);
	c = queue_pop(&vp->head, &vp->tail);
	if (c)
		set_nqueued(vp, vp->nqueued - 1);
	spin_unlock(&vp->lock);
	return c;
}

/*
 * Yield in one critical section: pop the head and queue c, which is
 * still running, behind the rest; NULL, with c not queued, when the
 * queue is empty.  c is then visible to thieves before its context is
 * saved, so it carries switching = 1 until the context it switched to
 * clears it (lwp_after_switch()); whoever resumes it waits for that.
 */
struct coro *vp_rotate(struct vproc *vp, struct coro *c)
{
	struct coro *next;

	spin_lock(&vp->lock);
	next = queue_pop(&vp->head, &vp->tail);
	if (next) {
		__atomic_store_n(&c->switching, 1, __ATOMIC_RELAXED);
		coro_set_state(c, CORO_RUNNABLE);
		c->home = vp;
		queue_append(&vp->head, &vp->tail, c);
	}
	spin_unlock(&vp->lock);
	return next;
}

/*
 * Take the first half (rounded up) of vp's queue, for a thief: a list
 * linked through next, in queue order; *n says how many.
 */
struct coro *vp_pop_half(struct vproc *vp, unsigned int *n)
{
	struct coro *head = NULL, *tail = NULL, *c;
	unsigned int take;

	*n = 0;
	if (!vp_has_work(vp))
		return NULL;
	spin_lock(&vp->lock);
	for (take = (vp->nqueued + 1) / 2; take; take--) {
		c = queue_pop(&vp->head, &vp->tail);
		if (!c)
			break;
		queue_append(&head, &tail, c);
		set_nqueued(vp, vp->nqueued - 1);
		++*n;
	}
	spin_unlock(&vp->lock);
	return head;
}
