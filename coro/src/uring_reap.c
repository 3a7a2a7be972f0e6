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

/*
 * Queue each coroutine of the list head..tail on l's vproc, except keep
 * (the caller's own, which runs on); true if any was queued.
 */
bool uring_queue(struct lwp *l, struct coro *head, struct coro *tail,
		 const struct coro *keep)
{
	struct coro *c;
	bool any = false;

	while ((c = queue_pop(&head, &tail))) {
		if (c == keep)
			continue;
		vp_push(l, l->vp, c);
		any = true;
	}
	return any;
}

/* Returns whether any coroutine was made runnable. */
bool uring_reap_slow(struct lwp *l, struct vp_ring *r)
{
	struct coro *head = NULL, *tail = NULL;
	bool any;

	spin_lock(&r->lock);
	ring_take(r, &head, &tail);
	spin_unlock(&r->lock);
	any = uring_queue(l, head, tail, NULL);
	if (any && sched_nvp(l->sched) > 1)
		sched_kick(l->sched);
	return any;
}
