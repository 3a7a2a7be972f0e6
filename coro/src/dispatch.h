// SPDX-License-Identifier: GPL-2.0
/*
 * The scheduler core (dispatch.c): leaving a coroutine for the next one of
 * its vproc, resuming one from an lwp's own context, and what the context
 * left still needs done once it is off its stack.
 */
#ifndef CORO_DISPATCH_H
#define CORO_DISPATCH_H

#include "internal.h"

HIDDEN struct lwp *coro_switch_out(struct lwp *l, struct coro *c, int after,
				   int *park_lock, struct vproc *requeue_to);
HIDDEN void lwp_run(struct lwp *l, struct coro *c);
HIDDEN void lwp_after_switch(struct lwp *l);
HIDDEN void coro_wake(struct lwp *l, struct coro *c);

#endif /* CORO_DISPATCH_H */
