// SPDX-License-Identifier: GPL-2.0
/*
 * Work stealing: an lwp whose queue is empty takes half of the first
 * non-empty queue of another vproc; one to run, the rest onto its own
 * queue, after the victim's lock is dropped (two thieves robbing each
 * other must not hold each other's locks).
 */
#include "steal.h"
#include "runq.h"

struct coro *steal(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	struct vproc *me = l->vp;
	struct coro *first = NULL, *c;
	unsigned int i, n, nvp = sched_nvp(s);

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
