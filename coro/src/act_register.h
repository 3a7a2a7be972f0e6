// SPDX-License-Identifier: GPL-2.0
/* An lwp on /dev/kthread_perf, and the cookies naming it (act_register.c). */
#ifndef CORO_ACT_REGISTER_H
#define CORO_ACT_REGISTER_H

#include "act_word.h"

#define ACT_NO_SLOT	UINT32_MAX

HIDDEN int act_register(struct coro_sched *s, struct lwp *l);
HIDDEN void act_unregister(struct coro_sched *s, struct lwp *l);
HIDDEN void act_lwp_begin(struct lwp *l);
HIDDEN void act_lwp_end(struct lwp *l);

/* The slots (under s->lwp_mtx), for the listener and the tests. */
HIDDEN int act_slot_get(struct coro_sched *s, struct lwp *l, uint64_t *cookie);
HIDDEN void act_slot_put(struct coro_sched *s, uint32_t idx);
HIDDEN struct act_slot *act_cookie_slot(struct coro_sched *s, uint64_t cookie);
HIDDEN void act_slots_free(struct coro_sched *s);

#endif /* CORO_ACT_REGISTER_H */
