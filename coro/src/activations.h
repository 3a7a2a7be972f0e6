// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler activations (activations.c): CORO_ACTIVATIONS, and the
 * watcher on /dev/kthread_perf or the monitor (monitor.c), started and
 * stopped with each coro_sched_run().
 */
#ifndef CORO_ACTIVATIONS_H
#define CORO_ACTIVATIONS_H

#include "act_word.h"

HIDDEN int act_init(struct coro_sched *s, const char *choice);
HIDDEN int act_start(struct coro_sched *s, struct lwp *main_lwp);
HIDDEN void act_stop(struct coro_sched *s, struct lwp *main_lwp);
HIDDEN void act_close(struct coro_sched *s);
HIDDEN void act_destroy(struct coro_sched *s);
HIDDEN void act_listen_once(struct coro_sched *s);
HIDDEN void act_refresh(struct coro_sched *s);
/* For tests: the listener calls it when its claim on the lwp of thread
 * tid has won (after 0), and when it has decided (after 1). */
HIDDEN extern void (*act_test_claim_hook)(struct coro_sched *s, pid_t tid,
					  int after);

#endif /* CORO_ACTIVATIONS_H */
