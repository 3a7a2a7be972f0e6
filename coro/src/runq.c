// SPDX-License-Identifier: GPL-2.0
/*
 * Run queues: one FIFO of runnable coroutines per vproc.  The lwp that
 * holds the vproc (its owner) pops; anyone pushes.
 *
 * With several vprocs, thieves (steal.c) take half of a queue, so every
 * access is under the vproc's lock.  A solo vproc (the only one of its
 * scheduler: many-to-one) has no thief: its owner uses the queue with
 * plain loads and stores, and every other thread (a plain thread waking
 * a coroutine, an lwp back from a blocking call) pushes onto the inbox,
 * a lock-free stack the owner empties into the queue, in push order,
 * before it pops.  So a yield on one worker takes no lock and does no
 * atomic read-modify-write.  Ownership moves between lwps only under
 * lwp_mtx (handoff.c), which orders the old owner's accesses before the
 * new one's.
 *
 * A solo vproc stops being solo when coro_sched_set_concurrency() adds
 * workers (its owner clears solo, concurrency.c); a push that read solo
 * before may still land on the inbox, so the locked paths empty it too.
 * A retired vproc (VP_RETIRED: no lwp, emptied) passes pushes on to an
 * active one.
 */
#include "runq.h"

/* Solo, by a thread that does not hold vp: onto the inbox. */
static void inbox_push(struct vproc *vp, struct coro *c)
{
	struct coro *old = __atomic_load_n(&vp->inbox, __ATOMIC_RELAXED);

	coro_set_state(c, CORO_READY);
	c->home = vp;
	do
		c->next = old;
	while (!__atomic_compare_exchange_n(&vp->inbox, &old, c, true,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* Solo, by the owner: move the inbox, oldest first, to the queue. */
void vp_inbox_drain(struct vproc *vp)
{
	struct coro *c, *rev = NULL;

	c = __atomic_exchange_n(&vp->inbox, NULL, __ATOMIC_ACQUIRE);
	while (c) {
		struct coro *next = c->next;

		c->next = rev;
		rev = c;
		c = next;
	}
	while (rev) {
		c = rev;
		rev = c->next;
		vp_enqueue(vp, c);
	}
}

/* Queue c on vp; l is the calling thread's lwp (NULL on a plain thread). */
void vp_push(struct lwp *l, struct vproc *vp, struct coro *c)
{
	if (vp_is_solo(vp)) {
		if (l && l->vp == vp)
			vp_enqueue(vp, c);
		else
			inbox_push(vp, c);
		return;
	}
	spin_lock(&vp->lock);
	while (__atomic_load_n(&vp->retire, __ATOMIC_RELAXED) == VP_RETIRED) {
		/* vps[0] never retires: the walk ends. */
		struct vproc *to = &vp->sched->vps[vp->id % sched_nvp(vp->sched)];

		spin_unlock(&vp->lock);
		vp = to;
		spin_lock(&vp->lock);
	}
	vp_enqueue(vp, c);
	spin_unlock(&vp->lock);
}

/* Under the lock, no longer solo: what was pushed while it was. */
static inline void inbox_catch_up(struct vproc *vp)
{
	if (__builtin_expect(__atomic_load_n(&vp->inbox, __ATOMIC_RELAXED) != NULL, 0))
		vp_inbox_drain(vp);
}

/* By the owner: the head of the queue, or NULL. */
struct coro *vp_pop(struct vproc *vp)
{
	struct coro *c;

	if (vp_is_solo(vp)) {
		if (__atomic_load_n(&vp->inbox, __ATOMIC_RELAXED))
			vp_inbox_drain(vp);
		return vp_dequeue(vp);
	}
	if (!vp_has_work(vp))
		return NULL;
	spin_lock(&vp->lock);
	inbox_catch_up(vp);
	c = vp_dequeue(vp);
	spin_unlock(&vp->lock);
	return c;
}

/*
 * vp_rotate() with thieves, in one critical section.  c is then visible
 * to them before its context is saved, so it carries switching = 1 until
 * the context it switched to clears it (lwp_after_switch()), and
 * whoever resumes it waits for that.  (Solo, only the owner resumes it.)
 */
struct coro *vp_rotate_locked(struct vproc *vp, struct coro *c)
{
	struct coro *next;

	spin_lock(&vp->lock);
	inbox_catch_up(vp);
	next = vp_dequeue(vp);
	if (next) {
		__atomic_store_n(&c->switching, 1, __ATOMIC_RELAXED);
		vp_enqueue(vp, c);
	}
	spin_unlock(&vp->lock);
	return next;
}

/*
 * For a thief (never solo): the first half (rounded up) of vp's queue, a
 * list linked through next, in queue order; *n says how many.
 */
struct coro *vp_pop_half(struct vproc *vp, unsigned int *n)
{
	struct coro *head = NULL, *tail = NULL, *c;
	unsigned int take;

	*n = 0;
	if (!vp_has_work(vp))
		return NULL;
	spin_lock(&vp->lock);
	inbox_catch_up(vp);
	for (take = (vp->nqueued + 1) / 2; take; take--) {
		c = vp_dequeue(vp);
		if (!c)
			break;
		queue_append(&head, &tail, c);
		++*n;
	}
	spin_unlock(&vp->lock);
	return head;
}
