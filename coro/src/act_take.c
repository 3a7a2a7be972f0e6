// SPDX-License-Identifier: GPL-2.0
/*
 * The take: an lwp seen blocked in coroutine code loses its vproc to a
 * spare, if the compare-and-swap on its word (act_word.h) wins against
 * the lwp's own entry into the scheduler.  Used by the listener on the
 * module's events (activations.c) and by the monitor (monitor.c).
 */
#include "act_take.h"
#include "handoff.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * l's word was `word` (ACT_IN_CORO) when it was seen blocked: take its
 * vproc unless l has been through the scheduler since.
 */
bool act_take(struct coro_sched *s, struct lwp *l, uint64_t word)
{
	struct vproc *vp;

	if (ACT_STATE(word) != ACT_IN_CORO ||
	    !__atomic_compare_exchange_n(&l->act_word, &word,
					 (word & ~3ULL) | ACT_TAKEN, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return false;
	vp = &s->vps[ACT_VP(word)];
	if (!vp_hand_to_spare(s, vp)) {
		/* The vproc is nobody's now: its queue would stall. */
		fprintf(stderr, "libcoro: no OS thread for the queue of "
			"worker %u, whose thread blocked\n", vp->id);
		abort();
	}
	__atomic_add_fetch(&s->act_takes, 1, __ATOMIC_RELAXED);
	return true;
}
