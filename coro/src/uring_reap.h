// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring completions to the run queue (uring_reap.c): the lwp that
 * holds a vproc reaps its ring when its queue runs dry and every 64
 * yields, as it polls the timers.
 */
#ifndef CORO_URING_REAP_H
#define CORO_URING_REAP_H

#include "internal.h"
#include "uring_ring.h"

HIDDEN bool uring_reap_slow(struct lwp *l, struct vp_ring *r);
HIDDEN bool uring_queue(struct lwp *l, struct coro *head, struct coro *tail,
			const struct coro *keep);

/* Cheap when nothing is in flight: a load or two. */
static inline bool uring_reap(struct lwp *l)
{
	struct vp_ring *r = l->vp ? vp_ring(l->vp) : NULL;

	if (!r || !__atomic_load_n(&r->inflight, __ATOMIC_RELAXED) ||
	    !ring_ready(r))
		return false;
	return uring_reap_slow(l, r);
}

#endif /* CORO_URING_REAP_H */
