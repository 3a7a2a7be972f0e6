// SPDX-License-Identifier: GPL-2.0
/* A vproc handed to a spare lwp around a blocking call (handoff.c). */
#ifndef CORO_HANDOFF_H
#define CORO_HANDOFF_H

#include "internal.h"

HIDDEN struct lwp *lwp_hand_off(struct lwp *l);
HIDDEN bool vp_hand_to_spare(struct coro_sched *s, struct vproc *vp);
HIDDEN void vp_orphan(struct coro_sched *s, struct vproc *vp);

#endif /* CORO_HANDOFF_H */
