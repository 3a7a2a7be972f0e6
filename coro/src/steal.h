// SPDX-License-Identifier: GPL-2.0
/* Work stealing between the vprocs of one scheduler (steal.c). */
#ifndef CORO_STEAL_H
#define CORO_STEAL_H

#include "internal.h"

HIDDEN struct coro *steal(struct lwp *l);

#endif /* CORO_STEAL_H */
