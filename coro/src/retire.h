// SPDX-License-Identifier: GPL-2.0
/*
 * An lwp's side of coro_sched_set_concurrency() (retire.c): at its next
 * scheduling point its vproc leaves solo or retires.
 */
#ifndef CORO_RETIRE_H
#define CORO_RETIRE_H

#include "internal.h"

HIDDEN void lwp_conc_point(struct lwp *l);
HIDDEN void vp_leave_solo(struct vproc *vp);

#endif /* CORO_RETIRE_H */
