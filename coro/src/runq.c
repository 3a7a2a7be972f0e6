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
	__atomic_store_n(&c->home, vp, __ATOMIC_RELAXED);
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

/*
 * Lock vp, or the vproc a retired one forwards its pushes to (id mod the
 * active count; vps[0] never retires, so the walk ends).  Returns the one
 * locked.
 */
static struct vproc *lock_live(struct vproc *vp)
{
	struct vproc *to;

	spin_lock(&vp->lock);
	while (__atomic_load_n(&vp->retire, __ATOMIC_RELAXED) == VP_RETIRED) {
		to = &vp->sched->vps[vp->id % sched_nvp(vp->sched)];
		spin_unlock(&vp->lock);
		vp = to;
		spin_lock(&vp->lock);
	}
	return vp;
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
	vp = lock_live(vp);
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

/* ---- Priorities (prio.c, preempt.c) ---- */

/* c on the list of class p (>= 1 unless front), at its tail or head. */
void vp_enqueue_class(struct vproc *vp, struct coro *c, int p, bool front)
{
	struct coro **head = vp_class_head(vp, p), **tail = vp_class_tail(vp, p);

	c->qprio = (uint8_t)p;
	if (front) {
		c->next = *head;
		*head = c;
		if (!*tail)
			*tail = c;
	} else {
		queue_append(head, tail, c);
	}
	if (p)
		__atomic_store_n(&vp->pbits, vp->pbits | 1u << p,
				 __ATOMIC_RELAXED);
}

/* The head of the highest class above 0 (pbits is not 0). */
struct coro *vp_dequeue_class(struct vproc *vp)
{
	int p = 31 - __builtin_clz(vp->pbits);
	struct coro *c = queue_pop(&vp->phead[p], &vp->ptail[p]);

	if (!vp->phead[p])
		__atomic_store_n(&vp->pbits, vp->pbits & ~(1u << p),
				 __ATOMIC_RELAXED);
	return c;
}

/* c at the head of its class, under the lock or by the owner. */
static void vp_enqueue_front(struct vproc *vp, struct coro *c)
{
	coro_set_state(c, CORO_READY);
	__atomic_store_n(&c->home, vp, __ATOMIC_RELAXED);
	vp_enqueue_class(vp, c, coro_prio(c), true);
	__atomic_store_n(&vp->nqueued, vp->nqueued + 1, __ATOMIC_RELAXED);
}

/*
 * vp_push(), at the head of c's class: a preempted coroutine goes before
 * the others of its priority, as POSIX has it for SCHED_FIFO.  (On a
 * solo vproc's inbox, from another thread: at the tail.)
 */
void vp_push_front(struct lwp *l, struct vproc *vp, struct coro *c)
{
	if (vp_is_solo(vp)) {
		if (l && l->vp == vp) {
			vp_inbox_drain(vp);
			vp_enqueue_front(vp, c);
		} else {
			inbox_push(vp, c);
		}
		return;
	}
	vp = lock_live(vp);
	inbox_catch_up(vp);
	vp_enqueue_front(vp, c);
	spin_unlock(&vp->lock);
}

/*
 * The yield once priorities are in use (solo or not): the highest queued
 * coroutine, if its priority is c's or more, and c behind those of its
 * own; NULL (c not queued) otherwise.
 */
struct coro *vp_rotate_prio(struct vproc *vp, struct coro *c)
{
	bool solo = vp_is_solo(vp);
	struct coro *next = NULL;

	if (solo) {
		if (__atomic_load_n(&vp->inbox, __ATOMIC_RELAXED))
			vp_inbox_drain(vp);
	} else {
		spin_lock(&vp->lock);
		inbox_catch_up(vp);
	}
	if (vp_top_prio(vp) >= coro_prio(c)) {
		next = vp_dequeue(vp);
		if (!solo)
			__atomic_store_n(&c->switching, 1, __ATOMIC_RELAXED);
		vp_enqueue(vp, c);
	}
	if (!solo)
		spin_unlock(&vp->lock);
	return next;
}

/*
 * coro_setprio() of a coroutine queued on vp (under the lock, or solo by
 * its owner): move it to the list of prio.  false if it is not there (it
 * runs, waits, or is on its way to a queue, which reads its priority).
 */
static bool reprio_locked(struct vproc *vp, struct coro *c, int prio)
{
	int q = c->qprio;
	struct coro **head = vp_class_head(vp, q), **tail = vp_class_tail(vp, q);
	struct coro *x, *prev = NULL;

	for (x = *head; x && x != c; prev = x, x = x->next)
		;
	if (!x) {
		__atomic_store_n(&c->prio, (uint8_t)prio, __ATOMIC_RELAXED);
		return false;
	}
	if (prev)
		prev->next = c->next;
	else
		*head = c->next;
	if (*tail == c)
		*tail = prev;
	if (q && !*head)
		__atomic_store_n(&vp->pbits, vp->pbits & ~(1u << q),
				 __ATOMIC_RELAXED);
	__atomic_store_n(&vp->nqueued, vp->nqueued - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->prio, (uint8_t)prio, __ATOMIC_RELAXED);
	vp_enqueue(vp, c);
	return true;
}

/* The same, taking the lock; solo only by its owner (owner true). */
bool vp_reprio(struct vproc *vp, struct coro *c, int prio)
{
	bool found;

	if (vp_is_solo(vp)) {
		vp_inbox_drain(vp);
		return reprio_locked(vp, c, prio);
	}
	spin_lock(&vp->lock);
	inbox_catch_up(vp);
	found = reprio_locked(vp, c, prio);
	spin_unlock(&vp->lock);
	return found;
}
