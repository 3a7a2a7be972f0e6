// SPDX-License-Identifier: GPL-2.0
/* Taking a blocked lwp's vproc for a spare (act_take.c). */
#ifndef CORO_ACT_TAKE_H
#define CORO_ACT_TAKE_H

#include "act_word.h"

HIDDEN bool act_claim(struct lwp *l, uint64_t word);
HIDDEN bool act_unclaim(struct lwp *l, uint64_t word);
HIDDEN bool act_give(struct coro_sched *s, struct lwp *l, uint64_t word);

#endif /* CORO_ACT_TAKE_H */
