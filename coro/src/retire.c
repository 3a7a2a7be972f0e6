// SPDX-License-Identifier: GPL-2.0
/*
 * What an lwp does at its next scheduling point, in its own context
 * (lwp_loop()), when coro_sched_set_concurrency() (concurrency.c) has
 * asked something of its vproc: leave solo, or retire (the vproc's queue
 * to the active vprocs, the lwp to the spares).  Apart from
 * concurrency.c, which uses lwp.c, so that lwp.c can call it.
 */
#include "retire.h"
#include "idle.h"
#include "runq.h"

static void conc_notify(struct coro_sched *s)
{
	pthread_mutex_lock(&s->conc_mtx);
	pthread_cond_broadcast(&s->conc_cond);
	pthread_mutex_unlock(&s->conc_mtx);
}

/* By the owner: the queue takes the lock from now on. */
void vp_leave_solo(struct vproc *vp)
{
	vp_inbox_drain(vp);
	__atomic_store_n(&vp->fast_yield, false, __ATOMIC_RELAXED);
	__atomic_store_n(&vp->solo, false, __ATOMIC_RELEASE);
	__atomic_store_n(&vp->unsolo, 0, __ATOMIC_RELEASE);
}

/* By l, in its own context: retire l's vproc; l becomes a spare. */
static void vp_retire(struct lwp *l)
{
	struct coro_sched *s = l->sched;
	struct vproc *vp = l->vp;
	struct coro *head, *tail, *c;
	int expect = VP_RETIRING;
	unsigned int k = 0, nvp;

	spin_lock(&vp->lock);
	if (!__atomic_compare_exchange_n(&vp->retire, &expect, VP_RETIRED,
					 false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		spin_unlock(&vp->lock);	/* grown back meanwhile */
		return;
	}
	if (__atomic_load_n(&vp->inbox, __ATOMIC_RELAXED))
		vp_inbox_drain(vp);
	/* Every class, the highest first. */
	head = tail = NULL;
	while ((c = vp_dequeue(vp)))
		queue_append(&head, &tail, c);
	spin_unlock(&vp->lock);
	l->vp = NULL;
	nvp = sched_nvp(s);
	while ((c = head)) {
		head = c->next;
		vp_push(l, &s->vps[k++ % nvp], c);
	}
	sched_kick(s);
	conc_notify(s);
}

void lwp_conc_point(struct lwp *l)
{
	struct vproc *vp = l->vp;

	if (__atomic_load_n(&vp->unsolo, __ATOMIC_ACQUIRE)) {
		vp_leave_solo(vp);
		conc_notify(l->sched);
	}
	if (__atomic_load_n(&vp->retire, __ATOMIC_ACQUIRE) == VP_RETIRING)
		vp_retire(l);
}
