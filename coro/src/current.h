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
HIDDEN void lwp_set_current(struct lwp *l);
HIDDEN void lwp_set_errno(int e);

#endif /* CORO_CURRENT_H */
