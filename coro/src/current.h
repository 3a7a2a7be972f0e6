// SPDX-License-Identifier: GPL-2.0
/*
 * The lwp of the calling OS thread, and errno, through accessors the
 * optimiser may not look into: a coroutine can resume on another thread,
 * and a thread-local address computed before a switch would then be
 * stale.  Code that switches uses the lwp the switch returns instead.
 */
#ifndef CORO_CURRENT_H
#define CORO_CURRENT_H

#include "internal.h"

HIDDEN struct lwp *lwp_current(void);

/*
 * The same, inline, for a function that reads it once, at its start,
 * before anything can switch (coro_yield()): no address computed before
 * a switch can be reused after it.
 */
HIDDEN extern __thread struct lwp *tls_lwp __attribute__((tls_model("initial-exec")));

static inline struct lwp *lwp_current_at_entry(void)
{
	return tls_lwp;
}

/*
 * coro_yield()'s guess at the calling thread's vproc: the last one that
 * yield_slow() found it holding with fast_yield, or NULL.  Only a guess,
 * checked against lwp->vp at every use; but it is one load where lwp->vp
 * is two (the lwp first), so the run queue's head, and then the next
 * coroutine's stack, are loaded while the check is still under way.
 */
HIDDEN extern __thread struct vproc *tls_yield_vp __attribute__((tls_model("initial-exec")));
HIDDEN void lwp_set_current(struct lwp *l);
HIDDEN void lwp_set_errno(int e);

#endif /* CORO_CURRENT_H */
