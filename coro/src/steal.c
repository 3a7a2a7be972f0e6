// SPDX-License-Identifier: GPL-2.0
/*
 * Work stealing: an lwp whose queue is empty takes half of the first
 * non-empty queue of another vproc (once priorities are in use, of the
 * one whose best queued priority is highest, and the highest first); one to run, the rest onto its own
 * queue, after the victim's lock is dropped (two thieves robbing each
 * other must not hold each other's locks).
 */
#include "steal.h"
#include "runq.h"

/* Half of the queue whose highest class above 0 is highest, if any. */
static struct coro *steal_best(struct lwp *l, struct vproc *me,
			       unsigned int nvp)
{
	struct coro_sched *s = l->sched;
	unsigned int i, b, top = 0, n;
	struct vproc *best = NULL;
	struct coro *first;

	for (i = 1; i < nvp; i++) {
		struct vproc *vp = &s->vps[(me->id + i) % nvp];

		b = __atomic_load_n(&vp->pbits, __ATOMIC_RELAXED);
		if (b > top) {		/* the highest bit decides */
			top = b;
			best = vp;
		}
	}
	if (!best)
		return NULL;
	first = vp_pop_half(best, &n);	/* the highest first (runq.h) */
	l->steals += n;
	return first;
}

struct coro *steal(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	struct vproc *me = l->vp;
	struct coro *first = NULL, *c;
	unsigned int i, n, nvp = sched_nvp(s);

	/* With priorities, first the queue whose best class is highest. */
	if (__builtin_expect(__atomic_load_n(&me->prio_on, __ATOMIC_RELAXED), 0))
		first = steal_best(l, me, nvp);
	/* (me may be retiring, its id past nvp: it still steals.) */
	for (i = 1; i < nvp && !first; i++) {
		first = vp_pop_half(&s->vps[(me->id + i) % nvp], &n);
		l->steals += n;
	}
	if (!first)
		return NULL;
	while ((c = first->next)) {
		first->next = c->next;
		vp_push(l, me, c);
	}
	__atomic_store_n(&first->home, me, __ATOMIC_RELAXED);
	return first;
}
