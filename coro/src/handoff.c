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
#include "idle.h"

/* Under lwp_mtx: a waiting spare now holds vp; false if none waits. */
static bool give_to_waiting_spare(struct coro_sched *s, struct vproc *vp)
{
	struct lwp *sp = s->spares;

	if (!sp)
		return false;
	s->spares = sp->next_spare;
	sp->vp = vp;
	lwp_spare_wake(sp);
	return true;
}

/*
 * Give vp to a spare lwp (a new one if none waits) so that its queue
 * keeps running.  false when no OS thread can be had (lwp_spawn() has
 * said so).
 */
bool vp_hand_to_spare(struct coro_sched *s, struct vproc *vp)
{
	bool given;

	pthread_mutex_lock(&s->lwp_mtx);
	given = give_to_waiting_spare(s, vp);
	pthread_mutex_unlock(&s->lwp_mtx);
	if (!given && !lwp_spawn(s, vp))
		return false;
	__atomic_add_fetch(&s->handoffs, 1, __ATOMIC_RELAXED);
	return true;
}

/*
 * vp has no lwp and no OS thread could be started for it, but an lwp is
 * on its way to the spares (the one that let it go): a waiting spare
 * takes it now, else the next lwp that becomes a spare (lwp_spare_wait()).
 */
void vp_orphan(struct coro_sched *s, struct vproc *vp)
{
	pthread_mutex_lock(&s->lwp_mtx);
	if (!give_to_waiting_spare(s, vp)) {
		vp->next_orphan = s->orphans;
		s->orphans = vp;
	}
	pthread_mutex_unlock(&s->lwp_mtx);
	__atomic_add_fetch(&s->handoffs, 1, __ATOMIC_RELAXED);
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
