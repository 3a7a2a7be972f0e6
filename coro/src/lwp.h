// SPDX-License-Identifier: GPL-2.0
/* OS threads that carry the vprocs (lwp.c; Argobots' execution streams). */
#ifndef CORO_LWP_H
#define CORO_LWP_H

#include "internal.h"

HIDDEN struct lwp *lwp_new(struct coro_sched *s);
HIDDEN void lwp_free(struct lwp *l);
HIDDEN void lwp_spare_fds_close(struct lwp *l);
HIDDEN struct lwp *lwp_spawn(struct coro_sched *s, struct vproc *vp);
HIDDEN void lwp_enter(struct lwp *l);
HIDDEN void lwp_leave(struct lwp *l);
HIDDEN void lwp_loop(struct lwp *l);
HIDDEN void lwp_bind(int cpu);
HIDDEN void lwp_reap(struct coro_sched *s);
HIDDEN void lwp_no_thread(struct coro_sched *s, int err);
HIDDEN void lwp_fold(struct coro_sched *s, struct lwp *l);

#endif /* CORO_LWP_H */
