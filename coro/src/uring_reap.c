// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring completions to the run queue: the coroutines whose operations
 * completed on l's vproc's ring are queued on that vproc, in completion
 * order, as timer_poll_at() queues due sleepers.
 */
#include "uring_reap.h"
#include "idle.h"
#include "queue.h"
#include "runq.h"

/* Returns whether any coroutine was made runnable. */
bool uring_reap_slow(struct lwp *l, struct vp_ring *r)
{
	struct coro *head = NULL, *tail = NULL, *c;
	bool any;

	spin_lock(&r->lock);
	ring_take(r, &head, &tail);
	spin_unlock(&r->lock);
	any = head != NULL;
	while ((c = queue_pop(&head, &tail)))
		vp_push(l, l->vp, c);
	if (any && sched_nvp(l->sched) > 1)
		sched_kick(l->sched);
	return any;
}
