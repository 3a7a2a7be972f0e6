// SPDX-License-Identifier: GPL-2.0
/*
 * A vproc's run queue (Argobots' pool): FIFO, under the vproc's lock;
 * nqueued may be read without it, as a hint.
 */
#ifndef CORO_RUNQ_H
#define CORO_RUNQ_H

#include "internal.h"

HIDDEN void vp_push(struct vproc *vp, struct coro *c);
HIDDEN struct coro *vp_pop(struct vproc *vp);
HIDDEN struct coro *vp_rotate(struct vproc *vp, struct coro *c);
HIDDEN struct coro *vp_pop_half(struct vproc *vp, unsigned int *n);

static inline bool vp_has_work(const struct vproc *vp)
{
	return __atomic_load_n(&vp->nqueued, __ATOMIC_RELAXED) != 0;
}

#endif /* CORO_RUNQ_H */
