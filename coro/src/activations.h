// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler activations (activations.c): CORO_ACTIVATIONS, and the
 * listener on /dev/kthread_perf or the monitor (monitor.c), started and
 * stopped with each coro_sched_run().
 */
#ifndef CORO_ACTIVATIONS_H
#define CORO_ACTIVATIONS_H

#include "act_word.h"

HIDDEN int act_init(struct coro_sched *s, const char *choice);
HIDDEN int act_start(struct coro_sched *s, struct lwp *main_lwp);
HIDDEN void act_stop(struct coro_sched *s, struct lwp *main_lwp);
HIDDEN void act_destroy(struct coro_sched *s);

#endif /* CORO_ACTIVATIONS_H */
