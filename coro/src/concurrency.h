// SPDX-License-Identifier: GPL-2.0
/*
 * coro_sched_set_concurrency() (concurrency.c): the number of active
 * vprocs, changed while the scheduler runs.  An lwp whose vproc is asked
 * to retire or to leave solo does it at its next scheduling point, in its
 * own context (lwp_loop(), retire.c).
 */
#ifndef CORO_CONCURRENCY_H
#define CORO_CONCURRENCY_H

#include "internal.h"

/* vps[] has room for at least this many vprocs (coro_sched_create()). */
#define CORO_CONC_ROOM 256

HIDDEN void conc_run_begin(struct coro_sched *s);
HIDDEN void conc_run_end(struct coro_sched *s);
HIDDEN unsigned int conc_auto(void);

#endif /* CORO_CONCURRENCY_H */
