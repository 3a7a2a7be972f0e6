// SPDX-License-Identifier: GPL-2.0
/*
 * The hand-off of a vproc to a spare lwp, so that its queue keeps
 * running while the lwp that held it is blocked in a system call
 * (blocking.c): scheduler activations done in user space.  Spares wait
 * in lwp_spare_wait() (idle.c); one is started when none waits.
 */
#include "handoff.h"
#include "act_word.h"
#include "lwp.h"

/*
 * Give vp to a spare lwp (a new one if none waits) so that its queue
 * keeps running.  false when no OS thread can be had.
 */
bool vp_hand_to_spare(struct coro_sched *s, struct vproc *vp)
{
	struct lwp *sp;

	pthread_mutex_lock(&s->lwp_mtx);
	sp = s->spares;
	if (sp) {
		s->spares = sp->next_spare;
		sp->vp = vp;
		pthread_cond_signal(&sp->cond);
	}
	pthread_mutex_unlock(&s->lwp_mtx);
	if (!sp && !lwp_spawn(s, vp))
		return false;
	__atomic_add_fetch(&s->handoffs, 1, __ATOMIC_RELAXED);
	return true;
}

/*
 * Before a blocking call: give l's vproc to a spare.  Returns NULL,
 * keeping the vproc, when no OS thread can be had.
 */
struct lwp *lwp_hand_off(struct lwp *l)
{
	if (act_sched_enter(l))
		return l;	/* a spare has the vproc already */
	if (!vp_hand_to_spare(l->sched, l->vp)) {
		act_coro_enter(l);
		return NULL;
	}
	l->vp = NULL;
	return l;
}
