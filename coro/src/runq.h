// SPDX-License-Identifier: GPL-2.0
/*
 * A vproc's run queue (Argobots' pool), FIFO within each priority, the
 * highest priority first (runq.c).  Popping and the
 * yield's rotation are for the lwp that holds the vproc; anyone pushes.
 * nqueued and inbox may be read without the lock, as hints.
 */
#ifndef CORO_RUNQ_H
#define CORO_RUNQ_H

#include "internal.h"

#include "queue.h"

HIDDEN void vp_push(struct lwp *l, struct vproc *vp, struct coro *c);
HIDDEN struct coro *vp_pop(struct vproc *vp);
HIDDEN struct coro *vp_rotate_locked(struct vproc *vp, struct coro *c);
HIDDEN void vp_inbox_drain(struct vproc *vp);
HIDDEN struct coro *vp_pop_half(struct vproc *vp, unsigned int *n);
HIDDEN void vp_push_front(struct lwp *l, struct vproc *vp, struct coro *c);
HIDDEN struct coro *vp_rotate_prio(struct vproc *vp, struct coro *c);
HIDDEN bool vp_reprio(struct vproc *vp, struct coro *c, int prio);

/* set_concurrency asks l's owner to retire it or leave solo. */
static inline bool vp_leaving(const struct vproc *vp)
{
	return __atomic_load_n(&vp->retire, __ATOMIC_RELAXED) == VP_RETIRING ||
	       __atomic_load_n(&vp->unsolo, __ATOMIC_RELAXED);
}

static inline bool vp_has_work(const struct vproc *vp)
{
	return __atomic_load_n(&vp->nqueued, __ATOMIC_RELAXED) != 0 ||
	       __atomic_load_n(&vp->inbox, __ATOMIC_RELAXED) != NULL;
}

/* A coroutine's priority (coro_setprio() may write it from anywhere). */
static inline int coro_prio(const struct coro *c)
{
	return __atomic_load_n(&c->prio, __ATOMIC_RELAXED);
}

/* The list of class p: class 0 is head, tail (the only one in use until
 * a priority is set); classes 1.. are phead[p], ptail[p]. */
static inline struct coro **vp_class_head(struct vproc *vp, int p)
{
	return p ? &vp->phead[p] : &vp->head;
}

static inline struct coro **vp_class_tail(struct vproc *vp, int p)
{
	return p ? &vp->ptail[p] : &vp->tail;
}

/* The highest class queued, -1 if none (the lock held or the owner). */
static inline int vp_top_prio(const struct vproc *vp)
{
	unsigned int b = __atomic_load_n(&vp->pbits, __ATOMIC_RELAXED);

	if (b)
		return 31 - __builtin_clz(b);
	return vp->head ? 0 : -1;
}

/* Racily, by anyone: whether a class above p is queued on vp. */
static inline bool vp_has_above(const struct vproc *vp, int p)
{
	return (__atomic_load_n(&vp->pbits, __ATOMIC_RELAXED) >> (p + 1)) != 0;
}

HIDDEN void vp_enqueue_class(struct vproc *vp, struct coro *c, int p,
			     bool front);
HIDDEN struct coro *vp_dequeue_class(struct vproc *vp);

/*
 * Queue and unqueue, the lock held or solo by the owner.  A coroutine of
 * priority 0 goes on head, tail as before priorities; another on its
 * class's list, and pbits says which classes have any, so that a vproc
 * without priorities pays one load of pbits to unqueue.
 */
static inline void vp_enqueue(struct vproc *vp, struct coro *c)
{
	int p = coro_prio(c);

	coro_set_state(c, CORO_READY);
	__atomic_store_n(&c->home, vp, __ATOMIC_RELAXED);
	if (__builtin_expect(p != 0, 0))
		vp_enqueue_class(vp, c, p, false);
	else {
		c->qprio = 0;
		queue_append(&vp->head, &vp->tail, c);
	}
	__atomic_store_n(&vp->nqueued, vp->nqueued + 1, __ATOMIC_RELAXED);
}

static inline struct coro *vp_dequeue(struct vproc *vp)
{
	struct coro *c;

	if (__builtin_expect(__atomic_load_n(&vp->pbits, __ATOMIC_RELAXED) != 0, 0))
		c = vp_dequeue_class(vp);
	else
		c = queue_pop(&vp->head, &vp->tail);
	if (c)
		__atomic_store_n(&vp->nqueued, vp->nqueued - 1,
				 __ATOMIC_RELAXED);
	return c;
}

/*
 * The yield's queueing, solo, by the owner, its inbox empty: the head
 * leaves, c (running, so READY, and at home already) goes to the tail,
 * the count stays: four stores.  NULL, c not queued, when it is empty.
 */
static inline struct coro *vp_rotate_solo(struct vproc *vp, struct coro *c)
{
	struct coro *next = vp->head;

	if (!next)
		return NULL;
	vp->head = next->next;
	c->next = NULL;
	if (vp->head)
		vp->tail->next = c;
	else
		vp->head = c;
	vp->tail = c;
	return next;
}

/*
 * Yield, by the owner: pop the head and queue c, which is still running,
 * behind the rest; NULL, with c not queued, when the queue is empty.
 * Solo (no thief), with plain loads and stores, inline.  Otherwise under
 * the lock (runq.c).
 */
static inline struct coro *vp_rotate(struct vproc *vp, struct coro *c)
{
	if (!vp_is_solo(vp))
		return vp_rotate_locked(vp, c);
	if (__builtin_expect(__atomic_load_n(&vp->inbox, __ATOMIC_RELAXED) != NULL, 0))
		vp_inbox_drain(vp);
	return vp_rotate_solo(vp, c);
}

#endif /* CORO_RUNQ_H */
