// SPDX-License-Identifier: GPL-2.0
/* An lwp on /dev/kthread_perf (act_register.c). */
#ifndef CORO_ACT_REGISTER_H
#define CORO_ACT_REGISTER_H

#include "act_word.h"

HIDDEN int act_register(struct coro_sched *s, struct lwp *l);
HIDDEN void act_unregister(struct coro_sched *s, struct lwp *l);
HIDDEN void act_lwp_begin(struct lwp *l);

#endif /* CORO_ACT_REGISTER_H */
